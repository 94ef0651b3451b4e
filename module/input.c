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
#include <linux/sizes.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>
#include <net/sock.h>
#include <net/xfrm.h>

#include "etcp.h"
#include "compat.h"
#include "trace.h"

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
	if (etcp_skb_v6(skb) ?
	    skb_checksum_init(skb, etcp_proto_num, ip6_compute_pseudo) :
	    skb_checksum_init(skb, etcp_proto_num, inet_compute_pseudo))
		return false;
	return skb_csum_unnecessary(skb) || !__skb_checksum_complete(skb);
}

/*
 * RFC 7323 2.3: a shift above 14 is taken as 14, and logged as Linux
 * does.  Only a SYN's window scale option means anything.
 */
static void etcp_parse_wscale(const u8 *p, struct etcp_skb_cb *cb)
{
	u8 shift = p[2];

	if (shift > ETCP_MAX_WSCALE) {
		net_info_ratelimited("window scale %u > %u received, using %u\n",
				     shift, ETCP_MAX_WSCALE, ETCP_MAX_WSCALE);
		shift = ETCP_MAX_WSCALE;
	}
	cb->wscale_ok = 1;
	cb->wscale = shift;
}

/*
 * RFC 9293 section 3.2: options are a kind byte, then for all but EOL and
 * NOP a length byte covering kind and length.  Unknown kinds are skipped by
 * their length; a length that cannot be right makes the segment malformed.
 * Only a SYN's MSS (RFC 9293 3.7.1), window scale (RFC 7323 2.2) and
 * SACK-permitted (RFC 2018 2) options mean anything; elsewhere they are
 * skipped as Linux skips them.  SACK blocks (RFC 2018 3) are found here
 * and read by sack.c.
 */
static bool etcp_parse_options(const struct tcphdr *th, struct etcp_skb_cb *cb)
{
	const u8 *p = (const u8 *)(th + 1);
	int left = th->doff * 4 - sizeof(*th);

	cb->mss = 0;
	cb->wscale_ok = 0;
	cb->wscale = 0;
	cb->sack_ok = 0;
	cb->sack_off = 0;
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
		if (kind == ETCP_OPT_WSCALE) {
			if (len != ETCP_OPTLEN_WSCALE)
				return false;
			if (th->syn)
				etcp_parse_wscale(p, cb);
		}
		if (kind == ETCP_OPT_SACK_PERM) {
			if (len != ETCP_OPTLEN_SACK_PERM)
				return false;
			cb->sack_ok = th->syn;
		}
		/* Blocks of a length RFC 2018 3 allows; others are ignored. */
		if (kind == ETCP_OPT_SACK && !th->syn &&
		    len >= ETCP_OPTLEN_SACK_BASE + ETCP_OPTLEN_SACK_BLOCK &&
		    !((len - ETCP_OPTLEN_SACK_BASE) % ETCP_OPTLEN_SACK_BLOCK))
			cb->sack_off = p - (const u8 *)th;
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
	cb->owned = 0;
	cb->tw_recycle = 0;
}

static bool etcp_in_window(u32 seq, u32 start, u32 wnd)
{
	return !etcp_before(seq, start) && etcp_before(seq, start + wnd);
}

/*
 * Does an RST numbered @seq end a connection in @state whose RCV.NXT is
 * @rcv_nxt?  The one rule for every state past SYN_SENT (which has its
 * own, by the ACK field): RFC 5961 3.2 narrows RFC 9293's "in the window"
 * to exactly RCV.NXT; elsewhere in the window an RST draws a challenge
 * ACK, outside it is dropped.  Linux (tcp_reset_check()) also takes
 * RCV.NXT - 1 once the peer's FIN is in (CLOSE_WAIT, LAST_ACK, CLOSING):
 * the FIN took that number, and a stack that resets after its FIN may
 * number the RST as the FIN.  Requests and TIME_WAIT take RCV.NXT only,
 * as Linux's do.
 */
bool etcp_rst_acceptable(int state, u32 seq, u32 rcv_nxt)
{
	if (seq == rcv_nxt)
		return true;
	return seq == rcv_nxt - 1 &&
	       ((1 << state) & (TCPF_CLOSE_WAIT | TCPF_LAST_ACK | TCPF_CLOSING));
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
	/*
	 * A closed window takes no data, but a bare FIN at RCV.NXT costs no
	 * memory; refusing it would only make the peer send it again (Linux
	 * accepts it too).
	 */
	if (!rcv_wnd)
		return cb->seq == rcv_nxt && len == 1 &&
		       (cb->flags & (ETCP_FLAG_FIN | ETCP_FLAG_SYN)) ==
		       ETCP_FLAG_FIN;
	return etcp_in_window(cb->seq, rcv_nxt, rcv_wnd) ||
	       etcp_in_window(cb->end_seq - 1, rcv_nxt, rcv_wnd);
}

/*
 * A segment that found the listener while, on another CPU, the request it
 * belongs to became a child: the handshake's ACK and the first data
 * leave the peer back to back and may be taken apart.  The child is in
 * the connection table before the other CPU let go of the listener, so
 * looking again under the listener's lock finds it.
 */
static bool etcp_rcv_to_new_child(struct sock *listener, struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct in6_addr saddr, daddr;
	struct sock *child;

	etcp_skb_addrs(skb, &saddr, &daddr);
	child = etcp_lookup_established(sock_net(listener), &saddr, th->source,
					&daddr, th->dest, etcp_skb_iif(skb));
	if (!child)
		return false;
	etcp_child_rcv(child, skb);
	sock_put(child);
	return true;
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
		goto ignored;
	/* "second, check for an ACK": <SEQ=SEG.ACK><CTL=RST>. */
	if (cb->flags & ETCP_FLAG_ACK) {
		if (!etcp_rcv_to_new_child(sk, skb))
			etcp_send_reset_reply(sock_net(sk), sk, skb);
		return;
	}
	/* "third, check for a SYN". */
	if (cb->flags & ETCP_FLAG_SYN) {
		etcp_conn_request(sk, skb);
		return;
	}
	/* "fourth, other data or control": dropped. */
ignored:
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
}

static void etcp_update_wnd(struct etcp_sock *esk, const struct etcp_skb_cb *cb)
{
	esk->snd_wnd = etcp_seg_wnd(esk, cb);
	esk->snd_wl1 = cb->seq;
	esk->snd_wl2 = cb->ack_seq;
}

/* Our SYN is acknowledged: the connection is open. */
static void etcp_established(struct sock *sk, const struct etcp_skb_cb *cb)
{
	struct etcp_sock *esk = etcp_sk(sk);

	/* Our SYN counts as acknowledged sequence space, as in tcp_info. */
	esk->bytes_acked += cb->ack_seq - esk->snd_una;
	esk->snd_una = cb->ack_seq;
	etcp_update_wnd(esk, cb);
	etcp_clear_timers(sk);
	etcp_rtt_handshake(sk, esk->active_open && !esk->retransmits,
			   esk->syn_us);
	esk->retransmits = 0;
	etcp_init_transfer(sk);
	etcp_set_state(sk, TCP_ESTABLISHED);
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
	/* shutdown(SHUT_WR) in SYN_RECV (simultaneous open): the FIN now. */
	if (sk->sk_shutdown & SEND_SHUTDOWN) {
		etcp_set_state(sk, TCP_FIN_WAIT1);
		if (!etcp_send_fin(sk, GFP_ATOMIC)) {
			etcp_send_active_reset(sk);
			etcp_reset(sk, ENOMEM);
		}
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
		if (cb->flags & ETCP_FLAG_RST) {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
			return;
		}
		/*
		 * A peer that still holds an old connection of this 4-tuple
		 * answers our SYN with its ACK; our RST ends it, and the SYN
		 * goes again at once rather than a second later, if it has not
		 * been sent again yet (Linux's tcp_rcv_synsent_state_process()).
		 */
		if (!esk->retransmits)
			etcp_arm_rtx(sk, ETCP_TIMEOUT_MIN);
		etcp_send_reset_reply(sock_net(sk), sk, skb);
		return;
	}

	/*
	 * "second, check the RST bit": with an acceptable ACK the connection
	 * was refused; without one, drop it (RFC 5961 3.2 keeps this rule).
	 */
	if (cb->flags & ETCP_FLAG_RST) {
		if (cb->flags & ETCP_FLAG_ACK) {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
			trace_etcp_receive_reset(sk);
			etcp_reset(sk, ECONNREFUSED);
		} else {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
		}
		return;
	}

	/* "fifth, if neither of the SYN or RST bits is set, drop". */
	if (!(cb->flags & ETCP_FLAG_SYN)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
		return;
	}

	/* "fourth, check the SYN bit". */
	esk->irs = cb->seq;
	WRITE_ONCE(esk->rcv_nxt, cb->seq + 1);
	/* Nothing to read, should an RST close it before ESTABLISHED. */
	WRITE_ONCE(esk->copied_seq, esk->rcv_nxt);
	esk->rcv_wup = esk->rcv_nxt;
	esk->mss_clamp = etcp_peer_mss(esk, cb->mss);
	/* RFC 7323 2.2: scaling only if both SYNs carried the option. */
	if (esk->wscale_ok && cb->wscale_ok) {
		esk->snd_wscale = cb->wscale;
	} else {
		esk->wscale_ok = 0;
		esk->rcv_wscale = 0;
	}
	/* RFC 2018 2: SACK only if both SYNs carried SACK-permitted. */
	esk->sack_ok &= cb->sack_ok;

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
 * RFC 9293 3.10.7.4, "second, check the RST bit": "connection reset".
 * SYN-RECEIVED from an active open would say "the connection was refused";
 * Linux reports ECONNRESET there too (tcp_reset()), and so does etcp.
 * The caller asked etcp_rst_acceptable().  RFC 9293 would flush the data
 * not yet read too; Linux keeps it, and reads return it before the error,
 * which applications rely on (a server that answers and closes with
 * SO_LINGER {1, 0}): so does etcp.
 */
static void etcp_rcv_reset(struct sock *sk)
{
	trace_etcp_receive_reset(sk);
	if (sk->sk_state == TCP_SYN_RECV)
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
	/* In CLOSE_WAIT the peer had finished: only our writes fail (Linux). */
	etcp_reset(sk, sk->sk_state == TCP_CLOSE_WAIT ? EPIPE : ECONNRESET);
}

/*
 * RFC 5961 10: at most etcp_challenge_ack_limit challenge ACKs a second in
 * the namespace.  The budget of each second is drawn at random between
 * half and one and a half times the limit, so that counting the ACKs of a
 * second tells an off-path attacker nothing about another connection's
 * (CVE-2016-5696 read a global, exact limit as a side channel).
 */
static bool etcp_challenge_budget(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	unsigned long now = jiffies / HZ;
	bool ok = false;

	spin_lock(&en->challenge_lock);
	if (now != en->challenge_stamp) {
		u32 limit = READ_ONCE(en->sysctl.challenge_ack_limit);

		en->challenge_stamp = now;
		/* limit 1 gives 1, as Linux's (limit + 1) / 2 rounds up. */
		en->challenge_count = limit ? (limit + 1) / 2 +
					      get_random_u32_below(limit) : 0;
	}
	if (en->challenge_count) {
		en->challenge_count--;
		ok = true;
	}
	spin_unlock(&en->challenge_lock);
	return ok;
}

/*
 * RFC 5961 3.2, 4.2, 5.2: an RST inside the window but not at RCV.NXT, a
 * SYN on a synchronized connection, or an ACK of what was never sent is
 * answered with an ACK the true peer can act on; an attacker who guessed
 * the window learns nothing.
 */
bool etcp_challenge_allowed(struct net *net)
{
	if (!etcp_challenge_budget(net)) {
		ETCP_INC_STATS(net, ETCP_MIB_CHALLENGEACKSKIPPED);
		return false;
	}
	ETCP_INC_STATS(net, ETCP_MIB_CHALLENGEACKS);
	return true;
}

/*
 * A challenge ACK goes within two limits, as Linux's
 * tcp_send_challenge_ack() sends it: first the connection's own, one per
 * etcp_invalid_ratelimit ms shared with its answers to segments outside
 * the window (AckSkippedChallenge), then the namespace's.
 */
static void etcp_send_challenge_ack(struct sock *sk)
{
	if (etcp_oow_rate_limited(sock_net(sk), &etcp_sk(sk)->oow_ack_stamp,
				  ETCP_MIB_ACKSKIPPEDCHALLENGE))
		return;
	if (etcp_challenge_allowed(sock_net(sk)))
		etcp_send_ack(sk);
}

/*
 * Is an unacceptable segment answered with an ACK?  RFC 9293 3.10.7.4
 * answers it "(unless the RST bit is set, if so drop the segment)".  Two
 * ends that disagree about the window would answer each other's answers
 * for ever, and a forger could draw one answer per segment: an answer to
 * a segment with neither text nor FIN goes at most once per
 * etcp_invalid_ratelimit ms per connection (Linux: tcp_invalid_ratelimit;
 * 0 turns the limit off), and one held back is counted in @mib.  Text or
 * a FIN behind RCV.NXT is a retransmission whose ACK was lost: it is
 * always answered.  The stamp is raced for by lockless TIME_WAIT readers;
 * at worst one ACK too many goes.
 */
bool etcp_oow_answer(struct net *net, const struct sk_buff *skb,
		     unsigned long *stamp, int mib)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

	if (cb->flags & ETCP_FLAG_RST)
		return false;
	if (cb->end_seq != cb->seq && !(cb->flags & ETCP_FLAG_SYN))
		return true;
	return !etcp_oow_rate_limited(net, stamp, mib);
}

/*
 * Was an answer sent, per @stamp, less than etcp_invalid_ratelimit ms ago
 * (then it is counted in @mib)?  Otherwise @stamp becomes now: the answer
 * may go.  Linux's __tcp_oow_rate_limited().
 */
bool etcp_oow_rate_limited(struct net *net, unsigned long *stamp, int mib)
{
	int ms = READ_ONCE(etcp_pernet(net)->sysctl.invalid_ratelimit);
	unsigned long last = READ_ONCE(*stamp), now = jiffies;

	if (!ms)
		return false;
	if (last && time_before(now, last + msecs_to_jiffies(ms))) {
		ETCP_INC_STATS(net, mib);
		return true;
	}
	WRITE_ONCE(*stamp, now);
	return false;
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

/*
 * @skb in flight lost its first segments to an ACK (etcp_trim_head()):
 * fewer of its segments are in flight, which the ACK acknowledged, and it
 * gives an RTT sample as a whole one would (Linux: tcp_tso_acked()).
 * Returns the segments acknowledged.
 */
static u32 etcp_partly_acked(struct sock *sk, struct sk_buff *skb, u32 now,
			     s64 *rtt_us)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 prior_segs = cb->segs;

	etcp_set_segs(sk, skb, cb->seg_size);
	if (!cb->retransmitted)
		*rtt_us = now - cb->sent_us;
	return prior_segs - cb->segs;
}

/*
 * Free what SEG.ACK acknowledged from the write queue ("any segments on
 * the retransmission queue that are thereby entirely acknowledged are
 * removed").  Returns how many segments in flight were acknowledged and,
 * in *rtt_us, an RTT sample from the newest of them that was sent only
 * once (Karn), or -1.
 */
static u32 etcp_clean_acked(struct sock *sk, u32 ack, s64 *rtt_us)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 now = etcp_clock_us();
	bool in_flight = true;
	struct sk_buff *skb;
	u32 acked = 0;

	*rtt_us = -1;
	while ((skb = skb_peek(&sk->sk_write_queue))) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		if (skb == esk->send_head)
			in_flight = false;
		if (etcp_after(cb->end_seq, ack)) {
			if (etcp_after(ack, cb->seq) &&
			    !etcp_trim_head(sk, skb, ack - cb->seq) && in_flight)
				acked += etcp_partly_acked(sk, skb, now, rtt_us);
			break;
		}
		if (in_flight) {
			etcp_rack_advance(esk, cb);
			etcp_sack_forget(esk, cb);
			esk->packets_out -= cb->segs;
			acked += cb->segs;
			/* SACKed long ago, it would time the recovery. */
			if (!cb->retransmitted && !cb->sacked)
				*rtt_us = now - cb->sent_us;
		} else {
			/* Sent before a go-back-N, not yet again. */
			esk->send_head = etcp_write_next(sk, skb);
		}
		__skb_unlink(skb, &sk->sk_write_queue);
		etcp_wmem_free_skb(sk, skb);
	}
	if (etcp_before(esk->snd_nxt, ack))
		esk->snd_nxt = ack;
	return acked;
}

/*
 * New data acknowledged: RTT sample, congestion window, retransmission
 * timer (RFC 6298 5.3: restarted so it expires RTO after this ACK), or
 * the tail loss probe before it (RFC 8985 7.2).
 */
static void etcp_ack_new_data(struct sock *sk, u32 ack)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 prior_packets = esk->packets_out;
	u32 acked;
	s64 rtt;

	esk->bytes_acked += ack - esk->snd_una;
	esk->snd_una = ack;
	acked = etcp_clean_acked(sk, ack, &rtt);
	esk->retransmits = 0;
	if (rtt >= 0)
		etcp_rtt_sample(sk, rtt);

	if (esk->ca_state == ETCP_CA_RECOVERY) {
		etcp_cong_partial_ack(sk, acked);
	} else {
		esk->dupacks = 0;
		etcp_cong_ack(sk, acked, prior_packets);
	}
	if (!etcp_schedule_loss_probe(sk, true))
		etcp_rearm_rtx(sk);
	/* Room for a grown window, unless it is not filled (tcp_new_space()). */
	if (etcp_in_flight(esk) < esk->snd_cwnd)
		etcp_sndbuf_expand(sk);
	etcp_write_space(sk);
}

/*
 * An ACK that tells nothing new: no data and no SYN or FIN in the
 * segment, the same SEG.ACK and the same window.  With data outstanding
 * it is RFC 5681 2's "DUPLICATE ACKNOWLEDGMENT".
 */
static bool etcp_ack_repeats(const struct etcp_sock *esk,
			     const struct etcp_skb_cb *cb, u32 prior_wnd)
{
	return cb->ack_seq == esk->snd_una && cb->end_seq == cb->seq &&
	       etcp_seg_wnd(esk, cb) == prior_wnd;
}

/*
 * RFC 5681 3.2 and RFC 6582 3.2: the third duplicate ACK retransmits the
 * first unacknowledged segment and enters fast recovery; further ones
 * inflate the window by the segment each says has left the network.
 */
static void etcp_rcv_dupack(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	/* With SACK, the scoreboard counts and decides (etcp_rcv_sack()). */
	if (esk->sack_ok)
		return;
	if (esk->dupacks < U8_MAX)
		esk->dupacks++;
	if (esk->ca_state == ETCP_CA_RECOVERY)
		esk->snd_cwnd++;
	else if (esk->ca_state == ETCP_CA_OPEN && esk->dupacks == 3)
		etcp_cong_enter_recovery(sk);
}

/*
 * The SACK blocks of @ack mark the scoreboard (sack.c), which then says
 * what is lost; outside a recovery or a timeout's go-back-N, a lost first
 * segment or the DupThresh-th duplicate ACK starts fast recovery (RFC
 * 6675 5).  A duplicate ACK (@dupack, RFC 5681's) counts only if it
 * SACKs what was not (RFC 6675 2): one that only reports data that
 * arrived twice (a D-SACK) tells of no segment that left the network.
 */
static void etcp_rcv_sack(struct sock *sk, const struct sk_buff *ack, bool dupack)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 prior_sacked = esk->sacked_out;

	if (esk->ca_state == ETCP_CA_LOSS)
		return;
	etcp_sack_tag(sk, ack);
	if (dupack && esk->sacked_out > prior_sacked && esk->dupacks < U8_MAX)
		esk->dupacks++;
	etcp_sack_mark_lost(sk);
	if (esk->ca_state == ETCP_CA_OPEN &&
	    (etcp_sack_head_lost(sk) || esk->dupacks >= esk->reordering))
		etcp_cong_enter_recovery(sk);
}

/* How far below SND.UNA an ACK may be old rather than forged. */
static u32 etcp_old_ack_span(const struct etcp_sock *esk)
{
	return min_t(u64, esk->max_window, esk->bytes_acked);
}

/*
 * "fifth, check the ACK field" in the synchronized states.  Returns false
 * when the segment is to be dropped.
 */
static bool etcp_rcv_ack(struct sock *sk, const struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);
	u32 prior_sacked = esk->sacked_out;
	u32 prior_wnd = esk->snd_wnd;
	bool dupack = false, repeat = false;

	/*
	 * RFC 5961 5.2 drops an ACK older than SND.UNA - MAX.SND.WND, which
	 * no peer sends but a blind attacker may, and answers it with a
	 * challenge ACK.  As Linux, the bound is no lower than what was ever
	 * acknowledged: an ACK of bytes never sent is too old however big
	 * the window.
	 */
	if (etcp_before(cb->ack_seq, esk->snd_una - etcp_old_ack_span(esk))) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ACKINVALID);
		etcp_send_challenge_ack(sk);
		return false;
	}
	/*
	 * "If the ACK acks something not yet sent ... send an ACK, drop"
	 * (RFC 9293 3.10.7.4, RFC 5961 5.2), in every state, as Linux 7.2
	 * does; 6.1 and 6.12 drop it silently in ESTABLISHED (README).
	 * After a go-back-N, "sent" reaches SND.MAX.
	 */
	if (etcp_after(cb->ack_seq, esk->snd_max)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ACKINVALID);
		etcp_send_challenge_ack(sk);
		return false;
	}
	/*
	 * Any acceptable ACK answers the zero-window probes, and shows the
	 * path works: a soft error an ICMP left (icmp.c) is forgotten, as
	 * Linux's tcp_ack() forgets it, so a later timeout says ETIMEDOUT.
	 */
	esk->probes_out = 0;
	WRITE_ONCE(sk->sk_err_soft, 0);

	/* "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should be updated". */
	if (!etcp_before(cb->ack_seq, esk->snd_una) &&
	    (etcp_before(esk->snd_wl1, cb->seq) ||
	     (esk->snd_wl1 == cb->seq && !etcp_before(cb->ack_seq, esk->snd_wl2)))) {
		etcp_update_wnd(esk, cb);
		if (esk->snd_wnd > esk->max_window) {
			esk->max_window = esk->snd_wnd;
			etcp_sync_mss(sk);
		}
	}

	if (etcp_after(cb->ack_seq, esk->snd_una)) {
		etcp_ack_new_data(sk, cb->ack_seq);
	} else {
		repeat = etcp_ack_repeats(esk, cb, prior_wnd);
		dupack = repeat && esk->packets_out;
	}
	if (dupack)
		etcp_rcv_dupack(sk);
	if (esk->sack_ok)
		etcp_rcv_sack(sk, skb, dupack);
	/*
	 * Progress, for the loss probe: anything but a repeated ACK that
	 * SACKs nothing new, whether or not data is outstanding (as Linux's
	 * flags say it): the answer to the probe's copy may come after the
	 * original's ACK left nothing in flight.
	 */
	if (esk->tlp_on)
		etcp_cong_tlp_ack(sk, cb->ack_seq,
				  !repeat || esk->sacked_out != prior_sacked);

	/* The window opened: the persist timer's backoff is over. */
	if (esk->timer_mode == ETCP_TMR_PROBE && esk->send_head &&
	    etcp_head_fits_wnd(esk, esk->send_head))
		esk->backoff = 0;
	etcp_write_xmit(sk, ETCP_XMIT_NAGLE);
	return true;
}

/*
 * RFC 5681 4.2's ACK for every second full-sized segment.  Like Linux,
 * "full-sized" is the largest segment seen from this peer, and more than
 * one of those owed is enough; and like Linux (__tcp_ack_snd_check()) it
 * goes at once only if the window it announces lets the right edge move
 * on, or fewer than SO_RCVLOWAT bytes wait for the reader.  Otherwise the
 * reader's next read sends it (etcp_cleanup_rbuf()), or the delayed-ACK
 * timer does.
 */
static bool etcp_ack_two_segments_now(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->rcv_nxt - esk->ack_sent <= esk->rcv_mss)
		return false;
	return esk->rcv_nxt - esk->copied_seq < READ_ONCE(sk->sk_rcvlowat) ||
	       etcp_window_candidate(sk) >= esk->rcv_wnd;
}

/*
 * The segment's data fills RCV.NXT onwards: ACK it now or later.  RFC
 * 5681 4.2 (and RFC 1122 4.2.3.2): within 500 ms (Linux: 40 ms), at once
 * for every second full-sized segment and when the segment filled a gap;
 * and while quick ACKs are due (timer.c), every one goes at once.
 */
static void etcp_data_acked_or_delayed(struct sock *sk, bool filled_gap)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (filled_gap || etcp_ack_two_segments_now(sk) ||
	    etcp_in_quickack(esk))
		etcp_send_ack(sk);
	else
		etcp_schedule_delack(sk);
}

/*
 * RFC 2883: data that arrived before, [@seq, @end), is reported in the
 * first SACK block of the next ACK without data (a D-SACK), so that the
 * sender can tell a retransmission it did not need; the latest such, as
 * Linux keeps one.  Only where both SYNs agreed on SACK, and etcp_dsack
 * is on.
 */
void etcp_dsack_set(struct sock *sk, u32 seq, u32 end)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!esk->sack_ok || !etcp_before(seq, end) ||
	    !READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.dsack))
		return;
	esk->dsack.start = seq;
	esk->dsack.end = end;
	esk->dsack_pending = 1;
}

/*
 * More of the same segment's duplicate, [@seq, @end): the pending D-SACK
 * grows by it where the two touch (one block says it all, RFC 2883 4.1);
 * with none pending it is the D-SACK.
 */
static void etcp_dsack_extend(struct sock *sk, u32 seq, u32 end)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!esk->dsack_pending) {
		etcp_dsack_set(sk, seq, end);
		return;
	}
	if (etcp_after(seq, esk->dsack.end) || etcp_after(esk->dsack.start, end))
		return;
	if (etcp_before(seq, esk->dsack.start))
		esk->dsack.start = seq;
	if (etcp_after(end, esk->dsack.end))
		esk->dsack.end = end;
}

/*
 * Move what the out-of-order queue holds from RCV.NXT on to the reader.
 * What a held segment shares with the data that just came in order (up
 * to @in_order, RCV.NXT before the move) came twice: a duplicate, which
 * the next ACK reports (RFC 2883 4.1.2), as Linux's does.  Returns true
 * when the move reached the peer's FIN.
 */
static bool etcp_ofo_drain(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 in_order = esk->rcv_nxt;
	struct sk_buff *skb;

	while ((skb = skb_peek(&esk->ooo_queue))) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
		bool fin = cb->flags & ETCP_FLAG_FIN;

		if (etcp_after(cb->seq, esk->rcv_nxt))
			break;
		if (etcp_before(cb->seq, in_order))
			etcp_dsack_extend(sk, cb->seq, etcp_seq_min(cb->end_seq, in_order));
		__skb_unlink(skb, &esk->ooo_queue);
		if (!etcp_after(cb->end_seq + fin, esk->rcv_nxt)) {
			kfree_skb(skb);
			continue;
		}
		/*
		 * Overlapping what came in order: only the new part.  The
		 * data may sit in page fragments, as a NIC delivers it; if
		 * it cannot be pulled, the peer sends it again.
		 */
		if (etcp_before(cb->seq, esk->rcv_nxt)) {
			if (!pskb_pull(skb, esk->rcv_nxt - cb->seq)) {
				kfree_skb(skb);
				break;
			}
			cb->seq = esk->rcv_nxt;
		}
		if (skb->len) {
			__skb_queue_tail(&sk->sk_receive_queue, skb);
			esk->bytes_received += cb->end_seq - cb->seq;
			WRITE_ONCE(esk->rcv_nxt, cb->end_seq);
		} else {
			kfree_skb(skb);
		}
		if (fin)
			return true;
	}
	return false;
}

/* Room for @size more bytes of receive memory. */
static bool etcp_rmem_room(const struct sock *sk, unsigned int size)
{
	return atomic_read(&sk->sk_rmem_alloc) + size <=
	       READ_ONCE(sk->sk_rcvbuf);
}

/*
 * Receive memory is short: give back out-of-order data from the far end,
 * which the peer would send last anyway, until @size more bytes fit, but
 * nothing that starts at or before @seq: that lies nearer RCV.NXT than
 * what it would make room for (Linux's tcp_prune_ofo_queue()).  The peer
 * sends what went again.  Returns true when @size fits now.
 */
static bool etcp_prune_ofo(struct sock *sk, unsigned int size, u32 seq)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;

	while (!etcp_rmem_room(sk, size)) {
		skb = skb_peek_tail(&esk->ooo_queue);
		if (!skb || !etcp_after(ETCP_SKB_CB(skb)->seq, seq))
			return false;
		__skb_unlink(skb, &esk->ooo_queue);
		kfree_skb(skb);
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OFOPRUNED);
		/* No block may report what is gone (Linux: tcp_sack_reset()). */
		esk->num_sacks = 0;
	}
	return true;
}

/*
 * Room for @size more bytes of data starting at @seq: within the receive
 * memory, after the out-of-order queue gave back what lies beyond @seq.
 * Data at RCV.NXT is always taken when the reader has nothing left to
 * read, however small the buffer: refusing it would refuse every
 * retransmission of it too, and the connection would stall until it
 * timed out.
 */
static bool etcp_rcv_room(struct sock *sk, unsigned int size, u32 seq)
{
	if (etcp_rmem_room(sk, size) || etcp_prune_ofo(sk, size, seq))
		return true;
	return seq == etcp_sk(sk)->rcv_nxt &&
	       skb_queue_empty(&sk->sk_receive_queue);
}

/*
 * Small segments cost a whole buffer each (a peer's segment arrives with
 * the truesize of the skb it was sent in).  Their bytes go into a buffer
 * of ours instead, where later small segments join them, so that memory
 * stays close to the data and to the window we announced; in the
 * out-of-order queue too, so that a peer sending many small segments
 * beyond a hole cannot fill the memory the hole needs.
 */
#define ETCP_RCV_COPY_MAX	512
#define ETCP_RCV_COPY_SIZE	SKB_WITH_OVERHEAD(2048)

/*
 * Copy @skb's bytes onto @tail, a buffer of ours whose data ends where
 * @skb's begins.  A FIN stays at the end of the segment it came with.
 */
static bool etcp_rcv_append(struct sock *sk, struct sk_buff *tail,
			    struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_skb_cb *tcb;

	if (!tail || skb->len > ETCP_RCV_COPY_MAX)
		return false;
	tcb = ETCP_SKB_CB(tail);
	if (!tcb->owned || tcb->end_seq != cb->seq ||
	    ((tcb->flags | cb->flags) & ETCP_FLAG_FIN) ||
	    skb_tailroom(tail) < skb->len)
		return false;
	if (skb_copy_bits(skb, 0, skb_put(tail, skb->len), skb->len)) {
		__skb_trim(tail, tail->len - skb->len);
		return false;
	}
	tcb->end_seq += skb->len;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_RCVCOLLAPSED);
	return true;
}

/* A buffer of ours holding a copy of small @skb, or NULL. */
static struct sk_buff *etcp_rcv_copy(struct sk_buff *skb)
{
	struct sk_buff *nskb;

	if (skb->len > ETCP_RCV_COPY_MAX)
		return NULL;
	nskb = alloc_skb(ETCP_RCV_COPY_SIZE, GFP_ATOMIC);
	if (!nskb)
		return NULL;
	if (skb_copy_bits(skb, 0, skb_put(nskb, skb->len), skb->len)) {
		kfree_skb(nskb);
		return NULL;
	}
	*ETCP_SKB_CB(nskb) = *ETCP_SKB_CB(skb);
	ETCP_SKB_CB(nskb)->owned = 1;
	return nskb;
}

/*
 * @skb, or the copy of it etcp_rcv_copy() makes if @copy, charged to the
 * socket's receive memory if etcp_rcv_room() finds room for it.  NULL
 * when there is none: @skb is still the caller's then, to drop; the peer
 * sends the data again.
 */
static struct sk_buff *etcp_rcv_charge(struct sock *sk, struct sk_buff *skb,
				       bool copy)
{
	struct sk_buff *nskb = copy ? etcp_rcv_copy(skb) : NULL;

	if (!etcp_rcv_room(sk, (nskb ? nskb : skb)->truesize,
			   ETCP_SKB_CB(skb)->seq)) {
		kfree_skb(nskb);
		return NULL;
	}
	if (nskb) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_RCVCOLLAPSED);
		consume_skb(skb);
		skb = nskb;
	} else {
		ETCP_SKB_CB(skb)->owned = 0;
	}
	skb_set_owner_r(skb, sk);
	return skb;
}

/*
 * Put in-order data on the receive queue, charged to the socket's receive
 * memory.  Returns false when there is no room: the data is dropped and
 * the peer sends it again.  A small segment that finds the queue empty is
 * queued as it came, as TCP queues it: the reader is most likely waiting
 * for it (request/response), and a copy would only cost an allocation;
 * memory stays bounded, since those behind it join a copy of ours.
 */
static bool etcp_queue_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_receive_queue);
	struct sk_buff *charged;

	if (etcp_rcv_append(sk, tail, skb)) {
		consume_skb(skb);
		return true;
	}
	charged = etcp_rcv_charge(sk, skb, !!tail);
	if (!charged)
		return false;
	__skb_queue_tail(&sk->sk_receive_queue, charged);
	return true;
}

/*
 * [@seq, @end) was just queued out of order: the SACK block holding it
 * goes first (RFC 2018 4: "the first SACK block MUST specify the
 * contiguous block of data containing the segment which triggered this
 * ACK"), the others keep the order they were last reported in, and a
 * block it now touches merges with it.  Beyond ETCP_NUM_SACKS blocks the
 * one reported longest ago is forgotten, as Linux does it
 * (tcp_sack_new_ofo_skb()).
 */
static void etcp_sack_add(struct etcp_sock *esk, u32 seq, u32 end)
{
	struct etcp_sack_block *sp = esk->sacks;
	struct etcp_sack_block blk = { .start = seq, .end = end };
	int i = 0, n = esk->num_sacks;

	while (i < n) {
		if (etcp_after(sp[i].start, blk.end) ||
		    etcp_after(blk.start, sp[i].end)) {
			i++;
			continue;
		}
		if (etcp_before(sp[i].start, blk.start))
			blk.start = sp[i].start;
		if (etcp_after(sp[i].end, blk.end))
			blk.end = sp[i].end;
		memmove(&sp[i], &sp[i + 1], (n - i - 1) * sizeof(*sp));
		n--;
	}
	if (n == ETCP_NUM_SACKS)
		n--;
	memmove(&sp[1], &sp[0], n * sizeof(*sp));
	sp[0] = blk;
	esk->num_sacks = n + 1;
}

/*
 * RCV.NXT moved: the blocks it reached report nothing beyond a hole any
 * more (RFC 2018 4, Linux's tcp_sack_remove()).
 */
static void etcp_sack_remove(struct etcp_sock *esk)
{
	struct etcp_sack_block *sp = esk->sacks;
	int i = 0, n = esk->num_sacks;

	if (skb_queue_empty(&esk->ooo_queue)) {
		esk->num_sacks = 0;
		return;
	}
	while (i < n) {
		if (etcp_before(esk->rcv_nxt, sp[i].start)) {
			i++;
			continue;
		}
		memmove(&sp[i], &sp[i + 1], (n - i - 1) * sizeof(*sp));
		n--;
	}
	esk->num_sacks = n;
}

/*
 * A segment beyond RCV.NXT waits in the out-of-order queue, sorted by
 * sequence.  One that brings nothing new is dropped; ones the new segment
 * covers entirely go.  Partial overlaps are trimmed when the data moves
 * to the reader: where two segments overlap, the bytes of the one that
 * begins first are read, as with Linux.  What the queue held already,
 * before the new segment's head, inside it or under its tail, is
 * reported as a duplicate (RFC 2883 4.1.2), as Linux reports it.
 */
static void etcp_ofo_queue(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct sk_buff *prev = NULL, *p, *next, *charged;
	u32 seq = cb->seq, end_seq = cb->end_seq;

	skb_queue_reverse_walk(&esk->ooo_queue, p) {
		if (!etcp_after(ETCP_SKB_CB(p)->seq, cb->seq)) {
			prev = p;
			break;
		}
	}
	if (prev && !etcp_before(ETCP_SKB_CB(prev)->end_seq, cb->end_seq)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DATADUPS);
		kfree_skb(skb);
		/* Still, the ACK's first block holds it (RFC 2018 4)... */
		if (esk->sack_ok)
			etcp_sack_add(esk, seq, end_seq);
		/* ... after the D-SACK that says it came twice (RFC 2883 4). */
		etcp_dsack_set(sk, seq, end_seq);
		return;
	}
	/* Its head is held already (RFC 2883 4.1.2, as Linux reports it). */
	if (prev && etcp_after(ETCP_SKB_CB(prev)->end_seq, seq))
		etcp_dsack_set(sk, seq, ETCP_SKB_CB(prev)->end_seq);
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OFOQUEUE);
	if (etcp_rcv_append(sk, prev, skb)) {
		consume_skb(skb);
		skb = prev;
	} else {
		charged = etcp_rcv_charge(sk, skb, true);
		if (!charged) {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_RCVPRUNED);
			kfree_skb(skb);
			return;
		}
		skb = charged;
		if (prev)
			__skb_queue_after(&esk->ooo_queue, prev, skb);
		else
			__skb_queue_head(&esk->ooo_queue, skb);
	}

	if (esk->sack_ok)
		etcp_sack_add(esk, seq, end_seq);
	end_seq = ETCP_SKB_CB(skb)->end_seq;
	while (!skb_queue_is_last(&esk->ooo_queue, skb)) {
		struct etcp_skb_cb *ncb;

		next = skb->next;
		ncb = ETCP_SKB_CB(next);
		if (!etcp_after(end_seq, ncb->seq))
			break;
		if (etcp_after(ncb->end_seq, end_seq)) {
			etcp_dsack_extend(sk, ncb->seq, end_seq);
			break;
		}
		etcp_dsack_extend(sk, ncb->seq, ncb->end_seq);
		__skb_unlink(next, &esk->ooo_queue);
		kfree_skb(next);
	}
}

/*
 * "eighth, check the FIN bit" (RFC 9293 3.10.7.4), the FIN in order: it
 * takes a sequence number, the reader gets its end of file.  The ACK of
 * a FIN in ESTABLISHED is delayed like any other, so that the FIN of an
 * application that closes at once carries it (Linux's three-segment
 * close); in FIN_WAIT_1 and FIN_WAIT_2 it goes at once.
 */
static void etcp_rcv_fin(struct sock *sk, bool filled_gap)
{
	struct etcp_sock *esk = etcp_sk(sk);

	WRITE_ONCE(esk->rcv_nxt, esk->rcv_nxt + 1);
	WRITE_ONCE(esk->fin_rcvd, 1);
	esk->ack_sched = 1;
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);
	/* Nothing beyond the FIN can be data of this connection. */
	__skb_queue_purge(&esk->ooo_queue);
	esk->num_sacks = 0;

	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		etcp_set_state(sk, TCP_CLOSE_WAIT);
		/*
		 * As Linux (tcp_fin): the application's close() is expected
		 * soon, and its FIN carries the ACK.
		 */
		esk->pingpong = 1;
		etcp_data_acked_or_delayed(sk, filled_gap);
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN is not acknowledged yet: simultaneous close. */
		etcp_send_ack(sk);
		etcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		etcp_send_ack(sk);
		etcp_time_wait(sk);
		return;
	}
	if (!sock_flag(sk, SOCK_DEAD)) {
		sk->sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_WAITD,
			      sk->sk_shutdown == SHUTDOWN_MASK ? POLL_HUP :
								  POLL_IN);
	}
}

/*
 * "seventh, process the segment text" (ESTABLISHED, FIN-WAIT-1,
 * FIN-WAIT-2) and "eighth, check the FIN bit": the data from RCV.NXT on
 * goes to the reader, what lies beyond waits out of order, a segment
 * outside the window was already refused by the sequence check (one that
 * only runs past its edge is kept whole, as Linux keeps it), and the FIN
 * counts once everything before it arrived.  Returns true when the skb
 * was taken.
 */
static bool etcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);
	u32 len = skb->len - tcp_hdr(skb)->doff * 4;
	u32 seq = cb->seq + !!(cb->flags & ETCP_FLAG_SYN);
	u32 end = seq + len;
	bool fin = cb->flags & ETCP_FLAG_FIN;
	bool queued = false, had_ofo;

	if (!len && !fin)
		return false;
	__skb_pull(skb, tcp_hdr(skb)->doff * 4);

	if (!etcp_after(end + fin, esk->rcv_nxt)) {
		/* Nothing new: the peer missed our ACK; repeat it now. */
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DATADUPS);
		etcp_dsack_set(sk, seq, end);
		etcp_enter_quickack(esk);
		esk->ack_sched = 1;
		etcp_send_ack(sk);
		return false;
	}
	/*
	 * What runs past the window's right edge is taken too, memory
	 * allowing (etcp_queue_rcv(), etcp_ofo_queue()): Linux's
	 * tcp_data_queue() keeps a segment whole where RFC 9293 3.10.7.4
	 * would cut it at the edge, and a peer that counts on it (its window
	 * probe carrying data, a segment sent before our window shrank in
	 * its view) gets its data acknowledged at once.
	 */
	if (etcp_before(seq, esk->rcv_nxt)) {
		/* Its head arrived before (RFC 2883 4.1.1's partial duplicate). */
		etcp_dsack_set(sk, seq, esk->rcv_nxt);
		if (!pskb_pull(skb, esk->rcv_nxt - seq))
			return false;
		seq = esk->rcv_nxt;
	}
	cb->seq = seq;
	cb->end_seq = end;
	skb_dst_drop(skb);
	if (len > esk->rcv_mss)
		esk->rcv_mss = min_t(u32, len, esk->advmss);

	if (seq != esk->rcv_nxt) {
		/* A FIN alone out of order: the peer sends it again. */
		if (seq != end)
			etcp_ofo_queue(sk, skb);
		/* RFC 5681 4.2: out of order, a duplicate ACK at once. */
		esk->ack_sched = 1;
		etcp_send_ack(sk);
		return seq != end;
	}

	if (seq != end) {
		if (!etcp_queue_rcv(sk, skb)) {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_RCVPRUNED);
			etcp_send_ack(sk);
			return false;
		}
		queued = true;
		esk->bytes_received += end - seq;
		WRITE_ONCE(esk->rcv_nxt, end);
		etcp_data_rcvd_event(sk);
	}
	had_ofo = !skb_queue_empty(&esk->ooo_queue);
	if (had_ofo && !fin)
		fin = etcp_ofo_drain(sk);
	if (esk->num_sacks)
		etcp_sack_remove(esk);
	if (queued)
		etcp_rcv_rtt_measure(esk);
	if (!sock_flag(sk, SOCK_DEAD) && esk->rcv_nxt != esk->copied_seq)
		sk->sk_data_ready(sk);
	if (fin)
		etcp_rcv_fin(sk, had_ofo);
	else
		etcp_data_acked_or_delayed(sk, had_ofo);
	return queued;
}

/*
 * "fifth, check the ACK field", the closing states: what acknowledging
 * our FIN does.  Returns false when the connection ended here.
 */
static bool etcp_rcv_fin_acked(struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	if (esk->snd_una != esk->write_seq)
		return true;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		etcp_set_state(sk, TCP_FIN_WAIT2);
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		if (!sock_flag(sk, SOCK_DEAD)) {
			sk->sk_state_change(sk);
			return true;
		}
		return etcp_orphan_fin_wait2(sk);
	case TCP_CLOSING:
		etcp_time_wait(sk);
		return false;
	case TCP_LAST_ACK:
		etcp_done(sk);
		return false;
	default:
		return true;
	}
}

/*
 * RFC 1122 4.2.2.13: data arriving after the application closed (or shut
 * down reading) has nobody to go to; the peer learns it by an RST and the
 * connection ends, as in Linux and 4.4BSD.
 */
static bool etcp_rcv_data_after_close(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 fin = !!(cb->flags & ETCP_FLAG_FIN);

	if (!((1 << sk->sk_state) & (TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)) ||
	    !(sk->sk_shutdown & RCV_SHUTDOWN) || cb->end_seq == cb->seq ||
	    !etcp_after(cb->end_seq - fin, etcp_sk(sk)->rcv_nxt))
		return false;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONDATA);
	trace_etcp_orphan_reset(sk, ETCP_ORPHR_DATA);
	etcp_send_reset_reply(sock_net(sk), sk, skb);
	etcp_reset(sk, ECONNRESET);
	return true;
}

/*
 * Does [@seq, @end_seq) touch the window [@start, @end)?  The test Linux
 * applies to TIME_WAIT entries (tcp_in_window()): a segment at the left
 * edge, one that overlaps, or an empty one at the right edge.
 */
static bool etcp_touches_window(u32 seq, u32 end_seq, u32 start, u32 end)
{
	if (seq == start)
		return true;
	if (etcp_after(end_seq, start) && etcp_before(seq, end))
		return true;
	return seq == end && seq == end_seq;
}

/*
 * An orphaned FIN_WAIT_2 waits for the peer's FIN and nothing else.
 * Linux keeps it as a TIME_WAIT entry in substate FIN_WAIT2 (tcp_close()
 * calls tcp_time_wait()) and answers as tcp_timewait_state_process()
 * does, not as a connection would; so does etcp:
 *  - outside the window, an ACK (within etcp_invalid_ratelimit), an RST's
 *    too;
 *  - an RST anywhere in the window ends it, without a challenge;
 *  - a SYN at or after RCV.NXT: an RST, and it ends;
 *  - nothing new (no ACK bit, or nothing past RCV.NXT): ignored, whatever
 *    it acknowledges;
 *  - new text, or a FIN elsewhere than at RCV.NXT: an RST, and it ends;
 *  - the FIN at RCV.NXT: on to TIME_WAIT, as in any FIN_WAIT_2.
 * (Linux keeps a full socket instead for the first fin_timeout - 60 s
 * when fin_timeout is longer than 60 s; etcp does not.)  Returns false
 * only for the FIN, which the caller goes on with.
 */
static bool etcp_rcv_orphan_fin_wait2(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);
	u32 rcv_nxt = esk->rcv_nxt;

	if (!etcp_touches_window(cb->seq, cb->end_seq, rcv_nxt,
				 rcv_nxt + etcp_rcv_wnd_now(esk))) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTOFWINDOW);
		if (!etcp_oow_rate_limited(sock_net(sk), &esk->oow_ack_stamp,
					   ETCP_MIB_ACKSKIPPEDSEQ))
			etcp_send_ack(sk);
		return true;
	}
	if (cb->flags & ETCP_FLAG_RST) {
		trace_etcp_receive_reset(sk);
		etcp_done(sk);
		return true;
	}
	if ((cb->flags & ETCP_FLAG_SYN) && !etcp_before(cb->seq, rcv_nxt))
		goto reset;
	if (!(cb->flags & ETCP_FLAG_ACK) || !etcp_after(cb->end_seq, rcv_nxt) ||
	    cb->end_seq == cb->seq) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
		return true;
	}
	if ((cb->flags & ETCP_FLAG_FIN) && cb->end_seq == rcv_nxt + 1)
		return false;
	/* Text after close(), RFC 1122 4.2.2.13: counted as such. */
	if (cb->end_seq - cb->seq > !!(cb->flags & ETCP_FLAG_FIN))
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONDATA);
reset:
	if (trace_etcp_orphan_reset_enabled())
		trace_etcp_orphan_reset(sk, cb->flags & ETCP_FLAG_SYN ?
					ETCP_ORPHR_SYN : ETCP_ORPHR_DATA);
	etcp_send_reset_reply(sock_net(sk), sk, skb);
	etcp_done(sk);
	return true;
}

/*
 * RFC 9293 3.10.7.4: SYN_RECV (a full socket) and the synchronized states.
 * Returns true when the skb was queued for the reader.
 */
static bool etcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);

	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD) &&
	    etcp_rcv_orphan_fin_wait2(sk, skb))
		return false;

	/* "first, check sequence number". */
	if (!etcp_seq_acceptable(esk->rcv_nxt, etcp_rcv_wnd_now(esk), skb)) {
		/* RCV.NXT - 1 after the peer's FIN: outside, yet accepted. */
		if ((cb->flags & ETCP_FLAG_RST) &&
		    etcp_rst_acceptable(sk->sk_state, cb->seq, esk->rcv_nxt)) {
			etcp_rcv_reset(sk);
			return false;
		}
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTOFWINDOW);
		/* RFC 5961 4.2: a SYN, whatever its number, is challenged. */
		if (cb->flags & ETCP_FLAG_SYN) {
			etcp_send_challenge_ack(sk);
			return false;
		}
		/*
		 * Data we had: our ACKs were lost, or the peer resent what
		 * came late (Linux's tcp_send_dupack()); the ACK says so.
		 */
		if (cb->end_seq != cb->seq && etcp_before(cb->seq, esk->rcv_nxt)) {
			etcp_dsack_set(sk, cb->seq, etcp_seq_min(cb->end_seq, esk->rcv_nxt));
			etcp_enter_quickack(esk);
		}
		if (etcp_oow_answer(sock_net(sk), skb, &esk->oow_ack_stamp,
				    ETCP_MIB_ACKSKIPPEDSEQ))
			etcp_send_ack(sk);
		return false;
	}
	esk->rcv_tstamp = jiffies;
	esk->keepalive_probes = 0;

	/* "second, check the RST bit" (RFC 5961 3.2). */
	if (cb->flags & ETCP_FLAG_RST) {
		if (etcp_rst_acceptable(sk->sk_state, cb->seq, esk->rcv_nxt))
			etcp_rcv_reset(sk);
		else
			etcp_send_challenge_ack(sk);
		return false;
	}

	/* "fourth, check the SYN bit" (RFC 5961 4.2). */
	if ((cb->flags & ETCP_FLAG_SYN) && !etcp_is_simultaneous_synack(sk, cb)) {
		etcp_send_challenge_ack(sk);
		return false;
	}

	/* "fifth, check the ACK field": "if the ACK bit is off, drop". */
	if (!(cb->flags & ETCP_FLAG_ACK)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
		return false;
	}

	if (sk->sk_state == TCP_SYN_RECV) {
		/*
		 * "If SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED"; Linux
		 * takes SEG.ACK = SND.UNA as well (tcp_ack() finds it neither
		 * old nor new), and so does etcp.
		 */
		if (etcp_before(cb->ack_seq, esk->snd_una) ||
		    etcp_after(cb->ack_seq, esk->snd_nxt)) {
			etcp_send_reset_reply(sock_net(sk), sk, skb);
			return false;
		}
		etcp_established(sk, cb);
	} else if (!etcp_rcv_ack(sk, skb) || !etcp_rcv_fin_acked(sk)) {
		return false;
	}

	/* "sixth, check the URG bit": etcp has no urgent data; ignored. */

	if (etcp_rcv_data_after_close(sk, skb))
		return false;

	/* "seventh, process the segment text", "eighth, check the FIN bit". */
	if ((1 << sk->sk_state) &
	    (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2))
		return etcp_data_queue(sk, skb);
	/*
	 * CLOSE_WAIT, CLOSING, LAST_ACK: the peer's FIN came already, so
	 * new text cannot be; a retransmission of old data or of the FIN
	 * means our ACK was lost: it goes again.
	 */
	if (cb->end_seq != cb->seq && !etcp_after(cb->end_seq, esk->rcv_nxt))
		etcp_send_ack(sk);
	return false;
}

/*
 * Process one segment for @sk, whose lock the caller holds, with bottom
 * halves off as in softirq.  Consumes the skb.
 */
static void etcp_rcv(struct sock *sk, struct sk_buff *skb)
{
	/* A listener's segments count for the requests and children. */
	if (sk->sk_state != TCP_LISTEN)
		etcp_sk(sk)->segs_in++;
	switch (sk->sk_state) {
	case TCP_LISTEN:
		etcp_rcv_listen(sk, skb);
		break;
	case TCP_SYN_SENT:
		etcp_rcv_synsent(sk, skb);
		break;
	case TCP_CLOSE:
		/*
		 * Closed since the lookup, maybe into TIME_WAIT: dropped, as
		 * Linux does; the peer's retransmission finds what is there now.
		 */
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_INDISCARDS);
		break;
	default:
		if (etcp_rcv_synchronized(sk, skb))
			return;
		break;
	}
	kfree_skb(skb);
}

/*
 * What the backlog may hold while the user owns the socket: the receive
 * buffer's worth of data, the ACKs for a send buffer's worth, and room
 * for the headers of a window's segments (Linux allows TCP as much).
 */
static u32 etcp_backlog_limit(const struct sock *sk)
{
	return READ_ONCE(sk->sk_rcvbuf) + READ_ONCE(sk->sk_sndbuf) + SZ_64K;
}

/*
 * With @sk's spinlock held: process the segment now, or, while the user
 * owns the socket, leave it to release_sock() (within the backlog's limit).
 */
static void etcp_rcv_or_backlog(struct sock *sk, struct sk_buff *skb)
{
	if (!sock_owned_by_user(sk)) {
		etcp_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, etcp_backlog_limit(sk))) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_BACKLOGDROPS);
		kfree_skb(skb);
	}
}

/*
 * A segment the listener passes on to a child (one that completed the
 * child's handshake and carries data, or one that raced with it): the
 * child processes a copy.  Called with the listener locked; the child lock
 * nests inside it as in sk_clone_lock().
 */
void etcp_child_rcv(struct sock *child, struct sk_buff *skb)
{
	struct sk_buff *nskb = skb_clone(skb, GFP_ATOMIC);

	if (!nskb)
		return;
	bh_lock_sock(child);
	etcp_rcv_or_backlog(child, nskb);
	bh_unlock_sock(child);
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

/* The listener for the segment's destination, with a reference, or NULL. */
static struct sock *etcp_skb_listener(struct net *net,
				      const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct in6_addr saddr, daddr;

	etcp_skb_addrs(skb, &saddr, &daddr);
	return etcp_lookup_listener(net, &saddr, th->source, &daddr, th->dest,
				    etcp_skb_iif(skb));
}

/*
 * The TIME_WAIT entry @tw has the segment's 4-tuple and handles it, unless
 * it is a SYN that may open a new connection: then a listener takes it
 * and the entry goes; without a listener the entry stays and ACKs it, as
 * Linux's.  Returns the listener the segment goes on to (with a
 * reference), or NULL when the entry dealt with it.  Consumes the
 * caller's reference on @tw.
 */
static struct sock *etcp_tw_segment(struct net *net, struct etcp_tw *tw,
				    struct sk_buff *skb)
{
	struct sock *sk = NULL;

	if (etcp_tw_rcv(tw, skb) == ETCP_TW_SYN) {
		sk = etcp_skb_listener(net, skb);
		if (sk)
			etcp_tw_recycle(tw, skb);
		else
			etcp_tw_answer(tw, skb);
	}
	etcp_tw_put(tw);
	return sk;
}

/*
 * IPsec (RFC 4301 5.2): a segment must have come as the inbound policies
 * require, the socket's own (IP_XFRM_POLICY) first when there is a
 * socket.  etcp does this rather than IP (.no_policy), as TCP does, so
 * that a socket's policy counts.  Drops are counted by xfrm and here.
 */
static bool etcp_policy_ok(struct net *net, struct sock *sk,
			   struct sk_buff *skb)
{
	if (etcp_skb_v6(skb) ? !xfrm6_policy_check(sk, XFRM_POLICY_IN, skb) :
	    !xfrm4_policy_check(sk, XFRM_POLICY_IN, skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INDISCARDS);
		return false;
	}
	nf_reset_ct(skb);
	return true;
}

/*
 * A segment from IPv4 or IPv6, addressed to this host, for the socket it
 * belongs to, or answered for none.  Both families share the tables (the
 * addresses keyed as IPv6, see etcp_skb_addrs()) and everything after.
 */
int etcp_rcv_segment(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	struct in6_addr saddr, daddr;
	const struct tcphdr *th;
	struct etcp_tw *tw;
	struct sock *sk;
	int dif;

	if (!etcp_pull_header(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INHDRERRORS);
		goto discard;
	}
	if (!etcp_checksum_ok(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INCSUMERRORS);
		goto discard;
	}
	/* Data in page fragments, as NICs and veth deliver large frames. */
	if (skb_headlen(skb) < skb->len)
		ETCP_INC_STATS(net, ETCP_MIB_INNONLINEAR);
	th = tcp_hdr(skb);
	if (!etcp_parse_options(th, ETCP_SKB_CB(skb))) {
		ETCP_INC_STATS(net, ETCP_MIB_INBADOPTS);
		goto discard;
	}
	etcp_fill_cb(skb);
	if (ETCP_SKB_CB(skb)->flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(net, ETCP_MIB_INRSTS);

	etcp_skb_addrs(skb, &saddr, &daddr);
	dif = etcp_skb_iif(skb);
	sk = etcp_lookup_established(net, &saddr, th->source, &daddr, th->dest,
				     dif);
	if (!sk) {
		if (!etcp_policy_ok(net, NULL, skb))
			goto discard;
		/*
		 * A socket going into TIME_WAIT enters its entry before it
		 * leaves ehash: having seen it gone, see the entry (weakly
		 * ordered CPUs).
		 */
		smp_rmb();
		tw = etcp_tw_lookup(net, &saddr, th->source, &daddr, th->dest,
				    dif);
		if (tw) {
			sk = etcp_tw_segment(net, tw, skb);
			if (!sk)
				goto discard;
		} else {
			sk = etcp_skb_listener(net, skb);
		}
	}
	if (!sk) {
		ETCP_INC_STATS(net, ETCP_MIB_NOSOCKET);
		etcp_send_reset_reply(net, NULL, skb);
		goto discard;
	}
	if (!etcp_policy_ok(net, sk, skb))
		goto discard_put;
	bh_lock_sock_nested(sk);
	etcp_rcv_or_backlog(sk, skb);
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;

discard_put:
	sock_put(sk);
discard:
	kfree_skb(skb);
	return 0;
}

int etcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);

	ETCP_INC_STATS(net, ETCP_MIB_INSEGS);

	/*
	 * Only what is addressed to one of this host's unicast addresses: a
	 * connection has no other kind, and no RST answers a broadcast
	 * (RFC 1122 4.2.3.10).  Decided here, while the skb still has its
	 * route: the socket backlog may drop it.
	 */
	if (skb->pkt_type != PACKET_HOST ||
	    skb_rtable(skb)->rt_type != RTN_LOCAL) {
		ETCP_INC_STATS(net, ETCP_MIB_INDISCARDS);
		kfree_skb(skb);
		return 0;
	}
	return etcp_rcv_segment(skb);
}
