/*
 * conf.h - the daemon's configuration: etc/fieldbridge.conf (libconfig)
 * read into one plain struct, every value range-checked, every error
 * reported as "FILE:LINE: what is wrong".  A file is applied only when it
 * is valid as a whole.
 *
 * Data flow: fieldbridge.conf -> conf_load -> struct conf -> main, which
 * hands the parts to the ports, the batcher and the uplink.
 */
#ifndef FB_CONF_H
#define FB_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_PATH_DEFAULT	"/etc/fieldbridge/fieldbridge.conf"
#define CONF_GATEWAY_ID_MAX	63
#define CONF_NAME_MAX		31
#define CONF_HOST_MAX		253
#define CONF_PREFIX_MAX		127
#define CONF_CONCENTRATORS_MAX	16
#define CONF_USERNAME_MAX	255	/* Azure's {hub}/{device}/?api-... */
#define CONF_ALPN_MAX		127	/* comma-separated protocol names */
#define CONF_TOPIC_MAX		255	/* a topic template (topic.h) */
/* mqtt.cloud: whose documented limits --check applies */
#define CONF_CLOUD_AUTO		0	/* from the host name */
#define CONF_CLOUD_GENERIC	1
#define CONF_CLOUD_AWS		2
#define CONF_CLOUD_AZURE	3
#define CONF_STREAMS_MAX	64	/* streams with settings */
#define CONF_ERR_MAX		4096	/* room for all messages of a file */
/* spool.when_full */
#define CONF_SPOOL_DROP_OLDEST	0
#define CONF_SPOOL_REFUSE_NEWEST	1
/* policy.region: the airtime budget's rules (policy/budget.h) */
#define CONF_REGION_EU868	0
#define CONF_REGION_US915	1
#define CONF_REGION_NONE	2	/* no budget: a lab, a simulator */
/* Above this durability window the daemon warns at start-up. */
#define CONF_DURABILITY_WARN_MS	1000

struct radio_params;

struct conf_concentrator {
	char		name[CONF_NAME_MAX + 1];
	char		path[PATH_MAX];
	char		driver[CONF_NAME_MAX + 1];
	int		baud;			/* 0 in the file: the driver's */
	int		tx_power_dbm;
	/* The radio of a module the driver configures (rn2483, rak3172). */
	int		modulation;		/* RADIO_MOD_LORA, _FSK */
	int		freq_hz;
	int		sf;
	int		bw_khz;
	int		coding_rate;		/* 4/(4 + this) */
	int		bitrate;		/* FSK, bit/s */
	int		sync_word;
	int		preamble;
};

/* Settings of one stream (registry streams need none). */
struct conf_stream {
	char		name[63 + 1];		/* BATCH_STREAM_MAX */
	int		decoder;		/* BATCH_DECODE_* */
};

struct conf {
	char		gateway_id[CONF_GATEWAY_ID_MAX + 1];
	char		state_dir[PATH_MAX];
	char		registry[PATH_MAX];
	char		keys[PATH_MAX];
	char		user[CONF_NAME_MAX + 1];	/* confined child's */
	char		serial_group[CONF_NAME_MAX + 1]; /* owns the ttys */
	int		log_level;		/* LOG_* */

	struct conf_concentrator conc[CONF_CONCENTRATORS_MAX];
	int		nconc;

	struct conf_stream streams[CONF_STREAMS_MAX];
	int		nstreams;

	struct {
		char	host[CONF_HOST_MAX + 1];
		int	port;
		char	ca[PATH_MAX];
		char	cert[PATH_MAX];
		char	key[PATH_MAX];
		char	client_id[CONF_GATEWAY_ID_MAX + 1]; /* "" = gateway_id */
		char	topic_prefix[CONF_PREFIX_MAX + 1];
		int	keepalive_s;
		int	tls_min;		/* 12 or 13 */
		int	backoff_min_ms;
		int	backoff_max_ms;
		int	inflight_max;
		char	username[CONF_USERNAME_MAX + 1]; /* "": none sent */
		char	alpn[CONF_ALPN_MAX + 1];	/* "": no ALPN */
		char	topic_batch[CONF_TOPIC_MAX + 1];
		char	topic_backlog[CONF_TOPIC_MAX + 1];
		char	topic_status[CONF_TOPIC_MAX + 1];
		char	topic_health[CONF_TOPIC_MAX + 1];
		int	cloud;			/* CONF_CLOUD_* */
	} mqtt;

	struct {
		int	max_records;
		int	max_bytes;
		int	max_age_ms;
		int	encoding;		/* ENCODING_* (encoding.h) */
	} batch;

	struct {
		int	rate_per_min;		/* per device; 0: unlimited */
		int	rate_burst;
		int	hello_per_min;		/* HELLOs per device */
		int	hello_burst;
		int	region;			/* CONF_REGION_* */
	} policy;

	struct {
		int	quota_mib;		/* spool size on disk */
		int	max_age_s;		/* 0: keep as long as there is
						 * room */
		int	when_full;		/* CONF_SPOOL_DROP_OLDEST, ... */
		int	durability_ms;		/* spool and journal sync period */
		int	drain_rate_bps;		/* backlog bytes/s; 0: no limit */
	} spool;

	struct {
		int	shutdown_timeout_ms;	/* wait for PUBACKs at exit */
		int	stats_interval_s;	/* counters line in the log */
		int	status_interval_s;	/* state_dir/status rewrite */
		int	health_interval_s;	/* health message; 0: none */
	} daemon;
};

/*
 * Read and check a file.  Relative paths in it are taken relative to the
 * directory of the file and stored absolute.  On failure returns -EINVAL
 * (or -errno when the file cannot be read), writes one "FILE:LINE: what"
 * line per problem into err (NUL-terminated, lines separated by '\n', no
 * trailing newline) and leaves *out unspecified: the caller keeps its old
 * struct and copies only on success.
 */
int	conf_load(const char *path, struct conf *out, char *err, size_t errlen);
/* The same over text in memory; name stands for the file in messages and
 * relative paths are taken relative to basedir (NULL: the cwd). */
int	conf_load_string(const char *text, const char *name,
	    const char *basedir, struct conf *out, char *err, size_t errlen);

/*
 * The settings whose values differ between a and b, each passed to cb by
 * its name as written in the file ("mqtt.host", "concentrators.[1].sf";
 * a list of another length as "concentrators").  Returns how many.  The
 * daemon applies none of them without a restart: SIGHUP names them.
 */
typedef void conf_diff_fn(void *arg, const char *setting);
unsigned int conf_diff(const struct conf *a, const struct conf *b,
	    conf_diff_fn *cb, void *arg);

/* The radio settings of a concentrator, for its port and driver. */
void	conf_radio_params(const struct conf_concentrator *cc,
	    struct radio_params *rp);

/* Defaults of every tunable, as conf_load starts from. */
void	conf_defaults(struct conf *c);
/* Print the table of tunables (name, type, default, range, help). */
void	conf_print_tunables(FILE *f);

#endif
