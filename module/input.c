// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the receive path.  IP hands every protocol-253 datagram addressed
 * to this host to etcp_v4_rcv() in softirq context.  It is checked, parsed
 * once into ETCP_SKB_CB, matched to a socket and processed under that
 * socket's lock, or queued to its backlog when the user holds the lock.
 *
 * The processing follows RFC 9293 section 3.10.7, "SEGMENT ARRIVES", step
 * by step; the steps are quoted where they are taken.
 */
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/checksum.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"

/*
 * RFC 9293 section 3.1: the data offset counts 32-bit words and must cover at
 * least the fixed 20-byte header; a header longer than the datagram is
 * malformed.  On success the whole header, options included, is linear.
 */
static bool etcp_pull_header(struct sk_buff *skb)
{
	const struct tcphdr *th;
	unsigned int hdrlen;

	if (!pskb_may_pull(skb, sizeof(struct tcphdr)))
		return false;
	th = tcp_hdr(skb);
	hdrlen = th->doff * 4;
	if (hdrlen < sizeof(struct tcphdr) || hdrlen > skb->len)
		return false;
	return pskb_may_pull(skb, hdrlen);
}

/*
 * The checksum covers the pseudo-header with our protocol number, the
 * header and the data (RFC 9293 section 3.1, "Checksum").
 */
static bool etcp_checksum_ok(struct sk_buff *skb)
{
	if (skb_checksum_init(skb, etcp_proto_num, inet_compute_pseudo))
		return false;
	return skb_csum_unnecessary(skb) || !__skb_checksum_complete(skb);
}

/*
 * RFC 9293 section 3.2: options are a kind byte, then for all but EOL and
 * NOP a length byte covering kind and length.  Unknown kinds are skipped by
 * their length; a length that cannot be right makes the segment malformed.
 * Only a SYN's MSS option means anything (RFC 9293 3.7.1).
 */
static bool etcp_parse_options(const struct tcphdr *th, struct etcp_skb_cb *cb)
{
	const u8 *p = (const u8 *)(th + 1);
	int left = th->doff * 4 - sizeof(*th);

	cb->mss = 0;
	while (left > 0) {
		u8 kind = p[0], len;

		if (kind == ETCP_OPT_EOL)
			break;
		if (kind == ETCP_OPT_NOP) {
			p++;
			left--;
			continue;
		}
		if (left < 2)
			return false;
		len = p[1];
		if (len < 2 || len > left)
			return false;
		if (kind == ETCP_OPT_MSS) {
			if (len != ETCP_OPTLEN_MSS)
				return false;
			if (th->syn)
				cb->mss = get_unaligned_be16(p + 2);
		}
		p += len;
		left -= len;
	}
	return true;
}

/* SEG.SEQ, SEG.LEN and friends, in host order, once per segment. */
static void etcp_fill_cb(struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 datalen = skb->len - th->doff * 4;

	cb->seq = ntohl(th->seq);
	cb->end_seq = cb->seq + datalen + th->syn + th->fin;
	cb->ack_seq = ntohl(th->ack_seq);
	cb->wnd = ntohs(th->window);
	cb->flags = etcp_tcp_flags(th) & (ETCP_FLAG_FIN | ETCP_FLAG_SYN |
					  ETCP_FLAG_RST | ETCP_FLAG_PSH |
					  ETCP_FLAG_ACK | ETCP_FLAG_URG);
}

static bool etcp_in_window(u32 seq, u32 start, u32 wnd)
{
	return !etcp_before(seq, start) && etcp_before(seq, start + wnd);
}

/*
 * RFC 9293 3.10.7.4, "first check sequence number": the four cases of
 * SEG.LEN and RCV.WND being zero or not.  What lies before RCV.NXT is old
 * and trimmed ("only the new parts are processed"), so a segment that ends
 * exactly at RCV.NXT leaves an acceptable empty segment there: that is how
 * a retransmitted SYN-ACK still gets its ACK processed.
 */
bool etcp_seq_acceptable(u32 rcv_nxt, u32 rcv_wnd, const struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 len = cb->end_seq - cb->seq;

	if (!len) {
		if (!rcv_wnd)
			return cb->seq == rcv_nxt;
		return etcp_in_window(cb->seq, rcv_nxt, rcv_wnd);
	}
	if (cb->end_seq == rcv_nxt)
		return true;
	if (!rcv_wnd)
		return false;
	return etcp_in_window(cb->seq, rcv_nxt, rcv_wnd) ||
	       etcp_in_window(cb->end_seq - 1, rcv_nxt, rcv_wnd);
}

/* RFC 9293 3.10.7.2: a segment for a listener. */
static void etcp_rcv_listen(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_request *req;

	/* A connection already in SYN_RECV on this listener. */
	req = etcp_req_find(sk, skb);
	if (req) {
		etcp_req_rcv(sk, req, skb);
		return;
	}
	/* "first, check for a RST": an incoming RST is ignored. */
	if (cb->flags & ETCP_FLAG_RST)
		return;
	/* "second, check for an ACK": <SEQ=SEG.ACK><CTL=RST>. */
	if (cb->flags & ETCP_FLAG_ACK) {
		etcp_send_reset_reply(sock_net(sk), skb);
		return;
	}
	/* "third, check for a SYN". */
	if (cb->flags & ETCP_FLAG_SYN)
		etcp_conn_request(sk, skb);
	/* "fourth, other data or control": dropped. */
}

/* The peer's MSS, no larger than what our own route takes. */
static u16 etcp_snd_mss(const struct etcp_sock *esk, u16 peer_mss)
{
	return min_t(u16, peer_mss ? peer_mss : ETCP_DEFAULT_MSS, esk->advmss);
}

static void etcp_update_wnd(struct etcp_sock *esk, const struct etcp_skb_cb *cb)
{
	esk->snd_wnd = cb->wnd;
	esk->snd_wl1 = cb->seq;
	esk->snd_wl2 = cb->ack_seq;
}

/* Our SYN is acknowledged: the connection is open. */
static void etcp_established(struct sock *sk, const struct etcp_skb_cb *cb)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->snd_una = cb->ack_seq;
	etcp_update_wnd(esk, cb);
	etcp_clear_timers(sk);
	esk->retransmits = 0;
	etcp_set_state(sk, TCP_ESTABLISHED);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
}

/* RFC 9293 3.10.7.3: a segment for a socket in SYN_SENT. */
static void etcp_rcv_synsent(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);

	/*
	 * "first, check the ACK bit": "If SEG.ACK =< ISS or SEG.ACK > SND.NXT,
	 * send a reset (unless the RST bit is set, if so drop the segment)".
	 */
	if ((cb->flags & ETCP_FLAG_ACK) &&
	    (!etcp_after(cb->ack_seq, esk->iss) || etcp_after(cb->ack_seq, esk->snd_nxt))) {
		if (!(cb->flags & ETCP_FLAG_RST))
			etcp_send_reset_reply(sock_net(sk), skb);
		return;
	}

	/*
	 * "second, check the RST bit": with an acceptable ACK the connection
	 * was refused; without one, drop it (RFC 5961 3.2 keeps this rule).
	 */
	if (cb->flags & ETCP_FLAG_RST) {
		if (cb->flags & ETCP_FLAG_ACK) {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
			etcp_reset(sk, ECONNREFUSED);
		}
		return;
	}

	/* "fifth, if neither of the SYN or RST bits is set, drop". */
	if (!(cb->flags & ETCP_FLAG_SYN))
		return;

	/* "fourth, check the SYN bit". */
	esk->irs = cb->seq;
	esk->rcv_nxt = cb->seq + 1;
	esk->snd_mss = etcp_snd_mss(esk, cb->mss);

	if (cb->flags & ETCP_FLAG_ACK) {
		/* "If SND.UNA > ISS (our SYN has been ACKed)": ESTABLISHED. */
		etcp_established(sk, cb);
		etcp_send_ack(sk);
		return;
	}

	/*
	 * Simultaneous open (figure 8): "enter SYN-RECEIVED, form a SYN,ACK
	 * segment <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and send it".  The
	 * retransmission timer keeps running for it.
	 */
	etcp_update_wnd(esk, cb);
	etcp_set_state(sk, TCP_SYN_RECV);
	etcp_send_syn(sk);
}

/*
 * RFC 9293 3.10.7.4, "second, check the RST bit", SYN-RECEIVED from an
 * active open: "the connection was refused"; a synchronized connection:
 * "connection reset".  The caller checked SEG.SEQ = RCV.NXT (RFC 5961 3.2).
 */
static void etcp_rcv_reset(struct sock *sk)
{
	if (sk->sk_state == TCP_SYN_RECV) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
		etcp_reset(sk, ECONNREFUSED);
	} else {
		etcp_reset(sk, ECONNRESET);
	}
}

/*
 * RFC 5961 3.2, 4.2: an RST inside the window but not at RCV.NXT, or any
 * SYN, on a synchronized connection is answered with an ACK the true peer
 * can act on; an attacker who guessed the window learns nothing.
 */
static void etcp_send_challenge_ack(struct sock *sk)
{
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_CHALLENGEACKS);
	etcp_send_ack(sk);
}

/*
 * In SYN_RECV after a simultaneous open, the peer's SYN-ACK (figure 8,
 * line 6) repeats the SYN we have and acknowledges ours: it completes the
 * handshake rather than being a new SYN.
 */
static bool etcp_is_simultaneous_synack(const struct sock *sk,
					const struct etcp_skb_cb *cb)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	return sk->sk_state == TCP_SYN_RECV && esk->active_open &&
	       (cb->flags & ETCP_FLAG_ACK) && cb->end_seq == cb->seq + 1 &&
	       cb->end_seq == esk->rcv_nxt && cb->ack_seq == esk->snd_nxt;
}

/* "fifth, check the ACK field" in ESTABLISHED. */
static void etcp_rcv_ack(struct sock *sk, const struct etcp_skb_cb *cb)
{
	struct etcp_sock *esk = etcp_sk(sk);

	/* "If the ACK acks something not yet sent ... send an ACK, drop". */
	if (etcp_after(cb->ack_seq, esk->snd_nxt)) {
		etcp_send_ack(sk);
		return;
	}
	if (etcp_after(cb->ack_seq, esk->snd_una))
		esk->snd_una = cb->ack_seq;
	/* "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK)". */
	if (etcp_before(esk->snd_wl1, cb->seq) ||
	    (esk->snd_wl1 == cb->seq && !etcp_before(cb->ack_seq, esk->snd_wl2)))
		etcp_update_wnd(esk, cb);
}

/* RFC 9293 3.10.7.4: SYN_RECV (a full socket) and the synchronized states. */
static void etcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);

	/* "first, check sequence number". */
	if (!etcp_seq_acceptable(esk->rcv_nxt, esk->rcv_wnd, skb)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTOFWINDOW);
		if (!(cb->flags & ETCP_FLAG_RST))
			etcp_send_ack(sk);
		return;
	}

	/* "second, check the RST bit" (RFC 5961 3.2). */
	if (cb->flags & ETCP_FLAG_RST) {
		if (cb->seq == esk->rcv_nxt)
			etcp_rcv_reset(sk);
		else
			etcp_send_challenge_ack(sk);
		return;
	}

	/* "fourth, check the SYN bit" (RFC 5961 4.2). */
	if ((cb->flags & ETCP_FLAG_SYN) && !etcp_is_simultaneous_synack(sk, cb)) {
		etcp_send_challenge_ack(sk);
		return;
	}

	/* "fifth, check the ACK field": "if the ACK bit is off, drop". */
	if (!(cb->flags & ETCP_FLAG_ACK))
		return;

	if (sk->sk_state == TCP_SYN_RECV) {
		/* "If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED". */
		if (!etcp_after(cb->ack_seq, esk->snd_una) ||
		    etcp_after(cb->ack_seq, esk->snd_nxt)) {
			etcp_send_reset_reply(sock_net(sk), skb);
			return;
		}
		etcp_established(sk, cb);
		return;
	}
	etcp_rcv_ack(sk, cb);
	/* Sixth to eighth (URG, text, FIN) belong to the data path. */
}

/*
 * Process one segment for @sk, whose lock the caller holds, with bottom
 * halves off as in softirq.  Consumes the skb.
 */
static void etcp_rcv(struct sock *sk, struct sk_buff *skb)
{
	switch (sk->sk_state) {
	case TCP_LISTEN:
		etcp_rcv_listen(sk, skb);
		break;
	case TCP_SYN_SENT:
		etcp_rcv_synsent(sk, skb);
		break;
	case TCP_CLOSE:
		/* Closed since the lookup: as if there were no socket. */
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_NOSOCKET);
		etcp_send_reset_reply(sock_net(sk), skb);
		break;
	default:
		etcp_rcv_synchronized(sk, skb);
		break;
	}
	kfree_skb(skb);
}

/*
 * proto->backlog_rcv: segments that arrived while the user held the socket,
 * run by release_sock() in process context with bottom halves enabled.
 * They take the same paths as in softirq, which lock other sockets (a new
 * child) with bh_lock_sock(), so bottom halves go off here too.
 */
int etcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	local_bh_disable();
	etcp_rcv(sk, skb);
	local_bh_enable();
	return 0;
}

/* Process now, or leave it to the user's release_sock(). */
static void etcp_rcv_socket(struct sock *sk, struct sk_buff *skb)
{
	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		etcp_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, READ_ONCE(sk->sk_rcvbuf) +
					   READ_ONCE(sk->sk_sndbuf))) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_BACKLOGDROPS);
		kfree_skb(skb);
	}
	bh_unlock_sock(sk);
}

int etcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	const struct iphdr *iph;
	const struct tcphdr *th;
	struct sock *sk;

	ETCP_INC_STATS(net, ETCP_MIB_INSEGS);

	if (skb->pkt_type != PACKET_HOST)
		goto discard;

	if (!etcp_pull_header(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INHDRERRORS);
		goto discard;
	}
	if (!etcp_checksum_ok(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INCSUMERRORS);
		goto discard;
	}
	th = tcp_hdr(skb);
	if (!etcp_parse_options(th, ETCP_SKB_CB(skb))) {
		ETCP_INC_STATS(net, ETCP_MIB_INBADOPTS);
		goto discard;
	}
	etcp_fill_cb(skb);

	iph = ip_hdr(skb);
	sk = etcp_lookup(net, iph->saddr, th->source, iph->daddr, th->dest,
			 inet_iif(skb));
	if (!sk) {
		ETCP_INC_STATS(net, ETCP_MIB_NOSOCKET);
		etcp_send_reset_reply(net, skb);
		goto discard;
	}
	etcp_rcv_socket(sk, skb);
	sock_put(sk);
	return 0;

discard:
	kfree_skb(skb);
	return 0;
}
