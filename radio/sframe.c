/*
 * sframe.c - the fieldbridge serial protocol (FBSP v1) codec: turns the
 * byte stream of a microcontroller concentrator into frames and back.
 *
 * Data flow: serial port bytes -> sframe_reader_feed() -> COBS decode ->
 * sframe_decode() -> struct sframe -> drv_fbsp.c -> radio events.  The
 * gateway's downlinks and fieldbridge-sim's uplinks go through
 * sframe_encode().
 *
 * The format is specified in docs/serial-protocol.md; in short, one frame
 * on the wire is COBS(message) 0x00, and a message is
 *
 *	version(1) kind(1) seq(1) body(n) crc32(4)
 *
 * with every integer little-endian and the CRC-32 (IEEE 802.3, zlib's
 * crc32()) computed over everything before it.  Checks run in the order
 * size, envelope (COBS), integrity (CRC), fields, trailing bytes, so that
 * line noise is counted as noise and never reaches the field parser.
 *
 * Pure code: no I/O, no allocation, linear in the input.
 */
#include <errno.h>
#include <string.h>

#include <zlib.h>

#include "radio/sframe.h"

/* Bounded reader over an untrusted message: every getter checks what
 * remains, by subtraction, before it reads. */
struct sframe_rd {
	const uint8_t	*p;
	size_t		 left;
};

static int
sframe_get_u8(struct sframe_rd *rd, uint8_t *v)
{
	if (rd->left < 1)
		return -1;
	*v = rd->p[0];
	rd->p++;
	rd->left--;
	return 0;
}

static int
sframe_get_u16(struct sframe_rd *rd, uint16_t *v)
{
	if (rd->left < 2)
		return -1;
	*v = (uint16_t)(rd->p[0] | (uint16_t)rd->p[1] << 8);
	rd->p += 2;
	rd->left -= 2;
	return 0;
}

static int
sframe_get_u32(struct sframe_rd *rd, uint32_t *v)
{
	if (rd->left < 4)
		return -1;
	*v = (uint32_t)rd->p[0] | (uint32_t)rd->p[1] << 8 |
	    (uint32_t)rd->p[2] << 16 | (uint32_t)rd->p[3] << 24;
	rd->p += 4;
	rd->left -= 4;
	return 0;
}

/* A length byte, then that many bytes, capped at max. */
static int
sframe_get_bytes(struct sframe_rd *rd, size_t max, const uint8_t **p,
    size_t *len)
{
	uint8_t n;

	if (sframe_get_u8(rd, &n) != 0 || n > max || rd->left < n)
		return -1;
	*p = rd->p;
	*len = n;
	rd->p += n;
	rd->left -= n;
	return 0;
}

static uint32_t
sframe_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The radio parameters shared by RX and TX_REQ. */
static int
sframe_get_radio(struct sframe_rd *rd, struct radio_meta *m)
{
	if (sframe_get_u8(rd, &m->modulation) != 0 ||
	    sframe_get_u32(rd, &m->freq_hz) != 0 ||
	    sframe_get_u32(rd, &m->datarate) != 0 ||
	    sframe_get_u32(rd, &m->bw_hz) != 0)
		return -1;
	return 0;
}

static int
sframe_get_rx(struct sframe_rd *rd, struct sframe *f)
{
	uint16_t rssi, snr;

	if (sframe_get_radio(rd, &f->u.rx) != 0 ||
	    sframe_get_u16(rd, &rssi) != 0 ||
	    sframe_get_u16(rd, &snr) != 0 ||
	    sframe_get_u32(rd, &f->u.rx.tmst_us) != 0 ||
	    sframe_get_bytes(rd, RADIO_PAYLOAD_MAX, &f->payload,
	    &f->payload_len) != 0)
		return -1;
	/* Two's complement on the wire; converted without relying on
	 * implementation-defined narrowing. */
	f->u.rx.rssi_dbm = (int16_t)(rssi < 0x8000 ? (int)rssi :
	    (int)rssi - 0x10000);
	f->u.rx.snr_db10 = (int16_t)(snr < 0x8000 ? (int)snr :
	    (int)snr - 0x10000);
	return 0;
}

static int
sframe_get_txreq(struct sframe_rd *rd, struct sframe *f)
{
	uint8_t power;

	if (sframe_get_u16(rd, &f->u.tx.id) != 0 ||
	    sframe_get_radio(rd, &f->u.tx.meta) != 0 ||
	    sframe_get_u8(rd, &power) != 0 ||
	    sframe_get_u32(rd, &f->u.tx.at_tmst_us) != 0 ||
	    sframe_get_bytes(rd, RADIO_PAYLOAD_MAX, &f->payload,
	    &f->payload_len) != 0)
		return -1;
	f->u.tx.power_dbm = (int8_t)(power < 0x80 ? (int)power :
	    (int)power - 0x100);
	return 0;
}

int
sframe_decode(const uint8_t *msg, size_t len, struct sframe *out)
{
	struct sframe_rd rd;
	uint8_t version;
	int r;

	memset(out, 0, sizeof(*out));
	/* Size. */
	if (len < SFRAME_HDR_LEN + SFRAME_CRC_LEN)
		return SFRAME_ERR_SHORT;
	if (len > SFRAME_MSG_MAX)
		return SFRAME_ERR_LENGTH;
	/* Integrity: over everything before the CRC. */
	len -= SFRAME_CRC_LEN;
	if (crc32(0L, msg, (uInt)len) != sframe_le32(msg + len))
		return SFRAME_ERR_CRC;
	/* Envelope fields. */
	rd.p = msg;
	rd.left = len;
	(void)sframe_get_u8(&rd, &version);
	(void)sframe_get_u8(&rd, &out->kind);
	(void)sframe_get_u8(&rd, &out->seq);
	if (version != SFRAME_VERSION) {
		r = SFRAME_ERR_VERSION;
		goto out;
	}
	/* Body. */
	r = SFRAME_ERR_LENGTH;
	switch (out->kind) {
	case SFRAME_RX:
		if (sframe_get_rx(&rd, out) != 0)
			goto out;
		break;
	case SFRAME_TX_REQ:
		if (sframe_get_txreq(&rd, out) != 0)
			goto out;
		break;
	case SFRAME_TX_RESULT:
		if (sframe_get_u16(&rd, &out->u.txr.id) != 0 ||
		    sframe_get_u8(&rd, &out->u.txr.status) != 0)
			goto out;
		break;
	case SFRAME_STATUS:
		if (sframe_get_u32(&rd, &out->u.status.uptime_s) != 0 ||
		    sframe_get_u32(&rd, &out->u.status.rx_ok) != 0 ||
		    sframe_get_u32(&rd, &out->u.status.rx_bad) != 0)
			goto out;
		break;
	case SFRAME_ERROR:
		if (sframe_get_u8(&rd, &out->u.error.code) != 0 ||
		    sframe_get_bytes(&rd, SFRAME_TEXT_MAX, &out->payload,
		    &out->payload_len) != 0)
			goto out;
		break;
	case SFRAME_RESET:
		break;
	default:
		r = SFRAME_ERR_KIND;
		goto out;
	}
	/* Trailing bytes. */
	if (rd.left != 0)
		goto out;
	r = SFRAME_OK;
out:
	if (r != SFRAME_OK) {
		memset(out, 0, sizeof(*out));
	}
	return r;
}

/* Bounded writer: a failed put sets err and writes nothing more. */
struct sframe_wr {
	uint8_t	*p;
	size_t	 left;
	int	 err;
};

static void
sframe_put(struct sframe_wr *w, const void *data, size_t len)
{
	if (w->err || w->left < len) {
		w->err = 1;
		return;
	}
	if (len > 0)
		memcpy(w->p, data, len);
	w->p += len;
	w->left -= len;
}

static void
sframe_put_u8(struct sframe_wr *w, uint8_t v)
{
	sframe_put(w, &v, 1);
}

static void
sframe_put_u16(struct sframe_wr *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	sframe_put(w, b, sizeof(b));
}

static void
sframe_put_u32(struct sframe_wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	sframe_put(w, b, sizeof(b));
}

static void
sframe_put_radio(struct sframe_wr *w, const struct radio_meta *m)
{
	sframe_put_u8(w, m->modulation);
	sframe_put_u32(w, m->freq_hz);
	sframe_put_u32(w, m->datarate);
	sframe_put_u32(w, m->bw_hz);
}

/*
 * COBS (Cheshire and Baker, 1999): each block is a code byte c followed by
 * c - 1 non-zero bytes; a block with c < 0xff stands for its bytes plus one
 * 0x00, except at the very end.  Returns the stuffed length or -1 when cap
 * is too small.  The output never contains 0x00.
 */
static int
sframe_cobs_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i, o, code_at;
	uint8_t code;

	if (cap < 1)
		return -1;
	code_at = 0;
	o = 1;
	code = 1;
	for (i = 0; i < len; i++) {
		if (in[i] != 0) {
			if (o >= cap)
				return -1;
			out[o++] = in[i];
			code++;
		}
		if (in[i] == 0 || code == 0xff) {
			out[code_at] = code;
			/* A full block at the very end needs no empty one. */
			if (in[i] != 0 && i + 1 == len)
				return (int)o;
			if (o >= cap)
				return -1;
			code_at = o++;
			code = 1;
		}
	}
	out[code_at] = code;
	return (int)o;
}

/*
 * Inverse of the above.  Rejects a block that runs past the end and a 0x00
 * inside the data (the reader never passes one, but decode stands alone).
 * Returns the message length, or -1.
 */
static int
sframe_cobs_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i, o, n;
	uint8_t code;

	i = o = 0;
	while (i < len) {
		code = in[i++];
		if (code == 0)
			return -1;
		n = (size_t)code - 1;
		if (len - i < n || cap - o < n)
			return -1;
		if (n > 0 && memchr(in + i, 0, n) != NULL)
			return -1;
		memcpy(out + o, in + i, n);
		i += n;
		o += n;
		if (code != 0xff && i < len) {
			if (o >= cap)
				return -1;
			out[o++] = 0;
		}
	}
	return (int)o;
}

int
sframe_encode(const struct sframe *f, uint8_t *wire, size_t cap)
{
	uint8_t msg[SFRAME_MSG_MAX];
	struct sframe_wr w = { msg, sizeof(msg), 0 };
	size_t max, len;
	uint32_t crc;
	int n;

	switch (f->kind) {
	case SFRAME_RX:
	case SFRAME_TX_REQ:
		max = RADIO_PAYLOAD_MAX;
		break;
	case SFRAME_ERROR:
		max = SFRAME_TEXT_MAX;
		break;
	case SFRAME_TX_RESULT:
	case SFRAME_STATUS:
	case SFRAME_RESET:
		max = 0;
		break;
	default:
		return -EINVAL;
	}
	if (f->payload_len > max || (f->payload_len > 0 && f->payload == NULL))
		return -EINVAL;

	sframe_put_u8(&w, SFRAME_VERSION);
	sframe_put_u8(&w, f->kind);
	sframe_put_u8(&w, f->seq);
	switch (f->kind) {
	case SFRAME_RX:
		sframe_put_radio(&w, &f->u.rx);
		sframe_put_u16(&w, (uint16_t)f->u.rx.rssi_dbm);
		sframe_put_u16(&w, (uint16_t)f->u.rx.snr_db10);
		sframe_put_u32(&w, f->u.rx.tmst_us);
		sframe_put_u8(&w, (uint8_t)f->payload_len);
		sframe_put(&w, f->payload, f->payload_len);
		break;
	case SFRAME_TX_REQ:
		sframe_put_u16(&w, f->u.tx.id);
		sframe_put_radio(&w, &f->u.tx.meta);
		sframe_put_u8(&w, (uint8_t)f->u.tx.power_dbm);
		sframe_put_u32(&w, f->u.tx.at_tmst_us);
		sframe_put_u8(&w, (uint8_t)f->payload_len);
		sframe_put(&w, f->payload, f->payload_len);
		break;
	case SFRAME_TX_RESULT:
		sframe_put_u16(&w, f->u.txr.id);
		sframe_put_u8(&w, f->u.txr.status);
		break;
	case SFRAME_STATUS:
		sframe_put_u32(&w, f->u.status.uptime_s);
		sframe_put_u32(&w, f->u.status.rx_ok);
		sframe_put_u32(&w, f->u.status.rx_bad);
		break;
	case SFRAME_ERROR:
		sframe_put_u8(&w, f->u.error.code);
		sframe_put_u8(&w, (uint8_t)f->payload_len);
		sframe_put(&w, f->payload, f->payload_len);
		break;
	}
	len = sizeof(msg) - w.left;
	crc = (uint32_t)crc32(0L, msg, (uInt)len);
	sframe_put_u32(&w, crc);
	if (w.err)
		return -EINVAL;
	len += SFRAME_CRC_LEN;

	if (cap < 1 ||
	    (n = sframe_cobs_encode(msg, len, wire, cap - 1)) < 0)
		return -ENOBUFS;
	wire[n++] = 0;
	return n;
}

void
sframe_reader_init(struct sframe_reader *r)
{
	memset(r, 0, sizeof(*r));
}

/* One delimited frame, stuffed, without its 0x00. */
static void
sframe_reader_frame(const uint8_t *stuffed, size_t len, sframe_fn *cb,
    void *arg)
{
	uint8_t msg[SFRAME_STUFFED_MAX];
	struct sframe f;
	int n, v;

	n = sframe_cobs_decode(stuffed, len, msg, sizeof(msg));
	if (n < 0) {
		cb(arg, SFRAME_ERR_STUFFING, NULL);
		return;
	}
	v = sframe_decode(msg, (size_t)n, &f);
	cb(arg, v, v == SFRAME_OK ? &f : NULL);
}

void
sframe_reader_feed(struct sframe_reader *r, const uint8_t *buf, size_t len,
    sframe_fn *cb, void *arg)
{
	const uint8_t *z;
	size_t n;

	while (len > 0) {
		z = memchr(buf, 0, len);
		n = z != NULL ? (size_t)(z - buf) : len;
		if (r->overrun) {
			/* Skip to the next delimiter: the overrun was
			 * reported when it happened. */
		} else if (r->len + n > SFRAME_STUFFED_MAX) {
			/* r->len never exceeds SFRAME_STUFFED_MAX, so the
			 * sum cannot wrap for any n that fits in memory. */
			r->overrun = 1;
			r->len = 0;
			cb(arg, SFRAME_ERR_OVERRUN, NULL);
		} else if (z != NULL && r->len == 0) {
			/* The common case: a whole frame in this read,
			 * decoded where it lies. */
			if (n > 0)
				sframe_reader_frame(buf, n, cb, arg);
		} else {
			memcpy(r->buf + r->len, buf, n);
			r->len += n;
			if (z != NULL) {
				sframe_reader_frame(r->buf, r->len, cb, arg);
				r->len = 0;
			}
		}
		if (z == NULL)
			return;
		r->overrun = 0;
		n++;
		buf += n;
		len -= n;
	}
}

const char *const sframe_verdict_names[SFRAME_VERDICT_COUNT] = {
	[SFRAME_OK] = "ok",
	[-SFRAME_ERR_OVERRUN] = "overrun",
	[-SFRAME_ERR_STUFFING] = "stuffing",
	[-SFRAME_ERR_SHORT] = "short",
	[-SFRAME_ERR_CRC] = "crc",
	[-SFRAME_ERR_VERSION] = "version",
	[-SFRAME_ERR_KIND] = "kind",
	[-SFRAME_ERR_LENGTH] = "length",
};

const char *
sframe_strerror(int verdict)
{
	if (verdict > 0 || verdict <= -SFRAME_VERDICT_COUNT)
		return "unknown";
	return sframe_verdict_names[-verdict];
}
