#!/bin/bash
# ABUF relayout for the on-chip handoff (docs/performance.md, issue 12):
# on an NPU backend every shared model runs with the handoff renaming ABUF
# words where the streams as emitted do not allow it (the default) and
# without (QNPU_NPU_RELAYOUT=0): outputs byte-identical to each other and
# to golden on every input; the cost model predicts both joined streams
# exactly; the relayout never costs cycles; and on person_detect it
# happens (its 48x48 and 24x24 layers hand off): fewer cycles and DMA bytes.
# Usage: relayout.sh QNPU_BIN BACKEND
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
	if ! profile_on_off QNPU_NPU_RELAYOUT "$model" "$m" "$id0"; then
		echo "FAIL: $model: qnpu profile failed"
		fail=$((fail + 1))
		continue
	fi
	read -r rc re rd < <(summary "$tmp/on.json")
	read -r oc oe od < <(summary "$tmp/off.json")
	f0=$fail
	if [ "$rc" != "$re" ] || [ "$oc" != "$oe" ]; then
		echo "FAIL: $model: cost model $re for $rc cycles with relayout, $oe for $oc without"
		fail=$((fail + 1))
	fi
	if [ "$rc" -gt "$oc" ]; then
		echo "FAIL: $model: $rc cycles with relayout, $oc without"
		fail=$((fail + 1))
	fi
	if [ "$model" = tflm_person_detect ] &&
	   { [ "$rc" -ge "$oc" ] || [ "$rd" -ge "$od" ]; }; then
		echo "FAIL: $model: no relayout ($rc cycles, $rd DMA bytes; without: $oc, $od)"
		fail=$((fail + 1))
	fi
	on_off_golden QNPU_NPU_RELAYOUT "with and without relayout" "$model" "$m" "${goldens[@]}"
	[ "$fail" = "$f0" ] &&
		echo "ok: $model: $rc cycles, $rd DMA bytes ($oc, $od without relayout), ${#goldens[@]} inputs identical"
done
echo "relayout on $backend: $pass inputs passed, $fail failed"
[ "$fail" = 0 ]
