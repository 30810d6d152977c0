/*
 * tlsctx.h - the OpenSSL client context of the uplink, built in one place
 * so that `fieldbridge check --connect` connects exactly as the daemon
 * does (same files, same TLS floor, same peer and host-name checks).
 */
#ifndef FB_TLSCTX_H
#define FB_TLSCTX_H

#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

/*
 * A new client context: trust ca, present cert (a PEM chain) with key
 * (PEM), refuse TLS below tls_min (12 or 13), verify the peer and its name
 * host (an address when host_numeric).  On failure returns NULL and writes
 * "FILE: OpenSSL's reason" (or the step that failed) into err.  The caller
 * frees it with SSL_CTX_free.
 */
SSL_CTX	*tlsctx_new(const char *ca, const char *cert, const char *key,
	    int tls_min, const char *host, int host_numeric, char *err,
	    size_t errlen);

/* Days below which the client certificate's expiry is warned about (the
 * daemon's log and status file, `fieldbridge check`). */
#define TLSCTX_WARN_DAYS	30

/* Days from now until t, rounded down (negative when past). */
long	tlsctx_days(time_t t, time_t now);

/* The end of validity of the context's own certificate (0 if unknown). */
time_t	tlsctx_cert_not_after(SSL_CTX *ctx);

/* OpenSSL's first queued error as text; the queue is emptied. */
void	tlsctx_err(char *buf, size_t sz);

#endif
