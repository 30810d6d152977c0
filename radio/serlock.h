/*
 * serlock.h - the serial line is ours alone: a lock file in the UUCP
 * format (FHS 3.0, 5.9: /run/lock/LCK..ttyUSB0 holding the owner's PID as
 * ten ASCII digits and a newline), which a second fieldbridged, minicom,
 * screen's users and other well-behaved programs honour; serial.c adds
 * TIOCEXCL on the open line, which refuses every later open(2) by a
 * process without CAP_SYS_ADMIN.
 *
 * Data flow: the process that opens the device (the privileged parent,
 * daemon/sandbox/privsep_parent.c, or serial_open unconfined) takes the
 * lock first, in its own name; the lock stays until the line closes
 * (unconfined), the configured path names another device, or that process
 * exits (the parent).  A lock whose PID is gone is stale and taken over.
 */
#ifndef FB_SERLOCK_H
#define FB_SERLOCK_H

#include <sys/types.h>

#include <stddef.h>

#define SERLOCK_DIR		"/run/lock"
#define SERLOCK_HOLDER_MAX	64	/* "PID 1234 (minicom)" */
#define SERLOCK_KEY_MAX		256	/* serlock_key's, with its NUL */

/*
 * What the lock of the configured serial path path is named after, into
 * key (SERLOCK_KEY_MAX bytes): the device it resolves to (a by-id link and
 * the /dev/ttyUSB0 it names share a lock, as minicom's and screen's do).
 * A pseudo-terminal is the exception: its number comes back to the next
 * program that opens one as soon as it is closed, so a lock named
 * LCK..5 outlives the line it guarded and refuses a stranger its own; a
 * pty's lock is named after the configured path ("/" as "_") instead.
 * 0, or -errno (realpath's, -ENAMETOOLONG).
 */
int	serlock_key(const char *path, char *key, size_t len);

/*
 * Takes the lock of device path (a serlock_key) for pid in dir (NULL: SERLOCK_DIR).  0: ours (new, already ours, or a
 * stale one taken over); -EBUSY: a live process holds it, named in holder
 * ("PID 1234 (minicom)"); -errno when the lock cannot be made (such as
 * -EACCES or -EROFS when dir is not writable: the caller decides whether
 * to go on without it).
 */
int	serlock_acquire(const char *dir, const char *path, pid_t pid,
	    char *holder, size_t holderlen);
/* Removes the lock of path if pid holds it. */
void	serlock_release(const char *dir, const char *path, pid_t pid);
/* Who holds path's lock: 1 and holder filled (a live process other than
 * pid), 0 none or stale or ours. */
int	serlock_holder(const char *dir, const char *path, pid_t pid,
	    char *holder, size_t holderlen);

#endif
