/*
 * journal.h - the open-batch journal: accepted records that are still
 * waiting in an open batch, kept on disk so that a power cut loses at most
 * the last durability window of them, although a batch may stay open for
 * batch.max_age_ms (5 s by default).
 *
 * Data flow: ident (accepted record) -> journal_add (a copy in memory)
 * -> batcher_add -> ... sealed batch -> spool_append -> journal_sealed
 * (its records are released).  Every durability window the daemon
 * commits: journal_write (records still in open batches go to disk),
 * spool_sync, journal_commit (checkpoint, fdatasync, old files deleted).
 * Records sealed before a commit reach the disk only through the spool:
 * at a high rate nearly nothing is journaled.  At start-up
 * journal_recover hands back the records no durable batch holds; the
 * daemon batches them again, seals, syncs the spool and calls
 * journal_recovered.  The file format is described at the top of
 * journal.c.
 *
 * The journal never logs: it returns -errno and reports damaged bytes
 * found at start-up through a callback.
 */
#ifndef FB_JOURNAL_H
#define FB_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/batch.h"

#define JOURNAL_FILE_MAX_BYTES		(1024 * 1024)	/* then a new file */
#define JOURNAL_READ_MAX_BYTES		(64 * 1024 * 1024) /* per file, start-up */

struct journal;

struct journal_stats {
	uint64_t	pending;	/* records in open batches (in memory) */
	uint64_t	unwritten;	/* of those, not yet on disk */
	uint64_t	files;		/* journal files on disk */
	uint64_t	records_written; /* counters since journal_open */
	uint64_t	bytes_written;
	uint64_t	releases;	/* release marks written */
	uint64_t	commits;	/* checkpoints made durable */
	uint64_t	write_errors;
	uint64_t	replayed;	/* records handed back at start-up */
	uint64_t	bad_ranges;	/* damaged ranges found at start-up */
};

/* Damage found by journal_recover: file (relative to the directory),
 * offset and length of the bytes skipped, and why. */
typedef void journal_bad_fn(void *arg, const char *file, uint64_t off,
    uint64_t len, const char *why);
/* Whether the spool holds (or has released) batch seq: 1, 0, -errno. */
typedef int journal_verify_fn(void *arg, uint64_t seq);
/* A record to batch again; pointers are valid during the call only. */
typedef void journal_replay_fn(void *arg, const struct record *r);

/* Uses directory dir (the spool's, which holds the lock against a second
 * process).  Reads nothing yet.  *jp is the caller's: journal_free. */
int	journal_open(const char *dir, struct journal **jp);
/*
 * Start-up: reads every journal file left by the previous run, calls
 * replay for each record no durable batch holds (in the order they were
 * accepted) and bad for each damaged range.  A batch named by a release
 * mark made after the last checkpoint is asked about through verify.
 * The replayed records are kept as if journal_add had been called: replay
 * must batch them (batcher_add), not journal_add them.  Returns the number
 * of records replayed, or -errno.
 */
int	journal_recover(struct journal *jn, journal_verify_fn *verify,
	    journal_bad_fn *bad, journal_replay_fn *replay, void *arg);
/* After the replayed records are sealed, spooled and synced: removes the
 * previous run's files (damaged ones go to quarantine/). */
int	journal_recovered(struct journal *jn);
/* With nothing pending, removes the files: a clean stop leaves none.
 * NULL is fine. */
void	journal_free(struct journal *jn);

/* Before batcher_add: remember the record (copied).  0 or -ENOMEM (then
 * the record is not journaled; it is still batched). */
int	journal_add(struct journal *jn, const struct record *r);
/* batcher_add refused the record just added to stream. */
void	journal_unadd(struct journal *jn, const char *stream);
/*
 * A batch was sealed (from the batcher's sink, after spool_append):
 * releases its records.  stored: the spool took it (else it is reported
 * lost as a gap, and its records are not replayed either).  Writes a
 * release mark when some of its records had been journaled.
 */
int	journal_sealed(struct journal *jn, const struct batch *b, int stored);

/* Commit, step 1 (before spool_sync): write the records still in open
 * batches.  -ENOSPC etc.: they stay in memory, retried next time. */
int	journal_write(struct journal *jn);
/* Commit, step 3 (after spool_sync; spool_ok: it succeeded): checkpoint,
 * fdatasync, delete files whose records are all released. */
int	journal_commit(struct journal *jn, int spool_ok);

void	journal_stats(const struct journal *jn, struct journal_stats *st);

#endif
