#!/bin/bash
# A short libFuzzer run of the importer (and, with a DTB, the NPU compiler
# and the compiled-model reader) from the seed corpus: every seed replays,
# then a bounded number of mutations. The corpus is copied so make check
# never grows the one `make fuzz` uses.
# Usage: smoke.sh FUZZ_BIN CORPUS [TARGET_DTB]
set -u
bin=$1 corpus=$2
[ -n "${3:-}" ] && export QNPU_FUZZ_TARGET=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus"/* "$work"/
exec "$bin" -artifact_prefix="${FUZZ_ARTIFACTS:-$work/}" -runs=3000 -max_len=400000 -rss_limit_mb=2048 \
	-seed=1 "$work"
