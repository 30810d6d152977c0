/*
 * rate.c - token buckets for the per-device rate limits that policy/ident.c
 * applies to HELLOs and data frames.
 *
 * The level is kept in units of 1/60000 of a token, so refilling at
 * per_min tokens a minute adds exactly per_min units a millisecond and no
 * rounding error accumulates, however often the bucket is looked at.
 */
#include <errno.h>

#include "policy/rate.h"

#define RATE_UNIT	60000u		/* ms in a minute */

static uint64_t
rate_cap(const struct rate_limit *l)
{
	return (uint64_t)(l->burst > 0 ? l->burst : 1) * RATE_UNIT;
}

void
rate_init(struct rate_bucket *b, const struct rate_limit *l, uint64_t now_ms)
{
	b->last_ms = now_ms;
	b->level = rate_cap(l);
}

int
rate_take(struct rate_bucket *b, const struct rate_limit *l, uint64_t now_ms)
{
	uint64_t cap, elapsed;

	if (l->per_min == 0)
		return 0;
	cap = rate_cap(l);
	/* A clock that does not move forward adds nothing. */
	elapsed = now_ms > b->last_ms ? now_ms - b->last_ms : 0;
	b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
	/* Compare before multiplying, so a long silence cannot overflow. */
	if (b->level >= cap || elapsed >= (cap - b->level) / l->per_min + 1)
		b->level = cap;
	else
		b->level += elapsed * l->per_min;
	if (b->level < RATE_UNIT)
		return -EAGAIN;
	b->level -= RATE_UNIT;
	return 0;
}
