/*
 * devstats.c - per device counters for the status file (devstats.h).
 *
 * A flat table of DEVSTATS_MAX entries searched linearly: a frame costs a
 * few hundred comparisons at most, far below its decryption.  Only devices
 * of the registry come here (loop.c): an EUI anybody can invent must not
 * push a real device out of the table.  "Heard" is any frame attributed to
 * the device; last_seen only moves on an accepted record, so a forger
 * cannot make a dead collar look alive.  A full table forgets the device
 * whose last accepted record is the oldest, those with none first: frames
 * forged in registered devices' names cannot push out one that sends.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/devstats.h"
#include "daemon/status.h"
#include "policy/registry.h"

struct devstat {
	uint64_t	eui;
	char		name[DEVSTATS_NAME_MAX + 1];
	time_t		last_seen;	/* 0: no accepted record */
	uint64_t	heard_n;	/* any frame: the order heard */
	uint64_t	seen_n;		/* accepted records: that order; 0 none */
	uint64_t	records;
	uint64_t	refused;
};

struct devstats {
	struct devstat	e[DEVSTATS_MAX];
	size_t		n;
	uint64_t	clock;		/* frames so far: the order heard */
	uint64_t	forgotten;	/* pushed out of a full table */
};

struct devstats *
devstats_new(void)
{
	return calloc(1, sizeof(struct devstats));
}

void
devstats_free(struct devstats *ds)
{
	free(ds);
}

/* Forgotten first: no accepted record, or the oldest one; then the least
 * recently heard. */
static int
devstats_older(const struct devstat *a, const struct devstat *b)
{
	if (a->seen_n != b->seen_n)
		return a->seen_n < b->seen_n;
	return a->heard_n < b->heard_n;
}

/* The entry of eui; a new one (replacing the one devstats_older puts
 * first when full). */
static struct devstat *
devstats_get(struct devstats *ds, uint64_t eui, const char *name)
{
	struct devstat *e = NULL;
	size_t i;

	for (i = 0; i < ds->n; i++)
		if (ds->e[i].eui == eui) {
			e = &ds->e[i];
			break;
		}
	if (e == NULL) {
		if (ds->n < DEVSTATS_MAX)
			e = &ds->e[ds->n++];
		else {
			for (e = &ds->e[0], i = 1; i < ds->n; i++)
				if (devstats_older(&ds->e[i], e))
					e = &ds->e[i];
			ds->forgotten++;
		}
		memset(e, 0, sizeof(*e));
		e->eui = eui;
	}
	/* A registry reload may rename it. */
	(void)snprintf(e->name, sizeof(e->name), "%s", name != NULL ? name : "");
	e->heard_n = ++ds->clock;
	return e;
}

void
devstats_record(struct devstats *ds, uint64_t eui, const char *name,
    time_t now)
{
	struct devstat *e;

	if (ds == NULL)
		return;
	e = devstats_get(ds, eui, name);
	e->seen_n = e->heard_n;
	e->last_seen = now;
	e->records++;
}

void
devstats_refused(struct devstats *ds, uint64_t eui, const char *name)
{
	if (ds == NULL)
		return;
	devstats_get(ds, eui, name)->refused++;
}

size_t
devstats_count(const struct devstats *ds)
{
	return ds != NULL ? ds->n : 0;
}

static int
devstats_cmp(const void *a, const void *b)
{
	const struct devstat *x = a, *y = b;

	return x->heard_n < y->heard_n ? 1 : x->heard_n > y->heard_n ? -1 : 0;
}

void
devstats_status(struct devstats *ds, FILE *f)
{
	char eui[17];
	size_t i;

	if (ds == NULL)
		return;
	qsort(ds->e, ds->n, sizeof(ds->e[0]), devstats_cmp);
	status_u64(f, STATUS_K_DEVICES, ds->n);
	status_u64(f, STATUS_K_DEVICES_FORGOTTEN, ds->forgotten);
	for (i = 0; i < ds->n; i++) {
		registry_format_eui(ds->e[i].eui, eui);
		status_text3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_NAME, ds->e[i].name);
		status_i64_3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_LAST_SEEN, (int64_t)ds->e[i].last_seen);
		status_i64_3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_RECORDS, (int64_t)ds->e[i].records);
		status_i64_3(f, STATUS_K_DEVICE_PREFIX, eui,
		    STATUS_K_DEVICE_REFUSED, (int64_t)ds->e[i].refused);
	}
}
