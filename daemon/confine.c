/*
 * confine.c - fieldbridged sandboxed: the privileged parent
 * (sandbox/privsep_parent.c) and, in its child, the daemon loop (loop.c)
 * confined by sandbox/sandbox.c.
 *
 * Where it sits: main.c has loaded the configuration, initialised OpenSSL
 * and libmosquitto, checked the registry and connected the sd_notify
 * socket; then it calls confine_prepare() and confine_start().  From there:
 *
 *   parent (root, or the service user with CAP_SYS_CHROOT under systemd):
 *     copies the resolver files into STATE/etc and the TLS files into
 *     STATE/tls, mirrors timesyncd's clock flag into STATE/etc, loads its own
 *     seccomp filter, forks the child, restarts it with backoff, opens serial
 *     devices and the registry and keys files for it, refreshes the copies on
 *     SIGHUP and forwards SIGHUP/SIGTERM,
 *     and relays the child's sd_notify messages (notify.h).
 *   child:
 *     1. started by a root parent: becomes the service user at once,
 *        keeping only CAP_SYS_CHROOT, so nothing it creates in the state
 *        directory belongs to root (confine_become_user);
 *     2. loop_run -> loop_open: registry and keys through the parent,
 *        sequence file, spool, MQTT client, timers; TLS files by the
 *        relative paths tls/... (cwd: the state directory), named in
 *        messages as configured; unusable ones exit PRIVSEP_EXIT_FATAL;
 *     3. confine_hook: sandbox_confine (chroot, drop the capability,
 *        no_new_privs, the child's seccomp filter);
 *     4. the poll loop: each serial (re)open asks the parent; SIGHUP
 *        reloads the registry from the parent's bytes; the uplink re-reads
 *        tls/... before every connection and reconnects when they changed,
 *        so a renewed certificate is used at once; c-ares resolves the
 *        broker through the copies of etc/hosts and etc/resolv.conf;
 *        POLLHUP on the parent's socket ends the child.
 *
 * A child that cannot confine itself exits PRIVSEP_EXIT_FATAL: the parent
 * stops and systemd does not restart (RestartPreventExitStatus=78).
 */
#define LOG_MODULE	"confine"

#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>

#include "daemon/conf.h"
#include "daemon/confine.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/notify.h"
#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/sandbox.h"
#include "daemon/status.h"
#include "daemon/wallclock.h"
#include "policy/registry.h"
#include "radio/serial.h"
#include "radio/serlock.h"

#define CONFINE_SPOOL_DIR	"spool"

struct confine {
	const struct conf	*conf;		/* the parent's, host paths */
	struct sandbox_conf	 sc;
	const char		*serial_paths[CONF_CONCENTRATORS_MAX + 1];
	struct privsep_copy	 copies[PRIVSEP_COPIES_MAX];
	struct privsep_conf	 pc;
	struct privsep_child	*ch;		/* set in the child */
	struct loop_opts	 lo;
	char			 desc[64];
};

/* The uplink's resolver (c-ares) reads etc/hosts at every lookup and
 * etc/resolv.conf before every connection round; glibc would read them
 * too (docs/library-notes.md).  Optional: a host without resolv.conf still
 * resolves from etc/hosts. */
static const struct {
	const char	*src;
	const char	*dst;
} confine_etc[] = {
	{ "/etc/hosts", "etc/hosts" },
	{ "/etc/resolv.conf", "etc/resolv.conf" },
	{ "/etc/host.conf", "etc/host.conf" },
	{ "/etc/nsswitch.conf", "etc/nsswitch.conf" },
};

static void
confine_parent_log(int prio, const char *msg)
{
	log_msg(prio, "privsep", 0, "%s", msg);
}

/* privsep_notify_fn: the worker's READY=1, WATCHDOG=1, STATUS=, STOPPING=1
 * to systemd, which hears the main PID only (NotifyAccess=main). */
static int
confine_notify(const char *msg, size_t len)
{
	int r;

	if ((r = notify_relay_check(msg, len)) < 0)
		return r;
	(void)notify_send(msg);
	return 0;
}

/*
 * Started by a root parent: become the service user now, before the
 * loop creates anything in the state directory, keeping CAP_SYS_CHROOT
 * for sandbox_confine, which then finds the same situation as under
 * systemd (User= with an ambient CAP_SYS_CHROOT) and drops it.
 */
static int
confine_become_user(const struct sandbox_conf *sc)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	if (geteuid() != 0)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
	    setgroups(sc->ngids, sc->gids) != 0 ||
	    setresgid(sc->gid, sc->gid, sc->gid) != 0 ||
	    setresuid(sc->uid, sc->uid, sc->uid) != 0)
		return -errno;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = data[0].permitted = 1u << CAP_SYS_CHROOT;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		return -errno;
	return 0;
}

static int
confine_hook(void *arg)
{
	struct confine *cf = arg;
	char err[SANDBOX_ERR_LEN];
	int r;

	if ((r = sandbox_confine(&cf->sc, err, sizeof(err))) < 0) {
		log_errx("%s; exiting", err);
		return r;
	}
	/* Descriptors from the parent come as it opened them: raw mode and
	 * the speed are set here, as serial_open() does unconfined. */
	privsep_set_configure(cf->ch, serial_configure);
	log_info("confined: root %s, uid %u, seccomp %s",
	    cf->sc.state_dir, (unsigned int)getuid(),
	    sandbox_mode_name(cf->sc.mode));
	return 0;
}

_Static_assert(LOOP_EXIT_CONFIG == PRIVSEP_EXIT_FATAL,
    "the parent passes the worker's configuration errors on");
_Static_assert(PRIVSEP_SERIAL_MAX >= CONF_CONCENTRATORS_MAX,
    "the parent keeps a lock per concentrator");
_Static_assert(PRIVSEP_LOCK_KEY_MAX == SERLOCK_KEY_MAX,
    "a lock's name passes through the parent");

/* privsep's lock_serial: the UUCP lock in the parent's name. */
static int
confine_lock_serial(const char *path, char *key, char *holder,
    size_t holderlen)
{
	int r;

	if ((r = serlock_key(path, key, PRIVSEP_LOCK_KEY_MAX)) != 0)
		return r;
	return serlock_acquire(NULL, key, getpid(), holder, holderlen);
}

static void
confine_unlock_serial(const char *key)
{
	serlock_release(NULL, key, getpid());
}

static int
confine_open_serial(void *arg, const char *path, unsigned int baud)
{
	struct confine *cf = arg;

	return privsep_open_serial(cf->ch, path, baud);
}

/* The keys file's bytes, refused when group or others may read it, as
 * registry_load() does with a path. */
static int
confine_fetch_keys(struct confine *cf, uint8_t **bufp, size_t *lenp,
    char *err, size_t errlen)
{
	const char *path = cf->conf->keys;
	struct stat st;
	int fd, r;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = privsep_open_file(cf->ch, PRIVSEP_FILE_KEYS)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-fd));
		return fd;
	}
	if (fstat(fd, &st) != 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = -EPERM;
		snprintf(err, errlen, "%s: holds secrets but is accessible by "
		    "group or others (mode %04o); refusing it: run chmod 600 "
		    "%s", path, (unsigned int)(st.st_mode & 07777), path);
		goto out;
	}
	switch ((r = privsep_read_fd(fd, bufp, lenp))) {
	case 0:
		break;
	case -EFBIG:
		snprintf(err, errlen, "%s: too large", path);
		break;
	case -ENOMEM:
		snprintf(err, errlen, "%s: out of memory", path);
		break;
	case -EAGAIN:
		snprintf(err, errlen, "%s: changed while read; try again",
		    path);
		break;
	default:
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		break;
	}
out:
	close(fd);
	return r;
}

/* loop_opts.load_registry: the parent reads both files for us. */
static int
confine_load_registry(void *arg, struct registry **out, char *err,
    size_t errlen)
{
	struct confine *cf = arg;
	uint8_t *dev = NULL, *keys = NULL;
	size_t dlen = 0, klen = 0;
	int r;

	*out = NULL;
	if ((r = privsep_fetch_file(cf->ch, PRIVSEP_FILE_REGISTRY, &dev,
	    &dlen)) < 0) {
		snprintf(err, errlen, "%s: %s", cf->conf->registry,
		    strerror(-r));
		goto out;
	}
	if ((r = confine_fetch_keys(cf, &keys, &klen, err, errlen)) < 0)
		goto out;
	r = registry_load_mem(cf->conf->registry, (const char *)dev, dlen,
	    cf->conf->keys, (const char *)keys, klen, out, err, errlen);
out:
	privsep_bytes_free(dev, dlen);
	privsep_bytes_free(keys, klen);
	return r;
}

/* privsep's hangup, in the parent: it can read fieldbridge.conf. */
static void
confine_hangup(void *arg)
{
	struct confine *cf = arg;

	if (cf->lo.conf_path != NULL)
		loop_conf_changes(cf->lo.conf_path, cf->conf);
}

static int
confine_child_main(struct privsep_child *ch, void *arg)
{
	struct confine *cf = arg;
	int r;

	cf->ch = ch;
	cf->lo.parent_fd = privsep_child_fd(ch);
	/* Notifications go through the parent; the connection to systemd
	 * inherited from main() is closed. */
	if (privsep_child_notify_fd(ch) >= 0)
		notify_adopt(privsep_child_notify_fd(ch));
	/* The uplink's TLS copies (CONFINE_TLS_*) are relative to the state
	 * directory, before the chroot (loop_open loads them) and after it. */
	if (chdir(cf->sc.state_dir) != 0) {
		log_warn("cannot enter the state directory %s",
		    cf->sc.state_dir);
		return 1;
	}
	if ((r = confine_become_user(&cf->sc)) < 0) {
		log_errx("cannot become %s: %s", cf->sc.user, strerror(-r));
		return PRIVSEP_EXIT_FATAL;
	}
	return loop_run(&cf->lo);
}

/* The child's root: exists, is owned by the service user (it writes the
 * sequence file and status there), is writable by nobody else. */
static int
confine_state_dir(struct confine *cf, char *err, size_t errlen)
{
	const char *dir = cf->sc.state_dir;
	struct stat st;

	if (mkdir(dir, 0750) == 0) {
		if (geteuid() == 0 && chown(dir, cf->sc.uid, cf->sc.gid) != 0) {
			snprintf(err, errlen, "%s: chown to %s: %s", dir,
			    cf->sc.user, strerror(errno));
			return -errno;
		}
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "cannot create the state directory %s: "
		    "%s", dir, strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode) && st.st_uid != cf->sc.uid) {
		snprintf(err, errlen, "state directory %s belongs to uid %u, "
		    "not to %s, who must write there: chown %s %s (systemd's "
		    "StateDirectory= with User= does this)", dir,
		    (unsigned int)st.st_uid, cf->sc.user, cf->sc.user, dir);
		return -EPERM;
	}
	return sandbox_check_dir(dir, cf->sc.uid, err, errlen);
}

int
confine_prepare(const struct conf *c, const char *conf_path, int debug,
    enum sandbox_mode mode, struct confine **out, char *err, size_t errlen)
{
	struct confine *cf;
	struct privsep_copy *cp;
	size_t i, n = 0;
	int k, r;

	*out = NULL;
	if ((cf = calloc(1, sizeof(*cf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cf->conf = c;

	cf->sc.state_dir = c->state_dir;
	cf->sc.user = c->user;
	cf->sc.groups[0] = c->serial_group;
	/* Started as root: the worker keeps the status readers' group, if
	 * the package made it, to give them its status file (status.h). */
	if (getgrnam(STATUS_GROUP) != NULL)
		cf->sc.groups[1] = STATUS_GROUP;
	cf->sc.mode = mode;
	cf->sc.pdeathsig = SIGKILL;
	if ((r = sandbox_resolve(&cf->sc, err, errlen)) < 0 ||
	    (r = confine_state_dir(cf, err, errlen)) < 0 ||
	    (r = sandbox_make_dir(&cf->sc, CONFINE_SPOOL_DIR, err,
	    errlen)) < 0)
		goto fail;

	for (k = 0; k < c->nconc; k++)
		cf->serial_paths[k] = c->conc[k].path;
	cf->serial_paths[k] = NULL;
	for (i = 0; i < sizeof(confine_etc) / sizeof(confine_etc[0]); i++) {
		cp = &cf->copies[n++];
		cp->src = confine_etc[i].src;
		cp->dst = confine_etc[i].dst;
		cp->mode = 0644;
	}
	/* A certificate and its key change together, when the operator says
	 * so with SIGHUP (ExecReload=). */
	cp = &cf->copies[n++];
	cp->src = c->mqtt.ca;
	cp->dst = CONFINE_TLS_CA;
	cp = &cf->copies[n++];
	cp->src = c->mqtt.cert;
	cp->dst = CONFINE_TLS_CERT;
	cp = &cf->copies[n++];
	cp->src = c->mqtt.key;
	cp->dst = CONFINE_TLS_KEY;
	for (i = n - 3; i < n; i++) {
		cf->copies[i].mode = 0640;
		cf->copies[i].hup_only = 1;
		cf->copies[i].required = 1;
	}

	cf->pc.serial_paths = cf->serial_paths;
	cf->pc.lock_serial = confine_lock_serial;
	cf->pc.unlock_serial = confine_unlock_serial;
	cf->pc.files[PRIVSEP_FILE_REGISTRY] = c->registry;
	cf->pc.files[PRIVSEP_FILE_KEYS] = c->keys;
	cf->pc.state_dir = c->state_dir;
	cf->pc.copies = cf->copies;
	cf->pc.ncopies = n;
	cf->pc.copy_gid = cf->sc.gid;
	cf->pc.mode = mode;
	cf->pc.child_main = confine_child_main;
	cf->pc.child_arg = cf;
	cf->pc.log = confine_parent_log;
	if (notify_enabled())
		cf->pc.notify = confine_notify;
	cf->pc.hangup = confine_hangup;
	cf->pc.hangup_arg = cf;
	/* The child's second source for the clock's state (wallclock.h). */
	cf->pc.flag_src = WALLCLOCK_TIMESYNCD_FLAG;
#ifdef FB_TEST_HOOKS
	/* Test builds: the tests stand in for systemd-timesyncd. */
	if (getenv("FB_TEST_TIMESYNC_FLAG") != NULL)
		cf->pc.flag_src = getenv("FB_TEST_TIMESYNC_FLAG");
#endif
	cf->pc.flag_dst = WALLCLOCK_FLAG_COPY;

	snprintf(cf->desc, sizeof(cf->desc), "%s", sandbox_mode_name(mode));
	cf->lo.conf_path = conf_path;
	cf->lo.debug = debug;
	/* The configuration as written, TLS paths included, for messages;
	 * the uplink reads the copies. */
	cf->lo.conf = c;
	cf->lo.tls_ca = CONFINE_TLS_CA;
	cf->lo.tls_cert = CONFINE_TLS_CERT;
	cf->lo.tls_key = CONFINE_TLS_KEY;
	cf->lo.sandbox_desc = cf->desc;
	cf->lo.hook_arg = cf;
	cf->lo.confine = confine_hook;
	cf->lo.exit_confine = PRIVSEP_EXIT_FATAL;
	cf->lo.opener = confine_open_serial;
	cf->lo.load_registry = confine_load_registry;
	cf->lo.parent_fd = -1;
	*out = cf;
	return 0;
fail:
	free(cf);
	return r;
}

int
confine_start(struct confine *cf)
{
	if (cf->sc.mode == SANDBOX_MODE_OFF)
		log_warnx("SECCOMP FILTER OFF (--seccomp=off): chroot and "
		    "privilege drop only");
	else if (cf->sc.mode == SANDBOX_MODE_TRAP)
		log_warnx("seccomp in trap mode: refused syscalls are named "
		    "and fail with ENOSYS instead of killing; for building "
		    "the allowlist only");
	log_info("sandbox: user %s, root %s, seccomp %s", cf->sc.user,
	    cf->sc.state_dir, sandbox_mode_name(cf->sc.mode));
	return privsep_start(&cf->pc);
}

void
confine_free(struct confine *cf)
{
	free(cf);
}
