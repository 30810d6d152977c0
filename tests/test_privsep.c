/*
 * test_privsep.c - the privileged parent and its child, for real: each test
 * forks a "service" process that runs privsep_start() under the parent's
 * seccomp filter; its child confines itself (as "nobody", when we are root)
 * and obeys one-letter commands read from a pipe, answering one line per
 * command on another pipe.  Serial lines are real ptys behind symlinks, as
 * /dev/serial/by-id links are.
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
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"
#include "daemon/sandbox/privsep.h"
#include "daemon/sandbox/sandbox.h"

#define WAIT_MS		5000	/* for anything that should be quick */

static char tmp[64];
static char state_dir[96], tty_link[96], other_link[96], registry[96];
static char hosts_src[96], cert_src[96];
static int ctl[2], res[2];		/* test -> child, child -> test */
static int master = -1;
static int do_confine;
static struct sandbox_conf sc;
static const char *serial_paths[2];
static struct privsep_copy copies[2];
static struct privsep_conf pc;

/* ------------------------------------------------------------------ */
/* The child's side: a stand-in for the daemon's main loop.             */
/* ------------------------------------------------------------------ */

static void
report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(res[1], line, (size_t)n);
}

static unsigned int configured_baud;

static int
configure_raw(int fd, unsigned int baud)
{
	struct termios t;

	configured_baud = baud;
	if (tcgetattr(fd, &t) != 0)
		return -errno;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) != 0)
		return -errno;
	return 0;
}

static void
send_raw(struct privsep_child *ch, const uint8_t *buf, size_t len, int pass)
{
	union {
		struct cmsghdr	cm;
		char		b[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	int fd = STDIN_FILENO;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass) {
		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.b;
		msg.msg_controllen = sizeof(cbuf.b);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	}
	(void)sendmsg(privsep_child_fd(ch), &msg, MSG_NOSIGNAL);
}

/* Malformed messages; the parent must end this child. */
static void
malformed(struct privsep_child *ch, char op)
{
	static uint8_t big[5000];
	/* OPEN_FILE registry, correct: 00 00 00 09 00 02 00 00 00 */
	uint8_t m[16] = { 0, 0, 0, 9, 0, 2, 0, 0, 0 };
	char c;

	switch (op) {
	case 'T':		/* truncated: claims 20 bytes, sends 9 */
		m[3] = 20;
		send_raw(ch, m, 9, 0);
		break;
	case 'L':		/* oversized */
		big[2] = 5000 >> 8;
		big[3] = 5000 & 0xff;
		big[5] = 2;
		send_raw(ch, big, sizeof(big), 0);
		break;
	case 'U':		/* unknown type */
		m[4] = 0x77;
		send_raw(ch, m, 9, 0);
		break;
	case 'D':		/* trailing byte */
		m[3] = 10;
		send_raw(ch, m, 10, 0);
		break;
	case 'P':		/* a descriptor from the child */
		send_raw(ch, m, 9, 1);
		break;
	case 'Z':		/* a reply, from the child */
		m[3] = 12;
		m[5] = 0x81;
		send_raw(ch, m, 12, 0);
		break;
	}
	/* Killed while waiting here; any answer means the parent took it. */
	if (recv(privsep_child_fd(ch), &c, 1, 0) >= 0)
		report("survived %c", op);
	_exit(9);
}

static int
child_main(struct privsep_child *ch, void *arg)
{
	char err[SANDBOX_ERR_LEN], buf[256], op;
	struct signalfd_siginfo si;
	uint8_t *bytes;
	sigset_t set;
	size_t len;
	ssize_t n;
	int fd, r, r2, sfd;

	(void)arg;
	/* As the daemon does: signals through a signalfd, made before. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		return 3;
	if (do_confine && sandbox_confine(&sc, err, sizeof(err)) != 0) {
		report("E %s", err);
		return 4;
	}
	report("S");
	for (;;) {
		if (read(ctl[0], &op, 1) != 1)
			return 0;
		switch (op) {
		case 'Q':
			return 0;
		case 'X':
			return 1;
		case 'F':
			return PRIVSEP_EXIT_FATAL;
		case 'A':
			abort();
		case 'O':
			if ((fd = privsep_open_serial(ch, tty_link, 115200)) < 0) {
				report("O %d", fd);
				break;
			}
			r = write(fd, "hello", 5) == 5 ? 0 : -errno;
			close(fd);
			report("O %d", r);
			break;
		case 'C':
			privsep_set_configure(ch, configure_raw);
			fd = privsep_open_serial(ch, tty_link, 115200);
			privsep_set_configure(ch, NULL);
			report("C %d %u", fd < 0 ? fd : 0, configured_baud);
			if (fd >= 0)
				close(fd);
			break;
		case 'R':
			r = privsep_open_serial(ch, other_link, 9600);
			r2 = privsep_open_serial(ch, "/etc/passwd", 9600);
			report("R %d %d", r, r2);
			break;
		case 'H':
		case 'K':
			r = privsep_fetch_file(ch, op == 'H' ?
			    PRIVSEP_FILE_REGISTRY : PRIVSEP_FILE_KEYS, &bytes,
			    &len);
			if (r < 0)
				report("%c %d", op, r);
			else
				report("%c %.*s", op, (int)len, (char *)bytes);
			privsep_bytes_free(bytes, len);
			break;
		case 'N':	/* the resolver's view from inside */
			fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
			if (fd >= 0)
				close(fd);
			if (n > 0 && buf[n - 1] == '\n')
				n--;
			report("N %.*s", n < 0 ? 0 : (int)n, buf);
			break;
		case 'Y':	/* notifications, relayed by the parent */
			fd = privsep_child_notify_fd(ch);
			(void)send(fd, "READY=1", 7, MSG_NOSIGNAL);
			(void)send(fd, "STATUS=hi\nWATCHDOG=1", 20,
			    MSG_NOSIGNAL);
			break;
		case 'M':	/* one systemd must not get from the child */
			fd = privsep_child_notify_fd(ch);
			(void)send(fd, "MAINPID=1", 9, MSG_NOSIGNAL);
			break;
		case 'W':
			n = read(sfd, &si, sizeof(si));
			report("W %d", n == sizeof(si) ? (int)si.ssi_signo : -1);
			break;
		default:
			malformed(ch, op);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The test's side.                                                     */
/* ------------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
write_file(const char *path, const char *text)
{
	char t[128];
	FILE *f;

	/* Replaced by rename, as editors and DHCP clients do. */
	snprintf(t, sizeof(t), "%s.new", path);
	assert_non_null(f = fopen(t, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(t, path), 0);
}

static char *
read_file(const char *path, char *buf, size_t len)
{
	FILE *f;
	size_t n;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return buf;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
new_pty(void)
{
	char t[128];
	int slave;

	if (master >= 0)
		close(master);
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	snprintf(t, sizeof(t), "%s.new", tty_link);
	(void)unlink(t);
	assert_int_equal(symlink(ptsname(master), t), 0);
	assert_int_equal(rename(t, tty_link), 0);
	(void)unlink(other_link);
	assert_int_equal(symlink(ptsname(master), other_link), 0);
	close(slave);
}

static int
setup(void **state)
{
	struct passwd *pw;
	char err[SANDBOX_ERR_LEN];

	(void)state;
	strcpy(tmp, "/tmp/fb-privsep-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);
	snprintf(tty_link, sizeof(tty_link), "%s/ttyFB0", tmp);
	snprintf(other_link, sizeof(other_link), "%s/ttyOTHER", tmp);
	snprintf(registry, sizeof(registry), "%s/devices.conf", tmp);
	snprintf(hosts_src, sizeof(hosts_src), "%s/hosts", tmp);
	snprintf(cert_src, sizeof(cert_src), "%s/cert.pem", tmp);
	if (mkdir(state_dir, 0755) != 0 || chmod(state_dir, 0755) != 0)
		return -1;
	do_confine = geteuid() == 0 && (pw = getpwnam("nobody")) != NULL &&
	    getgrnam("nogroup") != NULL;
	if (!do_confine)
		printf("test_privsep: not root: the child runs unconfined\n");
	memset(&sc, 0, sizeof(sc));
	sc.state_dir = state_dir;
	sc.user = "nobody";
	sc.groups[0] = "nogroup";
	sc.mode = SANDBOX_MODE_KILL;
	sc.pdeathsig = SIGKILL;
	if (do_confine && sandbox_resolve(&sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (master >= 0)
		close(master);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static int
setup_test(void **state)
{
	(void)state;
	if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(res, O_CLOEXEC) != 0)
		return -1;
	new_pty();
	write_file(registry, "one");
	write_file(hosts_src, "127.0.0.1 broker-a\n");
	write_file(cert_src, "CERT1");
	serial_paths[0] = tty_link;
	serial_paths[1] = NULL;
	copies[0].src = hosts_src;
	copies[0].dst = "etc/hosts";
	copies[0].mode = 0644;
	copies[0].required = 0;
	copies[1].src = cert_src;
	copies[1].dst = "tls/cert.pem";
	copies[1].mode = 0640;
	copies[1].hup_only = 1;
	copies[1].required = 1;
	memset(&pc, 0, sizeof(pc));
	pc.serial_paths = serial_paths;
	pc.files[PRIVSEP_FILE_REGISTRY] = registry;
	pc.state_dir = state_dir;
	pc.copies = copies;
	pc.ncopies = 2;
	pc.copy_gid = do_confine ? sc.gid : getgid();
	pc.mode = SANDBOX_MODE_KILL;
	pc.child_main = child_main;
	pc.backoff_min_ms = 20;
	pc.backoff_max_ms = 100;
	return 0;
}

static int
teardown_test(void **state)
{
	(void)state;
	close(ctl[0]);
	close(ctl[1]);
	close(res[0]);
	close(res[1]);
	return 0;
}

/* The parent's relay in the tests: what systemd would get, as a line on
 * the answer pipe. */
static int
relay_to_pipe(const char *msg, size_t len)
{
	char buf[PRIVSEP_NOTIFY_LEN_MAX + 4];
	size_t i;
	int r;

	if ((r = notify_relay_check(msg, len)) < 0)
		return r;
	buf[0] = 'R';
	buf[1] = ' ';
	for (i = 0; i < len; i++)
		buf[i + 2] = msg[i] == '\n' ? '|' : msg[i];
	buf[len + 2] = '\n';
	return write(res[1], buf, len + 3) == (ssize_t)(len + 3) ? 0 : -EIO;
}

static pid_t
start_service(void)
{
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A failed assertion in the test must not leave it behind. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		_exit(privsep_start(&pc));
	}
	return pid;
}

static void
cmd(char op)
{
	assert_int_equal(write(ctl[1], &op, 1), 1);
}

/* One line from the child, without its newline; fails after WAIT_MS. */
static const char *
line(void)
{
	static char buf[256];
	struct pollfd pfd;
	uint64_t end = now_ms() + WAIT_MS;
	size_t n = 0;
	char c;

	pfd.fd = res[0];
	pfd.events = POLLIN;
	for (;;) {
		uint64_t now = now_ms();

		if (now >= end || poll(&pfd, 1, (int)(end - now)) != 1)
			fail_msg("no answer from the child");
		if (read(res[0], &c, 1) != 1)
			fail_msg("answer pipe closed");
		if (c == '\n')
			break;
		if (n < sizeof(buf) - 1)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

static int
wait_service(pid_t pid)
{
	uint64_t end = now_ms() + WAIT_MS;
	int status;

	while (now_ms() < end) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	fail_msg("service did not stop");
	return -1;
}

static void
assert_exited(int status, int code)
{
	if (WIFSIGNALED(status))
		fail_msg("service killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

static void
read_master(char *buf, size_t len)
{
	struct pollfd pfd;
	size_t got = 0;
	ssize_t n;

	pfd.fd = master;
	pfd.events = POLLIN;
	while (got < len) {
		assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
		assert_true((n = read(master, buf + got, len - got)) > 0);
		got += (size_t)n;
	}
}

/* ---- tests ---- */

static void
test_serial_open_configured(void **state)
{
	char buf[8];
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('O');
	assert_string_equal(line(), "O 0");
	read_master(buf, 5);
	assert_memory_equal(buf, "hello", 5);
	/* With a configure hook, as main passes serial_configure. */
	cmd('C');
	assert_string_equal(line(), "C 0 115200");
	/* The concentrator goes away and comes back at the same path
	 * (a new pty: another /dev/pts number behind the same link). */
	new_pty();
	cmd('O');
	assert_string_equal(line(), "O 0");
	read_master(buf, 5);
	assert_memory_equal(buf, "hello", 5);
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_serial_unconfigured_refused(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('R');
	assert_string_equal(line(), "R -1 -1");	/* -EPERM twice */
	/* Refusal is not fatal: the same child goes on. */
	cmd('O');
	assert_string_equal(line(), "O 0");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_malformed_kills_child_not_parent(void **state)
{
	const char *ops = "TLUDPZ", *p;
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	for (p = ops; *p != '\0'; p++) {
		cmd(*p);
		/* The next line is the restarted child, not "survived". */
		assert_string_equal(line(), "S");
	}
	assert_int_equal(kill(pid, 0), 0);
	cmd('O');
	assert_string_equal(line(), "O 0");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_crash_restarts_with_backoff(void **state)
{
	uint64_t t[4];
	unsigned int want[3] = { 50, 100, 200 };
	pid_t pid;
	int i;

	(void)state;
	pc.backoff_min_ms = 50;
	pc.backoff_max_ms = 400;
	pc.restarts_max = 3;
	pid = start_service();
	for (i = 0; i < 4; i++) {
		assert_string_equal(line(), "S");
		t[i] = now_ms();
		cmd(i == 0 ? 'A' : 'X');	/* abort, then exit(1) */
	}
	/* Three restarts allowed, the fourth failure gives up. */
	assert_exited(wait_service(pid), 1);
	for (i = 0; i < 3; i++)
		if (t[i + 1] - t[i] < want[i])
			fail_msg("restart %d after %llu ms, backoff is %u ms",
			    i + 1, (unsigned long long)(t[i + 1] - t[i]),
			    want[i]);
}

/* NotifyAccess=main: the child's READY=1 and friends reach systemd
 * through the parent; anything else ends the child, not the parent. */
static void
test_notify_relayed(void **state)
{
	pid_t pid;

	(void)state;
	pc.notify = relay_to_pipe;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('Y');
	assert_string_equal(line(), "R READY=1");
	assert_string_equal(line(), "R STATUS=hi|WATCHDOG=1");
	cmd('M');
	/* Not relayed: the next line is the restarted child. */
	assert_string_equal(line(), "S");
	cmd('Y');
	assert_string_equal(line(), "R READY=1");
	assert_string_equal(line(), "R STATUS=hi|WATCHDOG=1");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_crash_then_healthy(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('A');
	assert_string_equal(line(), "S");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_fatal_exit_not_restarted(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('F');
	assert_exited(wait_service(pid), PRIVSEP_EXIT_FATAL);
}

static void
test_fetch_file_current_bytes(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	cmd('H');
	assert_string_equal(line(), "H one");
	write_file(registry, "two-changed");
	cmd('H');
	assert_string_equal(line(), "H two-changed");
	cmd('K');	/* not offered */
	assert_string_equal(line(), "K -2");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_copies_and_sighup(void **state)
{
	char buf[256], path[128];
	struct stat st;
	uint64_t end;
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	snprintf(path, sizeof(path), "%s/etc/hosts", state_dir);
	assert_string_equal(read_file(path, buf, sizeof(buf)),
	    "127.0.0.1 broker-a\n");
	cmd('N');
	assert_string_equal(line(), "N 127.0.0.1 broker-a");
	snprintf(path, sizeof(path), "%s/tls/cert.pem", state_dir);
	assert_string_equal(read_file(path, buf, sizeof(buf)), "CERT1");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_gid, pc.copy_gid);

	/* The resolver file follows by itself... */
	write_file(hosts_src, "127.0.0.1 broker-b\n");
	write_file(cert_src, "CERT2");
	snprintf(path, sizeof(path), "%s/etc/hosts", state_dir);
	end = now_ms() + PRIVSEP_COPY_CHECK_MS + 2000;
	while (strcmp(read_file(path, buf, sizeof(buf)),
	    "127.0.0.1 broker-b\n") != 0 && now_ms() < end)
		usleep(50000);
	assert_string_equal(buf, "127.0.0.1 broker-b\n");
	cmd('N');
	assert_string_equal(line(), "N 127.0.0.1 broker-b");
	/* ... the certificate waits for the operator's SIGHUP. */
	snprintf(path, sizeof(path), "%s/tls/cert.pem", state_dir);
	assert_string_equal(read_file(path, buf, sizeof(buf)), "CERT1");
	cmd('W');
	usleep(50000);
	assert_int_equal(kill(pid, SIGHUP), 0);
	assert_string_equal(line(), "W 1");	/* forwarded to the child */
	/* The copy was renewed before the child heard of it. */
	assert_string_equal(read_file(path, buf, sizeof(buf)), "CERT2");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

/* The clock flag: a "1" left from before a power cut is replaced at start
 * (the flag, on tmpfs, is gone), then the copy follows the flag. */
static void
test_clock_flag_mirrored(void **state)
{
	char buf[16], path[128], flag[128], dir[128];
	uint64_t end;
	pid_t pid;

	(void)state;
	snprintf(flag, sizeof(flag), "%s/synchronized", tmp);
	(void)unlink(flag);
	snprintf(dir, sizeof(dir), "%s/etc", state_dir);
	(void)mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/etc/clock-synced", state_dir);
	write_file(path, "1\n");
	pc.flag_src = flag;
	pc.flag_dst = "etc/clock-synced";
	pid = start_service();
	assert_string_equal(line(), "S");
	assert_string_equal(read_file(path, buf, sizeof(buf)), "0\n");

	write_file(flag, "");
	end = now_ms() + PRIVSEP_COPY_CHECK_MS + 2000;
	while (strcmp(read_file(path, buf, sizeof(buf)), "1\n") != 0 &&
	    now_ms() < end)
		usleep(50000);
	assert_string_equal(buf, "1\n");
	assert_int_equal(unlink(flag), 0);
	end = now_ms() + PRIVSEP_COPY_CHECK_MS + 2000;
	while (strcmp(read_file(path, buf, sizeof(buf)), "0\n") != 0 &&
	    now_ms() < end)
		usleep(50000);
	assert_string_equal(buf, "0\n");
	cmd('Q');
	assert_exited(wait_service(pid), 0);
}

static void
test_sigterm_stops_service(void **state)
{
	pid_t pid;

	(void)state;
	pid = start_service();
	assert_string_equal(line(), "S");
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_exited(wait_service(pid), 0);
}

static void
test_required_copy_missing_fails_start(void **state)
{
	pid_t pid;

	(void)state;
	copies[1].src = "/nonexistent/cert.pem";
	pid = start_service();
	assert_exited(wait_service(pid), 1);
}

/* ---- the codec, directly ---- */

static void
test_codec_roundtrip_and_rejects(void **state)
{
	uint8_t buf[PRIVSEP_MSG_SIZE_MAX + 8];
	struct privsep_req req, out;
	size_t len;
	int result;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.type = PRIVSEP_MSG_OPEN_SERIAL;
	strcpy(req.path, "/dev/ttyUSB0");
	assert_int_equal(privsep_msg_encode(&req, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PRIVSEP_HDR_LEN + 2 + 12);
	assert_int_equal(privsep_msg_parse(buf, len, &out), 0);
	assert_int_equal(out.type, PRIVSEP_MSG_OPEN_SERIAL);
	assert_string_equal(out.path, "/dev/ttyUSB0");
	/* Truncated: one byte short of what the header says. */
	assert_int_equal(privsep_msg_parse(buf, len - 1, &out), -EBADMSG);
	/* A path with a NUL inside. */
	buf[PRIVSEP_HDR_LEN + 2 + 4] = '\0';
	assert_int_equal(privsep_msg_parse(buf, len, &out), -EBADMSG);
	/* Path length beyond the body. */
	assert_int_equal(privsep_msg_encode(&req, buf, sizeof(buf), &len), 0);
	buf[PRIVSEP_HDR_LEN + 1] = 13;
	assert_int_equal(privsep_msg_parse(buf, len, &out), -EBADMSG);
	/* Reserved field set. */
	assert_int_equal(privsep_msg_encode(&req, buf, sizeof(buf), &len), 0);
	buf[7] = 1;
	assert_int_equal(privsep_msg_parse(buf, len, &out), -EBADMSG);
	/* Longest path fits; one more does not encode. */
	memset(req.path, 'a', PRIVSEP_PATH_LEN_MAX);
	req.path[PRIVSEP_PATH_LEN_MAX] = '\0';
	assert_int_equal(privsep_msg_encode(&req, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, PRIVSEP_MSG_SIZE_MAX);
	assert_int_equal(privsep_msg_parse(buf, len, &out), 0);
	assert_int_equal(privsep_msg_parse(buf, len + 1, &out), -EMSGSIZE);
	/* File index out of range. */
	req.type = PRIVSEP_MSG_OPEN_FILE;
	req.which = PRIVSEP_FILE_KEYS;
	assert_int_equal(privsep_msg_encode(&req, buf, sizeof(buf), &len), 0);
	assert_int_equal(privsep_msg_parse(buf, len, &out), 0);
	assert_int_equal(out.which, PRIVSEP_FILE_KEYS);
	buf[PRIVSEP_HDR_LEN] = PRIVSEP_FILE_MAX;
	assert_int_equal(privsep_msg_parse(buf, len, &out), -EBADMSG);
	assert_int_equal(privsep_msg_parse(buf, 0, &out), -EBADMSG);
	/* Replies: 0, -errno, nothing else. */
	memcpy(buf, "\0\0\0\x0c\0\x81\0\0\xff\xff\xff\xfe", 12);
	assert_int_equal(privsep_reply_parse(buf, 12, &result), 0);
	assert_int_equal(result, -2);
	memcpy(buf + 8, "\0\0\0\x01", 4);
	assert_int_equal(privsep_reply_parse(buf, 12, &result), -EBADMSG);
	memcpy(buf + 8, "\x80\0\0\0", 4);
	assert_int_equal(privsep_reply_parse(buf, 12, &result), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip_and_rejects),
		cmocka_unit_test_setup_teardown(test_serial_open_configured,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_serial_unconfigured_refused,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(
		    test_malformed_kills_child_not_parent, setup_test,
		    teardown_test),
		cmocka_unit_test_setup_teardown(test_crash_restarts_with_backoff,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_notify_relayed,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_crash_then_healthy,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_fatal_exit_not_restarted,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_fetch_file_current_bytes,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_copies_and_sighup,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_clock_flag_mirrored,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(test_sigterm_stops_service,
		    setup_test, teardown_test),
		cmocka_unit_test_setup_teardown(
		    test_required_copy_missing_fails_start, setup_test,
		    teardown_test),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
