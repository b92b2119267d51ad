#!/bin/bash
# `qnpu quantize` of the float ONNX model into a QDQ ONNX model: calibrated
# on the first 64 Fashion-MNIST inputs (min/max, per channel; then per
# tensor), evaluated on all 256,
# the result folds into quantized operators only (4 QLINEAR_CONV, the
# global pool, QLINEAR_MATMUL), keeps the float model's top-1 accuracy
# within 2 points on the 256 labels, runs byte-identical on sim (every
# conv, matmul and pool on the NPU) and cpu, and loads in ONNX Runtime
# (npm; skipped when it cannot be installed), whose outputs equal qnpu's
# where ORT computes exactly (an x86-64 CPU with AVX-VNNI, see
# test_onnx_ort.sh).
# Usage: test_onnx_quantize.sh QNPU_BIN ONNX_GOLDEN_BIN
set -u
qnpu=$1 golden=$2
here=$(cd "$(dirname "$0")" && pwd)
M=${QNPU_MODELS:-../shared/models}/onnx
if [ ! -d "$M/models" ]; then
	echo "SKIP: shared ONNX models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
in=$M/inputs/fmnist/test256.f32.bin
labels=$M/inputs/fmnist/labels256.u8.bin
head -c $((64 * 3136)) "$in" >"$tmp/calib.bin"
acc() {	# outputs.f32 -> correct count
	python3 -c "
import struct,sys
o=open(sys.argv[1],'rb').read(); l=open(sys.argv[2],'rb').read()
v=struct.unpack('%df'%(len(o)//4),o)
print(sum(1 for i in range(len(l)) if max(range(10),key=lambda k:v[10*i+k])==l[i]))" "$1" "$labels"
}
"$golden" --out="$tmp/float.bin" cpu "$M/models/fmnist_cnn_float.onnx" "$in" - >/dev/null
facc=$(acc "$tmp/float.bin")
for mode in "" --per-tensor; do
	q=$tmp/q${mode}.onnx
	if ! "$qnpu" quantize -o "$q" --samples="$tmp/calib.bin" $mode "$M/models/fmnist_cnn_float.onnx"; then
		bad "quantize $mode"; continue
	fi
	"$qnpu" inspect "$q" >"$tmp/inspect"
	if [ "$(grep -c ' QLINEAR_CONV ' "$tmp/inspect")" = 4 ] &&
	   grep -q ' QLINEAR_MATMUL ' "$tmp/inspect" &&
	   grep -q ' QLINEAR_AVERAGE_POOL ' "$tmp/inspect" &&
	   ! grep -q ' ONNX_CONV \| ONNX_GEMM \| ONNX_UNARY ' "$tmp/inspect"; then
		ok "quantize $mode: every conv, gemm and pool folded into a quantized operator"
	else
		bad "quantize $mode: not folded"; cat "$tmp/inspect"
	fi
	"$golden" --out="$tmp/cpu.bin" cpu "$q" "$in" - >/dev/null
	qacc=$(acc "$tmp/cpu.bin")
	if [ $((qacc + 5)) -ge "$facc" ]; then
		ok "quantize $mode: top-1 $qacc/256 (float model $facc/256)"
	else
		bad "quantize $mode: top-1 $qacc/256, float model $facc/256"
	fi
	if "$golden" --npu sim "$q" "$in" "$tmp/cpu.bin"; then
		ok "quantize $mode: sim = cpu, on the NPU"
	else
		bad "quantize $mode: sim differs from cpu"
	fi
	"$here/ort/run.sh" "$q" "$in" float32 1,1,28,28 "$tmp/ort.bin" 2>"$tmp/err"
	rc=$?
	if [ $rc = 77 ]; then
		cat "$tmp/err"
	elif [ $rc != 0 ]; then
		bad "quantize $mode: ONNX Runtime refuses the model: $(cat "$tmp/err")"
	elif grep -qw avx512_vnni /proc/cpuinfo || grep -qw avx_vnni /proc/cpuinfo; then
		if cmp -s "$tmp/ort.bin" "$tmp/cpu.bin"; then
			ok "quantize $mode: ONNX Runtime = qnpu"
		else
			bad "quantize $mode: ONNX Runtime differs from qnpu"
		fi
	else
		ok "quantize $mode: ONNX Runtime loads and runs it (top-1 $(acc "$tmp/ort.bin")/256; not exact on this CPU without AVX-VNNI)"
	fi
done
if "$qnpu" quantize -o "$tmp/x.onnx" --samples="$tmp/calib.bin" --float-io \
	"$M/models/fmnist_cnn_float.onnx" 2>"$tmp/err"; then
	bad "--float-io accepted for ONNX"
elif [ "$(wc -l <"$tmp/err")" = 1 ] && [ ! -e "$tmp/x.onnx" ]; then
	ok "--float-io refused in one line: $(cat "$tmp/err")"
else
	bad "--float-io: $(cat "$tmp/err")"
fi
if "$qnpu" quantize -o "$tmp/x.onnx" --samples="$tmp/calib.bin" \
	"$M/models/fmnist_cnn_int8_perchannel_qdq.onnx" 2>"$tmp/err"; then
	bad "a quantized model accepted"
elif [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "is not a float operator" "$tmp/err" &&
     [ ! -e "$tmp/x.onnx" ]; then
	ok "a quantized model refused in one line: $(cat "$tmp/err")"
else
	bad "a quantized model: $(cat "$tmp/err")"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
