#!/bin/bash
# ONNX Runtime itself (tests/onnx/ort/run.sh: npm onnxruntime-node at its
# default optimization level) on the inputs of every shared ONNX model,
# and qnpu's cpu backend against what it printed: the single-op (INT8
# activation) cases byte for byte, the float model within 1e-4, and the
# UINT8-activation Fashion-MNIST models byte for byte where ORT computes
# them exactly. It does not on an x86-64 CPU without AVX-VNNI: there MLAS's
# U8S8 AVX2 kernel (vpmaddubsw) saturates pairs of products to int16, and
# ORT's own result moves off the exact integer one (several LSB); the test
# says so, and checks instead that ORT with optimizations disabled
# reproduces the shared float-QDQ outputs (same runtime, same inputs).
# Exit 77 (SKIP) when node/npm are missing or npm's registry is unreachable
# for the one-time install.
# Usage: test_onnx_ort.sh ONNX_GOLDEN_BIN
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
M=${QNPU_MODELS:-../shared/models}/onnx
if [ ! -d "$M/models" ]; then
	echo "SKIP: shared ONNX models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ort() {	# model input dtype dims out
	"$here/ort/run.sh" "$@" 2>"$tmp/err"
	local rc=$?
	if [ $rc = 77 ]; then
		cat "$tmp/err"
		exit 77
	fi
	[ $rc = 0 ] || { cat "$tmp/err"; return 1; }
}
check() {	# name, onnx_golden args...
	local name=$1
	shift
	if "$bin" "$@"; then
		echo "ok: $name"; pass=$((pass + 1))
	else
		echo "FAIL: $name"; fail=$((fail + 1))
	fi
}
for m in fmnist_cnn_int8_perchannel_qdq fmnist_cnn_int8_pertensor_qdq fmnist_cnn_float; do
	in=$M/inputs/fmnist/test256.f32.bin
	if ! ort "$M/models/$m.onnx" "$in" float32 1,1,28,28 "$tmp/$m.bin"; then
		echo "FAIL: $m: ONNX Runtime failed"; fail=$((fail + 1)); continue
	fi
	if [ $m = fmnist_cnn_float ]; then
		check "$m: qnpu cpu = ONNX Runtime" --tol=1e-4 cpu "$M/models/$m.onnx" "$in" "$tmp/$m.bin"
	elif cmp -s "$tmp/$m.bin" "$M/golden/$m/test256.out.f32.bin"; then
		check "$m: qnpu cpu = ONNX Runtime" cpu "$M/models/$m.onnx" "$in" "$tmp/$m.bin"
	elif ! grep -qw avx512_vnni /proc/cpuinfo && ! grep -qw avx_vnni /proc/cpuinfo; then
		echo "note: $m: this CPU has no AVX-VNNI: ORT's saturating U8S8 AVX2 kernel is not exact, so qnpu is held to the golden file (tests/onnx/test_onnx_golden.sh), not to this run"
		if ort "$M/models/$m.onnx" "$in" float32 1,1,28,28 "$tmp/$m.noopt" disabled &&
		   cmp -s "$tmp/$m.noopt" "$M/golden/$m/test256.out.ort_noopt.f32.bin"; then
			echo "ok: $m: ONNX Runtime without optimizations reproduces test256.out.ort_noopt"
			pass=$((pass + 1))
		else
			echo "FAIL: $m: ONNX Runtime without optimizations differs from test256.out.ort_noopt"
			fail=$((fail + 1))
		fi
	else
		check "$m: qnpu cpu = ONNX Runtime" cpu "$M/models/$m.onnx" "$in" "$tmp/$m.bin"
	fi
done
declare -A dims=([conv3x3_s8]=1,8,10,10 [dwconv3x3_s8]=1,16,10,10 [gemm_s8]=1,64)
for mf in "$M"/ops/models/*.onnx; do
	m=$(basename "$mf" .onnx)
	case=${m%_qdq}
	case=${case%_qlinear}
	cat "$M"/ops/inputs/"$case".rand_xorshift32_seed{1,2,3}.int8.bin >"$tmp/in.bin"
	if ! ort "$mf" "$tmp/in.bin" int8 "${dims[$case]}" "$tmp/$m.bin"; then
		echo "FAIL: $m: ONNX Runtime failed"; fail=$((fail + 1)); continue
	fi
	check "$m: qnpu cpu = ONNX Runtime" cpu "$mf" "$tmp/in.bin" "$tmp/$m.bin"
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
