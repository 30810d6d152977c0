/*
 * radio.c - what every concentrator driver shares: the output queue a
 * driver fills and the port drains.  Sits between the drivers (drv_*.c)
 * and the port (port.c).
 */
#include <errno.h>
#include <string.h>

#include "radio/radio.h"

int
radio_out_put(struct radio_out *out, const void *data, size_t len)
{
	/* By subtraction: out->len never exceeds the buffer. */
	if (len > sizeof(out->buf) - out->len)
		return -ENOBUFS;
	if (len > 0)
		memcpy(out->buf + out->len, data, len);
	out->len += len;
	return 0;
}


void
radio_params_default(struct radio_params *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->modulation = RADIO_MOD_LORA;
	rp->freq_hz = 869525000;
	rp->sf = 9;
	rp->bw_hz = 125000;
	rp->cr = 1;
	rp->bitrate = 50000;
	rp->sync_word = 0x12;
	rp->preamble = 8;
	rp->power_dbm = 14;
}
