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

/* One entry's setting set, then removed: the result is still one entry
 * ("{ ... }"), and setting it again changes nothing more. */
static void
fuzz_entry(const char *t, size_t len)
{
	char *e, *a, *b, *c;

	if ((e = strndup(t, len)) == NULL)
		return;
	if (strlen(e) == len && regedit_entry_set(e, "revoked", "true",
	    &a) == 0) {
		if (a[0] != '{' || a[strlen(a) - 1] != '}' ||
		    strstr(a, "revoked = true;") == NULL)
			abort();
		if (regedit_entry_set(a, "revoked", "true", &b) != 0 ||
		    strcmp(a, b) != 0)
			abort();
		if (regedit_entry_set(a, "revoked", NULL, &c) == 0)
			free(c);
		free(b);
		free(a);
	}
	free(e);
}

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
		if (p.found)
			fuzz_entry(t + p.start, p.end - p.start);
	}
	return 0;
}
