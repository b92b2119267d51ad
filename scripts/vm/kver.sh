#!/bin/sh
# Print the version of the Debian kernel the VM boots: the one the
# linux-image-amd64 metapackage depends on (not `uname -r`: the build host
# may run another kernel). Falls back to the newest /boot/vmlinuz-*-amd64
# that has its modules installed.
v=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	grep -o 'linux-image-[0-9][^ ,]*' | head -n 1 | sed 's/^linux-image-//')
if [ -n "$v" ] && [ -e "/boot/vmlinuz-$v" ]; then
	echo "$v"
	exit 0
fi
for f in $(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -rV); do
	v=${f#/boot/vmlinuz-}
	[ -e "/lib/modules/$v/modules.dep" ] && { echo "$v"; exit 0; }
done
exit 1
