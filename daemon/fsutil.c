/*
 * fsutil.c - file helpers shared by the spool, the open-batch journal,
 * privsep and the fieldbridge CLI; see fsutil.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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

int
fsutil_replace(int dirfd, const char *name, const void *buf, size_t len,
    unsigned int mode, int flags)
{
	return fsutil_replace_group(dirfd, name, buf, len, mode, (gid_t)-1,
	    flags);
}

int
fsutil_replace_group(int dirfd, const char *name, const void *buf,
    size_t len, unsigned int mode, gid_t gid, int flags)
{
	char tmp[FSUTIL_NAME_MAX + 1];
	const char *p = buf;
	ssize_t w;
	int fd = -1, r = -EIO;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* A stale temporary file of ours may be left by a crash; O_EXCL
	 * after removing it keeps a planted symlink from being followed. */
	(void)unlinkat(dirfd, tmp, 0);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, (mode_t)(mode & 0777))) < 0)
		return -errno;
	while (len > 0) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) {
		r = -errno;
		goto out;
	}
	if ((flags & FSUTIL_CHMOD) != 0 &&
	    fchmod(fd, (mode_t)(mode & 07777)) != 0) {
		r = -errno;
		goto out;
	}
	if ((flags & FSUTIL_NO_FSYNC) == 0 && fsync(fd) != 0) {
		r = -errno;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = -errno;
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		r = -errno;
		goto out;
	}
	if ((flags & FSUTIL_SYNC_DIR) != 0 && fsync(dirfd) != 0)
		return -errno;	/* name is already the new file */
	return 0;
out:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	return r;
}

int
fsutil_quarantine_open(int dirfd)
{
	int fd;

	if (mkdirat(dirfd, "quarantine", 0700) != 0 && errno != EEXIST)
		return -errno;
	if ((fd = openat(dirfd, "quarantine", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	return fd;
}
