/*
 * sim_payload.c - plausible sensor readings for fieldbridge-sim's nodes.
 *
 * The gateway never looks inside a payload (it only authenticates and
 * forwards it), so these bytes exist to make the simulator's traffic look
 * like a farm's: sizes in the range a LoRa node really sends, values that
 * drift instead of jumping, and a layout per kind of sensor.  All integers
 * are big-endian.  Byte 0 is the kind; the tail has a variable number of
 * samples so that lengths spread over SIM_PAYLOAD_MIN..SIM_PAYLOAD_MAX.
 *
 *   collar   1 | lat i32 | lon i32 | alt u16 | body temp i16 (0.01 C) |
 *            activity u16 | steps u32 | battery u8 | accel samples i8[3k]
 *   trough   2 | level mm u16 | water temp i16 | flow l/min u16 |
 *            total litres u32 | battery u8 | valve u8 | pressure u16 |
 *            uptime s u32 | level history u16[k]
 *   weather  3 | temp i16 | humidity u8 | pressure u16 (0.1 hPa) | wind u16 |
 *            gust u16 | direction u16 | rain u16 | solar u16 | battery u8 |
 *            uptime s u32 | soil moisture u16[k]
 *   generic  0 | uptime s u32 | battery u8 | counter u32 | noise
 */
#include <string.h>

#include "tools/sim.h"

struct wr {
	uint8_t	*p;
	size_t	 len, cap;
};

static void
wr_u8(struct wr *w, uint32_t v)
{
	if (w->cap - w->len >= 1)
		w->p[w->len++] = (uint8_t)v;
}

static void
wr_u16(struct wr *w, uint32_t v)
{
	wr_u8(w, v >> 8);
	wr_u8(w, v);
}

static void
wr_u32(struct wr *w, uint32_t v)
{
	wr_u16(w, v >> 16);
	wr_u16(w, v);
}

/* A step of a bounded random walk. */
static int32_t
walk(uint64_t *rng, int32_t v, int32_t step, int32_t lo, int32_t hi)
{
	v += (int32_t)sim_rand_below(rng, (uint32_t)(2 * step + 1)) - step;
	if (v < lo)
		v = lo;
	if (v > hi)
		v = hi;
	return v;
}

void
sim_sensor_init(struct sim_sensor *s, const char *stream, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
	if (strcmp(stream, "cattle") == 0 || strcmp(stream, "sheep") == 0 ||
	    strcmp(stream, "goats") == 0)
		s->kind = SIM_SENSOR_COLLAR;
	else if (strcmp(stream, "water") == 0)
		s->kind = SIM_SENSOR_TROUGH;
	else if (strcmp(stream, "weather") == 0 || strcmp(stream, "soil") == 0)
		s->kind = SIM_SENSOR_WEATHER;
	else
		s->kind = SIM_SENSOR_GENERIC;
	/* A paddock in the Pampas; each node starts somewhere in it. */
	s->lat_e7 = -345000000 + (int32_t)sim_rand_below(&s->rng, 200000);
	s->lon_e7 = -588000000 + (int32_t)sim_rand_below(&s->rng, 200000);
	s->temp_c100 = (int16_t)(s->kind == SIM_SENSOR_COLLAR ? 3850 :
	    1200 + (int32_t)sim_rand_below(&s->rng, 1000));
	s->level_mm = (uint16_t)(400 + sim_rand_below(&s->rng, 300));
	s->pressure_hpa10 = (uint16_t)(10080 + sim_rand_below(&s->rng, 100));
	s->humidity = (uint8_t)(40 + sim_rand_below(&s->rng, 40));
	s->battery = (uint8_t)(60 + sim_rand_below(&s->rng, 41));
	s->uptime_s = sim_rand_below(&s->rng, 86400 * 30);
}

size_t
sim_payload(struct sim_sensor *s, uint8_t *out, size_t cap)
{
	struct wr w = { out, 0, cap };
	unsigned int k, i;

	s->uptime_s += 60;
	if (sim_rand_below(&s->rng, 500) == 0 && s->battery > 5)
		s->battery--;
	switch (s->kind) {
	case SIM_SENSOR_COLLAR:
		s->lat_e7 = walk(&s->rng, s->lat_e7, 300, -346000000, -344000000);
		s->lon_e7 = walk(&s->rng, s->lon_e7, 300, -589000000, -587000000);
		s->temp_c100 = (int16_t)walk(&s->rng, s->temp_c100, 5, 3700, 4100);
		s->total += sim_rand_below(&s->rng, 120);
		wr_u8(&w, SIM_SENSOR_COLLAR);
		wr_u32(&w, (uint32_t)s->lat_e7);
		wr_u32(&w, (uint32_t)s->lon_e7);
		wr_u16(&w, 20 + sim_rand_below(&s->rng, 5));
		wr_u16(&w, (uint16_t)s->temp_c100);
		wr_u16(&w, sim_rand_below(&s->rng, 1000));
		wr_u32(&w, s->total);
		wr_u8(&w, s->battery);
		k = sim_rand_below(&s->rng, 5);		/* 20 + 3k bytes */
		for (i = 0; i < 3 * k; i++)
			wr_u8(&w, sim_rand_below(&s->rng, 256));
		break;
	case SIM_SENSOR_TROUGH:
		s->level_mm = (uint16_t)walk(&s->rng, s->level_mm, 4, 50, 900);
		s->temp_c100 = (int16_t)walk(&s->rng, s->temp_c100, 3, 200, 3000);
		s->total += sim_rand_below(&s->rng, 40);
		wr_u8(&w, SIM_SENSOR_TROUGH);
		wr_u16(&w, s->level_mm);
		wr_u16(&w, (uint16_t)s->temp_c100);
		wr_u16(&w, sim_rand_below(&s->rng, 60));
		wr_u32(&w, s->total);
		wr_u8(&w, s->battery);
		wr_u8(&w, s->level_mm < 300);
		wr_u16(&w, 1800 + sim_rand_below(&s->rng, 200));
		wr_u32(&w, s->uptime_s);
		k = 1 + sim_rand_below(&s->rng, 8);	/* 19 + 2k bytes */
		for (i = 0; i < k; i++)
			wr_u16(&w, s->level_mm + sim_rand_below(&s->rng, 9) - 4);
		break;
	case SIM_SENSOR_WEATHER:
		s->temp_c100 = (int16_t)walk(&s->rng, s->temp_c100, 8, -1500, 4500);
		s->humidity = (uint8_t)walk(&s->rng, s->humidity, 1, 5, 100);
		s->pressure_hpa10 = (uint16_t)walk(&s->rng, s->pressure_hpa10, 2,
		    9500, 10500);
		if (sim_rand_below(&s->rng, 20) == 0)
			s->total += sim_rand_below(&s->rng, 5);
		wr_u8(&w, SIM_SENSOR_WEATHER);
		wr_u16(&w, (uint16_t)s->temp_c100);
		wr_u8(&w, s->humidity);
		wr_u16(&w, s->pressure_hpa10);
		wr_u16(&w, sim_rand_below(&s->rng, 150));
		wr_u16(&w, 50 + sim_rand_below(&s->rng, 200));
		wr_u16(&w, sim_rand_below(&s->rng, 360));
		wr_u16(&w, s->total);
		wr_u16(&w, sim_rand_below(&s->rng, 1200));
		wr_u8(&w, s->battery);
		wr_u32(&w, s->uptime_s);
		k = sim_rand_below(&s->rng, 8);		/* 21 + 2k bytes */
		for (i = 0; i < k; i++)
			wr_u16(&w, 200 + sim_rand_below(&s->rng, 300));
		break;
	default:
		wr_u8(&w, SIM_SENSOR_GENERIC);
		wr_u32(&w, s->uptime_s);
		wr_u8(&w, s->battery);
		wr_u32(&w, ++s->total);
		k = 10 + sim_rand_below(&s->rng, 16);	/* 10 + k bytes */
		for (i = 0; i < k; i++)
			wr_u8(&w, sim_rand_below(&s->rng, 256));
		break;
	}
	return w.len;
}
