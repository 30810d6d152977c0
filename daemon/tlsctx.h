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
 * The CA, certificate and key: where they are read (the confined worker
 * reads the parent's copies below its root) and how messages name them
 * (as configured in fieldbridge.conf; NULL: the path read).
 */
struct tlsctx_files {
	const char	*ca, *cert, *key;
	const char	*ca_name, *cert_name, *key_name;
};

/*
 * A new client context: trust f->ca, present f->cert (a PEM chain) with
 * f->key (PEM), refuse TLS below tls_min (12 or 13), verify the peer and
 * its name host (an address when host_numeric).  On failure returns NULL
 * and writes "FILE: what is wrong (OpenSSL's reason)", FILE as configured,
 * or the step that failed, into err.  The caller frees it with
 * SSL_CTX_free.
 */
SSL_CTX	*tlsctx_new(const struct tlsctx_files *f, int tls_min,
	    const char *host, int host_numeric, char *err, size_t errlen);

/* Days below which the client certificate's expiry is warned about (the
 * daemon's log and status file, `fieldbridge check`). */
#define TLSCTX_WARN_DAYS	30

/* Days from now until t, rounded down (negative when past). */
long	tlsctx_days(time_t t, time_t now);

/* The end of validity of the context's own certificate (0 if unknown). */
time_t	tlsctx_cert_not_after(SSL_CTX *ctx);

/* OpenSSL's first queued error as text; the queue is emptied. */
void	tlsctx_err(char *buf, size_t sz);

/*
 * A failed handshake in plain words, one implementation for the daemon's
 * log and status file (uplink.c) and `fieldbridge check --connect`
 * (tlscheck.c).  A verify callback fills a struct tlsctx_verify with the
 * first error OpenSSL found in the broker's chain and that certificate's
 * dates; the explanations add, for a validity error (ours or the
 * broker's), what the gateway's clock says and whether it is
 * NTP-synchronised, since a wrong clock is the usual cause in the field.
 */
struct tlsctx_verify {
	int	 err;		/* X509_V_ERR_*, 0: none */
	int	 depth;		/* 0: the broker's own certificate */
	time_t	 not_before, not_after;	/* of that certificate; 0: unknown */
};

/* Where the fault lies, for the caller's "at" (check.h). */
enum tlsctx_fault {
	TLSCTX_FAULT_HOST,	/* mqtt.host, the broker, the network */
	TLSCTX_FAULT_CA,	/* mqtt.ca */
	TLSCTX_FAULT_CERT	/* mqtt.cert (and its key) */
};

/* Records the first verification error of a chain into v (from a verify
 * callback: preverify_ok and its store context).  Returns ok. */
int	tlsctx_verify_note(struct tlsctx_verify *v, int ok,
	    X509_STORE_CTX *x);
/* "2027-01-01 10:00 UTC" into buf. */
void	tlsctx_date(time_t t, char *buf, size_t sz);
/* "; this gateway's clock says DATE ..." with the synchronisation state
 * and, unsynchronised, what to do. */
void	tlsctx_clock_hint(char *buf, size_t sz, time_t now, int synced);
/* The broker's certificate refused by us (v->err != 0): buf gets the
 * reason; f names the CA file, host the configured broker name. */
enum tlsctx_fault tlsctx_explain_verify(char *buf, size_t sz,
	    const struct tlsctx_verify *v, const struct tlsctx_files *f,
	    const char *host, time_t now, int synced);
/* Ours refused by the broker, from OpenSSL's error text ssl_log (the
 * alert the broker sent; "" when none); our certificate's dates
 * (0: unknown) say which of expired or not yet valid.  host and port
 * name the broker when the text is nothing known. */
enum tlsctx_fault tlsctx_explain_alert(char *buf, size_t sz,
	    const char *ssl_log, const struct tlsctx_files *f,
	    time_t cert_not_before, time_t cert_not_after, const char *host,
	    int port, time_t now, int synced);
/* The start of validity of the context's own certificate (0 if unknown). */
time_t	tlsctx_cert_not_before(SSL_CTX *ctx);

#endif
