# policy/ files; included from the top Makefile.am.
# (radio/link.c is listed here because the link codec and the identity
# state machine are built and tested together.)
libfb_a_SOURCES += radio/link.c radio/link.h

check_PROGRAMS += tests/test_link
TESTS += tests/test_link
tests_test_link_SOURCES = tests/test_link.c tests/testutil.c \
	tests/testutil.h
tests_test_link_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_link_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

libfb_a_SOURCES += policy/registry.c policy/registry.h \
	policy/regedit.c policy/regedit.h

check_PROGRAMS += tests/test_registry
TESTS += tests/test_registry
tests_test_registry_SOURCES = tests/test_registry.c
tests_test_registry_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_registry_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

libfb_a_SOURCES += policy/ident.c policy/ident.h policy/rate.c policy/rate.h

check_PROGRAMS += tests/test_ident
TESTS += tests/test_ident
tests_test_ident_SOURCES = tests/test_ident.c
tests_test_ident_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_ident_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_link
TESTS += tests/fuzz/fuzz_link
tests_fuzz_fuzz_link_SOURCES = tests/fuzz/fuzz_link.c tests/fuzz/standalone.c
tests_fuzz_fuzz_link_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/link"'
tests_fuzz_fuzz_link_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_link_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/link

check_PROGRAMS += tests/fuzz/fuzz_registry
TESTS += tests/fuzz/fuzz_registry
tests_fuzz_fuzz_registry_SOURCES = tests/fuzz/fuzz_registry.c tests/fuzz/standalone.c
tests_fuzz_fuzz_registry_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/registry"'
tests_fuzz_fuzz_registry_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_registry_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/registry

# The registry files edited as text (`fieldbridge device`).
check_PROGRAMS += tests/test_regedit
TESTS += tests/test_regedit
tests_test_regedit_SOURCES = tests/test_regedit.c
tests_test_regedit_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_regedit_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_regedit
TESTS += tests/fuzz/fuzz_regedit
tests_fuzz_fuzz_regedit_SOURCES = tests/fuzz/fuzz_regedit.c tests/fuzz/standalone.c
tests_fuzz_fuzz_regedit_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/regedit"'
tests_fuzz_fuzz_regedit_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_regedit_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/regedit
