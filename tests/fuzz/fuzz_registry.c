/*
 * fuzz_registry.c - the registry scanner and loader on arbitrary files.
 * The input is the devices file, then a NUL byte, then the keys file (no
 * NUL: the keys file is the example one).  Loading must either succeed
 * with a consistent, sorted registry or fail with a "FILE:LINE:" message.
 * The devices file may carry a `classes` list and rules per device: every
 * loaded device's rules must then be a consistent compiled set, and its
 * commands sorted.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/registry.h"
#include "policy/rules.h"

static const char keys_default[] =
    "keys = ( { id = \"70B3D57ED0001001\"; secret = "
    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\";"
    " } );";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 leaks the text of a string token when a syntax error
 * follows it (e.g. `{ id "x"; }` or `{ s "" ; }`): its bug, a few bytes per
 * bad file, and nothing registry.c can free.  LeakSanitizer asks for this
 * hook.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* A compiled set: sizes within the link's, commands sorted and unique,
 * an allowed kind of every "any". */
static void
check_rules(const struct rules_set *set)
{
	size_t i;

	if (set->max_payload > LINK_PAYLOAD_MAX ||
	    set->nstreams > RULES_STREAMS_MAX ||
	    (set->kinds_any && set->kinds[3] != UINT64_MAX))
		abort();
	for (i = 0; i < set->nstreams; i++)
		if (!registry_stream_valid(set->streams[i]))
			abort();
	for (i = 0; i < set->ncmds; i++)
		if (set->cmds[i].max_size > LINK_PAYLOAD_MAX ||
		    (i > 0 && set->cmds[i - 1].kind >= set->cmds[i].kind))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	const char *keys = keys_default;
	size_t dlen = size, klen = strlen(keys_default), i;
	struct registry *reg = NULL;
	char err[256];
	int r;

	if (nul != NULL) {
		dlen = (size_t)(nul - data);
		keys = (const char *)nul + 1;
		klen = size - dlen - 1;
	}
	r = registry_load_mem("d", (const char *)data, dlen, "k", keys, klen,
	    &reg, err, sizeof(err));
	if (r != 0) {
		if (reg != NULL || (strncmp(err, "d:", 2) != 0 &&
		    strncmp(err, "k:", 2) != 0))
			abort();
		return 0;
	}
	for (i = 0; i < registry_count(reg); i++) {
		const struct device *d = registry_at(reg, i);

		if (registry_find(reg, d->eui) != d ||
		    registry_stream_name(reg, d->stream) == NULL ||
		    strlen(d->name) > REGISTRY_NAME_MAX ||
		    (i > 0 && registry_at(reg, i - 1)->eui >= d->eui))
			abort();
		if (d->rules != NULL)
			check_rules(d->rules);
		else if (registry_rules_implicit(reg))
			abort();
	}
	for (i = 0; i < registry_class_count(reg); i++)
		check_rules(registry_class_at(reg, i));
	registry_free(reg);
	return 0;
}
