/*
 * test_conf.c - the configuration reader: the example config, relative
 * paths, and one test per kind of bad file asserting the exact
 * "FILE:LINE: what is wrong" message.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/conf.h"
#include "radio/radio.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

static char	tmpdir[200];
static char	path[256];
static char	err[CONF_ERR_MAX];
static char	want[CONF_ERR_MAX];

/* A minimal valid file; tests replace one line (1-based) at a time. */
static const char *const base[] = {
	"gateway_id = \"farm-01\";",
	"state_dir = \"state\";",
	"registry = \"devices.conf\";",
	"keys = \"/etc/fieldbridge/keys.conf\";",
	"concentrators = (",
	"  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; driver = \"fbsp\"; baud = 115200; }",
	");",
	"mqtt = {",
	"  host = \"127.0.0.1\";",
	"  port = 8883;",
	"  ca = \"ca.pem\";",
	"  cert = \"gw.pem\";",
	"  key = \"gw.key\";",
	"};",
	"",
	NULL
};

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_conf.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/fb.conf", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

/* Write base with line `line` replaced by repl (NULL: removed). */
static void
write_conf(int line, const char *repl)
{
	FILE *f = fopen(path, "w");
	int i;

	assert_non_null(f);
	for (i = 0; base[i] != NULL; i++) {
		if (i + 1 == line) {
			if (repl != NULL)
				fprintf(f, "%s\n", repl);
		} else
			fprintf(f, "%s\n", base[i]);
	}
	fclose(f);
}

static int
load(struct conf *c)
{
	return conf_load(path, c, err, sizeof(err));
}

static void
expect_error(int line, const char *fmt, ...)
{
	struct conf c;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	else
		snprintf(want, sizeof(want), "%s: %s", path, msg);
	assert_int_equal(load(&c), -EINVAL);
	assert_string_equal(err, want);
}

static void
test_good(void **state)
{
	struct conf c;
	char dir[PATH_MAX], exp[PATH_MAX + 32];

	(void)state;
	write_conf(0, NULL);
	assert_int_equal(load(&c), 0);
	assert_string_equal(err, "");
	assert_non_null(realpath(tmpdir, dir));
	assert_string_equal(c.gateway_id, "farm-01");
	/* Relative paths are relative to the file's directory. */
	snprintf(exp, sizeof(exp), "%s/state", dir);
	assert_string_equal(c.state_dir, exp);
	snprintf(exp, sizeof(exp), "%s/devices.conf", dir);
	assert_string_equal(c.registry, exp);
	snprintf(exp, sizeof(exp), "%s/ca.pem", dir);
	assert_string_equal(c.mqtt.ca, exp);
	assert_string_equal(c.keys, "/etc/fieldbridge/keys.conf");
	assert_int_equal(c.nconc, 1);
	assert_string_equal(c.conc[0].name, "lora0");
	assert_string_equal(c.conc[0].driver, "fbsp");
	assert_int_equal(c.conc[0].baud, 115200);
	assert_int_equal(c.conc[0].tx_power_dbm, 14);
	/* Defaults. */
	assert_int_equal(c.mqtt.keepalive_s, 30);
	assert_int_equal(c.mqtt.tls_min, 12);
	assert_int_equal(c.mqtt.inflight_max, 16);
	assert_string_equal(c.mqtt.topic_prefix, "fieldbridge");
	assert_int_equal(c.batch.max_bytes, 4900);
	assert_int_equal(c.batch.max_records, 500);
	assert_int_equal(c.batch.max_age_ms, 5000);
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.spool.quota_mib, 1024);
	assert_int_equal(c.spool.max_age_s, 0);
	assert_int_equal(c.spool.when_full, CONF_SPOOL_DROP_OLDEST);
	assert_int_equal(c.spool.durability_ms, 1000);
	assert_int_equal(c.spool.drain_rate_bps, 0);
	assert_int_equal(c.daemon.health_interval_s, 300);
	assert_string_equal(c.mqtt.topic_health, "{prefix}/{gateway}/health");
}

/* The health message: 0 turns it off, a day at most, its topic checked
 * like the others. */
static void
test_health_settings(void **state)
{
	struct conf c;

	(void)state;
	write_conf(15, "daemon = { health_interval_s = 0; };");
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.daemon.health_interval_s, 0);
	write_conf(15, "daemon = { health_interval_s = 86400; };");
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.daemon.health_interval_s, 86400);
	write_conf(15, "daemon = { health_interval_s = 86401; };");
	expect_error(15, "daemon.health_interval_s: 86401 is out of range "
	    "(0..86400)");
	write_conf(15, "daemon = { health_interval_s = -1; };");
	expect_error(15, "daemon.health_interval_s: -1 is out of range "
	    "(0..86400)");
	write_conf(10, "  port = 8883; topic_health = \"farm/#/health\";");
	expect_error(10, "mqtt.topic_health: \"farm/#/health\" holds a "
	    "wildcard ('+' or '#')");
}

static void
test_spool_group(void **state)
{
	struct conf c;

	(void)state;
	write_conf(15, "spool = { quota_mib = 64; max_age_s = 86400; "
	    "when_full = \"refuse-newest\"; durability_ms = 250; "
	    "drain_rate_bps = 20000; };");
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.spool.quota_mib, 64);
	assert_int_equal(c.spool.max_age_s, 86400);
	assert_int_equal(c.spool.when_full, CONF_SPOOL_REFUSE_NEWEST);
	assert_int_equal(c.spool.durability_ms, 250);
	assert_int_equal(c.spool.drain_rate_bps, 20000);
}

static void
test_spool_bad_when_full(void **state)
{
	(void)state;
	write_conf(15, "spool = { when_full = \"drop-newest\"; };");
	expect_error(15, "spool.when_full: \"drop-newest\" is not one of "
	    "\"drop-oldest\", \"refuse-newest\"");
}

static void
test_spool_out_of_range(void **state)
{
	(void)state;
	write_conf(15, "spool = { quota_mib = 0; };");
	expect_error(15, "spool.quota_mib: 0 is out of range (1..4194304)");
	write_conf(15, "spool = { durability_ms = 5; };");
	expect_error(15, "spool.durability_ms: 5 is out of range (10..60000)");
	write_conf(15, "spool = { durability_ms = 60001; };");
	expect_error(15, "spool.durability_ms: 60001 is out of range "
	    "(10..60000)");
	write_conf(15, "spool = { drain_rate_bps = -1; };");
	expect_error(15, "spool.drain_rate_bps: -1 is out of range "
	    "(0..1000000000)");
	/* Wraps to 0 in libconfig, which would mean "no limit". */
	write_conf(15, "spool = { max_age_s = 4294967296; };");
	expect_error(15, "spool.max_age_s: 4294967296 is out of range "
	    "(0..315360000)");
}

/* The in-memory queue is gone; its setting is an error, not ignored. */
static void
test_queue_max_kib_is_gone(void **state)
{
	(void)state;
	write_conf(15, "daemon = { queue_max_kib = 8192; };");
	expect_error(15, "unknown key 'daemon.queue_max_kib'");
}

/* The example shipped in etc/ must always load. */
static void
test_example_config(void **state)
{
	struct conf c;

	(void)state;
	assert_int_equal(conf_load(SRCDIR "/etc/fieldbridge.conf", &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.gateway_id, "farm-01");
	assert_string_equal(c.mqtt.host, "mqtt.example.net");
	assert_int_equal(c.mqtt.tls_min, 12);
}

static void
test_syntax_error(void **state)
{
	(void)state;
	write_conf(10, "  port = ;");
	expect_error(10, "syntax error");
}

static void
test_wrong_type(void **state)
{
	(void)state;
	write_conf(10, "  port = \"8883\";");
	expect_error(10, "mqtt.port: expected an integer, found a string");
}

static void
test_wrong_type_group(void **state)
{
	(void)state;
	write_conf(0, NULL);
	{
		FILE *f = fopen(path, "a");

		fprintf(f, "batch = 5;\n");
		fclose(f);
	}
	expect_error(16, "batch: expected a group { }, found an integer");
}

static void
test_unknown_key_root(void **state)
{
	(void)state;
	write_conf(15, "colour = \"green\";");
	expect_error(15, "unknown key 'colour'");
}

static void
test_unknown_key_group_did_you_mean(void **state)
{
	(void)state;
	write_conf(10, "  keepalive = 30;");
	expect_error(10, "unknown key 'mqtt.keepalive' (did you mean "
	    "'keepalive_s'?)");
}

static void
test_unknown_key_in_list_element(void **state)
{
	(void)state;
	write_conf(6, "  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; "
	    "bud = 9600; }");
	expect_error(6, "unknown key 'concentrators[0].bud' (did you mean "
	    "'baud'?)");
}

static void
test_missing_required_root(void **state)
{
	(void)state;
	write_conf(1, NULL);
	expect_error(0, "missing required key 'gateway_id'");
}

static void
test_missing_required_in_group(void **state)
{
	(void)state;
	write_conf(9, NULL);
	expect_error(8, "missing required key 'mqtt.host'");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	write_conf(10, "  port = 70000;");
	expect_error(10, "mqtt.port: 70000 is out of range (1..65535)");
}

static void
test_out_of_range_negative(void **state)
{
	(void)state;
	write_conf(10, "  port = -1;");
	expect_error(10, "mqtt.port: -1 is out of range (1..65535)");
}

/* libconfig reads 4294967296 as 0: it must not pass as 0. */
static void
test_out_of_range_wraps_to_zero(void **state)
{
	(void)state;
	write_conf(10, "  port = 4294967296;");
	expect_error(10, "mqtt.port: 4294967296 is out of range (1..65535)");
}

/* 4294967326 wraps to 30, a valid keepalive: it must still fail. */
static void
test_out_of_range_wraps_into_range(void **state)
{
	(void)state;
	write_conf(10, "  port = 8883; keepalive_s = 4294967326;");
	expect_error(10, "mqtt.keepalive_s: 4294967326 is out of range "
	    "(5..3600)");
}

static void
test_out_of_range_hex_wrap(void **state)
{
	(void)state;
	write_conf(10, "  port = 0x1FFFFFFFF;");
	expect_error(10, "mqtt.port: 0x1FFFFFFFF is out of range (1..65535)");
}

static void
test_int64_literal_out_of_range(void **state)
{
	(void)state;
	write_conf(10, "  port = 4294967296L;");
	expect_error(10, "mqtt.port: 4294967296 is out of range (1..65535)");
}

static void
test_bad_driver(void **state)
{
	(void)state;
	write_conf(6, "  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"sx1302\"; }");
	expect_error(6, "concentrators[0].driver: unknown driver \"sx1302\" "
	    "(known: fbsp, rn2483, rn2903, rak3172)");
}

/* Per-stream decoders; a stream named twice is an error. */
static void
test_streams(void **state)
{
	struct conf c;

	(void)state;
	write_conf(15, "streams = ( { name = \"weather\"; decoder = \"lpp\"; },"
	    " { name = \"cattle\"; } );");
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.nstreams, 2);
	assert_string_equal(c.streams[0].name, "weather");
	assert_int_equal(c.streams[0].decoder, 1);
	assert_int_equal(c.streams[1].decoder, 0);
	write_conf(15, "streams = ( { name = \"weather\"; decoder = \"lpp\"; },"
	    " { name = \"weather\"; } );");
	expect_error(15, "streams[1]: name \"weather\" is used twice");
	write_conf(15, "streams = ( { name = \"weather\"; decoder = \"xml\"; }"
	    " );");
	assert_int_equal(load(&c), -EINVAL);
}

/* A module's radio settings, its default line speed, and its ranges. */
static void
test_module_radio(void **state)
{
	struct conf c;
	struct radio_params rp;

	(void)state;
	write_conf(6, "  { name = \"rn0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"rn2483\"; freq_hz = 868100000; sf = 12; "
	    "bw_khz = 250; coding_rate = \"4/8\"; sync_word = 0x34; "
	    "tx_power_dbm = 10; }, { name = \"rak0\"; path = \"/dev/ttyUSB1\"; "
	    "driver = \"rak3172\"; }");
	assert_int_equal(load(&c), 0);
	assert_int_equal(c.conc[0].baud, 57600);
	assert_int_equal(c.conc[1].baud, 115200);
	conf_radio_params(&c.conc[0], &rp);
	assert_int_equal(rp.modulation, RADIO_MOD_LORA);
	assert_int_equal(rp.freq_hz, 868100000);
	assert_int_equal(rp.sf, 12);
	assert_int_equal(rp.bw_hz, 250000);
	assert_int_equal(rp.cr, 4);
	assert_int_equal(rp.sync_word, 0x34);
	assert_int_equal(rp.power_dbm, 10);
	write_conf(6, "  { name = \"rn0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"rn2903\"; }");
	expect_error(6, "concentrators[0] (rn2903): freq_hz: RN2903 takes "
	    "902000000..928000000");
	write_conf(6, "  { name = \"rak0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"rak3172\"; modulation = \"fsk\"; }");
	expect_error(6, "concentrators[0] (rak3172): modulation: this driver "
	    "runs the RAK3172 in LoRa P2P only");
	write_conf(6, "  { name = \"rn0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"rn2483\"; tx_power_dbm = 20; }");
	expect_error(6, "concentrators[0] (rn2483): tx_power_dbm: RN2483 "
	    "takes -3..15");
	write_conf(6, "  { name = \"rn0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"rn2483\"; coding_rate = \"4/9\"; }");
	assert_int_equal(load(&c), -EINVAL);
}

static void
test_bad_gateway_id(void **state)
{
	(void)state;
	write_conf(1, "gateway_id = \"farm 01\";");
	expect_error(1, "gateway_id: \"farm 01\" may hold only letters, "
	    "digits, '-', '_' and '.'");
}

static void
test_gateway_id_too_long(void **state)
{
	char line[200];

	(void)state;
	snprintf(line, sizeof(line), "gateway_id = \"%064d\";", 0);
	write_conf(1, line);
	expect_error(1, "gateway_id: longer than 63 characters");
}

static void
test_bad_enum(void **state)
{
	(void)state;
	write_conf(10, "  port = 8883; tls_min = \"1.1\";");
	expect_error(10, "mqtt.tls_min: \"1.1\" is not one of \"1.2\", "
	    "\"1.3\"");
}

static void
test_bad_topic_prefix(void **state)
{
	(void)state;
	write_conf(10, "  port = 8883; topic_prefix = \"farm/#\";");
	expect_error(10, "mqtt.topic_prefix: \"farm/#\" is not a valid topic "
	    "prefix (topic levels separated by '/', no wildcards)");
}

static void
test_empty_concentrators(void **state)
{
	(void)state;
	write_conf(6, NULL);
	expect_error(5, "concentrators: empty, at least one is required");
}

static void
test_duplicate_port_name(void **state)
{
	(void)state;
	write_conf(6, "  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; },\n"
	    "  { name = \"lora0\"; path = \"/dev/ttyUSB1\"; }");
	expect_error(7, "concentrators[1]: name \"lora0\" is used twice");
}

static void
test_backoff_order(void **state)
{
	(void)state;
	write_conf(10, "  port = 8883; backoff_min_ms = 5000; "
	    "backoff_max_ms = 1000;");
	expect_error(10, "mqtt.backoff_min_ms: 5000 is above "
	    "mqtt.backoff_max_ms (1000)");
}

/* Every problem of a file is reported, one line each. */
static void
test_several_errors(void **state)
{
	struct conf c;

	(void)state;
	write_conf(10, "  port = 0; keepalive_s = \"x\";");
	assert_int_equal(load(&c), -EINVAL);
	snprintf(want, sizeof(want), "%s:10: mqtt.port: 0 is out of range "
	    "(1..65535)\n%s:10: mqtt.keepalive_s: expected an integer, found "
	    "a string", path, path);
	assert_string_equal(err, want);
}

/* A bad file leaves the caller's struct alone. */
static void
test_bad_file_keeps_old_conf(void **state)
{
	struct conf c;

	(void)state;
	write_conf(0, NULL);
	assert_int_equal(load(&c), 0);
	write_conf(10, "  port = 70000;");
	assert_int_equal(load(&c), -EINVAL);
	assert_int_equal(c.mqtt.port, 8883);
}

static void
test_missing_file(void **state)
{
	struct conf c;

	(void)state;
	assert_int_equal(load(&c), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or "
	    "directory", path);
	assert_string_equal(err, want);
}

static void
test_from_string(void **state)
{
	struct conf c;

	(void)state;
	assert_int_equal(conf_load_string("gateway_id = \"g\";\n"
	    "registry = \"r\"; keys = \"k\";\n"
	    "concentrators = ({ name = \"a\"; path = \"/dev/null\"; });\n"
	    "mqtt = { host = \"h\"; ca = \"c\"; cert = \"c\"; key = \"k\"; "
	    "port = 99999; };\n", "mem", "/", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "mem:4: mqtt.port: 99999 is out of range "
	    "(1..65535)");
}

static char	diffs[512];

static void
note_diff(void *arg, const char *setting)
{
	(void)arg;
	strncat(diffs, setting, sizeof(diffs) - strlen(diffs) - 2);
	strcat(diffs, " ");
}

/* SIGHUP names what only a restart applies: each changed setting by its
 * name in the file, a list of another length by the list's name. */
static void
test_diff(void **state)
{
	struct conf a, b;

	(void)state;
	write_conf(0, NULL);
	assert_int_equal(load(&a), 0);
	assert_int_equal(load(&b), 0);
	diffs[0] = '\0';
	assert_int_equal(conf_diff(&a, &b, note_diff, NULL), 0);
	assert_string_equal(diffs, "");

	write_conf(9, "  host = \"broker.example\"; keepalive_s = 60;");
	assert_int_equal(load(&b), 0);
	assert_int_equal(conf_diff(&a, &b, note_diff, NULL), 2);
	assert_string_equal(diffs, "mqtt.host mqtt.keepalive_s ");

	diffs[0] = '\0';
	write_conf(6, "  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; "
	    "driver = \"fbsp\"; baud = 115200; sf = 10; }");
	assert_int_equal(load(&b), 0);
	assert_int_equal(conf_diff(&a, &b, note_diff, NULL), 1);
	assert_string_equal(diffs, "concentrators.[0].sf ");

	diffs[0] = '\0';
	write_conf(6, "  { name = \"lora0\"; path = \"/dev/ttyUSB0\"; },"
	    " { name = \"lora1\"; path = \"/dev/ttyUSB1\"; }");
	assert_int_equal(load(&b), 0);
	assert_int_equal(conf_diff(&a, &b, note_diff, NULL), 1);
	assert_string_equal(diffs, "concentrators ");

	diffs[0] = '\0';
	write_conf(2, "state_dir = \"/var/lib/elsewhere\";");
	assert_int_equal(load(&b), 0);
	assert_int_equal(conf_diff(&a, &b, note_diff, NULL), 1);
	assert_string_equal(diffs, "state_dir ");
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_good),
		T(test_spool_group),
		T(test_spool_bad_when_full),
		T(test_spool_out_of_range),
		T(test_queue_max_kib_is_gone),
		T(test_example_config),
		T(test_syntax_error),
		T(test_wrong_type),
		T(test_wrong_type_group),
		T(test_unknown_key_root),
		T(test_unknown_key_group_did_you_mean),
		T(test_unknown_key_in_list_element),
		T(test_missing_required_root),
		T(test_missing_required_in_group),
		T(test_out_of_range),
		T(test_out_of_range_negative),
		T(test_out_of_range_wraps_to_zero),
		T(test_out_of_range_wraps_into_range),
		T(test_out_of_range_hex_wrap),
		T(test_int64_literal_out_of_range),
		T(test_bad_driver),
		T(test_module_radio),
		T(test_streams),
		T(test_bad_gateway_id),
		T(test_gateway_id_too_long),
		T(test_bad_enum),
		T(test_bad_topic_prefix),
		T(test_health_settings),
		T(test_empty_concentrators),
		T(test_duplicate_port_name),
		T(test_backoff_order),
		T(test_several_errors),
		T(test_bad_file_keeps_old_conf),
		T(test_missing_file),
		T(test_from_string),
		T(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
