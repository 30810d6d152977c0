/*
 * rules.c - rules per device and per class (rules.h): their settings as
 * libconfig hands them over, inheritance from the class, and the check of
 * every authenticated record before it reaches the batcher.
 *
 * The settings, in a class entry of the registry's `classes` list or in a
 * device entry:
 *
 *   streams = [ "cattle", "sheep" ];   streams the device may feed
 *   kinds = [ 1, 2, 0x10 ];            payload[0] values it may send,
 *   kinds = "any";                     or any (also an empty payload)
 *   max_payload = 48;                  bytes, 0..LINK_PAYLOAD_MAX
 *   rate_per_min = 60; rate_burst = 10;  a token bucket (policy/rate.c)
 *   commands = ( { kind = 1; max_size = 16; }, ... );  may be sent to it
 *
 * A device's record is checked in this order: a rule at all, the stream,
 * the kind, the size, then the bucket, so that a refused record never
 * spends a token of the device's legitimate ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radio/link.h"
#include "policy/rules.h"

struct rules_dev {
	struct rate_bucket	bucket;
	uint64_t		refused;
};

struct rules {
	const struct registry	*reg;
	struct rules_dev	*dev;
};

static int
rules_int(const config_setting_t *e, const char *key, long long lo,
    long long hi, long long *v, const config_setting_t **where, char *msg,
    size_t msglen)
{
	int t = config_setting_type(e);

	*where = e;
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		snprintf(msg, msglen, "'%s' must be an integer", key);
		return -EINVAL;
	}
	*v = config_setting_get_int64(e);
	if (*v < lo || *v > hi) {
		snprintf(msg, msglen, "'%s' %lld out of range (%lld..%lld)", key,
		    *v, lo, hi);
		return -EINVAL;
	}
	return 0;
}

static int
rules_is_list(const config_setting_t *e)
{
	return config_setting_type(e) == CONFIG_TYPE_ARRAY ||
	    config_setting_type(e) == CONFIG_TYPE_LIST;
}

static int
rules_parse_streams(struct rules_set *set, const config_setting_t *e,
    rules_alloc_fn *alloc, void *arg, const config_setting_t **where,
    char *msg, size_t msglen)
{
	int i, j, n = config_setting_length(e);
	const char **v;
	const char *s;
	char *copy;

	*where = e;
	if (!rules_is_list(e)) {
		snprintf(msg, msglen, "'streams' must be a list of stream "
		    "names: [ \"cattle\", ... ]");
		return -EINVAL;
	}
	if (n > RULES_STREAMS_MAX) {
		snprintf(msg, msglen, "'streams' lists more than %d streams",
		    RULES_STREAMS_MAX);
		return -EINVAL;
	}
	if ((v = alloc(arg, (size_t)(n > 0 ? n : 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const config_setting_t *x = config_setting_get_elem(e,
		    (unsigned)i);

		*where = x;
		if (config_setting_type(x) != CONFIG_TYPE_STRING) {
			snprintf(msg, msglen, "'streams' must be a list of "
			    "stream names: [ \"cattle\", ... ]");
			return -EINVAL;
		}
		s = config_setting_get_string(x);
		if (!registry_stream_valid(s)) {
			snprintf(msg, msglen, "bad stream \"%.70s\" in "
			    "'streams': 1 to %d of A-Z a-z 0-9 _ . -", s,
			    REGISTRY_STREAM_MAX);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (strcmp(v[j], s) == 0) {
				snprintf(msg, msglen, "stream \"%s\" twice in "
				    "'streams'", s);
				return -EINVAL;
			}
		if ((copy = alloc(arg, strlen(s) + 1)) == NULL)
			return -ENOMEM;
		memcpy(copy, s, strlen(s) + 1);
		v[i] = copy;
	}
	set->streams = v;
	set->nstreams = (uint16_t)n;
	return 0;
}

static int
rules_parse_kinds(struct rules_set *set, const config_setting_t *e,
    const config_setting_t **where, char *msg, size_t msglen)
{
	static const char usage[] = "'kinds' must be \"any\" or a list of "
	    "kinds (0..255): [ 1, 2 ]";
	int i, n, r;
	long long k;

	*where = e;
	memset(set->kinds, 0, sizeof(set->kinds));
	set->kinds_any = 0;
	if (config_setting_type(e) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(e), "any") != 0) {
			snprintf(msg, msglen, "%s", usage);
			return -EINVAL;
		}
		set->kinds_any = 1;
		memset(set->kinds, 0xff, sizeof(set->kinds));
		return 0;
	}
	if (!rules_is_list(e)) {
		snprintf(msg, msglen, "%s", usage);
		return -EINVAL;
	}
	n = config_setting_length(e);
	for (i = 0; i < n; i++) {
		const config_setting_t *x = config_setting_get_elem(e,
		    (unsigned)i);

		if (config_setting_type(x) == CONFIG_TYPE_STRING &&
		    strcmp(config_setting_get_string(x), "any") == 0) {
			set->kinds_any = 1;
			memset(set->kinds, 0xff, sizeof(set->kinds));
			continue;
		}
		if (config_setting_type(x) == CONFIG_TYPE_STRING) {
			*where = x;
			snprintf(msg, msglen, "%s", usage);
			return -EINVAL;
		}
		if ((r = rules_int(x, "kinds", 0, RULES_KINDS - 1, &k, where,
		    msg, msglen)) != 0)
			return r;
		set->kinds[k / 64] |= UINT64_C(1) << (k % 64);
	}
	return 0;
}

static int
rules_cmd_cmp(const void *a, const void *b)
{
	const struct rules_cmd *x = a, *y = b;

	return (int)x->kind - (int)y->kind;
}

static int
rules_parse_commands(struct rules_set *set, const config_setting_t *e,
    rules_alloc_fn *alloc, void *arg, const config_setting_t **where,
    char *msg, size_t msglen)
{
	struct rules_cmd *v;
	int i, j, n = config_setting_length(e), r, m;
	long long kind, size;

	*where = e;
	if (!rules_is_list(e)) {
		snprintf(msg, msglen, "'commands' must be a list: ( { kind = "
		    "1; max_size = 16; }, ... )");
		return -EINVAL;
	}
	if (n > RULES_KINDS) {
		snprintf(msg, msglen, "'commands' has more than %d entries",
		    RULES_KINDS);
		return -EINVAL;
	}
	if ((v = alloc(arg, (size_t)(n > 0 ? n : 1) * sizeof(*v))) == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(e,
		    (unsigned)i);
		int have = 0;

		*where = g;
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			snprintf(msg, msglen, "an entry of 'commands' must be "
			    "{ kind = 1; max_size = 16; }");
			return -EINVAL;
		}
		kind = size = 0;
		m = config_setting_length(g);
		for (j = 0; j < m; j++) {
			const config_setting_t *x = config_setting_get_elem(g,
			    (unsigned)j);
			const char *key = config_setting_name(x);

			if (key != NULL && strcmp(key, "kind") == 0) {
				if ((r = rules_int(x, "kind", 0, RULES_KINDS - 1,
				    &kind, where, msg, msglen)) != 0)
					return r;
				have |= 1;
			} else if (key != NULL && strcmp(key, "max_size") == 0) {
				if ((r = rules_int(x, "max_size", 0,
				    LINK_PAYLOAD_MAX, &size, where, msg,
				    msglen)) != 0)
					return r;
				have |= 2;
			} else {
				*where = x;
				snprintf(msg, msglen, "unknown setting '%s' in "
				    "a command (known: kind, max_size)",
				    key != NULL ? key : "");
				return -EINVAL;
			}
		}
		if (have != 3) {
			*where = g;
			snprintf(msg, msglen, "a command needs both 'kind' and "
			    "'max_size'");
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (v[j].kind == kind) {
				snprintf(msg, msglen, "command kind %lld twice "
				    "in 'commands'", kind);
				return -EINVAL;
			}
		v[i].kind = (uint8_t)kind;
		v[i].max_size = (uint16_t)size;
	}
	qsort(v, (size_t)n, sizeof(*v), rules_cmd_cmp);
	set->cmds = v;
	set->ncmds = (uint16_t)n;
	return 0;
}

int
rules_parse_setting(struct rules_set *set, const config_setting_t *e,
    rules_alloc_fn *alloc, void *arg, const config_setting_t **where,
    char *msg, size_t msglen)
{
	const char *key = config_setting_name(e);
	long long v;
	int r;

	*where = e;
	if (key == NULL)
		return 1;
	if (strcmp(key, "streams") == 0) {
		r = rules_parse_streams(set, e, alloc, arg, where, msg,
		    msglen);
		set->have |= RULES_HAVE_STREAMS;
	} else if (strcmp(key, "kinds") == 0) {
		r = rules_parse_kinds(set, e, where, msg, msglen);
		set->have |= RULES_HAVE_KINDS;
	} else if (strcmp(key, "max_payload") == 0) {
		r = rules_int(e, key, 0, LINK_PAYLOAD_MAX, &v, where, msg,
		    msglen);
		set->max_payload = (uint16_t)v;
		set->have |= RULES_HAVE_MAX_PAYLOAD;
	} else if (strcmp(key, "rate_per_min") == 0) {
		r = rules_int(e, key, 0, RULES_RATE_PER_MIN_MAX, &v, where,
		    msg, msglen);
		set->rate.per_min = (uint32_t)v;
		set->have |= RULES_HAVE_RATE_PER_MIN;
	} else if (strcmp(key, "rate_burst") == 0) {
		r = rules_int(e, key, 1, RULES_RATE_BURST_MAX, &v, where, msg,
		    msglen);
		set->rate.burst = (uint32_t)v;
		set->have |= RULES_HAVE_RATE_BURST;
	} else if (strcmp(key, "commands") == 0) {
		r = rules_parse_commands(set, e, alloc, arg, where, msg,
		    msglen);
		set->have |= RULES_HAVE_COMMANDS;
	} else
		return 1;
	return r;
}

void
rules_inherit(struct rules_set *set, const struct rules_set *cls)
{
	uint8_t from = cls != NULL ? (uint8_t)(cls->have & ~set->have) : 0;

	if (from & RULES_HAVE_STREAMS) {
		set->streams = cls->streams;
		set->nstreams = cls->nstreams;
	}
	if (from & RULES_HAVE_KINDS) {
		memcpy(set->kinds, cls->kinds, sizeof(set->kinds));
		set->kinds_any = cls->kinds_any;
	}
	if (from & RULES_HAVE_MAX_PAYLOAD)
		set->max_payload = cls->max_payload;
	if (from & RULES_HAVE_RATE_PER_MIN)
		set->rate.per_min = cls->rate.per_min;
	if (from & RULES_HAVE_RATE_BURST)
		set->rate.burst = cls->rate.burst;
	if (from & RULES_HAVE_COMMANDS) {
		set->cmds = cls->cmds;
		set->ncmds = cls->ncmds;
	}
	set->have |= from;
	/* Given by neither: kinds and commands stay empty (denied). */
	if (!(set->have & RULES_HAVE_MAX_PAYLOAD))
		set->max_payload = LINK_PAYLOAD_MAX;
}

void
rules_allow_all(struct rules_set *set)
{
	memset(set->kinds, 0xff, sizeof(set->kinds));
	set->kinds_any = 1;
	set->max_payload = LINK_PAYLOAD_MAX;
	set->have = RULES_HAVE_KINDS | RULES_HAVE_MAX_PAYLOAD;
	set->defined = 1;
}

int
rules_stream_allowed(const struct rules_set *set, const char *stream)
{
	size_t i;

	if (!(set->have & RULES_HAVE_STREAMS))
		return 1;
	for (i = 0; i < set->nstreams; i++)
		if (strcmp(set->streams[i], stream) == 0)
			return 1;
	return 0;
}

int
rules_command_allowed(const struct device *dev, unsigned int kind,
    size_t size)
{
	const struct rules_set *set = dev->rules;
	size_t lo = 0, hi, mid;

	if (set == NULL || kind >= RULES_KINDS)
		return -EPERM;
	hi = set->ncmds;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (set->cmds[mid].kind == kind)
			return size <= set->cmds[mid].max_size ? 0 : -EMSGSIZE;
		if (set->cmds[mid].kind < kind)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -EPERM;
}

struct rules *
rules_new(const struct registry *reg, uint64_t now_ms)
{
	struct rules *r;
	const struct device *d;
	size_t i, n = registry_count(reg);

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->dev = calloc(n > 0 ? n : 1, sizeof(*r->dev))) == NULL) {
		free(r);
		return NULL;
	}
	r->reg = reg;
	for (i = 0; i < n; i++) {
		d = registry_at(reg, i);
		if (d->rules != NULL)
			rate_init(&r->dev[i].bucket, &d->rules->rate, now_ms);
	}
	return r;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	free(r->dev);
	free(r);
}

void
rules_carry(struct rules *r, const struct rules *old)
{
	const struct device *d, *od;
	size_t i, n = registry_count(r->reg);

	for (i = 0; i < n; i++) {
		d = registry_at(r->reg, i);
		if ((od = registry_find(old->reg, d->eui)) == NULL)
			continue;
		/* A bucket above a new, smaller cap is cut on its next
		 * take (rate_take). */
		r->dev[i] = old->dev[registry_index(old->reg, od)];
	}
}

int
rules_check(struct rules *r, const struct device *dev,
    const uint8_t *payload, size_t len, uint64_t now_ms)
{
	const struct rules_set *set = dev->rules;
	struct rules_dev *rd = &r->dev[registry_index(r->reg, dev)];
	int v;

	if (set == NULL)
		v = RULES_DROP_NONE;
	else if (!dev->rules_stream_ok)
		v = RULES_DROP_STREAM;
	else if (!set->kinds_any && (len == 0 ||
	    !(set->kinds[payload[0] / 64] >> (payload[0] % 64) & 1)))
		v = RULES_DROP_KIND;
	else if (len > set->max_payload)
		v = RULES_DROP_SIZE;
	else if (rate_take(&rd->bucket, &set->rate, now_ms) != 0)
		v = RULES_DROP_RATE;
	else
		return RULES_OK;
	rd->refused++;
	return v;
}

uint64_t
rules_refused(const struct rules *r, const struct device *dev)
{
	return r->dev[registry_index(r->reg, dev)].refused;
}

const char *
rules_strverdict(int verdict)
{
	switch (verdict) {
	case RULES_OK:
		return "ok";
	case RULES_DROP_NONE:
		return "rule_none";
	case RULES_DROP_STREAM:
		return "rule_stream";
	case RULES_DROP_KIND:
		return "rule_kind";
	case RULES_DROP_SIZE:
		return "rule_size";
	case RULES_DROP_RATE:
		return "rule_rate";
	}
	return "rule_other";
}
