/*
 * fuzz_cmdq.c - the command queue's file (daemon/store/cmdq.c) from
 * attacker-chosen bytes: a file on the state directory's disk is input
 * too.  Whatever loads must keep the queue's bounds and encode to bytes
 * that load again to the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/store/cmdq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdq *q = cmdq_new(), *r = cmdq_new();
	uint8_t *buf = NULL, *buf2 = NULL;
	size_t len, len2;

	if (q == NULL || r == NULL)
		abort();
	if (cmdq_parse(q, data, size) == 0) {
		if (cmdq_count(q) > CMDQ_TOTAL_MAX ||
		    cmdq_result_count(q) > CMDQ_RESULTS_MAX)
			abort();
		if (cmdq_encode(q, &buf, &len) != 0 ||
		    cmdq_parse(r, buf, len) != 0 ||
		    cmdq_encode(r, &buf2, &len2) != 0 || len != len2 ||
		    memcmp(buf, buf2, len) != 0)
			abort();
	} else if (cmdq_count(q) != 0 || cmdq_result_count(q) != 0)
		abort();
	free(buf);
	free(buf2);
	cmdq_free(q);
	cmdq_free(r);
	return 0;
}
