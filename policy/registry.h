/*
 * registry.h - the site's device registry: which nodes exist, their names,
 * the stream their telemetry belongs to, and their secrets.
 *
 * Two files: the registry (libconfig; ids, names, streams, revocation) and
 * the keys file holding each node's 256-bit secret, which registry_load
 * refuses to read when it is group- or world-readable.  Loading is the only
 * I/O this module does.  Lookup by EUI is a binary search over a sorted array.
 */
#ifndef FB_REGISTRY_H
#define FB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "radio/link.h"

#define REGISTRY_DEVICES_MAX	100000
#define REGISTRY_NAME_MAX	63
#define REGISTRY_STREAM_MAX	63	/* also an MQTT topic level */

struct device {
	uint64_t	eui;
	uint16_t	stream;		/* index into the registry's streams */
	uint8_t		revoked;
	uint8_t		secret[LINK_SECRET_LEN];
	char		name[REGISTRY_NAME_MAX + 1];
};

struct registry;

/* Load both files.  On failure returns -errno and writes "FILE:LINE: what
 * is wrong" into err.  The registry owns the devices; registry_free wipes
 * the secrets. */
int	registry_load(const char *devices_path, const char *keys_path,
	    struct registry **out, char *err, size_t errlen);
void	registry_free(struct registry *reg);

const struct device *registry_find(const struct registry *reg, uint64_t eui);
size_t	registry_count(const struct registry *reg);
const struct device *registry_at(const struct registry *reg, size_t i);
size_t	registry_stream_count(const struct registry *reg);
const char *registry_stream_name(const struct registry *reg, uint16_t idx);

/* "70B3D57ED0001234" <-> uint64_t (16 hex digits, either case). */
int	registry_parse_eui(const char *s, uint64_t *eui);
void	registry_format_eui(uint64_t eui, char buf[17]);

#endif
