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
