/*
 * test_journal.c - the open-batch journal (daemon/store/journal.c): what a crash
 * leaves is replayed exactly when no durable batch holds it, releases are
 * trusted only under a checkpoint or a confirmation, damage is reported and
 * quarantined, full disks are survived, files do not pile up.
 *
 * The file is included so the write hooks can be replaced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "daemon/store/journal.c"
#include "tests/testutil.h"

static char tdir[64];

static int fail_write;		/* > 0: fail that many writes with ENOSPC */
static int fail_short;

static ssize_t
hook_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (fail_write > 0) {
		fail_write--;
		if (fail_short && n > 1)
			return pwrite(fd, p, n / 2, off);
		errno = ENOSPC;
		return -1;
	}
	return pwrite(fd, p, n, off);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tdir, sizeof(tdir), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(tdir));
	journal_pwrite = hook_pwrite;
	fail_write = 0;
	fail_short = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	testutil_rm_rf(tdir);
	return 0;
}

static struct journal *
jopen(void)
{
	struct journal *jn = NULL;

	assert_int_equal(journal_open(tdir, &jn), 0);
	return jn;
}

/* A record with contents derived from (eui, fcnt). */
static void
rec(struct record *r, uint8_t *pl, const char *stream, uint64_t eui,
    uint32_t fcnt)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->eui = eui;
	r->fcnt = fcnt;
	r->stream = stream;
	r->rx_wall.tv_sec = 1790000000 + fcnt;
	r->rx_wall.tv_nsec = 123456789;
	r->clock_synced = fcnt & 1;
	r->meta.modulation = 0;
	r->meta.freq_hz = 868100000;
	r->meta.datarate = 7 + fcnt % 6;
	r->meta.bw_hz = 125000;
	r->meta.rssi_dbm = -100 + (int16_t)(fcnt % 40);
	r->meta.snr_db10 = -75;
	r->meta.tmst_us = fcnt * 1000;
	r->len = fcnt % 40;
	for (i = 0; i < r->len; i++)
		pl[i] = (uint8_t)(eui + fcnt + i);
	r->payload = pl;
}

static void
add(struct journal *jn, const char *stream, uint64_t eui, uint32_t fcnt)
{
	struct record r;
	uint8_t pl[RADIO_PAYLOAD_MAX];

	rec(&r, pl, stream, eui, fcnt);
	assert_int_equal(journal_add(jn, &r), 0);
}

/* Records 1..n of one device. */
static void
add_n(struct journal *jn, const char *stream, uint64_t eui, uint32_t n)
{
	uint32_t i;

	for (i = 1; i <= n; i++)
		add(jn, stream, eui, i);
}

/* A sealed batch whose first record is (eui, fcnt), as the batcher
 * writes it. */
static void
seal(struct journal *jn, const char *stream, uint64_t seq, uint64_t eui,
    uint32_t fcnt, uint32_t nrec, int stored)
{
	char buf[512];
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.seq = seq;
	snprintf(b.stream, sizeof(b.stream), "%s", stream);
	b.nrecords = nrec;
	b.len = (size_t)snprintf(buf, sizeof(buf), "{\"v\":1,\"gw\":\"g\","
	    "\"seq\":%llu,\"stream\":\"%s\",\"records\":[{\"dev\":\"%016llX\","
	    "\"fcnt\":%u,\"rx\":\"x\"}]}", (unsigned long long)seq, stream,
	    (unsigned long long)eui, fcnt);
	b.data = buf;
	b.first_known = 1;
	b.first_eui = eui;
	b.first_fcnt = fcnt;
	assert_int_equal(journal_sealed(jn, &b, stored), 0);
}

struct got {
	struct record	r[4096];
	uint8_t		pl[4096][RADIO_PAYLOAD_MAX];
	char		stream[4096][BATCH_STREAM_MAX + 1];
	size_t		n;
	int		verify_answer;
	int		verify_calls;
	int		bad_calls;
	int		torn_calls;
};

static struct got got;

static int
cb_verify(void *arg, uint64_t seq)
{
	(void)arg;
	(void)seq;
	got.verify_calls++;
	return got.verify_answer;
}

static void
cb_bad(void *arg, const char *file, uint64_t off, uint64_t len,
    const char *why)
{
	(void)arg;
	(void)file;
	(void)off;
	(void)len;
	if (strcmp(why, "torn last write") == 0)
		got.torn_calls++;
	else
		got.bad_calls++;
}

static void
cb_replay(void *arg, const struct record *r)
{
	(void)arg;
	assert_true(got.n < 4096);
	got.r[got.n] = *r;
	memcpy(got.pl[got.n], r->payload, r->len);
	got.r[got.n].payload = got.pl[got.n];
	snprintf(got.stream[got.n], sizeof(got.stream[0]), "%s", r->stream);
	got.r[got.n].stream = got.stream[got.n];
	got.n++;
}

/* Reopen as the next run would; returns the journal after recovery. */
static struct journal *
restart(struct journal *old, int verify_answer)
{
	struct journal *jn;
	int n;

	journal_free(old);
	memset(&got, 0, sizeof(got));
	got.verify_answer = verify_answer;
	jn = jopen();
	n = journal_recover(jn, cb_verify, cb_bad, cb_replay, NULL);
	assert_true(n >= 0);
	assert_int_equal((size_t)n, got.n);
	return jn;
}

static void
expect_replayed(size_t i, const char *stream, uint64_t eui, uint32_t fcnt)
{
	struct record want;
	uint8_t pl[RADIO_PAYLOAD_MAX];
	const struct record *r = &got.r[i];

	assert_true(i < got.n);
	rec(&want, pl, stream, eui, fcnt);
	assert_string_equal(r->stream, stream);
	assert_int_equal(r->eui, eui);
	assert_int_equal(r->fcnt, fcnt);
	assert_int_equal(r->rx_wall.tv_sec, want.rx_wall.tv_sec);
	assert_int_equal(r->rx_wall.tv_nsec, want.rx_wall.tv_nsec);
	assert_int_equal(r->clock_synced, want.clock_synced);
	assert_memory_equal(&r->meta, &want.meta, sizeof(want.meta));
	assert_int_equal(r->len, want.len);
	assert_memory_equal(r->payload, pl, want.len);
}

static int
count_files(const char *ext)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir(tdir));
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) > 4 &&
		    strcmp(de->d_name + strlen(de->d_name) - 4, ext) == 0)
			n++;
	closedir(d);
	return n;
}

/* Records journaled and committed come back, all fields intact. */
static void
test_crash_replays_open_batches(void **state)
{
	struct journal *jn = jopen();
	uint32_t i;

	(void)state;
	assert_int_equal(journal_recover(jn, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(journal_recovered(jn), 0);
	add_n(jn, "cattle", 0x70B3D57ED0001001ULL, 5);
	add_n(jn, "water", 0x70B3D57ED0002002ULL, 3);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	/* Accepted after the last write: inside the window, may be lost. */
	add(jn, "cattle", 0x70B3D57ED0001001ULL, 6);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 8);
	for (i = 0; i < 5; i++)
		expect_replayed(i, "cattle", 0x70B3D57ED0001001ULL, i + 1);
	for (i = 0; i < 3; i++)
		expect_replayed(5 + i, "water", 0x70B3D57ED0002002ULL, i + 1);
	assert_int_equal(got.bad_calls, 0);
	assert_int_equal(journal_recovered(jn), 0);
	assert_int_equal(count_files(".jnl"), 0);
	journal_free(jn);
}

/* A batch sealed and checkpointed releases exactly its records. */
static void
test_checkpointed_release_is_trusted(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 5);
	assert_int_equal(journal_write(jn), 0);
	seal(jn, "cattle", 100, 1, 1, 3, 1);
	assert_int_equal(journal_commit(jn, 1), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 2);
	expect_replayed(0, "cattle", 1, 4);
	expect_replayed(1, "cattle", 1, 5);
	/* Under a checkpoint: no need to ask the spool. */
	assert_int_equal(got.verify_calls, 0);
	journal_free(jn);
}

/*
 * A release written after the last checkpoint may have reached the disk
 * without its batch (power cut): trusted only when the spool says so.
 */
static void
test_release_after_checkpoint_needs_spool(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 5);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	seal(jn, "cattle", 100, 1, 1, 3, 1);
	jn = restart(jn, 0);
	assert_int_equal(got.verify_calls, 1);
	assert_int_equal(got.n, 5);
	/* The same files again, now the spool has it (kill -9). */
	journal_free(jn);
	jn = restart(NULL, 1);
	assert_int_equal(got.n, 2);
	expect_replayed(0, "cattle", 1, 4);
	journal_free(jn);
}

/* A commit whose spool_sync failed writes no checkpoint. */
static void
test_no_checkpoint_when_spool_sync_failed(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 4);
	assert_int_equal(journal_write(jn), 0);
	seal(jn, "cattle", 7, 1, 1, 4, 1);
	assert_int_equal(journal_commit(jn, 0), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 4);
	journal_free(jn);
}

/* A batch the spool could not keep is a gap already: not replayed. */
static void
test_lost_batch_release_not_replayed(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 3);
	assert_int_equal(journal_write(jn), 0);
	seal(jn, "cattle", 9, 1, 1, 3, 0);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 0);
	assert_int_equal(got.verify_calls, 0);
	journal_free(jn);
}

/* Records sealed before any write never reach the journal at all. */
static void
test_fast_batches_cost_nothing(void **state)
{
	struct journal *jn = jopen();
	struct journal_stats st;
	uint32_t i;

	(void)state;
	for (i = 1; i <= 1000; i++) {
		add(jn, "cattle", 1, i);
		if (i % 10 == 0)
			seal(jn, "cattle", i / 10, 1, i - 9, 10, 1);
	}
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	journal_stats(jn, &st);
	assert_int_equal(st.records_written, 0);
	assert_int_equal(st.bytes_written, 0);
	assert_int_equal(st.pending, 0);
	assert_int_equal(count_files(".jnl"), 0);
	journal_free(jn);
}

/* A clean stop: everything sealed and committed, no file is left. */
static void
test_clean_stop_leaves_no_file(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 5);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	assert_int_equal(count_files(".jnl"), 1);
	seal(jn, "cattle", 1, 1, 1, 5, 1);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	journal_free(jn);
	assert_int_equal(count_files(".jnl"), 0);
}

/* Files rotate and are deleted once all their records are released. */
static void
test_files_rotate_and_go(void **state)
{
	struct journal *jn = jopen();
	struct journal_stats st;
	uint32_t i, first = 1;

	(void)state;
	/* About 120 bytes a record: 30000 records span several files. */
	for (i = 1; i <= 30000; i++) {
		add(jn, "cattle", 1, i);
		if (i % 1000 == 0) {
			assert_int_equal(journal_write(jn), 0);
			assert_int_equal(journal_commit(jn, 1), 0);
		}
	}
	journal_stats(jn, &st);
	assert_true(st.files >= 3);
	/* Seal in batches of 500, committing as the daemon does. */
	for (i = 0; i < 60; i++) {
		seal(jn, "cattle", i + 1, 1, first, 500, 1);
		first += 500;
		if (i % 5 == 4)
			assert_int_equal(journal_commit(jn, 1), 0);
	}
	assert_int_equal(journal_commit(jn, 1), 0);
	journal_stats(jn, &st);
	assert_int_equal(st.pending, 0);
	assert_true(st.files <= 1);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 0);
	journal_free(jn);
}

/* Bad bytes between items: reported, skipped, the file quarantined. */
static void
test_damage_quarantined(void **state)
{
	struct journal *jn = jopen();
	char path[128], q[160];
	uint32_t i;
	int fd;

	(void)state;
	add_n(jn, "cattle", 1, 3);
	assert_int_equal(journal_write(jn), 0);
	for (i = 4; i <= 6; i++)
		add(jn, "cattle", 1, i);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	/* Flip a byte in the second record's body. */
	snprintf(path, sizeof(path), "%s/0000000000000001.jnl", tdir);
	assert_true((fd = open(path, O_RDWR)) >= 0);
	assert_int_equal(pwrite(fd, "X", 1, JF_HDR_LEN + 1 *
	    (JI_HDR_LEN + JR_FIXED_LEN + 6 + 2) + JI_HDR_LEN + 9), 1);
	close(fd);
	jn = restart(jn, 0);
	assert_int_equal(got.bad_calls, 1);
	assert_int_equal(got.n, 5);
	expect_replayed(0, "cattle", 1, 1);
	expect_replayed(1, "cattle", 1, 3);
	assert_int_equal(journal_recovered(jn), 0);
	snprintf(q, sizeof(q), "%s/quarantine/0000000000000001.jnl", tdir);
	assert_int_equal(access(q, F_OK), 0);
	assert_int_equal(count_files(".jnl"), 0);
	journal_free(jn);
}

/* A torn last write is cut off, not quarantined. */
static void
test_torn_tail(void **state)
{
	struct journal *jn = jopen();
	char path[128];
	struct stat st;

	(void)state;
	add_n(jn, "cattle", 1, 3);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	snprintf(path, sizeof(path), "%s/0000000000000001.jnl", tdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 5), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.torn_calls, 1);
	assert_int_equal(got.bad_calls, 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(journal_recovered(jn), 0);
	assert_int_equal(count_files(".jnl"), 0);
	journal_free(jn);
}

/* Garbage instead of a journal file: reported, nothing replayed. */
static void
test_garbage_file(void **state)
{
	struct journal *jn;
	char path[128], junk[3000];
	int fd;

	(void)state;
	memset(junk, 0xfb, sizeof(junk));
	snprintf(path, sizeof(path), "%s/00000000000000ff.jnl", tdir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0600)) >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	jn = restart(NULL, 0);
	assert_int_equal(got.n, 0);
	assert_true(got.bad_calls >= 1);
	assert_int_equal(journal_recovered(jn), 0);
	assert_int_equal(count_files(".jnl"), 0);
	/* The next file continues above the damaged one's id. */
	add(jn, "cattle", 1, 1);
	assert_int_equal(journal_write(jn), 0);
	snprintf(path, sizeof(path), "%s/0000000000000100.jnl", tdir);
	assert_int_equal(access(path, F_OK), 0);
	journal_free(jn);
}

/* A full disk: nothing half-written, the records wait and go later. */
static void
test_enospc_then_recover(void **state)
{
	struct journal *jn = jopen();
	struct journal_stats st;
	uint32_t i;

	(void)state;
	add_n(jn, "cattle", 1, 3);
	assert_int_equal(journal_write(jn), 0);
	for (i = 4; i <= 6; i++)
		add(jn, "cattle", 1, i);
	fail_write = 1;
	fail_short = 1;
	assert_int_equal(journal_write(jn), -ENOSPC);
	journal_stats(jn, &st);
	assert_int_equal(st.unwritten, 3);
	fail_write = 1;
	fail_short = 0;
	assert_int_equal(journal_write(jn), -ENOSPC);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.bad_calls, 0);
	assert_int_equal(got.torn_calls, 0);
	assert_int_equal(got.n, 6);
	for (i = 0; i < 6; i++)
		expect_replayed(i, "cattle", 1, i + 1);
	journal_free(jn);
}

/* A release that could not be written is written at the next commit. */
static void
test_release_retried(void **state)
{
	struct journal *jn = jopen();
	struct batch b;
	char buf[256];

	(void)state;
	add_n(jn, "cattle", 1, 4);
	assert_int_equal(journal_write(jn), 0);
	memset(&b, 0, sizeof(b));
	b.seq = 5;
	snprintf(b.stream, sizeof(b.stream), "cattle");
	b.nrecords = 4;
	b.len = (size_t)snprintf(buf, sizeof(buf), "{\"records\":[{\"dev\":"
	    "\"0000000000000001\",\"fcnt\":1}]}");
	b.data = buf;
	b.first_known = 1;
	b.first_eui = 1;
	b.first_fcnt = 1;
	fail_write = 1;
	assert_int_equal(journal_sealed(jn, &b, 1), -ENOSPC);
	assert_int_equal(journal_commit(jn, 1), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 0);
	journal_free(jn);
}

/* A lost batch (no sequence number) leaves records that the next
 * batch's first record skips over. */
static void
test_sealed_batch_found_after_lost_one(void **state)
{
	struct journal *jn = jopen();
	struct journal_stats st;

	(void)state;
	add_n(jn, "cattle", 1, 6);
	seal(jn, "cattle", 3, 1, 4, 2, 1);
	journal_stats(jn, &st);
	assert_int_equal(st.pending, 1);
	/* A batch it never saw (the start-up replay) releases nothing. */
	seal(jn, "cattle", 4, 2, 1, 1, 1);
	journal_stats(jn, &st);
	assert_int_equal(st.pending, 1);
	journal_unadd(jn, "cattle");
	journal_stats(jn, &st);
	assert_int_equal(st.pending, 0);
	journal_free(jn);
}

/*
 * A crash during the start-up replay, after the replayed records were
 * sealed into new batches but before the old files were removed: the
 * next start must not replay them a second time.
 */
static void
test_replay_not_twice_after_crash_in_recovery(void **state)
{
	struct journal *jn = jopen();

	(void)state;
	add_n(jn, "cattle", 1, 4);
	assert_int_equal(journal_write(jn), 0);
	assert_int_equal(journal_commit(jn, 1), 0);
	jn = restart(jn, 0);
	assert_int_equal(got.n, 4);
	/* The daemon batches them again: one batch, appended, released. */
	seal(jn, "cattle", 50, 1, 1, 4, 1);
	/* Killed before journal_recovered: the spool has batch 50. */
	jn = restart(jn, 1);
	assert_int_equal(got.n, 0);
	assert_int_equal(journal_recovered(jn), 0);
	journal_free(jn);
	/* Nothing is left to replay after a clean recovery either. */
	jn = restart(NULL, 0);
	assert_int_equal(got.n, 0);
	journal_free(jn);
}

/* Stream names the batcher would refuse are refused here too. */
static void
test_bad_stream_refused(void **state)
{
	struct journal *jn = jopen();
	struct record r;
	uint8_t pl[RADIO_PAYLOAD_MAX];

	(void)state;
	rec(&r, pl, "a/b", 1, 1);
	assert_int_equal(journal_add(jn, &r), -EINVAL);
	rec(&r, pl, "", 1, 1);
	assert_int_equal(journal_add(jn, &r), -EINVAL);
	r.stream = NULL;
	assert_int_equal(journal_add(jn, &r), -EINVAL);
	journal_free(jn);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_crash_replays_open_batches),
		T(test_checkpointed_release_is_trusted),
		T(test_release_after_checkpoint_needs_spool),
		T(test_no_checkpoint_when_spool_sync_failed),
		T(test_lost_batch_release_not_replayed),
		T(test_fast_batches_cost_nothing),
		T(test_clean_stop_leaves_no_file),
		T(test_files_rotate_and_go),
		T(test_damage_quarantined),
		T(test_torn_tail),
		T(test_garbage_file),
		T(test_enospc_then_recover),
		T(test_release_retried),
		T(test_sealed_batch_found_after_lost_one),
		T(test_replay_not_twice_after_crash_in_recovery),
		T(test_bad_stream_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
