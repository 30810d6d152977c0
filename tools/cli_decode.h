/*
 * cli_decode.h - `fieldbridge decode [FILE]`: turns a payload the daemon
 * published (from FILE, or stdin) into the JSON document it carries,
 * whatever its encoding (daemon/encoding.h: the payload says it itself).
 * For a technician holding a message copied off a broker, and for tests.
 */
#ifndef FB_CLI_DECODE_H
#define FB_CLI_DECODE_H

/* Largest payload read: the most any broker of ours accepts (Azure IoT
 * Hub's 256 KiB, docs/uplink-format.md) with room to spare. */
#define CLI_DECODE_INPUT_MAX_BYTES	(4U * 1024 * 1024)

/* argv[0] is "decode".  Exit status: 0 decoded, 1 not a payload of ours
 * (the reason on stderr), 2 usage or I/O error. */
int	cli_decode_main(int argc, char **argv);

#endif
