/*
 * topic.c - expands the topic templates of topic.h.  Called at every
 * publish, so it is a plain scan with no allocation.
 */
#include <errno.h>
#include <string.h>

#include "daemon/topic.h"

static const char *const topic_names[] = { "prefix", "gateway", "stream" };
#define TOPIC_NAMES	(sizeof(topic_names) / sizeof(topic_names[0]))

/* The placeholder at p ("{name}"): its index, or -1; *len its length. */
static int
topic_placeholder(const char *p, size_t *len)
{
	size_t i, n;

	for (i = 0; i < TOPIC_NAMES; i++) {
		n = strlen(topic_names[i]);
		if (strncmp(p + 1, topic_names[i], n) == 0 && p[n + 1] == '}') {
			*len = n + 2;
			return (int)i;
		}
	}
	return -1;
}

int
topic_template_check(const char *tmpl, const char **why)
{
	const char *p;
	size_t len;

	if (tmpl[0] == '\0') {
		*why = "is empty";
		return -EINVAL;
	}
	if (strlen(tmpl) > TOPIC_TEMPLATE_MAX) {
		*why = "is too long";
		return -EINVAL;
	}
	if (tmpl[0] == '$') {
		*why = "starts with '$' (topics the broker keeps for itself)";
		return -EINVAL;
	}
	if (strpbrk(tmpl, "+#") != NULL) {
		*why = "holds a wildcard ('+' or '#')";
		return -EINVAL;
	}
	for (p = tmpl; *p != '\0'; p++) {
		if (*p == '}') {
			*why = "holds a '}' outside a placeholder";
			return -EINVAL;
		}
		if (*p != '{')
			continue;
		if (topic_placeholder(p, &len) < 0) {
			*why = "holds an unknown placeholder (known: {prefix}, "
			    "{gateway}, {stream})";
			return -EINVAL;
		}
		p += len - 1;
	}
	return 0;
}

/* A value that stays one topic level: not empty, no '/', no wildcard,
 * not a broker's own ('$').  The registry and the config check theirs
 * already; this is the last word before a publish. */
static int
topic_level_ok(const char *v)
{
	return v[0] != '\0' && v[0] != '$' && strpbrk(v, "/+#") == NULL;
}

int
topic_expand(const char *tmpl, const char *prefix, const char *gateway,
    const char *stream, char *out, size_t size)
{
	const char *vals[TOPIC_NAMES] = { prefix, gateway, stream };
	const char *p, *v;
	size_t used = 0, n, len;
	int k;

	if (size == 0)
		return -ENAMETOOLONG;
	if (size > TOPIC_MAX_BYTES + 1)
		size = TOPIC_MAX_BYTES + 1;
	for (p = tmpl; *p != '\0'; p++) {
		v = p;
		n = 1;
		if (*p == '{' && (k = topic_placeholder(p, &len)) >= 0) {
			if ((v = vals[k]) == NULL ||
			    (k != 0 && !topic_level_ok(v)))
				return -EINVAL;
			n = strlen(v);
			p += len - 1;
		}
		if (n >= size - used)
			return -ENAMETOOLONG;
		memcpy(out + used, v, n);
		used += n;
	}
	out[used] = '\0';
	return 0;
}
