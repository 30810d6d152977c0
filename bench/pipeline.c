/*
 * pipeline.c - bench: frames through decode + verify + policy + batch on
 * one core, no disk, no network.  Prints `pipeline_frames_per_s N frames/s`.
 *
 * The frames are what a concentrator would send: FBSP RX frames carrying
 * AES-CCM data frames of established sessions.  They go through the same
 * pieces the daemon runs per frame (drv_fbsp's input, ident_input with rate
 * limits on, batcher_add) and sealed batches are freed by the sink.
 * Preparing the frames (handshakes, sealing) is not timed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/batch.h"
#include "daemon/store/seqno.h"
#include "policy/ident.h"
#include "policy/registry.h"
#include "radio/link.h"
#include "radio/radio.h"
#include "radio/sframe.h"
#include "tests/testutil.h"

#define BENCH_DEVICES		1000
#define BENCH_FRAMES_PER_DEV	300
#define BENCH_PAYLOAD_LEN	30
#define BENCH_ROUNDS		5

extern const struct radio_driver drv_fbsp;

struct node {
	uint64_t			eui;
	struct link_session_keys	ks;
	uint32_t			fcnt;
};

struct bench {
	struct ident		*id;
	struct batcher		*bt;
	const struct registry	*reg;
	struct ident_out	 out;
	uint64_t		 now_ms;
	uint64_t		 records;
	uint64_t		 dropped;
	uint64_t		 batches;
};

static void
die(const char *what, int r)
{
	fprintf(stderr, "pipeline: %s: %s\n", what, r < 0 ? strerror(-r) : "failed");
	exit(1);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
bench_sink(void *arg, struct batch *b)
{
	struct bench *bn = arg;

	bn->batches++;
	batch_free(b);
}

static void
bench_event(void *arg, const struct radio_event *ev)
{
	struct bench *bn = arg;
	struct record rec;
	int v;

	if (ev->type != RADIO_EV_RX)
		return;
	v = ident_input(bn->id, ev->u.rx.payload, ev->u.rx.len, bn->now_ms,
	    &bn->out);
	if (v < 0 || bn->out.action != IDENT_RECORD) {
		bn->dropped++;
		return;
	}
	memset(&rec, 0, sizeof(rec));
	rec.eui = bn->out.dev->eui;
	rec.fcnt = bn->out.fcnt;
	rec.stream = registry_stream_name(bn->reg, bn->out.dev->stream);
	clock_gettime(CLOCK_REALTIME, &rec.rx_wall);
	rec.clock_synced = 1;
	rec.rx_mono_ms = bn->now_ms;
	rec.meta = ev->u.rx.meta;
	rec.payload = bn->out.payload;
	rec.len = bn->out.payload_len;
	if (batcher_add(bn->bt, &rec) == 0)
		bn->records++;
	else
		bn->dropped++;
}

/* A registry of n devices on three streams, with derived secrets. */
static struct registry *
make_registry(unsigned int n)
{
	static const char *streams[] = { "cattle", "water", "weather" };
	struct registry *reg = NULL;
	size_t dcap = (size_t)n * 96 + 64, kcap = (size_t)n * 120 + 64;
	char *dev = malloc(dcap), *keys = malloc(kcap), err[256];
	size_t dl = 0, kl = 0;
	unsigned int i, j;
	int r;

	if (dev == NULL || keys == NULL)
		die("malloc", -ENOMEM);
	dl += (size_t)snprintf(dev + dl, dcap - dl, "devices = (\n");
	kl += (size_t)snprintf(keys + kl, kcap - kl, "keys = (\n");
	for (i = 0; i < n; i++) {
		dl += (size_t)snprintf(dev + dl, dcap - dl,
		    "{ id = \"70B3D57E%08X\"; name = \"n%u\"; stream = \"%s\"; }%s\n",
		    i + 1, i, streams[i % 3], i + 1 < n ? "," : "");
		kl += (size_t)snprintf(keys + kl, kcap - kl,
		    "{ id = \"70B3D57E%08X\"; secret = \"", i + 1);
		for (j = 0; j < LINK_SECRET_LEN; j++)
			kl += (size_t)snprintf(keys + kl, kcap - kl, "%02x",
			    (i * 7 + j * 13) & 0xff);
		kl += (size_t)snprintf(keys + kl, kcap - kl, "\"; }%s\n",
		    i + 1 < n ? "," : "");
	}
	dl += (size_t)snprintf(dev + dl, dcap - dl, ");\n");
	kl += (size_t)snprintf(keys + kl, kcap - kl, ");\n");
	if ((r = registry_load_mem("bench-devices", dev, dl, "bench-keys",
	    keys, kl, &reg, err, sizeof(err))) != 0) {
		fprintf(stderr, "pipeline: %s\n", err);
		exit(1);
	}
	free(dev);
	free(keys);
	return reg;
}

/* Run the node side of the handshake against the gateway's ident. */
static void
handshake(struct bench *bn, const struct device *d, struct node *nd)
{
	uint8_t nn[LINK_NONCE_LEN], tn[LINK_PROOF_LEN], f[LINK_FRAME_MAX];
	uint8_t plain[LINK_FRAME_MAX];
	struct link_msg m;
	int len, r;

	memset(nd, 0, sizeof(*nd));
	nd->eui = d->eui;
	memcpy(nn, &d->eui, sizeof(d->eui));
	memset(nn + 8, 0x5a, sizeof(nn) - 8);
	if ((len = link_build_hello(f, sizeof(f), d->eui, nn)) < 0)
		die("hello", len);
	if (ident_input(bn->id, f, (size_t)len, bn->now_ms, &bn->out) != 0 ||
	    bn->out.action != IDENT_REPLY ||
	    link_parse(bn->out.reply, bn->out.reply_len, &m) != 0)
		die("challenge", -EPROTO);
	if ((r = link_node_proof(d->secret, d->eui, nn, m.nonce, tn)) != 0 ||
	    (r = link_session_derive(d->secret, d->eui, nn, m.nonce,
	    &nd->ks)) != 0)
		die("derive", r);
	if ((len = link_build_response(f, sizeof(f), d->eui, tn)) < 0)
		die("response", len);
	if (ident_input(bn->id, f, (size_t)len, bn->now_ms, &bn->out) != 0 ||
	    bn->out.action != IDENT_REPLY ||
	    link_parse(bn->out.reply, bn->out.reply_len, &m) != 0)
		die("accept", -EPROTO);
	nd->ks.sid = m.sid;
	if (link_open(&nd->ks, LINK_DIR_DOWN, &m, plain, sizeof(plain)) < 1 ||
	    plain[0] != LINK_DOWN_ACCEPT)
		die("accept check", -EPROTO);
}

/* The wire bytes of frames_per_dev RX frames of every node, interleaved. */
static uint8_t *
make_wire(struct node *nodes, unsigned int n, unsigned int per_dev,
    size_t *lenp)
{
	size_t cap = (size_t)n * per_dev * 96, len = 0;
	uint8_t *wire = malloc(cap), payload[BENCH_PAYLOAD_LEN];
	uint8_t frame[LINK_FRAME_MAX];
	struct sframe sf;
	unsigned int i, k;
	int fl, wl;

	if (wire == NULL)
		die("malloc", -ENOMEM);
	for (k = 0; k < per_dev; k++) {
		for (i = 0; i < n; i++) {
			memset(payload, (int)(k + i), sizeof(payload));
			fl = link_seal(&nodes[i].ks, LINK_DIR_UP,
			    ++nodes[i].fcnt, payload, sizeof(payload), frame,
			    sizeof(frame));
			if (fl < 0)
				die("seal", fl);
			memset(&sf, 0, sizeof(sf));
			sf.kind = SFRAME_RX;
			sf.seq = (uint8_t)k;
			sf.u.rx.modulation = RADIO_MOD_LORA;
			sf.u.rx.freq_hz = 868100000;
			sf.u.rx.datarate = 7;
			sf.u.rx.bw_hz = 125000;
			sf.u.rx.rssi_dbm = -90;
			sf.u.rx.snr_db10 = 75;
			sf.u.rx.tmst_us = k * 1000 + i;
			sf.payload = frame;
			sf.payload_len = (size_t)fl;
			if ((wl = sframe_encode(&sf, wire + len, cap - len)) < 0)
				die("encode", wl);
			len += (size_t)wl;
		}
	}
	*lenp = len;
	return wire;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(void)
{
	struct batcher_limits lim = { 500, 4900, 5000, 0 };
	struct bench bn;
	struct node *nodes;
	struct seqno *sq = NULL;
	struct radio_out out;
	struct radio_params rp;
	char dir[] = "/tmp/fb-bench-XXXXXX";
	double rates[BENCH_ROUNDS];
	void *st;
	uint8_t *wire;
	size_t wlen, chunk, off;
	uint64_t t0, t1, frames;
	unsigned int i, round;
	int r;

	memset(&bn, 0, sizeof(bn));
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", -errno);
	bn.reg = make_registry(BENCH_DEVICES);
	if ((bn.id = ident_new(bn.reg)) == NULL)
		die("ident_new", -ENOMEM);
	/* Rate limits stay on, as in the daemon, above the bench's rate. */
	ident_set_rate(bn.id, 6000000, 1000000);
	if ((r = seqno_open(dir, 100000, &sq)) != 0)
		die("seqno_open", r);
	if ((r = batcher_new("bench-gw", &lim, sq, bench_sink, &bn, &bn.bt)) != 0)
		die("batcher_new", r);
	if ((nodes = calloc(BENCH_DEVICES, sizeof(*nodes))) == NULL ||
	    (st = calloc(1, drv_fbsp.state_size)) == NULL)
		die("calloc", -ENOMEM);
	bn.now_ms = 1000;
	for (i = 0; i < BENCH_DEVICES; i++)
		handshake(&bn, registry_at(bn.reg, i), &nodes[i]);

	for (round = 0; round < BENCH_ROUNDS; round++) {
		wire = make_wire(nodes, BENCH_DEVICES, BENCH_FRAMES_PER_DEV, &wlen);
		memset(&out, 0, sizeof(out));
		memset(st, 0, drv_fbsp.state_size);
		radio_params_default(&rp);
		(void)drv_fbsp.start(st, &rp, &out, bn.now_ms);
		frames = bn.records + bn.dropped;
		t0 = mono_ns();
		/* Feed in read()-sized chunks, as the port does. */
		for (off = 0; off < wlen; off += chunk) {
			chunk = wlen - off < 4096 ? wlen - off : 4096;
			out.len = 0;
			drv_fbsp.input(st, wire + off, chunk, &out, bench_event, &bn);
		}
		batcher_flush(bn.bt);
		t1 = mono_ns();
		frames = bn.records + bn.dropped - frames;
		rates[round] = (double)frames * 1e9 / (double)(t1 - t0);
		bn.now_ms += 60000;
		free(wire);
	}
	if (bn.dropped != 0) {
		fprintf(stderr, "pipeline: %llu frames dropped, expected none\n",
		    (unsigned long long)bn.dropped);
		return 1;
	}
	qsort(rates, BENCH_ROUNDS, sizeof(rates[0]), cmp_double);
	printf("pipeline_frames_per_s %.0f frames/s\n", rates[BENCH_ROUNDS / 2]);
	batcher_free(bn.bt);
	seqno_free(sq);
	ident_free(bn.id);
	registry_free((struct registry *)bn.reg);
	free(nodes);
	free(st);
	testutil_rm_rf(dir);
	return 0;
}
