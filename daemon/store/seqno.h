/*
 * seqno.h - the per-gateway batch sequence number, strictly increasing
 * across restarts and crashes, so the cloud can de-duplicate batches that
 * at-least-once delivery sends twice.
 *
 * Data flow: the batcher takes one number per sealed batch.  Numbers are
 * reserved in blocks: before the first number of a block is handed out,
 * the end of the block is written to a small file in the state directory
 * (write, fsync, rename, fsync of the directory).  After a crash the daemon
 * continues from the end of the last reserved block, so a number is never
 * reused; the unused rest of a block is a gap, which is allowed.
 */
#ifndef FB_SEQNO_H
#define FB_SEQNO_H

#include <stdint.h>

#define SEQNO_FILE		"seq"	/* in the state directory */
#define SEQNO_BLOCK_DEFAULT	4096

struct seqno;

/*
 * Open the sequence kept in dir (NULL or "." for the cwd, which is what the
 * daemon uses after it has changed into its state directory).  A missing
 * file starts the sequence at 1.  A corrupt file is -EBADMSG; the caller
 * may then use seqno_open_recover().
 */
int	seqno_open(const char *dir, uint32_t block, struct seqno **out);
/*
 * Start over after a corrupt file: continue from the wall clock in
 * microseconds, which is far above any count reached from 1, and rewrite
 * the file.
 */
int	seqno_open_recover(const char *dir, uint32_t block, struct seqno **out);
/* The next number: 0 or -errno when a new block could not be reserved
 * (then nothing is handed out). */
int	seqno_next(struct seqno *s, uint64_t *out);
/* The number the next seqno_next will return. */
uint64_t seqno_peek(const struct seqno *s);
void	seqno_free(struct seqno *s);

#endif
