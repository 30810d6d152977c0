/*
 * batch.h - grouping verified records per stream into batches, and the
 * sealed batch handed on to the spool and the uplink.
 *
 * Data flow: policy (verified, allowed record) -> batcher_add -> sealed
 * struct batch -> sink (spool, then uplink).  A batch is sealed when it
 * reaches its record count, byte size or age bound (monotonic clock), or on
 * batcher_flush at shutdown.  The sink owns what it is given: batch_free.
 */
#ifndef FB_BATCH_H
#define FB_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "radio/radio.h"

#define BATCH_STREAM_MAX	63

/*
 * The one rule for a stream name, wherever a name is accepted or read back
 * (the batcher, the journal, the spool, the outbox): 1..BATCH_STREAM_MAX
 * bytes of printable ASCII, no space, and none of '/', '+', '#' (the name is
 * one MQTT topic level, PREFIX/GATEWAY/STREAM) or '"', '\\' (it goes into
 * JSON unescaped, which keeps the header of a batch bounded).  len is the
 * name's length: names read from disk are not NUL-terminated.  The
 * registry admits a stricter set (policy/registry.c); test_registry checks
 * that every name it admits passes this rule.
 */
int	batch_stream_ok(const char *name, size_t len);

/* One verified record, as the daemon passes it in (borrowed pointers). */
struct record {
	uint64_t		 eui;
	uint32_t		 fcnt;
	const char		*stream;
	struct timespec		 rx_wall;	/* CLOCK_REALTIME at receipt */
	int			 clock_synced;	/* wall clock NTP-synchronised */
	uint64_t		 rx_mono_ms;	/* CLOCK_MONOTONIC at receipt */
	struct radio_meta	 meta;
	const uint8_t		*payload;
	size_t			 len;
};

/* A sealed batch: one MQTT message. */
struct batch {
	uint64_t	seq;		/* per-gateway, strictly increasing */
	char		stream[BATCH_STREAM_MAX + 1];
	uint32_t	nrecords;
	uint64_t	sealed_ms;	/* CLOCK_MONOTONIC when sealed */
	size_t		len;
	char		*data;		/* the payload, len bytes: the JSON
					 * document in the batcher's
					 * encoding (encoding.h) */
	/* Its first record, for the journal (which cannot read a
	 * compressed payload); first_known 0: not a batch of records. */
	int		first_known;
	uint64_t	first_eui;
	uint32_t	first_fcnt;
};

/* Frees data (a separate allocation) and the struct; accepts NULL. */
void	batch_free(struct batch *b);

/*
 * The batcher: one open batch per stream, encoded as records arrive, so
 * sealing costs one allocation and one copy.  Sequence numbers come from
 * the seqno (seqno.h) at seal time, so they increase in sealing order.
 * The JSON schema is documented in docs/uplink-format.md.
 */
struct seqno;
struct batcher;

#define BATCHER_STREAMS_MAX	256	/* open streams at once */
/* Longest JSON of one record (a 255-byte payload, every field at its
 * widest, about 560 bytes, or a payload decoded into fields: decoded
 * fields that do not fit it are not sent, the record goes raw with a
 * decode_error); a batch of one record always fits BATCH_BYTES_MIN (the
 * header takes at most 210 bytes). */
#define BATCH_RECORD_JSON_MAX	800
#define BATCH_BYTES_MIN		1024

/* How a stream's payloads are encoded (docs/uplink-format.md): "data"
 * (base64) always, and with LPP the decoded "fields" too. */
#define BATCH_DECODE_RAW	0
#define BATCH_DECODE_LPP	1	/* Cayenne LPP, daemon/decode_lpp.c */
#define BATCHER_DECODERS_MAX	64	/* streams with a decoder set */

struct batcher_limits {
	uint32_t	max_records;	/* >= 1 */
	size_t		max_bytes;	/* >= BATCH_BYTES_MIN: whole payload,
					 * after compression */
	uint32_t	max_age_ms;	/* since the first record, monotonic */
	int		encoding;	/* ENCODING_JSON (0), ENCODING_ZLIB */
};

/* Where sealed batches go; the sink owns b and frees it with batch_free. */
typedef void batch_sink_fn(void *arg, struct batch *b);

struct batcher_stats {
	uint64_t	records;	/* accepted by batcher_add */
	uint64_t	batches;	/* sealed and handed to the sink */
	uint64_t	lost_batches;	/* no sequence number: dropped */
	uint64_t	lost_records;
	uint64_t	rejected;	/* batcher_add returned an error */
	uint64_t	kept_back;	/* compressed: records a seal handed
					 * on to the next batch */
};

int	batcher_new(const char *gateway_id, const struct batcher_limits *lim,
	    struct seqno *seq, batch_sink_fn *sink, void *arg,
	    struct batcher **out);
/* Discards open batches: call batcher_flush first to keep them. */
void	batcher_free(struct batcher *bt);
/*
 * Add a record to its stream's batch, sealing first what would overflow.
 * 0, or -EINVAL (stream name not one topic level, payload too long),
 * -ENOSPC (too many streams), -ENOMEM.
 */
int	batcher_add(struct batcher *bt, const struct record *r);
/* Decode the payloads of stream with decoder (BATCH_DECODE_*) from the
 * next record on: 0, -EINVAL (name, decoder), -ENOSPC (too many). */
int	batcher_set_decoder(struct batcher *bt, const char *stream,
	    int decoder);
/* Seal the batches whose first record is max_age_ms old. */
void	batcher_tick(struct batcher *bt, uint64_t now_ms);
/* Seal all open batches (shutdown). */
void	batcher_flush(struct batcher *bt);
/* Records waiting in open batches. */
uint64_t batcher_pending(const struct batcher *bt);
const struct batcher_stats *batcher_stats(const struct batcher *bt);

/* Base64 (RFC 4648, padded) of len bytes into out, which must hold
 * BATCH_B64_LEN(len) bytes; returns the length written (no NUL). */
#define BATCH_B64_LEN(n)	(((n) + 2) / 3 * 4)
size_t	batch_base64(char *out, const uint8_t *in, size_t len);

/* Writes s as the body of a JSON string at p, escaping '"', '\\' and every
 * control character (as \u00XX), and returns the end; p must hold
 * batch_json_len(s) bytes, at most BATCH_JSON_GROWTH_MAX times strlen(s).
 * Batches and the outbox's events both use it, so a name reads the same
 * in both. */
#define BATCH_JSON_GROWTH_MAX	6
char	*batch_json_str(char *p, const char *s);
size_t	 batch_json_len(const char *s);

#endif
