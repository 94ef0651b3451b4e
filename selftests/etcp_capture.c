// SPDX-License-Identifier: GPL-2.0
/*
 * Segment capture for etcp selftests: see etcp_capture.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "etcp_capture.h"
#include "etcp_netns.h"
#include "etcp_raw.h"
#include "etcp_util.h"

#define CAP_MAX_FLOWS		512
#define CAP_MAX_NAMES		64
#define CAP_RCVBUF		(8 << 20)
#define CAP_PKT_MAX		65536
#define CAP_IP6_HLEN		40	/* the fixed IPv6 header */
#define CAP_IP6_EXT_MIN		8	/* the smallest extension header */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/*
 * A direction of a connection and the ISN of its current SYN.  Addresses
 * are kept as IPv6 ones, IPv4's v4-mapped, with the family beside them.
 */
struct cap_flow {
	int family;
	struct in6_addr saddr, daddr;
	uint16_t sport, dport;
	uint32_t isn;
	bool known;		/* isn is set */
	bool closed;		/* an RST or FIN went either way since */
};

/* An address:port, named by its index: A, B, ... */
struct cap_name {
	int family;
	struct in6_addr addr;	/* IPv4's v4-mapped */
	uint16_t port;
};

struct etcp_cap_priv {
	int fd;
	struct cap_flow flows[CAP_MAX_FLOWS];
	size_t nflows;
	struct cap_name names[CAP_MAX_NAMES];
	size_t nnames;
	char *text;
	size_t textsize;
	uint8_t pkt[CAP_PKT_MAX];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Walk the option list @p of @left bytes: -1 when it is malformed (RFC
 * 9293 3.2: a length below 2 or beyond the header), else 0, with the
 * first option of @kind in *@found (NULL if none).
 */
static int cap_walk_opts(const uint8_t *p, int left, uint8_t kind,
			 const uint8_t **found)
{
	*found = NULL;
	while (left > 0) {
		uint8_t k = p[0], len;

		if (k == 0)
			break;
		if (k == 1) {
			p++;
			left--;
			continue;
		}
		if (left < 2)
			return -1;
		len = p[1];
		if (len < 2 || len > left)
			return -1;
		if (k == kind && !*found)
			*found = p;
		p += len;
		left -= len;
	}
	return 0;
}

/*
 * The MSS of a well-formed option list, 0 if none, and in *@wscale the
 * window scale option's shift, -1 if none; malformed: -1.
 */
static int cap_parse_opts(const uint8_t *p, int left, int *wscale)
{
	const uint8_t *o;
	int mss = 0;

	*wscale = -1;
	if (cap_walk_opts(p, left, 2, &o))
		return -1;
	if (o) {
		if (o[1] != 4)
			return -1;
		mss = get16(o + 2);
	}
	cap_walk_opts(p, left, 3, &o);
	if (o) {
		if (o[1] != 3)
			return -1;
		*wscale = o[2];
	}
	return mss;
}

int etcp_cap_sacks(const struct etcp_cap_seg *seg, uint32_t base,
		   struct etcp_cap_sack *b, int max)
{
	const uint8_t *o;
	int n, i;

	if (cap_walk_opts(seg->opts, seg->optlen, 5, &o))
		return -1;
	if (!o)
		return 0;
	if ((o[1] - 2) % 8)
		return -1;
	n = (o[1] - 2) / 8;
	for (i = 0; i < n && i < max; i++) {
		b[i].start = (uint32_t)(get32(o + 2 + 8 * i) - base);
		b[i].end = (uint32_t)(get32(o + 6 + 8 * i) - base);
	}
	return n;
}

/* Is @next an IPv6 extension header that may come before the transport's? */
static bool cap_ip6_ext(uint8_t next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
	       next == IPPROTO_DSTOPTS || next == IPPROTO_FRAGMENT ||
	       next == IPPROTO_AH;
}

/* The v4-mapped IPv6 address of @a (::ffff:a.b.c.d). */
static void cap_v4mapped(struct in6_addr *m, struct in_addr a)
{
	memset(m, 0, sizeof(*m));
	m->s6_addr[10] = 0xff;
	m->s6_addr[11] = 0xff;
	memcpy(&m->s6_addr[12], &a, 4);
}

/*
 * The IPv4 header of @pkt into @seg; the transport header's offset and
 * length into *@off and *@tlen.  0, -ENOMSG or -EBADMSG as
 * etcp_cap_parse().
 */
static int cap_parse_ip4(const uint8_t *pkt, size_t len, int ipproto,
			 struct etcp_cap_seg *seg, size_t *off, size_t *tlen)
{
	const struct iphdr *iph = (const struct iphdr *)pkt;
	size_t ihl, tot;

	if (len < sizeof(*iph))
		return -EBADMSG;
	ihl = iph->ihl * 4;
	tot = ntohs(iph->tot_len);
	if (ihl < sizeof(*iph) || tot < ihl || tot > len)
		return -EBADMSG;
	if (iph->protocol != ipproto || (ntohs(iph->frag_off) & IP_OFFMASK))
		return -ENOMSG;
	seg->family = AF_INET;
	seg->saddr.s_addr = iph->saddr;
	seg->daddr.s_addr = iph->daddr;
	cap_v4mapped(&seg->saddr6, seg->saddr);
	cap_v4mapped(&seg->daddr6, seg->daddr);
	seg->tos = iph->tos;
	*off = ihl;
	*tlen = tot - ihl;
	return 0;
}

/*
 * The IPv6 header of @pkt into @seg, skipping extension headers up to the
 * transport header, whose offset and length go into *@off and *@tlen.  A
 * fragment header counts only when it is the first fragment's.  0,
 * -ENOMSG or -EBADMSG as etcp_cap_parse().
 */
static int cap_parse_ip6(const uint8_t *pkt, size_t len, int ipproto,
			 struct etcp_cap_seg *seg, size_t *off, size_t *tlen)
{
	size_t hlen = CAP_IP6_HLEN, end;
	uint8_t next;
	uint32_t vcf;

	if (len < CAP_IP6_HLEN)
		return -EBADMSG;
	end = CAP_IP6_HLEN + get16(pkt + 4);	/* no jumbograms on a veth */
	if (end > len)
		return -EBADMSG;
	next = pkt[6];
	while (cap_ip6_ext(next)) {
		size_t ext;

		if (hlen + CAP_IP6_EXT_MIN > end)
			return -EBADMSG;
		if (next == IPPROTO_FRAGMENT) {
			/* The offset: the upper 13 bits of bytes 2 and 3. */
			if (get16(pkt + hlen + 2) & 0xfff8)
				return -ENOMSG;
			ext = CAP_IP6_EXT_MIN;
		} else if (next == IPPROTO_AH) {
			ext = (pkt[hlen + 1] + 2) * 4;
		} else {
			ext = (pkt[hlen + 1] + 1) * 8;
		}
		if (hlen + ext > end)
			return -EBADMSG;
		next = pkt[hlen];
		hlen += ext;
	}
	if (next != ipproto)
		return -ENOMSG;
	seg->family = AF_INET6;
	memcpy(&seg->saddr6, pkt + 8, sizeof(seg->saddr6));
	memcpy(&seg->daddr6, pkt + 24, sizeof(seg->daddr6));
	vcf = get32(pkt);
	seg->tos = vcf >> 20;
	seg->flowlabel = vcf & 0xfffff;
	*off = hlen;
	*tlen = end - hlen;
	return 0;
}

int etcp_cap_parse(const void *pkt, size_t len, int ipproto,
		   struct etcp_cap_seg *seg)
{
	const uint8_t *p = pkt;
	const uint8_t *th;
	size_t off, tlen, hdrlen;
	int mss, ret;

	if (len < 1)
		return -EBADMSG;
	memset(seg, 0, sizeof(*seg));
	seg->wscale = -1;
	switch (p[0] >> 4) {
	case 4:
		ret = cap_parse_ip4(p, len, ipproto, seg, &off, &tlen);
		break;
	case 6:
		ret = cap_parse_ip6(p, len, ipproto, seg, &off, &tlen);
		break;
	default:
		ret = -EBADMSG;
	}
	if (ret)
		return ret;

	seg->rseq = -1;
	seg->rack = -1;
	seg->csum = -1;
	th = p + off;
	seg->seglen = tlen;

	if (tlen >= 4) {
		seg->sport = get16(th);
		seg->dport = get16(th + 2);
	}
	if (tlen < 20) {
		seg->bad = "truncated header";
		return 0;
	}
	seg->seq = get32(th + 4);
	seg->ack = get32(th + 8);
	seg->doff = th[12] >> 4;
	seg->flags = th[13];
	seg->window = get16(th + 14);
	if (seg->family == AF_INET6)
		seg->csum = etcp_raw_csum6(&seg->saddr6, &seg->daddr6, ipproto,
					   th, tlen) == 0;
	else
		seg->csum = etcp_raw_csum(seg->saddr, seg->daddr, ipproto,
					  th, tlen) == 0;

	hdrlen = seg->doff * 4;
	if (hdrlen < 20) {
		seg->bad = "data offset < 5";
		return 0;
	}
	if (hdrlen > tlen) {
		seg->bad = "data offset past the end";
		return 0;
	}
	seg->optlen = hdrlen - 20;
	memcpy(seg->opts, th + 20, seg->optlen);
	seg->len = tlen - hdrlen;
	mss = cap_parse_opts(th + 20, seg->optlen, &seg->wscale);
	if (mss < 0)
		seg->bad = "malformed options";
	else
		seg->mss = mss;
	return 0;
}

struct etcp_cap *etcp_cap_start(int nsfd, const char *ifname, int ipproto)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		/* Outgoing packets only reach ETH_P_ALL taps: filter below. */
		.sll_protocol = htons(ETH_P_ALL),
	};
	int one = 1, rcvbuf = CAP_RCVBUF, err;
	struct etcp_cap *cap;
	struct ifreq ifr = {};

	if (strlen(ifname) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return NULL;
	cap->priv = calloc(1, sizeof(*cap->priv));
	if (!cap->priv) {
		free(cap);
		return NULL;
	}
	cap->ipproto = ipproto;
	/* Before the socket exists, so that no timestamp precedes it. */
	cap->t0 = realtime_ns();

	/* Protocol 0 receives nothing until bind() names the interface. */
	cap->priv->fd = ns_socket(nsfd, AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cap->priv->fd < 0)
		goto err;
	/* Device ioctls act in the socket's namespace, not the caller's. */
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(cap->priv->fd, SIOCGIFINDEX, &ifr))
		goto err;
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (setsockopt(cap->priv->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) &&
	    setsockopt(cap->priv->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		       sizeof(rcvbuf)))
		goto err;
	if (setsockopt(cap->priv->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
		       sizeof(one)) ||
	    setsockopt(cap->priv->fd, SOL_PACKET, PACKET_AUXDATA, &one,
		       sizeof(one)))
		goto err;
	if (bind(cap->priv->fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto err;
	return cap;

err:
	err = errno;
	if (cap->priv->fd >= 0)
		close(cap->priv->fd);
	free(cap->priv);
	free(cap);
	errno = err;
	return NULL;
}

void etcp_cap_stop(struct etcp_cap *cap)
{
	if (!cap)
		return;
	if (cap->priv->fd >= 0)
		close(cap->priv->fd);
	free(cap->priv->text);
	free(cap->priv);
	free(cap);
}

int64_t etcp_cap_now(const struct etcp_cap *cap)
{
	return realtime_ns() - cap->t0;
}

static struct cap_flow *cap_flow(struct etcp_cap *cap, int family,
				 const struct in6_addr *saddr, uint16_t sport,
				 const struct in6_addr *daddr, uint16_t dport,
				 bool add)
{
	struct etcp_cap_priv *p = cap->priv;
	struct cap_flow *f;
	size_t i;

	for (i = 0; i < p->nflows; i++) {
		f = &p->flows[i];
		if (f->family == family && f->sport == sport &&
		    f->dport == dport && IN6_ARE_ADDR_EQUAL(&f->saddr, saddr) &&
		    IN6_ARE_ADDR_EQUAL(&f->daddr, daddr))
			return f;
	}
	if (!add || p->nflows == CAP_MAX_FLOWS)
		return NULL;
	f = &p->flows[p->nflows++];
	f->family = family;
	f->saddr = *saddr;
	f->daddr = *daddr;
	f->sport = sport;
	f->dport = dport;
	return f;
}

/*
 * Relative numbers, learning ISNs from SYNs as they go by.  A SYN sets the
 * ISN of its flow when the flow is new, when the other way has none yet (a
 * SYN_SENT attempt given up and made again), or after an RST or FIN went
 * either way (a new connection on the same 4-tuple); a SYN inside a
 * synchronized connection (a challenge, a forgery) is shown relative to
 * the ISN in use.  Malformed segments (a wrong checksum too) are numbered
 * but teach nothing.
 */
static void cap_relative(struct etcp_cap *cap, struct etcp_cap_seg *seg)
{
	bool wellformed = !seg->bad && seg->csum != 0;
	bool syn = wellformed && (seg->flags & ETCP_TH_SYN);
	struct cap_flow *f, *rev;

	if (seg->seglen < 20)
		return;
	f = cap_flow(cap, seg->family, &seg->saddr6, seg->sport, &seg->daddr6,
		     seg->dport, syn);
	rev = cap_flow(cap, seg->family, &seg->daddr6, seg->dport, &seg->saddr6,
		       seg->sport, false);
	if (syn && f && (!f->known || f->closed || !rev || !rev->known)) {
		f->isn = seg->seq;
		f->known = true;
		f->closed = false;
	}
	if (f && f->known)
		seg->rseq = (uint32_t)(seg->seq - f->isn);
	if (rev && rev->known && (seg->flags & ETCP_TH_ACK))
		seg->rack = (uint32_t)(seg->ack - rev->isn);
	if (wellformed && (seg->flags & (ETCP_TH_RST | ETCP_TH_FIN))) {
		if (f)
			f->closed = true;
		if (rev)
			rev->closed = true;
	}
}

int etcp_cap_read_frame(int fd, void *buf, size_t size, struct etcp_cap_frame *f)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec)) +
			 CMSG_SPACE(sizeof(struct tpacket_auxdata)) + 64];
		struct cmsghdr align;
	} ctrl;
	struct iovec iov = { buf, size };
	struct sockaddr_ll sll;
	struct msghdr msg = {
		.msg_name = &sll,
		.msg_namelen = sizeof(sll),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	do {
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	f->len = n;
	f->proto = sll.sll_protocol;
	f->pkttype = sll.sll_pkttype;
	f->stamp = -1;
	f->csum_pending = false;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			f->stamp = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		} else if (cm->cmsg_level == SOL_PACKET &&
			   cm->cmsg_type == PACKET_AUXDATA) {
			struct tpacket_auxdata aux;

			memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
			f->csum_pending = aux.tp_status & TP_STATUS_CSUMNOTREADY;
		}
	}
	return 0;
}

/* Read one queued packet: 1, 0 when none is left, or -errno. */
static int cap_read_one(struct etcp_cap *cap)
{
	struct etcp_cap_priv *p = cap->priv;
	struct etcp_cap_frame f;
	struct etcp_cap_seg seg;
	int ret;

	ret = etcp_cap_read_frame(p->fd, p->pkt, sizeof(p->pkt), &f);
	if (ret)
		return ret == -EAGAIN ? 0 : ret;
	if ((f.proto != htons(ETH_P_IP) && f.proto != htons(ETH_P_IPV6)) ||
	    etcp_cap_parse(p->pkt, f.len, cap->ipproto, &seg)) {
		cap->other++;
		return 1;
	}
	if (cap->n == ETCP_CAP_MAX_SEGS) {
		cap->lost++;
		return 1;
	}
	/* A kernel without a stamp: the best we have is now. */
	seg.t = (f.stamp < 0 ? realtime_ns() : f.stamp) - cap->t0;
	seg.out = f.pkttype == PACKET_OUTGOING;
	if (f.csum_pending)
		seg.csum = -1;
	cap_relative(cap, &seg);
	cap->seg[cap->n++] = seg;
	return 1;
}

size_t etcp_cap_poll(struct etcp_cap *cap)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	while (cap_read_one(cap) > 0)
		;
	/* Reading the statistics resets them: add the drops up. */
	if (!getsockopt(cap->priv->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		cap->lost += st.tp_drops;
	return cap->n;
}

/* Wait until fd is readable or ms pass; the caller re-checks. */
static void cap_wait_readable(struct etcp_cap *cap, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = cap->priv->fd, .events = POLLIN };
	int64_t left = deadline_ms - now_ms();

	if (left > 0)
		poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
}

int etcp_cap_wait(struct etcp_cap *cap, size_t n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		if (etcp_cap_poll(cap) >= n)
			return 0;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		cap_wait_readable(cap, deadline);
	}
}

bool etcp_cap_sel_match(const struct etcp_cap_seg *seg, const void *arg)
{
	const struct etcp_cap_sel *sel = arg;

	return (seg->flags & sel->mask) == sel->flags &&
	       (!sel->sport || seg->sport == sel->sport) &&
	       (!sel->dport || seg->dport == sel->dport);
}

long etcp_cap_find(const struct etcp_cap *cap, size_t from,
		   etcp_cap_match_fn *fn, const void *arg)
{
	size_t i;

	for (i = from; i < cap->n; i++)
		if (!fn || fn(&cap->seg[i], arg))
			return i;
	return -1;
}

long etcp_cap_wait_match(struct etcp_cap *cap, size_t from,
			 etcp_cap_match_fn *fn, const void *arg, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	long i;

	for (;;) {
		etcp_cap_poll(cap);
		i = etcp_cap_find(cap, from, fn, arg);
		if (i >= 0)
			return i;
		/* Only what arrived since is new. */
		if (cap->n > from)
			from = cap->n;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		cap_wait_readable(cap, deadline);
	}
}

size_t etcp_cap_count(const struct etcp_cap *cap, size_t from,
		      etcp_cap_match_fn *fn, const void *arg)
{
	size_t i, n = 0;

	for (i = from; i < cap->n; i++)
		if (!fn || fn(&cap->seg[i], arg))
			n++;
	return n;
}

bool etcp_wsel_match(const struct etcp_cap_seg *s, const void *arg)
{
	const struct etcp_wsel *w = arg;

	return (!(w->what & ETCP_W_SPORT) || s->sport == w->sport) &&
	       (!(w->what & ETCP_W_DPORT) || s->dport == w->dport) &&
	       (!(w->what & ETCP_W_FLAGS) || s->flags == w->flags) &&
	       (!(w->what & ETCP_W_LEN) || s->len == w->len) &&
	       (!(w->what & ETCP_W_DATA) || s->len > 0) &&
	       (!(w->what & ETCP_W_RSEQ) || s->rseq == w->rseq) &&
	       (!(w->what & ETCP_W_RACK) || s->rack == w->rack) &&
	       (!(w->what & ETCP_W_WIN) || s->window == w->win);
}

long etcp_wsel_find(const struct etcp_cap *cap, size_t from, const struct etcp_wsel *w)
{
	return etcp_cap_find(cap, from, etcp_wsel_match, w);
}

size_t etcp_wsel_count(const struct etcp_cap *cap, size_t from, const struct etcp_wsel *w)
{
	return etcp_cap_count(cap, from, etcp_wsel_match, w);
}

long etcp_wsel_wait(struct etcp_cap *cap, size_t from, const struct etcp_wsel *w, int ms)
{
	long i = etcp_cap_wait_match(cap, from, etcp_wsel_match, w, ms);

	return i < 0 ? -1 : i;
}

/* -------------------------------------------------------------- text */

/* Endpoint i's name: A..Z, then N26, N27, ... */
static void cap_label(size_t i, char *buf, size_t size)
{
	if (i < 26)
		snprintf(buf, size, "%c", (int)('A' + i));
	else
		snprintf(buf, size, "N%zu", i);
}

/* "a.b.c.d:port" or "[v6]:port" of an address kept as struct cap_name's. */
static void cap_addr_str(int family, const struct in6_addr *addr,
			 uint16_t port, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (family == AF_INET) {
		inet_ntop(AF_INET, &addr->s6_addr[12], a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, port);
	}
}

/* The name of addr:port, learning it if it is new. */
static void cap_name(struct etcp_cap_priv *p, int family,
		     const struct in6_addr *addr, uint16_t port, char *buf,
		     size_t size)
{
	size_t i;

	for (i = 0; i < p->nnames; i++)
		if (p->names[i].family == family && p->names[i].port == port &&
		    IN6_ARE_ADDR_EQUAL(&p->names[i].addr, addr))
			break;
	if (i == p->nnames && p->nnames < CAP_MAX_NAMES) {
		p->names[i].family = family;
		p->names[i].addr = *addr;
		p->names[i].port = port;
		p->nnames++;
	}
	if (i == CAP_MAX_NAMES)
		cap_addr_str(family, addr, port, buf, size);
	else
		cap_label(i, buf, size);
}

void etcp_cap_flags_str(uint8_t flags, char *buf)
{
	static const struct { uint8_t bit; char c; } bits[] = {
		{ ETCP_TH_SYN, 'S' }, { ETCP_TH_FIN, 'F' }, { ETCP_TH_RST, 'R' },
		{ ETCP_TH_PSH, 'P' }, { ETCP_TH_ACK, 'A' }, { ETCP_TH_URG, 'U' },
		{ ETCP_TH_ECE, 'E' }, { ETCP_TH_CWR, 'C' },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bits); i++)
		if (flags & bits[i].bit)
			*buf++ = bits[i].c;
	if (!flags)
		*buf++ = '-';
	*buf = '\0';
}

int etcp_cap_fmt_seg(const struct etcp_cap *cap, const struct etcp_cap_seg *seg,
		     char *buf, size_t size)
{
	char src[64], dst[64], flags[9], num[64] = "", opts[3 * 40 + 8] = "";
	const char *bad = seg->bad;
	int n, i;

	cap_name(cap->priv, seg->family, &seg->saddr6, seg->sport, src,
		 sizeof(src));
	cap_name(cap->priv, seg->family, &seg->daddr6, seg->dport, dst,
		 sizeof(dst));
	etcp_cap_flags_str(seg->flags, flags);

	if (seg->seglen >= 20) {
		/* Relative numbers before the ISN (forgeries) show negative. */
		if (seg->rseq >= 0)
			n = snprintf(num, sizeof(num), "seq=%d", (int32_t)seg->rseq);
		else
			n = snprintf(num, sizeof(num), "seq=0x%08x", seg->seq);
		if (seg->flags & ETCP_TH_ACK) {
			if (seg->rack >= 0)
				snprintf(num + n, sizeof(num) - n, " ack=%d",
					 (int32_t)seg->rack);
			else
				snprintf(num + n, sizeof(num) - n, " ack=0x%08x",
					 seg->ack);
		}
	}
	/* Options other than a lone MSS are shown byte by byte. */
	if (seg->optlen && !(seg->mss && seg->optlen == 4)) {
		n = snprintf(opts, sizeof(opts), " opt=");
		for (i = 0; i < seg->optlen; i++)
			n += snprintf(opts + n, sizeof(opts) - n, "%02x",
				      seg->opts[i]);
	}

	if (seg->seglen < 20)
		return snprintf(buf, size, "%5s>%-5s %d bytes [%s]", src, dst,
				seg->seglen, bad);
	n = snprintf(buf, size, "%5s>%-5s %-4s %s win=%u", src, dst, flags,
		     num, seg->window);
	if (seg->mss && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " mss=%u", seg->mss);
	if (n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " len=%u%s", seg->len, opts);
	if (seg->tos && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " tc=0x%02x", seg->tos);
	if (seg->flowlabel && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " fl=0x%05x", seg->flowlabel);
	if (seg->csum == 0 && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " csum=BAD");
	if (bad && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " [%s, doff=%u]", bad,
			      seg->doff);
	return n;
}

/* Append to the text buffer, growing it. */
static void cap_text_add(struct etcp_cap_priv *p, size_t *len,
			 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void cap_text_add(struct etcp_cap_priv *p, size_t *len,
			 const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(p->text + *len, p->textsize - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (*len + n < p->textsize) {
			*len += n;
			return;
		}
		char *t = realloc(p->text, p->textsize * 2 + n);

		if (!t)
			return;
		p->text = t;
		p->textsize = p->textsize * 2 + n;
	}
}

const char *etcp_cap_str(struct etcp_cap *cap)
{
	struct etcp_cap_priv *p = cap->priv;
	char line[512];
	size_t len = 0, i;

	etcp_cap_poll(cap);
	if (!p->text) {
		p->textsize = 4096;
		p->text = malloc(p->textsize);
		if (!p->text)
			return "(out of memory)";
	}
	p->text[0] = '\0';
	/* Name the endpoints in order of appearance before the title. */
	for (i = 0; i < cap->n; i++)
		etcp_cap_fmt_seg(cap, &cap->seg[i], line, sizeof(line));

	cap_text_add(p, &len, "captured %zu segments of protocol %d",
		     cap->n, cap->ipproto);
	if (cap->lost)
		cap_text_add(p, &len, ", %zu LOST", cap->lost);
	cap_text_add(p, &len, " (seq/ack relative to each side's ISN, 0x... absolute):");
	for (i = 0; i < p->nnames; i++) {
		char addr[64];

		cap_label(i, line, sizeof(line));
		cap_addr_str(p->names[i].family, &p->names[i].addr,
			     p->names[i].port, addr, sizeof(addr));
		cap_text_add(p, &len, "%s%s=%s", i % 4 ? "  " : "\n#   ",
			     line, addr);
	}
	for (i = 0; i < cap->n; i++) {
		const struct etcp_cap_seg *s = &cap->seg[i];

		etcp_cap_fmt_seg(cap, s, line, sizeof(line));
		cap_text_add(p, &len, "\n# %3zu %+9.3f %s", i,
			     s->t / 1e9, line);
	}
	if (!cap->n)
		cap_text_add(p, &len, "\n#   (nothing)");
	return p->text;
}
