#!/bin/bash
# The quantized models the VM runs through qnpu.ko (tests/golden/
# qnpu-82-drm-quant): each shared float model quantized by `qnpu quantize`
# (int8 I/O with MSE calibration and bias correction, and float I/O with
# the default min/max), its first evaluation inputs, and the sim backend's
# outputs for them as the expectation (cpu = sim is tests/quant/
# test_quant_cli.sh's check).
#   make-vm-set.sh QNPU MODELS OUT_DIR
set -euo pipefail
qnpu=$1 F=$2/float out=$3 here=$(dirname "$0") n=4
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
for m in mlperf_tiny_ic_resnet8 mlperf_tiny_kws_dscnn mlperf_tiny_ad_fc_autoencoder; do
	fm=$F/tflite/${m}_float.tflite
	calib=$F/inputs/${m}_float/calib.f32.bin
	eval=$F/inputs/${m}_float/eval.f32.bin
	q=$out.tmp/$m.tflite
	"$qnpu" quantize -o "$q" --calibration=mse --bias-correction \
		--samples="$calib" "$fm" >/dev/null
	# Input scale, zero point and shape of the int8 model.
	read -r scale zp shape <<<"$("$qnpu" inspect --backend=cpu "$q" |
		sed -n 's/^ *0  [A-Z_0-9]* .*  t[0-9]*:INT8:\([0-9x]*\):s=\([^ ]*\) zp=\([-0-9]*\),.*/\2 \3 \1/p' |
		head -1)"
	elems=$(($(echo "$shape" | tr x '*') * n))
	python3 "$here/f32_to_int8.py" "$eval" "$scale" "$zp" \
		"$out.tmp/$m.in.bin" "$elems"
	"$qnpu" run --backend=sim --input="$out.tmp/$m.in.bin" \
		--output="$out.tmp/$m.sim.bin" "$q" >/dev/null
	# Float I/O: QUANTIZE and DEQUANTIZE on the CPU around the NPU part.
	q=$out.tmp/${m}_fio.tflite
	"$qnpu" quantize -o "$q" --float-io --samples="$calib" "$fm" >/dev/null
	head -c $((elems * 4)) "$eval" >"$out.tmp/${m}_fio.in.bin"
	"$qnpu" run --backend=sim --input="$out.tmp/${m}_fio.in.bin" \
		--output="$out.tmp/${m}_fio.sim.bin" "$q" >/dev/null
done
rm -rf "$out"
mv "$out.tmp" "$out"
