/*
 * drivers.c - the list of concentrator drivers.  A new concentrator dialect
 * is one file exporting a const struct radio_driver, and one line here.
 */
#include <string.h>

#include "radio/radio.h"

extern const struct radio_driver drv_fbsp;

static const struct radio_driver *const drivers[] = {
	&drv_fbsp,
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
