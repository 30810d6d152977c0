/*
 * cli_check.c - `fieldbridge check [-c FILE] [--connect]`: everything the
 * daemon would refuse or fail on, as `fieldbridged --check` finds it (the
 * same code, daemon/check.c), each as "FILE:LINE: key: what; what to do".
 *
 * Exit status: 0 the daemon would start (and, with --connect, deliver);
 * 1 it would not; 2 bad usage.
 */
#include <getopt.h>
#include <stdio.h>

#include "daemon/check.h"
#include "daemon/conf.h"
#include "tools/cli_check.h"

static void
cli_check_usage(FILE *f)
{
	fprintf(f, "usage: fieldbridge check [-c FILE] [--connect]\n"
	    "  -c, --config FILE  the daemon's configuration (default %s)\n"
	    "      --connect      also connect to the broker with it: TLS, "
	    "CONNECT,\n"
	    "                     one QoS 1 publish on PREFIX/GATEWAY/check, "
	    "PUBACK\n"
	    "exit status: 0 the daemon would start (and connect), 1 it would "
	    "not,\n"
	    "             2 usage\n", CONF_PATH_DEFAULT);
}

int
cli_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "connect", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = CONF_PATH_DEFAULT;
	int ch, flags = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'C':
			flags |= CHECK_CONNECT;
			break;
		case 'h':
			cli_check_usage(stdout);
			return 0;
		default:
			cli_check_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cli_check_usage(stderr);
		return 2;
	}
	return check_run(conf_path, flags, stdout, stderr);
}
