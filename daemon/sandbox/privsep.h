/*
 * privsep.h - privilege separation: a tiny privileged parent (the process
 * systemd watches) and the confined child that does all the work.
 *
 * The parent forks the child, restarts it with backoff when it dies, and
 * serves it over a socketpair: it opens the configured serial paths and
 * configured files and passes the descriptors (SCM_RIGHTS); it keeps copies
 * of the resolver and TLS files current inside the state directory, which is
 * the child's root, and mirrors a flag file's presence there (the clock's
 * synchronisation, wallclock.h).  Nothing else: every other request, and
 * every malformed message, is refused or ends the child, never the parent.
 *
 * In the child: privsep_open_serial() is a port_opener_fn (radio/port.h);
 * privsep_fetch_file() returns the current bytes of the registry or keys.
 */
#ifndef FB_PRIVSEP_H
#define FB_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/sandbox/sandbox.h"

#define PRIVSEP_HDR_LEN		8	/* length(4) type(2) reserved(2) */
#define PRIVSEP_PATH_LEN_MAX	4095	/* a serial path in a request */
#define PRIVSEP_MSG_SIZE_MAX	(PRIVSEP_HDR_LEN + 2 + PRIVSEP_PATH_LEN_MAX)
#define PRIVSEP_FILE_SIZE_MAX	(64u * 1024 * 1024)	/* privsep_fetch_file */
#define PRIVSEP_COPY_SIZE_MAX	(1024u * 1024)	/* a resolver or TLS file */
#define PRIVSEP_COPIES_MAX	8
#define PRIVSEP_SERIAL_MAX	16	/* serial paths whose locks are kept */
#define PRIVSEP_LOCK_KEY_MAX	256	/* a lock's name, with its NUL */
#define PRIVSEP_BACKOFF_MIN_MS	250	/* first restart of a dead child */
#define PRIVSEP_BACKOFF_MAX_MS	10000	/* well below WatchdogSec=30 */
#define PRIVSEP_STABLE_MS	60000	/* a child this old resets the backoff */
#define PRIVSEP_COPY_CHECK_MS	2000	/* how often resolver files are checked */
/* A child exiting with this status (sysexits' EX_CONFIG) says a restart
 * cannot help: the parent exits with it too (RestartPreventExitStatus=). */
#define PRIVSEP_EXIT_FATAL	78

enum privsep_file {
	PRIVSEP_FILE_REGISTRY = 0,
	PRIVSEP_FILE_KEYS,
	PRIVSEP_FILE_MAX
};

enum privsep_msg_type {
	PRIVSEP_MSG_OPEN_SERIAL = 1,	/* child: u16 length, path */
	PRIVSEP_MSG_OPEN_FILE = 2,	/* child: u8 enum privsep_file */
	PRIVSEP_MSG_REPLY = 0x81	/* parent: s32 0 or -errno; fd on 0 */
};

/* A file kept current inside the state directory. */
struct privsep_copy {
	const char	*src;		/* absolute path on the host */
	const char	*dst;		/* below state_dir: "etc/hosts", "tls/key.pem" */
	unsigned int	 mode;		/* 0644; 0640 = group copy_gid may read */
	int		 hup_only;	/* refreshed at start and on SIGHUP only:
					 * a certificate and its key change
					 * together, when the operator says so */
	int		 required;	/* start-up fails without it */
};

struct privsep_child;

/* Runs in the child; its return value is the child's exit status. */
typedef int privsep_child_fn(struct privsep_child *ch, void *arg);
/* Parent: relay one datagram the child sent on its notification socket
 * (privsep_child_notify_fd) to systemd; < 0: the child sent what it must
 * not, and is ended as for a malformed request. */
typedef int privsep_notify_fn(const char *msg, size_t len);
/* Parent's log lines (syslog priorities); NULL: stderr with <N> prefixes. */
typedef void privsep_log_fn(int prio, const char *msg);

struct privsep_conf {
	const char *const *serial_paths;	/* NULL-terminated, as configured */
	const char	*files[PRIVSEP_FILE_MAX];	/* NULL: not offered */
	const char	*state_dir;
	const struct privsep_copy *copies;
	size_t		 ncopies;
	gid_t		 copy_gid;	/* group of 0640 copies: the child's */
	enum sandbox_mode mode;		/* the parent's own filter */
	privsep_child_fn *child_main;
	void		*child_arg;
	privsep_log_fn	*log;
	/* Non-NULL: each child gets a socket of its own for its sd_notify
	 * messages (NotifyAccess=main: only the parent may talk to systemd),
	 * read by the parent and passed to notify. */
	privsep_notify_fn *notify;
	/* Called in the parent on SIGHUP, after the copies are refreshed
	 * and before the child is told: the settings only a restart
	 * applies (daemon/confine.c names them).  NULL: none. */
	void		(*hangup)(void *arg);
	void		*hangup_arg;
	unsigned int	 backoff_min_ms;	/* 0: PRIVSEP_BACKOFF_MIN_MS */
	unsigned int	 backoff_max_ms;	/* 0: PRIVSEP_BACKOFF_MAX_MS */
	unsigned int	 restarts_max;	/* quick restarts in a row before the
					 * parent gives up (exit 1); 0: never */
	/* A flag file's presence, mirrored as "1\n" or "0\n" into flag_dst
	 * (below state_dir; written atomically) at start, whatever an old
	 * copy says, and then whenever it appears or disappears: the clock
	 * synchronisation flag of systemd-timesyncd (wallclock.h). */
	const char	*flag_src;	/* NULL: none */
	const char	*flag_dst;
	/* Called once a serial line (path: as configured) opened for the
	 * child, in the parent: 0 to go on, the lock's name in key
	 * (PRIVSEP_LOCK_KEY_MAX bytes); -EBUSY (holder names who has the
	 * line) to refuse; other -errno are logged once and do not stop the
	 * open.  The parent keeps the lock it took for each path until the
	 * path names another line (unlocking the old one) or it exits.
	 * NULL: no lock (daemon/confine.c sets radio/serlock.c's). */
	int		(*lock_serial)(const char *path, char *key,
			    char *holder, size_t holderlen);
	void		(*unlock_serial)(const char *key);
};

/*
 * Parent.  Blocks SIGTERM/SIGINT/SIGHUP/SIGCHLD (served by a signalfd),
 * copies the files, loads the parent filter in pc->mode, forks the child
 * and serves it until it stops.  SIGTERM/SIGINT are forwarded and end the
 * service; SIGHUP refreshes every copy, then is forwarded.  Returns the
 * status for exit(): 0 when stopped or the child exited 0, the child's
 * PRIVSEP_EXIT_FATAL, 1 on a start-up failure or when restarts_max ran out.
 * In the child it does not return: child_main's value is its exit status
 * (atexit handlers do not run; stdio is flushed).
 */
int	privsep_start(const struct privsep_conf *pc);

/* Child.  All return -errno on failure; -EPIPE when the parent is gone. */
/* port_opener_fn: arg is the struct privsep_child. */
int	privsep_open_serial(void *arg, const char *path, unsigned int baud);
/* Applied to each received serial fd (e.g. serial_configure); without it
 * the fd comes back as the parent opened it: O_RDWR|O_NONBLOCK, untouched. */
void	privsep_set_configure(struct privsep_child *ch,
	    int (*fn)(int fd, unsigned int baud));
/* A read-only descriptor of the configured file, opened now. */
int	privsep_open_file(struct privsep_child *ch, enum privsep_file which);
/* Its current bytes (NUL-terminated for convenience; len excludes it);
 * free with privsep_bytes_free, which wipes them (keys). */
int	privsep_fetch_file(struct privsep_child *ch, enum privsep_file which,
	    uint8_t **buf, size_t *len);
/* The same for a descriptor of such a file (the caller closes it):
 * -EFBIG from PRIVSEP_FILE_SIZE_MAX on, -EAGAIN if it grew while read. */
int	privsep_read_fd(int fd, uint8_t **buf, size_t *len);
void	privsep_bytes_free(uint8_t *buf, size_t len);
/* The child's end of the socketpair (tests send raw bytes on it). */
int	privsep_child_fd(const struct privsep_child *ch);
/* The child's end of its notification socket (SOCK_SEQPACKET,
 * non-blocking: one datagram per message), -1 without pc->notify. */
int	privsep_child_notify_fd(const struct privsep_child *ch);
#define PRIVSEP_NOTIFY_BURST	16	/* datagrams read per wake-up */
#define PRIVSEP_NOTIFY_LEN_MAX	512	/* a longer one ends the child */

/* The wire format, exposed for the fuzz target and the tests. */
struct privsep_req {
	enum privsep_msg_type type;
	enum privsep_file which;		/* OPEN_FILE */
	char		path[PRIVSEP_PATH_LEN_MAX + 1];	/* OPEN_SERIAL */
};
/* A child's request; 0, -EBADMSG (malformed) or -EMSGSIZE. */
int	privsep_msg_parse(const uint8_t *buf, size_t len, struct privsep_req *req);
int	privsep_msg_encode(const struct privsep_req *req, uint8_t *buf,
	    size_t cap, size_t *len);
int	privsep_reply_parse(const uint8_t *buf, size_t len, int *result);

#endif
