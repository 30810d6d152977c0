/*
 * test_drv_rak3172.c - the RAK3172 RUI3 driver on a real pty, the test
 * playing the module (tests/ptymod.c) as RUI 4.x and 3.5.x answer: the
 * initialisation (and the switch to P2P, which reboots), receive,
 * transmit (PRECV=0 first), every AT_* error, echo on, a line split at
 * every byte, an over-long line, binary noise and a wrong baud rate, a
 * reboot banner in the middle of a stream, a module that stops answering,
 * an unplugged module, and the ranges --check applies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "radio/radio.h"
#include "radio/sframe.h"
#include "tests/ptymod.h"

extern const struct radio_driver drv_rak3172;

static const char *const rak_ident_4[] = {
	"AT", "OK",
	"AT+VER=?", "AT+VER=RUI_4.0.6_RAK3172-E\r\nOK",
	"AT+DEVEUI=?", "AT+DEVEUI=AC1F09FFFE012345\r\nOK",
	"AT+NWM=?", "AT+NWM=0\r\nOK",
	NULL,
};

static const char *const rak_config_4[] = {
	"AT+PRECV=0", "OK",
	"AT+P2P=869525000:9:0:0:8:14", "OK",
	"AT+SYNCWORD=1424", "OK",
	"AT+PRECV=65534", "OK",
	NULL,
};

static void
rak_up(struct ptymod *m)
{
	size_t mark = m->nev;

	ptymod_expect(m, "");		/* the line end that flushes */
	ptymod_dialog(m, rak_ident_4);
	ptymod_dialog(m, rak_config_4);
	ptymod_wait(m, mark, RADIO_EV_READY);
}

static void
test_init_receive_transmit(void **state)
{
	struct ptymod m;
	const struct ptymod_ev *e;
	struct radio_tx tx;
	uint8_t down[] = { 0xca, 0xfe };
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	rak_up(&m);
	mark = m.nev;
	ptymod_say(&m, "+EVT:RXP2P:-45:9:48656C6C6F");
	e = ptymod_wait(&m, mark, RADIO_EV_RX);
	assert_int_equal(e->len, 5);
	assert_memory_equal(e->payload, "Hello", 5);
	assert_int_equal(e->meta.rssi_dbm, -45);
	assert_int_equal(e->meta.snr_db10, 90);
	assert_int_equal(e->meta.freq_hz, 869525000);
	/* It keeps receiving: nothing to send. */
	ptymod_expect_quiet(&m);
	mark = m.nev;
	ptymod_say(&m, "+EVT:RXP2P:-120:-20:00");
	e = ptymod_wait(&m, mark, RADIO_EV_RX);
	assert_int_equal(e->meta.snr_db10, -200);

	memset(&tx, 0, sizeof(tx));
	tx.id = 5;
	tx.payload = down;
	tx.len = sizeof(down);
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=0", "OK",
	    "AT+PSEND=CAFE", "OK", NULL });
	ptymod_expect_quiet(&m);
	ptymod_say(&m, "+EVT:TXP2P DONE");
	e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
	assert_int_equal(e->txr_id, 5);
	assert_int_equal(e->txr_status, SFRAME_TX_SENT);
	ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=65534", "OK",
	    NULL });
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_ERROR), 0);
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_DROP), 0);
	ptymod_done(&m);
}

/* RUI 3.5.x in LoRaWAN mode, echo on: AT+NWM=0 reboots the module; no
 * AT+SYNCWORD on 3.5. */
static void
test_rui35_echo_and_mode_switch(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	mark = m.nev;
	ptymod_expect(&m, "");
	ptymod_dialog(&m, (const char *const[]){
	    "AT", "AT\r\nOK",
	    "AT+VER=?", "AT+VER=?\r\nAT+VER=RUI_3.5.1_RAK3172-E\r\n\r\nOK",
	    "AT+DEVEUI=?", "AT+DEVEUI=?\r\nAT+DEVEUI=AC1F09FFFE012345\r\nOK",
	    "AT+NWM=?", "AT+NWM=?\r\nAT+NWM=1\r\nOK",
	    /* "OK" without a line end, then the boot banner. */
	    "AT+NWM=0", NULL, NULL });
	ptymod_write(&m, "AT+NWM=0\r\nOK", 12);
	ptymod_pump(&m, 20);
	ptymod_expect_quiet(&m);
	ptymod_say(&m, "RAKwireless RAK3172-E Example");
	ptymod_say(&m, "------------------------------------------------------");
	ptymod_say(&m, "Current Work Mode: LoRa P2P.");
	ptymod_dialog(&m, (const char *const[]){
	    "AT+PRECV=0", "AT+PRECV=0\r\nOK",
	    "AT+P2P=869525000:9:0:0:8:14",
	    "AT+P2P=869525000:9:0:0:8:14\r\nOK",
	    "AT+PRECV=65534", "AT+PRECV=65534\r\nOK", NULL });
	ptymod_wait(&m, mark, RADIO_EV_READY);
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_ERROR), 0);
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_DROP), 0);
	ptymod_done(&m);
}

static void
test_error_replies(void **state)
{
	static const char *const errs[] = { "AT_ERROR", "AT_PARAM_ERROR",
		"AT_TEST_PARAM_OVERFLOW", "AT_NO_CLASSB_ENABLE",
		"AT_NO_NETWORK_JOINED", "AT_RX_ERROR", "AT_MODE_NO_SUPPORT",
		"AT_COMMAND_NOT_FOUND", "AT_UNSUPPORTED_BAND" };
	struct ptymod m;
	struct radio_tx tx;
	const struct ptymod_ev *e;
	uint8_t one = 0x01;
	size_t i, mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	ptymod_expect(&m, "");
	/* A half command in the module: "AT" fails once, then passes. */
	ptymod_dialog(&m, (const char *const[]){ "AT", "AT_COMMAND_NOT_FOUND",
	    "AT", "OK", NULL });
	ptymod_dialog(&m, rak_ident_4 + 2);
	mark = m.nev;
	/* AT+P2P refused, with prose first: reported, the rest goes on. */
	ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=0", "OK",
	    "AT+P2P=869525000:9:0:0:8:14", "P2P_RX_ON already, please "
	    "disable P2P RX before setting.\r\nAT_BUSY_ERROR", NULL });
	e = ptymod_wait(&m, mark, RADIO_EV_ERROR);
	assert_non_null(strstr(e->msg, "AT_BUSY_ERROR"));
	ptymod_dialog(&m, rak_config_4 + 4);
	ptymod_wait(&m, mark, RADIO_EV_READY);

	/* Every error name as the answer to AT+PSEND: a failed downlink. */
	memset(&tx, 0, sizeof(tx));
	tx.payload = &one;
	tx.len = 1;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		tx.id = (uint16_t)(10 + i);
		assert_int_equal(radio_port_transmit(m.port, &tx), 0);
		mark = m.nev;
		ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=0", "OK",
		    "AT+PSEND=01", errs[i], "AT+PRECV=65534", "OK", NULL });
		e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
		assert_int_equal(e->txr_id, 10 + i);
		assert_int_equal(e->txr_status, SFRAME_TX_PARAM);
	}
	tx.id = 99;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=0", "OK",
	    "AT+PSEND=01", "AT_BUSY_ERROR", "AT+PRECV=65534", NULL, NULL });
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_TX_RESULT)->txr_status,
	    SFRAME_TX_BUSY);
	/* "P2P_RX_ON already": it is receiving, which is what we want. */
	ptymod_say(&m, "P2P_RX_ON already");
	ptymod_say(&m, "AT_BUSY_ERROR");
	ptymod_expect_quiet(&m);
	/* Events that are not packets. */
	mark = m.nev;
	ptymod_say(&m, "+EVT:RXP2P RECEIVE ERROR");
	ptymod_say(&m, "+EVT:RXP2P:-45:9:4G");
	ptymod_say(&m, "+EVT:RXP2P:-45:x:00");
	ptymod_say(&m, "+EVT:RXP2P:-45");
	ptymod_say(&m, "+EVT:TXP2P DONE");
	ptymod_say(&m, "OK");
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_DROP), 6);
	assert_int_equal(m.ev[mark].drop, -5);
	assert_int_equal(m.ev[mark + 1].drop, -4);
	assert_int_equal(m.ev[mark + 4].drop, -3);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 0);
	ptymod_expect_quiet(&m);
	ptymod_done(&m);
}

static void
test_split_long_binary_and_baud(void **state)
{
	struct ptymod m;
	const char *line = "+EVT:RXP2P:-77:-3:0102030405\r\n";
	char longline[800];
	size_t i, mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	rak_up(&m);
	mark = m.nev;
	for (i = 0; line[i] != '\0'; i++) {
		ptymod_write(&m, line + i, 1);
		ptymod_pump(&m, 2);
	}
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_RX)->len, 5);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->meta.rssi_dbm, -77);

	memset(longline, '7', sizeof(longline) - 3);
	memcpy(longline, "+EVT:RXP2P:-1:1:", 16);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	mark = m.nev;
	ptymod_write(&m, longline, strlen(longline));
	ptymod_say(&m, "+EVT:RXP2P:-1:1:AB");
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_DROP), 1);
	assert_int_equal(m.ev[mark].drop, -1);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 1);

	/* Noise once: counted.  Line after line: a wrong rate -> ATZ. */
	ptymod_write(&m, "\x80\xff\r\n", 4);
	ptymod_tick(&m, 1000);
	ptymod_expect_quiet(&m);
	for (i = 0; i < 3; i++)
		ptymod_write(&m, "\xf8\x80\xfc\r\n", 5);
	ptymod_pump(&m, 20);
	mark = m.nev;
	ptymod_tick(&m, 1000);
	ptymod_expect(&m, "ATZ");
	ptymod_say(&m, "Current Work Mode: LoRa P2P.");
	assert_non_null(strstr(ptymod_wait(&m, mark, RADIO_EV_ERROR)->msg,
	    "wrong baud rate"));
	ptymod_dialog(&m, rak_ident_4);
	ptymod_dialog(&m, rak_config_4);
	ptymod_wait(&m, mark, RADIO_EV_READY);
	ptymod_done(&m);
}

static void
test_reboot_mid_stream_and_silence(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	rak_up(&m);
	/* A brown-out: the banner, unasked. */
	mark = m.nev;
	ptymod_say(&m, "RAKwireless RAK3172-E Example");
	ptymod_say(&m, "Current Work Mode: LoRa P2P.");
	assert_non_null(strstr(ptymod_wait(&m, mark, RADIO_EV_ERROR)->msg,
	    "restarted by itself"));
	ptymod_dialog(&m, rak_ident_4);
	ptymod_dialog(&m, rak_config_4);
	ptymod_wait(&m, mark, RADIO_EV_READY);

	/* Quiet for RAK_PING_MS: "AT".  No answer: ATZ.  None: reopen. */
	ptymod_tick(&m, 1000);
	ptymod_expect_quiet(&m);
	ptymod_tick(&m, 10000);
	ptymod_expect(&m, "AT");
	ptymod_say(&m, "OK");
	ptymod_tick(&m, 10000);
	ptymod_expect(&m, "AT");
	ptymod_tick(&m, 1000);
	ptymod_expect_quiet(&m);
	ptymod_tick(&m, 1000);
	ptymod_expect(&m, "ATZ");
	ptymod_reopen_after_silence(&m, 5000);
	rak_up(&m);
	ptymod_done(&m);
}

static void
test_unplug_replug(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rak3172, NULL);
	rak_up(&m);
	ptymod_replug_cycle(&m);
	rak_up(&m);
	mark = m.nev;
	ptymod_say(&m, "+EVT:RXP2P:-50:5:C0FFEE");
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_RX)->len, 3);
	ptymod_done(&m);
}

static void
test_ranges(void **state)
{
	struct radio_params rp;
	char why[RADIO_PARAMS_WHY_MAX];

	(void)state;
	radio_params_default(&rp);
	assert_int_equal(drv_rak3172.check(&rp, why), 0);
	rp.freq_hz = 915000000;
	rp.power_dbm = 22;
	rp.sf = 5;
	assert_int_equal(drv_rak3172.check(&rp, why), 0);
	rp.power_dbm = 4;
	assert_int_equal(drv_rak3172.check(&rp, why), -EINVAL);
	assert_non_null(strstr(why, "5..22"));
	rp.power_dbm = 14;
	rp.freq_hz = 149000000;
	assert_int_equal(drv_rak3172.check(&rp, why), -EINVAL);
	rp.freq_hz = 868100000;
	rp.modulation = RADIO_MOD_FSK;
	assert_int_equal(drv_rak3172.check(&rp, why), -EINVAL);
	rp.modulation = RADIO_MOD_LORA;
	rp.preamble = 4;
	assert_int_equal(drv_rak3172.check(&rp, why), -EINVAL);
	rp.preamble = 8;
	rp.bw_hz = 250000;
	rp.cr = 4;
	rp.sync_word = 0x34;
	assert_int_equal(drv_rak3172.check(&rp, why), 0);
}

/* The settings reach the module as RUI3 wants them: bandwidth as an
 * index, coding rate from 0, the sync word in the SX126x form. */
static void
test_settings_on_the_wire(void **state)
{
	struct radio_params rp;
	struct ptymod m;

	(void)state;
	radio_params_default(&rp);
	rp.freq_hz = 915200000;
	rp.sf = 7;
	rp.bw_hz = 500000;
	rp.cr = 4;
	rp.preamble = 12;
	rp.power_dbm = 22;
	rp.sync_word = 0x34;
	ptymod_init(&m, &drv_rak3172, &rp);
	ptymod_expect(&m, "");
	ptymod_dialog(&m, rak_ident_4);
	ptymod_dialog(&m, (const char *const[]){ "AT+PRECV=0", "OK",
	    "AT+P2P=915200000:7:2:3:12:22", "OK",
	    "AT+SYNCWORD=3444", "OK", "AT+PRECV=65534", "OK", NULL });
	ptymod_done(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_receive_transmit),
		cmocka_unit_test(test_rui35_echo_and_mode_switch),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_split_long_binary_and_baud),
		cmocka_unit_test(test_reboot_mid_stream_and_silence),
		cmocka_unit_test(test_unplug_replug),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_settings_on_the_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
