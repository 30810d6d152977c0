/*
 * fbnode_gnutls.h - libfbnode's crypto back-end on GnuTLS, for Linux
 * nodes: fieldbridge-sim runs every simulated node on it, and the tests
 * run the spec's vectors through it.  The secret lives in the struct, so
 * keep the struct as private as the secret; fbnode_gnutls_done wipes it.
 */
#ifndef FBNODE_GNUTLS_H
#define FBNODE_GNUTLS_H

#include "node/fbnode_crypto.h"

struct fbnode_gnutls {
	uint8_t	 k[FBNODE_SECRET_LEN];
	void	*hd;		/* a cached AES-CCM handle, or NULL */
	uint8_t	 hdkey[FBNODE_KEY_LEN];	/* the key it holds */
};

extern const struct fbnode_crypto_ops fbnode_gnutls_ops;

void	fbnode_gnutls_init(struct fbnode_gnutls *g,
	    const uint8_t k[FBNODE_SECRET_LEN]);
/* Wipe the secret and free the handle; NULL is fine. */
void	fbnode_gnutls_done(struct fbnode_gnutls *g);

#endif
