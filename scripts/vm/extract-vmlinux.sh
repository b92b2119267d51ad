#!/bin/sh
# Extract the uncompressed ELF vmlinux from a Debian bzImage, so QEMU can
# boot it directly through its PVH entry (about twice as fast under TCG as
# going through the bzImage decompressor).
# Debian builds with CONFIG_KERNEL_XZ and ships no extract-vmlinux: find
# every XZ stream magic in the image and keep the first stream that
# decompresses to an ELF file.
# Usage: extract-vmlinux.sh BZIMAGE OUT
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BZIMAGE OUT" >&2; exit 2; }
img=$1
out=$2
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

[ -r "$img" ] || { echo "extract-vmlinux: cannot read $img" >&2; exit 1; }

# Byte offsets of the XZ magic FD 37 7A 58 5A 00.
offsets=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$img" | cut -d: -f1)
for off in $offsets; do
	# --single-stream: the stream is followed by unrelated bytes.
	if tail -c +"$((off + 1))" "$img" |
		xz -dc --single-stream >"$tmp" 2>/dev/null &&
		[ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
	then
		mv "$tmp" "$out"
		echo "extract-vmlinux: $img: XZ stream at byte $off ->" \
			"$out ($(wc -c <"$out") bytes)"
		exit 0
	fi
done
echo "extract-vmlinux: no XZ stream decompressing to ELF in $img" >&2
exit 1
