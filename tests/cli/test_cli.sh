#!/bin/bash
# The qnpu CLI as a user meets it: help, bad arguments, bad inputs and
# unsupported models each give a one-line error on stderr and a non-zero
# exit, and leave no output file behind.
# Usage: test_cli.sh QNPU_BIN
set -u
qnpu=$1
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
resnet=$M/tflite/mlperf_tiny_ic_resnet8.tflite
rin=$M/inputs/mlperf_tiny_ic_resnet8/ic_sample0.int8.bin

ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

# expect_fail NAME PATTERN CMD...: non-zero exit, PATTERN in a one-line
# stderr, and no --output file left behind.
expect_fail() {
	local name=$1 pat=$2; shift 2
	rm -f "$tmp/out.bin"
	if "$@" >"$tmp/stdout" 2>"$tmp/stderr"; then
		bad "$name: exit 0"; return
	fi
	if ! grep -qF -- "$pat" "$tmp/stderr"; then
		bad "$name: stderr lacks \"$pat\": $(cat "$tmp/stderr")"; return
	fi
	if [ -e "$tmp/out.bin" ]; then
		bad "$name: left an output file"; return
	fi
	ok "$name: $(head -1 "$tmp/stderr")"
}

for c in "help" "run --help" "inspect --help" "--help"; do
	# shellcheck disable=SC2086
	if $qnpu $c >"$tmp/stdout" 2>&1 && grep -q usage "$tmp/stdout"; then
		ok "qnpu $c"
	else
		bad "qnpu $c"
	fi
done

expect_fail "no command" "usage" "$qnpu"
expect_fail "unknown command" 'unknown command "frobnicate"' "$qnpu" frobnicate
expect_fail "run without model" "need MODEL" "$qnpu" run --output="$tmp/out.bin"
expect_fail "missing model" "No such file" \
	"$qnpu" run --input="$rin" --output="$tmp/out.bin" "$tmp/nope.tflite"
expect_fail "missing input" "cannot read input" \
	"$qnpu" run --input="$tmp/nope.bin" --output="$tmp/out.bin" "$resnet"
head -c 3000 "$rin" >"$tmp/short.bin"
expect_fail "input of the wrong size" \
	"is 3000 bytes, not a multiple of input 0 (INT8 1x32x32x3, 3072 bytes)" \
	"$qnpu" run --input="$tmp/short.bin" --output="$tmp/out.bin" "$resnet"
: >"$tmp/empty.bin"
expect_fail "empty input" "is 0 bytes" \
	"$qnpu" run --input="$tmp/empty.bin" --output="$tmp/out.bin" "$resnet"
expect_fail "too many inputs" "model has 1 inputs, 2 --input given" \
	"$qnpu" run --input="$rin" --input="$rin" --output="$tmp/out.bin" "$resnet"
a0=$M/inputs/tflm_simple_add/rand_xorshift32_seed1.in0.int8.bin
cat "$a0" "$a0" >"$tmp/two.bin"
expect_fail "inputs with different counts" "holds 1 inferences, input $tmp/two.bin holds 2" \
	"$qnpu" run --input="$tmp/two.bin" --input="$a0" --output="$tmp/out.bin" \
	"$M/tflite/tflm_simple_add.tflite"
expect_fail "unknown backend" 'unknown device "nosuch"' \
	"$qnpu" run --backend=nosuch --input="$rin" --output="$tmp/out.bin" "$resnet"
expect_fail "bad thread count" "--threads=0: give a thread count from 1 to 1024" \
	"$qnpu" run --backend=cpu --threads=0 --input="$rin" --output="$tmp/out.bin" "$resnet"
expect_fail "unknown CPU path" "QNPU_CPU_ISA=sse9: unknown path" \
	env QNPU_CPU_ISA=sse9 "$qnpu" run --backend=cpu --input="$rin" --output="$tmp/out.bin" "$resnet"
head -c 1000 "$resnet" >"$tmp/trunc.tflite"
expect_fail "truncated model" "malformed model" \
	"$qnpu" run --input="$rin" --output="$tmp/out.bin" "$tmp/trunc.tflite"
expect_fail "not a model" 'file identifier is not "TFL3"' \
	"$qnpu" inspect "$rin"
U=$M/unsupported
expect_fail "int8 input to a float32 model" "not a multiple of input 0 (FLOAT32 1x32x32x3, 12288 bytes)" \
	"$qnpu" run --input="$rin" --output="$tmp/out.bin" "$U/mlperf_tiny_ic_resnet8_float32.tflite"
expect_fail "LSTM model" "unsupported operator 0: UNIDIRECTIONAL_SEQUENCE_LSTM (inputs INT8" \
	"$qnpu" inspect "$U/tflm_mnist_lstm_int8.tflite"
expect_fail "SVDF model" "unsupported operator 1: SVDF (inputs INT8, INT8, INT8, INT32, INT8 -> outputs INT8)" \
	"$qnpu" inspect "$U/tflm_keyword_scrambled_8bit_svdf.tflite"
expect_fail "custom-op model" 'unsupported operator 0: CUSTOM "SignalWindow" (inputs INT16, INT16 -> outputs INT16)' \
	"$qnpu" inspect "$U/tflm_audio_preprocessor_int8_signal_custom_ops.tflite"
for f in "$tmp/stderr"; do
	[ "$(wc -l <"$f")" -le 1 ] || bad "error output is more than one line"
done

# Float in, float out: 40 windows of 640 floats give 40 outputs.
f32=$M/inputs/mlperf_tiny_ad_fc_autoencoder/normal_id_01_00000000_hist_librosa.f32.bin
if "$qnpu" run --input="$f32" --output="$tmp/f.bin" \
	"$U/mlperf_tiny_ad_toycar_float_io.tflite" 2>"$tmp/stderr" &&
	[ "$(stat -c %s "$tmp/f.bin")" = "$(stat -c %s "$f32")" ]; then
	ok "float QUANTIZE/DEQUANTIZE model runs on $(($(stat -c %s "$f32") / 2560)) windows"
else
	bad "float QUANTIZE/DEQUANTIZE model: $(cat "$tmp/stderr")"
fi

# inspect's MACs agree with the independently made summary.json.
for model in "$M"/tflite/*.tflite; do
	name=$(basename "$model" .tflite)
	want=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]['subgraphs'][0]['macs'])" \
		"$M/summary.json" "$name")
	got=$("$qnpu" inspect "$model" | sed -n 's/^total MACs: //p')
	if [ "$got" = "$want" ]; then
		ok "inspect $name: $got MACs"
	else
		bad "inspect $name: $got MACs, summary.json says $want"
	fi
done

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
