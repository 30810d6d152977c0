# Shared test pieces; each folder's local.mk adds its own unit tests and fuzz
# targets (tests/test_<module>.c, tests/fuzz/fuzz_<parser>.c).
EXTRA_DIST += tests/fuzz/standalone.c
