# daemon/ files; included from the top Makefile.am.
# Everything but main.c is in libfb.a, so tools and tests link the same code.
sbin_PROGRAMS += daemon/fieldbridged
daemon_fieldbridged_SOURCES = daemon/main.c
daemon_fieldbridged_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
daemon_fieldbridged_LDADD = $(FB_LIBS)

libfb_a_SOURCES += daemon/log.c daemon/log.h \
	daemon/conf.c daemon/conf.h \
	daemon/seqno.c daemon/seqno.h \
	daemon/batch.c daemon/batch.h \
	daemon/notify.c daemon/notify.h \
	daemon/uplink.c daemon/uplink.h \
	daemon/loop.c daemon/loop.h \
	daemon/fsutil.c daemon/fsutil.h daemon/le.h

EXTRA_DIST += etc/fieldbridge.conf docs/uplink-format.md

check_PROGRAMS += tests/test_log
TESTS += tests/test_log
tests_test_log_SOURCES = tests/test_log.c
tests_test_log_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_log_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_conf
TESTS += tests/test_conf
tests_test_conf_SOURCES = tests/test_conf.c
tests_test_conf_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS) -DSRCDIR='"$(srcdir)"'
tests_test_conf_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_batch
TESTS += tests/test_batch
tests_test_batch_SOURCES = tests/test_batch.c
tests_test_batch_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_batch_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/test_uplink
TESTS += tests/test_uplink
tests_test_uplink_SOURCES = tests/test_uplink.c
tests_test_uplink_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_uplink_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_conf
TESTS += tests/fuzz/fuzz_conf
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c tests/fuzz/standalone.c
tests_fuzz_fuzz_conf_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/conf"'
tests_fuzz_fuzz_conf_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_conf_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/conf

check_PROGRAMS += tests/test_notify
TESTS += tests/test_notify
tests_test_notify_SOURCES = tests/test_notify.c
tests_test_notify_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_notify_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

# fieldbridged(8), which the unit's Documentation= names.
dist_man8_MANS = daemon/fieldbridged.8
