/*
 * fuzz_node.c - libfbnode's frame parser and state machine on
 * attacker-chosen downlinks.
 *
 * The input is a script: each step is one opcode byte, then for opcodes
 * that carry a frame, one length byte L and L bytes.
 *
 *   0  a frame as received (fbnode_input), L bytes follow
 *   1  the node joins (fbnode_join), nothing follows
 *   2  the node sends a record of L bytes (fbnode_send)
 *   3  time passes by L * 100 ms (fbnode_tick)
 *   4  the gateway's genuine CHALLENGE to the node's last HELLO
 *   5  a DATA_DOWN sealed under the node's real down key: 3 bytes fcnt,
 *      then L bytes of plaintext (so the fuzzer reaches the kinds and
 *      counters it could not forge its way into)
 *   6  save, then restore, the session
 *   other: a frame handed to fbnode_parse alone, L bytes follow
 *
 * The gateway side of 4 and 5 is the gateway's own codec (radio/link.c)
 * with the node's secret, so the harness knows the keys the node derives.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/fbnode.h"
#include "node/fbnode_gnutls.h"
#include "radio/link.h"

#define FUZZ_EUI	0x70B3D57ED0001001ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t fuzz_ctr;

/* Deterministic nonces, so a crash replays. */
static int
fuzz_rng(void *arg, uint8_t *out, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(fuzz_ctr + i);
	fuzz_ctr++;
	return 0;
}

static void
check_result(const struct fbnode *n, const struct fbnode_result *res,
    const uint8_t *buf, int r)
{
	if (r > 0 || r < FBNODE_ERR_ARG)
		abort();
	if (res->tx_len > FBNODE_FRAME_MAX ||
	    (res->tx_len > 0 && res->tx != buf))
		abort();
	if (res->body != NULL && (res->body < buf ||
	    res->body + res->body_len > buf + FBNODE_FRAME_MAX))
		abort();
	if (r != FBNODE_OK && (res->tx_len != 0 || res->kind != 0))
		abort();
	if (n->state > FBNODE_JOINED || (n->state == FBNODE_JOINED &&
	    n->sid == 0) || n->fcnt_up > FBNODE_FCNT_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fbnode_crypto_ops ops = fbnode_gnutls_ops;
	struct fbnode_gnutls g;
	struct fbnode n;
	struct fbnode_result res;
	struct fbnode_frame fr;
	struct link_session_keys ks;
	uint8_t k[LINK_SECRET_LEN], buf[FBNODE_FRAME_MAX];
	uint8_t frame[LINK_FRAME_MAX], nn[LINK_NONCE_LEN], ng[LINK_NONCE_LEN];
	uint8_t tg[LINK_PROOF_LEN], saved[FBNODE_SAVED_LEN];
	uint32_t now = 0;
	size_t off = 0, len;
	int r, op, have_keys = 0;

	memset(k, 0x11, sizeof(k));
	memset(nn, 0, sizeof(nn));
	memset(&ks, 0, sizeof(ks));
	fbnode_gnutls_init(&g, k);
	ops.random = fuzz_rng;
	fuzz_ctr = 0;
	if (fbnode_init(&n, FUZZ_EUI, &ops, &g, NULL) != FBNODE_OK)
		abort();
	while (off < size) {
		op = data[off++];
		r = FBNODE_OK;
		memset(&res, 0, sizeof(res));
		switch (op) {
		case 1:
			r = fbnode_join(&n, now, buf, sizeof(buf), &res);
			if (r == FBNODE_OK)
				memcpy(nn, buf + 9, sizeof(nn));
			break;
		case 3:
			if (off >= size)
				goto out;
			now += 100u * data[off++];
			(void)fbnode_tick(&n, now);
			break;
		case 4:
			memset(ng, 0x5a, sizeof(ng));
			ng[0] = (uint8_t)now;
			if (link_gw_proof(k, FUZZ_EUI, nn, ng, tg) != 0 ||
			    link_session_derive(k, FUZZ_EUI, nn, ng, &ks) != 0)
				abort();
			have_keys = 1;
			len = (size_t)link_build_challenge(frame, sizeof(frame),
			    FUZZ_EUI, ng, tg);
			r = fbnode_input(&n, frame, len, now, buf, sizeof(buf),
			    &res);
			break;
		case 6:
			if (fbnode_save(&n, saved) != FBNODE_OK)
				abort();
			r = fbnode_restore(&n, saved, sizeof(saved));
			if (r != FBNODE_OK && r != FBNODE_ERR_SAVED)
				abort();
			r = FBNODE_OK;
			break;
		default:
			if (off >= size)
				goto out;
			len = data[off++];
			if (op == 5) {
				uint32_t fcnt;

				if (size - off < 3)
					goto out;
				fcnt = (uint32_t)data[off] << 16 |
				    (uint32_t)data[off + 1] << 8 | data[off + 2];
				off += 3;
				if (len > size - off)
					len = size - off;
				ks.sid = n.sid != 0 ? n.sid : 0x1234;
				r = have_keys ? link_seal(&ks, LINK_DIR_DOWN,
				    fcnt, data + off, len, frame,
				    sizeof(frame)) : -1;
				off += len;
				if (r < 0) {
					/* Nothing to deliver: no keys yet,
					 * or a plaintext too long. */
					r = FBNODE_OK;
					break;
				}
				r = fbnode_input(&n, frame, (size_t)r, now, buf,
				    sizeof(buf), &res);
				break;
			}
			if (len > size - off)
				len = size - off;
			if (op == 0)
				r = fbnode_input(&n, data + off, len, now, buf,
				    sizeof(buf), &res);
			else if (op == 2)
				r = fbnode_send(&n, data + off, len, buf,
				    sizeof(buf), &res);
			else {
				r = fbnode_parse(data + off, len, &fr);
				if (r == FBNODE_OK && fr.ct != NULL &&
				    (fr.ct < data + off ||
				    fr.ct + fr.ct_len != data + off + len))
					abort();
			}
			off += len;
			break;
		}
		check_result(&n, &res, buf, r);
	}
out:
	fbnode_done(&n);
	fbnode_gnutls_done(&g);
	return 0;
}
