// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: etcp over IPv6 (AF_INET6), and dual stack as TCP has it.
 *
 *   netns a (client)                                  netns b (server)
 *   ea 10.0.1.1 fd00:1::1 ---------- veth ---------- fd00:1::2 10.0.1.2 eb
 *      ^ capture (AF_PACKET: IPv4 and IPv6, both directions)
 *
 * socket(AF_INET6, SOCK_STREAM, IPPROTO_ETCP) is to work as TCPv6 does:
 * over IPv6, and over IPv4 through v4-mapped addresses unless
 * IPV6_V6ONLY, with TCP's rules for ports shared between the families,
 * /proc/net/etcp6 in /proc/net/tcp6's format, the traffic class and
 * flow label of TCP's segments.  Every test runs over TCP as well as etcp
 * (ETCP_PROTO_VARIANTS): the TCP run proves that the test expects what
 * Linux TCP does, with timestamps, SACK, window scaling and ECN off
 * (etcp_env_setup()) so that both send the same segments.
 *
 *   handshake           SYN (MSS 1440 on a 1500 MTU), SYN-ACK, ACK over
 *                       IPv6; the addresses accept(), getsockname() and
 *                       getpeername() give; /proc/net/{tcp6,etcp6} rows,
 *                       and none in /proc/net/{tcp,etcp}
 *   refused             ECONNREFUSED and the RST|ACK <SEQ=0><ACK=ISN+1>
 *   data_half_close     data both ways, shutdown(SHUT_WR): EOF at the
 *                       peer, which still sends; the four-way close
 *   time_wait           rows in state 06; bind() over a TIME_WAIT:
 *                       EADDRINUSE without SO_REUSEADDR, with it bind()
 *                       and listen() work, connect() on the 4-tuple fails
 *                       EADDRNOTAVAIL
 *   linger_zero         SO_LINGER {1, 0}: RST|ACK, ECONNRESET at the peer
 *   dual_stack_listener an AF_INET6 listener on [::] accepts an IPv4
 *                       client (::ffff:10.0.1.1), IPv4 on the wire; with
 *                       IPV6_V6ONLY the client is refused
 *   v4mapped_connect    an AF_INET6 socket reaches an AF_INET and an
 *                       AF_INET6 listener through ::ffff:10.0.1.2, over
 *                       IPv4; with IPV6_V6ONLY it cannot (ENETUNREACH)
 *   bind_conflicts      ports shared between the families, as TCP
 *   tclass              IPV6_TCLASS on the segments; an RST to a closed
 *                       port reflects the SYN's DSCP
 *   flowlabel           auto_flowlabels (default 1): one non-zero label a
 *                       direction of a connection; IPV6_AUTOFLOWLABEL 0
 *                       sends 0
 *   proc_format         /proc/net/etcp6's header and address columns are
 *                       /proc/net/tcp6's
 *   syn_retries         a dropped path: SYNs at 0 and 1 s, ETIMEDOUT at
 *                       3 s with syn_retries 1
 *   object_size         an AF_INET6 etcp socket is as much smaller than
 *                       TCPv6's as an AF_INET one is than TCP's
 *                       (/proc/slabinfo: ETCPv6 and TCPv6, ETCP and TCP)
 *
 * What TCP does here, and etcp must do the same: an IPv6 SYN announces
 * MSS 1440, a v4-mapped connection is IPv4 on the wire with MSS 1460;
 * the child an AF_INET6 listener accepts from an IPv4 client is
 * AF_INET6 and listed (v4-mapped) in /proc/net/tcp6, not /proc/net/tcp;
 * the RST answering a SYN for no socket carries the SYN's DSCP; the child
 * keeps the listener's IPV6_TCLASS and its SYN-ACK's flow label.  (TCP
 * also draws a new label for a retransmitted SYN, net.core.txrehash: not
 * asserted.)
 *
 * etcp's sysctls serve both families, as TCP's net.ipv4.tcp_* do.  TCP's
 * TIME_WAIT lasts a fixed 60 s: no test waits for one to end.
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
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* listeners, in netns b */
#define PORT2		5001
#define CLOSED_PORT	5999	/* nothing listens there */
#define CPORT		40100	/* a client port chosen by bind() */
#define BIND_PORT	6000	/* bind_conflicts: one port a case from here */

#define MSS6		1440	/* 1500 - 40 (IPv6) - 20 */
#define MSS4		1460	/* 1500 - 20 (IPv4) - 20 */

#define MS		1000000LL	/* ns */
#define GAP_TOL_MS	250	/* spacing of SYN retransmissions */
#define END_TOL_MS	500	/* ETIMEDOUT */
#define QUIET_MS	300	/* nothing more may follow in this time */
#define WAIT_MS		2000	/* for what should happen at once */

#define TCLASS_C	0x28	/* DSCP 10 (AF11), ECN bits clear */
#define TCLASS_S	0x48	/* DSCP 18 (AF21) */

#define EXCH		etcp_cap_str(self->cap)

/* The v4-mapped forms of the IPv4 addresses. */
#define MAPPED_A	"::ffff:" ETCP_NS_ADDR_A
#define MAPPED_B	"::ffff:" ETCP_NS_ADDR_B

/* ------------------------------------------------------------ helpers */

/* "/proc/net/tcp6" or "/proc/net/etcp6" (by @proto), without the directory. */
static const char *table6(int proto)
{
	return proto == IPPROTO_ETCP ? "etcp6" : "tcp6";
}

/* A stream socket of @family and @proto in nsfd: the fd, or -1 with errno. */
static int stream_socket(int nsfd, int family, int proto)
{
	return ns_socket(nsfd, family, SOCK_STREAM | SOCK_CLOEXEC, proto);
}

/* A socket address as text: "a.b.c.d:port" or "[v6]:port". */
struct sa_text {
	char s[INET6_ADDRSTRLEN + 16];
};

static struct sa_text sa_str(const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	char a[INET6_ADDRSTRLEN];
	struct sa_text t;

	if (ss->ss_family == AF_INET6 && len == sizeof(*sin6)) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(t.s, sizeof(t.s), "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else if (ss->ss_family == AF_INET && len == sizeof(*sin)) {
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(t.s, sizeof(t.s), "%s:%u", a, ntohs(sin->sin_port));
	} else {
		snprintf(t.s, sizeof(t.s), "(family %d, %u bytes)", ss->ss_family, len);
	}
	return t;
}

/* @addr:@port as sa_str() writes it. */
static struct sa_text want_str(const char *addr, unsigned short port)
{
	struct sa_text t;

	snprintf(t.s, sizeof(t.s), strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
	return t;
}

/* getsockname() (@peer false) or getpeername() of @fd, as text. */
static struct sa_text sock_str(int fd, bool peer)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	struct sa_text t;
	int ret;

	ret = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) :
		     getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ret) {
		snprintf(t.s, sizeof(t.s), "(%s)", strerror(errno));
		return t;
	}
	return sa_str(&ss, len);
}

/* accept() within WAIT_MS, the peer's address as text in *@peer: the fd or -1. */
static int accept_from(int lfd, struct sa_text *peer)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	int fd;

	snprintf(peer->s, sizeof(peer->s), "(nothing)");
	if (!(poll_one(lfd, POLLIN, WAIT_MS) & POLLIN)) {
		errno = ETIMEDOUT;
		return -1;
	}
	fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
	if (fd >= 0)
		*peer = sa_str(&ss, len);
	return fd;
}

/* Is @seg a packet from @saddr to @daddr (either family, as sockaddr_of())? */
static bool seg_between(const struct etcp_cap_seg *seg, const char *saddr,
			const char *daddr)
{
	struct sockaddr_storage s, d;

	if (!sockaddr_of(saddr, 0, &s) || !sockaddr_of(daddr, 0, &d))
		return false;
	if (s.ss_family == AF_INET6)
		return seg->family == AF_INET6 &&
		       IN6_ARE_ADDR_EQUAL(&seg->saddr6,
					  &((struct sockaddr_in6 *)&s)->sin6_addr) &&
		       IN6_ARE_ADDR_EQUAL(&seg->daddr6,
					  &((struct sockaddr_in6 *)&d)->sin6_addr);
	return seg->family == AF_INET &&
	       seg->saddr.s_addr == ((struct sockaddr_in *)&s)->sin_addr.s_addr &&
	       seg->daddr.s_addr == ((struct sockaddr_in *)&d)->sin_addr.s_addr;
}

/*
 * @addr as /proc/net/tcp6 prints it: the four 32-bit words of the address
 * in host order, "%08X" each (so on x86 every word's bytes reversed).
 */
static void proc_addr6(const char *addr, char out[33])
{
	struct in6_addr a = {};
	uint32_t w[4];
	int i;

	inet_pton(AF_INET6, addr, &a);
	memcpy(w, &a, sizeof(w));
	for (i = 0; i < 4; i++)
		sprintf(out + 8 * i, "%08X", w[i]);
}

/* @addr as the words proc_row_scan() gives for a row of /proc/net/tcp6. */
static void proc_words6(const char *addr, unsigned int w[4])
{
	struct in6_addr a = {};

	inet_pton(AF_INET6, addr, &a);
	memcpy(w, &a, 4 * sizeof(*w));
}

/* Rows of /proc/net/@file in nsfd with these ports and state (0: any). */
static int rows(int nsfd, const char *file, unsigned int lport,
		unsigned int rport, unsigned int st, struct proc_row *r)
{
	struct row_key k = { .lport = lport, .rport = rport, .st = st };

	return proc_rows(nsfd, file, row_key_match, &k, r);
}

/* Poll until /proc/net/@file has a row lport<->rport in state @st: 0 or -ETIMEDOUT. */
static int wait_row(int nsfd, const char *file, unsigned int lport,
		    unsigned int rport, unsigned int st, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (rows(nsfd, file, lport, rport, st, NULL) <= 0) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_step();
	}
	return 0;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(v6) {
	struct etcp_env e;
	struct etcp_cap *cap;
	struct etcp_netns *ns;
};

ETCP_PROTO_VARIANTS(v6);

FIXTURE_SETUP(v6)
{
	const char *why = etcp_netns_unsupported();
	int ret;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = etcp_env_setup(&self->e, variant->proto, ETCP_ENV_EXACT, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	self->cap = self->e.cap;
	self->ns = &self->e.ns;
}

FIXTURE_TEARDOWN(v6)
{
	if (getenv("ETCP_CAP_DUMP") && self->cap)
		TH_LOG("%s", EXCH);
	etcp_env_teardown(&self->e);
}

/*
 * An AF_INET6 socket of the variant in nsfd; for etcp this is what the
 * module must support first.
 */
static int sock6(struct __test_metadata *_metadata, int nsfd, int proto)
{
	int fd = stream_socket(nsfd, AF_INET6, proto);

	ASSERT_LE(0, fd) TH_LOG("socket(AF_INET6, SOCK_STREAM, %d): %s", proto,
				strerror(errno));
	return fd;
}

/* A listener of the variant on @addr:@port (AF_INET6 for an IPv6 @addr). */
static int listener(struct __test_metadata *_metadata, int nsfd, int proto,
		    const char *addr, unsigned short port)
{
	int fd = listen_on(nsfd, proto, addr, port, 8);

	ASSERT_LE(0, fd) TH_LOG("listen on %s: %s", want_str(addr, port).s,
				strerror(errno));
	return fd;
}

/*
 * The capture from @from on holds exactly SYN, SYN-ACK, ACK between
 * @caddr:@cport and @saddr:@sport, in the family of the addresses, with
 * MSS @mss on both SYNs and no other option, traffic class 0.
 */
static void expect_handshake(struct __test_metadata *_metadata,
			     FIXTURE_DATA(v6) *self, size_t from,
			     const char *caddr, unsigned short cport,
			     const char *saddr, unsigned short sport, int mss)
{
	const struct etcp_cap_seg *syn, *synack, *ack;

	ASSERT_EQ(0, etcp_cap_wait(self->cap, from + 3, WAIT_MS)) TH_LOG("%s", EXCH);
	ASSERT_EQ(from + 3, quiet(self->cap, QUIET_MS))
		TH_LOG("not exactly three segments: %s", EXCH);
	syn = &self->cap->seg[from];
	synack = syn + 1;
	ack = syn + 2;

	EXPECT_TRUE(syn->out && seg_between(syn, caddr, saddr) &&
		    syn->sport == cport && syn->dport == sport)
		TH_LOG("the SYN is not %s -> %s: %s", want_str(caddr, cport).s,
		       want_str(saddr, sport).s, EXCH);
	EXPECT_EQ(ETCP_TH_SYN, syn->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, syn->rseq);
	EXPECT_EQ(mss, syn->mss) TH_LOG("SYN: %s", EXCH);
	EXPECT_EQ(4, syn->optlen) TH_LOG("SYN options other than MSS: %s", EXCH);
	EXPECT_EQ(0, syn->len);

	EXPECT_TRUE(!synack->out && seg_between(synack, saddr, caddr) &&
		    synack->sport == sport && synack->dport == cport)
		TH_LOG("the SYN-ACK is not %s -> %s: %s", want_str(saddr, sport).s,
		       want_str(caddr, cport).s, EXCH);
	EXPECT_EQ(ETCP_TH_SYN | ETCP_TH_ACK, synack->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, synack->rseq);
	EXPECT_EQ(1, synack->rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(mss, synack->mss) TH_LOG("SYN-ACK: %s", EXCH);
	EXPECT_EQ(4, synack->optlen) TH_LOG("SYN-ACK options other than MSS: %s", EXCH);

	EXPECT_TRUE(ack->out && seg_between(ack, caddr, saddr) && ack->sport == cport)
		TH_LOG("the third segment is not the client's: %s", EXCH);
	EXPECT_EQ(ETCP_TH_ACK, ack->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, ack->rseq);
	EXPECT_EQ(1, ack->rack);
	EXPECT_EQ(5, ack->doff) TH_LOG("the ACK has options: %s", EXCH);
	EXPECT_EQ(0, ack->len);

	/* No IPV6_TCLASS / IP_TOS set, ECN off: the byte is 0. */
	EXPECT_EQ(0, syn->tos | synack->tos | ack->tos) TH_LOG("%s", EXCH);
}

/*
 * A connection over IPv6 from a fresh client to @lfd (on
 * [fd00:1::2]:@port): the client in *@cfd, the child in *@afd, the
 * capture's count after the handshake returned.
 */
static size_t open_pair6(struct __test_metadata *_metadata, FIXTURE_DATA(v6) *self,
			 int proto, int lfd, unsigned short port, int *cfd, int *afd)
{
	size_t from = etcp_cap_poll(self->cap);

	*cfd = sock6(_metadata, self->ns->a, proto);
	ASSERT_EQ(0, connect_to(*cfd, ETCP_NS_ADDR6_B, port)) TH_LOG("%s", EXCH);
	*afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, *afd) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	/* SYN, SYN-ACK, ACK: what follows is the test's. */
	ASSERT_EQ(0, etcp_cap_wait(self->cap, from + 3, WAIT_MS)) TH_LOG("%s", EXCH);
	return from + 3;
}

/* ------------------------------------------------------------ handshake */

/*
 * SYN, SYN-ACK, ACK over IPv6 with MSS 1440; accept() gives the client's
 * [fd00:1::1]:port, and both ends agree on who is who; both ESTABLISHED
 * with snd_mss 1440; rows in /proc/net/{tcp6,etcp6} (the listener 0A, the
 * two ends 01), none in the IPv4 table.
 */
TEST_F(v6, handshake)
{
	struct sa_text peer;
	int lfd, cfd, afd, n;
	unsigned short cport;
	struct sinfo ci, ai;
	struct proc_row r;

	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, connect_to(cfd, ETCP_NS_ADDR6_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_from(lfd, &peer);
	ASSERT_LE(0, afd) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	cport = local_port(cfd);

	expect_handshake(_metadata, self, 0, ETCP_NS_ADDR6_A, cport,
			 ETCP_NS_ADDR6_B, PORT, MSS6);

	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_A, cport).s, peer.s) TH_LOG("accept()'s address");
	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_A, cport).s, sock_str(cfd, false).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_B, PORT).s, sock_str(cfd, true).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_B, PORT).s, sock_str(afd, false).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_A, cport).s, sock_str(afd, true).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR6_B, PORT).s, sock_str(lfd, false).s);

	ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(afd, variant->proto, &ai));
	EXPECT_EQ(ETCP_ESTABLISHED, ci.state);
	EXPECT_EQ(ETCP_ESTABLISHED, ai.state);
	EXPECT_EQ((unsigned int)MSS6, ci.snd_mss);
	EXPECT_EQ((unsigned int)MSS6, ai.snd_mss);

	EXPECT_EQ(1, rows(self->ns->a, table6(variant->proto), cport, PORT, ETCP_ESTABLISHED, &r))
		TH_LOG("no ESTABLISHED row for the client in %s", table6(variant->proto));
	EXPECT_EQ(1, rows(self->ns->b, table6(variant->proto), PORT, cport, ETCP_ESTABLISHED, &r))
		TH_LOG("no ESTABLISHED row for the child in %s", table6(variant->proto));
	EXPECT_EQ(1, rows(self->ns->b, table6(variant->proto), PORT, 0, ETCP_LISTEN, &r))
		TH_LOG("no LISTEN row in %s", table6(variant->proto));
	/* AF_INET6 sockets are not listed with the IPv4 ones. */
	n = rows(self->ns->a, proc_table(variant->proto), cport, PORT, 0, NULL) +
	    rows(self->ns->b, proc_table(variant->proto), PORT, 0, 0, NULL);
	EXPECT_EQ(0, n) TH_LOG("AF_INET6 sockets in /proc/net/%s", proc_table(variant->proto));

	close(afd);
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ refusal */

/*
 * A SYN to a closed port: connect() fails ECONNREFUSED, the answer is
 * <SEQ=0><ACK=ISN+1><RST,ACK>, window 0, over IPv6.  With transmit
 * checksum offload off on the veth both checksums are complete on the
 * wire, and right over the IPv6 pseudo-header (RFC 8200 8.1).
 */
TEST_F(v6, refused)
{
	const struct etcp_cap_seg *syn, *rst;
	int cfd;

	ASSERT_EQ(0, ns_txcsum_off(self->ns->a, ETCP_NS_IF_A));
	ASSERT_EQ(0, ns_txcsum_off(self->ns->b, ETCP_NS_IF_B));
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	EXPECT_EQ(-ECONNREFUSED, connect_to(cfd, ETCP_NS_ADDR6_B, CLOSED_PORT))
		TH_LOG("%s", EXCH);
	ASSERT_EQ(0, etcp_cap_wait(self->cap, 2, WAIT_MS)) TH_LOG("%s", EXCH);
	ASSERT_EQ(2U, quiet(self->cap, QUIET_MS)) TH_LOG("more than SYN and RST: %s", EXCH);
	syn = &self->cap->seg[0];
	rst = &self->cap->seg[1];
	EXPECT_TRUE(syn->out && syn->flags == ETCP_TH_SYN &&
		    seg_between(syn, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B))
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(!rst->out && rst->sport == CLOSED_PORT && rst->dport == syn->sport &&
		    seg_between(rst, ETCP_NS_ADDR6_B, ETCP_NS_ADDR6_A))
		TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_TH_RST | ETCP_TH_ACK, rst->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(0U, rst->seq) TH_LOG("%s", EXCH);
	EXPECT_EQ(syn->seq + 1, rst->ack) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, rst->window);
	EXPECT_EQ(0, rst->len);
	EXPECT_EQ(5, rst->doff);
	EXPECT_EQ(1, syn->csum) TH_LOG("the SYN's checksum (-1: not filled in)");
	EXPECT_EQ(1, rst->csum) TH_LOG("the RST's checksum (-1: not filled in)");
	EXPECT_EQ(ETCP_CLOSE, sock_state(cfd, variant->proto));
	close(cfd);
}

/* ------------------------------------------------------------ data, close */

/* The first segment at or after @from that @w selects, within WAIT_MS, or -1. */
static long seg_wait(FIXTURE_DATA(v6) *self, size_t from, struct etcp_wsel w)
{
	return etcp_wsel_wait(self->cap, from, &w, WAIT_MS);
}

/*
 * 100 bytes from the client, 200 from the server; the client's
 * shutdown(SHUT_WR): the server reads EOF (CLOSE_WAIT, the client
 * FIN_WAIT2) and still sends 50 bytes, which the client reads; the server
 * closes, the client reads EOF and is in TIME_WAIT.  On the wire: the
 * client's FIN|ACK at 101/201, the server's ACK of it (102), its 50 bytes
 * at 201, its FIN|ACK at 251/102 and the client's last ACK at 102/252.
 */
TEST_F(v6, data_half_close)
{
	char buf[256], in[256];
	int lfd, cfd, afd;
	unsigned short cport;
	long fin_c, ack_fin, data, fin_s, last;
	size_t from, i;

	memset(buf, 'x', sizeof(buf));
	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	from = open_pair6(_metadata, self, variant->proto, lfd, PORT, &cfd, &afd);
	cport = local_port(cfd);

	ASSERT_EQ(0, send_all(cfd, buf, 100));
	ASSERT_EQ(0, recv_exact(afd, in, 100, WAIT_MS));
	ASSERT_EQ(0, send_all(afd, buf, 200));
	ASSERT_EQ(0, recv_exact(cfd, in, 200, WAIT_MS));

	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(-EPIPE, recv_exact(afd, in, 1, WAIT_MS)) TH_LOG("no EOF after SHUT_WR");
	EXPECT_EQ(ETCP_CLOSE_WAIT, wait_sock_state(afd, variant->proto, ETCP_CLOSE_WAIT, WAIT_MS));
	EXPECT_EQ(ETCP_FIN_WAIT2, wait_sock_state(cfd, variant->proto, ETCP_FIN_WAIT2, WAIT_MS));
	ASSERT_EQ(0, send_all(afd, buf, 50)) TH_LOG("send after the peer's FIN");
	EXPECT_EQ(0, recv_exact(cfd, in, 50, WAIT_MS)) TH_LOG("data after SHUT_WR: %s", EXCH);

	close(afd);
	EXPECT_EQ(-EPIPE, recv_exact(cfd, in, 1, WAIT_MS)) TH_LOG("no EOF: %s", EXCH);
	EXPECT_EQ(0, wait_row(self->ns->a, table6(variant->proto), cport, PORT,
			      ETCP_TIME_WAIT, WAIT_MS))
		TH_LOG("the client is not in TIME_WAIT (06) in %s", table6(variant->proto));

	fin_c = seg_wait(self, from, (struct etcp_wsel){
		.what = ETCP_W_SPORT | ETCP_W_FLAGS | ETCP_W_RSEQ | ETCP_W_RACK | ETCP_W_LEN,
		.sport = cport, .flags = ETCP_TH_FIN | ETCP_TH_ACK,
		.rseq = 101, .rack = 201, .len = 0 });
	ASSERT_LE(0, fin_c) TH_LOG("no FIN|ACK 101/201 from the client: %s", EXCH);
	ack_fin = seg_wait(self, fin_c, (struct etcp_wsel){
		.what = ETCP_W_SPORT | ETCP_W_RACK, .sport = PORT, .rack = 102 });
	data = seg_wait(self, fin_c, (struct etcp_wsel){
		.what = ETCP_W_SPORT | ETCP_W_RSEQ | ETCP_W_LEN | ETCP_W_RACK,
		.sport = PORT, .rseq = 201, .len = 50, .rack = 102 });
	fin_s = seg_wait(self, fin_c, (struct etcp_wsel){
		.what = ETCP_W_SPORT | ETCP_W_FLAGS | ETCP_W_RSEQ | ETCP_W_RACK | ETCP_W_LEN,
		.sport = PORT, .flags = ETCP_TH_FIN | ETCP_TH_ACK,
		.rseq = 251, .rack = 102, .len = 0 });
	last = seg_wait(self, fin_s < 0 ? from : (size_t)fin_s, (struct etcp_wsel){
		.what = ETCP_W_SPORT | ETCP_W_FLAGS | ETCP_W_RSEQ | ETCP_W_RACK | ETCP_W_LEN,
		.sport = cport, .flags = ETCP_TH_ACK, .rseq = 102, .rack = 252, .len = 0 });
	EXPECT_LE(0, ack_fin) TH_LOG("the client's FIN is not acknowledged: %s", EXCH);
	EXPECT_LE(0, data) TH_LOG("no 50 bytes at 201 after the FIN: %s", EXCH);
	EXPECT_LE(0, fin_s) TH_LOG("no FIN|ACK 251/102 from the server: %s", EXCH);
	EXPECT_LE(0, last) TH_LOG("no last ACK 102/252: %s", EXCH);
	EXPECT_TRUE(ack_fin <= data && data < fin_s && fin_s < last)
		TH_LOG("out of order: %s", EXCH);
	/* Nothing after the last ACK, all of it IPv6. */
	EXPECT_EQ((size_t)last + 1, quiet(self->cap, QUIET_MS)) TH_LOG("%s", EXCH);
	for (i = 0; i < self->cap->n; i++) {
		EXPECT_EQ(AF_INET6, self->cap->seg[i].family) TH_LOG("segment %zu", i);
	}

	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ TIME_WAIT */

/*
 * @first closes, @second reads EOF and closes: @first's end is in
 * TIME_WAIT, a row @lport <-> @rport in state 06 of /proc/net/{tcp6,etcp6}
 * in nsfd (@who says whose, for the message).
 */
static void close_to_time_wait(struct __test_metadata *_metadata, FIXTURE_DATA(v6) *self,
			       int proto, int first, int second, int nsfd,
			       unsigned short lport, unsigned short rport, const char *who)
{
	char c;

	close(first);
	EXPECT_EQ(-EPIPE, recv_exact(second, &c, 1, WAIT_MS)) TH_LOG("no EOF: %s", EXCH);
	close(second);
	ASSERT_EQ(0, wait_row(nsfd, table6(proto), lport, rport, ETCP_TIME_WAIT, WAIT_MS))
		TH_LOG("no TIME_WAIT (06) row of the %s in %s: %s", who, table6(proto), EXCH);
}

/* A client socket in a, SO_REUSEADDR, bound to [fd00:1::1]:CPORT. */
static int bound_client(struct __test_metadata *_metadata, FIXTURE_DATA(v6) *self,
			int proto)
{
	int fd = sock6(_metadata, self->ns->a, proto);

	ASSERT_EQ(0, sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_to(fd, ETCP_NS_ADDR6_A, CPORT)) TH_LOG("bind to the client port");
	return fd;
}

/*
 * bind() of a fresh AF_INET6 socket in nsfd to @addr:@port with
 * SO_REUSEADDR @reuse: 0 or -errno; the socket in *@fd.
 */
static int try_bind6(int nsfd, int proto, const char *addr, unsigned short port,
		     bool reuse, int *fd)
{
	*fd = stream_socket(nsfd, AF_INET6, proto);
	if (*fd < 0)
		return -errno;
	if (reuse && sockopt_set(*fd, SOL_SOCKET, SO_REUSEADDR, 1))
		return -errno;
	return bind_to(*fd, addr, port);
}

/*
 * The server closes first: its end is a TIME_WAIT row (06) in b's
 * /proc/net/{tcp6,etcp6}.  With the listener closed, bind() to
 * [fd00:1::2]:5000 or [::]:5000 without SO_REUSEADDR fails EADDRINUSE;
 * with it, bind() and listen() work.  Then a client bound (SO_REUSEADDR)
 * to port 40100 closes first: its TIME_WAIT row is in a, bind() there
 * without SO_REUSEADDR fails EADDRINUSE, with it bind() works and
 * connect() to the same server fails EADDRNOTAVAIL (the 4-tuple is the
 * TIME_WAIT's).  etcp's TIME_WAIT is 2 * etcp_msl, 60 s by default; TCP's
 * 60 s: both outlast the test.
 */
TEST_F(v6, time_wait)
{
	int lfd, cfd, afd, s;
	unsigned short cport;

	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	open_pair6(_metadata, self, variant->proto, lfd, PORT, &cfd, &afd);
	cport = local_port(cfd);
	close_to_time_wait(_metadata, self, variant->proto, afd, cfd, self->ns->b,
			   PORT, cport, "server");
	close(lfd);

	EXPECT_EQ(-EADDRINUSE, try_bind6(self->ns->b, variant->proto, ETCP_NS_ADDR6_B,
					 PORT, false, &s))
		TH_LOG("bind() to [fd00:1::2]:%d over the TIME_WAIT", PORT);
	close(s);
	EXPECT_EQ(-EADDRINUSE, try_bind6(self->ns->b, variant->proto, "::", PORT, false, &s))
		TH_LOG("bind() to [::]:%d over the TIME_WAIT", PORT);
	close(s);
	ASSERT_EQ(0, try_bind6(self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT, true, &lfd))
		TH_LOG("bind() with SO_REUSEADDR over the TIME_WAIT: %s", strerror(errno));
	ASSERT_EQ(0, listen(lfd, 8)) TH_LOG("listen: %s", strerror(errno));
	EXPECT_EQ(1, rows(self->ns->b, table6(variant->proto), PORT, cport, ETCP_TIME_WAIT, NULL))
		TH_LOG("the TIME_WAIT ended before the test was done with it");

	/* The client closes first. */
	cfd = bound_client(_metadata, self, variant->proto);
	ASSERT_EQ(0, connect_to(cfd, ETCP_NS_ADDR6_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	close_to_time_wait(_metadata, self, variant->proto, cfd, afd, self->ns->a,
			   CPORT, PORT, "client");
	EXPECT_EQ(-EADDRINUSE, try_bind6(self->ns->a, variant->proto, ETCP_NS_ADDR6_A,
					 CPORT, false, &s))
		TH_LOG("bind() to [fd00:1::1]:%d over the client's TIME_WAIT", CPORT);
	close(s);
	EXPECT_EQ(0, try_bind6(self->ns->a, variant->proto, ETCP_NS_ADDR6_A, CPORT, true, &s))
		TH_LOG("bind() with SO_REUSEADDR over the client's TIME_WAIT: %s",
		       strerror(errno));
	EXPECT_EQ(-EADDRNOTAVAIL, connect_to(s, ETCP_NS_ADDR6_B, PORT))
		TH_LOG("connect() on the 4-tuple of a TIME_WAIT: %s", EXCH);
	close(s);
	EXPECT_EQ(1, rows(self->ns->a, table6(variant->proto), CPORT, PORT, ETCP_TIME_WAIT, NULL))
		TH_LOG("the TIME_WAIT ended before the test was done with it");
	close(lfd);
}

/* ------------------------------------------------------------ abort */

/*
 * SO_LINGER {1, 0} and close(): one RST|ACK <SEQ=1><ACK=1> over IPv6, no
 * answer, and the peer's recv() fails ECONNRESET.
 */
TEST_F(v6, linger_zero)
{
	const struct etcp_cap_seg *rst;
	int lfd, cfd, afd;
	unsigned short cport;
	size_t from;
	char c;

	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	from = open_pair6(_metadata, self, variant->proto, lfd, PORT, &cfd, &afd);
	cport = local_port(cfd);
	close_abort(cfd);

	ASSERT_EQ(0, etcp_cap_wait(self->cap, from + 1, WAIT_MS)) TH_LOG("no RST: %s", EXCH);
	EXPECT_EQ(from + 1, quiet(self->cap, QUIET_MS)) TH_LOG("more than the RST: %s", EXCH);
	rst = &self->cap->seg[from];
	EXPECT_TRUE(rst->out && rst->sport == cport &&
		    seg_between(rst, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B))
		TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_TH_RST | ETCP_TH_ACK, rst->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, rst->rseq) TH_LOG("%s", EXCH);
	EXPECT_EQ(1, rst->rack) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, rst->len);

	EXPECT_EQ(-ECONNRESET, recv_exact(afd, &c, 1, WAIT_MS));
	EXPECT_EQ(0, rows(self->ns->a, table6(variant->proto), cport, PORT, 0, NULL))
		TH_LOG("the aborted client still has a row");
	close(afd);
	close(lfd);
}

/* ------------------------------------------------------------ dual stack */

/*
 * An AF_INET6 listener on [::]:5000 (IPV6_V6ONLY 0 by default) accepts
 * an AF_INET client connecting to 10.0.1.2: accept() gives
 * [::ffff:10.0.1.1]:port, the child is [::ffff:10.0.1.2]:5000, the
 * segments are IPv4 (MSS 1460), data flows, and the child's row is in
 * /proc/net/{tcp6,etcp6} (v4-mapped), not in the IPv4 table.  A listener
 * with IPV6_V6ONLY 1 on [::]:5001: the IPv4 client is refused.
 */
TEST_F(v6, dual_stack_listener)
{
	unsigned int want[4];
	struct sa_text peer;
	int lfd, l6only, cfd, afd;
	unsigned short cport;
	struct proc_row r;
	char c = 'y';
	size_t i;

	lfd = sock6(_metadata, self->ns->b, variant->proto);
	EXPECT_EQ(0, sockopt_get(lfd, IPPROTO_IPV6, IPV6_V6ONLY))
		TH_LOG("IPV6_V6ONLY is not 0 by default (net.ipv6.bindv6only)");
	ASSERT_EQ(0, bind_to(lfd, "::", PORT));
	ASSERT_EQ(0, listen(lfd, 8));

	cfd = stream_socket(self->ns->a, AF_INET, variant->proto);
	ASSERT_LE(0, cfd);
	ASSERT_EQ(0, connect_to(cfd, ETCP_NS_ADDR_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_from(lfd, &peer);
	ASSERT_LE(0, afd) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	cport = local_port(cfd);

	expect_handshake(_metadata, self, 0, ETCP_NS_ADDR_A, cport, ETCP_NS_ADDR_B, PORT, MSS4);
	EXPECT_STREQ(want_str(MAPPED_A, cport).s, peer.s) TH_LOG("accept()'s address");
	EXPECT_STREQ(want_str(MAPPED_B, PORT).s, sock_str(afd, false).s);
	EXPECT_STREQ(want_str(MAPPED_A, cport).s, sock_str(afd, true).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR_A, cport).s, sock_str(cfd, false).s);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR_B, PORT).s, sock_str(cfd, true).s);

	ASSERT_EQ(0, send_all(afd, &c, 1));
	EXPECT_EQ(0, recv_exact(cfd, &c, 1, WAIT_MS));
	ASSERT_EQ(0, send_all(cfd, &c, 1));
	EXPECT_EQ(0, recv_exact(afd, &c, 1, WAIT_MS));
	etcp_cap_poll(self->cap);
	for (i = 0; i < self->cap->n; i++) {
		EXPECT_EQ(AF_INET, self->cap->seg[i].family) TH_LOG("segment %zu: %s", i, EXCH);
	}

	ASSERT_EQ(1, rows(self->ns->b, table6(variant->proto), PORT, cport, ETCP_ESTABLISHED, &r))
		TH_LOG("no row of the child in %s", table6(variant->proto));
	proc_words6(MAPPED_B, want);
	EXPECT_EQ(0, memcmp(want, r.laddr6, sizeof(want)))
		TH_LOG("the child's local address is not ::ffff:10.0.1.2");
	proc_words6(MAPPED_A, want);
	EXPECT_EQ(0, memcmp(want, r.raddr6, sizeof(want)))
		TH_LOG("the child's remote address is not ::ffff:10.0.1.1");
	EXPECT_EQ(0, rows(self->ns->b, proc_table(variant->proto), PORT, cport, 0, NULL))
		TH_LOG("the AF_INET6 child is in /proc/net/%s", proc_table(variant->proto));
	EXPECT_EQ(1, rows(self->ns->a, proc_table(variant->proto), cport, PORT,
			  ETCP_ESTABLISHED, NULL))
		TH_LOG("the AF_INET client is not in /proc/net/%s", proc_table(variant->proto));

	/* IPV6_V6ONLY: IPv4 is not the listener's. */
	l6only = sock6(_metadata, self->ns->b, variant->proto);
	ASSERT_EQ(0, sockopt_set(l6only, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	ASSERT_EQ(0, bind_to(l6only, "::", PORT2));
	ASSERT_EQ(0, listen(l6only, 8));
	close_abort(cfd);
	cfd = stream_socket(self->ns->a, AF_INET, variant->proto);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(-ECONNREFUSED, connect_to(cfd, ETCP_NS_ADDR_B, PORT2))
		TH_LOG("IPv4 client of an IPV6_V6ONLY listener: %s", EXCH);

	close(cfd);
	close(afd);
	close(l6only);
	close(lfd);
}

/*
 * An AF_INET6 client connecting to [::ffff:10.0.1.2]:5000 reaches an
 * AF_INET listener over IPv4 (MSS 1460): its own name and peer are
 * v4-mapped, accept() gives 10.0.1.1.  The same to an AF_INET6 listener
 * on [::]:5001, which accepts [::ffff:10.0.1.1].  With IPV6_V6ONLY the
 * client cannot connect to a v4-mapped address: ENETUNREACH, nothing
 * sent.
 */
TEST_F(v6, v4mapped_connect)
{
	int l4, l6, cfd, afd, c2, a2, c3;
	unsigned short cport, cport2;
	struct sa_text peer;
	size_t from;

	l4 = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR_B, PORT);
	l6 = listener(_metadata, self->ns->b, variant->proto, "::", PORT2);

	cfd = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, connect_to(cfd, MAPPED_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_from(l4, &peer);
	ASSERT_LE(0, afd) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	cport = local_port(cfd);
	expect_handshake(_metadata, self, 0, ETCP_NS_ADDR_A, cport, ETCP_NS_ADDR_B, PORT, MSS4);
	EXPECT_STREQ(want_str(ETCP_NS_ADDR_A, cport).s, peer.s);
	EXPECT_STREQ(want_str(MAPPED_A, cport).s, sock_str(cfd, false).s);
	EXPECT_STREQ(want_str(MAPPED_B, PORT).s, sock_str(cfd, true).s);
	EXPECT_EQ(1, rows(self->ns->a, table6(variant->proto), cport, PORT,
			  ETCP_ESTABLISHED, NULL))
		TH_LOG("the AF_INET6 client is not in %s", table6(variant->proto));

	from = etcp_cap_poll(self->cap);
	c2 = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, connect_to(c2, MAPPED_B, PORT2)) TH_LOG("%s", EXCH);
	a2 = accept_from(l6, &peer);
	ASSERT_LE(0, a2) TH_LOG("accept: %s: %s", strerror(errno), EXCH);
	cport2 = local_port(c2);
	expect_handshake(_metadata, self, from, ETCP_NS_ADDR_A, cport2, ETCP_NS_ADDR_B,
			 PORT2, MSS4);
	EXPECT_STREQ(want_str(MAPPED_A, cport2).s, peer.s);
	EXPECT_STREQ(want_str(MAPPED_B, PORT2).s, sock_str(a2, false).s);

	from = etcp_cap_poll(self->cap);
	c3 = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, sockopt_set(c3, IPPROTO_IPV6, IPV6_V6ONLY, 1));
	EXPECT_EQ(-ENETUNREACH, connect_to(c3, MAPPED_B, PORT));
	EXPECT_EQ(from, quiet(self->cap, QUIET_MS)) TH_LOG("%s", EXCH);

	close(c3);
	close(a2);
	close(c2);
	close(afd);
	close(cfd);
	close(l6);
	close(l4);
}

/* ------------------------------------------------------------ ports */

/* One end of a bind conflict: family by the address, IPV6_V6ONLY, SO_REUSEADDR. */
struct bind_end {
	const char *addr;
	int v6only;		/* -1: leave the default (0) */
	bool reuse;
};

struct bind_case {
	struct bind_end first, second;
	int err;		/* what the second bind() gives: 0 or -errno */
};

/*
 * Two sockets of the variant in netns b bound to one port, the second
 * while the first is bound (neither listening), each case on a port of
 * its own: what TCP answers.
 */
#define ANY4		{ "0.0.0.0", -1, false }
#define ANY6		{ "::", -1, false }
#define ANY6_ONLY	{ "::", 1, false }
#define B4		{ ETCP_NS_ADDR_B, -1, false }
#define B6		{ ETCP_NS_ADDR6_B, -1, false }
#define B4_MAPPED	{ MAPPED_B, -1, false }

static const struct bind_case bind_cases[] = {
	/* IPv4 wildcard, then IPv6 wildcard: dual stack wants IPv4's port too. */
	{ ANY4, ANY6, -EADDRINUSE },
	{ ANY4, ANY6_ONLY, 0 },
	{ ANY6, B4, -EADDRINUSE },
	{ ANY6, ANY4, -EADDRINUSE },
	{ ANY6_ONLY, ANY4, 0 },
	{ ANY6_ONLY, B4, 0 },
	/* A specific IPv6 address leaves IPv4 alone, both ways round. */
	{ B6, ANY4, 0 },
	{ ANY4, B6, 0 },
	{ ANY6, ANY6, -EADDRINUSE },
	{ ANY6_ONLY, ANY6_ONLY, -EADDRINUSE },
	{ ANY6, B6, -EADDRINUSE },
	/* A v4-mapped address is the IPv4 one. */
	{ B4, B4_MAPPED, -EADDRINUSE },
	{ B4_MAPPED, ANY4, -EADDRINUSE },
	/* SO_REUSEADDR on both, neither listening: no conflict (last: see below). */
	{ { "0.0.0.0", -1, true }, { "::", -1, true }, 0 },
	{ { "::", -1, true }, { "0.0.0.0", -1, true }, 0 },
};

/* A socket of @proto in nsfd bound as @e says to @port: 0 or -errno; fd in *@fd. */
static int bind_end(int nsfd, int proto, const struct bind_end *e,
		    unsigned short port, int *fd)
{
	int family = strchr(e->addr, ':') ? AF_INET6 : AF_INET;

	*fd = stream_socket(nsfd, family, proto);
	if (*fd < 0)
		return -errno;
	if (e->v6only >= 0 && sockopt_set(*fd, IPPROTO_IPV6, IPV6_V6ONLY, e->v6only))
		return -errno;
	if (e->reuse && sockopt_set(*fd, SOL_SOCKET, SO_REUSEADDR, 1))
		return -errno;
	return bind_to(*fd, e->addr, port);
}

static const char *bind_end_str(const struct bind_end *e, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", e->addr,
		 e->v6only > 0 ? " v6only" : "", e->reuse ? " reuseaddr" : "");
	return buf;
}

/*
 * The cases of bind_cases; then the two SO_REUSEADDR sockets of the last
 * case listen: the first may, the second fails EADDRINUSE.
 */
TEST_F(v6, bind_conflicts)
{
	char b1[64], b2[64];
	unsigned short port;
	size_t i;
	int s1, s2, ret;

	for (i = 0; i < ARRAY_SIZE(bind_cases); i++) {
		const struct bind_case *c = &bind_cases[i];

		port = BIND_PORT + i;
		ret = bind_end(self->ns->b, variant->proto, &c->first, port, &s1);
		ASSERT_EQ(0, ret) TH_LOG("case %zu: first bind to %s: %s", i,
					 bind_end_str(&c->first, b1, sizeof(b1)),
					 strerror(-ret));
		ret = bind_end(self->ns->b, variant->proto, &c->second, port, &s2);
		EXPECT_EQ(c->err, ret)
			TH_LOG("case %zu: %s then %s, port %u: %s, want %s", i,
			       bind_end_str(&c->first, b1, sizeof(b1)),
			       bind_end_str(&c->second, b2, sizeof(b2)), port,
			       ret ? strerror(-ret) : "success",
			       c->err ? strerror(-c->err) : "success");
		if (i + 1 == ARRAY_SIZE(bind_cases) && !ret) {
			EXPECT_EQ(0, listen(s1, 8)) TH_LOG("listen: %s", strerror(errno));
			EXPECT_EQ(-1, listen(s2, 8));
			EXPECT_EQ(EADDRINUSE, errno)
				TH_LOG("a second listener on [::]/0.0.0.0:%u", port);
		}
		close(s2);
		close(s1);
	}
}

/* ------------------------------------------------------------ IPv6 header */

/*
 * IPV6_TCLASS 0x28 on the client and 0x48 on the listener (the child
 * inherits it): every client segment carries 0x28, every server segment
 * 0x48.  An RST to a closed port (no socket) reflects the DSCP of the SYN
 * it answers.
 */
TEST_F(v6, tclass)
{
	int lfd, cfd, afd;
	unsigned short cport;
	char buf[10] = "0123456789";
	size_t i, from;

	lfd = sock6(_metadata, self->ns->b, variant->proto);
	ASSERT_EQ(0, sockopt_set(lfd, IPPROTO_IPV6, IPV6_TCLASS, TCLASS_S));
	ASSERT_EQ(0, bind_to(lfd, ETCP_NS_ADDR6_B, PORT));
	ASSERT_EQ(0, listen(lfd, 8));
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	EXPECT_EQ(0, sockopt_get(cfd, IPPROTO_IPV6, IPV6_TCLASS));
	ASSERT_EQ(0, sockopt_set(cfd, IPPROTO_IPV6, IPV6_TCLASS, TCLASS_C));
	EXPECT_EQ(TCLASS_C, sockopt_get(cfd, IPPROTO_IPV6, IPV6_TCLASS));
	ASSERT_EQ(0, connect_to(cfd, ETCP_NS_ADDR6_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	cport = local_port(cfd);
	EXPECT_EQ(TCLASS_S, sockopt_get(afd, IPPROTO_IPV6, IPV6_TCLASS))
		TH_LOG("the child does not inherit the listener's traffic class");
	ASSERT_EQ(0, send_all(cfd, buf, sizeof(buf)));
	ASSERT_EQ(0, recv_exact(afd, buf, sizeof(buf), WAIT_MS));
	ASSERT_EQ(0, send_all(afd, buf, sizeof(buf)));
	ASSERT_EQ(0, recv_exact(cfd, buf, sizeof(buf), WAIT_MS));
	ASSERT_EQ(0, wait_acked(afd, WAIT_MS));
	ASSERT_EQ(0, wait_acked(cfd, WAIT_MS));
	from = quiet(self->cap, QUIET_MS);
	ASSERT_LE(5U, from) TH_LOG("%s", EXCH);
	for (i = 0; i < from; i++) {
		const struct etcp_cap_seg *s = &self->cap->seg[i];

		EXPECT_EQ(s->sport == cport ? TCLASS_C : TCLASS_S, s->tos)
			TH_LOG("segment %zu: %s", i, EXCH);
	}

	/* The RST answering a SYN of traffic class 0x28. */
	close(cfd);
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, sockopt_set(cfd, IPPROTO_IPV6, IPV6_TCLASS, TCLASS_C));
	EXPECT_EQ(-ECONNREFUSED, connect_to(cfd, ETCP_NS_ADDR6_B, CLOSED_PORT));
	ASSERT_EQ(0, etcp_cap_wait(self->cap, from + 2, WAIT_MS)) TH_LOG("%s", EXCH);
	for (i = from; i < self->cap->n; i++) {
		const struct etcp_cap_seg *s = &self->cap->seg[i];

		if (s->sport != CLOSED_PORT && s->dport != CLOSED_PORT)
			continue;
		EXPECT_EQ(TCLASS_C, s->tos) TH_LOG("segment %zu: %s", i, EXCH);
	}
	close(cfd);
	close(afd);
	close(lfd);
}

/*
 * The label of every segment of one direction of @cport's connection at
 * or after @from: 0 when they all carry the same one (in *@label), -1
 * when they differ or there are none.
 */
static int one_label(const struct etcp_cap *cap, size_t from, unsigned short sport,
		     unsigned short dport, uint32_t *label)
{
	size_t i, n = 0;

	for (i = from; i < cap->n; i++) {
		const struct etcp_cap_seg *s = &cap->seg[i];

		if (s->sport != sport || s->dport != dport)
			continue;
		if (n++ && s->flowlabel != *label)
			return -1;
		*label = s->flowlabel;
	}
	return n ? 0 : -1;
}

/*
 * net.ipv6.auto_flowlabels is 1 (labels unless a socket opts out):
 * every segment of the client carries one non-zero label, every segment
 * of the server (SYN-ACK, data, FIN) one non-zero label, through data
 * and the close.  A client with IPV6_AUTOFLOWLABEL 0 sends label 0.
 */
TEST_F(v6, flowlabel)
{
	uint32_t lc = 0, ls = 0;
	int lfd, cfd, afd;
	unsigned short cport;
	long val = -1;
	size_t from;
	char c = 'z';

	ASSERT_EQ(0, ns_sysctl_get(self->ns->a, "net/ipv6/auto_flowlabels", &val));
	EXPECT_EQ(1, val) TH_LOG("net.ipv6.auto_flowlabels is not the default");
	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	open_pair6(_metadata, self, variant->proto, lfd, PORT, &cfd, &afd);
	cport = local_port(cfd);
	EXPECT_EQ(1, sockopt_get(cfd, IPPROTO_IPV6, IPV6_AUTOFLOWLABEL));
	ASSERT_EQ(0, send_all(cfd, &c, 1));
	ASSERT_EQ(0, recv_exact(afd, &c, 1, WAIT_MS));
	ASSERT_EQ(0, send_all(afd, &c, 1));
	ASSERT_EQ(0, recv_exact(cfd, &c, 1, WAIT_MS));
	close_to_time_wait(_metadata, self, variant->proto, cfd, afd, self->ns->a,
			   cport, PORT, "client");
	from = quiet(self->cap, QUIET_MS);

	EXPECT_EQ(0, one_label(self->cap, 0, cport, PORT, &lc))
		TH_LOG("the client's segments carry different labels: %s", EXCH);
	EXPECT_NE(0U, lc) TH_LOG("%s", EXCH);
	EXPECT_EQ(0, one_label(self->cap, 0, PORT, cport, &ls))
		TH_LOG("the server's segments carry different labels: %s", EXCH);
	EXPECT_NE(0U, ls) TH_LOG("%s", EXCH);

	/* Opted out. */
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	ASSERT_EQ(0, sockopt_set(cfd, IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0));
	ASSERT_EQ(0, connect_to(cfd, ETCP_NS_ADDR6_B, PORT)) TH_LOG("%s", EXCH);
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd);
	cport = local_port(cfd);
	ASSERT_EQ(0, send_all(cfd, &c, 1));
	ASSERT_EQ(0, recv_exact(afd, &c, 1, WAIT_MS));
	ASSERT_EQ(0, wait_acked(cfd, WAIT_MS));
	quiet(self->cap, QUIET_MS);
	lc = ~0U;
	EXPECT_EQ(0, one_label(self->cap, from, cport, PORT, &lc)) TH_LOG("%s", EXCH);
	EXPECT_EQ(0U, lc) TH_LOG("IPV6_AUTOFLOWLABEL 0 and still a label: %s", EXCH);

	close_abort(cfd);
	close(afd);
	close(lfd);
}

/* ------------------------------------------------------------ /proc */

/* /proc/net/tcp6's header line, as every supported kernel prints it. */
#define TCP6_HEADER	"  sl  local_address                         remote_address" \
			"                        st tx_queue rx_queue tr tm->when retrnsmt" \
			"   uid  timeout inode"

/*
 * In /proc/net/@file of nsfd, the row of @laddr:@lport <-> @raddr:@rport
 * in state @st is printed "%4d: <32 hex>:%04X <32 hex>:%04X %02X ",
 * the addresses as /proc/net/tcp6 prints them.
 */
static void expect_row6(struct __test_metadata *_metadata, int nsfd, const char *file,
			const char *laddr, unsigned int lport, const char *raddr,
			unsigned int rport, unsigned int st)
{
	static char text[64 * 1024];
	char la[33], ra[33], want[128], *line, *save = NULL;
	int found = 0;

	proc_addr6(laddr, la);
	proc_addr6(raddr, ra);
	snprintf(want, sizeof(want), "%s:%04X %s:%04X %02X ", la, lport, ra, rport, st);
	ASSERT_LE(0, ns_proc_net_read(nsfd, file, text, sizeof(text)));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		int sl;

		if (!colon || sscanf(line, "%d:", &sl) != 1)
			continue;
		/* "%4d: " then the columns. */
		if (colon - line == 4 && !strncmp(colon + 2, want, strlen(want)))
			found++;
	}
	EXPECT_EQ(1, found) TH_LOG("no row \"%s\" in /proc/net/%s", want, file);
}

/*
 * /proc/net/{tcp6,etcp6}: the header is TCP6_HEADER; the listener on
 * [fd00:1::2]:5000 is "<fd00:1::2>:1388 <::>:0000 0A", the connection's
 * ends "<fd00:1::2>:1388 <fd00:1::1>:<port> 01" and the mirror in a.
 */
TEST_F(v6, proc_format)
{
	static char text[64 * 1024];
	int lfd, cfd, afd;
	unsigned short cport;
	char *nl;

	ASSERT_LE(0, ns_proc_net_read(self->ns->b, table6(variant->proto), text, sizeof(text)))
		TH_LOG("no /proc/net/%s", table6(variant->proto));
	nl = strchr(text, '\n');
	ASSERT_TRUE(nl != NULL);
	*nl = '\0';
	EXPECT_STREQ(TCP6_HEADER, text)
		TH_LOG("the header of /proc/net/%s", table6(variant->proto));
	EXPECT_EQ('\0', nl[1]) TH_LOG("rows in an empty namespace: %s", nl + 1);

	lfd = listener(_metadata, self->ns->b, variant->proto, ETCP_NS_ADDR6_B, PORT);
	open_pair6(_metadata, self, variant->proto, lfd, PORT, &cfd, &afd);
	cport = local_port(cfd);
	expect_row6(_metadata, self->ns->b, table6(variant->proto), ETCP_NS_ADDR6_B, PORT,
		    "::", 0, ETCP_LISTEN);
	expect_row6(_metadata, self->ns->b, table6(variant->proto), ETCP_NS_ADDR6_B, PORT,
		    ETCP_NS_ADDR6_A, cport, ETCP_ESTABLISHED);
	expect_row6(_metadata, self->ns->a, table6(variant->proto), ETCP_NS_ADDR6_A, cport,
		    ETCP_NS_ADDR6_B, PORT, ETCP_ESTABLISHED);
	close(afd);
	close(cfd);
	close(lfd);
}

/* ------------------------------------------------------------ SYN retries */

#define DROP_SYN	"@th,104,8 & 0x12 == 0x02"	/* SYN without ACK */

static bool near_ms(int64_t ns, int64_t want_ms, int64_t tol_ms)
{
	return llabs(ns - want_ms * MS) <= tol_ms * MS;
}

/*
 * b drops IPv6 SYNs; syn_retries 1 (etcp_syn_retries for etcp, which
 * serves both families; tcp_syn_retries for TCP): SYNs at 0 and 1 s, the
 * same sequence number and MSS 1440, connect() fails ETIMEDOUT at 3 s,
 * no RST.
 */
TEST_F_TIMEOUT(v6, syn_retries, 30)
{
	const struct etcp_cap_seg *s0, *s1;
	int64_t t_ret;
	int cfd, ret;

	if (variant->proto == IPPROTO_TCP)
		ASSERT_EQ(0, tcp_classic_syn_backoff(self->ns->a));
	ASSERT_EQ(0, ns_nft_drop(self->ns->b, variant->proto, "input",
				 "meta nfproto ipv6 " DROP_SYN));
	ASSERT_EQ(0, proto_sysctl_set(self->ns->a, variant->proto, "syn_retries", 1));
	cfd = sock6(_metadata, self->ns->a, variant->proto);
	ret = connect_to(cfd, ETCP_NS_ADDR6_B, PORT);
	t_ret = etcp_cap_now(self->cap);
	EXPECT_EQ(-ETIMEDOUT, ret) TH_LOG("%s", EXCH);

	ASSERT_EQ(2U, quiet(self->cap, QUIET_MS)) TH_LOG("not exactly two SYNs: %s", EXCH);
	s0 = &self->cap->seg[0];
	s1 = &self->cap->seg[1];
	TH_LOG("SYNs at +0, +%.3f s (labels 0x%05x, 0x%05x), ETIMEDOUT at +%.3f s",
	       (s1->t - s0->t) / 1e9, s0->flowlabel, s1->flowlabel, (t_ret - s0->t) / 1e9);
	EXPECT_TRUE(s0->out && s0->family == AF_INET6 && s0->flags == ETCP_TH_SYN &&
		    s0->mss == MSS6)
		TH_LOG("%s", EXCH);
	EXPECT_TRUE(s1->out && s1->family == AF_INET6 && s1->flags == ETCP_TH_SYN &&
		    s1->seq == s0->seq && s1->mss == MSS6)
		TH_LOG("the retransmission is not the same SYN: %s", EXCH);
	EXPECT_TRUE(near_ms(s1->t - s0->t, 1000, GAP_TOL_MS))
		TH_LOG("retransmission not 1 s after the SYN: %s", EXCH);
	EXPECT_TRUE(near_ms(t_ret - s0->t, 3000, END_TOL_MS))
		TH_LOG("ETIMEDOUT %.3f s after the first SYN, not 3 s", (t_ret - s0->t) / 1e9);
	EXPECT_EQ(ETCP_CLOSE, sock_state(cfd, variant->proto));
	close(cfd);
}

/*
 * The socket objects: each family adds its IPv6 part to both protocols'
 * objects alike, so the saving of etcp over TCP is the same for both
 * (the caches round to cache lines, hence at least).
 */
TEST(object_size)
{
	long etcp = slab_objsize("ETCP"), etcp6 = slab_objsize("ETCPv6");
	long tcp = slab_objsize("TCP"), tcp6 = slab_objsize("TCPv6");

	ASSERT_LT(0, tcp) TH_LOG("no TCP cache in /proc/slabinfo");
	ASSERT_LT(0, tcp6) TH_LOG("no TCPv6 cache in /proc/slabinfo");
	ASSERT_LT(0, etcp) TH_LOG("no ETCP cache in /proc/slabinfo");
	ASSERT_LT(0, etcp6) TH_LOG("no ETCPv6 cache in /proc/slabinfo");
	TH_LOG("ETCP %ld, TCP %ld; ETCPv6 %ld, TCPv6 %ld bytes",
	       etcp, tcp, etcp6, tcp6);
	EXPECT_LT(etcp, tcp);
	EXPECT_LE(tcp - etcp, tcp6 - etcp6);
}

TEST_HARNESS_MAIN
