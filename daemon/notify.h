/*
 * notify.h - telling systemd how the daemon is doing (sd_notify protocol):
 * READY=1 once serving, STATUS=... lines, WATCHDOG=1 keep-alives, and
 * STOPPING=1 at shutdown.
 *
 * libsystemd's sd_notify() opens a new socket to $NOTIFY_SOCKET on every
 * call, which fails after chroot (docs/library-notes.md).  notify_open()
 * connects one datagram socket at start; later messages are send()s on it,
 * which keep working after chroot and after dropping privileges.
 *
 * Sandboxed (confine.c), only the privileged parent is connected to
 * systemd: the unit says NotifyAccess=main, so that no other process of
 * the service may speak for it.  The worker's notify_send() goes to its
 * end of a socketpair (notify_adopt); the parent checks each datagram with
 * notify_relay_check() and forwards it.  The parent never sends WATCHDOG=1
 * on its own: a frozen worker starves the watchdog.
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
/* The worker: send to fd (one end of a socketpair to the relaying parent)
 * instead of $NOTIFY_SOCKET, closing the inherited connection to systemd.
 * The watchdog period read by notify_open() before the fork stays. */
void	notify_adopt(int fd);
/* The parent: whether one datagram from the worker may be relayed to
 * systemd: at most NOTIFY_RELAY_LEN_MAX bytes of newline-separated
 * READY=1, WATCHDOG=1, STOPPING=1 and STATUS=<printable text> lines,
 * nothing else (no MAINPID=, FDSTORE=, WATCHDOG_USEC=, EXTEND_TIMEOUT_USEC=
 * ...: the worker is the untrusted process).  0 or -EBADMSG. */
#define NOTIFY_RELAY_LEN_MAX	512
int	notify_relay_check(const char *buf, size_t len);
/* Watchdog keep-alive period (half of WATCHDOG_USEC) in ms, 0: none. */
uint64_t notify_watchdog_ms(void);
/* Call from the periodic tick: sends WATCHDOG=1 when due. */
void	notify_watchdog_tick(uint64_t now_ms);

#endif
