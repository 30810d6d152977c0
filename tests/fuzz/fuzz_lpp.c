/*
 * fuzz_lpp.c - libFuzzer target for the Cayenne LPP decoder
 * (daemon/decode_lpp.c): the input is a payload.  The first byte sets the
 * room given, so the bound on the output is exercised too; whatever is
 * written must stay inside it, and a success must be a JSON object member
 * made only of printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/decode_lpp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[4096 + 16];
	size_t cap, i;
	int n;

	cap = size > 0 ? (size_t)data[0] * 16 : 0;
	memset(out, 0x5a, sizeof(out));
	n = lpp_json(data, size, out, cap);
	for (i = cap; i < sizeof(out); i++)
		if (out[i] != 0x5a)
			abort();
	if (n < 0) {
		if (n <= -LPP_VERDICT_COUNT || lpp_strerror(n)[0] != 'l')
			abort();
		return 0;
	}
	if ((size_t)n > cap || n < 12 || memcmp(out, ",\"fields\":{", 11) != 0 ||
	    out[n - 1] != '}')
		abort();
	for (i = 0; i < (size_t)n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
	return 0;
}
