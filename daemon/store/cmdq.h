/*
 * cmdq.h - the durable command queue: commands from the cloud waiting for
 * their device's next receive window, the ids of recent commands (so a
 * command published twice runs once), and the outcomes waiting for the
 * broker's PUBACK.  All of it in one file, STATE_DIR/commands, replaced
 * whole (fsutil_replace) at every change: commands are rare (a few a day
 * per device), the file is at most about 400 KiB at the bounds below and
 * usually a few hundred bytes, and a whole-file replace can never leave a
 * half-written queue behind.  The format is drawn at the top of cmdq.c and
 * in docs/spool-format.md, "Commands".
 *
 * Data flow: commands.c (the daemon's wiring, which logs) calls it; it
 * does no logging and knows nothing of MQTT or the radio.
 */
#ifndef FB_CMDQ_H
#define FB_CMDQ_H

#include <stddef.h>
#include <stdint.h>


#define CMDQ_FILE		"commands"	/* in the state directory */
#define CMDQ_PER_DEVICE_MAX	8	/* commands waiting per device */
#define CMDQ_TOTAL_MAX		1024	/* commands waiting in all */
#define CMDQ_SEEN_MAX		1024	/* recent ids remembered */
#define CMDQ_RESULTS_MAX	1024	/* outcomes awaiting their PUBACK */
#define CMDQ_FILE_MAX_BYTES	(1024 * 1024)	/* refused above, unread */
/* The sizes of what is stored, as daemon/cmdmsg.h and radio/link.h bound
 * them (commands.c checks at compile time that they agree; durable state
 * includes neither). */
#define CMDQ_ID_MAX		64	/* CMDMSG_ID_MAX */
#define CMDQ_BODY_MAX		235	/* LINK_COMMAND_BODY_MAX */
#define CMDQ_RESULT_MAX		512	/* CMDMSG_RESULT_MAX */

struct cmdq_cmd {
	char		 id[CMDQ_ID_MAX + 1];
	uint64_t	 eui;
	int64_t		 expires;	/* Unix time */
	uint16_t	 ref;		/* the link's command ref */
	uint8_t		 kind;
	uint8_t		 body[CMDQ_BODY_MAX];
	size_t		 len;
};

struct cmdq_result {
	uint64_t	 seq;		/* the publish cookie, this run only */
	char		*text;		/* a JSON document, NUL-terminated */
	size_t		 len;
	int		 inflight;	/* published, no PUBACK yet (memory
					 * only: the caller's) */
};

struct cmdq;

struct cmdq *cmdq_new(void);
void	cmdq_free(struct cmdq *q);

/*
 * Reads dirfd/CMDQ_FILE into q (empty when there is none).  A file that is
 * not a valid queue is moved to dirfd/quarantine/ and q stays empty:
 * returns -EBADMSG then (the caller logs), 0 when loaded, or another
 * -errno (the file could not be read or moved; q is empty).
 */
int	cmdq_load(struct cmdq *q, int dirfd);
/* The same on bytes, for the fuzz target: 0 or -EBADMSG (q then empty). */
int	cmdq_parse(struct cmdq *q, const uint8_t *buf, size_t len);
/* The file's bytes (malloc'ed into *buf), and the file replaced by them
 * (synced, directory too).  0 or -errno. */
int	cmdq_encode(const struct cmdq *q, uint8_t **buf, size_t *len);
int	cmdq_save(const struct cmdq *q, int dirfd);

/* Whether id was queued recently (is queued, or was within the last
 * CMDQ_SEEN_MAX ids). */
int	cmdq_seen(const struct cmdq *q, const char *id);
/*
 * Queues a copy of c, gives it the next ref (returned in *ref when not
 * NULL) and remembers its id.  0, -EEXIST (its id was seen), -ENOSPC (its
 * device has CMDQ_PER_DEVICE_MAX waiting), -ENOBUFS (CMDQ_TOTAL_MAX in
 * all), -EMSGSIZE (body over CMDQ_BODY_MAX).
 */
int	cmdq_add(struct cmdq *q, const struct cmdq_cmd *c, uint16_t *ref);
/* The oldest command waiting for eui, or NULL. */
const struct cmdq_cmd *cmdq_head(const struct cmdq *q, uint64_t eui);
size_t	cmdq_count(const struct cmdq *q);
size_t	cmdq_device_count(const struct cmdq *q, uint64_t eui);
/*
 * Takes out every command for which pred says non-zero, in queue order,
 * calling done (may be NULL) with each before it goes.  Returns how many.
 * The expiry (expires <= now), a revoked device, an acknowledged head.
 */
typedef int cmdq_pred_fn(void *arg, const struct cmdq_cmd *c);
typedef void cmdq_done_fn(void *arg, const struct cmdq_cmd *c);
size_t	cmdq_take(struct cmdq *q, cmdq_pred_fn *pred, cmdq_done_fn *done,
	    void *arg);
/* The expiry, as cmdq_take: commands with expires <= now. */
size_t	cmdq_expire(struct cmdq *q, int64_t now, cmdq_done_fn *done,
	    void *arg);

/*
 * An outcome to publish (len bytes of text, copied).  When
 * CMDQ_RESULTS_MAX are waiting the oldest is dropped to make room (1 is
 * returned then, else 0; -ENOMEM).
 */
int	cmdq_result_add(struct cmdq *q, const char *text, size_t len);
size_t	cmdq_result_count(const struct cmdq *q);
/* The i-th waiting outcome, oldest first. */
struct cmdq_result *cmdq_result_at(struct cmdq *q, size_t i);
/* Its PUBACK came: forget it.  0, or -ENOENT (no such seq). */
int	cmdq_result_done(struct cmdq *q, uint64_t seq);

#endif
