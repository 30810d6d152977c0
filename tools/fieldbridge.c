/*
 * fieldbridge - the technician's command line.  `fieldbridge ports` lists
 * the serial ports (tools/cli_ports.c).  First subcommand:
 *
 *	fieldbridge status [-c CONF | -s STATE_DIR] [--stale-after S]
 *
 * reads STATE_DIR/status, which the running daemon rewrites every
 * daemon.status_interval_s, and shows the spool (depth, oldest batch,
 * backlog draining with an ETA), the broker connection and the counters.
 * The state directory comes from -s, or from the configuration (-c, by
 * default /etc/fieldbridge/fieldbridge.conf).  It talks to nobody: the
 * daemon has no socket of any kind, so a status file is the interface.
 *
 * Exit status: 0 the daemon runs; 1 it does not (stopped, crashed, hung:
 * the status file is stale); 2 bad usage, no configuration, no status file.
 *
 *	fieldbridge decode [FILE]
 *
 * prints the JSON document of a published payload of any encoding
 * (tools/cli_decode.c).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/fsutil.h"
#include "daemon/status.h"
#include "tools/cli_check.h"
#include "tools/cli_decode.h"
#include "tools/cli_device.h"
#include "tools/cli_json.h"
#include "tools/cli_ports.h"
#include "tools/cli_status.h"

#define FB_STATUS_FILE		"status"
#define FB_STATUS_INTERVAL_S	5	/* daemon.status_interval_s default */

static void
usage(FILE *f)
{
	fprintf(f, "usage: fieldbridge status [-c CONF | -s STATE_DIR] "
	    "[--stale-after SECONDS] [--json]\n"
	    "  -c, --config FILE     the daemon's configuration (default %s)\n"
	    "  -s, --state-dir DIR   read DIR/status directly\n"
	    "      --stale-after S   status older than S seconds means the "
	    "daemon is not\n"
	    "                        running (default %d x the status "
	    "interval)\n"
	    "      --json            the status file's keys as one JSON object\n"
	    "exit status: 0 running, 1 not running, 2 error\n",
	    CONF_PATH_DEFAULT, CLI_STALE_PERIODS);
}

static int
read_status(const char *path, char *buf, size_t sz, size_t *len,
    double *age_s)
{
	struct stat st;
	struct timespec now;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if ((n = fsutil_read_full(fd, buf, sz)) < 0) {
		r = (int)n;
		goto out;
	}
	*len = (size_t)n;
	clock_gettime(CLOCK_REALTIME, &now);
	*age_s = (double)(now.tv_sec - st.st_mtim.tv_sec) +
	    (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
	if (*age_s < 0)
		*age_s = 0;
out:
	close(fd);
	return r;
}

static int
cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "stale-after", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = NULL, *state = NULL, *pidv;
	struct cli_kv *kv = NULL;
	struct conf *c = NULL;
	char *buf = NULL, *err = NULL, path[4200], *e;
	double age_s = 0, stale_s = -1;
	size_t len = 0;
	long pid;
	int ch, r, alive = -1, interval = FB_STATUS_INTERVAL_S, rc = 2, json = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 's':
			state = optarg;
			break;
		case 'S':
			stale_s = strtod(optarg, &e);
			if (*e != '\0' || stale_s <= 0) {
				fprintf(stderr, "fieldbridge: --stale-after: "
				    "\"%s\" is not a positive number\n", optarg);
				return 2;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (conf_path != NULL && state != NULL)) {
		usage(stderr);
		return 2;
	}
	if ((kv = malloc(sizeof(*kv))) == NULL ||
	    (buf = malloc(CLI_STATUS_FILE_MAX)) == NULL)
		goto oom;
	if (state == NULL) {
		if (conf_path == NULL)
			conf_path = CONF_PATH_DEFAULT;
		if ((c = malloc(sizeof(*c))) == NULL ||
		    (err = malloc(CONF_ERR_MAX)) == NULL)
			goto oom;
		if (conf_load(conf_path, c, err, CONF_ERR_MAX) != 0) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		state = c->state_dir;
		interval = c->daemon.status_interval_s;
	}
	if (stale_s < 0)
		stale_s = (double)(CLI_STALE_PERIODS * interval + 2);
	(void)snprintf(path, sizeof(path), "%s/%s", state, FB_STATUS_FILE);
	if ((r = read_status(path, buf, CLI_STATUS_FILE_MAX, &len, &age_s))
	    != 0) {
		fprintf(stderr, "fieldbridge: %s: %s%s\n", path, strerror(-r),
		    r == -ENOENT ? " (has fieldbridged ever run with this "
		    "state directory?)" : r == -EACCES ? " (readable by the "
		    "group " STATUS_GROUP ": ask to be added to it)" : "");
		goto out;
	}
	if (cli_status_parse(buf, len, kv) != 0) {
		fprintf(stderr, "fieldbridge: %s: not a status file\n", path);
		goto out;
	}
	if ((pidv = cli_get(kv, "pid")) != NULL &&
	    (pid = strtol(pidv, &e, 10)) > 0 && *e == '\0') {
		/* EPERM: it exists, under another user. */
		if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
			alive = 1;
		else if (errno == ESRCH)
			alive = 0;
	}
	if (json) {
		/* The same verdict as the report's (cli_status_render). */
		pidv = cli_get(kv, "state");
		rc = (pidv != NULL && strcmp(pidv, "stopped") == 0) ||
		    alive == 0 || age_s > stale_s;
		cli_json_status(buf, len, age_s, !rc, stdout);
	} else
		rc = cli_status_render(kv, age_s, alive, stale_s, stdout) ==
		    CLI_OK ? 0 : 1;
	goto out;
oom:
	fprintf(stderr, "fieldbridge: out of memory\n");
out:
	free(kv);
	free(buf);
	free(c);
	free(err);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "decode") == 0)
		return cli_decode_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ports") == 0)
		return cli_ports(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return cli_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "device") == 0)
		return cli_device(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "-V") == 0)) {
		printf("fieldbridge %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		printf("usage: fieldbridge COMMAND [options]\n"
		    "commands:\n"
		    "  check     everything the daemon would refuse or fail "
		    "on; --connect\n"
		    "  device    add ID --stream S [--name N], list, show ID, "
		    "revoke ID\n"
		    "  status    the running daemon, its spool and backlog\n"
		    "  ports     serial ports, their USB identity and the path "
		    "for the config;\n"
		    "            --probe: which driver answers on each\n"
		    "  decode    a published payload's JSON document\n");
		return 0;
	}
	fprintf(stderr, "usage: fieldbridge COMMAND [options]   (commands: "
	    "check, device, status, ports, decode)\n");
	return 2;
}
