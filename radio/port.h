/*
 * port.h - one concentrator: its serial line, its driver, and the
 * reopen-with-backoff logic for a line that hangs up (a USB adapter pulled
 * out, a simulator restarted).  A hang-up (POLLHUP/POLLERR, read() == 0,
 * write() == EIO) closes the fd; the port reopens by its configured path.
 *
 * Events: the driver's events pass through to cb (counted on the way), and
 * the port adds RADIO_EV_PORT_UP / RADIO_EV_PORT_DOWN (radio.h).  The
 * callback may call radio_port_transmit() on the same port.
 */
#ifndef FB_PORT_H
#define FB_PORT_H

#include <stdint.h>

#include "radio/radio.h"

#define PORT_BACKOFF_MIN_MS	200
#define PORT_BACKOFF_MAX_MS	10000

struct radio_port;

/* How a port gets its fd: serial_open() by default; the sandbox swaps in
 * one that asks the privileged parent. Returns fd or -errno. */
typedef int port_opener_fn(void *arg, const char *path, unsigned int baud);

struct radio_port *radio_port_new(const char *name, const char *path,
	    unsigned int baud, const struct radio_driver *drv,
	    radio_event_fn *cb, void *cbarg);
/* Frees, closing the fd if open. Not from inside the port's callback. */
void	radio_port_free(struct radio_port *p);
void	radio_port_set_opener(struct radio_port *p, port_opener_fn *fn, void *arg);
/* The radio settings handed to the driver at every (re)open; a new port
 * starts with radio_params_default(). */
void	radio_port_set_params(struct radio_port *p, const struct radio_params *rp);

/* fd to poll (-1 while closed) and the events wanted. */
int	radio_port_fd(const struct radio_port *p);
short	radio_port_events(const struct radio_port *p);
/* Act on poll results: read, feed the driver, flush, detect hang-up. */
void	radio_port_handle(struct radio_port *p, short revents, uint64_t now_ms);
/* Timers: reopen when due, driver tick. Returns ms until next wish (or -1). */
int	radio_port_tick(struct radio_port *p, uint64_t now_ms);
/* Open now (the first tick does it too): 0, or the opener's -errno, in
 * which case a retry is scheduled after the back-off.  Emits PORT_UP, or
 * PORT_DOWN when the failure differs from the previous one. */
int	radio_port_open(struct radio_port *p, uint64_t now_ms);
/* Queue a downlink: the driver's result, or -ENOTCONN while closed. */
int	radio_port_transmit(struct radio_port *p, const struct radio_tx *tx);

const char *radio_port_name(const struct radio_port *p);
int	radio_port_is_open(const struct radio_port *p);

struct radio_port_stats {
	uint64_t	bytes_in;
	uint64_t	rx_packets;
	uint64_t	reopens;
	uint64_t	drops[RADIO_DROPS_MAX];	/* by -verdict of the driver
						 * (its drop_names); [0]:
						 * verdicts outside them */
	uint64_t	bytes_out;
};
const struct radio_port_stats *radio_port_stats(const struct radio_port *p);

#endif
