// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: building and sending segments.
 *
 * Every segment is built here on TCP's wire format (RFC 9293 section 3.1)
 * and checksummed in software: no device offloads checksums for protocol
 * 253, and a capture then shows the checksum the peer verifies.
 */
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"

/* The header fields of one segment. */
struct etcp_seg {
	__be16 sport, dport;
	u32 seq;
	u32 ack;		/* only sent when ETCP_FLAG_ACK is set */
	u8 flags;
	u16 window;
	u16 mss;		/* MSS option to carry, 0 for none */
};

static struct sk_buff *etcp_build(const struct etcp_seg *seg, gfp_t gfp)
{
	unsigned int optlen = seg->mss ? ETCP_OPTLEN_MSS : 0;
	unsigned int hdrlen = sizeof(struct tcphdr) + optlen;
	struct sk_buff *skb;
	struct tcphdr *th;
	u8 *opt;

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
	}
	return skb;
}

/* The checksum over the pseudo-header (with our protocol), header and data. */
static void etcp_checksum(struct sk_buff *skb, __be32 saddr, __be32 daddr)
{
	struct tcphdr *th = tcp_hdr(skb);
	__wsum csum;

	th->check = 0;
	csum = skb_checksum(skb, skb_transport_offset(skb), skb->len, 0);
	th->check = csum_tcpudp_magic(saddr, daddr, skb->len, etcp_proto_num,
				      csum);
	skb->ip_summed = CHECKSUM_NONE;
}

/*
 * The window we announce: what the receive buffer can still take, halved
 * for the per-skb overhead as Linux assumes by default, and without the
 * window scale option at most 65535 (RFC 9293 3.1).
 */
u16 etcp_select_window(const struct sock *sk)
{
	int space = READ_ONCE(sk->sk_rcvbuf) - atomic_read(&sk->sk_rmem_alloc);

	return min_t(int, max(space, 0) / 2, U16_MAX);
}

/* Send a segment with no data on a full socket, over its route. */
static void etcp_transmit(struct sock *sk, u8 flags, u32 seq, bool with_mss)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct etcp_seg seg = {
		.sport	= inet->inet_sport,
		.dport	= inet->inet_dport,
		.seq	= seq,
		.ack	= esk->rcv_nxt,
		.flags	= flags,
		.window	= etcp_select_window(sk),
		.mss	= with_mss ? esk->advmss : 0,
	};
	struct sk_buff *skb;

	skb = etcp_build(&seg, GFP_ATOMIC);
	if (!skb)
		return;
	esk->rcv_wnd = seg.window;
	skb_set_owner_w(skb, sk);
	etcp_checksum(skb, inet->inet_saddr, inet->inet_daddr);

	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTSEGS);
	if (flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTRSTS);
	ip_queue_xmit(sk, skb, &inet->cork.fl);
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

/* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
void etcp_send_ack(struct sock *sk)
{
	etcp_transmit(sk, ETCP_FLAG_ACK, etcp_sk(sk)->snd_nxt, false);
}

/*
 * An abort of a synchronized connection: <SEQ=SND.NXT><CTL=RST> (RFC 9293
 * 3.10.7.4, ABORT call).  The ACK rides along as Linux sends it.
 */
void etcp_send_active_reset(struct sock *sk)
{
	etcp_transmit(sk, ETCP_FLAG_RST | ETCP_FLAG_ACK,
		      etcp_sk(sk)->snd_nxt, false);
}

/*
 * The answer to a segment for no connection (RFC 9293 3.10.7.1): with an
 * ACK, <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN>
 * <CTL=RST,ACK>.  Never an RST for an RST.  Sent from the namespace's
 * control socket, as the segment has no socket of its own.
 */
void etcp_send_reset_reply(struct net *net, struct sk_buff *in)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(in);
	const struct tcphdr *th = tcp_hdr(in);
	const struct iphdr *iph = ip_hdr(in);
	struct sock *ctl_sk = etcp_pernet(net)->ctl_sk;
	struct etcp_seg seg = {
		.sport	= th->dest,
		.dport	= th->source,
	};
	struct sk_buff *skb;
	struct flowi4 fl4;
	struct rtable *rt;

	if (cb->flags & ETCP_FLAG_RST)
		return;
	/* Only for segments addressed to this host, not to a broadcast. */
	if (skb_rtable(in)->rt_type != RTN_LOCAL)
		return;

	if (cb->flags & ETCP_FLAG_ACK) {
		seg.seq = cb->ack_seq;
		seg.flags = ETCP_FLAG_RST;
	} else {
		seg.ack = cb->end_seq;
		seg.flags = ETCP_FLAG_RST | ETCP_FLAG_ACK;
	}

	rt = ip_route_output_ports(net, &fl4, NULL, iph->saddr, iph->daddr,
				   th->source, th->dest, etcp_proto_num,
				   RT_TOS(iph->tos), 0);
	if (IS_ERR(rt))
		return;

	skb = etcp_build(&seg, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	etcp_checksum(skb, iph->daddr, iph->saddr);
	skb_dst_set(skb, &rt->dst);

	ETCP_INC_STATS(net, ETCP_MIB_OUTSEGS);
	ETCP_INC_STATS(net, ETCP_MIB_OUTRSTS);
	ip_build_and_send_pkt(skb, ctl_sk, iph->daddr, iph->saddr, NULL,
			      RT_TOS(iph->tos));
}

/*
 * A segment for a request in SYN_RECV, sent on behalf of the listener,
 * which has no peer of its own: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> with
 * the MSS option, or after it <SEQ=ISS+1><ACK=RCV.NXT> with ACK or RST.
 */
int etcp_send_req_segment(const struct sock *listener,
			  const struct etcp_request *req, u8 flags)
{
	struct net *net = sock_net(listener);
	struct etcp_seg seg = {
		.sport	= req->lport,
		.dport	= req->rport,
		.seq	= req->iss,
		.ack	= req->irs + 1,
		.flags	= flags,
		.window	= etcp_select_window(listener),
	};
	struct sk_buff *skb;
	struct flowi4 fl4;
	struct rtable *rt;

	rt = ip_route_output_ports(net, &fl4, (struct sock *)listener,
				   req->raddr, req->laddr, req->rport,
				   req->lport, etcp_proto_num,
				   ip_sock_rt_tos(listener),
				   listener->sk_bound_dev_if);
	if (IS_ERR(rt))
		return PTR_ERR(rt);

	if (flags & ETCP_FLAG_SYN)
		seg.mss = etcp_mss_for_mtu(listener, dst_mtu(&rt->dst));
	else
		seg.seq++;
	if (flags & ETCP_FLAG_RST)
		seg.window = 0;

	skb = etcp_build(&seg, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return -ENOBUFS;
	}
	etcp_checksum(skb, req->laddr, req->raddr);
	skb_dst_set(skb, &rt->dst);

	ETCP_INC_STATS(net, ETCP_MIB_OUTSEGS);
	if (flags & ETCP_FLAG_RST)
		ETCP_INC_STATS(net, ETCP_MIB_OUTRSTS);
	return ip_build_and_send_pkt(skb, listener, req->laddr, req->raddr,
				     NULL, READ_ONCE(inet_sk(listener)->tos));
}

int etcp_ctl_sock_init(struct net *net)
{
	/* A raw socket only for its IP settings; it never receives. */
	return inet_ctl_sock_create(&etcp_pernet(net)->ctl_sk, PF_INET,
				    SOCK_RAW, etcp_proto_num, net);
}

void etcp_ctl_sock_exit(struct net *net)
{
	inet_ctl_sock_destroy(etcp_pernet(net)->ctl_sk);
}
