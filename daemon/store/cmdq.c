/*
 * cmdq.c - the durable command queue of cmdq.h, kept in memory and
 * written whole to STATE_DIR/commands at every change.
 *
 * FORMAT.  All integers little-endian.
 *
 *	offset	size	field
 *	0	8	magic "FBCMDQ1\n"
 *	8	4	B, the length of the body
 *	12	4	crc32 (zlib) of the body
 *	16	B	body:
 *		2	next ref
 *		2	N commands (<= CMDQ_TOTAL_MAX), each, in queue order:
 *			8 eui, 8 expires (signed), 2 ref, 1 kind,
 *			1 L id length (1..CMDQ_ID_MAX), L id,
 *			2 M body length (<= CMDQ_BODY_MAX), M body
 *		2	S recent ids (<= CMDQ_SEEN_MAX), oldest first, each:
 *			1 L (1..CMDQ_ID_MAX), L id
 *		2	R outcomes awaiting PUBACK (<= CMDQ_RESULTS_MAX),
 *			oldest first, each: 2 L (1..CMDQ_RESULT_MAX - 1),
 *			L bytes of JSON text
 *
 * VALIDITY.  The file is B + 16 bytes, at most CMDQ_FILE_MAX_BYTES; magic
 * and checksum match; every count and length is within its bound; ids
 * are printable ASCII; no device has more than CMDQ_PER_DEVICE_MAX
 * commands; nothing follows the outcomes.  Anything else is damage: the
 * whole file goes to quarantine (it is replaced whole, so a torn write
 * cannot happen short of a failing disk, and a queue with a part missing
 * would run commands out of order or twice).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "daemon/store/cmdq.h"
#include "daemon/store/le.h"

#define CMDQ_MAGIC		"FBCMDQ1\n"
#define CMDQ_HDR_LEN		16
#define CMDQ_QNAME_MAX		64

struct cmdq {
	struct cmdq_cmd		*cmds;		/* CMDQ_TOTAL_MAX, in order */
	size_t			 ncmds;
	char			(*seen)[CMDQ_ID_MAX + 1];  /* a ring */
	size_t			 nseen, seen_next;
	struct cmdq_result	 res[CMDQ_RESULTS_MAX];	/* in order */
	size_t			 nres;
	uint64_t		 res_seq;
	uint16_t		 next_ref;
};

struct cmdq *
cmdq_new(void)
{
	struct cmdq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if ((q->cmds = calloc(CMDQ_TOTAL_MAX, sizeof(*q->cmds))) == NULL ||
	    (q->seen = calloc(CMDQ_SEEN_MAX, sizeof(*q->seen))) == NULL) {
		cmdq_free(q);
		return NULL;
	}
	q->next_ref = 1;
	return q;
}

static void
cmdq_clear(struct cmdq *q)
{
	size_t i;

	for (i = 0; i < q->nres; i++)
		free(q->res[i].text);
	q->nres = 0;
	q->ncmds = 0;
	q->nseen = q->seen_next = 0;
	q->next_ref = 1;
}

void
cmdq_free(struct cmdq *q)
{
	if (q == NULL)
		return;
	cmdq_clear(q);
	free(q->cmds);
	free(q->seen);
	free(q);
}

/* ---- in memory ---- */

int
cmdq_seen(const struct cmdq *q, const char *id)
{
	size_t i;

	for (i = 0; i < q->nseen; i++)
		if (strcmp(q->seen[i], id) == 0)
			return 1;
	for (i = 0; i < q->ncmds; i++)
		if (strcmp(q->cmds[i].id, id) == 0)
			return 1;
	return 0;
}

static void
cmdq_remember(struct cmdq *q, const char *id)
{
	(void)snprintf(q->seen[q->seen_next], sizeof(q->seen[0]), "%s", id);
	q->seen_next = (q->seen_next + 1) % CMDQ_SEEN_MAX;
	if (q->nseen < CMDQ_SEEN_MAX)
		q->nseen++;
}

size_t
cmdq_device_count(const struct cmdq *q, uint64_t eui)
{
	size_t i, n = 0;

	for (i = 0; i < q->ncmds; i++)
		if (q->cmds[i].eui == eui)
			n++;
	return n;
}

size_t
cmdq_count(const struct cmdq *q)
{
	return q->ncmds;
}

int
cmdq_add(struct cmdq *q, const struct cmdq_cmd *c, uint16_t *ref)
{
	struct cmdq_cmd *d;

	if (cmdq_seen(q, c->id))
		return -EEXIST;
	if (c->len > sizeof(c->body))
		return -EMSGSIZE;
	if (cmdq_device_count(q, c->eui) >= CMDQ_PER_DEVICE_MAX)
		return -ENOSPC;
	if (q->ncmds >= CMDQ_TOTAL_MAX)
		return -ENOBUFS;
	d = &q->cmds[q->ncmds++];
	*d = *c;
	/* 0 is never a ref: a node's "nothing acknowledged yet" is clear. */
	d->ref = q->next_ref;
	q->next_ref = (uint16_t)(q->next_ref == UINT16_MAX ? 1 :
	    q->next_ref + 1);
	cmdq_remember(q, c->id);
	if (ref != NULL)
		*ref = d->ref;
	return 0;
}

const struct cmdq_cmd *
cmdq_head(const struct cmdq *q, uint64_t eui)
{
	size_t i;

	for (i = 0; i < q->ncmds; i++)
		if (q->cmds[i].eui == eui)
			return &q->cmds[i];
	return NULL;
}

size_t
cmdq_take(struct cmdq *q, cmdq_pred_fn *pred, cmdq_done_fn *done, void *arg)
{
	size_t i, kept = 0, n = 0;

	for (i = 0; i < q->ncmds; i++) {
		if (pred(arg, &q->cmds[i])) {
			if (done != NULL)
				done(arg, &q->cmds[i]);
			n++;
			continue;
		}
		if (kept != i)
			q->cmds[kept] = q->cmds[i];
		kept++;
	}
	q->ncmds = kept;
	return n;
}

struct cmdq_expire_arg {
	int64_t		 now;
	cmdq_done_fn	*done;
	void		*arg;
};

static int
cmdq_expired(void *arg, const struct cmdq_cmd *c)
{
	return c->expires <= ((const struct cmdq_expire_arg *)arg)->now;
}

static void
cmdq_expire_done(void *arg, const struct cmdq_cmd *c)
{
	struct cmdq_expire_arg *a = arg;

	if (a->done != NULL)
		a->done(a->arg, c);
}

size_t
cmdq_expire(struct cmdq *q, int64_t now, cmdq_done_fn *done, void *arg)
{
	struct cmdq_expire_arg a = { now, done, arg };

	return cmdq_take(q, cmdq_expired, cmdq_expire_done, &a);
}

int
cmdq_result_add(struct cmdq *q, const char *text, size_t len)
{
	struct cmdq_result *r;
	int dropped = 0;
	char *t;

	if ((t = malloc(len + 1)) == NULL)
		return -ENOMEM;
	memcpy(t, text, len);
	t[len] = '\0';
	if (q->nres == CMDQ_RESULTS_MAX) {
		free(q->res[0].text);
		memmove(&q->res[0], &q->res[1],
		    (q->nres - 1) * sizeof(q->res[0]));
		q->nres--;
		dropped = 1;
	}
	r = &q->res[q->nres++];
	r->seq = ++q->res_seq;
	r->text = t;
	r->len = len;
	r->inflight = 0;
	return dropped;
}

size_t
cmdq_result_count(const struct cmdq *q)
{
	return q->nres;
}

struct cmdq_result *
cmdq_result_at(struct cmdq *q, size_t i)
{
	return i < q->nres ? &q->res[i] : NULL;
}

int
cmdq_result_done(struct cmdq *q, uint64_t seq)
{
	size_t i;

	for (i = 0; i < q->nres; i++) {
		if (q->res[i].seq != seq)
			continue;
		free(q->res[i].text);
		memmove(&q->res[i], &q->res[i + 1],
		    (q->nres - i - 1) * sizeof(q->res[0]));
		q->nres--;
		return 0;
	}
	return -ENOENT;
}

/* ---- on disk ---- */

/* One bounded reader: each getter checks what is left first. */
struct cmdq_rd {
	const uint8_t	*p;
	size_t		 left;
};

static int
cmdq_get(struct cmdq_rd *rd, void *out, size_t n)
{
	if (n > rd->left)
		return -EBADMSG;
	if (n > 0)
		memcpy(out, rd->p, n);
	rd->p += n;
	rd->left -= n;
	return 0;
}

static int
cmdq_get16(struct cmdq_rd *rd, uint16_t *v)
{
	uint8_t b[2];

	if (cmdq_get(rd, b, 2) != 0)
		return -EBADMSG;
	*v = le_get16(b);
	return 0;
}

static int
cmdq_get64(struct cmdq_rd *rd, uint64_t *v)
{
	uint8_t b[8];

	if (cmdq_get(rd, b, 8) != 0)
		return -EBADMSG;
	*v = le_get64(b);
	return 0;
}

/* An id: length byte, then 1..CMDQ_ID_MAX printable characters. */
static int
cmdq_get_id(struct cmdq_rd *rd, char id[CMDQ_ID_MAX + 1])
{
	uint8_t n;
	size_t i;

	if (cmdq_get(rd, &n, 1) != 0 || n == 0 || n > CMDQ_ID_MAX ||
	    cmdq_get(rd, id, n) != 0)
		return -EBADMSG;
	id[n] = '\0';
	for (i = 0; i < n; i++)
		if (id[i] < 0x20 || id[i] > 0x7e)
			return -EBADMSG;
	return 0;
}

static int
cmdq_parse_body(struct cmdq *q, struct cmdq_rd *rd)
{
	struct cmdq_cmd c;
	char id[CMDQ_ID_MAX + 1], text[CMDQ_RESULT_MAX];
	uint16_t n, i, len;
	uint64_t v;

	if (cmdq_get16(rd, &q->next_ref) != 0 || q->next_ref == 0 ||
	    cmdq_get16(rd, &n) != 0 || n > CMDQ_TOTAL_MAX)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		if (cmdq_get64(rd, &c.eui) != 0 || cmdq_get64(rd, &v) != 0 ||
		    cmdq_get16(rd, &c.ref) != 0 ||
		    cmdq_get(rd, &c.kind, 1) != 0 ||
		    cmdq_get_id(rd, c.id) != 0 || cmdq_get16(rd, &len) != 0 ||
		    len > sizeof(c.body) || cmdq_get(rd, c.body, len) != 0)
			return -EBADMSG;
		c.expires = (int64_t)v;
		c.len = len;
		if (cmdq_device_count(q, c.eui) >= CMDQ_PER_DEVICE_MAX ||
		    cmdq_seen(q, c.id))
			return -EBADMSG;
		q->cmds[q->ncmds++] = c;
	}
	if (cmdq_get16(rd, &n) != 0 || n > CMDQ_SEEN_MAX)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		if (cmdq_get_id(rd, id) != 0)
			return -EBADMSG;
		cmdq_remember(q, id);
	}
	if (cmdq_get16(rd, &n) != 0 || n > CMDQ_RESULTS_MAX)
		return -EBADMSG;
	for (i = 0; i < n; i++)
		if (cmdq_get16(rd, &len) != 0 || len == 0 ||
		    len >= sizeof(text) || cmdq_get(rd, text, len) != 0 ||
		    memchr(text, '\0', len) != NULL ||
		    cmdq_result_add(q, text, len) < 0)
			return -EBADMSG;
	return rd->left == 0 ? 0 : -EBADMSG;
}

int
cmdq_parse(struct cmdq *q, const uint8_t *buf, size_t len)
{
	struct cmdq_rd rd;
	uint32_t blen;
	int r;

	cmdq_clear(q);
	if (len < CMDQ_HDR_LEN || len > CMDQ_FILE_MAX_BYTES ||
	    memcmp(buf, CMDQ_MAGIC, 8) != 0)
		return -EBADMSG;
	blen = le_get32(buf + 8);
	if (blen != len - CMDQ_HDR_LEN ||
	    fsutil_crc32(0, buf + CMDQ_HDR_LEN, blen) != le_get32(buf + 12))
		return -EBADMSG;
	rd.p = buf + CMDQ_HDR_LEN;
	rd.left = blen;
	if ((r = cmdq_parse_body(q, &rd)) != 0)
		cmdq_clear(q);
	return r;
}

/* A growing buffer for the encoder; its size is bounded by the caps. */
struct cmdq_wr {
	uint8_t	*buf;
	size_t	 len, cap;
};

static void
cmdq_put(struct cmdq_wr *w, const void *p, size_t n)
{
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void
cmdq_put16(struct cmdq_wr *w, uint16_t v)
{
	le_put16(w->buf + w->len, v);
	w->len += 2;
}

static void
cmdq_put_id(struct cmdq_wr *w, const char *id)
{
	uint8_t n = (uint8_t)strlen(id);

	cmdq_put(w, &n, 1);
	cmdq_put(w, id, n);
}

int
cmdq_encode(const struct cmdq *q, uint8_t **out, size_t *outlen)
{
	struct cmdq_wr w = { NULL, 0, 0 };
	const struct cmdq_cmd *c;
	size_t i, k;

	*out = NULL;
	*outlen = 0;
	/* next_ref and the three counts; a command: eui 8, expires 8,
	 * ref 2, kind 1, id 1 + L, body 2 + M; a seen id: 1 + L. */
	w.cap = CMDQ_HDR_LEN + 4 * 2 + q->ncmds * (8 + 8 + 2 + 1 + 1 +
	    CMDQ_ID_MAX + 2 + CMDQ_BODY_MAX) + q->nseen * (1 + CMDQ_ID_MAX);
	for (i = 0; i < q->nres; i++)
		w.cap += 2 + q->res[i].len;
	if ((w.buf = malloc(w.cap)) == NULL)
		return -ENOMEM;
	w.len = CMDQ_HDR_LEN;
	cmdq_put16(&w, q->next_ref);
	cmdq_put16(&w, (uint16_t)q->ncmds);
	for (i = 0; i < q->ncmds; i++) {
		c = &q->cmds[i];
		le_put64(w.buf + w.len, c->eui);
		le_put64(w.buf + w.len + 8, (uint64_t)c->expires);
		w.len += 16;
		cmdq_put16(&w, c->ref);
		cmdq_put(&w, &c->kind, 1);
		cmdq_put_id(&w, c->id);
		cmdq_put16(&w, (uint16_t)c->len);
		cmdq_put(&w, c->body, c->len);
	}
	cmdq_put16(&w, (uint16_t)q->nseen);
	/* Oldest first: the ring from its next slot once it is full. */
	for (i = 0; i < q->nseen; i++) {
		k = q->nseen < CMDQ_SEEN_MAX ? i :
		    (q->seen_next + i) % CMDQ_SEEN_MAX;
		cmdq_put_id(&w, q->seen[k]);
	}
	cmdq_put16(&w, (uint16_t)q->nres);
	for (i = 0; i < q->nres; i++) {
		cmdq_put16(&w, (uint16_t)q->res[i].len);
		cmdq_put(&w, q->res[i].text, q->res[i].len);
	}
	memcpy(w.buf, CMDQ_MAGIC, 8);
	le_put32(w.buf + 8, (uint32_t)(w.len - CMDQ_HDR_LEN));
	le_put32(w.buf + 12, fsutil_crc32(0, w.buf + CMDQ_HDR_LEN,
	    w.len - CMDQ_HDR_LEN));
	*out = w.buf;
	*outlen = w.len;
	return 0;
}

int
cmdq_save(const struct cmdq *q, int dirfd)
{
	uint8_t *buf;
	size_t len;
	int r;

	if ((r = cmdq_encode(q, &buf, &len)) != 0)
		return r;
	r = fsutil_replace(dirfd, CMDQ_FILE, buf, len, 0600, FSUTIL_SYNC_DIR);
	free(buf);
	return r;
}

static int
cmdq_quarantine(int dirfd)
{
	char name[CMDQ_QNAME_MAX];
	int qfd, r = 0;

	if ((qfd = fsutil_quarantine_open(dirfd)) < 0)
		return qfd;
	(void)snprintf(name, sizeof(name), "%s.%lld", CMDQ_FILE,
	    (long long)time(NULL));
	if (renameat(dirfd, CMDQ_FILE, qfd, name) != 0)
		r = -errno;
	close(qfd);
	return r;
}

int
cmdq_load(struct cmdq *q, int dirfd)
{
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t n;
	int fd, r;

	cmdq_clear(q);
	if ((fd = openat(dirfd, CMDQ_FILE, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -errno;
	r = -errno;
	if (fstat(fd, &st) != 0)
		goto out;
	r = -EBADMSG;
	if (st.st_size > CMDQ_FILE_MAX_BYTES)
		goto bad;
	r = -ENOMEM;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	if ((n = fsutil_read_full(fd, buf, (size_t)st.st_size + 1)) < 0) {
		r = (int)n;
		goto out;
	}
	if ((r = cmdq_parse(q, buf, (size_t)n)) == 0)
		goto out;
bad:
	if (cmdq_quarantine(dirfd) != 0)
		r = -EIO;
out:
	free(buf);
	close(fd);
	return r;
}
