/*
 * sim_conc.c - fieldbridge-sim's concentrator: the FBSP side of the
 * pseudo-terminal the daemon reads as its serial line.
 *
 * On the pty it speaks the fieldbridge serial protocol (radio/sframe.c, the
 * same codec the daemon's FBSP driver uses): packets the nodes transmit go
 * up as RX frames (sim_conc_rx), a STATUS heartbeat goes up every
 * SIM_STATUS_MS (fieldbridge-sim.c calls sim_conc_status), and TX requests
 * from the gateway are answered with a TX result and handed to the node
 * they are addressed to (sim_node_downlink), at once or when the
 * concentrator's counter reaches their at_tmst.  A RESET aborts the held
 * downlinks and restarts our frame counter.
 *
 * The uplink side batches: frames queue in one buffer written to the pty in
 * large writes, and nodes stop producing while it is above SIM_OUT_HIGH
 * (back-pressure instead of loss, so every logged record reaches the line).
 * Every record a node transmits is written to --log as "EUI FCNT HEX" once
 * its bytes have been written to the pty (sim_conc_record), so a checker can
 * compare what left the nodes with what arrived upstream.
 *
 * With --dialect rn2483, rn2903 or rak3172 the pty speaks a module's text
 * commands instead (sim_module.c); the calls here hand over to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "policy/registry.h"
#include "radio/link.h"
#include "radio/sframe.h"
#include "tools/sim.h"

#define SIM_TX_AHEAD_MAX_US	30000000u	/* at_tmst further: too early */
#define SIM_TX_LATE_MAX_US	1000000u	/* at_tmst older: too late */

/* --- the output queue and the record log ------------------------------- */

size_t
sim_conc_pending(const struct sim *s)
{
	return s->out_len - s->out_head + (s->o.dialect != SIM_DIALECT_FBSP ?
	    sim_module_pending(s) : 0);
}

int
sim_conc_put(struct sim *s, const uint8_t *p, size_t len)
{
	if (s->out_head > 0 && s->out_len + len > SIM_OUT_CAP) {
		memmove(s->out, s->out + s->out_head, s->out_len - s->out_head);
		s->out_len -= s->out_head;
		s->out_head = 0;
	}
	if (SIM_OUT_CAP - s->out_len < len)
		return -ENOBUFS;
	memcpy(s->out + s->out_len, p, len);
	s->out_len += len;
	s->out_total += len;
	return 0;
}

static int
send_frame(struct sim *s, struct sframe *f)
{
	uint8_t wire[SFRAME_WIRE_MAX];
	int n;

	f->seq = s->seq++;
	if ((n = sframe_encode(f, wire, sizeof(wire))) < 0)
		return n;
	return sim_conc_put(s, wire, (size_t)n);
}

static void
log_hex(FILE *f, const uint8_t *p, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	char buf[2 * LINK_FRAME_MAX + 1];
	size_t i;

	for (i = 0; i < len; i++) {
		buf[2 * i] = hx[p[i] >> 4];
		buf[2 * i + 1] = hx[p[i] & 15];
	}
	buf[2 * len] = '\0';
	fputs(buf, f);
}

/* Log the records whose frames have fully left for the pty. */
static void
pending_flush(struct sim *s)
{
	char eui[17];
	struct sim_pending *pe;

	while (s->pend_count > 0) {
		pe = &s->pend[s->pend_head];
		if (pe->end > s->out_written)
			break;
		registry_format_eui(pe->eui, eui);
		fprintf(s->logf, "%s %" PRIu32 " ", eui, pe->fcnt);
		log_hex(s->logf, pe->payload, pe->len);
		/* The frame has just been written: its send time, on the
		 * clock a test's time.monotonic() reads. */
		if (s->o.log_time)
			fprintf(s->logf, " %" PRIu64, sim_now_us());
		fputc('\n', s->logf);
		s->pend_head = (s->pend_head + 1) % s->pend_cap;
		s->pend_count--;
	}
}

int
sim_conc_write(struct sim *s)
{
	ssize_t n;

	while (s->master >= 0 && s->out_len > s->out_head) {
		n = write(s->master, s->out + s->out_head,
		    s->out_len - s->out_head);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		s->out_head += (size_t)n;
		s->out_written += (uint64_t)n;
	}
	if (s->out_head == s->out_len)
		s->out_head = s->out_len = 0;
	if (s->logf != NULL)
		pending_flush(s);
	return 0;
}

void
sim_conc_record(struct sim *s, uint64_t eui, uint32_t fcnt,
    const uint8_t *payload, size_t len)
{
	struct sim_pending *pe;

	if (s->logf == NULL)
		return;
	if (s->pend_count == s->pend_cap) {
		/* Cannot happen: the ring holds a full queue. */
		fprintf(stderr, "sim: log ring full\n");
		exit(2);
	}
	pe = &s->pend[(s->pend_head + s->pend_count) % s->pend_cap];
	pe->end = s->out_total;
	if (s->o.dialect != SIM_DIALECT_FBSP)
		sim_module_record(s, pe);
	pe->eui = eui;
	pe->fcnt = fcnt;
	pe->len = (uint8_t)len;
	memcpy(pe->payload, payload, len);
	s->pend_count++;
}

/* --- packets received: RX frames up ---------------------------------- */

static const uint32_t eu868[] = { 868100000, 868300000, 868500000,
	867100000, 867300000, 867500000, 867700000, 867900000 };

/* Send one link frame as if node ni (or an unnamed radio, ni < 0) had
 * transmitted it. */
int
sim_conc_rx(struct sim *s, int ni, const uint8_t *frame, size_t len)
{
	struct sframe f;
	uint8_t sf = 9;
	int16_t rssi = -95;
	int r;

	if (s->o.dialect != SIM_DIALECT_FBSP)
		return sim_module_rx(s, ni, frame, len);
	if (ni >= 0) {
		sf = s->nodes[ni].sf;
		rssi = s->nodes[ni].rssi;
	}
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.u.rx.modulation = RADIO_MOD_LORA;
	f.u.rx.freq_hz = eu868[sim_rand_below(&s->rng, 8)];
	f.u.rx.datarate = sf;
	f.u.rx.bw_hz = 125000;
	f.u.rx.rssi_dbm = (int16_t)(rssi + (int)sim_rand_below(&s->rng, 7) - 3);
	f.u.rx.snr_db10 = (int16_t)(95 + rssi + (int)sim_rand_below(&s->rng,
	    40));
	if (f.u.rx.snr_db10 > 100)
		f.u.rx.snr_db10 = 100;
	f.u.rx.tmst_us = (uint32_t)sim_now_us();
	f.payload = frame;
	f.payload_len = len;
	if ((r = send_frame(s, &f)) == 0)
		s->st.frames_up++;
	return r;
}


/* --- frames from the gateway ------------------------------------------ */

void
sim_conc_status(struct sim *s, uint64_t now)
{
	struct sframe f;

	if (s->o.dialect != SIM_DIALECT_FBSP)
		return;		/* modules send no heartbeat */
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	f.u.status.uptime_s = (uint32_t)((now - s->start_ms) / 1000);
	f.u.status.rx_ok = (uint32_t)s->st.frames_up;
	f.u.status.rx_bad = 0;
	(void)send_frame(s, &f);
}

static void
send_error(struct sim *s, uint8_t code, const char *text)
{
	struct sframe f;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_ERROR;
	f.u.error.code = code;
	f.payload = (const uint8_t *)text;
	f.payload_len = strlen(text);
	(void)send_frame(s, &f);
}

static void
send_txr(struct sim *s, uint16_t id, uint8_t status)
{
	struct sframe f;

	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_RESULT;
	f.u.txr.id = id;
	f.u.txr.status = status;
	(void)send_frame(s, &f);
}

/* Transmit the held downlinks whose time has come. */
void
sim_conc_txq_run(struct sim *s, uint32_t tmst)
{
	unsigned int i;

	for (i = 0; i < s->ntxq; i++) {
		if ((int32_t)(tmst - s->txq[i].at) < 0)
			continue;
		send_txr(s, s->txq[i].id, SFRAME_TX_SENT);
		sim_node_downlink(s, s->txq[i].frame, s->txq[i].len);
		/* Keep the order of equal times: shift, do not swap. */
		memmove(&s->txq[i], &s->txq[i + 1],
		    (s->ntxq - i - 1) * sizeof(s->txq[0]));
		s->ntxq--;
		i--;
	}
}

static void
tx_request(struct sim *s, const struct sframe *f)
{
	uint32_t tmst = (uint32_t)sim_now_us();
	int32_t ahead = (int32_t)(f->u.tx.at_tmst_us - tmst);
	struct sim_txq *q;

	s->st.tx_req++;
	if (f->u.tx.at_tmst_us == 0) {
		send_txr(s, f->u.tx.id, SFRAME_TX_SENT);
		sim_node_downlink(s, f->payload, f->payload_len);
		return;
	}
	if (ahead < -(int32_t)SIM_TX_LATE_MAX_US) {
		send_txr(s, f->u.tx.id, SFRAME_TX_TOO_LATE);
		return;
	}
	if (ahead > (int32_t)SIM_TX_AHEAD_MAX_US) {
		send_txr(s, f->u.tx.id, SFRAME_TX_TOO_EARLY);
		return;
	}
	if (s->ntxq == SIM_TXQ_MAX || f->payload_len > sizeof(q->frame)) {
		send_txr(s, f->u.tx.id, SFRAME_TX_BUSY);
		return;
	}
	q = &s->txq[s->ntxq++];
	q->at = f->u.tx.at_tmst_us;
	q->id = f->u.tx.id;
	q->len = f->payload_len;
	memcpy(q->frame, f->payload, f->payload_len);
	sim_conc_txq_run(s, tmst);
}

static void
on_frame(void *arg, int verdict, const struct sframe *f)
{
	struct sim *s = arg;

	if (verdict != SFRAME_OK) {
		s->st.frames_bad_in++;
		send_error(s, SFRAME_EC_BAD_FRAME, sframe_strerror(verdict));
		return;
	}
	switch (f->kind) {
	case SFRAME_TX_REQ:
		tx_request(s, f);
		break;
	case SFRAME_RESET:
		/* The radio restarts: pending transmissions are aborted and
		 * our frame counter starts again.  Packets already received
		 * stay queued for the line, and nodes in the field are not
		 * affected. */
		s->st.resets++;
		while (s->ntxq > 0)
			send_txr(s, s->txq[--s->ntxq].id, SFRAME_TX_FAILED);
		s->seq = 0;
		(void)sim_conc_put(s, (const uint8_t *)"", 1);
		sim_conc_status(s, sim_now_ms());
		break;
	default:
		s->st.frames_bad_in++;
		send_error(s, SFRAME_EC_UNSUPPORTED, "frame kind not for a "
		    "concentrator");
		break;
	}
}


/* --- the pty and its link --------------------------------------------- */

int
sim_conc_open(struct sim *s)
{
	struct termios t;
	int fl;

	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master == -1)
		return -errno;
	if (grantpt(s->master) != 0 || unlockpt(s->master) != 0 ||
	    ptsname_r(s->master, s->slave_name, sizeof(s->slave_name)) != 0)
		return -errno;
	/* We keep the slave open ourselves: reads on the master then never
	 * fail with EIO while the daemon has it closed (between its
	 * reopens), and we set raw mode once for everyone. */
	s->slave = open(s->slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->slave == -1)
		return -errno;
	if (tcgetattr(s->slave, &t) != 0)
		return -errno;
	cfmakeraw(&t);
	(void)cfsetspeed(&t, B115200);
	if (tcsetattr(s->slave, TCSANOW, &t) != 0)
		return -errno;
	fl = fcntl(s->master, F_GETFL);
	if (fl == -1 || fcntl(s->master, F_SETFL, fl | O_NONBLOCK) == -1)
		return -errno;
	return 0;
}

int
sim_conc_link(const char *link, const char *target)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", link,
	    (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	if (symlink(target, tmp) != 0)
		return -errno;
	/* rename() replaces an old link atomically: a reader never sees the
	 * path missing. */
	if (rename(tmp, link) != 0) {
		int e = -errno;

		(void)unlink(tmp);
		return e;
	}
	return 0;
}

void
sim_conc_unlink(const char *link, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n;

	/* Only if it is still ours: another simulator may have taken it. */
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n < 0)
		return;
	buf[n] = '\0';
	if (strcmp(buf, target) == 0)
		(void)unlink(link);
}

/* --- the loop's calls -------------------------------------------------- */

void
sim_conc_start(struct sim *s)
{
	if (s->o.dialect != SIM_DIALECT_FBSP) {
		sim_module_start(s);
		return;
	}
	sframe_reader_init(&s->reader);
	/* A concentrator starts with a delimiter: it ends whatever partial
	 * frame the gateway may have buffered. */
	(void)sim_conc_put(s, (const uint8_t *)"", 1);
}

void
sim_conc_input(struct sim *s, const uint8_t *buf, size_t len)
{
	if (s->o.dialect != SIM_DIALECT_FBSP) {
		sim_module_input(s, buf, len);
		return;
	}
	sframe_reader_feed(&s->reader, buf, len, on_frame, s);
}
