#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# etcp-run (tools/etcp-run): unmodified programs with their TCP sockets on
# etcp, between two namespaces:
#
#   etcp-...-a                                 etcp-...-b
#   veth0 10.0.1.1/24 fd00:e7::1/64 <--veth--> veth0 10.0.1.2/24 fd00:e7::2/64
#
#   options     python3's socket module under etcp-run (etcp_run_options.py):
#               IPv4 and IPv6 TCP sockets move to etcp, SOCK_NONBLOCK and
#               SOCK_CLOEXEC kept, UDP and AF_UNIX stay; the TCP options etcp
#               has reach SOL_ETCP and read back, the others fail ENOPROTOOPT;
#               TCP_INFO is ETCP_INFO's fields, the rest 0; with
#               ETCP_RUN_IPV6=0, IPv6 stays on TCP
#   http_curl   python3 -m http.server in a, curl in b: 4 MiB of random
#               bytes, the same sha256; curl's TCP_NODELAY reached etcp
#   socat       socat at both ends, 1 MiB each way at once, both compared
#   socat6      the same over IPv6 (/proc/net/etcp6)
#   iperf3      iperf3 -4 -s in a, -c in b for 3 s: both exit 0 (at 200
#               Mbit/s, not all the CPU the tests beside it need too)
#
# The listener of each server is found in /proc/net/etcp (etcp6) of its
# namespace before the client starts.  While the connection is up (curl's
# output and socat's input are fifos the test opens only then, iperf3 runs
# for 3 s) it is found in /proc/net/etcp (etcp6) of the client's
# namespace; the client is then stopped (SIGSTOP) until it is found in the
# server's too, and /proc/net/tcp and tcp6 of both have no row with its
# port.  A program that is not installed skips its case.
#
# Needs root, ip(8), and build/tools (make tools; ETCP_RUN names another
# etcp-run).
set -u

readonly NSA=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}r-$$-a
readonly NSB=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}r-$$-b
readonly A4=10.0.1.1 B4=10.0.1.2 A6=fd00:e7::1 B6=fd00:e7::2
# A wait for something that takes a moment: a python3 starting up under TCG.
readonly WAIT_MS=60000

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=selftests/etcp_lib.sh
. "$DIR/etcp_lib.sh"
BIN=${ETCP_SELFTEST_BIN:-$DIR/../build/selftests}
RUN=${ETCP_RUN:-$BIN/../tools/etcp-run}
UAPI=$DIR/../include/uapi/linux/etcp.h

TMPD=
PIDS=()
# A process in each namespace, whose /proc/PID/net is that namespace's.
ANCHOR_A=
ANCHOR_B=

# ------------------------------------------------------------- helpers

na() { ip netns exec "$NSA" "$@"; }

# need CMD...: skip this case unless every CMD is installed.
need() {
	local c
	for c; do
		command -v "$c" >/dev/null || { skip "$c is not installed"; return; }
	done
}

# start LOG NS CMD...: run CMD under etcp-run in NS, in the background, its
# output into LOG; its pid in $!.
start() {
	local out=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$RUN" "$@" >"$out" 2>&1 &
	PIDS+=($!)
}

# stop PID...: end them (a stopped one too) and reap them.
stop() {
	kill "$@" 2>/dev/null
	kill -CONT "$@" 2>/dev/null
	wait "$@" 2>/dev/null
	return 0
}

# rows NS FILE PORT: the rows of /proc/net/FILE in NS with local or remote
# port PORT, read through the namespace's anchor process: no ip netns exec
# (slow under TCG) in a poll.
rows() {
	local pid=$ANCHOR_A
	[ "$1" = "$NSB" ] && pid=$ANCHOR_B
	awk -v p=":$(printf '%04X' "$3")" \
		'NR > 1 && (substr($2, length($2) - 4) == p ||
			    substr($3, length($3) - 4) == p)' "/proc/$pid/net/$2"
}

# listening NS FILE PORT: a listener on PORT in /proc/net/FILE of NS.
listening() { rows "$1" "$2" "$3" | awk '$4 == "0A" { f = 1 } END { exit !f }'; }

# connected NS FILE PORT MIN: at least MIN connections (rows other than
# a listener) with PORT in /proc/net/FILE of NS.
connected() {
	[ "$(rows "$1" "$2" "$3" | awk '$4 != "0A"' | wc -l)" -ge "$4" ]
}

# wait_listen NS FAM PORT LOG: the server started under etcp-run listens
# on etcp (not TCP) on PORT.
wait_listen() {
	local ns=$1 file=etcp port=$3 out=$4
	[ "$2" = 6 ] && file=etcp6
	wait_until "$WAIT_MS" listening "$ns" "$file" "$port" && return 0
	log "no listener on port $port in /proc/net/$file of $ns within $((WAIT_MS / 1000)) s"
	log "TCP's there: $(rows "$ns" tcp "$port"; rows "$ns" tcp6 "$port")"
	log "server output: $(cat "$out")"
	return 1
}

# on_etcp FAM PORT MIN PID: while the connection(s) on PORT are up, they
# are in /proc/net/etcp (etcp6) of both namespaces, and TCP lists nothing
# with PORT there.  Up: the client (PID) holds them, so they are looked for
# on its side first; then it is stopped (SIGSTOP) while the server's side
# and TCP's files are read, so that nothing ends meanwhile.
on_etcp() {
	local file=etcp port=$2 min=$3 pid=$4 ns tcp rc=0 t0
	[ "$1" = 6 ] && file=etcp6
	t0=$(now_ms)
	if ! wait_until "$WAIT_MS" connected "$NSB" "$file" "$port" "$min"; then
		log "not $min connection(s) on port $port in /proc/net/$file of the client's namespace"
		log "TCP's: $(rows "$NSB" tcp "$port"; rows "$NSB" tcp6 "$port")"
		return 1
	fi
	if ! kill -STOP "$pid" 2>/dev/null; then
		log "the client ended before its connection could be held; it was seen only on its side"
		return 1
	fi
	if ! wait_until "$WAIT_MS" connected "$NSA" "$file" "$port" "$min"; then
		log "not $min connection(s) on port $port in /proc/net/$file of the server's namespace"
		log "there: $(rows "$NSA" "$file" "$port")"
		rc=1
	fi
	for ns in "$NSA" "$NSB"; do
		log "$ns /proc/net/$file: $(rows "$ns" "$file" "$port" | awk '{ printf "%s %s st %s; ", $2, $3, $4 }')"
		tcp=$(rows "$ns" tcp "$port"; rows "$ns" tcp6 "$port")
		if [ -n "$tcp" ]; then
			log "$ns: port $port is on TCP too: $tcp"
			rc=1
		fi
	done
	kill -CONT "$pid"
	log "seen on etcp after $(($(now_ms) - t0)) ms"
	return "$rc"
}

# same WHAT FILE1 FILE2: the files have the same bytes.
same() {
	if ! cmp -s "$2" "$3"; then
		log "$1: the $(wc -c <"$3") bytes received are not the $(wc -c <"$2") sent"
		return 1
	fi
	log "$1: $(wc -c <"$2") bytes, sha256 $(sha256sum <"$2" | cut -c1-16)... both ends"
}

setup() {
	ip netns add "$NSA" && ip netns add "$NSB" &&
	ip -n "$NSA" link add veth0 type veth peer name veth0 netns "$NSB" &&
	ip -n "$NSA" addr add "$A4"/24 dev veth0 &&
	ip -n "$NSB" addr add $B4/24 dev veth0 &&
	ip -n "$NSA" addr add $A6/64 dev veth0 nodad &&
	ip -n "$NSB" addr add $B6/64 dev veth0 nodad &&
	ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up &&
	ip -n "$NSA" link set veth0 up && ip -n "$NSB" link set veth0 up || return 1
	ip netns exec "$NSA" sleep infinity &
	ANCHOR_A=$!
	PIDS+=($!)
	ip netns exec "$NSB" sleep infinity &
	ANCHOR_B=$!
	PIDS+=($!)
	# In its namespace once ip has become sleep.
	wait_until 10000 anchored
}

anchored() {
	[ "$(cat "/proc/$ANCHOR_A/comm" "/proc/$ANCHOR_B/comm" 2>/dev/null)" = $'sleep\nsleep' ]
}

cleanup() {
	[ ${#PIDS[@]} -gt 0 ] && stop "${PIDS[@]}"
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	[ -n "$TMPD" ] && rm -rf "$TMPD"
}

# ------------------------------------------------------------- tests

test_options() {
	local rc=0
	need python3 || return
	na "$RUN" python3 "$DIR/etcp_run_options.py" "$UAPI" moved || rc=1
	ETCP_RUN_IPV6=0 na "$RUN" python3 "$DIR/etcp_run_options.py" "$UAPI" kept || rc=1
	return "$rc"
}

test_http_curl() {
	local port=8080 srv cli rc=0
	need python3 curl || return
	mkdir -p "$TMPD/www" && head -c 4M /dev/urandom >"$TMPD/www/blob" || return 1
	start "$TMPD/http.log" "$NSA" python3 -m http.server --bind "$A4" \
		--directory "$TMPD/www" "$port"
	srv=$!
	if ! wait_listen "$NSA" 4 "$port" "$TMPD/http.log"; then
		stop "$srv"
		return 1
	fi
	# curl writes into a fifo nobody reads yet: it blocks once the fifo
	# is full, with most of the 4 MiB still in its socket, so the
	# connection stays up until it has been seen.  (curl's --limit-rate
	# cannot hold it: curl 7.88 averages the rate, and lets the first
	# seconds go at full speed, under a second on a clean veth.)
	mkfifo "$TMPD/curl.fifo" || return 1
	ETCP_RUN_DEBUG=1 start "$TMPD/curl.log" "$NSB" curl -sS --fail --noproxy '*' \
		-o "$TMPD/curl.fifo" "http://$A4:$port/blob"
	cli=$!
	on_etcp 4 "$port" 1 "$cli" || rc=1
	# Up to curl's end (or 60 s, should it never have opened the fifo).
	timeout 60 cat "$TMPD/curl.fifo" >"$TMPD/blob"
	if ! wait "$cli"; then
		log "curl failed: $(grep -v '^etcp-run' "$TMPD/curl.log")"
		rc=1
	fi
	stop "$srv"
	same "curl from http.server" "$TMPD/www/blob" "$TMPD/blob" || rc=1
	if ! grep -q "setsockopt TCP_NODELAY = 1 as SOL_ETCP" "$TMPD/curl.log"; then
		log "curl's TCP_NODELAY did not reach SOL_ETCP: $(cat "$TMPD/curl.log")"
		rc=1
	fi
	return "$rc"
}

# socat_case FAM PORT SERVER_ADDR CLIENT_ADDR: 1 MiB each way.  The
# server sends a.in at once; the client connects, then opens its fifo, so
# the connection is up until the test writes b.in into it.
socat_case() {
	local fam=$1 port=$2 d=$TMPD/socat$1 srv cli rc=0
	need socat || return
	mkdir -p "$d" && mkfifo "$d/fifo" || return 1
	head -c 1M /dev/urandom >"$d/a.in" && head -c 1M /dev/urandom >"$d/b.in" ||
		return 1
	start "$d/a.log" "$NSA" socat -t 30 "$3" "OPEN:$d/a.in!!CREATE:$d/a.out"
	srv=$!
	if ! wait_listen "$NSA" "$fam" "$port" "$d/a.log"; then
		stop "$srv"
		return 1
	fi
	start "$d/b.log" "$NSB" socat -t 30 "$4" "OPEN:$d/fifo!!CREATE:$d/b.out"
	cli=$!
	on_etcp "$fam" "$port" 1 "$cli" || rc=1
	# shellcheck disable=SC2016 # the inner shell's $1 and $2
	if ! timeout 60 sh -c 'cat "$1" >"$2"' sh "$d/b.in" "$d/fifo"; then
		log "could not write to the client's fifo: $(cat "$d/b.log")"
		stop "$cli" "$srv"
		return 1
	fi
	wait "$cli" || { log "socat client failed: $(cat "$d/b.log")"; rc=1; }
	wait "$srv" || { log "socat server failed: $(cat "$d/a.log")"; rc=1; }
	same "server to client" "$d/a.in" "$d/b.out" || rc=1
	same "client to server" "$d/b.in" "$d/a.out" || rc=1
	return "$rc"
}

test_socat() {
	socat_case 4 7001 "TCP4-LISTEN:7001,bind=$A4,reuseaddr" "TCP4:$A4:7001"
}

test_socat6() {
	socat_case 6 7002 "TCP6-LISTEN:7002,bind=[$A6],reuseaddr" "TCP6:[$A6]:7002"
}

test_iperf3() {
	local port=5201 srv cli rc=0
	need iperf3 || return
	start "$TMPD/iperf3-s.log" "$NSA" iperf3 -4 -s -1 -B "$A4" -p "$port"
	srv=$!
	if ! wait_listen "$NSA" 4 "$port" "$TMPD/iperf3-s.log"; then
		stop "$srv"
		return 1
	fi
	start "$TMPD/iperf3-c.log" "$NSB" iperf3 -4 -c "$A4" -p "$port" -t 3 -b 200M
	cli=$!
	# The control connection and the data stream.
	on_etcp 4 "$port" 2 "$cli" || rc=1
	wait "$cli" || { log "iperf3 client failed: $(cat "$TMPD/iperf3-c.log")"; rc=1; }
	wait "$srv" || { log "iperf3 server failed: $(cat "$TMPD/iperf3-s.log")"; rc=1; }
	grep -E 'sender|receiver' "$TMPD/iperf3-c.log" | while read -r l; do log "$l"; done
	return "$rc"
}

# ------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || skip_all "must run as root"
command -v ip >/dev/null || skip_all "ip (iproute2) not found"
[ -x "$RUN" ] || skip_all "$RUN not built (make tools)"
[ -r "${RUN%/*}/libetcp-run.so" ] || [ -n "${ETCP_RUN_LIB:-}" ] ||
	skip_all "${RUN%/*}/libetcp-run.so not built (make tools)"

TMPD=$(mktemp -d /tmp/etcp-runtest.XXXXXX) || exit 1
trap cleanup EXIT
setup || { log "cannot set up the namespaces"; exit 1; }

run options
run http_curl
run socat
run socat6
run iperf3
echo "1..$nr"

[ "$nfail" = 0 ] || exit 1
# Every case skipped: the test is a skip, not a pass.
[ "$nskip" -lt "$nr" ] || exit "$ksft_skip"
