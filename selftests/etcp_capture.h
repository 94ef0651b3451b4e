/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Segment capture for etcp selftests: what actually went over a veth, so a
 * test asserts the exact exchange and not only what the system calls said.
 *
 * An AF_PACKET socket (SOCK_DGRAM, ETH_P_ALL: outgoing packets reach only
 * those) bound to one interface of one network namespace sees both
 * directions.  Every IPv4 or IPv6 packet of the chosen IP protocol (253
 * for etcp, 6 to check a test against TCP; for IPv6 the last next header
 * after any extension headers) is parsed into a struct etcp_cap_seg; the
 * others are counted and ignored.  There is no
 * thread: the kernel queues the packets with their receive timestamps
 * (SO_TIMESTAMPNS; outgoing packets are stamped when they leave the device,
 * after any qdisc such as netem) and every etcp_cap_*() call that waits or
 * formats drains the queue first.  A test may therefore block in connect()
 * for seconds and still get exact times afterwards.
 *
 *	struct etcp_cap *cap = etcp_cap_start(ns.a, ETCP_NS_IF_A, IPPROTO_ETCP);
 *	...connect()...
 *	ASSERT_EQ(0, etcp_cap_wait(cap, 3, 2000)) TH_LOG("%s", etcp_cap_str(cap));
 *	EXPECT_EQ(ETCP_TH_SYN, cap->seg[0].flags);
 *
 * Sequence numbers are also given relative to the ISN of their direction:
 * a flow (saddr, sport, daddr, dport) takes its ISN from the first SYN seen
 * on it, and again from the SYN of a new connection on the same 4-tuple
 * (after an RST or FIN went either way, or while the other way has no ISN
 * yet); a SYN inside a synchronized connection keeps the ISN in use.  rseq
 * is SEG.SEQ - ISN of the segment's flow, rack is SEG.ACK - ISN of the
 * reverse flow; -1 when that ISN is unknown (no SYN seen that way, e.g. an
 * RST answering a SYN) or, for rack, when the ACK flag is off.  Malformed
 * segments (a wrong checksum too) teach nothing.
 *
 * Functions return 0 or a negative errno unless said otherwise;
 * etcp_cap_start() returns NULL with errno set.  Pointers into seg[] stay
 * valid until etcp_cap_stop() (the array never moves).
 */
#ifndef _ETCP_CAPTURE_H
#define _ETCP_CAPTURE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Control bits, byte 13 of the header (etcp's header is TCP's). */
#define ETCP_TH_FIN		0x01
#define ETCP_TH_SYN		0x02
#define ETCP_TH_RST		0x04
#define ETCP_TH_PSH		0x08
#define ETCP_TH_ACK		0x10
#define ETCP_TH_URG		0x20
#define ETCP_TH_ECE		0x40
#define ETCP_TH_CWR		0x80

#define ETCP_CAP_MAX_SEGS	4096	/* more are counted in lost */
#define ETCP_CAP_MAX_OPTLEN	40

struct etcp_cap_seg {
	int64_t t;		/* ns since etcp_cap_start(), kernel timestamp */
	bool out;		/* sent from the capturing namespace */
	int family;		/* AF_INET or AF_INET6: the IP header's version */
	struct in_addr saddr, daddr;	/* AF_INET's addresses; 0 for AF_INET6 */
	/* AF_INET6's addresses; for AF_INET, saddr and daddr v4-mapped */
	struct in6_addr saddr6, daddr6;
	uint8_t tos;		/* IPv4 TOS, IPv6 traffic class (DSCP | ECN) */
	uint32_t flowlabel;	/* IPv6 flow label (20 bits); 0 for IPv4 */
	uint16_t sport, dport;	/* host order */
	uint32_t seq, ack;	/* absolute, host order, as on the wire */
	int64_t rseq, rack;	/* relative (see above), or -1 */
	uint8_t flags;		/* ETCP_TH_* */
	uint16_t window;
	uint8_t doff;		/* data offset field, in 32-bit words */
	uint16_t mss;		/* value of a well-formed MSS option, else 0 */
	int wscale;		/* window scale option's shift, else -1 */
	uint8_t optlen;		/* option bytes in the header (doff * 4 - 20) */
	uint8_t opts[ETCP_CAP_MAX_OPTLEN];
	uint16_t len;		/* payload bytes */
	uint16_t seglen;	/* transport bytes: header and payload */
	int csum;		/* 1 right, 0 wrong, -1 not yet filled in (offload) */
	const char *bad;	/* why the header is malformed, or NULL */
};

struct etcp_cap {
	int ipproto;
	int64_t t0;		/* CLOCK_REALTIME ns at start: seg[].t's zero */
	size_t n;		/* segments in seg[] */
	size_t lost;		/* not recorded: array full or socket overrun */
	size_t other;		/* other packets (ARP, other protocols), ignored */
	struct etcp_cap_seg seg[ETCP_CAP_MAX_SEGS];
	struct etcp_cap_priv *priv;	/* the capture's own state */
};

/*
 * Capture protocol ipproto on interface ifname of netns nsfd, from now on.
 * NULL with errno on failure.
 */
struct etcp_cap *etcp_cap_start(int nsfd, const char *ifname, int ipproto);
/* Close the socket and free everything; NULL is fine. */
void etcp_cap_stop(struct etcp_cap *cap);

/* Take in what the kernel has queued, without waiting; returns cap->n. */
size_t etcp_cap_poll(struct etcp_cap *cap);
/* Now, on seg[].t's clock (ns since start). */
int64_t etcp_cap_now(const struct etcp_cap *cap);

/* Until at least n segments are recorded: 0, or -ETIMEDOUT. */
int etcp_cap_wait(struct etcp_cap *cap, size_t n, int timeout_ms);

/*
 * Segments that match: a predicate, and a ready-made one that selects by
 * flags and ports.  etcp_cap_find() looks at what is recorded (no
 * draining); etcp_cap_wait_match() drains and waits.  Both return the
 * index of the first match at or after from, find -1 when none,
 * wait_match -ETIMEDOUT.
 */
typedef bool etcp_cap_match_fn(const struct etcp_cap_seg *seg, const void *arg);

struct etcp_cap_sel {
	uint8_t mask;		/* (seg->flags & mask) == flags; 0xff: exactly */
	uint8_t flags;
	uint16_t sport;		/* 0: any */
	uint16_t dport;		/* 0: any */
};

bool etcp_cap_sel_match(const struct etcp_cap_seg *seg, const void *sel);

long etcp_cap_find(const struct etcp_cap *cap, size_t from,
		   etcp_cap_match_fn *fn, const void *arg);
long etcp_cap_wait_match(struct etcp_cap *cap, size_t from,
			 etcp_cap_match_fn *fn, const void *arg, int timeout_ms);
size_t etcp_cap_count(const struct etcp_cap *cap, size_t from,
		      etcp_cap_match_fn *fn, const void *arg);

/*
 * A selector by field values, for tests that pick segments by what they
 * carry: the fields whose ETCP_W_* bit is in what must match (len > 0
 * for ETCP_W_DATA).  etcp_wsel_match() is its etcp_cap_match_fn.
 */
#define ETCP_W_SPORT		0x01	/* sport */
#define ETCP_W_FLAGS		0x02	/* flags, exactly */
#define ETCP_W_LEN		0x04	/* len, exactly */
#define ETCP_W_DATA		0x08	/* len > 0 */
#define ETCP_W_RSEQ		0x10	/* rseq */
#define ETCP_W_RACK		0x20	/* rack */
#define ETCP_W_WIN		0x40	/* window, exactly */
#define ETCP_W_DPORT		0x80	/* dport */

struct etcp_wsel {
	unsigned int what;	/* ETCP_W_* */
	uint16_t sport, dport;
	uint8_t flags;
	uint16_t len;
	int64_t rseq, rack;
	uint16_t win;
};

/* A selector of anything from @port. */
#define ETCP_WSEL_FROM(port) \
	(&(const struct etcp_wsel){ .what = ETCP_W_SPORT, .sport = (port) })

bool etcp_wsel_match(const struct etcp_cap_seg *seg, const void *wsel);
/* The first match recorded at or after @from (no draining), or -1. */
long etcp_wsel_find(const struct etcp_cap *cap, size_t from, const struct etcp_wsel *w);
/* The matches recorded at or after @from (no draining). */
size_t etcp_wsel_count(const struct etcp_cap *cap, size_t from, const struct etcp_wsel *w);
/* The first match at or after @from, draining and waiting up to @ms; or -1. */
long etcp_wsel_wait(struct etcp_cap *cap, size_t from, const struct etcp_wsel *w, int ms);

/*
 * The whole exchange as text, after draining, for TH_LOG("%s", ...): a
 * title line, then one line a segment, each following line starting with
 * "# " as TAP wants, e.g.
 *	#   3  +1.002 A>B S    seq=0 win=65535 mss=1460 len=0
 * Endpoints (address:port, [address]:port for IPv6) are named A, B, ...
 * in order of appearance; seq/ack are relative, or 0x%08x when absolute;
 * a traffic class (TOS) or flow label that is not 0 is shown as tc=0x..
 * and fl=0x.....  The text lives in cap
 * and is rewritten by the next call.
 */
const char *etcp_cap_str(struct etcp_cap *cap);
/*
 * The control bits of @flags as letters, SYN first ("SA", "FA", "R"; "-"
 * for none) into @buf, which holds 9 bytes.
 */
void etcp_cap_flags_str(uint8_t flags, char *buf);
/*
 * The SACK option (RFC 2018 3) of @seg: its blocks, in the order sent,
 * relative to @base (the peer's ISN: left and right edges as relative
 * sequence numbers), into @b, at most @max of them.  Returns the blocks
 * the option has, 0 when there is none, -1 when it is malformed (a length
 * that is not 2 + 8n).
 */
struct etcp_cap_sack {
	int64_t start, end;
};
int etcp_cap_sacks(const struct etcp_cap_seg *seg, uint32_t base,
		   struct etcp_cap_sack *b, int max);
/* One segment as a line (no newline, no prefix); returns its length. */
int etcp_cap_fmt_seg(const struct etcp_cap *cap, const struct etcp_cap_seg *seg,
		     char *buf, size_t size);

/*
 * Parse one IPv4 or IPv6 packet (from its IP header, the version says
 * which) of protocol ipproto into seg, without relative numbers or time:
 * 0; -ENOMSG for another protocol or a non-first fragment; -EBADMSG when
 * the IP header (or an IPv6 extension header) itself is unusable.  A
 * malformed transport header still gives 0, with seg->bad set.
 */
int etcp_cap_parse(const void *pkt, size_t len, int ipproto,
		   struct etcp_cap_seg *seg);

/*
 * What etcp_cap_read_frame() tells of a frame besides its bytes (the
 * packet socket's address and control messages).
 */
struct etcp_cap_frame {
	size_t len;		/* bytes read */
	uint16_t proto;		/* sll_protocol, network order */
	uint8_t pkttype;	/* sll_pkttype: PACKET_OUTGOING, ... */
	int64_t stamp;		/* SCM_TIMESTAMPNS (CLOCK_REALTIME ns), or -1 */
	bool csum_pending;	/* TP_STATUS_CSUMNOTREADY: checksum left to offload */
};

/*
 * Read one frame from AF_PACKET socket @fd (PACKET_AUXDATA on, and
 * SO_TIMESTAMPNS for a stamp) into @buf, without waiting: 0 with *@f
 * filled, -EAGAIN when none is queued, or -errno.
 */
int etcp_cap_read_frame(int fd, void *buf, size_t size, struct etcp_cap_frame *f);

#endif /* _ETCP_CAPTURE_H */
