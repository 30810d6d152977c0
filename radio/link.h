/*
 * link.h - the node link protocol codec (docs/link-protocol.md): the frames
 * a sensor node and the gateway exchange over the radio, and the
 * cryptography both sides compute, all from GnuTLS:
 *
 *   node -> gw  HELLO      eui, Nn                        (ISO/IEC 9798-4 pass 1)
 *               version 2: eui, Nn, join counter, MIC = HMAC(Kh, frame)
 *               with Kh = HKDF-SHA-256(IKM K, info "FBLINK2 hello"|eui)
 *   gw -> node  CHALLENGE  eui, Ng, Tg = HMAC(K, "FBLINK1 Tg"|Ng|Nn|eui) (pass 2)
 *   node -> gw  RESPONSE   eui, Tn = HMAC(K, "FBLINK1 Tn"|Nn|Ng|eui)    (pass 3)
 *   keys        HKDF-SHA-256(IKM K, salt Nn|Ng, info "FBLINK1 keys"|eui)
 *               -> up key, down key
 *   gw -> node  DATA_DOWN  sid, fcnt 1, sealed [LINK_DOWN_ACCEPT]: the ACCEPT
 *   node -> gw  DATA_UP    sid, fcnt, AES-128-CCM(payload), 8-byte tag
 *               (header bit LINK_FLAG_KEEPALIVE_REQ: "tell me you still
 *               know this session")
 *   gw -> node  DATA_DOWN  sid, next fcnt, sealed [LINK_DOWN_KEEPALIVE]
 *   gw -> node  DATA_DOWN  sid, next fcnt, sealed [LINK_DOWN_COMMAND kind
 *               ref body]
 *   node -> gw  ACK        sid, next up fcnt, sealed under the up key
 *               [down fcnt of the COMMAND, ref, status]
 *
 * The session id is not derived: the GATEWAY picks it (random, never 0,
 * unique among its live and recently superseded sessions) and sends it in
 * the header of the ACCEPT, which the node can verify under the fresh down
 * key; the node learns its sid from that ACCEPT.  So link_session_derive
 * fills the keys and leaves sid 0 for the caller to set.
 *
 * The 256-bit node secret K never appears in a frame.  This file knows the
 * byte layouts and the constructions; the gateway's state machine is in
 * policy/ident.c, the node's in node/fbnode.c (libfbnode, with its own
 * parser: firmware links nothing of the gateway).
 */
#ifndef FB_LINK_H
#define FB_LINK_H

#include <stddef.h>
#include <stdint.h>

#define LINK_VERSION		1
#define LINK_VERSION_2		2	/* the authenticated HELLO only */
#define LINK_SECRET_LEN		32	/* node secret K */
#define LINK_NONCE_LEN		16
#define LINK_PROOF_LEN		16	/* truncated HMAC-SHA-256 */
#define LINK_SESSION_KEY_LEN	16	/* AES-128 */
#define LINK_MIC_LEN		8	/* CCM tag */
#define LINK_DATA_OVERHEAD	16	/* header 1 + sid 4 + fcnt 3 + MIC 8 */
#define LINK_FRAME_MAX		255
#define LINK_PAYLOAD_MAX	(LINK_FRAME_MAX - LINK_DATA_OVERHEAD)
#define LINK_FCNT_MAX		0xffffffu	/* 24-bit counter per session */
#define LINK_HELLO_LEN		(1 + 8 + LINK_NONCE_LEN)
#define LINK_HELLO_KEY_LEN	32	/* Kh, the v2 HELLO's HMAC key */
#define LINK_HELLO_MIC_LEN	16	/* truncated HMAC-SHA-256 */
#define LINK_JOIN_COUNTER_LEN	4
/* Version 2 HELLO: header 0x21, eui, Nn, join counter, MIC. */
#define LINK_HELLO2_MAC_LEN	(LINK_HELLO_LEN + LINK_JOIN_COUNTER_LEN)
#define LINK_HELLO2_LEN		(LINK_HELLO2_MAC_LEN + LINK_HELLO_MIC_LEN)
#define LINK_CHALLENGE_LEN	(1 + 8 + LINK_NONCE_LEN + LINK_PROOF_LEN)
#define LINK_RESPONSE_LEN	(1 + 8 + LINK_PROOF_LEN)
#define LINK_DATA_HDR_LEN	8	/* header 1 + sid 4 + fcnt 3 */
/*
 * Session liveness, on the node (docs/link-protocol.md, "Keepalive"): a
 * node that has sent LINK_KEEPALIVE_REQ_UPLINKS uplinks without hearing
 * any verified downlink sets LINK_FLAG_KEEPALIVE_REQ on every further
 * uplink, and the gateway answers each such uplink it accepts with a
 * LINK_DOWN_KEEPALIVE.  Once LINK_REJOIN_SILENT_UPLINKS uplinks went
 * unanswered (16 requests in a row) the gateway has most likely restarted
 * and forgotten the session, which it cannot tell the node without the
 * keys: the node starts a new handshake.  The gateway does not depend on
 * either number; a node may pick smaller ones.
 */
#define LINK_KEEPALIVE_REQ_UPLINKS	32
#define LINK_REJOIN_SILENT_UPLINKS	48

/* Header bit 3 of a DATA_UP (0x1c instead of 0x14): the node asks for a
 * LINK_DOWN_KEEPALIVE.  It is part of the CCM associated data, so nobody
 * can set or clear it; reserved (a LINK_ERR_TYPE) on every other type. */
#define LINK_FLAG_KEEPALIVE_REQ		0x08

enum link_type {
	LINK_HELLO = 1,
	LINK_CHALLENGE = 2,
	LINK_RESPONSE = 3,
	LINK_DATA_UP = 4,
	LINK_DATA_DOWN = 5,
	LINK_ACK = 6,		/* node -> gw: a COMMAND acknowledged */
};

/*
 * A COMMAND's plaintext: the kind byte LINK_DOWN_COMMAND, the command's
 * kind (0..255, the cloud's), its ref (16 bits, the same in every
 * transmission of one command, so a node runs a command it hears twice
 * only once), then the body.  An ACK's plaintext: the down counter of the
 * COMMAND frame it answers (3 bytes), that command's ref (2) and the
 * node's status (1: 0 done, else the node's own code); the frame is
 * sealed like a DATA_UP (up key, the up counter), header 0x16.
 */
#define LINK_COMMAND_HDR_LEN	4	/* kind byte, kind, ref */
#define LINK_COMMAND_BODY_MAX	(LINK_PAYLOAD_MAX - LINK_COMMAND_HDR_LEN)
#define LINK_ACK_PLAIN_LEN	6
#define LINK_ACK_LEN		(LINK_DATA_OVERHEAD + LINK_ACK_PLAIN_LEN)

struct link_ack {
	uint32_t	down_fcnt;
	uint16_t	ref;
	uint8_t		status;
};

enum link_dir {
	LINK_DIR_UP = 0,
	LINK_DIR_DOWN = 1,
};

/* Down-link data messages start with one plaintext kind byte. */
enum link_down_kind {
	LINK_DOWN_ACCEPT = 1,	/* session established, body empty */
	LINK_DOWN_COMMAND = 2,	/* cloud-to-node command */
	LINK_DOWN_KEEPALIVE = 3,	/* "this session is alive", body empty;
					 * NOT an acknowledgement of data */
};

/* Envelope of a parsed frame; pointers point into the parsed buffer. */
struct link_msg {
	uint8_t		 version;	/* LINK_VERSION, or LINK_VERSION_2 (a
					 * HELLO: the only v2 frame) */
	uint8_t		 type;		/* enum link_type */
	uint8_t		 flags;		/* DATA_UP: LINK_FLAG_KEEPALIVE_REQ */
	uint64_t	 eui;		/* HELLO, CHALLENGE, RESPONSE */
	const uint8_t	*nonce;		/* HELLO: Nn; CHALLENGE: Ng */
	const uint8_t	*proof;		/* CHALLENGE: Tg; RESPONSE: Tn;
					 * v2 HELLO: its MIC */
	uint32_t	 join_ctr;	/* v2 HELLO */
	uint32_t	 sid;		/* DATA_* */
	uint32_t	 fcnt;		/* DATA_* */
	const uint8_t	*hdr;		/* DATA_*: authenticated header;
					 * v2 HELLO: the bytes its MIC
					 * covers */
	size_t		 hdr_len;
	const uint8_t	*ct;		/* DATA_*: ciphertext + MIC */
	size_t		 ct_len;
};

struct link_session_keys {
	uint32_t	sid;
	uint8_t		up[LINK_SESSION_KEY_LEN];
	uint8_t		down[LINK_SESSION_KEY_LEN];
};

/* Verdicts of link_parse (negative, distinct). */
enum link_verdict {
	LINK_OK = 0,
	LINK_ERR_SHORT = -1,
	LINK_ERR_VERSION = -2,
	LINK_ERR_TYPE = -3,
	LINK_ERR_LENGTH = -4,		/* wrong size for its type */
	LINK_ERR_MIC = -5,		/* link_open: authentication failed */
};

/* Envelope only: sizes, version, type. No cryptography.  Version 2
 * exists only for the HELLO (LINK_HELLO2_LEN bytes); a version 2 header
 * of any other type is LINK_ERR_TYPE. */
int	link_parse(const uint8_t *buf, size_t len, struct link_msg *m);

/* Builders return the frame length, or -ENOBUFS. */
int	link_build_hello(uint8_t *out, size_t cap, uint64_t eui,
	    const uint8_t nn[LINK_NONCE_LEN]);
/* Version 2: with the join counter and the MIC under kh
 * (link_hello_key). */
int	link_build_hello2(uint8_t *out, size_t cap, uint64_t eui,
	    const uint8_t nn[LINK_NONCE_LEN], uint32_t join_ctr,
	    const uint8_t kh[LINK_HELLO_KEY_LEN]);
int	link_build_challenge(uint8_t *out, size_t cap, uint64_t eui,
	    const uint8_t ng[LINK_NONCE_LEN], const uint8_t tg[LINK_PROOF_LEN]);
int	link_build_response(uint8_t *out, size_t cap, uint64_t eui,
	    const uint8_t tn[LINK_PROOF_LEN]);

/* The check function of each pass (HMAC-SHA-256, truncated). 0 or -errno. */
int	link_gw_proof(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
	    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
	    uint8_t tg[LINK_PROOF_LEN]);
int	link_node_proof(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
	    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
	    uint8_t tn[LINK_PROOF_LEN]);
/* HKDF-SHA-256 (RFC 5869) over both nonces. */
int	link_session_derive(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
	    const uint8_t nn[LINK_NONCE_LEN], const uint8_t ng[LINK_NONCE_LEN],
	    struct link_session_keys *out);

/* Kh = HKDF-SHA-256(IKM K, salt none, info "FBLINK2 hello" | eui8, 32):
 * the key of the v2 HELLO's MIC.  0 or -EIO. */
int	link_hello_key(const uint8_t k[LINK_SECRET_LEN], uint64_t eui,
	    uint8_t kh[LINK_HELLO_KEY_LEN]);
/* A parsed v2 HELLO's MIC under kh: LINK_OK, LINK_ERR_MIC, or -EINVAL
 * for anything but a parsed v2 HELLO. */
int	link_hello_verify(const uint8_t kh[LINK_HELLO_KEY_LEN],
	    const struct link_msg *m);

/* Build a protected data frame with ks->sid in its header; returns its
 * length or -errno (-ERANGE fcnt over LINK_FCNT_MAX, -EMSGSIZE payload over
 * LINK_PAYLOAD_MAX, -ENOBUFS). */
int	link_seal(const struct link_session_keys *ks, enum link_dir dir,
	    uint32_t fcnt, const uint8_t *plain, size_t len,
	    uint8_t *out, size_t cap);
/* The same with header flags: LINK_FLAG_KEEPALIVE_REQ on a DATA_UP, 0
 * otherwise (-EINVAL for anything else). */
int	link_seal_flags(const struct link_session_keys *ks, enum link_dir dir,
	    unsigned int flags, uint32_t fcnt, const uint8_t *plain, size_t len,
	    uint8_t *out, size_t cap);
/* The body that ident_downlink seals after LINK_DOWN_COMMAND: kind, ref,
 * body (at most LINK_COMMAND_BODY_MAX bytes).  Its length, -EMSGSIZE or
 * -ENOBUFS. */
int	link_command_encode(uint8_t kind, uint16_t ref, const uint8_t *body,
	    size_t len, uint8_t *out, size_t cap);
/* An ACK's plaintext, both ways; decode: LINK_OK, or LINK_ERR_LENGTH for
 * a wrong size or a down counter below 2 (1 is the ACCEPT). */
void	link_ack_encode(const struct link_ack *ack,
	    uint8_t out[LINK_ACK_PLAIN_LEN]);
int	link_ack_decode(const uint8_t *p, size_t len, struct link_ack *ack);
/* A whole ACK frame under ks->up (the gateway never sends one: tests and
 * tools).  Its length or -errno, as link_seal. */
int	link_seal_ack(const struct link_session_keys *ks, uint32_t fcnt,
	    const struct link_ack *ack, uint8_t *out, size_t cap);
/* Check and decrypt a parsed DATA_* or ACK frame of direction dir;
 * returns the plaintext length, LINK_ERR_MIC, or -errno.  plain must hold
 * m->ct_len - LINK_MIC_LEN bytes.  The nonce uses m->sid, the sid in the
 * frame: the caller matches it to its session first (ks->sid is ignored,
 * so a node can open the ACCEPT that tells it its sid). */
int	link_open(const struct link_session_keys *ks, enum link_dir dir,
	    const struct link_msg *m, uint8_t *plain, size_t cap);

/*
 * The same with a keyed AES-128-CCM-8 handle kept by the caller, for the
 * gateway's hot path (no key schedule or allocation per frame).  The
 * handle holds key material: link_aead_free wipes and frees it (NULL ok).
 */
struct link_aead;
int	link_aead_new(const uint8_t key[LINK_SESSION_KEY_LEN],
	    struct link_aead **out);
int	link_aead_setkey(struct link_aead *a,
	    const uint8_t key[LINK_SESSION_KEY_LEN]);
void	link_aead_free(struct link_aead *a);
int	link_seal_with(struct link_aead *a, enum link_dir dir, uint32_t sid,
	    uint32_t fcnt, const uint8_t *plain, size_t len,
	    uint8_t *out, size_t cap);
int	link_seal_flags_with(struct link_aead *a, enum link_dir dir,
	    unsigned int flags, uint32_t sid, uint32_t fcnt,
	    const uint8_t *plain, size_t len, uint8_t *out, size_t cap);
int	link_open_with(struct link_aead *a, enum link_dir dir,
	    const struct link_msg *m, uint8_t *plain, size_t cap);


#endif
