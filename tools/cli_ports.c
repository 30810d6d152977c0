/*
 * cli_ports.c - `fieldbridge ports [--probe] [PATH...]`: the serial ports
 * a technician can choose from, with their USB identity and the stable
 * /dev/serial/by-id path to paste into the config, and with --probe which
 * driver answers on each.
 *
 * Data flow: libserialport's list (radio/serial.c, serial_enumerate), or
 * the paths given -> one block per port on stdout.  --probe opens each
 * line, takes its advisory lock (the daemon holds that lock on every line
 * it has open, serial_configure(): a held line is reported and left
 * alone, not a byte written to it), and asks in each dialect in turn for
 * the module's version, at that driver's line speed (radio_driver's baud,
 * probe_cmd, probe_reply).  An FBSP concentrator is not asked: its
 * protocol has no harmless question (a RESET would drop its state).
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "radio/radio.h"
#include "radio/serial.h"
#include "tools/cli_ports.h"

#define CLI_PORTS_MAX		64
#define CLI_PROBE_WAIT_MS	700	/* for an answer, per dialect */
#define CLI_PROBE_LINE_MAX	256

/* CLOCK_MONOTONIC in ms: tools/ may not take daemon/mono.h (layering). */
static uint64_t
cli_ports_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Ask one dialect; 1 and its answer line when it answers, else 0. */
static int
cli_probe_one(int fd, const struct radio_driver *d, char *answer, size_t len)
{
	char buf[CLI_PROBE_LINE_MAX];
	size_t n = 0, i, plen = strlen(d->probe_reply);
	uint64_t until;
	struct pollfd pfd;
	ssize_t k;

	if (serial_configure(fd, d->baud) != 0)
		return 0;
	/* A line end first ends any half command the module holds. */
	if (write(fd, "\r\n", 2) != 2 ||
	    write(fd, d->probe_cmd, strlen(d->probe_cmd)) !=
	    (ssize_t)strlen(d->probe_cmd))
		return 0;
	until = cli_ports_ms() + CLI_PROBE_WAIT_MS;
	while (cli_ports_ms() < until) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		if ((k = read(fd, buf + n, sizeof(buf) - 1 - n)) <= 0)
			continue;
		n += (size_t)k;
		for (;;) {
			char *nl = memchr(buf, '\n', n);
			size_t l;

			if (nl == NULL)
				break;
			l = (size_t)(nl - buf);
			if (l > 0 && buf[l - 1] == '\r')
				l--;
			if (l >= plen && memcmp(buf, d->probe_reply, plen) == 0) {
				for (i = 0; i < l && i + 1 < len; i++)
					answer[i] = buf[i] >= 0x20 &&
					    buf[i] < 0x7f ? buf[i] : '?';
				answer[i] = '\0';
				return 1;
			}
			n -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, n);
		}
		if (n == sizeof(buf) - 1)
			n = 0;		/* noise without a line end */
	}
	return 0;
}

int
cli_ports_probe(const char *path, char *driver, size_t dlen, char *answer,
    size_t alen)
{
	const struct radio_driver *const *d;
	int fd, r = 0;

	driver[0] = '\0';
	answer[0] = '\0';
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		(void)close(fd);
		return r;
	}
	for (d = radio_drivers(); *d != NULL && r == 0; d++) {
		if ((*d)->probe_cmd == NULL)
			continue;
		if (cli_probe_one(fd, *d, answer, alen)) {
			(void)snprintf(driver, dlen, "%s", (*d)->name);
			r = 1;
		}
	}
	(void)close(fd);
	return r;
}

static void
cli_ports_show(const struct serial_info *si, int probe, FILE *out)
{
	char drv[32], answer[CLI_PROBE_LINE_MAX];
	int r;

	fprintf(out, "%s\n", si->path);
	if (si->desc[0] != '\0')
		fprintf(out, "  description  %s\n", si->desc);
	if (si->usb)
		fprintf(out, "  usb          %04x:%04x  manufacturer \"%s\"  "
		    "product \"%s\"  serial \"%s\"\n", si->vid, si->pid,
		    si->manufacturer, si->product, si->serial);
	fprintf(out, "  config path  %s%s\n",
	    si->by_id[0] != '\0' ? si->by_id : si->path,
	    si->by_id[0] != '\0' ? "" : "  (no /dev/serial/by-id link: the "
	    "name may change when re-plugged)");
	if (!probe)
		return;
	r = cli_ports_probe(si->path, drv, sizeof(drv), answer,
	    sizeof(answer));
	if (r == 1)
		fprintf(out, "  driver       %s  (%s)\n", drv, answer);
	else if (r == -EBUSY)
		fprintf(out, "  driver       in use (a running fieldbridged "
		    "holds it): not probed\n");
	else if (r < 0)
		fprintf(out, "  driver       cannot open: %s\n", strerror(-r));
	else
		fprintf(out, "  driver       no module answered (an FBSP "
		    "concentrator is not asked)\n");
}

static void
cli_ports_usage(FILE *f)
{
	fprintf(f, "usage: fieldbridge ports [--probe] [PATH...]\n"
	    "  every serial port (or the PATHs given): USB VID:PID, "
	    "manufacturer,\n"
	    "  product, serial number and the path to put in the config\n"
	    "  --probe   also ask which driver answers (lines a running "
	    "daemon holds\n"
	    "            are left alone)\n");
}

int
cli_ports(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "probe", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct serial_info *si;
	int ch, probe = 0, i, n;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ph", lo, NULL)) != -1) {
		switch (ch) {
		case 'p':
			probe = 1;
			break;
		case 'h':
			cli_ports_usage(stdout);
			return 0;
		default:
			cli_ports_usage(stderr);
			return 2;
		}
	}
	if ((si = calloc(CLI_PORTS_MAX, sizeof(*si))) == NULL)
		return 2;
	if (optind < argc) {
		/* Paths given (a pty, a link): no USB identity to look up
		 * unless libserialport knows the device behind it. */
		for (i = optind; i < argc; i++) {
			memset(&si[0], 0, sizeof(si[0]));
			(void)snprintf(si[0].path, sizeof(si[0].path), "%s",
			    argv[i]);
			(void)serial_describe(argv[i], si[0].desc,
			    sizeof(si[0].desc));
			(void)serial_by_id(argv[i], si[0].by_id);
			cli_ports_show(&si[0], probe, stdout);
		}
		free(si);
		return 0;
	}
	if ((n = serial_enumerate(si, CLI_PORTS_MAX)) < 0) {
		fprintf(stderr, "fieldbridge: cannot list serial ports: %s\n",
		    strerror(-n));
		free(si);
		return 2;
	}
	if (n == 0)
		printf("no serial ports found\n");
	for (i = 0; i < n && i < CLI_PORTS_MAX; i++)
		cli_ports_show(&si[i], probe, stdout);
	free(si);
	return 0;
}
