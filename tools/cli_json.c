/*
 * cli_json.c - the status file as JSON (cli_json.h): the daemon's own
 * converter (daemon/status.c, status_json), the one its health message
 * uses too, wrapped in what only the command line knows.
 */
#include <stdio.h>

#include "daemon/status.h"
#include "tools/cli_json.h"

void
cli_json_status(const char *text, size_t len, double age_s, int running,
    FILE *out)
{
	fprintf(out, "{\"running\": %s, \"status_age_s\": %.1f, \"status\": ",
	    running ? "true" : "false", age_s);
	(void)status_json(text, len, STATUS_JSON_ALL, out);
	fputs("}\n", out);
}
