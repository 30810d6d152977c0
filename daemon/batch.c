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
 *
 * Compressed batches (batch.encoding "zlib", encoding.h) are filled until
 * the *compressed* payload reaches max_bytes, so one metering unit carries
 * as many records as fit.  The compressed size of a document is known
 * only by compressing it, and compressing the whole batch at every record
 * would cost a hundred compressions a batch.  So a record is admitted
 * without compressing while deflateBound says even incompressible bytes
 * would fit, or while a guess leaves room; otherwise the batch is
 * compressed as it would be sealed (a trial).  The guess: the records
 * since the last trial add what the records between the last two trials
 * added per byte of JSON (after the first trial, the batch's own ratio,
 * which overestimates: a warm dictionary compresses later records
 * better).  Guessing from the batch's ratio alone, the batcher packed
 * about 48,000 simulator-like records/s into 4.9 KB batches on one core
 * of the development machine; from the last two trials, about 100,000.
 * The guess can be wrong, so batch_seal compresses the real document and,
 * while it does not fit, hands its last record on to the next batch: no
 * payload ever exceeds max_bytes.
 */
#define LOG_MODULE	"batch"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/batch.h"
#include "daemon/decode_lpp.h"
#include "daemon/encoding.h"
#include "daemon/log.h"
#include "daemon/mono.h"
#include "daemon/store/seqno.h"

#define BATCH_VERSION		1
#define BATCH_TAIL		"]}"
#define BATCH_TAIL_LEN		2
#define BATCH_SEQ_DIGITS_MAX	20
#define BATCH_GW_MAX		63
#define BATCH_SEQ_WIDEST	UINT64_MAX	/* 20 digits, for trials */
/* Where one record ends and the next begins in a stream's buffer: the
 * fixed start of a record after its comma, which no field inside a
 * record can contain (names hold no '"', payloads are base64). */
#define BATCH_REC_SEP		",{\"dev\":\""
#define BATCH_REC_SEP_LEN	(sizeof(BATCH_REC_SEP) - 1)
/* batch.max_records' upper bound (conf.c): every document a batcher makes
 * decodes within the decoder's bound. */
#define BATCH_RECORDS_CONF_MAX	100000
_Static_assert((uint64_t)BATCH_RECORDS_CONF_MAX * (BATCH_RECORD_JSON_MAX + 1)
    + 1024 <= ENCODING_DOC_MAX_BYTES, "a batch may not decode");
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
	/* The last two trials (compressed batches): a document of z_doc
	 * bytes (header reckoned at hdr_max) packed into z_len; 0: none. */
	size_t		 z_doc, z_doc0;
	size_t		 z_len, z_len0;
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
	struct encoding_packer	*pk;		/* compressed batches only */
	uint8_t			*zbuf;		/* max_bytes: packed output */
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

/*
 * The payload of a batch: header, the first rlen bytes of records, tail,
 * in the batcher's encoding, into a new buffer (NUL-terminated).  -EFBIG:
 * compressed, it does not fit max_bytes.
 */
static int
batch_pack(struct batcher *bt, const char *hdr, size_t hlen,
    const char *recs, size_t rlen, char **out, size_t *outlen)
{
	const struct encoding_piece pc[] = {
		{ hdr, hlen }, { recs, rlen }, { BATCH_TAIL, BATCH_TAIL_LEN },
	};
	char *p;
	size_t n, i, off;
	int r;

	*out = NULL;
	if (bt->lim.encoding == ENCODING_ZLIB) {
		if ((r = encoding_pack(bt->pk, pc, 3, bt->zbuf,
		    bt->lim.max_bytes, &n)) != 0)
			return r;
		if ((p = malloc(n + 1)) == NULL)
			return -ENOMEM;
		memcpy(p, bt->zbuf, n);
	} else {
		n = hlen + rlen + BATCH_TAIL_LEN;
		if ((p = malloc(n + 1)) == NULL)
			return -ENOMEM;
		for (i = 0, off = 0; i < 3; off += pc[i].len, i++)
			memcpy(p + off, pc[i].p, pc[i].len);
	}
	p[n] = '\0';
	*out = p;
	*outlen = n;
	return 0;
}

/*
 * Whether the stream's batch would exceed max_bytes with rlen bytes of
 * records.  Exact for JSON; for compressed batches see the top of the
 * file: deflateBound, then the guess, then a trial.
 */
static int
batch_over(struct batcher *bt, struct batch_stream *s, size_t rlen)
{
	struct encoding_piece pc[3];
	char hdr[BATCH_HDR_MAX];
	uint64_t guess;
	size_t doc, zlen;

	doc = s->hdr_max + rlen + BATCH_TAIL_LEN;
	if (bt->lim.encoding == ENCODING_JSON)
		return doc > bt->lim.max_bytes;
	if (encoding_pack_bound(bt->pk, doc) <= bt->lim.max_bytes)
		return 0;
	if (s->z_doc != 0 && doc > s->z_doc) {
		/* What the records since the last trial add: at the rate
		 * they added between the last two, else the batch's. */
		if (s->z_doc0 != 0 && s->z_len > s->z_len0)
			guess = s->z_len + (uint64_t)(doc - s->z_doc) *
			    (s->z_len - s->z_len0) / (s->z_doc - s->z_doc0) + 1;
		else
			guess = s->z_len + (uint64_t)(doc - s->z_doc) *
			    s->z_len / s->z_doc + 1;
		if (guess <= bt->lim.max_bytes)
			return 0;
	}
	pc[0].p = hdr;
	pc[0].len = batch_header(bt, s, BATCH_SEQ_WIDEST, hdr);
	pc[1].p = s->buf;
	pc[1].len = rlen;
	pc[2].p = BATCH_TAIL;
	pc[2].len = BATCH_TAIL_LEN;
	if (encoding_pack(bt->pk, pc, 3, bt->zbuf, bt->lim.max_bytes,
	    &zlen) != 0)
		return 1;	/* -EFBIG; anything else shows at the seal */
	s->z_doc0 = s->z_doc;
	s->z_len0 = s->z_len;
	s->z_doc = doc;
	s->z_len = zlen;
	return 0;
}

/* Start of the last record in buf[0..end) (its comma), 0 for the first. */
static size_t
batch_prev_record(const char *buf, size_t end)
{
	size_t i;

	for (i = end; i-- > 0;)
		if (end - i >= BATCH_REC_SEP_LEN &&
		    memcmp(buf + i, BATCH_REC_SEP, BATCH_REC_SEP_LEN) == 0)
			return i;
	return 0;
}

/*
 * The device and frame counter of the record at the start of rec, as
 * batch_encode_record writes it: {"dev":"HEX16","fcnt":N.  0, or -1 if
 * rec does not start so.
 */
static int
batch_first_record(const char *rec, size_t len, uint64_t *eui,
    uint32_t *fcnt)
{
	static const char key[] = "{\"dev\":\"";
	static const char key2[] = "\",\"fcnt\":";
	const char *p = rec, *end = rec + len;
	uint64_t v = 0;
	int i;

	if (len < sizeof(key) - 1 + 16 + sizeof(key2) ||
	    memcmp(p, key, sizeof(key) - 1) != 0)
		return -1;
	p += sizeof(key) - 1;
	for (i = 0; i < 16; i++, p++) {
		v <<= 4;
		if (*p >= '0' && *p <= '9')
			v |= (uint64_t)(*p - '0');
		else if (*p >= 'A' && *p <= 'F')
			v |= (uint64_t)(*p - 'A' + 10);
		else
			return -1;
	}
	if (memcmp(p, key2, sizeof(key2) - 1) != 0)
		return -1;
	p += sizeof(key2) - 1;
	*eui = v;
	for (v = 0, i = 0; p < end && *p >= '0' && *p <= '9' && i < 10;
	    p++, i++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (i == 0 || v > UINT32_MAX)
		return -1;
	*fcnt = (uint32_t)v;
	return 0;
}

/*
 * Seal the stream's open batch and hand it to the sink.  A compressed
 * batch that does not fit after all keeps its last records back: they
 * stay in the stream's buffer as the next batch, with the same opening
 * time (they are late already).
 */
static void
batch_seal(struct batcher *bt, struct batch_stream *s)
{
	struct batch *b = NULL;
	char hdr[BATCH_HDR_MAX], *data = NULL;
	size_t hlen, keep, plen = 0;
	uint32_t nkeep;
	uint64_t seq;
	int r;

	if (s->nrec == 0)
		return;
	keep = s->len;
	nkeep = s->nrec;
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
	while ((r = batch_pack(bt, hdr, hlen, s->buf, keep, &data, &plen)) ==
	    -EFBIG && nkeep > 1 &&
	    (keep = batch_prev_record(s->buf, keep)) > 0) {
		nkeep--;
		bt->st.kept_back++;
	}
	if (r != 0 || (b = calloc(1, sizeof(*b))) == NULL) {
		free(data);
		keep = s->len;
		nkeep = s->nrec;
		bt->st.lost_batches++;
		bt->st.lost_records += s->nrec;
		log_rl(&bt->rl_seq, s->opened_ms, LOG_ERR, LOG_MODULE,
		    "cannot encode batch %llu: %s; dropped",
		    (unsigned long long)seq, strerror(r != 0 ? -r : ENOMEM));
		goto reset;
	}
	b->data = data;
	b->len = plen;
	b->seq = seq;
	memcpy(b->stream, s->name, sizeof(b->stream));
	b->nrecords = nkeep;
	b->first_known = batch_first_record(s->buf, keep, &b->first_eui,
	    &b->first_fcnt) == 0;
	b->sealed_ms = mono_ms();
	bt->st.batches++;
	bt->sink(bt->arg, b);
reset:
	if (keep < s->len) {
		/* The records kept back, without their leading comma. */
		memmove(s->buf, s->buf + keep + 1, s->len - keep - 1);
		s->len -= keep + 1;
		s->nrec -= nkeep;
	} else {
		s->len = 0;
		s->nrec = 0;
	}
	s->z_doc = s->z_doc0 = 0;
	s->z_len = s->z_len0 = 0;
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
	char *start, *end, *dst, *nb;
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
	/* Only a compressed batch's document outgrows max_bytes. */
	if (s->cap - s->len < BATCH_RECORD_JSON_MAX + 1) {
		if ((nb = realloc(s->buf, s->cap * 2)) == NULL) {
			bt->st.rejected++;
			return -ENOMEM;
		}
		s->buf = nb;
		s->cap *= 2;
	}
	start = s->buf + s->len;
	if (s->nrec > 0)
		*start++ = ',';
	end = batch_encode_record(bt, start, r, s->decoder);
	rlen = (size_t)(end - start);
	if (s->nrec > 0 && batch_over(bt, s, (size_t)(end - s->buf))) {
		/* Seal without it; it opens the next batch (after any
		 * records the seal kept back). */
		batch_seal(bt, s);
		dst = s->buf + s->len;
		if (s->nrec > 0)
			*dst++ = ',';
		memmove(dst, start, rlen);
		end = dst + rlen;
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


void
batcher_flush(struct batcher *bt)
{
	size_t i;

	/* A compressed seal may keep records back: seal until empty (each
	 * seal takes at least one record). */
	for (i = 0; i < bt->nstreams; i++)
		while (bt->streams[i]->nrec > 0)
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
	    encoding_name(lim->encoding) == NULL ||
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
	if (lim->encoding == ENCODING_ZLIB &&
	    ((bt->zbuf = malloc(lim->max_bytes)) == NULL ||
	    encoding_packer_new(&bt->pk) != 0)) {
		batcher_free(bt);
		return -ENOMEM;
	}
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
	encoding_packer_free(bt->pk);
	free(bt->zbuf);
	free(bt);
}
