/*
 * port.c - one concentrator: its serial line, its driver and the logic
 * that keeps the line open across hang-ups.
 *
 * Data flow: poll() -> radio_port_handle() -> read() -> driver input() ->
 * radio events -> port_event() (counts) -> the daemon's callback.  The
 * driver's bytes for the concentrator wait in an output queue that is
 * written when poll() reports POLLOUT.
 *
 * A line is "gone" when poll() reports POLLHUP/POLLERR, read() returns 0
 * or fails with EIO, or write() fails (an unplugged USB adapter shows all
 * of these; a pty whose master closed shows POLLHUP and EIO), and when the
 * driver's tick() says the concentrator went silent (-ETIMEDOUT).  The port
 * then closes the fd and reopens the same path after a back-off that
 * doubles from PORT_BACKOFF_MIN_MS to PORT_BACKOFF_MAX_MS and falls back to
 * the minimum once the concentrator talks sense again.  radio/ does not log:
 * every change is reported as RADIO_EV_PORT_UP / RADIO_EV_PORT_DOWN.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radio/port.h"
#include "radio/serial.h"
#include "radio/serlock.h"

/* Read at most this much per poll round, so one chatty line cannot
 * starve the other ports and the uplink. */
#define PORT_READ_MAX_BYTES	(64 * 1024)
#define PORT_READ_CHUNK_BYTES	4096
/* How often the driver's tick() runs while the line is open. */
#define PORT_TICK_MS		1000

struct radio_port {
	char			*name;
	char			*path;
	unsigned int		 baud;
	const struct radio_driver *drv;
	struct radio_params	 rp;
	void			*st;		/* driver state */
	radio_event_fn		*cb;
	void			*cbarg;
	port_opener_fn		*opener;
	void			*opener_arg;
	/* The line serial_open locked (radio/serlock.c), when the port
	 * opened it itself: released when the port closes it. */
	char			 lock_key[SERLOCK_KEY_MAX];
	int			 fd;
	int			 opened_once;
	int			 last_err;	/* of the last PORT_DOWN */
	uint32_t		 backoff_ms;	/* before the next reopen */
	uint64_t		 next_open_ms;
	struct radio_out	 out;
	struct radio_port_stats	 stats;
	uint8_t			 rbuf[PORT_READ_CHUNK_BYTES];
};

static int
port_serial_open(void *arg, const char *path, unsigned int baud)
{
	struct radio_port *p = arg;
	int fd;

	fd = serial_open(path, baud);
	/* The lock is named after the device, and a pseudo-terminal's
	 * number comes back to the next program that opens one: a lock kept
	 * after the close would refuse that program its own line. */
	if (fd >= 0 && serlock_key(path, p->lock_key, sizeof(p->lock_key)) != 0)
		p->lock_key[0] = '\0';
	return fd;
}

static void
port_unlock(struct radio_port *p)
{
	if (p->opener != port_serial_open || p->lock_key[0] == '\0')
		return;
	serlock_release(NULL, p->lock_key, getpid());
	p->lock_key[0] = '\0';
}

/* Every driver event passes here to be counted, then to the daemon. */
static void
port_event(void *arg, const struct radio_event *ev)
{
	struct radio_port *p = arg;

	switch (ev->type) {
	case RADIO_EV_DROP:
		/* radio_port_new checked ndrops <= RADIO_DROPS_MAX. */
		if (ev->u.drop < 0 && ev->u.drop > -(int)p->drv->ndrops)
			p->stats.drops[-ev->u.drop]++;
		else
			p->stats.drops[0]++;
		break;
	case RADIO_EV_RX:
		p->stats.rx_packets++;
		/* FALLTHROUGH */
	default:
		/* The concentrator talks sense: the next failure starts the
		 * back-off afresh. */
		p->backoff_ms = PORT_BACKOFF_MIN_MS;
		break;
	}
	p->cb(p->cbarg, ev);
}

static void
port_emit(struct radio_port *p, enum radio_ev_type type, int err,
    uint32_t retry_ms)
{
	struct radio_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.u.port.err = err;
	ev.u.port.retry_ms = retry_ms;
	p->cb(p->cbarg, &ev);
}

/* Schedule the next open attempt and grow the back-off. */
static uint32_t
port_schedule(struct radio_port *p, uint64_t now_ms)
{
	uint32_t wait = p->backoff_ms;

	p->next_open_ms = now_ms + wait;
	p->backoff_ms = wait >= PORT_BACKOFF_MAX_MS / 2 ?
	    PORT_BACKOFF_MAX_MS : wait * 2;
	return wait;
}

static void
port_close(struct radio_port *p, int err, uint64_t now_ms)
{
	uint32_t wait;

	if (p->fd < 0)
		return;
	if (p->drv->drain != NULL)
		p->drv->drain(p->st, port_event, p);
	(void)close(p->fd);
	p->fd = -1;
	port_unlock(p);
	p->out.len = 0;
	wait = port_schedule(p, now_ms);
	p->last_err = err;
	port_emit(p, RADIO_EV_PORT_DOWN, err, wait);
}

int
radio_port_open(struct radio_port *p, uint64_t now_ms)
{
	uint32_t wait;
	int fd, r;

	if (p->fd >= 0)
		return 0;
	fd = p->opener(p->opener_arg, p->path, p->baud);
	if (fd < 0) {
		wait = port_schedule(p, now_ms);
		/* Report a failure once, not every retry: the daemon
		 * logs each event. */
		if (-fd != p->last_err)
			port_emit(p, RADIO_EV_PORT_DOWN, -fd, wait);
		p->last_err = -fd;
		return fd;
	}
	p->fd = fd;
	p->out.len = 0;
	memset(p->st, 0, p->drv->state_size);
	if ((r = p->drv->start(p->st, &p->rp, &p->out, now_ms)) != 0) {
		port_close(p, -r, now_ms);
		return r;
	}
	if (p->opened_once)
		p->stats.reopens++;
	p->opened_once = 1;
	p->last_err = 0;
	port_emit(p, RADIO_EV_PORT_UP, 0, 0);
	return 0;
}

struct radio_port *
radio_port_new(const char *name, const char *path, unsigned int baud,
    const struct radio_driver *drv, radio_event_fn *cb, void *cbarg)
{
	struct radio_port *p;

	if (name == NULL || path == NULL || drv == NULL || cb == NULL ||
	    drv->ndrops > RADIO_DROPS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->fd = -1;
	p->baud = baud;
	p->drv = drv;
	p->cb = cb;
	p->cbarg = cbarg;
	p->opener = port_serial_open;
	p->opener_arg = p;
	radio_params_default(&p->rp);
	p->backoff_ms = PORT_BACKOFF_MIN_MS;
	/* calloc(1, 0) may return NULL: always give the driver a block. */
	if ((p->name = strdup(name)) == NULL ||
	    (p->path = strdup(path)) == NULL ||
	    (p->st = calloc(1, drv->state_size > 0 ? drv->state_size : 1)) ==
	    NULL) {
		radio_port_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
radio_port_free(struct radio_port *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0) {
		(void)close(p->fd);
		port_unlock(p);
	}
	free(p->st);
	free(p->name);
	free(p->path);
	free(p);
}

void
radio_port_set_opener(struct radio_port *p, port_opener_fn *fn, void *arg)
{
	p->opener = fn != NULL ? fn : port_serial_open;
	p->opener_arg = fn != NULL ? arg : p;
}

void
radio_port_set_params(struct radio_port *p, const struct radio_params *rp)
{
	p->rp = *rp;
}

int
radio_port_fd(const struct radio_port *p)
{
	return p->fd;
}

short
radio_port_events(const struct radio_port *p)
{
	if (p->fd < 0)
		return 0;
	return (short)(POLLIN | (p->out.len > 0 ? POLLOUT : 0));
}

/* Returns 0 while the line is fine, else the errno that closed it. */
static int
port_read(struct radio_port *p)
{
	size_t total = 0;
	ssize_t n;

	while (total < PORT_READ_MAX_BYTES && p->fd >= 0) {
		n = read(p->fd, p->rbuf, sizeof(p->rbuf));
		if (n > 0) {
			total += (size_t)n;
			p->stats.bytes_in += (uint64_t)n;
			p->drv->input(p->st, p->rbuf, (size_t)n, &p->out,
			    port_event, p);
			if ((size_t)n < sizeof(p->rbuf))
				break;
			continue;
		}
		if (n == 0)
			return EIO;	/* end of file: the device is gone */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return errno;
	}
	return 0;
}

static int
port_flush(struct radio_port *p)
{
	ssize_t n;

	while (p->out.len > 0) {
		n = write(p->fd, p->out.buf, p->out.len);
		if (n > 0) {
			p->stats.bytes_out += (uint64_t)n;
			memmove(p->out.buf, p->out.buf + n,
			    p->out.len - (size_t)n);
			p->out.len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return n < 0 ? errno : EIO;
	}
	return 0;
}

void
radio_port_handle(struct radio_port *p, short revents, uint64_t now_ms)
{
	int err = 0;

	if (p->fd < 0 || revents == 0)
		return;
	if (revents & POLLNVAL) {
		port_close(p, EBADF, now_ms);
		return;
	}
	/* Read even on POLLHUP: the last frames may still be buffered. */
	if (revents & (POLLIN | POLLHUP | POLLERR))
		err = port_read(p);
	if (err == 0 && p->fd >= 0 && (revents & POLLOUT))
		err = port_flush(p);
	if (err == 0 && (revents & (POLLHUP | POLLERR)))
		err = EIO;
	if (err != 0)
		port_close(p, err, now_ms);
}

int
radio_port_tick(struct radio_port *p, uint64_t now_ms)
{
	int r;

	if (p->fd < 0) {
		if (now_ms >= p->next_open_ms)
			(void)radio_port_open(p, now_ms);
		if (p->fd < 0)
			return p->next_open_ms - now_ms > INT_MAX ? INT_MAX :
			    (int)(p->next_open_ms - now_ms);
	}
	if ((r = p->drv->tick(p->st, &p->out, now_ms)) < 0) {
		/* -ETIMEDOUT: the driver asks for a reset; anything else
		 * means the same to us. */
		port_close(p, -r, now_ms);
		return (int)(p->next_open_ms - now_ms);
	}
	return PORT_TICK_MS;
}

int
radio_port_transmit(struct radio_port *p, const struct radio_tx *tx)
{
	if (p->fd < 0)
		return -ENOTCONN;
	return p->drv->transmit(p->st, tx, &p->out);
}

const char *
radio_port_name(const struct radio_port *p)
{
	return p->name;
}


int
radio_port_is_open(const struct radio_port *p)
{
	return p->fd >= 0;
}

const struct radio_port_stats *
radio_port_stats(const struct radio_port *p)
{
	return &p->stats;
}
