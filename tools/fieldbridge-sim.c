/*
 * fieldbridge-sim - a concentrator and its sensor nodes on a pseudo-terminal,
 * so that tests, the demo and the benchmark drive the real fieldbridged
 * through its real serial path.
 *
 * Where it sits: it replaces everything left of the serial line in the data
 * flow of DESIGN.md.  On the pty it speaks the fieldbridge serial protocol
 * (radio/sframe.c, the same codec the daemon's FBSP driver uses): received
 * packets go up as RX frames, a STATUS heartbeat every 2 s, TX requests from
 * the gateway are answered with a TX result and handed to the node they are
 * addressed to.  Each node runs the node side of the link protocol
 * (radio/link.c, again the daemon's own code):
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
 * gateway answers in order).
 *
 * Every record a node transmits is written to --log as "EUI FCNT HEX" once
 * its bytes have been written to the pty, so a checker can compare what left
 * the nodes with what arrived upstream.  Attack switches inject forged,
 * replayed, unknown-device and garbage traffic and a flooding node; they
 * are counted in the summary printed at exit.
 *
 * The uplink side batches: frames queue in one buffer written to the pty in
 * large writes, and nodes stop producing while it is above a high-water
 * mark (back-pressure instead of loss, so every logged record reaches the
 * line).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/registry.h"
#include "radio/link.h"
#include "radio/sframe.h"
#include "tools/sim.h"

#define SIM_OUT_CAP		(1u << 20)	/* bytes queued towards the pty */
#define SIM_OUT_HIGH		(256u << 10)	/* nodes pause above this */
#define SIM_STATUS_MS		2000		/* heartbeat period */
#define SIM_HS_TIMEOUT_MS	2000		/* handshake step timeout */
#define SIM_HS_JITTER_MS	700
#define SIM_ATTACK_MS		40		/* between two injected attacks */
#define SIM_ATTACK_GRACE_MS	3000		/* after the nodes are done */
#define SIM_TICK_MS		10		/* longest poll sleep */
#define SIM_DRAIN_MS		10000		/* bound on draining at the end */
#define SIM_LINGER_MS		300		/* after the line is empty */
#define SIM_STOP_DRAIN_MS	2000		/* bound on draining at a stop */
#define SIM_FLOOD_FACTOR	25		/* flooding node: rate times this */
#define SIM_GARBAGE_BURST_MAX	48
#define SIM_CAPTURE_MAX		64		/* data frames kept for replay */
#define SIM_SID_BUCKETS		4096
#define SIM_TXQ_MAX		32		/* downlinks waiting for their time */
#define SIM_TX_AHEAD_MAX_US	30000000u	/* at_tmst further: too early */
#define SIM_TX_LATE_MAX_US	1000000u	/* at_tmst older: too late */
#define SIM_UNKNOWN_EUI_BASE	0x70B3D57EDF000000ULL

enum node_state {
	NODE_IDLE,
	NODE_WAIT_CHALLENGE,
	NODE_WAIT_ACCEPT,
	NODE_UP,
	NODE_DONE,
};

struct node {
	const struct device	*dev;
	int			 state;
	uint8_t			 nn[LINK_NONCE_LEN];
	struct link_session_keys ks;
	struct link_aead	*up;		/* keyed with ks.up */
	int			 wprev, wnext;	/* waiting-for-ACCEPT list */
	unsigned int		 silent;	/* uplinks since a downlink */
	uint32_t		 fcnt_up;	/* last counter sent */
	int64_t			 fcnt_down;	/* last counter accepted, -1: none */
	uint64_t		 deadline_ms;	/* handshake step / next HELLO */
	uint64_t		 next_us;	/* next telemetry record */
	uint64_t		 interval_us;
	uint64_t		 sent;		/* records this node sent */
	int			 hnext;		/* sid hash chain, -1 ends */
	int			 hashed;
	uint8_t			 sf;		/* its spreading factor */
	int16_t			 rssi;		/* its typical signal */
	struct sim_sensor	 sensor;
	/* The last handshake frames, for --replay's handshake replay. */
	uint8_t			 hello[LINK_FRAME_MAX];
	size_t			 hello_len;
	uint8_t			 resp[LINK_FRAME_MAX];
	size_t			 resp_len;
};

/* A downlink held until the concentrator counter reaches its at_tmst. */
struct txq {
	uint32_t	at;
	uint16_t	id;
	size_t		len;
	uint8_t		frame[RADIO_PAYLOAD_MAX];
};

struct capture {
	int		node;
	uint32_t	sid;
	uint32_t	fcnt;
	size_t		len;
	uint8_t		frame[LINK_FRAME_MAX];
};

/* A record whose frame is queued but not yet written: logged when it is. */
struct pending {
	uint64_t	end;		/* stream offset just past its frame */
	uint64_t	eui;
	uint32_t	fcnt;
	uint8_t		len;
	uint8_t		payload[SIM_PAYLOAD_MAX];
};

struct opts {
	const char	*registry, *keys, *link, *log;
	const char	*streams;
	unsigned int	 nodes, offset;
	double		 rate;
	uint64_t	 count;
	double		 duration;
	uint64_t	 seed;
	int		 seeded;
	unsigned int	 gen;
	unsigned int	 forge, replay, unknown, garbage;
	unsigned int	 attack_ms;
	const char	*flood;
	int		 quiet;
	int		 log_time;	/* --log-time: 4th column */
};

struct stats {
	uint64_t	sent, forged, replayed, replayed_hello, replayed_response;
	uint64_t	unknown, garbage_bytes, flood;
	uint64_t	hellos, handshakes, rejoins, bad_gw_proof, bad_down;
	uint64_t	commands, keepalive_reqs, keepalives;
	uint64_t	tx_req, resets, frames_up, frames_bad_in;
};

struct sim {
	struct opts		 o;
	struct registry		*reg;
	struct node		*nodes;
	unsigned int		 nnodes;
	int			 flood_node;
	int			 sid_head[SIM_SID_BUCKETS];
	int			 whead, wtail;	/* nodes waiting for ACCEPT */
	struct txq		 txq[SIM_TXQ_MAX];
	unsigned int		 ntxq;
	uint64_t		 rng;
	int			 master, slave, sigfd;
	char			 slave_name[128];
	struct sframe_reader	 reader;
	uint8_t			 seq;
	uint64_t		 start_ms;
	uint64_t		 next_status_ms;
	uint64_t		 next_attack_ms;
	/* output queue: out[out_head..out_len) not yet written */
	uint8_t			*out;
	size_t			 out_head, out_len;
	uint64_t		 out_total;	/* bytes ever queued */
	uint64_t		 out_written;	/* bytes ever written */
	struct pending		*pend;
	size_t			 pend_cap, pend_head, pend_count;
	FILE			*logf;
	struct capture		 cap[SIM_CAPTURE_MAX];
	unsigned int		 ncap;
	unsigned int		 unknown_done, forge_done, replay_done;
	unsigned int		 garbage_done;
	int			 hs_replay_step;	/* 0 hello, 1 response, 2 done */
	unsigned int		 rr;		/* round-robin start */
	uint64_t		 nodes_done_ms;
	struct stats		 st;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t
now_ms(void)
{
	return now_us() / 1000u;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: fieldbridge-sim --registry F --keys F --link PATH [options]\n"
"       fieldbridge-sim --gen-registry N --registry F --keys F [--streams a,b]\n"
"\n"
"A simulated concentrator with sensor nodes on a pseudo-terminal, speaking\n"
"the fieldbridge serial protocol; PATH becomes a symlink to the pty.\n"
"\n"
"  --nodes N        run the first N devices of the registry (default all)\n"
"  --offset I       start at device I (to split nodes over concentrators)\n"
"  --rate R         records per second per node (default 1; 0: as fast as\n"
"                   the line takes them)\n"
"  --count C        records per node, then drain the line and exit\n"
"  --duration S     exit after S seconds\n"
"  --log FILE       one line per record sent: EUI FCNT PAYLOADHEX\n"
"  --log-time       add a 4th column: CLOCK_MONOTONIC microseconds when the\n"
"                   record's frame was written to the pty\n"
"  --seed N         seed for payloads and schedules (nonces stay random)\n"
"  --quiet          no progress lines on stderr\n"
"attacks (each counted in the summary at exit):\n"
"  --forge N        data frames with a bad MIC under a real node's session\n"
"  --replay N       re-send N captured data frames, and once a captured\n"
"                   HELLO then RESPONSE\n"
"  --unknown N      HELLOs from EUIs not in the registry\n"
"  --garbage N      N random bytes on the line, between frames\n"
"  --flood EUI|I    one node sends %d times its rate\n"
"  --attack-every MS  one injection of each kind per MS (default %d)\n",
	    SIM_FLOOD_FACTOR, SIM_ATTACK_MS);
}

/* --- output queue ------------------------------------------------------ */

static size_t
out_pending(const struct sim *s)
{
	return s->out_len - s->out_head;
}

static int
out_put(struct sim *s, const uint8_t *p, size_t len)
{
	if (s->out_head > 0 && s->out_len + len > SIM_OUT_CAP) {
		memmove(s->out, s->out + s->out_head, s->out_len - s->out_head);
		s->out_len -= s->out_head;
		s->out_head = 0;
	}
	if (SIM_OUT_CAP - s->out_len < len)
		return -ENOBUFS;
	memcpy(s->out + s->out_len, p, len);
	s->out_len += len;
	s->out_total += len;
	return 0;
}

static int
send_frame(struct sim *s, struct sframe *f)
{
	uint8_t wire[SFRAME_WIRE_MAX];
	int n;

	f->seq = s->seq++;
	if ((n = sframe_encode(f, wire, sizeof(wire))) < 0)
		return n;
	return out_put(s, wire, (size_t)n);
}

static void
log_hex(FILE *f, const uint8_t *p, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	char buf[2 * LINK_FRAME_MAX + 1];
	size_t i;

	for (i = 0; i < len; i++) {
		buf[2 * i] = hx[p[i] >> 4];
		buf[2 * i + 1] = hx[p[i] & 15];
	}
	buf[2 * len] = '\0';
	fputs(buf, f);
}

/* Log the records whose frames have fully left for the pty. */
static void
pending_flush(struct sim *s)
{
	char eui[17];
	struct pending *pe;

	while (s->pend_count > 0) {
		pe = &s->pend[s->pend_head];
		if (pe->end > s->out_written)
			break;
		registry_format_eui(pe->eui, eui);
		fprintf(s->logf, "%s %" PRIu32 " ", eui, pe->fcnt);
		log_hex(s->logf, pe->payload, pe->len);
		/* The frame has just been written: its send time, on the
		 * clock a test's time.monotonic() reads. */
		if (s->o.log_time)
			fprintf(s->logf, " %" PRIu64, now_us());
		fputc('\n', s->logf);
		s->pend_head = (s->pend_head + 1) % s->pend_cap;
		s->pend_count--;
	}
}

static int
out_write(struct sim *s)
{
	ssize_t n;

	while (out_pending(s) > 0) {
		n = write(s->master, s->out + s->out_head, out_pending(s));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		s->out_head += (size_t)n;
		s->out_written += (uint64_t)n;
	}
	if (s->out_head == s->out_len)
		s->out_head = s->out_len = 0;
	if (s->logf != NULL)
		pending_flush(s);
	return 0;
}

/* --- radio side: RX frames up ----------------------------------------- */

static const uint32_t eu868[] = { 868100000, 868300000, 868500000,
	867100000, 867300000, 867500000, 867700000, 867900000 };

/* Send one link frame as if node ni (or an unnamed radio, ni < 0) had
 * transmitted it. */
static int
radio_up(struct sim *s, int ni, const uint8_t *frame, size_t len)
{
	struct sframe f;
	uint8_t sf = 9;
	int16_t rssi = -95;
	int r;

	if (ni >= 0) {
		sf = s->nodes[ni].sf;
		rssi = s->nodes[ni].rssi;
	}
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.u.rx.modulation = RADIO_MOD_LORA;
	f.u.rx.freq_hz = eu868[sim_rand_below(&s->rng, 8)];
	f.u.rx.datarate = sf;
	f.u.rx.bw_hz = 125000;
	f.u.rx.rssi_dbm = (int16_t)(rssi + (int)sim_rand_below(&s->rng, 7) - 3);
	f.u.rx.snr_db10 = (int16_t)(95 + rssi + (int)sim_rand_below(&s->rng,
	    40));
	if (f.u.rx.snr_db10 > 100)
		f.u.rx.snr_db10 = 100;
	f.u.rx.tmst_us = (uint32_t)now_us();
	f.payload = frame;
	f.payload_len = len;
	if ((r = send_frame(s, &f)) == 0)
		s->st.frames_up++;
	return r;
}

/* --- sessions by id, and the nodes waiting for an ACCEPT -------------- */

static unsigned int
sid_bucket(uint32_t sid)
{
	return ((sid * 2654435761u) >> 20) & (SIM_SID_BUCKETS - 1);
}

static void
sid_remove(struct sim *s, int ni)
{
	struct node *n = &s->nodes[ni];
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
	struct node *n = &s->nodes[ni];
	unsigned int b = sid_bucket(n->ks.sid);

	n->hnext = s->sid_head[b];
	s->sid_head[b] = ni;
	n->hashed = 1;
}

static void
wait_remove(struct sim *s, int ni)
{
	struct node *n = &s->nodes[ni];

	if (n->state != NODE_WAIT_ACCEPT)
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
	struct node *n = &s->nodes[ni];

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
	struct node *n = &s->nodes[ni];

	wait_remove(s, ni);
	sid_remove(s, ni);
	gnutls_memset(&n->ks, 0, sizeof(n->ks));
	n->state = NODE_IDLE;
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
	struct node *n = &s->nodes[ni];
	int len;

	if (out_pending(s) > SIM_OUT_HIGH) {
		n->deadline_ms = now + 50;	/* the line is busy: later */
		return;
	}
	if (n->state != NODE_IDLE && n->state != NODE_WAIT_CHALLENGE)
		s->st.rejoins++;
	node_reset(s, ni);
	if (gnutls_rnd(GNUTLS_RND_NONCE, n->nn, sizeof(n->nn)) != 0) {
		n->deadline_ms = now + 1000;
		return;
	}
	len = link_build_hello(n->hello, sizeof(n->hello), n->dev->eui, n->nn);
	if (len < 0 || radio_up(s, ni, n->hello, (size_t)len) < 0) {
		n->deadline_ms = now + 100;
		return;
	}
	n->hello_len = (size_t)len;
	n->resp_len = 0;
	n->state = NODE_WAIT_CHALLENGE;
	n->deadline_ms = hs_deadline(s, now);
	s->st.hellos++;
}

static void
node_challenge(struct sim *s, int ni, const struct link_msg *m, uint64_t now)
{
	struct node *n = &s->nodes[ni];
	uint8_t tg[LINK_PROOF_LEN], tn[LINK_PROOF_LEN];
	int len;

	if (n->state != NODE_WAIT_CHALLENGE)
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
	if (len < 0 || radio_up(s, ni, n->resp, (size_t)len) < 0)
		return;
	n->resp_len = (size_t)len;
	n->fcnt_down = -1;
	n->state = NODE_WAIT_ACCEPT;
	n->deadline_ms = hs_deadline(s, now);
	wait_append(s, ni);
}

/* Try a DATA_DOWN on node ni; 0 when it verified and was handled. */
static int
node_down(struct sim *s, int ni, const struct link_msg *m, uint64_t tus)
{
	struct node *n = &s->nodes[ni];
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
	if (plain[0] == LINK_DOWN_ACCEPT && n->state == NODE_WAIT_ACCEPT) {
		wait_remove(s, ni);
		n->ks.sid = m->sid;
		sid_add(s, ni);
		n->state = NODE_UP;
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

/* A downlink goes on the air: hand it to the node it is for. */
static void
radio_down(struct sim *s, const uint8_t *p, size_t len)
{
	struct link_msg m;
	int ni;

	if (link_parse(p, len, &m) != LINK_OK)
		return;
	switch (m.type) {
	case LINK_CHALLENGE:
		if ((ni = node_by_eui(s, m.eui)) >= 0)
			node_challenge(s, ni, &m, now_ms());
		break;
	case LINK_DATA_DOWN:
		for (ni = s->sid_head[sid_bucket(m.sid)]; ni != -1;
		    ni = s->nodes[ni].hnext)
			if (s->nodes[ni].ks.sid == m.sid &&
			    node_down(s, ni, &m, now_us()) == 0)
				return;
		for (ni = s->whead; ni != -1; ni = s->nodes[ni].wnext)
			if (node_down(s, ni, &m, now_us()) == 0)
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
	struct node *n = &s->nodes[ni];
	uint8_t pl[SIM_PAYLOAD_MAX], frame[LINK_FRAME_MAX];
	struct pending *pe;
	struct capture *c;
	size_t plen;
	unsigned int flags;
	int len;

	if (n->fcnt_up >= LINK_FCNT_MAX ||
	    n->silent >= LINK_REJOIN_SILENT_UPLINKS) {
		/* Counter exhausted, or the gateway has been silent too
		 * long: a new session. */
		node_hello(s, ni, now_ms());
		return -EAGAIN;
	}
	flags = n->silent >= LINK_KEEPALIVE_REQ_UPLINKS ?
	    LINK_FLAG_KEEPALIVE_REQ : 0;
	plen = sim_payload(&n->sensor, pl, sizeof(pl));
	len = link_seal_flags_with(n->up, LINK_DIR_UP, flags, n->ks.sid,
	    n->fcnt_up + 1, pl, plen, frame, sizeof(frame));
	if (len < 0)
		return len;
	if (radio_up(s, ni, frame, (size_t)len) < 0)
		return -ENOBUFS;
	if (flags != 0)
		s->st.keepalive_reqs++;
	n->fcnt_up++;
	n->silent++;
	n->sent++;
	s->st.sent++;
	if (ni == s->flood_node)
		s->st.flood++;
	if (s->logf != NULL) {
		if (s->pend_count == s->pend_cap) {
			/* Cannot happen: the ring holds a full queue. */
			fprintf(stderr, "sim: log ring full\n");
			exit(2);
		}
		pe = &s->pend[(s->pend_head + s->pend_count) % s->pend_cap];
		pe->end = s->out_total;
		pe->eui = n->dev->eui;
		pe->fcnt = n->fcnt_up;
		pe->len = (uint8_t)plen;
		memcpy(pe->payload, pl, plen);
		s->pend_count++;
	}
	/* Keep a few frames to replay later (--replay). */
	if (s->replay_done + s->ncap < s->o.replay &&
	    s->ncap < SIM_CAPTURE_MAX && sim_rand_below(&s->rng, 4) == 0) {
		c = &s->cap[s->ncap++];
		c->node = ni;
		c->sid = n->ks.sid;
		c->fcnt = n->fcnt_up;
		c->len = (size_t)len;
		memcpy(c->frame, frame, (size_t)len);
	}
	return 0;
}

/* --- attacks ----------------------------------------------------------- */

static int
random_up_node(struct sim *s)
{
	unsigned int i, start = sim_rand_below(&s->rng, s->nnodes);

	for (i = 0; i < s->nnodes; i++) {
		unsigned int ni = (start + i) % s->nnodes;

		if ((s->nodes[ni].state == NODE_UP ||
		    s->nodes[ni].state == NODE_DONE) && s->nodes[ni].sent > 0)
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
	if (len > 0 && radio_up(s, -1, frame, (size_t)len) == 0) {
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
	fake.sid = s->nodes[ni].ks.sid;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, fake.up, sizeof(fake.up));
	sensor = s->nodes[ni].sensor;
	len = link_seal(&fake, LINK_DIR_UP, s->nodes[ni].fcnt_up + 1, pl,
	    sim_payload(&sensor, pl, sizeof(pl)), frame, sizeof(frame));
	if (len > 0 && radio_up(s, ni, frame, (size_t)len) == 0) {
		s->forge_done++;
		s->st.forged++;
	}
}

static void
attack_replay(struct sim *s)
{
	struct capture *c;
	struct node *n;
	unsigned int i;

	for (i = 0; i < s->ncap; i++) {
		c = &s->cap[i];
		n = &s->nodes[c->node];
		if (n->ks.sid != c->sid || (n->state != NODE_UP &&
		    (n->state != NODE_DONE || n->fcnt_up <= c->fcnt))) {
			/* Its session is gone (the frame would count as stale,
			 * not replayed) or it can no longer be superseded:
			 * forget it and capture another. */
			s->cap[i--] = s->cap[--s->ncap];
			continue;
		}
		if (n->fcnt_up <= c->fcnt)
			continue;	/* not yet superseded */
		if (radio_up(s, c->node, c->frame, c->len) != 0)
			return;
		s->replay_done++;
		s->st.replayed++;
		s->cap[i] = s->cap[--s->ncap];
		return;
	}
}

/* A captured handshake replayed: the HELLO (which the gateway cannot tell
 * from a real one; it only earns a CHALLENGE nobody answers), then the
 * RESPONSE, which must be refused. */
static void
attack_replay_handshake(struct sim *s)
{
	int ni;
	struct node *n;

	if ((ni = random_up_node(s)) < 0)
		return;
	n = &s->nodes[ni];
	if (n->hello_len == 0 || n->resp_len == 0)
		return;
	if (s->hs_replay_step == 0) {
		if (radio_up(s, ni, n->hello, n->hello_len) == 0) {
			s->st.replayed_hello++;
			s->hs_replay_step = 1;
		}
	} else if (radio_up(s, ni, n->resp, n->resp_len) == 0) {
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
	/* End the burst with a delimiter so the next real frame starts
	 * clean; zeros inside the burst are noise like any other byte. */
	buf[n] = 0x00;
	if (out_put(s, buf, n + 1) == 0) {
		s->garbage_done += n;
		s->st.garbage_bytes += n;
	}
}

static int
attacks_left(const struct sim *s)
{
	return s->unknown_done < s->o.unknown || s->forge_done < s->o.forge ||
	    s->replay_done < s->o.replay || s->garbage_done < s->o.garbage ||
	    (s->o.replay > 0 && s->hs_replay_step < 2);
}

static void
attacks_run(struct sim *s, uint64_t now)
{
	/* Attack only a gateway that is listening: before its first ACCEPT
	 * our frames may still be flushed away when it opens the line, and
	 * the counts would not add up. */
	if (s->st.handshakes == 0 || now < s->next_attack_ms ||
	    out_pending(s) > SIM_OUT_HIGH)
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
	if (s->garbage_done < s->o.garbage)
		attack_garbage(s);
}

/* --- concentrator side: frames from the gateway ------------------------ */

static void
send_status(struct sim *s, uint64_t now)
{
	struct sframe f;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	f.u.status.uptime_s = (uint32_t)((now - s->start_ms) / 1000);
	f.u.status.rx_ok = (uint32_t)s->st.frames_up;
	f.u.status.rx_bad = 0;
	(void)send_frame(s, &f);
}

static void
send_error(struct sim *s, uint8_t code, const char *text)
{
	struct sframe f;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_ERROR;
	f.u.error.code = code;
	f.payload = (const uint8_t *)text;
	f.payload_len = strlen(text);
	(void)send_frame(s, &f);
}

static void
send_txr(struct sim *s, uint16_t id, uint8_t status)
{
	struct sframe f;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_RESULT;
	f.u.txr.id = id;
	f.u.txr.status = status;
	(void)send_frame(s, &f);
}

/* Transmit the held downlinks whose time has come. */
static void
txq_run(struct sim *s, uint32_t tmst)
{
	unsigned int i;

	for (i = 0; i < s->ntxq; i++) {
		if ((int32_t)(tmst - s->txq[i].at) < 0)
			continue;
		send_txr(s, s->txq[i].id, SFRAME_TX_SENT);
		radio_down(s, s->txq[i].frame, s->txq[i].len);
		/* Keep the order of equal times: shift, do not swap. */
		memmove(&s->txq[i], &s->txq[i + 1],
		    (s->ntxq - i - 1) * sizeof(s->txq[0]));
		s->ntxq--;
		i--;
	}
}

static void
tx_request(struct sim *s, const struct sframe *f)
{
	uint32_t tmst = (uint32_t)now_us();
	int32_t ahead = (int32_t)(f->u.tx.at_tmst_us - tmst);
	struct txq *q;

	s->st.tx_req++;
	if (f->u.tx.at_tmst_us == 0) {
		send_txr(s, f->u.tx.id, SFRAME_TX_SENT);
		radio_down(s, f->payload, f->payload_len);
		return;
	}
	if (ahead < -(int32_t)SIM_TX_LATE_MAX_US) {
		send_txr(s, f->u.tx.id, SFRAME_TX_TOO_LATE);
		return;
	}
	if (ahead > (int32_t)SIM_TX_AHEAD_MAX_US) {
		send_txr(s, f->u.tx.id, SFRAME_TX_TOO_EARLY);
		return;
	}
	if (s->ntxq == SIM_TXQ_MAX || f->payload_len > sizeof(q->frame)) {
		send_txr(s, f->u.tx.id, SFRAME_TX_BUSY);
		return;
	}
	q = &s->txq[s->ntxq++];
	q->at = f->u.tx.at_tmst_us;
	q->id = f->u.tx.id;
	q->len = f->payload_len;
	memcpy(q->frame, f->payload, f->payload_len);
	txq_run(s, tmst);
}

static void
on_frame(void *arg, int verdict, const struct sframe *f)
{
	struct sim *s = arg;

	if (verdict != SFRAME_OK) {
		s->st.frames_bad_in++;
		send_error(s, SFRAME_EC_BAD_FRAME, sframe_strerror(verdict));
		return;
	}
	switch (f->kind) {
	case SFRAME_TX_REQ:
		tx_request(s, f);
		break;
	case SFRAME_RESET:
		/* The radio restarts: pending transmissions are aborted and
		 * our frame counter starts again.  Packets already received
		 * stay queued for the line, and nodes in the field are not
		 * affected. */
		s->st.resets++;
		while (s->ntxq > 0)
			send_txr(s, s->txq[--s->ntxq].id, SFRAME_TX_FAILED);
		s->seq = 0;
		(void)out_put(s, (const uint8_t *)"", 1);
		send_status(s, now_ms());
		break;
	default:
		s->st.frames_bad_in++;
		send_error(s, SFRAME_EC_UNSUPPORTED, "frame kind not for a "
		    "concentrator");
		break;
	}
}

/* --- set-up ------------------------------------------------------------ */

static int
pty_open(struct sim *s)
{
	struct termios t;
	int fl;

	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master == -1)
		return -errno;
	if (grantpt(s->master) != 0 || unlockpt(s->master) != 0 ||
	    ptsname_r(s->master, s->slave_name, sizeof(s->slave_name)) != 0)
		return -errno;
	/* We keep the slave open ourselves: reads on the master then never
	 * fail with EIO while the daemon has it closed (between its
	 * reopens), and we set raw mode once for everyone. */
	s->slave = open(s->slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->slave == -1)
		return -errno;
	if (tcgetattr(s->slave, &t) != 0)
		return -errno;
	cfmakeraw(&t);
	(void)cfsetspeed(&t, B115200);
	if (tcsetattr(s->slave, TCSANOW, &t) != 0)
		return -errno;
	fl = fcntl(s->master, F_GETFL);
	if (fl == -1 || fcntl(s->master, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	return 0;
}

static int
link_create(const char *link, const char *target)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", link,
	    (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	if (symlink(target, tmp) != 0)
		return -errno;
	/* rename() replaces an old link atomically: a reader never sees the
	 * path missing. */
	if (rename(tmp, link) != 0) {
		int e = -errno;

		(void)unlink(tmp);
		return e;
	}
	return 0;
}

static void
link_remove(const char *link, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n;

	/* Only if it is still ours: another simulator may have taken it. */
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return;
	buf[n] = '\0';
	if (strcmp(buf, target) == 0)
		(void)unlink(link);
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

static int
parse_uint(const char *s, unsigned int *v)
{
	uint64_t x;

	if (parse_u64(s, &x) != 0 || x > UINT_MAX)
		return -EINVAL;
	*v = (unsigned int)x;
	return 0;
}

static int
parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*v >= 0) || *v > 1e9)
		return -EINVAL;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_REG = 256, O_KEYS, O_NODES, O_OFFSET, O_RATE, O_COUNT,
		O_DUR, O_LINK, O_LOG, O_SEED, O_GEN, O_STREAMS, O_FORGE,
		O_REPLAY, O_UNKNOWN, O_GARBAGE, O_FLOOD, O_ATTACK, O_QUIET,
		O_LOG_TIME, O_HELP };
	static const struct option lo[] = {
		{ "registry", required_argument, NULL, O_REG },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "nodes", required_argument, NULL, O_NODES },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "rate", required_argument, NULL, O_RATE },
		{ "count", required_argument, NULL, O_COUNT },
		{ "duration", required_argument, NULL, O_DUR },
		{ "link", required_argument, NULL, O_LINK },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-time", no_argument, NULL, O_LOG_TIME },
		{ "seed", required_argument, NULL, O_SEED },
		{ "gen-registry", required_argument, NULL, O_GEN },
		{ "streams", required_argument, NULL, O_STREAMS },
		{ "forge", required_argument, NULL, O_FORGE },
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "unknown", required_argument, NULL, O_UNKNOWN },
		{ "garbage", required_argument, NULL, O_GARBAGE },
		{ "flood", required_argument, NULL, O_FLOOD },
		{ "attack-every", required_argument, NULL, O_ATTACK },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	int c, bad = 0;

	memset(o, 0, sizeof(*o));
	o->rate = 1;
	o->attack_ms = SIM_ATTACK_MS;
	o->streams = "cattle,water,weather";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_REG: o->registry = optarg; break;
		case O_KEYS: o->keys = optarg; break;
		case O_LINK: o->link = optarg; break;
		case O_LOG: o->log = optarg; break;
		case O_STREAMS: o->streams = optarg; break;
		case O_FLOOD: o->flood = optarg; break;
		case O_QUIET: o->quiet = 1; break;
		case O_LOG_TIME: o->log_time = 1; break;
		case O_NODES: bad |= parse_uint(optarg, &o->nodes); break;
		case O_OFFSET: bad |= parse_uint(optarg, &o->offset); break;
		case O_GEN: bad |= parse_uint(optarg, &o->gen); break;
		case O_FORGE: bad |= parse_uint(optarg, &o->forge); break;
		case O_REPLAY: bad |= parse_uint(optarg, &o->replay); break;
		case O_UNKNOWN: bad |= parse_uint(optarg, &o->unknown); break;
		case O_GARBAGE: bad |= parse_uint(optarg, &o->garbage); break;
		case O_ATTACK: bad |= parse_uint(optarg, &o->attack_ms); break;
		case O_COUNT: bad |= parse_u64(optarg, &o->count); break;
		case O_SEED:
			bad |= parse_u64(optarg, &o->seed);
			o->seeded = 1;
			break;
		case O_RATE: bad |= parse_double(optarg, &o->rate); break;
		case O_DUR: bad |= parse_double(optarg, &o->duration); break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "fieldbridge-sim: bad value for --%s: "
			    "%s\n", lo[c - O_REG].name, optarg);
			return -EINVAL;
		}
	}
	if (o->attack_ms == 0 || o->attack_ms > 3600000) {
		fprintf(stderr, "fieldbridge-sim: --attack-every: 1..3600000 "
		    "ms\n");
		return -EINVAL;
	}
	if (optind != argc || o->registry == NULL || o->keys == NULL ||
	    (o->gen == 0 && o->link == NULL)) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int
sim_setup(struct sim *s)
{
	char err[512];
	unsigned int total, i;
	uint64_t eui;
	int r;

	r = registry_load(s->o.registry, s->o.keys, &s->reg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "fieldbridge-sim: %s\n", err);
		return r;
	}
	total = (unsigned int)registry_count(s->reg);
	if (s->o.offset >= total) {
		fprintf(stderr, "fieldbridge-sim: --offset %u: the registry "
		    "has %u devices\n", s->o.offset, total);
		return -EINVAL;
	}
	s->nnodes = total - s->o.offset;
	if (s->o.nodes > 0 && s->o.nodes < s->nnodes)
		s->nnodes = s->o.nodes;
	s->nodes = calloc(s->nnodes, sizeof(*s->nodes));
	s->out = malloc(SIM_OUT_CAP);
	/* At most one pending record per queued frame, and a data frame on
	 * the wire is longer than 32 bytes. */
	s->pend_cap = SIM_OUT_CAP / 32 + 1;
	s->pend = s->o.log != NULL ? calloc(s->pend_cap, sizeof(*s->pend)) :
	    NULL;
	if (s->nodes == NULL || s->out == NULL ||
	    (s->o.log != NULL && s->pend == NULL))
		return -ENOMEM;
	for (i = 0; i < SIM_SID_BUCKETS; i++)
		s->sid_head[i] = -1;
	s->whead = s->wtail = -1;
	s->flood_node = -1;
	if (s->o.flood != NULL) {
		if (registry_parse_eui(s->o.flood, &eui) == 0) {
			for (i = 0; i < s->nnodes; i++)
				if (registry_at(s->reg, s->o.offset + i)->eui ==
				    eui)
					s->flood_node = (int)i;
		} else if (parse_uint(s->o.flood, &i) == 0 && i < s->nnodes)
			s->flood_node = (int)i;
		if (s->flood_node < 0) {
			fprintf(stderr, "fieldbridge-sim: --flood %s: not one "
			    "of the simulated nodes\n", s->o.flood);
			return -EINVAL;
		}
	}
	for (i = 0; i < s->nnodes; i++) {
		struct node *n = &s->nodes[i];

		n->dev = registry_at(s->reg, s->o.offset + i);
		if (i > 0 && n->dev->eui <= s->nodes[i - 1].dev->eui) {
			fprintf(stderr, "fieldbridge-sim: registry not sorted\n");
			return -EINVAL;
		}
		n->hnext = n->wprev = n->wnext = -1;
		n->state = NODE_IDLE;
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

/* Run every node that is due; returns the earliest next wish, in us. */
static uint64_t
nodes_run(struct sim *s, uint64_t tus)
{
	uint64_t tms = tus / 1000, next = tus + SIM_TICK_MS * 1000;
	unsigned int k, ni, spread;
	struct node *n;

	/* Spread the first HELLOs so a large fleet does not start as one
	 * burst: about 1 ms per node, at most 1 s. */
	spread = s->nnodes < 1000 ? s->nnodes : 1000;
	for (k = 0; k < s->nnodes; k++) {
		ni = (s->rr + k) % s->nnodes;
		n = &s->nodes[ni];
		switch (n->state) {
		case NODE_IDLE:
			if (n->deadline_ms == 0)
				n->deadline_ms = s->start_ms +
				    sim_rand_below(&s->rng, spread + 1);
			/* FALLTHROUGH */
		case NODE_WAIT_CHALLENGE:
		case NODE_WAIT_ACCEPT:
			if (tms >= n->deadline_ms)
				node_hello(s, (int)ni, tms);
			if (n->deadline_ms * 1000 < next)
				next = n->deadline_ms * 1000;
			break;
		case NODE_UP:
			while (n->next_us <= tus &&
			    out_pending(s) <= SIM_OUT_HIGH) {
				if (node_send(s, (int)ni) != 0)
					break;
				n->next_us += n->interval_us;
				if (s->o.count > 0 && n->sent >= s->o.count) {
					n->state = NODE_DONE;
					break;
				}
				if (n->interval_us == 0)
					break;	/* --rate 0: one per round */
			}
			if (n->state == NODE_UP && n->next_us < next)
				next = n->next_us;
			break;
		default:
			break;
		}
	}
	s->rr = (s->rr + 1) % s->nnodes;
	return next;
}

/* With --count: every node has sent its records and the attacks are
 * through (or, for replays that need a later frame, have had their chance). */
static int
all_done(struct sim *s, uint64_t tms)
{
	unsigned int i;

	if (s->o.count == 0)
		return 0;
	for (i = 0; i < s->nnodes; i++)
		if (s->nodes[i].state != NODE_DONE)
			return 0;
	if (s->nodes_done_ms == 0)
		s->nodes_done_ms = tms;
	return !attacks_left(s) || tms >= s->nodes_done_ms + SIM_ATTACK_GRACE_MS;
}

static void
summary(const struct sim *s, FILE *f)
{
	const struct stats *t = &s->st;

	fprintf(f, "sim: sent=%" PRIu64 " forged=%" PRIu64 " replayed=%" PRIu64
	    " replayed_hello=%" PRIu64 " replayed_response=%" PRIu64
	    " unknown=%" PRIu64 " garbage_bytes=%" PRIu64 " flood=%" PRIu64
	    " hellos=%" PRIu64 " handshakes=%" PRIu64 " rejoins=%" PRIu64
	    " bad_gw_proof=%" PRIu64
	    " bad_downlink=%" PRIu64 " commands=%" PRIu64
	    " keepalive_reqs=%" PRIu64 " keepalives=%" PRIu64
	    " tx_req=%" PRIu64
	    " resets=%" PRIu64 " frames_up=%" PRIu64 " bad_frames_in=%" PRIu64
	    " unwritten_bytes=%zu\n",
	    t->sent, t->forged, t->replayed, t->replayed_hello,
	    t->replayed_response, t->unknown, t->garbage_bytes, t->flood,
	    t->hellos, t->handshakes, t->rejoins, t->bad_gw_proof, t->bad_down,
	    t->commands, t->keepalive_reqs, t->keepalives, t->tx_req, t->resets, t->frames_up, t->frames_bad_in,
	    out_pending(s));
}

static int
sim_loop(struct sim *s)
{
	struct pollfd pfd[2];
	uint8_t buf[8192];
	uint64_t tus, tms, next, end_ms = 0, drain_ms = 0, idle_ms = 0;
	ssize_t n;
	int timeout, inq, r, stopping = 0;

	s->start_ms = now_ms();
	s->next_status_ms = s->start_ms;
	if (s->o.duration > 0)
		end_ms = s->start_ms + (uint64_t)(s->o.duration * 1000);
	for (;;) {
		tus = now_us();
		tms = tus / 1000;
		/*
		 * At the end of --duration or on SIGTERM, stop sending but let
		 * the daemon read what is on the line: closing the pty drops
		 * its unread bytes, and the log would claim records that never
		 * reached the daemon.
		 */
		if (end_ms != 0 && tms >= end_ms && !stopping) {
			stopping = 1;
			drain_ms = tms + SIM_STOP_DRAIN_MS;
		}
		if (tms >= s->next_status_ms) {
			send_status(s, tms);
			s->next_status_ms = tms + SIM_STATUS_MS;
		}
		txq_run(s, (uint32_t)tus);
		next = stopping ? tus + SIM_TICK_MS * 1000 : nodes_run(s, tus);
		if (!stopping)
			attacks_run(s, tms);
		if (s->ntxq > 0 && next > tus + 1000)
			next = tus + 1000;
		if ((r = out_write(s)) < 0) {
			fprintf(stderr, "fieldbridge-sim: write: %s\n",
			    strerror(-r));
			return r;
		}
		if (drain_ms == 0 && all_done(s, tms))
			drain_ms = tms + SIM_DRAIN_MS;
		if (drain_ms != 0) {
			/* Done: wait until the daemon has read everything. */
			inq = 0;
			if (ioctl(s->slave, FIONREAD, &inq) != 0)
				inq = 0;
			if (out_pending(s) > 0 || inq > 0)
				idle_ms = 0;
			else if (idle_ms == 0)
				idle_ms = tms + SIM_LINGER_MS;
			if ((idle_ms != 0 && tms >= idle_ms) || tms >= drain_ms)
				return 0;
			next = tus + 20000;
		}
		/* A full queue waits for POLLOUT instead of spinning. */
		if (out_pending(s) > SIM_OUT_HIGH && next < tus + SIM_TICK_MS * 1000)
			next = tus + SIM_TICK_MS * 1000;
		timeout = next > tus ? (int)((next - tus + 999) / 1000) : 0;
		if (timeout > SIM_TICK_MS)
			timeout = SIM_TICK_MS;
		if (!stopping && attacks_left(s) &&
		    timeout > (int)s->o.attack_ms)
			timeout = (int)s->o.attack_ms;
		pfd[0].fd = s->master;
		pfd[0].events = POLLIN | (out_pending(s) > 0 ? POLLOUT : 0);
		pfd[1].fd = s->sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents & POLLIN) {
			if (stopping)
				return 0;	/* a second signal: at once */
			(void)read(s->sigfd, buf, sizeof(struct signalfd_siginfo));
			stopping = 1;
			drain_ms = tms + SIM_STOP_DRAIN_MS;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(s->master, buf, sizeof(buf));
			if (n > 0)
				sframe_reader_feed(&s->reader, buf, (size_t)n,
				    on_frame, s);
			else if (n < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != EIO)
				return -errno;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sim *s;
	sigset_t mask;
	char err[512];
	int r, rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return 1;
	s->master = s->slave = s->sigfd = -1;
	if (parse_args(argc, argv, &s->o) != 0)
		goto out;
	if (s->o.gen > 0) {
		r = sim_gen_registry(s->o.registry, s->o.keys, s->o.gen,
		    s->o.streams, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "fieldbridge-sim: %s\n", err);
		else
			rc = 0;
		goto out;
	}
	if (s->o.seeded)
		s->rng = s->o.seed;
	else
		(void)gnutls_rnd(GNUTLS_RND_NONCE, &s->rng, sizeof(s->rng));
	if (sim_setup(s) != 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	(void)signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		perror("fieldbridge-sim: signalfd");
		goto out;
	}
	if (s->o.log != NULL) {
		if ((s->logf = fopen(s->o.log, "we")) == NULL) {
			fprintf(stderr, "fieldbridge-sim: %s: %s\n", s->o.log,
			    strerror(errno));
			goto out;
		}
		setvbuf(s->logf, NULL, _IOFBF, 1 << 16);
	}
	if ((r = pty_open(s)) < 0) {
		fprintf(stderr, "fieldbridge-sim: pty: %s\n", strerror(-r));
		goto out;
	}
	if ((r = link_create(s->o.link, s->slave_name)) < 0) {
		fprintf(stderr, "fieldbridge-sim: %s: %s\n", s->o.link,
		    strerror(-r));
		goto out;
	}
	sframe_reader_init(&s->reader);
	/* A concentrator starts with a delimiter: it ends whatever partial
	 * frame the gateway may have buffered. */
	(void)out_put(s, (const uint8_t *)"", 1);
	printf("%s -> %s\n", s->o.link, s->slave_name);
	fflush(stdout);
	if (!s->o.quiet)
		fprintf(stderr, "sim: %u nodes on %s, %.6g records/s each%s\n",
		    s->nnodes, s->o.link, s->o.rate,
		    s->flood_node >= 0 ? ", one flooding" : "");
	r = sim_loop(s);
	link_remove(s->o.link, s->slave_name);
	if (r < 0)
		fprintf(stderr, "fieldbridge-sim: %s\n", strerror(-r));
	else
		rc = 0;
	summary(s, stderr);
out:
	if (s->logf != NULL && fclose(s->logf) != 0)
		rc = 1;
	if (s->sigfd != -1)
		close(s->sigfd);
	if (s->master != -1)
		close(s->master);
	if (s->slave != -1)
		close(s->slave);
	for (r = 0; s->nodes != NULL && r < (int)s->nnodes; r++)
		link_aead_free(s->nodes[r].up);
	if (s->nodes != NULL) {
		gnutls_memset(s->nodes, 0, s->nnodes * sizeof(*s->nodes));
		free(s->nodes);
	}
	free(s->out);
	free(s->pend);
	registry_free(s->reg);
	free(s);
	return rc;
}
