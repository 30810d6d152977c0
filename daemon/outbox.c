/*
 * outbox.c - the path of a batch from the batcher to the broker's PUBACK:
 * journal, spool, group commit, live-first publishing, drain rate limit,
 * gap events.  See outbox.h for the calls and where loop.c makes them.
 *
 * Durability.  A record accepted at time t is in an open batch (in
 * memory) or in a sealed batch appended to the spool with write(2).  Every
 * durability window (spool.durability_ms, default 1 s, minus one loop tick
 * so that the window holds) outbox_commit writes the records of open
 * batches to the journal, fdatasyncs the spool, then checkpoints and
 * fdatasyncs the journal (journal.c explains the order).  So a power cut
 * loses at most the records accepted since the last commit; a crash of the
 * process alone loses only those not yet journaled (the page cache
 * survives it); a clean stop seals every open batch and commits: it loses
 * none.  Nothing is acknowledged to a node (the keepalive downlink says
 * "I hear you", not "stored"); anything that ever does must call
 * outbox_commit first.
 *
 * Delivery.  spool_next hands out live batches (stored since the last
 * connect) before backlog ones, each in seq order.  The uplink's window
 * (mqtt.inflight_max) is shared: backlog batches may fill at most
 * OUTBOX_LIVE_SHARE of it short of the whole, so a fresh batch never waits
 * behind a window full of history, and they are paced by a token bucket of
 * spool.drain_rate_bps bytes (one second's worth of burst; a batch larger
 * than what is left goes out and puts the bucket in debt, so the average
 * holds).  Backlog batches go to PREFIX/GATEWAY/STREAM/backlog: a consumer
 * can tell current readings from history catching up, and orders both by
 * seq.  A batch leaves the spool only on its PUBACK; on every connect the
 * spool is rewound, so what was in flight goes out again (at-least-once;
 * duplicates stay within the in-flight window).
 *
 * Gap events.  Every batch the spool loses (quota, age, full disk,
 * corruption, a refused write) is reported by the spool as a gap; it
 * becomes a small JSON message with its own seq, stored in the spool like
 * a batch (stream "events", published to PREFIX/GATEWAY/events), so it too
 * survives outages and restarts until its PUBACK.  A gap event that cannot
 * be stored yet (the disk is full) waits in memory, merged with the next
 * one of the same cause, and is retried every tick.
 */
#define LOG_MODULE	"outbox"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/mono.h"
#include "daemon/store/journal.h"
#include "daemon/log.h"
#include "daemon/outbox.h"
#include "daemon/status.h"
#include "daemon/store/seqno.h"
#include "daemon/store/spool.h"
#include "daemon/uplink.h"

#define OUTBOX_RL_MS		10000
#define OUTBOX_RL_BURST		5
#define OUTBOX_TICK_MS		100	/* the loop's tick */
/* The spool is stuck (and the watchdog no longer fed) once its writes have
 * failed for this many durability windows in a row, for a cause other than
 * a full disk, which the drop policy handles without a restart. */
#define OUTBOX_STUCK_WINDOWS	30
#define OUTBOX_RATE_WINDOW_MS	2000	/* drain rate measured over this */
#define OUTBOX_EVENT_MAX	(1024 + SPOOL_GAP_STREAMS_MAX * \
				    (BATCH_STREAM_MAX + 3))
#define OUTBOX_BACKLOG_TOPIC	"backlog"

struct outbox_flight {
	uint64_t	seq;
	uint32_t	nrec;
	uint32_t	len;
	uint8_t		used;
	uint8_t		backlog;
	uint8_t		event;
};

/* A gap event not yet in the spool. */
struct outbox_gap {
	struct spool_gap	g;
	uint64_t		seq;		/* 0: none taken yet */
	struct timespec		wall;		/* when it was found */
	int			synced;
};

struct outbox {
	char			 gw[CONF_GATEWAY_ID_MAX + 1];
	struct spool		*sp;
	struct journal		*jn;
	struct seqno		*seq;
	struct uplink		*up;
	struct outbox_flight	*fl;
	int			 nfl;
	int			 backlog_inflight;
	int			 backlog_slots;
	uint64_t		 rate_bps;
	double			 tokens;
	uint64_t		 tokens_ms;
	uint64_t		 commit_every_ms;
	int			(*precommit)(void *);
	void			*precommit_arg;
	uint64_t		 durability_ms;
	uint64_t		 next_commit_ms;
	uint64_t		 last_commit_ms;
	uint64_t		 failing_since_ms;	/* 0: writes succeed */
	uint64_t		 now_ms;
	int			 live_empty;
	int			 clock_synced;
	int			 journal_failing;
	int			 refuse_newest;
	struct outbox_gap	 pend[OUTBOX_GAPS_MAX];
	size_t			 npend;
	uint64_t		 win_start_ms, win_bytes, win_records;
	double			 drain_bps, drain_rps;
	struct log_ratelimit	 rl_store, rl_journal, rl_gap, rl_pub, rl_io;
	struct outbox_stats	 st;
};

int
outbox_stream_reserved(const char *name)
{
	return strcmp(name, OUTBOX_EVENTS_STREAM) == 0 ||
	    strcmp(name, UPLINK_STATUS_TOPIC) == 0 ||
	    strcmp(name, "commands") == 0 ||
	    strcmp(name, "command-results") == 0 ||
	    strcmp(name, UPLINK_HEALTH_TOPIC) == 0;
}

/* ---- gap events ---- */

static void
gap_streams(char *buf, size_t sz, const struct spool_gap *g)
{
	size_t used = 0;
	unsigned i;
	int n;

	buf[0] = '\0';
	for (i = 0; i < g->nstreams; i++) {
		n = snprintf(buf + used, sz - used, "%s%s", i ? "," : "",
		    g->streams[i]);
		if (n < 0 || (size_t)n >= sz - used)
			break;
		used += (size_t)n;
	}
	if (g->streams_truncated && used + 5 < sz)
		(void)snprintf(buf + used, sz - used, ",...");
}

static void
gap_merge(struct spool_gap *to, const struct spool_gap *g)
{
	unsigned i, k;

	if (g->first_seq < to->first_seq)
		to->first_seq = g->first_seq;
	if (g->last_seq > to->last_seq)
		to->last_seq = g->last_seq;
	to->batches += g->batches;
	to->records += g->records;
	for (i = 0; i < g->nstreams; i++) {
		for (k = 0; k < to->nstreams; k++)
			if (strcmp(to->streams[k], g->streams[i]) == 0)
				break;
		if (k < to->nstreams)
			continue;
		if (to->nstreams == SPOOL_GAP_STREAMS_MAX) {
			to->streams_truncated = 1;
			continue;
		}
		memcpy(to->streams[to->nstreams++], g->streams[i],
		    sizeof(to->streams[0]));
	}
	if (g->streams_truncated)
		to->streams_truncated = 1;
}

/* A gap found by the spool: logged, and queued as an event. */
static void
gap_found(struct outbox *ob, const struct spool_gap *g)
{
	struct outbox_gap *last;
	char streams[256];

	gap_streams(streams, sizeof(streams), g);
	log_rl(&ob->rl_gap, ob->now_ms, LOG_WARNING, LOG_MODULE,
	    "%llu batches (%llu records) lost, seq %llu..%llu, streams %s: "
	    "%s; reported upstream", (unsigned long long)g->batches,
	    (unsigned long long)g->records, (unsigned long long)g->first_seq,
	    (unsigned long long)g->last_seq, streams,
	    spool_gap_cause_str(g->cause));
	last = ob->npend > 0 ? &ob->pend[ob->npend - 1] : NULL;
	if (last != NULL && last->g.cause == g->cause) {
		gap_merge(&last->g, g);
		return;
	}
	if (ob->npend == OUTBOX_GAPS_MAX) {
		/* Counted: the merged event names another cause. */
		ob->st.events_lost++;
		gap_merge(&last->g, g);
		return;
	}
	last = &ob->pend[ob->npend++];
	memset(last, 0, sizeof(*last));
	last->g = *g;
	clock_gettime(CLOCK_REALTIME, &last->wall);
	last->synced = ob->clock_synced;
}

static size_t
gap_json(const struct outbox *ob, const struct outbox_gap *e, char *buf,
    size_t sz)
{
	char streams[SPOOL_GAP_STREAMS_MAX * (BATCH_STREAM_MAX + 3) + 1];
	char gw[BATCH_JSON_GROWTH_MAX * CONF_GATEWAY_ID_MAX + 1], t[96];
	const char *name;
	struct tm tm;
	size_t used = 0, len;
	unsigned i;
	time_t sec = e->wall.tv_sec;
	int n;

	for (i = 0; i < e->g.nstreams; i++) {
		/* The spool holds only names that pass batch_stream_ok, which
		 * JSON carries unescaped; "?" (as the spool says for a name
		 * it cannot read) stands for any other. */
		name = e->g.streams[i];
		len = strnlen(name, sizeof(e->g.streams[i]));
		if (!batch_stream_ok(name, len)) {
			name = "?";
			len = 1;
		}
		if (i > 0)
			streams[used++] = ',';
		streams[used++] = '"';
		memcpy(streams + used, name, len);
		used += len;
		streams[used++] = '"';
	}
	streams[used] = '\0';
	*batch_json_str(gw, ob->gw) = '\0';
	if (gmtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	(void)snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(e->wall.tv_nsec / 1000000 % 1000));
	n = snprintf(buf, sz, "{\"v\":1,\"gw\":\"%s\",\"seq\":%llu,"
	    "\"event\":\"gap\",\"cause\":\"%s\",\"streams\":[%s],"
	    "\"streams_truncated\":%s,\"first_seq\":%llu,\"last_seq\":%llu,"
	    "\"batches\":%llu,\"records\":%llu,\"t\":\"%s\",\"sync\":%s}",
	    gw, (unsigned long long)e->seq,
	    spool_gap_cause_name(e->g.cause), streams,
	    e->g.streams_truncated ? "true" : "false",
	    (unsigned long long)e->g.first_seq,
	    (unsigned long long)e->g.last_seq,
	    (unsigned long long)e->g.batches,
	    (unsigned long long)e->g.records, t,
	    e->synced ? "true" : "false");
	return n < 0 || (size_t)n >= sz ? 0 : (size_t)n;
}

static void outbox_events(struct outbox *);

/* Stores waiting gap events in the spool, oldest first. */
static void
gaps_store(struct outbox *ob)
{
	char json[OUTBOX_EVENT_MAX];
	struct outbox_gap *e;
	struct batch b;
	int r, rounds;

	/* Storing one may drop older batches: a new gap to store. */
	for (rounds = 0; rounds < 4 && ob->npend > 0; rounds++) {
		e = &ob->pend[0];
		if (e->seq == 0 && (r = seqno_next(ob->seq, &e->seq)) != 0) {
			e->seq = 0;
			log_rl(&ob->rl_gap, ob->now_ms, LOG_WARNING,
			    LOG_MODULE, "no sequence number for a gap event: "
			    "%s; retrying", strerror(-r));
			return;
		}
		memset(&b, 0, sizeof(b));
		b.seq = e->seq;
		memcpy(b.stream, OUTBOX_EVENTS_STREAM,
		    sizeof(OUTBOX_EVENTS_STREAM));
		b.data = json;
		if ((b.len = gap_json(ob, e, json, sizeof(json))) == 0)
			return;
		if ((r = spool_append_kept(ob->sp, &b)) != 0) {
			/* Kept; retried on the next tick. */
			outbox_events(ob);
			return;
		}
		ob->st.events++;
		ob->live_empty = 0;
		memmove(ob->pend, ob->pend + 1,
		    (ob->npend - 1) * sizeof(ob->pend[0]));
		ob->npend--;
		outbox_events(ob);
	}
}

/* What the spool reported: logged once each, gaps queued. */
static void
outbox_events(struct outbox *ob)
{
	struct spool_event ev;

	while (spool_event_next(ob->sp, &ev)) {
		switch (ev.type) {
		case SPOOL_EV_GAP:
			gap_found(ob, &ev.gap);
			break;
		case SPOOL_EV_QUARANTINE:
			log_rl(&ob->rl_io, ob->now_ms, LOG_WARNING,
			    LOG_MODULE, "%s/%s offset %llu: %llu bytes %s, "
			    "%s", OUTBOX_SPOOL_DIR, ev.file,
			    (unsigned long long)ev.offset,
			    (unsigned long long)ev.length,
			    spool_cause_str(ev.cause), ev.saved_as[0] ?
			    "set aside in the spool's quarantine/" :
			    "skipped");
			break;
		case SPOOL_EV_TRUNCATED:
			log_info("%s/%s: incomplete last write at offset %llu "
			    "(%llu bytes) cut off", OUTBOX_SPOOL_DIR, ev.file,
			    (unsigned long long)ev.offset,
			    (unsigned long long)ev.length);
			break;
		case SPOOL_EV_DISK_FULL:
			log_warnx("no space left for the spool (%s): %s until "
			    "space returns", strerror(ev.err),
			    ob->refuse_newest ? "refusing new batches" :
			    "dropping the oldest batches");
			break;
		case SPOOL_EV_DISK_OK:
			log_info("disk space available again: spool writes "
			    "resume normally");
			break;
		case SPOOL_EV_IO_ERROR:
			log_rl(&ob->rl_io, ob->now_ms, LOG_WARNING,
			    LOG_MODULE, "spool write or sync failed: %s",
			    strerror(ev.err));
			break;
		}
	}
}

/* ---- the data path ---- */

#ifdef FB_TEST_HOOKS
/* Test builds only (--enable-test-hooks): while a file "fail-spool" exists
 * in the daemon's working directory (the state directory, the chroot's root
 * when confined), batches are not appended: EIO, as from a failing disk. */
static int
outbox_test_fault(void)
{
	return access("fail-spool", F_OK) == 0 ? -EIO : 0;
}
#endif

/* Track whether spool writes succeed, for outbox_healthy. */
static void
outbox_io_result(struct outbox *ob, int r)
{
	if (r == 0)
		ob->failing_since_ms = 0;
	else if (r != -ENOSPC && r != -EDQUOT && ob->failing_since_ms == 0)
		ob->failing_since_ms = mono_ms();
}

int
outbox_healthy(const struct outbox *ob, uint64_t now_ms)
{
	return ob->failing_since_ms == 0 || now_ms < ob->failing_since_ms ||
	    now_ms - ob->failing_since_ms <
	    OUTBOX_STUCK_WINDOWS * ob->durability_ms;
}


int
outbox_record(struct outbox *ob, struct batcher *bt, const struct record *r)
{
	int jr, br;

	jr = journal_add(ob->jn, r);
	br = batcher_add(bt, r);
	if (br != 0 && jr == 0)
		journal_unadd(ob->jn, r->stream);
	return br;
}

void
outbox_sealed(struct outbox *ob, struct batch *b)
{
	int r, jr;

#ifdef FB_TEST_HOOKS
	if ((r = outbox_test_fault()) == 0)
#endif
		r = spool_append(ob->sp, b);
	outbox_io_result(ob, r);
	if (r == 0)
		ob->live_empty = 0;
	else {
		ob->st.not_stored++;
		log_rl(&ob->rl_store, ob->now_ms, LOG_WARNING, LOG_MODULE,
		    "batch %llu (stream %s, %u records) not stored: %s",
		    (unsigned long long)b->seq, b->stream, b->nrecords,
		    strerror(-r));
	}
	if ((jr = journal_sealed(ob->jn, b, r == 0)) != 0)
		log_rl(&ob->rl_journal, ob->now_ms, LOG_WARNING, LOG_MODULE,
		    "journal: cannot mark batch %llu sealed: %s; retrying",
		    (unsigned long long)b->seq, strerror(-jr));
	batch_free(b);
	outbox_events(ob);
}

int
outbox_commit(struct outbox *ob)
{
	int r, s, j;

	if (ob->precommit != NULL)
		(void)ob->precommit(ob->precommit_arg);
	r = journal_write(ob->jn);
	/* The journal shares the disk: make room as the spool would. */
	if ((r == -ENOSPC || r == -EDQUOT) && spool_reclaim(ob->sp) == 0)
		r = journal_write(ob->jn);
	if (r != 0 && !ob->journal_failing) {
		log_warnx("journal: cannot write the records of open batches: "
		    "%s; they reach the disk only when their batch is sealed",
		    strerror(-r));
		ob->journal_failing = 1;
	} else if (r == 0 && ob->journal_failing) {
		log_info("journal: writing again");
		ob->journal_failing = 0;
	}
	s = spool_sync(ob->sp);
	if (s != 0)
		outbox_io_result(ob, s);
	j = journal_commit(ob->jn, s == 0);
	if (j != 0)
		log_rl(&ob->rl_journal, ob->now_ms, LOG_WARNING, LOG_MODULE,
		    "journal: commit failed: %s", strerror(-j));
	ob->st.commits++;
	if (r != 0 || s != 0 || j != 0)
		ob->st.commit_errors++;
	ob->last_commit_ms = mono_ms();
	outbox_events(ob);
	return r != 0 ? r : s != 0 ? s : j;
}

void
outbox_set_precommit(struct outbox *ob, int (*fn)(void *), void *arg)
{
	ob->precommit = fn;
	ob->precommit_arg = arg;
}

void
outbox_tick(struct outbox *ob, uint64_t now_ms, int clock_synced)
{
	uint64_t dt;

	ob->now_ms = now_ms;
	ob->clock_synced = clock_synced;
	if (now_ms >= ob->next_commit_ms) {
		(void)outbox_commit(ob);
		ob->next_commit_ms = now_ms + ob->commit_every_ms;
	}
	if (ob->npend > 0)
		gaps_store(ob);
	if (ob->win_start_ms == 0)
		ob->win_start_ms = now_ms;
	dt = now_ms - ob->win_start_ms;
	if (dt >= OUTBOX_RATE_WINDOW_MS) {
		double bps = (double)ob->win_bytes * 1000.0 / (double)dt;
		double rps = (double)ob->win_records * 1000.0 / (double)dt;

		/* Smoothed, for a steady ETA; a first figure at once. */
		if (ob->drain_bps == 0 || bps == 0) {
			ob->drain_bps = bps;
			ob->drain_rps = rps;
		} else {
			ob->drain_bps = 0.5 * ob->drain_bps + 0.5 * bps;
			ob->drain_rps = 0.5 * ob->drain_rps + 0.5 * rps;
		}
		ob->win_start_ms = now_ms;
		ob->win_bytes = ob->win_records = 0;
	}
	log_rl_flush(&ob->rl_store, now_ms);
	log_rl_flush(&ob->rl_journal, now_ms);
	log_rl_flush(&ob->rl_gap, now_ms);
	log_rl_flush(&ob->rl_pub, now_ms);
	log_rl_flush(&ob->rl_io, now_ms);
}

/* ---- publishing ---- */

static void
bucket_refill(struct outbox *ob, uint64_t now_ms)
{
	if (ob->rate_bps == 0)
		return;
	if (ob->tokens_ms == 0 || now_ms < ob->tokens_ms) {
		ob->tokens_ms = now_ms;
		ob->tokens = (double)ob->rate_bps;
		return;
	}
	ob->tokens += (double)ob->rate_bps * (double)(now_ms - ob->tokens_ms) /
	    1000.0;
	if (ob->tokens > (double)ob->rate_bps)
		ob->tokens = (double)ob->rate_bps;
	ob->tokens_ms = now_ms;
}

static int
backlog_allowed(const struct outbox *ob)
{
	return ob->backlog_inflight < ob->backlog_slots &&
	    (ob->rate_bps == 0 || ob->tokens > 0);
}

static struct outbox_flight *
flight_find(struct outbox *ob, uint64_t seq)
{
	int i;

	for (i = 0; i < ob->nfl; i++)
		if (ob->fl[i].used && ob->fl[i].seq == seq)
			return &ob->fl[i];
	return NULL;
}

void
outbox_feed(struct outbox *ob, uint64_t now_ms, int live_only)
{
	struct outbox_flight *f;
	struct spool_entry *e;
	int which, r, event, i;

	if (ob->up == NULL)
		return;
	ob->now_ms = now_ms;
	bucket_refill(ob, now_ms);
	while (uplink_ready(ob->up) > 0) {
		which = SPOOL_NEXT_LIVE;
		if (!live_only && backlog_allowed(ob))
			which |= SPOOL_NEXT_BACKLOG;
		if ((r = spool_next(ob->sp, which, &e)) <= 0) {
			if (r == 0)
				ob->live_empty = 1;
			break;
		}
		if (e->backlog)
			ob->live_empty = 1;
		event = strcmp(e->stream, OUTBOX_EVENTS_STREAM) == 0;
		if (event || !e->backlog)
			r = uplink_publish(ob->up, e->stream, e->data, e->len,
			    e->seq);
		else
			r = uplink_publish_sub(ob->up, e->stream,
			    OUTBOX_BACKLOG_TOPIC, e->data, e->len, e->seq);
		if (r != 0) {
			/* It stays handed out until the next connect's
			 * rewind sends it again. */
			log_rl(&ob->rl_pub, now_ms, LOG_WARNING, LOG_MODULE,
			    "cannot publish batch %llu: %s",
			    (unsigned long long)e->seq, strerror(-r));
			spool_entry_free(e);
			break;
		}
		for (i = 0, f = NULL; i < ob->nfl && f == NULL; i++)
			if (!ob->fl[i].used)
				f = &ob->fl[i];
		if (f != NULL) {
			f->used = 1;
			f->seq = e->seq;
			f->nrec = e->nrecords;
			f->len = (uint32_t)e->len;
			f->backlog = (uint8_t)e->backlog;
			f->event = (uint8_t)event;
		}
		if (e->backlog) {
			ob->backlog_inflight++;
			ob->tokens -= (double)e->len;
		}
		spool_entry_free(e);
	}
}

static void
flights_clear(struct outbox *ob)
{
	memset(ob->fl, 0, (size_t)ob->nfl * sizeof(*ob->fl));
	ob->backlog_inflight = 0;
}

void
outbox_on_connect(struct outbox *ob, uint64_t now_ms)
{
	struct spool_stats st;

	/* Whatever was in flight goes out again, in order. */
	spool_rewind(ob->sp);
	flights_clear(ob);
	ob->live_empty = 1;
	spool_stats(ob->sp, &st);
	if (st.backlog_batches > 0)
		log_info("backlog of %llu batches (%llu records, %llu KiB) "
		    "to send%s", (unsigned long long)st.backlog_batches,
		    (unsigned long long)st.backlog_records,
		    (unsigned long long)st.backlog_bytes / 1024,
		    ob->rate_bps ? ", rate-limited" : "");
	ob->win_start_ms = now_ms;
	ob->win_bytes = ob->win_records = 0;
}

void
outbox_on_disconnect(struct outbox *ob)
{
	/* The uplink forgot its window; the rewind at the next connect
	 * hands those batches out again. */
	flights_clear(ob);
}

void
outbox_on_ack(struct outbox *ob, uint64_t cookie)
{
	struct outbox_flight *f = flight_find(ob, cookie);

	(void)spool_ack(ob->sp, cookie);
	if (f == NULL)
		return;
	if (f->event)
		ob->st.events_delivered++;
	else {
		ob->st.delivered++;
		ob->st.delivered_records += f->nrec;
	}
	if (f->backlog) {
		if (!f->event)
			ob->st.delivered_backlog++;
		ob->win_bytes += f->len;
		ob->win_records += f->nrec;
		if (ob->backlog_inflight > 0)
			ob->backlog_inflight--;
	}
	f->used = 0;
}

int
outbox_live_empty(const struct outbox *ob)
{
	return ob->live_empty;
}

void
outbox_set_uplink(struct outbox *ob, struct uplink *up)
{
	ob->up = up;
}

/* ---- reporting ---- */

void
outbox_dropped(const struct outbox *ob, uint64_t *batches, uint64_t *records)
{
	struct spool_stats st;

	spool_stats(ob->sp, &st);
	*batches = st.dropped_batches;
	*records = st.dropped_records;
}

void
outbox_spool_stats(const struct outbox *ob, struct spool_stats *st)
{
	spool_stats(ob->sp, st);
}

const struct outbox_stats *
outbox_stats(const struct outbox *ob)
{
	return &ob->st;
}

void
outbox_status(struct outbox *ob, FILE *f)
{
	struct spool_stats st;
	struct journal_stats js;
	uint64_t now = mono_ms();

	spool_stats(ob->sp, &st);
	journal_stats(ob->jn, &js);
	status_u64(f, STATUS_K_SPOOL_BATCHES, st.batches);
	status_u64(f, STATUS_K_SPOOL_RECORDS, st.records);
	status_u64(f, STATUS_K_SPOOL_BYTES, st.bytes);
	status_u64(f, STATUS_K_SPOOL_DISK_BYTES, st.disk_bytes);
	status_u64(f, STATUS_K_SPOOL_QUOTA_BYTES, st.quota_bytes);
	status_u64(f, STATUS_K_SPOOL_SEGMENT_BYTES, st.segment_bytes);
	status_i64(f, STATUS_K_SPOOL_OLDEST_AGE_S, st.oldest_age_ms < 0 ? -1 :
	    (int64_t)(st.oldest_age_ms / 1000));
	status_u64(f, STATUS_K_SPOOL_LIVE_BATCHES,
	    st.batches - st.backlog_batches);
	status_u64(f, STATUS_K_SPOOL_BACKLOG_BATCHES, st.backlog_batches);
	status_u64(f, STATUS_K_SPOOL_BACKLOG_RECORDS, st.backlog_records);
	status_u64(f, STATUS_K_SPOOL_BACKLOG_BYTES, st.backlog_bytes);
	status_i64(f, STATUS_K_SPOOL_BACKLOG_INFLIGHT, ob->backlog_inflight);
	status_rate(f, STATUS_K_DRAIN_BYTES_PER_S,
	    st.backlog_batches ? ob->drain_bps : 0.0);
	status_rate(f, STATUS_K_DRAIN_RECORDS_PER_S,
	    st.backlog_batches ? ob->drain_rps : 0.0);
	status_u64(f, STATUS_K_DRAIN_RATE_LIMIT_BPS, ob->rate_bps);
	status_u64(f, STATUS_K_SPOOL_APPENDED_BATCHES, st.appended_batches);
	status_u64(f, STATUS_K_SPOOL_APPENDED_RECORDS, st.appended_records);
	status_u64(f, STATUS_K_SPOOL_DELIVERED_BACKLOG_BATCHES,
	    ob->st.delivered_backlog);
	status_u64(f, STATUS_K_SPOOL_DROPPED_BATCHES, st.dropped_batches);
	status_u64(f, STATUS_K_SPOOL_DROPPED_RECORDS, st.dropped_records);
	status_u64(f, STATUS_K_SPOOL_NOT_STORED_BATCHES, ob->st.not_stored);
	status_u64(f, STATUS_K_SPOOL_QUARANTINED, st.quarantined);
	status_u64(f, STATUS_K_SPOOL_TRUNCATED_BYTES, st.truncated_bytes);
	status_u64(f, STATUS_K_SPOOL_DISK_FULL, st.disk_full != 0);
	status_u64(f, STATUS_K_SPOOL_SYNC_ERRORS, st.sync_errors);
	status_u64(f, STATUS_K_GAP_EVENTS, ob->st.events);
	status_u64(f, STATUS_K_GAP_EVENTS_DELIVERED, ob->st.events_delivered);
	status_u64(f, STATUS_K_GAP_EVENTS_PENDING, ob->npend);
	status_u64(f, STATUS_K_GAP_EVENTS_MERGED, ob->st.events_lost);
	status_u64(f, STATUS_K_JOURNAL_PENDING_RECORDS, js.pending);
	status_u64(f, STATUS_K_JOURNAL_UNWRITTEN_RECORDS, js.unwritten);
	status_u64(f, STATUS_K_JOURNAL_FILES, js.files);
	status_u64(f, STATUS_K_JOURNAL_RECORDS_WRITTEN, js.records_written);
	status_u64(f, STATUS_K_JOURNAL_BYTES_WRITTEN, js.bytes_written);
	status_u64(f, STATUS_K_JOURNAL_REPLAYED, js.replayed);
	status_u64(f, STATUS_K_DURABILITY_MS, ob->durability_ms);
	status_u64(f, STATUS_K_LAST_COMMIT_AGE_MS, ob->last_commit_ms != 0 &&
	    now >= ob->last_commit_ms ? now - ob->last_commit_ms : 0);
	status_u64(f, STATUS_K_COMMITS, ob->st.commits);
	status_u64(f, STATUS_K_COMMIT_ERRORS, ob->st.commit_errors);
}

/* ---- life ---- */

/* journal_recover's callbacks share one argument. */
struct replay_ctx {
	struct outbox	*ob;
	struct batcher	*bt;
	uint64_t	 refused;
};

static int
verify_cb(void *arg, uint64_t seq)
{
	struct replay_ctx *x = arg;

	return spool_has_seq(x->ob->sp, seq);
}

static void
bad_cb(void *arg, const char *file, uint64_t off, uint64_t len,
    const char *why)
{
	(void)arg;
	log_warnx("%s/%s offset %llu: %llu bytes skipped: %s",
	    OUTBOX_SPOOL_DIR, file, (unsigned long long)off,
	    (unsigned long long)len, why);
}

static void
replay_cb(void *arg, const struct record *r)
{
	struct replay_ctx *x = arg;
	struct record rec = *r;

	/* Ages are counted again from now (monotonic clock). */
	rec.rx_mono_ms = mono_ms();
	if (batcher_add(x->bt, &rec) != 0)
		x->refused++;
}

int
outbox_recover(struct outbox *ob, struct batcher *bt)
{
	struct replay_ctx x;
	int n, r;

	memset(&x, 0, sizeof(x));
	x.ob = ob;
	x.bt = bt;
	ob->now_ms = mono_ms();
	if ((n = journal_recover(ob->jn, verify_cb, bad_cb, replay_cb, &x))
	    < 0) {
		log_warnx("journal: cannot read the previous run's journal: "
		    "%s; its records are not recovered", strerror(-n));
		return n;
	}
	/* Sealed now: in the spool before the old journal goes. */
	batcher_flush(bt);
	if ((r = outbox_commit(ob)) != 0) {
		log_warnx("journal: the recovered records are not durable "
		    "(%s); keeping the old journal", strerror(-r));
		return r;
	}
	if ((r = journal_recovered(ob->jn)) != 0)
		log_warnx("journal: cannot remove the previous run's files: %s",
		    strerror(-r));
	ob->st.replayed = (uint64_t)n;
	if (n > 0)
		log_notice("journal: %d records of batches still open at the "
		    "last stop were batched again%s", n, x.refused ?
		    " (some refused, see above)" : "");
	return 0;
}

int
outbox_open(const struct conf *c, struct seqno *seq, struct outbox **out)
{
	struct spool_conf sc;
	struct spool_stats st;
	struct outbox *ob;
	int r;

	*out = NULL;
	if ((ob = calloc(1, sizeof(*ob))) == NULL)
		return -ENOMEM;
	(void)snprintf(ob->gw, sizeof(ob->gw), "%s", c->gateway_id);
	ob->seq = seq;
	ob->nfl = c->mqtt.inflight_max;
	if ((ob->fl = calloc((size_t)ob->nfl, sizeof(*ob->fl))) == NULL) {
		free(ob);
		return -ENOMEM;
	}
	/* A quarter of the window (at least one slot) stays for live. */
	ob->backlog_slots = ob->nfl > 1 ? ob->nfl - (ob->nfl / 4 > 1 ?
	    ob->nfl / 4 : 1) : 1;
	ob->rate_bps = (uint64_t)c->spool.drain_rate_bps;
	ob->durability_ms = (uint64_t)c->spool.durability_ms;
	/* The loop ticks every OUTBOX_TICK_MS: commit one tick early so
	 * that the window holds. */
	ob->commit_every_ms = ob->durability_ms > 2 * OUTBOX_TICK_MS ?
	    ob->durability_ms - OUTBOX_TICK_MS : ob->durability_ms / 2;
	ob->live_empty = 1;
	log_ratelimit_init(&ob->rl_store, "spool store failures",
	    OUTBOX_RL_MS, OUTBOX_RL_BURST);
	log_ratelimit_init(&ob->rl_journal, "journal failures", OUTBOX_RL_MS,
	    OUTBOX_RL_BURST);
	log_ratelimit_init(&ob->rl_gap, "gap reports", OUTBOX_RL_MS,
	    OUTBOX_RL_BURST);
	log_ratelimit_init(&ob->rl_pub, "publish failures", OUTBOX_RL_MS,
	    OUTBOX_RL_BURST);
	log_ratelimit_init(&ob->rl_io, "spool faults", OUTBOX_RL_MS,
	    OUTBOX_RL_BURST);
	spool_conf_init(&sc);
	sc.quota_bytes = (uint64_t)c->spool.quota_mib * 1024 * 1024;
	sc.max_age_s = (uint64_t)c->spool.max_age_s;
	ob->refuse_newest = c->spool.when_full == CONF_SPOOL_REFUSE_NEWEST;
	sc.full_policy = ob->refuse_newest ? SPOOL_REFUSE_NEWEST :
	    SPOOL_DROP_OLDEST;
	if ((r = spool_open(OUTBOX_SPOOL_DIR, &sc, &ob->sp)) != 0) {
		if (r == -EBUSY)
			log_warnx("%s/%s is in use by another fieldbridged",
			    c->state_dir, OUTBOX_SPOOL_DIR);
		outbox_free(ob);
		return r;
	}
	outbox_events(ob);
	if ((r = journal_open(OUTBOX_SPOOL_DIR, &ob->jn)) != 0) {
		outbox_free(ob);
		return r;
	}
	spool_stats(ob->sp, &st);
	if (st.batches > 0)
		log_info("spool: %llu batches (%llu records, %llu KiB) waiting"
		    " from before, the oldest %lld s old",
		    (unsigned long long)st.batches,
		    (unsigned long long)st.records,
		    (unsigned long long)st.bytes / 1024,
		    (long long)(st.oldest_age_ms / 1000));
	*out = ob;
	return 0;
}

void
outbox_free(struct outbox *ob)
{
	if (ob == NULL)
		return;
	if (ob->sp != NULL && ob->npend > 0)
		gaps_store(ob);
	if (ob->npend > 0)
		log_warnx("%zu gap events could not be stored before exit; "
		    "those losses show upstream only as missing seqs",
		    ob->npend);
	if (ob->sp != NULL && ob->jn != NULL)
		(void)outbox_commit(ob);
	journal_free(ob->jn);
	spool_free(ob->sp);
	free(ob->fl);
	free(ob);
}
