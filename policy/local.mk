# policy/ files; included from the top Makefile.am.
libfb_a_SOURCES += policy/registry.c policy/registry.h \
	policy/regedit.c policy/regedit.h

libfb_a_SOURCES += policy/ident.c policy/ident.h policy/rate.c policy/rate.h

# Rules per device and class (least privilege), read by registry.c.
libfb_a_SOURCES += policy/rules.c policy/rules.h
# Which commands from the cloud may go to a device.
libfb_a_SOURCES += policy/cmdauth.c policy/cmdauth.h

# The downlink airtime budget's decisions (time on air is radio/airtime.c).
libfb_a_SOURCES += policy/budget.c policy/budget.h
