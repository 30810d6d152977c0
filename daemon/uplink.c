/*
 * uplink.c - libmosquitto driven from the daemon's own poll loop; see
 * uplink.h for the contract.
 *
 * State:  IDLE --(backoff due)--> CONNECTING --(CONNACK ok)--> UP
 *           ^                          |                         |
 *           +------(failure, lost)-----+-------------------------+
 *         UP --(uplink_stop)--> STOPPING --(PUBACK of "offline")--> STOPPED
 *
 * Why things are done this way (libmosquitto 2.0.11; see
 * docs/library-notes.md):
 * - The mosquitto object is reinitialised before every connection attempt.
 *   libmosquitto keeps unacknowledged QoS 1 messages and would resend them
 *   itself after a reconnect; the daemon's queue already resends what was
 *   not acknowledged, so libmosquitto must start each connection empty, or
 *   every batch would go out twice.
 * - We never hand it more than inflight_max batches: messages published
 *   while it cannot send go to an unbounded in-memory list.
 * - loop_misc() never reconnects: we do, with exponential backoff and full
 *   jitter so a fleet does not stampede a broker that comes back.
 * - Keepalive: libmosquitto sends PINGREQ after keepalive seconds without
 *   traffic and closes only when a second keepalive passes without the
 *   PINGRESP: a half-open link lingers up to 2x keepalive.  We watch the
 *   socket ourselves: nothing received for 1.5x keepalive (a healthy
 *   broker answers the PINGREQ after 1x) closes the connection.
 * - tls_version "tlsv1.2" is a minimum in 2.0.11 (it only disables
 *   SSLv3/TLS1.0/1.1), so TLS 1.3 is used where the broker offers it;
 *   "tlsv1.3" disables 1.2 as well.
 * - connect_async() blocks in getaddrinfo(): a dead DNS server stalls the
 *   loop for seconds (the watchdog period must allow for it).
 */
#define LOG_MODULE	"uplink"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/fsutil.h"
#include "daemon/log.h"
#include "daemon/uplink.h"

#define UPLINK_TOPIC_MAX	(CONF_PREFIX_MAX + CONF_GATEWAY_ID_MAX + 64 + 4)

enum uplink_state {
	UPLINK_IDLE,
	UPLINK_CONNECTING,
	UPLINK_UP,
	UPLINK_STOPPING,
	UPLINK_STOPPED,
};

struct uplink_slot {
	int		mid;		/* 0: free */
	uint64_t	cookie;
};

struct uplink {
	struct mosquitto	*mosq;
	enum uplink_state	 state;
	int			 started;
	struct uplink_ops	 ops;
	void			*arg;

	char			 host[CONF_HOST_MAX + 1];
	int			 port;
	char			 ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	uint32_t		 tls_sig;	/* of the files last connected with */
	char			 client_id[CONF_GATEWAY_ID_MAX + 1];
	char			 base[UPLINK_TOPIC_MAX];   /* PREFIX/GATEWAY/ */
	char			 status_topic[UPLINK_TOPIC_MAX];
	int			 keepalive_s;
	int			 tls_min;
	uint32_t		 backoff_min_ms, backoff_max_ms;

	struct uplink_slot	*slots;
	int			 nslots;	/* inflight_max */
	int			 inflight;
	int			 status_mid;	/* online/offline in flight */

	uint32_t		 failures;	/* consecutive */
	uint64_t		 next_attempt_ms;
	uint64_t		 attempt_ms;	/* start of the current attempt */
	uint64_t		 up_ms;		/* CONNACK time */
	uint64_t		 last_rx_ms;	/* last bytes from the broker */
	uint64_t		 now_ms;	/* of the current call */

	/* Set by libmosquitto's callbacks, acted on after the call. */
	int			 lost;
	int			 lost_rc;
	int			 offline_acked;
	int			 lib;		/* holds a mosquitto_lib_init */

	struct uplink_stats	 st;
};

static int uplink_lib_refs;

uint64_t
uplink_backoff_ms(uint32_t failures, uint32_t min_ms, uint32_t max_ms,
    uint32_t rnd)
{
	uint64_t ceiling = min_ms;
	uint32_t i;

	for (i = 0; i < failures && ceiling < max_ms; i++)
		ceiling *= 2;
	if (ceiling > max_ms)
		ceiling = max_ms;
	if (ceiling <= min_ms)
		return min_ms;
	return min_ms + (uint64_t)rnd % (ceiling - min_ms + 1);
}

static uint32_t
uplink_random(void)
{
	uint32_t r = 0;

	if (gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) != 0)
		r = (uint32_t)rand();
	return r;
}

static void
uplink_cb_log(struct mosquitto *m, void *obj, int level, const char *str)
{
	/* libmosquitto's errors name the TLS failure; worth a warning. */
	if (level & MOSQ_LOG_ERR)
		log_warnx("libmosquitto: %s", str);
	else
		log_debug("libmosquitto: %s", str);
}

static void
uplink_cb_connect(struct mosquitto *m, void *obj, int rc)
{
	struct uplink *u = obj;
	int r;

	if (rc != 0) {
		log_warnx("broker %s:%d refused the connection: %s", u->host,
		    u->port, mosquitto_connack_string(rc));
		u->lost = 1;
		u->lost_rc = MOSQ_ERR_CONN_REFUSED;
		return;
	}
	u->state = UPLINK_UP;
	u->up_ms = u->now_ms;
	u->st.connects++;
	log_info("connected to %s:%d as %s", u->host, u->port, u->client_id);
	r = mosquitto_publish(u->mosq, &u->status_mid, u->status_topic,
	    (int)strlen(UPLINK_STATUS_ONLINE), UPLINK_STATUS_ONLINE, 1, true);
	if (r != MOSQ_ERR_SUCCESS)
		log_warnx("cannot publish the online status: %s",
		    mosquitto_strerror(r));
	if (u->ops.on_connect != NULL)
		u->ops.on_connect(u->arg);
}

static void
uplink_cb_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct uplink *u = obj;

	u->lost = 1;
	u->lost_rc = rc;
}

static void
uplink_cb_publish(struct mosquitto *m, void *obj, int mid)
{
	struct uplink *u = obj;
	uint64_t cookie;
	int i;

	if (mid == u->status_mid) {
		u->status_mid = 0;
		/* Disconnect after the call: a DISCONNECT queued inside a
		 * callback is not written until the next loop_write. */
		if (u->state == UPLINK_STOPPING)
			u->offline_acked = 1;
		return;
	}
	for (i = 0; i < u->nslots; i++) {
		if (u->slots[i].mid != mid)
			continue;
		cookie = u->slots[i].cookie;
		u->slots[i].mid = 0;
		u->inflight--;
		u->st.acked++;
		if (u->ops.on_ack != NULL)
			u->ops.on_ack(u->arg, cookie);
		return;
	}
}

/*
 * A checksum of the CA, certificate and key files' contents: what the next
 * connection would use.  A file that cannot be read counts as empty; the
 * connection attempt will say why.
 */
static uint32_t
uplink_tls_sig(const struct uplink *u)
{
	const char *paths[] = { u->ca, u->cert, u->key };
	uint8_t buf[4096];
	uint32_t c = 0;
	ssize_t n;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			c = fsutil_crc32(c, buf, (size_t)n);
		close(fd);
		c = fsutil_crc32(c, "\n", 1);	/* file boundary */
	}
	return c;
}

/* Prepare the (re)initialised object for one connection attempt. */
static int
uplink_setup(struct uplink *u)
{
	int r;

	if ((r = mosquitto_reinitialise(u->mosq, u->client_id, true, u)) != 0)
		return r;
	mosquitto_log_callback_set(u->mosq, uplink_cb_log);
	mosquitto_connect_callback_set(u->mosq, uplink_cb_connect);
	mosquitto_disconnect_callback_set(u->mosq, uplink_cb_disconnect);
	mosquitto_publish_callback_set(u->mosq, uplink_cb_publish);
	if ((r = mosquitto_int_option(u->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311)) != 0)
		return r;
	/* Our window plus the status message: libmosquitto never queues. */
	if ((r = mosquitto_max_inflight_messages_set(u->mosq,
	    (unsigned int)u->nslots + 1)) != 0)
		return r;
	if ((r = mosquitto_will_set(u->mosq, u->status_topic,
	    (int)strlen(UPLINK_STATUS_OFFLINE), UPLINK_STATUS_OFFLINE, 1,
	    true)) != 0)
		return r;
	/* The files are re-read at each connection: a renewed certificate
	 * is picked up by the next reconnect (uplink_reload_tls forces one). */
	if ((r = mosquitto_tls_set(u->mosq, u->ca, NULL, u->cert, u->key,
	    NULL)) != 0)
		return r;
	u->tls_sig = uplink_tls_sig(u);
	if ((r = mosquitto_tls_opts_set(u->mosq, 1,
	    u->tls_min == 13 ? "tlsv1.3" : "tlsv1.2", NULL)) != 0)
		return r;
	return mosquitto_tls_insecure_set(u->mosq, false);
}

static void
uplink_schedule(struct uplink *u, uint64_t now_ms)
{
	uint64_t d;

	d = uplink_backoff_ms(u->failures, u->backoff_min_ms,
	    u->backoff_max_ms, uplink_random());
	u->failures++;
	u->next_attempt_ms = now_ms + d;
	log_info("reconnecting to %s:%d in %llu ms", u->host, u->port,
	    (unsigned long long)d);
}

/* Drop the socket and every message libmosquitto still holds; what was
 * in flight is the caller's to send again (on_disconnect). */
static void
uplink_drop(struct uplink *u)
{
	int i;

	(void)mosquitto_reinitialise(u->mosq, u->client_id, true, u);
	for (i = 0; i < u->nslots; i++)
		u->slots[i].mid = 0;
	u->inflight = 0;
	u->status_mid = 0;
	u->lost = 0;
}

/* Tear down after a lost connection or a failed attempt. */
static void
uplink_down(struct uplink *u, int rc, uint64_t now_ms)
{
	enum uplink_state was = u->state;
	int err = errno;

	uplink_drop(u);
	if (was == UPLINK_STOPPING || was == UPLINK_STOPPED) {
		u->state = UPLINK_STOPPED;
		if (u->ops.on_disconnect != NULL)
			u->ops.on_disconnect(u->arg, rc);
		return;
	}
	u->state = UPLINK_IDLE;
	if (rc == MOSQ_ERR_ERRNO)
		errno = err;
	if (was == UPLINK_UP) {
		u->st.disconnects++;
		log_warnx("connection to %s:%d lost: %s", u->host, u->port,
		    rc == MOSQ_ERR_KEEPALIVE ? "no answer from the broker" :
		    mosquitto_strerror(rc));
		if (now_ms - u->up_ms >= UPLINK_STABLE_MS)
			u->failures = 0;
	} else
		log_warnx("cannot connect to %s:%d: %s", u->host, u->port,
		    mosquitto_strerror(rc));
	uplink_schedule(u, now_ms);
	if (was == UPLINK_UP && u->ops.on_disconnect != NULL)
		u->ops.on_disconnect(u->arg, rc);
}

static void
uplink_attempt(struct uplink *u, uint64_t now_ms)
{
	int r;

	u->st.attempts++;
	u->attempt_ms = now_ms;
	u->last_rx_ms = now_ms;
	if ((r = uplink_setup(u)) != 0) {
		log_warnx("cannot set up the MQTT client: %s",
		    mosquitto_strerror(r));
		u->state = UPLINK_CONNECTING;
		uplink_down(u, r, now_ms);
		return;
	}
	log_debug("connecting to %s:%d", u->host, u->port);
	u->state = UPLINK_CONNECTING;
	r = mosquitto_connect_async(u->mosq, u->host, u->port, u->keepalive_s);
	if (r != MOSQ_ERR_SUCCESS) {
		if (r == MOSQ_ERR_ERRNO)
			log_debug("connect: %s", strerror(errno));
		uplink_down(u, r, now_ms);
	}
}

/* Act on what the callbacks reported during a libmosquitto call. */
static void
uplink_after(struct uplink *u, int rc, uint64_t now_ms)
{
	if (u->offline_acked && u->state == UPLINK_STOPPING && !u->lost) {
		u->offline_acked = 0;
		(void)mosquitto_disconnect(u->mosq);
		u->state = UPLINK_STOPPED;
		log_info("disconnected from %s:%d", u->host, u->port);
		return;
	}
	if (u->lost || (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN &&
	    u->state != UPLINK_IDLE && u->state != UPLINK_STOPPED))
		uplink_down(u, u->lost ? u->lost_rc : rc, now_ms);
}

/* The socket reported an error or a hang-up: give the attempt up. */
static void
uplink_sock_failed(struct uplink *u, uint64_t now_ms)
{
	socklen_t len = sizeof(int);
	int fd = mosquitto_socket(u->mosq), soerr = 0;

	/* The TLS layer may already have taken the socket's error. */
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
	    soerr == 0)
		soerr = u->state == UPLINK_CONNECTING ? ECONNREFUSED :
		    ECONNRESET;
	errno = soerr;
	uplink_down(u, MOSQ_ERR_ERRNO, now_ms);
}

void
uplink_handle(struct uplink *u, short revents, uint64_t now_ms)
{
	int rc = MOSQ_ERR_SUCCESS;

	u->now_ms = now_ms;
	if (u->state == UPLINK_IDLE || u->state == UPLINK_STOPPED)
		return;
	/*
	 * libmosquitto 2.0.11 takes SSL_ERROR_SYSCALL during the TLS connect
	 * for "try again", so a refused or reset TCP connect is never
	 * reported: the socket would poll POLLERR/POLLHUP for ever.  Before
	 * the CONNACK such a socket is a failed attempt.
	 */
	if ((revents & (POLLERR | POLLHUP)) && u->state == UPLINK_CONNECTING) {
		uplink_sock_failed(u, now_ms);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		u->last_rx_ms = now_ms;
		rc = mosquitto_loop_read(u->mosq, 1);
		uplink_after(u, rc, now_ms);
	}
	if ((revents & POLLOUT) && u->state != UPLINK_IDLE &&
	    u->state != UPLINK_STOPPED) {
		rc = mosquitto_loop_write(u->mosq, 1);
		uplink_after(u, rc, now_ms);
	}
	/* A hung-up socket that libmosquitto did not give up on. */
	if ((revents & (POLLERR | POLLHUP)) && u->state != UPLINK_IDLE &&
	    u->state != UPLINK_STOPPED)
		uplink_sock_failed(u, now_ms);
}

int64_t
uplink_tick(struct uplink *u, uint64_t now_ms)
{
	uint64_t silence_ms = (uint64_t)u->keepalive_s * 1500;
	int rc;

	u->now_ms = now_ms;
	switch (u->state) {
	case UPLINK_IDLE:
		if (!u->started)
			return -1;
		if (now_ms >= u->next_attempt_ms)
			uplink_attempt(u, now_ms);
		if (u->state == UPLINK_IDLE)
			return (int64_t)(u->next_attempt_ms - now_ms);
		return 100;
	case UPLINK_CONNECTING:
	case UPLINK_UP:
	case UPLINK_STOPPING:
		rc = mosquitto_loop_misc(u->mosq);
		uplink_after(u, rc, now_ms);
		if (u->state == UPLINK_IDLE || u->state == UPLINK_STOPPED)
			return 100;
		if (now_ms - u->last_rx_ms >= silence_ms) {
			if (u->state == UPLINK_UP)
				u->st.dead_links++;
			log_warnx("nothing from %s:%d for %llu s, closing the "
			    "connection", u->host, u->port,
			    (unsigned long long)(now_ms - u->last_rx_ms) / 1000);
			uplink_down(u, MOSQ_ERR_KEEPALIVE, now_ms);
		}
		return 100;
	case UPLINK_STOPPED:
		break;
	}
	return -1;
}

int
uplink_reload_tls(struct uplink *u, uint64_t now_ms)
{
	enum uplink_state was = u->state;

	if (was == UPLINK_STOPPING || was == UPLINK_STOPPED ||
	    uplink_tls_sig(u) == u->tls_sig)
		return 0;
	if (was == UPLINK_IDLE) {
		/* Waiting out a back-off: the new files may be the cure. */
		u->next_attempt_ms = now_ms;
		return 1;
	}
	log_info("TLS files changed: reconnecting to %s:%d to use them",
	    u->host, u->port);
	/* A clean DISCONNECT: the broker does not publish the will, and the
	 * retained status says online again within a round trip. */
	if (was == UPLINK_UP)
		(void)mosquitto_disconnect(u->mosq);
	uplink_drop(u);
	u->state = UPLINK_IDLE;
	u->next_attempt_ms = now_ms;
	if (was == UPLINK_UP && u->ops.on_disconnect != NULL)
		u->ops.on_disconnect(u->arg, MOSQ_ERR_SUCCESS);
	return 1;
}

void
uplink_start(struct uplink *u, uint64_t now_ms)
{
	u->started = 1;
	u->next_attempt_ms = now_ms;
}

int
uplink_fd(const struct uplink *u)
{
	if (u->state == UPLINK_IDLE || u->state == UPLINK_STOPPED)
		return -1;
	return mosquitto_socket(u->mosq);
}

short
uplink_events(const struct uplink *u)
{
	short ev = POLLIN;

	if (mosquitto_want_write(u->mosq))
		ev |= POLLOUT;
	return ev;
}

int
uplink_ready(const struct uplink *u)
{
	if (u->state != UPLINK_UP)
		return 0;
	return u->nslots - u->inflight;
}

int
uplink_publish(struct uplink *u, const char *stream, const void *data,
    size_t len, uint64_t cookie)
{
	return uplink_publish_sub(u, stream, NULL, data, len, cookie);
}

int
uplink_publish_sub(struct uplink *u, const char *stream, const char *sub,
    const void *data, size_t len, uint64_t cookie)
{
	char topic[UPLINK_TOPIC_MAX + UPLINK_SUB_MAX + 1];
	int i, mid = 0, r, n;

	if (u->state != UPLINK_UP)
		return -ENOTCONN;
	if (u->inflight >= u->nslots)
		return -ENOBUFS;
	if (len > INT32_MAX || stream[0] == '\0' ||
	    strpbrk(stream, "/+#") != NULL)
		return -EINVAL;
	if (sub != NULL && (sub[0] == '\0' || strlen(sub) > UPLINK_SUB_MAX ||
	    strpbrk(sub, "/+#") != NULL))
		return -EINVAL;
	n = snprintf(topic, sizeof(topic), "%s%s%s%s", u->base, stream,
	    sub != NULL ? "/" : "", sub != NULL ? sub : "");
	if (n < 0 || (size_t)n >= sizeof(topic))
		return -EINVAL;
	for (i = 0; i < u->nslots && u->slots[i].mid != 0; i++)
		;
	if (i == u->nslots)
		return -ENOBUFS;
	r = mosquitto_publish(u->mosq, &mid, topic, (int)len, data, 1, false);
	if (r != MOSQ_ERR_SUCCESS) {
		/* The connection is failing; let the next tick find out. */
		log_debug("publish: %s", mosquitto_strerror(r));
		if (r == MOSQ_ERR_NOMEM)
			return -ENOMEM;
		u->lost = 1;
		u->lost_rc = r;
		uplink_after(u, r, u->now_ms);
		return -EIO;
	}
	u->slots[i].mid = mid;
	u->slots[i].cookie = cookie;
	u->inflight++;
	u->st.published++;
	return 0;
}

int
uplink_inflight(const struct uplink *u)
{
	return u->inflight;
}

int
uplink_connected(const struct uplink *u)
{
	return u->state == UPLINK_UP;
}

void
uplink_stop(struct uplink *u, uint64_t now_ms)
{
	int r;

	u->now_ms = now_ms;
	u->started = 0;
	if (u->state != UPLINK_UP) {
		if (u->state == UPLINK_CONNECTING)
			(void)mosquitto_reinitialise(u->mosq, u->client_id,
			    true, u);
		u->state = UPLINK_STOPPED;
		return;
	}
	r = mosquitto_publish(u->mosq, &u->status_mid, u->status_topic,
	    (int)strlen(UPLINK_STATUS_OFFLINE), UPLINK_STATUS_OFFLINE, 1,
	    true);
	if (r != MOSQ_ERR_SUCCESS) {
		(void)mosquitto_disconnect(u->mosq);
		u->state = UPLINK_STOPPED;
		return;
	}
	u->state = UPLINK_STOPPING;
}

int
uplink_stopped(const struct uplink *u)
{
	return u->state == UPLINK_STOPPED;
}

const struct uplink_stats *
uplink_stats(const struct uplink *u)
{
	return &u->st;
}

int
uplink_new(const struct conf *c, const struct uplink_ops *ops, void *arg,
    struct uplink **out)
{
	struct uplink *u = NULL;
	int r = -ENOMEM, n;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto fail;
	if ((u->slots = calloc((size_t)c->mqtt.inflight_max,
	    sizeof(*u->slots))) == NULL)
		goto fail;
	u->nslots = c->mqtt.inflight_max;
	if (ops != NULL)
		u->ops = *ops;
	u->arg = arg;
	r = -EINVAL;
	snprintf(u->host, sizeof(u->host), "%s", c->mqtt.host);
	u->port = c->mqtt.port;
	snprintf(u->ca, sizeof(u->ca), "%s", c->mqtt.ca);
	snprintf(u->cert, sizeof(u->cert), "%s", c->mqtt.cert);
	snprintf(u->key, sizeof(u->key), "%s", c->mqtt.key);
	snprintf(u->client_id, sizeof(u->client_id), "%s",
	    c->mqtt.client_id[0] != '\0' ? c->mqtt.client_id : c->gateway_id);
	n = snprintf(u->base, sizeof(u->base), "%s/%s/",
	    c->mqtt.topic_prefix, c->gateway_id);
	if (n < 0 || (size_t)n >= sizeof(u->base))
		goto fail;
	n = snprintf(u->status_topic, sizeof(u->status_topic), "%s%s",
	    u->base, UPLINK_STATUS_TOPIC);
	if (n < 0 || (size_t)n >= sizeof(u->status_topic))
		goto fail;
	u->keepalive_s = c->mqtt.keepalive_s;
	u->tls_min = c->mqtt.tls_min;
	u->backoff_min_ms = (uint32_t)c->mqtt.backoff_min_ms;
	u->backoff_max_ms = (uint32_t)c->mqtt.backoff_max_ms;
	if (uplink_lib_refs++ == 0)
		mosquitto_lib_init();
	u->lib = 1;
	if ((u->mosq = mosquitto_new(u->client_id, true, u)) == NULL) {
		r = -errno != 0 ? -errno : -ENOMEM;
		goto fail;
	}
	u->state = UPLINK_IDLE;
	*out = u;
	return 0;
fail:
	uplink_free(u);
	return r;
}

void
uplink_free(struct uplink *u)
{
	if (u == NULL)
		return;
	if (u->mosq != NULL)
		mosquitto_destroy(u->mosq);
	if (u->lib && --uplink_lib_refs == 0)
		mosquitto_lib_cleanup();
	free(u->slots);
	free(u);
}
