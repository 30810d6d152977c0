/*
 * test_ident.c - the gateway's state machine against nodes played by the
 * test with link.c's functions: full handshake, every drop verdict, replays
 * of each frame kind, stale sessions, expired challenges, revocation, rate
 * limits, registry reloads, and the token bucket itself; version 2
 * HELLOs: forged, replayed, across restarts, downgrades, malformed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/ident.h"
#include "policy/rate.h"

#define EUI_A	0x70B3D57ED0000001ULL
#define EUI_B	0x70B3D57ED0000002ULL
#define EUI_R	0x70B3D57ED0000003ULL	/* revoked */
#define EUI_X	0x70B3D57ED00000FFULL	/* not registered */
#define KA	"0101010101010101010101010101010101010101010101010101010101010101"
#define KB	"0202020202020202020202020202020202020202020202020202020202020202"

static const char devs[] =
    "devices = (\n"
    "  { id = \"70B3D57ED0000001\"; name = \"a\"; stream = \"cattle\"; },\n"
    "  { id = \"70B3D57ED0000002\"; name = \"b\"; stream = \"water\"; },\n"
    "  { id = \"70B3D57ED0000003\"; name = \"r\"; stream = \"water\";\n"
    "    revoked = true; }\n"
    ");\n";
static const char keys[] =
    "keys = (\n"
    "  { id = \"70B3D57ED0000001\"; secret = \"" KA "\"; },\n"
    "  { id = \"70B3D57ED0000002\"; secret = \"" KB "\"; },\n"
    "  { id = \"70B3D57ED0000003\"; secret = \"" KB "\"; }\n"
    ");\n";

/* A node, as the simulator would run it. */
struct tnode {
	uint64_t		 eui;
	uint8_t			 k[LINK_SECRET_LEN];
	uint8_t			 nn[LINK_NONCE_LEN];
	struct link_session_keys ks;
	uint32_t		 up;		/* last uplink counter sent */
	uint32_t		 down_last;
	uint8_t			 hello[LINK_FRAME_MAX];
	size_t			 hello_len;
	uint8_t			 resp[LINK_FRAME_MAX];
	size_t			 resp_len;
	int			 v2;		/* version 2 HELLOs */
	uint32_t		 jc;		/* last join counter sent */
};

struct fixture {
	struct registry	*reg;
	struct ident	*id;
	struct tnode	 a, b;
	struct ident_out out;
};

static struct registry *
load(const char *d, const char *k)
{
	struct registry *reg = NULL;
	char err[256];

	if (registry_load_mem("d", d, strlen(d), "k", k, strlen(k), &reg, err,
	    sizeof(err)) != 0) {
		print_error("%s\n", err);
		return NULL;
	}
	return reg;
}

static void
tnode_init(struct tnode *n, uint64_t eui, uint8_t fill)
{
	memset(n, 0, sizeof(*n));
	n->eui = eui;
	memset(n->k, fill, sizeof(n->k));
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->reg = load(devs, keys)) == NULL ||
	    (f->id = ident_new(f->reg)) == NULL)
		return -1;
	tnode_init(&f->a, EUI_A, 0x01);
	tnode_init(&f->b, EUI_B, 0x02);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ident_free(f->id);
	registry_free(f->reg);
	free(f);
	return 0;
}

static void
node_hello(struct tnode *n)
{
	int len;

	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, n->nn, sizeof(n->nn)),
	    0);
	if (n->v2) {
		uint8_t kh[LINK_HELLO_KEY_LEN];

		assert_int_equal(link_hello_key(n->k, n->eui, kh), 0);
		len = link_build_hello2(n->hello, sizeof(n->hello), n->eui,
		    n->nn, ++n->jc, kh);
		assert_int_equal(len, LINK_HELLO2_LEN);
	} else {
		len = link_build_hello(n->hello, sizeof(n->hello), n->eui,
		    n->nn);
		assert_int_equal(len, LINK_HELLO_LEN);
	}
	n->hello_len = (size_t)len;
}

/* The node checks the gateway's proof before it answers: mutual. */
static int
node_challenge(struct tnode *n, const uint8_t *frame, size_t len)
{
	uint8_t tg[LINK_PROOF_LEN], tn[LINK_PROOF_LEN];
	struct link_msg m;
	int r;

	assert_int_equal(link_parse(frame, len, &m), LINK_OK);
	assert_int_equal(m.type, LINK_CHALLENGE);
	assert_true(m.eui == n->eui);
	assert_int_equal(link_gw_proof(n->k, n->eui, n->nn, m.nonce, tg), 0);
	if (gnutls_memcmp(tg, m.proof, sizeof(tg)) != 0)
		return -1;
	assert_int_equal(link_node_proof(n->k, n->eui, n->nn, m.nonce, tn),
	    0);
	assert_int_equal(link_session_derive(n->k, n->eui, n->nn, m.nonce,
	    &n->ks), 0);
	r = link_build_response(n->resp, sizeof(n->resp), n->eui, tn);
	assert_int_equal(r, LINK_RESPONSE_LEN);
	n->resp_len = (size_t)r;
	return 0;
}

/* Opens a downlink; returns its kind byte, the body in body. */
static int
node_down(struct tnode *n, const uint8_t *frame, size_t len, uint8_t *body,
    size_t *blen)
{
	uint8_t p[LINK_FRAME_MAX];
	struct link_msg m;
	int r;

	assert_int_equal(link_parse(frame, len, &m), LINK_OK);
	assert_int_equal(m.type, LINK_DATA_DOWN);
	r = link_open(&n->ks, LINK_DIR_DOWN, &m, p, sizeof(p));
	if (r < 1)
		return -1;
	assert_true(m.fcnt > n->down_last);
	n->down_last = m.fcnt;
	if (p[0] == LINK_DOWN_ACCEPT) {
		/* The node learns its sid from the ACCEPT it verified. */
		assert_int_not_equal(m.sid, 0);
		n->ks.sid = m.sid;
		n->up = 0;
	} else {
		assert_int_equal(m.sid, n->ks.sid);
	}
	if (body != NULL) {
		memcpy(body, p + 1, (size_t)r - 1);
		*blen = (size_t)r - 1;
	}
	return p[0];
}

static void
handshake(struct fixture *f, struct tnode *n, uint64_t now)
{
	node_hello(n);
	assert_int_equal(ident_input(f->id, n->hello, n->hello_len, now,
	    &f->out), IDENT_OK);
	assert_int_equal(f->out.action, IDENT_REPLY);
	assert_true(f->out.dev->eui == n->eui);
	assert_int_equal(node_challenge(n, f->out.reply, f->out.reply_len), 0);
	assert_int_equal(ident_input(f->id, n->resp, n->resp_len, now + 10,
	    &f->out), IDENT_OK);
	assert_int_equal(f->out.action, IDENT_REPLY);
	n->down_last = 0;
	assert_int_equal(node_down(n, f->out.reply, f->out.reply_len, NULL,
	    NULL), LINK_DOWN_ACCEPT);
	assert_int_equal(n->down_last, 1);
}

static size_t
node_up(struct tnode *n, uint32_t fcnt, const char *payload, uint8_t *frame)
{
	int len = link_seal(&n->ks, LINK_DIR_UP, fcnt,
	    (const uint8_t *)payload, strlen(payload), frame, LINK_FRAME_MAX);

	assert_true(len > 0);
	return (size_t)len;
}

static int
send_up(struct fixture *f, struct tnode *n, const char *payload,
    uint64_t now)
{
	uint8_t frame[LINK_FRAME_MAX];
	size_t len = node_up(n, ++n->up, payload, frame);

	return ident_input(f->id, frame, len, now, &f->out);
}

/* An uplink the way a node sends it, with the keepalive request flag set
 * as link.h says: after LINK_KEEPALIVE_REQ_UPLINKS silent uplinks. */
static int
send_up_silent(struct fixture *f, struct tnode *n, unsigned int *silent,
    uint64_t now)
{
	uint8_t frame[LINK_FRAME_MAX];
	unsigned int flags = *silent >= LINK_KEEPALIVE_REQ_UPLINKS ?
	    LINK_FLAG_KEEPALIVE_REQ : 0;
	int len;

	len = link_seal_flags(&n->ks, LINK_DIR_UP, flags, ++n->up,
	    (const uint8_t *)"t=1", 3, frame, sizeof(frame));
	assert_true(len > 0);
	(*silent)++;
	return ident_input(f->id, frame, (size_t)len, now, &f->out);
}

static void
test_full_handshake(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[LINK_FRAME_MAX];
	size_t len;

	handshake(f, &f->a, 1000);
	len = node_up(&f->a, 1, "t=21.5", frame);
	assert_int_equal(ident_input(f->id, frame, len, 2000, &f->out),
	    IDENT_OK);
	assert_int_equal(f->out.action, IDENT_RECORD);
	assert_true(f->out.dev->eui == EUI_A);
	assert_string_equal(f->out.dev->name, "a");
	assert_int_equal(f->out.fcnt, 1);
	assert_int_equal(f->out.payload_len, 6);
	assert_memory_equal(f->out.payload, "t=21.5", 6);
	/* Counters may skip (lost frames), never go back. */
	len = node_up(&f->a, 5, "x", frame);
	assert_int_equal(ident_input(f->id, frame, len, 2001, &f->out),
	    IDENT_OK);
	assert_int_equal(f->out.fcnt, 5);
	/* Two devices at once, each with its own sid. */
	handshake(f, &f->b, 3000);
	assert_int_not_equal(f->a.ks.sid, f->b.ks.sid);
	f->b.up = 0;
	assert_int_equal(send_up(f, &f->b, "w=3", 3100), IDENT_OK);
	assert_true(f->out.dev->eui == EUI_B);
	f->a.up = 5;
	assert_int_equal(send_up(f, &f->a, "y", 3200), IDENT_OK);
	assert_true(f->out.dev->eui == EUI_A);
}

/* A node refuses a gateway that does not know its secret. */
static void
test_node_rejects_rogue_gateway(void **state)
{
	struct fixture *f = *state;
	uint8_t ng[LINK_NONCE_LEN] = { 9 }, tg[LINK_PROOF_LEN], fr[64];
	uint8_t wrong[LINK_SECRET_LEN];
	int len;

	node_hello(&f->a);
	memset(wrong, 0x77, sizeof(wrong));
	assert_int_equal(link_gw_proof(wrong, EUI_A, f->a.nn, ng, tg), 0);
	len = link_build_challenge(fr, sizeof(fr), EUI_A, ng, tg);
	assert_int_equal(node_challenge(&f->a, fr, (size_t)len), -1);
}

static void
test_unknown_device(void **state)
{
	struct fixture *f = *state;
	struct tnode x;
	uint8_t frame[LINK_FRAME_MAX], tn[LINK_PROOF_LEN] = { 0 };
	int len;

	tnode_init(&x, EUI_X, 0x01);
	node_hello(&x);
	assert_int_equal(ident_input(f->id, x.hello, x.hello_len, 0, &f->out),
	    IDENT_DROP_UNKNOWN);
	assert_int_equal(f->out.action, IDENT_NONE);
	assert_null(f->out.dev);
	len = link_build_response(frame, sizeof(frame), EUI_X, tn);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 0, &f->out),
	    IDENT_DROP_UNKNOWN);
}

static void
test_unknown_session(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[LINK_FRAME_MAX];
	size_t len;

	/* Keys and sid the gateway never issued (or forgot in a restart). */
	memset(f->a.ks.up, 0x33, sizeof(f->a.ks.up));
	f->a.ks.sid = 0x01020304;
	len = node_up(&f->a, 1, "t", frame);
	assert_int_equal(ident_input(f->id, frame, len, 0, &f->out),
	    IDENT_DROP_NO_SESSION);
	assert_null(f->out.dev);
}

/* After a daemon restart the node's session is unknown; a new handshake
 * brings it back. */
static void
test_restart_forgets_sessions(void **state)
{
	struct fixture *f = *state;

	handshake(f, &f->a, 0);
	assert_int_equal(send_up(f, &f->a, "1", 100), IDENT_OK);
	ident_free(f->id);
	f->id = ident_new(f->reg);
	assert_non_null(f->id);
	assert_int_equal(send_up(f, &f->a, "2", 200), IDENT_DROP_NO_SESSION);
	handshake(f, &f->a, 300);
	assert_int_equal(send_up(f, &f->a, "3", 400), IDENT_OK);
}

/* ---- durable sessions (issue 9) ---- */

/* A toy store: the last record per device, and whether it was synced. */
#define TSTORE_MAX	4
struct tstore {
	uint64_t	eui[TSTORE_MAX];
	uint8_t		rec[TSTORE_MAX][IDENT_REC_LEN];
	int		n;
	int		syncs, puts;
	int		fail;		/* refuse every write */
};

static int
tstore_put(void *arg, uint64_t eui, const uint8_t *rec, size_t len, int sync)
{
	struct tstore *t = arg;
	int i;

	if (t->fail)
		return -ENOSPC;
	assert_int_equal(len, IDENT_REC_LEN);
	for (i = 0; i < t->n && t->eui[i] != eui; i++)
		;
	assert_true(i < TSTORE_MAX);
	if (i == t->n)
		t->n++;
	t->eui[i] = eui;
	memcpy(t->rec[i], rec, len);
	t->puts++;
	t->syncs += sync;
	return 0;
}

/* A new ident over the stored records: the daemon's restart. */
static void
restart_from(struct fixture *f, const struct tstore *t)
{
	int i;

	ident_free(f->id);
	f->id = ident_new(f->reg);
	assert_non_null(f->id);
	for (i = 0; i < t->n; i++)
		assert_int_equal(ident_restore(f->id, t->eui[i], t->rec[i],
		    IDENT_REC_LEN, 0), 0);
}

static void
test_session_survives_restart(void **state)
{
	struct fixture *f = *state;
	struct tstore t = { .n = 0 };
	uint8_t frame[LINK_FRAME_MAX];
	size_t len;

	ident_set_persist(f->id, tstore_put, &t);
	handshake(f, &f->a, 0);
	/* The join was stored (synced) before its ACCEPT was sealed. */
	assert_int_equal(t.syncs, 1);
	assert_int_equal(send_up(f, &f->a, "1", 100), IDENT_OK);
	len = node_up(&f->a, ++f->a.up, "2", frame);
	assert_int_equal(ident_input(f->id, frame, len, 110, &f->out),
	    IDENT_OK);
	assert_int_equal(ident_checkpoint(f->id), 1);
	/* Nothing changed since: nothing to write. */
	assert_int_equal(ident_checkpoint(f->id), 0);
	restart_from(f, &t);
	/* The node carries on: accepted from its first frame. */
	assert_int_equal(send_up(f, &f->a, "3", 200), IDENT_OK);
	assert_int_equal(f->out.action, IDENT_RECORD);
	/* A frame accepted before the stop is not accepted again. */
	assert_int_equal(ident_input(f->id, frame, len, 210, &f->out),
	    IDENT_DROP_REPLAY);
}

/* The down counter never repeats under one key across restarts, even
 * when the last run used counters it had not yet checkpointed. */
static void
test_down_counter_never_repeats_across_restarts(void **state)
{
	struct fixture *f = *state;
	struct tstore t = { .n = 0 };
	uint32_t last = 0;
	int round, i;

	ident_set_persist(f->id, tstore_put, &t);
	handshake(f, &f->a, 0);
	last = f->a.down_last;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 5; i++) {
			assert_true(ident_downlink(f->id, EUI_A,
			    (const uint8_t *)"c", 1, &f->out) > 0);
			assert_int_equal(node_down(&f->a, f->out.reply,
			    f->out.reply_len, NULL, NULL), LINK_DOWN_COMMAND);
			/* node_down asserts the counter rose. */
			assert_true(f->a.down_last > last);
			last = f->a.down_last;
		}
		/* A crash: no checkpoint, only what was synced. */
		restart_from(f, &t);
		ident_set_persist(f->id, tstore_put, &t);
	}
	/* A downlink that cannot reserve its counter durably is not sent. */
	t.fail = 1;
	for (i = 0; i < IDENT_DOWN_RESERVE + 1; i++)
		if (ident_downlink(f->id, EUI_A, (const uint8_t *)"c", 1,
		    &f->out) < 0)
			break;
	assert_true(i <= IDENT_DOWN_RESERVE);
}

static void
test_restore_refuses_edited_and_foreign_records(void **state)
{
	struct fixture *f = *state;
	struct tstore t = { .n = 0 };
	uint8_t rec[IDENT_REC_LEN];

	ident_set_persist(f->id, tstore_put, &t);
	handshake(f, &f->a, 0);
	assert_int_equal(send_up(f, &f->a, "1", 100), IDENT_OK);
	assert_int_equal(ident_checkpoint(f->id), 1);
	ident_free(f->id);
	f->id = ident_new(f->reg);
	assert_non_null(f->id);
	/* A lowered uplink counter would let replays in. */
	memcpy(rec, t.rec[0], sizeof(rec));
	rec[12] = 0;
	assert_int_equal(ident_restore(f->id, EUI_A, rec, sizeof(rec), 0),
	    -EKEYREJECTED);
	/* A's record is no record of B's. */
	assert_int_equal(ident_restore(f->id, EUI_B, t.rec[0], sizeof(rec),
	    0), -EKEYREJECTED);
	assert_int_equal(ident_restore(f->id, EUI_X, t.rec[0], sizeof(rec),
	    0), -ENOENT);
	assert_int_equal(ident_restore(f->id, EUI_R, t.rec[0], sizeof(rec),
	    0), -EPERM);
	assert_int_equal(ident_restore(f->id, EUI_A, t.rec[0], 10, 0),
	    -EBADMSG);
	assert_int_equal(ident_restore(f->id, EUI_A, t.rec[0], sizeof(rec),
	    0), 0);
	assert_int_equal(ident_restore(f->id, EUI_A, t.rec[0], sizeof(rec),
	    0), -EEXIST);
	assert_int_equal(send_up(f, &f->a, "2", 200), IDENT_OK);
}

/* ---- version 2: the authenticated HELLO ---- */

/* A v2 HELLO in A's name from somebody without A's secret: its MIC. */
static void
forged_hello2(struct tnode *forger, uint32_t jc)
{
	forger->v2 = 1;
	forger->jc = jc - 1;
	node_hello(forger);
}

/* A flood of forged v2 HELLOs (any counter) consumes neither A's HELLO
 * tokens nor a challenge slot and makes the gateway send nothing: A's
 * genuine HELLOs that follow are all answered, as many as the burst
 * allows, and its join completes with forged RESPONSEs in between. */
static void
test_v2_forged_hello_consumes_nothing(void **state)
{
	struct fixture *f = *state;
	struct ident_stats st;
	struct tnode forger;
	uint8_t frame[LINK_FRAME_MAX], tn[LINK_PROOF_LEN];
	int i, len;

	f->a.v2 = 1;
	tnode_init(&forger, EUI_A, 0x77);
	for (i = 0; i < 1000; i++) {
		forged_hello2(&forger, (uint32_t)i * 7919u + 1);
		assert_int_equal(ident_input(f->id, forger.hello,
		    forger.hello_len, 1, &f->out), IDENT_DROP_BAD_TAG);
		assert_int_equal(f->out.action, IDENT_NONE);
		assert_int_equal(f->out.reply_len, 0);
		assert_true(f->out.dev->eui == EUI_A);
	}
	/* A's right MIC over a counter of 0 is no HELLO either: counters
	 * start at 1, above the "none yet" the gateway starts from. */
	f->a.jc = (uint32_t)-1;
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 2,
	    &f->out), IDENT_DROP_REPLAY);
	f->a.jc = 0;
	/* The whole burst is still A's. */
	for (i = 0; i < IDENT_HELLO_BURST_DEFAULT; i++) {
		node_hello(&f->a);
		assert_int_equal(ident_input(f->id, f->a.hello,
		    f->a.hello_len, 2, &f->out), IDENT_OK);
		assert_int_equal(f->out.action, IDENT_REPLY);
		assert_int_equal(f->out.reply_auth, 1);
		forged_hello2(&forger, f->a.jc + 1);
		assert_int_equal(ident_input(f->id, forger.hello,
		    forger.hello_len, 2, &f->out), IDENT_DROP_BAD_TAG);
	}
	ident_stats(f->id, &st);
	assert_int_equal(st.pending_full, 0);
	assert_int_equal(st.hello_v2, IDENT_HELLO_BURST_DEFAULT);
	/* A answers its last challenge; a forged RESPONSE first. */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 20000,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, tn, sizeof(tn)), 0);
	len = link_build_response(frame, sizeof(frame), EUI_A, tn);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 20001,
	    &f->out), IDENT_DROP_BAD_TAG);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 20002,
	    &f->out), IDENT_OK);
	assert_int_equal(f->out.reply_auth, 0);
	f->a.down_last = 0;
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    NULL, NULL), LINK_DOWN_ACCEPT);
	assert_int_equal(send_up(f, &f->a, "1", 20003), IDENT_OK);
}

/* A genuine v2 HELLO captured and sent again, or an older one, is a
 * replay: no token, no slot, no CHALLENGE. */
static void
test_v2_replayed_hello(void **state)
{
	struct fixture *f = *state;
	uint8_t old[LINK_FRAME_MAX];
	size_t old_len;
	int i;

	f->a.v2 = 1;
	node_hello(&f->a);
	memcpy(old, f->a.hello, f->a.hello_len);
	old_len = f->a.hello_len;
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	for (i = 0; i < 20; i++) {
		assert_int_equal(ident_input(f->id, f->a.hello,
		    f->a.hello_len, 1, &f->out), IDENT_DROP_REPLAY);
		assert_int_equal(f->out.reply_len, 0);
		assert_int_equal(ident_input(f->id, old, old_len, 1, &f->out),
		    IDENT_DROP_REPLAY);
	}
	/* The burst's other two tokens are untouched. */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 2,
	    &f->out), IDENT_OK);
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 2,
	    &f->out), IDENT_OK);
}

/* The v1 record of a gateway before version 2, made as its format says:
 * bytes 0..48 of a v2 record with version 1, then the tag over them. */
static void
v1_record(const struct tnode *n, const uint8_t *rec2, uint8_t *rec1)
{
	uint8_t msg[14 + 8 + 49], mac[32];
	int i;

	memcpy(rec1, rec2, 49);
	rec1[0] = 1;
	memcpy(msg, "FBSESS1 record", 14);
	for (i = 0; i < 8; i++)
		msg[14 + i] = (uint8_t)(n->eui >> (56 - 8 * i));
	memcpy(msg + 22, rec1, 49);
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, n->k,
	    sizeof(n->k), msg, sizeof(msg), mac), 0);
	memcpy(rec1 + 49, mac, 16);
}

/* The last join counter and the v2 mark are durable with the session
 * (synced at the join), and for a device without a session too (at a
 * checkpoint): after a restart, a replayed HELLO is still a replay and a
 * v1 HELLO still a downgrade.  A record of the gateway before version 2
 * is still restored. */
static void
test_v2_counter_survives_restart(void **state)
{
	struct fixture *f = *state;
	struct tstore t = { .n = 0 };
	uint8_t a_hello[LINK_FRAME_MAX], b_hello[LINK_FRAME_MAX];
	uint8_t rec1[IDENT_REC_V1_LEN];
	struct tnode a1;
	size_t a_len, b_len;

	ident_set_persist(f->id, tstore_put, &t);
	f->a.v2 = 1;
	f->b.v2 = 1;
	handshake(f, &f->a, 0);
	memcpy(a_hello, f->a.hello, f->a.hello_len);
	a_len = f->a.hello_len;
	assert_int_equal(t.syncs, 1);
	/* B sends a HELLO and never joins. */
	node_hello(&f->b);
	assert_int_equal(ident_input(f->id, f->b.hello, f->b.hello_len, 5,
	    &f->out), IDENT_OK);
	memcpy(b_hello, f->b.hello, f->b.hello_len);
	b_len = f->b.hello_len;
	assert_int_equal(ident_checkpoint(f->id), 1);
	assert_int_equal(t.n, 2);
	restart_from(f, &t);
	assert_int_equal(ident_input(f->id, a_hello, a_len, 10, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(ident_input(f->id, b_hello, b_len, 10, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(f->out.reply_len, 0);
	a1 = f->a;
	a1.v2 = 0;
	node_hello(&a1);
	assert_int_equal(ident_input(f->id, a1.hello, a1.hello_len, 11,
	    &f->out), IDENT_DROP_DOWNGRADE);
	assert_int_equal(f->out.reply_len, 0);
	/* A's session is there too, and its next join counter works. */
	assert_int_equal(send_up(f, &f->a, "1", 12), IDENT_OK);
	node_hello(&f->b);
	assert_int_equal(ident_input(f->id, f->b.hello, f->b.hello_len, 13,
	    &f->out), IDENT_OK);

	/* A record written before version 2: no counter, no mark. */
	v1_record(&f->a, t.rec[0], rec1);
	ident_free(f->id);
	assert_non_null(f->id = ident_new(f->reg));
	assert_int_equal(ident_restore(f->id, EUI_A, rec1, sizeof(rec1), 0),
	    0);
	assert_int_equal(send_up(f, &f->a, "2", 14), IDENT_OK);
	node_hello(&a1);
	assert_int_equal(ident_input(f->id, a1.hello, a1.hello_len, 15,
	    &f->out), IDENT_OK);
	/* A v1 record cannot be one of no session (only a v2 node's
	 * counter is kept without one), even with a right tag. */
	memcpy(rec1, t.rec[0], sizeof(rec1));
	memset(rec1 + 1, 0, 8);
	v1_record(&f->a, rec1, rec1);
	ident_free(f->id);
	assert_non_null(f->id = ident_new(f->reg));
	assert_int_equal(ident_restore(f->id, EUI_A, rec1, sizeof(rec1), 0),
	    -EBADMSG);
}

/* Version 1 nodes join as they always did, and each device is judged on
 * its own: B stays on version 1 while A moved to version 2, after which
 * A's version 1 HELLOs, forged or not, are refused before they take a
 * token.  A new secret (revoke, then add again) lifts the mark. */
static void
test_v1_joins_downgrade_refused_after_v2(void **state)
{
	struct fixture *f = *state;
	struct registry *reg2;
	struct tnode forger, a1;
	int i;
	static const char keys2[] =
	    "keys = (\n"
	    "  { id = \"70B3D57ED0000001\"; secret = \"" KB "\"; },\n"
	    "  { id = \"70B3D57ED0000002\"; secret = \"" KB "\"; },\n"
	    "  { id = \"70B3D57ED0000003\"; secret = \"" KB "\"; }\n"
	    ");\n";

	handshake(f, &f->b, 0);
	assert_int_equal(f->out.reply_auth, 0);
	assert_int_equal(send_up(f, &f->b, "1", 1), IDENT_OK);
	handshake(f, &f->a, 2);		/* A on version 1 first */
	f->a.v2 = 1;
	handshake(f, &f->a, 3);		/* then version 2 */
	tnode_init(&forger, EUI_A, 0x77);
	for (i = 0; i < 100; i++) {
		node_hello(&forger);
		assert_int_equal(ident_input(f->id, forger.hello,
		    forger.hello_len, 4, &f->out), IDENT_DROP_DOWNGRADE);
		assert_int_equal(f->out.reply_len, 0);
	}
	a1 = f->a;
	a1.v2 = 0;
	node_hello(&a1);
	assert_int_equal(ident_input(f->id, a1.hello, a1.hello_len, 4,
	    &f->out), IDENT_DROP_DOWNGRADE);
	/* B, still version 1, joins again meanwhile. */
	handshake(f, &f->b, 5);
	/* Tokens untouched: the burst less A's two joins. */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 6,
	    &f->out), IDENT_OK);
	/* A re-provisioned with a new secret, re-flashed with v1. */
	assert_non_null(reg2 = load(devs, keys2));
	assert_int_equal(ident_set_registry(f->id, reg2), 0);
	registry_free(f->reg);
	f->reg = reg2;
	memset(a1.k, 0x02, sizeof(a1.k));
	handshake(f, &a1, 7);
}

/* Malformed v2 HELLOs: short, long, the v1 size, another type with the
 * version 2 nibble, a version 3. */
static void
test_v2_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t fr[LINK_FRAME_MAX + 8];

	f->a.v2 = 1;
	node_hello(&f->a);
	memcpy(fr, f->a.hello, f->a.hello_len);
	fr[LINK_HELLO2_LEN] = 0;
	assert_int_equal(ident_input(f->id, fr, LINK_HELLO2_LEN - 1, 0,
	    &f->out), IDENT_DROP_MALFORMED);
	assert_int_equal(ident_input(f->id, fr, LINK_HELLO2_LEN + 1, 0,
	    &f->out), IDENT_DROP_MALFORMED);
	assert_int_equal(ident_input(f->id, fr, LINK_HELLO_LEN, 0, &f->out),
	    IDENT_DROP_MALFORMED);
	fr[0] = 0x23;
	assert_int_equal(ident_input(f->id, fr, LINK_HELLO2_LEN, 0, &f->out),
	    IDENT_DROP_MALFORMED);
	fr[0] = 0x31;
	assert_int_equal(ident_input(f->id, fr, LINK_HELLO2_LEN, 0, &f->out),
	    IDENT_DROP_MALFORMED);
	assert_int_equal(f->out.reply_len, 0);
	/* None of it cost the node anything. */
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
}

/* ---- joins nobody else can block ---- */

/* A forged HELLO between the node's HELLO and its RESPONSE neither
 * displaces nor uses up the node's challenge; neither does a forged
 * RESPONSE. */
static void
test_forged_hello_and_response_do_not_block_join(void **state)
{
	struct fixture *f = *state;
	struct tnode forger;
	uint8_t frame[LINK_FRAME_MAX], tn[LINK_PROOF_LEN];
	int len;

	tnode_init(&forger, EUI_A, 0x77);	/* does not know A's key */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	node_hello(&forger);
	assert_int_equal(ident_input(f->id, forger.hello, forger.hello_len, 1,
	    &f->out), IDENT_OK);
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, tn, sizeof(tn)), 0);
	len = link_build_response(frame, sizeof(frame), EUI_A, tn);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 2, &f->out),
	    IDENT_DROP_BAD_TAG);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 3,
	    &f->out), IDENT_OK);
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    NULL, NULL), LINK_DOWN_ACCEPT);
	assert_int_equal(send_up(f, &f->a, "1", 4), IDENT_OK);
}

/* HELLOs have their own, low, limit; a flood of them never displaces a
 * live challenge, and never starves the device's data frames. */
static void
test_hello_flood_keeps_live_challenge(void **state)
{
	struct fixture *f = *state;
	struct tnode forger;
	int i, ok = 0;

	/* Data frames unlimited: the HELLO limit is a limit of its own. */
	ident_set_rate(f->id, 0, 0);
	handshake(f, &f->a, 0);
	node_hello(&f->a);
	tnode_init(&forger, EUI_A, 0x77);
	/* A's second join attempt is answered first... */
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 20,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	/* ...then 1,000 forged HELLOs in a second. */
	for (i = 0; i < 1000; i++) {
		node_hello(&forger);
		if (ident_input(f->id, forger.hello, forger.hello_len,
		    21 + (uint64_t)i, &f->out) == IDENT_OK)
			ok++;
	}
	/* The node's two HELLOs took two of the burst. */
	assert_true(ok <= IDENT_HELLO_BURST_DEFAULT - 2);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 1100,
	    &f->out), IDENT_OK);
	f->a.down_last = 0;	/* a new session */
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    NULL, NULL), LINK_DOWN_ACCEPT);
	assert_int_equal(send_up(f, &f->a, "1", 1200), IDENT_OK);
}

static void
test_bad_response(void **state)
{
	struct fixture *f = *state;
	uint8_t resp[LINK_FRAME_MAX];

	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	memcpy(resp, f->a.resp, f->a.resp_len);
	resp[f->a.resp_len - 1] ^= 1;
	assert_int_equal(ident_input(f->id, resp, f->a.resp_len, 5, &f->out),
	    IDENT_DROP_BAD_TAG);
	assert_true(f->out.dev->eui == EUI_A);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* A wrong proof consumes nothing (anybody can send one): the right
	 * answer still opens the session, and only once. */
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 6,
	    &f->out), IDENT_OK);
	assert_int_equal(f->out.action, IDENT_REPLY);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 7,
	    &f->out), IDENT_DROP_REPLAY);
}

/* B's valid response is no answer to A's challenge. */
static void
test_response_of_other_device(void **state)
{
	struct fixture *f = *state;
	uint8_t tn[LINK_PROOF_LEN], frame[LINK_FRAME_MAX];
	struct link_msg m;
	int len;

	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	assert_int_equal(link_parse(f->out.reply, f->out.reply_len, &m), 0);
	assert_int_equal(link_node_proof(f->b.k, EUI_A, f->a.nn, m.nonce, tn),
	    0);
	len = link_build_response(frame, sizeof(frame), EUI_A, tn);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 1, &f->out),
	    IDENT_DROP_BAD_TAG);
}

static void
test_bad_mic(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[LINK_FRAME_MAX];
	size_t len;

	handshake(f, &f->a, 0);
	len = node_up(&f->a, 1, "hello", frame);
	frame[len - 1] ^= 0x80;
	assert_int_equal(ident_input(f->id, frame, len, 1, &f->out),
	    IDENT_DROP_BAD_TAG);
	assert_true(f->out.dev->eui == EUI_A);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* A forged frame does not use up its counter. */
	frame[len - 1] ^= 0x80;
	assert_int_equal(ident_input(f->id, frame, len, 2, &f->out),
	    IDENT_OK);
	/* Sealed with B's keys under A's sid. */
	handshake(f, &f->b, 3);
	f->b.ks.sid = f->a.ks.sid;
	len = node_up(&f->b, 9, "spoof", frame);
	assert_int_equal(ident_input(f->id, frame, len, 4, &f->out),
	    IDENT_DROP_BAD_TAG);
}

static void
test_counter_replay(void **state)
{
	struct fixture *f = *state;
	uint8_t f1[LINK_FRAME_MAX], f2[LINK_FRAME_MAX], f0[LINK_FRAME_MAX];
	size_t l1, l2, l0;

	handshake(f, &f->a, 0);
	l1 = node_up(&f->a, 10, "one", f1);
	l2 = node_up(&f->a, 11, "two", f2);
	l0 = node_up(&f->a, 0, "zero", f0);
	assert_int_equal(ident_input(f->id, f1, l1, 1, &f->out), IDENT_OK);
	assert_int_equal(ident_input(f->id, f1, l1, 2, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(f->out.action, IDENT_NONE);
	assert_int_equal(ident_input(f->id, f2, l2, 3, &f->out), IDENT_OK);
	assert_int_equal(ident_input(f->id, f1, l1, 4, &f->out),
	    IDENT_DROP_REPLAY);
	/* Counter 0 is never valid: the first frame is 1. */
	assert_int_equal(ident_input(f->id, f0, l0, 5, &f->out),
	    IDENT_DROP_REPLAY);
}

static void
test_replayed_response(void **state)
{
	struct fixture *f = *state;

	handshake(f, &f->a, 0);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 50,
	    &f->out), IDENT_DROP_REPLAY);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* Also after a later HELLO opened a new challenge. */
	handshake(f, &f->b, 60);
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 70,
	    &f->out), IDENT_OK);
	assert_int_equal(ident_input(f->id, f->b.resp, f->b.resp_len, 80,
	    &f->out), IDENT_DROP_REPLAY);
}

static void
test_replayed_hello(void **state)
{
	struct fixture *f = *state;
	uint8_t old[LINK_FRAME_MAX];
	size_t oldlen;
	int i;

	ident_set_hello_rate(f->id, 0, 1);	/* replays, not rates */
	node_hello(&f->a);
	memcpy(old, f->a.hello, f->a.hello_len);
	oldlen = f->a.hello_len;
	assert_int_equal(ident_input(f->id, old, oldlen, 0, &f->out),
	    IDENT_OK);
	assert_int_equal(ident_input(f->id, old, oldlen, 1, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(f->out.action, IDENT_NONE);
	assert_int_equal(f->out.reply_len, 0);
	/* Remembered across IDENT_HELLO_SEEN - 1 newer HELLOs. */
	for (i = 0; i < IDENT_HELLO_SEEN - 1; i++) {
		node_hello(&f->a);
		assert_int_equal(ident_input(f->id, f->a.hello,
		    f->a.hello_len, 2 + (uint64_t)i, &f->out), IDENT_OK);
	}
	assert_int_equal(ident_input(f->id, old, oldlen, 10, &f->out),
	    IDENT_DROP_REPLAY);
}

/* Replaying a whole captured handshake gets nowhere: the HELLO is a
 * replay, and the RESPONSE answers a challenge that no longer exists. */
static void
test_replayed_handshake(void **state)
{
	struct fixture *f = *state;
	struct tnode cap;

	handshake(f, &f->a, 0);
	cap = f->a;
	ident_free(f->id);		/* even after a restart */
	f->id = ident_new(f->reg);
	assert_int_equal(ident_input(f->id, cap.resp, cap.resp_len, 5,
	    &f->out), IDENT_DROP_REPLAY);
	assert_int_equal(ident_input(f->id, cap.hello, cap.hello_len, 6,
	    &f->out), IDENT_OK);	/* a fresh instance forgot the nonce */
	assert_int_equal(ident_input(f->id, cap.resp, cap.resp_len, 7,
	    &f->out), IDENT_DROP_BAD_TAG);	/* but Ng is new */
}

static void
test_stale_session(void **state)
{
	struct fixture *f = *state;
	uint8_t old1[LINK_FRAME_MAX], old2[LINK_FRAME_MAX];
	size_t l1, l2;
	uint32_t s1;

	handshake(f, &f->a, 0);
	s1 = f->a.ks.sid;
	l1 = node_up(&f->a, 100, "s1", old1);
	handshake(f, &f->a, 100);
	assert_int_not_equal(f->a.ks.sid, s1);
	l2 = node_up(&f->a, 100, "s2", old2);
	assert_int_equal(ident_input(f->id, old1, l1, 200, &f->out),
	    IDENT_DROP_STALE);
	assert_true(f->out.dev->eui == EUI_A);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* The new session starts its counter afresh. */
	assert_int_equal(send_up(f, &f->a, "new", 210), IDENT_OK);
	assert_int_equal(f->out.fcnt, 1);
	/* One more handshake: session 1 is forgotten, session 2 is stale. */
	handshake(f, &f->a, 300);
	assert_int_equal(ident_input(f->id, old1, l1, 400, &f->out),
	    IDENT_DROP_NO_SESSION);
	assert_int_equal(ident_input(f->id, old2, l2, 400, &f->out),
	    IDENT_DROP_STALE);
}

static void
test_expired_challenge(void **state)
{
	struct fixture *f = *state;

	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 1000,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len,
	    1000 + IDENT_CHALLENGE_TTL_MS, &f->out), IDENT_DROP_REPLAY);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* Just in time works. */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 50000,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len,
	    50000 + IDENT_CHALLENGE_TTL_MS - 1, &f->out), IDENT_OK);
}

/* A new HELLO replaces the pending challenge. */
static void
test_challenge_superseded(void **state)
{
	struct fixture *f = *state;
	struct tnode first;

	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	assert_int_equal(node_challenge(&f->a, f->out.reply,
	    f->out.reply_len), 0);
	first = f->a;
	handshake(f, &f->a, 10);
	assert_int_equal(ident_input(f->id, first.resp, first.resp_len, 30,
	    &f->out), IDENT_DROP_REPLAY);
}

static void
test_revoked(void **state)
{
	struct fixture *f = *state;
	struct tnode r;
	uint8_t frame[LINK_FRAME_MAX], tn[LINK_PROOF_LEN] = { 0 };
	int len;

	tnode_init(&r, EUI_R, 0x02);
	node_hello(&r);
	assert_int_equal(ident_input(f->id, r.hello, r.hello_len, 0, &f->out),
	    IDENT_DROP_REVOKED);
	assert_true(f->out.dev->eui == EUI_R);
	assert_int_equal(f->out.action, IDENT_NONE);
	len = link_build_response(frame, sizeof(frame), EUI_R, tn);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 0, &f->out),
	    IDENT_DROP_REVOKED);
	assert_int_equal(ident_downlink(f->id, EUI_R, (const uint8_t *)"x", 1,
	    &f->out), -EPERM);
}

/* Revoking a device with a live session (registry reload). */
static void
test_revoked_live_session(void **state)
{
	struct fixture *f = *state;
	static const char d2[] =
	    "devices = (\n"
	    "  { id = \"70B3D57ED0000001\"; stream = \"cattle\"; "
	    "revoked = true; },\n"
	    "  { id = \"70B3D57ED0000002\"; name = \"b\"; stream = \"water\"; "
	    "},\n"
	    "  { id = \"70B3D57ED0000003\"; stream = \"water\"; "
	    "revoked = true; }\n);\n";
	struct registry *r2;

	handshake(f, &f->a, 0);
	handshake(f, &f->b, 0);
	assert_int_equal(send_up(f, &f->a, "1", 1), IDENT_OK);
	r2 = load(d2, keys);
	assert_non_null(r2);
	assert_int_equal(registry_find(r2, EUI_A)->revoked, 1);
	assert_int_equal(ident_set_registry(f->id, r2), 0);
	registry_free(f->reg);
	f->reg = r2;
	assert_int_equal(send_up(f, &f->a, "2", 2), IDENT_DROP_REVOKED);
	assert_true(f->out.dev->eui == EUI_A);
	assert_int_equal(send_up(f, &f->b, "3", 3), IDENT_OK);
	/* Un-revoking does not bring the old session back. */
	r2 = load(devs, keys);
	assert_non_null(r2);
	assert_int_equal(ident_set_registry(f->id, r2), 0);
	registry_free(f->reg);
	f->reg = r2;
	assert_int_equal(send_up(f, &f->a, "4", 4), IDENT_DROP_NO_SESSION);
	assert_int_equal(send_up(f, &f->b, "5", 5), IDENT_OK);
	handshake(f, &f->a, 6);
	assert_int_equal(send_up(f, &f->a, "6", 7), IDENT_OK);
}

static void
test_reload_keeps_or_drops_sessions(void **state)
{
	struct fixture *f = *state;
	struct registry *r2;
	char k2[sizeof(keys)];
	char *p;

	handshake(f, &f->a, 0);
	handshake(f, &f->b, 0);
	/* B gets a new secret; A's stays, and so does its session. */
	strcpy(k2, keys);
	p = strstr(k2, KB);
	assert_non_null(p);
	memset(p, '9', 64);
	r2 = load(devs, k2);
	assert_non_null(r2);
	assert_int_equal(ident_set_registry(f->id, r2), 0);
	registry_free(f->reg);
	f->reg = r2;
	assert_int_equal(send_up(f, &f->a, "a", 1), IDENT_OK);
	assert_true(f->out.dev == registry_find(r2, EUI_A));
	assert_int_equal(send_up(f, &f->b, "b", 1), IDENT_DROP_NO_SESSION);
	/* A device removed from the registry loses its session. */
	r2 = load("devices = ( { id = \"70B3D57ED0000002\"; stream = \"w\"; "
	    "} );", "keys = ( { id = \"70B3D57ED0000002\"; secret = \"" KB
	    "\"; } );");
	assert_non_null(r2);
	assert_int_equal(ident_set_registry(f->id, r2), 0);
	registry_free(f->reg);
	f->reg = r2;
	assert_int_equal(send_up(f, &f->a, "a", 2), IDENT_DROP_NO_SESSION);
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 3,
	    &f->out), IDENT_DROP_UNKNOWN);
}

static void
test_rate_limit_data(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[LINK_FRAME_MAX];
	size_t len;
	int i;

	ident_set_rate(f->id, 60, 3);	/* one a second, bursts of 3 */
	handshake(f, &f->a, 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(send_up(f, &f->a, "x", 100), IDENT_OK);
	len = node_up(&f->a, ++f->a.up, "y", frame);
	assert_int_equal(ident_input(f->id, frame, len, 100, &f->out),
	    IDENT_DROP_RATE);
	assert_true(f->out.dev->eui == EUI_A);
	assert_int_equal(f->out.action, IDENT_NONE);
	/* The dropped frame's counter is spent: no replay once refilled. */
	assert_int_equal(ident_input(f->id, frame, len, 5000, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(send_up(f, &f->a, "z", 5000), IDENT_OK);
	/* Other devices have their own buckets. */
	handshake(f, &f->b, 5000);
	assert_int_equal(send_up(f, &f->b, "b", 5000), IDENT_OK);
	/* 0 disables. */
	ident_set_rate(f->id, 0, 0);
	for (i = 0; i < 50; i++)
		assert_int_equal(send_up(f, &f->a, "x", 5000), IDENT_OK);
}

static void
test_rate_limit_hello_flood(void **state)
{
	struct fixture *f = *state;
	int i;

	ident_set_rate(f->id, 6, 2);
	ident_set_hello_rate(f->id, 6, 2);
	handshake(f, &f->a, 0);
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 1,
	    &f->out), IDENT_OK);
	for (i = 0; i < 5; i++) {
		node_hello(&f->a);
		assert_int_equal(ident_input(f->id, f->a.hello,
		    f->a.hello_len, 2, &f->out), IDENT_DROP_RATE);
		assert_int_equal(f->out.action, IDENT_NONE);
	}
	/* The HELLO flood did not touch the data bucket. */
	f->a.up = 0;
	assert_int_equal(send_up(f, &f->a, "d", 3), IDENT_OK);
	/* 6 a minute: one more after 10 s. */
	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 10002,
	    &f->out), IDENT_OK);
}

static void
test_malformed(void **state)
{
	struct fixture *f = *state;
	uint8_t fr[LINK_FRAME_MAX + 8];
	static const struct {
		uint8_t	hdr;
		size_t	len;
	} bad[] = {
		{ 0x11, 0 },			/* empty */
		{ 0x11, 1 },			/* header only */
		{ 0x11, LINK_HELLO_LEN - 1 },	/* short HELLO */
		{ 0x11, LINK_HELLO_LEN + 1 },	/* long HELLO */
		{ 0x12, LINK_CHALLENGE_LEN - 1 },
		{ 0x12, LINK_CHALLENGE_LEN + 1 },
		{ 0x13, LINK_RESPONSE_LEN - 1 },
		{ 0x13, LINK_RESPONSE_LEN + 1 },
		{ 0x14, LINK_DATA_OVERHEAD - 1 },
		{ 0x14, LINK_FRAME_MAX + 1 },
		{ 0x15, LINK_DATA_OVERHEAD - 1 },
		{ 0x15, LINK_FRAME_MAX + 1 },
		{ 0x21, LINK_HELLO_LEN },	/* version 2 */
		{ 0x01, LINK_HELLO_LEN },	/* version 0 */
		{ 0xf4, 20 },
		{ 0x10, LINK_HELLO_LEN },	/* type 0 */
		{ 0x16, LINK_HELLO_LEN },	/* type 6 */
		{ 0x1f, 20 },			/* type 15 */
		{ 0x1c, LINK_DATA_OVERHEAD - 1 },	/* short, flagged */
		{ 0x1c, LINK_FRAME_MAX + 1 },
		{ 0x1d, 20 },			/* flag on DATA_DOWN */
		{ 0x19, LINK_HELLO_LEN },	/* flag on HELLO */
	};
	size_t i;

	memset(fr, 0, sizeof(fr));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fr[0] = bad[i].hdr;
		assert_int_equal(ident_input(f->id, fr, bad[i].len, 0,
		    &f->out), IDENT_DROP_MALFORMED);
		assert_int_equal(f->out.action, IDENT_NONE);
	}
}

static void
test_direction(void **state)
{
	struct fixture *f = *state;
	uint8_t accept[LINK_FRAME_MAX], chal[LINK_FRAME_MAX];
	size_t alen, clen;

	node_hello(&f->a);
	assert_int_equal(ident_input(f->id, f->a.hello, f->a.hello_len, 0,
	    &f->out), IDENT_OK);
	memcpy(chal, f->out.reply, f->out.reply_len);
	clen = f->out.reply_len;
	assert_int_equal(node_challenge(&f->a, chal, clen), 0);
	assert_int_equal(ident_input(f->id, f->a.resp, f->a.resp_len, 1,
	    &f->out), IDENT_OK);
	memcpy(accept, f->out.reply, f->out.reply_len);
	alen = f->out.reply_len;
	/* Our own downlinks heard back (or another gateway's). */
	assert_int_equal(ident_input(f->id, chal, clen, 2, &f->out),
	    IDENT_DROP_DIRECTION);
	assert_int_equal(ident_input(f->id, accept, alen, 2, &f->out),
	    IDENT_DROP_DIRECTION);
	assert_int_equal(f->out.action, IDENT_NONE);
}

static void
test_downlink_command(void **state)
{
	struct fixture *f = *state;
	uint8_t body[LINK_FRAME_MAX], big[LINK_PAYLOAD_MAX];
	size_t blen;
	int r;

	assert_int_equal(ident_downlink(f->id, EUI_A, (const uint8_t *)"x", 1,
	    &f->out), -ENOTCONN);
	assert_int_equal(ident_downlink(f->id, EUI_X, (const uint8_t *)"x", 1,
	    &f->out), -ENOENT);
	handshake(f, &f->a, 0);
	r = ident_downlink(f->id, EUI_A, (const uint8_t *)"reboot", 6,
	    &f->out);
	assert_int_equal(r, LINK_DATA_OVERHEAD + 7);
	assert_int_equal(f->out.action, IDENT_REPLY);
	assert_int_equal(f->out.reply_len, (size_t)r);
	assert_int_equal(f->out.fcnt, 2);	/* the ACCEPT was 1 */
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    body, &blen), LINK_DOWN_COMMAND);
	assert_int_equal(blen, 6);
	assert_memory_equal(body, "reboot", 6);
	assert_int_equal(ident_downlink(f->id, EUI_A, NULL, 0, &f->out),
	    LINK_DATA_OVERHEAD + 1);
	assert_int_equal(f->out.fcnt, 3);
	memset(big, 'c', sizeof(big));
	assert_int_equal(ident_downlink(f->id, EUI_A, big,
	    LINK_PAYLOAD_MAX - 1, &f->out), LINK_FRAME_MAX);
	assert_int_equal(ident_downlink(f->id, EUI_A, big, LINK_PAYLOAD_MAX,
	    &f->out), -EMSGSIZE);
}

/* The gateway answers a keepalive request, and only that: no downlink
 * for the first LINK_KEEPALIVE_REQ_UPLINKS silent records, one for the
 * next, and then silence again until the node asks again. */
static void
test_keepalive_after_silent_records_not_before(void **state)
{
	struct fixture *f = *state;
	unsigned int silent = 0, i;
	int round;

	handshake(f, &f->a, 0);
	assert_int_equal(ident_keepalive_count(f->id), 0);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < LINK_KEEPALIVE_REQ_UPLINKS; i++) {
			assert_int_equal(send_up_silent(f, &f->a, &silent,
			    10 + i), IDENT_OK);
			assert_int_equal(f->out.action, IDENT_RECORD);
			assert_int_equal(f->out.reply_len, 0);
		}
		assert_int_equal(send_up_silent(f, &f->a, &silent, 100),
		    IDENT_OK);
		/* Still a record, and the answer rides along. */
		assert_int_equal(f->out.action, IDENT_RECORD);
		assert_int_equal(f->out.payload_len, 3);
		assert_int_equal(f->out.reply_len, LINK_DATA_OVERHEAD + 1);
		assert_int_equal(node_down(&f->a, f->out.reply,
		    f->out.reply_len, NULL, NULL), LINK_DOWN_KEEPALIVE);
		/* The next down counter: ACCEPT 1, then 2, 3, 4. */
		assert_int_equal(f->a.down_last, 2 + round);
		assert_int_equal(ident_keepalive_count(f->id),
		    (uint64_t)round + 1);
		silent = 0;
	}
}

/* A lost keepalive costs one more request, not a handshake; commands
 * and keepalives share the down counter. */
static void
test_keepalive_lost_is_asked_again(void **state)
{
	struct fixture *f = *state;
	unsigned int silent = LINK_KEEPALIVE_REQ_UPLINKS, i;
	uint8_t lost[LINK_FRAME_MAX];
	size_t lost_len;

	handshake(f, &f->a, 0);
	assert_int_equal(send_up_silent(f, &f->a, &silent, 1), IDENT_OK);
	assert_int_equal(f->out.reply_len, LINK_DATA_OVERHEAD + 1);
	memcpy(lost, f->out.reply, f->out.reply_len);	/* never heard */
	lost_len = f->out.reply_len;
	/* The requests right after it were in flight already: spaced out. */
	for (i = 1; i < IDENT_KEEPALIVE_SPACING; i++) {
		assert_int_equal(send_up_silent(f, &f->a, &silent, 2), IDENT_OK);
		assert_int_equal(f->out.action, IDENT_RECORD);
		assert_int_equal(f->out.reply_len, 0);
	}
	assert_int_equal(send_up_silent(f, &f->a, &silent, 2), IDENT_OK);
	assert_int_equal(f->out.action, IDENT_RECORD);
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    NULL, NULL), LINK_DOWN_KEEPALIVE);
	assert_int_equal(f->a.down_last, 3);
	assert_int_equal(ident_keepalive_count(f->id), 2);
	/* The late one does not open as new: its counter is behind. */
	{
		struct link_msg m;

		assert_int_equal(link_parse(lost, lost_len, &m), LINK_OK);
		assert_true(m.fcnt <= f->a.down_last);
	}
	assert_int_equal(ident_downlink(f->id, EUI_A, (const uint8_t *)"c", 1,
	    &f->out), LINK_DATA_OVERHEAD + 2);
	assert_int_equal(f->out.fcnt, 4);
	silent = LINK_KEEPALIVE_REQ_UPLINKS;
	for (i = 1; i < IDENT_KEEPALIVE_SPACING; i++)
		assert_int_equal(send_up_silent(f, &f->a, &silent, 3), IDENT_OK);
	assert_int_equal(send_up_silent(f, &f->a, &silent, 3), IDENT_OK);
	assert_int_equal(node_down(&f->a, f->out.reply, f->out.reply_len,
	    NULL, NULL), LINK_DOWN_KEEPALIVE);
	assert_int_equal(f->a.down_last, 5);
}

/* A fast node has many flagged uplinks in flight before the first answer
 * reaches it: regression for a downlink flood that filled the
 * concentrator's queue (ENOBUFS) when every one of them was answered. */
static void
test_keepalive_burst_answered_spaced(void **state)
{
	struct fixture *f = *state;
	unsigned int silent = LINK_KEEPALIVE_REQ_UPLINKS, i, answers = 0;

	handshake(f, &f->a, 0);
	for (i = 0; i < 10 * IDENT_KEEPALIVE_SPACING; i++) {
		assert_int_equal(send_up_silent(f, &f->a, &silent, 1), IDENT_OK);
		assert_int_equal(f->out.action, IDENT_RECORD);
		if (f->out.reply_len > 0) {
			assert_int_equal(i % IDENT_KEEPALIVE_SPACING, 0);
			answers++;
		}
	}
	assert_int_equal(answers, 10);
	assert_int_equal(ident_keepalive_count(f->id), 10);
	/* The spacing leaves room for a lost answer before a re-join. */
	assert_true(2 * IDENT_KEEPALIVE_SPACING <=
	    LINK_REJOIN_SILENT_UPLINKS - LINK_KEEPALIVE_REQ_UPLINKS);
}

/* Only an accepted record is answered: a forged flag, a replayed flagged
 * frame, one over the rate, and any flagged frame after a restart get no
 * downlink, so nobody but the node can make the gateway transmit. */
static void
test_keepalive_only_for_accepted_records(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[LINK_FRAME_MAX];
	unsigned int silent, i;
	int len;

	handshake(f, &f->a, 0);
	/* The flag set on a captured frame: the MIC fails. */
	len = link_seal(&f->a.ks, LINK_DIR_UP, ++f->a.up,
	    (const uint8_t *)"x", 1, frame, sizeof(frame));
	frame[0] |= LINK_FLAG_KEEPALIVE_REQ;
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 1, &f->out),
	    IDENT_DROP_BAD_TAG);
	assert_int_equal(f->out.reply_len, 0);
	/* A flagged frame replayed. */
	len = link_seal_flags(&f->a.ks, LINK_DIR_UP, LINK_FLAG_KEEPALIVE_REQ,
	    ++f->a.up, (const uint8_t *)"x", 1, frame, sizeof(frame));
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 2, &f->out),
	    IDENT_OK);
	assert_true(f->out.reply_len > 0);
	assert_int_equal(ident_input(f->id, frame, (size_t)len, 3, &f->out),
	    IDENT_DROP_REPLAY);
	assert_int_equal(f->out.reply_len, 0);
	assert_int_equal(ident_keepalive_count(f->id), 1);
	/* Over the rate: not a record, no answer. */
	silent = LINK_KEEPALIVE_REQ_UPLINKS;
	for (i = 1; i < IDENT_KEEPALIVE_SPACING; i++)
		assert_int_equal(send_up_silent(f, &f->a, &silent, 4), IDENT_OK);
	ident_set_rate(f->id, 60, 1);
	assert_int_equal(send_up_silent(f, &f->a, &silent, 4), IDENT_OK);
	assert_int_equal(f->out.reply_len, LINK_DATA_OVERHEAD + 1);
	assert_int_equal(send_up_silent(f, &f->a, &silent, 5),
	    IDENT_DROP_RATE);
	assert_int_equal(f->out.reply_len, 0);
	assert_int_equal(ident_keepalive_count(f->id), 2);
	/* A restarted gateway knows no session: nothing to answer, so the
	 * node counts on towards LINK_REJOIN_SILENT_UPLINKS. */
	ident_set_rate(f->id, 0, 0);
	ident_free(f->id);
	f->id = ident_new(f->reg);
	assert_non_null(f->id);
	assert_int_equal(send_up_silent(f, &f->a, &silent, 6),
	    IDENT_DROP_NO_SESSION);
	assert_int_equal(f->out.action, IDENT_NONE);
	assert_int_equal(f->out.reply_len, 0);
	assert_int_equal(ident_keepalive_count(f->id), 0);
}

/* Session ids: never 0, all distinct, and the hash table finds every
 * current and previous one through many inserts and deletions. */
static void
test_many_sessions(void **state)
{
	enum { N = 300, ROUNDS = 3 };
	struct registry *reg;
	struct ident *id;
	struct tnode *nodes;
	struct ident_out *out;
	char *d, *k;
	size_t dn = 0, kn = 0, i;
	uint32_t *prev;
	int round;

	(void)state;
	d = malloc(N * 80 + 64);
	k = malloc(N * 120 + 64);
	nodes = calloc(N, sizeof(*nodes));
	prev = calloc(N, sizeof(*prev));
	out = calloc(1, sizeof(*out));
	assert_true(d && k && nodes && prev && out);
	dn += (size_t)sprintf(d, "devices = (\n");
	kn += (size_t)sprintf(k, "keys = (\n");
	for (i = 0; i < N; i++) {
		dn += (size_t)sprintf(d + dn, "{ id = \"%016zX\"; stream = "
		    "\"s\"; }%s\n", 0x1000 + i, i + 1 < N ? "," : "");
		kn += (size_t)sprintf(k + kn, "{ id = \"%016zX\"; secret = "
		    "\"%064zx\"; }%s\n", 0x1000 + i, i + 1, i + 1 < N ? "," :
		    "");
		tnode_init(&nodes[i], 0x1000 + i, 0);
		nodes[i].k[31] = (uint8_t)(i + 1);
		nodes[i].k[30] = (uint8_t)((i + 1) >> 8);
	}
	strcpy(d + dn, ");\n");
	strcpy(k + kn, ");\n");
	reg = load(d, k);
	assert_non_null(reg);
	id = ident_new(reg);
	assert_non_null(id);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < N; i++) {
			struct tnode *n = &nodes[i];
			uint8_t fr[LINK_FRAME_MAX];
			size_t len;

			prev[i] = n->ks.sid;
			node_hello(n);
			assert_int_equal(ident_input(id, n->hello,
			    n->hello_len, 0, out), IDENT_OK);
			assert_int_equal(node_challenge(n, out->reply,
			    out->reply_len), 0);
			assert_int_equal(ident_input(id, n->resp, n->resp_len,
			    0, out), IDENT_OK);
			n->down_last = 0;
			assert_int_equal(node_down(n, out->reply,
			    out->reply_len, NULL, NULL), LINK_DOWN_ACCEPT);
			assert_int_not_equal(n->ks.sid, 0);
			len = node_up(n, 1, "p", fr);
			assert_int_equal(ident_input(id, fr, len, 0, out),
			    IDENT_OK);
			assert_true(out->dev->eui == n->eui);
		}
		/* Every sid distinct; every previous one stale. */
		for (i = 0; i < N; i++) {
			size_t j;
			uint8_t fr[LINK_FRAME_MAX];
			struct link_session_keys ks = nodes[i].ks;
			int len;

			for (j = i + 1; j < N; j++)
				assert_int_not_equal(nodes[i].ks.sid,
				    nodes[j].ks.sid);
			if (prev[i] == 0)
				continue;
			ks.sid = prev[i];
			len = link_seal(&ks, LINK_DIR_UP, 2, (const uint8_t *)
			    "q", 1, fr, sizeof(fr));
			assert_int_equal(ident_input(id, fr, (size_t)len, 0,
			    out), IDENT_DROP_STALE);
			assert_true(out->dev->eui == nodes[i].eui);
		}
	}
	ident_free(id);
	registry_free(reg);
	free(d);
	free(k);
	free(nodes);
	free(prev);
	free(out);
}

static void
test_strverdict(void **state)
{
	const char *names[IDENT_VERDICT_COUNT];
	int v, w;

	(void)state;
	for (v = 0; v < IDENT_VERDICT_COUNT; v++) {
		names[v] = ident_strverdict(-v);
		assert_string_not_equal(names[v], "invalid");
		for (w = 0; w < v; w++)
			assert_string_not_equal(names[v], names[w]);
	}
	assert_string_equal(ident_strverdict(-IDENT_VERDICT_COUNT), "invalid");
	assert_string_equal(ident_strverdict(IDENT_DROP_DOWNGRADE), "downgrade");
}

static void
test_rate_bucket(void **state)
{
	struct rate_limit l = { 120, 2 };	/* one per 500 ms */
	struct rate_bucket b;

	(void)state;
	rate_init(&b, &l, 1000);
	assert_int_equal(rate_take(&b, &l, 1000), 0);
	assert_int_equal(rate_take(&b, &l, 1000), 0);
	assert_int_equal(rate_take(&b, &l, 1000), -EAGAIN);
	assert_int_equal(rate_take(&b, &l, 1499), -EAGAIN);
	assert_int_equal(rate_take(&b, &l, 1500), 0);
	/* A clock going back adds nothing (and does not underflow). */
	assert_int_equal(rate_take(&b, &l, 10), -EAGAIN);
	/* A long silence refills to the burst, no more. */
	assert_int_equal(rate_take(&b, &l, UINT64_MAX / 2), 0);
	assert_int_equal(rate_take(&b, &l, UINT64_MAX / 2), 0);
	assert_int_equal(rate_take(&b, &l, UINT64_MAX / 2), -EAGAIN);
	/* Burst 0 counts as 1; per_min 0 is unlimited. */
	l.burst = 0;
	rate_init(&b, &l, 0);
	assert_int_equal(rate_take(&b, &l, 0), 0);
	assert_int_equal(rate_take(&b, &l, 0), -EAGAIN);
	l.per_min = 0;
	assert_int_equal(rate_take(&b, &l, 0), 0);
	/* Huge limits do not overflow. */
	l.per_min = UINT32_MAX;
	l.burst = UINT32_MAX;
	rate_init(&b, &l, 0);
	assert_int_equal(rate_take(&b, &l, UINT64_MAX), 0);
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_handshake),
		T(test_node_rejects_rogue_gateway),
		T(test_unknown_device),
		T(test_unknown_session),
		T(test_restart_forgets_sessions),
		T(test_bad_response),
		T(test_session_survives_restart),
		T(test_down_counter_never_repeats_across_restarts),
		T(test_restore_refuses_edited_and_foreign_records),
		T(test_forged_hello_and_response_do_not_block_join),
		T(test_hello_flood_keeps_live_challenge),
		T(test_v2_forged_hello_consumes_nothing),
		T(test_v2_replayed_hello),
		T(test_v2_counter_survives_restart),
		T(test_v1_joins_downgrade_refused_after_v2),
		T(test_v2_malformed),
		T(test_response_of_other_device),
		T(test_bad_mic),
		T(test_counter_replay),
		T(test_replayed_response),
		T(test_replayed_hello),
		T(test_replayed_handshake),
		T(test_stale_session),
		T(test_expired_challenge),
		T(test_challenge_superseded),
		T(test_revoked),
		T(test_revoked_live_session),
		T(test_reload_keeps_or_drops_sessions),
		T(test_rate_limit_data),
		T(test_rate_limit_hello_flood),
		T(test_malformed),
		T(test_direction),
		T(test_downlink_command),
		T(test_keepalive_after_silent_records_not_before),
		T(test_keepalive_lost_is_asked_again),
		T(test_keepalive_only_for_accepted_records),
		T(test_keepalive_burst_answered_spaced),
		cmocka_unit_test(test_many_sessions),
		cmocka_unit_test(test_strverdict),
		cmocka_unit_test(test_rate_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
