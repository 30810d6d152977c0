/*
 * sim.h - what the files of fieldbridge-sim share: the simulator's state
 * (struct sim) and the calls each file offers the others, the sensor
 * payload generator (sim_payload.c), the registry generator (sim_gen.c)
 * and a small deterministic random generator for all of them.
 *
 * The files, by concern:
 *   fieldbridge-sim.c  main, options, set-up, the poll loop, the summary
 *   sim_conc.c         the concentrator on the pty: FBSP frames both ways,
 *                      the output queue and --log, held downlinks
 *   sim_node.c         the nodes: libfbnode (node/) for the link
 *                      protocol, their schedule, and downlink dispatch
 *   sim_attack.c       forged, replayed, unknown-device and garbage traffic
 *   sim_module.c       the RN2483/RN2903 and RAK3172 dialects (--dialect)
 *                      and their quirks (--quirks), instead of FBSP
 *
 * The simulator stands where the radio and the concentrator would be: it
 * produces what nodes would transmit, so nothing here is used by the daemon.
 */
#ifndef FB_SIM_H
#define FB_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "node/fbnode.h"
#include "node/fbnode_gnutls.h"
#include "radio/link.h"
#include "radio/sframe.h"

#define SIM_PAYLOAD_MIN		20	/* bytes of one telemetry record */
#define SIM_PAYLOAD_MAX		35	/* fits EU868 SF12 with the link overhead */
#define SIM_OUT_CAP		(1u << 20)	/* bytes queued towards the pty */
#define SIM_OUT_HIGH		(256u << 10)	/* nodes pause above this */
#define SIM_TICK_MS		10		/* longest poll sleep */
#define SIM_FLOOD_FACTOR	25		/* flooding node: rate times this */
#define SIM_HELLO_RATE		1000		/* --hello-flood, HELLOs/s */
#define SIM_CAPTURE_MAX		64		/* data frames kept for replay */
#define SIM_SID_BUCKETS		4096
#define SIM_TXQ_MAX		32		/* downlinks waiting for their time */
#define SIM_HOLD_MAX		4096		/* packets waiting for a module
						 * to receive */

/* splitmix64: fast, seedable, good enough for sensor noise and schedules. */
static inline uint64_t
sim_rand(uint64_t *s)
{
	uint64_t z;

	z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static inline uint32_t
sim_rand_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((sim_rand(s) >> 32) * (uint64_t)n) >> 32);
}

/* CLOCK_MONOTONIC, the clock of every schedule and of --log-time. */
static inline uint64_t
sim_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t
sim_now_ms(void)
{
	return sim_now_us() / 1000u;
}

enum sim_sensor_kind {
	SIM_SENSOR_GENERIC = 0,
	SIM_SENSOR_COLLAR = 1,		/* stream "cattle", "sheep", ... */
	SIM_SENSOR_TROUGH = 2,		/* stream "water" */
	SIM_SENSOR_WEATHER = 3,		/* stream "weather", "soil" */
};

/* The slowly changing state of one node's sensors (a random walk). */
struct sim_sensor {
	uint8_t		kind;		/* enum sim_sensor_kind */
	uint64_t	rng;
	int32_t		lat_e7, lon_e7;	/* position, 1e-7 degrees */
	int16_t		temp_c100;	/* body, water or air temperature */
	uint16_t	level_mm;	/* trough level */
	uint16_t	pressure_hpa10;
	uint8_t		humidity;
	uint8_t		battery;	/* percent */
	uint32_t	total;		/* steps, litres or rain in 0.1 mm */
	uint32_t	uptime_s;
};

void	sim_sensor_init(struct sim_sensor *s, const char *stream, uint64_t seed);
/* Write the next reading; returns its length, SIM_PAYLOAD_MIN..MAX. */
size_t	sim_payload(struct sim_sensor *s, uint8_t *out, size_t cap);

/* --gen-registry: write a registry of n devices and a mode-0600 keys file. */
int	sim_gen_registry(const char *devices_path, const char *keys_path,
	    unsigned int n, const char *streams, char *err, size_t errlen);

/* --- the simulator's state ------------------------------------------------ */

struct device;
struct registry;

/*
 * One simulated node: libfbnode (node/fbnode.h), the code sensor firmware
 * embeds, on its GnuTLS back-end, plus what the simulator adds around it:
 * a schedule, a sensor, radio figures, and the lists that find the node a
 * downlink is for.
 */
struct sim_node {
	const struct device	*dev;
	struct fbnode		 fb;		/* its half of the link protocol */
	struct fbnode_gnutls	 cr;		/* fb's back-end: the secret */
	int			 done;		/* --count reached */
	int			 waiting;	/* in the waiting-for-ACCEPT list */
	int			 wprev, wnext;
	uint32_t		 hsid;		/* the sid it is hashed under */
	uint64_t		 deadline_ms;	/* handshake step / next HELLO */
	uint64_t		 next_us;	/* next telemetry record */
	uint64_t		 interval_us;
	uint64_t		 sent;		/* records this node sent */
	int			 hnext;		/* sid hash chain, -1 ends */
	int			 hashed;
	uint8_t			 sf;		/* its spreading factor */
	int16_t			 rssi;		/* its typical signal */
	uint8_t			 v1;		/* --v1: version 1 HELLOs */
	struct sim_sensor	 sensor;
	/* The last handshake frames, for --replay's handshake replay. */
	uint8_t			 hello[LINK_FRAME_MAX];
	size_t			 hello_len;
	uint8_t			 resp[LINK_FRAME_MAX];
	size_t			 resp_len;
};

/* A downlink held until the concentrator counter reaches its at_tmst. */
struct sim_txq {
	uint32_t	at;
	uint16_t	id;
	size_t		len;
	uint8_t		frame[RADIO_PAYLOAD_MAX];
};

/* A data frame kept for --replay. */
struct sim_capture {
	int		node;
	uint32_t	sid;
	uint32_t	fcnt;
	size_t		len;
	uint8_t		frame[LINK_FRAME_MAX];
};

/* A record whose frame is queued but not yet written: logged when it is. */
struct sim_pending {
	uint64_t	end;		/* stream offset just past its frame */
	uint64_t	eui;
	uint32_t	fcnt;
	uint8_t		len;
	uint8_t		payload[SIM_PAYLOAD_MAX];
};

enum sim_dialect {
	SIM_DIALECT_FBSP = 0,
	SIM_DIALECT_RN2483,
	SIM_DIALECT_RN2903,
	SIM_DIALECT_RAK3172,
};

/* --quirks, sim_module.c says what each does. */
#define SIM_QUIRK_ECHO		0x01
#define SIM_QUIRK_SPLIT		0x02
#define SIM_QUIRK_BUSY		0x04
#define SIM_QUIRK_RESET		0x08
#define SIM_QUIRK_NOISE		0x10
#define SIM_QUIRK_LONGLINE	0x20
#define SIM_QUIRK_MUTE		0x40
#define SIM_QUIRK_UNPLUG	0x80

/* A packet waiting until the module receives. */
struct sim_held {
	uint16_t	len;
	uint8_t		rec;		/* carries a logged record */
	int8_t		snr;
	int16_t		rssi;
	uint8_t		frame[RADIO_PAYLOAD_MAX];
};

/* A text-command module's state (sim_module.c). */
struct sim_module {
	char		 line[600];	/* the command being received */
	size_t		 len;
	int		 autobaud;	/* a break seen: 0x55 follows */
	int		 rx_on, tx_on, echo, muted;
	int		 nwm;		/* RUI3 work mode, 0: P2P */
	int		 snr, rssi;	/* of the last packet */
	unsigned int	 rx_starts;
	struct sim_held	*held;		/* SIM_HOLD_MAX, a ring */
	unsigned int	 hhead, hn;
	size_t		 held_bytes;	/* as lines on the wire, roughly */
	unsigned int	 unassigned;	/* log entries waiting for a line */
	char		 tail[65536];	/* --quirks split: the second piece */
	size_t		 tail_len;
	unsigned int	 tail_recs;
	uint64_t	 tail_at_ms;
	uint64_t	 next_reset_ms, next_noise_ms, next_long_ms;
	uint64_t	 mute_from_ms, mute_until_ms, unplug_at_ms;
};

struct sim_opts {
	const char	*registry, *keys, *link, *log;
	const char	*streams;
	unsigned int	 nodes, offset;
	double		 rate;
	uint64_t	 count;
	double		 duration;
	uint64_t	 seed;
	int		 seeded;
	unsigned int	 gen;
	unsigned int	 forge, replay, unknown, garbage;
	unsigned int	 capture;	/* --capture: kept for SIGUSR1 */
	unsigned int	 attack_ms;
	const char	*flood;
	const char	*hello_flood;	/* its forged HELLOs */
	unsigned int	 hello_rate;
	const char	*forge_join;
	const char	*v1;		/* --v1: EUI|I|all speak version 1 */
	const char	*replay_hello;	/* its captured HELLO, sent again */
	unsigned int	 flood_join_delay_ms;
	int		 quiet;
	int		 log_time;	/* --log-time: 4th column */
	int		 dialect;	/* enum sim_dialect */
	unsigned int	 quirks;	/* SIM_QUIRK_* */
	int		 fw_old;	/* --old-firmware: RN2483 1.0.4,
					 * RN2903 1.0.3, RUI 3.5.1 */
};

/* The summary printed at exit. */
struct sim_stats {
	uint64_t	sent, forged, replayed, replayed_hello, replayed_response;
	uint64_t	unknown, garbage_bytes, flood;
	uint64_t	hello_flood, forged_join;
	uint64_t	victim_hellos, victim_join_ms, v1_nodes;
	uint64_t	hellos, handshakes, rejoins, bad_gw_proof, bad_down;
	uint64_t	commands, command_acks, keepalive_reqs, keepalives;
	uint64_t	tx_req, resets, frames_up, frames_bad_in;
};

struct sim {
	struct sim_opts		 o;
	struct registry		*reg;
	struct sim_node		*nodes;
	unsigned int		 nnodes;
	int			 flood_node;
	int			 hello_flood_node;	/* -1: none */
	int			 forge_join_node;	/* -1: none */
	int			 replay_hello_node;	/* -1: none */
	int			 v1_node;	/* -1: none, nnodes: all */
	uint64_t		 hello_flood_start_us;
	uint64_t		 victim_first_hello_ms;	/* after its hold */
	int			 sid_head[SIM_SID_BUCKETS];
	int			 whead, wtail;	/* nodes waiting for ACCEPT */
	struct sim_txq		 txq[SIM_TXQ_MAX];
	unsigned int		 ntxq;
	uint64_t		 rng;
	int			 master, slave, sigfd;
	char			 slave_name[128];
	struct sframe_reader	 reader;
	uint8_t			 seq;
	uint64_t		 start_ms;
	uint64_t		 next_status_ms;
	uint64_t		 next_attack_ms;
	/* output queue: out[out_head..out_len) not yet written */
	uint8_t			*out;
	size_t			 out_head, out_len;
	uint64_t		 out_total;	/* bytes ever queued */
	uint64_t		 out_written;	/* bytes ever written */
	struct sim_pending	*pend;
	size_t			 pend_cap, pend_head, pend_count;
	FILE			*logf;
	struct sim_capture	 cap[SIM_CAPTURE_MAX];
	unsigned int		 ncap;
	unsigned int		 unknown_done, forge_done, replay_done;
	unsigned int		 garbage_done;
	int			 hs_replay_step;	/* 0 hello, 1 response, 2 done */
	unsigned int		 rr;		/* round-robin start */
	uint64_t		 nodes_done_ms;
	struct sim_stats	 st;
	struct sim_module	 mod;
};

/* --- sim_conc.c: the concentrator side on the pty ------------------------ */

/* Open the pty (master non-blocking, slave raw and kept open). */
int	sim_conc_open(struct sim *s);
/* Point link at the pty's slave, atomically; remove it if still ours. */
int	sim_conc_link(const char *link, const char *target);
void	sim_conc_unlink(const char *link, const char *target);
/* Reset the frame reader and queue the opening delimiter. */
void	sim_conc_start(struct sim *s);
/* Bytes queued and not yet written to the pty. */
size_t	sim_conc_pending(const struct sim *s);
/* Queue raw bytes: 0 or -ENOBUFS. */
int	sim_conc_put(struct sim *s, const uint8_t *p, size_t len);
/* Write what the pty takes, then log the records now fully written. */
int	sim_conc_write(struct sim *s);
/* Log a record to --log once the bytes queued so far are written. */
void	sim_conc_record(struct sim *s, uint64_t eui, uint32_t fcnt,
	    const uint8_t *payload, size_t len);
/* Report a packet as received from node ni (ni < 0: an unnamed radio). */
int	sim_conc_rx(struct sim *s, int ni, const uint8_t *frame, size_t len);
void	sim_conc_status(struct sim *s, uint64_t now_ms);
/* Transmit the held downlinks whose time has come. */
void	sim_conc_txq_run(struct sim *s, uint32_t tmst);
/* Bytes read from the pty: the gateway's frames. */
void	sim_conc_input(struct sim *s, const uint8_t *buf, size_t len);

/* --- sim_module.c: the text-command modules ---------------------------- */

/* --dialect and --quirks into o: 0, or -EINVAL. */
int	sim_module_parse(const char *dialect, const char *quirks,
	    struct sim_opts *o);
void	sim_module_start(struct sim *s);
/* A packet from node ni (ni < 0: an unnamed radio): held until the module
 * receives.  0 or -ENOBUFS. */
int	sim_module_rx(struct sim *s, int ni, const uint8_t *frame, size_t len);
/* pe logs the packet just given to sim_module_rx. */
void	sim_module_record(struct sim *s, struct sim_pending *pe);
/* Bytes held in the module, not yet queued for the line. */
size_t	sim_module_pending(const struct sim *s);
void	sim_module_input(struct sim *s, const uint8_t *buf, size_t len);
/* Quirks due, the split tail, held packets; every loop round. */
void	sim_module_tick(struct sim *s, uint64_t now_ms);

/* --- sim_node.c: the nodes --------------------------------------------- */

/* Set up every node from its registry entry; 0 or -EINVAL (logged). */
int	sim_node_init(struct sim *s);
/* Free the nodes, wiping their keys; accepts s->nodes == NULL. */
void	sim_node_done(struct sim *s);
/* Run every node that is due; returns the earliest next wish, in us. */
uint64_t sim_node_run(struct sim *s, uint64_t tus);
/* A downlink went on the air: hand it to the node it is for. */
void	sim_node_downlink(struct sim *s, const uint8_t *p, size_t len);

/* --- sim_attack.c: injected traffic ------------------------------------ */

/* Node ni has just sent frame: maybe keep it to replay later. */
void	sim_attack_capture(struct sim *s, int ni, const uint8_t *frame,
	    size_t len);
/* --hello-flood with --flood-join-delay: may node ni start to join? */
int	sim_attack_may_join(const struct sim *s, int ni, uint64_t now_ms);
/* --forge-join: node ni has just sent a HELLO or a RESPONSE; a forged
 * HELLO and a forged RESPONSE in its name follow it on the air. */
void	sim_attack_forge_join(struct sim *s, int ni);
/* SIGUSR1 with --capture: every kept frame its node has moved past goes
 * out again (counted in replayed); then new frames are kept. */
void	sim_attack_replay_captured(struct sim *s);
/* Injections still to do. */
int	sim_attack_left(const struct sim *s);
/* One injection of each kind still to do, when one is due. */
void	sim_attack_run(struct sim *s, uint64_t now_ms);

#endif
