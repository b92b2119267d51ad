#!/bin/bash
# A device tree with an out-of-range, inconsistent or missing NPU property
# is refused in one line naming the property, by the sim backend (run) and
# by the offline target (compile), and leaves no output file.
# Usage: test_dt.sh QNPU_BIN
set -u
qnpu=$1
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
command -v dtc >/dev/null || { echo "SKIP: dtc not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=$M/tflite/tflm_hello_world_int8.tflite
head -c 1 /dev/zero >"$tmp/in"
pass=0 fail=0

dtb() {	# name "prop=value"... -> $tmp/name.dtb, the 16x16 node with changes
	local name=$1 kv p
	shift
	declare -A v=([mac-rows]=16 [mac-cols]=16 [abuf-bytes]=65536 [wbuf-bytes]=32768
		      [pbuf-bytes]=4096 [obuf-bytes]=32768)
	for kv in "$@"; do v[${kv%%=*}]=${kv#*=}; done
	{
		echo '/dts-v1/;'
		echo '/ { npu { compatible = "qnpu,npu-1.0";'
		for p in "${!v[@]}"; do
			[ "${v[$p]}" = none ] || echo "qnpu,$p = <${v[$p]}>;"
		done
		echo '}; };'
	} >"$tmp/$name.dts"
	dtc -q -I dts -O dtb -o "$tmp/$name.dtb" "$tmp/$name.dts"
}

refused() {	# name property: both commands fail in one line naming it
	local name=$1 prop=$2 how
	for how in run compile; do
		rm -f "$tmp/out"
		if [ $how = run ]; then
			"$qnpu" run --backend=sim:"$tmp/$name.dtb" --output="$tmp/out" \
				--input="$tmp/in" "$model" 2>"$tmp/err" >/dev/null
		else
			"$qnpu" compile --target="$tmp/$name.dtb" -o "$tmp/out" \
				"$model" 2>"$tmp/err" >/dev/null
		fi
		local rc=$?
		if [ $rc -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		   grep -q "qnpu,$prop" "$tmp/err" && [ ! -e "$tmp/out" ]; then
			echo "ok: $name ($how): $(cat "$tmp/err")"
			pass=$((pass + 1))
		else
			echo "FAIL: $name ($how): exit $rc, expected one line naming qnpu,$prop:"
			cat "$tmp/err"
			fail=$((fail + 1))
		fi
	done
}

dtb rows-odd mac-rows=12;			refused rows-odd mac-rows
dtb rows-big mac-rows=128;			refused rows-big mac-rows
dtb cols-small mac-cols=2;			refused cols-small mac-cols
dtb abuf-odd abuf-bytes=65535;			refused abuf-odd abuf-bytes
dtb wbuf-huge wbuf-bytes=33554432;		refused wbuf-huge wbuf-bytes
dtb pbuf-sets pbuf-bytes=256;			refused pbuf-sets pbuf-bytes
dtb obuf-missing obuf-bytes=none;		refused obuf-missing obuf-bytes
dtb dma-wide dma-bytes-per-cycle=32;		refused dma-wide dma-bytes-per-cycle
dtb dma-odd dma-bytes-per-cycle=3;		refused dma-odd dma-bytes-per-cycle
dtb queue queue-depth=100;			refused queue queue-depth
dtb latency mem-latency-cycles=20000;		refused latency mem-latency-cycles
dtb bandwidth mem-bytes-per-cycle=0;		refused bandwidth mem-bytes-per-cycle
dtb outstanding mem-outstanding=0;		refused outstanding mem-outstanding

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
