/*
 * rate.h - token buckets: a device may send `burst` frames at once and
 * `per_min` frames a minute on average.  policy/ident.c keeps one bucket
 * for a device's HELLOs and one for its data frames.  Time is the
 * monotonic clock in ms, passed in.
 */
#ifndef FB_RATE_H
#define FB_RATE_H

#include <stdint.h>

struct rate_limit {
	uint32_t	per_min;	/* 0: unlimited */
	uint32_t	burst;		/* bucket size in frames; 0 counts as 1 */
};

struct rate_bucket {
	uint64_t	last_ms;
	uint64_t	level;		/* frames x 60000 */
};

/* A new bucket starts full. */
void	rate_init(struct rate_bucket *b, const struct rate_limit *l,
	    uint64_t now_ms);
/* Takes one frame's token: 0, or -EAGAIN when the bucket is empty. */
int	rate_take(struct rate_bucket *b, const struct rate_limit *l,
	    uint64_t now_ms);

#endif
