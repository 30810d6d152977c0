#!/bin/sh
# test_node_freestanding.sh - libfbnode builds as firmware would build it:
# for a Cortex-M0+ (the smallest core a LoRa node runs on) with
# arm-none-eabi-gcc, -std=c99 -ffreestanding -Os -Wall -Wextra -Werror,
# and the only functions it needs from outside are the ones listed below,
# which every C runtime of a microcontroller has.  The Mbed TLS back-end
# builds the same way and needs Mbed TLS and nothing else.
#
# Skipped (exit 77) without gcc-arm-none-eabi and its newlib headers,
# which tools/dev installs.  bench/node_cross builds the same files with
# Mbed TLS's own source and reports their size.
set -eu

# The whole of the C library libfbnode may call.
ALLOWED="memcpy memset"
# What the Mbed TLS back-end may call besides Mbed TLS.
ALLOWED_MBEDTLS="memcpy memset"
# GCC's own run-time helpers (libgcc, part of the compiler, not of any C
# library): Thumb-1 switch tables and the EABI's division and shifts.
RUNTIME="__gnu_thumb1_case_ __aeabi_"

top=${srcdir:-$(dirname "$0")/..}
command -v arm-none-eabi-gcc >/dev/null 2>&1 || {
	echo "test_node_freestanding: SKIP: no arm-none-eabi-gcc"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags="-mcpu=cortex-m0plus -mthumb -std=c99 -pedantic -ffreestanding -Os
	-Wall -Wextra -Werror -I$top"

fail=0
check_undefined() {	# OBJECT ALLOWED-LIST [PREFIX...]
	obj=$1 allowed=$2
	shift 2
	for s in $(arm-none-eabi-nm -u "$obj" | awk '{ print $2 }'); do
		case " $allowed " in *" $s "*) continue ;; esac
		ok=0
		for p in $RUNTIME "$@"; do
			case $s in "$p"*) ok=1 ;; esac
		done
		[ "$ok" -eq 1 ] && continue
		echo "test_node_freestanding: FAIL: $(basename "$obj") calls $s"
		fail=1
	done
}

# shellcheck disable=SC2086
arm-none-eabi-gcc $cflags -c "$top/node/fbnode.c" -o "$tmp/fbnode.o"
check_undefined "$tmp/fbnode.o" "$ALLOWED"
# The checker checks itself: an object calling printf must fail it.
printf '#include <stdio.h>\nvoid f(void);\nvoid f(void) { printf("x"); }\n' \
    > "$tmp/bad.c"
# shellcheck disable=SC2086
arm-none-eabi-gcc $cflags -c "$tmp/bad.c" -o "$tmp/bad.o"
if [ -z "$(check_undefined "$tmp/bad.o" "$ALLOWED")" ]; then
	echo "test_node_freestanding: FAIL: the symbol check let printf pass"
	exit 1
fi

# The back-end, against Mbed TLS's headers (only those: no host header
# may leak into a cross build).
if [ -d /usr/include/mbedtls ]; then
	mkdir "$tmp/inc"
	ln -s /usr/include/mbedtls "$tmp/inc/mbedtls"
	# shellcheck disable=SC2086
	arm-none-eabi-gcc $cflags -I"$tmp/inc" -Wno-unused-parameter \
	    -c "$top/node/fbnode_mbedtls.c" -o "$tmp/fbnode_mbedtls.o"
	check_undefined "$tmp/fbnode_mbedtls.o" "$ALLOWED_MBEDTLS" mbedtls_
fi

[ "$fail" -eq 0 ] || exit 1
echo "test_node_freestanding: PASS: fbnode.o calls only $ALLOWED (and libgcc's $RUNTIME)"
