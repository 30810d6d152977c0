/*
 * sim_node.c - fieldbridge-sim's sensor nodes: one libfbnode context per
 * device of the registry (node/fbnode.c on its GnuTLS back-end, the same
 * code sensor firmware embeds), their telemetry schedule, and the
 * dispatch of each downlink to the node it is for.
 *
 *   IDLE --HELLO(Nn)--> WAIT_CHALLENGE --CHALLENGE, Tg checked--> send
 *   RESPONSE --> WAIT_ACCEPT --ACCEPT opened with the down key--> JOINED:
 *   telemetry at --rate with a strictly increasing counter.
 *
 * libfbnode decides everything the protocol decides: it ignores a
 * CHALLENGE whose proof Tg does not verify (a rogue gateway gets no
 * RESPONSE), sets the keepalive request flag after
 * LINK_KEEPALIVE_REQ_UPLINKS silent uplinks and ends the session after
 * LINK_REJOIN_SILENT_UPLINKS (the gateway may have restarted and
 * forgotten us) or at the last counter.  The simulator keeps the clock:
 * no answer within SIM_HS_TIMEOUT_MS plus a random jitter sends a fresh
 * HELLO (fbnode_join starts over from any state), so a fleet's retries
 * spread out.
 *
 * The gateway picks the session id and sends it in the ACCEPT's header, so
 * an ACCEPT is matched to its node by offering it to the nodes waiting for
 * one, oldest RESPONSE first (nearly always the first try: the gateway
 * answers in order); only the right node's down key opens it.  Joined
 * nodes are found by session id in a small hash table.
 *
 * Nodes send version 2 HELLOs (with a join counter and a MIC), or
 * version 1 ones with --v1.  A node must keep its join counter across
 * resets; the simulator has no flash, so each run starts its nodes' counters
 * from the wall clock (SIM_JOIN_CTR_PER_S a second since
 * SIM_JOIN_CTR_EPOCH), which grows from run to run as a saved counter
 * would, as long as a node joins fewer than that many times a second.
 *
 * Frames go up through the concentrator (sim_conc_rx); downlinks come from
 * it (sim_node_downlink).  A COMMAND is logged and acknowledged at once
 * (node_command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/fbnode.h"
#include "node/fbnode_gnutls.h"
#include "policy/registry.h"
#include "tools/sim.h"

#define SIM_HS_TIMEOUT_MS	2000		/* handshake step timeout */
#define SIM_HS_JITTER_MS	700
#define SIM_JOIN_CTR_EPOCH	1700000000	/* 2023-11-14, unix time */
#define SIM_JOIN_CTR_PER_S	16	/* 2^32 / 16 s: 8 years */

/* --- sessions by id, and the nodes waiting for an ACCEPT -------------- */

static unsigned int
sid_bucket(uint32_t sid)
{
	return ((sid * 2654435761u) >> 20) & (SIM_SID_BUCKETS - 1);
}

static void
sid_remove(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];
	int *pp;

	if (!n->hashed)
		return;
	for (pp = &s->sid_head[sid_bucket(n->hsid)]; *pp != -1;
	    pp = &s->nodes[*pp].hnext)
		if (*pp == ni) {
			*pp = n->hnext;
			break;
		}
	n->hashed = 0;
}

static void
sid_add(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];
	unsigned int b;

	n->hsid = fbnode_sid(&n->fb);
	b = sid_bucket(n->hsid);
	n->hnext = s->sid_head[b];
	s->sid_head[b] = ni;
	n->hashed = 1;
}

static void
wait_remove(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];

	if (!n->waiting)
		return;
	if (n->wprev != -1)
		s->nodes[n->wprev].wnext = n->wnext;
	else
		s->whead = n->wnext;
	if (n->wnext != -1)
		s->nodes[n->wnext].wprev = n->wprev;
	else
		s->wtail = n->wprev;
	n->wprev = n->wnext = -1;
	n->waiting = 0;
}

static void
wait_append(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];

	n->wnext = -1;
	n->wprev = s->wtail;
	if (s->wtail != -1)
		s->nodes[s->wtail].wnext = ni;
	else
		s->whead = ni;
	s->wtail = ni;
	n->waiting = 1;
}

/* Out of both lists: the node is about to leave its state. */
static void
node_unlist(struct sim *s, int ni)
{
	wait_remove(s, ni);
	sid_remove(s, ni);
}

static int
node_by_eui(const struct sim *s, uint64_t eui)
{
	unsigned int lo = 0, hi = s->nnodes, mid;

	/* nodes[] follows the registry's order, which is sorted by EUI. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->nodes[mid].dev->eui == eui)
			return (int)mid;
		if (s->nodes[mid].dev->eui < eui)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* --- the node side of the link protocol: libfbnode ---------------------- */

static uint64_t
hs_deadline(struct sim *s, uint64_t now)
{
	return now + SIM_HS_TIMEOUT_MS + sim_rand_below(&s->rng,
	    SIM_HS_JITTER_MS);
}

static void
node_hello(struct sim *s, int ni, uint64_t now)
{
	struct sim_node *n = &s->nodes[ni];
	struct fbnode_result res;
	int st;

	if (sim_conc_pending(s) > SIM_OUT_HIGH) {
		n->deadline_ms = now + 50;	/* the line is busy: later */
		return;
	}
	st = fbnode_state(&n->fb);
	if (st == FBNODE_WAIT_ACCEPT || st == FBNODE_JOINED)
		s->st.rejoins++;
	node_unlist(s, ni);
	if (fbnode_join(&n->fb, (uint32_t)now, n->hello, sizeof(n->hello),
	    &res) != FBNODE_OK) {
		n->deadline_ms = now + 1000;
		return;
	}
	n->hello_len = 0;
	n->resp_len = 0;
	n->deadline_ms = hs_deadline(s, now);
	if (sim_conc_rx(s, ni, res.tx, res.tx_len) < 0) {
		n->deadline_ms = now + 100;
		return;
	}
	n->hello_len = res.tx_len;
	s->st.hellos++;
	if (ni == s->hello_flood_node && s->st.victim_join_ms == 0) {
		if (s->victim_first_hello_ms == 0)
			s->victim_first_hello_ms = now;
		s->st.victim_hellos++;
	}
	sim_attack_forge_join(s, ni);
}

static void
node_challenge(struct sim *s, int ni, const uint8_t *p, size_t len,
    uint64_t now)
{
	struct sim_node *n = &s->nodes[ni];
	struct fbnode_result res;
	int r;

	r = fbnode_input(&n->fb, p, len, (uint32_t)now, n->resp,
	    sizeof(n->resp), &res);
	if (r == FBNODE_DROP_PROOF) {
		/* Not our gateway, or an answer to an older HELLO. */
		s->st.bad_gw_proof++;
		return;
	}
	if (r != FBNODE_OK)
		return;		/* not asked for: a replayed HELLO's answer */
	/* A RESPONSE the line cannot take is lost on the air: the node
	 * waits for an ACCEPT that will not come, and starts over. */
	if (sim_conc_rx(s, ni, res.tx, res.tx_len) == 0) {
		n->resp_len = res.tx_len;
		sim_attack_forge_join(s, ni);
	}
	n->deadline_ms = hs_deadline(s, now);
	wait_append(s, ni);
}

/*
 * A COMMAND for node ni: a simulated node acts on it by logging it to
 * stderr ("sim: command ..."; once per command: a repeat, whose ACK was
 * lost, is only acknowledged again) and acknowledges it at once.
 */
static void
node_command(struct sim *s, int ni, const struct fbnode_result *cmd)
{
	struct sim_node *n = &s->nodes[ni];
	struct fbnode_result res;
	uint8_t ack[FBNODE_ACK_LEN];
	size_t i;

	s->st.commands++;
	if (!cmd->repeat) {
		fprintf(stderr, "sim: command eui=%016llX kind=%u ref=%u "
		    "body=", (unsigned long long)n->dev->eui, cmd->cmd_kind,
		    cmd->cmd_ref);
		for (i = 0; i < cmd->body_len; i++)
			fprintf(stderr, "%02x", cmd->body[i]);
		fprintf(stderr, "\n");
	}
	if (fbnode_ack(&n->fb, cmd->fcnt, cmd->cmd_ref, cmd->repeat ?
	    cmd->cmd_status : 0, ack, sizeof(ack), &res) == FBNODE_OK &&
	    sim_conc_rx(s, ni, res.tx, res.tx_len) == 0)
		s->st.command_acks++;
}

/* Offer a DATA_DOWN to node ni: 0 when it was the node's (acted on, or
 * dropped as a replay or a body it cannot use), -EBADMSG when it is not. */
static int
node_down(struct sim *s, int ni, const uint8_t *p, size_t len, uint64_t tus)
{
	struct sim_node *n = &s->nodes[ni];
	struct fbnode_result res;
	uint8_t plain[FBNODE_FRAME_MAX];
	int r;

	r = fbnode_input(&n->fb, p, len, (uint32_t)(tus / 1000), plain,
	    sizeof(plain), &res);
	if (r == FBNODE_DROP_REPLAY || r == FBNODE_DROP_BODY) {
		s->st.bad_down++;	/* replayed, or nothing to act on */
		return 0;
	}
	if (r != FBNODE_OK)
		return -EBADMSG;
	switch (res.kind) {
	case FBNODE_DOWN_ACCEPT:
		wait_remove(s, ni);
		sid_add(s, ni);
		if (ni == s->hello_flood_node && s->st.victim_join_ms == 0 &&
		    s->victim_first_hello_ms != 0)
			s->st.victim_join_ms = tus / 1000 -
			    s->victim_first_hello_ms + 1;
		n->next_us = tus + sim_rand_below(&s->rng,
		    (uint32_t)(n->interval_us > 0 ? n->interval_us : 1));
		s->st.handshakes++;
		break;
	case FBNODE_DOWN_COMMAND:
		node_command(s, ni, &res);
		break;
	case FBNODE_DOWN_KEEPALIVE:
		s->st.keepalives++;
		break;
	default:
		break;
	}
	return 0;
}

void
sim_node_downlink(struct sim *s, const uint8_t *p, size_t len)
{
	struct fbnode_frame f;
	int ni;

	/* The node's own parser says what this is and whom it names. */
	if (fbnode_parse(p, len, &f) != FBNODE_OK)
		return;
	switch (f.type) {
	case FBNODE_CHALLENGE:
		if ((ni = node_by_eui(s, f.eui)) >= 0)
			node_challenge(s, ni, p, len, sim_now_ms());
		break;
	case FBNODE_DATA_DOWN:
		for (ni = s->sid_head[sid_bucket(f.sid)]; ni != -1;
		    ni = s->nodes[ni].hnext)
			if (s->nodes[ni].hsid == f.sid &&
			    node_down(s, ni, p, len, sim_now_us()) == 0)
				return;
		for (ni = s->whead; ni != -1; ni = s->nodes[ni].wnext)
			if (node_down(s, ni, p, len, sim_now_us()) == 0)
				return;
		s->st.bad_down++;
		break;
	default:
		break;
	}
}

/* One telemetry record from node ni. */
static int
node_send(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];
	struct fbnode_result res;
	uint8_t pl[SIM_PAYLOAD_MAX], frame[LINK_FRAME_MAX];
	size_t plen;
	int r;

	plen = sim_payload(&n->sensor, pl, sizeof(pl));
	r = fbnode_send(&n->fb, pl, plen, frame, sizeof(frame), &res);
	if (r == FBNODE_ERR_REJOIN) {
		/* Counter exhausted, or the gateway has been silent too
		 * long: a new session (the reading is dropped, as a node
		 * without storage would). */
		node_unlist(s, ni);
		s->st.rejoins++;
		node_hello(s, ni, sim_now_ms());
		return -EAGAIN;
	}
	if (r != FBNODE_OK)
		return -EIO;
	if (sim_conc_rx(s, ni, res.tx, res.tx_len) < 0)
		return -ENOBUFS;
	if (res.keepalive_req)
		s->st.keepalive_reqs++;
	n->sent++;
	s->st.sent++;
	if (ni == s->flood_node)
		s->st.flood++;
	sim_conc_record(s, n->dev->eui, res.fcnt, pl, plen);
	sim_attack_capture(s, ni, res.tx, res.tx_len);
	return 0;
}

/* --- set-up and the schedule --------------------------------------------- */

int
sim_node_init(struct sim *s)
{
	struct fbnode_config cfg;
	uint32_t jc;
	time_t now = time(NULL);
	unsigned int i;

	jc = now > SIM_JOIN_CTR_EPOCH ? (uint32_t)((uint64_t)(now -
	    SIM_JOIN_CTR_EPOCH) * SIM_JOIN_CTR_PER_S) : 0;
	for (i = 0; i < SIM_SID_BUCKETS; i++)
		s->sid_head[i] = -1;
	s->whead = s->wtail = -1;
	for (i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];

		n->dev = registry_at(s->reg, s->o.offset + i);
		if (i > 0 && n->dev->eui <= s->nodes[i - 1].dev->eui) {
			fprintf(stderr, "fieldbridge-sim: registry not sorted\n");
			return -EINVAL;
		}
		fbnode_gnutls_init(&n->cr, n->dev->secret);
		memset(&cfg, 0, sizeof(cfg));
		n->v1 = s->v1_node == (int)s->nnodes || s->v1_node == (int)i;
		cfg.hello_v1 = n->v1;
		s->st.v1_nodes += n->v1;
		if (fbnode_init(&n->fb, n->dev->eui, &fbnode_gnutls_ops,
		    &n->cr, &cfg) != FBNODE_OK)
			return -EINVAL;
		fbnode_set_join_counter(&n->fb, jc);
		n->hnext = n->wprev = n->wnext = -1;
		n->sf = (uint8_t)(7 + sim_rand_below(&s->rng, 6));
		n->rssi = (int16_t)(-125 + (int)sim_rand_below(&s->rng, 80));
		n->interval_us = s->o.rate > 0 ? (uint64_t)(1e6 / s->o.rate) : 0;
		if ((int)i == s->flood_node)
			n->interval_us /= SIM_FLOOD_FACTOR;
		sim_sensor_init(&n->sensor, registry_stream_name(s->reg,
		    n->dev->stream), sim_rand(&s->rng));
	}
	return 0;
}

void
sim_node_done(struct sim *s)
{
	unsigned int i;

	if (s->nodes == NULL)
		return;
	for (i = 0; i < s->nnodes; i++) {
		fbnode_done(&s->nodes[i].fb);
		fbnode_gnutls_done(&s->nodes[i].cr);
	}
	free(s->nodes);
	s->nodes = NULL;
}

uint64_t
sim_node_run(struct sim *s, uint64_t tus)
{
	uint64_t tms = tus / 1000, next = tus + SIM_TICK_MS * 1000;
	unsigned int k, ni, spread;
	struct sim_node *n;

	/* Spread the first HELLOs so a large fleet does not start as one
	 * burst: about 1 ms per node, at most 1 s. */
	spread = s->nnodes < 1000 ? s->nnodes : 1000;
	for (k = 0; k < s->nnodes; k++) {
		ni = (s->rr + k) % s->nnodes;
		n = &s->nodes[ni];
		if (n->done)
			continue;
		switch (fbnode_state(&n->fb)) {
		case FBNODE_IDLE:
			if (n->deadline_ms == 0)
				n->deadline_ms = s->start_ms +
				    sim_rand_below(&s->rng, spread + 1);
			if (!sim_attack_may_join(s, (int)ni, tms)) {
				n->deadline_ms = tms + SIM_TICK_MS;
				break;
			}
			/* FALLTHROUGH */
		case FBNODE_WAIT_CHALLENGE:
		case FBNODE_WAIT_ACCEPT:
			if (tms >= n->deadline_ms)
				node_hello(s, (int)ni, tms);
			if (n->deadline_ms * 1000 < next)
				next = n->deadline_ms * 1000;
			break;
		case FBNODE_JOINED:
			while (n->next_us <= tus &&
			    sim_conc_pending(s) <= SIM_OUT_HIGH) {
				if (node_send(s, (int)ni) != 0)
					break;
				n->next_us += n->interval_us;
				if (s->o.count > 0 && n->sent >= s->o.count) {
					n->done = 1;
					break;
				}
				if (n->interval_us == 0)
					break;	/* --rate 0: one per round */
			}
			if (!n->done && fbnode_state(&n->fb) == FBNODE_JOINED &&
			    n->next_us < next)
				next = n->next_us;
			break;
		default:
			break;
		}
	}
	s->rr = (s->rr + 1) % s->nnodes;
	return next;
}
