/*
 * check.c - `fieldbridged --check`: everything the daemon would refuse at
 * start-up, found without starting it, so a technician can fix a
 * configuration before restarting the service.
 *
 * It loads the configuration (conf.c: file:line for every problem), the
 * registry and keys (policy/registry.c, including the keys file's mode),
 * opens the TLS files the uplink will need, and describes each
 * concentrator's line.  It runs unconfined, as whoever calls it, and
 * touches nothing: no state directory, no serial port opened, no broker.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/check.h"
#include "daemon/cloud.h"
#include "daemon/conf.h"
#include "policy/registry.h"
#include "radio/serial.h"
#include "radio/serlock.h"

int
check_files(const char *conf_path, const struct conf *c, FILE *err)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} files[] = {
		{ "mqtt.ca", offsetof(struct conf, mqtt.ca) },
		{ "mqtt.cert", offsetof(struct conf, mqtt.cert) },
		{ "mqtt.key", offsetof(struct conf, mqtt.key) },
	};
	const char *path;
	size_t i;
	int fd, bad = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = (const char *)c + files[i].off;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(err, "%s: %s: cannot read %s: %s\n", conf_path,
			    files[i].key, path, strerror(errno));
			bad = 1;
		} else
			close(fd);
	}
	return bad ? -EINVAL : 0;
}

/*
 * What --check can say about each concentrator's line without opening it:
 * whether the path exists, and the USB identity behind it (libserialport,
 * which needs /sys: done here, unconfined, not in the daemon).  A missing
 * device is not a configuration error: the daemon keeps trying to open it.
 */
static void
check_ports(const struct conf *c, FILE *out)
{
	const struct conf_concentrator *cc;
	struct stat st;
	char usb[256], key[SERLOCK_KEY_MAX], holder[SERLOCK_HOLDER_MAX];
	int k;

	for (k = 0; k < c->nconc; k++) {
		cc = &c->conc[k];
		if (stat(cc->path, &st) != 0)
			fprintf(out, "%s: %s: %s; the daemon will keep trying "
			    "to open it\n", cc->name, cc->path, strerror(errno));
		else if (!S_ISCHR(st.st_mode))
			fprintf(out, "%s: %s: not a character device; the "
			    "daemon cannot read a concentrator from it\n",
			    cc->name, cc->path);
		else if (serlock_key(cc->path, key, sizeof(key)) == 0 &&
		    serlock_holder(NULL, key, getpid(), holder,
		    sizeof(holder)) == 1)
			fprintf(out, "%s: %s: in use by %s (its lock in %s); "
			    "the daemon will not read it until that ends\n",
			    cc->name, cc->path, holder, SERLOCK_DIR);
		else if (serial_describe(cc->path, usb, sizeof(usb)) == 0)
			fprintf(out, "%s: %s: %s\n", cc->name, cc->path, usb);
		else
			fprintf(out, "%s: %s: a serial line without USB identity "
			    "(a built-in UART or a pseudo-terminal)\n",
			    cc->name, cc->path);
	}
}

int
check_run(const char *conf_path, FILE *out, FILE *err)
{
	struct conf *c;
	struct registry *reg = NULL;
	char *msg;
	int r, bad = 0;

	c = malloc(sizeof(*c));
	msg = malloc(CONF_ERR_MAX);
	if (c == NULL || msg == NULL) {
		free(c);
		free(msg);
		fprintf(err, "%s: out of memory\n", conf_path);
		return 1;
	}
	if (conf_load(conf_path, c, msg, CONF_ERR_MAX) != 0) {
		fprintf(err, "%s\n", msg);
		bad = 1;
		goto out;
	}
	if ((r = registry_load(c->registry, c->keys, &reg, msg,
	    CONF_ERR_MAX)) != 0) {
		fprintf(err, "%s\n", msg);
		bad = 1;
	}
	if (check_files(conf_path, c, err) != 0)
		bad = 1;
	if (cloud_check(conf_path, c, err) != 0)
		bad = 1;
	check_ports(c, out);
out:
	if (!bad)
		fprintf(out, "%s: configuration OK\n", conf_path);
	registry_free(reg);
	free(c);
	free(msg);
	return bad;
}
