// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: the etcp:* tracepoints, and sock:inet_sock_set_state for
 * protocol 253, as tracefs shows them.
 *
 *   netns a (10.0.1.1):                 netns b (10.0.1.2):
 *   clients                              listeners
 *   ea ---------------------- veth ---------------------- eb
 *
 *   rst_closed_port     a SYN to a port nobody listens on, over IPv4 and
 *                       IPv6: etcp_send_reset in b (no socket),
 *                       etcp_receive_reset in a (SYN_SENT), and the
 *                       client's state changes
 *   syn_retransmit      SYNs dropped: etcp_retransmit_skb reason=syn, and
 *                       data dropped on a connection: reason=rto
 *   states_time_wait    a whole connection and its close: every state
 *                       change of both sides in sock:inet_sock_set_state,
 *                       etcp_request_create, then TIME_WAIT made and ended
 *                       by its timer after 2 * etcp_msl (100 ms here)
 *   time_wait_restart   the peer's FIN again (our last ACK dropped):
 *                       etcp_time_wait_restart with flags FIN|ACK
 *   request_drop        SYN-ACKs dropped, backlog 1: a second SYN evicts
 *                       the first request (queue_full), and a request
 *                       whose SYN-ACKs go unanswered times out (timeout,
 *                       after etcp_retransmit_synack)
 *   orphan_reset        an orphaned FIN_WAIT_2 reset after etcp_fin_timeout
 *                       (fin_timeout), the peer receiving the RST; and
 *                       close() with SO_LINGER {1, 0} (linger_zero)
 *
 The program has a trace instance of its own (/sys/kernel/tracing/
 * instances/etcp-trace-PID), not the global buffer, and each test filters
 * its etcp:* events on the inode numbers of the test's two namespaces and
 * its inet_sock_set_state on protocol 253 and the test's port, so that
 * programs running side by side see none of each other's events.
 * Without tracefs, or without the events (a kernel without tracepoints),
 * the tests are skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define TRACEFS		"/sys/kernel/tracing"
/* Generous for TCG: what should take microseconds may take a second. */
#define WAIT_MS		5000
/* nft matches on the flags byte: exactly ACK, exactly SYN|ACK. */
#define PURE_ACK	"@th,104,8 == 0x10"
#define SYN_ACK		"@th,104,8 == 0x12"

ETCP_ENV_CHECK()

/* Write @fmt to @dir/@file; 0 or -errno. */
static int tr_write(const char *dir, const char *file, const char *fmt, ...)
{
	char path[256], buf[256];
	va_list ap;
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, strlen(buf));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Why tracefs cannot be used here, or NULL; mounts it if it is not. */
static const char *tracefs_unsupported(void)
{
	if (access(TRACEFS "/instances", F_OK) &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL))
		return "no tracefs at " TRACEFS " (kernel without tracing?)";
	if (access(TRACEFS "/events/etcp", F_OK))
		return "no etcp:* events in tracefs (etcp.ko built without tracepoints?)";
	if (access(TRACEFS "/events/sock/inet_sock_set_state", F_OK))
		return "no sock:inet_sock_set_state event in tracefs";
	return NULL;
}

/*
 * The program's trace instance, made and enabled once for all its tests
 * (each sets the filters on its own namespaces and port), because every
 * enabling and disabling patches code: the events' static branches, and
 * sched_switch's in __schedule() for the comm cache, unless record-cmd
 * is off, which it is while the program runs.  Under TCG a CPU has been
 * seen to run the int3 of such a patch after it was done (an oops in
 * __schedule()): the less patching, the fewer chances.
 */
static struct {
	char inst[128];		/* its directory, "" when none */
	const char *why;	/* why there is none */
	pid_t owner;		/* the process that made it */
	bool record_cmd;	/* options/record-cmd was on */
} tr;

/* Filters that let no event through, between tests. */
#define FILTER_NONE_ETCP	"netns == 0"
#define FILTER_NONE_STATE	"protocol == 0"

static void __attribute__((constructor)) tr_init(void)
{
	char buf[8] = "";
	int fd;

	tr.why = tracefs_unsupported();
	if (tr.why)
		return;
	fd = open(TRACEFS "/options/record-cmd", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			tr.record_cmd = buf[0] == '1';
		close(fd);
	}
	if (tr.record_cmd)
		tr_write(TRACEFS, "options/record-cmd", "0");
	snprintf(tr.inst, sizeof(tr.inst), TRACEFS "/instances/etcp-trace-%d",
		 getpid());
	if (mkdir(tr.inst, 0700)) {
		tr.why = "cannot make a trace instance";
		tr.inst[0] = '\0';
		return;
	}
	tr.owner = getpid();
	tr_write(tr.inst, "buffer_size_kb", "512");
	if (tr_write(tr.inst, "events/etcp/filter", FILTER_NONE_ETCP) ||
	    tr_write(tr.inst, "events/sock/inet_sock_set_state/filter",
		     FILTER_NONE_STATE) ||
	    tr_write(tr.inst, "events/etcp/enable", "1") ||
	    tr_write(tr.inst, "events/sock/inet_sock_set_state/enable", "1"))
		tr.why = "cannot filter and enable the events";
}

static void __attribute__((destructor)) tr_exit(void)
{
	if (!tr.inst[0] || tr.owner != getpid())
		return;
	tr_write(tr.inst, "events/etcp/enable", "0");
	tr_write(tr.inst, "events/sock/inet_sock_set_state/enable", "0");
	rmdir(tr.inst);
	if (tr.record_cmd)
		tr_write(TRACEFS, "options/record-cmd", "1");
}

/* The inode number of namespace @nsfd: the netns field of the events. */
static unsigned long ns_inum(int nsfd)
{
	struct stat st;

	return fstat(nsfd, &st) ? 0 : st.st_ino;
}

FIXTURE(trace) {
	struct etcp_netns ns;
	const char *inst;	/* tr.inst */
	unsigned long ino_a, ino_b;
	unsigned short port;	/* the listeners' */
	char *text;		/* the instance's trace, as last read */
};

FIXTURE_SETUP(trace)
{
	const char *why = env_unsupported;

	self->inst = tr.inst;
	self->text = NULL;
	if (!why)
		why = tr.why;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, etcp_netns_setup(&self->ns))
		TH_LOG("cannot set up the two network namespaces");
	ASSERT_EQ(0, etcp_netns_wait_carrier(&self->ns, WAIT_MS));
	self->ino_a = ns_inum(self->ns.a);
	self->ino_b = ns_inum(self->ns.b);
	ASSERT_NE(0, self->ino_a);
	ASSERT_NE(0, self->ino_b);
	/* A port of this process's: other programs' listeners use others. */
	self->port = 20000 + getpid() % 20000;

	/* The previous test's events go (O_TRUNC empties the buffer). */
	ASSERT_EQ(0, tr_write(self->inst, "trace", ""));
	ASSERT_EQ(0, tr_write(self->inst, "events/etcp/filter",
			      "netns == %lu || netns == %lu", self->ino_a,
			      self->ino_b))
		TH_LOG("cannot filter the etcp events on netns");
	ASSERT_EQ(0, tr_write(self->inst,
			      "events/sock/inet_sock_set_state/filter",
			      "protocol == %d && (sport == %u || dport == %u)",
			      IPPROTO_ETCP, self->port, self->port));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->inst[0]) {
		tr_write(self->inst, "events/etcp/filter", FILTER_NONE_ETCP);
		tr_write(self->inst, "events/sock/inet_sock_set_state/filter",
			 FILTER_NONE_STATE);
	}
	free(self->text);
	etcp_netns_teardown(&self->ns);
}

/* Read the instance's whole trace into self->text: 0 or -errno. */
static int trace_read(FIXTURE_DATA(trace) *self)
{
	size_t size = 1 << 16, len = 0;
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", self->inst);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	free(self->text);
	self->text = malloc(size);
	while (self->text) {
		n = read(fd, self->text + len, size - len - 1);
		if (n <= 0)
			break;
		len += n;
		if (size - len < 4096)
			self->text = realloc(self->text, size *= 2);
	}
	close(fd);
	if (!self->text)
		return -ENOMEM;
	self->text[len] = '\0';
	return 0;
}

/* Does @line hold @tok as a whole word ("key=value")? */
static bool has_token(const char *line, size_t len, const char *tok)
{
	size_t tl = strlen(tok);
	const char *p = line, *end = line + len;

	while ((p = memmem(p, end - p, tok, tl))) {
		if ((p == line || p[-1] == ' ') &&
		    (p + tl == end || p[tl] == ' '))
			return true;
		p++;
	}
	return false;
}

/*
 * The first line after offset *@from of self->text of event @event (a
 * name like "etcp_send_reset") with every token of the NULL-terminated
 * list: its offset, *@from moved past it; -1 if none.
 */
static long find_event_v(FIXTURE_DATA(trace) *self, long *from,
			 const char *event, va_list ap)
{
	char name[96];
	const char *line = self->text + *from;

	snprintf(name, sizeof(name), " %s: ", event);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		bool ok = memmem(line, len, name, strlen(name));
		const char *tok;
		va_list aq;

		va_copy(aq, ap);
		while (ok && (tok = va_arg(aq, const char *)))
			ok = has_token(line, len, tok);
		va_end(aq);
		if (ok) {
			*from = line + len - self->text;
			return line - self->text;
		}
		line += len + (nl != NULL);
	}
	return -1;
}

/*
 * Wait up to @ms for a line of @event with the tokens that follow (a
 * NULL-terminated list) to be in the trace: its offset, or -1.
 */
static long wait_event_line(FIXTURE_DATA(trace) *self, int ms,
			    const char *event, ...)
{
	int64_t end = now_ms() + ms;
	long from, at;
	va_list ap;

	do {
		if (trace_read(self))
			return -1;
		from = 0;
		va_start(ap, event);
		at = find_event_v(self, &from, event, ap);
		va_end(ap);
		if (at >= 0)
			return at;
		pause_ms(50);
	} while (now_ms() < end);
	return -1;
}

/* The event's line at @at, for a message. */
static const char *line_at(FIXTURE_DATA(trace) *self, long at, char *buf,
			   size_t size)
{
	const char *l = self->text + at, *nl = strchr(l, '\n');
	int len = nl ? (int)(nl - l) : (int)strlen(l);

	snprintf(buf, size, "%.*s", len, l);
	return buf;
}

#define EXPECT_EVENT(ms, ...)						\
	do {								\
		long at_ = wait_event_line(self, ms, __VA_ARGS__, NULL);	\
									\
		EXPECT_LE(0, at_) TH_LOG("no such line in the trace: %s "	\
					 "(in %d ms); the trace:\n%s",	\
					 #__VA_ARGS__, ms,		\
					 self->text ? self->text : "");	\
	} while (0)

/* "key=value" tokens, in a small rotating pool of buffers. */
static const char *tok(const char *fmt, ...)
{
	static char pool[16][96];
	static int next;
	char *b = pool[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(pool[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* A connection from a to b's listener @lfd: client *@c, server *@s. */
static void open_pair(struct __test_metadata *_metadata,
		      FIXTURE_DATA(trace) *self, int lfd, int *c, int *s)
{
	*c = ns_socket(self->ns.a, AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		       IPPROTO_ETCP);
	ASSERT_LE(0, *c);
	ASSERT_EQ(0, connect_to(*c, ETCP_NS_ADDR_B, self->port));
	*s = accept_wait(lfd, WAIT_MS);
	ASSERT_LE(0, *s);
}

/*
 * The next sock:inet_sock_set_state line after *@from of the socket with
 * ports @sport and @dport (@or_unbound: or sport 0, which a connect()
 * has before it picks its port): its offset, *@from moved past it; -1 if
 * none.
 */
static long next_state_line(FIXTURE_DATA(trace) *self, long *from,
			    unsigned short sport, unsigned short dport,
			    bool or_unbound)
{
	const char *l = self->text + *from;
	char sp[16], dp[16];

	snprintf(sp, sizeof(sp), "sport=%u", sport);
	snprintf(dp, sizeof(dp), "dport=%u", dport);
	while (*l) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (memmem(l, len, " inet_sock_set_state: ", 22) &&
		    (has_token(l, len, sp) ||
		     (or_unbound && has_token(l, len, "sport=0"))) &&
		    has_token(l, len, dp)) {
			*from = l + len - self->text;
			return l - self->text;
		}
		l += len + (nl != NULL);
	}
	return -1;
}

/*
 * Every state change, in order, of the socket with ports @sport and @dport
 * in sock:inet_sock_set_state (self->text): @states is "OLD>NEW ...",
 * the states as the event names them without "TCP_".  A client's first,
 * to SYN_SENT, comes before connect() picks its port (@client), as TCP's.
 */
static void expect_states(struct __test_metadata *_metadata,
			  FIXTURE_DATA(trace) *self, unsigned short sport,
			  unsigned short dport, bool client, const char *states)
{
	char got[512] = "", line[512];
	long from = 0, at;

	while ((at = next_state_line(self, &from, sport, dport, client)) >= 0) {
		const char *o, *n;
		size_t used = strlen(got);

		line_at(self, at, line, sizeof(line));
		o = strstr(line, "oldstate=TCP_");
		n = strstr(line, "newstate=TCP_");
		if (!o || !n)
			continue;
		o += strlen("oldstate=TCP_");
		n += strlen("newstate=TCP_");
		snprintf(got + used, sizeof(got) - used, "%s%.*s>%.*s",
			 used ? " " : "", (int)strcspn(o, " "), o,
			 (int)strcspn(n, " "), n);
	}
	EXPECT_STREQ(states, got) TH_LOG("state changes of %u -> %u", sport,
					 dport);
}

/* b's listener on the test's port, with @backlog: its fd. */
static int listen_b(struct __test_metadata *_metadata,
		    FIXTURE_DATA(trace) *self, int backlog)
{
	int lfd = listen_on(self->ns.b, IPPROTO_ETCP, ETCP_NS_ADDR_B,
			    self->port, backlog);

	ASSERT_LE(0, lfd);
	return lfd;
}

/* A client in a whose connect() to b is under way: its fd, *@cport. */
static int connecting(struct __test_metadata *_metadata,
		      FIXTURE_DATA(trace) *self, unsigned short *cport)
{
	int c = ns_socket(self->ns.a, AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
			  IPPROTO_ETCP);

	ASSERT_LE(0, c);
	ASSERT_EQ(0, set_nonblock(c, true));
	EXPECT_EQ(-EINPROGRESS, connect_to(c, ETCP_NS_ADDR_B, self->port));
	*cport = local_port(c);
	return c;
}

/*
 * A connection to b's listener @lfd whose client closed first and is in
 * FIN_WAIT_2: the server's fd, the client's port in *@cport.
 */
static int client_closed(struct __test_metadata *_metadata,
			 FIXTURE_DATA(trace) *self, int lfd,
			 unsigned short *cport)
{
	int c, s;

	open_pair(_metadata, self, lfd, &c, &s);
	*cport = local_port(c);
	ASSERT_EQ(0, close(c));
	ASSERT_EQ(0, wait_row_state(self->ns.a, IPPROTO_ETCP, *cport,
				    self->port, ETCP_FIN_WAIT2, WAIT_MS));
	return s;
}

TEST_F(trace, rst_closed_port)
{
	unsigned short cport;
	int c;

	c = ns_socket(self->ns.a, AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		      IPPROTO_ETCP);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ECONNREFUSED, connect_to(c, ETCP_NS_ADDR_B, self->port));
	cport = local_port(c);
	ASSERT_NE(0, cport);

	EXPECT_EVENT(WAIT_MS, "etcp_send_reset",
		     tok("netns=%lu", self->ino_b), "family=AF_INET",
		     tok("sport=%u", self->port), tok("dport=%u", cport),
		     "saddr=" ETCP_NS_ADDR_B, "daddr=" ETCP_NS_ADDR_A,
		     "saddrv6=::ffff:" ETCP_NS_ADDR_B, "state=NONE");
	EXPECT_EVENT(WAIT_MS, "etcp_receive_reset",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "state=TCP_SYN_SENT");
	close(c);
	/* connect() fails and disconnects a socket already CLOSE: no change. */
	ASSERT_EQ(0, trace_read(self));
	expect_states(_metadata, self, cport, self->port, true,
		      "CLOSE>SYN_SENT SYN_SENT>CLOSE");

	/* Over IPv6: family AF_INET6, the addresses in the IPv6 fields. */
	c = ns_socket(self->ns.a, AF_INET6, SOCK_STREAM | SOCK_CLOEXEC,
		      IPPROTO_ETCP);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ECONNREFUSED, connect_to(c, ETCP_NS_ADDR6_B, self->port));
	cport = local_port(c);
	EXPECT_EVENT(WAIT_MS, "etcp_send_reset",
		     tok("netns=%lu", self->ino_b), "family=AF_INET6",
		     tok("sport=%u", self->port), tok("dport=%u", cport),
		     "saddr=0.0.0.0", "daddr=0.0.0.0",
		     "saddrv6=" ETCP_NS_ADDR6_B, "daddrv6=" ETCP_NS_ADDR6_A,
		     "state=NONE");
	EXPECT_EVENT(WAIT_MS, "etcp_receive_reset",
		     tok("netns=%lu", self->ino_a), "family=AF_INET6",
		     tok("sport=%u", cport), tok("dport=%u", self->port),
		     "saddrv6=" ETCP_NS_ADDR6_A, "state=TCP_SYN_SENT");
	close(c);
}

TEST_F_TIMEOUT(trace, syn_retransmit, 90)
{
	unsigned short cport;
	char buf[1000];
	int lfd, c, s;

	/* Every segment to b is lost: the SYN goes again after 1 s. */
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", ""));
	c = connecting(_metadata, self, &cport);
	EXPECT_EVENT(WAIT_MS, "etcp_retransmit_skb",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "state=TCP_SYN_SENT",
		     "len=0", "retransmits=1", "reason=syn");
	close(c);
	ASSERT_EQ(0, ns_nft_flush(self->ns.b));

	/* Data lost on a connection: the retransmission timeout resends it. */
	lfd = listen_b(_metadata, self, 4);
	open_pair(_metadata, self, lfd, &c, &s);
	cport = local_port(c);
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", ""));
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(0, send_all(c, buf, sizeof(buf)));
	EXPECT_EVENT(WAIT_MS, "etcp_retransmit_skb",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "state=TCP_ESTABLISHED",
		     "len=1000", "retransmits=1", "reason=rto");
	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	EXPECT_EQ(0, recv_exact(s, buf, sizeof(buf), WAIT_MS));
	close_fds(&c, &s, &lfd, NULL);
}

TEST_F(trace, states_time_wait)
{
	unsigned short cport;
	int lfd, s;

	/* TIME_WAIT in a lasts 2 * 100 ms. */
	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "msl", 100));
	lfd = listen_b(_metadata, self, 4);
	/* The client closes first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT. */
	s = client_closed(_metadata, self, lfd, &cport);
	EXPECT_EVENT(WAIT_MS, "etcp_request_create",
		     tok("netns=%lu", self->ino_b), tok("sport=%u", self->port),
		     tok("dport=%u", cport), "retransmits=0");
	ASSERT_EQ(0, close(s));
	EXPECT_EVENT(WAIT_MS, "etcp_time_wait_create",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "timeout_ms=200",
		     "oldstate=TCP_FIN_WAIT2");
	EXPECT_EVENT(WAIT_MS, "etcp_time_wait_end",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "reason=timer");
	/* The server's LAST_ACK ends with the ACK, before the entry does. */
	ASSERT_EQ(0, wait_row_state(self->ns.b, IPPROTO_ETCP, self->port,
				    cport, 0, WAIT_MS));
	close(lfd);
	ASSERT_EQ(0, trace_read(self));

	expect_states(_metadata, self, cport, self->port, true,
		      "CLOSE>SYN_SENT SYN_SENT>ESTABLISHED "
		      "ESTABLISHED>FIN_WAIT1 FIN_WAIT1>FIN_WAIT2 "
		      "FIN_WAIT2>CLOSE");
	expect_states(_metadata, self, self->port, cport, false,
		      "LISTEN>SYN_RECV SYN_RECV>ESTABLISHED "
		      "ESTABLISHED>CLOSE_WAIT CLOSE_WAIT>LAST_ACK "
		      "LAST_ACK>CLOSE");
	expect_states(_metadata, self, self->port, 0, false,
		      "CLOSE>LISTEN LISTEN>CLOSE");
}

TEST_F_TIMEOUT(trace, time_wait_restart, 60)
{
	unsigned short cport;
	int lfd, s;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP, "msl", 5000));
	lfd = listen_b(_metadata, self, 4);
	s = client_closed(_metadata, self, lfd, &cport);
	/* The last ACK is lost: the server sends its FIN again. */
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", PURE_ACK));
	ASSERT_EQ(0, close(s));
	EXPECT_EVENT(WAIT_MS, "etcp_time_wait_create",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     "timeout_ms=10000");
	EXPECT_EVENT(WAIT_MS, "etcp_time_wait_restart",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "flags=FIN|ACK");
	ASSERT_EQ(0, ns_nft_flush(self->ns.b));
	close(lfd);
}

TEST_F_TIMEOUT(trace, request_drop, 90)
{
	unsigned short c1port, c2port;
	int lfd, c1, c2;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.b, IPPROTO_ETCP,
				      "synack_retries", 1));
	/* The SYN-ACKs never arrive: the requests stay requests. */
	ASSERT_EQ(0, ns_nft_drop(self->ns.a, IPPROTO_ETCP, "input", SYN_ACK));
	lfd = listen_b(_metadata, self, 1);

	c1 = connecting(_metadata, self, &c1port);
	EXPECT_EVENT(WAIT_MS, "etcp_request_create",
		     tok("netns=%lu", self->ino_b), tok("dport=%u", c1port));

	/* A second SYN, with the SYN queue full (backlog 1). */
	c2 = connecting(_metadata, self, &c2port);
	EXPECT_EVENT(WAIT_MS, "etcp_request_drop",
		     tok("netns=%lu", self->ino_b), tok("sport=%u", self->port),
		     tok("dport=%u", c1port), "reason=queue_full");
	/* c1 stops trying: c2's request lives on its own, 1 + 2 s. */
	close(c1);
	EXPECT_EVENT(WAIT_MS, "etcp_retransmit_synack",
		     tok("netns=%lu", self->ino_b), tok("dport=%u", c2port),
		     "retransmits=1");
	EXPECT_EVENT(3 * WAIT_MS, "etcp_request_drop",
		     tok("netns=%lu", self->ino_b), tok("dport=%u", c2port),
		     "retransmits=1", "reason=timeout");
	close(c2);
	close(lfd);
}

TEST_F_TIMEOUT(trace, orphan_reset, 60)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned short cport;
	int lfd, c, s;

	ASSERT_EQ(0, proto_sysctl_set(self->ns.a, IPPROTO_ETCP,
				      "fin_timeout", 1));
	lfd = listen_b(_metadata, self, 4);

	/* The server never closes: the client's orphan waits in FIN_WAIT_2. */
	open_pair(_metadata, self, lfd, &c, &s);
	cport = local_port(c);
	ASSERT_EQ(0, close(c));
	EXPECT_EVENT(WAIT_MS, "etcp_orphan_reset",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     tok("dport=%u", self->port), "state=TCP_FIN_WAIT2",
		     "reason=fin_timeout");
	EXPECT_EVENT(WAIT_MS, "etcp_send_reset",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     "state=TCP_FIN_WAIT2");
	EXPECT_EVENT(WAIT_MS, "etcp_receive_reset",
		     tok("netns=%lu", self->ino_b), tok("dport=%u", cport),
		     "state=TCP_CLOSE_WAIT");
	close(s);

	/* SO_LINGER {1, 0}: the abortive close. */
	open_pair(_metadata, self, lfd, &c, &s);
	cport = local_port(c);
	ASSERT_EQ(0, setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	ASSERT_EQ(0, close(c));
	EXPECT_EVENT(WAIT_MS, "etcp_orphan_reset",
		     tok("netns=%lu", self->ino_a), tok("sport=%u", cport),
		     "state=TCP_ESTABLISHED", "reason=linger_zero");
	EXPECT_EVENT(WAIT_MS, "etcp_receive_reset",
		     tok("netns=%lu", self->ino_b), tok("dport=%u", cport),
		     "state=TCP_ESTABLISHED");
	close(s);
	close(lfd);
}

TEST_HARNESS_MAIN
