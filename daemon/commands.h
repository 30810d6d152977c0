/*
 * commands.h - commands from the cloud to nodes, wired: a message on the
 * commands topic is parsed (cmdmsg.c), authorised (policy/cmdauth.c) and
 * queued durably (daemon/store/cmdq.c); the node's next authenticated
 * uplink opens its receive window and the oldest command waiting for it
 * goes out as a link COMMAND (ident_downlink); the node's ACK ends it.
 * Each command's outcome is published to PREFIX/GATEWAY/command-results
 * (QoS 1), kept in the queue's file until its PUBACK.
 *
 *   broker --uplink on_command--> commands_message --> queue (disk)
 *   uplink from the node --> commands_window --> COMMAND downlink
 *   ACK from the node --> commands_ack --> "acknowledged"
 *   commands_tick: expiry, publishing the outcomes
 *
 * docs/uplink-format.md ("Commands") has the messages, docs/link-protocol.md
 * ("Commands") the frames, docs/spool-format.md the file.
 */
#ifndef FB_COMMANDS_H
#define FB_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct commands;
struct device;
struct ident;
struct ident_out;
struct registry;
struct uplink;

struct commands_stats {
	uint64_t	received;	/* messages on the topic */
	uint64_t	queued;		/* accepted into the queue */
	uint64_t	delivered;	/* COMMAND frames transmitted */
	uint64_t	acknowledged;
	uint64_t	expired;
	uint64_t	refused;	/* every refusal below, and the
					 * unauthorised, unknown, too large */
	uint64_t	malformed;	/* of which malformed */
	uint64_t	duplicate;
	uint64_t	queue_full;
	uint64_t	revoked;	/* waiting when the device was revoked */
	uint64_t	results_dropped; /* outcomes over CMDQ_RESULTS_MAX */
	uint64_t	store_errors;	/* the queue's file not written */
};

/* Loads dir/CMDQ_FILE (dir: the state directory; a damaged file is
 * quarantined and logged).  reg and id must outlive it (or
 * commands_set_registry).  0, -ENOMEM, or -errno opening dir. */
int	commands_new(const struct registry *reg, struct ident *id,
	    const char *dir, struct commands **out);
void	commands_free(struct commands *c);
void	commands_set_uplink(struct commands *c, struct uplink *up);
/* After a reload: commands of devices now revoked end "revoked", of
 * devices gone "refused" (unknown_device). */
void	commands_set_registry(struct commands *c, const struct registry *reg);

/* The uplink's callbacks. */
void	commands_message(struct commands *c, const void *payload, size_t len);
void	commands_on_connect(struct commands *c);
void	commands_on_disconnect(struct commands *c);
void	commands_on_result_ack(struct commands *c, uint64_t cookie);

/*
 * dev's receive window is open (it sent an authenticated uplink): the
 * COMMAND to transmit, sealed, or NULL when none waits.  The caller
 * tells commands_sent whether it went out.
 */
const struct ident_out *commands_window(struct commands *c,
	    const struct device *dev, uint64_t now_ms);
void	commands_sent(struct commands *c, const struct ident_out *o, int ok);
/* An ACK (IDENT_ACK) from the node in o->dev. */
void	commands_ack(struct commands *c, const struct ident_out *o);

/* Expiry and publishing; every loop tick. */
void	commands_tick(struct commands *c, uint64_t now_ms);

const struct commands_stats *commands_stats(const struct commands *c);
/* The status file's commands_ lines (status.c's table). */
void	commands_status(const struct commands *c, FILE *f);

#endif
