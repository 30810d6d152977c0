/*
 * drivers.c - the list of concentrator drivers.  A new concentrator dialect
 * is one file exporting a const struct radio_driver, and one line here.
 */
#include <string.h>

#include "radio/radio.h"

extern const struct radio_driver drv_fbsp;
extern const struct radio_driver drv_rn2483;
extern const struct radio_driver drv_rn2903;
extern const struct radio_driver drv_rak3172;

static const struct radio_driver *const drivers[] = {
	&drv_fbsp,
	&drv_rn2483,
	&drv_rn2903,
	&drv_rak3172,
	NULL
};

const struct radio_driver *const *
radio_drivers(void)
{
	return drivers;
}

const struct radio_driver *
radio_driver_find(const char *name)
{
	size_t i;

	for (i = 0; drivers[i] != NULL; i++)
		if (strcmp(drivers[i]->name, name) == 0)
			return drivers[i];
	return NULL;
}
