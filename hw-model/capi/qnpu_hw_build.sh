#!/bin/sh
# Build one Verilated model on demand into the model cache (qnpu_hw_cache.cpp
# runs this when a configuration is not linked into libqnpu_hw):
#   qnpu_hw_build.sh SRC_DIR OUT_DIR CLASS "VERILOG_PARAMS" "RTL_FILES" "VLT_OBJS"
# OUT_DIR/model.so appears atomically (the log is OUT_DIR.log); concurrent builds of one key wait for
# the first (flock), so make -j or several processes build it once.
set -e
src=$1 out=$2 class=$3 vparams=$4 rtl=$5 vltobjs=$6
[ -n "$vltobjs" ] || { echo "usage: $0 SRC OUT CLASS VPARAMS RTL VLT_OBJS" >&2; exit 2; }
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
[ -f "$out/model.so" ] && exit 0
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
# a failed build leaves only its log ($out.log)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
start=$(date +%s)
# the flags of hw-model.mk's HW_VFLAGS (linked models) plus --assert; a
# caller that already runs builds in parallel (qnpu sweep -j) asks for one
# compiler job each with QNPU_HW_BUILD_JOBS=1
# shellcheck disable=SC2086
${VERILATOR:-verilator} --cc --build -j "${QNPU_HW_BUILD_JOBS:-2}" --top-module qnpu_top -O3 --x-assign fast \
	--x-initial fast --unroll-count 4 -CFLAGS "-fPIC -std=gnu++17 -fvisibility=hidden" \
	-MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O1 VM_PARALLEL_BUILDS=1" \
	--assert --prefix "$class" --Mdir "$tmp/obj" $vparams hw-model/lint/qnpu.vlt $rtl \
	>"$out.log" 2>&1
printf '{ global: qnpu_hw_model_new; local: *; };\n' >"$tmp/model.map"
# shellcheck disable=SC2086
${CXX:-g++} -O2 -fPIC -shared -std=gnu++17 -fvisibility=hidden \
	-Ihw-model/include -Ihw-model/gen -Ihw-model/capi -I"$tmp/obj" \
	-isystem /usr/share/verilator/include -isystem /usr/share/verilator/include/vltstd \
	-DQNPU_HW_MODEL_CLASS="$class" -include "$class.h" hw-model/capi/qnpu_hw_model.cpp \
	"$tmp/obj/${class}__ALL.a" $vltobjs -Wl,--version-script="$tmp/model.map" \
	-Wl,-Bsymbolic -o "$tmp/model.so" >>"$out.log" 2>&1
echo $(($(date +%s) - start)) >"$tmp/build-seconds"
rm -rf "$tmp/obj"
rm -rf "$out"
mv "$tmp" "$out"
# the same configuration's models from older sources go
base=$(basename "$out")
sh hw-model/capi/qnpu_hw_cache_prune.sh "$(dirname "$out")" "${base%-*}" \
	"${base##*-}"
