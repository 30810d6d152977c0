/*
 * fuzz_sessions.c - the durable sessions file (daemon/store/sessions.c)
 * on attacker-chosen bytes: a file on the state directory's disk is input
 * too (torn writes, bit rot, an edited copy).  Every record the store
 * accepts goes on to policy's decoder, ident_restore, against a registry
 * of one device, as the daemon's start-up does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/store/sessions.h"
#include "policy/ident.h"

#include "tests/fuzz/fuzzreg.h"

static void
load(void *arg, uint64_t key, const uint8_t *body, size_t len)
{
	struct ident *id = arg;

	if (len > SESSIONS_BODY_MAX)
		abort();
	(void)ident_restore(id, key, body, len, 0);
}

static void
bad(void *arg, uint64_t off, uint64_t len, int torn, const char *why)
{
	(void)arg;
	(void)torn;
	if (why == NULL || len == 0 || off > SESSIONS_READ_MAX_BYTES)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry *reg = NULL;
	struct ident *id = NULL;
	char err[128];

	if (registry_load_mem("d", fuzzreg_devs, strlen(fuzzreg_devs), "k",
	    fuzzreg_keys, strlen(fuzzreg_keys), &reg, err, sizeof(err)) != 0 ||
	    (id = ident_new(reg)) == NULL)
		abort();
	(void)sessions_parse(data, size, load, bad, id);
	ident_free(id);
	registry_free(reg);
	return 0;
}
