#!/bin/sh
# Last qnpu test in the VM: the module unloads cleanly, with its BO and
# context counts at zero, and leaves the ivshmem device free; the kernel
# has no taint but the expected out-of-tree (O, 4096) and unsigned
# module (E, 8192) ones: no WARN (W), oops (D), bad page (B)...
[ -e /sys/module/qnpu ] || { echo "SKIP: qnpu.ko not loaded"; exit 77; }
for f in /sys/kernel/debug/dri/*/bos; do
	[ -e "$f" ] || continue
	grep -q '^bos: 0$' "$f" || { echo "FAIL: $f:"; cat "$f"; exit 1; }
done
for f in /sys/kernel/debug/dri/*/contexts; do
	[ -e "$f" ] || continue
	grep -q '^contexts: 0$' "$f" || { echo "FAIL: $f:"; cat "$f"; exit 1; }
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
