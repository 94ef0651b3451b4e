// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: super-segments (GSO, module/offload.c) become proper
 * segments wherever a device cannot take them whole.
 *
 *   netns a (sender)          netns b (router)               netns c (receiver)
 *   ea 10.0.1.1 -------- eb 10.0.1.2   eb2 10.0.2.1 -------- ec 10.0.2.2
 *      fd00:1::1            fd00:1::2      fd00:2::1            fd00:2::2
 *   ^ capture                                                ^ capture
 *
 * a sends a stream of bulk_byte()s to a listener in c, which reads and
 * checks every byte.  On a veth with its default offloads a connection
 * hands the device super-segments (payload > MSS, one header) and the
 * capture on ea sees them whole; what a user then observes elsewhere is
 * what each case asserts:
 *
 *   forward_to_plain_device  b forwards a's super-segments to eb2, which
 *                            has transmit checksumming (and so TSO) off:
 *                            on ec every data segment has a payload of
 *                            at most the MSS, a right checksum, an IP
 *                            packet of at most 1500 bytes, and they tile
 *                            the stream from ISN + 1, all of it
 *   plain_device_at_sender   transmit checksumming off on ea itself: ea
 *                            shows only segments of at most the MSS with
 *                            right checksums
 *   tso_off_shows_segments   TSO off on ea ("ethtool -K ea tso off"): ea
 *                            shows segments of at most the MSS (their
 *                            checksums may be left to the veth, which
 *                            keeps HW_CSUM)
 *   forward_smaller_mtu      b's link to c has MTU 1400 (and eb2 no
 *                            offloads): b refuses a's
 *                            super-segments of 1460-byte segments (ICMP
 *                            fragmentation needed, packet too big), a's
 *                            MSS falls to 1360 (1340 over IPv6), every
 *                            packet on ec is at most 1400 bytes, and the
 *                            stream arrives whole
 *
 * Each case first proves that super-segments leave a at all (without
 * them it would prove nothing): on ea at least one data segment larger
 * than the MSS, in the case's own transfer or, where the case turns the
 * offload off on ea, in a transfer before it.  TCP runs every case too
 * (ETCP_FAMILY_VARIANTS: tcp, etcp, tcp6, etcp6): it hands the veth 64 KiB
 * GSO segments by default and proves the assertions are Linux's.  Its
 * timestamps are off, so that its MSS is etcp's (ETCP_NS_MSS()).
 *
 * ETCP_CAP_DUMP=1 in the environment prints every capture.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns c */
#define MTU_LINK	1500
#define MTU_SMALL	1400	/* b's link to c in forward_smaller_mtu */
#define WAIT_MS		3000	/* for what should happen at once */
#define XFER_MS		30000	/* a whole transfer, under TCG */
#define TEST_TIMEOUT	120	/* s: two transfers, on the debug kernel too */
/*
 * Transfers: long enough for the congestion window to let super-segments
 * go, short enough for a few seconds under TCG and for the captures to
 * hold every packet (ETCP_CAP_MAX_SEGS).
 */
#define XFER_LEN	(1 << 20)
#define XFER_SHORT	(256 << 10)

/* The veth's MTU 1500 less the headers: 1460, 1440 over IPv6. */
#define MSS		ETCP_NS_MSS(variant->family)
#define NETHDR		(variant->family == AF_INET6 ? 40 : 20)
#define ADDR_C		(variant->family == AF_INET6 ? ETCP_NS_ADDR6_C : ETCP_NS_ADDR_C)

ETCP_ENV_CHECK()

FIXTURE(offload) {
	struct etcp_netns ns;
	struct etcp_cap *cap_a;		/* on ea, in a */
	struct etcp_cap *cap_c;		/* on ec, in c: NULL unless a case starts it */
	int lfd;			/* the listener in c */
};

ETCP_FAMILY_VARIANTS(offload);

FIXTURE_SETUP(offload)
{
	const char *why = env_unsupported;
	int ret;

	self->cap_a = self->cap_c = NULL;
	self->lfd = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	/* One CPU: what b segments reaches c in order, as it was cut. */
	pin_cpu();
	ret = router_ns_setup(&self->ns, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	self->lfd = listen_on(self->ns.c, variant->proto, ADDR_C, PORT, 4);
	ASSERT_LE(0, self->lfd) TH_LOG("listen in c: %s", strerror(errno));
	self->cap_a = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, variant->proto);
	ASSERT_NE(NULL, self->cap_a) TH_LOG("capture on ea: %s", strerror(errno));
}

FIXTURE_TEARDOWN(offload)
{
	if (getenv("ETCP_CAP_DUMP")) {
		if (self->cap_a)
			fprintf(stderr, "# ea:\n%s\n", etcp_cap_str(self->cap_a));
		if (self->cap_c)
			fprintf(stderr, "# ec:\n%s\n", etcp_cap_str(self->cap_c));
	}
	etcp_cap_stop(self->cap_a);
	etcp_cap_stop(self->cap_c);
	close_fds(&self->lfd, NULL);
	etcp_netns_teardown(&self->ns);
}

/* ------------------------------------------------------------ helpers */

/*
 * Connect from a to c, DF on every segment (a router must refuse what
 * does not fit rather than fragment it), and move @len bytes of the bulk
 * stream, c checking each: the client's port, its TCP_INFO or ETCP_INFO
 * at the end in *@si (its MSS, what it retransmitted).  The connection
 * is closed again.
 */
static unsigned short xfer(struct __test_metadata *_metadata,
			   FIXTURE_DATA(offload) *self,
			   const FIXTURE_VARIANT(offload) *variant,
			   size_t len, struct sinfo *si)
{
	bool v6 = variant->family == AF_INET6;
	size_t done = 0, bad = 0;
	unsigned short port;
	int cfd, afd, ret;

	cfd = ns_socket(self->ns.a, variant->family, SOCK_STREAM | SOCK_CLOEXEC,
			variant->proto);
	EXPECT_LE(0, cfd) TH_LOG("socket in a: %s", strerror(errno));
	if (cfd < 0)
		return 0;
	ret = sockopt_set(cfd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
			  v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER,
			  v6 ? IPV6_PMTUDISC_DO : IP_PMTUDISC_DO);
	EXPECT_EQ(0, ret) TH_LOG("DF: %s", strerror(-ret));
	ret = connect_to(cfd, ADDR_C, PORT);
	EXPECT_EQ(0, ret) TH_LOG("connect to c: %s", strerror(-ret));
	afd = ret ? -1 : accept_wait(self->lfd, WAIT_MS);
	EXPECT_LE(0, afd) TH_LOG("accept in c: %s", strerror(errno));
	port = local_port(cfd);
	if (afd >= 0) {
		ret = bulk_xfer(cfd, afd, len, XFER_MS, &done, &bad);
		EXPECT_EQ(0, ret)
			TH_LOG("%zu of %zu bytes arrived (wrong byte at %zu): %s",
			       done, len, bad, strerror(-ret));
		if (ret)
			port = 0;
	} else {
		port = 0;
	}
	if (sinfo_get(cfd, variant->proto, si))
		si->snd_mss = 0;
	close_fds(&afd, &cfd, NULL);
	return port;
}

/* What the data segments of one flow in a capture look like. */
struct flow_sum {
	size_t segs;		/* data segments */
	size_t over_mss;	/* ... with a payload above the MSS */
	size_t bad_csum;	/* ... with a wrong checksum */
	size_t partial;		/* ... with the checksum left to the device */
	size_t over_mtu;	/* ... in an IP packet above the MTU */
	unsigned int max_len;	/* the largest payload */
	size_t dups;		/* exact copies of a segment seen before */
	uint64_t bytes;		/* distinct payload bytes, from ISN + 1 on */
	int64_t hole;		/* where the tiling broke (relative seq), or -1 */
	const char *hole_why;	/* "gap", "overlap" or "no SYN seen" */
};

static int by_rseq(const void *x, const void *y)
{
	const struct etcp_cap_seg *a = *(const struct etcp_cap_seg **)x;
	const struct etcp_cap_seg *b = *(const struct etcp_cap_seg **)y;

	if (a->rseq != b->rseq)
		return a->rseq < b->rseq ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/*
 * Sum up the data segments from port @sport in @cap against @mss and
 * @mtu, and whether, sorted by sequence number, they tile the stream from
 * ISN + 1 on: each starts where the one before ended.  An exact copy of
 * the one before (same seq, same length) is counted in dups, not taken
 * for an overlap; the caller decides whether it may be there.
 */
static void flow_scan(struct etcp_cap *cap, unsigned short sport,
		      unsigned int mss, unsigned int mtu, int nethdr,
		      struct flow_sum *f)
{
	const struct etcp_cap_seg **v;
	int64_t next = 1;
	size_t i, n = 0;

	memset(f, 0, sizeof(*f));
	f->hole = -1;
	etcp_cap_poll(cap);
	v = calloc(cap->n ? cap->n : 1, sizeof(*v));
	if (!v) {
		f->hole = 0;
		f->hole_why = "out of memory";
		return;
	}
	for (i = 0; i < cap->n; i++) {
		const struct etcp_cap_seg *s = &cap->seg[i];

		if (s->sport != sport || !s->len)
			continue;
		f->segs++;
		f->over_mss += s->len > mss;
		f->bad_csum += s->csum == 0;
		f->partial += s->csum < 0;
		f->over_mtu += s->seglen + nethdr > (int)mtu;
		if (s->len > f->max_len)
			f->max_len = s->len;
		v[n++] = s;
	}
	qsort(v, n, sizeof(*v), by_rseq);
	for (i = 0; i < n; i++) {
		if (v[i]->rseq < 0) {
			f->hole = 0;
			f->hole_why = "no SYN seen";
			break;
		}
		if (i && v[i]->rseq == v[i - 1]->rseq &&
		    v[i]->len == v[i - 1]->len) {
			f->dups++;
			continue;
		}
		if (v[i]->rseq != next) {
			f->hole = next;
			f->hole_why = v[i]->rseq > next ? "gap" : "overlap";
			break;
		}
		next += v[i]->len;
		f->bytes += v[i]->len;
	}
	free(v);
}

#define FLOW_FMT	"%zu data segments, %zu above MSS %u (largest %u), %zu wrong " \
			"checksums, %zu partial, %zu above MTU %u, %zu copies, " \
			"%llu bytes in a row, tiling broken at %lld (%s)%s"
#define FLOW_ARGS(f, mss, mtu, cap)					\
	(f).segs, (f).over_mss, (mss), (f).max_len, (f).bad_csum,	\
	(f).partial, (f).over_mtu, (mtu), (f).dups,			\
	(unsigned long long)(f).bytes, (long long)(f).hole,		\
	(f).hole_why ? (f).hole_why : "-",				\
	(cap)->lost ? ", CAPTURE LOST PACKETS" : ""

/*
 * Super-segments left a: on ea a data segment of flow @sport with a
 * payload above the MSS.  Without one the case proves nothing.
 */
static void expect_super_segment(struct __test_metadata *_metadata,
				 const FIXTURE_VARIANT(offload) *variant,
				 struct etcp_cap *cap, unsigned short sport)
{
	struct flow_sum f;

	flow_scan(cap, sport, MSS, 65535, 0, &f);
	EXPECT_LT(0, f.over_mss)
		TH_LOG("%s: no super-segment (payload > MSS %d) left a on ea, so "
		       "this case tests nothing: " FLOW_FMT, proto_name(variant->proto),
		       MSS, FLOW_ARGS(f, MSS, 65535, cap));
}

/* ------------------------------------------------------------ tests */

/*
 * a's super-segments cross the veth whole; b, forwarding them to eb2
 * without transmit checksumming (and so without TSO), must cut them into
 * segments a receiver takes: each within the MSS and the MTU, with a
 * complete checksum, together the stream from ISN + 1, no byte twice.
 * Without the software segmentation (offload.c) they would go whole or
 * not at all; with TCP's checksum offload trusted, with wrong checksums.
 */
TEST_F_TIMEOUT(offload, forward_to_plain_device, TEST_TIMEOUT)
{
	struct sinfo si = { 0 };
	unsigned short port;
	struct flow_sum f;
	int ret;

	ret = ns_txcsum_off(self->ns.b, ETCP_NS_IF_B2);
	ASSERT_EQ(0, ret) TH_LOG("tx checksumming off on eb2: %s", strerror(-ret));
	self->cap_c = etcp_cap_start(self->ns.c, ETCP_NS_IF_C, variant->proto);
	ASSERT_NE(NULL, self->cap_c) TH_LOG("capture on ec: %s", strerror(errno));

	port = xfer(_metadata, self, variant, XFER_LEN, &si);
	ASSERT_NE(0, port);
	EXPECT_EQ(MSS, si.snd_mss);
	expect_super_segment(_metadata, variant, self->cap_a, port);

	flow_scan(self->cap_c, port, MSS, MTU_LINK, NETHDR, &f);
	EXPECT_EQ(0, self->cap_c->lost) TH_LOG("the capture on ec lost packets");
	EXPECT_LT(0, f.segs);
	EXPECT_EQ(0, f.over_mss) TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c));
	EXPECT_EQ(0, f.over_mtu) TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c));
	/* Complete checksums, every one: eb2 could fill in none. */
	EXPECT_EQ(0, f.bad_csum + f.partial)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c));
	/*
	 * A copy is only what the sender retransmitted (TCP's tail loss
	 * probe resends its last segment when an ACK is late, as under a
	 * loaded VM), never a segment that went out of b twice.
	 */
	EXPECT_GE(si.total_retrans, f.dups)
		TH_LOG("ec: " FLOW_FMT ", the sender retransmitted %u",
		       FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c), si.total_retrans);
	EXPECT_EQ(-1, f.hole) TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c));
	EXPECT_EQ(XFER_LEN, f.bytes)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_c));
}

/*
 * A first connection shows super-segments on ea; after @off(ns a, "ea")
 * takes an offload away, a second one, over the same route, puts only
 * segments of at most the MSS on the wire, none with a wrong checksum
 * and, unless @partial_ok, none left partial for the device.
 */
static void segments_after_off(struct __test_metadata *_metadata,
			       FIXTURE_DATA(offload) *self,
			       const FIXTURE_VARIANT(offload) *variant,
			       int (*off)(int nsfd, const char *ifname), const char *what,
			       bool partial_ok)
{
	struct sinfo si = { 0 };
	unsigned short port;
	struct flow_sum f;
	int ret;

	port = xfer(_metadata, self, variant, XFER_SHORT, &si);
	ASSERT_NE(0, port);
	expect_super_segment(_metadata, variant, self->cap_a, port);

	ret = off(self->ns.a, ETCP_NS_IF_A);
	ASSERT_EQ(0, ret) TH_LOG("%s off on ea: %s", what, strerror(-ret));
	port = xfer(_metadata, self, variant, XFER_SHORT, &si);
	ASSERT_NE(0, port);
	EXPECT_EQ(MSS, si.snd_mss);

	flow_scan(self->cap_a, port, MSS, MTU_LINK, NETHDR, &f);
	EXPECT_EQ(0, self->cap_a->lost) TH_LOG("the capture on ea lost packets");
	EXPECT_LT(0, f.segs);
	EXPECT_EQ(0, f.over_mss) TH_LOG("ea: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_a));
	EXPECT_EQ(0, f.bad_csum + (partial_ok ? 0 : f.partial))
		TH_LOG("ea: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_a));
	EXPECT_EQ(-1, f.hole) TH_LOG("ea: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_a));
	EXPECT_EQ(XFER_SHORT, f.bytes)
		TH_LOG("ea: " FLOW_FMT, FLOW_ARGS(f, MSS, MTU_LINK, self->cap_a));
}

/*
 * Transmit checksumming off on ea (which takes TSO with it): the
 * connection sends no super-segment to a device that cannot take it, or
 * the core cuts it first, and every checksum is complete.
 */
TEST_F_TIMEOUT(offload, plain_device_at_sender, TEST_TIMEOUT)
{
	segments_after_off(_metadata, self, variant, ns_txcsum_off,
			   "tx checksumming", false);
}

/*
 * "ethtool -K ea tso off, and tshark sees segments".  veth keeps
 * HW_CSUM, so their checksums may be left to it (the capture shows them
 * partial); none is wrong.
 */
TEST_F_TIMEOUT(offload, tso_off_shows_segments, TEST_TIMEOUT)
{
	segments_after_off(_metadata, self, variant, ns_tso_off, "TSO", true);
}

/*
 * b's link to c has MTU 1400 on eb2, which has no offloads (as in
 * forward_to_plain_device); ec keeps 1500, so c announces MSS 1460 (1440)
 * and a's super-segments carry segments of that size (with 1400 on ec
 * too, c's MSS option would say 1360 and nothing would be too big).  b
 * must refuse them whole, not forward segments of 1500 bytes:
 * RFC 1191 / 8201 bring a's MSS down to the path's, and the stream
 * arrives whole, on ec in packets of at most 1400 bytes.
 */
TEST_F_TIMEOUT(offload, forward_smaller_mtu, TEST_TIMEOUT)
{
	unsigned int small = MTU_SMALL - NETHDR - 20;
	struct sinfo si = { 0 };
	unsigned short port;
	struct flow_sum f;
	int ret;

	ASSERT_EQ(0, ns_cmd(self->ns.b, "ip link set dev %s mtu %d",
			    ETCP_NS_IF_B2, MTU_SMALL));
	/*
	 * What fits would otherwise cross eb2 whole too, and ec's capture
	 * would see super-segments again, not the packets a wire carries.
	 */
	ret = ns_txcsum_off(self->ns.b, ETCP_NS_IF_B2);
	ASSERT_EQ(0, ret) TH_LOG("tx checksumming off on eb2: %s", strerror(-ret));
	self->cap_c = etcp_cap_start(self->ns.c, ETCP_NS_IF_C, variant->proto);
	ASSERT_NE(NULL, self->cap_c) TH_LOG("capture on ec: %s", strerror(errno));

	port = xfer(_metadata, self, variant, XFER_SHORT, &si);
	ASSERT_NE(0, port) TH_LOG("the transfer did not complete (a black hole?):\n%s",
				  etcp_cap_str(self->cap_a));
	EXPECT_EQ(small, si.snd_mss) TH_LOG("a's MSS did not fall to the path's");
	expect_super_segment(_metadata, variant, self->cap_a, port);

	flow_scan(self->cap_c, port, small, MTU_SMALL, NETHDR, &f);
	EXPECT_EQ(0, self->cap_c->lost) TH_LOG("the capture on ec lost packets");
	EXPECT_LT(0, f.segs);
	EXPECT_EQ(0, f.over_mss)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, small, MTU_SMALL, self->cap_c));
	EXPECT_EQ(0, f.over_mtu)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, small, MTU_SMALL, self->cap_c));
	EXPECT_EQ(0, f.bad_csum)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, small, MTU_SMALL, self->cap_c));
	/*
	 * Copies may come here: the segments that fit and followed a refused
	 * super-segment reached c, and the sender goes back to the first
	 * refused one and sends on from there (simple retransmit).
	 */
	EXPECT_EQ(-1, f.hole)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, small, MTU_SMALL, self->cap_c));
	EXPECT_EQ(XFER_SHORT, f.bytes)
		TH_LOG("ec: " FLOW_FMT, FLOW_ARGS(f, small, MTU_SMALL, self->cap_c));
}

TEST_HARNESS_MAIN
