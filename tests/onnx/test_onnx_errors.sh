#!/bin/bash
# What the ONNX importer refuses, each in one line on stderr with a
# non-zero exit: a malformed protobuf (random bytes, a model cut short),
# an unknown operator, a dynamic input shape, external weights, an opset
# outside 10-17. The bad models are made from good ones by onnx_mutate.
# Usage: test_onnx_errors.sh QNPU_BIN ONNX_MUTATE_BIN
set -u
qnpu=$1 mutate=$2
M=${QNPU_MODELS:-../shared/models}/onnx
if [ ! -d "$M/models" ]; then
	echo "SKIP: shared ONNX models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
expect() {	# name file pattern
	local name=$1 f=$2 pat=$3
	if "$qnpu" inspect "$f" >"$tmp/out" 2>"$tmp/err"; then
		echo "FAIL: $name: accepted"; fail=$((fail + 1)); return
	fi
	if [ "$(wc -l <"$tmp/err")" != 1 ] || ! grep -q -- "$pat" "$tmp/err"; then
		echo "FAIL: $name: expected one line matching '$pat', got:"
		cat "$tmp/err"; fail=$((fail + 1)); return
	fi
	echo "ok: $name: $(cat "$tmp/err")"; pass=$((pass + 1))
}
q=$M/models/fmnist_cnn_int8_perchannel_qdq.onnx
fl=$M/models/fmnist_cnn_float.onnx
# A protobuf field tag first, so the file is taken for ONNX, then noise.
{ printf '\x08\x07\x12'; head -c 3000 /dev/urandom; } >"$tmp/random.onnx"
expect malformed-random "$tmp/random.onnx" "malformed ONNX"
"$mutate" truncate "$q" "$tmp/trunc.onnx"
expect malformed-truncated "$tmp/trunc.onnx" "malformed ONNX"
"$mutate" unknown-op "$q" "$tmp/unknown.onnx"
expect unknown-op "$tmp/unknown.onnx" "unsupported ONNX operator FancyOp"
"$mutate" dynamic "$q" "$tmp/dynamic.onnx"
expect dynamic-shape "$tmp/dynamic.onnx" "dimension 0 is dynamic (N)"
"$mutate" external "$fl" "$tmp/external.onnx"
expect external-data "$tmp/external.onnx" "external data (weights.bin) is not supported"
"$mutate" opset "$q" "$tmp/opset.onnx"
expect opset "$tmp/opset.onnx" "opset 9: qnpu imports opsets 10 to 17"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
