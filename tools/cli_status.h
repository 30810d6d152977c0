/*
 * cli_status.h - `fieldbridge status`: reads the daemon's STATE_DIR/status
 * (key=value lines, rewritten by daemon/loop.c every few seconds) and
 * renders it for a technician: depth of the spool, age of its oldest
 * batch, drain progress with an ETA, delivered and dropped counts, the
 * broker connection, and whether the daemon looks alive at all.
 *
 * Kept apart from tools/fieldbridge.c (the command line) so the parsing,
 * formatting and the ETA are unit-tested (tests/test_cli.c).
 */
#ifndef FB_CLI_STATUS_H
#define FB_CLI_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* About 250 keys of the daemon's own, 4 per concentrator and 4 per
 * device (at most 256 devices, daemon/devstats.h). */
#define CLI_STATUS_KEYS_MAX	1536
#define CLI_STATUS_KEY_MAX	48
#define CLI_STATUS_VAL_MAX	512
#define CLI_STATUS_FILE_MAX	(64 * 1024)
/* Devices listed by the text report (--json has all). */
#define CLI_DEVICES_SHOWN	8
/* Status older than this many rewrite periods: the daemon is not running. */
#define CLI_STALE_PERIODS	3

struct cli_kv {
	size_t	n;
	char	key[CLI_STATUS_KEYS_MAX][CLI_STATUS_KEY_MAX];
	char	val[CLI_STATUS_KEYS_MAX][CLI_STATUS_VAL_MAX];
};

/* What the render concluded. */
enum cli_health {
	CLI_OK = 0,		/* running, status fresh */
	CLI_DEAD = 1,		/* stopped, stale status, or no such pid */
};

/* Parses the file's text (len bytes).  Lines that are not key=value
 * are skipped; 0, or -EINVAL when there is no key at all. */
int	cli_status_parse(const char *text, size_t len, struct cli_kv *kv);
/* The value of key, or NULL. */
const char *cli_get(const struct cli_kv *kv, const char *key);
/* As an unsigned number; def when missing or not a number. */
uint64_t cli_get_u64(const struct cli_kv *kv, const char *key, uint64_t def);
int64_t	cli_get_i64(const struct cli_kv *kv, const char *key, int64_t def);

/* "512 B", "4.0 KiB", "12.3 MiB", "1.0 GiB". */
void	cli_fmt_bytes(char *buf, size_t sz, uint64_t bytes);
/* "45 s", "1 min 26 s", "2 h 03 min", "3 d 04 h". */
void	cli_fmt_duration(char *buf, size_t sz, uint64_t seconds);
/* "1,234,567". */
void	cli_fmt_count(char *buf, size_t sz, uint64_t n);
/* Seconds to drain left_bytes at rate bytes/s; -1 when unknown (no rate
 * measured yet). */
int64_t	cli_eta(uint64_t left_bytes, double rate);

/*
 * Writes the report.  age_s: how old the status file is (its mtime);
 * pid_alive: 1 yes, 0 no such process, -1 unknown; stale_s: age beyond
 * which the daemon counts as not running.  Returns the health verdict.
 */
enum cli_health cli_status_render(const struct cli_kv *kv, double age_s,
	    int pid_alive, double stale_s, FILE *out);

#endif
