// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: data in page fragments (non-linear skbs, as veth, virtio
 * and NICs hand up large frames), out of order, overlapping, beyond the
 * window, with a FIN; and an out-of-order queue that fills the receive
 * buffer.  Raw IP sockets (etcp_raw.h) only ever produce linear skbs, so
 * the segments come from a raw peer on the link (etcp_pkt.h): an AF_PACKET
 * socket on eb that sends whole Ethernet frames, which the kernel builds
 * paged when they are a page or more.
 *
 *   netns a                                  netns b
 *   10.0.1.1 ea ------- veth, MTU 9000 -------- eb 10.0.1.2
 *   fd00:1::1                                    fd00:1::2
 *   listener :5000, the accepted socket      the raw peer, as 10.0.1.3:40200
 *   reads                                    (or fd00:1::3: no stack answers
 *                                            for either)
 *
 * The peer connects (MSS 8960, no SACK but where a case says so, no
 * window scale, no timestamps: TCP behaves as etcp, whose counterpart it
 * is), sends its segments and reads the ACKs; its ISS puts the stream
 * across 2^32.  Relative numbers
 * are the capture's: the first data byte is at 1, so the ACK of N bytes is
 * N + 1, of N bytes and a FIN N + 2.
 * Every case runs over TCP and etcp and asserts the exact bytes read, the
 * ACKs the peer gets and, for etcp, the witness that the segments did
 * arrive paged: InNonLinear (/proc/net/etcp_stat) grows by at least the
 * number of frames of a page or more that were sent.
 *
 *   ofo_overlap        [5000,10000), [7500,12500), then [0,5000): 5000-byte
 *                      segments, so the second overlaps the first in the
 *                      out-of-order queue and both move to the reader when
 *                      the hole fills; ACKs 1, 1, 12501; 12500 bytes read
 *   ofo_overlap_sack   ofo_overlap with a peer whose SYN offers SACK-permitted:
 *                      ACKs 1 with the block [5001,10001), 1 with
 *                      [5001,12501) (the overlap joined into one block),
 *                      12501 with none; 12500 bytes read; InNonLinear
 *                      grows.  tcp_dsack / etcp_dsack off in a: this is
 *                      about the blocks, not the D-SACK (RFC 2883)
 *   overlap_lies       the same, with other bytes in the overlap of the
 *                      second segment: the bytes of the first win
 *   overlap_lies_reorder  the liar [7500,12500) first, then [5000,10000):
 *                      the segment that begins first wins the overlap,
 *                      though it came second (TCP's rule)
 *   overlap_lies_v6    overlap_lies over IPv6 (fd00:1::3 to a listener on
 *                      fd00:1::1, IPv6 frames with the checksum over IPv6's
 *                      pseudo-header): the same ACKs, the bytes of the first
 *                      segment win, 12500 bytes read exactly, and the
 *                      frames counted in InNonLinear (etcp_v6_rcv() hands
 *                      paged skbs to the input path both families share)
 *   fin_v6             fin over IPv6: ACK 5002, 5000 bytes, then EOF
 *   retrans_partial    in order [0,5000), then [2500,7500) (a retransmission
 *                      carrying new data), then [7500,12500): ACKs 5001,
 *                      7501, 12501
 *   trim_window        SO_RCVBUF 10000 on the listener: in-order segments of
 *                      4050 bytes (4104-byte frames: one page of frags) while
 *                      the window has room for more, then a paged one from
 *                      inside the window to well beyond its right edge:
 *                      queued whole while memory allows, as Linux TCP does
 *                      up to 6.12 (RFC 9293 3.10.7.4 would keep only what
 *                      lies in the window; 7.2 drops it all while data
 *                      waits), and all of it acknowledged.  After the
 *                      reader read, the peer sends the rest and every byte
 *                      is read
 *   fin                [0,5000) with FIN: ACK 5002, 5000 bytes, then EOF
 *   rst_after_data     [0,5000) and [5000,10000), then an RST at RCV.NXT:
 *                      the socket is closed, yet the 10000 bytes are read,
 *                      then ECONNRESET (Linux's order, not RFC 9293's flush)
 *   fin_ofo            [5000,10000) with FIN, then [0,5000): ACKs 1 (nothing
 *                      to read yet), 10002; 10000 bytes, then EOF
 *   ofo_fill_no_stall  SO_RCVBUF 64 KiB on the listener; a 64-byte hole, 300
 *                      out-of-order 64-byte segments after it, the hole; then
 *                      the peer resends from the last ACK until all 19264
 *                      bytes are acknowledged (bounded): they are read in
 *                      order.  A receiver that keeps its out-of-order queue
 *                      and refuses the hole for want of memory stalls here.
 *   ofo_prune          the accepted socket's SO_RCVBUF lowered to 8 KiB after
 *                      the handshake (the window announced stays: neither
 *                      shrinks it), then 1400-byte out-of-order segments up
 *                      to that window, far more than the buffer holds (and
 *                      not small enough for TCP to collapse), then the hole,
 *                      once: an ACK that covers it comes at once, OfoPruned
 *                      grows (etcp's, and TCP's in TcpExt); the peer resends
 *                      from there and everything arrives
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange as the
 * peer saw it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_pkt.h"
#include "etcp_raw.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000		/* the listener, in netns a */
#define PEER_PORT	40200
#define PEER_ISS	0xffffd000U	/* the data crosses 2^32 */
#define PEER_MSS	8960		/* MTU 9000 */
#define PEER_MSS6	8940		/* the same over IPv6's 40-byte header */

#define SEG		5000		/* paged: 5054-byte frames */
#define SEG_PAGE	4050		/* paged, one page of frags: 4104-byte frames */
#define STREAM_MAX	(256 * 1024)

#define WAIT_MS		2000		/* for what should happen at once */
#define PUSH_ROUNDS	40
#define PUSH_MS		40000
#define PUSH_RTO_MS	200

#define EXCH		etcp_pkt_str(&self->pk)
#define PROTO		(variant->proto)
#define ETCP		(variant->proto == IPPROTO_ETCP)

ETCP_ENV_CHECK()

/* What the peer sends (want) and what the accepted socket read (got). */
static uint8_t want[STREAM_MAX], got[STREAM_MAX];

/* ------------------------------------------------------------ fixture */

FIXTURE(paged) {
	struct etcp_netns ns;
	struct etcp_pkt pk;
	int lfd, afd;
	size_t ngot;		/* bytes read into got[] */
	bool eof;		/* read() returned 0 */
	int rerr;		/* errno of a failed read, or 0 */
	size_t paged0;		/* pk.paged when the data began */
	bool sack;		/* the peer's SYN offers SACK-permitted */
	struct stats st0;	/* etcp's counters in a, then */
};

ETCP_PROTO_VARIANTS(paged);

FIXTURE_SETUP(paged)
{
	int ret;

	self->lfd = self->afd = -1;
	memset(&self->pk, 0, sizeof(self->pk));
	self->pk.fd = -1;
	self->ngot = 0;
	self->eof = false;
	self->rerr = 0;
	self->sack = false;
	if (env_unsupported)
		ETCP_SETUP_SKIP("%s", env_unsupported);
	pin_cpu();
	ASSERT_EQ(0, two_ns_setup(&self->ns)) TH_LOG("cannot set up the namespaces");
	ret = etcp_pkt_link(&self->ns, ETCP_PKT_ADDR, ETCP_PKT_MTU);
	ASSERT_EQ(0, ret) TH_LOG("link setup: %s", strerror(-ret));
	ret = etcp_pkt_open_veth(&self->pk, &self->ns, PROTO);
	ASSERT_EQ(0, ret) TH_LOG("packet socket on eb: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(paged)
{
	if (getenv("ETCP_CAP_DUMP") && self->pk.fd >= 0)
		TH_LOG("%s", EXCH);
	etcp_netns_reap(&self->ns);
	/* An RST to nobody: no FIN left to retransmit. */
	close_abort(self->afd);
	if (self->lfd >= 0)
		close(self->lfd);
	etcp_pkt_close(&self->pk);
	etcp_netns_teardown(&self->ns);
}

/* ------------------------------------------------------------ helpers */

/* Bytes that differ from one position to the next, and from case to case. */
static void fill_stream(uint8_t *buf, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761U + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x >> 11;
	}
}

/* Read what the accepted socket has, without waiting. */
static void read_avail(FIXTURE_DATA(paged) *self)
{
	ssize_t n;

	while (!self->eof && !self->rerr) {
		if (self->ngot == sizeof(got)) {
			self->rerr = ENOBUFS;
			return;
		}
		n = recv(self->afd, got + self->ngot, sizeof(got) - self->ngot,
			 MSG_DONTWAIT);
		if (n > 0) {
			self->ngot += n;
		} else if (!n) {
			self->eof = true;
		} else {
			if (errno != EAGAIN && errno != EINTR)
				self->rerr = errno;
			return;
		}
	}
}

static void read_idle(void *arg)
{
	read_avail(arg);
}

/* Read until @n bytes (and EOF if @eof) are in, within @ms. */
static int read_until(FIXTURE_DATA(paged) *self, size_t n, bool eof, int ms)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		read_avail(self);
		if (self->rerr)
			return -self->rerr;
		if (self->ngot >= n && (!eof || self->eof))
			return 0;
		if (self->eof || now_ms() > deadline)
			return -ETIMEDOUT;
		poll_one(self->afd, POLLIN, 50);
	}
}

/*
 * A listener in a on @family's address (SO_RCVBUF @rcvbuf first, if not
 * 0, so that the child inherits it), the peer's handshake, the child
 * accepted and non-blocking; the counters and the page count from here on.
 * For AF_INET6 the peer is opened again, as fd00:1::3.
 */
static void open_conn_af(struct __test_metadata *_metadata,
			 FIXTURE_DATA(paged) *self, int family, int proto, int rcvbuf)
{
	struct etcp_cap_seg synack;
	uint8_t opts[8];
	size_t optlen;
	uint16_t mss;
	int ret;

	if (family == AF_INET6) {
		ret = etcp_pkt_link(&self->ns, ETCP_PKT_ADDR6, ETCP_PKT_MTU);
		ASSERT_EQ(0, ret) TH_LOG("IPv6 link setup: %s", strerror(-ret));
		etcp_pkt_close(&self->pk);
		ret = etcp_pkt_open_veth6(&self->pk, &self->ns, proto);
		ASSERT_EQ(0, ret) TH_LOG("IPv6 packet socket on eb: %s", strerror(-ret));
	}
	self->lfd = ns_socket(self->ns.a, family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	ASSERT_LE(0, self->lfd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, sockopt_set(self->lfd, SOL_SOCKET, SO_REUSEADDR, 1));
	if (rcvbuf)
		ASSERT_EQ(0, sockopt_set(self->lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf));
	ASSERT_EQ(0, bind_to(self->lfd, family == AF_INET6 ? ETCP_NS_ADDR6_A : ETCP_NS_ADDR_A,
			     PORT));
	ASSERT_EQ(0, listen(self->lfd, 4));
	mss = family == AF_INET6 ? PEER_MSS6 : PEER_MSS;
	optlen = etcp_raw_opt_mss(opts, mss);
	if (self->sack) {
		/* NOP, NOP, SACK-permitted: Linux's layout. */
		memcpy(opts + optlen, "\x01\x01\x04\x02", 4);
		optlen += 4;
	}
	ret = etcp_pkt_connect_opt(&self->pk, PEER_PORT, PORT, PEER_ISS, opts, optlen,
				   &synack, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("handshake: %s: %s", strerror(-ret), EXCH);
	ASSERT_EQ(mss, synack.mss) TH_LOG("%s", EXCH);
	if (self->sack)
		ASSERT_TRUE(synack.optlen == 8 && !memcmp(synack.opts + 4, "\x01\x01\x04\x02", 4))
			TH_LOG("the SYN-ACK does not grant SACK-permitted: %s", EXCH);
	self->afd = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, self->afd) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	ASSERT_EQ(0, set_nonblock(self->afd, true));
	self->paged0 = self->pk.paged;
	if (proto == IPPROTO_ETCP)
		ASSERT_EQ(0, stats_read(self->ns.a, &self->st0));
}

static void open_conn(struct __test_metadata *_metadata,
		      FIXTURE_DATA(paged) *self, int proto, int rcvbuf)
{
	open_conn_af(_metadata, self, AF_INET, proto, rcvbuf);
}

/* Stream bytes [off, off + len) of @src, at rseq 1 + off, with ACK and @flags. */
static void send_at(struct __test_metadata *_metadata, FIXTURE_DATA(paged) *self,
		    const uint8_t *src, size_t off, size_t len, uint8_t flags)
{
	int ret = etcp_pkt_send(&self->pk, 1 + off, ETCP_TH_ACK | flags,
				src + off, len);

	ASSERT_EQ(0, ret) TH_LOG("send [%zu,%zu): %s", off, off + len, strerror(-ret));
}

/* The next segment of the connection acknowledges exactly @rack. */
static void expect_ack(struct __test_metadata *_metadata,
		       FIXTURE_DATA(paged) *self, int64_t rack, const char *what)
{
	struct etcp_cap_seg seg;
	int ret;

	ret = etcp_pkt_next(&self->pk, &seg, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("%s: no ACK: %s", what, EXCH);
	ASSERT_TRUE(seg.flags & ETCP_TH_ACK) TH_LOG("%s: %s", what, EXCH);
	EXPECT_EQ(rack, seg.rack) TH_LOG("%s: ACK %lld, not %lld: %s", what,
					 (long long)seg.rack, (long long)rack, EXCH);
}

/*
 * expect_ack(), and the ACK carries exactly the SACK block [@start, @end)
 * (relative, as rack), or none if @start is 0.
 */
static void expect_ack_sack(struct __test_metadata *_metadata,
			    FIXTURE_DATA(paged) *self, int64_t rack, int64_t start,
			    int64_t end, const char *what)
{
	struct etcp_cap_sack b[4];
	struct etcp_cap_seg seg;
	int ret, n;

	ret = etcp_pkt_next(&self->pk, &seg, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("%s: no ACK: %s", what, EXCH);
	ASSERT_TRUE(seg.flags & ETCP_TH_ACK) TH_LOG("%s: %s", what, EXCH);
	EXPECT_EQ(rack, seg.rack) TH_LOG("%s: ACK %lld, not %lld: %s", what,
					 (long long)seg.rack, (long long)rack, EXCH);
	n = etcp_cap_sacks(&seg, self->pk.iss, b, 4);
	if (!start) {
		EXPECT_EQ(0, n) TH_LOG("%s: %d SACK blocks, want none: %s", what, n, EXCH);
		return;
	}
	ASSERT_EQ(1, n) TH_LOG("%s: %d SACK blocks, want 1: %s", what, n, EXCH);
	EXPECT_TRUE(b[0].start == start && b[0].end == end)
		TH_LOG("%s: block %lld-%lld, want %lld-%lld: %s", what,
		       (long long)b[0].start, (long long)b[0].end,
		       (long long)start, (long long)end, EXCH);
}

/* A segment of the connection that acknowledges at least *arg (a rack). */
static bool acks_at_least(const struct etcp_cap_seg *seg, const void *arg)
{
	return (seg->flags & ETCP_TH_ACK) && seg->rack >= *(const int64_t *)arg;
}

/* Exactly want[0..n) was read (and EOF if @eof), nothing more. */
static void expect_read(struct __test_metadata *_metadata,
			FIXTURE_DATA(paged) *self, const uint8_t *exp, size_t n,
			bool eof)
{
	size_t i;
	int ret;

	ret = read_until(self, n, eof, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("read %zu of %zu bytes%s: %s: %s", self->ngot, n,
				 eof ? " and EOF" : "", strerror(-ret), EXCH);
	read_avail(self);
	ASSERT_EQ(n, self->ngot) TH_LOG("read more than was sent: %s", EXCH);
	for (i = 0; i < n && got[i] == exp[i]; i++)
		;
	EXPECT_EQ(n, i) TH_LOG("the bytes read differ from byte %zu on "
			       "(read 0x%02x, sent 0x%02x)", i, got[i], exp[i]);
	if (eof)
		EXPECT_TRUE(self->eof);
}

/* etcp: InNonLinear grew by at least the frames of a page or more sent. */
static void expect_paged(struct __test_metadata *_metadata,
			 FIXTURE_DATA(paged) *self, bool etcp)
{
	size_t sent = self->pk.paged - self->paged0;
	struct stats st;

	ASSERT_LT(0U, sent) TH_LOG("no frame of a page or more was sent");
	if (!etcp)
		return;
	ASSERT_EQ(0, stats_read(self->ns.a, &st));
	ASSERT_LE(0, stat_of(&st, "InNonLinear"))
		TH_LOG("no InNonLinear in /proc/net/etcp_stat");
	EXPECT_LE((long)sent, stat_delta(&self->st0, &st, "InNonLinear"))
		TH_LOG("%zu paged frames sent, InNonLinear grew by %ld: "
		       "the payload did not arrive in page fragments",
		       sent, stat_delta(&self->st0, &st, "InNonLinear"));
}

/* ------------------------------------------------------------ out of order */

/*
 * [5000,10000) from @first, [7500,12500) from @second (in that order, or
 * the other if @swap), then the hole [0,5000): dup ACKs, then all of it.
 */
static void ofo_overlap(struct __test_metadata *_metadata,
			FIXTURE_DATA(paged) *self, const uint8_t *first,
			const uint8_t *second, bool swap)
{
	if (swap) {
		send_at(_metadata, self, second, 7500, SEG, 0);
		expect_ack(_metadata, self, 1, "[7500,12500) out of order");
		send_at(_metadata, self, first, 5000, SEG, 0);
		expect_ack(_metadata, self, 1, "[5000,10000) out of order");
	} else {
		send_at(_metadata, self, first, 5000, SEG, 0);
		expect_ack(_metadata, self, 1, "[5000,10000) out of order");
		send_at(_metadata, self, second, 7500, SEG, 0);
		expect_ack(_metadata, self, 1, "[7500,12500) out of order");
	}
	send_at(_metadata, self, first, 0, SEG, ETCP_TH_PSH);
	expect_ack(_metadata, self, 1 + 12500, "the hole [0,5000)");
}

/* want: the truth; lie: the same but for [7500,10000). */
static void make_lie(uint8_t *lie, const uint8_t *truth, size_t n)
{
	size_t i;

	memcpy(lie, truth, n);
	for (i = 7500; i < 10000; i++)
		lie[i] = ~truth[i];
}

/*
 * ofo_overlap() of the stream @seed, the second segment from the truth or
 * (@lie) from make_lie()'s: the reader gets the truth, in paged frames.
 */
static void ofo_overlap_read(struct __test_metadata *_metadata, FIXTURE_DATA(paged) *self,
			     const FIXTURE_VARIANT(paged) *variant, int family,
			     uint32_t seed, bool lie, bool swap)
{
	static uint8_t liar[12500];

	open_conn_af(_metadata, self, family, PROTO, 0);
	fill_stream(want, 12500, seed);
	if (lie)
		make_lie(liar, want, sizeof(liar));
	ofo_overlap(_metadata, self, want, lie ? liar : want, swap);
	expect_read(_metadata, self, want, 12500, false);
	expect_paged(_metadata, self, ETCP);
}

TEST_F(paged, ofo_overlap)
{
	ofo_overlap_read(_metadata, self, variant, AF_INET, 1, false, false);
}

/* The overlap [7500,10000) came first with the truth: it stays. */
TEST_F(paged, overlap_lies)
{
	ofo_overlap_read(_metadata, self, variant, AF_INET, 2, true, false);
}

/*
 * The same over IPv6: the IPv6 entry hands its paged skbs to the input
 * path both families share, with the right pseudo-header checksum.
 */
TEST_F(paged, overlap_lies_v6)
{
	ofo_overlap_read(_metadata, self, variant, AF_INET6, 10, true, false);
}

/*
 * ofo_overlap with SACK: the receiver reports what waits beyond the hole
 * (RFC 2018), the two overlapping segments as one block, and nothing once
 * the hole is filled.  With D-SACK the overlap [7500,10000) would come
 * first as a D-SACK block (RFC 2883; wire.dsack_blocks tests that):
 * tcp_dsack and etcp_dsack are off in a, this test is about the blocks.
 */
TEST_F(paged, ofo_overlap_sack)
{
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, PROTO, "dsack", 0));
	self->sack = true;
	open_conn(_metadata, self, PROTO, 0);
	fill_stream(want, 12500, 11);
	send_at(_metadata, self, want, 5000, SEG, 0);
	expect_ack_sack(_metadata, self, 1, 5001, 10001, "[5000,10000) out of order");
	send_at(_metadata, self, want, 7500, SEG, 0);
	expect_ack_sack(_metadata, self, 1, 5001, 12501, "[7500,12500) out of order");
	send_at(_metadata, self, want, 0, SEG, ETCP_TH_PSH);
	expect_ack_sack(_metadata, self, 1 + 12500, 0, 0, "the hole [0,5000)");
	expect_read(_metadata, self, want, 12500, false);
	expect_paged(_metadata, self, ETCP);
}

/*
 * The liar [7500,12500) first, then [5000,10000): what begins first in
 * sequence goes to the reader first, and the rest of the other only from
 * where it ends.
 */
TEST_F(paged, overlap_lies_reorder)
{
	ofo_overlap_read(_metadata, self, variant, AF_INET, 3, true, true);
}

TEST_F(paged, retrans_partial)
{
	open_conn(_metadata, self, PROTO, 0);
	fill_stream(want, 12500, 4);
	send_at(_metadata, self, want, 0, SEG, 0);
	expect_ack(_metadata, self, 1 + 5000, "[0,5000)");
	send_at(_metadata, self, want, 2500, SEG, 0);
	expect_ack(_metadata, self, 1 + 7500, "[2500,7500) over [2500,5000)");
	send_at(_metadata, self, want, 7500, SEG, ETCP_TH_PSH);
	expect_ack(_metadata, self, 1 + 12500, "[7500,12500)");
	expect_read(_metadata, self, want, 12500, false);
	expect_paged(_metadata, self, ETCP);
}

/* ------------------------------------------------------------ the window */

#define TRIM_RCVBUF	10000
#define TRIM_LEN	(6 * SEG_PAGE)
/* Cross the edge from at most this far before it (8960 bytes a frame). */
#define TRIM_ROOM_MAX	4500

TEST_F(paged, trim_window)
{
	struct etcp_pkt_push push = {
		.buf = want, .len = TRIM_LEN, .seg = SEG_PAGE,
		.rounds = PUSH_ROUNDS, .timeout_ms = PUSH_MS, .rto_ms = PUSH_RTO_MS,
		.idle = read_idle, .arg = self,
	};
	struct etcp_cap_seg seg;
	int64_t edge, room;
	size_t off = 0, len;
	int ret, rounds;

	open_conn(_metadata, self, PROTO, TRIM_RCVBUF);
	fill_stream(want, TRIM_LEN, 5);
	/*
	 * Whole segments while the window has room for more than one.  TCP
	 * moves its right edge as it goes, in multiples of the segment size
	 * it sees; etcp's stays where the SYN-ACK put it, the memory behind
	 * it being taken.
	 */
	while ((room = self->pk.edge - (int64_t)(1 + off)) > TRIM_ROOM_MAX) {
		ASSERT_GT(TRIM_LEN / 2, off) TH_LOG("the window keeps opening: %s", EXCH);
		send_at(_metadata, self, want, off, SEG_PAGE, 0);
		off += SEG_PAGE;
		expect_ack(_metadata, self, 1 + off, "in the window");
	}
	ASSERT_LT(0, room) TH_LOG("the window closed: %s", EXCH);
	edge = self->pk.edge;

	/* One across the right edge, paged and reaching well beyond it. */
	len = room + SEG_PAGE / 2;
	if (len < SEG_PAGE)
		len = SEG_PAGE;
	send_at(_metadata, self, want, off, len, 0);
	ASSERT_EQ(0, etcp_pkt_next(&self->pk, &seg, WAIT_MS)) TH_LOG("no ACK: %s", EXCH);
	if (!ETCP && kernel_at_least(6, 13)) {
		/*
		 * Linux after 6.12 (7.2) drops the whole segment: it ends past
		 * the largest window announced while data waits to be read
		 * (tcp_sequence()); a duplicate ACK says so.  etcp keeps 6.1's
		 * and 6.12's rule (README: the list of differences).
		 */
		EXPECT_EQ((int64_t)(1 + off), seg.rack)
			TH_LOG("[%zu,%zu) across the right edge %lld: ACK %lld: %s", off,
			       off + len, (long long)edge - 1, (long long)seg.rack, EXCH);
	} else {
		/* All of it, memory allowing, not only what the window takes. */
		EXPECT_EQ((int64_t)(1 + off + len), seg.rack)
			TH_LOG("[%zu,%zu) across the right edge %lld: ACK %lld: %s", off,
			       off + len, (long long)edge - 1, (long long)seg.rack, EXCH);
	}

	/* What was acknowledged is there to read; then the rest comes. */
	ret = read_until(self, seg.rack - 1, false, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("read %zu of %lld: %s", self->ngot,
				 (long long)seg.rack - 1, EXCH);
	ret = etcp_pkt_push(&self->pk, &push, &rounds);
	ASSERT_EQ(0, ret) TH_LOG("stalled at ACK %lld after %d rounds: %s",
				 (long long)self->pk.una, rounds, EXCH);
	expect_read(_metadata, self, want, TRIM_LEN, false);
	expect_paged(_metadata, self, ETCP);
}

/* ------------------------------------------------------------ FIN */

static void fin_read(struct __test_metadata *_metadata, FIXTURE_DATA(paged) *self,
		     const FIXTURE_VARIANT(paged) *variant, int family)
{
	open_conn_af(_metadata, self, family, PROTO, 0);
	fill_stream(want, SEG, 6);
	send_at(_metadata, self, want, 0, SEG, ETCP_TH_PSH | ETCP_TH_FIN);
	expect_ack(_metadata, self, 1 + SEG + 1, "[0,5000) and FIN");
	expect_read(_metadata, self, want, SEG, true);
	expect_paged(_metadata, self, ETCP);
}

TEST_F(paged, fin)
{
	fin_read(_metadata, self, variant, AF_INET);
}

TEST_F(paged, fin_v6)
{
	fin_read(_metadata, self, variant, AF_INET6);
}

TEST_F(paged, rst_after_data)
{
	size_t i;

	open_conn(_metadata, self, PROTO, 0);
	fill_stream(want, 2 * SEG, 8);
	send_at(_metadata, self, want, 0, SEG, ETCP_TH_PSH);
	expect_ack(_metadata, self, 1 + SEG, "[0,5000)");
	send_at(_metadata, self, want, SEG, SEG, ETCP_TH_PSH);
	expect_ack(_metadata, self, 1 + 2 * SEG, "[5000,10000)");
	ASSERT_EQ(0, etcp_pkt_send(&self->pk, 1 + 2 * SEG, ETCP_TH_RST, NULL, 0));
	ASSERT_EQ(ETCP_CLOSE, wait_sock_state(self->afd, PROTO, ETCP_CLOSE, WAIT_MS))
		TH_LOG("the RST did not close the socket: %s", EXCH);

	read_avail(self);
	EXPECT_EQ(2 * SEG, self->ngot) TH_LOG("data queued before the RST: %s", EXCH);
	EXPECT_EQ(ECONNRESET, self->rerr) TH_LOG("after the data: %s", strerror(self->rerr));
	for (i = 0; i < self->ngot && got[i] == want[i]; i++)
		;
	EXPECT_EQ(self->ngot, i) TH_LOG("the bytes read differ from byte %zu on", i);
	expect_paged(_metadata, self, ETCP);
}

TEST_F(paged, fin_ofo)
{
	open_conn(_metadata, self, PROTO, 0);
	fill_stream(want, 2 * SEG, 7);
	send_at(_metadata, self, want, SEG, SEG, ETCP_TH_PSH | ETCP_TH_FIN);
	expect_ack(_metadata, self, 1, "[5000,10000) and FIN out of order");
	read_avail(self);
	EXPECT_EQ(0U, self->ngot) TH_LOG("data to read before the hole filled");
	EXPECT_FALSE(self->eof) TH_LOG("EOF before the hole filled");
	send_at(_metadata, self, want, 0, SEG, 0);
	expect_ack(_metadata, self, 1 + 2 * SEG + 1, "the hole [0,5000)");
	expect_read(_metadata, self, want, 2 * SEG, true);
	expect_paged(_metadata, self, ETCP);
}

/* ------------------------------------------------------------ memory */

#define FILL_RCVBUF	(64 * 1024)
#define FILL_SEG	64
#define FILL_N		300
#define FILL_LEN	(FILL_SEG + FILL_N * FILL_SEG)	/* 19264 */

TEST_F_TIMEOUT(paged, ofo_fill_no_stall, 120)
{
	struct etcp_pkt_push push = {
		.buf = want, .len = FILL_LEN, .seg = FILL_SEG,
		.rounds = PUSH_ROUNDS, .timeout_ms = PUSH_MS, .rto_ms = PUSH_RTO_MS,
		.idle = read_idle, .arg = self,
	};
	int64_t hole_end = 1 + FILL_SEG;
	struct etcp_cap_seg seg;
	int ret, rounds, i;

	open_conn(_metadata, self, PROTO, FILL_RCVBUF);
	ASSERT_LE(1 + FILL_LEN, self->pk.edge) TH_LOG("the window is too small: %s", EXCH);
	fill_stream(want, FILL_LEN, 8);
	for (i = 0; i < FILL_N; i++)
		send_at(_metadata, self, want, FILL_SEG + i * FILL_SEG, FILL_SEG, 0);
	send_at(_metadata, self, want, 0, FILL_SEG, ETCP_TH_PSH);
	/* Not required: TCP collapses the small segments and takes it. */
	if (etcp_pkt_recv(&self->pk, acks_at_least, &hole_end, &seg, WAIT_MS))
		TH_LOG("the hole was not acknowledged at once (ACK %lld)",
		       (long long)self->pk.una);
	ret = etcp_pkt_push(&self->pk, &push, &rounds);
	ASSERT_EQ(0, ret) TH_LOG("stalled at ACK %lld after %d rounds: %s",
				 (long long)self->pk.una, rounds, EXCH);
	expect_read(_metadata, self, want, FILL_LEN, false);
}

#define PRUNE_RCVBUF	8192
#define PRUNE_SEG	1400
#define PRUNE_MAX	60

TEST_F_TIMEOUT(paged, ofo_prune, 120)
{
	struct etcp_pkt_push push = {
		.buf = want, .seg = PRUNE_SEG,
		.rounds = PUSH_ROUNDS, .timeout_ms = PUSH_MS, .rto_ms = PUSH_RTO_MS,
		.idle = read_idle, .arg = self,
	};
	int64_t hole_end = 1 + PRUNE_SEG;
	struct etcp_cap_seg seg;
	long pruned0, pruned;
	int ret, rounds, n, i;

	open_conn(_metadata, self, PROTO, 0);
	/* The window announced stays; the memory behind it goes. */
	ASSERT_EQ(0, sockopt_set(self->afd, SOL_SOCKET, SO_RCVBUF, PRUNE_RCVBUF));
	n = (self->pk.edge - 1) / PRUNE_SEG - 1;
	if (n > PRUNE_MAX)
		n = PRUNE_MAX;
	ASSERT_LE(2 * 2 * PRUNE_RCVBUF / PRUNE_SEG, n)
		TH_LOG("a window of %lld is too small: %s",
		       (long long)self->pk.edge - 1, EXCH);
	push.len = (n + 1) * PRUNE_SEG;
	fill_stream(want, push.len, 9);
	pruned0 = read_counter(self->ns.a, PROTO, "OfoPruned");

	for (i = 1; i <= n; i++)
		send_at(_metadata, self, want, i * PRUNE_SEG, PRUNE_SEG, 0);
	/*
	 * The hole, once: accepted, it is acknowledged at once, and only an
	 * ACK that covers it may follow (all the others acknowledged 1).
	 */
	send_at(_metadata, self, want, 0, PRUNE_SEG, ETCP_TH_PSH);
	ret = etcp_pkt_recv(&self->pk, acks_at_least, &hole_end, &seg, WAIT_MS);
	EXPECT_EQ(0, ret) TH_LOG("the hole was refused: ACK %lld: %s",
				 (long long)self->pk.una, EXCH);
	pruned = read_counter(self->ns.a, PROTO, "OfoPruned");
	EXPECT_LE(0, pruned0) TH_LOG("no OfoPruned counter for %s", proto_name(PROTO));
	EXPECT_LT(pruned0, pruned) TH_LOG("OfoPruned %ld -> %ld", pruned0, pruned);

	ret = etcp_pkt_push(&self->pk, &push, &rounds);
	ASSERT_EQ(0, ret) TH_LOG("stalled at ACK %lld after %d rounds: %s",
				 (long long)self->pk.una, rounds, EXCH);
	expect_read(_metadata, self, want, push.len, false);
}

TEST_HARNESS_MAIN
