# radio/ files; included from the top Makefile.am.
# radio/link.c (the node link codec) is added from policy/local.mk.
libfb_a_SOURCES += radio/radio.h radio/radio.c \
	radio/sframe.h radio/sframe.c \
	radio/serial.h radio/serial.c \
	radio/port.h radio/port.c \
	radio/drivers.c radio/drv_fbsp.c \
	radio/tline.h radio/tline.c radio/drv_rn2483.c radio/drv_rak3172.c

check_PROGRAMS += tests/test_sframe
TESTS += tests/test_sframe
tests_test_sframe_SOURCES = tests/test_sframe.c
tests_test_sframe_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_sframe_LDADD = $(FB_LIBS) $(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_sframe
TESTS += tests/fuzz/fuzz_sframe
tests_fuzz_fuzz_sframe_SOURCES = tests/fuzz/fuzz_sframe.c tests/fuzz/standalone.c
tests_fuzz_fuzz_sframe_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/sframe"'
tests_fuzz_fuzz_sframe_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_sframe_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/sframe

check_PROGRAMS += tests/test_port
TESTS += tests/test_port
tests_test_port_SOURCES = tests/test_port.c
tests_test_port_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_port_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)

# The text-module drivers on real ptys (tests/ptymod.c plays the module).
check_PROGRAMS += tests/test_drv_rn2483 tests/test_drv_rak3172
TESTS += tests/test_drv_rn2483 tests/test_drv_rak3172
tests_test_drv_rn2483_SOURCES = tests/test_drv_rn2483.c tests/ptymod.c \
	tests/ptymod.h
tests_test_drv_rn2483_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_drv_rn2483_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)
tests_test_drv_rak3172_SOURCES = tests/test_drv_rak3172.c tests/ptymod.c \
	tests/ptymod.h
tests_test_drv_rak3172_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_drv_rak3172_LDADD = $(FB_LIBS) -lutil $(CMOCKA_LIBS)

# One fuzz target per driver's line parser.
check_PROGRAMS += tests/fuzz/fuzz_rn2483 tests/fuzz/fuzz_rak3172
TESTS += tests/fuzz/fuzz_rn2483 tests/fuzz/fuzz_rak3172
tests_fuzz_fuzz_rn2483_SOURCES = tests/fuzz/fuzz_rn2483.c \
	tests/fuzz/standalone.c
tests_fuzz_fuzz_rn2483_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/rn2483"'
tests_fuzz_fuzz_rn2483_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_rn2483_LDADD = $(FB_LIBS)
tests_fuzz_fuzz_rak3172_SOURCES = tests/fuzz/fuzz_rak3172.c \
	tests/fuzz/standalone.c
tests_fuzz_fuzz_rak3172_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/rak3172"'
tests_fuzz_fuzz_rak3172_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_rak3172_LDADD = $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/rn2483 tests/fuzz/corpus/rak3172 \
	tests/fuzz/textdrv_body.c
