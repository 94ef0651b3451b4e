# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The scenes of make demo, sourced by scripts/demo-guest.sh, which gives
# each one fresh namespaces A and B, a capture and a trace, and draws what
# happened.  A scene prints what the textbook says (textbook), sets what
# it needs (in_a, in_b: a command in A or B, shown; nft_chains A|B: a
# table for drop rules), and runs its
# applications (py: Python with scripts/demo_lib.py's A, B, PORT ...).
# It fails if a command fails or the Python script raises.
#
# The list: "name<TAB>title", in the order make demo shows them.  Each
# name's scene is the function scene_NAME (dashes as underscores).
SCENES="\
handshake	the three-way handshake
refused	a connect() to a port nobody listens on: RST, ECONNREFUSED
syn-retries	SYN retransmissions at 1, 2 ... s, then ETIMEDOUT
simultaneous-open	simultaneous open: the SYNs cross
data	data: sequence numbers count bytes
close	the four-way close and TIME_WAIT for 2*MSL
three-segment-close	the three-segment close
half-close	half-close: shutdown(SHUT_WR), the peer still sends
simultaneous-close	simultaneous close through CLOSING
tw-dup-fin	a repeated FIN restarts TIME_WAIT
tw-reuseaddr	TIME_WAIT holds the port: EADDRINUSE, SO_REUSEADDR
tw-assassination	TIME_WAIT assassination, and etcp_rfc1337
fin-timeout	an orphaned FIN_WAIT2 reaped after etcp_fin_timeout
orphan-limit	the orphan limit: etcp_max_orphans
linger-zero	SO_LINGER {1, 0}: close() aborts with an RST
half-open-client	half-open: the client forgot (RFC 793 figure 10)
half-open-server	half-open: the server forgot (RFC 793 figure 11)
blind-rst	a blind RST: the challenge ACK
keepalive	keepalive finds a dead peer
ipv6	the same over IPv6"

scene_names() { cut -f1 <<<"$SCENES"; }
scene_list() { awk -F'\t' '{ printf "  %-20s %s\n", $1, $2 }' <<<"$SCENES"; }
# The title of scene $1; fails for no such scene.
scene_title() { awk -F'\t' -v n="$1" '$1 == n { print $2; f = 1 } END { exit !f }' <<<"$SCENES"; }

scene_handshake() {
	textbook <<-'EOF'
		RFC 9293 3.5: A, in SYN_SENT, sends a SYN carrying its initial
		sequence number (ISN); B, listening, answers SYN,ACK with its own ISN
		and ack = A's ISN + 1 (SYN_RECV); A's ACK of B's ISN + 1 makes both
		ESTABLISHED.  Numbers here are relative to each side's ISN, so the
		SYNs are seq=0.  Each SYN offers the MSS: 1500 - 40 = 1460.
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		i = info(s)
		A.say("ETCP_INFO: %s, ISS %d, IRS %d, MSS %d"
		      % (i["state"], i["iss"], i["irs"], i["snd_mss"]))
	PY
}

scene_refused() {
	textbook <<-'EOF'
		RFC 9293 3.5.2, 3.10.7.1: a segment for no connection draws a reset;
		for a SYN, which has no ACK, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
		In SYN_SENT an RST that acknowledges the SYN ends the attempt
		(3.10.7.3): connect() fails with ECONNREFUSED.
	EOF
	py <<-'PY'
		A.connect(B)
	PY
}

scene_syn_retries() {
	textbook <<-'EOF'
		RFC 9293 3.8.1, RFC 6298: an unanswered SYN is sent again when the
		retransmission timer expires, 1 s at first, doubling each time.  With
		etcp_syn_retries=2 the SYNs leave at 0, 1 and 3 s, and connect()
		fails with ETIMEDOUT at 7 s.  B drops every SYN (nftables).
	EOF
	in_a sysctl -qw net.ipv4.etcp_syn_retries=2
	nft_chains B
	in_b nft add rule inet demo in meta l4proto 253 '@th,104,8 & 0x12 == 0x02' drop
	py <<-'PY'
		A.connect(B)
	PY
}

scene_simultaneous_open() {
	textbook <<-'EOF'
		RFC 9293 3.5 (RFC 793 figure 8): A and B connect() to each other at
		the same time, and the SYNs cross (100 ms of netem delay each way).
		Each end, in SYN_SENT, receives a SYN: it goes to SYN_RECV and sends
		SYN,ACK; each SYN,ACK makes its receiver ESTABLISHED.  Four
		segments, no listener.
	EOF
	in_a tc qdisc add dev ea root netem delay 100ms
	in_b tc qdisc add dev eb root netem delay 100ms
	py <<-'PY'
		a = A.socket(port=PORT)
		b = B.socket(port=PORT + 1)
		a.setblocking(False)
		b.setblocking(False)
		A.connect(B, PORT + 1, sock=a)
		B.connect(A, PORT, sock=b)
		until(lambda: writable(a, 0) and writable(b, 0))
		for h, x in (A, a), (B, b):
		    h.say("connected: SO_ERROR %d, %s"
		          % (x.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR),
		             info(x)["state"]))
	PY
}

scene_data() {
	textbook <<-'EOF'
		RFC 9293 3.4: each byte has a sequence number, from ISN + 1 on; a
		segment's seq is that of its first byte, an ACK the next byte
		expected.  A sends a 100-byte request (seq=1 len=100); B acknowledges
		101 and replies 5840 bytes: four full segments, which etcp hands to
		the veth as one GSO super-segment, as TCP does; A acknowledges 5841.
		The first segments of a connection are ACKed at once (quick ACKs).
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		A.call("send(100 bytes)", s.send, b"q" * 100)
		n = 0
		while n < 100:
		    n += len(c.recv(100 - n))
		B.say("recv() -> 100 bytes")
		B.call("send(5840 bytes)", c.sendall, bytes(5840))
		n = 0
		while n < 5840:
		    n += len(s.recv(65536))
		A.say("recv() -> 5840 bytes")
		until(lambda: info(c)["snd_una"] == info(c)["snd_nxt"], what="B's data ACKed")
	PY
}

scene_close() {
	textbook <<-'EOF'
		RFC 9293 3.6: A closes first: its FIN (FIN_WAIT1) is ACKed by B
		(CLOSE_WAIT), and A waits in FIN_WAIT2.  B's application reads end
		of file and closes 0.2 s later: B's FIN (LAST_ACK) is ACKed by A,
		and B is CLOSED.  A stays in TIME_WAIT for 2*MSL, 1 s with
		etcp_msl=500, then is CLOSED.
	EOF
	in_a sysctl -qw net.ipv4.etcp_msl=500
	py <<-'PY'
		l, s, c, cport = pair()
		a_closes(s, c)
		time.sleep(0.2)		# B's application takes its time
		B.call("close()", c.close)
		A.wait_state(cport, PORT, "TIME_WAIT")
		A.say("the TIME_WAIT row left /proc/net/etcp after %.1f s"
		      % A.wait_state(cport, PORT, None))
	PY
}

scene_three_segment_close() {
	textbook <<-'EOF'
		RFC 9293 3.6, RFC 1122 4.2.3.2: B's ACK of A's FIN may wait (up to
		40 ms, the delayed ACK); when B's application closes at once, B's
		FIN carries that ACK: FIN, FIN+ACK, ACK, three segments.
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		a_closes(s, c)
		B.call("close()", c.close)
		A.wait_state(cport, PORT, "TIME_WAIT")
	PY
}

scene_half_close() {
	textbook <<-'EOF'
		RFC 9293 3.6.1: shutdown(SHUT_WR) sends A's FIN, but A still
		receives.  B reads end of file (0) and may go on sending from
		CLOSE_WAIT; A, in FIN_WAIT2, reads and ACKs it.  B's close() ends
		the connection as usual.
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		A.call("shutdown(SHUT_WR)", s.shutdown, socket.SHUT_WR)
		B.call("recv()", c.recv, 100)
		B.call("send(11 bytes)", c.send, b"still here\n")
		A.call("recv()", s.recv, 100)
		B.call("close()", c.close)
		A.call("recv()", s.recv, 100)
		A.wait_state(cport, PORT, "TIME_WAIT")
	PY
}

scene_simultaneous_close() {
	textbook <<-'EOF'
		RFC 9293 3.6 (RFC 793 figure 14): both close at once, each FIN sent
		before the other's arrives (100 ms of netem delay each way).  Each
		end, in FIN_WAIT1, receives a FIN that does not acknowledge its own:
		it ACKs it and goes to CLOSING; the ACK of its own FIN moves it to
		TIME_WAIT.  Both ends wait 2*MSL (etcp_msl=250: 0.5 s).
	EOF
	in_a sysctl -qw net.ipv4.etcp_msl=250
	in_b sysctl -qw net.ipv4.etcp_msl=250
	in_a tc qdisc add dev ea root netem delay 100ms
	in_b tc qdisc add dev eb root netem delay 100ms
	py <<-'PY'
		l, s, c, cport = pair()
		A.call("close()", s.close)
		B.call("close()", c.close)
		A.wait_state(cport, PORT, "TIME_WAIT")
		B.wait_state(PORT, cport, "TIME_WAIT")
		A.wait_state(cport, PORT, None)
		B.wait_state(PORT, cport, None)
		A.say("both TIME_WAIT rows are gone")
	PY
}

scene_tw_dup_fin() {
	textbook <<-'EOF'
		RFC 9293 3.10.7.4 (TIME-WAIT): the only segment that can arrive in
		TIME_WAIT is the peer's FIN again; it is ACKed and the 2*MSL
		timeout restarts.  B drops A's ACKs of its FIN for a while, so B
		sends its FIN again; A ACKs each and starts its 2 s over.
	EOF
	in_a sysctl -qw net.ipv4.etcp_msl=1000
	nft_chains B
	py <<-'PY'
		l, s, c, cport = pair()
		B.cmd("nft", "add rule inet demo in meta l4proto 253 @th,104,8 == 0x10 drop")
		a_closes(s, c)
		B.call("shutdown(SHUT_WR)", c.shutdown, socket.SHUT_WR)
		A.wait_state(cport, PORT, "TIME_WAIT")
		until(lambda: info(c)["retransmits"] >= 1, what="B's FIN sent again")
		B.cmd("nft", "flush chain inet demo in")
		until(lambda: info(c)["state"] == "CLOSED", what="B closed")
		A.say("TIME_WAIT ended %.1f s after B's last FIN"
		      % A.wait_state(cport, PORT, None))
	PY
}

scene_tw_reuseaddr() {
	textbook <<-'EOF'
		RFC 9293 3.6, socket(7): the side that closes first keeps the
		connection in TIME_WAIT, which holds its port.  A server that closed
		first and restarts gets EADDRINUSE from bind(); with SO_REUSEADDR on
		the old socket and the new, as servers set it, bind() and listen()
		succeed while the TIME_WAIT stays.
	EOF
	in_b sysctl -qw net.ipv4.etcp_msl=1000
	py <<-'PY'
		l = B.listen(reuse=True)
		s = A.connect(B)
		c = B.accept(l)
		cport = s.getsockname()[1]
		B.call("close()", c.close)
		A.call("recv()", s.recv, 100)
		A.call("close()", s.close)
		B.wait_state(PORT, cport, "TIME_WAIT")
		B.call("close() the listener", l.close)
		n = B.socket()
		B.call("bind(%s:%d) without SO_REUSEADDR" % (B.addr, PORT), n.bind, (B.addr, PORT))
		n = B.socket(reuse=True)
		B.call("bind(%s:%d) with SO_REUSEADDR" % (B.addr, PORT), n.bind, (B.addr, PORT))
		B.call("listen()", n.listen, 8)
		B.say("its TIME_WAIT: %s" % B.state(PORT, cport))
	PY
}

scene_tw_assassination() {
	textbook <<-'EOF'
		RFC 1337: an RST that reaches TIME_WAIT, an old duplicate or a
		forgery, ends it early, and with it the protection of the 4-tuple.
		Linux TCP, and etcp by default (etcp_rfc1337=0), accept it at exactly
		RCV.NXT: the 10 s TIME_WAIT (etcp_msl=5000) ends at once.  With
		etcp_rfc1337=1 (#2) RSTs in TIME_WAIT are ignored: it lasts its 2*MSL
		(1 s, etcp_msl=500).
	EOF
	in_a sysctl -qw net.ipv4.etcp_msl=5000
	py <<-'PY'
		l = B.listen()
		for rfc1337 in 0, 1:
		    if rfc1337:
		        A.cmd("sysctl", "-qw", "net.ipv4.etcp_rfc1337=1", "net.ipv4.etcp_msl=500")
		    s = A.connect(B)
		    c = B.accept(l)
		    cport = s.getsockname()[1]
		    a_closes(s, c)
		    B.call("shutdown(SHUT_WR)", c.shutdown, socket.SHUT_WR)
		    A.wait_state(cport, PORT, "TIME_WAIT")
		    B.forge(A, PORT, cport, info(c)["snd_nxt"], 0, 0x04,
		            "an RST at A's RCV.NXT into its TIME_WAIT")
		    A.say("etcp_rfc1337=%d: TIME_WAIT gone %.1f s after the RST"
		          % (rfc1337, A.wait_state(cport, PORT, None)))
	PY
}

scene_fin_timeout() {
	textbook <<-'EOF'
		tcp(7) tcp_fin_timeout: RFC 9293 lets FIN_WAIT2 last as long as the
		peer keeps its end open.  A socket the application closed (an
		orphan) is not kept that long: after etcp_fin_timeout (2 s here) in
		FIN_WAIT2, A resets it.  B, in CLOSE_WAIT, gets the RST: EPIPE.
	EOF
	in_a sysctl -qw net.ipv4.etcp_fin_timeout=2
	py <<-'PY'
		l, s, c, cport = pair()
		a_closes(s, c)
		A.wait_state(cport, PORT, "FIN_WAIT2")
		A.say("Orphans %d" % A.stat("Orphans"))
		A.say("the orphan is gone after %.1f s in FIN_WAIT2"
		      % A.wait_state(cport, PORT, None))
		B.wait_state(PORT, cport, None)
		B.call("send(1 byte)", c.send, b"x")
	PY
}

scene_orphan_limit() {
	textbook <<-'EOF'
		tcp(7) tcp_max_orphans: orphans hold memory nobody can free by
		reading.  With etcp_max_orphans=1, the first connection A closes
		(#1) waits in FIN_WAIT2 as an orphan; closing the second (#2) would
		make two: it is reset instead (after its FIN, as Linux does).
	EOF
	in_a sysctl -qw net.ipv4.etcp_max_orphans=1
	py <<-'PY'
		l = B.listen()
		s1 = A.connect(B)
		c1 = B.accept(l)
		s2 = A.connect(B)
		c2 = B.accept(l)
		p1, p2 = s1.getsockname()[1], s2.getsockname()[1]
		A.call("close() #1", s1.close)
		A.wait_state(p1, PORT, "FIN_WAIT2")
		A.say("Orphans %d" % A.stat("Orphans"))
		A.call("close() #2", s2.close)
		A.wait_state(p2, PORT, None)
		B.wait_state(PORT, p2, None)
		B.call("recv() #2", c2.recv, 100)
		B.call("send() #2", c2.send, b"x")
		A.say("Orphans %d, #1 %s" % (A.stat("Orphans"), A.state(p1, PORT)))
	PY
}

scene_linger_zero() {
	textbook <<-'EOF'
		socket(7) SO_LINGER, RFC 9293 3.10.5 (ABORT): with SO_LINGER {on, 0
		s}, close() aborts: A sends an RST instead of a FIN, discards what
		it had and keeps no TIME_WAIT.  B's next call fails ECONNRESET.
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		linger0(s)
		A.say("setsockopt(SO_LINGER, {1, 0})")
		A.call("close()", s.close)
		A.wait_state(cport, PORT, None)
		B.wait_state(PORT, cport, None)
		B.call("recv()", c.recv, 100)
	PY
}

scene_half_open_client() {
	textbook <<-'EOF'
		RFC 9293 3.5.1 (RFC 793 figure 10): A crashed and lost the
		connection (here: SO_LINGER {1, 0} with A's RST dropped); B still
		thinks it ESTABLISHED.  A opens again from the same port: B answers
		the SYN with an ACK of what it expects (a challenge ACK, RFC 5961 4);
		A, in SYN_SENT, answers that unacceptable ACK with
		<SEQ=SEG.ACK><CTL=RST>; B aborts, and A's SYN, sent again, opens a
		new connection.
	EOF
	nft_chains A
	py <<-'PY'
		l = B.listen()
		s = A.connect(B, sock=A.socket(reuse=True, port=PORT + 1))
		c = B.accept(l)
		A.cmd("nft", "add rule inet demo out meta l4proto 253 drop")
		linger0(s)
		A.call("close() [A crashes: its RST is dropped]", s.close)
		A.wait_state(PORT + 1, PORT, None)
		A.cmd("nft", "flush chain inet demo out")
		B.say("still %s" % B.state(PORT, PORT + 1))
		s = A.connect(B, sock=A.socket(reuse=True, port=PORT + 1))
		B.call("recv() on the old connection", c.recv, 100)
		c = B.accept(l)
	PY
}

scene_half_open_server() {
	textbook <<-'EOF'
		RFC 9293 3.5.1 (RFC 793 figure 11): B crashed and lost the
		connection (SO_LINGER {1, 0}, its RST dropped); A, still
		ESTABLISHED, sends data.  A segment for no connection draws
		<SEQ=SEG.ACK><CTL=RST> (3.5.2), at A's RCV.NXT: A aborts, ECONNRESET.
	EOF
	nft_chains B
	py <<-'PY'
		l, s, c, cport = pair()
		B.cmd("nft", "add rule inet demo out meta l4proto 253 drop")
		linger0(c)
		B.call("close() [B crashes: its RST is dropped]", c.close)
		B.wait_state(PORT, cport, None)
		B.cmd("nft", "flush chain inet demo out")
		A.call("send(5 bytes)", s.send, b"hello")
		until(lambda: info(s)["state"] == "CLOSED", what="A reset")
		A.call("recv()", s.recv, 100)
	PY
}

scene_blind_rst() {
	textbook <<-'EOF'
		RFC 5961 3, RFC 9293 3.10.7.4: an RST is accepted only at exactly
		RCV.NXT.  One elsewhere in the window, what a blind attacker's guess
		hits, draws a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and
		the connection stays: a peer that really reset would answer it with
		an exact RST.  Here B's raw socket plays the attacker.
	EOF
	py <<-'PY'
		l, s, c, cport = pair()
		nxt = info(c)["snd_nxt"]
		B.forge(A, PORT, cport, nxt + 1000, 0, 0x04,
		        "an RST 1000 bytes into A's window (a blind guess)")
		until(lambda: A.stat("ChallengeAcks") >= 1, what="a challenge ACK")
		A.say("still %s" % info(s)["state"])
		B.forge(A, PORT, cport, nxt, 0, 0x04, "an RST at exactly A's RCV.NXT")
		until(lambda: info(s)["state"] == "CLOSED", what="A reset")
		A.call("recv()", s.recv, 100)
	PY
}

scene_keepalive() {
	textbook <<-'EOF'
		RFC 1122 4.2.3.6, tcp(7): after ETCP_KEEPIDLE (1 s) of silence A
		probes: an ACK with seq one below what B has received (SND.NXT - 1),
		which a live peer answers with an ACK.  B answers the first, then
		dies (drops everything): after ETCP_KEEPCNT (2) unanswered probes
		ETCP_KEEPINTVL (1 s) apart, A resets the connection and recv() fails
		with ETIMEDOUT.
	EOF
	nft_chains B
	py <<-'PY'
		l, s, c, cport = pair()
		s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
		s.setsockopt(SOL_ETCP, ETCP_KEEPIDLE, 1)
		s.setsockopt(SOL_ETCP, ETCP_KEEPINTVL, 1)
		s.setsockopt(SOL_ETCP, ETCP_KEEPCNT, 2)
		A.say("SO_KEEPALIVE, ETCP_KEEPIDLE 1, ETCP_KEEPINTVL 1, ETCP_KEEPCNT 2")
		n = A.stat("InSegs")
		until(lambda: A.stat("KeepAliveProbes") >= 1, what="a probe")
		until(lambda: A.stat("InSegs") > n, what="B's answer")
		B.cmd("nft", "add rule inet demo in meta l4proto 253 drop")
		A.call("recv()", s.recv, 100)
	PY
}

scene_ipv6() {
	textbook <<-'EOF'
		RFC 8200 8.1, RFC 9293 3.7.1: the same segments over IPv6, next
		header 253, the checksum over IPv6's pseudo-header; the MSS is the
		MTU less 60 (IPv6's 40-byte header and the 20 of ours): 1440.
	EOF
	echo "$A6 $B6" >"$SD/addrs"
	DEMO_A=$A6 DEMO_B=$B6 py <<-'PY'
		l, s, c, cport = pair()
		A.call("send(5 bytes)", s.send, b"hello")
		B.call("recv()", c.recv, 100)
		A.say("MSS %d" % info(s)["snd_mss"])
		until(lambda: info(s)["snd_una"] == info(s)["snd_nxt"], what="A's data ACKed")
	PY
}
