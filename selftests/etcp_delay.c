// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: what an end holds back, and for how long, as Linux TCP
 * decides it - the receiver's ACKs, the sender's corked data - asserted
 * on the wire and over TCP as well.
 *
 *   netns a (client)                           netns b (server)
 *   10.0.1.1 ea ------------- veth ------------- eb 10.0.1.2
 *   fd00:1::1                                        fd00:1::2
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
 *   quickack_sends_owed  with an ACK owed for data already read, setting
 *                        it to 1 sends that ACK at once, well before the
 *                        delayed-ACK timer, and ends the interactive mode
 *   quickack_even_owed   2 sends it too, then the connection is
 *                        interactive again: it reads 0, the next ACK waits
 *   quickack_even_nothing_owed
 *                        ...only then: with no ACK owed, 2 ends the
 *                        interactive mode as 1 does
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
 * The sender holds what a closed window does not take, and probes it
 * (persist): a second fixture, whose peer is the raw peer on the link
 * (etcp_pkt.h, speaking as 10.0.1.3 or fd00:1::3 from eb to a listener
 * in a), which announces any window.  The window stays closed for 3
 * probes (R, 2R, 4R apart, R the RTO), then opens by less than the
 * segment held: the next probe, 8R on, sends what it takes, and ends the
 * backoff:
 *
 *   data_probe_lost      that data, unacknowledged, goes again after R,
 *                        not 16R; ETCP_INFO / TCP_INFO backoff 3, then 0
 *   data_probe_acked     that data ACKed with window 0: the probes start
 *                        over, R after the ACK, then 2R
 *
 * Every test runs over TCP and etcp, over IPv4 and over IPv6
 * (ETCP_FAMILY_VARIANTS: tcp, etcp, tcp6, etcp6), TCP configured like etcp
 * (no timestamps, SACK, window scaling, autocorking; etcp_env_setup).  The
 * family changes the addresses, the MSS (ETCP_NS_MSS(): 1460 or 1440, the
 * full segments of cork_full_segments and the raw peer's MSS option) and
 * the /proc/net table pingpong reads (tcp6, etcp6); not the timers, nor
 * the quick ACKs, which count 536-byte segments in both.
 * In the first fixture ETCP_NODELAY / TCP_NODELAY is on at both ends, and
 * the server reads what it is sent only while interactive: otherwise a
 * reader that empties its receive queue makes Linux ACK a small segment at
 * once (tcp_cleanup_rbuf), which is not what these tests are about.
 *
 * Timing: the VM runs under TCG on shared cores.  "At once" is within
 * AT_ONCE_MS of the data on the capture's clock; a delayed ACK comes 30 to
 * 120 ms after it; the cork's ceiling, 200 ms and a little more (the RTO
 * of a path of well under a millisecond), is accepted from 180 to 400 ms;
 * a persist or retransmission timeout of T ms from 10 ms early to 100 ms
 * and T/4 late, so that R, 2R, 4R, ... never pass for one another.
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
#include "etcp_pkt.h"
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

/* The persist fixture's raw peer, and what the tests make it do. */
#define PEER_PORT	40200
#define PEER_ISS	0x20000000U
#define LINK_MTU	1500		/* etcp_netns_setup()'s: ETCP_NS_MSS() segments */
#define HELD_LEN	1000		/* the data that waits for the window */
#define SMALL_WND	100		/* less than HELD_LEN: a probe sends it */
#define NR_CLOSED	3		/* zero-window probes before it opens */
#define RTO_MS		200		/* the RTO of a path of well under 1 ms */

_Static_assert(ETCP_QUICKACK == TCP_QUICKACK && ETCP_CORK == TCP_CORK &&
	       ETCP_MAXSEG == TCP_MAXSEG, "the option numbers are TCP's");

ETCP_ENV_CHECK()

FIXTURE(delay) {
	struct etcp_env e;
	int lfd, c, s;		/* listener and server in b, client in a */
	uint16_t cport;
	uint16_t win;		/* the window the server's SYN-ACK announced */
};

ETCP_FAMILY_VARIANTS(delay);

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
	self->lfd = listen_on(self->e.ns.b, variant->proto, variant->addr_b, PORT, 8);
	ASSERT_LE(0, self->lfd);
	self->c = ns_socket(self->e.ns.a, variant->family, SOCK_STREAM | SOCK_CLOEXEC,
			    variant->proto);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, sockopt_set(self->c, variant->proto, TCP_NODELAY, 1));
	ASSERT_EQ(0, connect_to(self->c, variant->addr_b, PORT));
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
 * The server's pure ACK of what the client's segment @di carried: its
 * capture index, or < 0 when none came within WAIT_MS.
 */
static long ack_of(FIXTURE_DATA(delay) *self, long di)
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
	return i;
}

/* ms from capture time @t0 (ns) to segment @i. */
static long ms_since(FIXTURE_DATA(delay) *self, int64_t t0, long i)
{
	return (long)((self->e.cap->seg[i].t - t0) / MS);
}

/*
 * That ACK: how long after the segment @di it left, in ms, or -1 when none
 * came within WAIT_MS.
 */
static long ack_delay_ms(FIXTURE_DATA(delay) *self, long di)
{
	long i = ack_of(self, di);

	return i < 0 ? -1 : ms_since(self, self->e.cap->seg[di].t, i);
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
 * The server's row in /proc/net/{tcp,etcp,tcp6,etcp6} (by @proto and
 * @family): its ato (clock ticks) and its "quick << 1 | pingpong" column.
 * 0, or -1 when there is no such row.
 */
static int proc_ack_cols(FIXTURE_DATA(delay) *self, int proto, int family,
			 unsigned long *ato, unsigned int *quick)
{
	static char text[1 << 16];
	unsigned int lport, rport;
	char *line;

	if (ns_proc_net_read(self->e.ns.b, proc_table_af(proto, family), text,
			     sizeof(text)) < 0)
		return -1;
	for (line = strchr(text, '\n'); line && line[1]; line = strchr(line, '\n')) {
		line++;
		/* The addresses: 8 hex digits, or 32 in an IPv6 table. */
		if (sscanf(line, "%*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %*u %*d %*s %*u %lu %u",
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
	ASSERT_EQ(0, proc_ack_cols(self, variant->proto, variant->family, &ato, &quick));
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

/*
 * ETCP_QUICKACK (TCP_QUICKACK) @val with an ACK owed for data the server
 * has read.  The server is interactive (no_quickack()), so neither the
 * request's arrival nor the read sends the ACK (Linux's tcp_cleanup_rbuf()
 * acknowledges a small segment on reading only outside that mode); the
 * setsockopt() does: not before it, within AT_ONCE_MS of it, and less than
 * DELACK_MIN_MS after the request, so not the delayed-ACK timer either.
 */
static void quickack_sends_owed_ack(struct __test_metadata *_metadata,
				    FIXTURE_DATA(delay) *self, int proto, int val)
{
	long di, ai, after_req, after_set;
	char buf[REQ_LEN];
	int64_t t_set;

	no_quickack(self->s, proto);
	di = client_send(self, REQ_LEN);
	ASSERT_LE(0, di) TH_LOG("the request did not leave: %s", EXCH);
	ASSERT_EQ(0, recv_exact(self->s, buf, sizeof(buf), WAIT_MS));
	t_set = etcp_cap_now(self->e.cap);
	ASSERT_EQ(0, sockopt_set(self->s, proto, TCP_QUICKACK, val));
	ai = ack_of(self, di);
	ASSERT_LE(0, ai) TH_LOG("the request was not ACKed: %s", EXCH);
	after_req = ms_since(self, self->e.cap->seg[di].t, ai);
	after_set = ms_since(self, t_set, ai);
	EXPECT_LE(t_set, self->e.cap->seg[ai].t)
		TH_LOG("the ACK left %ld ms after the request, before ETCP_QUICKACK %d: %s",
		       after_req, val, EXCH);
	EXPECT_TRUE(at_once(after_set))
		TH_LOG("the ACK left %ld ms after ETCP_QUICKACK %d: %s", after_set, val, EXCH);
	EXPECT_GT(DELACK_MIN_MS, after_req)
		TH_LOG("the ACK left %ld ms after the request: %s", after_req, EXCH);
}

/*
 * ...and then, as Linux's __tcp_sock_set_quickack() has it: an odd @val
 * ends the interactive mode, ETCP_QUICKACK reads 1 and the next request's
 * ACK goes at once; an even one, once the ACK owed went, makes the
 * connection interactive again ("if (!(val & 1))
 * inet_csk_enter_pingpong_mode(sk)"): it reads 0, the next ACK waits.
 */
static void quickack_owed(struct __test_metadata *_metadata, FIXTURE_DATA(delay) *self,
			  int proto, int val)
{
	bool odd = val & 1;
	long ms;

	quickack_sends_owed_ack(_metadata, self, proto, val);
	EXPECT_EQ(odd, quickack(self->s, proto)) TH_LOG("ETCP_QUICKACK %d", val);
	ms = request_ack_ms(self);
	EXPECT_TRUE(odd ? at_once(ms) : delayed(ms))
		TH_LOG("ETCP_QUICKACK %d, next request: ACK after %ld ms: %s", val, ms, EXCH);
}

TEST_F(delay, quickack_sends_owed)
{
	quickack_owed(_metadata, self, variant->proto, 1);
}

TEST_F(delay, quickack_even_owed)
{
	quickack_owed(_metadata, self, variant->proto, 2);
}

/*
 * ...but only when an ACK was owed: Linux re-enters the interactive mode
 * inside "if an ACK is scheduled".  With nothing owed an even value ends
 * it as an odd one does: ETCP_QUICKACK reads 1, the next ACK goes at once.
 */
TEST_F(delay, quickack_even_nothing_owed)
{
	long ms;

	no_quickack(self->s, variant->proto);
	EXPECT_EQ(0, quickack(self->s, variant->proto));
	ASSERT_EQ(0, sockopt_set(self->s, variant->proto, TCP_QUICKACK, 2));
	EXPECT_EQ(1, quickack(self->s, variant->proto)) TH_LOG("interactive");
	ms = request_ack_ms(self);
	EXPECT_TRUE(at_once(ms)) TH_LOG("ACK after %ld ms: %s", ms, EXCH);
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

/* Send @len bytes from the client with @flags: the capture time before. */
static int64_t client_send_at(FIXTURE_DATA(delay) *self, size_t len, int flags)
{
	static const char buf[2 * ETCP_NS_MSS(AF_INET) + REQ_LEN];	/* the larger MSS */
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

	ASSERT_EQ(ETCP_NS_MSS(variant->family), mss);
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

/* ------------------------------------------------------------ persist */

/*
 * The sender under test is the accepted socket s in netns a; its peer is
 * the raw peer on the link (etcp_pkt.h), which announces whatever window
 * it is told to, a window smaller than a segment included (a kernel
 * receiver never does: its SWS avoidance).  The peer's SYN announces
 * 65535, so s never bounds its segments to half a small window
 * (tcp_bound_to_half_wnd).  Segments are taken from the capture on ea, the
 * peer's receive queue is left unread: its ACKs say what they are told.
 */
FIXTURE(persist) {
	struct etcp_env e;
	struct etcp_pkt pk;
	int lfd, s;		/* listener and the sender, in a */
};

ETCP_FAMILY_VARIANTS(persist);

FIXTURE_SETUP(persist)
{
	const char *why = env_unsupported;
	int ret;

	self->lfd = -1;
	self->s = -1;
	memset(&self->pk, 0, sizeof(self->pk));
	self->pk.fd = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ret = etcp_env_setup(&self->e, variant->proto, ETCP_ENV_EXACT, &why);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", why, strerror(-ret));
	if (variant->family == AF_INET6)
		ret = etcp_pkt_link(&self->e.ns, ETCP_PKT_ADDR6, LINK_MTU) ?:
		      etcp_pkt_open_veth6(&self->pk, &self->e.ns, variant->proto);
	else
		ret = etcp_pkt_link(&self->e.ns, ETCP_PKT_ADDR, LINK_MTU) ?:
		      etcp_pkt_open_veth(&self->pk, &self->e.ns, variant->proto);
	ASSERT_EQ(0, ret) TH_LOG("the raw peer: %s", strerror(-ret));
	self->lfd = listen_on(self->e.ns.a, variant->proto, variant->addr_a, PORT, 8);
	ASSERT_LE(0, self->lfd);
	ret = etcp_pkt_connect(&self->pk, PEER_PORT, PORT, PEER_ISS,
			       ETCP_NS_MSS(variant->family), NULL, WAIT_MS);
	ASSERT_EQ(0, ret) TH_LOG("the peer's handshake: %s: %s", strerror(-ret), EXCH);
	self->s = accept_wait(self->lfd, WAIT_MS);
	ASSERT_LE(0, self->s);
	ASSERT_EQ(0, stall_watch_start());
}

FIXTURE_TEARDOWN(persist)
{
	stall_watch_stop();
	if (getenv("ETCP_CAP_DUMP") && self->e.cap)
		TH_LOG("%s", EXCH);
	/* An RST to the peer: nothing is left to probe or retransmit. */
	close_abort(self->s);
	close_fds(&self->lfd, NULL);
	etcp_pkt_close(&self->pk);
	etcp_env_teardown(&self->e);
}

/* The peer's ACK of s's data up to relative @rack, announcing @wnd. */
static int peer_ack(FIXTURE_DATA(persist) *self, int64_t rack, uint16_t wnd)
{
	self->pk.rcv_nxt = self->pk.irs + (uint32_t)rack;
	self->pk.adv_wnd = wnd;
	return etcp_pkt_send(&self->pk, 1, ETCP_TH_ACK, NULL, 0);
}

/*
 * s's next segment from capture index @from on, with data (@data) or
 * without (a zero-window probe: s is sent nothing it would ACK): its
 * index, or < 0 when none came within @ms.
 */
static long from_s(FIXTURE_DATA(persist) *self, size_t from, bool data, int ms)
{
	struct etcp_wsel w = { .what = ETCP_W_SPORT, .sport = PORT };

	w.what |= data ? ETCP_W_DATA : ETCP_W_LEN;
	return etcp_wsel_wait(self->e.cap, from, &w, ms);
}

/* The peer's segment acknowledging @rack from capture index @from on, or < 0. */
static long from_peer(FIXTURE_DATA(persist) *self, size_t from, int64_t rack)
{
	struct etcp_wsel w = { .what = ETCP_W_SPORT | ETCP_W_RACK, .sport = PEER_PORT,
			       .rack = rack };

	return etcp_wsel_wait(self->e.cap, from, &w, WAIT_MS);
}

/* ms from segment @i to segment @j of the capture. */
static long ms_between(FIXTURE_DATA(persist) *self, long i, long j)
{
	return (long)((self->e.cap->seg[j].t - self->e.cap->seg[i].t) / MS);
}

/*
 * From capture time @t0 to @t1 is a timer's interval of @want ms: 10 ms
 * early (jiffies) to 100 ms and a quarter late (Linux's RTO is 200 ms
 * plus the RTT, and a TCG guest on a busy host fires timers late), and
 * later by as long as the guest stalled in between (stall_ns()).  The
 * ranges of R, 2R, 4R, ... do not overlap: one doubling more or less
 * never passes, unless a stall as long hid it.
 */
static bool timer_near(FIXTURE_DATA(persist) *self, int64_t t0, int64_t t1, long want)
{
	long ms = (long)((t1 - t0) / MS);
	long stall = (long)(stall_ns(self->e.cap->t0 + t0, self->e.cap->t0 + t1) / MS);

	return ms >= want - 10 && ms <= want + 100 + want / 4 + stall;
}

/* Segment @i is a zero-window probe <SEQ=SND.UNA-1><ACK> with SND.UNA at @una. */
static void expect_probe(struct __test_metadata *_metadata, FIXTURE_DATA(persist) *self,
			 long i, int64_t una)
{
	const struct etcp_cap_seg *p = &self->e.cap->seg[i];

	EXPECT_EQ(ETCP_TH_ACK, p->flags) TH_LOG("%s", EXCH);
	EXPECT_EQ(una - 1, p->rseq) TH_LOG("not a probe of SND.UNA - 1: %s", EXCH);
	EXPECT_EQ(0, p->len);
}

/*
 * @n zero-window probes of SND.UNA @una from capture index @from on: the
 * first R (the RTO, 200 ms) after capture time @t0, each later one twice
 * as long after the one before (the backoff doubles the timeout), each
 * answered at once with window 0 but the last, answered with @last_wnd.
 * The capture index of the last.
 */
static long probes_doubling(struct __test_metadata *_metadata, FIXTURE_DATA(persist) *self,
			    size_t from, int64_t t0, int64_t una, int n, uint16_t last_wnd)
{
	long ip = (long)from - 1, ms;
	int64_t t = t0;
	int k;

	for (k = 0; k < n; k++, t = self->e.cap->seg[ip].t) {
		ip = from_s(self, ip + 1, false, (RTO_MS << k) + WAIT_MS);
		ASSERT_LE(0, ip) TH_LOG("zero-window probe %d not sent: %s", k + 1, EXCH);
		ASSERT_EQ(0, peer_ack(self, una, k + 1 < n ? 0 : last_wnd));
		expect_probe(_metadata, self, ip, una);
		ms = (long)((self->e.cap->seg[ip].t - t) / MS);
		EXPECT_TRUE(timer_near(self, t, self->e.cap->seg[ip].t, RTO_MS << k))
			TH_LOG("zero-window probe %d %ld ms after the %s, not %d: %s", k + 1,
			       ms, k ? "one before" : "start", RTO_MS << k, EXCH);
	}
	return ip;
}

/*
 * The window closed for NR_CLOSED probes, then opened by less than a
 * segment.  s sends HELD_LEN bytes, which the peer ACKs with window 0,
 * then HELD_LEN more, held: probes_doubling() from the write on, the last
 * answered with SMALL_WND.  That does not take the held segment, so
 * nothing goes at once; the next expiry, 8R on, sends what the window
 * takes, SMALL_WND bytes with PSH (RFC 9293 3.8.6.1; tcp_write_wakeup()).
 * Before it, ETCP_INFO / TCP_INFO shows the backoff, NR_CLOSED.  The
 * capture index of that data probe, in *@idata.
 */
static void window_opened_by_probe(struct __test_metadata *_metadata,
				   FIXTURE_DATA(persist) *self, int proto, long *idata)
{
	static const char buf[HELD_LEN];
	const int64_t una = 1 + HELD_LEN;
	const struct etcp_cap_seg *d;
	int64_t t_write;
	struct sinfo si;
	long i0, ip;

	ASSERT_EQ(0, send_all(self->s, buf, HELD_LEN));
	i0 = from_s(self, 0, true, WAIT_MS);
	ASSERT_LE(0, i0) TH_LOG("no data: %s", EXCH);
	ASSERT_EQ(0, peer_ack(self, una, 0));
	ASSERT_EQ(0, wait_acked(self->s, WAIT_MS)) TH_LOG("the ACK did not arrive: %s", EXCH);
	t_write = etcp_cap_now(self->e.cap);
	ASSERT_EQ(0, send_all(self->s, buf, HELD_LEN));
	ip = probes_doubling(_metadata, self, i0 + 1, t_write, una, NR_CLOSED, SMALL_WND);
	ASSERT_EQ(0, sinfo_get(self->s, proto, &si));
	EXPECT_EQ(NR_CLOSED, si.backoff);

	*idata = from_s(self, ip + 1, true, (RTO_MS << NR_CLOSED) + WAIT_MS);
	ASSERT_LE(0, *idata) TH_LOG("the window opened, no data: %s", EXCH);
	EXPECT_EQ(*idata, from_s(self, i0 + 1, true, 0))
		TH_LOG("data before the persist timer: %s", EXCH);
	d = &self->e.cap->seg[*idata];
	EXPECT_EQ(una, d->rseq) TH_LOG("%s", EXCH);
	EXPECT_EQ(SMALL_WND, d->len) TH_LOG("%s", EXCH);
	EXPECT_EQ(ETCP_TH_ACK | ETCP_TH_PSH, d->flags) TH_LOG("%s", EXCH);
	EXPECT_TRUE(timer_near(self, self->e.cap->seg[ip].t, self->e.cap->seg[*idata].t,
			       RTO_MS << NR_CLOSED))
		TH_LOG("data %ld ms after the last probe, not %d: %s",
		       ms_between(self, ip, *idata), RTO_MS << NR_CLOSED, EXCH);
}

/*
 * The probe's data lost: resent after R, the RTO, not after the backoff
 * the probes had reached (16R): the probe that carried data ended the
 * probing and its backoff (tcp_send_probe0()), and ETCP_INFO / TCP_INFO
 * says so at once.
 */
TEST_F(persist, data_probe_lost)
{
	const struct etcp_cap_seg *d, *r;
	long id, ir, ms;
	struct sinfo si;

	window_opened_by_probe(_metadata, self, variant->proto, &id);
	ASSERT_EQ(0, sinfo_get(self->s, variant->proto, &si));
	EXPECT_EQ(0, si.backoff) TH_LOG("the backoff stayed after a probe sent data");
	ir = from_s(self, id + 1, true, (RTO_MS << (NR_CLOSED + 1)) + WAIT_MS);
	ASSERT_LE(0, ir) TH_LOG("the probe's data was not resent: %s", EXCH);
	d = &self->e.cap->seg[id];
	r = &self->e.cap->seg[ir];
	EXPECT_EQ(d->rseq, r->rseq) TH_LOG("%s", EXCH);
	EXPECT_EQ(d->len, r->len) TH_LOG("%s", EXCH);
	ms = ms_between(self, id, ir);
	EXPECT_TRUE(timer_near(self, d->t, r->t, RTO_MS))
		TH_LOG("resent after %ld ms, not %d: %s", ms, RTO_MS, EXCH);
}

/*
 * The probe's data ACKed at once, the window closed again: the probes
 * start over from the RTO, R after that ACK, then 2R, not from the 16R
 * the backoff had reached.
 */
TEST_F(persist, data_probe_acked)
{
	const int64_t una = 1 + HELD_LEN + SMALL_WND;
	long id, ia;

	window_opened_by_probe(_metadata, self, variant->proto, &id);
	ASSERT_EQ(0, peer_ack(self, una, 0));
	ia = from_peer(self, id + 1, una);
	ASSERT_LE(0, ia) TH_LOG("the peer's ACK was not captured: %s", EXCH);
	probes_doubling(_metadata, self, ia + 1, self->e.cap->seg[ia].t, una, 2, 0);
}

TEST_HARNESS_MAIN
