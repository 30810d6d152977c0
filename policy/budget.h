/*
 * budget.h - the downlink airtime budget: every transmission is charged
 * its time on air (radio/airtime.c) against the duty-cycle limit of its
 * regional sub-band, per concentrator, and refused when it would exceed
 * it.  Replies to authenticated frames (ACCEPT, KEEPALIVE, COMMAND, and
 * the CHALLENGE to a version 2 HELLO, whose MIC verified) may use the
 * whole budget; CHALLENGEs to version 1 HELLOs, which anybody can
 * forge, only BUDGET_UNAUTH_SHARE_PCT of it, so a HELLO flood can never
 * take the airtime that joined nodes need (DESIGN.md invariant 6).
 *
 * No I/O; time is the monotonic clock in ms, passed in.
 */
#ifndef FB_BUDGET_H
#define FB_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#define BUDGET_WINDOW_MS	3600000	/* ETSI EN 300 220: duty cycle over
					 * one hour */
#define BUDGET_SLICE_MS		60000	/* accounting granularity */
#define BUDGET_UNAUTH_SHARE_PCT	50	/* of each band, for CHALLENGEs */
#define BUDGET_US915_DWELL_US	400000	/* FCC 15.247: 400 ms per channel */
#define BUDGET_BANDS_MAX	8

enum budget_region {
	BUDGET_EU868 = 0,
	BUDGET_US915 = 1,
};

enum budget_class {
	BUDGET_AUTH = 0,	/* a reply to an authenticated frame */
	BUDGET_UNAUTH = 1,	/* a CHALLENGE to an unauthenticated (v1) HELLO */
};
#define BUDGET_CLASSES	2

struct budget_band_info {
	const char	*name;		/* "g1", ... */
	uint32_t	 lo_hz, hi_hz;
	uint32_t	 duty_ppm;	/* 0: no duty-cycle limit */
	uint64_t	 limit_us;	/* per window; 0: none */
	uint64_t	 used_us;	/* in the last window */
	uint64_t	 unauth_used_us;
	uint64_t	 sent[BUDGET_CLASSES];
	uint64_t	 refused[BUDGET_CLASSES];
};

struct budget;

struct budget *budget_new(enum budget_region region, unsigned int nconc);
void	budget_free(struct budget *b);
/* Charges toa_us on concentrator conc at freq_hz, or refuses: 0, -EBUSY
 * over the budget (counted), -ERANGE a frequency in no sub-band the
 * region allows us to transmit in, or over US915's dwell time
 * (counted). */
int	budget_take(struct budget *b, unsigned int conc, uint32_t freq_hz,
	    int64_t toa_us, enum budget_class cls, uint64_t now_ms);
unsigned int budget_band_count(const struct budget *b);
/* Band i of concentrator conc as of now_ms. */
void	budget_band(struct budget *b, unsigned int conc, unsigned int i,
	    uint64_t now_ms, struct budget_band_info *out);
uint64_t budget_out_of_band(const struct budget *b);	/* -ERANGE count */
const char *budget_region_name(enum budget_region region);

#endif
