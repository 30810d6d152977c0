# policy/ files; included from the top Makefile.am.
# (radio/link.c is listed here because the link codec and the identity
# state machine are built and tested together.)
libfb_a_SOURCES += radio/link.c radio/link.h

check_PROGRAMS += tests/test_link
TESTS += tests/test_link
tests_test_link_SOURCES = tests/test_link.c
tests_test_link_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_link_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

libfb_a_SOURCES += policy/registry.c policy/registry.h

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
