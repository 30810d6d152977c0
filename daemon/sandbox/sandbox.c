/*
 * sandbox.c - confinement: chroot into the state directory, drop to the
 * service user, no_new_privs, and the seccomp allowlist of both processes.
 *
 * Where it sits: fieldbridged starts as root, reads its configuration,
 * keys and certificates, and forks (privsep.c).  The child confines itself
 * with sandbox_confine() before it touches a serial byte or a network
 * packet; the parent keeps a few rights (open the configured serial paths
 * and files, keep the chroot's copies current) under a filter of its own.
 *
 * Debugging the filter
 * --------------------
 * A syscall missing from the list kills the process with SIGSYS.  The
 * kernel's audit log then has a line "type=SECCOMP ... syscall=NNN"; name
 * the number with `scmp_sys_resolver NNN` (package seccomp).  Faster: run
 * with `--seccomp=trap`: every refused syscall is named on stderr and fails
 * with ENOSYS instead of killing, so one run lists everything missing.
 * Print the compiled filter with the hidden option `--print-seccomp`
 * (libseccomp's pseudo filter code).  valgrind cannot run under seccomp at
 * all: use `--seccomp=off` (chosen by default when valgrind is detected).
 * Do not use SCMP_ACT_ERRNO to "make something work": a silently failing
 * syscall shows up far away (a missing socket rule once looked like an MQTT
 * "lookup error").  Add the syscall here, with who needs it and why.
 *
 * Rules for this file: one syscall per line, with its users; argument
 * checks in small tables below; a syscall that has argument rules must not
 * also appear unconditionally, because an unconditional ALLOW overrides
 * every argument rule for the same syscall.  Both the classic and the
 * "*at"/ppoll forms are listed: glibc picks per architecture.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sys/syscall.h>

#ifdef FB_TEST_HOOKS
#include <netinet/in.h>
#include <sys/ptrace.h>
#endif

#include "daemon/sandbox/sandbox.h"

#define SANDBOX_TRAP_NR_MAX	1024	/* names kept for the SIGSYS handler */
#define SANDBOX_DIR_DEPTH_MAX	64	/* ".." steps from an open directory */

/* ------------------------------------------------------------------ */
/* The confined child: what the whole daemon needs after start-up.      */
/* ------------------------------------------------------------------ */

/* Memory.  mmap and mprotect are in the argument rules: never PROT_EXEC
 * (nothing is loaded after chroot; systemd's MemoryDenyWriteExecute agrees). */
static const int sys_child_memory[] = {
	SCMP_SYS(brk),			/* malloc */
	SCMP_SYS(munmap),		/* malloc of large blocks, OpenSSL */
	SCMP_SYS(mremap),		/* realloc of large blocks */
	SCMP_SYS(madvise),		/* glibc malloc trimming */
};

/* Descriptors and files below the new root. */
static const int sys_child_files[] = {
	SCMP_SYS(open),			/* spool segments, TLS files (libmosquitto at */
	SCMP_SYS(openat),		/*   every reconnect), etc/hosts (every lookup) */
	SCMP_SYS(close),
	SCMP_SYS(read),			/* everything: serial, TLS, files, signalfd */
	SCMP_SYS(readv),		/* glibc stdio */
	SCMP_SYS(write),		/* serial, spool, TLS, log on stderr */
	SCMP_SYS(writev),		/* log lines, glibc stdio */
	SCMP_SYS(pread64),		/* spool: re-read a segment's header */
	SCMP_SYS(pwrite64),		/* spool: rewrite a segment's header */
	SCMP_SYS(lseek),		/* spool, stdio */
	SCMP_SYS(fstat),		/* stdio, OpenSSL reading PEM files */
	SCMP_SYS(stat),			/* glibc: etc/resolv.conf changed? (every */
	SCMP_SYS(lstat),		/*   lookup) */
	SCMP_SYS(newfstatat),		/* glibc 2.33+ implements fstat/stat with it */
	SCMP_SYS(statx),
	SCMP_SYS(access),		/* libmosquitto/OpenSSL probing TLS files */
	SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	SCMP_SYS(fsync),		/* spool: a record is on disk before it is */
	SCMP_SYS(fdatasync),		/*   acknowledged (DESIGN invariant 3) */
	SCMP_SYS(ftruncate),		/* spool: cut a torn tail */
	SCMP_SYS(rename),		/* spool, sequence file: atomic replace */
	SCMP_SYS(renameat),
	SCMP_SYS(renameat2),
	SCMP_SYS(unlink),		/* spool: drop an acknowledged segment */
	SCMP_SYS(unlinkat),
	SCMP_SYS(mkdir),		/* spool: first start, quarantine directory */
	SCMP_SYS(mkdirat),
	SCMP_SYS(getdents64),		/* spool: scan segments at start-up */
	SCMP_SYS(statfs),		/* spool: free space before an append */
	SCMP_SYS(fstatfs),
	SCMP_SYS(flock),		/* spool: one daemon per state directory */
	SCMP_SYS(dup),			/* stdio, libmosquitto */
	SCMP_SYS(dup3),
};

/* Waiting and time: one poll() loop with a timerfd and a signalfd. */
static const int sys_child_time[] = {
	SCMP_SYS(poll),			/* the main loop; glibc's resolver */
	SCMP_SYS(ppoll),		/*   (aarch64 has only ppoll) */
	SCMP_SYS(select),		/* libmosquitto's mosquitto_loop(), if used */
	SCMP_SYS(pselect6),
	SCMP_SYS(clock_gettime),	/* vDSO fallback: backoff, batch age */
	SCMP_SYS(gettimeofday),		/* libmosquitto, OpenSSL */
	SCMP_SYS(time),
	SCMP_SYS(nanosleep),		/* short waits in start-up retries */
	SCMP_SYS(clock_nanosleep),
	SCMP_SYS(timerfd_create),	/* the loop's timer */
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	/* clock_adjtime: in the argument rules (wallclock.c) */
};

/* Signals: SIGHUP (reload) and SIGTERM arrive through a signalfd. */
static const int sys_child_signals[] = {
	SCMP_SYS(rt_sigaction),		/* signal set-up, SIGPIPE ignored */
	SCMP_SYS(rt_sigprocmask),	/* blocking signals for the signalfd */
	SCMP_SYS(rt_sigreturn),		/* return from any handler (SIGSYS in trap) */
	SCMP_SYS(sigaltstack),		/* sanitizer runtimes, glibc */
	SCMP_SYS(signalfd4),		/* the loop's signal source */
	SCMP_SYS(signalfd),
	SCMP_SYS(restart_syscall),	/* kernel restarts an interrupted sleep */
	/* tgkill, kill: in the argument rules (the child's own pid only) */
};

/* Process: identity queries, exit, libc internals. */
static const int sys_child_process[] = {
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
	SCMP_SYS(getpid),		/* log lines, OpenSSL fork detection */
	SCMP_SYS(getppid),		/* privsep: is the parent still there? */
	SCMP_SYS(gettid),		/* raise() */
	SCMP_SYS(getuid),		/* OpenSSL, glibc secure-mode checks */
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(getresuid),		/* our own "cannot regain root" check */
	SCMP_SYS(getresgid),
	SCMP_SYS(getgroups),
	SCMP_SYS(uname),		/* glibc's first lookup after chroot */
	SCMP_SYS(sysinfo),		/* glibc's first lookup after chroot */
	SCMP_SYS(futex),		/* OpenSSL and glibc locks */
	SCMP_SYS(set_robust_list),	/* glibc in a freshly forked child */
	SCMP_SYS(getrandom),		/* GnuTLS nonces, OpenSSL's DRBG */
	SCMP_SYS(sched_yield),		/* glibc/OpenSSL spin locks */
};

/* Network, outbound only: MQTT over TLS, DNS, sd_notify, privsep. */
static const int sys_child_net[] = {
	SCMP_SYS(connect),		/* broker, DNS server (c-ares), c-ares's source */
					/*   address probe per answer (RFC 6724 sort) */
	SCMP_SYS(sendto),		/* TLS records, DNS queries, sd_notify */
	SCMP_SYS(recvfrom),		/* TLS records, DNS answers (c-ares) */
	SCMP_SYS(sendmsg),		/* requests to the privsep parent */
	SCMP_SYS(recvmsg),		/* its replies, with SCM_RIGHTS descriptors */
	SCMP_SYS(sendmmsg),		/* glibc sends the A and AAAA queries at once */
	SCMP_SYS(getsockopt),		/* SO_ERROR after a non-blocking connect */
	SCMP_SYS(setsockopt),		/* TCP_NODELAY, keepalive */
	SCMP_SYS(getsockname),		/* c-ares's (and glibc's) RFC 6724 sort */
	SCMP_SYS(getpeername),		/* libmosquitto */
	SCMP_SYS(shutdown),		/* libmosquitto on disconnect */
};

/* ------------------------------------------------------------------ */
/* The privsep parent: its own work plus every child's confinement.     */
/* ------------------------------------------------------------------ */

static const int sys_parent[] = {
	/* Restarting the child: fork (clone in the argument rules) and reap. */
	SCMP_SYS(wait4),		/* waitpid() on SIGCHLD */
	SCMP_SYS(waitid),
	SCMP_SYS(kill),			/* forward SIGTERM/SIGHUP; kill a child that */
					/*   sent a malformed message */
	SCMP_SYS(tgkill),		/* abort()/raise() in the parent; the child's */
					/*   own filter narrows it to itself */
	/* Each new child confines itself while still under this filter. */
	SCMP_SYS(chroot),
	SCMP_SYS(chdir),
	SCMP_SYS(fchdir),
	SCMP_SYS(setgroups),
	SCMP_SYS(setresgid),
	SCMP_SYS(setresuid),
	SCMP_SYS(setgid),		/* the check that gid 0 cannot be regained */
	SCMP_SYS(setuid),		/* the check that uid 0 cannot be regained */
	SCMP_SYS(capset),		/* each child drops every capability */
	SCMP_SYS(capget),		/*   and checks that none is left */
	SCMP_SYS(seccomp),		/* loading the child's stacked filter; */
					/*   libseccomp probes the API level with it */
	/* Keeping the copies inside the chroot current (resolver, TLS). */
	SCMP_SYS(fchmod),		/* mode of a fresh copy before rename */
	SCMP_SYS(fchown),		/* group of a TLS copy: the child's group */
	SCMP_SYS(readlink),		/* realpath() of configured serial paths */
	SCMP_SYS(readlinkat),		/*   (/dev/serial/by-id links move on replug) */
	SCMP_SYS(getcwd),		/* realpath() of a relative path */
	SCMP_SYS(link),			/* radio/serlock.c: the UUCP lock of a */
	SCMP_SYS(linkat),		/*   serial line, made by link(2) */
};

/* ioctl: terminal settings of the serial lines, nothing else (see also
 * sandbox_scmp.c for TCGETS2 and friends). */
static const unsigned long sys_ioctl_reqs[] = {
	TCGETS,		/* serial_configure(); isatty() on stderr */
	TCSETS,		/* serial_configure(): raw 8N1 at the baud rate */
	TCSETSW,	/* tcsetattr(TCSADRAIN) */
	TCSETSF,	/* tcsetattr(TCSAFLUSH) */
	TCFLSH,		/* tcflush(): drop stale bytes after a reopen */
	TCSBRK,		/* tcdrain(), tcsendbreak(): concentrator reset */
	TCXONC,		/* tcflow(): XON/XOFF */
	TIOCOUTQ,	/* bytes not yet sent to a concentrator */
	FIONREAD,	/* bytes waiting (TIOCINQ); glibc's resolver */
	FIONBIO,	/* libmosquitto: non-blocking sockets */
	TIOCEXCL,	/* serial_open(): exclusive use of the line */
	TIOCNXCL,
};

/* fcntl commands. */
static const int sys_fcntl_cmds[] = {
	F_GETFD,	/* close-on-exec checks */
	F_SETFD,	/* close-on-exec on a received descriptor */
	F_GETFL,	/* libmosquitto, serial: O_NONBLOCK */
	F_SETFL,
	F_DUPFD_CLOEXEC,
	F_GETLK,	/* spool: lock of the state directory */
	F_SETLK,
	F_SETLKW,
	F_OFD_GETLK,
	F_OFD_SETLK,
	F_OFD_SETLKW,
};

/* socket() families.  AF_UNIX: the sd_notify socket, privsep requests,
 * glibc's nscd probe, libmosquitto's internal socketpair.  AF_INET(6): the
 * broker and DNS.  AF_NETLINK is answered EAFNOSUPPORT below, never killed. */
static const int sys_socket_families[] = {
	AF_UNIX,
	AF_INET,
	AF_INET6,
};

/* prctl options.  Only getters for the child (our checks and the test
 * hooks); the parent sets them on each new child. */
static const int sys_prctl_child[] = {
	PR_GET_NO_NEW_PRIVS,
	PR_GET_SECCOMP,
	PR_GET_DUMPABLE,
};

static const int sys_prctl_parent[] = {
	PR_SET_NO_NEW_PRIVS,	/* each child before its filter */
	PR_SET_SECCOMP,		/* libseccomp's fallback to load a filter */
	PR_SET_DUMPABLE,	/* no core dumps of key material */
	PR_SET_PDEATHSIG,	/* each child: die with the parent */
	PR_CAPBSET_READ,	/* libseccomp/glibc capability probes */
	PR_CAP_AMBIENT,		/* each child clears its ambient set */
	PR_SET_KEEPCAPS,	/* a child of a root parent becomes the service
				 * user keeping CAP_SYS_CHROOT (confine.c) */
};

/* Reading the clock's NTP state, CLOCK_REALTIME only (argument rule). */
static const int sys_clock_adjtime[] = {
	SCMP_SYS(clock_adjtime),
	SCMP_SYS(clock_adjtime64),
};

/* The one mode the child may give a file: the status file's (status.h
 * STATUS_MODE; this directory does not know the daemon's headers). */
#define SANDBOX_STATUS_MODE	0640

/* Namespace flags a fork never needs (the clone rule refuses them). */
#define SANDBOX_CLONE_NS_MASK	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | \
	CLONE_THREAD | CLONE_VM)

/* ------------------------------------------------------------------ */

static const char *volatile trap_names[SANDBOX_TRAP_NR_MAX];

static int
sandbox_err(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* A full initialiser: libseccomp's SCMP_A* macros leave datum_b out,
 * which -Wextra reports. */
static struct scmp_arg_cmp
sandbox_arg(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
    scmp_datum_t b)
{
	struct scmp_arg_cmp c;

	c.arg = arg;
	c.op = op;
	c.datum_a = a;
	c.datum_b = b;
	return c;
}

static int
sandbox_add_table(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nrs[i], 0);
		/* -EDOM/-EFAULT: a pseudo syscall this architecture lacks. */
		if (r < 0 && r != -EDOM && r != -EFAULT)
			return r;
	}
	return 0;
}

#define ADD_TABLE(ctx, t) sandbox_add_table((ctx), (t), sizeof(t) / sizeof((t)[0]))

static int
sandbox_add_rules(scmp_filter_ctx ctx, enum sandbox_role role)
{
	size_t i;
	int r;

	if ((r = ADD_TABLE(ctx, sys_child_memory)) < 0 ||
	    (r = ADD_TABLE(ctx, sys_child_files)) < 0 ||
	    (r = ADD_TABLE(ctx, sys_child_time)) < 0 ||
	    (r = ADD_TABLE(ctx, sys_child_signals)) < 0 ||
	    (r = ADD_TABLE(ctx, sys_child_process)) < 0 ||
	    (r = ADD_TABLE(ctx, sys_child_net)) < 0)
		goto out;

	/* mmap/mprotect without PROT_EXEC. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    sandbox_arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    sandbox_arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		goto out;
	/* getrlimit through prlimit64 (glibc), never setting a limit. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
	    sandbox_arg(2, SCMP_CMP_EQ, 0, 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getrlimit),
	    0)) < 0)
		goto out;
	/* Signals to itself only: abort() and raise() are tgkill(pid, tid)
	 * (one thread: tid == pid).  The worker is the untrusted process: it
	 * must not be able to stop or kill its parent (which would stop the
	 * service) or anyone else its uid reaches.  The parent's filter,
	 * stacked below, allows both unconditionally: it signals its child. */
	if (role == SANDBOX_ROLE_CHILD &&
	    ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    sandbox_arg(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	    sandbox_arg(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0))) < 0))
		goto out;

	/* The kernel compares the low 32 bits of an ioctl request. */
	for (i = 0; i < sizeof(sys_ioctl_reqs) / sizeof(sys_ioctl_reqs[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    sandbox_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL,
		    sys_ioctl_reqs[i]))) < 0)
			goto out;
	for (i = 0; i < sandbox_scmp_nioctls; i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    sandbox_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffUL,
		    sandbox_scmp_ioctls[i]))) < 0)
			goto out;
	for (i = 0; i < sizeof(sys_fcntl_cmds) / sizeof(sys_fcntl_cmds[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
		    sandbox_arg(1, SCMP_CMP_EQ, sys_fcntl_cmds[i], 0))) < 0)
			goto out;
	for (i = 0; i < sizeof(sys_socket_families) /
	    sizeof(sys_socket_families[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
		    sandbox_arg(0, SCMP_CMP_EQ, sys_socket_families[i], 0))) < 0)
			goto out;
	/* glibc's getaddrinfo asks rtnetlink which address families are
	 * configured when it sorts several answers (__check_pf); refused, it
	 * assumes both, and needs no bind().  systemd's
	 * RestrictAddressFamilies answers the same. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socket), 1, sandbox_arg(0, SCMP_CMP_EQ, AF_NETLINK, 0))) < 0)
		goto out;
	/* The loop (wallclock.c) asks whether NTP synchronised the clock:
	 * glibc's adjtimex() is clock_adjtime(CLOCK_REALTIME) (clock_adjtime64
	 * where time_t was 32 bits).  Called with modes 0 it only reads; the
	 * mode is in memory, out of the filter's sight, but without
	 * CAP_SYS_TIME the kernel refuses any change. */
	for (i = 0; i < sizeof(sys_clock_adjtime) / sizeof(sys_clock_adjtime[0]);
	    i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys_clock_adjtime[i], 1,
		    sandbox_arg(0, SCMP_CMP_EQ, CLOCK_REALTIME, 0));
		if (r < 0 && r != -EDOM && r != -EFAULT)
			goto out;
	}
	/* libmosquitto's wake-up pair. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
	    sandbox_arg(0, SCMP_CMP_EQ, AF_UNIX, 0))) < 0)
		goto out;
	for (i = 0; i < sizeof(sys_prctl_child) / sizeof(sys_prctl_child[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    sandbox_arg(0, SCMP_CMP_EQ, sys_prctl_child[i], 0))) < 0)
			goto out;

	if (role != SANDBOX_ROLE_PARENT) {
		/* The status file (daemon/status.c): mode 0640, and its
		 * group the status readers' (STATUS_GROUP), never its
		 * owner; without privileges the kernel lets us give a file
		 * only to a group we are in.  Child only: the parent allows
		 * both calls whole (sys_parent).  The masks: glibc passes
		 * mode_t and gid_t as 32-bit values. */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fchmod),
		    1, sandbox_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
		    SANDBOX_STATUS_MODE))) < 0 ||
		    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fchown),
		    1, sandbox_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
		    0xffffffffu))) < 0)
			goto out;
		r = 0;
		goto out;
	}

	if ((r = ADD_TABLE(ctx, sys_parent)) < 0)
		goto out;
	/* Each new child sets its core size limit to 0 (sandbox_confine)
	 * while under this filter: lowering RLIMIT_CORE of itself only. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2,
	    sandbox_arg(0, SCMP_CMP_EQ, 0, 0),
	    sandbox_arg(1, SCMP_CMP_EQ, RLIMIT_CORE, 0))) < 0)
		goto out;
	for (i = 0; i < sizeof(sys_prctl_parent) / sizeof(sys_prctl_parent[0]);
	    i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
		    sandbox_arg(0, SCMP_CMP_EQ, sys_prctl_parent[i], 0))) < 0)
			goto out;
	/* fork() is clone(SIGCHLD | CLONE_CHILD_*) in glibc: no threads, no
	 * namespaces.  clone3 passes its flags in memory, out of the filter's
	 * sight: ENOSYS makes glibc fall back to clone. */
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    sandbox_arg(0, SCMP_CMP_MASKED_EQ, SANDBOX_CLONE_NS_MASK, 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3),
	    0)) < 0)
		goto out;
	r = 0;
out:
	return r;
}

/* Async-signal-safe: names were resolved when the filter was loaded. */
static void
sandbox_trap_handler(int sig, siginfo_t *si, void *vctx)
{
	char buf[160], num[16];
	const char *name = NULL;
	size_t n = 0, k;
	int nr = si->si_syscall, i;
	static const char pre[] = "fieldbridged: seccomp: refused syscall ";
	static const char post[] = ", failing it with ENOSYS\n";

	(void)sig;
	if (nr >= 0 && nr < SANDBOX_TRAP_NR_MAX)
		name = trap_names[nr];
	if (name == NULL)
		name = "?";
	i = sizeof(num);
	num[--i] = '\0';
	k = (unsigned int)nr;
	do {
		num[--i] = '0' + k % 10;
		k /= 10;
	} while (k > 0 && i > 0);
	for (k = 0; pre[k] != '\0' && n < sizeof(buf) - 1; k++)
		buf[n++] = pre[k];
	for (k = 0; name[k] != '\0' && n < sizeof(buf) - 1; k++)
		buf[n++] = name[k];
	if (n < sizeof(buf) - 1)
		buf[n++] = ' ';
	if (n < sizeof(buf) - 1)
		buf[n++] = '(';
	for (k = (size_t)i; num[k] != '\0' && n < sizeof(buf) - 1; k++)
		buf[n++] = num[k];
	if (n < sizeof(buf) - 1)
		buf[n++] = ')';
	for (k = 0; post[k] != '\0' && n < sizeof(buf) - 1; k++)
		buf[n++] = post[k];
	(void)!write(STDERR_FILENO, buf, n);
#if defined(__x86_64__)
	((ucontext_t *)vctx)->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	((ucontext_t *)vctx)->uc_mcontext.regs[0] = -ENOSYS;
#else
	(void)vctx;
	_exit(128 + SIGSYS);	/* cannot set the return value here */
#endif
}

static int
sandbox_trap_setup(void)
{
	struct sigaction sa;
	sigset_t set;
	int nr;

	for (nr = 0; nr < SANDBOX_TRAP_NR_MAX; nr++)
		if (trap_names[nr] == NULL)
			/* Kept for the process's life: the handler reads it. */
			trap_names[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_trap_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		return -errno;
	/* A blocked SIGSYS would turn the trap into a kill. */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	if (sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		return -errno;
	return 0;
}

static int
sandbox_filter_build(enum sandbox_role role, enum sandbox_mode mode,
    scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx;
	uint32_t def;
	int r;

	*out = NULL;
	if (mode == SANDBOX_MODE_TRAP)
		def = SCMP_ACT_TRAP;
	else if (seccomp_api_get() >= 3)
		def = SCMP_ACT_KILL_PROCESS;	/* kernel >= 4.14 */
	else
		def = SCMP_ACT_KILL;
	if ((ctx = seccomp_init(def)) == NULL)
		return -ENOMEM;
	if ((r = sandbox_add_rules(ctx, role)) < 0) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

int
sandbox_filter_load(enum sandbox_role role, enum sandbox_mode mode)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if (mode == SANDBOX_MODE_OFF)
		return 0;
	if ((r = sandbox_filter_build(role, mode, &ctx)) < 0)
		goto out;
	if (mode == SANDBOX_MODE_TRAP && (r = sandbox_trap_setup()) < 0)
		goto out;
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

int
sandbox_filter_print(enum sandbox_role role, int fd)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if ((r = sandbox_filter_build(role, SANDBOX_MODE_KILL, &ctx)) < 0)
		return r;
	r = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return r;
}

int
sandbox_mode_parse(const char *s, enum sandbox_mode *mode)
{
	*mode = SANDBOX_MODE_KILL;
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "kill") == 0)
		*mode = SANDBOX_MODE_KILL;
	else if (strcmp(s, "trap") == 0)
		*mode = SANDBOX_MODE_TRAP;
	else if (strcmp(s, "off") == 0)
		*mode = SANDBOX_MODE_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *
sandbox_mode_name(enum sandbox_mode mode)
{
	switch (mode) {
	case SANDBOX_MODE_KILL:
		return "kill";
	case SANDBOX_MODE_TRAP:
		return "trap";
	case SANDBOX_MODE_OFF:
		return "off";
	}
	return "?";
}

enum sandbox_mode
sandbox_mode_default(void)
{
	const char *p = getenv("LD_PRELOAD");

	if (p != NULL && strstr(p, "vgpreload") != NULL)
		return SANDBOX_MODE_OFF;
	return SANDBOX_MODE_KILL;
}

/* ------------------------------------------------------------------ */
/* Users, directories, confinement.                                     */
/* ------------------------------------------------------------------ */

int
sandbox_resolve(struct sandbox_conf *sc, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	size_t i, j;

	sc->resolved = 0;
	sc->ngids = 0;
	if (sc->user == NULL || sc->state_dir == NULL)
		return sandbox_err(err, errlen, -EINVAL,
		    "sandbox: no user or state directory");
	errno = 0;
	if ((pw = getpwnam(sc->user)) == NULL)
		return sandbox_err(err, errlen, errno ? -errno : -ESRCH,
		    "sandbox: no user \"%s\"", sc->user);
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return sandbox_err(err, errlen, -EINVAL,
		    "sandbox: user \"%s\" has uid or gid 0", sc->user);
	sc->uid = pw->pw_uid;
	sc->gid = pw->pw_gid;
	sc->gids[sc->ngids++] = sc->gid;
	for (i = 0; i < SANDBOX_GROUPS_MAX && sc->groups[i] != NULL; i++) {
		errno = 0;
		if ((gr = getgrnam(sc->groups[i])) == NULL)
			return sandbox_err(err, errlen, errno ? -errno : -ESRCH,
			    "sandbox: no group \"%s\"", sc->groups[i]);
		if (gr->gr_gid == 0)
			return sandbox_err(err, errlen, -EINVAL,
			    "sandbox: group \"%s\" is gid 0", sc->groups[i]);
		for (j = 0; j < sc->ngids; j++)
			if (sc->gids[j] == gr->gr_gid)
				break;
		if (j == sc->ngids)
			sc->gids[sc->ngids++] = gr->gr_gid;
	}
	sc->resolved = 1;
	return 0;
}

static int
sandbox_open_dir(const char *dir, uid_t uid, int *fdp, char *err,
    size_t errlen)
{
	struct stat st;
	int fd, r;

	*fdp = -1;
	if (dir == NULL || dir[0] != '/')
		return sandbox_err(err, errlen, -EINVAL,
		    "sandbox: state directory \"%s\" is not absolute",
		    dir ? dir : "");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return sandbox_err(err, errlen, -errno, "sandbox: %s: %s", dir,
		    strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = sandbox_err(err, errlen, -errno, "sandbox: %s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		r = sandbox_err(err, errlen, -EPERM,
		    "sandbox: %s: owned by uid %u, not root or the service "
		    "user", dir, (unsigned int)st.st_uid);
		goto fail;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = sandbox_err(err, errlen, -EPERM,
		    "sandbox: %s: writable by group or others (mode %04o)",
		    dir, (unsigned int)(st.st_mode & 07777));
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return r;
}

int
sandbox_check_dir(const char *dir, uid_t uid, char *err, size_t errlen)
{
	int fd, r;

	if ((r = sandbox_open_dir(dir, uid, &fd, err, errlen)) < 0)
		return r;
	close(fd);
	return 0;
}

int
sandbox_make_dir(const struct sandbox_conf *sc, const char *rel, char *err,
    size_t errlen)
{
	struct stat st;
	int dfd = -1, fd = -1, r;

	if (!sc->resolved || rel == NULL || rel[0] == '\0' ||
	    strchr(rel, '/') != NULL || strcmp(rel, ".") == 0 ||
	    strcmp(rel, "..") == 0)
		return sandbox_err(err, errlen, -EINVAL,
		    "sandbox: bad directory name \"%s\"", rel ? rel : "");
	if ((r = sandbox_open_dir(sc->state_dir, sc->uid, &dfd, err,
	    errlen)) < 0)
		return r;
	if (mkdirat(dfd, rel, 0700) != 0 && errno != EEXIST) {
		r = sandbox_err(err, errlen, -errno, "sandbox: %s/%s: %s",
		    sc->state_dir, rel, strerror(errno));
		goto out;
	}
	if ((fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		r = sandbox_err(err, errlen, -errno, "sandbox: %s/%s: %s",
		    sc->state_dir, rel, strerror(errno));
		goto out;
	}
	/*
	 * The service user's own directory, mode 0700, with no set-group-id
	 * bit: the worker creates every file in it as that user already
	 * (confine.c), and systemd's RestrictSUIDSGID=yes refuses any chmod
	 * that sets S_ISGID (EPERM).  Clearing the bit is allowed, so a
	 * directory of an earlier version (root-owned, 02770) is taken over:
	 * by a root parent with chown, by a parent that is the service user
	 * (systemd's User=) only when it owns it already, as StateDirectory=
	 * arranges by giving the whole tree to User=.
	 */
	if (st.st_uid != sc->uid || st.st_gid != sc->gid) {
		if (geteuid() != 0 || fchown(fd, sc->uid, sc->gid) != 0) {
			r = sandbox_err(err, errlen, geteuid() != 0 ? -EPERM :
			    -errno, "sandbox: %s/%s: owned by %u:%u, not by "
			    "%s (%u:%u)%s%s", sc->state_dir, rel,
			    (unsigned int)st.st_uid, (unsigned int)st.st_gid,
			    sc->user, (unsigned int)sc->uid,
			    (unsigned int)sc->gid, geteuid() != 0 ? "" : ": ",
			    geteuid() != 0 ? "" : strerror(errno));
			goto out;
		}
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) != 0) {
		r = sandbox_err(err, errlen, -errno, "sandbox: %s/%s: chmod "
		    "0700: %s", sc->state_dir, rel, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r;
}

/* Whether directory fd is the new root (root_st) or below it: walk up by
 * "..", which ends at "/" where ".." is the directory itself.  A directory
 * inside the new root is no way out of it (the kernel stops ".." at the
 * process's root), and the daemon keeps a few open (the batch sequence's
 * and the spool's, for fsync). */
static int
sandbox_dir_inside(int fd, const struct stat *root_st)
{
	struct stat st, up;
	int cur, next, i, inside = 0;

	if ((cur = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return 0;
	for (i = 0; i < SANDBOX_DIR_DEPTH_MAX; i++) {
		if (fstat(cur, &st) != 0)
			break;
		if (st.st_dev == root_st->st_dev && st.st_ino == root_st->st_ino) {
			inside = 1;
			break;
		}
		if ((next = openat(cur, "..", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			break;
		close(cur);
		cur = next;
		if (fstat(cur, &up) != 0 || (up.st_dev == st.st_dev &&
		    up.st_ino == st.st_ino))
			break;		/* reached "/" */
	}
	close(cur);
	return inside;
}

/* An open directory descriptor from outside the new root is a way out of
 * it (fchdir, openat).  Refuse to confine while one is open. */
static int
sandbox_check_fds(int keep, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	struct stat st, root_st;
	char *end;
	long fd;
	int r = 0;

	if (fstat(keep, &root_st) != 0)
		return -errno;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;	/* no /proc: nothing to check with */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || fd == dirfd(d) || fd == keep)
			continue;
		if (fstat((int)fd, &st) == 0 && S_ISDIR(st.st_mode) &&
		    !sandbox_dir_inside((int)fd, &root_st)) {
			r = sandbox_err(err, errlen, -EBADF,
			    "sandbox: descriptor %ld is an open directory "
			    "(a way out of the chroot)", fd);
			break;
		}
	}
	closedir(d);
	return r;
}

/* Clear every capability set, ambient included, and check with capget.
 * After a setuid from root they are empty already; started as the service
 * user with an ambient CAP_SYS_CHROOT, this is where it goes. */
static int
sandbox_drop_caps(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		return -errno;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -errno;
	if ((data[0].effective | data[0].permitted | data[0].inheritable |
	    data[1].effective | data[1].permitted | data[1].inheritable) != 0)
		return -EPERM;
	return 0;
}

#ifdef FB_TEST_HOOKS
/*
 * Test builds only (--enable-test-hooks): FB_TEST_ESCAPE makes the freshly
 * confined process try what the sandbox must prevent, so the tests prove
 * it on the real binary.  "report" and "open" print and carry on; the
 * others must die by SIGSYS, and say so if they do not.
 */
static void
sandbox_test_escape(void)
{
	struct sockaddr_in sin;
	const char *what = getenv("FB_TEST_ESCAPE");
	char *argv[] = { "/bin/sh", "-c", "true", NULL };
	int fd, s;

	if (what == NULL)
		return;
	if (strcmp(what, "report") == 0) {
		fprintf(stderr, "fieldbridged: test-escape: uid=%u euid=%u "
		    "no_new_privs=%d seccomp=%d\n", (unsigned int)getuid(),
		    (unsigned int)geteuid(),
		    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
		    prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	} else if (strcmp(what, "open") == 0) {
		fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
		fprintf(stderr, "fieldbridged: test-escape: open /etc/passwd: "
		    "%s\n", fd >= 0 ? "opened" : strerror(errno));
		if (fd >= 0)
			close(fd);
	} else if (strcmp(what, "execve") == 0) {
		execve(argv[0], argv, NULL);
		fprintf(stderr, "fieldbridged: test-escape: execve survived: "
		    "%s\n", strerror(errno));
	} else if (strcmp(what, "ptrace") == 0) {
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		fprintf(stderr, "fieldbridged: test-escape: ptrace survived\n");
	} else if (strcmp(what, "listen") == 0 || strcmp(what, "bind") == 0) {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (strcmp(what, "bind") == 0)
			(void)bind(s, (struct sockaddr *)&sin, sizeof(sin));
		else
			(void)listen(s, 1);
		fprintf(stderr, "fieldbridged: test-escape: %s survived\n",
		    what);
		close(s);
	}
}
#endif

int
sandbox_confine(const struct sandbox_conf *sc, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int dfd = -1, r;

	if (!sc->resolved)
		return sandbox_err(err, errlen, -EINVAL,
		    "sandbox: user and groups not resolved");
	if (geteuid() != 0 && (getuid() != sc->uid || geteuid() != sc->uid))
		return sandbox_err(err, errlen, -EPERM,
		    "sandbox: running as uid %u, neither root nor %s",
		    (unsigned int)geteuid(), sc->user);
	if ((r = sandbox_open_dir(sc->state_dir, sc->uid, &dfd, err,
	    errlen)) < 0)
		return r;
	if ((r = sandbox_check_fds(dfd, err, errlen)) < 0)
		goto out;
	/* chroot(".") on the descriptor we checked: no race with a rename. */
	if (fchdir(dfd) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		r = sandbox_err(err, errlen, -errno, "sandbox: chroot %s: %s",
		    sc->state_dir, strerror(errno));
		goto out;
	}
	close(dfd);
	dfd = -1;

	/* Started as root: drop to the service user.  Started as the service
	 * user already (systemd's User=, with CAP_SYS_CHROOT as an ambient
	 * capability): the identity is right, only capabilities remain. */
	if (geteuid() == 0 && (setgroups(sc->ngids, sc->gids) != 0 ||
	    setresgid(sc->gid, sc->gid, sc->gid) != 0 ||
	    setresuid(sc->uid, sc->uid, sc->uid) != 0)) {
		r = sandbox_err(err, errlen, -errno,
		    "sandbox: dropping to %s: %s", sc->user, strerror(errno));
		goto out;
	}
	if ((r = sandbox_drop_caps()) < 0) {
		r = sandbox_err(err, errlen, r,
		    "sandbox: dropping capabilities: %s", strerror(-r));
		goto out;
	}
	/* Verify the drop, as OpenSSH's permanently_set_uid() does. */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != sc->uid || eu != sc->uid || su != sc->uid ||
	    rg != sc->gid || eg != sc->gid || sg != sc->gid ||
	    setuid(0) != -1 || setgid(0) != -1 || setegid(0) != -1) {
		r = sandbox_err(err, errlen, -EPERM,
		    "sandbox: privileges could be regained after the drop");
		goto out;
	}
	/* A changed uid cleared any earlier parent-death signal.  If the
	 * parent is already gone, there is nobody to serve us. */
	if (sc->pdeathsig != 0 &&
	    (prctl(PR_SET_PDEATHSIG, sc->pdeathsig, 0, 0, 0) != 0 ||
	    getppid() == 1)) {
		r = sandbox_err(err, errlen, -ESRCH,
		    "sandbox: parent process gone");
		goto out;
	}
	/* No core dumps: the worker holds the device keys and the TLS key.
	 * Not dumpable also keeps other processes of the service user from
	 * ptrace and /proc/PID/mem (setresuid above does the same for a root
	 * start; under systemd's User= there is no uid change). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) != 0) {
		r = sandbox_err(err, errlen, -errno,
		    "sandbox: no core dumps: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		r = sandbox_err(err, errlen, -errno,
		    "sandbox: no_new_privs: %s", strerror(errno));
		goto out;
	}
	if ((r = sandbox_filter_load(SANDBOX_ROLE_CHILD, sc->mode)) < 0) {
		r = sandbox_err(err, errlen, r,
		    "sandbox: loading the seccomp filter: %s", strerror(-r));
		goto out;
	}
#ifdef FB_TEST_HOOKS
	sandbox_test_escape();
#endif
	r = 0;
out:
	if (dfd >= 0)
		close(dfd);
	return r;
}
