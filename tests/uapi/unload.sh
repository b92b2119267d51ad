#!/bin/sh
# Last qnpu test in the VM: the module unloads cleanly, with its BO and
# context counts at zero (BOs of a closed file go once its last job has
# ended, from a worker: allow that a few seconds), and leaves the ivshmem
# device free; the kernel
# has no taint but the expected out-of-tree (O, 4096) and unsigned
# module (E, 8192) ones: no WARN (W), oops (D), bad page (B)...
[ -e /sys/module/qnpu ] || { echo "SKIP: qnpu.ko not loaded"; exit 77; }
zero() {
	i=0
	while ! grep -q "^$2: 0\$" "$1"; do
		i=$((i + 1))
		[ $i -lt 300 ] || return 1
		sleep 0.1
	done
}
for f in /sys/kernel/debug/dri/*/bos; do
	[ -e "$f" ] || continue
	zero "$f" bos || { echo "FAIL: $f:"; cat "$f"; exit 1; }
done
for f in /sys/kernel/debug/dri/*/contexts; do
	[ -e "$f" ] || continue
	zero "$f" contexts || { echo "FAIL: $f:"; cat "$f"; exit 1; }
done
rmmod qnpu || { echo "FAIL: rmmod qnpu"; exit 1; }
[ ! -e /sys/module/qnpu ] || { echo "FAIL: still loaded"; exit 1; }
t=$(cat /proc/sys/kernel/tainted)
if [ $((t & ~(4096 | 8192))) -ne 0 ]; then
	echo "FAIL: kernel tainted $t:"
	dmesg | grep -B2 -A25 -E 'WARNING|BUG|Oops|cut here' | head -80
	exit 1
fi
echo "qnpu unloaded; counts were zero; taint $t (out-of-tree/unsigned only)"
