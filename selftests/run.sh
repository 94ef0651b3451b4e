#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the etcp selftests inside the test VM and print TAP 13:
#
#   selftests/run.sh BUILD_DIR [NAME...]
#
# BUILD_DIR is make's OUT (build/selftests): the C tests and helpers are
# taken from there, the shell tests from this directory, in the order of
# BUILD_DIR/tests.list.  NAMEs (as tests.list spells them: etcp_close,
# etcp_modload.sh) run only those programs, still in tests.list's order,
# numbered and planned as if the list held nothing else; a NAME that is
# not in the list is a usage error.  Before each test etcp is loaded with
# its defaults if it is absent (insmod $ETCP_KO), and etcp_diag.ko if it is
# next to it (after modprobe inet_diag).  A test fails if it exits
# non-zero, runs longer than the timeout in ./settings (or
# $ETCP_TEST_TIMEOUT seconds, for a slow kernel such as the debug one),
# leaves a network namespace named etcp-* behind, or if the kernel logged a
# warning, BUG, lockdep or sanitizer report while it ran.  Exit 4 is a
# skip, never a pass.
#
# The closing line counts test cases (the TAP lines each program prints),
# not programs.
#
# ETCP_TEST_JOBS=N runs up to N programs side by side (default 1).  Each
# creates its own namespaces (named etcp-tNUM-*, from ETCP_NS_TAG) and
# etcp's state is per namespace, so they meet only in the CPU; most of a
# program's time is protocol timers.  A program's output is printed, in
# list order, when it has ended.  The programs of ALONE run with nothing
# beside them.
#
# Exit status: 0 when nothing failed and something passed, 4 when
# everything was skipped, 1 otherwise; 2 for usage errors.
set -u

SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
readonly SELFTEST_DIR
# Kernel log lines that fail a test (scripts/vm.sh reads the same list).
readonly SPLAT_PATTERNS="$SELFTEST_DIR/splat-patterns"
readonly ksft_skip=4
# They unload the module under everything else; etcp_fuzz counts the
# objects in etcp's slab caches, which are the whole VM's.
readonly ALONE=" etcp_teardown etcp_modload.sh etcp_fuzz "

passed=0
failed=0
skipped=0
TMPD=
# The test being started: its directory under $TMPD.
DIR=
# The last test whose output has been printed.
printed=0

usage() {
	echo "usage: $0 BUILD_DIR [NAME...]" >&2
	exit 2
}

prefix() { sed -u 's/^/# /'; }

# The patterns of $SPLAT_PATTERNS, without comments.
splat_patterns() { grep -v -e '^#' -e '^$' "$SPLAT_PATTERNS" | cut -f1; }

cleanup() { [ -n "$TMPD" ] && rm -rf "$TMPD"; }

# Make sure etcp is loaded (with default parameters when we load it), and
# etcp_diag when it was built next to it.
ensure_module() {
	local diag out
	if ! grep -q '^etcp ' /proc/modules; then
		if [ -z "${ETCP_KO:-}" ]; then
			echo "# etcp is not loaded and ETCP_KO is not set"
			return 1
		fi
		insmod "$ETCP_KO" 2>&1 | prefix
		grep -q '^etcp ' /proc/modules || return 1
	fi
	diag=${ETCP_KO:+${ETCP_KO%/*}/etcp_diag.ko}
	[ -n "$diag" ] && [ -f "$diag" ] || return 0
	grep -q '^etcp_diag ' /proc/modules && return 0
	# inet_diag is built into the debug kernel, a module elsewhere.  A
	# program started beside this one may have loaded it meanwhile.
	out=$({ modprobe -q inet_diag 2>/dev/null; insmod "$diag"; } 2>&1)
	grep -q '^etcp_diag ' /proc/modules && return 0
	prefix <<<"$out"
	return 1
}

# Run CMD... under the timeout, its output prefixed with "# ".  The test
# is a session leader, so whatever it leaves running in its session (a
# harness child after a timeout, a forgotten background job) is killed with
# it.  Output goes through a file that tail follows until the test is gone:
# a process that escaped into a session of its own cannot hold us up.
run_limited() {
	local out=$DIR/out sidfile=$DIR/sid pid tailpid rc sid
	: >"$out"
	rm -f "$sidfile"
	# shellcheck disable=SC2016 # $$ and $@ are the inner shell's
	timeout -k 10 "$TIMEOUT" setsid sh -c 'echo $$ >"$0"; exec "$@"' \
		"$sidfile" "$@" </dev/null >"$out" 2>&1 &
	pid=$!
	tail -n +1 -s 0.2 --pid="$pid" -f "$out" | prefix &
	tailpid=$!
	wait "$pid"
	rc=$?
	sid=$(cat "$sidfile" 2>/dev/null)
	if [ -n "$sid" ] && [ "$sid" -gt 1 ]; then
		pkill -KILL -s "$sid"
	fi
	wait "$tailpid"
	return "$rc"
}

# Kernel log lines after MARKER (the whole log if it has wrapped away).
klog_since() {
	dmesg | awk -v m="$1" 'found { print } index($0, m) { found = 1 }
		END { if (!found) exit 1 }' || dmesg
}

# Delete the network namespaces whose names start with $1 (those a test
# left behind); print their names.
leaked_netns() {
	local ns
	command -v ip >/dev/null || return 0
	for ns in $(ip netns list 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 { print $1 }'); do
		echo "$ns"
		ip netns del "$ns" 2>/dev/null
	done
}

# run_test NUM NAME NSPREFIX CMD...: run one test program and print its
# output and TAP line; its cases' counts "P F S" go to $DIR/counts.  The
# namespaces left with names starting with NSPREFIX are its leaks.
run_test() {
	local num=$1 name=$2 nsprefix=$3 rc marker splat leaks
	shift 3
	echo "# selftests: etcp: $name"
	if ! ensure_module; then
		echo "not ok $num $name # cannot load etcp"
		echo "0 1 0" >"$DIR/counts"
		return
	fi

	marker="etcp-selftests[$$]: start $num $name"
	echo "<6>$marker" >/dev/kmsg
	ETCP_NS_TAG=t$num run_limited "$@"
	rc=$?
	echo "<6>etcp-selftests[$$]: end $num $name rc=$rc" >/dev/kmsg

	leaks=$(leaked_netns "$nsprefix")
	# A file, not <(...): the guest has no /dev/fd for process substitution.
	splat_patterns >"$DIR/splat"
	splat=$(klog_since "$marker" | grep -E -f "$DIR/splat")

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "# $name: timed out after $TIMEOUT s"
	fi
	if [ -n "$leaks" ]; then
		echo "# $name: left network namespaces behind: ${leaks//$'\n'/ }"
		[ "$rc" -eq 0 ] && rc=1
	fi
	if [ -n "$splat" ]; then
		echo "# $name: kernel log while it ran:"
		echo "$splat" | prefix
		[ "$rc" -eq 0 ] || [ "$rc" -eq $ksft_skip ] && rc=1
	fi

	if [ "$rc" -eq 0 ]; then
		echo "ok $num $name"
	elif [ "$rc" -eq $ksft_skip ]; then
		echo "ok $num $name # SKIP"
	else
		echo "not ok $num $name # exit=$rc"
	fi
	count_cases "$rc"
}

# Add the test cases of the program just run to the totals: its own TAP
# lines ("ok N name", "not ok N name", "ok N name # SKIP ..."), or the
# program as one case when it printed none.  A program that failed (exit
# status, timeout, kernel log, leaked namespace) without a failing case
# counts one failure more, so a failure is never lost.
count_cases() {
	local rc=$1 p f s
	p=$(grep -cE '^ok [0-9]+ ' "$DIR/out")
	s=$(grep -cE '^ok [0-9]+ .*# (SKIP|skip)' "$DIR/out")
	f=$(grep -cE '^not ok [0-9]+ ' "$DIR/out")
	p=$((p - s))
	if [ $((p + f + s)) -eq 0 ]; then
		case $rc in
		0) p=1 ;;
		"$ksft_skip") s=1 ;;
		*) f=1 ;;
		esac
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne $ksft_skip ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	echo "$p $f $s" >"$DIR/counts"
}

# Add the counts of test NUM to the totals.
add_counts() {
	local p f s
	read -r p f s <"$TMPD/$1/counts"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# start_test NUM KIND NAME: run test NUM, alone and its output as it comes,
# or (JOBS > 1) in the background, its output into $TMPD/NUM/tap and
# $TMPD/NUM/done when it has ended.
start_test() {
	local num=$1 kind=$2 name=$3 cmd
	DIR=$TMPD/$num
	mkdir -p "$DIR"
	case $kind in
	gen)  cmd=$BUILD_DIR/$name ;;
	prog) cmd=$SELFTEST_DIR/$name ;;
	*)    echo "not ok $num $name # unknown kind '$kind' in tests.list" >"$DIR/tap"
	      echo "0 1 0" >"$DIR/counts"
	      : >"$DIR/done"
	      return ;;
	esac
	if [ "$JOBS" -eq 1 ] || [[ $ALONE == *" $name "* ]]; then
		wait_all
		run_test "$num" "$name" etcp- "$cmd"
		add_counts "$num"
		printed=$num
		return
	fi
	while [ "$(jobs -pr | wc -l)" -ge "$JOBS" ]; do
		wait -n
		print_done
	done
	{ run_test "$num" "$name" "etcp-t$num-" "$cmd" >"$DIR/tap" 2>&1; : >"$DIR/done"; } </dev/null &
}

# Print, in list order, the output of the tests that have ended.
print_done() {
	local n
	while n=$((printed + 1)) && [ -e "$TMPD/$n/done" ]; do
		cat "$TMPD/$n/tap"
		add_counts "$n"
		printed=$n
	done
}

# Wait for every background test and print what is left.
wait_all() {
	wait
	print_done
}

# The lines of tests.list ($1) to run: all of them, or those whose name is
# one of the remaining arguments (each of which must be in the list).
select_tests() {
	local list=$1 name bad=0
	shift
	if [ $# -eq 0 ]; then
		grep . "$list"
		return
	fi
	for name in "$@"; do
		if ! awk -v n="$name" '$2 == n { found = 1 } END { exit !found }' "$list"; then
			echo "run.sh: no test $name in $list" >&2
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] || return 2
	# No <(...): the guest has no /dev/fd.  Names hold no blanks.
	awk -v names="$*" 'BEGIN { n = split(names, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		($2 in want)' "$list"
}

main() {
	local list kind name n=0 total selected leaks

	[ $# -ge 1 ] || usage
	BUILD_DIR=$(cd "$1" 2>/dev/null && pwd -P) || usage
	shift
	list=$BUILD_DIR/tests.list
	if [ ! -r "$list" ]; then
		echo "run.sh: no $list: run make -C selftests first" >&2
		exit 2
	fi
	selected=$(select_tests "$list" "$@") || exit 2
	TIMEOUT=$(sed -n 's/^timeout=//p' "$SELFTEST_DIR/settings")
	TIMEOUT=${ETCP_TEST_TIMEOUT:-${TIMEOUT:-300}}
	JOBS=${ETCP_TEST_JOBS:-1}
	if ! [[ $JOBS =~ ^[1-9][0-9]*$ ]]; then
		echo "run.sh: ETCP_TEST_JOBS wants a count, got '$JOBS'" >&2
		exit 2
	fi

	TMPD=$(mktemp -d /tmp/etcp-run.XXXXXX) || exit 1
	trap cleanup EXIT

	# Nested TAP: the tests' own "TAP version" line is left out.
	export KSFT_TAP_LEVEL=1
	export ETCP_SELFTEST_BIN=$BUILD_DIR

	total=$(grep -c . <<<"$selected")
	echo "TAP version 13"
	echo "1..$total"
	while read -r kind name; do
		[ -n "$kind" ] || continue
		n=$((n + 1))
		start_test "$n" "$kind" "$name"
	done <<<"$selected"
	wait_all

	# Side by side, a test sees only its own namespaces: one nobody
	# named is found here.
	leaks=$(leaked_netns etcp-)
	if [ -n "$leaks" ]; then
		echo "# namespaces left behind: ${leaks//$'\n'/ }"
		failed=$((failed + 1))
	fi

	echo "# etcp selftests: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] || return 1
	[ "$passed" -gt 0 ] || return $ksft_skip
	return 0
}

main "$@"
