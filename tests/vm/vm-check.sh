#!/bin/bash
# make check's VM test: boot the qnpu VM under QEMU (TCG) with qnpu-sim and
# run the guest tests in it. One test for run-tests.sh: exit 0 pass,
# 77 skip (with the reason printed), anything else fail.
# Usage: vm-check.sh VM_DIR SIM KVER QEMU [run-vm.sh options...]
set -u
dir=$1 sim=$2 kver=$3 qemu=$4
shift 4

skip() { echo "SKIP: $*"; exit 77; }

command -v "$qemu" >/dev/null ||
	skip "$qemu not installed (qemu-system-x86 package, scripts/deps.sh)"
if [ -z "$kver" ] || [ ! -r "/boot/vmlinuz-$kver" ]; then
	skip "no readable Debian kernel image (linux-image-amd64) in /boot"
fi
[ -e "/lib/modules/$kver/modules.dep" ] ||
	skip "no modules for $kver in /lib/modules"
# The image is built by make (CHECK_DEPS) when the above exist.
for f in "$dir/vmlinux" "$dir/initramfs.cpio" "$sim"; do
	[ -e "$f" ] || { echo "FAIL: $f was not built"; exit 1; }
done
exec "$(dirname "$0")/../../scripts/vm/run-vm.sh" check --dir "$dir" \
	--sim "$sim" --qemu "$qemu" "$@"
