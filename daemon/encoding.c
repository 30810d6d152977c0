/*
 * encoding.c - packs a batch's JSON document into its published encoding
 * and decodes any published payload back into the document (encoding.h;
 * the formats are in docs/uplink-format.md, "Encodings").
 *
 * Compression is zlib's deflate, wrapped as a zlib stream (RFC 1950): the
 * two-byte header makes the payload tell its own encoding apart from a
 * JSON document, which a raw deflate stream could not, and the Adler-32
 * trailer lets a consumer notice a payload damaged on the way.  It is six
 * bytes a batch, against eighteen for gzip's wrapper.  Every language's
 * standard library inflates it (Python's zlib.decompress, Go's
 * compress/zlib, Java's Inflater).
 *
 * The decoder reads bytes a broker or a file handed us: it bounds the
 * document it produces before it inflates (max_doc), inflates in pieces
 * into a buffer that grows by doubling up to that bound, and refuses
 * trailing bytes after the stream's end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "daemon/encoding.h"

/* zlib's defaults: a 32 KiB window (a batch of a few KiB compressed is
 * some 15 KiB of JSON, so a smaller window would cost ratio) and level 6,
 * where a higher level gained less than 1% on batches of our records. */
#define ENCODING_WINDOW_BITS	15
#define ENCODING_MEM_LEVEL	8
#define ENCODING_LEVEL		Z_DEFAULT_COMPRESSION
/* First size of the decoder's output; it doubles from there. */
#define ENCODING_DECODE_START_BYTES	(16U * 1024)

struct encoding_packer {
	z_stream	z;
};

static const char *const encoding_names[] = {
	[ENCODING_JSON] = "json",
	[ENCODING_ZLIB] = "zlib",
};
#define ENCODING_COUNT	(sizeof(encoding_names) / sizeof(encoding_names[0]))

const char *
encoding_name(int enc)
{
	if (enc < 0 || (size_t)enc >= ENCODING_COUNT)
		return NULL;
	return encoding_names[enc];
}


int
encoding_detect(const uint8_t *p, size_t len)
{
	if (len == 0)
		return -EBADMSG;
	if (p[0] == '{')
		return ENCODING_JSON;
	/*
	 * RFC 1950 section 2.2: CM (low nibble of CMF) is 8 for deflate,
	 * CINFO (high nibble) at most 7, FDICT clear (we never use a preset
	 * dictionary, and a consumer would not have it), and CMF * 256 + FLG
	 * a multiple of 31.
	 */
	if (len >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
	    (p[1] & 0x20) == 0 && ((unsigned)p[0] << 8 | p[1]) % 31 == 0)
		return ENCODING_ZLIB;
	return -EBADMSG;
}

/* The document rule shared by every encoding: {...} and no NUL. */
static int
encoding_doc_ok(const char *d, size_t len, const char **why)
{
	if (len < 2 || d[0] != '{' || d[len - 1] != '}') {
		*why = "the content is not a JSON object";
		return 0;
	}
	if (memchr(d, '\0', len) != NULL) {
		*why = "the content holds a NUL byte";
		return 0;
	}
	return 1;
}

static int
encoding_inflate(const uint8_t *p, size_t len, size_t max_doc, char **buf,
    size_t *used, const char **why)
{
	z_stream z;
	char *b = NULL, *nb;
	size_t cap, ncap, limit;
	int zr, r = -EBADMSG;

	/* One byte past the bound tells "too large" from "exactly full". */
	if (max_doc > ENCODING_DOC_MAX_BYTES)
		max_doc = ENCODING_DOC_MAX_BYTES;
	limit = max_doc + 1;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, ENCODING_WINDOW_BITS) != Z_OK)
		return -ENOMEM;
	cap = limit < ENCODING_DECODE_START_BYTES ? limit :
	    ENCODING_DECODE_START_BYTES;
	if ((b = malloc(cap + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	for (;;) {
		/* avail_in is a uInt: feed at most its range at a time. */
		if (z.avail_in == 0 && len > 0) {
			z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
			len -= z.avail_in;
		}
		if (z.total_out == cap) {
			if (cap == limit) {
				r = -EFBIG;
				goto out;
			}
			ncap = cap > limit / 2 ? limit : cap * 2;
			if ((nb = realloc(b, ncap + 1)) == NULL) {
				r = -ENOMEM;
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		z.next_out = (Bytef *)b + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			break;
		if (zr == Z_MEM_ERROR) {
			r = -ENOMEM;
			goto out;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			*why = zr == Z_NEED_DICT ? "a zlib stream that needs "
			    "a preset dictionary" : z.msg != NULL ? z.msg :
			    "a damaged zlib stream";
			goto out;
		}
		/* Z_BUF_ERROR: no progress possible, out of input. */
		if (zr == Z_BUF_ERROR && z.avail_in == 0 && len == 0) {
			*why = "the zlib stream is truncated";
			goto out;
		}
	}
	if (z.avail_in != 0 || len != 0) {
		*why = "trailing bytes after the zlib stream";
		goto out;
	}
	if (z.total_out > max_doc) {
		r = -EFBIG;
		goto out;
	}
	*used = z.total_out;
	*buf = b;
	b = NULL;
	r = 0;
out:
	if (r == -EFBIG)
		*why = "the document is larger than allowed";
	(void)inflateEnd(&z);
	free(b);
	return r;
}

int
encoding_decode(const uint8_t *p, size_t len, size_t max_doc, char **out,
    size_t *outlen, const char **why)
{
	const char *dummy;
	char *d = NULL;
	size_t dlen = 0;
	int r;

	*out = NULL;
	*outlen = 0;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	switch (encoding_detect(p, len)) {
	case ENCODING_JSON:
		if (len > max_doc) {
			*why = "the document is larger than allowed";
			return -EFBIG;
		}
		if ((d = malloc(len + 1)) == NULL)
			return -ENOMEM;
		memcpy(d, p, len);
		dlen = len;
		break;
	case ENCODING_ZLIB:
		if ((r = encoding_inflate(p, len, max_doc, &d, &dlen, why))
		    != 0)
			return r;
		break;
	default:
		*why = "neither a JSON document nor a zlib stream";
		return -EBADMSG;
	}
	if (!encoding_doc_ok(d, dlen, why)) {
		free(d);
		return -EBADMSG;
	}
	d[dlen] = '\0';
	*out = d;
	*outlen = dlen;
	return 0;
}

int
encoding_packer_new(struct encoding_packer **out)
{
	struct encoding_packer *pk;

	*out = NULL;
	if ((pk = calloc(1, sizeof(*pk))) == NULL)
		return -ENOMEM;
	if (deflateInit2(&pk->z, ENCODING_LEVEL, Z_DEFLATED,
	    ENCODING_WINDOW_BITS, ENCODING_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		free(pk);
		return -ENOMEM;
	}
	*out = pk;
	return 0;
}

void
encoding_packer_free(struct encoding_packer *pk)
{
	if (pk == NULL)
		return;
	(void)deflateEnd(&pk->z);
	free(pk);
}

size_t
encoding_pack_bound(struct encoding_packer *pk, size_t len)
{
	return deflateBound(&pk->z, (uLong)len);
}

int
encoding_pack(struct encoding_packer *pk, const struct encoding_piece *pc,
    size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	z_stream *z = &pk->z;
	size_t i;
	int zr = Z_OK, flush;

	*outlen = 0;
	if (deflateReset(z) != Z_OK)
		return -EIO;
	z->next_out = out;
	z->avail_out = cap > UINT32_MAX ? UINT32_MAX : (uInt)cap;
	for (i = 0; i < n; i++) {
		z->next_in = (Bytef *)(uintptr_t)pc[i].p;
		z->avail_in = (uInt)pc[i].len;
		flush = i + 1 == n ? Z_FINISH : Z_NO_FLUSH;
		do {
			zr = deflate(z, flush);
			if (zr == Z_STREAM_END)
				break;
			if (zr != Z_OK && zr != Z_BUF_ERROR)
				return zr == Z_MEM_ERROR ? -ENOMEM : -EIO;
			/* Out of room while input or output is pending. */
			if (z->avail_out == 0)
				return -EFBIG;
		} while (z->avail_in > 0 || flush == Z_FINISH);
	}
	if (n == 0 || zr != Z_STREAM_END)
		return -EIO;
	*outlen = z->total_out;
	return 0;
}
