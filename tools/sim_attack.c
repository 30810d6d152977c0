/*
 * sim_attack.c - fieldbridge-sim's attacker: traffic the gateway must drop
 * and count by reason (DESIGN.md invariant 2), injected on the same line
 * as the nodes' own frames.  It forges with the gateway's codec
 * (radio/link.c): an attacker is no node, so it has no libfbnode.
 *
 *   --forge N    data frames under a real node's session id and next
 *                counter, sealed with a random key (bad MIC);
 *   --replay N   captured data frames sent again once the node has moved
 *                past them, and once a captured HELLO then RESPONSE;
 *   --unknown N  HELLOs from EUIs not in the registry;
 *   --garbage N  random bytes between frames, each burst ended by a
 *                delimiter.
 *
 *   --replay-hello EUI|I  that node's last genuine HELLO, again (a
 *                version 2 one is refused by its counter);
 *   --hello-flood EUI|I  HELLOs in that node's name at --hello-rate:
 *                version 2 ones with a MIC under a random key, or
 *                version 1 ones for a --v1 node.
 *
 * One injection of each kind goes out every --attack-every ms, and only
 * once the gateway has accepted a first node, so that the counts in the
 * summary match the daemon's drop counters.  (--flood is no injection: it
 * is a real node sending SIM_FLOOD_FACTOR times its rate, set up with the
 * nodes.)
 */
#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/registry.h"
#include "radio/link.h"
#include "tools/sim.h"

#define SIM_GARBAGE_BURST_MAX	48
#define SIM_UNKNOWN_EUI_BASE	0x70B3D57EDF000000ULL

/* Keep a few frames to replay later (--replay). */
void
sim_attack_capture(struct sim *s, int ni, const uint8_t *frame, size_t len)
{
	const struct sim_node *n = &s->nodes[ni];
	struct sim_capture *c;

	if ((s->replay_done + s->ncap < s->o.replay ||
	    s->ncap < s->o.capture) &&
	    s->ncap < SIM_CAPTURE_MAX && sim_rand_below(&s->rng, 4) == 0) {
		c = &s->cap[s->ncap++];
		c->node = ni;
		c->sid = fbnode_sid(&n->fb);
		c->fcnt = fbnode_fcnt_up(&n->fb);
		c->len = len;
		memcpy(c->frame, frame, len);
	}
}

static int
random_up_node(struct sim *s)
{
	unsigned int i, start = sim_rand_below(&s->rng, s->nnodes);

	for (i = 0; i < s->nnodes; i++) {
		unsigned int ni = (start + i) % s->nnodes;

		if (fbnode_state(&s->nodes[ni].fb) == FBNODE_JOINED &&
		    s->nodes[ni].sent > 0)
			return (int)ni;
	}
	return -1;
}

static void
attack_unknown(struct sim *s)
{
	uint8_t nn[LINK_NONCE_LEN], frame[LINK_FRAME_MAX];
	uint64_t eui;
	int len;

	do
		eui = SIM_UNKNOWN_EUI_BASE + sim_rand_below(&s->rng, 1u << 24);
	while (registry_find(s->reg, eui) != NULL);
	(void)gnutls_rnd(GNUTLS_RND_NONCE, nn, sizeof(nn));
	len = link_build_hello(frame, sizeof(frame), eui, nn);
	if (len > 0 && sim_conc_rx(s, -1, frame, (size_t)len) == 0) {
		s->unknown_done++;
		s->st.unknown++;
	}
}

static void
attack_forge(struct sim *s)
{
	struct link_session_keys fake;
	uint8_t pl[SIM_PAYLOAD_MAX], frame[LINK_FRAME_MAX];
	struct sim_sensor sensor;
	int ni, len;

	if ((ni = random_up_node(s)) < 0)
		return;
	/* The attacker knows the session id (it is sent in clear) and
	 * guesses the next counter, but not the key. */
	memset(&fake, 0, sizeof(fake));
	fake.sid = fbnode_sid(&s->nodes[ni].fb);
	(void)gnutls_rnd(GNUTLS_RND_NONCE, fake.up, sizeof(fake.up));
	sensor = s->nodes[ni].sensor;
	len = link_seal(&fake, LINK_DIR_UP, fbnode_fcnt_up(&s->nodes[ni].fb) +
	    1, pl, sim_payload(&sensor, pl, sizeof(pl)), frame, sizeof(frame));
	if (len > 0 && sim_conc_rx(s, ni, frame, (size_t)len) == 0) {
		s->forge_done++;
		s->st.forged++;
	}
}

static void
attack_replay(struct sim *s)
{
	struct sim_capture *c;
	struct sim_node *n;
	unsigned int i;

	for (i = 0; i < s->ncap; i++) {
		c = &s->cap[i];
		n = &s->nodes[c->node];
		if (fbnode_sid(&n->fb) != c->sid ||
		    (n->done && fbnode_fcnt_up(&n->fb) <= c->fcnt)) {
			/* Its session is gone (the frame would count as stale,
			 * not replayed) or it can no longer be superseded:
			 * forget it and capture another. */
			s->cap[i--] = s->cap[--s->ncap];
			continue;
		}
		if (fbnode_fcnt_up(&n->fb) <= c->fcnt)
			continue;	/* not yet superseded */
		if (sim_conc_rx(s, c->node, c->frame, c->len) != 0)
			return;
		s->replay_done++;
		s->st.replayed++;
		s->cap[i] = s->cap[--s->ncap];
		return;
	}
}

/* A HELLO in node ni's name, as anybody can send one: the EUI is in
 * clear, the nonce is fresh.  For a version 2 node, a version 2 HELLO
 * with a counter well above the node's, under a key that is not its Kh
 * (the attacker does not know K): the MIC is wrong. */
static int
forged_hello(struct sim *s, int ni)
{
	uint8_t nn[LINK_NONCE_LEN], kh[LINK_HELLO_KEY_LEN];
	uint8_t frame[LINK_FRAME_MAX];
	const struct sim_node *n = &s->nodes[ni];
	int len;

	(void)gnutls_rnd(GNUTLS_RND_NONCE, nn, sizeof(nn));
	if (n->v1)
		len = link_build_hello(frame, sizeof(frame), n->dev->eui, nn);
	else {
		(void)gnutls_rnd(GNUTLS_RND_NONCE, kh, sizeof(kh));
		len = link_build_hello2(frame, sizeof(frame), n->dev->eui, nn,
		    fbnode_join_counter_saved(&n->fb) + 1 +
		    sim_rand_below(&s->rng, 1000), kh);
	}
	return len > 0 ? sim_conc_rx(s, -1, frame, (size_t)len) : -EINVAL;
}

int
sim_attack_may_join(const struct sim *s, int ni, uint64_t now_ms)
{
	if (ni != s->hello_flood_node || s->o.flood_join_delay_ms == 0)
		return 1;
	return s->hello_flood_start_us != 0 && now_ms >=
	    s->hello_flood_start_us / 1000 + s->o.flood_join_delay_ms;
}

/* --replay-hello: the node's last genuine HELLO, sent again. */
static void
attack_replay_hello(struct sim *s)
{
	struct sim_node *n = &s->nodes[s->replay_hello_node];

	if (fbnode_state(&n->fb) != FBNODE_JOINED || n->hello_len == 0)
		return;
	if (sim_conc_rx(s, s->replay_hello_node, n->hello, n->hello_len) == 0)
		s->st.replayed_hello++;
}

void
sim_attack_forge_join(struct sim *s, int ni)
{
	uint8_t tn[LINK_PROOF_LEN], frame[LINK_FRAME_MAX];
	int len;

	if (ni != s->forge_join_node)
		return;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, tn, sizeof(tn));
	len = link_build_response(frame, sizeof(frame),
	    s->nodes[ni].dev->eui, tn);
	if (forged_hello(s, ni) == 0 && len > 0 &&
	    sim_conc_rx(s, -1, frame, (size_t)len) == 0)
		s->st.forged_join += 2;
}

/* --hello-flood: HELLOs due by now at --hello-rate, once every node has
 * joined (the flood is against a site that is up); with
 * --flood-join-delay, every node but the victim, which joins under the
 * flood. */
static void
attack_hello_flood(struct sim *s, uint64_t now_us)
{
	uint64_t due;

	if (s->hello_flood_start_us == 0 && s->st.handshakes <
	    s->nnodes - (s->o.flood_join_delay_ms > 0))
		return;
	if (s->hello_flood_start_us == 0)
		s->hello_flood_start_us = now_us;
	due = (now_us - s->hello_flood_start_us) * s->o.hello_rate / 1000000;
	while (s->st.hello_flood < due && sim_conc_pending(s) < SIM_OUT_HIGH &&
	    forged_hello(s, s->hello_flood_node) == 0)
		s->st.hello_flood++;
}

void
sim_attack_replay_captured(struct sim *s)
{
	const struct sim_capture *c;
	unsigned int i, sent = 0;

	for (i = 0; i < s->ncap; i++) {
		c = &s->cap[i];
		if (fbnode_fcnt_up(&s->nodes[c->node].fb) <= c->fcnt &&
		    fbnode_sid(&s->nodes[c->node].fb) == c->sid)
			continue;	/* not superseded: no replay */
		if (sim_conc_rx(s, c->node, c->frame, c->len) == 0)
			sent++;
	}
	s->ncap = 0;
	s->st.replayed += sent;
	fprintf(stderr, "sim: replayed_captured=%u\n", sent);
}

/* A captured handshake replayed: the HELLO (which the gateway cannot tell
 * from a real one; it only earns a CHALLENGE nobody answers), then the
 * RESPONSE, which must be refused. */
static void
attack_replay_handshake(struct sim *s)
{
	int ni;
	struct sim_node *n;

	if ((ni = random_up_node(s)) < 0)
		return;
	n = &s->nodes[ni];
	if (n->hello_len == 0 || n->resp_len == 0)
		return;
	if (s->hs_replay_step == 0) {
		if (sim_conc_rx(s, ni, n->hello, n->hello_len) == 0) {
			s->st.replayed_hello++;
			s->hs_replay_step = 1;
		}
	} else if (sim_conc_rx(s, ni, n->resp, n->resp_len) == 0) {
		s->st.replayed_response++;
		s->hs_replay_step = 2;
	}
}

static void
attack_garbage(struct sim *s)
{
	uint8_t buf[SIM_GARBAGE_BURST_MAX + 1];
	unsigned int n, i, left = s->o.garbage - s->garbage_done;

	n = 1 + sim_rand_below(&s->rng, SIM_GARBAGE_BURST_MAX);
	if (n > left)
		n = left;
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)sim_rand(&s->rng);
	/* End the burst with a delimiter (a line end for the text
	 * dialects) so the next real frame starts clean; zeros inside the
	 * burst are noise like any other byte. */
	buf[n] = s->o.dialect == SIM_DIALECT_FBSP ? 0x00 : '\n';
	if (sim_conc_put(s, buf, n + 1) == 0) {
		s->garbage_done += n;
		s->st.garbage_bytes += n;
	}
}

int
sim_attack_left(const struct sim *s)
{
	return s->unknown_done < s->o.unknown || s->forge_done < s->o.forge ||
	    s->replay_done < s->o.replay || s->garbage_done < s->o.garbage ||
	    (s->o.replay > 0 && s->hs_replay_step < 2);
}

void
sim_attack_run(struct sim *s, uint64_t now)
{
	if (s->hello_flood_node >= 0)
		attack_hello_flood(s, now * 1000);
	/* Attack only a gateway that is listening: before its first ACCEPT
	 * our frames may still be flushed away when it opens the line, and
	 * the counts would not add up. */
	if (s->st.handshakes == 0 || now < s->next_attack_ms ||
	    sim_conc_pending(s) > SIM_OUT_HIGH)
		return;
	s->next_attack_ms = now + s->o.attack_ms;
	if (s->unknown_done < s->o.unknown)
		attack_unknown(s);
	if (s->forge_done < s->o.forge)
		attack_forge(s);
	if (s->replay_done < s->o.replay)
		attack_replay(s);
	if (s->o.replay > 0 && s->hs_replay_step < 2)
		attack_replay_handshake(s);
	if (s->replay_hello_node >= 0)
		attack_replay_hello(s);
	if (s->garbage_done < s->o.garbage)
		attack_garbage(s);
}
