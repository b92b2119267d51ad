#!/bin/bash
# Fused residual ADDs (docs/codesign.md): on an NPU backend, every shared
# model with an ADD run with fusion (the default) and without
# (QNPU_NPU_FUSE=0) on every input: both outputs byte-identical to each
# other and to golden; the fused run must really have fused an ADD where
# the model has a convolution feeding one (`qnpu profile`: "fused"), the
# unfused one none.
# Usage: fuse.sh QNPU_BIN BACKEND
set -u
qnpu=$1 backend=$2
. "$(dirname "$0")/lib.sh"
pass=0 fail=0 models=0

fused_adds() {	# model [env] -> number of ADDs the profile says are fused
	# shellcheck disable=SC2046
	env "${@:2}" "$qnpu" profile --backend="$backend" --format=json \
		$(input_args "$1" "$id0") "$M/tflite/$1.tflite" |
		grep -c '"op": "ADD", "where": "fused"'
}

for m in "$M"/tflite/*.tflite; do
	model=$(basename "$m" .tflite)
	"$qnpu" inspect "$m" 2>/dev/null | grep -qw ADD || continue
	models=$((models + 1))
	goldens=("$M/golden/$model"/*.out.int8.bin)
	id0=$(basename "${goldens[0]}" .out.int8.bin)
	nf=$(fused_adds "$model")
	nu=$(fused_adds "$model" QNPU_NPU_FUSE=0)
	convs=$("$qnpu" inspect "$m" | grep -cw -e CONV_2D -e DEPTHWISE_CONV_2D)
	if [ "$nu" != 0 ] || { [ "$convs" != 0 ] && [ "$nf" = 0 ]; }; then
		echo "FAIL: $model: $nf ADDs fused by default, $nu with QNPU_NPU_FUSE=0"
		fail=$((fail + 1))
		continue
	fi
	f0=$fail p0=$pass
	for golden in "${goldens[@]}"; do
		id=$(basename "$golden" .out.int8.bin)
		# shellcheck disable=SC2046
		if ! "$qnpu" run --backend="$backend" $(input_args "$model" "$id") \
			--output="$tmp/fused.bin" "$m" ||
		   ! QNPU_NPU_FUSE=0 "$qnpu" run --backend="$backend" \
			$(input_args "$model" "$id") --output="$tmp/unfused.bin" "$m"; then
			echo "FAIL: $model $id: qnpu run failed"
			fail=$((fail + 1))
		elif ! cmp "$tmp/fused.bin" "$tmp/unfused.bin" ||
		     ! cmp "$tmp/fused.bin" "$golden"; then
			echo "FAIL: $model $id: fused and unfused outputs differ (or differ from golden)"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
	[ $fail -eq "$f0" ] &&
		echo "ok: $model: $nf ADDs fused; $((pass - p0)) inputs identical fused, unfused and golden"
done
echo "fusion on $backend: $models models with ADDs, $pass inputs passed, $fail failed"
[ $models -gt 0 ] && [ $pass -gt 0 ] && [ $fail -eq 0 ]
