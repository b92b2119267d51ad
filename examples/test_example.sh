#!/bin/bash
# Install libqnpu into a staging root, build the example through
# pkg-config alone, and check its verdicts on TFLite Micro's test images.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
M=${QNPU_MODELS:-$top/../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"; exit 77
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr >/dev/null
export PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
make -s -C "$top/examples" OUT="$stage" >/dev/null
[ -n "$(pkg-config --libs qnpu)" ]
out=$(LD_LIBRARY_PATH="$stage/usr/lib" "$stage/person_detect" \
	"$M/tflite/tflm_person_detect.tflite" \
	"$M/inputs/tflm_person_detect/person.int8.bin" \
	"$M/inputs/tflm_person_detect/no_person_corrected.int8.bin")
echo "$out"
echo "$out" | grep -q 'person.int8.bin .*-> PERSON$'
echo "$out" | grep -q 'no_person_corrected.int8.bin .*-> NO PERSON$'
# Exactly the functions of qnpu.h are exported, nothing from inside.
nm -D --defined-only "$stage/usr/lib/libqnpu.so" | awk '$2 == "T" {print $3}' | \
	sed 's/@.*//' | sort -u >"$stage/exported"
grep -o '^[a-z].* \**qnpu_[a-z_0-9]*(' "$top/userspace/include/qnpu.h" | \
	grep -o 'qnpu_[a-z_0-9]*' | sort -u >"$stage/declared"
if ! diff "$stage/declared" "$stage/exported"; then
	echo "FAIL: libqnpu exports differ from qnpu.h (< declared, > exported)"
	exit 1
fi
echo "example built through pkg-config and classified both images"
