/*
 * cli_device.c - `fieldbridge device`: provisioning of sensor nodes.
 *
 *	fieldbridge device [-c CONF] add ID --stream S [--name N]
 *	    [--class C] [--record FILE]
 *	fieldbridge device [-c CONF] list | show ID | revoke ID
 *
 * add makes a 256-bit secret (gnutls_rnd, GNUTLS_RND_KEY), puts the device
 * into the registry and its secret into the keys file, and prints the
 * provisioning record for flashing the node (docs/provisioning.md), once:
 * the secret is nowhere else.  A device is provisioned once: adding one
 * that exists is refused unless it was revoked, which gives it a new
 * secret.  revoke marks it revoked and deletes its secret.
 *
 * Both files are edited as text (policy/regedit.c) so that comments and
 * layout stay; the new texts are validated together with the daemon's own
 * loader (registry_load_mem) before either file is touched, and each is
 * replaced in one rename, keeping its mode and owner.  Order: a crash
 * between the two writes leaves a device without a secret (refused) but
 * never a secret without a device (which the daemon refuses to load).
 * Afterwards the running daemon is told to reload (SIGHUP).
 *
 * Exit status: 0 done; 1 refused (exists, unknown, invalid); 2 usage or
 * unreadable files.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "daemon/conf.h"
#include "daemon/fsutil.h"
#include "policy/regedit.h"
#include "policy/rules.h"
#include "policy/registry.h"
#include "tools/cli_device.h"
#include "tools/cli_status.h"

#define DEVICE_FILE_MAX		(32 * 1024 * 1024)	/* bytes of a file */
#define DEVICE_ENTRY_MAX	512		/* one generated entry */
#define DEVICE_RECORD_MAX	160
#define DEVICE_RECORD_TAG	"fieldbridge-provision-1"
#define DEVICE_EXIT_REFUSED	1
#define DEVICE_EXIT_USAGE	2

/* One of the two files, read whole. */
struct device_file {
	const char	*path;
	char		*text;
	size_t		 len;
	struct stat	 st;
};

static void
device_usage(FILE *f)
{
	fprintf(f, "usage: fieldbridge device [-c CONF] add ID --stream S "
	    "[--name N] [--class C] [--record FILE]\n"
	    "       fieldbridge device [-c CONF] list | show ID | revoke ID\n"
	    "  ID                 the node's EUI, 16 hex digits\n"
	    "  -c, --config FILE  the daemon's configuration (default %s)\n"
	    "      --class C      the device's class of rules (in the "
	    "registry's classes list)\n"
	    "      --record FILE  write the provisioning record to FILE (new, "
	    "mode 0600)\n"
	    "                     instead of standard output\n"
	    "exit status: 0 done, 1 refused, 2 usage or unreadable files\n",
	    CONF_PATH_DEFAULT);
}

/* Frees a text that may hold secrets (the keys file's), wiped first. */
static void
device_text_free(char *t, size_t len)
{
	if (t == NULL)
		return;
	gnutls_memset(t, 0, len);
	free(t);
}

static void
device_file_free(struct device_file *f)
{
	device_text_free(f->text, f->len);
	f->text = NULL;
}

static int
device_read(struct device_file *f)
{
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &f->st) != 0)
		r = -errno;
	else if (f->st.st_size > DEVICE_FILE_MAX)
		r = -EFBIG;
	else if ((f->text = malloc((size_t)f->st.st_size + 1)) == NULL)
		r = -ENOMEM;
	else if ((n = fsutil_read_full(fd, f->text,
	    (size_t)f->st.st_size)) < 0)
		r = (int)n;
	else {
		f->len = (size_t)n;
		f->text[n] = '\0';
	}
	close(fd);
	return r;
}

/* Replaces the file by text in one rename, with its mode and owner. */
static int
device_write(const struct device_file *f, const char *text, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX];
	int dfd, r;

	(void)snprintf(dir, sizeof(dir), "%s", f->path);
	(void)snprintf(base, sizeof(base), "%s", f->path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	r = fsutil_replace(dfd, basename(base), text, len,
	    f->st.st_mode & 07777, FSUTIL_CHMOD | FSUTIL_SYNC_DIR);
	if (r == 0 && fchownat(dfd, basename(base), f->st.st_uid,
	    f->st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
		r = -errno;
	close(dfd);
	return r;
}

/* The texts after an edit load as the daemon would load them. */
static int
device_validate(const struct device_file *d, const char *dt, size_t dl,
    const struct device_file *k, const char *kt, size_t kl)
{
	struct registry *reg = NULL;
	char err[512];
	int r;

	if ((r = registry_load_mem(d->path, dt, dl, k->path, kt, kl, &reg, err,
	    sizeof(err))) != 0)
		fprintf(stderr, "fieldbridge: the edit would break the "
		    "registry, nothing written: %s\n", err);
	registry_free(reg);
	return r;
}

/* SIGHUP to the daemon of this state directory, if it runs. */
static void
device_reload(const struct conf *c)
{
	char path[PATH_MAX + 16], comm[32] = "", *buf;
	struct cli_kv *kv;
	const char *pidv;
	FILE *f;
	size_t n;
	long pid;

	(void)snprintf(path, sizeof(path), "%s/status", c->state_dir);
	buf = malloc(CLI_STATUS_FILE_MAX);
	kv = malloc(sizeof(*kv));
	pid = 0;
	if (buf != NULL && kv != NULL && (f = fopen(path, "re")) != NULL) {
		n = fread(buf, 1, CLI_STATUS_FILE_MAX, f);
		fclose(f);
		if (cli_status_parse(buf, n, kv) == 0 &&
		    (pidv = cli_get(kv, "pid")) != NULL)
			pid = strtol(pidv, NULL, 10);
	}
	free(buf);
	free(kv);
	/* A stale status file may name a pid now used by another program. */
	(void)snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (pid > 0 && (f = fopen(path, "re")) != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	if (pid > 0 && strcmp(comm, "fieldbridged") == 0 &&
	    kill((pid_t)pid, SIGHUP) == 0)
		printf("told fieldbridged (pid %ld) to reload\n", pid);
	else
		printf("fieldbridged is not running here: it reads the "
		    "registry when it starts\n");
}

static int
device_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ||
		    s[i] == '\\')
			return 0;
	return i <= REGISTRY_NAME_MAX;
}

static int
device_stream_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-'))
			return 0;
	return i >= 1 && i <= REGISTRY_STREAM_MAX;
}

/* The provisioning record on stdout or in a new 0600 file. */
static int
device_record(const char *path, const char *id, const char *hex)
{
	char rec[DEVICE_RECORD_MAX];
	int fd, n, r = 0;

	n = snprintf(rec, sizeof(rec), "%s id=%s secret=%s\n",
	    DEVICE_RECORD_TAG, id, hex);
	if (path == NULL) {
		fputs(rec, stdout);
		goto out;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) < 0) {
		r = -errno;
		fprintf(stderr, "fieldbridge: --record %s: %s\n", path,
		    strerror(errno));
		goto out;
	}
	if (write(fd, rec, (size_t)n) != n || fsync(fd) != 0)
		r = -EIO;
	close(fd);
	if (r == 0)
		printf("provisioning record written to %s (mode 0600): flash "
		    "it, then delete it\n", path);
out:
	gnutls_memset(rec, 0, sizeof(rec));
	return r;
}

static const struct device *
device_lookup(const struct registry *reg, const char *id, uint64_t *eui)
{
	if (registry_parse_eui(id, eui) != 0)
		return NULL;
	return registry_find(reg, *eui);
}

/* A new device's registry entry; revoked adds "revoked = true;", a class
 * "class = ...;". */
static int
device_entry(char *buf, size_t sz, const char *id, const char *name,
    const char *stream, const char *class, int revoked)
{
	int n = snprintf(buf, sz, "{ id = \"%s\"; name = \"%s\"; stream = "
	    "\"%s\";%s%s%s%s }", id, name, stream, class != NULL ?
	    " class = \"" : "", class != NULL ? class : "", class != NULL ?
	    "\";" : "", revoked ? " revoked = true;" : "");

	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

/* An existing device's entry as written in d, with the settings given
 * (value NULL: removed; a key NULL ends the list) changed and every other
 * byte kept: its own rules, its comments.  NULL after a message. */
static char *
device_entry_edit(const struct device_file *d, uint64_t eui,
    const char *const *kv)
{
	struct regedit_pos p;
	char *e, *n;

	if (regedit_find(d->text, d->len, eui, &p) != 0 || !p.found ||
	    (e = strndup(d->text + p.start, p.end - p.start)) == NULL) {
		fprintf(stderr, "fieldbridge: %s: the device's entry cannot be "
		    "edited: fix it by hand (fieldbridge check)\n", d->path);
		return NULL;
	}
	for (; kv[0] != NULL; kv += 2) {
		if (regedit_entry_set(e, kv[0], kv[1], &n) != 0) {
			fprintf(stderr, "fieldbridge: %s: the device's entry "
			    "cannot be edited: fix it by hand (fieldbridge "
			    "check)\n", d->path);
			free(e);
			return NULL;
		}
		free(e);
		e = n;
	}
	return e;
}

/* "\"text\"" into buf, for a setting's value; NULL when text is NULL. */
static const char *
device_quote(char *buf, size_t sz, const char *text)
{
	if (text == NULL)
		return NULL;
	(void)snprintf(buf, sz, "\"%s\"", text);
	return buf;
}

/* Puts entry for eui into the registry d (validated with the keys file
 * k as it is), writes it, and keeps the new text as d's.  Returns 0 or -1
 * after a message. */
static int
device_stage(struct device_file *d, const struct device_file *k,
    uint64_t eui, const char *entry)
{
	struct regedit_pos p;
	char *t = NULL;
	size_t tl;

	if (regedit_find(d->text, d->len, eui, &p) != 0) {
		fprintf(stderr, "fieldbridge: %s is not one list of entries: "
		    "fix it by hand (fieldbridge check)\n", d->path);
		return -1;
	}
	if (regedit_apply(d->text, d->len, &p, entry, &t, &tl) != 0 ||
	    device_validate(d, t, tl, k, k->text, k->len) != 0 ||
	    device_write(d, t, tl) != 0) {
		fprintf(stderr, "fieldbridge: %s not changed\n", d->path);
		free(t);
		return -1;
	}
	free(d->text);
	d->text = t;
	d->len = tl;
	return 0;
}

static int
device_add(const struct conf *c, struct device_file *d, struct device_file *k,
    const struct registry *reg, const char *idarg, const char *name,
    const char *stream, const char *class, const char *record)
{
	static const char hexd[] = "0123456789abcdef";
	struct regedit_pos dp, kp;
	const struct device *dev;
	uint8_t secret[LINK_SECRET_LEN];
	char id[17], hex[2 * LINK_SECRET_LEN + 1], dent[DEVICE_ENTRY_MAX];
	char kent[DEVICE_ENTRY_MAX], qn[DEVICE_ENTRY_MAX], qs[DEVICE_ENTRY_MAX];
	char qc[DEVICE_ENTRY_MAX];
	const char *kv[9], *entry = dent;
	char *dt = NULL, *kt = NULL, *edited = NULL;
	size_t dl, kl, i;
	uint64_t eui;
	int r, rc = DEVICE_EXIT_REFUSED;

	if (registry_parse_eui(idarg, &eui) != 0) {
		fprintf(stderr, "fieldbridge: \"%s\" is not a device id (16 "
		    "hex digits)\n", idarg);
		return DEVICE_EXIT_USAGE;
	}
	registry_format_eui(eui, id);
	dev = registry_find(reg, eui);
	if (dev != NULL && !dev->revoked) {
		fprintf(stderr, "fieldbridge: %s is already provisioned (%s:%u): "
		    "a device gets its secret once; `fieldbridge device revoke "
		    "%s` first to give it a new one\n", id, d->path, dev->line,
		    id);
		return DEVICE_EXIT_REFUSED;
	}
	if ((stream == NULL && dev == NULL) || (stream != NULL &&
	    !device_stream_ok(stream)) || (class != NULL &&
	    !device_stream_ok(class)) || (name != NULL &&
	    !device_name_ok(name))) {
		fprintf(stderr, "fieldbridge: %s: --stream (1 to %d of "
		    "A-Z a-z 0-9 _ . -) is required for a new device, --class "
		    "is of the same letters, --name at most %d printable bytes "
		    "without quotes or backslashes\n", id, REGISTRY_STREAM_MAX,
		    REGISTRY_NAME_MAX);
		return DEVICE_EXIT_USAGE;
	}
	/* A device back from revocation keeps its entry (its own rules,
	 * comments), with what was given changed and "revoked" gone. */
	i = 0;
	if (name != NULL) {
		kv[i++] = "name";
		kv[i++] = device_quote(qn, sizeof(qn), name);
	}
	if (stream != NULL) {
		kv[i++] = "stream";
		kv[i++] = device_quote(qs, sizeof(qs), stream);
	}
	if (class != NULL) {
		kv[i++] = "class";
		kv[i++] = device_quote(qc, sizeof(qc), class);
	}
	kv[i++] = "revoked";
	kv[i++] = NULL;
	kv[i] = NULL;
	if (dev != NULL && (entry = edited = device_entry_edit(d, eui,
	    kv)) == NULL)
		return DEVICE_EXIT_REFUSED;
	if (name == NULL)
		name = dev != NULL ? dev->name : "";
	if (stream == NULL)
		stream = registry_stream_name(reg, dev->stream);
	if ((r = gnutls_rnd(GNUTLS_RND_KEY, secret, sizeof(secret))) < 0) {
		fprintf(stderr, "fieldbridge: random: %s\n", gnutls_strerror(r));
		free(edited);
		return DEVICE_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(secret); i++) {
		hex[2 * i] = hexd[secret[i] >> 4];
		hex[2 * i + 1] = hexd[secret[i] & 15];
	}
	hex[2 * LINK_SECRET_LEN] = '\0';
	(void)snprintf(kent, sizeof(kent), "{ id = \"%s\"; secret = \"%s\"; }",
	    id, hex);
	/* Every state between the writes loads: a new device goes in
	 * revoked (a revoked device needs no secret), then its secret, then
	 * the device is let in. */
	if (dev == NULL && (device_entry(dent, sizeof(dent), id, name, stream,
	    class, 1) != 0 || device_stage(d, k, eui, dent) != 0))
		goto out;
	if ((dev == NULL && device_entry(dent, sizeof(dent), id, name, stream,
	    class, 0) != 0) ||
	    regedit_find(k->text, k->len, eui, &kp) != 0 ||
	    regedit_find(d->text, d->len, eui, &dp) != 0 ||
	    regedit_apply(k->text, k->len, &kp, kent, &kt, &kl) != 0 ||
	    regedit_apply(d->text, d->len, &dp, entry, &dt, &dl) != 0) {
		fprintf(stderr, "fieldbridge: %s or %s is not one list of "
		    "entries: fix it by hand (fieldbridge check)\n", d->path,
		    k->path);
		goto out;
	}
	if (device_validate(d, dt, dl, k, kt, kl) != 0)
		goto out;
	if (device_write(k, kt, kl) != 0 || device_write(d, dt, dl) != 0) {
		fprintf(stderr, "fieldbridge: writing %s and %s failed\n",
		    d->path, k->path);
		rc = DEVICE_EXIT_USAGE;
		goto out;
	}
	printf("%s %s: name \"%s\", stream %s%s%s; its secret is in %s "
	    "only\n", id, dev != NULL ? "re-provisioned after revocation" :
	    "added", name, stream, class != NULL ? ", class " : "",
	    class != NULL ? class : "", k->path);
	if (device_record(record, id, hex) != 0)
		goto out;
	device_reload(c);
	rc = 0;
out:
	gnutls_memset(secret, 0, sizeof(secret));
	gnutls_memset(hex, 0, sizeof(hex));
	gnutls_memset(kent, 0, sizeof(kent));
	device_text_free(kt, kl);
	free(dt);
	free(edited);
	return rc;
}

static int
device_revoke(const struct conf *c, struct device_file *d,
    struct device_file *k, const struct registry *reg, const char *idarg)
{
	static const char *const kv[] = { "revoked", "true", NULL };
	struct regedit_pos kp;
	const struct device *dev;
	char id[17], *dent = NULL, *kt = NULL;
	size_t kl = 0;
	uint64_t eui;
	int rc = DEVICE_EXIT_REFUSED;

	if ((dev = device_lookup(reg, idarg, &eui)) == NULL) {
		fprintf(stderr, "fieldbridge: no device \"%s\" in %s\n", idarg,
		    d->path);
		return DEVICE_EXIT_REFUSED;
	}
	registry_format_eui(eui, id);
	if (dev->revoked) {
		fprintf(stderr, "fieldbridge: %s is already revoked\n", id);
		return DEVICE_EXIT_REFUSED;
	}
	/* Revoked first (loadable with its secret still there), then its
	 * secret deleted. */
	if ((dent = device_entry_edit(d, eui, kv)) == NULL ||
	    device_stage(d, k, eui, dent) != 0)
		goto out;
	if (regedit_find(k->text, k->len, eui, &kp) != 0 || (kp.found &&
	    (regedit_apply(k->text, k->len, &kp, NULL, &kt, &kl) != 0 ||
	    device_validate(d, d->text, d->len, k, kt, kl) != 0 ||
	    device_write(k, kt, kl) != 0))) {
		fprintf(stderr, "fieldbridge: %s is revoked, but its secret "
		    "could not be deleted from %s\n", id, k->path);
		goto out;
	}
	printf("%s revoked; its secret is deleted from %s\n", id, k->path);
	device_reload(c);
	rc = 0;
out:
	device_text_free(kt, kl);
	free(dent);
	return rc;
}

static int
device_has_key(const struct device *dev)
{
	size_t i;

	/* registry.c refuses all-zero secrets: zero means none. */
	for (i = 0; i < LINK_SECRET_LEN; i++)
		if (dev->secret[i] != 0)
			return 1;
	return 0;
}

/* Its class's name, "(own rules)" or "none: it sends nothing". */
static const char *
device_class(const struct device *dev)
{
	const struct rules_set *r = dev->rules;

	if (r == NULL)
		return "none: nothing it sends goes upstream";
	if (r->name != NULL)
		return r->name;
	if (r->parent != NULL && r->parent->name != NULL)
		return r->parent->name;
	return "(its own rules)";
}

static void
device_print(const struct registry *reg, const struct device *dev, int long_)
{
	char id[17];

	registry_format_eui(dev->eui, id);
	if (!long_) {
		printf("%-16s  %-7s  %-6s  %-16s  %s\n", id,
		    dev->revoked ? "revoked" : "active",
		    device_has_key(dev) ? "yes" : "no",
		    registry_stream_name(reg, dev->stream), dev->name);
		return;
	}
	printf("id:      %s\nname:    %s\nstream:  %s\nclass:   %s\n"
	    "state:   %s\nsecret:  %s\n", id, dev->name,
	    registry_stream_name(reg, dev->stream), device_class(dev),
	    dev->revoked ? "revoked" : "active",
	    device_has_key(dev) ? "provisioned (in the keys file)" :
	    "none: the node cannot join");
}

int
cli_device(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "stream", required_argument, NULL, 's' },
		{ "class", required_argument, NULL, 'C' },
		{ "record", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *conf_path = CONF_PATH_DEFAULT, *name = NULL, *stream = NULL;
	const char *record = NULL, *cmd, *id = NULL, *class = NULL;
	struct device_file d = { NULL, NULL, 0, { 0 } }, k = d;
	struct registry *reg = NULL;
	const struct device *dev;
	struct conf *c = NULL;
	char *err = NULL;
	uint64_t eui;
	size_t i;
	int ch, r, rc = DEVICE_EXIT_USAGE;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 's':
			stream = optarg;
			break;
		case 'C':
			class = optarg;
			break;
		case 'r':
			record = optarg;
			break;
		case 'h':
			device_usage(stdout);
			return 0;
		default:
			device_usage(stderr);
			return DEVICE_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		device_usage(stderr);
		return DEVICE_EXIT_USAGE;
	}
	cmd = argv[optind++];
	if (optind < argc)
		id = argv[optind++];
	if (optind != argc || (strcmp(cmd, "list") == 0) != (id == NULL) ||
	    (strcmp(cmd, "add") != 0 && strcmp(cmd, "list") != 0 &&
	    strcmp(cmd, "show") != 0 && strcmp(cmd, "revoke") != 0)) {
		device_usage(stderr);
		return DEVICE_EXIT_USAGE;
	}
	if ((c = malloc(sizeof(*c))) == NULL ||
	    (err = malloc(CONF_ERR_MAX)) == NULL) {
		fprintf(stderr, "fieldbridge: out of memory\n");
		goto out;
	}
	if (conf_load(conf_path, c, err, CONF_ERR_MAX) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	d.path = c->registry;
	k.path = c->keys;
	if ((r = device_read(&d)) != 0 || (r = device_read(&k)) != 0) {
		fprintf(stderr, "fieldbridge: %s: %s\n", d.text == NULL ?
		    d.path : k.path, strerror(-r));
		goto out;
	}
	/* The files as the daemon reads them (the keys file's mode too). */
	if (registry_load(d.path, k.path, &reg, err, CONF_ERR_MAX) != 0) {
		fprintf(stderr, "%s\n", err);
		rc = DEVICE_EXIT_REFUSED;
		goto out;
	}
	if (strcmp(cmd, "add") == 0)
		rc = device_add(c, &d, &k, reg, id, name, stream, class,
		    record);
	else if (strcmp(cmd, "revoke") == 0)
		rc = device_revoke(c, &d, &k, reg, id);
	else if (strcmp(cmd, "list") == 0) {
		printf("%-16s  %-7s  %-6s  %-16s  %s\n", "ID", "STATE",
		    "SECRET", "STREAM", "NAME");
		for (i = 0; i < registry_count(reg); i++)
			device_print(reg, registry_at(reg, i), 0);
		rc = 0;
	} else if ((dev = device_lookup(reg, id, &eui)) == NULL) {
		fprintf(stderr, "fieldbridge: no device \"%s\" in %s\n", id,
		    d.path);
		rc = DEVICE_EXIT_REFUSED;
	} else {
		device_print(reg, dev, 1);
		printf("entry:   %s:%u\n", d.path, dev->line);
		rc = 0;
	}
out:
	registry_free(reg);
	device_file_free(&d);
	device_file_free(&k);
	free(c);
	free(err);
	return rc;
}
