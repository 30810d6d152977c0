/*
 * tline.c - the line reader and command queue of text-command modules
 * (Microchip RN2483/RN2903, RAKwireless RUI3), below their drivers.
 *
 * Both dialects end every line with CR LF (RN2483: firmware 1.0.5
 * parser.c; RUI3: atcmd.c prints "\r\nOK\r\n").  The reader ends a line at
 * LF and drops CR, so a module that sends LF alone is read too; a line may
 * arrive split at any byte over any number of reads.  Empty lines are
 * skipped (RUI3 puts one before every reply).  A line longer than
 * TLINE_LINE_MAX is dropped whole, reported once, and reading resumes at
 * the next LF; a line holding a byte outside printable ASCII is reported
 * as binary: line noise, or the module talking at another baud rate, which
 * the driver tells apart by counting them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "radio/sframe.h"
#include "radio/tline.h"

void
tline_reader_init(struct tline_reader *r)
{
	r->len = 0;
	r->skipping = 0;
	r->binary = 0;
}

static void
tline_end(struct tline_reader *r, tline_fn *fn, void *arg)
{
	if (r->skipping)
		r->skipping = 0;	/* reported when it began */
	else if (r->binary)
		fn(arg, TLINE_ERR_BINARY, NULL, 0);
	else if (r->len > 0) {
		r->buf[r->len] = '\0';
		fn(arg, TLINE_OK, r->buf, r->len);
	}
	r->len = 0;
	r->binary = 0;
}

void
tline_feed(struct tline_reader *r, const uint8_t *p, size_t n, tline_fn *fn,
    void *arg)
{
	size_t i;
	uint8_t c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '\n') {
			tline_end(r, fn, arg);
			continue;
		}
		if (c == '\r' || r->skipping)
			continue;
		if (r->len == TLINE_LINE_MAX) {
			r->skipping = 1;
			r->len = 0;
			r->binary = 0;
			fn(arg, TLINE_ERR_LONG, NULL, 0);
			continue;
		}
		if (c < 0x20 || c > 0x7e)
			r->binary = 1;
		r->buf[r->len++] = (char)c;
	}
}

void
tline_cmdq_init(struct tline_cmdq *q, uint64_t now_ms)
{
	memset(q, 0, sizeof(*q));
	q->now_ms = now_ms;
	q->sent_ms = now_ms;
}

int
tline_cmdq_add(struct tline_cmdq *q, int front, int kind, uint16_t id,
    const char *fmt, ...)
{
	struct tline_cmd *c;
	va_list ap;
	unsigned int slot;
	int n;

	if (q->n == TLINE_QUEUE_MAX)
		return -ENOBUFS;
	if (front) {
		q->head = (q->head + TLINE_QUEUE_MAX - 1) % TLINE_QUEUE_MAX;
		slot = q->head;
	} else
		slot = (q->head + q->n) % TLINE_QUEUE_MAX;
	c = &q->q[slot];
	va_start(ap, fmt);
	n = vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(c->text)) {
		if (front)
			q->head = (q->head + 1) % TLINE_QUEUE_MAX;
		return -EINVAL;
	}
	c->kind = kind;
	c->id = id;
	q->n++;
	return 0;
}

int
tline_cmdq_next(const struct tline_cmdq *q)
{
	return q->n > 0 ? q->q[q->head].kind : 0;
}

unsigned int
tline_cmdq_count(const struct tline_cmdq *q, int kind)
{
	unsigned int i, c = 0;

	for (i = 0; i < q->n; i++)
		if (q->q[(q->head + i) % TLINE_QUEUE_MAX].kind == kind)
			c++;
	return c;
}

int
tline_cmdq_send(struct tline_cmdq *q, struct radio_out *out)
{
	struct tline_cmd *c;
	size_t len;

	if (q->busy || q->n == 0)
		return 1;
	c = &q->q[q->head];
	len = strlen(c->text);
	/* Both dialects take CR LF; the whole command or nothing. */
	if (len + 2 > sizeof(out->buf) - out->len)
		return -ENOBUFS;
	(void)radio_out_put(out, c->text, len);
	(void)radio_out_put(out, "\r\n", 2);
	q->cur = *c;
	q->head = (q->head + 1) % TLINE_QUEUE_MAX;
	q->n--;
	q->busy = 1;
	q->sent_ms = q->now_ms;
	return 0;
}

void
tline_cmdq_done(struct tline_cmdq *q)
{
	q->busy = 0;
}

void
tline_cmdq_clear(struct tline_cmdq *q)
{
	q->n = 0;
	q->head = 0;
	q->busy = 0;
}

int
tline_cmdq_expired(struct tline_cmdq *q, uint64_t now_ms, uint32_t timeout_ms)
{
	q->now_ms = now_ms;
	if (!q->busy)
		return 0;
	return now_ms > q->sent_ms && now_ms - q->sent_ms >= timeout_ms;
}

static int
tline_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tline_hex_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t i;
	int hi, lo;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = tline_nibble(s[2 * i]);
		lo = tline_nibble(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(n / 2);
}

void
tline_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int
tline_int(const char *s, size_t n, long long lo, long long hi, long long *v)
{
	size_t i = 0;
	long long x = 0;
	int neg = 0;

	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	/* At most 18 digits: no overflow in 64 bits. */
	if (i == n || n - i > 18)
		return -EINVAL;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (s[i] - '0');
	}
	if (neg)
		x = -x;
	if (x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

const char *
tline_text(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < cap && s[i] != '\0'; i++)
		dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	dst[i] = '\0';
	return dst;
}

void
tline_emit(struct tline_sink *k, const struct radio_event *ev)
{
	if (k->cb != NULL)
		k->cb(k->arg, ev);
}

void
tline_emit_drop(struct tline_sink *k, int verdict)
{
	struct radio_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_DROP;
	ev.u.drop = verdict;
	tline_emit(k, &ev);
}

void
tline_emit_ready(struct tline_sink *k)
{
	struct radio_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_READY;
	tline_emit(k, &ev);
}

void
tline_emit_txr(struct tline_sink *k, uint16_t id, uint8_t status)
{
	struct radio_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_TX_RESULT;
	ev.u.txr.id = id;
	ev.u.txr.status = status;
	tline_emit(k, &ev);
}

void
tline_emit_error(struct tline_sink *k, uint8_t code, const char *fmt, ...)
{
	struct radio_event ev;
	char raw[TLINE_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.type = RADIO_EV_ERROR;
	ev.u.error.code = code;
	ev.u.error.msg = tline_text(k->msg, sizeof(k->msg), raw);
	tline_emit(k, &ev);
}

void
tline_mod_start(struct tline_mod *m, const struct radio_params *rp,
    uint64_t now_ms)
{
	m->rp = *rp;
	tline_reader_init(&m->rd);
	tline_cmdq_init(&m->cq, now_ms);
	m->last_heard_ms = now_ms;
	m->soft_resets = 0;
}

void
tline_mod_input(struct tline_mod *m, const uint8_t *buf, size_t len,
    struct radio_out *out, radio_event_fn *cb, void *arg, tline_fn *line,
    void *line_arg)
{
	m->k.cb = cb;
	m->k.arg = arg;
	m->out = out;
	tline_feed(&m->rd, buf, len, line, line_arg);
	m->k.cb = NULL;
	m->k.arg = NULL;
	m->out = NULL;
}

int
tline_mod_heard(struct tline_mod *m, int verdict)
{
	if (verdict != TLINE_OK) {
		tline_emit_drop(&m->k, verdict);
		if (verdict == TLINE_ERR_BINARY)
			m->binary_run++;
		return 0;
	}
	m->binary_run = 0;
	m->last_heard_ms = m->cq.now_ms;
	return 1;
}

int
tline_mod_tx(struct tline_mod *m, const struct radio_tx *tx, int kind,
    const char *prefix)
{
	char hex[2 * RADIO_PAYLOAD_MAX + 1];

	if (tx->len == 0 || tx->len > RADIO_PAYLOAD_MAX || tx->payload == NULL)
		return -EINVAL;
	if (!m->ready)
		return -EAGAIN;
	/* One channel, set at start: the module transmits where it
	 * listens, which is where the node waits for its reply. */
	tline_hex_encode(tx->payload, tx->len, hex);
	return tline_cmdq_add(&m->cq, 0, kind, tx->id, "%s%s", prefix, hex);
}

/* Downlinks a reset throws away: waiting, in flight, on the air. */
static unsigned int
tline_mod_pending_tx(const struct tline_mod *m, int tx_kind)
{
	return tline_cmdq_count(&m->cq, tx_kind) + (m->tx_on ? 1 : 0) +
	    (m->cq.busy && m->cq.cur.kind == tx_kind ? 1 : 0);
}

int
tline_mod_fail(struct tline_mod *m, const char *why, const char *cmd,
    int tx_kind)
{
	if (++m->soft_resets > TLINE_SOFT_RESETS_MAX)
		return -ETIMEDOUT;
	m->why = why;
	(void)snprintf(m->why_cmd, sizeof(m->why_cmd), "%s",
	    cmd != NULL ? cmd : "");
	m->lost_tx += tline_mod_pending_tx(m, tx_kind);
	return 0;
}

void
tline_mod_booted(struct tline_mod *m, int asked, int tx_kind)
{
	if (!asked) {
		m->lost_tx += tline_mod_pending_tx(m, tx_kind);
		m->why = "it restarted by itself (brown-out?)";
		m->why_cmd[0] = '\0';
	}
	if (m->why != NULL)
		tline_emit_error(&m->k, SFRAME_EC_RADIO, "module reset: "
		    "%s%s%s%s; re-initialising (%u downlinks lost)", m->why,
		    m->why_cmd[0] != '\0' ? " (\"" : "", m->why_cmd,
		    m->why_cmd[0] != '\0' ? "\")" : "", m->lost_tx);
	m->why = NULL;
	m->lost_tx = 0;
	tline_cmdq_clear(&m->cq);
	m->ready = m->rx_on = m->tx_on = 0;
}

void
tline_mod_receiving(struct tline_mod *m)
{
	m->rx_on = 1;
	m->soft_resets = 0;
	if (!m->ready) {
		m->ready = 1;
		tline_emit_ready(&m->k);
	}
}

const char *
tline_mod_check(struct tline_mod *m, uint64_t now_ms, uint32_t tx_max_ms)
{
	if (m->binary_run >= TLINE_BINARY_RESET) {
		m->binary_run = 0;
		return "unreadable bytes (wrong baud rate?)";
	}
	if (m->tx_on && now_ms > m->tx_ms && now_ms - m->tx_ms >= tx_max_ms)
		return "a transmission never ended";
	return NULL;
}
