/*
 * sessions.c - durable node sessions: a file of fixed-size slots, two per
 * device, written in place with pwrite so that keeping a session current
 * costs one small write per device and commit, however many records the
 * device sends (see sessions.h for its place in the data flow).
 *
 * Why two slots: a record is always written over the *older* slot of its
 * pair, so a write torn by a power cut leaves the newer one intact, and
 * the pair still holds the record as of the previous sync.  A slot is
 * written at most once between two syncs of the file (a second put before
 * the sync goes over the same, still unsynced, slot), so no power cut can
 * tear both.
 *
 * FILE: STATE_DIR/sessions, mode 0600.  All integers are little-endian
 * and decoded byte by byte; checksums are zlib crc32, as in the spool.
 *
 * HEADER, 32 bytes at offset 0:
 *	  0  8  magic "FBSESS01"
 *	  8  4  slot length, SESS_SLOT_LEN (128)
 *	 12 16  zero
 *	 28  4  crc32 of bytes 0..27
 *
 * PAIRS, back to back after the header: pair i is the two slots at
 * 32 + 256 i and 32 + 256 i + 128.  A slot beyond the end of the file,
 * or all zero bytes, is empty.
 *
 * SLOT, 128 bytes:
 *	  0  2  magic fb 53
 *	  2  2  B, body length, 1..SESSIONS_BODY_MAX (96)
 *	  4  8  generation, 1 or more: the newer slot of a pair has the
 *		larger one
 *	 12  8  key (the device EUI)
 *	 20  4  crc32 of bytes 0..19, continued over the body
 *	 24  B  body (opaque here: policy/ident.c authenticates it)
 *	24+B    zero up to the end of the slot
 *
 * VALIDITY.  The header must match exactly; otherwise nothing is loaded
 * and the file goes to quarantine.  Per pair: both slots valid with the
 * same key and different generations, or one valid and the other empty
 * or invalid (invalid: a torn write, reported as such, the valid one is
 * loaded), or one invalid and the other empty (the torn first write of
 * a new pair, whose session was never synced and so never accepted).
 * Two invalid slots, two different keys in one pair, equal
 * generations, or a key that a later pair repeats (the older generation
 * is dropped) are damage: reported with their offsets, and the file goes
 * to quarantine.  In every case the records that were valid are written
 * into a fresh file (one slot per pair, generation 1) that replaces the
 * old one, so a damaged file is read once.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "daemon/store/le.h"
#include "daemon/store/sessions.h"

#define SESS_MAGIC		"FBSESS01"
#define SESS_HDR_LEN		32
#define SESS_SLOT_LEN		128
#define SESS_PAIR_LEN		(2 * SESS_SLOT_LEN)
#define SESS_SLOT_HDR_LEN	24
#define SESS_TABLE_MIN		64
#define SESS_QNAME_MAX		64

struct sess_entry {
	uint64_t	key;
	uint64_t	gen;		/* of the synced slot */
	uint32_t	pair;
	uint8_t		slot;		/* the synced (newest) slot */
	uint8_t		pending;	/* the other slot written, unsynced */
	uint8_t		len;		/* start-up only: the body */
	uint8_t		body[SESSIONS_BODY_MAX];
};

struct sessions {
	int			 dirfd;
	int			 fd;
	struct sess_entry	*ent;
	size_t			 nent, capent;
	uint32_t		*tab;		/* entry index + 1; 0 empty */
	size_t			 tabcap;	/* power of two */
	uint64_t		 unsynced;	/* puts since the last sync */
	struct sessions_stats	 st;
};

/* ---- the format ---- */

static void
sess_header(uint8_t *h)
{
	memset(h, 0, SESS_HDR_LEN);
	memcpy(h, SESS_MAGIC, 8);
	le_put32(h + 8, SESS_SLOT_LEN);
	le_put32(h + 28, fsutil_crc32(0, h, 28));
}

static void
sess_slot(uint8_t *p, uint64_t key, uint64_t gen, const uint8_t *body,
    size_t len)
{
	uint32_t c;

	memset(p, 0, SESS_SLOT_LEN);
	p[0] = 0xfb;
	p[1] = 0x53;
	le_put16(p + 2, (uint16_t)len);
	le_put64(p + 4, gen);
	le_put64(p + 12, key);
	memcpy(p + SESS_SLOT_HDR_LEN, body, len);
	c = fsutil_crc32(0, p, 20);
	le_put32(p + 20, fsutil_crc32(c, body, len));
}

enum sess_state { SESS_EMPTY, SESS_VALID, SESS_BAD };

/* One slot of avail bytes (< SESS_SLOT_LEN: cut by the end of file). */
static enum sess_state
sess_check(const uint8_t *p, size_t avail, const char **why)
{
	size_t i, b;
	uint32_t c;

	for (i = 0; i < avail && p[i] == 0; i++)
		;
	if (i == avail)
		return SESS_EMPTY;
	if (avail < SESS_SLOT_LEN) {
		*why = "slot cut short by the end of the file";
		return SESS_BAD;
	}
	if (p[0] != 0xfb || p[1] != 0x53) {
		*why = "bad slot magic";
		return SESS_BAD;
	}
	b = le_get16(p + 2);
	if (b == 0 || b > SESSIONS_BODY_MAX) {
		*why = "bad body length";
		return SESS_BAD;
	}
	c = fsutil_crc32(0, p, 20);
	if (fsutil_crc32(c, p + SESS_SLOT_HDR_LEN, b) != le_get32(p + 20)) {
		*why = "checksum mismatch";
		return SESS_BAD;
	}
	if (le_get64(p + 4) == 0) {
		*why = "generation 0";
		return SESS_BAD;
	}
	for (i = SESS_SLOT_HDR_LEN + b; i < SESS_SLOT_LEN; i++)
		if (p[i] != 0) {
			*why = "bytes after the body";
			return SESS_BAD;
		}
	return SESS_VALID;
}

/* The newest valid record of a pair, through fn(arg, key, gen, body,
 * len, pair); damage through bad.  Returns the number of damaged slots
 * (torn ones excluded) or -EBADMSG for a bad header. */
typedef int sess_found_fn(void *arg, uint64_t key, uint64_t gen,
    const uint8_t *body, size_t len, uint32_t pair);

static int
sess_scan(const uint8_t *buf, size_t len, sess_found_fn *fn,
    sessions_bad_fn *bad, void *arg)
{
	uint8_t h[SESS_HDR_LEN];
	const uint8_t *p;
	const char *why[2];
	enum sess_state s[2];
	size_t off, rest, avail;
	uint32_t pair;
	int j, damaged = 0, newer;

	sess_header(h);
	if (len < SESS_HDR_LEN || memcmp(buf, h, SESS_HDR_LEN) != 0)
		return -EBADMSG;
	for (off = SESS_HDR_LEN, pair = 0; off < len;
	    off += SESS_PAIR_LEN, pair++) {
		rest = len - off;
		for (j = 0; j < 2; j++) {
			why[j] = "";
			if (rest <= (size_t)j * SESS_SLOT_LEN) {
				s[j] = SESS_EMPTY;
				continue;
			}
			avail = rest - (size_t)j * SESS_SLOT_LEN;
			if (avail > SESS_SLOT_LEN)
				avail = SESS_SLOT_LEN;
			s[j] = sess_check(buf + off + (size_t)j * SESS_SLOT_LEN,
			    avail, &why[j]);
		}
		p = buf + off;
		if (s[0] == SESS_VALID && s[1] == SESS_VALID) {
			if (le_get64(p + 12) != le_get64(p + SESS_SLOT_LEN +
			    12) || le_get64(p + 4) == le_get64(p +
			    SESS_SLOT_LEN + 4)) {
				if (bad != NULL)
					bad(arg, off, SESS_PAIR_LEN, 0,
					    "two slots that disagree");
				damaged += 2;
				continue;
			}
			newer = le_get64(p + SESS_SLOT_LEN + 4) >
			    le_get64(p + 4);
		} else if (s[0] == SESS_VALID || s[1] == SESS_VALID) {
			newer = s[1] == SESS_VALID;
			/* The other slot: a torn write, which leaves the
			 * previous record in this one. */
			if (s[!newer] == SESS_BAD && bad != NULL)
				bad(arg, off + (size_t)!newer * SESS_SLOT_LEN,
				    SESS_SLOT_LEN, 1, why[!newer]);
		} else {
			for (j = 0; j < 2; j++) {
				if (s[j] != SESS_BAD)
					continue;
				/* A new pair's first write, torn (its
				 * session was never synced, so never
				 * accepted: nothing is lost). */
				if (s[!j] == SESS_EMPTY) {
					if (bad != NULL)
						bad(arg, off + (size_t)j *
						    SESS_SLOT_LEN,
						    SESS_SLOT_LEN, 1, why[j]);
					continue;
				}
				if (bad != NULL)
					bad(arg, off + (size_t)j *
					    SESS_SLOT_LEN, SESS_SLOT_LEN, 0,
					    why[j]);
				damaged++;
			}
			continue;
		}
		p += (size_t)newer * SESS_SLOT_LEN;
		if (fn(arg, le_get64(p + 12), le_get64(p + 4),
		    p + SESS_SLOT_HDR_LEN, le_get16(p + 2), pair) != 0)
			damaged++;
	}
	return damaged;
}

struct sess_parse_arg {
	sessions_load_fn	*load;
	sessions_bad_fn		*bad;
	void			*arg;
	int			 n;
};

static int
sess_parse_found(void *arg, uint64_t key, uint64_t gen, const uint8_t *body,
    size_t len, uint32_t pair)
{
	struct sess_parse_arg *a = arg;

	(void)gen;
	(void)pair;
	if (a->load != NULL)
		a->load(a->arg, key, body, len);
	a->n++;
	return 0;
}

static void
sess_parse_bad(void *arg, uint64_t off, uint64_t len, int torn,
    const char *why)
{
	struct sess_parse_arg *a = arg;

	if (a->bad != NULL)
		a->bad(a->arg, off, len, torn, why);
}

int
sessions_parse(const uint8_t *buf, size_t len, sessions_load_fn *load,
    sessions_bad_fn *bad, void *arg)
{
	struct sess_parse_arg a = { load, bad, arg, 0 };
	int r;

	if ((r = sess_scan(buf, len, sess_parse_found, sess_parse_bad, &a)) < 0)
		return r;
	return a.n;
}

/* ---- the in-memory index ---- */

static size_t
sess_home(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 40) & (cap - 1);
}

static struct sess_entry *
sess_find(const struct sessions *s, uint64_t key)
{
	size_t i;

	if (s->tabcap == 0)
		return NULL;
	for (i = sess_home(key, s->tabcap);;) {
		if (s->tab[i] == 0)
			return NULL;
		if (s->ent[s->tab[i] - 1].key == key)
			return &s->ent[s->tab[i] - 1];
		i = (i + 1) & (s->tabcap - 1);
	}
}

static void
sess_place(uint32_t *tab, size_t cap, const struct sess_entry *ent,
    uint32_t idx)
{
	size_t i = sess_home(ent[idx].key, cap);

	while (tab[i] != 0)
		i = (i + 1) & (cap - 1);
	tab[i] = idx + 1;
}

/* A new entry for key (not present); NULL when out of memory. */
static struct sess_entry *
sess_add(struct sessions *s, uint64_t key)
{
	struct sess_entry *e;
	uint32_t *t;
	size_t cap, i;

	if (s->nent >= UINT32_MAX - 1)
		return NULL;
	if (s->nent == s->capent) {
		cap = s->capent == 0 ? SESS_TABLE_MIN : 2 * s->capent;
		if ((e = realloc(s->ent, cap * sizeof(*e))) == NULL)
			return NULL;
		s->ent = e;
		s->capent = cap;
	}
	if (2 * (s->nent + 1) > s->tabcap) {
		cap = s->tabcap == 0 ? SESS_TABLE_MIN : 2 * s->tabcap;
		if ((t = calloc(cap, sizeof(*t))) == NULL)
			return NULL;
		for (i = 0; i < s->nent; i++)
			sess_place(t, cap, s->ent, (uint32_t)i);
		free(s->tab);
		s->tab = t;
		s->tabcap = cap;
	}
	e = &s->ent[s->nent];
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->pair = (uint32_t)s->nent;
	sess_place(s->tab, s->tabcap, s->ent, (uint32_t)s->nent);
	s->nent++;
	return e;
}

/* ---- open: load, check, rewrite ---- */

struct sess_open_arg {
	struct sessions		*s;
	sessions_bad_fn		*bad;
	void			*arg;
	int			 oom;
};

static void
sess_bad_count(void *arg, uint64_t off, uint64_t len, int torn,
    const char *why)
{
	struct sess_open_arg *a = arg;

	if (torn)
		a->s->st.torn++;
	else
		a->s->st.damaged++;
	if (a->bad != NULL)
		a->bad(a->arg, off, len, torn, why);
}

static int
sess_open_found(void *arg, uint64_t key, uint64_t gen, const uint8_t *body,
    size_t len, uint32_t pair)
{
	struct sess_open_arg *a = arg;
	struct sess_entry *e;

	if ((e = sess_find(a->s, key)) != NULL) {
		/* Our writer never gives a key two pairs: keep the newer. */
		sess_bad_count(a, SESS_HDR_LEN + (uint64_t)pair *
		    SESS_PAIR_LEN, SESS_PAIR_LEN, 0,
		    "a key that an earlier pair holds too");
		if (gen > e->gen) {
			e->gen = gen;
			e->len = (uint8_t)len;
			memcpy(e->body, body, len);
		}
		return 0;
	}
	if ((e = sess_add(a->s, key)) == NULL) {
		a->oom = 1;
		return 0;
	}
	e->gen = gen;
	e->len = (uint8_t)len;
	memcpy(e->body, body, len);
	return 0;
}

/* The whole file into *bufp (malloc'd; NULL and 0 when absent). */
static int
sess_read(int dirfd, uint8_t **bufp, size_t *lenp)
{
	struct stat sb;
	uint8_t *buf = NULL;
	ssize_t n;
	int fd, r;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = openat(dirfd, SESSIONS_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0)
		return errno == ENOENT ? 0 : -errno;
	r = -errno;
	if (fstat(fd, &sb) != 0)
		goto out;
	r = -EFBIG;
	if (sb.st_size > SESSIONS_READ_MAX_BYTES)
		goto out;
	r = -ENOMEM;
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	if ((n = fsutil_read_full(fd, buf, (size_t)sb.st_size)) < 0) {
		r = (int)n;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static int
sess_quarantine(int dirfd)
{
	char name[SESS_QNAME_MAX];
	int qfd, r = 0;

	if ((qfd = fsutil_quarantine_open(dirfd)) < 0)
		return qfd;
	snprintf(name, sizeof(name), "%s.%lld", SESSIONS_FILE,
	    (long long)time(NULL));
	if (renameat(dirfd, SESSIONS_FILE, qfd, name) != 0)
		r = -errno;
	close(qfd);
	return r;
}

int
sessions_open(const char *dir, sessions_keep_fn *keep, sessions_bad_fn *bad,
    void *arg, int *quarantined, struct sessions **sp)
{
	struct sessions *s = NULL;
	struct sess_open_arg a;
	uint8_t *buf = NULL, *out = NULL;
	size_t len = 0, i, n, olen;
	int r, damaged;

	*sp = NULL;
	*quarantined = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->fd = -1;
	if ((s->dirfd = open(dir != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	r = sess_read(s->dirfd, &buf, &len);
	if (r == -EFBIG)
		damaged = 1;
	else if (r != 0)
		goto fail;
	else if (buf == NULL)
		damaged = 0;
	else {
		memset(&a, 0, sizeof(a));
		a.s = s;
		a.bad = bad;
		a.arg = arg;
		damaged = sess_scan(buf, len, sess_open_found, sess_bad_count,
		    &a);
		if (damaged < 0 && bad != NULL)
			bad(arg, 0, len, 0, "not a sessions file (bad header)");
		r = -ENOMEM;
		if (a.oom)
			goto fail;
	}
	if (damaged != 0) {
		if ((r = sess_quarantine(s->dirfd)) != 0)
			goto fail;
		*quarantined = 1;
	}
	/* Keep what policy still wants, one slot per pair, generation 1. */
	for (i = 0, n = 0; i < s->nent; i++) {
		if (keep != NULL && keep(arg, s->ent[i].key, s->ent[i].body,
		    s->ent[i].len) != 0)
			continue;
		s->ent[n] = s->ent[i];
		s->ent[n].pair = (uint32_t)n;
		s->ent[n].slot = 0;
		s->ent[n].gen = 1;
		n++;
	}
	s->nent = n;
	if (s->tab != NULL)	/* none before the first key */
		memset(s->tab, 0, s->tabcap * sizeof(*s->tab));
	olen = SESS_HDR_LEN + n * SESS_PAIR_LEN;
	r = -ENOMEM;
	if ((out = calloc(1, olen)) == NULL)
		goto fail;
	sess_header(out);
	for (i = 0; i < n; i++) {
		sess_slot(out + SESS_HDR_LEN + i * SESS_PAIR_LEN,
		    s->ent[i].key, 1, s->ent[i].body, s->ent[i].len);
		sess_place(s->tab, s->tabcap, s->ent, (uint32_t)i);
		memset(s->ent[i].body, 0, sizeof(s->ent[i].body));
	}
	if ((r = fsutil_replace(s->dirfd, SESSIONS_FILE, out, olen, 0600,
	    FSUTIL_SYNC_DIR)) != 0)
		goto fail;
	if ((s->fd = openat(s->dirfd, SESSIONS_FILE, O_RDWR | O_CLOEXEC |
	    O_NOFOLLOW)) < 0) {
		r = -errno;
		goto fail;
	}
	free(buf);
	free(out);
	*sp = s;
	return (int)n;
fail:
	free(buf);
	free(out);
	sessions_free(s);
	return r;
}

/* ---- steady state ---- */

int
sessions_put(struct sessions *s, uint64_t key, const uint8_t *body,
    size_t len)
{
	uint8_t slot[SESS_SLOT_LEN];
	struct sess_entry *e;
	uint64_t off;
	ssize_t n;
	int w;

	if (len == 0 || len > SESSIONS_BODY_MAX)
		return -EMSGSIZE;
	/* A new key's slot 1 is written first: slot 0 counts as the
	 * synced, empty one. */
	if ((e = sess_find(s, key)) == NULL && (e = sess_add(s, key)) == NULL)
		return -ENOMEM;
	w = e->slot ^ 1;
	off = SESS_HDR_LEN + (uint64_t)e->pair * SESS_PAIR_LEN +
	    (uint64_t)w * SESS_SLOT_LEN;
	sess_slot(slot, key, e->gen + 1, body, len);
	n = pwrite(s->fd, slot, sizeof(slot), (off_t)off);
	memset(slot, 0, sizeof(slot));
	if (n != (ssize_t)sizeof(slot)) {
		s->st.write_errors++;
		return n < 0 ? -errno : -EIO;
	}
	e->pending = 1;
	s->unsynced++;
	s->st.puts++;
	s->st.bytes_written += sizeof(slot);
	return 0;
}

int
sessions_sync(struct sessions *s)
{
	size_t i;

	if (s->unsynced == 0)
		return 0;
	if (fdatasync(s->fd) != 0) {
		s->st.write_errors++;
		return -errno;
	}
	s->st.syncs++;
	for (i = 0; i < s->nent; i++)
		if (s->ent[i].pending) {
			s->ent[i].pending = 0;
			s->ent[i].slot ^= 1;
			s->ent[i].gen++;
		}
	s->unsynced = 0;
	return 0;
}

void
sessions_stats(const struct sessions *s, struct sessions_stats *st)
{
	*st = s->st;
	st->records = s->nent;
}

void
sessions_free(struct sessions *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->ent);
	free(s->tab);
	free(s);
}
