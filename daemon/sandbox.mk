# daemon/sandbox.* and privsep: confinement
libfb_a_SOURCES += daemon/sandbox.c daemon/sandbox.h daemon/sandbox_scmp.c \
	daemon/privsep.c daemon/privsep.h \
	daemon/wallclock.c daemon/wallclock.h

check_PROGRAMS += tests/test_sandbox tests/test_privsep tests/test_wallclock
TESTS += tests/test_sandbox tests/test_privsep tests/test_wallclock
tests_test_sandbox_SOURCES = tests/test_sandbox.c
tests_test_sandbox_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sandbox_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)
tests_test_privsep_SOURCES = tests/test_privsep.c
tests_test_privsep_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_privsep_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)
tests_test_wallclock_SOURCES = tests/test_wallclock.c
tests_test_wallclock_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_wallclock_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# The parent's parser of the child's messages reads untrusted bytes.
check_PROGRAMS += tests/fuzz/fuzz_privsep
TESTS += tests/fuzz/fuzz_privsep
tests_fuzz_fuzz_privsep_SOURCES = tests/fuzz/fuzz_privsep.c tests/fuzz/standalone.c
tests_fuzz_fuzz_privsep_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/privsep"'
tests_fuzz_fuzz_privsep_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_privsep_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/privsep

# The unit file: systemd-analyze verify and security (skips without it).
TESTS += tests/test_unit.sh
dist_noinst_SCRIPTS += tests/test_unit.sh
EXTRA_DIST += systemd/fieldbridge.service

# fieldbridged's wiring of sandbox + privsep around the loop (main.c,
# confine.c); OpenSSL is initialised before chroot.
daemon_fieldbridged_SOURCES += daemon/confine.c daemon/confine.h
daemon_fieldbridged_CFLAGS += $(OPENSSL_CFLAGS)
daemon_fieldbridged_LDADD += $(OPENSSL_LIBS)

# End to end, on the real binary: confinement seen from /proc, the test
# hooks' escapes killed; broker, pty, certificate and registry changes
# survived while confined.  Both skip (77) when not run as root.
TESTS += tests/e2e/test_confine tests/e2e/test_resilience
dist_noinst_SCRIPTS += tests/e2e/test_confine tests/e2e/test_resilience
EXTRA_DIST += docs/operations.md
