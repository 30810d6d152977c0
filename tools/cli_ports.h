/*
 * cli_ports.h - `fieldbridge ports`: serial ports, their USB identity and
 * stable path, and (--probe) which driver answers on each.
 */
#ifndef FB_CLI_PORTS_H
#define FB_CLI_PORTS_H

#include <stddef.h>

/* The subcommand: argv[0] is "ports".  Returns the exit status. */
int	cli_ports(int argc, char **argv);
/*
 * Ask the module on path which dialect it speaks: 1 with the driver's name
 * and the module's answer, 0 when none answered, -EBUSY when another
 * process (a running daemon) holds the line's lock, -errno when it cannot
 * be opened.
 */
int	cli_ports_probe(const char *path, char *driver, size_t dlen,
	    char *answer, size_t alen);

#endif
