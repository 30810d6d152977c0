/*
 * main.c - fieldbridged's command line.  The daemon itself is in loop.c
 * (in libfb.a, so tests link the same code); this file only parses
 * options.  There is no daemonizing: systemd runs it as Type=notify.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/conf.h"
#include "daemon/loop.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: fieldbridged [-c FILE] [--check] [-d|--debug] "
	    "[--no-sandbox] [--foreground]\n"
	    "       fieldbridged --tunables\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -t, --check        validate the configuration, registry, keys "
	    "and TLS files, then exit\n"
	    "  -d, --debug        log at debug level\n"
	    "      --no-sandbox   do not confine the process (development)\n"
	    "      --foreground   accepted for compatibility; fieldbridged "
	    "never forks\n"
	    "      --tunables     list every configuration setting\n",
	    CONF_PATH_DEFAULT);
}

int
main(int argc, char **argv)
{
	enum { OPT_NO_SANDBOX = 256, OPT_FOREGROUND, OPT_TUNABLES };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "tunables", no_argument, NULL, OPT_TUNABLES },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct loop_opts o = { .conf_path = CONF_PATH_DEFAULT };
	int ch, check = 0;

	while ((ch = getopt_long(argc, argv, "c:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf_path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'd':
			o.debug = 1;
			break;
		case OPT_NO_SANDBOX:
			o.no_sandbox = 1;
			break;
		case OPT_FOREGROUND:
			break;
		case OPT_TUNABLES:
			conf_print_tunables(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("fieldbridged %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return loop_check(o.conf_path, stdout, stderr);
	return loop_run(&o);
}
