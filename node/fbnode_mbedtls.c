/*
 * fbnode_mbedtls.c - the crypto back-end of libfbnode on Mbed TLS 2.28:
 * HMAC-SHA-256 (mbedtls_md_hmac), HKDF-SHA-256 (mbedtls_hkdf) and
 * AES-128-CCM with an 8-byte tag (mbedtls_ccm_*), nothing written here
 * but the glue.  The same file builds on Linux against Debian's
 * libmbedtls-dev (make check runs the spec's vectors through it) and for
 * Cortex-M from Debian's Mbed TLS source (bench/node_cross).
 */
#include <string.h>

#include <mbedtls/ccm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "node/fbnode_mbedtls.h"

void
fbnode_mbedtls_init(struct fbnode_mbedtls *m,
    const uint8_t k[FBNODE_SECRET_LEN],
    int (*rng)(void *rng_arg, uint8_t *out, size_t len), void *rng_arg)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->k, k, FBNODE_SECRET_LEN);
	m->rng = rng;
	m->rng_arg = rng_arg;
}

void
fbnode_mbedtls_done(struct fbnode_mbedtls *m)
{
	if (m != NULL)
		mbedtls_platform_zeroize(m, sizeof(*m));
}

static int
fbnode_mbedtls_mac_key(void *arg, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t len, uint8_t out[FBNODE_HMAC_LEN])
{
	const mbedtls_md_info_t *md;

	(void)arg;
	if ((md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)) == NULL)
		return -1;
	return mbedtls_md_hmac(md, key, key_len, msg, len, out) == 0 ? 0 : -1;
}

static int
fbnode_mbedtls_mac(void *arg, const uint8_t *msg, size_t len,
    uint8_t out[FBNODE_HMAC_LEN])
{
	struct fbnode_mbedtls *m = arg;

	return fbnode_mbedtls_mac_key(arg, m->k, FBNODE_SECRET_LEN, msg, len,
	    out);
}

static int
fbnode_mbedtls_derive(void *arg, const uint8_t *salt, size_t salt_len,
    const uint8_t *info, size_t info_len, uint8_t *okm, size_t okm_len)
{
	struct fbnode_mbedtls *m = arg;
	const mbedtls_md_info_t *md;

	if ((md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256)) == NULL)
		return -1;
	return mbedtls_hkdf(md, salt, salt_len, m->k, FBNODE_SECRET_LEN,
	    info, info_len, okm, okm_len) == 0 ? 0 : -1;
}

/* One CCM operation with a context that lives for this call only. */
static int
fbnode_mbedtls_ccm(int enc, const uint8_t key[FBNODE_KEY_LEN],
    const uint8_t nonce[FBNODE_CCM_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	mbedtls_ccm_context ccm;
	int r;

	mbedtls_ccm_init(&ccm);
	r = mbedtls_ccm_setkey(&ccm, MBEDTLS_CIPHER_ID_AES, key,
	    8 * FBNODE_KEY_LEN);
	if (r == 0 && enc)
		r = mbedtls_ccm_encrypt_and_tag(&ccm, len, nonce,
		    FBNODE_CCM_NONCE_LEN, aad, aad_len, in, out, out + len,
		    FBNODE_CCM_TAG_LEN);
	else if (r == 0)
		r = mbedtls_ccm_auth_decrypt(&ccm, len - FBNODE_CCM_TAG_LEN,
		    nonce, FBNODE_CCM_NONCE_LEN, aad, aad_len, in, out,
		    in + len - FBNODE_CCM_TAG_LEN, FBNODE_CCM_TAG_LEN);
	/* mbedtls_ccm_free wipes the key schedule. */
	mbedtls_ccm_free(&ccm);
	if (r == MBEDTLS_ERR_CCM_AUTH_FAILED)
		return FBNODE_CRYPTO_BAD_TAG;
	return r == 0 ? 0 : -1;
}

static int
fbnode_mbedtls_seal(void *arg, const uint8_t key[FBNODE_KEY_LEN],
    const uint8_t nonce[FBNODE_CCM_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	return fbnode_mbedtls_ccm(1, key, nonce, aad, aad_len, in, len, out);
}

static int
fbnode_mbedtls_open(void *arg, const uint8_t key[FBNODE_KEY_LEN],
    const uint8_t nonce[FBNODE_CCM_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	if (len < FBNODE_CCM_TAG_LEN)
		return -1;
	return fbnode_mbedtls_ccm(0, key, nonce, aad, aad_len, in, len, out);
}

static int
fbnode_mbedtls_random(void *arg, uint8_t *out, size_t len)
{
	struct fbnode_mbedtls *m = arg;

	return m->rng != NULL ? m->rng(m->rng_arg, out, len) : -1;
}

const struct fbnode_crypto_ops fbnode_mbedtls_ops = {
	fbnode_mbedtls_mac,
	fbnode_mbedtls_derive,
	fbnode_mbedtls_seal,
	fbnode_mbedtls_open,
	fbnode_mbedtls_random,
	fbnode_mbedtls_mac_key,
};
