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
# The passes run one after the other, or in ETCP_CHECK_LANES lanes side
# by side (2: 6.1 and 7.2 in one lane, 6.12 and the debug pass in the
# other; less time on 2 CPUs, but two VMs of two vCPUs
# each on two CPUs stall each other's guests for 100 ms and more, which
# the protocol-timer tests feel).  Each output line says its pass:
# "[6.12] ok 3 etcp_conn".
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
#   ETCP_CHECK_LANES    passes run at the same time (1)
#   ETCP_TEST_JOBS      test programs a Debian kernel's VM runs side by
#                       side (3; selftests/run.sh)
#   DEBUG_TEST_JOBS     the same on the debug kernel (2)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

# Seconds for one kernel's whole suite in the VM.
SUITE_TIMEOUT=${SUITE_TIMEOUT:-1800}
# The debug kernel runs the suites 5 to 10 times slower than Debian's
# (etcp_close: 40 s there, about 230 s here; all eight, two at a time:
# 10 to 20 min, etcp_reset the longest), more when other VMs share
# the CPUs; the kmemleak scans after them take half a minute.
DEBUG_SUITE_TIMEOUT=${DEBUG_SUITE_TIMEOUT:-3600}
DEBUG_TEST_TIMEOUT=${DEBUG_TEST_TIMEOUT:-1200}
# The suites the debug kernel runs: forged, malformed and paged segments,
# resets, the teardown of sockets, namespaces and the module, and
# sock_diag's walk of every table beside the receive path, where a
# use-after-free, a leak or a lock-order bug would hide.
DEBUG_TESTS=(etcp_attack etcp_reset etcp_fuzz etcp_paged etcp_close etcp_offload etcp_teardown etcp_diag etcp_modload.sh)
# Segments per fuzz case there: the live transfer must end within its
# 60 s while the fuzzer runs, and 20000 take longer than that on KASAN.
DEBUG_FUZZ_N=${DEBUG_FUZZ_N:-5000}
# One VM at a time: a Debian kernel's suite takes 9 to 10 min alone.
LANES=${ETCP_CHECK_LANES:-1}
# Inside it, programs side by side instead: most of their time is
# protocol timers, and the guest's two vCPUs are idle meanwhile.  The
# debug kernel keeps its CPUs busier (KASAN), so fewer there.
TEST_JOBS=${ETCP_TEST_JOBS:-3}
DEBUG_TEST_JOBS=${DEBUG_TEST_JOBS:-2}
# What each pass found, "KIND<TAB>LABEL<TAB>P F S<TAB>SECONDS" a line (for
# KIND "fail", a failed case's "not ok" line in place of SECONDS, for
# "why" one of the lines that follow it in the summary): the
# lanes are subshells, so this file is how their numbers come back.
RESULTS=

passed=0
failed=0
skipped=0
summary=()
failures=()
selected=

count() {
	local p=$1 f=$2 s=$3
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# result KIND LABEL "P F S" SECONDS: what a build ("build") or a suite
# ("suite") found, for main to add up.
result() {
	printf '%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# Add up $RESULTS: every case to the totals, every suite's line and every
# failed build to the summary, every failed case and why to the failures.
tally() {
	local kind label pfs secs p f s pass
	while IFS=$'\t' read -r kind label pfs secs; do
		read -r p f s <<<"$pfs"
		count "$p" "$f" "$s"
		if [ "$kind" = suite ]; then
			summary+=("$label: $p passed, $f failed, $s skipped ($secs s)")
		elif [ "$kind" = build ] && [ "$f" -ne 0 ]; then
			summary+=("$label: build failed ($secs s)")
		elif [ "$kind" = fail ]; then
			failures+=("$label: $secs")
		elif [ "$kind" = why ]; then
			failures+=("$secs")
		fi
	done <"$RESULTS"
	# A lane that died took its passes' numbers with it: each is a failure.
	for pass in $selected; do
		if ! grep -qxF "$(printf 'done\t%s\t0 0 0\t0' "$pass")" "$RESULTS"; then
			count 0 1 0
			summary+=("$pass: the pass did not finish")
		fi
	done
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

# A clean build is a test: W=1 and sparse (C=2 checks every file) must
# say nothing about our code.  build_check LABEL MAKE-VARIABLE.
build_check() {
	local label=$1 var=$2 log="build/build-$1.log"

	mkdir -p build
	# One build at a time: the lanes' builds share the top etcp.ko link.
	if ! flock build/.module.lock make --no-print-directory module "$var" W=1 C=2 >"$log" 2>&1; then
		echo "not ok build $label: see $log"
		tail -n 20 "$log"
		return 1
	fi
	# kbuild turns C=2 off, with only this line, when sparse cannot parse
	# the kernel's headers (trixie's sparse and 7.2's, for one).
	if grep -E 'warning:|error:|is not available or not up to date' "$log" |
		grep -v 'Skipping BTF'; then
		echo "not ok build $label: warnings (see $log)"
		return 1
	fi
	echo "ok build $label (W=1, sparse clean)"
}

# why_unfinished RC OUTDIR: on one line, why a VM run (vm.sh exit RC,
# logs in OUTDIR) printed no totals, for the summary: CI shows only the end
# of the output, and the logs stay on its machine.
why_unfinished() {
	local rc=$1 out=$2 what last bad
	case $rc in
	124) what="the guest ran out of time" ;;
	125) what="the guest stopped before the command ended (panic, boot failure)" ;;
	*) what="vm.sh exit $rc" ;;
	esac
	last=$(grep -E '^(not )?ok [0-9]+ ' "$out/output.log" 2>/dev/null | tail -n 1 || true)
	bad=$(scripts/vm.sh --check-log "$out/console.log" 2>&1 | sed -n '2{s/^ *//;p}' || true)
	echo "$what; the last program to end: ${last:-none}; the first bad kernel line: ${bad:-none}"
}

# case_why LOG LINE: the lines of LOG that say why the case or program
# whose result is LINE ("not ok N name", nested or not) failed: its
# harness verdicts (":Expected ...", etcp_table's "DIFFERS" and the line
# before it) and the last lines it logged, at most WHY_LINES, each cut to
# 300 characters.  Nothing for a program one of whose cases failed: that
# case has its own lines.
WHY_LINES=8
case_why() {
	awk -v want="$2" -v max="$WHY_LINES" '
	function is_result(s) {
		return substr(s, 1, length(pre)) == pre &&
			substr(s, length(pre) + 1) ~ /^(not )?ok [0-9]+ /
	}
	function emit(	i, k, nsel, sel, mark, take) {
		for (i = 1; i <= n; i++)
			if (buf[i] ~ /not ok [0-9]+ /)
				return
		for (i = 1; i <= n; i++) {
			if (buf[i] ~ /:Expected |DIFFERS/)
				mark[i] = mark[i - 1] = 1
			if (i > n - 5)
				mark[i] = 1
		}
		for (i = 1; i <= n; i++)
			if ((i in mark) && buf[i] !~ /^[# ]*(RUN|FAIL|OK) +[^ ]/)
				sel[++nsel] = buf[i]
		for (k = (nsel > max ? nsel - max + 1 : 1); k <= nsel; k++) {
			take = sel[k]
			sub(/^(# )+/, "", take)
			gsub(/\t/, " ", take)
			print "    " substr(take, 1, 300)
		}
	}
	BEGIN { pre = want; sub(/not ok [0-9]+ .*/, "", pre) }
	$0 == want { emit(); exit }
	is_result($0) { n = 0; next }
	{ buf[++n] = $0 }
	' "$1"
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
		result fail "$label" "0 0 0" "the suite did not finish: $(why_unfinished "$rc" "$out")"
		echo "0 1 0"
		return
	fi
	read -r p f s <<<"$(grep -oE '[0-9]+' <<<"$line" | tr '\n' ' ')"
	# Name each failed case and program in the summary, and what its log
	# said last: CI shows only the end of the output.
	grep -E '^(# )?not ok ' "$out/output.log" | while IFS= read -r line; do
		result fail "$label" "0 0 0" "${line#\# }"
		case_why "$out/output.log" "$line" | while IFS= read -r why; do
			result why "$label" "0 0 0" "$why"
		done
	done || true
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
	local start=$SECONDS
	if build_check "$1" "$2"; then
		result build "$1" "1 0 0" $((SECONDS - start))
		return 0
	fi
	result build "$1" "0 1 0" $((SECONDS - start))
	return 1
}

# dkms_build KVER: DKMS builds etcp.ko for KVER from dkms.conf and make
# dkms-src's tree, as "dkms install" would, but in a DKMS tree of its own
# (build/dkms/KVER), never the system's, and unsigned (sign_file names no
# program, so no key is made in /var/lib/dkms); prints the module's path.
# On the host: the same build in the test VM takes 9 min a kernel (TCG).
dkms_build() {
	local kver=$1 dir=$TOP/build/dkms/$1 ver=0.check ko
	rm -rf "$dir"
	mkdir -p "$dir/tree"
	scripts/install.sh -d "$dir/src" --dkms-src "$ver" >/dev/null || return 1
	sign_file=/nonexistent dkms add -m etcp -v "$ver" --sourcetree "$dir/src/usr/src" \
		--dkmstree "$dir/tree" >"$dir/log" 2>&1 || return 1
	sign_file=/nonexistent dkms build -m etcp -v "$ver" -k "$kver" \
		--sourcetree "$dir/src/usr/src" --dkmstree "$dir/tree" >>"$dir/log" 2>&1 || return 1
	ko=$(find "$dir/tree/etcp/$ver/$kver" -name 'etcp.ko*' | head -n 1)
	[ -n "$ko" ] && echo "$ko"
}

# dkms_pass KVER: dkms_build as one case; prints the module's path, or
# nothing when DKMS cannot build here (7.2's headers are in the Debian 13
# root, without dkms) or failed.
dkms_pass() {
	local kver=$1 ko start=$SECONDS
	[ -e "/lib/modules/$kver/build/Makefile" ] || return 0
	if ko=$(dkms_build "$kver"); then
		echo "ok dkms build $kver" >&2
		result build "dkms $kver" "1 0 0" $((SECONDS - start))
		echo "$ko"
	else
		echo "not ok dkms build $kver: see build/dkms/$kver/log" >&2
		tail -n 20 "build/dkms/$kver/log" >&2
		result build "dkms $kver" "0 1 0" $((SECONDS - start))
	fi
}

# kernel_pass KVER: build-check etcp.ko for a Debian kernel, and its DKMS
# build, run every selftest on it.
kernel_pass() {
	local kver=$1 res dkms_ko start=$SECONDS

	build_pass "$kver" KVER="$kver" || return 0
	dkms_ko=$(dkms_pass "$kver")
	res=$(suite "kernel $kver" "build/vm/$kver/check" -k "$kver" -t "$SUITE_TIMEOUT" -- \
		env ETCP_TEST_JOBS="$TEST_JOBS" ETCP_DKMS_KO="$dkms_ko" \
		selftests/run.sh build/selftests)
	result suite "$kver" "$res" $((SECONDS - start))
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
		result build "debug kernel" "0 1 0" $((SECONDS - start))
		return
	fi
	tree=$(tail -n 1 <<<"$tree")
	kver=$(cat "$tree/include/config/kernel.release")
	build_pass "$kver" KDIR="$tree" || return 0
	res=$(suite "debug $kver" "build/vm/$kver/check" -K "$tree" -t "$DEBUG_SUITE_TIMEOUT" -- \
		env ETCP_TEST_TIMEOUT="$DEBUG_TEST_TIMEOUT" ETCP_FUZZ_N="$DEBUG_FUZZ_N" \
		ETCP_TEST_JOBS="$DEBUG_TEST_JOBS" \
		selftests/run.sh build/selftests "${DEBUG_TESTS[@]}")
	result suite "debug $kver" "$res" $((SECONDS - start))
}

# run_pass PASS: a kernel's pass or the debug pass, each output line
# tagged with the pass's name; then its "done" line in $RESULTS.
run_pass() {
	local tag=$1
	[ "$1" = debug ] || tag=$(grep -oE '^[0-9]+\.[0-9]+' <<<"$1")
	{
		if [ "$1" = debug ]; then
			debug_pass
		else
			kernel_pass "$1"
		fi
	} 2>&1 | sed -u "s/^/[$tag] /" || true
	result done "$1" "0 0 0" 0
}

# run_lane PASS...: passes one after the other.
run_lane() {
	local p
	for p in "$@"; do
		run_pass "$p"
	done
}

# The selected passes, dealt out to $LANES lanes in order (lane i takes
# passes i, i+LANES, ...), the lanes run side by side.
run_lanes() {
	local -a passes lane
	local i j pids=()
	read -ra passes <<<"$selected"
	for ((i = 0; i < LANES; i++)); do
		lane=()
		for ((j = i; j < ${#passes[@]}; j += LANES)); do
			lane+=("${passes[j]}")
		done
		[ ${#lane[@]} -eq 0 ] && continue
		run_lane "${lane[@]}" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || true
	done
}

main() {
	local kernels

	scripts/deps.sh
	kernels=$(scripts/kernels.sh)
	select_passes "$kernels"
	mkdir -p build
	if ! make --no-print-directory selftests >build/selftests-build.log 2>&1; then
		tail -n 30 build/selftests-build.log
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi

	[[ $LANES =~ ^[1-9][0-9]*$ ]] || { echo "check.sh: ETCP_CHECK_LANES wants a count, got '$LANES'" >&2; exit 2; }
	RESULTS=build/check-results
	: >"$RESULTS"
	run_lanes
	tally

	echo
	echo "== etcp check summary =="
	[ ${#summary[@]} -eq 0 ] || printf '%s\n' "${summary[@]}"
	# Last, next to the totals: CI may keep no more than twenty lines.
	[ ${#failures[@]} -eq 0 ] || printf '%s\n' "${failures[@]}"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
}

main "$@"
