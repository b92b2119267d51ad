#!/bin/sh
# Last qnpu test in the VM: the module unloads cleanly, with its BO and
# context counts at zero, and leaves the ivshmem device free.
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
echo "qnpu unloaded; counts were zero"
