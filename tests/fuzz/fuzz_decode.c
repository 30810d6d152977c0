/*
 * fuzz_decode.c - the payload decoder (daemon/encoding.c) on arbitrary
 * bytes, as `fieldbridge decode` and a consumer meet them.  A document it
 * accepts must be within the bound, start with '{', end with '}' and hold
 * no NUL; a compressed one must pack again and decode to the same
 * document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so that inflating bombs costs the fuzzer little time. */
#define FUZZ_DOC_MAX_BYTES	(256U * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct encoding_packer *pk = NULL;
	struct encoding_piece pc;
	uint8_t *z = NULL;
	char *doc = NULL, *again = NULL;
	size_t len = 0, zlen = 0, alen = 0, cap;

	if (encoding_decode(data, size, FUZZ_DOC_MAX_BYTES, &doc, &len,
	    NULL) != 0)
		return 0;
	if (len > FUZZ_DOC_MAX_BYTES || len < 2 || doc[0] != '{' ||
	    doc[len - 1] != '}' || memchr(doc, '\0', len) != NULL ||
	    doc[len] != '\0')
		abort();
	if (encoding_detect(data, size) == ENCODING_ZLIB) {
		if (encoding_packer_new(&pk) != 0)
			abort();
		cap = encoding_pack_bound(pk, len);
		if ((z = malloc(cap)) == NULL)
			abort();
		pc.p = doc;
		pc.len = len;
		if (encoding_pack(pk, &pc, 1, z, cap, &zlen) != 0 ||
		    encoding_decode(z, zlen, FUZZ_DOC_MAX_BYTES, &again,
		    &alen, NULL) != 0 || alen != len ||
		    memcmp(again, doc, len) != 0)
			abort();
	}
	encoding_packer_free(pk);
	free(z);
	free(again);
	free(doc);
	return 0;
}
