/*
 * fuzz_cmdmsg.c - a cloud command message (daemon/cmdmsg.c) from
 * attacker-chosen bytes: whoever may publish on the commands topic.  What
 * the parser accepts must be within its bounds, and its outcome message
 * must encode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cmdmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdmsg m;
	struct cmdmsg_outcome o;
	char buf[CMDMSG_RESULT_MAX];
	const char *why;
	int r;

	r = cmdmsg_parse(data, size, &m, &why);
	if (strlen(m.id) > CMDMSG_ID_MAX || m.body_len > CMDMSG_BODY_MAX)
		abort();
	if ((r == 0) != (why == NULL))
		abort();
	if (m.id[0] == '\0')
		return 0;
	memset(&o, 0, sizeof(o));
	o.id = m.id;
	o.eui = m.eui;
	o.outcome = r == 0 ? "acknowledged" : "refused";
	o.detail = why;
	o.status = -1;
	if (cmdmsg_result(buf, sizeof(buf), &o) <= 0)
		abort();
	return 0;
}
