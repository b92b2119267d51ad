#!/bin/bash
# The device-lost VM run (one test for run-tests.sh): qnpu-sim serves the
# device and dies like a crash after N doorbells (--exit-after-doorbells);
# the guest runs only tests/uapi/lost.c (kernel command line
# qnpu_lost_run). Exit 0 pass, 77 skip with the reason, else fail.
# Usage: vm-lost.sh VM_DIR SIM KVER QEMU DOORBELLS
set -u
dir=$1 sim=$2 kver=$3 qemu=$4 n=$5
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/qnpu-vm-lost.XXXXXX")
trap 'rm -f "$log"' EXIT

"$here/../vm/vm-check.sh" "$dir" "$sim" "$kver" "$qemu" --timeout 180 \
	--log-tag lost --sim-may-exit --sim-arg "--exit-after-doorbells=$n" \
	--append qnpu_lost_run >"$log" 2>&1
rc=$?
cat "$log"
# A qnpu-sim that serves no device model cannot lose it.
if [ $rc -ne 0 ] && grep -q 'no device model' "$log"; then
	echo "SKIP: qnpu-sim serves no device model yet (transport test only)"
	exit 77
fi
exit $rc
