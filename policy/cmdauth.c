/*
 * cmdauth.c - command authorisation (cmdauth.h): the device is in the
 * registry, not revoked, the body fits one COMMAND frame, and the
 * device's rules allow the command.
 */
#include <errno.h>
#include <stddef.h>

#include "policy/cmdauth.h"
#include "policy/registry.h"
#include "policy/rules.h"
#include "radio/link.h"

int
cmdauth_check(const struct registry *reg, uint64_t eui, uint8_t kind,
    size_t size, const char **why)
{
	const struct device *dev;

	*why = NULL;
	if ((dev = registry_find(reg, eui)) == NULL) {
		*why = "the device is not in the registry";
		return CMDAUTH_UNKNOWN;
	}
	if (dev->revoked) {
		*why = "the device is revoked";
		return CMDAUTH_REVOKED;
	}
	if (size > LINK_COMMAND_BODY_MAX) {
		*why = "the body is larger than one COMMAND frame carries";
		return CMDAUTH_TOO_LARGE;
	}
	/* The device's rules (policy/rules.h): default deny, a class or
	 * rules of its own list each kind with its largest body. */
	switch (rules_command_allowed(dev, kind, size)) {
	case 0:
		break;
	case -EMSGSIZE:
		*why = "the body is larger than the device's rules allow for "
		    "this kind";
		return CMDAUTH_TOO_LARGE;
	default:
		*why = "the device's rules do not allow this kind";
		return CMDAUTH_NOT_AUTHORISED;
	}
	return CMDAUTH_OK;
}

const char *
cmdauth_strerror(int verdict)
{
	switch (verdict) {
	case CMDAUTH_OK:
		return "ok";
	case CMDAUTH_UNKNOWN:
		return "unknown_device";
	case CMDAUTH_REVOKED:
		return "revoked";
	case CMDAUTH_NOT_AUTHORISED:
		return "not_authorised";
	case CMDAUTH_TOO_LARGE:
		return "too_large";
	default:
		return "refused";
	}
}
