#!/bin/bash
# The real TFLite runtime (run.sh: the C++ interpreter + XNNPACK in WASM) as
# an oracle, on every shared INT8 model and all its golden inputs:
#  a) the original model in TFLite against our golden outputs (TFLite's
#     reference kernels, which qnpu matches bit for bit). XNNPACK rounds
#     once where the reference rounds twice, so a few LSB differ; softmax
#     outputs amplify a 1-LSB logit difference. Reported per model, and
#     held to QNPU_TFLITE_MAX_LSB (default 32);
#  b) the model imported and written back by qnpu's TFLite writer: TFLite
#     must load it, its outputs must equal TFLite's on the original
#     bit for bit (same runtime, same content) and so lie within the same
#     bound of our golden.
# mlperf_tiny_ic_resnet8 must pass (a). A model TFLite refuses in its
# original form (person_detect: 1-D biases with quantized_dimension 3) is
# reported, and its written form must load and pass (b) against the golden.
# Exit 77 (SKIP) only when node/npm are missing or npm's registry is
# unreachable for the one-time install (run.sh says which).
# Usage: test_tflite_runtime.sh TFLITE_REWRITE_BIN
set -u
rewrite=$1
here=$(cd "$(dirname "$0")" && pwd)
M=${QNPU_MODELS:-../shared/models}
tol=${QNPU_TFLITE_MAX_LSB:-32}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

# All golden inputs and outputs of model $1, stacked: $tmp/$1/in{0,1}.bin,
# $tmp/$1/golden.bin; prints the input files.
stack() {
	local m=$1 d=$tmp/$1 golden id
	mkdir -p "$d"
	: >"$d/golden.bin"
	for golden in "$M/golden/$m"/*.out.int8.bin; do
		id=$(basename "$golden" .out.int8.bin)
		if [ -f "$M/inputs/$m/$id.int8.bin" ]; then
			cat "$M/inputs/$m/$id.int8.bin" >>"$d/in0.bin"
		else
			cat "$M/inputs/$m/$id.in0.int8.bin" >>"$d/in0.bin"
			cat "$M/inputs/$m/$id.in1.int8.bin" >>"$d/in1.bin"
		fi
		cat "$golden" >>"$d/golden.bin"
	done
	ls "$d"/in*.bin
}

# run MODEL OUT_DIR IN... -> 0, 1 (log in OUT_DIR.log); 77 ends the test.
run() {
	local out=$2
	"$here/run.sh" "$@" >"$out.log" 2>&1
	local rc=$?
	if [ $rc = 77 ]; then
		grep SKIP "$out.log"
		exit 77
	fi
	return $rc
}

within() {	# A B what -> ok/bad by the LSB bound
	local d
	d=$(node "$here/lsb_diff.cjs" "$1" "$2")
	local max=${d#max }
	max=${max%% *}
	if [ "${d#sizes}" != "$d" ] || [ "$max" -gt "$tol" ]; then
		bad "$3: $d (bound $tol)"
	else
		ok "$3: $d"
	fi
}

for model in "$M"/tflite/*.tflite; do
	m=$(basename "$model" .tflite)
	# shellcheck disable=SC2046
	set -- $(stack "$m")
	n=$(ls "$M/golden/$m"/*.out.int8.bin | wc -l)

	# a) the original in TFLite against our golden
	orig_ok=0
	if run "$model" "$tmp/$m/orig" "$@"; then
		orig_ok=1
		within "$tmp/$m/orig/out0.bin" "$tmp/$m/golden.bin" \
			"$m: TFLite vs golden, $n golden files"
	elif [ "$m" = mlperf_tiny_ic_resnet8 ]; then
		bad "$m: TFLite cannot run the original: $(grep -m1 -v INFO "$tmp/$m/orig.log")"
	else
		echo "note: $m: TFLite refuses the original: $(grep -m1 ERROR "$tmp/$m/orig.log" || tail -1 "$tmp/$m/orig.log")"
	fi

	# b) written by qnpu's writer
	if ! "$rewrite" "$model" "$tmp/$m/written.tflite"; then
		bad "$m: the writer failed"
		continue
	fi
	if ! run "$tmp/$m/written.tflite" "$tmp/$m/written" "$@"; then
		bad "$m: TFLite cannot run the written model: $(grep -v INFO "$tmp/$m/written.log" | head -3 | tr '\n' ' ')"
		continue
	fi
	ok "$m: TFLite loads and runs the written model ($(stat -c %s "$tmp/$m/written.tflite") bytes, original $(stat -c %s "$model"))"
	if [ $orig_ok = 1 ]; then
		if cmp -s "$tmp/$m/written/out0.bin" "$tmp/$m/orig/out0.bin"; then
			ok "$m: written == original in TFLite ($(stat -c %s "$tmp/$m/orig/out0.bin") bytes identical)"
		else
			bad "$m: written and original differ in TFLite: $(node "$here/lsb_diff.cjs" "$tmp/$m/written/out0.bin" "$tmp/$m/orig/out0.bin")"
		fi
	fi
	within "$tmp/$m/written/out0.bin" "$tmp/$m/golden.bin" \
		"$m: written model in TFLite vs golden"
done
echo "TFLite runtime: $pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
