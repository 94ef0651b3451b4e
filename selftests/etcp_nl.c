// SPDX-License-Identifier: GPL-2.0
/*
 * rtnetlink requests for the namespace fixture: see etcp_nl.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "etcp_netns.h"
#include "etcp_nl.h"

#define NL_IFNAME_MAX	16	/* IFNAMSIZ, with its NUL */

/*
 * One request.  The largest, nl_veth_add()'s, takes about 130 bytes with
 * names of NL_IFNAME_MAX, which the callers check: the buffer cannot
 * overflow.
 */
struct nl_msg {
	union {
		struct nlmsghdr h;
		char buf[512];
	};
};

/* Start @m as a request of @type with a family header of @hdrlen bytes. */
static void *nl_init(struct nl_msg *m, int type, int flags, size_t hdrlen)
{
	memset(m, 0, sizeof(*m));
	m->h.nlmsg_len = NLMSG_LENGTH(hdrlen);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	m->h.nlmsg_seq = 1;
	return NLMSG_DATA(&m->h);
}

/* Append attribute @type with @len bytes of @data; a nest starts with len 0. */
static struct rtattr *nl_put(struct nl_msg *m, int type, const void *data,
			     size_t len)
{
	struct rtattr *rta = (void *)(m->buf + NLMSG_ALIGN(m->h.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nl_put_u32(struct nl_msg *m, int type, __u32 val)
{
	nl_put(m, type, &val, sizeof(val));
}

static void nl_put_str(struct nl_msg *m, int type, const char *s)
{
	nl_put(m, type, s, strlen(s) + 1);
}

/* Close nest @rta: it holds everything appended since nl_put() opened it. */
static void nl_nest_end(struct nl_msg *m, struct rtattr *rta)
{
	rta->rta_len = m->buf + m->h.nlmsg_len - (char *)rta;
}

/*
 * Send @m on @fd and wait for its ACK: the error it carries (0 or -errno).
 * Any other answer to it goes to @fn (if not NULL) first.
 */
static int nl_talk(int fd, struct nl_msg *m,
		   void (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;

	if (sendto(fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPROTO;
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != m->h.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (fn)
				fn(h, arg);
		}
	}
}

/* @m sent from a netlink socket in nsfd (-1: this thread's), as nl_talk(). */
static int nl_request(int nsfd, struct nl_msg *m,
		      void (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	int fd, ret;

	if (nsfd < 0)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	else
		fd = ns_socket(nsfd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			       NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	ret = nl_talk(fd, m, fn, arg);
	close(fd);
	return ret;
}

int nl_veth_add(const struct nl_veth_end *end, const struct nl_veth_end *peer)
{
	struct ifinfomsg peer_ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = peer->ifindex,
	};
	struct rtattr *linkinfo, *data, *peer_nest;
	struct ifinfomsg *ifi;
	struct nl_msg m;

	if (strlen(end->name) >= NL_IFNAME_MAX ||
	    strlen(peer->name) >= NL_IFNAME_MAX)
		return -EINVAL;
	ifi = nl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = end->ifindex;
	nl_put_str(&m, IFLA_IFNAME, end->name);
	nl_put_u32(&m, IFLA_NET_NS_FD, end->nsfd);
	linkinfo = nl_put(&m, IFLA_LINKINFO, NULL, 0);
	nl_put_str(&m, IFLA_INFO_KIND, "veth");
	data = nl_put(&m, IFLA_INFO_DATA, NULL, 0);
	/* The peer's attributes follow a struct ifinfomsg of its own. */
	peer_nest = nl_put(&m, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	nl_put_str(&m, IFLA_IFNAME, peer->name);
	nl_put_u32(&m, IFLA_NET_NS_FD, peer->nsfd);
	nl_nest_end(&m, peer_nest);
	nl_nest_end(&m, data);
	nl_nest_end(&m, linkinfo);
	/* Both ends name their namespace: where we ask from does not matter. */
	return nl_request(-1, &m, NULL, NULL);
}

struct nl_link_state {
	unsigned int flags;
	int operstate;
};

/* nl_talk()'s @fn for RTM_GETLINK: the flags and IFLA_OPERSTATE. */
static void nl_link_parse(const struct nlmsghdr *h, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct nl_link_state *st = arg;
	const struct rtattr *rta;
	int len;

	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	st->flags = ifi->ifi_flags;
	len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_OPERSTATE && RTA_PAYLOAD(rta) >= 1)
			st->operstate = *(const unsigned char *)RTA_DATA(rta);
}

int nl_link_operstate(int nsfd, const char *ifname, unsigned int *flags)
{
	struct nl_link_state st = { .operstate = -ENODATA };
	struct ifinfomsg *ifi;
	struct nl_msg m;
	int ret;

	if (strlen(ifname) >= NL_IFNAME_MAX)
		return -EINVAL;
	ifi = nl_init(&m, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	nl_put_str(&m, IFLA_IFNAME, ifname);
	ret = nl_request(nsfd, &m, nl_link_parse, &st);
	if (ret)
		return ret;
	*flags = st.flags;
	return st.operstate;
}

/* @addr into @bin (16 bytes): its family, or -EINVAL. */
static int nl_addr_parse(const char *addr, unsigned char *bin)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, addr, bin) != 1)
		return -EINVAL;
	return family;
}

int nl_addr_add(int nsfd, int ifindex, const char *addr, int plen,
		unsigned int flags)
{
	unsigned char bin[16];
	struct ifaddrmsg *ifa;
	struct nl_msg m;
	int family;
	size_t len;

	family = nl_addr_parse(addr, bin);
	if (family < 0)
		return family;
	len = family == AF_INET6 ? 16 : 4;
	ifa = nl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_flags = flags & 0xff;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	/* As ip(8) sends it: no peer, so the address is its own "peer". */
	nl_put(&m, IFA_LOCAL, bin, len);
	nl_put(&m, IFA_ADDRESS, bin, len);
	nl_put_u32(&m, IFA_FLAGS, flags);
	return nl_request(nsfd, &m, NULL, NULL);
}

int nl_route_default(int nsfd, int cmd, const char *gw, int oif)
{
	unsigned char bin[16];
	struct rtmsg *rtm;
	struct nl_msg m;
	int family;

	family = nl_addr_parse(gw, bin);
	if (family < 0)
		return family;
	rtm = nl_init(&m, cmd, cmd == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0,
		      sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_table = RT_TABLE_MAIN;
	if (cmd == RTM_NEWROUTE) {
		/* ip(8)'s defaults for "route add". */
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
		rtm->rtm_type = RTN_UNICAST;
	} else {
		/* And for "route del": any scope, protocol and type. */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	nl_put(&m, RTA_GATEWAY, bin, family == AF_INET6 ? 16 : 4);
	if (oif)
		nl_put_u32(&m, RTA_OIF, oif);
	return nl_request(nsfd, &m, NULL, NULL);
}
