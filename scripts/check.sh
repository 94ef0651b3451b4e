#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: install what is missing, build etcp.ko for every supported
# kernel (warnings and sparse findings fail the build check), then boot each
# kernel in the test VM and run the whole selftest suite there.  Last, the
# debug pass: the suites that feed etcp hostile input (DEBUG_TESTS below)
# run again on the KASAN + lockdep + kmemleak kernel that
# scripts/debug-kernel.sh builds (once: 20-35 min on 2 cores, then cached in
# /var/cache/etcp), with etcp.ko built against that tree.
#
# Prints a summary per kernel and ends with one line
#   N passed, N failed, N skipped
# exiting non-zero on any failure.  A VM run that dies (kernel splat,
# timeout, panic) counts as a failure even if no test reported one; so do a
# kernel log that is not clean after the suite (scripts/vm.sh checks it) and
# a kmemleak report, and a debug kernel that fails to build (never a skip).
#
# Env:
#   ETCP_CHECK_KERNELS  the passes to run, in the usual order: words, each a
#                       kernel series or release that scripts/kernels.sh
#                       names (6.1, 6.12, or as uname -r prints it) or "debug";
#                       default all of them.  E.g. ETCP_CHECK_KERNELS=debug
#   SUITE_TIMEOUT       seconds for one Debian kernel's whole suite (1800)
#   DEBUG_SUITE_TIMEOUT seconds for the debug pass's VM run (3600)
#   DEBUG_TEST_TIMEOUT  seconds for one test program on the debug kernel
#                       (1200; selftests/settings has 600 for the others)
#   DEBUG_FUZZ_N        segments per etcp_fuzz case on the debug kernel (5000)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

# Seconds for one kernel's whole suite in the VM.
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
# The debug kernel runs the suites 5 to 10 times slower than Debian's
# (etcp_close: 40 s there, 275 to 380 s here; all six: ~17 min), more
# when other VMs share the CPUs; the kmemleak scans after them take half
# a minute.
DEBUG_SUITE_TIMEOUT=${DEBUG_SUITE_TIMEOUT:-3600}
DEBUG_TEST_TIMEOUT=${DEBUG_TEST_TIMEOUT:-1200}
# The suites the debug kernel runs: forged, malformed and paged segments,
# resets, and the teardown of sockets, namespaces and the module, where a
# use-after-free, a leak or a lock-order bug would hide.
DEBUG_TESTS=(etcp_attack etcp_reset etcp_fuzz etcp_paged etcp_close etcp_modload.sh)
# Segments per fuzz case there: the live transfer must end within its
# 60 s while the fuzzer runs, and 20000 take longer than that on KASAN.
DEBUG_FUZZ_N=${DEBUG_FUZZ_N:-5000}

passed=0
failed=0
skipped=0
summary=()
selected=

count() {
	local p=$1 f=$2 s=$3
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# record LABEL "P F S" SECONDS: add a suite's numbers to the totals and
# its line to the summary.
record() {
	local p f s
	read -r p f s <<<"$2"
	count "$p" "$f" "$s"
	summary+=("$1: $p passed, $f failed, $s skipped ($3 s)")
}

# The passes ETCP_CHECK_KERNELS picks, into $selected: each word a kernel
# as scripts/kernels.sh names it (release or series), or "debug"; every
# pass when it is unset.  A word that picks nothing stops the run: a typo
# must not turn into "0 passed, 0 failed".  $1: the supported kernels.
select_passes() {
	local w k
	if [ -z "${ETCP_CHECK_KERNELS:-}" ]; then
		selected="${1//$'\n'/ } debug"
		return
	fi
	selected=
	for w in $ETCP_CHECK_KERNELS; do
		if [ "$w" = debug ]; then
			selected+=" debug"
		elif k=$(scripts/kernels.sh "$w" 2>/dev/null); then
			selected+=" $k"
		else
			echo "check.sh: ETCP_CHECK_KERNELS: '$w' is none of:" $1 debug >&2
			exit 2
		fi
	done
}

# Is pass $1 (a kernel release, or "debug") selected?
wanted() {
	[[ " $selected " == *" $1 "* ]]
}

# A clean build is a test: W=1 and sparse (C=2 checks every file) must
# say nothing about our code.  build_check LABEL MAKE-VARIABLE.
build_check() {
	local label=$1 var=$2 log="build/build-$1.log"

	mkdir -p build
	if ! make --no-print-directory module "$var" W=1 C=2 >"$log" 2>&1; then
		echo "not ok build $label: see $log"
		tail -n 20 "$log"
		return 1
	fi
	if grep -E 'warning:|error:' "$log" | grep -v 'Skipping BTF'; then
		echo "not ok build $label: warnings (see $log)"
		return 1
	fi
	echo "ok build $label (W=1, sparse clean)"
}

# suite LABEL OUTDIR VM.SH-ARGS...: run a suite in the VM (vm.sh -o OUTDIR
# VM.SH-ARGS...); print its summary numbers "P F S".
suite() {
	local label=$1 out=$2 rc=0 line p f s n
	shift 2

	scripts/vm.sh -o "$out" "$@" >&2 || rc=$?
	line=$(grep -E '^# etcp selftests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' \
		"$out/output.log" 2>/dev/null | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "$label: the suite did not finish (vm.sh exit $rc); logs in $out" >&2
		echo "0 1 0"
		return
	fi
	read -r p f s <<<"$(grep -oE '[0-9]+' <<<"$line" | tr '\n' ' ')"
	# kmemleak's scans run after the suite, so no test can have counted
	# what they found: a failure of its own.
	if [ -s "$out/kmemleak.txt" ]; then
		n=$(grep -c '^unreferenced object' "$out/kmemleak.txt" || true)
		echo "$label: kmemleak reported $n suspected leak(s): $out/kmemleak.txt" >&2
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$label: vm.sh failed (exit $rc) although no test did; logs in $out" >&2
		f=1
	fi
	echo "$p $f $s"
}

# build_pass LABEL MAKE-VARIABLE: build_check, counted as one case;
# false when it failed.
build_pass() {
	if build_check "$1" "$2"; then
		count 1 0 0
		return 0
	fi
	count 0 1 0
	summary+=("$1: build failed")
	return 1
}

# kernel_pass KVER: build-check etcp.ko for a Debian kernel, run every
# selftest on it.
kernel_pass() {
	local kver=$1 res start=$SECONDS

	build_pass "$kver" KVER="$kver" || return
	res=$(suite "kernel $kver" "build/vm/$kver/check" -k "$kver" -t "$SUITE_TIMEOUT" -- \
		selftests/run.sh build/selftests)
	record "$kver" "$res" $((SECONDS - start))
}

# The debug pass: the debug kernel (built now if the cache lacks it),
# etcp.ko against its tree, the hostile-input suites on it.
debug_pass() {
	local tree kver res start=$SECONDS

	if ! tree=$(scripts/debug-kernel.sh --path 2>/dev/null); then
		echo "The debug kernel (KASAN, lockdep, kmemleak) for the hostile-input suites is"
		echo "not in the cache${tree:+ ($tree)}: building it now, once: 20 to 35 min on 2 cores."
	fi
	if ! tree=$(scripts/debug-kernel.sh); then
		# debug-kernel.sh has printed the end of its log.
		echo "not ok debug kernel: scripts/debug-kernel.sh failed"
		count 0 1 0
		summary+=("debug: kernel build failed ($((SECONDS - start)) s)")
		return
	fi
	tree=$(tail -n 1 <<<"$tree")
	kver=$(cat "$tree/include/config/kernel.release")
	build_pass "$kver" KDIR="$tree" || return
	res=$(suite "debug $kver" "build/vm/$kver/check" -K "$tree" -t "$DEBUG_SUITE_TIMEOUT" -- \
		env ETCP_TEST_TIMEOUT="$DEBUG_TEST_TIMEOUT" ETCP_FUZZ_N="$DEBUG_FUZZ_N" \
		selftests/run.sh build/selftests "${DEBUG_TESTS[@]}")
	record "debug $kver" "$res" $((SECONDS - start))
}

main() {
	local kver kernels

	scripts/deps.sh
	kernels=$(scripts/kernels.sh)
	select_passes "$kernels"
	mkdir -p build
	if ! make --no-print-directory selftests >build/selftests-build.log 2>&1; then
		tail -n 30 build/selftests-build.log
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi

	for kver in $kernels; do
		wanted "$kver" || continue
		kernel_pass "$kver"
	done
	if wanted debug; then
		debug_pass
	fi

	echo
	echo "== etcp check summary =="
	[ ${#summary[@]} -eq 0 ] || printf '%s\n' "${summary[@]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main "$@"
