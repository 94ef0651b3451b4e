# SPDX-License-Identifier: GPL-2.0
#
# What the shell selftests share; sourced, not run.  A test script
# defines test_NAME functions, calls "run NAME" for each, then prints
# "1..$nr" and exits non-zero when $nfail is not 0.  A test_NAME that
# cannot run here returns through "skip REASON".

readonly ksft_skip=4
nr=0
nfail=0
nskip=0
skip_reason=

log() { echo "# $*"; }

# No test can run here: say why, as kselftest does, and stop.
skip_all() {
	echo "1..0 # SKIP $*"
	exit $ksft_skip
}

# This case cannot run here (a program it needs is missing, ...): its
# status, for "return", so that run prints it as skipped.
skip() {
	skip_reason=$*
	return $ksft_skip
}

# Run test_$1 and print its TAP line.  A status of 4 is a skip only with
# the reason skip gave; otherwise, as any other non-zero status, a failure.
run() {
	local name=$1 rc
	nr=$((nr + 1))
	log "--- $name"
	skip_reason=
	"test_$name"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "ok $nr $name"
	elif [ "$rc" -eq $ksft_skip ] && [ -n "$skip_reason" ]; then
		echo "ok $nr $name # SKIP $skip_reason"
		nskip=$((nskip + 1))
	else
		echo "not ok $nr $name"
		nfail=$((nfail + 1))
	fi
}

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# wait_until MS CMD...: poll CMD every 20 ms until it succeeds or MS pass.
wait_until() {
	local deadline=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}
