/*
 * test_node.c - libfbnode: the test vectors of docs/link-protocol.md
 * through both crypto back-ends (GnuTLS and Mbed TLS), and the node's
 * state machine against the real gateway (policy/ident.c) with injected
 * time and frames: lost CHALLENGE and ACCEPT, duplicate downlinks,
 * keepalives, silence, counter exhaustion, a reset with and without the
 * persisted session, and every kind of malformed downlink.
 *
 * Downlinks the gateway would never send are forged with the gateway's
 * codec (radio/link.c) under the session's real keys, which the test
 * derives itself: it picks the node's nonces through its own random
 * source.
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

#include "node/fbnode.h"
#include "node/fbnode_gnutls.h"
#include "node/fbnode_mbedtls.h"
#include "policy/ident.h"
#include "policy/registry.h"
#include "radio/link.h"
#include "tests/testutil.h"

#define EUI	0x70B3D57ED0001001ULL
#define EUI2	0x70B3D57ED0001002ULL
#define SID	0x12345678u
#define KHEX	"000102030405060708090a0b0c0d0e0f" \
		"101112131415161718191a1b1c1d1e1f"

static const char devs[] =
    "devices = ( { id = \"70B3D57ED0001001\"; stream = \"s\"; },\n"
    "  { id = \"70B3D57ED0001002\"; stream = \"s\"; } );";
static const char keys[] =
    "keys = ( { id = \"70B3D57ED0001001\"; secret = \"" KHEX "\"; },\n"
    "  { id = \"70B3D57ED0001002\"; secret = \"" KHEX "\"; } );";

/* ---- the test's random source: known nonces ---- */

static uint8_t rng_next = 0xa0;		/* first byte of the next Nn */
static uint8_t rng_last[LINK_NONCE_LEN];	/* the last Nn handed out */

/* Nn = b, b+1, ..., b+15 with b advancing by 16 per call: the first is
 * the spec's a0..af, and no two joins repeat a nonce. */
static int
test_rng(void *arg, uint8_t *out, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(rng_next + i);
	rng_next = (uint8_t)(rng_next + 16);
	if (len == LINK_NONCE_LEN)
		memcpy(rng_last, out, len);
	return 0;
}

/* ---- the two back-ends, with the test's random source ---- */

enum backend { BE_GNUTLS, BE_MBEDTLS };

struct tnode {
	struct fbnode		 n;
	struct fbnode_crypto_ops ops;
	struct fbnode_gnutls	 g;
	struct fbnode_mbedtls	 m;
	uint8_t			 k[LINK_SECRET_LEN];
	uint8_t			 buf[FBNODE_FRAME_MAX];
	struct fbnode_result	 res;
};

static void
secret(uint8_t k[LINK_SECRET_LEN])
{
	int i;

	for (i = 0; i < LINK_SECRET_LEN; i++)
		k[i] = (uint8_t)i;
}

static void
tnode_init(struct tnode *t, enum backend be, uint64_t eui,
    const struct fbnode_config *cfg)
{
	void *arg;

	memset(t, 0, sizeof(*t));
	secret(t->k);
	if (be == BE_GNUTLS) {
		fbnode_gnutls_init(&t->g, t->k);
		t->ops = fbnode_gnutls_ops;
		t->ops.random = test_rng;
		arg = &t->g;
	} else {
		fbnode_mbedtls_init(&t->m, t->k, test_rng, NULL);
		t->ops = fbnode_mbedtls_ops;
		arg = &t->m;
	}
	assert_int_equal(fbnode_init(&t->n, eui, &t->ops, arg, cfg), FBNODE_OK);
}

static void
tnode_done(struct tnode *t)
{
	fbnode_done(&t->n);
	fbnode_gnutls_done(&t->g);
	fbnode_mbedtls_done(&t->m);
}

/* ---- hex ---- */

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	return testutil_unhex(s, out, cap);
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	char buf[2 * FBNODE_FRAME_MAX + 1];

	assert_true(len <= FBNODE_FRAME_MAX);
	testutil_hex(got, len, buf);
	assert_string_equal(buf, want);
}

/* ---- the spec's vectors, through each back-end ---- */

#define V_HELLO		"1170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define V_HELLO2_1	"2170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" \
			"00000001e9a153222e392476e57429394038c229"
#define V_HELLO2_N	"2170b3d57ed0001001a0a1a2a3a4a5a6a7a8a9aaabacadaeaf" \
			"01020304949b41053fbf6c5c8b89171ce7b6fe45"
#define V_CHALLENGE	"1270b3d57ed0001001b0b1b2b3b4b5b6b7b8b9babbbcbdbebf" \
			"44cfffaadf667256d63590db6ba344cc"
#define V_RESPONSE	"1370b3d57ed0001001cc3090078d466cd2e7cc2a4be4911164"
#define V_ACCEPT	"151234567800000115b23de7610df8a827"
#define V_DATA_UP	"14123456780000019e3fc1436ab2ab1b70a48f9ee7072eac" \
			"701c37ec48a730c5"
#define V_DATA_UP_KA	"1c123456780000211aa56a84b90c9c141af729019c1a70e9" \
			"aee8404bbee8b998"
#define V_KEEPALIVE	"15123456780000026e6bba5968f4198de8"
#define V_COMMAND	"1512345678000003270b45c05cefa77b06fe9c8f54bb6a55"
#define V_ACK		"1612345678000002d521a046bb5898363e7119f90203"

/* A callback runs a command once; fbnode_input returns its ACK. */
static uint8_t
count_command(void *arg, uint8_t kind, const uint8_t *body, size_t len)
{
	(*(int *)arg)++;
	return kind == 7 && len == 4 && memcmp(body, "open", 4) == 0 ? 0 : 1;
}

/* Hand a frame to the node; its verdict. */
static int
node_in(struct tnode *t, const uint8_t *f, size_t len, uint32_t now)
{
	return fbnode_input(&t->n, f, len, now, t->buf, sizeof(t->buf),
	    &t->res);
}

/* A frame of the spec, in hex, to the node; its verdict. */
static int
vec_in(struct tnode *t, const char *hex, uint32_t now)
{
	uint8_t f[FBNODE_FRAME_MAX];

	return node_in(t, f, unhex(hex, f, sizeof(f)), now);
}

/* The spec's node (K 00..1f, Nn a0..af) after its first HELLO, a
 * version 2 one with join counter 1, which it must save first. */
static void
vec_start(struct tnode *t, enum backend be)
{
	rng_next = 0xa0;
	tnode_init(t, be, EUI, NULL);
	assert_int_equal(fbnode_join(&t->n, 0, t->buf, sizeof(t->buf),
	    &t->res), FBNODE_OK);
	assert_hex(t->res.tx, t->res.tx_len, V_HELLO2_1);
	assert_true(t->res.save_join);
	assert_int_equal(fbnode_join_counter_saved(&t->n), FBNODE_JOIN_STEP);
}

/* The other HELLO vectors: version 2 with counter 01020304 (the node
 * restored 01020303), and version 1 for a hello_v1 node. */
static void
hello_vectors(enum backend be)
{
	struct fbnode_config cfg = { 0 };
	struct tnode t;

	rng_next = 0xa0;
	tnode_init(&t, be, EUI, NULL);
	fbnode_set_join_counter(&t.n, 0x01020303u);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_HELLO2_N);
	assert_true(t.res.save_join);
	assert_int_equal(fbnode_join_counter_saved(&t.n),
	    0x01020304u + FBNODE_JOIN_STEP - 1);
	/* Within the reservation: nothing to save. */
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_false(t.res.save_join);
	tnode_done(&t);

	rng_next = 0xa0;
	cfg.hello_v1 = 1;
	tnode_init(&t, be, EUI, &cfg);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_HELLO);
	assert_false(t.res.save_join);
	tnode_done(&t);
}

static void
vectors(enum backend be)
{
	static const uint8_t rec[] = "fieldbridge test";
	struct tnode t;

	vec_start(&t, be);
	assert_int_equal(vec_in(&t, V_CHALLENGE, 1), FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_RESPONSE);
	assert_int_equal(fbnode_state(&t.n), FBNODE_WAIT_ACCEPT);
	assert_hex(t.n.up, 16, "4051f9fab2febaf9619b13008276d0fb");
	assert_hex(t.n.down, 16, "a227bb640f001f548e44552ba412b73b");
	assert_int_equal(vec_in(&t, V_ACCEPT, 2), FBNODE_OK);
	assert_int_equal(t.res.kind, FBNODE_DOWN_ACCEPT);
	assert_int_equal(t.res.tx_len, 0);
	assert_int_equal(fbnode_state(&t.n), FBNODE_JOINED);
	assert_int_equal(fbnode_sid(&t.n), SID);
	assert_int_equal(fbnode_send(&t.n, rec, 16, t.buf, sizeof(t.buf),
	    &t.res), FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_DATA_UP);
	assert_false(t.res.keepalive_req);
	/* Uplinks 2..32 without a downlink: the 33rd asks. */
	t.n.fcnt_up = 32;
	t.n.silent = 32;
	assert_int_equal(fbnode_send(&t.n, rec, 16, t.buf, sizeof(t.buf),
	    &t.res), FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_DATA_UP_KA);
	assert_true(t.res.keepalive_req);
	assert_int_equal(vec_in(&t, V_KEEPALIVE, 3), FBNODE_OK);
	assert_int_equal(t.res.kind, FBNODE_DOWN_KEEPALIVE);
	assert_int_equal(fbnode_silent(&t.n), 0);
	/* The COMMAND (kind 7, ref 1, "open", down fcnt 3) and its ACK as
	 * up fcnt 2. */
	assert_int_equal(vec_in(&t, V_COMMAND, 4), FBNODE_OK);
	assert_int_equal(t.res.kind, FBNODE_DOWN_COMMAND);
	assert_int_equal(t.res.cmd_kind, 7);
	assert_int_equal(t.res.cmd_ref, 1);
	assert_int_equal(t.res.body_len, 4);
	assert_memory_equal(t.res.body, "open", 4);
	t.n.fcnt_up = 1;
	assert_int_equal(fbnode_ack(&t.n, t.res.fcnt, t.res.cmd_ref, 0, t.buf,
	    sizeof(t.buf), &t.res), FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_ACK);
	tnode_done(&t);
}

/* The same through the command callback: run once, the ACK returned to
 * transmit, and a repeat acknowledged again without a second run. */
static void
command_callback(enum backend be)
{
	struct tnode t;
	int runs = 0, i;

	vec_start(&t, be);
	assert_int_equal(vec_in(&t, V_CHALLENGE, 1), FBNODE_OK);
	assert_int_equal(vec_in(&t, V_ACCEPT, 2), FBNODE_OK);
	t.n.command = count_command;
	t.n.command_arg = &runs;
	for (i = 0; i < 2; i++) {
		/* Heard again with a new counter, as a resend would be. */
		t.n.fcnt_down = 2;
		t.n.fcnt_up = 1;
		assert_int_equal(vec_in(&t, V_COMMAND, 3), FBNODE_OK);
		assert_int_equal(t.res.kind, FBNODE_DOWN_COMMAND);
		assert_int_equal(t.res.repeat, i);
		assert_hex(t.res.tx, t.res.tx_len, V_ACK);
		assert_int_equal(runs, 1);
	}
	tnode_done(&t);
}

static void
test_command_callback(void **state)
{
	(void)state;
	command_callback(BE_GNUTLS);
	command_callback(BE_MBEDTLS);
}

static void
test_vectors_gnutls(void **state)
{
	vectors(BE_GNUTLS);
	hello_vectors(BE_GNUTLS);
}

static void
test_vectors_mbedtls(void **state)
{
	vectors(BE_MBEDTLS);
	hello_vectors(BE_MBEDTLS);
}

/* A CHALLENGE whose Tg is one bit off is ignored, and the right one is
 * still answered: a rogue gateway cannot cut the handshake short. */
static void
rogue_challenge(enum backend be)
{
	uint8_t f[FBNODE_FRAME_MAX];
	struct tnode t;
	size_t len;

	vec_start(&t, be);
	len = unhex(V_CHALLENGE, f, sizeof(f));
	f[len - 1] ^= 0x01;
	assert_int_equal(node_in(&t, f, len, 1), FBNODE_DROP_PROOF);
	assert_int_equal(t.res.tx_len, 0);
	assert_int_equal(fbnode_state(&t.n), FBNODE_WAIT_CHALLENGE);
	assert_int_equal(vec_in(&t, V_CHALLENGE, 1), FBNODE_OK);
	assert_hex(t.res.tx, t.res.tx_len, V_RESPONSE);
	tnode_done(&t);
}

static void
test_rogue_challenge_ignored(void **state)
{
	rogue_challenge(BE_GNUTLS);
	rogue_challenge(BE_MBEDTLS);
}

/* ---- against the real gateway ---- */

struct gw {
	struct registry		*reg;
	struct ident		*id;
	struct ident_out	 out;
	uint64_t		 now;
};

static void
gw_init(struct gw *g)
{
	char err[128];

	memset(g, 0, sizeof(*g));
	assert_int_equal(registry_load_mem("d", devs, strlen(devs), "k", keys,
	    strlen(keys), &g->reg, err, sizeof(err)), 0);
	assert_non_null(g->id = ident_new(g->reg));
	g->now = 1000;
}

/* The gateway restarts: every session is forgotten. */
static void
gw_restart(struct gw *g)
{
	ident_free(g->id);
	assert_non_null(g->id = ident_new(g->reg));
}

static void
gw_done(struct gw *g)
{
	ident_free(g->id);
	registry_free(g->reg);
}

/* Hand the node's frame to the gateway; its verdict. */
static int
gw_in(struct gw *g, const struct fbnode_result *res)
{
	assert_true(res->tx_len > 0);
	g->now += 100;
	return ident_input(g->id, res->tx, res->tx_len, g->now, &g->out);
}

/* A whole handshake; the session's keys (for forging) in ks. */
static void
join(struct tnode *t, struct gw *g, struct link_session_keys *ks)
{
	uint8_t chal[LINK_FRAME_MAX], nn[LINK_NONCE_LEN];
	struct link_msg m;
	size_t clen;

	assert_int_equal(fbnode_join(&t->n, (uint32_t)g->now, t->buf,
	    sizeof(t->buf), &t->res), FBNODE_OK);
	memcpy(nn, rng_last, sizeof(nn));
	assert_int_equal(gw_in(g, &t->res), IDENT_OK);
	assert_int_equal(g->out.action, IDENT_REPLY);
	clen = g->out.reply_len;
	memcpy(chal, g->out.reply, clen);
	assert_int_equal(node_in(t, chal, clen, (uint32_t)g->now), FBNODE_OK);
	assert_int_equal(gw_in(g, &t->res), IDENT_OK);
	assert_int_equal(node_in(t, g->out.reply, g->out.reply_len,
	    (uint32_t)g->now), FBNODE_OK);
	assert_int_equal(t->res.kind, FBNODE_DOWN_ACCEPT);
	assert_int_equal(fbnode_state(&t->n), FBNODE_JOINED);
	if (ks != NULL) {
		assert_int_equal(link_parse(chal, clen, &m), LINK_OK);
		assert_int_equal(link_session_derive(t->k, t->n.eui, nn,
		    m.nonce, ks), 0);
		ks->sid = fbnode_sid(&t->n);
	}
}

/* One record up; the gateway's verdict.  The payload names the counter. */
static int
send_one(struct tnode *t, struct gw *g)
{
	uint8_t pl[4];
	int r;

	pl[0] = 'r';
	pl[1] = (uint8_t)(t->n.fcnt_up >> 16);
	pl[2] = (uint8_t)(t->n.fcnt_up >> 8);
	pl[3] = (uint8_t)t->n.fcnt_up;
	r = fbnode_send(&t->n, pl, sizeof(pl), t->buf, sizeof(t->buf),
	    &t->res);
	if (r != FBNODE_OK)
		return 1000 + r;
	r = gw_in(g, &t->res);
	if (r == IDENT_OK) {
		assert_int_equal(g->out.action, IDENT_RECORD);
		assert_int_equal(g->out.fcnt, t->res.fcnt);
		assert_memory_equal(g->out.payload, pl, sizeof(pl));
	}
	return r;
}

static void
handshake_and_data(enum backend be)
{
	struct tnode t;
	struct gw g;
	int i;

	gw_init(&g);
	tnode_init(&t, be, EUI, NULL);
	join(&t, &g, NULL);
	for (i = 0; i < 5; i++)
		assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(fbnode_fcnt_up(&t.n), 5);
	tnode_done(&t);
	gw_done(&g);
}

static void
test_handshake_and_data_against_gateway(void **state)
{
	handshake_and_data(BE_GNUTLS);
	handshake_and_data(BE_MBEDTLS);
}

/* The CHALLENGE never arrives: the node gives up at its deadline, not
 * before, and a new HELLO (new Nn) joins. */
static void
test_lost_challenge_times_out_and_rejoins(void **state)
{
	struct fbnode_config cfg = { 0 };
	struct tnode t;
	struct gw g;
	uint32_t t0;

	gw_init(&g);
	cfg.handshake_timeout_ms = 3000;
	tnode_init(&t, BE_GNUTLS, EUI, &cfg);
	t0 = 0xfffff000u;	/* the caller's clock wraps meanwhile */
	assert_int_equal(fbnode_join(&t.n, t0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);	/* CHALLENGE lost */
	assert_int_equal(fbnode_tick(&t.n, t0 + 2999), 0);
	assert_int_equal(fbnode_state(&t.n), FBNODE_WAIT_CHALLENGE);
	assert_int_equal(fbnode_tick(&t.n, t0 + 3000), 1);
	assert_int_equal(fbnode_state(&t.n), FBNODE_IDLE);
	assert_int_equal(fbnode_tick(&t.n, t0 + 9000), 0);
	join(&t, &g, NULL);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	tnode_done(&t);
	gw_done(&g);
}

/* The ACCEPT never arrives: the node times out in WAIT_ACCEPT and joins
 * again; the gateway's unused session is superseded, the new one works. */
static void
test_lost_accept_times_out_and_rejoins(void **state)
{
	struct tnode t;
	struct gw g;
	uint32_t t0 = 500;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	assert_int_equal(fbnode_join(&t.n, t0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	assert_int_equal(node_in(&t, g.out.reply, g.out.reply_len, t0 + 10),
	    FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);	/* ACCEPT lost */
	assert_int_equal(fbnode_state(&t.n), FBNODE_WAIT_ACCEPT);
	assert_int_equal(fbnode_send(&t.n, (const uint8_t *)"x", 1, t.buf,
	    sizeof(t.buf), &t.res), FBNODE_ERR_STATE);
	assert_int_equal(fbnode_tick(&t.n, t0 + 10 +
	    FBNODE_HANDSHAKE_TIMEOUT_MS - 1), 0);
	assert_int_equal(fbnode_tick(&t.n, t0 + 10 +
	    FBNODE_HANDSHAKE_TIMEOUT_MS), 1);
	join(&t, &g, NULL);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	tnode_done(&t);
	gw_done(&g);
}

/* A downlink heard twice is acted on once: the ACCEPT, a KEEPALIVE and a
 * COMMAND. */
static void
test_duplicate_downlinks_dropped(void **state)
{
	uint8_t acc[LINK_FRAME_MAX], ka[LINK_FRAME_MAX], cmd[LINK_FRAME_MAX];
	uint8_t body[LINK_PAYLOAD_MAX], ack[FBNODE_ACK_LEN];
	size_t acc_len, ka_len, cmd_len;
	uint32_t cmd_fcnt;
	struct tnode t;
	struct gw g;
	int i;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	assert_int_equal(node_in(&t, g.out.reply, g.out.reply_len, 1),
	    FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	acc_len = g.out.reply_len;
	memcpy(acc, g.out.reply, acc_len);
	assert_int_equal(node_in(&t, acc, acc_len, 2), FBNODE_OK);
	assert_int_equal(node_in(&t, acc, acc_len, 3), FBNODE_DROP_REPLAY);
	assert_int_equal(t.res.kind, FBNODE_DOWN_NONE);
	/* Silent until the node asks; the gateway answers. */
	for (i = 0; i < FBNODE_KEEPALIVE_REQ_UPLINKS; i++) {
		assert_int_equal(send_one(&t, &g), IDENT_OK);
		assert_false(t.res.keepalive_req);
	}
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_true(t.res.keepalive_req);
	assert_true(g.out.reply_len > 0);
	ka_len = g.out.reply_len;
	memcpy(ka, g.out.reply, ka_len);
	assert_int_equal(node_in(&t, ka, ka_len, 4), FBNODE_OK);
	assert_int_equal(t.res.kind, FBNODE_DOWN_KEEPALIVE);
	assert_int_equal(fbnode_silent(&t.n), 0);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(node_in(&t, ka, ka_len, 5), FBNODE_DROP_REPLAY);
	assert_int_equal(fbnode_silent(&t.n), 1);
	/* A command, twice. */
	assert_int_equal(link_command_encode(7, 42, (const uint8_t *)"open",
	    4, body, sizeof(body)), 7);
	assert_true(ident_downlink(g.id, EUI, body, 7, &g.out) > 0);
	cmd_len = g.out.reply_len;
	cmd_fcnt = g.out.fcnt;
	memcpy(cmd, g.out.reply, cmd_len);
	assert_int_equal(node_in(&t, cmd, cmd_len, 6), FBNODE_OK);
	assert_int_equal(t.res.kind, FBNODE_DOWN_COMMAND);
	assert_int_equal(t.res.cmd_kind, 7);
	assert_int_equal(t.res.cmd_ref, 42);
	assert_int_equal(t.res.repeat, 0);
	assert_int_equal(t.res.fcnt, cmd_fcnt);
	assert_int_equal(t.res.body_len, 4);
	assert_memory_equal(t.res.body, "open", 4);
	assert_int_equal(node_in(&t, cmd, cmd_len, 7), FBNODE_DROP_REPLAY);
	assert_int_equal(t.res.kind, FBNODE_DOWN_NONE);
	/* Its ACK, as the gateway sees it; replayed and forged ones fail. */
	assert_int_equal(fbnode_ack(&t.n, cmd_fcnt, 42, 5, ack, sizeof(ack),
	    &t.res), FBNODE_OK);
	assert_int_equal(t.res.tx_len, FBNODE_ACK_LEN);
	assert_int_equal(ident_input(g.id, ack, FBNODE_ACK_LEN, 8, &g.out),
	    IDENT_OK);
	assert_int_equal(g.out.action, IDENT_ACK);
	assert_int_equal(g.out.ack.down_fcnt, cmd_fcnt);
	assert_int_equal(g.out.ack.ref, 42);
	assert_int_equal(g.out.ack.status, 5);
	assert_int_equal(ident_input(g.id, ack, FBNODE_ACK_LEN, 9, &g.out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(fbnode_ack(&t.n, cmd_fcnt, 42, 0, ack, sizeof(ack),
	    &t.res), FBNODE_OK);
	ack[FBNODE_ACK_LEN - 1] ^= 1;
	assert_int_equal(ident_input(g.id, ack, FBNODE_ACK_LEN, 10, &g.out),
	    IDENT_DROP_BAD_TAG);
	/* The same command sent again (its ACK lost): a repeat, with the
	 * status given before. */
	assert_true(ident_downlink(g.id, EUI, body, 7, &g.out) > 0);
	assert_int_equal(node_in(&t, g.out.reply, g.out.reply_len, 11),
	    FBNODE_OK);
	assert_int_equal(t.res.repeat, 1);
	assert_int_equal(t.res.cmd_status, 0);
	tnode_done(&t);
	gw_done(&g);
}

/* The gateway restarts and forgets the session: the node asks from the
 * 33rd silent uplink on and gives up after the 48th, then joins again. */
static void
test_silent_gateway_makes_node_rejoin(void **state)
{
	struct tnode t;
	struct gw g;
	int i;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	join(&t, &g, NULL);
	gw_restart(&g);
	for (i = 0; i < FBNODE_REJOIN_SILENT_UPLINKS; i++) {
		assert_int_equal(send_one(&t, &g), IDENT_DROP_NO_SESSION);
		assert_int_equal(t.res.keepalive_req,
		    i >= FBNODE_KEEPALIVE_REQ_UPLINKS);
	}
	assert_int_equal(send_one(&t, &g), 1000 + FBNODE_ERR_REJOIN);
	assert_int_equal(fbnode_state(&t.n), FBNODE_IDLE);
	join(&t, &g, NULL);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	tnode_done(&t);
	gw_done(&g);
}

/* At the last counter the session ends; the node never wraps. */
static void
test_counter_exhaustion_forces_rejoin(void **state)
{
	struct tnode t;
	struct gw g;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	join(&t, &g, NULL);
	t.n.fcnt_up = FBNODE_FCNT_MAX - 2;
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(t.res.fcnt, FBNODE_FCNT_MAX);
	assert_int_equal(send_one(&t, &g), 1000 + FBNODE_ERR_REJOIN);
	assert_int_equal(fbnode_state(&t.n), FBNODE_IDLE);
	assert_int_equal(fbnode_sid(&t.n), 0);
	join(&t, &g, NULL);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(t.res.fcnt, 1);
	tnode_done(&t);
	gw_done(&g);
}

/*
 * Persisting: the firmware stores fbnode_save() whenever a result says
 * so, before transmitting.  A node reset at any point after that resumes
 * its session above every counter it may have used (no CCM nonce is used
 * twice), and the gateway accepts it without a new handshake.
 */
static void
reset_with_saved_session(enum backend be)
{
	struct fbnode_config cfg = { 0 };
	uint8_t saved[FBNODE_SAVED_LEN];
	struct tnode t;
	struct gw g;
	uint32_t sid, top;
	int i, saves = 0;

	gw_init(&g);
	cfg.persist = 1;
	cfg.persist_step = 16;
	tnode_init(&t, be, EUI, &cfg);
	join(&t, &g, NULL);
	assert_true(t.res.persist);	/* the ACCEPT: a new session */
	assert_int_equal(fbnode_save(&t.n, saved), FBNODE_OK);
	sid = fbnode_sid(&t.n);
	for (i = 0; i < 40; i++) {
		assert_int_equal(send_one(&t, &g), IDENT_OK);
		if (t.res.persist) {
			assert_int_equal(fbnode_save(&t.n, saved), FBNODE_OK);
			saves++;
		}
	}
	/* Saved before uplinks 1, 17 and 33: once per step. */
	assert_int_equal(saves, 3);
	top = fbnode_fcnt_up(&t.n);
	tnode_done(&t);		/* the reset: RAM is gone */

	tnode_init(&t, be, EUI, &cfg);
	assert_int_equal(fbnode_state(&t.n), FBNODE_IDLE);
	assert_int_equal(fbnode_restore(&t.n, saved, sizeof(saved)),
	    FBNODE_OK);
	assert_int_equal(fbnode_state(&t.n), FBNODE_JOINED);
	assert_int_equal(fbnode_sid(&t.n), sid);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_true(t.res.fcnt > top);
	assert_int_equal(t.res.fcnt, 49);	/* past the reservation 33..48 */
	assert_true(t.res.persist);		/* a new reservation */
	tnode_done(&t);
	gw_done(&g);
}

static void
test_reset_with_saved_session_resumes_above_counters(void **state)
{
	reset_with_saved_session(BE_GNUTLS);
	reset_with_saved_session(BE_MBEDTLS);
}

/* Without a saved session a reset node is IDLE and joins: new keys, so
 * its counters may start at 1 again; the old session is stale. */
static void
test_reset_without_saved_session_joins(void **state)
{
	struct link_session_keys old;
	uint8_t f[LINK_FRAME_MAX];
	struct tnode t;
	struct gw g;
	int i, len;

	uint32_t jc;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	join(&t, &g, &old);
	for (i = 0; i < 3; i++)
		assert_int_equal(send_one(&t, &g), IDENT_OK);
	/* The join counter is kept even by a node that keeps nothing
	 * else. */
	jc = fbnode_join_counter_saved(&t.n);
	tnode_done(&t);

	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	fbnode_set_join_counter(&t.n, jc);
	assert_int_equal(fbnode_send(&t.n, (const uint8_t *)"x", 1, t.buf,
	    sizeof(t.buf), &t.res), FBNODE_ERR_STATE);
	join(&t, &g, NULL);
	assert_true(fbnode_sid(&t.n) != old.sid);
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	assert_int_equal(t.res.fcnt, 1);
	len = link_seal(&old, LINK_DIR_UP, 4, (const uint8_t *)"x", 1, f,
	    sizeof(f));
	assert_true(len > 0);
	assert_int_equal(ident_input(g.id, f, (size_t)len, g.now, &g.out),
	    IDENT_DROP_STALE);
	tnode_done(&t);
	gw_done(&g);
}

/* A node that loses its join counter (the contract broken) is refused
 * as a replay until its counter climbs above the gateway's; a version 1
 * node of another EUI joins the same gateway; and once an EUI joined with
 * version 2, a version 1 HELLO in its name is refused (downgrade). */
static void
test_join_counter_lost_refused_v1_still_joins(void **state)
{
	struct fbnode_config v1 = { 0 };
	struct tnode t, old;
	struct gw g;

	gw_init(&g);
	tnode_init(&t, BE_MBEDTLS, EUI, NULL);
	join(&t, &g, NULL);
	tnode_done(&t);
	tnode_init(&t, BE_MBEDTLS, EUI, NULL);		/* counter lost */
	assert_int_equal(fbnode_join(&t.n, (uint32_t)g.now, t.buf,
	    sizeof(t.buf), &t.res), FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_DROP_REPLAY);
	assert_int_equal(g.out.reply_len, 0);
	tnode_done(&t);

	v1.hello_v1 = 1;
	tnode_init(&old, BE_GNUTLS, EUI2, &v1);
	join(&old, &g, NULL);
	assert_int_equal(send_one(&old, &g), IDENT_OK);
	tnode_done(&old);
	tnode_init(&old, BE_GNUTLS, EUI, &v1);
	assert_int_equal(fbnode_join(&old.n, (uint32_t)g.now, old.buf,
	    sizeof(old.buf), &old.res), FBNODE_OK);
	assert_int_equal(gw_in(&g, &old.res), IDENT_DROP_DOWNGRADE);
	assert_int_equal(g.out.reply_len, 0);
	tnode_done(&old);
	gw_done(&g);
}

/* What restore refuses: a flipped bit, a short copy, another node's copy,
 * and the record saved while joining (no session). */
static void
test_restore_refuses_bad_saved_state(void **state)
{
	struct fbnode_config cfg = { 0 };
	uint8_t saved[FBNODE_SAVED_LEN], bad[FBNODE_SAVED_LEN];
	struct tnode t, other;
	struct gw g;
	size_t i;

	gw_init(&g);
	cfg.persist = 1;
	tnode_init(&t, BE_GNUTLS, EUI, &cfg);
	join(&t, &g, NULL);
	assert_int_equal(fbnode_save(&t.n, saved), FBNODE_OK);
	for (i = 0; i < sizeof(saved); i++) {
		memcpy(bad, saved, sizeof(bad));
		bad[i] ^= 0x10;
		assert_int_equal(fbnode_restore(&t.n, bad, sizeof(bad)),
		    FBNODE_ERR_SAVED);
		assert_int_equal(fbnode_state(&t.n), FBNODE_JOINED);
	}
	assert_int_equal(fbnode_restore(&t.n, saved, sizeof(saved) - 1),
	    FBNODE_ERR_SAVED);
	tnode_init(&other, BE_GNUTLS, EUI2, &cfg);	/* same K, other EUI */
	assert_int_equal(fbnode_restore(&other.n, saved, sizeof(saved)),
	    FBNODE_ERR_SAVED);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_true(t.res.persist);
	assert_int_equal(fbnode_save(&t.n, saved), FBNODE_OK);
	assert_int_equal(fbnode_restore(&other.n, saved, sizeof(saved)),
	    FBNODE_ERR_SAVED);
	tnode_init(&other, BE_GNUTLS, EUI, &cfg);
	assert_int_equal(fbnode_restore(&other.n, saved, sizeof(saved)),
	    FBNODE_ERR_SAVED);
	assert_int_equal(fbnode_state(&other.n), FBNODE_IDLE);
	tnode_done(&other);
	tnode_done(&t);
	gw_done(&g);
}

/* Feed one frame that must be dropped with want, leaving the node as it
 * was and producing nothing. */
static void
drop(struct tnode *t, const uint8_t *f, size_t len, int want)
{
	struct fbnode before = t->n;

	assert_int_equal(node_in(t, f, len, 9), want);
	assert_int_equal(t->res.tx_len, 0);
	assert_int_equal(t->res.kind, FBNODE_DOWN_NONE);
	assert_memory_equal(&before, &t->n, sizeof(before));
}

/* A downlink sealed with the session's down key, as a gateway could. */
static size_t
seal_down(const struct link_session_keys *ks, uint32_t sid, uint32_t fcnt,
    const uint8_t *plain, size_t len, uint8_t *f)
{
	struct link_session_keys k = *ks;
	int n;

	k.sid = sid;
	n = link_seal(&k, LINK_DIR_DOWN, fcnt, plain, len, f, LINK_FRAME_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

static void
test_every_malformed_downlink_dropped(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX + 2], p[LINK_FRAME_MAX], tg[LINK_PROOF_LEN];
	uint8_t ng[LINK_NONCE_LEN];
	struct tnode t;
	struct gw g;
	size_t len;
	unsigned int h;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	join(&t, &g, &ks);
	assert_int_equal(send_one(&t, &g), IDENT_OK);

	/* Envelope. */
	drop(&t, f, 0, FBNODE_DROP_SHORT);
	memset(f, 0, sizeof(f));
	for (h = 0; h < 256; h++) {
		f[0] = (uint8_t)h;
		if (h >> 4 == 2) {
			/* Version 2 is the HELLO alone. */
			drop(&t, f, 41, h == 0x21 ? FBNODE_DROP_LENGTH :
			    FBNODE_DROP_TYPE);
			continue;
		}
		if (h >> 4 != 1) {
			drop(&t, f, 41, FBNODE_DROP_VERSION);
			continue;
		}
		switch (h & 0x0f) {
		case 1: case 2: case 3: case 4: case 5: case 0x0c:
			break;
		case 6:		/* an ACK of 41 bytes: a node's, and the
				 * wrong size */
			drop(&t, f, 41, FBNODE_DROP_LENGTH);
			drop(&t, f, FBNODE_ACK_LEN, FBNODE_DROP_DIRECTION);
			break;
		default:	/* 0, 7..11, 13..15: and the flag bit on
				 * HELLO, CHALLENGE, RESPONSE, DATA_DOWN */
			drop(&t, f, 41, FBNODE_DROP_TYPE);
		}
	}
	/* Sizes: the fixed ones off by one, data frames out of bounds. */
	f[0] = 0x12;
	drop(&t, f, FBNODE_CHALLENGE_LEN - 1, FBNODE_DROP_LENGTH);
	drop(&t, f, FBNODE_CHALLENGE_LEN + 1, FBNODE_DROP_LENGTH);
	f[0] = 0x11;
	drop(&t, f, FBNODE_HELLO_LEN + 1, FBNODE_DROP_LENGTH);
	f[0] = 0x13;
	drop(&t, f, FBNODE_RESPONSE_LEN - 1, FBNODE_DROP_LENGTH);
	f[0] = 0x15;
	drop(&t, f, FBNODE_DATA_OVERHEAD - 1, FBNODE_DROP_LENGTH);
	drop(&t, f, FBNODE_FRAME_MAX + 1, FBNODE_DROP_LENGTH);
	/* A node's frames: another node, or our own echo. */
	f[0] = 0x11;
	drop(&t, f, FBNODE_HELLO_LEN, FBNODE_DROP_DIRECTION);
	f[0] = 0x21;
	drop(&t, f, FBNODE_HELLO2_LEN, FBNODE_DROP_DIRECTION);
	drop(&t, f, FBNODE_HELLO2_LEN - 1, FBNODE_DROP_LENGTH);
	drop(&t, f, FBNODE_HELLO2_LEN + 1, FBNODE_DROP_LENGTH);
	f[0] = 0x13;
	drop(&t, f, FBNODE_RESPONSE_LEN, FBNODE_DROP_DIRECTION);
	f[0] = 0x14;
	drop(&t, f, 20, FBNODE_DROP_DIRECTION);
	f[0] = 0x1c;
	drop(&t, f, 20, FBNODE_DROP_DIRECTION);
	/* A CHALLENGE for another EUI, and a right one out of turn. */
	memset(ng, 0x42, sizeof(ng));
	assert_int_equal(link_gw_proof(t.k, EUI2, rng_last, ng, tg), 0);
	len = (size_t)link_build_challenge(f, sizeof(f), EUI2, ng, tg);
	drop(&t, f, len, FBNODE_DROP_NOT_MINE);
	assert_int_equal(link_gw_proof(t.k, EUI, rng_last, ng, tg), 0);
	len = (size_t)link_build_challenge(f, sizeof(f), EUI, ng, tg);
	drop(&t, f, len, FBNODE_DROP_UNEXPECTED);
	/* Data down: another sid, a bad MIC, an old counter. */
	p[0] = FBNODE_DOWN_KEEPALIVE;
	len = seal_down(&ks, ks.sid + 1, 5, p, 1, f);
	drop(&t, f, len, FBNODE_DROP_NOT_MINE);
	len = seal_down(&ks, ks.sid, 5, p, 1, f);
	f[len - 1] ^= 0x80;
	drop(&t, f, len, FBNODE_DROP_MIC);
	f[len - 1] ^= 0x80;
	f[4] ^= 0x01;	/* the header is authenticated: sid changed */
	drop(&t, f, len, FBNODE_DROP_NOT_MINE);
	f[4] ^= 0x01;
	f[7] ^= 0x01;	/* ...and so is the counter */
	drop(&t, f, len, FBNODE_DROP_MIC);
	len = seal_down(&ks, ks.sid, 1, p, 1, f);
	drop(&t, f, len, FBNODE_DROP_REPLAY);
	/* Under the up key (a reflected uplink): the MIC fails. */
	{
		struct link_session_keys up = ks;

		memcpy(up.down, ks.up, sizeof(up.down));
		len = seal_down(&up, ks.sid, 6, p, 1, f);
		drop(&t, f, len, FBNODE_DROP_MIC);
	}
	/* Verified, fresh, but no body we understand: the counter moves
	 * (the gateway sent it) and nothing else happens. */
	len = seal_down(&ks, ks.sid, 7, p, 0, f);	/* empty */
	assert_int_equal(node_in(&t, f, len, 9), FBNODE_DROP_BODY);
	assert_int_equal(t.n.fcnt_down, 7);
	p[0] = FBNODE_DOWN_KEEPALIVE;
	p[1] = 0;
	len = seal_down(&ks, ks.sid, 8, p, 2, f);	/* keepalive + byte */
	assert_int_equal(node_in(&t, f, len, 9), FBNODE_DROP_BODY);
	p[0] = FBNODE_DOWN_ACCEPT;
	len = seal_down(&ks, ks.sid, 9, p, 1, f);	/* a second ACCEPT */
	assert_int_equal(node_in(&t, f, len, 9), FBNODE_DROP_BODY);
	assert_int_equal(fbnode_sid(&t.n), ks.sid);
	p[0] = 0x7f;
	len = seal_down(&ks, ks.sid, 10, p, 1, f);	/* unknown kind */
	assert_int_equal(node_in(&t, f, len, 9), FBNODE_DROP_BODY);
	assert_int_equal(t.res.kind, FBNODE_DOWN_NONE);
	/* A buffer too small for the plaintext is refused, not overrun. */
	p[0] = FBNODE_DOWN_COMMAND;
	memset(p + 1, 'c', 100);
	len = seal_down(&ks, ks.sid, 11, p, 101, f);
	assert_int_equal(fbnode_input(&t.n, f, len, 9, t.buf, 100, &t.res),
	    FBNODE_ERR_BUFFER);
	assert_int_equal(node_in(&t, f, len, 9), FBNODE_OK);
	assert_int_equal(t.res.body_len, 100 - 3);	/* kind, ref */
	/* Still in its session. */
	assert_int_equal(send_one(&t, &g), IDENT_OK);
	tnode_done(&t);
	gw_done(&g);
}

/* While waiting for the ACCEPT: a downlink under the new key that is not
 * an ACCEPT proves nothing; a DATA_DOWN before any handshake, and one
 * under another key, are dropped. */
static void
test_wait_accept_wants_an_accept(void **state)
{
	struct link_session_keys ks;
	uint8_t f[LINK_FRAME_MAX], p[4], nn[LINK_NONCE_LEN];
	struct link_msg m;
	struct tnode t;
	struct gw g;
	size_t len;

	gw_init(&g);
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	memset(&ks, 0x33, sizeof(ks));
	p[0] = FBNODE_DOWN_ACCEPT;
	len = seal_down(&ks, 7, 1, p, 1, f);
	drop(&t, f, len, FBNODE_DROP_UNEXPECTED);	/* IDLE */
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	memcpy(nn, rng_last, sizeof(nn));
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	assert_int_equal(link_parse(g.out.reply, g.out.reply_len, &m),
	    LINK_OK);
	assert_int_equal(link_session_derive(t.k, EUI, nn, m.nonce, &ks), 0);
	drop(&t, g.out.reply + 0, 0, FBNODE_DROP_SHORT);
	assert_int_equal(node_in(&t, g.out.reply, g.out.reply_len, 1),
	    FBNODE_OK);
	/* A second copy of the CHALLENGE is not answered again. */
	drop(&t, g.out.reply, g.out.reply_len, FBNODE_DROP_UNEXPECTED);
	p[0] = FBNODE_DOWN_KEEPALIVE;
	len = seal_down(&ks, 9, 2, p, 1, f);
	drop(&t, f, len, FBNODE_DROP_BODY);
	p[0] = FBNODE_DOWN_ACCEPT;
	memset(&ks.down, 0x44, sizeof(ks.down));
	len = seal_down(&ks, 9, 1, p, 1, f);
	drop(&t, f, len, FBNODE_DROP_MIC);
	assert_int_equal(fbnode_state(&t.n), FBNODE_WAIT_ACCEPT);
	tnode_done(&t);
	gw_done(&g);
}

static void
test_api_limits(void **state)
{
	struct fbnode_config cfg = { 0 };
	struct fbnode n;
	struct fbnode_crypto_ops none = { 0 };
	struct tnode t;
	struct gw g;
	uint8_t big[FBNODE_PAYLOAD_MAX + 1];

	assert_int_equal(fbnode_init(&n, EUI, &none, NULL, NULL),
	    FBNODE_ERR_ARG);
	cfg.keepalive_req_uplinks = 10;
	cfg.rejoin_silent_uplinks = 10;
	tnode_init(&t, BE_GNUTLS, EUI, NULL);
	assert_int_equal(fbnode_init(&n, EUI, &t.ops, &t.g, &cfg),
	    FBNODE_ERR_ARG);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, FBNODE_HELLO2_LEN - 1,
	    &t.res), FBNODE_ERR_BUFFER);
	/* A back-end without mac_key makes only version 1 nodes. */
	none = t.ops;
	none.mac_key = NULL;
	assert_int_equal(fbnode_init(&n, EUI, &none, &t.g, NULL),
	    FBNODE_ERR_ARG);
	cfg.keepalive_req_uplinks = 0;
	cfg.rejoin_silent_uplinks = 0;
	cfg.hello_v1 = 1;
	assert_int_equal(fbnode_init(&n, EUI, &none, &t.g, &cfg), FBNODE_OK);
	assert_int_equal(fbnode_join(&n, 0, t.buf, FBNODE_HELLO_LEN, &t.res),
	    FBNODE_OK);
	/* The last join counter: the node needs a new secret. */
	fbnode_set_join_counter(&t.n, 0xffffffffu);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_ERR_COUNTER);
	fbnode_set_join_counter(&t.n, 0xfffffffeu);
	assert_int_equal(fbnode_join(&t.n, 0, t.buf, sizeof(t.buf), &t.res),
	    FBNODE_OK);
	assert_int_equal(fbnode_join_counter_saved(&t.n), 0xffffffffu);
	fbnode_set_join_counter(&t.n, 0);
	gw_init(&g);
	join(&t, &g, NULL);
	memset(big, 0, sizeof(big));
	assert_int_equal(fbnode_send(&t.n, big, sizeof(big), t.buf,
	    sizeof(t.buf), &t.res), FBNODE_ERR_SIZE);
	assert_int_equal(fbnode_send(&t.n, big, 10, t.buf, 25, &t.res),
	    FBNODE_ERR_BUFFER);
	assert_int_equal(fbnode_fcnt_up(&t.n), 0);	/* nothing spent */
	assert_int_equal(fbnode_send(&t.n, big, sizeof(big) - 1, t.buf,
	    sizeof(t.buf), &t.res), FBNODE_OK);
	assert_int_equal(t.res.tx_len, FBNODE_FRAME_MAX);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	assert_int_equal(fbnode_send(&t.n, NULL, 0, t.buf, sizeof(t.buf),
	    &t.res), FBNODE_OK);
	assert_int_equal(gw_in(&g, &t.res), IDENT_OK);
	assert_string_equal(fbnode_strerror(FBNODE_DROP_MIC),
	    "authentication failed");
	assert_string_equal(fbnode_strerror(-99), "unknown libfbnode result");
	tnode_done(&t);
	gw_done(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_gnutls),
		cmocka_unit_test(test_vectors_mbedtls),
		cmocka_unit_test(test_command_callback),
		cmocka_unit_test(test_rogue_challenge_ignored),
		cmocka_unit_test(test_handshake_and_data_against_gateway),
		cmocka_unit_test(test_lost_challenge_times_out_and_rejoins),
		cmocka_unit_test(test_lost_accept_times_out_and_rejoins),
		cmocka_unit_test(test_duplicate_downlinks_dropped),
		cmocka_unit_test(test_silent_gateway_makes_node_rejoin),
		cmocka_unit_test(test_counter_exhaustion_forces_rejoin),
		cmocka_unit_test(test_reset_with_saved_session_resumes_above_counters),
		cmocka_unit_test(test_reset_without_saved_session_joins),
		cmocka_unit_test(test_restore_refuses_bad_saved_state),
		cmocka_unit_test(test_join_counter_lost_refused_v1_still_joins),
		cmocka_unit_test(test_every_malformed_downlink_dropped),
		cmocka_unit_test(test_wait_accept_wants_an_accept),
		cmocka_unit_test(test_api_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
