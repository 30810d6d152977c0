/*
 * cmdauth.h - whether a command from the cloud may go to a device: the one
 * place that decides (DESIGN.md invariant 7).  daemon/commands.c asks it
 * when a command arrives, and again before each transmission (the
 * registry may have been reloaded meanwhile).  No I/O.
 */
#ifndef FB_CMDAUTH_H
#define FB_CMDAUTH_H

#include <stddef.h>
#include <stdint.h>

struct registry;

/* Refusals, each with its name in the result message (cmdauth_strerror):
 * the cloud can tell them apart. */
enum cmdauth_verdict {
	CMDAUTH_OK = 0,
	CMDAUTH_UNKNOWN = -1,		/* "unknown_device" */
	CMDAUTH_REVOKED = -2,		/* "revoked" */
	CMDAUTH_NOT_AUTHORISED = -3,	/* "not_authorised": the device's
					 * rules refuse this kind */
	CMDAUTH_TOO_LARGE = -4,		/* "too_large": over the link's
					 * largest COMMAND body */
};

/*
 * CMDAUTH_OK, or a refusal with a sentence for the log in *why (static
 * text).  size: the body's bytes.
 */
int	cmdauth_check(const struct registry *reg, uint64_t eui, uint8_t kind,
	    size_t size, const char **why);
const char *cmdauth_strerror(int verdict);

#endif
