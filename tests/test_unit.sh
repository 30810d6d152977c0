#!/bin/sh
# test_unit.sh - checks systemd/fieldbridge.service:
#   1. systemd-analyze verify finds nothing to complain about;
#   2. systemd-analyze security (offline) scores its exposure <= 2.0;
#   3. every syscall the daemon's own filters allow (the parent's is the
#      superset) is also allowed by the unit's SystemCallFilter=, but for
#      clock_adjtime, the daemon's read-only clock query: that one the unit
#      must refuse with EPERM (SystemCallErrorNumber=EPERM), never a kill,
#      since the daemon falls back to timesyncd's flag on EPERM;
#   4. the directives the daemon's design relies on: NotifyAccess=main (the
#      parent relays the worker's notifications), LimitCORE=0,
#      RestrictSUIDSGID=yes (the state directory has no set-id bit), and
#      the man page named by Documentation= exists and renders cleanly.
# tests/vm/test_systemd starts the same unit under a real systemd.
# Skips (exit 77) without systemd-analyze.
set -eu

srcdir=${srcdir:-$(dirname "$0")/..}
unit="$srcdir/systemd/fieldbridge.service"
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "test_unit: SKIP: systemd-analyze not installed (package systemd)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# verify needs the binaries to exist and man pages to be installed: check a
# copy whose ExecStart points at a stand-in and without Documentation=.
sed -e 's|^ExecStart=/usr/sbin/fieldbridged|ExecStart=/bin/true|' \
    -e '/^Documentation=/d' "$unit" > "$tmp/fieldbridge.service"
if ! systemd-analyze verify "$tmp/fieldbridge.service" > "$tmp/verify" 2>&1 ||
   [ -s "$tmp/verify" ]; then
	echo "test_unit: FAIL: systemd-analyze verify:"
	cat "$tmp/verify"
	exit 1
fi

security() {
	systemd-analyze security --offline=true --no-pager "$1" > "$2" 2>&1 || true
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$2"
}
full=$(security "$unit" "$tmp/security")
if [ -z "$full" ]; then
	echo "test_unit: FAIL: no exposure figure from systemd-analyze security:"
	cat "$tmp/security"
	exit 1
fi
echo "test_unit: exposure $full (limit $max_exposure); remaining items:"
grep '✗' "$tmp/security" | sed 's/  */ /g; s/^/  /'
if ! awk -v s="$full" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
	echo "test_unit: FAIL: exposure $full > $max_exposure"
	exit 1
fi
if ! grep -qx 'SystemCallErrorNumber=EPERM' "$unit"; then
	echo "test_unit: FAIL: the unit must refuse calls outside its list with EPERM (the clock query falls back on it)"
	exit 1
fi

for d in NotifyAccess=main LimitCORE=0 RestrictSUIDSGID=yes \
    NoNewPrivileges=yes After=time-sync.target; do
	if ! grep -qx "$d" "$unit"; then
		echo "test_unit: FAIL: the unit lacks $d"
		exit 1
	fi
done
man=$(sed -n 's/^Documentation=man:\([a-z_-]*\)(\([0-9]\))$/\1.\2/p' "$unit")
if [ -z "$man" ] || [ ! -f "$srcdir/daemon/$man" ]; then
	echo "test_unit: FAIL: Documentation= names no man page of daemon/"
	exit 1
fi
if command -v man >/dev/null 2>&1; then
	if ! LC_ALL=C MANWIDTH=80 man --warnings -l "$srcdir/daemon/$man" \
	    > /dev/null 2> "$tmp/man" || [ -s "$tmp/man" ]; then
		echo "test_unit: FAIL: man $man:"
		cat "$tmp/man"
		exit 1
	fi
fi

# The unit's syscall set: its allow lines minus its deny lines.
expand() {
	systemd-analyze syscall-filter --no-pager "$1" 2>/dev/null |
	    awk 'NR > 1 && $1 !~ /^#/ { print $1 }' |
	    while read -r x; do
		case $x in
		@*) expand "$x" ;;
		*) echo "$x" ;;
		esac
	    done
}
: > "$tmp/allow"
: > "$tmp/deny"
sed -n 's/^SystemCallFilter=//p' "$unit" | while read -r line; do
	case $line in
	"~"*) out="$tmp/deny"; line=${line#\~} ;;
	*) out="$tmp/allow" ;;
	esac
	for x in $line; do
		case $x in
		@*) expand "$x" ;;
		*) echo "$x" ;;
		esac
	done >> "$out"
done
sort -u "$tmp/allow" > "$tmp/allow.s"
sort -u "$tmp/deny" > "$tmp/deny.s"
comm -23 "$tmp/allow.s" "$tmp/deny.s" > "$tmp/unit"

clock=$(expand @clock | sort -u | comm -12 - "$tmp/unit" | tr '\n' ' ')
if [ -n "$clock" ]; then
	echo "test_unit: FAIL: the unit allows @clock calls: $clock"
	exit 1
fi

filter=${FB_BUILDDIR:-.}/tests/test_sandbox
if [ -x "$filter" ]; then
	"$filter" --print-filter parent |
	    sed -n 's/.*filter for syscall "\([a-z0-9_]*\)".*/\1/p' |
	    sort -u > "$tmp/ours"
	missing=$(comm -23 "$tmp/ours" "$tmp/unit" | grep -vx 'clock_adjtime\(64\)\?' || true)
	if [ -n "$missing" ]; then
		echo "test_unit: FAIL: allowed by daemon/sandbox/sandbox.c but not by the unit's SystemCallFilter=:"
		echo "$missing"
		exit 1
	fi
	echo "test_unit: the unit allows all $(wc -l < "$tmp/ours") syscalls of the daemon's filters"
else
	echo "test_unit: tests/test_sandbox not built: filter comparison skipped"
fi
echo "test_unit: PASS"
