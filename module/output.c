// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: building and sending segments.
 *
 * Every segment is built here on TCP's wire format (RFC 9293 section 3.1).
 * One sent alone is checksummed in software, so that a capture shows the
 * checksum the peer verifies; full segments of data leave together as a
 * super-segment whose checksums the device, or offload.c where the device
 * cannot, completes.
 */
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/dsfield.h>
#include <net/inet_common.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/route.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"
#include "trace.h"

/* The header fields of one segment. */
struct etcp_seg {
	__be16 sport, dport;
	u32 seq;
	u32 ack;		/* only sent when ETCP_FLAG_ACK is set */
	u8 flags;
	u16 window;
	u16 mss;		/* MSS option to carry, 0 for none */
	bool wscale_ok;		/* a window scale option, of shift wscale */
	u8 wscale;
	bool sack_ok;		/* a SACK-permitted option */
	u8 num_sacks;		/* SACK blocks to carry, from sacks */
	const struct etcp_sack_block *sacks;
};

/*
 * A segment without data.  Options in Linux's order and layout without
 * timestamps: MSS; SACK-permitted after two NOPs; the window scale after
 * a NOP (RFC 7323 appendix A); SACK blocks after two NOPs, so that each
 * 32-bit value is aligned (RFC 2018 3).
 */
static struct sk_buff *etcp_build(const struct etcp_seg *seg, gfp_t gfp)
{
	unsigned int optlen = (seg->mss ? ETCP_OPTLEN_MSS : 0) +
			      (seg->sack_ok ? ETCP_OPTLEN_SACK_PERM + 2 : 0) +
			      (seg->wscale_ok ? ETCP_OPTLEN_WSCALE + 1 : 0) +
			      (seg->num_sacks ? 2 + ETCP_OPTLEN_SACK_BASE +
			       seg->num_sacks * ETCP_OPTLEN_SACK_BLOCK : 0);
	unsigned int hdrlen = sizeof(struct tcphdr) + optlen;
	struct sk_buff *skb;
	struct tcphdr *th;
	u8 *opt;
	int i;

	skb = alloc_skb(ETCP_MAX_HEADER, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, ETCP_MAX_HEADER);
	th = skb_push(skb, hdrlen);
	skb_reset_transport_header(skb);
	memset(th, 0, hdrlen);

	th->source = seg->sport;
	th->dest = seg->dport;
	th->seq = htonl(seg->seq);
	if (seg->flags & ETCP_FLAG_ACK)
		th->ack_seq = htonl(seg->ack);
	th->doff = hdrlen / 4;
	((u8 *)th)[13] = seg->flags;
	th->window = htons(seg->window);

	opt = (u8 *)(th + 1);
	if (seg->mss) {
		opt[0] = ETCP_OPT_MSS;
		opt[1] = ETCP_OPTLEN_MSS;
		put_unaligned_be16(seg->mss, opt + 2);
		opt += ETCP_OPTLEN_MSS;
	}
	if (seg->sack_ok) {
		opt[0] = ETCP_OPT_NOP;
		opt[1] = ETCP_OPT_NOP;
		opt[2] = ETCP_OPT_SACK_PERM;
		opt[3] = ETCP_OPTLEN_SACK_PERM;
		opt += 4;
	}
	if (seg->wscale_ok) {
		opt[0] = ETCP_OPT_NOP;
		opt[1] = ETCP_OPT_WSCALE;
		opt[2] = ETCP_OPTLEN_WSCALE;
		opt[3] = seg->wscale;
		opt += 4;
	}
	if (seg->num_sacks) {
		opt[0] = ETCP_OPT_NOP;
		opt[1] = ETCP_OPT_NOP;
		opt[2] = ETCP_OPT_SACK;
		opt[3] = ETCP_OPTLEN_SACK_BASE +
			 seg->num_sacks * ETCP_OPTLEN_SACK_BLOCK;
		opt += 4;
		for (i = 0; i < seg->num_sacks; i++, opt += 8) {
			put_unaligned_be32(seg->sacks[i].start, opt);
			put_unaligned_be32(seg->sacks[i].end, opt + 4);
		}
	}
	return skb;
}

/*
 * The checksum over the pseudo-header (with our protocol), header and
 * data, of a segment from @saddr to @daddr (v4-mapped: over IPv4's).
 */
static void etcp_checksum(struct sk_buff *skb, const struct in6_addr *saddr,
			  const struct in6_addr *daddr)
{
	struct tcphdr *th = tcp_hdr(skb);
	__wsum csum;

	th->check = 0;
	csum = skb_checksum(skb, skb_transport_offset(skb), skb->len, 0);
	if (ipv6_addr_v4mapped(daddr))
		th->check = csum_tcpudp_magic(saddr->s6_addr32[3],
					      daddr->s6_addr32[3], skb->len,
					      etcp_proto_num, csum);
	else
		th->check = csum_ipv6_magic(saddr, daddr, skb->len,
					    etcp_proto_num, csum);
	skb->ip_summed = CHECKSUM_NONE;
}

/* The same for a segment of a connection, over its network layer. */
static void etcp_sk_checksum(const struct sock *sk, struct sk_buff *skb)
{
	tcp_hdr(skb)->check = 0;
	etcp_sk(sk)->af->set_check(sk, skb,
				   skb_checksum(skb, skb_transport_offset(skb),
						skb->len, 0));
}

static void etcp_v4_set_check(const struct sock *sk, struct sk_buff *skb,
			      __wsum csum)
{
	tcp_hdr(skb)->check = csum_tcpudp_magic(inet_sk(sk)->inet_saddr,
						sk->sk_daddr, skb->len,
						sk->sk_protocol, csum);
	skb->ip_summed = CHECKSUM_NONE;
}

static bool etcp_v4_accept_pmtu(const struct sock *sk)
{
	return READ_ONCE(inet_sk(sk)->pmtudisc) != IP_PMTUDISC_DONT &&
	       ip_sk_accept_pmtu(sk);
}

const struct etcp_af_ops etcp_ipv4_ops = {
	.queue_xmit	= ip_queue_xmit,
	.set_check	= etcp_v4_set_check,
	.route		= etcp_v4_route,
	.accept_pmtu	= etcp_v4_accept_pmtu,
	.net_header_len	= sizeof(struct iphdr),
	.default_mss	= ETCP_DEFAULT_MSS,
	.gso_type	= SKB_GSO_TCPV4 | SKB_GSO_SCTP,
};

/*
 * What the receive buffer can still take, halved for the per-skb overhead
 * as Linux assumes by default, and at most what the window field can say:
 * 65535 (RFC 9293 3.1) shifted by our window scale (RFC 7323 2.3).
 */
u32 etcp_select_window(const struct sock *sk)
{
	int space = READ_ONCE(sk->sk_rcvbuf) - atomic_read(&sk->sk_rmem_alloc);

	return min_t(u32, max(space, 0) / 2,
		     ETCP_MAX_WINDOW << etcp_sk(sk)->rcv_wscale);
}

/*
 * The shift our SYN or SYN-ACK offers (RFC 7323 2.2): as Linux chooses it
 * (tcp_select_initial_window()), for the largest receive buffer the
 * socket may have, so that the window is never held back by the field.
 */
u8 etcp_rcv_wscale(const struct sock *sk)
{
	u32 space = max3((u32)READ_ONCE(sk->sk_rcvbuf),
			 (u32)READ_ONCE(sysctl_rmem_max), ETCP_RMEM_MAX);

	return clamp_t(int, ilog2(space) - 15, 0, ETCP_MAX_WSCALE);
}

/*
 * The window a SYN or SYN-ACK announces, which is also the connection's
 * first RCV.WND: what the whole receive buffer offers, cut down to a whole
 * number of our own @mss (0: not cut), at most 65535.  Linux's
 * tcp_select_initial_window(): with a receive buffer of 128 KiB (TCP's
 * default) and an MSS of 1460 both announce 64240.
 */
u16 etcp_initial_window(const struct sock *sk, u32 mss)
{
	u32 space = max(READ_ONCE(sk->sk_rcvbuf), 0) / 2;

	if (mss && space > mss)
		space = rounddown(space, mss);
	return min(space, ETCP_MAX_WINDOW);
}

/*
 * The MSS a peer's SYN announces, as we use it: without the option the
 * family's default (RFC 9293 3.7.1: 536 over IPv4, 1220 over IPv6), no
 * larger than our own route and ETCP_MAXSEG allow, and never below
 * ETCP_MIN_SND_MSS.
 */
u16 etcp_peer_mss(const struct etcp_sock *esk, u16 opt)
{
	u16 mss = min_t(u16, opt ? opt : esk->af->default_mss, esk->advmss);

	return max_t(u16, mss, ETCP_MIN_SND_MSS);
}

/*
 * The segment size in use: the peer's MSS, bounded by half the largest
 * window it offered, as Linux bounds it (tcp_bound_to_half_wnd; RFC 9293
 * 3.8.6.2.1 measures the sender's SWS avoidance against Max(SND.WND)).
 * A peer whose window is smaller than one MSS then gets two segments a
 * window instead of waiting for the persist timer; a window of at most
 * 536 bytes is used whole.
 */
void etcp_sync_mss(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 cutoff = esk->max_window;
	u16 mss = esk->mss_clamp;

	if (cutoff > ETCP_DEFAULT_MSS)
		cutoff >>= 1;
	if (cutoff && mss > cutoff)
		mss = max_t(u32, cutoff, ETCP_MIN_SND_MSS);
	esk->snd_mss = mss;
}

/* What is left of the window we last announced: RCV.WND now. */
u32 etcp_rcv_wnd_now(const struct etcp_sock *esk)
{
	s32 left = esk->rcv_wup + esk->rcv_wnd - esk->rcv_nxt;

	return max(left, 0);
}

/*
 * The window a connection would announce now.  RFC 9293 3.8.6.2.2
 * (receiver SWS avoidance): the right edge moves only by at least
 * min(RCV.BUFF / 2, MSS), and it never moves left (3.8.6.2.2, "shrinking
 * the window" is strongly discouraged).  Like Linux, a window of at least
 * one MSS is a whole number of MSS.
 */
u32 etcp_window_candidate(const struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	u32 cur = etcp_rcv_wnd_now(esk);
	u32 free = etcp_select_window(sk);
	u32 mss = esk->advmss ? esk->advmss : ETCP_DEFAULT_MSS;
	u32 step = min_t(u32, READ_ONCE(sk->sk_rcvbuf) / 4, mss);

	if (free >= mss)
		free = rounddown(free, mss);
	if (free < cur || free - cur < step)
		return cur;
	return free;
}

/*
 * Announce a window: RCV.WND from here on, counted from RCV.NXT.  Returns
 * the window field: unscaled in a SYN (RFC 7323 2.2), else shifted by our
 * scale.  The shift rounds down, so the right edge the peer reads may lie
 * left of ours by less than one unit of the scale (RFC 7323 appendix F;
 * Linux's tcp_shrink_window, 6.5 on): rounded up, as Linux does by
 * default, a window's last bytes could be promised with no buffer left
 * for them, and a peer would resend them into a full buffer instead of
 * probing a zero window.  Our own edge (RCV.WND) is what we announced
 * before where it does not move: counted from the rounded field instead,
 * every ACK would move it left by up to a unit, a whole MSS over a run
 * of small segments.  A segment sent into the window before is still
 * taken whole (input.c).
 */
static u16 etcp_announce_window(struct sock *sk, bool syn)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u8 shift = syn ? 0 : esk->rcv_wscale;
	u32 wnd, field;

	/* Before the peer's SYN there is no RCV.NXT to count from. */
	if (sk->sk_state == TCP_SYN_SENT)
		wnd = etcp_initial_window(sk, esk->advmss);
	else
		wnd = etcp_window_candidate(sk);
	field = min(wnd >> shift, ETCP_MAX_WINDOW);
	esk->rcv_wnd = max(field << shift, etcp_rcv_wnd_now(esk));
	esk->rcv_wup = esk->rcv_nxt;
	return field;
}

/*
 * A segment carrying ACK went out: nothing is owed to the peer.  One that
 * acknowledges what arrived spends a quick ACK (6.1.y and 6.12 count only
 * those, tcp_dec_quickack_mode()).
 */
static void etcp_ack_sent(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->ack_sent = esk->rcv_nxt;
	esk->ack_pending = 0;
	if (esk->ack_sched && esk->quick)
		esk->quick--;
	esk->ack_sched = 0;
}

/*
 * The SACK blocks of an ACK with a D-SACK to report into @b: the D-SACK
 * first, then what the out-of-order queue holds, as many as fit (RFC 2883
 * 4).  Returns how many.
 */
static u8 etcp_dsack_blocks(const struct etcp_sock *esk,
			    struct etcp_sack_block *b)
{
	u8 n = min_t(u8, esk->num_sacks, ETCP_NUM_SACKS - 1);

	b[0] = esk->dsack;
	memcpy(b + 1, esk->sacks, n * sizeof(*b));
	return n + 1;
}

/* Send a segment with no data on a full socket, over its route. */
static void etcp_transmit(struct sock *sk, u8 flags, u32 seq, bool with_mss)
{
	struct etcp_sack_block blocks[ETCP_NUM_SACKS];
	struct etcp_sock *esk = etcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct etcp_seg seg = {
		.sport	= inet->inet_sport,
		.dport	= inet->inet_dport,
		.seq	= seq,
		.ack	= esk->rcv_nxt,
		.flags	= flags,
		.mss	= with_mss ? esk->advmss : 0,
		.wscale_ok = with_mss && esk->wscale_ok,
		.wscale	= esk->rcv_wscale,
		.sack_ok = with_mss && esk->sack_ok,
		.sacks	= esk->sacks,
	};
	struct sk_buff *skb;

	if (!(flags & ETCP_FLAG_RST))
		seg.window = etcp_announce_window(sk, flags & ETCP_FLAG_SYN);
	/* RFC 2018 4: every ACK carries the blocks while data waits beyond a hole. */
	if (!(flags & (ETCP_FLAG_SYN | ETCP_FLAG_RST)) && esk->sack_ok) {
		seg.num_sacks = esk->num_sacks;
		if (esk->dsack_pending) {
			seg.num_sacks = etcp_dsack_blocks(esk, blocks);
			seg.sacks = blocks;
		}
	}
	skb = etcp_build(&seg, GFP_ATOMIC);
	if (!skb)
		return;
	if (seg.sacks == blocks) {
		esk->dsack_pending = 0;
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DSACKSENT);
	}
	if (flags & ETCP_FLAG_ACK)
		etcp_ack_sent(sk);
	esk->segs_out++;
	skb_set_owner_w(skb, sk);
	etcp_sk_checksum(sk, skb);

	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTSEGS);
	if (flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTRSTS);
	esk->af->queue_xmit(sk, skb, &inet->cork.fl);
}

/*
 * <SEQ=ISS><CTL=SYN> from SYN_SENT; from SYN_RECV after a simultaneous
 * open <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (RFC 9293 3.10.7.3).
 */
void etcp_send_syn(struct sock *sk)
{
	u8 flags = ETCP_FLAG_SYN;

	if (sk->sk_state == TCP_SYN_RECV)
		flags |= ETCP_FLAG_ACK;
	etcp_transmit(sk, flags, etcp_sk(sk)->iss, true);
}

/*
 * The sequence number of a segment without data: RFC 9293 says SND.NXT,
 * but after a go-back-N SND.NXT lies below what the peer may already have
 * received, and the peer would drop the segment, ACK and all, as old.
 * SND.MAX is what BSD sends then; Linux never moves SND.NXT back, so it is
 * what Linux sends too, unless the peer's window shrank below it.
 */
static u32 etcp_acceptable_seq(const struct etcp_sock *esk)
{
	if (!etcp_after(esk->snd_max, etcp_wnd_end(esk)))
		return esk->snd_max;
	return etcp_wnd_end(esk);
}

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.NXT as above. */
void etcp_send_ack(struct sock *sk)
{
	etcp_transmit(sk, ETCP_FLAG_ACK, etcp_acceptable_seq(etcp_sk(sk)),
		      false);
}

/*
 * A segment the peer must answer without it carrying anything new:
 * <SEQ=SND.UNA-1><ACK=RCV.NXT><CTL=ACK>.  The sequence number is old, so
 * RFC 9293 3.10.7.4 makes the peer reply with an ACK carrying its window.
 * Linux probes a closed window and an idle connection this way.
 */
void etcp_send_probe(struct sock *sk)
{
	etcp_transmit(sk, ETCP_FLAG_ACK, etcp_sk(sk)->snd_una - 1, false);
}

/*
 * An abort of a synchronized connection: <SEQ=SND.NXT><CTL=RST> (RFC 9293
 * 3.10.7.4, ABORT call), SND.NXT as for an ACK.  The ACK rides along as
 * Linux sends it.
 */
void etcp_send_active_reset(struct sock *sk)
{
	trace_etcp_send_reset(sk, NULL, NULL);
	etcp_transmit(sk, ETCP_FLAG_RST | ETCP_FLAG_ACK,
		      etcp_acceptable_seq(etcp_sk(sk)), false);
}

/*
 * Send @skb, an etcp segment with its route attached, from @sk over IPv4:
 * what ip_queue_xmit() does for a connected socket, for the senders that
 * have none to give it (a request's SYN-ACK and its answers, the replies
 * of the namespace's control socket).  The TTL and DF follow @sk's
 * IP_TTL and IP_MTU_DISCOVER; ip_local_out() fills in the length and the
 * header checksum.
 */
static int etcp_ip_send(struct sk_buff *skb, const struct sock *sk,
			__be32 saddr, __be32 daddr, u8 tos)
{
	const struct dst_entry *dst = skb_dst(skb);
	int ttl = READ_ONCE(inet_sk(sk)->uc_ttl);
	struct net *net = sock_net(sk);
	struct iphdr *iph;

	skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = tos;
	iph->ttl = ttl < 0 ? ip4_dst_hoplimit(dst) : ttl;
	iph->protocol = sk->sk_protocol;
	iph->saddr = saddr;
	iph->daddr = daddr;
	if (ip_dont_fragment(sk, dst)) {
		iph->frag_off = htons(IP_DF);
		iph->id = 0;
	} else {
		iph->frag_off = 0;
		__ip_select_ident(net, iph, 1);
	}
	skb->protocol = htons(ETH_P_IP);
	skb->priority = READ_ONCE(sk->sk_priority);
	if (!skb->mark)
		skb->mark = READ_ONCE(sk->sk_mark);
	return ip_local_out(net, skb->sk, skb);
}

/*
 * A segment in answer to @in that has no socket to come from (no
 * connection, or a TIME_WAIT entry): sent from the namespace's control
 * socket back along @in's path.
 */
static void etcp_send_reply4(struct net *net, struct sk_buff *in,
			     const struct etcp_seg *seg, u8 tos)
{
	const struct iphdr *iph = ip_hdr(in);
	struct sock *ctl_sk = etcp_pernet(net)->ctl_sk;
	struct in6_addr saddr, daddr;
	struct sk_buff *skb;
	struct flowi4 fl4;
	struct rtable *rt;

	rt = ip_route_output_ports(net, &fl4, NULL, iph->saddr, iph->daddr,
				   seg->dport, seg->sport, etcp_proto_num,
				   RT_TOS(tos), 0);
	if (IS_ERR(rt))
		return;

	skb = etcp_build(seg, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	ipv6_addr_set_v4mapped(iph->daddr, &saddr);
	ipv6_addr_set_v4mapped(iph->saddr, &daddr);
	etcp_checksum(skb, &saddr, &daddr);
	skb_dst_set(skb, &rt->dst);

	ETCP_INC_STATS(net, ETCP_MIB_OUTSEGS);
	if (seg->flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(net, ETCP_MIB_OUTRSTS);
	/*
	 * The whole DSCP goes back, as ip_send_unicast_reply() sends it: the
	 * route lookup above takes only RT_TOS()'s bits, the header all but ECN.
	 */
	etcp_ip_send(skb, ctl_sk, iph->daddr, iph->saddr, tos & ~INET_ECN_MASK);
}

/*
 * The same over IPv6, from the namespace's IPv6 control socket; a
 * link-local peer is answered on the interface it wrote from.
 */
static void etcp_send_reply6(struct net *net, struct sk_buff *in,
			     const struct etcp_seg *seg, u8 tclass)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(in);
	struct sock *ctl_sk = etcp_pernet(net)->ctl_sk6;
	struct flowi6 fl6 = {
		.flowi6_proto	= etcp_proto_num,
		.daddr		= ip6h->saddr,
		.saddr		= ip6h->daddr,
		.fl6_dport	= seg->dport,
		.fl6_sport	= seg->sport,
	};
	struct dst_entry *dst;
	struct sk_buff *skb;

	if (ipv6_addr_type(&fl6.daddr) & IPV6_ADDR_LINKLOCAL)
		fl6.flowi6_oif = inet6_iif(in);
	dst = ip6_dst_lookup_flow(net, ctl_sk, &fl6, NULL);
	if (IS_ERR(dst))
		return;

	skb = etcp_build(seg, GFP_ATOMIC);
	if (!skb) {
		dst_release(dst);
		return;
	}
	etcp_checksum(skb, &fl6.saddr, &fl6.daddr);
	skb_dst_set(skb, dst);

	ETCP_INC_STATS(net, ETCP_MIB_OUTSEGS);
	if (seg->flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(net, ETCP_MIB_OUTRSTS);
	ip6_xmit(ctl_sk, skb, &fl6, 0, NULL, tclass, 0);
}

static void etcp_send_reply(struct net *net, struct sk_buff *in,
			    const struct etcp_seg *seg, u8 tos)
{
	if (etcp_skb_v6(in))
		etcp_send_reply6(net, in, seg, tos);
	else
		etcp_send_reply4(net, in, seg, tos);
}

/*
 * The answer to a segment for no connection (RFC 9293 3.10.7.1): with an
 * ACK, <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>.  Never an RST for an RST.
 */
void etcp_send_reset_reply(struct net *net, const struct sock *sk,
			   struct sk_buff *in)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(in);
	const struct tcphdr *th = tcp_hdr(in);
	struct etcp_seg seg = {
		.sport	= th->dest,
		.dport	= th->source,
	};

	if (cb->flags & ETCP_FLAG_RST)
		return;
	trace_etcp_send_reset(sk, NULL, in);
	if (cb->flags & ETCP_FLAG_ACK) {
		seg.seq = cb->ack_seq;
		seg.flags = ETCP_FLAG_RST;
	} else {
		seg.ack = cb->end_seq;
		seg.flags = ETCP_FLAG_RST | ETCP_FLAG_ACK;
	}
	/* IPv6: the DSCP of the segment answered, as TCPv6 reflects it. */
	etcp_send_reply(net, in, &seg, etcp_skb_v6(in) ?
			ipv6_get_dsfield(ipv6_hdr(in)) & ~INET_ECN_MASK :
			ip_hdr(in)->tos);
}

/*
 * TIME_WAIT's answer (RFC 9293 3.10.7.4): <SEQ=SND.NXT><ACK=RCV.NXT>
 * <CTL=ACK> with the window last announced, SND.NXT and RCV.NXT both past
 * the FINs.
 */
void etcp_send_tw_ack(const struct etcp_tw *tw, struct sk_buff *in)
{
	struct etcp_seg seg = {
		.sport	= tw->lport,
		.dport	= tw->rport,
		.seq	= tw->snd_nxt,
		.ack	= tw->rcv_nxt,
		.flags	= ETCP_FLAG_ACK,
		.window	= tw->rcv_wnd,
	};

	etcp_send_reply(tw->net, in, &seg, tw->tos);
}

/*
 * A segment for a request in SYN_RECV, sent on behalf of the listener,
 * which has no peer of its own: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> with
 * the MSS option, or after it <SEQ=ISS+1><ACK=RCV.NXT> with ACK or RST.
 */
/* The route of @req's segments over IPv4, or an ERR_PTR(). */
static struct dst_entry *etcp_v4_route_req(const struct sock *listener,
					   const struct etcp_request *req)
{
	struct flowi4 fl4;
	struct rtable *rt;

	rt = ip_route_output_ports(sock_net(listener), &fl4,
				   (struct sock *)listener,
				   req->raddr.s6_addr32[3],
				   req->laddr.s6_addr32[3], req->rport,
				   req->lport, etcp_proto_num,
				   ip_sock_rt_tos(listener),
				   listener->sk_bound_dev_if);
	return IS_ERR(rt) ? ERR_CAST(rt) : &rt->dst;
}

/* Send a request's segment @skb, routed by @dst, from @listener. */
static int etcp_req_xmit(const struct sock *listener,
			 const struct etcp_request *req, struct sk_buff *skb,
			 struct dst_entry *dst, struct flowi6 *fl6)
{
	skb_dst_set(skb, dst);
	if (ipv6_addr_v4mapped(&req->raddr))
		return etcp_ip_send(skb, listener, req->laddr.s6_addr32[3],
				    req->raddr.s6_addr32[3],
				    READ_ONCE(inet_sk(listener)->tos));
	return ip6_xmit(listener, skb, fl6, READ_ONCE(listener->sk_mark), NULL,
			READ_ONCE(inet6_sk(listener)->tclass),
			READ_ONCE(listener->sk_priority));
}

int etcp_send_req_segment(const struct sock *listener,
			  struct etcp_request *req, u8 flags)
{
	struct net *net = sock_net(listener);
	bool v4 = ipv6_addr_v4mapped(&req->raddr);
	struct etcp_seg seg = {
		.sport	= req->lport,
		.dport	= req->rport,
		.seq	= req->iss,
		.ack	= req->irs + 1,
		.flags	= flags,
	};
	struct dst_entry *dst;
	struct sk_buff *skb;
	struct flowi6 fl6;

	if (v4)
		dst = etcp_v4_route_req(listener, req);
	else
		dst = etcp_v6_route_req(listener, req, &fl6);
	if (IS_ERR(dst))
		return PTR_ERR(dst);

	if (flags & ETCP_FLAG_RST)
		trace_etcp_send_reset(listener, req, NULL);
	if (flags & ETCP_FLAG_SYN) {
		seg.mss = etcp_mss_for_mtu(listener, dst_mtu(dst),
					   v4 ? sizeof(struct iphdr) :
						sizeof(struct ipv6hdr));
		/* Settled by the first SYN-ACK, as Linux's rsk_rcv_wnd. */
		if (!req->retransmits)
			req->rcv_wnd = etcp_initial_window(listener, seg.mss);
		seg.wscale_ok = req->wscale_ok;
		seg.wscale = req->rcv_wscale;
		seg.sack_ok = req->sack_ok;
		seg.window = req->rcv_wnd;
	} else {
		seg.seq++;
		/* Past the SYN-ACK the window is scaled (RFC 7323 2.2). */
		if (!(flags & ETCP_FLAG_RST))
			seg.window = req->rcv_wnd >> req->rcv_wscale;
	}

	skb = etcp_build(&seg, GFP_ATOMIC);
	if (!skb) {
		dst_release(dst);
		return -ENOBUFS;
	}
	etcp_checksum(skb, &req->laddr, &req->raddr);

	ETCP_INC_STATS(net, ETCP_MIB_OUTSEGS);
	if (flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(net, ETCP_MIB_OUTRSTS);
	return etcp_req_xmit(listener, req, skb, dst, &fl6);
}

/*
 * @skb of the write queue makes segments of @size: how many.  Where it is
 * in flight (below SND.NXT), the flight and the SACK scoreboard's counts
 * of its marks count them instead of those it made before (Linux:
 * tcp_adjust_pcount()).
 */
void etcp_set_segs(struct sock *sk, struct sk_buff *skb, u32 size)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);
	u32 segs = etcp_skb_segs(skb, size);
	u32 delta = segs - cb->segs;

	if (etcp_before(cb->seq, esk->snd_nxt)) {
		esk->packets_out += delta;
		if (cb->sacked)
			esk->sacked_out += delta;
		if (cb->lost)
			esk->lost_out += delta;
		if (cb->rtx)
			esk->retrans_out += delta;
	}
	cb->segs = segs;
	cb->seg_size = size;
}

/* @skb of the write queue is going out (again): when, and how often. */
static void etcp_skb_sent(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);
	/* A segment sent before (below SND.MAX) is a retransmission. */
	bool again = etcp_before(cb->seq, esk->snd_max);

	/* Before the size it goes at replaces the size it went at. */
	if (again && trace_etcp_retransmit_skb_enabled())
		trace_etcp_retransmit_skb(sk, skb,
					  etcp_trace_rtx_reason(sk, skb));
	etcp_set_segs(sk, skb, esk->snd_mss);
	if (again) {
		cb->retransmitted = 1;
		/* A D-SACK of each may undo the recovery (sack.c). */
		if (esk->undo_on)
			esk->undo_retrans += cb->segs;
		esk->total_retrans += cb->segs;
		ETCP_ADD_STATS(sock_net(sk), ETCP_MIB_RETRANSSEGS, cb->segs);
	}
	cb->sent_us = etcp_clock_us();
}

/* Push the header of data from @seq on, with @flags besides ACK. */
static struct tcphdr *etcp_push_data_header(struct sock *sk,
					    struct sk_buff *nskb, u32 seq,
					    u8 flags)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct tcphdr *th;

	th = skb_push(nskb, sizeof(*th));
	skb_reset_transport_header(nskb);
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(seq);
	th->ack_seq = htonl(esk->rcv_nxt);
	th->doff = sizeof(*th) / 4;
	((u8 *)th)[13] = ETCP_FLAG_ACK |
			 (flags & (ETCP_FLAG_PSH | ETCP_FLAG_FIN));
	th->window = htons(etcp_announce_window(sk, false));
	return th;
}

/* Hand @nskb, @segs segments' worth (@data: with data), to IP. */
static int etcp_xmit_built(struct sock *sk, struct sk_buff *nskb, u32 segs,
			   bool data)
{
	struct etcp_sock *esk = etcp_sk(sk);

	/* What is left of our control block would look like IP options. */
	memset(nskb->cb, 0, sizeof(ETCP_SKB_CB(nskb)->header));
	skb_set_owner_w(nskb, sk);

	etcp_ack_sent(sk);
	if (data)
		etcp_data_sent_event(sk);
	esk->segs_out += segs;
	ETCP_ADD_STATS(sock_net(sk), ETCP_MIB_OUTSEGS, segs);
	return esk->af->queue_xmit(sk, nskb, &inet_sk(sk)->cork.fl);
}

/*
 * Send one skb of the write queue, one segment: a clone carries the header, so that the
 * original stays queued until it is acknowledged.  The header goes into
 * the clone's headroom, which the original never uses; if an earlier clone
 * is still in flight (a retransmission before the first copy left the
 * host, or a peer on a veth holding it in its receive queue), the header
 * part is copied instead so the two never share it.  Its checksum is
 * complete: alone, it may be forwarded to a device that offloads only
 * TCP's (offload.c).
 */
static int etcp_transmit_data(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct sk_buff *nskb;

	if (skb_cloned(skb))
		nskb = __pskb_copy_fclone(skb, skb_headroom(skb), GFP_ATOMIC,
					  false);
	else
		nskb = skb_clone(skb, GFP_ATOMIC);
	if (!nskb)
		return -ENOBUFS;

	etcp_skb_sent(sk, skb);
	etcp_push_data_header(sk, nskb, cb->seq, cb->flags);
	etcp_sk_checksum(sk, nskb);
	return etcp_xmit_built(sk, nskb, 1, skb->len);
}

/* @skb, the send head, went out: SND.NXT moves past it. */
static void etcp_advance_send_head(struct sock *sk, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);

	esk->send_head = etcp_write_next(sk, skb);
	esk->snd_nxt = cb->end_seq;
	if (etcp_after(esk->snd_nxt, esk->snd_max))
		esk->snd_max = esk->snd_nxt;
	if (etcp_skb_short(skb, esk->snd_mss))
		esk->snd_sml = cb->end_seq;
	esk->packets_out += cb->segs;
}

/*
 * Nagle (RFC 896, RFC 9293 3.7.4) as Linux applies it, with Minshall's
 * refinement: a short segment waits only while an earlier short segment
 * is unacknowledged, so a bulk write's tail does not wait for a whole
 * window.  Only the last skb can end short (its full segments before
 * that may go: etcp_xmit_limit()).  Corked (ETCP_CORK, or a
 * send() with MSG_MORE), a short segment waits for more data, for the
 * cork to go or for the persist timer: with nothing in flight it sends
 * the segment after max(RTO, 200 ms), tcp(7)'s "200 millisecond ceiling"
 * as Linux implements it.
 */
static bool etcp_nagle_allows(struct sock *sk, const struct sk_buff *skb,
			      enum etcp_xmit how)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	/* The FIN goes as soon as the data before it may (as Linux). */
	if (!etcp_skb_short(skb, esk->snd_mss) ||
	    (ETCP_SKB_CB(skb)->flags & ETCP_FLAG_FIN))
		return true;
	if (!skb_queue_is_last(&sk->sk_write_queue, skb))
		return true;
	if (esk->corked || how == ETCP_XMIT_MORE)
		return false;
	if (esk->nodelay || !esk->packets_out)
		return true;
	return !etcp_after(esk->snd_sml, esk->snd_una);
}

/*
 * Segments of one MSS a super-segment of @sk may hold, within 64 KiB and
 * what the device takes (sk_gso_max_size, sk_gso_max_segs); 0 where the
 * route takes none (sk_can_gso(): through IPsec, or GSO off on the device).
 */
static u32 etcp_gso_max_segs(const struct sock *sk)
{
	u32 segs;

	if (!sk_can_gso(sk))
		return 0;
	segs = (min_t(u32, sk->sk_gso_max_size, U16_MAX) - ETCP_MAX_HEADER) /
	       etcp_sk(sk)->snd_mss;
	return min_t(u32, segs, sk->sk_gso_max_segs);
}

/* Do fragments @a and @b follow each other in one page? */
static bool etcp_frags_adjoin(const skb_frag_t *a, const skb_frag_t *b)
{
	return skb_frag_page(a) == skb_frag_page(b) &&
	       skb_frag_off(a) + skb_frag_size(a) == skb_frag_off(b);
}

/* The fragments @skb adds to a super-segment that ends with @prev's. */
static u32 etcp_gso_frags(const struct sk_buff *prev,
			  const struct sk_buff *skb)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	const struct skb_shared_info *psh;

	if (!prev)
		return sh->nr_frags;
	psh = skb_shinfo(prev);
	return sh->nr_frags -
	       etcp_frags_adjoin(&psh->frags[psh->nr_frags - 1], &sh->frags[0]);
}

/*
 * How many skbs from the send head @skb on leave together as one
 * super-segment (offload.c): @skb, cut to what may leave already
 * (etcp_xmit_limit()), and those after it that may leave whole, within the
 * congestion and the peer's window and as Nagle allows.  Every skb but the
 * last ends in a full segment, and a PSH or FIN ends the super-segment, so
 * that each keeps its place at the end of a segment.  At most
 * etcp_gso_max_segs() segments, in MAX_SKB_FRAGS fragments.
 */
static u32 etcp_gso_skbs(struct sock *sk, struct sk_buff *skb,
			 enum etcp_xmit how)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	u32 mss = esk->snd_mss, max_segs, segs, frags, n = 1;
	struct sk_buff *prev = skb;

	max_segs = min(etcp_gso_max_segs(sk),
		       esk->snd_cwnd - etcp_in_flight(esk));
	segs = etcp_skb_segs(skb, mss);
	frags = skb_shinfo(skb)->nr_frags;

	while (!etcp_skb_short(prev, mss) && prev->len &&
	       !(ETCP_SKB_CB(prev)->flags & (ETCP_FLAG_PSH | ETCP_FLAG_FIN)) &&
	       (skb = etcp_write_next(sk, prev))) {
		const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		segs += etcp_skb_segs(skb, mss);
		if (!skb->len || skb_headlen(skb) || segs > max_segs ||
		    etcp_after(cb->end_seq, etcp_wnd_end(esk)))
			break;
		if (how != ETCP_XMIT_PUSH && !etcp_nagle_allows(sk, skb, how))
			break;
		frags += etcp_gso_frags(prev, skb);
		if (frags > MAX_SKB_FRAGS)
			break;
		n++;
		prev = skb;
	}
	return n;
}

/*
 * Bytes of @skb, the send head, that may leave now: all of it, or as many
 * of its first segments as the congestion window, the peer's window, one
 * super-segment (one segment where the route takes none) and Nagle let
 * go; 0 for none.  A FIN alone is a segment of no byte: 0 and "all of
 * it" differ there only by whether the result reaches its length, so
 * callers check for 0 before anything else.
 */
static u32 etcp_xmit_limit(struct sock *sk, const struct sk_buff *skb,
			   enum etcp_xmit how)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 mss = esk->snd_mss, limit;

	limit = (esk->snd_cwnd - etcp_in_flight(esk)) * mss;
	limit = min(limit, max(etcp_gso_max_segs(sk), 1U) * mss);

	if (!etcp_head_fits_wnd(esk, skb))
		return 0;
	/* Not all of it fits: the full segments that do (never the FIN's). */
	if (etcp_after(cb->end_seq, etcp_wnd_end(esk)))
		limit = min(limit, rounddown(min(etcp_wnd_end(esk) - cb->seq,
						 skb->len - 1), mss));

	if (how != ETCP_XMIT_PUSH && !etcp_nagle_allows(sk, skb, how))
		limit = min(limit, rounddown(skb->len, mss));
	return limit;
}

/*
 * Bytes a write puts in one skb of the write queue, and gathers before it
 * sends them (stream.c): one segment, or with super-segments as many full
 * segments as one holds, at most half the peer's largest window, so that
 * the ACK of one half can come back while the other is sent (as Linux's
 * tcp_xmit_size_goal()).  An skb of the queue is cut where less of it may
 * leave (etcp_fragment()): one per super-segment, not per segment, is
 * what makes bulk transfer cheap.
 */
u32 etcp_xmit_size_goal(const struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	u32 goal = etcp_gso_max_segs(sk) * esk->snd_mss;

	goal = min(goal, esk->max_window / 2);
	return max(rounddown(goal, esk->snd_mss), esk->snd_mss);
}

/* Add @skb's data to super-segment @nskb, by reference to its pages. */
static void etcp_gso_add(struct sk_buff *nskb, const struct sk_buff *skb)
{
	const struct skb_shared_info *from = skb_shinfo(skb);
	struct skb_shared_info *to = skb_shinfo(nskb);
	int i;

	for (i = 0; i < from->nr_frags; i++) {
		const skb_frag_t *f = &from->frags[i];

		if (to->nr_frags &&
		    etcp_frags_adjoin(&to->frags[to->nr_frags - 1], f)) {
			skb_frag_size_add(&to->frags[to->nr_frags - 1],
					  skb_frag_size(f));
			continue;
		}
		skb_fill_page_desc(nskb, to->nr_frags, skb_frag_page(f),
				   skb_frag_off(f), skb_frag_size(f));
		get_page(skb_frag_page(f));
	}
	nskb->len += skb->len;
	nskb->data_len += skb->len;
	nskb->truesize += skb->len;
}

/*
 * Send @n skbs of the write queue, @skb first, as one super-segment: a new
 * skb that refers to their pages (the queued skbs stay as they are, to be
 * acknowledged, cut or resent), behind one header whose checksum the
 * device, or etcp_gso_segment() where the device cannot, completes for
 * each segment.  Data of one segment or less never goes this way, so
 * every partial checksum of ours is in a super-segment (offload.c).
 */
static int etcp_transmit_gso(struct sock *sk, struct sk_buff *skb, u32 n)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct skb_shared_info *shinfo;
	struct sk_buff *nskb, *last;
	struct tcphdr *th;
	u32 i, segs = 0;

	nskb = alloc_skb(ETCP_MAX_HEADER, GFP_ATOMIC);
	if (!nskb)
		return -ENOBUFS;
	skb_reserve(nskb, ETCP_MAX_HEADER);
	for (i = 0, last = skb; i < n; i++, last = etcp_write_next(sk, last)) {
		etcp_gso_add(nskb, last);
		etcp_skb_sent(sk, last);
		segs += ETCP_SKB_CB(last)->segs;
		if (i == n - 1)
			break;
	}

	th = etcp_push_data_header(sk, nskb, ETCP_SKB_CB(skb)->seq,
				   ETCP_SKB_CB(last)->flags);
	/* The pseudo-header's sum alone, as a device expects it. */
	esk->af->set_check(sk, nskb, 0);
	th->check = ~th->check;
	nskb->ip_summed = CHECKSUM_PARTIAL;
	nskb->csum_start = skb_transport_header(nskb) - nskb->head;
	nskb->csum_offset = offsetof(struct tcphdr, check);

	shinfo = skb_shinfo(nskb);
	shinfo->gso_size = esk->snd_mss;
	shinfo->gso_segs = segs;
	shinfo->gso_type = sk->sk_gso_type;
	return etcp_xmit_built(sk, nskb, segs, true);
}

/*
 * Make @skb's fragment list our own before changing it: a clone of it may
 * still be in flight or in a peer's receive queue.  The truesize charged
 * to the socket stays what it was.
 */
static int etcp_unclone(struct sk_buff *skb)
{
	unsigned int truesize = skb->truesize;
	int err;

	if (!skb_cloned(skb))
		return 0;
	err = pskb_expand_head(skb, 0, 0, GFP_ATOMIC);
	skb->truesize = truesize;
	return err;
}

/* Cut the first @len bytes off @skb, with a new skb for the rest. */
int etcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct sk_buff *buff;
	u32 nlen = skb->len - len;

	if (etcp_unclone(skb))
		return -ENOMEM;
	buff = __alloc_skb(ETCP_MAX_HEADER, GFP_ATOMIC, SKB_ALLOC_FCLONE,
			   NUMA_NO_NODE);
	if (!buff)
		return -ENOMEM;
	skb_reserve(buff, ETCP_MAX_HEADER);
	skb_split(skb, buff, len);

	/* The data's truesize follows the data; the new skb is charged. */
	buff->truesize += nlen;
	skb->truesize -= nlen;
	sk_wmem_queued_add(sk, buff->truesize - nlen);
	sk_mem_charge(sk, buff->truesize - nlen);

	*ETCP_SKB_CB(buff) = *cb;
	ETCP_SKB_CB(buff)->seq = cb->seq + len;
	cb->end_seq = cb->seq + len;
	/* PSH and FIN belong to the end of the data: the second part. */
	cb->flags &= ~(ETCP_FLAG_PSH | ETCP_FLAG_FIN);
	buff->ip_summed = CHECKSUM_NONE;
	__skb_queue_after(&sk->sk_write_queue, skb, buff);
	/* In flight, the two count what they make at the size sent. */
	if (etcp_before(cb->seq, etcp_sk(sk)->snd_nxt)) {
		ETCP_SKB_CB(buff)->segs = 0;
		etcp_set_segs(sk, skb, cb->seg_size);
		etcp_set_segs(sk, buff, cb->seg_size);
	}
	return 0;
}

/*
 * Cut @skb, in flight, after @len bytes, as etcp_fragment().  A peer whose
 * SACK blocks, or whose ACKs keep the congestion window's room at one
 * segment through a recovery, could make an skb of every segment in
 * flight, each several times its data in memory: once the queue's memory
 * passes twice the send buffer, no more cuts (-ENOBUFS), as Linux's guard
 * in tcp_fragment() after CVE-2019-11478.  The first skb stays cuttable,
 * so that the recovery of the first hole goes on; a cut makes it one
 * segment long, so a peer gains nothing from it.  Unlike Linux, the last
 * skb in flight does not: a peer that cuts every new super-segment apart
 * as it arrives would find each one the last.
 */
int etcp_fragment_in_flight(struct sock *sk, struct sk_buff *skb, u32 len)
{
	if ((READ_ONCE(sk->sk_wmem_queued) >> 1) > READ_ONCE(sk->sk_sndbuf) &&
	    skb != skb_peek(&sk->sk_write_queue))
		return -ENOBUFS;
	return etcp_fragment(sk, skb, len);
}

/*
 * Drop the first @len bytes of the head skb, which the peer acknowledged
 * (a partial ACK), so that a retransmission starts at SND.UNA.  The data
 * lives in page fragments only.
 */
int etcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len)
{
	struct skb_shared_info *shinfo;
	int i, k = 0;
	u32 eat = len;

	if (etcp_unclone(skb))
		return -ENOMEM;
	shinfo = skb_shinfo(skb);
	for (i = 0; i < shinfo->nr_frags; i++) {
		u32 size = skb_frag_size(&shinfo->frags[i]);

		if (size <= eat) {
			/* Our own page_frag pages, never a page pool's. */
			put_page(skb_frag_page(&shinfo->frags[i]));
			eat -= size;
			continue;
		}
		shinfo->frags[k] = shinfo->frags[i];
		if (eat) {
			skb_frag_off_add(&shinfo->frags[k], eat);
			skb_frag_size_sub(&shinfo->frags[k], eat);
			eat = 0;
		}
		k++;
	}
	shinfo->nr_frags = k;
	skb->len -= len;
	skb->data_len -= len;
	ETCP_SKB_CB(skb)->seq += len;
	return 0;
}

/*
 * Segments in flight as the congestion window counts them.  Before fast
 * recovery each duplicate ACK says a segment left the network, and RFC
 * 3042 limited transmit lets a new one go for each of the first two: as
 * Linux does it, by counting them out of the flight.
 */
u32 etcp_in_flight(const struct etcp_sock *esk)
{
	u32 left;

	/* With SACK, RFC 6675's pipe (sack.c); limited transmit is in it. */
	if (esk->sack_ok) {
		left = esk->sacked_out + esk->lost_out;
		left = left > esk->packets_out ? 0 : esk->packets_out - left;
		return left + esk->retrans_out;
	}
	if (esk->ca_state != ETCP_CA_OPEN)
		return esk->packets_out;
	return esk->packets_out - min_t(u32, esk->dupacks, esk->packets_out);
}

/*
 * @skb, in flight, again as it stands: one segment, or a super-segment of
 * its segments.  Returns 0 when it went.
 */
static int etcp_transmit_again(struct sock *sk, struct sk_buff *skb)
{
	if (skb->len <= etcp_sk(sk)->snd_mss)
		return etcp_transmit_data(sk, skb);
	return etcp_transmit_gso(sk, skb, 1);
}

/*
 * RFC 6675 NextSeg() rule 1: in fast recovery, what the SACK scoreboard
 * says is lost goes again, oldest first, before any new data, as the
 * congestion window's room over the pipe allows (@force: the first one
 * whatever the room, RFC 6675 5 (4.3)).  Each such skb is marked rtx, so
 * that it is resent once per recovery.
 */
void etcp_xmit_lost(struct sock *sk, bool force)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb, *head = skb_peek(&sk->sk_write_queue);
	bool rearm = false;
	u32 room;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		if (skb == esk->send_head)
			break;
		if (!cb->lost || cb->rtx)
			continue;
		room = force ? 1 : esk->snd_cwnd -
			min(etcp_in_flight(esk), esk->snd_cwnd);
		if (!room)
			break;
		force = false;
		if (cb->segs > room &&
		    etcp_fragment_in_flight(sk, skb, room * cb->seg_size))
			break;
		if (etcp_transmit_again(sk, skb))
			break;
		cb->rtx = 1;
		esk->retrans_out += cb->segs;
		rearm |= skb == head;
	}
	/* As a resent head restarts it (etcp_retransmit_head()). */
	if (rearm)
		etcp_rearm_rtx(sk);
}

/*
 * Send what the peer's window, the congestion window and Nagle allow,
 * from the send head on.  A segment that does not fit the peer's window
 * waits; when nothing is in flight the persist timer probes the window
 * (RFC 9293 3.8.6.1).
 */
void etcp_write_xmit(struct sock *sk, enum etcp_xmit how)
{
	struct etcp_sock *esk = etcp_sk(sk);
	bool sent = false;
	struct sk_buff *skb;
	u32 limit, n;

	/* Where data or our FIN may still be (re)sent. */
	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
	       TCPF_CLOSING | TCPF_LAST_ACK)))
		return;

	if (esk->sack_ok && esk->ca_state == ETCP_CA_RECOVERY)
		etcp_xmit_lost(sk, false);
	while ((skb = esk->send_head)) {
		if (etcp_in_flight(esk) >= esk->snd_cwnd)
			break;
		limit = etcp_xmit_limit(sk, skb, how);
		if (!limit ||
		    (skb->len > limit && etcp_fragment(sk, skb, limit)))
			break;
		n = etcp_gso_skbs(sk, skb, how);
		if (n == 1 && skb->len <= esk->snd_mss) {
			if (etcp_transmit_data(sk, skb))
				break;
			etcp_advance_send_head(sk, skb);
			sent = true;
			continue;
		}
		if (etcp_transmit_gso(sk, skb, n))
			break;
		while (n--)
			etcp_advance_send_head(sk, esk->send_head);
		sent = true;
	}
	/* New data out: the loss probe waits for its ACK (RFC 8985 7.2). */
	if (!sent || !etcp_schedule_loss_probe(sk, false))
		etcp_check_timer(sk);
}

/*
 * A tail loss probe's new data: one segment of the send head, which the
 * peer's window takes, whatever the congestion window says (Linux's
 * tcp_send_loss_probe()).  Returns 0 when it went.
 */
static int etcp_probe_new_data(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (skb->len > esk->snd_mss && etcp_fragment(sk, skb, esk->snd_mss))
		return -ENOMEM;
	if (etcp_transmit_data(sk, skb))
		return -ENOBUFS;
	etcp_advance_send_head(sk, skb);
	return 0;
}

/*
 * A tail loss probe's old data: the last segment in flight again, cut off
 * from the rest of its skb, so that the peer's SACK of it shows what
 * before it is missing.  Returns 0 when it went.
 */
static int etcp_probe_last_segment(struct sock *sk)
{
	struct sk_buff *skb = etcp_last_in_flight(sk);
	struct etcp_skb_cb *cb;

	if (!skb)
		return -ENOENT;
	cb = ETCP_SKB_CB(skb);
	if (cb->segs > 1) {
		if (etcp_fragment(sk, skb, (cb->segs - 1) * cb->seg_size))
			return -ENOMEM;
		skb = etcp_write_next(sk, skb);
	}
	return etcp_transmit_again(sk, skb) ? -ENOBUFS : 0;
}

/*
 * The loss probe timer expired (RFC 8985 7.3): no ACK for two round
 * trips.  Send new data if the peer's window takes it, else the last
 * segment again; one probe at a time, and the RTO runs from it.  What the
 * probe's ACK says is read in etcp_cong_tlp_ack() and sack.c.
 */
void etcp_send_loss_probe(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb = esk->send_head;

	if (esk->tlp_on || !esk->packets_out)
		goto rto;
	esk->tlp_retrans = !skb || !etcp_head_fits_wnd(esk, skb);
	if (esk->tlp_retrans ? etcp_probe_last_segment(sk) :
			       etcp_probe_new_data(sk, skb))
		goto rto;
	esk->tlp_on = 1;
	esk->tlp_sacked = 0;
	esk->tlp_dsacked = 0;
	esk->tlp_high_seq = esk->snd_nxt;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_LOSSPROBES);
	etcp_rearm_rtx(sk);
	return;
rto:
	etcp_arm_rto_left(sk);
}

/*
 * The first unacknowledged segment again: fast retransmit, a NewReno partial
 * ACK.  The retransmission timer starts over with it, as Linux restarts
 * it when it resends the head (tcp_xmit_retransmit_queue()): timed from
 * the first transmission, it would expire while the copy is on its way
 * and resend it once more.  Returns false when nothing is in flight.
 */
bool etcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);
	u32 mss = etcp_sk(sk)->snd_mss;

	if (!skb || skb == etcp_sk(sk)->send_head)
		return false;
	/* One segment: the first of a super-segment's skb. */
	if (skb->len > mss && etcp_fragment(sk, skb, mss))
		return false;
	if (etcp_transmit_data(sk, skb))
		return false;
	etcp_rearm_rtx(sk);
	return true;
}

/*
 * The path MTU fell below the size of segments in flight (icmp.c, RFC
 * 1191): the router that said so dropped one of them, and those of the
 * same size behind it went the same way.  Rather than wait for the
 * retransmission timeout, go back to the first segment larger than the
 * new MSS and send on from there, in segments of the new size
 * (Linux: tcp_simple_retransmit()).  The congestion window
 * stays: it counts segments, which are only smaller now, and nothing says
 * the network is congested.  But the resent data draws duplicate ACKs,
 * which must not start a fast recovery: the connection is in LOSS until
 * SND.MAX is acknowledged, unless a recovery is running already.
 */
void etcp_simple_retransmit(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);
	u32 in_flight = 0;

	while (skb && skb != esk->send_head &&
	       min_t(u32, skb->len, ETCP_SKB_CB(skb)->seg_size) <=
	       esk->snd_mss) {
		in_flight += ETCP_SKB_CB(skb)->segs;
		skb = etcp_write_next(sk, skb);
	}
	/* Nothing in flight is too large: what waits is cut when it goes. */
	if (!skb || skb == esk->send_head)
		return;

	esk->send_head = skb;
	esk->snd_nxt = ETCP_SKB_CB(skb)->seq;
	esk->packets_out = in_flight;
	/* What the scoreboard knew of the resent part is void. */
	etcp_sack_clear(sk);
	if (esk->ca_state == ETCP_CA_OPEN) {
		esk->recover = esk->snd_max;
		esk->ca_state = ETCP_CA_LOSS;
		esk->dupacks = 0;
	}
	etcp_write_xmit(sk, ETCP_XMIT_PUSH);
}

/*
 * The persist timer expired with data waiting and nothing in flight: the
 * peer's window closed, or a short segment was corked.  If the window has
 * room for part of the next segment, that part goes (as Linux's
 * tcp_write_wakeup()); with the window closed, a zero-window probe asks
 * for it (RFC 9293 3.8.6.1).
 */
void etcp_probe_window(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb = esk->send_head;
	s32 room;

	if (!skb)
		return;
	room = min_t(s32, etcp_wnd_end(esk) - ETCP_SKB_CB(skb)->seq,
		     esk->snd_mss);
	if (room > 0) {
		/*
		 * With PSH, the rest too if it is cut (as Linux's
		 * tcp_write_wakeup()): the peer is to have it at once.
		 */
		ETCP_SKB_CB(skb)->flags |= ETCP_FLAG_PSH;
		if (skb->len > room && etcp_fragment(sk, skb, room))
			return;
		ETCP_SKB_CB(skb)->flags |= ETCP_FLAG_PSH;
		if (!etcp_transmit_data(sk, skb))
			etcp_advance_send_head(sk, skb);
		return;
	}
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ZEROWINDOWPROBES);
	etcp_send_probe(sk);
}

/*
 * Queue our FIN behind all data (RFC 9293 3.10.4, CLOSE call): it rides on
 * the last data segment if that has not left yet, as Linux sends it, or
 * goes alone.  It takes one sequence number; the write queue keeps it
 * until it is acknowledged, so it is retransmitted as data is.  In process
 * context (@gfp may sleep) it cannot fail; from softirq it may, and
 * returns false.
 */
bool etcp_send_fin(struct sock *sk, gfp_t gfp)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct etcp_skb_cb *cb;

	if (!skb || etcp_before(ETCP_SKB_CB(skb)->seq, esk->snd_max)) {
		/* The FIN must be sent whatever the memory, where it can wait. */
		if (gfpflags_allow_blocking(gfp))
			gfp |= __GFP_NOFAIL;
		skb = etcp_write_new(sk, gfp);
		if (!skb)
			return false;
	}
	cb = ETCP_SKB_CB(skb);
	cb->flags |= ETCP_FLAG_FIN;
	cb->end_seq++;
	WRITE_ONCE(esk->write_seq, esk->write_seq + 1);
	etcp_write_xmit(sk, ETCP_XMIT_PUSH);
	return true;
}

/*
 * Route @dst is @sk's from now on; what it takes of ours (sk_route_caps):
 * super-segments of the family's type (offload.c) or none.
 */
void etcp_setup_caps(struct sock *sk, struct dst_entry *dst)
{
	sk->sk_gso_type = etcp_sk(sk)->af->gso_type;
	sk_setup_caps(sk, dst);
}

/* Raw sockets only for their IP settings; they never receive. */
int etcp_ctl_sock_init(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	int err;

	err = inet_ctl_sock_create(&en->ctl_sk, PF_INET, SOCK_RAW,
				   etcp_proto_num, net);
	if (err)
		return err;
	err = inet_ctl_sock_create(&en->ctl_sk6, PF_INET6, SOCK_RAW,
				   etcp_proto_num, net);
	if (err)
		inet_ctl_sock_destroy(en->ctl_sk);
	return err;
}

void etcp_ctl_sock_exit(struct net *net)
{
	inet_ctl_sock_destroy(etcp_pernet(net)->ctl_sk6);
	inet_ctl_sock_destroy(etcp_pernet(net)->ctl_sk);
}
