#!/bin/bash
# Every shared model's golden outputs and layer dumps on one CPU kernel
# path (QNPU_CPU_ISA), at 1, 2 and 3 threads (the scalar reference runs
# single-threaded: once). A path this CPU lacks is a SKIP with the reason
# libqnpu gives.
# Usage: golden-cpu-paths.sh QNPU_BIN scalar|avx2|avx512vnni
set -u
qnpu=$1 isa=$2
here=$(dirname "$0")
M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
model=$(ls "$M"/tflite/*.tflite | head -n 1)
if ! err=$(QNPU_CPU_ISA=$isa "$qnpu" inspect --backend=cpu "$model" 2>&1 >/dev/null); then
	case $err in
	*lacks*) echo "SKIP: $isa: ${err#qnpu: }"; exit 77 ;;
	*) echo "FAIL: $isa: $err"; exit 1 ;;
	esac
fi
case $isa in
scalar) counts="1" ;;
*) counts="1 2 3" ;;
esac
rc=0
for t in $counts; do
	echo "== QNPU_CPU_ISA=$isa --threads=$t"
	QNPU_CPU_ISA=$isa QNPU_GOLDEN_THREADS=$t \
		"$here/golden.sh" "$qnpu" ALL cpu >"${TMPDIR:-/tmp}/golden-$isa-$t.$$" 2>&1 || rc=1
	grep -E "^(FAIL|.* on cpu:)" "${TMPDIR:-/tmp}/golden-$isa-$t.$$"
	rm -f "${TMPDIR:-/tmp}/golden-$isa-$t.$$"
done
[ $rc = 0 ] && echo "ok: every model golden on $isa at threads: $counts"
exit $rc
