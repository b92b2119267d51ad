#!/bin/bash
# The model cache drops a configuration's stale models once it has built
# the current one (hw-model/capi/qnpu_hw_cache_prune.sh, run by
# qnpu_hw_build.sh): other hashes of the same key go with their logs and
# locks; the current one, other keys, names that are not models and an
# entry whose lock another process holds stay.
# Usage: test_cache_prune.sh
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
prune=$here/hw-model/capi/qnpu_hw_cache_prune.sh
dir=$(mktemp -d "${TMPDIR:-/tmp}/qnpu-cache-prune.XXXXXX")
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$dir"' EXIT
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

key=r8c32-a65536-w32768-p4096-o32768-d16-q16
other=r16c16-a16384-w2048-p512-o1024-d16-q16
keep=0123456789ab stale=ba9876543210 held=aaaaaaaaaaaa
for e in "$key-$keep" "$key-$stale" "$key-$held" "$other-$stale" \
	"$key-$stale.tmp.123" "$key-xyz"; do
	mkdir -p "$dir/$e"
	echo so >"$dir/$e/model.so"
	echo log >"$dir/$e.log"
	: >"$dir/$e.lock"
done
# a failed build of older sources: only its log and lock
failed=fedcba987654
echo log >"$dir/$key-$failed.log"
: >"$dir/$key-$failed.lock"
# another tree building (or holding) this one
# shellcheck disable=SC2016  # $1 is the inner shell's
sh -c 'exec 9>>"$1"; flock 9; exec sleep 30' sh "$dir/$key-$held.lock" &
holder=$!
for _ in $(seq 50); do
	flock -n "$dir/$key-$held.lock" true || break
	sleep 0.1
done

if sh "$prune" "$dir" "$key" "$keep"; then
	ok "exit 0"
else
	bad "exit status"
fi
gone() {
	if [ -e "$dir/$1" ] || [ -e "$dir/$1.log" ] || [ -e "$dir/$1.lock" ]; then
		bad "$1 still there: $(echo "$dir"/*)"
	else
		ok "$1 removed with its log and lock"
	fi
}
kept() {
	if [ -f "$dir/$1/model.so" ] && [ -f "$dir/$1.log" ]; then
		ok "$1 kept"
	else
		bad "$1 removed"
	fi
}
gone "$key-$stale"
gone "$key-$failed"
kept "$key-$keep"
kept "$key-$held"
kept "$other-$stale"
kept "$key-$stale.tmp.123"
kept "$key-xyz"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=
# once released, the next prune takes it
sh "$prune" "$dir" "$key" "$keep"
gone "$key-$held"
kept "$key-$keep"
# usage
if sh "$prune" "$dir" "$key" 2>/dev/null; then
	bad "no hash accepted"
else
	ok "usage error without a hash"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
