/*
 * fuzz_privsep.c - the privsep parent's parser of the child's requests
 * (privsep_msg_parse) and the child's parser of replies.  The child is the
 * process we assume compromised: every byte it sends is untrusted.  A
 * request that parses must encode back to the same bytes.  Also the
 * parent's check of the child's sd_notify messages (notify_relay_check):
 * what it lets through holds no control byte but newlines and no key
 * other than READY, WATCHDOG, STOPPING and STATUS.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/notify.h"
#include "daemon/sandbox/privsep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
relayed_ok(const uint8_t *p, size_t n)
{
	size_t i, line = 0;

	if (n == 0 || n > NOTIFY_RELAY_LEN_MAX)
		abort();
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line = i + 1;
			continue;
		}
		if (p[i] < 0x20 || p[i] == 0x7f)
			abort();
		if (i == line && memcmp(p + i, "READY=1", n - i < 7 ? n - i : 7)
		    != 0 && memcmp(p + i, "WATCHDOG=1", n - i < 10 ? n - i :
		    10) != 0 && memcmp(p + i, "STOPPING=1", n - i < 10 ?
		    n - i : 10) != 0 && memcmp(p + i, "STATUS=", n - i < 7 ?
		    n - i : 7) != 0)
			abort();
	}
}

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
	if (notify_relay_check((const char *)data, size) == 0)
		relayed_ok(data, size);
	return 0;
}
