#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run inside the test VM with etcp.ko loaded (scripts/demo.sh
# boots the VM): the textbook's connection-management scenarios, one
# scene each (scripts/demo-scenes.sh), or those named:
#
#   scripts/demo-guest.sh [list | SCENE...]
#
# Every scene gets two fresh namespaces joined by a veth pair:
#
#   ns A (etcp-demo-PID-a)  10.0.1.1/24 ea <--veth--> eb 10.0.1.2/24  ns B
#                           fd00:1::1/64             fd00:1::2/64
#
# It prints what the textbook says will happen, runs it (one Python
# process playing both ends: scripts/demo_lib.py), and shows it: the
# segments as a ladder diagram (scripts/ladder.py) drawn from a capture on
# A's veth and from the tracepoints (sock:inet_sock_set_state, etcp:*) of
# a tracefs instance of our own, the calls and errnos the applications
# saw, and the counters of /proc/net/etcp_stat that moved.  Each scene
# ends with "scene NAME: ok" or "scene NAME: FAILED"; the exit status is
# 1 if any failed.
#
# Env: ETCP_NS_TAG (selftests/run.sh) goes into the namespaces' names;
# ETCP_DEMO_PORT is the first of the ten ports the scenes use (5000), the
# ones the trace is filtered on; ETCP_DEMO_OUT=DIR keeps each scene's
# capture (pcap), trace and counters in DIR/SCENE.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/demo-scenes.sh
. "$TOP/scripts/demo-scenes.sh"

readonly NS_A=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}demo-$$-a
readonly NS_B=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}demo-$$-b
readonly A4=10.0.1.1 B4=10.0.1.2 A6=fd00:1::1 B6=fd00:1::2
readonly MAC_A=02:e7:00:00:00:0a MAC_B=02:e7:00:00:00:0b
readonly PORT=${ETCP_DEMO_PORT:-5000}
# The system's Python: a pyenv shim on PATH takes seconds to start under TCG.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
readonly PY
readonly TRACEFS=/sys/kernel/tracing
TRACE=
RECORD_CMD=
W=
# The scene's own directory: capture, trace, counters, what the
# applications printed.
SD=

say() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_a() { printf 'A# %s\n' "$*"; ip netns exec "$NS_A" "$@"; }
in_b() { printf 'B# %s\n' "$*"; ip netns exec "$NS_B" "$@"; }

# textbook: what the textbook says will happen (stdin), indented.
textbook() { sed 's/^/    /'; echo; }

# py: the scene's applications, a Python script on stdin with demo_lib's
# names imported; what they print goes to the scene's report.
py() {
	{ echo 'from demo_lib import *'; cat; } |
		PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$TOP/scripts DEMO_NS_A=$NS_A DEMO_NS_B=$NS_B \
		DEMO_A=${DEMO_A:-$A4} DEMO_B=${DEMO_B:-$B4} DEMO_PORT=$PORT \
		DEMO_DIR=$SD "$PY" - >>"$SD/app" 2>&1
}

# nft_chains A|B: an inet table "demo" with empty input and output
# chains in that namespace, for a scene's drop rules.
nft_chains() {
	local ns=$NS_A
	[ "$1" = B ] && ns=$NS_B
	ip netns exec "$ns" nft -f - <<-'EOF'
		table inet demo {
			chain in { type filter hook input priority 0; }
			chain out { type filter hook output priority 0; }
		}
	EOF
}

# The two namespaces (a scene's drop rules make their own nft_chains).
# Few ip(8) runs: every program started costs under TCG.  Fixed
# neighbour entries: no ARP or neighbour discovery before the first
# segment (which netem would delay too).
netns_up() {
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip -n "$NS_A" link add ea address $MAC_A type veth peer name eb address $MAC_B netns "$NS_B"
	netns_side "$NS_A" ea $A4 $A6 $B4 $B6 $MAC_B
	netns_side "$NS_B" eb $B4 $B6 $A4 $A6 $MAC_A
}

# netns_side NS DEV ADDR4 ADDR6 PEER4 PEER6 PEERMAC: one end, in one ip(8).
netns_side() {
	ip -n "$1" -batch - <<-EOF
		addr add $3/24 dev $2
		addr add $4/64 dev $2 nodad
		neigh add $5 lladdr $7 dev $2 nud permanent
		neigh add $6 lladdr $7 dev $2 nud permanent
		link set $2 up
		link set lo up
	EOF
}

netns_down() {
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
}

# ---------------------------------------------------------------- trace

# One trace instance for the whole run, enabled once: every enabling and
# disabling patches kernel code, and under TCG the less of that the better
# (selftests/etcp_trace.c says why).  Its clock is "tai", the capture's
# CLOCK_REALTIME while the TAI offset is 0 (it is in the VM), so that
# ladder.py can put the two in one order.  No trace, no states in the
# ladder: the scenes still run.
trace_init() {
	local inst=$TRACEFS/instances/etcp-demo-$$
	[ -d $TRACEFS/instances ] || mount -t tracefs nodev $TRACEFS 2>/dev/null || return 0
	[ -d $TRACEFS/events/etcp ] && [ -d $TRACEFS/events/sock/inet_sock_set_state ] || return 0
	grep -qw tai $TRACEFS/trace_clock || return 0
	RECORD_CMD=$(cat $TRACEFS/options/record-cmd 2>/dev/null || echo 0)
	[ "$RECORD_CMD" = 1 ] && echo 0 >$TRACEFS/options/record-cmd
	mkdir "$inst" || return 0
	TRACE=$inst
	echo tai >"$TRACE/trace_clock"
	echo 1024 >"$TRACE/buffer_size_kb"
	echo 'netns == 0' >"$TRACE/events/etcp/filter"
	echo 'protocol == 0' >"$TRACE/events/sock/inet_sock_set_state/filter"
	echo 1 >"$TRACE/events/etcp/enable"
	echo 1 >"$TRACE/events/sock/inet_sock_set_state/enable"
}

trace_exit() {
	[ -n "$TRACE" ] || return 0
	echo 0 >"$TRACE/events/etcp/enable"
	echo 0 >"$TRACE/events/sock/inet_sock_set_state/enable"
	rmdir "$TRACE"
	TRACE=
	[ "$RECORD_CMD" = 1 ] && echo 1 >$TRACEFS/options/record-cmd
	return 0
}

# The events of this scene's namespaces and ports only: the selftests run
# beside other programs that use the same addresses.
trace_begin() {
	[ -n "$TRACE" ] || return 0
	: >"$TRACE/trace"
	echo "netns == $(stat -L -c %i "/run/netns/$NS_A") ||" \
		"netns == $(stat -L -c %i "/run/netns/$NS_B")" >"$TRACE/events/etcp/filter"
	echo "protocol == 253 && ((sport >= $PORT && sport < $((PORT + 10))) ||" \
		"(dport >= $PORT && dport < $((PORT + 10))))" \
		>"$TRACE/events/sock/inet_sock_set_state/filter"
}

trace_end() {
	[ -n "$TRACE" ] || return 0
	cat "$TRACE/trace" >"$SD/trace"
	echo 'netns == 0' >"$TRACE/events/etcp/filter"
	echo 'protocol == 0' >"$TRACE/events/sock/inet_sock_set_state/filter"
}

# ---------------------------------------------------------------- capture

# tcpdump on A's veth, as $CAP; once cap_wait returns, it is listening and
# nothing sent after is missed.  --immediate-mode -U writes each packet
# as it comes.  The UDP datagram to port 9 is cap_stop's marker.
cap_start() {
	ip netns exec "$NS_A" tcpdump --immediate-mode -U -ni ea -w "$SD/pcap" \
		'ip proto 253 or ip6 proto 253 or udp port 9' 2>"$SD/tcpdump" &
	CAP=$!
}

cap_wait() {
	wait_for 10 grep -q 'listening on' "$SD/tcpdump" ||
		{ echo "tcpdump did not start: $(cat "$SD/tcpdump")" >&2; return 1; }
}

# Send a marker after everything else and stop tcpdump once it has
# written it (the file ends in its payload): then every segment before it
# is in the file.
cap_stop() {
	ip netns exec "$NS_A" bash -c "echo $MARKER > /dev/udp/$B4/9" 2>/dev/null || true
	wait_for 10 marker_seen || echo "(the capture may be cut short)" >&2
	kill "$CAP" 2>/dev/null
	wait "$CAP" 2>/dev/null || true
}

readonly MARKER=etcp-demo-end-of-scene
marker_seen() { tail -c 64 "$SD/pcap" | grep -q -a $MARKER; }

# wait_for S CMD...: poll CMD every 50 ms for up to S seconds.
wait_for() {
	local _
	for _ in $(seq $(($1 * 20))); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}

# ---------------------------------------------------------------- counters

stat_snapshot() {
	ip netns exec "$NS_A" cat /proc/net/etcp_stat >"$SD/stat0-A"
	ip netns exec "$NS_B" cat /proc/net/etcp_stat >"$SD/stat0-B"
}

# The counters that moved in A and B from the scene's start to its end
# (demo_lib wrote them when the applications ended: what the sockets
# still open did afterwards is not counted); the gauges Orphans and
# TimeWait as they are then.
counters_show() {
	local s
	for s in A B; do
		[ -s "$SD/stat-$s" ] || ip netns exec "$([ $s = A ] && echo "$NS_A" || echo "$NS_B")" \
			cat /proc/net/etcp_stat >"$SD/stat-$s"
	done
	awk 'FNR == 1 { f++ }
	     f == 1 { a0[$1] = $2 } f == 2 { a[$1] = $2 }
	     f == 3 { b0[$1] = $2 } f == 4 { b[$1] = $2; order[++n] = $1 }
	     function show(now, was, gauge) {
		if (gauge) return now ? now " now" : ""
		return now != was ? sprintf("%+d", now - was) : ""
	     }
	     END {
		printf "    %-22s %10s %10s\n", "", "A", "B"
		for (i = 1; i <= n; i++) {
			k = order[i]; g = (k == "Orphans" || k == "TimeWait")
			x = show(a[k], a0[k], g); y = show(b[k], b0[k], g)
			if (x != "" || y != "")
				printf "    %-22s %10s %10s\n", k, x, y
		}
	     }' "$SD/stat0-A" "$SD/stat-A" "$SD/stat0-B" "$SD/stat-B"
}

# ---------------------------------------------------------------- scenes

mark() { echo "$1 $EPOCHREALTIME" >>"$SD/times"; }

# run_scene NUM NAME: set up, run scene_NAME in a subshell (set -e), draw
# what happened, tear down; "scene NAME: ok" or "FAILED".
run_scene() {
	local num=$1 name=$2 rc addrs until=() t0=$EPOCHREALTIME
	SD=$W/$name
	mkdir -p "$SD"
	: >"$SD/app"
	printf '\n======== %s. %s: %s\n\n' "$num" "$name" "$(scene_title "$name")"
	netns_up
	mark netns
	cap_start
	trace_begin
	stat_snapshot
	cap_wait
	mark cap_start
	set +e
	(set -e; "scene_${name//-/_}")
	rc=$?
	set -e
	mark scene
	cap_stop
	mark cap_stop
	trace_end
	addrs=$(cat "$SD/addrs" 2>/dev/null || echo "$A4 $B4")
	[ -s "$SD/end" ] && until=(--until "$(cat "$SD/end")")
	echo
	echo "The segments on A's veth, each side's state from the tracepoints:"
	echo
	# shellcheck disable=SC2086 # two addresses
	"$PY" "$TOP/scripts/ladder.py" ${TRACE:+--trace "$SD/trace"} "${until[@]}" \
		"$SD/pcap" $addrs | sed 's/^/  /' || rc=1
	echo
	mark ladder
	echo "What the applications saw:"
	sed 's/^/    /' "$SD/app"
	echo
	echo "The counters that moved (/proc/net/etcp_stat):"
	counters_show
	netns_down
	mark end
	if [ -n "${ETCP_DEMO_OUT:-}" ]; then
		mkdir -p "$ETCP_DEMO_OUT"
		rm -rf "${ETCP_DEMO_OUT:?}/$name"
		cp -r "$SD" "$ETCP_DEMO_OUT/$name"
	fi
	t0=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [ "$rc" -eq 0 ]; then
		echo "scene $name: ok ($t0 s)"
	else
		echo "scene $name: FAILED (exit $rc, $t0 s)"
		FAILED+=("$name")
	fi
}

intro() {
	say "etcp is loaded on $(uname -r)"
	run grep -E '^etcp ' /proc/modules
	run modinfo -F alias "$ETCP_KO"

	say "Its tunables, per network namespace, named after TCP's"
	run sysctl -a --pattern '^net\.ipv4\.etcp_'

	netns_up
	say "Two namespaces joined by a veth pair: A=10.0.1.1, B=10.0.1.2 (fd00:1::1, ::2)"
	say "A sysctl written in namespace A is not seen in B; out of range is EINVAL"
	in_a sysctl -w net.ipv4.etcp_msl=5000
	in_b sysctl net.ipv4.etcp_msl
	in_a sysctl -w net.ipv4.etcp_msl=0 || true
	in_a sysctl net.ipv4.etcp_msl

	say "An etcp socket and a TCP socket on the same port: separate tables"
	ip netns exec "$NS_A" "$PY" - <<-'PY'
		import socket
		e = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
		e.bind(("10.0.1.1", 5000))
		t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		t.bind(("10.0.1.1", 5000))
		for s in e, t:
		    print("protocol", s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL),
		          "bound to", s.getsockname())
		print("$ cat /proc/net/etcp   (state 07 = CLOSE, port 0x1388 = 5000)")
		print(open("/proc/net/etcp").read().rstrip())
	PY
	netns_down
}

cleanup() {
	netns_down
	trace_exit
	[ -n "$W" ] && rm -rf "$W"
}

main() {
	local name n=0 names=("$@")
	if [ "${1:-}" = list ]; then
		scene_list
		return 0
	fi
	if [ $# -eq 0 ]; then
		# No <(...): the guest has no /dev/fd.
		names=(intro)
		while read -r name; do
			names+=("$name")
		done <<<"$(scene_names)"
	fi
	for name in "${names[@]}"; do
		[ "$name" = intro ] || scene_title "$name" >/dev/null || {
			echo "no scene '$name'; scenes:" >&2
			scene_list >&2
			return 2
		}
	done
	W=$(mktemp -d /tmp/etcp-demo.XXXXXX)
	trap cleanup EXIT
	trace_init
	FAILED=()
	for name in "${names[@]}"; do
		if [ "$name" = intro ]; then
			intro
		else
			n=$((n + 1))
			run_scene "$n" "$name"
		fi
	done
	echo
	if [ ${#FAILED[@]} -eq 0 ]; then
		echo "demo: $n scene(s), all ok"
	else
		echo "demo: $n scene(s), failed: ${FAILED[*]}"
		return 1
	fi
}

main "$@"
