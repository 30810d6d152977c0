/*
 * testutil.h - chores shared by tests, fuzz targets and benchmarks:
 * removing a scratch directory, writing a file in one go, and hex for the
 * spec's test vectors (test_link, test_node).  No cmocka here, so fuzz
 * targets and the benchmarks link it too; failures abort.
 */
#ifndef FB_TESTUTIL_H
#define FB_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A new scratch directory /tmp/fbtest.XXXXXX (malloc'd; aborts). */
char	*testutil_tmpdir(void);
/* cmocka set-up and tear-down of a test that works in a scratch
 * directory: *state is its path. */
int	testutil_tmpdir_setup(void **state);
int	testutil_tmpdir_teardown(void **state);
/* rm -rf dir, without following links; errors are ignored (cleanup). */
void	testutil_rm_rf(const char *dir);
/* Creates or truncates path (0600) to hold exactly these bytes. */
void	testutil_write_file(const char *path, const void *data, size_t size);
/* Hex digits to bytes; aborts on a non-hex pair or more than cap bytes. */
size_t	testutil_unhex(const char *hex, uint8_t *out, size_t cap);
/* Bytes to lower-case hex in out, which must hold 2 * len + 1. */
void	testutil_hex(const uint8_t *p, size_t len, char *out);

#endif
