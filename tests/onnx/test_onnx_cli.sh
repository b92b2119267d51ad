#!/bin/bash
# The CLI on ONNX files: run (cpu, sim) and a compiled model (qnpu
# compile of a .onnx for the 16x16 DTB, run on sim) give the golden bytes
# of the first image; inspect lists the folded operators; profile on sim
# puts every convolution on the NPU and gives the CPU operators' reasons.
# Usage: test_onnx_cli.sh QNPU_BIN DTB_DIR
set -u
qnpu=$1 dtbs=$2
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
m=fmnist_cnn_int8_perchannel_qdq
model=$M/models/$m.onnx
head -c 3136 "$M/inputs/fmnist/test256.f32.bin" >"$tmp/in.bin"
head -c 40 "$M/golden/$m/test256.out.f32.bin" >"$tmp/golden.bin"
for b in cpu sim; do
	if "$qnpu" run --backend=$b --input="$tmp/in.bin" --output="$tmp/out.bin" "$model" &&
	   cmp -s "$tmp/out.bin" "$tmp/golden.bin"; then
		ok "run --backend=$b"
	else
		bad "run --backend=$b"
	fi
done
if "$qnpu" compile --target="$dtbs/qnpu-16x16.dtb" -o "$tmp/m.qnpc" "$model" >/dev/null &&
   "$qnpu" run --backend=sim --input="$tmp/in.bin" --output="$tmp/out.bin" "$tmp/m.qnpc" &&
   cmp -s "$tmp/out.bin" "$tmp/golden.bin"; then
	ok "compile, run the compiled model on sim"
else
	bad "compile, run the compiled model on sim"
fi
if "$qnpu" inspect "$model" >"$tmp/inspect" &&
   [ "$(grep -c ' QLINEAR_CONV ' "$tmp/inspect")" = 4 ] &&
   grep -q ' QLINEAR_MATMUL ' "$tmp/inspect" &&
   grep -q ' QLINEAR_AVERAGE_POOL ' "$tmp/inspect"; then
	ok "inspect: 4 QLINEAR_CONV, QLINEAR_MATMUL, QLINEAR_AVERAGE_POOL"
else
	bad "inspect"; cat "$tmp/inspect"
fi
if "$qnpu" profile --backend=sim --input="$tmp/in.bin" "$model" >"$tmp/profile" &&
   [ "$(grep -c ' QLINEAR_CONV  *npu ' "$tmp/profile")" = 4 ] &&
   grep -q 'QUANTIZE_LINEAR .*cpu .*float <-> integer conversion' "$tmp/profile"; then
	ok "profile: the convolutions on the NPU, the quantization's reason"
else
	bad "profile"; cat "$tmp/profile"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
