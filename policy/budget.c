/*
 * budget.c - the downlink airtime budget (see budget.h).
 *
 * EU868: the sub-bands of ETSI EN 300 220-2 (and ERC Recommendation
 * 70-03, annex 1) in which LoRa gateways transmit, with their duty-cycle
 * limits, as LoRaWAN's Regional Parameters (RP002) list them:
 *
 *	h1.3  863.0 - 865.0 MHz   0.1 %
 *	h1.4  865.0 - 868.0 MHz   1 %
 *	g1    868.0 - 868.6 MHz   1 %
 *	g2    868.7 - 869.2 MHz   0.1 %
 *	g3    869.4 - 869.65 MHz  10 %
 *	g4    869.7 - 870.0 MHz   1 %
 *
 * The limit is on the transmitter's time on air over one hour.  Each band
 * keeps its use in one-minute slices; a transmission is allowed when the
 * last 61 slices (the current one included, so a little more than an hour:
 * conservative) plus its own time stay within duty x one hour.  A frequency
 * in none of the bands is refused: transmitting there is not ours to do.
 *
 * US915 has no duty cycle; FCC part 15.247 limits the dwell time of a
 * hopping transmitter to 400 ms per channel in 20 s.  Only the per-frame
 * part is implemented: a downlink longer than 400 ms on air is refused
 * (SF12 at 125 kHz is not a US915 downlink rate anyway); the time used is
 * still counted for the status file, and CHALLENGEs are limited only per
 * device (policy/ident.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/budget.h"

#define BUDGET_SLICES	(BUDGET_WINDOW_MS / BUDGET_SLICE_MS + 1)

struct budget_def {
	const char	*name;
	uint32_t	 lo_hz, hi_hz;
	uint32_t	 duty_ppm;
};

static const struct budget_def budget_eu868[] = {
	{ "h1.3", 863000000, 865000000, 1000 },
	{ "h1.4", 865000000, 868000000, 10000 },
	{ "g1", 868000000, 868600000, 10000 },
	{ "g2", 868700000, 869200000, 1000 },
	{ "g3", 869400000, 869650000, 100000 },
	{ "g4", 869700000, 870000000, 10000 },
};

static const struct budget_def budget_us915[] = {
	{ "us915", 902000000, 928000000, 0 },
};

struct budget_use {
	uint64_t	slice[BUDGET_SLICES];	/* us, all classes */
	uint64_t	uslice[BUDGET_SLICES];	/* us, BUDGET_UNAUTH */
	uint64_t	cur;			/* slice number of now */
	uint64_t	sent[BUDGET_CLASSES];
	uint64_t	refused[BUDGET_CLASSES];
};

struct budget {
	enum budget_region	 region;
	const struct budget_def	*defs;
	unsigned int		 nbands;
	unsigned int		 nconc;
	struct budget_use	*use;		/* nconc x nbands */
	uint64_t		 out_of_band;
};

struct budget *
budget_new(enum budget_region region, unsigned int nconc)
{
	struct budget *b;

	if (nconc == 0 || (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->region = region;
	if (region == BUDGET_US915) {
		b->defs = budget_us915;
		b->nbands = sizeof(budget_us915) / sizeof(budget_us915[0]);
	} else {
		b->defs = budget_eu868;
		b->nbands = sizeof(budget_eu868) / sizeof(budget_eu868[0]);
	}
	b->nconc = nconc;
	if ((b->use = calloc((size_t)nconc * b->nbands,
	    sizeof(*b->use))) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void
budget_free(struct budget *b)
{
	if (b == NULL)
		return;
	free(b->use);
	free(b);
}

/* Forget the slices that fell out of the window by now_ms. */
static void
budget_advance(struct budget_use *u, uint64_t now_ms)
{
	uint64_t now = now_ms / BUDGET_SLICE_MS, s;

	if (now <= u->cur)
		return;
	if (now - u->cur >= BUDGET_SLICES) {
		memset(u->slice, 0, sizeof(u->slice));
		memset(u->uslice, 0, sizeof(u->uslice));
	} else
		for (s = u->cur + 1; s <= now; s++) {
			u->slice[s % BUDGET_SLICES] = 0;
			u->uslice[s % BUDGET_SLICES] = 0;
		}
	u->cur = now;
}

static void
budget_sum(const struct budget_use *u, uint64_t *all, uint64_t *unauth)
{
	unsigned int i;

	*all = *unauth = 0;
	for (i = 0; i < BUDGET_SLICES; i++) {
		*all += u->slice[i];
		*unauth += u->uslice[i];
	}
}

static uint64_t
budget_limit_us(const struct budget_def *d)
{
	return (uint64_t)d->duty_ppm * (BUDGET_WINDOW_MS / 1000);
}

int
budget_take(struct budget *b, unsigned int conc, uint32_t freq_hz,
    int64_t toa_us, enum budget_class cls, uint64_t now_ms)
{
	const struct budget_def *d = NULL;
	struct budget_use *u;
	uint64_t all, unauth, limit, t;
	unsigned int i;

	if (conc >= b->nconc || toa_us < 0 || cls >= BUDGET_CLASSES)
		return -EINVAL;
	for (i = 0; i < b->nbands; i++)
		if (freq_hz >= b->defs[i].lo_hz && freq_hz < b->defs[i].hi_hz) {
			d = &b->defs[i];
			break;
		}
	if (d == NULL) {
		b->out_of_band++;
		return -ERANGE;
	}
	u = &b->use[(size_t)conc * b->nbands + i];
	budget_advance(u, now_ms);
	t = (uint64_t)toa_us;
	if (b->region == BUDGET_US915 && t > BUDGET_US915_DWELL_US) {
		u->refused[cls]++;
		return -ERANGE;
	}
	if (d->duty_ppm != 0) {
		budget_sum(u, &all, &unauth);
		limit = budget_limit_us(d);
		if (all + t > limit || (cls == BUDGET_UNAUTH && unauth + t >
		    limit * BUDGET_UNAUTH_SHARE_PCT / 100)) {
			u->refused[cls]++;
			return -EBUSY;
		}
	}
	u->slice[u->cur % BUDGET_SLICES] += t;
	if (cls == BUDGET_UNAUTH)
		u->uslice[u->cur % BUDGET_SLICES] += t;
	u->sent[cls]++;
	return 0;
}

unsigned int
budget_band_count(const struct budget *b)
{
	return b->nbands;
}

void
budget_band(struct budget *b, unsigned int conc, unsigned int i,
    uint64_t now_ms, struct budget_band_info *out)
{
	struct budget_use *u = &b->use[(size_t)conc * b->nbands + i];
	const struct budget_def *d = &b->defs[i];

	budget_advance(u, now_ms);
	memset(out, 0, sizeof(*out));
	out->name = d->name;
	out->lo_hz = d->lo_hz;
	out->hi_hz = d->hi_hz;
	out->duty_ppm = d->duty_ppm;
	out->limit_us = budget_limit_us(d);
	budget_sum(u, &out->used_us, &out->unauth_used_us);
	memcpy(out->sent, u->sent, sizeof(out->sent));
	memcpy(out->refused, u->refused, sizeof(out->refused));
}

uint64_t
budget_out_of_band(const struct budget *b)
{
	return b->out_of_band;
}

const char *
budget_region_name(enum budget_region region)
{
	return region == BUDGET_US915 ? "US915" : "EU868";
}
