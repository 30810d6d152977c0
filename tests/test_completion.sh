#!/bin/bash
# test_completion.sh - the bash completion of fieldbridge(1) and
# fieldbridged(8) offers every subcommand and every option their usage
# texts name, and nothing for a value the user must type.
# Exit 0 pass, 1 fail.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tools/bash-completion/fieldbridge"
fails=0

# complete WORDS...: COMPREPLY for the last word.
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	case $1 in
	fieldbridge) _fieldbridge ;;
	fieldbridged) _fieldbridged ;;
	esac
	printf '%s\n' "${COMPREPLY[@]}"
}

# expect NAME WANT WORDS...: WANT among the completions.
expect() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@")
	if grep -qx -- "$want" <<<"$got"; then
		echo "ok - $name"
	else
		echo "not ok - $name: '$want' not in: $(echo $got)"
		fails=$((fails + 1))
	fi
}

# none NAME WORDS...: no completion at all.
none() {
	local name=$1 got
	shift
	got=$(complete_words "$@")
	if [ -z "$got" ]; then
		echo "ok - $name"
	else
		echo "not ok - $name: got $(echo $got)"
		fails=$((fails + 1))
	fi
}

for c in check device status ports; do
	expect "subcommand $c" "$c" fieldbridge ""
done
for o in --stream --name --class --record; do
	expect "device add $o" "$o" fieldbridge device add 70B3D57ED0001001 ""
done
for o in --json --stale-after --state-dir; do
	expect "status $o" "$o" fieldbridge status ""
done
expect "check --connect" --connect fieldbridge check ""
expect "ports --probe" --probe fieldbridge ports ""
expect "daemon --check" --check fieldbridged ""
none "a class is typed" fieldbridge device add 70B3D57ED0001001 --class ""
none "a name is typed" fieldbridge device add 70B3D57ED0001001 --name ""
exit $((fails > 0))
