/*
 * privsep_int.h - what the three parts of privsep share and nobody else
 * needs: the child's handle and the message plumbing (privsep_msg.c).
 */
#ifndef FB_PRIVSEP_INT_H
#define FB_PRIVSEP_INT_H

#include <sys/socket.h>
#include <sys/uio.h>

#include <stddef.h>
#include <stdint.h>

#define PRIVSEP_REPLY_LEN	(PRIVSEP_HDR_LEN + 4)

struct privsep_child {
	int	 fd;
	int	 notify_fd;
	int	(*configure)(int fd, unsigned int baud);
};

/* One datagram of len bytes at buf, with room for ctllen bytes of
 * control data (0: none). */
void	privsep_msghdr(struct msghdr *msg, struct iovec *iov, void *buf,
	    size_t len, void *ctl, size_t ctllen);
/* Closes every descriptor a received message carried. */
void	privsep_close_fds(struct msghdr *msg);
/* The parent's REPLY carrying result (0 or -errno). */
void	privsep_reply_encode(int result, uint8_t out[PRIVSEP_REPLY_LEN]);

#endif
