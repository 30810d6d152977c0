/*
 * decode_lpp.h - Cayenne Low Power Payload (LPP) to named JSON fields with
 * units, for streams whose decoder is "lpp" (docs/uplink-format.md).
 *
 * Data flow: batch.c encodes a record of such a stream -> lpp_json() ->
 * the record's "fields" object, or a decode error: the record then goes
 * upstream with its raw payload only and "decode_error" set, never dropped.
 */
#ifndef FB_DECODE_LPP_H
#define FB_DECODE_LPP_H

#include <stddef.h>
#include <stdint.h>

enum lpp_verdict {
	LPP_OK = 0,
	LPP_ERR_EMPTY = -1,	/* no bytes at all */
	LPP_ERR_TYPE = -2,	/* a data type not in the table */
	LPP_ERR_SHORT = -3,	/* a value cut short by the payload's end */
	LPP_ERR_DUP = -4,	/* the same channel and type twice */
	LPP_ERR_ROOM = -5,	/* the fields do not fit the record's room */
	LPP_VERDICT_COUNT = 6,
};

/* Room the JSON of the densest payload could take: see lpp_json(). */
#define LPP_FIELD_JSON_MAX	96	/* bytes of one field's JSON */

/*
 * Decode len payload bytes and write ',"fields":{...}' at out, at most cap
 * bytes (no NUL).  Returns the bytes written, or a negative enum
 * lpp_verdict, in which case out holds nothing of use.
 */
int	lpp_json(const uint8_t *p, size_t len, char *out, size_t cap);
/* "lpp: unknown data type", ... for the record's decode_error. */
const char *lpp_strerror(int verdict);

#endif
