/*
 * encoding.h - the payload encodings of a published batch, and the one
 * decoder every consumer of ours uses (the daemon's tests, the technician's
 * `fieldbridge decode`, the fuzz target).
 *
 * Data flow: batch.c packs the JSON document of a sealed batch with
 * encoding_pack -> spool -> uplink; a consumer turns a payload back into
 * the JSON document with encoding_decode.
 *
 * A payload says its own encoding in its first bytes, so a consumer needs
 * no configuration (docs/uplink-format.md, "Encodings"):
 *   "json"  the document itself, which always starts with '{' (0x7b);
 *   "zlib"  the document compressed as one zlib stream (RFC 1950: deflate,
 *           RFC 1951, with a 2-byte header whose low nibble is 8 and an
 *           Adler-32 trailer), which can never start with '{'.
 *
 * This header depends on nothing but libc, so tools/ may include it
 * (tests/test_layering.sh).
 */
#ifndef FB_ENCODING_H
#define FB_ENCODING_H

#include <stddef.h>
#include <stdint.h>

enum encoding {
	ENCODING_JSON = 0,
	ENCODING_ZLIB = 1,
};

/*
 * Longest document encoding_decode hands out unless told less: a batch of
 * the most records batch.max_records allows, each at its widest
 * (BATCH_RECORD_JSON_MAX), rounded up (batch.c checks this at compile
 * time).  A compressed payload that inflates beyond the caller's bound is
 * refused (-EFBIG) without inflating further, so a small hostile payload
 * cannot make the decoder allocate without end.
 */
#define ENCODING_DOC_MAX_BYTES	(128U * 1024 * 1024)

/* "json", "zlib"; NULL for an unknown value. */
const char	*encoding_name(int enc);

/*
 * The encoding of a payload, from its first bytes: ENCODING_JSON,
 * ENCODING_ZLIB, or -EBADMSG when it is neither (empty, or a first byte
 * that starts no document and no zlib stream).
 */
int	encoding_detect(const uint8_t *p, size_t len);

/*
 * Turns a payload of any encoding into the JSON document it carries:
 * *out is a new NUL-terminated buffer of *outlen bytes, which the caller
 * frees.  The document must start with '{', end with '}' and hold no NUL;
 * a zlib payload must be exactly one stream with a matching Adler-32 and
 * no trailing bytes.  Returns 0, -EBADMSG (not a payload of ours: the
 * cause is in *why when why is not NULL), -EFBIG (the document would
 * exceed max_doc bytes), -ENOMEM.
 */
int	encoding_decode(const uint8_t *p, size_t len, size_t max_doc,
	    char **out, size_t *outlen, const char **why);

/*
 * The packer of compressed batches: one deflate state, reused for every
 * batch (deflateReset), since setting one up costs more than compressing
 * a batch.  One piece of a document per iovec-like pair.
 */
struct encoding_packer;
struct encoding_piece {
	const void	*p;
	size_t		 len;
};

int	encoding_packer_new(struct encoding_packer **out);
void	encoding_packer_free(struct encoding_packer *pk);
/*
 * Compresses the concatenation of n pieces into out as one zlib stream.
 * Returns 0 with *outlen set, -EFBIG when the stream does not fit in cap
 * bytes (compression stops there: the caller tries fewer records), or
 * -ENOMEM / -EIO from zlib.
 */
int	encoding_pack(struct encoding_packer *pk,
	    const struct encoding_piece *pc, size_t n, uint8_t *out,
	    size_t cap, size_t *outlen);
/* The most bytes packing len bytes can take, whatever they are. */
size_t	encoding_pack_bound(struct encoding_packer *pk, size_t len);

#endif
