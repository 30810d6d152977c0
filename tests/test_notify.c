/*
 * test_notify.c - the sd_notify protocol over one socket connected at
 * start: path and abstract sockets, the watchdog period, and that messages
 * still arrive once the socket's path is gone (as after chroot).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/notify.h"

static char	dir[128];
static char	sock_path[256];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_notify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/notify", dir);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	notify_close();
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

/* A listening datagram socket at name ('@' = abstract). */
static int
listener(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

static void
expect_msg(int fd, const char *want)
{
	char buf[256];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
expect_none(int fd)
{
	char buf[64];

	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

static void
test_not_under_systemd(void **state)
{
	(void)state;
	assert_int_equal(notify_open(), 0);
	assert_false(notify_enabled());
	assert_int_equal(notify_send("READY=1"), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
}

static void
test_path_socket_survives_unlink(void **state)
{
	char pid[32];
	int fd = listener(sock_path);

	(void)state;
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", sock_path, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_open(), 0);
	assert_true(notify_enabled());
	/* Read once, then removed from the environment. */
	assert_null(getenv("NOTIFY_SOCKET"));
	assert_null(getenv("WATCHDOG_USEC"));
	assert_int_equal(notify_watchdog_ms(), 1000);
	assert_int_equal(notify_send("READY=1"), 0);
	expect_msg(fd, "READY=1");
	/* After chroot the path is unreachable; the socket still works. */
	unlink(sock_path);
	assert_int_equal(notify_status("connected, %d ports", 2), 0);
	expect_msg(fd, "STATUS=connected, 2 ports");
	notify_watchdog_tick(5000);
	expect_msg(fd, "WATCHDOG=1");
	notify_watchdog_tick(5999);
	expect_none(fd);
	notify_watchdog_tick(6000);
	expect_msg(fd, "WATCHDOG=1");
	close(fd);
}

static void
test_abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@fb-test-notify-%ld", (long)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_send("STOPPING=1"), 0);
	expect_msg(fd, "STOPPING=1");
	close(fd);
}

/* A watchdog meant for another process (WATCHDOG_PID) is not ours. */
static void
test_watchdog_for_other_pid(void **state)
{
	(void)state;
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	assert_int_equal(notify_open(), 0);
	assert_int_equal(notify_watchdog_ms(), 0);
}

static void
test_bad_socket_name(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_open(), -EINVAL);
	setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
	assert_int_equal(notify_open(), -ENOENT);
	assert_false(notify_enabled());
}

/* What the parent relays for the worker (NotifyAccess=main). */
static void
test_relay_check(void **state)
{
	static const char *const good[] = {
		"READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=running",
		"STATUS=", "READY=1\nSTATUS=running", "STATUS=caf\xc3\xa9\n",
	};
	static const char *const bad[] = {
		"", "MAINPID=1", "READY=1\nMAINPID=1", "WATCHDOG=trigger",
		"WATCHDOG_USEC=1", "FDSTORE=1", "EXTEND_TIMEOUT_USEC=9",
		"READY=10", "READY=1\n\nREADY=1", "STATUS=a\rb",
		"STATUS=a\x7f", "ERRNO=1", "BARRIER=1",
	};
	char big[NOTIFY_RELAY_LEN_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (notify_relay_check(good[i], strlen(good[i])) != 0)
			fail_msg("refused: \"%s\"", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (notify_relay_check(bad[i], strlen(bad[i])) != -EBADMSG)
			fail_msg("relayed: \"%s\"", bad[i]);
	/* A NUL inside, and the size limit. */
	assert_int_equal(notify_relay_check("READY=1\0X", 9), -EBADMSG);
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	assert_int_equal(notify_relay_check(big, NOTIFY_RELAY_LEN_MAX), 0);
	assert_int_equal(notify_relay_check(big, NOTIFY_RELAY_LEN_MAX + 1),
	    -EBADMSG);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_not_under_systemd),
		T(test_path_socket_survives_unlink),
		T(test_abstract_socket),
		T(test_watchdog_for_other_pid),
		T(test_bad_socket_name),
		T(test_relay_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
