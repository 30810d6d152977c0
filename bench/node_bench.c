/*
 * node_bench.c - bench: libfbnode's cost per operation on this machine,
 * with the GnuTLS back-end (what fieldbridge-sim runs; a microcontroller's
 * figures depend on its core and back-end, see bench/node_cross).
 *
 *   node_join_us  the node's side of one handshake: fbnode_join (random
 *                 nonce, HELLO), the CHALLENGE (check Tg, Tn, HKDF,
 *                 RESPONSE) and the ACCEPT (CCM open); the gateway
 *                 (policy/ident.c) answers, untimed
 *   node_seal_us  one fbnode_send of a 35-byte record (EU868 SF12's
 *                 largest), the frame the gateway then accepts
 *
 * Each figure is the median of BENCH_ROUNDS rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/fbnode.h"
#include "node/fbnode_gnutls.h"
#include "policy/ident.h"
#include "policy/registry.h"

#define BENCH_ROUNDS	5
#define BENCH_JOINS	2000	/* per round */
#define BENCH_SEALS	200000	/* per round */
#define BENCH_RECORD	35	/* bytes */
#define BENCH_EUI	0x70B3D57ED0001001ULL
#define BENCH_K		"4242424242424242424242424242424242424242424242424242424242424242"

static const char devs[] =
    "devices = ( { id = \"70B3D57ED0001001\"; stream = \"s\"; } );";
static const char keys[] =
    "keys = ( { id = \"70B3D57ED0001001\"; secret = \"" BENCH_K "\"; } );";

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "node_bench: %s\n", what);
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* One join; returns the node's time in ns. */
static uint64_t
join(struct fbnode *n, struct ident *id, struct ident_out *out, uint64_t now)
{
	uint8_t buf[FBNODE_FRAME_MAX];
	struct fbnode_result res;
	uint64_t t0, spent;

	t0 = mono_ns();
	if (fbnode_join(n, (uint32_t)now, buf, sizeof(buf), &res) != FBNODE_OK)
		die("join");
	spent = mono_ns() - t0;
	if (ident_input(id, res.tx, res.tx_len, now, out) != IDENT_OK)
		die("gateway refused the HELLO");
	t0 = mono_ns();
	if (fbnode_input(n, out->reply, out->reply_len, (uint32_t)now, buf,
	    sizeof(buf), &res) != FBNODE_OK)
		die("node refused the CHALLENGE");
	spent += mono_ns() - t0;
	if (ident_input(id, res.tx, res.tx_len, now, out) != IDENT_OK)
		die("gateway refused the RESPONSE");
	t0 = mono_ns();
	if (fbnode_input(n, out->reply, out->reply_len, (uint32_t)now, buf,
	    sizeof(buf), &res) != FBNODE_OK || res.kind != FBNODE_DOWN_ACCEPT)
		die("node refused the ACCEPT");
	spent += mono_ns() - t0;
	return spent;
}

int
main(void)
{
	struct registry *reg = NULL;
	struct ident *id;
	struct ident_out *out;
	struct fbnode_gnutls g;
	struct fbnode n;
	struct fbnode_result res;
	uint8_t k[FBNODE_SECRET_LEN], rec[BENCH_RECORD], buf[FBNODE_FRAME_MAX];
	double joins[BENCH_ROUNDS], seals[BENCH_ROUNDS];
	uint64_t now = 1000, t0, ns;
	char err[128];
	int round, i;

	memset(k, 0x42, sizeof(k));
	memset(rec, 0x5a, sizeof(rec));
	if (registry_load_mem("d", devs, strlen(devs), "k", keys, strlen(keys),
	    &reg, err, sizeof(err)) != 0 || (id = ident_new(reg)) == NULL ||
	    (out = malloc(sizeof(*out))) == NULL)
		die("set-up");
	fbnode_gnutls_init(&g, k);
	if (fbnode_init(&n, BENCH_EUI, &fbnode_gnutls_ops, &g, NULL) !=
	    FBNODE_OK)
		die("fbnode_init");
	for (round = 0; round < BENCH_ROUNDS; round++) {
		ns = 0;
		for (i = 0; i < BENCH_JOINS; i++)
			ns += join(&n, id, out, now++);
		joins[round] = (double)ns / BENCH_JOINS / 1000.0;
		t0 = mono_ns();
		for (i = 0; i < BENCH_SEALS; i++) {
			/* Stay below the keepalive and re-join limits: a
			 * session is only so long without a downlink. */
			n.silent = 0;
			if (fbnode_send(&n, rec, sizeof(rec), buf, sizeof(buf),
			    &res) != FBNODE_OK)
				die("send");
		}
		seals[round] = (double)(mono_ns() - t0) / BENCH_SEALS / 1000.0;
		/* The gateway takes the last one: the frames are real. */
		if (ident_input(id, res.tx, res.tx_len, now, out) != IDENT_OK ||
		    out->action != IDENT_RECORD)
			die("gateway refused the DATA_UP");
	}
	printf("node_join_us %.2f us\n", median(joins, BENCH_ROUNDS));
	printf("node_seal_us %.3f us\n", median(seals, BENCH_ROUNDS));
	fbnode_done(&n);
	fbnode_gnutls_done(&g);
	free(out);
	ident_free(id);
	registry_free(reg);
	return 0;
}
