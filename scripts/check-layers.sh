#!/bin/sh
# The include graph of libqnpu follows its data path: a stage includes only
# itself and the stages below it (docs/architecture.md has the diagram).
# Each folder's allowed quoted includes are listed here; anything else in a
# `#include "..."` line fails the check, naming file, line and header.
#
#   scripts/check-layers.sh [LIBDIR]        check (default userspace/lib)
#   scripts/check-layers.sh --self-test     show that a violation fails
set -eu

allowed() {
	case "$1" in
	util)     echo "qnpu.h util/" ;;
	ir)       echo "qnpu.h util/ ir/ qnpu_ir_names.inc" ;;
	quant)    echo "qnpu.h util/ ir/ quant/" ;;
	cpu)      echo "qnpu_cpu.h qnpu_cpu_layer.h qnpu_cpu_onnx.h quant/qnpu_qparams.h quant/qnpu_fixedpoint.h quant/qnpu_onnx_qparams.h" ;;
	import)   echo "qnpu.h util/ ir/ import/" ;;
	compiler) echo "qnpu.h util/ ir/ quant/ import/ compiler/ qnpu_regs.h" ;;
	backend)  echo "qnpu.h util/ ir/ quant/ cpu/ compiler/ backend/ qnpu_regs.h qnpu_hw.h qnpu_drm.h" ;;
	.)        echo "*" ;;
	*)        echo "" ;;
	esac
}

# Prints one line per include that breaks the rules; silent when clean.
violations() {
	lib=$1
	(cd "$lib" && find . -name '*.[ch]' | sort) | while IFS= read -r f; do
		f=${f#./}
		dir=$(dirname "$f")
		dir=${dir%%/*}
		allow=$(allowed "$dir")
		if [ -z "$allow" ]; then
			echo "$f: folder '$dir' has no rule in scripts/check-layers.sh"
			continue
		fi
		[ "$allow" = "*" ] && continue
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$lib/$f" |
		sed 's/^\([0-9]*\):.*include[[:space:]]*"\([^"]*\)".*/\1 \2/' |
		while read -r n hdr; do
			ok=0
			for a in $allow; do
				case "$a" in
				*/) case "$hdr" in "$a"*) ok=1 ;; esac ;;
				*) [ "$hdr" = "$a" ] && ok=1 ;;
				esac
			done
			[ $ok = 1 ] ||
				echo "$f:$n: $dir/ may not include \"$hdr\" (allowed: $allow)"
		done
	done
}

check() {
	out=$(violations "$1")
	[ -z "$out" ] && return 0
	echo "$out" | sed "s|^|layers: $1/|" >&2
	return 1
}

if [ "${1:-}" = "--self-test" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	cp -r userspace/lib "$tmp/lib"
	check "$tmp/lib" >/dev/null 2>&1 || { echo "layers: self-test: the tree itself fails"; exit 1; }
	# A lower stage reaching up: the IR including the compiler.
	sed -i '0,/#include "ir\/qnpu_ir.h"/s//#include "ir\/qnpu_ir.h"\n#include "compiler\/qnpu_compiler.h"/' \
		"$tmp/lib/ir/qnpu_ir.c"
	if check "$tmp/lib" 2>/dev/null; then
		echo "layers: self-test: ir/ including compiler/ was not caught"
		exit 1
	fi
	echo "layers: self-test: a lower stage including a higher one fails the check"
	exit 0
fi

lib=${1:-userspace/lib}
if check "$lib"; then
	echo "layers: $lib: every include follows the stage order"
else
	exit 1
fi
