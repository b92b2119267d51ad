# Sourced by the golden tests: the shared models' directory $M (SKIP when
# it is missing), a scratch directory $tmp removed on exit, the --input
# arguments of one golden input, and a with-and-without-a-knob run.

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

# profile_on_off VAR MODEL FILE ID: `qnpu profile --format=json` of FILE
# on golden input ID, as it is into $tmp/on.json and with VAR=0 into
# $tmp/off.json; fails when either run does.
profile_on_off() {
	local var=$1 model=$2 m=$3 id=$4
	# shellcheck disable=SC2046
	"$qnpu" profile --backend="$backend" --format=json \
		$(input_args "$model" "$id") "$m" >"$tmp/on.json" &&
	env "$var=0" "$qnpu" profile --backend="$backend" --format=json \
		$(input_args "$model" "$id") "$m" >"$tmp/off.json"
}

# on_off_golden VAR WHAT MODEL FILE GOLDEN...: every golden input of MODEL
# run through FILE on $backend by $qnpu as it is and with VAR=0; both
# outputs identical to each other and to golden (WHAT names the two in a
# failure). Counts into $pass and $fail.
on_off_golden() {
	local var=$1 what=$2 model=$3 m=$4 golden id
	shift 4
	for golden in "$@"; do
		id=$(basename "$golden" .out.int8.bin)
		# shellcheck disable=SC2046
		if ! "$qnpu" run --backend="$backend" $(input_args "$model" "$id") \
			--output="$tmp/on.bin" "$m" ||
		   ! env "$var=0" "$qnpu" run --backend="$backend" \
			$(input_args "$model" "$id") --output="$tmp/off.bin" "$m"; then
			echo "FAIL: $model $id: qnpu run failed"
			fail=$((fail + 1))
		elif ! cmp -s "$tmp/on.bin" "$tmp/off.bin" ||
		     ! cmp -s "$tmp/on.bin" "$golden"; then
			echo "FAIL: $model $id: $what and golden outputs differ"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
}
