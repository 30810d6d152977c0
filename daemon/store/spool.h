/*
 * spool.h - the durable offline spool: sealed batches on disk until the
 * broker acknowledges them.
 *
 * Data flow: batcher -> sealed struct batch -> spool_append (on disk) ->
 * spool_next (read back, in order) -> uplink publishes -> PUBACK ->
 * spool_ack releases it.  The on-disk format, the recovery rules and the
 * live/backlog model are described at the top of spool.c.
 *
 * Typical use by the daemon (one thread, one poll loop):
 *
 *	spool_open(dir, &conf, &sp)           at start-up, before the sandbox
 *	spool_append(sp, b); batch_free(b)    for every sealed batch
 *	spool_sync(sp)                        every durability window (<= 1 s),
 *	                                      before acknowledging to a node,
 *	                                      and at a clean stop
 *	spool_rewind(sp)                      on every (re)connect
 *	while window has room:
 *		spool_next(sp, SPOOL_NEXT_ANY, &e) -> publish e->data to
 *		PREFIX/GATEWAY/e->stream, or .../e->stream/backlog if e->backlog;
 *		spool_entry_free(e)
 *	spool_ack(sp, seq)                    on the PUBACK of batch seq
 *	spool_event_next(sp, &ev)             after append/sync: log, publish gaps
 *	spool_stats(sp, &st)                  for the status file
 *	spool_free(sp)                        at exit (syncs first)
 *
 * The spool never logs: it returns negative errno values and queues events
 * (gaps, quarantined bytes, truncated tails, disk full) for the caller.
 */
#ifndef FB_SPOOL_H
#define FB_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/batch.h"

#define SPOOL_QUOTA_DEFAULT_BYTES	(1024ULL * 1024 * 1024)
#define SPOOL_QUOTA_MIN_BYTES		(256ULL * 1024)
#define SPOOL_SEGMENT_DEFAULT_BYTES	(8ULL * 1024 * 1024)
#define SPOOL_SEGMENT_MIN_BYTES		(32ULL * 1024)
#define SPOOL_DATA_MAX_BYTES		(4U * 1024 * 1024)	/* one batch */
#define SPOOL_OUTSTANDING_DEFAULT	4096	/* handed out, not yet acked */
#define SPOOL_EVENTS_MAX		64	/* queued, not yet fetched */
#define SPOOL_GAP_STREAMS_MAX		8	/* streams named in one gap */
#define SPOOL_QUARANTINE_MAX_BYTES	(16ULL * 1024 * 1024)	/* per run */
#define SPOOL_PATH_MAX			128

enum spool_full_policy {
	SPOOL_DROP_OLDEST = 0,		/* default: make room by dropping */
	SPOOL_REFUSE_NEWEST = 1,	/* keep the history, refuse new */
};

struct spool_conf {
	uint64_t		quota_bytes;	/* 0: SPOOL_QUOTA_DEFAULT_BYTES */
	uint64_t		max_age_s;	/* 0: no age limit (wall clock) */
	uint64_t		segment_bytes;	/* 0: default; capped at quota/8 */
	enum spool_full_policy	full_policy;
	uint32_t		outstanding_max; /* 0: SPOOL_OUTSTANDING_DEFAULT;
						  * guards against a caller
						  * that never acks */
};

/* Why batches were lost (spool_event.gap.cause). */
enum spool_gap_cause {
	SPOOL_GAP_QUOTA,	/* oldest dropped to stay within the quota */
	SPOOL_GAP_AGE,		/* older than max_age_s */
	SPOOL_GAP_DISK_FULL,	/* ENOSPC/EDQUOT from the file system */
	SPOOL_GAP_REFUSED,	/* newest refused (quota, refuse-newest) */
	SPOOL_GAP_CORRUPT,	/* entry failed its checksum on disk */
	SPOOL_GAP_IO,		/* other write error: batch not stored */
};

/* What was wrong with bytes found on disk (spool_event.cause). */
enum spool_cause {
	SPOOL_BAD_NONE = 0,
	SPOOL_BAD_SEG_HEADER,	/* segment header magic/version/crc/id */
	SPOOL_BAD_ENTRY_HEADER,	/* entry magic, header crc or field range */
	SPOOL_BAD_ENTRY_BODY,	/* entry body crc */
	SPOOL_BAD_TORN,		/* incomplete last write (crash) */
	SPOOL_BAD_GARBAGE,	/* bytes that are no entry at all */
	SPOOL_BAD_FOOTER,	/* segment summary unreadable: rescanned */
};

enum spool_event_type {
	SPOOL_EV_GAP,		/* batches lost: see gap */
	SPOOL_EV_QUARANTINE,	/* bytes moved aside: file, offset, length */
	SPOOL_EV_TRUNCATED,	/* torn tail cut off: file, offset, length */
	SPOOL_EV_DISK_FULL,	/* writes fail for lack of space (once) */
	SPOOL_EV_DISK_OK,	/* a write succeeded again after DISK_FULL */
	SPOOL_EV_IO_ERROR,	/* fsync/write failed: err */
};

struct spool_gap {
	enum spool_gap_cause	cause;
	uint64_t		first_seq;	/* smallest batch seq lost */
	uint64_t		last_seq;	/* largest batch seq lost */
	uint64_t		batches;
	uint64_t		records;
	unsigned		nstreams;
	int			streams_truncated; /* more than listed */
	char			streams[SPOOL_GAP_STREAMS_MAX][BATCH_STREAM_MAX + 1];
};

struct spool_event {
	enum spool_event_type	type;
	enum spool_cause	cause;		/* QUARANTINE, TRUNCATED */
	int			err;		/* positive errno, if any */
	char			file[SPOOL_PATH_MAX]; /* relative to the spool dir */
	uint64_t		offset;
	uint64_t		length;
	char			saved_as[SPOOL_PATH_MAX]; /* "" if not saved */
	struct spool_gap	gap;		/* GAP */
};

/* A batch read back from the spool.  Free with spool_entry_free. */
struct spool_entry {
	uint64_t	seq;
	char		stream[BATCH_STREAM_MAX + 1];
	uint32_t	nrecords;
	uint64_t	wall_ms;	/* CLOCK_REALTIME when appended */
	int		backlog;	/* appended before the last rewind/open */
	size_t		len;
	char		*data;		/* the batch's JSON, len bytes + NUL */
};

struct spool_stats {
	uint64_t	batches;	/* not yet acknowledged */
	uint64_t	records;
	uint64_t	bytes;		/* JSON bytes not yet acknowledged */
	uint64_t	disk_bytes;	/* segment files on disk */
	uint64_t	backlog_batches; /* of batches: before the live boundary */
	uint64_t	backlog_records; /* of records (pro rata in the segment
					  * holding the boundary) */
	uint64_t	backlog_bytes;	/* of bytes, likewise */
	uint64_t	quota_bytes;
	uint64_t	segment_bytes;	/* in effect (quota and fs size) */
	uint64_t	outstanding;	/* handed out by spool_next, not acked */
	int64_t		oldest_age_ms;	/* of the oldest batch not acknowledged
				 * (its append time); -1: empty or
				 * unknown wall clock */
	uint64_t	segments;
	uint64_t	max_seq;	/* largest seq stored, 0 if none */
	uint64_t	appended_batches;	/* counters since spool_open */
	uint64_t	appended_records;
	uint64_t	acked_batches;
	uint64_t	acked_records;
	uint64_t	acked_bytes;
	uint64_t	dropped_batches;	/* every gap, all causes */
	uint64_t	dropped_records;
	uint64_t	quarantined;		/* quarantine events */
	uint64_t	truncated_bytes;
	uint64_t	syncs;
	uint64_t	sync_errors;
	uint64_t	events_lost;		/* event queue overflowed */
	int		disk_full;		/* currently failing for space */
};

/* spool_next which: SPOOL_NEXT_ANY serves live entries first. */
#define SPOOL_NEXT_LIVE		1
#define SPOOL_NEXT_BACKLOG	2
#define SPOOL_NEXT_ANY		(SPOOL_NEXT_LIVE | SPOOL_NEXT_BACKLOG)

struct spool;

void	spool_conf_init(struct spool_conf *conf);

/*
 * Opens (creating it 0700 if needed) and recovers the spool directory, and
 * locks it against a second process (-EBUSY).  Start-up reads only segment
 * footers, ack logs and the last open segment.  Problems found are queued
 * as events.  *spp is the caller's: spool_free.
 */
int	spool_open(const char *dir, const struct spool_conf *conf,
	    struct spool **spp);

/* Best-effort spool_sync, then closes everything.  NULL is fine. */
void	spool_free(struct spool *sp);

/*
 * Appends a sealed batch (copied; the caller still frees b).  Written with
 * write(2), durable after the next spool_sync.  Applies the quota, age and
 * disk-full policies; a batch that cannot be stored is reported as a gap
 * event as well as by the return value: -ENOSPC (refused or no space),
 * -EFBIG (larger than the quota or SPOOL_DATA_MAX_BYTES), -EINVAL (bad
 * stream name), other -errno (I/O).
 */
int	spool_append(struct spool *sp, const struct batch *b);
/*
 * The same for a message the caller keeps until it is stored (the daemon's
 * gap events): a failure is returned but not reported as a gap.  Drops of
 * older batches it causes are reported as usual.
 */
int	spool_append_kept(struct spool *sp, const struct batch *b);

/*
 * Makes everything appended and acknowledged so far durable (fdatasync of
 * dirty segments and ack logs, fsync of the directory after a segment was
 * created), and expires entries older than max_age_s.  Cheap when nothing
 * is dirty.  On failure returns -errno and queues SPOOL_EV_IO_ERROR: the
 * caller must not acknowledge anything to a node.
 */
int	spool_sync(struct spool *sp);


/*
 * Hands out the next unacknowledged entry not handed out since the last
 * rewind: with SPOOL_NEXT_LIVE from the live region (appended after the
 * last spool_rewind or spool_open), with SPOOL_NEXT_BACKLOG from the
 * older backlog, each in append (= seq) order.  Returns 1 and *ep (the
 * caller frees it with spool_entry_free), 0 when there is nothing, or
 * -errno (-ENOBUFS: outstanding_max entries handed out and unacked).
 * Corrupt entries met on the way are quarantined and skipped.
 */
int	spool_next(struct spool *sp, int which, struct spool_entry **ep);

void	spool_entry_free(struct spool_entry *e);

/*
 * Releases a handed-out entry for good (the broker's PUBACK), in any
 * order.  Durable after the next spool_sync; a segment whose entries are
 * all acknowledged is deleted.  -ENOENT if seq is not handed out (e.g. a
 * PUBACK from before a rewind): harmless.
 */
int	spool_ack(struct spool *sp, uint64_t seq);

/*
 * Call on every (re)connect: forgets what was handed out (unacked entries
 * will be handed out again: at-least-once) and makes every entry stored so
 * far backlog; later appends are live.
 */
void	spool_rewind(struct spool *sp);

/*
 * Whether a batch of this seq was stored and is still held, or was already
 * released (acknowledged, dropped): 1, 0 (not in the spool: e.g. lost in a
 * power cut before its sync), or -errno.  Used at start-up to check a few
 * claims (the open-batch journal's); it reads the segments whose seq range
 * holds seq, so it is not for the data path.
 */
int	spool_has_seq(struct spool *sp, uint64_t seq);

/*
 * Another writer in the same file system ran out of space: drops the
 * oldest segment (reported as a disk-full gap) if the policy is
 * drop-oldest.  0, or -ENOSPC when there is nothing to drop or the policy
 * keeps the history.
 */
int	spool_reclaim(struct spool *sp);

/* Takes the oldest queued event: 1 and *ev, or 0 when none. */
int	spool_event_next(struct spool *sp, struct spool_event *ev);

void	spool_stats(struct spool *sp, struct spool_stats *st);

const char	*spool_cause_str(enum spool_cause c);
const char	*spool_gap_cause_str(enum spool_gap_cause c);
/* One word, for JSON and key=value files: "quota", "max_age", ... */
const char	*spool_gap_cause_name(enum spool_gap_cause c);

#endif
