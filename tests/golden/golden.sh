#!/bin/bash
# Golden test: every input of one shared model through `qnpu run`, output
# compared byte for byte with TFLite's; the per-layer dump compared file by
# file with golden/<model>/layers_<id>/.
# Usage: golden.sh QNPU_BIN MODEL_NAME|ALL [BACKEND [first]]
# With "first", only the first input of each model (and no layer dump).
set -u
qnpu=$1 model=$2 backend=${3:-cpu} only_first=${4:-}
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
if [ "$model" = ALL ]; then
	rc=0
	for m in "$M"/tflite/*.tflite; do
		"$0" "$qnpu" "$(basename "$m" .tflite)" "$backend" \
			"$only_first" || rc=1
	done
	exit $rc
fi

input_args() {	# id -> the --input arguments for it
	local id=$1 dir=$M/inputs/$model
	if [ -f "$dir/$id.int8.bin" ]; then
		echo "--input=$dir/$id.int8.bin"
	else
		echo "--input=$dir/$id.in0.int8.bin --input=$dir/$id.in1.int8.bin"
	fi
}

goldens=("$M/golden/$model"/*.out.int8.bin)
[ -n "$only_first" ] && goldens=("${goldens[0]}")
for golden in "${goldens[@]}"; do
	id=$(basename "$golden" .out.int8.bin)
	# shellcheck disable=SC2046
	if ! "$qnpu" run --backend="$backend" $(input_args "$id") \
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

for layers in "$M/golden/$model"/layers_*; do
	[ -n "$only_first" ] && break
	id=${layers##*/layers_}
	id=${id%_x0}	# a layer dump of a stacked input is of its first
	# shellcheck disable=SC2046
	if ! "$qnpu" run --backend="$backend" $(input_args "$id") \
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
