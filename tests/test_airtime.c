/*
 * test_airtime.c - time on air (radio/airtime.c) against published
 * figures, and the downlink budget (policy/budget.c) with time injected:
 * duty-cycle accounting per sub-band and concentrator, the window sliding,
 * and the priority of replies to authenticated frames over CHALLENGEs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "policy/budget.h"
#include "radio/airtime.h"

static struct airtime_lora
lora(unsigned int sf, uint32_t bw, unsigned int cr, int crc)
{
	struct airtime_lora p = {
		.sf = sf, .bw_hz = bw, .cr = cr, .preamble = 8,
		.implicit_header = 0, .crc = crc, .ldro = -1,
	};

	return p;
}

/*
 * The Things Network's airtime table for a 10-byte LoRaWAN payload (23
 * bytes PHY), EU868 125 kHz, CR 4/5, 8 preamble symbols, explicit header,
 * CRC on, low data rate optimisation at SF11 and SF12: 61.7, 113.2,
 * 205.8, 370.7, 823.3 and 1482.8 ms (Semtech's LoRa calculator gives the
 * same).  Ours round up to the microsecond.
 */
static void
test_lora_published_table(void **state)
{
	static const int64_t want_us[] = {
		61696, 113152, 205824, 370688, 823296, 1482752,
	};
	struct airtime_lora p;
	unsigned int sf;

	(void)state;
	for (sf = 7; sf <= 12; sf++) {
		p = lora(sf, 125000, 1, 1);
		assert_int_equal(airtime_lora_us(&p, 23), want_us[sf - 7]);
	}
}

/* Other bandwidths, coding rates, no CRC, implicit header, forced LDRO:
 * the figures are the formula evaluated in floating point by Python,
 * independently of the integer arithmetic in airtime.c. */
static void
test_lora_parameters(void **state)
{
	struct airtime_lora p;

	(void)state;
	p = lora(7, 250000, 1, 1);
	assert_int_equal(airtime_lora_us(&p, 23), 30848);
	p = lora(12, 125000, 4, 1);
	assert_int_equal(airtime_lora_us(&p, 51), 3547136);
	p = lora(9, 500000, 2, 0);
	assert_int_equal(airtime_lora_us(&p, 41), 76032);
	/* SF12 at 500 kHz: symbols of 8.2 ms, no LDRO by the rule. */
	p = lora(12, 500000, 1, 1);
	p.ldro = 0;
	assert_int_equal(airtime_lora_us(&p, 23), 329728);
	p.ldro = 1;
	assert_true(airtime_lora_us(&p, 23) > 329728);
	/* Implicit header: 20 bits fewer; never fewer than 8 symbols. */
	p = lora(7, 125000, 1, 0);
	p.implicit_header = 1;
	assert_int_equal(airtime_lora_us(&p, 0), (8 + 4 + 8) * 1024 + 256);
	p = lora(5, 125000, 1, 1);
	assert_int_equal(airtime_lora_us(&p, 10), -EINVAL);
	p = lora(7, 125000, 5, 1);
	assert_int_equal(airtime_lora_us(&p, 10), -EINVAL);
}

static void
test_fsk_and_tx(void **state)
{
	struct radio_meta m = { 0 };

	(void)state;
	/* 50 kbit/s: (5 + 3 + 1 + 41 + 2) bytes = 416 bits = 8.32 ms. */
	assert_int_equal(airtime_fsk_us(50000, 41), 8320);
	assert_int_equal(airtime_fsk_us(0, 41), -EINVAL);
	m.modulation = RADIO_MOD_FSK;
	m.datarate = 50000;
	assert_int_equal(airtime_tx_us(&m, 41), 8320);
	/* A CHALLENGE (41 bytes) at SF12: downlinks carry no CRC. */
	m.modulation = RADIO_MOD_LORA;
	m.datarate = 12;
	m.bw_hz = 125000;
	assert_int_equal(airtime_tx_us(&m, 41), 1974272);
	m.modulation = RADIO_MOD_OOK;
	assert_int_equal(airtime_tx_us(&m, 41), -EINVAL);
}

#define G1	868100000u		/* 1 % */
#define G3	869525000u		/* 10 % */
#define HOUR	3600000u

/* 1 % of an hour is 36 s of air per concentrator in g1; a second
 * concentrator and another band have their own. */
static void
test_duty_cycle_per_band_and_concentrator(void **state)
{
	struct budget *b = budget_new(BUDGET_EU868, 2);
	struct budget_band_info bi;
	int i;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 36; i++)
		assert_int_equal(budget_take(b, 0, G1, 1000000, BUDGET_AUTH,
		    1000 + (uint64_t)i), 0);
	assert_int_equal(budget_take(b, 0, G1, 1, BUDGET_AUTH, 2000), -EBUSY);
	assert_int_equal(budget_take(b, 1, G1, 1000000, BUDGET_AUTH, 2000), 0);
	assert_int_equal(budget_take(b, 0, G3, 1000000, BUDGET_AUTH, 2000), 0);
	/* Outside every sub-band (868.6-868.7 MHz is a gap): never. */
	assert_int_equal(budget_take(b, 0, 868650000, 1, BUDGET_AUTH, 2000),
	    -ERANGE);
	assert_int_equal(budget_out_of_band(b), 1);
	budget_band(b, 0, 2, 2000, &bi);
	assert_string_equal(bi.name, "g1");
	assert_int_equal(bi.limit_us, 36000000);
	assert_int_equal(bi.used_us, 36000000);
	assert_int_equal(bi.sent[BUDGET_AUTH], 36);
	assert_int_equal(bi.refused[BUDGET_AUTH], 1);
	/* Still full 59 minutes later; free once the hour has passed. */
	assert_int_equal(budget_take(b, 0, G1, 1, BUDGET_AUTH, 59 * 60000),
	    -EBUSY);
	assert_int_equal(budget_take(b, 0, G1, 1000000, BUDGET_AUTH,
	    HOUR + 2 * 60000), 0);
	budget_band(b, 0, 2, HOUR + 2 * 60000, &bi);
	assert_int_equal(bi.used_us, 1000000);
	budget_free(b);
}

/* CHALLENGEs get half of a band; replies to authenticated frames may
 * still use the rest: a HELLO flood never takes a joined node's
 * airtime. */
static void
test_authenticated_replies_go_first(void **state)
{
	struct budget *b = budget_new(BUDGET_EU868, 1);
	struct budget_band_info bi;
	int n = 0;

	(void)state;
	assert_non_null(b);
	while (budget_take(b, 0, G1, 100000, BUDGET_UNAUTH, 5000) == 0)
		n++;
	assert_int_equal(n, 180);		/* 18 s of 36 */
	assert_int_equal(budget_take(b, 0, G1, 100000, BUDGET_UNAUTH, 5000),
	    -EBUSY);
	for (n = 0; n < 180; n++)
		assert_int_equal(budget_take(b, 0, G1, 100000, BUDGET_AUTH,
		    5000), 0);
	assert_int_equal(budget_take(b, 0, G1, 100000, BUDGET_AUTH, 5000),
	    -EBUSY);
	budget_band(b, 0, 2, 5000, &bi);
	assert_int_equal(bi.refused[BUDGET_UNAUTH], 2);
	assert_int_equal(bi.refused[BUDGET_AUTH], 1);
	assert_int_equal(bi.unauth_used_us, 18000000);
	budget_free(b);
}

static void
test_us915_dwell_time(void **state)
{
	struct budget *b = budget_new(BUDGET_US915, 1);
	int i;

	(void)state;
	assert_non_null(b);
	assert_int_equal(budget_take(b, 0, 923300000, 400000, BUDGET_AUTH, 1),
	    0);
	assert_int_equal(budget_take(b, 0, 923300000, 400001, BUDGET_AUTH, 1),
	    -ERANGE);
	/* No duty cycle. */
	for (i = 0; i < 10000; i++)
		assert_int_equal(budget_take(b, 0, 923300000, 300000,
		    BUDGET_UNAUTH, 2), 0);
	assert_int_equal(budget_take(b, 0, 868100000, 1, BUDGET_AUTH, 2),
	    -ERANGE);
	budget_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lora_published_table),
		cmocka_unit_test(test_lora_parameters),
		cmocka_unit_test(test_fsk_and_tx),
		cmocka_unit_test(test_duty_cycle_per_band_and_concentrator),
		cmocka_unit_test(test_authenticated_replies_go_first),
		cmocka_unit_test(test_us915_dwell_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
