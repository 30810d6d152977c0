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

_Static_assert(STATUS_TEXT_MAX < CLI_STATUS_VAL_MAX,
    "every text value the daemon writes is read whole");

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
		if (eq != NULL && status_key_ok(p, (size_t)(eq - p))) {
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

/* A whole decimal integer, else def. */
static int64_t
cli_i64(const char *v, int64_t def)
{
	char *e;
	long long x;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	x = strtoll(v, &e, 10);
	return errno != 0 || *e != '\0' ? def : (int64_t)x;
}

int64_t
cli_get_i64(const struct cli_kv *kv, const char *key, int64_t def)
{
	return cli_i64(cli_get(kv, key), def);
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

/* "12 min 03 s ago" of Unix time t seen from now; "" when t is unset. */
static void
fmt_ago(char *buf, size_t sz, int64_t t, int64_t now)
{
	char d[48];

	if (t <= 0) {
		buf[0] = '\0';
		return;
	}
	cli_fmt_duration(d, sizeof(d), now > t ? (uint64_t)(now - t) : 0);
	(void)snprintf(buf, sz, "%s", d);
}

/* The time the status file speaks of: when it was written, plus its
 * age (an older daemon: this clock). */
static int64_t
status_now(const struct cli_kv *kv, double age_s)
{
	int64_t up = cli_get_i64(kv, STATUS_K_UPDATED, 0);

	if (up <= 0)
		return (int64_t)time(NULL);
	return up + (age_s > 0 ? (int64_t)age_s : 0);
}

/* Whether key is prefix NAME suffix with a non-empty NAME shorter than
 * sz; then NAME in name. */
static int
key_split(const char *key, const char *prefix, const char *suffix,
    char *name, size_t sz)
{
	size_t kl = strlen(key), pl = strlen(prefix), sl = strlen(suffix);

	if (kl <= pl + sl || strncmp(key, prefix, pl) != 0 ||
	    strcmp(key + kl - sl, suffix) != 0 || kl - pl - sl >= sz)
		return 0;
	memcpy(name, key + pl, kl - pl - sl);
	name[kl - pl - sl] = '\0';
	return 1;
}

/* The value of prefix NAME suffix. */
static const char *
cli_get3(const struct cli_kv *kv, const char *prefix, const char *name,
    const char *suffix)
{
	char key[CLI_STATUS_KEY_MAX];

	if ((size_t)snprintf(key, sizeof(key), "%s%s%s", prefix, name,
	    suffix) >= sizeof(key))
		return NULL;
	return cli_get(kv, key);
}

/* A decimal number of the whole value, else def. */
static int64_t
num3(const struct cli_kv *kv, const char *prefix, const char *name,
    const char *suffix, int64_t def)
{
	return cli_i64(cli_get3(kv, prefix, name, suffix), def);
}

/* Rejected node frames by reason, nonzero only, one per line. */
static void
render_rejects(const struct cli_kv *kv, FILE *out)
{
	const char *head = "rejected      ";
	size_t i, pl = strlen(STATUS_K_DROP_PREFIX);
	uint64_t v;
	int any = 0;

	for (i = 0; i < kv->n; i++) {
		if (strncmp(kv->key[i], STATUS_K_DROP_PREFIX, pl) != 0 ||
		    strncmp(kv->key[i], STATUS_K_DROP_SPOOL_PREFIX,
		    strlen(STATUS_K_DROP_SPOOL_PREFIX)) == 0)
			continue;
		if ((v = cli_get_u64(kv, kv->key[i], 0)) == 0)
			continue;
		fprintf(out, "%s%-22s %" PRIu64 "\n", any ? "              " :
		    head, kv->key[i] + pl, v);
		any = 1;
	}
	if (!any)
		fprintf(out, "%snone\n", head);
}

/* The concentrators: each by name, its state since when, its path, its
 * last error (an older daemon: the count only). */
static void
render_ports(const struct cli_kv *kv, int64_t now, FILE *out)
{
	char name[CLI_STATUS_KEY_MAX], ago[64];
	const char *state, *err, *path;
	size_t i;

	fprintf(out, "concentrators %" PRIu64 " of %" PRIu64 " open\n",
	    cli_get_u64(kv, STATUS_K_PORTS_OPEN, 0),
	    cli_get_u64(kv, STATUS_K_PORTS, 0));
	for (i = 0; i < kv->n; i++) {
		if (!key_split(kv->key[i], STATUS_K_PORT_PREFIX,
		    STATUS_K_PORT_STATE, name, sizeof(name)))
			continue;
		state = kv->val[i];
		path = cli_get3(kv, STATUS_K_PORT_PREFIX, name,
		    STATUS_K_PORT_PATH);
		err = cli_get3(kv, STATUS_K_PORT_PREFIX, name,
		    STATUS_K_PORT_ERROR);
		fmt_ago(ago, sizeof(ago), num3(kv, STATUS_K_PORT_PREFIX, name,
		    STATUS_K_PORT_SINCE, 0), now);
		fprintf(out, "  %-11s %s%s%s%s, %s%s%s\n", name,
		    strcmp(state, "ready") == 0 || strcmp(state, "open") == 0 ?
		    state : "NOT READY: ", strcmp(state, "ready") == 0 ||
		    strcmp(state, "open") == 0 ? "" : state,
		    ago[0] != '\0' ? " for " : "", ago[0] != '\0' ? ago : "",
		    path != NULL ? path : "?", err != NULL && err[0] != '\0' ?
		    ": " : "", err != NULL ? err : "");
	}
}

struct cli_dev {
	char		eui[17];
	int64_t		last_seen;
};

static int
cli_dev_cmp(const void *a, const void *b)
{
	const struct cli_dev *x = a, *y = b;

	return x->last_seen < y->last_seen ? -1 : x->last_seen > y->last_seen;
}

/* Whether s is a device id as the daemon writes it: 16 hex digits. */
static int
is_eui(const char *s)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (strchr("0123456789ABCDEFabcdef", s[i]) == NULL ||
		    s[i] == '\0')
			return 0;
	return s[16] == '\0';
}

/* The devices heard longest ago first: a silent collar shows at once. */
static void
render_devices(const struct cli_kv *kv, int64_t now, FILE *out)
{
	static struct cli_dev dev[CLI_STATUS_KEYS_MAX / 4];
	char name[CLI_STATUS_KEY_MAX], ago[64];
	const char *dn;
	size_t i, n = 0;

	for (i = 0; i < kv->n && n < sizeof(dev) / sizeof(dev[0]); i++) {
		if (!key_split(kv->key[i], STATUS_K_DEVICE_PREFIX,
		    STATUS_K_DEVICE_LAST_SEEN, name, sizeof(name)) ||
		    !is_eui(name))
			continue;
		memcpy(dev[n].eui, name, sizeof(dev[n].eui));
		dev[n++].last_seen = cli_get_i64(kv, kv->key[i], 0);
	}
	if (cli_get(kv, STATUS_K_DEVICES) == NULL && n == 0)
		return;
	qsort(dev, n, sizeof(dev[0]), cli_dev_cmp);
	fprintf(out, "devices       %zu heard since start%s\n", n,
	    n > CLI_DEVICES_SHOWN ? ", the longest silent first" : "");
	for (i = 0; i < n && i < CLI_DEVICES_SHOWN; i++) {
		dn = cli_get3(kv, STATUS_K_DEVICE_PREFIX, dev[i].eui,
		    STATUS_K_DEVICE_NAME);
		fmt_ago(ago, sizeof(ago), dev[i].last_seen, now);
		fprintf(out, "  %s %-16.16s %s%s, %" PRId64 " records, %"
		    PRId64 " refused\n", dev[i].eui, dn != NULL ? dn : "",
		    ago[0] != '\0' ? "last record " : "no record accepted",
		    ago[0] != '\0' ? strcat(ago, " ago") : "",
		    num3(kv, STATUS_K_DEVICE_PREFIX, dev[i].eui,
		    STATUS_K_DEVICE_RECORDS, 0), num3(kv,
		    STATUS_K_DEVICE_PREFIX, dev[i].eui,
		    STATUS_K_DEVICE_REFUSED, 0));
	}
	if (n > CLI_DEVICES_SHOWN)
		fprintf(out, "              %zu more: fieldbridge status "
		    "--json\n", n - CLI_DEVICES_SHOWN);
	if (cli_get_u64(kv, STATUS_K_DEVICES_FORGOTTEN, 0) > 0)
		fprintf(out, "              %" PRIu64 " more forgotten (the "
		    "daemon lists 256)\n",
		    cli_get_u64(kv, STATUS_K_DEVICES_FORGOTTEN, 0));
}

/* The wall clock: records carry its sync flag. */
static void
render_clock(const struct cli_kv *kv, FILE *out)
{
	const char *v = cli_get(kv, STATUS_K_CLOCK_SYNCED);

	if (v == NULL)
		return;
	fprintf(out, "clock         %s\n", strcmp(v, "1") == 0 ?
	    "synchronised" : "NOT synchronised: records marked sync:false");
}

/* The uplink's state since when and its last failure. */
static void
render_broker_state(const struct cli_kv *kv, int64_t now, FILE *out)
{
	const char *err = cli_get(kv, STATUS_K_MQTT_LAST_ERROR);
	char ago[64];

	fmt_ago(ago, sizeof(ago), cli_get_i64(kv, STATUS_K_MQTT_LAST_ERROR_AT,
	    0), now);
	if (err != NULL && err[0] != '\0')
		fprintf(out, "              last error%s%s%s: %s\n",
		    ago[0] != '\0' ? " " : "", ago, ago[0] != '\0' ? " ago" : "",
		    err);
	if (cli_get_u64(kv, STATUS_K_MQTT_TAKEOVERS, 0) > 0)
		fprintf(out, "              client id taken over by another "
		    "client %" PRIu64 " time(s) since start: a cloned SD card "
		    "or a duplicate gateway_id?\n",
		    cli_get_u64(kv, STATUS_K_MQTT_TAKEOVERS, 0));
}

/* The last SIGHUP's result. */
static void
render_reload(const struct cli_kv *kv, int64_t now, FILE *out)
{
	const char *res = cli_get(kv, STATUS_K_RELOAD_LAST_RESULT);
	char ago[64];

	fmt_ago(ago, sizeof(ago), cli_get_i64(kv, STATUS_K_RELOAD_LAST_AT, 0),
	    now);
	if (res == NULL || ago[0] == '\0')
		return;
	if (strcmp(res, STATUS_RELOAD_OK) == 0)
		fprintf(out, "reload        ok, %s ago\n", ago);
	else
		fprintf(out, "reload        FAILED %s ago, old registry kept: "
		    "%s\n", ago, res);
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
	int64_t oldest, eta, now;
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
	now = status_now(kv, age_s);
	fmt_ago(e, sizeof(e), cli_get_i64(kv, STATUS_K_MQTT_STATE_SINCE, 0),
	    now);
	fprintf(out, "broker        %s%s%s (%" PRIu64 " connections, %" PRIu64
	    " lost), %" PRIu64 " batches in flight\n",
	    cli_get_u64(kv, STATUS_K_MQTT_CONNECTED, 0) ? "connected" :
	    "NOT CONNECTED, retrying", e[0] != '\0' ? " for " : "", e,
	    cli_get_u64(kv, STATUS_K_MQTT_CONNECTS, 0),
	    cli_get_u64(kv, STATUS_K_MQTT_DISCONNECTS, 0), inflight);
	render_broker_address(kv, out);
	render_broker_state(kv, now, out);
	render_clock(kv, out);
	render_certificate(kv, out);

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
	render_ports(kv, now, out);
	render_devices(kv, now, out);
	render_rejects(kv, out);
	render_reload(kv, now, out);
	return h;
}
