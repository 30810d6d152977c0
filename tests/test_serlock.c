/*
 * test_serlock.c - the serial line is ours alone (radio/serlock.c,
 * radio/serial.c): a UUCP lock held by a live process keeps a second
 * opener out and names the holder, a stale one is taken over, only its
 * owner releases it; serial_open refuses a locked line and leaves no lock
 * behind when it fails; TIOCEXCL keeps an unprivileged opener out.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "radio/serial.h"
#include "radio/serlock.h"
#include "tests/testutil.h"

#define DEV	"/dev/ttyFAKE7"

/* A live process that is not us: a child that waits to be killed. */
static pid_t
other_process(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void
reap(pid_t pid)
{
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void
test_live_holder_keeps_others_out(void **state)
{
	const char *dir = *state;
	char holder[SERLOCK_HOLDER_MAX], path[300], buf[32];
	pid_t other = other_process();
	int fd;

	assert_int_equal(serlock_acquire(dir, DEV, other, holder,
	    sizeof(holder)), 0);
	/* The UUCP format: ten digits and a newline. */
	snprintf(path, sizeof(path), "%s/LCK..ttyFAKE7", dir);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 11);
	close(fd);
	buf[11] = '\0';
	assert_int_equal(atol(buf), (long)other);
	assert_int_equal(serlock_acquire(dir, DEV, getpid(), holder,
	    sizeof(holder)), -EBUSY);
	snprintf(buf, sizeof(buf), "PID %ld (", (long)other);
	assert_non_null(strstr(holder, buf));
	assert_int_equal(serlock_holder(dir, DEV, getpid(), holder,
	    sizeof(holder)), 1);
	/* Only the owner releases it; the owner may take it again. */
	serlock_release(dir, DEV, getpid());
	assert_int_equal(serlock_acquire(dir, DEV, getpid(), holder,
	    sizeof(holder)), -EBUSY);
	assert_int_equal(serlock_acquire(dir, DEV, other, holder,
	    sizeof(holder)), 0);
	assert_int_equal(serlock_holder(dir, DEV, other, holder,
	    sizeof(holder)), 0);
	reap(other);
}

static void
test_stale_lock_is_taken_over(void **state)
{
	const char *dir = *state;
	char holder[SERLOCK_HOLDER_MAX], path[300];
	pid_t other = other_process();
	int fd;

	assert_int_equal(serlock_acquire(dir, DEV, other, holder,
	    sizeof(holder)), 0);
	reap(other);
	assert_int_equal(serlock_holder(dir, DEV, getpid(), holder,
	    sizeof(holder)), 0);
	assert_int_equal(serlock_acquire(dir, DEV, getpid(), holder,
	    sizeof(holder)), 0);
	serlock_release(dir, DEV, getpid());
	snprintf(path, sizeof(path), "%s/LCK..ttyFAKE7", dir);
	assert_int_equal(access(path, F_OK), -1);
	/* Garbage (a program that died while writing it) is stale too. */
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	assert_int_equal(write(fd, "xyz", 3), 3);
	close(fd);
	assert_int_equal(serlock_acquire(dir, DEV, getpid(), holder,
	    sizeof(holder)), 0);
}

static void
test_unwritable_dir_is_an_error(void **state)
{
	char holder[SERLOCK_HOLDER_MAX], path[300];

	snprintf(path, sizeof(path), "%s/missing", (const char *)*state);
	assert_int_equal(serlock_acquire(path, DEV, getpid(), holder,
	    sizeof(holder)), -ENOENT);
}

/*
 * TIOCEXCL, as serial_exclusive sets it on a real line: a second opener
 * without CAP_SYS_ADMIN (a child that drops to nobody when we are root)
 * gets EBUSY and reads nothing.  A pty stands in for the line: the ioctl
 * is the same, serial_exclusive only leaves ptys alone (see serial.c).
 */
static void
test_second_opener_cannot_read_the_line(void **state)
{
	char name[64];
	pid_t pid;
	int m, s, st;

	(void)state;
	assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
	assert_int_equal(chmod(name, 0666), 0);
	/* serial_configure leaves a pty shareable... */
	assert_int_equal(serial_configure(s, 115200), 0);
	/* ...and the line's own ioctl makes it ours. */
	assert_int_equal(ioctl(s, TIOCEXCL), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 ||
		    setuid(65534) != 0))
			_exit(3);
		if (open(name, O_RDWR | O_NOCTTY | O_NONBLOCK) >= 0)
			_exit(1);
		_exit(errno == EBUSY ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	close(s);
	close(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f)	cmocka_unit_test_setup_teardown(f, \
	    testutil_tmpdir_setup, testutil_tmpdir_teardown)
		T(test_live_holder_keeps_others_out),
		T(test_stale_lock_is_taken_over),
		T(test_unwritable_dir_is_an_error),
		cmocka_unit_test(test_second_opener_cannot_read_the_line),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
