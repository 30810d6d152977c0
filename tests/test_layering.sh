#!/bin/sh
# test_layering.sh - the arrows between folders that must never exist
# (DESIGN.md, "Folders"), checked on every quoted #include of the sources:
#
#   radio/           -> policy/, daemon/, tools/, node/
#   policy/          -> daemon/, tools/, node/
#   daemon/store/    -> anything but daemon/batch.h, daemon/fsutil.h and
#                       daemon/store/ itself (durable state knows nothing
#                       of the loop, the uplink, policy or the log)
#   daemon/sandbox/  -> radio/, policy/, daemon/store/, daemon/log.h,
#                       daemon/conf.h, daemon/loop.h (it reports through
#                       callbacks)
#   daemon/loop.c    -> daemon/sandbox/
#   daemon/uplink.*  -> daemon/store/ (daemon/outbox.c is the one joint)
#   tools/           -> daemon/ headers other than conf.h, fsutil.h,
#                       status.h, encoding.h (the payload decoder that
#                       `fieldbridge decode` shares with the daemon's
#                       encoder; it depends on libc alone), check.h (the
#                       one implementation of the checks: `fieldbridge
#                       check` is `fieldbridged --check`, DESIGN.md "link
#                       the same code")
#   node/            -> anything outside node/ (firmware builds it alone)
#
# Usage: test_layering.sh [SRCDIR]; prints each violation as
# FILE:LINE: FROM -> TO (rule) and exits 1 if there is any.
set -eu

self_path=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")	# before the cd
top=${1:-${srcdir:-$(dirname "$0")/..}}
cd "$top"

# FILE LINE TARGET, one per quoted include, for the folders checked.
includes() {
	for d in radio policy daemon tools node; do
		[ -d "$d" ] || continue
		find "$d" -name '*.[ch]' -type f
	done | sort | while read -r f; do
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		    sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
		    while read -r line target; do
			echo "$f $line $target"
		    done
	done
}

bad=0
violation() {
	echo "$1:$2: $1 -> $3 ($4)"
	bad=$((bad + 1))
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
includes > "$tmp"
[ -s "$tmp" ] || { echo "test_layering: FAIL: no includes found below $top"; exit 1; }

while read -r f line t; do
	case $t in
	config.h) continue ;;	# autoconf's, every layer may read it
	esac
	case $f in
	radio/*)
		case $t in
		policy/*|daemon/*|tools/*|node/*)
			violation "$f" "$line" "$t" "radio/ knows no policy, daemon or tools" ;;
		esac ;;
	policy/*)
		case $t in
		daemon/*|tools/*|node/*)
			violation "$f" "$line" "$t" "policy/ does no daemon work" ;;
		esac ;;
	daemon/store/*)
		case $t in
		daemon/batch.h|daemon/fsutil.h|daemon/store/*) ;;
		*) violation "$f" "$line" "$t" "daemon/store/ may include only batch.h and fsutil.h" ;;
		esac ;;
	daemon/sandbox/*)
		case $t in
		radio/*|policy/*|daemon/store/*|daemon/log.h|daemon/conf.h|daemon/loop.h)
			violation "$f" "$line" "$t" "daemon/sandbox/ reports through callbacks" ;;
		esac ;;
	tools/*)
		case $t in
		daemon/conf.h|daemon/fsutil.h|daemon/status.h|daemon/encoding.h|daemon/check.h) ;;
		daemon/*) violation "$f" "$line" "$t" "tools/ link daemon code only through conf.h, fsutil.h, status.h, encoding.h, check.h" ;;
		esac ;;
	node/*)
		case $t in
		node/*) ;;
		*) violation "$f" "$line" "$t" "node/ depends on nothing of the gateway" ;;
		esac ;;
	esac
	case $f in
	daemon/loop.c)
		case $t in
		daemon/sandbox/*|daemon/sandbox.h|daemon/privsep.h)
			violation "$f" "$line" "$t" "the loop does not confine itself" ;;
		esac ;;
	daemon/uplink.c|daemon/uplink.h)
		case $t in
		daemon/store/*)
			violation "$f" "$line" "$t" "outbox.c is the one joint of store and uplink" ;;
		esac ;;
	esac
	case $f:$t in
	daemon/store/*:daemon/uplink.h)
		violation "$f" "$line" "$t" "outbox.c is the one joint of store and uplink" ;;
	esac
done < "$tmp"

n=$(wc -l < "$tmp")

# The checker checks itself once: a tree with one planted arrow of each
# kind must fail, naming every one of them.
if [ -z "${FB_LAYERING_INNER:-}" ]; then
	fake=$(mktemp -d)
	mkdir -p "$fake/radio" "$fake/policy" "$fake/daemon/store" \
	    "$fake/daemon/sandbox" "$fake/tools" "$fake/node"
	echo '#include "policy/registry.h"' > "$fake/radio/a.c"
	echo '#include "daemon/log.h"' > "$fake/policy/a.c"
	echo '#include "daemon/log.h"' > "$fake/daemon/store/a.c"
	echo '#include "daemon/conf.h"' > "$fake/daemon/sandbox/a.c"
	echo '#include "daemon/sandbox/sandbox.h"' > "$fake/daemon/loop.c"
	echo '#include "daemon/store/spool.h"' > "$fake/daemon/uplink.c"
	echo '#include "daemon/loop.h"' > "$fake/tools/a.c"
	echo '#include "radio/radio.h"' > "$fake/node/a.c"
	printf '#include "daemon/batch.h"\n#include "daemon/fsutil.h"\n' \
	    > "$fake/daemon/store/ok.c"
	out=$(FB_LAYERING_INNER=1 sh "$self_path" "$fake" 2>&1) && self=0 || self=$?
	rm -rf "$fake"
	if [ "$self" -ne 1 ] || [ "$(echo "$out" | grep -c ' -> ')" -ne 8 ] ||
	    echo "$out" | grep -q 'ok.c'; then
		echo "test_layering: FAIL: the checker missed a planted include:"
		echo "$out"
		exit 1
	fi
fi

if [ "$bad" -ne 0 ]; then
	echo "test_layering: FAIL: $bad forbidden include(s) among $n"
	exit 1
fi
echo "test_layering: PASS: $n includes, none forbidden"
