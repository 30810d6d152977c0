/*
 * test_uplink.c - the MQTT uplink against a real mosquitto with mutual
 * TLS, certificates (ECDSA P-256) made by the openssl CLI for this run, on
 * a port picked at run time: publish and PUBACK, the in-flight window, the
 * retained online/offline status, TLS 1.3 when the broker offers only that,
 * a half-open connection (broker stopped with SIGSTOP) noticed within 1.5x
 * the keepalive, and reconnection after the broker comes back.
 * Also the reconnect backoff bounds and the order in which a name's
 * addresses are tried.  Skips (77) when mosquitto or openssl is missing.
 */
/* The module itself, first (its LOG_MODULE), for its address ordering. */
#include "daemon/uplink.c"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>


static char	dir[128];
static int	port;
static pid_t	broker = -1;
static int	listen_v6;	/* the next broker listens on ::1 too */

static int	acks, connects, disconnects;
static uint64_t	acked[64];

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, p;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	p = ntohs(sa.sin_port);
	close(fd);
	return p;
}

static int
port_open(void)
{
	struct sockaddr_in sa;
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r == 0;
}

/* Start mosquitto requiring client certificates; tls: "" or a version. */
static void
broker_start(const char *tls_version)
{
	char conf[256], logf[256];
	FILE *f;
	int i;

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
	snprintf(logf, sizeof(logf), "%s/mosquitto.log", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n"
	    "cafile %s/ca.pem\ncertfile %s/srv.pem\nkeyfile %s/srv.key\n"
	    "require_certificate true\n%s%s%s"
	    "persistence false\nlog_dest file %s\n%s", port, dir, dir, dir,
	    *tls_version != '\0' ? "tls_version " : "", tls_version,
	    *tls_version != '\0' ? "\n" : "", logf,
	    /* As root it would switch to user "mosquitto", who cannot
	     * read our 0700 directory. */
	    geteuid() == 0 ? "user root\n" : "");
	if (listen_v6)
		fprintf(f, "listener %d ::1\ncafile %s/ca.pem\n"
		    "certfile %s/srv.pem\nkeyfile %s/srv.key\n"
		    "require_certificate true\n", port, dir, dir, dir);
	fclose(f);
	broker = fork();
	assert_true(broker >= 0);
	if (broker == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 1);
		dup2(fd, 2);
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && !port_open(); i++)
		usleep(20000);
	assert_true(port_open());
}

static void
broker_stop(void)
{
	if (broker > 0) {
		kill(broker, SIGCONT);
		kill(broker, SIGTERM);
		waitpid(broker, NULL, 0);
	}
	broker = -1;
}

static int
group_setup(void **state)
{
	(void)state;
	if (sh("command -v mosquitto >/dev/null && command -v openssl "
	    ">/dev/null && command -v mosquitto_sub >/dev/null") != 0) {
		fprintf(stderr, "mosquitto or openssl missing: skipped\n");
		exit(77);
	}
	snprintf(dir, sizeof(dir), "/tmp/test_uplink.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* A CA, the broker's certificate for 127.0.0.1, a client's:
	 * every key ECDSA P-256. */
	assert_int_equal(sh("cd %s && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca "
	    ">/dev/null 2>&1 && "
	    "printf 'subjectAltName=IP:127.0.0.1\\n' > srv.ext && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1 "
	    "&& openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out srv.pem -days 2 -extfile srv.ext "
	    ">/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
	    "-keyout gw.key -out gw.csr -subj /CN=gw >/dev/null 2>&1 && "
	    "openssl x509 -req -in gw.csr -CA ca.pem -CAkey ca.key "
	    "-CAcreateserial -out gw.pem -days 2 >/dev/null 2>&1", dir), 0);
	log_init(getenv("TEST_DEBUG") != NULL ? LOG_DEBUG : LOG_ERR);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	broker_stop();
	(void)sh("rm -rf %s", dir);
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	acks = connects = disconnects = 0;
	port = free_port();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	broker_stop();
	return 0;
}

static void
on_connect(void *arg)
{
	(void)arg;
	connects++;
}

static void
on_disconnect(void *arg, int reason)
{
	(void)arg;
	(void)reason;
	disconnects++;
}

static void
on_ack(void *arg, uint64_t cookie)
{
	(void)arg;
	if (acks < 64)
		acked[acks] = cookie;
	acks++;
}

static struct uplink *
new_uplink_host(const char *host, int keepalive_s, int tls_min, int inflight)
{
	static const struct uplink_ops ops = { .on_connect = on_connect,
	    .on_disconnect = on_disconnect, .on_ack = on_ack };
	struct conf c;
	struct uplink *u;

	conf_defaults(&c);
	snprintf(c.gateway_id, sizeof(c.gateway_id), "gw-test");
	snprintf(c.mqtt.host, sizeof(c.mqtt.host), "%s", host);
	c.mqtt.port = port;
	snprintf(c.mqtt.ca, sizeof(c.mqtt.ca), "%s/ca.pem", dir);
	snprintf(c.mqtt.cert, sizeof(c.mqtt.cert), "%s/gw.pem", dir);
	snprintf(c.mqtt.key, sizeof(c.mqtt.key), "%s/gw.key", dir);
	c.mqtt.keepalive_s = keepalive_s;
	c.mqtt.tls_min = tls_min;
	c.mqtt.inflight_max = inflight;
	c.mqtt.backoff_min_ms = 100;
	c.mqtt.backoff_max_ms = 400;
	assert_int_equal(uplink_new(&c, &ops, NULL, &u), 0);
	return u;
}

static struct uplink *
new_uplink(int keepalive_s, int tls_min, int inflight)
{
	return new_uplink_host("127.0.0.1", keepalive_s, tls_min, inflight);
}

static void
status_of(struct uplink *u, char *buf, size_t sz)
{
	FILE *f = fmemopen(buf, sz, "w");

	assert_non_null(f);
	uplink_status(u, f);
	fclose(f);
}

/* An answer as c-ares gives it: nodes in its (RFC 6724) order. */
static struct ares_addrinfo *
fake_answer(const char *const *addrs, size_t n)
{
	static struct ares_addrinfo ai;
	static struct ares_addrinfo_node nodes[16];
	static struct sockaddr_in6 sa[16];
	struct sockaddr_in *s4;
	size_t i;

	assert_true(n <= 16);
	memset(&ai, 0, sizeof(ai));
	memset(nodes, 0, sizeof(nodes));
	memset(sa, 0, sizeof(sa));
	for (i = 0; i < n; i++) {
		if (strchr(addrs[i], ':') != NULL) {
			sa[i].sin6_family = AF_INET6;
			assert_int_equal(inet_pton(AF_INET6, addrs[i],
			    &sa[i].sin6_addr), 1);
			nodes[i].ai_addrlen = sizeof(struct sockaddr_in6);
		} else {
			s4 = (struct sockaddr_in *)(void *)&sa[i];
			s4->sin_family = AF_INET;
			assert_int_equal(inet_pton(AF_INET, addrs[i],
			    &s4->sin_addr), 1);
			nodes[i].ai_addrlen = sizeof(struct sockaddr_in);
		}
		nodes[i].ai_family = sa[i].sin6_family;
		nodes[i].ai_addr = (struct sockaddr *)(void *)&sa[i];
		nodes[i].ai_next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	ai.nodes = n > 0 ? &nodes[0] : NULL;
	return &ai;
}

static void
expect_order(const char *const *in, size_t nin, const char *const *want,
    size_t nwant)
{
	struct uplink_addr out[UPLINK_ADDRS_MAX];
	size_t i;
	int n;

	n = uplink_addrs_from(fake_answer(in, nin), out);
	assert_int_equal(n, (int)nwant);
	for (i = 0; i < nwant; i++)
		assert_string_equal(out[i].str, want[i]);
}

/* RFC 8305 section 4: the first address's family first, then alternating;
 * duplicates once; at most UPLINK_ADDRS_MAX; nothing from no answer. */
static void
test_address_order(void **state)
{
	static const char *const dual[] = { "2001:db8::1", "2001:db8::2",
	    "2001:db8::3", "192.0.2.1", "192.0.2.2" };
	static const char *const dual_want[] = { "2001:db8::1", "192.0.2.1",
	    "2001:db8::2", "192.0.2.2", "2001:db8::3" };
	static const char *const v4first[] = { "192.0.2.1", "192.0.2.2",
	    "2001:db8::1" };
	static const char *const v4first_want[] = { "192.0.2.1",
	    "2001:db8::1", "192.0.2.2" };
	static const char *const dups[] = { "::1", "127.0.0.1", "::1",
	    "127.0.0.1" };
	static const char *const dups_want[] = { "::1", "127.0.0.1" };
	static const char *const many[] = { "10.0.0.1", "10.0.0.2",
	    "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7",
	    "10.0.0.8", "10.0.0.9", "10.0.0.10" };
	struct uplink_addr out[UPLINK_ADDRS_MAX];

	(void)state;
	expect_order(dual, 5, dual_want, 5);
	expect_order(v4first, 3, v4first_want, 3);
	expect_order(dups, 4, dups_want, 2);
	expect_order(many, 10, many, UPLINK_ADDRS_MAX);
	assert_int_equal(uplink_addrs_from(fake_answer(NULL, 0), out), 0);
	assert_int_equal(uplink_addrs_from(NULL, out), 0);
}

/* Drive the uplink as the daemon's loop does until *flag reaches want. */
static int
run_until(struct uplink *u, const int *flag, int want, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms, next_tick = 0;
	struct pollfd pfd[UPLINK_POLLFDS_MAX];
	int n;

	while (now_ms() < end) {
		if (*flag >= want)
			return 1;
		if (now_ms() >= next_tick) {
			(void)uplink_tick(u, now_ms());
			next_tick = now_ms() + 100;
		}
		n = uplink_pollfds(u, pfd, UPLINK_POLLFDS_MAX);
		if (poll(pfd, (nfds_t)n, 20) > 0)
			uplink_handle(u, pfd, n, now_ms());
	}
	return *flag >= want;
}

/* The retained status as another client sees it. */
static void
expect_status(const char *want)
{
	char cmd[1024], got[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "mosquitto_sub -h 127.0.0.1 -p %d "
	    "--cafile %s/ca.pem --cert %s/gw.pem --key %s/gw.key -i test-sub "
	    "-t fieldbridge/gw-test/status -C 1 -W 5 2>/dev/null", port, dir,
	    dir, dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(got, sizeof(got), p) == NULL)
		got[0] = '\0';
	pclose(p);
	got[strcspn(got, "\n")] = '\0';
	assert_string_equal(got, want);
}

static void
test_publish_ack_and_status(void **state)
{
	struct uplink *u;
	int stopped = 0, i;

	(void)state;
	broker_start("");
	u = new_uplink(30, 12, 4);
	assert_int_equal(uplink_ready(u), 0);
	assert_int_equal(uplink_publish(u, "cattle", "x", 1, 1), -ENOTCONN);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	assert_int_equal(uplink_ready(u), 4);
	/* The window: never more than inflight_max unacknowledged. */
	for (i = 0; i < 4; i++)
		assert_int_equal(uplink_publish(u, "cattle", "{}", 2,
		    100 + (uint64_t)i), 0);
	assert_int_equal(uplink_ready(u), 0);
	assert_int_equal(uplink_publish(u, "cattle", "{}", 2, 200),
	    -ENOBUFS);
	assert_int_equal(uplink_publish(u, "a/b", "{}", 2, 200), -ENOBUFS);
	assert_true(run_until(u, &acks, 4, 5000));
	for (i = 0; i < 4; i++)
		assert_int_equal(acked[i], 100 + (uint64_t)i);
	assert_int_equal(uplink_inflight(u), 0);
	assert_int_equal(uplink_publish(u, "a/b", "{}", 2, 200), -EINVAL);
	expect_status("online");
	/* A clean stop leaves "offline" retained. */
	uplink_stop(u, now_ms());
	for (i = 0; i < 100 && !uplink_stopped(u); i++)
		run_until(u, &stopped, 1, 20);
	assert_true(uplink_stopped(u));
	expect_status("offline");
	assert_int_equal(uplink_stats(u)->acked, 4);
	uplink_free(u);
}

/* tls_min "1.2" is a minimum: a broker speaking only TLS 1.3 works. */
static void
test_tls13_only_broker(void **state)
{
	struct uplink *u;

	(void)state;
	broker_start("tlsv1.3");
	u = new_uplink(30, 12, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	uplink_free(u);
}

/*
 * tls_min "1.3" connects to a broker that offers 1.3.  (A broker limited to
 * TLS 1.2 cannot be set up with mosquitto 2.0.11: its tls_version, like the
 * client's, is a minimum.)
 */
static void
test_tls13_required(void **state)
{
	struct uplink *u;

	(void)state;
	broker_start("");
	u = new_uplink(30, 13, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	uplink_free(u);
}

/*
 * A broker that stops answering (SIGSTOP: the TCP connection stays up,
 * nothing comes back) is noticed within 1.5x the keepalive, and the
 * uplink reconnects once the broker is back.
 */
static void
test_half_open_noticed_and_reconnect(void **state)
{
	struct uplink *u;
	uint64_t t0, dt;

	(void)state;
	broker_start("");
	u = new_uplink(5, 12, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	kill(broker, SIGSTOP);
	t0 = now_ms();
	assert_true(run_until(u, &disconnects, 1, 9000));
	dt = now_ms() - t0;
	assert_true(dt <= 7500 + 300);
	assert_int_equal(uplink_stats(u)->dead_links, 1);
	assert_int_equal(uplink_ready(u), 0);
	kill(broker, SIGCONT);
	assert_true(run_until(u, &connects, 2, 5000));
	uplink_free(u);
}

/*
 * The uplink builds its own TLS context (libmosquitto is handed numeric
 * addresses and checks nothing then): the certificate must be checked
 * against the configured broker.  The test broker's certificate names
 * 127.0.0.1 only, so the same broker reached as ::1 is refused, and the
 * status says why in the words of `fieldbridge check --connect`
 * (tlsctx_explain_verify); by 127.0.0.1 it is fine.
 */
static void
test_certificate_name_checked(void **state)
{
	struct uplink *u;
	char st[2048];

	(void)state;
	listen_v6 = 1;
	broker_start("");
	listen_v6 = 0;
	u = new_uplink_host("::1", 30, 12, 4);
	uplink_start(u, now_ms());
	assert_false(run_until(u, &connects, 1, 1500));
	assert_true(uplink_stats(u)->addr_attempts >= 1);
	status_of(u, st, sizeof(st));
	assert_non_null(strstr(st, "mqtt_address=\n"));
	assert_non_null(strstr(st, "mqtt_error_ipv6=[::1]:"));
	assert_non_null(strstr(st, "host name mismatch: the broker's "
	    "certificate is not for \"::1\""));
	assert_non_null(strstr(st, "mqtt_last_error=[::1]:"));
	assert_non_null(strstr(strstr(st, "mqtt_last_error="),
	    ": host name mismatch"));
	assert_non_null(strstr(st, "mqtt_error_ipv4=\n"));
	uplink_free(u);

	u = new_uplink_host("127.0.0.1", 30, 12, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	status_of(u, st, sizeof(st));
	assert_non_null(strstr(st, "mqtt_state=connected\n"));
	assert_non_null(strstr(st, "mqtt_address=127.0.0.1\n"));
	assert_non_null(strstr(st, "mqtt_addresses=127.0.0.1\n"));
	uplink_free(u);
}

/* A name that does not resolve: no address, no connection, the status
 * says so; the uplink keeps retrying (a round per backoff). */
static void
test_unresolvable_name(void **state)
{
	struct uplink *u;
	char st[2048];
	int never = 0;

	(void)state;
	/* .invalid never resolves (RFC 6761).  Whatever the machine's name
	 * server does, the lookup ends within the uplink's 3 s limit. */
	u = new_uplink_host("no-such-broker.invalid", 30, 12, 4);
	uplink_start(u, now_ms());
	assert_false(run_until(u, &never, 1, 4000));
	assert_int_equal(uplink_stats(u)->addr_attempts, 0);
	assert_true(uplink_stats(u)->attempts >= 1);
	status_of(u, st, sizeof(st));
	assert_non_null(strstr(st, "mqtt_addresses=\n"));
	assert_null(strstr(st, "mqtt_resolve_error=\n"));
	uplink_free(u);
}

/* The broker restarts: the connection is lost and comes back. */
static void
test_broker_restart(void **state)
{
	struct uplink *u;

	(void)state;
	broker_start("");
	u = new_uplink(30, 12, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	assert_int_equal(uplink_publish(u, "water", "{}", 2, 7), 0);
	broker_stop();
	assert_true(run_until(u, &disconnects, 1, 3000));
	/* What was in flight is forgotten: the queue sends it again. */
	assert_int_equal(uplink_inflight(u), 0);
	broker_start("");
	assert_true(run_until(u, &connects, 2, 5000));
	assert_int_equal(uplink_ready(u), 4);
	uplink_free(u);
}

/*
 * Regression: while the broker's port is closed, each attempt fails and
 * the next follows after the backoff; once the broker is back the uplink
 * connects within the backoff ceiling.  (An attempt once stayed stuck in
 * CONNECTING until the silence timeout.)
 */
static void
test_broker_down_retries(void **state)
{
	struct uplink *u;
	int never = 0;
	uint64_t t0;

	(void)state;
	broker_start("");
	u = new_uplink(30, 12, 4);
	uplink_start(u, now_ms());
	assert_true(run_until(u, &connects, 1, 5000));
	broker_stop();
	assert_true(run_until(u, &disconnects, 1, 3000));
	(void)run_until(u, &never, 1, 1500);
	assert_true(uplink_stats(u)->attempts >= 4);
	broker_start("");
	t0 = now_ms();
	assert_true(run_until(u, &connects, 2, 3000));
	assert_true(now_ms() - t0 < 1500);
	uplink_free(u);
}

static void
test_backoff_bounds(void **state)
{
	uint32_t f;
	uint64_t d;

	(void)state;
	/* The floor, then a ceiling doubling up to the maximum. */
	assert_int_equal(uplink_backoff_ms(0, 500, 60000, 0), 500);
	assert_int_equal(uplink_backoff_ms(0, 500, 60000, 0xffffffffu), 500);
	assert_int_equal(uplink_backoff_ms(1, 500, 60000, 0), 500);
	assert_int_equal(uplink_backoff_ms(1, 500, 60000, 500), 1000);
	assert_int_equal(uplink_backoff_ms(3, 500, 60000, 3500), 4000);
	for (f = 0; f < 64; f++) {
		d = uplink_backoff_ms(f, 500, 60000, 0xfffffff1u);
		assert_true(d >= 500 && d <= 60000);
	}
	/* After many failures the whole range is used (full jitter). */
	assert_int_equal(uplink_backoff_ms(40, 500, 60000, 59500), 60000);
	assert_int_equal(uplink_backoff_ms(40, 500, 60000, 59501), 500);
}

int
main(void)
{
#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_address_order),
		T(test_publish_ack_and_status),
		T(test_tls13_only_broker),
		T(test_tls13_required),
		T(test_half_open_noticed_and_reconnect),
		T(test_certificate_name_checked),
		T(test_unresolvable_name),
		T(test_broker_restart),
		T(test_broker_down_retries),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
