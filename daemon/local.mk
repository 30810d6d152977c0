# daemon/ files; included from the top Makefile.am.
# Everything but main.c is in libfb.a, so tools and tests link the same code.
sbin_PROGRAMS += daemon/fieldbridged
daemon_fieldbridged_SOURCES = daemon/main.c
daemon_fieldbridged_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
daemon_fieldbridged_LDADD = $(FB_LIBS)

libfb_a_SOURCES += daemon/log.c daemon/log.h \
	daemon/conf.c daemon/conf.h \
	daemon/batch.c daemon/batch.h \
	daemon/encoding.c daemon/encoding.h \
	daemon/topic.c daemon/topic.h \
	daemon/cloud.c daemon/cloud.h \
	daemon/decode_lpp.c daemon/decode_lpp.h \
	daemon/notify.c daemon/notify.h \
	daemon/uplink.c daemon/uplink.h \
	daemon/loop.c daemon/loop.h \
	daemon/check.c daemon/check.h \
	daemon/tlsctx.c daemon/tlsctx.h \
	daemon/tlscheck.c daemon/tlscheck.h \
	daemon/status.c daemon/status.h \
	daemon/devstats.c daemon/devstats.h \
	daemon/fsutil.c daemon/fsutil.h \
	daemon/wallclock.c daemon/wallclock.h \
	daemon/outbox.c daemon/outbox.h \
	daemon/session.c daemon/session.h \
	daemon/cmdmsg.c daemon/cmdmsg.h \
	daemon/commands.c daemon/commands.h

EXTRA_DIST += etc/fieldbridge.conf docs/uplink-format.md
EXTRA_DIST += docs/library-notes.md docs/lora-modules.md

# fieldbridged(8), which the unit's Documentation= names.
dist_man8_MANS = daemon/fieldbridged.8

# fieldbridged's wiring of sandbox + privsep around the loop (main.c,
# confine.c); OpenSSL is initialised before chroot.
daemon_fieldbridged_SOURCES += daemon/confine.c daemon/confine.h
daemon_fieldbridged_CFLAGS += $(OPENSSL_CFLAGS)
daemon_fieldbridged_LDADD += $(OPENSSL_LIBS)
EXTRA_DIST += docs/operations.md
