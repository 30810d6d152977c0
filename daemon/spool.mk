# daemon/spool.* : the durable on-disk spool (issue 3), its tests, fuzz
# target and benchmark.
libfb_a_SOURCES += daemon/spool.c daemon/spool.h

check_PROGRAMS += tests/test_spool
TESTS += tests/test_spool
tests_test_spool_SOURCES = tests/test_spool.c tests/testutil.c \
	tests/testutil.h
tests_test_spool_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_spool_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_spool
TESTS += tests/fuzz/fuzz_spool
tests_fuzz_fuzz_spool_SOURCES = tests/fuzz/fuzz_spool.c tests/fuzz/standalone.c \
	tests/testutil.c tests/testutil.h
tests_fuzz_fuzz_spool_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/spool"'
tests_fuzz_fuzz_spool_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_spool_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/spool docs/spool-format.md

noinst_PROGRAMS += bench/spool_bench
bench_spool_bench_SOURCES = bench/spool_bench.c tests/testutil.c \
	tests/testutil.h
bench_spool_bench_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
bench_spool_bench_LDADD = $(FB_LIBS)

# daemon/journal.* : the open-batch journal that keeps the durability
# window below the batch age (issue 3), its unit test and fuzz target.
libfb_a_SOURCES += daemon/journal.c daemon/journal.h

# daemon/outbox.* : journal + spool + uplink feeding, what loop.c calls.
libfb_a_SOURCES += daemon/outbox.c daemon/outbox.h

check_PROGRAMS += tests/test_journal
TESTS += tests/test_journal
tests_test_journal_SOURCES = tests/test_journal.c tests/testutil.c \
	tests/testutil.h
tests_test_journal_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_journal_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_journal
TESTS += tests/fuzz/fuzz_journal
tests_fuzz_fuzz_journal_SOURCES = tests/fuzz/fuzz_journal.c tests/fuzz/standalone.c \
	tests/testutil.c tests/testutil.h
tests_fuzz_fuzz_journal_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/journal"'
tests_fuzz_fuzz_journal_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_journal_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/journal
