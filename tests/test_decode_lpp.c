/*
 * test_decode_lpp.c - the Cayenne LPP decoder against the published type
 * table (myDevices "Cayenne Docs: LPP"): its worked examples, every type
 * at its limits (sign, scale, width), and malformed payloads: empty, a
 * lone channel byte, an unknown type, a value cut short, a repeated
 * channel and type, fields that do not fit the room given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/decode_lpp.h"

static char out[4096];

static const char *
decode(const uint8_t *p, size_t len)
{
	int n;

	memset(out, 0, sizeof(out));
	n = lpp_json(p, len, out, sizeof(out) - 1);
	assert_true(n > 0);
	assert_int_equal(strlen(out), (size_t)n);
	return out;
}

/* The examples of the published documentation. */
static void
test_published_examples(void **state)
{
	static const uint8_t two_temps[] = { 0x03, 0x67, 0x01, 0x10, 0x05,
	    0x67, 0x00, 0xff };
	static const uint8_t accel[] = { 0x06, 0x71, 0x04, 0xd2, 0xfb, 0x2e,
	    0x00, 0x00 };
	static const uint8_t gps[] = { 0x01, 0x88, 0x06, 0x76, 0x5f, 0xf2,
	    0x96, 0x0a, 0x00, 0x03, 0xe8 };

	(void)state;
	assert_string_equal(decode(two_temps, sizeof(two_temps)),
	    ",\"fields\":{\"temperature_3\":{\"value\":27.2,\"unit\":\"Cel\"},"
	    "\"temperature_5\":{\"value\":25.5,\"unit\":\"Cel\"}}");
	assert_string_equal(decode(accel, sizeof(accel)),
	    ",\"fields\":{\"accelerometer_6\":{\"value\":{\"x\":1.234,"
	    "\"y\":-1.234,\"z\":0.000},\"unit\":{\"x\":\"g\",\"y\":\"g\","
	    "\"z\":\"g\"}}}");
	assert_string_equal(decode(gps, sizeof(gps)),
	    ",\"fields\":{\"gps_1\":{\"value\":{\"lat\":42.3519,"
	    "\"lon\":-87.9094,\"alt\":10.00},\"unit\":{\"lat\":\"deg\","
	    "\"lon\":\"deg\",\"alt\":\"m\"}}}");
}

/* Every type of the table once, at values that test sign and scale. */
static void
test_every_type(void **state)
{
	static const uint8_t all[] = {
		0x01, 0x00, 0xff,			/* digital in 255 */
		0x02, 0x01, 0x00,			/* digital out 0 */
		0x03, 0x02, 0xff, 0xfe,			/* analog in -0.02 */
		0x04, 0x03, 0x7f, 0xff,			/* analog out 327.67 */
		0x05, 0x65, 0xff, 0xff,			/* 65535 lx */
		0x06, 0x66, 0x01,			/* presence 1 */
		0x07, 0x67, 0x80, 0x00,			/* -3276.8 Cel */
		0x08, 0x68, 0xc8,			/* 100.0 %RH */
		0x09, 0x73, 0x27, 0x7f,			/* 1011.1 hPa */
		0x0a, 0x86, 0x00, 0x01, 0xff, 0xff, 0x80, 0x00,
		0x0b, 0x88, 0x80, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff,
		    0xff,
	};

	(void)state;
	assert_string_equal(decode(all, sizeof(all)),
	    ",\"fields\":{"
	    "\"digital_input_1\":{\"value\":255},"
	    "\"digital_output_2\":{\"value\":0},"
	    "\"analog_input_3\":{\"value\":-0.02},"
	    "\"analog_output_4\":{\"value\":327.67},"
	    "\"illuminance_5\":{\"value\":65535,\"unit\":\"lx\"},"
	    "\"presence_6\":{\"value\":1},"
	    "\"temperature_7\":{\"value\":-3276.8,\"unit\":\"Cel\"},"
	    "\"humidity_8\":{\"value\":100.0,\"unit\":\"%RH\"},"
	    "\"barometer_9\":{\"value\":1011.1,\"unit\":\"hPa\"},"
	    "\"gyrometer_10\":{\"value\":{\"x\":0.01,\"y\":-0.01,"
	    "\"z\":-327.68},\"unit\":{\"x\":\"deg/s\",\"y\":\"deg/s\","
	    "\"z\":\"deg/s\"}},"
	    "\"gps_11\":{\"value\":{\"lat\":-838.8608,\"lon\":838.8607,"
	    "\"alt\":-0.01},\"unit\":{\"lat\":\"deg\",\"lon\":\"deg\","
	    "\"alt\":\"m\"}}}");
}

static void
test_malformed(void **state)
{
	static const uint8_t lone[] = { 0x01 };
	static const uint8_t unknown[] = { 0x01, 0x67, 0x00, 0x10, 0x02,
	    0x42, 0x00 };
	static const uint8_t cut[] = { 0x01, 0x67, 0x00 };
	static const uint8_t cut_gps[] = { 0x01, 0x88, 0x06, 0x76, 0x5f, 0xf2,
	    0x96, 0x0a, 0x00, 0x03 };
	static const uint8_t dup[] = { 0x01, 0x67, 0x00, 0x10, 0x01, 0x67,
	    0x00, 0x11 };
	static const uint8_t same_ch[] = { 0x01, 0x67, 0x00, 0x10, 0x01, 0x68,
	    0x10 };
	static const uint8_t trailing[] = { 0x01, 0x66, 0x01, 0x02 };
	uint8_t many[252];
	size_t i;
	int n;

	(void)state;
	assert_int_equal(lpp_json(NULL, 0, out, sizeof(out)), LPP_ERR_EMPTY);
	assert_int_equal(lpp_json(lone, sizeof(lone), out, sizeof(out)),
	    LPP_ERR_SHORT);
	assert_int_equal(lpp_json(unknown, sizeof(unknown), out, sizeof(out)),
	    LPP_ERR_TYPE);
	assert_int_equal(lpp_json(cut, sizeof(cut), out, sizeof(out)),
	    LPP_ERR_SHORT);
	assert_int_equal(lpp_json(cut_gps, sizeof(cut_gps), out, sizeof(out)),
	    LPP_ERR_SHORT);
	assert_int_equal(lpp_json(dup, sizeof(dup), out, sizeof(out)),
	    LPP_ERR_DUP);
	assert_int_equal(lpp_json(trailing, sizeof(trailing), out,
	    sizeof(out)), LPP_ERR_SHORT);
	/* The same channel with two types is fine. */
	assert_true(lpp_json(same_ch, sizeof(same_ch), out, sizeof(out)) > 0);
	/* 84 presence fields: too many for a record's room. */
	for (i = 0; i + 3 <= sizeof(many); i += 3) {
		many[i] = (uint8_t)(i / 3);
		many[i + 1] = 0x66;
		many[i + 2] = 1;
	}
	assert_int_equal(lpp_json(many, sizeof(many), out, 600),
	    LPP_ERR_ROOM);
	assert_true(lpp_json(many, sizeof(many), out, sizeof(out)) > 0);
	/* Room exactly enough, and one byte short. */
	n = lpp_json(dup, 4, out, sizeof(out));
	assert_int_equal(n, (int)strlen(",\"fields\":{\"temperature_1\":"
	    "{\"value\":1.6,\"unit\":\"Cel\"}}"));
	assert_int_equal(lpp_json(dup, 4, out, (size_t)n), n);
	assert_int_equal(lpp_json(dup, 4, out, (size_t)n - 1), LPP_ERR_ROOM);
	assert_string_equal(lpp_strerror(LPP_ERR_TYPE),
	    "lpp: unknown data type");
	assert_string_equal(lpp_strerror(7), "lpp: ?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_examples),
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
