#!/bin/bash
# Float golden test: the float32 models of ../shared/models/float through
# `qnpu run --backend=cpu` on every calibration and evaluation input,
# against TFLite's float outputs (golden/<model>/{calib,eval}.out.f32.bin).
#
# Float sums are not bit-exact across implementations (TFLite's kernels
# add in another order), so the bound is stated relative to the range
# (max - min) of the golden outputs over the whole set:
#   classifiers (ResNet-8, KWS): 1e-5, and top-1 identical on every input;
#   FC autoencoder: 2e-4 -- ten float32 layers with cancellation: our
#     float sums land 8e-5 of the range from TFLite's, the same sums in
#     double 7e-5 from TFLite's and 1.1e-4 from ours (README: PyTorch's
#     float32 is 9e-5 from TFLite's); rounding, not a kernel difference.
# The hybrid KWS model (int8 conv filters) must give exactly the pure
# float copy's output: its filters dequantize to the same float bits.
# Also: the sim device gives the cpu's bytes (float ops fall back), one
# input alone equals the first output of the stacked run; a
# float op without a kernel and a FLOAT16 activation are refused with one
# line.
# Usage: float-golden.sh QNPU_BIN
set -u
qnpu=$1
here=$(dirname "$0")
M=${QNPU_MODELS:-../shared/models}
F=$M/float
if [ ! -d "$F/tflite" ]; then
	echo "SKIP: float models not found at $F"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

# model, output depth, relative bound, --top1 or nothing
models="mlperf_tiny_ic_resnet8_float 10 1e-5 --top1
mlperf_tiny_kws_dscnn_float 12 1e-5 --top1
mlperf_tiny_ad_fc_autoencoder_float 640 2e-4 -"

while read -r m depth tol top1; do
	[ "$top1" = - ] && top1=
	for set in calib eval; do
		in=$F/inputs/$m/$set.f32.bin
		if ! "$qnpu" run --backend=cpu --input="$in" \
			--output="$tmp/$m.$set.bin" "$F/tflite/$m.tflite"; then
			bad "$m $set: qnpu run failed"
			continue
		fi
		# shellcheck disable=SC2086
		if r=$(python3 "$here/float_compare.py" "$tmp/$m.$set.bin" \
			"$F/golden/$m/$set.out.f32.bin" "$depth" "$tol" $top1); then
			ok "$m $set: $r"
		else
			bad "$m $set: $r"
		fi
	done
	# On the simulated NPU float ops fall back to the CPU: the same bytes.
	if "$qnpu" run --backend=sim --input="$F/inputs/$m/eval.f32.bin" \
		--output="$tmp/sim.bin" "$F/tflite/$m.tflite" &&
		cmp -s "$tmp/sim.bin" "$tmp/$m.eval.bin"; then
		ok "$m eval on sim: identical to the cpu run"
	else
		bad "$m eval on sim: differs from the cpu run"
	fi
	# The first input on its own: the same bytes as in the stacked run.
	isz=$(($(stat -c %s "$F/inputs/$m/calib.f32.bin") /
	       ($(stat -c %s "$F/golden/$m/calib.out.f32.bin") / (4 * depth))))
	head -c "$isz" "$F/inputs/$m/calib.f32.bin" >"$tmp/one.bin"
	head -c $((4 * depth)) "$tmp/$m.calib.bin" >"$tmp/one.want"
	if "$qnpu" run --backend=cpu --input="$tmp/one.bin" \
		--output="$tmp/one.out" "$F/tflite/$m.tflite" &&
		cmp -s "$tmp/one.out" "$tmp/one.want"; then
		ok "$m: one input alone gives the first output of the stack"
	else
		bad "$m: one input alone differs from the stacked run"
	fi
done <<<"$models"

kws=mlperf_tiny_kws_dscnn_float
for set in calib eval; do
	if "$qnpu" run --backend=cpu --input="$F/inputs/$kws/$set.f32.bin" \
		--output="$tmp/hybrid.bin" \
		"$F/hybrid/mlperf_tiny_kws_dscnn_float32_hybrid.tflite" &&
		cmp -s "$tmp/hybrid.bin" "$tmp/$kws.$set.bin"; then
		ok "hybrid KWS $set: output identical to the pure float model's ($(stat -c %s "$tmp/hybrid.bin") bytes)"
	else
		bad "hybrid KWS $set: output differs from the pure float model's"
	fi
done

# A float op without a kernel: the autoencoder's opcode patched to TANH.
python3 - "$F/tflite/mlperf_tiny_ad_fc_autoencoder_float.tflite" \
	"$tmp/tanh.tflite" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
u32 = lambda p: struct.unpack_from('<I', b, p)[0]
deref = lambda p: p + u32(p)
def field(t, f):
    vt = t - struct.unpack_from('<i', b, t)[0]
    n = (struct.unpack_from('<H', b, vt)[0] - 4) // 2
    o = struct.unpack_from('<H', b, vt + 4 + 2 * f)[0] if f < n else 0
    return t + o if o else None
root = deref(0)
codes = deref(field(root, 1))
for i in range(u32(codes)):
    oc = deref(codes + 4 + 4 * i)
    if field(oc, 0) is not None:	# deprecated_builtin_code (int8)
        b[field(oc, 0)] = 28
    if field(oc, 3) is not None:	# builtin_code (int32)
        struct.pack_into('<i', b, field(oc, 3), 28)
open(sys.argv[2], 'wb').write(b)
PY
want="unsupported operator 0: TANH (inputs FLOAT32, FLOAT32, FLOAT32 -> outputs FLOAT32)"
if "$qnpu" run --backend=cpu --input="$F/inputs/mlperf_tiny_ad_fc_autoencoder_float/calib.f32.bin" \
	--output="$tmp/tanh.out" "$tmp/tanh.tflite" 2>"$tmp/stderr"; then
	bad "float TANH model: runs"
elif [ "$(wc -l <"$tmp/stderr")" -eq 1 ] && grep -qF "$want" "$tmp/stderr" &&
	[ ! -e "$tmp/tanh.out" ]; then
	ok "float op without a kernel: $(cat "$tmp/stderr")"
else
	bad "float TANH model: $(cat "$tmp/stderr")"
fi

# A FLOAT16 activation: simple_add's first input retyped to FLOAT16.
python3 - "$M/tflite/tflm_simple_add.tflite" "$tmp/f16.tflite" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
u32 = lambda p: struct.unpack_from('<I', b, p)[0]
deref = lambda p: p + u32(p)
def field(t, f):
    vt = t - struct.unpack_from('<i', b, t)[0]
    n = (struct.unpack_from('<H', b, vt)[0] - 4) // 2
    o = struct.unpack_from('<H', b, vt + 4 + 2 * f)[0] if f < n else 0
    return t + o if o else None
sg = deref(deref(field(deref(0), 2)) + 4)
t0 = deref(deref(field(sg, 0)) + 4)
b[field(t0, 1)] = 1	# Tensor.type = FLOAT16
open(sys.argv[2], 'wb').write(b)
PY
want="unsupported operator 0: ADD (inputs FLOAT16, INT8 -> outputs INT8): tensor 0"
if "$qnpu" inspect "$tmp/f16.tflite" >/dev/null 2>"$tmp/stderr"; then
	bad "FLOAT16 activation model: loads"
elif [ "$(wc -l <"$tmp/stderr")" -eq 1 ] && grep -qF "$want" "$tmp/stderr" &&
	grep -qF "is a FLOAT16 activation" "$tmp/stderr"; then
	ok "FLOAT16 activation: $(cat "$tmp/stderr")"
else
	bad "FLOAT16 activation model: $(cat "$tmp/stderr")"
fi

echo "float golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
