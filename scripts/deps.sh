#!/bin/sh
# Install every Debian package the whole project needs. Idempotent: quiet
# and fast when all are present; runs apt-get update only when one is missing.
set -e

PKGS="build-essential pkg-config python3 clang llvm libclang-rt-14-dev
libcmocka-dev verilator libdrm-dev libfdt-dev device-tree-compiler
linux-headers-amd64 linux-image-amd64 qemu-system-x86 busybox-static cpio
valgrind sparse xz-utils file bc kmod nodejs
protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata"
# tests/tflite-runtime runs TFLite (WASM, from npm) in node; Debian's npm
# only when the installed nodejs does not bring its own.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
# Benchmark-only: `make bench-cpu` compares the CPU kernels with oneDNN and
# XNNPACK (and XNNPACK's thread pool header); nothing else links them.
PKGS="$PKGS libdnnl-dev libxnnpack-dev libpthreadpool-dev"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
