/*
 * drv_rak3172.c - the driver for RAKwireless RAK3172 (STM32WLE5) modules
 * running RUI3 firmware, in LoRa point-to-point mode: AT commands at
 * 115200 baud 8N1.
 *
 * Data flow: port.c -> rak_input() -> tline reader -> rak_line() -> radio
 * events; downlinks: rak_transmit() -> "AT+PRECV=0", "AT+PSEND=<hex>",
 * "AT+PRECV=65534" queued behind the commands before them.
 *
 * Sources, read for this file (nothing copied): RAKwireless's RUI3 source,
 * github.com/RAKWireless/RAK-STM32-RUI, at the commits of RUI 3.4.2,
 * 3.5.0b, 3.5.1, 4.0.7, 4.1.x and 5.0.0/5.0.1 (cores/STM32WLE/component/
 * service/mode/cli/atcmd.c, atcmd_p2p.c, service/lora/service_lora_p2p.c,
 * variants/.../rui_inner_main.c), and the RUI3 AT command manual.  Where
 * the manual and the source differ, the source is what runs:
 *
 * - Every reply ends in "OK" or one of atcmd_err_tbl's names, each on a
 *   line of its own after an empty one; a query prints "AT+X=value" first.
 *   3.5.x knows AT_ERROR, AT_PARAM_ERROR, AT_BUSY_ERROR,
 *   AT_TEST_PARAM_OVERFLOW, AT_NO_CLASSB_ENABLE, AT_NO_NETWORK_JOINED,
 *   AT_RX_ERROR and AT_MODE_NO_SUPPORT; 4.x adds AT_COMMAND_NOT_FOUND and
 *   AT_UNSUPPORTED_BAND.  Some errors come after a line of prose ("P2P_RX_ON
 *   already, please disable P2P RX before setting."), which we skip.
 * - With echo on (ATE toggles it) each command comes back first; a line
 *   equal to the command in flight is skipped, so both settings work.
 * - "AT+NWM=0" prints "OK" without a line end and reboots at once, even
 *   when the mode is already 0 (At_NwkWorkMode): we ask "AT+NWM=?" first
 *   and switch only when needed, then wait for the boot banner, whose line
 *   "Current Work Mode: LoRa P2P." ends it.  The same banner arriving
 *   unasked means the module restarted (a brown-out, a watchdog): we
 *   configure it again and say so.
 * - "AT+PRECV=65534" receives without end and keeps receiving after each
 *   packet; "+EVT:RXP2P:<rssi>:<snr>:<hex>" reports one (rssi and snr in
 *   dB, decimal).  "+EVT:RXP2P RECEIVE ERROR" (a bad CRC) leaves the radio
 *   receiving in that mode (OnRxError returns early), so it is only counted.
 *   A second "AT+PRECV=65534" answers AT_BUSY_ERROR ("P2P_RX_ON already").
 * - AT+P2P, AT+SYNCWORD and AT+PSEND are refused with AT_BUSY_ERROR while
 *   receiving: "AT+PRECV=0" first.  "+EVT:TXP2P DONE" ends a transmission.
 * - AT+P2P=freq:sf:bw:cr:preamble:power; 3.5.x takes the bandwidth only as
 *   an index (0: 125, 1: 250, 2: 500 kHz), 4.x also in kHz: we send the
 *   index.  Ranges (At_P2p): 150..960 MHz, SF 5..12, cr 0..3 (4/5..4/8),
 *   preamble 5..65535, power 5..22 dBm.
 * - AT+SYNCWORD (4.0 and later; absent in 3.5.x) takes the SX126x form of
 *   the sync word, 16 bits: 0x12 (SX127x, RN2483) is 0x1424.  On 3.5.x the
 *   module keeps its default, which is that same private-network word.
 * - RUI3 has no radio watchdog and no auto-baud: a silent module is found
 *   by an "AT" every RAK_PING_MS, and reset with "ATZ".
 *
 * Recovery: a command unanswered for RAK_CMD_TIMEOUT_MS, a transmission
 * that never ends, or RAK_BINARY_RESET binary lines in a row -> "ATZ" and
 * the whole configuration again, reported once the banner arrives; no
 * banner within RAK_BOOT_TIMEOUT_MS, or RAK_SOFT_RESETS_MAX resets in a
 * row -> tick() returns -ETIMEDOUT and the port reopens the line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radio/radio.h"
#include "radio/sframe.h"
#include "radio/tline.h"

#define RAK_BAUD		115200
#define RAK_CMD_TIMEOUT_MS	2000
#define RAK_BOOT_TIMEOUT_MS	5000	/* banner after ATZ or AT+NWM */
#define RAK_PING_MS		10000	/* "AT" when nothing else was heard */
#define RAK_TX_MAX_MS		12000	/* SF12, 255 bytes, and a margin */
#define RAK_SYNC_TRIES_MAX	3	/* "AT" refused: a half command */
#define RAK_PRECV_FOREVER	65534	/* keep receiving, packet after packet */
#define RAK_BANNER		"Current Work Mode:"
#define RAK_EVT_RX		"+EVT:RXP2P:"

enum rak_kind {
	RAK_K_SYNC = 1,		/* AT -> OK */
	RAK_K_VER,		/* AT+VER=? */
	RAK_K_DEVEUI,		/* AT+DEVEUI=? */
	RAK_K_NWM_Q,		/* AT+NWM=? */
	RAK_K_NWM_SET,		/* AT+NWM=0 -> reboot banner */
	RAK_K_RESET,		/* ATZ -> reboot banner */
	RAK_K_SET,		/* AT+P2P=..., AT+SYNCWORD=... -> OK */
	RAK_K_RX_ON,		/* AT+PRECV=65534 */
	RAK_K_RX_OFF,		/* AT+PRECV=0 */
	RAK_K_TX,		/* AT+PSEND=hex -> OK, +EVT:TXP2P DONE */
	RAK_K_PING,		/* AT -> OK */
};

enum rak_verdict {
	RAK_OK = 0,
	RAK_ERR_LONG = TLINE_ERR_LONG,
	RAK_ERR_BINARY = TLINE_ERR_BINARY,
	RAK_ERR_UNEXPECTED = -3,	/* answers nothing we asked */
	RAK_ERR_RX_FORMAT = -4,		/* +EVT:RXP2P not rssi:snr:hex */
	RAK_ERR_RX_CRC = -5,		/* +EVT:RXP2P RECEIVE ERROR */
	RAK_VERDICT_COUNT = 6,
};

static const char *const rak_verdict_names[RAK_VERDICT_COUNT] = {
	"", "line_long", "line_binary", "line_unexpected",
	"rx_format", "rx_crc",
};

struct rak3172 {
	struct tline_mod	 m;		/* reader, queue, state, resets */
	unsigned int		 ver_major;	/* 0: not known yet */
	int			 booted;	/* configuration may go */
	int			 sync_tries;
	char			 value[64];	/* a query's answer */
	uint8_t			 payload[RADIO_PAYLOAD_MAX];
};

static int
rak_check(const struct radio_params *rp, char *why)
{
	const char *bad = NULL;

	if (rp->modulation != RADIO_MOD_LORA)
		bad = "modulation: this driver runs the RAK3172 in LoRa P2P "
		    "only";
	else if (rp->freq_hz < 150000000 || rp->freq_hz > 960000000)
		bad = "freq_hz: RAK3172 takes 150000000..960000000";
	else if (rp->sf < 5 || rp->sf > 12)
		bad = "sf: RAK3172 takes 5..12";
	else if (rp->bw_hz != 125000 && rp->bw_hz != 250000 &&
	    rp->bw_hz != 500000)
		bad = "bw_khz: RAK3172 takes 125, 250 or 500";
	else if (rp->cr < 1 || rp->cr > 4)
		bad = "coding_rate: 4/5..4/8";
	else if (rp->preamble < 5)
		bad = "preamble: RAK3172 takes 5..65535";
	else if (rp->power_dbm < 5 || rp->power_dbm > 22)
		bad = "tx_power_dbm: RAK3172 takes 5..22";
	else if (rp->sync_word > 0xff)
		bad = "sync_word: one byte (the SX127x form, e.g. 0x12)";
	if (bad == NULL)
		return 0;
	snprintf(why, RADIO_PARAMS_WHY_MAX, "%s", bad);
	return -EINVAL;
}

/* 0x12 -> 0x1424: each nibble n becomes n << 4 | 4 (Semtech SX126x data
 * sheet, register 0x0740, "LoRa Sync Word"). */
static unsigned int
rak_syncword(uint16_t sw)
{
	return ((sw & 0xf0u) << 8) | 0x400u | ((sw & 0x0fu) << 4) | 0x4u;
}

static int
rak_bw_index(uint32_t bw_hz)
{
	return bw_hz == 500000 ? 2 : bw_hz == 250000 ? 1 : 0;
}

/* "ATZ", then everything again once the banner is in. */
static int
rak_reset(struct rak3172 *s, struct radio_out *out)
{
	tline_cmdq_clear(&s->m.cq);
	s->booted = 0;
	s->m.ready = 0;
	s->m.rx_on = 0;
	s->m.tx_on = 0;
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_RESET, 0, "ATZ");
	return tline_cmdq_send(&s->m.cq, out) < 0 ? -ENOBUFS : 0;
}

/* Identify, switch to P2P if needed: the part before the radio settings. */
static void
rak_identify(struct rak3172 *s)
{
	s->sync_tries = 0;
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_SYNC, 0, "AT");
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_VER, 0, "AT+VER=?");
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_DEVEUI, 0, "AT+DEVEUI=?");
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_NWM_Q, 0, "AT+NWM=?");
}

static void
rak_configure(struct rak3172 *s)
{
	const struct radio_params *rp = &s->m.rp;

	s->booted = 1;
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_RX_OFF, 0, "AT+PRECV=0");
	(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_SET, 0,
	    "AT+P2P=%u:%u:%d:%u:%u:%d", (unsigned int)rp->freq_hz,
	    (unsigned int)rp->sf, rak_bw_index(rp->bw_hz),
	    (unsigned int)(rp->cr - 1), (unsigned int)rp->preamble,
	    (int)rp->power_dbm);
	if (s->ver_major >= 4)
		(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_SET, 0,
		    "AT+SYNCWORD=%04X", rak_syncword(rp->sync_word));
}

/* As rn_pump() in drv_rn2483.c: the next command, "AT+PRECV=0" before a
 * waiting downlink, "AT+PRECV=65534" when idle. */
static void
rak_pump(struct rak3172 *s, struct radio_out *out)
{
	int next;

	if (s->m.cq.busy || s->m.tx_on || !s->booted)
		goto send;
	next = tline_cmdq_next(&s->m.cq);
	if (s->m.rx_on && next == RAK_K_TX)
		(void)tline_cmdq_add(&s->m.cq, 1, RAK_K_RX_OFF, 0, "AT+PRECV=0");
	else if (!s->m.rx_on && next == 0)
		(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_RX_ON, 0, "AT+PRECV=%u",
		    RAK_PRECV_FOREVER);
send:
	if (!s->m.tx_on)
		(void)tline_cmdq_send(&s->m.cq, out);
}

static int
rak_soft_reset(struct rak3172 *s, struct radio_out *out, const char *why,
    const char *cmd)
{
	int r;

	if ((r = tline_mod_fail(&s->m, why, cmd, RAK_K_TX)) != 0)
		return r;
	return rak_reset(s, out);
}

/* "+EVT:RXP2P:-45:9:A1B2": the packet, or a drop. */
static void
rak_rx(struct rak3172 *s, const char *line, size_t len)
{
	struct radio_event ev;
	const char *p = line + strlen(RAK_EVT_RX), *end = line + len, *c1, *c2;
	long long rssi, snr;
	int n;

	if ((c1 = memchr(p, ':', (size_t)(end - p))) == NULL ||
	    (c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) == NULL ||
	    tline_int(p, (size_t)(c1 - p), -200, 50, &rssi) != 0 ||
	    tline_int(c1 + 1, (size_t)(c2 - c1 - 1), -128, 127, &snr) != 0 ||
	    (n = tline_hex_decode(c2 + 1, (size_t)(end - c2 - 1), s->payload,
	    sizeof(s->payload))) <= 0) {
		tline_emit_drop(&s->m.k, RAK_ERR_RX_FORMAT);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_RX;
	ev.u.rx.meta.modulation = RADIO_MOD_LORA;
	ev.u.rx.meta.freq_hz = s->m.rp.freq_hz;
	ev.u.rx.meta.datarate = s->m.rp.sf;
	ev.u.rx.meta.bw_hz = s->m.rp.bw_hz;
	ev.u.rx.meta.rssi_dbm = (int16_t)rssi;
	ev.u.rx.meta.snr_db10 = (int16_t)(snr * 10);
	ev.u.rx.payload = s->payload;
	ev.u.rx.len = (size_t)n;
	tline_emit(&s->m.k, &ev);
}

/* Lines the module sends on its own: 1 when line was one of them. */
static int
rak_async(struct rak3172 *s, const char *line, size_t len)
{
	if (strncmp(line, RAK_EVT_RX, strlen(RAK_EVT_RX)) == 0) {
		rak_rx(s, line, len);
		return 1;
	}
	if (strcmp(line, "+EVT:RXP2P RECEIVE ERROR") == 0) {
		tline_emit_drop(&s->m.k, RAK_ERR_RX_CRC);
		return 1;
	}
	if (strcmp(line, "+EVT:RXP2P RECEIVE TIMEOUT") == 0) {
		s->m.rx_on = 0;		/* a timed reception ended */
		return 1;
	}
	if (strcmp(line, "+EVT:TXP2P DONE") == 0) {
		if (s->m.tx_on) {
			s->m.tx_on = 0;
			tline_emit_txr(&s->m.k, s->m.tx_id, SFRAME_TX_SENT);
		} else
			tline_emit_drop(&s->m.k, RAK_ERR_UNEXPECTED);
		return 1;
	}
	return 0;
}

/* "RUI_4.0.6_RAK3172-E" (also "AT+VER=RUI_..."): the major version. */
static unsigned int
rak_version(const char *v)
{
	const char *p = strstr(v, "RUI_");
	unsigned long m;

	if (p == NULL || p[4] < '0' || p[4] > '9')
		return 0;
	m = strtoul(p + 4, NULL, 10);
	return m > 99 ? 0 : (unsigned int)m;
}

static void
rak_ok(struct rak3172 *s)
{
	struct tline_cmd *c = &s->m.cq.cur;

	switch (c->kind) {
	case RAK_K_VER:
		s->ver_major = rak_version(s->value);
		if (s->ver_major == 0)
			tline_emit_error(&s->m.k, SFRAME_EC_UNSUPPORTED, "AT+VER: "
			    "\"%s\" is not RUI3, trying anyway", s->value);
		break;
	case RAK_K_NWM_Q:
		if (strcmp(s->value, "0") != 0) {
			/* LoRaWAN (1) or FSK (2): to P2P, which reboots. */
			(void)tline_cmdq_add(&s->m.cq, 1, RAK_K_NWM_SET, 0,
			    "AT+NWM=0");
			tline_cmdq_done(&s->m.cq);
			return;
		}
		rak_configure(s);
		break;
	case RAK_K_RX_ON:
		tline_mod_receiving(&s->m);
		break;
	case RAK_K_RX_OFF:
		s->m.rx_on = 0;
		break;
	case RAK_K_TX:
		s->m.tx_on = 1;
		s->m.tx_id = c->id;
		s->m.tx_ms = s->m.cq.now_ms;
		break;
	default:
		break;
	}
	tline_cmdq_done(&s->m.cq);
}

static void
rak_err(struct rak3172 *s, const char *line)
{
	struct tline_cmd *c = &s->m.cq.cur;
	int busy = strcmp(line, "AT_BUSY_ERROR") == 0;

	switch (c->kind) {
	case RAK_K_SYNC:
		/* The module held half a command: "AT" once more. */
		if (++s->sync_tries < RAK_SYNC_TRIES_MAX)
			(void)tline_cmdq_add(&s->m.cq, 1, RAK_K_SYNC, 0, "AT");
		break;
	case RAK_K_RX_ON:
		if (busy) {		/* "P2P_RX_ON already" */
			s->m.rx_on = 1;
			break;
		}
		tline_emit_error(&s->m.k, SFRAME_EC_RADIO, "AT+PRECV: %s", line);
		break;
	case RAK_K_TX:
		tline_emit_txr(&s->m.k, c->id, busy ? SFRAME_TX_BUSY :
		    SFRAME_TX_PARAM);
		break;
	default:
		tline_emit_error(&s->m.k, SFRAME_EC_RADIO, "the module refused "
		    "\"%.60s\": %s", c->text, line);
		break;
	}
	tline_cmdq_done(&s->m.cq);
}

static void
rak_line_do(void *arg, int verdict, const char *line, size_t len)
{
	struct rak3172 *s = arg;
	struct tline_cmd *c = &s->m.cq.cur;
	const char *eq;
	int nwm;

	if (!tline_mod_heard(&s->m, verdict))
		return;
	if (strstr(line, RAK_BANNER) != NULL) {
		nwm = s->m.cq.busy && c->kind == RAK_K_NWM_SET;
		tline_mod_booted(&s->m, nwm || (s->m.cq.busy &&
		    c->kind == RAK_K_RESET), RAK_K_TX);
		/* After AT+NWM=0 the mode is P2P: on with the settings. */
		if (nwm)
			rak_configure(s);
		else {
			s->booted = 0;
			rak_identify(s);
		}
		return;
	}
	if (rak_async(s, line, len))
		return;
	if (!s->m.cq.busy) {
		tline_emit_drop(&s->m.k, RAK_ERR_UNEXPECTED);
		return;
	}
	/* Waiting for a reboot: its other banner lines are no answer. */
	if (c->kind == RAK_K_RESET || c->kind == RAK_K_NWM_SET)
		return;
	if (strcmp(line, c->text) == 0)
		return;			/* the echo */
	if (strcmp(line, "OK") == 0) {
		rak_ok(s);
		return;
	}
	if (strncmp(line, "AT_", 3) == 0) {
		rak_err(s, line);
		return;
	}
	/* "AT+VER=RUI_4.0.6_RAK3172-E", or prose before an error. */
	eq = strncmp(line, "AT+", 3) == 0 ? strchr(line, '=') : NULL;
	snprintf(s->value, sizeof(s->value), "%s", eq != NULL ? eq + 1 : line);
}

/* Each line may answer the command in flight: the next one goes at once,
 * as a module answers only what it was sent. */
static void
rak_line(void *arg, int verdict, const char *line, size_t len)
{
	struct rak3172 *s = arg;

	rak_line_do(arg, verdict, line, len);
	rak_pump(s, s->m.out);
}

static int
rak_start(void *st, const struct radio_params *rp, struct radio_out *out,
    uint64_t now_ms)
{
	struct rak3172 *s = st;
	int r;

	tline_mod_start(&s->m, rp, now_ms);
	/* A line end first: it completes (and so fails) any half command
	 * the module holds, and "AT" then answers alone. */
	if ((r = radio_out_put(out, "\r\n", 2)) != 0)
		return r;
	rak_identify(s);
	return tline_cmdq_send(&s->m.cq, out) < 0 ? -ENOBUFS : 0;
}

static void
rak_input(void *st, const uint8_t *buf, size_t len, struct radio_out *out,
    radio_event_fn *cb, void *arg)
{
	struct rak3172 *s = st;

	tline_mod_input(&s->m, buf, len, out, cb, arg, rak_line, s);
}

static int
rak_transmit(void *st, const struct radio_tx *tx, struct radio_out *out)
{
	struct rak3172 *s = st;
	int r;

	if ((r = tline_mod_tx(&s->m, tx, RAK_K_TX, "AT+PSEND=")) != 0)
		return r;
	rak_pump(s, out);
	return 0;
}

static int
rak_tick(void *st, struct radio_out *out, uint64_t now_ms)
{
	struct rak3172 *s = st;
	struct tline_cmd *c = &s->m.cq.cur;
	const char *why;
	uint32_t timeout;

	timeout = c->kind == RAK_K_RESET || c->kind == RAK_K_NWM_SET ?
	    RAK_BOOT_TIMEOUT_MS : RAK_CMD_TIMEOUT_MS;
	if (tline_cmdq_expired(&s->m.cq, now_ms, timeout)) {
		if (c->kind == RAK_K_RESET)
			return -ETIMEDOUT;
		return rak_soft_reset(s, out, "no answer to a command",
		    c->text);
	}
	if ((why = tline_mod_check(&s->m, now_ms, RAK_TX_MAX_MS)) != NULL)
		return rak_soft_reset(s, out, why, NULL);
	/* Quiet air is normal; a quiet module is not: ask it. */
	if (s->m.ready && !s->m.cq.busy && tline_cmdq_next(&s->m.cq) == 0 &&
	    now_ms > s->m.last_heard_ms &&
	    now_ms - s->m.last_heard_ms >= RAK_PING_MS)
		(void)tline_cmdq_add(&s->m.cq, 0, RAK_K_PING, 0, "AT");
	rak_pump(s, out);
	return 0;
}

const struct radio_driver drv_rak3172 = {
	.name = "rak3172",
	.help = "RAKwireless RAK3172, RUI3 firmware, LoRa P2P, 115200 baud",
	.state_size = sizeof(struct rak3172),
	.start = rak_start,
	.input = rak_input,
	.transmit = rak_transmit,
	.tick = rak_tick,
	.drop_names = rak_verdict_names,
	.ndrops = RAK_VERDICT_COUNT,
	.check = rak_check,
	.baud = RAK_BAUD,
	.probe_cmd = "AT+VER=?\r\n",
	.probe_reply = "AT+VER=RUI",
};
