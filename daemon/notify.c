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
