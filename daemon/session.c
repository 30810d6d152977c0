/*
 * session.c - durable node sessions, wired: restores the last run's
 * sessions into the ident at start-up, stores each change through
 * daemon/store/sessions.c, and logs what the store and policy refuse.
 * See session.h for its place in the data flow, docs/link-protocol.md
 * ("Gateway restarts") for why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MODULE	"session"

#include "daemon/log.h"
#include "daemon/session.h"
#include "daemon/store/sessions.h"
#include "policy/ident.h"
#include "policy/registry.h"

#define SESSION_REFUSED_LOG_MAX	8	/* per start-up, then a count */

struct session {
	struct ident		*id;
	struct sessions		*store;
	const char		*state_dir;
	uint64_t		 now_ms;
	uint64_t		 restored, refused;
	uint64_t		 commit_errors;
	int			 failing;
};

static int
session_persist(void *arg, uint64_t eui, const uint8_t *rec, size_t len,
    int sync)
{
	struct session *s = arg;
	int r;

	if ((r = sessions_put(s->store, eui, rec, len)) == 0 && sync)
		r = sessions_sync(s->store);
	return r;
}

static const char *
session_strrefusal(int r)
{
	switch (r) {
	case -ENOENT:
		return "device no longer in the registry";
	case -EPERM:
		return "device revoked";
	case -EKEYREJECTED:
		return "does not verify under the device's secret (edited, "
		    "or the device was given a new secret)";
	case -EBADMSG:
		return "not a session record of this version";
	case -EEXIST:
		return "session id already taken";
	default:
		return strerror(-r);
	}
}

/* sessions_open's keep: restore it, or drop it from the file. */
static int
session_keep(void *arg, uint64_t key, const uint8_t *body, size_t len)
{
	struct session *s = arg;
	char eui[17];
	int r;

	if ((r = ident_restore(s->id, key, body, len, s->now_ms)) == 0) {
		s->restored++;
		return 0;
	}
	if (s->refused++ < SESSION_REFUSED_LOG_MAX) {
		registry_format_eui(key, eui);
		log_info("%s/%s: the session of %s is not restored: %s; it "
		    "joins again", s->state_dir, SESSIONS_FILE, eui,
		    session_strrefusal(r));
	}
	return 1;
}

static void
session_bad(void *arg, uint64_t off, uint64_t len, int torn, const char *why)
{
	struct session *s = arg;

	if (torn)
		log_notice("%s/%s: torn write at offset %" PRIu64 " (%" PRIu64
		    " bytes: %s), probably a power cut; the record before it "
		    "is used", s->state_dir, SESSIONS_FILE, off, len, why);
	else
		log_warnx("%s/%s: damaged at offset %" PRIu64 " (%" PRIu64
		    " bytes): %s; the session there is dropped (its node "
		    "joins again)", s->state_dir, SESSIONS_FILE, off, len, why);
}

int
session_open(struct ident *id, const char *state_dir, uint64_t now_ms,
    struct session **out)
{
	struct session *s;
	int q, r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->id = id;
	s->state_dir = state_dir;
	s->now_ms = now_ms;
	r = sessions_open(".", session_keep, session_bad, s, &q, &s->store);
	if (r < 0) {
		log_warnx("cannot open %s/%s: %s; node sessions are kept in "
		    "memory only, so a restart makes every node join again",
		    state_dir, SESSIONS_FILE, strerror(-r));
		free(s);
		return r;
	}
	if (q)
		log_warnx("%s/%s was damaged: moved to %s/quarantine/, the "
		    "sessions that were intact are kept", state_dir,
		    SESSIONS_FILE, state_dir);
	if (s->refused > SESSION_REFUSED_LOG_MAX)
		log_info("%s/%s: %" PRIu64 " more sessions not restored",
		    state_dir, SESSIONS_FILE,
		    s->refused - SESSION_REFUSED_LOG_MAX);
	log_info("sessions: %" PRIu64 " restored from %s/%s, %" PRIu64
	    " dropped", s->restored, state_dir, SESSIONS_FILE, s->refused);
	ident_set_persist(id, session_persist, s);
	*out = s;
	return 0;
}

int
session_commit(void *arg)
{
	struct session *s = arg;
	int r, y;

	if (s == NULL)
		return 0;
	r = ident_checkpoint(s->id);
	y = sessions_sync(s->store);
	if (r >= 0)
		r = y;
	if (r != 0) {
		s->commit_errors++;
		if (!s->failing)
			log_warnx("cannot store node sessions: %s; after a "
			    "restart, nodes whose session changed since may "
			    "join again", strerror(-r));
		s->failing = 1;
	} else if (s->failing) {
		log_info("node sessions stored again");
		s->failing = 0;
	}
	return r;
}

void
session_status(const struct session *s, FILE *f)
{
	struct sessions_stats st;

	if (s == NULL) {
		fprintf(f, "sessions_durable=0\n");
		return;
	}
	sessions_stats(s->store, &st);
	fprintf(f, "sessions_durable=1\nsessions_restored=%" PRIu64 "\n"
	    "sessions_stored=%" PRIu64 "\nsessions_bytes_written=%" PRIu64 "\n"
	    "sessions_syncs=%" PRIu64 "\nsessions_write_errors=%" PRIu64 "\n"
	    "sessions_torn=%" PRIu64 "\nsessions_damaged=%" PRIu64 "\n",
	    s->restored, st.records, st.bytes_written, st.syncs,
	    st.write_errors + s->commit_errors, st.torn, st.damaged);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	ident_set_persist(s->id, NULL, NULL);
	sessions_free(s->store);
	free(s);
}
