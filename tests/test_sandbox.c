/*
 * test_sandbox.c - sandbox_confine() on a real process: each test forks,
 * confines the child in a fresh state directory as "nobody", and checks
 * what it can and cannot do.  Forbidden syscalls must kill by SIGSYS
 * (WIFSIGNALED && WTERMSIG == SIGSYS), allowed work must still succeed.
 *
 * Needs root (chroot, setuid); skipped with a message otherwise.  Forked
 * children leave with _exit(): under ASan, LeakSanitizer at exit needs
 * ptrace, which the filter refuses.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/capability.h>
#include <sys/syscall.h>

#include "daemon/sandbox/sandbox.h"

#define TEST_USER	"nobody"
#define TEST_GROUP	"nogroup"

static char state_dir[64];
static struct sandbox_conf sc;

static int
setup(void **state)
{
	struct passwd *pw;
	char err[SANDBOX_ERR_LEN];

	(void)state;
	strcpy(state_dir, "/tmp/fb-sandbox-XXXXXX");
	if (mkdtemp(state_dir) == NULL)
		return -1;
	memset(&sc, 0, sizeof(sc));
	sc.state_dir = state_dir;
	sc.user = TEST_USER;
	sc.groups[0] = TEST_GROUP;
	sc.mode = SANDBOX_MODE_KILL;
	if (sandbox_resolve(&sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	/* Owned by the service user, as allowed, so the child may write. */
	pw = getpwnam(TEST_USER);
	if (pw == NULL || chown(state_dir, pw->pw_uid, pw->pw_gid) != 0 ||
	    chmod(state_dir, 0700) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

typedef int confined_fn(void *arg);

/* Fork, confine, run fn; the child's wait status.  Exit codes >= 100 are
 * confinement failures. */
static int
run_confined(const struct sandbox_conf *c, confined_fn *fn, void *arg)
{
	char err[SANDBOX_ERR_LEN];
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_confine(c, err, sizeof(err)) != 0) {
			fprintf(stderr, "confine: %s\n", err);
			_exit(100);
		}
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
assert_exit0(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
assert_sigsys(int status)
{
	if (WIFEXITED(status))
		fail_msg("child survived, exit status %d", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* ---- what a confined process is ---- */

static int
check_identity(void *arg)
{
	struct rlimit rl;
	gid_t groups[16];
	int n, i, have = 0;

	(void)arg;
	if (open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 || errno != ENOENT)
		return 1;
	if (getuid() == 0 || geteuid() == 0 || getuid() != sc.uid)
		return 2;
	if (getgid() != sc.gid || getegid() != sc.gid)
		return 3;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 4;
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)	/* filter mode */
		return 5;
	if ((n = getgroups(16, groups)) < 0)
		return 6;
	for (i = 0; i < n; i++) {
		if (groups[i] == 0)
			return 7;
		if (groups[i] == sc.gids[sc.ngids - 1])
			have = 1;
	}
	if (!have)
		return 8;	/* the serial group must stay */
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 9;	/* no core dumps, no ptrace by the same uid */
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 10;
	return 0;
}

static void
test_confined_identity(void **state)
{
	(void)state;
	assert_exit0(run_confined(&sc, check_identity, NULL));
}

/* ---- allowed work still succeeds ---- */

struct work_arg {
	int	listen_port;
	int	unix_fd;
};

static int
allowed_work(void *varg)
{
	struct work_arg *a = varg;
	struct sockaddr_in sin;
	struct itimerspec its;
	struct pollfd pfd;
	char buf[16];
	int fd, s, tfd;

	/* The spool's pattern: write, fsync, rename, read back. */
	if ((fd = open("/seg.tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		return 1;
	if (write(fd, "record\n", 7) != 7 || fsync(fd) != 0 || close(fd) != 0)
		return 2;
	if (rename("/seg.tmp", "/seg") != 0)
		return 3;
	if ((fd = open("/seg", O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, buf, sizeof(buf)) != 7 || close(fd) != 0)
		return 4;
	if (mkdir("/spool", 0700) != 0 || unlink("/seg") != 0)
		return 5;

	/* The loop: timerfd and poll. */
	if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
	    TFD_NONBLOCK)) < 0)
		return 6;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 1000000;
	if (timerfd_settime(tfd, 0, &its, NULL) != 0)
		return 7;
	pfd.fd = tfd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) != 1)
		return 8;
	close(tfd);

	/* The uplink: a TCP connect to the broker. */
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 9;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(a->listen_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		return 10;
	if (send(s, "x", 1, MSG_NOSIGNAL) != 1)
		return 11;
	close(s);

	/* sd_notify: send on a datagram socket connected before the chroot. */
	if (send(a->unix_fd, "WATCHDOG=1", 10, MSG_NOSIGNAL) != 10)
		return 12;

	/* glibc's getaddrinfo probes rtnetlink: refused, not killed. */
	if (socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0) >= 0 ||
	    errno != EAFNOSUPPORT)
		return 13;
	return 0;
}

static void
test_allowed_work(void **state)
{
	struct work_arg a;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char buf[32], path[128];
	struct stat st;
	int ls, sv[2], c;

	(void)state;
	assert_true((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv),
	    0);
	a.listen_port = ntohs(sin.sin_port);
	a.unix_fd = sv[1];

	assert_exit0(run_confined(&sc, allowed_work, &a));

	assert_true((c = accept(ls, NULL, NULL)) >= 0);
	assert_int_equal(read(c, buf, 1), 1);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 10);
	assert_memory_equal(buf, "WATCHDOG=1", 10);
	/* The child's writes landed inside the state directory. */
	snprintf(path, sizeof(path), "%s/spool", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, sc.uid);
	close(c);
	close(ls);
	close(sv[0]);
	close(sv[1]);
}

/* glibc inside the chroot: etc/hosts and etc/resolv.conf at every lookup;
 * two answers make it sort them (an rtnetlink probe, refused, and a UDP
 * connect per address). */
static int
resolve_broker(void *arg)
{
	struct addrinfo hints, *res = NULL, *ai;
	int n = 0;

	(void)arg;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("broker.test", "8883", &hints, &res) != 0)
		return 1;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	freeaddrinfo(res);
	return n == 2 ? 0 : 2;
}

static void
test_resolver_inside_chroot(void **state)
{
	char path[128];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/etc", state_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/hosts", state_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("127.0.0.1 broker.test\n::1 broker.test\n", f);
	assert_int_equal(fclose(f), 0);
	/* Read at the first lookup, which is inside the chroot. */
	snprintf(path, sizeof(path), "%s/etc/host.conf", state_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("multi on\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/etc/resolv.conf", state_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_exit0(run_confined(&sc, resolve_broker, NULL));
}

/* ---- forbidden syscalls kill ---- */

static int
try_execve(void *arg)
{
	char *argv[] = { "/bin/true", NULL };

	(void)arg;
	execve(argv[0], argv, NULL);
	return 1;
}

static int
try_ptrace(void *arg)
{
	(void)arg;
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	return 1;
}

static int
try_listen(void *arg)
{
	int s;

	(void)arg;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 2;
	(void)listen(s, 1);
	return 1;
}

static int
try_bind(void *arg)
{
	struct sockaddr_in sin;
	int s;

	(void)arg;
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	(void)bind(s, (struct sockaddr *)&sin, sizeof(sin));
	return 1;
}

static int
try_accept(void *arg)
{
	(void)arg;
	(void)accept(0, NULL, NULL);
	return 1;
}

static int
try_packet_socket(void *arg)
{
	(void)arg;
	(void)socket(AF_PACKET, SOCK_RAW, 0);
	return 1;
}

static int
try_setuid(void *arg)
{
	(void)arg;
	(void)setuid(0);
	return 1;
}

static int
try_exec_mmap(void *arg)
{
	(void)arg;
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	return 1;
}

/* A compromised worker must not stop its parent (the service). */
static int
try_kill_parent(void *arg)
{
	(void)arg;
	(void)kill(getppid(), 0);
	return 1;
}

static int
try_tgkill_parent(void *arg)
{
	(void)arg;
	(void)syscall(SYS_tgkill, getppid(), getppid(), 0);
	return 1;
}

/* raise() and abort() still work: tgkill of itself. */
static int
try_raise_self(void *arg)
{
	(void)arg;
	(void)kill(getpid(), 0);
	(void)raise(SIGUSR1);
	return 1;
}

static void test_kill_parent_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_kill_parent, NULL)); }
static void test_tgkill_parent_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_tgkill_parent, NULL)); }

static void
test_raise_self_allowed(void **state)
{
	int status;

	(void)state;
	status = run_confined(&sc, try_raise_self, NULL);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGUSR1);
}

static void test_execve_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_execve, NULL)); }
static void test_ptrace_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_ptrace, NULL)); }
static void test_listen_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_listen, NULL)); }
static void test_bind_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_bind, NULL)); }
static void test_accept_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_accept, NULL)); }
static void test_packet_socket_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_packet_socket, NULL)); }
static void test_setuid_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_setuid, NULL)); }
static void test_exec_mapping_killed(void **s) { (void)s;
	assert_sigsys(run_confined(&sc, try_exec_mmap, NULL)); }

/* ---- trap mode names the syscall and carries on ---- */

static int
trap_execve(void *arg)
{
	char *argv[] = { "/bin/true", NULL };

	(void)arg;
	if (execve(argv[0], argv, NULL) != -1 || errno != ENOSYS)
		return 1;
	return 0;
}

static void
test_trap_mode_names_syscall(void **state)
{
	struct sandbox_conf t = sc;
	char buf[512];
	ssize_t n;
	int p[2], saved, status;

	(void)state;
	t.mode = SANDBOX_MODE_TRAP;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	status = run_confined(&t, trap_execve, NULL);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_exit0(status);
	assert_non_null(strstr(buf, "refused syscall execve ("));
}

/* ---- preconditions ---- */

static void
test_check_dir(void **state)
{
	char dir[96], link[96], err[SANDBOX_ERR_LEN];
	int r;

	(void)state;
	assert_int_equal(sandbox_check_dir(state_dir, sc.uid, err,
	    sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/sub", state_dir);
	assert_int_equal(mkdir(dir, 0770), 0);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(sandbox_check_dir(dir, sc.uid, err, sizeof(err)),
	    -EPERM);
	assert_non_null(strstr(err, "writable by group"));
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chown(dir, 4242, 4242), 0);
	assert_int_equal(sandbox_check_dir(dir, sc.uid, err, sizeof(err)),
	    -EPERM);
	assert_non_null(strstr(err, "owned by uid 4242"));
	assert_int_equal(chown(dir, 0, 0), 0);
	assert_int_equal(sandbox_check_dir(dir, sc.uid, err, sizeof(err)), 0);
	snprintf(link, sizeof(link), "%s/link", state_dir);
	assert_int_equal(symlink(dir, link), 0);
	/* A link is refused (ENOTDIR with O_DIRECTORY|O_NOFOLLOW). */
	r = sandbox_check_dir(link, sc.uid, err, sizeof(err));
	assert_true(r == -ENOTDIR || r == -ELOOP);
	assert_int_equal(sandbox_check_dir("tmp", sc.uid, err, sizeof(err)),
	    -EINVAL);
}

static void
test_confine_refuses_bad_dir(void **state)
{
	struct sandbox_conf t = sc;
	char err[SANDBOX_ERR_LEN];
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(chmod(state_dir, 0777), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(sandbox_confine(&t, err, sizeof(err)) == -EPERM &&
		    getuid() == 0 ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(state_dir, 0700), 0);
	assert_exit0(status);
}

/* An open directory from outside is a way out of a chroot. */
static void
test_confine_refuses_open_directory(void **state)
{
	char err[SANDBOX_ERR_LEN];
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (open("/", O_RDONLY | O_DIRECTORY) < 0)
			_exit(2);
		_exit(sandbox_confine(&sc, err, sizeof(err)) == -EBADF &&
		    strstr(err, "open directory") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exit0(status);
}

/* The daemon keeps the state directory and its spool open (fsync of the
 * directory): directories inside the new root are no way out of it. */
static void
test_confine_allows_directory_inside(void **state)
{
	char err[SANDBOX_ERR_LEN], sub[128];
	pid_t pid;
	int status;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/spool", state_dir);
	assert_true(mkdir(sub, 0700) == 0 || errno == EEXIST);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (open(state_dir, O_RDONLY | O_DIRECTORY) < 0 ||
		    open(sub, O_RDONLY | O_DIRECTORY) < 0)
			_exit(2);
		if (sandbox_confine(&sc, err, sizeof(err)) != 0) {
			fprintf(stderr, "confine: %s\n", err);
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exit0(status);
}

static void
test_resolve_unknown(void **state)
{
	struct sandbox_conf t;
	char err[SANDBOX_ERR_LEN];

	(void)state;
	memset(&t, 0, sizeof(t));
	t.state_dir = state_dir;
	t.user = "no-such-user-fb";
	assert_int_equal(sandbox_resolve(&t, err, sizeof(err)), -ESRCH);
	assert_false(t.resolved);
	t.user = TEST_USER;
	t.groups[0] = "no-such-group-fb";
	assert_int_equal(sandbox_resolve(&t, err, sizeof(err)), -ESRCH);
	t.user = "root";
	t.groups[0] = NULL;
	assert_int_equal(sandbox_resolve(&t, err, sizeof(err)), -EINVAL);
}

static void
test_make_dir(void **state)
{
	struct sandbox_conf t = sc;
	char err[SANDBOX_ERR_LEN], path[128];
	struct stat st;

	(void)state;
	assert_int_equal(chown(state_dir, 0, 0), 0);
	assert_int_equal(sandbox_make_dir(&t, "spool", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/spool", state_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, sc.uid);
	assert_int_equal(st.st_gid, sc.gid);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Idempotent. */
	assert_int_equal(sandbox_make_dir(&t, "spool", err, sizeof(err)), 0);
	/* A spool of an earlier version (root:group 02770) is taken over:
	 * the set-group-id bit goes (RestrictSUIDSGID= would refuse to set
	 * it, and nothing needs it). */
	assert_int_equal(chown(path, 0, sc.gid), 0);
	assert_int_equal(chmod(path, 02770), 0);
	assert_int_equal(sandbox_make_dir(&t, "spool", err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, sc.uid);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(sandbox_make_dir(&t, "../x", err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(chown(state_dir, sc.uid, sc.gid), 0);
}

/* ---- the filters as text, and the mode switch ---- */

static void
test_filter_print(void **state)
{
	char path[] = "/tmp/fb-pfc-XXXXXX", *text;
	long n;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(sandbox_filter_print(SANDBOX_ROLE_CHILD, fd), 0);
	assert_true((n = lseek(fd, 0, SEEK_END)) > 0);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(pread(fd, text, (size_t)n, 0), n);
	assert_non_null(strstr(text, "\"openat\""));
	assert_non_null(strstr(text, "\"ioctl\""));
	assert_null(strstr(text, "\"execve\""));
	assert_null(strstr(text, "\"bind\""));
	assert_null(strstr(text, "\"chroot\""));
	free(text);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(sandbox_filter_print(SANDBOX_ROLE_PARENT, fd), 0);
	assert_true((n = lseek(fd, 0, SEEK_END)) > 0);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(pread(fd, text, (size_t)n, 0), n);
	assert_non_null(strstr(text, "\"chroot\""));
	assert_non_null(strstr(text, "\"wait4\""));
	assert_null(strstr(text, "\"execve\""));
	assert_null(strstr(text, "\"ptrace\""));
	free(text);
	close(fd);
	unlink(path);
}

static void
test_mode_parse(void **state)
{
	enum sandbox_mode m;

	(void)state;
	assert_int_equal(sandbox_mode_parse("trap", &m), 0);
	assert_int_equal(m, SANDBOX_MODE_TRAP);
	assert_string_equal(sandbox_mode_name(m), "trap");
	assert_int_equal(sandbox_mode_parse("off", &m), 0);
	assert_int_equal(m, SANDBOX_MODE_OFF);
	assert_int_equal(sandbox_mode_parse("kill", &m), 0);
	assert_int_equal(m, SANDBOX_MODE_KILL);
	assert_int_equal(sandbox_mode_parse("Kill", &m), -EINVAL);
	assert_int_equal(m, SANDBOX_MODE_KILL);
	assert_int_equal(sandbox_mode_parse(NULL, &m), -EINVAL);
}

/* The parent's filter must let every new child confine itself. */
static int
nested_confine(void *arg)
{
	/* Confined under both filters: the same process as alone. */
	return check_identity(arg);
}

static void
test_parent_filter_allows_child_confinement(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "/bin/true", NULL };
		char err[SANDBOX_ERR_LEN];
		pid_t c;
		int st;

		if (sandbox_filter_load(SANDBOX_ROLE_PARENT,
		    SANDBOX_MODE_KILL) != 0)
			_exit(10);
		if ((c = fork()) < 0)
			_exit(11);
		if (c == 0) {
			if (sandbox_confine(&sc, err, sizeof(err)) != 0)
				_exit(100);
			_exit(nested_confine(NULL));
		}
		if (waitpid(c, &st, 0) != c || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			_exit(12);
		/* ... and still no execve for the parent itself. */
		execve(argv[0], argv, NULL);
		_exit(13);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_sigsys(status);
}

/* systemd's User= start: already the service user, with CAP_SYS_CHROOT
 * as an ambient capability; confinement must chroot and drop it. */
static void
test_confine_started_as_service_user(void **state)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	char err[SANDBOX_ERR_LEN];
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 ||
		    setgroups(sc.ngids, sc.gids) != 0 ||
		    setresgid(sc.gid, sc.gid, sc.gid) != 0 ||
		    setresuid(sc.uid, sc.uid, sc.uid) != 0)
			_exit(10);
		memset(&hdr, 0, sizeof(hdr));
		memset(data, 0, sizeof(data));
		hdr.version = _LINUX_CAPABILITY_VERSION_3;
		data[0].effective = data[0].permitted = data[0].inheritable =
		    1u << CAP_SYS_CHROOT;
		if (syscall(SYS_capset, &hdr, data) != 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_CHROOT,
		    0, 0) != 0)
			_exit(11);
		if (sandbox_confine(&sc, err, sizeof(err)) != 0) {
			fprintf(stderr, "confine: %s\n", err);
			_exit(12);
		}
		_exit(check_identity(NULL));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exit0(status);

	/* Any other unprivileged user is refused. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setresuid(4242, 4242, 4242) != 0)
			_exit(10);
		_exit(sandbox_confine(&sc, err, sizeof(err)) == -EPERM ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exit0(status);
}

#ifdef FB_TEST_HOOKS
/* The test-only trigger compiled into test builds of the daemon. */
static int
hook_noop(void *arg)
{
	(void)arg;
	return 0;
}

static void
test_hook_escape(void **state)
{
	(void)state;
	setenv("FB_TEST_ESCAPE", "bind", 1);
	assert_sigsys(run_confined(&sc, hook_noop, NULL));
	setenv("FB_TEST_ESCAPE", "execve", 1);
	assert_sigsys(run_confined(&sc, hook_noop, NULL));
	setenv("FB_TEST_ESCAPE", "open", 1);
	assert_exit0(run_confined(&sc, hook_noop, NULL));
	unsetenv("FB_TEST_ESCAPE");
}
#endif

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_identity),
		cmocka_unit_test(test_allowed_work),
		cmocka_unit_test(test_resolver_inside_chroot),
		cmocka_unit_test(test_execve_killed),
		cmocka_unit_test(test_ptrace_killed),
		cmocka_unit_test(test_listen_killed),
		cmocka_unit_test(test_bind_killed),
		cmocka_unit_test(test_accept_killed),
		cmocka_unit_test(test_packet_socket_killed),
		cmocka_unit_test(test_setuid_killed),
		cmocka_unit_test(test_exec_mapping_killed),
		cmocka_unit_test(test_trap_mode_names_syscall),
		cmocka_unit_test(test_check_dir),
		cmocka_unit_test(test_confine_refuses_bad_dir),
		cmocka_unit_test(test_confine_refuses_open_directory),
		cmocka_unit_test(test_confine_allows_directory_inside),
		cmocka_unit_test(test_resolve_unknown),
		cmocka_unit_test(test_make_dir),
		cmocka_unit_test(test_kill_parent_killed),
		cmocka_unit_test(test_tgkill_parent_killed),
		cmocka_unit_test(test_raise_self_allowed),
		cmocka_unit_test(test_filter_print),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_parent_filter_allows_child_confinement),
		cmocka_unit_test(test_confine_started_as_service_user),
#ifdef FB_TEST_HOOKS
		cmocka_unit_test(test_hook_escape),
#endif
	};

	/* tests/test_unit.sh compares the filters with the unit's. */
	if (argc == 3 && strcmp(argv[1], "--print-filter") == 0)
		return sandbox_filter_print(strcmp(argv[2], "parent") == 0 ?
		    SANDBOX_ROLE_PARENT : SANDBOX_ROLE_CHILD, STDOUT_FILENO) ?
		    1 : 0;
	if (geteuid() != 0) {
		printf("test_sandbox: SKIP: needs root (chroot and setuid)\n");
		return 77;
	}
	if (getpwnam(TEST_USER) == NULL || getgrnam(TEST_GROUP) == NULL) {
		printf("test_sandbox: SKIP: no user %s or group %s\n",
		    TEST_USER, TEST_GROUP);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
