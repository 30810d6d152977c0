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
 * lock first, in its own name; the lock stays for the life of that
 * process.  A lock whose PID is gone is stale and taken over.
 */
#ifndef FB_SERLOCK_H
#define FB_SERLOCK_H

#include <sys/types.h>

#include <stddef.h>

#define SERLOCK_DIR		"/run/lock"
#define SERLOCK_HOLDER_MAX	64	/* "PID 1234 (minicom)" */

/*
 * Takes the lock of device path (a /dev path, symlinks already resolved)
 * for pid in dir (NULL: SERLOCK_DIR).  0: ours (new, already ours, or a
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
