/*
 * sim_module.c - fieldbridge-sim's text-command radio modules: the pty
 * speaks the Microchip RN2483/RN2903 dialect or the RAKwireless RAK3172
 * RUI3 one instead of FBSP (--dialect), as the firmware does it (the facts
 * and their sources are in radio/drv_rn2483.c and radio/drv_rak3172.c),
 * with quirks a test can switch on (--quirks):
 *
 *   echo      RUI3 echoes every command (ATE on)
 *   split     each burst of output is written in two pieces, 2 ms apart
 *   busy      every SIM_MODULE_BUSY_EVERY-th start of reception is refused
 *             ("busy", AT_BUSY_ERROR)
 *   reset     the module restarts by itself every SIM_MODULE_RESET_MS: its
 *             boot banner, unasked, and the power-on state
 *   noise     binary bytes every SIM_MODULE_NOISE_MS
 *   longline  an over-long line every SIM_MODULE_LONG_MS
 *   mute      from SIM_MODULE_MUTE_AT_MS on, for SIM_MODULE_MUTE_MS, the
 *             module ignores everything and says nothing
 *   unplug    at SIM_MODULE_UNPLUG_AT_MS the pty disappears, and a new one
 *             appears at the same --link SIM_MODULE_UNPLUG_MS later
 *
 * Packets the nodes transmit wait in a queue until the module is receiving
 * (a real one would miss them): the simulated air loses nothing, so an
 * end-to-end test can count every record exactly once.  A record is logged
 * (--log) once the line that carries its packet has been written.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radio/link.h"
#include "radio/tline.h"
#include "tools/sim.h"

#define SIM_MODULE_BUSY_EVERY	100
#define SIM_MODULE_RESET_MS	6000
#define SIM_MODULE_NOISE_MS	5000
#define SIM_MODULE_LONG_MS	7000
#define SIM_MODULE_MUTE_AT_MS	4000
#define SIM_MODULE_MUTE_MS	4000
#define SIM_MODULE_UNPLUG_AT_MS	10000
#define SIM_MODULE_UNPLUG_MS	3000
#define SIM_MODULE_SPLIT_MS	2
#define SIM_MODULE_LONG_BYTES	700

static const struct {
	const char	*name;
	unsigned int	 bit;
} sim_module_quirks[] = {
	{ "echo", SIM_QUIRK_ECHO }, { "split", SIM_QUIRK_SPLIT },
	{ "busy", SIM_QUIRK_BUSY }, { "reset", SIM_QUIRK_RESET },
	{ "noise", SIM_QUIRK_NOISE }, { "longline", SIM_QUIRK_LONGLINE },
	{ "mute", SIM_QUIRK_MUTE }, { "unplug", SIM_QUIRK_UNPLUG },
};

int
sim_module_parse(const char *dialect, const char *quirks, struct sim_opts *o)
{
	char buf[256], *tok, *save = NULL;
	size_t i;

	if (dialect == NULL || strcmp(dialect, "fbsp") == 0)
		o->dialect = SIM_DIALECT_FBSP;
	else if (strcmp(dialect, "rn2483") == 0)
		o->dialect = SIM_DIALECT_RN2483;
	else if (strcmp(dialect, "rn2903") == 0)
		o->dialect = SIM_DIALECT_RN2903;
	else if (strcmp(dialect, "rak3172") == 0)
		o->dialect = SIM_DIALECT_RAK3172;
	else
		return -EINVAL;
	if (quirks == NULL)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s", quirks) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(sim_module_quirks) /
		    sizeof(sim_module_quirks[0]); i++)
			if (strcmp(tok, sim_module_quirks[i].name) == 0)
				break;
		if (i == sizeof(sim_module_quirks) /
		    sizeof(sim_module_quirks[0]))
			return -EINVAL;
		o->quirks |= sim_module_quirks[i].bit;
	}
	return 0;
}

static int
quirk(const struct sim *s, unsigned int bit)
{
	return (s->o.quirks & bit) != 0;
}

static int
is_rn(const struct sim *s)
{
	return s->o.dialect == SIM_DIALECT_RN2483 ||
	    s->o.dialect == SIM_DIALECT_RN2903;
}

/* --- output: whole, or split in two with a pause ------------------------- */

/* The pending log entries still waiting for their packet's line get their
 * end offset in order, as their lines are queued. */
static void
assign_records(struct sim *s, unsigned int n)
{
	struct sim_module *m = &s->mod;
	struct sim_pending *pe;
	size_t k;

	while (n-- > 0 && m->unassigned > 0) {
		k = (s->pend_head + s->pend_count - m->unassigned) % s->pend_cap;
		pe = &s->pend[k];
		pe->end = s->out_total;
		m->unassigned--;
	}
}

static void
mod_out(struct sim *s, const char *p, size_t len, int rec)
{
	struct sim_module *m = &s->mod;
	size_t half;

	if (m->tail_len > 0) {
		/* Behind the piece already waiting, in order. */
		if (len > sizeof(m->tail) - m->tail_len)
			return;		/* 64 KiB in 10 ms: cannot happen */
		memcpy(m->tail + m->tail_len, p, len);
		m->tail_len += len;
		m->tail_recs += rec ? 1 : 0;
		return;
	}
	if (quirk(s, SIM_QUIRK_SPLIT) && len > 1) {
		half = 1 + sim_rand_below(&s->rng, (uint32_t)(len - 1));
		(void)sim_conc_put(s, (const uint8_t *)p, half);
		memcpy(m->tail, p + half, len - half);
		m->tail_len = len - half;
		m->tail_recs = rec ? 1 : 0;
		m->tail_at_ms = sim_now_ms() + SIM_MODULE_SPLIT_MS;
		return;
	}
	(void)sim_conc_put(s, (const uint8_t *)p, len);
	if (rec)
		assign_records(s, 1);
}

static void
say_rec(struct sim *s, const char *line, int rec)
{
	char buf[TLINE_LINE_MAX + 8];
	int n;

	/* RUI3 puts an empty line before a reply (atcmd.c "\r\n%s\r\n"). */
	n = snprintf(buf, sizeof(buf), "%s%s\r\n",
	    s->o.dialect == SIM_DIALECT_RAK3172 && line[0] != '+' ? "\r\n" : "",
	    line);
	if (n > 0 && (size_t)n < sizeof(buf))
		mod_out(s, buf, (size_t)n, rec);
}

static void
say(struct sim *s, const char *line)
{
	say_rec(s, line, 0);
}

/* --- the module's state ----------------------------------------------- */

static const char *
banner(const struct sim *s)
{
	if (s->o.dialect == SIM_DIALECT_RN2903)
		return s->o.fw_old ? "RN2903 1.0.3 Aug 08 2017 15:11:09" :
		    "RN2903 1.0.5 Nov 06 2018 10:45:27";
	if (s->o.dialect == SIM_DIALECT_RN2483)
		return s->o.fw_old ? "RN2483 1.0.4 Oct 12 2017 14:59:25" :
		    "RN2483 1.0.5 Oct 31 2018 15:06:52";
	return "Current Work Mode: LoRa P2P.";
}

/* Power on: what a module is after a reset or a brown-out; the work
 * mode (RUI3 AT+NWM) is kept in flash. */
static void
power_on(struct sim *s)
{
	struct sim_module *m = &s->mod;

	m->rx_on = 0;
	m->tx_on = 0;
	m->len = 0;
	m->autobaud = 0;
	m->echo = quirk(s, SIM_QUIRK_ECHO);
}

static void
boot_banner(struct sim *s)
{
	if (is_rn(s)) {
		say(s, banner(s));
		return;
	}
	say(s, "RAKwireless RAK3172-E Example");
	say(s, "------------------------------------------------------");
	say(s, s->mod.nwm != 0 ? "Current Work Mode: LoRaWAN." : banner(s));
}

void
sim_module_start(struct sim *s)
{
	struct sim_module *m = &s->mod;
	uint64_t now = sim_now_ms();

	m->nwm = 1;	/* out of the box: LoRaWAN, the driver switches */
	if (m->held == NULL &&
	    (m->held = calloc(SIM_HOLD_MAX, sizeof(*m->held))) == NULL) {
		fprintf(stderr, "sim: out of memory\n");
		exit(2);
	}
	power_on(s);
	m->next_reset_ms = now + SIM_MODULE_RESET_MS;
	m->next_noise_ms = now + SIM_MODULE_NOISE_MS;
	m->next_long_ms = now + SIM_MODULE_LONG_MS;
	m->mute_from_ms = now + SIM_MODULE_MUTE_AT_MS;
	m->mute_until_ms = m->mute_from_ms + SIM_MODULE_MUTE_MS;
	m->unplug_at_ms = now + SIM_MODULE_UNPLUG_AT_MS;
}

/* --- packets from the nodes ------------------------------------------- */

int
sim_module_rx(struct sim *s, int ni, const uint8_t *frame, size_t len)
{
	struct sim_module *m = &s->mod;
	struct sim_held *h;

	if (m->hn == SIM_HOLD_MAX || len > RADIO_PAYLOAD_MAX)
		return -ENOBUFS;
	h = &m->held[(m->hhead + m->hn) % SIM_HOLD_MAX];
	h->len = (uint16_t)len;
	memcpy(h->frame, frame, len);
	h->rec = 0;
	h->rssi = (int16_t)(ni >= 0 ? s->nodes[ni].rssi : -95);
	h->snr = (int8_t)(5 - (int)sim_rand_below(&s->rng, 10));
	m->hn++;
	m->held_bytes += 2 * len + 24;
	s->st.frames_up++;
	return 0;
}

/* sim_conc_record: the packet just held carries a record to log. */
void
sim_module_record(struct sim *s, struct sim_pending *pe)
{
	struct sim_module *m = &s->mod;

	pe->end = UINT64_MAX;
	m->unassigned++;
	if (m->hn > 0)
		m->held[(m->hhead + m->hn - 1) % SIM_HOLD_MAX].rec = 1;
}

size_t
sim_module_pending(const struct sim *s)
{
	return s->mod.held_bytes + s->mod.tail_len;
}

/* Hand held packets to the line while the module receives. */
static void
release(struct sim *s)
{
	struct sim_module *m = &s->mod;
	struct sim_held *h;
	char hex[2 * RADIO_PAYLOAD_MAX + 1];
	char line[TLINE_LINE_MAX];

	while (m->hn > 0 && m->rx_on && !m->muted && !m->tx_on) {
		h = &m->held[m->hhead];
		tline_hex_encode(h->frame, h->len, hex);
		if (is_rn(s)) {
			/* 1.0.5 prints two spaces, 1.0.4 one. */
			snprintf(line, sizeof(line), "radio_rx %s%s",
			    s->o.fw_old ? "" : " ", hex);
			m->rx_on = 0;	/* one packet ends "radio rx 0" */
			m->snr = h->snr;
			m->rssi = h->rssi;
		} else
			snprintf(line, sizeof(line), "+EVT:RXP2P:%d:%d:%s",
			    h->rssi, h->snr, hex);
		say_rec(s, line, h->rec ? 1 : 0);
		m->held_bytes -= 2 * (size_t)h->len + 24;
		m->hhead = (m->hhead + 1) % SIM_HOLD_MAX;
		m->hn--;
	}
}

/* --- commands: RN2483 ----------------------------------------------------- */

static void
downlink(struct sim *s, const char *hex)
{
	uint8_t frame[RADIO_PAYLOAD_MAX];
	int n;

	s->st.tx_req++;
	n = tline_hex_decode(hex, strlen(hex), frame, sizeof(frame));
	if (n > 0)
		sim_node_downlink(s, frame, (size_t)n);
}

static int
busy_now(struct sim *s)
{
	return quirk(s, SIM_QUIRK_BUSY) &&
	    ++s->mod.rx_starts % SIM_MODULE_BUSY_EVERY == 0;
}

static void
rn_command(struct sim *s, const char *c)
{
	struct sim_module *m = &s->mod;
	char buf[32];

	if (strcmp(c, "sys reset") == 0) {
		power_on(s);
		boot_banner(s);
	} else if (strcmp(c, "sys get ver") == 0)
		say(s, banner(s));
	else if (strcmp(c, "sys get hweui") == 0)
		say(s, "0004A30B001A2B3C");
	else if (strcmp(c, "mac pause") == 0)
		say(s, "4294967245");
	else if (strncmp(c, "radio set ", 10) == 0)
		say(s, m->rx_on || m->tx_on ? "busy" : "ok");
	else if (strcmp(c, "radio rx 0") == 0) {
		if (m->rx_on || m->tx_on || busy_now(s))
			say(s, "busy");
		else {
			say(s, "ok");
			m->rx_on = 1;
		}
	} else if (strcmp(c, "radio rxstop") == 0 && !s->o.fw_old) {
		m->rx_on = 0;
		say(s, "ok");
	} else if (strcmp(c, "radio get snr") == 0) {
		snprintf(buf, sizeof(buf), "%d", m->snr);
		say(s, buf);
	} else if (strcmp(c, "radio get rssi") == 0 && !s->o.fw_old) {
		snprintf(buf, sizeof(buf), "%d", m->rssi);
		say(s, buf);
	} else if (strncmp(c, "radio tx ", 9) == 0) {
		if (m->rx_on || m->tx_on) {
			say(s, "busy");
			return;
		}
		say(s, "ok");
		downlink(s, c + 9);
		say(s, "radio_tx_ok");
	} else
		say(s, "invalid_param");
}

/* --- commands: RAK3172 RUI3 --------------------------------------------- */

static void
rak_command(struct sim *s, const char *c)
{
	struct sim_module *m = &s->mod;

	if (m->echo) {
		mod_out(s, c, strlen(c), 0);
		mod_out(s, "\r\n", 2, 0);
	}
	if (strcmp(c, "AT") == 0)
		say(s, "OK");
	else if (strcmp(c, "ATE") == 0) {
		m->echo = !m->echo;
		say(s, "OK");
	} else if (strcmp(c, "ATZ") == 0) {
		power_on(s);
		boot_banner(s);
	} else if (strcmp(c, "AT+VER=?") == 0) {
		say(s, s->o.fw_old ? "AT+VER=RUI_3.5.1_RAK3172-E" :
		    "AT+VER=RUI_4.0.6_RAK3172-E");
		say(s, "OK");
	} else if (strcmp(c, "AT+DEVEUI=?") == 0) {
		say(s, "AT+DEVEUI=AC1F09FFFE012345");
		say(s, "OK");
	} else if (strcmp(c, "AT+NWM=?") == 0) {
		say(s, m->nwm == 0 ? "AT+NWM=0" : "AT+NWM=1");
		say(s, "OK");
	} else if (strncmp(c, "AT+NWM=", 7) == 0) {
		if (m->rx_on) {
			say(s, "P2P_RX_ON already, please disable P2P RX "
			    "before setting.");
			say(s, "AT_BUSY_ERROR");
			return;
		}
		/* "OK" with no line end, then the reboot (At_NwkWorkMode). */
		mod_out(s, "OK", 2, 0);
		m->nwm = c[7] - '0';
		power_on(s);
		boot_banner(s);
	} else if (m->nwm != 0 && strncmp(c, "AT+P", 4) == 0)
		say(s, "AT_MODE_NO_SUPPORT");
	else if (strcmp(c, "AT+PRECV=0") == 0) {
		m->rx_on = 0;
		say(s, "OK");
	} else if (strcmp(c, "AT+PRECV=65534") == 0) {
		if (m->rx_on) {
			say(s, "P2P_RX_ON already");
			say(s, "AT_BUSY_ERROR");
		} else if (busy_now(s))
			say(s, "AT_BUSY_ERROR");
		else {
			m->rx_on = 1;
			say(s, "OK");
		}
	} else if (strncmp(c, "AT+P2P=", 7) == 0 ||
	    strncmp(c, "AT+SYNCWORD=", 12) == 0) {
		if (m->rx_on) {
			say(s, "P2P_RX_ON already, please disable P2P RX "
			    "before setting.");
			say(s, "AT_BUSY_ERROR");
		} else
			say(s, s->o.fw_old && c[3] == 'S' ?
			    "AT_COMMAND_NOT_FOUND" : "OK");
	} else if (strncmp(c, "AT+PSEND=", 9) == 0) {
		if (m->rx_on || m->tx_on) {
			say(s, "AT_BUSY_ERROR");
			return;
		}
		say(s, "OK");
		downlink(s, c + 9);
		say(s, "+EVT:TXP2P DONE");
	} else
		say(s, s->o.fw_old ? "AT_ERROR" : "AT_COMMAND_NOT_FOUND");
}

/* --- the line from the gateway ------------------------------------------ */

void
sim_module_input(struct sim *s, const uint8_t *buf, size_t len)
{
	struct sim_module *m = &s->mod;
	size_t i;
	uint8_t c;

	if (m->muted)
		return;
	for (i = 0; i < len; i++) {
		c = buf[i];
		if (is_rn(s) && c == 0x00) {
			/* A break: auto-baud, the 0x55 that follows is the
			 * module's to measure, not a command byte. */
			m->autobaud = 1;
			m->len = 0;
			continue;
		}
		if (m->autobaud && c == 0x55) {
			m->autobaud = 0;
			continue;
		}
		m->autobaud = 0;
		if (c == '\r')
			continue;
		if (c != '\n') {
			if (m->len < sizeof(m->line) - 1)
				m->line[m->len++] = (char)c;
			continue;
		}
		m->line[m->len] = '\0';
		m->len = 0;
		if (is_rn(s))
			rn_command(s, m->line);
		else
			rak_command(s, m->line);
	}
	release(s);
}

/* --- time: quirks, the split tail, held packets ------------------------- */

static void
unplug(struct sim *s)
{
	(void)close(s->master);
	(void)close(s->slave);
	s->master = s->slave = -1;
	sim_conc_unlink(s->o.link, s->slave_name);
	/* What was queued for the old line is gone with it. */
	s->out_head = s->out_len = 0;
}

static void
replug(struct sim *s)
{
	if (sim_conc_open(s) != 0 ||
	    sim_conc_link(s->o.link, s->slave_name) != 0) {
		fprintf(stderr, "sim: replug failed\n");
		exit(2);
	}
	power_on(s);
}

void
sim_module_tick(struct sim *s, uint64_t now)
{
	struct sim_module *m = &s->mod;
	char noise[64], longline[SIM_MODULE_LONG_BYTES + 2];
	size_t i;

	if (m->tail_len > 0 && now >= m->tail_at_ms) {
		(void)sim_conc_put(s, (const uint8_t *)m->tail, m->tail_len);
		assign_records(s, m->tail_recs);
		m->tail_len = 0;
		m->tail_recs = 0;
		m->tail_at_ms = 0;
	} else if (m->tail_len == 0)
		m->tail_at_ms = 0;
	if (quirk(s, SIM_QUIRK_UNPLUG) && m->unplug_at_ms != 0 &&
	    now >= m->unplug_at_ms) {
		if (s->master >= 0) {
			unplug(s);
			m->unplug_at_ms = now + SIM_MODULE_UNPLUG_MS;
		} else {
			replug(s);
			m->unplug_at_ms = 0;
		}
	}
	if (s->master < 0)
		return;
	if (quirk(s, SIM_QUIRK_MUTE) && m->mute_from_ms != 0 &&
	    now >= m->mute_from_ms) {
		if (now < m->mute_until_ms)
			m->muted = 1;
		else {
			/* Back from the hang as from a reset, but silently:
			 * it receives nothing until told again. */
			m->muted = 0;
			m->mute_from_ms = 0;
			power_on(s);
		}
	}
	if (m->muted)
		return;
	if (quirk(s, SIM_QUIRK_RESET) && now >= m->next_reset_ms) {
		m->next_reset_ms = now + SIM_MODULE_RESET_MS;
		s->st.resets++;
		power_on(s);
		boot_banner(s);
	}
	if (quirk(s, SIM_QUIRK_NOISE) && now >= m->next_noise_ms) {
		m->next_noise_ms = now + SIM_MODULE_NOISE_MS;
		for (i = 0; i < sizeof(noise) - 2; i++)
			noise[i] = (char)(0x80 | sim_rand(&s->rng));
		noise[sizeof(noise) - 2] = '\r';
		noise[sizeof(noise) - 1] = '\n';
		mod_out(s, noise, sizeof(noise), 0);
		s->st.garbage_bytes += sizeof(noise) - 2;
	}
	if (quirk(s, SIM_QUIRK_LONGLINE) && now >= m->next_long_ms) {
		m->next_long_ms = now + SIM_MODULE_LONG_MS;
		memset(longline, 'F', sizeof(longline));
		longline[sizeof(longline) - 2] = '\r';
		longline[sizeof(longline) - 1] = '\n';
		mod_out(s, longline, sizeof(longline), 0);
	}
	release(s);
}
