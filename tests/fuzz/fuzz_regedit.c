/*
 * fuzz_regedit.c - the registry text editor on arbitrary files: the
 * positions it reports lie inside the text, in order, and every edit
 * (replace, remove, append) yields a text of the announced length that
 * keeps the bytes outside the edited span.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/regedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t ids[] = { 0x70B3D57ED0001001ULL, 0 };
	const char *t = (const char *)data;
	struct regedit_pos p;
	char *out;
	size_t n, i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (regedit_find(t, size, ids[i], &p) != 0)
			continue;
		if (p.close >= size || p.tail > p.close ||
		    (p.found && (p.start >= p.end || p.end > p.close)))
			abort();
		if (regedit_apply(t, size, &p, "{ x }", &out, &n) == 0) {
			if (strlen(out) > n || memcmp(out, t, p.found ?
			    p.start : p.tail) != 0)
				abort();
			free(out);
		}
		if (p.found && regedit_apply(t, size, &p, NULL, &out, &n) == 0) {
			if (n >= size)
				abort();
			free(out);
		}
	}
	return 0;
}
