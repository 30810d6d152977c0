/*
 * fuzz_privsep.c - the privsep parent's parser of the child's requests
 * (privsep_msg_parse) and the child's parser of replies.  The child is the
 * process we assume compromised: every byte it sends is untrusted.  A
 * request that parses must encode back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/privsep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PRIVSEP_MSG_SIZE_MAX];
	struct privsep_req req;
	size_t len;
	int result;

	if (privsep_msg_parse(data, size, &req) == 0) {
		if (privsep_msg_encode(&req, out, sizeof(out), &len) != 0 ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
	}
	if (privsep_reply_parse(data, size, &result) == 0 &&
	    (result > 0 || result < -4095))
		abort();
	return 0;
}
