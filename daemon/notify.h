/*
 * notify.h - telling systemd how the daemon is doing (sd_notify protocol):
 * READY=1 once serving, STATUS=... lines, WATCHDOG=1 keep-alives, and
 * STOPPING=1 at shutdown.
 *
 * libsystemd's sd_notify() opens a new socket to $NOTIFY_SOCKET on every
 * call, which fails after chroot (docs/library-notes.md).  notify_open()
 * connects one datagram socket at start; later messages are send()s on it,
 * which keep working after chroot and after dropping privileges.
 */
#ifndef FB_NOTIFY_H
#define FB_NOTIFY_H

#include <stdint.h>

/* Connect to $NOTIFY_SOCKET when set: 0 (also when not under systemd) or
 * -errno.  Reads $WATCHDOG_USEC / $WATCHDOG_PID. */
int	notify_open(void);
void	notify_close(void);
int	notify_enabled(void);
/* Send one message ("READY=1", "STATUS=..."): 0 or -errno; 0 when
 * not under systemd. */
int	notify_send(const char *msg);
int	notify_status(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Watchdog keep-alive period (half of WATCHDOG_USEC) in ms, 0: none. */
uint64_t notify_watchdog_ms(void);
/* Call from the periodic tick: sends WATCHDOG=1 when due. */
void	notify_watchdog_tick(uint64_t now_ms);

#endif
