# daemon/store/: durable state (the spool, the open-batch journal, the batch
# sequence and their little-endian codec).  It never logs: every failure is
# returned to daemon/outbox.c, which decides and logs.  Included from the top
# Makefile.am; its tests are in tests/local.mk, its benchmark in bench/local.mk.
libfb_a_SOURCES += daemon/store/spool.c daemon/store/spool.h \
	daemon/store/journal.c daemon/store/journal.h \
	daemon/store/seqno.c daemon/store/seqno.h \
	daemon/store/sessions.c daemon/store/sessions.h \
	daemon/store/cmdq.c daemon/store/cmdq.h \
	daemon/store/le.h
EXTRA_DIST += docs/spool-format.md
