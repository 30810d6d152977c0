/*
 * registry.c - loads the device registry and the keys file into one sorted
 * array of devices, which policy/ident.c consults for every frame.
 *
 * Both files are libconfig with a single top-level list, the devices file
 * optionally a second one, the classes of rules (policy/rules.c):
 *
 *   devices = ( { id = "70B3D57ED0001001"; name = "collar-001";
 *                 stream = "cattle"; revoked = false; class = "collar";
 *                 <rules of its own> }, ... );
 *   classes = ( { name = "collar"; <rules> }, ... );
 *   keys = ( { id = "70B3D57ED0001001"; secret = "<64 hex digits>"; }, ... );
 *
 * A device may name a class defined further down: it gets a placeholder,
 * filled by the class's entry; one left empty is an unknown class.  Once
 * both lists are read, every device points at its compiled rule set
 * (registry_finish_rules).
 *
 * libconfig builds a tree of about 800 bytes per device, 8 MB for a
 * 10,000-device site, several times the daemon's whole memory budget.  So a
 * small scanner here walks the top-level list itself (skipping comments,
 * respecting strings) and hands libconfig one `{ ... }` entry at a time,
 * freeing its tree before the next; values, escapes and syntax errors inside
 * an entry stay libconfig's business, and its line numbers are shifted back
 * to lines of the file.  @include is refused: it would escape this scanner.
 *
 * Secrets: the keys file is refused when group or others have any access;
 * the stdio buffer, the entry text and libconfig's copy of each secret are
 * wiped, and registry_free wipes the devices.  A message never quotes a
 * secret.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <libconfig.h>

#include "policy/registry.h"
#include "policy/rules.h"

#define REGISTRY_ARENA_BLOCK	16384
#define REGISTRY_PREFIX		"e="

struct registry_blk {
	struct registry_blk	*next;
	size_t			 used;
	size_t			 cap;
	char			 data[];
};

struct registry {
	struct device		*dev;
	size_t			 ndev;
	size_t			 capdev;
	const char		**streams;
	size_t			 nstreams;
	struct registry_blk	*arena;
	struct rules_set	**classes;	/* in the order first named */
	size_t			 nclasses;
	struct rules_set	**own;		/* devices' own rules */
	size_t			 nown, capown;
	int			 has_classes;	/* the file has the list */
};

/* One file being read: position for messages, the current entry's text. */
struct registry_scan {
	FILE		*f;
	const char	*path;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	unsigned	 entry_line;	/* line of the entry's '{' */
	char		 buf[sizeof(REGISTRY_PREFIX) + REGISTRY_ENTRY_MAX + 2];
	size_t		 len;
};

struct registry_ctx {
	struct registry	*reg;
	const char	*devices_path;
};

typedef int (*registry_entry_fn)(struct registry_ctx *,
    struct registry_scan *, const config_setting_t *);

/* A top-level list of a file; seen is set when the file has it. */
struct registry_list {
	const char		*name;
	registry_entry_fn	 fn;
	int			*seen;
};

static int
registry_err(struct registry_scan *s, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->errlen == 0)
		return -EINVAL;
	n = snprintf(s->err, s->errlen, "%s:%u: ", s->path, line);
	if (n >= 0 && (size_t)n < s->errlen) {
		va_start(ap, fmt);
		(void)vsnprintf(s->err + n, s->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* n bytes, 8-byte aligned, zeroed, freed with the registry. */
static void *
registry_alloc(void *arg, size_t n)
{
	struct registry *reg = arg;
	struct registry_blk *b = reg->arena;
	size_t at = b != NULL ? (b->used + 7) & ~(size_t)7 : 0;

	if (b == NULL || at > b->cap || b->cap - at < n) {
		size_t cap = n > REGISTRY_ARENA_BLOCK ? n :
		    REGISTRY_ARENA_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->next = reg->arena;
		b->used = 0;
		b->cap = cap;
		reg->arena = b;
		at = 0;
	}
	b->used = at + n;
	return memset(b->data + at, 0, n);
}

static const char *
registry_strdup(struct registry *reg, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p;

	if ((p = registry_alloc(reg, n)) == NULL)
		return NULL;
	return memcpy(p, str, n);
}

int
registry_parse_eui(const char *s, uint64_t *eui)
{
	uint64_t v = 0;
	int i, d;

	*eui = 0;
	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (s[16] != '\0')
		return -EINVAL;
	*eui = v;
	return 0;
}

void
registry_format_eui(uint64_t eui, char buf[17])
{
	static const char hex[] = "0123456789ABCDEF";
	int i;

	for (i = 15; i >= 0; i--) {
		buf[i] = hex[eui & 0xf];
		eui >>= 4;
	}
	buf[16] = '\0';
}

int
registry_stream_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]) && s[n] != '_' &&
		    s[n] != '.' && s[n] != '-')
			return 0;
	return n >= 1 && n <= REGISTRY_STREAM_MAX;
}

static int
registry_hexbytes(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		hi = isxdigit((unsigned char)s[2 * i]) ?
		    (isdigit((unsigned char)s[2 * i]) ? s[2 * i] - '0' :
		    (tolower((unsigned char)s[2 * i]) - 'a' + 10)) : -1;
		lo = isxdigit((unsigned char)s[2 * i + 1]) ?
		    (isdigit((unsigned char)s[2 * i + 1]) ? s[2 * i + 1] - '0' :
		    (tolower((unsigned char)s[2 * i + 1]) - 'a' + 10)) : -1;
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- the scanner over the top-level list ---- */

static int
registry_getc(struct registry_scan *s)
{
	int c = getc_unlocked(s->f);

	if (c == '\n')
		s->line++;
	return c;
}

static void
registry_ungetc(struct registry_scan *s, int c)
{
	if (c == EOF)
		return;
	if (c == '\n')
		s->line--;
	(void)ungetc(c, s->f);
}

/* Skips blanks and comments between tokens; returns the next character
 * (consumed), EOF, or -2 after writing an error. */
static int
registry_next(struct registry_scan *s)
{
	int c, c2, start;

	for (;;) {
		c = registry_getc(s);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '\f' || c == '\v')
			continue;
		if (c == '#') {
			while ((c = registry_getc(s)) != EOF && c != '\n')
				;
			continue;
		}
		if (c != '/')
			return c;
		c2 = registry_getc(s);
		if (c2 == '/') {
			while ((c = registry_getc(s)) != EOF && c != '\n')
				;
			continue;
		}
		if (c2 != '*') {
			registry_ungetc(s, c2);
			return c;
		}
		start = (int)s->line;
		for (c2 = 0;;) {
			if ((c = registry_getc(s)) == EOF) {
				(void)registry_err(s, (unsigned)start,
				    "unterminated comment");
				return -2;
			}
			if (c2 == '*' && c == '/')
				break;
			c2 = c;
		}
	}
}

static int
registry_put(struct registry_scan *s, int c)
{
	if (s->len >= sizeof(s->buf) - 2)
		return registry_err(s, s->entry_line,
		    "entry longer than %d bytes", REGISTRY_ENTRY_MAX);
	s->buf[s->len++] = (char)c;
	return 0;
}

/*
 * Copies one `{ ... }` entry (the '{' already read) into s->buf after the
 * prefix, comments blanked out but their newlines kept so that libconfig's
 * line numbers stay true.
 */
static int
registry_collect(struct registry_scan *s)
{
	int c, c2 = 0, depth = 1, r;

	s->len = strlen(REGISTRY_PREFIX);
	memcpy(s->buf, REGISTRY_PREFIX, s->len);
	s->buf[s->len++] = '{';
	while (depth > 0) {
		if ((c = registry_getc(s)) == EOF)
			return registry_err(s, s->entry_line,
			    "entry not closed with '}'");
		if (c == '@')
			return registry_err(s, s->line,
			    "@include is not allowed here");
		if (c == '#' || (c == '/' && (c2 = registry_getc(s)) == '/')) {
			while ((c = registry_getc(s)) != EOF && c != '\n')
				;
			registry_ungetc(s, c);
			c = ' ';
		} else if (c == '/' && c2 == '*') {
			unsigned start = s->line;

			for (c2 = 0;;) {
				if ((c = registry_getc(s)) == EOF)
					return registry_err(s, start,
					    "unterminated comment");
				if (c2 == '*' && c == '/')
					break;
				if (c == '\n' && (r = registry_put(s, c)) != 0)
					return r;
				c2 = c;
			}
			c = ' ';
		} else if (c == '/') {
			registry_ungetc(s, c2);
		} else if (c == '"') {
			if ((r = registry_put(s, c)) != 0)
				return r;
			while ((c = registry_getc(s)) != '"') {
				if (c == EOF || c == '\n')
					return registry_err(s, s->line,
					    "unterminated string");
				if ((r = registry_put(s, c)) != 0)
					return r;
				if (c == '\\') {
					if ((c = registry_getc(s)) == EOF ||
					    c == '\n')
						return registry_err(s, s->line,
						    "unterminated string");
					if ((r = registry_put(s, c)) != 0)
						return r;
				}
			}
		} else if (c == '{') {
			depth++;
		} else if (c == '}') {
			depth--;
		}
		if ((r = registry_put(s, c)) != 0)
			return r;
	}
	s->buf[s->len++] = ';';
	s->buf[s->len] = '\0';
	return 0;
}

static unsigned
registry_line(const struct registry_scan *s, const config_setting_t *st)
{
	unsigned l = config_setting_source_line(st);

	return s->entry_line + (l > 0 ? l - 1 : 0);
}

/* Parses the collected entry with libconfig and passes its group on. */
static int
registry_entry(struct registry_ctx *ctx, struct registry_scan *s,
    registry_entry_fn fn)
{
	config_t cf;
	config_setting_t *g;
	int r;

	config_init(&cf);
	if (config_read_string(&cf, s->buf) != CONFIG_TRUE) {
		unsigned l = (unsigned)config_error_line(&cf);

		r = registry_err(s, s->entry_line + (l > 0 ? l - 1 : 0), "%s",
		    config_error_text(&cf) != NULL ? config_error_text(&cf) :
		    "syntax error");
		goto out;
	}
	if ((g = config_lookup(&cf, "e")) == NULL ||
	    config_setting_type(g) != CONFIG_TYPE_GROUP) {
		r = registry_err(s, s->entry_line, "entry is not a group");
		goto out;
	}
	r = fn(ctx, s, g);
out:
	config_destroy(&cf);
	gnutls_memset(s->buf, 0, s->len);
	return r;
}

/* An identifier starting with c (already read) into word; returns its
 * length, 0 when c starts none. */
static size_t
registry_word(struct registry_scan *s, int c, char *word, size_t size)
{
	size_t n = 0;

	while (c != EOF && (isalnum(c) || c == '_' || c == '-' || c == '*')) {
		if (n < size - 1)
			word[n++] = (char)c;
		c = registry_getc(s);
	}
	word[n] = '\0';
	registry_ungetc(s, c);
	return n;
}

/*
 * After a list's name: `= ( {..}, {..} )` and an optional ';' or ','.
 * *next gets the token after it (registry_next).
 */
static int
registry_scan_entries(struct registry_ctx *ctx, struct registry_scan *s,
    const struct registry_list *l, int *next)
{
	const char *name = l->name;
	int c, r;

	if (l->seen != NULL)
		*l->seen = 1;
	if ((c = registry_next(s)) == -2)
		return -EINVAL;
	if (c != '=' && c != ':')
		return registry_err(s, s->line, "expected '=' after '%s'",
		    name);
	if ((c = registry_next(s)) == -2)
		return -EINVAL;
	if (c != '(')
		return registry_err(s, s->line, "'%s' must be a list: "
		    "%s = ( { ... }, ... );", name, name);
	for (;;) {
		if ((c = registry_next(s)) == -2)
			return -EINVAL;
		if (c == ')')
			break;
		if (c != '{')
			return registry_err(s, s->line, "expected '{' to start "
			    "an entry of '%s'", name);
		s->entry_line = s->line;
		if ((r = registry_collect(s)) != 0 ||
		    (r = registry_entry(ctx, s, l->fn)) != 0)
			return r;
		if ((c = registry_next(s)) == -2)
			return -EINVAL;
		if (c == ')')
			break;
		if (c != ',')
			return registry_err(s, s->line, "expected ',' or ')' "
			    "after an entry of '%s'", name);
	}
	if ((c = registry_next(s)) == -2)
		return -EINVAL;
	if (c == ';' || c == ',')
		c = registry_next(s);
	if (c == -2)
		return -EINVAL;
	*next = c;
	return 0;
}

/*
 * The file: `NAME = ( {..}, {..} );` for lists[0], then optionally each of
 * the other lists in their order, and nothing else but comments.
 */
static int
registry_scan_list(struct registry_ctx *ctx, struct registry_scan *s,
    const struct registry_list *lists, size_t nlists)
{
	char word[32];
	size_t k, last = 0;
	unsigned at;
	int c, r;

	if ((c = registry_next(s)) == -2)
		return -EINVAL;
	at = s->line;
	if (c == EOF)
		return registry_err(s, at, "no '%s' list", lists[0].name);
	if (c == '@')
		return registry_err(s, at, "@include is not allowed here");
	if (registry_word(s, c, word, sizeof(word)) == 0)
		return registry_err(s, at, "expected '%s = ( ... );'",
		    lists[0].name);
	if (strcmp(word, lists[0].name) != 0) {
		for (k = 1; k < nlists; k++)
			if (strcmp(word, lists[k].name) == 0)
				return registry_err(s, at, "the '%s' list must "
				    "come after the '%s' list", word,
				    lists[0].name);
		return registry_err(s, at, "unknown setting '%s' (expected "
		    "'%s')", word, lists[0].name);
	}
	if ((r = registry_scan_entries(ctx, s, &lists[0], &c)) != 0)
		return r;
	while (c != EOF) {
		at = s->line;
		k = nlists;
		if (registry_word(s, c, word, sizeof(word)) > 0)
			for (k = last + 1; k < nlists; k++)
				if (strcmp(word, lists[k].name) == 0)
					break;
		if (k == nlists)
			return registry_err(s, at, "unexpected text after the "
			    "'%s' list", lists[last].name);
		last = k;
		if ((r = registry_scan_entries(ctx, s, &lists[k], &c)) != 0)
			return r;
	}
	if (ferror(s->f))
		return registry_err(s, s->line, "read error");
	return 0;
}

/* ---- the three kinds of entry ---- */

#define REGISTRY_RULE_KEYS "streams, kinds, max_payload, rate_per_min, " \
	"rate_burst, commands"

/* A rule's setting into set: 1 when e is none, 0, or -errno reported. */
static int
registry_rule_setting(struct registry *reg, struct registry_scan *s,
    struct rules_set *set, const config_setting_t *e)
{
	const config_setting_t *where = e;
	char msg[160];
	int r;

	r = rules_parse_setting(set, e, registry_alloc, reg, &where, msg,
	    sizeof(msg));
	if (r == -EINVAL)
		return registry_err(s, registry_line(s, where), "%s", msg);
	return r;
}

/* A class name in a class entry or a device's `class`. */
static int
registry_class_name_ok(struct registry_scan *s, const config_setting_t *e,
    const char **out)
{
	const char *name;

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return registry_err(s, registry_line(s, e), "'%s' must be a "
		    "string", config_setting_name(e));
	name = config_setting_get_string(e);
	if (!registry_stream_valid(name) ||
	    strlen(name) > RULES_CLASS_NAME_MAX)
		return registry_err(s, registry_line(s, e), "bad class name "
		    "\"%.70s\": 1 to %d of A-Z a-z 0-9 _ . -", name,
		    RULES_CLASS_NAME_MAX);
	*out = name;
	return 0;
}

static struct rules_set *
registry_class_find(const struct registry *reg, const char *name)
{
	size_t i;

	for (i = 0; i < reg->nclasses; i++)
		if (strcmp(reg->classes[i]->name, name) == 0)
			return reg->classes[i];
	return NULL;
}

/* The class of that name, a placeholder until its entry is read. */
static int
registry_class_ref(struct registry *reg, struct registry_scan *s,
    const char *name, unsigned line, struct rules_set **out)
{
	struct rules_set *c, **v;

	if ((c = registry_class_find(reg, name)) != NULL) {
		*out = c;
		return 0;
	}
	if (reg->nclasses >= RULES_CLASSES_MAX)
		return registry_err(s, line, "too many classes (at most %d)",
		    RULES_CLASSES_MAX);
	if ((v = realloc(reg->classes, (reg->nclasses + 1) *
	    sizeof(*v))) == NULL)
		return -ENOMEM;
	reg->classes = v;
	if ((c = registry_alloc(reg, sizeof(*c))) == NULL ||
	    (c->name = registry_strdup(reg, name)) == NULL)
		return -ENOMEM;
	c->line = line;
	v[reg->nclasses++] = c;
	*out = c;
	return 0;
}

static int
registry_class_entry(struct registry_ctx *ctx, struct registry_scan *s,
    const config_setting_t *g)
{
	struct registry *reg = ctx->reg;
	struct rules_set set, *c;
	const char *name = NULL;
	int i, n = config_setting_length(g), r;

	memset(&set, 0, sizeof(set));
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(e);

		if (key == NULL)
			return registry_err(s, registry_line(s, e),
			    "unnamed value in a class entry");
		if (strcmp(key, "name") == 0) {
			if ((r = registry_class_name_ok(s, e, &name)) != 0)
				return r;
			continue;
		}
		if ((r = registry_rule_setting(reg, s, &set, e)) < 0)
			return r;
		if (r == 1)
			return registry_err(s, registry_line(s, e),
			    "unknown setting '%s' in a class entry (known: "
			    "name, " REGISTRY_RULE_KEYS ")", key);
	}
	if (name == NULL)
		return registry_err(s, s->entry_line, "class without 'name'");
	if ((c = registry_class_find(reg, name)) != NULL && c->defined)
		return registry_err(s, s->entry_line, "duplicate class \"%s\" "
		    "(first at line %u)", name, c->line);
	if ((r = registry_class_ref(reg, s, name, s->entry_line, &c)) != 0)
		return r;
	set.name = c->name;
	set.line = s->entry_line;
	set.defined = 1;
	*c = set;
	return 0;
}

static int
registry_device_entry(struct registry_ctx *ctx, struct registry_scan *s,
    const config_setting_t *g)
{
	struct registry *reg = ctx->reg;
	const char *id = NULL, *name = "", *stream = NULL, *cname = NULL;
	int revoked = 0, i, n = config_setting_length(g), r, has_own = 0;
	struct rules_set own, *cls = NULL, *set = NULL, **ov;
	unsigned cline = 0;
	struct device *d;
	uint64_t eui = 0;
	size_t k;

	memset(&own, 0, sizeof(own));
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *key = config_setting_name(e);
		int t = config_setting_type(e);

		if (key == NULL)
			return registry_err(s, registry_line(s, e),
			    "unnamed value in a device entry");
		if (strcmp(key, "class") == 0) {
			if ((r = registry_class_name_ok(s, e, &cname)) != 0)
				return r;
			cline = registry_line(s, e);
			continue;
		}
		if ((r = registry_rule_setting(reg, s, &own, e)) < 0)
			return r;
		if (r == 0) {
			has_own = 1;
			continue;
		}
		if (strcmp(key, "revoked") == 0) {
			if (t != CONFIG_TYPE_BOOL)
				return registry_err(s, registry_line(s, e),
				    "'revoked' must be true or false");
			revoked = config_setting_get_bool(e);
			continue;
		}
		if (strcmp(key, "id") != 0 && strcmp(key, "name") != 0 &&
		    strcmp(key, "stream") != 0)
			return registry_err(s, registry_line(s, e),
			    "unknown setting '%s' in a device entry "
			    "(known: id, name, stream, revoked, class, "
			    REGISTRY_RULE_KEYS ")", key);
		if (t != CONFIG_TYPE_STRING)
			return registry_err(s, registry_line(s, e),
			    "'%s' must be a string", key);
		if (strcmp(key, "id") == 0) {
			id = config_setting_get_string(e);
			if (registry_parse_eui(id, &eui) != 0)
				return registry_err(s, registry_line(s, e),
				    "bad id \"%.40s\": expected 16 hex digits",
				    id);
		} else if (strcmp(key, "name") == 0) {
			name = config_setting_get_string(e);
			if (strlen(name) > REGISTRY_NAME_MAX)
				return registry_err(s, registry_line(s, e),
				    "name longer than %d bytes",
				    REGISTRY_NAME_MAX);
			for (k = 0; name[k] != '\0'; k++)
				if ((unsigned char)name[k] < 0x20 ||
				    name[k] == 0x7f)
					return registry_err(s,
					    registry_line(s, e), "name has a "
					    "control character");
		} else {
			stream = config_setting_get_string(e);
			if (!registry_stream_valid(stream))
				return registry_err(s, registry_line(s, e),
				    "bad stream \"%.70s\": 1 to %d of "
				    "A-Z a-z 0-9 _ . - (an MQTT topic level)",
				    stream, REGISTRY_STREAM_MAX);
		}
	}
	if (id == NULL)
		return registry_err(s, s->entry_line, "device without 'id'");
	if (stream == NULL)
		return registry_err(s, s->entry_line, "device %s without "
		    "'stream'", id);
	if (reg->ndev >= REGISTRY_DEVICES_MAX)
		return registry_err(s, s->entry_line, "too many devices (at "
		    "most %d)", REGISTRY_DEVICES_MAX);
	if (cname != NULL &&
	    (r = registry_class_ref(reg, s, cname, cline, &cls)) != 0)
		return r;
	set = cls;
	if (has_own) {
		if ((set = registry_alloc(reg, sizeof(*set))) == NULL)
			return -ENOMEM;
		if (reg->nown == reg->capown) {
			k = reg->capown == 0 ? 16 : 2 * reg->capown;
			if ((ov = realloc(reg->own, k * sizeof(*ov))) == NULL)
				return -ENOMEM;
			reg->own = ov;
			reg->capown = k;
		}
		ov = reg->own;
		*set = own;
		set->parent = cls;
		set->line = s->entry_line;
		ov[reg->nown++] = set;
	}
	if (reg->ndev == reg->capdev) {
		size_t cap = reg->capdev == 0 ? 64 : 2 * reg->capdev;

		if ((d = realloc(reg->dev, cap * sizeof(*d))) == NULL)
			return -ENOMEM;
		reg->dev = d;
		reg->capdev = cap;
	}
	d = &reg->dev[reg->ndev];
	memset(d, 0, sizeof(*d));
	d->eui = eui;
	d->line = s->entry_line;
	d->revoked = (uint8_t)(revoked != 0);
	d->rules = set;
	for (k = 0; k < reg->nstreams; k++)
		if (strcmp(reg->streams[k], stream) == 0)
			break;
	if (k == reg->nstreams) {
		const char **v;

		if (k >= REGISTRY_STREAMS_MAX)
			return registry_err(s, s->entry_line, "too many "
			    "distinct streams (at most %d)",
			    REGISTRY_STREAMS_MAX);
		if ((v = realloc(reg->streams, (k + 1) * sizeof(*v))) == NULL)
			return -ENOMEM;
		reg->streams = v;
		if ((v[k] = registry_strdup(reg, stream)) == NULL)
			return -ENOMEM;
		reg->nstreams++;
	}
	d->stream = (uint16_t)k;
	if ((d->name = registry_strdup(reg, name)) == NULL)
		return -ENOMEM;
	reg->ndev++;
	return 0;
}

static int
registry_cmp(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return x->eui < y->eui ? -1 : x->eui > y->eui;
}

/*
 * In-place heapsort by EUI: glibc's qsort allocates a copy of the whole
 * array for its merge sort, which would double the registry's peak memory.
 */
static void
registry_sift(struct device *v, size_t root, size_t n)
{
	struct device t;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && v[child + 1].eui > v[child].eui)
			child++;
		if (v[root].eui >= v[child].eui)
			return;
		t = v[root];
		v[root] = v[child];
		v[child] = t;
		root = child;
	}
}

static void
registry_sort(struct device *v, size_t n)
{
	struct device t;
	size_t i;

	for (i = n / 2; i-- > 0;)
		registry_sift(v, i, n);
	for (i = n; i-- > 1;) {
		t = v[0];
		v[0] = v[i];
		v[i] = t;
		registry_sift(v, 0, i);
	}
	gnutls_memset(&t, 0, sizeof(t));
}

static int
registry_key_entry(struct registry_ctx *ctx, struct registry_scan *s,
    const config_setting_t *g)
{
	const char *id = NULL;
	char *secret = NULL;
	unsigned sline = 0;
	struct device key, *d;
	int i, n = config_setting_length(g), r = 0;
	uint64_t eui = 0;
	char buf[17];

	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
		const char *k = config_setting_name(e);

		if (k == NULL || (strcmp(k, "id") != 0 &&
		    strcmp(k, "secret") != 0)) {
			r = registry_err(s, registry_line(s, e),
			    "unknown setting '%s' in a key entry (known: id, "
			    "secret)", k != NULL ? k : "");
			goto out;
		}
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			r = registry_err(s, registry_line(s, e),
			    "'%s' must be a string", k);
			goto out;
		}
		if (strcmp(k, "id") == 0) {
			id = config_setting_get_string(e);
			if (registry_parse_eui(id, &eui) != 0) {
				r = registry_err(s, registry_line(s, e),
				    "bad id \"%.40s\": expected 16 hex digits",
				    id);
				goto out;
			}
		} else {
			/* libconfig's own copy: ours to wipe below. */
			secret = (char *)config_setting_get_string(e);
			sline = registry_line(s, e);
		}
	}
	if (id == NULL) {
		r = registry_err(s, s->entry_line, "key without 'id'");
		goto out;
	}
	registry_format_eui(eui, buf);
	if (secret == NULL) {
		r = registry_err(s, s->entry_line, "key for %s without "
		    "'secret'", buf);
		goto out;
	}
	key.eui = eui;
	d = ctx->reg->ndev == 0 ? NULL : bsearch(&key, ctx->reg->dev,
	    ctx->reg->ndev, sizeof(*d), registry_cmp);
	if (d == NULL) {
		r = registry_err(s, s->entry_line, "key for unknown device %s "
		    "(not in %s)", buf, ctx->devices_path);
		goto out;
	}
	if (d->has_key) {
		r = registry_err(s, s->entry_line, "duplicate key for %s",
		    buf);
		goto out;
	}
	if (registry_hexbytes(secret, d->secret, LINK_SECRET_LEN) != 0) {
		gnutls_memset(d->secret, 0, sizeof(d->secret));
		r = registry_err(s, sline, "secret of %s must be %d hex "
		    "digits", buf, 2 * LINK_SECRET_LEN);
		goto out;
	}
	/* An all-zero secret is a placeholder (the example file's), never a
	 * provisioned one: refused wherever it appears. */
	for (i = 0; i < LINK_SECRET_LEN && d->secret[i] == 0; i++)
		;
	if (i == LINK_SECRET_LEN) {
		r = registry_err(s, sline, "secret of %s is all zero, a "
		    "placeholder: provision the device with `fieldbridge "
		    "device add`", buf);
		goto out;
	}
	d->has_key = 1;
out:
	if (secret != NULL)
		gnutls_memset(secret, 0, strlen(secret));
	return r;
}

/* ---- loading ---- */

static int
registry_read(struct registry_ctx *ctx, FILE *f, const char *path,
    const struct registry_list *lists, size_t nlists, char *err,
    size_t errlen)
{
	struct registry_scan *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->f = f;
	s->path = path;
	s->line = 1;
	s->err = err;
	s->errlen = errlen;
	r = registry_scan_list(ctx, s, lists, nlists);
	gnutls_memset(s->buf, 0, sizeof(s->buf));
	free(s);
	return r;
}

static int
registry_finish_devices(struct registry_ctx *ctx, const char *path,
    char *err, size_t errlen)
{
	struct registry *reg = ctx->reg;
	const struct device *dup = NULL, *first = NULL;
	char buf[17];
	size_t i;

	registry_sort(reg->dev, reg->ndev);
	/* Report the duplicate that comes first in the file. */
	for (i = 1; i < reg->ndev; i++) {
		const struct device *a = &reg->dev[i - 1], *b = &reg->dev[i];

		if (a->eui != b->eui)
			continue;
		if (a->line > b->line) {
			const struct device *t = a;

			a = b;
			b = t;
		}
		if (dup == NULL || b->line < dup->line) {
			dup = b;
			first = a;
		}
	}
	if (dup != NULL) {
		registry_format_eui(dup->eui, buf);
		snprintf(err, errlen, "%s:%u: duplicate id %s (first at line "
		    "%u)", path, dup->line, buf, first->line);
		return -EINVAL;
	}
	return 0;
}

/*
 * Every device gets its compiled rules: its class's, its own on top of
 * them, or, with neither, those of the class "default".  A file without
 * a `classes` list has an implicit "default" that allows any kind and
 * size, so that a registry written before rules existed keeps its data
 * flowing; with the list, "default" is the operator's, or there is none
 * and such devices send nothing (docs/operations.md).
 */
static int
registry_finish_rules(struct registry_ctx *ctx, const char *path, char *err,
    size_t errlen)
{
	struct registry *reg = ctx->reg;
	const struct rules_set *undef = NULL;
	struct rules_set *deflt = NULL;
	struct device *d;
	size_t i;

	for (i = 0; i < reg->nclasses; i++)
		if (!reg->classes[i]->defined && (undef == NULL ||
		    reg->classes[i]->line < undef->line))
			undef = reg->classes[i];
	if (undef != NULL) {
		snprintf(err, errlen, "%s:%u: unknown class \"%s\" (not in "
		    "the 'classes' list)", path, undef->line, undef->name);
		return -EINVAL;
	}
	if (!reg->has_classes) {
		if ((deflt = registry_alloc(reg, sizeof(*deflt))) == NULL ||
		    (deflt->name = registry_strdup(reg,
		    RULES_CLASS_DEFAULT)) == NULL)
			return -ENOMEM;
		rules_allow_all(deflt);
	} else
		deflt = registry_class_find(reg, RULES_CLASS_DEFAULT);
	for (i = 0; i < reg->nclasses; i++)
		rules_inherit(reg->classes[i], NULL);
	for (i = 0; i < reg->nown; i++)
		rules_inherit(reg->own[i], reg->own[i]->parent != NULL ?
		    reg->own[i]->parent : deflt);
	for (i = 0; i < reg->ndev; i++) {
		d = &reg->dev[i];
		if (d->rules == NULL)
			d->rules = deflt;
		d->rules_stream_ok = (uint8_t)(d->rules != NULL &&
		    rules_stream_allowed(d->rules, reg->streams[d->stream]));
	}
	return 0;
}

static int
registry_finish_keys(struct registry_ctx *ctx, const char *keys_path,
    char *err, size_t errlen)
{
	const struct registry *reg = ctx->reg;
	const struct device *miss = NULL;
	char buf[17];
	size_t i;

	for (i = 0; i < reg->ndev; i++) {
		const struct device *d = &reg->dev[i];

		/* A revoked device may have had its key removed. */
		if (!d->has_key && !d->revoked &&
		    (miss == NULL || d->line < miss->line))
			miss = d;
	}
	if (miss != NULL) {
		registry_format_eui(miss->eui, buf);
		snprintf(err, errlen, "%s:%u: device %s has no key in %s",
		    ctx->devices_path, miss->line, buf, keys_path);
		return -EINVAL;
	}
	return 0;
}

static int
registry_load_files(FILE *df, const char *devices_path, FILE *kf,
    const char *keys_path, struct registry **out, char *err, size_t errlen)
{
	struct registry_list dlists[] = {
		{ "devices", registry_device_entry, NULL },
		{ "classes", registry_class_entry, NULL },
	};
	const struct registry_list klists[] = {
		{ "keys", registry_key_entry, NULL },
	};
	struct registry_ctx ctx;
	struct registry *reg = NULL;
	int r;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return -ENOMEM;
	dlists[1].seen = &reg->has_classes;
	ctx.reg = reg;
	ctx.devices_path = devices_path;
	if ((r = registry_read(&ctx, df, devices_path, dlists, 2, err,
	    errlen)) != 0 ||
	    (r = registry_finish_devices(&ctx, devices_path, err,
	    errlen)) != 0 ||
	    (r = registry_finish_rules(&ctx, devices_path, err,
	    errlen)) != 0 ||
	    (r = registry_read(&ctx, kf, keys_path, klists, 1, err,
	    errlen)) != 0 ||
	    (r = registry_finish_keys(&ctx, keys_path, err, errlen)) != 0)
		goto out;
	/* Give back the growth slack. */
	if (reg->ndev > 0 && reg->ndev < reg->capdev) {
		struct device *d = realloc(reg->dev,
		    reg->ndev * sizeof(*reg->dev));

		if (d != NULL) {
			reg->dev = d;
			reg->capdev = reg->ndev;
		}
	}
	*out = reg;
	reg = NULL;
out:
	if (r == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", devices_path);
	registry_free(reg);
	return r;
}

int
registry_load(const char *devices_path, const char *keys_path,
    struct registry **out, char *err, size_t errlen)
{
	FILE *df = NULL, *kf = NULL;
	char *kbuf = NULL;
	struct stat st;
	int fd = -1, r;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	if ((df = fopen(devices_path, "re")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", devices_path, strerror(-r));
		goto out;
	}
	if ((fd = open(keys_path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(fd, &st) != 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", keys_path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", keys_path);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = -EPERM;
		snprintf(err, errlen, "%s: holds secrets but is accessible by "
		    "group or others (mode %04o); refusing it: run chmod 600 "
		    "%s", keys_path, (unsigned)(st.st_mode & 07777),
		    keys_path);
		goto out;
	}
	if ((kbuf = malloc(BUFSIZ)) == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", keys_path);
		goto out;
	}
	if ((kf = fdopen(fd, "r")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", keys_path, strerror(-r));
		goto out;
	}
	fd = -1;
	/* Our own buffer, so the file's bytes can be wiped afterwards. */
	(void)setvbuf(kf, kbuf, _IOFBF, BUFSIZ);
	r = registry_load_files(df, devices_path, kf, keys_path, out, err,
	    errlen);
out:
	if (kf != NULL)
		fclose(kf);
	if (kbuf != NULL) {
		gnutls_memset(kbuf, 0, BUFSIZ);
		free(kbuf);
	}
	if (fd >= 0)
		close(fd);
	if (df != NULL)
		fclose(df);
	return r;
}

int
registry_load_mem(const char *devices_name, const char *devices,
    size_t devices_len, const char *keys_name, const char *keys,
    size_t keys_len, struct registry **out, char *err, size_t errlen)
{
	FILE *df = NULL, *kf = NULL;
	int r;

	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	/* fmemopen refuses a zero size; an empty file is one blank. */
	if ((df = fmemopen((void *)(devices_len > 0 ? devices : " "),
	    devices_len > 0 ? devices_len : 1, "r")) == NULL ||
	    (kf = fmemopen((void *)(keys_len > 0 ? keys : " "),
	    keys_len > 0 ? keys_len : 1, "r")) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s", strerror(-r));
		goto out;
	}
	r = registry_load_files(df, devices_name, kf, keys_name, out, err,
	    errlen);
out:
	if (kf != NULL)
		fclose(kf);
	if (df != NULL)
		fclose(df);
	return r;
}

void
registry_free(struct registry *reg)
{
	struct registry_blk *b;

	if (reg == NULL)
		return;
	if (reg->dev != NULL)
		gnutls_memset(reg->dev, 0, reg->capdev * sizeof(*reg->dev));
	free(reg->dev);
	free(reg->streams);
	free(reg->classes);
	free(reg->own);
	while ((b = reg->arena) != NULL) {
		reg->arena = b->next;
		free(b);
	}
	free(reg);
}

const struct device *
registry_find(const struct registry *reg, uint64_t eui)
{
	struct device key;

	if (reg == NULL || reg->ndev == 0)
		return NULL;
	key.eui = eui;
	return bsearch(&key, reg->dev, reg->ndev, sizeof(*reg->dev),
	    registry_cmp);
}

size_t
registry_count(const struct registry *reg)
{
	return reg != NULL ? reg->ndev : 0;
}

const struct device *
registry_at(const struct registry *reg, size_t i)
{
	return reg != NULL && i < reg->ndev ? &reg->dev[i] : NULL;
}

size_t
registry_index(const struct registry *reg, const struct device *dev)
{
	return (size_t)(dev - reg->dev);
}

size_t
registry_stream_count(const struct registry *reg)
{
	return reg != NULL ? reg->nstreams : 0;
}

const char *
registry_stream_name(const struct registry *reg, uint16_t idx)
{
	return reg != NULL && idx < reg->nstreams ? reg->streams[idx] : NULL;
}

size_t
registry_class_count(const struct registry *reg)
{
	return reg != NULL ? reg->nclasses : 0;
}

const struct rules_set *
registry_class_at(const struct registry *reg, size_t i)
{
	return reg != NULL && i < reg->nclasses ? reg->classes[i] : NULL;
}

int
registry_rules_implicit(const struct registry *reg)
{
	return reg != NULL && !reg->has_classes;
}
