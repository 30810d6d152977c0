/*
 * link.c - the node link protocol codec: frame layouts, the two proofs of
 * the three-pass handshake, session key derivation and the AES-CCM data
 * frames.  Pure code, no state: the gateway's state machine is in
 * policy/ident.c, the node's in node/fbnode.c (libfbnode).  The normative text,
 * with test vectors, is docs/link-protocol.md; in short:
 *
 *   byte 0 of every frame: version (high nibble) | type (low nibble);
 *   bit 3 of a DATA_UP's type nibble is LINK_FLAG_KEEPALIVE_REQ (0x1c)
 *
 *   HELLO      0x11 | eui(8) | Nn(16)                    25 bytes
 *   HELLO v2   0x21 | eui(8) | Nn(16) | jc(4) | mic(16)  45 bytes
 *   CHALLENGE  0x12 | eui(8) | Ng(16) | Tg(16)           41 bytes
 *   RESPONSE   0x13 | eui(8) | Tn(16)                    25 bytes
 *   DATA_UP    0x14 | sid(4) | fcnt(3) | ct(n) | mic(8)  16 + n bytes
 *              0x1c   the same, asking for a keepalive downlink
 *   DATA_DOWN  0x15 | sid(4) | fcnt(3) | ct(n) | mic(8)  16 + n bytes
 *
 * All integers big-endian.  Tg and Tn are HMAC-SHA-256 truncated to 16
 * bytes, each under its own label so one can never stand in for the other:
 *
 *   Tg = HMAC(K, "FBLINK1 Tg" | Ng | Nn | eui)
 *   Tn = HMAC(K, "FBLINK1 Tn" | Nn | Ng | eui)
 *   PRK = HKDF-Extract(salt = Nn | Ng, IKM = K)
 *   up key | down key = HKDF-Expand(PRK, "FBLINK1 keys" | eui, 32)
 *   Kh = HKDF(salt none, IKM = K, info "FBLINK2 hello" | eui, 32)
 *   v2 HELLO mic = HMAC(Kh, its bytes 0..28)
 *
 * Version 2 is the HELLO alone (an authenticated join request with the
 * node's join counter, so the gateway can refuse forged and replayed
 * HELLOs before they cost anything); every other frame stays version 1.
 *
 * Data frames are AES-128-CCM with an 8-byte tag; the 8 header bytes are
 * the associated data and the 13-byte nonce is dir | sid | fcnt | 0(5),
 * unique for a key as long as the counter of that direction never repeats
 * within a session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "radio/link.h"

#define LINK_CCM_NONCE_LEN	13

static const char link_label_tg[] = "FBLINK1 Tg";
static const char link_label_tn[] = "FBLINK1 Tn";
static const char link_label_keys[] = "FBLINK1 keys";
static const char link_label_hello[] = "FBLINK2 hello";
#define LINK_PROOF_LABEL_LEN	(sizeof(link_label_tg) - 1)
#define LINK_KEYS_LABEL_LEN	(sizeof(link_label_keys) - 1)
#define LINK_HELLO_LABEL_LEN	(sizeof(link_label_hello) - 1)
#define LINK_HASH_LEN		32	/* SHA-256 */

static void
link_put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
link_get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint8_t
link_hdr(enum link_type t)
{
	return (uint8_t)(LINK_VERSION << 4 | t);
}

int
link_parse(const uint8_t *buf, size_t len, struct link_msg *m)
{
	size_t want = 0;

	memset(m, 0, sizeof(*m));
	if (len < 1)
		return LINK_ERR_SHORT;
	m->version = buf[0] >> 4;
	if (m->version != LINK_VERSION && m->version != LINK_VERSION_2)
		return LINK_ERR_VERSION;
	/* The flag bit exists only on DATA_UP; elsewhere the nibble is
	 * 8..15 and so an unknown type, as it always was. */
	m->type = buf[0] & 0x0f;
	if (m->version == LINK_VERSION_2) {
		/* Version 2 defines the HELLO only. */
		if (m->type != LINK_HELLO) {
			m->type = 0;
			return LINK_ERR_TYPE;
		}
		if (len != LINK_HELLO2_LEN)
			return LINK_ERR_LENGTH;
		m->eui = link_get_be(buf + 1, 8);
		m->nonce = buf + 9;
		m->join_ctr = (uint32_t)link_get_be(buf + 9 + LINK_NONCE_LEN,
		    LINK_JOIN_COUNTER_LEN);
		m->hdr = buf;
		m->hdr_len = LINK_HELLO2_MAC_LEN;
		m->proof = buf + LINK_HELLO2_MAC_LEN;
		return LINK_OK;
	}
	if (m->type == (LINK_FLAG_KEEPALIVE_REQ | LINK_DATA_UP)) {
		m->type = LINK_DATA_UP;
		m->flags = LINK_FLAG_KEEPALIVE_REQ;
	}
	switch (m->type) {
	case LINK_HELLO:
		want = LINK_HELLO_LEN;
		break;
	case LINK_CHALLENGE:
		want = LINK_CHALLENGE_LEN;
		break;
	case LINK_RESPONSE:
		want = LINK_RESPONSE_LEN;
		break;
	case LINK_DATA_UP:
	case LINK_DATA_DOWN:
		break;
	case LINK_ACK:
		if (len != LINK_ACK_LEN)
			return LINK_ERR_LENGTH;
		break;
	default:
		m->type = 0;
		return LINK_ERR_TYPE;
	}
	if (want != 0) {
		if (len != want)
			return LINK_ERR_LENGTH;
		m->eui = link_get_be(buf + 1, 8);
		if (m->type == LINK_RESPONSE)
			m->proof = buf + 9;
		else
			m->nonce = buf + 9;
		if (m->type == LINK_CHALLENGE)
			m->proof = buf + 9 + LINK_NONCE_LEN;
		return LINK_OK;
	}
	/* Data frame: header, then at least the MIC, and the LoRa cap. */
	if (len < LINK_DATA_OVERHEAD || len > LINK_FRAME_MAX)
		return LINK_ERR_LENGTH;
	m->sid = (uint32_t)link_get_be(buf + 1, 4);
	m->fcnt = (uint32_t)link_get_be(buf + 5, 3);
	m->hdr = buf;
	m->hdr_len = LINK_DATA_HDR_LEN;
	m->ct = buf + LINK_DATA_HDR_LEN;
	m->ct_len = len - LINK_DATA_HDR_LEN;
	return LINK_OK;
}

/* A handshake frame: header, EUI, then one or two fixed-size fields. */
static int
link_build_auth(uint8_t *out, size_t cap, enum link_type type, uint64_t eui,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (cap < 9 + alen + blen)
		return -ENOBUFS;
	out[0] = link_hdr(type);
	link_put_be(out + 1, eui, 8);
	memcpy(out + 9, a, alen);
	if (blen > 0)
		memcpy(out + 9 + alen, b, blen);
	return (int)(9 + alen + blen);
}

int
link_build_hello(uint8_t *out, size_t cap, uint64_t eui,
    const uint8_t nn[LINK_NONCE_LEN])
{
	return link_build_auth(out, cap, LINK_HELLO, eui, nn, LINK_NONCE_LEN,
	    NULL, 0);
}

static int	link_hello_mic(const uint8_t kh[LINK_HELLO_KEY_LEN],
		    const uint8_t *msg, uint8_t mic[LINK_HELLO_MIC_LEN]);

int
link_build_hello2(uint8_t *out, size_t cap, uint64_t eui,
    const uint8_t nn[LINK_NONCE_LEN], uint32_t join_ctr,
    const uint8_t kh[LINK_HELLO_KEY_LEN])
{
	if (cap < LINK_HELLO2_LEN)
		return -ENOBUFS;
	(void)link_build_hello(out, cap, eui, nn);
	out[0] = (uint8_t)(LINK_VERSION_2 << 4 | LINK_HELLO);
	link_put_be(out + LINK_HELLO_LEN, join_ctr, LINK_JOIN_COUNTER_LEN);
	if (link_hello_mic(kh, out, out + LINK_HELLO2_MAC_LEN) != 0)
		return -EIO;
	return LINK_HELLO2_LEN;
}

int
link_build_challenge(uint8_t *out, size_t cap, uint64_t eui,
    const uint8_t ng[LINK_NONCE_LEN], const uint8_t tg[LINK_PROOF_LEN])
{
	return link_build_auth(out, cap, LINK_CHALLENGE, eui, ng,
	    LINK_NONCE_LEN, tg, LINK_PROOF_LEN);
}

int
link_build_response(uint8_t *out, size_t cap, uint64_t eui,
    const uint8_t tn[LINK_PROOF_LEN])
{
	return link_build_auth(out, cap, LINK_RESPONSE, eui, tn,
	    LINK_PROOF_LEN, NULL, 0);
}

/* The protocol's check function: HMAC-SHA-256 (RFC 2104), truncated to
 * its first outlen bytes. */
static int
link_hmac_trunc(const uint8_t *key, size_t keylen, const uint8_t *msg,
    size_t len, uint8_t *out, size_t outlen)
{
	uint8_t mac[LINK_HASH_LEN];
	int r;

	r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, msg, len, mac);
	if (r == 0)
		memcpy(out, mac, outlen);
	gnutls_memset(mac, 0, sizeof(mac));
	return r == 0 ? 0 : -EIO;
}

/* HKDF-SHA-256 (RFC 5869) with IKM K: Expand(Extract(salt, K), info). */
static int
link_hkdf(const uint8_t k[LINK_SECRET_LEN], const uint8_t *salt,
    size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *okm,
    size_t okm_len)
{
	uint8_t prk[LINK_HASH_LEN];
	gnutls_datum_t dk, ds, di;
	int r = -EIO;

	dk.data = (unsigned char *)k;
	dk.size = LINK_SECRET_LEN;
	ds.data = (unsigned char *)salt;
	ds.size = (unsigned int)salt_len;
	if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &dk, &ds, prk) != 0)
		goto out;
	dk.data = prk;
	dk.size = sizeof(prk);
	di.data = (unsigned char *)info;
	di.size = (unsigned int)info_len;
	if (gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &dk, &di, okm,
	    okm_len) != 0)
		goto out;
	r = 0;
out:
	gnutls_memset(prk, 0, sizeof(prk));
	return r;
}

/*
 * One check function for both passes; the label and the order of the
 * nonces (own nonce of the prover's peer first, as in ISO/IEC 9798-4) make
 * the two inputs disjoint, so a proof seen in one pass is useless in the
 * other and in the reverse direction.
 */
static int
link_proof(const char *label, const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
    const uint8_t *first, const uint8_t *second, uint8_t out[LINK_PROOF_LEN])
{
	uint8_t msg[LINK_PROOF_LABEL_LEN + 2 * LINK_NONCE_LEN + 8];

	memcpy(msg, label, LINK_PROOF_LABEL_LEN);
	memcpy(msg + LINK_PROOF_LABEL_LEN, first, LINK_NONCE_LEN);
	memcpy(msg + LINK_PROOF_LABEL_LEN + LINK_NONCE_LEN, second,
	    LINK_NONCE_LEN);
	link_put_be(msg + LINK_PROOF_LABEL_LEN + 2 * LINK_NONCE_LEN, eui, 8);
	return link_hmac_trunc(k, LINK_SECRET_LEN, msg, sizeof(msg), out,
	    LINK_PROOF_LEN);
}

int
link_gw_proof(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
    uint8_t tg[LINK_PROOF_LEN])
{
	return link_proof(link_label_tg, k, eui, ng, nn, tg);
}

int
link_node_proof(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
    uint8_t tn[LINK_PROOF_LEN])
{
	return link_proof(link_label_tn, k, eui, nn, ng, tn);
}

int
link_session_derive(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
    struct link_session_keys *out)
{
	uint8_t salt[2 * LINK_NONCE_LEN], info[LINK_KEYS_LABEL_LEN + 8];
	uint8_t okm[2 * LINK_SESSION_KEY_LEN];
	int r;

	memset(out, 0, sizeof(*out));
	memcpy(salt, nn, LINK_NONCE_LEN);
	memcpy(salt + LINK_NONCE_LEN, ng, LINK_NONCE_LEN);
	memcpy(info, link_label_keys, LINK_KEYS_LABEL_LEN);
	link_put_be(info + LINK_KEYS_LABEL_LEN, eui, 8);
	if ((r = link_hkdf(k, salt, sizeof(salt), info, sizeof(info), okm,
	    sizeof(okm))) == 0) {
		memcpy(out->up, okm, LINK_SESSION_KEY_LEN);
		memcpy(out->down, okm + LINK_SESSION_KEY_LEN,
		    LINK_SESSION_KEY_LEN);
	}
	gnutls_memset(okm, 0, sizeof(okm));
	return r;
}

/*
 * The v2 HELLO's key.  No salt: RFC 5869 then uses HashLen zero bytes,
 * which is what is passed, so that no library's handling of an empty
 * salt matters.  A key of its own (not K itself, unlike Tg and Tn) lets
 * the gateway keep it per device and verify a HELLO with one HMAC.
 */
int
link_hello_key(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
    uint8_t kh[LINK_HELLO_KEY_LEN])
{
	uint8_t salt[LINK_HASH_LEN], info[LINK_HELLO_LABEL_LEN + 8];

	memset(salt, 0, sizeof(salt));
	memcpy(info, link_label_hello, LINK_HELLO_LABEL_LEN);
	link_put_be(info + LINK_HELLO_LABEL_LEN, eui, 8);
	return link_hkdf(k, salt, sizeof(salt), info, sizeof(info), kh,
	    LINK_HELLO_KEY_LEN);
}

/* msg: the LINK_HELLO2_MAC_LEN bytes the MIC covers. */
static int
link_hello_mic(const uint8_t kh[LINK_HELLO_KEY_LEN], const uint8_t *msg,
    uint8_t mic[LINK_HELLO_MIC_LEN])
{
	return link_hmac_trunc(kh, LINK_HELLO_KEY_LEN, msg,
	    LINK_HELLO2_MAC_LEN, mic, LINK_HELLO_MIC_LEN);
}

int
link_hello_verify(const uint8_t kh[LINK_HELLO_KEY_LEN],
    const struct link_msg *m)
{
	uint8_t mic[LINK_HELLO_MIC_LEN];

	if (m->version != LINK_VERSION_2 || m->type != LINK_HELLO ||
	    m->hdr == NULL || m->hdr_len != LINK_HELLO2_MAC_LEN)
		return -EINVAL;
	if (link_hello_mic(kh, m->hdr, mic) != 0)
		return -EIO;
	return gnutls_memcmp(mic, m->proof, LINK_HELLO_MIC_LEN) == 0 ?
	    LINK_OK : LINK_ERR_MIC;
}

struct link_aead {
	gnutls_aead_cipher_hd_t	hd;
};

int
link_aead_new(const uint8_t key[LINK_SESSION_KEY_LEN], struct link_aead **out)
{
	struct link_aead *a;
	gnutls_datum_t dk;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -ENOMEM;
	dk.data = (unsigned char *)key;
	dk.size = LINK_SESSION_KEY_LEN;
	if (gnutls_aead_cipher_init(&a->hd, GNUTLS_CIPHER_AES_128_CCM_8,
	    &dk) != 0) {
		free(a);
		return -EIO;
	}
	*out = a;
	return 0;
}

int
link_aead_setkey(struct link_aead *a, const uint8_t key[LINK_SESSION_KEY_LEN])
{
	gnutls_datum_t dk;

	dk.data = (unsigned char *)key;
	dk.size = LINK_SESSION_KEY_LEN;
	return gnutls_aead_cipher_set_key(a->hd, &dk) == 0 ? 0 : -EIO;
}

void
link_aead_free(struct link_aead *a)
{
	if (a == NULL)
		return;
	/* GnuTLS wipes the expanded key schedule in deinit. */
	gnutls_aead_cipher_deinit(a->hd);
	free(a);
}

static void
link_ccm_nonce(uint8_t nonce[LINK_CCM_NONCE_LEN], enum link_dir dir,
    uint32_t sid, uint32_t fcnt)
{
	memset(nonce, 0, LINK_CCM_NONCE_LEN);
	nonce[0] = (uint8_t)dir;
	link_put_be(nonce + 1, sid, 4);
	link_put_be(nonce + 5, fcnt, 3);
}

/* A data frame with header byte hdr under a's key. */
static int
link_seal_hdr(struct link_aead *a, uint8_t hdr, enum link_dir dir,
    uint32_t sid, uint32_t fcnt, const uint8_t *plain, size_t len,
    uint8_t *out, size_t cap)
{
	uint8_t nonce[LINK_CCM_NONCE_LEN];
	size_t ctlen;

	if (fcnt > LINK_FCNT_MAX)
		return -ERANGE;
	if (len > LINK_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (cap < len + LINK_DATA_OVERHEAD)
		return -ENOBUFS;
	out[0] = hdr;
	link_put_be(out + 1, sid, 4);
	link_put_be(out + 5, fcnt, 3);
	link_ccm_nonce(nonce, dir, sid, fcnt);
	ctlen = cap - LINK_DATA_HDR_LEN;
	if (gnutls_aead_cipher_encrypt(a->hd, nonce, sizeof(nonce), out,
	    LINK_DATA_HDR_LEN, LINK_MIC_LEN, plain, len,
	    out + LINK_DATA_HDR_LEN, &ctlen) != 0)
		return -EIO;
	return (int)(LINK_DATA_HDR_LEN + ctlen);
}

int
link_seal_flags_with(struct link_aead *a, enum link_dir dir,
    unsigned int flags, uint32_t sid, uint32_t fcnt, const uint8_t *plain,
    size_t len, uint8_t *out, size_t cap)
{
	if (flags != 0 && (flags != LINK_FLAG_KEEPALIVE_REQ ||
	    dir != LINK_DIR_UP))
		return -EINVAL;
	return link_seal_hdr(a, (uint8_t)(link_hdr(dir == LINK_DIR_UP ?
	    LINK_DATA_UP : LINK_DATA_DOWN) | flags), dir, sid, fcnt, plain,
	    len, out, cap);
}

void
link_ack_encode(const struct link_ack *ack, uint8_t out[LINK_ACK_PLAIN_LEN])
{
	link_put_be(out, ack->down_fcnt, 3);
	link_put_be(out + 3, ack->ref, 2);
	out[5] = ack->status;
}

int
link_ack_decode(const uint8_t *p, size_t len, struct link_ack *ack)
{
	memset(ack, 0, sizeof(*ack));
	if (len != LINK_ACK_PLAIN_LEN)
		return LINK_ERR_LENGTH;
	ack->down_fcnt = (uint32_t)link_get_be(p, 3);
	ack->ref = (uint16_t)link_get_be(p + 3, 2);
	ack->status = p[5];
	/* Down counter 1 is always the ACCEPT: nothing to acknowledge. */
	if (ack->down_fcnt < 2)
		return LINK_ERR_LENGTH;
	return LINK_OK;
}

int
link_seal_ack(const struct link_session_keys *ks, uint32_t fcnt,
    const struct link_ack *ack, uint8_t *out, size_t cap)
{
	uint8_t plain[LINK_ACK_PLAIN_LEN];
	struct link_aead *a;
	int r;

	if ((r = link_aead_new(ks->up, &a)) != 0)
		return r;
	link_ack_encode(ack, plain);
	r = link_seal_hdr(a, link_hdr(LINK_ACK), LINK_DIR_UP, ks->sid, fcnt,
	    plain, sizeof(plain), out, cap);
	link_aead_free(a);
	return r;
}

int
link_command_encode(uint8_t kind, uint16_t ref, const uint8_t *body,
    size_t len, uint8_t *out, size_t cap)
{
	if (len > LINK_COMMAND_BODY_MAX)
		return -EMSGSIZE;
	if (cap < LINK_COMMAND_HDR_LEN - 1 + len)
		return -ENOBUFS;
	out[0] = kind;
	link_put_be(out + 1, ref, 2);
	if (len > 0)
		memcpy(out + 3, body, len);
	return (int)(LINK_COMMAND_HDR_LEN - 1 + len);
}

int
link_seal_with(struct link_aead *a, enum link_dir dir, uint32_t sid,
    uint32_t fcnt, const uint8_t *plain, size_t len, uint8_t *out, size_t cap)
{
	return link_seal_flags_with(a, dir, 0, sid, fcnt, plain, len, out,
	    cap);
}

int
link_open_with(struct link_aead *a, enum link_dir dir,
    const struct link_msg *m, uint8_t *plain, size_t cap)
{
	uint8_t nonce[LINK_CCM_NONCE_LEN];
	size_t plen = cap;

	/* The type is in the associated data: an ACK cannot pass for a
	 * DATA_UP, nor the reverse. */
	if (m->hdr == NULL || m->ct_len < LINK_MIC_LEN ||
	    (dir == LINK_DIR_UP ? m->type != LINK_DATA_UP &&
	    m->type != LINK_ACK : m->type != LINK_DATA_DOWN))
		return -EINVAL;
	if (cap < m->ct_len - LINK_MIC_LEN)
		return -ENOBUFS;
	link_ccm_nonce(nonce, dir, m->sid, m->fcnt);
	if (gnutls_aead_cipher_decrypt(a->hd, nonce, sizeof(nonce), m->hdr,
	    m->hdr_len, LINK_MIC_LEN, m->ct, m->ct_len, plain, &plen) != 0)
		return LINK_ERR_MIC;
	return (int)plen;
}

int
link_seal_flags(const struct link_session_keys *ks, enum link_dir dir,
    unsigned int flags, uint32_t fcnt, const uint8_t *plain, size_t len,
    uint8_t *out, size_t cap)
{
	struct link_aead *a;
	int r;

	if ((r = link_aead_new(dir == LINK_DIR_UP ? ks->up : ks->down,
	    &a)) != 0)
		return r;
	r = link_seal_flags_with(a, dir, flags, ks->sid, fcnt, plain, len, out,
	    cap);
	link_aead_free(a);
	return r;
}

int
link_seal(const struct link_session_keys *ks, enum link_dir dir,
    uint32_t fcnt, const uint8_t *plain, size_t len, uint8_t *out, size_t cap)
{
	return link_seal_flags(ks, dir, 0, fcnt, plain, len, out, cap);
}

int
link_open(const struct link_session_keys *ks, enum link_dir dir,
    const struct link_msg *m, uint8_t *plain, size_t cap)
{
	struct link_aead *a;
	int r;

	if ((r = link_aead_new(dir == LINK_DIR_UP ? ks->up : ks->down,
	    &a)) != 0)
		return r;
	r = link_open_with(a, dir, m, plain, cap);
	link_aead_free(a);
	return r;
}

