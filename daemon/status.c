/*
 * status.c - the status file and the counters line: how the daemon tells
 * a technician what it is doing without a log to read.
 *
 * Data flow: loop.c fills a struct status_loop every
 * daemon.status_interval_s and at exit; status_write() writes it, with the
 * uplink's and the outbox's sections, to STATE_DIR/status, which
 * `fieldbridge status` (tools/cli_status.c) reads.  The same counters go
 * to the log as one line (status_counters_line) every
 * daemon.stats_interval_s, on SIGUSR1 and at exit.  The same text, cut
 * down by status_json's health filter, is the retained health message
 * loop.c publishes every daemon.health_interval_s and after each
 * connection (status_health; docs/uplink-format.md "Health"), and, whole,
 * what `fieldbridge status --json` prints (tools/cli_json.c): one
 * renderer, one converter.
 *
 * The file: one "key=value" per line, no spaces around '=', values to the
 * end of the line, replaced whole (fsutil_replace: a reader never sees
 * half a file).  A reader must ignore keys it does not know and take a
 * missing key as "not reported" (an older daemon).  Units are in the names
 * where they are not counts.  Key names are the STATUS_K_ macros of
 * status.h, shared with the reader.
 *
 *   key                        unit / values               writer
 *   state                      running|stopping|stopped    status.c
 *   pid                        the worker's pid            status.c
 *   gateway_id                 daemon.gateway_id           status.c
 *   uptime_s                   seconds since start         status.c
 *   updated                    Unix time of this write     status.c
 *   clock_synced               0|1 (NTP synchronised)      status.c
 *   mqtt_connected             0|1                         status.c
 *   mqtt_connects              count since start           status.c
 *   mqtt_disconnects           count since start           status.c
 *   mqtt_inflight              batches awaiting PUBACK     status.c
 *   mqtt_state                 waiting|resolving|connecting|connected|
 *                              stopping|stopped            uplink.c
 *   mqtt_host, mqtt_port       as configured               uplink.c
 *   mqtt_address               connected address or empty  uplink.c
 *   mqtt_addresses             the name's addresses, ","   uplink.c
 *   mqtt_resolve_error         last lookup failure         uplink.c
 *   mqtt_error_ipv4/_ipv6      last failure per family     uplink.c
 *   mqtt_state_since           Unix time mqtt_state took its value
 *                                                          uplink.c
 *   mqtt_last_error            the last failure to connect or of the
 *                              connection in plain words (lookup, TCP,
 *                              TLS with its cause and the clock's hint,
 *                              CONNACK, link lost, TLS files, a take-over
 *                              of our client id); kept once connected
 *                              again; empty: none since start  uplink.c
 *   mqtt_last_error_at         its Unix time, 0: none      uplink.c
 *   mqtt_takeovers             episodes of another client taking our
 *                              client id over, since start uplink.c
 *   tls_cert_expires, tls_cert_days  the client certificate uplink.c
 *   ports, ports_open          concentrators               status.c
 *   sandbox                    how the worker is confined  status.c
 *   records_accepted           since start                 status.c
 *   records_pending            in open batches             status.c
 *   batches_sealed             since start                 status.c
 *   batches_delivered          PUBACKed, since start       status.c
 *   records_delivered          in those batches            status.c
 *   spool_batches/_records/_bytes    waiting on disk       outbox.c
 *   spool_disk_bytes, spool_quota_bytes, spool_segment_bytes  outbox.c
 *   spool_oldest_age_s         age of the oldest waiting batch, -1: none
 *                                                          outbox.c
 *   spool_live_batches, spool_backlog_batches/_records/_bytes,
 *   spool_backlog_inflight     live vs. backlog (after an outage)
 *                                                          outbox.c
 *   drain_bytes_per_s, drain_records_per_s, drain_rate_limit_bps
 *                              the backlog's drain         outbox.c
 *   spool_appended_batches/_records, spool_delivered_backlog_batches,
 *   spool_dropped_batches/_records, spool_not_stored_batches,
 *   spool_quarantined, spool_truncated_bytes, spool_disk_full (0|1),
 *   spool_sync_errors          since start                 outbox.c
 *   gap_events, gap_events_delivered, gap_events_pending,
 *   gap_events_merged          gap events (uplink-format.md)  outbox.c
 *   journal_pending_records, journal_unwritten_records, journal_files,
 *   journal_records_written, journal_bytes_written, journal_replayed
 *                              the open-batch journal      outbox.c
 *   durability_ms, last_commit_age_ms, commits, commit_errors
 *                              the durability window       outbox.c
 *   sessions_durable (0|1), sessions_restored, ...
 *                              node sessions kept across restarts
 *                                                          session.c
 *   commands_waiting           queued for their device now commands.c
 *   commands_received, commands_queued, commands_delivered (COMMAND
 *   frames sent), commands_acknowledged, commands_expired,
 *   commands_refused (malformed with an id, unknown device, revoked,
 *   not authorised, too large), commands_malformed (with or without an
 *   id), commands_duplicate, commands_queue_full, commands_revoked
 *   (waiting when their device was revoked), command_store_errors
 *                              since start                 commands.c
 *   command_results_pending    outcomes awaiting PUBACK    commands.c
 *   drop_NAME                  frames dropped by identity, NAME as
 *                              ident_strverdict() says     status.c
 *   drop_stream                records the batcher refused status.c
 *   drop_rule_none, drop_rule_stream, drop_rule_kind, drop_rule_size,
 *   drop_rule_rate             authenticated records the device's rules
 *                              refused, NAME as rules_strverdict() says
 *                                                          status.c
 *   drop_serial_NAME           frames a driver discarded, NAME from the
 *                              driver's verdict table      status.c
 *   drop_spool_batches/_records  dropped by the spool      status.c
 *   lost_batches, lost_records   no sequence number        status.c
 *   downlinks, downlinks_failed  replies queued / refused  status.c
 *   keepalives_sent            keepalive requests answered status.c
 *   reload_last_at             Unix time of the last SIGHUP (absent:
 *                              none since start)           status.c
 *   reload_last_result         ok, or why the old registry was kept
 *                                                          status.c
 *   downlinks_refused_by_concentrator, downlinks_refused_airtime,
 *   challenges_refused_airtime   downlinks not sent        loop.c
 *   challenges_sent_v1, _v2    CHALLENGEs queued, answering
 *                              version 1 / version 2 HELLOs  loop.c
 *   airtime_out_of_band        downlinks on no known sub-band  loop.c
 *   airtime_region             EU868|US915|none            loop.c
 *   airtime_PORT_BAND_limit_ms, _used_ms, _challenge_used_ms, _sent,
 *   _challenges_sent, _refused, _challenges_refused
 *                              the airtime budget per concentrator and
 *                              sub-band, for the bands in use (the
 *                              challenge_ figures: the unauthenticated
 *                              share, CHALLENGEs to version 1 HELLOs;
 *                              a v2 HELLO's CHALLENGE is under _sent)
 *                              loop.c
 *   port_NAME_path             the concentrator's configured path  loop.c
 *   port_NAME_state            open (line open, driver starting) | ready
 *                              (the concentrator said so) | retrying
 *                              (line closed, reopen scheduled) | down
 *                              (closed, not reopened: stopping)   loop.c
 *   port_NAME_error            its last error in words, empty: none since
 *                              it last opened                  loop.c
 *   port_NAME_since            Unix time port_NAME_state took its value
 *                                                          loop.c
 *   devices                    registered devices heard since start, at
 *                              most DEVSTATS_MAX (256) remembered
 *                                                          devstats.c
 *   devices_forgotten          pushed out of the full table devstats.c
 *   device_EUI_name            its registry name (EUI: 16 hex digits)
 *   device_EUI_last_seen       Unix time of its last accepted record,
 *                              0: none (only refused frames)
 *   device_EUI_records         records accepted since start
 *   device_EUI_refused         its frames identity refused since start
 *                              (a forger's frames count too: last_seen
 *                              is the proof of life)       devstats.c
 *                              Only devices in the registry are listed
 *                              (anybody can invent EUIs), the most
 *                              recently heard first; beyond 256 the one
 *                              whose last accepted record is oldest
 *                              (none first) is forgotten.
 *
 * Text values (errors, paths, names) are one line of at most
 * STATUS_TEXT_MAX bytes (status_text).  The file is mode 0640, group
 * STATUS_GROUP ("fieldbridge-status") when that group exists and the
 * daemon's user is in it, so its members read the status and nothing else
 * of the daemon's: the state directory is 0755 and everything else in it
 * is 0600 or in a 0700 directory (the spool) under the unit's UMask=0077.
 *
 * The counters line (stable; the demo and the end-to-end tests parse it):
 *
 *   records accepted N, batches sealed N, delivered N (records N),
 *   dropped: unknown=N bad_tag=N replay=N stale=N revoked=N rate=N
 *   malformed=N direction=N no_session=N stream=N rule_none=N
 *   rule_stream=N rule_kind=N rule_size=N rule_rate=N serial_NAME=N ...
 *   serial_other=N
 *   queue=N (records N) lost=N (records N)
 *
 * all on one line; "queue" is the spool's drops, "lost" the batches that
 * could not get a sequence number.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/fsutil.h"
#include "daemon/status.h"

/* A status file is about 3 KiB; more means a bug, not a bigger gateway. */
#define STATUS_SIZE_MAX		(64u * 1024)

void
status_u64(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, "%s=%" PRIu64 "\n", key, v);
}

void
status_i64(FILE *f, const char *key, int64_t v)
{
	fprintf(f, "%s=%" PRId64 "\n", key, v);
}

void
status_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s=%s\n", key, v != NULL ? v : "");
}

void
status_text(FILE *f, const char *key, const char *v)
{
	status_text3(f, key, "", "", v);
}

void
status_text3(FILE *f, const char *prefix, const char *name,
    const char *suffix, const char *v)
{
	const unsigned char *p = (const unsigned char *)(v != NULL ? v : "");
	size_t n;

	fprintf(f, "%s%s%s=", prefix, name, suffix);
	for (n = 0; p[n] != '\0' && n < STATUS_TEXT_MAX; n++)
		fputc(p[n] < 0x20 || p[n] == 0x7f ? ' ' : p[n], f);
	fputc('\n', f);
}

void
status_i64_3(FILE *f, const char *prefix, const char *name,
    const char *suffix, int64_t v)
{
	fprintf(f, "%s%s%s=%" PRId64 "\n", prefix, name, suffix, v);
}

void
status_rate(FILE *f, const char *key, double v)
{
	fprintf(f, "%s=%.0f\n", key, v);
}

void
status_render(FILE *f, const struct status_loop *l,
    const struct status_sections *sec)
{
	size_t i;

	status_str(f, STATUS_K_STATE, l->state);
	status_i64(f, STATUS_K_PID, (int64_t)getpid());
	status_str(f, STATUS_K_GATEWAY_ID, l->gateway_id);
	status_u64(f, STATUS_K_UPTIME_S, l->uptime_s);
	status_i64(f, STATUS_K_UPDATED, (int64_t)time(NULL));
	status_u64(f, STATUS_K_CLOCK_SYNCED, l->clock_synced != 0);
	status_u64(f, STATUS_K_MQTT_CONNECTED, l->mqtt_connected != 0);
	status_u64(f, STATUS_K_MQTT_CONNECTS, l->mqtt_connects);
	status_u64(f, STATUS_K_MQTT_DISCONNECTS, l->mqtt_disconnects);
	status_i64(f, STATUS_K_MQTT_INFLIGHT, l->mqtt_inflight);
	if (sec != NULL && sec->uplink != NULL)
		sec->uplink(sec->arg, f);
	status_i64(f, STATUS_K_PORTS, l->ports);
	status_i64(f, STATUS_K_PORTS_OPEN, l->ports_open);
	status_str(f, STATUS_K_SANDBOX, l->sandbox);
	status_u64(f, STATUS_K_RECORDS_ACCEPTED, l->records_accepted);
	status_u64(f, STATUS_K_RECORDS_PENDING, l->records_pending);
	status_u64(f, STATUS_K_BATCHES_SEALED, l->batches_sealed);
	status_u64(f, STATUS_K_BATCHES_DELIVERED, l->batches_delivered);
	status_u64(f, STATUS_K_RECORDS_DELIVERED, l->records_delivered);
	if (sec != NULL && sec->outbox != NULL)
		sec->outbox(sec->arg, f);
	for (i = 0; i < l->ndrops; i++)
		fprintf(f, STATUS_K_DROP_PREFIX "%s=%" PRIu64 "\n",
		    l->drops[i].name, l->drops[i].value);
	status_u64(f, STATUS_K_DROP_SPOOL_BATCHES, l->spool_dropped_batches);
	status_u64(f, STATUS_K_DROP_SPOOL_RECORDS, l->spool_dropped_records);
	status_u64(f, STATUS_K_LOST_BATCHES, l->lost_batches);
	status_u64(f, STATUS_K_LOST_RECORDS, l->lost_records);
	status_u64(f, STATUS_K_DOWNLINKS, l->downlinks);
	status_u64(f, STATUS_K_DOWNLINKS_FAILED, l->downlinks_failed);
	status_u64(f, STATUS_K_KEEPALIVES_SENT, l->keepalives_sent);
	if (l->reload_at != 0) {
		status_i64(f, STATUS_K_RELOAD_LAST_AT, l->reload_at);
		status_text(f, STATUS_K_RELOAD_LAST_RESULT, l->reload_result);
	}
	if (sec != NULL && sec->radio != NULL)
		sec->radio(sec->arg, f);
}

/* Whatever fill writes, into one malloc'ed buffer: 0, -ENOMEM (the
 * stream failed), -EFBIG (over STATUS_SIZE_MAX, a bug). */
static int
status_mem(void (*fill)(FILE *, const void *), const void *arg, char **out,
    size_t *outlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r = -ENOMEM;

	*out = NULL;
	*outlen = 0;
	if ((f = open_memstream(&buf, &len)) == NULL)
		return -errno;
	fill(f, arg);
	if (ferror(f) != 0) {
		(void)fclose(f);
		goto out;
	}
	if (fclose(f) != 0)
		goto out;
	r = len > STATUS_SIZE_MAX ? -EFBIG : 0;
	if (r == 0) {
		*out = buf;
		*outlen = len;
		buf = NULL;
	}
out:
	free(buf);
	return r;
}

struct status_args {
	const struct status_loop	*l;
	const struct status_sections	*sec;
	const char			*text;	/* status_health's second step */
	size_t				 len;
};

static void
status_fill_text(FILE *f, const void *arg)
{
	const struct status_args *a = arg;

	status_render(f, a->l, a->sec);
}

static void
status_fill_health(FILE *f, const void *arg)
{
	const struct status_args *a = arg;

	(void)status_json(a->text, a->len, STATUS_JSON_HEALTH, f);
}

int
status_write(int dirfd, const struct status_loop *l,
    const struct status_sections *sec, gid_t gid)
{
	const struct status_args a = { .l = l, .sec = sec };
	char *buf = NULL;
	size_t len = 0;
	int r;

	/* One buffer, then one replace: the file is never half written,
	 * and a full disk fails here rather than leaving a torn file. */
	if ((r = status_mem(status_fill_text, &a, &buf, &len)) == 0)
		r = fsutil_replace_group(dirfd, STATUS_FILE, buf, len,
		    STATUS_MODE, gid, FSUTIL_CHMOD | FSUTIL_NO_FSYNC);
	free(buf);
	return r;
}

int
status_health(const struct status_loop *l, const struct status_sections *sec,
    char **out, size_t *outlen)
{
	struct status_args a = { .l = l, .sec = sec };
	char *text = NULL;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = status_mem(status_fill_text, &a, &text, &a.len)) == 0) {
		a.text = text;
		r = status_mem(status_fill_health, &a, out, outlen);
	}
	free(text);
	return r;
}

/* ---- the text as JSON (status_json) ---- */

/* One key=value line of the text. */
struct status_line {
	const char	*k, *v;
	size_t		 kl, vl;
};

int
status_key_ok(const char *k, size_t kl)
{
	size_t i;

	for (i = 0; i < kl; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return 0;
	return kl > 0;
}

/* The next key=value line from *p on, skipping any other: 1, or 0 at the
 * end.  The same rule as `fieldbridge status` (cli_status_parse). */
static int
status_line_next(const char **p, const char *end, struct status_line *ln)
{
	const char *nl, *eq;

	while (*p < end) {
		nl = memchr(*p, '\n', (size_t)(end - *p));
		if (nl == NULL)
			nl = end;
		eq = memchr(*p, '=', (size_t)(nl - *p));
		ln->k = *p;
		*p = nl < end ? nl + 1 : end;
		if (eq == NULL || !status_key_ok(ln->k, (size_t)(eq - ln->k)))
			continue;
		ln->kl = (size_t)(eq - ln->k);
		ln->v = eq + 1;
		ln->vl = (size_t)(nl - ln->v);
		return 1;
	}
	return 0;
}

static int
status_key_is(const struct status_line *ln, const char *key)
{
	return ln->kl == strlen(key) && memcmp(ln->k, key, ln->kl) == 0;
}

/* Whether the key is prefix, at least one byte, suffix. */
static int
status_key_around(const struct status_line *ln, const char *prefix,
    const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	return ln->kl > pl + sl && memcmp(ln->k, prefix, pl) == 0 &&
	    memcmp(ln->k + ln->kl - sl, suffix, sl) == 0;
}

/* The length of the UTF-8 sequence at p (n bytes left), 0 if it is none:
 * RFC 3629 section 4, so no overlong form, no surrogate, nothing above
 * U+10FFFF. */
static size_t
status_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* The status file is the daemon's, so its values are printable text;
 * they are escaped anyway, byte by byte, so that no value (a registry
 * name, a driver's error) can break the object. */
static void
status_json_string(const char *s, size_t n, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, u;

	fputc('"', out);
	while (i < n) {
		u = 1;
		if (p[i] == '"' || p[i] == '\\')
			fprintf(out, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			fprintf(out, "\\u%04x", p[i]);
		else if (p[i] < 0x80)
			fputc(p[i], out);
		else if ((u = status_utf8_len(p + i, n - i)) == 0) {
			fputs("\\ufffd", out);
			u = 1;
		} else
			fwrite(p + i, 1, u, out);
		i += u;
	}
	fputc('"', out);
}

/* A decimal integer JSON can carry as a number: no leading zero (JSON
 * forbids it, and "007" is a name, not a count), at most 18 digits (below
 * 2^63, what a parser into int64 takes). */
static int
status_json_is_int(const char *s, size_t n)
{
	size_t i = n > 0 && s[0] == '-' ? 1 : 0;

	if (n == i || n - i > 18 || (s[i] == '0' && n - i > 1))
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void
status_json_member(const struct status_line *ln, int *first, FILE *out)
{
	fputs(*first ? "" : ", ", out);
	*first = 0;
	status_json_string(ln->k, ln->kl, out);
	fputs(": ", out);
	if (status_json_is_int(ln->v, ln->vl))
		fwrite(ln->v, 1, ln->vl, out);
	else
		status_json_string(ln->v, ln->vl, out);
}

/*
 * The health message's keys (docs/uplink-format.md says why each):
 * gateway_id, updated, uptime_s, clock_synced, tls_cert_days, the spool's
 * depth and oldest batch, every drop_ counter, port_NAME_path/_state/
 * _error, airtime_PORT_BAND_used_ms, and the devices chosen by
 * status_health_top.
 */
static const char *const status_health_keys[] = {
	STATUS_K_GATEWAY_ID, STATUS_K_UPDATED, STATUS_K_UPTIME_S,
	STATUS_K_CLOCK_SYNCED, STATUS_K_TLS_CERT_DAYS,
	STATUS_K_SPOOL_BATCHES, STATUS_K_SPOOL_RECORDS, STATUS_K_SPOOL_BYTES,
	STATUS_K_SPOOL_OLDEST_AGE_S,
};

static const char *const status_health_port_keys[] = {
	STATUS_K_PORT_PATH, STATUS_K_PORT_STATE, STATUS_K_PORT_ERROR,
};

static const char *const status_device_keys[] = {
	STATUS_K_DEVICE_NAME, STATUS_K_DEVICE_LAST_SEEN,
	STATUS_K_DEVICE_RECORDS, STATUS_K_DEVICE_REFUSED,
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int
status_health_keep(const struct status_line *ln)
{
	size_t i, pl = strlen(STATUS_K_DROP_PREFIX);

	for (i = 0; i < NELEM(status_health_keys); i++)
		if (status_key_is(ln, status_health_keys[i]))
			return 1;
	if (ln->kl > pl && memcmp(ln->k, STATUS_K_DROP_PREFIX, pl) == 0)
		return 1;
	for (i = 0; i < NELEM(status_health_port_keys); i++)
		if (status_key_around(ln, STATUS_K_PORT_PREFIX,
		    status_health_port_keys[i]))
			return 1;
	return status_key_around(ln, STATUS_K_AIRTIME_PREFIX,
	    STATUS_K_AIRTIME_USED) && !status_key_around(ln,
	    STATUS_K_AIRTIME_PREFIX, STATUS_K_AIRTIME_CHALLENGE_USED);
}

/* A device's key: device_EUI_SUFFIX; the EUI's bytes into *eui, *euil,
 * and the suffix's index in status_device_keys.  1, or 0 when it is not
 * one. */
static int
status_device_key(const struct status_line *ln, const char **eui,
    size_t *euil, size_t *which)
{
	size_t i, pl = strlen(STATUS_K_DEVICE_PREFIX);

	for (i = 0; i < NELEM(status_device_keys); i++)
		if (status_key_around(ln, STATUS_K_DEVICE_PREFIX,
		    status_device_keys[i])) {
			*eui = ln->k + pl;
			*euil = ln->kl - pl - strlen(status_device_keys[i]);
			*which = i;
			return 1;
		}
	return 0;
}

/* An unsigned decimal value; 0 for anything else. */
static uint64_t
status_value_u64(const struct status_line *ln)
{
	uint64_t v = 0;
	size_t i;

	if (ln->vl == 0 || ln->vl > 19)
		return 0;
	for (i = 0; i < ln->vl; i++) {
		if (ln->v[i] < '0' || ln->v[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(ln->v[i] - '0');
	}
	return v;
}

struct status_top {
	const char	*eui;
	size_t		 euil;
	uint64_t	 refused;
};

/* The devices with the most refused frames (at least one), most first,
 * the earlier in the text first among equals; returns how many. */
static size_t
status_health_top(const char *text, size_t len,
    struct status_top top[STATUS_HEALTH_DEVICES_MAX])
{
	const char *p = text, *eui;
	struct status_line ln;
	size_t n = 0, euil, which, i, j;
	uint64_t refused;

	while (status_line_next(&p, text + len, &ln)) {
		if (!status_device_key(&ln, &eui, &euil, &which) ||
		    strcmp(status_device_keys[which],
		    STATUS_K_DEVICE_REFUSED) != 0 ||
		    (refused = status_value_u64(&ln)) == 0)
			continue;
		for (i = 0; i < n; i++)
			if (top[i].euil == euil &&
			    memcmp(top[i].eui, eui, euil) == 0)
				break;
		if (i < n)
			continue;	/* listed twice: the first counts */
		for (i = 0; i < n && top[i].refused >= refused; i++)
			;
		if (i == STATUS_HEALTH_DEVICES_MAX)
			continue;
		if (n < STATUS_HEALTH_DEVICES_MAX)
			n++;
		for (j = n - 1; j > i; j--)
			top[j] = top[j - 1];
		top[i].eui = eui;
		top[i].euil = euil;
		top[i].refused = refused;
	}
	return n;
}

int
status_json(const char *text, size_t len, enum status_json_filter filter,
    FILE *out)
{
	struct status_top top[STATUS_HEALTH_DEVICES_MAX];
	struct status_line ln;
	const char *p, *eui;
	size_t ntop = 0, euil, which, i;
	int first = 1;

	if (filter == STATUS_JSON_HEALTH)
		ntop = status_health_top(text, len, top);
	fputc('{', out);
	for (p = text; status_line_next(&p, text + len, &ln); )
		if (filter == STATUS_JSON_ALL || status_health_keep(&ln))
			status_json_member(&ln, &first, out);
	for (i = 0; i < ntop; i++)
		for (p = text; status_line_next(&p, text + len, &ln); )
			if (status_device_key(&ln, &eui, &euil, &which) &&
			    euil == top[i].euil &&
			    memcmp(eui, top[i].eui, euil) == 0)
				status_json_member(&ln, &first, out);
	fputc('}', out);
	return ferror(out) != 0 ? -EIO : 0;
}

char *
status_counters_line(char *buf, size_t sz, const char *prefix,
    const struct status_loop *l)
{
	size_t used = 0, i;
	int n;

#define APPEND(...) do {						\
	n = snprintf(buf + used, sz - used, __VA_ARGS__);		\
	if (n > 0 && (size_t)n < sz - used)				\
		used += (size_t)n;					\
} while (0)
	if (sz == 0)
		return buf;
	buf[0] = '\0';
	APPEND("%srecords accepted %" PRIu64 ", batches sealed %" PRIu64
	    ", delivered %" PRIu64 " (records %" PRIu64 "), dropped:", prefix,
	    l->records_accepted, l->batches_sealed, l->batches_delivered,
	    l->records_delivered);
	for (i = 0; i < l->ndrops; i++)
		APPEND(" %s=%" PRIu64, l->drops[i].name, l->drops[i].value);
	APPEND(" queue=%" PRIu64 " (records %" PRIu64 ") lost=%" PRIu64
	    " (records %" PRIu64 ")", l->spool_dropped_batches,
	    l->spool_dropped_records, l->lost_batches, l->lost_records);
#undef APPEND
	return buf;
}
