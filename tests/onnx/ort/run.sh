#!/bin/bash
# ONNX Runtime (npm onnxruntime-node, pinned in package.json /
# package-lock.json; its own CPU build, ONNXRUNTIME_NODE_INSTALL=skip: no
# download beyond npm's) under node: run_ort.cjs's arguments after the
# node_modules path. The packages are installed once into
# $QNPU_ONNX_RUNTIME (default build/onnx-runtime) and used offline from
# then on. Exit 77 (SKIP) with the reason when node or npm is missing or
# the npm registry is unreachable for that first install.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../scripts/npm-pinned.sh"
dir=${QNPU_ONNX_RUNTIME:-$here/../../../build/onnx-runtime}

command -v node >/dev/null 2>&1 ||
	npm_skip "node not found (Debian package nodejs; scripts/deps.sh installs it)"

npm_pinned "$here" "$dir" node_modules/onnxruntime-node/bin onnxruntime-node ONNXRUNTIME_NODE_INSTALL=skip

exec node "$here/run_ort.cjs" "$dir/node_modules" "$@"
