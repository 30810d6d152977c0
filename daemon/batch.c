/*
 * batch.c - groups verified records per stream into batches and encodes
 * each batch as one JSON document, the payload of one MQTT message.
 *
 * Data flow: loop.c (a record that passed identity and the registry's
 * stream assignment) -> batcher_add -> the stream's open batch -> sealed
 * struct batch -> sink (outbox.c: the spool) -> uplink.
 *
 * The document (docs/uplink-format.md has the full schema):
 *
 *   {"v":1,"gw":"farm-01","seq":42,"stream":"cattle","records":[
 *    {"dev":"70B3D57ED0001001","fcnt":17,"rx":"2026-11-21T20:18:28.123Z",
 *     "sync":true,"mod":"lora","freq":868100000,"dr":12,"bw":125000,
 *     "rssi":-97,"snr":7.5,"tmst":123,"data":"AQID"}, ...]}
 *
 * Speed: records are encoded straight into the stream's buffer with
 * hand-written integer and base64 writers: no allocation and no printf
 * per record (the pipeline must carry >= 300000 records/s on one core).
 * A record is encoded first and the bounds are checked after: when it
 * would push the batch over max_bytes, the batch is sealed without it and
 * the record moves to the front of the buffer as the next batch's first.
 * The header's size is reckoned with the widest sequence number, so no
 * document ever exceeds max_bytes.
 */
#define LOG_MODULE	"batch"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/batch.h"
#include "daemon/decode_lpp.h"
#include "daemon/log.h"
#include "daemon/mono.h"
#include "daemon/store/seqno.h"

#define BATCH_VERSION		1
#define BATCH_TAIL		"]}"
#define BATCH_TAIL_LEN		2
#define BATCH_SEQ_DIGITS_MAX	20
#define BATCH_GW_MAX		63
/* Names are checked to need no escaping, so the header is bounded by: */
#define BATCH_HDR_MAX		(64 + BATCH_GW_MAX + BATCH_SEQ_DIGITS_MAX + \
				    BATCH_STREAM_MAX)

struct batch_stream {
	char		 name[BATCH_STREAM_MAX + 1];
	size_t		 hdr_max;	/* header length with a 20-digit seq */
	char		*buf;		/* records, comma separated */
	size_t		 len;
	size_t		 cap;
	uint32_t	 nrec;
	uint64_t	 opened_ms;	/* rx_mono_ms of the first record */
	int		 decoder;	/* BATCH_DECODE_* */
};

struct batch_decoder {
	char		 stream[BATCH_STREAM_MAX + 1];
	int		 decoder;
};

struct batcher {
	char			 gw[BATCH_GW_MAX + 1];
	struct batcher_limits	 lim;
	struct seqno		*seq;
	batch_sink_fn		*sink;
	void			*arg;
	struct batch_stream	*streams[BATCHER_STREAMS_MAX];
	size_t			 nstreams;
	size_t			 last;		/* stream of the last record */
	struct batcher_stats	 st;
	struct log_ratelimit	 rl_seq;
	/* The date part of the last receive time, reused within a second. */
	time_t			 date_sec;
	char			 date[32];
	size_t			 date_len;
	struct batch_decoder	 dec[BATCHER_DECODERS_MAX];
	size_t			 ndec;
};

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Modulation names are part of the wire format, so they are fixed here
 * rather than borrowed from radio/'s names for people. */
static const char *const batch_mod_names[] = { "lora", "fsk", "ook" };

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->data);
	free(b);
}

size_t
batch_base64(char *out, const uint8_t *in, size_t len)
{
	char *o = out;
	uint32_t v;

	for (; len >= 3; in += 3, len -= 3) {
		v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = b64_alphabet[(v >> 6) & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (len > 0) {
		v = (uint32_t)in[0] << 16;
		if (len == 2)
			v |= (uint32_t)in[1] << 8;
		*o++ = b64_alphabet[v >> 18];
		*o++ = b64_alphabet[(v >> 12) & 63];
		*o++ = len == 2 ? b64_alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
}

static char *
put_lit(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define PUT(p, s)	put_lit((p), (s), sizeof(s) - 1)

static char *
put_u64(char *p, uint64_t v)
{
	char tmp[BATCH_SEQ_DIGITS_MAX];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

static char *
put_2(char *p, unsigned int v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

char *
batch_json_str(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			p = PUT(p, "\\u00");
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		} else
			*p++ = (char)c;
	}
	return p;
}

size_t
batch_json_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += (*s == '"' || *s == '\\') ? 2 :
		    ((unsigned char)*s < 0x20 ? 6 : 1);
	return n;
}

/* Header up to and including '[', for a given seq; buf holds hdr_max. */
static size_t
batch_header(const struct batcher *bt, const struct batch_stream *s,
    uint64_t seq, char *buf)
{
	char *p = buf;

	p = PUT(p, "{\"v\":");
	p = put_u64(p, BATCH_VERSION);
	p = PUT(p, ",\"gw\":\"");
	p = batch_json_str(p, bt->gw);
	p = PUT(p, "\",\"seq\":");
	p = put_u64(p, seq);
	p = PUT(p, ",\"stream\":\"");
	p = batch_json_str(p, s->name);
	p = PUT(p, "\",\"records\":[");
	return (size_t)(p - buf);
}

static size_t
batch_header_max(const struct batcher *bt, const struct batch_stream *s)
{
	return sizeof("{\"v\":1,\"gw\":\"\",\"seq\":,\"stream\":\"\","
	    "\"records\":[") - 1 + batch_json_len(bt->gw) +
	    BATCH_SEQ_DIGITS_MAX + batch_json_len(s->name);
}

/* "2026-11-21T20:18:28.123Z"; the date and time up to the second are
 * cached, since records arrive many per second. */
static char *
put_time(struct batcher *bt, char *p, const struct timespec *ts)
{
	struct tm tm;
	time_t sec = ts->tv_sec;
	unsigned int ms;
	char *d;
	int year;

	if (sec != bt->date_sec || bt->date_len == 0) {
		if (gmtime_r(&sec, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		year = tm.tm_year + 1900;
		if (year < 0)
			year = 0;
		if (year > 9999)
			year = 9999;
		d = bt->date;
		d = put_2(d, (unsigned int)year / 100);
		d = put_2(d, (unsigned int)year % 100);
		*d++ = '-';
		d = put_2(d, (unsigned int)tm.tm_mon + 1);
		*d++ = '-';
		d = put_2(d, (unsigned int)tm.tm_mday);
		*d++ = 'T';
		d = put_2(d, (unsigned int)tm.tm_hour);
		*d++ = ':';
		d = put_2(d, (unsigned int)tm.tm_min);
		*d++ = ':';
		d = put_2(d, (unsigned int)tm.tm_sec);
		*d++ = '.';
		bt->date_len = (size_t)(d - bt->date);
		bt->date_sec = sec;
	}
	p = put_lit(p, bt->date, bt->date_len);
	ms = (unsigned int)(ts->tv_nsec / 1000000) % 1000;
	*p++ = (char)('0' + ms / 100);
	p = put_2(p, ms % 100);
	*p++ = 'Z';
	return p;
}

/* The longest ',"decoder":"lpp","decode_error":"..."' with a message of
 * lpp_strerror(). */
#define BATCH_DECODE_ERR_MAX	96

/* ,"decoder":"lpp" and the fields, or the reason they are missing. */
static char *
batch_encode_lpp(char *p, const char *start, const struct record *r)
{
	/* Room left in the record for fields, keeping its closing brace
	 * and the error we may have to write instead. */
	size_t used = (size_t)(p - start) + 2 + BATCH_DECODE_ERR_MAX;
	size_t room = used < BATCH_RECORD_JSON_MAX ?
	    BATCH_RECORD_JSON_MAX - used : 0;
	const char *why;
	int n;

	p = PUT(p, ",\"decoder\":\"lpp\"");
	if ((n = lpp_json(r->payload, r->len, p, room)) >= 0)
		return p + n;
	why = lpp_strerror(n);
	p = PUT(p, ",\"decode_error\":\"");
	p = put_lit(p, why, strlen(why));
	*p++ = '"';
	return p;
}

/* Encode one record at p (room for BATCH_RECORD_JSON_MAX); returns end. */
static char *
batch_encode_record(struct batcher *bt, char *p, const struct record *r,
    int decoder)
{
	char *start = p;
	static const char hex[] = "0123456789ABCDEF";
	const struct radio_meta *m = &r->meta;
	int shift;
	int32_t snr;

	p = PUT(p, "{\"dev\":\"");
	for (shift = 60; shift >= 0; shift -= 4)
		*p++ = hex[(r->eui >> shift) & 15];
	p = PUT(p, "\",\"fcnt\":");
	p = put_u64(p, r->fcnt);
	p = PUT(p, ",\"rx\":\"");
	p = put_time(bt, p, &r->rx_wall);
	p = r->clock_synced ? PUT(p, "\",\"sync\":true,\"mod\":\"") :
	    PUT(p, "\",\"sync\":false,\"mod\":\"");
	if (m->modulation < sizeof(batch_mod_names) / sizeof(batch_mod_names[0]))
		p = put_lit(p, batch_mod_names[m->modulation],
		    strlen(batch_mod_names[m->modulation]));
	else
		p = PUT(p, "unknown");
	p = PUT(p, "\",\"freq\":");
	p = put_u64(p, m->freq_hz);
	p = PUT(p, ",\"dr\":");
	p = put_u64(p, m->datarate);
	p = PUT(p, ",\"bw\":");
	p = put_u64(p, m->bw_hz);
	p = PUT(p, ",\"rssi\":");
	p = put_i64(p, m->rssi_dbm);
	p = PUT(p, ",\"snr\":");
	snr = m->snr_db10;
	if (snr < 0) {
		*p++ = '-';
		snr = -snr;
	}
	p = put_u64(p, (uint32_t)snr / 10);
	*p++ = '.';
	*p++ = (char)('0' + (uint32_t)snr % 10);
	p = PUT(p, ",\"tmst\":");
	p = put_u64(p, m->tmst_us);
	p = PUT(p, ",\"data\":\"");
	p += batch_base64(p, r->payload, r->len);
	*p++ = '"';
	if (decoder == BATCH_DECODE_LPP)
		p = batch_encode_lpp(p, start, r);
	*p++ = '}';
	return p;
}

/* Seal the stream's open batch and hand it to the sink. */
static void
batch_seal(struct batcher *bt, struct batch_stream *s)
{
	struct batch *b = NULL;
	char hdr[BATCH_HDR_MAX];
	size_t hlen;
	uint64_t seq;
	int r;

	if (s->nrec == 0)
		return;
	if ((r = seqno_next(bt->seq, &seq)) != 0) {
		/* Without a number that is safe after a crash the batch
		 * cannot be told apart upstream: drop it, loudly. */
		bt->st.lost_batches++;
		bt->st.lost_records += s->nrec;
		log_rl(&bt->rl_seq, s->opened_ms, LOG_ERR, LOG_MODULE,
		    "cannot reserve a batch sequence number: %s; batch of "
		    "%u records on stream %s dropped", strerror(-r), s->nrec,
		    s->name);
		goto reset;
	}
	hlen = batch_header(bt, s, seq, hdr);
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->data = malloc(hlen + s->len + BATCH_TAIL_LEN + 1)) == NULL) {
		free(b);
		bt->st.lost_batches++;
		bt->st.lost_records += s->nrec;
		log_rl(&bt->rl_seq, s->opened_ms, LOG_ERR, LOG_MODULE,
		    "out of memory; batch %llu dropped",
		    (unsigned long long)seq);
		goto reset;
	}
	memcpy(b->data, hdr, hlen);
	memcpy(b->data + hlen, s->buf, s->len);
	memcpy(b->data + hlen + s->len, BATCH_TAIL, BATCH_TAIL_LEN);
	b->len = hlen + s->len + BATCH_TAIL_LEN;
	b->data[b->len] = '\0';
	b->seq = seq;
	memcpy(b->stream, s->name, sizeof(b->stream));
	b->nrecords = s->nrec;
	b->sealed_ms = mono_ms();
	bt->st.batches++;
	bt->sink(bt->arg, b);
reset:
	s->len = 0;
	s->nrec = 0;
}

/*
 * A name that is one MQTT topic level (no '/', '+', '#') and needs no
 * escaping in JSON, which keeps the header size bounded by the name
 * lengths: a one-record batch then always fits BATCH_BYTES_MIN.  Printable
 * ASCII without space, so that it also reads unambiguously in a log line.
 * The gateway id is held to it as well: it is a topic level in JSON too.
 */
static int
batch_name_ok(const char *name, size_t len, size_t max)
{
	unsigned char c;
	size_t i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
		    c == '/' || c == '+' || c == '#')
			return 0;
	}
	return 1;
}

int
batch_stream_ok(const char *name, size_t len)
{
	return batch_name_ok(name, len, BATCH_STREAM_MAX);
}

static struct batch_stream *
batch_stream_get(struct batcher *bt, const char *name)
{
	struct batch_stream *s;
	size_t i;

	if (bt->nstreams > bt->last &&
	    strcmp(bt->streams[bt->last]->name, name) == 0)
		return bt->streams[bt->last];
	for (i = 0; i < bt->nstreams; i++)
		if (strcmp(bt->streams[i]->name, name) == 0) {
			bt->last = i;
			return bt->streams[i];
		}
	if (bt->nstreams == BATCHER_STREAMS_MAX)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memcpy(s->name, name, strlen(name) + 1);
	for (i = 0; i < bt->ndec; i++)
		if (strcmp(bt->dec[i].stream, name) == 0)
			s->decoder = bt->dec[i].decoder;
	s->hdr_max = batch_header_max(bt, s);
	s->cap = bt->lim.max_bytes + BATCH_RECORD_JSON_MAX;
	if ((s->buf = malloc(s->cap)) == NULL) {
		free(s);
		return NULL;
	}
	bt->last = bt->nstreams;
	bt->streams[bt->nstreams++] = s;
	return s;
}

int
batcher_add(struct batcher *bt, const struct record *r)
{
	struct batch_stream *s;
	char *start, *end;
	size_t rlen;

	if (r->len > RADIO_PAYLOAD_MAX || r->stream == NULL ||
	    !batch_stream_ok(r->stream, strlen(r->stream))) {
		bt->st.rejected++;
		return -EINVAL;
	}
	if ((s = batch_stream_get(bt, r->stream)) == NULL) {
		bt->st.rejected++;
		return bt->nstreams == BATCHER_STREAMS_MAX ? -ENOSPC : -ENOMEM;
	}
	start = s->buf + s->len;
	if (s->nrec > 0)
		*start++ = ',';
	end = batch_encode_record(bt, start, r, s->decoder);
	rlen = (size_t)(end - start);
	if (s->nrec > 0 &&
	    s->hdr_max + (size_t)(end - s->buf) + BATCH_TAIL_LEN >
	    bt->lim.max_bytes) {
		/* Seal without it; it opens the next batch. */
		batch_seal(bt, s);
		memmove(s->buf, start, rlen);
		end = s->buf + rlen;
	}
	if (s->nrec == 0)
		s->opened_ms = r->rx_mono_ms;
	s->len = (size_t)(end - s->buf);
	s->nrec++;
	bt->st.records++;
	if (s->nrec >= bt->lim.max_records)
		batch_seal(bt, s);
	return 0;
}

int
batcher_set_decoder(struct batcher *bt, const char *stream, int decoder)
{
	size_t i;

	if (!batch_stream_ok(stream, strlen(stream)) ||
	    (decoder != BATCH_DECODE_RAW && decoder != BATCH_DECODE_LPP))
		return -EINVAL;
	for (i = 0; i < bt->nstreams; i++)
		if (strcmp(bt->streams[i]->name, stream) == 0)
			bt->streams[i]->decoder = decoder;
	for (i = 0; i < bt->ndec; i++)
		if (strcmp(bt->dec[i].stream, stream) == 0) {
			bt->dec[i].decoder = decoder;
			return 0;
		}
	if (bt->ndec == BATCHER_DECODERS_MAX)
		return -ENOSPC;
	memcpy(bt->dec[bt->ndec].stream, stream, strlen(stream) + 1);
	bt->dec[bt->ndec++].decoder = decoder;
	return 0;
}

void
batcher_tick(struct batcher *bt, uint64_t now_ms)
{
	struct batch_stream *s;
	size_t i;

	for (i = 0; i < bt->nstreams; i++) {
		s = bt->streams[i];
		if (s->nrec > 0 && now_ms >= s->opened_ms &&
		    now_ms - s->opened_ms >= bt->lim.max_age_ms)
			batch_seal(bt, s);
	}
	log_rl_flush(&bt->rl_seq, now_ms);
}

int64_t
batcher_next_ms(const struct batcher *bt, uint64_t now_ms)
{
	const struct batch_stream *s;
	int64_t best = -1, left;
	size_t i;

	for (i = 0; i < bt->nstreams; i++) {
		s = bt->streams[i];
		if (s->nrec == 0)
			continue;
		if (now_ms - s->opened_ms >= bt->lim.max_age_ms ||
		    now_ms < s->opened_ms)
			left = 0;
		else
			left = (int64_t)(s->opened_ms + bt->lim.max_age_ms -
			    now_ms);
		if (best < 0 || left < best)
			best = left;
	}
	return best;
}

void
batcher_flush(struct batcher *bt)
{
	size_t i;

	for (i = 0; i < bt->nstreams; i++)
		batch_seal(bt, bt->streams[i]);
}

uint64_t
batcher_pending(const struct batcher *bt)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < bt->nstreams; i++)
		n += bt->streams[i]->nrec;
	return n;
}

const struct batcher_stats *
batcher_stats(const struct batcher *bt)
{
	return &bt->st;
}

int
batcher_new(const char *gateway_id, const struct batcher_limits *lim,
    struct seqno *seq, batch_sink_fn *sink, void *arg, struct batcher **out)
{
	struct batcher *bt;

	*out = NULL;
	if (lim->max_records == 0 || lim->max_bytes < BATCH_BYTES_MIN ||
	    !batch_name_ok(gateway_id, strlen(gateway_id), BATCH_GW_MAX) ||
	    seq == NULL || sink == NULL)
		return -EINVAL;
	if ((bt = calloc(1, sizeof(*bt))) == NULL)
		return -ENOMEM;
	memcpy(bt->gw, gateway_id, strlen(gateway_id) + 1);
	bt->lim = *lim;
	bt->seq = seq;
	bt->sink = sink;
	bt->arg = arg;
	log_ratelimit_init(&bt->rl_seq, "batch sealing", 10000, 5);
	*out = bt;
	return 0;
}

void
batcher_free(struct batcher *bt)
{
	size_t i;

	if (bt == NULL)
		return;
	for (i = 0; i < bt->nstreams; i++) {
		free(bt->streams[i]->buf);
		free(bt->streams[i]);
	}
	free(bt);
}
