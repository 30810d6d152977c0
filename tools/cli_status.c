/*
 * cli_status.c - parsing and rendering of the daemon's status file for
 * `fieldbridge status`; see cli_status.h.  The keys are the STATUS_K_
 * names of daemon/status.h (the file's format is drawn at the top of
 * daemon/status.c); a key the daemon does not write (an older daemon) is
 * simply not shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/status.h"
#include "tools/cli_status.h"

int
cli_status_parse(const char *text, size_t len, struct cli_kv *kv)
{
	const char *p = text, *end = text + len, *nl, *eq;
	size_t kl, vl;

	kv->n = 0;
	while (p < end && kv->n < CLI_STATUS_KEYS_MAX) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		eq = memchr(p, '=', (size_t)(nl - p));
		if (eq != NULL && eq > p) {
			kl = (size_t)(eq - p);
			vl = (size_t)(nl - eq - 1);
			if (kl < CLI_STATUS_KEY_MAX && vl < CLI_STATUS_VAL_MAX) {
				memcpy(kv->key[kv->n], p, kl);
				kv->key[kv->n][kl] = '\0';
				memcpy(kv->val[kv->n], eq + 1, vl);
				kv->val[kv->n][vl] = '\0';
				kv->n++;
			}
		}
		p = nl + 1;
	}
	return kv->n > 0 ? 0 : -EINVAL;
}

const char *
cli_get(const struct cli_kv *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0)
			return kv->val[i];
	return NULL;
}

uint64_t
cli_get_u64(const struct cli_kv *kv, const char *key, uint64_t def)
{
	const char *v = cli_get(kv, key);
	char *e;
	unsigned long long x;

	if (v == NULL || *v < '0' || *v > '9')
		return def;
	errno = 0;
	x = strtoull(v, &e, 10);
	if (errno != 0 || *e != '\0')
		return def;
	return (uint64_t)x;
}

int64_t
cli_get_i64(const struct cli_kv *kv, const char *key, int64_t def)
{
	const char *v = cli_get(kv, key);
	char *e;
	long long x;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	x = strtoll(v, &e, 10);
	if (errno != 0 || *e != '\0')
		return def;
	return (int64_t)x;
}

void
cli_fmt_bytes(char *buf, size_t sz, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		(void)snprintf(buf, sz, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	(void)snprintf(buf, sz, "%.1f %s", v, unit[u]);
}

void
cli_fmt_duration(char *buf, size_t sz, uint64_t s)
{
	if (s < 60)
		(void)snprintf(buf, sz, "%" PRIu64 " s", s);
	else if (s < 3600)
		(void)snprintf(buf, sz, "%" PRIu64 " min %02" PRIu64 " s",
		    s / 60, s % 60);
	else if (s < 86400)
		(void)snprintf(buf, sz, "%" PRIu64 " h %02" PRIu64 " min",
		    s / 3600, s % 3600 / 60);
	else
		(void)snprintf(buf, sz, "%" PRIu64 " d %02" PRIu64 " h",
		    s / 86400, s % 86400 / 3600);
}

void
cli_fmt_count(char *buf, size_t sz, uint64_t n)
{
	char tmp[32];
	size_t len, i, o = 0;

	len = (size_t)snprintf(tmp, sizeof(tmp), "%" PRIu64, n);
	for (i = 0; i < len && o + 2 < sz; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
}

int64_t
cli_eta(uint64_t left_bytes, double rate)
{
	double s;

	if (left_bytes == 0)
		return 0;
	if (!(rate >= 1.0))
		return -1;
	s = (double)left_bytes / rate;
	if (s > 100.0 * 365 * 86400)
		return -1;
	return (int64_t)(s + 0.5);
}

/* The drop counters the daemon keeps for node frames, nonzero only. */
static void
render_frame_drops(const struct cli_kv *kv, FILE *out)
{
	char line[512];
	size_t used = 0, i;
	uint64_t v;
	int n;

	line[0] = '\0';
	for (i = 0; i < kv->n; i++) {
		if (strncmp(kv->key[i], STATUS_K_DROP_PREFIX,
		    strlen(STATUS_K_DROP_PREFIX)) != 0 ||
		    strncmp(kv->key[i], STATUS_K_DROP_SPOOL_PREFIX,
		    strlen(STATUS_K_DROP_SPOOL_PREFIX)) == 0)
			continue;
		if ((v = cli_get_u64(kv, kv->key[i], 0)) == 0)
			continue;
		n = snprintf(line + used, sizeof(line) - used, "%s%s=%" PRIu64,
		    used ? " " : "", kv->key[i] + strlen(STATUS_K_DROP_PREFIX), v);
		if (n < 0 || (size_t)n >= sizeof(line) - used)
			break;
		used += (size_t)n;
	}
	fprintf(out, "              node frames refused: %s\n",
	    used ? line : "none");
}

/* Which address of the broker's name the daemon uses; when it is not
 * connected, why each address family failed last (an older daemon writes
 * none of these keys: nothing is shown). */
static void
render_broker_address(const struct cli_kv *kv, FILE *out)
{
	static const char *const fams[][2] = {
		{ "mqtt_error_ipv6", "IPv6" },
		{ "mqtt_error_ipv4", "IPv4" },
	};
	const char *host = cli_get(kv, STATUS_K_MQTT_HOST), *v;
	const char *addr = cli_get(kv, STATUS_K_MQTT_ADDRESS);
	const char *port = cli_get(kv, STATUS_K_MQTT_PORT);
	size_t i;

	if (host == NULL)
		return;
	if (cli_get_u64(kv, STATUS_K_MQTT_CONNECTED, 0) && addr != NULL &&
	    addr[0] != '\0') {
		fprintf(out, "              %s at %s%s%s port %s\n", host,
		    strchr(addr, ':') != NULL ? "[" : "", addr,
		    strchr(addr, ':') != NULL ? "]" : "", port ? port : "?");
		return;
	}
	v = cli_get(kv, STATUS_K_MQTT_STATE);
	fprintf(out, "              %s port %s%s%s\n", host, port ? port : "?",
	    v != NULL && v[0] != '\0' ? ": " : "", v != NULL ? v : "");
	v = cli_get(kv, STATUS_K_MQTT_RESOLVE_ERROR);
	if (v != NULL && v[0] != '\0') {
		addr = cli_get(kv, STATUS_K_MQTT_ADDRESSES);
		fprintf(out, "              name lookup failed: %s; %s%s\n", v,
		    addr != NULL && addr[0] != '\0' ? "trying its last known "
		    "addresses " : "no address known yet", addr != NULL ?
		    addr : "");
	}
	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		if ((v = cli_get(kv, fams[i][0])) != NULL && v[0] != '\0')
			fprintf(out, "              last %s error: %s\n",
			    fams[i][1], v);
}

/* The client certificate's expiry, as the daemon last loaded it (an
 * older daemon writes nothing: nothing is shown). */
static void
render_certificate(const struct cli_kv *kv, FILE *out)
{
	int64_t until = cli_get_i64(kv, STATUS_K_TLS_CERT_EXPIRES, 0);
	int64_t days = cli_get_i64(kv, STATUS_K_TLS_CERT_DAYS, 0);
	char date[32];
	struct tm tm;
	time_t t = (time_t)until;

	if (until <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d", &tm) == 0)
		return;
	if (days < 0)
		fprintf(out, "certificate   EXPIRED on %s (%" PRId64 " days ago): "
		    "the broker refuses it; records keep spooling\n", date,
		    -days);
	else
		fprintf(out, "certificate   valid until %s (%" PRId64 " days)%s\n",
		    date, days, days < 30 ? ": RENEW IT SOON" : "");
}

enum cli_health
cli_status_render(const struct cli_kv *kv, double age_s, int pid_alive,
    double stale_s, FILE *out)
{
	char a[64], b[64], c[64], d[96], e[64];
	const char *state = cli_get(kv, STATUS_K_STATE);
	const char *gw = cli_get(kv, STATUS_K_GATEWAY_ID);
	enum cli_health h = CLI_OK;
	uint64_t batches, backlog, quota, sbytes, inflight, limit;
	int64_t oldest, eta;
	double rate;

	if (state == NULL)
		state = "unknown";
	cli_fmt_duration(a, sizeof(a), age_s > 0 ? (uint64_t)age_s : 0);
	if (strcmp(state, "stopped") == 0) {
		fprintf(out, "fieldbridged  NOT RUNNING: stopped cleanly (status "
		    "written %s ago)\n", a);
		h = CLI_DEAD;
	} else if (pid_alive == 0) {
		fprintf(out, "fieldbridged  NOT RUNNING: process %s is gone "
		    "(crashed or killed; status written %s ago)\n",
		    cli_get(kv, STATUS_K_PID) ? cli_get(kv, STATUS_K_PID) : "?", a);
		h = CLI_DEAD;
	} else if (age_s > stale_s) {
		fprintf(out, "fieldbridged  NOT RUNNING or hung: status not "
		    "updated for %s\n", a);
		h = CLI_DEAD;
	} else {
		cli_fmt_duration(b, sizeof(b), cli_get_u64(kv, STATUS_K_UPTIME_S, 0));
		fprintf(out, "fieldbridged  %s, pid %s, up %s; status written "
		    "%s ago\n", state, cli_get(kv, STATUS_K_PID) ? cli_get(kv, STATUS_K_PID) :
		    "?", b, a);
	}
	fprintf(out, "gateway       %s\n", gw != NULL ? gw : "?");
	inflight = cli_get_u64(kv, STATUS_K_MQTT_INFLIGHT, 0);
	fprintf(out, "broker        %s (%" PRIu64 " connections, %" PRIu64
	    " lost), %" PRIu64 " batches in flight\n",
	    cli_get_u64(kv, STATUS_K_MQTT_CONNECTED, 0) ? "connected" :
	    "NOT CONNECTED, retrying", cli_get_u64(kv, STATUS_K_MQTT_CONNECTS, 0),
	    cli_get_u64(kv, STATUS_K_MQTT_DISCONNECTS, 0), inflight);
	render_broker_address(kv, out);
	render_certificate(kv, out);
	fprintf(out, "concentrators %" PRIu64 " of %" PRIu64 " open\n",
	    cli_get_u64(kv, STATUS_K_PORTS_OPEN, 0),
	    cli_get_u64(kv, STATUS_K_PORTS, 0));

	batches = cli_get_u64(kv, STATUS_K_SPOOL_BATCHES, 0);
	sbytes = cli_get_u64(kv, STATUS_K_SPOOL_BYTES, 0);
	quota = cli_get_u64(kv, STATUS_K_SPOOL_QUOTA_BYTES, 0);
	cli_fmt_count(a, sizeof(a), batches);
	cli_fmt_count(b, sizeof(b), cli_get_u64(kv, STATUS_K_SPOOL_RECORDS, 0));
	cli_fmt_bytes(c, sizeof(c), sbytes);
	cli_fmt_bytes(d, sizeof(d), quota);
	fprintf(out, "spool         %s batches, %s records, %s", a, b, c);
	if (quota > 0)
		fprintf(out, "; disk %.1f%% of the %s quota",
		    100.0 * (double)cli_get_u64(kv, STATUS_K_SPOOL_DISK_BYTES, 0) /
		    (double)quota, d);
	fputc('\n', out);
	oldest = cli_get_i64(kv, STATUS_K_SPOOL_OLDEST_AGE_S, -1);
	if (batches > 0) {
		if (oldest >= 0) {
			cli_fmt_duration(a, sizeof(a), (uint64_t)oldest);
			fprintf(out, "              oldest waiting %s\n", a);
		} else
			fprintf(out, "              oldest waiting: unknown "
			    "(wall clock was not set)\n");
	}
	if (cli_get_u64(kv, STATUS_K_SPOOL_DISK_FULL, 0))
		fprintf(out, "              DISK FULL: batches are being "
		    "dropped or refused (see the log)\n");

	backlog = cli_get_u64(kv, STATUS_K_SPOOL_BACKLOG_BATCHES, 0);
	if (!cli_get_u64(kv, STATUS_K_MQTT_CONNECTED, 0) && batches > 0) {
		/* Everything waiting becomes backlog at the reconnect. */
		cli_fmt_count(a, sizeof(a), batches);
		cli_fmt_count(b, sizeof(b), cli_get_u64(kv, STATUS_K_SPOOL_RECORDS,
		    0));
		cli_fmt_bytes(c, sizeof(c), sbytes);
		fprintf(out, "backlog       %s batches, %s records, %s waiting "
		    "for the broker\n", a, b, c);
	} else if (backlog > 0) {
		uint64_t left = cli_get_u64(kv, STATUS_K_SPOOL_BACKLOG_BYTES, 0);

		cli_fmt_count(a, sizeof(a), backlog);
		cli_fmt_count(b, sizeof(b), cli_get_u64(kv,
		    STATUS_K_SPOOL_BACKLOG_RECORDS, 0));
		cli_fmt_bytes(c, sizeof(c), left);
		fprintf(out, "backlog       %s batches, %s records, %s to send\n",
		    a, b, c);
		rate = (double)cli_get_u64(kv, STATUS_K_DRAIN_BYTES_PER_S, 0);
		limit = cli_get_u64(kv, STATUS_K_DRAIN_RATE_LIMIT_BPS, 0);
		if (limit > 0) {
			cli_fmt_bytes(e, sizeof(e), limit);
			(void)snprintf(d, sizeof(d), " (limit %s/s)", e);
		} else
			(void)snprintf(d, sizeof(d), " (no limit)");
		if ((eta = cli_eta(left, rate)) < 0)
			fprintf(out, "              draining%s: no progress "
			    "measured yet, ETA unknown\n", d);
		else {
			cli_fmt_bytes(a, sizeof(a), (uint64_t)rate);
			cli_fmt_duration(b, sizeof(b), (uint64_t)eta);
			fprintf(out, "              draining at %s/s%s, "
			    "%.0f records/s, ETA %s\n", a, d,
			    (double)cli_get_u64(kv, STATUS_K_DRAIN_RECORDS_PER_S, 0),
			    b);
		}
	} else
		fprintf(out, "backlog       none\n");

	cli_fmt_count(a, sizeof(a), cli_get_u64(kv, STATUS_K_BATCHES_DELIVERED, 0));
	cli_fmt_count(b, sizeof(b), cli_get_u64(kv, STATUS_K_RECORDS_DELIVERED, 0));
	cli_fmt_count(c, sizeof(c), cli_get_u64(kv,
	    STATUS_K_SPOOL_DELIVERED_BACKLOG_BATCHES, 0));
	fprintf(out, "delivered     %s batches, %s records (%s batches from "
	    "the backlog) since start\n", a, b, c);
	cli_fmt_count(a, sizeof(a), cli_get_u64(kv, STATUS_K_SPOOL_DROPPED_BATCHES,
	    0) + cli_get_u64(kv, STATUS_K_LOST_BATCHES, 0));
	cli_fmt_count(b, sizeof(b), cli_get_u64(kv, STATUS_K_SPOOL_DROPPED_RECORDS,
	    0) + cli_get_u64(kv, STATUS_K_LOST_RECORDS, 0));
	fprintf(out, "dropped       %s batches, %s records; %" PRIu64 " gap "
	    "events (%" PRIu64 " delivered, %" PRIu64 " waiting)\n", a, b,
	    cli_get_u64(kv, STATUS_K_GAP_EVENTS, 0),
	    cli_get_u64(kv, STATUS_K_GAP_EVENTS_DELIVERED, 0),
	    cli_get_u64(kv, STATUS_K_GAP_EVENTS_PENDING, 0));
	if (cli_get_u64(kv, STATUS_K_SPOOL_QUARANTINED, 0) > 0)
		fprintf(out, "              %" PRIu64 " damaged spool ranges set "
		    "aside in STATE_DIR/spool/quarantine\n",
		    cli_get_u64(kv, STATUS_K_SPOOL_QUARANTINED, 0));
	render_frame_drops(kv, out);
	if (cli_get(kv, STATUS_K_DURABILITY_MS) != NULL)
		fprintf(out, "durability    synced every %" PRIu64 " ms, last "
		    "%" PRIu64 " ms ago; %" PRIu64 " records of open batches "
		    "journaled\n", cli_get_u64(kv, STATUS_K_DURABILITY_MS, 0),
		    cli_get_u64(kv, STATUS_K_LAST_COMMIT_AGE_MS, 0),
		    cli_get_u64(kv, STATUS_K_JOURNAL_PENDING_RECORDS, 0) -
		    cli_get_u64(kv, STATUS_K_JOURNAL_UNWRITTEN_RECORDS, 0));
	if (cli_get_u64(kv, STATUS_K_COMMIT_ERRORS, 0) > 0)
		fprintf(out, "              %" PRIu64 " failed syncs (see the "
		    "log)\n", cli_get_u64(kv, STATUS_K_COMMIT_ERRORS, 0));
	return h;
}
