/*
 * privsep_child.c - the confined child's side of privsep: it asks the
 * privileged parent for what it may no longer open itself (a serial line,
 * the registry, the keys) and gets descriptors back.  One request at a
 * time, each answered before the next (format: privsep_msg.c).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "daemon/fsutil.h"
#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/privsep_int.h"

static int
privsep_call(struct privsep_child *ch, const struct privsep_req *req,
    int *fdp)
{
	union {
		struct cmsghdr	cm;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	uint8_t out[PRIVSEP_MSG_SIZE_MAX], in[PRIVSEP_REPLY_LEN + 1];
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	size_t len;
	ssize_t n;
	int r, result, fd = -1;

	*fdp = -1;
	if (ch == NULL || ch->fd < 0)
		return -EBADF;
	if ((r = privsep_msg_encode(req, out, sizeof(out), &len)) < 0)
		return r;
	do
		n = send(ch->fd, out, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	privsep_msghdr(&msg, &iov, in, sizeof(in), cbuf.buf, sizeof(cbuf.buf));
	do
		n = recvmsg(ch->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)) && fd < 0)
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		else
			goto bad;
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    privsep_reply_parse(in, (size_t)n, &result) < 0 ||
	    (result == 0) != (fd >= 0))
		goto bad;
	*fdp = fd;
	return result;
bad:
	privsep_close_fds(&msg);
	return -EPROTO;
}

int
privsep_open_serial(void *arg, const char *path, unsigned int baud)
{
	struct privsep_child *ch = arg;
	struct privsep_req req;
	int fd, r;

	memset(&req, 0, sizeof(req));
	req.type = PRIVSEP_MSG_OPEN_SERIAL;
	if (path == NULL || strlen(path) > PRIVSEP_PATH_LEN_MAX)
		return -ENAMETOOLONG;
	memcpy(req.path, path, strlen(path) + 1);
	if ((r = privsep_call(ch, &req, &fd)) < 0)
		return r;
	if (ch->configure != NULL && (r = ch->configure(fd, baud)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

void
privsep_set_configure(struct privsep_child *ch,
    int (*fn)(int fd, unsigned int baud))
{
	ch->configure = fn;
}

int
privsep_open_file(struct privsep_child *ch, enum privsep_file which)
{
	struct privsep_req req;
	int fd, r;

	memset(&req, 0, sizeof(req));
	req.type = PRIVSEP_MSG_OPEN_FILE;
	req.which = which;
	if ((r = privsep_call(ch, &req, &fd)) < 0)
		return r;
	return fd;
}

int
privsep_read_fd(int fd, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int r;

	*bufp = NULL;
	*lenp = 0;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size >= PRIVSEP_FILE_SIZE_MAX)
		return -EFBIG;
	/* One byte more than the size: a file that grew shows up as EAGAIN
	 * instead of being cut short; the caller may retry. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap + 1)) == NULL)
		return -ENOMEM;
	if ((n = fsutil_read_full(fd, buf, cap)) < 0) {
		r = (int)n;
		goto out;
	}
	if ((size_t)n == cap) {
		r = -EAGAIN;
		goto out;
	}
	buf[n] = '\0';
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
	r = 0;
out:
	privsep_bytes_free(buf, cap);
	return r;
}

int
privsep_fetch_file(struct privsep_child *ch, enum privsep_file which,
    uint8_t **bufp, size_t *lenp)
{
	int fd, r;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = privsep_open_file(ch, which)) < 0)
		return fd;
	r = privsep_read_fd(fd, bufp, lenp);
	close(fd);
	return r;
}

void
privsep_bytes_free(uint8_t *buf, size_t len)
{
	if (buf == NULL)
		return;
	gnutls_memset(buf, 0, len);
	free(buf);
}

int
privsep_child_fd(const struct privsep_child *ch)
{
	return ch->fd;
}

int
privsep_child_notify_fd(const struct privsep_child *ch)
{
	return ch->notify_fd;
}

