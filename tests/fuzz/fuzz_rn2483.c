/*
 * fuzz_rn2483.c - libFuzzer target for the RN2483/RN2903 driver's line
 * parser (radio/drv_rn2483.c over radio/tline.c): the input is what the
 * module sends; the body, shared with the other text
 * drivers' target, is tests/fuzz/textdrv_body.c.
 */
#include "radio/radio.h"

extern const struct radio_driver drv_rn2483;
static const struct radio_driver *const fuzz_driver = &drv_rn2483;

#include "tests/fuzz/textdrv_body.c"
