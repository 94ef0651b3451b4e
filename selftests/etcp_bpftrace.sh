#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's bpftrace one-liner (its TRACEPOINTS section), run as the
# README prints it, sees an etcp connection's states as tcpstates sees
# TCP's: in a namespace of its own, a listener and a client on lo, a
# connect() and both close()s; the one-liner's lines for that port show
# the listener's CLOSE -> LISTEN (7 -> 10), the client's CLOSE -> SYN_SENT
# -> ESTABLISHED (7 -> 2, 2 -> 1) and its close, ESTABLISHED -> FIN_WAIT1
# (1 -> 4).
#
# Needs root, ip(8), python3 and bpftrace (it skips without bpftrace).
set -u

readonly NS=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}bpf-$$
# bpftrace compiles its program first: seconds under TCG.
readonly WAIT_MS=60000

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=selftests/etcp_lib.sh
. "$DIR/etcp_lib.sh"
README=$DIR/../README.md

command -v bpftrace >/dev/null || skip_all "bpftrace is not installed"
# Debian's: one on PATH from elsewhere may take seconds to start under TCG.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip_all "python3 is not installed"

TMPD=$(mktemp -d /tmp/etcp-bpf.XXXXXX)
BPF_PID=
cleanup() {
	[ -z "$BPF_PID" ] || { kill "$BPF_PID" 2>/dev/null; wait "$BPF_PID" 2>/dev/null; }
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT

# The README's command, from its indented example line.
oneliner() {
	grep -m1 "^    bpftrace -e 'tracepoint:sock:inet_sock_set_state" "$README" |
		sed 's/^    //'
}

# probe_live OUT PORT: a listener on PORT comes and goes; is it in OUT?
probe_live() {
	ip netns exec "$NS" "$PY" -c "import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
s.bind(('127.0.0.1', $2))
s.listen(1)" || return 1
	grep -qF "127.0.0.1:$2 0.0.0.0:0 7 -> 10" "$1"
}

test_states() {
	local cmd port=$((40000 + $$ % 20000)) out=$TMPD/bpf.out want
	local rc=0

	cmd=$(oneliner)
	[ -n "$cmd" ] || { log "no bpftrace one-liner in $README"; return 1; }
	log "$cmd"
	ip netns add "$NS" && ip -n "$NS" link set lo up || return 1
	eval "$cmd" >"$out" 2>&1 &
	BPF_PID=$!
	if ! wait_until "$WAIT_MS" grep -q 'Attaching' "$out"; then
		log "bpftrace did not attach: $(head -c 500 "$out")"
		return 1
	fi
	# "Attaching" comes before the probe is live: a listener shows when.
	if ! wait_until "$WAIT_MS" probe_live "$out" $((port + 1)); then
		log "bpftrace saw no listener: $(head -c 500 "$out")"
		return 1
	fi
	ip netns exec "$NS" "$PY" - "$port" <<'PY' || return 1
import socket, sys
port = int(sys.argv[1])
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
l.bind(("127.0.0.1", port))
l.listen(1)
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
c.connect(("127.0.0.1", port))
s, _ = l.accept()
c.close()
s.close()
l.close()
PY
	for want in "127.0.0.1:$port 0.0.0.0:0 7 -> 10" " 127.0.0.1:$port 7 -> 2" \
		    " 127.0.0.1:$port 2 -> 1" " 127.0.0.1:$port 1 -> 4"; do
		if ! wait_until "$WAIT_MS" grep -qF -- "$want" "$out"; then
			log "no line with '$want'"
			rc=1
		fi
	done
	grep -F ":$port " "$out" | sed 's/^/# bpftrace: /'
	return $rc
}

run states
echo "1..$nr"
[ "$nfail" -eq 0 ]
