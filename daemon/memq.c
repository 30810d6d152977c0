/*
 * memq.c - a ring of sealed batches in send order; see memq.h.
 *
 * Every slot is UNSENT, SENT or GONE (acknowledged or dropped, batch
 * freed).  Slots before `cursor` are SENT or GONE, so memq_next scans
 * forward from the cursor, memq_rewind moves it back to the head, and GONE
 * slots are popped when they reach the head.  Acknowledgements may come in
 * any order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/memq.h"

enum { MEMQ_UNSENT, MEMQ_SENT, MEMQ_GONE };

struct memq_slot {
	struct batch	*b;
	int		 state;
};

struct memq {
	struct memq_slot	*ring;
	size_t			 cap;		/* power of two */
	size_t			 head;		/* index of the oldest */
	size_t			 n;		/* slots in use */
	size_t			 cursor;	/* offset from head */
	size_t			 bytes, max_bytes;
	size_t			 held, unsent;
	struct memq_stats	 st;
};

#define SLOT(q, i)	(&(q)->ring[((q)->head + (i)) & ((q)->cap - 1)])

struct memq *
memq_new(size_t max_bytes)
{
	struct memq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->cap = 64;
	if ((q->ring = calloc(q->cap, sizeof(*q->ring))) == NULL) {
		free(q);
		return NULL;
	}
	q->max_bytes = max_bytes;
	return q;
}

void
memq_free(struct memq *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < q->n; i++)
		batch_free(SLOT(q, i)->b);
	free(q->ring);
	free(q);
}

static void
memq_pop_gone(struct memq *q)
{
	while (q->n > 0 && SLOT(q, 0)->state == MEMQ_GONE) {
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
		if (q->cursor > 0)
			q->cursor--;
	}
}

static void
memq_release(struct memq *q, struct memq_slot *s)
{
	if (s->state == MEMQ_UNSENT)
		q->unsent--;
	q->bytes -= s->b->len;
	q->held--;
	batch_free(s->b);
	s->b = NULL;
	s->state = MEMQ_GONE;
}

static int
memq_grow(struct memq *q)
{
	struct memq_slot *r;
	size_t i;

	if ((r = calloc(q->cap * 2, sizeof(*r))) == NULL)
		return -ENOMEM;
	for (i = 0; i < q->n; i++)
		r[i] = *SLOT(q, i);
	free(q->ring);
	q->ring = r;
	q->cap *= 2;
	q->head = 0;
	return 0;
}

int
memq_push(struct memq *q, struct batch *b)
{
	struct memq_slot *s;
	size_t i;

	if (q->n == q->cap && memq_grow(q) != 0) {
		q->st.dropped_batches++;
		q->st.dropped_records += b->nrecords;
		batch_free(b);
		return -ENOMEM;
	}
	s = SLOT(q, q->n);
	s->b = b;
	s->state = MEMQ_UNSENT;
	q->n++;
	q->held++;
	q->unsent++;
	q->bytes += b->len;
	/* Over the cap: the oldest unsent batches go, never the new one nor
	 * those in flight (the uplink bounds those). */
	for (i = q->cursor; q->bytes > q->max_bytes && i + 1 < q->n; i++) {
		s = SLOT(q, i);
		if (s->state != MEMQ_UNSENT)
			continue;
		q->st.dropped_batches++;
		q->st.dropped_records += s->b->nrecords;
		memq_release(q, s);
	}
	memq_pop_gone(q);
	return 0;
}

const struct batch *
memq_next(struct memq *q)
{
	struct memq_slot *s;

	while (q->cursor < q->n) {
		s = SLOT(q, q->cursor);
		q->cursor++;
		if (s->state == MEMQ_UNSENT) {
			s->state = MEMQ_SENT;
			q->unsent--;
			return s->b;
		}
	}
	return NULL;
}

int
memq_ack(struct memq *q, uint64_t seq)
{
	struct memq_slot *s;
	size_t i;
	int n;

	for (i = 0; i < q->cursor && i < q->n; i++) {
		s = SLOT(q, i);
		if (s->state != MEMQ_SENT || s->b->seq != seq)
			continue;
		n = (int)s->b->nrecords;
		memq_release(q, s);
		memq_pop_gone(q);
		return n;
	}
	return -ENOENT;
}

void
memq_rewind(struct memq *q)
{
	struct memq_slot *s;
	size_t i;

	for (i = 0; i < q->cursor && i < q->n; i++) {
		s = SLOT(q, i);
		if (s->state == MEMQ_SENT) {
			s->state = MEMQ_UNSENT;
			q->unsent++;
		}
	}
	q->cursor = 0;
}

size_t
memq_count(const struct memq *q)
{
	return q->held;
}

size_t
memq_unsent(const struct memq *q)
{
	return q->unsent;
}

size_t
memq_bytes(const struct memq *q)
{
	return q->bytes;
}

const struct memq_stats *
memq_stats(const struct memq *q)
{
	return &q->st;
}
