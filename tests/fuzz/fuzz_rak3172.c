/*
 * fuzz_rak3172.c - libFuzzer target for the RAK3172 RUI3 driver's line
 * parser (radio/drv_rak3172.c over radio/tline.c): the input is what the
 * module sends; the body, shared with the other text
 * drivers' target, is tests/fuzz/textdrv_body.c.
 */
#include "radio/radio.h"

extern const struct radio_driver drv_rak3172;
static const struct radio_driver *const fuzz_driver = &drv_rak3172;

#include "tests/fuzz/textdrv_body.c"
