/*
 * test_status.c - the status file and the counters line (daemon/status.c):
 * the loop's snapshot and the sections of the uplink and the outbox land
 * in one file, in order, with the STATUS_K_ keys the reader uses; the
 * counters line keeps its stable format; a write that cannot happen
 * leaves the old file.  The text as JSON (status_json, what `fieldbridge
 * status --json` and the health message print): numbers and strings,
 * hostile bytes escaped, malformed lines skipped, and the health filter
 * (its keys, the five devices with the most refusals, in order).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/fsutil.h"
#include "daemon/status.h"
#include "tests/testutil.h"

static char	*dir;
static int	dfd = -1;

static int
setup(void **state)
{
	(void)state;
	dir = testutil_tmpdir();
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(dfd);
	testutil_rm_rf(dir);
	free(dir);
	dir = NULL;
	return 0;
}

static void
fill(struct status_loop *l)
{
	memset(l, 0, sizeof(*l));
	l->state = "running";
	l->gateway_id = "farm-01";
	l->uptime_s = 61;
	l->clock_synced = 1;
	l->mqtt_connected = 1;
	l->mqtt_connects = 2;
	l->mqtt_disconnects = 1;
	l->mqtt_inflight = 3;
	l->ports = 2;
	l->ports_open = 1;
	l->sandbox = "chroot+seccomp";
	l->records_accepted = 1000;
	l->records_pending = 7;
	l->batches_sealed = 40;
	l->batches_delivered = 39;
	l->records_delivered = 990;
	l->drops[0].name = "unknown";
	l->drops[0].value = 5;
	l->drops[1].name = "stream";
	l->drops[1].value = 0;
	l->drops[2].name = "serial_crc";
	l->drops[2].value = 9;
	l->ndrops = 3;
	l->spool_dropped_batches = 1;
	l->spool_dropped_records = 25;
	l->lost_batches = 0;
	l->lost_records = 0;
	l->downlinks = 12;
	l->downlinks_failed = 2;
}

static void
sec_uplink(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_str(f, STATUS_K_MQTT_STATE, "connected");
}

static void
sec_outbox(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_i64(f, STATUS_K_SPOOL_OLDEST_AGE_S, -1);
	status_rate(f, STATUS_K_DRAIN_BYTES_PER_S, 1234.6);
}

static void
sec_radio(void *arg, FILE *f)
{
	(*(int *)arg)++;
	status_str(f, "airtime_region", "none");
}

static void
test_file(void **state)
{
	struct status_loop l;
	int calls = 0;
	const struct status_sections sec = {
		.uplink = sec_uplink,
		.outbox = sec_outbox,
		.radio = sec_radio,
		.arg = &calls,
	};
	char buf[4096], *p, *q;
	ssize_t n;
	int fd;

	(void)state;
	fill(&l);
	assert_int_equal(status_write(dfd, &l, &sec, (gid_t)-1), 0);
	assert_int_equal(calls, 3);
	assert_true((fd = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	n = fsutil_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "state=running\n"));
	assert_non_null(strstr(buf, "\ngateway_id=farm-01\n"));
	assert_non_null(strstr(buf, "\nuptime_s=61\n"));
	assert_non_null(strstr(buf, "\nmqtt_inflight=3\n"));
	assert_non_null(strstr(buf, "\nsandbox=chroot+seccomp\n"));
	assert_non_null(strstr(buf, "\ndrop_unknown=5\n"));
	assert_non_null(strstr(buf, "\ndrop_stream=0\n"));
	assert_non_null(strstr(buf, "\ndrop_serial_crc=9\n"));
	assert_non_null(strstr(buf, "\ndrop_spool_records=25\n"));
	assert_non_null(strstr(buf, "\ndownlinks_failed=2\n"));
	assert_non_null(strstr(buf, "\nspool_oldest_age_s=-1\n"));
	assert_non_null(strstr(buf, "\ndrain_bytes_per_s=1235\n"));
	/* The uplink's section follows the mqtt_ keys, the outbox's the
	 * record counts: the order a reader of the raw file expects. */
	p = strstr(buf, "mqtt_state=");
	q = strstr(buf, "mqtt_inflight=");
	assert_true(p != NULL && q != NULL && q < p);
	p = strstr(buf, "spool_oldest_age_s=");
	q = strstr(buf, "records_delivered=");
	assert_true(p != NULL && q != NULL && q < p);
	p = strstr(buf, "airtime_region=none\n");
	q = strstr(buf, "downlinks_failed=");
	assert_true(p != NULL && q != NULL && q < p);
	/* Every line is key=value. */
	for (p = buf; *p != '\0'; p = q + 1) {
		q = strchr(p, '\n');
		assert_non_null(q);
		assert_true(memchr(p, '=', (size_t)(q - p)) != NULL);
	}
	assert_int_equal(faccessat(dfd, STATUS_FILE ".tmp", F_OK, 0), -1);
}

static void
test_write_failure_keeps_old(void **state)
{
	struct status_loop l;
	char buf[256];
	ssize_t n;
	int fd, nodir;

	(void)state;
	fill(&l);
	assert_int_equal(status_write(dfd, &l, NULL, (gid_t)-1), 0);
	/* A descriptor that is no directory: nothing is written. */
	assert_true((nodir = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	l.state = "stopped";
	assert_int_equal(status_write(nodir, &l, NULL, (gid_t)-1), -ENOTDIR);
	close(nodir);
	assert_true((fd = openat(dfd, STATUS_FILE, O_RDONLY)) >= 0);
	n = fsutil_read_full(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "state=running\n"));
}

static void
test_counters_line(void **state)
{
	struct status_loop l;
	char line[1024], small[100];

	(void)state;
	fill(&l);
	assert_string_equal(status_counters_line(line, sizeof(line), "final: ",
	    &l), "final: records accepted 1000, batches sealed 40, delivered "
	    "39 (records 990), dropped: unknown=5 stream=0 serial_crc=9 "
	    "queue=1 (records 25) lost=0 (records 0)");
	/* A short buffer gets whole fields only, and stays a string. */
	status_counters_line(small, sizeof(small), "", &l);
	assert_true(strlen(small) < sizeof(small));
	assert_int_equal(strncmp(small, "records accepted 1000", 21), 0);
}


/* status_json of text (len bytes) into a NUL-terminated malloc'ed string. */
static char *
to_json(const char *text, size_t len, enum status_json_filter filter)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	assert_non_null(f = open_memstream(&buf, &n));
	assert_int_equal(status_json(text, len, filter, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Integers JSON carries exactly are numbers; anything else a string. */
static void
test_json_numbers_and_strings(void **state)
{
	static const char text[] = "a=42\nb=-3\nc=0\nd=007\ne=\nf=1.5\n"
	    "g=123456789012345678\nh=1234567890123456789\ni=-\nj=12a\n"
	    "k=running";
	char *out;

	(void)state;
	out = to_json(text, strlen(text), STATUS_JSON_ALL);
	assert_string_equal(out, "{\"a\": 42, \"b\": -3, \"c\": 0, "
	    "\"d\": \"007\", \"e\": \"\", \"f\": \"1.5\", "
	    "\"g\": 123456789012345678, \"h\": \"1234567890123456789\", "
	    "\"i\": \"-\", \"j\": \"12a\", \"k\": \"running\"}");
	free(out);
}

/* No byte of a key or a value can end the string or the object early,
 * nor make the document invalid UTF-8. */
static void
test_json_hostile_strings(void **state)
{
	static const char text[] =
	    "q=say \"hi\"\n"
	    "b=C:\\dir\\\n"
	    "c=\x01\x1f\x7f\tx\r\n"
	    "k\"ey\\=v\n"
	    "n=a\0b\n"
	    "u=caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x84\n"
	    "bad=\xff\xc3(\xed\xa0\x80\xc0\xaf\xe2\x82\n"
	    "end=}\"{,";
	char *out;

	(void)state;
	out = to_json(text, sizeof(text) - 1, STATUS_JSON_ALL);
	assert_string_equal(out, "{\"q\": \"say \\\"hi\\\"\", "
	    "\"b\": \"C:\\\\dir\\\\\", "
	    "\"c\": \"\\u0001\\u001f\\u007f\\u0009x\\u000d\", "
	    "\"k\\\"ey\\\\\": \"v\", "
	    "\"n\": \"a\\u0000b\", "
	    "\"u\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x84\", "
	    /* 0xff; 0xc3 before '(' (cut short); a surrogate (3 bytes);
	     * an overlong '/' (2); a sequence cut by the end of line. */
	    "\"bad\": \"\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
	    "\\ufffd\\ufffd\", "
	    "\"end\": \"}\\\"{,\"}");
	free(out);
}

/* Lines without '=' or with an empty key are skipped, whatever else is
 * on them; the last line needs no newline; values may hold '='. */
static void
test_json_malformed_lines(void **state)
{
	static const char text[] = "\n\nnoequals\n=novalue\n  \na=1=2\n"
	    "x y=3\n=\nlast=9";
	char *out;

	(void)state;
	out = to_json(text, strlen(text), STATUS_JSON_ALL);
	assert_string_equal(out, "{\"a\": \"1=2\", \"x y\": 3, \"last\": 9}");
	free(out);
	out = to_json("", 0, STATUS_JSON_ALL);
	assert_string_equal(out, "{}");
	free(out);
	/* A control byte in a key: the line is skipped (a NUL would make a
	 * key Jansson refuses; found by fuzz_status). */
	out = to_json("a\0b=1\nc\x01=2\nd=3\n", 15, STATUS_JSON_ALL);
	assert_string_equal(out, "{\"d\": 3}");
	free(out);
	out = to_json("garbage\n", 8, STATUS_JSON_HEALTH);
	assert_string_equal(out, "{}");
	free(out);
}

#define DEV(eui, name, seen, rec, ref) \
	"device_" eui "_name=" name "\n" \
	"device_" eui "_last_seen=" #seen "\n" \
	"device_" eui "_records=" #rec "\n" \
	"device_" eui "_refused=" #ref "\n"

/* What the health message keeps, and what it does not. */
static void
test_json_health_keys(void **state)
{
	static const char text[] =
	    "state=running\npid=7\ngateway_id=farm-01\nuptime_s=61\n"
	    "updated=1700000000\nclock_synced=1\nmqtt_connected=1\n"
	    "mqtt_state=connected\nmqtt_host=broker\ntls_cert_expires=9\n"
	    "tls_cert_days=42\nports=1\nports_open=1\nsandbox=none\n"
	    "records_accepted=100\nspool_batches=3\nspool_records=30\n"
	    "spool_bytes=3000\nspool_disk_bytes=4096\n"
	    "spool_oldest_age_s=-1\nspool_backlog_batches=0\n"
	    "drop_unknown=5\ndrop_bad_tag=2\ndrop_serial_crc=0\n"
	    "drop_spool_batches=0\nlost_batches=0\n"
	    "airtime_region=EU868\nairtime_lora0_g1_limit_ms=36000\n"
	    "airtime_lora0_g1_used_ms=120\n"
	    "airtime_lora0_g1_challenge_used_ms=20\n"
	    "airtime_lora0_g1_sent=3\n"
	    "port_lora0_path=/dev/ttyUSB0\nport_lora0_state=ready\n"
	    "port_lora0_error=\nport_lora0_since=1699999999\n"
	    "port__state=odd\n"
	    "devices=2\ndevices_forgotten=0\n"
	    DEV("00000000000000A1", "quiet", 1700000000, 10, 0)
	    DEV("00000000000000A2", "noisy", 0, 0, 4);
	static const char *const kept[] = {
		"\"gateway_id\": \"farm-01\"", "\"uptime_s\": 61",
		"\"updated\": 1700000000", "\"clock_synced\": 1",
		"\"tls_cert_days\": 42", "\"spool_batches\": 3",
		"\"spool_records\": 30", "\"spool_bytes\": 3000",
		"\"spool_oldest_age_s\": -1", "\"drop_unknown\": 5",
		"\"drop_bad_tag\": 2", "\"drop_serial_crc\": 0",
		"\"drop_spool_batches\": 0",
		"\"airtime_lora0_g1_used_ms\": 120",
		"\"port_lora0_path\": \"/dev/ttyUSB0\"",
		"\"port_lora0_state\": \"ready\"", "\"port_lora0_error\": \"\"",
		"\"device_00000000000000A2_name\": \"noisy\"",
		"\"device_00000000000000A2_last_seen\": 0",
		"\"device_00000000000000A2_records\": 0",
		"\"device_00000000000000A2_refused\": 4",
	};
	static const char *const dropped[] = {
		"\"state\"", "\"pid\"", "\"mqtt_", "\"tls_cert_expires\"",
		"\"ports", "\"sandbox\"", "\"records_accepted\"",
		"\"spool_disk_bytes\"", "\"spool_backlog", "\"lost_",
		"\"airtime_region\"", "_limit_ms\"", "_challenge_used_ms\"",
		"_sent\"", "_since\"", "\"port__state\"", "\"devices",
		"A1_",
	};
	char *out;
	size_t i;

	(void)state;
	out = to_json(text, strlen(text), STATUS_JSON_HEALTH);
	for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strstr(out, kept[i]) == NULL)
			fail_msg("%s not in %s", kept[i], out);
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strstr(out, dropped[i]) != NULL)
			fail_msg("%s in %s", dropped[i], out);
	/* The devices come last. */
	assert_true(strstr(out, "\"port_lora0_error\"") <
	    strstr(out, "\"device_"));
	assert_int_equal(out[strlen(out) - 1], '}');
	free(out);
}

/* The five devices with the most refusals, most first (ties: as listed),
 * none with no refusal, each listed once, hostile names escaped. */
static void
test_json_health_top5(void **state)
{
	static const char text[] =
	    "gateway_id=gw\n"
	    DEV("0000000000000001", "one", 1, 1, 1)
	    DEV("0000000000000002", "two", 2, 2, 50)
	    DEV("0000000000000003", "none", 3, 3, 0)
	    DEV("0000000000000004", "four\"\\", 4, 4, 7)
	    DEV("0000000000000005", "five", 5, 5, 7)
	    DEV("0000000000000006", "six", 6, 6, 900)
	    DEV("0000000000000007", "seven", 7, 7, 2)
	    DEV("0000000000000008", "eight", 8, 8, 1)
	    "device_0000000000000006_refused=5\n"	/* twice: the first */
	    "device_0000000000000009_refused=x\n"
	    "updated=5\n";
	static const char *const order[] = {
		"\"device_0000000000000006_name\": \"six\"",
		"\"device_0000000000000002_name\": \"two\"",
		"\"device_0000000000000004_name\": \"four\\\"\\\\\"",
		"\"device_0000000000000005_name\": \"five\"",
		"\"device_0000000000000007_name\": \"seven\"",
	};
	const char *p, *q;
	char *out;
	size_t i;

	(void)state;
	out = to_json(text, strlen(text), STATUS_JSON_HEALTH);
	for (p = out, i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((q = strstr(out, order[i])) == NULL || q < p)
			fail_msg("%s missing or out of order in %s", order[i],
			    out);
		p = q;
	}
	assert_non_null(strstr(out, "\"device_0000000000000006_refused\": "
	    "900, \"device_0000000000000006_refused\": 5"));
	assert_non_null(strstr(out, "\"device_0000000000000004_records\": 4"));
	/* Ones (refused 1) lose to the first five; none has no refusal. */
	assert_null(strstr(out, "_0000000000000001_"));
	assert_null(strstr(out, "_0000000000000008_"));
	assert_null(strstr(out, "_0000000000000003_"));
	assert_null(strstr(out, "_0000000000000009_"));
	/* 5 devices x 4 keys, plus the 6th device's second line. */
	for (p = out, i = 0; (p = strstr(p, "\"device_")) != NULL; p++)
		i++;
	assert_int_equal(i, 5 * 4 + 1);
	assert_true(strstr(out, "\"updated\": 5") < strstr(out, "\"device_"));
	free(out);
}

static void
sec_radio_devices(void *arg, FILE *f)
{
	char eui[17];
	int i;

	(*(int *)arg)++;
	status_text3(f, STATUS_K_PORT_PREFIX, "lora0", STATUS_K_PORT_STATE,
	    "ready");
	status_text3(f, STATUS_K_PORT_PREFIX, "lora0", STATUS_K_PORT_ERROR,
	    "read: I/O error\x01");
	for (i = 0; i < 20; i++) {
		(void)snprintf(eui, sizeof(eui), "%016X", i);
		status_text3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_NAME, "node");
		status_i64_3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_REFUSED, i % 7);
	}
}

/* status_health: the file's text through the filter, in one buffer. */
static void
test_health_message(void **state)
{
	struct status_loop l;
	int calls = 0;
	const struct status_sections sec = {
		.uplink = sec_uplink,
		.outbox = sec_outbox,
		.radio = sec_radio_devices,
		.arg = &calls,
	};
	char *buf = NULL, *s, *json;
	size_t len = 0, n;

	(void)state;
	fill(&l);
	assert_int_equal(status_health(&l, &sec, &buf, &len), 0);
	assert_int_equal(calls, 3);
	assert_true(len > 0 && buf[0] == '{' && buf[len - 1] == '}');
	assert_null(memchr(buf, '\n', len));
	assert_non_null(json = s = strndup(buf, len));
	assert_non_null(strstr(s, "\"gateway_id\": \"farm-01\""));
	assert_non_null(strstr(s, "\"drop_serial_crc\": 9"));
	assert_non_null(strstr(s, "\"spool_oldest_age_s\": -1"));
	assert_non_null(strstr(s, "\"port_lora0_error\": \"read: I/O error "
	    "\""));
	assert_null(strstr(s, "\"pid\""));
	assert_null(strstr(s, "mqtt_state"));
	/* Refused 6 (EUIs 6, 13), then 5 (5, 12, 19). */
	assert_non_null(strstr(s, "\"device_0000000000000006_refused\": 6, "
	    "\"device_000000000000000D_name\""));
	assert_non_null(strstr(s, "\"device_0000000000000013_refused\": 5}"));
	for (n = 0, s = strstr(s, "_refused\""); s != NULL;
	    s = strstr(s + 1, "_refused\""))
		n++;
	assert_int_equal(n, 5);
	free(json);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_line, setup,
		    teardown),
		cmocka_unit_test(test_json_numbers_and_strings),
		cmocka_unit_test(test_json_hostile_strings),
		cmocka_unit_test(test_json_malformed_lines),
		cmocka_unit_test(test_json_health_keys),
		cmocka_unit_test(test_json_health_top5),
		cmocka_unit_test(test_health_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
