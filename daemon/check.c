/*
 * check.c - `fieldbridged --check` and `fieldbridge check`: everything the
 * daemon would refuse at start-up or fail on later, found without starting
 * it, so a technician can fix a gateway before restarting the service.
 * One implementation: the CLI links this file from libfb.a.
 *
 * In order: the configuration (conf.c: FILE:LINE for every problem), the
 * registry and keys (policy/registry.c, including the keys file's mode),
 * the service user and serial group, the keys file's owner, each
 * concentrator's line as the service user would open it (owner, mode, and
 * who holds it when busy), the TLS material (tlscheck.c) and, on request,
 * one real connection to the broker.  Every finding is "FILE:LINE: key:
 * what is wrong; what to do" (the line of the setting, looked up with
 * libconfig).  It runs unconfined, as whoever calls it, and writes
 * nothing.  Files and lines are opened as the service user (a child with
 * its ids when we are root), since that is who the shipped unit runs.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/check.h"
#include "daemon/cloud.h"
#include "daemon/conf.h"
#include "daemon/tlscheck.h"
#include "daemon/wallclock.h"
#include "policy/registry.h"
#include "radio/serial.h"
#include "radio/serlock.h"

#define CHECK_AT_MAX		(PATH_MAX + 64)	/* "FILE:LINE: key" */
#define CHECK_GROUPS_MAX	64		/* of the service user */
#define CHECK_COMM_MAX		64
#define CHECK_HOLDERS_MAX	256		/* "pid N (comm), ..." */
/* The device names the shipped unit's DeviceAllow= lets the daemon open
 * (systemd/fieldbridge.service). */
static const char *const check_unit_devices[] = {
	"ttyUSB", "ttyACM", "ttyS", NULL
};

static void
check_vprint(FILE *f, const char *at, const char *kind, const char *fmt,
    va_list ap)
{
	fprintf(f, "%s: %s", at, kind);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

void
check_error(struct check_out *o, const char *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vprint(o->err, at, "", fmt, ap);
	va_end(ap);
	o->errors++;
}

void
check_warn(struct check_out *o, const char *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vprint(o->err, at, "warning: ", fmt, ap);
	va_end(ap);
	o->warnings++;
}

void
check_note(struct check_out *o, const char *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vprint(o->out, at, "", fmt, ap);
	va_end(ap);
}

int
check_may(uid_t uid, const gid_t *gids, int ngids, uid_t owner, gid_t group,
    mode_t mode, int want)
{
	int i, bits;

	if (uid == 0)
		return 1;
	if (owner == uid)
		bits = (int)(mode >> 6) & 7;
	else {
		bits = (int)mode & 7;
		for (i = 0; i < ngids; i++)
			if (gids[i] == group) {
				bits = (int)(mode >> 3) & 7;
				break;
			}
	}
	return (bits & want) == want;
}

int
check_files(const char *conf_path, const struct conf *c, FILE *err)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} files[] = {
		{ "mqtt.ca", offsetof(struct conf, mqtt.ca) },
		{ "mqtt.cert", offsetof(struct conf, mqtt.cert) },
		{ "mqtt.key", offsetof(struct conf, mqtt.key) },
	};
	const char *path;
	size_t i;
	int fd, bad = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = (const char *)c + files[i].off;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(err, "%s: %s: cannot read %s: %s\n", conf_path,
			    files[i].key, path, strerror(errno));
			bad = 1;
		} else
			close(fd);
	}
	return bad ? -EINVAL : 0;
}

/* What a check needs to know besides the configuration. */
struct check_ctx {
	struct check_out	 o;
	const char		*conf_path;
	const struct conf	*c;
	config_t		 cf;		/* for the lines of settings */
	int			 have_cf;
	const struct passwd	*pw;
	uid_t			 uid;
	gid_t			 gids[CHECK_GROUPS_MAX];
	int			 ngids;
};

/* "FILE:LINE: key" for a setting; the file alone when it cannot be
 * found (a default). */
static const char *
check_at(struct check_ctx *x, const char *key, char *buf, size_t sz)
{
	config_setting_t *s = NULL;

	if (x->have_cf)
		s = config_lookup(&x->cf, key);
	if (s != NULL && config_setting_source_line(s) > 0)
		(void)snprintf(buf, sz, "%s:%u: %s",
		    config_setting_source_file(s) != NULL ?
		    config_setting_source_file(s) : x->conf_path,
		    config_setting_source_line(s), key);
	else
		(void)snprintf(buf, sz, "%s: %s", x->conf_path, key);
	return buf;
}

/* The service user and its groups, as the daemon will run. */
static void
check_user(struct check_ctx *x)
{
	const struct conf *c = x->c;
	struct group *gr;
	char at[CHECK_AT_MAX];
	gid_t g;
	int n = CHECK_GROUPS_MAX;

	errno = 0;
	if ((x->pw = getpwnam(c->user)) == NULL) {
		check_error(&x->o, check_at(x, "user", at, sizeof(at)),
		    "no such user \"%s\": create it (the Debian package does, "
		    "with systemd-sysusers) or name an existing one", c->user);
		return;
	}
	x->uid = x->pw->pw_uid;
	g = x->pw->pw_gid;
	if (getgrouplist(c->user, g, x->gids, &n) < 0)
		n = 0;
	x->ngids = n;
	errno = 0;
	if ((gr = getgrnam(c->serial_group)) == NULL) {
		check_error(&x->o, check_at(x, "serial_group", at, sizeof(at)),
		    "no such group \"%s\": name the group that owns the serial "
		    "devices (`ls -l /dev/ttyUSB0`; Debian: dialout)",
		    c->serial_group);
		return;
	}
	/* The daemon joins the serial group itself (confine.c). */
	if (x->ngids < CHECK_GROUPS_MAX)
		x->gids[x->ngids++] = gr->gr_gid;
}

/*
 * Opens path with flags as the service user would: in a child that takes
 * the user's ids when we are root, directly when we are that user, or
 * judged by owner and mode otherwise.  With lock, also asks for the
 * advisory lock the daemon takes on a serial line (radio/serial.c).
 * Returns 0, -errno of the open, or -EWOULDBLOCK when the lock is held.
 */
static int
check_open_as(const struct check_ctx *x, const char *path, int flags,
    int lock)
{
	struct stat st;
	pid_t pid;
	int fd, r = 0, status;

	if (geteuid() == 0 && x->uid != 0) {
		if ((pid = fork()) < 0)
			return -errno;
		if (pid == 0) {
			if (setgroups((size_t)x->ngids, x->gids) != 0 ||
			    setresgid(x->pw->pw_gid, x->pw->pw_gid,
			    x->pw->pw_gid) != 0 ||
			    setresuid(x->uid, x->uid, x->uid) != 0)
				_exit(EPERM);
			if ((fd = open(path, flags | O_CLOEXEC)) < 0)
				_exit(errno);
			_exit(lock && flock(fd, LOCK_EX | LOCK_NB) != 0 ?
			    EWOULDBLOCK : 0);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return -errno;
		return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
	}
	if (geteuid() == x->uid) {
		if ((fd = open(path, flags | O_CLOEXEC)) < 0)
			return -errno;
		if (lock && flock(fd, LOCK_EX | LOCK_NB) != 0)
			r = -EWOULDBLOCK;
		close(fd);
		return r;
	}
	if (stat(path, &st) != 0)
		return -errno;
	return check_may(x->uid, x->gids, x->ngids, st.st_uid, st.st_gid,
	    st.st_mode, (flags & O_ACCMODE) == O_RDONLY ? 4 : 6) ? 0 : -EACCES;
}

/* The processes other than us holding rdev open, as "PID (COMM)" in buf;
 * *daemon set when one of them is fieldbridged.  Returns their count. */
static int
check_holders(dev_t rdev, char *buf, size_t sz, int *daemon)
{
	char path[PATH_MAX], comm[CHECK_COMM_MAX];
	struct dirent *p, *f;
	struct stat st;
	DIR *pd, *fd;
	FILE *cf;
	size_t used = 0;
	long pid;
	int n = 0, hit, w;
	char *e;

	buf[0] = '\0';
	*daemon = 0;
	if ((pd = opendir("/proc")) == NULL)
		return 0;
	while ((p = readdir(pd)) != NULL) {
		pid = strtol(p->d_name, &e, 10);
		if (*e != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		if ((fd = opendir(path)) == NULL)
			continue;
		hit = 0;
		while (!hit && (f = readdir(fd)) != NULL) {
			(void)snprintf(path, sizeof(path), "/proc/%ld/fd/%s",
			    pid, f->d_name);
			hit = f->d_name[0] != '.' && stat(path, &st) == 0 &&
			    S_ISCHR(st.st_mode) && st.st_rdev == rdev;
		}
		closedir(fd);
		if (!hit)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		(void)snprintf(comm, sizeof(comm), "?");
		if ((cf = fopen(path, "re")) != NULL) {
			if (fgets(comm, sizeof(comm), cf) == NULL)
				(void)snprintf(comm, sizeof(comm), "?");
			comm[strcspn(comm, "\n")] = '\0';
			fclose(cf);
		}
		if (strcmp(comm, "fieldbridged") == 0)
			*daemon = 1;
		w = snprintf(buf + used, sz - used, "%spid %ld (%s)",
		    n > 0 ? ", " : "", pid, comm);
		if (w > 0 && (size_t)w < sz - used)
			used += (size_t)w;
		n++;
	}
	closedir(pd);
	return n;
}

/*
 * Each concentrator's line: whether it exists (a missing device is not
 * an error: the daemon keeps trying to open it), whether the service user
 * can open it and take the daemon's lock, who else holds it, whether the
 * shipped unit lets the daemon have it, and its USB identity
 * (libserialport, which needs /sys).  Opening a line raises DTR, which
 * resets some boards; a line the running daemon holds is not disturbed.
 */
static void
check_ports(struct check_ctx *x)
{
	const struct conf_concentrator *cc;
	struct stat st;
	struct group *gr;
	char usb[256], at[CHECK_AT_MAX], key[64], real[PATH_MAX];
	char who[CHECK_HOLDERS_MAX], lockwho[SERLOCK_HOLDER_MAX];
	char lkey[SERLOCK_KEY_MAX];
	char *base;
	int k, i, r, daemon, n;

	for (k = 0; k < x->c->nconc; k++) {
		cc = &x->c->conc[k];
		(void)snprintf(key, sizeof(key), "concentrators.[%d].path", k);
		(void)check_at(x, key, at, sizeof(at));
		if (stat(cc->path, &st) != 0) {
			fprintf(x->o.out, "%s: %s: %s; the daemon will keep "
			    "trying to open it\n", cc->name, cc->path,
			    strerror(errno));
			continue;
		}
		if (!S_ISCHR(st.st_mode)) {
			check_error(&x->o, at, "%s: %s is not a character "
			    "device; the daemon cannot read a concentrator from "
			    "it", cc->name, cc->path);
			continue;
		}
		n = check_holders(st.st_rdev, who, sizeof(who), &daemon);
		/* The line's UUCP lock (radio/serlock.c): whoever holds it,
		 * the daemon will not open the line. */
		if (serlock_key(cc->path, lkey, sizeof(lkey)) == 0 &&
		    serlock_holder(NULL, lkey, getpid(), lockwho,
		    sizeof(lockwho)) == 1) {
			check_error(&x->o, at, "%s: %s: in use by %s (its lock in "
			    "%s); the daemon will not read it until that ends",
			    cc->name, cc->path, lockwho, SERLOCK_DIR);
			continue;
		}
		r = x->pw != NULL ? check_open_as(x, cc->path,
		    O_RDWR | O_NOCTTY | O_NONBLOCK, 1) : 0;
		if (r == -EACCES || r == -EPERM) {
			gr = getgrgid(st.st_gid);
			check_error(&x->o, at, "%s: %s is not permitted to user "
			    "\"%s\" (owner uid %u, group %s, mode %04o): set "
			    "serial_group to \"%s\", or add a udev rule giving "
			    "the device to group \"%s\"", cc->name, cc->path,
			    x->c->user, (unsigned)st.st_uid,
			    gr != NULL ? gr->gr_name : "?",
			    (unsigned)(st.st_mode & 07777),
			    gr != NULL ? gr->gr_name : "?",
			    x->c->serial_group);
		} else if ((r == -EBUSY || r == -EWOULDBLOCK) && daemon)
			check_note(&x->o, at, "%s: %s is in use by the running "
			    "fieldbridged (%s)", cc->name, cc->path, who);
		else if (r == -EBUSY || r == -EWOULDBLOCK)
			check_error(&x->o, at, "%s: %s is busy: held by %s; stop "
			    "that program (a serial console, ModemManager, "
			    "another gateway program) so that fieldbridged "
			    "alone reads the line", cc->name, cc->path,
			    n > 0 ? who : "a process this user cannot see");
		else if (r != 0)
			check_error(&x->o, at, "%s: %s cannot be opened as user "
			    "\"%s\": %s", cc->name, cc->path, x->c->user,
			    strerror(-r));
		else if (n > 0 && !daemon)
			check_warn(&x->o, at, "%s: %s is also open in %s: two "
			    "readers split the bytes between them", cc->name,
			    cc->path, who);
		if (realpath(cc->path, real) != NULL) {
			base = basename(real);
			for (i = 0; check_unit_devices[i] != NULL; i++)
				if (strncmp(base, check_unit_devices[i],
				    strlen(check_unit_devices[i])) == 0)
					break;
			if (check_unit_devices[i] == NULL)
				check_warn(&x->o, at, "%s: %s is %s, which the "
				    "shipped unit's DeviceAllow= does not "
				    "admit: add `DeviceAllow=%s rw` in a "
				    "drop-in (`systemctl edit fieldbridge`)",
				    cc->name, cc->path, real, real);
		}
		if (serial_describe(cc->path, usb, sizeof(usb)) == 0)
			fprintf(x->o.out, "%s: %s: %s\n", cc->name, cc->path,
			    usb);
		else
			fprintf(x->o.out, "%s: %s: a serial line without USB "
			    "identity (a built-in UART or a pseudo-terminal)\n",
			    cc->name, cc->path);
	}
}

/* Files the daemon's parent reads (registry, keys, TLS) as the service
 * user, which it is under the shipped unit: owner and mode. */
static void
check_readable(struct check_ctx *x, const char *key, const char *path,
    int secret)
{
	char at[CHECK_AT_MAX];
	struct stat st;
	int r;

	if (stat(path, &st) != 0 || x->pw == NULL)
		return;		/* reported by the loaders */
	(void)check_at(x, key, at, sizeof(at));
	if ((r = check_open_as(x, path, O_RDONLY, 0)) != 0)
		check_error(&x->o, at, "%s cannot be read by user \"%s\", as "
		    "whom the shipped unit runs the daemon (%s; uid %u owns "
		    "it, mode %04o): `chown %s %s`", path, x->c->user,
		    strerror(-r), (unsigned)st.st_uid,
		    (unsigned)(st.st_mode & 07777), x->c->user, path);
	else if (secret && st.st_uid != 0 && st.st_uid != x->uid)
		check_error(&x->o, at, "%s holds secrets but is owned by uid "
		    "%u, neither root nor \"%s\": `chown %s %s`", path,
		    (unsigned)st.st_uid, x->c->user, x->c->user, path);
}

static void
check_tls(struct check_ctx *x, int flags)
{
	char a[4][CHECK_AT_MAX];
	struct tlscheck_at at;
	enum wallclock_source src;
	int synced;

	at.ca = check_at(x, "mqtt.ca", a[0], sizeof(a[0]));
	at.cert = check_at(x, "mqtt.cert", a[1], sizeof(a[1]));
	at.key = check_at(x, "mqtt.key", a[2], sizeof(a[2]));
	at.host = check_at(x, "mqtt.host", a[3], sizeof(a[3]));
	synced = wallclock_check(WALLCLOCK_TIMESYNCD_FLAG, &src);
	check_note(&x->o, x->conf_path, "the clock is %sNTP-synchronised (%s)",
	    synced ? "" : "NOT ", wallclock_source_desc(src));
	tlscheck_files(&x->o, x->c, &at, time(NULL), synced);
	/* Connecting with material that is known bad explains nothing new. */
	if ((flags & CHECK_CONNECT) && x->o.errors == 0)
		(void)tlscheck_connect(&x->o, x->c, &at, synced);
	else if (flags & CHECK_CONNECT)
		check_note(&x->o, x->conf_path, "not connecting to the broker "
		    "until the problems above are fixed");
}

int
check_run(const char *conf_path, int flags, FILE *out, FILE *err)
{
	struct check_ctx *x;
	struct conf *c;
	struct registry *reg = NULL;
	char *msg, dir[PATH_MAX];
	int r, rc = CHECK_EXIT_FAIL;

	c = malloc(sizeof(*c));
	msg = malloc(CONF_ERR_MAX);
	x = calloc(1, sizeof(*x));
	if (c == NULL || msg == NULL || x == NULL) {
		fprintf(err, "%s: out of memory\n", conf_path);
		goto out;
	}
	config_init(&x->cf);
	x->o.out = out;
	x->o.err = err;
	x->conf_path = conf_path;
	x->c = c;
	if (conf_load(conf_path, c, msg, CONF_ERR_MAX) != 0) {
		fprintf(err, "%s\n", msg);
		goto out;
	}
	x->have_cf = 1;
	(void)snprintf(dir, sizeof(dir), "%s", conf_path);
	config_set_include_dir(&x->cf, dirname(dir));
	if (config_read_file(&x->cf, conf_path) != CONFIG_TRUE)
		x->have_cf = 0;		/* conf_load read it: lines only */
	if ((r = registry_load(c->registry, c->keys, &reg, msg,
	    CONF_ERR_MAX)) != 0) {
		fprintf(err, "%s\n", msg);
		x->o.errors++;
	}
	check_user(x);
	check_readable(x, "registry", c->registry, 0);
	check_readable(x, "keys", c->keys, 1);
	check_readable(x, "mqtt.key", c->mqtt.key, 1);
	check_readable(x, "mqtt.cert", c->mqtt.cert, 0);
	check_readable(x, "mqtt.ca", c->mqtt.ca, 0);
	check_ports(x);
	check_tls(x, flags);
	/* The clouds' limits (cloud.c): each problem a line, an error. */
	if (cloud_check(conf_path, c, err) != 0)
		x->o.errors++;
	if (x->o.errors == 0) {
		fprintf(out, "%s: configuration OK%s\n", conf_path,
		    x->o.warnings > 0 ? " (with warnings)" : "");
		rc = CHECK_EXIT_OK;
	} else
		fprintf(err, "%s: %d problem(s): the daemon would refuse to "
		    "start or fail to deliver\n", conf_path, x->o.errors);
out:
	if (x != NULL && x->o.out != NULL)
		config_destroy(&x->cf);
	registry_free(reg);
	free(x);
	free(c);
	free(msg);
	return rc;
}
