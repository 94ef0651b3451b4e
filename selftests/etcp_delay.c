// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: what an end holds back, and for how long, as Linux TCP
 * decides it - the receiver's ACKs, the sender's corked data - asserted
 * on the wire and over TCP as well.
 *
 *   netns a (client)                           netns b (server)
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *        ^ capture (AF_PACKET, both directions)      listener :5000
 *
 * RFC 1122 4.2.3.2 lets a receiver delay its ACK (Linux: 40 ms); Linux
 * does not while the sender may be in slow start.  Its quick ACKs:
 *
 *   first_data_at_once   the first data of a connection is ACKed at once
 *   quick_acks_run_out   as many ACKs at once as half the announced window
 *                        holds in 536-byte segments, at most 16; then the
 *                        delayed ACK
 *   pingpong             an answer within the delayed-ACK time makes the
 *                        connection interactive: the next request's ACK
 *                        waits for an answer, and once it had to go alone
 *                        the one after goes at once again; /proc shows
 *                        the quick ACKs left, the mode and the ato
 *   quickack_option      ETCP_QUICKACK / TCP_QUICKACK 0 delays even the
 *                        first ACK; reading it says whether ACKs go at once
 *   fin_after_data       the data is ACKed at once, the FIN that follows
 *                        is not: its ACK waits for the application's close
 *
 * The sender holds a short segment while corked (ETCP_CORK / TCP_CORK, or
 * send() with MSG_MORE), at most max(RTO, 200 ms) with nothing in flight:
 *
 *   cork_ceiling         a corked 100 bytes leave after the ceiling, PSH
 *   cork_full_segments   full segments go at once, the short tail when the
 *                        cork goes
 *   msg_more             MSG_MORE holds 100 bytes until the next send()
 *                        joins them: one 200-byte segment
 *   msg_more_ceiling     MSG_MORE with nothing after it: the ceiling
 *
 * Every test runs over TCP and etcp (FIXTURE_VARIANT), TCP configured like
 * etcp (no timestamps, SACK, window scaling, autocorking; etcp_env_setup),
 * ETCP_NODELAY / TCP_NODELAY on both ends.  The server never reads what it
 * is sent: a reader that empties its receive queue makes Linux ACK a small
 * segment at once (tcp_cleanup_rbuf), which is not what these tests are
 * about.
 *
 * Timing: the VM runs under TCG on shared cores.  "At once" is within
 * AT_ONCE_MS of the data on the capture's clock; a delayed ACK comes 30 to
 * 120 ms after it; the cork's ceiling, 200 ms and a little more (the RTO
 * of a path of well under a millisecond), is accepted from 180 to 400 ms.
 *
 * ETCP_CAP_DUMP=1 in the environment prints every test's exchange.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "kselftest_harness.h"

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"

#define PORT		5000
#define WAIT_MS		3000
#define AT_ONCE_MS	20
#define DELACK_MIN_MS	30
#define DELACK_MAX_MS	120
#define CEILING_MIN_MS	180
#define CEILING_MAX_MS	400
#define REQ_LEN		100
#define MS		1000000LL	/* capture times are in ns */
#define DEFAULT_RCV_MSS	536		/* the receiver's first guess */
#define MAX_QUICKACKS	16
#define EXCH		etcp_cap_str(self->e.cap)

_Static_assert(ETCP_QUICKACK == TCP_QUICKACK && ETCP_CORK == TCP_CORK &&
	       ETCP_MAXSEG == TCP_MAXSEG, "the option numbers are TCP's");

ETCP_ENV_CHECK()

FIXTURE(delay) {
	struct etcp_env e;
	int lfd, c, s;		/* listener and server in b, client in a */
	uint16_t cport;
	uint16_t win;		/* the window the server's SYN-ACK announced */
};

ETCP_PROTO_VARIANTS(delay);

FIXTURE_SETUP(delay)
{
	const char *why = env_unsupported;
	struct etcp_cap_sel synack = { .mask = 0xff, .flags = ETCP_TH_SYN | ETCP_TH_ACK };
	long i;
	int ret;

	self->lfd = self->c = self->s = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = etcp_env_setup(&self->e, variant->proto, ETCP_ENV_EXACT, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	self->lfd = listen_on(self->e.ns.b, variant->proto, ETCP_NS_ADDR_B, PORT, 8);
	ASSERT_LE(0, self->lfd);
	self->c = ns_socket(self->e.ns.a, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, variant->proto);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, sockopt_set(self->c, variant->proto, TCP_NODELAY, 1));
	ASSERT_EQ(0, connect_to(self->c, ETCP_NS_ADDR_B, PORT));
	self->s = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, sockopt_set(self->s, variant->proto, TCP_NODELAY, 1));
	self->cport = local_port(self->c);
	ASSERT_EQ(0, etcp_cap_wait(self->e.cap, 3, WAIT_MS)) TH_LOG("%s", EXCH);
	i = etcp_cap_find(self->e.cap, 0, etcp_cap_sel_match, &synack);
	ASSERT_LE(0, i) TH_LOG("no SYN-ACK: %s", EXCH);
	self->win = self->e.cap->seg[i].window;
}

FIXTURE_TEARDOWN(delay)
{
	if (getenv("ETCP_CAP_DUMP") && self->e.cap)
		TH_LOG("%s", EXCH);
	close_fds(&self->s, &self->c, &self->lfd, NULL);
	etcp_env_teardown(&self->e);
}

/* The client's next data segment from capture index @from on: its index, or < 0. */
static long data_out(FIXTURE_DATA(delay) *self, size_t from)
{
	struct etcp_wsel data = { .what = ETCP_W_SPORT | ETCP_W_DATA, .sport = self->cport };

	return etcp_wsel_wait(self->e.cap, from, &data, WAIT_MS);
}

/*
 * The server's pure ACK of what the client's segment @di carried: how long
 * after it, in ms, or -1 when none came within WAIT_MS.
 */
static long ack_delay_ms(FIXTURE_DATA(delay) *self, long di)
{
	const struct etcp_cap_seg *d = &self->e.cap->seg[di];
	struct etcp_cap_sel sel = { .mask = 0xff, .flags = ETCP_TH_ACK,
				    .sport = PORT, .dport = self->cport };
	int64_t end = d->rseq + d->len + !!(d->flags & ETCP_TH_FIN);
	long i;

	for (i = etcp_cap_wait_match(self->e.cap, di + 1, etcp_cap_sel_match, &sel, WAIT_MS);
	     i >= 0 && self->e.cap->seg[i].rack < end;
	     i = etcp_cap_wait_match(self->e.cap, i + 1, etcp_cap_sel_match, &sel, WAIT_MS))
		;
	if (i < 0)
		return -1;
	return (long)((self->e.cap->seg[i].t - d->t) / MS);
}

/* Send @len bytes from the client; the index of the segment that took them. */
static long client_send(FIXTURE_DATA(delay) *self, size_t len)
{
	static const char buf[REQ_LEN * 4];
	size_t from = self->e.cap->n;

	if (len > sizeof(buf) || send_all(self->c, buf, len))
		return -1;
	return data_out(self, from);
}

/*
 * The quick ACKs a connection starts with: half the window @win in
 * receive-MSS segments, 536 bytes before a segment that large arrived;
 * the window the SYN-ACK announced is still the last one when the first
 * data comes.
 */
static int quick_acks(unsigned int win)
{
	int quick = win / (2 * DEFAULT_RCV_MSS);

	if (!quick)
		quick = 2;
	return quick < MAX_QUICKACKS ? quick : MAX_QUICKACKS;
}

/*
 * A request of REQ_LEN bytes from the client: how long the server took to
 * ACK it, in ms; -1 for no ACK, -2 when the request was not seen going.
 */
static long request_ack_ms(FIXTURE_DATA(delay) *self)
{
	long di = client_send(self, REQ_LEN);

	return di < 0 ? -2 : ack_delay_ms(self, di);
}

static bool at_once(long ms)
{
	return ms >= 0 && ms <= AT_ONCE_MS;
}

static bool delayed(long ms)
{
	return ms >= DELACK_MIN_MS && ms <= DELACK_MAX_MS;
}

/*
 * The server's row in /proc/net/{tcp,etcp}: its ato (clock ticks) and its
 * "quick << 1 | pingpong" column.  0, or -1 when there is no such row.
 */
static int proc_ack_cols(FIXTURE_DATA(delay) *self, int proto, unsigned long *ato,
			 unsigned int *quick)
{
	static char text[1 << 16];
	unsigned int lport, rport;
	char *line;

	if (ns_proc_net_read(self->e.ns.b, proc_table(proto), text, sizeof(text)) < 0)
		return -1;
	for (line = strchr(text, '\n'); line && line[1]; line = strchr(line, '\n')) {
		line++;
		if (sscanf(line, "%*d: %*x:%x %*x:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %*u %*d %*s %*u %lu %u",
			   &lport, &rport, ato, quick) == 4 &&
		    lport == PORT && rport == self->cport)
			return 0;
	}
	return -1;
}

/* ETCP_QUICKACK / TCP_QUICKACK as read on @fd. */
static int quickack(int fd, int proto)
{
	return sockopt_get(fd, proto, TCP_QUICKACK);
}

TEST_F(delay, first_data_at_once)
{
	long ms;

	EXPECT_EQ(1, quickack(self->s, variant->proto));
	ms = request_ack_ms(self);
	EXPECT_TRUE(at_once(ms)) TH_LOG("ACK after %ld ms: %s", ms, EXCH);
}

TEST_F(delay, quick_acks_run_out)
{
	int quick = quick_acks(self->win), k;
	long ms;

	for (k = 0; k < quick; k++) {
		ms = request_ack_ms(self);
		ASSERT_TRUE(at_once(ms))
			TH_LOG("segment %d of %d quick: ACK after %ld ms (window %u): %s",
			       k + 1, quick, ms, self->win, EXCH);
	}
	ms = request_ack_ms(self);
	EXPECT_TRUE(delayed(ms)) TH_LOG("segment %d: ACK after %ld ms (window %u): %s",
					quick + 1, ms, self->win, EXCH);
}

TEST_F(delay, pingpong)
{
	char buf[REQ_LEN];
	unsigned long ato;
	unsigned int quick;
	long ms;

	memset(buf, 'a', sizeof(buf));
	ms = request_ack_ms(self);
	EXPECT_TRUE(at_once(ms)) TH_LOG("request 1: ACK after %ld ms: %s", ms, EXCH);
	/* The answer, well within the delayed-ACK time. */
	ASSERT_EQ(0, send_all(self->s, buf, sizeof(buf)));
	ASSERT_EQ(0, recv_exact(self->c, buf, sizeof(buf), WAIT_MS));
	EXPECT_EQ(0, quickack(self->s, variant->proto)) TH_LOG("not interactive");
	/* One quick ACK spent, interactive, ato 40 ms (4 clock ticks). */
	ASSERT_EQ(0, proc_ack_cols(self, variant->proto, &ato, &quick));
	EXPECT_EQ(((unsigned int)quick_acks(self->win) - 1) << 1 | 1, quick);
	EXPECT_EQ(4, ato);

	/* No answer now: the ACK goes alone, late. */
	ms = request_ack_ms(self);
	EXPECT_TRUE(delayed(ms)) TH_LOG("request 2: ACK after %ld ms: %s", ms, EXCH);
	EXPECT_EQ(1, quickack(self->s, variant->proto)) TH_LOG("still interactive");

	ms = request_ack_ms(self);
	EXPECT_TRUE(at_once(ms)) TH_LOG("request 3: ACK after %ld ms: %s", ms, EXCH);
}

TEST_F(delay, quickack_option)
{
	long ms;

	ASSERT_EQ(0, sockopt_set(self->s, variant->proto, TCP_QUICKACK, 0));
	EXPECT_EQ(0, quickack(self->s, variant->proto));
	ms = request_ack_ms(self);
	EXPECT_TRUE(delayed(ms)) TH_LOG("ACK after %ld ms: %s", ms, EXCH);
	/* The delayed ACK that went alone ended the interactive mode. */
	EXPECT_EQ(1, quickack(self->s, variant->proto));
	ms = request_ack_ms(self);
	EXPECT_TRUE(at_once(ms)) TH_LOG("then: ACK after %ld ms: %s", ms, EXCH);
}

TEST_F(delay, fin_after_data)
{
	struct etcp_cap_sel fin = { .mask = ETCP_TH_FIN, .flags = ETCP_TH_FIN,
				    .sport = self->cport, .dport = PORT };
	long di, fi, ms;

	di = client_send(self, REQ_LEN);
	ASSERT_LE(0, di) TH_LOG("%s", EXCH);
	ms = ack_delay_ms(self, di);
	EXPECT_TRUE(at_once(ms)) TH_LOG("data: ACK after %ld ms: %s", ms, EXCH);
	ASSERT_EQ(0, shutdown(self->c, SHUT_WR));
	fi = etcp_cap_wait_match(self->e.cap, di + 1, etcp_cap_sel_match, &fin, WAIT_MS);
	ASSERT_LE(0, fi) TH_LOG("no FIN: %s", EXCH);
	ms = ack_delay_ms(self, fi);
	EXPECT_TRUE(delayed(ms)) TH_LOG("FIN: ACK after %ld ms: %s", ms, EXCH);
	EXPECT_EQ(ETCP_CLOSE_WAIT, sock_state(self->s, variant->proto));
}

/* ------------------------------------------------------------ cork */

/*
 * The client's data segments from capture index @from on, waiting up to
 * @ms for the first: how many (at most @max) went into @idx.
 */
static int data_segs(FIXTURE_DATA(delay) *self, size_t from, long *idx, int max, int ms)
{
	struct etcp_wsel data = { .what = ETCP_W_SPORT | ETCP_W_DATA, .sport = self->cport };
	long i = etcp_wsel_wait(self->e.cap, from, &data, ms);
	int n = 0;

	for (; i >= 0 && n < max; i = etcp_wsel_find(self->e.cap, i + 1, &data))
		idx[n++] = i;
	return n;
}

/* ms from capture time @t0 (ns) to segment @i. */
static long ms_since(FIXTURE_DATA(delay) *self, int64_t t0, long i)
{
	return (long)((self->e.cap->seg[i].t - t0) / MS);
}

/* Send @len bytes from the client with @flags: the capture time before. */
static int64_t client_send_at(FIXTURE_DATA(delay) *self, size_t len, int flags)
{
	static const char buf[2 * 1460 + REQ_LEN];
	int64_t t = etcp_cap_now(self->e.cap);

	return len <= sizeof(buf) && send(self->c, buf, len, flags) == (ssize_t)len ? t : -1;
}

/*
 * Exactly one data segment from the client recorded from @from on: @len
 * bytes at relative @rseq, with PSH, leaving @lo_ms to @hi_ms after the
 * capture time @t.
 */
static void expect_one_segment(struct __test_metadata *_metadata, FIXTURE_DATA(delay) *self,
			       size_t from, int64_t t, int len, int64_t rseq,
			       long lo_ms, long hi_ms)
{
	const struct etcp_cap_seg *g;
	long idx[2], ms;

	ASSERT_EQ(1, data_segs(self, from, idx, 2, hi_ms + WAIT_MS)) TH_LOG("%s", EXCH);
	g = &self->e.cap->seg[idx[0]];
	ms = ms_since(self, t, idx[0]);
	EXPECT_EQ(len, g->len);
	EXPECT_EQ(rseq, g->rseq);
	EXPECT_EQ(ETCP_TH_ACK | ETCP_TH_PSH, g->flags) TH_LOG("%s", EXCH);
	EXPECT_TRUE(ms >= lo_ms && ms <= hi_ms)
		TH_LOG("left after %ld ms, not %ld..%ld: %s", ms, lo_ms, hi_ms, EXCH);
}

TEST_F(delay, cork_ceiling)
{
	size_t from = self->e.cap->n;
	int64_t t0;

	ASSERT_EQ(0, sockopt_set(self->c, variant->proto, TCP_CORK, 1));
	EXPECT_EQ(1, sockopt_get(self->c, variant->proto, TCP_CORK));
	t0 = client_send_at(self, REQ_LEN, 0);
	ASSERT_LE(0, t0);
	expect_one_segment(_metadata, self, from, t0, REQ_LEN, 1, CEILING_MIN_MS, CEILING_MAX_MS);
}

TEST_F(delay, cork_full_segments)
{
	int mss = sockopt_get(self->c, variant->proto, TCP_MAXSEG);
	size_t from = self->e.cap->n;
	int64_t t0, t1;
	long idx[4];
	int n;

	ASSERT_EQ(1460, mss);
	ASSERT_EQ(0, sockopt_set(self->c, variant->proto, TCP_CORK, 1));
	t0 = client_send_at(self, 2 * mss + REQ_LEN, 0);
	ASSERT_LE(0, t0);
	/* The full segments acknowledged: the tail is all that is left. */
	ASSERT_EQ(REQ_LEN, wait_ioctl(self->c, SIOCOUTQ, REQ_LEN, WAIT_MS));
	/* Nothing more while corked, well within the ceiling. */
	pause_ms(100);
	n = data_segs(self, from, idx, 4, 0);
	ASSERT_EQ(2, n) TH_LOG("%s", EXCH);
	EXPECT_EQ(mss, self->e.cap->seg[idx[0]].len);
	EXPECT_EQ(mss, self->e.cap->seg[idx[1]].len);
	EXPECT_TRUE(at_once(ms_since(self, t0, idx[1]))) TH_LOG("%s", EXCH);

	from = self->e.cap->n;
	t1 = etcp_cap_now(self->e.cap);
	ASSERT_EQ(0, sockopt_set(self->c, variant->proto, TCP_CORK, 0));
	EXPECT_EQ(0, sockopt_get(self->c, variant->proto, TCP_CORK));
	expect_one_segment(_metadata, self, from, t1, REQ_LEN, 2 * mss + 1, 0, AT_ONCE_MS);
}

TEST_F(delay, msg_more)
{
	size_t from = self->e.cap->n;
	int64_t t1;

	ASSERT_LE(0, client_send_at(self, REQ_LEN, MSG_MORE));
	pause_ms(50);
	t1 = client_send_at(self, REQ_LEN, 0);
	ASSERT_LE(0, t1);
	expect_one_segment(_metadata, self, from, t1, 2 * REQ_LEN, 1, 0, AT_ONCE_MS);
}

TEST_F(delay, msg_more_ceiling)
{
	size_t from = self->e.cap->n;
	int64_t t0;

	t0 = client_send_at(self, REQ_LEN, MSG_MORE);
	ASSERT_LE(0, t0);
	expect_one_segment(_metadata, self, from, t0, REQ_LEN, 1, CEILING_MIN_MS, CEILING_MAX_MS);
}

TEST_HARNESS_MAIN
