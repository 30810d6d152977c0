/*
 * commands.c - commands from the cloud to nodes (see commands.h for the
 * data flow).  It logs; the queue (daemon/store/cmdq.c) and the parser
 * (cmdmsg.c) do not.
 *
 * A command goes out only in its device's receive window: as the answer
 * to an authenticated uplink (a DATA_UP, or an ACK), with the priority of
 * every reply to an authenticated frame (policy/budget.h: BUDGET_AUTH),
 * one COMMAND per window, the oldest waiting first.  It is sent again in
 * every later window until the node acknowledges it or it expires: a
 * lost COMMAND or a lost ACK costs a window, and the node runs a command
 * it hears again only once (its ref, docs/link-protocol.md).
 *
 * An ACK ends the command at the head of its device's queue when it names
 * that command's ref and the down counter of one of its transmissions in
 * this run (kept here, in memory: after a restart the command is simply
 * sent again, and the node acknowledges the repeat).
 *
 * The queue's file is rewritten at every change, before the outcome is
 * published: a command is never executed twice because the gateway
 * forgot it ran, and an outcome is never lost before its PUBACK.
 */
#define LOG_MODULE	"commands"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/cmdmsg.h"
#include "daemon/commands.h"
#include "daemon/log.h"
#include "daemon/mono.h"
#include "daemon/status.h"
#include "daemon/store/cmdq.h"
#include "daemon/uplink.h"
#include "policy/cmdauth.h"
#include "policy/ident.h"
#include "policy/registry.h"

_Static_assert(CMDQ_ID_MAX == CMDMSG_ID_MAX, "cmdq.h: CMDQ_ID_MAX");
_Static_assert(CMDQ_BODY_MAX == LINK_COMMAND_BODY_MAX,
    "cmdq.h: CMDQ_BODY_MAX");
_Static_assert(CMDQ_RESULT_MAX == CMDMSG_RESULT_MAX,
    "cmdq.h: CMDQ_RESULT_MAX");

#define COMMANDS_RL_INTERVAL_MS	10000
#define COMMANDS_RL_BURST	5
#define COMMANDS_EXPIRE_MS	1000	/* how often the expiry runs */

/* The transmissions of a device's head command in this run. */
struct commands_tx {
	uint64_t	eui;		/* 0: free */
	uint16_t	ref;
	uint32_t	lo, hi;		/* down counters used */
};

struct commands {
	const struct registry	*reg;
	struct ident		*id;
	struct uplink		*up;
	struct cmdq		*q;
	int			 dirfd;
	int			 dirty;		/* the file needs writing */
	struct commands_tx	 tx[CMDQ_TOTAL_MAX];
	struct ident_out	 out;
	uint64_t		 next_expire_ms;
	struct log_ratelimit	 rl_bad;	/* the cloud's malformed input */
	struct log_ratelimit	 rl_store;
	struct commands_stats	 st;
};

static void
commands_save(struct commands *c)
{
	int r;

	if (!c->dirty)
		return;
	if ((r = cmdq_save(c->q, c->dirfd)) != 0) {
		c->st.store_errors++;
		log_rl(&c->rl_store, mono_ms(), LOG_WARNING, LOG_MODULE,
		    "cannot write %s: %s; the queue is kept in memory and "
		    "written at the next change", CMDQ_FILE, strerror(-r));
		return;
	}
	c->dirty = 0;
}

/* Record an outcome for publishing (the file is written by the caller). */
static void
commands_outcome(struct commands *c, const char *id, uint64_t eui,
    const char *outcome, const char *reason, const char *detail, int status)
{
	struct cmdmsg_outcome o = { id, eui, outcome, reason, detail, status,
	    (int64_t)time(NULL) };
	char buf[CMDMSG_RESULT_MAX];
	int n;

	if ((n = cmdmsg_result(buf, sizeof(buf), &o)) < 0) {
		log_warnx("outcome %s of command %s not published: %s",
		    outcome, id, strerror(-n));
		return;
	}
	if ((n = cmdq_result_add(c->q, buf, (size_t)n)) < 0)
		log_warnx("outcome %s of command %s not published: %s",
		    outcome, id, strerror(-n));
	else if (n == 1)
		c->st.results_dropped++;
	c->dirty = 1;
}

static void
commands_refuse(struct commands *c, const struct cmdmsg *m, const char *reason,
    const char *why)
{
	char eui[17];

	c->st.refused++;
	registry_format_eui(m->eui, eui);
	log_info("command %s for %s refused: %s", m->id, eui, why);
	commands_outcome(c, m->id, m->eui, "refused", reason, why, -1);
}

static struct commands_tx *
commands_tx_find(struct commands *c, uint64_t eui, int add)
{
	struct commands_tx *free_tx = NULL;
	size_t i;

	for (i = 0; i < CMDQ_TOTAL_MAX; i++) {
		if (c->tx[i].eui == eui)
			return &c->tx[i];
		if (c->tx[i].eui == 0 && free_tx == NULL)
			free_tx = &c->tx[i];
	}
	if (!add || free_tx == NULL)
		return NULL;
	memset(free_tx, 0, sizeof(*free_tx));
	free_tx->eui = eui;
	return free_tx;
}

/* A command left the queue: forget its transmissions. */
static void
commands_gone(struct commands *c, const struct cmdq_cmd *cmd)
{
	struct commands_tx *t;

	if ((t = commands_tx_find(c, cmd->eui, 0)) != NULL &&
	    t->ref == cmd->ref)
		t->eui = 0;
}

void
commands_message(struct commands *c, const void *payload, size_t len)
{
	struct cmdmsg m;
	struct cmdq_cmd q;
	const char *why;
	char eui[17];
	int r;

	c->st.received++;
	if (cmdmsg_parse(payload, len, &m, &why) != 0) {
		c->st.malformed++;
		if (m.id[0] == '\0') {
			log_rl(&c->rl_bad, mono_ms(), LOG_WARNING, LOG_MODULE,
			    "malformed command ignored (%zu bytes, no id to "
			    "answer): %s", len, why);
			return;
		}
		commands_refuse(c, &m, "malformed", why);
		goto out;
	}
	if ((r = cmdauth_check(c->reg, m.eui, m.kind, m.body_len, &why)) !=
	    CMDAUTH_OK) {
		commands_refuse(c, &m, cmdauth_strerror(r), why);
		goto out;
	}
	registry_format_eui(m.eui, eui);
	if (cmdq_seen(c->q, m.id)) {
		c->st.duplicate++;
		log_info("command %s for %s is a duplicate: not run again",
		    m.id, eui);
		commands_outcome(c, m.id, m.eui, "duplicate", NULL, NULL, -1);
		goto out;
	}
	if (m.expires <= (int64_t)time(NULL)) {
		c->st.expired++;
		log_info("command %s for %s arrived expired", m.id, eui);
		commands_outcome(c, m.id, m.eui, "expired", NULL, NULL, -1);
		goto out;
	}
	memset(&q, 0, sizeof(q));
	memcpy(q.id, m.id, sizeof(q.id));
	q.eui = m.eui;
	q.expires = m.expires;
	q.kind = m.kind;
	memcpy(q.body, m.body, m.body_len);
	q.len = m.body_len;
	if ((r = cmdq_add(c->q, &q, &q.ref)) != 0) {
		c->st.queue_full++;
		log_info("command %s for %s not queued: %s", m.id, eui,
		    r == -ENOSPC ? "the device has 8 waiting" :
		    "1024 commands wait already");
		commands_outcome(c, m.id, m.eui, "queue_full", NULL, r ==
		    -ENOSPC ? "device" : "gateway", -1);
		goto out;
	}
	c->st.queued++;
	c->dirty = 1;
	log_info("command %s (kind %u, %zu bytes, ref %u) queued for %s",
	    m.id, m.kind, m.body_len, q.ref, eui);
out:
	commands_save(c);
}

const struct ident_out *
commands_window(struct commands *c, const struct device *dev,
    uint64_t now_ms)
{
	const struct cmdq_cmd *cmd;
	struct commands_tx *t;
	uint8_t body[LINK_PAYLOAD_MAX];
	char eui[17];
	int n, r;

	if (dev == NULL || (cmd = cmdq_head(c->q, dev->eui)) == NULL ||
	    cmd->expires <= (int64_t)time(NULL))
		return NULL;
	if ((n = link_command_encode(cmd->kind, cmd->ref, cmd->body, cmd->len,
	    body, sizeof(body))) < 0 ||
	    (r = ident_downlink(c->id, dev->eui, body, (size_t)n, &c->out)) <
	    0) {
		registry_format_eui(dev->eui, eui);
		log_rl(&c->rl_store, now_ms, LOG_INFO, LOG_MODULE,
		    "command %s for %s not sent in this window: %s", cmd->id,
		    eui, strerror(n < 0 ? -n : -r));
		return NULL;
	}
	if ((t = commands_tx_find(c, dev->eui, 1)) != NULL) {
		if (t->ref != cmd->ref || t->lo == 0) {
			t->ref = cmd->ref;
			t->lo = t->hi = c->out.fcnt;
		} else {
			if (c->out.fcnt < t->lo)
				t->lo = c->out.fcnt;	/* a new session */
			if (c->out.fcnt > t->hi)
				t->hi = c->out.fcnt;
		}
	}
	return &c->out;
}

void
commands_sent(struct commands *c, const struct ident_out *o, int ok)
{
	const struct cmdq_cmd *cmd;
	char eui[17];

	if (!ok || o->dev == NULL ||
	    (cmd = cmdq_head(c->q, o->dev->eui)) == NULL)
		return;
	c->st.delivered++;
	registry_format_eui(o->dev->eui, eui);
	log_debug("command %s sent to %s (down fcnt %" PRIu32 ")", cmd->id,
	    eui, o->fcnt);
}

struct commands_ack_arg {
	struct commands		*c;
	uint64_t		 eui;
	uint16_t		 ref;
	uint8_t			 status;
};

static int
commands_is_acked(void *arg, const struct cmdq_cmd *cmd)
{
	const struct commands_ack_arg *a = arg;

	return cmd->eui == a->eui && cmd->ref == a->ref;
}

static void
commands_acked(void *arg, const struct cmdq_cmd *cmd)
{
	struct commands_ack_arg *a = arg;
	char eui[17];

	a->c->st.acknowledged++;
	registry_format_eui(cmd->eui, eui);
	log_info("command %s acknowledged by %s (status %u)", cmd->id, eui,
	    a->status);
	commands_gone(a->c, cmd);
	commands_outcome(a->c, cmd->id, cmd->eui, "acknowledged", NULL, NULL,
	    a->status);
}

void
commands_ack(struct commands *c, const struct ident_out *o)
{
	struct commands_ack_arg a = { c, 0, o->ack.ref, o->ack.status };
	const struct cmdq_cmd *cmd;
	const struct commands_tx *t;

	if (o->dev == NULL)
		return;
	a.eui = o->dev->eui;
	/* Only the head is ever sent; an ACK for anything else is late (a
	 * repeat of one already ended) and ends nothing. */
	if ((cmd = cmdq_head(c->q, a.eui)) == NULL || cmd->ref != a.ref ||
	    (t = commands_tx_find(c, a.eui, 0)) == NULL || t->ref != a.ref ||
	    o->ack.down_fcnt < t->lo || o->ack.down_fcnt > t->hi)
		return;
	(void)cmdq_take(c->q, commands_is_acked, commands_acked, &a);
	commands_save(c);
}

static void
commands_expired(void *arg, const struct cmdq_cmd *cmd)
{
	struct commands *c = arg;
	char eui[17];

	c->st.expired++;
	registry_format_eui(cmd->eui, eui);
	log_info("command %s for %s expired unacknowledged", cmd->id, eui);
	commands_gone(c, cmd);
	commands_outcome(c, cmd->id, cmd->eui, "expired", NULL, NULL, -1);
}

/* Publish what waits, oldest first, while the result slots take it. */
static void
commands_publish(struct commands *c)
{
	struct cmdq_result *r;
	size_t i;

	if (c->up == NULL || !uplink_connected(c->up))
		return;
	for (i = 0; (r = cmdq_result_at(c->q, i)) != NULL; i++) {
		if (r->inflight)
			continue;
		if (uplink_publish_result(c->up, r->text, r->len, r->seq) != 0)
			return;
		r->inflight = 1;
	}
}

void
commands_tick(struct commands *c, uint64_t now_ms)
{
	if (now_ms >= c->next_expire_ms) {
		c->next_expire_ms = now_ms + COMMANDS_EXPIRE_MS;
		if (cmdq_expire(c->q, (int64_t)time(NULL), commands_expired,
		    c) > 0)
			c->dirty = 1;
	}
	commands_save(c);
	commands_publish(c);
	log_rl_flush(&c->rl_bad, now_ms);
	log_rl_flush(&c->rl_store, now_ms);
}

void
commands_on_connect(struct commands *c)
{
	commands_publish(c);
}

void
commands_on_disconnect(struct commands *c)
{
	struct cmdq_result *r;
	size_t i;

	/* No PUBACK will come for them: they go again, in order. */
	for (i = 0; (r = cmdq_result_at(c->q, i)) != NULL; i++)
		r->inflight = 0;
}

void
commands_on_result_ack(struct commands *c, uint64_t cookie)
{
	if (cmdq_result_done(c->q, cookie) == 0) {
		c->dirty = 1;
		commands_save(c);
	}
}

struct commands_reg_arg {
	struct commands		*c;
	const struct registry	*reg;
};

static int
commands_unauthorised(void *arg, const struct cmdq_cmd *cmd)
{
	const struct commands_reg_arg *a = arg;
	const char *why;

	return cmdauth_check(a->reg, cmd->eui, cmd->kind, cmd->len, &why) !=
	    CMDAUTH_OK;
}

static void
commands_withdrawn(void *arg, const struct cmdq_cmd *cmd)
{
	struct commands_reg_arg *a = arg;
	const char *why;
	char eui[17];
	int r;

	r = cmdauth_check(a->reg, cmd->eui, cmd->kind, cmd->len, &why);
	registry_format_eui(cmd->eui, eui);
	log_info("command %s for %s withdrawn after the reload: %s", cmd->id,
	    eui, why);
	commands_gone(a->c, cmd);
	if (r == CMDAUTH_REVOKED) {
		a->c->st.revoked++;
		commands_outcome(a->c, cmd->id, cmd->eui, "revoked", NULL, why,
		    -1);
	} else {
		a->c->st.refused++;
		commands_outcome(a->c, cmd->id, cmd->eui, "refused",
		    cmdauth_strerror(r), why, -1);
	}
}

void
commands_set_registry(struct commands *c, const struct registry *reg)
{
	struct commands_reg_arg a = { c, reg };

	c->reg = reg;
	if (cmdq_take(c->q, commands_unauthorised, commands_withdrawn, &a) > 0)
		commands_save(c);
}

void
commands_set_uplink(struct commands *c, struct uplink *up)
{
	c->up = up;
}

int
commands_new(const struct registry *reg, struct ident *id, const char *dir,
    struct commands **out)
{
	struct commands *c;
	int r;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	/* Opened before the chroot, valid after it (the same directory):
	 * the directory's own fsync needs a descriptor. */
	if ((c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		free(c);
		return r;
	}
	if ((c->q = cmdq_new()) == NULL) {
		close(c->dirfd);
		free(c);
		return -ENOMEM;
	}
	c->reg = reg;
	c->id = id;
	log_ratelimit_init(&c->rl_bad, "malformed commands",
	    COMMANDS_RL_INTERVAL_MS, COMMANDS_RL_BURST);
	log_ratelimit_init(&c->rl_store, "command warnings",
	    COMMANDS_RL_INTERVAL_MS, COMMANDS_RL_BURST);
	r = cmdq_load(c->q, c->dirfd);
	if (r == -EBADMSG)
		log_warnx("%s is damaged: moved to quarantine/; its commands "
		    "are lost (their outcomes will never be published) and "
		    "the queue starts empty", CMDQ_FILE);
	else if (r != 0)
		log_warnx("cannot read %s: %s; the queue starts empty",
		    CMDQ_FILE, strerror(-r));
	else if (cmdq_count(c->q) + cmdq_result_count(c->q) > 0)
		log_info("%zu commands waiting, %zu outcomes to publish",
		    cmdq_count(c->q), cmdq_result_count(c->q));
	/* Devices revoked while we were down: their commands end now. */
	commands_set_registry(c, reg);
	*out = c;
	return 0;
}

void
commands_free(struct commands *c)
{
	if (c == NULL)
		return;
	commands_save(c);
	cmdq_free(c->q);
	close(c->dirfd);
	free(c);
}

const struct commands_stats *
commands_stats(const struct commands *c)
{
	return &c->st;
}

void
commands_status(const struct commands *c, FILE *f)
{
	status_u64(f, STATUS_K_COMMANDS_WAITING, cmdq_count(c->q));
	status_u64(f, STATUS_K_COMMANDS_RECEIVED, c->st.received);
	status_u64(f, STATUS_K_COMMANDS_QUEUED, c->st.queued);
	status_u64(f, STATUS_K_COMMANDS_DELIVERED, c->st.delivered);
	status_u64(f, STATUS_K_COMMANDS_ACKNOWLEDGED, c->st.acknowledged);
	status_u64(f, STATUS_K_COMMANDS_EXPIRED, c->st.expired);
	status_u64(f, STATUS_K_COMMANDS_REFUSED, c->st.refused);
	status_u64(f, STATUS_K_COMMANDS_MALFORMED, c->st.malformed);
	status_u64(f, STATUS_K_COMMANDS_DUPLICATE, c->st.duplicate);
	status_u64(f, STATUS_K_COMMANDS_QUEUE_FULL, c->st.queue_full);
	status_u64(f, STATUS_K_COMMANDS_REVOKED, c->st.revoked);
	status_u64(f, STATUS_K_COMMAND_RESULTS_PENDING,
	    cmdq_result_count(c->q));
	status_u64(f, STATUS_K_COMMAND_STORE_ERRORS, c->st.store_errors);
}
