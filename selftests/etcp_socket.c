// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: protocol registration, bind() and the bounds of the
 * socket options.
 *
 * The bind and option tests run the same body over TCP and etcp
 * (FIXTURE_VARIANT): the TCP run proves that the test expects what Linux
 * TCP does, the etcp run that etcp does the same.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000
/* ip_local_port_range set in netns a: narrow, so a hit is no accident. */
#define EPH_LOW		40000
#define EPH_HIGH	40015
#define EPH_COUNT	(EPH_HIGH - EPH_LOW + 1)

static int set_reuseaddr(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

/* ---------------------------------------------------------- registration */

TEST(stream_socket_is_etcp)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_ETCP);

	ASSERT_LE(0, fd)
		TH_LOG("socket(AF_INET, SOCK_STREAM, %d) failed: %s (is etcp.ko loaded?)",
		       IPPROTO_ETCP, strerror(errno));
	EXPECT_EQ(IPPROTO_ETCP, sockopt_get(fd, SOL_SOCKET, SO_PROTOCOL))
		TH_LOG("SO_PROTOCOL of an etcp socket is not %d", IPPROTO_ETCP);
	EXPECT_EQ(SOCK_STREAM, sockopt_get(fd, SOL_SOCKET, SO_TYPE))
		TH_LOG("SO_TYPE of an etcp socket is not SOCK_STREAM");
	EXPECT_EQ(AF_INET, sockopt_get(fd, SOL_SOCKET, SO_DOMAIN))
		TH_LOG("SO_DOMAIN of an etcp socket is not AF_INET");
	close(fd);
}

TEST(dgram_socket_unsupported)
{
	int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ETCP);

	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd)
		TH_LOG("socket(AF_INET, SOCK_DGRAM, %d) succeeded: etcp is stream only",
		       IPPROTO_ETCP);
	EXPECT_EQ(EPROTONOSUPPORT, errno)
		TH_LOG("SOCK_DGRAM etcp socket failed with %s, not EPROTONOSUPPORT",
		       strerror(errno));
}

TEST(stream_proto0_is_still_tcp)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ASSERT_LE(0, fd)
		TH_LOG("socket(AF_INET, SOCK_STREAM, 0): %s", strerror(errno));
	EXPECT_EQ(IPPROTO_TCP, sockopt_get(fd, SOL_SOCKET, SO_PROTOCOL))
		TH_LOG("with etcp loaded, SOCK_STREAM protocol 0 is no longer TCP");
	close(fd);
}

TEST(other_experimental_proto_unsupported)
{
	int fd = socket(AF_INET, SOCK_STREAM, 254);

	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, fd)
		TH_LOG("socket(AF_INET, SOCK_STREAM, 254) succeeded with etcp loaded for %d",
		       IPPROTO_ETCP);
	EXPECT_EQ(EPROTONOSUPPORT, errno)
		TH_LOG("protocol 254 failed with %s, not EPROTONOSUPPORT",
		       strerror(errno));
}

/* ----------------------------------------------- port tables, no variants */

ETCP_NETNS_FIXTURE(ports, etcp_netns_setup);

/* TCP and etcp keep separate port tables: both may own 10.0.1.1:5000. */
TEST_F(ports, tcp_and_etcp_share_addr_port)
{
	int tcp, etcp;

	tcp = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, tcp);
	etcp = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, etcp) TH_LOG("etcp socket: %s", strerror(errno));

	ASSERT_EQ(0, bind_to(tcp, ETCP_NS_ADDR_A, PORT));
	EXPECT_EQ(0, bind_to(etcp, ETCP_NS_ADDR_A, PORT))
		TH_LOG("etcp bind to a port TCP holds failed: port tables are shared?");
	close(tcp);
	close(etcp);

	/* And the other way round. */
	etcp = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, etcp);
	tcp = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, tcp);
	ASSERT_EQ(0, bind_to(etcp, ETCP_NS_ADDR_A, PORT + 1));
	EXPECT_EQ(0, bind_to(tcp, ETCP_NS_ADDR_A, PORT + 1))
		TH_LOG("TCP bind to a port etcp holds failed: etcp took TCP's port");
	close(tcp);
	close(etcp);
}

/* Port tables are per network namespace. */
TEST_F(ports, same_port_in_two_netns)
{
	int sa, sb;

	sa = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, sa) TH_LOG("etcp socket in netns a: %s", strerror(errno));
	sb = ns_socket(self->ns.b, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, sb) TH_LOG("etcp socket in netns b: %s", strerror(errno));

	ASSERT_EQ(0, bind_to(sa, "0.0.0.0", PORT));
	EXPECT_EQ(0, bind_to(sb, "0.0.0.0", PORT))
		TH_LOG("port %d bound in netns a is taken in netns b too", PORT);
	close(sa);
	close(sb);
}

/* -------------------------------------------- bind(), over TCP and etcp */

ETCP_NETNS_FIXTURE(bind, etcp_netns_setup);
ETCP_PROTO_VARIANTS(bind);

/* A socket of the variant's protocol in netns a; -1 with errno on error. */
static int bind_socket(FIXTURE_DATA(bind) *self,
		       const FIXTURE_VARIANT(bind) *variant)
{
	return ns_socket(self->ns.a, AF_INET, SOCK_STREAM, variant->proto);
}

/* Two sockets of the variant's protocol in netns a: *@s1 and *@s2. */
static void two_sockets(struct __test_metadata *_metadata, FIXTURE_DATA(bind) *self,
			const FIXTURE_VARIANT(bind) *variant, int *s1, int *s2)
{
	*s1 = bind_socket(self, variant);
	ASSERT_LE(0, *s1);
	*s2 = bind_socket(self, variant);
	ASSERT_LE(0, *s2);
}

/* While a socket is bound to @first:PORT, bind() to @second:PORT fails EADDRINUSE. */
static void expect_bind_conflict(struct __test_metadata *_metadata, FIXTURE_DATA(bind) *self,
				 const FIXTURE_VARIANT(bind) *variant, const char *first,
				 const char *second)
{
	int s1, s2;

	two_sockets(_metadata, self, variant, &s1, &s2);
	ASSERT_EQ(0, bind_to(s1, first, PORT));
	EXPECT_EQ(-EADDRINUSE, bind_to(s2, second, PORT))
		TH_LOG("bind to %s:%d while %s:%d is bound did not fail EADDRINUSE",
		       second, PORT, first, PORT);
	close(s1);
	close(s2);
}

TEST_F(bind, getsockname_after_bind)
{
	struct sockaddr_in sin = {};
	socklen_t len = sizeof(sin);
	char addr[INET_ADDRSTRLEN];
	int fd;

	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", proto_name(variant->proto),
				strerror(errno));

	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(AF_INET, sin.sin_family);
	EXPECT_EQ(htonl(INADDR_ANY), sin.sin_addr.s_addr)
		TH_LOG("unbound socket has a local address");
	EXPECT_EQ(0, ntohs(sin.sin_port))
		TH_LOG("unbound socket has local port %u", ntohs(sin.sin_port));

	ASSERT_EQ(0, bind_to(fd, ETCP_NS_ADDR_A, PORT));
	len = sizeof(sin);
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(sizeof(sin), len);
	EXPECT_EQ(AF_INET, sin.sin_family);
	inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr));
	EXPECT_STREQ(ETCP_NS_ADDR_A, addr)
		TH_LOG("getsockname after bind to %s:%d gives address %s",
		       ETCP_NS_ADDR_A, PORT, addr);
	EXPECT_EQ(PORT, ntohs(sin.sin_port))
		TH_LOG("getsockname after bind to port %d gives port %u",
		       PORT, ntohs(sin.sin_port));
	close(fd);
}

/*
 * send() on a socket neither bound nor connected fails with EPIPE and
 * leaves it unbound: a stream socket takes no port from a send (TCP's
 * proto has no_autobind; etcp once bound one here).
 */
TEST_F(bind, send_unconnected_epipe_binds_nothing)
{
	struct sockaddr_in sin = {};
	socklen_t len = sizeof(sin);
	int fd;

	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd) TH_LOG("%s socket: %s", proto_name(variant->proto),
				strerror(errno));
	EXPECT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT));
	EXPECT_EQ(EPIPE, errno) TH_LOG("send before connect: %s",
				       strerror(errno));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(0, ntohs(sin.sin_port))
		TH_LOG("send() bound local port %u", ntohs(sin.sin_port));
	close(fd);
}

static int set_port_range(FIXTURE_DATA(bind) *self, int low, int high)
{
	char range[32];

	snprintf(range, sizeof(range), "%d %d", low, high);
	return ns_sysctl_write(self->ns.a, "net/ipv4/ip_local_port_range", range);
}

/* Port 0 picks distinct ports from this netns's ip_local_port_range. */
TEST_F(bind, port_zero_is_ephemeral)
{
	int fds[EPH_COUNT / 2], i, j, port[EPH_COUNT / 2];
	struct sockaddr_in sin;
	socklen_t len;

	ASSERT_EQ(0, set_port_range(self, EPH_LOW, EPH_HIGH));

	for (i = 0; i < EPH_COUNT / 2; i++) {
		fds[i] = bind_socket(self, variant);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind_to(fds[i], i % 2 ? "0.0.0.0" : ETCP_NS_ADDR_A, 0))
			TH_LOG("bind to port 0 #%d failed", i);
		len = sizeof(sin);
		ASSERT_EQ(0, getsockname(fds[i], (struct sockaddr *)&sin, &len));
		port[i] = ntohs(sin.sin_port);
		EXPECT_TRUE(port[i] >= EPH_LOW && port[i] <= EPH_HIGH)
			TH_LOG("port 0 gave %d, outside the netns's ip_local_port_range %d-%d",
			       port[i], EPH_LOW, EPH_HIGH);
		for (j = 0; j < i; j++) {
			EXPECT_NE(port[j], port[i])
				TH_LOG("sockets %d and %d both got ephemeral port %d",
				       j, i, port[i]);
		}
	}
	for (i = 0; i < EPH_COUNT / 2; i++)
		close(fds[i]);
}

/* With every port of the range taken, bind to port 0 fails EADDRINUSE. */
TEST_F(bind, port_zero_range_exhausted)
{
	int fds[4], fd, i;

	ASSERT_EQ(0, set_port_range(self, EPH_LOW, EPH_LOW + 3));
	for (i = 0; i < 4; i++) {
		fds[i] = bind_socket(self, variant);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, bind_to(fds[i], ETCP_NS_ADDR_A, 0))
			TH_LOG("bind #%d to port 0 with %d ports free failed",
			       i, 4 - i);
	}
	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EADDRINUSE, bind_to(fd, ETCP_NS_ADDR_A, 0))
		TH_LOG("bind to port 0 with the whole range in use did not fail EADDRINUSE");
	close(fd);
	for (i = 0; i < 4; i++)
		close(fds[i]);
}

TEST_F(bind, same_addr_port_twice)
{
	int s1, s2;

	two_sockets(_metadata, self, variant, &s1, &s2);
	ASSERT_EQ(0, bind_to(s1, ETCP_NS_ADDR_A, PORT));
	EXPECT_EQ(-EADDRINUSE, bind_to(s2, ETCP_NS_ADDR_A, PORT))
		TH_LOG("second bind to %s:%d without SO_REUSEADDR did not fail EADDRINUSE",
		       ETCP_NS_ADDR_A, PORT);
	close(s1);

	/* The port is free again once its owner is closed. */
	EXPECT_EQ(0, bind_to(s2, ETCP_NS_ADDR_A, PORT))
		TH_LOG("port %d still in use after its only owner was closed", PORT);
	close(s2);
}

/* 0.0.0.0:P and 10.0.1.1:P conflict, in either order. */
TEST_F(bind, wildcard_conflicts_with_specific)
{
	expect_bind_conflict(_metadata, self, variant, "0.0.0.0", ETCP_NS_ADDR_A);
	expect_bind_conflict(_metadata, self, variant, ETCP_NS_ADDR_A, "0.0.0.0");
}

/* Two non-listening sockets that both set SO_REUSEADDR share a port. */
TEST_F(bind, reuseaddr_on_both)
{
	int s1, s2;

	two_sockets(_metadata, self, variant, &s1, &s2);
	ASSERT_EQ(0, set_reuseaddr(s1));
	ASSERT_EQ(0, set_reuseaddr(s2));
	ASSERT_EQ(0, bind_to(s1, ETCP_NS_ADDR_A, PORT));
	EXPECT_EQ(0, bind_to(s2, ETCP_NS_ADDR_A, PORT))
		TH_LOG("with SO_REUSEADDR on both sockets the second bind failed");
	close(s1);
	close(s2);
}

TEST_F(bind, rebind_is_einval)
{
	int fd;

	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_to(fd, ETCP_NS_ADDR_A, PORT));
	EXPECT_EQ(-EINVAL, bind_to(fd, ETCP_NS_ADDR_A, PORT + 1))
		TH_LOG("second bind() on a bound socket did not fail EINVAL");
	EXPECT_EQ(-EINVAL, bind_to(fd, ETCP_NS_ADDR_A, PORT))
		TH_LOG("bind() again to the same address did not fail EINVAL");
	close(fd);
}

TEST_F(bind, foreign_address_unavailable)
{
	int fd;

	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd);
	/* 10.0.1.2 exists, but in netns b. */
	EXPECT_EQ(-EADDRNOTAVAIL, bind_to(fd, ETCP_NS_ADDR_B, PORT))
		TH_LOG("bind in netns a to netns b's %s did not fail EADDRNOTAVAIL",
		       ETCP_NS_ADDR_B);
	EXPECT_EQ(-EADDRNOTAVAIL, bind_to(fd, "192.0.2.1", PORT))
		TH_LOG("bind to an address on no interface did not fail EADDRNOTAVAIL");
	/* The failed binds left the socket unbound. */
	EXPECT_EQ(0, bind_to(fd, ETCP_NS_ADDR_A, PORT))
		TH_LOG("a failed bind left the socket unable to bind");
	close(fd);
}

TEST_F(bind, short_addrlen_is_einval)
{
	struct sockaddr_in sin = sin_of(ETCP_NS_ADDR_A, PORT);
	int fd;

	fd = bind_socket(self, variant);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin) - 1));
	EXPECT_EQ(EINVAL, errno)
		TH_LOG("bind with a short sockaddr_in failed with %s, not EINVAL",
		       strerror(errno));
	close(fd);
}

/* ------------------------------------- option bounds, over TCP and etcp */

ETCP_NETNS_FIXTURE(options, two_ns_setup);
ETCP_PROTO_VARIANTS(options);

/*
 * The integer options at SOL_ETCP (numbered as TCP's) and their ranges,
 * TCP's where TCP has the option: SYNCNT and KEEPCNT as MAX_TCP_SYNCNT and
 * MAX_TCP_KEEPCNT (the fields are u8), MAXSEG 88..32767 with 0 to unset
 * (TCP_MIN_MSS, MAX_TCP_WINDOW; u16), KEEPIDLE and KEEPINTVL 1..32767 s
 * (MAX_TCP_KEEP*; u16).  LINGER2 is etcp's own above 0: up to
 * etcp_fin_timeout's 600 s, where TCP_LINGER2 clamps instead of failing.
 */
static const struct opt_range {
	const char *name;
	int opt, lo, hi;
	bool has_lo;		/* below lo is EINVAL (LINGER2: < 0 means -1) */
	bool etcp_only;
} opt_ranges[] = {
	{ "SYNCNT",	ETCP_SYNCNT,	1,  127,   true,  false },
	{ "MAXSEG",	ETCP_MAXSEG,	88, 32767, true,  false },
	{ "KEEPIDLE",	ETCP_KEEPIDLE,	1,  32767, true,  false },
	{ "KEEPINTVL",	ETCP_KEEPINTVL,	1,  32767, true,  false },
	{ "KEEPCNT",	ETCP_KEEPCNT,	1,  127,   true,  false },
	{ "LINGER2",	ETCP_LINGER2,	1,  600,   false, true },
};

/*
 * Each option's maximum is accepted and read back; the maximum + 1, the
 * values that a u8 or u16 field would wrap into the range (256 + lo,
 * 65536 + lo), INT_MAX and (where there is a minimum) the minimum - 1 all
 * fail with EINVAL and leave the maximum in place; the minimum is
 * accepted.  Checked on a socket before connect() and on a connected one.
 * NODELAY is a flag: any value but 0 sets it.
 */
TEST_F(options, bounds)
{
	int lvl = variant->proto, fd[2], i, k, v, ret;
	unsigned int j;
	int l, a;

	l = ns_socket(self->ns.b, AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind_to(l, ETCP_NS_ADDR_B, PORT));
	ASSERT_EQ(0, listen(l, 8));
	fd[0] = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd[0]);
	fd[1] = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd[1]);
	ASSERT_EQ(0, connect_to(fd[1], ETCP_NS_ADDR_B, PORT));
	a = accept_wait(l, 5000);
	ASSERT_LE(0, a) TH_LOG("accept: %s", strerror(errno));

	EXPECT_EQ(0, sockopt_get(fd[0], lvl, ETCP_NODELAY));
	EXPECT_EQ(0, sockopt_set(fd[0], lvl, ETCP_NODELAY, 5));
	EXPECT_EQ(1, sockopt_get(fd[0], lvl, ETCP_NODELAY));
	EXPECT_EQ(0, sockopt_set(fd[0], lvl, ETCP_NODELAY, 0));
	EXPECT_EQ(0, sockopt_get(fd[0], lvl, ETCP_NODELAY));

	for (k = 0; k < 2; k++) {
		for (j = 0; j < ARRAY_SIZE(opt_ranges); j++) {
			const struct opt_range *r = &opt_ranges[j];
			const int bad[] = { r->hi + 1, 256 + r->lo, 65536 + r->lo, INT_MAX,
					    r->lo - 1 };
			int nbad = ARRAY_SIZE(bad) - !r->has_lo;

			if (r->etcp_only && variant->proto != IPPROTO_ETCP)
				continue;
			/* A connected socket's MAXSEG reads as the MSS in use. */
			if (k && r->opt == ETCP_MAXSEG)
				continue;
			ret = sockopt_set(fd[k], lvl, r->opt, r->hi);
			EXPECT_EQ(0, ret) TH_LOG("%s %s = %d (maximum), %s: %s",
						 proto_name(variant->proto), r->name, r->hi,
						 k ? "connected" : "unconnected", strerror(-ret));
			EXPECT_EQ(r->hi, sockopt_get(fd[k], lvl, r->opt));
			for (i = 0; i < nbad; i++) {
				if (bad[i] >= r->lo && bad[i] <= r->hi)
					continue;
				ret = sockopt_set(fd[k], lvl, r->opt, bad[i]);
				EXPECT_EQ(-EINVAL, ret)
					TH_LOG("%s %s = %d: %s, not EINVAL",
					       proto_name(variant->proto), r->name, bad[i],
					       ret ? strerror(-ret) : "accepted");
				v = sockopt_get(fd[k], lvl, r->opt);
				EXPECT_EQ(r->hi, v)
					TH_LOG("%s %s reads %d after %d was refused",
					       proto_name(variant->proto), r->name, v, bad[i]);
			}
			EXPECT_EQ(0, sockopt_set(fd[k], lvl, r->opt, r->lo));
			EXPECT_EQ(r->lo, sockopt_get(fd[k], lvl, r->opt));
		}
	}
	close(a);
	close(fd[0]);
	close(fd[1]);
	close(l);
}

TEST_HARNESS_MAIN
