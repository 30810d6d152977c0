/*
 * test_fsutil.c - the shared file helpers (daemon/fsutil.c) on a real
 * directory: a replace is whole or absent, never follows a planted link and
 * keeps the old file when it fails; the quarantine directory is private
 * and never a link; numbered names round-trip and reject look-alikes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fsutil.h"
#include "tests/testutil.h"

static char	*dir;
static int	dfd = -1;

static int
setup(void **state)
{
	(void)state;
	dir = testutil_tmpdir();
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(dfd);
	testutil_rm_rf(dir);
	free(dir);
	dir = NULL;
	return 0;
}

/* The file's bytes, NUL-terminated, in buf; returns its length or -1. */
static ssize_t
slurp(const char *name, char *buf, size_t sz)
{
	ssize_t n;
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = fsutil_read_full(fd, buf, sz - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void
test_replace_creates_and_replaces(void **state)
{
	struct stat st;
	char buf[64];

	(void)state;
	assert_int_equal(fsutil_replace(dfd, "f", "one\n", 4, 0640,
	    FSUTIL_SYNC_DIR), 0);
	assert_int_equal(slurp("f", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "one\n");
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* Without FSUTIL_CHMOD the umask applies; with it, mode exactly. */
	umask(0077);
	assert_int_equal(fsutil_replace(dfd, "f", "second", 6, 0644,
	    FSUTIL_NO_FSYNC), 0);
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(fsutil_replace(dfd, "f", "second", 6, 0644,
	    FSUTIL_CHMOD), 0);
	assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	umask(0022);
	assert_int_equal(slurp("f", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "second");
	/* No temporary file is left behind. */
	assert_int_equal(faccessat(dfd, "f.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

/* Regression: a link planted at the temporary name must not make the
 * replace write through it to another file. */
static void
test_replace_ignores_planted_link(void **state)
{
	char buf[64], target[PATH_MAX + 16];

	(void)state;
	snprintf(target, sizeof(target), "%s/victim", dir);
	testutil_write_file(target, "keep", 4);
	assert_int_equal(symlinkat(target, dfd, "g.tmp"), 0);
	assert_int_equal(fsutil_replace(dfd, "g", "new", 3, 0600, 0), 0);
	assert_int_equal(slurp("victim", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "keep");
	assert_int_equal(slurp("g", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "new");
}

static void
test_replace_failure_keeps_old(void **state)
{
	char buf[64], longname[FSUTIL_NAME_MAX + 2];

	(void)state;
	assert_int_equal(fsutil_replace(dfd, "h", "old", 3, 0600, 0), 0);
	/* The destination is a directory: the rename fails. */
	assert_int_equal(mkdirat(dfd, "d", 0700), 0);
	assert_int_equal(fsutil_replace(dfd, "d", "x", 1, 0600, 0), -EISDIR);
	assert_int_equal(faccessat(dfd, "d.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(fsutil_replace(dfd, longname, "x", 1, 0600, 0),
	    -ENAMETOOLONG);
	assert_int_equal(fsutil_replace(-1, "h", "x", 1, 0600, 0), -EBADF);
	assert_int_equal(slurp("h", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "old");
}

static void
test_quarantine(void **state)
{
	struct stat st;
	int q, q2;

	(void)state;
	assert_true((q = fsutil_quarantine_open(dfd)) >= 0);
	assert_int_equal(fstat(q, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* A second call opens the same directory. */
	assert_true((q2 = fsutil_quarantine_open(dfd)) >= 0);
	close(q2);
	close(q);
	/* A link in its place is refused, not followed. */
	assert_int_equal(unlinkat(dfd, "quarantine", AT_REMOVEDIR), 0);
	assert_int_equal(symlinkat("/tmp", dfd, "quarantine"), 0);
	q = fsutil_quarantine_open(dfd);
	assert_true(q == -ELOOP || q == -ENOTDIR);
	/* A plain file in its place, likewise. */
	assert_int_equal(unlinkat(dfd, "quarantine", 0), 0);
	assert_int_equal(fsutil_replace(dfd, "quarantine", "", 0, 0600, 0), 0);
	assert_int_equal(fsutil_quarantine_open(dfd), -ENOTDIR);
}

static void
test_id_names(void **state)
{
	char name[64];
	uint64_t id = 0;

	(void)state;
	fsutil_id_name(name, sizeof(name), 0x1234abcdULL, "seg");
	assert_string_equal(name, "000000001234abcd.seg");
	assert_true(fsutil_id_parse(name, "seg", &id));
	assert_int_equal(id, 0x1234abcdULL);
	assert_false(fsutil_id_parse(name, "ack", &id));
	assert_false(fsutil_id_parse("000000001234ABCD.seg", "seg", &id));
	assert_false(fsutil_id_parse("00000001234abcd.seg", "seg", &id));
	assert_false(fsutil_id_parse("+00000001234abcd.seg", "seg", &id));
	assert_false(fsutil_id_parse("000000001234abcd.seg~", "seg", &id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replace_creates_and_replaces,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_ignores_planted_link,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_failure_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_id_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
