#!/bin/bash
# Golden test: every input of one shared model through `qnpu run`, output
# compared byte for byte with TFLite's; the per-layer dump compared file by
# file with golden/<model>/layers_<id>/. On an NPU backend, also that every
# operator the NPU implements ran there (`qnpu profile`): the bytes alone
# would match just as well after a fall back to the CPU.
# Usage: golden.sh QNPU_BIN MODEL_NAME|ALL [BACKEND [first]]
# With "first", only the first input of each model (and no layer dump).
set -u
qnpu=$1 model=$2 backend=${3:-cpu} only_first=${4:-}
# QNPU_GOLDEN_THREADS=N runs with --threads=N (golden-cpu-paths.sh).
threads=${QNPU_GOLDEN_THREADS:+--threads=$QNPU_GOLDEN_THREADS}
. "$(dirname "$0")/lib.sh"
pass=0 fail=0
if [ "$model" = ALL ]; then
	rc=0
	for m in "$M"/tflite/*.tflite; do
		"$0" "$qnpu" "$(basename "$m" .tflite)" "$backend" \
			"$only_first" || rc=1
	done
	exit $rc
fi

goldens=("$M/golden/$model"/*.out.int8.bin)
[ -n "$only_first" ] && goldens=("${goldens[0]}")
for golden in "${goldens[@]}"; do
	id=$(basename "$golden" .out.int8.bin)
	# shellcheck disable=SC2046
	if ! "$qnpu" run --backend="$backend" $threads $(input_args "$model" "$id") \
		--output="$tmp/out.bin" "$M/tflite/$model.tflite"; then
		echo "FAIL: $model $id: qnpu run failed"; fail=$((fail + 1))
	elif ! cmp "$tmp/out.bin" "$golden"; then
		echo "FAIL: $model $id: output differs from golden"
		fail=$((fail + 1))
	else
		echo "ok: $model $id ($(stat -c %s "$golden") bytes identical)"
		pass=$((pass + 1))
	fi
done

# The operators the NPU implements (DESIGN.md section 1, docs/hw-spec.md).
NPU_OPS='CONV_2D|DEPTHWISE_CONV_2D|FULLY_CONNECTED|ADD|AVERAGE_POOL_2D|MAX_POOL_2D'
# Profile one inference; every NPU operator must say "npu" and have taken
# device cycles, or "fused": an ADD computed in the epilogue of the
# convolution producing an operand, a 1x1 convolution computed by the job
# of a convolution of the same input (which took the cycles). Prints the
# offenders.
npu_ops_ran_on_npu() {	# id
	# shellcheck disable=SC2046
	"$qnpu" profile --backend="$backend" --format=json $(input_args "$model" "$1") \
		"$M/tflite/$model.tflite" >"$tmp/profile.json" || return 1
	sed -n 's/.*"index": \([0-9]*\), "op": "\([A-Z0-9_]*\)", "where": "\([a-z]*\)", "macs": [0-9]*, "cycles": \([0-9]*\),.*/\1 \2 \3 \4/p' \
		"$tmp/profile.json" | awk -v ops="^($NPU_OPS)\$" '
		{ n++ }
		$2 ~ ops && ($3 != "npu" || $4 == 0) && $3 != "fused" {
			printf "op %s %s ran on %s, %s device cycles\n", $1, $2, $3, $4
			bad++
		}
		END { if (!n) print "no layers in the profile"; exit !n || bad }'
}

case $backend in
cpu) ;;
*)
	id=$(basename "${goldens[0]}" .out.int8.bin)
	if npu_ops_ran_on_npu "$id"; then
		echo "ok: $model $id: every NPU operator ran on the NPU"
		pass=$((pass + 1))
	else
		echo "FAIL: $model $id: an NPU operator did not run on the NPU"
		fail=$((fail + 1))
	fi
	;;
esac

for layers in "$M/golden/$model"/layers_*; do
	[ -n "$only_first" ] && break
	id=${layers##*/layers_}
	id=${id%_x0}	# a layer dump of a stacked input is of its first
	# shellcheck disable=SC2046
	if ! "$qnpu" run --backend="$backend" $threads $(input_args "$model" "$id") \
		--output="$tmp/out.bin" --dump-layers="$tmp/layers" \
		"$M/tflite/$model.tflite"; then
		echo "FAIL: $model layers_$id: qnpu run failed"
		fail=$((fail + 1))
	elif ! diff -r "$tmp/layers" "$layers"; then
		echo "FAIL: $model layers_$id: per-layer outputs differ"
		fail=$((fail + 1))
	else
		echo "ok: $model layers_$id ($(ls "$layers" | wc -l) files identical)"
		pass=$((pass + 1))
	fi
done
echo "$model on $backend: $pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
