/*
 * regedit.c - the registry and keys files edited as text (regedit.h).
 *
 * The scanner follows registry.c's reading of the files: one top-level
 * `NAME = ( { ... }, ... );`, comments (#, //, block) and strings (with
 * backslash escapes) skipped, so that a brace or an id inside a comment
 * is never taken for an entry.  Parentheses inside an entry (a device's
 * own `commands` list) belong to the entry; the list ends at the first
 * ')' outside one, so a `classes` list after it is never touched.  Inside an entry (brace depth 1) the
 * setting `id = "<16 hex digits>"` names the device.  Everything is
 * bounded by len; the text need not be NUL-terminated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/regedit.h"
#include "policy/registry.h"

/* Skips a comment or string starting at i; returns the index after it,
 * i itself when there is none, or len + 1 when it is not terminated. */
static size_t
regedit_skip(const char *t, size_t len, size_t i)
{
	size_t j;

	if (t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/')) {
		for (j = i; j < len && t[j] != '\n'; j++)
			;
		return j;
	}
	if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
		for (j = i + 2; j + 1 < len; j++)
			if (t[j] == '*' && t[j + 1] == '/')
				return j + 2;
		return len + 1;
	}
	if (t[i] == '"') {
		for (j = i + 1; j < len; j++) {
			if (t[j] == '\\')
				j++;
			else if (t[j] == '"')
				return j + 1;
		}
		return len + 1;
	}
	return i;
}

/* At i (after an identifier "id"): `= "EUI"` or `: "EUI"`; the EUI. */
static int
regedit_id_value(const char *t, size_t len, size_t i, uint64_t *eui)
{
	char buf[17];

	while (i < len && isspace((unsigned char)t[i]))
		i++;
	if (i >= len || (t[i] != '=' && t[i] != ':'))
		return -EINVAL;
	for (i++; i < len && isspace((unsigned char)t[i]); i++)
		;
	if (len - i < 18 || t[i] != '"' || t[i + 17] != '"')
		return -EINVAL;
	memcpy(buf, t + i + 1, 16);
	buf[16] = '\0';
	return registry_parse_eui(buf, eui);
}

int
regedit_find(const char *t, size_t len, uint64_t eui, struct regedit_pos *p)
{
	size_t i = 0, n, start = 0;
	int paren = 0, brace = 0, opened = 0, is_it = 0;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	while (i < len) {
		if ((n = regedit_skip(t, len, i)) != i) {
			if (n > len)
				return -EINVAL;
			i = n;
			continue;
		}
		switch (t[i]) {
		case '(':
			/* Inside an entry: a device's `commands` list. */
			if (brace != 0)
				break;
			if (opened)
				return -EINVAL;
			paren = opened = 1;
			p->tail = i + 1;
			break;
		case ')':
			if (brace != 0)
				break;
			if (paren != 1)
				return -EINVAL;
			paren = 0;
			p->close = i;
			return opened ? 0 : -EINVAL;
		case '{':
			if (paren != 1)
				return -EINVAL;
			if (brace++ == 0) {
				start = i;
				is_it = 0;
			}
			break;
		case '}':
			if (brace == 0)
				return -EINVAL;
			if (--brace == 0) {
				p->nentries++;
				p->tail = i + 1;
				if (is_it && !p->found) {
					p->found = 1;
					p->start = start;
					p->end = i + 1;
				}
			}
			break;
		default:
			/* "id" as a whole word at the entry's own level. */
			if (brace == 1 && t[i] == 'i' && i + 1 < len &&
			    t[i + 1] == 'd' && (i == 0 ||
			    !(isalnum((unsigned char)t[i - 1]) ||
			    t[i - 1] == '_')) && regedit_id_value(t, len,
			    i + 2, &v) == 0 && v == eui)
				is_it = 1;
		}
		i++;
	}
	return -EINVAL;
}

int
regedit_apply(const char *t, size_t len, const struct regedit_pos *p,
    const char *entry, char **out, size_t *outlen)
{
	size_t a, b, elen = entry != NULL ? strlen(entry) : 0, n;
	const char *pre = "", *post = "";
	char *s;

	*out = NULL;
	*outlen = 0;
	if (p->found) {
		a = p->start;
		b = p->end;
		if (entry == NULL) {
			/* The separating comma: after it, else before it. */
			n = b;
			while (n < len && isspace((unsigned char)t[n]))
				n++;
			if (n < len && t[n] == ',')
				b = n + 1;
			else {
				n = a;
				while (n > 0 && isspace((unsigned char)t[n - 1]))
					n--;
				if (n > 0 && t[n - 1] == ',')
					a = n - 1;
			}
		}
	} else {
		if (entry == NULL)
			return -ENOENT;
		/* Right after the last entry (or the '('): a comment that
		 * follows it stays after the new one. */
		a = b = p->tail;
		pre = p->nentries > 0 ? ",\n  " : "\n  ";
		post = p->nentries > 0 ? "" : "\n";
	}
	n = a + strlen(pre) + elen + strlen(post) + (len - b);
	if ((s = malloc(n + 1)) == NULL)
		return -ENOMEM;
	memcpy(s, t, a);
	memcpy(s + a, pre, strlen(pre));
	memcpy(s + a + strlen(pre), entry != NULL ? entry : "", elen);
	memcpy(s + a + strlen(pre) + elen, post, strlen(post));
	memcpy(s + n - (len - b), t + b, len - b);
	s[n] = '\0';
	*out = s;
	*outlen = n;
	return 0;
}

/* The top-level setting key in entry (its "{ ... }"): where it starts and
 * where it ends (after its ';' or ',', else before the '}').  0, -ENOENT,
 * or -EINVAL when entry is not one balanced "{ ... }". */
static int
regedit_setting(const char *t, size_t len, const char *key, size_t *a,
    size_t *b)
{
	size_t i = 0, n, kl = strlen(key);
	int depth = 0;

	*a = *b = 0;
	if (len < 2 || t[0] != '{' || t[len - 1] != '}')
		return -EINVAL;
	while (i < len) {
		if ((n = regedit_skip(t, len, i)) != i) {
			if (n > len)
				return -EINVAL;
			i = n;
			continue;
		}
		if (t[i] == '{' || t[i] == '(' || t[i] == '[')
			depth++;
		else if (t[i] == '}' || t[i] == ')' || t[i] == ']') {
			if (--depth < 0)
				return -EINVAL;
			if (depth == 0 && *a != 0 && *b == 0)
				*b = i;		/* the last setting, no ';' */
		} else if (depth == 1 && (t[i] == ';' || t[i] == ',') &&
		    *a != 0 && *b == 0)
			*b = i + 1;
		else if (depth == 1 && *a == 0 && strncmp(t + i, key, kl) == 0 &&
		    !(isalnum((unsigned char)t[i - 1]) || t[i - 1] == '_') &&
		    i + kl < len && !(isalnum((unsigned char)t[i + kl]) ||
		    t[i + kl] == '_')) {
			*a = i;
			i += kl;
			continue;
		}
		i++;
	}
	if (depth != 0)
		return -EINVAL;
	return *a != 0 ? 0 : -ENOENT;
}

int
regedit_entry_set(const char *entry, const char *key, const char *value,
    char **out)
{
	size_t len = strlen(entry), a, b, n;
	char *s;
	int r;

	*out = NULL;
	r = regedit_setting(entry, len, key, &a, &b);
	if (r == -EINVAL)
		return r;
	if (r == -ENOENT)
		a = b = len - 1;
	else
		while (a > 1 && (entry[a - 1] == ' ' || entry[a - 1] == '\t'))
			a--;		/* the blank before it goes too, not a
					 * line end that closes a comment */
	n = a + (len - b) + (value != NULL ? strlen(key) + strlen(value) + 6 :
	    0);
	if ((s = malloc(n + 1)) == NULL)
		return -ENOMEM;
	memcpy(s, entry, a);
	s[a] = '\0';
	if (value != NULL) {
		/* Before the '}' of an entry that had no such setting. */
		if (r == -ENOENT) {
			while (a > 1 && (s[a - 1] == ' ' || s[a - 1] == '\t'))
				a--;
			s[a] = '\0';
		}
		(void)snprintf(s + a, n + 1 - a, " %s = %s;", key, value);
		a = strlen(s);
		if (entry[b] == '}')
			s[a++] = ' ';
	}
	memcpy(s + a, entry + b, len - b);
	s[a + len - b] = '\0';
	*out = s;
	return 0;
}
