/*
 * seqno.c - batch sequence numbers that survive restarts; see seqno.h.
 *
 * The file STATE_DIR/seq holds one decimal number and a newline: the first
 * number not yet reserved.  It is replaced atomically (write seq.tmp, fsync,
 * rename over seq, fsync the directory), so after a power cut it holds
 * either the old or the new reservation, never a torn one.  All access goes
 * through a descriptor of the directory opened at start, so it keeps
 * working after the process has chrooted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "daemon/store/seqno.h"

#define SEQNO_TEXT_MAX	32

struct seqno {
	int		dirfd;
	uint32_t	block;
	uint64_t	next;		/* handed out next */
	uint64_t	reserved;	/* first number not covered by the file */
};

/* Parse "DIGITS\n" strictly: 1..20 digits, no sign, no trailing bytes. */
static int
seqno_parse(const char *buf, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (len < 2 || len > 21 || buf[len - 1] != '\n')
		return -EBADMSG;
	for (i = 0; i < len - 1; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
		if (v > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	if (v == 0)
		return -EBADMSG;
	*out = v;
	return 0;
}

static int
seqno_read(int dirfd, uint64_t *out)
{
	char buf[SEQNO_TEXT_MAX];
	ssize_t n;
	int fd, r;

	*out = 0;
	if ((fd = openat(dirfd, SEQNO_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	r = n < 0 ? -errno : seqno_parse(buf, (size_t)n, out);
	close(fd);
	return r;
}

static int
seqno_write(int dirfd, uint64_t value)
{
	char buf[SEQNO_TEXT_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)value);
	/* The block is reserved only once the rename is durable. */
	return fsutil_replace(dirfd, SEQNO_FILE, buf, (size_t)n, 0600,
	    FSUTIL_SYNC_DIR);
}

static int
seqno_open_common(const char *dir, uint32_t block, int recover,
    struct seqno **out)
{
	struct seqno *s = NULL;
	struct timespec ts;
	uint64_t v;
	int r;

	*out = NULL;
	if (block == 0)
		return -EINVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->block = block;
	s->dirfd = -1;
	if ((s->dirfd = open(dir != NULL ? dir : ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0) {
		r = -errno;
		goto fail;
	}
	r = seqno_read(s->dirfd, &v);
	if (r == -ENOENT) {
		v = 1;
		r = 0;
	} else if (r == -EBADMSG && recover) {
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
		if ((r = seqno_write(s->dirfd, v)) != 0)
			goto fail;
	}
	if (r != 0)
		goto fail;
	s->next = v;
	s->reserved = v;
	*out = s;
	return 0;
fail:
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
	return r;
}

int
seqno_open(const char *dir, uint32_t block, struct seqno **out)
{
	return seqno_open_common(dir, block, 0, out);
}

int
seqno_open_recover(const char *dir, uint32_t block, struct seqno **out)
{
	return seqno_open_common(dir, block, 1, out);
}

int
seqno_next(struct seqno *s, uint64_t *out)
{
	int r;

	*out = 0;
	if (s->next >= s->reserved) {
		if (s->next > UINT64_MAX - s->block)
			return -EOVERFLOW;
		if ((r = seqno_write(s->dirfd, s->next + s->block)) != 0)
			return r;
		s->reserved = s->next + s->block;
	}
	*out = s->next++;
	return 0;
}

uint64_t
seqno_peek(const struct seqno *s)
{
	return s->next;
}

void
seqno_free(struct seqno *s)
{
	if (s == NULL)
		return;
	close(s->dirfd);
	free(s);
}
