/*
 * test_cmdq.c - the durable command queue (daemon/store/cmdq.c): bounds
 * per device and in all, ids run once, expiry with injected time, the
 * order of a device's commands, persistence across a reopen, outcomes
 * kept until their PUBACK, and a damaged file quarantined.
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

#include "daemon/store/cmdq.h"
#include "tests/testutil.h"

static struct cmdq_cmd
cmd(const char *id, uint64_t eui, int64_t expires)
{
	struct cmdq_cmd c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.eui = eui;
	c.expires = expires;
	c.kind = 7;
	c.len = 3;
	memcpy(c.body, "abc", 3);
	return c;
}

static int
dirfd_of(void **state)
{
	int fd = open(*state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void
test_bounds_and_duplicates(void **state)
{
	struct cmdq *q = cmdq_new();
	struct cmdq_cmd c;
	char id[16];
	uint16_t ref, last = 0;
	int i;

	(void)state;
	assert_non_null(q);
	for (i = 0; i < CMDQ_PER_DEVICE_MAX; i++) {
		snprintf(id, sizeof(id), "a%d", i);
		c = cmd(id, 1, 100);
		assert_int_equal(cmdq_add(q, &c, &ref), 0);
		assert_true(ref > last);	/* refs are fresh */
		last = ref;
	}
	c = cmd("a-over", 1, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), -ENOSPC);
	c = cmd("a0", 2, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), -EEXIST);
	/* The oldest is the head. */
	assert_string_equal(cmdq_head(q, 1)->id, "a0");
	assert_null(cmdq_head(q, 3));
	/* Fill to the total bound with other devices. */
	for (i = CMDQ_PER_DEVICE_MAX; i < CMDQ_TOTAL_MAX; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		c = cmd(id, 100 + (uint64_t)i, 100);
		assert_int_equal(cmdq_add(q, &c, NULL), 0);
	}
	c = cmd("t-over", 99, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), -ENOBUFS);
	assert_int_equal(cmdq_count(q), CMDQ_TOTAL_MAX);
	c = cmd("big", 99, 100);
	c.len = CMDQ_BODY_MAX + 1;
	assert_int_equal(cmdq_add(q, &c, NULL), -EMSGSIZE);
	cmdq_free(q);
}

static int
is_eui1(void *arg, const struct cmdq_cmd *c)
{
	(void)arg;
	return c->eui == 1;
}

static void
count_done(void *arg, const struct cmdq_cmd *c)
{
	(void)c;
	(*(int *)arg)++;
}

/* An id stays "seen" after its command left, for CMDQ_SEEN_MAX more. */
static void
test_seen_outlives_the_command(void **state)
{
	struct cmdq *q = cmdq_new();
	struct cmdq_cmd c;
	char id[16];
	int n = 0, i;

	(void)state;
	c = cmd("once", 1, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	assert_int_equal(cmdq_take(q, is_eui1, count_done, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(cmdq_count(q), 0);
	assert_int_equal(cmdq_add(q, &c, NULL), -EEXIST);
	/* CMDQ_SEEN_MAX - 1 newer ids: still seen; one more: forgotten. */
	for (i = 0; i < CMDQ_SEEN_MAX; i++) {
		if (i == CMDQ_SEEN_MAX - 1)
			assert_true(cmdq_seen(q, "once"));
		snprintf(id, sizeof(id), "s%d", i);
		c = cmd(id, 1, 100);
		assert_int_equal(cmdq_add(q, &c, NULL), 0);
		assert_int_equal(cmdq_take(q, is_eui1, NULL, NULL), 1);
	}
	assert_false(cmdq_seen(q, "once"));
	c = cmd("once", 1, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	cmdq_free(q);
}

/* The encoder's room: every id at its longest and nothing else (the
 * case where its estimate is exact) round-trips; ASan sees any byte over. */
static void
test_encode_room_exact(void **state)
{
	struct cmdq *q = cmdq_new(), *r = cmdq_new();
	struct cmdq_cmd c;
	char id[CMDQ_ID_MAX + 1];
	uint8_t *buf, *buf2;
	size_t len, len2;
	int i;

	(void)state;
	for (i = 0; i < CMDQ_SEEN_MAX; i++) {
		snprintf(id, sizeof(id), "%0*d", CMDQ_ID_MAX, i);
		c = cmd(id, 1, 100);
		assert_int_equal(cmdq_add(q, &c, NULL), 0);
		assert_int_equal(cmdq_take(q, is_eui1, NULL, NULL), 1);
	}
	assert_int_equal(cmdq_encode(q, &buf, &len), 0);
	assert_int_equal(cmdq_parse(r, buf, len), 0);
	assert_true(cmdq_seen(r, id));
	assert_int_equal(cmdq_encode(r, &buf2, &len2), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(buf2, buf, len);
	free(buf);
	free(buf2);
	cmdq_free(q);
	cmdq_free(r);
}

static void
test_expiry_with_injected_time(void **state)
{
	struct cmdq *q = cmdq_new();
	struct cmdq_cmd c;
	int n = 0;

	(void)state;
	c = cmd("early", 1, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	c = cmd("late", 1, 200);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	assert_int_equal(cmdq_expire(q, 99, count_done, &n), 0);
	assert_int_equal(cmdq_expire(q, 100, count_done, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(cmdq_head(q, 1)->id, "late");
	assert_int_equal(cmdq_expire(q, 1000, NULL, NULL), 1);
	assert_null(cmdq_head(q, 1));
	cmdq_free(q);
}

static void
test_persistence(void **state)
{
	struct cmdq *q = cmdq_new(), *r = cmdq_new();
	struct cmdq_cmd c;
	uint16_t ref;
	int fd = dirfd_of(state);

	c = cmd("p1", 1, 1000);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	c = cmd("p2", 2, 2000);
	assert_int_equal(cmdq_add(q, &c, &ref), 0);
	c = cmd("gone", 3, 300);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	(void)cmdq_expire(q, 300, NULL, NULL);
	assert_int_equal(cmdq_result_add(q, "{\"id\":\"p0\"}", 11), 0);
	assert_int_equal(cmdq_result_add(q, "{\"id\":\"q0\"}", 11), 0);
	assert_int_equal(cmdq_result_done(q, cmdq_result_at(q, 0)->seq), 0);
	assert_int_equal(cmdq_result_done(q, 9999), -ENOENT);
	assert_int_equal(cmdq_save(q, fd), 0);
	assert_int_equal(cmdq_load(r, fd), 0);
	assert_int_equal(cmdq_count(r), 2);
	assert_string_equal(cmdq_head(r, 2)->id, "p2");
	assert_int_equal(cmdq_head(r, 2)->ref, ref);
	assert_int_equal(cmdq_head(r, 2)->len, 3);
	assert_memory_equal(cmdq_head(r, 2)->body, "abc", 3);
	assert_true(cmdq_head(r, 2)->expires == 2000);
	assert_int_equal(cmdq_result_count(r), 1);
	assert_string_equal(cmdq_result_at(r, 0)->text, "{\"id\":\"q0\"}");
	/* The expired command's id is still remembered. */
	assert_true(cmdq_seen(r, "gone"));
	/* Refs continue, never reused after a restart. */
	c = cmd("p3", 1, 100);
	assert_int_equal(cmdq_add(r, &c, &ref), 0);
	assert_int_equal(ref, 4);
	close(fd);
	cmdq_free(q);
	cmdq_free(r);
}

/* Every single-byte change and every truncation of a good file is
 * refused, and the loader quarantines what it refuses. */
static void
test_damage_is_quarantined(void **state)
{
	struct cmdq *q = cmdq_new();
	struct cmdq_cmd c;
	struct stat st;
	uint8_t *buf;
	size_t len, i;
	char path[512];
	int fd = dirfd_of(state);

	c = cmd("d1", 1, 100);
	assert_int_equal(cmdq_add(q, &c, NULL), 0);
	assert_int_equal(cmdq_result_add(q, "{}", 2), 0);
	assert_int_equal(cmdq_encode(q, &buf, &len), 0);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x20;
		assert_int_equal(cmdq_parse(q, buf, len), -EBADMSG);
		assert_int_equal(cmdq_count(q), 0);
		buf[i] ^= 0x20;
		assert_int_equal(cmdq_parse(q, buf, i), -EBADMSG);
	}
	assert_int_equal(cmdq_parse(q, buf, len), 0);
	assert_int_equal(cmdq_count(q), 1);
	/* A torn file on disk: quarantined, the queue empty. */
	snprintf(path, sizeof(path), "%s/%s", (char *)*state, CMDQ_FILE);
	testutil_write_file(path, buf, len - 3);
	assert_int_equal(cmdq_load(q, fd), -EBADMSG);
	assert_int_equal(cmdq_count(q), 0);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/quarantine", (char *)*state);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* No file: an empty queue, no error. */
	assert_int_equal(cmdq_load(q, fd), 0);
	free(buf);
	close(fd);
	cmdq_free(q);
}

/* Outcomes: bounded, the oldest dropped first. */
static void
test_results_bounded(void **state)
{
	struct cmdq *q = cmdq_new();
	char t[32];
	int i, n;

	(void)state;
	for (i = 0; i < CMDQ_RESULTS_MAX + 2; i++) {
		n = snprintf(t, sizeof(t), "r%d", i);
		assert_int_equal(cmdq_result_add(q, t, (size_t)n),
		    i < CMDQ_RESULTS_MAX ? 0 : 1);
	}
	assert_int_equal(cmdq_result_count(q), CMDQ_RESULTS_MAX);
	assert_string_equal(cmdq_result_at(q, 0)->text, "r2");
	cmdq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_and_duplicates),
		cmocka_unit_test(test_seen_outlives_the_command),
		cmocka_unit_test(test_encode_room_exact),
		cmocka_unit_test(test_expiry_with_injected_time),
		cmocka_unit_test(test_results_bounded),
#define T(f)	cmocka_unit_test_setup_teardown(f, \
	    testutil_tmpdir_setup, testutil_tmpdir_teardown)
		T(test_persistence),
		T(test_damage_is_quarantined),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
