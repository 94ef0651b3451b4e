// SPDX-License-Identifier: GPL-2.0
/*
 * etcp over IPv6: AF_INET6 sockets, next header 253 in IPv6 (the same
 * header and checksum, over IPv6's pseudo-header, RFC 8200 8.1), and dual
 * stack as TCP has it: an AF_INET6 socket talks IPv4 to a v4-mapped
 * address (RFC 4291 2.5.5.2, RFC 3493 3.7), and one bound to :: takes
 * IPv4 connections too, unless IPV6_V6ONLY.
 *
 * Everything above the network layer is shared with IPv4: the tables key
 * every address as IPv6 (etcp_sk_addrs()), and a connection's segments
 * leave through its etcp_af_ops, IPv4's for a v4-mapped peer.  What is
 * here is what only IPv6 has: connect(), a child's IPv6 part, routes,
 * the receive entry and the registration.
 */
#include <linux/ipv6.h>
#include <net/addrconf.h>
#include <net/inet6_connection_sock.h>
#include <net/inet_common.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/transp_v6.h>

#include "etcp.h"
#include "compat.h"

static void etcp_v6_set_check(const struct sock *sk, struct sk_buff *skb,
			      __wsum csum)
{
	tcp_hdr(skb)->check = csum_ipv6_magic(&inet6_sk(sk)->saddr,
					      &sk->sk_v6_daddr, skb->len,
					      sk->sk_protocol, csum);
	skb->ip_summed = CHECKSUM_NONE;
}

/* The flow of @sk's connection, as inet6_csk_xmit() routes it. */
static void etcp_v6_flow(struct sock *sk, struct flowi6 *fl6)
{
	const struct ipv6_pinfo *np = inet6_sk(sk);

	memset(fl6, 0, sizeof(*fl6));
	fl6->flowi6_proto = sk->sk_protocol;
	fl6->daddr = sk->sk_v6_daddr;
	fl6->saddr = ipv6_addr_any(&np->saddr) ? sk->sk_v6_rcv_saddr :
						  np->saddr;
	fl6->flowlabel = np->flow_label;
	fl6->flowi6_oif = sk->sk_bound_dev_if;
	fl6->flowi6_mark = READ_ONCE(sk->sk_mark);
	fl6->fl6_sport = inet_sk(sk)->inet_sport;
	fl6->fl6_dport = inet_sk(sk)->inet_dport;
	fl6->flowi6_uid = sk->sk_uid;
	security_sk_classify_flow(sk, flowi6_to_flowi_common(fl6));
}

/*
 * Cache @dst, found for flow @fl6, as @sk's route: what inet6_csk_xmit()
 * checks (with the route's cookie) before it routes again, and the flow
 * it sends with on kernels that keep one (7.2: inet->cork).
 */
static void etcp_v6_dst_set(struct sock *sk, struct dst_entry *dst,
			    const struct flowi6 *fl6)
{
	struct rt6_info *rt = container_of(dst, struct rt6_info, dst);

	inet_sk(sk)->cork.fl.u.ip6 = *fl6;
	inet_sk(sk)->cork.fl.u.ip6.daddr = sk->sk_v6_daddr;
	inet6_sk(sk)->dst_cookie = rt6_get_cookie(rt);
	etcp_setup_caps(sk, dst);
}

void etcp_v6_dst_store(struct sock *sk, struct dst_entry *dst)
{
	struct flowi6 fl6;

	etcp_v6_flow(sk, &fl6);
	etcp_v6_dst_set(sk, dst, &fl6);
}

/* af_ops->route: the cached route while valid, else a new one. */
static struct dst_entry *etcp_v6_route(struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_check(sk, inet6_sk(sk)->dst_cookie);
	struct flowi6 fl6;

	if (dst)
		return dst;
	etcp_v6_flow(sk, &fl6);
	dst = ip6_dst_lookup_flow(sock_net(sk), sk, &fl6, NULL);
	if (IS_ERR(dst))
		return NULL;
	etcp_v6_dst_set(sk, dst, &fl6);
	return dst;
}

static bool etcp_v6_accept_pmtu(const struct sock *sk)
{
	return etcp_compat_v6_pmtudisc(sk) != IPV6_PMTUDISC_DONT &&
	       ip6_sk_accept_pmtu(sk);
}

const struct etcp_af_ops etcp_ipv6_ops = {
	.queue_xmit	= inet6_csk_xmit,
	.set_check	= etcp_v6_set_check,
	.route		= etcp_v6_route,
	.accept_pmtu	= etcp_v6_accept_pmtu,
	.net_header_len	= sizeof(struct ipv6hdr),
	/* 1280 - 60, as tcp_request_sock_ipv6_ops.mss_clamp */
	.default_mss	= IPV6_MIN_MTU - sizeof(struct ipv6hdr) - sizeof(struct tcphdr),
	.gso_type	= SKB_GSO_TCPV6 | SKB_GSO_SCTP,
};

/*
 * The route of a request's segments over IPv6, from @sk (the listener,
 * or the child being made): a link-local peer is reached on the
 * interface its SYN came in on.
 */
struct dst_entry *etcp_v6_route_req(const struct sock *sk,
				    const struct etcp_request *req,
				    struct flowi6 *fl6)
{
	memset(fl6, 0, sizeof(*fl6));
	fl6->flowi6_proto = etcp_proto_num;
	fl6->daddr = req->raddr;
	fl6->saddr = req->laddr;
	fl6->flowi6_oif = sk->sk_bound_dev_if;
	if (ipv6_addr_type(&req->raddr) & IPV6_ADDR_LINKLOCAL)
		fl6->flowi6_oif = req->iif;
	fl6->flowi6_mark = READ_ONCE(sk->sk_mark);
	fl6->fl6_dport = req->rport;
	fl6->fl6_sport = req->lport;
	fl6->flowi6_uid = sk->sk_uid;
	return ip6_dst_lookup_flow(sock_net(sk), sk, fl6, NULL);
}

/*
 * A child of an AF_INET6 listener: its own IPv6 part, a copy of the
 * listener's without what a connection must not share, and the request's
 * addresses.  A v4-mapped peer makes it talk IPv4, its IPv4 addresses
 * set as an AF_INET child's.
 */
void etcp_v6_child_init(struct sock *child, const struct sock *listener,
			const struct etcp_request *req)
{
	struct ipv6_pinfo *np = &((struct etcp6_sock *)child)->inet6;
	struct inet_sock *inet = inet_sk(child);

	inet->pinet6 = np;
	memcpy(np, inet6_sk(listener), sizeof(*np));
	RCU_INIT_POINTER(np->ipv6_mc_list, NULL);
	np->ipv6_ac_list = NULL;
	etcp_compat_clear_fl_list(child);
	np->pktoptions = NULL;
	np->rxpmtu = NULL;
	RCU_INIT_POINTER(np->opt, NULL);

	child->sk_v6_daddr = req->raddr;
	child->sk_v6_rcv_saddr = req->laddr;
	np->saddr = req->laddr;
	if (ipv6_addr_v4mapped(&req->raddr)) {
		inet->inet_daddr = req->raddr.s6_addr32[3];
		inet->inet_rcv_saddr = req->laddr.s6_addr32[3];
		inet->inet_saddr = req->laddr.s6_addr32[3];
		etcp_sk(child)->af = &etcp_ipv4_ops;
		return;
	}
	/* As TCP: no IPv4 address an IPv4 segment could match. */
	inet->inet_daddr = LOOPBACK4_IPV6;
	inet->inet_rcv_saddr = LOOPBACK4_IPV6;
	inet->inet_saddr = LOOPBACK4_IPV6;
	etcp_sk(child)->af = &etcp_ipv6_ops;
	if (ipv6_addr_type(&req->raddr) & IPV6_ADDR_LINKLOCAL)
		child->sk_bound_dev_if = req->iif;
}

/*
 * connect() of an AF_INET6 socket to a v4-mapped address: IPv4's
 * connect(), the IPv6 view of its addresses kept in step, as
 * getsockname() and the tables read them.
 */
static int etcp_v6_connect_mapped(struct sock *sk,
				  const struct sockaddr_in6 *usin)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = usin->sin6_port,
		.sin_addr.s_addr = usin->sin6_addr.s6_addr32[3],
	};
	int err;

	if (ipv6_only_sock(sk))
		return -ENETUNREACH;
	sk->sk_v6_daddr = usin->sin6_addr;
	esk->af = &etcp_ipv4_ops;
	err = etcp_v4_connect(sk, (struct sockaddr *)&sin, sizeof(sin));
	if (err) {
		esk->af = &etcp_ipv6_ops;
		sk->sk_v6_daddr = in6addr_any;
		return err;
	}
	ipv6_addr_set_v4mapped(inet_sk(sk)->inet_saddr, &inet6_sk(sk)->saddr);
	ipv6_addr_set_v4mapped(inet_sk(sk)->inet_rcv_saddr,
			       &sk->sk_v6_rcv_saddr);
	return 0;
}

/*
 * The scope of a link-local destination: the interface it names, which
 * must agree with SO_BINDTODEVICE; without one there is no telling which
 * link is meant (RFC 4007 6).
 */
static int etcp_v6_scope(struct sock *sk, const struct sockaddr_in6 *usin,
			 int addr_len)
{
	if (addr_len >= sizeof(*usin) && usin->sin6_scope_id) {
		if (sk->sk_bound_dev_if &&
		    sk->sk_bound_dev_if != usin->sin6_scope_id)
			return -EINVAL;
		sk->sk_bound_dev_if = usin->sin6_scope_id;
	}
	return sk->sk_bound_dev_if ? 0 : -EINVAL;
}

/*
 * proto->connect of an AF_INET6 socket (through compat.h), under the
 * socket lock, as TCPv6's: :: means this host, a v4-mapped address goes
 * over IPv4, multicast is unreachable.
 */
int etcp_v6_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in6 *usin = (struct sockaddr_in6 *)uaddr;
	struct ipv6_pinfo *np = inet6_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst;
	struct flowi6 fl6;
	int addr_type;
	int err;

	if (addr_len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (usin->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;

	/* BSD's connect() to "any": this host, in the family bound to. */
	if (ipv6_addr_any(&usin->sin6_addr)) {
		if (ipv6_addr_v4mapped(&sk->sk_v6_rcv_saddr))
			ipv6_addr_set_v4mapped(htonl(INADDR_LOOPBACK),
					       &usin->sin6_addr);
		else
			usin->sin6_addr = in6addr_loopback;
	}
	addr_type = ipv6_addr_type(&usin->sin6_addr);
	if (addr_type & IPV6_ADDR_MULTICAST)
		return -ENETUNREACH;
	if (addr_type & IPV6_ADDR_MAPPED)
		return etcp_v6_connect_mapped(sk, usin);
	if (addr_type & IPV6_ADDR_LINKLOCAL) {
		err = etcp_v6_scope(sk, usin, addr_len);
		if (err)
			return err;
	}

	sk->sk_v6_daddr = usin->sin6_addr;
	inet->inet_dport = usin->sin6_port;
	etcp_v6_flow(sk, &fl6);
	dst = ip6_dst_lookup_flow(sock_net(sk), sk, &fl6, NULL);
	if (IS_ERR(dst)) {
		err = PTR_ERR(dst);
		goto failure;
	}
	if (ipv6_addr_any(&sk->sk_v6_rcv_saddr))
		sk->sk_v6_rcv_saddr = fl6.saddr;
	np->saddr = fl6.saddr;
	/* As TCP: no local IPv4 address an IPv4 segment could match. */
	inet->inet_rcv_saddr = LOOPBACK4_IPV6;

	etcp_set_state(sk, TCP_SYN_SENT);
	err = etcp_connect_hash(sk);
	if (err) {
		dst_release(dst);
		goto failure;
	}
	/* The flow cached with the route has the port connect() picked. */
	fl6.fl6_sport = inet->inet_sport;
	etcp_v6_dst_set(sk, dst, &fl6);
	etcp_connect_init(sk, dst_mtu(dst));
	return 0;

failure:
	etcp_set_state(sk, TCP_CLOSE);
	inet->inet_dport = 0;
	sk->sk_v6_daddr = in6addr_any;
	return err;
}

/*
 * A segment from IPv6, in softirq, with skb->data at our header: as
 * etcp_v4_rcv(), only what is addressed to this host's unicast addresses.
 */
static int etcp_v6_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);

	ETCP_INC_STATS(net, ETCP_MIB_INSEGS);
	if (skb->pkt_type != PACKET_HOST ||
	    ipv6_addr_is_multicast(&ipv6_hdr(skb)->daddr)) {
		ETCP_INC_STATS(net, ETCP_MIB_INDISCARDS);
		kfree_skb(skb);
		return 0;
	}
	return etcp_rcv_segment(skb);
}

static const struct inet6_protocol etcp_v6_protocol = {
	.handler	= etcp_v6_rcv,
	.err_handler	= etcp_v6_err,
	/* etcp_rcv_segment() checks IPsec policy, as for IPv4. */
	.flags		= INET6_PROTO_NOPOLICY | INET6_PROTO_FINAL,
};

static struct inet_protosw etcp_v6_protosw = {
	.type		= SOCK_STREAM,
	/* .protocol is set from the module parameter at init */
	.prot		= &etcpv6_prot,
	.ops		= &etcp6_stream_ops,
};

/* After etcp's IPv4 half, with the pernet subsystem and the protos up. */
int etcp_v6_init(void)
{
	int err;

	if (inet6_add_protocol(&etcp_v6_protocol, etcp_proto_num)) {
		pr_err("IPv6 next header %d is already taken\n",
		       etcp_proto_num);
		return -EBUSY;
	}
	etcp_v6_protosw.protocol = etcp_proto_num;
	err = inet6_register_protosw(&etcp_v6_protosw);
	if (err)
		inet6_del_protocol(&etcp_v6_protocol, etcp_proto_num);
	return err;
}

/* First on unload: no new socket, no new segment. */
void etcp_v6_exit(void)
{
	inet6_unregister_protosw(&etcp_v6_protosw);
	inet6_del_protocol(&etcp_v6_protocol, etcp_proto_num);
}
