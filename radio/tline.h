/*
 * tline.h - what the drivers of text-command modules share (drv_rn2483.c,
 * drv_rak3172.c): the line reader, the one-command-at-a-time queue and the
 * hex and number codecs of their dialects.
 *
 * Data flow: port bytes -> tline_feed() -> one call per line (CR LF
 * stripped) or per refused line -> the driver's dialect.  The driver's
 * commands -> tline_cmdq -> "text\r\n" in the port's output queue, the
 * next one only once the previous one has been answered.
 */
#ifndef FB_TLINE_H
#define FB_TLINE_H

#include <stddef.h>
#include <stdint.h>

#include "radio/radio.h"

/* The longest line a module sends, CR LF excluded: RN2483 "radio_rx  "
 * and RUI3 "+EVT:RXP2P:-120:-20:" followed by 2 x 255 hex digits. */
#define TLINE_LINE_MAX		560
/* The longest command: "radio tx " or "AT+PSEND=" and 2 x 255 hex. */
#define TLINE_CMD_MAX		540
#define TLINE_QUEUE_MAX		16	/* commands waiting, per module */

/* Verdicts of the reader; the drivers' own continue from -3. */
enum tline_verdict {
	TLINE_OK = 0,
	TLINE_ERR_LONG = -1,	/* longer than TLINE_LINE_MAX: dropped whole */
	TLINE_ERR_BINARY = -2,	/* a byte outside printable ASCII: noise, or
				 * the module talks at another baud rate */
};

struct tline_reader {
	char	buf[TLINE_LINE_MAX + 1];
	size_t	len;
	int	skipping;	/* in an over-long line: drop to its end */
	int	binary;		/* the line holds a non-printable byte */
};

/* One line: verdict TLINE_OK with the line (NUL-terminated, no CR LF,
 * never empty), or a negative verdict with line NULL. */
typedef void tline_fn(void *arg, int verdict, const char *line, size_t len);

void	tline_reader_init(struct tline_reader *r);
void	tline_feed(struct tline_reader *r, const uint8_t *p, size_t n,
	    tline_fn *fn, void *arg);

struct tline_cmd {
	int		kind;		/* the driver's */
	uint16_t	id;		/* a downlink's radio_tx id */
	char		text[TLINE_CMD_MAX + 1];
};

/*
 * A module answers one command at a time: the queue, the command in flight
 * and when it was sent.  input() has no clock: a command is dated with the
 * time of the last tick, which is at most one tick period early, so a
 * timeout fires between timeout_ms less one tick and timeout_ms.
 */
struct tline_cmdq {
	struct tline_cmd	q[TLINE_QUEUE_MAX];
	unsigned int		head, n;
	struct tline_cmd	cur;
	int			busy;		/* cur sent, not yet answered */
	uint64_t		sent_ms;
	uint64_t		now_ms;		/* of the last tick */
};

void	tline_cmdq_init(struct tline_cmdq *q, uint64_t now_ms);
/* Queue a command, at the back or (front != 0) before the others:
 * 0, -ENOBUFS when the queue is full, -EINVAL when it is too long. */
int	tline_cmdq_add(struct tline_cmdq *q, int front, int kind, uint16_t id,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The kind of the next command waiting, or 0. */
int	tline_cmdq_next(const struct tline_cmdq *q);
/* How many waiting commands are of this kind. */
unsigned int tline_cmdq_count(const struct tline_cmdq *q, int kind);
/* Send the next command if none is in flight: 0 sent, 1 nothing to send
 * (or one in flight), -ENOBUFS when the port's queue is full. */
int	tline_cmdq_send(struct tline_cmdq *q, struct radio_out *out);
/* The command in flight has been answered. */
void	tline_cmdq_done(struct tline_cmdq *q);
/* Drop everything; the ids of dropped downlinks are not reported. */
void	tline_cmdq_clear(struct tline_cmdq *q);
/* From tick(), first: the clock is now_ms; 1 when the command in flight
 * has waited timeout_ms for its answer. */
int	tline_cmdq_expired(struct tline_cmdq *q, uint64_t now_ms,
	    uint32_t timeout_ms);

/* Where a driver's events go during its input(); cb NULL outside it
 * (events are then dropped: tick() cannot report). */
#define TLINE_MSG_MAX		160	/* bytes of an ERROR event's text */
struct tline_sink {
	radio_event_fn	*cb;
	void		*arg;
	char		 msg[TLINE_MSG_MAX];
};

void	tline_emit(struct tline_sink *k, const struct radio_event *ev);
void	tline_emit_drop(struct tline_sink *k, int verdict);
void	tline_emit_ready(struct tline_sink *k);
void	tline_emit_txr(struct tline_sink *k, uint16_t id, uint8_t status);
/* An ERROR event; the text is made printable (module bytes in it). */
void	tline_emit_error(struct tline_sink *k, uint8_t code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * What a driver of a text-command module keeps besides its dialect: the
 * reader, the command queue, where events go, whether the radio receives
 * or transmits, and the bookkeeping of its resets (drv_rn2483.c and
 * drv_rak3172.c embed one as their first member, m).
 */
#define TLINE_WHY_CMD_MAX	48
#define TLINE_BINARY_RESET	3	/* binary lines in a row: wrong baud */
#define TLINE_SOFT_RESETS_MAX	2	/* then the port reopens the line */

struct tline_mod {
	struct tline_reader	 rd;
	struct tline_cmdq	 cq;
	struct radio_params	 rp;
	int			 ready;		/* READY reported since start */
	int			 rx_on;		/* a reception is running */
	int			 tx_on;		/* a transmission is running */
	uint16_t		 tx_id;
	uint64_t		 tx_ms;
	int			 binary_run;
	int			 soft_resets;
	uint64_t		 last_heard_ms;
	const char		*why;		/* of the reset under way */
	char			 why_cmd[TLINE_WHY_CMD_MAX];
	unsigned int		 lost_tx;	/* downlinks lost to resets */
	struct tline_sink	 k;		/* during input() only */
	struct radio_out	*out;		/* during input() only */
};

void	tline_mod_start(struct tline_mod *m, const struct radio_params *rp,
	    uint64_t now_ms);
/* input(): events go to cb while the bytes are read line by line. */
void	tline_mod_input(struct tline_mod *m, const uint8_t *buf, size_t len,
	    struct radio_out *out, radio_event_fn *cb, void *arg,
	    tline_fn *line, void *line_arg);
/* A line was read: verdict TLINE_OK (1), or a drop reported (0). */
int	tline_mod_heard(struct tline_mod *m, int verdict);
/* Queue a downlink as "<prefix><hex>" of kind: 0 or -errno (transmit()). */
int	tline_mod_tx(struct tline_mod *m, const struct radio_tx *tx, int kind,
	    const char *prefix);
/* The module is to be reset (why, and the command it left unanswered):
 * 0, or -ETIMEDOUT once TLINE_SOFT_RESETS_MAX resets did not help. */
int	tline_mod_fail(struct tline_mod *m, const char *why, const char *cmd,
	    int tx_kind);
/* The boot banner arrived: report the reset (asked for or not). */
void	tline_mod_booted(struct tline_mod *m, int asked, int tx_kind);
/* The reception is on: READY once, the reset count starts again. */
void	tline_mod_receiving(struct tline_mod *m);
/* From tick(), after tline_cmdq_expired: what else needs a reset, or
 * NULL: noise line after line, a transmission past tx_max_ms. */
const char *tline_mod_check(struct tline_mod *m, uint64_t now_ms,
	    uint32_t tx_max_ms);

/* Hex digits (either case) to bytes: the length, or -1 (odd length, not
 * hex, longer than cap). */
int	tline_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap);
/* Bytes to upper-case hex and a NUL: out holds 2 * n + 1. */
void	tline_hex_encode(const uint8_t *p, size_t n, char *out);
/* A decimal integer, optional sign, nothing else, within [lo, hi]:
 * 0 and *v, or -EINVAL. */
int	tline_int(const char *s, size_t n, long long lo, long long hi,
	    long long *v);
/* A printable copy of a module's text for an event message (at most
 * cap - 1 bytes and a NUL). */
const char *tline_text(char *dst, size_t cap, const char *s);

#endif
