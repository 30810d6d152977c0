/*
 * test_sframe.c - the FBSP codec against the test vectors of
 * docs/serial-protocol.md (both ways, so the document and the code cannot
 * drift) and against every kind of malformed input the reader must count
 * and survive.  Includes sframe.c to reach its COBS helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "radio/sframe.c"

/* The vectors, exactly as printed in docs/serial-protocol.md. */
#define VEC_RX \
	"04 01 01 2a 06 a0 27 be 33 07 01 01 04 48 e8 01 " \
	"13 a9 ff e7 ff 67 45 23 01 05 40 11 22 33 44 a0 " \
	"55 85 85 00"
#define VEC_RX_ZEROS \
	"0b 01 01 2b 01 08 e6 d3 33 50 c3 01 04 a0 86 01 " \
	"04 92 ff 5f 06 f0 ff ff ff 04 01 02 fe 05 bf 4f " \
	"db 57 00"
#define VEC_TX_REQ \
	"06 01 02 07 34 12 06 08 e6 d3 33 09 01 01 04 48 " \
	"e8 01 0e 0e a7 f8 24 01 03 05 aa bb 0d 30 75 3b " \
	"00"
#define VEC_TX_RESULT \
	"06 01 03 2c 34 12 05 cf 25 4c 8c 00"
#define VEC_STATUS \
	"03 01 04 03 10 0e 01 03 e8 03 01 02 03 01 01 05 " \
	"49 1a 82 5a 00"
#define VEC_ERROR \
	"1a 01 05 05 03 10 73 78 31 32 37 36 20 6e 6f 74 " \
	"20 66 6f 75 6e 64 89 db f0 a3 00"
#define VEC_RESET \
	"03 01 06 05 a3 14 d9 a8 00"

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &v) == 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
assert_encodes_to(const struct sframe *f, const char *hex)
{
	uint8_t want[SFRAME_WIRE_MAX], got[SFRAME_WIRE_MAX];
	size_t n;
	int r;

	n = unhex(hex, want, sizeof(want));
	r = sframe_encode(f, got, sizeof(got));
	assert_int_equal(r, (int)n);
	assert_memory_equal(got, want, n);
}

/* What the reader reported. */
struct seen {
	int		verdicts[64];
	size_t		n;
	size_t		good;
	struct sframe	last;
	uint8_t		payload[SFRAME_MSG_MAX];
};

static void
collect(void *arg, int verdict, const struct sframe *f)
{
	struct seen *s = arg;

	assert_true(s->n < 64);
	s->verdicts[s->n++] = verdict;
	if (verdict == SFRAME_OK) {
		assert_non_null(f);
		s->good++;
		s->last = *f;
		if (f->payload_len > 0)
			memcpy(s->payload, f->payload, f->payload_len);
		s->last.payload = s->payload;
	} else
		assert_null(f);
}

/* Decode wire bytes through the reader; expect exactly one good frame. */
static struct sframe
read_one(const char *hex, struct seen *s)
{
	uint8_t wire[SFRAME_WIRE_MAX * 2];
	struct sframe_reader r;
	size_t n;

	memset(s, 0, sizeof(*s));
	n = unhex(hex, wire, sizeof(wire));
	sframe_reader_init(&r);
	sframe_reader_feed(&r, wire, n, collect, s);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->verdicts[0], SFRAME_OK);
	return s->last;
}

/* Feed raw bytes, return how many reports. */
static size_t
feed(struct sframe_reader *r, const uint8_t *b, size_t n, struct seen *s)
{
	size_t before = s->n;

	sframe_reader_feed(r, b, n, collect, s);
	return s->n - before;
}

/* Build a message with a correct CRC from its bytes before the CRC and
 * stuff it, so field checks are reached. Returns wire length. */
static size_t
craft(const uint8_t *body, size_t len, uint8_t *wire, size_t cap)
{
	uint8_t msg[1024];
	uint32_t crc;
	int n;

	assert_true(len + 4 <= sizeof(msg));
	memcpy(msg, body, len);
	crc = (uint32_t)crc32(0L, body, (uInt)len);
	msg[len] = (uint8_t)crc;
	msg[len + 1] = (uint8_t)(crc >> 8);
	msg[len + 2] = (uint8_t)(crc >> 16);
	msg[len + 3] = (uint8_t)(crc >> 24);
	n = sframe_cobs_encode(msg, len + 4, wire, cap - 1);
	assert_true(n > 0);
	wire[n] = 0;
	return (size_t)n + 1;
}

/* The single verdict the reader gives for these wire bytes. */
static int
verdict_of(const uint8_t *wire, size_t n)
{
	struct sframe_reader r;
	struct seen s;

	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	sframe_reader_feed(&r, wire, n, collect, &s);
	assert_int_equal(s.n, 1);
	return s.verdicts[0];
}

static int
verdict_of_body(const uint8_t *body, size_t len)
{
	uint8_t wire[2048];

	return verdict_of(wire, craft(body, len, wire, sizeof(wire)));
}

static void
test_vector_rx(void **state)
{
	static const uint8_t pl[] = { 0x40, 0x11, 0x22, 0x33, 0x44 };
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.seq = 0x2a;
	f.u.rx.modulation = RADIO_MOD_LORA;
	f.u.rx.freq_hz = 868100000;
	f.u.rx.datarate = 7;
	f.u.rx.bw_hz = 125000;
	f.u.rx.rssi_dbm = -87;
	f.u.rx.snr_db10 = -25;
	f.u.rx.tmst_us = 0x01234567;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	assert_encodes_to(&f, VEC_RX);

	d = read_one(VEC_RX, &s);
	assert_int_equal(d.kind, SFRAME_RX);
	assert_int_equal(d.seq, 0x2a);
	assert_int_equal(d.u.rx.modulation, RADIO_MOD_LORA);
	assert_int_equal(d.u.rx.freq_hz, 868100000);
	assert_int_equal(d.u.rx.datarate, 7);
	assert_int_equal(d.u.rx.bw_hz, 125000);
	assert_int_equal(d.u.rx.rssi_dbm, -87);
	assert_int_equal(d.u.rx.snr_db10, -25);
	assert_int_equal(d.u.rx.tmst_us, 0x01234567);
	assert_int_equal(d.payload_len, sizeof(pl));
	assert_memory_equal(d.payload, pl, sizeof(pl));
}

static void
test_vector_rx_zeros(void **state)
{
	static const uint8_t pl[] = { 0x00, 0x00, 0xfe, 0x00 };
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.seq = 0x2b;
	f.u.rx.modulation = RADIO_MOD_FSK;
	f.u.rx.freq_hz = 869525000;
	f.u.rx.datarate = 50000;
	f.u.rx.bw_hz = 100000;
	f.u.rx.rssi_dbm = -110;
	f.u.rx.snr_db10 = 95;
	f.u.rx.tmst_us = 0xfffffff0;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	assert_encodes_to(&f, VEC_RX_ZEROS);

	d = read_one(VEC_RX_ZEROS, &s);
	assert_int_equal(d.u.rx.modulation, RADIO_MOD_FSK);
	assert_int_equal(d.u.rx.datarate, 50000);
	assert_int_equal(d.u.rx.rssi_dbm, -110);
	assert_int_equal(d.u.rx.snr_db10, 95);
	assert_int_equal(d.u.rx.tmst_us, 0xfffffff0);
	assert_int_equal(d.payload_len, sizeof(pl));
	assert_memory_equal(d.payload, pl, sizeof(pl));
}

static void
test_vector_tx_req(void **state)
{
	static const uint8_t pl[] = { 0x05, 0xaa, 0xbb };
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_REQ;
	f.seq = 0x07;
	f.u.tx.id = 0x1234;
	f.u.tx.meta.modulation = RADIO_MOD_LORA;
	f.u.tx.meta.freq_hz = 869525000;
	f.u.tx.meta.datarate = 9;
	f.u.tx.meta.bw_hz = 125000;
	f.u.tx.power_dbm = 14;
	f.u.tx.at_tmst_us = 0x0124f8a7;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	assert_encodes_to(&f, VEC_TX_REQ);

	d = read_one(VEC_TX_REQ, &s);
	assert_int_equal(d.kind, SFRAME_TX_REQ);
	assert_int_equal(d.seq, 7);
	assert_int_equal(d.u.tx.id, 0x1234);
	assert_int_equal(d.u.tx.meta.freq_hz, 869525000);
	assert_int_equal(d.u.tx.meta.datarate, 9);
	assert_int_equal(d.u.tx.meta.bw_hz, 125000);
	assert_int_equal(d.u.tx.power_dbm, 14);
	assert_int_equal(d.u.tx.at_tmst_us, 0x0124f8a7);
	assert_int_equal(d.payload_len, sizeof(pl));
	assert_memory_equal(d.payload, pl, sizeof(pl));
}

static void
test_vector_tx_result(void **state)
{
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_RESULT;
	f.seq = 0x2c;
	f.u.txr.id = 0x1234;
	f.u.txr.status = SFRAME_TX_SENT;
	assert_encodes_to(&f, VEC_TX_RESULT);
	d = read_one(VEC_TX_RESULT, &s);
	assert_int_equal(d.kind, SFRAME_TX_RESULT);
	assert_int_equal(d.u.txr.id, 0x1234);
	assert_int_equal(d.u.txr.status, 0);
}

static void
test_vector_status(void **state)
{
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	f.u.status.uptime_s = 3600;
	f.u.status.rx_ok = 1000;
	f.u.status.rx_bad = 3;
	assert_encodes_to(&f, VEC_STATUS);
	d = read_one(VEC_STATUS, &s);
	assert_int_equal(d.kind, SFRAME_STATUS);
	assert_int_equal(d.seq, 0);
	assert_int_equal(d.u.status.uptime_s, 3600);
	assert_int_equal(d.u.status.rx_ok, 1000);
	assert_int_equal(d.u.status.rx_bad, 3);
}

static void
test_vector_error(void **state)
{
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_ERROR;
	f.seq = 5;
	f.u.error.code = SFRAME_EC_RADIO;
	f.payload = (const uint8_t *)"sx1276 not found";
	f.payload_len = 16;
	assert_encodes_to(&f, VEC_ERROR);
	d = read_one(VEC_ERROR, &s);
	assert_int_equal(d.kind, SFRAME_ERROR);
	assert_int_equal(d.u.error.code, SFRAME_EC_RADIO);
	assert_int_equal(d.payload_len, 16);
	assert_memory_equal(d.payload, "sx1276 not found", 16);
}

static void
test_vector_reset(void **state)
{
	struct sframe f, d;
	struct seen s;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RESET;
	assert_encodes_to(&f, VEC_RESET);
	d = read_one(VEC_RESET, &s);
	assert_int_equal(d.kind, SFRAME_RESET);
	assert_int_equal(d.payload_len, 0);
}

/* All vectors in one read, then again one byte per read: same frames. */
static void
test_reader_split_anywhere(void **state)
{
	static const char *const vecs[] = { VEC_RX, VEC_RX_ZEROS, VEC_TX_REQ,
	    VEC_TX_RESULT, VEC_STATUS, VEC_ERROR, VEC_RESET };
	uint8_t stream[1024];
	struct sframe_reader r;
	struct seen a, b;
	size_t i, n = 0;

	for (i = 0; i < 7; i++)
		n += unhex(vecs[i], stream + n, sizeof(stream) - n);
	memset(&a, 0, sizeof(a));
	sframe_reader_init(&r);
	feed(&r, stream, n, &a);
	assert_int_equal(a.n, 7);
	assert_int_equal(a.good, 7);

	memset(&b, 0, sizeof(b));
	sframe_reader_init(&r);
	for (i = 0; i < n; i++)
		feed(&r, stream + i, 1, &b);
	assert_int_equal(b.n, 7);
	assert_int_equal(b.good, 7);
	assert_int_equal(b.last.kind, SFRAME_RESET);
}

static void
test_reader_ignores_idle_zeros(void **state)
{
	uint8_t wire[64];
	struct sframe_reader r;
	struct seen s;
	size_t n;

	memset(&s, 0, sizeof(s));
	wire[0] = wire[1] = wire[2] = 0;
	n = 3 + unhex(VEC_STATUS, wire + 3, sizeof(wire) - 3);
	wire[n++] = 0;
	sframe_reader_init(&r);
	assert_int_equal(feed(&r, wire, n, &s), 1);
	assert_int_equal(s.verdicts[0], SFRAME_OK);
}

static void
test_bad_crc(void **state)
{
	uint8_t wire[64];
	size_t n;

	n = unhex(VEC_STATUS, wire, sizeof(wire));
	wire[8] ^= 0x01;	/* a data byte (rx_ok), not a code byte */
	assert_int_equal(verdict_of(wire, n), SFRAME_ERR_CRC);
	n = unhex(VEC_STATUS, wire, sizeof(wire));
	wire[n - 2] ^= 0x80;	/* the CRC itself */
	assert_int_equal(verdict_of(wire, n), SFRAME_ERR_CRC);
}

static void
test_bad_stuffing(void **state)
{
	/* The code byte promises 5 bytes, the frame ends after 2. */
	static const uint8_t wire[] = { 0x06, 0x01, 0x02, 0x00 };
	uint8_t out[16];

	assert_int_equal(verdict_of(wire, sizeof(wire)), SFRAME_ERR_STUFFING);
	/* Decode stands alone too: a zero inside a block is invalid. */
	static const uint8_t inner[] = { 0x03, 0x00, 0x01 };
	assert_int_equal(sframe_cobs_decode(inner, sizeof(inner), out,
	    sizeof(out)), -1);
}

static void
test_short(void **state)
{
	/* Six bytes decode fine as COBS but cannot hold header + CRC. */
	static const uint8_t wire[] = { 0x07, 0x01, 0x04, 0x05, 0x11, 0x22,
	    0x33, 0x00 };
	static const uint8_t one[] = { 0x02, 0x01, 0x00 };
	struct sframe f;

	assert_int_equal(verdict_of(wire, sizeof(wire)), SFRAME_ERR_SHORT);
	assert_int_equal(verdict_of(one, sizeof(one)), SFRAME_ERR_SHORT);
	assert_int_equal(sframe_decode(one, 0, &f), SFRAME_ERR_SHORT);
}

static void
test_wrong_version(void **state)
{
	static const uint8_t v2[] = { 0x02, SFRAME_STATUS, 0, 1, 0, 0, 0, 2,
	    0, 0, 0, 3, 0, 0, 0 };
	static const uint8_t v0[] = { 0x00, SFRAME_RESET, 0 };

	assert_int_equal(verdict_of_body(v2, sizeof(v2)), SFRAME_ERR_VERSION);
	assert_int_equal(verdict_of_body(v0, sizeof(v0)), SFRAME_ERR_VERSION);
}

static void
test_unknown_kind(void **state)
{
	static const uint8_t k0[] = { 0x01, 0x00, 0 };
	static const uint8_t k7[] = { 0x01, 0x07, 0 };
	static const uint8_t kff[] = { 0x01, 0xff, 0, 1, 2, 3 };

	assert_int_equal(verdict_of_body(k0, sizeof(k0)), SFRAME_ERR_KIND);
	assert_int_equal(verdict_of_body(k7, sizeof(k7)), SFRAME_ERR_KIND);
	assert_int_equal(verdict_of_body(kff, sizeof(kff)), SFRAME_ERR_KIND);
}

static void
test_trailing_bytes(void **state)
{
	static const uint8_t status[] = { 0x01, SFRAME_STATUS, 0, 1, 0, 0, 0,
	    2, 0, 0, 0, 3, 0, 0, 0, 0xee };
	static const uint8_t reset[] = { 0x01, SFRAME_RESET, 0, 0x00 };
	/* RX with a 1-byte payload and one byte after it. */
	uint8_t rx[64];
	size_t n;

	assert_int_equal(verdict_of_body(status, sizeof(status)),
	    SFRAME_ERR_LENGTH);
	assert_int_equal(verdict_of_body(reset, sizeof(reset)),
	    SFRAME_ERR_LENGTH);
	memset(rx, 0, sizeof(rx));
	rx[0] = 1;
	rx[1] = SFRAME_RX;
	n = 3 + 21;
	rx[n++] = 1;		/* payload length */
	rx[n++] = 0xaa;		/* payload */
	assert_int_equal(verdict_of_body(rx, n), SFRAME_OK);
	rx[n++] = 0xbb;		/* trailing */
	assert_int_equal(verdict_of_body(rx, n), SFRAME_ERR_LENGTH);
}

static void
test_fields_do_not_fit(void **state)
{
	/* STATUS one byte short; RX whose length byte promises more than
	 * there is; ERROR text longer than SFRAME_TEXT_MAX. */
	static const uint8_t status[] = { 0x01, SFRAME_STATUS, 0, 1, 0, 0, 0,
	    2, 0, 0, 0, 3, 0, 0 };
	uint8_t rx[64], err[256];
	size_t n;

	assert_int_equal(verdict_of_body(status, sizeof(status)),
	    SFRAME_ERR_LENGTH);
	memset(rx, 0, sizeof(rx));
	rx[0] = 1;
	rx[1] = SFRAME_RX;
	n = 3 + 21;
	rx[n++] = 5;
	rx[n++] = 0xaa;
	assert_int_equal(verdict_of_body(rx, n), SFRAME_ERR_LENGTH);

	memset(err, 'x', sizeof(err));
	err[0] = 1;
	err[1] = SFRAME_ERROR;
	err[2] = 0;
	err[3] = SFRAME_EC_INTERNAL;
	err[4] = SFRAME_TEXT_MAX;
	assert_int_equal(verdict_of_body(err, 5 + SFRAME_TEXT_MAX), SFRAME_OK);
	err[4] = SFRAME_TEXT_MAX + 1;
	assert_int_equal(verdict_of_body(err, 5 + SFRAME_TEXT_MAX + 1),
	    SFRAME_ERR_LENGTH);
}

static void
test_message_over_max(void **state)
{
	uint8_t big[SFRAME_MSG_MAX + 1];
	struct sframe f;

	/* An unstuffed message longer than any valid one is rejected on
	 * size before its CRC is even computed. */
	memset(big, 0x11, sizeof(big));
	assert_int_equal(sframe_decode(big, sizeof(big), &f),
	    SFRAME_ERR_LENGTH);
	big[0] = 1;
	big[1] = SFRAME_RX;
	assert_int_equal(verdict_of_body(big, SFRAME_MSG_MAX - 4 + 1),
	    SFRAME_ERR_LENGTH);
}

static void
test_overrun_without_delimiter(void **state)
{
	uint8_t noise[3000], wire[64];
	struct sframe_reader r;
	struct seen s;
	size_t n;

	memset(noise, 0x55, sizeof(noise));
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	/* Reported once, as soon as it is certain, in small reads... */
	assert_int_equal(feed(&r, noise, 200, &s), 0);
	assert_int_equal(feed(&r, noise, 200, &s), 1);
	assert_int_equal(s.verdicts[0], SFRAME_ERR_OVERRUN);
	assert_int_equal(feed(&r, noise, sizeof(noise), &s), 0);
	/* ...and the next frame after the delimiter is good. */
	noise[0] = 0;
	assert_int_equal(feed(&r, noise, 1, &s), 0);
	n = unhex(VEC_STATUS, wire, sizeof(wire));
	assert_int_equal(feed(&r, wire, n, &s), 1);
	assert_int_equal(s.verdicts[1], SFRAME_OK);

	/* Same in one read, from an empty reader (the direct path). */
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	memset(noise, 0x55, sizeof(noise));
	noise[sizeof(noise) - 1] = 0;
	assert_int_equal(feed(&r, noise, sizeof(noise), &s), 1);
	assert_int_equal(s.verdicts[0], SFRAME_ERR_OVERRUN);
	assert_int_equal(feed(&r, wire, n, &s), 1);
	assert_int_equal(s.verdicts[1], SFRAME_OK);
}

/* The longest stuffed frame is accepted, one byte more is an overrun. */
static void
test_overrun_boundary(void **state)
{
	uint8_t wire[SFRAME_WIRE_MAX + 2];

	memset(wire, 0x55, sizeof(wire));
	wire[SFRAME_STUFFED_MAX] = 0;
	assert_int_equal(verdict_of(wire, SFRAME_STUFFED_MAX + 1),
	    SFRAME_ERR_STUFFING);
	memset(wire, 0x55, sizeof(wire));
	wire[SFRAME_STUFFED_MAX + 1] = 0;
	assert_int_equal(verdict_of(wire, SFRAME_STUFFED_MAX + 2),
	    SFRAME_ERR_OVERRUN);
}

static void
test_torn_frame_then_good_frame_resyncs(void **state)
{
	uint8_t rx[64], st[64], buf[256];
	struct sframe_reader r;
	struct seen s;
	size_t nrx, nst, n;

	nrx = unhex(VEC_RX, rx, sizeof(rx));
	nst = unhex(VEC_STATUS, st, sizeof(st));

	/* A concentrator reset mid-frame announces itself with a 0x00:
	 * the torn half is one bad frame, the next frame is good. */
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	n = 0;
	memcpy(buf, rx, nrx / 2);
	n += nrx / 2;
	buf[n++] = 0;
	memcpy(buf + n, st, nst);
	n += nst;
	assert_int_equal(feed(&r, buf, n, &s), 2);
	assert_true(s.verdicts[0] < 0);
	assert_int_equal(s.verdicts[1], SFRAME_OK);
	assert_int_equal(s.last.kind, SFRAME_STATUS);

	/* Without the 0x00 the torn half swallows the next frame, and the
	 * one after that is good again. */
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	assert_int_equal(feed(&r, rx, nrx / 2, &s), 0);
	assert_int_equal(feed(&r, st, nst, &s), 1);
	assert_true(s.verdicts[0] < 0);
	assert_int_equal(feed(&r, rx, nrx, &s), 1);
	assert_int_equal(s.verdicts[1], SFRAME_OK);
	assert_int_equal(s.last.kind, SFRAME_RX);
}

static void
test_noise_between_frames(void **state)
{
	static const uint8_t noise[] = { 0xde, 0xad, 0x00, 0x00, 0x13, 0x37,
	    0x42, 0x00, 0x01, 0x00 };
	uint8_t st[64];
	struct sframe_reader r;
	struct seen s;
	size_t nst, i;

	nst = unhex(VEC_STATUS, st, sizeof(st));
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	feed(&r, st, nst, &s);
	feed(&r, noise, sizeof(noise), &s);
	feed(&r, st, nst, &s);
	assert_int_equal(s.good, 2);
	assert_int_equal(s.verdicts[0], SFRAME_OK);
	for (i = 1; i + 1 < s.n; i++)
		assert_true(s.verdicts[i] < 0);
	assert_int_equal(s.verdicts[s.n - 1], SFRAME_OK);
}

static void
test_payload_at_max(void **state)
{
	uint8_t pl[RADIO_PAYLOAD_MAX], wire[SFRAME_WIRE_MAX];
	struct sframe_reader r;
	struct sframe f;
	struct seen s;
	size_t i;
	int n;

	for (i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i % 7 == 0 ? 0 : i);
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.u.rx.rssi_dbm = -32768;
	f.u.rx.snr_db10 = 32767;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	n = sframe_encode(&f, wire, sizeof(wire));
	assert_true(n > 0 && n <= SFRAME_WIRE_MAX);
	/* Exactly the room needed is enough, one byte less is not. */
	assert_int_equal(sframe_encode(&f, wire, (size_t)n), n);
	assert_int_equal(sframe_encode(&f, wire, (size_t)n - 1), -ENOBUFS);

	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	feed(&r, wire, (size_t)n, &s);
	assert_int_equal(s.good, 1);
	assert_int_equal(s.last.payload_len, sizeof(pl));
	assert_memory_equal(s.last.payload, pl, sizeof(pl));
	assert_int_equal(s.last.u.rx.rssi_dbm, -32768);
	assert_int_equal(s.last.u.rx.snr_db10, 32767);

	/* All non-zero: the longest stuffed form, with a full COBS block. */
	memset(pl, 0xa5, sizeof(pl));
	f.kind = SFRAME_TX_REQ;
	f.u.tx.power_dbm = -9;
	n = sframe_encode(&f, wire, sizeof(wire));
	assert_true(n > 0 && n <= SFRAME_WIRE_MAX);
	memset(&s, 0, sizeof(s));
	sframe_reader_init(&r);
	feed(&r, wire, (size_t)n, &s);
	assert_int_equal(s.good, 1);
	assert_int_equal(s.last.u.tx.power_dbm, -9);
	assert_memory_equal(s.last.payload, pl, sizeof(pl));
}

static void
test_payload_over_max(void **state)
{
	uint8_t pl[RADIO_PAYLOAD_MAX + 1], wire[SFRAME_WIRE_MAX * 2];
	struct sframe f;

	memset(pl, 1, sizeof(pl));
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
	f.kind = SFRAME_TX_REQ;
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
	f.kind = SFRAME_ERROR;
	f.payload_len = SFRAME_TEXT_MAX + 1;
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
	f.kind = SFRAME_STATUS;
	f.payload_len = 1;
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
	f.kind = 0x42;
	f.payload_len = 0;
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
	f.kind = SFRAME_RX;
	f.payload = NULL;
	f.payload_len = 3;
	assert_int_equal(sframe_encode(&f, wire, sizeof(wire)), -EINVAL);
}

static void
test_cobs_roundtrip(void **state)
{
	uint8_t in[600], st[700], out[700];
	size_t len, i;
	int n, m;

	/* Lengths around the 254-byte block boundary, all-zero, no zero. */
	for (len = 0; len < sizeof(in); len++) {
		for (i = 0; i < len; i++)
			in[i] = (uint8_t)((len & 1) ? 0x77 : (i * 37) & 0xff);
		n = sframe_cobs_encode(in, len, st, sizeof(st));
		assert_true(n > 0);
		assert_null(memchr(st, 0, (size_t)n));
		assert_true((size_t)n <= len + len / 254 + 1);
		m = sframe_cobs_decode(st, (size_t)n, out, sizeof(out));
		assert_int_equal(m, (int)len);
		assert_memory_equal(out, in, len);
	}
}

static void
test_strerror(void **state)
{
	int v;

	for (v = 0; v > -SFRAME_VERDICT_COUNT; v--)
		assert_string_not_equal(sframe_strerror(v), "unknown");
	assert_string_equal(sframe_strerror(SFRAME_ERR_CRC), "crc");
	assert_string_equal(sframe_strerror(-SFRAME_VERDICT_COUNT), "unknown");
	assert_string_equal(sframe_strerror(1), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_rx),
		cmocka_unit_test(test_vector_rx_zeros),
		cmocka_unit_test(test_vector_tx_req),
		cmocka_unit_test(test_vector_tx_result),
		cmocka_unit_test(test_vector_status),
		cmocka_unit_test(test_vector_error),
		cmocka_unit_test(test_vector_reset),
		cmocka_unit_test(test_reader_split_anywhere),
		cmocka_unit_test(test_reader_ignores_idle_zeros),
		cmocka_unit_test(test_bad_crc),
		cmocka_unit_test(test_bad_stuffing),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_fields_do_not_fit),
		cmocka_unit_test(test_message_over_max),
		cmocka_unit_test(test_overrun_without_delimiter),
		cmocka_unit_test(test_overrun_boundary),
		cmocka_unit_test(test_torn_frame_then_good_frame_resyncs),
		cmocka_unit_test(test_noise_between_frames),
		cmocka_unit_test(test_payload_at_max),
		cmocka_unit_test(test_payload_over_max),
		cmocka_unit_test(test_cobs_roundtrip),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
