/*
 * test_link.c - the link codec against the test vectors of
 * docs/link-protocol.md (computed independently of GnuTLS, with Python's
 * hmac/hashlib and OpenSSL's AES-CCM), the primitives against their RFC
 * vectors, and the envelope parser against malformed frames of every type.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "radio/link.h"
#include "tests/testutil.h"

#define EUI	0x70B3D57ED0001001ULL
#define SID	0x12345678u

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	return testutil_unhex(s, out, cap);
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	char buf[2 * LINK_FRAME_MAX + 1];

	assert_true(len <= LINK_FRAME_MAX);
	testutil_hex(got, len, buf);
	assert_string_equal(buf, want);
}

static void
vec_inputs(uint8_t k[LINK_SECRET_LEN], uint8_t nn[LINK_NONCE_LEN],
    uint8_t ng[LINK_NONCE_LEN])
{
	int i;

	for (i = 0; i < LINK_SECRET_LEN; i++)
		k[i] = (uint8_t)i;
	for (i = 0; i < LINK_NONCE_LEN; i++) {
		nn[i] = (uint8_t)(0xa0 + i);
		ng[i] = (uint8_t)(0xb0 + i);
	}
}

/* RFC 5869 A.1: a wrong gnutls_hkdf_* call cannot hide behind our own
 * vectors. */
static void
test_rfc5869_hkdf(void **state)
{
	uint8_t ikm[22], salt[13], info[10], prk[32], okm[42];
	gnutls_datum_t d1, d2;

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	unhex("000102030405060708090a0b0c", salt, sizeof(salt));
	unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
	d1.data = ikm;
	d1.size = sizeof(ikm);
	d2.data = salt;
	d2.size = sizeof(salt);
	assert_int_equal(gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &d1, &d2,
	    prk), 0);
	assert_hex(prk, sizeof(prk),
	    "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
	d1.data = prk;
	d1.size = sizeof(prk);
	d2.data = info;
	d2.size = sizeof(info);
	assert_int_equal(gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &d1, &d2,
	    okm, sizeof(okm)), 0);
	assert_hex(okm, sizeof(okm),
	    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	    "34007208d5b887185865");
}

/* RFC 4231 test case 2. */
static void
test_rfc4231_hmac(void **state)
{
	const char *data = "what do ya want for nothing?";
	uint8_t mac[32];

	(void)state;
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, "Jefe", 4, data,
	    strlen(data), mac), 0);
	assert_hex(mac, sizeof(mac),
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void
test_vector_handshake(void **state)
{
	uint8_t k[LINK_SECRET_LEN], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];
	uint8_t tg[LINK_PROOF_LEN], tn[LINK_PROOF_LEN], f[LINK_FRAME_MAX];
	struct link_session_keys ks;
	struct link_msg m;
	int n;

	(void)state;
	vec_inputs(k, nn, ng);
	assert_int_equal(link_gw_proof(k, EUI, nn, ng, tg), 0);
	assert_hex(tg, sizeof(tg), "44cfffaadf667256d63590db6ba344cc");
	assert_int_equal(link_node_proof(k, EUI, nn, ng, tn), 0);
	assert_hex(tn, sizeof(tn), "cc3090078d466cd2e7cc2a4be4911164");

	memset(&ks, 0xee, sizeof(ks));
	assert_int_equal(link_session_derive(k, EUI, nn, ng, &ks), 0);
	assert_int_equal(ks.sid, 0);	/* the gateway assigns it */
	assert_hex(ks.up, sizeof(ks.up), "4051f9fab2febaf9619b13008276d0fb");
	assert_hex(ks.down, sizeof(ks.down),
	    "a227bb640f001f548e44552ba412b73b");

	n = link_build_hello(f, sizeof(f), EUI, nn);
	assert_int_equal(n, LINK_HELLO_LEN);
	assert_hex(f, (size_t)n,
	    "1170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_HELLO);
	assert_true(m.eui == EUI);
	assert_memory_equal(m.nonce, nn, LINK_NONCE_LEN);

	n = link_build_challenge(f, sizeof(f), EUI, ng, tg);
	assert_int_equal(n, LINK_CHALLENGE_LEN);
	assert_hex(f, (size_t)n,
	    "1270b3d57ed0001001b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	    "44cfffaadf667256d63590db6ba344cc");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_CHALLENGE);
	assert_memory_equal(m.nonce, ng, LINK_NONCE_LEN);
	assert_memory_equal(m.proof, tg, LINK_PROOF_LEN);

	n = link_build_response(f, sizeof(f), EUI, tn);
	assert_int_equal(n, LINK_RESPONSE_LEN);
	assert_hex(f, (size_t)n,
	    "1370b3d57ed0001001cc3090078d466cd2e7cc2a4be4911164");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_RESPONSE);
	assert_true(m.eui == EUI);
	assert_memory_equal(m.proof, tn, LINK_PROOF_LEN);
}

/* The version 2 HELLO of docs/link-protocol.md: Kh, and the frame with
 * join counters 1 and 01020304. */
static void
test_vector_hello2(void **state)
{
	uint8_t k[LINK_SECRET_LEN], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];
	uint8_t kh[LINK_HELLO_KEY_LEN], f[LINK_FRAME_MAX];
	struct link_msg m;
	int n;

	(void)state;
	vec_inputs(k, nn, ng);
	assert_int_equal(link_hello_key(k, EUI, kh), 0);
	assert_hex(kh, sizeof(kh), "1d54eb43db4c9485fa7465cf146cf8f2"
	    "27204421a2b1246d1efe8aa97158e249");
	n = link_build_hello2(f, sizeof(f), EUI, nn, 1, kh);
	assert_int_equal(n, LINK_HELLO2_LEN);
	assert_hex(f, (size_t)n,
	    "2170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	    "00000001e9a153222e392476e57429394038c229");
	n = link_build_hello2(f, sizeof(f), EUI, nn, 0x01020304u, kh);
	assert_hex(f, (size_t)n,
	    "2170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	    "01020304949b41053fbf6c5c8b89171ce7b6fe45");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.version, LINK_VERSION_2);
	assert_int_equal(m.type, LINK_HELLO);
	assert_true(m.eui == EUI);
	assert_memory_equal(m.nonce, nn, LINK_NONCE_LEN);
	assert_int_equal(m.join_ctr, 0x01020304u);
	assert_int_equal(link_hello_verify(kh, &m), LINK_OK);
	assert_int_equal(link_build_hello2(f, LINK_HELLO2_LEN - 1, EUI, nn, 1,
	    kh), -ENOBUFS);
}

/* Every byte of a v2 HELLO is under its MIC, and a key of another EUI
 * (same K) does not verify it. */
static void
test_hello2_tampered(void **state)
{
	uint8_t k[LINK_SECRET_LEN], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];
	uint8_t kh[LINK_HELLO_KEY_LEN], kh2[LINK_HELLO_KEY_LEN];
	uint8_t f[LINK_FRAME_MAX], g[LINK_FRAME_MAX];
	struct link_msg m;
	size_t i;
	int n;

	(void)state;
	vec_inputs(k, nn, ng);
	assert_int_equal(link_hello_key(k, EUI, kh), 0);
	assert_int_equal(link_hello_key(k, EUI + 1, kh2), 0);
	assert_memory_not_equal(kh, kh2, sizeof(kh));
	n = link_build_hello2(f, sizeof(f), EUI, nn, 7, kh);
	for (i = 1; i < (size_t)n; i++) {
		memcpy(g, f, (size_t)n);
		g[i] ^= 0x01;
		assert_int_equal(link_parse(g, (size_t)n, &m), LINK_OK);
		assert_int_equal(link_hello_verify(kh, &m), LINK_ERR_MIC);
	}
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(link_hello_verify(kh2, &m), LINK_ERR_MIC);
	/* Only a parsed v2 HELLO can be verified. */
	n = link_build_hello(g, sizeof(g), EUI, nn);
	assert_int_equal(link_parse(g, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.version, LINK_VERSION);
	assert_int_equal(link_hello_verify(kh, &m), -EINVAL);
}

static void
vec_keys(struct link_session_keys *ks)
{
	uint8_t k[LINK_SECRET_LEN], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];

	vec_inputs(k, nn, ng);
	assert_int_equal(link_session_derive(k, EUI, nn, ng, ks), 0);
	ks->sid = SID;
}

static void
test_vector_accept(void **state)
{
	struct link_session_keys ks, node;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	const uint8_t accept = LINK_DOWN_ACCEPT;
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_DOWN, 1, &accept, 1, f, sizeof(f));
	assert_int_equal(n, LINK_DATA_OVERHEAD + 1);
	assert_hex(f, (size_t)n, "151234567800000115b23de7610df8a827");

	/* The node does not know its sid yet: it learns it from here. */
	node = ks;
	node.sid = 0;
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_DATA_DOWN);
	assert_int_equal(m.sid, SID);
	assert_int_equal(m.fcnt, 1);
	assert_int_equal(link_open(&node, LINK_DIR_DOWN, &m, p, sizeof(p)), 1);
	assert_int_equal(p[0], LINK_DOWN_ACCEPT);
}

static void
test_vector_data_up(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	const char *pl = "fieldbridge test";
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_UP, 1, (const uint8_t *)pl, strlen(pl), f,
	    sizeof(f));
	assert_int_equal(n, LINK_DATA_OVERHEAD + 16);
	assert_hex(f, (size_t)n, "14123456780000019e3fc1436ab2ab1b70a48f9e"
	    "e7072eac701c37ec48a730c5");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_DATA_UP);
	assert_int_equal(m.fcnt, 1);
	assert_int_equal(m.ct_len, 16 + LINK_MIC_LEN);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)), 16);
	assert_memory_equal(p, pl, 16);
}

/* The keepalive a gateway sends after an ACCEPT (down fcnt 2). */
static void
test_vector_keepalive(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	const uint8_t ka = LINK_DOWN_KEEPALIVE;
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_DOWN, 2, &ka, 1, f, sizeof(f));
	assert_int_equal(n, LINK_DATA_OVERHEAD + 1);
	assert_hex(f, (size_t)n, "15123456780000026e6bba5968f4198de8");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_DATA_DOWN);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.fcnt, 2);
	assert_int_equal(link_open(&ks, LINK_DIR_DOWN, &m, p, sizeof(p)), 1);
	assert_int_equal(p[0], LINK_DOWN_KEEPALIVE);
}

/* A COMMAND (kind 7, ref 1, "open") as down fcnt 3, and its ACK as up
 * fcnt 2: the vectors of docs/link-protocol.md, computed with Python's
 * cryptography package. */
static void
test_vector_command_and_ack(void **state)
{
	struct link_session_keys ks;
	struct link_ack ack = { 3, 1, 0 }, got;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX], body[LINK_PAYLOAD_MAX];
	struct link_msg m;
	int n, b;

	(void)state;
	vec_keys(&ks);
	body[0] = LINK_DOWN_COMMAND;
	b = link_command_encode(7, 1, (const uint8_t *)"open", 4, body + 1,
	    sizeof(body) - 1);
	assert_int_equal(b, 7);
	n = link_seal(&ks, LINK_DIR_DOWN, 3, body, (size_t)b + 1, f,
	    sizeof(f));
	assert_hex(f, (size_t)n, "1512345678000003270b45c05cefa77b06fe9c8f"
	    "54bb6a55");
	n = link_seal_ack(&ks, 2, &ack, f, sizeof(f));
	assert_int_equal(n, LINK_ACK_LEN);
	assert_hex(f, (size_t)n, "1612345678000002d521a046bb5898363e7119f9"
	    "0203");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_ACK);
	assert_int_equal(m.fcnt, 2);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ACK_PLAIN_LEN);
	assert_int_equal(link_ack_decode(p, LINK_ACK_PLAIN_LEN, &got),
	    LINK_OK);
	assert_int_equal(got.down_fcnt, 3);
	assert_int_equal(got.ref, 1);
	assert_int_equal(got.status, 0);
	/* The type is authenticated: an ACK re-typed as a DATA_UP (or the
	 * reverse) does not open. */
	f[0] = 0x14;
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ERR_MIC);
	/* An ACK has exactly one size. */
	f[0] = 0x16;
	assert_int_equal(link_parse(f, (size_t)n - 1, &m), LINK_ERR_LENGTH);
	/* The codec's bounds: wrong size, the ACCEPT's counter, a body over
	 * one frame. */
	assert_int_equal(link_ack_decode(p, LINK_ACK_PLAIN_LEN - 1, &got),
	    LINK_ERR_LENGTH);
	p[0] = p[1] = 0;
	p[2] = 1;
	assert_int_equal(link_ack_decode(p, LINK_ACK_PLAIN_LEN, &got),
	    LINK_ERR_LENGTH);
	assert_int_equal(link_command_encode(1, 1, body,
	    LINK_COMMAND_BODY_MAX + 1, p, sizeof(p)), -EMSGSIZE);
	assert_int_equal(link_command_encode(1, 1, body,
	    LINK_COMMAND_BODY_MAX, p, sizeof(p)), LINK_PAYLOAD_MAX - 1);
}

/* A DATA_UP asking for a keepalive: header 0x1c, same overhead. */
static void
test_vector_data_up_keepalive_req(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	const char *pl = "fieldbridge test";
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal_flags(&ks, LINK_DIR_UP, LINK_FLAG_KEEPALIVE_REQ, 33,
	    (const uint8_t *)pl, strlen(pl), f, sizeof(f));
	assert_int_equal(n, LINK_DATA_OVERHEAD + 16);
	assert_hex(f, (size_t)n, "1c123456780000211aa56a84b90c9c141af72901"
	    "9c1a70e9aee8404bbee8b998");
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.type, LINK_DATA_UP);
	assert_int_equal(m.flags, LINK_FLAG_KEEPALIVE_REQ);
	assert_int_equal(m.fcnt, 33);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)), 16);
	assert_memory_equal(p, pl, 16);
	/* An unflagged frame parses with no flag. */
	n = link_seal_flags(&ks, LINK_DIR_UP, 0, 1, (const uint8_t *)pl,
	    strlen(pl), f, sizeof(f));
	assert_int_equal(f[0], 0x14);
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.flags, 0);
}

/* The flag is in the associated data: nobody can add it to a captured
 * frame (to make the gateway transmit) or strip it (to make a node think
 * the gateway forgot it). */
static void
test_keepalive_flag_authenticated(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_UP, 4, (const uint8_t *)"abc", 3, f,
	    sizeof(f));
	f[0] |= LINK_FLAG_KEEPALIVE_REQ;
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(m.flags, LINK_FLAG_KEEPALIVE_REQ);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ERR_MIC);
	n = link_seal_flags(&ks, LINK_DIR_UP, LINK_FLAG_KEEPALIVE_REQ, 5,
	    (const uint8_t *)"abc", 3, f, sizeof(f));
	f[0] &= (uint8_t)~LINK_FLAG_KEEPALIVE_REQ;
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ERR_MIC);
	/* Only on DATA_UP, and no other bits. */
	assert_int_equal(link_seal_flags(&ks, LINK_DIR_DOWN,
	    LINK_FLAG_KEEPALIVE_REQ, 1, p, 1, f, sizeof(f)), -EINVAL);
	assert_int_equal(link_seal_flags(&ks, LINK_DIR_UP, 0x01, 1, p, 1, f,
	    sizeof(f)), -EINVAL);
	/* The bit on any other type is an unknown type: 0x19, 0x1a, 0x1b,
	 * 0x1d. */
	memset(f, 0, sizeof(f));
	f[0] = 0x1d;
	assert_int_equal(link_parse(f, LINK_DATA_OVERHEAD, &m), LINK_ERR_TYPE);
	f[0] = 0x19;
	assert_int_equal(link_parse(f, LINK_HELLO_LEN, &m), LINK_ERR_TYPE);
	f[0] = 0x1b;
	assert_int_equal(link_parse(f, LINK_RESPONSE_LEN, &m), LINK_ERR_TYPE);
	/* A flagged DATA_UP obeys the data frame sizes. */
	f[0] = 0x1c;
	assert_int_equal(link_parse(f, LINK_DATA_OVERHEAD - 1, &m),
	    LINK_ERR_LENGTH);
	assert_int_equal(link_parse(f, LINK_FRAME_MAX + 1, &m),
	    LINK_ERR_LENGTH);
	assert_int_equal(link_parse(f, LINK_DATA_OVERHEAD, &m), LINK_OK);
	/* The keepalive limits leave room for the keepalive to work. */
	assert_true(LINK_KEEPALIVE_REQ_UPLINKS < LINK_REJOIN_SILENT_UPLINKS);
}

/* Every header bit, ciphertext bit and MIC bit is covered by the tag. */
static void
test_open_tampered(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], g[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	struct link_msg m;
	int n, i, bit;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_UP, 7, (const uint8_t *)"abc", 3, f,
	    sizeof(f));
	assert_int_equal(n, 19);
	for (i = 1; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(g, f, (size_t)n);
			g[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(link_parse(g, (size_t)n, &m), LINK_OK);
			assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p,
			    sizeof(p)), LINK_ERR_MIC);
		}
	}
	/* Truncated by one byte: still a valid envelope, but forged. */
	assert_int_equal(link_parse(f, (size_t)n - 1, &m), LINK_OK);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ERR_MIC);
}

/* An uplink cannot be opened as a downlink, nor with the other key. */
static void
test_open_wrong_direction(void **state)
{
	struct link_session_keys ks, swapped;
	uint8_t f[LINK_FRAME_MAX], p[LINK_FRAME_MAX];
	struct link_msg m;
	int n;

	(void)state;
	vec_keys(&ks);
	n = link_seal(&ks, LINK_DIR_UP, 3, (const uint8_t *)"x", 1, f,
	    sizeof(f));
	assert_int_equal(link_parse(f, (size_t)n, &m), LINK_OK);
	assert_int_equal(link_open(&ks, LINK_DIR_DOWN, &m, p, sizeof(p)),
	    -EINVAL);
	/* Rewrite the type and the down key would still not verify. */
	swapped = ks;
	memcpy(swapped.up, ks.down, sizeof(ks.up));
	assert_int_equal(link_open(&swapped, LINK_DIR_UP, &m, p, sizeof(p)),
	    LINK_ERR_MIC);
	assert_int_equal(link_open(&ks, LINK_DIR_UP, &m, p, 0), -ENOBUFS);
}

static void
test_seal_limits(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX + 1], pl[LINK_FRAME_MAX + 1];
	struct link_msg m;

	(void)state;
	vec_keys(&ks);
	memset(pl, 'p', sizeof(pl));
	/* EU868 SF12: 51 bytes on air leave 35 for the payload. */
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, 1, pl, 35, f, 51), 51);
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, 1, pl, 36, f, 51),
	    -ENOBUFS);
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, LINK_FCNT_MAX, pl, 1, f,
	    sizeof(f)), 17);
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, LINK_FCNT_MAX + 1, pl,
	    1, f, sizeof(f)), -ERANGE);
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, 1, pl, LINK_PAYLOAD_MAX,
	    f, sizeof(f)), LINK_FRAME_MAX);
	assert_int_equal(link_parse(f, LINK_FRAME_MAX, &m), LINK_OK);
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, 1, pl,
	    LINK_PAYLOAD_MAX + 1, f, sizeof(f)), -EMSGSIZE);
	/* Empty payload: header and MIC only. */
	assert_int_equal(link_seal(&ks, LINK_DIR_UP, 2, pl, 0, f, sizeof(f)),
	    LINK_DATA_OVERHEAD);
}

static void
test_build_small_buffer(void **state)
{
	uint8_t f[LINK_FRAME_MAX], n16[16] = { 0 };

	(void)state;
	assert_int_equal(link_build_hello(f, LINK_HELLO_LEN - 1, EUI, n16),
	    -ENOBUFS);
	assert_int_equal(link_build_challenge(f, LINK_CHALLENGE_LEN - 1, EUI,
	    n16, n16), -ENOBUFS);
	assert_int_equal(link_build_response(f, LINK_RESPONSE_LEN - 1, EUI,
	    n16), -ENOBUFS);
}

/* The pass-2 proof can never be replayed as a pass-3 proof, not even
 * when an attacker picks Nn = Ng. */
static void
test_proofs_not_reflectable(void **state)
{
	uint8_t k[LINK_SECRET_LEN], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];
	uint8_t tg[LINK_PROOF_LEN], tn[LINK_PROOF_LEN];

	(void)state;
	vec_inputs(k, nn, ng);
	assert_int_equal(link_gw_proof(k, EUI, nn, ng, tg), 0);
	assert_int_equal(link_node_proof(k, EUI, ng, nn, tn), 0);
	assert_memory_not_equal(tg, tn, LINK_PROOF_LEN);
	assert_int_equal(link_gw_proof(k, EUI, nn, nn, tg), 0);
	assert_int_equal(link_node_proof(k, EUI, nn, nn, tn), 0);
	assert_memory_not_equal(tg, tn, LINK_PROOF_LEN);
	/* And the EUI is bound in. */
	assert_int_equal(link_gw_proof(k, EUI + 1, nn, nn, tn), 0);
	assert_memory_not_equal(tg, tn, LINK_PROOF_LEN);
}

static void
test_parse_short(void **state)
{
	struct link_msg m;
	uint8_t b = 0x11;

	(void)state;
	assert_int_equal(link_parse(&b, 0, &m), LINK_ERR_SHORT);
	assert_int_equal(link_parse(&b, 1, &m), LINK_ERR_LENGTH);
}

static void
test_parse_wrong_version(void **state)
{
	uint8_t f[LINK_FRAME_MAX] = { 0 };
	struct link_msg m;
	unsigned v;

	(void)state;
	for (v = 0; v < 16; v++) {
		if (v == LINK_VERSION || v == LINK_VERSION_2)
			continue;
		f[0] = (uint8_t)(v << 4 | LINK_HELLO);
		assert_int_equal(link_parse(f, LINK_HELLO_LEN, &m),
		    LINK_ERR_VERSION);
		f[0] = (uint8_t)(v << 4 | LINK_DATA_UP);
		assert_int_equal(link_parse(f, 20, &m), LINK_ERR_VERSION);
		f[0] = (uint8_t)(v << 4 | LINK_HELLO);
		assert_int_equal(link_parse(f, LINK_HELLO2_LEN, &m),
		    LINK_ERR_VERSION);
	}
}

/* Version 2 is the HELLO alone, of exactly LINK_HELLO2_LEN bytes: short,
 * long, the v1 size, and every other type are refused. */
static void
test_parse_hello2_malformed(void **state)
{
	uint8_t f[LINK_FRAME_MAX + 2] = { 0 };
	struct link_msg m;
	unsigned t;

	(void)state;
	f[0] = 0x21;
	assert_int_equal(link_parse(f, LINK_HELLO2_LEN, &m), LINK_OK);
	assert_int_equal(link_parse(f, LINK_HELLO2_LEN - 1, &m),
	    LINK_ERR_LENGTH);
	assert_int_equal(link_parse(f, LINK_HELLO2_LEN + 1, &m),
	    LINK_ERR_LENGTH);
	assert_int_equal(link_parse(f, LINK_HELLO_LEN, &m), LINK_ERR_LENGTH);
	assert_int_equal(link_parse(f, 1, &m), LINK_ERR_LENGTH);
	/* A v1 HELLO of the v2 size is no HELLO either. */
	f[0] = 0x11;
	assert_int_equal(link_parse(f, LINK_HELLO2_LEN, &m), LINK_ERR_LENGTH);
	for (t = 0; t < 16; t++) {
		if (t == LINK_HELLO)
			continue;
		f[0] = (uint8_t)(LINK_VERSION_2 << 4 | t);
		assert_int_equal(link_parse(f, LINK_HELLO2_LEN, &m),
		    LINK_ERR_TYPE);
		assert_int_equal(link_parse(f, 20, &m), LINK_ERR_TYPE);
		assert_int_equal(m.type, 0);
	}
}

static void
test_parse_wrong_type(void **state)
{
	uint8_t f[LINK_FRAME_MAX] = { 0 };
	struct link_msg m;
	unsigned t;

	(void)state;
	for (t = 0; t < 16; t++) {
		if ((t >= LINK_HELLO && t <= LINK_ACK) ||
		    t == (LINK_FLAG_KEEPALIVE_REQ | LINK_DATA_UP))
			continue;
		f[0] = (uint8_t)(LINK_VERSION << 4 | t);
		assert_int_equal(link_parse(f, LINK_HELLO_LEN, &m),
		    LINK_ERR_TYPE);
		assert_int_equal(m.type, 0);
	}
}

/* Each fixed-size type, one byte short and one byte long. */
static void
test_parse_fixed_sizes(void **state)
{
	static const struct {
		uint8_t	type;
		size_t	len;
	} t[] = {
		{ LINK_HELLO, LINK_HELLO_LEN },
		{ LINK_CHALLENGE, LINK_CHALLENGE_LEN },
		{ LINK_RESPONSE, LINK_RESPONSE_LEN },
	};
	uint8_t f[LINK_FRAME_MAX + 2] = { 0 };
	struct link_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		f[0] = (uint8_t)(LINK_VERSION << 4 | t[i].type);
		assert_int_equal(link_parse(f, t[i].len, &m), LINK_OK);
		assert_int_equal(m.type, t[i].type);
		assert_int_equal(link_parse(f, t[i].len - 1, &m),
		    LINK_ERR_LENGTH);
		assert_int_equal(link_parse(f, t[i].len + 1, &m),
		    LINK_ERR_LENGTH);
	}
}

static void
test_parse_data_sizes(void **state)
{
	uint8_t f[LINK_FRAME_MAX + 2] = { 0 };
	struct link_msg m;
	int t;

	(void)state;
	for (t = LINK_DATA_UP; t <= LINK_DATA_DOWN; t++) {
		f[0] = (uint8_t)(LINK_VERSION << 4 | t);
		assert_int_equal(link_parse(f, LINK_DATA_OVERHEAD - 1, &m),
		    LINK_ERR_LENGTH);
		assert_int_equal(link_parse(f, LINK_DATA_OVERHEAD, &m),
		    LINK_OK);
		assert_int_equal(m.ct_len, LINK_MIC_LEN);
		assert_int_equal(link_parse(f, LINK_FRAME_MAX, &m), LINK_OK);
		assert_int_equal(link_parse(f, LINK_FRAME_MAX + 1, &m),
		    LINK_ERR_LENGTH);
	}
	/* Header fields decode big-endian, byte by byte. */
	memcpy(f, "\x14\xde\xad\xbe\xef\xab\xcd\xef", 8);
	assert_int_equal(link_parse(f, 20, &m), LINK_OK);
	assert_int_equal(m.sid, 0xdeadbeefu);
	assert_int_equal(m.fcnt, 0xabcdefu);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5869_hkdf),
		cmocka_unit_test(test_rfc4231_hmac),
		cmocka_unit_test(test_vector_handshake),
		cmocka_unit_test(test_vector_hello2),
		cmocka_unit_test(test_hello2_tampered),
		cmocka_unit_test(test_parse_hello2_malformed),
		cmocka_unit_test(test_vector_accept),
		cmocka_unit_test(test_vector_data_up),
		cmocka_unit_test(test_vector_keepalive),
		cmocka_unit_test(test_vector_data_up_keepalive_req),
		cmocka_unit_test(test_keepalive_flag_authenticated),
		cmocka_unit_test(test_vector_command_and_ack),
		cmocka_unit_test(test_open_tampered),
		cmocka_unit_test(test_open_wrong_direction),
		cmocka_unit_test(test_seal_limits),
		cmocka_unit_test(test_build_small_buffer),
		cmocka_unit_test(test_proofs_not_reflectable),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_wrong_version),
		cmocka_unit_test(test_parse_wrong_type),
		cmocka_unit_test(test_parse_fixed_sizes),
		cmocka_unit_test(test_parse_data_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
