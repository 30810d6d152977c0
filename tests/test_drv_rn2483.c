/*
 * test_drv_rn2483.c - the RN2483/RN2903 driver on a real pty, the test
 * playing the module (tests/ptymod.c) as firmware 1.0.5 and 1.0.4 answer:
 * the initialisation sequence, receive, transmit (after rxstop on 1.0.5,
 * after the watchdog on 1.0.4), every error reply, a line split at every
 * byte, an over-long line, binary noise and a wrong baud rate, a reset
 * banner in the middle of a stream, a module that stops answering, an
 * unplugged module, and the ranges --check applies.
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

extern const struct radio_driver drv_rn2483;
extern const struct radio_driver drv_rn2903;

static const uint8_t autobaud[] = { 0x00, 0x55 };

static const char *const rn_config_105[] = {
	"sys get hweui", "0004A30B001A2B3C",
	"mac pause", "4294967245",
	"radio set mod lora", "ok",
	"radio set freq 869525000", "ok",
	"radio set pwr 14", "ok",
	"radio set sf sf9", "ok",
	"radio set bw 125", "ok",
	"radio set cr 4/5", "ok",
	"radio set sync 12", "ok",
	"radio set prlen 8", "ok",
	"radio set crc on", "ok",
	"radio set wdt 15000", "ok",
	"radio rx 0", "ok",
	NULL,
};

/* Auto-baud, the flush line, "sys reset" answered with banner. */
static void
rn_reset_seq(struct ptymod *m, const char *banner)
{
	ptymod_expect_raw(m, autobaud, sizeof(autobaud));
	ptymod_expect(m, "");
	ptymod_say(m, "invalid_param");
	ptymod_expect(m, "sys reset");
	ptymod_say(m, banner);
}

static void
rn_up(struct ptymod *m)
{
	size_t mark = m->nev;

	rn_reset_seq(m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	ptymod_dialog(m, rn_config_105);
	ptymod_wait(m, mark, RADIO_EV_READY);
}

/* One packet: radio_rx, then SNR and RSSI asked before the event. */
static const struct ptymod_ev *
rn_packet(struct ptymod *m, const char *line)
{
	size_t mark = m->nev;

	ptymod_say(m, line);
	ptymod_expect(m, "radio get snr");
	ptymod_say(m, "-7");
	ptymod_expect(m, "radio get rssi");
	ptymod_say(m, "-101");
	return ptymod_wait(m, mark, RADIO_EV_RX);
}

static void
test_init_receive_transmit_105(void **state)
{
	struct ptymod m;
	const struct ptymod_ev *e;
	struct radio_tx tx;
	uint8_t down[] = { 0xde, 0xad, 0xbe, 0xef };
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	/* 1.0.5 prints two spaces after radio_rx (parser_lorawan.c). */
	e = rn_packet(&m, "radio_rx  48656C6C6F");
	assert_int_equal(e->len, 5);
	assert_memory_equal(e->payload, "Hello", 5);
	assert_int_equal(e->meta.rssi_dbm, -101);
	assert_int_equal(e->meta.snr_db10, -70);
	assert_int_equal(e->meta.freq_hz, 869525000);
	assert_int_equal(e->meta.datarate, 9);
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");

	/* A downlink while receiving: rxstop first. */
	memset(&tx, 0, sizeof(tx));
	tx.id = 7;
	tx.payload = down;
	tx.len = sizeof(down);
	mark = m.nev;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	ptymod_dialog(&m, (const char *const[]){ "radio rxstop", "ok",
	    "radio tx DEADBEEF", "ok", NULL });
	ptymod_expect_quiet(&m);	/* nothing while on the air */
	ptymod_say(&m, "radio_tx_ok");
	e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
	assert_int_equal(e->txr_id, 7);
	assert_int_equal(e->txr_status, SFRAME_TX_SENT);
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_ERROR), 0);
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_DROP), 0);
	ptymod_done(&m);
}

static struct radio_tx reply_tx;
static uint8_t reply_payload[] = { 0x01, 0x02, 0x03 };

static void
reply_on_rx(struct ptymod *m, const struct ptymod_ev *e)
{
	(void)e;
	memset(&reply_tx, 0, sizeof(reply_tx));
	reply_tx.id = 9;
	reply_tx.payload = reply_payload;
	reply_tx.len = sizeof(reply_payload);
	assert_int_equal(radio_port_transmit(m->port, &reply_tx), 0);
}

/* The daemon answers from inside the RX event: the reply goes before the
 * next "radio rx 0", with no rxstop, inside the node's window. */
static void
test_reply_goes_first(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	m.on_rx = reply_on_rx;
	(void)rn_packet(&m, "radio_rx 0A0B");
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "radio tx 010203", "ok",
	    NULL });
	ptymod_say(&m, "radio_tx_ok");
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_TX_RESULT)->txr_status,
	    SFRAME_TX_SENT);
	ptymod_expect(&m, "radio rx 0");
	ptymod_done(&m);
}

static void
test_firmware_104(void **state)
{
	struct ptymod m;
	struct radio_tx tx;
	const struct ptymod_ev *e;
	size_t mark;
	uint8_t one = 0x42;
	const char *cfg[sizeof(rn_config_105) / sizeof(rn_config_105[0])];
	size_t i;

	/* As 1.0.5, but no rxstop before 1.0.5: a short watchdog instead. */
	for (i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++)
		cfg[i] = rn_config_105[i] != NULL &&
		    strcmp(rn_config_105[i], "radio set wdt 15000") == 0 ?
		    "radio set wdt 2000" : rn_config_105[i];

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	mark = m.nev;
	rn_reset_seq(&m, "RN2483 1.0.4 Dec 14 2017 11:30:12");
	ptymod_dialog(&m, cfg);
	ptymod_wait(&m, mark, RADIO_EV_READY);
	/* No "radio get rssi" either: SNR only, with one space. */
	mark = m.nev;
	ptymod_say(&m, "radio_rx 42");
	ptymod_expect(&m, "radio get snr");
	ptymod_say(&m, "5");
	e = ptymod_wait(&m, mark, RADIO_EV_RX);
	assert_int_equal(e->meta.snr_db10, 50);
	assert_int_equal(e->meta.rssi_dbm, 0);
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");
	/* A downlink waits for the watchdog's radio_err. */
	memset(&tx, 0, sizeof(tx));
	tx.id = 3;
	tx.payload = &one;
	tx.len = 1;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	ptymod_expect_quiet(&m);
	ptymod_say(&m, "radio_err");
	ptymod_dialog(&m, (const char *const[]){ "radio tx 42", "ok", NULL });
	mark = m.nev;
	ptymod_say(&m, "radio_tx_ok");
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_TX_RESULT)->txr_id, 3);
	ptymod_expect(&m, "radio rx 0");
	ptymod_done(&m);
}

static void
test_error_replies(void **state)
{
	struct ptymod m;
	struct radio_tx tx;
	const struct ptymod_ev *e;
	uint8_t one = 0x11;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	mark = m.nev;
	rn_reset_seq(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	/* A setting refused: reported, the rest goes on. */
	ptymod_dialog(&m, (const char *const[]){
	    "sys get hweui", "0004A30B001A2B3C",
	    "mac pause", "4294967245",
	    "radio set mod lora", "ok",
	    "radio set freq 869525000", "invalid_param", NULL });
	e = ptymod_wait(&m, mark, RADIO_EV_ERROR);
	assert_non_null(strstr(e->msg, "radio set freq 869525000"));
	assert_non_null(strstr(e->msg, "invalid_param"));
	ptymod_dialog(&m, rn_config_105 + 8);
	ptymod_wait(&m, mark, RADIO_EV_READY);

	memset(&tx, 0, sizeof(tx));
	tx.payload = &one;
	tx.len = 1;
	/* radio tx: invalid_param, busy, then radio_err after ok. */
	tx.id = 1;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "radio rxstop", "ok",
	    "radio tx 11", "invalid_param", "radio rx 0", "ok", NULL });
	e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
	assert_int_equal(e->txr_status, SFRAME_TX_PARAM);
	tx.id = 2;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "radio rxstop", "ok",
	    "radio tx 11", "busy", "radio rx 0", "ok", NULL });
	e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
	assert_int_equal(e->txr_id, 2);
	assert_int_equal(e->txr_status, SFRAME_TX_BUSY);
	tx.id = 4;
	assert_int_equal(radio_port_transmit(m.port, &tx), 0);
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "radio rxstop", "ok",
	    "radio tx 11", "ok", NULL });
	ptymod_say(&m, "radio_err");
	e = ptymod_wait(&m, mark, RADIO_EV_TX_RESULT);
	assert_int_equal(e->txr_id, 4);
	assert_int_equal(e->txr_status, SFRAME_TX_FAILED);
	/* radio rx 0 refused: reported, retried at the next tick. */
	mark = m.nev;
	ptymod_dialog(&m, (const char *const[]){ "radio rx 0", "busy", NULL });
	ptymod_wait(&m, mark, RADIO_EV_ERROR);
	ptymod_expect_quiet(&m);
	ptymod_tick(&m, 1000);
	ptymod_dialog(&m, (const char *const[]){ "radio rx 0", "ok", NULL });
	/* The watchdog ends a reception: it starts again. */
	ptymod_say(&m, "radio_err");
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");
	/* Answers nobody asked for are counted. */
	mark = m.nev;
	ptymod_say(&m, "ok");
	ptymod_say(&m, "radio_tx_ok");
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_DROP), 2);
	assert_int_equal(ptymod_last(&m, RADIO_EV_DROP)->drop, -3);
	/* Not hex: dropped, and the reception restarts. */
	ptymod_say(&m, "radio_rx  4G");
	assert_int_equal(ptymod_last(&m, RADIO_EV_DROP)->drop, -4);
	ptymod_expect(&m, "radio rx 0");
	/* transmit() refuses what cannot be sent. */
	tx.len = 0;
	assert_int_equal(radio_port_transmit(m.port, &tx), -EINVAL);
	ptymod_done(&m);
}

static void
test_split_long_and_binary_lines(void **state)
{
	struct ptymod m;
	const char *line = "radio_rx  0102030405060708090A\r\n";
	char longline[800];
	size_t i, mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	/* One byte per write, each read on its own. */
	for (i = 0; line[i] != '\0'; i++) {
		ptymod_write(&m, line + i, 1);
		ptymod_pump(&m, 2);
	}
	ptymod_expect(&m, "radio get snr");
	ptymod_say(&m, "9");
	ptymod_expect(&m, "radio get rssi");
	mark = m.nev;
	/* The answer split too, with LF alone. */
	ptymod_write(&m, "-", 1);
	ptymod_pump(&m, 5);
	ptymod_write(&m, "80\n", 3);
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_RX)->len, 10);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->meta.rssi_dbm, -80);
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");

	/* Over-long: dropped whole, once; the next line is read. */
	memset(longline, 'A', sizeof(longline) - 3);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 3);
	mark = m.nev;
	ptymod_write(&m, longline, strlen(longline));
	ptymod_pump(&m, 20);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_DROP), 1);
	assert_int_equal(ptymod_last(&m, RADIO_EV_DROP)->drop, -1);
	(void)rn_packet(&m, "radio_rx  AA");
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");

	/* A burst of noise: one binary line, no reset. */
	mark = m.nev;
	ptymod_write(&m, "\xff\x80\x13zz\r\n", 7);
	ptymod_pump(&m, 20);
	assert_int_equal(ptymod_last(&m, RADIO_EV_DROP)->drop, -2);
	ptymod_tick(&m, 1000);
	ptymod_expect_quiet(&m);
	(void)rn_packet(&m, "radio_rx  BB");
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_PORT_DOWN), 0);
	ptymod_done(&m);
}

/* Garbage only, line after line: the module talks at another rate.
 * Auto-baud and reset, then the whole configuration again. */
static void
test_wrong_baud_rate(void **state)
{
	struct ptymod m;
	const struct ptymod_ev *e;
	size_t mark;
	int i;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	for (i = 0; i < 4; i++)
		ptymod_write(&m, "\xf0\x8c\xfe\x0e\r\n", 6);
	ptymod_pump(&m, 20);
	mark = m.nev;
	ptymod_tick(&m, 1000);
	rn_reset_seq(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	ptymod_dialog(&m, rn_config_105);
	e = ptymod_wait(&m, mark, RADIO_EV_READY);
	(void)e;
	e = ptymod_last(&m, RADIO_EV_ERROR);
	assert_non_null(e);
	assert_non_null(strstr(e->msg, "wrong baud rate"));
	assert_int_equal(ptymod_count(&m, 0, RADIO_EV_PORT_DOWN), 0);
	ptymod_done(&m);
}

/* A brown-out: the banner arrives unasked in the middle of a stream. */
static void
test_reset_banner_mid_stream(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	(void)rn_packet(&m, "radio_rx  01");
	ptymod_expect(&m, "radio rx 0");
	ptymod_say(&m, "ok");
	mark = m.nev;
	ptymod_say(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	assert_non_null(strstr(ptymod_wait(&m, mark, RADIO_EV_ERROR)->msg,
	    "restarted by itself"));
	ptymod_dialog(&m, rn_config_105);
	ptymod_wait(&m, mark, RADIO_EV_READY);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_READY), 1);
	assert_int_equal(rn_packet(&m, "radio_rx  02")->payload[0], 2);
	ptymod_done(&m);
}

/* No answer: reset on the line; no answer to that either: the port
 * reopens the line and starts from auto-baud. */
static void
test_module_stops_answering(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_reset_seq(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	ptymod_dialog(&m, (const char *const[]){
	    "sys get hweui", "0004A30B001A2B3C",
	    "mac pause", "4294967245",
	    "radio set mod lora", NULL, NULL });
	ptymod_tick(&m, 1000);
	ptymod_expect_quiet(&m);
	ptymod_tick(&m, 1000);
	mark = m.nev;
	rn_reset_seq(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	ptymod_dialog(&m, rn_config_105);
	ptymod_wait(&m, mark, RADIO_EV_READY);
	assert_non_null(strstr(ptymod_last(&m, RADIO_EV_ERROR)->msg,
	    "radio set mod lora"));

	/* Silent between a packet and its RSSI: the packet survives the
	 * reset, delivered with the SNR it has. */
	mark = m.nev;
	ptymod_say(&m, "radio_rx  5A5A");
	ptymod_expect(&m, "radio get snr");
	ptymod_say(&m, "3");
	ptymod_expect(&m, "radio get rssi");
	ptymod_tick(&m, 1000);
	ptymod_tick(&m, 1000);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 0);
	rn_reset_seq(&m, "RN2483 1.0.5 Oct 31 2018 15:06:52");
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_RX)->meta.snr_db10,
	    30);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->len, 2);
	ptymod_dialog(&m, rn_config_105);
	ptymod_wait(&m, mark, RADIO_EV_READY);

	/* Silent for good, receiving: the watchdog never fires. */
	ptymod_tick(&m, 1000);
	ptymod_tick(&m, 18000);
	ptymod_expect_raw(&m, autobaud, sizeof(autobaud));
	ptymod_expect(&m, "");
	ptymod_tick(&m, 3000);		/* the flush: silence is fine */
	ptymod_expect(&m, "sys reset");
	ptymod_tick(&m, 1000);
	ptymod_reopen_after_silence(&m, 3000);
	rn_up(&m);
	ptymod_done(&m);
}

/* Silent right after reporting a packet, and through the reset too: the
 * port closes the line, and the packet still goes, without its figures
 * (it was lost with the driver's state when the port zeroed it). */
static void
test_silent_after_packet_line_reopened(void **state)
{
	struct ptymod m;
	size_t mark;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	mark = m.nev;
	ptymod_say(&m, "radio_rx  5A5B");
	ptymod_expect(&m, "radio get snr");
	ptymod_tick(&m, 1000);
	ptymod_tick(&m, 1000);		/* no answer: reset on the line */
	ptymod_expect_raw(&m, autobaud, sizeof(autobaud));
	ptymod_expect(&m, "");
	ptymod_tick(&m, 3000);		/* the flush: silence is fine */
	ptymod_expect(&m, "sys reset");
	ptymod_tick(&m, 1000);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 0);
	ptymod_reopen_after_silence(&m, 3000);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 1);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->len, 2);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->payload[1], 0x5b);
	assert_int_equal(ptymod_last(&m, RADIO_EV_RX)->meta.snr_db10, 0);
	rn_up(&m);
	assert_int_equal(ptymod_count(&m, mark, RADIO_EV_RX), 1);
	ptymod_done(&m);
}

/* Unplugged: the pty goes away and comes back at the same path. */
static void
test_unplug_replug(void **state)
{
	struct ptymod m;

	(void)state;
	ptymod_init(&m, &drv_rn2483, NULL);
	rn_up(&m);
	ptymod_replug_cycle(&m);
	rn_up(&m);
	assert_int_equal(rn_packet(&m, "radio_rx  C0FFEE")->len, 3);
	ptymod_done(&m);
}

static void
test_rn2903_and_ranges(void **state)
{
	struct radio_params rp;
	char why[RADIO_PARAMS_WHY_MAX];
	struct ptymod m;
	size_t mark;

	(void)state;
	radio_params_default(&rp);
	assert_int_equal(drv_rn2483.check(&rp, why), 0);
	assert_int_equal(drv_rn2903.check(&rp, why), -EINVAL);
	assert_non_null(strstr(why, "902000000..928000000"));
	rp.freq_hz = 433175000;
	assert_int_equal(drv_rn2483.check(&rp, why), 0);
	rp.freq_hz = 868100000;
	rp.power_dbm = 16;
	assert_int_equal(drv_rn2483.check(&rp, why), -EINVAL);
	assert_non_null(strstr(why, "tx_power_dbm"));
	rp.power_dbm = -3;
	assert_int_equal(drv_rn2483.check(&rp, why), 0);
	rp.sf = 6;
	assert_int_equal(drv_rn2483.check(&rp, why), -EINVAL);
	rp.sf = 12;
	rp.bw_hz = 62500;
	assert_int_equal(drv_rn2483.check(&rp, why), -EINVAL);
	rp.bw_hz = 500000;
	rp.sync_word = 0x1424;
	assert_int_equal(drv_rn2483.check(&rp, why), -EINVAL);
	rp.modulation = RADIO_MOD_FSK;
	rp.bitrate = 300001;
	assert_int_equal(drv_rn2483.check(&rp, why), -EINVAL);
	rp.bitrate = 50000;
	assert_int_equal(drv_rn2483.check(&rp, why), 0);
	radio_params_default(&rp);
	rp.freq_hz = 915000000;
	rp.power_dbm = 18;
	assert_int_equal(drv_rn2903.check(&rp, why), -EINVAL);
	rp.power_dbm = 20;
	assert_int_equal(drv_rn2903.check(&rp, why), 0);

	/* An RN2903 with FSK settings, and a banner of the other model. */
	rp.modulation = RADIO_MOD_FSK;
	rp.bitrate = 9600;
	ptymod_init(&m, &drv_rn2903, &rp);
	mark = m.nev;
	rn_reset_seq(&m, "RN2483 1.0.3 Mar 22 2017 14:15:43");
	assert_non_null(strstr(ptymod_wait(&m, mark, RADIO_EV_ERROR)->msg,
	    "configured as an RN2903"));
	ptymod_dialog(&m, (const char *const[]){
	    "sys get hweui", "0004A30B001A2B3C",
	    "mac pause", "4294967245",
	    "radio set mod fsk", "ok",
	    "radio set freq 915000000", "ok",
	    "radio set pwr 20", "ok",
	    "radio set bitrate 9600", "ok",
	    "radio set fdev 4800", "ok",
	    "radio set sync 0012", "ok",
	    "radio set prlen 8", "ok",
	    "radio set crc on", "ok",
	    "radio set wdt 2000", "ok",
	    "radio rx 0", "ok", NULL });
	ptymod_wait(&m, mark, RADIO_EV_READY);
	mark = m.nev;
	ptymod_say(&m, "radio_rx 77");
	ptymod_expect(&m, "radio get snr");
	ptymod_say(&m, "0");
	assert_int_equal(ptymod_wait(&m, mark, RADIO_EV_RX)->meta.datarate,
	    9600);
	ptymod_done(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_receive_transmit_105),
		cmocka_unit_test(test_reply_goes_first),
		cmocka_unit_test(test_firmware_104),
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_split_long_and_binary_lines),
		cmocka_unit_test(test_wrong_baud_rate),
		cmocka_unit_test(test_reset_banner_mid_stream),
		cmocka_unit_test(test_module_stops_answering),
		cmocka_unit_test(test_silent_after_packet_line_reopened),
		cmocka_unit_test(test_unplug_replug),
		cmocka_unit_test(test_rn2903_and_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
