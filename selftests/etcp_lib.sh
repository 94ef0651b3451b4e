# SPDX-License-Identifier: GPL-2.0
#
# What the shell selftests share; sourced, not run.  A test script
# defines test_NAME functions, calls "run NAME" for each, then prints
# "1..$nr" and exits non-zero when $nfail is not 0.

readonly ksft_skip=4
nr=0
nfail=0

log() { echo "# $*"; }

# No test can run here: say why, as kselftest does, and stop.
skip_all() {
	echo "1..0 # SKIP $*"
	exit $ksft_skip
}

# Run test_$1 and print its TAP line.
run() {
	local name=$1
	nr=$((nr + 1))
	log "--- $name"
	if "test_$name"; then
		echo "ok $nr $name"
	else
		echo "not ok $nr $name"
		nfail=$((nfail + 1))
	fi
}
