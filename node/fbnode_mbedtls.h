/*
 * fbnode_mbedtls.h - libfbnode's crypto back-end on Mbed TLS (2.28), for
 * microcontrollers.  The firmware gives the secret and its platform's
 * random source (a TRNG peripheral, or a DRBG seeded from one): Mbed TLS
 * has no portable entropy of its own.  A node with a secure element
 * writes its own back-end instead, so that K stays inside the chip.
 *
 * Mbed TLS's cipher and md layers allocate their contexts for the
 * duration of one call (mbedtls_calloc, a few hundred bytes): on a
 * microcontroller without malloc, build Mbed TLS with
 * MBEDTLS_MEMORY_BUFFER_ALLOC_C and hand it a static arena
 * (docs/node-guide.md, "Mbed TLS").
 */
#ifndef FBNODE_MBEDTLS_H
#define FBNODE_MBEDTLS_H

#include "node/fbnode_crypto.h"

struct fbnode_mbedtls {
	uint8_t	 k[FBNODE_SECRET_LEN];
	int	(*rng)(void *rng_arg, uint8_t *out, size_t len);
	void	*rng_arg;
};

extern const struct fbnode_crypto_ops fbnode_mbedtls_ops;

void	fbnode_mbedtls_init(struct fbnode_mbedtls *m,
	    const uint8_t k[FBNODE_SECRET_LEN],
	    int (*rng)(void *rng_arg, uint8_t *out, size_t len), void *rng_arg);
/* Wipe the secret. */
void	fbnode_mbedtls_done(struct fbnode_mbedtls *m);

#endif
