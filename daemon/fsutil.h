/*
 * fsutil.h - small file helpers that the spool, the open-batch journal,
 * privsep and the fieldbridge CLI share: the checksum of the on-disk
 * formats, the names of numbered files, and reads that carry on after a
 * short read or EINTR.  Nothing here logs; errors are -errno.
 */
#ifndef FB_FSUTIL_H
#define FB_FSUTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define FSUTIL_ID_DIGITS	16	/* hex digits of a file id */

/* zlib crc32 (ISO-HDLC polynomial) of n bytes, continuing from c (0 to
 * start): the checksum of spool segments, ack logs and journal files. */
uint32_t fsutil_crc32(uint32_t c, const void *p, size_t n);

/* "NNNNNNNNNNNNNNNN.ext": the id as 16 lower-case hex digits. */
void	fsutil_id_name(char *buf, size_t sz, uint64_t id, const char *ext);
/* Whether name is exactly such a name with this ext; then *id is set. */
int	fsutil_id_parse(const char *name, const char *ext, uint64_t *id);

/* Reads up to n bytes from fd's position, or at off (pread): returns the
 * count, short only at end of file, or -errno. */
ssize_t	fsutil_read_full(int fd, void *buf, size_t n);
ssize_t	fsutil_pread_full(int fd, void *buf, size_t n, uint64_t off);

/* Replaces dirfd/name with len bytes of buf as one step: a reader sees the
 * old file or the new one, never a part.  The bytes go to "name.tmp",
 * created with mode (less the umask), fsynced and renamed over name.
 * Flags: FSUTIL_SYNC_DIR also fsyncs the directory, without which the
 * rename itself may not survive a power cut; FSUTIL_CHMOD gives the file
 * exactly mode whatever the umask (fchmod: the privileged parent; the
 * worker's seccomp filter allows only the status file's mode 0640);
 * FSUTIL_NO_FSYNC skips the file's
 * fsync, for a file that is rewritten every few seconds and worthless
 * after a power cut (the status file), to spare the flash.  On failure the
 * temporary file is removed and name is left as it was.  Returns 0 or
 * -errno. */
#define FSUTIL_SYNC_DIR		0x1
#define FSUTIL_CHMOD		0x2
#define FSUTIL_NO_FSYNC		0x4
#define FSUTIL_NAME_MAX		255	/* name plus ".tmp" must fit NAME_MAX */
int	fsutil_replace(int dirfd, const char *name, const void *buf, size_t len,
	    unsigned int mode, int flags);
/* The same, the new file given to group gid first ((gid_t)-1: left as
 * created); -EPERM when we are not in that group, nothing replaced. */
int	fsutil_replace_group(int dirfd, const char *name, const void *buf,
	    size_t len, unsigned int mode, gid_t gid, int flags);

/* The "quarantine" directory below dirfd, made (mode 0700) if missing:
 * where the spool and the journal move a file they cannot trust, so an
 * operator can look at it.  Returns an O_DIRECTORY fd or -errno. */
int	fsutil_quarantine_open(int dirfd);

#endif
