/*
 * airtime.c - time on air of a frame (see airtime.h).
 *
 * LoRa, after the SX1276 datasheet (4.1.1.7) and Semtech AN1200.13:
 *
 *	Tsym      = 2^SF / BW
 *	Tpreamble = (npreamble + 4.25) Tsym
 *	nPayload  = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH)
 *	                         / (4 (SF - 2 DE))) (CR + 4), 0)
 *	T         = Tpreamble + nPayload Tsym
 *
 * with PL the payload bytes, CRC 1 when the payload CRC is on, IH 1 for
 * an implicit header, DE 1 with low data rate optimisation, CR 1..4 for
 * 4/5..4/8.  Computed in integers: Tsym in units of 1/4 us times BW keeps
 * the 4.25 exact, and the one division rounds up (charging a quarter of a
 * microsecond too much never breaks a duty-cycle limit; too little could).
 *
 * FSK (LoRaWAN's 50 kbit/s mode): 5 preamble bytes, 3 sync bytes, a length
 * byte, the payload and a CRC-16, 8 bits each.
 */
#include <errno.h>

#include "radio/airtime.h"

int64_t
airtime_lora_us(const struct airtime_lora *p, size_t len)
{
	int64_t num, den, nsym, q4, de, sym4_num;

	if (p->sf < 6 || p->sf > 12 || p->bw_hz < 7800 ||
	    p->bw_hz > 1625000 || p->cr < 1 || p->cr > 4 || len > 255 ||
	    p->preamble > 65535)
		return -EINVAL;
	de = p->ldro;
	if (de < 0)
		de = (int64_t)(1000000ull << p->sf) / p->bw_hz >
		    AIRTIME_LDRO_SYMBOL_US;
	num = 8 * (int64_t)len - 4 * (int64_t)p->sf + 28 +
	    16 * (p->crc ? 1 : 0) - 20 * (p->implicit_header ? 1 : 0);
	den = 4 * ((int64_t)p->sf - 2 * de);
	nsym = 8;
	if (num > 0)
		nsym += (num + den - 1) / den * ((int64_t)p->cr + 4);
	/* Symbols in quarters: 4 (npreamble + 4.25) + 4 nPayload. */
	q4 = 4 * (int64_t)p->preamble + 17 + 4 * nsym;
	/* T us = q4 / 4 * 2^SF / BW * 10^6, rounded up. */
	sym4_num = q4 * ((int64_t)1 << p->sf) * 1000000;
	den = 4 * (int64_t)p->bw_hz;
	return (sym4_num + den - 1) / den;
}

int64_t
airtime_fsk_us(uint32_t bitrate, size_t len)
{
	int64_t bits;

	if (bitrate == 0 || len > 255)
		return -EINVAL;
	bits = 8 * (int64_t)(AIRTIME_FSK_PREAMBLE_BYTES +
	    AIRTIME_FSK_SYNC_BYTES + 1 + len + 2);
	return (bits * 1000000 + bitrate - 1) / bitrate;
}

int64_t
airtime_tx_us(const struct radio_meta *meta, size_t len)
{
	struct airtime_lora p = {
		.cr = 1,
		.preamble = AIRTIME_LORA_PREAMBLE_SYMS,
		.implicit_header = 0,
		.crc = 0,
		.ldro = -1,
	};

	switch (meta->modulation) {
	case RADIO_MOD_LORA:
		p.sf = meta->datarate;
		p.bw_hz = meta->bw_hz;
		return airtime_lora_us(&p, len);
	case RADIO_MOD_FSK:
		return airtime_fsk_us(meta->datarate, len);
	default:
		return -EINVAL;
	}
}
