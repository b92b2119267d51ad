#!/bin/bash
# A short libFuzzer run of the importer from the seed corpus: every seed
# replays, then a bounded number of mutations. The corpus is copied so
# make check never grows the one `make fuzz` uses.
set -u
bin=$1 corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus"/* "$work"/
exec "$bin" -artifact_prefix="${FUZZ_ARTIFACTS:-$work/}" -runs=3000 -max_len=400000 -rss_limit_mb=2048 \
	-seed=1 "$work"
