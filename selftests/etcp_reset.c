// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: a received RST in every state, and half-open
 * connections (RFC 9293 3.5.2, 3.10.7.3, 3.10.7.4).
 *
 *   netns a (client, the victim)              netns b (server)
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *   fd00:1::1                                        fd00:1::2
 *        ^ capture (AF_PACKET, both directions)      listener :5000
 *   raw socket (forged segments to b)        raw socket (forged to a)
 *
 * The RSTs are forged from the peer's 4-tuple with SEQ = exactly the
 * victim's RCV.NXT, taken from the capture (the sequence number after the
 * last segment the peer sent), so the same code runs over TCP, which
 * proves that the test expects what Linux TCP does, and over etcp.  Every
 * case runs over IPv4 and over IPv6 (variants tcp, etcp, tcp6, etcp6:
 * AF_INET6 sockets between fd00:1::1 and fd00:1::2, raw IPv6 forging, the
 * rows of /proc/net/tcp6 and etcp6): the same segments, states, errnos
 * and counters; over IPv6 etcp's answers to segments with no socket come
 * from its IPv6 control socket.
 * nftables keeps a state from moving on (a dropped ACK, a dropped FIN).
 *
 *   syn_sent           RST whose ACK does not acknowledge the SYN, RST
 *                      without ACK: ignored, the SYN is retransmitted;
 *                      RST with ACK = ISS+1: ECONNREFUSED
 *   syn_recv           a request whose final ACK is dropped: an RST at
 *                      RCV.NXT removes it, the listener stays, nothing
 *                      is accepted
 *   syn_recv_in_window an RST elsewhere in its window: a challenge ACK,
 *                      the request stays (RFC 5961 3.2, as Linux)
 *   syn_recv_syn       a SYN in its window: an RST in answer, the request
 *                      goes (Linux's order, not RFC 5961 4.2's challenge)
 *   syn_recv_bad_ack_out_of_window
 *                      a segment with a wrong ACK, far beyond the window:
 *                      <SEQ=SEG.ACK><CTL=RST>, the ACK is checked first
 *                      (tcp_check_req()); the request stays and completes
 *   syn_recv_out_of_window
 *                      the same with the right ACK: <SEQ=ISS+1>
 *                      <ACK=RCV.NXT><CTL=ACK>; the request stays
 *   syn_recv_rst_bad_ack
 *                      an RST,ACK at RCV.NXT with a wrong ACK: the ACK
 *                      check passes over RSTs, the request goes, unanswered
 *   established        unread received data and unacknowledged data of
 *                      its own: the unread data first, then
 *                      ECONNRESET; SIOCINQ, EPIPE and SIGPIPE, poll
 *   fin_wait1, fin_wait2, closing, last_ack, close_wait
 *                      a client held by the application (after
 *                      shutdown(SHUT_WR)) and, but in CLOSE_WAIT, an
 *                      orphan (after close()) side by side: CLOSE at once,
 *                      no TIME_WAIT, no segment afterwards, the errno of
 *                      the next recv() and send(); the orphan freed, the
 *                      Orphans gauge back to 0 (etcp)
 *   closing_at_fin, last_ack_at_fin, close_wait_at_fin
 *                      the same with the RST at RCV.NXT - 1, the peer's
 *                      FIN's number, which Linux accepts there
 *   fin_wait2_before_rcv_nxt
 *                      ...and nowhere else: ignored in FIN_WAIT2
 *   half_open_server   figure 11: the server forgot; the client's data
 *                      draws <SEQ=SEG.ACK><CTL=RST>: ECONNRESET
 *   half_open_client   figure 10: the client forgot and connects again
 *                      from the same port: challenge ACK, RST, the
 *                      server aborts, the retransmitted SYN opens anew
 *
 * TIME_WAIT is etcp_close_wire's (rfc1337).  Counters are etcp's own
 * (/proc/net/etcp_stat); TCP's twins are not all in TcpExt and are not
 * checked.
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>
#include <linux/sockios.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "etcp_raw.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns b */
#define CPORT		40100	/* the client's port */
#define CPORT2		40101	/* a second client, orphaned */

#define WAIT_MS		2000	/* for what should happen at once */
#define QUIET_MS	400	/* > the first RTO (200 ms): a live socket would send */
#define NFT_NOT_RST	"@th,104,8 & 0x04 == 0"
/* Segments with data (no options after the handshake), by IPv4's or IPv6's length field. */
#define NFT_DATA(family) ((family) == AF_INET6 ? "ip6 length > 20" : "ip length > 40")
#define OUT_OF_WINDOW	0x40000000U	/* from RCV.NXT: far beyond any window */

#define ST_GONE		0
#define ST_TIME_WAIT	6

#define EXCH		etcp_cap_str(self->cap)
#define PROTO		(variant->proto)
#define ETCP		(variant->proto == IPPROTO_ETCP)

ETCP_ENV_CHECK()

/* ------------------------------------------------------------ helpers */

/* recv() of one byte, without waiting: its result, errno in *err. */
static ssize_t recv_now(int fd, int *err)
{
	char c[2048];
	ssize_t n;

	errno = 0;
	n = recv(fd, c, sizeof(c), MSG_DONTWAIT);
	*err = n < 0 ? errno : 0;
	return n;
}

/* send() of one byte with MSG_NOSIGNAL: its errno, or 0 if it was sent. */
static int send_err(int fd)
{
	return send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? errno : 0;
}

/*
 * A connection that is over: no row, or (etcp, whose /proc/net/etcp lists
 * every socket of the namespace) a socket the application still holds,
 * in CLOSE.  /proc/net/tcp shows only hashed sockets: no row.
 */
static bool row_closed(int st)
{
	return st == ST_GONE || st == ETCP_CLOSE;
}

/*
 * Poll until the row is closed (above): 0, -ETIMEDOUT, or -EEXIST if a
 * TIME_WAIT row was seen on the way.
 */
static int wait_gone_no_tw(int nsfd, int proto, unsigned int lport,
			   unsigned int rport, int ms)
{
	int64_t deadline = now_ms() + ms;
	bool tw = false;
	int st;

	while (!row_closed(st = proc_row_state(nsfd, proto, lport, rport))) {
		tw |= st == ST_TIME_WAIT;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_step();
	}
	return tw ? -EEXIST : 0;
}

/*
 * The sequence number that follows the last segment from sport to dport
 * in the capture (SEQ + LEN, + 1 for SYN and FIN): the receiver's RCV.NXT
 * if they all arrived.  False if there is none.
 */
static bool flow_next(const struct etcp_cap *cap, unsigned short sport,
		      unsigned short dport, uint32_t *next)
{
	bool found = false;
	size_t i;

	for (i = 0; i < cap->n; i++) {
		const struct etcp_cap_seg *s = &cap->seg[i];
		uint32_t end;

		if (s->sport != sport || s->dport != dport || (s->flags & ETCP_TH_RST))
			continue;
		end = s->seq + s->len + !!(s->flags & ETCP_TH_SYN) + !!(s->flags & ETCP_TH_FIN);
		if (!found || (int32_t)(end - *next) > 0)
			*next = end;
		found = true;
	}
	return found;
}

static bool flags_from(const struct etcp_cap_seg *s, const void *arg)
{
	const struct etcp_cap_sel *sel = arg;

	return s->sport == sel->sport && (s->flags & sel->mask) == sel->flags;
}

/* flags_from() and to port sel->dport. */
static bool sel_to(const struct etcp_cap_seg *s, const void *arg)
{
	const struct etcp_cap_sel *sel = arg;

	return flags_from(s, sel) && s->dport == sel->dport;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(reset) {
	struct etcp_netns ns;
	struct etcp_cap *cap;
	int raw_a, raw_b;	/* forging toward b, toward a */
	int lfd, cfd, afd;
	int cfd2, afd2;		/* a second pair, from CPORT2 */
	const FIXTURE_VARIANT(reset) *var;	/* the family and its addresses */
};

ETCP_FAMILY_VARIANTS(reset);

FIXTURE_SETUP(reset)
{
	/*
	 * TCP made comparable: no SACK, no ECN, challenge ACKs not rate
	 * limited per socket; etcp: no SACK either.
	 */
	static const char * const tcp_off[] = {
		"net/ipv4/tcp_sack", "net/ipv4/tcp_ecn", "net/ipv4/tcp_invalid_ratelimit",
	};
	const char *why;
	int i, ret;

	self->raw_a = self->raw_b = self->lfd = self->cfd = self->afd = -1;
	self->cfd2 = self->afd2 = -1;
	self->cap = NULL;
	self->var = variant;
	if (env_unsupported)
		ETCP_SETUP_SKIP("%s", env_unsupported);
	if (!have_prog("nft"))
		ETCP_SETUP_SKIP("needs nft(8)");
	pin_cpu();
	ASSERT_EQ(0, two_ns_setup(&self->ns)) TH_LOG("cannot set up the namespaces");
	if (PROTO == IPPROTO_TCP) {
		for (i = 0; i < (int)ARRAY_SIZE(tcp_off); i++) {
			ASSERT_EQ(0, ns_sysctl_write(self->ns.a, tcp_off[i], "0"));
			ASSERT_EQ(0, ns_sysctl_write(self->ns.b, tcp_off[i], "0"));
		}
	} else {
		ASSERT_EQ(0, ns_sysctl_write(self->ns.a, "net/ipv4/etcp_sack", "0"));
		ASSERT_EQ(0, ns_sysctl_write(self->ns.b, "net/ipv4/etcp_sack", "0"));
	}
	ret = etcp_forge_setup(&self->ns, PROTO, variant->family, PORT, &self->cap, &self->raw_a,
			       &self->raw_b, &self->lfd, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
}

FIXTURE_TEARDOWN(reset)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	etcp_netns_reap(&self->ns);
	close_fds(&self->afd, &self->cfd, &self->afd2, &self->cfd2, &self->lfd,
		  &self->raw_a, &self->raw_b, NULL);
	etcp_cap_stop(self->cap);
	self->cap = NULL;
	/* The namespaces take the nftables rules with them. */
	etcp_netns_teardown(&self->ns);
}

/* A client socket in a, SO_REUSEADDR, bound to port. */
static int client_socket_at(FIXTURE_DATA(reset) *self, int proto, unsigned short port)
{
	int fd = ns_socket(self->ns.a, self->var->family, SOCK_STREAM, proto);

	if (fd < 0)
		return -1;
	if (sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    bind_to(fd, self->var->addr_a, port)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int client_socket(FIXTURE_DATA(reset) *self, int proto)
{
	return client_socket_at(self, proto, CPORT);
}

/* A segment from sel->sport with exactly the flags sel->flags. */
static bool seg_is(const struct etcp_cap_seg *s, const void *arg)
{
	const struct etcp_cap_sel *sel = arg;

	return s->sport == sel->sport && s->flags == sel->flags;
}

/* A client in a connected from port, the server's child accepted. */
static void connect_pair_at(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			    int proto, unsigned short port, int *cfd, int *afd)
{
	struct etcp_cap_sel ack = { .flags = ETCP_TH_ACK, .sport = port };
	int ret;

	*cfd = client_socket_at(self, proto, port);
	ASSERT_LE(0, *cfd) TH_LOG("client socket: %s", strerror(errno));
	ret = connect_to(*cfd, self->var->addr_b, PORT);
	ASSERT_EQ(0, ret) TH_LOG("connect: %s: %s", strerror(-ret), EXCH);
	*afd = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, *afd) TH_LOG("accept: %s", strerror(errno));
	/* The handshake's ACK on the wire: the capture knows both ISNs. */
	ASSERT_LE(0, etcp_cap_wait_match(self->cap, 0, seg_is, &ack, WAIT_MS)) TH_LOG("%s", EXCH);
}

static void connect_pair(struct __test_metadata *_metadata,
			 FIXTURE_DATA(reset) *self, int proto)
{
	connect_pair_at(_metadata, self, proto, CPORT, &self->cfd, &self->afd);
}

/*
 * Forge, from the server's 4-tuple toward the client, an RST (flags) at
 * the client's RCV.NXT as the capture knows it, plus @off.  The index of
 * the forged segment in the capture is stored in *idx.
 */
static void rst_to_client_at(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			     unsigned short cport, uint8_t flags, int off, long *idx)
{
	struct etcp_cap_sel sel = { .mask = ETCP_TH_RST, .flags = ETCP_TH_RST, .sport = PORT };
	struct etcp_raw_seg seg = {
		.saddr = self->var->addr_b, .daddr = self->var->addr_a,
		.sport = PORT, .dport = cport, .flags = flags,
	};
	size_t n0;

	etcp_cap_poll(self->cap);
	n0 = self->cap->n;
	ASSERT_TRUE(flow_next(self->cap, PORT, cport, &seg.seq)) TH_LOG("%s", EXCH);
	seg.seq += off;
	ASSERT_EQ(0, etcp_raw_send(self->raw_b, &seg));
	sel.dport = cport;
	*idx = etcp_cap_wait_match(self->cap, n0, sel_to, &sel, WAIT_MS);
	ASSERT_LE(0, *idx) TH_LOG("the forged RST was not seen: %s", EXCH);
}

static void rst_to_client(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			  unsigned short cport, uint8_t flags, long *idx)
{
	rst_to_client_at(_metadata, self, cport, flags, 0, idx);
}

/* Nothing more leaves client port cport after segment idx. */
static void client_silent(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			  unsigned short cport, long idx, const char *what)
{
	struct etcp_cap_sel sel = { .mask = 0, .flags = 0, .sport = cport };

	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, idx + 1, flags_from, &sel))
		TH_LOG("%s: the client sent something after the RST: %s", what, EXCH);
}

static long stat_a(FIXTURE_DATA(reset) *self, const char *name)
{
	return stat_now(self->ns.a, name);
}

/* ------------------------------------------------------------ SYN_SENT */

static bool not_syn_from_client(const struct etcp_cap_seg *s, const void *arg)
{
	(void)arg;
	return s->sport == CPORT && s->flags != ETCP_TH_SYN;
}

/*
 * RFC 9293 3.10.7.3, SYN-SENT: "If the ACK bit is set: if SEG.ACK =< ISS
 * or SEG.ACK > SND.NXT ... (unless the RST bit is set, if so drop the
 * segment)"; an RST without ACK is dropped too; an RST with an acceptable
 * ACK: "connection reset", connect() fails ECONNREFUSED.  The server's
 * stack never answers: b drops every incoming segment.
 */
TEST_F(reset, syn_sent)
{
	static const struct { const char *what; uint8_t flags; int32_t ack_off; } bad[] = {
		{ "RST,ACK with ACK = ISS+2 (> SND.NXT)", ETCP_TH_RST | ETCP_TH_ACK, 2 },
		{ "RST,ACK with ACK = ISS", ETCP_TH_RST | ETCP_TH_ACK, 0 },
		{ "RST without ACK", ETCP_TH_RST, 1 },
	};
	struct etcp_cap_sel syn = { .mask = 0xff, .flags = ETCP_TH_SYN, .sport = CPORT };
	long in0 = 0, af0 = 0, isyn, i2;
	int64_t gap;
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_b, .daddr = variant->addr_a,
		.sport = PORT, .dport = CPORT, .seq = 12345,
	};
	uint32_t iss;
	size_t i, n0;
	int ret;

	ASSERT_EQ(0, ns_nft_drop(self->ns.b, PROTO, "input", ""));
	if (ETCP) {
		in0 = stat_a(self, "InRsts");
		af0 = stat_a(self, "AttemptFails");
	}
	self->cfd = client_socket(self, PROTO);
	ASSERT_LE(0, self->cfd);
	ASSERT_EQ(0, set_nonblock(self->cfd, true));
	ret = connect_to(self->cfd, variant->addr_b, PORT);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("connect: %s", strerror(-ret));
	isyn = etcp_cap_wait_match(self->cap, 0, flags_from, &syn, WAIT_MS);
	ASSERT_LE(0, isyn) TH_LOG("no SYN: %s", EXCH);
	iss = self->cap->seg[isyn].seq;

	/* Unacceptable ones: dropped, silently. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		n0 = self->cap->n;
		seg.flags = bad[i].flags;
		seg.ack = iss + bad[i].ack_off;
		ASSERT_EQ(0, etcp_raw_send(self->raw_b, &seg));
		pause_ms(50);
		EXPECT_EQ(ETCP_SYN_SENT, sock_state(self->cfd, PROTO))
			TH_LOG("%s: %s", bad[i].what, EXCH);
		EXPECT_EQ(0, so_error(self->cfd)) TH_LOG("%s", bad[i].what);
	}
	etcp_cap_poll(self->cap);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, isyn + 1, not_syn_from_client, NULL))
		TH_LOG("an ignored RST was answered: %s", EXCH);
	/*
	 * Still connecting: the same SYN comes again.  etcp after its 1 s
	 * timer; Linux TCP at once: an unacceptable RST,ACK in SYN-SENT,
	 * before any retransmission, rearms its timer to the minimum
	 * ("previous FIN/ACK or RST/ACK might be ignored").  A difference.
	 */
	i2 = etcp_cap_wait_match(self->cap, isyn + 1, flags_from, &syn, 1500);
	ASSERT_LE(0, i2) TH_LOG("no SYN retransmission: %s", EXCH);
	EXPECT_EQ(iss, self->cap->seg[i2].seq);
	gap = (self->cap->seg[i2].t - self->cap->seg[isyn].t) / 1000000;
	if (ETCP) {
		EXPECT_LE(950, gap) TH_LOG("SYN retransmitted after %lld ms", (long long)gap);
		EXPECT_GE(1500, gap) TH_LOG("SYN retransmitted after %lld ms", (long long)gap);
	} else {
		EXPECT_GE(300, gap) TH_LOG("SYN retransmitted after %lld ms", (long long)gap);
	}

	/* Acceptable: refused. */
	seg.flags = ETCP_TH_RST | ETCP_TH_ACK;
	seg.ack = iss + 1;
	n0 = self->cap->n;
	ASSERT_EQ(0, etcp_raw_send(self->raw_b, &seg));
	EXPECT_NE(0, poll_one(self->cfd, POLLOUT, WAIT_MS) & (POLLERR | POLLHUP));
	EXPECT_EQ(ECONNREFUSED, so_error(self->cfd)) TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_CLOSE, sock_state(self->cfd, PROTO));
	EXPECT_TRUE(row_closed(proc_row_state(self->ns.a, PROTO, CPORT, PORT)));
	client_silent(_metadata, self, CPORT, (long)n0, "refused");
	if (ETCP) {
		EXPECT_EQ(4, stat_a(self, "InRsts") - in0);
		EXPECT_EQ(1, stat_a(self, "AttemptFails") - af0);
	}
}

/* ------------------------------------------------------------ SYN_RECV */

/*
 * A request held in SYN_RECV in b: the client's final ACK is dropped
 * there.  The client's port is CPORT; the capture index of its SYN, or -1.
 */
static long request_held(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			 const FIXTURE_VARIANT(reset) *variant)
{
	struct etcp_cap_sel syn = { .mask = 0xff, .flags = ETCP_TH_SYN, .sport = CPORT };
	int ret;

	ret = ns_nft_drop(self->ns.b, PROTO, "input", "@th,104,8 == 0x10");
	if (ret)
		return ret;
	self->cfd = client_socket(self, PROTO);
	if (self->cfd < 0)
		return -1;
	ret = connect_to(self->cfd, variant->addr_b, PORT);
	EXPECT_EQ(0, ret) TH_LOG("connect: %s", strerror(-ret));
	EXPECT_EQ(0, wait_row_state(self->ns.b, PROTO, PORT, CPORT, ETCP_SYN_RECV, WAIT_MS))
		TH_LOG("no SYN_RECV row in b: %s", EXCH);
	return etcp_cap_wait_match(self->cap, 0, flags_from, &syn, WAIT_MS);
}

/* After the request went: nothing was accepted, and the listener works. */
static void listener_still_works(struct __test_metadata *_metadata,
				 FIXTURE_DATA(reset) *self,
				 const FIXTURE_VARIANT(reset) *variant)
{
	int fd;

	EXPECT_EQ(ETCP_LISTEN, sock_state(self->lfd, PROTO));
	fd = accept_wait(self->lfd, 300);
	EXPECT_EQ(-1, fd) TH_LOG("a child was accepted");
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	close(self->cfd);
	self->cfd = ns_socket(self->ns.a, variant->family, SOCK_STREAM, PROTO);
	ASSERT_EQ(0, connect_to(self->cfd, variant->addr_b, PORT));
	self->afd = accept_wait(self->lfd, WAIT_MS);
	EXPECT_LE(0, self->afd);
}

/* The first segment from b to the client recorded from @from on, or -1. */
static long answer_from_b(FIXTURE_DATA(reset) *self, size_t from, int ms)
{
	struct etcp_cap_sel from_b = { .mask = 0, .sport = PORT, .dport = CPORT };

	return etcp_cap_wait_match(self->cap, from, etcp_cap_sel_match, &from_b, ms);
}

/*
 * @seg, forged to a request held in SYN_RECV (request_held()) at its
 * RCV.NXT + @off and, if it carries ACK, with SEG.ACK = the request's
 * ISS + 1 + @ack_off, sent: the capture index from which on b's answer
 * would be, or < 0 when it could not be sent.
 */
static long request_forge(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			  const FIXTURE_VARIANT(reset) *variant,
			  struct etcp_raw_seg *seg, uint32_t off, uint32_t ack_off)
{
	struct etcp_cap_sel synack = { .mask = 0xff, .flags = ETCP_TH_SYN | ETCP_TH_ACK,
				       .sport = PORT };
	long isyn = request_held(_metadata, self, variant), isa;
	size_t n1;

	if (isyn < 0)
		return isyn;
	isa = etcp_cap_wait_match(self->cap, isyn, flags_from, &synack, WAIT_MS);
	if (isa < 0)
		return isa;
	seg->seq = self->cap->seg[isyn].seq + 1 + off;
	if (seg->flags & ETCP_TH_ACK)
		seg->ack = self->cap->seg[isa].seq + 1 + ack_off;
	etcp_cap_poll(self->cap);
	n1 = self->cap->n;
	return etcp_raw_send(self->raw_a, seg) ? -1 : (long)n1;
}

/* ...and b's first answer to it: its index, or < 0 for none. */
static long request_forged(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			   const FIXTURE_VARIANT(reset) *variant,
			   struct etcp_raw_seg *seg, uint32_t off, uint32_t ack_off)
{
	long n1 = request_forge(_metadata, self, variant, seg, off, ack_off);

	return n1 < 0 ? n1 : answer_from_b(self, n1, WAIT_MS);
}

/*
 * An RST (control bits @flags, SEG.ACK as request_forge() makes it from
 * @ack_off) at the request's RCV.NXT: RFC 9293 3.10.7.4, SYN-RECEIVED:
 * "If this connection was initiated with a passive OPEN, then return this
 * connection to the LISTEN state": the request (its st 03 row) goes,
 * unanswered; the listener stays and accepts nothing.
 */
static void rst_ends_request(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			     const FIXTURE_VARIANT(reset) *variant, uint8_t flags,
			     uint32_t ack_off)
{
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_a, .daddr = variant->addr_b,
		.sport = CPORT, .dport = PORT, .flags = flags,
	};
	long af0 = 0, in0 = 0, n1;

	if (ETCP) {
		in0 = stat_now(self->ns.b, "InRsts");
		af0 = stat_now(self->ns.b, "AttemptFails");
	}
	n1 = request_forge(_metadata, self, variant, &seg, 0, ack_off);
	ASSERT_LE(0, n1) TH_LOG("%s", EXCH);
	EXPECT_GT(0, answer_from_b(self, n1, 300)) TH_LOG("the RST was answered: %s", EXCH);
	EXPECT_EQ(0, wait_row_state(self->ns.b, PROTO, PORT, CPORT, ST_GONE, WAIT_MS))
		TH_LOG("the request is still there (st %d): %s",
		       proc_row_state(self->ns.b, PROTO, PORT, CPORT), EXCH);
	if (ETCP) {
		EXPECT_EQ(1, stat_now(self->ns.b, "InRsts") - in0);
		EXPECT_EQ(1, stat_now(self->ns.b, "AttemptFails") - af0);
	}
	listener_still_works(_metadata, self, variant);
}

TEST_F(reset, syn_recv)
{
	rst_ends_request(_metadata, self, variant, ETCP_TH_RST, 0);
}

/*
 * RFC 5961 3.2, as RFC 9293 3.10.7.4 and Linux apply it to a request: an
 * RST in the window but not at RCV.NXT draws a challenge ACK
 * <SEQ=ISS+1><ACK=RCV.NXT><CTL=ACK>, and the request stays.
 */
TEST_F(reset, syn_recv_in_window)
{
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_a, .daddr = variant->addr_b,
		.sport = CPORT, .dport = PORT, .flags = ETCP_TH_RST,
	};
	const struct etcp_cap_seg *ack;
	long ians;

	ians = request_forged(_metadata, self, variant, &seg, 100, 0);
	ASSERT_LE(0, ians) TH_LOG("no challenge ACK: %s", EXCH);
	ack = &self->cap->seg[ians];
	EXPECT_EQ(ETCP_TH_ACK, ack->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, ack->rseq);
	EXPECT_EQ(1, ack->rack);
	EXPECT_EQ(0, ack->len);
	EXPECT_EQ(ETCP_SYN_RECV, proc_row_state(self->ns.b, PROTO, PORT, CPORT))
		TH_LOG("the request went: %s", EXCH);
}

/*
 * A SYN in the request's window ends it, answered with
 * <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, as Linux's tcp_check_req() does
 * (RFC 5961 4.2 would challenge it).
 */
TEST_F(reset, syn_recv_syn)
{
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_a, .daddr = variant->addr_b,
		.sport = CPORT, .dport = PORT, .flags = ETCP_TH_SYN, .window = 65535,
	};
	const struct etcp_cap_seg *rst;
	long af0 = 0, ians;

	if (ETCP)
		af0 = stat_now(self->ns.b, "AttemptFails");
	ians = request_forged(_metadata, self, variant, &seg, 100, 0);
	ASSERT_LE(0, ians) TH_LOG("the SYN was not answered: %s", EXCH);
	rst = &self->cap->seg[ians];
	EXPECT_EQ(ETCP_TH_RST | ETCP_TH_ACK, rst->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0U, rst->seq);
	EXPECT_EQ(seg.seq + 1, rst->ack) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, wait_row_state(self->ns.b, PROTO, PORT, CPORT, ST_GONE, WAIT_MS))
		TH_LOG("the request is still there (st %d): %s",
		       proc_row_state(self->ns.b, PROTO, PORT, CPORT), EXCH);
	if (ETCP)
		EXPECT_EQ(1, stat_now(self->ns.b, "AttemptFails") - af0);
	listener_still_works(_metadata, self, variant);
}

/*
 * After a segment the request ignored (its answer aside): the request is
 * as it was, still SYN_RECV with no child to accept; once the client's
 * ACKs get through (the nft rule gone), its answer to the next SYN-ACK
 * retransmission (1 s after the first) completes it and a child is
 * accepted.
 */
static void request_intact(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			   const FIXTURE_VARIANT(reset) *variant)
{
	EXPECT_EQ(ETCP_SYN_RECV, proc_row_state(self->ns.b, PROTO, PORT, CPORT))
		TH_LOG("the request went: %s", EXCH);
	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	self->afd = accept_wait(self->lfd, 2 * WAIT_MS);
	EXPECT_LE(0, self->afd) TH_LOG("the request did not complete: %s", EXCH);
}

/*
 * A segment of 10 bytes with PSH (request_held() drops bare ACKs) far
 * beyond the request's window, with SEG.ACK = ISS + 1 + @ack_off: b
 * answers exactly @flags at relative @rseq and @rack (-1: no ACK), etcp
 * counts it in @counter, and the request stays (request_intact()).
 */
static void request_out_of_window(struct __test_metadata *_metadata,
				  FIXTURE_DATA(reset) *self,
				  const FIXTURE_VARIANT(reset) *variant, uint32_t ack_off,
				  uint8_t flags, int64_t rseq, int64_t rack,
				  const char *counter)
{
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_a, .daddr = variant->addr_b,
		.sport = CPORT, .dport = PORT, .flags = ETCP_TH_ACK | ETCP_TH_PSH,
		.window = 65535, .data = "0123456789", .datalen = 10,
	};
	const struct etcp_cap_seg *ans;
	long c0 = 0, ians;

	if (ETCP)
		c0 = stat_now(self->ns.b, counter);
	ians = request_forged(_metadata, self, variant, &seg, OUT_OF_WINDOW, ack_off);
	ASSERT_LE(0, ians) TH_LOG("the segment was not answered: %s", EXCH);
	ans = &self->cap->seg[ians];
	EXPECT_EQ(flags, ans->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(rseq, ans->rseq) TH_LOG("%s", EXCH);
	EXPECT_EQ(rack, ans->rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, ans->len);
	if (ETCP)
		EXPECT_EQ(1, stat_now(self->ns.b, counter) - c0) TH_LOG("%s", counter);
	request_intact(_metadata, self, variant);
}

/*
 * Linux's tcp_check_req() checks the ACK before the sequence number: a
 * wrong one, here ISS, is answered <SEQ=SEG.ACK><CTL=RST> by the
 * listener wherever the sequence number lies.  The RST is old to the
 * client, which drops it unanswered.
 */
TEST_F(reset, syn_recv_bad_ack_out_of_window)
{
	request_out_of_window(_metadata, self, variant, -1, ETCP_TH_RST, 0, -1, "OutRsts");
}

/*
 * With the right ACK the sequence number decides: the segment is answered
 * <SEQ=ISS+1><ACK=RCV.NXT><CTL=ACK> and dropped.
 */
TEST_F(reset, syn_recv_out_of_window)
{
	request_out_of_window(_metadata, self, variant, 0, ETCP_TH_ACK, 1, 1, "OutOfWindow");
}

/*
 * Linux's ACK check passes over an RST ("ACK and not RST"): an RST,ACK at
 * RCV.NXT with a wrong ACK (ISS) ends the request as the plain RST does.
 */
TEST_F(reset, syn_recv_rst_bad_ack)
{
	rst_ends_request(_metadata, self, variant, ETCP_TH_RST | ETCP_TH_ACK, -1);
}

/* ------------------------------------------------------------ ESTABLISHED */

static bool data_from(const struct etcp_cap_seg *s, const void *sport)
{
	return s->sport == *(const unsigned short *)sport && s->len > 0;
}

/*
 * RFC 9293 3.10.7.4, ESTABLISHED: "any outstanding RECEIVEs and SEND
 * should receive 'reset' responses.  All segment queues should be
 * flushed."  The client holds 1000 unread bytes from the server and 500
 * of its own that the server never acknowledges (b drops them).
 *
 * Linux TCP does not flush what the application has not read, and
 * applications rely on that; neither does etcp: SIOCINQ still says 1000,
 * recv() returns the 1000 bytes first, then fails ECONNRESET, then gives
 * 0 (end of file).  send() fails EPIPE, with SIGPIPE unless MSG_NOSIGNAL; poll()
 * shows POLLERR and POLLHUP; nothing leaves the client, not even the
 * retransmission of its 500 bytes.
 */
TEST_F(reset, established)
{
	static char big[1000], buf[4096];
	unsigned short cport = CPORT;
	long in0 = 0, er0 = 0, idx, id;
	sigset_t pipe_set, pending;
	struct timespec zero = {};
	int64_t deadline;
	int err, rev;
	ssize_t n;

	memset(big, 'x', sizeof(big));
	connect_pair(_metadata, self, PROTO);
	ASSERT_EQ(0, send_all(self->afd, big, sizeof(big)));
	deadline = now_ms() + WAIT_MS;
	while (ioctl_int(self->cfd, SIOCINQ) != (int)sizeof(big)) {
		ASSERT_GT(deadline, now_ms()) TH_LOG("the 1000 bytes did not arrive: %s", EXCH);
		pause_step();
	}
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, PROTO, "input", NFT_DATA(variant->family)));
	ASSERT_EQ(0, send_all(self->cfd, big, 500));
	id = etcp_cap_wait_match(self->cap, 0, data_from, &cport, WAIT_MS);
	ASSERT_LE(0, id) TH_LOG("the client's data did not leave: %s", EXCH);
	EXPECT_EQ(500, ioctl_int(self->cfd, SIOCOUTQ));
	if (ETCP) {
		in0 = stat_a(self, "InRsts");
		er0 = stat_a(self, "EstabResets");
	}

	rst_to_client(_metadata, self, CPORT, ETCP_TH_RST, &idx);
	ASSERT_EQ(ETCP_CLOSE, wait_sock_state(self->cfd, PROTO, ETCP_CLOSE, WAIT_MS))
		TH_LOG("state %d after the RST: %s", sock_state(self->cfd, PROTO), EXCH);
	rev = poll_one(self->cfd, POLLIN | POLLOUT, 0);
	EXPECT_EQ(POLLERR | POLLHUP, rev & (POLLERR | POLLHUP)) TH_LOG("revents 0x%x", rev);

	EXPECT_EQ((int)sizeof(big), ioctl_int(self->cfd, SIOCINQ)) TH_LOG("unread data lost");
	n = recv_now(self->cfd, &err);
	EXPECT_EQ((ssize_t)sizeof(big), n) TH_LOG("first recv: %s", strerror(err));
	n = recv_now(self->cfd, &err);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, err) TH_LOG("second recv: %zd, %s", n, strerror(err));
	n = recv_now(self->cfd, &err);
	EXPECT_EQ(0, n) TH_LOG("recv after the error: %zd, %s", n, strerror(err));
	EXPECT_EQ(0, ioctl_int(self->cfd, SIOCINQ));

	EXPECT_EQ(EPIPE, send_err(self->cfd));
	/* Without MSG_NOSIGNAL: EPIPE and a SIGPIPE (blocked here, then taken). */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &pipe_set, NULL));
	EXPECT_EQ(-1, send(self->cfd, buf, 1, MSG_DONTWAIT));
	EXPECT_EQ(EPIPE, errno);
	sigpending(&pending);
	EXPECT_TRUE(sigismember(&pending, SIGPIPE)) TH_LOG("no SIGPIPE");
	sigtimedwait(&pipe_set, NULL, &zero);
	ASSERT_EQ(0, sigprocmask(SIG_UNBLOCK, &pipe_set, NULL));

	client_silent(_metadata, self, CPORT, idx, "ESTABLISHED");
	EXPECT_EQ(0, wait_gone_no_tw(self->ns.a, PROTO, CPORT, PORT, WAIT_MS));
	if (ETCP) {
		EXPECT_EQ(1, stat_a(self, "InRsts") - in0);
		EXPECT_EQ(1, stat_a(self, "EstabResets") - er0);
	}
}

/* ------------------------------------------------------------ closing states */

/* One client of a closing-state test: held (shutdown) or orphaned (close). */
struct end {
	unsigned short port;
	int *cfd, *afd;
	bool orphan;
};

static bool fin_from(const struct etcp_cap_seg *s, const void *sport)
{
	return s->sport == *(const unsigned short *)sport && (s->flags & ETCP_TH_FIN);
}

struct ack_sel {
	unsigned short sport;
	uint32_t ack;
};

static bool acks(const struct etcp_cap_seg *s, const void *arg)
{
	const struct ack_sel *a = arg;

	return s->sport == a->sport && (s->flags & ETCP_TH_ACK) && s->ack == a->ack;
}

/* The client's end of the connection done: shutdown(SHUT_WR) or close(). */
static void end_close(struct end *e)
{
	if (e->orphan) {
		close(*e->cfd);
		*e->cfd = -1;
	} else {
		shutdown(*e->cfd, SHUT_WR);
	}
}

/* Bring every client into state, or fail the test. */
static void reach_state(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			const FIXTURE_VARIANT(reset) *variant, int state,
			struct end *ends, int nends)
{
	struct etcp_raw_seg seg = {
		.saddr = variant->addr_b, .daddr = variant->addr_a,
		.sport = PORT, .window = 65535, .flags = ETCP_TH_FIN | ETCP_TH_ACK,
	};
	struct etcp_cap_sel peer_fin = { .mask = ETCP_TH_FIN, .flags = ETCP_TH_FIN, .sport = PORT };
	struct ack_sel fin_acked;
	long ifin;
	int i;

	switch (state) {
	case ETCP_FIN_WAIT1:
		/* The server's ACK of our FIN never arrives. */
		ASSERT_EQ(0, ns_nft_drop(self->ns.a, PROTO, "input", NFT_NOT_RST));
		for (i = 0; i < nends; i++)
			end_close(&ends[i]);
		break;
	case ETCP_FIN_WAIT2:
		for (i = 0; i < nends; i++)
			end_close(&ends[i]);
		break;
	case ETCP_CLOSING:
		/* Our FIN never arrives; the server's FIN is forged. */
		ASSERT_EQ(0, ns_nft_drop(self->ns.b, PROTO, "input", ""));
		for (i = 0; i < nends; i++) {
			end_close(&ends[i]);
			ifin = etcp_cap_wait_match(self->cap, 0, fin_from, &ends[i].port, WAIT_MS);
			ASSERT_LE(0, ifin) TH_LOG("no FIN: %s", EXCH);
			seg.dport = ends[i].port;
			seg.ack = self->cap->seg[ifin].seq;	/* not acknowledging our FIN */
			ASSERT_TRUE(flow_next(self->cap, PORT, ends[i].port, &seg.seq));
			ASSERT_EQ(0, etcp_raw_send(self->raw_b, &seg));
		}
		break;
	case ETCP_LAST_ACK:
	case ETCP_CLOSE_WAIT:
		for (i = 0; i < nends; i++) {
			ASSERT_EQ(0, shutdown(*ends[i].afd, SHUT_WR));
			ASSERT_EQ(0, wait_row_state(self->ns.a, PROTO, ends[i].port, PORT,
					      ETCP_CLOSE_WAIT, WAIT_MS))
				TH_LOG("no CLOSE_WAIT: %s", EXCH);
			/*
			 * The server's FIN acknowledged first (delayed or
			 * not): else it comes again after the RST and the
			 * client's stack, with no connection left, rightly
			 * answers it with an RST.
			 */
			peer_fin.dport = ends[i].port;
			ifin = etcp_cap_wait_match(self->cap, 0, sel_to, &peer_fin, WAIT_MS);
			ASSERT_LE(0, ifin) TH_LOG("%s", EXCH);
			fin_acked.sport = ends[i].port;
			fin_acked.ack = self->cap->seg[ifin].seq + 1;
			ifin = etcp_cap_wait_match(self->cap, ifin, acks, &fin_acked, WAIT_MS);
			ASSERT_LE(0, ifin) TH_LOG("the server's FIN was not acknowledged: %s", EXCH);
		}
		if (state == ETCP_CLOSE_WAIT)
			break;
		/* Our FIN never arrives. */
		ASSERT_EQ(0, ns_nft_drop(self->ns.b, PROTO, "input", ""));
		for (i = 0; i < nends; i++)
			end_close(&ends[i]);
		break;
	}
	for (i = 0; i < nends; i++)
		ASSERT_EQ(0, wait_row_state(self->ns.a, PROTO, ends[i].port, PORT, state, WAIT_MS))
			TH_LOG("port %u is in state %d, not %d: %s", ends[i].port,
			       proc_row_state(self->ns.a, PROTO, ends[i].port, PORT), state, EXCH);
}

/*
 * RFC 9293 3.10.7.4: an RST at RCV.NXT in FIN-WAIT-1, FIN-WAIT-2,
 * CLOSE-WAIT: "connection reset"; in CLOSING, LAST-ACK: "enter the CLOSED
 * state, delete the TCB".  No TIME_WAIT; nothing sent afterwards, neither
 * a FIN retransmission nor an ACK.  Two clients go into the state side by
 * side: one held by the application after shutdown(SHUT_WR), whose next
 * recv() and send() report recv_ret/recv_err and send_err, and (but in
 * CLOSE_WAIT, where close() would leave it) one orphaned by close(), freed
 * at once: its row goes, the Orphans gauge comes back to 0 (etcp).
 *
 * Where the peer's FIN already came (CLOSING, LAST_ACK, CLOSE_WAIT), recv()
 * reports the end of file first and the error stays for send() (TCP too).
 * In CLOSE_WAIT the RST's error is EPIPE (Linux: the peer had finished
 * sending).
 */
static void close_case_run(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self,
			   const FIXTURE_VARIANT(reset) *variant, int state, int off,
			   ssize_t recv_ret, int recv_err, int send_err_want)
{
	struct end ends[2] = {
		{ CPORT, &self->cfd, &self->afd, false },
		{ CPORT2, &self->cfd2, &self->afd2, true },
	};
	int i, nends = state == ETCP_CLOSE_WAIT ? 1 : 2;
	long in0 = 0, er0 = 0, idx[2];
	ssize_t n;
	int err;

	for (i = 0; i < nends; i++)
		connect_pair_at(_metadata, self, PROTO, ends[i].port, ends[i].cfd, ends[i].afd);
	reach_state(_metadata, self, variant, state, ends, nends);
	if (ETCP) {
		in0 = stat_a(self, "InRsts");
		er0 = stat_a(self, "EstabResets");
		EXPECT_EQ(nends - 1, stat_a(self, "Orphans"));
	}
	for (i = 0; i < nends; i++)
		rst_to_client_at(_metadata, self, ends[i].port, ETCP_TH_RST, off, &idx[i]);

	/* The held one. */
	EXPECT_EQ(ETCP_CLOSE, wait_sock_state(self->cfd, PROTO, ETCP_CLOSE, WAIT_MS))
		TH_LOG("state %d after the RST: %s", sock_state(self->cfd, PROTO), EXCH);
	EXPECT_EQ(0, wait_gone_no_tw(self->ns.a, PROTO, CPORT, PORT, WAIT_MS));
	n = recv_now(self->cfd, &err);
	EXPECT_EQ(recv_ret, n) TH_LOG("recv %zd, %s", n, strerror(err));
	EXPECT_EQ(recv_err, err) TH_LOG("recv %s", strerror(err));
	err = send_err(self->cfd);
	EXPECT_EQ(send_err_want, err) TH_LOG("send %s", strerror(err));
	/* The orphan. */
	if (nends > 1) {
		EXPECT_EQ(0, wait_gone_no_tw(self->ns.a, PROTO, CPORT2, PORT, WAIT_MS));
		EXPECT_EQ(ST_GONE, proc_row_state(self->ns.a, PROTO, CPORT2, PORT))
			TH_LOG("the orphan's row stays: %s", EXCH);
	}
	/* Nothing from either afterwards. */
	quiet(self->cap, QUIET_MS);
	for (i = 0; i < nends; i++) {
		struct etcp_cap_sel any = { .mask = 0, .flags = 0, .sport = ends[i].port };

		EXPECT_EQ(0U, etcp_cap_count(self->cap, idx[i] + 1, flags_from, &any))
			TH_LOG("%s: the client sent something after the RST: %s",
			       ends[i].orphan ? "orphan" : "held", EXCH);
	}
	if (ETCP) {
		EXPECT_EQ(nends, stat_a(self, "InRsts") - in0);
		EXPECT_EQ(state == ETCP_CLOSE_WAIT, stat_a(self, "EstabResets") - er0);
		EXPECT_EQ(0, stat_a(self, "Orphans"));
	}
}

TEST_F(reset, fin_wait1)
{
	close_case_run(_metadata, self, variant, ETCP_FIN_WAIT1, 0, -1, ECONNRESET, EPIPE);
}

TEST_F(reset, fin_wait2)
{
	close_case_run(_metadata, self, variant, ETCP_FIN_WAIT2, 0, -1, ECONNRESET, EPIPE);
}

TEST_F(reset, closing)
{
	close_case_run(_metadata, self, variant, ETCP_CLOSING, 0, 0, 0, ECONNRESET);
}

TEST_F(reset, last_ack)
{
	close_case_run(_metadata, self, variant, ETCP_LAST_ACK, 0, 0, 0, ECONNRESET);
}

TEST_F(reset, close_wait)
{
	close_case_run(_metadata, self, variant, ETCP_CLOSE_WAIT, 0, 0, 0, EPIPE);
}

/*
 * Linux's one exception to "exactly RCV.NXT" (tcp_reset_check()): once
 * the peer's FIN is in, the FIN's own number, RCV.NXT - 1, resets too,
 * with everything the exact RST does.
 */
TEST_F(reset, closing_at_fin)
{
	close_case_run(_metadata, self, variant, ETCP_CLOSING, -1, 0, 0, ECONNRESET);
}

TEST_F(reset, last_ack_at_fin)
{
	close_case_run(_metadata, self, variant, ETCP_LAST_ACK, -1, 0, 0, ECONNRESET);
}

TEST_F(reset, close_wait_at_fin)
{
	close_case_run(_metadata, self, variant, ETCP_CLOSE_WAIT, -1, 0, 0, EPIPE);
}

/*
 * ...and only then: in FIN_WAIT2 the peer's FIN has not come, RCV.NXT - 1
 * numbers old data, and an RST there is outside the window: dropped,
 * unanswered, the connection as it was.
 */
TEST_F(reset, fin_wait2_before_rcv_nxt)
{
	struct etcp_cap_sel any = { .mask = 0, .flags = 0, .sport = CPORT };
	struct end e = { CPORT, &self->cfd, &self->afd, false };
	long idx;

	connect_pair_at(_metadata, self, PROTO, CPORT, &self->cfd, &self->afd);
	reach_state(_metadata, self, variant, ETCP_FIN_WAIT2, &e, 1);
	rst_to_client_at(_metadata, self, CPORT, ETCP_TH_RST, -1, &idx);
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, idx + 1, flags_from, &any))
		TH_LOG("the client answered an RST outside the window: %s", EXCH);
	EXPECT_EQ(ETCP_FIN_WAIT2, sock_state(self->cfd, PROTO));
}

/* ------------------------------------------------------------ half-open */

/*
 * The pair made half-open: the server (@server) or the client aborts
 * with its RST dropped, and is gone from its namespace's table.
 */
static void half_open(struct __test_metadata *_metadata, FIXTURE_DATA(reset) *self, int proto,
		      bool server)
{
	int nsfd = server ? self->ns.b : self->ns.a;
	int *fd = server ? &self->afd : &self->cfd;

	ASSERT_EQ(0, ns_nft_drop(nsfd, proto, "output", ""));
	close_abort(*fd);
	*fd = -1;
	ASSERT_EQ(0, wait_row_state(nsfd, proto, server ? PORT : CPORT, server ? CPORT : PORT,
				    ST_GONE, WAIT_MS));
	ASSERT_EQ(0, ns_nft_flush(nsfd));
}

/*
 * RFC 9293 3.5.2 case (a), figure 11: the server lost the connection
 * (its abort's RST was dropped).  The client's data reaches a stack with
 * no connection: it answers <SEQ=SEG.ACK><CTL=RST>, no ACK bit; the
 * client's next call fails ECONNRESET and it is CLOSED.
 */
TEST_F(reset, half_open_server)
{
	struct etcp_cap_sel rst = { .mask = ETCP_TH_RST, .flags = ETCP_TH_RST, .sport = PORT };
	unsigned short cport = CPORT;
	const struct etcp_cap_seg *d, *r;
	long in0 = 0, er0 = 0, or0 = 0, id, ir;
	ssize_t n;
	size_t n0;
	int err;

	connect_pair(_metadata, self, PROTO);
	half_open(_metadata, self, PROTO, true);
	if (ETCP) {
		in0 = stat_a(self, "InRsts");
		er0 = stat_a(self, "EstabResets");
		or0 = stat_now(self->ns.b, "OutRsts");
	}
	etcp_cap_poll(self->cap);
	n0 = self->cap->n;
	ASSERT_EQ(0, send_all(self->cfd, "hello", 5));
	ir = etcp_cap_wait_match(self->cap, n0, flags_from, &rst, WAIT_MS);
	ASSERT_LE(0, ir) TH_LOG("no RST from the server: %s", EXCH);
	id = etcp_cap_find(self->cap, n0, data_from, &cport);
	ASSERT_LE(0, id);
	EXPECT_EQ(n0, (size_t)id) TH_LOG("%s", EXCH);
	EXPECT_EQ(n0 + 1, (size_t)ir) TH_LOG("%s", EXCH);
	d = &self->cap->seg[id];
	r = &self->cap->seg[ir];
	EXPECT_EQ(ETCP_TH_ACK, d->flags & (ETCP_TH_ACK | ETCP_TH_SYN | ETCP_TH_FIN | ETCP_TH_RST));
	EXPECT_EQ(1, d->rseq);
	EXPECT_EQ(1, d->rack);
	EXPECT_EQ(5, d->len);
	EXPECT_EQ(ETCP_TH_RST, r->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(d->ack, r->seq) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, r->rseq);
	EXPECT_EQ(0, r->len);

	ASSERT_EQ(ETCP_CLOSE, wait_sock_state(self->cfd, PROTO, ETCP_CLOSE, WAIT_MS)) TH_LOG("%s", EXCH);
	n = recv_now(self->cfd, &err);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, err) TH_LOG("recv %zd, %s", n, strerror(err));
	EXPECT_EQ(EPIPE, send_err(self->cfd));
	client_silent(_metadata, self, CPORT, ir, "half-open (a)");
	EXPECT_EQ(0, wait_gone_no_tw(self->ns.a, PROTO, CPORT, PORT, WAIT_MS));
	if (ETCP) {
		EXPECT_EQ(1, stat_a(self, "InRsts") - in0);
		EXPECT_EQ(1, stat_a(self, "EstabResets") - er0);
		EXPECT_EQ(1, stat_now(self->ns.b, "OutRsts") - or0);
	}
}

/*
 * RFC 9293 3.5.2 case (b), figure 10: the client lost the connection
 * and opens a new one from the same port.  Its SYN hits the server's
 * ESTABLISHED connection: a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>
 * (RFC 5961 4.2); the client in SYN-SENT answers the unacceptable ACK
 * with <SEQ=SEG.ACK><CTL=RST>, exactly the server's RCV.NXT: the server
 * aborts; the retransmitted SYN finds the listener and the new connection
 * is made.
 */
TEST_F(reset, half_open_client)
{
	struct etcp_cap_sel syn = { .flags = ETCP_TH_SYN, .sport = CPORT };
	struct etcp_cap_sel ack = { .flags = ETCP_TH_ACK, .sport = PORT };
	struct etcp_cap_sel rst = { .flags = ETCP_TH_RST, .sport = CPORT };
	struct etcp_cap_sel synack = { .flags = ETCP_TH_SYN | ETCP_TH_ACK, .sport = PORT };
	const struct etcp_cap_seg *s1, *s2, *ca, *r, *sa;
	long i1, i2, ica, ir, isa, ch0 = 0;
	uint32_t b_snd_nxt, b_rcv_nxt;
	char buf[8];
	int64_t gap;
	ssize_t n;
	size_t n0;
	int err, ret;

	connect_pair(_metadata, self, PROTO);
	half_open(_metadata, self, PROTO, false);
	etcp_cap_poll(self->cap);
	ASSERT_TRUE(flow_next(self->cap, PORT, CPORT, &b_snd_nxt));
	ASSERT_TRUE(flow_next(self->cap, CPORT, PORT, &b_rcv_nxt));
	if (ETCP)
		ch0 = stat_now(self->ns.b, "ChallengeAcks");
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(self->afd, PROTO));

	n0 = self->cap->n;
	self->cfd = client_socket(self, PROTO);
	ASSERT_LE(0, self->cfd) TH_LOG("the port is not free again: %s", strerror(errno));
	ASSERT_EQ(0, set_nonblock(self->cfd, true));
	ret = connect_to(self->cfd, variant->addr_b, PORT);
	ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("connect: %s", strerror(-ret));

	i1 = etcp_cap_wait_match(self->cap, n0, seg_is, &syn, WAIT_MS);
	ASSERT_LE(0, i1) TH_LOG("no SYN: %s", EXCH);
	ica = etcp_cap_wait_match(self->cap, i1, seg_is, &ack, WAIT_MS);
	ASSERT_LE(0, ica) TH_LOG("no challenge ACK: %s", EXCH);
	ir = etcp_cap_wait_match(self->cap, ica, seg_is, &rst, WAIT_MS);
	ASSERT_LE(0, ir) TH_LOG("the client sent no RST: %s", EXCH);
	i2 = etcp_cap_wait_match(self->cap, ir, seg_is, &syn, 2 * WAIT_MS);
	ASSERT_LE(0, i2) TH_LOG("no second SYN: %s", EXCH);
	isa = etcp_cap_wait_match(self->cap, i2, seg_is, &synack, WAIT_MS);
	ASSERT_LE(0, isa) TH_LOG("no SYN-ACK: %s", EXCH);
	s1 = &self->cap->seg[i1];
	ca = &self->cap->seg[ica];
	r = &self->cap->seg[ir];
	s2 = &self->cap->seg[i2];
	sa = &self->cap->seg[isa];

	/* Only these between the first SYN and the SYN-ACK. */
	EXPECT_EQ(i1 + 1, ica) TH_LOG("%s", EXCH);
	EXPECT_EQ(ica + 1, ir) TH_LOG("%s", EXCH);
	EXPECT_EQ(ir + 1, i2) TH_LOG("%s", EXCH);
	EXPECT_EQ(i2 + 1, isa) TH_LOG("%s", EXCH);
	EXPECT_EQ(b_snd_nxt, ca->seq) TH_LOG("challenge ACK: %s", EXCH);
	EXPECT_EQ(b_rcv_nxt, ca->ack) TH_LOG("challenge ACK: %s", EXCH);
	EXPECT_EQ(0, ca->len);
	EXPECT_EQ(ca->ack, r->seq) TH_LOG("the client's RST: %s", EXCH);
	EXPECT_EQ(0, r->len);
	EXPECT_EQ(s1->seq, s2->seq) TH_LOG("a new ISN for the retransmitted SYN: %s", EXCH);
	EXPECT_EQ(s1->seq + 1, sa->ack) TH_LOG("%s", EXCH);
	gap = (s2->t - s1->t) / 1000000;
	/*
	 * A SYN-SENT socket that has not retransmitted yet and gets an
	 * unacceptable ACK sends its SYN again at once, as Linux does
	 * ("previous FIN/ACK or RST/ACK might be ignored"), not after the
	 * SYN's 1 s timer.
	 */
	EXPECT_GE(300, gap) TH_LOG("SYN retransmitted after %lld ms", (long long)gap);

	/* The old server socket was reset. */
	EXPECT_EQ(ETCP_CLOSE, sock_state(self->afd, PROTO));
	n = recv_now(self->afd, &err);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, err) TH_LOG("old server socket: recv %zd, %s", n, strerror(err));
	close(self->afd);
	self->afd = -1;
	if (ETCP)
		EXPECT_EQ(1, stat_now(self->ns.b, "ChallengeAcks") - ch0);

	/* The new connection. */
	EXPECT_NE(0, poll_one(self->cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(self->cfd));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(self->cfd, PROTO));
	self->afd = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, self->afd) TH_LOG("no new child: %s", EXCH);
	ASSERT_EQ(0, send_all(self->cfd, "ping", 4));
	ASSERT_NE(0, poll_one(self->afd, POLLIN, WAIT_MS));
	EXPECT_EQ(4, recv(self->afd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "ping", 4));
	ASSERT_EQ(0, send_all(self->afd, "pong", 4));
	ASSERT_NE(0, poll_one(self->cfd, POLLIN, WAIT_MS));
	EXPECT_EQ(4, recv(self->cfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
}

TEST_HARNESS_MAIN
