/*
 * cloud.h - the documented limits of the clouds a fleet publishes to,
 * checked by `fieldbridged --check` (check.c) so that a configuration the
 * broker would refuse message by message is refused before it runs.
 *
 * Data flow: conf (mqtt.cloud, mqtt.host, batch.max_bytes, the topic
 * templates, username, alpn) -> cloud_check -> one line per problem.
 */
#ifndef FB_CLOUD_H
#define FB_CLOUD_H

#include <stdio.h>

struct conf;

/* mqtt.cloud, with "auto" resolved from the host name (CONF_CLOUD_*). */
int		 cloud_of(const struct conf *c);
const char	*cloud_name(int cloud);
/* Writes "PATH: what is wrong" lines to err; returns how many. */
int		 cloud_check(const char *conf_path, const struct conf *c,
		    FILE *err);

#endif
