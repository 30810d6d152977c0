/*
 * sframe.h - the fieldbridge serial protocol (FBSP) codec: versioned binary
 * frames between the gateway and a microcontroller concentrator, COBS-stuffed
 * with a 0x00 delimiter and a CRC-32, specified in docs/serial-protocol.md.
 *
 * Pure code: no I/O.  Used by the FBSP driver (drv_fbsp.c) on the gateway
 * side and by fieldbridge-sim on the concentrator side.
 */
#ifndef FB_SFRAME_H
#define FB_SFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "radio/radio.h"

#define SFRAME_VERSION		1
#define SFRAME_MSG_MAX		 (RADIO_PAYLOAD_MAX + 40)  /* unstuffed, CRC included */
#define SFRAME_WIRE_MAX		 (SFRAME_MSG_MAX + SFRAME_MSG_MAX / 254 + 3)
#define SFRAME_STUFFED_MAX	 (SFRAME_WIRE_MAX - 1)	/* without the 0x00 */
#define SFRAME_HDR_LEN		3	/* version, kind, seq */
#define SFRAME_CRC_LEN		4
#define SFRAME_TEXT_MAX		128	/* ERROR text, bytes */
#define SFRAME_STATUS_PERIOD_MS	5000	/* concentrator sends STATUS at least */
#define SFRAME_SILENCE_MS	20000	/* gateway declares it dead after */

enum sframe_kind {
	SFRAME_RX = 0x01,	/* concentrator -> gateway: packet received */
	SFRAME_TX_REQ = 0x02,	/* gateway -> concentrator: transmit */
	SFRAME_TX_RESULT = 0x03,/* concentrator -> gateway */
	SFRAME_STATUS = 0x04,	/* concentrator -> gateway: heartbeat */
	SFRAME_ERROR = 0x05,	/* concentrator -> gateway */
	SFRAME_RESET = 0x06,	/* gateway -> concentrator: reset radio state */
};

/* TX_RESULT status codes. */
enum sframe_tx_status {
	SFRAME_TX_SENT = 0,
	SFRAME_TX_BUSY = 1,		/* another transmission is under way */
	SFRAME_TX_TOO_LATE = 2,		/* at_tmst_us already passed */
	SFRAME_TX_TOO_EARLY = 3,	/* at_tmst_us too far ahead */
	SFRAME_TX_PARAM = 4,		/* frequency, power or rate not allowed */
	SFRAME_TX_FAILED = 5,		/* the radio reported a failure */
};

/* ERROR codes. */
enum sframe_err_code {
	SFRAME_EC_BAD_FRAME = 1,	/* it could not decode a gateway frame */
	SFRAME_EC_UNSUPPORTED = 2,	/* version or kind it does not speak */
	SFRAME_EC_RADIO = 3,		/* radio initialisation or I/O failed */
	SFRAME_EC_OVERFLOW = 4,		/* it dropped packets: queue full */
	SFRAME_EC_INTERNAL = 5,
};

/*
 * Verdicts: 0 is a good frame; negative values index drop counters, named
 * by sframe_verdict_names[-verdict] (the FBSP driver's drop_names, so the
 * daemon's serial drop counters: the names are part of its status file).
 */
enum sframe_verdict {
	SFRAME_OK = 0,
	SFRAME_ERR_OVERRUN = -1,	/* no delimiter within SFRAME_WIRE_MAX */
	SFRAME_ERR_STUFFING = -2,	/* invalid COBS */
	SFRAME_ERR_SHORT = -3,		/* shorter than header + CRC */
	SFRAME_ERR_CRC = -4,
	SFRAME_ERR_VERSION = -5,
	SFRAME_ERR_KIND = -6,		/* unknown frame kind */
	SFRAME_ERR_LENGTH = -7,		/* fields do not fit, or trailing bytes */
};
#define SFRAME_VERDICT_COUNT	8

/* A decoded frame.  payload points into the buffer given to sframe_decode. */
struct sframe {
	uint8_t		kind;		/* enum sframe_kind */
	uint8_t		seq;		/* sender's frame counter, wraps */
	union {
		struct radio_meta rx;		/* SFRAME_RX */
		struct {			/* SFRAME_TX_REQ */
			uint16_t		id;
			struct radio_meta	meta;
			int8_t			power_dbm;
			uint32_t		at_tmst_us;
		} tx;
		struct {			/* SFRAME_TX_RESULT */
			uint16_t	id;
			uint8_t		status;
		} txr;
		struct {			/* SFRAME_STATUS */
			uint32_t	uptime_s;
			uint32_t	rx_ok;
			uint32_t	rx_bad;
		} status;
		struct {			/* SFRAME_ERROR (text in payload) */
			uint8_t		code;
		} error;
	} u;
	const uint8_t	*payload;	/* RX/TX_REQ packet, ERROR text */
	size_t		 payload_len;
};

/* Decode one unstuffed message (CRC included): 0 or a negative verdict. */
int	sframe_decode(const uint8_t *msg, size_t len, struct sframe *out);
/* Encode to wire bytes (stuffed, delimited); returns length or -ENOBUFS/-EINVAL. */
int	sframe_encode(const struct sframe *f, uint8_t *wire, size_t cap);

/*
 * Incremental reader: feed raw line bytes; every complete frame (good or
 * bad) is reported through cb with its verdict (f is NULL unless the verdict
 * is SFRAME_OK; f and its payload are valid during the call only).  Empty
 * frames (0x00 0x00) are idle fill and not reported.  Resynchronises at the
 * next delimiter after noise, a torn frame or an overrun.  No allocation.
 */
struct sframe_reader {
	uint8_t	buf[SFRAME_WIRE_MAX];
	size_t	len;
	int	overrun;
};
typedef void sframe_fn(void *arg, int verdict, const struct sframe *f);
void	sframe_reader_init(struct sframe_reader *r);
void	sframe_reader_feed(struct sframe_reader *r, const uint8_t *buf,
	    size_t len, sframe_fn *cb, void *arg);

extern const char *const sframe_verdict_names[SFRAME_VERDICT_COUNT];
/* The verdict's name, "unknown" outside the table. */
const char *sframe_strerror(int verdict);

#endif
