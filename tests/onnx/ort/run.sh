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
dir=${QNPU_ONNX_RUNTIME:-$here/../../../build/onnx-runtime}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

command -v node >/dev/null 2>&1 ||
	skip "node not found (Debian package nodejs; scripts/deps.sh installs it)"

installed() {
	cmp -s "$here/package-lock.json" "$dir/.installed" &&
		[ -d "$dir/node_modules/onnxruntime-node/bin" ]
}

if ! installed; then
	command -v npm >/dev/null 2>&1 ||
		skip "npm not found (Debian package npm; scripts/deps.sh installs it)"
	mkdir -p "$dir"
	(
		flock 9
		installed && exit 0
		rm -f "$dir/.installed"
		cp "$here/package.json" "$here/package-lock.json" "$dir/"
		if ! (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit \
			--no-fund) >"$dir/npm.log" 2>&1; then
			if ! timeout 30 npm ping >/dev/null 2>&1; then
				exit 77
			fi
			cat "$dir/npm.log" >&2
			exit 1
		fi
		cp "$here/package-lock.json" "$dir/.installed"
	) 9>"$dir/.lock"
	rc=$?
	[ $rc = 77 ] && skip "the npm registry ($(npm config get registry 2>/dev/null)) is unreachable: cannot install onnxruntime-node into $dir"
	[ $rc = 0 ] || { echo "run.sh: npm install into $dir failed" >&2; exit 1; }
fi

exec node "$here/run_ort.cjs" "$dir/node_modules" "$@"
