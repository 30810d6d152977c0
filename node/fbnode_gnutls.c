/*
 * fbnode_gnutls.c - the crypto back-end of libfbnode on GnuTLS (Linux):
 * HMAC-SHA-256 with gnutls_hmac_fast (under K, or a key the library
 * derived), HKDF with gnutls_hkdf_extract and
 * _expand, AES-128-CCM-8 with GNUTLS_CIPHER_AES_128_CCM_8 and randomness
 * with gnutls_rnd, the calls docs/library-notes.md ("GnuTLS") vouches for.
 *
 * One AES-CCM handle is kept per node and re-keyed only when the key
 * changes (a node alternates between its up and down keys only when it
 * hears a downlink), which spares the simulator a key schedule and an
 * allocation per frame.
 */
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "node/fbnode_gnutls.h"

void
fbnode_gnutls_init(struct fbnode_gnutls *g, const uint8_t k[FBNODE_SECRET_LEN])
{
	memset(g, 0, sizeof(*g));
	memcpy(g->k, k, FBNODE_SECRET_LEN);
}

void
fbnode_gnutls_done(struct fbnode_gnutls *g)
{
	if (g == NULL)
		return;
	/* GnuTLS wipes the expanded key schedule in deinit. */
	if (g->hd != NULL)
		gnutls_aead_cipher_deinit(g->hd);
	gnutls_memset(g, 0, sizeof(*g));
}

static int
fbnode_gnutls_mac_key(void *arg, const uint8_t *key, size_t key_len,
    const uint8_t *msg, size_t len, uint8_t out[FBNODE_HMAC_LEN])
{
	(void)arg;
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, key_len, msg, len,
	    out) == 0 ? 0 : -1;
}

static int
fbnode_gnutls_mac(void *arg, const uint8_t *msg, size_t len,
    uint8_t out[FBNODE_HMAC_LEN])
{
	struct fbnode_gnutls *g = arg;

	return fbnode_gnutls_mac_key(arg, g->k, FBNODE_SECRET_LEN, msg, len,
	    out);
}

static int
fbnode_gnutls_derive(void *arg, const uint8_t *salt, size_t salt_len,
    const uint8_t *info, size_t info_len, uint8_t *okm, size_t okm_len)
{
	struct fbnode_gnutls *g = arg;
	uint8_t prk[FBNODE_HMAC_LEN];
	gnutls_datum_t dk, ds, di;
	int r = -1;

	dk.data = g->k;
	dk.size = FBNODE_SECRET_LEN;
	ds.data = (unsigned char *)salt;
	ds.size = (unsigned int)salt_len;
	di.data = (unsigned char *)info;
	di.size = (unsigned int)info_len;
	if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &dk, &ds, prk) != 0)
		goto out;
	dk.data = prk;
	dk.size = sizeof(prk);
	if (gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &dk, &di, okm, okm_len) != 0)
		goto out;
	r = 0;
out:
	gnutls_memset(prk, 0, sizeof(prk));
	return r;
}

/* The handle keyed with key, made or re-keyed as needed. */
static gnutls_aead_cipher_hd_t
fbnode_gnutls_aead(struct fbnode_gnutls *g, const uint8_t key[FBNODE_KEY_LEN])
{
	gnutls_aead_cipher_hd_t hd;
	gnutls_datum_t dk;

	dk.data = (unsigned char *)key;
	dk.size = FBNODE_KEY_LEN;
	if (g->hd != NULL) {
		if (gnutls_memcmp(g->hdkey, key, FBNODE_KEY_LEN) == 0)
			return g->hd;
		if (gnutls_aead_cipher_set_key(g->hd, &dk) != 0)
			return NULL;
	} else {
		if (gnutls_aead_cipher_init(&hd, GNUTLS_CIPHER_AES_128_CCM_8,
		    &dk) != 0)
			return NULL;
		g->hd = hd;
	}
	memcpy(g->hdkey, key, FBNODE_KEY_LEN);
	return g->hd;
}

static int
fbnode_gnutls_seal(void *arg, const uint8_t key[FBNODE_KEY_LEN],
    const uint8_t nonce[FBNODE_CCM_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	gnutls_aead_cipher_hd_t hd;
	size_t olen = len + FBNODE_CCM_TAG_LEN;

	if ((hd = fbnode_gnutls_aead(arg, key)) == NULL)
		return -1;
	return gnutls_aead_cipher_encrypt(hd, nonce, FBNODE_CCM_NONCE_LEN,
	    aad, aad_len, FBNODE_CCM_TAG_LEN, in, len, out, &olen) == 0 &&
	    olen == len + FBNODE_CCM_TAG_LEN ? 0 : -1;
}

static int
fbnode_gnutls_open(void *arg, const uint8_t key[FBNODE_KEY_LEN],
    const uint8_t nonce[FBNODE_CCM_NONCE_LEN], const uint8_t *aad,
    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	gnutls_aead_cipher_hd_t hd;
	size_t olen = len - FBNODE_CCM_TAG_LEN;

	if (len < FBNODE_CCM_TAG_LEN ||
	    (hd = fbnode_gnutls_aead(arg, key)) == NULL)
		return -1;
	return gnutls_aead_cipher_decrypt(hd, nonce, FBNODE_CCM_NONCE_LEN,
	    aad, aad_len, FBNODE_CCM_TAG_LEN, in, len, out, &olen) == 0 ? 0 :
	    FBNODE_CRYPTO_BAD_TAG;
}

static int
fbnode_gnutls_random(void *arg, uint8_t *out, size_t len)
{
	return gnutls_rnd(GNUTLS_RND_NONCE, out, len) == 0 ? 0 : -1;
}

const struct fbnode_crypto_ops fbnode_gnutls_ops = {
	fbnode_gnutls_mac,
	fbnode_gnutls_derive,
	fbnode_gnutls_seal,
	fbnode_gnutls_open,
	fbnode_gnutls_random,
	fbnode_gnutls_mac_key,
};
