/*
 * journal.c - the open-batch journal: keeps the records of open batches on
 * disk so that the durability window, not the batch age, bounds what a
 * power cut can take.  See journal.h for its place in the data flow.
 *
 * Why a journal: a batch stays open until it is full or batch.max_age_ms
 * (5 s by default) old, and only a sealed batch goes to the spool.  Sealing
 * every second instead would shrink batches (and multiply messages) on a
 * quiet farm.  So, every durability window, the daemon writes the records
 * that are still in open batches here; records whose batch sealed in the
 * meantime are already on their way to disk in the spool and are never
 * written here.  On a busy gateway batches fill within milliseconds and
 * the journal stays nearly idle; on a quiet one each record is written
 * about twice (journal, then spool), which is cheap at that rate.
 *
 * DIRECTORY: the spool's (STATE_DIR/spool), whose lock keeps a second
 * process away.
 *
 *	NNNNNNNNNNNNNNNN.jnl	journal file NNNN (16 lower-case hex digits,
 *				the file id, increasing); a new one when the
 *				current one passes JOURNAL_FILE_MAX_BYTES
 *	quarantine/NNNN.jnl	a damaged file, kept for a technician
 *
 * All integers are little-endian and decoded byte by byte; checksums are
 * zlib crc32, as in the spool.
 *
 * FILE HEADER, 20 bytes at offset 0:
 *	  0  8  magic "FBJRNL01"
 *	  8  8  file id (must match the name)
 *	 16  4  crc32 of bytes 0..15
 *
 * ITEMS, back to back after the header:
 *	  0  2  magic fb 4a
 *	  2  1  type: 1 RECORD, 2 RELEASE, 3 CHECKPOINT
 *	  3  1  zero
 *	  4  2  B, body length
 *	  6  2  zero
 *	  8  4  crc32 of bytes 0..7, continued over the body
 *	 12  B  body, whose length must be exactly the type's:
 *
 *	RECORD, an accepted record of an open batch, B = 56 + S + P:
 *	  0  8  jseq, increasing over all files
 *	  8  8  device EUI
 *	 16  4  frame counter
 *	 20  8  receive time, wall clock, seconds (two's complement)
 *	 28  4  nanoseconds, < 10^9
 *	 32  1  wall clock synchronised then: 0 or 1
 *	 33  1  modulation
 *	 34  4  frequency, Hz           38  4  data rate
 *	 42  4  bandwidth, Hz           46  2  RSSI, dBm (two's complement)
 *	 48  2  SNR, 0.1 dB (two's complement)
 *	 50  4  concentrator timestamp, us
 *	 54  1  S, stream name length, 1..63
 *	 55  1  P, payload length, 0..255
 *	 56  S  stream name (the one rule of batch_stream_ok, batch.h:
 *		printable ASCII, no space, '"', '\\', '/', '+', '#'), then P
 *		payload bytes
 *
 *	RELEASE, B = 18 + S: the stream's records up to a jseq are in the
 *	sealed batch seq:
 *	  0  8  jseq    8  8  batch seq
 *	 16  1  1: the spool stored the batch; 0: it was lost (already
 *		reported upstream as a gap)
 *	 17  1  S      18  S  stream name
 *
 *	CHECKPOINT, B = 8: written after a successful spool_sync.
 *	  0  8  checkpoint number
 *
 * COMMIT (every durability window, and at a clean stop):
 *	1. journal_write: the records of open batches not yet written;
 *	2. spool_sync: every batch appended so far is durable;
 *	3. journal_commit: a CHECKPOINT, then fdatasync (and the directory's
 *	   fsync after a file was created).
 * A RELEASE is written (write(2), no sync) as soon as its batch is
 * appended to the spool, so that after a crash of the process alone
 * (kill -9: the page cache survives) nothing is replayed twice.  After a
 * power cut it may have reached the disk without its batch: a RELEASE is
 * therefore trusted only if a CHECKPOINT follows it (its batch was synced
 * before the checkpoint was written), or it says "lost", or the spool
 * confirms it holds the batch (spool_has_seq).
 *
 * RECOVERY.  Files are read in id order.  A file with a bad header, or
 * bytes that are no valid item followed by valid items, is damaged: the
 * bad range is reported and skipped, and the file goes to quarantine/ once
 * the replay is safely in the spool.  Invalid bytes at the very end are a
 * torn last write: reported, dropped.  Per stream the largest trusted
 * RELEASE jseq is found, and every RECORD above it is replayed in jseq
 * order: the daemon batches them again (new batch seqs, same receive
 * times), seals, syncs the spool and deletes the old files.
 *
 * DELETION.  A file is deleted once it is not the current one, every file
 * before it is gone, and each of its records is released by a RELEASE
 * that a durable CHECKPOINT follows.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "daemon/fsutil.h"
#include "daemon/store/journal.h"
#include "daemon/store/le.h"

#define JF_HDR_LEN		20
#define JI_HDR_LEN		12
#define JI_RECORD		1
#define JI_RELEASE		2
#define JI_CHECKPOINT		3
#define JR_FIXED_LEN		56
#define JL_FIXED_LEN		18
#define JC_LEN			8
#define JI_BODY_MAX		(JR_FIXED_LEN + BATCH_STREAM_MAX + \
				    RADIO_PAYLOAD_MAX)
#define JI_MAX			(JI_HDR_LEN + JI_BODY_MAX)
#define JN_NAME_LEN		20	/* 16 hex + ".jnl" */
#define JN_STREAMS_MAX		1024

static const uint8_t jf_magic[8] = { 'F', 'B', 'J', 'R', 'N', 'L', '0', '1' };
static const uint8_t ji_magic[2] = { 0xfb, 0x4a };

/* A record of an open batch, copied. */
struct jrec {
	uint64_t		jseq;		/* 0: not written yet */
	uint64_t		file;		/* file it was written to */
	uint64_t		eui;
	uint32_t		fcnt;
	uint8_t			synced;
	uint8_t			len;
	struct timespec		rx_wall;
	struct radio_meta	meta;
	uint8_t			payload[RADIO_PAYLOAD_MAX];
};

struct jstream {
	char		 name[BATCH_STREAM_MAX + 1];
	struct jrec	*q;		/* ring: oldest at head */
	size_t		 cap, head, n;
	size_t		 nw;		/* the first nw are written */
	/* A release not yet written to disk. */
	int		 owed;
	uint64_t	 owed_jseq, owed_seq;
	int		 owed_stored;
};

struct jfile {
	uint64_t	id;
	uint64_t	nrec;		/* RECORD items in it */
	uint64_t	rel_owed;	/* released, RELEASE not written */
	uint64_t	rel_marked;	/* RELEASE written, no checkpoint yet */
	uint64_t	rel_done;	/* RELEASE under a durable checkpoint */
};

/* A file of the previous run, to remove after recovery. */
struct jold {
	uint64_t	id;
	int		damaged;
};

struct journal {
	int		 dirfd;
	int		 fd;		/* current file, -1: none */
	uint64_t	 fsize;		/* its size */
	struct jfile	*files;		/* this run's, in id order */
	size_t		 nfiles, files_cap;
	struct jold	*old;
	size_t		 nold;
	struct jstream	**streams;
	size_t		 nstreams, streams_cap, last;
	uint64_t	 next_id;
	uint64_t	 next_jseq;
	uint64_t	 ckpt;
	int		 data_dirty;
	int		 dir_dirty;
	uint8_t		*buf;
	size_t		 blen, bcap;
	struct journal_stats st;
};

/*
 * Indirections the unit test replaces (it includes this file) to make
 * writes fail.
 */
static ssize_t (*journal_pwrite)(int, const void *, size_t, off_t) = pwrite;
static int (*journal_fdatasync)(int) = fdatasync;

/* ---- the write buffer ---- */

static uint8_t *
buf_room(struct journal *jn, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (jn->bcap - jn->blen < n) {
		cap = jn->bcap ? jn->bcap : 4096;
		while (cap - jn->blen < n)
			cap *= 2;
		if ((p = realloc(jn->buf, cap)) == NULL)
			return NULL;
		jn->buf = p;
		jn->bcap = cap;
	}
	return jn->buf + jn->blen;
}

/* Appends one item (header + body) to the buffer. */
static int
item_put(struct journal *jn, int type, const uint8_t *body, size_t blen)
{
	uint8_t *p;
	uint32_t c;

	if ((p = buf_room(jn, JI_HDR_LEN + blen)) == NULL)
		return -ENOMEM;
	memcpy(p, ji_magic, 2);
	p[2] = (uint8_t)type;
	p[3] = 0;
	le_put16(p + 4, (uint16_t)blen);
	p[6] = p[7] = 0;
	c = fsutil_crc32(0, p, 8);
	c = fsutil_crc32(c, body, blen);
	le_put32(p + 8, c);
	memcpy(p + JI_HDR_LEN, body, blen);
	jn->blen += JI_HDR_LEN + blen;
	return 0;
}

static size_t
record_body(uint8_t *b, const struct jrec *r, const char *stream)
{
	size_t sl = strlen(stream);

	le_put64(b, r->jseq);
	le_put64(b + 8, r->eui);
	le_put32(b + 16, r->fcnt);
	le_put64(b + 20, (uint64_t)(int64_t)r->rx_wall.tv_sec);
	le_put32(b + 28, (uint32_t)r->rx_wall.tv_nsec);
	b[32] = r->synced;
	b[33] = r->meta.modulation;
	le_put32(b + 34, r->meta.freq_hz);
	le_put32(b + 38, r->meta.datarate);
	le_put32(b + 42, r->meta.bw_hz);
	le_put16(b + 46, (uint16_t)r->meta.rssi_dbm);
	le_put16(b + 48, (uint16_t)r->meta.snr_db10);
	le_put32(b + 50, r->meta.tmst_us);
	b[54] = (uint8_t)sl;
	b[55] = r->len;
	memcpy(b + JR_FIXED_LEN, stream, sl);
	memcpy(b + JR_FIXED_LEN + sl, r->payload, r->len);
	return JR_FIXED_LEN + sl + r->len;
}

/* ---- files ---- */

static int
files_push(struct journal *jn, uint64_t id)
{
	struct jfile *n;
	size_t cap;

	if (jn->nfiles == jn->files_cap) {
		cap = jn->files_cap ? jn->files_cap * 2 : 8;
		if ((n = reallocarray(jn->files, cap, sizeof(*n))) == NULL)
			return -ENOMEM;
		jn->files = n;
		jn->files_cap = cap;
	}
	memset(&jn->files[jn->nfiles], 0, sizeof(jn->files[0]));
	jn->files[jn->nfiles++].id = id;
	return 0;
}

static struct jfile *
file_find(struct journal *jn, uint64_t id)
{
	size_t i;

	/* Few files, the newest most often asked for. */
	for (i = jn->nfiles; i-- > 0;)
		if (jn->files[i].id == id)
			return &jn->files[i];
	return NULL;
}

static int
file_create(struct journal *jn)
{
	char name[JN_NAME_LEN + 1];
	uint8_t h[JF_HDR_LEN];
	int fd, r;

	fsutil_id_name(name, sizeof(name), jn->next_id, "jnl");
	fd = openat(jn->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return -errno;
	memcpy(h, jf_magic, 8);
	le_put64(h + 8, jn->next_id);
	le_put32(h + 16, fsutil_crc32(0, h, 16));
	if (journal_pwrite(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h)) {
		r = errno != 0 ? -errno : -ENOSPC;
		(void)close(fd);
		(void)unlinkat(jn->dirfd, name, 0);
		return r == 0 ? -ENOSPC : r;
	}
	if ((r = files_push(jn, jn->next_id)) != 0) {
		(void)close(fd);
		(void)unlinkat(jn->dirfd, name, 0);
		return r;
	}
	jn->next_id++;
	jn->fd = fd;
	jn->fsize = JF_HDR_LEN;
	jn->data_dirty = 1;
	jn->dir_dirty = 1;
	return 0;
}

/* Stops writing to the current file (made durable first). */
static int
file_close_current(struct journal *jn)
{
	int r = 0;

	if (jn->fd < 0)
		return 0;
	if (jn->data_dirty && journal_fdatasync(jn->fd) != 0)
		r = -errno;
	else
		jn->data_dirty = 0;
	(void)close(jn->fd);
	jn->fd = -1;
	return r;
}

/*
 * Writes the buffer at the end of the current file, starting one if
 * needed.  All or nothing: a short write is cut off again.
 */
static int
buf_write(struct journal *jn)
{
	ssize_t w;
	int r;

	if (jn->blen == 0)
		return 0;
	if (jn->fd >= 0 && jn->fsize >= JOURNAL_FILE_MAX_BYTES &&
	    (r = file_close_current(jn)) != 0)
		return r;
	if (jn->fd < 0 && (r = file_create(jn)) != 0)
		return r;
	errno = 0;
	w = journal_pwrite(jn->fd, jn->buf, jn->blen, (off_t)jn->fsize);
	if (w != (ssize_t)jn->blen) {
		r = w < 0 ? -errno : -ENOSPC;
		if (w > 0)
			(void)ftruncate(jn->fd, (off_t)jn->fsize);
		jn->st.write_errors++;
		return r;
	}
	jn->fsize += jn->blen;
	jn->st.bytes_written += jn->blen;
	jn->data_dirty = 1;
	return 0;
}

/* The id of the file the next write goes to (before buf_write). */
static uint64_t
next_file_id(const struct journal *jn)
{
	if (jn->fd >= 0 && jn->fsize < JOURNAL_FILE_MAX_BYTES)
		return jn->files[jn->nfiles - 1].id;
	return jn->next_id;
}

/* ---- streams ---- */

static struct jstream *
stream_get(struct journal *jn, const char *name, int create)
{
	struct jstream *s, **n;
	size_t i, cap;

	if (jn->last < jn->nstreams &&
	    strcmp(jn->streams[jn->last]->name, name) == 0)
		return jn->streams[jn->last];
	for (i = 0; i < jn->nstreams; i++)
		if (strcmp(jn->streams[i]->name, name) == 0) {
			jn->last = i;
			return jn->streams[i];
		}
	if (!create || strlen(name) > BATCH_STREAM_MAX ||
	    jn->nstreams == JN_STREAMS_MAX)
		return NULL;
	if (jn->nstreams == jn->streams_cap) {
		cap = jn->streams_cap ? jn->streams_cap * 2 : 8;
		if ((n = reallocarray(jn->streams, cap, sizeof(*n))) == NULL)
			return NULL;
		jn->streams = n;
		jn->streams_cap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	(void)snprintf(s->name, sizeof(s->name), "%s", name);
	jn->last = jn->nstreams;
	jn->streams[jn->nstreams++] = s;
	return s;
}

static struct jrec *
q_at(struct jstream *s, size_t i)
{
	return &s->q[(s->head + i) % s->cap];
}

static int
q_grow(struct jstream *s)
{
	struct jrec *n;
	size_t cap = s->cap ? s->cap * 2 : 64, i;

	if ((n = calloc(cap, sizeof(*n))) == NULL)
		return -ENOMEM;
	for (i = 0; i < s->n; i++)
		n[i] = *q_at(s, i);
	free(s->q);
	s->q = n;
	s->cap = cap;
	s->head = 0;
	return 0;
}

/* ---- writing ---- */

/*
 * Puts the owed RELEASE items in the buffer; returns how many.  The
 * per-file counts move from owed to marked only once they are written.
 */
static int
owed_put(struct journal *jn, int *n)
{
	uint8_t body[JL_FIXED_LEN + BATCH_STREAM_MAX];
	struct jstream *s;
	size_t i, sl;
	int r;

	*n = 0;
	for (i = 0; i < jn->nstreams; i++) {
		s = jn->streams[i];
		if (!s->owed)
			continue;
		sl = strlen(s->name);
		le_put64(body, s->owed_jseq);
		le_put64(body + 8, s->owed_seq);
		body[16] = s->owed_stored ? 1 : 0;
		body[17] = (uint8_t)sl;
		memcpy(body + JL_FIXED_LEN, s->name, sl);
		if ((r = item_put(jn, JI_RELEASE, body, JL_FIXED_LEN + sl))
		    != 0)
			return r;
		(*n)++;
	}
	return 0;
}

static void
owed_written(struct journal *jn)
{
	size_t i;

	for (i = 0; i < jn->nstreams; i++)
		jn->streams[i]->owed = 0;
	for (i = 0; i < jn->nfiles; i++) {
		jn->files[i].rel_marked += jn->files[i].rel_owed;
		jn->files[i].rel_owed = 0;
	}
	jn->st.releases++;
}

/* Writes the owed releases, and with records the unwritten records. */
static int
flush(struct journal *jn, int records)
{
	uint8_t body[JI_BODY_MAX];
	struct jstream *s;
	struct jfile *f;
	uint64_t jseq = jn->next_jseq, fid, nrec = 0;
	size_t i, k, bl;
	int r, nrel;

	jn->blen = 0;
	if ((r = owed_put(jn, &nrel)) != 0)
		return r;
	fid = next_file_id(jn);
	for (i = 0; records && i < jn->nstreams; i++) {
		s = jn->streams[i];
		for (k = s->nw; k < s->n; k++) {
			q_at(s, k)->jseq = jseq++;
			bl = record_body(body, q_at(s, k), s->name);
			if ((r = item_put(jn, JI_RECORD, body, bl)) != 0)
				goto undo;
			nrec++;
		}
	}
	if (jn->blen == 0)
		return 0;
	if ((r = buf_write(jn)) != 0)
		goto undo;
	/* buf_write may have started the file fid names. */
	if (nrec > 0) {
		if ((f = file_find(jn, fid)) == NULL) {
			r = -EIO;	/* cannot happen */
			goto undo;
		}
		f->nrec += nrec;
		for (i = 0; i < jn->nstreams; i++) {
			s = jn->streams[i];
			for (k = s->nw; k < s->n; k++)
				q_at(s, k)->file = fid;
			s->nw = s->n;
		}
		jn->next_jseq = jseq;
		jn->st.records_written += nrec;
	}
	if (nrel > 0)
		owed_written(jn);
	return 0;
undo:
	for (i = 0; records && i < jn->nstreams; i++) {
		s = jn->streams[i];
		for (k = s->nw; k < s->n; k++)
			q_at(s, k)->jseq = 0;
	}
	return r;
}

int
journal_write(struct journal *jn)
{
	return flush(jn, 1);
}

/* Deletes this run's files from the oldest while they are all done. */
static void
files_prune(struct journal *jn)
{
	char name[JN_NAME_LEN + 1];
	struct jfile *f;
	int current;

	while (jn->nfiles > 0) {
		f = &jn->files[0];
		current = jn->fd >= 0 && jn->nfiles == 1;
		if (f->rel_done < f->nrec || f->rel_owed > 0 ||
		    f->rel_marked > 0)
			break;
		if (current) {
			/* Start afresh only once it has grown a bit: a
			 * file per commit would cost a create, an unlink
			 * and a directory sync every second. */
			if (jn->fsize < JOURNAL_FILE_MAX_BYTES / 16)
				break;
			(void)close(jn->fd);
			jn->fd = -1;
			jn->data_dirty = 0;
		}
		fsutil_id_name(name, sizeof(name), f->id, "jnl");
		(void)unlinkat(jn->dirfd, name, 0);
		jn->dir_dirty = 1;
		memmove(jn->files, jn->files + 1,
		    (jn->nfiles - 1) * sizeof(*jn->files));
		jn->nfiles--;
	}
}

int
journal_commit(struct journal *jn, int spool_ok)
{
	uint8_t body[JC_LEN];
	size_t i;
	int r, ckpt = 0, marked = 0;

	/* Releases not written yet (an earlier write failed). */
	if ((r = flush(jn, 0)) != 0)
		return r;
	for (i = 0; i < jn->nfiles; i++)
		if (jn->files[i].rel_marked > 0)
			marked = 1;
	if (spool_ok && marked) {
		jn->blen = 0;
		le_put64(body, ++jn->ckpt);
		if ((r = item_put(jn, JI_CHECKPOINT, body, sizeof(body))) != 0
		    || (r = buf_write(jn)) != 0)
			return r;
		ckpt = 1;
	}
	if (jn->fd >= 0 && jn->data_dirty) {
		if (journal_fdatasync(jn->fd) != 0) {
			jn->st.write_errors++;
			return -errno;
		}
		jn->data_dirty = 0;
	}
	if (jn->dir_dirty) {
		if (fsync(jn->dirfd) != 0)
			return -errno;
		jn->dir_dirty = 0;
	}
	if (ckpt) {
		for (i = 0; i < jn->nfiles; i++) {
			jn->files[i].rel_done += jn->files[i].rel_marked;
			jn->files[i].rel_marked = 0;
		}
		jn->st.commits++;
	}
	files_prune(jn);
	return 0;
}


/* ---- the mirror of open batches ---- */

int
journal_add(struct journal *jn, const struct record *r)
{
	struct jstream *s;
	struct jrec *e;
	int rc;

	if (r->stream == NULL || r->len > RADIO_PAYLOAD_MAX ||
	    !batch_stream_ok(r->stream, strlen(r->stream)))
		return -EINVAL;
	if ((s = stream_get(jn, r->stream, 1)) == NULL)
		return -ENOMEM;
	if (s->n == s->cap && (rc = q_grow(s)) != 0)
		return rc;
	e = q_at(s, s->n);
	e->jseq = 0;
	e->file = 0;
	e->eui = r->eui;
	e->fcnt = r->fcnt;
	e->synced = r->clock_synced ? 1 : 0;
	e->rx_wall = r->rx_wall;
	e->meta = r->meta;
	e->len = (uint8_t)r->len;
	if (r->len > 0)
		memcpy(e->payload, r->payload, r->len);
	s->n++;
	return 0;
}

void
journal_unadd(struct journal *jn, const char *stream)
{
	struct jstream *s;

	if ((s = stream_get(jn, stream, 0)) != NULL && s->n > s->nw)
		s->n--;
}

int
journal_sealed(struct journal *jn, const struct batch *b, int stored)
{
	struct jstream *s;
	struct jrec *e;
	struct jfile *f;
	size_t skip = 0, k, take;
	uint64_t last = 0;

	if ((s = stream_get(jn, b->stream, 0)) == NULL || s->n == 0)
		return 0;
	/*
	 * The batch holds the oldest records of its stream, unless a batch
	 * before it was lost (no sequence number): find where it starts.
	 * Batches the journal never saw (the start-up replay) match
	 * nothing and release nothing.
	 */
	if (b->first_known) {
		for (skip = 0; skip < s->n; skip++) {
			e = q_at(s, skip);
			if (e->eui == b->first_eui && e->fcnt == b->first_fcnt)
				break;
		}
		if (skip == s->n)
			return 0;
	}
	take = skip + b->nrecords;
	if (take > s->n)
		take = s->n;
	for (k = 0; k < take; k++) {
		e = q_at(s, k);
		if (e->jseq == 0)
			continue;
		last = e->jseq;
		if ((f = file_find(jn, e->file)) != NULL)
			f->rel_owed++;
	}
	if (last != 0) {
		s->owed = 1;
		s->owed_jseq = last;
		s->owed_seq = b->seq;
		s->owed_stored = stored;
	}
	s->head = (s->head + take) % (s->cap ? s->cap : 1);
	s->n -= take;
	s->nw = s->nw > take ? s->nw - take : 0;
	if (last == 0)
		return 0;
	/* Now, so that a crash of the process alone replays nothing twice. */
	return flush(jn, 0);
}

/* ---- recovery ---- */

struct rel {
	char		stream[BATCH_STREAM_MAX + 1];
	uint64_t	jseq;
	uint64_t	seq;
	uint64_t	order;
	int		stored;
};

struct rec {
	struct jrec	r;
	char		stream[BATCH_STREAM_MAX + 1];
};

struct recov {
	struct rel	*rels;
	size_t		 nrels, rels_cap;
	struct rec	*recs;
	size_t		 nrecs, recs_cap;
	uint64_t	 order;		/* items seen so far */
	uint64_t	 ckpt_order;	/* order of the last checkpoint + 1 */
	uint64_t	 max_jseq;
};

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *np;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 64;
	if ((np = reallocarray(*p, c, size)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

/*
 * Checks the item at p (n bytes available).  Returns its total length,
 * 0 if it is not a valid item, or -ENOMEM.  With rv, keeps what it says.
 */
static long
item_parse(const uint8_t *p, size_t n, struct recov *rv)
{
	const uint8_t *b;
	struct rec *rc;
	struct rel *rl;
	size_t blen, sl;
	uint32_t c;

	if (n < JI_HDR_LEN || memcmp(p, ji_magic, 2) != 0 || p[3] != 0 ||
	    p[6] != 0 || p[7] != 0)
		return 0;
	blen = le_get16(p + 4);
	if (blen > JI_BODY_MAX || n - JI_HDR_LEN < blen)
		return 0;
	c = fsutil_crc32(0, p, 8);
	c = fsutil_crc32(c, p + JI_HDR_LEN, blen);
	if (c != le_get32(p + 8))
		return 0;
	b = p + JI_HDR_LEN;
	switch (p[2]) {
	case JI_RECORD:
		if (blen < JR_FIXED_LEN)
			return 0;
		sl = b[54];
		if (blen != JR_FIXED_LEN + sl + b[55] ||
		    !batch_stream_ok((const char *)b + JR_FIXED_LEN, sl) ||
		    b[32] > 1 ||
		    le_get32(b + 28) >= 1000000000u || le_get64(b) == 0)
			return 0;
		if (rv == NULL)
			break;
		if (grow((void **)&rv->recs, &rv->recs_cap, rv->nrecs,
		    sizeof(*rv->recs)) != 0)
			return -ENOMEM;
		rc = &rv->recs[rv->nrecs++];
		memset(rc, 0, sizeof(*rc));
		rc->r.jseq = le_get64(b);
		rc->r.eui = le_get64(b + 8);
		rc->r.fcnt = le_get32(b + 16);
		rc->r.rx_wall.tv_sec = (time_t)(int64_t)le_get64(b + 20);
		rc->r.rx_wall.tv_nsec = (long)le_get32(b + 28);
		rc->r.synced = b[32];
		rc->r.meta.modulation = b[33];
		rc->r.meta.freq_hz = le_get32(b + 34);
		rc->r.meta.datarate = le_get32(b + 38);
		rc->r.meta.bw_hz = le_get32(b + 42);
		rc->r.meta.rssi_dbm = (int16_t)le_get16(b + 46);
		rc->r.meta.snr_db10 = (int16_t)le_get16(b + 48);
		rc->r.meta.tmst_us = le_get32(b + 50);
		rc->r.len = b[55];
		memcpy(rc->stream, b + JR_FIXED_LEN, sl);
		memcpy(rc->r.payload, b + JR_FIXED_LEN + sl, b[55]);
		if (rc->r.jseq > rv->max_jseq)
			rv->max_jseq = rc->r.jseq;
		break;
	case JI_RELEASE:
		if (blen < JL_FIXED_LEN)
			return 0;
		sl = b[17];
		if (blen != JL_FIXED_LEN + sl || b[16] > 1 ||
		    !batch_stream_ok((const char *)b + JL_FIXED_LEN, sl))
			return 0;
		if (rv == NULL)
			break;
		if (grow((void **)&rv->rels, &rv->rels_cap, rv->nrels,
		    sizeof(*rv->rels)) != 0)
			return -ENOMEM;
		rl = &rv->rels[rv->nrels++];
		memset(rl, 0, sizeof(*rl));
		memcpy(rl->stream, b + JL_FIXED_LEN, sl);
		rl->jseq = le_get64(b);
		rl->seq = le_get64(b + 8);
		rl->stored = b[16];
		rl->order = rv->order;
		break;
	case JI_CHECKPOINT:
		if (blen != JC_LEN)
			return 0;
		if (rv != NULL)
			rv->ckpt_order = rv->order + 1;
		break;
	default:
		return 0;
	}
	if (rv != NULL)
		rv->order++;
	return (long)(JI_HDR_LEN + blen);
}

/*
 * Parses one file's bytes.  Returns 0, or 1 if the file is damaged (bad
 * bytes with valid items after them, or a bad header), or -ENOMEM.  Bad
 * ranges go to bad().
 */
static int
file_parse(const uint8_t *p, size_t n, uint64_t id, const char *name,
    struct recov *rv, journal_bad_fn *bad, void *arg)
{
	size_t off, next;
	long l;
	int damaged = 0;

	if (n < JF_HDR_LEN || memcmp(p, jf_magic, 8) != 0 ||
	    le_get64(p + 8) != id ||
	    fsutil_crc32(0, p, 16) != le_get32(p + 16)) {
		if (n == 0)
			return 0;	/* created, nothing reached the disk */
		off = 0;
		damaged = 1;
		if (bad != NULL)
			bad(arg, name, 0, n < JF_HDR_LEN ? n : JF_HDR_LEN,
			    "bad journal file header");
		off = n < JF_HDR_LEN ? n : JF_HDR_LEN;
	} else
		off = JF_HDR_LEN;
	while (off < n) {
		if ((l = item_parse(p + off, n - off, rv)) < 0)
			return (int)l;
		if (l > 0) {
			off += (size_t)l;
			continue;
		}
		/* Find the next valid item; the magic narrows the search. */
		for (next = off + 1; next < n; next++) {
			if (p[next] != ji_magic[0])
				continue;
			if (item_parse(p + next, n - next, NULL) > 0)
				break;
		}
		if (next < n) {
			damaged = 1;
			if (bad != NULL)
				bad(arg, name, off, next - off,
				    "damaged journal item");
		} else if (bad != NULL)
			bad(arg, name, off, n - off, "torn last write");
		off = next;
	}
	return damaged;
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct jold *)a)->id;
	uint64_t y = ((const struct jold *)b)->id;

	return x < y ? -1 : x > y;
}

static int
list_old(struct journal *jn)
{
	struct dirent *de;
	size_t cap = 0;
	uint64_t id;
	DIR *d;
	int dfd, r = 0;

	if ((dfd = dup(jn->dirfd)) < 0)
		return -errno;
	if ((d = fdopendir(dfd)) == NULL) {
		r = -errno;
		(void)close(dfd);
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!fsutil_id_parse(de->d_name, "jnl", &id))
			continue;
		if ((r = grow((void **)&jn->old, &cap, jn->nold,
		    sizeof(*jn->old))) != 0)
			break;
		jn->old[jn->nold].id = id;
		jn->old[jn->nold++].damaged = 0;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	(void)closedir(d);
	if (r == 0 && jn->nold > 1)
		qsort(jn->old, jn->nold, sizeof(*jn->old), id_cmp);
	return r;
}

static int
read_file(struct journal *jn, const char *name, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t n;
	int fd, r = 0;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = openat(jn->dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size > JOURNAL_READ_MAX_BYTES) {
		r = -EFBIG;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((n = fsutil_pread_full(fd, buf, (size_t)st.st_size, 0)) < 0) {
		r = (int)n;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
out:
	free(buf);
	(void)close(fd);
	return r;
}

static int
readd(struct journal *jn, const struct rec *rc)
{
	struct jstream *s;
	int r;

	if ((s = stream_get(jn, rc->stream, 1)) == NULL)
		return -ENOMEM;
	if (s->n == s->cap && (r = q_grow(s)) != 0)
		return r;
	*q_at(s, s->n) = rc->r;
	q_at(s, s->n)->file = 0;	/* a previous run's file */
	s->n++;
	s->nw = s->n;
	return 0;
}

int
journal_recover(struct journal *jn, journal_verify_fn *verify,
    journal_bad_fn *bad, journal_replay_fn *replay, void *arg)
{
	struct recov rv;
	struct record r;
	char name[JN_NAME_LEN + 1], (*snames)[BATCH_STREAM_MAX + 1] = NULL;
	uint64_t *upto = NULL, *nup;
	uint8_t *buf;
	size_t len, i, k, ns = 0, scap = 0;
	int rc, n = 0, trusted;

	memset(&rv, 0, sizeof(rv));
	if ((rc = list_old(jn)) != 0)
		return rc;
	for (i = 0; i < jn->nold; i++) {
		fsutil_id_name(name, sizeof(name), jn->old[i].id, "jnl");
		if (jn->old[i].id >= jn->next_id)
			jn->next_id = jn->old[i].id + 1;
		rc = read_file(jn, name, &buf, &len);
		if (rc == -EFBIG) {
			jn->old[i].damaged = 1;
			if (bad != NULL)
				bad(arg, name, 0, 0, "journal file too large");
			continue;
		}
		if (rc != 0)
			goto out;
		rc = file_parse(buf, len, jn->old[i].id, name, &rv, bad, arg);
		free(buf);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			jn->old[i].damaged = 1;
			jn->st.bad_ranges++;
		}
	}
	jn->next_jseq = rv.max_jseq + 1;
	/* Per stream, the largest trusted release. */
	for (i = 0; i < rv.nrels; i++) {
		trusted = rv.rels[i].order < rv.ckpt_order ||
		    !rv.rels[i].stored ||
		    (verify != NULL && verify(arg, rv.rels[i].seq) == 1);
		if (!trusted)
			continue;
		for (k = 0; k < ns; k++)
			if (strcmp(snames[k], rv.rels[i].stream) == 0)
				break;
		if (k == ns) {
			if ((rc = grow((void **)&snames, &scap, ns,
			    sizeof(*snames))) != 0)
				goto out;
			if ((nup = reallocarray(upto, scap, sizeof(*upto))) ==
			    NULL) {
				rc = -ENOMEM;
				goto out;
			}
			upto = nup;
			memcpy(snames[ns], rv.rels[i].stream,
			    sizeof(snames[0]));
			upto[ns++] = 0;
		}
		if (rv.rels[i].jseq > upto[k])
			upto[k] = rv.rels[i].jseq;
	}
	/* Records are in jseq order already (files, then offsets). */
	for (i = 0; i < rv.nrecs; i++) {
		struct rec *rc2 = &rv.recs[i];

		for (k = 0; k < ns; k++)
			if (strcmp(snames[k], rc2->stream) == 0)
				break;
		if (k < ns && rc2->r.jseq <= upto[k])
			continue;
		/*
		 * Back into the mirror as already written: the batches they
		 * go into release them like any other, so a crash before
		 * journal_recovered does not replay them a second time.
		 */
		if ((rc = readd(jn, rc2)) != 0)
			goto out;
		memset(&r, 0, sizeof(r));
		r.eui = rc2->r.eui;
		r.fcnt = rc2->r.fcnt;
		r.stream = rc2->stream;
		r.rx_wall = rc2->r.rx_wall;
		r.clock_synced = rc2->r.synced;
		r.meta = rc2->r.meta;
		r.payload = rc2->r.payload;
		r.len = rc2->r.len;
		if (replay != NULL)
			replay(arg, &r);
		n++;
	}
	jn->st.replayed += (uint64_t)n;
	rc = n;
out:
	free(rv.rels);
	free(rv.recs);
	free(snames);
	free(upto);
	return rc;
}

int
journal_recovered(struct journal *jn)
{
	char name[JN_NAME_LEN + 1];
	int qfd = -1, r = 0;
	size_t i;

	for (i = 0; i < jn->nold; i++) {
		fsutil_id_name(name, sizeof(name), jn->old[i].id, "jnl");
		if (jn->old[i].damaged) {
			if (qfd < 0)
				qfd = fsutil_quarantine_open(jn->dirfd);
			if (qfd >= 0 && renameat(jn->dirfd, name, qfd, name)
			    == 0)
				continue;
		}
		if (unlinkat(jn->dirfd, name, 0) != 0 && errno != ENOENT &&
		    r == 0)
			r = -errno;
	}
	if (qfd >= 0) {
		(void)fsync(qfd);
		(void)close(qfd);
	}
	jn->nold = 0;
	if (fsync(jn->dirfd) != 0 && r == 0)
		r = -errno;
	return r;
}

/* ---- life ---- */

int
journal_open(const char *dir, struct journal **jp)
{
	struct journal *jn;
	int r;

	*jp = NULL;
	if ((jn = calloc(1, sizeof(*jn))) == NULL)
		return -ENOMEM;
	jn->fd = -1;
	jn->next_id = 1;
	jn->next_jseq = 1;
	if ((jn->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		free(jn);
		return r;
	}
	*jp = jn;
	return 0;
}

void
journal_free(struct journal *jn)
{
	char name[JN_NAME_LEN + 1];
	int idle = 1;
	size_t i;

	if (jn == NULL)
		return;
	for (i = 0; i < jn->nstreams; i++)
		if (jn->streams[i]->n > 0 || jn->streams[i]->owed)
			idle = 0;
	for (i = 0; i < jn->nfiles; i++)
		if (jn->files[i].rel_done < jn->files[i].nrec ||
		    jn->files[i].rel_marked > 0 || jn->files[i].rel_owed > 0)
			idle = 0;
	if (jn->fd >= 0)
		(void)close(jn->fd);
	/* Everything is in the durable spool: nothing to replay. */
	if (idle && jn->nold == 0) {
		for (i = 0; i < jn->nfiles; i++) {
			fsutil_id_name(name, sizeof(name), jn->files[i].id,
			    "jnl");
			(void)unlinkat(jn->dirfd, name, 0);
		}
		if (jn->nfiles > 0)
			(void)fsync(jn->dirfd);
	}
	for (i = 0; i < jn->nstreams; i++) {
		free(jn->streams[i]->q);
		free(jn->streams[i]);
	}
	free(jn->streams);
	free(jn->files);
	free(jn->old);
	free(jn->buf);
	(void)close(jn->dirfd);
	free(jn);
}

void
journal_stats(const struct journal *jn, struct journal_stats *st)
{
	size_t i;

	*st = jn->st;
	st->pending = st->unwritten = 0;
	for (i = 0; i < jn->nstreams; i++) {
		st->pending += jn->streams[i]->n;
		st->unwritten += jn->streams[i]->n - jn->streams[i]->nw;
	}
	st->files = jn->nfiles + jn->nold;
}
