/*
 * test_devstats.c - the per device counters of the status file
 * (daemon/devstats.c): records counted per device, last_seen moved only by
 * an accepted record (at the time the caller gives, so no test sleeps),
 * refused frames counted apart, the table bounded at DEVSTATS_MAX with the
 * device heard longest ago forgotten and counted, and nothing listed that
 * was never counted.  The keys are read back from devstats_status as the
 * status file carries them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/devstats.h"

#define EUI_A	UINT64_C(0x70B3D57ED0001001)
#define EUI_B	UINT64_C(0x70B3D57ED0002002)
#define EUI_C	UINT64_C(0x70B3D57ED0003003)
#define T0	((time_t)1764600000)	/* 2025-12-01, any wall time */

/* What devstats_status writes, as one string; the caller frees it. */
static char *
dump(struct devstats *ds)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	devstats_status(ds, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* The value of key in a dump, NULL when the key is absent. */
static const char *
value(const char *text, const char *key, char *out, size_t sz)
{
	size_t kl = strlen(key), n;
	const char *p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			n = (size_t)(nl - p - (ptrdiff_t)kl - 1);
			assert_true(n < sz);
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return out;
		}
		p = *nl != '\0' ? nl + 1 : nl;
	}
	return NULL;
}

/* The value of device_EUI_suffix; NULL when absent. */
static const char *
dev(const char *text, uint64_t eui, const char *suffix, char *out,
    size_t sz)
{
	char key[64];

	(void)snprintf(key, sizeof(key), "device_%016llX%s",
	    (unsigned long long)eui, suffix);
	return value(text, key, out, sz);
}

static long long
dev_num(const char *text, uint64_t eui, const char *suffix)
{
	char v[64];

	assert_non_null(dev(text, eui, suffix, v, sizeof(v)));
	return strtoll(v, NULL, 10);
}

static long long
num(const char *text, const char *key)
{
	char v[64];

	assert_non_null(value(text, key, v, sizeof(v)));
	return strtoll(v, NULL, 10);
}

static void
test_counts_records_per_device(void **state)
{
	struct devstats *ds;
	char *t, v[64];

	(void)state;
	assert_non_null(ds = devstats_new());
	devstats_record(ds, EUI_A, "collar-1", T0);
	devstats_record(ds, EUI_A, "collar-1", T0 + 1);
	devstats_record(ds, EUI_B, "trough-2", T0 + 2);
	devstats_record(ds, EUI_A, "collar-1", T0 + 3);
	assert_int_equal(devstats_count(ds), 2);
	t = dump(ds);
	assert_int_equal(num(t, "devices"), 2);
	assert_int_equal(num(t, "devices_forgotten"), 0);
	assert_int_equal(dev_num(t, EUI_A, "_records"), 3);
	assert_int_equal(dev_num(t, EUI_A, "_last_seen"), (long long)T0 + 3);
	assert_int_equal(dev_num(t, EUI_A, "_refused"), 0);
	assert_string_equal(dev(t, EUI_A, "_name", v, sizeof(v)), "collar-1");
	assert_int_equal(dev_num(t, EUI_B, "_records"), 1);
	assert_int_equal(dev_num(t, EUI_B, "_last_seen"), (long long)T0 + 2);
	assert_string_equal(dev(t, EUI_B, "_name", v, sizeof(v)), "trough-2");
	/* The most recently heard first. */
	assert_true(strstr(t, "device_70B3D57ED0001001_name") <
	    strstr(t, "device_70B3D57ED0002002_name"));
	free(t);
	devstats_free(ds);
}

/* A forger's frames are counted as refused but never make a device look
 * alive: only an accepted record moves last_seen. */
static void
test_last_seen_moves_only_on_accepted_records(void **state)
{
	struct devstats *ds;
	char *t;

	(void)state;
	assert_non_null(ds = devstats_new());
	devstats_record(ds, EUI_A, "collar-1", T0);
	devstats_refused(ds, EUI_A, "collar-1");
	devstats_refused(ds, EUI_A, "collar-1");
	devstats_refused(ds, EUI_B, "trough-2");
	t = dump(ds);
	assert_int_equal(dev_num(t, EUI_A, "_last_seen"), (long long)T0);
	assert_int_equal(dev_num(t, EUI_A, "_records"), 1);
	assert_int_equal(dev_num(t, EUI_A, "_refused"), 2);
	/* Only refused frames: listed, but never seen alive. */
	assert_int_equal(dev_num(t, EUI_B, "_last_seen"), 0);
	assert_int_equal(dev_num(t, EUI_B, "_records"), 0);
	assert_int_equal(dev_num(t, EUI_B, "_refused"), 1);
	free(t);

	devstats_record(ds, EUI_B, "trough-2", T0 + 60);
	t = dump(ds);
	assert_int_equal(dev_num(t, EUI_B, "_last_seen"), (long long)T0 + 60);
	assert_int_equal(dev_num(t, EUI_B, "_refused"), 1);
	assert_int_equal(dev_num(t, EUI_A, "_last_seen"), (long long)T0);
	free(t);
	devstats_free(ds);
}

/* DEVSTATS_MAX devices, then one more: the one heard longest ago goes and
 * devices_forgotten says so; one heard again recently stays. */
static void
test_full_table_forgets_the_one_seen_longest_ago(void **state)
{
	struct devstats *ds;
	uint64_t base = UINT64_C(0x0004A30B00000000), i;
	char *t, v[64];

	(void)state;
	assert_non_null(ds = devstats_new());
	for (i = 0; i < DEVSTATS_MAX; i++)
		devstats_record(ds, base + i, "n", T0 + (time_t)i);
	assert_int_equal(devstats_count(ds), DEVSTATS_MAX);
	t = dump(ds);
	assert_int_equal(num(t, "devices"), DEVSTATS_MAX);
	assert_int_equal(num(t, "devices_forgotten"), 0);
	free(t);

	/* The first one heard again: now the second is the oldest. */
	devstats_record(ds, base, "n", T0 + 1000);
	devstats_record(ds, EUI_A, "collar-1", T0 + 1001);
	assert_int_equal(devstats_count(ds), DEVSTATS_MAX);
	t = dump(ds);
	assert_int_equal(num(t, "devices"), DEVSTATS_MAX);
	assert_int_equal(num(t, "devices_forgotten"), 1);
	assert_null(dev(t, base + 1, "_records", v, sizeof(v)));
	assert_int_equal(dev_num(t, base, "_records"), 2);
	assert_int_equal(dev_num(t, base + 2, "_records"), 1);
	assert_int_equal(dev_num(t, EUI_A, "_records"), 1);
	assert_int_equal(dev_num(t, EUI_A, "_last_seen"), (long long)T0 + 1001);
	free(t);

	/* A refused frame keeps nobody: the device whose last accepted
	 * record is the oldest goes, whatever is forged in its name. */
	devstats_refused(ds, base + 2, "n");
	devstats_record(ds, EUI_B, "trough-2", T0 + 1002);
	t = dump(ds);
	assert_int_equal(num(t, "devices_forgotten"), 2);
	assert_null(dev(t, base + 2, "_records", v, sizeof(v)));
	assert_int_equal(dev_num(t, base + 3, "_records"), 1);
	free(t);

	/* One with only refused frames goes before any that sent. */
	devstats_refused(ds, base + 5000, "forged");
	devstats_record(ds, base + 5001, "n", T0 + 1003);
	t = dump(ds);
	assert_int_equal(num(t, "devices_forgotten"), 4);
	assert_null(dev(t, base + 5000, "_refused", v, sizeof(v)));
	assert_null(dev(t, base + 3, "_records", v, sizeof(v)));
	assert_int_equal(dev_num(t, base + 4, "_records"), 1);
	assert_int_equal(dev_num(t, base + 5001, "_records"), 1);
	free(t);

	/* A forgotten device that comes back starts again from zero. */
	devstats_record(ds, base + 1, "n", T0 + 1004);
	t = dump(ds);
	assert_int_equal(num(t, "devices_forgotten"), 5);
	assert_int_equal(dev_num(t, base + 1, "_records"), 1);
	free(t);
	devstats_free(ds);
}

/* Only what was counted is listed; no device_ key for anybody else. */
static void
test_unknown_euis_are_not_listed(void **state)
{
	struct devstats *ds;
	char *t, v[64];

	(void)state;
	assert_non_null(ds = devstats_new());
	t = dump(ds);
	assert_int_equal(num(t, "devices"), 0);
	assert_int_equal(num(t, "devices_forgotten"), 0);
	assert_null(strstr(t, "device_"));
	free(t);

	devstats_record(ds, EUI_A, "collar-1", T0);
	t = dump(ds);
	assert_int_equal(num(t, "devices"), 1);
	assert_null(dev(t, EUI_C, "_records", v, sizeof(v)));
	assert_null(dev(t, EUI_C, "_last_seen", v, sizeof(v)));
	assert_null(dev(t, EUI_B, "_name", v, sizeof(v)));
	free(t);
	devstats_free(ds);
}

/* A registry reload may rename a device; a long name is cut, a NULL one
 * empty, and NULL tables are harmless. */
static void
test_names_follow_the_registry(void **state)
{
	struct devstats *ds;
	char *t, v[128], want[DEVSTATS_NAME_MAX + 1];
	char long_name[DEVSTATS_NAME_MAX + 20];

	(void)state;
	assert_non_null(ds = devstats_new());
	devstats_record(ds, EUI_A, "collar-1", T0);
	devstats_record(ds, EUI_A, "collar-1b", T0 + 1);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	devstats_record(ds, EUI_B, long_name, T0);
	devstats_refused(ds, EUI_C, NULL);
	t = dump(ds);
	assert_string_equal(dev(t, EUI_A, "_name", v, sizeof(v)), "collar-1b");
	memset(want, 'x', DEVSTATS_NAME_MAX);
	want[DEVSTATS_NAME_MAX] = '\0';
	assert_string_equal(dev(t, EUI_B, "_name", v, sizeof(v)), want);
	assert_string_equal(dev(t, EUI_C, "_name", v, sizeof(v)), "");
	free(t);
	devstats_free(ds);

	devstats_record(NULL, EUI_A, "x", T0);
	devstats_refused(NULL, EUI_A, "x");
	assert_int_equal(devstats_count(NULL), 0);
	devstats_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_records_per_device),
		cmocka_unit_test(test_last_seen_moves_only_on_accepted_records),
		cmocka_unit_test(test_full_table_forgets_the_one_seen_longest_ago),
		cmocka_unit_test(test_unknown_euis_are_not_listed),
		cmocka_unit_test(test_names_follow_the_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
