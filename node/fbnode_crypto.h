/*
 * fbnode_crypto.h - the cryptography libfbnode needs, as a table of six
 * functions a back-end fills in: the node's platform library, or its
 * secure element, in which case the node secret K never leaves the chip
 * (every operation that needs K is one call here; the library never sees
 * K).  Two back-ends ship: fbnode_gnutls.c (Linux; the simulator and the
 * tests) and fbnode_mbedtls.c (microcontrollers).
 *
 * Every function returns 0 on success and a negative value on failure
 * (the library reports any failure as FBNODE_ERR_CRYPTO), except open,
 * which returns FBNODE_CRYPTO_BAD_TAG for a frame that does not
 * authenticate.  arg is the pointer given to fbnode_init.
 */
#ifndef FBNODE_CRYPTO_H
#define FBNODE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define FBNODE_SECRET_LEN	32	/* K, 256 bits */
#define FBNODE_HMAC_LEN		32	/* HMAC-SHA-256 output */
#define FBNODE_KEY_LEN		16	/* AES-128 session key */
#define FBNODE_CCM_NONCE_LEN	13
#define FBNODE_CCM_TAG_LEN	8
#define FBNODE_CRYPTO_BAD_TAG	(-2)

struct fbnode_crypto_ops {
	/* out = HMAC-SHA-256(K, msg) (RFC 2104). */
	int	(*mac)(void *arg, const uint8_t *msg, size_t len,
		    uint8_t out[FBNODE_HMAC_LEN]);
	/* okm = HKDF-SHA-256 (RFC 5869) with IKM = K: Expand(Extract(salt,
	 * K), info, okm_len); okm_len <= 64. */
	int	(*derive)(void *arg, const uint8_t *salt, size_t salt_len,
		    const uint8_t *info, size_t info_len, uint8_t *okm,
		    size_t okm_len);
	/* AES-128-CCM with an 8-byte tag (NIST SP 800-38C): out = the
	 * ciphertext of in (len bytes) then the tag.  out != in. */
	int	(*seal)(void *arg, const uint8_t key[FBNODE_KEY_LEN],
		    const uint8_t nonce[FBNODE_CCM_NONCE_LEN],
		    const uint8_t *aad, size_t aad_len, const uint8_t *in,
		    size_t len, uint8_t *out);
	/* The reverse: in is ciphertext then tag (len bytes, len >= 8), out
	 * receives len - 8 bytes of plaintext only when the tag is right.
	 * out != in. */
	int	(*open)(void *arg, const uint8_t key[FBNODE_KEY_LEN],
		    const uint8_t nonce[FBNODE_CCM_NONCE_LEN],
		    const uint8_t *aad, size_t aad_len, const uint8_t *in,
		    size_t len, uint8_t *out);
	/* len bytes that nobody can predict: the node's nonce Nn. */
	int	(*random)(void *arg, uint8_t *out, size_t len);
	/* out = HMAC-SHA-256(key, msg) under a key the library derived
	 * with derive (the version 2 HELLO's key Kh); key_len <= 64.
	 * Needed only for version 2 HELLOs (fbnode_config.hello_v1 0). */
	int	(*mac_key)(void *arg, const uint8_t *key, size_t key_len,
		    const uint8_t *msg, size_t len,
		    uint8_t out[FBNODE_HMAC_LEN]);
};

#endif
