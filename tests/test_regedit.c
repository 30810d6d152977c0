/*
 * test_regedit.c - the registry and keys files edited as text: an entry
 * found by id (whatever its case, never inside a comment or a string),
 * appended after the last entry (a trailing comment stays where it was),
 * replaced, removed with its comma, and malformed lists refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/regedit.h"

#define A	0x70B3D57ED0001001ULL
#define B	0x70B3D57ED0002002ULL

static char *
edit(const char *t, uint64_t eui, const char *entry, int want)
{
	struct regedit_pos p;
	char *out = NULL;
	size_t n;

	assert_int_equal(regedit_find(t, strlen(t), eui, &p), 0);
	assert_int_equal(regedit_apply(t, strlen(t), &p, entry, &out, &n),
	    want);
	if (out != NULL)
		assert_int_equal(strlen(out), n);
	return out;
}

static void
test_find(void **state)
{
	static const char t[] = "# { id = \"70B3D57ED0002002\"; }\n"
	    "devices = ( { name = \"id = \\\"70B3D57ED0002002\\\"\"; "
	    "id = \"70B3D57ED0001001\"; stream = \"a\"; },\n"
	    "  /* { id = \"70B3D57ED0002002\" } */\n"
	    "  { id : \"70b3d57ed0002002\"; stream = \"b\"; } );\n";
	struct regedit_pos p;

	(void)state;
	assert_int_equal(regedit_find(t, strlen(t), B, &p), 0);
	assert_true(p.found);
	assert_int_equal(p.nentries, 2);
	assert_memory_equal(t + p.start, "{ id : \"70b3d57ed0002002\"", 25);
	assert_int_equal(t[p.end - 1], '}');
	assert_int_equal(t[p.close], ')');
	assert_int_equal(regedit_find(t, strlen(t), A, &p), 0);
	assert_true(p.found);
	assert_int_equal(regedit_find(t, strlen(t), 1, &p), 0);
	assert_false(p.found);
}

static void
test_append_replace_remove(void **state)
{
	char *s, *s2;

	(void)state;
	s = edit("devices = (\n  # none yet\n);\n", A, "{ id = \"A\"; }", 0);
	assert_string_equal(s, "devices = (\n  { id = \"A\"; }\n\n  # none "
	    "yet\n);\n");
	free(s);
	s = edit("k = ( { id = \"70B3D57ED0001001\"; } # first\n);", B,
	    "{ X }", 0);
	assert_string_equal(s, "k = ( { id = \"70B3D57ED0001001\"; },\n  "
	    "{ X } # first\n);");
	s2 = edit(s, A, "{ id = \"70B3D57ED0001001\"; y = 1; }", 0);
	assert_string_equal(s2, "k = ( { id = \"70B3D57ED0001001\"; y = 1; },"
	    "\n  { X } # first\n);");
	free(s);
	s = edit(s2, A, NULL, 0);
	assert_string_equal(s, "k = ( \n  { X } # first\n);");
	free(s2);
	s2 = edit("k = ( { id = \"70B3D57ED0001001\"; }, "
	    "{ id = \"70B3D57ED0002002\"; } );", B, NULL, 0);
	assert_string_equal(s2, "k = ( { id = \"70B3D57ED0001001\"; } );");
	free(s2);
	assert_null(edit(s, A, NULL, -ENOENT));
	free(s);
}

/* A device's own `commands` list and a `classes` list after the devices
 * (policy/rules.h): regedit_find refused the first, and must never take
 * the second for the devices. */
static void
test_rules_lists_left_alone(void **state)
{
	static const char t[] = "devices = (\n"
	    "  { id = \"70B3D57ED0001001\"; stream = \"a\"; commands = ( "
	    "{ kind = 1; max_size = 4; } ); }\n);\n"
	    "classes = ( { name = \"c\"; commands = ( { kind = 2; "
	    "max_size = 8; } ); } );\n";
	struct regedit_pos p;
	char *s;

	(void)state;
	assert_int_equal(regedit_find(t, strlen(t), A, &p), 0);
	assert_true(p.found);
	assert_int_equal(p.nentries, 1);
	assert_int_equal(t[p.close], ')');
	assert_int_equal(t[p.close + 1], ';');
	assert_int_equal(t[p.close + 3], 'c');
	s = edit(t, B, "{ id = \"70B3D57ED0002002\"; }", 0);
	assert_non_null(strstr(s, "} ); },\n  { id = \"70B3D57ED0002002\"; "
	    "}\n);\nclasses = ( { name"));
	free(s);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"", "devices = { };", "d = ( { ;", "d = ( \"open );",
		"d = ( /* open );", "d = ( } );", "d = ( ( ) );",
		"d = ( { } ", "{ } ( )",
	};
	struct regedit_pos p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(regedit_find(bad[i], strlen(bad[i]), A, &p),
		    -EINVAL);
}

static void
expect_set(const char *entry, const char *key, const char *value,
    const char *want)
{
	char *out = NULL;

	assert_int_equal(regedit_entry_set(entry, key, value, &out), 0);
	assert_string_equal(out, want);
	free(out);
}

/* One setting of an entry, every other byte kept: a device's own rules
 * and comments survive a revocation and a re-provisioning. */
static void
test_entry_set(void **state)
{
	char *out = (char *)1;

	(void)state;
	expect_set("{ id = \"70B3D57ED0001001\"; stream = \"cattle\"; }",
	    "revoked", "true", "{ id = \"70B3D57ED0001001\"; stream = "
	    "\"cattle\"; revoked = true; }");
	expect_set("{ id = \"A\"; revoked = true; kinds = [1, 2]; }",
	    "revoked", NULL, "{ id = \"A\"; kinds = [1, 2]; }");
	expect_set("{ id = \"A\"; revoked = false; }", "revoked", "true",
	    "{ id = \"A\"; revoked = true; }");
	/* Not fooled by a name, a nested list, or a comment. */
	expect_set("{ name = \"revoked = true;\"; commands = ( { kind = 1; "
	    "revoked = 1; } ); /* revoked */ }", "revoked", "true",
	    "{ name = \"revoked = true;\"; commands = ( { kind = 1; "
	    "revoked = 1; } ); /* revoked */ revoked = true; }");
	expect_set("{ id = \"A\"; class = \"collar\" }", "class",
	    "\"trough\"", "{ id = \"A\"; class = \"trough\"; }");
	expect_set("{ id = \"A\"; stream_x = 1; }", "stream", "\"w\"",
	    "{ id = \"A\"; stream_x = 1; stream = \"w\"; }");
	expect_set("{ id = \"A\"; }", "revoked", NULL, "{ id = \"A\"; }");
	/* A comment's line end stays: the setting does not fall into it. */
	expect_set("{ id = \"A\"; # own\n name = \"\"; }", "name",
	    "\"n\"", "{ id = \"A\"; # own\n name = \"n\"; }");
	expect_set("{ id = \"A\"; # own\n}", "revoked", "true",
	    "{ id = \"A\"; # own\n revoked = true; }");
	expect_set("{ id = \"A\"; # own\n revoked = true; }", "revoked",
	    NULL, "{ id = \"A\"; # own\n }");
	/* Not one entry. */
	assert_int_equal(regedit_entry_set("{ id = \"A\"; ", "revoked",
	    "true", &out), -EINVAL);
	assert_null(out);
	assert_int_equal(regedit_entry_set("{ name = \"x }", "revoked",
	    "true", &out), -EINVAL);
	assert_int_equal(regedit_entry_set("", "revoked", "true", &out),
	    -EINVAL);
	assert_int_equal(regedit_entry_set("{ a = ( }", "revoked", "true",
	    &out), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_append_replace_remove),
		cmocka_unit_test(test_rules_lists_left_alone),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_entry_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
