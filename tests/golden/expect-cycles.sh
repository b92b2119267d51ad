#!/bin/sh
# Host side of qnpu-80-drm-golden's planning check: the cycles the cost
# model predicts (`qnpu profile --estimate`) for the device qnpu-sim serves
# in the VM (its DTB), one "MODEL BATCH CYCLES" line per run the guest
# repeats through qnpu.ko. The cost model is exact against the RTL for
# these (tests/codesign/test_cost_model.sh), so the guest's drm cycles
# equal them only if libqnpu planned for the device's memory system, i.e.
# read it from the ID registers through DRM_QNPU_PARAM_*.
# usage: expect-cycles.sh QNPU DTB MODELS_DIR >FILE
set -e
Q=$1 DTB=$2 M=$3
for run in mlperf_tiny_ic_resnet8:1 mlperf_tiny_ad_fc_autoencoder:16 \
	   mlperf_tiny_kws_dscnn:1 tflm_person_detect:1 tflm_micro_speech:16; do
	name=${run%:*} batch=${run#*:}
	c=$("$Q" profile --estimate --target="$DTB" --batch="$batch" \
		--format=json "$M/tflite/$name.tflite" |
		sed -n 's/.*"total": {.*"cycles": \([0-9]*\),.*/\1/p')
	[ -n "$c" ] || { echo "expect-cycles: no estimate for $name" >&2; exit 1; }
	echo "$name $batch $c"
done
