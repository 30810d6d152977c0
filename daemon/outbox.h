/*
 * outbox.h - everything between an accepted record and the broker's
 * PUBACK: the open-batch journal, the durable spool, the group commit
 * every durability window, live-first publishing with a bounded in-flight
 * window and an optional drain rate limit for the backlog, and the gap
 * events that tell the cloud what was lost.
 *
 * Data flow (loop.c drives it):
 *   accepted record -> outbox_record (journal_add, batcher_add)
 *   batcher sink    -> outbox_sealed (spool_append, journal_sealed)
 *   every tick      -> outbox_tick (commit when due, gap events, rates)
 *   after each poll -> outbox_feed (spool_next -> uplink_publish[_sub])
 *   PUBACK          -> outbox_on_ack (spool_ack)
 *   (re)connect     -> outbox_on_connect (spool_rewind: in-flight batches
 *                      go out again, everything stored becomes backlog)
 *
 * Topics: a live batch goes to PREFIX/GATEWAY/STREAM, a backlog batch to
 * PREFIX/GATEWAY/STREAM/backlog (same JSON), a gap event to
 * PREFIX/GATEWAY/events (docs/uplink-format.md); the uplink's own
 * messages go to PREFIX/GATEWAY/status and PREFIX/GATEWAY/health.  The
 * stream names "events", "status" and "health" are therefore reserved.
 */
#ifndef FB_OUTBOX_H
#define FB_OUTBOX_H

#include <stdint.h>
#include <stdio.h>

#include "daemon/batch.h"

#define OUTBOX_SPOOL_DIR	"spool"		/* in the state directory */
#define OUTBOX_EVENTS_STREAM	"events"
#define OUTBOX_GAPS_MAX		64	/* gap events waiting for room */

struct conf;
struct seqno;
struct spool_stats;
struct uplink;
struct outbox;

struct outbox_stats {
	uint64_t	delivered;		/* batches acknowledged */
	uint64_t	delivered_records;
	uint64_t	delivered_backlog;	/* of delivered: from backlog */
	uint64_t	events;			/* gap events made */
	uint64_t	events_delivered;
	uint64_t	events_lost;		/* too many waiting: merged */
	uint64_t	not_stored;		/* sealed batches the spool
						 * refused (each is a gap) */
	uint64_t	commits;
	uint64_t	commit_errors;
	uint64_t	replayed;		/* journal records at start */
};

/* Opens STATE_DIR/spool (the cwd is the state directory) and the
 * journal; logs what recovery found.  0 or -errno. */
int	outbox_open(const struct conf *c, struct seqno *seq,
	    struct outbox **out);
/*
 * Start-up, before the first record: the records the journal holds that
 * no durable batch does are batched again through bt (whose sink must be
 * outbox_sealed), sealed, synced; then the old journal is removed.
 */
int	outbox_recover(struct outbox *ob, struct batcher *bt);
void	outbox_set_uplink(struct outbox *ob, struct uplink *up);
/* Final commit (nothing accepted is lost at a clean stop), then closes.
 * NULL is fine. */
void	outbox_free(struct outbox *ob);

/* An accepted record: journal_add + batcher_add.  Returns batcher_add's
 * result. */
int	outbox_record(struct outbox *ob, struct batcher *bt,
	    const struct record *r);
/* The batcher's sink: owns b. */
void	outbox_sealed(struct outbox *ob, struct batch *b);

/* Every loop tick: commits when the durability window is up, stores
 * waiting gap events, measures the drain rate. */
void	outbox_tick(struct outbox *ob, uint64_t now_ms, int clock_synced);
/* Commits now (at a clean stop; before anything is acknowledged to a
 * node).  0 when the spool and the journal are durable. */
int	outbox_commit(struct outbox *ob);
/* Called first by every commit: state that must be durable no later than
 * the records (daemon/session.c: the counters that guard their frames).
 * Its result is its own business. */
void	outbox_set_precommit(struct outbox *ob, int (*fn)(void *), void *arg);

/* Hands the uplink what its window takes: live first, then backlog
 * within its share of the window and the drain rate.  live_only: the
 * daemon is stopping. */
void	outbox_feed(struct outbox *ob, uint64_t now_ms, int live_only);
void	outbox_on_connect(struct outbox *ob, uint64_t now_ms);
void	outbox_on_disconnect(struct outbox *ob);
void	outbox_on_ack(struct outbox *ob, uint64_t cookie);
/* 0 when spool writes have failed, for a cause other than a full disk,
 * for OUTBOX_STUCK_WINDOWS durability windows: a restart may help. */
int	outbox_healthy(const struct outbox *ob, uint64_t now_ms);
/* Stopping: nothing live left to publish. */
int	outbox_live_empty(const struct outbox *ob);

/* "key=value" lines of the status file (spool_*, drain_*, ...). */
void	outbox_status(struct outbox *ob, FILE *f);
/* Batches and records dropped from the spool (every cause). */
void	outbox_dropped(const struct outbox *ob, uint64_t *batches,
	    uint64_t *records);
const struct outbox_stats *outbox_stats(const struct outbox *ob);
void	outbox_spool_stats(const struct outbox *ob, struct spool_stats *st);
/* A stream name the uplink uses for something else. */
int	outbox_stream_reserved(const char *name);

#endif
