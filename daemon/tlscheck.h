/*
 * tlscheck.h - the uplink's TLS material checked as a technician needs it
 * (GnuTLS certificate inspection), and one real connection to the broker
 * with the daemon's own TLS context (tlsctx.c), a failure explained in
 * plain words.  Part of check.c's one implementation.
 */
#ifndef FB_TLSCHECK_H
#define FB_TLSCHECK_H

#include <time.h>


struct check_out;
struct conf;

/* Where each setting is, for messages: "FILE:LINE: mqtt.ca", ... */
struct tlscheck_at {
	const char	*ca;
	const char	*cert;
	const char	*key;
	const char	*host;
};

/* The CA, certificate and key files: readable, PEM (DER and a key with a
 * passphrase are named as such: the daemon reads neither), the key matches
 * the certificate, the chain verifies against the CA, the validity dates
 * against now (synced: whether the clock is NTP-synchronised, for the
 * hint), days to expiry.  Findings go to o. */
void	tlscheck_files(struct check_out *o, const struct conf *c,
	    const struct tlscheck_at *at, time_t now, int synced);

/* One mutual-TLS connect, CONNECT, a QoS 1 publish on
 * PREFIX/GATEWAY/check and its PUBACK, with the configured settings.
 * Returns 0, or -1 after explaining the failure on o. */
int	tlscheck_connect(struct check_out *o, const struct conf *c,
	    const struct tlscheck_at *at, int synced);

#endif
