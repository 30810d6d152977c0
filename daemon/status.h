/*
 * status.h - the daemon's status file (STATE_DIR/status) and its counters
 * line: the key names, defined once for the writers (status.c, uplink.c,
 * outbox.c) and the reader (tools/cli_status.c), and the calls that write
 * them.  The file's format, key by key, is drawn at the top of status.c.
 */
#ifndef FB_STATUS_H
#define FB_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define STATUS_FILE		"status"	/* below the state directory */
/* The status file is mode 0640; its group is this one when it exists and
 * the daemon's user is a member (debian/fieldbridge.sysusers), so that
 * its members read the status and nothing else of the daemon's. */
#define STATUS_GROUP		"fieldbridge-status"
#define STATUS_MODE		0640
/* A text value is cut to this many bytes (the reader takes 127) and has
 * its control characters replaced: a value is one line. */
#define STATUS_TEXT_MAX		400

/* Written by status.c from what the loop knows. */
#define STATUS_K_STATE			"state"
#define STATUS_K_PID			"pid"
#define STATUS_K_GATEWAY_ID		"gateway_id"
#define STATUS_K_UPTIME_S		"uptime_s"
#define STATUS_K_UPDATED		"updated"
#define STATUS_K_CLOCK_SYNCED		"clock_synced"
#define STATUS_K_MQTT_CONNECTED		"mqtt_connected"
#define STATUS_K_MQTT_CONNECTS		"mqtt_connects"
#define STATUS_K_MQTT_DISCONNECTS	"mqtt_disconnects"
#define STATUS_K_MQTT_INFLIGHT		"mqtt_inflight"
#define STATUS_K_PORTS			"ports"
#define STATUS_K_PORTS_OPEN		"ports_open"
#define STATUS_K_SANDBOX		"sandbox"
#define STATUS_K_RECORDS_ACCEPTED	"records_accepted"
#define STATUS_K_RECORDS_PENDING	"records_pending"
#define STATUS_K_BATCHES_SEALED		"batches_sealed"
#define STATUS_K_BATCHES_DELIVERED	"batches_delivered"
#define STATUS_K_RECORDS_DELIVERED	"records_delivered"
#define STATUS_K_DROP_PREFIX		"drop_"	/* + a drop counter's name */
#define STATUS_K_DROP_STREAM		"drop_stream"
#define STATUS_K_DROP_SERIAL_PREFIX	"drop_serial_"
#define STATUS_K_DROP_SPOOL_PREFIX	"drop_spool_"
#define STATUS_K_DROP_SPOOL_BATCHES	"drop_spool_batches"
#define STATUS_K_DROP_SPOOL_RECORDS	"drop_spool_records"
#define STATUS_K_LOST_BATCHES		"lost_batches"
#define STATUS_K_LOST_RECORDS		"lost_records"
#define STATUS_K_DOWNLINKS		"downlinks"
#define STATUS_K_DOWNLINKS_FAILED	"downlinks_failed"
#define STATUS_K_KEEPALIVES_SENT	"keepalives_sent"
/* The last SIGHUP: when (Unix time; absent: none since start) and what
 * came of it ("ok", or why the old registry was kept). */
#define STATUS_K_RELOAD_LAST_AT		"reload_last_at"
#define STATUS_K_RELOAD_LAST_RESULT	"reload_last_result"
#define STATUS_RELOAD_OK		"ok"
/* Per concentrator: "port_" NAME "_path" etc. (loop.c). */
#define STATUS_K_PORT_PREFIX		"port_"
#define STATUS_K_PORT_PATH		"_path"
#define STATUS_K_PORT_STATE		"_state"	/* open|ready|retrying|down */
#define STATUS_K_PORT_ERROR		"_error"
#define STATUS_K_PORT_SINCE		"_since"
/* Per device: "device_" EUI "_last_seen" etc. (devstats.c). */
#define STATUS_K_DEVICE_PREFIX		"device_"
#define STATUS_K_DEVICE_NAME		"_name"
#define STATUS_K_DEVICE_LAST_SEEN	"_last_seen"
#define STATUS_K_DEVICE_RECORDS		"_records"
#define STATUS_K_DEVICE_REFUSED		"_refused"
#define STATUS_K_DEVICES		"devices"	/* known to devstats */
#define STATUS_K_DEVICES_FORGOTTEN	"devices_forgotten"	/* table full */

/* Per concentrator and sub-band: "airtime_" PORT "_" BAND "_used_ms" etc.
 * (loop.c); "_challenge_used_ms" is the part spent on challenges. */
#define STATUS_K_AIRTIME_PREFIX		"airtime_"
#define STATUS_K_AIRTIME_USED		"_used_ms"
#define STATUS_K_AIRTIME_CHALLENGE_USED	"_challenge_used_ms"

/* Written by uplink.c (uplink_status). */
#define STATUS_K_MQTT_STATE		"mqtt_state"
#define STATUS_K_MQTT_HOST		"mqtt_host"
#define STATUS_K_MQTT_PORT		"mqtt_port"
#define STATUS_K_MQTT_ADDRESS		"mqtt_address"
#define STATUS_K_MQTT_ADDRESSES		"mqtt_addresses"
#define STATUS_K_MQTT_RESOLVE_ERROR	"mqtt_resolve_error"
#define STATUS_K_MQTT_ERROR_IPV4	"mqtt_error_ipv4"
#define STATUS_K_MQTT_ERROR_IPV6	"mqtt_error_ipv6"
/* Unix time mqtt_state took its value; the last failure to connect or of
 * the connection in plain words (resolution, TCP, TLS explained, CONNACK,
 * lost link, TLS files, a take-over of our client id), empty if none since
 * start, and its Unix time (0: none); take-over episodes since start. */
#define STATUS_K_MQTT_STATE_SINCE	"mqtt_state_since"
#define STATUS_K_MQTT_LAST_ERROR	"mqtt_last_error"
#define STATUS_K_MQTT_LAST_ERROR_AT	"mqtt_last_error_at"
#define STATUS_K_MQTT_TAKEOVERS		"mqtt_takeovers"
/* The client certificate's end of validity (Unix time; 0: unknown) and
 * the days left (negative: expired). */
#define STATUS_K_TLS_CERT_EXPIRES	"tls_cert_expires"
#define STATUS_K_TLS_CERT_DAYS		"tls_cert_days"

/* Written by outbox.c (outbox_status). */
#define STATUS_K_SPOOL_BATCHES		"spool_batches"
#define STATUS_K_SPOOL_RECORDS		"spool_records"
#define STATUS_K_SPOOL_BYTES		"spool_bytes"
#define STATUS_K_SPOOL_DISK_BYTES	"spool_disk_bytes"
#define STATUS_K_SPOOL_QUOTA_BYTES	"spool_quota_bytes"
#define STATUS_K_SPOOL_SEGMENT_BYTES	"spool_segment_bytes"
#define STATUS_K_SPOOL_OLDEST_AGE_S	"spool_oldest_age_s"
#define STATUS_K_SPOOL_LIVE_BATCHES	"spool_live_batches"
#define STATUS_K_SPOOL_BACKLOG_BATCHES	"spool_backlog_batches"
#define STATUS_K_SPOOL_BACKLOG_RECORDS	"spool_backlog_records"
#define STATUS_K_SPOOL_BACKLOG_BYTES	"spool_backlog_bytes"
#define STATUS_K_SPOOL_BACKLOG_INFLIGHT	"spool_backlog_inflight"
#define STATUS_K_DRAIN_BYTES_PER_S	"drain_bytes_per_s"
#define STATUS_K_DRAIN_RECORDS_PER_S	"drain_records_per_s"
#define STATUS_K_DRAIN_RATE_LIMIT_BPS	"drain_rate_limit_bps"
#define STATUS_K_SPOOL_APPENDED_BATCHES	"spool_appended_batches"
#define STATUS_K_SPOOL_APPENDED_RECORDS	"spool_appended_records"
#define STATUS_K_SPOOL_DELIVERED_BACKLOG_BATCHES \
					"spool_delivered_backlog_batches"
#define STATUS_K_SPOOL_DROPPED_BATCHES	"spool_dropped_batches"
#define STATUS_K_SPOOL_DROPPED_RECORDS	"spool_dropped_records"
#define STATUS_K_SPOOL_NOT_STORED_BATCHES "spool_not_stored_batches"
#define STATUS_K_SPOOL_QUARANTINED	"spool_quarantined"
#define STATUS_K_SPOOL_TRUNCATED_BYTES	"spool_truncated_bytes"
#define STATUS_K_SPOOL_DISK_FULL	"spool_disk_full"
#define STATUS_K_SPOOL_SYNC_ERRORS	"spool_sync_errors"
#define STATUS_K_GAP_EVENTS		"gap_events"
#define STATUS_K_GAP_EVENTS_DELIVERED	"gap_events_delivered"
#define STATUS_K_GAP_EVENTS_PENDING	"gap_events_pending"
#define STATUS_K_GAP_EVENTS_MERGED	"gap_events_merged"
#define STATUS_K_JOURNAL_PENDING_RECORDS "journal_pending_records"
#define STATUS_K_JOURNAL_UNWRITTEN_RECORDS "journal_unwritten_records"
#define STATUS_K_JOURNAL_FILES		"journal_files"
#define STATUS_K_JOURNAL_RECORDS_WRITTEN "journal_records_written"
#define STATUS_K_JOURNAL_BYTES_WRITTEN	"journal_bytes_written"
#define STATUS_K_JOURNAL_REPLAYED	"journal_replayed"
#define STATUS_K_DURABILITY_MS		"durability_ms"
#define STATUS_K_LAST_COMMIT_AGE_MS	"last_commit_age_ms"
#define STATUS_K_COMMITS		"commits"
#define STATUS_K_COMMIT_ERRORS		"commit_errors"

/* Written by commands.c (commands_status): commands waiting now, then
 * counts since start, then outcomes waiting for their PUBACK. */
#define STATUS_K_COMMANDS_WAITING	"commands_waiting"
#define STATUS_K_COMMANDS_RECEIVED	"commands_received"
#define STATUS_K_COMMANDS_QUEUED	"commands_queued"
#define STATUS_K_COMMANDS_DELIVERED	"commands_delivered"
#define STATUS_K_COMMANDS_ACKNOWLEDGED	"commands_acknowledged"
#define STATUS_K_COMMANDS_EXPIRED	"commands_expired"
#define STATUS_K_COMMANDS_REFUSED	"commands_refused"
#define STATUS_K_COMMANDS_MALFORMED	"commands_malformed"
#define STATUS_K_COMMANDS_DUPLICATE	"commands_duplicate"
#define STATUS_K_COMMANDS_QUEUE_FULL	"commands_queue_full"
#define STATUS_K_COMMANDS_REVOKED	"commands_revoked"
#define STATUS_K_COMMAND_RESULTS_PENDING "command_results_pending"
#define STATUS_K_COMMAND_STORE_ERRORS	"command_store_errors"

/* One line each; the writers use these, never fprintf of their own. */
void	status_u64(FILE *f, const char *key, uint64_t v);
void	status_i64(FILE *f, const char *key, int64_t v);
void	status_str(FILE *f, const char *key, const char *v);
/* Text from outside the daemon's own vocabulary (error messages, paths,
 * names): one line of at most STATUS_TEXT_MAX bytes. */
void	status_text(FILE *f, const char *key, const char *v);
/* A key made of prefix, name and suffix ("port_" "radio1" "_state"). */
void	status_text3(FILE *f, const char *prefix, const char *name,
	    const char *suffix, const char *v);
void	status_i64_3(FILE *f, const char *prefix, const char *name,
	    const char *suffix, int64_t v);
/* A rate, rounded to a whole number. */
void	status_rate(FILE *f, const char *key, double v);

/* A drop counter: its name (the key is STATUS_K_DROP_PREFIX + name in the
 * file, the bare name in the counters line) and its value. */
struct status_drop {
	const char	*name;
	uint64_t	 value;
};

#define STATUS_DROPS_MAX	96

/* What the loop knows, for the file and the counters line. */
struct status_loop {
	const char	*state;		/* "running", "stopping", "stopped" */
	const char	*gateway_id;
	uint64_t	 uptime_s;
	int		 clock_synced;
	int		 mqtt_connected;
	uint64_t	 mqtt_connects, mqtt_disconnects;
	int		 mqtt_inflight;
	int		 ports, ports_open;
	const char	*sandbox;
	uint64_t	 records_accepted, records_pending;
	uint64_t	 batches_sealed, batches_delivered, records_delivered;
	/* In the order of the line: identity verdicts, "stream", the
	 * rules' verdicts ("rule_" + why), then the serial ones (named
	 * "serial_" + the driver's verdict). */
	struct status_drop drops[STATUS_DROPS_MAX];
	size_t		 ndrops;
	uint64_t	 spool_dropped_batches, spool_dropped_records;
	uint64_t	 lost_batches, lost_records;
	uint64_t	 downlinks, downlinks_failed;
	uint64_t	 keepalives_sent;	/* answers to keepalive requests */
	int64_t		 reload_at;		/* Unix time; 0: no SIGHUP yet */
	const char	*reload_result;		/* STATUS_RELOAD_OK or why not */
};

/* Sections other modules write into the file, in this order after the
 * loop's own keys: the uplink's after the mqtt_ keys, the outbox's (and
 * the sessions') after the record counts, the radio policy's (downlink
 * refusals, the airtime budget) at the end.  Any may be NULL. */
struct status_sections {
	void	(*uplink)(void *arg, FILE *f);
	void	(*outbox)(void *arg, FILE *f);
	void	(*radio)(void *arg, FILE *f);
	void	*arg;
};

/* Replaces STATUS_FILE below dirfd (AT_FDCWD: the state directory once
 * chrooted) with the whole file in one step, mode STATUS_MODE, group gid
 * ((gid_t)-1: the process's own).  Returns 0 or -errno; -EPERM: gid was
 * refused (not a member), the file was written with the own group. */
int	status_write(int dirfd, const struct status_loop *l,
	    const struct status_sections *sec, gid_t gid);

/* The whole file's text, as status_write writes it, into f. */
void	status_render(FILE *f, const struct status_loop *l,
	    const struct status_sections *sec);

/*
 * The status text's key=value lines (len bytes, as status_render writes
 * them or `fieldbridge status` reads them) as one JSON object on one line,
 * without a newline: {"KEY": VALUE, ...} in the text's order, each value a
 * JSON number when it is a decimal integer JSON carries exactly (no leading
 * zero, at most 18 digits), else a string.  Keys and values are escaped
 * byte by byte ('"', '\\', control bytes as \u00XX, bytes that are not
 * UTF-8 as \ufffd), so no text can break the object.  Lines that are not
 * key=value (no '=', or an empty key) are skipped.
 *
 * STATUS_JSON_HEALTH keeps only what the health message carries
 * (status_health_keys in status.c, docs/uplink-format.md "Health"): the
 * devices among them are the
 * STATUS_HEALTH_DEVICES_MAX with the most refused frames (at least one),
 * most refused first (ties: the text's order), after every other key.
 * Returns 0, or -EIO when out cannot be written.
 */
/* A key a reader takes: not empty, no control byte.  The daemon writes
 * [a-z0-9_A-F]; a damaged file may hold anything, and a NUL in a key would
 * cut it short in C, or make JSON that Jansson refuses. */
int	status_key_ok(const char *k, size_t kl);

enum status_json_filter {
	STATUS_JSON_ALL,
	STATUS_JSON_HEALTH,
};
#define STATUS_HEALTH_DEVICES_MAX	5
int	status_json(const char *text, size_t len,
	    enum status_json_filter filter, FILE *out);

/* The health message (docs/uplink-format.md): the status rendered and
 * converted with STATUS_JSON_HEALTH, into a malloc'ed *out of *outlen
 * bytes, not NUL-terminated; the caller frees it.  0 or -errno. */
int	status_health(const struct status_loop *l,
	    const struct status_sections *sec, char **out, size_t *outlen);

/* The counters line (format at the top of status.c) into buf; prefix
 * goes first ("final: " at exit).  Returns buf. */
char	*status_counters_line(char *buf, size_t sz, const char *prefix,
	    const struct status_loop *l);

#endif
