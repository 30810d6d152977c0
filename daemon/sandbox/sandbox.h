/*
 * sandbox.h - confinement of the daemon's processes: chroot into the state
 * directory, drop to the unprivileged service user, no_new_privs, and a
 * seccomp allowlist that kills on anything else.
 *
 * Two roles share one set of syscall tables (sandbox.c): the confined child
 * that does all the work (radio, policy, spool, uplink), and the small
 * privileged parent of privsep.c that opens serial devices and configured
 * files for it.  A seccomp filter survives fork(), so the parent's filter is
 * a superset of the child's: every restarted child starts under it.
 *
 * Order of use (ntpd, OpenSSH): sandbox_resolve() while /etc is still
 * visible, open everything, then sandbox_confine() in the child.
 */
#ifndef FB_SANDBOX_H
#define FB_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#define SANDBOX_GROUPS_MAX	8	/* supplementary groups by name */
#define SANDBOX_ERR_LEN		256	/* enough for any message below */

enum sandbox_mode {
	SANDBOX_MODE_KILL = 0,	/* production: a foreign syscall kills */
	SANDBOX_MODE_TRAP,	/* SIGSYS handler names it, syscall fails ENOSYS */
	SANDBOX_MODE_OFF	/* no filter (valgrind cannot run under one) */
};

enum sandbox_role {
	SANDBOX_ROLE_CHILD = 0,	/* the confined worker */
	SANDBOX_ROLE_PARENT	/* privsep.c's monitor; child rules included */
};

struct sandbox_conf {
	const char	*state_dir;	/* absolute; becomes the new root */
	const char	*user;		/* service user, e.g. "fieldbridge" */
	/* Extra supplementary groups by name (e.g. "dialout", which owns the
	 * serial devices), NULL-terminated; missing groups are an error. */
	const char	*groups[SANDBOX_GROUPS_MAX + 1];
	enum sandbox_mode mode;
	/* Signal to receive when the parent dies (privsep: SIGKILL), set after
	 * the credentials change, which clears it; 0: none. */
	int		 pdeathsig;

	/* Filled by sandbox_resolve(); NSS needs /etc, so never after chroot. */
	int		 resolved;
	uid_t		 uid;
	gid_t		 gid;		/* the user's primary group */
	size_t		 ngids;
	gid_t		 gids[SANDBOX_GROUPS_MAX + 1];	/* gid first, then groups */
};

/* Look up user and groups.  Returns 0 or -errno (-ESRCH: no such user or
 * group), with a message in err. */
int	sandbox_resolve(struct sandbox_conf *sc, char *err, size_t errlen);

/* The new root must be a real directory (no symlink), owned by root or by
 * uid, and not writable by group or others.  Returns 0 or -errno. */
int	sandbox_check_dir(const char *dir, uid_t uid, char *err, size_t errlen);

/* Create (or check) a directory below state_dir for the service user
 * alone: owned by sc->uid:sc->gid, mode 0700, no set-group-id bit (which
 * systemd's RestrictSUIDSGID=yes forbids).  Used by the parent for the
 * spool.  A root caller gives an existing directory to the user; a caller
 * that is the service user needs it to be the user's already.  Returns 0
 * or -errno with a message. */
int	sandbox_make_dir(const struct sandbox_conf *sc, const char *rel,
	    char *err, size_t errlen);

/* In the child, after everything outside the state directory is open:
 * check the directory, chroot, drop groups/gid/uid and verify they cannot
 * be regained, set no_new_privs, load the child filter in sc->mode.
 * Returns 0 or -errno with a message; the caller must then exit, since the
 * process may be half confined.  Needs sandbox_resolve() first. */
int	sandbox_confine(const struct sandbox_conf *sc, char *err, size_t errlen);

/* Load the filter of role.  SANDBOX_MODE_OFF does nothing.  Returns 0 or
 * -errno.  Also sets no_new_privs (libseccomp's default), which is needed
 * without CAP_SYS_ADMIN and keeps setuid programs from gaining anything. */
int	sandbox_filter_load(enum sandbox_role role, enum sandbox_mode mode);

/* The hidden --print-seccomp option: write the filter as libseccomp's
 * pseudo-filter-code to fd, for review. */
int	sandbox_filter_print(enum sandbox_role role, int fd);

/* "kill", "trap", "off" <-> mode. */
int	sandbox_mode_parse(const char *s, enum sandbox_mode *mode);
const char *sandbox_mode_name(enum sandbox_mode mode);
/* SANDBOX_MODE_OFF under valgrind (its LD_PRELOAD gives it away), else
 * SANDBOX_MODE_KILL.  The caller logs loudly when it is off. */
enum sandbox_mode sandbox_mode_default(void);

/* Defined in sandbox_scmp.c: terminal ioctls whose headers clash with
 * <termios.h> (glibc's and the kernel's struct termios differ). */
extern const unsigned long *const sandbox_scmp_ioctls;
extern const size_t sandbox_scmp_nioctls;

#endif
