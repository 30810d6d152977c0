/*
 * wallclock.c - is the wall clock NTP-synchronised?  See wallclock.h for
 * the sources and why there are two.
 *
 * Where it sits: the loop (loop.c) asks at each tick and stamps the answer
 * on every record it accepts ("sync"); the privsep parent
 * (sandbox/privsep_parent.c) keeps the flag copy that the second source reads.
 */
#include "config.h"

#include <sys/timex.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/wallclock.h"

int
wallclock_decide(int adj_ret, int adj_errno, int adj_status, int flag,
    enum wallclock_source *src)
{
	if (adj_ret != -1) {
		/* TIME_ERROR is what the kernel returns while STA_UNSYNC is
		 * set; both are checked so a kernel that differs cannot
		 * report a clock nobody disciplines as synchronised. */
		*src = WALLCLOCK_SOURCE_ADJTIMEX;
		return adj_ret != TIME_ERROR && (adj_status & STA_UNSYNC) == 0;
	}
	/* Refused by a seccomp filter (ProtectClock=: EPERM; a filter that
	 * says ENOSYS) or a security module: ask timesyncd's flag.  Any
	 * other failure is a bug of ours, not a policy: unknown. */
	if ((adj_errno == EPERM || adj_errno == EACCES ||
	    adj_errno == ENOSYS) && (flag == 0 || flag == 1)) {
		*src = WALLCLOCK_SOURCE_PARENT;
		return flag;
	}
	*src = WALLCLOCK_SOURCE_UNKNOWN;
	return 0;
}

int
wallclock_read_flag(const char *path)
{
	char buf[4];
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	/* "0" or "1", optionally followed by one newline; nothing else. */
	if (n < 1 || n > 2 || (buf[0] != '0' && buf[0] != '1') ||
	    (n == 2 && buf[1] != '\n'))
		return -EBADMSG;
	return buf[0] == '1';
}

#ifdef FB_TEST_HOOKS
/* Test builds only (--enable-test-hooks): FB_TEST_ADJTIMEX_ERRNO=EPERM,
 * EACCES, ENOSYS or EINVAL makes adjtimex fail as under ProtectClock=, so
 * the end-to-end tests reach the fallback without systemd. */
static int
wallclock_test_errno(void)
{
	static const struct {
		const char	*name;
		int		 err;
	} names[] = {
		{ "EPERM", EPERM },
		{ "EACCES", EACCES },
		{ "ENOSYS", ENOSYS },
		{ "EINVAL", EINVAL },
	};
	const char *v = getenv("FB_TEST_ADJTIMEX_ERRNO");
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i].name) == 0)
			return names[i].err;
	return 0;
}
#endif

int
wallclock_check(const char *flag_path, enum wallclock_source *src)
{
	struct timex tx;
	int r, err = 0, flag = -ENOENT;

	/* modes 0: read only.  Changing the clock needs CAP_SYS_TIME,
	 * which neither of our processes has. */
	memset(&tx, 0, sizeof(tx));
#ifdef FB_TEST_HOOKS
	if ((err = wallclock_test_errno()) != 0)
		r = -1;
	else
#endif
	if ((r = adjtimex(&tx)) == -1)
		err = errno;
	if (r == -1 && flag_path != NULL)
		flag = wallclock_read_flag(flag_path);
	return wallclock_decide(r, err, tx.status, flag, src);
}

const char *
wallclock_source_desc(enum wallclock_source src)
{
	switch (src) {
	case WALLCLOCK_SOURCE_ADJTIMEX:
		return "synchronisation from adjtimex";
	case WALLCLOCK_SOURCE_PARENT:
		return "synchronisation from timesyncd's flag via the parent";
	case WALLCLOCK_SOURCE_UNKNOWN:
		return "synchronisation unknown: records marked sync:false";
	default:
		return "synchronisation not checked yet";
	}
}
