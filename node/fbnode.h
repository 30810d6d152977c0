/*
 * fbnode.h - libfbnode, the node's half of the fieldbridge link protocol
 * (docs/link-protocol.md), for sensor firmware: the handshake, the session
 * keys and counters, data up, downlinks, keepalive requests and the
 * re-join rules.  docs/node-guide.md shows a complete main loop.
 *
 * Portable C99 with no heap, no OS, no global state and no clock: one
 * struct fbnode per node, the caller passes the time in milliseconds and
 * the buffers, and the library never touches the radio.  It turns events
 * (fbnode_join, fbnode_input for a received frame, fbnode_send for a
 * record, fbnode_tick for time) into frames to transmit and results.
 * The cryptography goes through struct fbnode_crypto_ops (fbnode_crypto.h),
 * so the node secret can stay in a secure element.
 *
 *   IDLE --fbnode_join: HELLO--> WAIT_CHALLENGE --CHALLENGE with a right
 *   Tg: RESPONSE--> WAIT_ACCEPT --ACCEPT opened with the new down key-->
 *   JOINED --fbnode_send: DATA_UP ...
 *
 * Persistence (what a node must keep across a reset so that it never
 * reuses a CCM nonce) is one of two contracts, chosen by the firmware:
 * keep nothing and join after every reset (always safe: every join makes
 * fresh keys), or keep the session: whenever a result has persist set,
 * write fbnode_save()'s bytes to non-volatile memory BEFORE transmitting
 * that frame or acting on that downlink, and fbnode_restore() them at
 * start-up.  The saved up counter is a reservation FBNODE_PERSIST_STEP
 * ahead, so flash is written once per that many uplinks, and a restored
 * node continues above anything it may have sent.
 *
 * The join counter is not optional: a version 2 HELLO carries a counter
 * the gateway requires to grow (it refuses a HELLO whose counter is not
 * above the last it accepted, as a replay), so it must survive every
 * reset.  Give fbnode_set_join_counter the value last saved before the
 * first fbnode_join; whenever a result has save_join set, write
 * fbnode_join_counter_saved() to non-volatile memory BEFORE transmitting
 * that HELLO.  It too is a reservation, FBNODE_JOIN_STEP ahead.
 */
#ifndef FBNODE_H
#define FBNODE_H

#include <stddef.h>
#include <stdint.h>

#include "node/fbnode_crypto.h"

#define FBNODE_VERSION		1	/* link protocol version */
#define FBNODE_VERSION_2	2	/* of the authenticated HELLO */
#define FBNODE_NONCE_LEN	16
#define FBNODE_PROOF_LEN	16	/* truncated HMAC-SHA-256 */
#define FBNODE_MIC_LEN		8	/* CCM tag */
#define FBNODE_DATA_OVERHEAD	16	/* header 1 + sid 4 + fcnt 3 + MIC 8 */
#define FBNODE_FRAME_MAX	255	/* every buffer the library fills */
#define FBNODE_PAYLOAD_MAX	(FBNODE_FRAME_MAX - FBNODE_DATA_OVERHEAD)
#define FBNODE_FCNT_MAX		0xffffffu	/* 24-bit counters */
#define FBNODE_HELLO_LEN	25	/* version 1 */
#define FBNODE_HELLO2_LEN	45	/* version 2: + counter 4 + MIC 16 */
#define FBNODE_HELLO_KEY_LEN	32	/* Kh */
#define FBNODE_HELLO_MIC_LEN	16	/* truncated HMAC-SHA-256 */
#define FBNODE_JOIN_STEP	16	/* joins per join counter save */
#define FBNODE_CHALLENGE_LEN	41
#define FBNODE_RESPONSE_LEN	25
/* Defaults of struct fbnode_config (docs/link-protocol.md, "Keepalive"). */
#define FBNODE_KEEPALIVE_REQ_UPLINKS	32
#define FBNODE_REJOIN_SILENT_UPLINKS	48
#define FBNODE_HANDSHAKE_TIMEOUT_MS	5000
#define FBNODE_PERSIST_STEP		64	/* uplinks per up counter save */
#define FBNODE_SAVED_LEN		76	/* bytes fbnode_save writes */

/* Frame types (byte 0: version << 4 | type). */
enum fbnode_type {
	FBNODE_HELLO = 1,
	FBNODE_CHALLENGE = 2,
	FBNODE_RESPONSE = 3,
	FBNODE_DATA_UP = 4,
	FBNODE_DATA_DOWN = 5,
	FBNODE_ACK = 6,		/* node -> gw: a COMMAND acknowledged */
};
/* A COMMAND's plaintext starts kind byte, command kind, ref (2 bytes);
 * an ACK's plaintext is the COMMAND's down counter (3), its ref (2) and
 * a status (1): docs/link-protocol.md, "Commands". */
#define FBNODE_COMMAND_HDR_LEN	4
#define FBNODE_COMMAND_BODY_MAX	(FBNODE_PAYLOAD_MAX - FBNODE_COMMAND_HDR_LEN)
#define FBNODE_ACK_PLAIN_LEN	6
#define FBNODE_ACK_LEN		(FBNODE_DATA_OVERHEAD + FBNODE_ACK_PLAIN_LEN)
#define FBNODE_FLAG_KEEPALIVE_REQ	0x08	/* header bit, DATA_UP only */

/* The first plaintext byte of a DATA_DOWN. */
enum fbnode_down_kind {
	FBNODE_DOWN_NONE = 0,
	FBNODE_DOWN_ACCEPT = 1,		/* the session is established */
	FBNODE_DOWN_COMMAND = 2,	/* a command body follows */
	FBNODE_DOWN_KEEPALIVE = 3,	/* the session is alive; it
					 * acknowledges NO data */
};

enum fbnode_state {
	FBNODE_IDLE = 0,
	FBNODE_WAIT_CHALLENGE,
	FBNODE_WAIT_ACCEPT,
	FBNODE_JOINED,
};

/*
 * Results, all negative and distinct.  The drops (-1..-11) are what
 * fbnode_input says about a frame it did not act on: count them, nothing
 * else is needed.  The errors below them answer calls.
 */
enum fbnode_verdict {
	FBNODE_OK = 0,
	FBNODE_DROP_SHORT = -1,		/* empty frame */
	FBNODE_DROP_VERSION = -2,	/* not link protocol version 1 */
	FBNODE_DROP_TYPE = -3,		/* unknown type, or the flag bit on
					 * a type other than DATA_UP */
	FBNODE_DROP_LENGTH = -4,	/* wrong size for its type */
	FBNODE_DROP_DIRECTION = -5,	/* a node's frame (HELLO, RESPONSE,
					 * DATA_UP): another node, or an echo */
	FBNODE_DROP_NOT_MINE = -6,	/* another EUI, or another sid */
	FBNODE_DROP_UNEXPECTED = -7,	/* not waited for in this state */
	FBNODE_DROP_PROOF = -8,		/* CHALLENGE with a wrong Tg: a rogue
					 * or confused gateway */
	FBNODE_DROP_MIC = -9,		/* DATA_DOWN that does not open */
	FBNODE_DROP_REPLAY = -10,	/* opens, counter not above the last */
	FBNODE_DROP_BODY = -11,		/* opens, but no known kind with its
					 * body (the counter still advances) */
	FBNODE_ERR_STATE = -12,		/* fbnode_send while not JOINED */
	FBNODE_ERR_REJOIN = -13,	/* the session is over (counter
					 * exhausted, or the gateway silent
					 * too long): now IDLE, call
					 * fbnode_join */
	FBNODE_ERR_BUFFER = -14,	/* output buffer too small */
	FBNODE_ERR_SIZE = -15,		/* payload over FBNODE_PAYLOAD_MAX */
	FBNODE_ERR_CRYPTO = -16,	/* the back-end failed */
	FBNODE_ERR_SAVED = -17,		/* fbnode_restore: not a valid saved
					 * session of this node */
	FBNODE_ERR_ARG = -18,		/* invalid argument */
	FBNODE_ERR_COUNTER = -19,	/* fbnode_join: the join counter is
					 * spent (2^32 - 1 joins): the node
					 * needs a new secret */
};
#define FBNODE_DROP_COUNT	12	/* 0 and the drops, for counters */

/*
 * A command the gateway delivered: act on it and return the status the
 * ACK carries (0: done; 1..255 the firmware's own codes, e.g. "kind not
 * supported").  Called once per command: a command heard again (its ACK
 * was lost) is acknowledged again with the same status without a call.
 * body is valid during the call only.
 */
typedef uint8_t fbnode_command_fn(void *arg, uint8_t kind,
    const uint8_t *body, size_t len);

/* Tunables; a zero field takes the default named above it. */
struct fbnode_config {
	uint16_t	keepalive_req_uplinks;	/* FBNODE_KEEPALIVE_REQ_UPLINKS */
	uint16_t	rejoin_silent_uplinks;	/* FBNODE_REJOIN_SILENT_UPLINKS */
	uint32_t	handshake_timeout_ms;	/* FBNODE_HANDSHAKE_TIMEOUT_MS */
	uint16_t	persist_step;		/* FBNODE_PERSIST_STEP */
	uint8_t		persist;		/* 1: the firmware keeps the
						 * session (results set
						 * persist); 0: it re-joins
						 * after every reset */
	uint8_t		hello_v1;		/* 1: version 1 HELLOs, no
						 * join counter (for a gateway
						 * before version 2) */
	uint16_t	join_step;		/* FBNODE_JOIN_STEP */
	/* NULL: fbnode_input reports a COMMAND in its result and the
	 * firmware calls fbnode_ack; set: fbnode_input calls it and puts
	 * the ACK in res->tx, to transmit at once. */
	fbnode_command_fn *command;
	void		*command_arg;
};

/*
 * One node.  The fields are the library's; read them through the
 * accessors below.  112 bytes on a Cortex-M (bench/run reports
 * node_ram_bytes_per_context); it holds the session keys, so fbnode_done
 * wipes it.
 */
struct fbnode {
	const struct fbnode_crypto_ops *ops;
	void		*arg;		/* the back-end's, e.g. the secret */
	uint64_t	 eui;
	uint32_t	 sid;		/* 0: none yet */
	uint32_t	 fcnt_up;	/* last counter used up */
	uint32_t	 fcnt_down;	/* last counter accepted down */
	uint32_t	 up_reserved;	/* highest up counter saved */
	uint32_t	 deadline_ms;	/* end of the handshake step */
	uint32_t	 timeout_ms;
	uint32_t	 join_ctr;	/* last join counter used */
	uint32_t	 join_resv;	/* highest join counter saved */
	uint16_t	 join_step;
	uint8_t		 hello_v1;
	uint16_t	 silent;	/* uplinks since a verified downlink */
	uint16_t	 ka_req;
	uint16_t	 rejoin;
	uint16_t	 step;
	uint8_t		 state;		/* enum fbnode_state */
	uint8_t		 persist;
	uint8_t		 nn[FBNODE_NONCE_LEN];	/* our nonce of this join */
	uint8_t		 up[16];	/* session keys: pending in */
	uint8_t		 down[16];	/* WAIT_ACCEPT, live when JOINED */
	fbnode_command_fn *command;
	void		*command_arg;
	uint16_t	 cmd_ref;	/* the last command acknowledged */
	uint8_t		 cmd_status;	/*   and its status */
	uint8_t		 cmd_seen;	/* 1: cmd_ref is valid */
};

/*
 * What one call produced.  tx, when tx_len > 0, is the frame to transmit
 * now (it lies in the caller's buffer).  kind says which verified
 * downlink arrived; for a COMMAND, body points at its body (in the
 * caller's buffer).  persist: write fbnode_save() to non-volatile memory
 * before transmitting tx or acting on the downlink (only when
 * config.persist is set).  save_join: write fbnode_join_counter_saved()
 * to non-volatile memory before transmitting tx (a version 2 HELLO),
 * whatever config.persist says.
 */
struct fbnode_result {
	const uint8_t	*tx;
	size_t		 tx_len;
	uint8_t		 kind;		/* enum fbnode_down_kind */
	uint8_t		 persist;
	uint8_t		 save_join;
	uint8_t		 keepalive_req;	/* the DATA_UP in tx asks for one */
	const uint8_t	*body;
	size_t		 body_len;
	uint32_t	 fcnt;		/* counter of tx (up) or of the
					 * downlink */
	/* A COMMAND: its kind and ref; repeat 1 when it is the command
	 * acknowledged last (do not act again: acknowledge it again, with
	 * cmd_status, the status given then). */
	uint8_t		 cmd_kind;
	uint8_t		 repeat;
	uint8_t		 cmd_status;
	uint16_t	 cmd_ref;
};

/* Set up a node: IDLE, no session.  cfg may be NULL (defaults).  The
 * back-end's arg must outlive the node.  0 or FBNODE_ERR_ARG. */
int	fbnode_init(struct fbnode *n, uint64_t eui,
	    const struct fbnode_crypto_ops *ops, void *arg,
	    const struct fbnode_config *cfg);
/* Wipe the session keys and the nonce. */
void	fbnode_done(struct fbnode *n);

/* Start a handshake from any state (the current session, if any, is
 * given up): a HELLO with a fresh nonce in out (FBNODE_HELLO2_LEN bytes,
 * with the next join counter and its MIC; FBNODE_HELLO_LEN for a
 * hello_v1 node), WAIT_CHALLENGE until now + the handshake timeout. */
int	fbnode_join(struct fbnode *n, uint32_t now_ms, uint8_t *out,
	    size_t cap, struct fbnode_result *res);
/* A frame the radio received.  Returns FBNODE_OK when it acted (res says
 * how: a RESPONSE to send, an ACCEPT, a COMMAND, a KEEPALIVE), else a
 * drop verdict, leaving the node as it was.  out (FBNODE_FRAME_MAX bytes
 * are always enough) receives the RESPONSE or the decrypted downlink. */
int	fbnode_input(struct fbnode *n, const uint8_t *frame, size_t len,
	    uint32_t now_ms, uint8_t *out, size_t cap,
	    struct fbnode_result *res);
/* Seal one record as a DATA_UP into out (len + FBNODE_DATA_OVERHEAD
 * bytes).  FBNODE_ERR_REJOIN when the session is over (the node is then
 * IDLE: join, and send the record afterwards). */
int	fbnode_send(struct fbnode *n, const uint8_t *payload, size_t len,
	    uint8_t *out, size_t cap, struct fbnode_result *res);
/* Acknowledge the COMMAND that arrived with down counter down_fcnt and
 * ref (res->fcnt, res->cmd_ref of its fbnode_input): an ACK sealed under
 * the up key with the next up counter, FBNODE_ACK_LEN bytes in out, to
 * transmit now.  status: 0 done, else the firmware's code.  Errors as
 * fbnode_send. */
int	fbnode_ack(struct fbnode *n, uint32_t down_fcnt, uint16_t ref,
	    uint8_t status, uint8_t *out, size_t cap,
	    struct fbnode_result *res);
/* Time passes: a handshake step that got no valid answer by its
 * deadline returns the node to IDLE.  Returns 1 when that happened (the
 * firmware then joins again, after its back-off), else 0. */
int	fbnode_tick(struct fbnode *n, uint32_t now_ms);

/* The join counter as last saved (0 if never): call once after
 * fbnode_init, before the first fbnode_join.  The next HELLO carries a
 * counter above it. */
void	fbnode_set_join_counter(struct fbnode *n, uint32_t saved);
/* The value to save when a result has save_join set. */
uint32_t fbnode_join_counter_saved(const struct fbnode *n);

/* The persisted session (config.persist): FBNODE_SAVED_LEN bytes, bound
 * to the secret by a MAC so a corrupt or foreign copy is refused. */
int	fbnode_save(const struct fbnode *n, uint8_t out[FBNODE_SAVED_LEN]);
/* Back to JOINED from saved bytes, the up counter past its reservation;
 * FBNODE_ERR_SAVED when they are not a valid session of this node (then
 * join).  The node must have been set up by fbnode_init. */
int	fbnode_restore(struct fbnode *n, const uint8_t *saved, size_t len);

int		fbnode_state(const struct fbnode *n);	/* enum fbnode_state */
uint32_t	fbnode_sid(const struct fbnode *n);	/* 0 unless JOINED */
uint32_t	fbnode_fcnt_up(const struct fbnode *n);	/* last one sent */
unsigned int	fbnode_silent(const struct fbnode *n);
const char	*fbnode_strerror(int verdict);

/*
 * The node's frame parser, exposed for tests and fuzzing: envelope only
 * (size, version, type), as docs/link-protocol.md orders the checks.
 */
struct fbnode_frame {
	uint8_t		 version;	/* 1, or 2 (a HELLO) */
	uint8_t		 type;		/* enum fbnode_type */
	uint8_t		 flags;		/* DATA_UP: FBNODE_FLAG_KEEPALIVE_REQ */
	uint64_t	 eui;		/* HELLO, CHALLENGE, RESPONSE */
	const uint8_t	*nonce;		/* HELLO: Nn; CHALLENGE: Ng */
	const uint8_t	*proof;		/* CHALLENGE: Tg; RESPONSE: Tn;
					 * v2 HELLO: MIC */
	uint32_t	 join_ctr;	/* v2 HELLO */
	uint32_t	 sid;		/* DATA_* */
	uint32_t	 fcnt;		/* DATA_* */
	const uint8_t	*ct;		/* DATA_*: ciphertext then MIC */
	size_t		 ct_len;
};
int	fbnode_parse(const uint8_t *buf, size_t len, struct fbnode_frame *f);

#endif
