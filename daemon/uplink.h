/*
 * uplink.h - the MQTT connection to the cloud broker: mutual TLS, QoS 1,
 * a retained online/offline status with a last will, keepalive, and
 * reconnection with exponential backoff and full jitter.
 *
 * Data flow: the outbox (outbox.c, feeding from the spool) ->
 * uplink_publish -> libmosquitto -> broker; PUBACK -> on_ack(cookie) ->
 * the outbox releases the batch in the spool.  The uplink holds at most mqtt.inflight_max unacknowledged
 * batches: uplink_ready() says how many more it takes now.  On a lost
 * connection it forgets its in-flight batches and calls on_disconnect; the
 * outbox then sends them again, in order (at-least-once).
 *
 * The broker's name is resolved without blocking (c-ares) and every
 * address it has is tried, Happy Eyeballs style (RFC 8305): see uplink.c.
 *
 * It runs in the daemon's poll loop: uplink_pollfds() fills up to
 * UPLINK_POLLFDS_MAX entries (the resolver's sockets, the connection
 * attempts, the connection), uplink_handle() takes them back after poll(),
 * and uplink_tick() runs at least every 100 ms or so.
 */
#ifndef FB_UPLINK_H
#define FB_UPLINK_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conf;
struct uplink;

#define UPLINK_STATUS_TOPIC	"status"	/* PREFIX/GATEWAY/status */
#define UPLINK_STATUS_ONLINE	"online"
#define UPLINK_STATUS_OFFLINE	"offline"
#define UPLINK_HEALTH_TOPIC	"health"	/* PREFIX/GATEWAY/health */
/* A connection that lasted this long resets the backoff to its minimum. */
#define UPLINK_STABLE_MS	30000
/*
 * Take-overs of our client id.  An MQTT broker closes a session when
 * another client connects with the same client id (MQTT 3.1.1 section
 * 3.1.4); two gateways with one id (a cloned SD card, a duplicate
 * gateway_id) then throw each other out for ever.  A connection closed by
 * the broker (not by us, not for a TLS or protocol error) within
 * UPLINK_TAKEOVER_AFTER_MS of its CONNACK counts; UPLINK_TAKEOVER_COUNT of
 * them within UPLINK_TAKEOVER_WINDOW_MS make an episode, warned about once.
 * A connection that lasts UPLINK_TAKEOVER_AFTER_MS ends the episode.
 * Three, not two: one early close is a broker restart, two may be a
 * restart and a network blip.
 */
#define UPLINK_TAKEOVER_COUNT		3
#define UPLINK_TAKEOVER_WINDOW_MS	(5 * 60 * 1000)
#define UPLINK_TAKEOVER_AFTER_MS	60000
/* Addresses of the broker's name tried in one round (the rest ignored). */
#define UPLINK_ADDRS_MAX	8
/* Resolver sockets polled at once (one per name server asked). */
#define UPLINK_RESOLVER_FDS_MAX	4
#define UPLINK_POLLFDS_MAX	(UPLINK_ADDRS_MAX + UPLINK_RESOLVER_FDS_MAX)

struct uplink_ops {
	void	(*on_connect)(void *arg);
	/* reason: a MOSQ_ERR_* value, or 0 after uplink_stop(). */
	void	(*on_disconnect)(void *arg, int reason);
	void	(*on_ack)(void *arg, uint64_t cookie);
	/* Commands (daemon/commands.c): a message on the commands topic,
	 * and the PUBACK of a result (uplink_publish_result). */
	void	(*on_command)(void *arg, const void *payload, size_t len);
	void	(*on_result_ack)(void *arg, uint64_t cookie);
};

/*
 * Commands from the cloud.  The session is persistent (clean session off,
 * the configured client id), and PREFIX/GATEWAY/commands is subscribed at
 * QoS 1 after every CONNACK, so commands published while the gateway was
 * offline arrive when it reconnects.  Results go to
 * PREFIX/GATEWAY/command-results at QoS 1 through their own few in-flight
 * slots, so a backlog of batches never holds them up.
 */
#define UPLINK_RESULT_INFLIGHT	4

struct uplink_stats {
	uint64_t	attempts;	/* rounds: resolve, then race the addresses */
	uint64_t	addr_attempts;	/* connections tried, one per address */
	uint64_t	connects;	/* CONNACK accepted */
	uint64_t	disconnects;
	uint64_t	published;
	uint64_t	acked;
	uint64_t	dead_links;	/* closed for silence (half-open) */
	uint64_t	takeovers;	/* take-over episodes (above) */
};

/* Copies what it needs from c; no connection yet. */
int	uplink_new(const struct conf *c, const struct uplink_ops *ops,
	    void *arg, struct uplink **out);
void	uplink_free(struct uplink *u);

/* Read the CA, certificate and key from these paths (the confined
 * worker's copies) instead of the configured ones, which messages keep
 * naming.  Before the first uplink_load_tls or uplink_start. */
void	uplink_tls_files(struct uplink *u, const char *ca, const char *cert,
	    const char *key);
/* Load the TLS files now (at start: unusable material is a configuration
 * error).  0, or -EINVAL with "FILE: what is wrong" in err, FILE as
 * configured. */
int	uplink_load_tls(struct uplink *u, char *err, size_t errlen);
/* Whether the wall clock is NTP-synchronised, for the hints of
 * certificate validity errors (the loop knows, wallclock.h). */
void	uplink_set_clock_synced(struct uplink *u, int synced);
/* Allow connecting: the first attempt is made on the next tick. */
void	uplink_start(struct uplink *u, uint64_t now_ms);
/* After SIGHUP: if the CA, certificate or key file changed since the
 * connection was made, reconnect now so that they are used (what was in
 * flight goes back through on_disconnect).  1 if it reconnects, else 0. */
int	uplink_reload_tls(struct uplink *u, uint64_t now_ms);
/* The sockets to poll now, at most max (pass UPLINK_POLLFDS_MAX): returns
 * how many entries of pfd it filled. */
int	uplink_pollfds(const struct uplink *u, struct pollfd *pfd, int max);
/* After poll(): the entries uplink_pollfds filled, with their revents. */
void	uplink_handle(struct uplink *u, const struct pollfd *pfd, int n,
	    uint64_t now_ms);
/* Keepalive, dead-link detection, reconnect.  Returns ms until it next
 * wants a tick (-1: no wish). */
int64_t	uplink_tick(struct uplink *u, uint64_t now_ms);

/* How many more batches may be published now (0 when not connected). */
int	uplink_ready(const struct uplink *u);
/* Publish to mqtt.topic_batch (PREFIX/GATEWAY/stream by default), QoS 1.
 * libmosquitto copies data.  0, -ENOTCONN, -ENOBUFS (window full),
 * -EINVAL, -EIO. */
int	uplink_publish(struct uplink *u, const char *stream, const void *data,
	    size_t len, uint64_t cookie);
/* The same to mqtt.topic_backlog (PREFIX/GATEWAY/stream/backlog by
 * default) when sub is given (one topic level of at most UPLINK_SUB_MAX
 * characters: "backlog"); sub NULL is uplink_publish. */
#define UPLINK_SUB_MAX		15
int	uplink_publish_sub(struct uplink *u, const char *stream,
	    const char *sub, const void *data, size_t len, uint64_t cookie);
/* A command result, QoS 1, to TOPIC_DEFAULT_RESULTS; its PUBACK comes
 * back through on_result_ack.  0, -ENOTCONN, -ENOBUFS (its slots are
 * full), -EINVAL, -EIO. */
int	uplink_publish_result(struct uplink *u, const void *data, size_t len,
	    uint64_t cookie);
/* Publish the health message (status.c, status_health) to
 * mqtt.topic_health, retained, QoS 1, outside the batches' window; its
 * PUBACK is not waited for.  libmosquitto copies buf.  0, -ENOTCONN,
 * -EINVAL, -ENOMEM, -EIO. */
int	uplink_publish_health(struct uplink *u, const void *buf, size_t len);
int	uplink_inflight(const struct uplink *u);
int	uplink_connected(const struct uplink *u);

/* Clean end: publish the retained "offline" status, wait for its PUBACK
 * (the caller bounds the wait), disconnect.  No reconnects after this. */
void	uplink_stop(struct uplink *u, uint64_t now_ms);
int	uplink_stopped(const struct uplink *u);

const struct uplink_stats *uplink_stats(const struct uplink *u);
/* "key=value" lines of the status file: mqtt_state (waiting, resolving,
 * connecting, connected, stopping, stopped), mqtt_host, mqtt_port,
 * mqtt_address (the address connected to, empty when none),
 * mqtt_addresses (the last answer used), mqtt_resolve_error and
 * mqtt_error_ipv4/mqtt_error_ipv6 (the last failure per family, empty when
 * none), mqtt_last_error (the last failure in plain words: TLS, take-over),
 * mqtt_takeovers (episodes); docs/operations.md. */
void	uplink_status(const struct uplink *u, FILE *f);
/* The address connected to ("" when none). */
const char *uplink_address(const struct uplink *u);

/* Reconnect delay after `failures` consecutive failures: uniform in
 * [min, min(max, min * 2^failures)] ("full jitter" above the floor).
 * rnd is a uniform 32-bit random number. */
uint64_t uplink_backoff_ms(uint32_t failures, uint32_t min_ms,
	    uint32_t max_ms, uint32_t rnd);

#endif
