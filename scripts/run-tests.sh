#!/bin/bash
# Run test programs and print one summary for the whole suite.
# A cmocka program contributes its own counts (parsed from its summary);
# any other program counts as one test: exit 0 pass, 77 skip, else fail.
# Usage: run-tests.sh TEST [TEST ...]   (a TEST may carry arguments if quoted)
set -u
logdir=${QNPU_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed_names=()
for t in "$@"; do
	# "dir/golden.sh build/bin/qnpu m cpu" -> "golden.sh qnpu m cpu"
	name=$(echo "$t" | awk '{ for (i = 1; i <= NF; i++) {
		n = split($i, a, "/"); printf "%s%s", (i > 1 ? " " : ""), a[n] } }')
	log="$logdir/$(echo "$name" | tr ' /' '__').log"
	echo "=== $t"
	# shellcheck disable=SC2086
	bash -c "$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | \
		awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | \
		awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | \
		awk '{s+=$1} END {print s+0}')
	if grep -q '^\[==========\] .* test(s) run\.' "$log"; then
		# A cmocka program that crashed mid-group counts one failure more.
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
		[ "$f" -gt 0 ] && failed_names+=("$name")
	elif [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS: $name"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP: $name"
	else
		fail=$((fail + 1)); failed_names+=("$name")
		echo "FAIL: $name (exit $rc)"
	fi
done
echo
[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
