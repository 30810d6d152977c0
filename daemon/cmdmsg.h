/*
 * cmdmsg.h - the JSON messages of cloud commands (docs/uplink-format.md,
 * "Commands"): the command the cloud publishes to PREFIX/GATEWAY/commands
 * and the outcome the gateway publishes to PREFIX/GATEWAY/command-results.
 *
 * Data flow: uplink.c (a message on the commands topic) -> commands.c ->
 * cmdmsg_parse -> the queue (daemon/store/cmdq.c); an outcome ->
 * cmdmsg_result -> the queue's results -> uplink.c.
 *
 * The command is untrusted input (anybody the broker lets publish on the
 * topic): bounded before parsing, parsed by libjansson, every field checked
 * for type and range; no I/O, no logging (tests/fuzz/fuzz_cmdmsg.c).
 */
#ifndef FB_CMDMSG_H
#define FB_CMDMSG_H

#include <stddef.h>
#include <stdint.h>

/* A whole command message; longer ones are refused unparsed. */
#define CMDMSG_BYTES_MAX	2048
/* The id: 1..CMDMSG_ID_MAX printable ASCII characters (0x20..0x7e). */
#define CMDMSG_ID_MAX		64
/* The decoded body.  Above the link's largest COMMAND body
 * (LINK_COMMAND_BODY_MAX, 235 bytes) on purpose: a longer body is a well
 * formed command that is refused as "too_large" by the authorisation, not
 * a malformed one. */
#define CMDMSG_BODY_MAX		512
/* One result message, with the longest id and reason. */
#define CMDMSG_RESULT_MAX	512

struct cmdmsg {
	char		 id[CMDMSG_ID_MAX + 1];	/* "" when none could be read */
	uint64_t	 eui;
	uint8_t		 kind;
	uint8_t		 body[CMDMSG_BODY_MAX];
	size_t		 body_len;
	int64_t		 expires;	/* Unix time, seconds */
};

/*
 * Parses one command message.  0, or -EBADMSG with a short reason in *why
 * (static text); m->id is filled whenever the message has a valid id,
 * even when another field is wrong, so the refusal can name it.
 */
int	cmdmsg_parse(const void *buf, size_t len, struct cmdmsg *m,
	    const char **why);

/* One outcome: the members of a result message. */
struct cmdmsg_outcome {
	const char	*id;
	uint64_t	 eui;		/* 0: not known, omitted */
	const char	*outcome;	/* acknowledged, expired, refused, ... */
	const char	*reason;	/* NULL: omitted */
	const char	*detail;	/* NULL: omitted */
	int		 status;	/* the node's; < 0: omitted */
	int64_t		 time;		/* Unix seconds */
};

/* The result message into buf, NUL-terminated.  Returns its length or
 * -ENOBUFS, -ENOMEM. */
int	cmdmsg_result(char *buf, size_t size, const struct cmdmsg_outcome *o);

#endif
