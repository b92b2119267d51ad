#!/bin/bash
# Run a .tflite model in the real TFLite runtime (the C++ interpreter with
# XNNPACK, compiled to WebAssembly: npm @tensorflow/tfjs-tflite, pinned in
# package.json / package-lock.json) under node, one thread.
#
#   run.sh MODEL.tflite OUT_DIR IN.bin...
#
# IN.bin i feeds model input i (raw bytes of the tensor's type; a file may
# stack N inputs back to back, one inference each). Writes OUT_DIR/out<j>.bin
# per model output (N results back to back) and prints "out<j>.bin TYPE
# SHAPE xN" lines. The npm packages are installed once into
# $QNPU_TFLITE_RUNTIME (default build/tflite-runtime) and used offline from
# then on. Exit 77 (SKIP) with the reason when node or npm is missing or the
# npm registry is unreachable for that first install; 1 when TFLite refuses
# the model or a run fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/npm-pinned.sh"
dir=${QNPU_TFLITE_RUNTIME:-$here/../../build/tflite-runtime}

if [ $# -lt 3 ]; then
	echo "usage: $0 MODEL.tflite OUT_DIR IN.bin..." >&2
	exit 2
fi
command -v node >/dev/null 2>&1 ||
	npm_skip "node not found (Debian package nodejs; scripts/deps.sh installs it)"

npm_pinned "$here" "$dir" node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc.wasm @tensorflow/tfjs-tflite

exec node "$here/run_tflite.cjs" "$dir/node_modules" "$@"
