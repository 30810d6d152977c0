/*
 * notify.c - the sd_notify protocol over one socket connected at start;
 * see notify.h for why not libsystemd's sd_notify().
 *
 * $NOTIFY_SOCKET is a path of an AF_UNIX datagram socket, or an abstract
 * socket name when it starts with '@'.  The environment variables are
 * removed once read, so children of ours do not notify in our name.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"

static int	 notify_fd = -1;
static uint64_t	 notify_wd_ms;
static uint64_t	 notify_wd_last;

int
notify_open(void)
{
	struct sockaddr_un sa;
	const char *path, *wd, *pid;
	socklen_t salen;
	size_t len;
	char *end;
	unsigned long long usec;
	int fd, r;

	notify_close();
	notify_wd_ms = 0;
	notify_wd_last = 0;
	if ((wd = getenv("WATCHDOG_USEC")) != NULL) {
		pid = getenv("WATCHDOG_PID");
		errno = 0;
		usec = strtoull(wd, &end, 10);
		/* Keep-alives at half the period systemd waits. */
		if (errno == 0 && *end == '\0' && usec > 0 && (pid == NULL ||
		    strtol(pid, NULL, 10) == (long)getpid()))
			notify_wd_ms = usec / 2000 > 0 ? usec / 2000 : 1;
	}
	(void)unsetenv("WATCHDOG_USEC");
	(void)unsetenv("WATCHDOG_PID");
	if ((path = getenv("NOTIFY_SOCKET")) == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (len >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, salen) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	notify_fd = fd;
	(void)unsetenv("NOTIFY_SOCKET");
	return 0;
}

void
notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

void
notify_adopt(int fd)
{
	notify_close();
	notify_fd = fd;
}

int
notify_relay_check(const char *buf, size_t len)
{
	static const char *const fixed[] = {
		"READY=1", "WATCHDOG=1", "STOPPING=1"
	};
	const char *p, *end, *nl;
	size_t n, i;

	if (len == 0 || len > NOTIFY_RELAY_LEN_MAX)
		return -EBADMSG;
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			if (n == strlen(fixed[i]) && memcmp(p, fixed[i], n) == 0)
				break;
		if (i < sizeof(fixed) / sizeof(fixed[0]))
			continue;
		if (n < 7 || memcmp(p, "STATUS=", 7) != 0)
			return -EBADMSG;
		/* Text for systemctl status: printable ASCII and UTF-8
		 * bytes; no control characters, no NUL. */
		for (i = 7; i < n; i++)
			if ((unsigned char)p[i] < 0x20 ||
			    (unsigned char)p[i] == 0x7f)
				return -EBADMSG;
	}
	return 0;
}

int
notify_enabled(void)
{
	return notify_fd >= 0;
}

int
notify_send(const char *msg)
{
	if (notify_fd < 0)
		return 0;
	if (send(notify_fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int
notify_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (notify_fd < 0)
		return 0;
	memcpy(buf, "STATUS=", 7);
	va_start(ap, fmt);
	n = vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	return notify_send(buf);
}

uint64_t
notify_watchdog_ms(void)
{
	return notify_wd_ms;
}

void
notify_watchdog_tick(uint64_t now_ms)
{
	if (notify_wd_ms == 0 || notify_fd < 0)
		return;
	if (notify_wd_last != 0 && now_ms - notify_wd_last < notify_wd_ms)
		return;
	notify_wd_last = now_ms;
	(void)notify_send("WATCHDOG=1");
}
