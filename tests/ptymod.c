/*
 * ptymod.c - a text radio module played by the test on a real pty; see
 * ptymod.h.
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
#include <time.h>
#include <unistd.h>

#include "daemon/mono.h"
#include "tests/ptymod.h"

#define PTYMOD_WAIT_MS	2000

#define ptymod_real_ms	mono_ms

static void
ptymod_event(void *arg, const struct radio_event *ev)
{
	struct ptymod *m = arg;
	struct ptymod_ev *e;

	assert_true(m->nev < PTYMOD_EVENTS_MAX);
	e = &m->ev[m->nev++];
	memset(e, 0, sizeof(*e));
	e->type = (int)ev->type;
	switch (ev->type) {
	case RADIO_EV_DROP:
		e->drop = ev->u.drop;
		break;
	case RADIO_EV_TX_RESULT:
		e->txr_id = ev->u.txr.id;
		e->txr_status = ev->u.txr.status;
		break;
	case RADIO_EV_ERROR:
		snprintf(e->msg, sizeof(e->msg), "%s", ev->u.error.msg);
		if (getenv("PTYMOD_DEBUG") != NULL)
			fprintf(stderr, "ERROR event: %s\n", e->msg);
		break;
	case RADIO_EV_PORT_UP:
	case RADIO_EV_PORT_DOWN:
		e->port_err = ev->u.port.err;
		break;
	case RADIO_EV_RX:
		e->meta = ev->u.rx.meta;
		e->len = ev->u.rx.len;
		memcpy(e->payload, ev->u.rx.payload, ev->u.rx.len);
		if (m->on_rx != NULL)
			m->on_rx(m, e);
		break;
	default:
		break;
	}
}

static void
ptymod_new_pty(struct ptymod *m)
{
	char tmp[128];
	int slave;

	assert_int_equal(openpty(&m->master, &slave, m->slave, NULL, NULL), 0);
	close(slave);
	assert_int_equal(fcntl(m->master, F_SETFL, O_NONBLOCK), 0);
	snprintf(tmp, sizeof(tmp), "%s.new", m->link);
	(void)unlink(tmp);
	assert_int_equal(symlink(m->slave, tmp), 0);
	assert_int_equal(rename(tmp, m->link), 0);
	m->inlen = 0;
}

void
ptymod_init(struct ptymod *m, const struct radio_driver *drv,
    const struct radio_params *rp)
{
	memset(m, 0, sizeof(*m));
	m->master = -1;
	snprintf(m->dir, sizeof(m->dir), "/tmp/fb-test-mod-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->link, sizeof(m->link), "%s/mod0", m->dir);
	ptymod_new_pty(m);
	m->port = radio_port_new("mod0", m->link, drv->baud, drv,
	    ptymod_event, m);
	assert_non_null(m->port);
	if (rp != NULL)
		radio_port_set_params(m->port, rp);
	m->now = 1000;
	assert_int_equal(radio_port_open(m->port, m->now), 0);
}

void
ptymod_done(struct ptymod *m)
{
	radio_port_free(m->port);
	if (m->master >= 0)
		close(m->master);
	(void)unlink(m->link);
	(void)rmdir(m->dir);
}

void
ptymod_unplug(struct ptymod *m)
{
	close(m->master);
	m->master = -1;
	(void)unlink(m->link);
}

void
ptymod_replug(struct ptymod *m)
{
	ptymod_new_pty(m);
}

/* One poll round of at most wait_ms. */
static void
ptymod_round(struct ptymod *m, int wait_ms)
{
	struct pollfd pfd[2];
	ssize_t n;

	pfd[0].fd = radio_port_fd(m->port);
	pfd[0].events = radio_port_events(m->port);
	pfd[0].revents = 0;
	pfd[1].fd = m->master;
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	if (poll(pfd, 2, wait_ms) < 0)
		return;
	if (pfd[0].revents != 0)
		radio_port_handle(m->port, pfd[0].revents, m->now);
	if (m->master >= 0 && (pfd[1].revents & POLLIN) &&
	    m->inlen < sizeof(m->in)) {
		n = read(m->master, m->in + m->inlen, sizeof(m->in) - m->inlen);
		if (n > 0)
			m->inlen += (size_t)n;
	}
}

void
ptymod_pump(struct ptymod *m, unsigned int ms)
{
	uint64_t until = ptymod_real_ms() + ms;

	do
		ptymod_round(m, 5);
	while (ptymod_real_ms() < until);
}

void
ptymod_tick(struct ptymod *m, unsigned int ms)
{
	m->now += ms;
	(void)radio_port_tick(m->port, m->now);
	ptymod_pump(m, 20);
}

void
ptymod_write(struct ptymod *m, const void *buf, size_t len)
{
	assert_int_equal(write(m->master, buf, len), (ssize_t)len);
}

void
ptymod_say(struct ptymod *m, const char *line)
{
	ptymod_write(m, line, strlen(line));
	ptymod_write(m, "\r\n", 2);
	ptymod_pump(m, 10);
}

static void
ptymod_consume(struct ptymod *m, size_t n)
{
	memmove(m->in, m->in + n, m->inlen - n);
	m->inlen -= n;
}

void
ptymod_expect(struct ptymod *m, const char *line)
{
	uint64_t until = ptymod_real_ms() + PTYMOD_WAIT_MS;
	uint8_t *nl;
	size_t n;
	char got[1024];

	for (;;) {
		nl = memchr(m->in, '\n', m->inlen);
		if (nl != NULL)
			break;
		if (ptymod_real_ms() > until) {
			print_error("expected \"%s\", got %zu bytes without "
			    "a line end\n", line, m->inlen);
			fail();
		}
		ptymod_round(m, 5);
	}
	n = (size_t)(nl - m->in);
	if (n > 0 && m->in[n - 1] == '\r')
		n--;
	assert_true(n < sizeof(got));
	memcpy(got, m->in, n);
	got[n] = '\0';
	ptymod_consume(m, (size_t)(nl - m->in) + 1);
	assert_string_equal(got, line);
}

void
ptymod_expect_raw(struct ptymod *m, const void *buf, size_t len)
{
	uint64_t until = ptymod_real_ms() + PTYMOD_WAIT_MS;

	while (m->inlen < len && ptymod_real_ms() < until)
		ptymod_round(m, 5);
	assert_true(m->inlen >= len);
	assert_memory_equal(m->in, buf, len);
	ptymod_consume(m, len);
}

void
ptymod_expect_quiet(struct ptymod *m)
{
	ptymod_pump(m, 50);
	if (m->inlen > 0) {
		print_error("unexpected output: %.*s\n", (int)m->inlen,
		    (const char *)m->in);
		fail();
	}
}

void
ptymod_dialog(struct ptymod *m, const char *const *pairs)
{
	size_t i;

	for (i = 0; pairs[i] != NULL; i += 2) {
		ptymod_expect(m, pairs[i]);
		if (pairs[i + 1] != NULL)
			ptymod_say(m, pairs[i + 1]);
	}
}

size_t
ptymod_count(const struct ptymod *m, size_t from, int type)
{
	size_t i, c = 0;

	for (i = from; i < m->nev; i++)
		if (m->ev[i].type == type)
			c++;
	return c;
}

const struct ptymod_ev *
ptymod_last(const struct ptymod *m, int type)
{
	size_t i;

	for (i = m->nev; i > 0; i--)
		if (m->ev[i - 1].type == type)
			return &m->ev[i - 1];
	return NULL;
}

const struct ptymod_ev *
ptymod_wait(struct ptymod *m, size_t from, int type)
{
	uint64_t until = ptymod_real_ms() + PTYMOD_WAIT_MS;

	while (ptymod_count(m, from, type) == 0 && ptymod_real_ms() < until)
		ptymod_round(m, 5);
	assert_true(ptymod_count(m, from, type) > 0);
	return ptymod_last(m, type);
}

void
ptymod_replug_cycle(struct ptymod *m)
{
	size_t mark = m->nev;

	ptymod_unplug(m);
	ptymod_pump(m, 50);
	assert_int_equal(ptymod_count(m, mark, RADIO_EV_PORT_DOWN), 1);
	ptymod_tick(m, 1000);		/* the path is missing: retry */
	ptymod_replug(m);
	ptymod_tick(m, 10000);
	assert_int_equal(ptymod_count(m, mark, RADIO_EV_PORT_UP), 1);
}

void
ptymod_reopen_after_silence(struct ptymod *m, unsigned int timeout_ms)
{
	size_t mark = m->nev;

	ptymod_tick(m, timeout_ms);
	assert_int_equal(ptymod_count(m, mark, RADIO_EV_PORT_DOWN), 1);
	assert_int_equal(ptymod_last(m, RADIO_EV_PORT_DOWN)->port_err,
	    ETIMEDOUT);
	ptymod_tick(m, 1000);
	assert_int_equal(ptymod_count(m, mark, RADIO_EV_PORT_UP), 1);
}
