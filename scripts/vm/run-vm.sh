#!/bin/bash
# Boot the qnpu test VM: qnpu-sim first (ivshmem server, guest-RAM file),
# then QEMU (TCG, q35, guest RAM = that file, ivshmem-doorbell, vmlinux
# booted directly through PVH, our initramfs). Both are cleaned up on every
# exit path; a guest that does not power off in time is killed.
#
# Usage: run-vm.sh check|shell [options]
#   --dir DIR         image and logs (default build/vm): DIR/vmlinux,
#                     DIR/initramfs.cpio; writes DIR/console.log,
#                     DIR/qnpu-sim.log, DIR/qemu.log
#   --sim PATH        qnpu-sim binary (default build/sim/qnpu-sim)
#   --sim-arg ARG     extra qnpu-sim argument (repeatable)
#   --qemu PATH       QEMU binary (default qemu-system-x86_64)
#   --timeout SEC     hard limit for the whole guest run (check mode, 120)
#   --test-timeout SEC  limit per guest test program, enforced in the guest
#                     so a hung test is named (default 60)
#   --mem SIZE        guest RAM (default 512M)
#   --smp N           guest CPUs (default 1: the host's other core runs
#                     qnpu-sim)
#   --log-tag TAG     logs are console-TAG.log etc. (default: no tag)
#   --sim-may-exit    qnpu-sim exiting is part of the test (device-lost
#                     tests): keep the guest running, do not fail for it
#   --append ARGS     extra kernel command line (repeatable)
# check: exit 0 when every guest test passed, 77 when all skipped, else 1.
set -u

mode=${1:-}
case $mode in
check|shell) shift ;;
*) echo "usage: $0 check|shell [options]" >&2; exit 2 ;;
esac

dir=build/vm
sim=build/sim/qnpu-sim
qemu="qemu-system-x86_64"
sim_args=()
timeout=120
test_timeout=60
mem=512M
smp=1
append=""
tag=""
sim_may_exit=0
while [ $# -gt 0 ]; do
	case $1 in
	--dir) dir=$2; shift 2 ;;
	--sim) sim=$2; shift 2 ;;
	--qemu) qemu=$2; shift 2 ;;
	--sim-arg) sim_args+=("$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--log-tag) tag=-$2; shift 2 ;;
	--sim-may-exit) sim_may_exit=1; shift ;;
	--append) append="$append $2"; shift 2 ;;
	*) echo "run-vm: unknown option $1" >&2; exit 2 ;;
	esac
done

# A bare number is MiB to QEMU; say so for qnpu-sim and numfmt too.
case $mem in *[0-9]) mem=${mem}M ;; esac
mem_bytes=$(numfmt --from=iec "$mem") || exit 2

kernel=$dir/vmlinux
initrd=$dir/initramfs.cpio
console=$dir/console$tag.log
simlog=$dir/qnpu-sim$tag.log
qemulog=$dir/qemu$tag.log
for f in "$kernel" "$initrd" "$sim"; do
	[ -r "$f" ] || { echo "run-vm: missing $f (make vm-image)" >&2; exit 1; }
done

# Short socket path (108-byte limit), RAM on tmpfs when we can.
rundir=$(mktemp -d "${TMPDIR:-/tmp}/qnpu-vm.XXXXXX") || exit 1
sock=$rundir/ivshmem.sock
ready=$rundir/sim.ready
ramdir=$rundir
[ -d /dev/shm ] && [ -w /dev/shm ] && ramdir=/dev/shm
ram=$ramdir/qnpu-vm.$$.ram

sim_pid=""
qemu_pid=""

# Stop one of our children by pid: TERM, then KILL after a grace period.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "run-vm: pid $pid ignores SIGTERM, killing" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
	stop_pid "$qemu_pid"
	qemu_pid=""
	stop_pid "$sim_pid"
	sim_pid=""
	rm -f "$ram"
	rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# If this script is SIGKILLed, the kernel still stops our children.
pdeath=()
if setpriv --help 2>/dev/null | grep -q pdeathsig; then
	pdeath=(setpriv --pdeathsig)
fi

mkdir -p "$dir"
: >"$console"
# qnpu-sim gets TERM on our death (it removes its files), QEMU gets KILL.
${pdeath:+"${pdeath[@]}" TERM} "$sim" --socket "$sock" --ram "$ram" \
	--ram-size "$mem" --ready-file "$ready" --verbose "${sim_args[@]}" \
	>"$simlog" 2>&1 </dev/null &
sim_pid=$!
for _ in $(seq 100); do
	[ -e "$ready" ] && break
	kill -0 "$sim_pid" 2>/dev/null || break
	sleep 0.1
done
if [ ! -e "$ready" ]; then
	echo "run-vm: qnpu-sim did not become ready:" >&2
	cat "$simlog" >&2
	exit 1
fi

# no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
# check can miss its ticks and panic at boot ("IO-APIC + timer doesn't
# work"; seen once in a make check with both cores busy).
cmdline="console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init qnpuvm=$mode"
cmdline="$cmdline no_timer_check"
# The guest tests need QEMU's RAM size to know where RAM ends.
cmdline="$cmdline qnpuvm_mem=$mem_bytes"
[ "$mode" = check ] && cmdline="$cmdline qnpuvm_timeout=$test_timeout"
cmdline="$cmdline $append"

# shellcheck disable=SC2054  # commas belong to QEMU options
qemu_args=(
	-machine q35,accel=tcg,memory-backend=mem
	-m "$mem" -smp "$smp"
	-object "memory-backend-file,id=mem,size=$mem,mem-path=$ram,share=on"
	-chardev "socket,id=ivsh,path=$sock"
	-device ivshmem-doorbell,chardev=ivsh,vectors=2
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-nodefaults -no-user-config -nic none -display none -no-reboot
)

if [ "$mode" = shell ]; then
	echo "run-vm: shell; Ctrl-A X quits QEMU, 'exit' powers off" >&2
	"${pdeath[@]}" ${pdeath:+KILL} "$qemu" "${qemu_args[@]}" \
		-chardev "stdio,id=con,mux=on,signal=off,logfile=$console" \
		-serial chardev:con -mon chardev=con,mode=readline \
		2>"$qemulog"
	exit $?
fi

t0=$(date +%s.%N)
${pdeath:+"${pdeath[@]}" KILL} "$qemu" "${qemu_args[@]}" \
	-chardev "file,id=con,path=$console" -serial chardev:con \
	>"$qemulog" 2>&1 </dev/null &
qemu_pid=$!
timed_out=0
sim_alive=1
deadline=$((SECONDS + timeout))
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ $SECONDS -ge "$deadline" ]; then
		timed_out=1
		break
	fi
	# The device is gone: the guest can only time out, stop it now.
	if [ $sim_may_exit = 0 ] && ! kill -0 "$sim_pid" 2>/dev/null; then
		sim_alive=0
		break
	fi
	sleep 0.1
done
if [ $timed_out = 1 ] || [ $sim_alive = 0 ]; then
	stop_pid "$qemu_pid"
	qemu_rc=124
else
	wait "$qemu_pid"
	qemu_rc=$?
fi
qemu_pid=""
t1=$(date +%s.%N)
wall=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')

[ $sim_may_exit = 1 ] || kill -0 "$sim_pid" 2>/dev/null || sim_alive=0

fail_tail() {
	echo "run-vm: FAIL: $*"
	# A guest that finished has printed its whole report above.
	if ! grep -q '^QNPU-VM-RESULT:' "$console"; then
		echo "---- tail of $console"
		tail -n 40 "$console"
	fi
	echo "---- $qemulog"
	tail -n 20 "$qemulog"
	echo "---- $simlog"
	tail -n 20 "$simlog"
	exit 1
}

# The guest's own report, without kernel noise before /init.
sed -n '/^QNPU-VM:/,$p' "$console" | tr -d '\r'

[ $sim_alive = 1 ] || fail_tail "qnpu-sim died during the run"
[ $timed_out = 0 ] || fail_tail "guest did not power off within ${timeout} s"
[ "$qemu_rc" = 0 ] || fail_tail "QEMU exited with $qemu_rc"
result=$(tr -d '\r' <"$console" | grep '^QNPU-VM-RESULT:' | tail -n 1)
[ -n "$result" ] || fail_tail "no QNPU-VM-RESULT line on the console"

field() { echo "$result" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
pass=$(field pass)
fail=$(field fail)
skip=$(field skip)
up=$(field uptime)
echo "run-vm: guest result at ${up:-?} s guest uptime;" \
	"wall ${wall} s from QEMU start to exit"
[ "$fail" = 0 ] || fail_tail "$fail guest test(s) failed"
if [ "$pass" = 0 ]; then
	[ "$skip" -gt 0 ] && { echo "run-vm: SKIP: all guest tests skipped"; exit 77; }
	fail_tail "no guest tests ran"
fi
echo "run-vm: PASS: $pass passed, $skip skipped"
exit 0
