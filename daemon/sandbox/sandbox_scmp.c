/*
 * sandbox_scmp.c - ioctl request numbers for the seccomp filter that cannot
 * be had next to <termios.h>.
 *
 * TCGETS2/TCSETS2 (arbitrary baud rates via struct termios2) live in the
 * kernel's <asm/termbits.h>, which redefines struct termios and clashes with
 * glibc's; sandbox.c needs <termios.h> for TCGETS and friends.  So this file
 * includes only the kernel header and hands the numbers over (chrony keeps
 * the same split in sys_linux_scmp.c).
 */
#include <stddef.h>

#include <asm/termbits.h>
#include <asm/ioctls.h>

#include "daemon/sandbox/sandbox.h"

static const unsigned long scmp_ioctls[] = {
#ifdef TCGETS2
	TCGETS2,	/* serial: read settings with a non-standard baud */
#endif
#ifdef TCSETS2
	TCSETS2,	/* serial: set a non-standard baud rate */
#endif
#ifdef TCSETSW2
	TCSETSW2,
#endif
#ifdef TCSETSF2
	TCSETSF2,
#endif
	0
};

const unsigned long *const sandbox_scmp_ioctls = scmp_ioctls;
const size_t sandbox_scmp_nioctls =
    sizeof(scmp_ioctls) / sizeof(scmp_ioctls[0]) - 1;
