# radio/ files; included from the top Makefile.am.
libfb_a_SOURCES += radio/radio.h radio/radio.c \
	radio/sframe.h radio/sframe.c \
	radio/serial.h radio/serial.c \
	radio/port.h radio/port.c \
	radio/drivers.c radio/drv_fbsp.c \
	radio/tline.h radio/tline.c radio/drv_rn2483.c radio/drv_rak3172.c \
	radio/airtime.c radio/airtime.h \
	radio/serlock.c radio/serlock.h \
	radio/link.c radio/link.h
