/*
 * testutil.h - file chores shared by the spool and journal tests, their
 * fuzz targets and bench/spool_bench: removing a scratch directory and
 * writing a file in one go.  No cmocka here, so fuzz targets and the
 * benchmark link it too; failures abort.
 */
#ifndef FB_TESTUTIL_H
#define FB_TESTUTIL_H

#include <stddef.h>

/* rm -rf dir, without following links; errors are ignored (cleanup). */
void	testutil_rm_rf(const char *dir);
/* Creates or truncates path (0600) to hold exactly these bytes. */
void	testutil_write_file(const char *path, const void *data, size_t size);

#endif
