/*
 * airtime.h - time on air of one radio frame, LoRa or FSK, from its size
 * and modulation parameters: what the downlink budget (policy/budget.c)
 * charges each transmission against the region's duty-cycle limits.
 */
#ifndef FB_AIRTIME_H
#define FB_AIRTIME_H

#include <stddef.h>
#include <stdint.h>

#include "radio/radio.h"

#define AIRTIME_LORA_PREAMBLE_SYMS	8	/* LoRaWAN's, and ours */
#define AIRTIME_FSK_PREAMBLE_BYTES	5	/* LoRaWAN FSK: 5 bytes 0x55 */
#define AIRTIME_FSK_SYNC_BYTES		3
#define AIRTIME_LDRO_SYMBOL_US		16000	/* low data rate optimisation
						 * above this symbol time */

struct airtime_lora {
	unsigned int	sf;		/* spreading factor, 6..12 */
	uint32_t	bw_hz;		/* 125000, 250000, 500000, ... */
	unsigned int	cr;		/* coding rate 4/(4+cr): 1..4 */
	unsigned int	preamble;	/* programmed preamble symbols */
	int		implicit_header;
	int		crc;		/* payload CRC on */
	int		ldro;		/* low data rate optimisation: 0, 1,
					 * or -1 for the usual rule (symbol
					 * longer than 16 ms) */
};

/* Microseconds on air of len payload bytes, by Semtech's formula (SX1276
 * datasheet 4.1.1.7, AN1200.13); -EINVAL for parameters out of range. */
int64_t	airtime_lora_us(const struct airtime_lora *p, size_t len);
/* FSK: preamble, sync word, length byte, payload, CRC-16, at bitrate. */
int64_t	airtime_fsk_us(uint32_t bitrate, size_t len);
/* A downlink as the loop sends it: LoRa with coding rate 4/5, an explicit
 * header and no payload CRC (downlinks carry none, as in LoRaWAN), or
 * FSK at meta->datarate bit/s.  -EINVAL for what cannot be timed (OOK). */
int64_t	airtime_tx_us(const struct radio_meta *meta, size_t len);

#endif
