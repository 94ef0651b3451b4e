#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run inside the test VM with etcp.ko loaded (scripts/demo.sh
# boots the VM).  It shows a person what etcp does today, the way they would
# look at it themselves: lsmod, sysctl, Python sockets, /proc/net/etcp.
#
#   ns A (etcp-demo-a)  10.0.1.1/24 ea <--veth--> eb 10.0.1.2/24  ns B
set -euo pipefail

A=etcp-demo-a
B=etcp-demo-b

say() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

setup() {
	ip netns add $A
	ip netns add $B
	ip -n $A link add ea type veth peer name eb netns $B
	ip -n $A addr add 10.0.1.1/24 dev ea
	ip -n $B addr add 10.0.1.2/24 dev eb
	ip -n $A link set ea up
	ip -n $B link set eb up
	ip -n $A link set lo up
	ip -n $B link set lo up
}

cleanup() {
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT

say "etcp is loaded on $(uname -r)"
run grep -E '^etcp ' /proc/modules
dmesg | grep -E 'etcp: ' | tail -n 2
run modinfo -F alias "$ETCP_KO"

say "Its tunables, per network namespace, named after TCP's"
run sysctl -a --pattern '^net\.ipv4\.etcp_'

setup
say "Two namespaces joined by a veth pair: A=10.0.1.1, B=10.0.1.2"
say "A sysctl written in namespace A is not seen in B"
run ip netns exec $A sysctl -w net.ipv4.etcp_msl=5000
run ip netns exec $A sysctl net.ipv4.etcp_msl
run ip netns exec $B sysctl net.ipv4.etcp_msl

say "Out of range is refused with EINVAL and the old value stays"
run ip netns exec $A sysctl -w net.ipv4.etcp_msl=0 || true
run ip netns exec $A sysctl net.ipv4.etcp_msl

say "An etcp socket and a TCP socket on the same port in namespace A"
ip netns exec $A python3 - <<'PY'
import socket, subprocess
IPPROTO_ETCP = 253
e = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_ETCP)
e.bind(("10.0.1.1", 5000))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("10.0.1.1", 5000))
print("etcp socket: protocol", e.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL),
      "bound to", e.getsockname())
print("tcp  socket: protocol", t.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL),
      "bound to", t.getsockname())
f = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_ETCP)
print("ephemeral port for bind(0):", (f.bind(("10.0.1.1", 0)), f.getsockname())[1])
print("\n$ cat /proc/net/etcp   (state 07 = CLOSE, port 0x1388 = 5000)")
print(open("/proc/net/etcp").read().rstrip())
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM, IPPROTO_ETCP)
except OSError as err:
    print("\nsocket(AF_INET, SOCK_DGRAM, 253):", err.strerror)
PY

say "Namespace B has its own, empty, table"
run ip netns exec $B cat /proc/net/etcp

say "Counters of namespace A"
run ip netns exec $A cat /proc/net/etcp_stat

say "Connections (handshake, data, close, RST) are the next steps of the project."
