/*
 * spool.c - the durable offline spool: every sealed batch is written here
 * before it is published, and stays until the broker's PUBACK releases it.
 *
 * Data flow: batcher -> spool_append -> segment files -> spool_next ->
 * uplink -> PUBACK -> spool_ack.  The caller logs; we queue events.
 *
 * DIRECTORY (the daemon's state_dir/spool, one process at a time: flock)
 *
 *	NNNNNNNNNNNNNNNN.seg	segment NNNN (16 lower-case hex digits, the
 *				segment id, strictly increasing).  Append
 *				order = id order, then file order.
 *	NNNNNNNNNNNNNNNN.ack	ack log of that segment (optional)
 *	quarantine/		corrupt bytes and files moved aside, for a
 *				technician; never read back
 *
 * All integers are little-endian and decoded byte by byte.  Checksums are
 * zlib crc32 (ISO-HDLC polynomial, init 0).
 *
 * SEGMENT FILE
 *
 *	header, 32 bytes at offset 0:
 *	  0  8  magic "FBSPSEG1"
 *	  8  4  format version, 1
 *	 12  4  header length, 32
 *	 16  8  segment id (must match the file name)
 *	 24  4  zero
 *	 28  4  crc32 of bytes 0..27
 *
 *	entries, back to back from offset 32, no padding.  One entry:
 *	  0  4  magic fb 53 45 31 ("\xfbSE1")
 *	  4  4  L, length of the batch payload (its JSON, or the JSON
 *		compressed: batch.encoding), <= SPOOL_DATA_MAX_BYTES
 *	  8  8  batch seq
 *	 16  8  wall clock (CLOCK_REALTIME) at append, milliseconds
 *	 24  4  number of records in the batch
 *	 28  1  S, stream name length, 1..63
 *	 29  3  zero
 *	 32  4  header crc: crc32 of bytes 0..31
 *	 36  4  body crc: crc32 of the S stream bytes followed by the L bytes
 *	 40  S  stream name (batch_stream_ok, batch.h: printable ASCII, no
 *		space, '"', '\\', '/', '+', '#')
 *	40+S L  the batch payload, never modified (immutable); opaque
 *		here: the body crc is its check, whatever its encoding
 *
 *	footer, written once when the segment is sealed (no more appends);
 *	at offset E, the end of the entries:
 *	  0  8  magic "FBSPFTR1"
 *	  8  8  segment id
 *	 16  8  E
 *	 24  8  entry count        32  8  records        40  8  JSON bytes
 *	 48  8  smallest seq       56  8  largest seq
 *	 64  8  oldest wall ms     72  8  newest wall ms  (0: none plausible)
 *	 80  2  N streams listed (<= 16)   82  2  flags (1: more streams)
 *	 84  4  zero
 *	 88  .  N times: 1 byte length, that many name bytes
 *	then the trailer, the last 16 bytes of the file:
 *	  0  4  F, footer length from E to the end of file, trailer included
 *	  4  4  crc32 of the footer bytes before the trailer, then of F's 4 bytes
 *	  8  8  magic "FBSPEND1"
 *
 * VALIDITY.  An entry is valid when its magic and header crc match, S and L
 * are in range, it ends before E (or end of file), its stream name passes
 * batch_stream_ok and its body crc matches.  A footer is valid when the
 * trailer's magic and crc match, F fits, the body magic, id and E agree and
 * the stream list ends exactly at the trailer.
 *
 * START-UP does not grow with the backlog: per segment it reads the header
 * and the footer (two small reads) and the ack log.  Only segments without
 * a valid footer (the open one, or one whose seal a crash interrupted) are
 * scanned entry by entry.  In such a scan, invalid bytes followed by a
 * valid entry (found by resynchronising on the entry magic plus both crcs)
 * are quarantined (copied to quarantine/SEG.OFFSET.bad) and skipped; invalid
 * bytes with no valid entry after them are a torn tail and are truncated
 * (copied aside first unless they look like an interrupted write).  Sealed
 * segments are verified lazily, entry by entry, as they are read for
 * draining, with the same quarantine rule.  A segment whose header is bad
 * gets a fresh header if any valid entry is found in it, else the whole
 * file is moved to quarantine/.
 *
 * ACKS.  A PUBACK appends a 24-byte record to the segment's ack log:
 *	  0  8  seq   8  4  entry offset   12  4  records   16  4  JSON bytes
 *	 20  4  crc32 of bytes 0..19
 * Acks are keyed by offset, which corruption elsewhere cannot shift.  A
 * lost ack record (crash before spool_sync, bad crc) only means the batch
 * is sent again: delivery is at-least-once and seq lets the cloud
 * de-duplicate.  A segment is deleted when, since the last rewind, the
 * cursors have gone over all of it and nothing handed out from it is
 * unacknowledged.
 *
 * LIVE AND BACKLOG.  The boundary is the end of the spool at spool_open
 * and at each spool_rewind (the daemon rewinds on every connect).  Entries
 * before it are backlog, entries after it live; each has its own cursor,
 * so fresh batches need not wait behind hours of history.  Backlog
 * entries come out with backlog = 1 and the daemon publishes them on the
 * stream's topic with the suffix "/backlog"; the stored JSON is never
 * changed.
 *
 * LIMITS.  The quota counts segment file bytes.  Segments are at most
 * quota/8 so dropping is never coarser than an eighth of the quota.
 * Dropping the oldest drops its oldest segment whole.  Age uses the wall
 * clock, since the monotonic clock restarts at boot: a segment is dropped
 * once its newest entry is older than max_age_s, and the open segment is
 * sealed once its oldest entry is older than max_age_s/4, so an entry lives
 * at most about 1.25 x max_age_s.  Wall times before 2020 (a gateway
 * without RTC before NTP sync) and times in the future are "unknown" and
 * never expire anything.
 *
 * DURABILITY.  spool_append only write(2)s; spool_sync fdatasyncs the
 * dirty segments and ack logs, and fsyncs the directory after a segment
 * was created (a new file's name is otherwise not durable).  If fdatasync
 * fails, the kernel may already have dropped the dirty pages, so that
 * segment takes no more appends; the failure is returned so the daemon
 * does not acknowledge anything to a node.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "daemon/fsutil.h"
#include "daemon/store/le.h"
#include "daemon/store/spool.h"

#define SEG_HDR_LEN		32
#define SEG_VERSION		1
#define ENT_HDR_LEN		40
#define FTR_FIXED_LEN		88
#define FTR_TRAILER_LEN		16
#define FTR_STREAMS_MAX		16
#define FTR_MAX_LEN		(FTR_FIXED_LEN + FTR_STREAMS_MAX * \
				    (1 + BATCH_STREAM_MAX) + FTR_TRAILER_LEN)
#define ACK_REC_LEN		24
#define SEG_BYTES_MAX		(1ULL << 30)	/* offsets fit 32 bits */
#define SCRATCH_BYTES		(16 * 1024)	/* small: RSS stays flat */
#define WALL_SANE_MS		1577836800000ULL	/* 2020-01-01 */
#define SEG_NAME_LEN		20	/* 16 hex + ".seg" */

static const uint8_t seg_magic[8] = { 'F', 'B', 'S', 'P', 'S', 'E', 'G', '1' };
static const uint8_t ent_magic[4] = { 0xfb, 'S', 'E', '1' };
static const uint8_t ftr_magic[8] = { 'F', 'B', 'S', 'P', 'F', 'T', 'R', '1' };
static const uint8_t end_magic[8] = { 'F', 'B', 'S', 'P', 'E', 'N', 'D', '1' };

/* Verdicts on the bytes at one offset. */
enum verdict {
	V_OK = 0,
	V_SHORT,	/* not even a header's worth of bytes */
	V_TORN,		/* valid header, entry runs past the end */
	V_BADHDR,
	V_BADBODY,
};

struct ehdr {
	uint32_t	len;
	uint64_t	seq;
	uint64_t	wall;
	uint32_t	nrec;
	uint8_t		slen;
	uint32_t	bcrc;
	char		stream[BATCH_STREAM_MAX + 1];
};

struct range {
	uint64_t	off;
	uint64_t	end;
};

/* Stream names of the open (or scanned) segment, for its footer. */
struct segstreams {
	unsigned	n;
	int		more;
	char		name[FTR_STREAMS_MAX][BATCH_STREAM_MAX + 1];
};

struct seg {
	uint64_t		 id;
	uint64_t		 size;		/* file bytes */
	uint64_t		 end;		/* entries end (footer follows) */
	int			 sealed;	/* has a footer */
	int			 fd;		/* -1 unless open or unsynced */
	int			 data_dirty;
	/* summary of the entries */
	uint64_t		 count;
	uint64_t		 records;
	uint64_t		 bytes;
	uint64_t		 min_seq;
	uint64_t		 max_seq;
	uint64_t		 min_wall;	/* 0: none plausible */
	uint64_t		 max_wall;
	/* The first entry not acknowledged, as far as seg_head_wall has
	 * looked (acks only grow: it only moves forward), and its wall. */
	uint64_t		 head;
	uint64_t		 head_wall;
	struct segstreams	*streams;	/* NULL: read from the footer */
	/* acks: sorted entry offsets */
	uint32_t		*acked;
	size_t			 nacked;
	size_t			 acked_cap;
	uint64_t		 acked_records;
	uint64_t		 acked_bytes;
	int			 ack_fd;
	int			 ack_dirty;
	uint64_t		 nout;		/* handed out, not acked */
	/* quarantined ranges not to report twice */
	struct range		*bad;
	size_t			 nbad;
};

struct pos {
	uint64_t	id;
	uint64_t	off;
};

struct outst {
	uint64_t	seq;
	uint64_t	seg_id;
	uint32_t	off;
	uint32_t	nrec;
	uint32_t	len;
};

struct spool {
	int			 dirfd;
	int			 qdirfd;
	struct spool_conf	 conf;
	uint64_t		 seg_bytes;
	struct seg		**segs;
	size_t			 nsegs;
	size_t			 segs_cap;
	struct seg		*open;
	uint64_t		 next_id;
	uint64_t		 used;
	int			 dir_dirty;
	struct pos		 bound;
	uint64_t		 bound_count;	/* entries of bound's seg before it */
	struct pos		 live;
	struct pos		 back;
	struct outst		*out;
	size_t			 nout;
	size_t			 out_cap;
	struct spool_event	*ev;
	size_t			 ev_head;
	size_t			 ev_n;
	struct spool_stats	 st;
	int			 disk_full;
	int			 load_damaged;	/* open found torn/bad bytes */
	uint64_t		 bound_records;	/* of bound's seg before it */
	uint64_t		 bound_bytes;
	uint64_t		 qbytes;
	int			 rd_fd;
	uint64_t		 rd_id;
	uint8_t			*scratch;
	uint8_t			*wbuf;		/* an entry gathered for pwrite */
	size_t			 wcap;
};

static uint64_t
wall_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Indirections the unit test replaces (it includes this file) to simulate
 * a full disk, a failing fsync and the passing of time.
 */
static ssize_t (*spool_pwrite)(int, const void *, size_t, off_t) = pwrite;
static int (*spool_fdatasync)(int) = fdatasync;
static uint64_t (*spool_clock_ms)(void) = wall_now_ms;

static int
pos_cmp(uint64_t id1, uint64_t off1, uint64_t id2, uint64_t off2)
{
	if (id1 != id2)
		return id1 < id2 ? -1 : 1;
	if (off1 != off2)
		return off1 < off2 ? -1 : 1;
	return 0;
}

static int
wall_sane(uint64_t ms, uint64_t now)
{
	return ms >= WALL_SANE_MS && ms <= now;
}

/*
 * Writes the pieces at off as one pwrite(2): an entry is gathered into a
 * buffer first rather than written with pwritev, which keeps the seccomp
 * allowlist (daemon/sandbox/sandbox.c) one call shorter for the price of
 * copying a few KiB per batch.
 */
static int
write_at(struct spool *sp, int fd, const struct iovec *iov, int n,
    uint64_t off, size_t total)
{
	const void *p = iov[0].iov_base;
	uint8_t *nb;
	size_t used = 0;
	ssize_t r;
	int i;

	if (n > 1) {
		if (sp->wcap < total) {
			if ((nb = realloc(sp->wbuf, total)) == NULL)
				return -ENOMEM;
			sp->wbuf = nb;
			sp->wcap = total;
		}
		for (i = 0; i < n && used + iov[i].iov_len <= total; i++) {
			memcpy(sp->wbuf + used, iov[i].iov_base,
			    iov[i].iov_len);
			used += iov[i].iov_len;
		}
		p = sp->wbuf;
	}
	r = spool_pwrite(fd, p, total, (off_t)off);
	if (r < 0)
		return -errno;
	/* A short write to a regular file means the space ran out. */
	if ((size_t)r != total)
		return -ENOSPC;
	return 0;
}

/* ---- events ---- */

static struct spool_event *
ev_push(struct spool *sp, enum spool_event_type type)
{
	struct spool_event *ev;

	if (sp->ev_n == SPOOL_EVENTS_MAX) {
		sp->st.events_lost++;
		return NULL;
	}
	ev = &sp->ev[(sp->ev_head + sp->ev_n) % SPOOL_EVENTS_MAX];
	sp->ev_n++;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	return ev;
}

static void
gap_add_stream(struct spool_gap *g, const char *name)
{
	unsigned i;

	for (i = 0; i < g->nstreams; i++)
		if (strcmp(g->streams[i], name) == 0)
			return;
	if (g->nstreams == SPOOL_GAP_STREAMS_MAX) {
		g->streams_truncated = 1;
		return;
	}
	(void)snprintf(g->streams[g->nstreams++], sizeof(g->streams[0]), "%s",
	    name);
}

/*
 * Reports lost batches.  Consecutive gaps of one cause merge into one
 * event, so a long refusal or a disk-full spell is reported once.
 */
static void
gap_report(struct spool *sp, const struct spool_gap *g)
{
	struct spool_event *last;
	unsigned i;

	if (g->batches == 0)
		return;
	sp->st.dropped_batches += g->batches;
	sp->st.dropped_records += g->records;
	if (sp->ev_n > 0) {
		last = &sp->ev[(sp->ev_head + sp->ev_n - 1) % SPOOL_EVENTS_MAX];
		if (last->type == SPOOL_EV_GAP && last->gap.cause == g->cause) {
			if (g->first_seq < last->gap.first_seq)
				last->gap.first_seq = g->first_seq;
			if (g->last_seq > last->gap.last_seq)
				last->gap.last_seq = g->last_seq;
			last->gap.batches += g->batches;
			last->gap.records += g->records;
			for (i = 0; i < g->nstreams; i++)
				gap_add_stream(&last->gap, g->streams[i]);
			if (g->streams_truncated)
				last->gap.streams_truncated = 1;
			return;
		}
	}
	if ((last = ev_push(sp, SPOOL_EV_GAP)) != NULL)
		last->gap = *g;
}

static void
gap_one(struct spool *sp, enum spool_gap_cause cause, uint64_t seq,
    const char *stream, uint64_t nrec)
{
	struct spool_gap g;

	memset(&g, 0, sizeof(g));
	g.cause = cause;
	g.first_seq = g.last_seq = seq;
	g.batches = 1;
	g.records = nrec;
	gap_add_stream(&g, stream);
	gap_report(sp, &g);
}

static void
ev_file(struct spool *sp, enum spool_event_type type, enum spool_cause cause,
    int err, const char *file, uint64_t off, uint64_t len, const char *saved)
{
	struct spool_event *ev;

	if (type == SPOOL_EV_QUARANTINE || type == SPOOL_EV_TRUNCATED)
		sp->load_damaged = 1;
	if ((ev = ev_push(sp, type)) == NULL)
		return;
	ev->cause = cause;
	ev->err = err;
	(void)snprintf(ev->file, sizeof(ev->file), "%s", file ? file : "");
	ev->offset = off;
	ev->length = len;
	(void)snprintf(ev->saved_as, sizeof(ev->saved_as), "%s",
	    saved ? saved : "");
}

/* ---- quarantine ---- */

static int
qdir(struct spool *sp)
{
	if (sp->qdirfd >= 0)
		return 0;
	if ((sp->qdirfd = fsutil_quarantine_open(sp->dirfd)) < 0) {
		int r = sp->qdirfd;

		sp->qdirfd = -1;
		return r;
	}
	sp->dir_dirty = 1;
	return 0;
}

static void
range_add(struct seg *seg, uint64_t off, uint64_t end)
{
	struct range *n;

	if ((n = reallocarray(seg->bad, seg->nbad + 1, sizeof(*n))) == NULL)
		return;		/* it will only be reported again */
	seg->bad = n;
	seg->bad[seg->nbad].off = off;
	seg->bad[seg->nbad].end = end;
	seg->nbad++;
}

static const struct range *
range_at(const struct seg *seg, uint64_t off)
{
	size_t i;

	for (i = 0; i < seg->nbad; i++)
		if (seg->bad[i].off == off)
			return &seg->bad[i];
	return NULL;
}

/*
 * Copies [off, off+len) of a segment to quarantine/SEG.OFF.bad and queues
 * the report.  The segment itself is not rewritten (sealed files are never
 * modified); its readers skip the range.  A file already there from an
 * earlier run is kept as is.
 */
static void
quarantine_range(struct spool *sp, struct seg *seg, int fd, uint64_t off,
    uint64_t len, enum spool_cause cause)
{
	char file[SEG_NAME_LEN + 1], qname[64], saved[SPOOL_PATH_MAX];
	uint64_t done = 0;
	ssize_t n;
	int qfd = -1, ok = 0;

	fsutil_id_name(file, sizeof(file), seg->id, "seg");
	(void)snprintf(qname, sizeof(qname), "%s.%" PRIu64 ".bad", file, off);
	saved[0] = '\0';
	sp->st.quarantined++;
	range_add(seg, off, off + len);
	if (qdir(sp) != 0)
		goto out;
	qfd = openat(sp->qdirfd, qname,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (qfd < 0) {
		if (errno == EEXIST)
			ok = 1;
		goto out;
	}
	if (sp->qbytes + len > SPOOL_QUARANTINE_MAX_BYTES)
		goto out;
	while (done < len) {
		size_t chunk = len - done < SCRATCH_BYTES ?
		    (size_t)(len - done) : SCRATCH_BYTES;

		n = fsutil_pread_full(fd, sp->scratch, chunk, off + done);
		if (n <= 0 || write(qfd, sp->scratch, (size_t)n) != n)
			goto out;
		done += (uint64_t)n;
	}
	sp->qbytes += len;
	ok = 1;
out:
	if (qfd >= 0)
		(void)close(qfd);
	if (ok)
		(void)snprintf(saved, sizeof(saved), "quarantine/%s", qname);
	else if (qfd >= 0)
		(void)unlinkat(sp->qdirfd, qname, 0);
	ev_file(sp, SPOOL_EV_QUARANTINE, cause, 0, file, off, len, saved);
}

/* Moves a whole file into quarantine/, under a new name if taken. */
static void
quarantine_file(struct spool *sp, const char *name, uint64_t size,
    enum spool_cause cause)
{
	char target[64], saved[SPOOL_PATH_MAX];
	int i;

	saved[0] = '\0';
	sp->st.quarantined++;
	if (qdir(sp) == 0) {
		for (i = 0; i < 100; i++) {
			if (i == 0)
				(void)snprintf(target, sizeof(target), "%.40s",
				    name);
			else
				(void)snprintf(target, sizeof(target),
				    "%.40s.%d", name, i);
			if (faccessat(sp->qdirfd, target, F_OK, 0) == 0)
				continue;
			if (renameat(sp->dirfd, name, sp->qdirfd, target) == 0)
				(void)snprintf(saved, sizeof(saved),
				    "quarantine/%s", target);
			break;
		}
	}
	/* Never leave it where it would be read again. */
	if (saved[0] == '\0')
		(void)unlinkat(sp->dirfd, name, 0);
	sp->dir_dirty = 1;
	ev_file(sp, SPOOL_EV_QUARANTINE, cause, 0, name, 0, size, saved);
}

/* ---- entries ---- */

static int
ehdr_parse(const uint8_t *p, struct ehdr *h)
{
	if (memcmp(p, ent_magic, 4) != 0)
		return V_BADHDR;
	if (fsutil_crc32(0, p, 32) != le_get32(p + 32))
		return V_BADHDR;
	h->len = le_get32(p + 4);
	h->seq = le_get64(p + 8);
	h->wall = le_get64(p + 16);
	h->nrec = le_get32(p + 24);
	h->slen = p[28];
	h->bcrc = le_get32(p + 36);
	if (p[29] != 0 || p[30] != 0 || p[31] != 0)
		return V_BADHDR;
	if (h->slen < 1 || h->slen > BATCH_STREAM_MAX ||
	    h->len > SPOOL_DATA_MAX_BYTES)
		return V_BADHDR;
	return V_OK;
}

static uint64_t
ent_size(const struct ehdr *h)
{
	return (uint64_t)ENT_HDR_LEN + h->slen + h->len;
}

/*
 * Judges the entry at off, which must end by end.  With body, the body
 * crc is checked too (read in scratch-sized pieces).  Returns a verdict,
 * or -errno if the file cannot be read.
 */
static int
entry_at(struct spool *sp, int fd, uint64_t off, uint64_t end,
    struct ehdr *h, int body)
{
	uint8_t hb[ENT_HDR_LEN + BATCH_STREAM_MAX];
	uint64_t done;
	uint32_t c;
	size_t want;
	ssize_t n;
	int v;

	memset(h, 0, sizeof(*h));
	if (off > end || end - off < ENT_HDR_LEN)
		return V_SHORT;
	want = end - off < sizeof(hb) ? (size_t)(end - off) : sizeof(hb);
	if ((n = fsutil_pread_full(fd, hb, want, off)) < 0)
		return (int)n;
	if ((size_t)n < ENT_HDR_LEN)
		return V_SHORT;
	if ((v = ehdr_parse(hb, h)) != V_OK)
		return v;
	if (ent_size(h) > end - off)
		return V_TORN;
	if ((size_t)n < (size_t)ENT_HDR_LEN + h->slen)
		return V_TORN;
	memcpy(h->stream, hb + ENT_HDR_LEN, h->slen);
	h->stream[h->slen] = '\0';
	if (body) {
		c = fsutil_crc32(0, hb + ENT_HDR_LEN, h->slen);
		for (done = 0; done < h->len; done += (uint64_t)n) {
			want = h->len - done < SCRATCH_BYTES ?
			    (size_t)(h->len - done) : SCRATCH_BYTES;
			n = fsutil_pread_full(fd, sp->scratch, want,
			    off + ENT_HDR_LEN + h->slen + done);
			if (n < 0)
				return (int)n;
			if ((size_t)n != want)
				return V_TORN;
			c = fsutil_crc32(c, sp->scratch, want);
		}
		if (c != h->bcrc)
			return V_BADBODY;
	}
	if (!batch_stream_ok(h->stream, h->slen))
		return V_BADBODY;
	return V_OK;
}

/*
 * Finds the first offset in [from, end) holding a fully valid entry, or
 * end.  The magic narrows the candidates; both crcs decide.
 */
static int
resync(struct spool *sp, int fd, uint64_t from, uint64_t end, uint64_t *next)
{
	struct ehdr h;
	uint8_t *buf, *p;
	uint64_t pos = from;
	size_t want, i;
	ssize_t n;
	int r = 0, v;

	*next = end;
	if ((buf = malloc(SCRATCH_BYTES)) == NULL)
		return -ENOMEM;
	while (pos < end && end - pos >= ENT_HDR_LEN) {
		want = end - pos < SCRATCH_BYTES ? (size_t)(end - pos) :
		    SCRATCH_BYTES;
		if ((n = fsutil_pread_full(fd, buf, want, pos)) < 0) {
			r = (int)n;
			goto out;
		}
		if (n < 4)
			break;
		for (i = 0; i + 4 <= (size_t)n; i++) {
			p = memchr(buf + i, ent_magic[0], (size_t)n - 3 - i);
			if (p == NULL)
				break;
			i = (size_t)(p - buf);
			if (memcmp(p, ent_magic, 4) != 0)
				continue;
			v = entry_at(sp, fd, pos + i, end, &h, 1);
			if (v < 0) {
				r = v;
				goto out;
			}
			if (v == V_OK) {
				*next = pos + i;
				goto out;
			}
		}
		if ((size_t)n < want)
			break;
		pos += (uint64_t)n - 3;
	}
out:
	free(buf);
	return r;
}

static enum spool_cause
verdict_cause(int v)
{
	switch (v) {
	case V_SHORT:
	case V_TORN:
		return SPOOL_BAD_TORN;
	case V_BADHDR:
		return SPOOL_BAD_ENTRY_HEADER;
	case V_BADBODY:
		return SPOOL_BAD_ENTRY_BODY;
	default:
		return SPOOL_BAD_GARBAGE;
	}
}

/* ---- segments ---- */

static void
seg_account(struct seg *seg, const struct ehdr *h, uint64_t now)
{
	struct segstreams *ss = seg->streams;
	unsigned i;

	if (seg->count == 0 || h->seq < seg->min_seq)
		seg->min_seq = h->seq;
	if (seg->count == 0 || h->seq > seg->max_seq)
		seg->max_seq = h->seq;
	if (wall_sane(h->wall, now)) {
		if (seg->min_wall == 0 || h->wall < seg->min_wall)
			seg->min_wall = h->wall;
		if (h->wall > seg->max_wall)
			seg->max_wall = h->wall;
	}
	seg->count++;
	seg->records += h->nrec;
	seg->bytes += h->len;
	if (ss == NULL)
		return;
	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->name[i], h->stream) == 0)
			return;
	if (ss->n == FTR_STREAMS_MAX)
		ss->more = 1;
	else
		(void)snprintf(ss->name[ss->n++], sizeof(ss->name[0]), "%s",
		    h->stream);
}

static struct seg *
seg_new(uint64_t id)
{
	struct seg *seg;

	if ((seg = calloc(1, sizeof(*seg))) == NULL)
		return NULL;
	seg->id = id;
	seg->fd = -1;
	seg->ack_fd = -1;
	return seg;
}

static void
seg_free(struct seg *seg)
{
	if (seg == NULL)
		return;
	if (seg->fd >= 0)
		(void)close(seg->fd);
	if (seg->ack_fd >= 0)
		(void)close(seg->ack_fd);
	free(seg->streams);
	free(seg->acked);
	free(seg->bad);
	free(seg);
}

static int
segs_push(struct spool *sp, struct seg *seg)
{
	struct seg **n;
	size_t cap;

	if (sp->nsegs == sp->segs_cap) {
		cap = sp->segs_cap ? sp->segs_cap * 2 : 16;
		if ((n = reallocarray(sp->segs, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		sp->segs = n;
		sp->segs_cap = cap;
	}
	sp->segs[sp->nsegs++] = seg;
	return 0;
}

/* First segment with an id >= id, or NULL. */
static struct seg *
seg_find_ge(const struct spool *sp, uint64_t id)
{
	size_t lo = 0, hi = sp->nsegs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (sp->segs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->nsegs ? sp->segs[lo] : NULL;
}

static struct seg *
seg_find(const struct spool *sp, uint64_t id)
{
	struct seg *seg = seg_find_ge(sp, id);

	return seg != NULL && seg->id == id ? seg : NULL;
}

static int
seg_rfd(struct spool *sp, struct seg *seg)
{
	char name[SEG_NAME_LEN + 1];

	if (seg->fd >= 0)
		return seg->fd;
	if (sp->rd_fd >= 0 && sp->rd_id == seg->id)
		return sp->rd_fd;
	if (sp->rd_fd >= 0)
		(void)close(sp->rd_fd);
	fsutil_id_name(name, sizeof(name), seg->id, "seg");
	sp->rd_fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);
	sp->rd_id = seg->id;
	return sp->rd_fd >= 0 ? sp->rd_fd : -errno;
}

static void
hdr_build(uint8_t *p, uint64_t id)
{
	memset(p, 0, SEG_HDR_LEN);
	memcpy(p, seg_magic, 8);
	le_put32(p + 8, SEG_VERSION);
	le_put32(p + 12, SEG_HDR_LEN);
	le_put64(p + 16, id);
	le_put32(p + 28, fsutil_crc32(0, p, 28));
}

static int
hdr_check(const uint8_t *p, uint64_t id)
{
	return memcmp(p, seg_magic, 8) == 0 && le_get32(p + 8) == SEG_VERSION &&
	    le_get32(p + 12) == SEG_HDR_LEN && le_get64(p + 16) == id &&
	    le_get32(p + 24) == 0 && fsutil_crc32(0, p, 28) == le_get32(p + 28);
}

/*
 * Reads and checks the footer of a segment file of size bytes.  On
 * success fills the summary; with gap, also names its streams there.
 */
static int
ftr_read(struct seg *seg, int fd, uint64_t size, struct spool_gap *gap)
{
	uint8_t tr[FTR_TRAILER_LEN], *f = NULL;
	uint64_t flen, e;
	size_t i, left, n, k;
	uint32_t c;
	int r = -EINVAL;

	if (size < SEG_HDR_LEN + FTR_FIXED_LEN + FTR_TRAILER_LEN)
		return -EINVAL;
	if (fsutil_pread_full(fd, tr, sizeof(tr), size - FTR_TRAILER_LEN) !=
	    (ssize_t)sizeof(tr))
		return -EIO;
	if (memcmp(tr + 8, end_magic, 8) != 0)
		return -EINVAL;
	flen = le_get32(tr);
	if (flen < FTR_FIXED_LEN + FTR_TRAILER_LEN || flen > FTR_MAX_LEN ||
	    flen > size - SEG_HDR_LEN)
		return -EINVAL;
	e = size - flen;
	if ((f = malloc(flen)) == NULL)
		return -ENOMEM;
	if (fsutil_pread_full(fd, f, flen, e) != (ssize_t)flen) {
		r = -EIO;
		goto out;
	}
	c = fsutil_crc32(0, f, flen - FTR_TRAILER_LEN);
	c = fsutil_crc32(c, tr, 4);
	if (c != le_get32(tr + 4) || memcmp(f, ftr_magic, 8) != 0 ||
	    le_get64(f + 8) != seg->id || le_get64(f + 16) != e ||
	    le_get32(f + 84) != 0)
		goto out;
	/* Counts must be possible for E bytes of entries. */
	if (le_get64(f + 24) > (e - SEG_HDR_LEN) / ENT_HDR_LEN ||
	    le_get64(f + 40) > e - SEG_HDR_LEN ||
	    le_get64(f + 48) > le_get64(f + 56))
		goto out;
	n = (size_t)f[80] | (size_t)f[81] << 8;
	if (n > FTR_STREAMS_MAX || (f[82] & ~1) != 0 || f[83] != 0)
		goto out;
	/* The stream list must end exactly at the trailer. */
	left = flen - FTR_TRAILER_LEN - FTR_FIXED_LEN;
	k = FTR_FIXED_LEN;
	for (i = 0; i < n; i++) {
		char name[BATCH_STREAM_MAX + 1];
		size_t sl;

		if (left < 1)
			goto out;
		sl = f[k];
		k++;
		left--;
		if (left < sl || !batch_stream_ok((const char *)f + k, sl))
			goto out;
		memcpy(name, f + k, sl);
		name[sl] = '\0';
		if (gap != NULL)
			gap_add_stream(gap, name);
		k += sl;
		left -= sl;
	}
	if (left != 0)
		goto out;
	if (gap != NULL && (f[82] & 1))
		gap->streams_truncated = 1;
	if (gap == NULL) {
		seg->end = e;
		seg->count = le_get64(f + 24);
		seg->records = le_get64(f + 32);
		seg->bytes = le_get64(f + 40);
		seg->min_seq = le_get64(f + 48);
		seg->max_seq = le_get64(f + 56);
		seg->min_wall = le_get64(f + 64);
		seg->max_wall = le_get64(f + 72);
	}
	r = 0;
out:
	free(f);
	return r;
}

/* Writes the footer at seg->end: the segment takes no more appends. */
static int
seg_seal(struct spool *sp, struct seg *seg)
{
	uint8_t f[FTR_MAX_LEN];
	struct iovec iov;
	size_t k = FTR_FIXED_LEN, i, sl;
	uint32_t c;
	int r;

	memset(f, 0, FTR_FIXED_LEN);
	memcpy(f, ftr_magic, 8);
	le_put64(f + 8, seg->id);
	le_put64(f + 16, seg->end);
	le_put64(f + 24, seg->count);
	le_put64(f + 32, seg->records);
	le_put64(f + 40, seg->bytes);
	le_put64(f + 48, seg->min_seq);
	le_put64(f + 56, seg->max_seq);
	le_put64(f + 64, seg->min_wall);
	le_put64(f + 72, seg->max_wall);
	if (seg->streams != NULL) {
		f[80] = (uint8_t)seg->streams->n;
		f[82] = seg->streams->more ? 1 : 0;
		for (i = 0; i < seg->streams->n; i++) {
			sl = strlen(seg->streams->name[i]);
			f[k++] = (uint8_t)sl;
			memcpy(f + k, seg->streams->name[i], sl);
			k += sl;
		}
	}
	le_put32(f + k, (uint32_t)(k + FTR_TRAILER_LEN));
	c = fsutil_crc32(0, f, k);
	c = fsutil_crc32(c, f + k, 4);
	le_put32(f + k + 4, c);
	memcpy(f + k + 8, end_magic, 8);
	k += FTR_TRAILER_LEN;
	iov.iov_base = f;
	iov.iov_len = k;
	if ((r = write_at(sp, seg->fd, &iov, 1, seg->end, k)) != 0) {
		(void)ftruncate(seg->fd, (off_t)seg->end);
		return r;
	}
	sp->used += seg->end + k - seg->size;
	seg->size = seg->end + k;
	seg->sealed = 1;
	seg->data_dirty = 1;
	return 0;
}

/* Stops appending to the open segment; its fd is closed after a sync. */
static void
seg_roll(struct spool *sp)
{
	struct seg *seg = sp->open;

	if (seg == NULL)
		return;
	/* Without a footer it is scanned at the next start: still correct. */
	(void)seg_seal(sp, seg);
	sp->open = NULL;
}

static int
seg_create(struct spool *sp)
{
	char name[SEG_NAME_LEN + 1];
	uint8_t h[SEG_HDR_LEN];
	struct iovec iov;
	struct seg *seg;
	int r;

	if ((seg = seg_new(sp->next_id)) == NULL)
		return -ENOMEM;
	if ((seg->streams = calloc(1, sizeof(*seg->streams))) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	fsutil_id_name(name, sizeof(name), seg->id, "seg");
	seg->fd = openat(sp->dirfd, name,
	    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (seg->fd < 0) {
		r = -errno;
		goto fail;
	}
	hdr_build(h, seg->id);
	iov.iov_base = h;
	iov.iov_len = sizeof(h);
	if ((r = write_at(sp, seg->fd, &iov, 1, 0, sizeof(h))) != 0 ||
	    (r = segs_push(sp, seg)) != 0) {
		(void)unlinkat(sp->dirfd, name, 0);
		goto fail;
	}
	sp->next_id++;
	seg->size = seg->end = SEG_HDR_LEN;
	seg->data_dirty = 1;
	sp->used += SEG_HDR_LEN;
	sp->dir_dirty = 1;
	sp->open = seg;
	return 0;
fail:
	seg_free(seg);
	return r;
}

/* Removes a segment from disk and memory. */
static void
seg_delete(struct spool *sp, struct seg *seg)
{
	char name[SEG_NAME_LEN + 1];
	size_t i;

	fsutil_id_name(name, sizeof(name), seg->id, "seg");
	(void)unlinkat(sp->dirfd, name, 0);
	/* The segment goes first: an orphan ack log is removed at open. */
	fsutil_id_name(name, sizeof(name), seg->id, "ack");
	(void)unlinkat(sp->dirfd, name, 0);
	sp->dir_dirty = 1;
	if (sp->rd_fd >= 0 && sp->rd_id == seg->id) {
		(void)close(sp->rd_fd);
		sp->rd_fd = -1;
	}
	if (sp->open == seg)
		sp->open = NULL;
	for (i = 0; i < sp->nsegs; i++)
		if (sp->segs[i] == seg)
			break;
	if (i < sp->nsegs) {
		memmove(sp->segs + i, sp->segs + i + 1,
		    (sp->nsegs - i - 1) * sizeof(*sp->segs));
		sp->nsegs--;
	}
	sp->used -= seg->size;
	seg_free(seg);
}

/* Drops a segment with what it still holds, reporting the gap. */
static void
seg_drop(struct spool *sp, struct seg *seg, enum spool_gap_cause cause)
{
	struct spool_gap g;
	unsigned i;
	int fd;

	memset(&g, 0, sizeof(g));
	g.cause = cause;
	g.first_seq = seg->min_seq;
	g.last_seq = seg->max_seq;
	g.batches = seg->count > seg->nacked ? seg->count - seg->nacked : 0;
	g.records = seg->records > seg->acked_records ?
	    seg->records - seg->acked_records : 0;
	if (seg->streams != NULL) {
		for (i = 0; i < seg->streams->n; i++)
			gap_add_stream(&g, seg->streams->name[i]);
		if (seg->streams->more)
			g.streams_truncated = 1;
	} else if ((fd = seg_rfd(sp, seg)) >= 0) {
		if (ftr_read(seg, fd, seg->size, &g) != 0)
			g.streams_truncated = 1;
	}
	gap_report(sp, &g);
	seg_delete(sp, seg);
}

/*
 * Whether every entry of a segment has been acknowledged: the cursors
 * went over all of it since the last rewind (handing out or skipping as
 * acked each valid entry) and nothing handed out is still unacked.
 */
static int
seg_done(const struct spool *sp, const struct seg *seg)
{
	const struct pos *b = &sp->bound;
	uint64_t bid, boff;

	if (seg == sp->open || seg->nout > 0)
		return 0;
	if (pos_cmp(seg->id, SEG_HDR_LEN, b->id, b->off) < 0) {
		/* Part before the boundary: the backlog cursor's. */
		bid = seg->id;
		boff = seg->end;
		if (pos_cmp(b->id, b->off, bid, boff) < 0) {
			bid = b->id;
			boff = b->off;
		}
		if (pos_cmp(sp->back.id, sp->back.off, bid, boff) < 0)
			return 0;
	}
	if (pos_cmp(seg->id, seg->end, b->id, b->off) > 0 &&
	    pos_cmp(sp->live.id, sp->live.off, seg->id, seg->end) < 0)
		return 0;
	return 1;
}

static void
seg_maybe_delete(struct spool *sp, struct seg *seg)
{
	if (seg_done(sp, seg))
		seg_delete(sp, seg);
}

/* ---- acks ---- */

/* How many acked offsets are below off (acked[] is sorted). */
static size_t
acked_before(const struct seg *seg, uint64_t off)
{
	size_t lo = 0, hi = seg->nacked, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (seg->acked[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
acked_has(const struct seg *seg, uint64_t off)
{
	size_t i = acked_before(seg, off);

	return i < seg->nacked && seg->acked[i] == off;
}

/* Records an ack in memory; 0 if new, 1 if known already. */
static int
acked_add(struct seg *seg, uint32_t off, uint32_t nrec, uint32_t len)
{
	uint32_t *n;
	size_t i, cap;

	if (acked_has(seg, off))
		return 1;
	if (seg->nacked == seg->acked_cap) {
		cap = seg->acked_cap ? seg->acked_cap * 2 : 64;
		if ((n = reallocarray(seg->acked, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		seg->acked = n;
		seg->acked_cap = cap;
	}
	i = acked_before(seg, off);
	memmove(seg->acked + i + 1, seg->acked + i,
	    (seg->nacked - i) * sizeof(*seg->acked));
	seg->acked[i] = off;
	seg->nacked++;
	seg->acked_records += nrec;
	seg->acked_bytes += len;
	return 0;
}

static int
ack_write(struct spool *sp, struct seg *seg, uint64_t seq, uint32_t off,
    uint32_t nrec, uint32_t len)
{
	char name[SEG_NAME_LEN + 1];
	uint8_t rec[ACK_REC_LEN];
	struct iovec iov;
	off_t end;
	int r;

	if (seg->ack_fd < 0) {
		fsutil_id_name(name, sizeof(name), seg->id, "ack");
		seg->ack_fd = openat(sp->dirfd, name,
		    O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (seg->ack_fd < 0)
			return -errno;
		sp->dir_dirty = 1;
	}
	le_put64(rec, seq);
	le_put32(rec + 8, off);
	le_put32(rec + 12, nrec);
	le_put32(rec + 16, len);
	le_put32(rec + 20, fsutil_crc32(0, rec, 20));
	iov.iov_base = rec;
	iov.iov_len = sizeof(rec);
	if ((end = lseek(seg->ack_fd, 0, SEEK_END)) < 0)
		return -errno;
	/* Keep records aligned even after a torn one. */
	end -= end % ACK_REC_LEN;
	if ((r = write_at(sp, seg->ack_fd, &iov, 1, (uint64_t)end, sizeof(rec)))
	    != 0) {
		(void)ftruncate(seg->ack_fd, end);
		return r;
	}
	seg->ack_dirty = 1;
	return 0;
}

/* Reads a segment's ack log; bad or torn records only cost a resend. */
static int
ack_load(struct spool *sp, struct seg *seg)
{
	char name[SEG_NAME_LEN + 1];
	const uint8_t *rec;
	uint64_t off = 0;
	uint32_t eoff;
	size_t i, want = SCRATCH_BYTES - SCRATCH_BYTES % ACK_REC_LEN;
	ssize_t n;
	int fd, r = 0;

	fsutil_id_name(name, sizeof(name), seg->id, "ack");
	if ((fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		if ((n = fsutil_pread_full(fd, sp->scratch, want, off)) < 0) {
			r = (int)n;
			break;
		}
		for (i = 0; i + ACK_REC_LEN <= (size_t)n; i += ACK_REC_LEN) {
			rec = sp->scratch + i;
			if (fsutil_crc32(0, rec, 20) != le_get32(rec + 20))
				continue;
			eoff = le_get32(rec + 8);
			if (eoff < SEG_HDR_LEN || eoff >= seg->end)
				continue;
			if ((r = acked_add(seg, eoff, le_get32(rec + 12),
			    le_get32(rec + 16))) < 0)
				goto out;
			r = 0;
		}
		if ((size_t)n < want)
			break;
		off += (uint64_t)n;
	}
out:
	(void)close(fd);
	return r;
}

/* ---- open / recovery ---- */

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
all_zero(struct spool *sp, int fd, uint64_t off, uint64_t end)
{
	ssize_t n, i;

	while (off < end) {
		n = fsutil_pread_full(fd, sp->scratch,
		    end - off < SCRATCH_BYTES ? (size_t)(end - off) :
		    SCRATCH_BYTES, off);
		if (n <= 0)
			return 0;
		for (i = 0; i < n; i++)
			if (sp->scratch[i] != 0)
				return 0;
		off += (uint64_t)n;
	}
	return 1;
}

/*
 * Verifies every entry of a segment without a usable footer, quarantining
 * bad ranges that have valid entries after them and truncating a tail
 * that has none.  fd must be writable.
 */
static int
seg_scan(struct spool *sp, struct seg *seg, int fd, uint64_t fsize)
{
	char file[SEG_NAME_LEN + 1];
	uint64_t off = SEG_HDR_LEN, next, now = spool_clock_ms();
	struct ehdr h;
	int v, r, torn;

	fsutil_id_name(file, sizeof(file), seg->id, "seg");
	while (off < fsize) {
		if ((v = entry_at(sp, fd, off, fsize, &h, 1)) < 0)
			return v;
		if (v == V_OK) {
			seg_account(seg, &h, now);
			off += ent_size(&h);
			continue;
		}
		if ((r = resync(sp, fd, off + 1, fsize, &next)) < 0)
			return r;
		if (next < fsize) {
			quarantine_range(sp, seg, fd, off, next - off,
			    verdict_cause(v));
			if (v == V_BADBODY && ent_size(&h) == next - off)
				gap_one(sp, SPOOL_GAP_CORRUPT, h.seq,
				    batch_stream_ok(h.stream, h.slen) ?
				    h.stream : "?", h.nrec);
			off = next;
			continue;
		}
		/* Nothing valid follows: the tail of an interrupted write. */
		torn = v == V_SHORT || v == V_TORN || v == V_BADBODY ||
		    all_zero(sp, fd, off, fsize);
		if (!torn)
			quarantine_range(sp, seg, fd, off, fsize - off,
			    SPOOL_BAD_GARBAGE);
		if (ftruncate(fd, (off_t)off) != 0)
			return -errno;
		seg->data_dirty = 1;
		sp->st.truncated_bytes += fsize - off;
		if (torn)
			ev_file(sp, SPOOL_EV_TRUNCATED, verdict_cause(v), 0,
			    file, off, fsize - off, NULL);
		/* A range quarantined past the new end is gone. */
		while (seg->nbad > 0 && seg->bad[seg->nbad - 1].off >= off)
			seg->nbad--;
		fsize = off;
	}
	seg->size = seg->end = fsize;
	return 0;
}

/*
 * Brings one segment file into memory.  Returns 0 with *segp (NULL if
 * the file was removed or quarantined), or -errno on an I/O error.
 */
static int
seg_load(struct spool *sp, uint64_t id, int last, struct seg **segp)
{
	char name[SEG_NAME_LEN + 1];
	uint8_t h[SEG_HDR_LEN];
	struct seg *seg = NULL;
	struct stat st;
	uint64_t next;
	struct iovec iov;
	int fd = -1, r;

	*segp = NULL;
	fsutil_id_name(name, sizeof(name), id, "seg");
	if ((fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC)) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if ((seg = seg_new(id)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((uint64_t)st.st_size > UINT32_MAX) {
		/* Not ours: entry offsets are 32 bits. */
		quarantine_file(sp, name, (uint64_t)st.st_size,
		    SPOOL_BAD_GARBAGE);
		r = 0;
		goto out;
	}
	if ((uint64_t)st.st_size < SEG_HDR_LEN) {
		/* Created, but its header never reached the disk. */
		if (st.st_size > 0)
			quarantine_file(sp, name, (uint64_t)st.st_size,
			    SPOOL_BAD_SEG_HEADER);
		else {
			(void)unlinkat(sp->dirfd, name, 0);
			sp->dir_dirty = 1;
			ev_file(sp, SPOOL_EV_TRUNCATED, SPOOL_BAD_TORN, 0,
			    name, 0, 0, NULL);
		}
		r = 0;
		goto out;
	}
	if ((r = (int)fsutil_pread_full(fd, h, sizeof(h), 0)) < 0)
		goto out;
	if (!hdr_check(h, id)) {
		/* Keep the entries if there are any: give it a new header. */
		if ((r = resync(sp, fd, SEG_HDR_LEN, (uint64_t)st.st_size,
		    &next)) < 0)
			goto out;
		if (next == (uint64_t)st.st_size) {
			quarantine_file(sp, name, (uint64_t)st.st_size,
			    SPOOL_BAD_SEG_HEADER);
			r = 0;
			goto out;
		}
		quarantine_range(sp, seg, fd, 0, SEG_HDR_LEN,
		    SPOOL_BAD_SEG_HEADER);
		seg->nbad = 0;
		hdr_build(h, id);
		iov.iov_base = h;
		iov.iov_len = sizeof(h);
		if ((r = write_at(sp, fd, &iov, 1, 0, sizeof(h))) != 0)
			goto out;
		seg->data_dirty = 1;
	}
	if (ftr_read(seg, fd, (uint64_t)st.st_size, NULL) == 0) {
		seg->sealed = 1;
		seg->size = (uint64_t)st.st_size;
		(void)close(fd);
		fd = -1;
	} else {
		if ((seg->streams = calloc(1, sizeof(*seg->streams))) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		if ((r = seg_scan(sp, seg, fd, (uint64_t)st.st_size)) != 0)
			goto out;
		seg->fd = fd;
		fd = -1;
		if (!last) {
			/* A seal interrupted by a crash: finish it now. */
			(void)seg_seal(sp, seg);
		}
	}
	if ((r = ack_load(sp, seg)) != 0)
		goto out;
	*segp = seg;
	seg = NULL;
	r = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	seg_free(seg);
	return r;
}

static int
spool_load(struct spool *sp)
{
	uint64_t *ids = NULL, *acks = NULL, id;
	size_t nids = 0, nacks = 0, capi = 0, capa = 0, i;
	struct dirent *de;
	struct seg *seg;
	DIR *d = NULL;
	void *n;
	int dfd, r = 0;

	if ((dfd = dup(sp->dirfd)) < 0)
		return -errno;
	if ((d = fdopendir(dfd)) == NULL) {
		r = -errno;
		(void)close(dfd);
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (fsutil_id_parse(de->d_name, "seg", &id)) {
			if (nids == capi) {
				capi = capi ? capi * 2 : 64;
				if ((n = reallocarray(ids, capi,
				    sizeof(*ids))) == NULL) {
					r = -ENOMEM;
					goto out;
				}
				ids = n;
			}
			ids[nids++] = id;
		} else if (fsutil_id_parse(de->d_name, "ack", &id)) {
			if (nacks == capa) {
				capa = capa ? capa * 2 : 16;
				if ((n = reallocarray(acks, capa,
				    sizeof(*acks))) == NULL) {
					r = -ENOMEM;
					goto out;
				}
				acks = n;
			}
			acks[nacks++] = id;
		}
	}
	if (errno != 0) {
		r = -errno;
		goto out;
	}
	if (nids > 1)
		qsort(ids, nids, sizeof(*ids), id_cmp);
	for (i = 0; i < nids; i++) {
		if ((r = seg_load(sp, ids[i], i + 1 == nids, &seg)) != 0)
			goto out;
		if (seg == NULL)
			continue;
		if ((r = segs_push(sp, seg)) != 0) {
			seg_free(seg);
			goto out;
		}
		sp->used += seg->size;
		sp->next_id = seg->id + 1;
	}
	if (sp->nsegs > 0 && !sp->segs[sp->nsegs - 1]->sealed)
		sp->open = sp->segs[sp->nsegs - 1];
	/* Ack logs whose segment is gone (deleted before them). */
	for (i = 0; i < nacks; i++) {
		if (seg_find(sp, acks[i]) == NULL) {
			char name[SEG_NAME_LEN + 1];

			fsutil_id_name(name, sizeof(name), acks[i], "ack");
			(void)unlinkat(sp->dirfd, name, 0);
			sp->dir_dirty = 1;
		}
	}
out:
	if (d != NULL)
		(void)closedir(d);
	free(ids);
	free(acks);
	return r;
}

void
spool_conf_init(struct spool_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->quota_bytes = SPOOL_QUOTA_DEFAULT_BYTES;
	conf->segment_bytes = SPOOL_SEGMENT_DEFAULT_BYTES;
	conf->full_policy = SPOOL_DROP_OLDEST;
	conf->outstanding_max = SPOOL_OUTSTANDING_DEFAULT;
}

static void expire(struct spool *);
static void quota_fit(struct spool *, uint64_t);

int
spool_open(const char *dir, const struct spool_conf *conf,
    struct spool **spp)
{
	struct spool *sp = NULL;
	struct statvfs vfs;
	int r = -ENOMEM;

	*spp = NULL;
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		goto out;
	sp->dirfd = sp->qdirfd = sp->rd_fd = -1;
	if (conf != NULL)
		sp->conf = *conf;
	else
		spool_conf_init(&sp->conf);
	if (sp->conf.quota_bytes == 0)
		sp->conf.quota_bytes = SPOOL_QUOTA_DEFAULT_BYTES;
	if (sp->conf.outstanding_max == 0)
		sp->conf.outstanding_max = SPOOL_OUTSTANDING_DEFAULT;
	if (sp->conf.quota_bytes < SPOOL_QUOTA_MIN_BYTES ||
	    (sp->conf.full_policy != SPOOL_DROP_OLDEST &&
	    sp->conf.full_policy != SPOOL_REFUSE_NEWEST)) {
		r = -EINVAL;
		goto out;
	}
	sp->seg_bytes = sp->conf.segment_bytes ? sp->conf.segment_bytes :
	    SPOOL_SEGMENT_DEFAULT_BYTES;
	if (sp->seg_bytes > sp->conf.quota_bytes / 8)
		sp->seg_bytes = sp->conf.quota_bytes / 8;
	if (sp->seg_bytes > SEG_BYTES_MAX)
		sp->seg_bytes = SEG_BYTES_MAX;
	if ((sp->scratch = malloc(SCRATCH_BYTES)) == NULL ||
	    (sp->ev = calloc(SPOOL_EVENTS_MAX, sizeof(*sp->ev))) == NULL)
		goto out;
	sp->next_id = 1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		goto out;
	}
	if (flock(sp->dirfd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto out;
	}
	/*
	 * On a file system smaller than the quota, running out of space
	 * drops the oldest segment: keep that a sixteenth of the file
	 * system, not all of it.
	 */
	if (fstatvfs(sp->dirfd, &vfs) == 0 && vfs.f_frsize > 0 &&
	    (uint64_t)vfs.f_blocks * vfs.f_frsize / 16 < sp->seg_bytes)
		sp->seg_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize / 16;
	if (sp->seg_bytes < SPOOL_SEGMENT_MIN_BYTES)
		sp->seg_bytes = SPOOL_SEGMENT_MIN_BYTES;
	if ((r = spool_load(sp)) != 0)
		goto out;
	spool_rewind(sp);
	expire(sp);
	quota_fit(sp, 0);
	*spp = sp;
	sp = NULL;
	r = 0;
out:
	spool_free(sp);
	return r;
}

void
spool_free(struct spool *sp)
{
	size_t i;

	if (sp == NULL)
		return;
	if (sp->dirfd >= 0)
		(void)spool_sync(sp);
	for (i = 0; i < sp->nsegs; i++)
		seg_free(sp->segs[i]);
	free(sp->segs);
	free(sp->out);
	free(sp->ev);
	free(sp->scratch);
	free(sp->wbuf);
	if (sp->rd_fd >= 0)
		(void)close(sp->rd_fd);
	if (sp->qdirfd >= 0)
		(void)close(sp->qdirfd);
	if (sp->dirfd >= 0)
		(void)close(sp->dirfd);
	free(sp);
}

/* ---- limits ---- */

/* Drops segments whose newest entry is older than max_age_s. */
static void
expire(struct spool *sp)
{
	uint64_t now = spool_clock_ms(), max_ms;
	struct seg *seg;

	if (sp->conf.max_age_s == 0)
		return;
	max_ms = sp->conf.max_age_s * 1000;
	while (sp->nsegs > 0) {
		seg = sp->segs[0];
		if (seg->count == 0 || !wall_sane(seg->max_wall, now) ||
		    now - seg->max_wall <= max_ms)
			break;
		seg_drop(sp, seg, SPOOL_GAP_AGE);
	}
	/* Seal an ageing open segment so it can expire as a whole. */
	seg = sp->open;
	if (seg != NULL && seg->count > 0 && wall_sane(seg->min_wall, now) &&
	    now - seg->min_wall > max_ms / 4)
		seg_roll(sp);
}

/* Drops oldest segments until need more bytes fit in the quota. */
static void
quota_fit(struct spool *sp, uint64_t need)
{
	while (sp->nsegs > 0 && sp->used + need > sp->conf.quota_bytes)
		seg_drop(sp, sp->segs[0], SPOOL_GAP_QUOTA);
}

/* ---- append / sync ---- */

/*
 * Whether the disk-full spell is over: a write just succeeded and the file
 * system has room for two more segments.  Right after dropping the oldest
 * segment to make room, writes succeed but the disk is as full as before;
 * saying "space is back" then would make the state flap once a segment.
 */
static int
disk_has_room(struct spool *sp)
{
	struct statvfs vfs;

	if (fstatvfs(sp->dirfd, &vfs) != 0)
		return 1;
	return (uint64_t)vfs.f_bavail * vfs.f_frsize >= 2 * sp->seg_bytes;
}

static int
entry_write(struct spool *sp, const struct batch *b, size_t slen,
    uint64_t wall)
{
	struct seg *seg;
	struct iovec iov[3];
	uint8_t h[ENT_HDR_LEN];
	struct ehdr eh;
	uint64_t esize = ENT_HDR_LEN + slen + b->len;
	uint32_t c;
	int r;

	if (sp->open != NULL && sp->open->count > 0 &&
	    sp->open->size + esize + FTR_MAX_LEN > sp->seg_bytes)
		seg_roll(sp);
	if (sp->open == NULL && (r = seg_create(sp)) != 0)
		return r;
	seg = sp->open;
	memset(h, 0, sizeof(h));
	memcpy(h, ent_magic, 4);
	le_put32(h + 4, (uint32_t)b->len);
	le_put64(h + 8, b->seq);
	le_put64(h + 16, wall);
	le_put32(h + 24, b->nrecords);
	h[28] = (uint8_t)slen;
	le_put32(h + 32, fsutil_crc32(0, h, 32));
	c = fsutil_crc32(0, b->stream, slen);
	c = fsutil_crc32(c, b->data, b->len);
	le_put32(h + 36, c);
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)(uintptr_t)b->stream;
	iov[1].iov_len = slen;
	iov[2].iov_base = b->data;
	iov[2].iov_len = b->len;
	if ((r = write_at(sp, seg->fd, iov, 3, seg->size, esize)) != 0) {
		/* Leave no partial entry behind. */
		if (ftruncate(seg->fd, (off_t)seg->size) != 0)
			seg_roll(sp);
		return r;
	}
	memset(&eh, 0, sizeof(eh));
	eh.seq = b->seq;
	eh.wall = wall;
	eh.nrec = b->nrecords;
	eh.len = (uint32_t)b->len;
	memcpy(eh.stream, b->stream, slen);
	seg_account(seg, &eh, wall);
	seg->size += esize;
	seg->end = seg->size;
	seg->data_dirty = 1;
	sp->used += esize;
	return 0;
}

/*
 * With report, a batch that cannot be stored is reported as a gap; the
 * caller of spool_append_kept keeps its data and tries again instead.
 */
static int
append_batch(struct spool *sp, const struct batch *b, int report)
{
	uint64_t wall = spool_clock_ms(), esize;
	size_t slen;
	int r;

	slen = strnlen(b->stream, sizeof(b->stream));
	if (!batch_stream_ok(b->stream, slen)) {
		if (report)
			gap_one(sp, SPOOL_GAP_IO, b->seq, "?", b->nrecords);
		return -EINVAL;
	}
	esize = ENT_HDR_LEN + slen + b->len;
	if (b->len > SPOOL_DATA_MAX_BYTES ||
	    esize + SEG_HDR_LEN + FTR_MAX_LEN > sp->conf.quota_bytes) {
		if (report)
			gap_one(sp, SPOOL_GAP_REFUSED, b->seq, b->stream,
			    b->nrecords);
		return -EFBIG;
	}
	expire(sp);
	/* Room for the entry, a new segment's header and the footer. */
	if (sp->used + esize + SEG_HDR_LEN + FTR_MAX_LEN >
	    sp->conf.quota_bytes) {
		if (sp->conf.full_policy == SPOOL_REFUSE_NEWEST) {
			if (report)
				gap_one(sp, SPOOL_GAP_REFUSED, b->seq,
				    b->stream, b->nrecords);
			return -ENOSPC;
		}
		quota_fit(sp, esize + SEG_HDR_LEN + FTR_MAX_LEN);
	}
	for (;;) {
		r = entry_write(sp, b, slen, wall);
		if (r == 0)
			break;
		if (r != -ENOSPC && r != -EDQUOT) {
			ev_file(sp, SPOOL_EV_IO_ERROR, SPOOL_BAD_NONE, -r,
			    NULL, 0, 0, NULL);
			if (report)
				gap_one(sp, SPOOL_GAP_IO, b->seq, b->stream,
				    b->nrecords);
			return r;
		}
		if (!sp->disk_full) {
			sp->disk_full = 1;
			ev_file(sp, SPOOL_EV_DISK_FULL, SPOOL_BAD_NONE, -r,
			    NULL, 0, 0, NULL);
		}
		/* Make room by dropping the oldest, while there is any. */
		if (sp->conf.full_policy == SPOOL_DROP_OLDEST &&
		    sp->nsegs > 0 && !(sp->nsegs == 1 &&
		    sp->segs[0] == sp->open && sp->open->count == 0)) {
			seg_drop(sp, sp->segs[0], SPOOL_GAP_DISK_FULL);
			continue;
		}
		if (report)
			gap_one(sp, SPOOL_GAP_DISK_FULL, b->seq, b->stream,
			    b->nrecords);
		return -ENOSPC;
	}
	if (sp->disk_full && disk_has_room(sp)) {
		sp->disk_full = 0;
		ev_file(sp, SPOOL_EV_DISK_OK, SPOOL_BAD_NONE, 0, NULL, 0, 0,
		    NULL);
	}
	sp->st.appended_batches++;
	sp->st.appended_records += b->nrecords;
	return 0;
}

int
spool_append(struct spool *sp, const struct batch *b)
{
	return append_batch(sp, b, 1);
}

int
spool_append_kept(struct spool *sp, const struct batch *b)
{
	return append_batch(sp, b, 0);
}


int
spool_sync(struct spool *sp)
{
	struct seg *seg;
	size_t i;
	int r = 0;

	expire(sp);
	for (i = 0; i < sp->nsegs; i++) {
		seg = sp->segs[i];
		if (seg->data_dirty && seg->fd >= 0) {
			if (spool_fdatasync(seg->fd) != 0) {
				if (r == 0)
					r = -errno;
				/*
				 * The kernel may have dropped the pages it
				 * failed to write: append elsewhere.
				 */
				if (seg == sp->open)
					sp->open = NULL;
			} else
				seg->data_dirty = 0;
		}
		if (seg != sp->open && seg->fd >= 0 && !seg->data_dirty) {
			(void)close(seg->fd);
			seg->fd = -1;
		}
		if (seg->ack_dirty && seg->ack_fd >= 0) {
			if (spool_fdatasync(seg->ack_fd) != 0) {
				if (r == 0)
					r = -errno;
			} else
				seg->ack_dirty = 0;
		}
	}
	if (sp->dir_dirty) {
		if (sp->qdirfd >= 0)
			(void)fsync(sp->qdirfd);
		if (fsync(sp->dirfd) != 0) {
			if (r == 0)
				r = -errno;
		} else
			sp->dir_dirty = 0;
	}
	sp->st.syncs++;
	if (r != 0) {
		sp->st.sync_errors++;
		ev_file(sp, SPOOL_EV_IO_ERROR, SPOOL_BAD_NONE, -r, NULL, 0, 0,
		    NULL);
	}
	return r;
}

/* ---- reading ---- */

void
spool_rewind(struct spool *sp)
{
	size_t i;

	sp->nout = 0;
	for (i = 0; i < sp->nsegs; i++)
		sp->segs[i]->nout = 0;
	if (sp->open != NULL) {
		sp->bound.id = sp->open->id;
		sp->bound.off = sp->open->end;
		sp->bound_count = sp->open->count;
		sp->bound_records = sp->open->records;
		sp->bound_bytes = sp->open->bytes;
	} else {
		sp->bound.id = sp->next_id;
		sp->bound.off = 0;
		sp->bound_count = 0;
		sp->bound_records = 0;
		sp->bound_bytes = 0;
	}
	sp->live = sp->bound;
	sp->back.id = 0;
	sp->back.off = 0;
}

static int
out_add(struct spool *sp, const struct outst *o)
{
	struct outst *n;
	size_t cap;

	if (sp->nout == sp->out_cap) {
		cap = sp->out_cap ? sp->out_cap * 2 : 32;
		if ((n = reallocarray(sp->out, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		sp->out = n;
		sp->out_cap = cap;
	}
	sp->out[sp->nout++] = *o;
	return 0;
}

/*
 * Reads the body of a checked header into a new entry, verifying its crc.
 * Returns 1 with *ep, 0 if the body is bad, or -errno.
 */
static int
entry_load(int fd, uint64_t off, const struct ehdr *h,
    struct spool_entry **ep)
{
	struct spool_entry *e;
	uint32_t c;
	ssize_t n;

	*ep = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -ENOMEM;
	if ((e->data = malloc((size_t)h->len + 1)) == NULL) {
		free(e);
		return -ENOMEM;
	}
	n = fsutil_pread_full(fd, e->data, h->len, off + ENT_HDR_LEN + h->slen);
	if (n < 0 || (size_t)n != h->len) {
		spool_entry_free(e);
		return n < 0 ? (int)n : 0;
	}
	c = fsutil_crc32(0, h->stream, h->slen);
	c = fsutil_crc32(c, e->data, h->len);
	if (c != h->bcrc) {
		spool_entry_free(e);
		return 0;
	}
	e->data[h->len] = '\0';
	e->len = h->len;
	e->seq = h->seq;
	e->nrecords = h->nrec;
	e->wall_ms = h->wall;
	memcpy(e->stream, h->stream, (size_t)h->slen + 1);
	*ep = e;
	return 1;
}

/* One cursor step loop: see spool_next. */
static int
cur_next(struct spool *sp, struct pos *c, int live, struct spool_entry **ep)
{
	const struct range *bad;
	struct spool_entry *e;
	struct outst o;
	struct ehdr h;
	struct seg *seg;
	uint64_t next, eoff;
	int fd, v, r;

	for (;;) {
		if ((seg = seg_find_ge(sp, c->id)) == NULL)
			return 0;
		if (seg->id != c->id) {
			c->id = seg->id;
			c->off = SEG_HDR_LEN;
		}
		if (c->off < SEG_HDR_LEN)
			c->off = SEG_HDR_LEN;
		if (!live && pos_cmp(c->id, c->off, sp->bound.id,
		    sp->bound.off) >= 0)
			return 0;
		if (c->off >= seg->end) {
			if (seg == sp->open)
				return 0;
			c->id = seg->id + 1;
			c->off = 0;
			seg_maybe_delete(sp, seg);
			continue;
		}
		if ((bad = range_at(seg, c->off)) != NULL) {
			c->off = bad->end;
			continue;
		}
		if ((fd = seg_rfd(sp, seg)) < 0)
			return fd;
		eoff = c->off;
		if ((v = entry_at(sp, fd, eoff, seg->end, &h, 0)) < 0)
			return v;
		if (v == V_OK) {
			c->off += ent_size(&h);
			if (acked_has(seg, eoff))
				continue;
			if ((r = entry_load(fd, eoff, &h, &e)) < 0)
				return r;
			if (r == 0) {
				/* Stored once intact, damaged since. */
				quarantine_range(sp, seg, fd, eoff,
				    ent_size(&h), SPOOL_BAD_ENTRY_BODY);
				gap_one(sp, SPOOL_GAP_CORRUPT, h.seq, h.stream,
				    h.nrec);
				if (acked_add(seg, (uint32_t)eoff, h.nrec,
				    h.len) == 0)
					(void)ack_write(sp, seg, h.seq,
					    (uint32_t)eoff, h.nrec, h.len);
				continue;
			}
			o.seq = h.seq;
			o.seg_id = seg->id;
			o.off = (uint32_t)eoff;
			o.nrec = h.nrec;
			o.len = h.len;
			if ((r = out_add(sp, &o)) != 0) {
				spool_entry_free(e);
				c->off = eoff;
				return r;
			}
			seg->nout++;
			e->backlog = !live;
			*ep = e;
			return 1;
		}
		if ((r = resync(sp, fd, eoff + 1, seg->end, &next)) < 0)
			return r;
		quarantine_range(sp, seg, fd, eoff, next - eoff,
		    verdict_cause(v));
		c->off = next;
	}
}

int
spool_next(struct spool *sp, int which, struct spool_entry **ep)
{
	int r = 0;

	*ep = NULL;
	if (sp->nout >= sp->conf.outstanding_max)
		return -ENOBUFS;
	if (which & SPOOL_NEXT_LIVE)
		r = cur_next(sp, &sp->live, 1, ep);
	if (r == 0 && (which & SPOOL_NEXT_BACKLOG))
		r = cur_next(sp, &sp->back, 0, ep);
	return r;
}

void
spool_entry_free(struct spool_entry *e)
{
	if (e == NULL)
		return;
	free(e->data);
	free(e);
}

int
spool_ack(struct spool *sp, uint64_t seq)
{
	struct outst o;
	struct seg *seg;
	size_t i;
	int r = 0;

	for (i = 0; i < sp->nout; i++)
		if (sp->out[i].seq == seq)
			break;
	if (i == sp->nout)
		return -ENOENT;
	o = sp->out[i];
	sp->out[i] = sp->out[--sp->nout];
	sp->st.acked_batches++;
	sp->st.acked_records += o.nrec;
	sp->st.acked_bytes += o.len;
	/* Its segment may have been dropped meanwhile. */
	if ((seg = seg_find(sp, o.seg_id)) == NULL)
		return 0;
	seg->nout--;
	if (acked_add(seg, o.off, o.nrec, o.len) == 0) {
		r = ack_write(sp, seg, o.seq, o.off, o.nrec, o.len);
		if (r != 0)
			ev_file(sp, SPOOL_EV_IO_ERROR, SPOOL_BAD_NONE, -r,
			    NULL, 0, 0, NULL);
	}
	seg_maybe_delete(sp, seg);
	return r;
}

int
spool_has_seq(struct spool *sp, uint64_t seq)
{
	const struct range *bad;
	struct seg *seg;
	struct ehdr h;
	uint64_t off, next;
	size_t i;
	int fd, v, r;

	for (i = sp->nsegs; i-- > 0;) {
		seg = sp->segs[i];
		if (seg->count == 0 || seq < seg->min_seq || seq > seg->max_seq)
			continue;
		if ((fd = seg_rfd(sp, seg)) < 0)
			return fd;
		for (off = SEG_HDR_LEN; off < seg->end;) {
			if ((bad = range_at(seg, off)) != NULL) {
				off = bad->end;
				continue;
			}
			if ((v = entry_at(sp, fd, off, seg->end, &h, 1)) < 0)
				return v;
			if (v == V_OK) {
				if (h.seq == seq)
					return 1;
				off += ent_size(&h);
				continue;
			}
			if ((r = resync(sp, fd, off + 1, seg->end, &next)) < 0)
				return r;
			off = next;
		}
	}
	/*
	 * Older than everything kept: acknowledged or dropped, unless what
	 * was found at open was damaged (then it may have been lost).
	 */
	for (i = 0; i < sp->nsegs; i++) {
		seg = sp->segs[i];
		if (seg->count > 0)
			return !sp->load_damaged && seq < seg->min_seq;
	}
	return 0;
}

int
spool_reclaim(struct spool *sp)
{
	if (sp->conf.full_policy != SPOOL_DROP_OLDEST || sp->nsegs == 0 ||
	    (sp->nsegs == 1 && sp->segs[0] == sp->open &&
	    sp->open->count == 0))
		return -ENOSPC;
	if (!sp->disk_full) {
		sp->disk_full = 1;
		ev_file(sp, SPOOL_EV_DISK_FULL, SPOOL_BAD_NONE, ENOSPC, NULL, 0,
		    0, NULL);
	}
	seg_drop(sp, sp->segs[0], SPOOL_GAP_DISK_FULL);
	return 0;
}

/* ---- reporting ---- */

int
spool_event_next(struct spool *sp, struct spool_event *ev)
{
	if (sp->ev_n == 0)
		return 0;
	*ev = sp->ev[sp->ev_head];
	sp->ev_head = (sp->ev_head + 1) % SPOOL_EVENTS_MAX;
	sp->ev_n--;
	return 1;
}

/*
 * The wall time of seg's oldest waiting entry: the first one not
 * acknowledged, found by walking entry headers past the acknowledged ones
 * from where the last walk stopped; each header is read once in the
 * segment's life.  Entries are appended in time order, so that is the
 * oldest.  Falls back to the segment's oldest entry of all (min_wall) when
 * the walk meets a damaged range or cannot read: too old rather than too
 * young.
 */
static uint64_t
seg_head_wall(struct spool *sp, struct seg *seg)
{
	const struct range *bad;
	struct ehdr h;
	int fd;

	if (seg->nacked == 0)
		return seg->min_wall;
	if (seg->head < SEG_HDR_LEN) {
		seg->head = SEG_HDR_LEN;
		seg->head_wall = 0;
	}
	while (seg->head_wall == 0 || acked_has(seg, seg->head)) {
		if ((bad = range_at(seg, seg->head)) != NULL) {
			seg->head = bad->end;
			seg->head_wall = 0;
			continue;
		}
		if (seg->head >= seg->end || (fd = seg_rfd(sp, seg)) < 0 ||
		    entry_at(sp, fd, seg->head, seg->end, &h, 0) != V_OK)
			return seg->min_wall;
		if (!acked_has(seg, seg->head)) {
			seg->head_wall = h.wall;
			break;
		}
		seg->head += ent_size(&h);
		seg->head_wall = 0;
	}
	return seg->head_wall;
}

void
spool_stats(struct spool *sp, struct spool_stats *st)
{
	struct seg *seg;
	uint64_t now = spool_clock_ms(), left, before, wall;
	size_t i;

	*st = sp->st;
	st->oldest_age_ms = -1;
	st->quota_bytes = sp->conf.quota_bytes;
	st->segment_bytes = sp->seg_bytes;
	st->segments = sp->nsegs;
	st->disk_bytes = sp->used;
	st->outstanding = sp->nout;
	st->disk_full = sp->disk_full;
	for (i = 0; i < sp->nsegs; i++) {
		seg = sp->segs[i];
		left = seg->count > seg->nacked ? seg->count - seg->nacked : 0;
		if (seg->count > 0 && seg->max_seq > st->max_seq)
			st->max_seq = seg->max_seq;
		st->batches += left;
		st->records += seg->records > seg->acked_records ?
		    seg->records - seg->acked_records : 0;
		st->bytes += seg->bytes > seg->acked_bytes ?
		    seg->bytes - seg->acked_bytes : 0;
		if (seg->id < sp->bound.id) {
			st->backlog_batches += left;
			st->backlog_records += seg->records >
			    seg->acked_records ? seg->records -
			    seg->acked_records : 0;
			st->backlog_bytes += seg->bytes > seg->acked_bytes ?
			    seg->bytes - seg->acked_bytes : 0;
		} else if (seg->id == sp->bound.id) {
			before = acked_before(seg, sp->bound.off);
			if (sp->bound_count > before) {
				/*
				 * Acks are kept per entry offset, not per
				 * size: the part of this segment before the
				 * boundary is reckoned pro rata.
				 */
				left = sp->bound_count - before;
				st->backlog_batches += left;
				st->backlog_records += sp->bound_records *
				    left / sp->bound_count;
				st->backlog_bytes += sp->bound_bytes * left /
				    sp->bound_count;
			}
		}
		if (left > 0 && st->oldest_age_ms < 0 &&
		    wall_sane(wall = seg_head_wall(sp, seg), now))
			st->oldest_age_ms = (int64_t)(now - wall);
	}
}

const char *
spool_cause_str(enum spool_cause c)
{
	switch (c) {
	case SPOOL_BAD_NONE:
		return "none";
	case SPOOL_BAD_SEG_HEADER:
		return "bad segment header";
	case SPOOL_BAD_ENTRY_HEADER:
		return "bad entry header";
	case SPOOL_BAD_ENTRY_BODY:
		return "entry checksum mismatch";
	case SPOOL_BAD_TORN:
		return "torn write";
	case SPOOL_BAD_GARBAGE:
		return "garbage";
	case SPOOL_BAD_FOOTER:
		return "bad segment footer";
	}
	return "unknown";
}

/* Each gap cause as a name (uplink gap events) and in words (logs). */
static const struct {
	const char	*name;
	const char	*words;
} gap_causes[] = {
	[SPOOL_GAP_QUOTA] =	{ "quota", "quota" },
	[SPOOL_GAP_AGE] =	{ "max_age", "max age" },
	[SPOOL_GAP_DISK_FULL] =	{ "disk_full", "disk full" },
	[SPOOL_GAP_REFUSED] =	{ "refused", "refused" },
	[SPOOL_GAP_CORRUPT] =	{ "corrupt", "corrupt" },
	[SPOOL_GAP_IO] =	{ "write_error", "write error" },
};

const char *
spool_gap_cause_name(enum spool_gap_cause c)
{
	if ((size_t)c >= sizeof(gap_causes) / sizeof(gap_causes[0]))
		return "unknown";
	return gap_causes[c].name;
}

const char *
spool_gap_cause_str(enum spool_gap_cause c)
{
	if ((size_t)c >= sizeof(gap_causes) / sizeof(gap_causes[0]))
		return "unknown";
	return gap_causes[c].words;
}
