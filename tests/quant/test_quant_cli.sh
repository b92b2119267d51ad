#!/bin/bash
# qnpu quantize and qnpu compare from the command line, on the shared float
# models: each quantized model runs byte-identical on the cpu and the
# simulated NPU (first N evaluation inputs; all with N=0) with every
# conv/depthwise/FC/add/pool on the NPU; every calibration method,
# --per-tensor and --float-io; compare's table, JSON and SVG; and each
# refusal with its one line. With "tflite" the written models also run in
# the real TFLite runtime (tests/tflite-runtime/run.sh) within the LSB
# XNNPACK differs from the reference, as the converter's own models do.
# Usage: test_quant_cli.sh QNPU_BIN [N [tflite]]
set -u
qnpu=$1 n=${2:-8} tflite=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
M=${QNPU_MODELS:-../shared/models}
F=$M/float
if [ ! -d "$F/tflite" ]; then
	echo "SKIP: float models not found at $F"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

expect_fail() {
	local name=$1 pat=$2; shift 2
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		bad "$name: exit 0"
	elif ! grep -qF -- "$pat" "$tmp/err"; then
		bad "$name: stderr lacks \"$pat\": $(cat "$tmp/err")"
	elif [ "$(wc -l <"$tmp/err")" != 1 ]; then
		bad "$name: more than one line: $(cat "$tmp/err")"
	else
		ok "$name: $(head -1 "$tmp/err")"
	fi
}

# The model input's scale and zero point (operator 0's first input).
input_q() {
	"$qnpu" inspect --backend=cpu "$1" |
		sed -n 's/^ *0  [A-Z_0-9]* .*  t[0-9]*:INT8:[0-9x]*:s=\([^ ]*\) zp=\([-0-9]*\),.*/\1 \2/p' |
		head -1
}

for m in mlperf_tiny_ic_resnet8 mlperf_tiny_kws_dscnn mlperf_tiny_ad_fc_autoencoder; do
	fm=$F/tflite/${m}_float.tflite
	calib=$F/inputs/${m}_float/calib.f32.bin
	eval=$F/inputs/${m}_float/eval.f32.bin
	out=$tmp/$m.tflite
	if ! "$qnpu" quantize -o "$out" --samples="$calib" "$fm" >"$tmp/out" 2>"$tmp/err"; then
		bad "$m: quantize: $(cat "$tmp/err")"
		continue
	fi
	ok "$m: $(cat "$tmp/out")"
	# Every compute operator on the NPU (an ADD may be fused into a
	# convolution producing an operand, a 1x1 convolution computed by the
	# job of a sibling reading the same input).
	"$qnpu" profile --backend=sim "$out" >"$tmp/prof" 2>&1
	if grep -E '^ +[0-9]+ +(CONV_2D|DEPTHWISE_CONV_2D|FULLY_CONNECTED|ADD|AVERAGE_POOL_2D|MAX_POOL_2D) ' "$tmp/prof" |
		grep -v ' npu ' |
		grep -Evq '^ +[0-9]+ +(ADD +fused +.* fused into operator|CONV_2D +fused +.* computed by operator [0-9]+.s job)'; then
		bad "$m: an operator off the NPU: $(cat "$tmp/prof")"
	else
		ok "$m: every conv/depthwise/FC/add/pool on the NPU ($(grep -c ' npu ' "$tmp/prof") operators)"
	fi
	# cpu and sim byte-identical on the evaluation inputs.
	read -r scale zp <<<"$(input_q "$out")"
	size=$("$qnpu" inspect --backend=cpu "$out" | sed -n 's/^ *0  [A-Z_0-9]* .*  t[0-9]*:INT8:\([0-9x]*\):.*/\1/p' | head -1)
	elems=$(($(stat -c %s "$eval") / 4))
	if [ "$n" != 0 ]; then
		size=$("$qnpu" inspect --backend=cpu "$out" | sed -n 's/^ *0  [A-Z_0-9]* .*  t[0-9]*:INT8:\([0-9x]*\):.*/\1/p' | head -1)
		elems=$(($(echo "$size" | tr x '*') * n))
	fi
	python3 "$here/f32_to_int8.py" "$eval" "$scale" "$zp" "$tmp/in.bin" "$elems"
	"$qnpu" run --backend=cpu --input="$tmp/in.bin" --output="$tmp/cpu.bin" "$out" >/dev/null 2>&1
	"$qnpu" run --backend=sim --input="$tmp/in.bin" --output="$tmp/sim.bin" "$out" >/dev/null 2>&1
	if [ -s "$tmp/cpu.bin" ] && cmp -s "$tmp/cpu.bin" "$tmp/sim.bin"; then
		ok "$m: cpu and sim byte-identical on $((elems / ($(echo "$size" | tr x '*')))) evaluation inputs"
	else
		bad "$m: cpu and sim outputs differ"
	fi
	if [ "$tflite" = tflite ]; then
		"$here/../tflite-runtime/run.sh" "$out" "$tmp/tfl" "$tmp/in.bin" >"$tmp/tfl.log" 2>&1
		rc=$?
		if [ $rc = 77 ]; then
			echo "skip: $m in TFLite: $(tail -1 "$tmp/tfl.log")"
		elif [ $rc != 0 ]; then
			bad "$m: TFLite refuses or fails: $(tail -3 "$tmp/tfl.log")"
		else
			ok "$m: runs in the TFLite runtime, max $(python3 -c '
import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
s = lambda v: v - 256 if v > 127 else v
print(max(abs(s(x) - s(y)) for x, y in zip(a, b)))' "$tmp/cpu.bin" "$tmp/tfl/out0.bin") LSB from our reference"
		fi
	fi
done

# Methods and options (on the small KWS).
fm=$F/tflite/mlperf_tiny_kws_dscnn_float.tflite
calib=$F/inputs/mlperf_tiny_kws_dscnn_float/calib.f32.bin
eval=$F/inputs/mlperf_tiny_kws_dscnn_float/eval.f32.bin
head -c $((490 * 4 * 2)) "$eval" >"$tmp/two.f32"
for c in minmax percentile percentile:99.9 mse entropy; do
	if "$qnpu" quantize -o "$tmp/k.tflite" --calibration=$c --samples="$calib" "$fm" >/dev/null 2>"$tmp/err" &&
		"$qnpu" compare --input="$tmp/two.f32" "$fm" "$tmp/k.tflite" >"$tmp/out" 2>&1; then
		ok "--calibration=$c: $(head -1 "$tmp/out")"
	else
		bad "--calibration=$c: $(cat "$tmp/err")"
	fi
done
"$qnpu" quantize -o "$tmp/kt.tflite" --per-tensor --samples="$calib" "$fm" >/dev/null 2>&1 &&
	"$qnpu" inspect --backend=cpu "$tmp/kt.tflite" | grep -q 'CONV_2D .*t[0-9]*:INT8:64x10x4x1:s=' &&
	ok "--per-tensor: one filter scale" || bad "--per-tensor"
if "$qnpu" quantize -o "$tmp/kb.tflite" --bias-correction --samples="$calib" "$fm" >"$tmp/out" 2>&1 &&
	grep -q "bias correction" "$tmp/out" &&
	"$qnpu" compare --input="$tmp/two.f32" "$fm" "$tmp/kb.tflite" >/dev/null 2>&1; then
	ok "--bias-correction"
else
	bad "--bias-correction: $(cat "$tmp/out")"
fi
if "$qnpu" quantize -o "$tmp/kf.tflite" --float-io --samples="$calib" "$fm" >/dev/null 2>&1 &&
	"$qnpu" run --backend=sim --input="$tmp/two.f32" --output="$tmp/kf.out" "$tmp/kf.tflite" >/dev/null 2>&1 &&
	[ "$(stat -c %s "$tmp/kf.out")" = $((12 * 4 * 2)) ]; then
	ok "--float-io: float32 in and out, runs on sim"
else
	bad "--float-io"
fi

# compare: ours and the converter's, table, JSON, SVG.
if "$qnpu" compare --input="$tmp/two.f32" --plot="$tmp/p.svg" "$fm" "$tmp/k.tflite" >"$tmp/out" 2>&1 &&
	grep -q 'the most lossy first' "$tmp/out" && grep -q '<svg' "$tmp/p.svg" &&
	[ "$(grep -c ' CONV_2D \| DEPTHWISE_CONV_2D ' "$tmp/out")" = 9 ]; then
	ok "compare: table of 13 layers and an SVG plot"
else
	bad "compare: $(cat "$tmp/out")"
fi
if "$qnpu" compare --format=json --input="$tmp/two.f32" "$fm" "$M/tflite/mlperf_tiny_kws_dscnn.tflite" >"$tmp/j" 2>&1 &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["inputs"] == 2 and len(d["layers"]) == 13 and "top1_agreement" in d' "$tmp/j"; then
	ok "compare --format=json on the converter's int8 model"
else
	bad "compare json: $(head -5 "$tmp/j")"
fi

# Refusals, one line each.
expect_fail "no samples" "no calibration samples" "$qnpu" quantize -o "$tmp/x.tflite" "$fm"
head -c 1000 "$calib" >"$tmp/short.f32"
expect_fail "wrong-size samples" "1000 bytes is not a whole number of 1960-byte samples" \
	"$qnpu" quantize -o "$tmp/x.tflite" --samples="$tmp/short.f32" "$fm"
python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<490f", *([0.0]*17 + [float("nan")] + [0.0]*472)))' "$tmp/nan.f32"
expect_fail "NaN sample" "sample 0 has NaN at element 17" \
	"$qnpu" quantize -o "$tmp/x.tflite" --samples="$tmp/nan.f32" "$fm"
python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(struct.pack("<490f", *([0.0]*3 + [float("inf")] + [0.0]*486)))' "$tmp/inf.f32"
expect_fail "Inf sample" "has Inf at element 3" \
	"$qnpu" quantize -o "$tmp/x.tflite" --samples="$tmp/inf.f32" "$fm"
expect_fail "int8 model" "already quantized" \
	"$qnpu" quantize -o "$tmp/x.tflite" --samples="$calib" "$M/tflite/mlperf_tiny_kws_dscnn.tflite"
expect_fail "unknown method" "unknown calibration \"kl\"" \
	"$qnpu" quantize -o "$tmp/x.tflite" --calibration=kl --samples="$calib" "$fm"
expect_fail "bad percentile" "percentile \"20\"" \
	"$qnpu" quantize -o "$tmp/x.tflite" --calibration=percentile:20 --samples="$calib" "$fm"
expect_fail "compare without inputs" "no inputs" "$qnpu" compare "$fm" "$tmp/k.tflite"
[ -e "$tmp/x.tflite" ] && bad "a refused quantize left its output" || ok "no output file after a refusal"

echo "quant cli: $pass passed, $fail failed"
[ $fail = 0 ]
