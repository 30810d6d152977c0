/*
 * loop.h - the daemon proper: loads the configuration, opens everything,
 * wires concentrators -> identity -> batcher -> queue -> uplink, and runs
 * the one poll() loop until a signal ends it.  main.c only parses the
 * command line.
 */
#ifndef FB_LOOP_H
#define FB_LOOP_H

#include <stddef.h>
#include <stdio.h>

#include "radio/port.h"

struct conf;
struct registry;

struct loop_opts {
	const char	*conf_path;
	int		 debug;		/* log at debug level */
	int		 no_sandbox;	/* skip confinement (development): the
					 * loop says so loudly, in the log
					 * every few minutes and in status */

	/* Hooks of the confined child (main.c, confine.c); all optional. */
	const struct conf *conf;	/* use this, do not load conf_path */
	const char	*sandbox_desc;	/* "sandbox=" line of the status file */
	void		*hook_arg;
	/* Called once everything is open, before the first serial byte or
	 * network packet: chroot, drop privileges, seccomp.  Non-zero: the
	 * loop logs and returns exit_confine. */
	int		(*confine)(void *arg);
	int		 exit_confine;
	/* How each port gets its fd (the privileged parent); NULL: opens the
	 * configured path itself. */
	port_opener_fn	*opener;
	/* Loads the registry at start and on SIGHUP (the parent hands over
	 * the bytes); NULL: registry_load of the configured paths. */
	int		(*load_registry)(void *arg, struct registry **out,
			    char *err, size_t errlen);
	/* Watched for POLLHUP: the parent is gone, so stop (-1: none). */
	int		 parent_fd;
	/* Where the uplink reads the CA, certificate and key (the parent's
	 * copies, relative to the state directory); NULL: the configured
	 * paths.  Messages name the configured paths either way. */
	const char	*tls_ca, *tls_cert, *tls_key;
};

/*
 * The exit status of a configuration the worker cannot use (sysexits'
 * EX_CONFIG): the TLS material, the registry, a setting.  A restart
 * cannot mend it, so the privsep parent passes it on (it is
 * PRIVSEP_EXIT_FATAL) and systemd does not restart
 * (RestartPreventExitStatus=78).
 */
#define LOOP_EXIT_CONFIG	78

/*
 * fieldbridge.conf is read at start only: logs, for each setting of path
 * whose value differs from running, that it needs a restart (or that the
 * file now has errors).  On SIGHUP, by whichever process can read path.
 */
void	loop_conf_changes(const char *path, const struct conf *running);

/* Run the daemon; returns the exit status.  Initialise o with
 * LOOP_OPTS_INIT. */
#define LOOP_OPTS_INIT	{ .conf_path = NULL, .parent_fd = -1, .exit_confine = 1 }
int	loop_run(const struct loop_opts *o);

#endif
