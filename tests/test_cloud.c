/*
 * test_cloud.c - topic templates (daemon/topic.c), the new mqtt keys in
 * the configuration, and --check's cloud limits (daemon/cloud.c): every
 * documented limit refuses the configuration that breaks it, and only
 * that one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/cloud.h"
#include "daemon/conf.h"
#include "daemon/topic.h"

static char	err[CONF_ERR_MAX];

/* A configuration with the given host, port, max_bytes and extra mqtt
 * lines; returns conf_load_string's result. */
static int
load(struct conf *c, const char *host, int port, int max_bytes,
    const char *mqtt_extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
	    "gateway_id = \"farm-01\";\nstate_dir = \"/s\";\n"
	    "registry = \"/r\";\nkeys = \"/k\";\nconcentrators = ({ name = "
	    "\"l0\"; path = \"/dev/ttyUSB0\"; });\n"
	    "mqtt = {\n host = \"%s\";\n port = %d;\n ca = \"/ca\";\n"
	    " cert = \"/c\";\n key = \"/k\";\n%s\n};\n"
	    "batch = { max_bytes = %d; };\n", host, port, mqtt_extra,
	    max_bytes);
	return conf_load_string(text, "t.conf", "/", c, err, sizeof(err));
}

/* cloud_check's problem count and its output in out. */
static int
check(const struct conf *c, char *out, size_t size)
{
	FILE *f = fmemopen(out, size, "w");
	int n;

	assert_non_null(f);
	n = cloud_check("t.conf", c, f);
	fclose(f);
	return n;
}

static void
test_topic_expand(void **state)
{
	char t[TOPIC_MAX_BYTES + 1], big[300];
	const char *why;

	(void)state;
	assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb", "gw", "cattle",
	    t, sizeof(t)), 0);
	assert_string_equal(t, "fb/gw/cattle");
	assert_int_equal(topic_expand("devices/{gateway}/messages/events/"
	    "stream={stream}&x={", "fb", "gw", "w", t, sizeof(t)), 0);
	assert_string_equal(t, "devices/gw/messages/events/stream=w&x={");
	assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb", "gw", NULL,
	    t, sizeof(t)), -EINVAL);
	assert_int_equal(topic_expand("{prefix}", "abcdef", "g", NULL, t, 6),
	    -ENAMETOOLONG);
	assert_int_equal(topic_expand("{prefix}", "abcde", "g", NULL, t, 6),
	    0);
	memset(big, 'a', 270);
	big[270] = '\0';
	assert_int_equal(topic_expand("{prefix}", big, "g", NULL, t,
	    sizeof(t)), -ENAMETOOLONG);
	assert_int_equal(topic_template_check(TOPIC_DEFAULT_BACKLOG, &why), 0);
	assert_int_equal(topic_template_check("a/{strem}", &why), -EINVAL);
	assert_int_equal(topic_template_check("a/+/b", &why), -EINVAL);
	assert_int_equal(topic_template_check("a/#", &why), -EINVAL);
	assert_int_equal(topic_template_check("$SYS/x", &why), -EINVAL);
	assert_int_equal(topic_template_check("a}", &why), -EINVAL);
	assert_int_equal(topic_template_check("", &why), -EINVAL);
}

/* No stream or gateway name steers a publish out of its place. */
static void
test_topic_hostile_names(void **state)
{
	static const char *const bad[] = { "a/b", "../x", "x/..", "/", "+",
	    "#", "a+b", "a#", "$SYS", "", NULL };
	char t[TOPIC_MAX_BYTES + 1];
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		strcpy(t, "untouched");
		assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb", "gw",
		    bad[i], t, sizeof(t)), -EINVAL);
		assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb", bad[i],
		    "s", t, sizeof(t)), -EINVAL);
	}
	/* One level, however odd, stays one level. */
	assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb/site", "gw",
	    "..", t, sizeof(t)), 0);
	assert_string_equal(t, "fb/site/gw/..");
	assert_int_equal(topic_expand(TOPIC_DEFAULT_BATCH, "fb", "gw", "a$b",
	    t, sizeof(t)), 0);
}

static void
test_conf_keys(void **state)
{
	struct conf c;

	(void)state;
	if (load(&c, "h", 8883, 4900, "") != 0)
		fail_msg("%s", err);
	assert_string_equal(c.mqtt.username, "");
	assert_string_equal(c.mqtt.alpn, "");
	assert_string_equal(c.mqtt.topic_batch, TOPIC_DEFAULT_BATCH);
	assert_string_equal(c.mqtt.topic_status, TOPIC_DEFAULT_STATUS);
	assert_string_equal(c.mqtt.topic_health, TOPIC_DEFAULT_HEALTH);
	assert_int_equal(c.mqtt.cloud, CONF_CLOUD_AUTO);
	assert_int_equal(c.batch.encoding, 0);
	assert_int_equal(load(&c, "h", 8883, 4900, "alpn = \"a,b\"; "
	    "username = \"u\"; cloud = \"aws\";"), 0);
	assert_string_equal(c.mqtt.alpn, "a,b");
	assert_int_equal(c.mqtt.cloud, CONF_CLOUD_AWS);
	assert_int_equal(load(&c, "h", 8883, 4900, "alpn = \"a,\";"), -EINVAL);
	assert_non_null(strstr(err, "mqtt.alpn"));
	assert_int_equal(load(&c, "h", 8883, 4900, "alpn = \"a b\";"),
	    -EINVAL);
	assert_int_equal(load(&c, "h", 8883, 4900, "alpn = \",a\";"), -EINVAL);
	assert_int_equal(load(&c, "h", 8883, 4900,
	    "topic_batch = \"x/{nope}\";"), -EINVAL);
	assert_non_null(strstr(err, "t.conf:"));
	assert_non_null(strstr(err, "unknown placeholder"));
	assert_int_equal(load(&c, "h", 8883, 262145, ""), -EINVAL);
}

static void
test_cloud_limits(void **state)
{
	static const char azure_ok[] = "username = \"hub.azure-devices.net/"
	    "farm-01/?api-version=2021-04-12\";\n"
	    "topic_batch = \"devices/{gateway}/messages/events/s={stream}\";\n"
	    "topic_backlog = \"devices/{gateway}/messages/events/b={stream}\";\n"
	    "topic_status = \"devices/{gateway}/messages/events/k=status\";\n"
	    "topic_health = \"devices/{gateway}/messages/events/k=health\";";
	const char *aws = "abc-ats.iot.eu-west-1.amazonaws.com";
	const char *az = "hub.azure-devices.net";
	char out[4096];
	struct conf c;

	(void)state;
	/* A broker of our own: only our own bounds. */
	assert_int_equal(load(&c, "mqtt.example.net", 8883, 262144, ""), 0);
	assert_int_equal(cloud_of(&c), CONF_CLOUD_GENERIC);
	assert_int_equal(check(&c, out, sizeof(out)), 0);

	/* AWS: 128 KiB, found from the host name. */
	assert_int_equal(load(&c, aws, 8883, 131072, ""), 0);
	assert_int_equal(cloud_of(&c), CONF_CLOUD_AWS);
	assert_int_equal(check(&c, out, sizeof(out)), 0);
	assert_int_equal(load(&c, aws, 8883, 131073, ""), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "batch.max_bytes: 131073 is above AWS "
	    "IoT Core's message size limit of 131072 bytes"));
	/* ... or named, whatever the host. */
	assert_int_equal(load(&c, "iot.example.net", 8883, 200000,
	    "cloud = \"aws\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	/* Port 443 needs the ALPN protocol. */
	assert_int_equal(load(&c, aws, 443, 4900, ""), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "x-amzn-mqtt-ca"));
	assert_int_equal(load(&c, aws, 443, 4900,
	    "alpn = \"mqtt,x-amzn-mqtt-ca\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 0);
	assert_int_equal(load(&c, aws, 443, 4900, "alpn = \"x-amzn-mqtt\";"),
	    0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	/* At most 7 '/' in a topic. */
	assert_int_equal(load(&c, aws, 8883, 4900,
	    "topic_batch = \"a/b/c/d/e/f/g/{stream}\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 0);
	assert_int_equal(load(&c, aws, 8883, 4900,
	    "topic_batch = \"a/b/c/d/e/f/g/h/{stream}\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "mqtt.topic_batch"));

	/* Azure: 256 KiB, its topic, a user name. */
	assert_int_equal(load(&c, az, 8883, 262144, azure_ok), 0);
	assert_int_equal(cloud_of(&c), CONF_CLOUD_AZURE);
	assert_int_equal(check(&c, out, sizeof(out)), 0);
	assert_int_equal(load(&c, az, 8883, 4900, ""), 0);
	/* Four default topics and no user name. */
	assert_int_equal(check(&c, out, sizeof(out)), 5);
	assert_non_null(strstr(out, "mqtt.topic_health: \"fieldbridge/farm-01/"
	    "health\" does not start with"));
	assert_non_null(strstr(out, "devices/farm-01/messages/events/"));
	assert_non_null(strstr(out, "mqtt.username"));
	/* The status template may not use {stream}. */
	assert_int_equal(load(&c, "h", 8883, 4900,
	    "topic_status = \"{stream}/status\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	/* Nor the health template; nor is it longer than AWS allows. */
	assert_int_equal(load(&c, "h", 8883, 4900,
	    "topic_health = \"{stream}/health\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "mqtt.topic_health"));
	assert_int_equal(load(&c, aws, 8883, 4900,
	    "topic_health = \"a/b/c/d/e/f/g/h/health\";"), 0);
	assert_int_equal(check(&c, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "mqtt.topic_health"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topic_expand),
		cmocka_unit_test(test_topic_hostile_names),
		cmocka_unit_test(test_conf_keys),
		cmocka_unit_test(test_cloud_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
