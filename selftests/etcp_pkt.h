/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A raw peer on the link, for etcp selftests: an AF_PACKET socket
 * (SOCK_RAW, ETH_P_IP) bound to one end of the veth pair, which sends
 * whole Ethernet frames built here and reads the frames that arrive.
 *
 *   netns a                                  netns b
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *   listener                                 AF_PACKET socket, speaking
 *   neighbour 10.0.1.3 -> eb's MAC           as 10.0.1.3 (nobody's address)
 *
 * Why not a raw IP socket (etcp_raw.h): those build linear skbs only,
 * while a NIC, virtio or veth hands a large frame up in page fragments.
 * packet_snd() builds a frame of at least a page as a paged skb (its
 * linear part is the link-layer header alone: packet_alloc_skb()) and veth
 * passes it on as it is, so the receiver's transport sees what a real
 * device gives it: headers pulled into the linear part, payload in frags.
 *
 * The peer speaks from an address no namespace owns, so that no stack in
 * netns b answers anything it is sent (b does not forward), and netns a
 * gets a permanent neighbour entry for that address with eb's MAC, so that
 * its answers reach eb, where the packet socket reads them.
 * etcp_pkt_link() sets this up, and the MTU of both ends (9000 lets a
 * frame carry 8960 bytes of payload).
 *
 * The frames: dst MAC the other end's, src MAC the bound interface's,
 * ethertype IPv4; IPv4 header of 20 bytes with DF, TTL 64, a fresh ID,
 * the right header checksum.  Or, for a peer opened with IPv6 addresses
 * (etcp_pkt_open_veth6(): fd00:1::3 toward ea's fd00:1::1), ethertype
 * IPv6; IPv6 header of 40 bytes, traffic class and flow label 0, the
 * payload length, next header the protocol, hop limit 64, no extension
 * header.  Then the transport segment (TCP's format)
 * from etcp_raw_build(), checksum included (or any bytes:
 * etcp_pkt_send_ip()).  Received frames are parsed by etcp_cap_parse();
 * the peer's own outgoing frames (PACKET_OUTGOING) are skipped.
 *
 * One connection at a time (etcp_pkt_connect()): its sequence numbers are
 * given relative to the ISNs as etcp_capture.h reckons them: rseq is
 * SEG.SEQ - ISN of the segment's direction, rack is SEG.ACK - ISN of the
 * other; the first data byte is at 1.  Segments of other flows are
 * returned with rseq/rack -1.
 *
 * Frames need not belong to the connection: etcp_pkt_send_seg() sends any
 * struct etcp_raw_seg with the addresses it names (a segment forged as
 * 10.0.1.2 from eb draws answers that netns b's own stack receives), and
 * etcp_pkt_send_ip() / etcp_pkt_send_frame() any bytes.
 *
 *	etcp_pkt_link(&ns, ETCP_PKT_ADDR, ETCP_PKT_MTU);
 *	etcp_pkt_open_veth(&pk, &ns, IPPROTO_ETCP);
 *	...a listener on 10.0.1.1:5000 in netns a...
 *	etcp_pkt_connect(&pk, 40200, 5000, iss, 8960, NULL, 2000);
 *	etcp_pkt_send(&pk, 1, ETCP_TH_ACK, buf, 5000);	(a paged 5054-byte frame)
 *	etcp_pkt_next(&pk, &seg, 2000);			(seg.rack == 5001)
 *	etcp_pkt_close(&pk);
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef _ETCP_PKT_H
#define _ETCP_PKT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "etcp_capture.h"
#include "etcp_raw.h"

struct etcp_netns;

#define ETCP_PKT_ADDR		"10.0.1.3"	/* owned by no namespace */
#define ETCP_PKT_ADDR6		"fd00:1::3"	/* nor this one */
#define ETCP_PKT_MTU		9000
#define ETCP_PKT_ETH_HLEN	14
#define ETCP_PKT_IP_HLEN	20
#define ETCP_PKT_IP6_HLEN	40
/* The largest transport segment a frame carries (IP's 65535 less 20). */
#define ETCP_PKT_SEG_MAX	65515
/* IPv6's payload length counts the transport segment alone. */
#define ETCP_PKT_SEG_MAX6	65535

struct etcp_pkt {
	int fd;			/* the packet socket, -1 when closed */
	int ifindex;
	int ipproto;		/* 6 or 253: what is built and parsed */
	int family;		/* AF_INET or AF_INET6: of the addresses */
	uint8_t smac[6];	/* the bound interface's */
	uint8_t dmac[6];	/* the other end's */
	struct in_addr saddr;	/* the peer's address (connection), IPv4 */
	struct in_addr daddr;	/* the other end's */
	/* Either family's, IPv4 v4-mapped (as etcp_capture.h gives them). */
	struct in6_addr saddr6, daddr6;
	uint16_t ip_id;		/* the next IPv4 ID */
	size_t page;		/* the page size */
	size_t frames;		/* frames sent */
	size_t paged;		/* of them, frames of at least a page: built paged */

	/* The connection, from etcp_pkt_connect() on. */
	bool conn;
	uint16_t sport, dport;	/* host order, ours and theirs */
	uint32_t iss, irs;	/* ISNs: ours, theirs */
	uint32_t rcv_nxt;	/* absolute: what our segments acknowledge */
	uint16_t adv_wnd;	/* the window our segments announce (65535) */
	uint16_t mss;		/* the MSS of their SYN-ACK (0: none) */
	int64_t una;		/* the highest rack received */
	uint16_t wnd;		/* the window of their latest segment */
	int64_t edge;		/* the furthest rack + window received */
	size_t acks;		/* segments received on the connection */
	/* The payload (seg.len bytes) of the segment read last, until the next read. */
	const uint8_t *data;

	/* What went each way, for etcp_pkt_str(). */
	int64_t t0;		/* CLOCK_REALTIME ns at open */
	struct etcp_cap_seg *hist;	/* the last ETCP_PKT_HIST segments */
	size_t nhist;		/* recorded in all */
	char *text;
};

#define ETCP_PKT_HIST		512

/*
 * Set up the link of ns for a peer speaking as @addr (IPv4 or IPv6) from
 * eb: MTU @mtu on ea and eb (ioctls), a permanent neighbour entry for
 * @addr with eb's MAC in netns a (SIOCSARP; for IPv6, which has no such
 * ioctl, ip(8)), and no forwarding of that family in netns b.  Call it
 * once per address the peer speaks as.
 */
int etcp_pkt_link(const struct etcp_netns *ns, const char *addr, int mtu);

/* The MAC address of @ifname in nsfd. */
int etcp_pkt_if_mac(int nsfd, const char *ifname, uint8_t mac[6]);

/*
 * Open @pk: a packet socket in nsfd bound to @ifname, sending frames to
 * @dmac and building segments of @ipproto from @saddr to @daddr (both
 * IPv4 or both IPv6: pk->family; the socket sends and reads that
 * ethertype only).  On error nothing is left open (pk->fd is -1).
 */
int etcp_pkt_open(struct etcp_pkt *pk, int nsfd, const char *ifname,
		  int ipproto, const char *saddr, const char *daddr,
		  const uint8_t dmac[6]);
/* The peer of the veth pair of ns: eb, as ETCP_PKT_ADDR, toward ea's 10.0.1.1. */
int etcp_pkt_open_veth(struct etcp_pkt *pk, const struct etcp_netns *ns,
		       int ipproto);
/* The same over IPv6: eb as ETCP_PKT_ADDR6, toward ea's fd00:1::1. */
int etcp_pkt_open_veth6(struct etcp_pkt *pk, const struct etcp_netns *ns,
			int ipproto);
/* Close the socket; safe on a peer never opened if zeroed with fd -1. */
void etcp_pkt_close(struct etcp_pkt *pk);

/* ------------------------------------------------------------ frames */

/* Send one whole frame (Ethernet header included) as it is. */
int etcp_pkt_send_frame(struct etcp_pkt *pk, const void *frame, size_t len);
/*
 * Send @len bytes (at most ETCP_PKT_SEG_MAX, or ETCP_PKT_SEG_MAX6) as the
 * payload of an IP packet of pk->family and pk->ipproto from @saddr to
 * @daddr (NULL: the peer's own addresses), in one frame.
 */
int etcp_pkt_send_ip(struct etcp_pkt *pk, const char *saddr, const char *daddr,
		     const void *l4, size_t len);
/*
 * Build @seg with etcp_raw_build() for pk->ipproto (any size: the frame
 * must only fit the MTU) and send it in one frame.  seg->saddr/daddr are
 * those of the IP header.
 */
int etcp_pkt_send_seg(struct etcp_pkt *pk, const struct etcp_raw_seg *seg);

/*
 * The next segment of pk->ipproto that arrived on the interface and @fn
 * accepts (NULL: any), parsed by etcp_cap_parse() (t the CLOCK_REALTIME ns
 * of reading; csum -1 when the sender left it to offload): 0, or
 * -ETIMEDOUT after timeout_ms.  Every segment of the connection read on the
 * way, accepted or not, updates una, wnd, edge, acks and rcv_nxt.
 */
int etcp_pkt_recv(struct etcp_pkt *pk, etcp_cap_match_fn *fn, const void *arg,
		  struct etcp_cap_seg *seg, int timeout_ms);
/* Read and account for whatever is queued, without waiting: how many. */
size_t etcp_pkt_drain(struct etcp_pkt *pk);

/* ------------------------------------------------------------ connection */

/* A well-formed segment of pk's connection from the other end (arg: pk). */
bool etcp_pkt_of_conn(const struct etcp_cap_seg *seg, const void *arg);

/*
 * Active open from port @sport to port @dport of the other end: a SYN with
 * SEQ = @iss and an MSS option of @mss (0: none), the SYN-ACK read
 * (ACK = ISS + 1, or -EPROTO; an RST gives -ECONNREFUSED), the ACK sent.
 * @synack (may be NULL) receives the SYN-ACK.
 */
int etcp_pkt_connect(struct etcp_pkt *pk, uint16_t sport, uint16_t dport,
		     uint32_t iss, uint16_t mss, struct etcp_cap_seg *synack,
		     int timeout_ms);
/*
 * The same with the SYN's option bytes given (@optlen, a multiple of 4;
 * NULL and 0: none), e.g. the MSS then NOP, NOP, SACK-permitted.
 */
int etcp_pkt_connect_opt(struct etcp_pkt *pk, uint16_t sport, uint16_t dport,
			 uint32_t iss, const void *opts, size_t optlen,
			 struct etcp_cap_seg *synack, int timeout_ms);

/*
 * One segment of the connection at @rseq (relative: the first data byte is
 * 1) with control bits @flags (ETCP_TH_*; ACK is not added) and @len bytes
 * of @data, ACK = pk->rcv_nxt, window pk->adv_wnd.
 */
int etcp_pkt_send(struct etcp_pkt *pk, uint32_t rseq, uint8_t flags,
		  const void *data, size_t len);
/*
 * The same with option bytes (@optlen, a multiple of 4, at most 40), e.g.
 * a SACK option; ACK = pk->rcv_nxt, which the caller may set to
 * acknowledge less than has arrived.
 */
int etcp_pkt_send_opt(struct etcp_pkt *pk, uint32_t rseq, uint8_t flags,
		      const void *opts, size_t optlen, const void *data, size_t len);

/* The next segment of the connection (etcp_pkt_of_conn()) within timeout_ms. */
int etcp_pkt_next(struct etcp_pkt *pk, struct etcp_cap_seg *seg, int timeout_ms);

/*
 * A simple sender: the bytes buf[0..len) (buf[i] at rseq 1 + i) from the
 * highest ACK received on, until all are acknowledged.  Each round sends
 * what the window allows from pk->una (one segment if it is closed, as a
 * probe) in segments of at most @seg bytes, then reads ACKs until they
 * cover what was sent or none came for @rto_ms; @idle (may be NULL) runs
 * while it waits, e.g. to read on the receiving socket.  At most @rounds
 * rounds within @timeout_ms: 0, or -ETIMEDOUT with pk->una where it stalled.
 * *@used (may be NULL) receives the number of rounds.
 */
struct etcp_pkt_push {
	const uint8_t *buf;
	size_t len;
	size_t seg;
	int rounds;
	int timeout_ms;
	int rto_ms;
	void (*idle)(void *arg);
	void *arg;
};

int etcp_pkt_push(struct etcp_pkt *pk, const struct etcp_pkt_push *p, int *used);

/*
 * The last ETCP_PKT_HIST segments sent and received (those of the
 * connection relative, others absolute), one "# " line each, for
 * TH_LOG("%s", ...), e.g.
 *	#  12   +0.153 P>R  A    seq=5001 ack=1 win=65535 len=5000
 *	#  13   +0.154 R>P  A    seq=1 ack=1 win=65535 len=0
 * P is the peer, R the other end.  The text lives in pk until the next call.
 */
const char *etcp_pkt_str(struct etcp_pkt *pk);

#endif /* _ETCP_PKT_H */
