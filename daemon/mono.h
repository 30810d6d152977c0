/*
 * mono.h - the one monotonic clock of the daemon, in milliseconds.
 *
 * Every timer, backoff, age limit and rate limit of the daemon and its
 * privileged parent counts on CLOCK_MONOTONIC: the wall clock may be
 * stepped by NTP at any time (it is often wrong at boot on a gateway with
 * no RTC battery), and a step must neither fire nor stall a timer.
 */
#ifndef FB_MONO_H
#define FB_MONO_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
mono_ms(void)
{
	struct timespec ts;

	/* Cannot fail for CLOCK_MONOTONIC with a valid pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
