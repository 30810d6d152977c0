/*
 * ident.h - the gateway side of the node link protocol: challenge-response
 * identity, sessions, replay windows.  Input is one radio payload; output is
 * a verified record to pass on (possibly with a KEEPALIVE downlink to send
 * as well), a downlink to send (CHALLENGE or ACCEPT), or a drop verdict
 * that indexes the drop counters.
 *
 * No I/O: the caller logs and counts.  Time is the monotonic clock in ms.
 */
#ifndef FB_IDENT_H
#define FB_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "radio/link.h"
#include "policy/registry.h"

/* At most one keepalive answer per this many uplinks of a session. */
#define IDENT_KEEPALIVE_SPACING	8
#define IDENT_CHALLENGE_TTL_MS	30000	/* pending challenge lifetime */
#define IDENT_HELLO_SEEN	4	/* HELLO nonces remembered per device */
/* Challenges pending at once per device.  Above what the HELLO limit
 * lets through in one challenge lifetime (burst + per_min / 2), so that
 * forged HELLOs within the limit never find the slots full; above the
 * limit, a HELLO never displaces a live challenge: it is dropped. */
#define IDENT_PENDING_MAX	8
#define IDENT_HELLO_PER_MIN_DEFAULT 6	/* a join attempt every 10 s */
#define IDENT_HELLO_BURST_DEFAULT 3
/* Downlink counters reserved per durable write of a session: a restart
 * skips at most this many, which the node accepts (gaps are lost
 * frames). */
#define IDENT_DOWN_RESERVE	16
#define IDENT_REC_LEN		70	/* a durable session record */
#define IDENT_REC_V1_LEN	65	/* one stored before version 2 */

enum ident_verdict {
	IDENT_OK = 0,
	IDENT_DROP_MALFORMED = -1,	/* not a link frame, bad sizes */
	IDENT_DROP_UNKNOWN = -2,	/* EUI not in the registry */
	IDENT_DROP_BAD_TAG = -3,	/* forged: wrong response or MIC */
	IDENT_DROP_REPLAY = -4,		/* counter not above the last, or a
					 * response with no challenge pending */
	IDENT_DROP_STALE = -5,		/* from a superseded session */
	IDENT_DROP_REVOKED = -6,
	IDENT_DROP_RATE = -7,		/* over the device's rate limit */
	IDENT_DROP_DIRECTION = -8,	/* a gateway-to-node frame heard */
	IDENT_DROP_NO_SESSION = -9,	/* a sid neither current nor
					 * previous (out->sid says which) */
	IDENT_DROP_DOWNGRADE = -10,	/* a version 1 HELLO of a device
					 * that has sent an authentic
					 * version 2 one */
};
#define IDENT_VERDICT_COUNT	11

enum ident_action {
	IDENT_NONE = 0,
	IDENT_RECORD,		/* out->payload is verified telemetry; when
				 * out->reply_len > 0, also send out->reply
				 * (a LINK_DOWN_KEEPALIVE the node asked
				 * for: not an acknowledgement, the record
				 * is not on disk yet) */
	IDENT_REPLY,		/* send out->reply to the node */
	IDENT_ACK,		/* out->ack: the node acknowledges a COMMAND
				 * (authenticated like a DATA_UP, its up
				 * counter used up); no record */
};

struct ident_out {
	enum ident_action	 action;
	const struct device	*dev;
	uint64_t		 eui;		/* the frame's, if it has one */
	uint32_t		 sid;		/* the frame's, if it has one */
	uint32_t		 fcnt;
	uint8_t			 payload[LINK_PAYLOAD_MAX];
	size_t			 payload_len;
	uint8_t			 reply[LINK_FRAME_MAX];
	size_t			 reply_len;
	uint8_t			 reply_auth;	/* the reply (a CHALLENGE) answers
						 * an authenticated v2 HELLO:
						 * budget it as a reply to an
						 * authenticated frame */
	struct link_ack		 ack;		/* IDENT_ACK */
};

struct ident;

struct ident_stats {
	uint64_t	restored;	/* sessions restored at start-up */
	uint64_t	stored;		/* records written at checkpoints */
	uint64_t	stored_sync;	/* written at once (join, counters) */
	uint64_t	store_errors;
	uint64_t	pending_full;	/* HELLOs dropped: all challenges of
					 * the device still live */
	uint64_t	hello_v2;	/* authentic v2 HELLOs (MIC right,
					 * counter new) */
};

/*
 * Durable sessions.  The ident calls fn with a device's session record
 * (IDENT_REC_LEN bytes, authenticated under the device secret) to store:
 * with sync 1 it must be durable when fn returns 0 (a new session before
 * its ACCEPT is sealed, a new block of downlink counters before the first
 * is used; a failure means the downlink is not sent, except an ACCEPT,
 * whose session then lives in memory only); with sync 0 from
 * ident_checkpoint, made durable by the caller afterwards.
 */
typedef int ident_persist_fn(void *arg, uint64_t eui, const uint8_t *rec,
    size_t len, int sync);

/* The registry must outlive the ident (or its ident_set_registry). */
struct ident *ident_new(const struct registry *reg);
void	ident_free(struct ident *id);	/* wipes session keys */
/* Swap in a reloaded registry: sessions of devices whose secret did not
 * change survive, the rest are dropped; a newly revoked device keeps its
 * session id (its frames count as IDENT_DROP_REVOKED) but loses its keys.
 * 0, or -ENOMEM with nothing changed (the old registry is still in use). */
int	ident_set_registry(struct ident *id, const struct registry *reg);
/* Per-device token buckets, one for HELLOs and one for data frames (so
 * unauthenticated HELLOs sent in a device's name cannot starve its data):
 * per_min frames a minute, bursts of burst.  per_min 0 disables. */
void	ident_set_rate(struct ident *id, unsigned per_min, unsigned burst);
/* The HELLO bucket's own, lower, limit (IDENT_HELLO_*_DEFAULT). */
void	ident_set_hello_rate(struct ident *id, unsigned per_min,
	    unsigned burst);

void	ident_set_persist(struct ident *id, ident_persist_fn *fn, void *arg);
/* Hands every session changed since the last call to the persist
 * function (sync 0): the caller makes them durable before it makes the
 * records they accepted durable.  Returns the number handed over, or the
 * first -errno (the failed ones stay changed, retried next time). */
int	ident_checkpoint(struct ident *id);
/* Start-up: a record stored by the last run (the current format, or
 * the IDENT_REC_V1_LEN one of a gateway before version 2).  0, or -ENOENT (device not
 * in the registry), -EPERM (revoked), -EBADMSG (not a record of ours),
 * -EKEYREJECTED (the tag does not verify under the device's secret:
 * edited, or the device was re-provisioned), -EEXIST (its sid is taken,
 * or the device has a session already), -ENOMEM. */
int	ident_restore(struct ident *id, uint64_t eui, const uint8_t *rec,
	    size_t len, uint64_t now_ms);
void	ident_stats(const struct ident *id, struct ident_stats *st);

/* Returns IDENT_OK or a negative verdict; out->action says what to do.
 * out->dev is set whenever the frame names a known device, dropped or
 * not, so the caller can say whose frame it was. */
int	ident_input(struct ident *id, const uint8_t *frame, size_t len,
	    uint64_t now_ms, struct ident_out *out);
/* Build a COMMAND downlink for a device with a session: body is sealed
 * after the kind byte LINK_DOWN_COMMAND (link_command_encode makes it);
 * returns its length in out->reply, out->fcnt its down counter, or
 * -errno (-ENOTCONN without a session). */
int	ident_downlink(struct ident *id, uint64_t eui, const uint8_t *body,
	    size_t len, struct ident_out *out);

/* LINK_DOWN_KEEPALIVEs built so far (answers to keepalive requests). */
uint64_t ident_keepalive_count(const struct ident *id);

const char *ident_strverdict(int verdict);	/* short name, for counters */

#endif
