#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Draw a capture of etcp segments as a textbook's ladder diagram.

    scripts/ladder.py [--trace FILE] [--proto N] [--names A,B] PCAP LEFT RIGHT

PCAP is a capture (tcpdump -w, Ethernet, Linux cooked or raw IP; IPv4 or
IPv6) of the segments between the hosts LEFT and RIGHT (their addresses).
Every segment of IP protocol N (253) between them becomes an arrow:

     time   A 10.0.1.1                                  B 10.0.1.2
    0.000                                               LISTEN
    0.016   SYN_SENT    --- SYN seq=0 mss=1460 ----->
    0.021               <-- SYN,ACK seq=0 ack=1 ----    SYN_RECV
    0.023   ESTABLISHED --- ACK seq=1 ack=1 -------->   ESTABLISHED

Sequence and acknowledgement numbers are relative to the ISN of their
direction, as tshark's are (the SYN is seq=0, the first data byte 1):
each SYN of a 4-tuple starts a new ISN, and a number is shown relative to
whichever ISN of the 4-tuple it lies closest above, so that an old
connection's segments still read right after a new SYN reused its ports.
A direction whose SYN was not captured shows absolute numbers.  With
more than one connection in the capture, arrows are tagged #1, #2 ...
and a legend names them.

FILE is the text of a tracefs instance (its "trace" file) that recorded
sock:inet_sock_set_state (protocol 253) and etcp:* with the "tai" clock,
which is the capture's (CLOCK_REALTIME) as long as the TAI offset is 0, as
it is in the test VM: the state changes are put next to the arrows.  A
change an application's call made goes on the row of the next segment
its side sends (the state it was sent in); one a segment made, on that
segment's row (the state it moved to); one a timer made, on the row of
the segment the timer sent; else it gets a row of its own, as do the etcp:* events worth a note (TIME_WAIT
restarted or ended, an orphan reset, a request dropped).  A retransmission
the trace reports is marked [rtx].
"""
import argparse
import ipaddress
import re
import struct
import sys

FLAG_NAMES = ((0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"),
              (0x10, "ACK"), (0x20, "URG"), (0x40, "ECE"), (0x80, "CWR"))
# What a state change is shown as: the kernel's names, CLOSED for CLOSE.
STATE_LABEL = {"CLOSE": "CLOSED"}
# How long before or after a segment a state change still belongs to it.
ATTACH_S = 0.5
# Events this close together are one moment (a full socket's close and
# its TIME_WAIT entry's creation).
SAME_S = 0.05


class Seg:
    """One captured segment."""

    def __init__(self, t, src, dst, sport, dport, seq, ack, flags, length, mss):
        self.t, self.src, self.dst = t, src, dst
        self.sport, self.dport = sport, dport
        self.seq, self.ack, self.flags, self.len = seq, ack, flags, length
        self.mss = mss
        self.rtx = False


def parse_tcp(t, src, dst, l4, segs):
    """Append the segment in l4 (TCP's header layout) to segs."""
    if len(l4) < 20:
        return
    sport, dport, seq, ack, off, flags = struct.unpack_from("!HHIIBB", l4)
    hlen = (off >> 4) * 4
    mss = None
    opts = l4[20:hlen]
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 2 and opts[i + 1] == 4 and i + 4 <= len(opts):
            mss = struct.unpack_from("!H", opts, i + 2)[0]
        i += opts[i + 1]
    segs.append(Seg(t, src, dst, sport, dport, seq, ack, flags,
                    len(l4) - hlen, mss))


def parse_ip(t, pkt, proto, segs):
    """The IP packet pkt: its segment of protocol proto, if any."""
    if not pkt:
        return
    ver = pkt[0] >> 4
    if ver == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        if pkt[9] == proto:
            parse_tcp(t, ipaddress.ip_address(pkt[12:16]),
                      ipaddress.ip_address(pkt[16:20]),
                      pkt[ihl:total], segs)
    elif ver == 6 and len(pkt) >= 40:
        plen = struct.unpack_from("!H", pkt, 4)[0]
        if pkt[6] == proto:
            parse_tcp(t, ipaddress.ip_address(pkt[8:24]),
                      ipaddress.ip_address(pkt[24:40]),
                      pkt[40:40 + plen], segs)


def read_pcap(path, proto):
    """The segments of protocol proto in the capture at path."""
    segs = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return segs
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("%s: not a pcap file (pcapng is not read)" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack_from(end + "I", data, 20)[0]
    off = 24
    # A capture still being written may end in half a record: stop there.
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from(end + "IIII", data, off)
        off += 16
        frame = data[off:off + caplen]
        off += caplen
        if len(frame) < caplen:
            break
        t = sec + frac / (1e9 if nano else 1e6)
        if link == 1:		# Ethernet, maybe one VLAN tag
            etype, l3 = struct.unpack_from("!H", frame, 12)[0], 14
            if etype == 0x8100:
                etype, l3 = struct.unpack_from("!H", frame, 16)[0], 18
            if etype in (0x0800, 0x86dd):
                parse_ip(t, frame[l3:], proto, segs)
        elif link == 113:	# Linux cooked
            parse_ip(t, frame[16:], proto, segs)
        elif link == 276:	# Linux cooked v2
            parse_ip(t, frame[20:], proto, segs)
        elif link in (101, 12, 14):	# raw IP
            parse_ip(t, frame, proto, segs)
    return segs


TRACE_LINE = re.compile(r"^\s*.*?\s+\[\d+\]\s+(\S+)\s+([0-9.]+): (\w+): (.*)$")


def read_trace(path):
    """(time, event name, {field: value}, by_kernel) of each event in the
    trace text; by_kernel: in a softirq or with bottom halves disabled (a
    segment or a timer did it), not in an application's system call."""
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            m = TRACE_LINE.match(line)
            if not m:
                continue
            fields = dict(kv.split("=", 1) for kv in m.group(4).split()
                          if "=" in kv)
            fl = m.group(1)
            by_kernel = fl[0] in "bD" or (len(fl) > 2 and fl[2] in "sShH")
            events.append((float(m.group(2)), m.group(3), fields, by_kernel))
    return events


def state_name(s):
    s = s[4:] if s.startswith("TCP_") else s
    return STATE_LABEL.get(s, s)


class Ladder:
    """Segments and events merged in time, then laid out in rows."""

    def __init__(self, segs, events, left, right, names, proto):
        self.left, self.right = left, right
        self.names = names
        self.segs = [s for s in segs if {s.src, s.dst} == {left, right}]
        self.conns = []		# (left port, right port), in order of appearance
        for s in self.segs:
            c = self.conn_of(s)
            if c not in self.conns:
                self.conns.append(c)
        self.items = self.events_to_items(events, proto)

    def conn_of(self, s):
        return (s.sport, s.dport) if s.src == self.left else (s.dport, s.sport)

    def side_of(self, f):
        """'L' or 'R' for an event's connection fields, or None."""
        try:
            sa = ipaddress.ip_address(f.get("saddr", ""))
            da = ipaddress.ip_address(f.get("daddr", ""))
        except ValueError:
            return None
        if sa.version != self.left.version:
            try:
                sa = ipaddress.ip_address(f.get("saddrv6", ""))
                da = ipaddress.ip_address(f.get("daddrv6", ""))
            except ValueError:
                return None
        for side, me, peer in (("L", self.left, self.right),
                               ("R", self.right, self.left)):
            if sa == me or (sa.is_unspecified and da == peer):
                return side
        return None

    def events_to_items(self, events, proto):
        """The trace's events as [time, side, conn, label, note, kind,
        by_kernel]."""
        items = []
        for t, name, f, by_kernel in events:
            if name == "inet_sock_set_state" and \
               int(f.get("protocol", "0"), 0) != proto:
                continue
            side = self.side_of(f)
            if side is None:
                continue
            sport, dport = int(f.get("sport", 0)), int(f.get("dport", 0))
            conn = (sport, dport) if side == "L" else (dport, sport)
            who = self.names[0 if side == "L" else 1]
            if name == "inet_sock_set_state":
                old, new = state_name(f["oldstate"]), state_name(f["newstate"])
                if old == "LISTEN" and new == "CLOSED":
                    continue	# the listener going away at the end
                items.append([t, side, conn, new, None, "state", by_kernel])
            elif name == "etcp_request_create":
                items.append([t, side, conn, "SYN_RECV", None, "state", by_kernel])
            elif name == "etcp_time_wait_create":
                items.append([t, side, conn, "TIME_WAIT", None, "tw", by_kernel])
            elif name == "etcp_time_wait_restart":
                items.append([t, side, conn, None,
                              "%s: TIME_WAIT restarts its 2*MSL" % who, "note", by_kernel])
            elif name == "etcp_time_wait_end":
                why = {"timer": "2*MSL over", "rst": "killed by the RST",
                       "syn": "a new SYN took its 4-tuple"}.get(f.get("reason"))
                if why:
                    items.append([t, side, conn, "CLOSED",
                                  "%s: TIME_WAIT ends: %s" % (who, why), "note", by_kernel])
            elif name == "etcp_orphan_reset":
                items.append([t, side, conn, None, "%s: orphan in %s reset: %s"
                              % (who, state_name(f.get("state", "?")),
                                 f.get("reason", "?")), "note", by_kernel])
            elif name == "etcp_request_drop":
                items.append([t, side, conn, None, "%s: request dropped: %s"
                              % (who, f.get("reason", "?")), "note", by_kernel])
            elif name == "etcp_retransmit_skb":
                items.append([t, side, conn, int(f.get("seq", -1)), None, "rtx", by_kernel])
            elif name == "etcp_retransmit_synack":
                items.append([t, side, conn, int(f.get("iss", -1)), None, "rtx", by_kernel])
        # The full socket's change to CLOSE as it makes its TIME_WAIT entry
        # is not what the textbook shows: it moved to TIME_WAIT.
        for tw in [i for i in items if i[5] == "tw"]:
            items = [i for i in items if not (
                i[5] == "state" and i[3] == "CLOSED" and i[1:3] == tw[1:3] and
                abs(i[0] - tw[0]) < SAME_S)]
            tw[5] = "state"
        return items

    # ------------------------------------------------------------ numbers

    def relative(self):
        """Per segment, its shown seq and ack (relative where we can)."""
        isns = {}		# (src, sport, dst, dport) -> [ISN, ...]
        out = []

        def rel(v, bases):
            if not bases:
                return v
            return min((v - b) % (1 << 32) for b in bases)

        for s in self.segs:
            key = (s.src, s.sport, s.dst, s.dport)
            if s.flags & 0x02 and s.seq not in isns.setdefault(key, []):
                isns[key].append(s.seq)
            rev = (s.dst, s.dport, s.src, s.sport)
            out.append((rel(s.seq, isns.get(key)),
                        rel(s.ack, isns.get(rev)) if s.flags & 0x10 else None))
        return out

    def arrow_text(self, s, seq, ack):
        flags = ",".join(n for bit, n in FLAG_NAMES if s.flags & bit) or "none"
        text = "%s seq=%d" % (flags, seq)
        if ack is not None:
            text += " ack=%d" % ack
        if s.len:
            text += " len=%d" % s.len
        if s.mss and s.flags & 0x02:
            text += " mss=%d" % s.mss
        if s.rtx:
            text += " [rtx]"
        if len(self.conns) > 1:
            text = "#%d %s" % (self.conns.index(self.conn_of(s)) + 1, text)
        return text

    # ------------------------------------------------------------ layout

    def mark_rtx(self):
        """The segments the trace says were sent again."""
        for it in self.items:
            if it[5] != "rtx":
                continue
            src = self.left if it[1] == "L" else self.right
            for s in self.segs:
                if s.t >= it[0] - 0.001 and s.src == src and \
                   self.conn_of(s) == it[2] and s.seq == it[3]:
                    s.rtx = True
                    break

    def rows(self):
        """[time, left label, (way, text), right label, segment or None]."""
        self.mark_rtx()
        seg_rows = []
        for s, (seq, ack) in zip(self.segs, self.relative()):
            way = "->" if s.src == self.left else "<-"
            seg_rows.append([s.t, "", (way, self.arrow_text(s, seq, ack)), "", s])
        own = []
        last = {}		# (side, conn) -> the label shown last
        used = {"L": -1, "R": -1}	# the last segment row a side's label took
        for t, side, conn, label, note, kind, by_kernel in sorted(
                self.items, key=lambda i: i[0]):
            if kind == "rtx":
                continue
            conn = self.resolve(t, side, conn)
            col = 1 if side == "L" else 3
            if label is not None:
                if last.get((side, conn)) == label and not note:
                    continue
                last[(side, conn)] = label
                if not note:
                    i = self.attach(seg_rows, t, side, conn, col, by_kernel,
                                    used[side])
                    if i is not None:
                        seg_rows[i][col] = label
                        used[side] = i
                        continue
            # Not above a row this side's labels already reached.
            if used[side] >= 0:
                t = max(t, seg_rows[used[side]][0])
            own.append([t, label if label and col == 1 else "",
                        ("", note or ""), label if label and col == 3 else "",
                        None])
        # A row of its own goes after the segments of the same instant.
        return sorted(seg_rows + own, key=lambda r: (r[0], r[4] is None))

    def resolve(self, t, side, conn):
        """A client's change to SYN_SENT comes before connect() chose its
        port (0): the connection of its first SYN after it, to that port."""
        if (conn[0] if side == "L" else conn[1]) != 0:
            return conn
        me = self.left if side == "L" else self.right
        for s in self.segs:
            c = self.conn_of(s)
            if s.t >= t and s.src == me and s.flags & 0x02 and \
               (c[1] == conn[1] if side == "L" else c[0] == conn[0]):
                return c
        return conn

    def attach(self, seg_rows, t, side, conn, col, by_kernel, after):
        """The index of the segment row (after the row index after) a state
        change at t belongs to, or None.  One an application made (a
        connect(), close(), ...) goes with the next segment its side sends:
        the state it was sent in.  One a segment made goes with that
        segment, received or answered just before, else with the next
        segment its side sends; so does one a timer made."""
        me = self.left if side == "L" else self.right
        cand = []
        if by_kernel:
            for i in range(len(seg_rows) - 1, -1, -1):	# the last one before
                s = seg_rows[i][4]
                if s.t <= t and self.conn_of(s) == conn:
                    cand.append((t - s.t, i))
                    break
        for i, r in enumerate(seg_rows):	# the next one it sends
            s = r[4]
            if s.t >= t and s.src == me and self.conn_of(s) == conn:
                cand.append((s.t - t, i))
                break
        for dt, i in cand:
            if dt <= ATTACH_S and i > after and not seg_rows[i][col]:
                return i
        return None

    def render(self, out):
        rows = self.rows()
        if not rows:
            out.write("(no segments)\n")
            return
        t0 = min(r[0] for r in rows)
        lw = max([len(self.names[0]) + 1 + len(str(self.left))] +
                 [len(r[1]) for r in rows])
        mw = max([24] + [len(r[2][1]) + 8 for r in rows if r[4] is not None])
        head = "%s %s" % (self.names[0], self.left)
        out.write("%7s   %-*s  %-*s  %s %s\n" % ("time", lw, head, mw, "",
                                                self.names[1], self.right))
        if len(self.conns) > 1:
            for i, c in enumerate(self.conns):
                out.write("%7s   #%d: %s:%d - %s:%d\n" % (
                    "", i + 1, self.left, c[0], self.right, c[1]))
        for t, ll, mid, rl, seg in rows:
            way, text = mid
            if seg is None:
                arrow = text
            elif way == "->":
                arrow = ("--- %s " % text).ljust(mw - 2, "-") + "->"
            else:
                arrow = ("<-- %s " % text).ljust(mw, "-")
            line = "%7.3f   %-*s  %-*s  %s" % (t - t0, lw, ll, mw, arrow, rl)
            out.write(line.rstrip() + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trace", help="tracefs text with the state changes")
    p.add_argument("--proto", type=int, default=253)
    p.add_argument("--names", default="A,B", help="the two sides' names")
    p.add_argument("--until", type=float,
                   help="leave out what came after this time (s since 1970)")
    p.add_argument("pcap")
    p.add_argument("left", type=ipaddress.ip_address)
    p.add_argument("right", type=ipaddress.ip_address)
    a = p.parse_args()
    segs = read_pcap(a.pcap, a.proto)
    events = read_trace(a.trace) if a.trace else []
    if a.until:
        segs = [s for s in segs if s.t <= a.until]
        events = [e for e in events if e[0] <= a.until]
    Ladder(segs, events, a.left, a.right, a.names.split(",", 1),
           a.proto).render(sys.stdout)


if __name__ == "__main__":
    main()
