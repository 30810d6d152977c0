/*
 * fuzz_sframe.c - libFuzzer target for the FBSP codec (radio/sframe.c): the
 * input is raw serial line bytes, fed to the incremental reader in pieces
 * whose sizes come from the input itself, then decoded as one unstuffed
 * message.  Every good frame must encode again and read back as the same
 * frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "radio/sframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_check {
	const struct sframe	*want;
	int			 seen;
};

static void
fuzz_again(void *arg, int verdict, const struct sframe *f)
{
	struct fuzz_check *c = arg;
	const struct sframe *w = c->want;

	c->seen++;
	if (verdict != SFRAME_OK || f->kind != w->kind || f->seq != w->seq ||
	    f->payload_len != w->payload_len ||
	    (f->payload_len > 0 &&
	    memcmp(f->payload, w->payload, f->payload_len) != 0))
		abort();
}

static void
fuzz_frame(void *arg, int verdict, const struct sframe *f)
{
	uint8_t wire[SFRAME_WIRE_MAX];
	struct sframe_reader r;
	struct fuzz_check c = { f, 0 };
	int n;

	(void)arg;
	if (verdict <= -SFRAME_VERDICT_COUNT || verdict > 0)
		abort();
	if (verdict != SFRAME_OK) {
		if (f != NULL)
			abort();
		return;
	}
	n = sframe_encode(f, wire, sizeof(wire));
	if (n <= 0 || (size_t)n > SFRAME_WIRE_MAX)
		abort();
	sframe_reader_init(&r);
	sframe_reader_feed(&r, wire, (size_t)n, fuzz_again, &c);
	if (c.seen != 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sframe_reader r;
	struct sframe f;
	size_t off, chunk;

	sframe_reader_init(&r);
	/* Split the stream at offsets derived from the bytes, so that
	 * frames torn across reads are exercised too. */
	for (off = 0; off < size; off += chunk) {
		chunk = 1 + (data[off] % 61);
		if (chunk > size - off)
			chunk = size - off;
		sframe_reader_feed(&r, data + off, chunk, fuzz_frame, NULL);
	}
	(void)sframe_strerror(sframe_decode(data, size, &f));
	return 0;
}
