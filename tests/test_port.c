/*
 * test_port.c - the serial line and port logic on real pseudo-terminals:
 * serial_open() on a pty slave and on a symlink to it, FBSP events from
 * bytes written to the master, TX requests coming out of the master,
 * hang-up -> PORT_DOWN -> reopen by path after back-off, and the heartbeat
 * timeout.  The test plays the concentrator on the master side.  Time is
 * passed in explicitly, so back-off and timeouts are tested without sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "radio/port.h"
#include "radio/radio.h"
#include "radio/serial.h"
#include "radio/sframe.h"

extern const struct radio_driver drv_fbsp;

/* One simulated concentrator: a pty master, reachable through a symlink
 * that can be re-pointed, like /dev/serial/by-id after a re-plug. */
struct conc {
	char	dir[64];
	char	link[96];
	char	slave[64];
	int	master;
};

struct rec {
	int			types[64];
	int			errs[64];
	uint32_t		retry[64];
	size_t			n;
	struct radio_meta	rx_meta;
	uint8_t			rx_payload[RADIO_PAYLOAD_MAX];
	size_t			rx_len;
	uint32_t		uptime;
	uint16_t		txr_id;
	char			errmsg[SFRAME_TEXT_MAX + 1];
};

static void
record(void *arg, const struct radio_event *ev)
{
	struct rec *r = arg;

	assert_true(r->n < 64);
	r->types[r->n] = (int)ev->type;
	r->errs[r->n] = ev->type == RADIO_EV_DROP ? ev->u.drop :
	    (ev->type == RADIO_EV_PORT_DOWN || ev->type == RADIO_EV_PORT_UP) ?
	    ev->u.port.err : 0;
	r->retry[r->n] = ev->type == RADIO_EV_PORT_DOWN ?
	    ev->u.port.retry_ms : 0;
	r->n++;
	switch (ev->type) {
	case RADIO_EV_RX:
		r->rx_meta = ev->u.rx.meta;
		r->rx_len = ev->u.rx.len;
		if (ev->u.rx.len > 0)
			memcpy(r->rx_payload, ev->u.rx.payload,
			    ev->u.rx.len);
		break;
	case RADIO_EV_STATUS:
		r->uptime = ev->u.status.uptime_s;
		break;
	case RADIO_EV_TX_RESULT:
		r->txr_id = ev->u.txr.id;
		break;
	case RADIO_EV_ERROR:
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", ev->u.error.msg);
		break;
	default:
		break;
	}
}

static size_t
count(const struct rec *r, int type)
{
	size_t i, c = 0;

	for (i = 0; i < r->n; i++)
		if (r->types[i] == type)
			c++;
	return c;
}

static int
last_type(const struct rec *r)
{
	return r->n > 0 ? r->types[r->n - 1] : -1;
}

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
conc_new_pty(struct conc *c)
{
	char tmp[128];
	int slave;

	assert_int_equal(openpty(&c->master, &slave, c->slave, NULL, NULL), 0);
	/* The port opens the slave by path; the test keeps no slave fd,
	 * so closing the master is a real hang-up. */
	close(slave);
	assert_int_equal(fcntl(c->master, F_SETFL, O_NONBLOCK), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", c->link);
	(void)unlink(tmp);
	assert_int_equal(symlink(c->slave, tmp), 0);
	assert_int_equal(rename(tmp, c->link), 0);
}

static void
conc_init(struct conc *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/fb-test-port-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->link, sizeof(c->link), "%s/lora0", c->dir);
	conc_new_pty(c);
}

static void
conc_done(struct conc *c)
{
	if (c->master >= 0)
		close(c->master);
	(void)unlink(c->link);
	(void)rmdir(c->dir);
}

static void
conc_write(struct conc *c, const void *buf, size_t len)
{
	assert_int_equal(write(c->master, buf, len), (ssize_t)len);
}

static void
conc_send(struct conc *c, const struct sframe *f)
{
	uint8_t wire[SFRAME_WIRE_MAX];
	int n;

	n = sframe_encode(f, wire, sizeof(wire));
	assert_true(n > 0);
	conc_write(c, wire, (size_t)n);
}

/* What the gateway wrote, as frames. */
struct got {
	struct sframe	f[8];
	uint8_t		payload[8][RADIO_PAYLOAD_MAX];
	size_t		n;
	size_t		bad;
};

static void
got_frame(void *arg, int verdict, const struct sframe *f)
{
	struct got *g = arg;

	if (verdict != SFRAME_OK) {
		g->bad++;
		return;
	}
	assert_true(g->n < 8);
	g->f[g->n] = *f;
	if (f->payload_len > 0)
		memcpy(g->payload[g->n], f->payload, f->payload_len);
	g->f[g->n].payload = g->payload[g->n];
	g->n++;
}

/*
 * Run the port's poll round until cond holds or 2 s of real time pass,
 * reading the master side into g when given.  now is the port's clock.
 */
static void
pump(struct radio_port *p, struct conc *c, struct sframe_reader *rd,
    struct got *g, uint64_t now, int (*cond)(void *), void *arg)
{
	uint64_t until = real_ms() + 2000;
	struct pollfd pfd[2];
	uint8_t buf[1024];
	ssize_t n;

	while (!cond(arg) && real_ms() < until) {
		pfd[0].fd = radio_port_fd(p);
		pfd[0].events = radio_port_events(p);
		pfd[0].revents = 0;
		pfd[1].fd = g != NULL ? c->master : -1;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		if (poll(pfd, 2, 20) < 0)
			break;
		if (pfd[0].revents != 0)
			radio_port_handle(p, pfd[0].revents, now);
		if (g != NULL && (pfd[1].revents & POLLIN)) {
			n = read(c->master, buf, sizeof(buf));
			if (n > 0)
				sframe_reader_feed(rd, buf, (size_t)n,
				    got_frame, g);
		}
	}
}

struct want {
	const struct rec	*r;
	const struct got	*g;
	size_t			 events;
	size_t			 frames;
};

static int
have(void *arg)
{
	const struct want *w = arg;

	return (w->r == NULL || w->r->n >= w->events) &&
	    (w->g == NULL || w->g->n >= w->frames);
}

static void
test_serial_open_pty_and_symlink(void **state)
{
	struct termios t;
	struct conc c;
	char file[128];
	int fd, fl;

	conc_init(&c);
	fd = serial_open(c.slave, 115200);
	assert_true(fd >= 0);
	fl = fcntl(fd, F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetispeed(&t), B115200);
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_false(t.c_cflag & (PARENB | CSTOPB | CRTSCTS));
	assert_true(t.c_cflag & CLOCAL);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	assert_false(t.c_iflag & (IXON | IXOFF | ICRNL));
	assert_false(t.c_oflag & OPOST);
	/* Raw: a 0x00, a CR and a ^C reach the other side untouched. */
	conc_write(&c, "\x00\r\x03\n", 4);
	{
		uint8_t b[8];
		ssize_t n = -1;
		struct pollfd pfd = { fd, POLLIN, 0 };

		assert_int_equal(poll(&pfd, 1, 2000), 1);
		n = read(fd, b, sizeof(b));
		assert_int_equal(n, 4);
		assert_memory_equal(b, "\x00\r\x03\n", 4);
	}
	close(fd);

	/* The same through a symlink, as /dev/serial/by-id/... are. */
	fd = serial_open(c.link, 9600);
	assert_true(fd >= 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetospeed(&t), B9600);
	assert_int_equal(serial_configure(fd, 921600), 0);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(cfgetospeed(&t), B921600);
	assert_int_equal(serial_configure(fd, 12345), -EINVAL);
	close(fd);

	assert_int_equal(serial_open(c.link, 12345), -EINVAL);
	assert_int_equal(serial_open(c.link, 0), -EINVAL);
	snprintf(file, sizeof(file), "%s/plain", c.dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(serial_open(file, 115200), -ENOTTY);
	unlink(file);
	snprintf(file, sizeof(file), "%s/absent", c.dir);
	assert_int_equal(serial_open(file, 115200), -ENOENT);
	/* A pty has no USB identity; a missing path has none either. */
	{
		char d[128];

		assert_true(serial_describe(c.link, d, sizeof(d)) < 0);
		assert_string_equal(d, "");
		assert_int_equal(serial_describe(file, d, sizeof(d)), -ENOENT);
	}
	conc_done(&c);
}

static void
test_serial_list_runs(void **state)
{
	FILE *f = fopen("/dev/null", "w");

	assert_non_null(f);
	/* Whatever this machine has: no error, a count. */
	assert_true(serial_list(f) >= 0);
	fclose(f);
}

/* Open a port on c's symlink at time now and let the RESET out. */
static struct radio_port *
open_port(struct conc *c, struct rec *r, struct sframe_reader *rd,
    struct got *g, uint64_t now)
{
	struct radio_port *p;
	struct want w = { NULL, g, 0, 1 };

	p = radio_port_new("lora0", c->link, 115200, &drv_fbsp, record, r);
	assert_non_null(p);
	assert_false(radio_port_is_open(p));
	assert_int_equal(radio_port_fd(p), -1);
	assert_true(radio_port_tick(p, now) > 0);
	assert_true(radio_port_is_open(p));
	assert_int_equal(last_type(r), RADIO_EV_PORT_UP);
	assert_true(radio_port_events(p) & POLLOUT);
	w.frames = g->n + 1;
	pump(p, c, rd, g, now, have, &w);
	assert_int_equal(g->n, w.frames);
	assert_int_equal(g->f[g->n - 1].kind, SFRAME_RESET);
	assert_int_equal(g->f[g->n - 1].seq, 0);
	assert_false(radio_port_events(p) & POLLOUT);
	return p;
}

static void
test_port_events_and_tx(void **state)
{
	static const uint8_t pl[] = { 0x00, 0x40, 0x00, 0x99 };
	/* Valid COBS, seven bytes, wrong CRC. */
	static const uint8_t garbage[] = { 0x08, 1, 2, 3, 4, 5, 6, 7, 0x00 };
	struct sframe_reader rd;
	struct radio_port *p;
	struct radio_tx tx;
	struct sframe f;
	struct conc c;
	struct rec r;
	struct got g;
	struct want w = { &r, NULL, 0, 0 };

	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	sframe_reader_init(&rd);
	conc_init(&c);
	p = open_port(&c, &r, &rd, &g, 1000);

	/* The concentrator answers RESET with STATUS, then a packet. */
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	f.u.status.uptime_s = 77;
	conc_send(&c, &f);
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RX;
	f.seq = 1;
	f.u.rx.modulation = RADIO_MOD_OOK;
	f.u.rx.freq_hz = 433920000;
	f.u.rx.datarate = 4800;
	f.u.rx.bw_hz = 200000;
	f.u.rx.rssi_dbm = -97;
	f.u.rx.snr_db10 = 12;
	f.u.rx.tmst_us = 123456;
	f.payload = pl;
	f.payload_len = sizeof(pl);
	conc_send(&c, &f);
	w.events = r.n + 3;	/* READY, STATUS, RX */
	pump(p, &c, NULL, NULL, 1000, have, &w);
	assert_int_equal(r.n, w.events);
	assert_int_equal(r.types[r.n - 3], RADIO_EV_READY);
	assert_int_equal(r.types[r.n - 2], RADIO_EV_STATUS);
	assert_int_equal(r.types[r.n - 1], RADIO_EV_RX);
	assert_int_equal(r.uptime, 77);
	assert_int_equal(r.rx_meta.modulation, RADIO_MOD_OOK);
	assert_int_equal(r.rx_meta.freq_hz, 433920000);
	assert_int_equal(r.rx_meta.rssi_dbm, -97);
	assert_int_equal(r.rx_meta.tmst_us, 123456);
	assert_int_equal(r.rx_len, sizeof(pl));
	assert_memory_equal(r.rx_payload, pl, sizeof(pl));
	assert_int_equal(radio_port_stats(p)->rx_packets, 1);

	/* Garbage and a frame only a gateway may send are dropped and
	 * counted by reason. */
	conc_write(&c, garbage, sizeof(garbage));
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_RESET;
	conc_send(&c, &f);
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_ERROR;
	f.u.error.code = SFRAME_EC_RADIO;
	f.payload = (const uint8_t *)"bad\x1b[31m\nline";
	f.payload_len = 13;
	conc_send(&c, &f);
	w.events = r.n + 3;
	pump(p, &c, NULL, NULL, 1000, have, &w);
	assert_int_equal(r.types[r.n - 3], RADIO_EV_DROP);
	assert_int_equal(r.errs[r.n - 3], SFRAME_ERR_CRC);
	assert_int_equal(r.types[r.n - 2], RADIO_EV_DROP);
	assert_int_equal(r.errs[r.n - 2], SFRAME_ERR_KIND);
	assert_int_equal(r.types[r.n - 1], RADIO_EV_ERROR);
	assert_string_equal(r.errmsg, "bad?[31m?line");
	assert_int_equal(radio_port_stats(p)->drops[-SFRAME_ERR_CRC], 1);
	assert_int_equal(radio_port_stats(p)->drops[-SFRAME_ERR_KIND], 1);

	/* A downlink comes out of the master as a TX_REQ. */
	memset(&tx, 0, sizeof(tx));
	tx.id = 0xbeef;
	tx.meta.modulation = RADIO_MOD_LORA;
	tx.meta.freq_hz = 869525000;
	tx.meta.datarate = 12;
	tx.meta.bw_hz = 125000;
	tx.power_dbm = -3;
	tx.at_tmst_us = 1000000;
	tx.payload = pl;
	tx.len = sizeof(pl);
	assert_int_equal(radio_port_transmit(p, &tx), 0);
	{
		struct want wg = { NULL, &g, 0, g.n + 1 };

		pump(p, &c, &rd, &g, 1000, have, &wg);
	}
	assert_int_equal(g.n, 2);
	assert_int_equal(g.bad, 0);
	assert_int_equal(g.f[1].kind, SFRAME_TX_REQ);
	assert_int_equal(g.f[1].seq, 1);
	assert_int_equal(g.f[1].u.tx.id, 0xbeef);
	assert_int_equal(g.f[1].u.tx.meta.freq_hz, 869525000);
	assert_int_equal(g.f[1].u.tx.meta.datarate, 12);
	assert_int_equal(g.f[1].u.tx.power_dbm, -3);
	assert_int_equal(g.f[1].u.tx.at_tmst_us, 1000000);
	assert_int_equal(g.f[1].payload_len, sizeof(pl));
	assert_memory_equal(g.f[1].payload, pl, sizeof(pl));

	/* Its result comes back as an event. */
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_TX_RESULT;
	f.u.txr.id = 0xbeef;
	conc_send(&c, &f);
	w.events = r.n + 1;
	pump(p, &c, NULL, NULL, 1000, have, &w);
	assert_int_equal(last_type(&r), RADIO_EV_TX_RESULT);
	assert_int_equal(r.txr_id, 0xbeef);

	/* Oversized downlinks are refused before they reach the queue. */
	tx.len = RADIO_PAYLOAD_MAX + 1;
	assert_int_equal(radio_port_transmit(p, &tx), -EINVAL);
	assert_true(radio_port_stats(p)->bytes_in > 0);
	assert_true(radio_port_stats(p)->bytes_out > 0);
	assert_int_equal(radio_port_stats(p)->reopens, 0);

	radio_port_free(p);
	conc_done(&c);
}

static void
test_port_hangup_reopens_by_path(void **state)
{
	struct sframe_reader rd;
	struct radio_port *p;
	struct radio_tx tx;
	struct sframe f;
	struct conc c;
	struct rec r;
	struct got g;
	struct want w = { &r, NULL, 0, 0 };
	uint64_t now = 5000;
	size_t downs;

	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	sframe_reader_init(&rd);
	conc_init(&c);
	p = open_port(&c, &r, &rd, &g, now);
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	conc_send(&c, &f);
	w.events = r.n + 2;	/* READY, STATUS */
	pump(p, &c, NULL, NULL, now, have, &w);
	assert_int_equal(last_type(&r), RADIO_EV_STATUS);

	/* The concentrator goes away: the port notices and closes. */
	close(c.master);
	c.master = -1;
	w.events = r.n + 1;
	pump(p, &c, NULL, NULL, now, have, &w);
	assert_int_equal(last_type(&r), RADIO_EV_PORT_DOWN);
	assert_int_equal(r.errs[r.n - 1], EIO);
	assert_int_equal(r.retry[r.n - 1], PORT_BACKOFF_MIN_MS);
	assert_false(radio_port_is_open(p));
	assert_int_equal(radio_port_fd(p), -1);
	assert_int_equal(radio_port_events(p), 0);
	memset(&tx, 0, sizeof(tx));
	assert_int_equal(radio_port_transmit(p, &tx), -ENOTCONN);

	/* Not before the back-off. */
	assert_int_equal(radio_port_tick(p, now + 50), PORT_BACKOFF_MIN_MS - 50);
	assert_false(radio_port_is_open(p));

	/* The link still points at the dead slave: the open fails once,
	 * reported once, and the back-off grows. */
	downs = count(&r, RADIO_EV_PORT_DOWN);
	now += PORT_BACKOFF_MIN_MS;
	assert_int_equal(radio_port_tick(p, now), 2 * PORT_BACKOFF_MIN_MS);
	assert_false(radio_port_is_open(p));
	assert_int_equal(count(&r, RADIO_EV_PORT_DOWN), downs + 1);
	assert_true(r.errs[r.n - 1] > 0);
	now += 2 * PORT_BACKOFF_MIN_MS;
	assert_int_equal(radio_port_tick(p, now), 4 * PORT_BACKOFF_MIN_MS);
	assert_int_equal(count(&r, RADIO_EV_PORT_DOWN), downs + 1);

	/* A new pty behind the same path, as after a re-plug. */
	conc_new_pty(&c);
	assert_true(radio_port_tick(p, now + 100) > 0);
	assert_false(radio_port_is_open(p));
	now += 4 * PORT_BACKOFF_MIN_MS;
	assert_true(radio_port_tick(p, now) > 0);
	assert_true(radio_port_is_open(p));
	assert_int_equal(last_type(&r), RADIO_EV_PORT_UP);
	assert_int_equal(radio_port_stats(p)->reopens, 1);

	/* It sends RESET again, and the new concentrator is heard. */
	{
		struct sframe_reader rd2;
		struct got g2;
		struct want wg = { NULL, &g2, 0, 1 };

		memset(&g2, 0, sizeof(g2));
		sframe_reader_init(&rd2);
		pump(p, &c, &rd2, &g2, now, have, &wg);
		assert_int_equal(g2.n, 1);
		assert_int_equal(g2.f[0].kind, SFRAME_RESET);
	}
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	f.u.status.uptime_s = 1;
	conc_send(&c, &f);
	w.events = r.n + 2;
	pump(p, &c, NULL, NULL, now, have, &w);
	assert_int_equal(r.types[r.n - 2], RADIO_EV_READY);
	assert_int_equal(last_type(&r), RADIO_EV_STATUS);
	assert_int_equal(r.uptime, 1);

	radio_port_free(p);
	conc_done(&c);
}

static void
test_port_heartbeat_timeout_reopens(void **state)
{
	struct sframe_reader rd;
	struct radio_port *p;
	struct sframe f;
	struct conc c;
	struct rec r;
	struct got g;
	struct want w = { &r, NULL, 0, 0 };
	uint64_t t0 = 100000;
	int next;

	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	sframe_reader_init(&rd);
	conc_init(&c);
	p = open_port(&c, &r, &rd, &g, t0);

	/* A STATUS at +10 s keeps it alive until +30 s. */
	assert_int_equal(radio_port_tick(p, t0 + 9000), 1000);
	memset(&f, 0, sizeof(f));
	f.kind = SFRAME_STATUS;
	conc_send(&c, &f);
	w.events = r.n + 2;
	pump(p, &c, NULL, NULL, t0 + 10000, have, &w);
	assert_int_equal(last_type(&r), RADIO_EV_STATUS);
	assert_int_equal(radio_port_tick(p, t0 + 10000), 1000);
	assert_int_equal(radio_port_tick(p, t0 + 29999), 1000);
	assert_true(radio_port_is_open(p));

	/* Then silence: declared dead at 20 s, closed, reopened. */
	next = radio_port_tick(p, t0 + 30000);
	assert_false(radio_port_is_open(p));
	assert_int_equal(last_type(&r), RADIO_EV_PORT_DOWN);
	assert_int_equal(r.errs[r.n - 1], ETIMEDOUT);
	assert_int_equal(next, PORT_BACKOFF_MIN_MS);
	assert_true(radio_port_tick(p, t0 + 30000 + (uint64_t)next) > 0);
	assert_true(radio_port_is_open(p));
	assert_int_equal(last_type(&r), RADIO_EV_PORT_UP);
	assert_int_equal(radio_port_stats(p)->reopens, 1);
	{
		struct want wg = { NULL, &g, 0, g.n + 1 };

		pump(p, &c, &rd, &g, t0 + 30000, have, &wg);
		assert_int_equal(g.f[g.n - 1].kind, SFRAME_RESET);
	}

	/* A concentrator that never answers: the back-off keeps growing. */
	next = radio_port_tick(p, t0 + 30000 + 200 + 20000);
	assert_false(radio_port_is_open(p));
	assert_int_equal(next, 2 * PORT_BACKOFF_MIN_MS);

	radio_port_free(p);
	conc_done(&c);
}

static int
failing_opener(void *arg, const char *path, unsigned int baud)
{
	int *calls = arg;

	(*calls)++;
	return -EACCES;
}

static void
test_port_opener_and_backoff_cap(void **state)
{
	struct radio_port *p;
	struct rec r;
	uint64_t now = 0;
	int calls = 0, i, next = 0;

	memset(&r, 0, sizeof(r));
	p = radio_port_new("x", "/nonexistent", 115200, &drv_fbsp, record, &r);
	assert_non_null(p);
	assert_string_equal(radio_port_name(p), "x");
	radio_port_set_opener(p, failing_opener, &calls);
	assert_int_equal(radio_port_open(p, now), -EACCES);
	assert_int_equal(calls, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.types[0], RADIO_EV_PORT_DOWN);
	assert_int_equal(r.errs[0], EACCES);
	for (i = 0; i < 20; i++) {
		now += (uint64_t)(next > 0 ? next : 0);
		next = radio_port_tick(p, now);
		assert_true(next >= PORT_BACKOFF_MIN_MS &&
		    next <= PORT_BACKOFF_MAX_MS);
	}
	assert_int_equal(next, PORT_BACKOFF_MAX_MS);
	assert_int_equal(r.n, 1);	/* the same failure is reported once */
	radio_port_free(p);
	radio_port_free(NULL);
}

/*
 * Every driver built in names each of its drop verdicts: the names become
 * the daemon's drop counters (daemon/loop.c), keys of its status file, so
 * they must fit the port's counters, be distinct, be usable as a key, and
 * leave "other" to the verdicts outside the table.
 */
static void
test_drivers_name_their_drop_verdicts(void **state)
{
	const struct radio_driver *const *drv = radio_drivers();
	const char *name;
	size_t k, i, j;

	(void)state;
	for (k = 0; drv[k] != NULL; k++) {
		assert_true(drv[k]->ndrops <= RADIO_DROPS_MAX);
		assert_true(drv[k]->ndrops == 0 || drv[k]->drop_names != NULL);
		for (i = 1; i < drv[k]->ndrops; i++) {
			name = drv[k]->drop_names[i];
			assert_non_null(name);
			assert_true(name[0] != '\0');
			assert_int_equal(strspn(name,
			    "abcdefghijklmnopqrstuvwxyz0123456789_"),
			    strlen(name));
			assert_string_not_equal(name, "other");
			for (j = 1; j < i; j++)
				assert_string_not_equal(name,
				    drv[k]->drop_names[j]);
		}
	}
	/* The FBSP driver's, which the status file has always carried. */
	assert_int_equal(drv_fbsp.ndrops, SFRAME_VERDICT_COUNT);
	assert_string_equal(drv_fbsp.drop_names[-SFRAME_ERR_CRC], "crc");
	assert_string_equal(drv_fbsp.drop_names[-SFRAME_ERR_LENGTH], "length");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_open_pty_and_symlink),
		cmocka_unit_test(test_serial_list_runs),
		cmocka_unit_test(test_port_events_and_tx),
		cmocka_unit_test(test_port_hangup_reopens_by_path),
		cmocka_unit_test(test_port_heartbeat_timeout_reopens),
		cmocka_unit_test(test_port_opener_and_backoff_cap),
		cmocka_unit_test(test_drivers_name_their_drop_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
