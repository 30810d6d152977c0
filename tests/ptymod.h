/*
 * ptymod.h - the test plays a text-command radio module (RN2483, RAK3172)
 * on the master side of a real pseudo-terminal, while the driver under
 * test runs in a real radio_port that opens the slave through a symlink,
 * as it would open /dev/serial/by-id/...  The port's clock is the test's
 * (ptymod_tick), so timeouts are tested without sleeping; bytes cross the
 * pty for real.  Failures are cmocka assertions.
 */
#ifndef FB_PTYMOD_H
#define FB_PTYMOD_H

#include <stddef.h>
#include <stdint.h>

#include "radio/port.h"
#include "radio/radio.h"

#define PTYMOD_EVENTS_MAX	256
#define PTYMOD_IN_MAX		8192	/* bytes from the driver, unread */

struct ptymod_ev {
	int		type;
	int		drop;
	uint16_t	txr_id;
	uint8_t		txr_status;
	int		port_err;
	struct radio_meta meta;
	uint8_t		payload[RADIO_PAYLOAD_MAX];
	size_t		len;
	char		msg[200];
};

struct ptymod {
	char			 dir[64];
	char			 link[96];
	char			 slave[64];
	int			 master;
	struct radio_port	*port;
	uint64_t		 now;
	uint8_t			 in[PTYMOD_IN_MAX];
	size_t			 inlen;
	struct ptymod_ev	 ev[PTYMOD_EVENTS_MAX];
	size_t			 nev;
	/* Called from the port's callback on RX, e.g. to transmit. */
	void			(*on_rx)(struct ptymod *m,
				    const struct ptymod_ev *e);
};

/* A pty, a link to it, a port of drv on the link with params rp (NULL:
 * defaults), opened at now = 1000. */
void	ptymod_init(struct ptymod *m, const struct radio_driver *drv,
	    const struct radio_params *rp);
void	ptymod_done(struct ptymod *m);
/* Unplug (close the master) and plug in a new pty at the same link. */
void	ptymod_unplug(struct ptymod *m);
void	ptymod_replug(struct ptymod *m);
/* Unplug, see PORT_DOWN, replug at the same path, see PORT_UP. */
void	ptymod_replug_cycle(struct ptymod *m);
/* The reset went unanswered: after timeout_ms the port closes the line
 * (PORT_DOWN, ETIMEDOUT) and reopens it (PORT_UP). */
void	ptymod_reopen_after_silence(struct ptymod *m, unsigned int timeout_ms);

/* Run the port for up to ms of real time, collecting what it writes. */
void	ptymod_pump(struct ptymod *m, unsigned int ms);
/* Advance the port's clock by ms, run its tick, then pump briefly. */
void	ptymod_tick(struct ptymod *m, unsigned int ms);
/* Write to the module's side of the line, as is. */
void	ptymod_write(struct ptymod *m, const void *buf, size_t len);
/* Write a line with CR LF. */
void	ptymod_say(struct ptymod *m, const char *line);
/* Wait (2 s at most) for the next line the driver writes and assert it is
 * line (CR LF stripped). */
void	ptymod_expect(struct ptymod *m, const char *line);
/* Wait for exactly these raw bytes next. */
void	ptymod_expect_raw(struct ptymod *m, const void *buf, size_t len);
/* Assert the driver wrote nothing more (after a short pump). */
void	ptymod_expect_quiet(struct ptymod *m);
/* Alternate expect/say: pairs of strings, the command the driver must
 * send and the module's answer (NULL: none); ends with a NULL command. */
void	ptymod_dialog(struct ptymod *m, const char *const *pairs);

/* Events since index from of this type; the last one of them or NULL. */
size_t	ptymod_count(const struct ptymod *m, size_t from, int type);
const struct ptymod_ev *ptymod_last(const struct ptymod *m, int type);
/* Pump until an event of type is among those since index from (2 s at
 * most); asserts there is one, returns the last. */
const struct ptymod_ev *ptymod_wait(struct ptymod *m, size_t from, int type);

#endif
