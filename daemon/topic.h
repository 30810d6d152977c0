/*
 * topic.h - the MQTT topics of batches, backlog, status and health, from
 * templates (mqtt.topic_batch, mqtt.topic_backlog, mqtt.topic_status,
 * mqtt.topic_health), so
 * a fleet can publish where its cloud wants: PREFIX/GATEWAY/STREAM by
 * default, devices/GATEWAY/messages/events/... for Azure IoT Hub.
 *
 * Data flow: conf.c checks each template (topic_template_check); uplink.c
 * expands them (topic_expand) at start and per publish.
 *
 * A template is text with placeholders {prefix} (mqtt.topic_prefix),
 * {gateway} (gateway_id) and {stream} (the batch's stream, "events" for
 * gap events).  No wildcards ('+', '#'), no '{' or '}' outside a
 * placeholder, no NUL, and it does not start with '$' (topics the broker
 * keeps for itself).
 */
#ifndef FB_TOPIC_H
#define FB_TOPIC_H

#include <stddef.h>

/* Longest template, and longest expanded topic: AWS IoT Core's bound on a
 * topic name (256 bytes) is the tightest of the clouds we know. */
#define TOPIC_TEMPLATE_MAX	255
#define TOPIC_MAX_BYTES		256

#define TOPIC_DEFAULT_BATCH	"{prefix}/{gateway}/{stream}"
#define TOPIC_DEFAULT_BACKLOG	"{prefix}/{gateway}/{stream}/backlog"
#define TOPIC_DEFAULT_STATUS	"{prefix}/{gateway}/status"
/* Commands from the cloud and their outcomes (daemon/commands.c): fixed
 * templates, not configured. */
#define TOPIC_COMMANDS		"{prefix}/{gateway}/commands"
#define TOPIC_COMMAND_RESULTS	"{prefix}/{gateway}/command-results"
#define TOPIC_DEFAULT_HEALTH	"{prefix}/{gateway}/health"

/* 0, or -EINVAL with the reason in *why. */
int	topic_template_check(const char *tmpl, const char **why);
/*
 * Expands tmpl into out (size bytes, NUL-terminated); stream may be NULL
 * when tmpl has no {stream}.  0, -ENAMETOOLONG (over size - 1 or
 * TOPIC_MAX_BYTES), -EINVAL (a placeholder without a value, or a gateway
 * or stream that is not one topic level: empty, with '/', '+' or '#', or
 * starting with '$'; so no name steers a publish out of its place).
 */
int	topic_expand(const char *tmpl, const char *prefix, const char *gateway,
	    const char *stream, char *out, size_t size);

#endif
