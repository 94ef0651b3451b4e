#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build etcp.ko for every supported
# kernel (warnings and sparse findings fail the build check), then boot each
# kernel in the test VM and run the whole selftest suite there.
#
# Prints a summary per kernel and ends with one line
#   N passed, N failed, N skipped
# exiting non-zero on any failure.  A VM run that dies (kernel splat,
# timeout, panic) counts as a failure even if no test reported one.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

# Seconds for one kernel's whole suite in the VM.
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}

passed=0
failed=0
skipped=0

count() {
	local p=$1 f=$2 s=$3
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# A clean build is a test: W=1 and sparse (C=2 checks every file) must
# say nothing about our code.
build_check() {
	local kver=$1 log="build/build-$kver.log"

	mkdir -p build
	if ! make --no-print-directory module KVER="$kver" W=1 C=2 >"$log" 2>&1; then
		echo "not ok build $kver: see $log"
		tail -n 20 "$log"
		return 1
	fi
	if grep -E 'warning:|error:' "$log" | grep -v 'Skipping BTF'; then
		echo "not ok build $kver: warnings (see $log)"
		return 1
	fi
	echo "ok build $kver (W=1, sparse clean)"
}

# Run the suite in the VM; print its summary numbers "P F S".
suite() {
	local kver=$1 out="build/vm/$kver/check" rc=0 line

	scripts/vm.sh -k "$kver" -t "$SUITE_TIMEOUT" -o "$out" -- \
		selftests/run.sh build/selftests >&2 || rc=$?
	line=$(grep -E '^# etcp selftests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' \
		"$out/output.log" 2>/dev/null | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "kernel $kver: the suite did not finish (vm.sh exit $rc); logs in $out" >&2
		echo "0 1 0"
		return
	fi
	set -- $(echo "$line" | grep -oE '[0-9]+')
	local p=$1 f=$2 s=$3
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "kernel $kver: vm.sh failed (exit $rc) although no test did; logs in $out" >&2
		f=1
	fi
	echo "$p $f $s"
}

main() {
	local kver res summary=()

	scripts/deps.sh
	mkdir -p build
	if ! make --no-print-directory selftests >build/selftests-build.log 2>&1; then
		tail -n 30 build/selftests-build.log
		echo "0 passed, 1 failed"
		exit 1
	fi

	for kver in $(scripts/kernels.sh); do
		if build_check "$kver"; then
			count 1 0 0
		else
			count 0 1 0
			summary+=("$kver: build failed")
			continue
		fi
		res=$(suite "$kver")
		# shellcheck disable=SC2086
		count $res
		set -- $res
		summary+=("$kver: $1 passed, $2 failed, $3 skipped")
	done

	echo
	echo "== etcp check summary =="
	printf '%s\n' "${summary[@]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main "$@"
