/*
 * cli_json.c - the status file as JSON (cli_json.h).  The status file is
 * the daemon's, so its values are printable text; they are escaped
 * anyway, byte by byte, so that no value can break the object.
 */
#include <stdio.h>
#include <string.h>

#include "tools/cli_json.h"
#include "tools/cli_status.h"

static void
cli_json_string(const char *s, FILE *out)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* A decimal integer JSON can carry as a number (no leading zero). */
static int
cli_json_is_int(const char *s)
{
	size_t i = s[0] == '-' ? 1 : 0, n = strlen(s);

	if (n == i || n - i > 18 || (s[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

void
cli_json_status(const struct cli_kv *kv, double age_s, int running,
    FILE *out)
{
	size_t i;

	fprintf(out, "{\"running\": %s, \"status_age_s\": %.1f, \"status\": {",
	    running ? "true" : "false", age_s);
	for (i = 0; i < kv->n; i++) {
		fputs(i > 0 ? ", " : "", out);
		cli_json_string(kv->key[i], out);
		fputs(": ", out);
		if (cli_json_is_int(kv->val[i]))
			fputs(kv->val[i], out);
		else
			cli_json_string(kv->val[i], out);
	}
	fputs("}}\n", out);
}
