/*
 * testutil.c - chores for tests, fuzz targets and benchmarks; see
 * testutil.h.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/testutil.h"

static int
testutil_rm_cb(const char *p, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

char *
testutil_tmpdir(void)
{
	char *dir = strdup("/tmp/fbtest.XXXXXX");

	if (dir == NULL || mkdtemp(dir) == NULL)
		abort();
	return dir;
}

int
testutil_tmpdir_setup(void **state)
{
	*state = testutil_tmpdir();
	return 0;
}

int
testutil_tmpdir_teardown(void **state)
{
	testutil_rm_rf(*state);
	free(*state);
	return 0;
}

void
testutil_rm_rf(const char *dir)
{
	/* Depth first: a directory is removed after what it holds. */
	(void)nftw(dir, testutil_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void
testutil_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

size_t
testutil_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (hex[0] != '\0' && hex[1] != '\0') {
		if (n >= cap || sscanf(hex, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

void
testutil_hex(const uint8_t *p, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
	out[2 * len] = '\0';
}
