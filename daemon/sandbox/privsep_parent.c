/*
 * privsep_parent.c - the privileged parent (the monitor): the process
 * systemd watches, serving the confined child.  The child's calls are in
 * privsep_child.c, the message codec both use in privsep_msg.c.
 *
 * Where it sits: main() reads the configuration as root and calls
 * privsep_start().  The parent stays root but keeps only what the confined
 * child cannot do itself (DESIGN invariant 5):
 *   - open the configured serial paths (after realpath: by-id links move
 *     when a USB concentrator is replugged) and pass the fd;
 *   - open the configured registry and keys files and pass a read-only fd,
 *     so a SIGHUP reload sees the current bytes and the secrets never land
 *     in the state directory;
 *   - keep copies of the resolver files (glibc reads etc/hosts and stats
 *     etc/resolv.conf inside the chroot on every lookup) and of the TLS
 *     files (libmosquitto re-reads them at every reconnect) current below
 *     the state directory, written atomically;
 *   - restart the child with exponential backoff, so systemd sees one
 *     service; forward SIGTERM and SIGHUP;
 *   - relay the child's sd_notify messages (READY=1, WATCHDOG=1, STATUS=,
 *     STOPPING=1), received on a socket of their own, to systemd, which
 *     listens to the main PID only (NotifyAccess=main).  Only what the
 *     child sends is relayed, so a frozen child starves the watchdog.
 * The parent runs under a seccomp filter of its own (sandbox.c), which is a
 * superset of the child's because each new child starts under it.
 *
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "daemon/fsutil.h"
#include "daemon/mono.h"
#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/privsep_int.h"

#define PRIVSEP_REFUSALS_LOGGED	10	/* per child: a compromised one may spam */
#define PRIVSEP_LOG_LEN		512


struct privsep_copy_state {
	int		have;
	int		missing_logged;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	struct timespec	mtim;
	struct timespec	ctim;
};

#define PRIVSEP_HOLDER_MAX	64	/* "PID 1234 (minicom)" */

struct privsep_parent {
	const struct privsep_conf *pc;
	int		 sfd;		/* signalfd */
	int		 sock;		/* our end of the child's socketpair */
	int		 nfd;		/* our end of its notification socket */
	int		 state_fd;	/* the state directory, never the child's */
	pid_t		 child;
	int		 stopping;
	unsigned int	 backoff_ms;
	unsigned int	 restarts;	/* quick restarts in a row */
	unsigned int	 refusals;	/* logged for the current child */
	int		 lock_warned;	/* lock_serial failed, said once */
	/* The lock taken for each configured serial path ("": none). */
	char		 locked[PRIVSEP_SERIAL_MAX][PRIVSEP_LOCK_KEY_MAX];
	uint64_t	 child_started_ms;
	uint64_t	 restart_at_ms;
	uint64_t	 copy_check_ms;
	int		 flag_state;	/* what flag_dst says: 1, 0; -1 unknown */
	int		 flag_err_logged;
	struct privsep_copy_state cs[PRIVSEP_COPIES_MAX];
};

/* ------------------------------------------------------------------ */
/* Parent.                                                              */
/* ------------------------------------------------------------------ */

static void
privsep_log(struct privsep_parent *pp, int prio, const char *fmt, ...)
{
	char msg[PRIVSEP_LOG_LEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pp->pc->log != NULL)
		pp->pc->log(prio, msg);
	else
		fprintf(stderr, "<%d>privsep: %s\n", prio, msg);
}

/* A path from the child, made safe to log. */
static void
privsep_vis(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

/* Opens path for the child if it is of type fmt (S_IFCHR, S_IFREG),
 * else returns wrong.  O_NONBLOCK: a FIFO put in place of a file must not
 * hang the parent. */
static int
privsep_open_as(const char *path, int flags, mode_t fmt, int wrong, int *fdp)
{
	struct stat st;
	int fd;

	if ((fd = open(path, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) != fmt) {
		close(fd);
		return wrong;
	}
	*fdp = fd;
	return 0;
}

/* The line's UUCP lock, in the parent's name: it opens the line for
 * every child, and outlives them.  -EBUSY when another process holds it
 * (logged with its name); a lock directory we may not write to is
 * logged once and does not stop us (TIOCEXCL still guards the line). */
static int
privsep_lock_serial(struct privsep_parent *pp, size_t i, const char *path)
{
	char holder[PRIVSEP_HOLDER_MAX], key[PRIVSEP_LOCK_KEY_MAX];
	int r;

	if (pp->pc->lock_serial == NULL)
		return 0;
	key[0] = '\0';
	r = pp->pc->lock_serial(path, key, holder, sizeof(holder));
	/* The path names another line now (a module came back under a new
	 * name): the old line's lock would refuse a stranger its device. */
	if (i < PRIVSEP_SERIAL_MAX && pp->locked[i][0] != '\0' &&
	    strcmp(pp->locked[i], key) != 0) {
		pp->pc->unlock_serial(pp->locked[i]);
		pp->locked[i][0] = '\0';
	}
	if (r == 0 && i < PRIVSEP_SERIAL_MAX)
		memcpy(pp->locked[i], key, sizeof(key));
	if (r == -EBUSY) {
		privsep_log(pp, LOG_WARNING, "serial line %s is in use by %s: "
		    "not opened, retrying", path, holder);
		return r;
	}
	if (r != 0 && !pp->lock_warned) {
		privsep_log(pp, LOG_WARNING, "cannot lock serial line %s: %s; "
		    "opening it without the lock", path, strerror(-r));
		pp->lock_warned = 1;
	}
	return 0;
}

/* At exit, the child gone: no lock outlives the lines it guarded (a
 * stale one would be taken over, but need not be left lying about). */
static void
privsep_unlock_all(struct privsep_parent *pp)
{
	size_t i;

	if (pp->pc->unlock_serial == NULL)
		return;
	for (i = 0; i < PRIVSEP_SERIAL_MAX; i++)
		if (pp->locked[i][0] != '\0')
			pp->pc->unlock_serial(pp->locked[i]);
}

static int
privsep_do_open_serial(struct privsep_parent *pp, const char *path,
    int *fdp)
{
	char real[PATH_MAX], vis[128];
	const char *const *p;
	int r;

	*fdp = -1;
	for (p = pp->pc->serial_paths; p != NULL && *p != NULL; p++)
		if (strcmp(*p, path) == 0)
			break;
	if (p == NULL || *p == NULL) {
		if (pp->refusals++ < PRIVSEP_REFUSALS_LOGGED) {
			privsep_vis(path, vis, sizeof(vis));
			privsep_log(pp, LOG_WARNING, "child asked for serial "
			    "path \"%s\", which is not configured; refused",
			    vis);
		}
		return -EPERM;
	}
	if (realpath(path, real) == NULL)
		return -errno;
	if (strncmp(real, "/dev/", 5) != 0) {
		privsep_log(pp, LOG_WARNING, "serial path %s resolves to %s, "
		    "outside /dev; refused", path, real);
		return -EPERM;
	}
	/* Locked once it opened as a character device: a failed open
	 * leaves no lock behind. */
	if ((r = privsep_open_as(real, O_RDWR, S_IFCHR, -ENOTTY, fdp)) != 0)
		return r;
	if ((r = privsep_lock_serial(pp, (size_t)(p - pp->pc->serial_paths),
	    path)) != 0) {
		(void)close(*fdp);
		*fdp = -1;
	}
	return r;
}

static int
privsep_do_open_file(struct privsep_parent *pp, enum privsep_file which,
    int *fdp)
{
	const char *path;

	*fdp = -1;
	if ((unsigned int)which >= PRIVSEP_FILE_MAX ||
	    (path = pp->pc->files[which]) == NULL)
		return -ENOENT;
	return privsep_open_as(path, O_RDONLY, S_IFREG, -EINVAL, fdp);
}

static int
privsep_reply(struct privsep_parent *pp, int result, int fd)
{
	union {
		struct cmsghdr	cm;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	uint8_t out[PRIVSEP_REPLY_LEN];
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;

	privsep_reply_encode(result, out);
	privsep_msghdr(&msg, &iov, out, sizeof(out), NULL, 0);
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = sizeof(cbuf.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	/* Never block: a child that does not read its replies is broken. */
	if (sendmsg(pp->sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

static void
privsep_kill_child(struct privsep_parent *pp, const char *why)
{
	privsep_log(pp, LOG_ERR, "%s; ending child %ld", why, (long)pp->child);
	if (pp->child > 0)
		(void)kill(pp->child, SIGKILL);
	if (pp->sock >= 0) {
		close(pp->sock);
		pp->sock = -1;
	}
	if (pp->nfd >= 0) {
		close(pp->nfd);
		pp->nfd = -1;
	}
}

/* The child's notifications: each datagram checked by pc->notify and
 * relayed; a bounded number per wake-up, so a chatty child cannot keep
 * the parent from its other work. */
static void
privsep_relay(struct privsep_parent *pp)
{
	char buf[PRIVSEP_NOTIFY_LEN_MAX + 1];
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int i;

	for (i = 0; i < PRIVSEP_NOTIFY_BURST && pp->nfd >= 0; i++) {
		privsep_msghdr(&msg, &iov, buf, sizeof(buf) - 1, NULL, 0);
		n = recvmsg(pp->nfd, &msg, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			close(pp->nfd);	/* the child is exiting */
			pp->nfd = -1;
			return;
		}
		if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
			privsep_kill_child(pp, "oversized notification from "
			    "child");
			return;
		}
		buf[n] = '\0';
		if (pp->pc->notify(buf, (size_t)n) < 0) {
			privsep_kill_child(pp, "child sent a notification "
			    "that is not relayed");
			return;
		}
	}
}

static void
privsep_serve(struct privsep_parent *pp)
{
	union {
		struct cmsghdr	cm;
		char		buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	uint8_t in[PRIVSEP_MSG_SIZE_MAX + 1];
	struct privsep_req req;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int r, fd = -1;

	privsep_msghdr(&msg, &iov, in, sizeof(in), cbuf.buf, sizeof(cbuf.buf));
	n = recvmsg(pp->sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The child closed its end: it is exiting; SIGCHLD follows. */
		close(pp->sock);
		pp->sock = -1;
		return;
	}
	if (msg.msg_controllen > 0) {
		privsep_close_fds(&msg);
		privsep_kill_child(pp, "child sent descriptors or control data");
		return;
	}
	if ((msg.msg_flags & MSG_TRUNC) != 0) {
		privsep_kill_child(pp, "oversized message from child");
		return;
	}
	if ((r = privsep_msg_parse(in, (size_t)n, &req)) < 0) {
		privsep_kill_child(pp, r == -EMSGSIZE ?
		    "oversized message from child" :
		    "malformed message from child");
		return;
	}
	switch (req.type) {
	case PRIVSEP_MSG_OPEN_SERIAL:
		r = privsep_do_open_serial(pp, req.path, &fd);
		break;
	case PRIVSEP_MSG_OPEN_FILE:
		r = privsep_do_open_file(pp, req.which, &fd);
		break;
	default:
		r = -EBADMSG;	/* privsep_msg_parse() let no other through */
		break;
	}
	if (privsep_reply(pp, r, fd) < 0)
		privsep_kill_child(pp, "child does not take its replies");
	if (fd >= 0)
		close(fd);
}

/* The directory of dst ("dir/name" or "name": one level at most) below
 * the state directory, created 0755 if missing, opened without following
 * links; *name points into dst, tmp receives the temporary file's name.
 * Returns the directory's descriptor or -errno. */
static int
privsep_dst_dir(struct privsep_parent *pp, const char *dst,
    const char **name, char *tmp, size_t tmplen)
{
	char dir[PATH_MAX];
	const char *slash;
	int dfd, r;

	slash = strchr(dst, '/');
	*name = slash != NULL ? slash + 1 : dst;
	if (**name == '\0' || strchr(*name, '/') != NULL ||
	    (size_t)snprintf(tmp, tmplen, ".%s.tmp", *name) >= tmplen)
		return -EINVAL;
	if (slash == NULL) {
		if ((dfd = fcntl(pp->state_fd, F_DUPFD_CLOEXEC, 0)) < 0)
			return -errno;
		return dfd;
	}
	if ((size_t)(slash - dst) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, dst, (size_t)(slash - dst));
	dir[slash - dst] = '\0';
	if ((r = mkdirat(pp->state_fd, dir, 0755)) != 0 && errno != EEXIST)
		return -errno;
	if ((dfd = openat(pp->state_fd, dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	/* A new directory: the service's UMask=0077 would hide it from the
	 * child. */
	if (r == 0 && fchmod(dfd, 0755) != 0) {
		r = -errno;
		close(dfd);
		return r;
	}
	return dfd;
}

/* Copy one file into the state directory if it changed (or if forced):
 * a temporary file, fsync, rename.  Every component is opened relative to
 * the state directory without following links, so a child that owns the
 * state directory cannot aim the root parent's writes elsewhere. */
static int
privsep_copy_one(struct privsep_parent *pp, size_t i, int force)
{
	const struct privsep_copy *c = &pp->pc->copies[i];
	struct privsep_copy_state *cs = &pp->cs[i];
	char tmp[NAME_MAX + 1], buf[8192];
	const char *name;
	struct stat st;
	uint64_t total = 0;
	ssize_t n, w, off;
	gid_t gid;
	int dfd = -1, in = -1, out = -1, r;

	if (stat(c->src, &st) != 0) {
		r = -errno;
		if (!cs->missing_logged)
			privsep_log(pp, c->required ? LOG_ERR : LOG_WARNING,
			    "%s: %s; keeping the copy %s as it is", c->src,
			    strerror(errno), c->dst);
		cs->missing_logged = 1;
		return c->required ? r : 0;
	}
	cs->missing_logged = 0;
	if (!force && cs->have && cs->dev == st.st_dev &&
	    cs->ino == st.st_ino && cs->size == st.st_size &&
	    cs->mtim.tv_sec == st.st_mtim.tv_sec &&
	    cs->mtim.tv_nsec == st.st_mtim.tv_nsec &&
	    cs->ctim.tv_sec == st.st_ctim.tv_sec &&
	    cs->ctim.tv_nsec == st.st_ctim.tv_nsec)
		return 0;

	if ((dfd = privsep_dst_dir(pp, c->dst, &name, tmp, sizeof(tmp))) < 0) {
		r = dfd;
		goto out;
	}

	if ((in = open(c->src, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(in, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	(void)unlinkat(dfd, tmp, 0);
	if ((out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if ((total += (uint64_t)n) > PRIVSEP_COPY_SIZE_MAX) {
			r = -EFBIG;
			goto out;
		}
		for (off = 0; off < n; off += w) {
			if ((w = write(out, buf + off, (size_t)(n - off))) < 0) {
				r = -errno;
				goto out;
			}
		}
	}
	if ((c->mode & 070) != 0 && pp->pc->copy_gid != (gid_t)-1 &&
	    fchown(out, (uid_t)-1, pp->pc->copy_gid) != 0) {
		/* Without CAP_CHOWN: join the group, then hand the file over
		 * (an owner may give a file to a group it belongs to). */
		gid = pp->pc->copy_gid;
		if (errno != EPERM || setgroups(1, &gid) != 0 ||
		    fchown(out, (uid_t)-1, gid) != 0) {
			r = -errno;
			goto out;
		}
	}
	if (fchmod(out, c->mode & 0777) != 0 || fsync(out) != 0 ||
	    renameat(dfd, tmp, dfd, name) != 0) {
		r = -errno;
		goto out;
	}
	cs->have = 1;
	cs->dev = st.st_dev;
	cs->ino = st.st_ino;
	cs->size = st.st_size;
	cs->mtim = st.st_mtim;
	cs->ctim = st.st_ctim;
	r = 0;
out:
	if (r < 0) {
		privsep_log(pp, LOG_ERR, "copying %s to %s/%s: %s", c->src,
		    pp->pc->state_dir, c->dst, strerror(-r));
		if (out >= 0)
			(void)unlinkat(dfd, tmp, 0);
	}
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	if (dfd >= 0)
		close(dfd);
	/* An optional file that failed to copy keeps its old copy. */
	return (r < 0 && c->required) ? r : 0;
}

static int
privsep_copy_all(struct privsep_parent *pp, int hup)
{
	size_t i;
	int r, first = 0;

	for (i = 0; i < pp->pc->ncopies; i++) {
		if (!hup && pp->pc->copies[i].hup_only && pp->cs[i].have)
			continue;
		if ((r = privsep_copy_one(pp, i, hup)) < 0 && first == 0)
			first = r;
	}
	return first;
}

/* Write "1\n" or "0\n" to flag_dst, replacing it in one step. */
static int
privsep_flag_write(struct privsep_parent *pp, int v)
{
	char tmp[NAME_MAX + 1];
	const char *name;
	int dfd, r;

	if ((dfd = privsep_dst_dir(pp, pp->pc->flag_dst, &name, tmp,
	    sizeof(tmp))) < 0)
		return dfd;
	r = fsutil_replace(dfd, name, v ? "1\n" : "0\n", 2, 0644,
	    FSUTIL_CHMOD);
	close(dfd);
	return r;
}

/* Mirror flag_src's presence into flag_dst when it changed or was never
 * written by this parent.  A copy that cannot be written is removed: an
 * old "1" from before a power cut must not outlive it (the child then
 * reports the clock as unknown, i.e. not synchronised). */
static void
privsep_flag_check(struct privsep_parent *pp)
{
	const char *name;
	char tmp[NAME_MAX + 1];
	struct stat st;
	int v, r, dfd;

	if (pp->pc->flag_src == NULL || pp->pc->flag_dst == NULL)
		return;
	v = stat(pp->pc->flag_src, &st) == 0;
	if (v == pp->flag_state)
		return;
	if ((r = privsep_flag_write(pp, v)) < 0) {
		if (!pp->flag_err_logged)
			privsep_log(pp, LOG_ERR, "writing %s/%s: %s; removing "
			    "it, so records say \"sync\":false",
			    pp->pc->state_dir, pp->pc->flag_dst, strerror(-r));
		pp->flag_err_logged = 1;
		if ((dfd = privsep_dst_dir(pp, pp->pc->flag_dst, &name, tmp,
		    sizeof(tmp))) >= 0) {
			(void)unlinkat(dfd, name, 0);
			close(dfd);
		}
		pp->flag_state = -1;
		return;
	}
	if (pp->flag_state != -1 || pp->flag_err_logged)
		privsep_log(pp, LOG_INFO, "%s %s: the clock is %s",
		    pp->pc->flag_src, v ? "appeared" : "is gone",
		    v ? "synchronised" : "not synchronised");
	pp->flag_err_logged = 0;
	pp->flag_state = v;
}

static void
privsep_run_child(struct privsep_parent *pp, int fd, int notify_fd)
{
	struct privsep_child ch;
	sigset_t set;
	int status;

	/* Nothing of the parent's stays: the signalfd, its socket end and the
	 * state directory (an open directory would be a way out of chroot). */
	close(pp->sfd);
	close(pp->sock);
	if (pp->nfd >= 0)
		close(pp->nfd);
	close(pp->state_fd);
	sigemptyset(&set);
	(void)sigprocmask(SIG_SETMASK, &set, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	ch.fd = fd;
	ch.notify_fd = notify_fd;
	ch.configure = NULL;
	status = pp->pc->child_main(&ch, pp->pc->child_arg);
	(void)fflush(NULL);
	_exit(status & 0xff);
}

static int
privsep_spawn(struct privsep_parent *pp)
{
	int sv[2], nv[2] = { -1, -1 }, r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	/* Non-blocking: a child must never hang on a busy parent for the
	 * sake of a status line. */
	if (pp->pc->notify != NULL && socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0, nv) != 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	(void)fflush(NULL);	/* no stdio buffer is written twice */
	if ((pid = fork()) < 0) {
		r = -errno;
		close(sv[0]);
		close(sv[1]);
		if (nv[0] >= 0) {
			close(nv[0]);
			close(nv[1]);
		}
		return r;
	}
	if (pid == 0) {
		pp->sock = sv[0];
		pp->nfd = nv[0];
		privsep_run_child(pp, sv[1], nv[1]);
	}
	close(sv[1]);
	if (nv[1] >= 0)
		close(nv[1]);
	pp->nfd = nv[0];
	pp->sock = sv[0];
	pp->child = pid;
	pp->refusals = 0;
	pp->child_started_ms = mono_ms();
	return 0;
}

static const char *
privsep_signame(int sig)
{
	switch (sig) {
	case SIGSYS:
		return "SIGSYS: a syscall outside the seccomp allowlist (see "
		    "the audit log, or run with --seccomp=trap)";
	case SIGKILL:
		return "SIGKILL";
	case SIGSEGV:
		return "SIGSEGV";
	case SIGABRT:
		return "SIGABRT";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "a signal";
	}
}

/* The child has ended.  Returns -1 to restart it, else the parent's exit
 * status. */
static int
privsep_child_ended(struct privsep_parent *pp, int status)
{
	const struct privsep_conf *pc = pp->pc;
	uint64_t now = mono_ms();
	unsigned int min = pc->backoff_min_ms ? pc->backoff_min_ms :
	    PRIVSEP_BACKOFF_MIN_MS;
	unsigned int max = pc->backoff_max_ms ? pc->backoff_max_ms :
	    PRIVSEP_BACKOFF_MAX_MS;

	pp->child = -1;
	if (pp->sock >= 0) {
		close(pp->sock);
		pp->sock = -1;
	}
	if (pp->nfd >= 0) {
		close(pp->nfd);
		pp->nfd = -1;
	}
	if (pp->stopping)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		privsep_log(pp, LOG_INFO, "child exited; stopping");
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == PRIVSEP_EXIT_FATAL) {
		privsep_log(pp, LOG_ERR, "child failed and says a restart "
		    "cannot help; stopping");
		return PRIVSEP_EXIT_FATAL;
	}
	if (now - pp->child_started_ms >= PRIVSEP_STABLE_MS) {
		pp->backoff_ms = min;
		pp->restarts = 0;
	} else if (pp->backoff_ms == 0) {
		pp->backoff_ms = min;
	} else {
		pp->backoff_ms = pp->backoff_ms > max / 2 ? max :
		    pp->backoff_ms * 2;
	}
	if (pc->restarts_max > 0 && pp->restarts >= pc->restarts_max) {
		privsep_log(pp, LOG_ERR, "child failed %u times in a row; "
		    "giving up", pp->restarts + 1);
		return 1;
	}
	pp->restarts++;
	if (WIFSIGNALED(status))
		privsep_log(pp, LOG_ERR, "child killed by signal %d (%s); "
		    "restarting in %u ms", WTERMSIG(status),
		    privsep_signame(WTERMSIG(status)), pp->backoff_ms);
	else
		privsep_log(pp, LOG_ERR, "child exited with status %d; "
		    "restarting in %u ms", WEXITSTATUS(status), pp->backoff_ms);
	pp->restart_at_ms = now + pp->backoff_ms;
	return -1;
}

/* Returns -1 to go on, else the parent's exit status. */
static int
privsep_signals(struct privsep_parent *pp)
{
	struct signalfd_siginfo si;
	ssize_t n;
	pid_t pid;
	int status, r;

	while ((n = read(pp->sfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (!pp->stopping)
				privsep_log(pp, LOG_INFO, "signal %u: stopping",
				    si.ssi_signo);
			pp->stopping = 1;
			/* Ctrl-C reaches the terminal's whole process group:
			 * the child has its own SIGINT from the kernel, and a
			 * second one would make it skip its final publish. */
			if (pp->child > 0 && !(si.ssi_signo == SIGINT &&
			    si.ssi_code == SI_KERNEL))
				(void)kill(pp->child, (int)si.ssi_signo);
			break;
		case SIGHUP:
			/* Copies first: the child's reload must see them. */
			(void)privsep_copy_all(pp, 1);
			if (pp->pc->hangup != NULL)
				pp->pc->hangup(pp->pc->hangup_arg);
			if (pp->child > 0)
				(void)kill(pp->child, SIGHUP);
			break;
		default:
			break;
		}
	}
	/* Reap after the other signals: a SIGTERM to the whole service
	 * arrives before its child's death is noticed. */
	while (pp->child > 0 &&
	    (pid = waitpid(pp->child, &status, WNOHANG)) == pp->child) {
		if ((r = privsep_child_ended(pp, status)) >= 0)
			return r;
	}
	if (pp->stopping && pp->child <= 0)
		return 0;
	return -1;
}

static int
privsep_loop(struct privsep_parent *pp)
{
	struct pollfd pfd[3];
	uint64_t now, wake;
	int timeout, r, nfd, isock, inotify;

	for (;;) {
		now = mono_ms();
		if (pp->child <= 0 && !pp->stopping && now >= pp->restart_at_ms) {
			if ((r = privsep_spawn(pp)) < 0) {
				privsep_log(pp, LOG_ERR, "fork: %s; retrying",
				    strerror(-r));
				pp->restart_at_ms = now + PRIVSEP_BACKOFF_MAX_MS;
			}
		}
		if (now >= pp->copy_check_ms) {
			(void)privsep_copy_all(pp, 0);
			privsep_flag_check(pp);
			pp->copy_check_ms = now + PRIVSEP_COPY_CHECK_MS;
		}
		wake = pp->copy_check_ms;
		if (pp->child <= 0 && !pp->stopping && pp->restart_at_ms < wake)
			wake = pp->restart_at_ms;
		timeout = wake > now ? (int)(wake - now) : 0;

		pfd[0].fd = pp->sfd;
		pfd[0].events = POLLIN;
		nfd = 1;
		isock = inotify = -1;
		if (pp->sock >= 0) {
			pfd[nfd].fd = pp->sock;
			pfd[nfd].events = POLLIN;
			isock = nfd++;
		}
		if (pp->nfd >= 0) {
			pfd[nfd].fd = pp->nfd;
			pfd[nfd].events = POLLIN;
			inotify = nfd++;
		}
		if (poll(pfd, (nfds_t)nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			privsep_log(pp, LOG_ERR, "poll: %s", strerror(errno));
			return 1;
		}
		if ((pfd[0].revents & POLLIN) != 0 &&
		    (r = privsep_signals(pp)) >= 0)
			return r;
		if (inotify >= 0 && pp->nfd >= 0 && pfd[inotify].revents != 0)
			privsep_relay(pp);
		if (isock >= 0 && pp->sock >= 0 && pfd[isock].revents != 0)
			privsep_serve(pp);
	}
}

int
privsep_start(const struct privsep_conf *pc)
{
	struct privsep_parent pp;
	sigset_t set;
	int r, status = 1;

	memset(&pp, 0, sizeof(pp));
	pp.pc = pc;
	pp.sfd = pp.sock = pp.nfd = pp.state_fd = -1;
	pp.child = -1;
	if (pc->child_main == NULL || pc->state_dir == NULL ||
	    pc->ncopies > PRIVSEP_COPIES_MAX) {
		privsep_log(&pp, LOG_ERR, "bad configuration");
		return 1;
	}
	/* Keys live in this process: no core dumps. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (pp.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		privsep_log(&pp, LOG_ERR, "signalfd: %s", strerror(errno));
		goto out;
	}
	if ((pp.state_fd = open(pc->state_dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0) {
		privsep_log(&pp, LOG_ERR, "%s: %s", pc->state_dir,
		    strerror(errno));
		goto out;
	}
	if (privsep_copy_all(&pp, 1) < 0)
		goto out;
	/* Before the first child reads it, whatever an old copy says. */
	pp.flag_state = -1;
	privsep_flag_check(&pp);
	pp.copy_check_ms = mono_ms() + PRIVSEP_COPY_CHECK_MS;
	/* Before the first fork: every child, the first included, starts
	 * under the same filter, so a missing rule shows up at once and not
	 * at the first restart weeks later. */
	if ((r = sandbox_filter_load(SANDBOX_ROLE_PARENT, pc->mode)) < 0) {
		privsep_log(&pp, LOG_ERR, "loading the parent's seccomp "
		    "filter: %s", strerror(-r));
		goto out;
	}
	status = privsep_loop(&pp);
out:
	if (pp.child > 0) {
		(void)kill(pp.child, SIGTERM);
		(void)waitpid(pp.child, NULL, 0);
	}
	privsep_unlock_all(&pp);
	if (pp.sock >= 0)
		close(pp.sock);
	if (pp.nfd >= 0)
		close(pp.nfd);
	if (pp.state_fd >= 0)
		close(pp.state_fd);
	if (pp.sfd >= 0)
		close(pp.sfd);
	return status;
}
