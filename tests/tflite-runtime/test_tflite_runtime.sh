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
#  c) the float models on their eval inputs: the original in TFLite equals
#     ../shared/models/float/golden bit for bit (made with this same
#     runtime build: the harness reproduces it), and so does the written
#     model; the float-I/O model (QUANTIZE ... DEQUANTIZE) written equals
#     the original in TFLite.
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
# c) float models: bit-identical to the float golden, original and written
for model in "$M"/float/tflite/*.tflite; do
	m=$(basename "$model" .tflite)
	in=$M/float/inputs/$m/eval.f32.bin
	golden=$M/float/golden/$m/eval.out.f32.bin
	[ -f "$in" ] && [ -f "$golden" ] || continue
	mkdir -p "$tmp/$m"
	"$rewrite" "$model" "$tmp/$m/written.tflite" || { bad "$m: the writer failed"; continue; }
	for which in orig written; do
		f=$model
		[ $which = written ] && f=$tmp/$m/written.tflite
		if ! run "$f" "$tmp/$m/$which" "$in"; then
			bad "$m ($which): TFLite cannot run it: $(grep -v INFO "$tmp/$m/$which.log" | head -3 | tr '\n' ' ')"
		elif cmp -s "$tmp/$m/$which/out0.bin" "$golden"; then
			ok "$m ($which): TFLite output == float golden ($(stat -c %s "$golden") bytes)"
		else
			bad "$m ($which): TFLite output differs from the float golden"
		fi
	done
done

# The float-I/O INT8 model: written == original in TFLite on float inputs.
model=$M/unsupported/mlperf_tiny_ad_toycar_float_io.tflite
if [ -f "$model" ]; then
	m=float_io
	mkdir -p "$tmp/$m"
	node -e '
		const a = new Float32Array(640 * 4);
		for (let i = 0; i < a.length; i++) a[i] = ((i * 37) % 101) * 0.9 - 80;
		require("fs").writeFileSync(process.argv[1], Buffer.from(a.buffer));
	' "$tmp/$m/in.f32.bin"
	if ! "$rewrite" "$model" "$tmp/$m/written.tflite"; then
		bad "$m: the writer failed"
	elif ! run "$model" "$tmp/$m/orig" "$tmp/$m/in.f32.bin" ||
	     ! run "$tmp/$m/written.tflite" "$tmp/$m/written" "$tmp/$m/in.f32.bin"; then
		bad "$m: TFLite cannot run it: $(cat "$tmp/$m"/*.log | grep -v INFO | head -3 | tr '\n' ' ')"
	elif cmp -s "$tmp/$m/orig/out0.bin" "$tmp/$m/written/out0.bin"; then
		ok "$(basename "$model" .tflite): written == original in TFLite ($(stat -c %s "$tmp/$m/orig/out0.bin") bytes, QUANTIZE/DEQUANTIZE)"
	else
		bad "$m: written and original differ in TFLite"
	fi
fi
echo "TFLite runtime: $pass passed, $fail failed"
[ $pass -gt 0 ] && [ $fail -eq 0 ]
