/*
 * session.h - the daemon's joint of node sessions and their durable store:
 * policy/ident.c decides what a session is, daemon/store/sessions.c keeps
 * records on disk, and this file wires one to the other and logs.
 *
 * Data flow: start-up -> session_open (every stored session restored
 * into the ident, before the first frame is read); a join or a new block
 * of downlink counters -> stored and synced at once (ident's persist
 * callback); every outbox commit -> session_commit first (the sessions
 * changed since the last commit, synced before the journal, so that a
 * record on disk is never older than the counter that guards its frame).
 */
#ifndef FB_SESSION_H
#define FB_SESSION_H

#include <stdint.h>
#include <stdio.h>

struct ident;
struct session;

/* Opens STATE_DIR/sessions (the cwd is the state directory), restores
 * what it holds into id and sets id's persist callback.  Logs what it
 * found.  0 or -errno (then id has no durable sessions: logged). */
int	session_open(struct ident *id, const char *state_dir, uint64_t now_ms,
	    struct session **out);
/* Stores the sessions changed since the last call and syncs: 0 or the
 * first -errno.  The outbox's pre-commit hook. */
int	session_commit(void *arg);
/* "key=value" lines of the status file (sessions_*). */
void	session_status(const struct session *s, FILE *f);
void	session_free(struct session *s);	/* NULL is fine */

#endif
