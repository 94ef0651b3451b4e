// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: blind attacks on an established connection (RFC 5961),
 * asserted on the wire and in /proc/net/etcp_stat.
 *
 *   netns a (client)                          netns b (server)
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *        ^ capture (AF_PACKET, both directions)      listener :5000
 *   raw socket (forged segments to b)        raw socket (forged to a)
 *
 * The fixture connects a client in netns a to a listener in netns b and
 * records every segment on ea.  The attacker is a raw socket that knows
 * the 4-tuple and forges segments with sequence numbers relative to the
 * true ones (ETCP_INFO gives snd_nxt/rcv_nxt of each end):
 *
 *   blind_rst            RST out of window (dropped, silent), in the
 *                        window but not exact (challenge ACK), exact
 *                        (reset, ECONNRESET) - RFC 5961 3.2
 *   blind_syn            SYN in and out of the window: challenge ACK,
 *                        never an RST - RFC 5961 4.2
 *   ack_unsent_data      ACK of data never sent, ACK older than
 *                        SND.UNA - MAX.SND.WND: dropped with its payload,
 *                        challenge ACK - RFC 5961 5.2
 *   challenge_ack_limit  etcp_challenge_ack_limit, per namespace, with a
 *                        random budget per second - RFC 5961 7
 *
 * The challenge ACK is <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> of the attacked
 * end, checked as absolute numbers (from ETCP_INFO) and as numbers
 * relative to the ISNs the capture saw.  Only etcp runs here: the
 * counters are etcp's own.
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>
#include <linux/sockios.h>

#include "etcp_capture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "etcp_raw.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns b */
#define CLOSED_PORT	5999	/* nothing listens there */
#define PROBE_PORT	41099	/* the raw probe SYN's source port */

#define QUIET_MS	300	/* nothing more may follow in this time */
#define WAIT_MS		2000	/* for what should happen at once */
#define IN_WND		100	/* inside any receive window, not at RCV.NXT */
#define FAR		1000000	/* outside any receive window */
#define LIMIT_SYSCTL	"net/ipv4/etcp_challenge_ack_limit"

#define EXCH		etcp_cap_str(self->cap)

/* Poll until the socket is in state: 0 or -ETIMEDOUT. */
static int wait_state(int fd, int state, int ms)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		if (sock_state(fd, IPPROTO_ETCP) == state)
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_ms(5);
	}
}

/* ------------------------------------------------------------ data */

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0)
			return -errno;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Exactly len bytes within ms: 0, -ETIMEDOUT, -EPIPE (EOF) or -errno. */
static int recv_exact(int fd, char *buf, size_t len, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (len) {
		int left = (int)(deadline - now_ms());
		ssize_t n;

		if (left <= 0 || poll_fd(fd, POLLIN, left) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		buf += n;
		len -= n;
	}
	return 0;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(attack) {
	struct etcp_netns ns;
	struct etcp_cap *cap;
	int raw_a, raw_b;	/* forging toward b, toward a */
	int lfd, cfd, afd;
	unsigned short cport;
};

FIXTURE_SETUP(attack)
{
	const char *why = etcp_netns_unsupported();
	int ret;

	self->raw_a = self->raw_b = self->lfd = self->cfd = self->afd = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	pin_cpu();
	ASSERT_EQ(0, two_ns_setup(&self->ns)) TH_LOG("cannot set up the namespaces");
	self->cap = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, IPPROTO_ETCP);
	ASSERT_NE(NULL, self->cap) TH_LOG("capture: %s", strerror(errno));
	self->raw_a = etcp_raw_open(self->ns.a, IPPROTO_ETCP);
	ASSERT_LE(0, self->raw_a) TH_LOG("raw socket in a: %s", strerror(errno));
	self->raw_b = etcp_raw_open(self->ns.b, IPPROTO_ETCP);
	ASSERT_LE(0, self->raw_b) TH_LOG("raw socket in b: %s", strerror(errno));

	self->lfd = listen_on(self->ns.b, IPPROTO_ETCP, ETCP_NS_ADDR_B, PORT, 8);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(errno));
	self->cfd = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, self->cfd);
	ret = connect_to(self->cfd, ETCP_NS_ADDR_B, PORT);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s: %s", strerror(-ret), EXCH);
	self->afd = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, self->afd) TH_LOG("accept: %s", strerror(errno));
	self->cport = local_port(self->cfd);
	/* SYN, SYN-ACK, ACK: the ISNs of both ways are known. */
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 3, WAIT_MS)) TH_LOG("%s", EXCH);
}

FIXTURE_TEARDOWN(attack)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	if (self->afd >= 0)
		close(self->afd);
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->lfd >= 0)
		close(self->lfd);
	if (self->raw_a >= 0)
		close(self->raw_a);
	if (self->raw_b >= 0)
		close(self->raw_b);
	etcp_cap_stop(self->cap);
	self->cap = NULL;
	etcp_netns_teardown(&self->ns);
}

/* A segment from the client's 4-tuple to the server, forged in netns a. */
static struct etcp_raw_seg to_server(FIXTURE_DATA(attack) *self, uint8_t flags,
				     uint32_t seq, uint32_t ack)
{
	struct etcp_raw_seg seg = {
		.saddr = ETCP_NS_ADDR_A, .daddr = ETCP_NS_ADDR_B,
		.sport = self->cport, .dport = PORT,
		.seq = seq, .ack = ack, .flags = flags, .window = 65535,
	};

	return seg;
}

/* Segments the server sent to the client (captured incoming on ea). */
static bool from_server(const struct etcp_cap_seg *seg, const void *cport)
{
	return !seg->out && seg->sport == PORT &&
	       seg->dport == *(const unsigned short *)cport;
}

static bool rst_from_server(const struct etcp_cap_seg *seg, const void *cport)
{
	return from_server(seg, cport) && (seg->flags & ETCP_TH_RST);
}

/* Forged RSTs (outgoing on ea) toward the server. */
static bool forged_rst(const struct etcp_cap_seg *seg, const void *cport)
{
	return seg->out && seg->sport == *(const unsigned short *)cport &&
	       (seg->flags & ETCP_TH_RST);
}

/*
 * Wait for the one challenge ACK the server sends after segment from:
 * flags exactly ACK, no payload, SEQ = si->snd_nxt, ACK = si->rcv_nxt
 * (absolute), and rseq/rack as the capture reckons them.  Then nothing
 * more from the server for QUIET_MS.  Returns its index, or -1.
 */
static long expect_chack(struct __test_metadata *_metadata,
			 FIXTURE_DATA(attack) *self, size_t from,
			 const struct sinfo *si, const char *what)
{
	struct etcp_cap_sel sel = {
		.mask = 0xff, .flags = ETCP_TH_ACK,
		.sport = PORT, .dport = self->cport,
	};
	const struct etcp_cap_seg *s;
	long idx;

	idx = etcp_cap_wait_match(self->cap, from, etcp_cap_sel_match, &sel, WAIT_MS);
	EXPECT_LE(0, idx) TH_LOG("%s: no challenge ACK: %s", what, EXCH);
	if (idx < 0)
		return -1;
	s = &self->cap->seg[idx];
	EXPECT_EQ(si->snd_nxt, s->seq) TH_LOG("%s: challenge ACK seq: %s", what, EXCH);
	EXPECT_EQ(si->rcv_nxt, s->ack) TH_LOG("%s: challenge ACK ack: %s", what, EXCH);
	EXPECT_EQ((int64_t)(uint32_t)(si->snd_nxt - si->iss), s->rseq)
		TH_LOG("%s: %s", what, EXCH);
	EXPECT_EQ((int64_t)(uint32_t)(si->rcv_nxt - si->irs), s->rack)
		TH_LOG("%s: %s", what, EXCH);
	EXPECT_EQ(0, s->len);
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(1U, etcp_cap_count(self->cap, from, from_server, &self->cport))
		TH_LOG("%s: the server sent more than one challenge ACK: %s", what, EXCH);
	return idx;
}

/* Both ends ESTABLISHED with the numbers they had. */
static void expect_unchanged(struct __test_metadata *_metadata,
			     FIXTURE_DATA(attack) *self, const struct sinfo *c0,
			     const struct sinfo *a0, const char *what)
{
	struct sinfo c1, a1;

	ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c1));
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a1));
	EXPECT_EQ(ETCP_ESTABLISHED, c1.state) TH_LOG("%s", what);
	EXPECT_EQ(ETCP_ESTABLISHED, a1.state) TH_LOG("%s: the server left ESTABLISHED", what);
	EXPECT_EQ(c0->snd_nxt, c1.snd_nxt) TH_LOG("%s", what);
	EXPECT_EQ(c0->rcv_nxt, c1.rcv_nxt) TH_LOG("%s", what);
	EXPECT_EQ(c0->snd_una, c1.snd_una) TH_LOG("%s", what);
	EXPECT_EQ(a0->snd_nxt, a1.snd_nxt) TH_LOG("%s", what);
	EXPECT_EQ(a0->rcv_nxt, a1.rcv_nxt) TH_LOG("%s", what);
	EXPECT_EQ(a0->snd_una, a1.snd_una) TH_LOG("%s", what);
	EXPECT_EQ(0, ioctl_int(self->afd, SIOCINQ)) TH_LOG("%s: data queued", what);
}

/* len patterned bytes each way, compared byte for byte. */
static void transfer(struct __test_metadata *_metadata,
		     FIXTURE_DATA(attack) *self, size_t len, unsigned int salt)
{
	static char out[32768], in[32768];
	int dir, ret;
	size_t i;

	ASSERT_LE(len, sizeof(out));
	for (dir = 0; dir < 2; dir++) {
		int tx = dir ? self->afd : self->cfd;
		int rx = dir ? self->cfd : self->afd;

		for (i = 0; i < len; i++)
			out[i] = (char)(i * 7 + salt + dir * 13 + (i >> 8));
		memset(in, 0, len);
		ASSERT_EQ(0, send_all(tx, out, len)) TH_LOG("send, %s", dir ? "b>a" : "a>b");
		ret = recv_exact(rx, in, len, 10000);
		ASSERT_EQ(0, ret) TH_LOG("recv %s: %s: %s", dir ? "b>a" : "a>b",
					 strerror(-ret), EXCH);
		ASSERT_EQ(0, memcmp(out, in, len)) TH_LOG("%s: bytes differ", dir ? "b>a" : "a>b");
	}
}

/*
 * Until everything sent either way is acknowledged, then QUIET_MS more for
 * delayed ACKs and window updates: the numbers ETCP_INFO gives afterwards
 * are the ones a forged segment must be judged by, and every segment of
 * the exchange so far is in the capture.
 */
static void settle(struct __test_metadata *_metadata, FIXTURE_DATA(attack) *self)
{
	int64_t deadline = now_ms() + WAIT_MS;
	struct sinfo c, a;

	for (;;) {
		ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c));
		ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a));
		if (c.snd_una == c.snd_nxt && a.snd_una == a.snd_nxt &&
		    c.rcv_nxt == a.snd_nxt && a.rcv_nxt == c.snd_nxt)
			break;
		ASSERT_GT(deadline, now_ms()) TH_LOG("data still unacknowledged: %s", EXCH);
		pause_step();
	}
	quiet(self->cap, QUIET_MS);
}

/* ------------------------------------------------------------ blind RST */

/*
 * RFC 5961 3.2: an RST out of the window is dropped without a word; one in
 * the window but not at RCV.NXT gets a challenge ACK and changes nothing;
 * only one at exactly RCV.NXT resets the connection.
 */
TEST_F(attack, blind_rst)
{
	struct stats s0, s1;
	struct sinfo c0, a0;
	struct etcp_raw_seg seg;
	size_t n0;
	char buf[16];
	ssize_t n;

	settle(_metadata, self);
	ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c0));
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a0));

	/* Out of the window: OutOfWindow, nothing sent back. */
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	seg = to_server(self, ETCP_TH_RST | ETCP_TH_ACK, a0.rcv_nxt + FAR, a0.snd_nxt);
	ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
	ASSERT_EQ(0, wait_stat(self->ns.b, "OutOfWindow", stat_of(&s0, "OutOfWindow") + 1, WAIT_MS))
		TH_LOG("an RST out of the window was not counted OutOfWindow");
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, from_server, &self->cport))
		TH_LOG("an RST out of the window was answered: %s", EXCH);
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	EXPECT_EQ(1, stat_delta(&s0, &s1, "InRsts"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAcks"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "EstabResets"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "OutSegs"));
	expect_unchanged(_metadata, self, &c0, &a0, "RST out of the window");

	/* In the window, not exact: one challenge ACK, nothing changes. */
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	seg = to_server(self, ETCP_TH_RST | ETCP_TH_ACK, a0.rcv_nxt + IN_WND, a0.snd_nxt);
	ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
	expect_chack(_metadata, self, n0, &a0, "RST at RCV.NXT+100");
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	EXPECT_EQ(1, stat_delta(&s0, &s1, "InRsts"));
	EXPECT_EQ(1, stat_delta(&s0, &s1, "ChallengeAcks"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAckSkipped"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "OutOfWindow"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "EstabResets"));
	expect_unchanged(_metadata, self, &c0, &a0, "RST in the window");
	transfer(_metadata, self, 3000, 1);

	/* Exactly RCV.NXT: the server's socket is reset, silently. */
	settle(_metadata, self);
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a0));
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	seg = to_server(self, ETCP_TH_RST | ETCP_TH_ACK, a0.rcv_nxt, a0.snd_nxt);
	ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
	ASSERT_EQ(0, wait_stat(self->ns.b, "EstabResets", stat_of(&s0, "EstabResets") + 1, WAIT_MS))
		TH_LOG("an RST at RCV.NXT did not reset the connection: %s", EXCH);
	EXPECT_EQ(0, wait_state(self->afd, ETCP_CLOSE, WAIT_MS));
	n = recv(self->afd, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("recv after the RST: %s", strerror(errno));
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, from_server, &self->cport))
		TH_LOG("the server answered the RST: %s", EXCH);
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	EXPECT_EQ(1, stat_delta(&s0, &s1, "InRsts"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAcks"));
	/* The client never heard of it. */
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(self->cfd, IPPROTO_ETCP));
}

/* ------------------------------------------------------------ blind SYN */

/*
 * RFC 5961 4.2: a SYN on a synchronized connection, whatever its sequence
 * number, gets a challenge ACK and never an RST; the connection goes on.
 */
TEST_F(attack, blind_syn)
{
	static const struct { const char *what; int64_t off; } syns[] = {
		{ "SYN at RCV.NXT+100 (in the window)", IN_WND },
		{ "SYN at RCV.NXT+1000000 (out of the window)", FAR },
		{ "SYN at IRS (the peer's first SYN again)", -1 },
	};
	struct stats s0, s1;
	struct sinfo c0, a0;
	struct etcp_raw_seg seg;
	size_t n0, i;

	transfer(_metadata, self, 1000, 2);
	settle(_metadata, self);
	ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c0));
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a0));
	for (i = 0; i < ARRAY_SIZE(syns); i++) {
		uint32_t seq = syns[i].off < 0 ? a0.irs : a0.rcv_nxt + (uint32_t)syns[i].off;

		ASSERT_EQ(0, stats_read(self->ns.b, &s0));
		n0 = self->cap->n;
		seg = to_server(self, ETCP_TH_SYN, seq, 0);
		ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
		expect_chack(_metadata, self, n0, &a0, syns[i].what);
		EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, rst_from_server, &self->cport))
			TH_LOG("%s: the server sent an RST: %s", syns[i].what, EXCH);
		ASSERT_EQ(0, stats_read(self->ns.b, &s1));
		EXPECT_EQ(1, stat_delta(&s0, &s1, "ChallengeAcks"))
			TH_LOG("%s: not a counted challenge ACK (ChallengeAcks +%ld, OutOfWindow +%ld)",
			       syns[i].what,
			       stat_delta(&s0, &s1, "ChallengeAcks"), stat_delta(&s0, &s1, "OutOfWindow"));
		EXPECT_EQ(0, stat_delta(&s0, &s1, "EstabResets")) TH_LOG("%s", syns[i].what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "OutRsts")) TH_LOG("%s", syns[i].what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "PassiveOpens")) TH_LOG("%s", syns[i].what);
		expect_unchanged(_metadata, self, &c0, &a0, syns[i].what);
	}
	transfer(_metadata, self, 5000, 3);
}

/* ------------------------------------------------------------ bad ACKs */

/*
 * RFC 5961 5.2: an ACK of data never sent (SEG.ACK > SND.NXT) or older
 * than SND.UNA - MAX.SND.WND is dropped, payload and all, counted
 * AckInvalid and answered with a challenge ACK.  An old ACK within
 * MAX.SND.WND is a harmless duplicate: no answer, not counted.
 */
TEST_F(attack, ack_unsent_data)
{
	static const char bogus[] = "FORGED-PAYLOAD";
	struct stats s0, s1;
	struct sinfo c0, a0;
	struct etcp_raw_seg seg;
	size_t n0;
	int i;

	/* Some data each way first, so that SND.UNA has moved. */
	transfer(_metadata, self, 20000, 4);
	settle(_metadata, self);
	ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c0));
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a0));
	ASSERT_EQ(a0.snd_una, a0.snd_nxt) TH_LOG("the server's data is not all acked");

	for (i = 0; i < 2; i++) {
		const char *what = i ? "ACK at SND.UNA-1000000 with data" :
				       "ACK at SND.NXT+100000 with data";
		uint32_t ack = i ? a0.snd_una - FAR : a0.snd_nxt + 100000;

		ASSERT_EQ(0, stats_read(self->ns.b, &s0));
		n0 = self->cap->n;
		seg = to_server(self, ETCP_TH_ACK | ETCP_TH_PSH, a0.rcv_nxt, ack);
		seg.data = bogus;
		seg.datalen = sizeof(bogus) - 1;
		ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
		expect_chack(_metadata, self, n0, &a0, what);
		ASSERT_EQ(0, stats_read(self->ns.b, &s1));
		EXPECT_EQ(1, stat_delta(&s0, &s1, "AckInvalid")) TH_LOG("%s", what);
		EXPECT_EQ(1, stat_delta(&s0, &s1, "ChallengeAcks")) TH_LOG("%s", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "OutOfWindow")) TH_LOG("%s", what);
		expect_unchanged(_metadata, self, &c0, &a0, what);
	}

	/* Old but within MAX.SND.WND: an ordinary duplicate ACK. */
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	seg = to_server(self, ETCP_TH_ACK, a0.rcv_nxt, a0.snd_una - 1000);
	ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
	ASSERT_EQ(0, wait_stat(self->ns.b, "InSegs", stat_of(&s0, "InSegs") + 1, WAIT_MS));
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, from_server, &self->cport))
		TH_LOG("an old ACK within the window was answered: %s", EXCH);
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "AckInvalid"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAcks"));
	expect_unchanged(_metadata, self, &c0, &a0, "ACK at SND.UNA-1000");

	/* The forged payload never reached the reader; real data does. */
	transfer(_metadata, self, 20000, 5);
}

/* ------------------------------------------------------------ the limit */

#define BURST		300
#define LIMIT		10
#define PER_SEC_MAX	(LIMIT / 2 + LIMIT - 1)	/* the largest budget drawn */

static bool chack_from_server(const struct etcp_cap_seg *seg, const void *cport)
{
	return from_server(seg, cport) && seg->flags == ETCP_TH_ACK;
}

/*
 * RFC 5961 7: with etcp_challenge_ack_limit 10, a second's budget is
 * 5..14 challenge ACKs; 300 RSTs as fast as a raw socket sends them get
 * at least 5 and at most 14 for each second the burst spanned, and every
 * RST is counted either sent or skipped.  Limit 0 sends none.  The limit
 * is the namespace's: the client's namespace still answers.
 */
TEST_F(attack, challenge_ack_limit)
{
	struct stats s0, s1;
	struct sinfo a0, c0;
	struct etcp_raw_seg seg;
	int64_t t_first, t_last;
	long first, last, span_s, allowed, i;
	size_t n0, nack, j;

	ASSERT_EQ(0, ns_sysctl_write(self->ns.b, LIMIT_SYSCTL, "10"));
	settle(_metadata, self);
	ASSERT_EQ(0, sinfo_get(self->afd, IPPROTO_ETCP, &a0));
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	seg = to_server(self, ETCP_TH_RST | ETCP_TH_ACK, a0.rcv_nxt + IN_WND, a0.snd_nxt);
	for (i = 0; i < BURST; i++) {
		ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg)) TH_LOG("RST %ld", i);
		if (i % 50 == 49)
			etcp_cap_poll(self->cap);
	}
	ASSERT_EQ(0, wait_stat(self->ns.b, "InRsts", stat_of(&s0, "InRsts") + BURST, 10000))
		TH_LOG("not all %d RSTs arrived", BURST);
	quiet(self->cap, QUIET_MS);
	ASSERT_EQ(0U, self->cap->lost) TH_LOG("the capture lost segments");
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	nack = etcp_cap_count(self->cap, n0, chack_from_server, &self->cport);

	/* The span of the burst, from the capture's timestamps. */
	first = etcp_cap_find(self->cap, n0, forged_rst, &self->cport);
	ASSERT_LE(0, first);
	t_first = self->cap->seg[first].t;
	t_last = t_first;
	last = first;
	for (j = n0; j < self->cap->n; j++) {
		if (forged_rst(&self->cap->seg[j], &self->cport) ||
		    chack_from_server(&self->cap->seg[j], &self->cport)) {
			t_last = self->cap->seg[j].t;
			last = j;
		}
	}
	/* A burst of d seconds touches at most floor(d) + 2 seconds of jiffies. */
	span_s = (long)((t_last - t_first) / 1000000000LL);
	allowed = (span_s + 2) * PER_SEC_MAX;
	TH_LOG("%d RSTs in %lld ms (segments %ld..%ld): %zu challenge ACKs, at most %ld allowed",
	       BURST, (long long)((t_last - t_first) / 1000000), first, last, nack, allowed);
	EXPECT_LE(LIMIT / 2, (long)nack) TH_LOG("fewer than limit/2 challenge ACKs: %s", EXCH);
	EXPECT_GE(allowed, (long)nack) TH_LOG("the limit was not applied: %s", EXCH);
	EXPECT_EQ((long)nack, stat_delta(&s0, &s1, "ChallengeAcks"))
		TH_LOG("ChallengeAcks does not count what was sent");
	EXPECT_EQ(BURST, stat_delta(&s0, &s1, "ChallengeAcks") + stat_delta(&s0, &s1, "ChallengeAckSkipped"))
		TH_LOG("sent %ld + skipped %ld", stat_delta(&s0, &s1, "ChallengeAcks"),
		       stat_delta(&s0, &s1, "ChallengeAckSkipped"));
	EXPECT_EQ(BURST, stat_delta(&s0, &s1, "InRsts"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "EstabResets"));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(self->afd, IPPROTO_ETCP));

	/*
	 * Limit 0: none at all.  The budget of a second is drawn at its first
	 * challenge ACK, so a new limit holds from the next second on: wait
	 * for one to begin.
	 */
	ASSERT_EQ(0, ns_sysctl_write(self->ns.b, LIMIT_SYSCTL, "0"));
	pause_ms(1100);
	ASSERT_EQ(0, stats_read(self->ns.b, &s0));
	n0 = self->cap->n;
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, etcp_raw_send(self->raw_a, &seg));
	ASSERT_EQ(0, wait_stat(self->ns.b, "ChallengeAckSkipped",
			       stat_of(&s0, "ChallengeAckSkipped") + 20, WAIT_MS))
		TH_LOG("limit 0: %ld skipped", stat_now(self->ns.b, "ChallengeAckSkipped") -
		       stat_of(&s0, "ChallengeAckSkipped"));
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, from_server, &self->cport))
		TH_LOG("limit 0, yet the server answered: %s", EXCH);
	ASSERT_EQ(0, stats_read(self->ns.b, &s1));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAcks"));
	EXPECT_EQ(20, stat_delta(&s0, &s1, "ChallengeAckSkipped"));
	EXPECT_EQ(20, stat_delta(&s0, &s1, "InRsts"));

	/* Netns a keeps its own (default) limit: the client still answers. */
	ASSERT_EQ(0, sinfo_get(self->cfd, IPPROTO_ETCP, &c0));
	ASSERT_EQ(0, stats_read(self->ns.a, &s0));
	n0 = self->cap->n;
	seg.saddr = ETCP_NS_ADDR_B;
	seg.daddr = ETCP_NS_ADDR_A;
	seg.sport = PORT;
	seg.dport = self->cport;
	seg.seq = c0.rcv_nxt + IN_WND;
	seg.ack = c0.snd_nxt;
	ASSERT_EQ(0, etcp_raw_send(self->raw_b, &seg));
	{
		struct etcp_cap_sel sel = {
			.mask = 0xff, .flags = ETCP_TH_ACK,
			.sport = self->cport, .dport = PORT,
		};
		long idx = etcp_cap_wait_match(self->cap, n0, etcp_cap_sel_match, &sel, WAIT_MS);

		ASSERT_LE(0, idx) TH_LOG("the client sent no challenge ACK: %s", EXCH);
		EXPECT_TRUE(self->cap->seg[idx].out);
		EXPECT_EQ(c0.snd_nxt, self->cap->seg[idx].seq) TH_LOG("%s", EXCH);
		EXPECT_EQ(c0.rcv_nxt, self->cap->seg[idx].ack) TH_LOG("%s", EXCH);
	}
	ASSERT_EQ(0, stats_read(self->ns.a, &s1));
	EXPECT_EQ(1, stat_delta(&s0, &s1, "ChallengeAcks"));
	EXPECT_EQ(0, stat_delta(&s0, &s1, "ChallengeAckSkipped"));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(self->cfd, IPPROTO_ETCP));

	/* 320 RSTs later the connection still carries data. */
	ASSERT_EQ(0, ns_sysctl_write(self->ns.b, LIMIT_SYSCTL, "1000"));
	transfer(_metadata, self, 5000, 6);
}

TEST_HARNESS_MAIN
