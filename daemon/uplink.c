/*
 * uplink.c - libmosquitto driven from the daemon's own poll loop, the
 * broker's name resolved by c-ares and all its addresses raced; see
 * uplink.h for the contract.
 *
 * State:
 *   IDLE --(backoff due)--> RESOLVING --(answer, or the last good one)-->
 *   CONNECTING --(first TLS handshake done; its CONNACK ok)--> UP
 *   IDLE <--(every address of the round failed, or the connection lost)--+
 *   UP --(uplink_stop)--> STOPPING --(PUBACK of "offline")--> STOPPED
 *
 * A round.  The name is resolved with c-ares (ares_getaddrinfo: etc/hosts,
 * then DNS, answers sorted by RFC 6724), inside the poll loop and limited
 * to UPLINK_RESOLVE_TIMEOUT_MS; a lookup that fails or times out falls back
 * to the last good answer, so a dead DNS server does not keep the gateway
 * from a broker it knows.  The addresses are interleaved by family (RFC
 * 8305 section 4) and raced (Happy Eyeballs, RFC 8305 section 5): the first
 * at once, each next one UPLINK_STAGGER_MS after the previous or at once
 * when every attempt in flight has failed (a refused connection costs
 * nothing).  The first attempt to complete its TLS handshake wins; the
 * others are closed.  Only a round in which every address failed counts
 * for the backoff.  Each failure is kept per address family for the status
 * file.
 *
 * Why the race is at the TLS level with one struct mosquitto per address:
 * libmosquitto 2.0.11 connects to the first address its own blocking
 * getaddrinfo() returns, so each attempt is a mosquitto object given one
 * numeric address (no lookup, nothing to block).  A socket that connects
 * is not proof enough (a middlebox may accept TCP and go silent), the TLS
 * handshake is.  The trap is the MQTT CONNECT: libmosquitto queues it in
 * connect_async() and writes it at the first loop_write after the
 * handshake; two CONNECTs with our client id would make the broker take
 * the first session over (and perhaps publish the will).  So a loser must
 * never write it: the winner is decided in the TLS info callback at
 * SSL_CB_HANDSHAKE_DONE (inside mosquitto_loop_read, which returns right
 * after the handshake without writing), the losers are destroyed before
 * the loop calls libmosquitto again, attempts still in their handshake are
 * only ever driven through loop_read, and a handshake that completes when
 * a winner exists has its socket shut down in the callback.
 *
 * TLS.  Given a numeric address, libmosquitto's own TLS set-up would check
 * the certificate against that address and send it as SNI.  We build the
 * SSL_CTX ourselves (MOSQ_OPT_SSL_CTX, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS 0:
 * libmosquitto then verifies nothing): SSL_VERIFY_PEER, the host check on
 * the configured name (X509_VERIFY_PARAM_set1_host, or _set1_ip_asc when
 * the configuration names an address), and the name as SNI, set in the info
 * callback at SSL_CB_HANDSHAKE_START, after libmosquitto set the numeric
 * one and before the ClientHello is built (no SNI for an address, RFC 6066
 * section 3).  The CA, certificate and key are loaded into a new context at
 * the start of a round when their contents changed (uplink_tls_sig), so a
 * renewed certificate is used at the next connection as before; each
 * mosquitto object holds its own reference to the context it started with.
 *
 * c-ares 1.18 and the chroot: the channel is made in uplink_new, before
 * the chroot, because c-ares keys its query ids from /dev/urandom, which
 * the chroot lacks (it would fall back to rand()).  etc/hosts is read at
 * every lookup; etc/resolv.conf only at a channel's creation, so each round
 * reads it again into a throw-away channel and copies its name servers
 * into ours (the privileged parent keeps both files current in the chroot).
 *
 * Why other things are done this way (libmosquitto 2.0.11; see
 * docs/library-notes.md):
 * - A fresh mosquitto object for every connection: libmosquitto keeps
 *   unacknowledged QoS 1 messages and would resend them itself after a
 *   reconnect; the daemon's queue already resends what was not
 *   acknowledged, so each connection must start empty, or every batch
 *   would go out twice.
 * - We never hand it more than inflight_max batches: messages published
 *   while it cannot send go to an unbounded in-memory list.
 * - loop_misc() never reconnects: we do, with exponential backoff and full
 *   jitter so a fleet does not stampede a broker that comes back.
 * - Keepalive: libmosquitto sends PINGREQ after keepalive seconds without
 *   traffic and closes only when a second keepalive passes without the
 *   PINGRESP: a half-open link lingers up to 2x keepalive.  We watch the
 *   socket ourselves: nothing received for 1.5x keepalive (a healthy
 *   broker answers the PINGREQ after 1x) closes the connection.
 * - During the handshake libmosquitto advances TLS only in loop_read, and
 *   takes SSL_ERROR_SYSCALL for "try again": a refused or reset socket
 *   polls POLLERR/POLLHUP and is given up here, with its SO_ERROR.
 */
#define LOG_MODULE	"uplink"

#include <arpa/inet.h>
#include <ares.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "daemon/fsutil.h"
#include "daemon/log.h"
#include "daemon/status.h"
#include "daemon/topic.h"
#include "daemon/tlsctx.h"
#include "daemon/uplink.h"

#define UPLINK_TOPIC_MAX	(TOPIC_MAX_BYTES + 1)
/* RFC 8305 section 5 "Connection Attempt Delay": 250 ms recommended. */
#define UPLINK_STAGGER_MS	250
/* One address: TCP connect and TLS handshake.  A blackholed address is
 * abandoned after this (the others were started meanwhile). */
#define UPLINK_ATTEMPT_TIMEOUT_MS	10000
/* The whole lookup; after it, the last good answer.  Longer than c-ares's
 * own tries below, shorter than any sensible watchdog period (the loop
 * never waits for it anyway). */
#define UPLINK_RESOLVE_TIMEOUT_MS	3000
#define UPLINK_DNS_TRY_MS	1000	/* c-ares: first try per server */
#define UPLINK_DNS_TRIES	2	/* c-ares: tries per server */
#define UPLINK_ADDR_STR_MAX	INET6_ADDRSTRLEN
#define UPLINK_ERR_MAX		160	/* one status line's error text */
#define UPLINK_ADDRS_STR_MAX	(UPLINK_ADDRS_MAX * (UPLINK_ADDR_STR_MAX + 1))
/* A failure explained (tlsctx.c), for the log; the status file's copy is
 * cut at STATUS_TEXT_MAX, what `fieldbridge status` reads whole. */
#define UPLINK_WHY_MAX		512

enum uplink_state {
	UPLINK_IDLE,
	UPLINK_RESOLVING,
	UPLINK_CONNECTING,
	UPLINK_UP,
	UPLINK_STOPPING,
	UPLINK_STOPPED,
};

enum uplink_family {
	UPLINK_FAM_IPV4,
	UPLINK_FAM_IPV6,
	UPLINK_FAMS
};

/* Batches in slots[0..nslots), results in the UPLINK_RESULT_INFLIGHT
 * after them. */
struct uplink_slot {
	int		mid;		/* 0: free */
	uint64_t	cookie;
};

struct uplink_addr {
	int		family;		/* AF_INET, AF_INET6 */
	char		str[UPLINK_ADDR_STR_MAX];
};

/* One connection attempt of a round, to addrs[i] for tries[i]. */
struct uplink_try {
	struct mosquitto	*mosq;		/* NULL: not running */
	int			 tcp_up;	/* writable once: TCP connected */
	uint64_t		 start_ms;
};

struct uplink {
	struct mosquitto	*mosq;		/* the connection (the winner) */
	enum uplink_state	 state;
	int			 started;
	struct uplink_ops	 ops;
	void			*arg;

	char			 host[CONF_HOST_MAX + 1];
	int			 host_numeric;	/* an address, not a name */
	int			 port;
	/* Read from ca, cert, key; named as configured in messages. */
	char			 ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	char			 ca_name[PATH_MAX], cert_name[PATH_MAX];
	char			 key_name[PATH_MAX];
	struct tlsctx_files	 files;		/* points at the six above */
	SSL_CTX			*ctx;		/* for new connections */
	time_t			 cert_not_before, cert_not_after; /* of ctx's */
	uint32_t		 tls_sig;	/* of the files in ctx */
	uint32_t		 tls_bad_sig;	/* files that failed to load */
	struct tlsctx_verify	 verify;	/* the round's first verify error */
	int			 clock_synced;
	char			 tls_warned[UPLINK_WHY_MAX]; /* last warned */
	/* Early closes by the broker (uplink.h, UPLINK_TAKEOVER_*). */
	uint64_t		 early_ms[UPLINK_TAKEOVER_COUNT];
	int			 nearly;
	int			 takeover;	/* in an episode */
	char			 client_id[CONF_GATEWAY_ID_MAX + 1];
	/* Topics from templates (topic.h), expanded per publish. */
	char			 prefix[CONF_PREFIX_MAX + 1];
	char			 gw[CONF_GATEWAY_ID_MAX + 1];
	char			 tmpl_batch[CONF_TOPIC_MAX + 1];
	char			 tmpl_backlog[CONF_TOPIC_MAX + 1];
	char			 status_topic[UPLINK_TOPIC_MAX];
	char			 cmd_topic[UPLINK_TOPIC_MAX];
	char			 result_topic[UPLINK_TOPIC_MAX];
	char			 health_topic[UPLINK_TOPIC_MAX];
	/* Sent only when configured: RabbitMQ's certificate login fails
	 * when a user name is sent at all. */
	char			 username[CONF_USERNAME_MAX + 1];
	unsigned char		 alpn[CONF_ALPN_MAX + 1];  /* RFC 7301 wire */
	size_t			 alpn_len;
	int			 keepalive_s;
	int			 tls_min;
	uint32_t		 backoff_min_ms, backoff_max_ms;

	/* Resolution. */
	ares_channel		 ares;
	int			 ares_lib;	/* holds an ares_library_init */
	int			 res_done;	/* the callback ran */
	int			 res_status;
	struct ares_addrinfo	*res;
	uint64_t		 res_deadline_ms;
	struct uplink_addr	 cache[UPLINK_ADDRS_MAX];  /* last good answer */
	int			 ncache;
	char			 res_err[UPLINK_ERR_MAX];

	/* The round. */
	struct uplink_addr	 addrs[UPLINK_ADDRS_MAX];
	int			 naddrs;
	struct uplink_try	 tries[UPLINK_ADDRS_MAX];
	int			 next_addr;	/* the next to try */
	uint64_t		 last_start_ms;
	int			 winner;	/* index, -1: none yet */
	int			 cur;		/* addrs[] of mosq, -1: none */
	char			 fam_err[UPLINK_FAMS][UPLINK_ERR_MAX];
	char			 lib_err[UPLINK_ERR_MAX];  /* last from libmosquitto */
	/* For the status file: since when in this state, the last failure
	 * (wall clock: a technician reads them as dates). */
	time_t			 state_since;
	char			 last_err[UPLINK_WHY_MAX];
	time_t			 last_err_at;

	struct uplink_slot	*slots;
	int			 nslots;	/* inflight_max */
	int			 inflight;
	int			 status_mid;	/* online/offline in flight */

	uint32_t		 failures;	/* consecutive */
	uint64_t		 next_attempt_ms;
	uint64_t		 attempt_ms;	/* start of the current round */
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
static int uplink_ares_refs;

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

static enum uplink_family
uplink_fam(int family)
{
	return family == AF_INET6 ? UPLINK_FAM_IPV6 : UPLINK_FAM_IPV4;
}

static void
uplink_set_state(struct uplink *u, enum uplink_state st)
{
	if (u->state != st || u->state_since == 0)
		u->state_since = time(NULL);
	u->state = st;
}

/* The last failure, for the status file (the caller logs it): kept,
 * with its time, after the link is back. */
static void
uplink_error_text(struct uplink *u, const char *text)
{
	(void)snprintf(u->last_err, sizeof(u->last_err), "%s", text);
	u->last_err_at = time(NULL);
}

static void
uplink_error(struct uplink *u, const char *what, const char *why)
{
	char text[UPLINK_WHY_MAX];

	(void)snprintf(text, sizeof(text), "%.100s: %.400s", what, why);
	uplink_error_text(u, text);
}

/* "[::1]:8883" or "127.0.0.1:8883". */
static void
uplink_fmt_addr(char *buf, size_t sz, const struct uplink_addr *a, int port)
{
	(void)snprintf(buf, sz, a->family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    a->str, port);
}

static void
uplink_cb_log(struct mosquitto *m, void *obj, int level, const char *str)
{
	struct uplink *u = obj;

	/* libmosquitto's errors name the TLS failure; worth a warning, and
	 * the reason of the attempt's failure. */
	if (level & MOSQ_LOG_ERR) {
		log_warnx("libmosquitto: %s", str);
		(void)snprintf(u->lib_err, sizeof(u->lib_err), "%s", str);
	} else
		log_debug("libmosquitto: %s", str);
}

static void
uplink_cb_connect(struct mosquitto *m, void *obj, int rc)
{
	struct uplink *u = obj;
	char addr[UPLINK_ADDR_STR_MAX + 8];
	int r;

	if (u->cur >= 0)
		uplink_fmt_addr(addr, sizeof(addr), &u->addrs[u->cur], u->port);
	else
		addr[0] = '\0';
	if (rc != 0) {
		log_warnx("broker %s:%d (%s) refused the connection: %s",
		    u->host, u->port, addr, mosquitto_connack_string(rc));
		uplink_error(u, addr, mosquitto_connack_string(rc));
		u->lost = 1;
		u->lost_rc = MOSQ_ERR_CONN_REFUSED;
		return;
	}
	uplink_set_state(u, UPLINK_UP);
	u->up_ms = u->now_ms;
	u->st.connects++;
	u->tls_warned[0] = '\0';
	log_info("connected to %s:%d (%s) as %s", u->host, u->port, addr,
	    u->client_id);
	r = mosquitto_publish(u->mosq, &u->status_mid, u->status_topic,
	    (int)strlen(UPLINK_STATUS_ONLINE), UPLINK_STATUS_ONLINE, 1, true);
	if (r != MOSQ_ERR_SUCCESS)
		log_warnx("cannot publish the online status: %s",
		    mosquitto_strerror(r));
	/* Every time: a broker that lost the session (or a first
	 * connection) has no subscription. */
	if (u->ops.on_command != NULL && (r = mosquitto_subscribe(u->mosq,
	    NULL, u->cmd_topic, 1)) != MOSQ_ERR_SUCCESS)
		log_warnx("cannot subscribe to %s: %s", u->cmd_topic,
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
	for (i = 0; i < u->nslots + UPLINK_RESULT_INFLIGHT; i++) {
		if (u->slots[i].mid != mid)
			continue;
		cookie = u->slots[i].cookie;
		u->slots[i].mid = 0;
		if (i >= u->nslots) {
			if (u->ops.on_result_ack != NULL)
				u->ops.on_result_ack(u->arg, cookie);
			return;
		}
		u->inflight--;
		u->st.acked++;
		if (u->ops.on_ack != NULL)
			u->ops.on_ack(u->arg, cookie);
		return;
	}
}

/* A message on the commands topic (the only one subscribed). */
static void
uplink_cb_message(struct mosquitto *m, void *obj,
    const struct mosquitto_message *msg)
{
	struct uplink *u = obj;

	if (u->ops.on_command == NULL || msg->topic == NULL ||
	    strcmp(msg->topic, u->cmd_topic) != 0 || msg->payloadlen < 0)
		return;
	u->ops.on_command(u->arg, msg->payload, (size_t)msg->payloadlen);
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

/* ---- TLS ---- */

static int
uplink_try_find_fd(const struct uplink *u, int fd)
{
	int i;

	for (i = 0; i < u->naddrs; i++)
		if (u->tries[i].mosq != NULL &&
		    mosquitto_socket(u->tries[i].mosq) == fd)
			return i;
	return -1;
}

/* OpenSSL's verify callback: the first error of the round, for the log. */
static int
uplink_verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct uplink *u = ssl != NULL ?
	    SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;

	return u != NULL ? tlsctx_verify_note(&u->verify, ok, x) : ok;
}

/*
 * OpenSSL's info callback for every connection of our context: the SNI at
 * the start of a handshake, the race's winner at its end (see the top of
 * the file).  OpenSSL hands a const SSL; setting the SNI is what this
 * point of the handshake is for.
 */
static void
uplink_ssl_info(const SSL *ssl, int where, int ret)
{
	struct uplink *u = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	const char *sni;
	int i;

	if (u == NULL)
		return;
	/* OpenSSL's macro does not parenthesise its argument. */
	sni = u->host_numeric ? NULL : u->host;
	if (where & SSL_CB_HANDSHAKE_START)
		(void)SSL_set_tlsext_host_name((SSL *)ssl, sni);
	if (!(where & SSL_CB_HANDSHAKE_DONE) || u->mosq != NULL)
		return;
	if ((i = uplink_try_find_fd(u, SSL_get_fd(ssl))) < 0)
		return;
	if (u->winner < 0)
		u->winner = i;
	else if (u->winner != i)
		(void)shutdown(SSL_get_fd(ssl), SHUT_RDWR);
}

/*
 * Said once per certificate loaded (at start, after a renewal): an expired
 * or not yet valid certificate never stops collection; records keep
 * spooling while the uplink retries at its backoff, and a renewed
 * certificate is picked up at the next round or on SIGHUP.
 */
static void
uplink_cert_expiry(struct uplink *u)
{
	long days;

	if ((u->cert_not_after = tlsctx_cert_not_after(u->ctx)) == 0)
		return;
	days = tlsctx_days(u->cert_not_after, time(NULL));
	if (days < 0)
		log_warnx("the client certificate expired %ld days ago: the "
		    "broker will refuse it; records keep spooling; renew it "
		    "(or fix the clock if its date is wrong), then reload",
		    -days);
	else if (days < TLSCTX_WARN_DAYS)
		log_warnx("the client certificate expires in %ld days: renew "
		    "it, then reload (systemctl reload fieldbridge)", days);
}

/* A new context from the CA, certificate and key files (tlsctx.c). */
static int
uplink_ctx_build(struct uplink *u, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = tlsctx_new(&u->files, u->tls_min, u->host,
	    u->host_numeric, err, errlen)) == NULL)
		return -EINVAL;
	/* libmosquitto ignores MOSQ_OPT_TLS_ALPN with an own context
	 * (docs/library-notes.md); 0 is success here. */
	if (u->alpn_len > 0 &&
	    SSL_CTX_set_alpn_protos(ctx, u->alpn, (unsigned)u->alpn_len) != 0) {
		(void)snprintf(err, errlen, "the ALPN protocols: refused by "
		    "OpenSSL");
		SSL_CTX_free(ctx);
		return -EIO;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, uplink_verify_cb);
	SSL_CTX_set_info_callback(ctx, uplink_ssl_info);
	SSL_CTX_set_app_data(ctx, u);
	SSL_CTX_free(u->ctx);
	u->ctx = ctx;
	u->cert_not_before = tlsctx_cert_not_before(ctx);
	uplink_cert_expiry(u);
	return 0;
}

/*
 * A failed attempt's TLS cause in plain words (tlsctx.c, the wording of
 * `fieldbridge check --connect`): our verdict on the broker's certificate,
 * else the alert the broker sent about ours.  0 when rc and libmosquitto's
 * last error say nothing about TLS.
 */
static int
uplink_tls_why(struct uplink *u, int rc, char *why, size_t sz)
{
	if (u->verify.err != 0)
		(void)tlsctx_explain_verify(why, sz, &u->verify, &u->files,
		    u->host, time(NULL), u->clock_synced);
	else if (rc == MOSQ_ERR_TLS || strstr(u->lib_err, " alert ") != NULL)
		(void)tlsctx_explain_alert(why, sz, u->lib_err, &u->files,
		    u->cert_not_before, u->cert_not_after, u->host, u->port,
		    time(NULL), u->clock_synced);
	else
		return 0;
	/* A warning once per cause; the retries say it at info level. */
	if (strcmp(why, u->tls_warned) != 0) {
		log_warnx("cannot connect to %s:%d: %s", u->host, u->port, why);
		(void)snprintf(u->tls_warned, sizeof(u->tls_warned), "%s", why);
	}
	uplink_error_text(u, why);
	return 1;
}

/* ---- connection attempts ---- */

static void
uplink_try_stop(struct uplink *u, int i)
{
	if (u->tries[i].mosq == NULL)
		return;
	mosquitto_destroy(u->tries[i].mosq);
	u->tries[i].mosq = NULL;
}

static void
uplink_fail_addr(struct uplink *u, int i, const char *why)
{
	char addr[UPLINK_ADDR_STR_MAX + 8];

	uplink_fmt_addr(addr, sizeof(addr), &u->addrs[i], u->port);
	(void)snprintf(u->fam_err[uplink_fam(u->addrs[i].family)],
	    sizeof(u->fam_err[0]), "%s: %s", addr, why);
	uplink_error(u, addr, why);
	log_info("cannot connect to %s at %s: %s", u->host, addr, why);
}

/* A failed attempt: rc a MOSQ_ERR_* (MOSQ_ERR_ERRNO: errno). */
static void
uplink_try_failed(struct uplink *u, int i, int rc, int err)
{
	char why[UPLINK_WHY_MAX];

	if (rc == MOSQ_ERR_ERRNO)
		(void)snprintf(why, sizeof(why), "%s", strerror(err));
	else if (uplink_tls_why(u, rc, why, sizeof(why)))
		;
	else if (rc == MOSQ_ERR_TLS && u->lib_err[0] != '\0')
		(void)snprintf(why, sizeof(why), "TLS: %.150s", u->lib_err);
	else
		(void)snprintf(why, sizeof(why), "%s", mosquitto_strerror(rc));
	uplink_try_stop(u, i);
	uplink_fail_addr(u, i, why);
}

/* Options every connection needs; the same for each attempt. */
static int
uplink_setup(struct uplink *u, struct mosquitto *m)
{
	int r;

	mosquitto_log_callback_set(m, uplink_cb_log);
	if ((r = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311)) != 0)
		return r;
	/* Our window, the results', the status message and one health
	 * message: libmosquitto never queues (a health message published
	 * while the previous one still waits for its PUBACK would wait in its
	 * list, not be lost). */
	if ((r = mosquitto_max_inflight_messages_set(m,
	    (unsigned int)u->nslots + UPLINK_RESULT_INFLIGHT + 2)) != 0)
		return r;
	if ((r = mosquitto_will_set(m, u->status_topic,
	    (int)strlen(UPLINK_STATUS_OFFLINE), UPLINK_STATUS_OFFLINE, 1,
	    true)) != 0)
		return r;
	if (u->username[0] != '\0' &&
	    (r = mosquitto_username_pw_set(m, u->username, NULL)) != 0)
		return r;
	/* Set once per object: setting it again would leak a reference. */
	if ((r = mosquitto_int_option(m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS,
	    0)) != 0)
		return r;
	return mosquitto_void_option(m, MOSQ_OPT_SSL_CTX, u->ctx);
}

/* Start the attempt to addrs[i]; a failure is recorded, not returned. */
static void
uplink_try_start(struct uplink *u, int i, uint64_t now_ms)
{
	struct uplink_try *t = &u->tries[i];
	struct mosquitto *m;
	int r;

	u->st.addr_attempts++;
	u->last_start_ms = now_ms;
	u->lib_err[0] = '\0';
	/* clean session off: the broker keeps our subscription and the
	 * commands published while we are away (QoS 1).  It keeps nothing
	 * we publish, so the fresh object per connection (above) still
	 * starts with nothing to resend. */
	if ((m = mosquitto_new(u->client_id, false, u)) == NULL) {
		uplink_try_failed(u, i, MOSQ_ERR_ERRNO, errno);
		return;
	}
	if ((r = uplink_setup(u, m)) != 0) {
		mosquitto_destroy(m);
		uplink_try_failed(u, i, r, errno);
		return;
	}
	log_debug("trying %s at %s", u->host, u->addrs[i].str);
	/*
	 * In place before the call: on a fast path (loopback) the whole
	 * handshake completes inside connect_async, which then writes the
	 * CONNECT at once; the info callback must find this attempt by its
	 * socket to make it the winner (or, a winner existing, shut it).
	 * A numeric address: libmosquitto's getaddrinfo looks nothing up.
	 */
	t->mosq = m;
	t->tcp_up = 0;
	t->start_ms = now_ms;
	r = mosquitto_connect_async(m, u->addrs[i].str, u->port,
	    u->keepalive_s);
	if (r != MOSQ_ERR_SUCCESS) {
		if (u->winner == i)
			u->winner = -1;
		uplink_try_failed(u, i, r, errno);
	}
}

static int
uplink_tries_running(const struct uplink *u)
{
	int i, n = 0;

	for (i = 0; i < u->naddrs; i++)
		if (u->tries[i].mosq != NULL)
			n++;
	return n;
}

static void
uplink_tries_stop(struct uplink *u)
{
	int i;

	for (i = 0; i < UPLINK_ADDRS_MAX; i++)
		uplink_try_stop(u, i);
	u->winner = -1;
}

/* An event on an attempt still in its handshake. */
static void
uplink_try_event(struct uplink *u, int i, short revents)
{
	struct uplink_try *t = &u->tries[i];
	socklen_t len = sizeof(int);
	int fd = mosquitto_socket(t->mosq), soerr = 0, r;

	if (revents & (POLLERR | POLLHUP)) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
		    soerr == 0)
			soerr = t->tcp_up ? ECONNRESET : ECONNREFUSED;
		uplink_try_failed(u, i, MOSQ_ERR_ERRNO, soerr);
		return;
	}
	if (revents & POLLOUT)
		t->tcp_up = 1;
	/* In the handshake, loop_read is what advances it (never writes
	 * the queued CONNECT). */
	errno = 0;
	r = mosquitto_loop_read(t->mosq, 1);
	if (r != MOSQ_ERR_SUCCESS || mosquitto_socket(t->mosq) < 0)
		uplink_try_failed(u, i, r != MOSQ_ERR_SUCCESS ? r :
		    MOSQ_ERR_CONN_LOST, errno);
}

/* ---- resolution ---- */

static int
uplink_ares_opts(struct ares_options *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout = UPLINK_DNS_TRY_MS;
	o->tries = UPLINK_DNS_TRIES;
	/* etc/hosts, then DNS: what glibc's "hosts: files dns" does. */
	o->lookups = (char *)"fb";
	return ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
}

/* The name servers of the current etc/resolv.conf into our channel. */
static void
uplink_resolver_refresh(struct uplink *u)
{
	struct ares_addr_port_node *servers = NULL;
	struct ares_options o;
	ares_channel tmp;
	int mask = uplink_ares_opts(&o), r;

	if ((r = ares_init_options(&tmp, &o, mask)) != ARES_SUCCESS) {
		log_debug("reading the resolver configuration: %s",
		    ares_strerror(r));
		return;
	}
	if ((r = ares_get_servers_ports(tmp, &servers)) == ARES_SUCCESS)
		r = ares_set_servers_ports(u->ares, servers);
	if (r != ARES_SUCCESS)
		log_debug("updating the name servers: %s", ares_strerror(r));
	ares_free_data(servers);
	ares_destroy(tmp);
}

static void
uplink_resolve_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *res)
{
	struct uplink *u = arg;

	/* Acted upon after the c-ares call that ran this. */
	if (u->res != NULL)
		ares_freeaddrinfo(u->res);
	u->res = res;
	u->res_status = status;
	u->res_done = 1;
}

static int
uplink_addr_known(const struct uplink_addr *a, int n,
    const struct uplink_addr *b)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i].family == b->family && strcmp(a[i].str, b->str) == 0)
			return 1;
	return 0;
}

/*
 * res (sorted by c-ares, RFC 6724) into out, interleaved by family as RFC
 * 8305 section 4 asks: the first address's family first, then the other,
 * alternating, so that a broken family costs one stagger, not several.
 */
static int
uplink_addrs_from(const struct ares_addrinfo *res, struct uplink_addr *out)
{
	struct uplink_addr fam[UPLINK_FAMS][UPLINK_ADDRS_MAX];
	const struct ares_addrinfo_node *nd;
	struct uplink_addr a;
	int nf[UPLINK_FAMS] = { 0, 0 }, first = -1, f, k, n = 0;
	const void *src;

	for (nd = res != NULL ? res->nodes : NULL; nd != NULL;
	    nd = nd->ai_next) {
		memset(&a, 0, sizeof(a));
		a.family = nd->ai_family;
		if (nd->ai_family == AF_INET &&
		    nd->ai_addrlen >= sizeof(struct sockaddr_in))
			src = &((const struct sockaddr_in *)
			    (const void *)nd->ai_addr)->sin_addr;
		else if (nd->ai_family == AF_INET6 &&
		    nd->ai_addrlen >= sizeof(struct sockaddr_in6))
			src = &((const struct sockaddr_in6 *)
			    (const void *)nd->ai_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(a.family, src, a.str, sizeof(a.str)) == NULL)
			continue;
		f = uplink_fam(a.family);
		if (first < 0)
			first = f;
		if (nf[f] < UPLINK_ADDRS_MAX &&
		    !uplink_addr_known(fam[f], nf[f], &a))
			fam[f][nf[f]++] = a;
	}
	if (first < 0)
		return 0;
	for (k = 0; n < UPLINK_ADDRS_MAX && (k < nf[0] || k < nf[1]); k++) {
		if (k < nf[first] && n < UPLINK_ADDRS_MAX)
			out[n++] = fam[first][k];
		if (k < nf[!first] && n < UPLINK_ADDRS_MAX)
			out[n++] = fam[!first][k];
	}
	return n;
}

static void
uplink_addrs_str(const struct uplink_addr *a, int n, char *buf, size_t sz)
{
	size_t used = 0;
	int i, w;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(buf + used, sz - used, "%s%s", i ? "," : "",
		    a[i].str);
		if (w < 0 || (size_t)w >= sz - used)
			break;
		used += (size_t)w;
	}
}

static void uplink_round_failed(struct uplink *u, uint64_t now_ms);
static void uplink_advance(struct uplink *u, uint64_t now_ms);

/* After any c-ares call: act on a finished lookup. */
static void
uplink_resolve_finish(struct uplink *u, uint64_t now_ms)
{
	char list[UPLINK_ADDRS_STR_MAX];
	struct ares_addrinfo *res = u->res;
	int status = u->res_status, n;

	if (!u->res_done || u->state != UPLINK_RESOLVING)
		return;
	u->res_done = 0;
	u->res = NULL;
	n = status == ARES_SUCCESS ? uplink_addrs_from(res, u->addrs) : 0;
	if (res != NULL)
		ares_freeaddrinfo(res);
	if (n > 0) {
		u->res_err[0] = '\0';
		memcpy(u->cache, u->addrs, sizeof(u->addrs[0]) * (size_t)n);
		u->ncache = n;
	} else {
		/* Our deadline or c-ares's own tries ran out first: the
		 * same to an operator. */
		(void)snprintf(u->res_err, sizeof(u->res_err), "%s",
		    status == ARES_ECANCELLED || status == ARES_ETIMEOUT ?
		    "no answer in time" :
		    status == ARES_SUCCESS ? "no IPv4 or IPv6 address" :
		    ares_strerror(status));
		if (u->ncache == 0) {
			log_warnx("cannot resolve %s: %s", u->host, u->res_err);
			uplink_error(u, u->host, u->res_err);
			uplink_round_failed(u, now_ms);
			return;
		}
		memcpy(u->addrs, u->cache, sizeof(u->addrs[0]) *
		    (size_t)u->ncache);
		n = u->ncache;
		uplink_addrs_str(u->addrs, n, list, sizeof(list));
		log_warnx("cannot resolve %s: %s; using its last known "
		    "addresses %s", u->host, u->res_err, list);
	}
	u->naddrs = n;
	uplink_addrs_str(u->addrs, n, list, sizeof(list));
	log_debug("%s: %s", u->host, list);
	u->next_addr = 0;
	u->winner = -1;
	uplink_set_state(u, UPLINK_CONNECTING);
	uplink_advance(u, now_ms);
}

/* ---- rounds ---- */

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

/* Drop the sockets, the lookup and every message libmosquitto still holds;
 * what was in flight is the caller's to send again (on_disconnect). */
static void
uplink_drop(struct uplink *u)
{
	int i;

	if (u->mosq != NULL)
		mosquitto_destroy(u->mosq);
	u->mosq = NULL;
	u->cur = -1;
	uplink_tries_stop(u);
	if (u->state == UPLINK_RESOLVING)
		ares_cancel(u->ares);
	if (u->res != NULL)
		ares_freeaddrinfo(u->res);
	u->res = NULL;
	u->res_done = 0;
	for (i = 0; i < u->nslots + UPLINK_RESULT_INFLIGHT; i++)
		u->slots[i].mid = 0;
	u->inflight = 0;
	u->status_mid = 0;
	u->lost = 0;
}

static void
uplink_round_failed(struct uplink *u, uint64_t now_ms)
{
	uplink_drop(u);
	uplink_set_state(u, UPLINK_IDLE);
	if (u->naddrs > 0)
		log_warnx("cannot connect to %s:%d at any of its %d "
		    "addresses", u->host, u->port, u->naddrs);
	uplink_schedule(u, now_ms);
}

/* The attempt that completed its handshake first becomes the connection;
 * the others are closed before any of them is driven again. */
static void
uplink_promote(struct uplink *u, uint64_t now_ms)
{
	struct uplink_try *t = &u->tries[u->winner];
	int i;

	u->mosq = t->mosq;
	u->cur = u->winner;
	t->mosq = NULL;
	for (i = 0; i < UPLINK_ADDRS_MAX; i++)
		uplink_try_stop(u, i);
	u->winner = -1;
	mosquitto_connect_callback_set(u->mosq, uplink_cb_connect);
	mosquitto_disconnect_callback_set(u->mosq, uplink_cb_disconnect);
	mosquitto_publish_callback_set(u->mosq, uplink_cb_publish);
	mosquitto_message_callback_set(u->mosq, uplink_cb_message);
	u->last_rx_ms = now_ms;
	log_debug("TLS with %s at %s established", u->host,
	    u->addrs[u->cur].str);
}

/* Start attempts as they are due; promote a winner; give up a round in
 * which every address failed. */
static void
uplink_advance(struct uplink *u, uint64_t now_ms)
{
	int running;

	if (u->state != UPLINK_CONNECTING || u->mosq != NULL)
		return;
	running = uplink_tries_running(u);
	while (u->winner < 0 && u->next_addr < u->naddrs && (running == 0 ||
	    now_ms - u->last_start_ms >= UPLINK_STAGGER_MS)) {
		uplink_try_start(u, u->next_addr++, now_ms);
		running = uplink_tries_running(u);
		if (running > 0 && now_ms - u->last_start_ms <
		    UPLINK_STAGGER_MS)
			break;
	}
	if (u->winner >= 0)
		uplink_promote(u, now_ms);
	else if (running == 0 && u->next_addr >= u->naddrs)
		uplink_round_failed(u, now_ms);
}

static void
uplink_round_start(struct uplink *u, uint64_t now_ms)
{
	struct ares_addrinfo_hints hints;
	char err[2 * UPLINK_ERR_MAX];
	uint32_t sig;

	u->st.attempts++;
	u->attempt_ms = now_ms;
	u->naddrs = 0;
	/* The files are re-read for each round: a renewed certificate is
	 * picked up by the next connection (uplink_reload_tls forces one). */
	sig = uplink_tls_sig(u);
	if ((u->ctx == NULL || sig != u->tls_sig) && sig != u->tls_bad_sig) {
		if (uplink_ctx_build(u, err, sizeof(err)) == 0)
			u->tls_sig = sig;
		else {
			/* Said once per set of files; a renewal that went
			 * wrong keeps the gateway on the files it had. */
			u->tls_bad_sig = sig;
			log_warnx("cannot load the TLS files: %s%s", err,
			    u->ctx != NULL ? "; connecting with the previous "
			    "ones until they are fixed (then reload)" : "");
			uplink_error(u, "cannot load the TLS files", err);
		}
	}
	if (u->ctx == NULL) {
		u->state = UPLINK_IDLE;
		uplink_schedule(u, now_ms);
		return;
	}
	memset(&u->verify, 0, sizeof(u->verify));
	uplink_resolver_refresh(u);
	uplink_set_state(u, UPLINK_RESOLVING);
	u->res_deadline_ms = now_ms + UPLINK_RESOLVE_TIMEOUT_MS;
	u->res_done = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	log_debug("resolving %s", u->host);
	/* Answers from etc/hosts or for an address come at once. */
	ares_getaddrinfo(u->ares, u->host, NULL, &hints, uplink_resolve_cb, u);
	uplink_resolve_finish(u, now_ms);
}

/*
 * The broker closed a connection it had accepted: within
 * UPLINK_TAKEOVER_AFTER_MS of the CONNACK, the close counts towards a
 * take-over episode (uplink.h), said once per episode.
 */
static void
uplink_takeover_note(struct uplink *u, uint64_t now_ms)
{
	char text[UPLINK_WHY_MAX];
	uint64_t first;
	int i, n = 0, min;

	if (now_ms - u->up_ms >= UPLINK_TAKEOVER_AFTER_MS)
		return;
	if (u->nearly == UPLINK_TAKEOVER_COUNT) {
		memmove(u->early_ms, u->early_ms + 1,
		    sizeof(u->early_ms[0]) * (UPLINK_TAKEOVER_COUNT - 1));
		u->nearly--;
	}
	u->early_ms[u->nearly++] = now_ms;
	first = now_ms;
	for (i = 0; i < u->nearly; i++)
		if (now_ms - u->early_ms[i] <= UPLINK_TAKEOVER_WINDOW_MS) {
			n++;
			if (u->early_ms[i] < first)
				first = u->early_ms[i];
		}
	if (n < UPLINK_TAKEOVER_COUNT)
		return;
	min = (int)((now_ms - first + 59999) / 60000);
	if (min < 1)
		min = 1;
	/* Each close of the episode is a take-over, not a lost link, in
	 * the status file; the log says it once. */
	(void)snprintf(text, sizeof(text), "client id %s taken over %d times "
	    "in %d min: another client uses it (a cloned SD card or a "
	    "duplicate gateway_id?)", u->client_id, n, min);
	uplink_error_text(u, text);
	if (u->takeover)
		return;
	u->takeover = 1;
	u->st.takeovers++;
	log_warnx("the broker closed our session %d times in %d minute%s "
	    "right after it was accepted: another client is probably using "
	    "client id %s (a cloned SD card or a duplicate gateway_id?); "
	    "reconnecting with back-off", n, min, min == 1 ? "" : "s",
	    u->client_id);
}

/* Tear down after a lost connection or a failed winner. */
static void
uplink_down(struct uplink *u, int rc, uint64_t now_ms)
{
	enum uplink_state was = u->state;
	char why[UPLINK_WHY_MAX];
	int err = errno, cur = u->cur;

	if (was == UPLINK_CONNECTING && uplink_tls_why(u, rc, why,
	    sizeof(why)))
		;
	else if (rc == MOSQ_ERR_ERRNO)
		(void)snprintf(why, sizeof(why), "%s", strerror(err));
	else
		(void)snprintf(why, sizeof(why), "%s",
		    rc == MOSQ_ERR_KEEPALIVE ? "no answer from the broker" :
		    mosquitto_strerror(rc));
	uplink_drop(u);
	if (was == UPLINK_STOPPING || was == UPLINK_STOPPED) {
		uplink_set_state(u, UPLINK_STOPPED);
		if (u->ops.on_disconnect != NULL)
			u->ops.on_disconnect(u->arg, rc);
		return;
	}
	uplink_set_state(u, UPLINK_IDLE);
	if (was == UPLINK_UP) {
		u->st.disconnects++;
		log_warnx("connection to %s:%d lost: %s", u->host, u->port,
		    why);
		uplink_error(u, "connection lost", why);
		if (now_ms - u->up_ms >= UPLINK_STABLE_MS)
			u->failures = 0;
		/* Closed by the broker, with nothing wrong on our side.  With
		 * a persistent session a take-over shows as a protocol error
		 * too (seen in test_takeover with mosquitto 2.0): it counts,
		 * as the note needs several soon after their CONNACK. */
		if (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_PROTOCOL ||
		    (rc == MOSQ_ERR_ERRNO && (err == ECONNRESET ||
		    err == EPIPE)))
			uplink_takeover_note(u, now_ms);
	} else if (cur >= 0)
		uplink_fail_addr(u, cur, why);
	else {
		log_warnx("cannot connect to %s:%d: %s", u->host, u->port, why);
		uplink_error(u, u->host, why);
	}
	uplink_schedule(u, now_ms);
	if (was == UPLINK_UP && u->ops.on_disconnect != NULL)
		u->ops.on_disconnect(u->arg, rc);
}

/* Act on what the callbacks reported during a libmosquitto call. */
static void
uplink_after(struct uplink *u, int rc, uint64_t now_ms)
{
	if (u->offline_acked && u->state == UPLINK_STOPPING && !u->lost) {
		u->offline_acked = 0;
		(void)mosquitto_disconnect(u->mosq);
		uplink_set_state(u, UPLINK_STOPPED);
		log_info("disconnected from %s:%d", u->host, u->port);
		return;
	}
	if (u->lost || (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN &&
	    u->state != UPLINK_IDLE && u->state != UPLINK_STOPPED))
		uplink_down(u, u->lost ? u->lost_rc : rc, now_ms);
}

/* The connection's socket reported an error or a hang-up: give it up. */
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

static int
uplink_live(const struct uplink *u)
{
	return u->mosq != NULL && (u->state == UPLINK_CONNECTING ||
	    u->state == UPLINK_UP || u->state == UPLINK_STOPPING);
}

/* Events on the connection (the race's winner). */
static void
uplink_handle_conn(struct uplink *u, short revents, uint64_t now_ms)
{
	int rc = MOSQ_ERR_SUCCESS;

	if ((revents & (POLLERR | POLLHUP)) && u->state == UPLINK_CONNECTING) {
		uplink_sock_failed(u, now_ms);
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		u->last_rx_ms = now_ms;
		rc = mosquitto_loop_read(u->mosq, 1);
		uplink_after(u, rc, now_ms);
	}
	if ((revents & POLLOUT) && uplink_live(u)) {
		rc = mosquitto_loop_write(u->mosq, 1);
		uplink_after(u, rc, now_ms);
	}
	/* A hung-up socket that libmosquitto did not give up on. */
	if ((revents & (POLLERR | POLLHUP)) && uplink_live(u))
		uplink_sock_failed(u, now_ms);
}

int
uplink_pollfds(const struct uplink *u, struct pollfd *pfd, int max)
{
	ares_socket_t socks[UPLINK_RESOLVER_FDS_MAX];
	const struct uplink_try *t;
	int n = 0, i, bits, fd;
	short ev;

	switch (u->state) {
	case UPLINK_RESOLVING:
		bits = ares_getsock(u->ares, socks, UPLINK_RESOLVER_FDS_MAX);
		for (i = 0; i < UPLINK_RESOLVER_FDS_MAX && n < max; i++) {
			ev = 0;
			if (ARES_GETSOCK_READABLE(bits, i))
				ev |= POLLIN;
			if (ARES_GETSOCK_WRITABLE(bits, i))
				ev |= POLLOUT;
			if (ev == 0)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = ev;
			pfd[n++].revents = 0;
		}
		break;
	case UPLINK_CONNECTING:
	case UPLINK_UP:
	case UPLINK_STOPPING:
		if (u->mosq != NULL) {
			if ((fd = mosquitto_socket(u->mosq)) >= 0 && n < max) {
				pfd[n].fd = fd;
				pfd[n].events = POLLIN |
				    (mosquitto_want_write(u->mosq) ? POLLOUT : 0);
				pfd[n++].revents = 0;
			}
			break;
		}
		for (i = 0; i < u->naddrs && n < max; i++) {
			t = &u->tries[i];
			if (t->mosq == NULL || (fd = mosquitto_socket(t->mosq)) < 0)
				continue;
			/* Writable first means connected; after that only
			 * when TLS wants to write. */
			pfd[n].fd = fd;
			pfd[n].events = POLLIN | (!t->tcp_up ||
			    mosquitto_want_write(t->mosq) ? POLLOUT : 0);
			pfd[n++].revents = 0;
		}
		break;
	default:
		break;
	}
	return n;
}

void
uplink_handle(struct uplink *u, const struct pollfd *pfd, int n,
    uint64_t now_ms)
{
	int i, k;

	u->now_ms = now_ms;
	switch (u->state) {
	case UPLINK_RESOLVING:
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				ares_process_fd(u->ares, pfd[i].revents &
				    (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd :
				    ARES_SOCKET_BAD, pfd[i].revents & POLLOUT ?
				    pfd[i].fd : ARES_SOCKET_BAD);
		uplink_resolve_finish(u, now_ms);
		return;
	case UPLINK_CONNECTING:
		if (u->mosq != NULL)
			break;
		/* No socket is opened in here: a descriptor matched is the
		 * attempt's own.  Once a winner exists, no other is driven. */
		for (i = 0; i < n && u->winner < 0; i++)
			if (pfd[i].revents != 0 &&
			    (k = uplink_try_find_fd(u, pfd[i].fd)) >= 0)
				uplink_try_event(u, k, pfd[i].revents);
		uplink_advance(u, now_ms);
		return;
	case UPLINK_UP:
	case UPLINK_STOPPING:
		break;
	default:
		return;
	}
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0 && uplink_live(u) &&
		    pfd[i].fd == mosquitto_socket(u->mosq))
			uplink_handle_conn(u, pfd[i].revents, now_ms);
}

int64_t
uplink_tick(struct uplink *u, uint64_t now_ms)
{
	uint64_t silence_ms = (uint64_t)u->keepalive_s * 1500;
	int rc, i;

	u->now_ms = now_ms;
	switch (u->state) {
	case UPLINK_IDLE:
		if (!u->started)
			return -1;
		if (now_ms >= u->next_attempt_ms)
			uplink_round_start(u, now_ms);
		if (u->state == UPLINK_IDLE)
			return (int64_t)(u->next_attempt_ms - now_ms);
		return 100;
	case UPLINK_RESOLVING:
		/* c-ares's own timeouts and retries. */
		ares_process_fd(u->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		uplink_resolve_finish(u, now_ms);
		if (u->state == UPLINK_RESOLVING &&
		    now_ms >= u->res_deadline_ms) {
			ares_cancel(u->ares);	/* runs the callback */
			uplink_resolve_finish(u, now_ms);
		}
		return 100;
	case UPLINK_CONNECTING:
		if (u->mosq != NULL)
			break;
		for (i = 0; i < u->naddrs; i++)
			if (u->tries[i].mosq != NULL && now_ms -
			    u->tries[i].start_ms >= UPLINK_ATTEMPT_TIMEOUT_MS)
				uplink_try_failed(u, i, MOSQ_ERR_ERRNO,
				    ETIMEDOUT);
		uplink_advance(u, now_ms);
		return 100;
	case UPLINK_UP:
	case UPLINK_STOPPING:
		break;
	case UPLINK_STOPPED:
		return -1;
	}
	if (u->state == UPLINK_UP && now_ms - u->up_ms >=
	    UPLINK_TAKEOVER_AFTER_MS && (u->takeover || u->nearly > 0)) {
		if (u->takeover)
			log_info("connected for %d s: client id %s is ours "
			    "again", UPLINK_TAKEOVER_AFTER_MS / 1000,
			    u->client_id);
		u->takeover = 0;
		u->nearly = 0;
	}
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
	uplink_set_state(u, UPLINK_IDLE);
	u->next_attempt_ms = now_ms;
	if (was == UPLINK_UP && u->ops.on_disconnect != NULL)
		u->ops.on_disconnect(u->arg, MOSQ_ERR_SUCCESS);
	return 1;
}

void
uplink_tls_files(struct uplink *u, const char *ca, const char *cert,
    const char *key)
{
	snprintf(u->ca, sizeof(u->ca), "%s", ca);
	snprintf(u->cert, sizeof(u->cert), "%s", cert);
	snprintf(u->key, sizeof(u->key), "%s", key);
	u->files.ca = u->ca;
	u->files.cert = u->cert;
	u->files.key = u->key;
}

int
uplink_load_tls(struct uplink *u, char *err, size_t errlen)
{
	uint32_t sig = uplink_tls_sig(u);
	int r;

	if ((r = uplink_ctx_build(u, err, errlen)) == 0)
		u->tls_sig = sig;
	return r;
}

void
uplink_set_clock_synced(struct uplink *u, int synced)
{
	u->clock_synced = synced;
}

void
uplink_start(struct uplink *u, uint64_t now_ms)
{
	u->started = 1;
	u->next_attempt_ms = now_ms;
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

/* Publish to topic in a free slot of slots[first..last), QoS 1. */
static int
uplink_send(struct uplink *u, const char *topic, const void *data,
    size_t len, uint64_t cookie, int first, int last)
{
	int i, mid = 0, r;

	for (i = first; i < last && u->slots[i].mid != 0; i++)
		;
	if (i == last)
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
	return 0;
}

int
uplink_publish_sub(struct uplink *u, const char *stream, const char *sub,
    const void *data, size_t len, uint64_t cookie)
{
	char topic[UPLINK_TOPIC_MAX];
	int r;

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
	if (topic_expand(sub == NULL ? u->tmpl_batch : u->tmpl_backlog,
	    u->prefix, u->gw, stream, topic, sizeof(topic)) != 0)
		return -EINVAL;
	if ((r = uplink_send(u, topic, data, len, cookie, 0, u->nslots)) != 0)
		return r;
	u->inflight++;
	u->st.published++;
	return 0;
}

/*
 * The health message: retained, so a dashboard that subscribes later gets
 * the last one at once.  Its PUBACK (uplink_cb_publish finds no batch with
 * its mid) is not waited for: a health message lost with the connection is
 * replaced by the one published after the next CONNACK.
 */
int
uplink_publish_health(struct uplink *u, const void *buf, size_t len)
{
	int r;

	if (u->state != UPLINK_UP)
		return -ENOTCONN;
	if (len > INT32_MAX)
		return -EINVAL;
	r = mosquitto_publish(u->mosq, NULL, u->health_topic, (int)len, buf,
	    1, true);
	if (r == MOSQ_ERR_SUCCESS)
		return 0;
	/* The connection is failing; let the next tick find out. */
	log_debug("publish health: %s", mosquitto_strerror(r));
	return r == MOSQ_ERR_NOMEM ? -ENOMEM : -EIO;
}

int
uplink_publish_result(struct uplink *u, const void *data, size_t len,
    uint64_t cookie)
{
	if (u->state != UPLINK_UP)
		return -ENOTCONN;
	if (len > INT32_MAX)
		return -EINVAL;
	return uplink_send(u, u->result_topic, data, len, cookie, u->nslots,
	    u->nslots + UPLINK_RESULT_INFLIGHT);
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
		uplink_drop(u);
		uplink_set_state(u, UPLINK_STOPPED);
		return;
	}
	r = mosquitto_publish(u->mosq, &u->status_mid, u->status_topic,
	    (int)strlen(UPLINK_STATUS_OFFLINE), UPLINK_STATUS_OFFLINE, 1,
	    true);
	if (r != MOSQ_ERR_SUCCESS) {
		(void)mosquitto_disconnect(u->mosq);
		uplink_set_state(u, UPLINK_STOPPED);
		return;
	}
	uplink_set_state(u, UPLINK_STOPPING);
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

const char *
uplink_address(const struct uplink *u)
{
	if (u->mosq == NULL || u->cur < 0 || u->state != UPLINK_UP)
		return "";
	return u->addrs[u->cur].str;
}

void
uplink_status(const struct uplink *u, FILE *f)
{
	static const char *const names[] = {
		[UPLINK_IDLE] = "waiting",
		[UPLINK_RESOLVING] = "resolving",
		[UPLINK_CONNECTING] = "connecting",
		[UPLINK_UP] = "connected",
		[UPLINK_STOPPING] = "stopping",
		[UPLINK_STOPPED] = "stopped",
	};
	char list[UPLINK_ADDRS_STR_MAX];

	uplink_addrs_str(u->cache, u->ncache, list, sizeof(list));
	status_str(f, STATUS_K_MQTT_STATE, names[u->state]);
	/* Values shorter than `fieldbridge status` takes (cli_status.h). */
	fprintf(f, STATUS_K_MQTT_HOST "=%.120s\n", u->host);
	status_i64(f, STATUS_K_MQTT_PORT, u->port);
	status_str(f, STATUS_K_MQTT_ADDRESS, uplink_address(u));
	fprintf(f, STATUS_K_MQTT_ADDRESSES "=%.120s\n"
	    STATUS_K_MQTT_RESOLVE_ERROR "=%.120s\n"
	    STATUS_K_MQTT_ERROR_IPV4 "=%.120s\n"
	    STATUS_K_MQTT_ERROR_IPV6 "=%.120s\n", list, u->res_err,
	    u->fam_err[UPLINK_FAM_IPV4], u->fam_err[UPLINK_FAM_IPV6]);
	status_i64(f, STATUS_K_MQTT_STATE_SINCE, (int64_t)u->state_since);
	status_text(f, STATUS_K_MQTT_LAST_ERROR, u->last_err);
	status_i64(f, STATUS_K_MQTT_LAST_ERROR_AT, (int64_t)u->last_err_at);
	status_u64(f, STATUS_K_MQTT_TAKEOVERS, u->st.takeovers);
	status_i64(f, STATUS_K_TLS_CERT_EXPIRES, (int64_t)u->cert_not_after);
	if (u->cert_not_after != 0)
		status_i64(f, STATUS_K_TLS_CERT_DAYS, tlsctx_days(u->cert_not_after, time(NULL)));
}

/* "a,b" (checked by conf.c) as ALPN's wire list: length-prefixed
 * names, RFC 7301 section 3.1. */
static int
uplink_alpn_wire(const char *list, unsigned char *out, size_t size,
    size_t *len)
{
	const char *p = list, *e;
	size_t n, used = 0;

	*len = 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || n > 255 || n + 1 > size - used)
			return -EINVAL;
		out[used++] = (unsigned char)n;
		memcpy(out + used, p, n);
		used += n;
		p += n + (e != NULL);
	}
	*len = used;
	return 0;
}

int
uplink_new(const struct conf *c, const struct uplink_ops *ops, void *arg,
    struct uplink **out)
{
	struct uplink *u = NULL;
	struct ares_options o;
	struct in6_addr a6;
	int r = -ENOMEM, n, mask;

	*out = NULL;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		goto fail;
	u->cur = u->winner = -1;
	if ((u->slots = calloc((size_t)c->mqtt.inflight_max +
	    UPLINK_RESULT_INFLIGHT, sizeof(*u->slots))) == NULL)
		goto fail;
	u->nslots = c->mqtt.inflight_max;
	if (ops != NULL)
		u->ops = *ops;
	u->arg = arg;
	r = -EINVAL;
	snprintf(u->host, sizeof(u->host), "%s", c->mqtt.host);
	u->host_numeric = inet_pton(AF_INET, u->host, &a6) == 1 ||
	    inet_pton(AF_INET6, u->host, &a6) == 1;
	u->port = c->mqtt.port;
	uplink_tls_files(u, c->mqtt.ca, c->mqtt.cert, c->mqtt.key);
	snprintf(u->ca_name, sizeof(u->ca_name), "%s", c->mqtt.ca);
	snprintf(u->cert_name, sizeof(u->cert_name), "%s", c->mqtt.cert);
	snprintf(u->key_name, sizeof(u->key_name), "%s", c->mqtt.key);
	u->files.ca_name = u->ca_name;
	u->files.cert_name = u->cert_name;
	u->files.key_name = u->key_name;
	snprintf(u->client_id, sizeof(u->client_id), "%s",
	    c->mqtt.client_id[0] != '\0' ? c->mqtt.client_id : c->gateway_id);
	snprintf(u->prefix, sizeof(u->prefix), "%s", c->mqtt.topic_prefix);
	snprintf(u->gw, sizeof(u->gw), "%s", c->gateway_id);
	snprintf(u->tmpl_batch, sizeof(u->tmpl_batch), "%s",
	    c->mqtt.topic_batch);
	snprintf(u->tmpl_backlog, sizeof(u->tmpl_backlog), "%s",
	    c->mqtt.topic_backlog);
	if (topic_expand(c->mqtt.topic_status, u->prefix, u->gw, NULL,
	    u->status_topic, sizeof(u->status_topic)) != 0 ||
	    topic_expand(TOPIC_COMMANDS, u->prefix, u->gw, NULL,
	    u->cmd_topic, sizeof(u->cmd_topic)) != 0 ||
	    topic_expand(TOPIC_COMMAND_RESULTS, u->prefix, u->gw, NULL,
	    u->result_topic, sizeof(u->result_topic)) != 0 ||
	    topic_expand(c->mqtt.topic_health, u->prefix, u->gw, NULL,
	    u->health_topic, sizeof(u->health_topic)) != 0)
		goto fail;
	snprintf(u->username, sizeof(u->username), "%s", c->mqtt.username);
	if ((r = uplink_alpn_wire(c->mqtt.alpn, u->alpn, sizeof(u->alpn),
	    &u->alpn_len)) != 0)
		goto fail;
	r = -EINVAL;
	u->keepalive_s = c->mqtt.keepalive_s;
	u->tls_min = c->mqtt.tls_min;
	u->backoff_min_ms = (uint32_t)c->mqtt.backoff_min_ms;
	u->backoff_max_ms = (uint32_t)c->mqtt.backoff_max_ms;
	if (uplink_lib_refs++ == 0)
		mosquitto_lib_init();
	u->lib = 1;
	/* Before the chroot: c-ares keys its query ids from /dev/urandom. */
	if (uplink_ares_refs++ == 0 &&
	    ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		uplink_ares_refs--;
		r = -ENOMEM;
		goto fail;
	}
	u->ares_lib = 1;
	mask = uplink_ares_opts(&o);
	if ((n = ares_init_options(&u->ares, &o, mask)) != ARES_SUCCESS) {
		u->ares = NULL;
		r = n == ARES_ENOMEM ? -ENOMEM : -EIO;
		goto fail;
	}
	uplink_set_state(u, UPLINK_IDLE);
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
	uplink_drop(u);
	if (u->ares != NULL)
		ares_destroy(u->ares);	/* callbacks: ARES_EDESTRUCTION */
	if (u->res != NULL)
		ares_freeaddrinfo(u->res);
	if (u->ares_lib && --uplink_ares_refs == 0)
		ares_library_cleanup();
	SSL_CTX_free(u->ctx);
	if (u->lib && --uplink_lib_refs == 0)
		mosquitto_lib_cleanup();
	free(u->slots);
	free(u);
}
