/*
 * fuzz_spool.c - the segment reader (daemon/store/spool.c) on arbitrary bytes:
 * the input becomes the last segment file (scanned at open) of a spool
 * directory, or, if its first byte is odd, an older sealed one read lazily
 * behind a valid segment; then everything is read back and acknowledged.
 * It must never crash, leak or hang, whatever the file holds.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store/spool.h"
#include "tests/testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[64], sdir[96], p[128];
	struct spool_conf c;
	struct spool_event ev;
	struct spool_entry *e;
	struct spool *sp = NULL;
	struct batch b;
	char json[] = "{\"t\":1}";
	int n = 0;

	/* tmpfs when there is one: fsync costs nothing there. */
	snprintf(dir, sizeof(dir), "%s/fuzz_spool.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sdir, sizeof(sdir), "%s/spool", dir);
	if (mkdir(sdir, 0700) != 0)
		abort();
	spool_conf_init(&c);
	c.quota_bytes = SPOOL_QUOTA_MIN_BYTES;
	memset(&b, 0, sizeof(b));
	b.seq = 1;
	snprintf(b.stream, sizeof(b.stream), "s");
	b.data = json;
	b.len = strlen(json);
	if (size > 0 && (data[0] & 1)) {
		/* The input as an older segment behind a valid one. */
		if (spool_open(sdir, &c, &sp) != 0 ||
		    spool_append(sp, &b) != 0)
			abort();
		spool_free(sp);
		sp = NULL;
		snprintf(p, sizeof(p), "%s/0000000000000000.seg", sdir);
	} else
		snprintf(p, sizeof(p), "%s/0000000000000001.seg", sdir);
	testutil_write_file(p, data, size);
	if (spool_open(sdir, &c, &sp) == 0) {
		while (spool_next(sp, SPOOL_NEXT_ANY, &e) == 1) {
			if (e->data[e->len] != '\0')
				abort();
			(void)spool_ack(sp, e->seq);
			spool_entry_free(e);
			if (++n > 100000)
				abort();
		}
		b.seq = 2;
		(void)spool_append(sp, &b);
		(void)spool_sync(sp);
		while (spool_event_next(sp, &ev))
			;
		spool_free(sp);
	}
	testutil_rm_rf(dir);
	return 0;
}
