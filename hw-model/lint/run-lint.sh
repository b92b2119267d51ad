#!/bin/sh
# verilator --lint-only -Wall over the RTL files given (make lint passes them
# in compile order) for every built configuration: each dts/qnpu-<name>.dts,
# and the test configurations of tests/codesign (non-square, a DMA port
# narrower than a word, the smallest SRAMs), their parameters read by
# scripts/hw_configs.py. Waivers live only in
# hw-model/lint/qnpu.vlt, each with its reason.
set -e
cd "$(dirname "$0")/../.."
V=${VERILATOR:-verilator}
[ $# -gt 0 ] || { echo "usage: $0 RTL.sv..." >&2; exit 2; }
for dts in dts/qnpu-*.dts tests/codesign/qnpu-*.dts; do
	cfg=$(python3 scripts/hw_configs.py --vflags "$dts")
	echo "lint: $dts: $cfg"
	# shellcheck disable=SC2086
	$V --lint-only -Wall --unroll-count 4 --top-module qnpu_top $cfg hw-model/lint/qnpu.vlt "$@"
done
echo "lint: clean"
