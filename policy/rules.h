/*
 * rules.h - least privilege per device: which streams a device may feed,
 * which message kinds it may send, how large and how often, and which
 * commands may be sent to it.
 *
 * Rules come from the registry file (policy/registry.c reads them): a
 * class is a named rule set in the top-level `classes` list; a device
 * names one (`class = "collar";`) and may give fields of its own, which
 * override its class's field by field.  The registry resolves this once at
 * load into one compiled struct rules_set per class and per device with
 * fields of its own, and points every device at its set (NULL: no rule,
 * the device sends nothing upstream).  Checking a record is then a few
 * loads and compares: a 256-bit kind map, a size, the stream verdict
 * resolved at load, and a token bucket (policy/rate.c).
 *
 * Default deny: kinds and commands not listed are refused.  Left out of
 * a rule set, `streams` means the device's own stream, `max_payload` the
 * link's limit and the rate no limit beyond policy.rate_per_min.
 *
 * No I/O: the caller logs and counts.  Time is the monotonic clock in ms.
 */
#ifndef FB_RULES_H
#define FB_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "policy/rate.h"
#include "policy/registry.h"

#define RULES_CLASSES_MAX	1024
/* Devices with neither a class nor rules of their own get this class
 * when the file defines it (docs/operations.md, "Rules per device"). */
#define RULES_CLASS_DEFAULT	"default"
#define RULES_CLASS_NAME_MAX	63
#define RULES_STREAMS_MAX	64	/* names in one `streams` list */
#define RULES_KINDS		256	/* a kind is one byte */
#define RULES_RATE_PER_MIN_MAX	6000000
#define RULES_RATE_BURST_MAX	100000

enum rules_verdict {
	RULES_OK = 0,
	RULES_DROP_NONE = -1,		/* the device has no rule */
	RULES_DROP_STREAM = -2,		/* its stream is not allowed */
	RULES_DROP_KIND = -3,		/* payload[0] not an allowed kind */
	RULES_DROP_SIZE = -4,		/* payload above max_payload */
	RULES_DROP_RATE = -5,		/* over the rule's token bucket */
};
#define RULES_VERDICT_COUNT	6

/* Which fields a set gives itself; the others come from its class. */
#define RULES_HAVE_STREAMS	0x01
#define RULES_HAVE_KINDS	0x02
#define RULES_HAVE_MAX_PAYLOAD	0x04
#define RULES_HAVE_RATE_PER_MIN	0x08
#define RULES_HAVE_RATE_BURST	0x10
#define RULES_HAVE_COMMANDS	0x20

struct rules_cmd {
	uint8_t		kind;
	uint16_t	max_size;	/* bytes of the command's body */
};

/* A compiled rule set.  Arrays and names live in the registry's arena,
 * shared between a class and the devices that inherit them. */
struct rules_set {
	uint64_t		 kinds[RULES_KINDS / 64];
	const char		**streams;	/* RULES_HAVE_STREAMS */
	const struct rules_cmd	*cmds;		/* sorted by kind */
	const struct rules_set	*parent;	/* a device's class */
	const char		*name;		/* a class's; NULL: a device's */
	struct rate_limit	 rate;
	uint32_t		 line;		/* a class's entry, or where it
						 * was first named */
	uint16_t		 max_payload;
	uint16_t		 nstreams;
	uint16_t		 ncmds;
	uint8_t			 have;		/* RULES_HAVE_* */
	uint8_t			 kinds_any;	/* also an empty payload */
	uint8_t			 defined;	/* a class: its entry was read */
};

/* Memory for a set's arrays and names: 8-byte aligned, freed with the
 * sets (the registry's arena). */
typedef void *rules_alloc_fn(void *arg, size_t size);

/*
 * One setting of a class or device entry into set.  Returns 1 when e is
 * not a rule's setting (the caller's, then), 0 when taken, -EINVAL with a
 * message in msg and the setting at fault in *where, or -ENOMEM.
 */
int	rules_parse_setting(struct rules_set *set, const config_setting_t *e,
	    rules_alloc_fn *alloc, void *arg, const config_setting_t **where,
	    char *msg, size_t msglen);
/* The fields set does not give itself, from cls (NULL: none); then the
 * defaults of the fields given by neither. */
void	rules_inherit(struct rules_set *set, const struct rules_set *cls);
/* The rules of a registry without classes (docs/operations.md): any kind
 * and size on the device's own stream, no command. */
void	rules_allow_all(struct rules_set *set);
/* Whether set lets a device feed stream (its own, when set has no
 * `streams`). */
int	rules_stream_allowed(const struct rules_set *set, const char *stream);

/*
 * Which commands may be sent to a device: 0, -EPERM (no rule, or the kind
 * is not allowed) or -EMSGSIZE (above the kind's max_size).
 */
int	rules_command_allowed(const struct device *dev, unsigned int kind,
	    size_t size);

/* The per-device state of one registry: token buckets and refusals. */
struct rules;

/* The registry must outlive the state.  NULL: out of memory. */
struct rules *rules_new(const struct registry *reg, uint64_t now_ms);
void	rules_free(struct rules *r);
/* After a reload: buckets and refusal counts of the devices in both
 * registries go over from old (whose registry must still be alive). */
void	rules_carry(struct rules *r, const struct rules *old);
/* An authenticated record of dev: RULES_OK or a negative verdict (counted
 * against the device).  Takes a token only when the rest allows it. */
int	rules_check(struct rules *r, const struct device *dev,
	    const uint8_t *payload, size_t len, uint64_t now_ms);
/* Records refused so far, per device of the registry (registry_index). */
uint64_t rules_refused(const struct rules *r, const struct device *dev);
const char *rules_strverdict(int verdict);	/* "rule_kind", ... */

#endif
