#!/bin/sh
# verilator --lint-only -Wall over the RTL for every built configuration.
# Waivers live only in hw-model/lint/qnpu.vlt, each with its reason.
set -e
cd "$(dirname "$0")/../.."
V=${VERILATOR:-verilator}
RTL="hw-model/rtl/qnpu_pkg.sv hw-model/rtl/qnpu_math_pkg.sv hw-model/rtl/qnpu_fifo.sv
hw-model/rtl/qnpu_sram.sv hw-model/rtl/qnpu_perf.sv hw-model/rtl/qnpu_cmd_proc.sv
hw-model/rtl/qnpu_burst.sv hw-model/rtl/qnpu_load.sv hw-model/rtl/qnpu_store.sv hw-model/rtl/qnpu_ppu.sv
hw-model/rtl/qnpu_compute.sv hw-model/rtl/qnpu_top.sv"
for cfg in \
	"-GRows=8 -GCols=8 -GAbufBytes=32768 -GWbufBytes=16384 -GPbufBytes=2048 -GObufBytes=16384" \
	"-GRows=16 -GCols=16 -GAbufBytes=65536 -GWbufBytes=32768 -GPbufBytes=4096 -GObufBytes=32768" \
	"-GRows=32 -GCols=32 -GAbufBytes=131072 -GWbufBytes=65536 -GPbufBytes=8192 -GObufBytes=65536"; do
	echo "lint: $cfg"
	# shellcheck disable=SC2086
	$V --lint-only -Wall --unroll-count 4 --top-module qnpu_top $cfg hw-model/lint/qnpu.vlt $RTL
done
echo "lint: clean"
