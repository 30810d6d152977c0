/*
 * fuzzreg.h - the registry the fuzz targets of the link protocol's
 * gateway side share (fuzz_link, fuzz_sessions): one device with a secret,
 * one revoked device without.
 */
#ifndef FB_FUZZREG_H
#define FB_FUZZREG_H

#define FUZZREG_KA \
	"1111111111111111111111111111111111111111111111111111111111111111"

static const char fuzzreg_devs[] =
    "devices = ( { id = \"70B3D57ED0001001\"; stream = \"s\"; },\n"
    "  { id = \"70B3D57ED0001002\"; stream = \"s\"; revoked = true; } );";
static const char fuzzreg_keys[] =
    "keys = ( { id = \"70B3D57ED0001001\"; secret = \"" FUZZREG_KA "\"; } );";

#endif
