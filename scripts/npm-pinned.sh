# Sourced by the runners of real runtimes from npm (tests/tflite-runtime,
# tests/onnx/ort): install the packages pinned by a package-lock.json once
# and use them offline from then on.
#
#   npm_pinned SRC DIR PROBE NAME [VAR=VALUE...]
#
# copies SRC/package.json and SRC/package-lock.json to DIR and runs
# `npm ci` there (with the VAR=VALUE environment) unless DIR is already
# installed: its stamp (a copy of the lock file, written only after a
# successful install) matches SRC's lock file and DIR/PROBE exists. Exits 77
# (SKIP) with the reason when npm is missing or the registry unreachable,
# 1 when the install fails otherwise.

npm_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

npm_pinned_installed() {
	cmp -s "$1/package-lock.json" "$2/.installed" && [ -e "$2/$3" ]
}

npm_pinned() {
	local src=$1 dir=$2 probe=$3 name=$4 rc
	shift 4

	npm_pinned_installed "$src" "$dir" "$probe" && return 0
	command -v npm >/dev/null 2>&1 ||
		npm_skip "npm not found (Debian package npm; scripts/deps.sh installs it)"
	mkdir -p "$dir"
	(
		# One installer at a time; a concurrent caller waits, then
		# finds it done.
		flock 9
		npm_pinned_installed "$src" "$dir" "$probe" && exit 0
		rm -f "$dir/.installed"
		cp "$src/package.json" "$src/package-lock.json" "$dir/"
		if ! (cd "$dir" && env "$@" npm ci --no-audit --no-fund) \
			>"$dir/npm.log" 2>&1; then
			if ! timeout 30 npm ping >/dev/null 2>&1; then
				exit 77
			fi
			cat "$dir/npm.log" >&2
			exit 1
		fi
		cp "$src/package-lock.json" "$dir/.installed"
	) 9>"$dir/.lock"
	rc=$?
	[ $rc = 77 ] && npm_skip "the npm registry ($(npm config get registry 2>/dev/null)) is unreachable: cannot install $name into $dir"
	[ $rc = 0 ] || { echo "$0: npm install into $dir failed" >&2; exit 1; }
}
