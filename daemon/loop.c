/*
 * loop.c - the daemon: one thread, one poll() over the serial lines, the
 * MQTT socket, a 100 ms timerfd and a signalfd.
 *
 * Data flow:
 *   port (serial bytes -> driver) --RADIO_EV_RX--> ident_input
 *     IDENT_REPLY  -> radio_port_transmit on the same port, same radio
 *                     parameters as the packet it answers
 *     IDENT_RECORD -> rules_check (the device's rules per class,
 *                     policy/rules.h) -> struct record -> batcher_add
 *     a verdict    -> drop counter by reason, rate-limited log line
 *   accepted record -> outbox (journal + batcher; outbox.c): sealed
 *   batch -> spool on disk -> uplink_publish while uplink_ready(), live
 *   batches first; PUBACK -> spool_ack; every (re)connect rewinds the
 *   spool (at-least-once, in order).  The outbox commits (journal and
 *   spool synced) every spool.durability_ms from the tick.
 *
 * Signals: SIGTERM/SIGINT stop reading, flush open batches, wait (bounded
 * by daemon.shutdown_timeout_ms) for their PUBACKs, publish the retained
 * "offline" status, disconnect and exit 0; a second one exits at once.
 * SIGHUP reloads the registry and reconnects if the TLS files changed;
 * SIGUSR1 logs the counters.
 *
 * The counters (frames dropped by identity per verdict, records the
 * device's rules refused per verdict, records the batcher refused, frames each driver discarded per verdict, batches the
 * spool dropped or could not number) are counted here and reported by
 * status.c: as the counters line every daemon.stats_interval_s, on
 * SIGUSR1 and at exit, and as STATE_DIR/status every
 * daemon.status_interval_s and at exit.  Batches not delivered at exit are
 * not lost: they stay in the spool.
 */
#define LOG_MODULE	"loop"

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/batch.h"
#include "daemon/check.h"
#include "daemon/commands.h"
#include "daemon/conf.h"
#include "daemon/devstats.h"
#include "daemon/log.h"
#include "daemon/loop.h"
#include "daemon/mono.h"
#include "daemon/outbox.h"
#include "daemon/status.h"
#include "daemon/notify.h"
#include "daemon/store/seqno.h"
#include "daemon/session.h"
#include "policy/budget.h"
#include "radio/airtime.h"
#include "radio/serlock.h"
#include "daemon/store/spool.h"
#include "daemon/uplink.h"
#include "daemon/wallclock.h"
#include "policy/ident.h"
#include "policy/registry.h"
#include "policy/rules.h"
#include "radio/port.h"
#include "radio/serial.h"
#include "radio/radio.h"

#define LOOP_TICK_MS		100
#define LOOP_RL_INTERVAL_MS	10000	/* per kind of node-triggered line */
#define LOOP_RL_BURST		5
/* Serial drop counters: the verdict names of every driver built in. */
#define LOOP_SERIAL_COUNTERS_MAX	64
#define LOOP_SERIAL_KEY_MAX	48	/* "serial_" and a verdict's name */
#define LOOP_SERIAL_OTHER	"other"	/* verdicts outside a driver's names */
/* After the drain: how long the "offline" status may take. */
#define LOOP_OFFLINE_WAIT_MS	1000
/* No concentrator open for this long: not healthy, the watchdog starves
 * (see loop_healthy). */
#define LOOP_PORTS_DOWN_MAX_MS	120000
/* --no-sandbox repeats its warning this often. */
#define LOOP_NOSANDBOX_WARN_MS	300000

/* The identity drop counters, named by ident_strverdict(), in the order
 * of the counters line and the status file (a stable format). */
static const int loop_ident_order[] = {
	-IDENT_DROP_UNKNOWN, -IDENT_DROP_BAD_TAG, -IDENT_DROP_REPLAY,
	-IDENT_DROP_STALE, -IDENT_DROP_REVOKED, -IDENT_DROP_RATE,
	-IDENT_DROP_MALFORMED, -IDENT_DROP_DIRECTION, -IDENT_DROP_NO_SESSION,
	-IDENT_DROP_DOWNGRADE,
};

/* The rules' drop counters, named by rules_strverdict(), in the order of
 * the counters line and the status file, after "stream". */
static const int loop_rules_order[] = {
	-RULES_DROP_NONE, -RULES_DROP_STREAM, -RULES_DROP_KIND,
	-RULES_DROP_SIZE, -RULES_DROP_RATE,
};
/* Devices named in the start-up line about devices without rules. */
#define LOOP_RULES_NAMED	3

#define LOOP_SENT_MAX		16	/* downlinks remembered per port */

struct loop;

struct loop_port {
	struct loop			*d;
	struct radio_port		*port;
	const struct conf_concentrator	*cc;
	const struct radio_driver	*drv;
	uint16_t			 txid;
	/* The last downlinks queued, to name the one a TX result is
	 * about. */
	struct loop_sent {
		uint16_t	 id;
		uint8_t		 kind;		/* link frame type */
		uint64_t	 eui;		/* 0: not known */
	}				 sent[LOOP_SENT_MAX];
	unsigned int			 sent_next;
	int				 last_err;
	/* For the status file: port_NAME_state, since when (wall clock),
	 * the last error in words. */
	const char			*state;
	time_t				 since;
	char				 error[STATUS_TEXT_MAX + 1];
	struct log_ratelimit		 rl_ident[IDENT_VERDICT_COUNT];
	struct log_ratelimit		 rl_serial[RADIO_DROPS_MAX];
	struct log_ratelimit		 rl_misc;
	/* Serial drops of a port already freed (drain). */
	uint64_t			 serial_saved[RADIO_DROPS_MAX];
};

struct loop_counters {
	uint64_t	records;	/* accepted into the batcher */
	uint64_t	ident[IDENT_VERDICT_COUNT];
	uint64_t	rules[RULES_VERDICT_COUNT];	/* refused by rules */
	uint64_t	stream;		/* batcher_add refused */
	uint64_t	replies;	/* downlinks queued */
	uint64_t	replies_failed;
	uint64_t	tx_refused;	/* the concentrator did not send */
	uint64_t	airtime_refused[BUDGET_CLASSES];
	uint64_t	challenges[2];	/* queued, to v1 and to v2 HELLOs */
};

struct loop {
	struct conf		 conf;
	const char		*conf_path;
	const struct loop_opts	*o;
	int			 parent_fd;	/* o->parent_fd until it hangs up */
	uint64_t		 ports_down_since_ms;	/* 0: one is open */
	uint64_t		 next_nosandbox_warn_ms;
	int			 unhealthy_logged;
	struct registry		*reg;
	struct rules		*rules;		/* of reg */
	struct ident		*ident;
	struct devstats		*devs;
	gid_t			 status_gid;	/* (gid_t)-1: our own */
	time_t			 reload_at;	/* last SIGHUP, 0: none */
	char			 reload_result[STATUS_TEXT_MAX + 1];
	struct seqno		*seq;
	struct session		*sess;		/* NULL: not durable */
	struct budget		*budget;	/* NULL: region "none" */
	struct batcher		*bt;
	struct outbox		*ob;
	struct uplink		*up;
	struct commands		*cmds;
	struct loop_port	 ports[CONF_CONCENTRATORS_MAX];
	int			 nports;
	/* Names of the serial drop counters ("serial_" NAME), see
	 * loop_serial_init. */
	const char		*serial_names[LOOP_SERIAL_COUNTERS_MAX];
	/* The same as counter names: "serial_" NAME. */
	char			 serial_keys[LOOP_SERIAL_COUNTERS_MAX]
				    [LOOP_SERIAL_KEY_MAX];
	size_t			 nserial;
	int			 tfd, sfd;
	int			 clock_synced;
	enum wallclock_source	 clock_src;
	int			 draining;
	int			 quit;
	uint64_t		 drain_deadline_ms;
	uint64_t		 start_ms;
	uint64_t		 next_stats_ms;
	uint64_t		 next_status_ms;
	uint64_t		 next_health_ms;	/* 0: at the next tick */
	struct loop_counters	 c;
	struct log_ratelimit	 rl_tx;
	struct log_ratelimit	 rl_rules[RULES_VERDICT_COUNT];
	struct ident_out	 iout;
};

/*
 * Whether the wall clock is NTP-synchronised (wallclock.h: adjtimex, else
 * timesyncd's flag as the privsep parent mirrors it into the state
 * directory).  A gateway without an RTC boots with a wrong clock; records
 * carry this flag so the cloud can correct their receive times.  The
 * source is logged once, and again only if it changes.
 */
static int
loop_clock_check(struct loop *d)
{
	enum wallclock_source src;
	int synced;

	synced = wallclock_check(d->o->confine != NULL ? WALLCLOCK_FLAG_COPY :
	    NULL, &src);
	if (src != d->clock_src) {
		log_msg(LOG_INFO, "clock", 0, "%s", wallclock_source_desc(src));
		d->clock_src = src;
	}
	return synced;
}

static uint64_t
loop_serial_drops(const struct loop_port *p, int i)
{
	const struct radio_port_stats *st;

	if (p->port == NULL)
		return p->serial_saved[i];
	st = radio_port_stats(p->port);
	return p->serial_saved[i] + st->drops[i];
}

/* The counter name of a driver's verdict -i; [0] counts the verdicts
 * outside its names (radio/port.c). */
static const char *
loop_serial_name(const struct radio_driver *drv, size_t i)
{
	return i == 0 ? LOOP_SERIAL_OTHER : drv->drop_names[i];
}

/* How many of a port's drop counters are in use: [0] even when the
 * driver names no verdict. */
static size_t
loop_serial_slots(const struct radio_driver *drv)
{
	return drv->ndrops > 0 ? drv->ndrops : 1;
}

/*
 * The serial drop counters are the verdict names of every driver built in,
 * each once, in the drivers' order, then "other": the keys of the status
 * file and the counters line depend on the build, never on which drivers
 * the configuration uses.  Ports of different drivers add up by name.
 */
static void
loop_serial_init(struct loop *d)
{
	const struct radio_driver *const *drv = radio_drivers();
	const char *name;
	size_t k, j, i;

	for (k = 0; drv[k] != NULL; k++)
		for (j = 1; j < drv[k]->ndrops; j++) {
			name = drv[k]->drop_names[j];
			for (i = 0; i < d->nserial; i++)
				if (strcmp(d->serial_names[i], name) == 0)
					break;
			if (i < d->nserial)
				continue;
			if (d->nserial == LOOP_SERIAL_COUNTERS_MAX - 1 ||
			    strcmp(name, LOOP_SERIAL_OTHER) == 0)
				fatalx("driver %s: drop verdict \"%s\" cannot "
				    "be counted", drv[k]->name, name);
			d->serial_names[d->nserial++] = name;
		}
	d->serial_names[d->nserial++] = LOOP_SERIAL_OTHER;
	for (i = 0; i < d->nserial; i++)
		if ((size_t)snprintf(d->serial_keys[i], sizeof(d->serial_keys[i]),
		    "serial_%s", d->serial_names[i]) >= sizeof(d->serial_keys[i]))
			fatalx("drop verdict \"%s\": name too long",
			    d->serial_names[i]);
}

static uint64_t
loop_serial_total(const struct loop *d, size_t i)
{
	const struct loop_port *p;
	uint64_t n = 0;
	size_t j;
	int k;

	for (k = 0; k < d->nports; k++) {
		p = &d->ports[k];
		for (j = 0; j < loop_serial_slots(p->drv); j++)
			if (strcmp(loop_serial_name(p->drv, j),
			    d->serial_names[i]) == 0)
				n += loop_serial_drops(p, (int)j);
	}
	return n;
}

/* The airtime budget's lines of the status file: per port and sub-band,
 * only the bands it has used or refused. */
static void
loop_airtime_status(struct loop *d, FILE *f, uint64_t now_ms)
{
	struct budget_band_info bi;
	const char *pn;
	unsigned int i;
	int k;

	fprintf(f, "downlinks_refused_by_concentrator=%llu\n"
	    "downlinks_refused_airtime=%llu\n"
	    "challenges_refused_airtime=%llu\n"
	    "challenges_sent_v1=%llu\nchallenges_sent_v2=%llu\n",
	    (unsigned long long)d->c.tx_refused,
	    (unsigned long long)d->c.airtime_refused[BUDGET_AUTH],
	    (unsigned long long)d->c.airtime_refused[BUDGET_UNAUTH],
	    (unsigned long long)d->c.challenges[0],
	    (unsigned long long)d->c.challenges[1]);
	if (d->budget == NULL) {
		fprintf(f, "airtime_region=none\n");
		return;
	}
	fprintf(f, "airtime_out_of_band=%llu\n",
	    (unsigned long long)budget_out_of_band(d->budget));
	fprintf(f, "airtime_region=%s\n", budget_region_name(
	    d->conf.policy.region == CONF_REGION_US915 ? BUDGET_US915 :
	    BUDGET_EU868));
	for (k = 0; k < d->nports; k++) {
		pn = d->ports[k].cc->name;
		for (i = 0; i < budget_band_count(d->budget); i++) {
			budget_band(d->budget, (unsigned int)k, i, now_ms, &bi);
			if (bi.sent[BUDGET_AUTH] + bi.sent[BUDGET_UNAUTH] +
			    bi.refused[BUDGET_AUTH] +
			    bi.refused[BUDGET_UNAUTH] == 0)
				continue;
			fprintf(f, "airtime_%s_%s_limit_ms=%llu\n"
			    "airtime_%s_%s_used_ms=%llu\n"
			    "airtime_%s_%s_challenge_used_ms=%llu\n"
			    "airtime_%s_%s_sent=%llu\n"
			    "airtime_%s_%s_challenges_sent=%llu\n"
			    "airtime_%s_%s_refused=%llu\n"
			    "airtime_%s_%s_challenges_refused=%llu\n",
			    pn, bi.name, (unsigned long long)bi.limit_us / 1000,
			    pn, bi.name, (unsigned long long)bi.used_us / 1000,
			    pn, bi.name,
			    (unsigned long long)bi.unauth_used_us / 1000,
			    pn, bi.name,
			    (unsigned long long)bi.sent[BUDGET_AUTH],
			    pn, bi.name,
			    (unsigned long long)bi.sent[BUDGET_UNAUTH],
			    pn, bi.name,
			    (unsigned long long)bi.refused[BUDGET_AUTH],
			    pn, bi.name,
			    (unsigned long long)bi.refused[BUDGET_UNAUTH]);
		}
	}
}

/* A port's state for the status file; since moves only when it
 * changes. */
static void
loop_port_state(struct loop_port *p, const char *state)
{
	if (p->state == NULL || strcmp(p->state, state) != 0)
		p->since = time(NULL);
	p->state = state;
}

static void
loop_ports_status(struct loop *d, FILE *f)
{
	const struct loop_port *p;
	int k;

	for (k = 0; k < d->nports; k++) {
		p = &d->ports[k];
		status_text3(f, STATUS_K_PORT_PREFIX, p->cc->name,
		    STATUS_K_PORT_PATH, p->cc->path);
		status_text3(f, STATUS_K_PORT_PREFIX, p->cc->name,
		    STATUS_K_PORT_STATE, p->state);
		status_text3(f, STATUS_K_PORT_PREFIX, p->cc->name,
		    STATUS_K_PORT_ERROR, p->error);
		status_i64_3(f, STATUS_K_PORT_PREFIX, p->cc->name,
		    STATUS_K_PORT_SINCE, (int64_t)p->since);
	}
}

/* What the status file and the counters line report (status.c). */
static void
loop_snapshot(struct loop *d, uint64_t now_ms, const char *state,
    struct status_loop *l)
{
	const struct batcher_stats *bs = batcher_stats(d->bt);
	const struct outbox_stats *os = outbox_stats(d->ob);
	const struct uplink_stats *us = uplink_stats(d->up);
	size_t i;
	int k;

	memset(l, 0, sizeof(*l));
	l->state = state;
	l->gateway_id = d->conf.gateway_id;
	l->uptime_s = (now_ms - d->start_ms) / 1000;
	l->clock_synced = d->clock_synced;
	l->mqtt_connected = uplink_connected(d->up);
	l->mqtt_connects = us->connects;
	l->mqtt_disconnects = us->disconnects;
	l->mqtt_inflight = uplink_inflight(d->up);
	l->ports = d->nports;
	for (k = 0; k < d->nports; k++)
		if (d->ports[k].port != NULL &&
		    radio_port_is_open(d->ports[k].port))
			l->ports_open++;
	l->sandbox = d->o->no_sandbox ? "disabled" :
	    d->o->sandbox_desc != NULL ? d->o->sandbox_desc : "none";
	l->records_accepted = d->c.records;
	l->records_pending = batcher_pending(d->bt);
	l->batches_sealed = bs->batches;
	l->batches_delivered = os->delivered;
	l->records_delivered = os->delivered_records;
	for (i = 0; i < sizeof(loop_ident_order) / sizeof(loop_ident_order[0]);
	    i++) {
		l->drops[l->ndrops].name =
		    ident_strverdict(-loop_ident_order[i]);
		l->drops[l->ndrops++].value = d->c.ident[loop_ident_order[i]];
	}
	l->drops[l->ndrops].name = "stream";
	l->drops[l->ndrops++].value = d->c.stream;
	for (i = 0; i < sizeof(loop_rules_order) / sizeof(loop_rules_order[0]);
	    i++) {
		l->drops[l->ndrops].name =
		    rules_strverdict(-loop_rules_order[i]);
		l->drops[l->ndrops++].value = d->c.rules[loop_rules_order[i]];
	}
	for (i = 0; i < d->nserial && l->ndrops < STATUS_DROPS_MAX; i++) {
		l->drops[l->ndrops].name = d->serial_keys[i];
		l->drops[l->ndrops++].value = loop_serial_total(d, i);
	}
	outbox_dropped(d->ob, &l->spool_dropped_batches,
	    &l->spool_dropped_records);
	l->lost_batches = bs->lost_batches;
	l->lost_records = bs->lost_records;
	l->downlinks = d->c.replies;
	l->downlinks_failed = d->c.replies_failed;
	l->keepalives_sent = ident_keepalive_count(d->ident);
	l->reload_at = (int64_t)d->reload_at;
	l->reload_result = d->reload_result;
}

static void
loop_log_counters(struct loop *d, const char *prefix)
{
	struct status_loop l;
	char line[1024];

	loop_snapshot(d, mono_ms(), "", &l);
	log_info("%s", status_counters_line(line, sizeof(line), prefix, &l));
}

static void
loop_status_uplink(void *arg, FILE *f)
{
	uplink_status(((struct loop *)arg)->up, f);
}

static void
loop_status_outbox(void *arg, FILE *f)
{
	struct loop *d = arg;

	outbox_status(d->ob, f);
	session_status(d->sess, f);
	commands_status(d->cmds, f);
}

static void
loop_status_radio(void *arg, FILE *f)
{
	struct loop *d = arg;

	loop_airtime_status(d, f, mono_ms());
	loop_ports_status(d, f);
	devstats_status(d->devs, f);
}

static struct status_sections
loop_status_sections(struct loop *d)
{
	const struct status_sections sec = {
		.uplink = loop_status_uplink,
		.outbox = loop_status_outbox,
		.radio = loop_status_radio,
		.arg = d,
	};

	return sec;
}

static void
loop_write_status(struct loop *d, uint64_t now_ms, const char *state)
{
	const struct status_sections sec = loop_status_sections(d);
	struct status_loop l;
	int r;

	loop_snapshot(d, now_ms, state, &l);
	/* The cwd is the state directory (chrooted or not). */
	r = status_write(AT_FDCWD, &l, &sec, d->status_gid);
	if (r == -EPERM && d->status_gid != (gid_t)-1) {
		log_warnx("cannot give %s/%s to group %s (is the daemon's user "
		    "in it?): only the daemon's own group reads it",
		    d->conf.state_dir, STATUS_FILE, STATUS_GROUP);
		d->status_gid = (gid_t)-1;
		r = status_write(AT_FDCWD, &l, &sec, d->status_gid);
	}
	if (r < 0)
		log_rl(&d->rl_tx, now_ms, LOG_WARNING, LOG_MODULE,
		    "cannot write %s/%s: %s", d->conf.state_dir, STATUS_FILE,
		    strerror(-r));
}

/*
 * The retained health message (docs/uplink-format.md): the status file's
 * own text, kept to what a fleet dashboard needs (status_health).  Only
 * while connected: a period that finds the link down is skipped, the
 * broker keeps showing the last one, and the next connection brings a
 * fresh one (loop_on_connect).
 */
static void
loop_publish_health(struct loop *d, uint64_t now_ms)
{
	const struct status_sections sec = loop_status_sections(d);
	struct status_loop l;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!uplink_connected(d->up))
		return;
	loop_snapshot(d, now_ms, "running", &l);
	if ((r = status_health(&l, &sec, &buf, &len)) == 0)
		r = uplink_publish_health(d->up, buf, len);
	if (r < 0)
		log_rl(&d->rl_tx, now_ms, LOG_WARNING, LOG_MODULE,
		    "cannot publish the health message: %s, trying again in "
		    "%d s", strerror(-r), d->conf.daemon.health_interval_s);
	free(buf);
}

/* Send o->reply to the node that sent rx: 0, or -errno (counted). */
static int
loop_reply(struct loop *d, struct loop_port *p, const struct radio_rx *rx,
    const struct ident_out *o, uint64_t now_ms)
{
	struct radio_tx tx;
	struct loop_sent *s;
	enum budget_class cls;
	unsigned int kind;
	int64_t toa;
	int r;

	/* Answer on the channel the node listens on: the one it just
	 * used. */
	memset(&tx, 0, sizeof(tx));
	tx.id = ++p->txid;
	tx.meta.modulation = rx->meta.modulation;
	tx.meta.freq_hz = rx->meta.freq_hz;
	tx.meta.datarate = rx->meta.datarate;
	tx.meta.bw_hz = rx->meta.bw_hz;
	tx.power_dbm = (int8_t)p->cc->tx_power_dbm;
	tx.at_tmst_us = 0;
	tx.payload = o->reply;
	tx.len = o->reply_len;
	kind = o->reply[0] & 0x0f;
	/* Replies to authenticated frames may use the whole airtime
	 * budget, CHALLENGEs to version 1 HELLOs (anybody can make us send
	 * one) only a share (policy/budget.h); a version 2 HELLO's MIC
	 * verified, so its CHALLENGE goes with the authenticated. */
	cls = kind == LINK_CHALLENGE && !o->reply_auth ? BUDGET_UNAUTH :
	    BUDGET_AUTH;
	if (d->budget != NULL) {
		toa = airtime_tx_us(&tx.meta, tx.len);
		r = toa < 0 ? (int)toa : budget_take(d->budget,
		    (unsigned int)(p - d->ports), tx.meta.freq_hz, toa, cls,
		    now_ms);
		if (r != 0) {
			d->c.airtime_refused[cls]++;
			log_rl(&d->rl_tx, now_ms, LOG_INFO, LOG_MODULE,
			    "%s: %s on %" PRIu32 " Hz not sent: %s",
			    radio_port_name(p->port), cls == BUDGET_UNAUTH ?
			    "CHALLENGE" : "downlink", tx.meta.freq_hz,
			    r == -EBUSY ? "over the sub-band's airtime budget" :
			    r == -ERANGE ? "outside the region's sub-bands or "
			    "over its dwell time" : strerror(-r));
			return r;
		}
	}
	if ((r = radio_port_transmit(p->port, &tx)) != 0) {
		d->c.replies_failed++;
		log_rl(&d->rl_tx, now_ms, LOG_WARNING, LOG_MODULE,
		    "%s: cannot queue a downlink: %s",
		    radio_port_name(p->port), strerror(-r));
		return r;
	}
	d->c.replies++;
	if (kind == LINK_CHALLENGE)
		d->c.challenges[o->reply_auth != 0]++;
	s = &p->sent[p->sent_next++ % LOOP_SENT_MAX];
	s->id = tx.id;
	s->kind = (uint8_t)kind;
	s->eui = o->dev != NULL ? o->dev->eui : 0;
	return 0;
}

/*
 * The receive window after an authenticated uplink: the node's next
 * command (daemon/commands.c), else the keepalive it asked for.  A
 * COMMAND answers the request as well (any verified downlink resets the
 * node's silence count); the keepalive's down counter is then skipped, a
 * gap the node accepts.
 */
static void
loop_window(struct loop *d, struct loop_port *p, const struct radio_rx *rx,
    const struct ident_out *o, uint64_t now_ms)
{
	const struct ident_out *co;

	if ((co = commands_window(d->cmds, o->dev, now_ms)) != NULL)
		commands_sent(d->cmds, co, loop_reply(d, p, rx, co, now_ms) ==
		    0);
	else if (o->reply_len > 0)
		(void)loop_reply(d, p, rx, o, now_ms);
}

/* The downlink a TX result names, if it is still remembered. */
static const struct loop_sent *
loop_sent_find(const struct loop_port *p, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < LOOP_SENT_MAX; i++)
		if (p->sent[i].id == id && p->sent[i].kind != 0)
			return &p->sent[i];
	return NULL;
}

static const char *
loop_kind_name(unsigned int kind)
{
	switch (kind) {
	case LINK_CHALLENGE:
		return "CHALLENGE";
	case LINK_DATA_DOWN:
		return "DATA_DOWN";
	default:
		return "downlink";
	}
}

/* A record the device's rules refused: counted, and said why. */
static void
loop_rules_refused(struct loop *d, const struct ident_out *o, int v,
    uint64_t now_ms)
{
	const struct rules_set *set = o->dev->rules;
	char eui[17], why[64];

	d->c.rules[-v]++;
	devstats_refused(d->devs, o->dev->eui, o->dev->name);
	registry_format_eui(o->dev->eui, eui);
	why[0] = '\0';
	if (v == RULES_DROP_KIND)
		snprintf(why, sizeof(why), o->payload_len > 0 ?
		    " (kind %u not allowed)" : " (empty payload)",
		    o->payload_len > 0 ? o->payload[0] : 0);
	else if (v == RULES_DROP_SIZE)
		snprintf(why, sizeof(why), " (%zu bytes, at most %u)",
		    o->payload_len, set->max_payload);
	else if (v == RULES_DROP_STREAM)
		snprintf(why, sizeof(why), " (stream \"%s\" not allowed)",
		    registry_stream_name(d->reg, o->dev->stream));
	else if (v == RULES_DROP_NONE)
		snprintf(why, sizeof(why), " (no class, no rules)");
	log_rl(&d->rl_rules[-v], now_ms, LOG_INFO, LOG_MODULE,
	    "record from %s (%s) refused: %s%s", eui, o->dev->name,
	    rules_strverdict(v), why);
}

static void
loop_rx(struct loop *d, struct loop_port *p, const struct radio_rx *rx)
{
	struct ident_out *o = &d->iout;
	struct record rec;
	struct timespec wall;
	char eui[17];
	uint64_t now_ms = mono_ms();
	int v, r;

	clock_gettime(CLOCK_REALTIME, &wall);
	v = ident_input(d->ident, rx->payload, rx->len, now_ms, o);
	if (v < 0) {
		if (-v >= IDENT_VERDICT_COUNT)
			v = IDENT_DROP_MALFORMED;
		d->c.ident[-v]++;
		if (o->dev != NULL) {
			devstats_refused(d->devs, o->dev->eui, o->dev->name);
			registry_format_eui(o->dev->eui, eui);
			log_rl(&p->rl_ident[-v], now_ms, LOG_INFO, LOG_MODULE,
			    "%s: frame from %s (%s) dropped: %s",
			    radio_port_name(p->port), eui, o->dev->name,
			    ident_strverdict(v));
		} else if (o->eui != 0) {
			/* Not in the registry: say which EUI, so nobody
			 * looks for a device that is there. */
			registry_format_eui(o->eui, eui);
			log_rl(&p->rl_ident[-v], now_ms, LOG_INFO, LOG_MODULE,
			    "%s: frame from %s dropped: %s, not in the "
			    "registry (rssi %d dBm)", radio_port_name(p->port),
			    eui, ident_strverdict(v), rx->meta.rssi_dbm);
		} else if (o->sid != 0)
			log_rl(&p->rl_ident[-v], now_ms, LOG_INFO, LOG_MODULE,
			    "%s: frame of session %08" PRIx32 " dropped: %s "
			    "(rssi %d dBm)", radio_port_name(p->port), o->sid,
			    ident_strverdict(v), rx->meta.rssi_dbm);
		else
			log_rl(&p->rl_ident[-v], now_ms, LOG_INFO, LOG_MODULE,
			    "%s: frame dropped: %s (rssi %d dBm)",
			    radio_port_name(p->port), ident_strverdict(v),
			    rx->meta.rssi_dbm);
		return;
	}
	switch (o->action) {
	case IDENT_NONE:
		break;
	case IDENT_REPLY:
		(void)loop_reply(d, p, rx, o, now_ms);
		break;
	case IDENT_ACK:
		commands_ack(d->cmds, o);
		loop_window(d, p, rx, o, now_ms);
		break;
	case IDENT_RECORD:
		/* A command or a keepalive the node asked for: first, so it
		 * makes the node's receive window.  It acknowledges no
		 * data. */
		loop_window(d, p, rx, o, now_ms);
		if ((v = rules_check(d->rules, o->dev, o->payload,
		    o->payload_len, now_ms)) != RULES_OK) {
			loop_rules_refused(d, o, v, now_ms);
			break;
		}
		memset(&rec, 0, sizeof(rec));
		rec.eui = o->dev->eui;
		rec.fcnt = o->fcnt;
		rec.stream = registry_stream_name(d->reg, o->dev->stream);
		rec.rx_wall = wall;
		rec.clock_synced = d->clock_synced;
		rec.rx_mono_ms = now_ms;
		rec.meta = rx->meta;
		rec.payload = o->payload;
		rec.len = o->payload_len;
		if ((r = outbox_record(d->ob, d->bt, &rec)) != 0) {
			d->c.stream++;
			log_rl(&d->rl_tx, now_ms, LOG_WARNING, LOG_MODULE,
			    "record of %s on stream \"%s\" dropped: %s",
			    o->dev->name, rec.stream != NULL ? rec.stream : "",
			    strerror(-r));
		} else {
			d->c.records++;
			devstats_record(d->devs, o->dev->eui, o->dev->name,
			    wall.tv_sec);
		}
		break;
	}
}

/* Who holds p's line.  Only when we open lines ourselves: confined, the
 * parent opens them and says who holds one (and the child may not look:
 * realpath's readlink is outside its filter). */
static int
loop_port_holder(const struct loop_port *p, char *holder, size_t len)
{
	char key[SERLOCK_KEY_MAX];

	if (p->d->o->opener != NULL ||
	    serlock_key(p->cc->path, key, sizeof(key)) != 0)
		return 0;
	return serlock_holder(NULL, key, getpid(), holder, len);
}

static void
loop_radio_event(void *arg, const struct radio_event *ev)
{
	struct loop_port *p = arg;
	struct loop *d = p->d;
	const struct loop_sent *sent;
	char eui[SERLOCK_HOLDER_MAX];
	uint64_t now_ms;
	int i;

	switch (ev->type) {
	case RADIO_EV_RX:
		if (!d->draining)
			loop_rx(d, p, &ev->u.rx);
		break;
	case RADIO_EV_DROP:
		i = ev->u.drop < 0 && ev->u.drop > -(int)p->drv->ndrops ?
		    -ev->u.drop : 0;
		now_ms = mono_ms();
		log_rl(&p->rl_serial[i], now_ms, LOG_INFO, LOG_MODULE,
		    "%s: serial frame dropped: serial_%s",
		    radio_port_name(p->port), loop_serial_name(p->drv,
		    (size_t)i));
		break;
	case RADIO_EV_READY:
		loop_port_state(p, "ready");
		log_info("%s: concentrator ready", radio_port_name(p->port));
		break;
	case RADIO_EV_ERROR:
		(void)snprintf(p->error, sizeof(p->error), "concentrator error "
		    "%u: %s", ev->u.error.code, ev->u.error.msg != NULL ?
		    ev->u.error.msg : "");
		log_rl(&p->rl_misc, mono_ms(), LOG_WARNING, LOG_MODULE,
		    "%s: concentrator error %u: %s", radio_port_name(p->port),
		    ev->u.error.code, ev->u.error.msg != NULL ?
		    ev->u.error.msg : "");
		break;
	case RADIO_EV_TX_RESULT:
		if (ev->u.txr.status == 0)
			break;
		d->c.tx_refused++;
		if ((sent = loop_sent_find(p, ev->u.txr.id)) != NULL &&
		    sent->eui != 0) {
			registry_format_eui(sent->eui, eui);
			log_rl(&p->rl_misc, mono_ms(), LOG_INFO, LOG_MODULE,
			    "%s: %s %u to %s not sent by the concentrator "
			    "(status %u)", radio_port_name(p->port),
			    loop_kind_name(sent->kind), ev->u.txr.id, eui,
			    ev->u.txr.status);
		} else
			log_rl(&p->rl_misc, mono_ms(), LOG_INFO,
			    LOG_MODULE, "%s: downlink %u not sent (status %u)",
			    radio_port_name(p->port), ev->u.txr.id,
			    ev->u.txr.status);
		break;
	case RADIO_EV_STATUS:
		log_debug("%s: concentrator up %u s, rx ok %u bad %u",
		    radio_port_name(p->port), ev->u.status.uptime_s,
		    ev->u.status.rx_ok, ev->u.status.rx_bad);
		break;
	case RADIO_EV_PORT_UP:
		loop_port_state(p, "open");
		p->error[0] = '\0';
		p->last_err = 0;
		log_info("%s: %s open", radio_port_name(p->port),
		    p->cc->path);
		break;
	case RADIO_EV_PORT_DOWN:
		/* The port reports a repeated failure only once. */
		if (ev->u.port.err != p->last_err &&
		    ev->u.port.err == EBUSY && loop_port_holder(p, eui,
		    sizeof(eui)) == 1)
			log_warnx("%s: %s: in use by %s, retrying in %u ms",
			    radio_port_name(p->port), p->cc->path, eui,
			    ev->u.port.retry_ms);
		else if (ev->u.port.err != p->last_err)
			log_warnx("%s: %s: %s, retrying in %u ms",
			    radio_port_name(p->port), p->cc->path,
			    strerror(ev->u.port.err), ev->u.port.retry_ms);
		p->last_err = ev->u.port.err;
		loop_port_state(p, "retrying");
		if (ev->u.port.err == EBUSY && loop_port_holder(p, eui,
		    sizeof(eui)) == 1)
			(void)snprintf(p->error, sizeof(p->error), "in use by %s",
			    eui);
		else
			(void)snprintf(p->error, sizeof(p->error), "%s",
			    strerror(ev->u.port.err));
		break;
	}
}

static void
loop_sink(void *arg, struct batch *b)
{
	struct loop *d = arg;

	log_debug("batch %llu sealed: stream %s, %u records, %zu bytes",
	    (unsigned long long)b->seq, b->stream, b->nrecords, b->len);
	outbox_sealed(d->ob, b);
}

static void
loop_on_connect(void *arg)
{
	struct loop *d = arg;

	/* What was in flight goes out again, in order; what is stored
	 * becomes backlog. */
	outbox_on_connect(d->ob, mono_ms());
	commands_on_connect(d->cmds);
	/* A fresh health message at the next tick. */
	d->next_health_ms = 0;
	(void)notify_status("connected to the broker");
}

static void
loop_on_disconnect(void *arg, int reason)
{
	struct loop *d = arg;

	outbox_on_disconnect(d->ob);
	commands_on_disconnect(d->cmds);
	(void)notify_status("broker connection lost, reconnecting");
}

static void
loop_on_ack(void *arg, uint64_t cookie)
{
	struct loop *d = arg;

	outbox_on_ack(d->ob, cookie);
}

static void
loop_on_command(void *arg, const void *payload, size_t len)
{
	commands_message(((struct loop *)arg)->cmds, payload, len);
}

static void
loop_on_result_ack(void *arg, uint64_t cookie)
{
	commands_on_result_ack(((struct loop *)arg)->cmds, cookie);
}

/* Streams whose topic the uplink uses for something else. */
static int
loop_check_streams(const struct registry *reg)
{
	size_t i;
	const char *name;

	for (i = 0; i < registry_stream_count(reg); i++) {
		name = registry_stream_name(reg, (uint16_t)i);
		if (name != NULL && outbox_stream_reserved(name)) {
			log_warnx("registry: stream name \"%s\" is reserved "
			    "(the topic PREFIX/GATEWAY/%s carries the "
			    "gateway's own messages)", name, name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Confined, the registry's bytes come from the privileged parent. */
static int
loop_load_registry(struct loop *d, struct registry **out, char *err,
    size_t errlen)
{
	if (d->o->load_registry != NULL)
		return d->o->load_registry(d->o->hook_arg, out, err, errlen);
	return registry_load(d->conf.registry, d->conf.keys, out, err, errlen);
}

/*
 * What the registry's rules mean for the data, said at every load: loudly
 * when the file predates rules (everything passes, as it did), and which
 * devices will have every record refused.
 */
static void
loop_rules_report(const struct registry *reg)
{
	const struct device *dev;
	size_t i, none = 0, stream = 0;
	char eui[17];

	if (registry_rules_implicit(reg))
		log_warnx("registry: no 'classes' list, so every device may "
		    "send any kind and size (implicit class \"%s\"); define "
		    "classes to restrict them (docs/operations.md, \"Rules "
		    "per device\")", RULES_CLASS_DEFAULT);
	else
		log_info("registry: %zu classes of rules",
		    registry_class_count(reg));
	for (i = 0; i < registry_count(reg); i++) {
		dev = registry_at(reg, i);
		if (dev->revoked)
			continue;
		registry_format_eui(dev->eui, eui);
		if (dev->rules == NULL && none++ < LOOP_RULES_NAMED)
			log_warnx("registry: device %s (line %u) has no class "
			    "and no rules: its records will be refused "
			    "(rule_none)", eui, dev->line);
		else if (dev->rules != NULL && !dev->rules_stream_ok &&
		    stream++ < LOOP_RULES_NAMED)
			log_warnx("registry: device %s (line %u): its rules do "
			    "not allow its stream \"%s\": its records will be "
			    "refused (rule_stream)", eui, dev->line,
			    registry_stream_name(reg, dev->stream));
	}
	if (none > LOOP_RULES_NAMED || stream > LOOP_RULES_NAMED)
		log_warnx("registry: %zu devices without rules, %zu whose "
		    "rules refuse their stream", none, stream);
}

static void
loop_reload(struct loop *d)
{
	struct rules *rules;
	struct registry *reg = NULL;
	char err[512];
	int r;

	d->reload_at = time(NULL);
	r = loop_load_registry(d, &reg, err, sizeof(err));
	if (r != 0) {
		log_warnx("registry not reloaded, keeping the old one: %s",
		    err);
		(void)snprintf(d->reload_result, sizeof(d->reload_result),
		    "%.*s", STATUS_TEXT_MAX, err);
		return;
	}
	if (loop_check_streams(reg) != 0) {
		log_warnx("registry not reloaded, keeping the old one");
		(void)snprintf(d->reload_result, sizeof(d->reload_result),
		    "a stream name is reserved (see the log)");
		registry_free(reg);
		return;
	}
	if ((rules = rules_new(reg, mono_ms())) == NULL) {
		log_warnx("registry not reloaded: out of memory");
		(void)snprintf(d->reload_result, sizeof(d->reload_result),
		    "%s", strerror(ENOMEM));
		registry_free(reg);
		return;
	}
	if ((r = ident_set_registry(d->ident, reg)) != 0) {
		log_warnx("registry not reloaded: %s", strerror(-r));
		(void)snprintf(d->reload_result, sizeof(d->reload_result),
		    "%s", strerror(-r));
		rules_free(rules);
		registry_free(reg);
		return;
	}
	rules_carry(rules, d->rules);
	rules_free(d->rules);
	d->rules = rules;
	commands_set_registry(d->cmds, reg);
	registry_free(d->reg);
	d->reg = reg;
	(void)snprintf(d->reload_result, sizeof(d->reload_result), "%s",
	    STATUS_RELOAD_OK);
	loop_rules_report(reg);
	log_info("registry reloaded: %zu devices", registry_count(reg));
}

static void
loop_conf_changed(void *arg, const char *setting)
{
	log_warnx("%s: %s changed: it takes effect only after a restart "
	    "(systemctl restart fieldbridge)", (const char *)arg, setting);
}

void
loop_conf_changes(const char *path, const struct conf *running)
{
	struct conf *c;
	char *err;
	int r;

	c = malloc(sizeof(*c));
	err = malloc(CONF_ERR_MAX);
	if (c == NULL || err == NULL) {
		log_warnx("%s: not compared: out of memory", path);
		goto out;
	}
	if ((r = conf_load(path, c, err, CONF_ERR_MAX)) != 0)
		log_warnx("%s has errors; the daemon runs on as started, and "
		    "would not start with it: %s", path,
		    err[0] != '\0' ? err : strerror(-r));
	else if (conf_diff(running, c, loop_conf_changed, (void *)path) == 0)
		log_info("%s: unchanged", path);
out:
	free(c);
	free(err);
}

/* SIGHUP: the registry, and a renewed certificate (the parent has already
 * refreshed the chroot's copies when it passes SIGHUP on); the settings
 * of fieldbridge.conf that need a restart are named. */
static void
loop_hangup(struct loop *d, uint64_t now_ms)
{
	/* Confined, the parent has done it (it can read the file). */
	if (d->o->confine == NULL && d->conf_path != NULL)
		loop_conf_changes(d->conf_path, &d->conf);
	loop_reload(d);
	(void)uplink_reload_tls(d->up, now_ms);
}

static void
loop_start_drain(struct loop *d, uint64_t now_ms)
{
	struct loop_port *p;
	const struct radio_port_stats *st;
	int k, i;

	d->draining = 1;
	d->drain_deadline_ms = now_ms +
	    (uint64_t)d->conf.daemon.shutdown_timeout_ms;
	(void)notify_send("STOPPING=1");
	/* Stop reading: close the lines, keeping their counters. */
	for (k = 0; k < d->nports; k++) {
		p = &d->ports[k];
		if (p->port == NULL)
			continue;
		st = radio_port_stats(p->port);
		for (i = 0; i < RADIO_DROPS_MAX; i++)
			p->serial_saved[i] += st->drops[i];
		radio_port_free(p->port);
		p->port = NULL;
		loop_port_state(p, "down");
	}
	/* Every accepted record sealed and on disk: a clean stop loses
	 * nothing, delivered now or after the next start. */
	batcher_flush(d->bt);
	if (outbox_commit(d->ob) != 0)
		log_warnx("stopping: the spool could not be synced");
	log_info("stopping: publishing what is left of the live batches");
}

static void
loop_signal(struct loop *d, uint64_t now_ms)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (d->draining) {
				log_info("second signal, exiting now");
				d->quit = 1;
			} else
				loop_start_drain(d, now_ms);
			break;
		case SIGHUP:
			loop_hangup(d, now_ms);
			break;
		case SIGUSR1:
			loop_log_counters(d, "");
			break;
		}
	}
}

/*
 * Whether to feed systemd's watchdog, so that it restarts a wedged daemon
 * rather than a process that merely exists.  That this runs at all shows
 * the loop turns (from the timerfd tick).  Concentrators: unhealthy when
 * none has been open for LOOP_PORTS_DOWN_MAX_MS (a port closes also when
 * its concentrator stays silent, radio/port.c).  One unplugged concentrator
 * of several is not: a restart cannot plug it in, and would interrupt the
 * others.  The spool: unhealthy when its writes keep failing for another
 * cause than a full disk (outbox_healthy), e.g. a file system remounted
 * read-only after errors.
 */
static int
loop_healthy(struct loop *d, uint64_t now_ms)
{
	int k, open_ports = 0;

	for (k = 0; k < d->nports; k++)
		if (d->ports[k].port != NULL &&
		    radio_port_is_open(d->ports[k].port))
			open_ports++;
	if (d->nports > 0 && !d->draining) {
		if (open_ports > 0)
			d->ports_down_since_ms = 0;
		else if (d->ports_down_since_ms == 0)
			d->ports_down_since_ms = now_ms;
		else if (now_ms - d->ports_down_since_ms >=
		    LOOP_PORTS_DOWN_MAX_MS) {
			if (!d->unhealthy_logged)
				log_warnx("no concentrator open for %d s; no "
				    "longer feeding the watchdog",
				    LOOP_PORTS_DOWN_MAX_MS / 1000);
			d->unhealthy_logged = 1;
			return 0;
		}
	}
	if (!outbox_healthy(d->ob, now_ms)) {
		if (!d->unhealthy_logged)
			log_warnx("the spool cannot write; no longer feeding "
			    "the watchdog");
		d->unhealthy_logged = 1;
		return 0;
	}
	d->unhealthy_logged = 0;
	return 1;
}

static void
loop_tick(struct loop *d, uint64_t now_ms)
{
	uint64_t junk;
	int k;

	while (read(d->tfd, &junk, sizeof(junk)) > 0)
		;
	d->clock_synced = loop_clock_check(d);
	uplink_set_clock_synced(d->up, d->clock_synced);
	for (k = 0; k < d->nports; k++)
		if (d->ports[k].port != NULL)
			(void)radio_port_tick(d->ports[k].port, now_ms);
	batcher_tick(d->bt, now_ms);
	outbox_tick(d->ob, now_ms, d->clock_synced);
	commands_tick(d->cmds, now_ms);
	(void)uplink_tick(d->up, now_ms);
	if (loop_healthy(d, now_ms))
		notify_watchdog_tick(now_ms);
	if (d->o->no_sandbox && now_ms >= d->next_nosandbox_warn_ms) {
		log_warnx("SANDBOX DISABLED (--no-sandbox): not confined, for "
		    "development only");
		d->next_nosandbox_warn_ms = now_ms + LOOP_NOSANDBOX_WARN_MS;
	}
	if (d->conf.daemon.stats_interval_s > 0 && now_ms >= d->next_stats_ms) {
		if (d->next_stats_ms != 0)
			loop_log_counters(d, "");
		d->next_stats_ms = now_ms +
		    (uint64_t)d->conf.daemon.stats_interval_s * 1000;
	}
	if (now_ms >= d->next_status_ms) {
		loop_write_status(d, now_ms, d->draining ? "stopping" :
		    "running");
		d->next_status_ms = now_ms +
		    (uint64_t)d->conf.daemon.status_interval_s * 1000;
	}
	if (d->conf.daemon.health_interval_s > 0 && !d->draining &&
	    now_ms >= d->next_health_ms) {
		loop_publish_health(d, now_ms);
		d->next_health_ms = now_ms +
		    (uint64_t)d->conf.daemon.health_interval_s * 1000;
	}
	for (k = 0; k < d->nports; k++) {
		size_t i;

		for (i = 0; i < IDENT_VERDICT_COUNT; i++)
			log_rl_flush(&d->ports[k].rl_ident[i], now_ms);
		for (i = 0; i < loop_serial_slots(d->ports[k].drv); i++)
			log_rl_flush(&d->ports[k].rl_serial[i], now_ms);
		log_rl_flush(&d->ports[k].rl_misc, now_ms);
	}
	log_rl_flush(&d->rl_tx, now_ms);
	for (k = 1; k < RULES_VERDICT_COUNT; k++)
		log_rl_flush(&d->rl_rules[k], now_ms);
	/* Draining: all delivered, or out of time -> say goodbye. */
	if (d->draining && !uplink_stopped(d->up)) {
		if ((outbox_live_empty(d->ob) && uplink_inflight(d->up) == 0) ||
		    now_ms >= d->drain_deadline_ms) {
			if (now_ms < d->drain_deadline_ms + LOOP_OFFLINE_WAIT_MS)
				uplink_stop(d->up, now_ms);
			else
				d->quit = 1;
		}
	}
	if (d->draining && (uplink_stopped(d->up) ||
	    now_ms >= d->drain_deadline_ms + LOOP_OFFLINE_WAIT_MS))
		d->quit = 1;
}

static int
loop_poll(struct loop *d)
{
	struct pollfd pfd[3 + UPLINK_POLLFDS_MAX + CONF_CONCENTRATORS_MAX];
	struct loop_port *p;
	uint64_t now_ms;
	int n = 0, k, i, fd, up0, nup, port0;

	pfd[n].fd = d->sfd;
	pfd[n++].events = POLLIN;
	pfd[n].fd = d->tfd;
	pfd[n++].events = POLLIN;
	/* The uplink's sockets: the resolver's, the connection attempts',
	 * the connection's. */
	up0 = n;
	nup = uplink_pollfds(d->up, pfd + n, UPLINK_POLLFDS_MAX);
	n += nup;
	port0 = n;
	for (k = 0; k < d->nports; k++) {
		p = &d->ports[k];
		fd = p->port != NULL ? radio_port_fd(p->port) : -1;
		pfd[n].fd = fd;
		pfd[n++].events = fd >= 0 ? radio_port_events(p->port) : 0;
	}
	/* Last: events 0 still reports POLLHUP when the parent is gone. */
	pfd[n].fd = d->parent_fd;
	pfd[n++].events = 0;
	for (i = 0; i < n; i++)
		pfd[i].revents = 0;
	if (poll(pfd, (nfds_t)n, -1) < 0) {
		if (errno == EINTR)
			return 0;
		log_warn("poll");
		return -errno;
	}
	now_ms = mono_ms();
	if (pfd[0].revents)
		loop_signal(d, now_ms);
	for (i = 0; i < nup; i++)
		if (pfd[up0 + i].revents) {
			uplink_handle(d->up, pfd + up0, nup, now_ms);
			break;
		}
	for (k = 0; k < d->nports; k++)
		if (pfd[port0 + k].revents && d->ports[k].port != NULL)
			radio_port_handle(d->ports[k].port,
			    pfd[port0 + k].revents, now_ms);
	if (pfd[n - 1].revents && d->parent_fd >= 0) {
		log_warnx("the privileged parent is gone; stopping");
		d->parent_fd = -1;
		if (!d->draining)
			loop_start_drain(d, now_ms);
	}
	if (pfd[1].revents)
		loop_tick(d, now_ms);
	/* Stopping: only what is live still goes (the backlog waits). */
	outbox_feed(d->ob, now_ms, d->draining);
	return 0;
}

/*
 * The status file's group: STATUS_GROUP if it exists (looked up before
 * the chroot, which has no group database), so that its members can run
 * `fieldbridge status` without being root or the service user.  Whether
 * we are in it shows at the first write.
 */
static void
loop_status_group(struct loop *d)
{
	struct group *gr;

	d->status_gid = (gid_t)-1;
	if ((gr = getgrnam(STATUS_GROUP)) != NULL)
		d->status_gid = gr->gr_gid;
}

static void
loop_open(struct loop *d)
{
	struct loop_port *p;
	const struct radio_driver *drv;
	struct radio_params rp;
	struct batcher_limits lim;
	struct uplink_ops ops = {
		.on_connect = loop_on_connect,
		.on_disconnect = loop_on_disconnect,
		.on_ack = loop_on_ack,
		.on_command = loop_on_command,
		.on_result_ack = loop_on_result_ack,
	};
	struct itimerspec its;
	sigset_t mask;
	char err[1024];
	int r, k;
	size_t i;

	/* Configuration errors exit LOOP_EXIT_CONFIG: a restart would find
	 * them again.  Out of memory or the parent gone may pass. */
	if ((r = loop_load_registry(d, &d->reg, err, sizeof(err))) != 0)
		fatalx_status(r == -ENOMEM || r == -EPIPE ? 1 :
		    LOOP_EXIT_CONFIG, "%s", err);
	log_info("registry: %zu devices, %zu streams", registry_count(d->reg),
	    registry_stream_count(d->reg));
	loop_rules_report(d->reg);
	if ((d->rules = rules_new(d->reg, mono_ms())) == NULL)
		fatalx("cannot create the rules' state: out of memory");
	if (loop_check_streams(d->reg) != 0)
		fatalx_status(LOOP_EXIT_CONFIG, "registry %s: rename the "
		    "stream", d->conf.registry);
	/* The parent's copies exist (it would not have started without its
	 * files); the configured paths are checked here. */
	if (d->o->tls_ca == NULL &&
	    check_files(d->conf_path, &d->conf, stderr) != 0)
		fatalx_status(LOOP_EXIT_CONFIG, "TLS files missing, see above");

	/* From here on state files are named relative to the state
	 * directory, which is where the sandbox will chroot. */
	if (mkdir(d->conf.state_dir, 0750) != 0 && errno != EEXIST)
		fatal("cannot create the state directory %s",
		    d->conf.state_dir);
	if (chdir(d->conf.state_dir) != 0)
		fatal("cannot enter the state directory %s", d->conf.state_dir);
	r = seqno_open(".", SEQNO_BLOCK_DEFAULT, &d->seq);
	if (r == -EBADMSG) {
		log_warnx("%s/%s is corrupt; continuing the batch sequence "
		    "from the clock", d->conf.state_dir, SEQNO_FILE);
		r = seqno_open_recover(".", SEQNO_BLOCK_DEFAULT, &d->seq);
	}
	if (r != 0)
		fatalx("cannot open the batch sequence in %s: %s",
		    d->conf.state_dir, strerror(-r));
	log_info("batch sequence continues at %llu",
	    (unsigned long long)seqno_peek(d->seq));

	if ((d->ident = ident_new(d->reg)) == NULL ||
	    (d->devs = devstats_new()) == NULL)
		fatalx("cannot create the identity state: out of memory");
	loop_status_group(d);
	ident_set_rate(d->ident, (unsigned)d->conf.policy.rate_per_min,
	    (unsigned)d->conf.policy.rate_burst);
	ident_set_hello_rate(d->ident, (unsigned)d->conf.policy.hello_per_min,
	    (unsigned)d->conf.policy.hello_burst);
	if (d->conf.policy.region != CONF_REGION_NONE &&
	    (d->budget = budget_new(d->conf.policy.region ==
	    CONF_REGION_US915 ? BUDGET_US915 : BUDGET_EU868,
	    (unsigned int)d->conf.nconc)) == NULL)
		fatalx("cannot create the airtime budget: out of memory");
	/* Before the first frame: the last run's nodes carry on. */
	(void)session_open(d->ident, d->conf.state_dir, mono_ms(), &d->sess);
	/* Locked: another daemon runs on this state directory; a restart
	 * would only find it again. */
	if ((r = outbox_open(&d->conf, d->seq, &d->ob)) == -EBUSY) {
		log_errx("another fieldbridged uses the state directory %s "
		    "(its spool is locked): exiting", d->conf.state_dir);
		exit(d->o->exit_confine);
	} else if (r != 0)
		fatalx("cannot open the spool %s/%s: %s", d->conf.state_dir,
		    OUTBOX_SPOOL_DIR, strerror(-r));
	outbox_set_precommit(d->ob, session_commit, d->sess);
	if (d->conf.spool.durability_ms > CONF_DURABILITY_WARN_MS)
		log_warnx("spool.durability_ms is %d: a power cut may lose up "
		    "to %d ms of accepted records", d->conf.spool.durability_ms,
		    d->conf.spool.durability_ms);
	lim.max_records = (uint32_t)d->conf.batch.max_records;
	lim.max_bytes = (size_t)d->conf.batch.max_bytes;
	lim.max_age_ms = (uint32_t)d->conf.batch.max_age_ms;
	lim.encoding = d->conf.batch.encoding;
	if ((r = batcher_new(d->conf.gateway_id, &lim, d->seq, loop_sink, d,
	    &d->bt)) != 0)
		fatalx("cannot create the batcher: %s", strerror(-r));
	/* Decoders first: recovered records are encoded like new ones. */
	for (k = 0; k < d->conf.nstreams; k++)
		if (batcher_set_decoder(d->bt, d->conf.streams[k].name,
		    d->conf.streams[k].decoder) != 0)
			fatalx_status(LOOP_EXIT_CONFIG, "stream %s: cannot "
			    "set its decoder", d->conf.streams[k].name);
	/* Records the last run held in open batches, before any new one. */
	(void)outbox_recover(d->ob, d->bt);
	if ((r = uplink_new(&d->conf, &ops, d, &d->up)) != 0)
		fatalx_status(r == -EINVAL ? LOOP_EXIT_CONFIG : 1, "cannot "
		    "create the MQTT client: %s", strerror(-r));
	if (d->o->tls_ca != NULL)
		uplink_tls_files(d->up, d->o->tls_ca, d->o->tls_cert,
		    d->o->tls_key);
	/* Unusable at start is a configuration error; a renewal that goes
	 * wrong later is not fatal (uplink.c keeps the files it had). */
	if (uplink_load_tls(d->up, err, sizeof(err)) != 0)
		fatalx_status(LOOP_EXIT_CONFIG, "cannot load the TLS files: %s; "
		    "fix them (`fieldbridge check` says more), then start "
		    "again", err);
	outbox_set_uplink(d->ob, d->up);
	if ((r = commands_new(d->reg, d->ident, ".", &d->cmds)) != 0)
		fatalx("cannot create the command queue: %s", strerror(-r));
	commands_set_uplink(d->cmds, d->up);

	log_ratelimit_init(&d->rl_tx, "warnings", LOOP_RL_INTERVAL_MS,
	    LOOP_RL_BURST);
	for (i = 1; i < RULES_VERDICT_COUNT; i++) {
		snprintf(err, sizeof(err), "%s refusals",
		    rules_strverdict(-(int)i));
		log_ratelimit_init(&d->rl_rules[i], err, LOOP_RL_INTERVAL_MS,
		    LOOP_RL_BURST);
	}
	loop_serial_init(d);
	for (k = 0; k < d->conf.nconc; k++) {
		p = &d->ports[k];
		p->d = d;
		p->cc = &d->conf.conc[k];
		loop_port_state(p, "down");
		if ((drv = radio_driver_find(p->cc->driver)) == NULL)
			fatalx_status(LOOP_EXIT_CONFIG, "%s: unknown driver "
			    "%s", p->cc->name, p->cc->driver);
		p->drv = drv;
		for (i = 0; i < IDENT_VERDICT_COUNT; i++) {
			snprintf(err, sizeof(err), "%s: %s drops", p->cc->name,
			    i == 0 ? "other" : ident_strverdict(-(int)i));
			log_ratelimit_init(&p->rl_ident[i], err,
			    LOOP_RL_INTERVAL_MS, LOOP_RL_BURST);
		}
		for (i = 0; i < loop_serial_slots(drv); i++) {
			snprintf(err, sizeof(err), "%s: serial_%s drops",
			    p->cc->name, loop_serial_name(drv, i));
			log_ratelimit_init(&p->rl_serial[i], err,
			    LOOP_RL_INTERVAL_MS, LOOP_RL_BURST);
		}
		snprintf(err, sizeof(err), "%s: concentrator messages",
		    p->cc->name);
		log_ratelimit_init(&p->rl_misc, err, LOOP_RL_INTERVAL_MS,
		    LOOP_RL_BURST);
		p->port = radio_port_new(p->cc->name, p->cc->path,
		    (unsigned int)p->cc->baud, drv, loop_radio_event, p);
		if (p->port == NULL)
			fatalx("%s: cannot create the port", p->cc->name);
		conf_radio_params(p->cc, &rp);
		radio_port_set_params(p->port, &rp);
		if (d->o->opener != NULL)
			radio_port_set_opener(p->port, d->o->opener,
			    d->o->hook_arg);
		d->nports++;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("sigprocmask");
	if ((d->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	/* A broker or a line that goes away must not kill us on write. */
	signal(SIGPIPE, SIG_IGN);
	if ((d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC)) < 0)
		fatal("timerfd_create");
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_nsec = LOOP_TICK_MS * 1000000L;
	its.it_value.tv_nsec = LOOP_TICK_MS * 1000000L;
	if (timerfd_settime(d->tfd, 0, &its, NULL) != 0)
		fatal("timerfd_settime");
	/* main.c may have connected before the fork: keep that socket. */
	if (!notify_enabled() && (r = notify_open()) != 0)
		log_warnx("cannot connect to $NOTIFY_SOCKET: %s, "
		    "not notifying systemd", strerror(-r));
}

static void
loop_close(struct loop *d)
{
	int k;

	/* A port that opened its line itself releases the line's lock. */
	for (k = 0; k < d->nports; k++)
		radio_port_free(d->ports[k].port);
	/* Seal what is open: into the spool, synced, not lost. */
	if (d->bt != NULL && d->ob != NULL)
		batcher_flush(d->bt);
	outbox_free(d->ob);
	commands_free(d->cmds);
	uplink_free(d->up);
	batcher_free(d->bt);
	session_free(d->sess);
	budget_free(d->budget);
	ident_free(d->ident);
	devstats_free(d->devs);
	rules_free(d->rules);
	registry_free(d->reg);
	seqno_free(d->seq);
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->sfd >= 0)
		close(d->sfd);
	notify_close();
}

/* At exit: what stays in the spool for the next start. */
static void
loop_log_spool_left(struct loop *d)
{
	struct spool_stats st;

	outbox_spool_stats(d->ob, &st);
	if (st.batches > 0)
		log_info("%llu batches (%llu records) stay in the spool for "
		    "the next start", (unsigned long long)st.batches,
		    (unsigned long long)st.records);
}

int
loop_run(const struct loop_opts *o)
{
	struct loop *d;
	char *err;
	uint64_t now_ms;
	int r, k;

	log_init(o->debug ? LOG_DEBUG : LOG_INFO);
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (err = malloc(CONF_ERR_MAX)) == NULL)
		fatalx("out of memory");
	d->tfd = d->sfd = -1;
	d->conf_path = o->conf_path;
	d->o = o;
	d->parent_fd = o->parent_fd;
	if (o->conf != NULL)
		d->conf = *o->conf;
	else if (conf_load(o->conf_path, &d->conf, err, CONF_ERR_MAX) != 0) {
		log_errx_lines(err);
		free(err);
		free(d);
		return 1;
	}
	free(err);
	if (!o->debug)
		log_setlevel(d->conf.log_level);
	log_info("fieldbridged %s starting: gateway %s, %d concentrators, "
	    "broker %s:%d", PACKAGE_VERSION, d->conf.gateway_id,
	    d->conf.nconc, d->conf.mqtt.host, d->conf.mqtt.port);

	loop_open(d);

	/*
	 * SANDBOX: everything the process needs is open (ports are opened
	 * on the first tick by the port's opener, TLS files are read before
	 * each connection, the resolver's channel exists).  o->confine
	 * (main.c, the privsep child) chroots
	 * into the state directory (the cwd), drops privileges, sets
	 * no_new_privs and loads the seccomp filter; ports get their fds
	 * from the privileged parent through o->opener.  Skipped with
	 * --no-sandbox.
	 */
	if (o->no_sandbox)
		log_warnx("SANDBOX DISABLED (--no-sandbox): not chrooted, not "
		    "dropping privileges, no seccomp filter; for development "
		    "only");
	else if (o->confine != NULL && o->confine(o->hook_arg) != 0) {
		loop_close(d);
		free(d);
		return o->exit_confine;
	}

	now_ms = mono_ms();
	d->start_ms = now_ms;
	d->next_nosandbox_warn_ms = now_ms + LOOP_NOSANDBOX_WARN_MS;
	d->clock_synced = loop_clock_check(d);
	uplink_set_clock_synced(d->up, d->clock_synced);
	if (!d->clock_synced)
		log_notice("the wall clock is not synchronised; records are "
		    "marked \"sync\":false until it is");
	for (k = 0; k < d->nports; k++)
		(void)radio_port_open(d->ports[k].port, now_ms);
	uplink_start(d->up, now_ms);
	(void)uplink_tick(d->up, now_ms);
	(void)notify_send("READY=1");
	(void)notify_status("running");
	if (notify_watchdog_ms() > 0)
		log_info("watchdog: WATCHDOG=1 every %llu ms while healthy",
		    (unsigned long long)notify_watchdog_ms());
	log_info("running");

	while (!d->quit)
		if ((r = loop_poll(d)) != 0)
			break;

	now_ms = mono_ms();
	batcher_flush(d->bt);
	(void)outbox_commit(d->ob);
	loop_log_spool_left(d);
	loop_write_status(d, now_ms, "stopped");
	loop_log_counters(d, "final: ");
	loop_close(d);
	free(d);
	return 0;
}
