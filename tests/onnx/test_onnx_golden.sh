#!/bin/bash
# Every shared ONNX model on one backend, against ONNX Runtime's outputs:
# the three Fashion-MNIST models on all 256 images (the int8 ones byte for
# byte; the float one within 1e-4 absolute, ORT summing in another order)
# and the five single-op int8 cases on their three inputs, byte for byte.
# With "npu", also that every operator ran on the NPU.
# Usage: test_onnx_golden.sh ONNX_GOLDEN_BIN BACKEND [npu]
set -u
bin=$1 backend=$2 npu=${3:+--npu}
M=${QNPU_MODELS:-../shared/models}/onnx
if [ ! -d "$M/models" ]; then
	echo "SKIP: shared ONNX models not found at $M"
	exit 77
fi
rc=0
for m in fmnist_cnn_int8_perchannel_qdq fmnist_cnn_int8_pertensor_qdq; do
	"$bin" $npu "$backend" "$M/models/$m.onnx" "$M/inputs/fmnist/test256.f32.bin" \
		"$M/golden/$m/test256.out.f32.bin" || rc=1
done
if [ -z "$npu" ]; then
	"$bin" --tol=1e-4 "$backend" "$M/models/fmnist_cnn_float.onnx" \
		"$M/inputs/fmnist/test256.f32.bin" \
		"$M/golden/fmnist_cnn_float/test256.out.f32.bin" || rc=1
fi
for mf in "$M"/ops/models/*.onnx; do
	m=$(basename "$mf" .onnx)
	case=${m%_qdq}
	case=${case%_qlinear}
	for s in 1 2 3; do
		"$bin" $npu "$backend" "$mf" "$M/ops/inputs/$case.rand_xorshift32_seed$s.int8.bin" \
			"$M/ops/golden/$m/rand_xorshift32_seed$s.out.int8.bin" || rc=1
	done
done
exit $rc
