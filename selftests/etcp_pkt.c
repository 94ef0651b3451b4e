// SPDX-License-Identifier: GPL-2.0
/*
 * A raw peer on the link, for etcp selftests: see etcp_pkt.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "etcp_netns.h"
#include "etcp_pkt.h"
#include "etcp_raw.h"
#include "etcp_util.h"

#define PKT_FRAME_MAX	(ETCP_PKT_ETH_HLEN + 65535)
#define PKT_RCVBUF	(8 << 20)	/* a burst's answers wait while we send */
#define PKT_WND		65535

/* ------------------------------------------------------------ the link */

/* An AF_INET datagram socket in nsfd, for device and ARP ioctls. */
static int pkt_ioctl_sock(int nsfd)
{
	return ns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int etcp_pkt_if_mac(int nsfd, const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = pkt_ioctl_sock(nsfd);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		ret = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

static int pkt_set_mtu(int nsfd, const char *ifname, int mtu)
{
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = pkt_ioctl_sock(nsfd);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_mtu = mtu;
	if (ioctl(fd, SIOCSIFMTU, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

/* A permanent neighbour @addr -> @mac on @ifname of nsfd. */
static int pkt_set_neigh(int nsfd, const char *ifname, const char *addr,
			 const uint8_t mac[6])
{
	struct arpreq req = {};
	struct sockaddr_in *pa = (struct sockaddr_in *)&req.arp_pa;
	struct in6_addr a6;
	int fd, ret = 0;

	/* SIOCSARP is IPv4's alone; rtnetlink by hand would be longer. */
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return ns_cmd(nsfd, "ip -6 neigh replace %s lladdr "
			      "%02x:%02x:%02x:%02x:%02x:%02x dev %s nud permanent",
			      addr, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			      ifname);
	pa->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &pa->sin_addr) != 1)
		return -EINVAL;
	req.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(req.arp_ha.sa_data, mac, 6);
	req.arp_flags = ATF_PERM | ATF_COM;
	strcpy(req.arp_dev, ifname);
	fd = pkt_ioctl_sock(nsfd);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCSARP, &req))
		ret = -errno;
	close(fd);
	return ret;
}

int etcp_pkt_link(const struct etcp_netns *ns, const char *addr, int mtu)
{
	uint8_t mac[6];
	int ret;

	ret = pkt_set_mtu(ns->a, ETCP_NS_IF_A, mtu);
	if (!ret)
		ret = pkt_set_mtu(ns->b, ETCP_NS_IF_B, mtu);
	if (!ret)
		ret = etcp_pkt_if_mac(ns->b, ETCP_NS_IF_B, mac);
	if (!ret)
		ret = pkt_set_neigh(ns->a, ETCP_NS_IF_A, addr, mac);
	/* What arrives on eb for the peer's address goes nowhere. */
	if (!ret)
		ret = ns_sysctl_write(ns->b, strchr(addr, ':') ?
				      "net/ipv6/conf/all/forwarding" :
				      "net/ipv4/conf/all/forwarding", "0");
	return ret;
}

/* ------------------------------------------------------------ open, close */

static uint16_t pkt_ethertype(const struct etcp_pkt *pk)
{
	return pk->family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP;
}

int etcp_pkt_open(struct etcp_pkt *pk, int nsfd, const char *ifname,
		  int ipproto, const char *saddr, const char *daddr,
		  const uint8_t dmac[6])
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int one = 1, rcvbuf = PKT_RCVBUF, ret;
	struct ifreq ifr = {};
	long page;

	memset(pk, 0, sizeof(*pk));
	pk->fd = -1;
	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	pk->family = etcp_raw_addr(saddr, &pk->saddr6);
	if (pk->family < 0 || etcp_raw_addr(daddr, &pk->daddr6) != pk->family)
		return -EINVAL;
	if (pk->family == AF_INET) {
		memcpy(&pk->saddr, pk->saddr6.s6_addr + 12, 4);
		memcpy(&pk->daddr, pk->daddr6.s6_addr + 12, 4);
	}
	page = sysconf(_SC_PAGESIZE);
	pk->page = page > 0 ? (size_t)page : 4096;
	pk->ipproto = ipproto;
	pk->adv_wnd = PKT_WND;
	pk->una = -1;
	pk->edge = -1;
	pk->ip_id = (uint16_t)getpid();
	pk->t0 = realtime_ns();
	memcpy(pk->dmac, dmac, 6);
	pk->hist = calloc(ETCP_PKT_HIST, sizeof(*pk->hist));
	if (!pk->hist)
		return -ENOMEM;

	sll.sll_protocol = htons(pkt_ethertype(pk));
	pk->fd = ns_socket(nsfd, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, sll.sll_protocol);
	if (pk->fd < 0)
		goto err;
	/* Device ioctls act in the socket's namespace. */
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(pk->fd, SIOCGIFINDEX, &ifr))
		goto err;
	pk->ifindex = ifr.ifr_ifindex;
	if (ioctl(pk->fd, SIOCGIFHWADDR, &ifr))
		goto err;
	memcpy(pk->smac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(pk->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) &&
	    setsockopt(pk->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		goto err;
	if (setsockopt(pk->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(pk->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)))
		goto err;
	sll.sll_ifindex = pk->ifindex;
	if (bind(pk->fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto err;
	return 0;

err:
	ret = -errno;
	etcp_pkt_close(pk);
	return ret;
}

/* The peer in netns b, speaking as @peer to netns a's @local over the veth. */
static int etcp_pkt_open_veth_as(struct etcp_pkt *pk,
				 const struct etcp_netns *ns, int ipproto,
				 const char *peer, const char *local)
{
	uint8_t mac[6];
	int ret;

	memset(pk, 0, sizeof(*pk));
	pk->fd = -1;
	ret = etcp_pkt_if_mac(ns->a, ETCP_NS_IF_A, mac);
	if (ret)
		return ret;
	return etcp_pkt_open(pk, ns->b, ETCP_NS_IF_B, ipproto, peer, local,
			     mac);
}

int etcp_pkt_open_veth(struct etcp_pkt *pk, const struct etcp_netns *ns,
		       int ipproto)
{
	return etcp_pkt_open_veth_as(pk, ns, ipproto, ETCP_PKT_ADDR,
				     ETCP_NS_ADDR_A);
}

int etcp_pkt_open_veth6(struct etcp_pkt *pk, const struct etcp_netns *ns,
			int ipproto)
{
	return etcp_pkt_open_veth_as(pk, ns, ipproto, ETCP_PKT_ADDR6,
				     ETCP_NS_ADDR6_A);
}

void etcp_pkt_close(struct etcp_pkt *pk)
{
	if (pk->fd >= 0)
		close(pk->fd);
	pk->fd = -1;
	free(pk->hist);
	pk->hist = NULL;
	free(pk->text);
	pk->text = NULL;
}

static void pkt_record(struct etcp_pkt *pk, const struct etcp_cap_seg *seg)
{
	if (pk->hist)
		pk->hist[pk->nhist % ETCP_PKT_HIST] = *seg;
	pk->nhist++;
}

/* ------------------------------------------------------------ frames */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static bool pkt_in_conn(const struct etcp_pkt *pk, const struct etcp_cap_seg *seg);

/* Remember a frame sent, parsed, if it is a segment of pk->ipproto. */
static void pkt_record_out(struct etcp_pkt *pk, const uint8_t *frame, size_t len)
{
	struct etcp_cap_seg seg;

	if (len < ETCP_PKT_ETH_HLEN ||
	    etcp_cap_parse(frame + ETCP_PKT_ETH_HLEN, len - ETCP_PKT_ETH_HLEN,
			   pk->ipproto, &seg))
		return;
	seg.t = realtime_ns();
	seg.out = true;
	/* Ours, of the connection: the mirror of pkt_in_conn(). */
	if (pk->conn && seg.seglen >= 20 &&
	    IN6_ARE_ADDR_EQUAL(&seg.saddr6, &pk->saddr6) &&
	    IN6_ARE_ADDR_EQUAL(&seg.daddr6, &pk->daddr6) &&
	    seg.sport == pk->sport && seg.dport == pk->dport) {
		seg.rseq = (uint32_t)(seg.seq - pk->iss);
		if (seg.flags & ETCP_TH_ACK)
			seg.rack = (uint32_t)(seg.ack - pk->irs);
	}
	pkt_record(pk, &seg);
}

int etcp_pkt_send_frame(struct etcp_pkt *pk, const void *frame, size_t len)
{
	ssize_t n;

	do {
		n = send(pk->fd, frame, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	pk->frames++;
	/* packet_alloc_skb(): a frame of a page or more is built paged. */
	if (len >= pk->page)
		pk->paged++;
	pkt_record_out(pk, frame, len);
	return 0;
}

/* The IP header's length: where the transport segment begins. */
static size_t pkt_iphlen(const struct etcp_pkt *pk)
{
	return pk->family == AF_INET6 ? ETCP_PKT_IP6_HLEN : ETCP_PKT_IP_HLEN;
}

/*
 * Ethernet and IP headers for @l4len bytes at frame + ETCP_PKT_ETH_HLEN +
 * pkt_iphlen(): the frame's length.  IPv4 addresses v4-mapped.
 */
static size_t pkt_headers(struct etcp_pkt *pk, uint8_t *frame,
			  const struct in6_addr *saddr,
			  const struct in6_addr *daddr, size_t l4len)
{
	uint8_t *ip = frame + ETCP_PKT_ETH_HLEN;

	memcpy(frame, pk->dmac, 6);
	memcpy(frame + 6, pk->smac, 6);
	put16(frame + 12, pkt_ethertype(pk));
	if (pk->family == AF_INET6) {
		memset(ip, 0, ETCP_PKT_IP6_HLEN);
		ip[0] = 0x60;			/* version 6, class and label 0 */
		put16(ip + 4, l4len);		/* the payload length */
		ip[6] = pk->ipproto;		/* next header: no extension */
		ip[7] = 64;			/* hop limit */
		memcpy(ip + 8, saddr, 16);
		memcpy(ip + 24, daddr, 16);
		return ETCP_PKT_ETH_HLEN + ETCP_PKT_IP6_HLEN + l4len;
	}
	memset(ip, 0, ETCP_PKT_IP_HLEN);
	ip[0] = 0x45;				/* version 4, 5 words */
	put16(ip + 2, ETCP_PKT_IP_HLEN + l4len);
	put16(ip + 4, pk->ip_id++);
	put16(ip + 6, 0x4000);			/* DF */
	ip[8] = 64;				/* TTL */
	ip[9] = pk->ipproto;
	memcpy(ip + 12, saddr->s6_addr + 12, 4);
	memcpy(ip + 16, daddr->s6_addr + 12, 4);
	put16(ip + 10, etcp_inet_csum(ip, ETCP_PKT_IP_HLEN));
	return ETCP_PKT_ETH_HLEN + ETCP_PKT_IP_HLEN + l4len;
}

/* One frame buffer: the tests are single-threaded senders. */
static uint8_t pkt_frame[PKT_FRAME_MAX];

int etcp_pkt_send_ip(struct etcp_pkt *pk, const char *saddr, const char *daddr,
		     const void *l4, size_t len)
{
	struct in6_addr s = pk->saddr6, d = pk->daddr6;
	size_t off = ETCP_PKT_ETH_HLEN + pkt_iphlen(pk);

	if (len > (pk->family == AF_INET6 ? ETCP_PKT_SEG_MAX6 : ETCP_PKT_SEG_MAX))
		return -EMSGSIZE;
	if ((saddr && etcp_raw_addr(saddr, &s) != pk->family) ||
	    (daddr && etcp_raw_addr(daddr, &d) != pk->family))
		return -EINVAL;
	memmove(pkt_frame + off, l4, len);
	return etcp_pkt_send_frame(pk, pkt_frame,
				   pkt_headers(pk, pkt_frame, &s, &d, len));
}

int etcp_pkt_send_seg(struct etcp_pkt *pk, const struct etcp_raw_seg *seg)
{
	size_t off = ETCP_PKT_ETH_HLEN + pkt_iphlen(pk);
	struct in6_addr s, d;
	ssize_t len;

	/* The frame's family only: etcp_raw_build() checks the rest. */
	if (etcp_raw_addr(seg->saddr, &s) != pk->family ||
	    etcp_raw_addr(seg->daddr, &d) != pk->family)
		return -EINVAL;
	len = etcp_raw_build(seg, pk->ipproto, pkt_frame + off,
			     pk->family == AF_INET6 ? ETCP_PKT_SEG_MAX6 : ETCP_PKT_SEG_MAX);
	if (len < 0)
		return len;
	return etcp_pkt_send_frame(pk, pkt_frame,
				   pkt_headers(pk, pkt_frame, &s, &d, len));
}

/* ------------------------------------------------------------ receiving */

static bool pkt_in_conn(const struct etcp_pkt *pk, const struct etcp_cap_seg *seg)
{
	return pk->conn && seg->seglen >= 20 &&
	       IN6_ARE_ADDR_EQUAL(&seg->saddr6, &pk->daddr6) &&
	       IN6_ARE_ADDR_EQUAL(&seg->daddr6, &pk->saddr6) &&
	       seg->sport == pk->dport && seg->dport == pk->sport;
}

/* Relative numbers of a segment of the connection, and what it teaches. */
static void pkt_account(struct etcp_pkt *pk, struct etcp_cap_seg *seg)
{
	bool fin;

	if (!pkt_in_conn(pk, seg))
		return;
	seg->rseq = (uint32_t)(seg->seq - pk->irs);
	if (seg->flags & ETCP_TH_ACK)
		seg->rack = (uint32_t)(seg->ack - pk->iss);
	if (seg->bad || seg->csum == 0)
		return;
	pk->acks++;
	if (seg->flags & ETCP_TH_ACK) {
		if (pk->una < 0 || (int32_t)(seg->ack - (pk->iss + (uint32_t)pk->una)) > 0)
			pk->una = seg->rack;
		pk->wnd = seg->window;
		if (pk->edge < 0 ||
		    (int32_t)(seg->ack + seg->window - (pk->iss + (uint32_t)pk->edge)) > 0)
			pk->edge = (uint32_t)(seg->ack + seg->window - pk->iss);
	}
	fin = seg->flags & ETCP_TH_FIN;
	if (seg->seq == pk->rcv_nxt && !(seg->flags & (ETCP_TH_SYN | ETCP_TH_RST)))
		pk->rcv_nxt += seg->len + fin;
}

/* Read one frame: 1 and @seg filled, 0 for a frame to skip, or -errno. */
static int pkt_read_one(struct etcp_pkt *pk, struct etcp_cap_seg *seg)
{
	static uint8_t buf[PKT_FRAME_MAX];
	struct etcp_cap_frame f;
	size_t ihl;
	int ret;

	ret = etcp_cap_read_frame(pk->fd, buf, sizeof(buf), &f);
	if (ret)
		return ret;
	if (f.pkttype == PACKET_OUTGOING || f.len < ETCP_PKT_ETH_HLEN ||
	    buf[12] != pkt_ethertype(pk) >> 8 || buf[13] != (pkt_ethertype(pk) & 0xff))
		return 0;
	if (etcp_cap_parse(buf + ETCP_PKT_ETH_HLEN, f.len - ETCP_PKT_ETH_HLEN,
			   pk->ipproto, seg))
		return 0;
	/*
	 * When it came (SO_TIMESTAMPNS), not when it was read: a reader the
	 * scheduler kept away reads late what came in time.
	 */
	seg->t = f.stamp >= 0 ? f.stamp : realtime_ns();
	/* After the IP header the kernel sent (IPv6's: no extension header). */
	ihl = seg->family == AF_INET6 ? ETCP_PKT_IP6_HLEN : (buf[ETCP_PKT_ETH_HLEN] & 0xf) * 4;
	pk->data = buf + ETCP_PKT_ETH_HLEN + ihl + seg->doff * 4;
	if (f.csum_pending)
		seg->csum = -1;
	pkt_account(pk, seg);
	pkt_record(pk, seg);
	return 1;
}

int etcp_pkt_recv(struct etcp_pkt *pk, etcp_cap_match_fn *fn, const void *arg,
		  struct etcp_cap_seg *seg, int timeout_ms)
{
	struct pollfd pfd = { .fd = pk->fd, .events = POLLIN };
	int64_t deadline = now_ms() + timeout_ms, left;
	int r;

	for (;;) {
		r = pkt_read_one(pk, seg);
		if (r > 0 && (!fn || fn(seg, arg)))
			return 0;
		if (r >= 0)
			continue;
		if (r != -EAGAIN)
			return r;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
	}
}

size_t etcp_pkt_drain(struct etcp_pkt *pk)
{
	struct etcp_cap_seg seg;
	size_t n = 0;
	int r;

	while ((r = pkt_read_one(pk, &seg)) >= 0)
		n += r;
	return n;
}

/* ------------------------------------------------------------ connection */

bool etcp_pkt_of_conn(const struct etcp_cap_seg *seg, const void *arg)
{
	const struct etcp_pkt *pk = arg;

	return pkt_in_conn(pk, seg) && !seg->bad && seg->csum != 0;
}

/* A segment from the other end's @dport to our @sport (arg: pk). */
static bool pkt_synack_match(const struct etcp_cap_seg *seg, const void *arg)
{
	const struct etcp_pkt *pk = arg;

	return seg->seglen >= 20 && !seg->bad && seg->csum != 0 &&
	       IN6_ARE_ADDR_EQUAL(&seg->saddr6, &pk->daddr6) &&
	       IN6_ARE_ADDR_EQUAL(&seg->daddr6, &pk->saddr6) &&
	       seg->sport == pk->dport && seg->dport == pk->sport &&
	       (seg->flags & (ETCP_TH_SYN | ETCP_TH_RST));
}

static void pkt_seg_init(const struct etcp_pkt *pk, struct etcp_raw_seg *s,
			 char *sa, char *da)
{
	if (pk->family == AF_INET6) {
		inet_ntop(AF_INET6, &pk->saddr6, sa, INET6_ADDRSTRLEN);
		inet_ntop(AF_INET6, &pk->daddr6, da, INET6_ADDRSTRLEN);
	} else {
		inet_ntop(AF_INET, &pk->saddr, sa, INET6_ADDRSTRLEN);
		inet_ntop(AF_INET, &pk->daddr, da, INET6_ADDRSTRLEN);
	}
	memset(s, 0, sizeof(*s));
	s->saddr = sa;
	s->daddr = da;
	s->sport = pk->sport;
	s->dport = pk->dport;
	s->window = pk->adv_wnd;
}

int etcp_pkt_connect_opt(struct etcp_pkt *pk, uint16_t sport, uint16_t dport,
			 uint32_t iss, const void *opts, size_t optlen,
			 struct etcp_cap_seg *synack, int timeout_ms)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	struct etcp_cap_seg seg;
	struct etcp_raw_seg s;
	int ret;

	pk->conn = false;
	pk->sport = sport;
	pk->dport = dport;
	pk->iss = iss;
	pk->una = -1;
	pk->edge = -1;
	pk->acks = 0;
	pkt_seg_init(pk, &s, sa, da);
	s.seq = iss;
	s.flags = ETCP_TH_SYN;
	s.opts = opts;
	s.optlen = optlen;
	ret = etcp_pkt_send_seg(pk, &s);
	if (ret)
		return ret;
	ret = etcp_pkt_recv(pk, pkt_synack_match, pk, &seg, timeout_ms);
	if (ret)
		return ret;
	if (seg.flags & ETCP_TH_RST)
		return -ECONNREFUSED;
	if ((seg.flags & (ETCP_TH_SYN | ETCP_TH_ACK)) != (ETCP_TH_SYN | ETCP_TH_ACK) ||
	    seg.ack != iss + 1)
		return -EPROTO;
	pk->irs = seg.seq;
	pk->rcv_nxt = seg.seq + 1;
	pk->mss = seg.mss;
	pk->conn = true;
	pkt_account(pk, &seg);
	if (synack)
		*synack = seg;

	s.optlen = 0;
	s.opts = NULL;
	s.seq = iss + 1;
	s.ack = pk->rcv_nxt;
	s.flags = ETCP_TH_ACK;
	return etcp_pkt_send_seg(pk, &s);
}

int etcp_pkt_connect(struct etcp_pkt *pk, uint16_t sport, uint16_t dport,
		     uint32_t iss, uint16_t mss, struct etcp_cap_seg *synack,
		     int timeout_ms)
{
	uint8_t opt[4];
	size_t optlen = 0;

	if (mss)
		optlen = etcp_raw_opt_mss(opt, mss);
	return etcp_pkt_connect_opt(pk, sport, dport, iss, optlen ? opt : NULL,
				    optlen, synack, timeout_ms);
}

int etcp_pkt_send_opt(struct etcp_pkt *pk, uint32_t rseq, uint8_t flags,
		      const void *opts, size_t optlen, const void *data, size_t len)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	struct etcp_raw_seg s;

	if (!pk->conn)
		return -ENOTCONN;
	pkt_seg_init(pk, &s, sa, da);
	s.seq = pk->iss + rseq;
	s.ack = pk->rcv_nxt;
	s.flags = flags;
	s.opts = opts;
	s.optlen = optlen;
	s.data = data;
	s.datalen = len;
	return etcp_pkt_send_seg(pk, &s);
}

int etcp_pkt_send(struct etcp_pkt *pk, uint32_t rseq, uint8_t flags,
		  const void *data, size_t len)
{
	return etcp_pkt_send_opt(pk, rseq, flags, NULL, 0, data, len);
}

int etcp_pkt_next(struct etcp_pkt *pk, struct etcp_cap_seg *seg, int timeout_ms)
{
	return etcp_pkt_recv(pk, etcp_pkt_of_conn, pk, seg, timeout_ms);
}

/* ------------------------------------------------------------ a sender */

#define PKT_PUSH_STEP_MS	20	/* between two looks while waiting for ACKs */

int etcp_pkt_push(struct etcp_pkt *pk, const struct etcp_pkt_push *p, int *used)
{
	int64_t deadline = now_ms() + p->timeout_ms, quiet_since;
	int64_t done = 1 + (int64_t)p->len;	/* the rack that covers it all */
	struct etcp_cap_seg seg;
	int rounds = 0, ret = 0;
	size_t acks;

	if (!pk->conn || !p->seg)
		return -EINVAL;
	while (pk->una < done) {
		size_t from, to, off, n;

		if (rounds == p->rounds || now_ms() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		rounds++;
		from = pk->una > 0 ? (size_t)(pk->una - 1) : 0;
		to = from + pk->wnd;
		if (to > p->len)
			to = p->len;
		if (to <= from)		/* closed window: one segment probes it */
			to = from + p->seg < p->len ? from + p->seg : p->len;
		for (off = from; off < to; off += n) {
			n = to - off < p->seg ? to - off : p->seg;
			ret = etcp_pkt_send(pk, 1 + off, ETCP_TH_ACK, p->buf + off, n);
			if (ret)
				goto out;
		}
		/* ACKs until they cover what went, or none for rto_ms. */
		quiet_since = now_ms();
		while (pk->una < 1 + (int64_t)to &&
		       now_ms() - quiet_since < p->rto_ms &&
		       now_ms() <= deadline) {
			if (p->idle)
				p->idle(p->arg);
			acks = pk->acks;
			etcp_pkt_recv(pk, etcp_pkt_of_conn, pk, &seg, PKT_PUSH_STEP_MS);
			if (pk->acks != acks)
				quiet_since = now_ms();
		}
		if (p->idle)
			p->idle(p->arg);
	}
out:
	if (used)
		*used = rounds;
	return ret;
}

/* ------------------------------------------------------------ text */

/* One line, with its leading newline and "# ": its length. */
static size_t pkt_fmt(const struct etcp_pkt *pk, size_t idx,
		      const struct etcp_cap_seg *s, char *buf, size_t size)
{
	char flags[9], num[64];
	int n;

	etcp_cap_flags_str(s->flags, flags);
	if (s->rseq >= 0)
		n = snprintf(num, sizeof(num), "seq=%lld", (long long)s->rseq);
	else
		n = snprintf(num, sizeof(num), "seq=0x%08x", s->seq);
	if (s->flags & ETCP_TH_ACK) {
		if (s->rack >= 0)
			snprintf(num + n, sizeof(num) - n, " ack=%lld", (long long)s->rack);
		else
			snprintf(num + n, sizeof(num) - n, " ack=0x%08x", s->ack);
	}
	n = snprintf(buf, size, "\n# %4zu %+8.3f %s %-4s %s win=%u len=%u%s%s",
		     idx, (s->t - pk->t0) / 1e9, s->out ? "P>R" : "R>P",
		     flags, num, s->window, s->len,
		     s->csum == 0 ? " csum=BAD" : "", s->bad ? " [malformed]" : "");
	if (n < 0)
		return 0;
	return (size_t)n >= size ? size - 1 : (size_t)n;
}

const char *etcp_pkt_str(struct etcp_pkt *pk)
{
	size_t first, i, len, size, n;
	char line[256];

	etcp_pkt_drain(pk);
	first = pk->nhist > ETCP_PKT_HIST ? pk->nhist - ETCP_PKT_HIST : 0;
	size = 512 + (pk->nhist - first) * sizeof(line);
	free(pk->text);
	pk->text = malloc(size);
	if (!pk->text)
		return "(out of memory)";
	n = snprintf(pk->text, size,
		     "the raw peer (P) sent %zu frames, %zu of them of a page or more; "
		     "%zu segments recorded, the last %zu shown (seq/ack relative "
		     "to the ISNs):", pk->frames, pk->paged, pk->nhist,
		     pk->hist ? pk->nhist - first : 0);
	len = n < size ? n : size - 1;
	for (i = first; i < pk->nhist && pk->hist; i++) {
		n = pkt_fmt(pk, i, &pk->hist[i % ETCP_PKT_HIST], line, sizeof(line));
		if (len + n + 1 > size)
			break;
		memcpy(pk->text + len, line, n + 1);
		len += n;
	}
	if (!pk->nhist)
		snprintf(pk->text + len, size - len, "\n#   (nothing)");
	return pk->text;
}
