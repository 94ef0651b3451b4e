// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: ICMP errors about the segments we sent.
 *
 * IP hands every ICMP error that quotes an etcp datagram to etcp_v4_err(),
 * IPv6 every ICMPv6 error to etcp_v6_err(), in softirq, with skb->data at
 * the quoted IP header.  The header is followed by at least the first 8
 * bytes of ours (RFC 792, RFC 4443 2.4; ICMP checks that much is there):
 * the ports, which find the connection, and the sequence number, which
 * says whether the error can be about anything we sent.  What is done
 * with it follows RFC 1122 4.2.3.9, RFC 9293 3.9.2.2 and RFC 5927, as
 * Linux's TCP does it (ICMPv6's packet too big is fragmentation needed,
 * destination unreachable, time exceeded and parameter problem are the
 * errors icmpv6_err_convert() says):
 *
 *   fragmentation needed  path MTU discovery (RFC 1191): the route's PMTU
 *                         falls, the MSS with it, and what no longer fits
 *                         is sent again at once, in smaller segments
 *   other unreachables,   while connecting: connect() fails at once with
 *   time exceeded,        the error; on a synchronized connection only a
 *   parameter problem     soft error (RFC 5927 5.2), reported if the
 *                         connection later times out, and to IP_RECVERR
 *   source quench         ignored (RFC 6633)
 *   redirect              the socket's route follows it
 *
 * An error quoting a sequence number that is not in flight is forged or
 * stale and changes nothing (RFC 5927 4.1); OutOfWindowIcmps counts them.
 * A TIME_WAIT entry ignores every error.  A request in SYN_RECV whose
 * SYN-ACK a host or network unreachable (or time exceeded, or parameter
 * problem) quotes is dropped, silently: there is nobody to report to yet.
 */
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <net/icmp.h>
#include <net/ndisc.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"

/*
 * The MSS that fits a path MTU (RFC 9293 3.7.1) under an IP header of
 * @nethdr bytes, at least Linux's 48.
 */
static u16 etcp_mss_for_pmtu(u32 mtu, unsigned int nethdr)
{
	u32 hdrs = nethdr + sizeof(struct tcphdr);
	u32 mss = mtu > hdrs ? mtu - hdrs : 0;

	return clamp_t(u32, mss, ETCP_MIN_SND_MSS, ETCP_MAX_MSS);
}

/*
 * Take @mtu as the path MTU: the peer's MSS, as we use it, is bounded by
 * what fits.  Returns true when that made it smaller.
 */
static bool etcp_clamp_to_pmtu(struct sock *sk, u32 mtu)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u16 mss = etcp_mss_for_pmtu(mtu, esk->af->net_header_len);

	esk->pmtu = mtu;
	if (mss >= esk->mss_clamp)
		return false;
	esk->mss_clamp = mss;
	return true;
}

/*
 * A connection becomes synchronized: its path MTU is its route's.  An
 * ICMP may have lowered that since connect(), and the MSS option of the
 * peer's SYN knows nothing of it.  Socket locked.
 */
void etcp_pmtu_init(struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_get(sk);

	if (dst)
		etcp_clamp_to_pmtu(sk, dst_mtu(dst));
	else
		etcp_sk(sk)->pmtu = 0;
}

/*
 * The socket's route, made again if a change of the path (a PMTU, a
 * redirect) left the cached one stale, as ip_queue_xmit() would before
 * the next segment.  NULL if there is no route.
 */
struct dst_entry *etcp_v4_route(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst = __sk_dst_check(sk, 0);
	const struct ip_options_rcu *opt;
	__be32 daddr = inet->inet_daddr;
	struct rtable *rt;

	if (dst)
		return dst;
	/* With a source route the first hop is the address routed to. */
	rcu_read_lock();
	opt = rcu_dereference(inet->inet_opt);
	if (opt && opt->opt.srr)
		daddr = opt->opt.faddr;
	rcu_read_unlock();
	rt = ip_route_output_ports(sock_net(sk), &inet->cork.fl.u.ip4, sk,
				   daddr, inet->inet_saddr, inet->inet_dport,
				   inet->inet_sport, etcp_proto_num,
				   etcp_compat_rt_conn_tos(sk),
				   sk->sk_bound_dev_if);
	if (IS_ERR(rt))
		return NULL;
	etcp_setup_caps(sk, &rt->dst);
	return &rt->dst;
}

/*
 * "Fragmentation needed" for a segment of ours (RFC 1191): the route
 * learns the smaller MTU, the MSS follows, and the segments in flight
 * that no longer fit, which the router dropped, are sent again at once
 * in smaller pieces rather than after a retransmission timeout.  The
 * route's own rules apply: it may refuse to go below ip_rt_min_pmtu (and
 * then stops setting DF), so the MSS comes from the MTU it settled on.
 * Runs in softirq, or from release_sock() if the user held the socket.
 */
void etcp_mtu_reduced(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 mtu = READ_ONCE(esk->mtu_info);
	struct dst_entry *dst;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	dst = esk->af->route(sk);
	if (!dst)
		return;
	dst->ops->update_pmtu(dst, sk, NULL, mtu, true);
	/* The update made the cached route stale: the new one has the MTU. */
	dst = esk->af->route(sk);
	if (!dst)
		return;

	/*
	 * The route would not go as low as asked and segments still leave
	 * with DF: should the connection die, this is the likely reason.
	 */
	if (mtu < dst_mtu(dst) &&
	    (etcp_sk_v6_wire(sk) || ip_dont_fragment(sk, dst)))
		WRITE_ONCE(sk->sk_err_soft, EMSGSIZE);

	/* IP_MTU_DISCOVER may ask to ignore what the path says. */
	if (!esk->af->accept_pmtu(sk))
		return;
	if (!etcp_clamp_to_pmtu(sk, dst_mtu(dst)))
		return;
	etcp_sync_mss(sk);
	etcp_simple_retransmit(sk);
}

/*
 * IP_RECVERR (IPV6_RECVERR for an ICMPv6 error): the application asked
 * to see the ICMP errors themselves (RFC 1122 4.2.3.9 "MUST be passed to
 * the application layer"), on the socket's error queue, where
 * recvmsg(MSG_ERRQUEUE) finds them.  The entry is the one
 * ip_recv_error() and ipv6_recv_error() read for UDP and TCP (Linux's
 * ip_icmp_error() and ipv6_icmp_error() make it, but 6.1 exports
 * neither): the errno, the ICMP type and code, @info (the MTU of a
 * "fragmentation needed" or "packet too big"), the offender as the quoted
 * destination, and our quoted header as payload.  skb->data is at the
 * quoted IP header, the network header is the error's own.
 */
static void etcp_icmp_queue_error(struct sock *sk, struct sk_buff *skb,
				  int err, u32 info, const struct tcphdr *th)
{
	bool v6 = etcp_skb_v6(skb);
	struct sock_exterr_skb *serr;
	struct sk_buff *clone;
	const u8 *offender;

	if (!etcp_compat_recverr(sk, v6))
		return;
	clone = skb_clone(skb, GFP_ATOMIC);
	if (!clone)
		return;

	/* IP's control block stays: the readers take options from it. */
	serr = SKB_EXT_ERR(clone);
	memset(&serr->ee, 0, sizeof(serr->ee));
	serr->opt_stats = 0;
	serr->ee.ee_errno = err;
	if (v6) {
		serr->ee.ee_origin = SO_EE_ORIGIN_ICMP6;
		serr->ee.ee_type = icmp6_hdr(skb)->icmp6_type;
		serr->ee.ee_code = icmp6_hdr(skb)->icmp6_code;
		offender = (const u8 *)&((const struct ipv6hdr *)skb->data)->daddr;
	} else {
		serr->ee.ee_origin = SO_EE_ORIGIN_ICMP;
		serr->ee.ee_type = icmp_hdr(skb)->type;
		serr->ee.ee_code = icmp_hdr(skb)->code;
		offender = (const u8 *)&((const struct iphdr *)skb->data)->daddr;
	}
	serr->ee.ee_info = info;
	serr->addr_offset = offender - skb_network_header(skb);
	serr->port = th->dest;

	__skb_pull(clone, (const u8 *)th - skb->data);
	skb_reset_transport_header(clone);
	if (sock_queue_err_skb(sk, clone))
		kfree_skb(clone);
}

/*
 * RFC 5927 4.1: an error about a segment of ours quotes a sequence number
 * we sent and the peer has not acknowledged, SND.UNA =< SEG.SEQ =< SND.NXT
 * (the end included, as Linux: a pure ACK, or the SYN once the handshake
 * moved on, may be what is quoted).  SND.NXT is the highest sent, which
 * etcp keeps in snd_max, as its snd_nxt moves back on a go-back-N.  A
 * blind attacker must guess a number in the window to be heard at all.
 */
static bool etcp_icmp_seq_ok(const struct etcp_sock *esk, u32 seq)
{
	return !etcp_before(seq, esk->snd_una) &&
	       !etcp_after(seq, esk->snd_max);
}

/*
 * The error an ICMP message stands for, RFC 1122 4.2.3.9's soft and hard
 * ones alike, as -errno, or 0 when it asks for something else or for
 * nothing.
 */
static int etcp_icmp_errno(int type, int code)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code > NR_ICMP_UNREACH)
			return 0;
		return -icmp_err_convert[code].errno;
	case ICMP_TIME_EXCEEDED:
		return -EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		return -EPROTO;
	default:
		/* Source quench: RFC 6633 says ignore it; unknown types too. */
		return 0;
	}
}

/* "Fragmentation needed": now, or once the user releases the socket. */
static void etcp_icmp_frag_needed(struct sock *sk, u32 mtu)
{
	struct etcp_sock *esk = etcp_sk(sk);

	WRITE_ONCE(esk->mtu_info, mtu);
	if (!sock_owned_by_user(sk))
		etcp_mtu_reduced(sk);
	else if (!test_and_set_bit(ETCP_MTU_REDUCED_DEFERRED, &esk->deferred))
		sock_hold(sk);	/* etcp_release_cb() drops it */
}

/*
 * What an ICMP or ICMPv6 error asks of the connection it quotes: the
 * families' types decoded once (etcp_v4_err(), etcp_v6_err()).
 */
struct etcp_icmp {
	int err;		/* the error it stands for, 0: none */
	u32 mtu;		/* fragmentation needed, packet too big: MTU */
	bool redirect;
	bool req_abort;		/* a request in SYN_RECV it quotes goes */
	u32 info;		/* ICMP's own field, for IP_RECVERR */
};

/* An error for a full socket, which the caller holds, unlocked. */
static void etcp_icmp_sock_err(struct sock *sk, struct sk_buff *skb,
			       const struct etcp_icmp *e,
			       const struct tcphdr *th)
{
	struct etcp_sock *esk = etcp_sk(sk);
	int err;

	bh_lock_sock(sk);
	if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
		goto out;
	if (!etcp_icmp_seq_ok(esk, ntohl(th->seq))) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_OUTOFWINDOWICMPS);
		goto out;
	}

	if (e->redirect) {
		struct dst_entry *dst;

		/* The route belongs to the user while the user holds it. */
		if (sock_owned_by_user(sk))
			goto out;
		dst = __sk_dst_check(sk, 0);
		if (dst)
			dst->ops->redirect(dst, sk, skb);
		goto out;
	}
	if (e->mtu) {
		etcp_icmp_frag_needed(sk, e->mtu);
		goto out;
	}
	err = e->err;
	if (!err)
		goto out;

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		/*
		 * Connecting (SYN_RECV: after a simultaneous open): nothing
		 * was synchronized that patience could save, and the user
		 * waits in connect().  RFC 1122 counts host and network
		 * unreachable as soft errors, but giving up on the first
		 * is what Linux does, and connect() learns why at once
		 * instead of after etcp_syn_retries.  If the user holds the
		 * socket, its state is the user's: the error waits for a
		 * timeout like a soft one.
		 */
		etcp_icmp_queue_error(sk, skb, err, e->info, th);
		if (sock_owned_by_user(sk)) {
			WRITE_ONCE(sk->sk_err_soft, err);
		} else {
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
			etcp_reset(sk, err);
		}
		goto out;
	}

	/*
	 * Synchronized: RFC 5927 5.2 (and RFC 9293 3.9.2.2 for the soft
	 * codes) has even the hard errors only noted, as a forged ICMP must
	 * not be able to reset a connection; the timers abort it if the
	 * peer really is gone, and report this error then.  An application
	 * that asked for IP_RECVERR is told now, as Linux's TCP tells it,
	 * and the connection goes on.
	 */
	if (!sock_owned_by_user(sk) &&
	    etcp_compat_recverr(sk, etcp_skb_v6(skb))) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
}

/*
 * An error quoting the SYN-ACK of a request on @listener's SYN queue.  A
 * sequence number other than the request's ISS cannot be ours (RFC 5927
 * 4.1).  An error saying that the peer cannot be reached ends the
 * request silently, as Linux's tcp_req_err() does: no accept() is owed
 * an error, and a real peer's SYN timer tries again.  The SYN queue
 * belongs to whoever holds the listener's lock: held by the user, the
 * error is lost, as TCP loses those it cannot take.
 */
static void etcp_icmp_req_err(struct sock *listener,
			      const struct in6_addr *saddr,
			      const struct in6_addr *daddr,
			      const struct tcphdr *th, bool abort)
{
	struct etcp_request *req;

	bh_lock_sock(listener);
	if (sock_owned_by_user(listener) || listener->sk_state != TCP_LISTEN)
		goto out;
	req = etcp_req_lookup(listener, saddr, th->source, daddr, th->dest);
	if (!req)
		goto out;
	if (ntohl(th->seq) != req->iss)
		ETCP_INC_STATS(sock_net(listener), ETCP_MIB_OUTOFWINDOWICMPS);
	else if (abort)
		etcp_req_drop(listener, req);
out:
	bh_unlock_sock(listener);
}

/*
 * An error quoting a segment we sent from @saddr to @daddr (v4-mapped for
 * IPv4), in softirq.  Returns 0, or -ENOENT when no connection sent it.
 */
static int etcp_icmp_rcv(struct sk_buff *skb, const struct in6_addr *saddr,
			 const struct in6_addr *daddr, const struct tcphdr *th,
			 const struct etcp_icmp *e)
{
	struct net *net = dev_net(skb->dev);
	int dif = etcp_skb_iif(skb);
	struct etcp_tw *tw;
	struct sock *sk;

	/* We sent it: its source is us, its destination the peer. */
	sk = etcp_lookup_established(net, daddr, th->dest, saddr, th->source,
				     dif);
	if (sk) {
		etcp_icmp_sock_err(sk, skb, e, th);
		sock_put(sk);
		return 0;
	}

	/*
	 * A TIME_WAIT entry sends only ACKs of what the peer already has:
	 * nothing an error could be news about (Linux ignores these too).
	 */
	tw = etcp_tw_lookup(net, daddr, th->dest, saddr, th->source, dif);
	if (tw) {
		etcp_tw_put(tw);
		return 0;
	}

	sk = etcp_lookup_listener(net, daddr, th->dest, saddr, th->source, dif);
	if (!sk)
		return -ENOENT;
	etcp_icmp_req_err(sk, saddr, daddr, th, e->req_abort);
	sock_put(sk);
	return 0;
}

/*
 * net_protocol->err_handler, from icmp_unreach() and friends in softirq.
 * @info is the MTU for "fragmentation needed", else ICMP's other field.
 */
int etcp_v4_err(struct sk_buff *skb, u32 info)
{
	const struct icmphdr *icmph = icmp_hdr(skb);
	struct etcp_icmp e = { .info = info };
	struct in6_addr saddr, daddr;
	const struct iphdr *iph;
	const struct tcphdr *th;

	/* The quoted IP header and the 8 bytes of ours we read. */
	iph = (const struct iphdr *)skb->data;
	if (iph->ihl < 5 || !pskb_may_pull(skb, iph->ihl * 4 + 8))
		return -EINVAL;
	iph = (const struct iphdr *)skb->data;
	th = (const struct tcphdr *)(skb->data + iph->ihl * 4);

	if (icmph->type == ICMP_REDIRECT)
		e.redirect = true;
	else if (icmph->type == ICMP_DEST_UNREACH &&
		 icmph->code == ICMP_FRAG_NEEDED)
		e.mtu = info;
	else
		e.err = -etcp_icmp_errno(icmph->type, icmph->code);
	e.req_abort = icmph->type == ICMP_TIME_EXCEEDED ||
		      icmph->type == ICMP_PARAMETERPROB ||
		      (icmph->type == ICMP_DEST_UNREACH &&
		       (icmph->code == ICMP_NET_UNREACH ||
			icmph->code == ICMP_HOST_UNREACH));

	ipv6_addr_set_v4mapped(iph->saddr, &saddr);
	ipv6_addr_set_v4mapped(iph->daddr, &daddr);
	return etcp_icmp_rcv(skb, &saddr, &daddr, th, &e);
}

/*
 * inet6_protocol->err_handler, from icmpv6_notify() in softirq, with
 * skb->data at the quoted IPv6 header and ours at @offset, 8 bytes of it
 * pulled.  Packet too big is path MTU discovery (RFC 8201), below the
 * IPv6 minimum of 1280 ignored; a redirect moves the route; the others
 * are errors as icmpv6_err_convert() maps them, a fatal one ending a
 * request in SYN_RECV, as for TCP.
 */
int etcp_v6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		u8 code, int offset, __be32 info)
{
	const struct ipv6hdr *ip6h = (const struct ipv6hdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + offset);
	struct etcp_icmp e = { .info = ntohl(info) };

	if (type == ICMPV6_PKT_TOOBIG) {
		if (ntohl(info) < IPV6_MIN_MTU)
			return 0;
		e.mtu = ntohl(info);
	} else if (type == NDISC_REDIRECT) {
		e.redirect = true;
	} else {
		e.req_abort = icmpv6_err_convert(type, code, &e.err);
	}
	return etcp_icmp_rcv(skb, &ip6h->saddr, &ip6h->daddr, th, &e);
}
