/*
 * cmdmsg.c - parses cloud commands and writes their results, with
 * libjansson (see cmdmsg.h; the format is docs/uplink-format.md,
 * "Commands").  Base64 is GnuTLS's decoder.
 *
 * Order of checks: size, JSON object, the id (so that later refusals can
 * name the command), then each field for type and range.  Unknown members
 * are ignored, so a cloud may add its own.
 */
#include <errno.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <jansson.h>

#include "daemon/cmdmsg.h"
#include "policy/registry.h"

#define CMDMSG_B64_MAX		(4 * ((CMDMSG_BODY_MAX + 2) / 3))

static int
cmdmsg_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CMDMSG_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* Strict base64 (RFC 4648 section 4, padded, no white space) into out. */
static int
cmdmsg_b64(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	gnutls_datum_t in, dec = { NULL, 0 };
	size_t i;
	int r = -EBADMSG;

	*len = 0;
	if (n == 0)
		return 0;
	if (n > CMDMSG_B64_MAX || n % 4 != 0)
		return -EBADMSG;
	for (i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=", s[i]) == NULL || s[i] == '\0' ||
		    (s[i] == '=' && i < n - 2))
			return -EBADMSG;
	in.data = (unsigned char *)(uintptr_t)s;
	in.size = (unsigned int)n;
	if (gnutls_base64_decode2(&in, &dec) != 0)
		goto out;
	if (dec.size > cap)
		goto out;
	memcpy(out, dec.data, dec.size);
	*len = dec.size;
	r = 0;
out:
	gnutls_free(dec.data);
	return r;
}

int
cmdmsg_parse(const void *buf, size_t len, struct cmdmsg *m, const char **why)
{
	json_t *root = NULL, *v;
	json_error_t err;
	const char *s;
	json_int_t k;
	int r = -EBADMSG;

	memset(m, 0, sizeof(*m));
	*why = "too long";
	if (len > CMDMSG_BYTES_MAX)
		return -EBADMSG;
	*why = "not JSON";
	/* Without JSON_ALLOW_NUL a \u0000 is refused: no id cut short. */
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL)
		return -EBADMSG;
	*why = "not a JSON object";
	if (!json_is_object(root))
		goto out;
	*why = "id missing, not a string, or not 1 to 64 printable characters";
	v = json_object_get(root, "id");
	if (!json_is_string(v) || !cmdmsg_id_ok(json_string_value(v),
	    json_string_length(v)))
		goto out;
	memcpy(m->id, json_string_value(v), json_string_length(v));
	*why = "device missing or not 16 hex digits";
	v = json_object_get(root, "device");
	if (!json_is_string(v) || json_string_length(v) != 16 ||
	    registry_parse_eui(json_string_value(v), &m->eui) != 0)
		goto out;
	*why = "kind missing or not an integer 0..255";
	v = json_object_get(root, "kind");
	if (!json_is_integer(v) || (k = json_integer_value(v)) < 0 || k > 255)
		goto out;
	m->kind = (uint8_t)k;
	*why = "expires missing or not a positive integer (Unix time)";
	v = json_object_get(root, "expires");
	if (!json_is_integer(v) || (k = json_integer_value(v)) <= 0)
		goto out;
	m->expires = (int64_t)k;
	*why = "body not base64 of at most 512 bytes";
	v = json_object_get(root, "body");
	if (v != NULL) {
		if (!json_is_string(v))
			goto out;
		s = json_string_value(v);
		if (cmdmsg_b64(s, json_string_length(v), m->body,
		    sizeof(m->body), &m->body_len) != 0)
			goto out;
	}
	*why = NULL;
	r = 0;
out:
	json_decref(root);
	return r;
}

int
cmdmsg_result(char *buf, size_t size, const struct cmdmsg_outcome *oc)
{
	json_t *o;
	char dev[17];
	size_t n;
	int r = -ENOMEM;

	if ((o = json_object()) == NULL)
		return -ENOMEM;
	if (json_object_set_new(o, "id", json_string(oc->id)) != 0)
		goto out;
	if (oc->eui != 0) {
		registry_format_eui(oc->eui, dev);
		if (json_object_set_new(o, "device", json_string(dev)) != 0)
			goto out;
	}
	if (json_object_set_new(o, "outcome", json_string(oc->outcome)) != 0)
		goto out;
	if (oc->reason != NULL &&
	    json_object_set_new(o, "reason", json_string(oc->reason)) != 0)
		goto out;
	if (oc->detail != NULL &&
	    json_object_set_new(o, "detail", json_string(oc->detail)) != 0)
		goto out;
	if (oc->status >= 0 && json_object_set_new(o, "status",
	    json_integer(oc->status)) != 0)
		goto out;
	if (json_object_set_new(o, "time", json_integer(oc->time)) != 0)
		goto out;
	r = -ENOBUFS;
	n = json_dumpb(o, buf, size, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0 || n >= size)
		goto out;
	buf[n] = '\0';
	r = (int)n;
out:
	json_decref(o);
	return r;
}
