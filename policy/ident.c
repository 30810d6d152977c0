/*
 * ident.c - the gateway's side of the node link protocol
 * (docs/link-protocol.md): answers HELLOs with CHALLENGEs, checks
 * RESPONSEs and opens sessions with an ACCEPT, verifies data frames, and
 * drops everything else with a verdict the caller counts.  It sits between
 * the radio drivers (which hand it one radio payload) and the batcher
 * (which gets the verified record, in the stream the registry gives its
 * device).
 *
 * State per device exists only once the device has sent a HELLO:
 *
 *   pending challenge  Nn, Ng and a deadline; single-use: the first
 *                      RESPONSE consumes it, right or wrong, and it is
 *                      gone after IDENT_CHALLENGE_TTL_MS.  A replayed
 *                      RESPONSE so never finds one.
 *   recent HELLOs      the first 8 bytes of the last IDENT_HELLO_SEEN
 *                      nonces Nn; a HELLO repeating one is a replay and
 *                      gets no answer (answering would cost an HMAC and
 *                      a transmission for nothing).
 *   session            sid, up and down keys, the highest uplink counter
 *                      accepted and the last downlink counter sent.
 *   previous sid       of the session this one superseded: its frames are
 *                      "stale", not "unknown", which tells a node that
 *                      missed its ACCEPT from an attacker replaying.
 *   two token buckets  HELLOs and data frames.
 *   join counter       the highest of the device's authentic version 2
 *                      HELLOs, and whether it ever sent one (then its
 *                      version 1 HELLOs are refused: downgrade), with
 *                      Kh, the key of their MIC, kept once derived.
 *
 * The gateway picks each sid at random, never 0, unique among all current
 * and previous sids, and finds a sid's device through an open-addressing
 * hash table (linear probing, backward-shift deletion) holding both.
 *
 * A DATA_UP with LINK_FLAG_KEEPALIVE_REQ that is accepted as a record also
 * gets a LINK_DOWN_KEEPALIVE in out->reply: the node has heard nothing for
 * a while and wants to know that this session still exists.  It says only
 * that: records may still sit in an unsealed batch in memory, so it
 * acknowledges nothing.  The gateway keeps no silence count of its own;
 * answering requests is what makes a lost keepalive cost a few more
 * requests, not a handshake.  It answers at most one request in
 * IDENT_KEEPALIVE_SPACING uplinks: a fast node has many flagged frames in
 * flight before the first answer reaches it, and answering each would
 * flood the downlink (the concentrator's queue, and on LoRa the duty
 * cycle).  The spacing is below LINK_REJOIN_SILENT_UPLINKS -
 * LINK_KEEPALIVE_REQ_UPLINKS, so one lost keepalive never forces a join.
 *
 * All of it lives in memory only: after a restart every sid is unknown, no
 * request is answered, and the nodes re-handshake (link.h:
 * LINK_REJOIN_SILENT_UPLINKS).  One AES-CCM
 * handle is re-keyed per frame: measured at 7 M opens/s against 7.5 M with
 * a handle per session, which would cost 400 bytes a device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/ident.h"
#include "policy/rate.h"

#define IDENT_SEEN_LEN		8	/* bytes of Nn remembered */
#define IDENT_REC_VERSION	2
#define IDENT_REC_V1		1	/* before the join counter */
#define IDENT_REC_TAG_LEN	16
#define IDENT_REC_LABEL		"FBSESS1 record"
#define IDENT_REC_MAC_MAX	80	/* label 14, eui 8, record body 54 */
#define IDENT_REC_F_V2		0x01	/* flags: v2 HELLOs only */
#define IDENT_TABLE_MIN		64
#define IDENT_SID_TRIES		64

/* A challenge sent and not yet answered: bound to its own nonces, with
 * the proof expected back computed when it was sent. */
struct ident_pending {
	uint64_t		 deadline;	/* 0: free */
	uint8_t			 nn[LINK_NONCE_LEN];
	uint8_t			 ng[LINK_NONCE_LEN];
	uint8_t			 tn[LINK_PROOF_LEN];
};

struct ident_node {
	const struct device	*dev;
	struct link_session_keys ks;		/* ks.sid 0: no session */
	uint32_t		 prev_sid;
	uint32_t		 up_last;
	uint32_t		 down_last;
	uint32_t		 down_resv;	/* down counters up to this one
						 * may be used: durable, or the
						 * session is not */
	uint32_t		 ka_fcnt;	/* uplink answered by the last
						 * keepalive, 0: none yet */
	uint8_t			 dirty;		/* changed since the last
						 * checkpoint */
	uint8_t			 v2;		/* an authentic v2 HELLO seen:
						 * v1 HELLOs are refused */
	uint8_t			 hkey_set;
	uint32_t		 join_last;	/* highest v2 join counter */
	uint8_t			 hkey[LINK_HELLO_KEY_LEN]; /* Kh */
	uint8_t			 sess_nn[LINK_NONCE_LEN]; /* the session's */
	uint8_t			 sess_ng[LINK_NONCE_LEN]; /*   nonces */
	struct ident_pending	 pend[IDENT_PENDING_MAX];
	uint8_t			 seen[IDENT_HELLO_SEEN][IDENT_SEEN_LEN];
	uint8_t			 seen_next;
	struct rate_bucket	 hello_rate;
	struct rate_bucket	 data_rate;
};

struct ident_slot {
	uint32_t	sid;		/* 0: empty */
	uint32_t	idx;		/* registry index of the device */
};

struct ident {
	const struct registry	*reg;
	struct ident_node	**nodes;	/* by registry index */
	size_t			 nnodes;
	struct ident_slot	*tab;
	size_t			 tabcap;	/* power of two */
	size_t			 tabused;
	struct link_aead	*aead;
	struct rate_limit	 rate;
	struct rate_limit	 hello_rate;
	uint64_t		 keepalives;	/* LINK_DOWN_KEEPALIVEs built */
	ident_persist_fn	*persist;
	void			*persist_arg;
	struct ident_stats	 st;
};

/* ---- sid -> device ---- */

static size_t
ident_home(uint32_t sid, size_t cap)
{
	/* sids are random, but lookups are attacker-chosen: mix anyway. */
	return (size_t)((sid * 0x9e3779b1u) >> 7) & (cap - 1);
}

static struct ident_slot *
ident_lookup(const struct ident *id, uint32_t sid)
{
	size_t i = ident_home(sid, id->tabcap);

	if (sid == 0)
		return NULL;
	for (;;) {
		if (id->tab[i].sid == sid)
			return &id->tab[i];
		if (id->tab[i].sid == 0)
			return NULL;
		i = (i + 1) & (id->tabcap - 1);
	}
}

static void
ident_place(struct ident_slot *tab, size_t cap, uint32_t sid, uint32_t idx)
{
	size_t i = ident_home(sid, cap);

	while (tab[i].sid != 0)
		i = (i + 1) & (cap - 1);
	tab[i].sid = sid;
	tab[i].idx = idx;
}

static int
ident_insert(struct ident *id, uint32_t sid, uint32_t idx)
{
	if (2 * (id->tabused + 1) > id->tabcap) {
		size_t cap = 2 * id->tabcap, i;
		struct ident_slot *t;

		if ((t = calloc(cap, sizeof(*t))) == NULL)
			return -ENOMEM;
		for (i = 0; i < id->tabcap; i++)
			if (id->tab[i].sid != 0)
				ident_place(t, cap, id->tab[i].sid,
				    id->tab[i].idx);
		free(id->tab);
		id->tab = t;
		id->tabcap = cap;
	}
	ident_place(id->tab, id->tabcap, sid, idx);
	id->tabused++;
	return 0;
}

/* Knuth's algorithm R: pull later members of the cluster back so that no
 * lookup stops early at the hole. */
static void
ident_remove(struct ident *id, uint32_t sid)
{
	struct ident_slot *s = ident_lookup(id, sid);
	size_t mask = id->tabcap - 1, i, j, k;

	if (s == NULL)
		return;
	i = (size_t)(s - id->tab);
	for (j = i;;) {
		j = (j + 1) & mask;
		if (id->tab[j].sid == 0)
			break;
		k = ident_home(id->tab[j].sid, id->tabcap);
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		id->tab[i] = id->tab[j];
		i = j;
	}
	id->tab[i].sid = 0;
	id->tabused--;
}

/* ---- per-device state ---- */

static void
ident_node_free(struct ident_node *n)
{
	if (n == NULL)
		return;
	gnutls_memset(n, 0, sizeof(*n));
	free(n);
}

static struct ident_node *
ident_node_get(struct ident *id, const struct device *dev, uint64_t now_ms)
{
	size_t idx = registry_index(id->reg, dev);
	struct ident_node *n;

	if ((n = id->nodes[idx]) != NULL)
		return n;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->dev = dev;
	rate_init(&n->hello_rate, &id->hello_rate, now_ms);
	rate_init(&n->data_rate, &id->rate, now_ms);
	id->nodes[idx] = n;
	return n;
}

struct ident *
ident_new(const struct registry *reg)
{
	struct ident *id;
	uint8_t zero[LINK_SESSION_KEY_LEN] = { 0 };

	if ((id = calloc(1, sizeof(*id))) == NULL)
		return NULL;
	id->reg = reg;
	id->nnodes = registry_count(reg);
	id->tabcap = IDENT_TABLE_MIN;
	id->hello_rate.per_min = IDENT_HELLO_PER_MIN_DEFAULT;
	id->hello_rate.burst = IDENT_HELLO_BURST_DEFAULT;
	if ((id->nodes = calloc(id->nnodes + 1, sizeof(*id->nodes))) == NULL ||
	    (id->tab = calloc(id->tabcap, sizeof(*id->tab))) == NULL ||
	    link_aead_new(zero, &id->aead) != 0) {
		ident_free(id);
		return NULL;
	}
	return id;
}

void
ident_free(struct ident *id)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; id->nodes != NULL && i < id->nnodes; i++)
		ident_node_free(id->nodes[i]);
	free(id->nodes);
	free(id->tab);
	link_aead_free(id->aead);
	free(id);
}

void
ident_set_rate(struct ident *id, unsigned per_min, unsigned burst)
{
	id->rate.per_min = per_min;
	id->rate.burst = burst;
}

void
ident_set_hello_rate(struct ident *id, unsigned per_min, unsigned burst)
{
	id->hello_rate.per_min = per_min;
	id->hello_rate.burst = burst;
}

int
ident_set_registry(struct ident *id, const struct registry *reg)
{
	struct ident_node **nodes;
	struct ident_slot *tab;
	size_t n = registry_count(reg), cap = id->tabcap, used = 0, i;

	/* Allocate first, so that failing changes nothing. */
	if ((nodes = calloc(n + 1, sizeof(*nodes))) == NULL)
		return -ENOMEM;
	if ((tab = calloc(cap, sizeof(*tab))) == NULL) {
		free(nodes);
		return -ENOMEM;
	}
	for (i = 0; i < id->nnodes; i++) {
		struct ident_node *node = id->nodes[i];
		const struct device *nd;
		size_t ni;

		if (node == NULL)
			continue;
		nd = registry_find(reg, node->dev->eui);
		/* Same secret; and un-revoking never revives a session. */
		if (nd == NULL || gnutls_memcmp(nd->secret, node->dev->secret,
		    LINK_SECRET_LEN) != 0 ||
		    (node->dev->revoked && !nd->revoked)) {
			ident_node_free(node);
			continue;
		}
		if (nd->revoked) {
			/* Keep the sids, so its frames count as revoked. */
			gnutls_memset(node->ks.up, 0, sizeof(node->ks.up));
			gnutls_memset(node->ks.down, 0, sizeof(node->ks.down));
			gnutls_memset(node->pend, 0, sizeof(node->pend));
			gnutls_memset(node->hkey, 0, sizeof(node->hkey));
			node->hkey_set = 0;
		}
		node->dev = nd;
		ni = registry_index(reg, nd);
		nodes[ni] = node;
		if (node->ks.sid != 0) {
			ident_place(tab, cap, node->ks.sid, (uint32_t)ni);
			used++;
		}
		if (node->prev_sid != 0) {
			ident_place(tab, cap, node->prev_sid, (uint32_t)ni);
			used++;
		}
	}
	free(id->nodes);
	free(id->tab);
	id->nodes = nodes;
	id->nnodes = n;
	id->tab = tab;
	id->tabused = used;
	id->reg = reg;
	return 0;
}

/* ---- the three kinds of uplink ---- */

static int	ident_seal_down(struct ident *id, struct ident_node *n,
		    const uint8_t *plain, size_t len, struct ident_out *out);

/*
 * A version 2 HELLO, before anything that costs: its MIC (one HMAC under
 * the device's Kh, derived once), then its join counter.  A forged one
 * fails the MIC and a replayed one the counter, and either leaves the
 * device's HELLO tokens, its challenges and the air alone.  Only an
 * authentic, fresh HELLO moves the counter (made durable at the next
 * checkpoint, or with the session at the join) and marks the device as a
 * version 2 node, whose version 1 HELLOs are refused from then on.
 */
static int
ident_hello_auth(struct ident *id, struct ident_node *n,
    const struct link_msg *m)
{
	if (!n->hkey_set) {
		if (link_hello_key(n->dev->secret, n->dev->eui, n->hkey) != 0)
			return IDENT_DROP_RATE;
		n->hkey_set = 1;
	}
	if (link_hello_verify(n->hkey, m) != LINK_OK)
		return IDENT_DROP_BAD_TAG;
	if (m->join_ctr <= n->join_last)
		return IDENT_DROP_REPLAY;
	n->join_last = m->join_ctr;
	n->v2 = 1;
	n->dirty = 1;
	id->st.hello_v2++;
	return IDENT_OK;
}

static int
ident_hello(struct ident *id, const struct link_msg *m, uint64_t now_ms,
    struct ident_out *out)
{
	const struct device *dev;
	struct ident_node *n;
	struct ident_pending *p;
	uint8_t tg[LINK_PROOF_LEN];
	int i, len;

	if ((dev = registry_find(id->reg, m->eui)) == NULL)
		return IDENT_DROP_UNKNOWN;
	out->dev = dev;
	if (dev->revoked)
		return IDENT_DROP_REVOKED;
	/* Out of memory: shed the load like a flood. */
	if ((n = ident_node_get(id, dev, now_ms)) == NULL)
		return IDENT_DROP_RATE;
	if (m->version == LINK_VERSION_2) {
		if ((i = ident_hello_auth(id, n, m)) != IDENT_OK)
			return i;
	} else if (n->v2)
		return IDENT_DROP_DOWNGRADE;
	if (rate_take(&n->hello_rate, &id->hello_rate, now_ms) != 0)
		return IDENT_DROP_RATE;
	for (i = 0; i < IDENT_HELLO_SEEN; i++)
		if (memcmp(n->seen[i], m->nonce, IDENT_SEEN_LEN) == 0)
			return IDENT_DROP_REPLAY;
	/* A free slot, never a live one: a HELLO, which anybody can
	 * forge, must not displace a challenge a genuine node is about to
	 * answer. */
	for (i = 0, p = NULL; i < IDENT_PENDING_MAX; i++)
		if (n->pend[i].deadline <= now_ms) {
			p = &n->pend[i];
			break;
		}
	if (p == NULL) {
		id->st.pending_full++;
		return IDENT_DROP_RATE;
	}
	if (gnutls_rnd(GNUTLS_RND_NONCE, p->ng, LINK_NONCE_LEN) != 0 ||
	    link_gw_proof(dev->secret, dev->eui, m->nonce, p->ng, tg) != 0 ||
	    link_node_proof(dev->secret, dev->eui, m->nonce, p->ng,
	    p->tn) != 0) {
		p->deadline = 0;
		return IDENT_DROP_RATE;
	}
	memcpy(n->seen[n->seen_next], m->nonce, IDENT_SEEN_LEN);
	n->seen_next = (uint8_t)((n->seen_next + 1) % IDENT_HELLO_SEEN);
	memcpy(p->nn, m->nonce, LINK_NONCE_LEN);
	p->deadline = now_ms + IDENT_CHALLENGE_TTL_MS;
	len = link_build_challenge(out->reply, sizeof(out->reply), dev->eui,
	    p->ng, tg);
	if (len < 0)
		return IDENT_DROP_MALFORMED;	/* cannot happen: fixed size */
	out->reply_len = (size_t)len;
	out->reply_auth = m->version == LINK_VERSION_2;
	out->action = IDENT_REPLY;
	return IDENT_OK;
}

static uint32_t
ident_new_sid(const struct ident *id)
{
	uint32_t sid;
	int i;

	for (i = 0; i < IDENT_SID_TRIES; i++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, &sid, sizeof(sid)) != 0)
			return 0;
		if (sid != 0 && ident_lookup(id, sid) == NULL)
			return sid;
	}
	return 0;
}

static int
ident_response(struct ident *id, const struct link_msg *m, uint64_t now_ms,
    struct ident_out *out)
{
	const struct device *dev;
	struct ident_node *n;
	struct ident_pending *p = NULL;
	struct link_session_keys ks;
	const uint8_t accept = LINK_DOWN_ACCEPT;
	uint32_t idx;
	int i, live = 0, r;

	if ((dev = registry_find(id->reg, m->eui)) == NULL)
		return IDENT_DROP_UNKNOWN;
	out->dev = dev;
	if (dev->revoked)
		return IDENT_DROP_REVOKED;
	idx = (uint32_t)registry_index(id->reg, dev);
	if ((n = id->nodes[idx]) == NULL)
		return IDENT_DROP_REPLAY;
	/* Every live challenge is tried (a memcmp each: the proofs were
	 * computed when the challenges went out), so a wrong proof costs
	 * nothing and consumes nothing; the right one consumes its own. */
	for (i = 0; i < IDENT_PENDING_MAX; i++) {
		if (n->pend[i].deadline == 0)
			continue;
		if (n->pend[i].deadline <= now_ms) {
			gnutls_memset(&n->pend[i], 0, sizeof(n->pend[i]));
			continue;
		}
		live++;
		if (p == NULL && gnutls_memcmp(n->pend[i].tn, m->proof,
		    LINK_PROOF_LEN) == 0)
			p = &n->pend[i];
	}
	if (live == 0)
		return IDENT_DROP_REPLAY;
	if (p == NULL)
		return IDENT_DROP_BAD_TAG;
	r = IDENT_DROP_RATE;
	if (link_session_derive(dev->secret, dev->eui, p->nn, p->ng,
	    &ks) != 0 || (ks.sid = ident_new_sid(id)) == 0 ||
	    ident_insert(id, ks.sid, idx) != 0)
		goto out;
	/* The superseded session stays known as stale; the one before goes. */
	if (n->prev_sid != 0)
		ident_remove(id, n->prev_sid);
	n->prev_sid = n->ks.sid;
	n->ks = ks;
	memcpy(n->sess_nn, p->nn, LINK_NONCE_LEN);
	memcpy(n->sess_ng, p->ng, LINK_NONCE_LEN);
	/* Every challenge goes: a genuine node runs one handshake at a
	 * time, so the others are its abandoned attempts or forgeries, and
	 * a captured RESPONSE to one of them, replayed, must not supersede
	 * the session just made. */
	gnutls_memset(n->pend, 0, sizeof(n->pend));
	n->up_last = 0;
	n->down_last = 0;
	n->down_resv = 0;
	n->ka_fcnt = 0;
	/* The ACCEPT is down fcnt 1: ident_seal_down reserves a block of
	 * counters and stores the new session before it is sealed, so that
	 * a node accepted now is still known after a crash. */
	if (ident_seal_down(id, n, &accept, 1, out) != 0) {
		/* Not stored: keep the session in memory all the same (a
		 * full disk must not keep every node out); it is simply not
		 * known after a restart, which costs the node a join, and
		 * reuses no counter: its keys are gone with it. */
		n->down_resv = IDENT_DOWN_RESERVE;
		if (ident_seal_down(id, n, &accept, 1, out) != 0)
			goto out;
	}
	out->action = IDENT_REPLY;
	r = IDENT_OK;
out:
	gnutls_memset(&ks, 0, sizeof(ks));
	return r;
}

/* ---- durable sessions ---- */

/*
 * The session record, as policy/ident.c hands it to the store
 * (daemon/store/sessions.c keeps it opaque), big-endian:
 *	 0  1  version, IDENT_REC_VERSION
 *	 1  4  sid			 5  4  previous sid
 *	 9  4  highest uplink counter accepted
 *	13  4  downlink counters reserved up to (the next one used after a
 *	       restart is above it)
 *	17 16  Nn			33 16  Ng  (the handshake's nonces,
 *	       public: they crossed the air; the keys are derived again from
 *	       them and the device secret, so the file holds no key)
 *	49  4  highest join counter of an authentic version 2 HELLO
 *	53  1  flags: IDENT_REC_F_V2, the device has sent one (its
 *	       version 1 HELLOs are refused)
 *	54 16  tag: HMAC-SHA-256(K, "FBSESS1 record" | eui8 | bytes 0..53),
 *	       first 16 bytes, so that a record edited, copied from another
 *	       device or left from before the device's secret changed is
 *	       refused rather than trusted (a lowered counter would let
 *	       replays in).
 *
 * sid 0 (previous sid 0, nonces zero) is a device with no session that
 * has sent a version 2 HELLO: its join counter must survive a restart
 * too.  Version 1 records (IDENT_REC_V1_LEN bytes: no bytes 49..53, the
 * tag at 49) are read as join counter 0, no flags.
 */
static int
ident_rec_tag(const struct device *dev, const uint8_t *rec, size_t len,
    uint8_t *tag)
{
	uint8_t msg[IDENT_REC_MAC_MAX], mac[32];
	size_t off = sizeof(IDENT_REC_LABEL) - 1;
	int r, i;

	memcpy(msg, IDENT_REC_LABEL, off);
	for (i = 7; i >= 0; i--)
		msg[off++] = (uint8_t)(dev->eui >> (8 * i));
	memcpy(msg + off, rec, len - IDENT_REC_TAG_LEN);
	off += len - IDENT_REC_TAG_LEN;
	r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, dev->secret, LINK_SECRET_LEN,
	    msg, off, mac);
	memcpy(tag, mac, IDENT_REC_TAG_LEN);
	gnutls_memset(mac, 0, sizeof(mac));
	return r == 0 ? 0 : -EIO;
}

static void
ident_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
ident_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
ident_rec_encode(const struct ident_node *n, uint8_t *rec)
{
	rec[0] = IDENT_REC_VERSION;
	ident_put32(rec + 1, n->ks.sid);
	ident_put32(rec + 5, n->prev_sid);
	ident_put32(rec + 9, n->up_last);
	ident_put32(rec + 13, n->down_resv);
	memcpy(rec + 17, n->sess_nn, LINK_NONCE_LEN);
	memcpy(rec + 33, n->sess_ng, LINK_NONCE_LEN);
	ident_put32(rec + 49, n->join_last);
	rec[53] = n->v2 ? IDENT_REC_F_V2 : 0;
	return ident_rec_tag(n->dev, rec, IDENT_REC_LEN,
	    rec + IDENT_REC_LEN - IDENT_REC_TAG_LEN);
}

/* Store n's session now (sync): 0 or -errno. */
static int
ident_store_now(struct ident *id, struct ident_node *n)
{
	uint8_t rec[IDENT_REC_LEN];
	int r;

	if (id->persist == NULL)
		return 0;
	if ((r = ident_rec_encode(n, rec)) == 0)
		r = id->persist(id->persist_arg, n->dev->eui, rec, sizeof(rec),
		    1);
	if (r != 0)
		id->st.store_errors++;
	else {
		id->st.stored_sync++;
		n->dirty = 0;
	}
	return r;
}

/* A new block of downlink counters, durable before any is used. */
static int
ident_reserve(struct ident *id, struct ident_node *n)
{
	uint32_t old = n->down_resv;
	int r;

	n->down_resv = n->down_last + IDENT_DOWN_RESERVE;
	if (n->down_resv > LINK_FCNT_MAX)
		n->down_resv = LINK_FCNT_MAX;
	if ((r = ident_store_now(id, n)) != 0)
		n->down_resv = old;
	return r;
}

void
ident_set_persist(struct ident *id, ident_persist_fn *fn, void *arg)
{
	id->persist = fn;
	id->persist_arg = arg;
}

int
ident_checkpoint(struct ident *id)
{
	uint8_t rec[IDENT_REC_LEN];
	struct ident_node *n;
	size_t i;
	int r, first = 0, count = 0;

	if (id->persist == NULL)
		return 0;
	for (i = 0; i < id->nnodes; i++) {
		if ((n = id->nodes[i]) == NULL || !n->dirty ||
		    (n->ks.sid == 0 && !n->v2))
			continue;
		if ((r = ident_rec_encode(n, rec)) == 0)
			r = id->persist(id->persist_arg, n->dev->eui, rec,
			    sizeof(rec), 0);
		if (r != 0) {
			id->st.store_errors++;
			if (first == 0)
				first = r;
			continue;
		}
		n->dirty = 0;
		count++;
	}
	id->st.stored += (uint64_t)count;
	return first != 0 ? first : count;
}

int
ident_restore(struct ident *id, uint64_t eui, const uint8_t *rec, size_t len,
    uint64_t now_ms)
{
	const struct device *dev;
	struct ident_node *n;
	struct link_session_keys ks;
	uint8_t tag[IDENT_REC_TAG_LEN];
	uint32_t sid, prev, idx, join = 0;
	uint8_t flags = 0;
	int r;

	if ((dev = registry_find(id->reg, eui)) == NULL)
		return -ENOENT;
	if (dev->revoked)
		return -EPERM;
	if (!(len == IDENT_REC_LEN && rec[0] == IDENT_REC_VERSION) &&
	    !(len == IDENT_REC_V1_LEN && rec[0] == IDENT_REC_V1))
		return -EBADMSG;
	if ((r = ident_rec_tag(dev, rec, len, tag)) != 0)
		return r;
	/* A wrong tag: another secret (the device was re-provisioned) or
	 * an edited record. */
	if (gnutls_memcmp(tag, rec + len - IDENT_REC_TAG_LEN,
	    IDENT_REC_TAG_LEN) != 0)
		return -EKEYREJECTED;
	sid = ident_get32(rec + 1);
	prev = ident_get32(rec + 5);
	if (rec[0] == IDENT_REC_VERSION) {
		join = ident_get32(rec + 49);
		flags = rec[53];
	}
	/* No session is a record only for a version 2 node's counter. */
	if (sid == 0 && (prev != 0 || (flags & IDENT_REC_F_V2) == 0))
		return -EBADMSG;
	idx = (uint32_t)registry_index(id->reg, dev);
	if ((sid != 0 && (sid == prev || ident_lookup(id, sid) != NULL)) ||
	    (prev != 0 && ident_lookup(id, prev) != NULL) ||
	    id->nodes[idx] != NULL)
		return -EEXIST;
	if ((n = ident_node_get(id, dev, now_ms)) == NULL)
		return -ENOMEM;
	memset(&ks, 0, sizeof(ks));
	r = -ENOMEM;
	if (sid != 0 && (link_session_derive(dev->secret, eui, rec + 17,
	    rec + 33, &ks) != 0 || ident_insert(id, sid, idx) != 0))
		goto fail;
	if (prev != 0 && ident_insert(id, prev, idx) != 0) {
		ident_remove(id, sid);
		goto fail;
	}
	ks.sid = sid;
	n->ks = ks;
	n->prev_sid = prev;
	n->up_last = ident_get32(rec + 9);
	n->down_resv = ident_get32(rec + 13);
	/* Above everything the last run may have used. */
	n->down_last = n->down_resv;
	memcpy(n->sess_nn, rec + 17, LINK_NONCE_LEN);
	memcpy(n->sess_ng, rec + 33, LINK_NONCE_LEN);
	n->join_last = join;
	n->v2 = (flags & IDENT_REC_F_V2) != 0;
	gnutls_memset(&ks, 0, sizeof(ks));
	id->st.restored++;
	return 0;
fail:
	gnutls_memset(&ks, 0, sizeof(ks));
	id->nodes[idx] = NULL;
	ident_node_free(n);
	return r;
}

void
ident_stats(const struct ident *id, struct ident_stats *st)
{
	*st = id->st;
}

/* Seal the next downlink of n's session into out->reply; 0 or -errno. */
static int
ident_seal_down(struct ident *id, struct ident_node *n, const uint8_t *plain,
    size_t len, struct ident_out *out)
{
	int r;

	/* Counter spent: the node must re-handshake first. */
	if (n->down_last >= LINK_FCNT_MAX)
		return -ENOTCONN;
	/* A CCM nonce must never repeat under these keys, not even after a
	 * crash: a counter is used only once a record that reserves it is
	 * durable (a restart continues above the reservation). */
	if (n->down_last + 1 > n->down_resv &&
	    (r = ident_reserve(id, n)) != 0)
		return r;
	if ((r = link_aead_setkey(id->aead, n->ks.down)) != 0 ||
	    (r = link_seal_with(id->aead, LINK_DIR_DOWN, n->ks.sid,
	    n->down_last + 1, plain, len, out->reply,
	    sizeof(out->reply))) < 0)
		return r;
	/* Not dirty: down_last is not stored, the reservation is. */
	n->down_last++;
	out->reply_len = (size_t)r;
	return 0;
}

static int
ident_data(struct ident *id, const struct link_msg *m, uint64_t now_ms,
    struct ident_out *out)
{
	const uint8_t keepalive = LINK_DOWN_KEEPALIVE;
	const struct ident_slot *s;
	struct ident_node *n;
	int len;

	out->sid = m->sid;
	if ((s = ident_lookup(id, m->sid)) == NULL)
		return IDENT_DROP_NO_SESSION;
	n = id->nodes[s->idx];
	out->dev = n->dev;
	out->fcnt = m->fcnt;
	if (n->dev->revoked)
		return IDENT_DROP_REVOKED;
	if (m->sid != n->ks.sid)
		return IDENT_DROP_STALE;
	if (m->fcnt <= n->up_last)
		return IDENT_DROP_REPLAY;
	if (link_aead_setkey(id->aead, n->ks.up) != 0)
		return IDENT_DROP_RATE;
	len = link_open_with(id->aead, LINK_DIR_UP, m, out->payload,
	    sizeof(out->payload));
	if (len < 0)
		return IDENT_DROP_BAD_TAG;
	/* Authentic: its counter is used up even if the rate drops it, so
	 * it cannot be replayed once the bucket refills. */
	n->up_last = m->fcnt;
	n->dirty = 1;
	if (rate_take(&n->data_rate, &id->rate, now_ms) != 0)
		return IDENT_DROP_RATE;
	/* An ACK shares the up key and counter: forged, replayed or taken
	 * from another session, it fails above like a DATA_UP would. */
	if (m->type == LINK_ACK) {
		if (link_ack_decode(out->payload, (size_t)len, &out->ack) !=
		    LINK_OK)
			return IDENT_DROP_MALFORMED;
		out->action = IDENT_ACK;
		return IDENT_OK;
	}
	out->payload_len = (size_t)len;
	out->action = IDENT_RECORD;
	/* Failing to build the keepalive loses nothing but the answer: the
	 * node asks again with its next uplink. */
	if ((m->flags & LINK_FLAG_KEEPALIVE_REQ) != 0 &&
	    (n->ka_fcnt == 0 ||
	    m->fcnt - n->ka_fcnt >= IDENT_KEEPALIVE_SPACING) &&
	    ident_seal_down(id, n, &keepalive, 1, out) == 0) {
		n->ka_fcnt = m->fcnt;
		id->keepalives++;
	}
	return IDENT_OK;
}

int
ident_input(struct ident *id, const uint8_t *frame, size_t len,
    uint64_t now_ms, struct ident_out *out)
{
	struct link_msg m;

	out->action = IDENT_NONE;
	out->dev = NULL;
	out->fcnt = 0;
	out->payload_len = 0;
	out->reply_len = 0;
	out->reply_auth = 0;
	out->eui = 0;
	out->sid = 0;
	memset(&out->ack, 0, sizeof(out->ack));
	if (link_parse(frame, len, &m) != LINK_OK)
		return IDENT_DROP_MALFORMED;
	if (m.type == LINK_HELLO || m.type == LINK_RESPONSE)
		out->eui = m.eui;
	switch (m.type) {
	case LINK_HELLO:
		return ident_hello(id, &m, now_ms, out);
	case LINK_RESPONSE:
		return ident_response(id, &m, now_ms, out);
	case LINK_DATA_UP:
	case LINK_ACK:
		return ident_data(id, &m, now_ms, out);
	default:
		/* CHALLENGE, DATA_DOWN: another gateway, or our own echo. */
		return IDENT_DROP_DIRECTION;
	}
}

int
ident_downlink(struct ident *id, uint64_t eui, const uint8_t *body,
    size_t len, struct ident_out *out)
{
	uint8_t plain[LINK_PAYLOAD_MAX];
	const struct device *dev;
	struct ident_node *n;
	int r;

	out->action = IDENT_NONE;
	out->dev = NULL;
	out->fcnt = 0;
	out->payload_len = 0;
	out->reply_len = 0;
	out->reply_auth = 0;
	if ((dev = registry_find(id->reg, eui)) == NULL)
		return -ENOENT;
	out->dev = dev;
	if (dev->revoked)
		return -EPERM;
	n = id->nodes[registry_index(id->reg, dev)];
	if (n == NULL || n->ks.sid == 0)
		return -ENOTCONN;
	if (len + 1 > sizeof(plain))
		return -EMSGSIZE;
	plain[0] = LINK_DOWN_COMMAND;
	if (len > 0)
		memcpy(plain + 1, body, len);
	if ((r = ident_seal_down(id, n, plain, len + 1, out)) != 0)
		goto out;
	out->fcnt = n->down_last;
	out->action = IDENT_REPLY;
	r = (int)out->reply_len;
out:
	gnutls_memset(plain, 0, sizeof(plain));
	return r;
}

uint64_t
ident_keepalive_count(const struct ident *id)
{
	return id->keepalives;
}

const char *
ident_strverdict(int verdict)
{
	switch (verdict) {
	case IDENT_OK:
		return "ok";
	case IDENT_DROP_MALFORMED:
		return "malformed";
	case IDENT_DROP_UNKNOWN:
		return "unknown";
	case IDENT_DROP_BAD_TAG:
		return "bad_tag";
	case IDENT_DROP_REPLAY:
		return "replay";
	case IDENT_DROP_STALE:
		return "stale";
	case IDENT_DROP_REVOKED:
		return "revoked";
	case IDENT_DROP_RATE:
		return "rate";
	case IDENT_DROP_DIRECTION:
		return "direction";
	case IDENT_DROP_NO_SESSION:
		return "no_session";
	case IDENT_DROP_DOWNGRADE:
		return "downgrade";
	default:
		return "invalid";
	}
}
