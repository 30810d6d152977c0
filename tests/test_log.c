/*
 * test_log.c - the log line format (priority prefix, module tag, errno
 * text, level filter) and the rate limiter for node-triggered lines, as
 * they reach stderr: each test points fd 2 at a pipe and reads it back.
 */
#define LOG_MODULE	"test"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/log.h"

static char	captured[8192];
static int	nlines;
static int	pipe_rd = -1, saved_err = -1;

/* What the log wrote to stderr since the last reset, in captured; the
 * count of lines in nlines. */
static const char *
grab(void)
{
	size_t used = strlen(captured);
	ssize_t n;

	while ((n = read(pipe_rd, captured + used,
	    sizeof(captured) - 1 - used)) > 0) {
		used += (size_t)n;
		captured[used] = '\0';
	}
	for (nlines = 0, n = 0; captured[n] != '\0'; n++)
		nlines += captured[n] == '\n';
	return captured;
}

static void
reset(void)
{
	(void)grab();
	captured[0] = '\0';
	nlines = 0;
}

static int
setup(void **state)
{
	struct stat st;
	char env[64];
	int p[2];

	(void)state;
	captured[0] = '\0';
	nlines = 0;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    (saved_err = dup(STDERR_FILENO)) < 0 ||
	    dup2(p[1], STDERR_FILENO) < 0)
		return -1;
	close(p[1]);
	pipe_rd = p[0];
	/* The pipe stands for the journal: lines carry their "<N>". */
	if (fstat(STDERR_FILENO, &st) != 0)
		return -1;
	(void)snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(LOG_DEBUG);
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/* stderr back; what is left in the pipe (a failed assertion's message)
 * goes to the real one. */
static int
teardown(void **state)
{
	char buf[512];
	ssize_t n;

	(void)state;
	(void)dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	while ((n = read(pipe_rd, buf, sizeof(buf))) > 0)
		(void)write(STDERR_FILENO, buf, (size_t)n);
	close(pipe_rd);
	return 0;
}

static void
test_format(void **state)
{
	(void)state;
	errno = ENOENT;
	log_warn("open %s", "x.conf");
	log_info("hello %d", 42);
	log_debug("dbg");
	assert_string_equal(grab(), "<4>test: open x.conf: "
	    "No such file or directory\n<6>test: hello 42\n<7>test: dbg\n");
}

static void
test_level_filter(void **state)
{
	(void)state;
	log_setlevel(LOG_INFO);
	log_debug("hidden");
	log_warnx("shown");
	assert_string_equal(grab(), "<4>test: shown\n");
}

/* A long message is cut, but the line still ends with a newline. */
static void
test_truncated_line_ends_with_newline(void **state)
{
	char big[3 * LOG_LINE_MAX];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	(void)grab();
	assert_int_equal(nlines, 1);
	assert_true(strlen(grab()) <= LOG_LINE_MAX + 64);
	assert_int_equal(captured[strlen(captured) - 1], '\n');
}

static void
test_ratelimit(void **state)
{
	struct log_ratelimit rl;
	int i, printed = 0;

	(void)state;
	log_ratelimit_init(&rl, "lora0: bad_tag drops", 1000, 3);
	for (i = 0; i < 10; i++)
		printed += log_rl(&rl, 5000 + (uint64_t)i, LOG_INFO, "main",
		    "drop %d", i);
	assert_int_equal(printed, 3);
	(void)grab();
	assert_int_equal(nlines, 3);
	/* Still in the same interval: nothing. */
	log_rl_flush(&rl, 5999);
	(void)grab();
	assert_int_equal(nlines, 3);
	/* A new line after the interval: summary first, then the line. */
	reset();
	assert_int_equal(log_rl(&rl, 6000, LOG_INFO, "main", "drop again"), 1);
	assert_string_equal(grab(), "<6>main: lora0: bad_tag drops: 7 more "
	    "similar messages suppressed\n<6>main: drop again\n");
}

static void
test_ratelimit_flush_without_new_line(void **state)
{
	struct log_ratelimit rl;
	int i;

	(void)state;
	log_ratelimit_init(&rl, "flood", 1000, 1);
	for (i = 0; i < 5; i++)
		(void)log_rl(&rl, 100, LOG_WARNING, "main", "x");
	reset();
	log_rl_flush(&rl, 1100);
	assert_string_equal(grab(),
	    "<4>main: flood: 4 more similar messages suppressed\n");
	/* Reported once only. */
	reset();
	log_rl_flush(&rl, 5000);
	assert_string_equal(grab(), "");
}

/* Logs one line with stderr redirected to a file; returns what came. */
static void
stderr_line(int journal, char *out, size_t sz)
{
	char path[] = "/tmp/test_log.XXXXXX", env[64];
	struct stat st;
	ssize_t n;
	int fd, saved;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	(void)snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (journal ? 0 : 1));
	setenv("JOURNAL_STREAM", env, 1);
	log_init(LOG_INFO);
	log_info("to %s", journal ? "the journal" : "a file");
	(void)dup2(saved, STDERR_FILENO);
	close(saved);
	unsetenv("JOURNAL_STREAM");
	n = pread(fd, out, sz - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
}

/* "<PRIO>" only when stderr is the journal ($JOURNAL_STREAM names it). */
static void
test_prefix_only_for_the_journal(void **state)
{
	char buf[256];

	(void)state;
	stderr_line(1, buf, sizeof(buf));
	assert_string_equal(buf, "<6>test: to the journal\n");
	stderr_line(0, buf, sizeof(buf));
	assert_string_equal(buf, "test: to a file\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_filter, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_truncated_line_ends_with_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ratelimit_flush_without_new_line, setup, teardown),
		cmocka_unit_test(test_prefix_only_for_the_journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
