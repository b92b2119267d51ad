#!/bin/bash
# qnpu sweep: a small estimated grid (CSV/JSON rows, cycles = estimates,
# every plot a well-formed SVG, a Pareto front), a small RTL grid on a
# shipped configuration (estimate = RTL cycles, generated Makefile), and
# each user error refused in one line.
# Usage: test_sweep.sh QNPU_BIN
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
export QNPU_MODELS=$M
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }

if "$qnpu" sweep -o "$tmp/est" --estimate --rows=8,16 --cols=16 \
	--mem-bw=ideal,8 --models=tflm_hello_world_int8,mlperf_tiny_ic_resnet8 \
	-j 2 >"$tmp/est.txt" 2>&1 &&
   python3 - "$tmp/est" <<'PY'
import csv, json, sys, xml.etree.ElementTree as ET, glob
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/results.csv")))
js = json.load(open(f"{d}/results.json"))
assert len(rows) == 8 == len(js), len(rows)
assert {r["model"] for r in rows} == {"tflm_hello_world_int8", "mlperf_tiny_ic_resnet8"}
for r in rows:
    assert r["mode"] == "estimate" and r["ok"] == "1", r
    assert int(r["cycles"]) == int(r["est_cycles"]) > 0, r
    assert float(r["area_mm2_estimate"]) > 0, r
# narrower memory is slower; a larger array is bigger
r8 = {(r["rows"], r["mem_bytes_per_cycle"]): r for r in rows if r["model"] == "mlperf_tiny_ic_resnet8"}
assert int(r8[("16", "8")]["cycles"]) > int(r8[("16", "0")]["cycles"])
assert float(r8[("16", "0")]["area_mm2_estimate"]) > float(r8[("8", "0")]["area_mm2_estimate"])
svgs = glob.glob(f"{d}/*.svg")
assert len(svgs) == 4, svgs	# utilization, area, a roofline per model
for s in svgs:
    ET.parse(s)
assert "#d62728" in open(f"{d}/area.svg").read()	# the Pareto front
PY
then
	ok "sweep --estimate: 8 points, CSV/JSON, 4 SVG plots"
else
	bad "sweep --estimate"; cat "$tmp/est.txt"
fi

if "$qnpu" sweep -o "$tmp/rtl" --rows=16 --cols=16 --mem-bw=16 --mem-lat=100 \
	--models=tflm_hello_world_int8,tflm_simple_add >"$tmp/rtl.txt" 2>&1 &&
   grep -q "worst error 0.00 %" "$tmp/rtl.txt" && [ -f "$tmp/rtl/Makefile" ] &&
   [ "$(grep -c ',rtl,1,' "$tmp/rtl/results.csv")" -eq 2 ]; then
	ok "sweep on the RTL: 2 points, estimate = RTL cycles"
else
	bad "sweep on the RTL"; cat "$tmp/rtl.txt"
fi

refused() {	# what property-or-text args...
	local what=$1 text=$2
	shift 2
	rm -rf "$tmp/bad"
	if "$qnpu" sweep -o "$tmp/bad" --estimate "$@" >/dev/null 2>"$tmp/err"; then
		bad "$what: accepted"
	elif [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$text" "$tmp/err"; then
		ok "$what: $(cat "$tmp/err")"
	else
		bad "$what: expected one line with \"$text\":"; cat "$tmp/err"
	fi
}
refused "not a number" "--rows" --rows=abc
refused "zero columns" "--cols" --cols=0
refused "unknown model" "no_such_model" --models=no_such_model
refused "invalid configuration" "qnpu,mac-rows" --rows=12 --models=tflm_hello_world_int8
refused "SRAM not a count" "--sram" --sram=0.5
refused "SRAM too small" "qnpu,wbuf-bytes" --sram=1 --models=tflm_hello_world_int8
refused "bad -j" "-j" -j 0 --models=tflm_hello_world_int8
if "$qnpu" sweep --estimate >/dev/null 2>"$tmp/err"; then
	bad "no -o: accepted"
elif tail -1 "$tmp/err" | grep -q "need -o DIR"; then
	ok "no -o: usage and \"$(tail -1 "$tmp/err")\""
else
	bad "no -o"; cat "$tmp/err"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
