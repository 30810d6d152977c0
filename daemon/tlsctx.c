/*
 * tlsctx.c - the uplink's TLS client context (see tlsctx.h).
 *
 * libmosquitto checks nothing when it is handed a context of ours
 * (docs/library-notes.md, "An own SSL_CTX disables libmosquitto's
 * checks"): peer verification and the host-name check are set here.
 */
#include <stdio.h>

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

time_t
tlsctx_cert_not_after(SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	const ASN1_TIME *t;
	struct tm tm;

	if (x == NULL || (t = X509_get0_notAfter(x)) == NULL ||
	    ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

SSL_CTX *
tlsctx_new(const char *ca, const char *cert, const char *key, int tls_min,
    const char *host, int host_numeric, char *err, size_t errlen)
{
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	char e[256];
	const char *what;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		what = "creating the TLS context";
		goto fail;
	}
	what = "the TLS version";
	if (SSL_CTX_set_min_proto_version(ctx, tls_min == 13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION) != 1)
		goto fail;
	what = ca;
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	what = cert;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		goto fail;
	what = key;
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
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
	(void)snprintf(err, errlen, "%.200s: %.110s", what, e);
	SSL_CTX_free(ctx);
	return NULL;
}
