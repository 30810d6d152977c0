/*
 * cmdauth.c - command authorisation (cmdauth.h): the device is in the
 * registry, not revoked, the body fits one COMMAND frame, and the
 * device's rules allow the command.
 */
#include <stddef.h>

#include "policy/cmdauth.h"
#include "policy/registry.h"
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
	/*
	 * PER-DEVICE RULES PLUG IN HERE.  The per-device rules (another
	 * branch: policy/rules.c) decide which kinds and sizes a device
	 * takes:
	 *
	 *	if (!rules_command_allowed(dev, kind, size, why))
	 *		return CMDAUTH_NOT_AUTHORISED;
	 *
	 * Until then every kind is allowed to a registered, unrevoked
	 * device.
	 */
	(void)kind;
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
