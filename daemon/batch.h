/*
 * batch.h - grouping verified records per stream into batches, and the
 * sealed batch handed on to the spool and the uplink.
 *
 * Data flow: policy (verified, allowed record) -> batcher_add -> sealed
 * struct batch -> sink (spool, then uplink).  A batch is sealed when it
 * reaches its record count, byte size or age bound (monotonic clock), or on
 * batcher_flush at shutdown.  The sink owns what it is given: batch_free.
 */
#ifndef FB_BATCH_H
#define FB_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "radio/radio.h"

#define BATCH_STREAM_MAX	63

/* One verified record, as the daemon passes it in (borrowed pointers). */
struct record {
	uint64_t		 eui;
	uint32_t		 fcnt;
	const char		*stream;
	struct timespec		 rx_wall;	/* CLOCK_REALTIME at receipt */
	int			 clock_synced;	/* wall clock NTP-synchronised */
	uint64_t		 rx_mono_ms;	/* CLOCK_MONOTONIC at receipt */
	struct radio_meta	 meta;
	const uint8_t		*payload;
	size_t			 len;
};

/* A sealed batch: one MQTT message. */
struct batch {
	uint64_t	seq;		/* per-gateway, strictly increasing */
	char		stream[BATCH_STREAM_MAX + 1];
	uint32_t	nrecords;
	uint64_t	sealed_ms;	/* CLOCK_MONOTONIC when sealed */
	size_t		len;
	char		*data;		/* the JSON document, len bytes */
};

void	batch_free(struct batch *b);

#endif
