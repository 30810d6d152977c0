/*
 * test_cmdmsg.c - the cloud's command messages (daemon/cmdmsg.c): a good
 * command in all its fields, each malformed field refused with the id
 * still read when it is valid, bounds one past the limit, and the result
 * message's members.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/cmdmsg.h"

static int
parse(const char *s, struct cmdmsg *m, const char **why)
{
	return cmdmsg_parse(s, strlen(s), m, why);
}

static void
test_good_command(void **state)
{
	struct cmdmsg m;
	const char *why;

	(void)state;
	assert_int_equal(parse("{\"id\":\"c-1\",\"device\":\"70b3d57ed0001001\","
	    "\"kind\":255,\"body\":\"b3BlbiBnYXRl\",\"expires\":1760000000,"
	    "\"note\":\"unknown members are ignored\"}", &m, &why), 0);
	assert_null(why);
	assert_string_equal(m.id, "c-1");
	assert_true(m.eui == 0x70B3D57ED0001001ULL);
	assert_int_equal(m.kind, 255);
	assert_int_equal(m.body_len, 9);
	assert_memory_equal(m.body, "open gate", 9);
	assert_true(m.expires == 1760000000);
	/* No body: an empty one. */
	assert_int_equal(parse("{\"id\":\"x\",\"device\":\"70B3D57ED0001001\","
	    "\"kind\":0,\"expires\":1}", &m, &why), 0);
	assert_int_equal(m.body_len, 0);
}

/* Each refused with -EBADMSG; id says whether the id could be read. */
static void
test_malformed(void **state)
{
	static const struct {
		const char	*json;
		const char	*id;
	} bad[] = {
		{ "", "" },
		{ "not json", "" },
		{ "[1,2]", "" },
		{ "{\"device\":\"70B3D57ED0001001\",\"kind\":1,\"expires\":1}",
		    "" },
		{ "{\"id\":\"\",\"kind\":1}", "" },
		{ "{\"id\":7}", "" },
		{ "{\"id\":\"tab\\there\"}", "" },
		{ "{\"id\":\"nul\\u0000\"}", "" },
		{ "{\"id\":\"a\",\"id\":\"b\"}", "" },
		{ "{\"id\":\"d1\",\"device\":\"70B3D57ED000100\",\"kind\":1,"
		    "\"expires\":1}", "d1" },
		{ "{\"id\":\"d2\",\"device\":\"70B3D57ED000100G\",\"kind\":1,"
		    "\"expires\":1}", "d2" },
		{ "{\"id\":\"k1\",\"device\":\"70B3D57ED0001001\",\"kind\":256,"
		    "\"expires\":1}", "k1" },
		{ "{\"id\":\"k2\",\"device\":\"70B3D57ED0001001\",\"kind\":-1,"
		    "\"expires\":1}", "k2" },
		{ "{\"id\":\"k3\",\"device\":\"70B3D57ED0001001\",\"kind\":\"1\","
		    "\"expires\":1}", "k3" },
		{ "{\"id\":\"e1\",\"device\":\"70B3D57ED0001001\",\"kind\":1}",
		    "e1" },
		{ "{\"id\":\"e2\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":0}", "e2" },
		{ "{\"id\":\"e3\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":1.5}", "e3" },
		{ "{\"id\":\"b1\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":1,\"body\":\"not base64!\"}", "b1" },
		{ "{\"id\":\"b2\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":1,\"body\":\"QUJD\\n\"}", "b2" },
		{ "{\"id\":\"b3\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":1,\"body\":\"QQ=A\"}", "b3" },
		{ "{\"id\":\"b4\",\"device\":\"70B3D57ED0001001\",\"kind\":1,"
		    "\"expires\":1,\"body\":3}", "b4" },
	};
	struct cmdmsg m;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(parse(bad[i].json, &m, &why), -EBADMSG);
		assert_non_null(why);
		assert_string_equal(m.id, bad[i].id);
	}
}

/* Limits: the id, the decoded body, the whole message. */
static void
test_bounds(void **state)
{
	char buf[CMDMSG_BYTES_MAX + 64], id[CMDMSG_ID_MAX + 2];
	char b64[4 * (CMDMSG_BODY_MAX + 3) / 3 + 8];
	struct cmdmsg m;
	const char *why;

	(void)state;
	memset(id, 'i', sizeof(id) - 1);
	id[CMDMSG_ID_MAX] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"device\":"
	    "\"70B3D57ED0001001\",\"kind\":1,\"expires\":1}", id);
	assert_int_equal(parse(buf, &m, &why), 0);
	id[CMDMSG_ID_MAX] = 'i';
	id[CMDMSG_ID_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"device\":"
	    "\"70B3D57ED0001001\",\"kind\":1,\"expires\":1}", id);
	assert_int_equal(parse(buf, &m, &why), -EBADMSG);
	assert_string_equal(m.id, "");
	/* 512 bytes of body (684 characters of base64) fit, 513 do not. */
	memset(b64, 'A', 684);
	b64[684] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"big\",\"device\":"
	    "\"70B3D57ED0001001\",\"kind\":1,\"expires\":1,\"body\":\"%s\"}",
	    b64);
	assert_int_equal(parse(buf, &m, &why), -EBADMSG);	/* 513 */
	memcpy(b64 + 680, "AA==", 5);
	snprintf(buf, sizeof(buf), "{\"id\":\"big\",\"device\":"
	    "\"70B3D57ED0001001\",\"kind\":1,\"expires\":1,\"body\":\"%s\"}",
	    b64);
	assert_int_equal(parse(buf, &m, &why), 0);
	assert_int_equal(m.body_len, CMDMSG_BODY_MAX + 1 - 2);
	/* Over CMDMSG_BYTES_MAX: refused unparsed, no id. */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf, "{\"id\":\"long\"}", 13);
	assert_int_equal(cmdmsg_parse(buf, CMDMSG_BYTES_MAX + 1, &m, &why),
	    -EBADMSG);
	assert_string_equal(m.id, "");
	assert_int_equal(cmdmsg_parse(buf, CMDMSG_BYTES_MAX, &m, &why),
	    -EBADMSG);
	assert_string_equal(m.id, "long");	/* parsed: no device */
}

static void
test_result_message(void **state)
{
	struct cmdmsg_outcome o = { "c-1", 0x70B3D57ED0001001ULL,
	    "acknowledged", NULL, NULL, 3, 1760000000 };
	char buf[CMDMSG_RESULT_MAX];
	int n;

	(void)state;
	n = cmdmsg_result(buf, sizeof(buf), &o);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "{\"id\":\"c-1\",\"device\":"
	    "\"70B3D57ED0001001\",\"outcome\":\"acknowledged\",\"status\":3,"
	    "\"time\":1760000000}");
	o.eui = 0;
	o.outcome = "refused";
	o.reason = "malformed";
	o.detail = "a \"quoted\" why";
	o.status = -1;
	assert_true(cmdmsg_result(buf, sizeof(buf), &o) > 0);
	assert_string_equal(buf, "{\"id\":\"c-1\",\"outcome\":\"refused\","
	    "\"reason\":\"malformed\",\"detail\":\"a \\\"quoted\\\" why\","
	    "\"time\":1760000000}");
	assert_int_equal(cmdmsg_result(buf, 20, &o), -ENOBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_command),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_result_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
