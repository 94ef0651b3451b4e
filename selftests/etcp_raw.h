/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hand-made segments for etcp selftests: a SYN without options, forged
 * SYN-ACKs, RSTs and ACKs, and malformed headers, sent from a raw IP
 * socket (socket(AF_INET, SOCK_RAW, proto)) inside a network namespace.
 * The kernel builds the IP header; the transport header, options, payload
 * and checksum are ours, right or deliberately wrong.
 *
 * A raw socket of protocol P also receives a copy of every protocol-P
 * datagram its namespace delivers (after the nftables input hook), while
 * the namespace's own stack still handles it: etcp_raw_recv() reads them.
 *
 * Functions return 0 (or a length) or a negative errno;
 * etcp_raw_open() returns an fd, or -1 with errno set.
 */
#ifndef _ETCP_RAW_H
#define _ETCP_RAW_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "etcp_capture.h"

/* Option kinds (RFC 9293 3.2). */
#define ETCP_OPT_EOL		0
#define ETCP_OPT_NOP		1
#define ETCP_OPT_MSS		2	/* length 4, then the MSS */
#define ETCP_OPT_WSCALE		3	/* length 3, then the shift (RFC 7323) */
#define ETCP_OPT_SACK_PERM	4	/* length 2 (RFC 2018) */
#define ETCP_OPT_SACK		5	/* 2 + 8 per block (RFC 2018) */

enum etcp_raw_csum {
	ETCP_RAW_CSUM_OK = 0,	/* the right checksum (the default) */
	ETCP_RAW_CSUM_BAD,	/* the right one with bits flipped */
};

/* One segment to send; zero-initialise and set what matters. */
struct etcp_raw_seg {
	const char *saddr;	/* IPv4 or IPv6 (both the same), local to the socket's netns */
	const char *daddr;
	uint16_t sport, dport;	/* host order */
	uint32_t seq, ack;	/* host order; ack goes out whatever the flags */
	uint8_t flags;		/* ETCP_TH_* */
	uint16_t window;
	uint16_t urg;
	const void *opts;	/* option bytes after the fixed header, */
	size_t optlen;		/* zero-padded to a multiple of 4 */
	const void *data;	/* payload after the options, <= 1500 bytes */
	size_t datalen;
	int doff;		/* data offset field, 0..15; 0 = the real length */
	enum etcp_raw_csum csum;
	size_t trunc;		/* send only the first trunc bytes; 0 = all */
};

/* A raw socket of protocol ipproto in netns nsfd; fd or -1 with errno. */
int etcp_raw_open(int nsfd, int ipproto);
/*
 * The same for IPv6 (AF_INET6).  Such a socket computes no transport
 * checksum (no IPV6_CHECKSUM): the segment goes out exactly as built; it
 * reports each datagram's destination (IPV6_RECVPKTINFO).
 */
int etcp_raw_open6(int nsfd, int ipproto);
/* etcp_raw_open() or etcp_raw_open6() by @family (AF_INET or AF_INET6). */
int etcp_raw_open_af(int nsfd, int ipproto, int family);

/*
 * Build seg into buf as it would be sent with protocol ipproto (checksum
 * included, truncation applied): the length, or -EMSGSIZE / -EINVAL.
 */
ssize_t etcp_raw_build(const struct etcp_raw_seg *seg, int ipproto,
		       uint8_t *buf, size_t size);

/*
 * Build and send seg on raw socket fd (the pseudo-header takes the
 * socket's protocol), leaving from seg->saddr: 0 or -errno.
 */
int etcp_raw_send(int fd, const struct etcp_raw_seg *seg);

/*
 * Send @len arbitrary bytes (0..1480) as the transport segment, exactly
 * as given, from @saddr to @daddr on raw socket fd (an IPv6 one for IPv6
 * addresses): 0 or -errno.
 */
int etcp_raw_send_bytes(int fd, const char *saddr, const char *daddr,
			const void *buf, size_t len);

/*
 * The next datagram the namespace received that fn accepts (NULL: any),
 * parsed as etcp_cap_parse() does (rseq/rack -1, t the CLOCK_REALTIME ns
 * of arrival): 0, or -ETIMEDOUT after timeout_ms.  seg->csum checks the
 * bytes as received: for TCP over veth (checksum offload) it may be 0.
 * An IPv6 raw socket receives no IP header: the addresses come from the
 * source address and IPV6_PKTINFO (etcp_raw_open6() asks for it), the
 * traffic class, flow label and hop limit read 0.
 */
int etcp_raw_recv(int fd, etcp_cap_match_fn *fn, const void *arg,
		  struct etcp_cap_seg *seg, int timeout_ms);

/*
 * Parse an IPv4 or IPv6 address: AF_INET (@addr v4-mapped, as
 * etcp_capture.h gives IPv4 addresses) or AF_INET6, or -EINVAL.
 */
int etcp_raw_addr(const char *str, struct in6_addr *addr);

/* Write the 4 bytes of an MSS option at p; returns 4. */
size_t etcp_raw_opt_mss(uint8_t *p, uint16_t mss);
/*
 * Write NOP, NOP and a SACK option of @n blocks at p, Linux's layout:
 * block i is [base + off[2i], base + off[2i + 1]).  Returns 4 + 8 * @n.
 */
size_t etcp_raw_opt_sack(uint8_t *p, uint32_t base, const uint32_t *off, int n);

/* The Internet checksum (RFC 1071) of @len bytes: IP and ICMP headers. */
uint16_t etcp_inet_csum(const void *buf, size_t len);

/* The Internet checksum of a segment over the pseudo-header (RFC 9293 3.1). */
uint16_t etcp_raw_csum(struct in_addr saddr, struct in_addr daddr, int ipproto,
		       const void *seg, size_t len);
/* The same over IPv6's pseudo-header (RFC 8200 8.1). */
uint16_t etcp_raw_csum6(const struct in6_addr *saddr, const struct in6_addr *daddr,
			int ipproto, const void *seg, size_t len);

/* Either of the two by @family; IPv4 addresses v4-mapped (etcp_raw_addr()). */
uint16_t etcp_raw_csum_af(int family, const struct in6_addr *saddr,
			  const struct in6_addr *daddr, int ipproto,
			  const void *seg, size_t len);

#endif /* _ETCP_RAW_H */
