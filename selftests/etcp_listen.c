// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: connection establishment through the socket API.
 *
 *   netns a (10.0.1.1, fd00:1::1): clients
 *   netns b (10.0.1.2, fd00:1::2): listeners
 *
 * connect() (blocking and non-blocking), listen() and its backlog,
 * accept()/accept4(), getsockname()/getpeername(), closing and shutting
 * down a listener, socket options, local ports, /proc/net/etcp rows and
 * /proc/net/etcp_stat counters.
 *
 * Whatever etcp shares with TCP runs in the "conn" fixture over both
 * protocols and both families (ETCP_FAMILY_VARIANTS: tcp, etcp over IPv4,
 * tcp6, etcp6 over IPv6): the TCP runs prove that the test expects what
 * Linux TCP does, the etcp runs that etcp does the same.  Every case
 * asserts the same over IPv6 with that family's values: AF_INET6
 * sockets, fd00:1::1 and fd00:1::2, the wildcard ::, the rows of
 * /proc/net/{tcp6,etcp6}, MSS 1440 (1460 over IPv4), IPV6_TCLASS and
 * IPV6_UNICAST_HOPS where IPv4 has IP_TOS and IP_TTL, 2001:db8::1 as the
 * address without a route and fd00:1::3 as the neighbour that never
 * answers.  TCP's timestamps are switched off in both namespaces so that
 * its MSS is etcp's.  What only etcp has (ISNs in ETCP_INFO, a child's own
 * counters, resetting requests when the listener goes, coexistence with
 * TCP on one 4-tuple) runs in the "etcp" fixture, over both families too
 * (variants etcp and etcp6): the listener lookup, the child's creation and
 * the RSTs of a dying listener's requests have a per-family half.
 * Wire-level checks are etcp_connect.c's.
 *
 * Nothing sleeps and hopes: every wait polls a condition up to a deadline.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000
/* ip_local_port_range for the port tests: narrow, so a hit is no accident. */
#define EPH_LOW		40000
#define EPH_HIGH	40009
#define EPH_COUNT	(EPH_HIGH - EPH_LOW + 1)
/* Generous for TCG: what should take microseconds may take a second. */
#define WAIT_MS		5000
/* An option number neither SOL_TCP nor SOL_ETCP knows. */
#define OPT_UNKNOWN	9999

/* ------------------------------------------------------------ helpers */

/*
 * getsockname() (@peer false) or getpeername() of @fd: 0 when it is a
 * whole address of its family, -EPROTO if shorter, or -errno.
 */
static int name_of(int fd, bool peer, struct sockaddr_storage *ss)
{
	int len = sock_addr(fd, peer, ss);

	if (len < 0)
		return len;
	if (ss->ss_family == AF_INET6)
		return len == sizeof(struct sockaddr_in6) ? 0 : -EPROTO;
	return len == sizeof(struct sockaddr_in) ? 0 : -EPROTO;
}

static int sock_name(int fd, struct sockaddr_storage *ss)
{
	return name_of(fd, false, ss);
}

static int peer_name(int fd, struct sockaddr_storage *ss)
{
	return name_of(fd, true, ss);
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

/* A non-blocking connect(): -EINPROGRESS on the expected path. */
static int connect_nb(int fd, const char *addr, unsigned short port)
{
	int err = set_nonblock(fd, true);

	return err ? err : connect_to(fd, addr, port);
}

/*
 * A socket of @proto in nsfd, of @addr's family: bound to addr:port,
 * listening.  -1 + errno.
 */
static int listener_at(int nsfd, int proto, const char *addr,
		       unsigned short port, int backlog)
{
	int fd, err;

	fd = ns_socket(nsfd, strchr(addr, ':') ? AF_INET6 : AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -1;
	err = bind_to(fd, addr, port);
	if (!err && listen(fd, backlog))
		err = -errno;
	if (err) {
		close(fd);
		errno = -err;
		return -1;
	}
	return fd;
}

/* ------------------------------------------------- /proc/net/{tcp,etcp} */

/*
 * Which rows to look for; -1 (or ANY) in a number, NULL (or ANYADDR) in an
 * address matches everything.  Addresses are strings of either family
 * (proc_row_addr_is()).
 */
#define ANY	(-1L)
#define ANYADDR	NULL
struct row_want {
	long st;
	const char *laddr;
	long lport;
	const char *raddr;
	long rport;
	long inode;
};

static bool row_matches(const struct proc_row *r, const void *want)
{
	const struct row_want *w = want;

	return (w->st == ANY || r->st == w->st) &&
	       (!w->laddr || proc_row_addr_is(r, true, w->laddr)) &&
	       (w->lport == ANY || r->lport == w->lport) &&
	       (!w->raddr || proc_row_addr_is(r, false, w->raddr)) &&
	       (w->rport == ANY || r->rport == w->rport) &&
	       (w->inode == ANY || r->inode == (unsigned long)w->inode);
}

/*
 * Rows of /proc/net/@file in nsfd matching @w: their number (the last one
 * in *@out), or -errno.
 */
static int find_rows(int nsfd, const char *file, const struct row_want *w,
		     struct proc_row *out)
{
	return proc_rows(nsfd, file, row_matches, w, out);
}

/* Poll until find_rows() gives @count (ANY: at least one) rows. */
static int wait_rows(int nsfd, const char *file, const struct row_want *w,
		     int count, int timeout_ms, struct proc_row *out)
{
	long deadline = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = find_rows(nsfd, file, w, out);
		if (n < 0 || (count == ANY ? n > 0 : n == count) ||
		    now_ms() > deadline)
			return n;
		pause_step();
	}
}

/*
 * Poll until the one row matching @w has rx_queue @rxq (a LISTEN row's is
 * its accept queue's length): the number of rows matching, the last in
 * *@out.  A client is ESTABLISHED once it has sent its final ACK; the child
 * is queued when netns b has processed that ACK, which on another CPU (or a
 * descheduled vCPU) may be a little later.
 */
static int wait_rxq(int nsfd, const char *file, const struct row_want *w,
		    unsigned int rxq, int timeout_ms, struct proc_row *out)
{
	long deadline = now_ms() + timeout_ms;
	int n;

	for (;;) {
		n = find_rows(nsfd, file, w, out);
		if (n < 0 || (n == 1 && out->rxq == rxq) || now_ms() > deadline)
			return n;
		pause_step();
	}
}

/* ------------------------------------------------------------------ nft */

/*
 * In netns b, drop every incoming segment of @proto whose flags are exactly
 * ACK (from source port @sport only, if not 0): the client's third segment
 * of the handshake.  The listener keeps the request in SYN_RECV while the
 * client is ESTABLISHED.
 */
static int drop_pure_acks_from(const struct etcp_netns *ns, int proto, int sport)
{
	char script[512], match[64] = "";

	if (sport)
		snprintf(match, sizeof(match), "@th,0,16 == %d ", sport);
	snprintf(script, sizeof(script),
		 "add table inet " ETCP_NFT_TABLE "; "
		 "add chain inet " ETCP_NFT_TABLE " in { type filter hook input priority 0; }; "
		 "add rule inet " ETCP_NFT_TABLE " in meta l4proto %d %s@th,104,8 == 0x10 drop",
		 proto, match);
	return ns_nft(ns->b, script);
}

static int drop_pure_acks(const struct etcp_netns *ns, int proto)
{
	return drop_pure_acks_from(ns, proto, 0);
}

static int allow_acks(const struct etcp_netns *ns)
{
	return ns_nft_flush(ns->b);
}

/* ------------------------------------------------------------- fixtures */

static int set_port_range(int nsfd, int low, int high)
{
	char range[32];

	snprintf(range, sizeof(range), "%d %d", low, high);
	return ns_sysctl_write(nsfd, "net/ipv4/ip_local_port_range", range);
}

static bool port_in_range(int port, int low, int high)
{
	return port >= low && port <= high;
}

ETCP_ENV_CHECK()

FIXTURE(conn) {
	struct etcp_netns ns;
};

ETCP_FAMILY_VARIANTS(conn);

FIXTURE_SETUP(conn)
{
	const char *why = env_unsupported;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, two_ns_setup(&self->ns))
		TH_LOG("cannot set up the two network namespaces");
}

FIXTURE_TEARDOWN(conn)
{
	etcp_netns_teardown(&self->ns);
}

/* A client socket of the variant's protocol and family in netns a. */
#define CLIENT()	ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto)
/* A socket of the variant's protocol and family in netns b. */
#define SERVER()	ns_socket(self->ns.b, variant->family, SOCK_STREAM, variant->proto)
/* A listener of the variant's protocol on b's address:port in netns b. */
#define LISTENER(port, backlog) \
	listener_at(self->ns.b, variant->proto, ADDR_B, port, backlog)
#define PROTO		proto_name(variant->proto)
/* /proc/net/{tcp,etcp,tcp6,etcp6}: the variant's sockets. */
#define PROC		proc_table_af(variant->proto, variant->family)
#define PROC_OF(proto)	proc_table_af(proto, variant->family)
/* The variant's addresses, its wildcard and the veth's MSS in its family. */
#define ADDR_A		variant->addr_a
#define ADDR_B		variant->addr_b
#define ADDR_ANY	any_addr(variant->family)
#define VETH_MSS	ETCP_NS_MSS(variant->family)
/* On the veth's subnet, but nobody's: ARP and NDP go unanswered. */
#define SILENT_ADDR	(variant->family == AF_INET6 ? "fd00:1::3" : "10.0.1.3")
/* No route leads there (no default route in the namespaces). */
#define NOROUTE_ADDR	(variant->family == AF_INET6 ? "2001:db8::1" : "192.0.2.1")

/* ------------------------------------------------ connect() and accept() */

/*
 * Blocking connect() and accept(): names mirror each other, both ends
 * ESTABLISHED with the veth's MSS, and /proc/net shows the LISTEN row, the
 * child and the client.
 */
TEST_F(conn, connect_accept)
{
	struct sockaddr_storage cs, cp, as, ap, acc;
	socklen_t acclen = sizeof(acc);
	struct sinfo ci, ai;
	struct row_want w;
	struct proc_row r;
	char b1[64], b2[64];
	int l, c, a, n;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l) TH_LOG("%s listener on %s:%d: %s", PROTO,
			       ADDR_B, PORT, strerror(errno));
	EXPECT_EQ(ETCP_LISTEN, sock_state(l, variant->proto));
	c = CLIENT();
	ASSERT_LE(0, c);
	EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));

	ASSERT_EQ(0, connect_to(c, ADDR_B, PORT))
		TH_LOG("blocking %s connect to a listener failed", PROTO);
	memset(&acc, 0, sizeof(acc));
	a = accept(l, (struct sockaddr *)&acc, &acclen);
	ASSERT_LE(0, a) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(variant->family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		  sizeof(struct sockaddr_in), acclen);

	ASSERT_EQ(0, sock_name(c, &cs));
	ASSERT_EQ(0, peer_name(c, &cp));
	ASSERT_EQ(0, sock_name(a, &as));
	ASSERT_EQ(0, peer_name(a, &ap));
	EXPECT_TRUE(sockaddr_eq(&cs, &ap))
		TH_LOG("client's name %s, server child's peer %s",
		       sockaddr_str(&cs, b1, sizeof(b1)), sockaddr_str(&ap, b2, sizeof(b2)));
	EXPECT_TRUE(sockaddr_eq(&cp, &as))
		TH_LOG("client's peer %s, server child's name %s",
		       sockaddr_str(&cp, b1, sizeof(b1)), sockaddr_str(&as, b2, sizeof(b2)));
	EXPECT_TRUE(sockaddr_eq(&acc, &cs))
		TH_LOG("accept() gave peer %s, the client is %s",
		       sockaddr_str(&acc, b1, sizeof(b1)), sockaddr_str(&cs, b2, sizeof(b2)));
	EXPECT_EQ(variant->family, cs.ss_family);
	EXPECT_TRUE(sockaddr_is(&cs, ADDR_A, sockaddr_port(&cs)))
		TH_LOG("client's name %s, not %s's", sockaddr_str(&cs, b1, sizeof(b1)), ADDR_A);
	EXPECT_NE(0, sockaddr_port(&cs));
	EXPECT_TRUE(sockaddr_is(&as, ADDR_B, PORT))
		TH_LOG("child's name %s, not %s:%d", sockaddr_str(&as, b1, sizeof(b1)),
		       ADDR_B, PORT);
	EXPECT_EQ(variant->proto, sockopt_get(a, SOL_SOCKET, SO_PROTOCOL));

	ASSERT_EQ(0, sinfo_get(c, variant->proto, &ci));
	ASSERT_EQ(0, sinfo_get(a, variant->proto, &ai));
	EXPECT_EQ(ETCP_ESTABLISHED, ci.state)
		TH_LOG("client in %s after connect()", state_name(ci.state));
	EXPECT_EQ(ETCP_ESTABLISHED, ai.state)
		TH_LOG("accepted socket in %s", state_name(ai.state));
	EXPECT_EQ(VETH_MSS, ci.snd_mss);
	EXPECT_EQ(VETH_MSS, ai.snd_mss);
	EXPECT_EQ(0, ci.retransmits);
	/* MAXSEG of a connected socket is the MSS in use. */
	EXPECT_EQ(VETH_MSS, sockopt_get(c, variant->proto, ETCP_MAXSEG));
	EXPECT_EQ(VETH_MSS, sockopt_get(a, variant->proto, ETCP_MAXSEG));

	/* netns b: the listener and the child. */
	w = (struct row_want){ ETCP_LISTEN, ADDR_B, PORT,
			       ADDR_ANY, 0, inode_of(l) };
	n = find_rows(self->ns.b, PROC, &w, &r);
	EXPECT_EQ(1, n) TH_LOG("/proc/net/%s in netns b: %d LISTEN rows %s:%d for the listener",
			       PROC, n, ADDR_B, PORT);
	if (n == 1) {
		EXPECT_EQ(0U, r.rxq)
			TH_LOG("LISTEN row rx_queue %u with nothing to accept", r.rxq);
	}
	w = (struct row_want){ ETCP_ESTABLISHED, ADDR_B, PORT,
			       ADDR_A, sockaddr_port(&cs),
			       inode_of(a) };
	n = find_rows(self->ns.b, PROC, &w, NULL);
	EXPECT_EQ(1, n) TH_LOG("/proc/net/%s in netns b: %d rows 01 for the child %s:%d %s:%u",
			       PROC, n, ADDR_B, PORT, ADDR_A, sockaddr_port(&cs));
	/* netns a: the client. */
	w = (struct row_want){ ETCP_ESTABLISHED, ADDR_A,
			       sockaddr_port(&cs), ADDR_B, PORT,
			       inode_of(c) };
	n = find_rows(self->ns.a, PROC, &w, NULL);
	EXPECT_EQ(1, n) TH_LOG("/proc/net/%s in netns a: %d rows 01 for the client",
			       PROC, n);
	/* Nothing of netns b's shows in netns a. */
	w = (struct row_want){ ANY, ANYADDR, ANY, ANYADDR, ANY, inode_of(l) };
	EXPECT_EQ(0, find_rows(self->ns.a, PROC, &w, NULL));

	close(a);
	close(c);
	close(l);
}

/*
 * EINPROGRESS, then POLLOUT, SO_ERROR 0 and the peer's name; the socket
 * layer's next connect() reports the success, the one after EISCONN.
 */
TEST_F(conn, nonblocking_connect)
{
	struct sockaddr_storage cp;
	int l, c, a, ev;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l) TH_LOG("%s listener: %s", PROTO, strerror(errno));
	c = CLIENT();
	ASSERT_LE(0, c);

	ASSERT_EQ(-EINPROGRESS, connect_nb(c, ADDR_B, PORT))
		TH_LOG("non-blocking %s connect did not return EINPROGRESS", PROTO);
	ev = poll_fd(c, POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP))
		TH_LOG("poll after a non-blocking connect to a listener: revents 0x%x", ev);
	EXPECT_EQ(0, so_error(c));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
	ASSERT_EQ(0, peer_name(c, &cp));
	EXPECT_TRUE(sockaddr_is(&cp, ADDR_B, PORT));

	/* The socket layer: the next connect() reports success, then EISCONN. */
	EXPECT_EQ(0, connect_to(c, ADDR_B, PORT));
	EXPECT_EQ(-EISCONN, connect_to(c, ADDR_B, PORT));

	/* The child is queued once netns b has processed the final ACK. */
	ASSERT_EQ(0, set_nonblock(l, true));
	ev = poll_fd(l, POLLIN, WAIT_MS);
	EXPECT_EQ(POLLIN, ev) TH_LOG("listener polls 0x%x after a non-blocking connect", ev);
	a = accept(l, NULL, NULL);
	EXPECT_LE(0, a) TH_LOG("accept after a non-blocking connect: %s", strerror(errno));
	if (a >= 0)
		close(a);
	close(c);
	close(l);
}

/*
 * Failures leave the socket reusable.  To a port nobody listens on, a
 * non-blocking connect() gives EINPROGRESS, then POLLERR|POLLHUP and
 * ECONNREFUSED once; the next connect() reports ECONNABORTED (the error was
 * collected already) and leaves the socket unconnected.  A blocking
 * connect() there fails ECONNREFUSED; one without a route ENETUNREACH.
 */
TEST_F(conn, connect_errors)
{
	int l, c, ev, err;

	c = CLIENT();
	ASSERT_LE(0, c);
	ASSERT_EQ(-EINPROGRESS, connect_nb(c, ADDR_B, PORT));
	ev = poll_fd(c, POLLIN | POLLOUT | POLLRDHUP, WAIT_MS);
	EXPECT_EQ(POLLERR | POLLHUP, ev & (POLLERR | POLLHUP))
		TH_LOG("poll after a connect to a closed port: revents 0x%x", ev);
	/* As TCP's: a closed socket also polls writable, and readable at EOF. */
	EXPECT_EQ(POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP, ev)
		TH_LOG("revents 0x%x after a refused connect", ev);
	EXPECT_EQ(ECONNREFUSED, so_error(c));
	EXPECT_EQ(0, so_error(c)) TH_LOG("SO_ERROR is not cleared by reading it");
	EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));
	err = connect_to(c, ADDR_B, PORT);
	EXPECT_EQ(-ECONNABORTED, err)
		TH_LOG("connect() after a refused non-blocking connect: %s",
		       strerror(-err));

	ASSERT_EQ(0, set_nonblock(c, false));
	err = connect_to(c, ADDR_B, PORT);
	EXPECT_EQ(-ECONNREFUSED, err) TH_LOG("blocking connect to a closed port: %s",
					     strerror(-err));
	EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));
	EXPECT_EQ(0, so_error(c));

	err = connect_to(c, NOROUTE_ADDR, PORT);
	EXPECT_EQ(-ENETUNREACH, err) TH_LOG("connect without a route: %s", strerror(-err));
	EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	err = connect_to(c, ADDR_B, PORT);
	EXPECT_EQ(0, err) TH_LOG("connect after three failed ones: %s", strerror(-err));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
	EXPECT_EQ(0, so_error(c));
	close(c);
	close(l);
}

/*
 * A listener polls readable exactly while a child waits; accept() on an
 * empty queue is EAGAIN with O_NONBLOCK and after SO_RCVTIMEO; accept4()
 * flags land on the new fd, plain accept() sets neither.
 */
TEST_F(conn, accept_poll_flags)
{
	struct timeval tv = { .tv_usec = 300 * 1000 };
	int l, c1, c2, a1, a2, fl, ev, n;
	struct row_want w;
	struct proc_row r;
	long t0, dt;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	w = (struct row_want){ ETCP_LISTEN, ADDR_B, PORT,
			       ADDR_ANY, 0, inode_of(l) };
	ev = poll_fd(l, POLLIN | POLLOUT, 0);
	EXPECT_EQ(0, ev) TH_LOG("an idle listener polls 0x%x", ev);

	ASSERT_EQ(0, set_nonblock(l, true));
	EXPECT_EQ(-1, accept(l, NULL, NULL));
	EXPECT_EQ(EAGAIN, errno)
		TH_LOG("accept on an empty queue with O_NONBLOCK: %s", strerror(errno));
	ASSERT_EQ(0, set_nonblock(l, false));
	ASSERT_EQ(0, setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	t0 = now_ms();
	a1 = accept(l, NULL, NULL);
	dt = now_ms() - t0;
	EXPECT_EQ(-1, a1);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("accept with SO_RCVTIMEO: %s", strerror(errno));
	EXPECT_TRUE(dt >= 250 && dt < 3000)
		TH_LOG("accept with a 300 ms SO_RCVTIMEO returned after %ld ms", dt);
	if (a1 >= 0)
		close(a1);

	c1 = CLIENT();
	c2 = CLIENT();
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, connect_to(c1, ADDR_B, PORT));
	ASSERT_EQ(0, connect_to(c2, ADDR_B, PORT));
	ev = poll_fd(l, POLLIN, WAIT_MS);
	EXPECT_EQ(POLLIN, ev & (POLLIN | POLLERR | POLLHUP))
		TH_LOG("listener with connections to accept polls 0x%x", ev);
	/* Both children queued: c2's final ACK may still be on its way. */
	n = wait_rxq(self->ns.b, PROC, &w, 2, WAIT_MS, &r);
	ASSERT_EQ(1, n);
	ASSERT_EQ(2U, r.rxq) TH_LOG("LISTEN rx_queue %u after two connects", r.rxq);

	a1 = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, a1) TH_LOG("accept4: %s", strerror(errno));
	fl = fcntl(a1, F_GETFL);
	EXPECT_TRUE(fl >= 0 && (fl & O_NONBLOCK))
		TH_LOG("accept4(SOCK_NONBLOCK) gave an fd without O_NONBLOCK");
	fl = fcntl(a1, F_GETFD);
	EXPECT_TRUE(fl >= 0 && (fl & FD_CLOEXEC))
		TH_LOG("accept4(SOCK_CLOEXEC) gave an fd without FD_CLOEXEC");
	EXPECT_EQ(POLLIN, poll_fd(l, POLLIN, 0)) TH_LOG("second child not pollable");

	a2 = accept(l, NULL, NULL);
	ASSERT_LE(0, a2);
	fl = fcntl(a2, F_GETFL);
	EXPECT_TRUE(fl >= 0 && !(fl & O_NONBLOCK));
	fl = fcntl(a2, F_GETFD);
	EXPECT_TRUE(fl >= 0 && !(fl & FD_CLOEXEC));
	EXPECT_EQ(variant->proto, sockopt_get(a1, SOL_SOCKET, SO_PROTOCOL));
	EXPECT_EQ(variant->proto, sockopt_get(a2, SOL_SOCKET, SO_PROTOCOL));
	EXPECT_EQ(0, poll_fd(l, POLLIN, 0)) TH_LOG("still readable with the queue empty");

	close(a1);
	close(a2);
	close(c1);
	close(c2);
	close(l);
}

/* accept() needs a listener; listen() needs an unconnected socket. */
TEST_F(conn, accept_listen_einval)
{
	int l, s, c, a;

	s = SERVER();
	ASSERT_LE(0, s);
	EXPECT_EQ(-1, accept(s, NULL, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("accept on a new socket: %s", strerror(errno));
	ASSERT_EQ(0, bind_to(s, ADDR_B, PORT + 1));
	EXPECT_EQ(-1, accept(s, NULL, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("accept on a bound socket: %s", strerror(errno));

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	c = CLIENT();
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
	EXPECT_EQ(-1, accept(c, NULL, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("accept on a connected socket: %s", strerror(errno));
	EXPECT_EQ(-1, listen(c, 8));
	EXPECT_EQ(EINVAL, errno) TH_LOG("listen on a connected socket: %s", strerror(errno));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto))
		TH_LOG("the failed listen() changed the connected socket");
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	EXPECT_EQ(-1, listen(a, 8));
	EXPECT_EQ(EINVAL, errno) TH_LOG("listen on an accepted socket: %s", strerror(errno));

	/* A second listen() on a listener is fine (it changes the backlog). */
	EXPECT_EQ(0, listen(l, 4));
	EXPECT_EQ(ETCP_LISTEN, sock_state(l, variant->proto));
	close(a);
	close(c);
	close(l);
	close(s);
}

/*
 * listen(backlog = 1): two clients complete (backlog + 1), the third's SYNs
 * are dropped (ListenOverflows) and it stays SYN_SENT, retransmitting, until
 * accept() makes room; its next SYN then gets through.
 */
TEST_F(conn, backlog_overflow)
{
	struct sockaddr_storage peer, cs[3];
	socklen_t plen = sizeof(peer);
	struct sinfo ci;
	struct row_want w;
	struct proc_row r;
	long ovf0, ovf;
	int l, c[3], a, i, ev, n;

	l = LISTENER(PORT, 1);
	ASSERT_LE(0, l);
	w = (struct row_want){ ETCP_LISTEN, ADDR_B, PORT,
			       ADDR_ANY, 0, inode_of(l) };

	for (i = 0; i < 2; i++) {
		c[i] = CLIENT();
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(-EINPROGRESS, connect_nb(c[i], ADDR_B, PORT));
		ev = poll_fd(c[i], POLLOUT, WAIT_MS);
		ASSERT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP))
			TH_LOG("client %d with backlog 1: revents 0x%x", i, ev);
		ASSERT_EQ(0, sinfo_get(c[i], variant->proto, &ci));
		EXPECT_EQ(ETCP_ESTABLISHED, ci.state);
		EXPECT_EQ(0, ci.retransmits)
			TH_LOG("client %d needed %d SYN retransmissions: its first SYN did not get through",
			       i, ci.retransmits);
		ASSERT_EQ(0, sock_name(c[i], &cs[i]));
		/* The LISTEN row's rx_queue is the accept queue's length. */
		n = wait_rxq(self->ns.b, PROC, &w, i + 1, WAIT_MS, &r);
		ASSERT_EQ(1, n);
		EXPECT_EQ((unsigned int)i + 1, r.rxq)
			TH_LOG("LISTEN rx_queue %u with %d children waiting", r.rxq, i + 1);
	}

	ovf0 = read_counter(self->ns.b, variant->proto, "ListenOverflows");
	ASSERT_LE(0, ovf0) TH_LOG("no ListenOverflows counter");
	c[2] = CLIENT();
	ASSERT_LE(0, c[2]);
	ASSERT_EQ(-EINPROGRESS, connect_nb(c[2], ADDR_B, PORT));
	ASSERT_EQ(0, sock_name(c[2], &cs[2]));
	ovf = wait_counter(self->ns.b, variant->proto, "ListenOverflows",
			   ovf0 + 1, WAIT_MS);
	EXPECT_LE(ovf0 + 1, ovf) TH_LOG("the third SYN did not count a ListenOverflow");
	EXPECT_EQ(0, poll_fd(c[2], POLLOUT, 0));
	EXPECT_EQ(ETCP_SYN_SENT, sock_state(c[2], variant->proto));

	/* Its first retransmission (after 1 s) is dropped as well. */
	ovf = wait_counter(self->ns.b, variant->proto, "ListenOverflows",
			   ovf0 + 2, WAIT_MS);
	EXPECT_LE(ovf0 + 2, ovf) TH_LOG("the retransmitted SYN did not count a ListenOverflow");
	ASSERT_EQ(0, sinfo_get(c[2], variant->proto, &ci));
	EXPECT_EQ(ETCP_SYN_SENT, ci.state)
		TH_LOG("third client in %s with the accept queue full", state_name(ci.state));
	EXPECT_LE(1, ci.retransmits);
	n = find_rows(self->ns.a, PROC,
		      &(struct row_want){ ETCP_SYN_SENT, ADDR_A,
					  sockaddr_port(&cs[2]),
					  ADDR_B, PORT,
					  inode_of(c[2]) }, &r);
	EXPECT_EQ(1, n) TH_LOG("no SYN_SENT (02) row for the third client in netns a");
	if (n == 1) {
		EXPECT_EQ(1U, r.tr) TH_LOG("SYN_SENT row without its timer");
		EXPECT_LE(1U, r.retr);
	}
	n = wait_rows(self->ns.b, PROC, &w, 1, 0, &r);
	EXPECT_EQ(1, n);
	EXPECT_EQ(2U, r.rxq);

	/* accept() takes the oldest child and makes room. */
	a = accept(l, (struct sockaddr *)&peer, &plen);
	ASSERT_LE(0, a);
	EXPECT_TRUE(sockaddr_eq(&peer, &cs[0])) TH_LOG("accept() did not return the oldest child");
	close(a);

	ev = poll_fd(c[2], POLLOUT, WAIT_MS);
	EXPECT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP))
		TH_LOG("third client not connected after accept() made room: revents 0x%x", ev);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c[2], variant->proto));
	EXPECT_EQ(0, so_error(c[2]));
	n = wait_rxq(self->ns.b, PROC, &w, 2, WAIT_MS, &r);
	EXPECT_EQ(1, n);
	EXPECT_EQ(2U, r.rxq) TH_LOG("LISTEN rx_queue %u: the third child not queued", r.rxq);

	for (i = 1; i < 3; i++) {
		plen = sizeof(peer);
		a = accept(l, (struct sockaddr *)&peer, &plen);
		ASSERT_LE(0, a);
		EXPECT_TRUE(sockaddr_eq(&peer, &cs[i])) TH_LOG("accept #%d: not client %d", i + 1, i);
		close(a);
	}
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(l);
}

/*
 * The final ACK of a handshake arriving while the accept queue is full is
 * ignored (ListenOverflows) and the request stays; once accept() makes room,
 * the ACK answering a SYN-ACK retransmission completes it.
 */
TEST_F(conn, backlog_full_final_ack)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct row_want req, lrow;
	struct proc_row r;
	int l, c[3], c2, a, i, ev, n;
	long ovf0, ovf;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	/* backlog 2: up to 3 children wait; 2 requests fit (etcp and TCP). */
	l = LISTENER(PORT, 2);
	ASSERT_LE(0, l);
	lrow = (struct row_want){ ETCP_LISTEN, ANYADDR, PORT, ANYADDR, ANY, inode_of(l) };

	/* c2's handshake hangs in SYN_RECV: its ACKs are dropped. */
	ASSERT_EQ(0, drop_pure_acks_from(&self->ns, variant->proto, EPH_LOW));
	c2 = CLIENT();
	ASSERT_LE(0, c2);
	ASSERT_EQ(0, bind_to(c2, ADDR_A, EPH_LOW));
	ASSERT_EQ(-EINPROGRESS, connect_nb(c2, ADDR_B, PORT));
	ev = poll_fd(c2, POLLOUT, WAIT_MS);
	ASSERT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP));
	req = (struct row_want){ ETCP_SYN_RECV, ADDR_B, PORT,
				 ADDR_A, EPH_LOW, ANY };
	ASSERT_EQ(1, wait_rows(self->ns.b, PROC, &req, 1, WAIT_MS, NULL));

	/* Three others fill the accept queue (backlog + 1). */
	for (i = 0; i < 3; i++) {
		c[i] = CLIENT();
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, connect_to(c[i], ADDR_B, PORT));
		n = wait_rxq(self->ns.b, PROC, &lrow, i + 1, WAIT_MS, &r);
		ASSERT_EQ(1, n);
		ASSERT_EQ((unsigned int)i + 1, r.rxq) TH_LOG("client %d not queued", i);
	}

	/* Let c2's ACKs through: the next one finds the queue full. */
	ovf0 = read_counter(self->ns.b, variant->proto, "ListenOverflows");
	ASSERT_LE(0, ovf0);
	ASSERT_EQ(0, allow_acks(&self->ns));
	ovf = wait_counter(self->ns.b, variant->proto, "ListenOverflows",
			   ovf0 + 1, 2 * WAIT_MS);
	ASSERT_LE(ovf0 + 1, ovf) TH_LOG("c2's final ACK never counted a ListenOverflow");
	n = find_rows(self->ns.b, PROC, &req, &r);
	EXPECT_EQ(1, n) TH_LOG("the request went when its ACK met a full accept queue");
	if (n == 1) {
		EXPECT_EQ(1U, r.tr);
		EXPECT_LE(1U, r.retr) TH_LOG("request row counts no SYN-ACK retransmission");
	}
	n = find_rows(self->ns.b, PROC, &lrow, &r);
	EXPECT_EQ(1, n);
	EXPECT_EQ(3U, r.rxq);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c2, variant->proto));

	/* Room for one: the next SYN-ACK's ACK completes the request. */
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	close(a);
	n = wait_rows(self->ns.b, PROC, &req, 0, 2 * WAIT_MS, NULL);
	EXPECT_EQ(0, n) TH_LOG("request never completed after accept() made room");
	for (i = 1; i < 4; i++) {
		plen = sizeof(peer);
		a = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
		ASSERT_LE(0, a) TH_LOG("accept #%d: %s", i, strerror(errno));
		if (i == 3) {
			EXPECT_EQ(EPH_LOW, sockaddr_port(&peer))
				TH_LOG("last child is not c2's");
		}
		close(a);
	}
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(c2);
	close(l);
}

/*
 * With the client's final ACK dropped in netns b, the listener keeps a
 * request (st 03, timer on) while the client is ESTABLISHED.  Once ACKs
 * pass again, a SYN-ACK retransmission completes it.
 */
TEST_F(conn, syn_recv_row)
{
	struct sockaddr_storage cs, peer;
	socklen_t plen = sizeof(peer);
	struct row_want w;
	struct proc_row r;
	int l, c, a, ev, n;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	ASSERT_EQ(0, drop_pure_acks(&self->ns, variant->proto));
	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	c = CLIENT();
	ASSERT_LE(0, c);
	ASSERT_EQ(-EINPROGRESS, connect_nb(c, ADDR_B, PORT));
	ev = poll_fd(c, POLLOUT, WAIT_MS);
	ASSERT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP)) TH_LOG("revents 0x%x", ev);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
	ASSERT_EQ(0, sock_name(c, &cs));

	w = (struct row_want){ ETCP_SYN_RECV, ADDR_B, PORT,
			       ADDR_A, sockaddr_port(&cs), ANY };
	n = wait_rows(self->ns.b, PROC, &w, 1, WAIT_MS, &r);
	ASSERT_EQ(1, n) TH_LOG("/proc/net/%s in netns b: %d SYN_RECV (03) rows for the request",
			       PROC, n);
	EXPECT_EQ(1U, r.tr) TH_LOG("request row without its SYN-ACK timer (tr %u)", r.tr);
	EXPECT_EQ(0U, r.txq);
	EXPECT_EQ(0U, r.rxq);
	/* Nothing to accept yet; the client stays ESTABLISHED. */
	EXPECT_EQ(0, poll_fd(l, POLLIN, 0));
	n = wait_rows(self->ns.b, PROC,
		      &(struct row_want){ ETCP_LISTEN, ANYADDR, PORT, ANYADDR, ANY, inode_of(l) },
		      1, 0, &r);
	EXPECT_EQ(1, n);
	EXPECT_EQ(0U, r.rxq);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));

	/* Let ACKs through: the next SYN-ACK's ACK completes the handshake. */
	ASSERT_EQ(0, allow_acks(&self->ns));
	ev = poll_fd(l, POLLIN, 2 * WAIT_MS);
	EXPECT_EQ(POLLIN, ev) TH_LOG("request never completed after ACKs were let through");
	a = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);
	ASSERT_LE(0, a) TH_LOG("accept: %s", strerror(errno));
	EXPECT_TRUE(sockaddr_eq(&peer, &cs));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(a, variant->proto));
	EXPECT_EQ(0, find_rows(self->ns.b, PROC, &w, NULL))
		TH_LOG("request row still listed after its child was accepted");
	close(a);
	close(c);
	close(l);
}

/* A reset client: CLOSE, POLLERR|POLLHUP, SO_ERROR ECONNRESET. */
static void expect_reset(struct __test_metadata *_metadata, int fd, int proto,
			 const char *who)
{
	int ev, st;

	ev = poll_fd(fd, 0, WAIT_MS);
	EXPECT_EQ(POLLERR | POLLHUP, ev & (POLLERR | POLLHUP))
		TH_LOG("%s: revents 0x%x, not reset", who, ev);
	st = wait_sock_state(fd, proto, ETCP_CLOSE, WAIT_MS);
	EXPECT_EQ(ETCP_CLOSE, st) TH_LOG("%s in %s, not CLOSE", who, state_name(st));
	EXPECT_EQ(ECONNRESET, so_error(fd)) TH_LOG("%s: SO_ERROR not ECONNRESET", who);
}

/*
 * A listener that goes resets the children nobody accepted: one listener is
 * closed, the other shut down (SHUT_RDWR), which leaves it CLOSE and able
 * to listen() again on its port.
 */
TEST_F(conn, listener_gone_resets_children)
{
	int l[2], c[2], c2, a, k, ev;
	struct sockaddr_storage ls;

	for (k = 0; k < 2; k++) {
		l[k] = LISTENER(PORT + k, 8);
		ASSERT_LE(0, l[k]);
		c[k] = CLIENT();
		ASSERT_LE(0, c[k]);
		ASSERT_EQ(0, connect_to(c[k], ADDR_B, PORT + k));
		ev = poll_fd(l[k], POLLIN, WAIT_MS);
		ASSERT_EQ(POLLIN, ev);
	}
	EXPECT_EQ(0, poll_fd(c[0], 0, 0)) TH_LOG("client not healthy before the listener closed");

	close(l[0]);
	expect_reset(_metadata, c[0], variant->proto, "client of a closed listener's child");
	EXPECT_EQ(0, find_rows(self->ns.b, PROC,
			       &(struct row_want){ ANY, ANYADDR, PORT, ANYADDR, ANY, ANY },
			       NULL))
		TH_LOG("rows on port %d left in netns b after the listener closed", PORT);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c[1], variant->proto))
		TH_LOG("closing one listener disturbed another's child");

	EXPECT_EQ(0, shutdown(l[1], SHUT_RDWR))
		TH_LOG("shutdown of a listener: %s", strerror(errno));
	expect_reset(_metadata, c[1], variant->proto, "client of a shut down listener's child");
	EXPECT_EQ(ETCP_CLOSE, sock_state(l[1], variant->proto));
	EXPECT_EQ(0, so_error(l[1]));

	ASSERT_EQ(0, listen(l[1], 8)) TH_LOG("listen() after shutdown: %s", strerror(errno));
	ASSERT_EQ(0, sock_name(l[1], &ls));
	EXPECT_EQ(PORT + 1, sockaddr_port(&ls));
	EXPECT_EQ(ETCP_LISTEN, sock_state(l[1], variant->proto));
	c2 = CLIENT();
	ASSERT_LE(0, c2);
	EXPECT_EQ(0, connect_to(c2, ADDR_B, PORT + 1));
	ASSERT_EQ(0, set_nonblock(l[1], true));
	ASSERT_EQ(POLLIN, poll_fd(l[1], POLLIN, WAIT_MS));
	a = accept(l[1], NULL, NULL);
	EXPECT_LE(0, a) TH_LOG("accept after listening again: %s", strerror(errno));
	if (a >= 0)
		close(a);
	close(c2);
	close(c[0]);
	close(c[1]);
	close(l[1]);
}

/*
 * connect(AF_UNSPEC) disconnects an established socket (the peer is reset)
 * and it can connect again, with no stale error.
 */
TEST_F(conn, connect_unspec)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	struct sockaddr_storage cs, peer;
	socklen_t plen = sizeof(peer);
	int l, c, a, a2, ev, err;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	c = CLIENT();
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);

	ASSERT_EQ(0, connect(c, &sa, sizeof(sa)))
		TH_LOG("connect(AF_UNSPEC): %s", strerror(errno));
	EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));
	EXPECT_EQ(-ENOTCONN, peer_name(c, &peer));
	EXPECT_EQ(ECONNRESET, so_error(c));
	expect_reset(_metadata, a, variant->proto, "peer of a disconnected socket");

	err = connect_to(c, ADDR_B, PORT);
	ASSERT_EQ(0, err) TH_LOG("connect after connect(AF_UNSPEC): %s", strerror(-err));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
	ev = poll_fd(c, POLLOUT, 0);
	EXPECT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP))
		TH_LOG("reconnected socket polls 0x%x", ev);
	EXPECT_EQ(0, so_error(c)) TH_LOG("reconnected socket still has an error");
	ASSERT_EQ(0, sock_name(c, &cs));
	a2 = accept(l, (struct sockaddr *)&peer, &plen);
	ASSERT_LE(0, a2);
	EXPECT_TRUE(sockaddr_eq(&peer, &cs));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(a2, variant->proto));
	close(a2);
	close(a);
	close(c);
	close(l);
}

/*
 * A disconnect (connect(AF_UNSPEC)) leaves ECONNRESET pending; a following
 * connect() starts clean, as TCP's clears the error: a non-blocking
 * reconnect must not poll POLLERR nor report the old error.  Once from
 * ESTABLISHED, once from SYN_SENT (to SILENT_ADDR, which never answers
 * ARP or neighbour solicitations).
 */
TEST_F(conn, reconnect_no_stale_error)
{
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	int l, c, a, ev, round, err;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_nonblock(l, true));
	for (round = 0; round < 2; round++) {
		const char *from = round ? "SYN_SENT" : "ESTABLISHED";

		c = CLIENT();
		ASSERT_LE(0, c);
		if (round == 0) {
			ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
			ASSERT_EQ(POLLIN, poll_fd(l, POLLIN, WAIT_MS));
			a = accept(l, NULL, NULL);
			ASSERT_LE(0, a);
			close(a);
		} else {
			ASSERT_EQ(-EINPROGRESS, connect_nb(c, SILENT_ADDR, PORT));
			ASSERT_EQ(ETCP_SYN_SENT, sock_state(c, variant->proto));
		}
		ASSERT_EQ(0, connect(c, &sa, sizeof(sa)));
		EXPECT_EQ(ETCP_CLOSE, sock_state(c, variant->proto));

		err = connect_nb(c, ADDR_B, PORT);
		ASSERT_EQ(-EINPROGRESS, err) TH_LOG("reconnect from %s: %s", from, strerror(-err));
		ev = poll_fd(c, POLLOUT, WAIT_MS);
		EXPECT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP))
			TH_LOG("reconnect after disconnecting from %s polls 0x%x", from, ev);
		err = so_error(c);
		EXPECT_EQ(0, err) TH_LOG("reconnected socket reports the old error %s (from %s)",
					 strerror(err), from);
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
		ASSERT_EQ(POLLIN, poll_fd(l, POLLIN, WAIT_MS));
		a = accept(l, NULL, NULL);
		EXPECT_LE(0, a);
		if (a >= 0)
			close(a);
		close(c);
	}
	close(l);
}

/* --------------------------------------------------------- socket options */

/*
 * Socket options at the protocol's level (SOL_ETCP's numbers are SOL_TCP's):
 * INFO copies what the caller has room for; SYNCNT is the sysctl until set,
 * 1..127; MAXSEG 88..32767 (0 unsets), the clamp (536 unset) before
 * connect() and what both ends send with after; out of range is EINVAL and
 * keeps the old value; unknown options ENOPROTOOPT, optlen < 4 EINVAL, and
 * SOL_IP/SOL_SOCKET options still work.
 */
TEST_F(conn, sockopts)
{
	const char *sysctl = variant->proto == IPPROTO_ETCP ?
		"net/ipv4/etcp_syn_retries" : "net/ipv4/tcp_syn_retries";
	bool v6 = variant->family == AF_INET6;
	/* The network layer's: IPv6's traffic class and hop limit, IPv4's TOS and TTL. */
	int ip_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	int ip_tos = v6 ? IPV6_TCLASS : IP_TOS;
	int ip_ttl = v6 ? IPV6_UNICAST_HOPS : IP_TTL;
	int s, l, c, a, val, lvl = variant->proto;
	unsigned char buf[1024];
	struct sinfo ci;
	socklen_t len;

	s = CLIENT();
	ASSERT_LE(0, s);

	/* INFO */
	memset(buf, 0xa5, sizeof(buf));
	len = 1;
	ASSERT_EQ(0, getsockopt(s, lvl, ETCP_INFO, buf, &len))
		TH_LOG("INFO with optlen 1: %s", strerror(errno));
	EXPECT_EQ(1U, len);
	EXPECT_EQ(ETCP_CLOSE, buf[0]) TH_LOG("first byte is not the state");
	EXPECT_EQ(0xa5, buf[1]) TH_LOG("INFO with optlen 1 wrote a second byte");
	memset(buf, 0xa5, sizeof(buf));
	len = sizeof(buf);
	ASSERT_EQ(0, getsockopt(s, lvl, ETCP_INFO, buf, &len));
	EXPECT_GT(sizeof(buf), len);
	if (variant->proto == IPPROTO_ETCP) {
		EXPECT_EQ(sizeof(struct etcp_info), len)
			TH_LOG("ETCP_INFO with a large buffer returned %u bytes", len);
	}
	EXPECT_EQ(0xa5, buf[len]) TH_LOG("INFO wrote past the length it returned");
	len = 0;
	EXPECT_EQ(0, getsockopt(s, lvl, ETCP_INFO, buf, &len));
	EXPECT_EQ(0U, len);

	/* SYNCNT */
	EXPECT_EQ(6, sockopt_get(s, lvl, ETCP_SYNCNT)) TH_LOG("SYNCNT default is not 6");
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, sysctl, "3"));
	EXPECT_EQ(3, sockopt_get(s, lvl, ETCP_SYNCNT)) TH_LOG("SYNCNT does not follow %s", sysctl);
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_SYNCNT, 1));
	EXPECT_EQ(1, sockopt_get(s, lvl, ETCP_SYNCNT));
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_SYNCNT, 127));
	EXPECT_EQ(127, sockopt_get(s, lvl, ETCP_SYNCNT));
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_SYNCNT, 9));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_SYNCNT, 0));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_SYNCNT, 128));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_SYNCNT, -1));
	EXPECT_EQ(9, sockopt_get(s, lvl, ETCP_SYNCNT)) TH_LOG("a rejected SYNCNT changed the value");
	/* The socket's own value wins over the sysctl. */
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, sysctl, "5"));
	EXPECT_EQ(9, sockopt_get(s, lvl, ETCP_SYNCNT));

	/* MAXSEG */
	EXPECT_EQ(536, sockopt_get(s, lvl, ETCP_MAXSEG));
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_MAXSEG, 88));
	EXPECT_EQ(88, sockopt_get(s, lvl, ETCP_MAXSEG));
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_MAXSEG, 32767));
	EXPECT_EQ(32767, sockopt_get(s, lvl, ETCP_MAXSEG));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_MAXSEG, 87));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_MAXSEG, 32768));
	EXPECT_EQ(-EINVAL, sockopt_set(s, lvl, ETCP_MAXSEG, -1));
	EXPECT_EQ(32767, sockopt_get(s, lvl, ETCP_MAXSEG))
		TH_LOG("a rejected MAXSEG changed the value");
	EXPECT_EQ(0, sockopt_set(s, lvl, ETCP_MAXSEG, 0));
	EXPECT_EQ(536, sockopt_get(s, lvl, ETCP_MAXSEG)) TH_LOG("MAXSEG 0 did not unset the clamp");

	/* Unknown, short, other levels. */
	len = sizeof(val);
	EXPECT_EQ(-1, getsockopt(s, lvl, OPT_UNKNOWN, &val, &len));
	EXPECT_EQ(ENOPROTOOPT, errno) TH_LOG("get of an unknown option: %s", strerror(errno));
	EXPECT_EQ(-ENOPROTOOPT, sockopt_set(s, lvl, OPT_UNKNOWN, 1));
	val = 5;
	EXPECT_EQ(-1, setsockopt(s, lvl, ETCP_SYNCNT, &val, 2));
	EXPECT_EQ(EINVAL, errno) TH_LOG("SYNCNT with optlen 2: %s", strerror(errno));
	EXPECT_EQ(-1, setsockopt(s, lvl, ETCP_MAXSEG, &val, 2));
	EXPECT_EQ(EINVAL, errno) TH_LOG("MAXSEG with optlen 2: %s", strerror(errno));
	EXPECT_EQ(9, sockopt_get(s, lvl, ETCP_SYNCNT));
	EXPECT_EQ(0, sockopt_set(s, ip_level, ip_tos, 0x10));
	EXPECT_EQ(0x10, sockopt_get(s, ip_level, ip_tos));
	EXPECT_EQ(0, sockopt_set(s, ip_level, ip_ttl, 7));
	EXPECT_EQ(7, sockopt_get(s, ip_level, ip_ttl));
	EXPECT_EQ(0, sockopt_set(s, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(1, sockopt_get(s, SOL_SOCKET, SO_REUSEADDR));
	close(s);

	/* A MAXSEG set before connect() limits both directions. */
	c = CLIENT();
	ASSERT_LE(0, c);
	ASSERT_EQ(0, sockopt_set(c, lvl, ETCP_MAXSEG, 1000));
	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	len = 1;
	ASSERT_EQ(0, getsockopt(l, lvl, ETCP_INFO, buf, &len));
	EXPECT_EQ(ETCP_LISTEN, buf[0]);
	ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, sinfo_get(c, variant->proto, &ci));
	EXPECT_EQ(1000U, ci.snd_mss) TH_LOG("client MSS %u with MAXSEG 1000", ci.snd_mss);
	EXPECT_EQ(1000, sockopt_get(c, lvl, ETCP_MAXSEG));
	ASSERT_EQ(0, sinfo_get(a, variant->proto, &ci));
	EXPECT_EQ(1000U, ci.snd_mss) TH_LOG("server MSS %u, client announced 1000", ci.snd_mss);
	EXPECT_EQ(1000, sockopt_get(a, lvl, ETCP_MAXSEG));
	close(a);
	close(c);
	close(l);
}

/* ------------------------------------------------------------------ ports */

/*
 * connect() without bind() takes ports from the client netns's
 * ip_local_port_range; a port may serve several destinations (the 4-tuple
 * is what must be unique), so 10 ports carry 10 connections to each of two
 * server ports, and the eleventh to one of them finds none.
 */
TEST_F(conn, connect_ephemeral_range)
{
	int l[2], c[2][EPH_COUNT], port[2][EPH_COUNT], d, i, j, x, err;

	ASSERT_EQ(0, set_port_range(self->ns.a, EPH_LOW, EPH_HIGH));
	for (d = 0; d < 2; d++) {
		l[d] = LISTENER(PORT + d, 2 * EPH_COUNT);
		ASSERT_LE(0, l[d]);
	}
	for (d = 0; d < 2; d++) {
		for (i = 0; i < EPH_COUNT; i++) {
			c[d][i] = CLIENT();
			ASSERT_LE(0, c[d][i]);
			err = connect_to(c[d][i], ADDR_B, PORT + d);
			ASSERT_EQ(0, err) TH_LOG("connect #%d to port %d: %s",
						 i, PORT + d, strerror(-err));
			port[d][i] = local_port(c[d][i]);
			EXPECT_TRUE(port_in_range(port[d][i], EPH_LOW, EPH_HIGH))
				TH_LOG("connect() took port %d, outside %d-%d",
				       port[d][i], EPH_LOW, EPH_HIGH);
			for (j = 0; j < i; j++) {
				EXPECT_NE(port[d][j], port[d][i])
					TH_LOG("two connections to port %d from port %d",
					       PORT + d, port[d][i]);
			}
		}
	}
	x = ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, x);
	err = connect_to(x, ADDR_B, PORT);
	EXPECT_EQ(-EADDRNOTAVAIL, err)
		TH_LOG("connect with every port of the range used towards the peer: %s",
		       strerror(-err));
	close(x);
	for (d = 0; d < 2; d++) {
		for (i = 0; i < EPH_COUNT; i++)
			close(c[d][i]);
		close(l[d]);
	}
}

/*
 * connect() never takes a port someone bind()ed (with or without
 * SO_REUSEADDR), but shares its own ports across destinations; bind() to a
 * port connect() took conflicts unless both sockets have SO_REUSEADDR.
 */
TEST_F(conn, connect_ports_vs_bind)
{
	int b[3], l[2], c[2], x, s, i, err;

	ASSERT_EQ(0, set_port_range(self->ns.a, EPH_LOW, EPH_LOW + 3));
	for (i = 0; i < 3; i++) {
		b[i] = CLIENT();
		ASSERT_LE(0, b[i]);
	}
	ASSERT_EQ(0, sockopt_set(b[2], SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_to(b[0], ADDR_A, EPH_LOW));
	ASSERT_EQ(0, bind_to(b[1], ADDR_ANY, EPH_LOW + 1));
	ASSERT_EQ(0, bind_to(b[2], ADDR_A, EPH_LOW + 2));

	/* One port left, shared by connections to two destinations. */
	for (i = 0; i < 2; i++) {
		l[i] = LISTENER(PORT + i, 8);
		ASSERT_LE(0, l[i]);
		c[i] = CLIENT();
		ASSERT_LE(0, c[i]);
		err = connect_to(c[i], ADDR_B, PORT + i);
		ASSERT_EQ(0, err) TH_LOG("connect with one free port: %s", strerror(-err));
		EXPECT_EQ(EPH_LOW + 3, local_port(c[i]))
			TH_LOG("connect() took port %d; %d-%d are bound", local_port(c[i]),
			       EPH_LOW, EPH_LOW + 2);
	}
	x = CLIENT();
	ASSERT_LE(0, x);
	err = connect_to(x, ADDR_B, PORT);
	EXPECT_EQ(-EADDRNOTAVAIL, err) TH_LOG("connect with no port left: %s", strerror(-err));
	close(x);

	/* connect()'s port conflicts with bind() as a bound one would. */
	s = CLIENT();
	ASSERT_LE(0, s);
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_A, EPH_LOW + 3))
		TH_LOG("bind to the port of a connection succeeded");
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_ANY, EPH_LOW + 3));
	ASSERT_EQ(0, sockopt_set(s, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_A, EPH_LOW + 3))
		TH_LOG("SO_REUSEADDR on one side only let bind share a connection's port");
	close(s);

	/* With SO_REUSEADDR on the connecting socket too, bind shares its port. */
	close(b[0]);
	x = CLIENT();
	ASSERT_LE(0, x);
	ASSERT_EQ(0, sockopt_set(x, SOL_SOCKET, SO_REUSEADDR, 1));
	err = connect_to(x, ADDR_B, PORT);
	ASSERT_EQ(0, err) TH_LOG("connect after a port was freed: %s", strerror(-err));
	EXPECT_EQ(EPH_LOW, local_port(x))
		TH_LOG("connect took port %d, only %d was free", local_port(x), EPH_LOW);
	s = CLIENT();
	ASSERT_LE(0, s);
	ASSERT_EQ(0, sockopt_set(s, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(0, bind_to(s, ADDR_A, local_port(x)))
		TH_LOG("SO_REUSEADDR on both: bind to a connection's port failed");
	close(s);
	close(x);
	for (i = 0; i < 2; i++) {
		close(c[i]);
		close(l[i]);
	}
	for (i = 1; i < 3; i++)
		close(b[i]);
}

/*
 * Listeners: a second one on the same addr:port fails EADDRINUSE at bind
 * (SO_REUSEADDR or not).  SO_REUSEADDR lets two sockets bind one addr:port,
 * but only one may listen; once it is gone, the other can.
 */
TEST_F(conn, listener_port_conflicts)
{
	int l, s, s1, s2, s3, err;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	s = SERVER();
	ASSERT_LE(0, s);
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_B, PORT));
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_ANY, PORT));
	ASSERT_EQ(0, sockopt_set(s, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_B, PORT))
		TH_LOG("SO_REUSEADDR let a socket bind a listener's port");
	close(s);
	close(l);

	s1 = SERVER();
	s2 = SERVER();
	ASSERT_LE(0, s1);
	ASSERT_LE(0, s2);
	ASSERT_EQ(0, sockopt_set(s1, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, sockopt_set(s2, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_to(s1, ADDR_B, PORT + 1));
	ASSERT_EQ(0, bind_to(s2, ADDR_B, PORT + 1))
		TH_LOG("SO_REUSEADDR on both: second bind failed");
	ASSERT_EQ(0, listen(s1, 8));
	err = listen(s2, 8) ? -errno : 0;
	EXPECT_EQ(-EADDRINUSE, err) TH_LOG("second listener on one port: %s", strerror(-err));
	EXPECT_EQ(ETCP_CLOSE, sock_state(s2, variant->proto));
	s3 = SERVER();
	ASSERT_LE(0, s3);
	ASSERT_EQ(0, sockopt_set(s3, SOL_SOCKET, SO_REUSEADDR, 1));
	EXPECT_EQ(-EADDRINUSE, bind_to(s3, ADDR_B, PORT + 1))
		TH_LOG("SO_REUSEADDR bind to a port with a listener succeeded");
	close(s3);
	close(s1);
	EXPECT_EQ(0, listen(s2, 8)) TH_LOG("listen after the other listener closed: %s",
					   strerror(errno));
	close(s2);
}

/* SO_REUSEPORT (same uid): both listen, and the connections are accepted. */
TEST_F(conn, reuseport_listeners)
{
	int s[2], c[4], i, k, got = 0, a, err;
	long deadline;

	for (k = 0; k < 2; k++) {
		s[k] = SERVER();
		ASSERT_LE(0, s[k]);
		ASSERT_EQ(0, sockopt_set(s[k], SOL_SOCKET, SO_REUSEPORT, 1));
		ASSERT_EQ(0, bind_to(s[k], ADDR_B, PORT))
			TH_LOG("SO_REUSEPORT bind #%d: %s", k, strerror(errno));
		err = listen(s[k], 8) ? -errno : 0;
		ASSERT_EQ(0, err) TH_LOG("SO_REUSEPORT listen #%d: %s", k, strerror(-err));
		ASSERT_EQ(0, set_nonblock(s[k], true));
	}
	for (i = 0; i < 4; i++) {
		c[i] = CLIENT();
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, connect_to(c[i], ADDR_B, PORT));
	}
	deadline = now_ms() + WAIT_MS;
	while (got < 4 && now_ms() < deadline) {
		for (k = 0; k < 2; k++) {
			a = accept(s[k], NULL, NULL);
			if (a >= 0) {
				got++;
				close(a);
			}
		}
		if (got < 4)
			pause_step();
	}
	EXPECT_EQ(4, got) TH_LOG("%d of 4 connections accepted by the SO_REUSEPORT pair", got);
	for (i = 0; i < 4; i++)
		close(c[i]);
	for (k = 0; k < 2; k++)
		close(s[k]);
}

/*
 * A child keeps the listener's port after the listener is closed: bind()
 * fails EADDRINUSE.  The server restart idiom: with SO_REUSEADDR on the old
 * listener (so its children) and the new one, the new one binds and listens.
 */
TEST_F(conn, child_keeps_port)
{
	int l, c, a, s, l2, c2, a2, k, err;

	for (k = 0; k < 2; k++) {
		l = SERVER();
		ASSERT_LE(0, l);
		if (k) {
			ASSERT_EQ(0, sockopt_set(l, SOL_SOCKET, SO_REUSEADDR, 1));
		}
		ASSERT_EQ(0, bind_to(l, ADDR_B, PORT + k));
		ASSERT_EQ(0, listen(l, 8));
		c = CLIENT();
		ASSERT_LE(0, c);
		ASSERT_EQ(0, connect_to(c, ADDR_B, PORT + k));
		a = accept(l, NULL, NULL);
		ASSERT_LE(0, a);
		close(l);

		s = SERVER();
		ASSERT_LE(0, s);
		if (!k) {
			EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_B, PORT))
				TH_LOG("the listener's port is free while its child lives");
			EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_ANY, PORT));
			ASSERT_EQ(0, sockopt_set(s, SOL_SOCKET, SO_REUSEADDR, 1));
			EXPECT_EQ(-EADDRINUSE, bind_to(s, ADDR_B, PORT))
				TH_LOG("SO_REUSEADDR on one side shared a child's port");
		} else {
			l2 = s;
			ASSERT_EQ(0, sockopt_set(l2, SOL_SOCKET, SO_REUSEADDR, 1));
			err = bind_to(l2, ADDR_B, PORT + 1);
			ASSERT_EQ(0, err) TH_LOG("SO_REUSEADDR bind next to a child: %s",
						 strerror(-err));
			ASSERT_EQ(0, listen(l2, 8)) TH_LOG("listen next to a child: %s",
							   strerror(errno));
			c2 = CLIENT();
			ASSERT_LE(0, c2);
			ASSERT_EQ(0, connect_to(c2, ADDR_B, PORT + 1));
			a2 = accept(l2, NULL, NULL);
			EXPECT_LE(0, a2);
			if (a2 >= 0)
				close(a2);
			close(c2);
		}
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto))
			TH_LOG("closing the listener disturbed an accepted connection");
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(a, variant->proto));
		close(s);
		close(a);
		close(c);
	}
}

/* Two SO_REUSEADDR sockets on one addr:port cannot both reach one peer. */
TEST_F(conn, reuseaddr_same_peer)
{
	int l, c1, c2, c3, err;

	l = LISTENER(PORT, 8);
	ASSERT_LE(0, l);
	c1 = CLIENT();
	c2 = CLIENT();
	c3 = CLIENT();
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	ASSERT_LE(0, c3);
	ASSERT_EQ(0, sockopt_set(c1, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, sockopt_set(c2, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, sockopt_set(c3, SOL_SOCKET, SO_REUSEADDR, 1));
	ASSERT_EQ(0, bind_to(c1, ADDR_A, EPH_LOW));
	ASSERT_EQ(0, bind_to(c2, ADDR_A, EPH_LOW));
	ASSERT_EQ(0, bind_to(c3, ADDR_A, EPH_LOW));
	ASSERT_EQ(0, connect_to(c1, ADDR_B, PORT));
	err = connect_to(c2, ADDR_B, PORT);
	EXPECT_EQ(-EADDRNOTAVAIL, err)
		TH_LOG("second connect of %s:%d to the same peer: %s", ADDR_A,
		       EPH_LOW, strerror(-err));
	/* Another peer port is another 4-tuple. */
	close(l);
	l = LISTENER(PORT + 1, 8);
	ASSERT_LE(0, l);
	err = connect_to(c3, ADDR_B, PORT + 1);
	EXPECT_EQ(0, err) TH_LOG("same local port to another peer port: %s", strerror(-err));
	close(c1);
	close(c2);
	close(c3);
	close(l);
}

/*
 * listen() without bind() takes an ephemeral port of the netns's range,
 * which clients reach; port tables are per netns: a and b both listen on
 * one port and reach each other.
 */
TEST_F(conn, listen_autobind_per_netns)
{
	int l, la, lb, ca, cb, c, a, err;
	struct sockaddr_storage ls;

	ASSERT_EQ(0, set_port_range(self->ns.b, EPH_LOW, EPH_HIGH));
	l = SERVER();
	ASSERT_LE(0, l);
	ASSERT_EQ(0, listen(l, 8)) TH_LOG("listen without bind: %s", strerror(errno));
	ASSERT_EQ(0, sock_name(l, &ls));
	EXPECT_TRUE(sockaddr_is(&ls, ADDR_ANY, sockaddr_port(&ls)))
		TH_LOG("listen without bind: not bound to the wildcard %s", ADDR_ANY);
	EXPECT_TRUE(port_in_range(sockaddr_port(&ls), EPH_LOW, EPH_HIGH))
		TH_LOG("autobound port %d outside %d-%d", sockaddr_port(&ls), EPH_LOW, EPH_HIGH);
	c = CLIENT();
	ASSERT_LE(0, c);
	err = connect_to(c, ADDR_B, sockaddr_port(&ls));
	EXPECT_EQ(0, err) TH_LOG("connect to the autobound port: %s", strerror(-err));
	a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	EXPECT_LE(0, a);
	if (a >= 0)
		close(a);
	close(c);
	close(l);

	la = listener_at(self->ns.a, variant->proto, ADDR_ANY, PORT, 8);
	ASSERT_LE(0, la);
	lb = listener_at(self->ns.b, variant->proto, ADDR_ANY, PORT, 8);
	ASSERT_LE(0, lb) TH_LOG("port %d listened on in netns a is taken in netns b: %s",
				PORT, strerror(errno));
	ca = CLIENT();
	cb = SERVER();
	ASSERT_LE(0, ca);
	ASSERT_LE(0, cb);
	err = connect_to(ca, ADDR_B, PORT);
	EXPECT_EQ(0, err) TH_LOG("a -> b: %s", strerror(-err));
	err = connect_to(cb, ADDR_A, PORT);
	EXPECT_EQ(0, err) TH_LOG("b -> a: %s", strerror(-err));
	a = accept4(la, NULL, NULL, SOCK_NONBLOCK);
	EXPECT_LE(0, a);
	if (a >= 0)
		close(a);
	a = accept4(lb, NULL, NULL, SOCK_NONBLOCK);
	EXPECT_LE(0, a);
	if (a >= 0)
		close(a);
	close(ca);
	close(cb);
	close(la);
	close(lb);
}

/* ------------------------------------------------------- etcp only */

FIXTURE(etcp) {
	struct etcp_netns ns;
};

/*
 * Over IPv4 and IPv6: the paths these cases take (the listener's lookup,
 * the child's creation and counters, the RSTs a dying listener's requests
 * send) have a per-family half.
 */
FIXTURE_VARIANT(etcp) {
	ETCP_VARIANT_FIELDS;
};
ETCP_VARIANT_ADD(etcp, etcp, IPPROTO_ETCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
ETCP_VARIANT_ADD(etcp, etcp6, IPPROTO_ETCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);

FIXTURE_SETUP(etcp)
{
	const char *why = env_unsupported;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, two_ns_setup(&self->ns))
		TH_LOG("cannot set up the two network namespaces");
}

FIXTURE_TEARDOWN(etcp)
{
	etcp_netns_teardown(&self->ns);
}

/* The two ends agree on each other's ISN, and the handshake used one each. */
TEST_F(etcp, handshake_info)
{
	struct etcp_info ci, ai;
	int l, c, a;

	l = listener_at(self->ns.b, IPPROTO_ETCP, ADDR_B, PORT, 8);
	ASSERT_LE(0, l) TH_LOG("etcp listener: %s", strerror(errno));
	c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
	a = accept(l, NULL, NULL);
	ASSERT_LE(0, a);

	ASSERT_EQ(0, etcp_info_of(c, &ci));
	ASSERT_EQ(0, etcp_info_of(a, &ai));
	EXPECT_EQ(ETCP_ESTABLISHED, ci.etcpi_state);
	EXPECT_EQ(ETCP_ESTABLISHED, ai.etcpi_state);
	EXPECT_EQ(ci.etcpi_iss, ai.etcpi_irs)
		TH_LOG("client ISS %u, server child IRS %u", ci.etcpi_iss, ai.etcpi_irs);
	EXPECT_EQ(ai.etcpi_iss, ci.etcpi_irs)
		TH_LOG("server child ISS %u, client IRS %u", ai.etcpi_iss, ci.etcpi_irs);
	EXPECT_NE(ci.etcpi_iss, ai.etcpi_iss);
	EXPECT_EQ(ci.etcpi_iss + 1, ci.etcpi_snd_una);
	EXPECT_EQ(ci.etcpi_iss + 1, ci.etcpi_snd_nxt);
	EXPECT_EQ(ci.etcpi_irs + 1, ci.etcpi_rcv_nxt);
	EXPECT_EQ(ai.etcpi_iss + 1, ai.etcpi_snd_una);
	EXPECT_EQ(ai.etcpi_iss + 1, ai.etcpi_snd_nxt);
	EXPECT_EQ(ai.etcpi_irs + 1, ai.etcpi_rcv_nxt);
	EXPECT_EQ((unsigned int)VETH_MSS, ci.etcpi_snd_mss);
	EXPECT_EQ((unsigned int)VETH_MSS, ai.etcpi_snd_mss);
	EXPECT_EQ((unsigned int)VETH_MSS, ci.etcpi_rcv_mss);
	EXPECT_EQ((unsigned int)VETH_MSS, ai.etcpi_rcv_mss);
	EXPECT_EQ(0, ci.etcpi_retransmits);
	EXPECT_EQ(0, ai.etcpi_retransmits);
	EXPECT_EQ(0, ci.etcpi_orphan);
	EXPECT_NE(0U, ci.etcpi_snd_wnd) TH_LOG("client has no send window from the SYN-ACK");
	EXPECT_NE(0U, ai.etcpi_snd_wnd) TH_LOG("child has no send window from the SYN");
	close(a);
	close(c);
	close(l);
}

/*
 * ETCP_INFO's counters of an accepted child are its own connection's,
 * as TCP_INFO's are on Linux: the SYN and the final ACK in, nothing out
 * yet (the SYN-ACK was the request's), however many segments the listener
 * took for earlier connections; the listener counts none of its own.
 * The client: the SYN-ACK in, the SYN and the ACK out.
 */
TEST_F(etcp, child_counters_own)
{
	struct etcp_info ci, ai, li;
	int l, c, a, k;

	l = listener_at(self->ns.b, IPPROTO_ETCP, ADDR_B, PORT, 8);
	ASSERT_LE(0, l) TH_LOG("etcp listener: %s", strerror(errno));
	for (k = 0; k < 4; k++) {
		c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
		ASSERT_LE(0, c);
		ASSERT_EQ(0, connect_to(c, ADDR_B, PORT));
		a = accept_wait(l, WAIT_MS);
		ASSERT_LE(0, a);
		if (k < 3) {
			close(a);
			close(c);
			continue;
		}
		ASSERT_EQ(0, etcp_info_of(c, &ci));
		ASSERT_EQ(0, etcp_info_of(a, &ai));
		ASSERT_EQ(0, etcp_info_of(l, &li));
		EXPECT_EQ(2U, ai.etcpi_segs_in);
		EXPECT_EQ(0U, ai.etcpi_segs_out);
		EXPECT_EQ(0U, ai.etcpi_total_retrans);
		EXPECT_EQ(0ULL, ai.etcpi_bytes_received);
		EXPECT_EQ(0ULL, ai.etcpi_bytes_acked);
		EXPECT_EQ(1U, ci.etcpi_segs_in);
		EXPECT_EQ(2U, ci.etcpi_segs_out);
		EXPECT_EQ(0U, li.etcpi_segs_in);
		close(a);
		close(c);
	}
	close(l);
}

/*
 * Two listeners, each with an established child nobody accepted and a
 * request (its final ACK dropped).  close() of one resets both of its
 * clients and leaves the other listener's alone; shutdown(SHUT_RDWR) of the
 * other resets its clients too, and it can listen() again.  TCP leaves
 * requests alone here, so this is etcp's own.
 */
TEST_F(etcp, listener_gone_resets_requests)
{
	int l[2], child[2], req[2], c, a, k, ev, n;
	struct row_want w[2], any;
	struct sockaddr_storage cs;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	for (k = 0; k < 2; k++) {
		l[k] = listener_at(self->ns.b, IPPROTO_ETCP, ADDR_B, PORT + k, 8);
		ASSERT_LE(0, l[k]) TH_LOG("etcp listener: %s", strerror(errno));
		child[k] = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
		ASSERT_LE(0, child[k]);
		ASSERT_EQ(0, connect_to(child[k], ADDR_B, PORT + k));
		ASSERT_EQ(POLLIN, poll_fd(l[k], POLLIN, WAIT_MS));
	}
	ASSERT_EQ(0, drop_pure_acks(&self->ns, IPPROTO_ETCP));
	for (k = 0; k < 2; k++) {
		req[k] = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
		ASSERT_LE(0, req[k]);
		ASSERT_EQ(-EINPROGRESS, connect_nb(req[k], ADDR_B, PORT + k));
		ev = poll_fd(req[k], POLLOUT, WAIT_MS);
		ASSERT_EQ(POLLOUT, ev & (POLLOUT | POLLERR | POLLHUP));
		ASSERT_EQ(0, sock_name(req[k], &cs));
		w[k] = (struct row_want){ ETCP_SYN_RECV, ADDR_B, PORT + k,
					  ADDR_A, sockaddr_port(&cs), ANY };
		n = wait_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w[k], 1, WAIT_MS, NULL);
		ASSERT_EQ(1, n) TH_LOG("no SYN_RECV row for the request on port %d", PORT + k);
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(req[k], IPPROTO_ETCP));
	}

	close(l[0]);
	expect_reset(_metadata, child[0], IPPROTO_ETCP, "client of a closed listener's child");
	expect_reset(_metadata, req[0], IPPROTO_ETCP, "client of a closed listener's request");
	EXPECT_EQ(0, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w[0], NULL))
		TH_LOG("request row still listed after its listener closed");
	any = (struct row_want){ ANY, ANYADDR, PORT, ANYADDR, ANY, ANY };
	n = find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &any, NULL);
	EXPECT_EQ(0, n) TH_LOG("%d rows on port %d after its listener closed", n, PORT);
	/* The other listener's are untouched. */
	EXPECT_EQ(1, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w[1], NULL));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(child[1], IPPROTO_ETCP));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(req[1], IPPROTO_ETCP));

	EXPECT_EQ(0, shutdown(l[1], SHUT_RDWR));
	expect_reset(_metadata, child[1], IPPROTO_ETCP, "client of a shut down listener's child");
	expect_reset(_metadata, req[1], IPPROTO_ETCP, "client of a shut down listener's request");
	EXPECT_EQ(0, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w[1], NULL))
		TH_LOG("request row still listed after its listener was shut down");
	any.lport = PORT + 1;
	any.inode = inode_of(l[1]);
	EXPECT_EQ(1, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &any, NULL));
	any.inode = ANY;
	n = find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &any, NULL);
	EXPECT_EQ(1, n) TH_LOG("%d rows on port %d, only the shut down listener should be left",
			       n, PORT + 1);

	/* The listener is CLOSE and may listen again on its port. */
	EXPECT_EQ(ETCP_CLOSE, sock_state(l[1], IPPROTO_ETCP));
	ASSERT_EQ(0, allow_acks(&self->ns));
	ASSERT_EQ(0, listen(l[1], 8)) TH_LOG("listen after shutdown: %s", strerror(errno));
	EXPECT_EQ(PORT + 1, local_port(l[1]));
	c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, connect_to(c, ADDR_B, PORT + 1));
	ASSERT_EQ(POLLIN, poll_fd(l[1], POLLIN, WAIT_MS));
	a = accept4(l[1], NULL, NULL, SOCK_NONBLOCK);
	EXPECT_LE(0, a);
	if (a >= 0)
		close(a);
	close(c);
	close(l[1]);
	for (k = 0; k < 2; k++) {
		close(child[k]);
		close(req[k]);
	}
}

/*
 * TCP and etcp on the same addr:port, even the same 4-tuple: each
 * accept() returns a socket of its own protocol with its own peer.
 */
TEST_F(etcp, coexist_with_tcp)
{
	int proto[2] = { IPPROTO_TCP, IPPROTO_ETCP }, l[2], c[2], a[2], i, n, x;
	struct sockaddr_storage cs[2], peer;
	socklen_t plen;
	struct row_want w;

	for (i = 0; i < 2; i++) {
		l[i] = listener_at(self->ns.b, proto[i], ADDR_B, PORT, 8);
		ASSERT_LE(0, l[i]) TH_LOG("%s listener on %s:%d: %s", proto_name(proto[i]),
					  ADDR_B, PORT, strerror(errno));
		c[i] = ns_socket(self->ns.a, variant->family, SOCK_STREAM, proto[i]);
		ASSERT_LE(0, c[i]);
	}
	ASSERT_EQ(0, connect_to(c[0], ADDR_B, PORT));
	ASSERT_EQ(0, sock_name(c[0], &cs[0]));
	/* The etcp client takes the TCP client's port: the same 4-tuple. */
	ASSERT_EQ(0, bind_to(c[1], ADDR_A, sockaddr_port(&cs[0])))
		TH_LOG("etcp bind to the port of a TCP connection: %s", strerror(errno));
	ASSERT_EQ(0, connect_to(c[1], ADDR_B, PORT));
	ASSERT_EQ(0, sock_name(c[1], &cs[1]));

	for (i = 0; i < 2; i++) {
		plen = sizeof(peer);
		a[i] = accept(l[i], (struct sockaddr *)&peer, &plen);
		ASSERT_LE(0, a[i]) TH_LOG("%s accept: %s", proto_name(proto[i]), strerror(errno));
		EXPECT_EQ(proto[i], sockopt_get(a[i], SOL_SOCKET, SO_PROTOCOL))
			TH_LOG("the %s listener accepted a socket of protocol %d",
			       proto_name(proto[i]), sockopt_get(a[i], SOL_SOCKET, SO_PROTOCOL));
		EXPECT_TRUE(sockaddr_eq(&peer, &cs[i]));
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(a[i], proto[i]));
		EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c[i], proto[i]));
	}
	/* Each /proc/net file lists its own protocol's sockets only. */
	w = (struct row_want){ ANY, ANYADDR, ANY, ANYADDR, ANY, inode_of(a[0]) };
	EXPECT_EQ(0, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w, NULL));
	EXPECT_EQ(1, find_rows(self->ns.b, PROC_OF(IPPROTO_TCP), &w, NULL));
	w.inode = inode_of(a[1]);
	EXPECT_EQ(1, find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w, NULL));
	EXPECT_EQ(0, find_rows(self->ns.b, PROC_OF(IPPROTO_TCP), &w, NULL));
	w = (struct row_want){ ETCP_LISTEN, ANYADDR, PORT, ANYADDR, ANY, ANY };
	n = find_rows(self->ns.b, PROC_OF(IPPROTO_ETCP), &w, NULL);
	EXPECT_EQ(1, n);

	/* Closing one protocol's listener leaves the other's port alone. */
	close(l[1]);
	x = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, x);
	EXPECT_EQ(0, connect_to(x, ADDR_B, PORT))
		TH_LOG("TCP listener gone with the etcp one on its port");
	close(x);
	for (i = 0; i < 2; i++) {
		close(a[i]);
		close(c[i]);
	}
	close(l[0]);
}

TEST_HARNESS_MAIN
