/*
 * sim_node.c - fieldbridge-sim's sensor nodes: the node side of the link
 * protocol (radio/link.c, the daemon's own codec), one state machine per
 * device of the registry, and their telemetry schedule.
 *
 *   IDLE --HELLO(Nn)--> WAIT_CHALLENGE --CHALLENGE, Tg checked--> send
 *   RESPONSE --> WAIT_ACCEPT --ACCEPT opened with the down key--> UP:
 *   telemetry at --rate with a strictly increasing counter.
 *
 * A CHALLENGE whose proof Tg does not verify is ignored (mutual
 * authentication: a rogue gateway gets no RESPONSE).  No answer within
 * SIM_HS_TIMEOUT_MS sends a fresh HELLO.  After LINK_KEEPALIVE_REQ_UPLINKS
 * uplinks without a verified downlink a node asks for a keepalive in every
 * uplink (LINK_FLAG_KEEPALIVE_REQ); after LINK_REJOIN_SILENT_UPLINKS it
 * gives up on the session and sends a fresh HELLO (the gateway may have
 * restarted and forgotten us).
 * The gateway picks the session id and sends it in the ACCEPT's header, so
 * an ACCEPT is matched to its node by trying the down keys of the nodes
 * waiting for one, oldest RESPONSE first (nearly always the first try: the
 * gateway answers in order).  Nodes that are UP are found by session id in
 * a small hash table.
 *
 * Frames go up through the concentrator (sim_conc_rx); downlinks come from
 * it (sim_node_downlink).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/registry.h"
#include "radio/link.h"
#include "tools/sim.h"

#define SIM_HS_TIMEOUT_MS	2000		/* handshake step timeout */
#define SIM_HS_JITTER_MS	700

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
	for (pp = &s->sid_head[sid_bucket(n->ks.sid)]; *pp != -1;
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
	unsigned int b = sid_bucket(n->ks.sid);

	n->hnext = s->sid_head[b];
	s->sid_head[b] = ni;
	n->hashed = 1;
}

static void
wait_remove(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];

	if (n->state != SIM_NODE_WAIT_ACCEPT)
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
}

/* Leave whatever state the node was in; its session keys go. */
static void
node_reset(struct sim *s, int ni)
{
	struct sim_node *n = &s->nodes[ni];

	wait_remove(s, ni);
	sid_remove(s, ni);
	gnutls_memset(&n->ks, 0, sizeof(n->ks));
	n->state = SIM_NODE_IDLE;
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

/* --- the node side of the link protocol ------------------------------- */

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
	int len;

	if (sim_conc_pending(s) > SIM_OUT_HIGH) {
		n->deadline_ms = now + 50;	/* the line is busy: later */
		return;
	}
	if (n->state != SIM_NODE_IDLE && n->state != SIM_NODE_WAIT_CHALLENGE)
		s->st.rejoins++;
	node_reset(s, ni);
	if (gnutls_rnd(GNUTLS_RND_NONCE, n->nn, sizeof(n->nn)) != 0) {
		n->deadline_ms = now + 1000;
		return;
	}
	len = link_build_hello(n->hello, sizeof(n->hello), n->dev->eui, n->nn);
	if (len < 0 || sim_conc_rx(s, ni, n->hello, (size_t)len) < 0) {
		n->deadline_ms = now + 100;
		return;
	}
	n->hello_len = (size_t)len;
	n->resp_len = 0;
	n->state = SIM_NODE_WAIT_CHALLENGE;
	n->deadline_ms = hs_deadline(s, now);
	s->st.hellos++;
}

static void
node_challenge(struct sim *s, int ni, const struct link_msg *m, uint64_t now)
{
	struct sim_node *n = &s->nodes[ni];
	uint8_t tg[LINK_PROOF_LEN], tn[LINK_PROOF_LEN];
	int len;

	if (n->state != SIM_NODE_WAIT_CHALLENGE)
		return;		/* not asked for: a replayed HELLO's answer */
	if (link_gw_proof(n->dev->secret, n->dev->eui, n->nn, m->nonce,
	    tg) != 0)
		return;
	if (gnutls_memcmp(tg, m->proof, LINK_PROOF_LEN) != 0) {
		/* Not our gateway, or an answer to an older HELLO. */
		s->st.bad_gw_proof++;
		return;
	}
	if (link_node_proof(n->dev->secret, n->dev->eui, n->nn, m->nonce,
	    tn) != 0 ||
	    link_session_derive(n->dev->secret, n->dev->eui, n->nn, m->nonce,
	    &n->ks) != 0)
		return;
	if ((n->up == NULL ? link_aead_new(n->ks.up, &n->up) :
	    link_aead_setkey(n->up, n->ks.up)) != 0)
		return;
	len = link_build_response(n->resp, sizeof(n->resp), n->dev->eui, tn);
	if (len < 0 || sim_conc_rx(s, ni, n->resp, (size_t)len) < 0)
		return;
	n->resp_len = (size_t)len;
	n->fcnt_down = -1;
	n->state = SIM_NODE_WAIT_ACCEPT;
	n->deadline_ms = hs_deadline(s, now);
	wait_append(s, ni);
}

/* Try a DATA_DOWN on node ni; 0 when it verified and was handled. */
static int
node_down(struct sim *s, int ni, const struct link_msg *m, uint64_t tus)
{
	struct sim_node *n = &s->nodes[ni];
	uint8_t plain[LINK_FRAME_MAX];
	int len;

	len = link_open(&n->ks, LINK_DIR_DOWN, m, plain, sizeof(plain));
	if (len < 1)
		return -EBADMSG;
	if ((int64_t)m->fcnt <= n->fcnt_down) {
		s->st.bad_down++;	/* a replayed downlink */
		return 0;
	}
	n->fcnt_down = m->fcnt;
	n->silent = 0;
	if (plain[0] == LINK_DOWN_ACCEPT && n->state == SIM_NODE_WAIT_ACCEPT) {
		wait_remove(s, ni);
		n->ks.sid = m->sid;
		sid_add(s, ni);
		n->state = SIM_NODE_UP;
		n->fcnt_up = 0;
		n->next_us = tus + sim_rand_below(&s->rng,
		    (uint32_t)(n->interval_us > 0 ? n->interval_us : 1));
		s->st.handshakes++;
	} else if (plain[0] == LINK_DOWN_COMMAND)
		s->st.commands++;
	else if (plain[0] == LINK_DOWN_KEEPALIVE)
		s->st.keepalives++;
	return 0;
}

void
sim_node_downlink(struct sim *s, const uint8_t *p, size_t len)
{
	struct link_msg m;
	int ni;

	if (link_parse(p, len, &m) != LINK_OK)
		return;
	switch (m.type) {
	case LINK_CHALLENGE:
		if ((ni = node_by_eui(s, m.eui)) >= 0)
			node_challenge(s, ni, &m, sim_now_ms());
		break;
	case LINK_DATA_DOWN:
		for (ni = s->sid_head[sid_bucket(m.sid)]; ni != -1;
		    ni = s->nodes[ni].hnext)
			if (s->nodes[ni].ks.sid == m.sid &&
			    node_down(s, ni, &m, sim_now_us()) == 0)
				return;
		for (ni = s->whead; ni != -1; ni = s->nodes[ni].wnext)
			if (node_down(s, ni, &m, sim_now_us()) == 0)
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
	uint8_t pl[SIM_PAYLOAD_MAX], frame[LINK_FRAME_MAX];
	size_t plen;
	unsigned int flags;
	int len;

	if (n->fcnt_up >= LINK_FCNT_MAX ||
	    n->silent >= LINK_REJOIN_SILENT_UPLINKS) {
		/* Counter exhausted, or the gateway has been silent too
		 * long: a new session. */
		node_hello(s, ni, sim_now_ms());
		return -EAGAIN;
	}
	flags = n->silent >= LINK_KEEPALIVE_REQ_UPLINKS ?
	    LINK_FLAG_KEEPALIVE_REQ : 0;
	plen = sim_payload(&n->sensor, pl, sizeof(pl));
	len = link_seal_flags_with(n->up, LINK_DIR_UP, flags, n->ks.sid,
	    n->fcnt_up + 1, pl, plen, frame, sizeof(frame));
	if (len < 0)
		return len;
	if (sim_conc_rx(s, ni, frame, (size_t)len) < 0)
		return -ENOBUFS;
	if (flags != 0)
		s->st.keepalive_reqs++;
	n->fcnt_up++;
	n->silent++;
	n->sent++;
	s->st.sent++;
	if (ni == s->flood_node)
		s->st.flood++;
	sim_conc_record(s, n->dev->eui, n->fcnt_up, pl, plen);
	sim_attack_capture(s, ni, frame, (size_t)len);
	return 0;
}

/* --- set-up and the schedule --------------------------------------------- */

int
sim_node_init(struct sim *s)
{
	unsigned int i;

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
		n->hnext = n->wprev = n->wnext = -1;
		n->state = SIM_NODE_IDLE;
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
	for (i = 0; i < s->nnodes; i++)
		link_aead_free(s->nodes[i].up);
	gnutls_memset(s->nodes, 0, s->nnodes * sizeof(*s->nodes));
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
		switch (n->state) {
		case SIM_NODE_IDLE:
			if (n->deadline_ms == 0)
				n->deadline_ms = s->start_ms +
				    sim_rand_below(&s->rng, spread + 1);
			/* FALLTHROUGH */
		case SIM_NODE_WAIT_CHALLENGE:
		case SIM_NODE_WAIT_ACCEPT:
			if (tms >= n->deadline_ms)
				node_hello(s, (int)ni, tms);
			if (n->deadline_ms * 1000 < next)
				next = n->deadline_ms * 1000;
			break;
		case SIM_NODE_UP:
			while (n->next_us <= tus &&
			    sim_conc_pending(s) <= SIM_OUT_HIGH) {
				if (node_send(s, (int)ni) != 0)
					break;
				n->next_us += n->interval_us;
				if (s->o.count > 0 && n->sent >= s->o.count) {
					n->state = SIM_NODE_DONE;
					break;
				}
				if (n->interval_us == 0)
					break;	/* --rate 0: one per round */
			}
			if (n->state == SIM_NODE_UP && n->next_us < next)
				next = n->next_us;
			break;
		default:
			break;
		}
	}
	s->rr = (s->rr + 1) % s->nnodes;
	return next;
}
