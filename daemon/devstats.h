/*
 * devstats.h - per device counters for the status file: when each
 * registered device was last heard (an accepted record), how many records
 * it sent and how many of its frames identity refused.  Bounded: at most
 * DEVSTATS_MAX devices; the one whose last accepted record is the oldest
 * (one with none first) is forgotten first, so forged frames keep nobody.  The
 * loop counts (loop.c, loop_rx); status.c's table names the keys.
 */
#ifndef FB_DEVSTATS_H
#define FB_DEVSTATS_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define DEVSTATS_MAX		256
#define DEVSTATS_NAME_MAX	32	/* of the registry's name, in the file */

struct devstats;

/* NULL when out of memory.  devstats_free accepts NULL. */
struct devstats *devstats_new(void);
void	devstats_free(struct devstats *ds);

/* A record of eui accepted at wall time now (name: the registry's). */
void	devstats_record(struct devstats *ds, uint64_t eui, const char *name,
	    time_t now);
/* A frame attributed to eui refused by identity. */
void	devstats_refused(struct devstats *ds, uint64_t eui, const char *name);
/* The devices known. */
size_t	devstats_count(const struct devstats *ds);

/* The "devices" keys and one group of device_EUI_ keys per device, the
 * most recently heard first. */
void	devstats_status(struct devstats *ds, FILE *f);

#endif
