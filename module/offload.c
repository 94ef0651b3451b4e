// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: cutting the super-segments output.c sends (GSO) into segments,
 * where a device cannot take them whole.
 *
 * A super-segment is one skb carrying up to 64 KiB of data for several
 * segments of one MSS (gso_size) behind a single header, its checksum
 * left partial (CHECKSUM_PARTIAL: the pseudo-header's sum in the check
 * field).  It crosses IP and a veth once instead of once per segment, and
 * the peer takes it in one piece.  Two rules keep it from ever reaching
 * something that would treat it as TCP:
 *
 *  - Its gso_type is TCP's (SKB_GSO_TCPV4 or TCPV6, so that the core's
 *    header-length and MTU arithmetic, skb_gso_transport_seglen(), reads
 *    our TCP-format header right) together with SKB_GSO_SCTP.  A device
 *    keeps a GSO skb whole only if it has the feature of every bit
 *    (net_gso_ok()), and NETIF_F_GSO_SCTP is a software feature: veth,
 *    loopback, bridges and bonds have it, no NIC driver does.  So a NIC's
 *    TSO, which would segment it as protocol 6, never sees it: the core
 *    segments it in software first (validate_xmit_skb()), through the
 *    offload registered below for our protocol number, also when it was
 *    forwarded by a router from a veth that took it whole.
 *
 *  - The segments keep a partial checksum only for a device that can
 *    checksum any protocol from csum_start (NETIF_F_HW_CSUM).  A device
 *    that offloads only TCP's and UDP's checksums (NETIF_F_IP_CSUM,
 *    NETIF_F_IPV6_CSUM) would find the check field where TCP has it and
 *    be trusted with it by skb_segment(); it gets complete checksums.
 *
 * Everything else, the split of the data and of the IP header, is the
 * core's (skb_segment(), inet_gso_segment(), ipv6_gso_segment()).
 */
#include <linux/skbuff.h>
#include <net/protocol.h>
#include <net/tcp.h>

#include "etcp.h"
#include "compat.h"

/*
 * The pseudo-header's sum in @check counted @oldlen bytes from the etcp
 * header on; make it count @newlen (RFC 9293 3.1: the length is one of
 * its words, so the difference is all that changes).
 */
static __sum16 etcp_gso_pseudo_len(__sum16 check, u32 oldlen, u32 newlen)
{
	__wsum sum = csum_unfold(check);

	sum = csum_sub(sum, (__force __wsum)htonl(oldlen));
	sum = csum_add(sum, (__force __wsum)htonl(newlen));
	return ~csum_fold(sum);
}

/* Fill in @seg's header: its sequence number, flags and checksum. */
static void etcp_gso_fix_segment(struct sk_buff *seg, u32 seq,
				 __sum16 check, u32 oldlen, bool first)
{
	struct tcphdr *th = tcp_hdr(seg);
	__wsum res;

	th->seq = htonl(seq);
	/* FIN and PSH belong to the last segment, CWR to the first. */
	if (seg->next) {
		th->fin = 0;
		th->psh = 0;
	}
	if (!first)
		th->cwr = 0;
	th->check = etcp_gso_pseudo_len(check, oldlen,
					seg->len - skb_transport_offset(seg));
	/* For an outer checksum (a tunnel's), what is left to sum. */
	res = ~csum_unfold(th->check);
	if (seg->ip_summed == CHECKSUM_PARTIAL)
		gso_reset_checksum(seg, res);
	else
		th->check = gso_make_checksum(seg, res);
}

/*
 * The send buffer's charge (skb_set_owner_w()) of super-segment @gso_skb,
 * which skb_segment() moved whole onto the last of @segs: each segment
 * carries its own size instead.  Left on the last, that segment would
 * count as a whole super-segment in a receiver's buffer across a veth,
 * and a receiver with a small buffer would drop it.
 */
static void etcp_gso_charge(struct sk_buff *gso_skb, struct sk_buff *segs)
{
	struct sk_buff *tail = segs->prev, *seg;
	struct sock *sk = tail->sk;
	long delta;

	if (tail->destructor != sock_wfree)
		return;
	delta = -(long)tail->truesize;
	/* skb_segment() swapped the two sizes too. */
	tail->truesize = gso_skb->truesize;
	for (seg = segs; seg; seg = seg->next) {
		if (seg != tail) {
			seg->sk = sk;
			seg->destructor = sock_wfree;
		}
		delta += seg->truesize;
	}
	if (delta > 0)
		refcount_add(delta, &sk->sk_wmem_alloc);
	else if (delta < 0)
		WARN_ON_ONCE(refcount_sub_and_test(-delta, &sk->sk_wmem_alloc));
}

/*
 * net_offload's gso_segment for our protocol number, over IPv4 and IPv6:
 * @skb's data starts at the etcp header; the IP header is set up by the
 * caller, which fixes the segments' IP headers after us.
 */
static struct sk_buff *etcp_gso_segment(struct sk_buff *skb,
					netdev_features_t features)
{
	struct sk_buff *segs, *seg;
	u32 seq, oldlen, thlen;
	struct tcphdr *th;
	__sum16 check;

	if (!(skb_shinfo(skb)->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6)) ||
	    skb->ip_summed != CHECKSUM_PARTIAL ||
	    !pskb_may_pull(skb, sizeof(*th)))
		return ERR_PTR(-EINVAL);
	th = tcp_hdr(skb);
	thlen = th->doff * 4;
	if (thlen < sizeof(*th) ||
	    skb_checksum_start(skb) != skb_transport_header(skb) ||
	    !pskb_may_pull(skb, thlen))
		return ERR_PTR(-EINVAL);

	th = tcp_hdr(skb);
	seq = ntohl(th->seq);
	check = th->check;
	oldlen = skb->len;
	__skb_pull(skb, thlen);
	if (skb->len <= skb_shinfo(skb)->gso_size)
		return ERR_PTR(-EINVAL);

	/* From a guest or a tap (SKB_GSO_DODGY): the device may take it. */
	if (skb_gso_ok(skb, features | NETIF_F_GSO_ROBUST)) {
		skb_shinfo(skb)->gso_segs =
			DIV_ROUND_UP(skb->len, skb_shinfo(skb)->gso_size);
		return NULL;
	}

	/* Partial checksums only where any protocol's can be completed. */
	if (!(features & NETIF_F_HW_CSUM))
		features &= ~NETIF_F_CSUM_MASK;
	segs = skb_segment(skb, features);
	if (IS_ERR(segs))
		return segs;
	etcp_gso_charge(skb, segs);

	for (seg = segs; seg; seg = seg->next) {
		etcp_gso_fix_segment(seg, seq, check, oldlen, seg == segs);
		seq += seg->len - skb_transport_offset(seg) - thlen;
	}
	return segs;
}

static const struct net_offload etcp_offload = {
	.callbacks = {
		.gso_segment	= etcp_gso_segment,
	},
};

int etcp_offload_init(void)
{
	if (inet_add_offload(&etcp_offload, etcp_proto_num))
		return -EBUSY;
	if (inet6_add_offload(&etcp_offload, etcp_proto_num)) {
		inet_del_offload(&etcp_offload, etcp_proto_num);
		return -EBUSY;
	}
	return 0;
}

/*
 * After the protocol handlers are gone: a super-segment still in a queue
 * then finds no offload and is dropped, as one of an unknown protocol.
 */
void etcp_offload_exit(void)
{
	inet6_del_offload(&etcp_offload, etcp_proto_num);
	inet_del_offload(&etcp_offload, etcp_proto_num);
}
