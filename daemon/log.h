/*
 * log.h - the daemon's logging: OpenBSD vocabulary (log_warn adds errno,
 * log_warnx does not, log_info, log_debug, fatal, fatalx) with a module tag,
 * written to stderr as one line per message with a syslog priority prefix
 * ("<3>uplink: ...") that journald turns into the priority of the entry.
 *
 * Each .c file that logs defines LOG_MODULE (a short string) before
 * including this header; it becomes the tag of its lines.
 *
 * Lines a radio node can trigger (drops, garbage on the line) go through a
 * rate limiter: at most `burst` lines per interval per limiter, then one
 * "N more similar messages suppressed" line when the interval ends, so a
 * flooding node cannot flood the journal.  radio/ and policy/ never log.
 */
#ifndef FB_LOG_H
#define FB_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

#ifndef LOG_MODULE
#define LOG_MODULE	"main"
#endif

#define LOG_LINE_MAX	1024	/* longer messages are truncated */

/* Lines go to stderr (the journal, under systemd). */
void	log_init(int level);		/* highest priority printed, LOG_* */
void	log_setlevel(int level);

void	log_msg(int prio, const char *mod, int with_errno, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
void	log_vmsg(int prio, const char *mod, int with_errno, const char *fmt,
	    va_list ap) __attribute__((format(printf, 4, 0)));
void	log_fatal(const char *mod, int with_errno, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
/* The same with an exit status of the caller's: sysexits' EX_CONFIG for
 * a configuration that a restart cannot mend (loop.h). */
void	log_fatal_status(const char *mod, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
/* Each line of a multi-line message (a configuration's errors) as a
 * line of its own. */
void	log_lines(int prio, const char *mod, const char *msg);

#define log_warn(...)	log_msg(LOG_WARNING, LOG_MODULE, 1, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_WARNING, LOG_MODULE, 0, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_ERR, LOG_MODULE, 1, __VA_ARGS__)
#define log_errx(...)	log_msg(LOG_ERR, LOG_MODULE, 0, __VA_ARGS__)
#define log_errx_lines(msg) log_lines(LOG_ERR, LOG_MODULE, (msg))
#define log_notice(...)	log_msg(LOG_NOTICE, LOG_MODULE, 0, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, LOG_MODULE, 0, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, LOG_MODULE, 0, __VA_ARGS__)
#define fatal(...)	log_fatal(LOG_MODULE, 1, __VA_ARGS__)
#define fatalx(...)	log_fatal(LOG_MODULE, 0, __VA_ARGS__)
#define fatalx_status(st, ...)	log_fatal_status(LOG_MODULE, (st), __VA_ARGS__)

/*
 * A rate limiter for one kind of line (e.g. "frames dropped on port lora0
 * as bad_tag").  Embed one per kind, log_ratelimit_init it, then log through
 * log_rl().  Times are CLOCK_MONOTONIC milliseconds from the caller.
 */
struct log_ratelimit {
	uint32_t	interval_ms;
	uint32_t	burst;		/* lines per interval */
	uint64_t	start_ms;	/* beginning of the current interval */
	uint32_t	printed;	/* lines in the current interval */
	uint64_t	suppressed;	/* lines swallowed in it */
	int		prio;		/* of the last suppressed line */
	const char	*mod;
	int		started;
	char		what[48];	/* names the kind in the summary */
};

void	log_ratelimit_init(struct log_ratelimit *rl, const char *what,
	    uint32_t interval_ms, uint32_t burst);
/* Log unless over the limit; returns 1 when the line was printed. */
int	log_rl(struct log_ratelimit *rl, uint64_t now_ms, int prio,
	    const char *mod, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Call periodically: prints the suppression summary of an interval that
 * has ended even when no new line comes to trigger it. */
void	log_rl_flush(struct log_ratelimit *rl, uint64_t now_ms);

#define log_rl_warnx(rl, now, ...) \
	log_rl((rl), (now), LOG_WARNING, LOG_MODULE, __VA_ARGS__)
#define log_rl_info(rl, now, ...) \
	log_rl((rl), (now), LOG_INFO, LOG_MODULE, __VA_ARGS__)

#endif
