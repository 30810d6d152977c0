/*
 * test_batch.c - the batcher and its JSON, and the batch sequence that
 * survives restarts (seqno.c): the document is compared byte for byte and
 * checked by a small JSON parser, every bound seals, no batch exceeds
 * max_bytes, sequence numbers never repeat across a "restart".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/batch.h"
#include "daemon/encoding.h"
#include "daemon/store/seqno.h"

#define SUNK_MAX	4096

/* The pipeline's target is 300000 records/s on one core; the batcher is a
 * small part of it.  Sanitizers slow everything several-fold. */
#if defined(__SANITIZE_ADDRESS__)
#define SPEED_MIN	100000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPEED_MIN	100000
#endif
#endif
#ifndef SPEED_MIN
#define SPEED_MIN	300000
#endif

static char		 dir[PATH_MAX];
static struct batch	*sunk[SUNK_MAX];
static int		 nsunk;

static void
sink(void *arg, struct batch *b)
{
	(void)arg;
	assert_true(nsunk < SUNK_MAX);
	sunk[nsunk++] = b;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_batch.XXXXXX");
	assert_non_null(mkdtemp(dir));
	nsunk = 0;
	return 0;
}

static int
teardown(void **state)
{
	char p[PATH_MAX + 16];
	int i;

	(void)state;
	for (i = 0; i < nsunk; i++)
		batch_free(sunk[i]);
	nsunk = 0;
	snprintf(p, sizeof(p), "%s/seq", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/seq.tmp", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

/* --- a small JSON syntax checker: value := object|array|string|number|
 * true|false|null.  Returns the end of the value or NULL. */
static const char *json_value(const char *p, const char *end);

static const char *
json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static const char *
json_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\')
			p++;
	}
	return p < end ? p + 1 : NULL;
}

static const char *
json_value(const char *p, const char *end)
{
	p = json_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';

		p = json_ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if ((p = json_string(json_ws(p, end), end)) ==
				    NULL)
					return NULL;
				p = json_ws(p, end);
				if (p >= end || *p++ != ':')
					return NULL;
			}
			if ((p = json_value(p, end)) == NULL)
				return NULL;
			p = json_ws(p, end);
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			return p < end && *p == close ? p + 1 : NULL;
		}
	}
	if (*p == '"')
		return json_string(p, end);
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		p++;
		while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
			p++;
		return p;
	}
	return NULL;
}

static void
assert_json(const struct batch *b)
{
	const char *end = b->data + b->len;

	assert_ptr_equal(json_ws(json_value(b->data, end), end), end);
	assert_int_equal(strlen(b->data), b->len);
}

static int
count_records(const struct batch *b)
{
	const char *p = b->data;
	int n = 0;

	while ((p = strstr(p, "{\"dev\":")) != NULL) {
		n++;
		p++;
	}
	return n;
}

static struct seqno *
open_seq(uint32_t block)
{
	struct seqno *s;

	assert_int_equal(seqno_open(dir, block, &s), 0);
	return s;
}

static void
make_record(struct record *r, const uint8_t *payload, size_t len,
    uint64_t mono_ms)
{
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 21,
	    .tm_hour = 20, .tm_min = 18, .tm_sec = 28 };

	memset(r, 0, sizeof(*r));
	r->eui = 0x70B3D57ED0001001ULL;
	r->fcnt = 17;
	r->stream = "cattle";
	r->rx_wall.tv_sec = timegm(&tm);
	r->rx_wall.tv_nsec = 123456789;
	r->clock_synced = 1;
	r->rx_mono_ms = mono_ms;
	r->meta.modulation = RADIO_MOD_LORA;
	r->meta.freq_hz = 868100000;
	r->meta.datarate = 12;
	r->meta.bw_hz = 125000;
	r->meta.rssi_dbm = -97;
	r->meta.snr_db10 = 75;
	r->meta.tmst_us = 123;
	r->payload = payload;
	r->len = len;
}

static struct batcher *
new_batcher_enc(struct seqno *s, uint32_t recs, size_t bytes, uint32_t age,
    int enc)
{
	struct batcher_limits lim = { recs, bytes, age, enc };
	struct batcher *bt;

	assert_int_equal(batcher_new("farm-01", &lim, s, sink, NULL, &bt), 0);
	return bt;
}

static struct batcher *
new_batcher(struct seqno *s, uint32_t recs, size_t bytes, uint32_t age)
{
	struct batcher_limits lim = { recs, bytes, age, ENCODING_JSON };
	struct batcher *bt;

	assert_int_equal(batcher_new("farm-01", &lim, s, sink, NULL, &bt), 0);
	return bt;
}

static void
test_json_exact(void **state)
{
	static const uint8_t pl[] = { 1, 2, 3 };
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 500, 4900, 5000);
	struct record r;

	(void)state;
	make_record(&r, pl, sizeof(pl), 1000);
	assert_int_equal(batcher_add(bt, &r), 0);
	r.fcnt = 18;
	r.clock_synced = 0;
	r.meta.modulation = RADIO_MOD_FSK;
	r.meta.datarate = 50000;
	r.meta.snr_db10 = -5;
	r.meta.rssi_dbm = -120;
	r.len = 0;
	assert_int_equal(batcher_add(bt, &r), 0);
	assert_int_equal(nsunk, 0);
	batcher_flush(bt);
	assert_int_equal(nsunk, 1);
	assert_string_equal(sunk[0]->data,
	    "{\"v\":1,\"gw\":\"farm-01\",\"seq\":1,\"stream\":\"cattle\","
	    "\"records\":["
	    "{\"dev\":\"70B3D57ED0001001\",\"fcnt\":17,"
	    "\"rx\":\"2026-11-21T20:18:28.123Z\",\"sync\":true,\"mod\":\"lora\","
	    "\"freq\":868100000,\"dr\":12,\"bw\":125000,\"rssi\":-97,"
	    "\"snr\":7.5,\"tmst\":123,\"data\":\"AQID\"},"
	    "{\"dev\":\"70B3D57ED0001001\",\"fcnt\":18,"
	    "\"rx\":\"2026-11-21T20:18:28.123Z\",\"sync\":false,\"mod\":\"fsk\","
	    "\"freq\":868100000,\"dr\":50000,\"bw\":125000,\"rssi\":-120,"
	    "\"snr\":-0.5,\"tmst\":123,\"data\":\"\"}]}");
	assert_json(sunk[0]);
	assert_int_equal(sunk[0]->seq, 1);
	assert_int_equal(sunk[0]->nrecords, 2);
	assert_string_equal(sunk[0]->stream, "cattle");
	batcher_free(bt);
	seqno_free(s);
}

/* A stream with the LPP decoder: fields next to the raw data; a malformed
 * payload goes raw with decode_error, never dropped; other streams stay
 * raw; recovered records (added before any new one) decode the same. */
static void
test_lpp_stream(void **state)
{
	static const uint8_t temp[] = { 0x03, 0x67, 0x01, 0x10 };
	static const uint8_t bad[] = { 0x03, 0x67, 0x01 };
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 500, 4900, 5000);
	struct record r;
	uint8_t big[255];
	size_t i;

	(void)state;
	assert_int_equal(batcher_set_decoder(bt, "weather", BATCH_DECODE_LPP),
	    0);
	assert_int_equal(batcher_set_decoder(bt, "a/b", BATCH_DECODE_LPP),
	    -EINVAL);
	assert_int_equal(batcher_set_decoder(bt, "weather", 7), -EINVAL);
	make_record(&r, temp, sizeof(temp), 1000);
	r.stream = "weather";
	assert_int_equal(batcher_add(bt, &r), 0);
	r.payload = bad;
	r.len = sizeof(bad);
	assert_int_equal(batcher_add(bt, &r), 0);
	/* 85 presence fields do not fit one record: raw, with the reason. */
	for (i = 0; i < sizeof(big); i += 3) {
		big[i] = (uint8_t)i;
		big[i + 1] = 0x66;
		big[i + 2] = 1;
	}
	r.payload = big;
	r.len = sizeof(big);
	assert_int_equal(batcher_add(bt, &r), 0);
	r.stream = "cattle";
	r.payload = temp;
	r.len = sizeof(temp);
	assert_int_equal(batcher_add(bt, &r), 0);
	batcher_flush(bt);
	assert_int_equal(nsunk, 2);
	for (i = 0; i < 2; i++)
		assert_json(sunk[i]);
	assert_non_null(strstr(sunk[0]->data, "\"data\":\"A2cBEA==\","
	    "\"decoder\":\"lpp\",\"fields\":{\"temperature_3\":"
	    "{\"value\":27.2,\"unit\":\"Cel\"}}}"));
	assert_non_null(strstr(sunk[0]->data, "\"data\":\"A2cB\","
	    "\"decoder\":\"lpp\",\"decode_error\":\"lpp: value cut "
	    "short\"}"));
	assert_non_null(strstr(sunk[0]->data, "\"decode_error\":\"lpp: too "
	    "many fields for one record\"}"));
	assert_int_equal(sunk[0]->nrecords, 3);
	assert_null(strstr(sunk[1]->data, "decoder"));
	batcher_free(bt);
	seqno_free(s);
}

static void
test_base64_odd_lengths(void **state)
{
	static const struct {
		const char	*in, *out;
	} v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[16];
	size_t i, n;
	uint8_t all[256];

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = batch_base64(out, (const uint8_t *)v[i].in,
		    strlen(v[i].in));
		out[n] = '\0';
		assert_string_equal(out, v[i].out);
		assert_int_equal(n, BATCH_B64_LEN(strlen(v[i].in)));
	}
	/* Every byte value: '+' and '/' appear, length as announced. */
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	{
		char big[BATCH_B64_LEN(256) + 1];

		n = batch_base64(big, all, 255);
		big[n] = '\0';
		assert_int_equal(n, 340);
		assert_non_null(strchr(big, '+'));
		assert_non_null(strchr(big, '/'));
		assert_string_equal(big + 336, "/P3+");
	}
}

static void
test_seal_on_count(void **state)
{
	static const uint8_t pl[4] = { 0 };
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 3, 4900, 5000);
	struct record r;
	int i;

	(void)state;
	make_record(&r, pl, sizeof(pl), 10);
	for (i = 0; i < 7; i++)
		assert_int_equal(batcher_add(bt, &r), 0);
	assert_int_equal(nsunk, 2);
	assert_int_equal(sunk[0]->nrecords, 3);
	assert_int_equal(sunk[1]->nrecords, 3);
	assert_int_equal(count_records(sunk[1]), 3);
	assert_int_equal(batcher_pending(bt), 1);
	batcher_flush(bt);
	assert_int_equal(nsunk, 3);
	assert_int_equal(sunk[2]->nrecords, 1);
	/* Sequence numbers follow sealing order. */
	assert_int_equal(sunk[0]->seq, 1);
	assert_int_equal(sunk[1]->seq, 2);
	assert_int_equal(sunk[2]->seq, 3);
	for (i = 0; i < 3; i++)
		assert_json(sunk[i]);
	batcher_free(bt);
	seqno_free(s);
}

static void
test_seal_on_bytes_never_over(void **state)
{
	uint8_t pl[RADIO_PAYLOAD_MAX];
	struct seqno *s = open_seq(64);
	struct batcher *bt;
	struct record r;
	size_t sizes[] = { 1024, 1500, 4900 };
	uint64_t total;
	int i, k, added;

	(void)state;
	for (i = 0; i < (int)sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	for (k = 0; k < 3; k++) {
		bt = new_batcher(s, 100000, sizes[k], 5000);
		added = 0;
		for (i = 0; i < 200; i++) {
			make_record(&r, pl, (size_t)(i * 37) % 256, 10);
			r.fcnt = 0xffffffffu;
			r.meta.rssi_dbm = -32768;
			r.meta.snr_db10 = -32768;
			r.meta.freq_hz = 0xffffffffu;
			r.meta.tmst_us = 0xffffffffu;
			assert_int_equal(batcher_add(bt, &r), 0);
			added++;
		}
		batcher_flush(bt);
		total = 0;
		for (i = 0; i < nsunk; i++) {
			assert_true(sunk[i]->len <= sizes[k]);
			assert_json(sunk[i]);
			assert_int_equal(count_records(sunk[i]),
			    (int)sunk[i]->nrecords);
			total += sunk[i]->nrecords;
		}
		assert_true(nsunk > 1);
		assert_int_equal(total, added);
		while (nsunk > 0)
			batch_free(sunk[--nsunk]);
		batcher_free(bt);
	}
	seqno_free(s);
}

/*
 * A compressed batch: decodes to a document that passes the same checks
 * as a JSON batch, holding nrecords records whose first is the batch's
 * first_eui/first_fcnt; returns the document's frame counters in order.
 */
static void
check_zbatch(const struct batch *b, size_t max_bytes, uint32_t *fcnts,
    int *nf)
{
	struct batch doc;
	const char *p, *why = NULL;
	char *d = NULL;
	size_t dlen;

	assert_true(b->len <= max_bytes);
	assert_int_equal(encoding_detect((const uint8_t *)b->data, b->len),
	    ENCODING_ZLIB);
	assert_int_equal(encoding_decode((const uint8_t *)b->data, b->len,
	    ENCODING_DOC_MAX_BYTES, &d, &dlen, &why), 0);
	memset(&doc, 0, sizeof(doc));
	doc.data = d;
	doc.len = dlen;
	assert_json(&doc);
	assert_int_equal(count_records(&doc), (int)b->nrecords);
	assert_true(b->first_known);
	for (p = d; (p = strstr(p, "\"fcnt\":")) != NULL; p++)
		fcnts[(*nf)++] = (uint32_t)strtoul(p + 7, NULL, 10);
	free(d);
}

/*
 * Every sunk batch passes check_zbatch, with first_fcnt its first record;
 * together they hold the frame counters 0..want-1 once each, in order.
 * Frees them; returns how many there were.
 */
static int
check_zbatches(size_t max_bytes, uint32_t want)
{
	static uint32_t fcnts[SUNK_MAX * 4];
	uint64_t total = 0;
	int i, nf = 0, n = nsunk;

	for (i = 0; i < nsunk; i++) {
		check_zbatch(sunk[i], max_bytes, fcnts, &nf);
		assert_int_equal(sunk[i]->first_fcnt,
		    fcnts[nf - (int)sunk[i]->nrecords]);
		total += sunk[i]->nrecords;
	}
	assert_int_equal(total, want);
	for (i = 0; i < nf; i++)
		assert_int_equal(fcnts[i], (uint32_t)i);
	while (nsunk > 0)
		batch_free(sunk[--nsunk]);
	return n;
}

/* Fill by compressed size: every payload within max_bytes, every record
 * once and in order, and far more records a batch than as JSON. */
static void
test_zlib_never_over(void **state)
{
	uint8_t pl[RADIO_PAYLOAD_MAX];
	struct seqno *s = open_seq(64);
	struct batcher *bt;
	struct record r;
	size_t sizes[] = { 1024, 1500, 4900 };
	int i, k, n, per_json = 0;

	(void)state;
	for (i = 0; i < (int)sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7);
	/* JSON at 4900 bytes, for comparison. */
	bt = new_batcher(s, 100000, 4900, 5000);
	for (i = 0; i < 200; i++) {
		make_record(&r, pl, 12, 10);
		assert_int_equal(batcher_add(bt, &r), 0);
	}
	batcher_flush(bt);
	per_json = (int)sunk[0]->nrecords;
	while (nsunk > 0)
		batch_free(sunk[--nsunk]);
	batcher_free(bt);

	for (k = 0; k < 3; k++) {
		bt = new_batcher_enc(s, 100000, sizes[k], 5000,
		    ENCODING_ZLIB);
		for (i = 0; i < 3000; i++) {
			/* Mostly small readings, now and then a long odd
			 * payload that compresses badly. */
			make_record(&r, pl, i % 97 == 0 ? 255 : 12, 10);
			if (i % 97 == 0)
				pl[i % 255] ^= (uint8_t)(i * 131);
			r.fcnt = (uint32_t)i;
			r.eui += (uint64_t)(i % 50);
			r.meta.rssi_dbm = -(i % 120);
			r.meta.tmst_us = (uint32_t)i * 104729u;
			assert_int_equal(batcher_add(bt, &r), 0);
		}
		batcher_flush(bt);
		n = check_zbatches(sizes[k], 3000);
		if (sizes[k] == 4900)
			assert_true(3000 / n >= 2 * per_json);
		batcher_free(bt);
	}
	seqno_free(s);
}

/*
 * Records that compress well, then records that do not: the guess from
 * the first trial admits too many, and the seal must hand the overflow on
 * to the next batch instead of publishing more than max_bytes.
 */
static void
test_zlib_seal_keeps_back(void **state)
{
	uint8_t pl[RADIO_PAYLOAD_MAX];
	uint32_t x = 12345;
	struct seqno *s = open_seq(64);
	struct batcher *bt;
	struct record r;
	int i, j;

	(void)state;
	bt = new_batcher_enc(s, 100000, 1024, 5000, ENCODING_ZLIB);
	memset(pl, 0, sizeof(pl));
	for (i = 0; i < 1000; i++) {
		if (i % 40 >= 30)
			for (j = 0; j < (int)sizeof(pl); j++) {
				x = x * 1103515245u + 12345u;
				pl[j] = (uint8_t)(x >> 24);
			}
		make_record(&r, pl, i % 40 >= 30 ? 200 : 4, 10);
		r.fcnt = (uint32_t)i;
		assert_int_equal(batcher_add(bt, &r), 0);
		/* A max_records seal of a guessed batch, too. */
		if (i % 40 == 39)
			batcher_flush(bt);
	}
	batcher_flush(bt);
	assert_int_equal(batcher_pending(bt), 0);
	assert_true(batcher_stats(bt)->kept_back > 0);
	(void)check_zbatches(1024, 1000);
	batcher_free(bt);
	seqno_free(s);
}

static void
test_seal_on_age(void **state)
{
	static const uint8_t pl[2] = { 9, 9 };
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 500, 4900, 5000);
	struct record r;

	(void)state;
	make_record(&r, pl, sizeof(pl), 1000);
	assert_int_equal(batcher_add(bt, &r), 0);
	r.rx_mono_ms = 4000;
	assert_int_equal(batcher_add(bt, &r), 0);
	batcher_tick(bt, 5999);
	assert_int_equal(nsunk, 0);
	batcher_tick(bt, 6000);
	assert_int_equal(nsunk, 1);
	assert_int_equal(sunk[0]->nrecords, 2);
	batcher_free(bt);
	seqno_free(s);
}

static void
test_streams_are_separate(void **state)
{
	static const uint8_t pl[2] = { 1, 2 };
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 2, 4900, 5000);
	struct record r;

	(void)state;
	make_record(&r, pl, sizeof(pl), 10);
	assert_int_equal(batcher_add(bt, &r), 0);
	r.stream = "water";
	assert_int_equal(batcher_add(bt, &r), 0);
	assert_int_equal(nsunk, 0);
	assert_int_equal(batcher_add(bt, &r), 0);
	assert_int_equal(nsunk, 1);
	assert_string_equal(sunk[0]->stream, "water");
	assert_non_null(strstr(sunk[0]->data, "\"stream\":\"water\""));
	batcher_flush(bt);
	assert_int_equal(nsunk, 2);
	assert_string_equal(sunk[1]->stream, "cattle");
	batcher_free(bt);
	seqno_free(s);
}

static void
test_bad_records_rejected(void **state)
{
	static uint8_t pl[RADIO_PAYLOAD_MAX + 1];
	struct seqno *s = open_seq(16);
	struct batcher *bt = new_batcher(s, 2, 4900, 5000);
	struct record r;

	(void)state;
	make_record(&r, pl, sizeof(pl), 10);
	assert_int_equal(batcher_add(bt, &r), -EINVAL);
	make_record(&r, pl, 1, 10);
	r.stream = "a/b";
	assert_int_equal(batcher_add(bt, &r), -EINVAL);
	r.stream = "#";
	assert_int_equal(batcher_add(bt, &r), -EINVAL);
	r.stream = "q\"uote";
	assert_int_equal(batcher_add(bt, &r), -EINVAL);
	r.stream = "";
	assert_int_equal(batcher_add(bt, &r), -EINVAL);
	assert_int_equal(batcher_stats(bt)->rejected, 5);
	assert_int_equal(batcher_stats(bt)->records, 0);
	batcher_free(bt);
	seqno_free(s);
}

/* The one rule for stream names (batch.h), which the journal, the spool
 * and the outbox share: what it must refuse, and what it must take. */
static void
test_stream_rule(void **state)
{
	static const char *const bad[] = {
		"", "a/b", "a+b", "#", "+", "/", "q\"uote", "back\\slash",
		"sp ace", " ", "tab\t", "nl\n", "\x01", "del\x7f",
		"caf\xc3\xa9", "\xff",
	};
	static const char *const good[] = {
		"cattle", "a", "x.y-z_1", "events", "status", "?",
		"~!$%&'()*,:;<=>@[]^`{|}",
	};
	char name[BATCH_STREAM_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(batch_stream_ok(bad[i], strlen(bad[i])));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(batch_stream_ok(good[i], strlen(good[i])));
	/* Length: 1..BATCH_STREAM_MAX, counted, not NUL-terminated. */
	memset(name, 'a', sizeof(name));
	assert_true(batch_stream_ok(name, BATCH_STREAM_MAX));
	assert_false(batch_stream_ok(name, BATCH_STREAM_MAX + 1));
	assert_true(batch_stream_ok(name, 1));
	/* A NUL inside the counted bytes (a torn name on disk) is refused. */
	name[3] = '\0';
	assert_false(batch_stream_ok(name, 8));
}

/* seqno: numbers never repeat across a restart, even after a crash. */
static void
test_seqno_restart(void **state)
{
	struct seqno *s;
	uint64_t v, last = 0;
	int i;

	(void)state;
	s = open_seq(4);
	for (i = 0; i < 6; i++) {
		assert_int_equal(seqno_next(s, &v), 0);
		assert_int_equal(v, (uint64_t)i + 1);
		last = v;
	}
	/* "Crash": no orderly close matters, the file is already ahead. */
	seqno_free(s);
	s = open_seq(4);
	assert_int_equal(seqno_next(s, &v), 0);
	assert_true(v > last);
	assert_int_equal(v, 9);		/* blocks [1,5) [5,9) were reserved */
	seqno_free(s);
	s = open_seq(1000);
	assert_int_equal(seqno_peek(s), 13);
	seqno_free(s);
}

static void
test_seqno_corrupt_file(void **state)
{
	char p[PATH_MAX + 16];
	struct seqno *s;
	uint64_t v;
	FILE *f;

	(void)state;
	snprintf(p, sizeof(p), "%s/seq", dir);
	f = fopen(p, "w");
	fputs("12x\n", f);
	fclose(f);
	assert_int_equal(seqno_open(dir, 16, &s), -EBADMSG);
	assert_null(s);
	assert_int_equal(seqno_open_recover(dir, 16, &s), 0);
	assert_int_equal(seqno_next(s, &v), 0);
	assert_true(v > 1000000000000000ULL);	/* from the clock, in us */
	seqno_free(s);
	/* The recovered value was written back. */
	assert_int_equal(seqno_open(dir, 16, &s), 0);
	assert_true(seqno_peek(s) > v);
	seqno_free(s);
}

static void
test_seqno_empty_and_trailing(void **state)
{
	static const char *const bad[] = { "", "\n", "0\n", "12", "12\n3",
	    "-5\n", "99999999999999999999999\n" };
	char p[PATH_MAX + 16];
	struct seqno *s;
	FILE *f;
	size_t i;

	(void)state;
	snprintf(p, sizeof(p), "%s/seq", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(p, "w");
		fputs(bad[i], f);
		fclose(f);
		assert_int_equal(seqno_open(dir, 16, &s), -EBADMSG);
	}
}

/* Encoding speed: printed for the record, asserted only loosely. */
static void
test_speed(void **state)
{
	uint8_t pl[32] = { 0 };
	struct seqno *s = open_seq(1 << 20);
	struct batcher *bt = new_batcher(s, 500, 4900, 5000);
	struct record r;
	struct timespec a, b;
	double secs;
	int i, n = 300000;

	(void)state;
	make_record(&r, pl, sizeof(pl), 10);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		r.fcnt = (uint32_t)i;
		r.rx_wall.tv_nsec = i % 1000000000;
		assert_int_equal(batcher_add(bt, &r), 0);
		if (nsunk > SUNK_MAX / 2) {
			while (nsunk > 0)
				batch_free(sunk[--nsunk]);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec -
	    a.tv_nsec) / 1e9;
	printf("# batcher: %.0f records/s\n", n / secs);
	assert_true(n / secs > SPEED_MIN);
	batcher_free(bt);
	seqno_free(s);
}

/* Both writers of JSON (batches and the outbox's events) escape with
 * batch_json_str: quotes, backslashes and every control character. */
static void
test_json_escape(void **state)
{
	const char *in = "a\"b\\c\x01\x1f\n\x7f\xc3\xa9";
	const char *want = "a\\\"b\\\\c\\u0001\\u001f\\u000a\x7f\xc3\xa9";
	char out[128], *end;

	(void)state;
	memset(out, 'X', sizeof(out));
	end = batch_json_str(out, in);
	*end = '\0';
	assert_string_equal(out, want);
	assert_int_equal((size_t)(end - out), batch_json_len(in));
	assert_int_equal(batch_json_len(""), 0);
	assert_true(batch_json_len("\x01") <= BATCH_JSON_GROWTH_MAX);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_json_exact),
		T(test_lpp_stream),
		T(test_json_escape),
		T(test_base64_odd_lengths),
		T(test_seal_on_count),
		T(test_seal_on_bytes_never_over),
		T(test_seal_on_age),
		T(test_zlib_never_over),
		T(test_zlib_seal_keeps_back),
		T(test_streams_are_separate),
		T(test_bad_records_rejected),
		T(test_stream_rule),
		T(test_seqno_restart),
		T(test_seqno_corrupt_file),
		T(test_seqno_empty_and_trailing),
		T(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
