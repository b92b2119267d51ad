#!/bin/sh
# Remove a configuration's stale models from the model cache:
#   qnpu_hw_cache_prune.sh CACHE_DIR KEY KEEP_HASH
# Every CACHE_DIR/KEY-<hash> other than KEEP_HASH (with its .log and .lock)
# was built from sources that are gone (the hash covers them), so nothing
# of this tree loads it again. qnpu_hw_build.sh runs this once it has built
# KEY-KEEP_HASH. An entry whose lock someone holds (another source tree
# building it) is left alone; one a process has loaded stays mapped there.
set -u
cache=${1:-} key=${2:-} keep=${3:-}
[ -n "$keep" ] || { echo "usage: $0 CACHE_DIR KEY KEEP_HASH" >&2; exit 2; }
h='[0-9a-f]'
m=$h$h$h$h$h$h$h$h$h$h$h$h
# a model, or only the log and lock a failed build left
for old in "$cache/$key"-$m "$cache/$key"-$m.log "$cache/$key"-$m.lock; do
	[ -e "$old" ] || continue
	entry=${old%.log}
	entry=${entry%.lock}
	[ "$entry" = "$cache/$key-$keep" ] && continue
	# shellcheck disable=SC2094  # the lock is the file we remove last
	(
		flock -n 8 || exit 0
		rm -rf "$entry" "$entry.log" "$entry.lock"
	) 8>>"$entry.lock"
done
exit 0
