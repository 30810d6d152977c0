/*
 * log.c - one line per message on stderr, "<PRIO>module: text", which is
 * what journald expects from a service's stderr (SyslogLevelPrefix=yes is
 * the default).  The "<PRIO>" goes out only when stderr is the journal
 * (systemd sets $JOURNAL_STREAM to its "device:inode"); a terminal or a
 * redirected file gets "module: text".  A sink gets the whole line, whose
 * prefix carries the priority across the privsep channel.
 *
 * The daemon is single-threaded, so the line is built in a static buffer
 * and written with one write(2): lines never interleave with other output.
 * Secrets are never passed here: callers log device EUIs and names only.
 */
#define LOG_MODULE	"log"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

static int		 log_level = LOG_INFO;
static int		 log_journal = 1;	/* stderr is journald's */

/* Whether $JOURNAL_STREAM names the file stderr is. */
static int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int level)
{
	log_level = level;
	log_journal = log_stderr_is_journal();
	tzset();
}

void
log_setlevel(int level)
{
	log_level = level;
}





static void
log_emit(int prio, const char *line)
{
	size_t len, off;
	ssize_t n;

	if (!log_journal && line[0] == '<' && strchr(line, '>') != NULL)
		line = strchr(line, '>') + 1;
	len = strlen(line);
	for (off = 0; off < len; off += (size_t)n) {
		n = write(STDERR_FILENO, line + off, len - off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return;		/* nowhere to complain to */
	}
}

void
log_vmsg(int prio, const char *mod, int with_errno, const char *fmt,
    va_list ap)
{
	static char line[LOG_LINE_MAX + 64];
	int saved = errno, n;
	size_t off, cap = LOG_LINE_MAX;

	if (prio > log_level)
		return;
	n = snprintf(line, cap, "<%d>%s: ", prio, mod);
	off = n < 0 ? 0 : (size_t)n;
	if (off < cap) {
		n = vsnprintf(line + off, cap - off, fmt, ap);
		if (n > 0)
			off += (size_t)n;
	}
	if (off >= cap)
		off = cap - 1;		/* truncated */
	if (with_errno) {
		n = snprintf(line + off, sizeof(line) - off - 1, ": %s",
		    strerror(saved));
		if (n > 0)
			off += (size_t)n;
		if (off > sizeof(line) - 2)
			off = sizeof(line) - 2;
	}
	line[off++] = '\n';
	line[off] = '\0';
	log_emit(prio, line);
	errno = saved;
}

void
log_msg(int prio, const char *mod, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, mod, with_errno, fmt, ap);
	va_end(ap);
}

void
log_lines(int prio, const char *mod, const char *msg)
{
	const char *p = msg, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		log_msg(prio, mod, 0, "%.*s",
		    nl != NULL ? (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

void
log_fatal(const char *mod, int with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, mod, with_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_fatal_status(const char *mod, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, mod, 0, fmt, ap);
	va_end(ap);
	exit(status);
}

void
log_ratelimit_init(struct log_ratelimit *rl, const char *what,
    uint32_t interval_ms, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->interval_ms = interval_ms;
	rl->burst = burst;
	snprintf(rl->what, sizeof(rl->what), "%s", what);
}

/* Close an interval that has ended: report what it swallowed. */
static void
log_rl_roll(struct log_ratelimit *rl, uint64_t now_ms)
{
	if (rl->started && now_ms - rl->start_ms < rl->interval_ms)
		return;
	if (rl->suppressed > 0)
		log_msg(rl->prio, rl->mod != NULL ? rl->mod : "log", 0,
		    "%s: %llu more similar messages suppressed", rl->what,
		    (unsigned long long)rl->suppressed);
	rl->started = 1;
	rl->start_ms = now_ms;
	rl->printed = 0;
	rl->suppressed = 0;
}

int
log_rl(struct log_ratelimit *rl, uint64_t now_ms, int prio, const char *mod,
    const char *fmt, ...)
{
	va_list ap;

	if (prio > log_level)
		return 0;
	log_rl_roll(rl, now_ms);
	if (rl->printed >= rl->burst) {
		rl->suppressed++;
		rl->prio = prio;
		rl->mod = mod;
		return 0;
	}
	rl->printed++;
	va_start(ap, fmt);
	log_vmsg(prio, mod, 0, fmt, ap);
	va_end(ap);
	return 1;
}

void
log_rl_flush(struct log_ratelimit *rl, uint64_t now_ms)
{
	if (rl->suppressed > 0)
		log_rl_roll(rl, now_ms);
}
