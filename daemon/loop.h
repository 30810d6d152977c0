/*
 * loop.h - the daemon proper: loads the configuration, opens everything,
 * wires concentrators -> identity -> batcher -> queue -> uplink, and runs
 * the one poll() loop until a signal ends it.  main.c only parses the
 * command line.
 */
#ifndef FB_LOOP_H
#define FB_LOOP_H

#include <stdio.h>

struct loop_opts {
	const char	*conf_path;
	int		 debug;		/* log at debug level */
	int		 no_sandbox;	/* skip confinement (development) */
};

/* `fieldbridged --check`: validate the config, the registry and keys, the
 * TLS files and driver names; print "FILE: configuration OK" on out or
 * the problems on err.  Returns the exit status (0 or 1). */
int	loop_check(const char *conf_path, FILE *out, FILE *err);
/* Run the daemon; returns the exit status. */
int	loop_run(const struct loop_opts *o);

#endif
