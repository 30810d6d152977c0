/*
 * radio.h - what every concentrator driver shares: radio metadata, received
 * and transmitted packets, events, and the driver interface.
 *
 * Data flow: serial port bytes -> driver->input() -> radio_event (RX, TX
 * result, status, error) -> daemon.  Downlinks go the other way through
 * driver->transmit(), which queues bytes in a radio_out for the port.
 *
 * The interface fits both a stream of self-describing binary frames (the
 * fieldbridge serial protocol, drv_fbsp.c) and a line-based text dialect
 * that must be initialised, answers commands with ok/error and reports
 * packets as events (Microchip RN2483, RAKwireless RUI3): start() queues an
 * initialisation sequence built from the port's struct radio_params, tick()
 * times out unanswered commands and asks for a reset, and input() turns
 * replies into events.  check() tells the config which radio_params a
 * module accepts, so that `fieldbridged --check` refuses what the module
 * would refuse.
 */
#ifndef FB_RADIO_H
#define FB_RADIO_H

#include <stddef.h>
#include <stdint.h>

#define RADIO_PAYLOAD_MAX	255	/* largest radio packet, bytes */
#define RADIO_OUT_MAX		4096	/* bytes queued towards one port */
#define RADIO_DROPS_MAX		16	/* a driver's drop verdicts, with 0 */

enum radio_mod {
	RADIO_MOD_LORA = 0,
	RADIO_MOD_FSK = 1,
	RADIO_MOD_OOK = 2,
};

/* What the concentrator reports about a received packet. */
struct radio_meta {
	uint8_t		modulation;	/* enum radio_mod */
	uint32_t	freq_hz;
	uint32_t	datarate;	/* LoRa: spreading factor; FSK/OOK: bit/s */
	uint32_t	bw_hz;
	int16_t		rssi_dbm;
	int16_t		snr_db10;	/* SNR in tenths of a dB */
	uint32_t	tmst_us;	/* concentrator's free-running counter */
};

struct radio_rx {
	struct radio_meta	 meta;
	const uint8_t		*payload;	/* valid during the callback */
	size_t			 len;
};

struct radio_tx {
	uint16_t		 id;		/* echoed in the TX result */
	struct radio_meta	 meta;		/* modulation, freq, datarate, bw */
	int8_t			 power_dbm;
	uint32_t		 at_tmst_us;	/* 0: at once */
	const uint8_t		*payload;
	size_t			 len;
};

enum radio_ev_type {
	RADIO_EV_READY,		/* initialisation done, packets may flow */
	RADIO_EV_RX,		/* a packet was received */
	RADIO_EV_TX_RESULT,	/* a transmit request finished */
	RADIO_EV_STATUS,	/* heartbeat */
	RADIO_EV_ERROR,		/* the concentrator reported an error */
	RADIO_EV_DROP,		/* bytes from the line were discarded */
	RADIO_EV_PORT_UP,	/* port.c: the serial line was (re)opened */
	RADIO_EV_PORT_DOWN,	/* port.c: closed, or an open attempt failed */
};

struct radio_event {
	enum radio_ev_type	type;
	union {
		struct radio_rx	rx;
		struct {
			uint16_t	id;
			uint8_t		status;	/* 0: sent */
		} txr;
		struct {
			uint32_t	uptime_s;
			uint32_t	rx_ok;
			uint32_t	rx_bad;
		} status;
		struct {
			uint8_t		 code;
			const char	*msg;	/* NUL-terminated, may be "" */
		} error;
		int		drop;	/* negative verdict of the driver's codec,
					 * named by its drop_names */
		struct {		/* PORT_UP, PORT_DOWN */
			int		err;	  /* DOWN: positive errno (EIO
						   * hang-up, ETIMEDOUT silent
						   * concentrator, or why the
						   * open failed); UP: 0 */
			uint32_t	retry_ms; /* DOWN: next attempt in */
		} port;
	} u;
};

typedef void radio_event_fn(void *arg, const struct radio_event *ev);

/*
 * The radio settings of one port, from its concentrator's config entry.  A
 * module with a configurable radio (RN2483, RAK3172) is set to them at
 * every start; FBSP concentrators configure themselves and ignore them.
 */
struct radio_params {
	uint8_t		modulation;	/* RADIO_MOD_LORA or RADIO_MOD_FSK */
	uint32_t	freq_hz;
	uint8_t		sf;		/* LoRa spreading factor, 7..12 */
	uint32_t	bw_hz;		/* LoRa bandwidth */
	uint8_t		cr;		/* LoRa coding rate 4/(4 + cr), 1..4 */
	uint32_t	bitrate;	/* FSK bit/s */
	uint16_t	sync_word;	/* LoRa: 0x12 private networks */
	uint16_t	preamble;	/* symbols */
	int8_t		power_dbm;
};

#define RADIO_PARAMS_WHY_MAX	128	/* bytes of a check() explanation */

/* EU868 LoRa 869.525 MHz SF9/125 kHz 4/5, sync 0x12, 14 dBm. */
void	radio_params_default(struct radio_params *rp);

/* Bytes queued for the port; the port writes them when it can. */
struct radio_out {
	uint8_t	buf[RADIO_OUT_MAX];
	size_t	len;
};

/* Append to the queue: 0, or -ENOBUFS when it does not fit (nothing added). */
int	radio_out_put(struct radio_out *out, const void *data, size_t len);

struct radio_driver {
	const char	*name;		/* as written in the config */
	const char	*help;		/* one line for `fieldbridge ports` */
	size_t		 state_size;	/* zeroed before start() */
	/* The port was (re)opened: reset state, queue any init sequence for
	 * the radio settings rp (read during the call only). */
	int	(*start)(void *st, const struct radio_params *rp,
		    struct radio_out *out, uint64_t now_ms);
	/* Bytes read from the port; events go to cb. */
	void	(*input)(void *st, const uint8_t *buf, size_t len,
		    struct radio_out *out, radio_event_fn *cb, void *arg);
	/* Queue a transmission: 0, -EAGAIN when not ready, -EINVAL, -ENOBUFS. */
	int	(*transmit)(void *st, const struct radio_tx *tx,
		    struct radio_out *out);
	/* Periodic: command timeouts, keep-alives. -ETIMEDOUT asks the port
	 * to close and reopen (a reset). */
	int	(*tick)(void *st, struct radio_out *out, uint64_t now_ms);
	/* The port is closing the line (a reset, an error, an unplug) and
	 * will zero the state: hand to cb what the driver still holds that
	 * is a node's data (a packet waiting for its signal figures).  NULL:
	 * the driver holds nothing between calls. */
	void	(*drain)(void *st, radio_event_fn *cb, void *arg);
	/*
	 * The names of its drop verdicts, indexed by -verdict; [0] (a good
	 * frame) is never counted, and ndrops <= RADIO_DROPS_MAX.  The port
	 * counts drops by them, and the daemon's drop counters carry these
	 * names ("serial_crc" in the counters line, "drop_serial_crc" in the
	 * status file; "other" is theirs, for verdicts outside the table), so
	 * a shipped name stays.  Short, lower case, [a-z0-9_].
	 */
	const char *const	*drop_names;
	size_t			 ndrops;
	/*
	 * Does the module accept rp?  0, or -EINVAL with a one-line reason in
	 * why (NUL-terminated, at most RADIO_PARAMS_WHY_MAX bytes) naming the
	 * setting and the module's range.  NULL: anything goes.
	 */
	int	(*check)(const struct radio_params *rp, char *why);
	/* The line speed the module talks at out of the box: the config's
	 * default for the port. */
	unsigned int	 baud;
	/* `fieldbridge ports --probe`: the command that asks the module its
	 * version (with its line end), and the start of a good answer.
	 * probe_cmd NULL: the driver cannot be probed. */
	const char	*probe_cmd;
	const char	*probe_reply;
};

/* The list of drivers, in radio/drivers.c: one line per driver. */
const struct radio_driver *radio_driver_find(const char *name);
const struct radio_driver *const *radio_drivers(void);


#endif
