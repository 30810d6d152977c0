/*
 * cloud.c - what each cloud's MQTT broker documents as its limits, and
 * the check of a configuration against them (cloud.h).  The figures are
 * the providers' published quotas; a broker of our own ("generic") has
 * only the MQTT ones.
 *
 * AWS IoT Core ("AWS IoT Core message broker and protocol limits and
 * quotas"): a payload of at most 128 KB (131072 bytes), a topic name of at
 * most 256 bytes with at most 7 '/'; mutual TLS on port 443 only with the
 * ALPN protocol "x-amzn-mqtt-ca" (for firewalls that let only HTTPS out).
 *
 * Azure IoT Hub ("Communicate with an IoT hub using the MQTT protocol",
 * "IoT Hub quotas and throttling"): a device-to-cloud message of at most
 * 256 KB (262144 bytes), published to devices/{device_id}/messages/events/
 * (a property bag may follow), where the device id is the MQTT client id,
 * and a user name {hub}.azure-devices.net/{device_id}/?api-version=... is
 * required.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "daemon/batch.h"
#include "daemon/cloud.h"
#include "daemon/conf.h"
#include "daemon/topic.h"

#define CLOUD_AWS_PAYLOAD_MAX_BYTES	131072
#define CLOUD_AWS_TOPIC_MAX_BYTES	256
#define CLOUD_AWS_TOPIC_SLASHES_MAX	7
#define CLOUD_AWS_ALPN			"x-amzn-mqtt-ca"
#define CLOUD_AWS_HTTPS_PORT		443
#define CLOUD_AZURE_MESSAGE_MAX_BYTES	262144
#define CLOUD_AZURE_TOPIC_HEAD		"devices/"
#define CLOUD_AZURE_TOPIC_TAIL		"/messages/events/"
/* MQTT 3.1.1 section 1.5.3: a topic is at most 65535 bytes; ours are
 * bounded by TOPIC_MAX_BYTES anyway. */

static const struct {
	int		 cloud;
	const char	*name;
	const char	*host_suffix;
	int		 message_max;	/* bytes; 0: ours alone */
} cloud_table[] = {
	{ CONF_CLOUD_GENERIC, "generic", NULL, 0 },
	{ CONF_CLOUD_AWS, "AWS IoT Core", ".amazonaws.com",
	  CLOUD_AWS_PAYLOAD_MAX_BYTES },
	{ CONF_CLOUD_AZURE, "Azure IoT Hub", ".azure-devices.net",
	  CLOUD_AZURE_MESSAGE_MAX_BYTES },
};
#define CLOUD_COUNT	(sizeof(cloud_table) / sizeof(cloud_table[0]))

static int
cloud_suffix(const char *host, const char *suffix)
{
	size_t h = strlen(host), s = strlen(suffix);

	return h > s && strcasecmp(host + h - s, suffix) == 0;
}

int
cloud_of(const struct conf *c)
{
	size_t i;

	if (c->mqtt.cloud != CONF_CLOUD_AUTO)
		return c->mqtt.cloud;
	for (i = 0; i < CLOUD_COUNT; i++)
		if (cloud_table[i].host_suffix != NULL &&
		    cloud_suffix(c->mqtt.host, cloud_table[i].host_suffix))
			return cloud_table[i].cloud;
	return CONF_CLOUD_GENERIC;
}

const char *
cloud_name(int cloud)
{
	size_t i;

	for (i = 0; i < CLOUD_COUNT; i++)
		if (cloud_table[i].cloud == cloud)
			return cloud_table[i].name;
	return "unknown";
}

static int
cloud_message_max(int cloud)
{
	size_t i;

	for (i = 0; i < CLOUD_COUNT; i++)
		if (cloud_table[i].cloud == cloud)
			return cloud_table[i].message_max;
	return 0;
}

/* Whether list (comma-separated) holds name. */
static int
cloud_has_alpn(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

int
cloud_check(const char *conf_path, const struct conf *c, FILE *err)
{
	static const struct {
		const char	*key;
		size_t		 off;
		int		 stream;
	} topics[] = {
		{ "mqtt.topic_batch", offsetof(struct conf, mqtt.topic_batch),
		  1 },
		{ "mqtt.topic_backlog",
		  offsetof(struct conf, mqtt.topic_backlog), 1 },
		{ "mqtt.topic_status",
		  offsetof(struct conf, mqtt.topic_status), 0 },
		{ "mqtt.topic_health",
		  offsetof(struct conf, mqtt.topic_health), 0 },
	};
	char longest[BATCH_STREAM_MAX + 1], topic[TOPIC_MAX_BYTES + 1];
	char head[sizeof(CLOUD_AZURE_TOPIC_HEAD) + CONF_GATEWAY_ID_MAX +
	    sizeof(CLOUD_AZURE_TOPIC_TAIL)];
	const char *tmpl, *id, *name;
	size_t i, slashes;
	int cloud = cloud_of(c), bad = 0;
	const char *p;

	name = cloud_name(cloud);
	memset(longest, 'x', BATCH_STREAM_MAX);
	longest[BATCH_STREAM_MAX] = '\0';
	id = c->mqtt.client_id[0] != '\0' ? c->mqtt.client_id : c->gateway_id;
	(void)snprintf(head, sizeof(head), "%s%s%s", CLOUD_AZURE_TOPIC_HEAD,
	    id, CLOUD_AZURE_TOPIC_TAIL);
	if (cloud_message_max(cloud) > 0 &&
	    c->batch.max_bytes > cloud_message_max(cloud)) {
		fprintf(err, "%s: batch.max_bytes: %d is above %s's message "
		    "size limit of %d bytes\n", conf_path, c->batch.max_bytes,
		    name, cloud_message_max(cloud));
		bad++;
	}
	for (i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		tmpl = (const char *)c + topics[i].off;
		if (topic_expand(tmpl, c->mqtt.topic_prefix, c->gateway_id,
		    topics[i].stream ? longest : NULL, topic, sizeof(topic))
		    != 0) {
			fprintf(err, "%s: %s: \"%s\" gives a topic longer than "
			    "%d bytes%s\n", conf_path, topics[i].key, tmpl,
			    TOPIC_MAX_BYTES, topics[i].stream ? "" :
			    " (or uses {stream}, which it has not)");
			bad++;
			continue;
		}
		for (slashes = 0, p = topic; (p = strchr(p, '/')) != NULL; p++)
			slashes++;
		if (cloud == CONF_CLOUD_AWS &&
		    slashes > CLOUD_AWS_TOPIC_SLASHES_MAX) {
			fprintf(err, "%s: %s: \"%s\" has %zu '/', %s allows "
			    "%d\n", conf_path, topics[i].key, topic, slashes,
			    name, CLOUD_AWS_TOPIC_SLASHES_MAX);
			bad++;
		}
		if (cloud == CONF_CLOUD_AZURE &&
		    strncmp(topic, head, strlen(head)) != 0) {
			fprintf(err, "%s: %s: \"%s\" does not start with "
			    "\"%s\", the only topic %s accepts from this "
			    "client\n", conf_path, topics[i].key, topic, head,
			    name);
			bad++;
		}
	}
	if (cloud == CONF_CLOUD_AWS && c->mqtt.port == CLOUD_AWS_HTTPS_PORT &&
	    !cloud_has_alpn(c->mqtt.alpn, CLOUD_AWS_ALPN)) {
		fprintf(err, "%s: mqtt.alpn: %s takes MQTT on port %d only with "
		    "the ALPN protocol \"%s\"\n", conf_path, name,
		    CLOUD_AWS_HTTPS_PORT, CLOUD_AWS_ALPN);
		bad++;
	}
	if (cloud == CONF_CLOUD_AZURE && c->mqtt.username[0] == '\0') {
		fprintf(err, "%s: mqtt.username: %s needs one "
		    "(HUB.azure-devices.net/%s/?api-version=...)\n", conf_path,
		    name, id);
		bad++;
	}
	return bad;
}
