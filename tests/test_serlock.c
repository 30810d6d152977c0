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

/*
 * A lock's name: the device a link resolves to; for a pty, the configured
 * path, since the pty's number goes to the next program as soon as it is
 * closed.  Two lines on ptys that had the same number are locked apart.
 */
static void
test_lock_key(void **state)
{
	const char *dir = *state;
	char link1[300], link2[300], key1[SERLOCK_KEY_MAX];
	char key2[SERLOCK_KEY_MAX], want[400], holder[SERLOCK_HOLDER_MAX];
	char name[64], name2[64], lockf[600], longp[600];
	pid_t other = other_process();
	int m, s;
	size_t i;

	snprintf(link1, sizeof(link1), "%s/null.link", dir);
	assert_int_equal(symlink("/dev/null", link1), 0);
	assert_int_equal(serlock_key(link1, key1, sizeof(key1)), 0);
	assert_string_equal(key1, "/dev/null");
	assert_int_equal(serlock_key(link1, key1, 5), -ENAMETOOLONG);
	snprintf(link2, sizeof(link2), "%s/missing.tty", dir);
	assert_int_equal(serlock_key(link2, key2, sizeof(key2)), -ENOENT);

	/* The first pty, locked by another live process, then closed. */
	assert_int_equal(openpty(&m, &s, name, NULL, NULL), 0);
	snprintf(link1, sizeof(link1), "%s/a.tty", dir);
	assert_int_equal(symlink(name, link1), 0);
	assert_int_equal(serlock_key(link1, key1, sizeof(key1)), 0);
	snprintf(want, sizeof(want), "pty%s", link1);
	for (i = 0; want[i] != '\0'; i++)
		if (want[i] == '/')
			want[i] = '_';
	assert_string_equal(key1, want);
	assert_int_equal(serlock_acquire(dir, key1, other, holder,
	    sizeof(holder)), 0);
	snprintf(lockf, sizeof(lockf), "%s/LCK..%s", dir, want);
	assert_int_equal(access(lockf, F_OK), 0);
	close(s);
	close(m);
	/* The next pty: the kernel hands out the lowest free number. */
	assert_int_equal(openpty(&m, &s, name2, NULL, NULL), 0);
	assert_string_equal(name2, name);
	snprintf(link2, sizeof(link2), "%s/b.tty", dir);
	assert_int_equal(symlink(name2, link2), 0);
	assert_int_equal(serlock_key(link2, key2, sizeof(key2)), 0);
	assert_string_not_equal(key1, key2);
	assert_int_equal(serlock_acquire(dir, key2, getpid(), holder,
	    sizeof(holder)), 0);
	/* The same configured path is the same line. */
	assert_int_equal(serlock_acquire(dir, key1, getpid(), holder,
	    sizeof(holder)), -EBUSY);
	serlock_release(dir, key2, getpid());

	/* A pty path too long for a lock file's name (each part is not). */
	snprintf(longp, sizeof(longp), "%s/%0200d", dir, 0);
	assert_int_equal(mkdir(longp, 0700), 0);
	snprintf(longp + strlen(longp), sizeof(longp) - strlen(longp),
	    "/%060d.tty", 0);
	assert_int_equal(symlink(name2, longp), 0);
	assert_int_equal(serlock_key(longp, key2, sizeof(key2)),
	    -ENAMETOOLONG);
	assert_int_equal(unlink(longp), 0);
	*strrchr(longp, '/') = '\0';
	assert_int_equal(rmdir(longp), 0);
	close(s);
	close(m);
	reap(other);
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
		T(test_lock_key),
		cmocka_unit_test(test_second_opener_cannot_read_the_line),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
