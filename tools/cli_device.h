/*
 * cli_device.h - `fieldbridge device add | list | show | revoke`: the
 * registry and keys files edited for the technician (tools/cli_device.c).
 */
#ifndef FB_CLI_DEVICE_H
#define FB_CLI_DEVICE_H

/* argv[0] is "device".  Returns the exit status. */
int	cli_device(int argc, char **argv);

#endif
