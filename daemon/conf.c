/*
 * conf.c - reads etc/fieldbridge.conf (libconfig) into struct conf.
 *
 * Data flow: the file -> libconfig's tree -> a walk over the table of
 * tunables below -> struct conf, applied by the caller only when the whole
 * file is valid.  Every problem is reported as "FILE:LINE: what is wrong";
 * all problems of a file are reported at once, not only the first.
 *
 * The table is the one place that names a setting: its type, default,
 * range and help text (as Basics Station's s2conf.h does).  Groups nest by
 * pointing at a sub-table; "concentrators" is a list of groups whose
 * entries are filled into an array.
 *
 * Two libconfig 1.5 traps are handled here (see docs/library-notes.md):
 * - type errors carry no position by themselves: we report the setting's
 *   config_setting_source_line;
 * - integers wrap silently (4294967296 reads as 0, 0x1FFFFFFFF as -1).
 *   The value libconfig hands us cannot tell, so conf_literal_check
 *   re-reads the integer literal as written on the setting's source line
 *   and rejects it when the two differ.
 */
#define LOG_MODULE	"conf"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/log.h"
#include "daemon/topic.h"
#include "radio/radio.h"
#include "radio/serial.h"

enum conf_type {
	CT_STR,		/* string copied into a char array */
	CT_PATH,	/* string, relative to the config file's directory */
	CT_INT,		/* int, range-checked */
	CT_ENUM,	/* string mapped to an int */
	CT_GROUP,	/* { ... } with its own table */
	CT_LIST,	/* ( { ... }, ... ) filled into an array */
};

struct conf_ctx;
struct conf_key;

typedef int conf_check_fn(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val);

struct conf_enum {
	const char	*name;
	int		 value;
};

struct conf_key {
	const char		*name;
	enum conf_type		 type;
	int			 required;
	size_t			 off;		/* into the base struct */
	size_t			 size;		/* CT_STR/CT_PATH: array size */
	long long		 def, min, max;	/* CT_INT; def also CT_ENUM */
	const char		*sdef;		/* CT_STR/CT_PATH default */
	const struct conf_enum	*enums;		/* CT_ENUM, NULL-terminated */
	const struct conf_key	*sub;		/* CT_GROUP, CT_LIST */
	size_t			 elem_size;	/* CT_LIST */
	size_t			 count_off;	/* CT_LIST: int count */
	int			 elem_max;	/* CT_LIST */
	conf_check_fn		*check;		/* extra check of a string */
	const char		*help;
};

struct conf_ctx {
	const char	*name;		/* the file, for messages */
	const char	*text;		/* whole text when read from memory */
	char		 basedir[PATH_MAX];
	char		*err;
	size_t		 errlen, errused;
	int		 nerr;
	/* One file's text kept for re-reading integer literals. */
	char		*src_name;
	char		*src_text;
};

static conf_check_fn conf_check_ident, conf_check_driver, conf_check_prefix,
    conf_check_nonempty, conf_check_topic, conf_check_alpn;

static const struct conf_enum conf_log_levels[] = {
	{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
	{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { NULL, 0 }
};

/* The values of enum encoding (daemon/encoding.h). */
static const struct conf_enum conf_encodings[] = {
	{ "json", 0 }, { "zlib", 1 }, { NULL, 0 }
};

static const struct conf_enum conf_clouds[] = {
	{ "auto", CONF_CLOUD_AUTO }, { "generic", CONF_CLOUD_GENERIC },
	{ "aws", CONF_CLOUD_AWS }, { "azure", CONF_CLOUD_AZURE }, { NULL, 0 }
};

static const struct conf_enum conf_modulations[] = {
	{ "lora", RADIO_MOD_LORA }, { "fsk", RADIO_MOD_FSK }, { NULL, 0 }
};

static const struct conf_enum conf_coding_rates[] = {
	{ "4/5", 1 }, { "4/6", 2 }, { "4/7", 3 }, { "4/8", 4 }, { NULL, 0 }
};

/* BATCH_DECODE_RAW, BATCH_DECODE_LPP (daemon/batch.h). */
static const struct conf_enum conf_decoders[] = {
	{ "raw", 0 }, { "lpp", 1 }, { NULL, 0 }
};

static const struct conf_enum conf_tls_versions[] = {
	{ "1.2", 12 }, { "1.3", 13 }, { NULL, 0 }
};

#define OFF(f)		offsetof(struct conf, f)
#define SZ(f)		sizeof(((struct conf *)0)->f)
#define COFF(f)		offsetof(struct conf_concentrator, f)
#define CSZ(f)		sizeof(((struct conf_concentrator *)0)->f)

#define SOFF(f)		offsetof(struct conf_stream, f)
#define SSZ(f)		sizeof(((struct conf_stream *)0)->f)

#define K_STR(n, req, o, s, d, chk, h) \
	{ .name = n, .type = CT_STR, .required = req, .off = o, .size = s, \
	  .sdef = d, .check = chk, .help = h }
#define K_PATH(n, req, o, s, d, h) \
	{ .name = n, .type = CT_PATH, .required = req, .off = o, .size = s, \
	  .sdef = d, .help = h }
#define K_INT(n, o, d, lo, hi, h) \
	{ .name = n, .type = CT_INT, .off = o, .def = d, .min = lo, \
	  .max = hi, .help = h }
#define K_ENUM(n, o, e, d, h) \
	{ .name = n, .type = CT_ENUM, .off = o, .enums = e, .def = d, \
	  .help = h }

static const struct conf_key conf_concentrator_keys[] = {
	K_STR("name", 1, COFF(name), CSZ(name), NULL, conf_check_ident,
	    "name of the port in logs and counters"),
	K_PATH("path", 1, COFF(path), CSZ(path), NULL,
	    "device node of the serial line"),
	K_STR("driver", 0, COFF(driver), CSZ(driver), "fbsp",
	    conf_check_driver, "concentrator dialect"),
	K_INT("baud", COFF(baud), 0, 0, 4000000,
	    "line speed, bit/s; 0: the driver's (fbsp and rak3172 115200, "
	    "rn2483 and rn2903 57600)"),
	K_INT("tx_power_dbm", COFF(tx_power_dbm), 14, -10, 30,
	    "transmit power of downlinks, dBm"),
	/* The radio of modules the driver sets up; an FBSP concentrator's
	 * firmware sets its own.  The driver checks them against the
	 * module's ranges (radio_driver.check). */
	K_ENUM("modulation", COFF(modulation), conf_modulations,
	    RADIO_MOD_LORA, "\"lora\" or \"fsk\" (modules the driver sets up)"),
	K_INT("freq_hz", COFF(freq_hz), 869525000, 100000000, 1000000000,
	    "the one channel the module listens and answers on, Hz"),
	K_INT("sf", COFF(sf), 9, 5, 12, "LoRa spreading factor"),
	K_INT("bw_khz", COFF(bw_khz), 125, 125, 500,
	    "LoRa bandwidth: 125, 250 or 500 kHz"),
	K_ENUM("coding_rate", COFF(coding_rate), conf_coding_rates, 1,
	    "LoRa coding rate, \"4/5\" to \"4/8\""),
	K_INT("bitrate", COFF(bitrate), 50000, 1, 300000, "FSK bit rate, bit/s"),
	K_INT("sync_word", COFF(sync_word), 0x12, 0, 0xffff,
	    "sync word; LoRa: one byte, 0x12 for private networks"),
	K_INT("preamble", COFF(preamble), 8, 5, 65535, "preamble, symbols"),
	{ .name = NULL }
};

static const struct conf_key conf_stream_keys[] = {
	K_STR("name", 1, SOFF(name), SSZ(name), NULL, conf_check_ident,
	    "the stream, as the registry names it"),
	K_ENUM("decoder", SOFF(decoder), conf_decoders, 0,
	    "\"raw\" (base64 only) or \"lpp\" (Cayenne LPP fields too)"),
	{ .name = NULL }
};

static const struct conf_key conf_mqtt_keys[] = {
	K_STR("host", 1, OFF(mqtt.host), SZ(mqtt.host), NULL,
	    conf_check_nonempty, "broker host name or address"),
	K_INT("port", OFF(mqtt.port), 8883, 1, 65535, "broker TCP port"),
	K_PATH("ca", 1, OFF(mqtt.ca), SZ(mqtt.ca), NULL,
	    "CA certificate(s) that signed the broker's certificate, PEM"),
	K_PATH("cert", 1, OFF(mqtt.cert), SZ(mqtt.cert), NULL,
	    "this gateway's certificate, PEM"),
	K_PATH("key", 1, OFF(mqtt.key), SZ(mqtt.key), NULL,
	    "this gateway's private key, PEM"),
	K_STR("client_id", 0, OFF(mqtt.client_id), SZ(mqtt.client_id), "",
	    NULL, "MQTT client id; empty: the gateway_id"),
	K_STR("topic_prefix", 0, OFF(mqtt.topic_prefix),
	    SZ(mqtt.topic_prefix), "fieldbridge", conf_check_prefix,
	    "first topic levels: PREFIX/GATEWAY/STREAM"),
	K_INT("keepalive_s", OFF(mqtt.keepalive_s), 30, 5, 3600,
	    "MQTT keepalive; a dead link is noticed within 1.5x"),
	K_ENUM("tls_min", OFF(mqtt.tls_min), conf_tls_versions, 12,
	    "lowest TLS version accepted"),
	K_INT("backoff_min_ms", OFF(mqtt.backoff_min_ms), 500, 10, 600000,
	    "first reconnect delay"),
	K_INT("backoff_max_ms", OFF(mqtt.backoff_max_ms), 60000, 100,
	    3600000, "longest reconnect delay"),
	K_INT("inflight_max", OFF(mqtt.inflight_max), 16, 1, 1024,
	    "batches published but not yet acknowledged"),
	K_STR("username", 0, OFF(mqtt.username), SZ(mqtt.username), "", NULL,
	    "MQTT user name; empty: none is sent (RabbitMQ's certificate "
	    "login fails when one is)"),
	K_STR("alpn", 0, OFF(mqtt.alpn), SZ(mqtt.alpn), "", conf_check_alpn,
	    "TLS ALPN protocols, comma-separated (AWS IoT on port 443: "
	    "x-amzn-mqtt-ca); empty: none"),
	K_STR("topic_batch", 0, OFF(mqtt.topic_batch), SZ(mqtt.topic_batch),
	    TOPIC_DEFAULT_BATCH, conf_check_topic,
	    "topic of live batches and gap events ({prefix}, {gateway}, "
	    "{stream})"),
	K_STR("topic_backlog", 0, OFF(mqtt.topic_backlog),
	    SZ(mqtt.topic_backlog), TOPIC_DEFAULT_BACKLOG, conf_check_topic,
	    "topic of batches from the backlog"),
	K_STR("topic_status", 0, OFF(mqtt.topic_status),
	    SZ(mqtt.topic_status), TOPIC_DEFAULT_STATUS, conf_check_topic,
	    "topic of the retained online/offline status"),
	K_STR("topic_health", 0, OFF(mqtt.topic_health),
	    SZ(mqtt.topic_health), TOPIC_DEFAULT_HEALTH, conf_check_topic,
	    "topic of the retained health message (daemon.health_interval_s)"),
	K_ENUM("cloud", OFF(mqtt.cloud), conf_clouds, CONF_CLOUD_AUTO,
	    "whose limits --check applies: auto (from host), generic, aws, "
	    "azure"),
	{ .name = NULL }
};

static const struct conf_key conf_batch_keys[] = {
	K_INT("max_records", OFF(batch.max_records), 500, 1, 100000,
	    "records per batch"),
	K_INT("max_bytes", OFF(batch.max_bytes), 4900, 1024, 262144,
	    "payload bytes per batch (after compression)"),
	K_ENUM("encoding", OFF(batch.encoding), conf_encodings, 0,
	    "payload: json, or zlib (the same JSON, compressed)"),
	K_INT("max_age_ms", OFF(batch.max_age_ms), 5000, 10, 3600000,
	    "age of the oldest record before the batch is sealed"),
	{ .name = NULL }
};

static const struct conf_enum conf_regions[] = {
	{ "EU868", CONF_REGION_EU868 },
	{ "US915", CONF_REGION_US915 },
	{ "none", CONF_REGION_NONE },
	{ NULL, 0 }
};

static const struct conf_key conf_policy_keys[] = {
	K_INT("rate_per_min", OFF(policy.rate_per_min), 120, 0, 6000000,
	    "frames a device may send per minute on average; 0: no limit"),
	K_INT("rate_burst", OFF(policy.rate_burst), 30, 1, 100000,
	    "frames a device may send at once"),
	K_INT("hello_per_min", OFF(policy.hello_per_min), 6, 0, 600,
	    "join requests (HELLOs) a device may send per minute; each costs "
	    "a downlink; 0: no limit"),
	K_INT("hello_burst", OFF(policy.hello_burst), 3, 1, 5,
	    "HELLOs a device may send at once (at most 5: 8 challenges are "
	    "kept per device)"),
	K_ENUM("region", OFF(policy.region), conf_regions, CONF_REGION_EU868,
	    "regional airtime rules for downlinks: EU868 duty cycles per "
	    "sub-band, US915 dwell time, or none (never on air)"),
	{ .name = NULL }
};

static const struct conf_enum conf_when_full[] = {
	{ "drop-oldest", CONF_SPOOL_DROP_OLDEST },
	{ "refuse-newest", CONF_SPOOL_REFUSE_NEWEST },
	{ NULL, 0 }
};

static const struct conf_key conf_spool_keys[] = {
	K_INT("quota_mib", OFF(spool.quota_mib), 1024, 1, 4194304,
	    "disk space for batches waiting for the broker, MiB"),
	K_INT("max_age_s", OFF(spool.max_age_s), 0, 0, 315360000,
	    "drop batches older than this (wall clock); 0: no age limit"),
	K_ENUM("when_full", OFF(spool.when_full), conf_when_full,
	    CONF_SPOOL_DROP_OLDEST, "quota or disk full: drop the oldest "
	    "batches or refuse new ones (each loss is reported upstream)"),
	/*
	 * Up to a minute is allowed, for storage that wears (SD cards,
	 * eMMC) where fewer syncs matter more than the last seconds; the
	 * daemon warns above CONF_DURABILITY_WARN_MS.
	 */
	K_INT("durability_ms", OFF(spool.durability_ms), 1000, 10, 60000,
	    "at most this much of accepted data is lost in a power cut "
	    "(sync period)"),
	K_INT("drain_rate_bps", OFF(spool.drain_rate_bps), 0, 0, 1000000000,
	    "backlog sent after an outage, bytes/s; 0: no limit (fresh data "
	    "is never limited)"),
	{ .name = NULL }
};

static const struct conf_key conf_daemon_keys[] = {
	K_INT("shutdown_timeout_ms", OFF(daemon.shutdown_timeout_ms), 5000,
	    0, 60000, "how long to wait for acknowledgements at exit"),
	K_INT("stats_interval_s", OFF(daemon.stats_interval_s), 60, 0, 86400,
	    "counters line in the log every so often; 0: never"),
	K_INT("status_interval_s", OFF(daemon.status_interval_s), 5, 1, 3600,
	    "rewrite STATE_DIR/status every so often"),
	K_INT("health_interval_s", OFF(daemon.health_interval_s), 300, 0,
	    86400, "publish the retained health message every so often and "
	    "after each connection; 0: never"),
	{ .name = NULL }
};

static const struct conf_key conf_root_keys[] = {
	K_STR("gateway_id", 1, OFF(gateway_id), SZ(gateway_id), NULL,
	    conf_check_ident, "name of this gateway, unique in the fleet"),
	K_PATH("state_dir", 0, OFF(state_dir), SZ(state_dir),
	    "/var/lib/fieldbridge", "batch sequence, spool, status"),
	K_PATH("registry", 1, OFF(registry), SZ(registry), NULL,
	    "the device registry"),
	K_PATH("keys", 1, OFF(keys), SZ(keys), NULL,
	    "the devices' secrets (mode 0600)"),
	K_STR("user", 0, OFF(user), SZ(user), "fieldbridge", conf_check_ident,
	    "unprivileged user the confined process runs as"),
	K_STR("serial_group", 0, OFF(serial_group), SZ(serial_group),
	    "dialout", conf_check_ident,
	    "group owning the serial devices, kept by the confined process"),
	{ .name = "concentrators", .type = CT_LIST, .required = 1,
	  .off = OFF(conc), .sub = conf_concentrator_keys,
	  .elem_size = sizeof(struct conf_concentrator),
	  .count_off = OFF(nconc), .elem_max = CONF_CONCENTRATORS_MAX,
	  .help = "concentrators on serial lines" },
	{ .name = "streams", .type = CT_LIST, .off = OFF(streams),
	  .sub = conf_stream_keys, .elem_size = sizeof(struct conf_stream),
	  .count_off = OFF(nstreams), .elem_max = CONF_STREAMS_MAX,
	  .help = "per-stream settings: the payload decoder" },
	{ .name = "mqtt", .type = CT_GROUP, .required = 1,
	  .sub = conf_mqtt_keys, .help = "the cloud MQTT broker" },
	{ .name = "batch", .type = CT_GROUP, .sub = conf_batch_keys,
	  .help = "batching bounds" },
	{ .name = "policy", .type = CT_GROUP, .sub = conf_policy_keys,
	  .help = "limits applied to every device" },
	{ .name = "spool", .type = CT_GROUP, .sub = conf_spool_keys,
	  .help = "the on-disk spool of batches not yet delivered" },
	{ .name = "daemon", .type = CT_GROUP, .sub = conf_daemon_keys,
	  .help = "the process itself" },
	K_ENUM("log_level", OFF(log_level), conf_log_levels, LOG_INFO,
	    "lowest priority logged"),
	{ .name = NULL }
};

static void conf_error(struct conf_ctx *x, const config_setting_t *s,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append one "FILE:LINE: message" line. */
static void
conf_error(struct conf_ctx *x, const config_setting_t *s, const char *fmt,
    ...)
{
	const char *file = NULL;
	char msg[512];
	unsigned int line = 0;
	va_list ap;
	int n;

	x->nerr++;
	if (x->err == NULL || x->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
	}
	if (file == NULL)
		file = x->name;
	if (x->errused >= x->errlen - 1)
		return;
	if (line > 0)
		n = snprintf(x->err + x->errused, x->errlen - x->errused,
		    "%s%s:%u: %s", x->errused > 0 ? "\n" : "", file, line, msg);
	else
		n = snprintf(x->err + x->errused, x->errlen - x->errused,
		    "%s%s: %s", x->errused > 0 ? "\n" : "", file, msg);
	if (n > 0)
		x->errused += (size_t)n;
	if (x->errused >= x->errlen)
		x->errused = x->errlen - 1;
}

static const char *
conf_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number with a fraction";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	}
	return "nothing";
}

static const char *
conf_key_type_name(enum conf_type t)
{
	switch (t) {
	case CT_STR:
	case CT_PATH:
	case CT_ENUM:
		return "a string";
	case CT_INT:
		return "an integer";
	case CT_GROUP:
		return "a group { }";
	case CT_LIST:
		return "a list ( )";
	}
	return "?";
}

/* Edit distance, for "did you mean"; names are short. */
static size_t
conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64], prev, tmp;

	if (la >= sizeof(row) / sizeof(row[0]) ||
	    lb >= sizeof(row) / sizeof(row[0]))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

static const struct conf_key *
conf_find_key(const struct conf_key *tab, const char *name)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, name) == 0)
			return tab;
	return NULL;
}

static const char *
conf_suggest(const struct conf_key *tab, const char *name)
{
	const char *best = NULL;
	size_t d, bestd = 3;

	for (; tab->name != NULL; tab++) {
		d = conf_distance(name, tab->name);
		if (d < bestd && d < strlen(name)) {
			bestd = d;
			best = tab->name;
		}
	}
	return best;
}

/* The text of the file a setting came from, for re-reading literals. */
static const char *
conf_source_text(struct conf_ctx *x, const config_setting_t *s)
{
	const char *file = config_setting_source_file(s);
	FILE *f;
	long n;

	if (file == NULL)
		return x->text;
	if (x->src_name != NULL && strcmp(x->src_name, file) == 0)
		return x->src_text;
	free(x->src_name);
	free(x->src_text);
	x->src_name = NULL;
	x->src_text = NULL;
	if ((f = fopen(file, "re")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    n < 16 * 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0 &&
	    (x->src_text = malloc((size_t)n + 1)) != NULL) {
		if (fread(x->src_text, 1, (size_t)n, f) == (size_t)n) {
			x->src_text[n] = '\0';
			x->src_name = strdup(file);
		} else {
			free(x->src_text);
			x->src_text = NULL;
		}
	}
	fclose(f);
	if (x->src_name == NULL) {
		free(x->src_text);
		x->src_text = NULL;
	}
	return x->src_text;
}

static int
conf_is_ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '*';
}

/*
 * libconfig wraps integer literals that do not fit (see the top of the
 * file).  Find "NAME = LITERAL" on the setting's source line and compare
 * the literal's true value with what libconfig made of it.  Returns 0 when
 * they agree (or the literal cannot be found: nothing to compare), else
 * -ERANGE with the literal as written in lit.
 */
static int
conf_literal_check(struct conf_ctx *x, const config_setting_t *s,
    long long value, char *lit, size_t litlen)
{
	const char *text, *name = config_setting_name(s), *p, *end, *q, *v;
	unsigned int line = config_setting_source_line(s), l;
	size_t nlen, llen;
	int found = 0, matched = 0;
	char buf[64];
	long long real;
	unsigned long long u;
	char *ep;
	int neg;

	lit[0] = '\0';
	if (name == NULL || line == 0 || (text = conf_source_text(x, s)) == NULL)
		return 0;
	for (p = text, l = 1; l < line && *p != '\0'; p++)
		if (*p == '\n')
			l++;
	if ((end = strchr(p, '\n')) == NULL)
		end = p + strlen(p);
	nlen = strlen(name);
	for (q = p; q + nlen <= end; q++) {
		if (strncmp(q, name, nlen) != 0 ||
		    (q > p && conf_is_ident_char((unsigned char)q[-1])) ||
		    conf_is_ident_char((unsigned char)q[nlen]))
			continue;
		v = q + nlen;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || (*v != '=' && *v != ':'))
			continue;
		v++;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		/* Copy the literal: sign, digits, hex digits, x, L. */
		for (llen = 0; v + llen < end && llen < sizeof(buf) - 1 &&
		    (isxdigit((unsigned char)v[llen]) || v[llen] == 'x' ||
		    v[llen] == 'X' || v[llen] == 'L' || v[llen] == '-' ||
		    v[llen] == '+'); llen++)
			buf[llen] = v[llen];
		buf[llen] = '\0';
		if (buf[0] == '\0')
			continue;
		found = 1;
		neg = buf[0] == '-';
		errno = 0;
		u = strtoull(buf + (neg || buf[0] == '+'), &ep, 0);
		if (errno == ERANGE || u > (unsigned long long)INT64_MAX + neg) {
			snprintf(lit, litlen, "%s", buf);
			continue;
		}
		if (neg)
			real = u == (unsigned long long)INT64_MAX + 1 ?
			    INT64_MIN : -(long long)u;
		else
			real = (long long)u;
		if (real == value)
			matched = 1;
		else if (lit[0] == '\0') {
			/* Drop a trailing L for the message. */
			while (ep > buf && (ep[-1] == 'L'))
				*--ep = '\0';
			snprintf(lit, litlen, "%s", buf);
		}
	}
	if (!found || matched)
		return 0;
	return -ERANGE;
}

/* Letters, digits, '-', '_', '.': safe in a topic level and a file name. */
static int
conf_check_ident(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	const char *p;

	if (*val == '\0') {
		conf_error(x, s, "%s: must not be empty", key);
		return -1;
	}
	for (p = val; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			break;
	if (*p != '\0' || strcmp(val, ".") == 0 || strcmp(val, "..") == 0) {
		conf_error(x, s, "%s: \"%s\" may hold only letters, digits, "
		    "'-', '_' and '.'", key, val);
		return -1;
	}
	return 0;
}

static int
conf_check_nonempty(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	if (*val == '\0') {
		conf_error(x, s, "%s: must not be empty", key);
		return -1;
	}
	return 0;
}

static int
conf_check_driver(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	const struct radio_driver *const *d;
	char known[256];
	size_t used = 0;
	int n;

	if (radio_driver_find(val) != NULL)
		return 0;
	known[0] = '\0';
	for (d = radio_drivers(); *d != NULL; d++) {
		n = snprintf(known + used, sizeof(known) - used, "%s%s",
		    used > 0 ? ", " : "", (*d)->name);
		if (n < 0 || (size_t)n >= sizeof(known) - used)
			break;
		used += (size_t)n;
	}
	conf_error(x, s, "%s: unknown driver \"%s\" (known: %s)", key, val,
	    known);
	return -1;
}

/* One or more topic levels: no wildcards, no empty level, no '$' start. */
static int
conf_check_prefix(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	size_t len = strlen(val);

	if (len == 0 || val[0] == '/' || val[len - 1] == '/' ||
	    strstr(val, "//") != NULL || strpbrk(val, "+#") != NULL ||
	    val[0] == '$') {
		conf_error(x, s, "%s: \"%s\" is not a valid topic prefix "
		    "(topic levels separated by '/', no wildcards)", key, val);
		return -1;
	}
	return 0;
}

static int
conf_check_topic(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	const char *why = NULL;

	if (topic_template_check(val, &why) != 0) {
		conf_error(x, s, "%s: \"%s\" %s", key, val, why);
		return -1;
	}
	return 0;
}

/* Names of 1..255 printable bytes without space, comma-separated (they
 * go on the wire length-prefixed, RFC 7301). */
static int
conf_check_alpn(struct conf_ctx *x, const config_setting_t *s,
    const char *key, const char *val)
{
	const char *p;
	size_t n = 0;

	for (p = val; ; p++) {
		if (*p == ',' || *p == '\0') {
			if (n == 0 && (*p == ',' || p != val))
				break;
			if (*p == '\0')
				return 0;
			n = 0;
			continue;
		}
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			break;
		n++;
	}
	conf_error(x, s, "%s: \"%s\" is not a comma-separated list of "
	    "protocol names", key, val);
	return -1;
}

static int
conf_set_path(struct conf_ctx *x, const config_setting_t *s, const char *key,
    const char *val, char *dst, size_t size)
{
	int n;

	if (*val == '\0') {
		conf_error(x, s, "%s: must not be empty", key);
		return -1;
	}
	if (val[0] == '/')
		n = snprintf(dst, size, "%s", val);
	else
		n = snprintf(dst, size, "%s/%s", x->basedir, val);
	if (n < 0 || (size_t)n >= size) {
		conf_error(x, s, "%s: path too long", key);
		return -1;
	}
	return 0;
}

static void conf_walk(struct conf_ctx *x, const config_setting_t *grp,
    const struct conf_key *tab, void *base, const char *prefix);

static void
conf_apply_defaults(const struct conf_key *tab, void *base)
{
	char *p;

	for (; tab->name != NULL; tab++) {
		p = (char *)base + tab->off;
		switch (tab->type) {
		case CT_STR:
		case CT_PATH:
			snprintf(p, tab->size, "%s",
			    tab->sdef != NULL ? tab->sdef : "");
			break;
		case CT_INT:
		case CT_ENUM:
			*(int *)(void *)p = (int)tab->def;
			break;
		case CT_GROUP:
			conf_apply_defaults(tab->sub, base);
			break;
		case CT_LIST:
			*(int *)(void *)((char *)base + tab->count_off) = 0;
			break;
		}
	}
}

static void
conf_one(struct conf_ctx *x, const config_setting_t *s,
    const struct conf_key *k, void *base, const char *key)
{
	char *p = (char *)base + k->off, lit[64], sub[192];
	const config_setting_t *e;
	const struct conf_enum *en;
	const char *str;
	long long v;
	int type = config_setting_type(s), i, n, *count;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
	case CT_ENUM:
		if (type != CONFIG_TYPE_STRING)
			break;
		str = config_setting_get_string(s);
		if (k->type == CT_ENUM) {
			for (en = k->enums; en->name != NULL; en++)
				if (strcmp(en->name, str) == 0)
					break;
			if (en->name == NULL) {
				char list[128];
				size_t used = 0;

				list[0] = '\0';
				for (en = k->enums; en->name != NULL; en++) {
					n = snprintf(list + used,
					    sizeof(list) - used, "%s\"%s\"",
					    used > 0 ? ", " : "", en->name);
					if (n < 0 || (size_t)n >=
					    sizeof(list) - used)
						break;
					used += (size_t)n;
				}
				conf_error(x, s, "%s: \"%s\" is not one of %s",
				    key, str, list);
				return;
			}
			*(int *)(void *)p = en->value;
			return;
		}
		if (k->type == CT_PATH) {
			(void)conf_set_path(x, s, key, str, p, k->size);
			return;
		}
		if (strlen(str) >= k->size) {
			conf_error(x, s, "%s: longer than %zu characters", key,
			    k->size - 1);
			return;
		}
		if (k->check != NULL && k->check(x, s, key, str) != 0)
			return;
		snprintf(p, k->size, "%s", str);
		return;
	case CT_INT:
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			break;
		v = config_setting_get_int64(s);
		if (conf_literal_check(x, s, v, lit, sizeof(lit)) != 0) {
			conf_error(x, s, "%s: %s is out of range (%lld..%lld)",
			    key, lit, k->min, k->max);
			return;
		}
		if (v < k->min || v > k->max) {
			conf_error(x, s, "%s: %lld is out of range (%lld..%lld)",
			    key, v, k->min, k->max);
			return;
		}
		*(int *)(void *)p = (int)v;
		return;
	case CT_GROUP:
		if (type != CONFIG_TYPE_GROUP)
			break;
		conf_walk(x, s, k->sub, base, key);
		return;
	case CT_LIST:
		if (type != CONFIG_TYPE_LIST)
			break;
		count = (int *)(void *)((char *)base + k->count_off);
		n = config_setting_length(s);
		if (n == 0 && k->required) {
			conf_error(x, s, "%s: empty, at least one is required",
			    key);
			return;
		}
		if (n > k->elem_max) {
			conf_error(x, s, "%s: more than %d entries", key,
			    k->elem_max);
			return;
		}
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned int)i);
			snprintf(sub, sizeof(sub), "%s[%d]", key, i);
			if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
				conf_error(x, e, "%s: expected a group { }, "
				    "found %s", sub,
				    conf_type_name(config_setting_type(e)));
				continue;
			}
			conf_apply_defaults(k->sub, p + (size_t)i *
			    k->elem_size);
			conf_walk(x, e, k->sub, p + (size_t)i * k->elem_size,
			    sub);
		}
		*count = n;
		return;
	}
	conf_error(x, s, "%s: expected %s, found %s", key,
	    conf_key_type_name(k->type), conf_type_name(type));
}

/* Check one group against its table: unknown keys, types, required keys. */
static void
conf_walk(struct conf_ctx *x, const config_setting_t *grp,
    const struct conf_key *tab, void *base, const char *prefix)
{
	const struct conf_key *k;
	const config_setting_t *s;
	const char *name, *hint;
	char key[160];
	int i, n = config_setting_length(grp);

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, (unsigned int)i);
		if ((name = config_setting_name(s)) == NULL)
			continue;
		if (*prefix != '\0')
			snprintf(key, sizeof(key), "%s.%s", prefix, name);
		else
			snprintf(key, sizeof(key), "%s", name);
		if ((k = conf_find_key(tab, name)) == NULL) {
			if ((hint = conf_suggest(tab, name)) != NULL)
				conf_error(x, s, "unknown key '%s' (did you "
				    "mean '%s'?)", key, hint);
			else
				conf_error(x, s, "unknown key '%s'", key);
			continue;
		}
		conf_one(x, s, k, base, key);
	}
	for (k = tab; k->name != NULL; k++) {
		if (!k->required ||
		    config_setting_get_member(grp, k->name) != NULL)
			continue;
		if (*prefix != '\0')
			snprintf(key, sizeof(key), "%s.%s", prefix, k->name);
		else
			snprintf(key, sizeof(key), "%s", k->name);
		/* The root has no line: name the file only. */
		conf_error(x, config_setting_parent(grp) != NULL ? grp : NULL,
		    "missing required key '%s'", key);
	}
}

/* Each setting of tab whose value differs between a and b, by its dotted
 * name.  A list of a different length is one change (its name). */
static unsigned int
conf_diff_tab(const struct conf_key *tab, const void *a, const void *b,
    const char *prefix, conf_diff_fn *cb, void *arg)
{
	const struct conf_key *k;
	const char *pa, *pb;
	char key[160];
	unsigned int n = 0;
	int i, na, nb;

	for (k = tab; k->name != NULL; k++) {
		pa = (const char *)a + k->off;
		pb = (const char *)b + k->off;
		(void)snprintf(key, sizeof(key), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", k->name);
		switch (k->type) {
		case CT_STR:
		case CT_PATH:
			if (strncmp(pa, pb, k->size) == 0)
				continue;
			break;
		case CT_INT:
		case CT_ENUM:
			if (*(const int *)(const void *)pa ==
			    *(const int *)(const void *)pb)
				continue;
			break;
		case CT_GROUP:
			n += conf_diff_tab(k->sub, a, b, key, cb, arg);
			continue;
		case CT_LIST:
			na = *(const int *)(const void *)((const char *)a +
			    k->count_off);
			nb = *(const int *)(const void *)((const char *)b +
			    k->count_off);
			if (na != nb)
				break;
			for (i = 0; i < na; i++) {
				(void)snprintf(key, sizeof(key), "%s%s%s.[%d]",
				    prefix, *prefix != '\0' ? "." : "",
				    k->name, i);
				n += conf_diff_tab(k->sub,
				    pa + (size_t)i * k->elem_size,
				    pb + (size_t)i * k->elem_size, key, cb, arg);
			}
			continue;
		}
		cb(arg, key);
		n++;
	}
	return n;
}

unsigned int
conf_diff(const struct conf *a, const struct conf *b, conf_diff_fn *cb,
    void *arg)
{
	return conf_diff_tab(conf_root_keys, a, b, "", cb, arg);
}

void
conf_radio_params(const struct conf_concentrator *cc, struct radio_params *rp)
{
	radio_params_default(rp);
	rp->modulation = (uint8_t)cc->modulation;
	rp->freq_hz = (uint32_t)cc->freq_hz;
	rp->sf = (uint8_t)cc->sf;
	rp->bw_hz = (uint32_t)cc->bw_khz * 1000;
	rp->cr = (uint8_t)cc->coding_rate;
	rp->bitrate = (uint32_t)cc->bitrate;
	rp->sync_word = (uint16_t)cc->sync_word;
	rp->preamble = (uint16_t)cc->preamble;
	rp->power_dbm = (int8_t)cc->tx_power_dbm;
}

/* The driver's line speed where the file names none, and its verdict on
 * the radio settings. */
static void
conf_check_radio(struct conf_ctx *x, const config_setting_t *list,
    struct conf_concentrator *cc, int i)
{
	const struct radio_driver *drv = radio_driver_find(cc->driver);
	struct radio_params rp;
	char why[RADIO_PARAMS_WHY_MAX];

	if (drv == NULL)
		return;			/* reported by conf_check_driver */
	if (cc->baud == 0)
		cc->baud = drv->baud != 0 ? (int)drv->baud : 115200;
	if (!serial_baud_valid((unsigned int)cc->baud))
		conf_error(x, config_setting_get_elem(list, (unsigned int)i),
		    "concentrators[%d]: baud %d is not a standard line speed "
		    "(9600, 19200, 38400, 57600, 115200, 230400, ...)", i,
		    cc->baud);
	if (drv->check == NULL)
		return;
	conf_radio_params(cc, &rp);
	why[0] = '\0';
	if (drv->check(&rp, why) != 0)
		conf_error(x, config_setting_get_elem(list, (unsigned int)i),
		    "concentrators[%d] (%s): %s", i, cc->driver, why);
}

/* Checks across settings, once each one is valid on its own. */
static void
conf_cross_check(struct conf_ctx *x, const config_t *cf, struct conf *c)
{
	const config_setting_t *s, *list;
	int i, j;

	if (c->mqtt.backoff_min_ms > c->mqtt.backoff_max_ms) {
		s = config_lookup(cf, "mqtt.backoff_min_ms");
		if (s == NULL)
			s = config_lookup(cf, "mqtt.backoff_max_ms");
		conf_error(x, s, "mqtt.backoff_min_ms: %d is above "
		    "mqtt.backoff_max_ms (%d)", c->mqtt.backoff_min_ms,
		    c->mqtt.backoff_max_ms);
	}
	list = config_lookup(cf, "streams");
	for (i = 0; list != NULL && i < c->nstreams; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->streams[i].name, c->streams[j].name) == 0)
				conf_error(x, config_setting_get_elem(list,
				    (unsigned int)i), "streams[%d]: name \"%s\" "
				    "is used twice", i, c->streams[i].name);
	list = config_lookup(cf, "concentrators");
	for (i = 0; list != NULL && i < c->nconc; i++)
		conf_check_radio(x, list, &c->conc[i], i);
	for (i = 0; list != NULL && i < c->nconc; i++)
		for (j = 0; j < i; j++) {
			if (strcmp(c->conc[i].name, c->conc[j].name) == 0 &&
			    c->conc[i].name[0] != '\0')
				conf_error(x, config_setting_get_elem(list,
				    (unsigned int)i), "concentrators[%d]: name "
				    "\"%s\" is used twice", i, c->conc[i].name);
			if (strcmp(c->conc[i].path, c->conc[j].path) == 0 &&
			    c->conc[i].path[0] != '\0')
				conf_error(x, config_setting_get_elem(list,
				    (unsigned int)i), "concentrators[%d]: path "
				    "\"%s\" is used twice", i, c->conc[i].path);
		}
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	conf_apply_defaults(conf_root_keys, c);
}

static int
conf_run(struct conf_ctx *x, const char *path, const char *text,
    struct conf *out)
{
	config_t cf;
	struct conf *c = NULL;
	const char *file;
	int r = -EINVAL, ok;

	config_init(&cf);
	config_set_include_dir(&cf, x->basedir);
	if (path != NULL)
		ok = config_read_file(&cf, path);
	else
		ok = config_read_string(&cf, text);
	if (!ok) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
			r = -errno != 0 ? -errno : -EIO;
			conf_error(x, NULL, "cannot read: %s", strerror(-r));
			goto out;
		}
		/* A syntax error stops libconfig: it is the only message. */
		file = config_error_file(&cf);
		x->nerr++;
		if (x->err != NULL && x->errlen > 0)
			snprintf(x->err, x->errlen, "%s:%d: %s",
			    file != NULL ? file : x->name,
			    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	conf_defaults(c);
	conf_walk(x, config_root_setting(&cf), conf_root_keys, c, "");
	if (x->nerr == 0)
		conf_cross_check(x, &cf, c);
	if (x->nerr == 0) {
		*out = *c;
		r = 0;
	}
out:
	free(c);
	config_destroy(&cf);
	free(x->src_name);
	free(x->src_text);
	return r;
}

static int
conf_ctx_init(struct conf_ctx *x, const char *name, const char *basedir,
    char *err, size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->name = name;
	x->err = err;
	x->errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (basedir != NULL) {
		if (realpath(basedir, x->basedir) == NULL) {
			conf_error(x, NULL, "cannot resolve directory %s: %s",
			    basedir, strerror(errno));
			return -errno;
		}
	} else if (getcwd(x->basedir, sizeof(x->basedir)) == NULL) {
		conf_error(x, NULL, "cannot get the current directory: %s",
		    strerror(errno));
		return -errno;
	}
	return 0;
}

int
conf_load(const char *path, struct conf *out, char *err, size_t errlen)
{
	struct conf_ctx x;
	char *copy;
	int r;

	if ((copy = strdup(path)) == NULL)
		return -ENOMEM;
	r = conf_ctx_init(&x, path, dirname(copy), err, errlen);
	free(copy);
	if (r != 0) {
		/* An unreadable directory usually means a missing file. */
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot read: %s", path,
			    strerror(-r));
		return r;
	}
	return conf_run(&x, path, NULL, out);
}

int
conf_load_string(const char *text, const char *name, const char *basedir,
    struct conf *out, char *err, size_t errlen)
{
	struct conf_ctx x;
	int r;

	if ((r = conf_ctx_init(&x, name, basedir, err, errlen)) != 0)
		return r;
	x.text = text;
	return conf_run(&x, NULL, text, out);
}

static void
conf_print_table(FILE *f, const struct conf_key *tab, const char *prefix)
{
	const struct conf_enum *en;
	char key[128];

	for (; tab->name != NULL; tab++) {
		snprintf(key, sizeof(key), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", tab->name);
		switch (tab->type) {
		case CT_GROUP:
			conf_print_table(f, tab->sub, key);
			continue;
		case CT_LIST:
			snprintf(key, sizeof(key), "%s%s%s[]", prefix,
			    *prefix != '\0' ? "." : "", tab->name);
			conf_print_table(f, tab->sub, key);
			continue;
		case CT_INT:
			fprintf(f, "%-34s int %lld (%lld..%lld)", key,
			    tab->def, tab->min, tab->max);
			break;
		case CT_ENUM:
			fprintf(f, "%-34s one of", key);
			for (en = tab->enums; en->name != NULL; en++)
				fprintf(f, " \"%s\"%s", en->name,
				    en->value == tab->def ? "(default)" : "");
			break;
		case CT_STR:
		case CT_PATH:
			if (tab->required)
				fprintf(f, "%-34s %s, required", key,
				    tab->type == CT_PATH ? "path" : "string");
			else
				fprintf(f, "%-34s %s \"%s\"", key,
				    tab->type == CT_PATH ? "path" : "string",
				    tab->sdef != NULL ? tab->sdef : "");
			break;
		}
		fprintf(f, "\n%-34s   %s\n", "", tab->help);
	}
}

void
conf_print_tunables(FILE *f)
{
	conf_print_table(f, conf_root_keys, "");
}
