#!/bin/sh
# Build the qnpu test VM's initramfs: busybox-static, Debian's own kernel
# modules (with their dependencies from modules.dep, in load order), extra
# out-of-tree modules (qnpu.ko later), the test programs and scripts/vm/init.
# Usage: mkinitramfs.sh -k KVER -o OUT.cpio [-m "mod ..."] [-x extra.ko]...
#                       [-t test-program]... [-f SRC:DST]...
# -m  Debian module names (default: drm drm_shmem_helper gpu-sched)
# -x  out-of-tree module, loaded after the Debian ones, in the given order
# -t  test program, copied to /tests/ and run by /init in name order
# -f  any other file, copied to DST inside the image
# Dynamically linked programs and libraries (-t, -f) bring their shared
# libraries along, so libqnpu/libdrm programs run without a static build.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kver=""
out=""
mods="drm drm_shmem_helper gpu-sched"
extra=""
tests=""
files=""
while getopts k:o:m:x:t:f: opt; do
	case $opt in
	k) kver=$OPTARG ;;
	o) out=$OPTARG ;;
	m) mods=$OPTARG ;;
	x) extra="$extra $OPTARG" ;;
	t) tests="$tests $OPTARG" ;;
	f) files="$files $OPTARG" ;;
	*) exit 2 ;;
	esac
done
if [ -z "$kver" ] || [ -z "$out" ]; then
	echo "usage: $0 -k KVER -o OUT [-m MODS] [-x KO] [-t TEST] [-f S:D]" >&2
	exit 2
fi

moddir=/lib/modules/$kver
busybox=/bin/busybox
[ -r "$moddir/modules.dep" ] || {
	echo "mkinitramfs: no $moddir/modules.dep (linux-image-amd64?)" >&2
	exit 1
}
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || {
	echo "mkinitramfs: $busybox is not static (busybox-static?)" >&2
	exit 1
}

root=$(mktemp -d "${TMPDIR:-/tmp}/qnpu-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/sbin" "$root/etc/qnpu" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/run" "$root/root" \
	"$root/tests" "$root/lib/modules/$kver"
cp "$busybox" "$root/bin/busybox"
for a in $("$busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
install -m 0755 "$here/init" "$root/init"

# Resolve names to modules.dep entries. Names use - and _ alike; a line
# lists every dependency, and loading them in reverse order works.
resolve() {
	awk -v want="$1" '
	function norm(p) {
		sub(/.*\//, "", p); sub(/\.ko(\.(xz|zst|gz))?$/, "", p)
		gsub(/-/, "_", p); return p
	}
	BEGIN { gsub(/-/, "_", want) }
	{
		m = $1; sub(/:$/, "", m)
		if (norm(m) != want) next
		for (i = NF; i >= 2; i--) print $i
		print m; found = 1; exit
	}
	END { if (!found) exit 1 }' "$moddir/modules.dep"
}

list=""
for m in $mods; do
	paths=$(resolve "$m") || {
		echo "mkinitramfs: module $m not in $moddir/modules.dep" >&2
		exit 1
	}
	for p in $paths; do
		case " $list " in *" $p "*) ;; *) list="$list $p" ;; esac
	done
done

: >"$root/etc/qnpu/modules"
: >"$root/lib/modules/$kver/modules.dep"
for p in $list; do
	src=$moddir/$p
	dst=${p%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
	mkdir -p "$root/lib/modules/$kver/$(dirname "$dst")"
	# Busybox insmod may not read compressed modules: store plain .ko.
	case $p in
	*.ko) cp "$src" "$root/lib/modules/$kver/$dst" ;;
	*.ko.xz) xz -dc "$src" >"$root/lib/modules/$kver/$dst" ;;
	*.ko.zst) zstd -dcq "$src" >"$root/lib/modules/$kver/$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$root/lib/modules/$kver/$dst" ;;
	*) echo "mkinitramfs: unknown module format $p" >&2; exit 1 ;;
	esac
	echo "/lib/modules/$kver/$dst" >>"$root/etc/qnpu/modules"
	# Same entry, decompressed names, for busybox modprobe in vm-shell.
	awk -v m="$p" '{ k = $1; sub(/:$/, "", k) } k == m' \
		"$moddir/modules.dep" |
		sed -e 's/\.ko\.\(xz\|zst\|gz\)/.ko/g' \
		>>"$root/lib/modules/$kver/modules.dep"
done
for x in $extra; do
	mkdir -p "$root/lib/modules/$kver/extra"
	cp "$x" "$root/lib/modules/$kver/extra/"
	echo "/lib/modules/$kver/extra/$(basename "$x")" \
		>>"$root/etc/qnpu/modules"
done
# Shared libraries of a dynamically linked program or library, at the
# paths the dynamic loader looks for them (including the loader itself).
add_libs() {
	file -L "$1" 2>/dev/null | grep -q 'dynamically linked' || return 0
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }' | while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

for t in $tests; do
	install -m 0755 "$t" "$root/tests/"
	add_libs "$t"
done
for f in $files; do
	src=${f%%:*}
	dst=${f#*:}
	mkdir -p "$root/$(dirname "$dst")"
	cp -a "$src" "$root/$dst"
	add_libs "$src"
done
echo "$kver" >"$root/etc/qnpu/kver"

# Uncompressed: under TCG, unpacking is cheaper than decompressing.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out: $(wc -c <"$out") bytes; modules:" \
	"$(sed 's,.*/,,' "$root/etc/qnpu/modules" | tr '\n' ' ')"
