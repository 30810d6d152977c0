/*
 * fuzz_status.c - the status file as `fieldbridge status` reads it
 * (tools/cli_status.c: parse and render) and as JSON (status_json, which
 * `--json` and the health message share) on arbitrary bytes: a state file
 * a full disk, a crash or a hand edit may have damaged.  The report must
 * not crash; the JSON, whole or filtered for health, must load with
 * Jansson as one object.
 * fuzz-extra: tools/cli_status.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "daemon/status.h"
#include "tools/cli_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_json(const char *text, size_t len, enum status_json_filter filter)
{
	json_error_t err;
	json_t *root;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &n)) == NULL)
		abort();
	if (status_json(text, len, filter, f) != 0)
		abort();
	if (fclose(f) != 0)
		abort();
	/* A NUL in the file comes out as \u0000: valid JSON (RFC 8259),
	 * which Jansson loads only when told to. */
	if ((root = json_loadb(buf, n, JSON_ALLOW_NUL, &err)) == NULL ||
	    !json_is_object(root))
		abort();
	json_decref(root);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cli_kv kv;	/* large: not on the stack */
	const char *text = (const char *)data;
	FILE *out;

	fuzz_json(text, size, STATUS_JSON_ALL);
	fuzz_json(text, size, STATUS_JSON_HEALTH);
	if (cli_status_parse(text, size, &kv) != 0)
		return 0;
	if ((out = fopen("/dev/null", "w")) == NULL)
		abort();
	(void)cli_status_render(&kv, 1.0, 1, 60.0, out);
	(void)cli_status_render(&kv, 600.0, 0, 60.0, out);
	fclose(out);
	return 0;
}
