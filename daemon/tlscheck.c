/*
 * tlscheck.c - the uplink's TLS material as `fieldbridge check` sees it.
 *
 * The files are inspected with GnuTLS (the certificate-inspection library
 * of the project): each is read whole (bounded), recognised as PEM or DER,
 * parsed, and then compared: the key against the certificate (their key
 * ids), the certificate chain against the CA (a trust list, times ignored
 * so that dates get their own message), the dates against the clock.  The
 * daemon itself loads these files with OpenSSL as PEM only
 * (tlsctx.c), so DER and a key with a passphrase are errors here, each
 * with the command that converts it.
 *
 * The connection check uses the daemon's own context (tlsctx_new) and
 * libmosquitto, and turns the first cause it can find into plain words:
 * the TCP connect first (refused, unreachable, silent), then OpenSSL's
 * verify result for the broker's certificate, then the alert the broker
 * sent about ours, then the CONNACK code, then whether the broker dropped
 * us after accepting (another client with our id).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <mosquitto.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "daemon/check.h"
#include "daemon/conf.h"
#include "daemon/fsutil.h"
#include "daemon/tlscheck.h"
#include "daemon/tlsctx.h"

#define TLSCHECK_FILE_MAX	(1024 * 1024)	/* bytes of a PEM bundle */
#define TLSCHECK_TCP_TIMEOUT_MS	5000
#define TLSCHECK_MQTT_TIMEOUT_MS 15000
#define TLSCHECK_POLL_MS	200
#define TLSCHECK_KEY_ID_MAX	64		/* bytes of a key id */
#define TLSCHECK_MSG_MAX	256
#define TLSCHECK_TOPIC_MAX	256
#define TLSCHECK_CHECK_TOPIC	"check"

/* Reads path whole into d (gnutls_free).  Returns 0 or -errno. */
static int
tlscheck_read(const char *path, gnutls_datum_t *d, struct stat *st)
{
	ssize_t n;
	int fd, r = 0;

	d->data = NULL;
	d->size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if (st->st_size > TLSCHECK_FILE_MAX) {
		r = -EFBIG;
		goto out;
	}
	if ((d->data = gnutls_malloc((size_t)st->st_size + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((n = fsutil_read_full(fd, d->data, (size_t)st->st_size)) < 0) {
		r = (int)n;
		goto out;
	}
	d->data[n] = '\0';
	d->size = (unsigned)n;
out:
	if (r != 0) {
		gnutls_free(d->data);
		d->data = NULL;
	}
	close(fd);
	return r;
}

static int
tlscheck_is_pem(const gnutls_datum_t *d)
{
	return memmem(d->data, d->size, "-----BEGIN ", 11) != NULL;
}

/* Reads one of the files; a problem is reported at `at`.  Returns 0 with
 * d filled, or -1. */
static int
tlscheck_load(struct check_out *o, const char *at, const char *path,
    gnutls_datum_t *d, struct stat *st, const char *convert)
{
	int r;

	if ((r = tlscheck_read(path, d, st)) != 0) {
		check_error(o, at, "cannot read %s: %s%s", path,
		    r == -EINVAL ? "not a regular file" : strerror(-r),
		    r == -ENOENT ? "; copy the file there or correct the "
		    "path" : "");
		return -1;
	}
	if (d->size == 0) {
		check_error(o, at, "%s is empty", path);
		goto fail;
	}
	if (!tlscheck_is_pem(d)) {
		/* The daemon loads PEM only (tlsctx.c). */
		check_error(o, at, "%s is DER (binary), the daemon reads PEM: "
		    "convert it with `%s -inform DER -in %s -out %s.pem` and "
		    "name the .pem file here", path, convert, path, path);
		goto fail;
	}
	return 0;
fail:
	gnutls_free(d->data);
	d->data = NULL;
	return -1;
}

/* The certificates of a PEM file; reported at `at`.  Returns their count
 * (>0) or -1. */
static int
tlscheck_certs(struct check_out *o, const char *at, const char *path,
    const gnutls_datum_t *d, gnutls_x509_crt_t **list)
{
	unsigned n = 0;
	int r;

	*list = NULL;
	if ((r = gnutls_x509_crt_list_import2(list, &n, d,
	    GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
		check_error(o, at, "%s holds no certificate GnuTLS can read: %s",
		    path, r < 0 ? gnutls_strerror(r) : "none found");
		*list = NULL;
		return -1;
	}
	return (int)n;
}

static void
tlscheck_certs_free(gnutls_x509_crt_t *list, int n)
{
	int i;

	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(list[i]);
	gnutls_free(list);
}

/* Validity of one certificate against now; `what` names it. */
static void
tlscheck_dates(struct check_out *o, const char *at, const char *path,
    const char *what, gnutls_x509_crt_t crt, time_t now, int synced,
    int leaf)
{
	char from[64], until[64], hint[TLSCHECK_MSG_MAX];
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);
	long days = tlsctx_days(na, now);

	tlsctx_date(nb, from, sizeof(from));
	tlsctx_date(na, until, sizeof(until));
	tlsctx_clock_hint(hint, sizeof(hint), now, synced);
	if (nb != (time_t)-1 && now < nb)
		check_error(o, at, "%s: %s is not valid before %s%s", path,
		    what, from, hint);
	else if (na != (time_t)-1 && now > na)
		check_error(o, at, "%s: %s expired on %s (%ld days ago): renew "
		    "it%s", path, what, until, -days, hint);
	else if (leaf && days < TLSCTX_WARN_DAYS)
		check_warn(o, at, "%s: %s expires on %s, in %ld days: renew it "
		    "soon (replace the file, then `systemctl reload "
		    "fieldbridge`)", path, what, until, days);
	else if (leaf)
		check_note(o, at, "%s: %s valid until %s (%ld days)", path,
		    what, until, days);
}

/* The client key: PEM, no passphrase, parsed into *key. */
static int
tlscheck_key(struct check_out *o, const char *at, const char *path,
    gnutls_x509_privkey_t *key)
{
	gnutls_datum_t d;
	struct stat st;
	int r;

	*key = NULL;
	if (tlscheck_load(o, at, path, &d, &st, "openssl pkey") != 0)
		return -1;
	if (st.st_mode & 077)
		check_warn(o, at, "%s may be read by %s: `chmod 600 %s`", path,
		    st.st_mode & 007 ? "anyone" : "its group", path);
	if (memmem(d.data, d.size, "ENCRYPTED", 9) != NULL) {
		check_error(o, at, "%s has a passphrase, which the daemon "
		    "cannot type: remove it with `openssl pkey -in %s -out "
		    "%s.new` (it asks for the passphrase), keep the new file "
		    "mode 0600 and rename it over the old one", path, path,
		    path);
		r = -1;
		goto out;
	}
	if ((r = gnutls_x509_privkey_init(key)) < 0 ||
	    (r = gnutls_x509_privkey_import2(*key, &d, GNUTLS_X509_FMT_PEM,
	    NULL, 0)) < 0) {
		check_error(o, at, "%s is not a private key GnuTLS can read: "
		    "%s", path, gnutls_strerror(r));
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		r = -1;
	}
out:
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return r < 0 ? -1 : 0;
}

/* The key belongs to the certificate: same key id. */
static void
tlscheck_match(struct check_out *o, const struct tlscheck_at *at,
    const struct conf *c, gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	unsigned char a[TLSCHECK_KEY_ID_MAX], b[TLSCHECK_KEY_ID_MAX];
	size_t na = sizeof(a), nb = sizeof(b);

	if (gnutls_x509_crt_get_key_id(crt, 0, a, &na) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, 0, b, &nb) < 0) {
		check_error(o, at->key, "cannot compare %s with %s",
		    c->mqtt.key, c->mqtt.cert);
		return;
	}
	if (na != nb || memcmp(a, b, na) != 0)
		check_error(o, at->key, "%s is not the key of the certificate "
		    "%s: install the key that was generated with that "
		    "certificate's request, or a certificate issued for this "
		    "key", c->mqtt.key, c->mqtt.cert);
}

/* The certificate's chain against the CA file, dates aside. */
static void
tlscheck_chain(struct check_out *o, const struct tlscheck_at *at,
    const struct conf *c, const gnutls_datum_t *ca, gnutls_x509_crt_t *crts,
    int n)
{
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_datum_t txt = { NULL, 0 };
	unsigned status = 0;
	int r;

	if ((r = gnutls_x509_trust_list_init(&tl, 0)) < 0 ||
	    (r = gnutls_x509_trust_list_add_trust_mem(tl, ca, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0)) < 0 ||
	    (r = gnutls_x509_trust_list_verify_crt(tl, crts, (unsigned)n,
	    GNUTLS_VERIFY_DISABLE_TIME_CHECKS |
	    GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS, &status, NULL)) < 0) {
		check_error(o, at->cert, "cannot verify %s against %s: %s",
		    c->mqtt.cert, c->mqtt.ca, gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		(void)gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &txt, 0);
		check_error(o, at->cert, "%s was not issued by the CA in %s "
		    "(%s): the broker will refuse it; install the certificate "
		    "your broker's CA issued for this gateway, with its "
		    "intermediate certificates in the same file, or the CA "
		    "file that came with it", c->mqtt.cert, c->mqtt.ca,
		    txt.data != NULL ? (char *)txt.data : "not trusted");
	}
out:
	gnutls_free(txt.data);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
}

void
tlscheck_files(struct check_out *o, const struct conf *c,
    const struct tlscheck_at *at, time_t now, int synced)
{
	gnutls_datum_t ca = { NULL, 0 }, cert = { NULL, 0 };
	gnutls_x509_crt_t *cas = NULL, *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	struct stat st;
	int ncas = 0, ncrts = 0, i;

	if (tlscheck_load(o, at->ca, c->mqtt.ca, &ca, &st, "openssl x509")
	    == 0 && (ncas = tlscheck_certs(o, at->ca, c->mqtt.ca, &ca,
	    &cas)) > 0)
		for (i = 0; i < ncas; i++)
			tlscheck_dates(o, at->ca, c->mqtt.ca, "the CA "
			    "certificate", cas[i], now, synced, 0);
	if (tlscheck_load(o, at->cert, c->mqtt.cert, &cert, &st,
	    "openssl x509") == 0 && (ncrts = tlscheck_certs(o, at->cert,
	    c->mqtt.cert, &cert, &crts)) > 0)
		tlscheck_dates(o, at->cert, c->mqtt.cert, "the client "
		    "certificate", crts[0], now, synced, 1);
	(void)tlscheck_key(o, at->key, c->mqtt.key, &key);
	if (ncrts > 0 && key != NULL)
		tlscheck_match(o, at, c, crts[0], key);
	if (ncrts > 0 && ncas > 0)
		tlscheck_chain(o, at, c, &ca, crts, ncrts);
	gnutls_x509_privkey_deinit(key);
	tlscheck_certs_free(cas, ncas);
	tlscheck_certs_free(crts, ncrts);
	gnutls_free(ca.data);
	gnutls_free(cert.data);
}

/* ---- one real connection ---- */

struct tlscheck_conn {
	const char	*host;		/* SNI; NULL for an address */
	int		 connack;	/* -1 until CONNACK */
	int		 got_connack;
	int		 mid;
	int		 acked;
	int		 closed;	/* disconnect seen, with rc */
	int		 close_rc;
	char		 ssl_log[TLSCHECK_MSG_MAX]; /* first OpenSSL error */
};

/* OpenSSL's verify callback has no argument of ours: the CLI checks one
 * connection at a time, so one static slot is enough. */
static struct tlsctx_verify tlscheck_verify;

static int
tlscheck_verify_cb(int ok, X509_STORE_CTX *x)
{
	return tlsctx_verify_note(&tlscheck_verify, ok, x);
}

/* The configured name as SNI, as the uplink sends it (library-notes.md:
 * libmosquitto would send the numeric address it was given). */
static void
tlscheck_ssl_info(const SSL *ssl, int where, int ret)
{
	struct tlscheck_conn *k = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (k != NULL && (where & SSL_CB_HANDSHAKE_START))
		(void)SSL_set_tlsext_host_name((SSL *)ssl, k->host);
}

static void
tlscheck_cb_connect(struct mosquitto *m, void *obj, int rc)
{
	struct tlscheck_conn *k = obj;

	k->connack = rc;
	k->got_connack = 1;
}

static void
tlscheck_cb_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct tlscheck_conn *k = obj;

	k->closed = 1;
	k->close_rc = rc;
}

static void
tlscheck_cb_publish(struct mosquitto *m, void *obj, int mid)
{
	struct tlscheck_conn *k = obj;

	if (mid == k->mid)
		k->acked = 1;
}

static void
tlscheck_cb_log(struct mosquitto *m, void *obj, int level, const char *str)
{
	struct tlscheck_conn *k = obj;

	if (k->ssl_log[0] == '\0' && strncmp(str, "OpenSSL Error", 13) == 0)
		(void)snprintf(k->ssl_log, sizeof(k->ssl_log), "%s", str);
}

/* A plain TCP connect within TLSCHECK_TCP_TIMEOUT_MS.  libmosquitto
 * never reports a refused connection by itself (library-notes.md), so
 * this gives the cause first.  Returns 0 or -errno. */
static int
tlscheck_tcp(const struct addrinfo *ai)
{
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, e = 0, r;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol)) < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		e = errno;
		goto out;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if ((r = poll(&p, 1, TLSCHECK_TCP_TIMEOUT_MS)) == 0)
		e = ETIMEDOUT;
	else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
		e = errno;
out:
	close(fd);
	return -e;
}

/* A failed handshake, in tlsctx.c's words, at the setting at fault. */
static void
tlscheck_explain(struct check_out *o, const struct tlscheck_at *at,
    const struct conf *c, const char *ssl_log, SSL_CTX *ctx, int synced)
{
	const struct tlsctx_files f = { c->mqtt.ca, c->mqtt.cert, c->mqtt.key,
	    NULL, NULL, NULL };
	char msg[2 * TLSCHECK_MSG_MAX];
	enum tlsctx_fault w;

	if (tlscheck_verify.err != 0)
		w = tlsctx_explain_verify(msg, sizeof(msg), &tlscheck_verify,
		    &f, c->mqtt.host, time(NULL), synced);
	else
		w = tlsctx_explain_alert(msg, sizeof(msg), ssl_log, &f,
		    tlsctx_cert_not_before(ctx), tlsctx_cert_not_after(ctx),
		    c->mqtt.host, c->mqtt.port, time(NULL), synced);
	check_error(o, w == TLSCTX_FAULT_CA ? at->ca : w == TLSCTX_FAULT_CERT ?
	    at->cert : at->host, "%s", msg);
}

static void
tlscheck_explain_connack(struct check_out *o, const struct tlscheck_at *at,
    const struct conf *c, const char *id, int rc)
{
	if (rc == 5 || rc == 4)
		check_error(o, at->cert, "not authorised by the broker: it "
		    "accepted the TLS connection but refused client id \"%s\" "
		    "(%s); ask the broker operator to allow this gateway's "
		    "certificate", id, mosquitto_connack_string(rc));
	else
		check_error(o, at->host, "the broker refused the connection: "
		    "%s", mosquitto_connack_string(rc));
}

/* libmosquitto until cond holds, the connection ends or time runs out. */
static int
tlscheck_wait(struct mosquitto *m, const int *cond,
    const struct tlscheck_conn *k)
{
	struct timespec t0, t;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*cond && !k->closed) {
		rc = mosquitto_loop(m, TLSCHECK_POLL_MS, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			return rc;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > TLSCHECK_MQTT_TIMEOUT_MS)
			return MOSQ_ERR_TIMEOUT;
	}
	return k->closed ? MOSQ_ERR_CONN_LOST : MOSQ_ERR_SUCCESS;
}

int
tlscheck_connect(struct check_out *o, const struct conf *c,
    const struct tlscheck_at *at, int synced)
{
	static const char payload[] = "{\"check\":\"fieldbridge check "
	    "--connect\"}";
	const struct tlsctx_files files = { c->mqtt.ca, c->mqtt.cert,
	    c->mqtt.key, NULL, NULL, NULL };
	struct addrinfo hints, *res = NULL, *ai;
	struct tlscheck_conn k;
	struct mosquitto *m = NULL;
	SSL_CTX *ctx = NULL;
	char port[16], addr[INET6_ADDRSTRLEN], msg[TLSCHECK_MSG_MAX];
	char topic[TLSCHECK_TOPIC_MAX];
	const char *id;
	unsigned char a6[16];
	int numeric, r, rc, e = 0, ret = -1;

	memset(&k, 0, sizeof(k));
	k.connack = -1;
	id = c->mqtt.client_id[0] != '\0' ? c->mqtt.client_id : c->gateway_id;
	numeric = inet_pton(AF_INET, c->mqtt.host, a6) == 1 ||
	    inet_pton(AF_INET6, c->mqtt.host, a6) == 1;
	k.host = numeric ? NULL : c->mqtt.host;
	(void)snprintf(port, sizeof(port), "%d", c->mqtt.port);
	(void)snprintf(topic, sizeof(topic), "%s/%s/%s", c->mqtt.topic_prefix,
	    c->gateway_id, TLSCHECK_CHECK_TOPIC);

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((r = getaddrinfo(c->mqtt.host, port, &hints, &res)) != 0) {
		check_error(o, at->host, "DNS failure: cannot resolve \"%s\": "
		    "%s; check the name, /etc/resolv.conf and that the uplink "
		    "is up", c->mqtt.host, gai_strerror(r));
		goto out;
	}
	/* The first address that answers, as the uplink's race would. */
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((e = tlscheck_tcp(ai)) == 0)
			break;
	if (ai == NULL) {
		check_error(o, at->host, "cannot reach %s port %d: %s", 
		    c->mqtt.host, c->mqtt.port, e == -ECONNREFUSED ?
		    "connection refused: nothing listens there (wrong "
		    "mqtt.port? the broker down?)" : e == -ETIMEDOUT ?
		    "no answer within 5 s (a firewall, or the uplink is down)" :
		    strerror(-e));
		goto out;
	}
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
	    NULL, 0, NI_NUMERICHOST) != 0) {
		check_error(o, at->host, "cannot print the broker's address");
		goto out;
	}

	if ((ctx = tlsctx_new(&files, c->mqtt.tls_min, c->mqtt.host, numeric,
	    msg, sizeof(msg))) == NULL) {
		check_error(o, at->cert, "the daemon's TLS set-up fails: %s",
		    msg);
		goto out;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tlscheck_verify_cb);
	SSL_CTX_set_info_callback(ctx, tlscheck_ssl_info);
	SSL_CTX_set_app_data(ctx, &k);
	memset(&tlscheck_verify, 0, sizeof(tlscheck_verify));

	(void)mosquitto_lib_init();
	if ((m = mosquitto_new(id, true, &k)) == NULL) {
		check_error(o, at->host, "libmosquitto: %s", strerror(errno));
		goto out;
	}
	mosquitto_connect_callback_set(m, tlscheck_cb_connect);
	mosquitto_disconnect_callback_set(m, tlscheck_cb_disconnect);
	mosquitto_publish_callback_set(m, tlscheck_cb_publish);
	mosquitto_log_callback_set(m, tlscheck_cb_log);
	if ((rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311)) != 0 ||
	    (rc = mosquitto_int_option(m, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS,
	    0)) != 0 ||
	    (rc = mosquitto_void_option(m, MOSQ_OPT_SSL_CTX, ctx)) != 0) {
		check_error(o, at->host, "libmosquitto: %s",
		    mosquitto_strerror(rc));
		goto out;
	}
	rc = mosquitto_connect_async(m, addr, c->mqtt.port,
	    c->mqtt.keepalive_s);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = tlscheck_wait(m, &k.got_connack, &k);
	if (k.connack == -1) {
		if (tlscheck_verify.err == 0 && rc == MOSQ_ERR_TIMEOUT)
			check_error(o, at->host, "%s (%s) port %d accepted TCP "
			    "but never completed TLS and MQTT: is it an MQTT "
			    "over TLS port?", c->mqtt.host, addr, c->mqtt.port);
		else
			tlscheck_explain(o, at, c, k.ssl_log, ctx, synced);
		goto out;
	}
	if (k.connack != 0) {
		tlscheck_explain_connack(o, at, c, id, k.connack);
		goto out;
	}
	if ((rc = mosquitto_publish(m, &k.mid, topic, (int)strlen(payload),
	    payload, 1, false)) != 0) {
		check_error(o, at->host, "publish: %s", mosquitto_strerror(rc));
		goto out;
	}
	rc = tlscheck_wait(m, &k.acked, &k);
	if (!k.acked) {
		if (k.closed || rc == MOSQ_ERR_CONN_LOST)
			check_error(o, at->host, "the broker closed the "
			    "connection after accepting it: another client "
			    "uses client id \"%s\" and took the session over "
			    "(a second gateway with the same gateway_id, a "
			    "cloned SD card, or this gateway's running "
			    "fieldbridged reconnecting), or the broker refused "
			    "publishing to %s", id, topic);
		else
			check_error(o, at->host, "no PUBACK for a publish to "
			    "%s: %s", topic, mosquitto_strerror(rc));
		goto out;
	}
	(void)mosquitto_disconnect(m);
	check_note(o, at->host, "connected to %s (%s) port %d as \"%s\", "
	    "published to %s, PUBACK received", c->mqtt.host, addr,
	    c->mqtt.port, id, topic);
	ret = 0;
out:
	if (m != NULL)
		mosquitto_destroy(m);
	SSL_CTX_free(ctx);
	if (res != NULL)
		freeaddrinfo(res);
	return ret;
}
