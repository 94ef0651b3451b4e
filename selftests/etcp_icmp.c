// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: ICMP errors about our segments (module/icmp.c).
 *
 *   netns a (client)        netns b (router)             netns c (server)
 *   ea 10.0.1.1 ------ eb 10.0.1.2   eb2 10.0.2.1 ------ ec 10.0.2.2
 *                                     ^ MTU 1280 in "pmtu"
 *
 * b forwards between a and c (etcp_netns_add_c()) and answers for
 * addresses it cannot or will not reach: routes "unreachable" and
 * "prohibit", or none at all.  Its ICMP errors are not rate-limited per host
 * (icmp_ratemask 0), so every test gets each error it provokes.  Forged
 * errors come from a raw ICMP socket in c (or b), quoting an IP header
 * and the first 8 bytes of a segment as RFC 792 has them.
 *
 * Every test runs over kernel TCP as well as etcp (FIXTURE_VARIANT): the
 * TCP run proves the test expects what Linux does.  TCP's timestamps are
 * off, so that its MSS is etcp's: MTU - 40.
 *
 *   pmtu                   a 4 MiB transfer with DF through the 1280-byte
 *                          link completes; PMTU 1280, MSS 1240
 *   connect_unreachable    connect() fails at once with the errno of the
 *                          router's ICMP error, before any retransmission
 *   connect_forged_errors  ...and of the codes b's routes cannot send
 *   recverr_on_connect     IP_RECVERR queues the ICMP error itself
 *   established_soft_error an unreachable on an open connection is only
 *                          a soft error (SO_ERROR), the connection lives
 *   timeout_reports_soft_error  ...and is what a later timeout reports
 *   ack_forgets_soft_error ...unless an ACK came since: then ETIMEDOUT
 *   forged_out_of_window   an error quoting a sequence number not in
 *                          flight changes nothing and is counted
 *   request_unreachable    a request whose SYN-ACK a host unreachable
 *                          quotes is dropped, unless the number is wrong
 *   pmtu6                  pmtu over IPv6 (fd00:1::1 to fd00:2::2): b's
 *                          "packet too big" (RFC 8201) gives PMTU 1280,
 *                          MSS 1220
 *   connect_unreachable6   connect_unreachable over IPv6: ICMPv6's
 *                          codes and their errnos
 *   recverr_on_connect6    IPV6_RECVERR queues the ICMPv6 error itself
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_netns.h"
#include "etcp_raw.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns c */
#define RAW_PORT	41000	/* hand-made SYNs from netns a */
#define MTU_SMALL	1280	/* b's link to c in "pmtu" */
#define MTU_LINK	1500
#define BULK_LEN	(4 << 20)
#define WAIT_MS		3000	/* for what should happen at once */
#define BULK_MS		100000	/* the transfer, under TCG */
#define FIRST_RTO_MS	1000	/* the SYN's first retransmission */

/* ICMPv6 (RFC 4443): destination unreachable, no route. */
#define ICMP6_T_UNREACH		1
#define ICMP6_C_NOROUTE		0

/* ICMP (RFC 792). */
#define ICMP_T_UNREACH		3
#define ICMP_C_NET		0
#define ICMP_C_HOST		1
#define ICMP_C_FRAG_NEEDED	4

ETCP_ENV_CHECK()

/* ------------------------------------------------------------ helpers */

/* Poll until counter @name of nsfd is at least @value: 0 or -ETIMEDOUT. */
static int counter_reaches(int nsfd, int proto, const char *name, long value, int ms)
{
	return wait_counter(nsfd, proto, name, value, ms) >= value ? 0 : -ETIMEDOUT;
}

/* The path MTU and send MSS of @fd: ETCP_INFO or TCP_INFO.  0 or -errno. */
static int path_of(int fd, int proto, unsigned int *pmtu, unsigned int *mss)
{
	socklen_t len;

	if (proto == IPPROTO_ETCP) {
		struct etcp_info ei = {};

		len = sizeof(ei);
		if (getsockopt(fd, SOL_ETCP, ETCP_INFO, &ei, &len))
			return -errno;
		if (len != sizeof(ei))
			return -EPROTO;
		*pmtu = ei.etcpi_pmtu;
		*mss = ei.etcpi_snd_mss;
	} else {
		struct tcp_info ti = {};

		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -errno;
		*pmtu = ti.tcpi_pmtu;
		*mss = ti.tcpi_snd_mss;
	}
	return 0;
}

/* Poll until @fd's path is @pmtu and @mss: 0 or -ETIMEDOUT (last seen). */
static int wait_path(int fd, int proto, unsigned int pmtu, unsigned int mss,
		     int ms, unsigned int *got_pmtu, unsigned int *got_mss)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		if (!path_of(fd, proto, got_pmtu, got_mss) &&
		    *got_pmtu == pmtu && *got_mss == mss)
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_step();
	}
}

/*
 * Poll SO_ERROR (which reads and clears the soft error too) for @err: 0,
 * another error number, or -ETIMEDOUT when none came.
 */
static int wait_so_error(int fd, int err, int ms)
{
	int64_t deadline = now_ms() + ms;
	int e;

	for (;;) {
		e = so_error(fd);
		if (e == err)
			return 0;
		if (e || now_ms() > deadline)
			return e ? e : -ETIMEDOUT;
		pause_step();
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* The datagram an ICMP error is about, as much of it as it quotes. */
struct quote {
	const char *saddr, *daddr;	/* of the quoted datagram */
	int proto;
	uint16_t sport, dport;
	uint32_t seq;
};

/*
 * Send from netns @nsfd to @to an ICMP error of @type/@code (@mtu for
 * "fragmentation needed") quoting an IP header and 8 bytes of @q's
 * segment, from a raw ICMP socket: 0 or -errno.
 */
static int icmp_forge(int nsfd, const char *to, uint8_t type, uint8_t code,
		      uint16_t mtu, const struct quote *q)
{
	uint8_t pkt[8 + 20 + 8] = {};
	uint8_t *ip = pkt + 8, *th = ip + 20;
	struct sockaddr_in dst = sin_of(to, 0);
	struct in_addr a;
	int fd, ret = 0;

	pkt[0] = type;
	pkt[1] = code;
	put16(pkt + 6, mtu);
	ip[0] = 0x45;
	put16(ip + 2, code == ICMP_C_FRAG_NEEDED ? MTU_LINK : 40);
	ip[6] = 0x40;				/* DF */
	ip[8] = 63;
	ip[9] = q->proto;
	if (inet_pton(AF_INET, q->saddr, &a) != 1)
		return -EINVAL;
	memcpy(ip + 12, &a, 4);
	if (inet_pton(AF_INET, q->daddr, &a) != 1)
		return -EINVAL;
	memcpy(ip + 16, &a, 4);
	put16(ip + 10, etcp_inet_csum(ip, 20));
	put16(th, q->sport);
	put16(th + 2, q->dport);
	put32(th + 4, q->seq);
	put16(pkt + 2, etcp_inet_csum(pkt, sizeof(pkt)));

	fd = ns_socket(nsfd, AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0)
		return -errno;
	if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) != (ssize_t)sizeof(pkt))
		ret = -errno;
	close(fd);
	return ret;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(icmp) {
	struct etcp_netns ns;
};

FIXTURE_VARIANT(icmp) {
	int proto;
	const char *name;	/* of the sysctls: net/ipv4/NAME_retries2 */
};

FIXTURE_VARIANT_ADD(icmp, tcp) {
	.proto = IPPROTO_TCP,
	.name = "tcp",
};

FIXTURE_VARIANT_ADD(icmp, etcp) {
	.proto = IPPROTO_ETCP,
	.name = "etcp",
};

FIXTURE_SETUP(icmp)
{
	const char *why = env_unsupported;
	int ret;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = router_ns_setup(&self->ns, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
}

FIXTURE_TEARDOWN(icmp)
{
	etcp_netns_teardown(&self->ns);
}

static int client_socket_family(FIXTURE_DATA(icmp) *self,
				const FIXTURE_VARIANT(icmp) *variant,
				int family)
{
	int fd = ns_socket(self->ns.a, family, SOCK_STREAM | SOCK_CLOEXEC,
			   variant->proto);

	/* connect() blocks at most this long: a bug cannot hang the test. */
	if (fd >= 0)
		set_timeo(fd, SO_SNDTIMEO, WAIT_MS);
	return fd;
}

static int client_socket(FIXTURE_DATA(icmp) *self,
			 const FIXTURE_VARIANT(icmp) *variant)
{
	return client_socket_family(self, variant, AF_INET);
}

/* A connection a -> c: the client's fd, the accepted one in *afd. */
static int connect_c(FIXTURE_DATA(icmp) *self,
		     const FIXTURE_VARIANT(icmp) *variant, int lfd, int *afd)
{
	int fd = client_socket(self, variant), ret;

	if (fd < 0)
		return -errno;
	ret = connect_to(fd, ETCP_NS_ADDR_C, PORT);
	if (ret) {
		close(fd);
		return ret;
	}
	*afd = accept_wait(lfd, WAIT_MS);
	if (*afd < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * A listener in c and a client in a connected to it, with a's retries2
 * at 3 so that a silent path kills the client within seconds: the
 * client's fd, or -errno; *lfd and *afd are the listener and the child.
 */
static int connect_c_retries3(FIXTURE_DATA(icmp) *self,
			      const FIXTURE_VARIANT(icmp) *variant,
			      int *lfd, int *afd)
{
	char knob[64];

	snprintf(knob, sizeof(knob), "net/ipv4/%s_retries2", variant->name);
	if (ns_sysctl_write(self->ns.a, knob, "3"))
		return -EIO;
	*lfd = listen_on(self->ns.c, variant->proto, ETCP_NS_ADDR_C, PORT, 4);
	if (*lfd < 0)
		return -errno;
	return connect_c(self, variant, *lfd, afd);
}

/* "ip route @how" to c's address (ETCP_NS_ADDR_C/32) in netns b: 0 or -errno. */
static int route_c(FIXTURE_DATA(icmp) *self, const char *how)
{
	return ns_cmd(self->ns.b, "ip route %s %s/32", how, ETCP_NS_ADDR_C);
}

/*
 * connect_c_retries3(), then b's route to c unreachable and @len bytes of
 * @buf written: the client's fd (*@lfd and *@afd as there).
 */
static int connect_then_unreachable(struct __test_metadata *_metadata,
				    FIXTURE_DATA(icmp) *self,
				    const FIXTURE_VARIANT(icmp) *variant,
				    int *lfd, int *afd, const void *buf, size_t len)
{
	int cfd = connect_c_retries3(self, variant, lfd, afd);

	ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
	ASSERT_EQ(0, route_c(self, "add unreachable"));
	ASSERT_EQ(0, send_all(cfd, buf, len));
	return cfd;
}

/* @cfd's connection dies within 30 s, and recv() then fails with @err. */
static void expect_dies_with(struct __test_metadata *_metadata,
			     const FIXTURE_VARIANT(icmp) *variant, int cfd,
			     int err)
{
	char buf[16];
	int rev;

	rev = poll_fd(cfd, POLLIN, 30000);
	ASSERT_TRUE(rev > 0 && (rev & POLLERR)) TH_LOG("%s: no error within 30 s (revents 0x%x)",
					  variant->name, rev);
	EXPECT_EQ(-1, recv(cfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(err, errno) TH_LOG("%s: %s, want %s", variant->name,
				     strerror(errno), strerror(err));
}

/* ------------------------------------------------------------ tests */

/*
 * A 4 MiB transfer a -> c over @family (@addr: c's address, @nethdr: the
 * IP header's length, @dontfrag_level/@dontfrag: the option that sets DF)
 * through b's link of MTU_SMALL: the MSS starts at MTU_LINK's and ends,
 * the stream intact, at MTU_SMALL's, the route's MTU (@mtu_opt) with it.
 */
static void pmtu_through_b(struct __test_metadata *_metadata,
			   FIXTURE_DATA(icmp) *self,
			   const FIXTURE_VARIANT(icmp) *variant, int family,
			   const char *addr, int nethdr, int dontfrag_level,
			   int dontfrag, int mtu_opt)
{
	unsigned int pmtu, mss;
	size_t done = 0, bad = 0;
	int lfd, cfd, afd, ret, mtu;
	socklen_t len = sizeof(mtu);

	ASSERT_EQ(0, ns_cmd(self->ns.b, "ip link set dev %s mtu %d",
			    ETCP_NS_IF_B2, MTU_SMALL));
	lfd = listen_on(self->ns.c, variant->proto, addr, PORT, 4);
	ASSERT_LE(0, lfd) TH_LOG("listen: %s", strerror(errno));
	cfd = client_socket_family(self, variant, family);
	ASSERT_LE(0, cfd);
	/* DF on every segment, whatever the route says. */
	ASSERT_EQ(0, sockopt_set(cfd, dontfrag_level, dontfrag,
				 family == AF_INET ? IP_PMTUDISC_DO :
						     IPV6_PMTUDISC_DO));
	ASSERT_EQ(0, connect_to(cfd, addr, PORT));
	afd = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));

	ASSERT_EQ(0, path_of(cfd, variant->proto, &pmtu, &mss));
	EXPECT_EQ(MTU_LINK, pmtu);
	EXPECT_EQ(MTU_LINK - nethdr - 20, mss);

	ret = bulk_xfer(cfd, afd, BULK_LEN, BULK_MS, &done, &bad);
	ASSERT_EQ(0, ret) TH_LOG("%s: %zu of %d bytes arrived (bad at %zu): %s",
				 variant->name, done, BULK_LEN, bad,
				 strerror(-ret));

	ASSERT_EQ(0, path_of(cfd, variant->proto, &pmtu, &mss));
	EXPECT_EQ(MTU_SMALL, pmtu);
	EXPECT_EQ(MTU_SMALL - nethdr - 20, mss);
	/* The route learnt it too: IP_MTU is the cached route's MTU. */
	ASSERT_EQ(0, getsockopt(cfd, dontfrag_level, mtu_opt, &mtu, &len));
	EXPECT_EQ(MTU_SMALL, mtu);
	EXPECT_EQ(TCP_ESTABLISHED, sock_state(cfd, variant->proto));

	close_fds(&afd, &cfd, &lfd, NULL);
}

/*
 * RFC 1191 through a router: b's link to c has MTU 1280, a's and c's own
 * links 1500, so the handshake settles on MSS 1460 and the first full
 * segments, sent with DF, die at b, which answers "fragmentation needed"
 * with MTU 1280.  Without the ICMP handler the connection would black-hole
 * them for ever; with it the whole stream arrives, and the sender's path
 * MTU and MSS are 1280 and 1240.
 */
TEST_F_TIMEOUT(icmp, pmtu, 150)
{
	pmtu_through_b(_metadata, self, variant, AF_INET, ETCP_NS_ADDR_C, 20,
		       IPPROTO_IP, IP_MTU_DISCOVER, IP_MTU);
}

/* How b answers a SYN for an address, and what connect() then says. */
static const struct unreach_case {
	const char *addr;
	const char *how;
	int err;
} unreach_cases[] = {
	{ "10.0.3.1", "route unreachable: host unreachable", EHOSTUNREACH },
	{ "10.0.3.2", "route prohibit: administratively filtered", EHOSTUNREACH },
	{ "10.0.4.1", "no route: net unreachable", ENETUNREACH },
};

#define BLACKHOLED	"10.0.3.9"	/* b drops what goes there */

/*
 * b's routes for unreach_cases[] and BLACKHOLED, its answers to a 50 ms
 * late.  On a veth the error would otherwise come back inside connect()'s
 * own send of the SYN, while connect() holds the socket: then Linux (and
 * etcp) only note it as a soft error, and the verdict waits for the SYN's
 * retransmission a second later.
 */
static int router_rejects(FIXTURE_DATA(icmp) *self)
{
	return ns_cmd(self->ns.b,
		      "tc qdisc add dev " ETCP_NS_IF_B " root netem delay 50ms && "
		      "ip route add unreachable 10.0.3.1/32 && "
		      "ip route add prohibit 10.0.3.2/32 && "
		      "ip route add blackhole 10.0.3.0/24");
}

static const char *syn_retrans_name(int proto)
{
	return proto == IPPROTO_ETCP ? "SynRetrans" : "TCPSynRetrans";
}

/*
 * RFC 1122 4.2.3.9, as Linux applies it to a connection not yet
 * synchronized: the first ICMP error ends connect() with its errno
 * (icmp_err_convert[]), at once, not after the SYN retransmissions.
 */
TEST_F(icmp, connect_unreachable)
{
	long retrans0 = read_counter(self->ns.a, variant->proto,
				syn_retrans_name(variant->proto));
	int64_t t0, ms;
	unsigned int i;
	int fd, ret;

	ASSERT_LE(0, retrans0);
	ASSERT_EQ(0, router_rejects(self));

	for (i = 0; i < sizeof(unreach_cases) / sizeof(unreach_cases[0]); i++) {
		const struct unreach_case *c = &unreach_cases[i];

		fd = client_socket(self, variant);
		ASSERT_LE(0, fd);
		t0 = now_ms();
		ret = connect_to(fd, c->addr, PORT);
		ms = now_ms() - t0;
		EXPECT_EQ(-c->err, ret)
			TH_LOG("%s: connect() to %s (%s): %s, want %s",
			       variant->name, c->addr, c->how, strerror(-ret),
			       strerror(c->err));
		EXPECT_GT(FIRST_RTO_MS / 2, ms)
			TH_LOG("%s: connect() to %s took %lld ms",
			       variant->name, c->addr, (long long)ms);
		EXPECT_EQ(TCP_CLOSE, sock_state(fd, variant->proto));
		close(fd);
	}
	EXPECT_EQ(retrans0, read_counter(self->ns.a, variant->proto,
				    syn_retrans_name(variant->proto)))
		TH_LOG("a SYN was retransmitted");
	if (variant->proto == IPPROTO_ETCP)
		EXPECT_LE(3, stat_now(self->ns.a, "AttemptFails"));
}

/* Errors b is made to send about a SYN, and what connect() then says. */
static const struct forged_case {
	uint8_t type, code;
	const char *what;
	int err;
} forged_cases[] = {
	{ 3, 3, "port unreachable", ECONNREFUSED },
	{ 3, 2, "protocol unreachable", ENOPROTOOPT },
	{ 3, 13, "communication administratively prohibited", EHOSTUNREACH },
	{ 3, 10, "host administratively prohibited", EHOSTUNREACH },
	{ 11, 0, "time exceeded in transit", EHOSTUNREACH },
	{ 12, 0, "parameter problem", EPROTO },
};

/* Wait for a non-blocking connect() to end: SO_ERROR, or -ETIMEDOUT. */
static int connect_result(int fd, int ms)
{
	int rev = poll_fd(fd, POLLOUT, ms);

	if (rev <= 0)
		return -ETIMEDOUT;
	return so_error(fd);
}

/*
 * The other codes, which b's routes cannot be made to send (and
 * nftables' reject will not: it cannot check the checksum of a protocol
 * it does not know, and so never answers etcp): b sends them by hand,
 * quoting the SYN as a router would.  A source quench before the last
 * one is ignored (RFC 6633): the error that follows it is the one
 * connect() reports.
 */
TEST_F(icmp, connect_forged_errors)
{
	struct etcp_cap_sel sel = { .mask = 0xff, .flags = ETCP_TH_SYN };
	struct quote q = {
		.saddr = ETCP_NS_ADDR_A, .daddr = BLACKHOLED,
		.proto = variant->proto, .dport = PORT,
	};
	struct etcp_cap *cap;
	unsigned int i;
	int fd, ret;
	long k;

	pin_cpu();
	ASSERT_EQ(0, ns_cmd(self->ns.b, "ip route add blackhole 10.0.3.0/24"));
	cap = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, variant->proto);
	ASSERT_NE(NULL, cap) TH_LOG("capture: %s", strerror(errno));

	for (i = 0; i < sizeof(forged_cases) / sizeof(forged_cases[0]); i++) {
		const struct forged_case *c = &forged_cases[i];

		fd = client_socket(self, variant);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, set_nonblock(fd, true));
		ASSERT_EQ(-EINPROGRESS, connect_to(fd, BLACKHOLED, PORT));
		sel.sport = local_port(fd);
		k = etcp_cap_wait_match(cap, 0, etcp_cap_sel_match, &sel, WAIT_MS);
		ASSERT_LE(0, k) TH_LOG("no SYN: %s", etcp_cap_str(cap));
		q.sport = sel.sport;
		q.seq = cap->seg[k].seq;

		if (i == sizeof(forged_cases) / sizeof(forged_cases[0]) - 1)
			ASSERT_EQ(0, icmp_forge(self->ns.b, ETCP_NS_ADDR_A, 4, 0,
						0, &q));
		ASSERT_EQ(0, icmp_forge(self->ns.b, ETCP_NS_ADDR_A, c->type,
					c->code, 0, &q));
		ret = connect_result(fd, WAIT_MS);
		EXPECT_EQ(c->err, ret)
			TH_LOG("%s: %s: connect() says %s, want %s",
			       variant->name, c->what,
			       ret < 0 ? "nothing" : strerror(ret),
			       strerror(c->err));
		EXPECT_EQ(TCP_CLOSE, sock_state(fd, variant->proto));
		close(fd);
	}
	etcp_cap_stop(cap);
}

/*
 * IP_RECVERR: the error connect() fails with is on the error queue as
 * well, as ip_recv_error() reports it: ICMP origin, type and code, the
 * router as offender, the quoted destination as the address.
 */
TEST_F(icmp, recverr_on_connect)
{
	char ctrl[512];
	struct sockaddr_in from = {}, *off;
	struct iovec iov;
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct sock_extended_err *ee = NULL;
	struct cmsghdr *cm;
	int fd, ret;
	char buf[64];

	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(0, router_rejects(self));
	fd = client_socket(self, variant);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sockopt_set(fd, IPPROTO_IP, IP_RECVERR, 1));
	ret = connect_to(fd, "10.0.3.1", PORT);
	ASSERT_EQ(-EHOSTUNREACH, ret) TH_LOG("%s", strerror(-ret));

	ret = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
	ASSERT_LE(0, ret) TH_LOG("MSG_ERRQUEUE: %s", strerror(errno));
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR)
			ee = (struct sock_extended_err *)CMSG_DATA(cm);
	ASSERT_NE(NULL, ee) TH_LOG("no IP_RECVERR message");
	EXPECT_EQ(EHOSTUNREACH, ee->ee_errno);
	EXPECT_EQ(SO_EE_ORIGIN_ICMP, ee->ee_origin);
	EXPECT_EQ(ICMP_T_UNREACH, ee->ee_type);
	EXPECT_EQ(ICMP_C_HOST, ee->ee_code);
	off = (struct sockaddr_in *)SO_EE_OFFENDER(ee);
	EXPECT_EQ(AF_INET, off->sin_family);
	EXPECT_EQ(inet_addr(ETCP_NS_ADDR_B), off->sin_addr.s_addr);
	EXPECT_EQ(inet_addr("10.0.3.1"), from.sin_addr.s_addr);
	EXPECT_EQ(htons(PORT), from.sin_port);
	/* The payload is the quoted segment, from our header on. */
	EXPECT_LE(8, ret);
	close(fd);
}

/*
 * RFC 5927 5.2, RFC 9293 3.9.2.2: on a synchronized connection an ICMP
 * error, however hard, is only noted.  While b answers every segment for
 * c with "host unreachable", the client keeps the connection, SO_ERROR
 * reports the soft error; once b forwards again the data arrives.
 */
TEST_F_TIMEOUT(icmp, established_soft_error, 60)
{
	static char out[3000], in[3000];
	int lfd, cfd, afd, ret;
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = bulk_byte(i);
	lfd = listen_on(self->ns.c, variant->proto, ETCP_NS_ADDR_C, PORT, 4);
	ASSERT_LE(0, lfd);
	cfd = connect_c(self, variant, lfd, &afd);
	ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
	ASSERT_EQ(0, send_all(cfd, out, 1000));
	ASSERT_EQ(0, recv_exact(afd, in, 1000, WAIT_MS));

	ASSERT_EQ(0, route_c(self, "add unreachable"));
	ASSERT_EQ(0, send_all(cfd, out + 1000, 1000));
	ret = wait_so_error(cfd, EHOSTUNREACH, WAIT_MS);
	EXPECT_EQ(0, ret) TH_LOG("%s: SO_ERROR %s, want EHOSTUNREACH",
				 variant->name, ret > 0 ? strerror(ret) : "none");
	EXPECT_EQ(TCP_ESTABLISHED, sock_state(cfd, variant->proto));
	/* No hard error: writing goes on. */
	EXPECT_EQ(0, send_all(cfd, out + 2000, 1000));

	ASSERT_EQ(0, route_c(self, "del unreachable"));
	ret = recv_exact(afd, in + 1000, 2000, 20000);
	ASSERT_EQ(0, ret) TH_LOG("%s: the data after the error: %s",
				 variant->name, strerror(-ret));
	EXPECT_EQ(0, memcmp(in, out, sizeof(out)));
	EXPECT_EQ(TCP_ESTABLISHED, sock_state(cfd, variant->proto));

	close_fds(&afd, &cfd, &lfd, NULL);
}

/*
 * ...and when the peer never comes back, the connection times out
 * (retries2 3) with the soft error rather than ETIMEDOUT, as Linux's
 * tcp_write_err() reports it.
 */
TEST_F_TIMEOUT(icmp, timeout_reports_soft_error, 60)
{
	char buf[100] = {};
	int lfd, cfd, afd;

	cfd = connect_then_unreachable(_metadata, self, variant, &lfd, &afd, buf, sizeof(buf));
	expect_dies_with(_metadata, variant, cfd, EHOSTUNREACH);
	EXPECT_EQ(TCP_CLOSE, sock_state(cfd, variant->proto));

	close_fds(&afd, &cfd, &lfd, NULL);
}

/*
 * An acceptable ACK shows the path works again: the soft error of an
 * earlier "host unreachable" is forgotten (Linux's tcp_ack() clears
 * sk_err_soft), so a later timeout on a path that went silent reports
 * ETIMEDOUT, not the stale EHOSTUNREACH.  SO_ERROR is never read before
 * the end, which would clear the soft error by itself.
 */
TEST_F_TIMEOUT(icmp, ack_forgets_soft_error, 60)
{
	char buf[1000] = {};
	int lfd, cfd, afd, i;
	struct sinfo si;

	/* Unreachable until the first retransmission: the ICMP came before. */
	cfd = connect_then_unreachable(_metadata, self, variant, &lfd, &afd, buf, sizeof(buf));
	for (i = 0; i < 2000; i++) {
		ASSERT_EQ(0, sinfo_get(cfd, variant->proto, &si));
		if (si.total_retrans)
			break;
		pause_step();
	}
	ASSERT_LT(0, si.total_retrans) TH_LOG("%s: no retransmission", variant->name);
	ASSERT_EQ(0, route_c(self, "del unreachable"));
	ASSERT_EQ(0, recv_exact(afd, buf, sizeof(buf), 20000));
	for (i = 0; i < 2000 && ioctl_int(cfd, SIOCOUTQ) > 0; i++)
		pause_step();
	ASSERT_EQ(0, ioctl_int(cfd, SIOCOUTQ)) TH_LOG("%s: data never acknowledged",
						     variant->name);

	/* Now the path drops everything without a word. */
	ASSERT_EQ(0, route_c(self, "add blackhole"));
	ASSERT_EQ(0, send_all(cfd, buf, 100));
	expect_dies_with(_metadata, variant, cfd, ETIMEDOUT);

	close_fds(&afd, &cfd, &lfd, NULL);
}

/*
 * RFC 5927 4.1: errors quoting a sequence number outside [SND.UNA,
 * SND.NXT] are forged or stale.  A "fragmentation needed" and a "host
 * unreachable" with such a number, sent from the peer's namespace, leave
 * the path MTU, the MSS and SO_ERROR alone and count OutOfWindowIcmps;
 * the same errors quoting SND.UNA take effect.
 */
TEST_F(icmp, forged_out_of_window)
{
	const struct etcp_cap_seg *syn;
	struct etcp_cap *cap;
	unsigned int pmtu, mss;
	struct quote q = {
		.saddr = ETCP_NS_ADDR_A, .daddr = ETCP_NS_ADDR_C,
		.proto = variant->proto, .dport = PORT,
	};
	int lfd, cfd, afd, ret;
	uint32_t una;
	long oow0;
	char buf[100] = {};

	cap = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, variant->proto);
	ASSERT_NE(NULL, cap) TH_LOG("capture: %s", strerror(errno));
	lfd = listen_on(self->ns.c, variant->proto, ETCP_NS_ADDR_C, PORT, 4);
	ASSERT_LE(0, lfd);
	cfd = connect_c(self, variant, lfd, &afd);
	ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
	q.sport = local_port(cfd);

	/* Nothing sent after the handshake: SND.UNA = SND.NXT = ISS + 1. */
	ASSERT_EQ(0, etcp_cap_wait(cap, 3, WAIT_MS)) TH_LOG("%s", etcp_cap_str(cap));
	syn = &cap->seg[0];
	ASSERT_TRUE(syn->out && syn->flags == ETCP_TH_SYN)
		TH_LOG("%s", etcp_cap_str(cap));
	una = syn->seq + 1;
	etcp_cap_stop(cap);

	oow0 = read_counter(self->ns.a, variant->proto, "OutOfWindowIcmps");
	ASSERT_LE(0, oow0);

	/* Far outside, on either side of the window. */
	q.seq = una + 0x40000000;
	ASSERT_EQ(0, icmp_forge(self->ns.c, ETCP_NS_ADDR_A, ICMP_T_UNREACH,
				ICMP_C_FRAG_NEEDED, MTU_SMALL, &q));
	q.seq = una - 0x40000000;
	ASSERT_EQ(0, icmp_forge(self->ns.c, ETCP_NS_ADDR_A, ICMP_T_UNREACH,
				ICMP_C_HOST, 0, &q));
	ret = counter_reaches(self->ns.a, variant->proto, "OutOfWindowIcmps",
			      oow0 + 2, WAIT_MS);
	EXPECT_EQ(0, ret) TH_LOG("%s: OutOfWindowIcmps %ld, want %ld",
				 variant->name,
				 read_counter(self->ns.a, variant->proto, "OutOfWindowIcmps"),
				 oow0 + 2);
	ASSERT_EQ(0, path_of(cfd, variant->proto, &pmtu, &mss));
	EXPECT_EQ(MTU_LINK, pmtu);
	EXPECT_EQ(MTU_LINK - 40, mss);
	EXPECT_EQ(0, so_error(cfd));

	/* SND.UNA itself: believed. */
	q.seq = una;
	ASSERT_EQ(0, icmp_forge(self->ns.c, ETCP_NS_ADDR_A, ICMP_T_UNREACH,
				ICMP_C_FRAG_NEEDED, MTU_SMALL, &q));
	ret = wait_path(cfd, variant->proto, MTU_SMALL, MTU_SMALL - 40, WAIT_MS,
			&pmtu, &mss);
	EXPECT_EQ(0, ret) TH_LOG("%s: pmtu %u mss %u", variant->name, pmtu, mss);
	ASSERT_EQ(0, icmp_forge(self->ns.c, ETCP_NS_ADDR_A, ICMP_T_UNREACH,
				ICMP_C_HOST, 0, &q));
	ret = wait_so_error(cfd, EHOSTUNREACH, WAIT_MS);
	EXPECT_EQ(0, ret) TH_LOG("%s: SO_ERROR %s, want EHOSTUNREACH",
				 variant->name, ret > 0 ? strerror(ret) : "none");
	EXPECT_EQ(oow0 + 2, read_counter(self->ns.a, variant->proto, "OutOfWindowIcmps"));

	/* The connection is none the worse. */
	EXPECT_EQ(TCP_ESTABLISHED, sock_state(cfd, variant->proto));
	ASSERT_EQ(0, send_all(cfd, buf, sizeof(buf)));
	EXPECT_EQ(0, recv_exact(afd, buf, sizeof(buf), WAIT_MS));

	close_fds(&afd, &cfd, &lfd, NULL);
}

static bool is_synack(const struct etcp_cap_seg *seg, const void *arg)
{
	(void)arg;
	return seg->sport == PORT && seg->dport == RAW_PORT &&
	       seg->flags == (ETCP_TH_SYN | ETCP_TH_ACK);
}

/*
 * A request in SYN_RECV (Linux: tcp_req_err()): a "host unreachable"
 * quoting its SYN-ACK with a number other than its ISS is counted and
 * ignored; quoting the ISS, it ends the request.  The client is a raw
 * socket in a whose SYN-ACK the namespace's own stack must not reset.
 */
TEST_F(icmp, request_unreachable)
{
	struct etcp_raw_seg syn = {
		.saddr = ETCP_NS_ADDR_A, .daddr = ETCP_NS_ADDR_C,
		.sport = RAW_PORT, .dport = PORT, .seq = 1000,
		.flags = ETCP_TH_SYN, .window = 65535,
	};
	struct quote q = {
		.saddr = ETCP_NS_ADDR_C, .daddr = ETCP_NS_ADDR_A,
		.proto = variant->proto, .sport = PORT, .dport = RAW_PORT,
	};
	struct etcp_cap_seg synack;
	int lfd, raw, ret;
	long oow0;

	lfd = listen_on(self->ns.c, variant->proto, ETCP_NS_ADDR_C, PORT, 4);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, ns_nft_drop(self->ns.a, variant->proto, "output",
				 "@th,104,8 & 0x04 == 0x04"));
	raw = etcp_raw_open(self->ns.a, variant->proto);
	ASSERT_LE(0, raw) TH_LOG("raw socket: %s", strerror(errno));
	ASSERT_EQ(0, etcp_raw_send(raw, &syn));
	ret = etcp_raw_recv(raw, is_synack, NULL, &synack, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("no SYN-ACK: %s", strerror(-ret));
	ASSERT_EQ(0, wait_row_state(self->ns.c, variant->proto, PORT, RAW_PORT,
			      TCP_SYN_RECV, WAIT_MS));

	oow0 = read_counter(self->ns.c, variant->proto, "OutOfWindowIcmps");
	ASSERT_LE(0, oow0);
	q.seq = synack.seq + 1000;
	ASSERT_EQ(0, icmp_forge(self->ns.b, ETCP_NS_ADDR_C, ICMP_T_UNREACH,
				ICMP_C_HOST, 0, &q));
	EXPECT_EQ(0, counter_reaches(self->ns.c, variant->proto,
				     "OutOfWindowIcmps", oow0 + 1, WAIT_MS));
	EXPECT_EQ(TCP_SYN_RECV, proc_row_state(self->ns.c, variant->proto, PORT,
					  RAW_PORT));

	q.seq = synack.seq;
	ASSERT_EQ(0, icmp_forge(self->ns.b, ETCP_NS_ADDR_C, ICMP_T_UNREACH,
				ICMP_C_HOST, 0, &q));
	EXPECT_EQ(0, wait_row_state(self->ns.c, variant->proto, PORT, RAW_PORT, 0,
			      WAIT_MS))
		TH_LOG("%s: the request is still there", variant->name);
	EXPECT_EQ(oow0 + 1, read_counter(self->ns.c, variant->proto,
				    "OutOfWindowIcmps"));

	close(raw);
	close(lfd);
}

/*
 * RFC 8201, as pmtu over IPv4: b's link to c has IPv6's minimum MTU, the
 * handshake settles on MSS 1440 (1500 - 60), and b answers the first
 * full segments with "packet too big", MTU 1280: the stream arrives,
 * and the sender's path MTU and MSS are 1280 and 1220.
 */
TEST_F_TIMEOUT(icmp, pmtu6, 150)
{
	pmtu_through_b(_metadata, self, variant, AF_INET6, ETCP_NS_ADDR6_C, 40,
		       IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_MTU);
}

/* How b answers an IPv6 SYN, and what connect() then says. */
static const struct unreach_case unreach6_cases[] = {
	{ "fd00:3::1", "route unreachable: no route", ENETUNREACH },
	{ "fd00:3::2", "route prohibit: administratively prohibited", EACCES },
	{ "fd00:4::1", "no route at all", ENETUNREACH },
};

/* router_rejects() for unreach6_cases[], its answers 50 ms late. */
static int router_rejects6(FIXTURE_DATA(icmp) *self)
{
	return ns_cmd(self->ns.b,
		      "tc qdisc add dev " ETCP_NS_IF_B " root netem delay 50ms && "
		      "ip -6 route add unreachable fd00:3::1/128 && "
		      "ip -6 route add prohibit fd00:3::2/128");
}

/*
 * connect_unreachable over IPv6: ICMPv6's destination unreachable ends
 * connect() at once with the errno icmpv6_err_convert() gives its code.
 */
TEST_F(icmp, connect_unreachable6)
{
	int64_t t0, ms;
	unsigned int i;
	int fd, ret;

	ASSERT_EQ(0, router_rejects6(self));
	for (i = 0; i < sizeof(unreach6_cases) / sizeof(unreach6_cases[0]);
	     i++) {
		const struct unreach_case *c = &unreach6_cases[i];

		fd = client_socket_family(self, variant, AF_INET6);
		ASSERT_LE(0, fd);
		t0 = now_ms();
		ret = connect_to(fd, c->addr, PORT);
		ms = now_ms() - t0;
		EXPECT_EQ(-c->err, ret)
			TH_LOG("%s: connect() to %s (%s): %s, want %s",
			       variant->name, c->addr, c->how, strerror(-ret),
			       strerror(c->err));
		EXPECT_GT(FIRST_RTO_MS / 2, ms)
			TH_LOG("%s: connect() to %s took %lld ms",
			       variant->name, c->addr, (long long)ms);
		EXPECT_EQ(TCP_CLOSE, sock_state(fd, variant->proto));
		close(fd);
	}
}

/*
 * recverr_on_connect over IPv6: with IPV6_RECVERR the router's ICMPv6
 * error is on the error queue, with its type and code, the router as the
 * offender and the destination and port of the SYN it quotes.
 */
TEST_F(icmp, recverr_on_connect6)
{
	char ctrl[512];
	struct sockaddr_in6 from = {}, *off;
	struct iovec iov;
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctrl, .msg_controllen = sizeof(ctrl),
	};
	struct sock_extended_err *ee = NULL;
	struct in6_addr router, dest;
	struct cmsghdr *cm;
	int fd, ret;
	char buf[64];

	ASSERT_EQ(1, inet_pton(AF_INET6, ETCP_NS_ADDR6_B, &router));
	ASSERT_EQ(1, inet_pton(AF_INET6, "fd00:3::1", &dest));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	ASSERT_EQ(0, router_rejects6(self));
	fd = client_socket_family(self, variant, AF_INET6);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sockopt_set(fd, IPPROTO_IPV6, IPV6_RECVERR, 1));
	ret = connect_to(fd, "fd00:3::1", PORT);
	ASSERT_EQ(-ENETUNREACH, ret) TH_LOG("%s", strerror(-ret));

	ret = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
	ASSERT_LE(0, ret) TH_LOG("MSG_ERRQUEUE: %s", strerror(errno));
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_RECVERR)
			ee = (struct sock_extended_err *)CMSG_DATA(cm);
	ASSERT_NE(NULL, ee) TH_LOG("no IPV6_RECVERR message");
	EXPECT_EQ(ENETUNREACH, ee->ee_errno);
	EXPECT_EQ(SO_EE_ORIGIN_ICMP6, ee->ee_origin);
	EXPECT_EQ(ICMP6_T_UNREACH, ee->ee_type);
	EXPECT_EQ(ICMP6_C_NOROUTE, ee->ee_code);
	off = (struct sockaddr_in6 *)SO_EE_OFFENDER(ee);
	EXPECT_EQ(AF_INET6, off->sin6_family);
	EXPECT_EQ(0, memcmp(&router, &off->sin6_addr, sizeof(router)));
	EXPECT_EQ(0, memcmp(&dest, &from.sin6_addr, sizeof(dest)));
	EXPECT_EQ(htons(PORT), from.sin6_port);
	/* The payload is the quoted segment, from our header on. */
	EXPECT_LE(8, ret);
	close(fd);
}

TEST_HARNESS_MAIN
