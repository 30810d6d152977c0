/*
 * test_encoding.c - the payload encodings (daemon/encoding.c): the
 * encoding is told from the bytes alone, packing and decoding round-trip,
 * and every kind of malformed payload is refused with -EBADMSG or -EFBIG
 * (truncated, a bad checksum, trailing bytes, a preset dictionary, a
 * document that is not an object, one over the bound), never crashing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "daemon/encoding.h"

static const char doc[] = "{\"v\":1,\"gw\":\"farm-01\",\"seq\":42,"
    "\"stream\":\"cattle\",\"records\":[{\"dev\":\"70B3D57ED0001001\","
    "\"fcnt\":17,\"rx\":\"2026-11-21T20:18:28.123Z\",\"sync\":true,"
    "\"mod\":\"lora\",\"freq\":868100000,\"dr\":12,\"bw\":125000,"
    "\"rssi\":-97,\"snr\":7.5,\"tmst\":123,\"data\":\"AQID\"}]}";

/* doc packed in two pieces by our packer; returns its length. */
static size_t
pack_doc(uint8_t *out, size_t cap)
{
	struct encoding_piece pc[2] = {
		{ doc, 40 }, { doc + 40, sizeof(doc) - 1 - 40 },
	};
	struct encoding_packer *pk;
	size_t n = 0;

	assert_int_equal(encoding_packer_new(&pk), 0);
	assert_int_equal(encoding_pack(pk, pc, 2, out, cap, &n), 0);
	encoding_packer_free(pk);
	return n;
}

static int
decode(const uint8_t *p, size_t len, size_t max, const char **why)
{
	char *d = NULL;
	size_t dlen = 99;
	int r;

	r = encoding_decode(p, len, max, &d, &dlen, why);
	if (r == 0) {
		assert_int_equal(dlen, sizeof(doc) - 1);
		assert_string_equal(d, doc);
	} else {
		assert_null(d);
		assert_int_equal(dlen, 0);
	}
	free(d);
	return r;
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(encoding_name(ENCODING_JSON), "json");
	assert_string_equal(encoding_name(ENCODING_ZLIB), "zlib");
	assert_null(encoding_name(2));
	assert_null(encoding_name(-1));
}

static void
test_round_trip(void **state)
{
	uint8_t z[1024];
	size_t n;
	const char *why = "unset";

	(void)state;
	n = pack_doc(z, sizeof(z));
	assert_true(n < sizeof(doc) - 1);
	assert_int_equal(encoding_detect(z, n), ENCODING_ZLIB);
	assert_int_equal(encoding_detect((const uint8_t *)doc,
	    sizeof(doc) - 1), ENCODING_JSON);
	assert_int_equal(decode(z, n, ENCODING_DOC_MAX_BYTES, &why), 0);
	assert_null(why);
	assert_int_equal(decode((const uint8_t *)doc, sizeof(doc) - 1,
	    ENCODING_DOC_MAX_BYTES, NULL), 0);
	/* What zlib's own one-shot compress makes decodes too. */
	{
		uint8_t c[1024];
		uLongf clen = sizeof(c);

		assert_int_equal(compress2(c, &clen, (const Bytef *)doc,
		    sizeof(doc) - 1, 9), Z_OK);
		assert_int_equal(decode(c, clen, ENCODING_DOC_MAX_BYTES,
		    NULL), 0);
	}
}

static void
test_pack_does_not_fit(void **state)
{
	struct encoding_piece pc = { doc, sizeof(doc) - 1 };
	struct encoding_packer *pk;
	uint8_t z[1024];
	size_t n = 0, full;

	(void)state;
	full = pack_doc(z, sizeof(z));
	assert_int_equal(encoding_packer_new(&pk), 0);
	assert_int_equal(encoding_pack(pk, &pc, 1, z, full - 1, &n), -EFBIG);
	assert_int_equal(n, 0);
	/* Exactly full fits, and the packer is reusable after a refusal. */
	assert_int_equal(encoding_pack(pk, &pc, 1, z, full, &n), 0);
	assert_int_equal(n, full);
	assert_true(encoding_pack_bound(pk, sizeof(doc)) >= sizeof(doc));
	encoding_packer_free(pk);
	encoding_packer_free(NULL);
}

static void
test_malformed(void **state)
{
	uint8_t z[1024], bad[1100];
	size_t n, i;
	const char *why;
	uLongf clen;

	(void)state;
	n = pack_doc(z, sizeof(z));
	/* Empty, garbage, text that is not ours. */
	assert_int_equal(decode(z, 0, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	assert_non_null(why);
	assert_int_equal(decode((const uint8_t *)"online", 6,
	    ENCODING_DOC_MAX_BYTES, &why), -EBADMSG);
	assert_int_equal(encoding_detect((const uint8_t *)"\x78", 1),
	    -EBADMSG);
	/* Every truncation of the stream. */
	for (i = 2; i < n; i++)
		assert_int_equal(decode(z, i, ENCODING_DOC_MAX_BYTES, &why),
		    -EBADMSG);
	/* A wrong Adler-32. */
	memcpy(bad, z, n);
	bad[n - 1] ^= 1;
	assert_int_equal(decode(bad, n, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	/* Trailing bytes, even a second valid stream. */
	memcpy(bad, z, n);
	memcpy(bad + n, z, n < 50 ? n : 50);
	assert_int_equal(decode(bad, n + 1, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	assert_string_equal(why, "trailing bytes after the zlib stream");
	/* A header asking for a preset dictionary (FDICT). */
	memcpy(bad, z, n);
	bad[1] = (uint8_t)((bad[1] | 0x20) & 0xe0);
	bad[1] = (uint8_t)(bad[1] + (31 - ((bad[0] << 8 | bad[1]) % 31)) % 31);
	assert_int_equal(decode(bad, n, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	/* A valid stream of something that is not a JSON object. */
	clen = sizeof(bad);
	assert_int_equal(compress2(bad, &clen, (const Bytef *)"[1,2]", 5, 6),
	    Z_OK);
	assert_int_equal(decode(bad, clen, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	assert_string_equal(why, "the content is not a JSON object");
	clen = sizeof(bad);
	assert_int_equal(compress2(bad, &clen, (const Bytef *)"{\0}", 3, 6),
	    Z_OK);
	assert_int_equal(decode(bad, clen, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
	/* Corrupt deflate data. */
	memcpy(bad, z, n);
	for (i = 2; i < n - 4; i++)
		bad[i] = 0xff;
	assert_int_equal(decode(bad, n, ENCODING_DOC_MAX_BYTES, &why),
	    -EBADMSG);
}

/* A document one byte over the bound is refused, exactly at it is not:
 * also for a compressed one, which must not inflate past the bound. */
static void
test_bound(void **state)
{
	const size_t big = 1U << 20;
	uint8_t z[1024], *b, *c;
	uLongf clen;
	size_t n;
	char *d = NULL;
	size_t dlen;

	(void)state;
	n = pack_doc(z, sizeof(z));
	assert_int_equal(decode(z, n, sizeof(doc) - 1, NULL), 0);
	assert_int_equal(decode(z, n, sizeof(doc) - 2, NULL), -EFBIG);
	assert_int_equal(decode((const uint8_t *)doc, sizeof(doc) - 1,
	    sizeof(doc) - 2, NULL), -EFBIG);
	/* 1 MiB of spaces in an object inflates from about 1 KiB. */
	assert_non_null(b = malloc(big));
	memset(b, ' ', big);
	b[0] = '{';
	b[big - 1] = '}';
	clen = compressBound(big);
	assert_non_null(c = malloc(clen));
	assert_int_equal(compress2(c, &clen, b, big, 9), Z_OK);
	assert_true(clen < 4096);
	assert_int_equal(encoding_decode(c, clen, big - 1, &d, &dlen, NULL),
	    -EFBIG);
	assert_null(d);
	assert_int_equal(encoding_decode(c, clen, big, &d, &dlen, NULL), 0);
	assert_int_equal(dlen, big);
	free(d);
	free(b);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_pack_does_not_fit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
