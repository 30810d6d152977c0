/*
 * confine.h - fieldbridged's process layout when sandboxed: the privileged
 * parent of sandbox/privsep_parent.c and, in its child, the daemon loop
 * (loop.c) confined by sandbox/sandbox.c. main.c decides between this and
 * --no-sandbox.
 *
 *   main: config, OpenSSL, libmosquitto, registry check, sd_notify socket
 *     -> confine_prepare (user, state directory, spool directory)
 *     -> confine_start = privsep_start: copies, parent filter, fork
 *          child: become the service user -> loop_run -> loop_open ->
 *                 sandbox_confine -> poll loop; serial fds, registry and
 *                 keys come from the parent.
 */
#ifndef FB_CONFINE_H
#define FB_CONFINE_H

#include <stddef.h>

#include "daemon/sandbox/sandbox.h"

struct conf;
struct confine;

/* Inside the chroot (the state directory): where the parent keeps the
 * copies that the uplink re-reads before each connection. */
#define CONFINE_TLS_CA		"tls/ca.pem"
#define CONFINE_TLS_CERT	"tls/cert.pem"
#define CONFINE_TLS_KEY		"tls/key.pem"

/*
 * Resolve the service user and the serial group, make the state
 * directory fit to be the child's root (started as root: owned by the
 * user, as systemd's StateDirectory= with User= does), create the spool
 * directory, and describe the parent's work.  c must outlive the confine.
 * Returns 0 or -errno with a message in err.
 */
int	confine_prepare(const struct conf *c, const char *conf_path, int debug,
	    enum sandbox_mode mode, struct confine **out, char *err,
	    size_t errlen);
/* Become the parent; returns its exit status (PRIVSEP_EXIT_FATAL when
 * the child says a restart cannot help).  The child never returns. */
int	confine_start(struct confine *cf);
void	confine_free(struct confine *cf);

#endif
