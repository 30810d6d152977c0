/*
 * privsep_msg.c - the messages between the confined child and the
 * privileged parent: their codec, the part of privsep that reads bytes a
 * compromised child controls (fuzzed by tests/fuzz/fuzz_privsep.c).
 *
 * The format (AF_UNIX SOCK_SEQPACKET: one message per datagram; integers
 * big-endian, decoded byte by byte):
 *
 *   offset size
 *   0      4    total length L, header included; must equal the datagram
 *   4      2    type (enum privsep_msg_type)
 *   6      2    reserved, zero
 *   8      L-8  body:
 *                 OPEN_SERIAL  u16 n, n bytes of path (1..4095, no NUL)
 *                 OPEN_FILE    u8 which (< PRIVSEP_FILE_MAX)
 *                 REPLY        s32 result: 0 with one SCM_RIGHTS fd, or
 *                              -errno without one
 *
 * Trailing bytes, unknown types, a non-zero reserved field, a datagram
 * longer than PRIVSEP_MSG_SIZE_MAX (MSG_TRUNC) or descriptors sent by the
 * child are malformed: the parent logs, kills the child and restarts it.
 * The child sends one request and waits for its reply, so replies need no
 * id; a child that does not read its replies is killed too.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/privsep_int.h"

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* The header, checked against the datagram; returns the body's length. */
static int
privsep_hdr_parse(const uint8_t *buf, size_t len, uint16_t *type,
    size_t *body)
{
	*type = 0;
	*body = 0;
	if (len > PRIVSEP_MSG_SIZE_MAX)
		return -EMSGSIZE;
	if (len < PRIVSEP_HDR_LEN)
		return -EBADMSG;
	if (get_be32(buf) != len || get_be16(buf + 6) != 0)
		return -EBADMSG;
	*type = get_be16(buf + 4);
	*body = len - PRIVSEP_HDR_LEN;
	return 0;
}

int
privsep_msg_parse(const uint8_t *buf, size_t len, struct privsep_req *req)
{
	const uint8_t *p;
	size_t rem, n;
	uint16_t type;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = privsep_hdr_parse(buf, len, &type, &rem)) < 0)
		return r;
	p = buf + PRIVSEP_HDR_LEN;
	switch (type) {
	case PRIVSEP_MSG_OPEN_SERIAL:
		if (rem < 2)
			return -EBADMSG;
		n = get_be16(p);
		p += 2;
		rem -= 2;
		if (n == 0 || n > PRIVSEP_PATH_LEN_MAX || n > rem)
			return -EBADMSG;
		if (memchr(p, '\0', n) != NULL)
			return -EBADMSG;
		memcpy(req->path, p, n);
		req->path[n] = '\0';
		rem -= n;
		break;
	case PRIVSEP_MSG_OPEN_FILE:
		if (rem < 1)
			return -EBADMSG;
		if (p[0] >= PRIVSEP_FILE_MAX)
			return -EBADMSG;
		req->which = (enum privsep_file)p[0];
		rem -= 1;
		break;
	default:
		return -EBADMSG;
	}
	if (rem != 0)
		return -EBADMSG;	/* trailing bytes */
	req->type = (enum privsep_msg_type)type;
	return 0;
}

int
privsep_msg_encode(const struct privsep_req *req, uint8_t *buf, size_t cap,
    size_t *len)
{
	size_t n, total;

	*len = 0;
	switch (req->type) {
	case PRIVSEP_MSG_OPEN_SERIAL:
		n = strnlen(req->path, sizeof(req->path));
		if (n == 0 || n > PRIVSEP_PATH_LEN_MAX)
			return -ENAMETOOLONG;
		total = PRIVSEP_HDR_LEN + 2 + n;
		if (total > cap)
			return -ENOBUFS;
		put_be16(buf + PRIVSEP_HDR_LEN, (uint16_t)n);
		memcpy(buf + PRIVSEP_HDR_LEN + 2, req->path, n);
		break;
	case PRIVSEP_MSG_OPEN_FILE:
		if ((unsigned int)req->which >= PRIVSEP_FILE_MAX)
			return -EINVAL;
		total = PRIVSEP_HDR_LEN + 1;
		if (total > cap)
			return -ENOBUFS;
		buf[PRIVSEP_HDR_LEN] = (uint8_t)req->which;
		break;
	default:
		return -EINVAL;
	}
	put_be32(buf, (uint32_t)total);
	put_be16(buf + 4, (uint16_t)req->type);
	put_be16(buf + 6, 0);
	*len = total;
	return 0;
}

int
privsep_reply_parse(const uint8_t *buf, size_t len, int *result)
{
	uint32_t v;
	size_t body;
	uint16_t type;
	int r;

	*result = -EPROTO;
	if ((r = privsep_hdr_parse(buf, len, &type, &body)) < 0)
		return r;
	if (type != PRIVSEP_MSG_REPLY || body != 4)
		return -EBADMSG;
	v = get_be32(buf + PRIVSEP_HDR_LEN);
	/* 0 or a negative errno; anything else is not ours. */
	if (v != 0 && (v < 0x80000000u || v <= (uint32_t)-4096))
		return -EBADMSG;
	*result = v == 0 ? 0 : -(int)(~v + 1);
	return 0;
}

/* One datagram of len bytes at buf, with room ctl for descriptors. */
void
privsep_msghdr(struct msghdr *msg, struct iovec *iov, void *buf, size_t len,
    void *ctl, size_t ctllen)
{
	memset(msg, 0, sizeof(*msg));
	iov->iov_base = buf;
	iov->iov_len = len;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = ctl;
	msg->msg_controllen = ctllen;
}

void
privsep_close_fds(struct msghdr *msg)
{
	struct cmsghdr *cm;
	size_t i, n;
	int fd;

	for (cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

void
privsep_reply_encode(int result, uint8_t out[PRIVSEP_REPLY_LEN])
{
	put_be32(out, PRIVSEP_REPLY_LEN);
	put_be16(out + 4, PRIVSEP_MSG_REPLY);
	put_be16(out + 6, 0);
	put_be32(out + 8, (uint32_t)result);
}
