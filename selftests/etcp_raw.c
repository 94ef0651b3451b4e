// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-made segments for etcp selftests: see etcp_raw.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "etcp_netns.h"
#include "etcp_raw.h"

#define RAW_HDR_MAX	60
#define RAW_PKT_MAX	65536

/* @sum plus the 16-bit big-endian words of @buf, folded and complemented. */
static uint16_t csum_finish(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t etcp_inet_csum(const void *buf, size_t len)
{
	return csum_finish(0, buf, len);
}

uint16_t etcp_raw_csum(struct in_addr saddr, struct in_addr daddr, int ipproto,
		       const void *seg, size_t len)
{
	uint32_t sum = 0;

	/* Pseudo-header: source, destination, zero, protocol, length. */
	sum += ntohl(saddr.s_addr) >> 16;
	sum += ntohl(saddr.s_addr) & 0xffff;
	sum += ntohl(daddr.s_addr) >> 16;
	sum += ntohl(daddr.s_addr) & 0xffff;
	sum += (uint8_t)ipproto;
	sum += (uint32_t)len;	/* < 65536: fits the 16-bit field */
	return csum_finish(sum, seg, len);
}

uint16_t etcp_raw_csum6(const struct in6_addr *saddr, const struct in6_addr *daddr,
			int ipproto, const void *seg, size_t len)
{
	uint32_t sum = 0;
	int i;

	/*
	 * Pseudo-header: source, destination, 32-bit upper-layer length,
	 * three zero bytes, next header.
	 */
	for (i = 0; i < 16; i += 2) {
		sum += (uint32_t)saddr->s6_addr[i] << 8 | saddr->s6_addr[i + 1];
		sum += (uint32_t)daddr->s6_addr[i] << 8 | daddr->s6_addr[i + 1];
	}
	sum += (uint32_t)len >> 16;
	sum += (uint32_t)len & 0xffff;
	sum += (uint8_t)ipproto;
	return csum_finish(sum, seg, len);
}

int etcp_raw_addr(const char *str, struct in6_addr *addr)
{
	struct in_addr a4;

	if (!str)
		return -EINVAL;
	if (inet_pton(AF_INET, str, &a4) == 1) {
		/* v4-mapped, as etcp_capture.h gives IPv4 addresses in saddr6. */
		memset(addr, 0, sizeof(*addr));
		addr->s6_addr[10] = addr->s6_addr[11] = 0xff;
		memcpy(addr->s6_addr + 12, &a4, 4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, str, addr) == 1)
		return AF_INET6;
	return -EINVAL;
}

uint16_t etcp_raw_csum_af(int family, const struct in6_addr *saddr,
			  const struct in6_addr *daddr, int ipproto,
			  const void *seg, size_t len)
{
	struct in_addr s4, d4;

	if (family == AF_INET6)
		return etcp_raw_csum6(saddr, daddr, ipproto, seg, len);
	memcpy(&s4, saddr->s6_addr + 12, 4);
	memcpy(&d4, daddr->s6_addr + 12, 4);
	return etcp_raw_csum(s4, d4, ipproto, seg, len);
}

size_t etcp_raw_opt_mss(uint8_t *p, uint16_t mss)
{
	p[0] = ETCP_OPT_MSS;
	p[1] = 4;
	p[2] = mss >> 8;
	p[3] = mss;
	return 4;
}

size_t etcp_raw_opt_sack(uint8_t *p, uint32_t base, const uint32_t *off, int n)
{
	int i;

	p[0] = ETCP_OPT_NOP;
	p[1] = ETCP_OPT_NOP;
	p[2] = ETCP_OPT_SACK;
	p[3] = 2 + 8 * n;
	for (i = 0; i < 2 * n; i++) {
		uint32_t v = htonl(base + off[i]);

		memcpy(p + 4 + 4 * i, &v, 4);
	}
	return 4 + 8 * n;
}

int etcp_raw_open(int nsfd, int ipproto)
{
	return ns_socket(nsfd, AF_INET, SOCK_RAW | SOCK_CLOEXEC, ipproto);
}

int etcp_raw_open6(int nsfd, int ipproto)
{
	int fd, on = 1, err;

	/* No IPV6_CHECKSUM: the kernel sends our checksum field as it is. */
	fd = ns_socket(nsfd, AF_INET6, SOCK_RAW | SOCK_CLOEXEC, ipproto);
	/* Each datagram's destination, for etcp_raw_recv() (no IP header). */
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int etcp_raw_open_af(int nsfd, int ipproto, int family)
{
	return family == AF_INET6 ? etcp_raw_open6(nsfd, ipproto) :
				    etcp_raw_open(nsfd, ipproto);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

ssize_t etcp_raw_build(const struct etcp_raw_seg *seg, int ipproto,
		       uint8_t *buf, size_t size)
{
	size_t hdrlen = 20 + ((seg->optlen + 3) & ~(size_t)3);
	size_t len = hdrlen + seg->datalen;
	struct in6_addr saddr, daddr;
	uint16_t csum;
	int family;

	if (seg->doff < 0 || seg->doff > 15 || hdrlen > RAW_HDR_MAX)
		return -EINVAL;
	family = etcp_raw_addr(seg->saddr, &saddr);
	if (family < 0 || etcp_raw_addr(seg->daddr, &daddr) != family)
		return -EINVAL;
	if (len > size)
		return -EMSGSIZE;

	memset(buf, 0, hdrlen);
	put16(buf, seg->sport);
	put16(buf + 2, seg->dport);
	put32(buf + 4, seg->seq);
	put32(buf + 8, seg->ack);
	buf[12] = (seg->doff ? (unsigned int)seg->doff : hdrlen / 4) << 4;
	buf[13] = seg->flags;
	put16(buf + 14, seg->window);
	put16(buf + 18, seg->urg);
	if (seg->optlen)
		memcpy(buf + 20, seg->opts, seg->optlen);
	if (seg->datalen)
		memcpy(buf + hdrlen, seg->data, seg->datalen);

	if (seg->trunc && seg->trunc < len)
		len = seg->trunc;
	/* Over what is sent: the receiver sums the datagram it gets. */
	if (len >= 18) {
		csum = etcp_raw_csum_af(family, &saddr, &daddr, ipproto, buf, len);
		if (seg->csum == ETCP_RAW_CSUM_BAD)
			csum ^= 0x5555;	/* never 0 <-> 0xffff, the same in 1s' complement */
		put16(buf + 16, csum);
	}
	return len;
}

/* etcp_raw_send_bytes() over IPv6: IPV6_PKTINFO sets the source. */
static int raw_send_bytes6(int fd, const char *saddr, const char *daddr,
			   const void *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctrl = {};
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6 };
	struct in6_pktinfo pi = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &dst,
		.msg_namelen = sizeof(dst),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;

	if (inet_pton(AF_INET6, daddr, &dst.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, saddr, &pi.ipi6_addr) != 1)
		return -EINVAL;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IPV6;
	cm->cmsg_type = IPV6_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));

	errno = 0;
	if (sendmsg(fd, &msg, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

int etcp_raw_send_bytes(int fd, const char *saddr, const char *daddr,
			const void *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctrl = {};
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct in_pktinfo pi = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &dst,
		.msg_namelen = sizeof(dst),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.buf,
		.msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm;

	if (daddr && strchr(daddr, ':'))
		return raw_send_bytes6(fd, saddr, daddr, buf, len);
	if (inet_pton(AF_INET, daddr, &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, saddr, &pi.ipi_spec_dst) != 1)
		return -EINVAL;
	/* The source the checksum was computed for, not the route's choice. */
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));

	errno = 0;
	if (sendmsg(fd, &msg, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

int etcp_raw_send(int fd, const struct etcp_raw_seg *seg)
{
	uint8_t pkt[RAW_HDR_MAX + 1500];
	socklen_t plen = sizeof(int);
	int proto;
	ssize_t len;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen))
		return -errno;
	len = etcp_raw_build(seg, proto, pkt, sizeof(pkt));
	if (len < 0)
		return len;
	return etcp_raw_send_bytes(fd, seg->saddr, seg->daddr, pkt, len);
}

static int64_t raw_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * recv() on an IPv6 raw socket, which gives the datagram without its IP
 * header: a header of our own in front of it (addresses from the source
 * address and IPV6_PKTINFO; traffic class, flow label and hop limit 0),
 * so that etcp_cap_parse() reads it as the IPv4 socket's.  The length, or
 * -1 with errno.
 */
static ssize_t raw_recv6(int fd, int proto, uint8_t *pkt, size_t size)
{
	char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct iovec iov = { .iov_base = pkt + 40, .iov_len = size - 40 };
	struct sockaddr_in6 from;
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return n;
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	put16(pkt + 4, n);
	pkt[6] = proto;
	memcpy(pkt + 8, &from.sin6_addr, 16);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
			memcpy(pkt + 24, &((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_addr, 16);
	return n + 40;
}

int etcp_raw_recv(int fd, etcp_cap_match_fn *fn, const void *arg,
		  struct etcp_cap_seg *seg, int timeout_ms)
{
	static uint8_t pkt[RAW_PKT_MAX];
	int64_t deadline = raw_monotonic_ms() + timeout_ms, left;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	socklen_t plen = sizeof(int);
	struct timespec ts;
	int proto, domain;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen))
		return -errno;
	plen = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &plen))
		return -errno;
	for (;;) {
		n = domain == AF_INET6 ? raw_recv6(fd, proto, pkt, sizeof(pkt)) :
					 recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n >= 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			if (etcp_cap_parse(pkt, n, proto, seg))
				continue;
			seg->t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			if (!fn || fn(seg, arg))
				return 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		left = deadline - raw_monotonic_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
	}
}
