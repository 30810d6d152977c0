/*
 * check.h - `fieldbridged --check` and `fieldbridge check`: everything the
 * daemon would refuse or fail on, found without starting it.  One
 * implementation for both commands (the CLI links it from libfb.a).
 */
#ifndef FB_CHECK_H
#define FB_CHECK_H

#include <stdio.h>
#include <sys/types.h>

#define CHECK_CONNECT	0x1	/* also one real connect + publish + PUBACK */

/* Exit statuses of a check (documented in fieldbridge(1)). */
#define CHECK_EXIT_OK		0	/* the daemon would start (and connect) */
#define CHECK_EXIT_FAIL		1	/* it would refuse, or not connect */

/* Where the findings go: problems and warnings on err, facts on out; the
 * counts decide the exit status. */
struct check_out {
	FILE	*out;
	FILE	*err;
	int	 errors;
	int	 warnings;
};

/* "AT: message" on err, counted as an error, a warning ("AT: warning:
 * ...") or a plain note on out.  AT is "FILE:LINE: key" or a path. */
void	check_error(struct check_out *o, const char *at, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	check_warn(struct check_out *o, const char *at, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	check_note(struct check_out *o, const char *at, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Whether the service user (uid, its groups gids[0..ngids-1]) may access
 * a file of this owner and mode: want is 4 (read), 2 (write) or 6. */
int	check_may(uid_t uid, const gid_t *gids, int ngids, uid_t owner,
	    gid_t group, mode_t mode, int want);

/* Validates the configuration at conf_path, the registry and keys it
 * names, the service user and group, each serial port, the TLS material
 * and, with CHECK_CONNECT, the broker; prints each problem as "FILE:LINE:
 * key: what is wrong; what to do" on err and "FILE: configuration OK" on
 * out when there is none.  Returns CHECK_EXIT_OK or CHECK_EXIT_FAIL. */
int	check_run(const char *conf_path, int flags, FILE *out, FILE *err);

struct conf;
/* The files the uplink needs (mqtt.ca, mqtt.cert, mqtt.key) can be read:
 * each one that cannot is printed on err as "CONF: KEY: cannot read PATH:
 * cause".  The daemon runs it at start too.  Returns 0 or -EINVAL. */
int	check_files(const char *conf_path, const struct conf *c, FILE *err);

#endif
