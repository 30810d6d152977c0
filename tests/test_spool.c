/*
 * test_spool.c - unit tests of the durable spool (daemon/store/spool.c) on real
 * files in a temporary directory: ordering, acks across reopen, live and
 * backlog, recovery from torn tails and garbage, quota, age, disk full,
 * and a kill -9 crash loop.
 *
 * The module is included so the tests can replace its write, fsync and
 * clock indirections (full disk, failing fsync, time passing).
 */
#include "daemon/store/spool.c"

/* Whether anything appended or acknowledged still waits for a sync (the
 * spool's own state, which this test reaches by including spool.c). */
static int
test_dirty(const struct spool *sp)
{
	size_t i;

	if (sp->dir_dirty)
		return 1;
	for (i = 0; i < sp->nsegs; i++)
		if (sp->segs[i]->data_dirty || sp->segs[i]->ack_dirty)
			return 1;
	return 0;
}

#include <sys/mount.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/encoding.h"
#include "daemon/store/seqno.h"
#include "tests/testutil.h"

#define STREAM	"cattle"

static char tdir[64];
static char sdir[128];

static uint64_t fake_now;
static int fail_errno = ENOSPC;	/* how writes fail */
static int fail_count;		/* writes still to fail; -1: all */
static int fail_short;		/* fail by writing only part */

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static ssize_t
hook_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (fail_count != 0) {
		if (fail_count > 0)
			fail_count--;
		if (fail_short)
			return pwrite(fd, p, n / 2, off);
		errno = fail_errno;
		return -1;
	}
	return pwrite(fd, p, n, off);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/test_spool.XXXXXX");
	assert_non_null(mkdtemp(tdir));
	snprintf(sdir, sizeof(sdir), "%s/spool", tdir);
	fake_now = 1700000000000ULL;
	spool_clock_ms = fake_clock;
	spool_pwrite = hook_pwrite;
	fail_errno = ENOSPC;
	fail_count = 0;
	fail_short = 0;
	return 0;
}

static int
teardown(void **state)
{
	char mnt[96];

	(void)state;
	/* A failed tmpfs test must not leave its mount behind. */
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	(void)umount2(mnt, MNT_DETACH);
	testutil_rm_rf(tdir);
	return 0;
}

/* Deterministic batch contents, so any corruption shows. */
static size_t
body_for(uint64_t seq, char *buf, size_t sz, size_t len)
{
	size_t n, i;

	n = (size_t)snprintf(buf, sz, "{\"seq\":%" PRIu64 ",\"pad\":\"", seq);
	for (i = n; i + 2 < len && i + 2 < sz; i++)
		buf[i] = 'a' + (char)((seq + i) % 26);
	buf[i++] = '"';
	buf[i++] = '}';
	return i;
}

static int
append(struct spool *sp, uint64_t seq, const char *stream, size_t len)
{
	static char buf[70000];
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.seq = seq;
	snprintf(b.stream, sizeof(b.stream), "%s", stream);
	b.nrecords = 3;
	b.len = body_for(seq, buf, sizeof(buf), len);
	b.data = buf;
	return spool_append(sp, &b);
}

/* Batches first..last of 200 bytes on STREAM, each appended. */
static void
append_range(struct spool *sp, uint64_t first, uint64_t last)
{
	uint64_t s;

	for (s = first; s <= last; s++)
		assert_int_equal(append(sp, s, STREAM, 200), 0);
}

static void
check_entry(const struct spool_entry *e, uint64_t seq, size_t len)
{
	char buf[70000];
	size_t n = body_for(seq, buf, sizeof(buf), len);

	assert_int_equal(e->seq, seq);
	assert_int_equal(e->len, n);
	assert_memory_equal(e->data, buf, n);
	assert_int_equal(e->nrecords, 3);
}

static struct spool *
open_spool(const struct spool_conf *c)
{
	struct spool *sp = NULL;

	assert_int_equal(spool_open(sdir, c, &sp), 0);
	assert_non_null(sp);
	return sp;
}

/* Hands out the next entry and checks it is seq; returns it freed. */
static void
expect_next(struct spool *sp, int which, uint64_t seq, int backlog)
{
	struct spool_entry *e = NULL;

	assert_int_equal(spool_next(sp, which, &e), 1);
	check_entry(e, seq, 200);
	assert_int_equal(e->backlog, backlog);
	assert_string_equal(e->stream, STREAM);
	spool_entry_free(e);
}

static void
expect_none(struct spool *sp, int which)
{
	struct spool_entry *e = NULL;

	assert_int_equal(spool_next(sp, which, &e), 0);
	assert_null(e);
}

/* Finds the next event of a type, skipping others; 0 if none. */
static int
find_event(struct spool *sp, enum spool_event_type type,
    struct spool_event *out)
{
	struct spool_event ev;

	while (spool_event_next(sp, &ev))
		if (ev.type == type) {
			*out = ev;
			return 1;
		}
	return 0;
}

static int
count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		if (l >= s && strcmp(de->d_name + l - s, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
seg_path(char *buf, size_t sz, uint64_t id)
{
	snprintf(buf, sz, "%s/%016" PRIx64 ".seg", sdir, id);
}

/* Offset of entry i (0-based) in a segment of 200-byte entries. */
static uint64_t
entry_off(int i)
{
	return SEG_HDR_LEN + (uint64_t)i * (ENT_HDR_LEN + strlen(STREAM) + 200);
}

static void
test_append_reopen_ack(void **state)
{
	struct spool_stats st;
	struct spool *sp;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 10);
	assert_true(test_dirty(sp));
	assert_int_equal(spool_sync(sp), 0);
	assert_false(test_dirty(sp));
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 10);
	assert_int_equal(st.records, 30);
	assert_int_equal(st.bytes, 2000);
	assert_int_equal(st.max_seq, 10);
	spool_free(sp);

	sp = open_spool(NULL);
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 10);
	assert_int_equal(st.backlog_batches, 10);
	for (s = 1; s <= 10; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	for (s = 1; s <= 10; s++)
		assert_int_equal(spool_ack(sp, s), 0);
	assert_int_equal(spool_ack(sp, 3), -ENOENT);
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 0);
	assert_int_equal(st.acked_batches, 10);
	spool_free(sp);

	/* Acked entries stay gone. */
	sp = open_spool(NULL);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 0);
	assert_int_equal(append(sp, 11, STREAM, 200), 0);
	expect_next(sp, SPOOL_NEXT_ANY, 11, 0);
	spool_free(sp);
}

static void
test_reopen_after_partial_ack(void **state)
{
	struct spool *sp;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 10);
	for (s = 1; s <= 10; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 0);
	/* PUBACKs out of order. */
	assert_int_equal(spool_ack(sp, 7), 0);
	assert_int_equal(spool_ack(sp, 2), 0);
	assert_int_equal(spool_ack(sp, 1), 0);
	assert_int_equal(spool_ack(sp, 9), 0);
	spool_free(sp);

	sp = open_spool(NULL);
	expect_next(sp, SPOOL_NEXT_ANY, 3, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 4, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 5, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 6, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 8, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 10, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	/* A reconnect hands the unacked ones out again. */
	spool_rewind(sp);
	expect_next(sp, SPOOL_NEXT_ANY, 3, 1);
	spool_free(sp);
}

static void
test_out_of_order_acks_delete_segments(void **state)
{
	struct spool_conf c;
	struct spool_stats st;
	struct spool *sp;
	uint64_t s;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	append_range(sp, 1, 400);
	spool_stats(sp, &st);
	assert_true(st.segments > 2);
	for (s = 1; s <= 400; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 0);
	for (s = 400; s >= 1; s--)
		assert_int_equal(spool_ack(sp, s), 0);
	assert_int_equal(spool_sync(sp), 0);
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 0);
	/* Only the open segment remains; no ack log of a deleted one. */
	assert_int_equal(st.segments, 1);
	assert_int_equal(count_files(sdir, ".seg"), 1);
	assert_true(count_files(sdir, ".ack") <= 1);
	spool_free(sp);
	sp = open_spool(&c);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_free(sp);
}

static void
test_live_before_backlog(void **state)
{
	struct spool_stats st;
	struct spool *sp;

	(void)state;
	sp = open_spool(NULL);
	assert_int_equal(append(sp, 1, STREAM, 200), 0);
	assert_int_equal(append(sp, 2, STREAM, 200), 0);
	assert_int_equal(append(sp, 3, STREAM, 200), 0);
	/* Connect: what is stored is backlog now. */
	spool_rewind(sp);
	assert_int_equal(append(sp, 4, STREAM, 200), 0);
	assert_int_equal(append(sp, 5, STREAM, 200), 0);
	spool_stats(sp, &st);
	assert_int_equal(st.backlog_batches, 3);
	expect_next(sp, SPOOL_NEXT_ANY, 4, 0);
	expect_next(sp, SPOOL_NEXT_BACKLOG, 1, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 5, 0);
	expect_next(sp, SPOOL_NEXT_ANY, 2, 1);
	assert_int_equal(append(sp, 6, STREAM, 200), 0);
	expect_next(sp, SPOOL_NEXT_ANY, 6, 0);
	expect_next(sp, SPOOL_NEXT_ANY, 3, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	expect_none(sp, SPOOL_NEXT_LIVE);
	spool_free(sp);
}

static void
test_torn_tail_truncated(void **state)
{
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	char p[256];
	struct stat sb;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 5);
	spool_free(sp);
	seg_path(p, sizeof(p), 1);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, entry_off(5));
	/* Cut the last entry in the middle of its body. */
	assert_int_equal(truncate(p, (off_t)entry_off(4) + 100), 0);

	sp = open_spool(NULL);
	assert_true(find_event(sp, SPOOL_EV_TRUNCATED, &ev));
	assert_int_equal(ev.offset, entry_off(4));
	assert_int_equal(ev.length, 100);
	assert_int_equal(ev.cause, SPOOL_BAD_TORN);
	assert_string_equal(ev.file, "0000000000000001.seg");
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 4);
	assert_int_equal(st.truncated_bytes, 100);
	assert_int_equal(append(sp, 6, STREAM, 200), 0);
	spool_free(sp);

	sp = open_spool(NULL);
	for (s = 1; s <= 4; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 6, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_free(sp);
}

static void
test_torn_header_tail(void **state)
{
	struct spool_event ev;
	struct spool *sp;
	char p[256];

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 3);
	spool_free(sp);
	seg_path(p, sizeof(p), 1);
	assert_int_equal(truncate(p, (off_t)entry_off(2) + 7), 0);
	sp = open_spool(NULL);
	assert_true(find_event(sp, SPOOL_EV_TRUNCATED, &ev));
	assert_int_equal(ev.offset, entry_off(2));
	expect_next(sp, SPOOL_NEXT_ANY, 1, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 2, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_free(sp);
}

static void
scribble(uint64_t id, uint64_t off, const char *bytes, size_t n)
{
	char p[256];
	int fd;

	seg_path(p, sizeof(p), id);
	assert_true((fd = open(p, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, bytes, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void
test_garbage_mid_open_segment(void **state)
{
	struct spool_event ev;
	struct spool *sp;
	char p[256];
	struct stat sb;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 5);
	spool_free(sp);
	/* Destroy entry 3's header (index 2). */
	scribble(1, entry_off(2) + 2, "garbage!", 8);

	sp = open_spool(NULL);
	assert_true(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	assert_string_equal(ev.file, "0000000000000001.seg");
	assert_int_equal(ev.offset, entry_off(2));
	assert_int_equal(ev.length, entry_off(3) - entry_off(2));
	assert_int_equal(ev.cause, SPOOL_BAD_ENTRY_HEADER);
	snprintf(p, sizeof(p), "quarantine/0000000000000001.seg.%" PRIu64
	    ".bad", entry_off(2));
	assert_string_equal(ev.saved_as, p);
	snprintf(p, sizeof(p), "%s/%s", sdir, ev.saved_as);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, ev.length);
	expect_next(sp, SPOOL_NEXT_ANY, 1, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 2, 1);
	/* The good entries after the bad one are still delivered. */
	expect_next(sp, SPOOL_NEXT_ANY, 4, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 5, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	/* Reported once, not again when read. */
	assert_false(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	spool_free(sp);
}

static struct spool *zsink_sp;

static void
zsink(void *arg, struct batch *b)
{
	(void)arg;
	assert_int_equal(spool_append(zsink_sp, b), 0);
	batch_free(b);
}

/*
 * Compressed batches from the real batcher go through the spool
 * unchanged; one whose compressed body was damaged on disk is quarantined
 * like any other entry, and the rest still decode to every other record.
 */
static void
test_zlib_entries_round_trip_and_quarantine(void **state)
{
	struct batcher_limits lim = { 100000, 1024, 5000, ENCODING_ZLIB };
	static const uint8_t pl[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct spool_entry *e = NULL;
	struct spool_event ev;
	struct batcher *bt;
	struct seqno *sq;
	struct record r;
	char *doc;
	const char *p;
	size_t dlen, len0 = 0, n = 0;
	uint32_t damaged = 0, recs = 0, i;

	(void)state;
	zsink_sp = open_spool(NULL);
	assert_int_equal(seqno_open(tdir, 16, &sq), 0);
	assert_int_equal(batcher_new("farm-01", &lim, sq, zsink, NULL, &bt),
	    0);
	for (i = 0; i < 600; i++) {
		memset(&r, 0, sizeof(r));
		r.eui = 0x70B3D57ED0001000ULL + i % 20;
		r.fcnt = i;
		r.stream = STREAM;
		r.rx_wall.tv_sec = 1795000000 + i;
		r.payload = pl;
		r.len = sizeof(pl);
		r.meta.freq_hz = 868100000;
		assert_int_equal(batcher_add(bt, &r), 0);
	}
	batcher_flush(bt);
	batcher_free(bt);
	seqno_free(sq);
	assert_int_equal(spool_sync(zsink_sp), 0);
	spool_free(zsink_sp);

	/* Every entry is a zlib payload within the bound. */
	zsink_sp = open_spool(NULL);
	while (spool_next(zsink_sp, SPOOL_NEXT_ANY, &e) == 1) {
		assert_true(e->len <= 1024);
		assert_int_equal(encoding_detect((uint8_t *)e->data, e->len),
		    ENCODING_ZLIB);
		if (n == 0)
			len0 = e->len;
		if (n == 1)
			damaged = e->nrecords;
		n++;
		spool_entry_free(e);
	}
	assert_true(n > 3);
	spool_free(zsink_sp);

	/* Flip a byte inside the second entry's compressed body. */
	scribble(1, SEG_HDR_LEN + ENT_HDR_LEN + strlen(STREAM) + len0 +
	    ENT_HDR_LEN + strlen(STREAM) + 10, "\x5a", 1);
	zsink_sp = open_spool(NULL);
	assert_true(find_event(zsink_sp, SPOOL_EV_QUARANTINE, &ev));
	assert_int_equal(ev.cause, SPOOL_BAD_ENTRY_BODY);
	assert_int_equal(ev.offset, SEG_HDR_LEN + ENT_HDR_LEN +
	    strlen(STREAM) + len0);
	while (spool_next(zsink_sp, SPOOL_NEXT_ANY, &e) == 1) {
		assert_int_equal(encoding_decode((uint8_t *)e->data, e->len,
		    ENCODING_DOC_MAX_BYTES, &doc, &dlen, NULL), 0);
		for (p = doc; (p = strstr(p, "\"fcnt\":")) != NULL; p++)
			recs++;
		assert_int_equal(recs >= e->nrecords, 1);
		free(doc);
		spool_entry_free(e);
	}
	assert_int_equal(recs, 600 - damaged);
	spool_free(zsink_sp);
}

static void
test_corrupt_body_in_sealed_segment(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	uint64_t s;
	int saw_gap = 0, saw_q = 0;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	append_range(sp, 1, 300);
	spool_free(sp);
	/* Segment 1 is sealed; flip a byte in entry 10's JSON. */
	scribble(1, entry_off(9) + ENT_HDR_LEN + 20, "X", 1);

	sp = open_spool(&c);
	/* Sealed segments are not scanned at start-up. */
	assert_false(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	for (s = 1; s <= 300; s++) {
		if (s == 10)
			continue;
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	}
	expect_none(sp, SPOOL_NEXT_ANY);
	while (spool_event_next(sp, &ev)) {
		if (ev.type == SPOOL_EV_QUARANTINE) {
			assert_int_equal(ev.offset, entry_off(9));
			assert_int_equal(ev.cause, SPOOL_BAD_ENTRY_BODY);
			saw_q = 1;
		}
		if (ev.type == SPOOL_EV_GAP) {
			assert_int_equal(ev.gap.cause, SPOOL_GAP_CORRUPT);
			assert_int_equal(ev.gap.first_seq, 10);
			assert_int_equal(ev.gap.last_seq, 10);
			assert_int_equal(ev.gap.batches, 1);
			assert_string_equal(ev.gap.streams[0], STREAM);
			saw_gap = 1;
		}
	}
	assert_true(saw_q && saw_gap);
	spool_stats(sp, &st);
	assert_int_equal(st.dropped_batches, 1);
	spool_free(sp);
	/* Not reported again after a restart: it was recorded as gone. */
	sp = open_spool(&c);
	expect_next(sp, SPOOL_NEXT_ANY, 1, 1);
	for (s = 2; s <= 12; s++)
		if (s != 10)
			expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	assert_false(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	spool_free(sp);
}

static void
test_garbage_segment_quarantined(void **state)
{
	struct spool_event ev;
	struct spool *sp;
	char p[256], q[256], junk[5000];
	struct stat sb;
	size_t i;
	uint64_t s;
	int fd;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 3);
	spool_free(sp);
	/* An older segment full of garbage, and a newer one. */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	for (s = 0; s < 2; s++) {
		snprintf(p, sizeof(p), "%s/%016" PRIx64 ".seg", sdir,
		    s == 0 ? (uint64_t)0 : (uint64_t)9);
		assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
		assert_int_equal(write(fd, junk, sizeof(junk)),
		    (ssize_t)sizeof(junk));
		close(fd);
	}
	sp = open_spool(NULL);
	assert_true(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	assert_string_equal(ev.file, "0000000000000000.seg");
	assert_int_equal(ev.cause, SPOOL_BAD_SEG_HEADER);
	assert_string_equal(ev.saved_as, "quarantine/0000000000000000.seg");
	snprintf(q, sizeof(q), "%s/%s", sdir, ev.saved_as);
	assert_int_equal(stat(q, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(junk));
	assert_true(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	assert_string_equal(ev.file, "0000000000000009.seg");
	assert_int_not_equal(stat(p, &sb), 0);
	for (s = 1; s <= 3; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	/* New segments get ids above any file seen. */
	assert_int_equal(append(sp, 4, STREAM, 200), 0);
	expect_next(sp, SPOOL_NEXT_ANY, 4, 0);
	spool_free(sp);
	sp = open_spool(NULL);
	for (s = 1; s <= 4; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	spool_free(sp);
}

static void
test_bad_segment_header_keeps_entries(void **state)
{
	struct spool_event ev;
	struct spool *sp;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 3);
	spool_free(sp);
	scribble(1, 0, "XXXX", 4);
	sp = open_spool(NULL);
	assert_true(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	assert_int_equal(ev.cause, SPOOL_BAD_SEG_HEADER);
	for (s = 1; s <= 3; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	spool_free(sp);
	/* Repaired: quiet next time. */
	sp = open_spool(NULL);
	assert_false(find_event(sp, SPOOL_EV_QUARANTINE, &ev));
	spool_free(sp);
}

static void
test_zero_length_file(void **state)
{
	struct spool *sp;
	char p[256];
	int fd;

	(void)state;
	assert_int_equal(mkdir(sdir, 0700), 0);
	seg_path(p, sizeof(p), 1);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	sp = open_spool(NULL);
	expect_none(sp, SPOOL_NEXT_ANY);
	assert_int_equal(append(sp, 1, STREAM, 200), 0);
	expect_next(sp, SPOOL_NEXT_ANY, 1, 0);
	spool_free(sp);
	sp = open_spool(NULL);
	expect_next(sp, SPOOL_NEXT_ANY, 1, 1);
	spool_free(sp);
}

static void
test_footer_damaged_rescanned(void **state)
{
	struct spool_conf c;
	struct spool *sp;
	char p[256];
	struct stat sb;
	uint64_t s;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	append_range(sp, 1, 200);
	spool_free(sp);
	seg_path(p, sizeof(p), 1);
	assert_int_equal(stat(p, &sb), 0);
	scribble(1, (uint64_t)sb.st_size - 3, "zzz", 3);
	sp = open_spool(&c);
	for (s = 1; s <= 200; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	spool_free(sp);
}

static void
test_quota_drop_oldest(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	struct spool_entry *e = NULL;
	uint64_t s;

	(void)state;
	spool_conf_init(&c);
	c.quota_bytes = SPOOL_QUOTA_MIN_BYTES;
	sp = open_spool(&c);
	/* 246-byte entries, 32 KiB segments: 128 per segment. */
	for (s = 1; s <= 1200; s++)
		assert_int_equal(append(sp, s, s % 2 ? STREAM : "sheep", 200),
		    0);
	spool_stats(sp, &st);
	assert_true(st.disk_bytes <= c.quota_bytes);
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.cause, SPOOL_GAP_QUOTA);
	assert_int_equal(ev.gap.first_seq, 1);
	assert_int_equal(ev.gap.nstreams, 2);
	assert_false(ev.gap.streams_truncated);
	assert_int_equal(ev.gap.records, ev.gap.batches * 3);
	assert_int_equal(ev.gap.last_seq, ev.gap.batches);
	assert_int_equal(st.dropped_batches, ev.gap.batches);
	assert_int_equal(st.batches + st.dropped_batches, 1200);
	/* What is left starts right after the gap. */
	assert_int_equal(spool_next(sp, SPOOL_NEXT_ANY, &e), 1);
	assert_int_equal(e->seq, ev.gap.last_seq + 1);
	spool_entry_free(e);
	spool_free(sp);
}

static void
test_refuse_newest(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool *sp;
	uint64_t s, refused = 0, first = 0;
	int r;

	(void)state;
	spool_conf_init(&c);
	c.quota_bytes = SPOOL_QUOTA_MIN_BYTES;
	c.full_policy = SPOOL_REFUSE_NEWEST;
	sp = open_spool(&c);
	for (s = 1; s <= 1200; s++) {
		r = append(sp, s, STREAM, 200);
		if (r != 0) {
			assert_int_equal(r, -ENOSPC);
			if (first == 0)
				first = s;
			refused++;
		}
	}
	assert_true(refused > 0);
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.cause, SPOOL_GAP_REFUSED);
	/* One event for the whole refusal. */
	assert_int_equal(ev.gap.batches, refused);
	assert_int_equal(ev.gap.first_seq, first);
	assert_int_equal(ev.gap.last_seq, 1200);
	assert_false(find_event(sp, SPOOL_EV_GAP, &ev));
	/* The oldest are kept. */
	expect_next(sp, SPOOL_NEXT_ANY, 1, 0);
	spool_free(sp);
}

static void
test_max_age(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;

	(void)state;
	spool_conf_init(&c);
	c.max_age_s = 100;
	sp = open_spool(&c);
	append_range(sp, 1, 5);
	fake_now += 30 * 1000;	/* > max_age/4: the segment is sealed */
	append_range(sp, 6, 8);
	spool_stats(sp, &st);
	assert_int_equal(st.oldest_age_ms, 30 * 1000);
	fake_now += 80 * 1000;	/* first segment 110 s old, second 80 s */
	assert_int_equal(spool_sync(sp), 0);
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.cause, SPOOL_GAP_AGE);
	assert_int_equal(ev.gap.first_seq, 1);
	assert_int_equal(ev.gap.last_seq, 5);
	assert_int_equal(ev.gap.batches, 5);
	expect_next(sp, SPOOL_NEXT_ANY, 6, 0);
	spool_free(sp);
	/* Across a restart, by the wall clock. */
	fake_now += 30 * 1000;
	sp = open_spool(&c);
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.first_seq, 6);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_free(sp);
}

static void
test_wall_clock_unsynced_never_expires(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool *sp;

	(void)state;
	spool_conf_init(&c);
	c.max_age_s = 10;
	fake_now = 5000;	/* 1970: no RTC, no NTP yet */
	sp = open_spool(&c);
	assert_int_equal(append(sp, 1, STREAM, 200), 0);
	fake_now = 1700000000000ULL;	/* NTP steps the clock */
	assert_int_equal(spool_sync(sp), 0);
	assert_false(find_event(sp, SPOOL_EV_GAP, &ev));
	expect_next(sp, SPOOL_NEXT_ANY, 1, 0);
	spool_free(sp);
}

static void
test_enospc_drop_oldest_hook(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	int full = 0, ok = 0, gaps = 0;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	append_range(sp, 1, 400);
	/* One write fails; dropping the oldest segment makes room. */
	fail_count = 1;
	assert_int_equal(append(sp, 401, STREAM, 200), 0);
	while (spool_event_next(sp, &ev)) {
		if (ev.type == SPOOL_EV_DISK_FULL)
			full++;
		if (ev.type == SPOOL_EV_DISK_OK)
			ok++;
		if (ev.type == SPOOL_EV_GAP) {
			assert_int_equal(ev.gap.cause, SPOOL_GAP_DISK_FULL);
			assert_int_equal(ev.gap.first_seq, 1);
			assert_int_equal(ev.gap.last_seq, ev.gap.batches);
			assert_true(ev.gap.batches > 100);
			gaps++;
		}
	}
	assert_int_equal(full, 1);
	assert_int_equal(ok, 1);
	assert_int_equal(gaps, 1);
	spool_stats(sp, &st);
	assert_false(st.disk_full);
	assert_int_equal(st.batches + st.dropped_batches, 401);

	/* Nothing can be written at all: everything goes, said once. */
	fail_count = -1;
	assert_int_equal(append(sp, 402, STREAM, 200), -ENOSPC);
	assert_int_equal(append(sp, 403, STREAM, 200), -ENOSPC);
	spool_stats(sp, &st);
	assert_true(st.disk_full);
	assert_int_equal(st.batches, 0);
	fail_count = 0;
	assert_int_equal(append(sp, 404, STREAM, 200), 0);
	full = ok = gaps = 0;
	while (spool_event_next(sp, &ev)) {
		if (ev.type == SPOOL_EV_DISK_FULL)
			full++;
		if (ev.type == SPOOL_EV_DISK_OK)
			ok++;
		if (ev.type == SPOOL_EV_GAP) {
			assert_int_equal(ev.gap.last_seq, 403);
			gaps++;
		}
	}
	assert_int_equal(full, 1);	/* said once, not per record */
	assert_int_equal(ok, 1);
	assert_int_equal(gaps, 1);	/* merged */
	expect_next(sp, SPOOL_NEXT_ANY, 404, 0);
	spool_free(sp);
}

static void
test_enospc_refuse_then_recover_hook(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool *sp;
	uint64_t s;

	(void)state;
	spool_conf_init(&c);
	c.full_policy = SPOOL_REFUSE_NEWEST;
	sp = open_spool(&c);
	append_range(sp, 1, 5);
	fail_count = -1;
	for (s = 6; s <= 9; s++)
		assert_int_equal(append(sp, s, STREAM, 200), -ENOSPC);
	assert_true(find_event(sp, SPOOL_EV_DISK_FULL, &ev));
	assert_int_equal(ev.err, ENOSPC);
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.first_seq, 6);
	assert_int_equal(ev.gap.last_seq, 9);
	assert_int_equal(ev.gap.batches, 4);
	assert_false(find_event(sp, SPOOL_EV_DISK_FULL, &ev));
	/* A short write half-way through an entry leaves nothing behind. */
	fail_short = 1;
	fail_count = 1;
	assert_int_equal(append(sp, 10, STREAM, 200), -ENOSPC);
	fail_short = 0;
	assert_int_equal(append(sp, 11, STREAM, 200), 0);
	assert_true(find_event(sp, SPOOL_EV_DISK_OK, &ev));
	spool_free(sp);
	sp = open_spool(&c);
	for (s = 1; s <= 5; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 11, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	assert_false(find_event(sp, SPOOL_EV_TRUNCATED, &ev));
	spool_free(sp);
}

static int fail_sync;

static int
hook_fdatasync(int fd)
{
	if (fail_sync) {
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static void
test_fsync_failure_reported(void **state)
{
	struct spool_event ev;
	struct spool *sp;

	(void)state;
	spool_fdatasync = hook_fdatasync;
	sp = open_spool(NULL);
	assert_int_equal(append(sp, 1, STREAM, 200), 0);
	fail_sync = 1;
	assert_int_equal(spool_sync(sp), -EIO);
	assert_true(find_event(sp, SPOOL_EV_IO_ERROR, &ev));
	assert_int_equal(ev.err, EIO);
	fail_sync = 0;
	/* Appends go on, into a new segment. */
	assert_int_equal(append(sp, 2, STREAM, 200), 0);
	assert_int_equal(spool_sync(sp), 0);
	spool_free(sp);
	spool_fdatasync = fdatasync;
	sp = open_spool(NULL);
	expect_next(sp, SPOOL_NEXT_ANY, 1, 1);
	expect_next(sp, SPOOL_NEXT_ANY, 2, 1);
	spool_free(sp);
}

/* A real small file system: ENOSPC from the kernel. */
static void
test_enospc_tmpfs(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	char mnt[96];
	uint64_t s, last = 0;
	int full = 0, gaps = 0;

	(void)state;
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k") != 0) {
		print_message("tmpfs mount not possible (%s): skipped, the "
		    "write hook tests cover ENOSPC\n", strerror(errno));
		skip();
	}
	snprintf(sdir, sizeof(sdir), "%s/spool", mnt);
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	for (s = 1; s <= 3000; s++) {
		/* Drop-oldest keeps every append succeeding. */
		assert_int_equal(append(sp, s, STREAM, 200), 0);
		if (s % 50 == 0)
			assert_int_equal(spool_sync(sp), 0);
	}
	while (spool_event_next(sp, &ev)) {
		if (ev.type == SPOOL_EV_DISK_FULL)
			full++;
		if (ev.type == SPOOL_EV_GAP) {
			assert_int_equal(ev.gap.cause, SPOOL_GAP_DISK_FULL);
			assert_true(ev.gap.first_seq > last);
			last = ev.gap.last_seq;
			gaps++;
		}
	}
	assert_true(full >= 1);
	assert_true(gaps >= 1);
	spool_stats(sp, &st);
	assert_int_equal(st.batches + st.dropped_batches, 3000);
	spool_free(sp);
	/* Oldest-first: what survives is the newest, contiguous, intact. */
	sp = open_spool(&c);
	for (s = last + 1; s <= 3000; s++)
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
	expect_none(sp, SPOOL_NEXT_ANY);
	spool_free(sp);
	assert_int_equal(umount(mnt), 0);
}

/* spool_has_seq: what the journal's start-up check asks. */
static void
test_has_seq(void **state)
{
	struct spool_conf c;
	struct spool_entry *e;
	struct spool *sp;
	uint64_t s;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	assert_int_equal(spool_has_seq(sp, 1), 0);	/* empty: unknown */
	for (s = 10; s < 410; s += 2)
		assert_int_equal(append(sp, s, STREAM, 200), 0);
	assert_int_equal(spool_has_seq(sp, 10), 1);
	assert_int_equal(spool_has_seq(sp, 200), 1);
	assert_int_equal(spool_has_seq(sp, 408), 1);
	assert_int_equal(spool_has_seq(sp, 201), 0);	/* a hole */
	assert_int_equal(spool_has_seq(sp, 410), 0);	/* never stored */
	assert_int_equal(spool_has_seq(sp, 9), 1);	/* released before */
	/* Acknowledged entries are held until their segment goes. */
	assert_int_equal(spool_next(sp, SPOOL_NEXT_ANY, &e), 1);
	assert_int_equal(spool_ack(sp, e->seq), 0);
	spool_entry_free(e);
	assert_int_equal(spool_has_seq(sp, 10), 1);
	spool_free(sp);
	/* Sealed segments are searched too, after a restart. */
	sp = open_spool(&c);
	assert_int_equal(spool_has_seq(sp, 100), 1);
	assert_int_equal(spool_has_seq(sp, 101), 0);
	spool_free(sp);
}

/* After a torn tail nothing older can be assumed released. */
static void
test_has_seq_after_torn_tail(void **state)
{
	struct spool *sp;
	char p[256];

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 5, 9);
	spool_free(sp);
	seg_path(p, sizeof(p), 1);
	assert_int_equal(truncate(p, (off_t)entry_off(4) + 10), 0);
	sp = open_spool(NULL);
	assert_int_equal(spool_has_seq(sp, 8), 1);
	assert_int_equal(spool_has_seq(sp, 9), 0);	/* cut off */
	assert_int_equal(spool_has_seq(sp, 4), 0);	/* damage seen */
	spool_free(sp);
}

/* A kept message (gap event) that cannot be stored is not a gap. */
static void
test_append_kept_reports_nothing(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	uint64_t s;
	int r = 0;

	(void)state;
	spool_conf_init(&c);
	c.quota_bytes = SPOOL_QUOTA_MIN_BYTES;
	c.full_policy = SPOOL_REFUSE_NEWEST;
	sp = open_spool(&c);
	for (s = 1; r == 0; s++)
		r = append(sp, s, STREAM, 200);
	assert_int_equal(r, -ENOSPC);
	while (spool_event_next(sp, &ev))
		;
	spool_stats(sp, &st);
	{
		struct batch b;
		char json[] = "{\"event\":\"gap\"}";

		memset(&b, 0, sizeof(b));
		b.seq = s;
		snprintf(b.stream, sizeof(b.stream), "events");
		b.data = json;
		b.len = strlen(json);
		assert_int_equal(spool_append_kept(sp, &b), -ENOSPC);
	}
	assert_false(find_event(sp, SPOOL_EV_GAP, &ev));
	{
		struct spool_stats st2;

		spool_stats(sp, &st2);
		assert_int_equal(st2.dropped_batches, st.dropped_batches);
	}
	spool_free(sp);
}

/* Another writer out of space: the oldest segment goes, as a gap. */
static void
test_reclaim(void **state)
{
	struct spool_conf c;
	struct spool_event ev;
	struct spool *sp;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	sp = open_spool(&c);
	assert_int_equal(spool_reclaim(sp), -ENOSPC);	/* nothing to drop */
	append_range(sp, 1, 300);
	assert_int_equal(spool_reclaim(sp), 0);
	assert_true(find_event(sp, SPOOL_EV_DISK_FULL, &ev));
	assert_true(find_event(sp, SPOOL_EV_GAP, &ev));
	assert_int_equal(ev.gap.cause, SPOOL_GAP_DISK_FULL);
	assert_int_equal(ev.gap.first_seq, 1);
	expect_next(sp, SPOOL_NEXT_ANY, ev.gap.last_seq + 1, 0);
	spool_free(sp);
	c.full_policy = SPOOL_REFUSE_NEWEST;
	sp = open_spool(&c);
	assert_int_equal(spool_reclaim(sp), -ENOSPC);	/* keeps history */
	spool_free(sp);
}

/* Backlog depth in records and bytes, for the drain's progress. */
static void
test_backlog_stats(void **state)
{
	struct spool_stats st;
	struct spool_entry *e;
	struct spool *sp;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	append_range(sp, 1, 10);
	spool_stats(sp, &st);
	assert_int_equal(st.backlog_batches, 0);	/* all live */
	spool_rewind(sp);
	append_range(sp, 11, 12);
	spool_stats(sp, &st);
	assert_int_equal(st.backlog_batches, 10);
	assert_int_equal(st.backlog_records, 30);
	assert_int_equal(st.backlog_bytes, 2000);
	assert_int_equal(st.batches, 12);
	for (s = 0; s < 3; s++) {
		assert_int_equal(spool_next(sp, SPOOL_NEXT_BACKLOG, &e), 1);
		assert_int_equal(spool_ack(sp, e->seq), 0);
		spool_entry_free(e);
	}
	spool_stats(sp, &st);
	assert_int_equal(st.backlog_batches, 7);
	assert_int_equal(st.backlog_records, 21);
	assert_int_equal(st.backlog_bytes, 1400);
	assert_int_equal(st.quota_bytes, SPOOL_QUOTA_DEFAULT_BYTES);
	spool_free(sp);
}

/* Full disk: "space is back" only with room for two segments, so the
 * state does not flap with every segment dropped to make room. */
static void
test_disk_full_state_holds_while_dropping(void **state)
{
	struct spool_event ev;
	struct spool_stats st;
	struct spool *sp;
	char mnt[96];
	int full = 0, ok = 0;

	(void)state;
	snprintf(mnt, sizeof(mnt), "%s/mnt", tdir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=512k") != 0) {
		print_message("tmpfs mount not possible (%s): skipped\n",
		    strerror(errno));
		skip();
	}
	snprintf(sdir, sizeof(sdir), "%s/spool", mnt);
	sp = open_spool(NULL);
	spool_stats(sp, &st);
	/* A sixteenth of the file system, not the default 8 MiB. */
	assert_int_equal(st.segment_bytes, SPOOL_SEGMENT_MIN_BYTES);
	append_range(sp, 1, 6000);
	while (spool_event_next(sp, &ev)) {
		full += ev.type == SPOOL_EV_DISK_FULL;
		ok += ev.type == SPOOL_EV_DISK_OK;
	}
	assert_int_equal(full, 1);
	assert_int_equal(ok, 0);
	spool_stats(sp, &st);
	assert_true(st.disk_full);
	spool_free(sp);
	assert_int_equal(umount(mnt), 0);
}

static void
test_second_open_busy(void **state)
{
	struct spool *sp, *sp2 = NULL;

	(void)state;
	sp = open_spool(NULL);
	assert_int_equal(spool_open(sdir, NULL, &sp2), -EBUSY);
	assert_null(sp2);
	spool_free(sp);
}

static void
test_bad_batches_refused(void **state)
{
	struct spool *sp;
	struct batch b;
	char data[4] = "{}";

	(void)state;
	sp = open_spool(NULL);
	memset(&b, 0, sizeof(b));
	b.seq = 1;
	b.data = data;
	b.len = 2;
	assert_int_equal(spool_append(sp, &b), -EINVAL);	/* no stream */
	snprintf(b.stream, sizeof(b.stream), "a/b");
	assert_int_equal(spool_append(sp, &b), -EINVAL);
	snprintf(b.stream, sizeof(b.stream), "ok");
	b.len = SPOOL_DATA_MAX_BYTES + 1;
	assert_int_equal(spool_append(sp, &b), -EFBIG);
	spool_free(sp);
}

/*
 * The crash loop: a child appends and syncs as fast as it can and tells
 * the parent, through a pipe, each seq it has synced; it is killed with
 * SIGKILL at a random moment.  Every synced, unacknowledged entry must be
 * there afterwards, intact and in order; acknowledged ones must not.
 */
static void
child_run(int wfd, uint64_t seq)
{
	struct spool_conf c;
	struct spool *sp;

	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	if (spool_open(sdir, &c, &sp) != 0)
		_exit(2);
	for (;; seq++) {
		if (append(sp, seq, STREAM, 100 + seq % 300) != 0)
			_exit(3);
		if (seq % 4 == 0) {
			if (spool_sync(sp) != 0)
				_exit(4);
			if (write(wfd, &seq, sizeof(seq)) != sizeof(seq))
				_exit(5);
		}
	}
}

static void
test_crash_kill9(void **state)
{
	struct spool_conf c;
	struct spool_entry *e;
	struct spool *sp;
	uint8_t *acked;
	uint64_t synced = 0, next = 1, got, v, maxseen;
	char buf[70000];
	int round, pfd[2], status, r;
	pid_t pid;
	size_t n;

	(void)state;
	spool_conf_init(&c);
	c.segment_bytes = SPOOL_SEGMENT_MIN_BYTES;
	c.outstanding_max = 1 << 20;
	assert_non_null(acked = calloc(1, 1 << 20));
	srandom((unsigned)getpid());
	for (round = 0; round < 8; round++) {
		assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
		if ((pid = fork()) == 0) {
			close(pfd[0]);
			spool_clock_ms = wall_now_ms;
			child_run(pfd[1], next);
		}
		assert_true(pid > 0);
		close(pfd[1]);
		/* The kill comes at a random moment after the child's first
		 * sync: on a busy machine a fixed delay could end the child
		 * before it synced anything (flaky "synced >= next"). */
		assert_int_equal(read(pfd[0], &v, sizeof(v)), sizeof(v));
		synced = v;
		usleep((useconds_t)(random() % 60000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
			synced = v;
		close(pfd[0]);
		assert_true(synced >= next);

		sp = open_spool(&c);
		got = 0;
		maxseen = 0;
		while ((r = spool_next(sp, SPOOL_NEXT_ANY, &e)) == 1) {
			/* In order, intact. */
			assert_true(e->seq > maxseen);
			assert_true(e->seq < (1 << 20));
			assert_false(acked[e->seq]);
			n = body_for(e->seq, buf, sizeof(buf),
			    100 + e->seq % 300);
			assert_int_equal(e->len, n);
			assert_memory_equal(e->data, buf, n);
			/* Nothing synced and unacked is missing. */
			for (v = maxseen + 1; v < e->seq; v++)
				assert_true(acked[v] || v > synced);
			maxseen = e->seq;
			/* Acknowledge a third, at random. */
			if (random() % 3 == 0) {
				acked[e->seq] = 1;
				assert_int_equal(spool_ack(sp, e->seq), 0);
			}
			spool_entry_free(e);
			got++;
		}
		assert_int_equal(r, 0);
		for (v = maxseen + 1; v <= synced; v++) {
			if (!acked[v])
				print_error("round %d: seq %" PRIu64 " missing, "
				    "synced %" PRIu64 " maxseen %" PRIu64
				    " next %" PRIu64 "\n", round, v, synced,
				    maxseen, next);
			assert_true(acked[v]);
		}
		assert_true(got > 0);
		spool_free(sp);
		next = (maxseen > synced ? maxseen : synced) + 1;
	}
	free(acked);
}

/*
 * spool_oldest_age_s once reported the age of the oldest entry of the
 * oldest segment with anything left, acknowledged or not: after a restart
 * with a backlog whose first batches were delivered, the waiting batches
 * looked as old as the segment (hours), not as old as they are.
 */
static void
test_oldest_age_is_oldest_waiting(void **state)
{
	struct spool_stats st;
	struct spool *sp;
	uint64_t s;

	(void)state;
	sp = open_spool(NULL);
	for (s = 1; s <= 4; s++) {
		assert_int_equal(append(sp, s, STREAM, 200), 0);
		fake_now += 3600 * 1000;	/* one an hour */
	}
	assert_int_equal(spool_sync(sp), 0);
	spool_stats(sp, &st);
	assert_int_equal(st.oldest_age_ms, 4 * 3600 * 1000);
	spool_free(sp);

	/* A restart; the first two are delivered. */
	sp = open_spool(NULL);
	for (s = 1; s <= 2; s++) {
		expect_next(sp, SPOOL_NEXT_ANY, s, 1);
		assert_int_equal(spool_ack(sp, s), 0);
	}
	spool_stats(sp, &st);
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.oldest_age_ms, 2 * 3600 * 1000);
	fake_now += 60 * 1000;
	spool_stats(sp, &st);
	assert_int_equal(st.oldest_age_ms, 2 * 3600 * 1000 + 60 * 1000);
	spool_free(sp);

	/* Again after a restart: the acks are read back. */
	sp = open_spool(NULL);
	spool_stats(sp, &st);
	assert_int_equal(st.oldest_age_ms, 2 * 3600 * 1000 + 60 * 1000);
	expect_next(sp, SPOOL_NEXT_ANY, 3, 1);
	assert_int_equal(spool_ack(sp, 3), 0);
	spool_stats(sp, &st);
	assert_int_equal(st.oldest_age_ms, 1 * 3600 * 1000 + 60 * 1000);
	spool_free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_oldest_age_is_oldest_waiting),
		T(test_append_reopen_ack),
		T(test_reopen_after_partial_ack),
		T(test_out_of_order_acks_delete_segments),
		T(test_live_before_backlog),
		T(test_torn_tail_truncated),
		T(test_torn_header_tail),
		T(test_garbage_mid_open_segment),
		T(test_corrupt_body_in_sealed_segment),
		T(test_garbage_segment_quarantined),
		T(test_zlib_entries_round_trip_and_quarantine),
		T(test_bad_segment_header_keeps_entries),
		T(test_zero_length_file),
		T(test_footer_damaged_rescanned),
		T(test_quota_drop_oldest),
		T(test_refuse_newest),
		T(test_max_age),
		T(test_wall_clock_unsynced_never_expires),
		T(test_enospc_drop_oldest_hook),
		T(test_enospc_refuse_then_recover_hook),
		T(test_fsync_failure_reported),
		T(test_enospc_tmpfs),
		T(test_has_seq),
		T(test_has_seq_after_torn_tail),
		T(test_append_kept_reports_nothing),
		T(test_reclaim),
		T(test_backlog_stats),
		T(test_disk_full_state_holds_while_dropping),
		T(test_second_open_busy),
		T(test_bad_batches_refused),
		T(test_crash_kill9),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
