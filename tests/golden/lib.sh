# Sourced by the golden tests: the shared models' directory $M (SKIP when
# it is missing), a scratch directory $tmp removed on exit, and the
# --input arguments of one golden input.

M=${QNPU_MODELS:-../shared/models}
if [ ! -d "$M/tflite" ]; then
	echo "SKIP: shared models not found at $M"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

input_args() {	# model id -> the --input arguments for it
	local dir=$M/inputs/$1 id=$2
	if [ -f "$dir/$id.int8.bin" ]; then
		echo "--input=$dir/$id.int8.bin"
	else
		echo "--input=$dir/$id.in0.int8.bin --input=$dir/$id.in1.int8.bin"
	fi
}
