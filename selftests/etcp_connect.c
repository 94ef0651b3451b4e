// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: connection establishment, asserted on the wire.
 *
 *   netns a (client)                          netns b (server)
 *   10.0.1.1  ea ------------- veth ------------- eb  10.0.1.2
 *   fd00:1::1                                         fd00:1::2
 *        ^ capture (AF_PACKET, both directions)      listener :5000
 *
 * Every test records the segments on ea (etcp_capture.h) and asserts the
 * exact exchange: flags, sequence and acknowledgment numbers relative to
 * each side's ISN, MSS option, window, length, times.  Segments the stack
 * would never send (a SYN without options, forged SYN-ACKs and RSTs,
 * malformed headers) come from a raw socket (etcp_raw.h); nftables drops
 * (`@th,104,8`, the flags byte) and netem delays make the awkward cases
 * deterministic.
 *
 * The fixture "conn" runs every test over TCP as well as etcp, and over
 * IPv4 as well as IPv6 (variants tcp, etcp, tcp6, etcp6): the TCP runs
 * prove that the test expects what Linux TCP does (with timestamps, SACK,
 * window scaling and ECN off, so that its SYN carries only the MSS
 * option); window values are only checked for etcp.  Over IPv6 the cases
 * assert the same with that family's values: AF_INET6 sockets between
 * fd00:1::1 and fd00:1::2, MSS 1440 on the 1500-byte veth (1460 over
 * IPv4), /proc/net/{tcp6,etcp6} rows, raw IPv6 sockets for the forged
 * segments, and RFC 9293's default MSS of 1220 (536 over IPv4) for a
 * peer whose SYN has no MSS option.  etcp's sysctls (etcp_syn_retries,
 * etcp_synack_retries) are net.ipv4's and serve both families, as TCP's.
 * The fixture "malformed" checks etcp's own counters, over both families
 * too (variants etcp, etcp6): each has its own receive path.
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange.
 *
 * Timing: the VM runs under TCG on shared cores, and kernel timers of one
 * to four seconds sit on timer-wheel levels that fire up to 32 ms (1-2 s)
 * or 256 ms (4 s, at HZ=250) late.  Gaps are measured between capture
 * timestamps (not user-space wakeups) and checked to +-250 ms: a 1 s gap
 * cannot pass for a 2 s one.  End times (ETIMEDOUT, a request expiring)
 * include the late 4 s timer and a wakeup and get +-500 ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "etcp_raw.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns b */
#define CLOSED_PORT	5999	/* nothing listens there */
#define RAW_PORT	41000	/* hand-made segments from netns a */

#define MS		1000000LL	/* ns */
#define GAP_TOL_MS	250	/* spacing of retransmissions */
#define END_TOL_MS	500	/* ETIMEDOUT, request expiry */
#define QUIET_MS	300	/* nothing more may follow in this time */
#define WAIT_MS		2000	/* for what should happen at once */

#define EXCH		etcp_cap_str(self->cap)

/* ------------------------------------------------------------ helpers */

/* SO_REUSEADDR, then bind_to(): 0 or -errno. */
static int bind_reuse(int fd, const char *addr, unsigned short port)
{
	sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	return bind_to(fd, addr, port);
}

/* Poll until the socket is in state with retrans retransmissions (-1: any). */
static int wait_state(int fd, int proto, int state, int retrans, int ms)
{
	int64_t deadline = now_ms() + ms;
	struct sinfo si;

	for (;;) {
		if (!sinfo_get(fd, proto, &si) && si.state == state &&
		    (retrans < 0 || si.retransmits == retrans))
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_ms(5);
	}
}

/*
 * The row of /proc/net/@file in nsfd (tcp, etcp, tcp6 or etcp6:
 * proc_row_scan() reads either family's) with these ports (and st unless
 * -1): 1 found, 0 not there, -errno.
 */
static int row_find(int nsfd, const char *file, unsigned int lport,
		    unsigned int rport, int st, struct proc_row *r)
{
	static char text[256 * 1024];
	char *line, *save = NULL;
	ssize_t n;

	n = ns_proc_net_read(nsfd, file, text, sizeof(text));
	if (n < 0)
		return n;
	line = strtok_r(text, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (proc_row_scan(line, r))
			return -EPROTO;
		if (r->lport == lport && r->rport == rport &&
		    (st < 0 || r->st == (unsigned int)st))
			return 1;
	}
	return 0;
}

/*
 * Poll until the row is there with retr retransmissions and timer tr
 * (-1: any): 0, or -ETIMEDOUT with the last row seen in r.
 */
static int wait_row(int nsfd, const char *file, unsigned int lport,
		    unsigned int rport, int st, int tr, int retr, int ms,
		    struct proc_row *r)
{
	int64_t deadline = now_ms() + ms;
	int ret;

	for (;;) {
		memset(r, 0xff, sizeof(*r));
		ret = row_find(nsfd, file, lport, rport, st, r);
		if (ret < 0)
			return ret;
		if (ret && (tr < 0 || r->tr == (unsigned int)tr) &&
		    (retr < 0 || r->retr == (unsigned int)retr))
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_ms(10);
	}
}

/* Segment selectors for etcp_cap_*_match(). */
static bool from_port(const struct etcp_cap_seg *seg, const void *port)
{
	return seg->sport == *(const unsigned short *)port;
}

static bool is_rst(const struct etcp_cap_seg *seg, const void *arg)
{
	(void)arg;
	return seg->flags & ETCP_TH_RST;
}

/* Sent by the client at port, other than a SYN (retransmission). */
static bool reply_from(const struct etcp_cap_seg *seg, const void *port)
{
	return seg->sport == *(const unsigned short *)port &&
	       !(seg->flags & ETCP_TH_SYN);
}

/* ------------------------------------------------------------ fixtures */

/*
 * The wire environment (etcp_fixture.h) and, for TCP, the classic SYN
 * backoff: since 6.7 the first SYN retransmissions come at linear 1 s
 * intervals (default 4 of them); etcp mirrors the classic doubling.
 * Older kernels have no such knob.  nftables tables and netem qdiscs a
 * test adds live in the namespaces and go with them in the teardown.
 */
static int env_setup(struct etcp_env *e, int proto, const char **why)
{
	int ret = etcp_env_setup(e, proto, 0, why);

	if (ret || proto != IPPROTO_TCP)
		return ret;
	*why = "cannot turn tcp_syn_linear_timeouts off";
	ret = tcp_classic_syn_backoff(e->ns.a);
	if (ret)
		etcp_env_teardown(e);
	return ret;
}

/* netem delay on ifname of nsfd. */
static int netem_delay(int nsfd, const char *ifname, int ms)
{
	return ns_cmd(nsfd, "tc qdisc add dev %s root netem delay %dms",
		      ifname, ms);
}

/* The MTU of ifname in nsfd, by ioctl: no process to start. */
static int set_mtu(int nsfd, const char *ifname, int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	int fd, ret = 0;

	fd = ns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCSIFMTU, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(conn) {
	struct etcp_env e;
	struct etcp_cap *cap;
	struct etcp_netns *ns;
};

/*
 * tcp, etcp over IPv4 and tcp6, etcp6 over IPv6, with the ISN clock's
 * period (RFC 6528 M), which is the protocol's in both families: TCP's
 * 64 ns (net/core/secure_seq.c: ns >> 6), etcp's 4096 ns (ns >> 12:
 * RFC 6528's 4 us, nearly).
 */
FIXTURE_VARIANT(conn) {
	ETCP_VARIANT_FIELDS;
	long isn_tick_ns;
};

#define CONN_VARIANT(name, p, fam, a, b)				\
FIXTURE_VARIANT_ADD(conn, name) {					\
	.proto = p, .family = fam, .addr_a = a, .addr_b = b,		\
	.isn_tick_ns = (p) == IPPROTO_ETCP ? 4096 : 64,			\
}

CONN_VARIANT(tcp, IPPROTO_TCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
CONN_VARIANT(etcp, IPPROTO_ETCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
CONN_VARIANT(tcp6, IPPROTO_TCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);
CONN_VARIANT(etcp6, IPPROTO_ETCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);

/* The variant's addresses, veth MSS and /proc/net table. */
#define ADDR_A		variant->addr_a
#define ADDR_B		variant->addr_b
#define MSS		ETCP_NS_MSS(variant->family)
#define PROC		proc_table_af(variant->proto, variant->family)

FIXTURE_SETUP(conn)
{
	const char *why = etcp_netns_unsupported();
	int ret;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = env_setup(&self->e, variant->proto, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	self->cap = self->e.cap;
	self->ns = &self->e.ns;
}

FIXTURE_TEARDOWN(conn)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	etcp_env_teardown(&self->e);
}

static bool is_etcp(const FIXTURE_VARIANT(conn) *variant)
{
	return variant->proto == IPPROTO_ETCP;
}

static int client_socket(FIXTURE_DATA(conn) *self,
			 const FIXTURE_VARIANT(conn) *variant, bool nonblock)
{
	return ns_socket(self->ns->a, variant->family,
			 SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
			 variant->proto);
}

/*
 * A client socket with option @opt (at level variant->proto: SOL_ETCP is
 * IPPROTO_ETCP, ETCP_MAXSEG is TCP_MAXSEG, ...) set to @val and read
 * back, after another fresh one showed @dflt (@what if not): the fd.
 */
static int client_with_opt(struct __test_metadata *_metadata, FIXTURE_DATA(conn) *self,
			   const FIXTURE_VARIANT(conn) *variant, int opt, int dflt, int val,
			   const char *what)
{
	int cfd, fresh;

	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	fresh = client_socket(self, variant, false);
	ASSERT_LE(0, fresh);
	EXPECT_EQ(dflt, sockopt_get(fresh, variant->proto, opt)) TH_LOG("%s", what);
	close(fresh);
	ASSERT_EQ(0, sockopt_set(cfd, variant->proto, opt, val));
	EXPECT_EQ(val, sockopt_get(cfd, variant->proto, opt));
	return cfd;
}

/* ------------------------------------------------------------ handshake */

/*
 * SYN, SYN-ACK, ACK with relative numbers 0/-, 0/1, 1/1; MSS 1460 (1440
 * over IPv6) on the SYNs and no other option; both ends ESTABLISHED with
 * the ISNs seen.
 */
TEST_F(conn, handshake)
{
	struct sockaddr_storage cname, cpeer, aname, apeer;
	const struct etcp_cap_seg *syn, *synack, *ack;
	struct sinfo ci, ai;
	int lfd, cfd, afd, i;
	unsigned short cport;
	struct proc_row r;

	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(errno));
	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd) TH_LOG("accept: %s\n%s", strerror(errno), EXCH);
	cport = local_port(cfd);

	ASSERT_EQ(0, etcp_cap_wait(self->cap, 3, WAIT_MS)) TH_LOG("%s", EXCH);
	ASSERT_EQ(3U, quiet(self->cap, QUIET_MS))
		TH_LOG("not exactly three segments: %s", EXCH);
	syn = &self->cap->seg[0];
	synack = &self->cap->seg[1];
	ack = &self->cap->seg[2];

	/* SYN <SEQ=ISS> with MSS = 1500 - 40 and nothing else. */
	EXPECT_TRUE(syn->out && syn->sport == cport && syn->dport == PORT)
		TH_LOG("first segment is not client -> server: %s", EXCH);
	EXPECT_EQ(ETCP_TH_SYN, syn->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, syn->rseq);
	EXPECT_EQ(MSS, syn->mss) TH_LOG("%s", EXCH);
	EXPECT_EQ(4, syn->optlen) TH_LOG("SYN options other than MSS: %s", EXCH);
	EXPECT_EQ(0, syn->len);

	/* SYN-ACK <SEQ=ISS'><ACK=ISS+1>. */
	EXPECT_TRUE(!synack->out && synack->sport == PORT && synack->dport == cport)
		TH_LOG("second segment is not server -> client: %s", EXCH);
	EXPECT_EQ(ETCP_TH_SYN | ETCP_TH_ACK, synack->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, synack->rseq);
	EXPECT_EQ(1, synack->rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(MSS, synack->mss) TH_LOG("%s", EXCH);
	EXPECT_EQ(4, synack->optlen) TH_LOG("SYN-ACK options other than MSS: %s", EXCH);
	EXPECT_EQ(0, synack->len);

	/* ACK <SEQ=ISS+1><ACK=ISS'+1>, no options, no data. */
	EXPECT_TRUE(ack->out && ack->sport == cport)
		TH_LOG("third segment is not client -> server: %s", EXCH);
	EXPECT_EQ(ETCP_TH_ACK, ack->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, ack->rseq);
	EXPECT_EQ(1, ack->rack);
	EXPECT_EQ(5, ack->doff) TH_LOG("the ACK has options: %s", EXCH);
	EXPECT_EQ(0, ack->len);

	if (is_etcp(variant)) {
		for (i = 0; i < 3; i++) {
			const struct etcp_cap_seg *s = &self->cap->seg[i];

			/* min(65535, rcvbuf / 2) with the default buffer. */
			EXPECT_EQ(65535, s->window) TH_LOG("segment %d: %s", i, EXCH);
			EXPECT_EQ(1, s->csum) TH_LOG("segment %d checksum: %s", i, EXCH);
		}
	}

	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(ETCP_ESTABLISHED, ci.state);
	EXPECT_EQ(ETCP_ESTABLISHED, ai.state);
	EXPECT_EQ((unsigned int)MSS, ci.snd_mss);
	EXPECT_EQ((unsigned int)MSS, ai.snd_mss);
	if (ci.seqs) {
		EXPECT_EQ(syn->seq, ci.iss) TH_LOG("client's ETCP_INFO iss is not its SYN's");
		EXPECT_EQ(synack->seq, ci.irs);
		EXPECT_EQ(syn->seq + 1, ci.snd_nxt);
		EXPECT_EQ(synack->seq + 1, ci.rcv_nxt);
		EXPECT_EQ(synack->seq, ai.iss) TH_LOG("child's ETCP_INFO iss is not its SYN-ACK's");
		EXPECT_EQ(syn->seq, ai.irs);
		EXPECT_EQ(synack->seq + 1, ai.snd_nxt);
		EXPECT_EQ(syn->seq + 1, ai.rcv_nxt);
	}

	/* /proc/net/{etcp,tcp}{,6}: both ends st 01, the listener 0A. */
	EXPECT_EQ(1, row_find(self->ns->a, PROC, cport, PORT, ETCP_ESTABLISHED, &r))
		TH_LOG("no ESTABLISHED row for the client in netns a");
	EXPECT_EQ(1, row_find(self->ns->b, PROC, PORT, cport, ETCP_ESTABLISHED, &r))
		TH_LOG("no ESTABLISHED row for the child in netns b");
	EXPECT_EQ(1, row_find(self->ns->b, PROC, PORT, 0, ETCP_LISTEN, &r))
		TH_LOG("no LISTEN row in netns b");

	/* The two ends agree on who is who. */
	ASSERT_LT(0, sock_addr(cfd, false, &cname));
	ASSERT_LT(0, sock_addr(cfd, true, &cpeer));
	ASSERT_LT(0, sock_addr(afd, false, &aname));
	ASSERT_LT(0, sock_addr(afd, true, &apeer));
	EXPECT_TRUE(sockaddr_is(&cpeer, ADDR_B, PORT))
		TH_LOG("client's peer is not %s:%d", ADDR_B, PORT);
	EXPECT_TRUE(sockaddr_is(&aname, ADDR_B, PORT))
		TH_LOG("child's name is not %s:%d", ADDR_B, PORT);
	EXPECT_TRUE(sockaddr_is(&cname, ADDR_A, cport))
		TH_LOG("client's name is not %s:%u", ADDR_A, cport);
	EXPECT_TRUE(sockaddr_is(&apeer, ADDR_A, cport))
		TH_LOG("child's peer is not %s:%u", ADDR_A, cport);

	close(afd);
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ window scale */

/*
 * RFC 7323 window scaling, on (1) or off (0) in netns a and b, which
 * env_setup() turned off: tcp_window_scaling or etcp_window_scaling.
 */
static void wscale_set(struct __test_metadata *_metadata, FIXTURE_DATA(conn) *self,
		       const FIXTURE_VARIANT(conn) *variant, int on_a, int on_b)
{
	ASSERT_EQ(0, proto_sysctl_set(self->ns->a, variant->proto, "window_scaling", on_a));
	ASSERT_EQ(0, proto_sysctl_set(self->ns->b, variant->proto, "window_scaling", on_b));
}

/*
 * Connect a's client to b's listener (SO_RCVBUF @rcvbuf on it, 0: the
 * default), the three segments of the handshake in *@syn.. *@ack and the
 * two ends in *@cfd, *@afd.
 */
static void wscale_connect(struct __test_metadata *_metadata, FIXTURE_DATA(conn) *self,
			   const FIXTURE_VARIANT(conn) *variant, int rcvbuf, int *cfd,
			   int *afd, const struct etcp_cap_seg **syn,
			   const struct etcp_cap_seg **synack, const struct etcp_cap_seg **ack)
{
	int lfd;

	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(errno));
	if (rcvbuf)
		ASSERT_EQ(0, sockopt_set(lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf));
	*cfd = client_socket(self, variant, false);
	ASSERT_LE(0, *cfd);
	ASSERT_EQ(0, connect_to(*cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	*afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, *afd) TH_LOG("accept: %s\n%s", strerror(errno), EXCH);
	close(lfd);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 3, WAIT_MS)) TH_LOG("%s", EXCH);
	*syn = &self->cap->seg[0];
	*synack = &self->cap->seg[1];
	*ack = &self->cap->seg[2];
	ASSERT_EQ(ETCP_TH_SYN, (*syn)->flags) TH_LOG("%s", EXCH);
	ASSERT_EQ(ETCP_TH_SYN | ETCP_TH_ACK, (*synack)->flags) TH_LOG("%s", EXCH);
	ASSERT_EQ(ETCP_TH_ACK, (*ack)->flags) TH_LOG("%s", EXCH);
}

/*
 * Both ends scale: each SYN carries MSS, NOP, window scale; the SYNs'
 * windows are not scaled, the ACK's is: the server reads it shifted (its
 * snd_wnd), and both ends report the shifts (TCP_INFO, ETCP_INFO).
 * etcp's shift is 7, what Linux 6.1 and 6.12 pick for their 6 MiB
 * tcp_rmem[2]; 7.2's TCP picks 8, so TCP's is only checked to be the same
 * everywhere.
 */
TEST_F(conn, wscale_handshake)
{
	const struct etcp_cap_seg *syn, *synack, *ack;
	struct sinfo ci, ai;
	int cfd, afd, want;

	wscale_set(_metadata, self, variant, 1, 1);
	wscale_connect(_metadata, self, variant, 0, &cfd, &afd, &syn, &synack, &ack);
	want = is_etcp(variant) ? 7 : syn->wscale;

	EXPECT_EQ(8, syn->optlen) TH_LOG("SYN options: %s", EXCH);
	EXPECT_EQ(MSS, syn->mss) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, syn->opts[4]) TH_LOG("no NOP before the window scale: %s", EXCH);
	EXPECT_LE(7, syn->wscale) TH_LOG("SYN's window scale: %s", EXCH);
	EXPECT_EQ(want, syn->wscale) TH_LOG("SYN's window scale: %s", EXCH);
	EXPECT_EQ(8, synack->optlen) TH_LOG("SYN-ACK options: %s", EXCH);
	EXPECT_EQ(want, synack->wscale) TH_LOG("SYN-ACK's window scale: %s", EXCH);
	EXPECT_EQ(-1, ack->wscale) TH_LOG("the ACK has a window scale: %s", EXCH);
	if (is_etcp(variant)) {
		/* The SYNs: min(65535, rcvbuf / 2) in MSS, unscaled. */
		EXPECT_LE(65535 - MSS, syn->window) TH_LOG("%s", EXCH);
		EXPECT_LE(65535 - MSS, synack->window) TH_LOG("%s", EXCH);
		/* The ACK: half the 208 KiB buffer, in units of 128 bytes. */
		EXPECT_LT(65535 >> want, ack->window) TH_LOG("%s", EXCH);
	}

	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(want, ci.snd_wscale);
	EXPECT_EQ(want, ci.rcv_wscale);
	EXPECT_EQ(want, ai.snd_wscale);
	EXPECT_EQ(want, ai.rcv_wscale);
	if (ai.seqs)
		EXPECT_EQ((uint32_t)ack->window << want, ai.snd_wnd)
			TH_LOG("server's send window %u, the ACK's field %u",
			       ai.snd_wnd, ack->window);
	close(cfd);
	close(afd);
}

/*
 * The client offers scaling, the server's stack has it off: the SYN-ACK
 * carries no window scale (RFC 7323 1.3), so neither end scales and the
 * ACK's window is read as it stands.
 */
TEST_F(conn, wscale_refused)
{
	const struct etcp_cap_seg *syn, *synack, *ack;
	struct sinfo ci, ai;
	int cfd, afd;

	wscale_set(_metadata, self, variant, 1, 0);
	wscale_connect(_metadata, self, variant, 0, &cfd, &afd, &syn, &synack, &ack);

	EXPECT_LE(7, syn->wscale) TH_LOG("%s", EXCH);
	EXPECT_EQ(-1, synack->wscale) TH_LOG("%s", EXCH);
	EXPECT_EQ(4, synack->optlen) TH_LOG("SYN-ACK options other than MSS: %s", EXCH);
	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(0, ci.snd_wscale);
	EXPECT_EQ(0, ci.rcv_wscale);
	EXPECT_EQ(0, ai.snd_wscale);
	EXPECT_EQ(0, ai.rcv_wscale);
	if (ai.seqs)
		EXPECT_EQ(ack->window, ai.snd_wnd) TH_LOG("%s", EXCH);
	close(cfd);
	close(afd);
}

/*
 * The client's stack has scaling off: its SYN has the MSS alone, and the
 * server, which would scale, must not offer it in its SYN-ACK.
 */
TEST_F(conn, wscale_not_offered)
{
	const struct etcp_cap_seg *syn, *synack, *ack;
	struct sinfo ai;
	int cfd, afd;

	wscale_set(_metadata, self, variant, 0, 1);
	wscale_connect(_metadata, self, variant, 0, &cfd, &afd, &syn, &synack, &ack);

	EXPECT_EQ(4, syn->optlen) TH_LOG("%s", EXCH);
	EXPECT_EQ(-1, synack->wscale) TH_LOG("%s", EXCH);
	EXPECT_EQ(4, synack->optlen) TH_LOG("%s", EXCH);
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(0, ai.snd_wscale);
	EXPECT_EQ(0, ai.rcv_wscale);
	close(cfd);
	close(afd);
}

/*
 * What scaling is for: a receiver with a 1 MiB buffer offers more than
 * 65535 bytes.  The client sends 512 KiB that the server reads; the
 * server's last window field, shifted, then says more than 16 bits can,
 * and etcp's client holds exactly that as its send window (ETCP_INFO
 * snd_wnd).  Without scaling (server off) the field is taken as it stands.
 */
static void wscale_bulk(struct __test_metadata *_metadata, FIXTURE_DATA(conn) *self,
			const FIXTURE_VARIANT(conn) *variant, bool scaled)
{
	const struct etcp_cap_seg *syn, *synack, *ack, *last = NULL;
	const size_t total = 512 * 1024;
	char *out, *in;
	struct sinfo ci;
	uint32_t wnd;
	int cfd, afd;
	size_t i;

	wscale_set(_metadata, self, variant, 1, scaled);
	wscale_connect(_metadata, self, variant, 1 << 20, &cfd, &afd, &syn, &synack, &ack);
	out = malloc(total);
	in = malloc(total);
	ASSERT_TRUE(out && in);
	for (i = 0; i < total; i++)
		out[i] = (char)(i * 7 + i / 251);
	ASSERT_EQ(0, send_all(cfd, out, total)) TH_LOG("send: %s", strerror(errno));
	ASSERT_EQ(0, recv_exact(afd, in, total, 10000)) TH_LOG("recv: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(out, in, total)) TH_LOG("the data arrived changed");
	free(out);
	free(in);
	ASSERT_EQ(0, wait_acked(cfd, WAIT_MS)) TH_LOG("%s", EXCH);
	/* The window update the reads sent, if any, has come in. */
	quiet(self->cap, QUIET_MS);
	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	for (i = self->cap->n; i-- > 3 && !last;)
		if (self->cap->seg[i].sport == PORT)
			last = &self->cap->seg[i];
	ASSERT_NE(NULL, last) TH_LOG("no segment from the server: %s", EXCH);
	EXPECT_EQ(scaled, ci.snd_wscale > 0) TH_LOG("the server's shift %d", ci.snd_wscale);
	wnd = (uint32_t)last->window << ci.snd_wscale;
	if (scaled)
		EXPECT_LT(65535U, wnd) TH_LOG("the server's last window: %s", EXCH);
	if (ci.seqs)
		EXPECT_EQ(wnd, ci.snd_wnd) TH_LOG("client's send window %u, the server's %u",
						  ci.snd_wnd, wnd);
	close(cfd);
	close(afd);
}

TEST_F(conn, wscale_window_above_64k)
{
	wscale_bulk(_metadata, self, variant, true);
}

TEST_F(conn, wscale_window_unscaled)
{
	wscale_bulk(_metadata, self, variant, false);
}

/* ------------------------------------------------------------ ISNs */

#define NR_CONN		8
#define ISN_FAR		(1U << 24)

/* How many of the n - 1 steps between consecutive ISNs are large. */
static int isn_far_steps(const uint32_t *isn, int n)
{
	int i, far = 0;

	for (i = 1; i < n; i++) {
		int32_t d = (int32_t)(isn[i] - isn[i - 1]);

		if (d > (int32_t)ISN_FAR || d < -(int32_t)ISN_FAR)
			far++;
	}
	return far;
}

/*
 * Eight connections: sixteen different ISNs.  Consecutive connections are
 * milliseconds apart, in which a clock alone (RFC 6528's M: 4 us ticks,
 * TCP's 64 ns) moves far less than 2^24: at least half the steps between
 * consecutive ISNs being larger shows the keyed hash F of the 4-tuple
 * (a step of a random F is that small with probability 2^-7).
 */
TEST_F(conn, isn_distinct)
{
	struct etcp_cap_sel syn = { .mask = ETCP_TH_SYN | ETCP_TH_ACK, .flags = ETCP_TH_SYN };
	struct etcp_cap_sel synack = { .mask = ETCP_TH_SYN | ETCP_TH_ACK,
				       .flags = ETCP_TH_SYN | ETCP_TH_ACK };
	uint32_t cisn[NR_CONN], sisn[NR_CONN], all[2 * NR_CONN];
	int lfd, cfd[NR_CONN], afd[NR_CONN], i, j, dup = 0;
	long idx, sidx = 0, aidx = 0;

	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, NR_CONN);
	ASSERT_LE(0, lfd);
	for (i = 0; i < NR_CONN; i++) {
		cfd[i] = client_socket(self, variant, false);
		ASSERT_LE(0, cfd[i]);
		ASSERT_EQ(0, connect_to(cfd[i], ADDR_B, PORT))
			TH_LOG("connection %d: %s", i, EXCH);
		afd[i] = accept_wait(lfd, WAIT_MS);
		ASSERT_LE(0, afd[i]);
	}
	for (i = 0; i < NR_CONN; i++) {
		idx = etcp_cap_wait_match(self->cap, sidx, etcp_cap_sel_match, &syn, WAIT_MS);
		ASSERT_LE(0, idx) TH_LOG("SYN %d missing: %s", i, EXCH);
		cisn[i] = self->cap->seg[idx].seq;
		sidx = idx + 1;
		idx = etcp_cap_wait_match(self->cap, aidx, etcp_cap_sel_match, &synack, WAIT_MS);
		ASSERT_LE(0, idx) TH_LOG("SYN-ACK %d missing: %s", i, EXCH);
		sisn[i] = self->cap->seg[idx].seq;
		aidx = idx + 1;
		all[i] = cisn[i];
		all[NR_CONN + i] = sisn[i];
	}
	for (i = 0; i < 2 * NR_CONN; i++)
		for (j = 0; j < i; j++)
			if (all[j] == all[i])
				dup++;
	EXPECT_EQ(0, dup) TH_LOG("%d ISNs used twice: %s", dup, EXCH);
	EXPECT_LE(NR_CONN / 2, isn_far_steps(cisn, NR_CONN))
		TH_LOG("client ISNs look sequential: %s", EXCH);
	EXPECT_LE(NR_CONN / 2, isn_far_steps(sisn, NR_CONN))
		TH_LOG("server ISNs look sequential: %s", EXCH);

	for (i = 0; i < NR_CONN; i++) {
		close(afd[i]);
		close(cfd[i]);
	}
	close(lfd);
}

/*
 * RFC 6528: ISN = M + F(4-tuple, key).  The same 4-tuple again keeps F, so
 * the ISN moves by the clock M alone: by the time between the two SYNs
 * (capture timestamps) divided by the clock's period, on both sides.
 * A first connection resolves the neighbours, which would otherwise hold
 * the first SYN back after its ISN was chosen; rounds 1 and 2, 1 s apart,
 * are compared.  Tolerance: 10 %, for the time between choosing the ISN
 * and the segment reaching the capture (a vCPU of a loaded host may be
 * descheduled for tens of ms in between); a clock of twice or half the
 * rate is 500 ms off.
 */
TEST_F(conn, isn_same_tuple_advances_with_clock)
{
	struct etcp_cap_sel syn = { .mask = ETCP_TH_SYN | ETCP_TH_ACK, .flags = ETCP_TH_SYN };
	struct etcp_cap_sel synack = { .mask = ETCP_TH_SYN | ETCP_TH_ACK,
				       .flags = ETCP_TH_SYN | ETCP_TH_ACK };
	const struct etcp_cap_sel *sel[2] = { &syn, &synack };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	const struct etcp_cap_seg *s[3][2];
	int lfd, cfd, afd, round, side;
	long idx, from[2] = { 0, 0 };

	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	for (round = 0; round < 3; round++) {
		if (round == 2)
			pause_ms(1000);
		cfd = client_socket(self, variant, false);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(0, bind_reuse(cfd, ADDR_A, RAW_PORT))
			TH_LOG("round %d: bind to port %d: %s", round, RAW_PORT, strerror(errno));
		ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
		afd = accept_wait(lfd, WAIT_MS);
		ASSERT_LE(0, afd);
		for (side = 0; side < 2; side++) {
			idx = etcp_cap_wait_match(self->cap, from[side], etcp_cap_sel_match,
						  sel[side], WAIT_MS);
			ASSERT_LE(0, idx) TH_LOG("%s", EXCH);
			s[round][side] = &self->cap->seg[idx];
			from[side] = idx + 1;
		}
		/* Reset both ends (no TIME_WAIT): the 4-tuple is free again. */
		setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(afd);
		close(cfd);
	}
	for (side = 0; side < 2; side++) {
		int64_t dt = s[2][side]->t - s[1][side]->t;
		int64_t dseq = (int32_t)(s[2][side]->seq - s[1][side]->seq);
		int64_t clock = dseq * variant->isn_tick_ns;
		int64_t tol = dt / 10 > 10 * MS ? dt / 10 : 10 * MS;

		EXPECT_TRUE(dseq > 0 && llabs(clock - dt) <= tol)
			TH_LOG("%s ISN moved %lld (x %ld ns = %.3f ms) in %.3f ms: %s",
			       side ? "server" : "client", (long long)dseq,
			       variant->isn_tick_ns, clock / 1e6, dt / 1e6, EXCH);
	}
	close(lfd);
}

/* ------------------------------------------------------------ MSS */

/*
 * MTU 1400 on the veth (not below IPv6's minimum 1280): both SYNs
 * announce 1400 less the IP and transport headers, 100 less than on the
 * 1500-byte veth.
 */
TEST_F(conn, mss_from_route_mtu)
{
	int lfd, cfd, afd;
	struct sinfo ci, ai;

	ASSERT_EQ(0, set_mtu(self->ns->a, ETCP_NS_IF_A, 1400));
	ASSERT_EQ(0, set_mtu(self->ns->b, ETCP_NS_IF_B, 1400));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 2, WAIT_MS)) TH_LOG("%s", EXCH);

	EXPECT_EQ(ETCP_TH_SYN, self->cap->seg[0].flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(MSS - 100, self->cap->seg[0].mss) TH_LOG("SYN: %s", EXCH);
	EXPECT_EQ(ETCP_TH_SYN | ETCP_TH_ACK, self->cap->seg[1].flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(MSS - 100, self->cap->seg[1].mss) TH_LOG("SYN-ACK: %s", EXCH);
	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(MSS - 100U, ci.snd_mss);
	EXPECT_EQ(MSS - 100U, ai.snd_mss);
	close(afd);
	close(cfd);
	close(lfd);
}

/* ETCP_MAXSEG (TCP_MAXSEG) before connect() clamps what the SYN announces. */
TEST_F(conn, mss_maxseg_before_connect)
{
	int lfd, cfd, afd;
	struct sinfo ci, ai;

	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = client_with_opt(_metadata, self, variant, ETCP_MAXSEG, 536, 1000,
			      "MAXSEG of an unconnected socket without a clamp");
	ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 2, WAIT_MS)) TH_LOG("%s", EXCH);

	EXPECT_EQ(1000, self->cap->seg[0].mss) TH_LOG("SYN: %s", EXCH);
	EXPECT_EQ(MSS, self->cap->seg[1].mss) TH_LOG("SYN-ACK: %s", EXCH);
	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(1000U, ci.snd_mss) TH_LOG("client sends bigger segments than it asked for");
	EXPECT_EQ(1000U, ai.snd_mss) TH_LOG("child ignores the peer's MSS 1000");
	EXPECT_EQ(1000, sockopt_get(cfd, variant->proto, ETCP_MAXSEG));
	close(afd);
	close(cfd);
	close(lfd);
}

/*
 * A hand-built SYN without options: the listener answers with its own MSS
 * and, after a hand-built final ACK, the child sends with the default of
 * RFC 9293 3.7.1 (MUST-15): 536 (576 - 40) over IPv4, 1220 (1280 - 60)
 * over IPv6, as Linux TCP (tcp_request_sock_ipv6_ops.mss_clamp).  Netns
 * a has no socket for the raw 4-tuple and would reset the SYN-ACK: its
 * RSTs are dropped on output.
 */
TEST_F(conn, mss_default_without_option)
{
	struct etcp_cap_sel synack_sel = {
		.mask = ETCP_TH_SYN | ETCP_TH_ACK, .flags = ETCP_TH_SYN | ETCP_TH_ACK,
		.dport = RAW_PORT,
	};
	struct etcp_raw_seg seg = {
		.saddr = ADDR_A, .daddr = ADDR_B,
		.sport = RAW_PORT, .dport = PORT,
		.seq = 0x10000000, .flags = ETCP_TH_SYN, .window = 65535,
	};
	unsigned int dflt = variant->family == AF_INET6 ? 1220 : 536;
	const struct etcp_cap_seg *synack;
	struct etcp_cap_seg rcvd;
	int lfd, raw, afd;
	struct sinfo ai;
	long idx;

	ASSERT_EQ(0, ns_nft_drop(self->ns->a, variant->proto, "output", "@th,104,8 & 0x04 == 0x04"));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	raw = etcp_raw_open_af(self->ns->a, variant->proto, variant->family);
	ASSERT_LE(0, raw) TH_LOG("raw socket: %s", strerror(errno));

	ASSERT_EQ(0, etcp_raw_send(raw, &seg));
	idx = etcp_cap_wait_match(self->cap, 0, etcp_cap_sel_match, &synack_sel, WAIT_MS);
	ASSERT_LE(0, idx) TH_LOG("no SYN-ACK for a SYN without options: %s", EXCH);
	synack = &self->cap->seg[idx];
	EXPECT_EQ(0, self->cap->seg[0].optlen) TH_LOG("the raw SYN has options: %s", EXCH);
	EXPECT_EQ(MSS, synack->mss) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, synack->rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, synack->len);

	/* The raw socket got its copy of the SYN-ACK too. */
	ASSERT_EQ(0, etcp_raw_recv(raw, etcp_cap_sel_match, &synack_sel, &rcvd, WAIT_MS));
	EXPECT_EQ(synack->seq, rcvd.seq);
	EXPECT_EQ(synack->ack, rcvd.ack);
	/* TCP's may be a partial sum still (checksum offload on veth). */
	if (is_etcp(variant))
		EXPECT_EQ(1, rcvd.csum);

	seg.flags = ETCP_TH_ACK;
	seg.seq = 0x10000001;
	seg.ack = synack->seq + 1;
	ASSERT_EQ(0, etcp_raw_send(raw, &seg));
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd) TH_LOG("hand-built ACK did not complete the handshake: %s", EXCH);
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(ETCP_ESTABLISHED, ai.state);
	EXPECT_EQ(dflt, ai.snd_mss)
		TH_LOG("peer sent no MSS option, child's snd_mss is %u, not %u",
		       ai.snd_mss, dflt);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, 0, is_rst, NULL))
		TH_LOG("an RST got onto the wire: %s", EXCH);
	close(afd);
	close(raw);
	close(lfd);
}

/* ------------------------------------------------------------ refusal */

/* The RST answering a SYN to a closed port: <SEQ=0><ACK=ISN+1><RST,ACK>, window 0. */
static void check_refusal_rst(struct __test_metadata *_metadata,
			      FIXTURE_DATA(conn) *self, unsigned short cport)
{
	const struct etcp_cap_seg *syn, *rst;

	ASSERT_EQ(0, etcp_cap_wait(self->cap, 2, WAIT_MS)) TH_LOG("%s", EXCH);
	ASSERT_EQ(2U, quiet(self->cap, QUIET_MS))
		TH_LOG("more than SYN and RST: %s", EXCH);
	syn = &self->cap->seg[0];
	rst = &self->cap->seg[1];
	EXPECT_TRUE(syn->out && syn->sport == cport && syn->flags == ETCP_TH_SYN)
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(!rst->out && rst->sport == CLOSED_PORT && rst->dport == cport)
		TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_TH_RST | ETCP_TH_ACK, rst->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0U, rst->seq) TH_LOG("RST seq is not 0: %s", EXCH);
	EXPECT_EQ(syn->seq + 1, rst->ack) TH_LOG("RST ack is not ISN+1: %s", EXCH);
	EXPECT_EQ(0, rst->window) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, rst->len);
	EXPECT_EQ(5, rst->doff);
}

TEST_F(conn, refused_closed_port)
{
	struct stats a0, b0, a1, b1;
	unsigned short cport;
	int cfd;

	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a0));
		ASSERT_EQ(0, stats_read(self->ns->b, &b0));
	}
	EXPECT_EQ(-ECONNREFUSED, connect_to(cfd, ADDR_B, CLOSED_PORT))
		TH_LOG("%s", EXCH);
	cport = local_port(cfd);
	check_refusal_rst(_metadata, self, cport);
	EXPECT_EQ(ETCP_CLOSE, sock_state(cfd, variant->proto));

	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a1));
		ASSERT_EQ(0, stats_read(self->ns->b, &b1));
		EXPECT_EQ(stat_of(&b0, "NoSocket") + 1, stat_of(&b1, "NoSocket"));
		EXPECT_EQ(stat_of(&b0, "OutRsts") + 1, stat_of(&b1, "OutRsts"));
		EXPECT_EQ(stat_of(&b0, "OutSegs") + 1, stat_of(&b1, "OutSegs"));
		EXPECT_EQ(stat_of(&b0, "InSegs") + 1, stat_of(&b1, "InSegs"));
		EXPECT_EQ(stat_of(&a0, "ActiveOpens") + 1, stat_of(&a1, "ActiveOpens"));
		EXPECT_EQ(stat_of(&a0, "AttemptFails") + 1, stat_of(&a1, "AttemptFails"));
		EXPECT_EQ(stat_of(&a0, "OutRsts"), stat_of(&a1, "OutRsts"))
			TH_LOG("the client answered the RST");
	}
	close(cfd);
}

/*
 * Non-blocking: EINPROGRESS, then poll() reports the failure as tcp_poll()
 * does for a reset socket (ERR and HUP; OUT too, since the socket is shut
 * down for sending), SO_ERROR is ECONNREFUSED once and then 0.
 */
TEST_F(conn, refused_nonblocking)
{
	unsigned short cport;
	int cfd, ev;

	cfd = client_socket(self, variant, true);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(-EINPROGRESS, connect_to(cfd, ADDR_B, CLOSED_PORT));
	cport = local_port(cfd);
	ev = poll_one(cfd, POLLIN | POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLERR | POLLHUP, ev & (POLLERR | POLLHUP))
		TH_LOG("poll revents 0x%x: %s", ev, EXCH);
	EXPECT_EQ(POLLOUT, ev & POLLOUT) TH_LOG("poll revents 0x%x", ev);
	EXPECT_EQ(ECONNREFUSED, so_error(cfd));
	EXPECT_EQ(0, so_error(cfd)) TH_LOG("SO_ERROR not cleared by reading it");
	check_refusal_rst(_metadata, self, cport);
	close(cfd);
}

/*
 * The RST answering a SYN for no socket carries the SYN's DSCP, all six
 * bits (TOS or traffic class 0xb8: DSCP 46, EF, ECN clear), as Linux's
 * ip_send_unicast_reply() and tcp_v6_send_reset() reflect it.
 */
#define TOS_EF		0xb8

TEST_F(conn, refused_reflects_dscp)
{
	const bool v6 = variant->family == AF_INET6;
	const struct etcp_cap_seg *syn, *rst;
	int cfd;

	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, sockopt_set(cfd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
				 v6 ? IPV6_TCLASS : IP_TOS, TOS_EF));
	EXPECT_EQ(-ECONNREFUSED, connect_to(cfd, ADDR_B, CLOSED_PORT))
		TH_LOG("%s", EXCH);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 2, WAIT_MS)) TH_LOG("%s", EXCH);
	syn = &self->cap->seg[0];
	rst = &self->cap->seg[1];
	ASSERT_TRUE(syn->out && syn->flags == ETCP_TH_SYN) TH_LOG("%s", EXCH);
	ASSERT_TRUE(!rst->out && (rst->flags & ETCP_TH_RST)) TH_LOG("%s", EXCH);
	EXPECT_EQ(TOS_EF, syn->tos) TH_LOG("the SYN's TOS: %s", EXCH);
	EXPECT_EQ(TOS_EF, rst->tos) TH_LOG("the RST's TOS: %s", EXCH);
	close(cfd);
}

/* ------------------------------------------------------------ SYN timeout */

#define DROP_SYN	"@th,104,8 & 0x12 == 0x02"	/* SYN without ACK */
#define DROP_PURE_ACK	"@th,104,8 == 0x10"		/* ACK alone */

static bool near_ms(int64_t ns, int64_t want_ms, int64_t tol_ms)
{
	return llabs(ns - want_ms * MS) <= tol_ms * MS;
}

/*
 * The server drops SYNs; etcp_syn_retries=2 (tcp_syn_retries for TCP):
 * SYNs at 0, 1 and 3 s with the same sequence number, connect() fails
 * ETIMEDOUT at 7 s, no RST.  While it waits, ETCP_INFO and the row of
 * /proc/net/{etcp,tcp}{,6} (st 02, tr 1) count the retransmissions.
 */
TEST_F_TIMEOUT(conn, syn_timeout, 60)
{
	struct stats a0, a1;
	unsigned short cport;
	struct sinfo si;
	int64_t t_err;
	int lfd, cfd, k, ev;
	long idx[3], from = 0;
	struct proc_row r;

	ASSERT_EQ(0, ns_nft_drop(self->ns->b, variant->proto, "input", DROP_SYN));
	ASSERT_EQ(0, proto_sysctl_set(self->ns->a, variant->proto, "syn_retries", 2));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = client_socket(self, variant, true);
	ASSERT_LE(0, cfd);
	if (is_etcp(variant))
		ASSERT_EQ(0, stats_read(self->ns->a, &a0));
	ASSERT_EQ(-EINPROGRESS, connect_to(cfd, ADDR_B, PORT));
	cport = local_port(cfd);

	for (k = 0; k < 3; k++) {
		idx[k] = etcp_cap_wait_match(self->cap, from, from_port, &cport, 3000);
		ASSERT_LE(0, idx[k]) TH_LOG("SYN #%d not sent: %s", k, EXCH);
		from = idx[k] + 1;
		EXPECT_EQ(0, wait_state(cfd, variant->proto, ETCP_SYN_SENT, k, 1000))
			TH_LOG("after SYN #%d: state/retransmits not SYN_SENT/%d", k, k);
		EXPECT_EQ(0, wait_row(self->ns->a, PROC, cport, PORT,
				      ETCP_SYN_SENT, 1, k, 1000, &r))
			TH_LOG("after SYN #%d: row st %02X tr %u retrnsmt %u, want 02 1 %d",
			       k, r.st, r.tr, r.retr, k);
	}

	ev = poll_one(cfd, POLLOUT, 10000);
	t_err = etcp_cap_now(self->cap);
	ASSERT_TRUE(ev & POLLERR) TH_LOG("connect did not fail within 10 s: %s", EXCH);
	EXPECT_EQ(ETIMEDOUT, so_error(cfd));
	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &si));
	EXPECT_EQ(ETCP_CLOSE, si.state);

	etcp_cap_poll(self->cap);
	ASSERT_EQ(3U, self->cap->n) TH_LOG("not exactly three SYNs: %s", EXCH);
	TH_LOG("SYNs at +0, +%.3f, +%.3f s, ETIMEDOUT at +%.3f s",
	       (self->cap->seg[1].t - self->cap->seg[0].t) / 1e9,
	       (self->cap->seg[2].t - self->cap->seg[0].t) / 1e9,
	       (t_err - self->cap->seg[0].t) / 1e9);
	for (k = 0; k < 3; k++) {
		const struct etcp_cap_seg *s = &self->cap->seg[idx[k]];

		EXPECT_TRUE(s->out && s->flags == ETCP_TH_SYN && s->rseq == 0 &&
			    s->mss == MSS)
			TH_LOG("segment %d is not the same SYN again: %s", k, EXCH);
	}
	EXPECT_TRUE(near_ms(self->cap->seg[1].t - self->cap->seg[0].t, 1000, GAP_TOL_MS))
		TH_LOG("first retransmission not 1 s after the SYN: %s", EXCH);
	EXPECT_TRUE(near_ms(self->cap->seg[2].t - self->cap->seg[1].t, 2000, GAP_TOL_MS))
		TH_LOG("second retransmission not 2 s after the first: %s", EXCH);
	EXPECT_TRUE(near_ms(t_err - self->cap->seg[0].t, 7000, END_TOL_MS))
		TH_LOG("ETIMEDOUT %.3f s after the first SYN, not 7 s: %s",
		       (t_err - self->cap->seg[0].t) / 1e9, EXCH);
	/* The SYNs never reached the listener. */
	EXPECT_EQ(0, row_find(self->ns->b, PROC, PORT, cport, -1, &r));

	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a1));
		EXPECT_EQ(stat_of(&a0, "SynRetrans") + 2, stat_of(&a1, "SynRetrans"));
		EXPECT_EQ(stat_of(&a0, "AttemptFails") + 1, stat_of(&a1, "AttemptFails"));
		EXPECT_EQ(stat_of(&a0, "OutRsts"), stat_of(&a1, "OutRsts"));
	}
	close(cfd);
	close(lfd);
}

/*
 * RFC 6298 5.7 (Linux: TCP_TIMEOUT_FALLBACK): a handshake that gives no
 * RTT sample - the SYN, or the SYN-ACK, had to be sent again, and Karn's
 * rule throws the ambiguous measurement away - leaves the RTO at 3 s, not
 * at 1 s or the SYN's backed-off value.  First the client's first SYN is
 * lost: the client has no sample, the server (its SYN-ACK went once)
 * has one.  Then the server's SYN-ACKs are lost until the client's SYN
 * went again: neither has one.
 * TCP remembers the first connection's RTT per destination (tcp_metrics)
 * and would start the second from it; etcp keeps no such cache, so TCP's
 * is switched off to compare the rule itself.
 */
TEST_F_TIMEOUT(conn, rto_fallback_without_sample, 60)
{
	static const char * const drop[2][2] = {
		{ "b", DROP_SYN }, { "a", "@th,104,8 & 0x12 == 0x12" },
	};
	struct sinfo ci, ai;
	unsigned short cport;
	int lfd, cfd, afd, k, ev;
	size_t from;
	long idx;

	ASSERT_EQ(0, ns_sysctl_write(self->ns->a, "net/ipv4/tcp_no_metrics_save", "1"));
	ASSERT_EQ(0, ns_sysctl_write(self->ns->b, "net/ipv4/tcp_no_metrics_save", "1"));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	for (k = 0; k < 2; k++) {
		int nsfd = drop[k][0][0] == 'a' ? self->ns->a : self->ns->b;
		uint8_t flags = k ? ETCP_TH_SYN | ETCP_TH_ACK : ETCP_TH_SYN;
		struct etcp_cap_sel first = { .mask = 0xff, .flags = flags };

		ASSERT_EQ(0, ns_nft_drop(nsfd, variant->proto, "input", drop[k][1]));
		from = etcp_cap_poll(self->cap);
		cfd = client_socket(self, variant, true);
		ASSERT_LE(0, cfd);
		ASSERT_EQ(-EINPROGRESS, connect_to(cfd, ADDR_B, PORT));
		cport = local_port(cfd);
		if (k)
			first.dport = cport;
		else
			first.sport = cport;
		/* The first one is lost; let its retransmission through. */
		idx = etcp_cap_wait_match(self->cap, from, etcp_cap_sel_match, &first, 3000);
		ASSERT_LE(0, idx) TH_LOG("case %d: nothing to lose: %s", k, EXCH);
		if (k) {
			/*
			 * Not before the client's SYN went again: its timer
			 * and the server's SYN-ACK timer run out in the same
			 * tick, and a SYN-ACK let through first would give the
			 * client a sample of about 1 s.
			 */
			struct etcp_cap_sel syn = {
				.mask = 0xff, .flags = ETCP_TH_SYN, .sport = cport,
			};

			idx = etcp_cap_find(self->cap, from, etcp_cap_sel_match, &syn);
			ASSERT_LE(0, idx);
			idx = etcp_cap_wait_match(self->cap, idx + 1, etcp_cap_sel_match,
						  &syn, 3000);
			ASSERT_LE(0, idx) TH_LOG("the client's SYN did not go again: %s", EXCH);
		}
		ASSERT_EQ(0, ns_nft_flush(nsfd));
		ev = poll_one(cfd, POLLOUT, 10000);
		ASSERT_EQ(POLLOUT, ev & (POLLOUT | POLLERR)) TH_LOG("case %d: %s", k, EXCH);
		afd = accept_wait(lfd, WAIT_MS);
		ASSERT_LE(0, afd);
		ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
		ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
		EXPECT_EQ(3000000U, ci.rto) TH_LOG("case %d: client RTO %u us: %s", k, ci.rto, EXCH);
		if (k) {
			EXPECT_EQ(3000000U, ai.rto) TH_LOG("server RTO %u us: %s", ai.rto, EXCH);
		} else {
			EXPECT_GT(1000000U, ai.rto) TH_LOG("server RTO %u us: %s", ai.rto, EXCH);
		}
		close(afd);
		close(cfd);
	}
	close(lfd);
}

/*
 * ETCP_SYNCNT=1 (TCP_SYNCNT) beats etcp_syn_retries=3: two SYNs, 1 s
 * apart, and a blocking connect() returns ETIMEDOUT at 3 s.
 */
TEST_F_TIMEOUT(conn, syncnt_overrides_sysctl, 60)
{
	int cfd, ret;
	int64_t t_ret;

	ASSERT_EQ(0, ns_nft_drop(self->ns->b, variant->proto, "input", DROP_SYN));
	ASSERT_EQ(0, proto_sysctl_set(self->ns->a, variant->proto, "syn_retries", 3));
	cfd = client_with_opt(_metadata, self, variant, ETCP_SYNCNT, 3, 1,
			      "SYNCNT of a fresh socket is not the sysctl's 3");

	ret = connect_to(cfd, ADDR_B, PORT);
	t_ret = etcp_cap_now(self->cap);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s", EXCH);

	etcp_cap_poll(self->cap);
	ASSERT_EQ(2U, self->cap->n) TH_LOG("not exactly two SYNs: %s", EXCH);
	TH_LOG("SYNs at +0, +%.3f s, ETIMEDOUT at +%.3f s",
	       (self->cap->seg[1].t - self->cap->seg[0].t) / 1e9,
	       (t_ret - self->cap->seg[0].t) / 1e9);
	EXPECT_TRUE(self->cap->seg[0].flags == ETCP_TH_SYN &&
		    self->cap->seg[1].flags == ETCP_TH_SYN &&
		    self->cap->seg[1].rseq == 0)
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(near_ms(self->cap->seg[1].t - self->cap->seg[0].t, 1000, GAP_TOL_MS))
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(near_ms(t_ret - self->cap->seg[0].t, 3000, END_TOL_MS))
		TH_LOG("ETIMEDOUT %.3f s after the first SYN, not 3 s: %s",
		       (t_ret - self->cap->seg[0].t) / 1e9, EXCH);
	close(cfd);
}

/*
 * Netns b ignores a's neighbour solicitations (ARP, or NDP's neighbour
 * solicitations, dropped at b's input; a sends ten, one a second): the
 * first SYN waits in the queue of the neighbour being resolved.  When the
 * timer fires at 1 s, Linux TCP does not queue a second copy behind it
 * (skb_still_in_host_queue(): TCPSpuriousRtxHostQueues, etcp's
 * SpuriousRtxHostQueues) and backs off as if it had sent it.  Once b
 * answers, the one SYN leaves and the connection is made: one SYN on the
 * wire, none counted as retransmitted.  A second copy would have left with
 * the first, a duplicate SYN drawing a duplicate SYN-ACK.
 */
#define ND_BLOCK4	"add table arp etcp_nd; "				\
			"add chain arp etcp_nd in { type filter hook input priority 0; }; " \
			"add rule arp etcp_nd in drop"
#define ND_BLOCK6	"add table ip6 etcp_nd; "				\
			"add chain ip6 etcp_nd in { type filter hook input priority 0; }; " \
			"add rule ip6 etcp_nd in icmpv6 type nd-neighbor-solicit drop"

TEST_F_TIMEOUT(conn, syn_held_by_neighbour, 30)
{
	const bool v6 = variant->family == AF_INET6;
	const char *held = is_etcp(variant) ? "SpuriousRtxHostQueues" :
					      "TCPSpuriousRtxHostQueues";
	const char *resent = is_etcp(variant) ? "SynRetrans" : "TCPSynRetrans";
	long held0, resent0;
	unsigned short cport;
	int lfd, cfd, syns = 0;
	size_t i;

	ASSERT_EQ(0, ns_sysctl_write(self->ns->a, v6 ?
				     "net/ipv6/neigh/" ETCP_NS_IF_A "/mcast_solicit" :
				     "net/ipv4/neigh/" ETCP_NS_IF_A "/mcast_solicit", "10"));
	ASSERT_EQ(0, ns_nft(self->ns->b, v6 ? ND_BLOCK6 : ND_BLOCK4));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = client_socket(self, variant, true);
	ASSERT_LE(0, cfd);
	held0 = read_counter(self->ns->a, variant->proto, held);
	resent0 = read_counter(self->ns->a, variant->proto, resent);
	ASSERT_LE(0, held0) TH_LOG("no counter %s", held);
	ASSERT_EQ(-EINPROGRESS, connect_to(cfd, ADDR_B, PORT));
	cport = local_port(cfd);

	EXPECT_LE(held0 + 1, wait_counter(self->ns->a, variant->proto, held, held0 + 1, 3000))
		TH_LOG("the retransmission at 1 s did not find the SYN held: %s", EXCH);
	ASSERT_EQ(0, ns_nft(self->ns->b, v6 ? "delete table ip6 etcp_nd" :
					      "delete table arp etcp_nd"));
	ASSERT_TRUE(poll_one(cfd, POLLOUT, 5000) & POLLOUT)
		TH_LOG("not connected once b answers: %s", EXCH);
	EXPECT_EQ(0, so_error(cfd));

	etcp_cap_poll(self->cap);
	for (i = 0; i < self->cap->n; i++)
		syns += self->cap->seg[i].out && self->cap->seg[i].sport == cport &&
			(self->cap->seg[i].flags & ETCP_TH_SYN);
	EXPECT_EQ(1, syns) TH_LOG("not one SYN on the wire: %s", EXCH);
	EXPECT_EQ(resent0, read_counter(self->ns->a, variant->proto, resent));
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ SYN-ACK retries */

/*
 * The server drops the client's pure ACKs; etcp_synack_retries=2: the
 * client is ESTABLISHED after the first SYN-ACK, the request in the
 * server retransmits its SYN-ACK at 1 and 3 s (same sequence number) and
 * is dropped at 7 s (ReqTimeouts).  The client answers every SYN-ACK with
 * <SEQ=ISS+1><ACK=ISS'+1>: to the first as the end of the handshake, to
 * the others as a challenge ACK (RFC 5961 4.2, a SYN on a synchronized
 * connection), which is the ACK the server is missing.
 */
TEST_F_TIMEOUT(conn, synack_retries_when_ack_lost, 60)
{
	struct stats a0, b0, a1, b1;
	int lfd, cfd, afd, k;
	unsigned short cport;
	long sa[3], ack, from = 0;
	int64_t t_gone;
	struct proc_row r;

	ASSERT_EQ(0, ns_nft_drop(self->ns->b, variant->proto, "input", DROP_PURE_ACK));
	ASSERT_EQ(0, proto_sysctl_set(self->ns->b, variant->proto, "synack_retries", 2));
	lfd = listen_on(self->ns->b, variant->proto, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = client_socket(self, variant, false);
	ASSERT_LE(0, cfd);
	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a0));
		ASSERT_EQ(0, stats_read(self->ns->b, &b0));
	}
	ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	cport = local_port(cfd);
	{
		struct etcp_cap_sel synack = {
			.mask = 0xff, .flags = ETCP_TH_SYN | ETCP_TH_ACK,
			.sport = PORT, .dport = cport,
		};
		struct etcp_cap_sel pure_ack = {
			.mask = 0xff, .flags = ETCP_TH_ACK, .sport = cport,
		};

		for (k = 0; k < 3; k++) {
			sa[k] = etcp_cap_wait_match(self->cap, from, etcp_cap_sel_match,
						    &synack, 3000);
			ASSERT_LE(0, sa[k]) TH_LOG("SYN-ACK #%d missing: %s", k, EXCH);
			ack = etcp_cap_wait_match(self->cap, sa[k] + 1, etcp_cap_sel_match,
						  &pure_ack, WAIT_MS);
			ASSERT_LE(0, ack) TH_LOG("no ACK for SYN-ACK #%d: %s", k, EXCH);
			from = ack + 1;
			EXPECT_EQ(0, wait_row(self->ns->b, PROC, PORT, cport,
					      ETCP_SYN_RECV, 1, k, 1000, &r))
				TH_LOG("after SYN-ACK #%d: request row st %02X tr %u retrnsmt %u",
				       k, r.st, r.tr, r.retr);
		}
	}
	/* The request goes at 1 + 2 + 4 s. */
	ASSERT_EQ(0, wait_row(self->ns->b, PROC, PORT, cport, ETCP_SYN_RECV,
			      -1, -1, 0, &r)) TH_LOG("request row gone early");
	while (row_find(self->ns->b, PROC, PORT, cport, ETCP_SYN_RECV, &r) == 1 &&
	       etcp_cap_now(self->cap) - self->cap->seg[sa[0]].t < 10000 * MS)
		pause_ms(20);
	t_gone = etcp_cap_now(self->cap);
	TH_LOG("SYN-ACKs at +0, +%.3f, +%.3f s, request gone at +%.3f s",
	       (self->cap->seg[sa[1]].t - self->cap->seg[sa[0]].t) / 1e9,
	       (self->cap->seg[sa[2]].t - self->cap->seg[sa[0]].t) / 1e9,
	       (t_gone - self->cap->seg[sa[0]].t) / 1e9);
	EXPECT_TRUE(near_ms(t_gone - self->cap->seg[sa[0]].t, 7000, END_TOL_MS))
		TH_LOG("request expired %.3f s after the first SYN-ACK, not 7 s",
		       (t_gone - self->cap->seg[sa[0]].t) / 1e9);

	ASSERT_EQ(7U, quiet(self->cap, QUIET_MS))
		TH_LOG("not SYN + 3 x (SYN-ACK, ACK): %s", EXCH);
	for (k = 0; k < 3; k++) {
		const struct etcp_cap_seg *s = &self->cap->seg[1 + 2 * k];
		const struct etcp_cap_seg *a = s + 1;

		EXPECT_TRUE(s->flags == (ETCP_TH_SYN | ETCP_TH_ACK) && s->rseq == 0 &&
			    s->rack == 1 && s->mss == MSS)
			TH_LOG("segment %d is not the same SYN-ACK: %s", 1 + 2 * k, EXCH);
		EXPECT_TRUE(a->out && a->flags == ETCP_TH_ACK && a->rseq == 1 &&
			    a->rack == 1 && a->len == 0)
			TH_LOG("segment %d is not <SEQ=ISS+1><ACK=ISS'+1>: %s", 2 + 2 * k, EXCH);
	}
	EXPECT_TRUE(near_ms(self->cap->seg[sa[1]].t - self->cap->seg[sa[0]].t, 1000, GAP_TOL_MS))
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(near_ms(self->cap->seg[sa[2]].t - self->cap->seg[sa[1]].t, 2000, GAP_TOL_MS))
		TH_LOG("%s", EXCH);

	/* The client never noticed; the server has nothing to accept. */
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(cfd, variant->proto));
	ASSERT_EQ(0, fcntl(lfd, F_SETFL, O_NONBLOCK));
	afd = accept(lfd, NULL, NULL);
	EXPECT_EQ(-1, afd);
	EXPECT_EQ(EAGAIN, errno);

	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a1));
		ASSERT_EQ(0, stats_read(self->ns->b, &b1));
		EXPECT_EQ(stat_of(&b0, "ReqTimeouts") + 1, stat_of(&b1, "ReqTimeouts"));
		EXPECT_EQ(stat_of(&b0, "SynRetrans") + 2, stat_of(&b1, "SynRetrans"));
		EXPECT_EQ(stat_of(&b0, "OutRsts"), stat_of(&b1, "OutRsts"));
		EXPECT_EQ(stat_of(&a0, "ChallengeAcks") + 2, stat_of(&a1, "ChallengeAcks"))
			TH_LOG("the ACKs to retransmitted SYN-ACKs are not challenge ACKs");
	}
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ simultaneous open */

/*
 * RFC 9293 figure 8: both ends connect to each other; netem's 100 ms on
 * both sides makes the SYNs cross.  SYN, SYN, SYN-ACK, SYN-ACK: 0/-,
 * 0/-, 0/1, 0/1, and nothing else.
 */
TEST_F(conn, simultaneous_open)
{
	struct sinfo ia, ib;
	struct sockaddr_storage peer;
	int sa, sb, i, ev;
	size_t nseg;

	ASSERT_EQ(0, netem_delay(self->ns->a, ETCP_NS_IF_A, 100));
	ASSERT_EQ(0, netem_delay(self->ns->b, ETCP_NS_IF_B, 100));
	sa = client_socket(self, variant, true);
	ASSERT_LE(0, sa);
	sb = ns_socket(self->ns->b, variant->family, SOCK_STREAM | SOCK_NONBLOCK, variant->proto);
	ASSERT_LE(0, sb);
	ASSERT_EQ(0, bind_reuse(sa, ADDR_A, 6001));
	ASSERT_EQ(0, bind_reuse(sb, ADDR_B, 6002));
	ASSERT_EQ(-EINPROGRESS, connect_to(sa, ADDR_B, 6002));
	ASSERT_EQ(-EINPROGRESS, connect_to(sb, ADDR_A, 6001));

	ev = poll_one(sa, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev) TH_LOG("a: revents 0x%x: %s", ev, EXCH);
	ev = poll_one(sb, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev) TH_LOG("b: revents 0x%x: %s", ev, EXCH);
	EXPECT_EQ(0, so_error(sa));
	EXPECT_EQ(0, so_error(sb));

	/*
	 * Linux TCP also acknowledges each SYN-ACK (its SYN is old data to a
	 * socket in SYN_RECV, answered with a duplicate ACK); etcp sends
	 * figure 8's four segments only.  Anything more would follow within
	 * 100 ms (netem) of the last.
	 */
	nseg = is_etcp(variant) ? 4 : 6;
	ASSERT_EQ(0, etcp_cap_wait(self->cap, nseg, WAIT_MS)) TH_LOG("%s", EXCH);
	ASSERT_EQ(nseg, quiet(self->cap, 500))
		TH_LOG("not exactly %zu segments: %s", nseg, EXCH);
	for (i = 4; i < (int)nseg; i++) {
		const struct etcp_cap_seg *s = &self->cap->seg[i];

		EXPECT_TRUE(s->flags == ETCP_TH_ACK && s->rseq == 1 && s->rack == 1)
			TH_LOG("TCP's segment %d is not its ACK 1/1: %s", i, EXCH);
	}
	if (nseg == 6)
		EXPECT_NE(self->cap->seg[4].out, self->cap->seg[5].out) TH_LOG("%s", EXCH);
	for (i = 0; i < 4; i++) {
		const struct etcp_cap_seg *s = &self->cap->seg[i];
		uint8_t flags = i < 2 ? ETCP_TH_SYN : ETCP_TH_SYN | ETCP_TH_ACK;

		EXPECT_EQ(flags, s->flags) TH_LOG("segment %d: %s", i, EXCH);
		EXPECT_EQ(0, s->rseq) TH_LOG("segment %d: %s", i, EXCH);
		EXPECT_EQ(i < 2 ? -1 : 1, s->rack) TH_LOG("segment %d: %s", i, EXCH);
		EXPECT_EQ(MSS, s->mss) TH_LOG("segment %d: %s", i, EXCH);
	}
	EXPECT_NE(self->cap->seg[0].out, self->cap->seg[1].out)
		TH_LOG("the SYNs did not cross: %s", EXCH);
	EXPECT_NE(self->cap->seg[2].out, self->cap->seg[3].out) TH_LOG("%s", EXCH);

	ASSERT_EQ(0, sinfo_get(sa, variant->proto, &ia));
	ASSERT_EQ(0, sinfo_get(sb, variant->proto, &ib));
	EXPECT_EQ(ETCP_ESTABLISHED, ia.state);
	EXPECT_EQ(ETCP_ESTABLISHED, ib.state);
	if (ia.seqs) {
		EXPECT_EQ(ia.iss, ib.irs);
		EXPECT_EQ(ib.iss, ia.irs);
		EXPECT_EQ(ia.iss + 1, ia.snd_nxt);
		EXPECT_EQ(ib.iss + 1, ia.rcv_nxt);
	}
	ASSERT_LT(0, sock_addr(sa, true, &peer));
	EXPECT_TRUE(sockaddr_is(&peer, ADDR_B, 6002));
	close(sa);
	close(sb);
}

/* ------------------------------------------------------------ SYN_SENT input */

/*
 * A client in SYN_SENT toward a server that hears nothing (netns b drops
 * all input of the protocol), and a raw socket in netns b to forge the
 * server's side.  The client's ISS comes from its SYN on the wire (and,
 * for etcp, must equal ETCP_INFO's).
 */
struct synsent {
	int cfd, raw;
	unsigned short cport;
	uint32_t iss;
	const char *caddr, *saddr;	/* the client's and the server's */
	uint16_t mss;			/* what the forged SYN-ACKs announce */
};

static void synsent_setup(struct __test_metadata *_metadata,
			  FIXTURE_DATA(conn) *self,
			  const FIXTURE_VARIANT(conn) *variant, struct synsent *ss)
{
	struct sinfo si;
	long idx;

	ASSERT_EQ(0, ns_nft_drop(self->ns->b, variant->proto, "input", ""));
	ss->caddr = ADDR_A;
	ss->saddr = ADDR_B;
	ss->mss = MSS;
	ss->raw = etcp_raw_open_af(self->ns->b, variant->proto, variant->family);
	ASSERT_LE(0, ss->raw) TH_LOG("raw socket: %s", strerror(errno));
	ss->cfd = client_socket(self, variant, true);
	ASSERT_LE(0, ss->cfd);
	ASSERT_EQ(-EINPROGRESS, connect_to(ss->cfd, ADDR_B, PORT));
	ss->cport = local_port(ss->cfd);
	idx = etcp_cap_wait_match(self->cap, 0, from_port, &ss->cport, WAIT_MS);
	ASSERT_LE(0, idx) TH_LOG("no SYN: %s", EXCH);
	ss->iss = self->cap->seg[idx].seq;
	ASSERT_EQ(0, sinfo_get(ss->cfd, variant->proto, &si));
	EXPECT_EQ(ETCP_SYN_SENT, si.state);
	if (si.seqs)
		EXPECT_EQ(ss->iss, si.iss) TH_LOG("ETCP_INFO iss is not the SYN's");
}

/* Send a forged server segment to the client. */
static int forge(const struct synsent *ss, uint8_t flags, uint32_t seq,
		 uint32_t ack)
{
	uint8_t mss[4];
	struct etcp_raw_seg seg = {
		.saddr = ss->saddr, .daddr = ss->caddr,
		.sport = PORT, .dport = ss->cport,
		.seq = seq, .ack = ack, .flags = flags, .window = 65535,
	};

	if (flags & ETCP_TH_SYN) {
		seg.opts = mss;
		seg.optlen = etcp_raw_opt_mss(mss, ss->mss);
	}
	return etcp_raw_send(ss->raw, &seg);
}

/* The client's next segment other than a SYN, at or after *from. */
static const struct etcp_cap_seg *client_reply(FIXTURE_DATA(conn) *self,
					       const struct synsent *ss, long *from)
{
	long idx = etcp_cap_wait_match(self->cap, *from, reply_from, &ss->cport, WAIT_MS);

	if (idx < 0)
		return NULL;
	*from = idx + 1;
	return &self->cap->seg[idx];
}

#define SRV_ISN		0x50000000U

/* Complete the handshake with a proper forged SYN-ACK: ESTABLISHED, ACK. */
static void synsent_finish(struct __test_metadata *_metadata,
			   FIXTURE_DATA(conn) *self,
			   const FIXTURE_VARIANT(conn) *variant,
			   const struct synsent *ss, long *from)
{
	const struct etcp_cap_seg *r;
	struct sinfo si;

	ASSERT_EQ(0, forge(ss, ETCP_TH_SYN | ETCP_TH_ACK, SRV_ISN, ss->iss + 1));
	r = client_reply(self, ss, from);
	ASSERT_NE(NULL, r) TH_LOG("no ACK for a good SYN-ACK: %s", EXCH);
	EXPECT_TRUE(r->flags == ETCP_TH_ACK && r->seq == ss->iss + 1 &&
		    r->ack == SRV_ISN + 1)
		TH_LOG("not <SEQ=ISS+1><ACK=%#x><ACK>: %s", SRV_ISN + 1, EXCH);
	EXPECT_EQ(POLLOUT, poll_one(ss->cfd, POLLOUT, WAIT_MS));
	EXPECT_EQ(0, so_error(ss->cfd));
	ASSERT_EQ(0, sinfo_get(ss->cfd, variant->proto, &si));
	EXPECT_EQ(ETCP_ESTABLISHED, si.state);
	if (si.seqs) {
		EXPECT_EQ(SRV_ISN, si.irs);
		EXPECT_EQ(SRV_ISN + 1, si.rcv_nxt);
	}
}

/*
 * RFC 9293 3.10.7.3: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset
 * <SEQ=SEG.ACK><CTL=RST> (unless the RST bit is set, if so drop the
 * segment)"; the connection attempt goes on and can still complete.
 */
TEST_F(conn, synsent_unacceptable_ack)
{
	const struct etcp_cap_seg *r;
	struct synsent ss;
	long from = 0;

	synsent_setup(_metadata, self, variant, &ss);

	/* A SYN-ACK acknowledging beyond SND.NXT. */
	ASSERT_EQ(0, forge(&ss, ETCP_TH_SYN | ETCP_TH_ACK, SRV_ISN, ss.iss + 2));
	r = client_reply(self, &ss, &from);
	ASSERT_NE(NULL, r) TH_LOG("no RST for a SYN-ACK with ack ISS+2: %s", EXCH);
	EXPECT_EQ(ETCP_TH_RST, r->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(ss.iss + 2, r->seq) TH_LOG("RST is not <SEQ=SEG.ACK>: %s", EXCH);
	EXPECT_EQ(0, r->len);
	EXPECT_EQ(ETCP_SYN_SENT, sock_state(ss.cfd, variant->proto));

	/* A bare ACK of ISS, acknowledging nothing we sent. */
	ASSERT_EQ(0, forge(&ss, ETCP_TH_ACK, SRV_ISN, ss.iss));
	r = client_reply(self, &ss, &from);
	ASSERT_NE(NULL, r) TH_LOG("no RST for an ACK of ISS: %s", EXCH);
	EXPECT_EQ(ETCP_TH_RST, r->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(ss.iss, r->seq) TH_LOG("%s", EXCH);

	/* An RST with a bad ACK is dropped: no reply, no refusal. */
	ASSERT_EQ(0, forge(&ss, ETCP_TH_RST | ETCP_TH_ACK, 0, ss.iss + 2));
	EXPECT_EQ(ETCP_SYN_SENT, sock_state(ss.cfd, variant->proto));

	/* Processed in order after the RST: the attempt is still alive. */
	synsent_finish(_metadata, self, variant, &ss, &from);
	EXPECT_EQ(3U, etcp_cap_count(self->cap, 0, reply_from, &ss.cport))
		TH_LOG("client sent other than RST, RST, ACK: %s", EXCH);
	close(ss.cfd);
	close(ss.raw);
}

/* "If the RST bit is set [and no ACK] ... drop the segment and return." */
TEST_F(conn, synsent_rst_without_ack_ignored)
{
	const struct etcp_cap_seg *r;
	struct synsent ss;
	long from = 0;

	synsent_setup(_metadata, self, variant, &ss);

	ASSERT_EQ(0, forge(&ss, ETCP_TH_RST, 0, 0));
	/* An ack field that would be right, but the ACK bit is off. */
	ASSERT_EQ(0, forge(&ss, ETCP_TH_RST, SRV_ISN, ss.iss + 1));
	/* Something the client answers, to know the RSTs were processed. */
	ASSERT_EQ(0, forge(&ss, ETCP_TH_ACK, SRV_ISN, ss.iss));
	r = client_reply(self, &ss, &from);
	ASSERT_NE(NULL, r) TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_TH_RST, r->flags)
		TH_LOG("the first reply is not the RST for the ACK: %s", EXCH);
	EXPECT_EQ(ss.iss, r->seq);
	EXPECT_EQ(ETCP_SYN_SENT, sock_state(ss.cfd, variant->proto))
		TH_LOG("an RST without ACK ended SYN_SENT");
	EXPECT_EQ(0, poll_one(ss.cfd, POLLOUT, 0));
	EXPECT_EQ(0, so_error(ss.cfd));

	synsent_finish(_metadata, self, variant, &ss, &from);
	EXPECT_EQ(2U, etcp_cap_count(self->cap, 0, reply_from, &ss.cport))
		TH_LOG("client sent other than RST, ACK: %s", EXCH);
	close(ss.cfd);
	close(ss.raw);
}

/* "If the ACK was acceptable, then signal to the user 'error: connection reset'". */
TEST_F(conn, synsent_rst_acking_syn_refuses)
{
	struct stats a0, a1;
	struct synsent ss;
	int ev;

	synsent_setup(_metadata, self, variant, &ss);
	if (is_etcp(variant))
		ASSERT_EQ(0, stats_read(self->ns->a, &a0));
	ASSERT_EQ(0, forge(&ss, ETCP_TH_RST | ETCP_TH_ACK, 0, ss.iss + 1));
	ev = poll_one(ss.cfd, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLERR | POLLHUP, ev & (POLLERR | POLLHUP)) TH_LOG("revents 0x%x: %s", ev, EXCH);
	EXPECT_EQ(ECONNREFUSED, so_error(ss.cfd));
	EXPECT_EQ(ETCP_CLOSE, sock_state(ss.cfd, variant->proto));
	quiet(self->cap, QUIET_MS);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, 0, reply_from, &ss.cport))
		TH_LOG("the client answered the RST: %s", EXCH);
	if (is_etcp(variant)) {
		ASSERT_EQ(0, stats_read(self->ns->a, &a1));
		EXPECT_EQ(stat_of(&a0, "AttemptFails") + 1, stat_of(&a1, "AttemptFails"));
	}
	close(ss.cfd);
	close(ss.raw);
}

/* ------------------------------------------------------------ malformed input */

FIXTURE(malformed) {
	struct etcp_env e;
	struct etcp_cap *cap;
	struct etcp_netns *ns;
	int raw;
};

/* etcp's own counters, over IPv4 and IPv6: each family has its receive path. */
FIXTURE_VARIANT(malformed) {
	ETCP_VARIANT_FIELDS;
};
ETCP_VARIANT_ADD(malformed, etcp, IPPROTO_ETCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
ETCP_VARIANT_ADD(malformed, etcp6, IPPROTO_ETCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);

FIXTURE_SETUP(malformed)
{
	const char *why = etcp_netns_unsupported();
	int ret;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = env_setup(&self->e, IPPROTO_ETCP, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	self->cap = self->e.cap;
	self->ns = &self->e.ns;
	self->raw = etcp_raw_open_af(self->ns->a, IPPROTO_ETCP, variant->family);
	if (self->raw < 0) {
		ret = -errno;
		etcp_env_teardown(&self->e);
		ASSERT_EQ(0, ret) TH_LOG("raw socket: %s", strerror(-ret));
	}
}

FIXTURE_TEARDOWN(malformed)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	if (self->raw >= 0)
		close(self->raw);
	etcp_env_teardown(&self->e);
}

/* One way to break a segment, and the counter that must take it. */
struct bad_case {
	const char *what;
	const char *counter;
	enum etcp_raw_csum csum;
	int doff;
	size_t trunc;
	uint8_t opts[8];
	size_t optlen;
};

static const struct bad_case bad_cases[] = {
	{ "bad checksum", "InCsumErrors", .csum = ETCP_RAW_CSUM_BAD },
	{ "data offset 4", "InHdrErrors", .doff = 4 },
	{ "data offset 15, past the end", "InHdrErrors", .doff = 15 },
	{ "truncated header (12 bytes)", "InHdrErrors", .trunc = 12 },
	{ "option length 0", "InBadOptions", .opts = { 30, 0, 0, 0 }, .optlen = 4 },
	{ "option length 1", "InBadOptions", .opts = { 30, 1, 0, 0 }, .optlen = 4 },
	{ "option past the header end", "InBadOptions", .opts = { 30, 8, 0, 0 }, .optlen = 4 },
	{ "option without its length byte", "InBadOptions", .opts = { 1, 1, 1, 30 }, .optlen = 4 },
	{ "MSS option length 3", "InBadOptions", .opts = { 2, 3, 5, 0 }, .optlen = 4 },
	{ "MSS option length 5", "InBadOptions",
	  .opts = { 2, 5, 5, 0xb4, 0, 0, 0, 0 }, .optlen = 8 },
	{ "window scale option length 2", "InBadOptions",
	  .opts = { 3, 2, 1, 1 }, .optlen = 4 },
	{ "window scale option length 4", "InBadOptions",
	  .opts = { 3, 4, 7, 0 }, .optlen = 4 },
};

#define NR_BAD		((int)ARRAY_SIZE(bad_cases))

static const char * const error_counters[] = {
	"InCsumErrors", "InHdrErrors", "InBadOptions",
};

/*
 * Send base broken as bad_cases[i] says; the counter of netns b must take
 * it, InSegs count it, and nothing be sent, opened or reset for it.
 */
static void send_bad(struct __test_metadata *_metadata,
		     FIXTURE_DATA(malformed) *self, struct etcp_raw_seg base,
		     int i)
{
	const struct bad_case *c = &bad_cases[i];
	struct stats s0, s1;
	size_t j;

	base.csum = c->csum;
	base.doff = c->doff;
	base.trunc = c->trunc;
	base.opts = c->opts;
	base.optlen = c->optlen;

	ASSERT_EQ(0, stats_read(self->ns->b, &s0));
	ASSERT_EQ(0, etcp_raw_send(self->raw, &base)) TH_LOG("sending %s", c->what);
	ASSERT_EQ(0, wait_stat(self->ns->b, c->counter, stat_of(&s0, c->counter) + 1, WAIT_MS))
		TH_LOG("%s: %s not counted: %s", c->what, c->counter, EXCH);
	ASSERT_EQ(0, stats_read(self->ns->b, &s1));
	EXPECT_EQ(stat_of(&s0, "InSegs") + 1, stat_of(&s1, "InSegs")) TH_LOG("%s", c->what);
	for (j = 0; j < 3; j++) {
		const char *n = error_counters[j];

		EXPECT_EQ(stat_of(&s0, n) + !strcmp(n, c->counter), stat_of(&s1, n))
			TH_LOG("%s: %s", c->what, n);
	}
	EXPECT_EQ(stat_of(&s0, "OutSegs"), stat_of(&s1, "OutSegs"))
		TH_LOG("%s was answered: %s", c->what, EXCH);
	EXPECT_EQ(stat_of(&s0, "PassiveOpens"), stat_of(&s1, "PassiveOpens"))
		TH_LOG("%s opened a request", c->what);
	EXPECT_EQ(stat_of(&s0, "EstabResets"), stat_of(&s1, "EstabResets"))
		TH_LOG("%s reset a connection", c->what);
	EXPECT_EQ(stat_of(&s0, "NoSocket"), stat_of(&s1, "NoSocket"))
		TH_LOG("%s was looked up", c->what);
}

/*
 * A well-formed segment netns b answers at once (a SYN to a closed port):
 * once its RST is captured, so would be anything b sent before it.
 */
static void probe(struct __test_metadata *_metadata,
		  FIXTURE_DATA(malformed) *self,
		  const FIXTURE_VARIANT(malformed) *variant, unsigned short sport)
{
	struct etcp_raw_seg seg = {
		.saddr = ADDR_A, .daddr = ADDR_B,
		.sport = sport, .dport = CLOSED_PORT,
		.seq = 1, .flags = ETCP_TH_SYN, .window = 65535,
	};
	struct etcp_cap_sel rst = {
		.mask = ETCP_TH_RST, .flags = ETCP_TH_RST,
		.sport = CLOSED_PORT, .dport = sport,
	};

	ASSERT_EQ(0, etcp_raw_send(self->raw, &seg));
	ASSERT_LE(0, etcp_cap_wait_match(self->cap, 0, etcp_cap_sel_match, &rst, WAIT_MS))
		TH_LOG("no RST for the closing probe SYN: %s", EXCH);
}

/* Segments from netns b to port. */
static bool to_port(const struct etcp_cap_seg *seg, const void *port)
{
	return !seg->out && seg->dport == *(const unsigned short *)port;
}

/*
 * Malformed SYNs to a listener are dropped and counted, and none gets an
 * answer or a request; a SYN with an unknown option (kind 30, length 6)
 * is not malformed and gets its SYN-ACK.
 */
TEST_F(malformed, to_listener)
{
	static const uint8_t unknown[] = { 30, 6, 1, 2, 3, 4, 1, 1 };
	struct etcp_cap_sel synack = {
		.mask = ETCP_TH_SYN | ETCP_TH_ACK, .flags = ETCP_TH_SYN | ETCP_TH_ACK,
	};
	struct etcp_raw_seg seg = {
		.saddr = ADDR_A, .daddr = ADDR_B,
		.dport = PORT, .flags = ETCP_TH_SYN, .window = 65535,
	};
	unsigned short port;
	long before, idx;
	struct proc_row r;
	int lfd, i;

	lfd = listen_on(self->ns->b, IPPROTO_ETCP, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	for (i = 0; i < NR_BAD; i++) {
		seg.sport = RAW_PORT + i;
		seg.seq = 0x1000 * (i + 1);
		send_bad(_metadata, self, seg, i);
	}
	probe(_metadata, self, variant, RAW_PORT + 99);
	for (i = 0; i < NR_BAD; i++) {
		port = RAW_PORT + i;
		EXPECT_EQ(0U, etcp_cap_count(self->cap, 0, to_port, &port))
			TH_LOG("%s was answered: %s", bad_cases[i].what, EXCH);
		EXPECT_EQ(0, row_find(self->ns->b, PROC, PORT, port, -1, &r))
			TH_LOG("%s left a row st %02X", bad_cases[i].what, r.st);
	}
	EXPECT_EQ(1, row_find(self->ns->b, PROC, PORT, 0, ETCP_LISTEN, &r));
	EXPECT_EQ(0U, r.rxq);

	/* Unknown options are skipped by their length. */
	before = stat_now(self->ns->b, "PassiveOpens");
	seg.sport = RAW_PORT + 100;
	seg.seq = 0x77000000;
	seg.opts = unknown;
	seg.optlen = sizeof(unknown);
	ASSERT_EQ(0, etcp_raw_send(self->raw, &seg));
	synack.dport = seg.sport;
	idx = etcp_cap_wait_match(self->cap, 0, etcp_cap_sel_match, &synack, WAIT_MS);
	ASSERT_LE(0, idx) TH_LOG("no SYN-ACK for a SYN with option kind 30: %s", EXCH);
	EXPECT_EQ(MSS, self->cap->seg[idx].mss);
	EXPECT_EQ(1, self->cap->seg[idx].rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(before + 1, stat_now(self->ns->b, "PassiveOpens"));
	close(lfd);
}

/*
 * The same malformations as RSTs at exactly RCV.NXT of an established
 * connection: each one, well-formed, would reset it.  All are dropped and
 * counted; both ends stay ESTABLISHED with the same numbers.  Then a
 * well-formed SYN gets its challenge ACK and a well-formed RST does reset
 * the child: the path the malformed ones took is live.
 */
TEST_F(malformed, to_established)
{
	struct etcp_cap_sel chack = { .mask = 0xff, .flags = ETCP_TH_ACK, .sport = PORT };
	struct sinfo c0, a0, c1, a1;
	struct etcp_raw_seg seg = {
		.saddr = ADDR_A, .daddr = ADDR_B,
		.dport = PORT, .flags = ETCP_TH_RST | ETCP_TH_ACK, .window = 65535,
	};
	int lfd, cfd, afd, i;
	unsigned short cport;
	long resets, idx;
	size_t n0;

	lfd = listen_on(self->ns->b, IPPROTO_ETCP, ADDR_B, PORT, 8);
	ASSERT_LE(0, lfd);
	cfd = ns_socket(self->ns->a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, ADDR_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	cport = local_port(cfd);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 3, WAIT_MS)) TH_LOG("%s", EXCH);
	n0 = self->cap->n;
	ASSERT_EQ(0, sinfo_get(cfd, IPPROTO_ETCP, &c0));
	ASSERT_EQ(0, sinfo_get(afd, IPPROTO_ETCP, &a0));

	seg.sport = cport;
	seg.seq = a0.rcv_nxt;
	seg.ack = a0.snd_nxt;
	for (i = 0; i < NR_BAD; i++)
		send_bad(_metadata, self, seg, i);
	probe(_metadata, self, variant, RAW_PORT + 99);
	EXPECT_EQ(0U, etcp_cap_count(self->cap, n0, to_port, &cport))
		TH_LOG("the child answered a malformed segment: %s", EXCH);

	ASSERT_EQ(0, sinfo_get(cfd, IPPROTO_ETCP, &c1));
	ASSERT_EQ(0, sinfo_get(afd, IPPROTO_ETCP, &a1));
	EXPECT_EQ(ETCP_ESTABLISHED, c1.state);
	EXPECT_EQ(ETCP_ESTABLISHED, a1.state) TH_LOG("a malformed RST reset the child");
	EXPECT_EQ(c0.snd_nxt, c1.snd_nxt);
	EXPECT_EQ(c0.rcv_nxt, c1.rcv_nxt);
	EXPECT_EQ(a0.snd_nxt, a1.snd_nxt);
	EXPECT_EQ(a0.rcv_nxt, a1.rcv_nxt);

	/* Controls: a good SYN is challenged, a good RST resets. */
	seg.flags = ETCP_TH_SYN;
	seg.ack = 0;
	ASSERT_EQ(0, etcp_raw_send(self->raw, &seg));
	chack.dport = cport;
	idx = etcp_cap_wait_match(self->cap, n0, etcp_cap_sel_match, &chack, WAIT_MS);
	ASSERT_LE(0, idx) TH_LOG("no challenge ACK for a SYN: %s", EXCH);
	EXPECT_EQ(1, self->cap->seg[idx].rseq) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, self->cap->seg[idx].rack) TH_LOG("%s", EXCH);

	resets = stat_now(self->ns->b, "EstabResets");
	seg.flags = ETCP_TH_RST | ETCP_TH_ACK;
	seg.ack = a0.snd_nxt;
	ASSERT_EQ(0, etcp_raw_send(self->raw, &seg));
	EXPECT_EQ(0, wait_stat(self->ns->b, "EstabResets", resets + 1, WAIT_MS))
		TH_LOG("a well-formed RST at RCV.NXT did not reset the child");
	EXPECT_EQ(0, wait_state(afd, IPPROTO_ETCP, ETCP_CLOSE, -1, WAIT_MS));
	close(afd);
	close(cfd);
	close(lfd);
}

TEST_HARNESS_MAIN
