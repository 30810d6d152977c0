/*
 * drv_rn2483.c - the driver for Microchip RN2483 (EU868/433) and RN2903
 * (US915) LoRa modules in point-to-point mode, LoRa or FSK: their text
 * command set at 57600 baud 8N1.
 *
 * Data flow: port.c -> rn_input() -> tline reader -> rn_line() -> radio
 * events; downlinks: rn_transmit() -> "radio tx <hex>" queued behind the
 * commands before it (tline.c sends one at a time).
 *
 * Sources, read for this file (nothing copied): Microchip's firmware
 * source, github.com/MicrochipTech/RN2xx3_LORAWAN_FIRMWARE, folders
 * RN2483EU_1.0.3, RN2483EU_1.0.4, RN2483EU_1.0.5 and RN2903NA_1.0.3,
 * RN2903NA_1.0.5 (parser/parser_radio.c, parser_lorawan.c,
 * parser_commands.c, release_notes_public.txt), and the RN2483/RN2903
 * LoRa Technology Module Command Reference User's Guide (DS40001784).
 * Where they disagree the source wins, because it is what runs:
 *
 * - A received packet is reported as "radio_rx" and the hex payload; 1.0.5
 *   prints the prefix "radio_rx " and then another space (parser_lorawan.c
 *   builds "radio_rx " + ' ' + hex), the guide shows one.  We accept any
 *   number of spaces.
 * - "radio rx 0" receives until one packet arrives (or "radio_err" when the
 *   radio watchdog, "radio set wdt", expires first); the module is then
 *   idle and must be told "radio rx 0" again.
 * - "radio rxstop" and "radio get rssi" exist from 1.0.5 on (release notes
 *   1.0.5; parser_commands.c of 1.0.3/1.0.4 has neither).  Before 1.0.5 a
 *   reception cannot be stopped: a downlink that is not the reply to a
 *   packet just received waits for the watchdog, so we keep it short there
 *   (RN_WDT_OLD_MS) and long from 1.0.5 on (RN_WDT_MS).  "radio rxstop"
 *   answers "ok" and ends the reception without a "radio_err" in 1.0.5
 *   (RADIO_ReceiveStop puts the radio to sleep silently); a "radio_err"
 *   that comes anyway is ignored.
 * - Ranges (parser_radio.c 1.0.5): RN2483 frequency 863..870 MHz or
 *   433.05..434.79 MHz, power -3..15 dBm; RN2903 902..928 MHz, power
 *   2..20 dBm except 18 and 19; bit rate 1..300000 (release notes 1.0.0);
 *   LoRa sync word one byte, FSK up to eight.
 * - "sys reset" answers with the banner "RN2483 X.Y.Z <date> <time>"; the
 *   same banner arriving unasked means the module restarted by itself (a
 *   brown-out): we re-initialise it and say so.
 * - Auto-baud: a break, then 0x55, re-synchronises the module's UART
 *   (guide, "sys" chapter).  A NUL byte holds the line low for nine bit
 *   times at our rate, which the module takes as the break; the 0x55
 *   follows.  An empty command line then flushes whatever half command the
 *   module held; its answer ("invalid_param") is expected and ignored.
 *
 * Recovery, in steps: a command unanswered for RN_CMD_TIMEOUT_MS, a
 * reception silent for longer than the module's own watchdog, a
 * transmission that never ends, or RN_BINARY_RESET binary lines in a row (a
 * wrong baud rate) -> auto-baud and "sys reset" on the open line, then the
 * whole configuration again, reported by an ERROR event once the banner
 * arrives; if the reset is not answered either (or RN_SOFT_RESETS_MAX
 * resets did not bring it back) tick() returns -ETIMEDOUT and the port
 * closes and reopens the line, which starts from auto-baud again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "radio/radio.h"
#include "radio/sframe.h"
#include "radio/tline.h"

#define RN_BAUD			57600
#define RN_CMD_TIMEOUT_MS	2000	/* any answer; the slowest is a
					 * flash write, well below it */
#define RN_RESET_TIMEOUT_MS	3000	/* banner after "sys reset" */
#define RN_WDT_MS		15000	/* radio watchdog, 1.0.5 and later */
#define RN_WDT_OLD_MS		2000	/* before 1.0.5: no rxstop */
#define RN_WDT_GRACE_MS		3000	/* beyond it: the module is silent */
#define RN_TX_MAX_MS		12000	/* longest airtime: SF12, 255 bytes,
					 * about 9.2 s, and a margin */
#define RN_FW_RXSTOP		10005	/* 1.0.5, as major*10000+minor*100+patch */

enum rn_kind {
	RN_K_FLUSH = 1,		/* empty line after auto-baud */
	RN_K_RESET,		/* sys reset -> banner */
	RN_K_HWEUI,		/* sys get hweui -> 16 hex digits */
	RN_K_PAUSE,		/* mac pause -> milliseconds */
	RN_K_SET,		/* radio set ... -> ok */
	RN_K_RX,		/* radio rx 0 -> ok, later radio_rx/radio_err */
	RN_K_RXSTOP,		/* radio rxstop -> ok */
	RN_K_TX,		/* radio tx -> ok, later radio_tx_ok/radio_err */
	RN_K_SNR,		/* radio get snr -> -128..127 */
	RN_K_RSSI,		/* radio get rssi -> dBm */
};

enum rn_verdict {
	RN_OK = 0,
	RN_ERR_LONG = TLINE_ERR_LONG,
	RN_ERR_BINARY = TLINE_ERR_BINARY,
	RN_ERR_UNEXPECTED = -3,	/* a line that answers nothing we asked */
	RN_ERR_RX_HEX = -4,	/* radio_rx with a payload that is not hex */
	RN_VERDICT_COUNT = 5,
};

static const char *const rn_verdict_names[RN_VERDICT_COUNT] = {
	"", "line_long", "line_binary", "line_unexpected", "rx_hex",
};

struct rn_model {
	const char	*name;		/* as in the banner */
	int		 (*freq_ok)(uint32_t hz);
	int		 (*power_ok)(int dbm);
	const char	*freq_range;	/* for check()'s message */
	const char	*power_range;
};

struct rn2483 {
	struct tline_mod	 m;		/* reader, queue, state, resets */
	const struct rn_model	*model;
	unsigned int		 fw;		/* 0 until the banner */
	int			 rx_retry;	/* rx 0 refused: again at tick */
	/* A packet waiting for its SNR (and RSSI). */
	int			 pkt;
	size_t			 plen;
	int16_t			 snr_db10, rssi_dbm;
	uint8_t			 payload[RADIO_PAYLOAD_MAX];
};

/* --- the models ---------------------------------------------------------- */

static int
rn2483_freq_ok(uint32_t hz)
{
	return (hz >= 863000000 && hz <= 870000000) ||
	    (hz >= 433050000 && hz <= 434790000);
}

static int
rn2483_power_ok(int dbm)
{
	return dbm >= -3 && dbm <= 15;
}

static int
rn2903_freq_ok(uint32_t hz)
{
	return hz >= 902000000 && hz <= 928000000;
}

static int
rn2903_power_ok(int dbm)
{
	return dbm >= 2 && dbm <= 20 && dbm != 18 && dbm != 19;
}

static const struct rn_model rn_model_2483 = {
	"RN2483", rn2483_freq_ok, rn2483_power_ok,
	"863000000..870000000 or 433050000..434790000", "-3..15",
};

static const struct rn_model rn_model_2903 = {
	"RN2903", rn2903_freq_ok, rn2903_power_ok,
	"902000000..928000000", "2..20 except 18 and 19",
};

static int
rn_check_model(const struct rn_model *m, const struct radio_params *rp,
    char *why)
{
	const char *bad = NULL;

	if (rp->modulation != RADIO_MOD_LORA && rp->modulation != RADIO_MOD_FSK)
		bad = "modulation: the module speaks lora or fsk";
	else if (!m->freq_ok(rp->freq_hz))
		bad = "freq_hz";
	else if (!m->power_ok(rp->power_dbm))
		bad = "tx_power_dbm";
	else if (rp->modulation == RADIO_MOD_LORA &&
	    (rp->sf < 7 || rp->sf > 12))
		bad = "sf: 7..12";
	else if (rp->modulation == RADIO_MOD_LORA && rp->bw_hz != 125000 &&
	    rp->bw_hz != 250000 && rp->bw_hz != 500000)
		bad = "bw_khz: 125, 250 or 500";
	else if (rp->modulation == RADIO_MOD_LORA &&
	    (rp->cr < 1 || rp->cr > 4))
		bad = "coding_rate: 4/5..4/8";
	else if (rp->modulation == RADIO_MOD_LORA && rp->sync_word > 0xff)
		bad = "sync_word: one byte for LoRa";
	else if (rp->modulation == RADIO_MOD_FSK &&
	    (rp->bitrate < 1 || rp->bitrate > 300000))
		bad = "bitrate: 1..300000";
	if (bad == NULL)
		return 0;
	if (strcmp(bad, "freq_hz") == 0)
		snprintf(why, RADIO_PARAMS_WHY_MAX, "freq_hz: %s takes %s",
		    m->name, m->freq_range);
	else if (strcmp(bad, "tx_power_dbm") == 0)
		snprintf(why, RADIO_PARAMS_WHY_MAX, "tx_power_dbm: %s takes %s",
		    m->name, m->power_range);
	else
		snprintf(why, RADIO_PARAMS_WHY_MAX, "%s (%s)", bad, m->name);
	return -EINVAL;
}

static int
rn2483_check(const struct radio_params *rp, char *why)
{
	return rn_check_model(&rn_model_2483, rp, why);
}

static int
rn2903_check(const struct radio_params *rp, char *why)
{
	return rn_check_model(&rn_model_2903, rp, why);
}

/* --- the command sequences ---------------------------------------------- */

/* Auto-baud, flush, "sys reset": the start of every (re)initialisation. */
static int
rn_reset(struct rn2483 *s, struct radio_out *out)
{
	static const uint8_t autobaud[] = { 0x00, 0x55 };
	int r;

	tline_cmdq_clear(&s->m.cq);
	s->m.ready = 0;
	s->m.rx_on = 0;
	s->m.tx_on = 0;
	s->rx_retry = 0;
	s->fw = 0;
	if ((r = radio_out_put(out, autobaud, sizeof(autobaud))) != 0)
		return r;
	(void)tline_cmdq_add(&s->m.cq, 0, RN_K_FLUSH, 0, "%s", "");
	(void)tline_cmdq_add(&s->m.cq, 0, RN_K_RESET, 0, "sys reset");
	return tline_cmdq_send(&s->m.cq, out) < 0 ? -ENOBUFS : 0;
}

/* Everything after the banner: the module's whole configuration. */
static void
rn_configure(struct rn2483 *s)
{
	const struct radio_params *rp = &s->m.rp;
	struct tline_cmdq *q = &s->m.cq;
	unsigned int wdt = s->fw >= RN_FW_RXSTOP ? RN_WDT_MS : RN_WDT_OLD_MS;

	(void)tline_cmdq_add(q, 0, RN_K_HWEUI, 0, "sys get hweui");
	/* The LoRaWAN stack must not touch the radio behind our back. */
	(void)tline_cmdq_add(q, 0, RN_K_PAUSE, 0, "mac pause");
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set mod %s",
	    rp->modulation == RADIO_MOD_FSK ? "fsk" : "lora");
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set freq %u",
	    (unsigned int)rp->freq_hz);
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set pwr %d",
	    (int)rp->power_dbm);
	if (rp->modulation == RADIO_MOD_FSK) {
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0,
		    "radio set bitrate %u", (unsigned int)rp->bitrate);
		/* Modulation index 1: deviation half the bit rate. */
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set fdev %u",
		    (unsigned int)(rp->bitrate / 2 < 200000 ?
		    rp->bitrate / 2 : 200000));
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set sync %04X",
		    (unsigned int)rp->sync_word);
	} else {
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set sf sf%u",
		    (unsigned int)rp->sf);
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set bw %u",
		    (unsigned int)(rp->bw_hz / 1000));
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set cr 4/%u",
		    4u + rp->cr);
		(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set sync %02X",
		    (unsigned int)rp->sync_word);
	}
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set prlen %u",
	    (unsigned int)rp->preamble);
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set crc on");
	(void)tline_cmdq_add(q, 0, RN_K_SET, 0, "radio set wdt %u", wdt);
}

static uint32_t
rn_wdt_ms(const struct rn2483 *s)
{
	return s->fw >= RN_FW_RXSTOP ? RN_WDT_MS : RN_WDT_OLD_MS;
}

/*
 * Keep the module busy with what is due: the next command when none is in
 * flight, "radio rxstop" before a waiting downlink (1.0.5 and later), and
 * "radio rx 0" whenever nothing else is to be done.
 */
static void
rn_pump(struct rn2483 *s, struct radio_out *out)
{
	int next;

	if (s->m.cq.busy || s->m.tx_on || s->fw == 0)
		goto send;
	next = tline_cmdq_next(&s->m.cq);
	if (s->m.rx_on) {
		if (next == RN_K_TX && s->fw >= RN_FW_RXSTOP)
			(void)tline_cmdq_add(&s->m.cq, 1, RN_K_RXSTOP, 0,
			    "radio rxstop");
		else
			return;		/* until the reception ends */
	} else if (next == 0 && !s->rx_retry && !s->pkt)
		(void)tline_cmdq_add(&s->m.cq, 0, RN_K_RX, 0, "radio rx 0");
send:
	if (!s->m.cq.busy && (!s->m.rx_on ||
	    tline_cmdq_next(&s->m.cq) == RN_K_RXSTOP) && !s->m.tx_on)
		(void)tline_cmdq_send(&s->m.cq, out);
}

/* From tick(): the module misbehaved; start again on the open line. */
static int
rn_soft_reset(struct rn2483 *s, struct radio_out *out, const char *why,
    const char *cmd)
{
	int r;

	if ((r = tline_mod_fail(&s->m, why, cmd, RN_K_TX)) != 0)
		return r;
	return rn_reset(s, out);
}

/* --- lines from the module ---------------------------------------------- */

/* "RN2483 1.0.5 Oct 31 2018 15:06:52": 1 and the version, or 0. */
static int
rn_banner(const char *line, unsigned int *fw, char *model)
{
	unsigned int a, b, c;
	char m[8];

	if (sscanf(line, "%7s %u.%u.%u", m, &a, &b, &c) != 4 ||
	    strncmp(m, "RN2", 3) != 0 || a > 99 || b > 99 || c > 99)
		return 0;
	*fw = a * 10000 + b * 100 + c;
	memcpy(model, m, sizeof(m));
	return 1;
}

static void
rn_rx_ready(struct rn2483 *s)
{
	struct radio_event ev;

	if (!s->pkt || tline_cmdq_count(&s->m.cq, RN_K_SNR) > 0 ||
	    tline_cmdq_count(&s->m.cq, RN_K_RSSI) > 0 || (s->m.cq.busy &&
	    (s->m.cq.cur.kind == RN_K_SNR || s->m.cq.cur.kind == RN_K_RSSI)))
		return;
	s->pkt = 0;
	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_RX;
	ev.u.rx.meta.modulation = s->m.rp.modulation;
	ev.u.rx.meta.freq_hz = s->m.rp.freq_hz;
	ev.u.rx.meta.datarate = s->m.rp.modulation == RADIO_MOD_FSK ?
	    s->m.rp.bitrate : s->m.rp.sf;
	ev.u.rx.meta.bw_hz = s->m.rp.modulation == RADIO_MOD_FSK ? 0 :
	    s->m.rp.bw_hz;
	ev.u.rx.meta.rssi_dbm = s->rssi_dbm;
	ev.u.rx.meta.snr_db10 = s->snr_db10;
	ev.u.rx.payload = s->payload;
	ev.u.rx.len = s->plen;
	/* The daemon may queue its reply from here: it goes before the
	 * next "radio rx 0", inside the node's receive window. */
	tline_emit(&s->m.k, &ev);
}

/* Lines the module sends on its own: 1 when line was one of them. */
static int
rn_async(struct rn2483 *s, const char *line, size_t len)
{
	const char *p;
	int n;

	if (strncmp(line, "radio_rx", 8) == 0 && (line[8] == ' ')) {
		s->m.rx_on = 0;
		for (p = line + 8; *p == ' '; p++)
			;
		n = tline_hex_decode(p, len - (size_t)(p - line), s->payload,
		    sizeof(s->payload));
		if (n < 0) {
			tline_emit_drop(&s->m.k, RN_ERR_RX_HEX);
			return 1;
		}
		s->plen = (size_t)n;
		s->pkt = 1;
		s->snr_db10 = 0;
		s->rssi_dbm = 0;
		/* Before anything else queued: the reply must not wait. */
		if (s->fw >= RN_FW_RXSTOP)
			(void)tline_cmdq_add(&s->m.cq, 1, RN_K_RSSI, 0,
			    "radio get rssi");
		if (s->fw != 0)
			(void)tline_cmdq_add(&s->m.cq, 1, RN_K_SNR, 0,
			    "radio get snr");
		return 1;
	}
	if (strcmp(line, "radio_tx_ok") == 0) {
		if (s->m.tx_on) {
			s->m.tx_on = 0;
			tline_emit_txr(&s->m.k, s->m.tx_id, SFRAME_TX_SENT);
		} else
			tline_emit_drop(&s->m.k, RN_ERR_UNEXPECTED);
		return 1;
	}
	if (strcmp(line, "radio_err") == 0) {
		if (s->m.tx_on) {
			s->m.tx_on = 0;
			tline_emit_txr(&s->m.k, s->m.tx_id, SFRAME_TX_FAILED);
		} else
			/* The watchdog ended the reception (nothing heard for
			 * "radio set wdt" ms), or the tail of an rxstop. */
			s->m.rx_on = 0;
		return 1;
	}
	return 0;
}

/* The answer to the command in flight. */
static void
rn_reply(struct rn2483 *s, const char *line, size_t len)
{
	struct tline_cmd *c = &s->m.cq.cur;
	int ok = strcmp(line, "ok") == 0;
	long long v;

	switch (c->kind) {
	case RN_K_FLUSH:
		break;			/* "invalid_param", as expected */
	case RN_K_RESET:
		return;			/* not the banner: keep waiting */
	case RN_K_HWEUI:
		if (len != 16)
			tline_emit_error(&s->m.k, SFRAME_EC_RADIO, "sys get hweui: %s",
			    line);
		break;
	case RN_K_PAUSE:
		if (tline_int(line, len, 0, 4294967295LL, &v) != 0)
			tline_emit_error(&s->m.k, SFRAME_EC_RADIO, "mac pause: %s", line);
		break;
	case RN_K_SET:
		if (!ok) {
			tline_emit_error(&s->m.k, SFRAME_EC_RADIO, "the module "
			    "refused \"%.60s\": %s", c->text, line);
		}
		break;
	case RN_K_RX:
		if (ok)
			tline_mod_receiving(&s->m);
		else {
			/* "busy" or "invalid_param": try again at tick. */
			s->rx_retry = 1;
			tline_emit_error(&s->m.k, SFRAME_EC_RADIO,
			    "radio rx 0: %s", line);
		}
		break;
	case RN_K_RXSTOP:
		s->m.rx_on = 0;
		break;
	case RN_K_TX:
		if (ok) {
			s->m.tx_on = 1;
			s->m.tx_id = c->id;
			s->m.tx_ms = s->m.cq.now_ms;
		} else
			tline_emit_txr(&s->m.k, c->id, strcmp(line, "busy") == 0 ?
			    SFRAME_TX_BUSY : SFRAME_TX_PARAM);
		break;
	case RN_K_SNR:
		if (tline_int(line, len, -128, 127, &v) == 0)
			s->snr_db10 = (int16_t)(v * 10);
		break;
	case RN_K_RSSI:
		if (tline_int(line, len, -200, 50, &v) == 0)
			s->rssi_dbm = (int16_t)v;
		break;
	}
	tline_cmdq_done(&s->m.cq);
	rn_rx_ready(s);
}

static void
rn_line_do(void *arg, int verdict, const char *line, size_t len)
{
	struct rn2483 *s = arg;
	char model[8];
	unsigned int fw;

	if (!tline_mod_heard(&s->m, verdict))
		return;
	if (rn_banner(line, &fw, model)) {
		tline_mod_booted(&s->m, s->m.cq.busy &&
		    s->m.cq.cur.kind == RN_K_RESET, RN_K_TX);
		/* A packet still waiting for its SNR is a node's data: it
		 * goes now, with what was learnt of it. */
		rn_rx_ready(s);
		s->fw = fw;
		if (strcmp(model, s->model->name) != 0)
			tline_emit_error(&s->m.k, SFRAME_EC_UNSUPPORTED, "the "
			    "module is an %s, configured as an %s", model,
			    s->model->name);
		rn_configure(s);
		return;
	}
	/* Before the banner, leftovers of the old session are no news, but
	 * for a packet the module received before our reset: it is a node's
	 * data, delivered without its SNR (no command may go in between). */
	if (s->fw == 0 && strncmp(line, "radio_rx ", 9) == 0) {
		(void)rn_async(s, line, len);
		rn_rx_ready(s);
		return;
	}
	if (s->fw != 0 && rn_async(s, line, len)) {
		rn_rx_ready(s);
		return;
	}
	if (s->m.cq.busy)
		rn_reply(s, line, len);
	else
		tline_emit_drop(&s->m.k, RN_ERR_UNEXPECTED);
}

/* Each line may answer the command in flight: the next one goes at once,
 * as a module answers only what it was sent. */
static void
rn_line(void *arg, int verdict, const char *line, size_t len)
{
	struct rn2483 *s = arg;

	rn_line_do(arg, verdict, line, len);
	rn_pump(s, s->m.out);
}

/* --- the driver interface ----------------------------------------------- */

static int
rn_start(void *st, const struct rn_model *model,
    const struct radio_params *rp, struct radio_out *out, uint64_t now_ms)
{
	struct rn2483 *s = st;

	s->model = model;
	tline_mod_start(&s->m, rp, now_ms);
	return rn_reset(s, out);
}

static int
rn2483_start(void *st, const struct radio_params *rp, struct radio_out *out,
    uint64_t now_ms)
{
	return rn_start(st, &rn_model_2483, rp, out, now_ms);
}

static int
rn2903_start(void *st, const struct radio_params *rp, struct radio_out *out,
    uint64_t now_ms)
{
	return rn_start(st, &rn_model_2903, rp, out, now_ms);
}

static void
rn_input(void *st, const uint8_t *buf, size_t len, struct radio_out *out,
    radio_event_fn *cb, void *arg)
{
	struct rn2483 *s = st;

	tline_mod_input(&s->m, buf, len, out, cb, arg, rn_line, s);
}

static int
rn_transmit(void *st, const struct radio_tx *tx, struct radio_out *out)
{
	struct rn2483 *s = st;
	int r;

	if ((r = tline_mod_tx(&s->m, tx, RN_K_TX, "radio tx ")) != 0)
		return r;
	rn_pump(s, out);
	return 0;
}

/* The line closes with a packet still waiting for its SNR (the module
 * went silent right after reporting it): the packet is a node's data and
 * goes now, without the figures; the commands that asked for them die with
 * the line. */
static void
rn_drain(void *st, radio_event_fn *cb, void *arg)
{
	struct rn2483 *s = st;

	if (!s->pkt)
		return;
	tline_cmdq_clear(&s->m.cq);
	s->m.k.cb = cb;
	s->m.k.arg = arg;
	rn_rx_ready(s);
	s->m.k.cb = NULL;
}

static int
rn_tick(void *st, struct radio_out *out, uint64_t now_ms)
{
	struct rn2483 *s = st;
	const char *why;
	uint32_t timeout;

	timeout = s->m.cq.cur.kind == RN_K_RESET ? RN_RESET_TIMEOUT_MS :
	    RN_CMD_TIMEOUT_MS;
	if (tline_cmdq_expired(&s->m.cq, now_ms, timeout)) {
		if (s->m.cq.cur.kind == RN_K_FLUSH)
			tline_cmdq_done(&s->m.cq);	/* silence is fine */
		else if (s->m.cq.cur.kind == RN_K_RESET)
			return -ETIMEDOUT;
		else
			return rn_soft_reset(s, out, "no answer to a command",
			    s->m.cq.cur.text);
	} else if ((why = tline_mod_check(&s->m, now_ms, RN_TX_MAX_MS)) !=
	    NULL)
		return rn_soft_reset(s, out, why, NULL);
	else if (s->m.rx_on && !s->m.cq.busy &&
	    now_ms > s->m.last_heard_ms &&
	    now_ms - s->m.last_heard_ms >= rn_wdt_ms(s) + RN_WDT_GRACE_MS)
		return rn_soft_reset(s, out, "the receive watchdog never "
		    "fired", NULL);
	s->rx_retry = 0;
	rn_pump(s, out);
	return 0;
}

/* One table per model: the same driver but for its start, its ranges
 * and the name its banner gives. */
#define RN_DRIVER(model, region)					\
	{								\
		.name = "rn" #model,					\
		.help = "Microchip RN" #model " (" region ") LoRa/FSK "	\
		    "module, 57600 baud",				\
		.state_size = sizeof(struct rn2483),			\
		.start = rn##model##_start,				\
		.input = rn_input,					\
		.transmit = rn_transmit,				\
		.tick = rn_tick,					\
		.drain = rn_drain,					\
		.drop_names = rn_verdict_names,				\
		.ndrops = RN_VERDICT_COUNT,				\
		.check = rn##model##_check,				\
		.baud = RN_BAUD,					\
		.probe_cmd = "sys get ver\r\n",			\
		.probe_reply = "RN" #model " ",				\
	}

const struct radio_driver drv_rn2483 = RN_DRIVER(2483, "EU868/433");
const struct radio_driver drv_rn2903 = RN_DRIVER(2903, "US915");
