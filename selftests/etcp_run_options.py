#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# etcp_run.sh's "options" case, run under etcp-run by a program that knows
# nothing of etcp (python3's socket module):
#
#   etcp_run_options.py ETCP_H moved    socket() moves IPv4 and IPv6 TCP
#                                       sockets, flags kept, nothing else;
#                                       TCP options reach SOL_ETCP or fail
#                                       with ENOPROTOOPT; TCP_INFO is
#                                       ETCP_INFO's fields, the rest 0
#   etcp_run_options.py ETCP_H kept     (ETCP_RUN_IPV6=0) IPv6 stays TCP,
#                                       its TCP options untouched
#
# ETCP_H is include/uapi/linux/etcp.h, for the option numbers.  Prints
# "# FAIL ..." for each check that failed; exit 1 if any did.

import errno
import fcntl
import os
import re
import socket
import struct
import sys

failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
        print("# FAIL " + what, flush=True)


def uapi(path):
    consts = {}
    with open(path) as f:
        for m in re.finditer(r"^#define\s+(ETCP_\w+|SOL_ETCP|IPPROTO_ETCP)\s+(\w+)",
                             f.read(), re.M):
            consts[m.group(1)] = m.group(2)
    for k, v in list(consts.items()):
        consts[k] = int(consts.get(v, v))
    return consts


E = uapi(sys.argv[1])
PROTO = int(os.environ.get("ETCP_RUN_PROTO", E["IPPROTO_ETCP"]))
SOL_ETCP = PROTO
TCP = socket.IPPROTO_TCP

# struct tcp_info as of Linux 6.1's uapi (what the shim fills), 232 bytes.
TCP_INFO_FIELDS = (
    "state ca_state retransmits probes backoff options wscale flags "
    "rto ato snd_mss rcv_mss unacked sacked lost retrans fackets "
    "last_data_sent last_ack_sent last_data_recv last_ack_recv "
    "pmtu rcv_ssthresh rtt rttvar snd_ssthresh snd_cwnd advmss reordering "
    "rcv_rtt rcv_space total_retrans pacing_rate max_pacing_rate "
    "bytes_acked bytes_received segs_out segs_in notsent_bytes min_rtt "
    "data_segs_in data_segs_out delivery_rate busy_time rwnd_limited "
    "sndbuf_limited delivered delivered_ce bytes_sent bytes_retrans "
    "dsack_dups reord_seen rcv_ooopack snd_wnd").split()
TCP_INFO_FMT = "=8B24I4Q2I4IQ3Q2I2Q2III"
# struct etcp_info, 104 bytes.
ETCP_INFO_FIELDS = (
    "state retransmits backoff orphan rto srtt rttvar snd_mss rcv_mss "
    "iss irs snd_una snd_nxt rcv_nxt snd_wnd rcv_wnd snd_cwnd snd_ssthresh "
    "total_retrans segs_out segs_in bytes_acked bytes_received pmtu "
    "snd_wscale rcv_wscale pad rcv_rtt rcv_space").split()
ETCP_INFO_FMT = "=4B17I2QI2BH2I"

# tcp_info field <- etcp_info field; every other tcp_info field is 0.
TCP_INFO_MAP = {
    "state": "state", "retransmits": "retransmits", "backoff": "backoff",
    "rto": "rto", "snd_mss": "snd_mss", "advmss": "rcv_mss",
    "pmtu": "pmtu", "rtt": "srtt", "rttvar": "rttvar",
    "snd_ssthresh": "snd_ssthresh", "snd_cwnd": "snd_cwnd",
    "rcv_rtt": "rcv_rtt", "rcv_space": "rcv_space",
    "total_retrans": "total_retrans", "bytes_acked": "bytes_acked",
    "bytes_received": "bytes_received", "segs_out": "segs_out",
    "segs_in": "segs_in", "snd_wnd": "snd_wnd",
}
TCPI_OPT_WSCALE = 4

MAPPED = ("NODELAY", "MAXSEG", "CORK", "KEEPIDLE", "KEEPINTVL", "KEEPCNT",
          "SYNCNT", "LINGER2", "QUICKACK")
REFUSED = ("TCP_DEFER_ACCEPT", "TCP_WINDOW_CLAMP", "TCP_USER_TIMEOUT",
           "TCP_FASTOPEN", "TCP_CONGESTION", "TCP_NOTSENT_LOWAT")


def proto(s):
    return s.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL)


def errno_of(call):
    try:
        call()
    except OSError as e:
        return e.errno
    return 0


def check_socket_calls():
    flags = socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
    for fam in (socket.AF_INET, socket.AF_INET6):
        for typ in (socket.SOCK_STREAM, socket.SOCK_STREAM | flags):
            for pr in (0, TCP):
                with socket.socket(fam, typ, pr) as s:
                    what = "socket(%s, %#x, %d)" % (fam.name, typ, pr)
                    check(proto(s) == PROTO,
                          "%s: protocol %d, not %d" % (what, proto(s), PROTO))
                    fl = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
                    check(bool(fl & os.O_NONBLOCK) == bool(typ & socket.SOCK_NONBLOCK),
                          "%s: O_NONBLOCK is %d" % (what, bool(fl & os.O_NONBLOCK)))
                    fd = fcntl.fcntl(s.fileno(), fcntl.F_GETFD)
                    check(fd & fcntl.FD_CLOEXEC, "%s: FD_CLOEXEC lost" % what)
    for fam, typ, want in ((socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
                           (socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP),
                           (socket.AF_UNIX, socket.SOCK_STREAM, 0)):
        with socket.socket(fam, typ) as s:
            check(proto(s) == want, "socket(%s, %s): protocol %d, not %d"
                  % (fam.name, typ.name, proto(s), want))


def check_options(fam):
    with socket.socket(fam) as s:
        for name, val in (("NODELAY", 1), ("NODELAY", 0), ("CORK", 1),
                          ("CORK", 0), ("KEEPIDLE", 77), ("KEEPINTVL", 11),
                          ("KEEPCNT", 5), ("SYNCNT", 3), ("LINGER2", 17),
                          ("MAXSEG", 1000), ("QUICKACK", 0), ("QUICKACK", 1)):
            opt = getattr(socket, "TCP_" + name)
            what = "%s TCP_%s = %d" % (fam.name, name, val)
            err = errno_of(lambda: s.setsockopt(TCP, opt, val))
            check(err == 0, "%s: setsockopt: %s" % (what, errno.errorcode.get(err)))
            got = s.getsockopt(TCP, opt)
            direct = s.getsockopt(SOL_ETCP, E["ETCP_" + name])
            check(got == val and direct == val,
                  "%s: reads back %d, ETCP_%s %d" % (what, got, name, direct))
        # Out of range for etcp is etcp's EINVAL, as TCP's would be.
        err = errno_of(lambda: s.setsockopt(TCP, socket.TCP_KEEPCNT, 0))
        check(err == errno.EINVAL, "%s TCP_KEEPCNT = 0: %s, not EINVAL"
              % (fam.name, errno.errorcode.get(err)))
        for name in REFUSED:
            opt = getattr(socket, name)
            val = b"reno" if name == "TCP_CONGESTION" else 1
            err = errno_of(lambda: s.setsockopt(TCP, opt, val))
            check(err == errno.ENOPROTOOPT, "%s setsockopt %s: %s, not ENOPROTOOPT"
                  % (fam.name, name, errno.errorcode.get(err)))
            err = errno_of(lambda: s.getsockopt(TCP, opt, 16))
            check(err == errno.ENOPROTOOPT, "%s getsockopt %s: %s, not ENOPROTOOPT"
                  % (fam.name, name, errno.errorcode.get(err)))
        err = errno_of(lambda: s.setsockopt(TCP, socket.TCP_INFO, 1))
        check(err == errno.ENOPROTOOPT, "%s setsockopt TCP_INFO: %s, not ENOPROTOOPT"
              % (fam.name, errno.errorcode.get(err)))


def infos(s):
    """ETCP_INFO, TCP_INFO, ETCP_INFO again: a connection at rest."""
    e1 = s.getsockopt(SOL_ETCP, E["ETCP_INFO"], 512)
    t = s.getsockopt(TCP, socket.TCP_INFO, 512)
    e2 = s.getsockopt(SOL_ETCP, E["ETCP_INFO"], 512)
    return e1, t, e2


def check_tcp_info(fam, addr):
    with socket.socket(fam) as lst:
        lst.bind((addr, 0))
        lst.listen()
        with socket.create_connection(lst.getsockname()[:2], timeout=10) as c:
            a, _ = lst.accept()
            with a:
                data = os.urandom(200000)
                a.sendall(data)
                got = b""
                while len(got) < len(data):
                    got += c.recv(65536)
                c.sendall(b"x" * 1000)
                a.recv(1000)
                for _ in range(50):
                    e1, t, e2 = infos(c)
                    if e1 == e2:
                        break
                check(e1 == e2, "%s: ETCP_INFO never the same twice" % fam.name)
                check(len(t) == struct.calcsize(TCP_INFO_FMT),
                      "%s TCP_INFO: %d bytes, not %d" % (fam.name, len(t),
                                                         struct.calcsize(TCP_INFO_FMT)))
                ti = dict(zip(TCP_INFO_FIELDS, struct.unpack(TCP_INFO_FMT, t)))
                ei = dict(zip(ETCP_INFO_FIELDS,
                              struct.unpack(ETCP_INFO_FMT, e1[:struct.calcsize(ETCP_INFO_FMT)])))
                for tf in TCP_INFO_FIELDS:
                    if tf in TCP_INFO_MAP:
                        want = ei[TCP_INFO_MAP[tf]]
                    elif tf == "wscale":
                        want = ei["snd_wscale"] | ei["rcv_wscale"] << 4
                    elif tf == "options":
                        want = TCPI_OPT_WSCALE if ei["snd_wscale"] or ei["rcv_wscale"] else 0
                    else:
                        want = 0
                    check(ti[tf] == want, "%s tcpi_%s = %d, expected %d"
                          % (fam.name, tf, ti[tf], want))
                check(ti["state"] == 1 and ti["snd_mss"] > 0 and ti["rtt"] > 0 and
                      ti["bytes_received"] == len(data) and ti["bytes_acked"] >= 1000,
                      "%s TCP_INFO implausible: %s" % (fam.name, ti))
                print("# %s TCP_INFO: state %d snd_mss %d advmss %d rtt %d us "
                      "cwnd %d wscale %d/%d bytes_received %d" %
                      (fam.name, ti["state"], ti["snd_mss"], ti["advmss"],
                       ti["rtt"], ti["snd_cwnd"], ti["wscale"] & 15,
                       ti["wscale"] >> 4, ti["bytes_received"]))
                # Shorter buffers get the start of it, as from the kernel.
                t8 = c.getsockopt(TCP, socket.TCP_INFO, 8)
                check(len(t8) == 8 and t8[0] == 1,
                      "%s TCP_INFO with 8 bytes of room: %r" % (fam.name, t8))


def check_kept():
    """ETCP_RUN_IPV6=0: IPv6 is TCP's, and its TCP options too."""
    with socket.socket(socket.AF_INET6) as s:
        check(proto(s) == TCP, "AF_INET6 socket on protocol %d, not TCP" % proto(s))
        s.setsockopt(TCP, socket.TCP_NODELAY, 1)
        check(s.getsockopt(TCP, socket.TCP_NODELAY) == 1, "TCP's TCP_NODELAY")
        cc = s.getsockopt(TCP, socket.TCP_CONGESTION, 16)
        check(len(cc) > 0, "TCP's TCP_CONGESTION reads nothing")
    with socket.socket(socket.AF_INET) as s:
        check(proto(s) == PROTO, "AF_INET socket on protocol %d, not %d"
              % (proto(s), PROTO))


if sys.argv[2] == "moved":
    check_socket_calls()
    check_options(socket.AF_INET)
    check_options(socket.AF_INET6)
    check_tcp_info(socket.AF_INET, "127.0.0.1")
    check_tcp_info(socket.AF_INET6, "::1")
else:
    check_kept()
sys.exit(1 if failed else 0)
