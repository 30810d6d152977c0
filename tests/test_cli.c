/*
 * test_cli.c - `fieldbridge status`'s parsing, number formatting, ETA and
 * the verdict on whether the daemon runs (tools/cli_status.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/cli_json.h"
#include "tools/cli_status.h"

static struct cli_kv kv;

/* A status file as the daemon writes it while draining a backlog. */
static const char draining[] =
    "state=running\npid=4242\ngateway_id=farm-01\nuptime_s=7384\n"
    "updated=1790000000\nclock_synced=1\nmqtt_connected=1\n"
    "mqtt_connects=3\nmqtt_disconnects=2\nmqtt_inflight=12\nports=1\n"
    "ports_open=1\nrecords_accepted=123456\nbatches_delivered=5678\n"
    "records_delivered=120000\nspool_batches=1000\nspool_records=50000\n"
    "spool_bytes=10590617\nspool_disk_bytes=10700000\n"
    "spool_quota_bytes=1073741824\nspool_oldest_age_s=7260\n"
    "spool_backlog_batches=990\nspool_backlog_records=49500\n"
    "spool_backlog_bytes=10485760\ndrain_bytes_per_s=122880\n"
    "drain_records_per_s=580\ndrain_rate_limit_bps=204800\n"
    "spool_delivered_backlog_batches=300\nspool_dropped_batches=12\n"
    "spool_dropped_records=240\ngap_events=3\ngap_events_delivered=2\n"
    "gap_events_pending=1\ndrop_unknown=1\ndrop_bad_tag=0\n"
    "drop_spool_batches=12\ndurability_ms=1000\nlast_commit_age_ms=200\n"
    "journal_pending_records=7\njournal_unwritten_records=2\n"
    "mqtt_state=connected\nmqtt_host=mqtt.example.net\nmqtt_port=8883\n"
    "mqtt_address=2001:db8::5\nmqtt_addresses=2001:db8::5,192.0.2.7\n"
    "mqtt_resolve_error=\nmqtt_error_ipv4=\nmqtt_error_ipv6=\n";

/* Not connected: DNS down, both families failing. */
static const char offline[] =
    "state=running\npid=4242\nuptime_s=60\nmqtt_connected=0\n"
    "mqtt_state=waiting\nmqtt_host=mqtt.example.net\nmqtt_port=8883\n"
    "mqtt_address=\nmqtt_addresses=2001:db8::5,192.0.2.7\n"
    "mqtt_resolve_error=no answer in time\n"
    "mqtt_error_ipv4=192.0.2.7:8883: Connection timed out\n"
    "mqtt_error_ipv6=[2001:db8::5]:8883: Network is unreachable\n";

static char *
render(const char *text, double age, int alive, double stale, int *health)
{
	static char out[16384];
	FILE *f;

	assert_int_equal(cli_status_parse(text, strlen(text), &kv), 0);
	f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	*health = (int)cli_status_render(&kv, age, alive, stale, f);
	fclose(f);
	return out;
}

static void
test_parse(void **state)
{
	const char text[] = "a=1\nnoequals\n=novalue\nb=two words\nc=\n"
	    "d=-5\ne=12x\nlast=7";

	(void)state;
	assert_int_equal(cli_status_parse(text, strlen(text), &kv), 0);
	assert_string_equal(cli_get(&kv, "a"), "1");
	assert_string_equal(cli_get(&kv, "b"), "two words");
	assert_string_equal(cli_get(&kv, "c"), "");
	assert_null(cli_get(&kv, "noequals"));
	assert_null(cli_get(&kv, ""));
	assert_int_equal(cli_get_u64(&kv, "a", 9), 1);
	assert_int_equal(cli_get_u64(&kv, "b", 9), 9);
	assert_int_equal(cli_get_u64(&kv, "d", 9), 9);	/* not unsigned */
	assert_int_equal(cli_get_i64(&kv, "d", 9), -5);
	assert_int_equal(cli_get_u64(&kv, "e", 9), 9);	/* trailing bytes */
	assert_int_equal(cli_get_u64(&kv, "missing", 9), 9);
	assert_int_equal(cli_get_u64(&kv, "last", 0), 7);	/* no newline */
}

/* A file that is no status file at all, or a truncated one. */
static void
test_parse_garbage(void **state)
{
	char junk[CLI_STATUS_VAL_MAX + 8];
	size_t i;

	(void)state;
	assert_int_equal(cli_status_parse("", 0, &kv), -EINVAL);
	assert_int_equal(cli_status_parse("\n\n\n", 3, &kv), -EINVAL);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 1);
	(void)cli_status_parse(junk, sizeof(junk), &kv);
	assert_true(kv.n <= CLI_STATUS_KEYS_MAX);
	/* A key with a control byte is skipped, not cut at a NUL. */
	assert_int_equal(cli_status_parse("st\0ate=x\npid=7\n", 15, &kv), 0);
	assert_int_equal(kv.n, 1);
	assert_string_equal(kv.key[0], "pid");
	/* A value too long for the table is skipped, not cut. */
	memset(junk, 'v', sizeof(junk));
	memcpy(junk, "k=", 2);
	assert_int_equal(cli_status_parse(junk, sizeof(junk), &kv), -EINVAL);
}

static void
test_fmt_bytes(void **state)
{
	char b[32];

	(void)state;
	cli_fmt_bytes(b, sizeof(b), 0);
	assert_string_equal(b, "0 B");
	cli_fmt_bytes(b, sizeof(b), 1023);
	assert_string_equal(b, "1023 B");
	cli_fmt_bytes(b, sizeof(b), 1024);
	assert_string_equal(b, "1.0 KiB");
	cli_fmt_bytes(b, sizeof(b), 12897484);
	assert_string_equal(b, "12.3 MiB");
	cli_fmt_bytes(b, sizeof(b), 1073741824);
	assert_string_equal(b, "1.0 GiB");
	cli_fmt_bytes(b, sizeof(b), UINT64_MAX);
	assert_string_equal(b, "16777216.0 TiB");
}

static void
test_fmt_duration(void **state)
{
	char b[32];

	(void)state;
	cli_fmt_duration(b, sizeof(b), 0);
	assert_string_equal(b, "0 s");
	cli_fmt_duration(b, sizeof(b), 59);
	assert_string_equal(b, "59 s");
	cli_fmt_duration(b, sizeof(b), 86);
	assert_string_equal(b, "1 min 26 s");
	cli_fmt_duration(b, sizeof(b), 7384);
	assert_string_equal(b, "2 h 03 min");
	cli_fmt_duration(b, sizeof(b), 3 * 86400 + 4 * 3600 + 5);
	assert_string_equal(b, "3 d 04 h");
}

static void
test_fmt_count(void **state)
{
	char b[32];

	(void)state;
	cli_fmt_count(b, sizeof(b), 0);
	assert_string_equal(b, "0");
	cli_fmt_count(b, sizeof(b), 999);
	assert_string_equal(b, "999");
	cli_fmt_count(b, sizeof(b), 1000);
	assert_string_equal(b, "1,000");
	cli_fmt_count(b, sizeof(b), 1234567);
	assert_string_equal(b, "1,234,567");
	cli_fmt_count(b, 4, 1234567);		/* never overruns */
	assert_int_equal(strlen(b), 3);
}

static void
test_eta(void **state)
{
	(void)state;
	assert_int_equal(cli_eta(0, 0), 0);		/* nothing left */
	assert_int_equal(cli_eta(1000, 0), -1);		/* no rate yet */
	assert_int_equal(cli_eta(1000, 0.5), -1);
	assert_int_equal(cli_eta(10485760, 122880), 85);
	assert_int_equal(cli_eta(3000, 1000), 3);
	assert_int_equal(cli_eta(UINT64_MAX, 1), -1);	/* absurd */
}

static void
test_render_draining(void **state)
{
	char *out;
	int h;

	(void)state;
	out = render(draining, 2.0, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "running, pid 4242, up 2 h 03 min"));
	assert_non_null(strstr(out, "broker        connected (3 connections, "
	    "2 lost), 12 batches in flight\n"
	    "              mqtt.example.net at [2001:db8::5] port 8883\n"));
	assert_null(strstr(out, "error"));
	assert_non_null(strstr(out, "spool         1,000 batches, 50,000 "
	    "records, 10.1 MiB"));
	assert_non_null(strstr(out, "oldest waiting 2 h 01 min"));
	assert_non_null(strstr(out, "backlog       990 batches, 49,500 "
	    "records, 10.0 MiB to send"));
	assert_non_null(strstr(out, "draining at 120.0 KiB/s (limit 200.0 "
	    "KiB/s), 580 records/s, ETA 1 min 25 s"));
	assert_non_null(strstr(out, "dropped       12 batches, 240 records; "
	    "3 gap events (2 delivered, 1 waiting)"));
	assert_non_null(strstr(out, "rejected      unknown                1\n"));
	assert_null(strstr(out, "bad_tag"));
	assert_non_null(strstr(out, "5 records of open batches journaled"));
	assert_null(strstr(out, "DISK FULL"));
}

static void
test_render_no_rate_yet(void **state)
{
	char text[sizeof(draining) + 64], *out, *p;
	int h;

	(void)state;
	snprintf(text, sizeof(text), "%s", draining);
	p = strstr(text, "drain_bytes_per_s=122880");
	assert_non_null(p);
	memcpy(p, "drain_bytes_per_s=0     ", 24);
	out = render(text, 2.0, 1, 17, &h);
	assert_non_null(strstr(out, "no progress measured yet, ETA unknown"));
}

static void
test_render_broker_down(void **state)
{
	char text[sizeof(draining) + 64], *out, *p;
	int h;

	(void)state;
	snprintf(text, sizeof(text), "%s", draining);
	p = strstr(text, "mqtt_connected=1");
	p[15] = '0';
	out = render(text, 2.0, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "NOT CONNECTED, retrying"));
	assert_non_null(strstr(out, "backlog       1,000 batches, 50,000 "
	    "records, 10.1 MiB waiting for the broker"));
	assert_null(strstr(out, "ETA"));
}

/* Not connected: why, per address family, and the name lookup's error. */
static void
test_render_broker_unreachable(void **state)
{
	char *out;
	int h;

	(void)state;
	out = render(offline, 1.0, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "NOT CONNECTED, retrying"));
	assert_non_null(strstr(out, "              mqtt.example.net port 8883: "
	    "waiting\n"));
	assert_non_null(strstr(out, "name lookup failed: no answer in time; "
	    "trying its last known addresses 2001:db8::5,192.0.2.7\n"));
	assert_non_null(strstr(out, "last IPv6 error: [2001:db8::5]:8883: "
	    "Network is unreachable\n"));
	assert_non_null(strstr(out, "last IPv4 error: 192.0.2.7:8883: "
	    "Connection timed out\n"));
	assert_null(strstr(out, " at 192"));
}

/* The daemon's own verdicts: stale, gone, stopped. */
static void
test_render_dead(void **state)
{
	char text[sizeof(draining) + 64], *out, *p;
	int h;

	(void)state;
	out = render(draining, 60.0, 1, 17, &h);
	assert_int_equal(h, CLI_DEAD);
	assert_non_null(strstr(out, "NOT RUNNING or hung: status not updated "
	    "for 1 min 00 s"));
	out = render(draining, 1.0, 0, 17, &h);
	assert_int_equal(h, CLI_DEAD);
	assert_non_null(strstr(out, "process 4242 is gone"));
	snprintf(text, sizeof(text), "%s", draining);
	p = strstr(text, "state=running");
	memcpy(p, "state=stopped", 13);
	out = render(text, 1.0, -1, 17, &h);
	assert_int_equal(h, CLI_DEAD);
	assert_non_null(strstr(out, "stopped cleanly"));
}

/* An empty spool, the clock unknown, a full disk. */
static void
test_render_quiet_gateway(void **state)
{
	const char text[] = "state=running\npid=1\nuptime_s=5\n"
	    "mqtt_connected=1\nspool_batches=2\nspool_oldest_age_s=-1\n"
	    "spool_disk_full=1\nspool_backlog_batches=0\n";
	char *out;
	int h;

	(void)state;
	out = render(text, 0.5, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "oldest waiting: unknown"));
	assert_non_null(strstr(out, "DISK FULL"));
	assert_non_null(strstr(out, "backlog       none"));
	assert_non_null(strstr(out, "rejected      none\n"));
	/* An older daemon: no clock, port, device or reload lines. */
	assert_null(strstr(out, "\nclock "));
	assert_null(strstr(out, "devices "));
	assert_null(strstr(out, "reload "));
}


/* The keys of issue 12: since when, the last error, the clock, ports,
 * devices (silent longest first), rejects by reason, the last reload. */
static const char glance[] =
    "state=running\npid=7\nuptime_s=100\nupdated=1790000000\n"
    "clock_synced=0\nmqtt_connected=0\nmqtt_state=waiting\n"
    "mqtt_state_since=1789999880\n"
    "mqtt_last_error=127.0.0.1:8883: Connection refused\n"
    "mqtt_last_error_at=1789999940\nports=2\nports_open=1\n"
    "drop_unknown=3\ndrop_bad_tag=0\ndrop_serial_crc=2\n"
    "drop_spool_batches=4\nreload_last_at=1789999000\n"
    "reload_last_result=devices.conf:12: bad key\n"
    "port_radio1_path=/dev/ttyUSB0\nport_radio1_state=ready\n"
    "port_radio1_error=\nport_radio1_since=1789990000\n"
    "port_radio_2_path=/dev/ttyUSB1\nport_radio_2_state=retrying\n"
    "port_radio_2_error=No such file or directory\n"
    "port_radio_2_since=1789999990\ndevices=2\ndevices_forgotten=0\n"
    "device_0011223344556677_name=collar-17\n"
    "device_0011223344556677_last_seen=1789999990\n"
    "device_0011223344556677_records=12\n"
    "device_0011223344556677_refused=0\n"
    "device_00112233445566AA_name=trough\n"
    "device_00112233445566AA_last_seen=1789990000\n"
    "device_00112233445566AA_records=3\n"
    "device_00112233445566AA_refused=1\n";

static void
test_render_glance(void **state)
{
	char *out, *a, *b;
	int h;

	(void)state;
	out = render(glance, 0.0, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "broker        NOT CONNECTED, retrying for "
	    "2 min 00 s ("));
	assert_non_null(strstr(out, "              last error 1 min 00 s ago: "
	    "127.0.0.1:8883: Connection refused\n"));
	assert_non_null(strstr(out, "clock         NOT synchronised: records "
	    "marked sync:false\n"));
	assert_non_null(strstr(out, "  radio1      ready for 2 h 46 min, "
	    "/dev/ttyUSB0\n"));
	/* A name with '_' in it: the suffix decides. */
	assert_non_null(strstr(out, "  radio_2     NOT READY: retrying for "
	    "10 s, /dev/ttyUSB1: No such file or directory\n"));
	assert_non_null(strstr(out, "devices       2 heard since start\n"));
	a = strstr(out, "  00112233445566AA trough           last record "
	    "2 h 46 min ago, 3 records, 1 refused\n");
	b = strstr(out, "  0011223344556677 collar-17        last record "
	    "10 s ago, 12 records, 0 refused\n");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a < b);	/* the longest silent first */
	assert_non_null(strstr(out, "rejected      unknown                3\n"
	    "              serial_crc             2\n"));
	assert_null(strstr(out, "spool_batches"));
	assert_non_null(strstr(out, "reload        FAILED 16 min 40 s ago, old "
	    "registry kept: devices.conf:12: bad key\n"));
	/* Headline first, then ports, then devices and rejects. */
	assert_true(strstr(out, "clock ") < strstr(out, "spool "));
	assert_true(strstr(out, "spool ") < strstr(out, "concentrators"));
	assert_true(strstr(out, "concentrators") < strstr(out, "devices "));
	assert_true(strstr(out, "devices ") < strstr(out, "rejected "));
}

/* The status file is parser input: malformed values and keys are skipped
 * or shown as unknown, never trusted. */
static void
test_render_glance_malformed(void **state)
{
	const char text[] =
	    "state=running\npid=7\nupdated=1790000000\nclock_synced=yes\n"
	    "mqtt_connected=1\nmqtt_state_since=soon\nmqtt_last_error=\n"
	    "mqtt_last_error_at=-5\nreload_last_at=x\nreload_last_result=ok\n"
	    "port__state=ready\nport_a_state=\nport_a_since=12abc\n"
	    "device_XYZ_last_seen=1\ndevice_0011223344556677Z_last_seen=1\n"
	    "device_0011223344556677_last_seen=-1\n"
	    "device_0011223344556677_records=lots\ndrop_unknown=-3\n"
	    "device_=1\n_last_seen=4\n";
	char *out;
	int h;

	(void)state;
	out = render(text, 0.0, 1, 17, &h);
	assert_int_equal(h, CLI_OK);
	assert_non_null(strstr(out, "broker        connected (0 connections"));
	assert_null(strstr(out, "last error"));
	assert_non_null(strstr(out, "clock         NOT synchronised"));
	assert_null(strstr(out, "reload "));
	/* "port__state": no name; port a: an empty state, no time. */
	assert_non_null(strstr(out, "  a           NOT READY: , ?\n"));
	assert_null(strstr(out, "XYZ"));
	assert_null(strstr(out, "6677Z"));
	assert_non_null(strstr(out, "devices       1 heard since start\n"
	    "  0011223344556677                  no record accepted, 0 "
	    "records, 0 refused\n"));
	assert_non_null(strstr(out, "rejected      none\n"));
}

/* Many devices: a few lines, the rest in --json. */
static void
test_render_many_devices(void **state)
{
	static char text[32768];
	size_t used = 0;
	char *out;
	int h, i;

	(void)state;
	used += (size_t)snprintf(text, sizeof(text), "state=running\npid=7\n"
	    "updated=1790000000\ndevices=20\ndevices_forgotten=5\n");
	for (i = 0; i < 20; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "device_%016X_last_seen=%d\n", i, 1789999000 + i);
	out = render(text, 0.0, 1, 17, &h);
	assert_non_null(strstr(out, "devices       20 heard since start, the "
	    "longest silent first\n  0000000000000000 "));
	assert_null(strstr(out, "0000000000000008 "));
	assert_non_null(strstr(out, "12 more: fieldbridge status --json\n"));
	assert_non_null(strstr(out, "5 more forgotten"));
}

/* --json: integers as numbers, anything else a string, escaped (the
 * converter itself: tests/test_status.c). */
static void
test_json(void **state)
{
	static const char text[] = "pid=42\nstate=running\nneg=-3\n"
	    "zip=007\nodd=a\"b\\c\x01\n";
	char buf[512];
	FILE *f;

	(void)state;
	f = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(f);
	cli_json_status(text, strlen(text), 1.25, 1, f);
	fclose(f);
	assert_string_equal(buf, "{\"running\": true, \"status_age_s\": 1.2, "
	    "\"status\": {\"pid\": 42, \"state\": \"running\", \"neg\": -3, "
	    "\"zip\": \"007\", \"odd\": \"a\\\"b\\\\c\\u0001\"}}\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_fmt_bytes),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_fmt_count),
		cmocka_unit_test(test_eta),
		cmocka_unit_test(test_render_draining),
		cmocka_unit_test(test_render_no_rate_yet),
		cmocka_unit_test(test_render_broker_down),
		cmocka_unit_test(test_render_broker_unreachable),
		cmocka_unit_test(test_render_dead),
		cmocka_unit_test(test_render_quiet_gateway),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_render_glance),
		cmocka_unit_test(test_render_glance_malformed),
		cmocka_unit_test(test_render_many_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
