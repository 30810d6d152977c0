/*
 * fuzz_journal.c - the open-batch journal reader (daemon/store/journal.c) on
 * arbitrary bytes: the input becomes a journal file left by a previous
 * run; recovery must report what is damaged, hand back only well-formed
 * records and then clear the directory.  It must never crash, leak or
 * hang, whatever the file holds.  The verify answer comes from the seq, so
 * both trust paths of a release are taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/store/journal.h"
#include "tests/testutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
verify(void *arg, uint64_t seq)
{
	(void)arg;
	return (int)(seq & 1);
}

static void
bad(void *arg, const char *file, uint64_t off, uint64_t len, const char *why)
{
	(void)arg;
	if (file == NULL || why == NULL || off > (1ULL << 32) ||
	    len > (1ULL << 32))
		abort();
}

static void
replay(void *arg, const struct record *r)
{
	size_t *n = arg;

	/* What comes back must be fit for the batcher. */
	if (r->stream == NULL || strlen(r->stream) == 0 ||
	    strlen(r->stream) > BATCH_STREAM_MAX || r->len > 255 ||
	    r->rx_wall.tv_nsec < 0 || r->rx_wall.tv_nsec >= 1000000000L ||
	    (r->len > 0 && r->payload == NULL))
		abort();
	(*n)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[64], p[128];
	struct journal *jn = NULL;
	size_t n = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/fuzz_journal.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(p, sizeof(p), "%s/0000000000000001.jnl", dir);
	testutil_write_file(p, data, size);
	if (journal_open(dir, &jn) != 0)
		abort();
	r = journal_recover(jn, verify, bad, replay, &n);
	if (r < 0 || (size_t)r != n)
		abort();
	if (journal_recovered(jn) != 0)
		abort();
	/* The previous run's file is gone (or quarantined). */
	if (access(p, F_OK) == 0)
		abort();
	journal_free(jn);
	testutil_rm_rf(dir);
	return 0;
}
