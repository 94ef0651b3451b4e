// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: connection termination through the socket API.
 *
 *   netns a (10.0.1.1, fd00:1::1):      netns b (10.0.1.2, fd00:1::2):
 *   clients                              listeners
 *   ea ---------------------- veth ---------------------- eb
 *
 * What the application and /proc see when a connection ends: the states
 * (ETCP_INFO / TCP_INFO while the application holds the socket, the "st"
 * column of /proc/net/etcp or /proc/net/tcp, etcp6 or tcp6 for IPv6, once
 * it does not), read() at
 * the end of the stream, poll(), the errors after a reset, the lifetime of
 * orphans (FIN_WAIT2 and fin_timeout, ETCP_LINGER2, max_orphans), SO_LINGER
 * and the abort counters.  The segments on the wire are etcp_close_wire's
 * business; here an RST is seen by its effect on the peer.
 *
 *   active_close_states   FIN_WAIT2 (orphan) / CLOSE_WAIT, data then EOF,
 *                         TIME_WAIT on the closing end, the other gone
 *   passive_close_states  CLOSE_WAIT, LAST_ACK held while the ACKs are
 *                         dropped, then gone
 *   half_close            shutdown(SHUT_WR): EOF at the peer, which still
 *                         sends; EPIPE; a FIN_WAIT2 that is not an orphan
 *                         outlives fin_timeout
 *   shut_rd, shut_rdwr    what Linux TCP does for them
 *   poll_after_fin        POLLIN|POLLRDHUP, read() == 0 for ever, a blocked
 *                         reader woken, POLLHUP once both ways are shut
 *   unread_data_close_rst close() with unread data resets (AbortOnClose)
 *   linger_zero           SO_LINGER {1, 0} resets (AbortOnData)
 *   linger_timeout        SO_LINGER {1, 1} waits for the ACK of the FIN, or
 *                         ~1 s when the peer is gone
 *   orphan_fin_timeout    an orphaned FIN_WAIT2 lives fin_timeout
 *   linger2_option        ETCP_LINGER2 1 and -1
 *   linger2_ranges        ETCP_LINGER2 get/set values
 *   data_after_close_rst  data for an orphan is answered with RST
 *                         (AbortOnData)
 *   sysctl_per_netns      fin_timeout per namespace, changed between two
 *                         orphans
 *   max_orphans           (fixture close_etcp) N + 2 orphans: 2 resets
 *                         (AbortOnMemory)
 *   max_orphans_timer     (close_etcp) the limit lowered under existing
 *                         orphans: their retransmission timer resets them
 *
 * Every test of the fixture "close" runs over TCP as well as etcp, over
 * IPv4 and over IPv6 (variants tcp, etcp, tcp6, etcp6: AF_INET6 sockets
 * between fd00:1::1 and fd00:1::2, their rows in /proc/net/{tcp6,etcp6}):
 * the TCP runs prove that the test expects what Linux TCP does.  The
 * fixture close_etcp runs over both families too (etcp, etcp6).  Where
 * Linux TCP does something else than etcp's spec, the test says so and
 * checks TCP's behaviour for the TCP variants:
 *
 * - An orphaned FIN_WAIT2 whose fin_timeout is at most 60 s becomes a
 *   timewait socket in TCP (substate FIN_WAIT2: /proc shows st 05, tr 3)
 *   that dies silently: no RST, no counter; the peer learns of it from
 *   the RST answering its next send (sometimes TCP keeps the full socket
 *   and resets at expiry: see expect_expiry_seen()).  etcp resets the
 *   peer when the timeout expires and counts AbortOnLinger.  And data for
 *   such a TCP timewait socket is answered with an RST without
 *   TCPAbortOnData, so data_after_close_rst uses fin_timeout 90 (> 60:
 *   TCP keeps the full socket) to compare the counters.
 * - A socket in CLOSE_WAIT that is reset gets EPIPE, not ECONNRESET
 *   (tcp_reset()): it already saw the peer's FIN, so recv() returns 0
 *   and send() fails EPIPE.  etcp is expected to do the same.
 * - tcp_max_orphans is global (init_net only) and TCP_LINGER2 clamps
 *   instead of failing: max_orphans and the EINVAL case of the ETCP_LINGER2
 *   range are etcp only; TCP's TIME_WAIT lasts 60 s, so only etcp's is
 *   waited for (etcp_msl).
 *
 * Nothing sleeps and hopes: every wait polls a condition up to a deadline;
 * the exceptions show that something does not happen (a FIN_WAIT2 that is
 * not an orphan is still there after twice fin_timeout).  /proc is polled
 * every 5 ms.  Timing tolerances (the VM runs under TCG): an orphaned
 * FIN_WAIT2 with fin_timeout (or ETCP_LINGER2) T must be gone no earlier
 * than T - 50 ms after close() and no later than T + 1 s after /proc first
 * showed it in FIN_WAIT2 (EXPIRY_*_MS; TCP's 3 s timer was seen 900 ms
 * late on a loaded host); SO_LINGER {1, 1} returns after 0.9 .. 2.0 s.
 *
 * ETCP_CLOSE_ONLY=tcp (or etcp) in the environment runs one protocol's
 * variants only, both families (the fixture close_etcp counts as etcp).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the first listener; each pair takes the next */
#define NFT_TABLE	ETCP_NFT_TABLE
/* Generous for TCG: what should take microseconds may take a second. */
#define WAIT_MS		5000
/* An orphaned FIN_WAIT2 ends this early or late (see above). */
#define EXPIRY_EARLY_MS	50
#define EXPIRY_LATE_MS	1000
/* SO_LINGER {1, 1}: close() with a live peer, and with a gone one. */
#define LINGER_FAST_MS	500
#define LINGER_MIN_MS	900
#define LINGER_MAX_MS	2000

/* poll() events of a connected socket (errors are reported anyway). */
#define POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | \
			 POLLWRNORM | POLLWRBAND | POLLRDHUP)
#define POLL_WR	(POLLOUT | POLLWRNORM)
#define POLL_RDEOF	(POLLIN | POLLRDNORM | POLLRDHUP)

/* ------------------------------------------------------------ helpers */

/* Byte @i of the test streams. */
static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 8) + 1);
}

/* send() @len bytes of the pattern from @pos: 0 or -errno. */
static int send_pat(int fd, size_t pos, size_t len)
{
	unsigned char buf[4096];
	size_t off = 0, n, i;
	ssize_t r;

	while (off < len) {
		n = len - off < sizeof(buf) ? len - off : sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pat(pos + off + i);
		r = send(fd, buf, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		off += r;
	}
	return 0;
}

/*
 * Receive @len bytes of the pattern from @pos within WAIT_MS: the number
 * that arrived and were right (a wrong byte ends the count), or -errno of
 * a failed recv() before any.
 */
static long recv_pat(int fd, size_t pos, size_t len)
{
	int64_t deadline = now_ms() + WAIT_MS;
	unsigned char buf[4096];
	size_t got = 0, i;
	ssize_t n;

	while (got < len && now_ms() <= deadline) {
		n = recv(fd, buf, len - got < sizeof(buf) ? len - got : sizeof(buf),
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll_fd(fd, POLLIN, 50);
			continue;
		}
		if (n < 0)
			return got ? (long)got : -errno;
		if (!n)
			break;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pat(pos + got + i))
				return got + i;
		got += n;
	}
	return got;
}

static int set_linger(int fd, int onoff, int secs)
{
	struct linger lg = { .l_onoff = onoff, .l_linger = secs };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ? -errno : 0;
}

/* ------------------------------------------------- /proc/net/{tcp,etcp} */

/*
 * A connection as its /proc row shows it (struct row_key), and its family:
 * in /proc/net/{tcp,etcp} for AF_INET, /proc/net/{tcp6,etcp6} for AF_INET6.
 */
struct tuple {
	int family;
	struct row_key k;
};

static int tuple_of(int fd, struct tuple *t)
{
	struct sockaddr_storage l;
	int ret = sock_addr(fd, false, &l);

	if (ret < 0)
		return ret;
	t->family = l.ss_family;
	return row_key_of(fd, &t->k);
}

/*
 * /proc/net/etcp lists every etcp socket, also one in CLOSE that its
 * application still holds (a new one, or one whose connection ended:
 * etcp_proc checks that); /proc/net/tcp lists none in CLOSE.  Such a row
 * (st 07 with an inode) is no connection and is skipped; a CLOSE row
 * without inode would be an orphan that was never freed, and counts.
 */
static bool held_close(const struct proc_row *r)
{
	return r->st == ETCP_CLOSE && r->inode;
}

/* A row_filter: the row of connection @arg (a struct tuple), unless held_close(). */
static bool conn_match(const struct proc_row *r, const void *arg)
{
	const struct tuple *t = arg;

	return row_key_match(r, &t->k) && !held_close(r);
}

/*
 * The row of connection @t in /proc/net/{tcp,etcp} (or tcp6, etcp6, by
 * its family) of nsfd: its state
 * (the row in *@out), 0 when there is none, -EEXIST if there are several,
 * or -errno.
 */
static int conn_row(int nsfd, int proto, const struct tuple *t, struct proc_row *out)
{
	struct proc_row r;
	int n;

	n = proc_rows(nsfd, proc_table_af(proto, t->family), conn_match, t, &r);
	if (n <= 0)
		return n;
	if (out)
		*out = r;
	return n > 1 ? -EEXIST : (int)r.st;
}

/* Poll until conn_row() gives @st (0: no row): the last value. */
static int wait_row(int nsfd, int proto, const struct tuple *t, int st, int timeout_ms,
		    struct proc_row *out)
{
	int64_t deadline = now_ms() + timeout_ms;
	int cur;

	for (;;) {
		cur = conn_row(nsfd, proto, t, out);
		if (cur == st || cur < 0 || now_ms() > deadline)
			return cur;
		pause_step();
	}
}

/*
 * Watch orphans until their rows are gone: for each, when /proc first
 * showed it in FIN_WAIT2 and when it was gone (ms, 0 if never), and any
 * other state seen after FIN_WAIT2.
 */
struct watch {
	int nsfd;
	struct tuple t;
	int64_t closed;		/* set by the test right before close() */
	int64_t fw2, gone;
	int other;		/* a state after FIN_WAIT2 other than FIN_WAIT2 */
	int err;		/* conn_row() failed */
};

/* Watch @w[0 .. @n - 1] until all are gone, or only until @w[@stop] is (@stop >= 0). */
static void watch_expiry_until(int proto, struct watch *w, int n, int stop, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, t;
	int i, st, left;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			if (w[i].gone || w[i].err)
				continue;
			st = conn_row(w[i].nsfd, proto, &w[i].t, NULL);
			t = now_ms();
			if (st < 0) {
				w[i].err = st;
			} else if (st == ETCP_FIN_WAIT2) {
				if (!w[i].fw2)
					w[i].fw2 = t;
			} else if (st == 0) {
				w[i].gone = t;
			} else if (w[i].fw2 && !w[i].other) {
				w[i].other = st;
			}
			if (!w[i].gone && !w[i].err)
				left++;
		}
		if (!left || (stop >= 0 && (w[stop].gone || w[stop].err)) ||
		    now_ms() > deadline)
			return;
		pause_step();
	}
}

static void watch_expiry(int proto, struct watch *w, int n, int timeout_ms)
{
	watch_expiry_until(proto, w, n, -1, timeout_ms);
}

/*
 * Assert that watched orphan @w lived @secs s in FIN_WAIT2 and then went:
 * not before @secs s minus EXPIRY_EARLY_MS after close() (its timer starts
 * later), not after @secs s plus EXPIRY_LATE_MS after /proc first showed
 * FIN_WAIT2 (it started earlier).  Under load the first sighting may come
 * 100 ms late, so neither end alone bounds both ways.
 */
#define EXPECT_LIFETIME(w, secs, what) do { \
	int64_t __min = (w)->gone - (w)->closed, __max = (w)->gone - (w)->fw2; \
	EXPECT_EQ(0, (w)->err) TH_LOG("%s: /proc: %s", what, strerror(-(w)->err)); \
	EXPECT_NE(0, (w)->closed); \
	EXPECT_NE(0, (w)->fw2) TH_LOG("%s: never seen in FIN_WAIT2", what); \
	EXPECT_NE(0, (w)->gone) TH_LOG("%s: still there after %d s", what, \
				       (secs) + WAIT_MS / 1000); \
	EXPECT_EQ(0, (w)->other) TH_LOG("%s: %s after FIN_WAIT2", what, \
					state_name((w)->other)); \
	if ((w)->fw2 && (w)->gone && (w)->closed) { \
		EXPECT_LE((secs) * 1000 - EXPIRY_EARLY_MS, __min) \
			TH_LOG("%s: gone %lld ms after close(), expected %d s", what, \
			       (long long)__min, secs); \
		EXPECT_GE((secs) * 1000 + EXPIRY_LATE_MS, __max) \
			TH_LOG("%s: FIN_WAIT2 for %lld ms, expected %d s", what, \
			       (long long)__max, secs); \
	} \
} while (0)

/* close() an orphan-to-be watched by @w, noting the time. */
static int close_watched(int fd, struct watch *w)
{
	w->closed = now_ms();
	return close(fd);
}

/* ------------------------------------------------------------ counters */

/* etcp's counter @name, or TCP's TcpExt twin "TCP<name>" (in @buf). */
static const char *counter_name(int proto, const char *name, char *buf, size_t size)
{
	if (proto == IPPROTO_ETCP)
		return name;
	snprintf(buf, size, "TCP%s", name);
	return buf;
}

/* counter_name()'s value: the value or -1. */
static long counter(int nsfd, int proto, const char *name)
{
	char buf[64];

	return read_counter(nsfd, proto, counter_name(proto, name, buf, sizeof(buf)));
}

/* Poll until counter() @name is at least @min: its value. */
static long wait_abort(int nsfd, int proto, const char *name, long min, int timeout_ms)
{
	char buf[64];

	return wait_counter(nsfd, proto, counter_name(proto, name, buf, sizeof(buf)), min,
			    timeout_ms);
}

/* ------------------------------------------------------------ sysctl */

/* nft match: segments whose flags are exactly ACK (no data flag check). */
#define PURE_ACK	"@th,104,8 == 0x10"

/* ------------------------------------------------------------- fixture */

ETCP_ENV_CHECK()

FIXTURE(close) {
	struct etcp_netns ns;
	unsigned short port;	/* of the next listener */
};

ETCP_FAMILY_VARIANTS(close);

/*
 * Both fixtures' setup: the namespaces and the first listener port, for
 * the tests of protocol @proto (skipped when ETCP_CLOSE_ONLY names the
 * other one).
 */
static void close_fixture_setup(struct __test_metadata *_metadata, struct etcp_netns *ns,
				unsigned short *port, const char *proto)
{
	const char *why = env_unsupported;
	const char *only = getenv("ETCP_CLOSE_ONLY");

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	if (only && *only && strcmp(only, proto))
		ETCP_SETUP_SKIP("ETCP_CLOSE_ONLY=%s", only);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, two_ns_setup(ns))
		TH_LOG("cannot set up the two network namespaces");
	*port = PORT;
}

FIXTURE_SETUP(close)
{
	close_fixture_setup(_metadata, &self->ns, &self->port, proto_name(variant->proto));
}

FIXTURE_TEARDOWN(close)
{
	etcp_netns_teardown(&self->ns);
}

#define PROTO		proto_name(variant->proto)
#define IS_ETCP		(variant->proto == IPPROTO_ETCP)
#define SOL_PROTO	(IS_ETCP ? SOL_ETCP : IPPROTO_TCP)

/* A connected pair: the client in netns a, the accepted socket in netns b. */
struct pair {
	int c, s;
	struct tuple tc, ts;	/* as each end's /proc row shows it */
};

/*
 * Open a pair of @family on a new listener on @addr_b (port *@port, then
 * incremented; closed again): *@p.
 */
static void open_pair_ns(struct __test_metadata *_metadata, const struct etcp_netns *ns,
			 unsigned short *port, int proto, int family, const char *addr_b,
			 struct pair *p)
{
	int l, err;

	l = listen_on(ns->b, proto, addr_b, *port, 8);
	ASSERT_LE(0, l) TH_LOG("%s listener in netns b: %s", proto_name(proto),
			       strerror(errno));
	p->c = ns_socket(ns->a, family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	ASSERT_LE(0, p->c) TH_LOG("%s socket in netns a: %s", proto_name(proto),
				  strerror(errno));
	err = connect_to(p->c, addr_b, *port);
	ASSERT_EQ(0, err) TH_LOG("%s connect to %s port %d: %s", proto_name(proto),
				 addr_b, *port, strerror(-err));
	p->s = accept_wait(l, WAIT_MS);
	ASSERT_LE(0, p->s) TH_LOG("accept: %s", strerror(errno));
	close(l);
	(*port)++;
	ASSERT_EQ(0, tuple_of(p->c, &p->tc));
	ASSERT_EQ(0, tuple_of(p->s, &p->ts));
}

/* A pair of @variant's protocol and family. */
#define open_pair(_metadata, self, variant, p) \
	open_pair_ns(_metadata, &(self)->ns, &(self)->port, (variant)->proto, \
		     (variant)->family, (variant)->addr_b, p)

/*
 * @n etcp pairs @p[0 .. @n - 1] of @family on one listener on @addr_b,
 * @port (closed again); client tuples only.
 */
static void open_pairs(struct __test_metadata *_metadata, const struct etcp_netns *ns,
		       int family, const char *addr_b, unsigned short port, struct pair *p,
		       int n)
{
	int i, l, err;

	l = listen_on(ns->b, IPPROTO_ETCP, addr_b, port, n);
	ASSERT_LE(0, l);
	for (i = 0; i < n; i++) {
		p[i].c = ns_socket(ns->a, family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_ETCP);
		ASSERT_LE(0, p[i].c);
		err = connect_to(p[i].c, addr_b, port);
		ASSERT_EQ(0, err) TH_LOG("connect %d: %s", i, strerror(-err));
		p[i].s = accept_wait(l, WAIT_MS);
		ASSERT_LE(0, p[i].s);
		ASSERT_EQ(0, tuple_of(p[i].c, &p[i].tc));
	}
	close(l);
}

/* Assert the row of @t in nsfd reaches state @st within WAIT_MS; the row in *@r. */
#define ASSERT_ROW(nsfd, t, st, r, what) do { \
	int __st = wait_row(nsfd, variant->proto, t, st, WAIT_MS, r); \
	ASSERT_EQ(st, __st) TH_LOG("%s %s: /proc row in %s, expected %s", PROTO, what, \
				   state_name(__st), state_name(st)); \
} while (0)

#define EXPECT_ROW(nsfd, t, st, r, what) do { \
	int __st = wait_row(nsfd, variant->proto, t, st, WAIT_MS, r); \
	EXPECT_EQ(st, __st) TH_LOG("%s %s: /proc row in %s, expected %s", PROTO, what, \
				   state_name(__st), state_name(st)); \
} while (0)

/* Assert that socket @fd reaches state @st within WAIT_MS. */
#define EXPECT_STATE(fd, st, what) do { \
	int __st = wait_sock_state(fd, variant->proto, st, WAIT_MS); \
	EXPECT_EQ(st, __st) TH_LOG("%s %s: state %s, expected %s", PROTO, what, \
				   state_name(__st), state_name(st)); \
} while (0)

/* The peer's RST reached @fd: POLLERR within WAIT_MS, and state CLOSE. */
static void expect_reset_seen(struct __test_metadata *_metadata, int proto, int fd,
			      const char *what)
{
	int ev = wait_event(fd, POLLERR, WAIT_MS);

	ASSERT_TRUE(ev > 0 && (ev & POLLERR)) TH_LOG("%s %s: no reset seen (revents 0x%x)",
						     proto_name(proto), what, ev);
	EXPECT_EQ(ETCP_CLOSE, sock_state(fd, proto));
}

/*
 * @fd was in CLOSE_WAIT (it read the peer's FIN) when the peer's RST came:
 * POLLERR within WAIT_MS, state CLOSE, and as TCP's tcp_reset() has it,
 * the error is EPIPE, not ECONNRESET: send() fails EPIPE and recv()
 * returns 0, the end of stream it had seen.
 */
static void expect_reset_in_close_wait(struct __test_metadata *_metadata, int proto,
				       int fd, const char *what)
{
	char buf[16];
	ssize_t n;

	expect_reset_seen(_metadata, proto, fd, what);
	n = send(fd, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s %s: first send after the reset: %s",
				       proto_name(proto), what,
				       n < 0 ? strerror(errno) : "succeeded");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(0, n) TH_LOG("%s %s: recv after the reset: %zd (%s)", proto_name(proto),
			       what, n, n < 0 ? strerror(errno) : "bytes");
	n = send(fd, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);
}

/*
 * @fd was ESTABLISHED when the peer's RST came: POLLERR within WAIT_MS,
 * state CLOSE; the first call (recv, or send if @by_send) fails
 * ECONNRESET, later sends EPIPE.
 */
static void expect_reset(struct __test_metadata *_metadata, int proto, int fd,
			 bool by_send, const char *what)
{
	char buf[16];
	ssize_t n;

	expect_reset_seen(_metadata, proto, fd, what);
	if (by_send)
		n = send(fd, "x", 1, MSG_NOSIGNAL);
	else
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno) TH_LOG("%s %s: first %s after the reset: %s",
					    proto_name(proto), what, by_send ? "send" : "recv",
					    n < 0 ? strerror(errno) : "no error");
	n = send(fd, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);
}

/* ------------------------------------------------------- orderly close */

/*
 * Active close: the client sends 1000 bytes and closes.  Its row goes to
 * FIN_WAIT2 (an orphan: inode 0) while the server is in CLOSE_WAIT; the
 * server reads the 1000 bytes, then 0, and closes: its row disappears
 * (LAST_ACK, then the ACK of its FIN), the client's row is TIME_WAIT
 * (timer 3, queues empty, inode 0).  etcp's TIME_WAIT then ends after
 * 2 * etcp_msl (100 ms); TCP's would take 60 s.
 */
TEST_F(close, active_close_states)
{
	struct proc_row r;
	struct pair p;
	char buf[16];
	ssize_t n;
	long got;

	if (IS_ETCP)
		ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "msl", 100));
	open_pair(_metadata, self, variant, &p);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(p.c, variant->proto));
	ASSERT_EQ(0, send_pat(p.c, 0, 1000));
	ASSERT_EQ(0, close(p.c));

	ASSERT_ROW(self->ns.a, &p.tc, ETCP_FIN_WAIT2, &r, "client after close()");
	EXPECT_EQ(0, r.inode) TH_LOG("orphan row with inode %lu", r.inode);
	EXPECT_STATE(p.s, ETCP_CLOSE_WAIT, "server after the client's FIN");
	EXPECT_ROW(self->ns.b, &p.ts, ETCP_CLOSE_WAIT, &r, "server");
	EXPECT_NE(0, r.inode) TH_LOG("the server's row has no inode");

	got = recv_pat(p.s, 0, 1000);
	EXPECT_EQ(1000, got) TH_LOG("server read %ld of the 1000 bytes before the FIN", got);
	n = read(p.s, buf, sizeof(buf));
	EXPECT_EQ(0, n) TH_LOG("read after the data: %zd (%s)", n,
			       n < 0 ? strerror(errno) : "bytes");
	EXPECT_EQ(ETCP_CLOSE_WAIT, sock_state(p.s, variant->proto));
	ASSERT_EQ(0, close(p.s));

	EXPECT_ROW(self->ns.b, &p.ts, 0, &r, "server after close()");
	ASSERT_ROW(self->ns.a, &p.tc, ETCP_TIME_WAIT, &r, "client after the server's FIN");
	EXPECT_EQ(3, r.tr) TH_LOG("TIME_WAIT row with timer %u", r.tr);
	EXPECT_EQ(0, r.inode);
	EXPECT_EQ(0, r.txq);
	EXPECT_EQ(0, r.rxq);
	if (IS_ETCP) {
		/* 2 * 100 ms; TIME_WAIT's timing is etcp_close_wire's to measure. */
		EXPECT_ROW(self->ns.a, &p.tc, 0, &r, "TIME_WAIT after 2 * etcp_msl");
	}
}

/*
 * Passive close: the client closes, the server sees CLOSE_WAIT and EOF.
 * With the client's pure ACKs dropped in netns b, the server's close()
 * leaves its row in LAST_ACK (an orphan retransmitting its FIN, which the
 * client's TIME_WAIT answers); once the ACKs pass again, the row is gone.
 */
TEST_F(close, passive_close_states)
{
	struct proc_row r;
	struct pair p;
	char buf[16];
	int st;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, close(p.c));
	ASSERT_ROW(self->ns.a, &p.tc, ETCP_FIN_WAIT2, &r, "client after close()");
	EXPECT_STATE(p.s, ETCP_CLOSE_WAIT, "server after the client's FIN");
	EXPECT_EQ(0, read(p.s, buf, sizeof(buf)));

	ASSERT_EQ(0, ns_nft_drop(self->ns.b, variant->proto, "input", PURE_ACK));
	ASSERT_EQ(0, close(p.s));
	st = conn_row(self->ns.b, variant->proto, &p.ts, &r);
	EXPECT_EQ(ETCP_LAST_ACK, st) TH_LOG("%s server's row right after close(): %s",
					    PROTO, state_name(st));
	EXPECT_EQ(0, r.inode) TH_LOG("orphan row with inode %lu", r.inode);
	EXPECT_ROW(self->ns.a, &p.tc, ETCP_TIME_WAIT, &r, "client after the server's FIN");
	pause_ms(500);
	st = conn_row(self->ns.b, variant->proto, &p.ts, &r);
	EXPECT_EQ(ETCP_LAST_ACK, st) TH_LOG("server's row 500 ms later, its ACKs dropped: %s",
					    state_name(st));

	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	EXPECT_ROW(self->ns.b, &p.ts, 0, &r, "server once its FIN is ACKed");
}

/*
 * Half-close: shutdown(SHUT_WR) on the client.  The server reads EOF and
 * is in CLOSE_WAIT, but still sends, and the client (FIN_WAIT2) reads it;
 * the client's send fails EPIPE (SIGPIPE unless MSG_NOSIGNAL).  With
 * fin_timeout 1 s the client, which still holds its socket, is in
 * FIN_WAIT2 after 2 s and still receives.  Then the server closes: the
 * client reads EOF, its socket is CLOSE and the connection's row is
 * TIME_WAIT (a timewait entry took over, as in TCP).
 */
TEST_F(close, half_close)
{
	struct proc_row r;
	struct pair p;
	char buf[16];
	ssize_t n;
	long got;
	int st;

	ASSERT_EQ(0, catch_sigpipe());
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 1));
	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, shutdown(p.c, SHUT_WR));
	EXPECT_STATE(p.c, ETCP_FIN_WAIT2, "client after shutdown(SHUT_WR)");
	EXPECT_TRUE(wait_event(p.s, POLLIN | POLLERR, WAIT_MS) & POLLIN);
	n = read(p.s, buf, sizeof(buf));
	EXPECT_EQ(0, n) TH_LOG("server read %zd (%s), not EOF", n,
			       n < 0 ? strerror(errno) : "bytes");
	EXPECT_EQ(ETCP_CLOSE_WAIT, sock_state(p.s, variant->proto));

	ASSERT_EQ(0, send_pat(p.s, 0, 3000));
	got = recv_pat(p.c, 0, 3000);
	EXPECT_EQ(3000, got) TH_LOG("half-closed client read %ld of 3000 bytes", got);

	n = send(p.c, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno) TH_LOG("send after SHUT_WR: %s",
				       n < 0 ? strerror(errno) : "succeeded");
	EXPECT_EQ(0, sigpipes);
	n = send(p.c, "x", 1, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes) TH_LOG("%d SIGPIPEs for a send without MSG_NOSIGNAL", sigpipes);

	/* fin_timeout is for orphans: this one is held by the application. */
	pause_ms(2000);
	st = sock_state(p.c, variant->proto);
	EXPECT_EQ(ETCP_FIN_WAIT2, st) TH_LOG("%s half-closed client 2 s later, fin_timeout 1: %s",
					     PROTO, state_name(st));
	st = conn_row(self->ns.a, variant->proto, &p.tc, &r);
	EXPECT_EQ(ETCP_FIN_WAIT2, st) TH_LOG("its row: %s", state_name(st));
	EXPECT_NE(0, r.inode) TH_LOG("the row of a socket still held has no inode");
	ASSERT_EQ(0, send_pat(p.s, 3000, 100));
	got = recv_pat(p.c, 3000, 100);
	EXPECT_EQ(100, got) TH_LOG("client read %ld of 100 bytes after 2 s", got);

	ASSERT_EQ(0, close(p.s));
	EXPECT_TRUE(wait_event(p.c, POLLIN | POLLERR, WAIT_MS) & POLLIN);
	n = read(p.c, buf, sizeof(buf));
	EXPECT_EQ(0, n) TH_LOG("client read %zd (%s) after the server's FIN", n,
			       n < 0 ? strerror(errno) : "bytes");
	EXPECT_STATE(p.c, ETCP_CLOSE, "client after the server's FIN");
	EXPECT_ROW(self->ns.a, &p.tc, ETCP_TIME_WAIT, &r, "connection after both FINs");
	EXPECT_ROW(self->ns.b, &p.ts, 0, &r, "server after close()");
	close(p.c);
}

/*
 * shutdown(SHUT_RD), as Linux TCP: nothing is sent (the peer sees no EOF
 * and the state stays ESTABLISHED); poll() says POLLIN|POLLRDHUP; read()
 * returns what was queued, then 0 at once instead of blocking; data that
 * arrives later is still received and read; sending works.
 */
TEST_F(close, shut_rd)
{
	struct pair p;
	char buf[200];
	ssize_t n;
	long got;
	int ev;

	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, set_timeo(p.c, SO_RCVTIMEO, 2000));
	ASSERT_EQ(0, send_pat(p.s, 0, 100));
	ASSERT_EQ(100, wait_ioctl(p.c, SIOCINQ, 100, WAIT_MS));
	ASSERT_EQ(0, shutdown(p.c, SHUT_RD));
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(p.c, variant->proto));
	ev = poll_fd(p.c, POLL_ALL, 0);
	EXPECT_EQ(POLL_RDEOF | POLL_WR, ev) TH_LOG("%s revents 0x%x after SHUT_RD", PROTO, ev);

	/* The client still sends, and no FIN went before its data. */
	ASSERT_EQ(0, send_pat(p.c, 0, 10));
	got = recv_pat(p.s, 0, 10);
	EXPECT_EQ(10, got);
	n = recv(p.s, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(-1, n) TH_LOG("server recv %zd: EOF after the peer's SHUT_RD", n);
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(p.s, variant->proto));

	got = recv_pat(p.c, 0, 100);
	EXPECT_EQ(100, got) TH_LOG("read %ld of the 100 bytes queued before SHUT_RD", got);
	n = recv(p.c, buf, sizeof(buf), 0);
	EXPECT_EQ(0, n) TH_LOG("blocking recv after SHUT_RD: %zd (%s)", n,
			       n < 0 ? strerror(errno) : "bytes");
	n = recv(p.c, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(0, n);

	/* Later data is queued and read as TCP does. */
	ASSERT_EQ(0, send_pat(p.s, 100, 50));
	EXPECT_EQ(50, wait_ioctl(p.c, SIOCINQ, 50, WAIT_MS));
	got = recv_pat(p.c, 100, 50);
	EXPECT_EQ(50, got) TH_LOG("read %ld of 50 bytes sent after SHUT_RD", got);
	n = recv(p.c, buf, sizeof(buf), 0);
	EXPECT_EQ(0, n);
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(p.c, variant->proto));
	close(p.c);
	close(p.s);
}

/*
 * shutdown(SHUT_RDWR): the FIN goes (the peer reads EOF, the client is in
 * FIN_WAIT2), the queued data is still read, then 0; send fails EPIPE;
 * poll() says POLLIN|POLLRDHUP|POLLHUP|POLLOUT.  Data the peer sends then
 * is answered with an RST, as TCP does for data after a shutdown of the
 * receive side in FIN_WAIT1/2 (TCPAbortOnData): the peer, in CLOSE_WAIT,
 * sees the reset, the client's socket is CLOSE with ECONNRESET.
 */
TEST_F(close, shut_rdwr)
{
	long before, after, got;
	struct pair p;
	char buf[200];
	ssize_t n;
	int ev;

	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, send_pat(p.s, 0, 100));
	ASSERT_EQ(100, wait_ioctl(p.c, SIOCINQ, 100, WAIT_MS));
	ASSERT_EQ(0, shutdown(p.c, SHUT_RDWR));
	EXPECT_STATE(p.c, ETCP_FIN_WAIT2, "client after SHUT_RDWR");
	ev = poll_fd(p.c, POLL_ALL, 0);
	EXPECT_EQ(POLL_RDEOF | POLLHUP | POLL_WR, ev)
		TH_LOG("%s revents 0x%x after SHUT_RDWR", PROTO, ev);
	EXPECT_TRUE(wait_event(p.s, POLLIN | POLLERR, WAIT_MS) & POLLIN);
	n = recv(p.s, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(0, n) TH_LOG("peer recv %zd (%s), not EOF", n, n < 0 ? strerror(errno) : "");
	EXPECT_EQ(ETCP_CLOSE_WAIT, sock_state(p.s, variant->proto));

	got = recv_pat(p.c, 0, 100);
	EXPECT_EQ(100, got) TH_LOG("read %ld of the 100 bytes queued before SHUT_RDWR", got);
	n = recv(p.c, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(0, n);
	n = send(p.c, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);

	before = counter(self->ns.a, variant->proto, "AbortOnData");
	ASSERT_LE(0, before);
	ASSERT_EQ(0, send_pat(p.s, 0, 10));
	expect_reset_in_close_wait(_metadata, variant->proto, p.s, "peer sending after SHUT_RDWR");
	EXPECT_STATE(p.c, ETCP_CLOSE, "client after data past its SHUT_RD");
	EXPECT_EQ(ECONNRESET, so_error(p.c));
	after = wait_abort(self->ns.a, variant->proto, "AbortOnData", before + 1, WAIT_MS);
	EXPECT_EQ(before + 1, after) TH_LOG("AbortOnData %ld -> %ld", before, after);
	EXPECT_EQ(0, count_rows(self->ns.a, variant->proto, variant->family, ETCP_TIME_WAIT,
				p.tc.k.lport));
	close(p.c);
	close(p.s);
}

/* Closes (or shuts down) @fd after @delay_ms, from a thread. */
struct later {
	pthread_t th;
	int fd, delay_ms;
	bool shut;		/* shutdown(SHUT_WR) instead of close() */
};

static void *later_fn(void *arg)
{
	struct later *l = arg;

	pause_ms(l->delay_ms);
	if (l->shut)
		shutdown(l->fd, SHUT_WR);
	else
		close(l->fd);
	return NULL;
}

/*
 * poll() and read() on the end that receives the FIN (by close() and by
 * shutdown(SHUT_WR)): a reader blocked in recv() wakes up with 0; poll and
 * epoll say POLLIN|POLLRDHUP (with POLLOUT: it may still send) after the
 * data was read, and read() returns 0 again and again.  Once this end
 * shuts down too, POLLHUP joins.
 */
TEST_F(close, poll_after_fin)
{
	struct epoll_event ee = { .events = EPOLLIN | EPOLLRDHUP };
	struct later l;
	struct pair p;
	int k, i, ev, ep;
	int64_t t0, dt;
	char buf[16];
	ssize_t n;

	for (k = 0; k < 2; k++) {
		open_pair(_metadata, self, variant, &p);
		ev = poll_fd(p.s, POLL_ALL, 0);
		EXPECT_EQ(POLL_WR, ev) TH_LOG("revents 0x%x of an idle connection", ev);
		ASSERT_EQ(0, send_pat(p.c, 0, 10));
		EXPECT_EQ(10, recv_pat(p.s, 0, 10));

		/* A reader blocked when the FIN comes. */
		ASSERT_EQ(0, set_timeo(p.s, SO_RCVTIMEO, WAIT_MS));
		l = (struct later){ .fd = p.c, .delay_ms = 100, .shut = k == 1 };
		ASSERT_EQ(0, pthread_create(&l.th, NULL, later_fn, &l));
		t0 = now_ms();
		n = recv(p.s, buf, sizeof(buf), 0);
		dt = now_ms() - t0;
		pthread_join(l.th, NULL);
		EXPECT_EQ(0, n) TH_LOG("%s blocked recv at the %s: %zd (%s)", PROTO,
				       k ? "SHUT_WR" : "close", n,
				       n < 0 ? strerror(errno) : "bytes");
		EXPECT_LE(50, dt) TH_LOG("recv returned after %lld ms, before the FIN", (long long)dt);
		EXPECT_GT(WAIT_MS, dt);

		ev = poll_fd(p.s, POLL_ALL, 0);
		EXPECT_EQ(POLL_RDEOF | POLL_WR, ev) TH_LOG("%s revents 0x%x after the FIN", PROTO, ev);
		ep = epoll_create1(0);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, p.s, &ee));
		EXPECT_EQ(1, epoll_wait(ep, &ee, 1, 0));
		EXPECT_EQ(EPOLLIN | EPOLLRDHUP, ee.events) TH_LOG("epoll events 0x%x", ee.events);
		close(ep);
		for (i = 0; i < 3; i++) {
			n = read(p.s, buf, sizeof(buf));
			EXPECT_EQ(0, n) TH_LOG("read %d after the FIN: %zd", i, n);
			n = recv(p.s, buf, sizeof(buf), MSG_DONTWAIT);
			EXPECT_EQ(0, n) TH_LOG("recv(MSG_DONTWAIT) %d after the FIN: %zd", i, n);
		}
		EXPECT_EQ(ETCP_CLOSE_WAIT, sock_state(p.s, variant->proto));

		ASSERT_EQ(0, shutdown(p.s, SHUT_WR));
		ev = poll_fd(p.s, POLL_ALL, 0);
		EXPECT_EQ(POLL_RDEOF | POLLHUP | POLL_WR, ev)
			TH_LOG("%s revents 0x%x after both directions were shut", PROTO, ev);
		if (k == 1) {
			/* The client held on: it reads the server's FIN. */
			EXPECT_TRUE(wait_event(p.c, POLLIN | POLLERR, WAIT_MS) & POLLIN);
			n = read(p.c, buf, sizeof(buf));
			EXPECT_EQ(0, n);
			EXPECT_STATE(p.c, ETCP_CLOSE, "client after both FINs");
			ev = poll_fd(p.c, POLL_ALL, 0);
			EXPECT_EQ(POLL_RDEOF | POLLHUP | POLL_WR, ev)
				TH_LOG("%s revents 0x%x of a closed connection", PROTO, ev);
			close(p.c);
		}
		EXPECT_STATE(p.s, ETCP_CLOSE, "server once its FIN is ACKed");
		EXPECT_ROW(self->ns.b, &p.ts, 0, NULL, "server after LAST_ACK");
		close(p.s);
	}
}

/* ------------------------------------------------------ abortive close */

/*
 * close() with unread data: an RST instead of a FIN (RFC 2525 2.17): the
 * peer's next recv (first round) or send (second round) fails ECONNRESET;
 * AbortOnClose counts it; no TIME_WAIT on either end.
 */
TEST_F(close, unread_data_close_rst)
{
	long before, after;
	struct pair p;
	int k, st;

	for (k = 0; k < 2; k++) {
		open_pair(_metadata, self, variant, &p);
		ASSERT_EQ(0, send_pat(p.c, 0, 100));
		ASSERT_EQ(100, wait_ioctl(p.s, SIOCINQ, 100, WAIT_MS));
		before = counter(self->ns.b, variant->proto, "AbortOnClose");
		ASSERT_LE(0, before);
		ASSERT_EQ(0, close(p.s));
		st = conn_row(self->ns.b, variant->proto, &p.ts, NULL);
		EXPECT_EQ(0, st) TH_LOG("%s server row right after close() with unread data: %s",
					PROTO, state_name(st));
		expect_reset(_metadata, variant->proto, p.c, k == 1, "client");
		after = wait_abort(self->ns.b, variant->proto, "AbortOnClose", before + 1,
				   WAIT_MS);
		EXPECT_EQ(before + 1, after) TH_LOG("AbortOnClose %ld -> %ld", before, after);
		EXPECT_EQ(0, conn_row(self->ns.b, variant->proto, &p.ts, NULL));
		EXPECT_EQ(0, conn_row(self->ns.a, variant->proto, &p.tc, NULL));
		close(p.c);
	}
}

/*
 * SO_LINGER {1, 0}: close() resets at once: no row left (no FIN_WAIT,
 * no TIME_WAIT) when close() returns, the peer's next recv fails
 * ECONNRESET, AbortOnData counts it.
 */
TEST_F(close, linger_zero)
{
	long before, after;
	struct pair p;
	int st;

	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, send_pat(p.c, 0, 100));
	EXPECT_EQ(100, recv_pat(p.s, 0, 100));
	ASSERT_EQ(0, wait_ioctl(p.c, SIOCOUTQ, 0, WAIT_MS));
	before = counter(self->ns.a, variant->proto, "AbortOnData");
	ASSERT_LE(0, before);
	ASSERT_EQ(0, set_linger(p.c, 1, 0));
	ASSERT_EQ(0, close(p.c));
	st = conn_row(self->ns.a, variant->proto, &p.tc, NULL);
	EXPECT_EQ(0, st) TH_LOG("%s row right after close() with SO_LINGER {1, 0}: %s", PROTO,
				state_name(st));
	after = counter(self->ns.a, variant->proto, "AbortOnData");
	EXPECT_EQ(before + 1, after) TH_LOG("AbortOnData %ld -> %ld", before, after);
	expect_reset(_metadata, variant->proto, p.s, false, "peer of SO_LINGER {1, 0}");
	EXPECT_EQ(0, conn_row(self->ns.a, variant->proto, &p.tc, NULL));
	EXPECT_EQ(0, conn_row(self->ns.b, variant->proto, &p.ts, NULL));
	close(p.s);
}

/*
 * SO_LINGER {1, 1}: close() waits until the data and the FIN are ACKed:
 * with a live peer it returns within LINGER_FAST_MS with the row already
 * in FIN_WAIT2; with everything dropped at the peer (nftables in netns b)
 * it returns after about 1 s (LINGER_MIN_MS .. LINGER_MAX_MS), the orphan
 * still in FIN_WAIT1; once the segments pass again it finishes.
 */
TEST_F(close, linger_timeout)
{
	struct proc_row r;
	struct pair p;
	int64_t t0, dt;
	char buf[16];
	long got;
	int st;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, set_linger(p.c, 1, 1));
	ASSERT_EQ(0, send_pat(p.c, 0, 10000));
	t0 = now_ms();
	ASSERT_EQ(0, close(p.c));
	dt = now_ms() - t0;
	st = conn_row(self->ns.a, variant->proto, &p.tc, &r);
	EXPECT_GT(LINGER_FAST_MS, dt) TH_LOG("%s SO_LINGER {1, 1} close() took %lld ms", PROTO,
					     (long long)dt);
	EXPECT_EQ(ETCP_FIN_WAIT2, st) TH_LOG("%s row when the lingering close() returned: %s",
					     PROTO, state_name(st));
	got = recv_pat(p.s, 0, 10000);
	EXPECT_EQ(10000, got);
	EXPECT_EQ(0, read(p.s, buf, sizeof(buf)));
	close(p.s);
	EXPECT_ROW(self->ns.a, &p.tc, ETCP_TIME_WAIT, &r, "lingering client at the end");

	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, set_linger(p.c, 1, 1));
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, variant->proto, "input", ""));
	ASSERT_EQ(0, send_pat(p.c, 0, 1000));
	t0 = now_ms();
	ASSERT_EQ(0, close(p.c));
	dt = now_ms() - t0;
	st = conn_row(self->ns.a, variant->proto, &p.tc, &r);
	EXPECT_LE(LINGER_MIN_MS, dt) TH_LOG("%s SO_LINGER {1, 1} close(), peer gone: %lld ms",
					    PROTO, (long long)dt);
	EXPECT_GE(LINGER_MAX_MS, dt) TH_LOG("%s SO_LINGER {1, 1} close(), peer gone: %lld ms",
					    PROTO, (long long)dt);
	EXPECT_EQ(ETCP_FIN_WAIT1, st) TH_LOG("row after the lingering close() timed out: %s",
					     state_name(st));
	EXPECT_EQ(0, r.inode);

	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	got = recv_pat(p.s, 0, 1000);
	EXPECT_EQ(1000, got) TH_LOG("the peer got %ld of 1000 bytes", got);
	EXPECT_TRUE(wait_event(p.s, POLLIN | POLLERR, WAIT_MS) & POLLIN);
	EXPECT_EQ(0, read(p.s, buf, sizeof(buf)));
	EXPECT_ROW(self->ns.a, &p.tc, ETCP_FIN_WAIT2, &r, "orphan once the peer ACKs");
	close(p.s);
	EXPECT_ROW(self->ns.a, &p.tc, ETCP_TIME_WAIT, &r, "orphan after the peer's FIN");
}

/* -------------------------------------------------------------- orphans */

/*
 * The orphan of @p (its client closed) in FIN_WAIT2 expired: the peer, in
 * CLOSE_WAIT, learns it.  etcp resets it when the timer expires and counts
 * AbortOnLinger.  Linux TCP (fin_timeout <= 60 s) usually turned the
 * orphan into a timewait socket (substate FIN_WAIT2) that died silently:
 * the peer learns it from the RST answering its next send (no socket any
 * more).  But when the ACK of the FIN was processed from the backlog while
 * close() still owned the socket, TCP kept the full socket with its
 * keepalive timer, which sends an RST at expiry (tcp_keepalive_timer()):
 * the TCP variant accepts both.  TCP counts nothing either way.
 */
static void expect_expiry_seen(struct __test_metadata *_metadata, int proto, int nsfd,
			       const struct pair *p, long linger_before)
{
	long after;
	ssize_t n;
	int ev;

	if (proto == IPPROTO_ETCP) {
		expect_reset_in_close_wait(_metadata, proto, p->s, "peer of an expired orphan");
		after = wait_abort(nsfd, proto, "AbortOnLinger", linger_before + 1, WAIT_MS);
		EXPECT_EQ(linger_before + 1, after)
			TH_LOG("AbortOnLinger %ld -> %ld", linger_before, after);
		return;
	}
	pause_ms(100);
	ev = poll_fd(p->s, POLL_ALL, 0);
	if (!(ev & POLLERR)) {
		EXPECT_EQ(POLL_RDEOF | POLL_WR, ev) TH_LOG("tcp: revents 0x%x", ev);
		n = send(p->s, "x", 1, MSG_NOSIGNAL);
		EXPECT_EQ(1, n) TH_LOG("tcp: send to the expired orphan: %s",
				       n < 0 ? strerror(errno) : "");
	}
	expect_reset_in_close_wait(_metadata, proto, p->s, "peer of an expired orphan");
	after = counter(nsfd, proto, "AbortOnLinger");
	EXPECT_EQ(linger_before, after) TH_LOG("TCPAbortOnLinger %ld -> %ld", linger_before, after);
}

/*
 * The client of @p (in @nsfd) closed, an orphan: it lives @secs in
 * FIN_WAIT2 (@what says why), then the peer sees it expire
 * (expect_expiry_seen()) and is closed.
 */
static void expect_orphan_expires(struct __test_metadata *_metadata, int proto, int nsfd,
				  struct pair *p, int secs, const char *what)
{
	struct watch w = { .nsfd = nsfd, .t = p->tc };
	long linger;

	linger = counter(nsfd, proto, "AbortOnLinger");
	ASSERT_LE(0, linger);
	ASSERT_EQ(0, close_watched(p->c, &w));
	watch_expiry(proto, &w, 1, secs * 1000 + WAIT_MS);
	EXPECT_LIFETIME(&w, secs, what);
	expect_expiry_seen(_metadata, proto, nsfd, p, linger);
	close(p->s);
}

/*
 * An orphaned FIN_WAIT2 lives fin_timeout (1 s here) and disappears; the
 * peer, which never closed, then sees the end (expect_expiry_seen()).
 */
TEST_F(close, orphan_fin_timeout)
{
	struct pair p;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 1));
	open_pair(_metadata, self, variant, &p);
	expect_orphan_expires(_metadata, variant->proto, self->ns.a, &p, 1,
			      "orphan with fin_timeout 1");
}

/*
 * ETCP_LINGER2 (TCP_LINGER2) = 1 with fin_timeout 30: the orphan lives
 * 1 s.  ETCP_LINGER2 = -1: the orphan is reset as soon as its FIN is
 * ACKed (the RST answers that ACK, as TCP's tcp_rcv_state_process()):
 * no FIN_WAIT2 for long, the peer sees the reset.
 */
TEST_F(close, linger2_option)
{
	int64_t t0, dt = -1;
	struct pair p;
	int st;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 30));
	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, sockopt_set(p.c, SOL_PROTO, ETCP_LINGER2, 1));
	EXPECT_EQ(1, sockopt_get(p.c, SOL_PROTO, ETCP_LINGER2));
	expect_orphan_expires(_metadata, variant->proto, self->ns.a, &p, 1,
			      "orphan with LINGER2 1, fin_timeout 30");

	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, sockopt_set(p.c, SOL_PROTO, ETCP_LINGER2, -1));
	EXPECT_EQ(-1, sockopt_get(p.c, SOL_PROTO, ETCP_LINGER2));
	t0 = now_ms();
	ASSERT_EQ(0, close(p.c));
	st = wait_row(self->ns.a, variant->proto, &p.tc, 0, WAIT_MS, NULL);
	if (!st)
		dt = now_ms() - t0;
	EXPECT_EQ(0, st) TH_LOG("%s orphan with LINGER2 -1: %s after %d ms", PROTO,
				state_name(st), WAIT_MS);
	EXPECT_GT(1000, dt) TH_LOG("%s orphan with LINGER2 -1 gone after %lld ms", PROTO,
				   (long long)dt);
	expect_reset_in_close_wait(_metadata, variant->proto, p.s, "peer of a LINGER2 -1 orphan");
	close(p.s);
}

/*
 * ETCP_LINGER2 (TCP_LINGER2) values: unset (0) it reads as the namespace's
 * fin_timeout, and follows it; 5 -> 5; any negative -> -1; 0 -> unset
 * again.  Above 600 etcp fails EINVAL and keeps the old value; TCP takes
 * it and clamps it to its TCP_FIN_TIMEOUT_MAX, 120 s.
 */
TEST_F(close, linger2_ranges)
{
	int fd, sol = SOL_PROTO;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 45));
	fd = ns_socket(self->ns.a, variant->family, SOCK_STREAM | SOCK_CLOEXEC, variant->proto);
	ASSERT_LE(0, fd);
	EXPECT_EQ(45, sockopt_get(fd, sol, ETCP_LINGER2));
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 50));
	EXPECT_EQ(50, sockopt_get(fd, sol, ETCP_LINGER2));
	EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 5));
	EXPECT_EQ(5, sockopt_get(fd, sol, ETCP_LINGER2));
	EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, -7));
	EXPECT_EQ(-1, sockopt_get(fd, sol, ETCP_LINGER2));
	EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 0));
	EXPECT_EQ(50, sockopt_get(fd, sol, ETCP_LINGER2));
	EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 1));
	EXPECT_EQ(1, sockopt_get(fd, sol, ETCP_LINGER2));
	if (IS_ETCP) {
		EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 600));
		EXPECT_EQ(600, sockopt_get(fd, sol, ETCP_LINGER2));
		EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, -7));
		EXPECT_EQ(-EINVAL, sockopt_set(fd, sol, ETCP_LINGER2, 601));
		EXPECT_EQ(-1, sockopt_get(fd, sol, ETCP_LINGER2));
		EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 5));
		EXPECT_EQ(-EINVAL, sockopt_set(fd, sol, ETCP_LINGER2, 601));
		EXPECT_EQ(-EINVAL, sockopt_set(fd, sol, ETCP_LINGER2, 0x7fffffff));
		EXPECT_EQ(5, sockopt_get(fd, sol, ETCP_LINGER2));
	} else {
		EXPECT_EQ(0, sockopt_set(fd, sol, ETCP_LINGER2, 601));
		EXPECT_EQ(120, sockopt_get(fd, sol, ETCP_LINGER2));
	}
	close(fd);
}

/*
 * Data for an orphan in FIN_WAIT2 (client closed, server did not) is
 * answered with an RST: the orphan is gone, AbortOnData counts it, the
 * server (CLOSE_WAIT) sees the reset.  fin_timeout is 90: with at most
 * 60, TCP's orphan would be a timewait socket, which answers the data
 * with an RST too but counts nothing.
 */
TEST_F(close, data_after_close_rst)
{
	long before, after;
	struct proc_row r;
	struct pair p;
	char buf[16];
	ssize_t n;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 90));
	open_pair(_metadata, self, variant, &p);
	ASSERT_EQ(0, close(p.c));
	ASSERT_ROW(self->ns.a, &p.tc, ETCP_FIN_WAIT2, &r, "client after close()");
	EXPECT_TRUE(wait_event(p.s, POLLIN | POLLERR, WAIT_MS) & POLLIN);
	EXPECT_EQ(0, read(p.s, buf, sizeof(buf)));
	before = counter(self->ns.a, variant->proto, "AbortOnData");
	ASSERT_LE(0, before);
	n = send(p.s, "data", 4, MSG_NOSIGNAL);
	EXPECT_EQ(4, n) TH_LOG("send to the orphan: %s", n < 0 ? strerror(errno) : "short");
	expect_reset_in_close_wait(_metadata, variant->proto, p.s, "peer sending to an orphan");
	EXPECT_ROW(self->ns.a, &p.tc, 0, &r, "orphan after data");
	after = wait_abort(self->ns.a, variant->proto, "AbortOnData", before + 1, WAIT_MS);
	EXPECT_EQ(before + 1, after) TH_LOG("AbortOnData %ld -> %ld", before, after);
	close(p.s);
}

/*
 * fin_timeout is per namespace and a write takes effect for the next
 * orphan without a reload: 1 s in netns a, 3 s in netns b, an orphan in
 * each at the same time (a client in a, a server in b) lives its own
 * namespace's time; when the first is gone, netns a's becomes 2 s and one
 * more orphan there lives 2 s (while netns b's still runs).
 */
TEST_F(close, sysctl_per_netns)
{
	struct watch w[3] = { { .nsfd = self->ns.a }, { .nsfd = self->ns.b },
			      { .nsfd = self->ns.a } };
	struct pair p, q, r;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 1));
	ASSERT_EQ(0, proto_sysctl_set(self->ns.b, variant->proto, "fin_timeout", 3));
	open_pair(_metadata, self, variant, &p);
	open_pair(_metadata, self, variant, &q);
	open_pair(_metadata, self, variant, &r);
	w[0].t = p.tc;
	w[1].t = q.ts;
	w[2].t = r.tc;
	ASSERT_EQ(0, close_watched(p.c, &w[0]));
	ASSERT_EQ(0, close_watched(q.s, &w[1]));
	watch_expiry_until(variant->proto, w, 2, 0, 1000 + WAIT_MS);
	EXPECT_LIFETIME(&w[0], 1, "orphan in netns a, fin_timeout 1");

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, variant->proto, "fin_timeout", 2));
	ASSERT_EQ(0, close_watched(r.c, &w[2]));
	watch_expiry(variant->proto, w, 3, 3000 + WAIT_MS);
	EXPECT_LIFETIME(&w[1], 3, "orphan in netns b, fin_timeout 3");
	EXPECT_LIFETIME(&w[2], 2, "orphan in netns a after fin_timeout 1 -> 2");
	close(p.s);
	close(q.c);
	close(r.s);
}

/* ------------------------------------------------------ etcp only */

/*
 * What TCP cannot be made to do the same way in a namespace: its
 * tcp_max_orphans is global (init_net's).
 */
FIXTURE(close_etcp) {
	struct etcp_netns ns;
	unsigned short port;
};

/*
 * Over IPv4 and IPv6: the orphans of both families count against the
 * one limit, and the resets and TIME_WAIT entries are the family's.
 */
FIXTURE_VARIANT(close_etcp) {
	ETCP_VARIANT_FIELDS;
};

ETCP_VARIANT_ADD(close_etcp, etcp, IPPROTO_ETCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
ETCP_VARIANT_ADD(close_etcp, etcp6, IPPROTO_ETCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);

FIXTURE_SETUP(close_etcp)
{
	close_fixture_setup(_metadata, &self->ns, &self->port, "etcp");
}

FIXTURE_TEARDOWN(close_etcp)
{
	etcp_netns_teardown(&self->ns);
}

#define NR_ORPH		5
#define MAX_ORPH	3

/*
 * etcp_max_orphans = 3: five clients close one after the other while
 * their servers keep their ends open.  The first three become orphans in
 * FIN_WAIT2 ("Orphans 3"); closing the fourth and fifth would make more
 * than 3, so they are reset instead (AbortOnMemory + 2): exactly their
 * servers are reset (CLOSE), the others stay in CLOSE_WAIT.
 */
TEST_F(close_etcp, max_orphans)
{
	struct pair p[NR_ORPH];
	long before, after, orphans;
	unsigned short port;
	int i, st, err;
	char buf[16];
	ssize_t n;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "max_orphans", MAX_ORPH));
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "fin_timeout", 30));
	port = self->port++;
	open_pairs(_metadata, &self->ns, variant->family, variant->addr_b, port, p, NR_ORPH);
	before = stat_now(self->ns.a, "AbortOnMemory");
	ASSERT_LE(0, before);
	EXPECT_EQ(0, stat_now(self->ns.a, "Orphans"));

	for (i = 0; i < NR_ORPH; i++)
		ASSERT_EQ(0, close(p[i].c));
	for (i = 0; i < NR_ORPH; i++) {
		st = wait_row(self->ns.a, IPPROTO_ETCP, &p[i].tc,
			      i < MAX_ORPH ? ETCP_FIN_WAIT2 : 0, WAIT_MS, NULL);
		EXPECT_EQ(i < MAX_ORPH ? ETCP_FIN_WAIT2 : 0, st)
			TH_LOG("client %d closed with %d orphans before it: %s", i, i,
			       state_name(st));
	}
	EXPECT_EQ(MAX_ORPH, count_rows(self->ns.a, IPPROTO_ETCP, variant->family, ETCP_FIN_WAIT2, 0));
	orphans = stat_now(self->ns.a, "Orphans");
	EXPECT_EQ(MAX_ORPH, orphans) TH_LOG("Orphans gauge %ld", orphans);
	after = wait_abort(self->ns.a, IPPROTO_ETCP, "AbortOnMemory",
			   before + NR_ORPH - MAX_ORPH, WAIT_MS);
	EXPECT_EQ(before + NR_ORPH - MAX_ORPH, after)
		TH_LOG("AbortOnMemory %ld -> %ld", before, after);

	/*
	 * Linux's tcp_close() sends the FIN before it finds too many orphans
	 * and resets: a reset server may have read EOF first; then, in
	 * CLOSE_WAIT, it gets EPIPE from the RST, else ECONNRESET.
	 */
	for (i = MAX_ORPH; i < NR_ORPH; i++) {
		st = wait_sock_state(p[i].s, IPPROTO_ETCP, ETCP_CLOSE, WAIT_MS);
		EXPECT_EQ(ETCP_CLOSE, st) TH_LOG("server %d (its client reset): %s", i,
						 state_name(st));
		err = so_error(p[i].s);
		EXPECT_TRUE(err == ECONNRESET || err == EPIPE)
			TH_LOG("server %d (its client reset): SO_ERROR %d", i, err);
		n = recv(p[i].s, buf, sizeof(buf), MSG_DONTWAIT);
		EXPECT_EQ(0, n) TH_LOG("server %d: recv %zd after the error", i, n);
		if (i == MAX_ORPH)
			fprintf(stderr, "# server %d: %s\n", i, err == EPIPE ?
				"FIN, then RST (EPIPE in CLOSE_WAIT), as Linux TCP" :
				"RST without FIN (ECONNRESET)");
	}
	for (i = 0; i < MAX_ORPH; i++) {
		st = sock_state(p[i].s, IPPROTO_ETCP);
		EXPECT_EQ(ETCP_CLOSE_WAIT, st) TH_LOG("server %d (its client an orphan): %s", i,
						      state_name(st));
		EXPECT_EQ(0, so_error(p[i].s));
		n = recv(p[i].s, buf, sizeof(buf), MSG_DONTWAIT);
		EXPECT_EQ(0, n) TH_LOG("server %d (its client an orphan): recv %zd (%s)", i, n,
				       n < 0 ? strerror(errno) : "bytes");
	}
	/* The orphans finish: LAST_ACK at the servers, TIME_WAIT at the clients. */
	for (i = 0; i < NR_ORPH; i++)
		close(p[i].s);
	for (i = 0; i < MAX_ORPH; i++) {
		st = wait_row(self->ns.a, IPPROTO_ETCP, &p[i].tc, ETCP_TIME_WAIT, WAIT_MS, NULL);
		EXPECT_EQ(ETCP_TIME_WAIT, st) TH_LOG("orphan %d after its peer closed: %s", i,
						     state_name(st));
	}
	EXPECT_EQ(0, stat_now(self->ns.a, "Orphans"));
}

#define NR_TIMER_ORPH	3

/*
 * The limit also holds for orphans that already exist: three orphans
 * retransmit their FIN into a peer that drops everything (FIN_WAIT1,
 * "Orphans 3"); etcp_max_orphans is then lowered to 1.  Each orphan's next
 * retransmission finds too many and resets instead, until one is left:
 * exactly two resets (AbortOnMemory + 2), one FIN_WAIT1 row, "Orphans 1".
 * Once the peer takes segments again, the survivor's FIN gets through.
 */
TEST_F_TIMEOUT(close_etcp, max_orphans_timer, 90)
{
	struct pair p[NR_TIMER_ORPH];
	long before, after, orphans;
	unsigned short port;
	int i, st, left;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "retries2", 8));
	port = self->port++;
	open_pairs(_metadata, &self->ns, variant->family, variant->addr_b, port, p, NR_TIMER_ORPH);
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", ""));
	before = stat_now(self->ns.a, "AbortOnMemory");
	ASSERT_LE(0, before);

	for (i = 0; i < NR_TIMER_ORPH; i++) {
		ASSERT_EQ(0, close(p[i].c));
		st = wait_row(self->ns.a, IPPROTO_ETCP, &p[i].tc, ETCP_FIN_WAIT1, WAIT_MS, NULL);
		EXPECT_EQ(ETCP_FIN_WAIT1, st) TH_LOG("orphan %d: %s", i, state_name(st));
	}
	orphans = stat_now(self->ns.a, "Orphans");
	EXPECT_EQ(NR_TIMER_ORPH, orphans) TH_LOG("Orphans gauge %ld", orphans);
	EXPECT_EQ(before, stat_now(self->ns.a, "AbortOnMemory"));

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "max_orphans", 1));
	after = wait_abort(self->ns.a, IPPROTO_ETCP, "AbortOnMemory",
			   before + NR_TIMER_ORPH - 1, 3 * WAIT_MS);
	EXPECT_EQ(before + NR_TIMER_ORPH - 1, after)
		TH_LOG("AbortOnMemory %ld -> %ld", before, after);
	/* One more round of retransmissions must not reset the last one. */
	pause_ms(1000);
	EXPECT_EQ(after, stat_now(self->ns.a, "AbortOnMemory"));
	orphans = stat_now(self->ns.a, "Orphans");
	EXPECT_EQ(1, orphans) TH_LOG("Orphans gauge %ld", orphans);
	left = count_rows(self->ns.a, IPPROTO_ETCP, variant->family, ETCP_FIN_WAIT1, 0);
	EXPECT_EQ(1, left) TH_LOG("%d FIN_WAIT1 rows left", left);

	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	for (i = 0; i < NR_TIMER_ORPH; i++) {
		st = wait_row(self->ns.a, IPPROTO_ETCP, &p[i].tc, ETCP_FIN_WAIT2, 3 * WAIT_MS,
			      NULL);
		if (st == ETCP_FIN_WAIT2)
			break;
	}
	EXPECT_GT(NR_TIMER_ORPH, i) TH_LOG("the surviving orphan's FIN never got through");
	for (i = 0; i < NR_TIMER_ORPH; i++)
		close(p[i].s);
}

TEST_HARNESS_MAIN
