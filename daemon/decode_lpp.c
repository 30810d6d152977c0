/*
 * decode_lpp.c - Cayenne Low Power Payload to named JSON fields.
 *
 * Data flow: batch.c, encoding a record of a stream whose decoder is
 * "lpp" -> lpp_json() -> ',"fields":{...}' inside the record's JSON.
 *
 * The format (myDevices, "Cayenne Docs: LPP", the data types table built
 * on the IPSO Alliance Smart Objects ids): a payload is a sequence of
 *
 *	+---------+------+----------------+
 *	| channel | type | value (size by |
 *	| 1 byte  | 1 B  | the type)      |
 *	+---------+------+----------------+
 *
 * every value big-endian (most significant byte first):
 *
 *	type  name            size  per value            unit
 *	   0  digital_input     1   1, unsigned
 *	   1  digital_output    1   1, unsigned
 *	   2  analog_input      2   0.01, signed
 *	   3  analog_output     2   0.01, signed
 *	 101  illuminance       2   1 lux, unsigned      lx
 *	 102  presence          1   1, unsigned
 *	 103  temperature       2   0.1 degC, signed     Cel
 *	 104  humidity          1   0.5 %, unsigned      %RH
 *	 113  accelerometer     6   x, y, z: 0.001 G     g (each signed)
 *	 115  barometer         2   0.1 hPa, unsigned    hPa
 *	 134  gyrometer         6   x, y, z: 0.01 deg/s  deg/s (each signed)
 *	 136  gps               9   lat, lon: 0.0001 deg deg, deg, m
 *	                            alt: 0.01 m (each 3 bytes, signed)
 *
 * Units are ASCII (UCUM codes where there is one) so the JSON needs no
 * escaping.  A field is named "<type>_<channel>", e.g. "temperature_3".
 * Order of checks: empty, then per entry: header present, known type,
 * whole value present, channel and type not seen before, room.  Any
 * failure rejects the whole payload (a half-decoded record would be read as
 * whole): batch.c then sends it raw with the reason.
 */
#include <string.h>

#include "daemon/decode_lpp.h"

#define LPP_AXES_MAX		3
#define LPP_TYPES		12

struct lpp_type {
	uint8_t		 id;
	const char	*name;
	uint8_t		 nvals;		/* 1, or 3 for x/y/z and lat/lon/alt */
	uint8_t		 vbytes;	/* bytes of each value */
	uint8_t		 is_signed;
	uint8_t		 mult;		/* raw * mult, then decimals */
	uint8_t		 decimals[LPP_AXES_MAX];
	const char	*unit;		/* one value */
	const char	*axes[LPP_AXES_MAX];
	const char	*units[LPP_AXES_MAX];
};

static const struct lpp_type lpp_types[LPP_TYPES] = {
	{ 0, "digital_input", 1, 1, 0, 1, { 0 }, NULL, { NULL }, { NULL } },
	{ 1, "digital_output", 1, 1, 0, 1, { 0 }, NULL, { NULL }, { NULL } },
	{ 2, "analog_input", 1, 2, 1, 1, { 2 }, NULL, { NULL }, { NULL } },
	{ 3, "analog_output", 1, 2, 1, 1, { 2 }, NULL, { NULL }, { NULL } },
	{ 101, "illuminance", 1, 2, 0, 1, { 0 }, "lx", { NULL }, { NULL } },
	{ 102, "presence", 1, 1, 0, 1, { 0 }, NULL, { NULL }, { NULL } },
	{ 103, "temperature", 1, 2, 1, 1, { 1 }, "Cel", { NULL }, { NULL } },
	{ 104, "humidity", 1, 1, 0, 5, { 1 }, "%RH", { NULL }, { NULL } },
	{ 113, "accelerometer", 3, 2, 1, 1, { 3, 3, 3 }, NULL,
	    { "x", "y", "z" }, { "g", "g", "g" } },
	{ 115, "barometer", 1, 2, 0, 1, { 1 }, "hPa", { NULL }, { NULL } },
	{ 134, "gyrometer", 3, 2, 1, 1, { 2, 2, 2 }, NULL,
	    { "x", "y", "z" }, { "deg/s", "deg/s", "deg/s" } },
	{ 136, "gps", 3, 3, 1, 1, { 4, 4, 2 }, NULL,
	    { "lat", "lon", "alt" }, { "deg", "deg", "m" } },
};

static const char *const lpp_errors[LPP_VERDICT_COUNT] = {
	"",
	"lpp: empty payload",
	"lpp: unknown data type",
	"lpp: value cut short",
	"lpp: channel and type repeated",
	"lpp: too many fields for one record",
};

const char *
lpp_strerror(int verdict)
{
	if (verdict > 0 || verdict <= -LPP_VERDICT_COUNT)
		return "lpp: ?";
	return lpp_errors[-verdict];
}

/* A bounded writer: every put checks the room left, by subtraction. */
struct lpp_out {
	char	*p;
	size_t	 left;
	int	 full;
};

static void
lpp_put(struct lpp_out *o, const char *s, size_t n)
{
	if (o->full || n > o->left) {
		o->full = 1;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
}

static void
lpp_puts(struct lpp_out *o, const char *s)
{
	lpp_put(o, s, strlen(s));
}

static void
lpp_put_uint(struct lpp_out *o, uint32_t v, unsigned int min_digits)
{
	char d[10];
	size_t n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 || n < min_digits);
	lpp_put(o, d + sizeof(d) - n, n);
}

/* v / 10^decimals, exactly, as a JSON number. */
static void
lpp_put_fixed(struct lpp_out *o, int32_t v, unsigned int decimals)
{
	uint32_t u, scale = 1;
	unsigned int i;

	for (i = 0; i < decimals; i++)
		scale *= 10;
	if (v < 0) {
		lpp_put(o, "-", 1);
		u = (uint32_t)(-(int64_t)v);
	} else
		u = (uint32_t)v;
	lpp_put_uint(o, u / scale, 1);
	if (decimals > 0) {
		lpp_put(o, ".", 1);
		lpp_put_uint(o, u % scale, decimals);
	}
}

static const struct lpp_type *
lpp_type_find(uint8_t id, unsigned int *index)
{
	unsigned int i;

	for (i = 0; i < LPP_TYPES; i++)
		if (lpp_types[i].id == id) {
			*index = i;
			return &lpp_types[i];
		}
	return NULL;
}

/* One value of vbytes bytes, big-endian, sign-extended when signed. */
static int32_t
lpp_value(const uint8_t *p, unsigned int vbytes, int is_signed)
{
	uint32_t u = 0;
	unsigned int i;

	for (i = 0; i < vbytes; i++)
		u = u << 8 | p[i];
	if (is_signed && (u & (1u << (8 * vbytes - 1))) != 0)
		return (int32_t)(u | ~((1u << (8 * vbytes)) - 1u));
	return (int32_t)u;
}

int
lpp_json(const uint8_t *p, size_t len, char *out, size_t cap)
{
	const struct lpp_type *t;
	struct lpp_out o = { out, cap, 0 };
	uint16_t seen[256];
	unsigned int ti, a;
	size_t off = 0, need;
	int32_t v;
	int first = 1;

	if (len == 0)
		return LPP_ERR_EMPTY;
	memset(seen, 0, sizeof(seen));
	lpp_puts(&o, ",\"fields\":{");
	while (off < len) {
		if (len - off < 2)
			return LPP_ERR_SHORT;
		if ((t = lpp_type_find(p[off + 1], &ti)) == NULL)
			return LPP_ERR_TYPE;
		need = (size_t)t->nvals * t->vbytes;
		if (len - off - 2 < need)
			return LPP_ERR_SHORT;
		if (seen[p[off]] & (1u << ti))
			return LPP_ERR_DUP;
		seen[p[off]] |= (uint16_t)(1u << ti);
		if (!first)
			lpp_put(&o, ",", 1);
		first = 0;
		lpp_put(&o, "\"", 1);
		lpp_puts(&o, t->name);
		lpp_put(&o, "_", 1);
		lpp_put_uint(&o, p[off], 1);
		lpp_puts(&o, "\":{\"value\":");
		if (t->nvals == 1) {
			v = lpp_value(p + off + 2, t->vbytes, t->is_signed);
			lpp_put_fixed(&o, v * t->mult, t->decimals[0]);
		} else {
			lpp_put(&o, "{", 1);
			for (a = 0; a < t->nvals; a++) {
				v = lpp_value(p + off + 2 + a * t->vbytes,
				    t->vbytes, t->is_signed);
				lpp_puts(&o, a > 0 ? ",\"" : "\"");
				lpp_puts(&o, t->axes[a]);
				lpp_puts(&o, "\":");
				lpp_put_fixed(&o, v * t->mult, t->decimals[a]);
			}
			lpp_put(&o, "}", 1);
		}
		if (t->unit != NULL) {
			lpp_puts(&o, ",\"unit\":\"");
			lpp_puts(&o, t->unit);
			lpp_put(&o, "\"", 1);
		} else if (t->nvals > 1) {
			lpp_puts(&o, ",\"unit\":{");
			for (a = 0; a < t->nvals; a++) {
				lpp_puts(&o, a > 0 ? ",\"" : "\"");
				lpp_puts(&o, t->axes[a]);
				lpp_puts(&o, "\":\"");
				lpp_puts(&o, t->units[a]);
				lpp_put(&o, "\"", 1);
			}
			lpp_put(&o, "}", 1);
		}
		lpp_put(&o, "}", 1);
		off += 2 + need;
	}
	lpp_put(&o, "}", 1);
	if (o.full)
		return LPP_ERR_ROOM;
	return (int)(cap - o.left);
}
