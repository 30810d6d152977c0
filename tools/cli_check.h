/*
 * cli_check.h - `fieldbridge check`: the daemon's own checks
 * (daemon/check.c) for the technician.
 */
#ifndef FB_CLI_CHECK_H
#define FB_CLI_CHECK_H

/* argv[0] is "check".  Returns the exit status. */
int	cli_check(int argc, char **argv);

#endif
