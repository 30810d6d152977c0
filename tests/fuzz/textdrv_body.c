/*
 * textdrv_body.c - the body of the libFuzzer targets for the drivers of
 * text-command modules (fuzz_rn2483.c, fuzz_rak3172.c name the driver):
 * the input is what the module sends, fed to the driver's input() in
 * pieces whose sizes come from the input, with a tick between pieces (a
 * clock that jumps, so every timeout and reset path runs) and a downlink
 * queued now and then.  Every event must be well formed: a known type, a
 * drop verdict the driver names, a payload within RADIO_PAYLOAD_MAX, an
 * ERROR text of printable ASCII; and the driver's output must fit its
 * queue.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/radio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_driver: defined by the target that includes this file. */

static void
fuzz_event(void *arg, const struct radio_event *ev)
{
	const struct radio_driver *d = fuzz_driver;
	const char *p;

	(void)arg;
	switch (ev->type) {
	case RADIO_EV_DROP:
		if (ev->u.drop >= 0 || ev->u.drop <= -(int)d->ndrops)
			abort();
		break;
	case RADIO_EV_RX:
		if (ev->u.rx.len > RADIO_PAYLOAD_MAX ||
		    (ev->u.rx.len > 0 && ev->u.rx.payload == NULL))
			abort();
		break;
	case RADIO_EV_ERROR:
		if (ev->u.error.msg == NULL)
			abort();
		for (p = ev->u.error.msg; *p != '\0'; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		break;
	case RADIO_EV_READY:
	case RADIO_EV_TX_RESULT:
	case RADIO_EV_STATUS:
		break;
	default:
		abort();	/* the port's events are not the driver's */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct radio_driver *d = fuzz_driver;
	struct radio_params rp;
	struct radio_out out;
	struct radio_tx tx;
	uint8_t payload[RADIO_PAYLOAD_MAX];
	uint64_t now = 1000;
	size_t off, chunk;
	void *st;

	if ((st = calloc(1, d->state_size)) == NULL)
		return 0;
	radio_params_default(&rp);
	memset(&out, 0, sizeof(out));
	if (d->start(st, &rp, &out, now) != 0)
		abort();
	memset(payload, 0xa5, sizeof(payload));
	for (off = 0; off < size; off += chunk) {
		chunk = 1 + (data[off] % 97);
		if (chunk > size - off)
			chunk = size - off;
		/* The port drains what the driver wrote. */
		out.len = 0;
		d->input(st, data + off, chunk, &out, fuzz_event, NULL);
		if (out.len > sizeof(out.buf))
			abort();
		switch (data[off] % 7) {
		case 0:
			now += 1000u * (data[off] % 13);
			if (d->tick(st, &out, now) == -ETIMEDOUT) {
				/* The port reopens: a fresh start. */
				memset(st, 0, d->state_size);
				out.len = 0;
				if (d->start(st, &rp, &out, now) != 0)
					abort();
			}
			break;
		case 1:
			memset(&tx, 0, sizeof(tx));
			tx.id = data[off];
			tx.payload = payload;
			tx.len = 1 + data[off] % RADIO_PAYLOAD_MAX;
			(void)d->transmit(st, &tx, &out);
			break;
		default:
			break;
		}
	}
	free(st);
	return 0;
}
