/*
 * sim.h - pieces of fieldbridge-sim shared between its files: the sensor
 * payload generator (sim_payload.c), the registry generator (sim_gen.c)
 * and a small deterministic random generator for both.
 *
 * The simulator stands where the radio and the concentrator would be: it
 * produces what nodes would transmit, so nothing here is used by the daemon.
 */
#ifndef FB_SIM_H
#define FB_SIM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_PAYLOAD_MIN		20	/* bytes of one telemetry record */
#define SIM_PAYLOAD_MAX		35	/* fits EU868 SF12 with the link overhead */

/* splitmix64: fast, seedable, good enough for sensor noise and schedules. */
static inline uint64_t
sim_rand(uint64_t *s)
{
	uint64_t z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static inline uint32_t
sim_rand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((sim_rand(s) >> 32) * (uint64_t)n) >> 32);
}

enum sim_sensor_kind {
	SIM_SENSOR_GENERIC = 0,
	SIM_SENSOR_COLLAR = 1,		/* stream "cattle", "sheep", ... */
	SIM_SENSOR_TROUGH = 2,		/* stream "water" */
	SIM_SENSOR_WEATHER = 3,		/* stream "weather", "soil" */
};

/* The slowly changing state of one node's sensors (a random walk). */
struct sim_sensor {
	uint8_t		kind;		/* enum sim_sensor_kind */
	uint64_t	rng;
	int32_t		lat_e7, lon_e7;	/* position, 1e-7 degrees */
	int16_t		temp_c100;	/* body, water or air temperature */
	uint16_t	level_mm;	/* trough level */
	uint16_t	pressure_hpa10;
	uint8_t		humidity;
	uint8_t		battery;	/* percent */
	uint32_t	total;		/* steps, litres or rain in 0.1 mm */
	uint32_t	uptime_s;
};

void	sim_sensor_init(struct sim_sensor *s, const char *stream, uint64_t seed);
/* Write the next reading; returns its length, SIM_PAYLOAD_MIN..MAX. */
size_t	sim_payload(struct sim_sensor *s, uint8_t *out, size_t cap);

/* --gen-registry: write a registry of n devices and a mode-0600 keys file. */
int	sim_gen_registry(const char *devices_path, const char *keys_path,
	    unsigned int n, const char *streams, char *err, size_t errlen);

#endif
