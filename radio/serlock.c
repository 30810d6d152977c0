/*
 * serlock.c - UUCP lock files for serial lines (see serlock.h).
 *
 * The lock is made the way the FHS describes and lockdev did: write the
 * PID to a temporary file in the lock directory, then link(2) it to the
 * lock's name, which fails with EEXIST if somebody else's is there; so
 * two processes racing for a line never both believe they have it.  A
 * lock that names a process that no longer exists (kill(pid, 0) says
 * ESRCH) is stale: it is removed and the link tried once more.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radio/serlock.h"

#define SERLOCK_TEXT_LEN	11	/* "%10d\n" */
#define SERLOCK_COMM_MAX	32

/* dir/LCK..<last component of path>. */
static int
serlock_name(const char *dir, const char *path, char *buf, size_t len)
{
	const char *base = strrchr(path, '/');
	int n;

	base = base != NULL ? base + 1 : path;
	if (*base == '\0')
		return -EINVAL;
	n = snprintf(buf, len, "%s/LCK..%s", dir != NULL ? dir : SERLOCK_DIR,
	    base);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int
serlock_key(const char *path, char *key, size_t len)
{
	char real[PATH_MAX];
	const char *src;
	size_t i, n;

	if (len == 0)
		return -EINVAL;
	if (realpath(path, real) == NULL)
		return -errno;
	src = strncmp(real, "/dev/pts/", 9) == 0 ? path : real;
	/* "pty" and the path must fit, and as a file name after "LCK..". */
	if ((n = strlen(src)) + 4 > len ||
	    (src == path && n + 3 + 5 > NAME_MAX))
		return -ENAMETOOLONG;
	if (src == real) {
		memcpy(key, real, n + 1);
		return 0;
	}
	memcpy(key, "pty", 3);
	for (i = 0; i < n; i++)
		key[3 + i] = src[i] == '/' ? '_' : src[i];
	key[3 + n] = '\0';
	return 0;
}

/* The PID in a lock file: > 0, or 0 when it holds none (garbage, empty:
 * a lock made by a program that died while writing it). */
static pid_t
serlock_read(const char *name)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd;

	if ((fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? -1 : 0;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Text (the UUCP format) or, from old programs, a binary int. */
	v = strtol(buf, &end, 10);
	if (end == buf && n == sizeof(int)) {
		int b;

		memcpy(&b, buf, sizeof(b));
		v = b;
	}
	return v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

static int
serlock_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void
serlock_describe(pid_t pid, char *holder, size_t len)
{
	char path[64], comm[SERLOCK_COMM_MAX] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		(void)close(fd);
		comm[n > 0 ? n : 0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
	}
	if (comm[0] != '\0')
		snprintf(holder, len, "PID %ld (%s)", (long)pid, comm);
	else
		snprintf(holder, len, "PID %ld", (long)pid);
}

int
serlock_holder(const char *dir, const char *path, pid_t pid, char *holder,
    size_t holderlen)
{
	char name[PATH_MAX];
	pid_t other;

	if (holderlen > 0)
		holder[0] = '\0';
	if (serlock_name(dir, path, name, sizeof(name)) != 0)
		return 0;
	other = serlock_read(name);
	if (other <= 0 || other == pid || !serlock_alive(other))
		return 0;
	serlock_describe(other, holder, holderlen);
	return 1;
}

int
serlock_acquire(const char *dir, const char *path, pid_t pid, char *holder,
    size_t holderlen)
{
	char name[PATH_MAX], tmp[PATH_MAX], text[32];
	pid_t other;
	int fd = -1, r, tries, n;

	if (holderlen > 0)
		holder[0] = '\0';
	if ((r = serlock_name(dir, path, name, sizeof(name))) != 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", name, (long)pid) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Pids fit ten digits (pid_max is at most 2^22). */
	n = snprintf(text, sizeof(text), "%10ld\n", (long)pid);
	if (n != SERLOCK_TEXT_LEN)
		return -EINVAL;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) < 0)
		return -errno;
	r = -EIO;
	if (write(fd, text, SERLOCK_TEXT_LEN) != SERLOCK_TEXT_LEN)
		goto out;
	for (tries = 0; tries < 2; tries++) {
		if (link(tmp, name) == 0) {
			r = 0;
			goto out;
		}
		if (errno != EEXIST) {
			r = -errno;
			goto out;
		}
		other = serlock_read(name);
		if (other == pid) {
			r = 0;
			goto out;
		}
		if (other > 0 && serlock_alive(other)) {
			serlock_describe(other, holder, holderlen);
			r = -EBUSY;
			goto out;
		}
		/* Stale (its process is gone) or unreadable: take it. */
		if (unlink(name) != 0 && errno != ENOENT) {
			r = -errno;
			goto out;
		}
	}
	r = -EBUSY;
out:
	(void)close(fd);
	(void)unlink(tmp);
	return r;
}

void
serlock_release(const char *dir, const char *path, pid_t pid)
{
	char name[PATH_MAX];

	if (serlock_name(dir, path, name, sizeof(name)) == 0 &&
	    serlock_read(name) == pid)
		(void)unlink(name);
}
