#!/bin/bash
# NPU segments (docs/performance.md, issue 12): on an NPU backend every
# shared model run with its consecutive NPU operators joined into one job
# each (the default) and with one job per operator (QNPU_NPU_SEGMENT=0):
# outputs byte-identical to each other and to golden on every input;
# `qnpu profile`'s job count is what the model's layout makes it (ResNet-8,
# its RESHAPE a view: 1 job per inference; per operator: one per NPU
# operator with a job); the per-layer cycles add up to the job's total;
# and the cost model predicts each joined stream exactly (est_cycles ==
# the RTL's cycles; on ideal memory and on the default memory of the
# backend's configuration).
# Usage: segment.sh QNPU_BIN BACKEND
set -u
qnpu=$1 backend=$2
. "$(dirname "$0")/lib.sh"
pass=0 fail=0

# profile.json -> "jobs npu_jobs cycles est_cycles layer_sum" where
# npu_jobs counts the NPU operators with cycles (each a job of its own
# when not joined)
summary() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["total"]
npu = [l for l in d["layers"] if l["where"] == "npu"]
print(t["jobs"], sum(1 for l in npu if l["cycles"]), t["cycles"],
      t["est_cycles"], sum(l["cycles"] for l in npu))
PY
}

for m in "$M"/tflite/*.tflite; do
	model=$(basename "$m" .tflite)
	goldens=("$M/golden/$model"/*.out.int8.bin)
	id0=$(basename "${goldens[0]}" .out.int8.bin)
	if ! profile_on_off QNPU_NPU_SEGMENT "$model" "$m" "$id0"; then
		echo "FAIL: $model: qnpu profile failed"
		fail=$((fail + 1))
		continue
	fi
	read -r sj sn sc se ss < <(summary "$tmp/on.json")
	read -r oj on oc oe os < <(summary "$tmp/off.json")
	f0=$fail
	# one job per NPU operator when not joined; fewer when joined,
	# unless no two NPU operators are neighbours
	if [ "$oj" != "$on" ] || [ "$sj" -gt "$oj" ] ||
	   { [ "$on" -gt 1 ] && [ "$sj" -ge "$oj" ]; }; then
		echo "FAIL: $model: $sj jobs joined, $oj per operator for $on NPU operators"
		fail=$((fail + 1))
	fi
	if [ "$model" = mlperf_tiny_ic_resnet8 ] && [ "$sj" != 1 ]; then
		echo "FAIL: $model: $sj jobs per inference, not 1"
		fail=$((fail + 1))
	fi
	if [ "$sc" != "$ss" ] || [ "$oc" != "$os" ]; then
		echo "FAIL: $model: layers add up to $ss of $sc cycles (per operator: $os of $oc)"
		fail=$((fail + 1))
	fi
	if [ "$sc" != "$se" ] || [ "$oc" != "$oe" ]; then
		echo "FAIL: $model: cost model $se for $sc cycles joined, $oe for $oc per operator"
		fail=$((fail + 1))
	fi
	on_off_golden QNPU_NPU_SEGMENT "joined, per-operator" "$model" "$m" "${goldens[@]}"
	[ "$fail" = "$f0" ] &&
		echo "ok: $model: $sj jobs ($oj per operator), $sc cycles ($oc per operator), ${#goldens[@]} inputs identical"
done
echo "segments on $backend: $pass inputs passed, $fail failed"
[ "$fail" = 0 ]
