/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few rtnetlink requests the namespace fixture needs (etcp_netns.c),
 * made directly: under TCG each ip(8) run costs a process start, a tenth
 * of a second.  Each request asks for an ACK and returns its error: 0 or
 * -errno, as ip(8) would have reported it.  A namespace argument (nsfd)
 * is where the request is made (its netlink socket lives there).
 */
#ifndef _ETCP_NL_H
#define _ETCP_NL_H

/* One end of a veth pair: its name, namespace and ifindex (0: any). */
struct nl_veth_end {
	const char *name;
	int nsfd;
	int ifindex;
};

/*
 * "ip link add @end->name netns @end->nsfd type veth peer name
 * @peer->name netns @peer->nsfd": the pair, each end created in its
 * namespace, with the ifindexes asked for (the kernel takes the peer's
 * only when the first end has one too).
 */
int nl_veth_add(const struct nl_veth_end *end, const struct nl_veth_end *peer);
/*
 * The operational state (IF_OPER_*, RFC 2863) of @ifname in nsfd, its
 * flags (IFF_*, IFF_LOWER_UP included) in *@flags; or -errno.
 */
int nl_link_operstate(int nsfd, const char *ifname, unsigned int *flags);
/*
 * "ip addr add @addr/@plen dev @ifindex" in nsfd, with IFA_F_* @flags
 * (IFA_F_NODAD for "nodad"); AF_INET6 when @addr has a ':'.
 */
int nl_addr_add(int nsfd, int ifindex, const char *addr, int plen,
		unsigned int flags);
/*
 * "ip route add|del default via @gw [dev @oif]" in nsfd (@cmd
 * RTM_NEWROUTE or RTM_DELROUTE, @oif 0 for no device: a deletion then
 * matches any); AF_INET6 when @gw has a ':'.
 */
int nl_route_default(int nsfd, int cmd, const char *gw, int oif);

#endif /* _ETCP_NL_H */
