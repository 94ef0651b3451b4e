# SPDX-License-Identifier: GPL-2.0
"""What the scenes of make demo (scripts/demo-scenes.sh) write their
applications with: one Python process playing both hosts, each socket
made in its host's network namespace (setns), every call and its result
or errno printed as the application saw it:

    l = B.listen(PORT)
    s = A.connect(PORT)            # "A: connect(10.0.1.2:5000) -> ok"
    c = B.accept(l)
    A.call("recv()", s.recv, 100)  # "A: recv() -> ECONNRESET (...)"

The hosts, their namespaces and addresses and the port come from the
environment (DEMO_NS_A, DEMO_NS_B, DEMO_A, DEMO_B, DEMO_PORT).  When the
script ends, the time is written to DEMO_END (the ladder ends there: what
the sockets still open do afterwards is not the scene's).
"""
import atexit
import ctypes
import errno
import os
import select
import socket
import struct
import subprocess
import time

IPPROTO_ETCP = 253
SOL_ETCP = 253
ETCP_KEEPIDLE, ETCP_KEEPINTVL, ETCP_KEEPCNT = 4, 5, 6
ETCP_LINGER2 = 8
ETCP_INFO = 11
CLONE_NEWNET = 0x40000000
STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1",
          5: "FIN_WAIT2", 6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT",
          9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
STATE_NUM = {v: k for k, v in STATES.items()}
# A wait for something that takes a moment: generous, for TCG.
WAIT_S = 30

PORT = int(os.environ.get("DEMO_PORT", "5000"))
_libc = ctypes.CDLL(None, use_errno=True)
_home = os.open("/proc/self/ns/net", os.O_RDONLY)


def say(text):
    print(text, flush=True)


def ename(e):
    """'ECONNRESET (Connection reset by peer)' for an OSError."""
    return "%s (%s)" % (errno.errorcode.get(e.errno, str(e.errno)), e.strerror)


class Netns:
    """In the namespace of file path while the with-block runs."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns " + self.path)
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        _libc.setns(_home, CLONE_NEWNET)


class Host:
    """One end: its name, namespace, address."""

    def __init__(self, name, ns, addr):
        self.name, self.ns, self.addr = name, ns, addr
        self.family = socket.AF_INET6 if ":" in addr else socket.AF_INET

    def netns(self):
        return Netns("/run/netns/" + self.ns)

    def say(self, text):
        say("%s: %s" % (self.name, text))

    def call(self, what, fn, *args):
        """fn(*args), printed as the application saw it: the result, or the
        errno (returned as the OSError)."""
        t = time.monotonic()
        try:
            r = fn(*args)
        except OSError as e:
            dt = time.monotonic() - t
            self.say("%s -> %s%s" % (what, ename(e),
                                     " after %.1f s" % dt if dt >= 0.5 else ""))
            return e
        if isinstance(r, bytes):
            self.say("%s -> %s" % (what, "%d bytes" % len(r) if r else
                                   "0: end of file, the peer's FIN"))
        elif isinstance(r, tuple) and isinstance(r[0], socket.socket):
            self.say("%s -> a connection from %s:%d" % (what, r[1][0], r[1][1]))
        elif r is None:
            self.say("%s -> ok" % what)
        else:
            self.say("%s -> %s" % (what, r))
        return r

    def socket(self, reuse=False, port=None):
        with self.netns():
            s = socket.socket(self.family, socket.SOCK_STREAM, IPPROTO_ETCP)
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if port is not None:
            s.bind((self.addr, port))
        return s

    def listen(self, port=PORT, backlog=8, reuse=False):
        s = self.socket(reuse=reuse, port=port)
        s.listen(backlog)
        self.say("listen() on port %d" % port)
        return s

    def accept(self, lsock):
        r = self.call("accept()", lsock.accept)
        return r[0] if isinstance(r, tuple) else None

    def connect(self, peer, port=PORT, sock=None, **kw):
        """A socket connected (or not: the errno is printed) to peer:port."""
        s = sock or self.socket(**kw)
        self.call("connect(%s:%d)" % (peer.addr, port), s.connect,
                  (peer.addr, port))
        return s

    def cmd(self, *argv):
        """Run a command in this namespace, shown as typed."""
        say("%s: $ %s" % (self.name, " ".join(argv)))
        subprocess.run(["ip", "netns", "exec", self.ns] + list(argv),
                       check=True)

    def rows(self):
        """/proc/net/etcp's rows: (local port, remote port, state name)."""
        with self.netns():
            name = "etcp6" if self.family == socket.AF_INET6 else "etcp"
            with open("/proc/net/" + name) as f:
                lines = f.readlines()[1:]
        out = []
        for ln in lines:
            fl = ln.split()
            out.append((int(fl[1].split(":")[1], 16),
                        int(fl[2].split(":")[1], 16),
                        STATES.get(int(fl[3], 16), fl[3])))
        return out

    def state(self, lport, rport):
        """The state of the connection lport-rport: None when it has no
        row, or only the CLOSED row of a socket the application still
        holds after the connection ended (the row of its TIME_WAIT entry,
        if any, is the one that counts)."""
        states = [st for lp, rp, st in self.rows()
                  if lp == lport and rp == rport and st != "CLOSED"]
        return states[0] if states else None

    def wait_state(self, lport, rport, want, timeout=WAIT_S):
        """Poll until the connection lport-rport is in state want (None:
        over); the seconds that took."""
        t = time.monotonic()
        until(lambda: self.state(lport, rport) == want, timeout,
              "%s: connection %d-%d never %s" % (self.name, lport, rport,
                                                 want or "over"))
        return time.monotonic() - t

    def stat(self, name):
        with self.netns():
            with open("/proc/net/etcp_stat") as f:
                for ln in f:
                    k, v = ln.split()
                    if k == name:
                        return int(v)
        raise KeyError(name)

    def forge(self, peer, sport, dport, seq, ack, flags, why):
        """Send peer one segment built here (TCP's layout, protocol 253,
        the checksum over the pseudo-header) from a raw socket: what an
        attacker or an old duplicate would send."""
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff,
                          ack & 0xffffffff, 5 << 4, flags, 65535, 0, 0)
        pseudo = socket.inet_aton(self.addr) + socket.inet_aton(peer.addr) + \
            struct.pack("!BBH", 0, IPPROTO_ETCP, len(hdr))
        data = pseudo + hdr
        s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        hdr = hdr[:16] + struct.pack("!H", ~s & 0xffff) + hdr[18:]
        with self.netns():
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_ETCP)
        raw.bind((self.addr, 0))
        raw.sendto(hdr, (peer.addr, 0))
        raw.close()
        self.say("raw socket: %s" % why)


def pair(port=PORT):
    """The connection most scenes start from: B listens on port, A
    connects, B accepts: the listener, A's socket, B's, A's port."""
    lsock = B.listen(port)
    s = A.connect(B, port)
    c = B.accept(lsock)
    return lsock, s, c, s.getsockname()[1]


def a_closes(s, c):
    """A closes first; B's application reads the end of file."""
    A.call("close()", s.close)
    B.call("recv()", c.recv, 100)


def until(cond, timeout=WAIT_S, what="condition"):
    """Poll cond every 10 ms until it holds; fail the scene after timeout."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("timed out: " + what)
        time.sleep(0.01)


def info(s):
    """ETCP_INFO: the fields a scene needs, sequence numbers absolute."""
    f = struct.unpack_from("<4B12I", s.getsockopt(SOL_ETCP, ETCP_INFO, 104))
    return {"state": STATES.get(f[0], f[0]), "retransmits": f[1],
            "iss": f[9], "irs": f[10], "snd_una": f[11], "snd_nxt": f[12],
            "rcv_nxt": f[13], "snd_mss": f[7]}


def linger0(s):
    """SO_LINGER {1, 0}: close() aborts with an RST."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def writable(s, timeout=WAIT_S):
    return bool(select.select([], [s], [], timeout)[1])


def readable(s, timeout=WAIT_S):
    return bool(select.select([s], [], [], timeout)[0])


def _end():
    """The scene is over: its time and the counters of both namespaces into
    DEMO_DIR (end, stat-A, stat-B), before the sockets left open close."""
    d = os.environ.get("DEMO_DIR")
    if not d:
        return
    with open(os.path.join(d, "end"), "w") as f:
        f.write("%.6f\n" % time.time())
    for h in (A, B):
        with h.netns():
            with open("/proc/net/etcp_stat") as src:
                text = src.read()
        with open(os.path.join(d, "stat-" + h.name), "w") as f:
            f.write(text)


atexit.register(_end)
A = Host("A", os.environ.get("DEMO_NS_A", "etcp-demo-a"),
         os.environ.get("DEMO_A", "10.0.1.1"))
B = Host("B", os.environ.get("DEMO_NS_B", "etcp-demo-b"),
         os.environ.get("DEMO_B", "10.0.1.2"))
