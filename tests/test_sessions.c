/*
 * test_sessions.c - the durable sessions file (daemon/store/sessions.c):
 * records survive a reopen, a torn slot falls back to the pair's other
 * one, damage and a foreign header are quarantined, and what policy
 * refuses leaves the file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/store/sessions.h"
#include "tests/testutil.h"

#define K1	0x70B3D57ED0000001ULL
#define K2	0x70B3D57ED0000002ULL
#define HDR	32
#define SLOT	128

struct seen {
	uint64_t	key[8];
	uint8_t		first[8];	/* first body byte */
	int		n;
	int		torn, damaged;
	uint64_t	refuse;		/* keep says no to this key */
};

static int
keep(void *arg, uint64_t key, const uint8_t *body, size_t len)
{
	struct seen *s = arg;

	assert_true(len > 0);
	if (key == s->refuse)
		return 1;
	assert_true(s->n < 8);
	s->key[s->n] = key;
	s->first[s->n] = body[0];
	s->n++;
	return 0;
}

static void
bad(void *arg, uint64_t off, uint64_t len, int torn, const char *why)
{
	struct seen *s = arg;

	assert_non_null(why);
	assert_true(len > 0 && off < 1 << 20);
	if (torn)
		s->torn++;
	else
		s->damaged++;
}

static struct sessions *
reopen(const char *dir, struct seen *s, int *q)
{
	struct sessions *ss = NULL;
	int r;

	memset(s->key, 0, sizeof(s->key));
	s->n = s->torn = s->damaged = 0;
	r = sessions_open(dir, keep, bad, s, q, &ss);
	assert_true(r >= 0);
	assert_int_equal(r, s->n);
	return ss;
}

static void
put(struct sessions *ss, uint64_t key, uint8_t v)
{
	uint8_t body[40];

	memset(body, v, sizeof(body));
	assert_int_equal(sessions_put(ss, key, body, sizeof(body)), 0);
}

static void
put_synced(struct sessions *ss, uint64_t key, uint8_t v)
{
	put(ss, key, v);
	assert_int_equal(sessions_sync(ss), 0);
}

/* Overwrites n bytes at off of the file with 0x5a. */
static void
scribble(const char *dir, long off, size_t n)
{
	char path[256];
	uint8_t junk[SLOT];
	int fd;

	memset(junk, 0x5a, sizeof(junk));
	snprintf(path, sizeof(path), "%s/%s", dir, SESSIONS_FILE);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(pwrite(fd, junk, n, off), (ssize_t)n);
	close(fd);
}

/* A crash (ss goes without a sync) and n bytes at off rot, as a write
 * torn by a power cut: reopened, one slot is reported torn, nothing is
 * quarantined or lost but it.  Returns the surviving record's byte. */
static uint8_t
tear_and_reopen(struct sessions *ss, const char *dir, long off, size_t n)
{
	struct seen s = { .n = 0 };
	int q;

	sessions_free(ss);
	scribble(dir, off, n);
	ss = reopen(dir, &s, &q);
	assert_int_equal(q, 0);
	assert_int_equal(s.torn, 1);
	assert_int_equal(s.damaged, 0);
	assert_int_equal(s.n, 1);
	sessions_free(ss);
	return s.first[0];
}

static int
quarantined_files(const char *dir)
{
	char cmd[300];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/quarantine 2>/dev/null | wc -l",
	    dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void
test_records_survive_reopen(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	struct sessions_stats st;
	int q;

	ss = reopen(*state, &s, &q);
	assert_int_equal(s.n, 0);
	put(ss, K1, 1);
	put_synced(ss, K2, 2);
	put_synced(ss, K1, 3);
	sessions_stats(ss, &st);
	assert_int_equal(st.puts, 3);
	assert_int_equal(st.bytes_written, 3 * SLOT);
	assert_int_equal(st.syncs, 2);
	/* Nothing put: no sync. */
	assert_int_equal(sessions_sync(ss), 0);
	sessions_stats(ss, &st);
	assert_int_equal(st.syncs, 2);
	sessions_free(ss);
	ss = reopen(*state, &s, &q);
	assert_int_equal(q, 0);
	assert_int_equal(s.n, 2);
	assert_true(s.key[0] == K1 && s.first[0] == 3);
	assert_true(s.key[1] == K2 && s.first[1] == 2);
	/* And again after the rewrite, with a put on top. */
	put_synced(ss, K2, 4);
	sessions_free(ss);
	ss = reopen(*state, &s, &q);
	assert_true(s.key[1] == K2 && s.first[1] == 4);
	assert_int_equal(s.torn + s.damaged, 0);
	sessions_free(ss);
}

/* A power cut tears the slot being written: the pair's other slot, the
 * record as of the last sync, is used, and nothing is quarantined. */
static void
test_torn_slot_falls_back(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	ss = reopen(*state, &s, &q);
	put_synced(ss, K1, 1);
	sessions_free(ss);
	ss = reopen(*state, &s, &q);	/* K1 now in slot 0 */
	put(ss, K1, 2);			/* into slot 1 */
	assert_int_equal(sessions_sync(ss), 0);
	sessions_free(ss);
	/* Rewritten: K1 (2) in slot 0; the next put goes to slot 1. */
	ss = reopen(*state, &s, &q);
	put(ss, K1, 3);
	assert_int_equal(tear_and_reopen(ss, *state, HDR + SLOT + 30, 50), 2);
}

/* Two puts between syncs go over the same slot, so the synced record is
 * never the one overwritten: tearing that slot loses only the unsynced
 * ones. */
static void
test_second_put_before_sync_keeps_synced_slot(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	ss = reopen(*state, &s, &q);
	put_synced(ss, K1, 1);		/* a new key: slot 1 */
	put(ss, K1, 2);			/* slot 0 */
	put(ss, K1, 3);			/* slot 0 again, not slot 1 */
	assert_int_equal(tear_and_reopen(ss, *state, HDR + 40, 20), 1);
}

static void
test_damage_is_quarantined(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	ss = reopen(*state, &s, &q);
	put(ss, K1, 1);
	put_synced(ss, K2, 2);
	sessions_free(ss);
	ss = reopen(*state, &s, &q);	/* K1 pair 0, K2 pair 1 */
	put_synced(ss, K1, 5);
	sessions_free(ss);
	/* Both slots of K1's pair rot. */
	scribble(*state, HDR + 20, 10);
	scribble(*state, HDR + SLOT + 20, 10);
	ss = reopen(*state, &s, &q);
	assert_int_equal(q, 1);
	assert_int_equal(s.damaged, 2);
	assert_int_equal(s.n, 1);
	assert_true(s.key[0] == K2);
	assert_int_equal(quarantined_files(*state), 1);
	sessions_free(ss);
	/* The rewritten file is clean. */
	ss = reopen(*state, &s, &q);
	assert_int_equal(q, 0);
	assert_int_equal(s.n, 1);
	sessions_free(ss);
}

static void
test_foreign_header_is_quarantined(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	ss = reopen(*state, &s, &q);
	put_synced(ss, K1, 1);
	sessions_free(ss);
	scribble(*state, 3, 1);
	ss = reopen(*state, &s, &q);
	assert_int_equal(q, 1);
	assert_int_equal(s.n, 0);
	assert_int_equal(quarantined_files(*state), 1);
	sessions_free(ss);
}

static void
test_refused_records_leave_the_file(void **state)
{
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	ss = reopen(*state, &s, &q);
	put(ss, K1, 1);
	put_synced(ss, K2, 2);
	sessions_free(ss);
	s.refuse = K1;
	ss = reopen(*state, &s, &q);
	assert_int_equal(s.n, 1);
	sessions_free(ss);
	s.refuse = 0;
	ss = reopen(*state, &s, &q);
	assert_int_equal(s.n, 1);
	assert_true(s.key[0] == K2);
	sessions_free(ss);
}

static void
test_malformed_inputs(void **state)
{
	uint8_t buf[HDR + 2 * SLOT], body[SESSIONS_BODY_MAX + 1];
	struct sessions *ss;
	struct seen s = { .n = 0 };
	int q;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sessions_parse(buf, 0, NULL, NULL, NULL), -EBADMSG);
	assert_int_equal(sessions_parse(buf, 31, NULL, NULL, NULL), -EBADMSG);
	assert_int_equal(sessions_parse(buf, sizeof(buf), NULL, NULL, NULL),
	    -EBADMSG);
	ss = reopen(*state, &s, &q);
	memset(body, 1, sizeof(body));
	assert_int_equal(sessions_put(ss, K1, body, sizeof(body)),
	    -EMSGSIZE);
	assert_int_equal(sessions_put(ss, K1, body, 0), -EMSGSIZE);
	sessions_free(ss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, \
	    testutil_tmpdir_setup, testutil_tmpdir_teardown)
		T(test_records_survive_reopen),
		T(test_torn_slot_falls_back),
		T(test_second_put_before_sync_keeps_synced_slot),
		T(test_damage_is_quarantined),
		T(test_foreign_header_is_quarantined),
		T(test_refused_records_leave_the_file),
		T(test_malformed_inputs),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
