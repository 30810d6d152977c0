/*
 * fsutil.c - file helpers shared by the spool, the open-batch journal,
 * privsep and the fieldbridge CLI; see fsutil.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "daemon/fsutil.h"

uint32_t
fsutil_crc32(uint32_t c, const void *p, size_t n)
{
	return (uint32_t)crc32(c, p, (uInt)n);
}

void
fsutil_id_name(char *buf, size_t sz, uint64_t id, const char *ext)
{
	(void)snprintf(buf, sz, "%016" PRIx64 ".%s", id, ext);
}

int
fsutil_id_parse(const char *name, const char *ext, uint64_t *id)
{
	size_t i;

	if (strlen(name) != FSUTIL_ID_DIGITS + 1 + strlen(ext) ||
	    name[FSUTIL_ID_DIGITS] != '.' ||
	    strcmp(name + FSUTIL_ID_DIGITS + 1, ext) != 0)
		return 0;
	/* strtoull alone would take a sign, spaces or upper case. */
	for (i = 0; i < FSUTIL_ID_DIGITS; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	*id = strtoull(name, NULL, 16);
	return 1;
}

/* pread(2) at off when at is set, else read(2) from the position. */
static ssize_t
fsutil_fill(int fd, void *buf, size_t n, int at, uint64_t off)
{
	uint8_t *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = at ? pread(fd, p + got, n - got, (off_t)(off + got)) :
		    read(fd, p + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
fsutil_read_full(int fd, void *buf, size_t n)
{
	return fsutil_fill(fd, buf, n, 0, 0);
}

ssize_t
fsutil_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	return fsutil_fill(fd, buf, n, 1, off);
}
