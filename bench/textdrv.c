/*
 * textdrv.c - bench: received packets through the text-module drivers'
 * line parsers on one core (radio/drv_rn2483.c, radio/drv_rak3172.c over
 * radio/tline.c), no pty.  Prints, per driver,
 *
 *	rn2483_frames_per_s N frames/s
 *	rn2483_line_limit_frames_per_s N frames/s
 *
 * and the same for rak3172.  The input is what the module sends for each
 * packet of BENCH_PAYLOAD_LEN bytes: RN2483 "radio_rx  <hex>" and the
 * answers to the driver's "radio get snr", "radio get rssi" and "radio rx
 * 0"; RUI3 "+EVT:RXP2P:<rssi>:<snr>:<hex>".  It is fed in read()-sized
 * chunks, as the port does, after a transcript of the initialisation.  The
 * line limit is what the module's serial line itself allows: its baud rate
 * (8N1: ten bit times a byte) over the bytes one packet costs on the line
 * from the module, the parser's own ceiling being far above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radio/radio.h"
#include "radio/tline.h"

#define BENCH_PAYLOAD_LEN	40	/* a link DATA frame of a sensor */
#define BENCH_PACKETS		200000
#define BENCH_ROUNDS		5
#define BENCH_CHUNK_BYTES	4096

extern const struct radio_driver drv_rn2483;
extern const struct radio_driver drv_rak3172;

struct bench_drv {
	const struct radio_driver	*drv;
	const char			*init;	/* the module's answers */
	const char			*fmt;	/* one packet, %s: the hex */
};

static const struct bench_drv bench_drvs[] = {
	{ &drv_rn2483,
	  "invalid_param\r\nRN2483 1.0.5 Oct 31 2018 15:06:52\r\n"
	  "0004A30B001A2B3C\r\n4294967245\r\nok\r\nok\r\nok\r\nok\r\nok\r\n"
	  "ok\r\nok\r\nok\r\nok\r\nok\r\nok\r\n",
	  "radio_rx  %s\r\n-5\r\n-97\r\nok\r\n" },
	{ &drv_rak3172,
	  "\r\nOK\r\nAT+VER=RUI_4.0.6_RAK3172-E\r\n\r\nOK\r\n"
	  "AT+DEVEUI=AC1F09FFFE012345\r\n\r\nOK\r\nAT+NWM=0\r\n\r\nOK\r\n"
	  "\r\nOK\r\n\r\nOK\r\n\r\nOK\r\n\r\nOK\r\n",
	  "+EVT:RXP2P:-97:-5:%s\r\n" },
};

static uint64_t	bench_rx;

static void
bench_event(void *arg, const struct radio_event *ev)
{
	(void)arg;
	if (ev->type == RADIO_EV_RX)
		bench_rx++;
}

static uint64_t
bench_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
bench_feed(const struct radio_driver *d, void *st, const char *p, size_t len,
    struct radio_out *out)
{
	size_t off, chunk;

	for (off = 0; off < len; off += chunk) {
		chunk = len - off < BENCH_CHUNK_BYTES ? len - off :
		    BENCH_CHUNK_BYTES;
		out->len = 0;		/* the port writes it */
		d->input(st, (const uint8_t *)p + off, chunk, out,
		    bench_event, NULL);
	}
}

static void
bench_one(const struct bench_drv *b)
{
	struct radio_params rp;
	struct radio_out out;
	uint8_t payload[BENCH_PAYLOAD_LEN];
	char hex[2 * BENCH_PAYLOAD_LEN + 1], one[256];
	double rates[BENCH_ROUNDS];
	size_t per, i;
	char *stream;
	uint64_t t0, t1;
	void *st;
	int r;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 37 + 11);
	tline_hex_encode(payload, sizeof(payload), hex);
	per = (size_t)snprintf(one, sizeof(one), b->fmt, hex);
	if ((stream = malloc(per * BENCH_PACKETS)) == NULL ||
	    (st = malloc(b->drv->state_size)) == NULL) {
		fprintf(stderr, "textdrv: out of memory\n");
		exit(1);
	}
	for (i = 0; i < BENCH_PACKETS; i++)
		memcpy(stream + i * per, one, per);
	radio_params_default(&rp);
	for (r = 0; r < BENCH_ROUNDS; r++) {
		memset(st, 0, b->drv->state_size);
		memset(&out, 0, sizeof(out));
		(void)b->drv->start(st, &rp, &out, 1000);
		bench_feed(b->drv, st, b->init, strlen(b->init), &out);
		bench_rx = 0;
		t0 = bench_ns();
		bench_feed(b->drv, st, stream, per * BENCH_PACKETS, &out);
		t1 = bench_ns();
		if (bench_rx != BENCH_PACKETS) {
			fprintf(stderr, "textdrv: %s: %llu packets of %d\n",
			    b->drv->name, (unsigned long long)bench_rx,
			    BENCH_PACKETS);
			exit(1);
		}
		rates[r] = (double)BENCH_PACKETS * 1e9 / (double)(t1 - t0);
	}
	qsort(rates, BENCH_ROUNDS, sizeof(rates[0]), bench_cmp);
	printf("%s_frames_per_s %.0f frames/s\n", b->drv->name,
	    rates[BENCH_ROUNDS / 2]);
	/* 8N1: ten bit times per byte. */
	printf("%s_line_limit_frames_per_s %.1f frames/s\n", b->drv->name,
	    (double)b->drv->baud / 10.0 / (double)per);
	free(stream);
	free(st);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(bench_drvs) / sizeof(bench_drvs[0]); i++)
		bench_one(&bench_drvs[i]);
	return 0;
}
