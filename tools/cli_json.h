/*
 * cli_json.h - `fieldbridge status --json`: the status file's keys as one
 * JSON object, for scripts and fleet tools (tools/cli_json.c).
 */
#ifndef FB_CLI_JSON_H
#define FB_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * Writes {"running": BOOL, "status_age_s": N, "status": {KEY: VALUE, ...}}
 * and a newline, the status file's text (len bytes) converted by
 * status_json (daemon/status.h): each value a JSON number when it is a
 * decimal integer, else a string.  running is 0 or 1 as `fieldbridge
 * status` decides it.
 */
void	cli_json_status(const char *text, size_t len, double age_s,
	    int running, FILE *out);

#endif
