# Shared test pieces; each folder's local.mk adds its own unit tests and fuzz
# targets (tests/test_<module>.c, tests/fuzz/fuzz_<parser>.c).
EXTRA_DIST += tests/fuzz/standalone.c

# fieldbridge-sim against a small gateway built from the codecs, on its pty.
check_PROGRAMS += tests/test_sim
TESTS += tests/test_sim
tests_test_sim_SOURCES = tests/test_sim.c
tests_test_sim_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSIM_PATH='"$(abs_top_builddir)/tools/fieldbridge-sim"'
tests_test_sim_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sim_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# End to end: the real daemon between fieldbridge-sim and a real mosquitto
# with certificates made at test time (Python 3, standard library only).
TESTS += tests/e2e/test_e2e tests/e2e/test_check
dist_noinst_SCRIPTS += tests/e2e/test_e2e tests/e2e/test_check tests/e2e/demo \
	tests/fuzz/run
EXTRA_DIST += tests/e2e/fbe2e.py tests/fuzz/lsan.supp

# The durable spool end to end (issue 3): kill -9 under load, a broker
# outage with a rate-limited drain, a full file system, and the watchdog
# starved while spool writes fail.  tests/e2e/fbspool.py holds what they
# share.
TESTS += tests/e2e/test_crash tests/e2e/test_outage tests/e2e/test_diskfull \
	tests/e2e/test_watchdog
dist_noinst_SCRIPTS += tests/e2e/test_crash tests/e2e/test_outage \
	tests/e2e/test_diskfull tests/e2e/test_watchdog
EXTRA_DIST += tests/e2e/fbspool.py

# A broker name with several addresses (issue 15): refused, blackholed and
# working ones in both orders, DNS gone silent; and the daemon under Debian's
# stock /etc/hosts (in test_resilience).
TESTS += tests/e2e/test_addresses
dist_noinst_SCRIPTS += tests/e2e/test_addresses
