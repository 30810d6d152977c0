/*
 * fuzz_conf.c - config text -> conf_load_string (libconfig, the table
 * walk, the integer literal re-reader).  One input, one call.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c;
	static char err[CONF_ERR_MAX];
	char *text;

	if (size > 65536)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* "/" as the base: relative paths resolve without touching cwd. */
	(void)conf_load_string(text, "fuzz", "/", &c, err, sizeof(err));
	free(text);
	return 0;
}
