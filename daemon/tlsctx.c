/*
 * tlsctx.c - the uplink's TLS client context (see tlsctx.h), and its
 * failures in plain words, for the daemon and `fieldbridge check` alike.
 *
 * libmosquitto checks nothing when it is handed a context of ours
 * (docs/library-notes.md, "An own SSL_CTX disables libmosquitto's
 * checks"): peer verification and the host-name check are set here.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "daemon/tlsctx.h"

void
tlsctx_err(char *buf, size_t sz)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		(void)snprintf(buf, sz, "unknown error");
	else
		ERR_error_string_n(e, buf, sz);
	ERR_clear_error();
}

long
tlsctx_days(time_t t, time_t now)
{
	long d = (long)(t - now);

	/* Towards minus infinity: one second past is day -1. */
	return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

static time_t
tlsctx_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

time_t
tlsctx_cert_not_after(SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);

	return x == NULL ? 0 : tlsctx_time(X509_get0_notAfter(x));
}

time_t
tlsctx_cert_not_before(SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);

	return x == NULL ? 0 : tlsctx_time(X509_get0_notBefore(x));
}

static const char *
tlsctx_name(const char *name, const char *path)
{
	return name != NULL ? name : path;
}

SSL_CTX *
tlsctx_new(const struct tlsctx_files *f, int tls_min, const char *host,
    int host_numeric, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	char e[256];
	const char *what, *why = "";

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		what = "creating the TLS context";
		goto fail;
	}
	what = "the TLS version";
	if (SSL_CTX_set_min_proto_version(ctx, tls_min == 13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION) != 1)
		goto fail;
	what = tlsctx_name(f->ca_name, f->ca);
	why = "no CA certificate OpenSSL can read (PEM) ";
	if (SSL_CTX_load_verify_locations(ctx, f->ca, NULL) != 1)
		goto fail;
	what = tlsctx_name(f->cert_name, f->cert);
	why = "no certificate OpenSSL can read (PEM) ";
	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1)
		goto fail;
	what = tlsctx_name(f->key_name, f->key);
	why = "not a private key OpenSSL can read (PEM, no passphrase) ";
	if (SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) != 1)
		goto fail;
	why = "not the key of the certificate ";
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	why = "";
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	what = "the broker's name for the certificate check";
	if ((host_numeric ? X509_VERIFY_PARAM_set1_ip_asc(param, host) :
	    X509_VERIFY_PARAM_set1_host(param, host, 0)) != 1)
		goto fail;
	return ctx;
fail:
	tlsctx_err(e, sizeof(e));
	(void)snprintf(err, errlen, "%.200s: %s(%.110s)", what, why, e);
	SSL_CTX_free(ctx);
	return NULL;
}

int
tlsctx_verify_note(struct tlsctx_verify *v, int ok, X509_STORE_CTX *x)
{
	X509 *crt;

	if (ok || v->err != 0)
		return ok;
	v->err = X509_STORE_CTX_get_error(x);
	v->depth = X509_STORE_CTX_get_error_depth(x);
	crt = X509_STORE_CTX_get_current_cert(x);
	v->not_before = crt != NULL ? tlsctx_time(X509_get0_notBefore(crt)) : 0;
	v->not_after = crt != NULL ? tlsctx_time(X509_get0_notAfter(crt)) : 0;
	return ok;
}

void
tlsctx_date(time_t t, char *buf, size_t sz)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(buf, sz, "%lld", (long long)t);
}

void
tlsctx_clock_hint(char *buf, size_t sz, time_t now, int synced)
{
	char date[64];

	tlsctx_date(now, date, sizeof(date));
	(void)snprintf(buf, sz, "; this gateway's clock says %s%s", date,
	    synced ? " (NTP-synchronised)" : " and is NOT synchronised: if "
	    "that date is wrong, fix the clock (NTP, `timedatectl`) before "
	    "replacing the certificate");
}

/* "valid from A" or "expired on B", for a validity error. */
static void
tlsctx_validity(char *buf, size_t sz, int expired, time_t nb, time_t na)
{
	char d[64];

	if (expired ? na == 0 : nb == 0) {
		buf[0] = '\0';
		return;
	}
	tlsctx_date(expired ? na : nb, d, sizeof(d));
	(void)snprintf(buf, sz, expired ? " (expired on %s)" :
	    " (valid from %s)", d);
}

enum tlsctx_fault
tlsctx_explain_verify(char *buf, size_t sz, const struct tlsctx_verify *v,
    const struct tlsctx_files *f, const char *host, time_t now, int synced)
{
	const char *who = v->depth == 0 ? "the broker's certificate" :
	    "a CA certificate of the broker's chain";
	char when[96], hint[256];

	switch (v->err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		tlsctx_validity(when, sizeof(when),
		    v->err == X509_V_ERR_CERT_HAS_EXPIRED, v->not_before,
		    v->not_after);
		tlsctx_clock_hint(hint, sizeof(hint), now, synced);
		(void)snprintf(buf, sz, "%s %s%s%s", who,
		    v->err == X509_V_ERR_CERT_HAS_EXPIRED ? "has expired" :
		    "is not yet valid", when, hint);
		return TLSCTX_FAULT_HOST;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		(void)snprintf(buf, sz, "host name mismatch: the broker's "
		    "certificate is not for \"%s\"; set mqtt.host to a name "
		    "its certificate lists", host);
		return TLSCTX_FAULT_HOST;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		(void)snprintf(buf, sz, "unknown CA: the broker's certificate "
		    "was not issued by the CA in %s; install the CA "
		    "certificate your broker operator gives you",
		    tlsctx_name(f->ca_name, f->ca));
		return TLSCTX_FAULT_CA;
	default:
		(void)snprintf(buf, sz, "the broker's certificate is refused: "
		    "%s", X509_verify_cert_error_string(v->err));
		return TLSCTX_FAULT_HOST;
	}
}

enum tlsctx_fault
tlsctx_explain_alert(char *buf, size_t sz, const char *ssl_log,
    const struct tlsctx_files *f, time_t nb, time_t na, const char *host,
    int port, time_t now, int synced)
{
	const char *cert = tlsctx_name(f->cert_name, f->cert);
	char when[96], hint[256];
	int expired = na != 0 && now > na;

	if (strstr(ssl_log, "certificate expired") != NULL) {
		tlsctx_clock_hint(hint, sizeof(hint), now, synced);
		if (expired || (nb != 0 && now < nb)) {
			tlsctx_validity(when, sizeof(when), expired, nb, na);
			(void)snprintf(buf, sz, "the broker refused %s: it %s%s%s",
			    cert, expired ? "has expired" : "is not yet valid",
			    when, hint);
		} else
			(void)snprintf(buf, sz, "the broker refused %s as "
			    "expired or not yet valid%s", cert, hint);
		return TLSCTX_FAULT_CERT;
	}
	if (strstr(ssl_log, "unknown ca") != NULL ||
	    strstr(ssl_log, "bad certificate") != NULL ||
	    strstr(ssl_log, "certificate unknown") != NULL ||
	    strstr(ssl_log, "certificate required") != NULL) {
		(void)snprintf(buf, sz, "the broker does not accept %s (%s): "
		    "it trusts another CA for clients; ask the broker operator "
		    "for a certificate for this gateway", cert, ssl_log);
		return TLSCTX_FAULT_CERT;
	}
	(void)snprintf(buf, sz, "TLS with %s:%d failed: %s", host, port,
	    ssl_log[0] != '\0' ? ssl_log : "no reason given");
	return TLSCTX_FAULT_HOST;
}
