# daemon/sandbox/: confinement (chroot, privilege drop, seccomp tables) and
# privsep (the privileged parent, the child's calls, their message codec).
# It knows nothing of radio/, policy/, store/, the log, the configuration or
# the loop: it reports through callbacks (tests/test_layering.sh).
# Included from the top Makefile.am; its tests are in tests/local.mk.
libfb_a_SOURCES += daemon/sandbox/sandbox.c daemon/sandbox/sandbox.h \
	daemon/sandbox/sandbox_scmp.c \
	daemon/sandbox/privsep.h daemon/sandbox/privsep_int.h \
	daemon/sandbox/privsep_msg.c daemon/sandbox/privsep_child.c \
	daemon/sandbox/privsep_parent.c
