/*
 * test_rules.c - rules per device and class (policy/rules.c, read by
 * policy/registry.c): each rule, a device's own field overriding its
 * class's, default deny, "any" kind, the implicit class of a registry
 * without classes, the token bucket with time passed in, commands, the
 * state carried over a reload, and every malformed class entry refused
 * with its file and line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/registry.h"
#include "policy/cmdauth.h"
#include "policy/rules.h"

#define K "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY(id)	"{ id = \"" id "\"; secret = \"" K "\"; }"
#define E1	0x70B3D57ED0000001ULL
#define E2	0x70B3D57ED0000002ULL
#define E3	0x70B3D57ED0000003ULL
#define E4	0x70B3D57ED0000004ULL
#define KEYS	"keys = ( " KEY("70B3D57ED0000001") " );"

/* Loads devices with a key for each of 70B3D57ED000000[1-4] in it. */
static struct registry *
load(const char *devices)
{
	struct registry *reg = NULL;
	char err[512], keys[1024], id[17];
	size_t n = 0;
	int r, i;

	n += (size_t)snprintf(keys, sizeof(keys), "keys = ( ");
	for (i = 1; i <= 4; i++) {
		snprintf(id, sizeof(id), "70B3D57ED000000%d", i);
		if (strstr(devices, id) != NULL)
			n += (size_t)snprintf(keys + n, sizeof(keys) - n,
			    "%s{ id = \"%s\"; secret = \"" K "\"; }",
			    n > 9 ? ", " : "", id);
	}
	n += (size_t)snprintf(keys + n, sizeof(keys) - n, " );");
	r = registry_load_mem("d", devices, strlen(devices), "k", keys, n,
	    &reg, err, sizeof(err));
	if (r != 0)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	return reg;
}

static void
expect_err(const char *devices, const char *want)
{
	struct registry *reg = NULL;
	char err[512];

	assert_int_equal(registry_load_mem("d", devices, strlen(devices), "k",
	    KEYS, strlen(KEYS), &reg, err, sizeof(err)), -EINVAL);
	assert_null(reg);
	assert_string_equal(err, want);
}

static int
check(struct rules *r, const struct registry *reg, uint64_t eui,
    const uint8_t *p, size_t len, uint64_t now_ms)
{
	const struct device *d = registry_find(reg, eui);

	assert_non_null(d);
	return rules_check(r, d, p, len, now_ms);
}

/* A payload whose kind is k. */
static const uint8_t *
pl(uint8_t k)
{
	static uint8_t b[256];

	memset(b, 0xee, sizeof(b));
	b[0] = k;
	return b;
}

static const char classes_file[] =
    "devices = (\n"
    "  { id = \"70B3D57ED0000001\"; stream = \"cattle\"; class = \"collar\"; },\n"
    "  { id = \"70B3D57ED0000002\"; stream = \"cattle\"; class = \"collar\";\n"
    "    kinds = [ 7 ]; max_payload = 10; streams = [ \"sheep\" ]; },\n"
    "  { id = \"70B3D57ED0000003\"; stream = \"water\"; },\n"
    "  { id = \"70B3D57ED0000004\"; stream = \"water\"; kinds = \"any\"; }\n"
    ");\n"
    "classes = (\n"
    "  { name = \"collar\"; streams = [ \"cattle\", \"sheep\" ];\n"
    "    kinds = [ 1, 2 ]; max_payload = 32;\n"
    "    commands = ( { kind = 1; max_size = 16; }, { kind = 9; max_size = 0; } ); }\n"
    ");\n";

static void
test_class_and_override(void **state)
{
	struct registry *reg = load(classes_file);
	struct rules *r = rules_new(reg, 0);

	(void)state;
	assert_non_null(r);
	assert_int_equal(registry_class_count(reg), 1);
	assert_false(registry_rules_implicit(reg));
	/* E1: the class as it is. */
	assert_int_equal(check(r, reg, E1, pl(1), 20, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(2), 32, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(3), 20, 0), RULES_DROP_KIND);
	assert_int_equal(check(r, reg, E1, pl(1), 33, 0), RULES_DROP_SIZE);
	assert_int_equal(check(r, reg, E1, pl(1), 0, 0), RULES_DROP_KIND);
	/* E2: its own kinds, size and streams win; its stream is no longer
	 * among them. */
	assert_int_equal(check(r, reg, E2, pl(7), 5, 0), RULES_DROP_STREAM);
	assert_false(registry_find(reg, E2)->rules_stream_ok);
	assert_true(registry_find(reg, E1)->rules_stream_ok);
	/* E3: no class, no rules, and no class "default": denied. */
	assert_null(registry_find(reg, E3)->rules);
	assert_int_equal(check(r, reg, E3, pl(1), 5, 0), RULES_DROP_NONE);
	/* E4: rules of its own only: any kind, even none; its own stream. */
	assert_int_equal(check(r, reg, E4, pl(200), 1, 0), RULES_OK);
	assert_int_equal(check(r, reg, E4, NULL, 0, 0), RULES_OK);
	assert_int_equal(check(r, reg, E4, pl(0), 239, 0), RULES_OK);
	assert_int_equal(check(r, reg, E4, pl(0), 240, 0), RULES_DROP_SIZE);
	/* Refusals per device. */
	assert_int_equal(rules_refused(r, registry_find(reg, E1)), 3);
	assert_int_equal(rules_refused(r, registry_find(reg, E2)), 1);
	assert_int_equal(rules_refused(r, registry_find(reg, E4)), 1);
	rules_free(r);
	registry_free(reg);
}

static void
test_override_field_by_field(void **state)
{
	static const char f[] =
	    "devices = (\n"
	    "  { id = \"70B3D57ED0000001\"; stream = \"s\"; class = \"c\";\n"
	    "    max_payload = 4; },\n"
	    "  { id = \"70B3D57ED0000002\"; stream = \"s\"; class = \"c\";\n"
	    "    kinds = [ 5 ]; rate_burst = 2; }\n"
	    ");\n"
	    "classes = ( { name = \"c\"; kinds = [ 1 ]; max_payload = 8;\n"
	    "  rate_per_min = 60; rate_burst = 1; } );\n";
	struct registry *reg = load(f);
	struct rules *r = rules_new(reg, 0);
	const struct rules_set *s1 = registry_find(reg, E1)->rules;
	const struct rules_set *s2 = registry_find(reg, E2)->rules;

	(void)state;
	/* E1 keeps the class's kinds and rate, not its size. */
	assert_int_equal(s1->max_payload, 4);
	assert_int_equal(s1->rate.per_min, 60);
	assert_int_equal(s1->rate.burst, 1);
	assert_int_equal(check(r, reg, E1, pl(1), 4, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(1), 5, 0), RULES_DROP_SIZE);
	/* E2 keeps the class's size and per_min, not kinds or burst. */
	assert_int_equal(s2->max_payload, 8);
	assert_int_equal(s2->rate.per_min, 60);
	assert_int_equal(s2->rate.burst, 2);
	assert_int_equal(check(r, reg, E2, pl(1), 4, 0), RULES_DROP_KIND);
	assert_int_equal(check(r, reg, E2, pl(5), 4, 0), RULES_OK);
	assert_int_equal(check(r, reg, E2, pl(5), 4, 0), RULES_OK);
	assert_int_equal(check(r, reg, E2, pl(5), 4, 0), RULES_DROP_RATE);
	/* The class itself is untouched by its devices. */
	assert_int_equal(registry_class_at(reg, 0)->max_payload, 8);
	assert_int_equal(registry_class_at(reg, 0)->rate.burst, 1);
	rules_free(r);
	registry_free(reg);
}

/* A token bucket of 60 a minute, bursts of 3, with time passed in. */
static void
test_rate_time_injected(void **state)
{
	static const char f[] =
	    "devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; "
	    "class = \"c\"; } );\n"
	    "classes = ( { name = \"c\"; kinds = [ 1 ]; rate_per_min = 60; "
	    "rate_burst = 3; } );\n";
	struct registry *reg = load(f);
	struct rules *r = rules_new(reg, 1000);
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(check(r, reg, E1, pl(1), 4, 1000), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(1), 4, 1000),
	    RULES_DROP_RATE);
	/* A refused kind spends no token... */
	assert_int_equal(check(r, reg, E1, pl(2), 4, 1999),
	    RULES_DROP_KIND);
	assert_int_equal(check(r, reg, E1, pl(1), 4, 1999),
	    RULES_DROP_RATE);
	/* ... and a second later there is one. */
	assert_int_equal(check(r, reg, E1, pl(1), 4, 2000), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(1), 4, 2000),
	    RULES_DROP_RATE);
	/* A clock going back adds nothing. */
	assert_int_equal(check(r, reg, E1, pl(1), 4, 500), RULES_DROP_RATE);
	/* A long silence fills it to the burst, not beyond. */
	for (i = 0; i < 3; i++)
		assert_int_equal(check(r, reg, E1, pl(1), 4, 3600000),
		    RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(1), 4, 3600000),
	    RULES_DROP_RATE);
	assert_int_equal(rules_refused(r, registry_find(reg, E1)), 6);
	rules_free(r);
	registry_free(reg);
}

/* A registry from before rules: everything passes as it did, but no
 * command; rules of a device's own narrow the implicit class. */
static void
test_implicit_default(void **state)
{
	static const char f[] =
	    "devices = (\n"
	    "  { id = \"70B3D57ED0000001\"; stream = \"s\"; },\n"
	    "  { id = \"70B3D57ED0000002\"; stream = \"s\"; max_payload = 3; }\n"
	    ");\n";
	struct registry *reg = load(f);
	struct rules *r = rules_new(reg, 0);

	(void)state;
	assert_true(registry_rules_implicit(reg));
	assert_int_equal(registry_class_count(reg), 0);
	assert_int_equal(check(r, reg, E1, pl(0xff), 239, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, NULL, 0, 0), RULES_OK);
	assert_int_equal(check(r, reg, E2, pl(9), 3, 0), RULES_OK);
	assert_int_equal(check(r, reg, E2, pl(9), 4, 0), RULES_DROP_SIZE);
	assert_int_equal(rules_command_allowed(registry_find(reg, E1), 1, 0),
	    -EPERM);
	rules_free(r);
	registry_free(reg);
}

/* With a classes list, a class named "default" is what unclassed devices
 * get; an empty classes list denies them all. */
static void
test_default_class(void **state)
{
	static const char f[] =
	    "devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; } );\n"
	    "classes = ( { name = \"default\"; kinds = [ 4 ]; } );\n";
	static const char g[] =
	    "devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; } );\n"
	    "classes = ( );\n";
	struct registry *reg = load(f);
	struct rules *r = rules_new(reg, 0);

	(void)state;
	assert_int_equal(check(r, reg, E1, pl(4), 4, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(5), 4, 0), RULES_DROP_KIND);
	rules_free(r);
	registry_free(reg);
	reg = load(g);
	r = rules_new(reg, 0);
	assert_false(registry_rules_implicit(reg));
	assert_int_equal(check(r, reg, E1, pl(4), 4, 0), RULES_DROP_NONE);
	rules_free(r);
	registry_free(reg);
}

static void
test_commands(void **state)
{
	struct registry *reg = load(classes_file);
	static const char f[] =
	    "devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; "
	    "class = \"c\"; commands = ( ); } );\n"
	    "classes = ( { name = \"c\"; commands = ( { kind = 3; "
	    "max_size = 1; } ); } );\n";
	const struct device *d = registry_find(reg, E1);
	const char *why;

	(void)state;
	assert_int_equal(rules_command_allowed(d, 1, 16), 0);
	assert_int_equal(rules_command_allowed(d, 1, 17), -EMSGSIZE);
	assert_int_equal(rules_command_allowed(d, 9, 0), 0);
	assert_int_equal(rules_command_allowed(d, 2, 0), -EPERM);
	assert_int_equal(rules_command_allowed(d, 256, 0), -EPERM);
	/* No rule, and a class without commands: none. */
	assert_int_equal(rules_command_allowed(registry_find(reg, E3), 1, 0),
	    -EPERM);
	assert_int_equal(rules_command_allowed(registry_find(reg, E4), 1, 0),
	    -EPERM);
	/* E2 inherits the class's list. */
	assert_int_equal(rules_command_allowed(registry_find(reg, E2), 9, 0),
	    0);
	/* What the command path makes of it (policy/cmdauth.c). */
	assert_int_equal(cmdauth_check(reg, E1, 1, 16, &why), CMDAUTH_OK);
	assert_int_equal(cmdauth_check(reg, E1, 1, 17, &why),
	    CMDAUTH_TOO_LARGE);
	assert_non_null(strstr(why, "rules"));
	assert_int_equal(cmdauth_check(reg, E1, 2, 0, &why),
	    CMDAUTH_NOT_AUTHORISED);
	assert_int_equal(cmdauth_check(reg, E3, 1, 0, &why),
	    CMDAUTH_NOT_AUTHORISED);
	assert_int_equal(cmdauth_check(reg, 0x1234, 1, 0, &why),
	    CMDAUTH_UNKNOWN);
	registry_free(reg);
	/* An empty list of its own overrides the class's. */
	reg = load(f);
	assert_int_equal(rules_command_allowed(registry_find(reg, E1), 3, 1),
	    -EPERM);
	assert_int_equal(registry_class_at(reg, 0)->ncmds, 1);
	registry_free(reg);
}

/* SIGHUP: buckets and refusals of a device carry over by EUI. */
static void
test_carry(void **state)
{
	static const char f[] =
	    "devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; "
	    "class = \"c\"; } );\n"
	    "classes = ( { name = \"c\"; kinds = [ 1 ]; rate_per_min = 1; "
	    "rate_burst = 1; } );\n";
	static const char g[] =
	    "devices = ( { id = \"70B3D57ED0000002\"; stream = \"s\"; "
	    "class = \"c\"; },\n { id = \"70B3D57ED0000001\"; stream = \"s\"; "
	    "class = \"c\"; } );\n"
	    "classes = ( { name = \"c\"; kinds = [ 1 ]; rate_per_min = 1; "
	    "rate_burst = 1; } );\n";
	struct registry *reg = load(f), *reg2 = load(g);
	struct rules *r = rules_new(reg, 0), *r2 = rules_new(reg2, 10);

	(void)state;
	assert_int_equal(check(r, reg, E1, pl(1), 1, 0), RULES_OK);
	assert_int_equal(check(r, reg, E1, pl(1), 1, 0), RULES_DROP_RATE);
	rules_carry(r2, r);
	rules_free(r);
	registry_free(reg);
	assert_int_equal(rules_refused(r2, registry_find(reg2, E1)), 1);
	assert_int_equal(check(r2, reg2, E1, pl(1), 1, 10),
	    RULES_DROP_RATE);
	assert_int_equal(check(r2, reg2, E2, pl(1), 1, 10), RULES_OK);
	rules_free(r2);
	registry_free(reg2);
}

#define DEV	"devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; } );\n"

static void
test_malformed_classes(void **state)
{
	(void)state;
	expect_err("devices = (\n  { id = \"70B3D57ED0000001\"; stream = \"s\";"
	    "\n    class = \"nope\"; }\n);\nclasses = ( { name = \"c\"; } );\n",
	    "d:3: unknown class \"nope\" (not in the 'classes' list)");
	expect_err("devices = ( { id = \"70B3D57ED0000001\"; stream = \"s\"; "
	    "class = \"c\"; } );\n", "d:1: unknown class \"c\" (not in the "
	    "'classes' list)");
	expect_err(DEV "classes = (\n  { name = \"c\"; },\n\n"
	    "  { name = \"c\"; kinds = [ 1 ]; }\n);\n",
	    "d:5: duplicate class \"c\" (first at line 3)");
	expect_err(DEV "classes = (\n  { name = \"c\";\n    kinds = [ 1, 256 "
	    "]; }\n);\n", "d:4: 'kinds' 256 out of range (0..255)");
	expect_err(DEV "classes = (\n  { name = \"c\"; kinds = [ -1 ]; }\n);\n",
	    "d:3: 'kinds' -1 out of range (0..255)");
	expect_err(DEV "classes = (\n  { name = \"c\"; kinds = \"all\"; }\n);\n",
	    "d:3: 'kinds' must be \"any\" or a list of kinds (0..255): "
	    "[ 1, 2 ]");
	expect_err(DEV "classes = (\n  { name = \"c\"; kinds = 3; }\n);\n",
	    "d:3: 'kinds' must be \"any\" or a list of kinds (0..255): "
	    "[ 1, 2 ]");
	expect_err(DEV "classes = (\n  { name = \"c\";\n max_payload = -1; }\n);"
	    "\n", "d:4: 'max_payload' -1 out of range (0..239)");
	expect_err(DEV "classes = (\n  { name = \"c\"; max_payload = 240; }\n);"
	    "\n", "d:3: 'max_payload' 240 out of range (0..239)");
	expect_err(DEV "classes = (\n  { name = \"c\"; max_payload = \"48\"; }"
	    "\n);\n", "d:3: 'max_payload' must be an integer");
	expect_err(DEV "classes = (\n  { name = \"c\"; commands = (\n"
	    "    { kind = 1; max_size = -4; } ); }\n);\n",
	    "d:4: 'max_size' -4 out of range (0..239)");
	expect_err(DEV "classes = (\n  { name = \"c\"; commands = (\n"
	    "    { kind = 1; } ); }\n);\n",
	    "d:4: a command needs both 'kind' and 'max_size'");
	expect_err(DEV "classes = (\n  { name = \"c\"; commands = (\n"
	    "    { kind = 1; max_size = 1; },\n"
	    "    { kind = 1; max_size = 2; } ); }\n);\n",
	    "d:5: command kind 1 twice in 'commands'");
	expect_err(DEV "classes = (\n  { name = \"c\"; commands = ( { kind = 1;"
	    " max_size = 1; colour = 2; } ); }\n);\n",
	    "d:3: unknown setting 'colour' in a command (known: kind, "
	    "max_size)");
	expect_err(DEV "classes = (\n  { name = \"c\"; commands = 1; }\n);\n",
	    "d:3: 'commands' must be a list: ( { kind = 1; max_size = 16; }, "
	    "... )");
	expect_err(DEV "classes = (\n  { name = \"c\"; streams = \"s\"; }\n);\n",
	    "d:3: 'streams' must be a list of stream names: [ \"cattle\", "
	    "... ]");
	expect_err(DEV "classes = (\n  { name = \"c\"; streams = [ \"a/b\" ]; }"
	    "\n);\n", "d:3: bad stream \"a/b\" in 'streams': 1 to 63 of A-Z "
	    "a-z 0-9 _ . -");
	expect_err(DEV "classes = (\n  { name = \"c\"; rate_per_min = -1; }\n);"
	    "\n", "d:3: 'rate_per_min' -1 out of range (0..6000000)");
	expect_err(DEV "classes = (\n  { name = \"c\"; rate_burst = 0; }\n);\n",
	    "d:3: 'rate_burst' 0 out of range (1..100000)");
	expect_err(DEV "classes = (\n  { name = 5; }\n);\n",
	    "d:3: 'name' must be a string");
	expect_err(DEV "classes = (\n  { name = \"a b\"; }\n);\n",
	    "d:3: bad class name \"a b\": 1 to 63 of A-Z a-z 0-9 _ . -");
	expect_err(DEV "classes = (\n  { kinds = [ 1 ]; }\n);\n",
	    "d:3: class without 'name'");
	expect_err(DEV "classes = (\n  { name = \"c\"; id = \"x\"; }\n);\n",
	    "d:3: unknown setting 'id' in a class entry (known: name, "
	    "streams, kinds, max_payload, rate_per_min, rate_burst, "
	    "commands)");
	expect_err("classes = ( );\n" DEV, "d:1: the 'classes' list must come "
	    "after the 'devices' list");
	expect_err(DEV "classes = ( );\nclasses = ( );\n",
	    "d:3: unexpected text after the 'classes' list");
	expect_err(DEV "classes = ( { name = \"c\"; } );\nextra = 1;\n",
	    "d:3: unexpected text after the 'classes' list");
	/* A device's own rules are checked the same way. */
	expect_err("devices = (\n  { id = \"70B3D57ED0000001\"; stream = \"s\";"
	    "\n    kinds = [ 300 ]; }\n);\n",
	    "d:3: 'kinds' 300 out of range (0..255)");
	expect_err("devices = (\n  { id = \"70B3D57ED0000001\"; stream = \"s\";"
	    " class = 1; }\n);\n", "d:2: 'class' must be a string");
}

static void
test_too_many_classes(void **state)
{
	size_t cap = 64 + (RULES_CLASSES_MAX + 1) * 24, n = 0, i;
	struct registry *reg = NULL;
	char *f = malloc(cap), err[256];

	(void)state;
	assert_non_null(f);
	n += (size_t)snprintf(f + n, cap - n, DEV "classes = (\n");
	for (i = 0; i <= RULES_CLASSES_MAX; i++)
		n += (size_t)snprintf(f + n, cap - n, "{ name = \"c%zu\"; },\n",
		    i);
	n += (size_t)snprintf(f + n, cap - n, ");\n");
	assert_true(n < cap);
	assert_int_equal(registry_load_mem("d", f, n, "k", KEYS, strlen(KEYS),
	    &reg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "d:1027: too many classes (at most 1024)");
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_and_override),
		cmocka_unit_test(test_override_field_by_field),
		cmocka_unit_test(test_rate_time_injected),
		cmocka_unit_test(test_implicit_default),
		cmocka_unit_test(test_default_class),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_malformed_classes),
		cmocka_unit_test(test_too_many_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
