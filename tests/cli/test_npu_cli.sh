#!/bin/bash
# The NPU side of the CLI: compile offline from a DTB and run the result,
# refusals of mismatched or damaged compiled files, and `profile` output
# (table and JSON with the documented fields).
# Usage: test_npu_cli.sh QNPU_BIN DTB_DIR
set -u
qnpu=$1 dtbs=$2
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"; exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
r8=$M/tflite/mlperf_tiny_ic_resnet8.tflite
in=$M/inputs/mlperf_tiny_ic_resnet8/ic_sample0.int8.bin
golden=$M/golden/mlperf_tiny_ic_resnet8/ic_sample0.out.int8.bin

expect_fail() {
	local name=$1 pat=$2; shift 2
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		bad "$name: exit 0"
	elif ! grep -qF -- "$pat" "$tmp/err"; then
		bad "$name: stderr lacks \"$pat\": $(cat "$tmp/err")"
	else
		ok "$name: $(head -1 "$tmp/err")"
	fi
}

for size in 8x8 16x16 32x32; do
	if "$qnpu" compile --target="$dtbs/qnpu-$size.dtb" -o "$tmp/$size.qnpc" \
		"$r8" >/dev/null &&
	   "$qnpu" run --backend="sim:$size" --input="$in" \
		--output="$tmp/o.bin" "$tmp/$size.qnpc" &&
	   cmp -s "$tmp/o.bin" "$golden"; then
		ok "compiled offline for $size from its DTB, golden on sim:$size"
	else
		bad "compile for $size and run"
	fi
done
expect_fail "compiled for 8x8, run on 16x16" "built for a 8x8 NPU" \
	"$qnpu" run --backend=sim --input="$in" --output="$tmp/o.bin" "$tmp/8x8.qnpc"
head -c 3000 "$tmp/8x8.qnpc" >"$tmp/trunc.qnpc"
expect_fail "truncated compiled model" "compiled model: truncated" \
	"$qnpu" run --backend=sim:8x8 --input="$in" --output="$tmp/o.bin" "$tmp/trunc.qnpc"
cp "$tmp/8x8.qnpc" "$tmp/v9.qnpc"
printf '\x09' | dd of="$tmp/v9.qnpc" bs=1 seek=4 conv=notrunc 2>/dev/null
expect_fail "future format version" "format version 9" \
	"$qnpu" run --backend=sim:8x8 --input="$in" --output="$tmp/o.bin" "$tmp/v9.qnpc"
expect_fail "compiled model on the CPU" "it runs on an NPU" \
	"$qnpu" run --backend=cpu --input="$in" --output="$tmp/o.bin" "$tmp/8x8.qnpc"
expect_fail "compile on the CPU" "compiles nothing" \
	"$qnpu" compile --backend=cpu -o "$tmp/x.qnpc" "$r8"
expect_fail "target DTB missing" "No such file" \
	"$qnpu" compile --target="$tmp/none.dtb" -o "$tmp/x.qnpc" "$r8"
expect_fail "target that only compiles cannot run" "only compiles" \
	"$qnpu" run --backend="target:$dtbs/qnpu-16x16.dtb" --input="$in" \
	--output="$tmp/o.bin" "$r8"

# profile: every layer, npu/cpu, and totals that add up.
if "$qnpu" profile --backend=sim --format=json --input="$in" "$r8" >"$tmp/p.json" &&
   python3 - "$tmp/p.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
L, T = p["layers"], p["total"]
assert len(L) == 16
for l in L:
    for k in ("index", "op", "where", "macs", "cycles", "utilization",
              "dma_in", "dma_out"):
        assert k in l, k
    assert l["where"] in ("npu", "cpu", "fused")
    # an ADD in its convolution's epilogue, a 1x1 shortcut in the job of
    # the convolution of the same input
    if l["where"] == "fused":
        assert l["op"] in ("ADD", "CONV_2D") and l["cycles"] == 0
    if l["where"] == "npu":
        # (an output kept on chip for the next layer moves no DMA)
        assert l["cycles"] > 0 and l["dma_in"] + l["dma_out"] > 0
npu = [l for l in L if l["where"] == "npu"]
assert T["macs"] == sum(l["macs"] for l in L) == 12501632
assert T["npu_macs"] == sum(l["macs"] for l in L if l["where"] != "cpu")
assert T["cycles"] == sum(l["cycles"] for l in npu)
u = T["npu_macs"] / (p["rows"] * p["cols"] * T["cycles"])
assert abs(u - T["utilization"]) < 1e-3
assert T["host_wall_us"] > 0
PY
then
	ok "profile --format=json: 16 layers, totals consistent"
else
	bad "profile --format=json"
fi
if "$qnpu" profile --backend=sim "$r8" | grep -q "^total: 12501632 MACs"; then
	ok "profile table"
else
	bad "profile table"
fi
head -c 3000 "$in" >"$tmp/short.bin"
expect_fail "profile input of the wrong size" \
	"is 3000 bytes, not a multiple of input 0 (INT8 1x32x32x3, 3072 bytes)" \
	"$qnpu" profile --backend=sim --input="$tmp/short.bin" "$r8"
if "$qnpu" bench --target="$dtbs/qnpu-8x8.dtb" --runs=1 "$r8" |
	grep -q "^device sim, 8x8 MAC array"; then
	ok "bench --target: heading names the DTB's 8x8 NPU"
else
	bad "bench --target heading"
fi
echo "npu cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
