/*
 * registry.h - the site's device registry: which nodes exist, their names,
 * the stream their telemetry belongs to, and their secrets.
 *
 * Two files: the registry (libconfig; ids, names, streams, revocation) and
 * the keys file holding each node's 256-bit secret, which registry_load
 * refuses to read when it is group- or world-readable.  Loading is the only
 * I/O this module does.  Lookup by EUI is a binary search over a sorted array.
 *
 * Both files are libconfig, but read one list element at a time: a small
 * scanner finds each `{ ... }` of the top-level list and hands only that to
 * libconfig, so a 10,000-device registry never holds a whole libconfig tree
 * (which costs ~800 bytes a device) and the daemon stays within its memory
 * budget.  Per device we keep about 70 bytes plus its name.
 *
 * The devices file may follow its `devices` list with a `classes` list:
 * named rule sets that devices reference (policy/rules.h says what a rule
 * is).  It comes second so that `fieldbridge device`, which edits the
 * first list, keeps editing the devices.
 */
#ifndef FB_REGISTRY_H
#define FB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "radio/link.h"

#define REGISTRY_DEVICES_MAX	100000
#define REGISTRY_NAME_MAX	63
#define REGISTRY_STREAM_MAX	63	/* also an MQTT topic level */
#define REGISTRY_STREAMS_MAX	1024	/* distinct streams */
#define REGISTRY_ENTRY_MAX	4096	/* bytes of one { ... } entry */

struct rules_set;

struct device {
	uint64_t	eui;
	const char	*name;		/* owned by the registry; may be "" */
	uint8_t		secret[LINK_SECRET_LEN];
	uint32_t	line;		/* of its entry in the devices file */
	uint16_t	stream;		/* index into the registry's streams */
	uint8_t		revoked;
	uint8_t		has_key;	/* private to registry.c */
	uint8_t		rules_stream_ok; /* its rules allow its stream */
	/* Its class's rules or its own (policy/rules.h); NULL: it has no
	 * rule, so nothing it sends goes upstream. */
	const struct rules_set *rules;
};

struct registry;

/* Load both files.  On failure returns -errno and writes "FILE:LINE: what
 * is wrong" into err.  The registry owns the devices; registry_free wipes
 * the secrets. */
int	registry_load(const char *devices_path, const char *keys_path,
	    struct registry **out, char *err, size_t errlen);
/* The same from memory (no file mode check); the names are used in
 * messages only.  For the fuzz target and tests. */
int	registry_load_mem(const char *devices_name, const char *devices,
	    size_t devices_len, const char *keys_name, const char *keys,
	    size_t keys_len, struct registry **out, char *err, size_t errlen);
void	registry_free(struct registry *reg);

const struct device *registry_find(const struct registry *reg, uint64_t eui);
size_t	registry_count(const struct registry *reg);
const struct device *registry_at(const struct registry *reg, size_t i);
/* Position of a device of this registry in 0..count-1 (for per-device
 * arrays kept by other modules). */
size_t	registry_index(const struct registry *reg, const struct device *dev);
size_t	registry_stream_count(const struct registry *reg);
const char *registry_stream_name(const struct registry *reg, uint16_t idx);
/* An MQTT topic level we publish under without escaping: 1 to
 * REGISTRY_STREAM_MAX of A-Z a-z 0-9 _ . - */
int	registry_stream_valid(const char *s);

/* Classes, in the order of the file. */
size_t	registry_class_count(const struct registry *reg);
const struct rules_set *registry_class_at(const struct registry *reg,
	    size_t i);
/* Whether the file has no `classes` list, so that every device without
 * rules of its own may send anything (docs/operations.md). */
int	registry_rules_implicit(const struct registry *reg);

/* "70B3D57ED0001234" <-> uint64_t (16 hex digits, either case). */
int	registry_parse_eui(const char *s, uint64_t *eui);
void	registry_format_eui(uint64_t eui, char buf[17]);

#endif
