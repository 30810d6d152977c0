/*
 * check.h - `fieldbridged --check`: validate without starting.
 */
#ifndef FB_CHECK_H
#define FB_CHECK_H

#include <stdio.h>

/* Validates the configuration at conf_path, the registry and keys it
 * names, its TLS files, and describes each concentrator's line; prints
 * "FILE: configuration OK" on out, or each problem on err.  Returns the
 * exit status: 0, or 1 when the daemon would refuse to start. */
int	check_run(const char *conf_path, FILE *out, FILE *err);

struct conf;
/* The files the uplink needs (mqtt.ca, mqtt.cert, mqtt.key) can be read:
 * each one that cannot is printed on err as "CONF: KEY: cannot read PATH:
 * cause".  The daemon runs it at start too.  Returns 0 or -EINVAL. */
int	check_files(const char *conf_path, const struct conf *c, FILE *err);

#endif
