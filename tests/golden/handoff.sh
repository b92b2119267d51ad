#!/bin/bash
# On-chip handoff (docs/performance.md, issue 12): on an NPU backend every
# shared model runs with layer outputs kept in ABUF for the next layer
# where the joiner proves it (the default) and without (QNPU_NPU_HANDOFF=0):
# outputs byte-identical to each other and to golden on every input; the
# cost model predicts both joined streams exactly; the handoff never costs
# cycles; and on the depthwise models (DS-CNN, person_detect) it happens:
# fewer cycles and fewer DMA bytes.
# Usage: handoff.sh QNPU_BIN BACKEND
set -u
qnpu=$1 backend=$2
. "$(dirname "$0")/lib.sh"
pass=0 fail=0

# profile.json -> "cycles est_cycles dma_bytes"
summary() {
	python3 - "$1" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["total"]
print(t["cycles"], t["est_cycles"], t["dma_in"] + t["dma_out"])
PY
}

for m in "$M"/tflite/*.tflite; do
	model=$(basename "$m" .tflite)
	goldens=("$M/golden/$model"/*.out.int8.bin)
	id0=$(basename "${goldens[0]}" .out.int8.bin)
	if ! profile_on_off QNPU_NPU_HANDOFF "$model" "$m" "$id0"; then
		echo "FAIL: $model: qnpu profile failed"
		fail=$((fail + 1))
		continue
	fi
	read -r hc he hd < <(summary "$tmp/on.json")
	read -r oc oe od < <(summary "$tmp/off.json")
	f0=$fail
	if [ "$hc" != "$he" ] || [ "$oc" != "$oe" ]; then
		echo "FAIL: $model: cost model $he for $hc cycles with handoff, $oe for $oc without"
		fail=$((fail + 1))
	fi
	if [ "$hc" -gt "$oc" ]; then
		echo "FAIL: $model: $hc cycles with handoff, $oc without"
		fail=$((fail + 1))
	fi
	case $model in
	mlperf_tiny_kws_dscnn|tflm_person_detect)
		if [ "$hc" -ge "$oc" ] || [ "$hd" -ge "$od" ]; then
			echo "FAIL: $model: no handoff ($hc cycles, $hd DMA bytes; without: $oc, $od)"
			fail=$((fail + 1))
		fi
	esac
	on_off_golden QNPU_NPU_HANDOFF "with and without handoff" "$model" "$m" "${goldens[@]}"
	[ "$fail" = "$f0" ] &&
		echo "ok: $model: $hc cycles, $hd DMA bytes ($oc, $od without handoff), ${#goldens[@]} inputs identical"
done
echo "handoff on $backend: $pass inputs passed, $fail failed"
[ "$fail" = 0 ]
