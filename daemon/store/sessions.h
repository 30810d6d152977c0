/*
 * sessions.h - durable node sessions: one small opaque record per device
 * (its link session: sid, counters, nonces; policy/ident.c encodes and
 * authenticates it), kept in STATE_DIR/sessions so that a restart, a
 * crash or a power cut costs no node its uplinks (DESIGN.md invariant 6).
 *
 * Data flow: ident (a session changed) -> sessions_put (pwrite of one
 * slot, no sync) -> sessions_sync (fdatasync) at every commit of the
 * outbox, before the journal's, and at once for a new session or a new
 * block of downlink counters.  At start-up sessions_open hands every
 * record back through a callback.  The file format is described at the
 * top of sessions.c.
 *
 * The store never logs: it returns -errno and reports damage through a
 * callback.  It does not know what a record means.
 */
#ifndef FB_SESSIONS_H
#define FB_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#define SESSIONS_FILE		"sessions"	/* in the state directory */
#define SESSIONS_BODY_MAX	96		/* bytes of one record */
#define SESSIONS_READ_MAX_BYTES	(64 * 1024 * 1024) /* at start-up */

struct sessions;

struct sessions_stats {
	uint64_t	records;	/* keys with a slot pair */
	uint64_t	puts;		/* slots written since open */
	uint64_t	bytes_written;	/* slots and the start-up rewrite */
	uint64_t	syncs;		/* fdatasyncs made */
	uint64_t	write_errors;
	uint64_t	torn;		/* start-up: torn slots ignored */
	uint64_t	damaged;	/* start-up: damaged slots dropped */
};

/* A record found at start-up; body is valid during the call only. */
typedef void sessions_load_fn(void *arg, uint64_t key, const uint8_t *body,
    size_t len);
/* Bytes found at start-up that are no valid slot: offset, length, why;
 * torn: a torn last write (the pair's other slot holds the previous
 * record), which is expected after a power cut. */
typedef void sessions_bad_fn(void *arg, uint64_t off, uint64_t len,
    int torn, const char *why);

/*
 * Reads the bytes of a sessions file: calls load for the newest valid
 * record of every key and bad for every damaged range.  Returns the
 * number of records, or -EBADMSG when the header is not ours (then
 * nothing is loaded).  No I/O: the fuzz target calls this.
 */
int	sessions_parse(const uint8_t *buf, size_t len, sessions_load_fn *load,
	    sessions_bad_fn *bad, void *arg);

/*
 * Opens (or creates) dir/SESSIONS_FILE, loads it as sessions_parse does,
 * keeps only the records that keep (may be NULL: all) says yes to, and
 * writes them into a fresh file that replaces the old one.  A file with a
 * bad header or damaged slots is first moved to dir/quarantine/ as
 * "sessions.<unix time>", and *quarantined is set.  Returns the number
 * of records kept or -errno; *sp is the caller's: sessions_free.
 */
typedef int sessions_keep_fn(void *arg, uint64_t key, const uint8_t *body,
    size_t len);
int	sessions_open(const char *dir, sessions_keep_fn *keep,
	    sessions_bad_fn *bad, void *arg, int *quarantined,
	    struct sessions **sp);
/* Writes key's record over its older slot (no sync).  0 or -errno;
 * -EMSGSIZE above SESSIONS_BODY_MAX. */
int	sessions_put(struct sessions *s, uint64_t key, const uint8_t *body,
	    size_t len);
/* Makes every put so far durable; a no-op when there was none. */
int	sessions_sync(struct sessions *s);
void	sessions_stats(const struct sessions *s, struct sessions_stats *st);
void	sessions_free(struct sessions *s);	/* NULL is fine */

#endif
