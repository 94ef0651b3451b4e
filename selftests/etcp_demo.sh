#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo's scenes (scripts/demo-scenes.sh), each a test case: the scene
# ran to its end ("scene NAME: ok": every call and wait in it succeeded),
# and its report holds the lines that make its point, e.g. the
# handshake's three arrows with their flags and relative numbers, CLOSING
# on both sides of the simultaneous close, the challenge ACK of the blind
# RST.  Only what does not depend on timing is checked: where a state
# lands in the ladder, when the machine is busy, may.
#
# One run of scripts/demo-guest.sh does all the scenes (2-4 min under
# TCG), in namespaces named after ETCP_NS_TAG, on ports of this process
# (ETCP_DEMO_PORT), so that it may run beside other tests.
set -u

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
TOP=$DIR/..
# shellcheck source=selftests/etcp_lib.sh
. "$DIR/etcp_lib.sh"
# shellcheck source=scripts/demo-scenes.sh
. "$TOP/scripts/demo-scenes.sh"

command -v tcpdump >/dev/null || skip_all "tcpdump is not installed"
[ -x /usr/bin/python3 ] || command -v python3 >/dev/null || skip_all "python3 is not installed"

OUT=$(mktemp /tmp/etcp-demo-test.XXXXXX)
trap 'rm -f "$OUT"' EXIT
# The text of the current scene's report.
REPORT=

# has PATTERN...: every extended regexp is in the report.
has() {
	local p rc=0
	for p; do
		if ! grep -qE -- "$p" <<<"$REPORT"; then
			log "not in the report: $p"
			rc=1
		fi
	done
	return $rc
}

# count_at_least N PATTERN: N lines or more match.
count_at_least() {
	local n
	n=$(grep -cE -- "$2" <<<"$REPORT")
	[ "$n" -ge "$1" ] || { log "$n lines, not $1, match: $2"; return 1; }
}

check_handshake() {
	has 'SYN_SENT +--- SYN seq=0 mss=1460 -+>' \
		'<-- SYN,ACK seq=0 ack=1 mss=1460 -' \
		'--- ACK seq=1 ack=1 -+>' 'SYN_RECV' 'connect\(.*\) -> ok' &&
		count_at_least 2 'ESTABLISHED'
}
check_refused() {
	has '--- SYN seq=0 ' '<-- RST,ACK seq=0 ack=1 -' '-> ECONNREFUSED'
}
check_syn_retries() {
	count_at_least 3 '--- SYN seq=0 ' && count_at_least 2 'SYN seq=0 .*\[rtx\]' &&
		has '-> ETIMEDOUT'
}
check_simultaneous_open() {
	has '--- SYN seq=0 ' '<-- SYN seq=0 ' '--- SYN,ACK seq=0 ack=1 ' \
		'<-- SYN,ACK seq=0 ack=1 ' 'A: connected: SO_ERROR 0, ESTABLISHED' \
		'B: connected: SO_ERROR 0, ESTABLISHED'
}
check_data() {
	has '--- PSH,ACK seq=1 ack=1 len=100 ' '<-- .*seq=1 ack=101 len=5840 ' \
		'--- ACK seq=101 ack=5841 '
}
check_close() {
	has 'FIN_WAIT1 +--- FIN,ACK seq=1 ack=1 ' '<-- FIN,ACK seq=1 ack=2 ' \
		'--- ACK seq=2 ack=2 ' 'TIME_WAIT' 'A: TIME_WAIT ends: 2\*MSL over' \
		'left /proc/net/etcp after 1\.[0-9] s'
}
check_three_segment_close() {
	has '--- FIN,ACK seq=1 ack=1 ' '<-- FIN,ACK seq=1 ack=2 ' '--- ACK seq=2 ack=2 '
}
check_half_close() {
	has '--- FIN,ACK seq=1 ack=1 ' '<-- PSH,ACK seq=1 ack=2 len=11 ' \
		'A: recv\(\) -> 11 bytes'
}
check_simultaneous_close() {
	count_at_least 2 'CLOSING' && count_at_least 2 'TIME_WAIT ends: 2\*MSL over' &&
		has '--- FIN,ACK seq=1 ack=1 ' '<-- FIN,ACK seq=1 ack=1 '
}
check_tw_dup_fin() {
	has '<-- FIN,ACK seq=1 ack=2 \[rtx\]' 'A: TIME_WAIT restarts its 2\*MSL' \
		'A: TIME_WAIT ends: 2\*MSL over'
}
check_tw_reuseaddr() {
	has 'without SO_REUSEADDR -> EADDRINUSE' 'with SO_REUSEADDR -> ok' \
		'its TIME_WAIT: TIME_WAIT'
}
check_tw_assassination() {
	has '<-- #1 RST seq=2 ' 'A: TIME_WAIT ends: killed by the RST' \
		'<-- #2 RST seq=2 ' 'A: TIME_WAIT ends: 2\*MSL over' \
		'etcp_rfc1337=1: TIME_WAIT gone (0\.9|1\.[0-9])'
}
check_fin_timeout() {
	has 'A: orphan in FIN_WAIT2 reset: fin_timeout' '--- RST,ACK seq=2 ack=1 ' \
		'-> EPIPE' 'AbortOnLinger +\+1'
}
check_orphan_limit() {
	has 'reset: max_orphans' '--- #2 RST' 'AbortOnMemory +\+1' 'Orphans 1, #1 FIN_WAIT2'
}
check_linger_zero() {
	has 'reset: linger_zero' '--- RST,ACK seq=1 ack=1 ' 'B: recv\(\) -> ECONNRESET'
}
check_half_open_client() {
	has '<-- ACK seq=1 ack=1 -' '--- RST seq=1 -' 'recv\(\) on the old connection -> ECONNRESET' \
		'ChallengeAcks +\+1' && count_at_least 3 '--- SYN seq=0 '
}
check_half_open_server() {
	has '--- PSH,ACK seq=1 ack=1 len=5 ' '<-- RST seq=1 -' 'A: recv\(\) -> ECONNRESET'
}
check_blind_rst() {
	has '<-- RST seq=1001 -' '--- ACK seq=1 ack=1 -' '<-- RST seq=1 -' \
		'A: still ESTABLISHED' 'A: recv\(\) -> ECONNRESET' 'ChallengeAcks +\+1'
}
check_keepalive() {
	count_at_least 3 '--- ACK seq=0 ack=1 ' && has '<-- ACK seq=1 ack=1 ' \
		'--- RST' 'A: recv\(\) -> ETIMEDOUT' 'KeepAliveProbes'
}
check_ipv6() {
	has 'A fd00:1::1' 'SYN seq=0 mss=1440' 'A: MSS 1440'
}

# The scenes' names, in order (no <(...): the guest has no /dev/fd).
NAMES=()
while read -r n; do
	NAMES+=("$n")
done <<<"$(scene_names)"

# A port range of our own: 10000..29999, below the ephemeral ports.
ETCP_DEMO_PORT=$((10000 + ($$ % 2000) * 10)) \
	"$TOP/scripts/demo-guest.sh" "${NAMES[@]}" >"$OUT" 2>&1
log "demo-guest.sh exited $?"

# test_scene NAME: its report (from its heading to its "scene" line) ran
# to "ok" and has what check_NAME wants.
test_scene() {
	local name=$1
	REPORT=$(awk -v n="$name" '$0 ~ "^======== [0-9]+\\. " n ":" { on = 1 }
		on { print } on && index($0, "scene " n ": ") == 1 { exit }' "$OUT")
	if [ -z "$REPORT" ]; then
		log "no report of scene $name"
		return 1
	fi
	if ! grep -q "^scene $name: ok" <<<"$REPORT" || ! "check_${name//-/_}"; then
		awk '{ print "# " $0 }' <<<"$REPORT"
		return 1
	fi
}

for n in "${NAMES[@]}"; do
	eval "test_$n() { test_scene $n; }"
	run "$n"
done
echo "1..$nr"
[ "$nfail" -eq 0 ]
