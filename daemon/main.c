/*
 * main.c - fieldbridged's command line and start-up.  The daemon itself is
 * in loop.c (in libfb.a, so tests link the same code); the sandboxed
 * process layout (privileged parent, confined child) in confine.c.  There
 * is no daemonizing: systemd runs it as Type=notify.
 *
 * Start-up order, as the sandbox needs it (docs/library-notes.md): everything
 * that reads a file outside the state directory lazily happens here, before the
 * fork and the chroot: the configuration, the time zone, OpenSSL's
 * configuration, libmosquitto's initialisation, a first registry load and
 * a look at the TLS files (to fail early and clearly, exiting
 * PRIVSEP_EXIT_FATAL), and the sd_notify socket, which the child
 * inherits.
 */
#define LOG_MODULE	"main"

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <openssl/ssl.h>

#include "daemon/check.h"
#include "daemon/conf.h"
#include "daemon/confine.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/notify.h"
#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/sandbox.h"
#include "policy/registry.h"

/*
 * LeakSanitizer's check at exit stops the world with a tracer thread and
 * ptrace, which both seccomp filters kill (docs/library-notes.md): sanitizer
 * builds turn it off while sandboxed, through the hook LSan looks up.
 */
#if defined(__SANITIZE_ADDRESS__)
#define MAIN_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAIN_ASAN	1
#endif
#endif
#ifdef MAIN_ASAN
static int main_filtered;

int	__lsan_is_turned_off(void);

int
__lsan_is_turned_off(void)
{
	return main_filtered;
}
#endif

static void
usage(FILE *f)
{
	fprintf(f, "usage: fieldbridged [-c FILE] [--check [--connect]] "
	    "[-d|--debug] "
	    "[--no-sandbox] [--seccomp=kill|trap|off] [--foreground]\n"
	    "       fieldbridged --tunables\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "  -t, --check        validate the configuration, registry, keys "
	    "user,\n"
	    "                     ports and TLS material, then exit (as "
	    "`fieldbridge check`)\n"
	    "      --connect      with --check: also connect, publish and "
	    "wait for PUBACK\n"
	    "  -d, --debug        log at debug level\n"
	    "      --no-sandbox   do not confine the process (development)\n"
	    "      --seccomp=MODE kill (default), trap (name refused syscalls, "
	    "for\n"
	    "                     building the allowlist) or off (valgrind)\n"
	    "      --foreground   accepted for compatibility; fieldbridged "
	    "never forks\n"
	    "      --tunables     list every configuration setting\n",
	    CONF_PATH_DEFAULT);
}

/* Everything before the fork; returns an exit status. */
static int
main_run(struct loop_opts *o, enum sandbox_mode mode)
{
	struct conf *c;
	struct registry *reg = NULL;
	struct confine *cf = NULL;
	char *err;
	int r;

	log_init(o->debug ? LOG_DEBUG : LOG_INFO);
	if ((c = malloc(sizeof(*c))) == NULL ||
	    (err = malloc(CONF_ERR_MAX)) == NULL)
		fatalx("out of memory");
	if (conf_load(o->conf_path, c, err, CONF_ERR_MAX) != 0) {
		log_errx_lines(err);
		goto fatal;
	}
	if (!o->debug)
		log_setlevel(c->log_level);
	/* Read lazily later, from paths the chroot hides. */
	tzset();
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
		fatalx("cannot initialise OpenSSL");
	(void)mosquitto_lib_init();
	if (registry_load(c->registry, c->keys, &reg, err, CONF_ERR_MAX) != 0) {
		log_errx("%s", err);
		goto fatal;
	}
	registry_free(reg);
	/* Before the parent copies them for the worker: named as configured. */
	if (check_files(o->conf_path, c, stderr) != 0) {
		log_errx("TLS files missing, see above");
		goto fatal;
	}
	if ((r = notify_open()) != 0)
		log_warnx("cannot connect to $NOTIFY_SOCKET: %s, not notifying "
		    "systemd", strerror(-r));
	o->conf = c;
	if (o->no_sandbox) {
		free(err);
		r = loop_run(o);
		free(c);
		return r;
	}
	if (confine_prepare(c, o->conf_path, o->debug, mode, &cf, err,
	    CONF_ERR_MAX) != 0) {
		log_errx("%s", err);
		goto fatal;
	}
	free(err);
#ifdef MAIN_ASAN
	main_filtered = mode != SANDBOX_MODE_OFF;
#endif
	r = confine_start(cf);
	confine_free(cf);
	free(c);
	return r;
fatal:
	/* A configuration no restart mends: EX_CONFIG, nothing left held. */
	free(err);
	free(c);
	return PRIVSEP_EXIT_FATAL;
}

int
main(int argc, char **argv)
{
	enum { OPT_NO_SANDBOX = 256, OPT_FOREGROUND, OPT_TUNABLES, OPT_SECCOMP,
	    OPT_PRINT_SECCOMP, OPT_CONNECT };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "connect", no_argument, NULL, OPT_CONNECT },
		{ "debug", no_argument, NULL, 'd' },
		{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
		{ "foreground", no_argument, NULL, OPT_FOREGROUND },
		{ "tunables", no_argument, NULL, OPT_TUNABLES },
		{ "seccomp", required_argument, NULL, OPT_SECCOMP },
		/* Hidden: the filter for review, "=parent" for the parent's. */
		{ "print-seccomp", optional_argument, NULL, OPT_PRINT_SECCOMP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct loop_opts o = LOOP_OPTS_INIT;
	enum sandbox_mode mode = sandbox_mode_default();
	enum sandbox_role role;
	int ch, check = 0;

	o.conf_path = CONF_PATH_DEFAULT;
	while ((ch = getopt_long(argc, argv, "c:tdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.conf_path = optarg;
			break;
		case 't':
			check |= 1;
			break;
		case OPT_CONNECT:
			check |= 2;
			break;
		case 'd':
			o.debug = 1;
			break;
		case OPT_NO_SANDBOX:
			o.no_sandbox = 1;
			break;
		case OPT_FOREGROUND:
			break;
		case OPT_SECCOMP:
			if (sandbox_mode_parse(optarg, &mode) != 0) {
				fprintf(stderr, "fieldbridged: --seccomp: "
				    "\"%s\" is not kill, trap or off\n", optarg);
				return 2;
			}
			break;
		case OPT_PRINT_SECCOMP:
			if (optarg != NULL && strcmp(optarg, "parent") != 0) {
				usage(stderr);
				return 2;
			}
			role = optarg != NULL ? SANDBOX_ROLE_PARENT :
			    SANDBOX_ROLE_CHILD;
			return sandbox_filter_print(role, STDOUT_FILENO) < 0;
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
	if (check == 2) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_run(o.conf_path, check & 2 ? CHECK_CONNECT : 0,
		    stdout, stderr);
	return main_run(&o, mode);
}
