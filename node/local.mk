# node/ files; included from the top Makefile.am.
#
# libfbnode: the node's half of the link protocol, for sensor firmware.  It
# includes nothing outside node/ (tests/test_layering.sh), so firmware
# builds node/fbnode.c and one back-end alone.  Here it is built with the
# GnuTLS back-end, which fieldbridge-sim runs every node on; the Mbed TLS
# back-end is built for test_node (host libmbedcrypto) and cross-compiled
# for Cortex-M by bench/node_cross.
noinst_LIBRARIES += node/libfbnode.a
node_libfbnode_a_SOURCES = node/fbnode.c node/fbnode.h node/fbnode_crypto.h \
	node/fbnode_gnutls.c node/fbnode_gnutls.h
node_libfbnode_a_CFLAGS = $(AM_CFLAGS) $(GNUTLS_CFLAGS)
EXTRA_DIST += node/fbnode_mbedtls.c node/fbnode_mbedtls.h

# The state machine against the real gateway (policy/ident.c), the spec's
# vectors through both back-ends.
check_PROGRAMS += tests/test_node
TESTS += tests/test_node
tests_test_node_SOURCES = tests/test_node.c node/fbnode_mbedtls.c \
	tests/testutil.c tests/testutil.h
tests_test_node_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS) $(CMOCKA_CFLAGS)
tests_test_node_LDADD = node/libfbnode.a $(FB_LIBS) $(MBEDTLS_LIBS) \
	$(CMOCKA_LIBS)

check_PROGRAMS += tests/fuzz/fuzz_node
TESTS += tests/fuzz/fuzz_node
tests_fuzz_fuzz_node_SOURCES = tests/fuzz/fuzz_node.c tests/fuzz/standalone.c
tests_fuzz_fuzz_node_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CORPUS='"$(srcdir)/tests/fuzz/corpus/node"'
tests_fuzz_fuzz_node_CFLAGS = $(AM_CFLAGS) $(FB_CFLAGS)
tests_fuzz_fuzz_node_LDADD = node/libfbnode.a $(FB_LIBS)
EXTRA_DIST += tests/fuzz/corpus/node

# Freestanding: the library compiles for a Cortex-M0+ with -Werror and
# calls nothing but the listed libc functions (skipped without
# gcc-arm-none-eabi, which tools/dev installs).
TESTS += tests/test_node_freestanding.sh
dist_noinst_SCRIPTS += tests/test_node_freestanding.sh
