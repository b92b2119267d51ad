#!/bin/bash
# One input per shared model through `qnpu run` under valgrind memcheck:
# no invalid access, no uninitialised use, no leak; output still golden.
# Usage: golden-valgrind.sh QNPU_BIN [BACKEND]
set -u
qnpu=$1 backend=${2:-cpu}
M=${QNPU_MODELS:-../shared/models}
if ! command -v valgrind >/dev/null; then
	echo "SKIP: valgrind not installed"; exit 77
fi
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for model in "$M"/tflite/*.tflite; do
	name=$(basename "$model" .tflite)
	golden=$(ls "$M/golden/$name"/*.out.int8.bin | head -1)
	id=$(basename "$golden" .out.int8.bin)
	if [ -f "$M/inputs/$name/$id.int8.bin" ]; then
		args="--input=$M/inputs/$name/$id.int8.bin"
	else
		args="--input=$M/inputs/$name/$id.in0.int8.bin --input=$M/inputs/$name/$id.in1.int8.bin"
	fi
	# shellcheck disable=SC2086
	if ! valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect \
		"$qnpu" run --backend="$backend" $args --output="$tmp/o.bin" \
		"$model" 2>"$tmp/vg.log"; then
		echo "FAIL: $name $id under valgrind:"; cat "$tmp/vg.log"
		fail=1
	elif ! cmp -s "$tmp/o.bin" "$golden"; then
		echo "FAIL: $name $id: output differs under valgrind"; fail=1
	else
		echo "ok: $name $id valgrind-clean and golden"
	fi
done
exit $fail
