/*
 * memq.h - the first cut's queue of sealed batches between the batcher and
 * the uplink, in memory and bounded by bytes.  The durable spool replaces
 * it; its interface is what the daemon needs from either: append a sealed
 * batch, take the oldest not yet sent, release one on PUBACK, and put every
 * sent-but-unacknowledged batch back in order when the connection drops.
 *
 * Data flow: batcher sink -> memq_push; uplink feed <- memq_next;
 * on_ack -> memq_ack; on_disconnect -> memq_rewind.
 */
#ifndef FB_MEMQ_H
#define FB_MEMQ_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/batch.h"

struct memq;

struct memq_stats {
	uint64_t	dropped_batches;	/* over the byte cap */
	uint64_t	dropped_records;
};

struct memq *memq_new(size_t max_bytes);
void	memq_free(struct memq *q);		/* frees what it holds */
/* Takes ownership of b.  When over the cap the oldest batches not yet
 * sent are dropped (counted).  0 or -ENOMEM (b freed, counted). */
int	memq_push(struct memq *q, struct batch *b);
/* The oldest batch not yet sent, now marked sent; NULL when none.  The
 * queue keeps ownership. */
const struct batch *memq_next(struct memq *q);
/* Release a sent batch (PUBACK).  Returns its record count, or -ENOENT. */
int	memq_ack(struct memq *q, uint64_t seq);
/* The connection dropped: every sent batch becomes unsent again. */
void	memq_rewind(struct memq *q);
size_t	memq_count(const struct memq *q);	/* batches held */
size_t	memq_unsent(const struct memq *q);
size_t	memq_bytes(const struct memq *q);
const struct memq_stats *memq_stats(const struct memq *q);

#endif
