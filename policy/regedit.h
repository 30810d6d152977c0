/*
 * regedit.h - edits of the registry and keys files as text, for
 * `fieldbridge device`: find one device's `{ ... }` entry in a file's
 * top-level list, replace or remove it, or append one, keeping every other
 * byte (the technician's comments and layout) as it was.  No I/O: the
 * caller reads and writes the files, and validates the result with
 * registry_load_mem before writing it.
 */
#ifndef FB_REGEDIT_H
#define FB_REGEDIT_H

#include <stddef.h>
#include <stdint.h>

/* Where one device is in a file's text. */
struct regedit_pos {
	int	found;		/* an entry with that id exists */
	size_t	start, end;	/* its "{ ... }", end exclusive */
	size_t	close;		/* the list's closing ')' */
	size_t	tail;		/* after the last entry's '}', or the '(' */
	size_t	nentries;	/* entries in the list */
};

/* Scans text (len bytes) for the list's entries and the one whose id is
 * eui.  Returns 0, or -EINVAL when the text is not one list of entries
 * (unterminated string or comment, no list, unbalanced). */
int	regedit_find(const char *text, size_t len, uint64_t eui,
	    struct regedit_pos *pos);

/* A new NUL-terminated text (malloc, *outlen without the NUL) where the
 * found entry is replaced by entry, or removed when entry is NULL (with
 * the comma that separated it), or, when none was found, entry appended
 * as the list's last.  Returns 0, -ENOENT (remove what is not there) or
 * -ENOMEM. */
int	regedit_apply(const char *text, size_t len, const struct regedit_pos *pos,
	    const char *entry, char **out, size_t *outlen);

/*
 * One entry's text ("{ ... }", NUL-terminated) with its top-level setting
 * key set to value (text as written: "true", "\"collar\"") in place, or
 * added before its '}', or removed when value is NULL; every other byte
 * kept (a device's own rules, comments).  *out is malloc'ed.  Returns 0,
 * -EINVAL (not one balanced entry) or -ENOMEM.
 */
int	regedit_entry_set(const char *entry, const char *key, const char *value,
	    char **out);

#endif
