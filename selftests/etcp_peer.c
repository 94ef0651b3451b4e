// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: what a peer sends decides what we do, within limits.
 *
 *   netns a (the socket under test)            netns b (the peer)
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *   fd00:1::1                                         fd00:1::2
 *        ^ capture (AF_PACKET, both directions)    raw socket :41000
 *   listener :5000 (INADDR_ANY, in6addr_any)       or a real client
 *
 * The peer is a raw socket in netns b (etcp_raw.h) that completes the
 * handshake itself, with the MSS option and window it is told to, and
 * then ACKs what it receives, which it reads from the capture on ea (what
 * netns a sent; an IPv6 raw socket would not give the IP header).  Netns
 * b's own stack has no socket for it and would reset the SYN, SYN-ACK or
 * data it sees: its RSTs are dropped on output (nftables).  Every test
 * runs over TCP as well as etcp, over IPv4 and over IPv6
 * (ETCP_FAMILY_VARIANTS: tcp, etcp, tcp6, etcp6), TCP with timestamps off
 * (two_ns_setup()), autocorking off, and TSO off on the veth so that the
 * capture sees TCP's segments.  The family gives the addresses, the MSS
 * (ETCP_NS_MSS(): 1460, 1440 over IPv6), the xfrm selectors and the
 * broadcast_syn's address (see there).
 *
 *   mss_floor_*          a peer's MSS option of 1 or 20, in a SYN to a
 *                        listener or in a SYN-ACK to a connecting socket:
 *                        the segments are 48 bytes (tcp_min_snd_mss)
 *   half_window*         a window smaller than the MSS: segments of half
 *                        the largest window the peer offered (or the whole
 *                        window when it is at most 536), sent at once,
 *                        not after the persist timer; back to the MSS when
 *                        the window grows (tcp_bound_to_half_wnd)
 *   xfrm_policy_*        IPsec inbound policy: a global one, and a
 *                        socket's own (IP_XFRM_POLICY, IPV6_XFRM_POLICY)
 *                        on a listener, block SYNs without an answer
 *   broadcast_syn        a SYN to the subnet's broadcast address (over
 *                        IPv6 the all-nodes group ff02::1), in a
 *                        broadcast (multicast) frame or in a frame to our
 *                        own MAC, to a listener or a closed port: no
 *                        answer, counted
 *
 * Timing: "at once" is within AT_ONCE_MS (100 ms) of the write, on the
 * capture's kernel timestamps; the persist timer etcp would otherwise
 * wait for is at least the 200 ms RTO floor.
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>
#include <linux/xfrm.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_pkt.h"
#include "etcp_util.h"
#include "etcp_raw.h"
#include "kselftest_harness.h"

#define PORT		5000	/* listener in netns a, INADDR_ANY */
#define PORT2		5001	/* a second listener, without a policy */
#define CLOSED_PORT	5999	/* nothing listens there */
#define RAW_PORT	41000	/* the raw peer in netns b */
#define RAW_ISN		0x20000000U
#define BCAST_ADDR	"10.0.1.255"	/* the broadcast address of 10.0.1.0/24 */
#define MCAST_ADDR6	"ff02::1"	/* all nodes on the link: ea is one */

/* The veth's MTU 1500 less the headers: 1460, 1440 over IPv6. */
#define MSS		ETCP_NS_MSS(self->family)
#define MIN_SND_MSS	48	/* Linux's tcp_min_snd_mss */
#define DEFAULT_MSS	536	/* RFC 9293 3.7.1, TCP_MSS_DEFAULT */
#define FLOOR_LEN	10000	/* the write of the MSS floor tests */

#define MS		1000000LL	/* ns */
#define WAIT_MS		3000	/* for what should happen at once */
#define AT_ONCE_MS	100	/* data after a write, under TCG */
#define QUIET_MS	150	/* longer than AT_ONCE_MS, below the RTO floor */
#define XFER_MS		20000	/* a whole transfer to the raw peer */

#define EXCH		etcp_cap_str(self->cap)
#define PROTO		(self->proto)

ETCP_ENV_CHECK()

FIXTURE(peer) {
	struct etcp_netns ns;
	struct etcp_cap *cap;
	int proto;
	int family;		/* the variant's, and its addresses: */
	const char *addr_a, *addr_b, *any;
	int raw;		/* the raw peer, in netns b */
	size_t next;		/* the capture index the raw peer reads from */
	struct etcp_pkt pk;	/* broadcast_syn's frames, from eb */
	int lfd, lfd2;		/* listeners in netns a */
	int fd;			/* the connection's end in netns a */
	int cfd;		/* a client in netns b */
	/* The raw peer's connection, as it sees it. */
	uint16_t aport;		/* the port of fd */
	uint32_t isn;		/* the raw peer's ISN */
	uint32_t irs;		/* fd's ISN */
	uint32_t rcv_nxt;	/* the next byte expected from fd */
	uint16_t win;		/* the window the raw peer announces */
	size_t n0;		/* segments recorded after the handshake */
};

ETCP_FAMILY_VARIANTS(peer);

FIXTURE_SETUP(peer)
{
	const char *why = env_unsupported;
	int ret;

	self->raw = self->lfd = self->lfd2 = self->fd = self->cfd = -1;
	memset(&self->pk, 0, sizeof(self->pk));
	self->pk.fd = -1;
	self->proto = variant->proto;
	self->family = variant->family;
	self->addr_a = variant->addr_a;
	self->addr_b = variant->addr_b;
	self->any = variant->family == AF_INET6 ? "::" : "0.0.0.0";
	self->next = 0;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	pin_cpu();
	ASSERT_EQ(0, two_ns_setup(&self->ns)) TH_LOG("cannot set up the namespaces");
	ret = ns_tso_off(self->ns.a, ETCP_NS_IF_A);
	if (!ret)
		ret = ns_tso_off(self->ns.b, ETCP_NS_IF_B);
	ASSERT_EQ(0, ret) TH_LOG("TSO off on the veth: %s", strerror(-ret));
	if (PROTO == IPPROTO_TCP) {
		ASSERT_EQ(0, ns_sysctl_write(self->ns.a, "net/ipv4/tcp_autocorking", "0"));
	}
	self->cap = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, PROTO);
	ASSERT_NE(NULL, self->cap) TH_LOG("capture: %s", strerror(errno));
}

FIXTURE_TEARDOWN(peer)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	if (self->fd >= 0)
		close_abort(self->fd);
	if (self->cfd >= 0)
		close_abort(self->cfd);
	close_fds(&self->lfd, &self->lfd2, &self->raw, NULL);
	etcp_pkt_close(&self->pk);
	etcp_cap_stop(self->cap);
	self->cap = NULL;
	/* Takes the nftables table, xfrm policies and routes with them. */
	etcp_netns_teardown(&self->ns);
}

static bool is_etcp(const FIXTURE_DATA(peer) *self)
{
	return self->proto == IPPROTO_ETCP;
}

/* ------------------------------------------------------------ the raw peer */

/* A segment of the raw peer's connection, with its window. */
static struct etcp_raw_seg peer_seg(const FIXTURE_DATA(peer) *self,
				    uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct etcp_raw_seg seg = {
		.saddr = self->addr_b, .daddr = self->addr_a,
		.sport = RAW_PORT, .dport = self->aport,
		.seq = seq, .ack = ack, .flags = flags, .window = self->win,
	};

	return seg;
}

/* <SEQ=ISN+1><ACK=RCV.NXT><CTL=ACK> with the current window. */
static int peer_ack(const FIXTURE_DATA(peer) *self)
{
	struct etcp_raw_seg seg = peer_seg(self, ETCP_TH_ACK, self->isn + 1,
					   self->rcv_nxt);

	return etcp_raw_send(self->raw, &seg);
}

/* Segments of fd's connection to the raw peer, as netns a sends them. */
struct flow {
	uint16_t sport, dport;
	bool data;		/* with payload only */
};

static bool flow_match(const struct etcp_cap_seg *s, const void *arg)
{
	const struct flow *f = arg;

	return s->out && s->sport == f->sport && s->dport == f->dport &&
	       (!f->data || s->len > 0);
}

/*
 * What the raw peer receives: the next segment netns a sent that @f
 * matches, taken from the capture on ea (next on from the last one taken;
 * an IPv6 raw socket would give no IP header to parse).  0 or -ETIMEDOUT.
 */
static int peer_recv(FIXTURE_DATA(peer) *self, const struct flow *f,
		     struct etcp_cap_seg *rs, int ms)
{
	long i = etcp_cap_wait_match(self->cap, self->next, flow_match, f, ms);

	if (i < 0)
		return -ETIMEDOUT;
	self->next = i + 1;
	*rs = self->cap->seg[i];
	return 0;
}

/* The raw socket and netns b's RSTs dropped: what both opens need. */
static int peer_prepare(FIXTURE_DATA(peer) *self, uint16_t win, const char **why)
{
	int ret;

	*why = "nft: drop netns b's RSTs";
	ret = ns_nft_drop(self->ns.b, PROTO, "output", "@th,104,8 & 0x04 == 0x04");
	if (ret)
		return ret;
	*why = "raw socket in b";
	self->raw = self->family == AF_INET6 ? etcp_raw_open6(self->ns.b, PROTO) :
		    etcp_raw_open(self->ns.b, PROTO);
	if (self->raw < 0)
		return -errno;
	self->isn = RAW_ISN;
	self->win = win;
	return 0;
}

/* A segment of the raw peer's connection with MSS option @mss: 0 or -errno. */
static int peer_send_mss(const FIXTURE_DATA(peer) *self, uint8_t flags, uint32_t ack,
			 uint16_t mss)
{
	struct etcp_raw_seg seg = peer_seg(self, flags, self->isn, ack);
	uint8_t opt[4];

	seg.opts = opt;
	seg.optlen = etcp_raw_opt_mss(opt, mss);
	return etcp_raw_send(self->raw, &seg);
}

/*
 * The raw peer connects to a listener on PORT in netns a with a SYN that
 * carries MSS option @mss, and ACKs the SYN-ACK: fd is the accepted
 * socket.  0 or -errno, *why set.
 */
static int peer_passive(FIXTURE_DATA(peer) *self, uint16_t mss, const char **why)
{
	struct flow synack = { .sport = PORT, .dport = RAW_PORT };
	struct etcp_cap_seg rs;
	int ret;

	*why = "listener";
	self->lfd = listen_on(self->ns.a, PROTO, self->any, PORT, 8);
	if (self->lfd < 0)
		return -errno;
	self->aport = PORT;
	*why = "sending the SYN";
	ret = peer_send_mss(self, ETCP_TH_SYN, 0, mss);
	if (ret)
		return ret;
	*why = "no SYN-ACK";
	do {
		ret = peer_recv(self, &synack, &rs, WAIT_MS);
		if (ret)
			return ret;
	} while (rs.flags != (ETCP_TH_SYN | ETCP_TH_ACK));
	*why = "the SYN-ACK does not ACK the SYN";
	if (rs.ack != self->isn + 1)
		return -EPROTO;
	self->irs = rs.seq;
	self->rcv_nxt = rs.seq + 1;
	*why = "sending the ACK";
	ret = peer_ack(self);
	if (ret)
		return ret;
	*why = "accept";
	self->fd = accept_wait(self->lfd, WAIT_MS);
	return self->fd < 0 ? -errno : 0;
}

/*
 * A socket in netns a connects to the raw peer, which answers its SYN
 * with a SYN-ACK carrying MSS option @mss.  0 or -errno, *why set.
 */
static int peer_active(FIXTURE_DATA(peer) *self, uint16_t mss, const char **why)
{
	struct flow syn = { .dport = RAW_PORT };
	struct etcp_cap_seg rs;
	int ret;

	*why = "socket";
	self->fd = ns_socket(self->ns.a, self->family, SOCK_STREAM | SOCK_CLOEXEC, PROTO);
	if (self->fd < 0)
		return -errno;
	*why = "bind";
	ret = bind_to(self->fd, self->addr_a, 0);
	if (ret)
		return ret;
	self->aport = local_port(self->fd);
	syn.sport = self->aport;
	*why = "connect";
	ret = set_nonblock(self->fd, true);
	if (ret)
		return ret;
	ret = connect_to(self->fd, self->addr_b, RAW_PORT);
	if (ret != -EINPROGRESS)
		return ret ? ret : -EPROTO;
	*why = "no SYN";
	do {
		ret = peer_recv(self, &syn, &rs, WAIT_MS);
		if (ret)
			return ret;
	} while (!(rs.flags & ETCP_TH_SYN) || (rs.flags & ETCP_TH_ACK));
	self->irs = rs.seq;
	self->rcv_nxt = rs.seq + 1;
	*why = "sending the SYN-ACK";
	ret = peer_send_mss(self, ETCP_TH_SYN | ETCP_TH_ACK, self->rcv_nxt, mss);
	if (ret)
		return ret;
	*why = "connect did not complete";
	if (!(poll_fd(self->fd, POLLOUT, WAIT_MS) & POLLOUT))
		return -ETIMEDOUT;
	ret = so_error(self->fd);
	if (ret)
		return ret < 0 ? ret : -ret;
	return set_nonblock(self->fd, false);
}

/*
 * The connection of fd to the raw peer, whose segments carry window
 * @win: opened by the peer (@passive, peer_passive()) or by fd
 * (peer_active()), MSS option @mss in the peer's SYN or SYN-ACK, and the
 * handshake captured (n0 after it).  0 or -errno, *why set.
 */
static int peer_open(FIXTURE_DATA(peer) *self, bool passive, uint16_t mss, uint16_t win,
		     const char **why)
{
	int ret;

	ret = peer_prepare(self, win, why);
	if (ret)
		return ret;
	ret = passive ? peer_passive(self, mss, why) : peer_active(self, mss, why);
	if (ret)
		return ret;
	*why = "the handshake was not captured";
	if (etcp_cap_wait(self->cap, 3, WAIT_MS))
		return -ETIMEDOUT;
	self->n0 = self->cap->n;
	return 0;
}

/*
 * The next data segment from fd, as the raw peer receives it: in order,
 * it moves RCV.NXT.  0 or -ETIMEDOUT.
 */
static int peer_take(FIXTURE_DATA(peer) *self, struct etcp_cap_seg *rs, int ms)
{
	struct flow data = { .sport = self->aport, .dport = RAW_PORT, .data = true };
	int ret;

	ret = peer_recv(self, &data, rs, ms);
	if (ret)
		return ret;
	if (rs->seq == self->rcv_nxt)
		self->rcv_nxt += rs->len;
	return 0;
}

/*
 * Receive until @len bytes after fd's ISN + 1 are in, ACKing every
 * segment with the current window.  0, -ETIMEDOUT, or -errno.
 */
static int peer_drain(FIXTURE_DATA(peer) *self, uint32_t len, int ms)
{
	uint32_t end = self->irs + 1 + len;
	int64_t deadline = now_ms() + ms;
	struct etcp_cap_seg rs;
	int ret;

	while (self->rcv_nxt != end) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		ret = peer_take(self, &rs, 1000);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return ret;
		ret = peer_ack(self);
		if (ret)
			return ret;
		etcp_cap_poll(self->cap);
	}
	return 0;
}

/* len bytes of a pattern, sent in one non-blocking send(): 0 or -errno. */
static int write_once(int fd, size_t len)
{
	static char buf[65536];
	ssize_t n;
	size_t i;

	if (len > sizeof(buf))
		return -EINVAL;
	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + (i >> 8));
	n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EAGAIN;
}

/* Poll until fd's snd_mss is @mss: the last value seen. */
static uint32_t wait_snd_mss(const FIXTURE_DATA(peer) *self, uint32_t mss, int ms)
{
	int64_t deadline = now_ms() + ms;
	struct sinfo si;

	for (;;) {
		if (sinfo_get(self->fd, PROTO, &si))
			return 0;
		if (si.snd_mss == mss || now_ms() > deadline)
			return si.snd_mss;
		pause_step();
	}
}

/*
 * The data segments fd sent since capture index @from: new data only
 * (a retransmission of what went before is counted apart), their
 * lengths in order, the time of the first.
 */
struct sent {
	size_t n, retrans, bytes;
	size_t timed_out;	/* retransmissions rto_due() finds right */
	uint16_t len[512];
	int64_t rseq[512];
	int64_t t[512];		/* when each left last */
	int64_t t_first;
	uint16_t max_len;
	bool beyond_wnd;	/* a segment went past the peer's window */
};

/*
 * Whether the retransmission @s was the retransmission timer's due: what
 * it resends was not acknowledged yet (@ack, the peer's highest ACK the
 * capture saw before it) and last left ETCP_NS_RTO_MS or more before.  A
 * raw peer the guest keeps off the CPU that long ACKs late, and any sender
 * resends then; a sender that resends sooner, or resends what was ACKed,
 * is wrong.
 */
static bool rto_due(struct sent *st, const struct etcp_cap_seg *s, int64_t ack)
{
	size_t j, n = st->n < ARRAY_SIZE(st->t) ? st->n : ARRAY_SIZE(st->t);
	bool due;

	for (j = 0; j < n; j++) {
		if (s->rseq < st->rseq[j] || s->rseq >= st->rseq[j] + st->len[j])
			continue;
		due = ack <= s->rseq && s->t - st->t[j] >= ETCP_NS_RTO_MS * MS;
		st->t[j] = s->t;
		return due;
	}
	return false;
}

static void sent_data(const FIXTURE_DATA(peer) *self, size_t from, int64_t ack0,
		      uint32_t wnd, struct sent *st)
{
	int64_t hi = -1, ack = ack0;
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = from; i < self->cap->n; i++) {
		const struct etcp_cap_seg *s = &self->cap->seg[i];

		/* The raw peer's ACKs, in the order ea saw them. */
		if (!s->out && s->sport == RAW_PORT && (s->flags & ETCP_TH_ACK) &&
		    s->rack > ack) {
			ack = s->rack;
			continue;
		}
		if (!s->out || s->sport != self->aport || !s->len)
			continue;
		if (wnd && s->rseq + s->len > ack + wnd)
			st->beyond_wnd = true;
		if (hi >= 0 && s->rseq + s->len <= hi) {
			st->retrans++;
			if (rto_due(st, s, ack))
				st->timed_out++;
			continue;
		}
		if (st->n < ARRAY_SIZE(st->len)) {
			st->len[st->n] = s->len;
			st->rseq[st->n] = s->rseq;
			st->t[st->n] = s->t;
		}
		if (!st->n)
			st->t_first = s->t;
		st->n++;
		st->bytes += s->len;
		if (s->len > st->max_len)
			st->max_len = s->len;
		hi = s->rseq + s->len;
	}
}

/* ------------------------------------------------------------ MSS floor */

/*
 * A peer's MSS option of @mss (below 48) makes fd send segments of 48
 * bytes: ETCP_INFO/TCP_INFO snd_mss is 48, and a write of 10000 bytes
 * leaves as ceil(10000 / 48) = 209 segments, 208 of 48 bytes and one of
 * 16 (Linux: tcp_min_snd_mss, CVE-2019-11479).  Before, an MSS of 1 sent
 * one byte a segment.
 */
static void mss_floor(struct __test_metadata *_metadata, FIXTURE_DATA(peer) *self,
		      bool passive, uint16_t mss)
{
	const size_t nseg = (FLOOR_LEN + MIN_SND_MSS - 1) / MIN_SND_MSS;
	const char *why;
	struct sent st;
	struct sinfo si;
	size_t i, wrong = 0;
	int ret;

	ret = peer_open(self, passive, mss, 65535, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s: %s", why, strerror(-ret), EXCH);
	ASSERT_EQ(0, sinfo_get(self->fd, PROTO, &si));
	EXPECT_EQ(MIN_SND_MSS, si.snd_mss)
		TH_LOG("%s: snd_mss %u after an MSS option of %u", proto_name(PROTO),
		       si.snd_mss, mss);

	/* The whole write must be queued by one send(): room for 209 skbs. */
	ASSERT_EQ(0, sockopt_set(self->fd, SOL_SOCKET, SO_SNDBUFFORCE, 4 << 20));
	ret = write_once(self->fd, FLOOR_LEN);
	ASSERT_EQ(0, ret) TH_LOG("send(%d): %s", FLOOR_LEN, strerror(-ret));
	ret = peer_drain(self, FLOOR_LEN, XFER_MS);
	ASSERT_EQ(0, ret) TH_LOG("the peer got %u of %d bytes: %s",
				 self->rcv_nxt - self->irs - 1, FLOOR_LEN, strerror(-ret));
	etcp_cap_poll(self->cap);
	ASSERT_EQ(0U, self->cap->lost);

	sent_data(self, self->n0, 1, 0, &st);
	TH_LOG("%s, MSS option %u, %s open: %zu segments of at most %u bytes, %zu retransmitted",
	       proto_name(PROTO), mss, passive ? "passive" : "active", st.n,
	       st.max_len, st.retrans);
	EXPECT_EQ((size_t)FLOOR_LEN, st.bytes);
	EXPECT_EQ(nseg, st.n) TH_LOG("not ceil(%d/%d) segments", FLOOR_LEN, MIN_SND_MSS);
	EXPECT_GE(MIN_SND_MSS, st.max_len);
	for (i = 0; i < st.n && i < ARRAY_SIZE(st.len); i++) {
		uint16_t want = i + 1 < nseg ? MIN_SND_MSS : FLOOR_LEN - (nseg - 1) * MIN_SND_MSS;

		if (st.len[i] != want || st.rseq[i] != 1 + (int64_t)i * MIN_SND_MSS)
			wrong++;
	}
	EXPECT_EQ(0U, wrong) TH_LOG("%zu segments not <SEQ=1+48i> of 48 bytes (the last 16): first %u bytes, last %u",
				    wrong, st.n ? st.len[0] : 0,
				    st.n && st.n <= ARRAY_SIZE(st.len) ? st.len[st.n - 1] : 0);
	ASSERT_EQ(0, sinfo_get(self->fd, PROTO, &si));
	EXPECT_EQ(MIN_SND_MSS, si.snd_mss);
}

/* A SYN with MSS 1 to a listener. */
TEST_F(peer, mss_floor_syn_mss1)
{
	mss_floor(_metadata, self, true, 1);
}

/* A SYN-ACK with MSS 20 to a connecting socket. */
TEST_F(peer, mss_floor_synack_mss20)
{
	mss_floor(_metadata, self, false, 20);
}

/* A SYN-ACK with MSS 1 to a connecting socket. */
TEST_F(peer, mss_floor_synack_mss1)
{
	mss_floor(_metadata, self, false, 1);
}

/* ------------------------------------------------------------ half window */

/*
 * A peer announcing the MSS (1460, 1440 over IPv6) but never a window of
 * more than @win bytes.
 * fd sends segments of @seg bytes: half the window when it exceeds 536
 * bytes, else the whole window (tcp_bound_to_half_wnd), and the first
 * ones leave at once after the write, @seg bytes and as many as the
 * window takes (never beyond it), not one segment after the persist
 * timer.  The peer ACKs every segment with the same window; @len bytes
 * in all.  Nothing goes twice, but by the RTO when the guest kept the
 * peer's ACK off the CPU past it (rto_due()).
 */
static void small_window(struct __test_metadata *_metadata,
			 FIXTURE_DATA(peer) *self, bool passive, uint16_t win,
			 uint16_t seg, size_t len)
{
	const size_t per_wnd = win / seg, nseg = (len + seg - 1) / seg;
	struct etcp_cap_seg rs;
	const char *why;
	struct sinfo si;
	struct sent st;
	int64_t t_write;
	size_t i, n1;
	int ret;

	ret = peer_open(self, passive, MSS, win, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s: %s", why, strerror(-ret), EXCH);
	ASSERT_EQ(0, sinfo_get(self->fd, PROTO, &si));
	EXPECT_EQ(seg, si.snd_mss)
		TH_LOG("%s: snd_mss %u with MSS %d and a window of %u",
		       proto_name(PROTO), si.snd_mss, MSS, win);

	/* The first window: per_wnd segments at once, then nothing. */
	n1 = etcp_cap_poll(self->cap);
	t_write = etcp_cap_now(self->cap);
	ret = write_once(self->fd, len);
	ASSERT_EQ(0, ret) TH_LOG("send(%zu): %s", len, strerror(-ret));
	for (i = 0; i < per_wnd; i++) {
		ret = peer_take(self, &rs, WAIT_MS);
		ASSERT_EQ(0, ret) TH_LOG("data segment %zu of the first window: %s: %s",
					 i, strerror(-ret), EXCH);
	}
	ret = peer_take(self, &rs, QUIET_MS);
	ASSERT_TRUE(!ret || ret == -ETIMEDOUT) TH_LOG("%s", strerror(-ret));
	etcp_cap_poll(self->cap);
	sent_data(self, n1, 1, win, &st);
	ASSERT_EQ(per_wnd, st.n) TH_LOG("not %zu segments without an ACK: %s", per_wnd, EXCH);
	EXPECT_EQ(0U, st.retrans - st.timed_out)
		TH_LOG("a retransmission before the RTO: %s", EXCH);
	for (i = 0; i < per_wnd; i++) {
		EXPECT_EQ(seg, st.len[i]) TH_LOG("segment %zu: %s", i, EXCH);
		EXPECT_EQ(1 + (int64_t)(i * seg), st.rseq[i]) TH_LOG("segment %zu: %s", i, EXCH);
	}
	EXPECT_GE(AT_ONCE_MS * MS, st.t_first - t_write)
		TH_LOG("the first data left %.3f ms after the write: %s",
		       (st.t_first - t_write) / 1e6, EXCH);

	/* The rest, a segment for each one ACKed. */
	ASSERT_EQ(0, peer_ack(self));
	ret = peer_drain(self, len, XFER_MS);
	ASSERT_EQ(0, ret) TH_LOG("the peer got %u of %zu bytes: %s: %s",
				 self->rcv_nxt - self->irs - 1, len, strerror(-ret), EXCH);
	etcp_cap_poll(self->cap);
	sent_data(self, n1, 1, win, &st);
	TH_LOG("%s, window %u: %zu segments of at most %u bytes, the first %.3f ms after the write, %zu retransmitted (%zu by the RTO, the peer late)",
	       proto_name(PROTO), win, st.n, st.max_len, (st.t_first - t_write) / 1e6,
	       st.retrans, st.timed_out);
	EXPECT_EQ(len, st.bytes);
	EXPECT_EQ(nseg, st.n) TH_LOG("%s", EXCH);
	EXPECT_EQ(seg, st.max_len) TH_LOG("%s", EXCH);
	EXPECT_FALSE(st.beyond_wnd) TH_LOG("a segment went past the window: %s", EXCH);
	EXPECT_EQ(0U, st.retrans - st.timed_out) TH_LOG("%s", EXCH);
}

/*
 * Window 1000 (> 536) and MSS 1460: segments of 500 bytes, two a window,
 * the first two within 100 ms of the write.  Then the window grows to
 * 20000: the segments are 1460 bytes again (snd_mss 1460), a write of
 * 5000 leaving as 1460, 1460, 1460, 620 (over IPv6, 1440 and 3 x 1440 +
 * 680).
 */
#define HALF_WND	1000
#define HALF_LEN	3000
#define BIG_WND		20000
#define BIG_LEN		5000

TEST_F(peer, half_window)
{
	struct sent st;
	size_t n1;
	int ret, i;

	small_window(_metadata, self, true, HALF_WND, HALF_WND / 2, HALF_LEN);
	if (self->fd < 0 || self->rcv_nxt != self->irs + 1 + HALF_LEN)
		return;

	/* A window update: <ACK=RCV.NXT> again, window 20000. */
	self->win = BIG_WND;
	ASSERT_EQ(0, peer_ack(self));
	EXPECT_EQ(MSS, wait_snd_mss(self, MSS, WAIT_MS))
		TH_LOG("snd_mss did not grow back to the MSS with a window of %d", BIG_WND);
	n1 = etcp_cap_poll(self->cap);
	ret = write_once(self->fd, BIG_LEN);
	ASSERT_EQ(0, ret) TH_LOG("send(%d): %s", BIG_LEN, strerror(-ret));
	ret = peer_drain(self, HALF_LEN + BIG_LEN, XFER_MS);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", strerror(-ret), EXCH);
	etcp_cap_poll(self->cap);
	sent_data(self, n1, 1 + HALF_LEN, BIG_WND, &st);
	EXPECT_EQ((size_t)BIG_LEN, st.bytes);
	ASSERT_EQ(4U, st.n) TH_LOG("not 4 segments after the window grew: %s", EXCH);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i < 3 ? MSS : BIG_LEN - 3 * MSS, st.len[i])
			TH_LOG("segment %d after the window grew: %s", i, EXCH);
	EXPECT_FALSE(st.beyond_wnd);
}

/*
 * Window 400 (<= 536) in the SYN-ACK, MSS 1460 (1440): the window itself
 * is the segment size, one segment a window, the first at once.
 */
TEST_F(peer, half_window_small)
{
	small_window(_metadata, self, false, 400, 400, 1200);
}

/* ------------------------------------------------------------ IPsec */

/* Counter @name of /proc/net/xfrm_stat in nsfd, or -1. */
static long xfrm_stat(int nsfd, const char *name)
{
	static char text[8192];
	size_t len = strlen(name);
	char *p;

	if (ns_proc_net_read(nsfd, "xfrm_stat", text, sizeof(text)) < 0)
		return -1;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, name, len) && (p[len] == ' ' || p[len] == '\t'))
			return strtol(p + len, NULL, 10);
	return -1;
}

/* SYNs from b to @port, as ea received them, since @from. */
static bool syn_to(const struct etcp_cap_seg *s, const void *port)
{
	return !s->out && s->dport == *(const uint16_t *)port &&
	       s->flags == ETCP_TH_SYN;
}

/* Anything netns a sent from @port. */
static bool sent_from(const struct etcp_cap_seg *s, const void *port)
{
	return s->out && s->sport == *(const uint16_t *)port;
}

/*
 * A client in netns b connects to @port, with ETCP_SYNCNT (TCP_SYNCNT)
 * @syncnt unless 0: the result of connect(), 0 or -errno (-ETIMEDOUT
 * after 1 + 2 s with @syncnt 1).
 */
static int client_connect(FIXTURE_DATA(peer) *self, uint16_t port, int syncnt)
{
	int ret;

	if (self->cfd >= 0)
		close_abort(self->cfd);
	self->cfd = ns_socket(self->ns.b, self->family, SOCK_STREAM | SOCK_CLOEXEC, PROTO);
	if (self->cfd < 0)
		return -errno;
	if (syncnt) {
		ret = sockopt_set(self->cfd, PROTO,
				  is_etcp(self) ? ETCP_SYNCNT : TCP_SYNCNT, syncnt);
		if (ret)
			return ret;
	}
	return connect_to(self->cfd, self->addr_a, port);
}

/*
 * A connect() from b to @port that the policy in a blocks: ETIMEDOUT,
 * the SYN and its retransmissions arrive and nothing goes back (no
 * SYN-ACK, no RST); XfrmInPolBlock counts each SYN, and etcp counts each
 * InDiscards with no PassiveOpens.
 */
static void blocked_connect(struct __test_metadata *_metadata,
			    FIXTURE_DATA(peer) *self, uint16_t port, const char *what)
{
	long blk0 = xfrm_stat(self->ns.a, "XfrmInPolBlock");
	struct stats s0, s1;
	size_t n0, syns;
	int ret;

	ASSERT_LE(0, blk0) TH_LOG("no XfrmInPolBlock in /proc/net/xfrm_stat");
	ASSERT_EQ(0, stats_read(self->ns.a, &s0));
	n0 = etcp_cap_poll(self->cap);
	ret = client_connect(self, port, 1);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s: connect: %s: %s", what, strerror(-ret), EXCH);
	quiet(self->cap, QUIET_MS);
	syns = etcp_cap_count(self->cap, n0, syn_to, &port);
	/* Linux 6.12's TCP sends a second retransmission (linear timeouts). */
	EXPECT_LE(2U, syns) TH_LOG("%s: not the SYN and a retransmission: %s", what, EXCH);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, sent_from, &port))
		TH_LOG("%s: netns a answered: %s", what, EXCH);
	EXPECT_EQ((long)syns, xfrm_stat(self->ns.a, "XfrmInPolBlock") - blk0)
		TH_LOG("%s: XfrmInPolBlock", what);
	if (is_etcp(self)) {
		ASSERT_EQ(0, stats_read(self->ns.a, &s1));
		EXPECT_EQ((long)syns, stat_delta(&s0, &s1, "InDiscards"))
			TH_LOG("%s: the dropped SYNs were not counted InDiscards", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "PassiveOpens")) TH_LOG("%s", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "OutRsts")) TH_LOG("%s", what);
	}
}

/* Then connect() works, and the listener accepts. */
static void open_connect(struct __test_metadata *_metadata,
			 FIXTURE_DATA(peer) *self, int lfd, uint16_t port,
			 const char *what)
{
	int ret, a;

	ret = client_connect(self, port, 0);
	ASSERT_EQ(0, ret) TH_LOG("%s: connect: %s: %s", what, strerror(-ret), EXCH);
	a = accept_wait(lfd, WAIT_MS);
	EXPECT_LE(0, a) TH_LOG("%s: accept: %s", what, strerror(errno));
	if (a >= 0)
		close_abort(a);
	close_abort(self->cfd);
	self->cfd = -1;
}

/* Load xfrm_user (ip xfrm): it compiles IP_XFRM_POLICY's policies too. */
static const char *xfrm_unsupported(int nsfd)
{
	if (!have_prog("ip"))
		return "needs ip(8)";
	if (ns_cmd(nsfd, "ip xfrm policy list >/dev/null"))
		return "no xfrm netlink (xfrm_user)";
	return NULL;
}

/*
 * "ip xfrm policy add dir in src 10.0.1.2/32 dst 10.0.1.1/32 proto P
 * action block" in netns a (over IPv6 the selector is fd00:1::2/128 to
 * fd00:1::1/128): a connect() from b to a listener gets no answer and
 * fails with ETIMEDOUT; once the policy is deleted it connects.
 */
TEST_F(peer, xfrm_policy_global)
{
	const char *why = xfrm_unsupported(self->ns.a);
	int plen = self->family == AF_INET6 ? 128 : 32;

	if (why)
		SKIP(return, "%s", why);
	self->lfd = listen_on(self->ns.a, PROTO, self->any, PORT, 8);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(errno));
	ASSERT_EQ(0, ns_cmd(self->ns.a, "ip xfrm policy add dir in src %s/%d dst %s/%d "
			    "proto %d action block", self->addr_b, plen, self->addr_a, plen,
			    PROTO));
	blocked_connect(_metadata, self, PORT, "global policy");
	ASSERT_EQ(0, ns_cmd(self->ns.a, "ip xfrm policy delete dir in src %s/%d dst %s/%d "
			    "proto %d", self->addr_b, plen, self->addr_a, plen, PROTO));
	open_connect(_metadata, self, self->lfd, PORT, "policy deleted");
}

/* The socket option of a socket's own policy: IP_XFRM_POLICY or IPV6_'s. */
static int xfrm_level(int family)
{
	return family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
}

static int xfrm_optname(int family)
{
	return family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
}

/*
 * IP_XFRM_POLICY (IPV6_XFRM_POLICY for @family AF_INET6) on @fd: inbound,
 * block, every segment of @family.  0 or -errno.
 */
static int sock_policy_block(int fd, int family)
{
	struct xfrm_userpolicy_info p = {};

	p.sel.family = family;		/* prefixes 0, proto 0: everything */
	p.lft.soft_byte_limit = XFRM_INF;
	p.lft.hard_byte_limit = XFRM_INF;
	p.lft.soft_packet_limit = XFRM_INF;
	p.lft.hard_packet_limit = XFRM_INF;
	p.dir = XFRM_POLICY_IN;
	p.action = XFRM_POLICY_BLOCK;
	if (setsockopt(fd, xfrm_level(family), xfrm_optname(family), &p, sizeof(p)))
		return -errno;
	return 0;
}

/*
 * A listener's own inbound policy (IP_XFRM_POLICY, block, a selector for
 * every IPv4 segment; over IPv6 IPV6_XFRM_POLICY and every IPv6 segment)
 * drops the SYNs to it, unanswered, as TCP's listener does; a listener
 * without it on another port accepts; with the policy cleared (the option
 * of length 0) the first one accepts too.
 */
TEST_F(peer, xfrm_policy_socket)
{
	const char *why = xfrm_unsupported(self->ns.a);
	int ret;

	if (why)
		SKIP(return, "%s", why);
	self->lfd = listen_on(self->ns.a, PROTO, self->any, PORT, 8);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(errno));
	self->lfd2 = listen_on(self->ns.a, PROTO, self->any, PORT2, 8);
	ASSERT_LE(0, self->lfd2) TH_LOG("listen: %s", strerror(errno));
	ret = sock_policy_block(self->lfd, self->family);
	ASSERT_EQ(0, ret) TH_LOG("IP_XFRM_POLICY: %s", strerror(-ret));

	open_connect(_metadata, self, self->lfd2, PORT2, "the listener without a policy");
	blocked_connect(_metadata, self, PORT, "the listener's own policy");
	ASSERT_EQ(0, setsockopt(self->lfd, xfrm_level(self->family),
				xfrm_optname(self->family), NULL, 0))
		TH_LOG("clearing IP_XFRM_POLICY: %s", strerror(errno));
	open_connect(_metadata, self, self->lfd, PORT, "policy cleared");
}

/* ------------------------------------------------------------ broadcast */

/*
 * A SYN from b's address to @daddr:@dport, sent by the packet socket on
 * eb in a frame to @dmac: ea receives it and netns a sends nothing back
 * (no SYN-ACK, no RST); etcp counts it InSegs and InDiscards, and no
 * PassiveOpens, NoSocket or OutRsts.
 */
static void bcast_syn(struct __test_metadata *_metadata, FIXTURE_DATA(peer) *self,
		      const char *daddr, const uint8_t dmac[6], uint16_t sport,
		      uint16_t dport, const char *what)
{
	struct etcp_raw_seg seg = {
		.saddr = self->addr_b, .daddr = daddr,
		.sport = sport, .dport = dport, .seq = RAW_ISN,
		.flags = ETCP_TH_SYN, .window = 65535,
	};
	struct in6_addr want;
	struct stats s0, s1;
	uint8_t opt[4];
	size_t n0;
	long idx;

	seg.opts = opt;
	seg.optlen = etcp_raw_opt_mss(opt, MSS);
	ASSERT_LE(0, etcp_raw_addr(daddr, &want));
	memcpy(self->pk.dmac, dmac, sizeof(self->pk.dmac));
	ASSERT_EQ(0, stats_read(self->ns.a, &s0));
	n0 = etcp_cap_poll(self->cap);
	ASSERT_EQ(0, etcp_pkt_send_seg(&self->pk, &seg)) TH_LOG("%s: send", what);
	idx = etcp_cap_wait_match(self->cap, n0, syn_to, &dport, WAIT_MS);
	ASSERT_LE(0, idx) TH_LOG("%s: the SYN did not reach ea: %s", what, EXCH);
	EXPECT_EQ(0, memcmp(&want, &self->cap->seg[idx].daddr6, sizeof(want)))
		TH_LOG("%s: the SYN is not to %s: %s", what, daddr, EXCH);
	if (is_etcp(self))
		EXPECT_EQ(0, wait_stat(self->ns.a, "InDiscards",
				       stat_of(&s0, "InDiscards") + 1, WAIT_MS))
			TH_LOG("%s: not counted InDiscards", what);
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, sent_from, &dport))
		TH_LOG("%s: netns a answered: %s", what, EXCH);
	if (is_etcp(self)) {
		ASSERT_EQ(0, stats_read(self->ns.a, &s1));
		EXPECT_EQ(1, stat_delta(&s0, &s1, "InSegs")) TH_LOG("%s", what);
		EXPECT_EQ(1, stat_delta(&s0, &s1, "InDiscards")) TH_LOG("%s", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "PassiveOpens")) TH_LOG("%s", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "NoSocket")) TH_LOG("%s", what);
		EXPECT_EQ(0, stat_delta(&s0, &s1, "OutRsts")) TH_LOG("%s", what);
	}
}

/*
 * RFC 1122 4.2.3.10: a SYN to a broadcast or multicast address is
 * dropped, unanswered.  IPv6 has no broadcast: its counterpart is a
 * multicast group every node is in, ff02::1, which TCPv6 drops the same
 * way (tcp_v6_rcv(): not PACKET_HOST; tcp_v6_conn_request() and
 * tcp_v6_send_reset(): not ipv6_unicast_destination()).  To 10.0.1.255
 * (ff02::1), a listener on INADDR_ANY (in6addr_any): first in a broadcast
 * frame (the multicast frame of ff02::1, 33:33:00:00:00:01), then in a
 * frame to ea's own MAC address, which the link layer calls PACKET_HOST;
 * then to a closed port, which gets no RST.  The frames come from a packet
 * socket on eb (etcp_pkt.h), as b's address.  The listener accepts
 * nothing.
 */
TEST_F(peer, broadcast_syn)
{
	static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast_mac6[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	const bool v6 = self->family == AF_INET6;
	const char *daddr = v6 ? MCAST_ADDR6 : BCAST_ADDR;
	uint8_t mac[6];
	int a, ret;

	self->lfd = listen_on(self->ns.a, PROTO, self->any, PORT, 8);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(errno));
	ASSERT_EQ(0, etcp_pkt_if_mac(self->ns.a, ETCP_NS_IF_A, mac));
	ret = etcp_pkt_open(&self->pk, self->ns.b, ETCP_NS_IF_B, PROTO, self->addr_b,
			    self->addr_a, mac);
	ASSERT_EQ(0, ret) TH_LOG("packet socket on %s: %s", ETCP_NS_IF_B, strerror(-ret));

	bcast_syn(_metadata, self, daddr, v6 ? mcast_mac6 : bcast_mac, RAW_PORT, PORT,
		  v6 ? "multicast frame" : "broadcast frame");
	bcast_syn(_metadata, self, daddr, mac, RAW_PORT + 1, PORT, "unicast frame, listener");
	bcast_syn(_metadata, self, daddr, mac, RAW_PORT + 2, CLOSED_PORT,
		  "unicast frame, closed port");

	ASSERT_EQ(0, set_nonblock(self->lfd, true));
	a = accept(self->lfd, NULL, NULL);
	EXPECT_EQ(-1, a) TH_LOG("the listener accepted a connection");
	EXPECT_EQ(EAGAIN, errno);
	if (a >= 0)
		close(a);
}

TEST_HARNESS_MAIN
