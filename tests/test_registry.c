/*
 * test_registry.c - loading the device registry and keys files: the
 * example registry, every kind of bad file with its exact "FILE:LINE:"
 * message, a keys file other users can read, EUI parsing, and that every
 * stream name the registry admits passes the daemon's one rule for stream
 * names (batch_stream_ok).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/batch.h"
#include "policy/registry.h"

#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char dir[64];
static char dpath[128], kpath[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_registry.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dpath, sizeof(dpath), "%s/devices.conf", dir);
	snprintf(kpath, sizeof(kpath), "%s/keys.conf", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(dpath);
	(void)unlink(kpath);
	(void)rmdir(dir);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f;

	(void)unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
load(const char *devices, const char *keys, struct registry **reg,
    char *err, size_t errlen)
{
	write_file(dpath, devices, 0644);
	write_file(kpath, keys, 0600);
	return registry_load(dpath, kpath, reg, err, errlen);
}

/* Loading must fail with exactly this message; "@/" stands for the
 * directory of the files. */
static void
expect_err(const char *devices, const char *keys, const char *want)
{
	struct registry *reg = (struct registry *)1;
	char err[512], exp[512];
	size_t n = 0;
	const char *p;

	for (p = want; *p != '\0' && n < sizeof(exp) - 64; p++) {
		if (p[0] == '@' && p[1] == '/')
			n += (size_t)snprintf(exp + n, sizeof(exp) - n, "%s",
			    dir);
		else
			exp[n++] = *p;
	}
	exp[n] = '\0';
	assert_int_equal(load(devices, keys, &reg, err, sizeof(err)),
	    -EINVAL);
	assert_null(reg);
	assert_string_equal(err, exp);
}

#define DEV1 "  { id = \"70B3D57ED0001001\"; name = \"a\"; stream = \"s\"; }"
#define KEY1 "keys = ( { id = \"70B3D57ED0001001\"; secret = \"" K1 "\"; } );\n"

static void
test_example_registry(void **state)
{
	struct registry *reg = NULL;
	const struct device *d;
	char err[512], path[512];
	const char *src = getenv("srcdir");

	(void)state;
	snprintf(path, sizeof(path), "%s/etc/devices.conf",
	    src != NULL ? src : ".");
	write_file(kpath, "# keys\nkeys = (\n"
	    "  { id = \"70B3D57ED0003001\"; secret = \"" K2 "\"; },\n"
	    "  { id = \"70b3d57ed0001001\"; secret = \"" K1 "\"; },\n"
	    "  { id = \"70B3D57ED0002001\"; secret = \"" K1 "\"; }\n"
	    ");\n", 0600);
	assert_int_equal(registry_load(path, kpath, &reg, err, sizeof(err)),
	    0);
	assert_int_equal(registry_count(reg), 3);
	/* Sorted by EUI. */
	assert_true(registry_at(reg, 0)->eui == 0x70B3D57ED0001001ULL);
	assert_true(registry_at(reg, 2)->eui == 0x70B3D57ED0003001ULL);
	assert_null(registry_at(reg, 3));
	d = registry_find(reg, 0x70B3D57ED0002001ULL);
	assert_non_null(d);
	assert_string_equal(d->name, "trough-north");
	assert_string_equal(registry_stream_name(reg, d->stream), "water");
	assert_int_equal(d->revoked, 0);
	assert_int_equal(d->secret[0], 0x00);
	assert_int_equal(d->secret[31], 0x1f);
	assert_int_equal(registry_index(reg, d), 1);
	d = registry_find(reg, 0x70B3D57ED0003001ULL);
	assert_int_equal(d->secret[5], 0xaa);
	assert_null(registry_find(reg, 0x70B3D57ED0001002ULL));
	assert_int_equal(registry_stream_count(reg), 3);
	assert_null(registry_stream_name(reg, 3));
	registry_free(reg);
}

/* Comments of all three kinds, braces and comment markers inside
 * strings, a revoked device without a key, shared streams. */
static void
test_comments_strings_revoked(void **state)
{
	struct registry *reg = NULL;
	const struct device *d;
	char err[512];

	(void)state;
	assert_int_equal(load(
	    "/* header } { */\n"
	    "devices = ( # list\n"
	    "  { id = \"70B3D57ED0000002\"; // } trailing\n"
	    "    name = \"b}{ # // /*\"; stream = \"herd.north_1-a\"; },\n"
	    "  { id = \"70B3D57ED0000001\"; name = \"q\\\"}\"; /* x\n"
	    "  } */ stream = \"herd.north_1-a\"; revoked = true; },\n"
	    "  { id = \"70B3D57ED0000003\"; stream = \"s\"; }\n"
	    ");\n# end\n",
	    "keys = (\n"
	    "  { id = \"70B3D57ED0000002\"; secret = \"" K1 "\"; },\n"
	    "  { id = \"70B3D57ED0000003\"; secret = \"" K2 "\"; }\n"
	    ");", &reg, err, sizeof(err)), 0);
	assert_int_equal(registry_count(reg), 3);
	assert_int_equal(registry_stream_count(reg), 2);
	d = registry_find(reg, 1);
	assert_null(d);
	d = registry_at(reg, 0);
	assert_string_equal(d->name, "q\"}");
	assert_int_equal(d->revoked, 1);
	assert_int_equal(d->line, 5);
	d = registry_at(reg, 1);
	assert_string_equal(d->name, "b}{ # // /*");
	assert_string_equal(registry_stream_name(reg, d->stream),
	    "herd.north_1-a");
	d = registry_at(reg, 2);
	assert_string_equal(d->name, "");
	registry_free(reg);
}

static void
test_empty_list(void **state)
{
	struct registry *reg = NULL;
	char err[512];

	(void)state;
	assert_int_equal(load("devices = ();\n", "keys = ( );\n", &reg, err,
	    sizeof(err)), 0);
	assert_int_equal(registry_count(reg), 0);
	assert_null(registry_find(reg, 0));
	registry_free(reg);
}

static void
test_keys_mode_0644_refused(void **state)
{
	struct registry *reg = (struct registry *)1;
	char err[512], want[512];

	(void)state;
	write_file(dpath, "devices = (\n" DEV1 "\n);\n", 0644);
	write_file(kpath, KEY1, 0644);
	assert_int_equal(registry_load(dpath, kpath, &reg, err, sizeof(err)),
	    -EPERM);
	assert_null(reg);
	snprintf(want, sizeof(want), "%s: holds secrets but is accessible by "
	    "group or others (mode 0644); refusing it: run chmod 600 %s",
	    kpath, kpath);
	assert_string_equal(err, want);
	/* Group access alone is enough to refuse. */
	assert_int_equal(chmod(kpath, 0640), 0);
	assert_int_equal(registry_load(dpath, kpath, &reg, err, sizeof(err)),
	    -EPERM);
	assert_int_equal(chmod(kpath, 0400), 0);
	assert_int_equal(registry_load(dpath, kpath, &reg, err, sizeof(err)),
	    0);
	registry_free(reg);
}

static void
test_missing_files(void **state)
{
	struct registry *reg = (struct registry *)1;
	char err[512], want[512];

	(void)state;
	write_file(dpath, "devices = ();\n", 0644);
	(void)unlink(kpath);
	assert_int_equal(registry_load(dpath, kpath, &reg, err, sizeof(err)),
	    -ENOENT);
	assert_null(reg);
	snprintf(want, sizeof(want), "%s: No such file or directory", kpath);
	assert_string_equal(err, want);
	assert_int_equal(registry_load("/nonexistent/d.conf", kpath, &reg,
	    err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/d.conf: No such file or "
	    "directory");
}

static void
test_syntax_error(void **state)
{
	(void)state;
	expect_err("devices = (\n" DEV1 ",\n  { id = \"70B3D57ED0001002\";\n"
	    "    name = ; stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:4: syntax error");
}

static void
test_wrong_types(void **state)
{
	(void)state;
	expect_err("devices = (\n" DEV1 ",\n  { id = \"70B3D57ED0001002\";"
	    " stream = \"s\";\n  revoked = 1; }\n);\n", KEY1,
	    "@/devices.conf:4: 'revoked' must be true or false");
	expect_err("devices = (\n  { id = 5; stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:2: 'id' must be a string");
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\";\n"
	    "  name = [1, 2]; stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:3: 'name' must be a string");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = (\n { id = \"70B3D57ED0001001\";\n secret = 7; }\n);\n",
	    "@/keys.conf:3: 'secret' must be a string");
}

static void
test_bad_eui(void **state)
{
	(void)state;
	expect_err("devices = (\n\n  { id = \"70B3D57ED000100\"; "
	    "stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:3: bad id \"70B3D57ED000100\": expected 16 hex "
	    "digits");
	expect_err("devices = (\n  { id = \"70B3D57ED000100G\"; "
	    "stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:2: bad id \"70B3D57ED000100G\": expected 16 hex "
	    "digits");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = ( { id = \"0x70B3D57ED00010\"; secret = \"" K1 "\"; } );",
	    "@/keys.conf:1: bad id \"0x70B3D57ED00010\": expected 16 hex "
	    "digits");
}

static void
test_duplicate_id(void **state)
{
	(void)state;
	expect_err("devices = (\n"
	    "  { id = \"70B3D57ED0000009\"; stream = \"s\"; },\n"
	    "  { id = \"70B3D57ED0001001\"; stream = \"s\"; },\n"
	    "  { id = \"70b3d57ed0001001\"; stream = \"s\"; },\n"
	    "  { id = \"70B3D57ED0000009\"; stream = \"s\"; }\n"
	    ");\n", KEY1,
	    "@/devices.conf:4: duplicate id 70B3D57ED0001001 (first at line "
	    "3)");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = (\n { id = \"70B3D57ED0001001\"; secret = \"" K1 "\"; },\n"
	    " { id = \"70B3D57ED0001001\"; secret = \"" K2 "\"; }\n);\n",
	    "@/keys.conf:3: duplicate key for 70B3D57ED0001001");
}

static void
test_device_without_key(void **state)
{
	(void)state;
	expect_err("devices = (\n" DEV1 ",\n"
	    "  { id = \"70B3D57ED0000001\"; stream = \"s\"; }\n);\n", KEY1,
	    "@/devices.conf:3: device 70B3D57ED0000001 has no key in "
	    "@/keys.conf");
}

static void
test_key_for_unknown_device(void **state)
{
	(void)state;
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = (\n { id = \"70B3D57ED0001001\"; secret = \"" K1 "\"; },\n"
	    " { id = \"70B3D57ED0009999\"; secret = \"" K1 "\"; }\n);\n",
	    "@/keys.conf:3: key for unknown device 70B3D57ED0009999 (not in "
	    "@/devices.conf)");
}

/* The message names the device, never the (wrong) secret itself. */
static void
test_bad_secret(void **state)
{
	(void)state;
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = ( { id = \"70B3D57ED0001001\";\n secret = \"" K1 "0\"; } "
	    ");",
	    "@/keys.conf:2: secret of 70B3D57ED0001001 must be 64 hex digits");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = ( { id = \"70B3D57ED0001001\";\n secret = \"x"
	    "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "\"; } );",
	    "@/keys.conf:2: secret of 70B3D57ED0001001 must be 64 hex digits");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = ( { id = \"70B3D57ED0001001\"; } );",
	    "@/keys.conf:1: key for 70B3D57ED0001001 without 'secret'");
}

static void
test_bad_stream(void **state)
{
	char long64[65];
	const char *bad[] = { "a/b", "", "#", "+", "caf\xc3\xa9", "a b",
	    long64 };
	char dev[512], want[512];
	size_t i;

	(void)state;
	memset(long64, 's', 64);
	long64[64] = '\0';
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(dev, sizeof(dev), "devices = (\n  { id = "
		    "\"70B3D57ED0001001\";\n    stream = \"%s\"; }\n);\n",
		    bad[i]);
		snprintf(want, sizeof(want), "@/devices.conf:3: bad stream "
		    "\"%s\": 1 to 63 of A-Z a-z 0-9 _ . - (an MQTT topic level)",
		    bad[i]);
		expect_err(dev, KEY1, want);
	}
}

static void
test_bad_entries(void **state)
{
	(void)state;
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\"; stream = \"s\";"
	    "\n  colour = \"red\"; }\n);\n", KEY1,
	    "@/devices.conf:3: unknown setting 'colour' in a device entry "
	    "(known: id, name, stream, revoked, class, "
	    "streams, kinds, max_payload, rate_per_min, rate_burst, commands)");
	expect_err("devices = (\n  { name = \"x\"; stream = \"s\"; }\n);\n",
	    KEY1, "@/devices.conf:2: device without 'id'");
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\"; }\n);\n",
	    KEY1, "@/devices.conf:2: device 70B3D57ED0001001 without "
	    "'stream'");
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\"; stream = \"s\";"
	    " name = \"0123456789012345678901234567890123456789012345678901"
	    "234567890123\"; }\n);\n", KEY1,
	    "@/devices.conf:2: name longer than 63 bytes");
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\"; stream = \"s\";"
	    " name = \"a\\nb\"; }\n);\n", KEY1,
	    "@/devices.conf:2: name has a control character");
	expect_err("devices = (\n" DEV1 "\n);\n",
	    "keys = ( { id = \"70B3D57ED0001001\"; secret = \"" K1 "\";\n"
	    "  owner = \"me\"; } );",
	    "@/keys.conf:2: unknown setting 'owner' in a key entry (known: "
	    "id, secret)");
}

static void
test_bad_structure(void **state)
{
	(void)state;
	expect_err("", KEY1, "@/devices.conf:1: no 'devices' list");
	expect_err("# nothing\n\n", KEY1,
	    "@/devices.conf:3: no 'devices' list");
	expect_err("gadgets = ();\n", KEY1, "@/devices.conf:1: unknown "
	    "setting 'gadgets' (expected 'devices')");
	expect_err("devices = ();\nextra = 1;\n", KEY1,
	    "@/devices.conf:2: unexpected text after the 'devices' list");
	expect_err("\ndevices = { id = \"70B3D57ED0001001\"; };\n", KEY1,
	    "@/devices.conf:2: 'devices' must be a list: devices = ( { ... }, "
	    "... );");
	expect_err("devices ( );\n", KEY1,
	    "@/devices.conf:1: expected '=' after 'devices'");
	expect_err("devices = (\n" DEV1 "\n" DEV1 "\n);\n", KEY1,
	    "@/devices.conf:3: expected ',' or ')' after an entry of "
	    "'devices'");
	expect_err("devices = (\n  \"70B3D57ED0001001\"\n);\n", KEY1,
	    "@/devices.conf:2: expected '{' to start an entry of 'devices'");
	expect_err("devices = (\n" DEV1 ",\n  { id = \"70B3D57ED0001002\";\n",
	    KEY1, "@/devices.conf:3: entry not closed with '}'");
	expect_err("devices = (\n" DEV1 "\n", KEY1,
	    "@/devices.conf:3: expected ',' or ')' after an entry of "
	    "'devices'");
	expect_err("@include \"/etc/passwd\"\n", KEY1,
	    "@/devices.conf:1: @include is not allowed here");
	expect_err("devices = (\n  { @include \"/etc/passwd\" }\n);\n", KEY1,
	    "@/devices.conf:2: @include is not allowed here");
	expect_err("devices = ();\n/* open\n\n", KEY1,
	    "@/devices.conf:2: unterminated comment");
	expect_err("devices = (\n  { id = \"70B3D57ED0001001\n\"; } );\n", KEY1,
	    "@/devices.conf:3: unterminated string");
	expect_err("devices = (\n" DEV1 "\n);\n", "keys = [ ];\n",
	    "@/keys.conf:1: 'keys' must be a list: keys = ( { ... }, ... );");
}

static void
test_entry_too_long(void **state)
{
	char *dev;
	size_t n = REGISTRY_ENTRY_MAX + 100;

	(void)state;
	dev = malloc(n + 64);
	assert_non_null(dev);
	strcpy(dev, "devices = (\n\n  { name = \"");
	memset(dev + strlen(dev), 'x', n);
	strcpy(dev + strlen("devices = (\n\n  { name = \"") + n,
	    "\"; }\n);\n");
	expect_err(dev, KEY1, "@/devices.conf:3: entry longer than 4096 "
	    "bytes");
	free(dev);
}

static void
test_too_many_devices(void **state)
{
	size_t i, n = REGISTRY_DEVICES_MAX + 1, off = 0;
	char *dev, want[128];
	const size_t per = 48;
	const size_t cap = n * per + 64;

	(void)state;
	if ((dev = malloc(cap)) == NULL)
		fail();
	off += (size_t)snprintf(dev, cap, "devices = (\n");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(dev + off, cap - off,
		    "{id=\"%016zX\";stream=\"s\";}%s\n", i,
		    i + 1 < n ? "," : "");
	snprintf(dev + off, cap - off, ");\n");
	snprintf(want, sizeof(want), "@/devices.conf:%zu: too many devices "
	    "(at most %d)", n + 1, REGISTRY_DEVICES_MAX);
	expect_err(dev, "keys = ();\n", want);
	free(dev);
}

static void
test_load_mem(void **state)
{
	static const char d[] = "devices = (" DEV1 ");";
	struct registry *reg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(registry_load_mem("d", d, strlen(d), "k", KEY1,
	    strlen(KEY1), &reg, err, sizeof(err)), 0);
	assert_int_equal(registry_count(reg), 1);
	registry_free(reg);
	assert_int_equal(registry_load_mem("d", "", 0, "k", "", 0, &reg, err,
	    sizeof(err)), -EINVAL);
	assert_string_equal(err, "d:1: no 'devices' list");
	registry_free(NULL);
}

/* An all-zero secret (a placeholder) and a short one are refused. */
static void
test_zero_and_short_secret_refused(void **state)
{
	static const char d[] = "devices = (" DEV1 ");";
	static const char zero[] = "keys = ( { id = \"70B3D57ED0001001\"; "
	    "secret = \"00000000000000000000000000000000000000000000000000000000"
	    "00000000\"; } );";
	static const char shrt[] = "keys = ( { id = \"70B3D57ED0001001\"; "
	    "secret = \"0102030405\"; } );";
	struct registry *reg = NULL;
	char err[256];

	(void)state;
	assert_int_equal(registry_load_mem("d", d, strlen(d), "k", zero,
	    strlen(zero), &reg, err, sizeof(err)), -EINVAL);
	assert_null(reg);
	assert_non_null(strstr(err, "k:1: secret of 70B3D57ED0001001 is all "
	    "zero"));
	assert_int_equal(registry_load_mem("d", d, strlen(d), "k", shrt,
	    strlen(shrt), &reg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must be 64 hex digits"));
}

/*
 * Load a registry of one device on stream name (len bytes, each written as
 * a \xNN escape so libconfig reads it byte for byte).  Returns whether the
 * registry admitted it; if it did, the name it stored is in out.
 */
static int
admits_stream(const uint8_t *name, size_t len, char *out, size_t outlen)
{
	char d[1024], err[256];
	struct registry *reg = NULL;
	size_t i, n;
	int r;

	n = (size_t)snprintf(d, sizeof(d), "devices = ( { id = "
	    "\"70B3D57ED0001001\"; stream = \"");
	for (i = 0; i < len; i++)
		n += (size_t)snprintf(d + n, sizeof(d) - n, "\\x%02x", name[i]);
	n += (size_t)snprintf(d + n, sizeof(d) - n, "\"; } );\n");
	assert_true(n < sizeof(d));
	r = registry_load_mem("d", d, n, "k", KEY1, strlen(KEY1), &reg, err,
	    sizeof(err));
	if (r == 0)
		snprintf(out, outlen, "%s", registry_stream_name(reg, 0));
	registry_free(reg);
	return r == 0;
}

/*
 * The registry is the admission gate for stream names, and the stricter
 * rule; the batcher, the journal and the spool hold every name to
 * batch_stream_ok (batch.h).  A name admitted here but refused there would
 * lose an authenticated device's records, so: every single byte, then
 * random names of 1..70 bytes (past REGISTRY_STREAM_MAX) over all byte
 * values, biased towards the characters the registry accepts.
 */
static void
test_admitted_stream_names_pass_the_batch_rule(void **state)
{
	static const char allowed[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
	uint8_t name[70];
	char got[REGISTRY_STREAM_MAX + 8];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned int admitted = 0, i;
	size_t len, k;

	(void)state;
	for (i = 1; i < 256; i++) {
		name[0] = (uint8_t)i;
		if (!admits_stream(name, 1, got, sizeof(got)))
			continue;
		admitted++;
		assert_true(batch_stream_ok(got, strlen(got)));
	}
	/* Not vacuous: the escapes reach the registry's rule. */
	assert_int_equal(admitted, sizeof(allowed) - 1);
	for (i = 0; i < 4000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + (size_t)(x % sizeof(name));
		for (k = 0; k < len; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			name[k] = (x >> 8) % 8 != 0 ?
			    (uint8_t)allowed[(x >> 16) % (sizeof(allowed) - 1)] :
			    (uint8_t)(1 + (x >> 16) % 255);
		}
		if (!admits_stream(name, len, got, sizeof(got)))
			continue;
		admitted++;
		assert_int_equal(strlen(got), len);
		assert_memory_equal(got, name, len);
		assert_true(batch_stream_ok(got, strlen(got)));
	}
	assert_true(admitted > sizeof(allowed) - 1 + 100);
}

static void
test_eui_parse_format(void **state)
{
	uint64_t eui = 1;
	char buf[17];

	(void)state;
	assert_int_equal(registry_parse_eui("70b3D57ED0001234", &eui), 0);
	assert_true(eui == 0x70B3D57ED0001234ULL);
	registry_format_eui(eui, buf);
	assert_string_equal(buf, "70B3D57ED0001234");
	registry_format_eui(0, buf);
	assert_string_equal(buf, "0000000000000000");
	assert_int_equal(registry_parse_eui("70B3D57ED00012345", &eui),
	    -EINVAL);
	assert_true(eui == 0);
	assert_int_equal(registry_parse_eui("70B3D57ED000123", &eui), -EINVAL);
	assert_int_equal(registry_parse_eui("", &eui), -EINVAL);
	assert_int_equal(registry_parse_eui("70B3D57ED000123 ", &eui),
	    -EINVAL);
	assert_int_equal(registry_parse_eui("-0B3D57ED0001234", &eui),
	    -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_registry),
		cmocka_unit_test(test_comments_strings_revoked),
		cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_keys_mode_0644_refused),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_bad_eui),
		cmocka_unit_test(test_duplicate_id),
		cmocka_unit_test(test_device_without_key),
		cmocka_unit_test(test_key_for_unknown_device),
		cmocka_unit_test(test_bad_secret),
		cmocka_unit_test(test_bad_stream),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_bad_structure),
		cmocka_unit_test(test_entry_too_long),
		cmocka_unit_test(test_too_many_devices),
		cmocka_unit_test(test_load_mem),
		cmocka_unit_test(test_zero_and_short_secret_refused),
		cmocka_unit_test(test_eui_parse_format),
		cmocka_unit_test(test_admitted_stream_names_pass_the_batch_rule),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
