/*
 * fbnode.c - libfbnode: the node's state machine of the link protocol
 * (docs/link-protocol.md, "Node states") and its own frame parser and
 * builders.  Firmware embeds it; fieldbridge-sim runs every simulated node
 * on it; the gateway's side is policy/ident.c with its own codec
 * (radio/link.c), so the two halves are checked against each other.
 *
 * Frames (all integers big-endian; byte 0 is version << 4 | type):
 *
 *   HELLO      0x11 | eui(8) | Nn(16)                    25 bytes  node -> gw
 *   HELLO v2   0x21 | eui(8) | Nn(16) | jc(4) | mic(16)  45 bytes  node -> gw
 *   CHALLENGE  0x12 | eui(8) | Ng(16) | Tg(16)           41 bytes  gw -> node
 *   RESPONSE   0x13 | eui(8) | Tn(16)                    25 bytes  node -> gw
 *   DATA_UP    0x14 | sid(4) | fcnt(3) | ct(n) | mic(8)  16+n      node -> gw
 *              (0x1c: the same, asking for a keepalive)
 *   DATA_DOWN  0x15 | sid(4) | fcnt(3) | ct(n) | mic(8)  16+n      gw -> node
 *   ACK        0x16 | sid(4) | fcnt(3) | ct(6) | mic(8)  22        node -> gw
 *              (sealed like a DATA_UP; plaintext: the COMMAND's down
 *              fcnt(3) | its ref(2) | status(1))
 *
 *   COMMAND plaintext: 0x02 | kind(1) | ref(2) | body
 *
 *   Tg  = HMAC(K, "FBLINK1 Tg" | Ng | Nn | eui)[0..15]
 *   Tn  = HMAC(K, "FBLINK1 Tn" | Nn | Ng | eui)[0..15]
 *   up key | down key = HKDF(IKM K, salt Nn | Ng, info "FBLINK1 keys" | eui)
 *   Kh  = HKDF(IKM K, salt 32 zero bytes, info "FBLINK2 hello" | eui)
 *   mic = HMAC(Kh, HELLO v2 bytes 0..28)[0..15]; jc: the join counter
 *   data: AES-128-CCM-8, aad = the 8 header bytes,
 *         nonce = dir (0 up, 1 down) | sid | fcnt | 00 00 00 00 00
 *
 * Everything the library decides is here; everything it computes with a
 * key goes through the back-end (fbnode_crypto.h).  No heap, no libc
 * beyond memcpy and memset, no static data but constant labels, and time
 * only as the caller's millisecond counter, compared modulo 2^32 so a
 * wrapping tick counter works.  Secrets are compared in constant time and
 * wiped from the stack before returning.
 */
#include <string.h>

#include "node/fbnode.h"

#define FBNODE_HDR_LEN		8	/* data frame: header, sid, fcnt */
#define FBNODE_EUI_LEN		8
#define FBNODE_LABEL_LEN	10	/* "FBLINK1 Tg", "FBLINK1 Tn" */
#define FBNODE_KEYS_LABEL_LEN	12	/* "FBLINK1 keys" */
#define FBNODE_SAVE_LABEL_LEN	12	/* "FBLINK1 save" */
#define FBNODE_HELLO_LABEL_LEN	13	/* "FBLINK2 hello" */
#define FBNODE_HELLO2_MAC_LEN	(FBNODE_HELLO_LEN + 4)	/* what the MIC
								 * covers */
#define FBNODE_SAVED_MAC_LEN	16
#define FBNODE_SAVED_BODY_LEN	(FBNODE_SAVED_LEN - FBNODE_SAVED_MAC_LEN)
#define FBNODE_SAVED_MAGIC	0x46424e53u	/* "FBNS" */

static const uint8_t fbnode_label_tg[FBNODE_LABEL_LEN] = {
	'F', 'B', 'L', 'I', 'N', 'K', '1', ' ', 'T', 'g' };
static const uint8_t fbnode_label_tn[FBNODE_LABEL_LEN] = {
	'F', 'B', 'L', 'I', 'N', 'K', '1', ' ', 'T', 'n' };
static const uint8_t fbnode_label_keys[FBNODE_KEYS_LABEL_LEN] = {
	'F', 'B', 'L', 'I', 'N', 'K', '1', ' ', 'k', 'e', 'y', 's' };
static const uint8_t fbnode_label_save[FBNODE_SAVE_LABEL_LEN] = {
	'F', 'B', 'L', 'I', 'N', 'K', '1', ' ', 's', 'a', 'v', 'e' };
static const uint8_t fbnode_label_hello[FBNODE_HELLO_LABEL_LEN] = {
	'F', 'B', 'L', 'I', 'N', 'K', '2', ' ', 'h', 'e', 'l', 'l', 'o' };

/* ---- bytes ---- */

static void
fbnode_put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
fbnode_get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Equal in time that does not depend on where the bytes differ. */
static int
fbnode_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(a[i] ^ b[i]);
	return d == 0;
}

/* A wipe the compiler may not drop: the store goes through a volatile
 * pointer (C99 has no memset_s). */
static void
fbnode_wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* Has now reached deadline, on a counter that wraps every 2^32 ms? */
static int
fbnode_reached(uint32_t now, uint32_t deadline)
{
	return (uint32_t)(now - deadline) < 0x80000000u;
}

static uint8_t
fbnode_hdr(enum fbnode_type t)
{
	return (uint8_t)(FBNODE_VERSION << 4 | t);
}

/* ---- the parser ---- */

int
fbnode_parse(const uint8_t *buf, size_t len, struct fbnode_frame *f)
{
	size_t want = 0;

	memset(f, 0, sizeof(*f));
	if (len < 1)
		return FBNODE_DROP_SHORT;
	f->version = buf[0] >> 4;
	if (f->version != FBNODE_VERSION && f->version != FBNODE_VERSION_2)
		return FBNODE_DROP_VERSION;
	f->type = buf[0] & 0x0f;
	if (f->version == FBNODE_VERSION_2) {
		/* Version 2 is the HELLO alone. */
		if (f->type != FBNODE_HELLO) {
			f->type = 0;
			return FBNODE_DROP_TYPE;
		}
		if (len != FBNODE_HELLO2_LEN)
			return FBNODE_DROP_LENGTH;
		f->eui = fbnode_get_be(buf + 1, FBNODE_EUI_LEN);
		f->nonce = buf + 1 + FBNODE_EUI_LEN;
		f->join_ctr = (uint32_t)fbnode_get_be(buf + FBNODE_HELLO_LEN,
		    4);
		f->proof = buf + FBNODE_HELLO2_MAC_LEN;
		return FBNODE_OK;
	}
	if (f->type == (FBNODE_FLAG_KEEPALIVE_REQ | FBNODE_DATA_UP)) {
		f->type = FBNODE_DATA_UP;
		f->flags = FBNODE_FLAG_KEEPALIVE_REQ;
	}
	switch (f->type) {
	case FBNODE_HELLO:
		want = FBNODE_HELLO_LEN;
		break;
	case FBNODE_CHALLENGE:
		want = FBNODE_CHALLENGE_LEN;
		break;
	case FBNODE_RESPONSE:
		want = FBNODE_RESPONSE_LEN;
		break;
	case FBNODE_DATA_UP:
	case FBNODE_DATA_DOWN:
		break;
	case FBNODE_ACK:
		if (len != FBNODE_ACK_LEN)
			return FBNODE_DROP_LENGTH;
		break;
	default:
		f->type = 0;
		return FBNODE_DROP_TYPE;
	}
	if (want != 0) {
		if (len != want)
			return FBNODE_DROP_LENGTH;
		f->eui = fbnode_get_be(buf + 1, FBNODE_EUI_LEN);
		if (f->type == FBNODE_RESPONSE)
			f->proof = buf + 1 + FBNODE_EUI_LEN;
		else
			f->nonce = buf + 1 + FBNODE_EUI_LEN;
		if (f->type == FBNODE_CHALLENGE)
			f->proof = buf + 1 + FBNODE_EUI_LEN + FBNODE_NONCE_LEN;
		return FBNODE_OK;
	}
	if (len < FBNODE_DATA_OVERHEAD || len > FBNODE_FRAME_MAX)
		return FBNODE_DROP_LENGTH;
	f->sid = (uint32_t)fbnode_get_be(buf + 1, 4);
	f->fcnt = (uint32_t)fbnode_get_be(buf + 5, 3);
	f->ct = buf + FBNODE_HDR_LEN;
	f->ct_len = len - FBNODE_HDR_LEN;
	return FBNODE_OK;
}

/* ---- the constructions ---- */

/*
 * Tg or Tn: the label, then the nonce of the prover's peer first (ISO/IEC
 * 9798-4), then the EUI.  The two labels differ and the nonces swap, so
 * neither proof can stand in for the other.
 */
static int
fbnode_proof(const struct fbnode *n, const uint8_t *label, const uint8_t *first,
    const uint8_t *second, uint8_t out[FBNODE_PROOF_LEN])
{
	uint8_t msg[FBNODE_LABEL_LEN + 2 * FBNODE_NONCE_LEN + FBNODE_EUI_LEN];
	uint8_t mac[FBNODE_HMAC_LEN];
	int r;

	memcpy(msg, label, FBNODE_LABEL_LEN);
	memcpy(msg + FBNODE_LABEL_LEN, first, FBNODE_NONCE_LEN);
	memcpy(msg + FBNODE_LABEL_LEN + FBNODE_NONCE_LEN, second,
	    FBNODE_NONCE_LEN);
	fbnode_put_be(msg + FBNODE_LABEL_LEN + 2 * FBNODE_NONCE_LEN, n->eui,
	    FBNODE_EUI_LEN);
	r = n->ops->mac(n->arg, msg, sizeof(msg), mac) == 0 ? FBNODE_OK :
	    FBNODE_ERR_CRYPTO;
	if (r == FBNODE_OK)
		memcpy(out, mac, FBNODE_PROOF_LEN);
	fbnode_wipe(mac, sizeof(mac));
	return r;
}

static void
fbnode_ccm_nonce(uint8_t nonce[FBNODE_CCM_NONCE_LEN], unsigned int dir,
    uint32_t sid, uint32_t fcnt)
{
	memset(nonce, 0, FBNODE_CCM_NONCE_LEN);
	nonce[0] = (uint8_t)dir;
	fbnode_put_be(nonce + 1, sid, 4);
	fbnode_put_be(nonce + 5, fcnt, 3);
}

/* ---- set-up ---- */

int
fbnode_init(struct fbnode *n, uint64_t eui,
    const struct fbnode_crypto_ops *ops, void *arg,
    const struct fbnode_config *cfg)
{
	if (n == NULL)
		return FBNODE_ERR_ARG;
	memset(n, 0, sizeof(*n));
	if (ops == NULL || ops->mac == NULL || ops->derive == NULL ||
	    ops->seal == NULL || ops->open == NULL || ops->random == NULL)
		return FBNODE_ERR_ARG;
	n->ops = ops;
	n->arg = arg;
	n->eui = eui;
	n->ka_req = FBNODE_KEEPALIVE_REQ_UPLINKS;
	n->rejoin = FBNODE_REJOIN_SILENT_UPLINKS;
	n->timeout_ms = FBNODE_HANDSHAKE_TIMEOUT_MS;
	n->step = FBNODE_PERSIST_STEP;
	n->join_step = FBNODE_JOIN_STEP;
	if (cfg != NULL) {
		if (cfg->join_step != 0)
			n->join_step = cfg->join_step;
		n->hello_v1 = cfg->hello_v1 != 0;
		if (cfg->keepalive_req_uplinks != 0)
			n->ka_req = cfg->keepalive_req_uplinks;
		if (cfg->rejoin_silent_uplinks != 0)
			n->rejoin = cfg->rejoin_silent_uplinks;
		if (cfg->handshake_timeout_ms != 0)
			n->timeout_ms = cfg->handshake_timeout_ms;
		if (cfg->persist_step != 0)
			n->step = cfg->persist_step;
		n->persist = cfg->persist != 0;
		n->command = cfg->command;
		n->command_arg = cfg->command_arg;
	}
	/* Asking must start before giving up, or the node never asks. */
	if (n->ka_req >= n->rejoin || n->timeout_ms >= 0x80000000u ||
	    (!n->hello_v1 && ops->mac_key == NULL))
		return FBNODE_ERR_ARG;
	return FBNODE_OK;
}

/* Leave the session: keys and nonce go, the node is IDLE. */
static void
fbnode_forget(struct fbnode *n)
{
	fbnode_wipe(n->nn, sizeof(n->nn));
	fbnode_wipe(n->up, sizeof(n->up));
	fbnode_wipe(n->down, sizeof(n->down));
	n->sid = 0;
	n->fcnt_up = n->fcnt_down = n->up_reserved = 0;
	n->silent = 0;
	n->cmd_seen = 0;
	n->state = FBNODE_IDLE;
}

void
fbnode_done(struct fbnode *n)
{
	if (n == NULL)
		return;
	fbnode_forget(n);
	fbnode_wipe(n, sizeof(*n));
}

static void
fbnode_result_clear(struct fbnode_result *res)
{
	memset(res, 0, sizeof(*res));
}

/* ---- the state machine ---- */

/*
 * The version 2 HELLO's MIC over its first FBNODE_HELLO2_MAC_LEN bytes:
 * Kh from the back-end's HKDF (salt: HashLen zero bytes, RFC 5869's
 * default), then HMAC-SHA-256 under Kh, truncated.
 */
static int
fbnode_hello_mic(const struct fbnode *n, const uint8_t *msg,
    uint8_t mic[FBNODE_HELLO_MIC_LEN])
{
	uint8_t salt[FBNODE_HMAC_LEN], kh[FBNODE_HELLO_KEY_LEN];
	uint8_t info[FBNODE_HELLO_LABEL_LEN + FBNODE_EUI_LEN];
	uint8_t full[FBNODE_HMAC_LEN];
	int r = FBNODE_ERR_CRYPTO;

	memset(salt, 0, sizeof(salt));
	memcpy(info, fbnode_label_hello, FBNODE_HELLO_LABEL_LEN);
	fbnode_put_be(info + FBNODE_HELLO_LABEL_LEN, n->eui, FBNODE_EUI_LEN);
	if (n->ops->derive(n->arg, salt, sizeof(salt), info, sizeof(info),
	    kh, sizeof(kh)) == 0 &&
	    n->ops->mac_key(n->arg, kh, sizeof(kh), msg,
	    FBNODE_HELLO2_MAC_LEN, full) == 0) {
		memcpy(mic, full, FBNODE_HELLO_MIC_LEN);
		r = FBNODE_OK;
	}
	fbnode_wipe(kh, sizeof(kh));
	fbnode_wipe(full, sizeof(full));
	return r;
}

int
fbnode_join(struct fbnode *n, uint32_t now_ms, uint8_t *out, size_t cap,
    struct fbnode_result *res)
{
	size_t len = n->hello_v1 ? FBNODE_HELLO_LEN : FBNODE_HELLO2_LEN;
	uint32_t ctr = n->join_ctr + 1;

	fbnode_result_clear(res);
	if (cap < len)
		return FBNODE_ERR_BUFFER;
	if (!n->hello_v1 && n->join_ctr == 0xffffffffu)
		return FBNODE_ERR_COUNTER;
	fbnode_forget(n);
	if (n->ops->random(n->arg, n->nn, sizeof(n->nn)) != 0)
		return FBNODE_ERR_CRYPTO;
	out[0] = fbnode_hdr(FBNODE_HELLO);
	fbnode_put_be(out + 1, n->eui, FBNODE_EUI_LEN);
	memcpy(out + 1 + FBNODE_EUI_LEN, n->nn, FBNODE_NONCE_LEN);
	if (!n->hello_v1) {
		out[0] = (uint8_t)(FBNODE_VERSION_2 << 4 | FBNODE_HELLO);
		fbnode_put_be(out + FBNODE_HELLO_LEN, ctr, 4);
		if (fbnode_hello_mic(n, out, out + FBNODE_HELLO2_MAC_LEN) != 0)
			return FBNODE_ERR_CRYPTO;
		/* Spent once the frame exists, sent or not. */
		n->join_ctr = ctr;
		if (ctr > n->join_resv) {
			n->join_resv = ctr + n->join_step - 1 < ctr ?
			    0xffffffffu : ctr + n->join_step - 1;
			res->save_join = 1;
		}
	}
	n->state = FBNODE_WAIT_CHALLENGE;
	n->deadline_ms = now_ms + n->timeout_ms;
	res->tx = out;
	res->tx_len = len;
	res->persist = n->persist;	/* the saved session is over */
	return FBNODE_OK;
}

void
fbnode_set_join_counter(struct fbnode *n, uint32_t saved)
{
	n->join_ctr = saved;
	n->join_resv = saved;
}

uint32_t
fbnode_join_counter_saved(const struct fbnode *n)
{
	return n->join_resv;
}

/*
 * A CHALLENGE: only the one answering our HELLO, with a Tg that only a
 * holder of K could compute over our fresh Nn.  Anything else is ignored
 * and the node keeps waiting (a rogue gateway must not be able to cut a
 * handshake short).
 */
static int
fbnode_challenge(struct fbnode *n, const struct fbnode_frame *f,
    uint32_t now_ms, uint8_t *out, size_t cap, struct fbnode_result *res)
{
	uint8_t tg[FBNODE_PROOF_LEN], tn[FBNODE_PROOF_LEN];
	uint8_t salt[2 * FBNODE_NONCE_LEN];
	uint8_t info[FBNODE_KEYS_LABEL_LEN + FBNODE_EUI_LEN];
	uint8_t okm[2 * FBNODE_KEY_LEN];
	int r = FBNODE_ERR_CRYPTO;

	if (f->eui != n->eui)
		return FBNODE_DROP_NOT_MINE;
	if (n->state != FBNODE_WAIT_CHALLENGE)
		return FBNODE_DROP_UNEXPECTED;
	if (cap < FBNODE_RESPONSE_LEN)
		return FBNODE_ERR_BUFFER;
	memcpy(salt, n->nn, FBNODE_NONCE_LEN);
	memcpy(salt + FBNODE_NONCE_LEN, f->nonce, FBNODE_NONCE_LEN);
	memcpy(info, fbnode_label_keys, FBNODE_KEYS_LABEL_LEN);
	fbnode_put_be(info + FBNODE_KEYS_LABEL_LEN, n->eui, FBNODE_EUI_LEN);
	if (fbnode_proof(n, fbnode_label_tg, f->nonce, n->nn, tg) != 0)
		goto out;
	if (!fbnode_ct_equal(tg, f->proof, FBNODE_PROOF_LEN)) {
		r = FBNODE_DROP_PROOF;
		goto out;
	}
	if (fbnode_proof(n, fbnode_label_tn, n->nn, f->nonce, tn) != 0 ||
	    n->ops->derive(n->arg, salt, sizeof(salt), info, sizeof(info),
	    okm, sizeof(okm)) != 0)
		goto out;
	memcpy(n->up, okm, FBNODE_KEY_LEN);
	memcpy(n->down, okm + FBNODE_KEY_LEN, FBNODE_KEY_LEN);
	out[0] = fbnode_hdr(FBNODE_RESPONSE);
	fbnode_put_be(out + 1, n->eui, FBNODE_EUI_LEN);
	memcpy(out + 1 + FBNODE_EUI_LEN, tn, FBNODE_PROOF_LEN);
	n->state = FBNODE_WAIT_ACCEPT;
	n->deadline_ms = now_ms + n->timeout_ms;
	res->tx = out;
	res->tx_len = FBNODE_RESPONSE_LEN;
	r = FBNODE_OK;
out:
	fbnode_wipe(okm, sizeof(okm));
	fbnode_wipe(tn, sizeof(tn));
	return r;
}

/*
 * A DATA_DOWN: sid first (no cryptography for another node's frame), then
 * the MIC under the down key, then the counter, then the kind.  A frame
 * that opens with a fresh counter was sent by the gateway for this
 * session, so it advances the counter and ends the silence whatever its
 * kind; only then does the kind decide what happens.
 */
static int	fbnode_seal_up(struct fbnode *n, uint8_t hdr,
		    const uint8_t *plain, size_t len, uint8_t *out, size_t cap,
		    struct fbnode_result *res);

/* A COMMAND opened into out (plen bytes): report it, or with a callback
 * run it (once per ref) and put its ACK in out. */
static int
fbnode_command(struct fbnode *n, uint8_t *out, size_t plen, size_t cap,
    struct fbnode_result *res)
{
	uint32_t fcnt = res->fcnt;
	uint8_t status;

	res->kind = FBNODE_DOWN_COMMAND;
	res->cmd_kind = out[1];
	res->cmd_ref = (uint16_t)fbnode_get_be(out + 2, 2);
	res->body = out + FBNODE_COMMAND_HDR_LEN;
	res->body_len = plen - FBNODE_COMMAND_HDR_LEN;
	res->repeat = n->cmd_seen && n->cmd_ref == res->cmd_ref;
	res->cmd_status = res->repeat ? n->cmd_status : 0;
	if (n->command == NULL)
		return FBNODE_OK;
	status = res->repeat ? n->cmd_status : n->command(n->command_arg,
	    res->cmd_kind, res->body, res->body_len);
	/* The ACK goes where the body was: the callback is done with it. */
	res->body = NULL;
	res->body_len = 0;
	/* Acted on even when no ACK can be made (a buffer too small, the
	 * counters exhausted: then the node is IDLE and joins again); the
	 * gateway sends the command again in a later window. */
	(void)fbnode_ack(n, fcnt, res->cmd_ref, status, out, cap, res);
	return FBNODE_OK;
}

static int
fbnode_down(struct fbnode *n, const struct fbnode_frame *f,
    const uint8_t *frame, uint8_t *out, size_t cap,
    struct fbnode_result *res)
{
	uint8_t nonce[FBNODE_CCM_NONCE_LEN];
	size_t plen;
	int r;

	if (n->state == FBNODE_JOINED) {
		if (f->sid != n->sid)
			return FBNODE_DROP_NOT_MINE;
	} else if (n->state != FBNODE_WAIT_ACCEPT)
		return FBNODE_DROP_UNEXPECTED;
	plen = f->ct_len - FBNODE_MIC_LEN;
	if (cap < plen)
		return FBNODE_ERR_BUFFER;
	/* The ACCEPT tells the node its sid, so the nonce takes the frame's
	 * sid; the MIC binds it. */
	fbnode_ccm_nonce(nonce, 1, f->sid, f->fcnt);
	r = n->ops->open(n->arg, n->down, nonce, frame, FBNODE_HDR_LEN, f->ct,
	    f->ct_len, out);
	if (r == FBNODE_CRYPTO_BAD_TAG)
		return FBNODE_DROP_MIC;
	if (r != 0)
		return FBNODE_ERR_CRYPTO;
	if (n->state == FBNODE_WAIT_ACCEPT) {
		/* The first frame of a session must be its ACCEPT, fcnt 1
		 * or above, with a sid (never 0); anything else is no proof
		 * that the session exists. */
		if (plen != 1 || out[0] != FBNODE_DOWN_ACCEPT || f->fcnt == 0 ||
		    f->sid == 0)
			return FBNODE_DROP_BODY;
		n->sid = f->sid;
		n->fcnt_down = f->fcnt;
		n->fcnt_up = 0;
		n->up_reserved = 0;
		n->silent = 0;
		n->state = FBNODE_JOINED;
		fbnode_wipe(n->nn, sizeof(n->nn));
		res->kind = FBNODE_DOWN_ACCEPT;
		res->fcnt = f->fcnt;
		res->persist = n->persist;
		return FBNODE_OK;
	}
	if (f->fcnt <= n->fcnt_down)
		return FBNODE_DROP_REPLAY;
	n->fcnt_down = f->fcnt;
	n->silent = 0;
	res->fcnt = f->fcnt;
	res->persist = n->persist;
	if (plen == 1 && out[0] == FBNODE_DOWN_KEEPALIVE) {
		res->kind = FBNODE_DOWN_KEEPALIVE;
		return FBNODE_OK;
	}
	if (plen >= FBNODE_COMMAND_HDR_LEN && out[0] == FBNODE_DOWN_COMMAND)
		return fbnode_command(n, out, plen, cap, res);
	/* Empty, a second ACCEPT, a keepalive with a body, a kind from a
	 * later version: nothing to act on. */
	return FBNODE_DROP_BODY;
}

int
fbnode_input(struct fbnode *n, const uint8_t *frame, size_t len,
    uint32_t now_ms, uint8_t *out, size_t cap, struct fbnode_result *res)
{
	struct fbnode_frame f;
	int r;

	fbnode_result_clear(res);
	if ((r = fbnode_parse(frame, len, &f)) != FBNODE_OK)
		return r;
	switch (f.type) {
	case FBNODE_CHALLENGE:
		return fbnode_challenge(n, &f, now_ms, out, cap, res);
	case FBNODE_DATA_DOWN:
		return fbnode_down(n, &f, frame, out, cap, res);
	default:
		return FBNODE_DROP_DIRECTION;
	}
}

/* Seal an uplink (DATA_UP or ACK, header hdr) with the next up counter;
 * the checks every uplink needs first. */
static int
fbnode_seal_up(struct fbnode *n, uint8_t hdr, const uint8_t *plain,
    size_t len, uint8_t *out, size_t cap, struct fbnode_result *res)
{
	uint8_t nonce[FBNODE_CCM_NONCE_LEN];
	uint32_t fcnt;

	if (n->state != FBNODE_JOINED)
		return FBNODE_ERR_STATE;
	if (n->fcnt_up >= FBNODE_FCNT_MAX || n->silent >= n->rejoin) {
		/* Out of counters, or the gateway has not answered for
		 * too long (it may have restarted and lost the keys). */
		fbnode_forget(n);
		return FBNODE_ERR_REJOIN;
	}
	if (len > FBNODE_PAYLOAD_MAX || (len > 0 && plain == NULL))
		return FBNODE_ERR_SIZE;
	if (cap < len + FBNODE_DATA_OVERHEAD)
		return FBNODE_ERR_BUFFER;
	fcnt = n->fcnt_up + 1;
	out[0] = hdr;
	fbnode_put_be(out + 1, n->sid, 4);
	fbnode_put_be(out + 5, fcnt, 3);
	fbnode_ccm_nonce(nonce, 0, n->sid, fcnt);
	if (n->ops->seal(n->arg, n->up, nonce, out, FBNODE_HDR_LEN, plain,
	    len, out + FBNODE_HDR_LEN) != 0)
		return FBNODE_ERR_CRYPTO;
	/* The counter is spent once the frame exists, sent or not. */
	n->fcnt_up = fcnt;
	n->silent++;
	if (n->persist && fcnt > n->up_reserved) {
		n->up_reserved = fcnt + n->step - 1;
		if (n->up_reserved > FBNODE_FCNT_MAX)
			n->up_reserved = FBNODE_FCNT_MAX;
		res->persist = 1;
	}
	res->tx = out;
	res->tx_len = len + FBNODE_DATA_OVERHEAD;
	res->fcnt = fcnt;
	return FBNODE_OK;
}

int
fbnode_send(struct fbnode *n, const uint8_t *payload, size_t len,
    uint8_t *out, size_t cap, struct fbnode_result *res)
{
	unsigned int flags;
	int r;

	fbnode_result_clear(res);
	flags = n->silent >= n->ka_req ? FBNODE_FLAG_KEEPALIVE_REQ : 0;
	r = fbnode_seal_up(n, (uint8_t)(fbnode_hdr(FBNODE_DATA_UP) | flags),
	    payload, len, out, cap, res);
	if (r == FBNODE_OK)
		res->keepalive_req = flags != 0;
	return r;
}

int
fbnode_ack(struct fbnode *n, uint32_t down_fcnt, uint16_t ref,
    uint8_t status, uint8_t *out, size_t cap, struct fbnode_result *res)
{
	uint8_t plain[FBNODE_ACK_PLAIN_LEN];
	int r;

	/* The callback's path keeps what it reported of the command. */
	res->tx = NULL;
	res->tx_len = 0;
	res->persist = 0;
	if (down_fcnt < 2 || down_fcnt > FBNODE_FCNT_MAX)
		return FBNODE_ERR_ARG;
	fbnode_put_be(plain, down_fcnt, 3);
	fbnode_put_be(plain + 3, ref, 2);
	plain[5] = status;
	r = fbnode_seal_up(n, fbnode_hdr(FBNODE_ACK), plain, sizeof(plain),
	    out, cap, res);
	if (r == FBNODE_OK) {
		n->cmd_ref = ref;
		n->cmd_status = status;
		n->cmd_seen = 1;
	}
	return r;
}

int
fbnode_tick(struct fbnode *n, uint32_t now_ms)
{
	if ((n->state == FBNODE_WAIT_CHALLENGE ||
	    n->state == FBNODE_WAIT_ACCEPT) &&
	    fbnode_reached(now_ms, n->deadline_ms)) {
		fbnode_forget(n);
		return 1;
	}
	return 0;
}

/* ---- persistence ---- */

/*
 * Saved session, FBNODE_SAVED_LEN bytes, big-endian:
 *
 *   0  magic "FBNS"      4        32  down key       16
 *   4  eui               8        48  up_reserved     4
 *  12  sid               4        52  fcnt_down       4
 *  16  up key           16        56  silent          2
 *                                 58  zero            2
 *  60  HMAC(K, "FBLINK1 save" | bytes 0..59), first 16 bytes
 *
 * sid 0 (keys zero) means no session: the node joins.  up_reserved is
 * the highest up counter the node may have used: the
 * restored node sends from up_reserved + 1, so no nonce repeats.  The MAC
 * refuses torn writes, flash corruption and another node's copy.
 */
static int
fbnode_saved_mac(const struct fbnode *n, const uint8_t *body,
    uint8_t mac[FBNODE_SAVED_MAC_LEN])
{
	uint8_t msg[FBNODE_SAVE_LABEL_LEN + FBNODE_SAVED_BODY_LEN];
	uint8_t full[FBNODE_HMAC_LEN];
	int r;

	memcpy(msg, fbnode_label_save, FBNODE_SAVE_LABEL_LEN);
	memcpy(msg + FBNODE_SAVE_LABEL_LEN, body, FBNODE_SAVED_BODY_LEN);
	r = n->ops->mac(n->arg, msg, sizeof(msg), full) == 0 ? FBNODE_OK :
	    FBNODE_ERR_CRYPTO;
	if (r == FBNODE_OK)
		memcpy(mac, full, FBNODE_SAVED_MAC_LEN);
	fbnode_wipe(full, sizeof(full));
	fbnode_wipe(msg, sizeof(msg));
	return r;
}

int
fbnode_save(const struct fbnode *n, uint8_t out[FBNODE_SAVED_LEN])
{
	memset(out, 0, FBNODE_SAVED_LEN);
	fbnode_put_be(out, FBNODE_SAVED_MAGIC, 4);
	fbnode_put_be(out + 4, n->eui, 8);
	/* Outside a session the record says "none" (sid 0), so that a node
	 * reset while it joins does not wake up in a superseded session. */
	if (n->state == FBNODE_JOINED) {
		fbnode_put_be(out + 12, n->sid, 4);
		memcpy(out + 16, n->up, FBNODE_KEY_LEN);
		memcpy(out + 32, n->down, FBNODE_KEY_LEN);
	}
	/* Without a reservation yet (right after the ACCEPT), the counters
	 * used so far are all there is to skip. */
	fbnode_put_be(out + 48, n->up_reserved > n->fcnt_up ? n->up_reserved :
	    n->fcnt_up, 4);
	fbnode_put_be(out + 52, n->fcnt_down, 4);
	fbnode_put_be(out + 56, n->silent, 2);
	return fbnode_saved_mac(n, out, out + FBNODE_SAVED_BODY_LEN);
}

int
fbnode_restore(struct fbnode *n, const uint8_t *saved, size_t len)
{
	uint8_t mac[FBNODE_SAVED_MAC_LEN];
	uint32_t sid, reserved, down;
	int r;

	if (len != FBNODE_SAVED_LEN)
		return FBNODE_ERR_SAVED;
	if ((r = fbnode_saved_mac(n, saved, mac)) != FBNODE_OK)
		return r;
	sid = (uint32_t)fbnode_get_be(saved + 12, 4);
	reserved = (uint32_t)fbnode_get_be(saved + 48, 4);
	down = (uint32_t)fbnode_get_be(saved + 52, 4);
	if (!fbnode_ct_equal(mac, saved + FBNODE_SAVED_BODY_LEN,
	    FBNODE_SAVED_MAC_LEN) ||
	    fbnode_get_be(saved, 4) != FBNODE_SAVED_MAGIC ||
	    fbnode_get_be(saved + 4, 8) != n->eui || sid == 0 ||
	    reserved > FBNODE_FCNT_MAX || down > FBNODE_FCNT_MAX)
		return FBNODE_ERR_SAVED;
	fbnode_forget(n);
	n->sid = sid;
	memcpy(n->up, saved + 16, FBNODE_KEY_LEN);
	memcpy(n->down, saved + 32, FBNODE_KEY_LEN);
	n->fcnt_up = reserved;
	n->up_reserved = reserved;
	n->fcnt_down = down;
	n->silent = (uint16_t)fbnode_get_be(saved + 56, 2);
	n->state = FBNODE_JOINED;
	return FBNODE_OK;
}

/* ---- accessors ---- */

int
fbnode_state(const struct fbnode *n)
{
	return n->state;
}

uint32_t
fbnode_sid(const struct fbnode *n)
{
	return n->state == FBNODE_JOINED ? n->sid : 0;
}

uint32_t
fbnode_fcnt_up(const struct fbnode *n)
{
	return n->fcnt_up;
}

unsigned int
fbnode_silent(const struct fbnode *n)
{
	return n->silent;
}

const char *
fbnode_strerror(int verdict)
{
	switch (verdict) {
	case FBNODE_OK: return "ok";
	case FBNODE_DROP_SHORT: return "empty frame";
	case FBNODE_DROP_VERSION: return "unsupported link version";
	case FBNODE_DROP_TYPE: return "unknown frame type";
	case FBNODE_DROP_LENGTH: return "wrong length for frame type";
	case FBNODE_DROP_DIRECTION: return "a node's frame";
	case FBNODE_DROP_NOT_MINE: return "for another node or session";
	case FBNODE_DROP_UNEXPECTED: return "not expected in this state";
	case FBNODE_DROP_PROOF: return "gateway proof wrong";
	case FBNODE_DROP_MIC: return "authentication failed";
	case FBNODE_DROP_REPLAY: return "replayed downlink";
	case FBNODE_DROP_BODY: return "downlink body not understood";
	case FBNODE_ERR_STATE: return "not in a session";
	case FBNODE_ERR_REJOIN: return "session over, join again";
	case FBNODE_ERR_BUFFER: return "buffer too small";
	case FBNODE_ERR_SIZE: return "payload too large";
	case FBNODE_ERR_CRYPTO: return "crypto back-end failed";
	case FBNODE_ERR_SAVED: return "saved session not valid";
	case FBNODE_ERR_ARG: return "invalid argument";
	case FBNODE_ERR_COUNTER: return "join counter spent, new secret needed";
	default: return "unknown libfbnode result";
	}
}
