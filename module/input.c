// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the receive path.  IP hands every protocol-253 datagram addressed
 * to this host to etcp_v4_rcv() in softirq context.
 *
 * The header is TCP's (RFC 9293 section 3.1), so struct tcphdr describes it.
 */
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <net/checksum.h>

#include "etcp.h"

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

int etcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);

	ETCP_INC_STATS(net, ETCP_MIB_INSEGS);

	if (skb->pkt_type != PACKET_HOST)
		goto drop;

	if (!etcp_pull_header(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INHDRERRORS);
		goto drop;
	}
	if (!etcp_checksum_ok(skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_INCSUMERRORS);
		goto drop;
	}

	/* No connection can exist yet: nothing listens, nothing connects. */
	ETCP_INC_STATS(net, ETCP_MIB_NOSOCKET);
drop:
	kfree_skb(skb);
	return 0;
}
