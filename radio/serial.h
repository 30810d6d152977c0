/*
 * serial.h - opening and configuring a concentrator's serial line.
 *
 * One path for a USB adapter and for a pseudo-terminal: open(2) and termios
 * (raw 8N1 at the configured speed), because libserialport 0.1.1 cannot open
 * ptys (see docs/library-notes.md).  libserialport does what it does well
 * on real hardware: enumeration and USB identity.
 */
#ifndef FB_SERIAL_H
#define FB_SERIAL_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Take the line's lock (radio/serlock.h), open and configure; returns a
 * non-blocking, close-on-exec fd or -errno (-EINVAL: baud is not a
 * standard rate; -ENOTTY: not a terminal; -EBUSY: another process holds
 * the line: serlock_holder names it). */
int	serial_open(const char *path, unsigned int baud);
/* Whether baud is a standard rate serial_open can set (for conf.c: an
 * unknown one is a configuration error, not a line to retry). */
int	serial_baud_valid(unsigned int baud);
/* Configure an already open fd (e.g. one received from a parent), and
 * make it ours alone (serial_exclusive).  It also takes an advisory flock
 * on the line, never waiting and never failing for it: `fieldbridge ports
 * --probe` leaves alone a line whose lock it cannot take. */
int	serial_configure(int fd, unsigned int baud);
/* TIOCEXCL on a real line (not on a pseudo-terminal: see serial.c). */
int	serial_exclusive(int fd);
/* USB identity of the port behind path (symlinks resolved), e.g.
 * "USB 0403:6015 FTDI FT230X serial DN05ABCD"; -ENODEV if none. */
int	serial_describe(const char *path, char *buf, size_t len);
/* Print the serial ports libserialport finds, one per line: path, TAB,
 * description, and TAB + USB identity when there is one.  Returns how many
 * ports, or -errno.  Needs /sys. */
int	serial_list(FILE *out);

/* One serial port as `fieldbridge ports` shows it. */
#define SERIAL_TEXT_MAX		128
struct serial_info {
	char		path[PATH_MAX];		/* /dev/ttyUSB0 */
	char		desc[SERIAL_TEXT_MAX];
	int		usb;			/* the fields below are set */
	unsigned int	vid, pid;
	char		manufacturer[SERIAL_TEXT_MAX];
	char		product[SERIAL_TEXT_MAX];
	char		serial[SERIAL_TEXT_MAX];
	char		by_id[PATH_MAX];	/* "" when none points here */
};
/* The ports libserialport finds, at most max into out (sorted by path);
 * returns how many there are, or -errno.  Needs /sys. */
int	serial_enumerate(struct serial_info *out, size_t max);
/* The /dev/serial/by-id link that resolves to path, into by_id (PATH_MAX):
 * 0, or -ENOENT. */
int	serial_by_id(const char *path, char *by_id);

#endif
