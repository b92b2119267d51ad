#!/bin/bash
# The compiler's cost model against the RTL: every shared model (one
# inference) on each configuration given, the cycles `qnpu profile`
# measures on the Verilated RTL against the est_cycles the compiler
# predicted for the same command streams. Fails if a model's total or any
# NPU layer is off by more than 10 %; prints the table either way. Each
# model twice: its NPU segments joined into one job each (the default: the
# total is the joined stream's; its layers are split by the cost model's
# own timeline, so only the total tests it) and one job per operator
# (QNPU_NPU_SEGMENT=0: every layer's stream on its own).
# Usage: test_cost_model.sh QNPU_BIN DTB...
set -u
qnpu=$1
shift
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
printf '%-14s %-36s %10s %10s %8s %12s\n' config model rtl estimate error worst-layer
for dtb in "$@"; do
	cfg=$(basename "$dtb" .dtb)
	for m in "$M"/tflite/*.tflite; do
	for seg in 1 0; do
		model=$(basename "$m" .tflite)
		[ $seg = 0 ] && model="$model/per-op"
		if ! QNPU_NPU_SEGMENT=$seg "$qnpu" profile --target="$dtb" \
			--format=json "$m" >"$tmp/p.json"; then
			echo "FAIL: $cfg $model: qnpu profile failed"
			rc=1
			continue
		fi
		python3 - "$tmp/p.json" "$cfg" "$model" <<'PY' || rc=1
import json, sys
d = json.load(open(sys.argv[1]))
cfg, model = sys.argv[2], sys.argv[3]
worst, bad = 0.0, []
for l in d["layers"]:
    if l["where"] != "npu":
        continue
    if not l["cycles"] or not l["est_cycles"]:
        bad.append(f'layer {l["index"]} has no cycles or no estimate')
        continue
    e = abs(l["est_cycles"] - l["cycles"]) / l["cycles"]
    worst = max(worst, e)
    if e > 0.10:
        bad.append(f'layer {l["index"]} ({l["op"]}): {l["est_cycles"]} vs {l["cycles"]}')
t = d["total"]
err = (t["est_cycles"] - t["cycles"]) / t["cycles"] if t["cycles"] else 1.0
if abs(err) > 0.10:
    bad.append(f'total {t["est_cycles"]} vs {t["cycles"]}')
print(f'{cfg:14s} {model:36s} {t["cycles"]:10d} {t["est_cycles"]:10d} {100*err:+7.2f}% {100*worst:11.2f}%')
for b in bad:
    print(f"FAIL: {cfg} {model}: estimate beyond 10 %: {b}")
sys.exit(1 if bad else 0)
PY
	done
	done
done
[ $rc -eq 0 ] && echo "cost model within 10 % of the RTL on every model and layer"
exit $rc
