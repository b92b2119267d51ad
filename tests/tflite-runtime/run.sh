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
dir=${QNPU_TFLITE_RUNTIME:-$here/../../build/tflite-runtime}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

if [ $# -lt 3 ]; then
	echo "usage: $0 MODEL.tflite OUT_DIR IN.bin..." >&2
	exit 2
fi
command -v node >/dev/null 2>&1 ||
	skip "node not found (Debian package nodejs; scripts/deps.sh installs it)"

# Installed when the stamp (a copy of the lock file, written only after a
# successful install) matches the lock file we ship.
installed() {
	cmp -s "$here/package-lock.json" "$dir/.installed" &&
		[ -f "$dir/node_modules/@tensorflow/tfjs-tflite/wasm/tflite_web_api_cc.wasm" ]
}

if ! installed; then
	command -v npm >/dev/null 2>&1 ||
		skip "npm not found (Debian package npm; scripts/deps.sh installs it)"
	mkdir -p "$dir"
	(
		# One installer at a time; a concurrent caller waits, then finds
		# it done.
		flock 9
		installed && exit 0
		rm -f "$dir/.installed"
		cp "$here/package.json" "$here/package-lock.json" "$dir/"
		if ! (cd "$dir" && npm ci --no-audit --no-fund) >"$dir/npm.log" 2>&1; then
			if ! timeout 30 npm ping >/dev/null 2>&1; then
				exit 77
			fi
			cat "$dir/npm.log" >&2
			exit 1
		fi
		cp "$here/package-lock.json" "$dir/.installed"
	) 9>"$dir/.lock"
	rc=$?
	[ $rc = 77 ] && skip "the npm registry ($(npm config get registry 2>/dev/null)) is unreachable: cannot install @tensorflow/tfjs-tflite into $dir"
	[ $rc = 0 ] || { echo "run.sh: npm install into $dir failed" >&2; exit 1; }
fi

exec node "$here/run_tflite.cjs" "$dir/node_modules" "$@"
