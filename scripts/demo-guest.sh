#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run inside the test VM with etcp.ko loaded (scripts/demo.sh
# boots the VM).  It shows a person what etcp does today, the way they would
# look at it themselves: lsmod, sysctl, Python sockets, /proc/net/etcp.
#
#   ns A (etcp-demo-a)  10.0.1.1/24 ea <--veth--> eb 10.0.1.2/24  ns B
#                       fd00:1::1/64             fd00:1::2/64
set -euo pipefail

A=etcp-demo-a
B=etcp-demo-b

say() { printf '\n==> %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# Capture etcp's segments on A's veth into FILE (capture filter FILTER...)
# in the background, as $CAP, once tcpdump says it is listening: nothing
# sent after this returns is missed.  --immediate-mode hands every packet
# over at once (libpcap's default waits for a block of them or a timeout,
# and what it holds when the capture is stopped is lost).
cap_start() {
	local file=$1 i
	shift
	ip netns exec $A tcpdump --immediate-mode -U -ni ea -w "$file" "$@" \
		2>/tmp/cap.err &
	CAP=$!
	for i in $(seq 100); do
		grep -q 'listening on' /tmp/cap.err && return 0
		sleep 0.1
	done
	echo "tcpdump did not start: $(cat /tmp/cap.err)" >&2
	return 1
}

setup() {
	ip netns add $A
	ip netns add $B
	ip -n $A link add ea type veth peer name eb netns $B
	ip -n $A addr add 10.0.1.1/24 dev ea
	ip -n $B addr add 10.0.1.2/24 dev eb
	ip -n $A addr add fd00:1::1/64 dev ea nodad
	ip -n $B addr add fd00:1::2/64 dev eb nodad
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
say "Two namespaces joined by a veth pair: A=10.0.1.1, B=10.0.1.2 (fd00:1::1, ::2)"
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

say "The three-way handshake: a listener in B, a client in A, tshark on A's veth"
cap_start /tmp/hs.pcap ip proto 253
ip netns exec $B python3 - <<'PY' &
import socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
l.bind(("10.0.1.2", 5000)); l.listen(8)
c, peer = l.accept()
print("B: accepted a connection from", peer)
print("B: /proc/net/etcp (0A = LISTEN, 01 = ESTABLISHED)")
print(open("/proc/net/etcp").read().rstrip())
PY
SRV=$!
wait_listen() {
	local i
	for i in $(seq 100); do
		ip netns exec $B grep -q ' 0A ' /proc/net/etcp && return 0
		sleep 0.1
	done
	return 1
}
wait_listen
ip netns exec $A python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
s.connect(("10.0.1.2", 5000))
info = s.getsockopt(253, 11, 88)          # SOL_ETCP, ETCP_INFO
state, = struct.unpack_from("B", info, 0)
snd_mss, rcv_mss, iss, irs = struct.unpack_from("<IIII", info, 16)
print("A: connected from", s.getsockname(), "state", state,
      "ISS", iss, "IRS", irs, "MSS", snd_mss)
PY
wait $SRV
sleep 1
kill $CAP; wait $CAP 2>/dev/null
say "On the wire (tshark -d ip.proto==253,tcp): SYN, SYN-ACK, ACK"
tshark -r /tmp/hs.pcap -d ip.proto==253,tcp 2>/dev/null | head -n 3

say "A port nobody listens on: RST+ACK with seq 0, ack ISN+1; connect() says so"
ip netns exec $A python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
try:
    s.connect(("10.0.1.2", 5001))
except OSError as e:
    print("connect:", e.strerror)
PY

say "SYN retries: B drops SYNs (nft @th,104,8), A has etcp_syn_retries=2"
run ip netns exec $B nft add table inet demo
run ip netns exec $B nft add chain inet demo in '{ type filter hook input priority 0; }'
run ip netns exec $B nft add rule inet demo in meta l4proto 253 @th,104,8 '&' 0x12 == 0x02 drop
run ip netns exec $A sysctl -qw net.ipv4.etcp_syn_retries=2
ip netns exec $A python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
t = time.monotonic()
try:
    s.connect(("10.0.1.2", 5000))
except OSError as e:
    print("connect: %s after %.1f s (SYNs at 0, 1 and 3 s, then 4 s more)"
          % (e.strerror, time.monotonic() - t))
PY

run ip netns exec $B nft delete table inet demo

say "Data: a 100-byte request, a 4-segment reply, then 10 MiB each way, byte-checked"
cap_start /tmp/data.pcap ip proto 253
ip netns exec $B python3 - <<'PY' &
import socket
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.0.1.2", 5002)); l.listen(8)
c, _ = l.accept()
req = b""
while len(req) < 100:
    req += c.recv(100 - len(req))
c.sendall(bytes(4 * 1460))               # the reply: four full segments
got = 0
while got < 10 << 20:                    # then echo 10 MiB back
    b = c.recv(65536)
    c.sendall(b)
    got += len(b)
c.recv(1)                                # until A has everything
PY
SRV=$!
for i in $(seq 100); do
	ip netns exec $B grep -q ':138A .* 0A ' /proc/net/etcp && break
	sleep 0.1
done
ip netns exec $A python3 - <<'PY'
import hashlib, os, socket, struct, threading, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
s.connect(("10.0.1.2", 5002))
s.sendall(b"q" * 100)
reply = b""
while len(reply) < 4 * 1460:
    reply += s.recv(65536)
data = os.urandom(10 << 20)
out = hashlib.sha256()
t = time.monotonic()
def rx():
    n = 0
    while n < len(data):
        b = s.recv(65536)
        out.update(b)
        n += len(b)
th = threading.Thread(target=rx); th.start()
s.sendall(data); th.join()
dt = time.monotonic() - t
print("A: 10 MiB out and back in %.2f s, %s" % (dt, "every byte right"
      if out.digest() == hashlib.sha256(data).digest() else "CORRUPTED"))
f = struct.unpack_from("<4B17I2Q", s.getsockopt(253, 11, 88))
print("A: ETCP_INFO rto %d us, srtt %d us, cwnd %d, retransmitted %d, "
      "bytes acked %d, received %d" % (f[4], f[5], f[16], f[18], f[21], f[22]))
s.send(b"!")
while s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and \
      struct.unpack("i", __import__("fcntl").ioctl(s, 0x5411, b"\0" * 4))[0]:
    time.sleep(0.05)
time.sleep(0.2)
PY
wait $SRV
sleep 1
kill $CAP; wait $CAP 2>/dev/null
say "The request and the reply on the wire, relative seq/ack as a textbook writes them"
echo "(the reply's four segments leave as one GSO super-segment of 5840 bytes, which the"
echo " veth hands to A whole, as it would TCP's; windows are in bytes, the SYNs' scale applied)"
tshark -r /tmp/data.pcap -d ip.proto==253,tcp -o tcp.relative_sequence_numbers:TRUE \
	-T fields -e frame.number -e ip.src -e tcp.flags.str -e tcp.seq -e tcp.ack \
	-e tcp.len -e tcp.window_size 2>/dev/null | sed -n '4,7p'

say "Counters of namespace A"
run ip netns exec $A cat /proc/net/etcp_stat

close_demo() {
	local port=$1 linger=$2
	cap_start /tmp/close.pcap ip proto 253
	ip netns exec $B python3 - "$port" "$linger" <<'PY' &
import socket, sys, time
l = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.0.1.2", int(sys.argv[1]))); l.listen(1)
c, _ = l.accept()
while c.recv(100):
    pass
print("B: read() returned 0: A is done sending; B closes %s" %
      ("after %s s" % sys.argv[2] if float(sys.argv[2]) else "at once"))
time.sleep(float(sys.argv[2]))
c.close()
PY
	SRV=$!
	for i in $(seq 100); do
		ip netns exec $B grep -q ":$(printf %04X "$port") .* 0A " /proc/net/etcp && break
		sleep 0.1
	done
	ip netns exec $A python3 - "$port" <<'PY'
import socket, sys, time
NAMES = {1: "ESTABLISHED", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
         7: "CLOSE", 11: "CLOSING"}
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 253)
s.connect(("10.0.1.2", port))
s.send(b"bye")
s.close()
t, seen = time.monotonic(), None
while time.monotonic() - t < 3:
    rows = [l.split() for l in open("/proc/net/etcp")][1:]
    st = [int(r[3], 16) for r in rows if r[2].endswith(":%04X" % port)]
    st = st[0] if st else None
    if st != seen:
        print("A: %5.0f ms  %s" % ((time.monotonic() - t) * 1000,
              NAMES.get(st, "gone from /proc/net/etcp")))
        seen = st
    time.sleep(0.005)
PY
	wait $SRV
	sleep 0.5
	kill $CAP; wait $CAP 2>/dev/null
	tshark -r /tmp/close.pcap -d ip.proto==253,tcp -o tcp.relative_sequence_numbers:TRUE \
		-T fields -e frame.time_relative -e ip.src -e tcp.flags.str -e tcp.seq -e tcp.ack \
		-e tcp.len 2>/dev/null | tail -n "$3"
}

say "The orderly close: A sends 3 bytes and closes, B closes 0.2 s after read() returns 0"
run ip netns exec $A sysctl -qw net.ipv4.etcp_msl=1000
close_demo 5003 0.2 6
echo "(the 3 bytes, ACKed at once (a quick ACK: the connection's first data);"
echo " A's FIN, ACKed 40 ms later (delayed: B's own FIN was to carry it);"
echo " B's FIN, A's ACK; A in TIME_WAIT for 2 * etcp_msl = 2 s)"

say "The three-segment close: B closes at once, its FIN carries the ACK of A's"
close_demo 5004 0 5
echo "(the 3 bytes and their quick ACK; A's FIN; B's FIN with the ACK of A's;"
echo " A's ACK)"

say "IPv6: a dual-stack listener on [::]:5005 in B, a client over IPv6, one over IPv4"
cap_start /tmp/v6.pcap ip6 proto 253
ip netns exec $B python3 - <<'PY' &
import socket
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, 253)
l.bind(("::", 5005)); l.listen(8)
for _ in range(2):
    c, peer = l.accept()
    print("B: accepted", peer[0], "on", c.getsockname()[0])
    c.sendall(c.recv(100).upper())
    if _ == 1:
        print("B: /proc/net/etcp6 (an IPv4 peer shows v4-mapped)")
        print(open("/proc/net/etcp6").read().rstrip())
    c.close()
PY
SRV=$!
for i in $(seq 100); do
	ip netns exec $B grep -q ':138D .* 0A ' /proc/net/etcp6 && break
	sleep 0.1
done
ip netns exec $A python3 - <<'PY'
import socket, struct
for fam, addr in ((socket.AF_INET6, "fd00:1::2"), (socket.AF_INET, "10.0.1.2")):
    s = socket.socket(fam, socket.SOCK_STREAM, 253)
    s.connect((addr, 5005))
    s.sendall(b"hello")
    mss, = struct.unpack_from("<I", s.getsockopt(253, 11, 88), 16)
    print("A:", "IPv6" if fam == socket.AF_INET6 else "IPv4", "got",
          s.recv(100), "MSS", mss)
    s.close()
PY
wait $SRV
sleep 0.5
kill $CAP; wait $CAP 2>/dev/null
say "The IPv6 handshake on the wire (tshark -d ip.proto==253,tcp: IPv6's next header too): MSS 1440 = 1500 - 60"
tshark -r /tmp/v6.pcap -d ip.proto==253,tcp 2>/dev/null | head -n 3

say "Resets, half-open connections, attacks, ICMP and hostile peers: see make check's selftests."
