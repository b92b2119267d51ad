#!/bin/bash
# The driver's VM runs (each one test for run-tests.sh): qnpu-sim serving
# the device model (not the transport test hook), every guest test.
# With --fault KIND@N, qnpu-sim injects that fault (docs/vm.md): for
# "die" (mid-job) and "exit" (after N doorbells) qnpu-sim dies like a
# crash and the guest runs only tests/uapi/lost.c (kernel command line
# qnpu_only=device-lost); for the others only tests/uapi/fault.c
# (qnpu_only=fault qnpu_fault=KIND@N). --lost N is --fault exit@N;
# --lost-idle N the same with tests/uapi/lost_idle.c
# (qnpu_only=device-lost-idle), where the device dies while idle.
# With --bench, only the benchmark runs (qnpu_only=bench); with
# --fuzz SECONDS SEED, only the uAPI fuzzer (qnpu_only=fuzz); with
# --trace DEPTH, only the SUBMIT ftrace (qnpu_only=trace).
# Exit 0 pass, 77 skip with the reason, else fail.
# Usage: vm-device.sh VM_DIR SIM KVER QEMU [--lost N | --lost-idle N |
#        --fault KIND@N | --bench | --fuzz SECONDS SEED | --trace DEPTH]
set -u
dir=$1 sim=$2 kver=$3 qemu=$4
shift 4
# 120 s per guest test, 360 in all: the drm golden run simulates every
# shared model on the shipped 16x16 with its DRAM model (docs/codesign.md),
# 35-60 s on a loaded 2-core machine.
args=(--timeout 360 --test-timeout 120 --log-tag dev)
if [ "${1:-}" = --lost ]; then
	set -- --fault "exit@$2"
fi
if [ "${1:-}" = --fault ]; then
	case $2 in
	die@*|exit@*)
		args=(--timeout 180 --log-tag "lost-${2%@*}" --sim-may-exit
		      --sim-arg "--fault=$2" --append qnpu_only=device-lost) ;;
	*)
		args=(--timeout 180 --log-tag "fault-${2%@*}"
		      --sim-arg "--fault=$2"
		      --append "qnpu_only=fault qnpu_fault=$2") ;;
	esac
elif [ "${1:-}" = --lost-idle ]; then
	args=(--timeout 180 --log-tag lost-idle --sim-may-exit
	      --sim-arg "--fault=exit@$2"
	      --append qnpu_only=device-lost-idle)
elif [ "${1:-}" = --fuzz ]; then
	# The fuzzer's own time, plus boot, the final checks and a margin.
	args=(--timeout $(($2 + 150)) --test-timeout $(($2 + 90))
	      --log-tag fuzz
	      --append "qnpu_only=fuzz qnpu_fuzz_time=$2 qnpu_fuzz_seed=$3")
elif [ "${1:-}" = --trace ]; then
	args=(--timeout 300 --test-timeout 240 --log-tag trace
	      --append "qnpu_only=trace qnpu_trace_depth=$2")
elif [ "${1:-}" = --bench ]; then
	args=(--timeout 600 --test-timeout 540 --log-tag bench
	      --append qnpu_only=bench)
fi
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp "${TMPDIR:-/tmp}/qnpu-vm-device.XXXXXX")
trap 'rm -f "$log"' EXIT

"$here/../vm/vm-check.sh" "$dir" "$sim" "$kver" "$qemu" "${args[@]}" \
	>"$log" 2>&1
rc=$?
cat "$log"
# Until qnpu-sim has the device model there is nothing to drive.
if [ $rc -ne 0 ] && grep -q 'no device model' "$log"; then
	echo "SKIP: qnpu-sim serves no device model yet (transport test only)"
	exit 77
fi
exit $rc
