#!/bin/bash
# Run test programs and print one summary for the whole suite.
# A cmocka program contributes its own counts (parsed from its summary);
# so does a VM run (its guest programs' QNPU-TEST lines, or their IGT-style
# "Subtest NAME: SUCCESS|FAIL|SKIP" lines where they print them), so that
# a skip inside the VM is a skip here, not part of one pass. Any other
# program counts as one test: exit 0 pass, 77 skip, else fail.
# Usage: run-tests.sh TEST [TEST ...]   (a TEST may carry arguments if quoted)
set -u
logdir=${QNPU_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed_names=()

# Counts of a VM run's log: "PASS FAIL SKIP failing,programs". A program
# that printed subtests counts them (plus one failure if it failed without
# a failing subtest, e.g. killed at the time limit); else it is one test.
# A module that did not load is a failure (modfail= of QNPU-VM-RESULT).
vm_counts() {
	awk '
	/^QNPU-TEST-BEGIN: / { sp = sf = ss = 0; next }
	/^Subtest [^ ]+: (SUCCESS|FAIL|SKIP)/ {
		if ($3 == "SUCCESS") sp++; else if ($3 == "FAIL") sf++; else ss++
		next
	}
	/^QNPU-TEST: / {
		if (sp + sf + ss > 0) {
			p += sp; f += sf; s += ss
			if ($3 == "FAIL" && sf == 0) f++
		} else if ($3 == "PASS") p++
		else if ($3 == "SKIP") s++
		else f++
		if ($3 == "FAIL") bad = bad (bad ? "," : "") $2
		sp = sf = ss = 0
		next
	}
	/^QNPU-VM-RESULT: / {
		for (i = 2; i <= NF; i++)
			if ($i ~ /^modfail=[1-9]/) {
				split($i, a, "="); f += a[2]
				bad = bad (bad ? "," : "") "insmod"
			}
	}
	END { print p + 0, f + 0, s + 0, bad }' "$1"
}
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
	if grep -q '^QNPU-TEST: ' "$log"; then
		read -r p f s vmfailed < <(vm_counts "$log")
		# A run that failed outside its guest tests (timeout, QEMU or
		# qnpu-sim died) counts one failure more.
		if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
		echo "VM: $name: $p passed, $f failed, $s skipped in the guest"
		[ "$f" -gt 0 ] && failed_names+=("$name${vmfailed:+ ($vmfailed)}")
	elif grep -q '^\[==========\] .* test(s) run\.' "$log"; then
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
