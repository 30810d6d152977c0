/*
 * fieldbridge-sim - a concentrator and its sensor nodes on a pseudo-terminal,
 * so that tests, the demo and the benchmark drive the real fieldbridged
 * through its real serial path.
 *
 * Where it sits: it replaces everything left of the serial line in the data
 * flow of DESIGN.md.  On the pty it speaks the fieldbridge serial protocol
 * (sim_conc.c, on radio/sframe.c, the same codec the daemon's FBSP driver
 * uses); each node runs the node side of the link protocol (sim_node.c, on
 * libfbnode, the library sensor firmware embeds); attack switches inject
 * forged, replayed, unknown-device and garbage traffic and a flooding node
 * (sim_attack.c).  All of them are counted in the summary printed at exit.
 *
 * This file holds main, the options, the set-up and the one poll() loop:
 * every turn sends the heartbeat when due, transmits held downlinks, runs
 * the nodes and the attacks, writes what the pty takes and reads the
 * gateway's frames.  --count ends the run once every node is done; the end
 * of --duration and SIGTERM stop producing and let the daemon read what is
 * still on the line first.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "policy/registry.h"
#include "tools/sim.h"

#define SIM_STATUS_MS		2000		/* heartbeat period */
#define SIM_ATTACK_MS		40		/* between two injected attacks */
#define SIM_ATTACK_GRACE_MS	3000		/* after the nodes are done */
#define SIM_DRAIN_MS		10000		/* bound on draining at the end */
#define SIM_LINGER_MS		300		/* after the line is empty */
#define SIM_STOP_DRAIN_MS	2000		/* bound on draining at a stop */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: fieldbridge-sim --registry F --keys F --link PATH [options]\n"
"       fieldbridge-sim --gen-registry N --registry F --keys F [--streams a,b]\n"
"\n"
"A simulated concentrator with sensor nodes on a pseudo-terminal, speaking\n"
"the fieldbridge serial protocol or a LoRa module's text commands; PATH\n"
"becomes a symlink to the pty.\n"
"\n"
"  --nodes N        run the first N devices of the registry (default all)\n"
"  --offset I       start at device I (to split nodes over concentrators)\n"
"  --rate R         records per second per node (default 1; 0: as fast as\n"
"                   the line takes them)\n"
"  --count C        records per node, then drain the line and exit\n"
"  --duration S     exit after S seconds\n"
"  --log FILE       one line per record sent: EUI FCNT PAYLOADHEX\n"
"  --log-time       add a 4th column: CLOCK_MONOTONIC microseconds when the\n"
"                   record's frame was written to the pty\n"
"  --seed N         seed for payloads and schedules (nonces stay random)\n"
"  --quiet          no progress lines on stderr\n"
"attacks (each counted in the summary at exit):\n"
"  --forge N        data frames with a bad MIC under a real node's session\n"
"  --replay N       re-send N captured data frames, and once a captured\n"
"                   HELLO then RESPONSE\n"
"  --unknown N      HELLOs from EUIs not in the registry\n"
"  --garbage N      N random bytes on the line, between frames\n"
"  --flood EUI|I    one node sends %d times its rate\n"
"  --attack-every MS  one injection of each kind per MS (default %d)\n"
"  --hello-flood EUI|I  once every node has joined, HELLOs in that node's\n"
"                   name, with fresh nonces, at --hello-rate per second\n"
"                   (version 2 ones with a wrong MIC, version 1 ones for a\n"
"                   --v1 node)\n"
"  --hello-rate N   (default %d)\n"
"  --flood-join-delay MS  the flood starts once every other node has\n"
"                   joined, and its victim joins only after it has run MS\n"
"                   ms (summary: victim_hellos, victim_join_ms)\n"
"  --replay-hello EUI|I  once that node has joined, its last genuine HELLO\n"
"                   again, every --attack-every ms (replayed_hello)\n"
"  --forge-join EUI|I  after each HELLO and each RESPONSE of that node, a\n"
"                   forged HELLO and a forged RESPONSE in its name\n"
"  --capture N      keep up to N data frames as they are sent, and replay\n"
"                   every kept frame its node has moved past on SIGUSR1\n"
"                   (then keep new ones): frames from before a gateway\n"
"                   restart, replayed after it\n"
"link protocol:\n"
"  --v1 EUI|I|all   that node (or every node) sends version 1 HELLOs\n"
"                   (default: version 2, the authenticated HELLO)\n"
"a radio module instead of an FBSP concentrator:\n"
"  --dialect D      fbsp (default), rn2483, rn2903 (Microchip, 57600 baud)\n"
"                   or rak3172 (RAKwireless RUI3, 115200 baud)\n"
"  --old-firmware   RN2483 1.0.4, RN2903 1.0.3, RUI 3.5.1 (default: 1.0.5,\n"
"                   1.0.5, RUI 4.0.6)\n"
"  --quirks LIST    echo,split,busy,reset,noise,longline,mute,unplug\n"
"                   (tools/sim_module.c says what each does)\n",
	    SIM_FLOOD_FACTOR, SIM_ATTACK_MS, SIM_HELLO_RATE);
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

static int
parse_uint(const char *s, unsigned int *v)
{
	uint64_t x;

	if (parse_u64(s, &x) != 0 || x > UINT_MAX)
		return -EINVAL;
	*v = (unsigned int)x;
	return 0;
}

static int
parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*v >= 0) || *v > 1e9)
		return -EINVAL;
	return 0;
}

/* The long name of option c (the table is not in the enum's order). */
static const char *
sim_optname(const struct option *lo, int c)
{
	for (; lo->name != NULL; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

static int
parse_args(int argc, char **argv, struct sim_opts *o)
{
	enum { O_REG = 256, O_KEYS, O_NODES, O_OFFSET, O_RATE, O_COUNT,
		O_DUR, O_LINK, O_LOG, O_SEED, O_GEN, O_STREAMS, O_FORGE,
		O_REPLAY, O_UNKNOWN, O_GARBAGE, O_FLOOD, O_ATTACK, O_QUIET,
		O_LOG_TIME, O_CAPTURE, O_HELLO_FLOOD, O_HELLO_RATE,
		O_FORGE_JOIN, O_HELP, O_DIALECT, O_QUIRKS, O_OLDFW, O_V1,
		O_REPLAY_HELLO, O_FLOOD_JOIN_DELAY };
	static const struct option lo[] = {
		{ "registry", required_argument, NULL, O_REG },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "nodes", required_argument, NULL, O_NODES },
		{ "offset", required_argument, NULL, O_OFFSET },
		{ "rate", required_argument, NULL, O_RATE },
		{ "count", required_argument, NULL, O_COUNT },
		{ "duration", required_argument, NULL, O_DUR },
		{ "link", required_argument, NULL, O_LINK },
		{ "log", required_argument, NULL, O_LOG },
		{ "log-time", no_argument, NULL, O_LOG_TIME },
		{ "seed", required_argument, NULL, O_SEED },
		{ "gen-registry", required_argument, NULL, O_GEN },
		{ "streams", required_argument, NULL, O_STREAMS },
		{ "forge", required_argument, NULL, O_FORGE },
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "unknown", required_argument, NULL, O_UNKNOWN },
		{ "garbage", required_argument, NULL, O_GARBAGE },
		{ "flood", required_argument, NULL, O_FLOOD },
		{ "attack-every", required_argument, NULL, O_ATTACK },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "dialect", required_argument, NULL, O_DIALECT },
		{ "quirks", required_argument, NULL, O_QUIRKS },
		{ "old-firmware", no_argument, NULL, O_OLDFW },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "hello-flood", required_argument, NULL, O_HELLO_FLOOD },
		{ "hello-rate", required_argument, NULL, O_HELLO_RATE },
		{ "forge-join", required_argument, NULL, O_FORGE_JOIN },
		{ "help", no_argument, NULL, O_HELP },
		{ "v1", required_argument, NULL, O_V1 },
		{ "replay-hello", required_argument, NULL, O_REPLAY_HELLO },
		{ "flood-join-delay", required_argument, NULL,
		    O_FLOOD_JOIN_DELAY },
		{ NULL, 0, NULL, 0 }
	};
	const char *dialect = NULL, *quirks = NULL;
	int c, bad = 0;

	memset(o, 0, sizeof(*o));
	o->rate = 1;
	o->attack_ms = SIM_ATTACK_MS;
	o->hello_rate = SIM_HELLO_RATE;
	o->streams = "cattle,water,weather";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_REG: o->registry = optarg; break;
		case O_KEYS: o->keys = optarg; break;
		case O_LINK: o->link = optarg; break;
		case O_LOG: o->log = optarg; break;
		case O_STREAMS: o->streams = optarg; break;
		case O_FLOOD: o->flood = optarg; break;
		case O_HELLO_FLOOD: o->hello_flood = optarg; break;
		case O_HELLO_RATE: bad |= parse_uint(optarg, &o->hello_rate) ||
		    o->hello_rate == 0; break;
		case O_FORGE_JOIN: o->forge_join = optarg; break;
		case O_V1: o->v1 = optarg; break;
		case O_REPLAY_HELLO: o->replay_hello = optarg; break;
		case O_FLOOD_JOIN_DELAY: bad |= parse_uint(optarg,
		    &o->flood_join_delay_ms); break;
		case O_QUIET: o->quiet = 1; break;
		case O_DIALECT: dialect = optarg; break;
		case O_QUIRKS: quirks = optarg; break;
		case O_OLDFW: o->fw_old = 1; break;
		case O_LOG_TIME: o->log_time = 1; break;
		case O_NODES: bad |= parse_uint(optarg, &o->nodes); break;
		case O_OFFSET: bad |= parse_uint(optarg, &o->offset); break;
		case O_GEN: bad |= parse_uint(optarg, &o->gen); break;
		case O_FORGE: bad |= parse_uint(optarg, &o->forge); break;
		case O_REPLAY: bad |= parse_uint(optarg, &o->replay); break;
		case O_CAPTURE: bad |= parse_uint(optarg, &o->capture) ||
		    o->capture > SIM_CAPTURE_MAX; break;
		case O_UNKNOWN: bad |= parse_uint(optarg, &o->unknown); break;
		case O_GARBAGE: bad |= parse_uint(optarg, &o->garbage); break;
		case O_ATTACK: bad |= parse_uint(optarg, &o->attack_ms); break;
		case O_COUNT: bad |= parse_u64(optarg, &o->count); break;
		case O_SEED:
			bad |= parse_u64(optarg, &o->seed);
			o->seeded = 1;
			break;
		case O_RATE: bad |= parse_double(optarg, &o->rate); break;
		case O_DUR: bad |= parse_double(optarg, &o->duration); break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (bad) {
			fprintf(stderr, "fieldbridge-sim: bad value for --%s: "
			    "%s\n", sim_optname(lo, c), optarg);
			return -EINVAL;
		}
	}
	if (sim_module_parse(dialect, quirks, o) != 0) {
		fprintf(stderr, "fieldbridge-sim: --dialect fbsp|rn2483|rn2903|"
		    "rak3172, --quirks echo,split,busy,reset,noise,longline,"
		    "mute,unplug\n");
		return -EINVAL;
	}
	if (o->attack_ms == 0 || o->attack_ms > 3600000) {
		fprintf(stderr, "fieldbridge-sim: --attack-every: 1..3600000 "
		    "ms\n");
		return -EINVAL;
	}
	if (optind != argc || o->registry == NULL || o->keys == NULL ||
	    (o->gen == 0 && o->link == NULL)) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* --OPT EUI|I: the index of that simulated node in *ni, -1 without. */
static int
pick_node(struct sim *s, const char *opt, const char *arg, int *ni)
{
	unsigned int i;
	uint64_t eui;

	*ni = -1;
	if (arg == NULL)
		return 0;
	if (registry_parse_eui(arg, &eui) == 0) {
		for (i = 0; i < s->nnodes; i++)
			if (registry_at(s->reg, s->o.offset + i)->eui == eui)
				*ni = (int)i;
	} else if (parse_uint(arg, &i) == 0 && i < s->nnodes)
		*ni = (int)i;
	if (*ni < 0) {
		fprintf(stderr, "fieldbridge-sim: --%s %s: not one of the "
		    "simulated nodes\n", opt, arg);
		return -EINVAL;
	}
	return 0;
}

static int
sim_setup(struct sim *s)
{
	char err[512];
	unsigned int total;
	int r;

	r = registry_load(s->o.registry, s->o.keys, &s->reg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "fieldbridge-sim: %s\n", err);
		return r;
	}
	total = (unsigned int)registry_count(s->reg);
	if (s->o.offset >= total) {
		fprintf(stderr, "fieldbridge-sim: --offset %u: the registry "
		    "has %u devices\n", s->o.offset, total);
		return -EINVAL;
	}
	s->nnodes = total - s->o.offset;
	if (s->o.nodes > 0 && s->o.nodes < s->nnodes)
		s->nnodes = s->o.nodes;
	s->nodes = calloc(s->nnodes, sizeof(*s->nodes));
	s->out = malloc(SIM_OUT_CAP);
	/* At most one pending record per queued frame, and a data frame on
	 * the wire is longer than 32 bytes. */
	s->pend_cap = SIM_OUT_CAP / 32 + 1;
	s->pend = s->o.log != NULL ? calloc(s->pend_cap, sizeof(*s->pend)) :
	    NULL;
	if (s->nodes == NULL || s->out == NULL ||
	    (s->o.log != NULL && s->pend == NULL))
		return -ENOMEM;
	if ((r = pick_node(s, "flood", s->o.flood, &s->flood_node)) != 0 ||
	    (r = pick_node(s, "hello-flood", s->o.hello_flood,
	    &s->hello_flood_node)) != 0 ||
	    (r = pick_node(s, "forge-join", s->o.forge_join,
	    &s->forge_join_node)) != 0 ||
	    (r = pick_node(s, "replay-hello", s->o.replay_hello,
	    &s->replay_hello_node)) != 0)
		return r;
	if (s->o.v1 != NULL && strcmp(s->o.v1, "all") == 0)
		s->v1_node = (int)s->nnodes;
	else if ((r = pick_node(s, "v1", s->o.v1, &s->v1_node)) != 0)
		return r;
	return sim_node_init(s);
}

/* With --count: every node has sent its records and the attacks are
 * through (or, for replays that need a later frame, have had their chance). */
static int
all_done(struct sim *s, uint64_t tms)
{
	unsigned int i;

	if (s->o.count == 0)
		return 0;
	for (i = 0; i < s->nnodes; i++)
		if (!s->nodes[i].done)
			return 0;
	if (s->nodes_done_ms == 0)
		s->nodes_done_ms = tms;
	return !sim_attack_left(s) || tms >= s->nodes_done_ms + SIM_ATTACK_GRACE_MS;
}

static void
summary(const struct sim *s, FILE *f)
{
	const struct sim_stats *t = &s->st;

	fprintf(f, "sim: sent=%" PRIu64 " forged=%" PRIu64 " replayed=%" PRIu64
	    " replayed_hello=%" PRIu64 " replayed_response=%" PRIu64
	    " unknown=%" PRIu64 " garbage_bytes=%" PRIu64 " flood=%" PRIu64
	    " hello_flood=%" PRIu64 " forged_join=%" PRIu64
	    " victim_hellos=%" PRIu64 " victim_join_ms=%" PRIu64
	    " v1_nodes=%" PRIu64
	    " hellos=%" PRIu64 " handshakes=%" PRIu64 " rejoins=%" PRIu64
	    " bad_gw_proof=%" PRIu64
	    " bad_downlink=%" PRIu64 " commands=%" PRIu64
	    " command_acks=%" PRIu64 " keepalive_reqs=%" PRIu64 " keepalives=%" PRIu64
	    " tx_req=%" PRIu64
	    " resets=%" PRIu64 " frames_up=%" PRIu64 " bad_frames_in=%" PRIu64
	    " unwritten_bytes=%zu\n",
	    t->sent, t->forged, t->replayed, t->replayed_hello,
	    t->replayed_response, t->unknown, t->garbage_bytes, t->flood,
	    t->hello_flood, t->forged_join,
	    t->victim_hellos, t->victim_join_ms, t->v1_nodes,
	    t->hellos, t->handshakes, t->rejoins, t->bad_gw_proof, t->bad_down,
	    t->commands, t->command_acks, t->keepalive_reqs, t->keepalives, t->tx_req, t->resets, t->frames_up, t->frames_bad_in,
	    sim_conc_pending(s));
}

static int
sim_loop(struct sim *s)
{
	struct pollfd pfd[2];
	uint8_t buf[8192];
	uint64_t tus, tms, next, end_ms = 0, drain_ms = 0, idle_ms = 0;
	ssize_t n;
	int timeout, inq, r, stopping = 0;

	s->start_ms = sim_now_ms();
	s->next_status_ms = s->start_ms;
	if (s->o.duration > 0)
		end_ms = s->start_ms + (uint64_t)(s->o.duration * 1000);
	for (;;) {
		tus = sim_now_us();
		tms = tus / 1000;
		/*
		 * At the end of --duration or on SIGTERM, stop sending but let
		 * the daemon read what is on the line: closing the pty drops
		 * its unread bytes, and the log would claim records that never
		 * reached the daemon.
		 */
		if (end_ms != 0 && tms >= end_ms && !stopping) {
			stopping = 1;
			drain_ms = tms + SIM_STOP_DRAIN_MS;
		}
		if (tms >= s->next_status_ms) {
			sim_conc_status(s, tms);
			s->next_status_ms = tms + SIM_STATUS_MS;
		}
		sim_conc_txq_run(s, (uint32_t)tus);
		if (s->o.dialect != SIM_DIALECT_FBSP)
			sim_module_tick(s, tms);
		next = stopping ? tus + SIM_TICK_MS * 1000 : sim_node_run(s, tus);
		if (!stopping)
			sim_attack_run(s, tms);
		if (s->ntxq > 0 && next > tus + 1000)
			next = tus + 1000;
		if (s->mod.tail_len > 0 && next > tus + 1000)
			next = tus + 1000;	/* --quirks split */
		if ((r = sim_conc_write(s)) < 0) {
			fprintf(stderr, "fieldbridge-sim: write: %s\n",
			    strerror(-r));
			return r;
		}
		if (drain_ms == 0 && all_done(s, tms))
			drain_ms = tms + SIM_DRAIN_MS;
		if (drain_ms != 0) {
			/* Done: wait until the daemon has read everything. */
			inq = 0;
			if (ioctl(s->slave, FIONREAD, &inq) != 0)
				inq = 0;
			if (sim_conc_pending(s) > 0 || inq > 0)
				idle_ms = 0;
			else if (idle_ms == 0)
				idle_ms = tms + SIM_LINGER_MS;
			if ((idle_ms != 0 && tms >= idle_ms) || tms >= drain_ms)
				return 0;
			next = tus + 20000;
		}
		/* A full queue waits for POLLOUT instead of spinning. */
		if (sim_conc_pending(s) > SIM_OUT_HIGH && next < tus + SIM_TICK_MS * 1000)
			next = tus + SIM_TICK_MS * 1000;
		timeout = next > tus ? (int)((next - tus + 999) / 1000) : 0;
		if (timeout > SIM_TICK_MS)
			timeout = SIM_TICK_MS;
		if (!stopping && sim_attack_left(s) &&
		    timeout > (int)s->o.attack_ms)
			timeout = (int)s->o.attack_ms;
		pfd[0].fd = s->master;	/* -1 while --quirks unplug */
		pfd[0].events = POLLIN | (sim_conc_pending(s) > 0 ? POLLOUT : 0);
		pfd[1].fd = s->sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents & POLLIN) {
			if (stopping)
				return 0;	/* a second signal: at once */
			(void)read(s->sigfd, buf, sizeof(struct signalfd_siginfo));
			if (((struct signalfd_siginfo *)buf)->ssi_signo ==
			    SIGUSR1) {
				sim_attack_replay_captured(s);
				continue;
			}
			stopping = 1;
			drain_ms = tms + SIM_STOP_DRAIN_MS;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(s->master, buf, sizeof(buf));
			if (n > 0)
				sim_conc_input(s, buf, (size_t)n);
			else if (n < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != EIO)
				return -errno;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sim *s;
	sigset_t mask;
	char err[512];
	int r, rc = 1;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return 1;
	s->master = s->slave = s->sigfd = -1;
	if (parse_args(argc, argv, &s->o) != 0)
		goto out;
	if (s->o.gen > 0) {
		r = sim_gen_registry(s->o.registry, s->o.keys, s->o.gen,
		    s->o.streams, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "fieldbridge-sim: %s\n", err);
		else
			rc = 0;
		goto out;
	}
	if (s->o.seeded)
		s->rng = s->o.seed;
	else
		(void)gnutls_rnd(GNUTLS_RND_NONCE, &s->rng, sizeof(s->rng));
	if (sim_setup(s) != 0)
		goto out;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);	/* --capture: replay now */
	(void)signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (s->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		perror("fieldbridge-sim: signalfd");
		goto out;
	}
	if (s->o.log != NULL) {
		if ((s->logf = fopen(s->o.log, "we")) == NULL) {
			fprintf(stderr, "fieldbridge-sim: %s: %s\n", s->o.log,
			    strerror(errno));
			goto out;
		}
		setvbuf(s->logf, NULL, _IOFBF, 1 << 16);
	}
	if ((r = sim_conc_open(s)) < 0) {
		fprintf(stderr, "fieldbridge-sim: pty: %s\n", strerror(-r));
		goto out;
	}
	if ((r = sim_conc_link(s->o.link, s->slave_name)) < 0) {
		fprintf(stderr, "fieldbridge-sim: %s: %s\n", s->o.link,
		    strerror(-r));
		goto out;
	}
	sim_conc_start(s);
	printf("%s -> %s\n", s->o.link, s->slave_name);
	fflush(stdout);
	if (!s->o.quiet)
		fprintf(stderr, "sim: %u nodes on %s, %.6g records/s each%s\n",
		    s->nnodes, s->o.link, s->o.rate,
		    s->flood_node >= 0 ? ", one flooding" : "");
	r = sim_loop(s);
	sim_conc_unlink(s->o.link, s->slave_name);
	if (r < 0)
		fprintf(stderr, "fieldbridge-sim: %s\n", strerror(-r));
	else
		rc = 0;
	summary(s, stderr);
out:
	if (s->logf != NULL && fclose(s->logf) != 0)
		rc = 1;
	if (s->sigfd != -1)
		close(s->sigfd);
	if (s->master != -1)
		close(s->master);
	if (s->slave != -1)
		close(s->slave);
	sim_node_done(s);
	free(s->out);
	free(s->pend);
	free(s->mod.held);
	registry_free(s->reg);
	free(s);
	return rc;
}
