/*
 * policy_bench.c - bench: the rules' check of one authenticated record
 * (policy/rules.c) for a site of BENCH_DEVICES devices in BENCH_CLASSES
 * classes, a third of them with rules of their own on top of their class.
 * The registry is loaded from text through the daemon's own loader, so the
 * compiled sets are the daemon's.  Prints
 *
 *	policy_eval_ns_per_frame N ns
 *
 * the median of BENCH_ROUNDS rounds, each checking BENCH_FRAMES records of
 * devices in a pseudo-random order (the device lookup, registry_find, is
 * done beforehand: it is ident's cost, not the rules').  Kinds and sizes
 * vary so that all verdicts occur; buckets are generous so that most
 * records pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/registry.h"
#include "policy/rules.h"

#define BENCH_DEVICES	10000
#define BENCH_CLASSES	100
#define BENCH_FRAMES	2000000
#define BENCH_ROUNDS	7
#define BENCH_SECRET	"000102030405060708090a0b0c0d0e0f" \
			"101112131415161718191a1b1c1d1e1f"

static uint64_t
bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
bench_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The devices and keys files as text (malloc). */
static void
bench_files(char **dev, size_t *dlen, char **keys, size_t *klen)
{
	FILE *d, *k;
	int i, c;

	if ((d = open_memstream(dev, dlen)) == NULL ||
	    (k = open_memstream(keys, klen)) == NULL)
		exit(1);
	fprintf(d, "devices = (\n");
	fprintf(k, "keys = (\n");
	for (i = 0; i < BENCH_DEVICES; i++) {
		c = i % BENCH_CLASSES;
		fprintf(d, "%s{ id = \"70B3D57E%08X\"; stream = \"s%d\"; "
		    "class = \"c%d\";%s }\n", i ? "," : "", (unsigned)i + 1,
		    c % 10, c, i % 3 == 0 ? " max_payload = 30;" : "");
		fprintf(k, "%s{ id = \"70B3D57E%08X\"; secret = \"%s\"; }\n",
		    i ? "," : "", (unsigned)i + 1, BENCH_SECRET);
	}
	fprintf(d, ");\nclasses = (\n");
	for (c = 0; c < BENCH_CLASSES; c++)
		fprintf(d, "%s{ name = \"c%d\"; streams = [ \"s%d\", \"t\" ]; "
		    "kinds = [ 1, 2, 3, %d ]; max_payload = 40; "
		    "rate_per_min = 600000; rate_burst = 100000; commands = "
		    "( { kind = 1; max_size = 16; } ); }\n", c ? "," : "", c,
		    c % 10, 4 + c);
	fprintf(d, ");\n");
	fprintf(k, ");\n");
	if (fclose(d) != 0 || fclose(k) != 0)
		exit(1);
}

static int
bench_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	static const struct device *devs[BENCH_FRAMES / 100];
	static uint8_t payload[64];
	struct registry *reg = NULL;
	struct rules *r;
	uint64_t rounds[BENCH_ROUNDS], t, rng = 0x9e3779b97f4a7c15u, now;
	char *dev, *keys, err[256];
	size_t dlen, klen, i, n = sizeof(devs) / sizeof(devs[0]);
	unsigned ok = 0;
	int k;

	bench_files(&dev, &dlen, &keys, &klen);
	if (registry_load_mem("devices", dev, dlen, "keys", keys, klen, &reg,
	    err, sizeof(err)) != 0) {
		fprintf(stderr, "policy_bench: %s\n", err);
		return 1;
	}
	free(dev);
	free(keys);
	if ((r = rules_new(reg, 0)) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		devs[i] = registry_at(reg, bench_rand(&rng) % BENCH_DEVICES);
	now = 0;
	for (k = 0; k < BENCH_ROUNDS; k++) {
		t = bench_ns();
		for (i = 0; i < BENCH_FRAMES; i++) {
			payload[0] = (uint8_t)(i & 7);
			ok += rules_check(r, devs[i % n], payload,
			    20 + (i & 31), now + i / 1000) == RULES_OK;
		}
		rounds[k] = bench_ns() - t;
		now += BENCH_FRAMES / 1000;
	}
	qsort(rounds, BENCH_ROUNDS, sizeof(rounds[0]), bench_cmp);
	printf("policy_eval_ns_per_frame %.1f ns\n",
	    (double)rounds[BENCH_ROUNDS / 2] / BENCH_FRAMES);
	fprintf(stderr, "policy_bench: %zu devices, %zu classes, %u of %d "
	    "checks passed\n", registry_count(reg), registry_class_count(reg),
	    ok, BENCH_ROUNDS * BENCH_FRAMES);
	rules_free(r);
	registry_free(reg);
	return 0;
}
