/*
 * test_wallclock.c - the clock synchronisation decision (wallclock.c):
 * adjtimex's answer first; refused as under systemd's ProtectClock=, the
 * flag copy the privsep parent keeps; neither, not synchronised.  Also the
 * flag file reader on real files, malformed contents included, and one
 * live check against this machine's kernel.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/timex.h>

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

#include "daemon/wallclock.h"

static char dir[64];
static char path[128];

static void
put(const char *bytes, size_t n)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

static void
test_adjtimex_synced(void **state)
{
	enum wallclock_source src = WALLCLOCK_SOURCE_NONE;

	(void)state;
	/* The flag is not consulted when the kernel answers. */
	assert_int_equal(wallclock_decide(TIME_OK, 0, 0, 0, &src), 1);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
	assert_int_equal(wallclock_decide(TIME_INS, 0, STA_PLL, -ENOENT,
	    &src), 1);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
}

static void
test_adjtimex_unsynced(void **state)
{
	enum wallclock_source src = WALLCLOCK_SOURCE_NONE;

	(void)state;
	/* A power cut without RTC: STA_UNSYNC and TIME_ERROR; a "1" left in
	 * the flag copy must not win over the kernel. */
	assert_int_equal(wallclock_decide(TIME_ERROR, 0, STA_UNSYNC, 1, &src),
	    0);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
	/* Either sign alone is enough. */
	assert_int_equal(wallclock_decide(TIME_OK, 0, STA_UNSYNC, 1, &src), 0);
	assert_int_equal(wallclock_decide(TIME_ERROR, 0, 0, 1, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
}

static void
test_refused_uses_flag(void **state)
{
	static const int refusals[] = { EPERM, EACCES, ENOSYS };
	enum wallclock_source src;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		src = WALLCLOCK_SOURCE_NONE;
		assert_int_equal(wallclock_decide(-1, refusals[i], 0, 1, &src),
		    1);
		assert_int_equal(src, WALLCLOCK_SOURCE_PARENT);
		assert_int_equal(wallclock_decide(-1, refusals[i], 0, 0, &src),
		    0);
		assert_int_equal(src, WALLCLOCK_SOURCE_PARENT);
	}
	/* The status word of a failed call is garbage: ignored. */
	assert_int_equal(wallclock_decide(-1, EPERM, STA_UNSYNC, 1, &src), 1);
}

static void
test_refused_without_flag_is_unknown(void **state)
{
	static const int flags[] = { -ENOENT, -EBADMSG, -EACCES };
	enum wallclock_source src;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		src = WALLCLOCK_SOURCE_NONE;
		assert_int_equal(wallclock_decide(-1, EPERM, 0, flags[i], &src),
		    0);
		assert_int_equal(src, WALLCLOCK_SOURCE_UNKNOWN);
	}
}

static void
test_other_failure_is_unknown(void **state)
{
	enum wallclock_source src = WALLCLOCK_SOURCE_NONE;

	(void)state;
	/* Not a policy refusal: the flag is not trusted to cover for it. */
	assert_int_equal(wallclock_decide(-1, EINVAL, 0, 1, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_UNKNOWN);
	assert_int_equal(wallclock_decide(-1, EFAULT, 0, 1, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_UNKNOWN);
}

static void
test_read_flag(void **state)
{
	(void)state;
	put("1\n", 2);
	assert_int_equal(wallclock_read_flag(path), 1);
	put("0\n", 2);
	assert_int_equal(wallclock_read_flag(path), 0);
	put("1", 1);
	assert_int_equal(wallclock_read_flag(path), 1);
	put("0", 1);
	assert_int_equal(wallclock_read_flag(path), 0);
}

static void
test_read_flag_malformed(void **state)
{
	(void)state;
	put("", 0);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("2\n", 2);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("1\n\n", 3);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("11", 2);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("1 ", 2);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("1\0", 2);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	put("yes\n", 4);
	assert_int_equal(wallclock_read_flag(path), -EBADMSG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(wallclock_read_flag(path), -ENOENT);
	assert_int_equal(wallclock_read_flag(dir), -EISDIR);
}

/* The real call agrees with the kernel as read here directly. */
static void
test_check_live(void **state)
{
	enum wallclock_source src = WALLCLOCK_SOURCE_NONE;
	struct timex tx;
	int r, want;

	(void)state;
	if (getenv("FB_TEST_ADJTIMEX_ERRNO") != NULL)
		skip();
	memset(&tx, 0, sizeof(tx));
	r = adjtimex(&tx);
	assert_int_not_equal(r, -1);
	want = r != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
	put("1\n", 2);		/* ignored: the kernel answered */
	assert_int_equal(wallclock_check(path, &src), want);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
	assert_int_equal(wallclock_check(NULL, &src), want);
	assert_int_equal(src, WALLCLOCK_SOURCE_ADJTIMEX);
}

#ifdef FB_TEST_HOOKS
/* The test hook the end-to-end tests use stands in for ProtectClock=. */
static void
test_check_refused_hook(void **state)
{
	enum wallclock_source src = WALLCLOCK_SOURCE_NONE;

	(void)state;
	assert_int_equal(setenv("FB_TEST_ADJTIMEX_ERRNO", "EPERM", 1), 0);
	put("1\n", 2);
	assert_int_equal(wallclock_check(path, &src), 1);
	assert_int_equal(src, WALLCLOCK_SOURCE_PARENT);
	put("0\n", 2);
	assert_int_equal(wallclock_check(path, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_PARENT);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(wallclock_check(path, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_UNKNOWN);
	/* Unconfined: no parent, no copy to read. */
	assert_int_equal(wallclock_check(NULL, &src), 0);
	assert_int_equal(src, WALLCLOCK_SOURCE_UNKNOWN);
	assert_int_equal(unsetenv("FB_TEST_ADJTIMEX_ERRNO"), 0);
}
#endif

static void
test_source_desc(void **state)
{
	(void)state;
	assert_string_equal(wallclock_source_desc(WALLCLOCK_SOURCE_ADJTIMEX),
	    "synchronisation from adjtimex");
	assert_string_equal(wallclock_source_desc(WALLCLOCK_SOURCE_PARENT),
	    "synchronisation from timesyncd's flag via the parent");
	assert_string_equal(wallclock_source_desc(WALLCLOCK_SOURCE_UNKNOWN),
	    "synchronisation unknown: records marked sync:false");
}

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/fb-wallclock-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/clock-synced", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjtimex_synced),
		cmocka_unit_test(test_adjtimex_unsynced),
		cmocka_unit_test(test_refused_uses_flag),
		cmocka_unit_test(test_refused_without_flag_is_unknown),
		cmocka_unit_test(test_other_failure_is_unknown),
		cmocka_unit_test(test_read_flag),
		cmocka_unit_test(test_read_flag_malformed),
		cmocka_unit_test(test_check_live),
#ifdef FB_TEST_HOOKS
		cmocka_unit_test(test_check_refused_hook),
#endif
		cmocka_unit_test(test_source_desc),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
