/*
 * drv_fbsp.c - the driver for microcontroller concentrators that speak the
 * fieldbridge serial protocol (FBSP v1, docs/serial-protocol.md).
 *
 * Data flow: port.c reads the line -> fbsp_input() -> sframe reader ->
 * radio events (READY, RX, TX_RESULT, STATUS, ERROR, DROP) -> the port's
 * callback -> daemon.  Downlinks: fbsp_transmit() -> TX_REQ frame -> the
 * port's output queue.
 *
 * The protocol is self-describing, so the driver keeps little state: the
 * frame reader, its own sequence counter, and when it last heard a valid
 * frame.  A concentrator silent for SFRAME_SILENCE_MS is declared dead:
 * tick() returns -ETIMEDOUT and the port closes and reopens the line, which
 * sends a fresh RESET.
 */
#include <errno.h>
#include <string.h>

#include "radio/radio.h"
#include "radio/sframe.h"

struct fbsp {
	struct sframe_reader	 rd;
	uint8_t			 seq;		/* of our next frame */
	int			 ready;		/* answered since RESET */
	int			 heard;		/* valid frame since last tick */
	uint64_t		 last_heard_ms;
	/* Valid during fbsp_input() only: where events go. */
	radio_event_fn		*cb;
	void			*cbarg;
	char			 text[SFRAME_TEXT_MAX + 1];
};

static int
fbsp_send(struct fbsp *s, struct sframe *f, struct radio_out *out)
{
	uint8_t wire[SFRAME_WIRE_MAX];
	int n, r;

	f->seq = s->seq;
	if ((n = sframe_encode(f, wire, sizeof(wire))) < 0)
		return n;
	if ((r = radio_out_put(out, wire, (size_t)n)) != 0)
		return r;
	s->seq++;
	return 0;
}

static int
fbsp_start(void *st, const struct radio_params *rp, struct radio_out *out,
    uint64_t now_ms)
{
	static const uint8_t delim = 0;
	struct fbsp *s = st;
	struct sframe f;
	int r;

	(void)rp;	/* the concentrator's firmware sets its radio */
	sframe_reader_init(&s->rd);
	s->seq = 0;
	s->ready = 0;
	s->heard = 0;
	s->last_heard_ms = now_ms;
	/* The leading 0x00 ends whatever partial frame the concentrator
	 * holds from before, so that RESET itself is read intact. */
	if ((r = radio_out_put(out, &delim, 1)) != 0)
		return r;
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RESET;
	return fbsp_send(s, &f, out);
}

/* ERROR text is for a log line: keep printable ASCII only, so that a
 * concentrator cannot forge log lines or terminal escapes. */
static const char *
fbsp_text(struct fbsp *s, const uint8_t *p, size_t len)
{
	size_t i;

	if (len > SFRAME_TEXT_MAX)
		len = SFRAME_TEXT_MAX;
	for (i = 0; i < len; i++)
		s->text[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	s->text[len] = '\0';
	return s->text;
}

static void
fbsp_frame(void *arg, int verdict, const struct sframe *f)
{
	struct fbsp *s = arg;
	struct radio_event ev;

	memset(&ev, 0, sizeof(ev));
	/* Frames only the gateway sends are not valid from the line. */
	if (verdict == SFRAME_OK &&
	    (f->kind == SFRAME_TX_REQ || f->kind == SFRAME_RESET))
		verdict = SFRAME_ERR_KIND;
	if (verdict != SFRAME_OK) {
		ev.type = RADIO_EV_DROP;
		ev.u.drop = verdict;
		s->cb(s->cbarg, &ev);
		return;
	}
	s->heard = 1;
	if (!s->ready) {
		s->ready = 1;
		ev.type = RADIO_EV_READY;
		s->cb(s->cbarg, &ev);
		memset(&ev, 0, sizeof(ev));
	}
	switch (f->kind) {
	case SFRAME_RX:
		ev.type = RADIO_EV_RX;
		ev.u.rx.meta = f->u.rx;
		ev.u.rx.payload = f->payload;
		ev.u.rx.len = f->payload_len;
		break;
	case SFRAME_TX_RESULT:
		ev.type = RADIO_EV_TX_RESULT;
		ev.u.txr.id = f->u.txr.id;
		ev.u.txr.status = f->u.txr.status;
		break;
	case SFRAME_STATUS:
		ev.type = RADIO_EV_STATUS;
		ev.u.status.uptime_s = f->u.status.uptime_s;
		ev.u.status.rx_ok = f->u.status.rx_ok;
		ev.u.status.rx_bad = f->u.status.rx_bad;
		break;
	case SFRAME_ERROR:
		ev.type = RADIO_EV_ERROR;
		ev.u.error.code = f->u.error.code;
		ev.u.error.msg = fbsp_text(s, f->payload, f->payload_len);
		break;
	default:
		return;
	}
	s->cb(s->cbarg, &ev);
}

static void
fbsp_input(void *st, const uint8_t *buf, size_t len, struct radio_out *out,
    radio_event_fn *cb, void *arg)
{
	struct fbsp *s = st;

	s->cb = cb;
	s->cbarg = arg;
	sframe_reader_feed(&s->rd, buf, len, fbsp_frame, s);
	s->cb = NULL;
	s->cbarg = NULL;
}

static int
fbsp_transmit(void *st, const struct radio_tx *tx, struct radio_out *out)
{
	struct fbsp *s = st;
	struct sframe f;

	if (tx->len > RADIO_PAYLOAD_MAX || (tx->len > 0 && tx->payload == NULL))
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_REQ;
	f.u.tx.id = tx->id;
	f.u.tx.meta.modulation = tx->meta.modulation;
	f.u.tx.meta.freq_hz = tx->meta.freq_hz;
	f.u.tx.meta.datarate = tx->meta.datarate;
	f.u.tx.meta.bw_hz = tx->meta.bw_hz;
	f.u.tx.power_dbm = tx->power_dbm;
	f.u.tx.at_tmst_us = tx->at_tmst_us;
	f.payload = tx->payload;
	f.payload_len = tx->len;
	return fbsp_send(s, &f, out);
}

static int
fbsp_tick(void *st, struct radio_out *out, uint64_t now_ms)
{
	struct fbsp *s = st;

	/* input() has no clock: it leaves a mark that the next tick dates,
	 * which is exact to within one tick period. */
	if (s->heard) {
		s->heard = 0;
		s->last_heard_ms = now_ms;
	}
	if (now_ms > s->last_heard_ms &&
	    now_ms - s->last_heard_ms >= SFRAME_SILENCE_MS)
		return -ETIMEDOUT;
	return 0;
}

const struct radio_driver drv_fbsp = {
	.name = "fbsp",
	.help = "fieldbridge serial protocol v1 (microcontroller concentrator)",
	.state_size = sizeof(struct fbsp),
	.start = fbsp_start,
	.input = fbsp_input,
	.transmit = fbsp_transmit,
	.tick = fbsp_tick,
	.drop_names = sframe_verdict_names,
	.ndrops = SFRAME_VERDICT_COUNT,
	.baud = 115200,
};
