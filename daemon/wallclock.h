/*
 * wallclock.h - whether the gateway's wall clock is NTP-synchronised, for
 * the "sync" flag of every record (docs/uplink-format.md).
 *
 * Field gateways often have no battery-backed clock: after a power cut the
 * wall clock is wrong until NTP gets through.  Two sources, in order:
 *   1. adjtimex() with modes 0 (read only): the kernel's STA_UNSYNC, which
 *      every NTP client clears.  glibc makes it clock_adjtime(CLOCK_REALTIME),
 *      which the confined child may call (daemon/sandbox/sandbox.c); systemd's
 *      ProtectClock= answers it EPERM.
 *   2. Refused (EPERM, EACCES, ENOSYS): systemd-timesyncd's flag file
 *      WALLCLOCK_TIMESYNCD_FLAG, which it touches at each successful sync
 *      and which lives on tmpfs, so a power cut removes it.  The chrooted
 *      child cannot see /run: the privsep parent mirrors the flag's
 *      presence into WALLCLOCK_FLAG_COPY below the state directory as "1"
 *      or "0" (sandbox/privsep_parent.c), rewritten at every parent start.
 * Neither available: unknown, which counts as not synchronised.
 */
#ifndef FB_WALLCLOCK_H
#define FB_WALLCLOCK_H

/* systemd-timesyncd's "synchronised since boot" flag (sd-timesyncd(8)). */
#define WALLCLOCK_TIMESYNCD_FLAG	"/run/systemd/timesync/synchronized"
/* The parent's copy, relative to the state directory, which is both the
 * child's working directory before its chroot and its root after. */
#define WALLCLOCK_FLAG_COPY		"etc/clock-synced"

enum wallclock_source {
	WALLCLOCK_SOURCE_NONE = 0,	/* not checked yet */
	WALLCLOCK_SOURCE_ADJTIMEX,
	WALLCLOCK_SOURCE_PARENT,	/* timesyncd's flag, via the parent */
	WALLCLOCK_SOURCE_UNKNOWN
};

/*
 * The decision alone, for the tests.  adj_ret and adj_errno: adjtimex()'s
 * result and errno, adj_status: its timex.status; flag: the parent's copy
 * (1, 0) or a negative errno when it could not be read.  Returns 1 when
 * synchronised, else 0; *src says which source decided.
 */
int	wallclock_decide(int adj_ret, int adj_errno, int adj_status, int flag,
	    enum wallclock_source *src);
/* The parent's copy at path: 1 or 0; -ENOENT, -EBADMSG (anything but "0"
 * or "1", a newline allowed) or another -errno. */
int	wallclock_read_flag(const char *path);
/* Asks adjtimex now and, if it is refused and flag_path is not NULL, the
 * flag at flag_path.  Returns 1 or 0 as wallclock_decide(). */
int	wallclock_check(const char *flag_path, enum wallclock_source *src);
/* The log line's words for a source: "from adjtimex", ... */
const char *wallclock_source_desc(enum wallclock_source src);

#endif
