// SPDX-License-Identifier: GPL-2.0
/*
 * etcp_bench: etcp's speed next to kernel TCP's, in the test VM.
 *
 *   etcp_bench [-p PROTO]... [-t SECONDS] [-m MIB] [-S] [-T TW] [-E EST]
 *              [TEST]...
 *
 *   netns etcp-a-<pid>: clients              netns etcp-b-<pid>: servers
 *   ea  10.0.1.1/24 ------------- veth ------------- 10.0.1.2/24  eb
 *
 * Six measurements (TEST names them; default: all), each over every
 * protocol given with -p (default: 6, then 253), the protocols taking
 * turns test by test so that whatever else the machine does falls on both
 * alike:
 *
 *   bulk  one way a -> b, 64 KiB writes, for SECONDS (default 3) or MIB
 *         (default 256) MiB, whichever comes first: Mbit/s from the first
 *         write to the last byte read.
 *   bulk_win64k
 *         bulk with TCP's receive window clamped to 65535 bytes
 *         (TCP_WINDOW_CLAMP on the listener, which the accepted socket
 *         inherits: it then offers window scale 0, checked with TCP_INFO),
 *         the most any window can be without window scaling.  etcp runs
 *         as it is (scaled, at most half its SO_RCVBUF: its buffer does
 *         not grow).  A diagnostic: what TCP's grown window is worth.
 *   bulk_delay, bulk_loss
 *         bulk with netem "delay 5ms", then "delay 5ms loss 1%", on ea's
 *         egress: the data (a -> b) is delayed and lost there, the ACKs
 *         are not, so the round trip is 5 ms.  netem takes a GSO
 *         super-segment whole, so a loss takes all of its segments.  The
 *         sender stops writing after SECONDS and the measurement ends when
 *         the last byte is read, which with loss can be well after; the
 *         detail says how long it took and what netem dropped.
 *   rr    1-byte request, 1-byte reply, TCP_NODELAY / ETCP_NODELAY on both
 *         ends, one transaction at a time for SECONDS: transactions/s.
 *   crr   connect, accept, close, one connection at a time for SECONDS:
 *         connections/s.  The server closes first, with SO_LINGER {1, 0}
 *         (an RST, as etcp's close() is until it has a FIN), and the client
 *         closes once it has seen the reset, so neither end keeps a
 *         TIME_WAIT and TCP and etcp do the same work.
 *   scale (only when named: it takes minutes) crr and rr with empty
 *         tables, then with EST (default 10000) connections established
 *         and TW (default 100000) TIME_WAIT entries, which the clients
 *         hold (netns a, whose ports connect() searches), present: lines
 *         scale_crr_empty, scale_rr_empty, scale_tw (the TIME_WAIT
 *         entries in the slab when full: TCP's expire after 60 s, so a
 *         slow fill leaves fewer; etcp's MSL is raised so that all of
 *         its stay), scale_crr_full, scale_rr_full.  Each protocol in a
 *         child process with namespaces of its own.
 *
 * The client is the main thread, the server a thread of its own.  For rr
 * and crr both are pinned to one CPU (-S: not): under TCG, waking a thread
 * on the other vCPU waits for the host to run that vCPU's thread, which on
 * a busy host takes milliseconds and would hide the protocols' own cost
 * (measured: 300-400 transactions/s spread, 6000-8000 pinned).  Bulk uses
 * both CPUs.  Both protocols run with their defaults (TCP's timestamps,
 * SACK, GSO over the veth pair included).
 *
 * A bulk sender waits for SIOCOUTQ to reach 0 before it closes, and the
 * receiver is told the byte count (both run in this process; the sender
 * publishes its total when it stops writing): the measurement ends when
 * the last byte is acknowledged, not when a FIN or an RST arrives.
 * Every socket is closed with SO_LINGER {1, 0}, for TCP and etcp alike,
 * but those that scale closes into TIME_WAIT.
 *
 * One line per result on stdout, for scripts/bench.sh:
 *
 *   TEST PROTO VALUE UNIT # detail          e.g. "rr tcp 6954.1 trans/s # ..."
 *   TEST PROTO FAIL - # reason
 *
 * and comments starting with "#", among them the etcp_stat counters of
 * either namespace that moved during an etcp measurement, other than those
 * every run moves (e.g. "# crr etcp, etcp_stat of netns a: SynRetrans +2").
 * Timing is all this program does: it checks no data and is not a
 * pass/fail test, but it fails (exit 1) when a measurement could not be
 * taken (a connection that moved nothing for STALL_MS, a call that
 * failed, a TCP window that was not clamped).  Bulk's stall checks look at
 * progress, not at a deadline: a lossy path that recovers slowly, but
 * recovers, is measured, however slow.
 * Exit 2: usage; 4: cannot run here (not root).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_netns.h"
#include "etcp_util.h"

#define BENCH_PORT	6000	/* the first listener; each takes the next */
#define BENCH_SECONDS	3
#define BENCH_MIB	256
#define MAX_PROTOS	4
#define CHUNK		(64 * 1024)	/* bulk write size */
#define RCV_CHUNK	(256 * 1024)	/* bulk read size */
/* A connection that moved nothing for this long has stalled. */
#define STALL_MS	5000
/* Servers wake up this often to see whether the client gave up. */
#define TICK_MS		100
/* How often the loops read the clock (every Nth transaction). */
#define CLOCK_EVERY	8
#define MIB		(1024ULL * 1024)
#define RR_QUIT		'q'	/* the last request: reply, then stop */
#define WIN64K		65535	/* the largest window without window scaling */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum bench_test {
	BULK, BULK_WIN64K, BULK_DELAY, BULK_LOSS, RR, CRR,
	SCALE,		/* only when named: it takes minutes */
	NR_TESTS
};

static const char *const test_names[NR_TESTS] = {
	[BULK] = "bulk",
	[BULK_WIN64K] = "bulk_win64k",
	[BULK_DELAY] = "bulk_delay",
	[BULK_LOSS] = "bulk_loss",
	[RR] = "rr",
	[CRR] = "crr",
	[SCALE] = "scale",
};

/* netem's arguments on ea's root qdisc during a test, or NULL. */
static const char *const test_netem[NR_TESTS] = {
	[BULK_DELAY] = "delay 5ms",
	[BULK_LOSS] = "delay 5ms loss 1%",
};

static bool is_bulk(enum bench_test test)
{
	return test == BULK || test == BULK_WIN64K || test == BULK_DELAY ||
	       test == BULK_LOSS;
}

struct bench_cfg {
	int protos[MAX_PROTOS];
	int nr_protos;
	int seconds;
	unsigned long long max_bytes;
	int scale_tw;			/* scale: TIME_WAIT entries to make */
	int scale_est;			/* scale: connections to hold open */
	bool spread;			/* -S: rr and crr on any CPU */
	bool run[NR_TESTS];
};

/*
 * What the client (the main thread, in netns a) and the server thread of
 * one measurement share.  The first failure of either is in err and why;
 * the server's fields are the client's to read once it has been joined.
 */
struct bench_ctx {
	int proto;
	bool clamp;			/* TCP: receive window <= WIN64K */
	int lfd;			/* listener, in netns b */
	int cfd;			/* bulk: the client's, closed last */
	long deadline_ms;		/* servers give up after this */
	atomic_bool stop;		/* the client is done (or failed) */
	/* bulk */
	atomic_ullong total;		/* bytes sent, ~0 until known */
	double t0;			/* s, when the first byte was written */
	unsigned long long received;
	double t_last;			/* s, when the last byte was read */
	char note[64];			/* the server's part of the detail */
	pthread_mutex_t lock;		/* for err and why */
	int err;			/* the first failure's errno, or 0 */
	char why[160];
};

static int next_port = BENCH_PORT;

/* ------------------------------------------------------------ helpers */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Record the first failure of @ctx's client or server; returns -1. */
static int __attribute__((format(printf, 3, 4)))
fail(struct bench_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ctx->lock);
	if (!ctx->err) {
		ctx->err = err ? err : EPROTO;
		va_start(ap, fmt);
		vsnprintf(ctx->why, sizeof(ctx->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&ctx->lock);
	return -1;
}

/* SO_LINGER {1, 0}: close() resets the connection, no TIME_WAIT. */
static int set_abort_on_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static int set_nodelay(int fd, int proto)
{
	if (proto == IPPROTO_TCP)
		return sockopt_set(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	return sockopt_set(fd, SOL_ETCP, ETCP_NODELAY, 1);
}

/*
 * A listener on 10.0.1.2:@port in netns b, made by this thread, which
 * lives in netns a (ns_socket() would return to the netns this thread
 * started in); @clamp (TCP only): its connections' receive window at most
 * WIN64K.  fd or -errno.
 */
static int bench_listener(const struct etcp_netns *ns, int proto,
			  unsigned short port, bool clamp)
{
	struct sockaddr_in sin = sin_of(ETCP_NS_ADDR_B, port);
	int fd, err;

	if (setns(ns->b, CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
	err = errno;
	if (setns(ns->a, CLONE_NEWNET)) {
		/* Never go on in the wrong netns. */
		perror("etcp_bench: setns back to netns a");
		exit(1);
	}
	if (fd < 0)
		return -err;
	/* Before listen(): the SYN-ACK's window scale comes from the clamp. */
	if (sockopt_set(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    (clamp && sockopt_set(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, WIN64K)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 128) ||
	    set_timeo(fd, SO_RCVTIMEO, TICK_MS)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A client socket connected to 10.0.1.2:@port, created in the calling
 * thread's netns (a).  fd, or -1 with errno set.
 */
static int bench_connect(int proto, unsigned short port)
{
	struct sockaddr_in sin = sin_of(ETCP_NS_ADDR_B, port);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -1;
	/* SO_SNDTIMEO bounds connect() and send(), SO_RCVTIMEO recv(). */
	if (set_abort_on_close(fd) || set_timeo(fd, SO_SNDTIMEO, STALL_MS) ||
	    set_timeo(fd, SO_RCVTIMEO, STALL_MS) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/*
 * accept() on @ctx's listener, waking every TICK_MS to see whether the
 * client stopped: fd, or -1 (with ctx->err set unless the client stopped).
 */
static int bench_accept(struct bench_ctx *ctx)
{
	int fd;

	for (;;) {
		fd = accept4(ctx->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return fail(ctx, errno, "accept: %s", strerror(errno));
		if (atomic_load(&ctx->stop))
			return -1;
		if (now_ms() > ctx->deadline_ms)
			return fail(ctx, ETIMEDOUT, "no connection to accept");
	}
}

/* ------------------------------------------------------------ bulk */

/*
 * The accepted TCP connection @fd of bulk_win64k: does its receive window
 * really stay within WIN64K?  It does when it offers window scale 0: the
 * 16-bit window field is then all there is, whatever window_clamp
 * becomes (6.12's receive buffer autotuning raises it past the value set
 * on the listener, even before accept() returns).  0, or -1 after fail().
 */
static int check_win64k(struct bench_ctx *ctx, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int clamp;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return fail(ctx, errno, "TCP_INFO: %s", strerror(errno));
	clamp = sockopt_get(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP);
	if (ti.tcpi_rcv_wscale)
		return fail(ctx, EPROTO, "window not clamped: rcv_wscale %u",
			    ti.tcpi_rcv_wscale);
	snprintf(ctx->note, sizeof(ctx->note),
		 ", receiver: rcv_wscale 0 (window_clamp %d)", clamp);
	return 0;
}

static void *bulk_server(void *arg)
{
	struct timespec pause = { .tv_nsec = 1000 * 1000 };
	struct bench_ctx *ctx = arg;
	long last;		/* ms, when a byte was last read */
	char *buf;
	ssize_t n;
	int fd;

	buf = malloc(RCV_CHUNK);
	if (!buf) {
		fail(ctx, ENOMEM, "out of memory");
		return NULL;
	}
	fd = bench_accept(ctx);
	if (fd < 0)
		goto out;
	if (set_timeo(fd, SO_RCVTIMEO, TICK_MS)) {
		fail(ctx, errno, "SO_RCVTIMEO: %s", strerror(errno));
		goto out;
	}
	if (ctx->clamp && check_win64k(ctx, fd))
		goto out;
	last = now_ms();
	while (ctx->received < atomic_load(&ctx->total)) {
		n = recv(fd, buf, RCV_CHUNK, 0);
		if (n > 0) {
			ctx->received += n;
			ctx->t_last = now_s();
			last = now_ms();
			continue;
		}
		if (n == 0) {
			fail(ctx, EPIPE, "end of stream after %llu bytes",
			     ctx->received);
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			fail(ctx, errno, "recv after %llu bytes: %s",
			     ctx->received, strerror(errno));
			break;
		}
		if (now_ms() - last > STALL_MS) {
			fail(ctx, ETIMEDOUT, "%llu bytes read, then nothing for %d ms",
			     ctx->received, STALL_MS);
			break;
		}
	}
	/*
	 * Our RST must not overtake the ACK of the last bytes: the sender
	 * waits for SIOCOUTQ to reach 0, then says so (stop).
	 */
	while (!atomic_load(&ctx->stop) && now_ms() - last < 2 * STALL_MS)
		nanosleep(&pause, NULL);
out:
	close_abort(fd);
	free(buf);
	return NULL;
}

/*
 * Poll SIOCOUTQ until everything sent is acknowledged: 0, or -errno
 * (-ETIMEDOUT when nothing more was acknowledged for @stall_ms).
 */
static int wait_outq_empty(int fd, int stall_ms)
{
	struct timespec pause = { .tv_nsec = 1000 * 1000 };
	long deadline = now_ms() + stall_ms;
	int outq, least = INT_MAX;

	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &outq))
			return -errno;
		if (!outq)
			return 0;
		if (outq < least) {
			least = outq;
			deadline = now_ms() + stall_ms;
		}
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

/*
 * Write for cfg->seconds or cfg->max_bytes (ctx->t0 is when it started),
 * then wait until all is acknowledged.  The socket is left in ctx->cfd:
 * it is closed when the reader has read everything.
 */
static int bulk_client(struct bench_ctx *ctx, const struct bench_cfg *cfg,
		       unsigned short port)
{
	unsigned long long sent = 0;
	double t = 0;
	char *buf;
	ssize_t n;
	int fd, ret = -1;

	buf = malloc(CHUNK);
	if (!buf)
		return fail(ctx, ENOMEM, "out of memory");
	memset(buf, 0x5a, CHUNK);
	fd = bench_connect(ctx->proto, port);
	if (fd < 0) {
		fail(ctx, errno, "connect: %s", strerror(errno));
		goto out;
	}
	ctx->cfd = fd;
	ctx->t0 = now_s();
	do {
		n = send(fd, buf, CHUNK, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(ctx, errno, "send after %llu bytes: %s", sent,
			     errno == EAGAIN ? "stalled" : strerror(errno));
			goto out;
		}
		sent += n;
		t = now_s() - ctx->t0;
	} while (t < cfg->seconds && sent < cfg->max_bytes);
	atomic_store(&ctx->total, sent);

	if (wait_outq_empty(fd, STALL_MS)) {
		fail(ctx, ETIMEDOUT, "SIOCOUTQ stopped falling before 0");
		goto out;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

/* ------------------------------------------------------------ rates */

/* One transaction of rr or crr, number @nr: 0, or -1 after fail(). */
typedef int bench_step_fn(struct bench_ctx *ctx, void *arg, unsigned long long nr);

/*
 * Run @step (with @arg) over and over for cfg->seconds: the transactions
 * a second in *@rate, how many in how long in @detail.  0, or -1 as soon
 * as a step fails.
 */
static int rate_of(struct bench_ctx *ctx, const struct bench_cfg *cfg, bench_step_fn *step,
		   void *arg, double *rate, char *detail, size_t dlen)
{
	unsigned long long count = 0;
	double t0 = now_s(), t = 0;

	for (;;) {
		if (step(ctx, arg, count))
			return -1;
		count++;
		if (count % CLOCK_EVERY)
			continue;
		t = now_s() - t0;
		if (t >= cfg->seconds)
			break;
	}
	*rate = count / t;
	snprintf(detail, dlen, "%llu in %.2f s", count, t);
	return 0;
}

/* ------------------------------------------------------------ rr */

static void *rr_server(void *arg)
{
	struct bench_ctx *ctx = arg;
	char c;
	ssize_t n;
	int fd;

	fd = bench_accept(ctx);
	if (fd < 0)
		return NULL;
	if (set_nodelay(fd, ctx->proto) || set_timeo(fd, SO_RCVTIMEO, TICK_MS)) {
		fail(ctx, errno, "setsockopt: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		n = recv(fd, &c, 1, 0);
		if (n == 1) {
			if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
				fail(ctx, errno, "send: %s", strerror(errno));
				break;
			}
			if (c == RR_QUIT)
				break;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			       errno != EINTR)) {
			if (!atomic_load(&ctx->stop))
				fail(ctx, n ? errno : EPIPE, "recv: %s",
				     n ? strerror(errno) : "end of stream");
			break;
		}
		if (atomic_load(&ctx->stop))
			break;
		if (now_ms() > ctx->deadline_ms) {
			fail(ctx, ETIMEDOUT, "no request");
			break;
		}
	}
out:
	close_abort(fd);
	return NULL;
}

/* One transaction: 0, or -1 with errno set. */
static int rr_once(int fd, char c)
{
	char r;
	ssize_t n;

	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
		return -1;
	do {
		n = recv(fd, &r, 1, 0);
	} while (n < 0 && errno == EINTR);
	if (n == 1 && r == c)
		return 0;
	if (n >= 0)
		errno = n ? EBADMSG : EPIPE;
	return -1;
}

/* rr's transaction @nr on the connection *@arg: 0, or -1 after fail(). */
static int rr_step(struct bench_ctx *ctx, void *arg, unsigned long long nr)
{
	if (!rr_once(*(int *)arg, 'r'))
		return 0;
	return fail(ctx, errno, "transaction %llu: %s", nr,
		    errno == EAGAIN ? "stalled" : strerror(errno));
}

static int rr_client(struct bench_ctx *ctx, const struct bench_cfg *cfg,
		     unsigned short port, double *rate, char *detail, size_t dlen)
{
	int fd, ret;

	fd = bench_connect(ctx->proto, port);
	if (fd < 0)
		return fail(ctx, errno, "connect: %s", strerror(errno));
	if (set_nodelay(fd, ctx->proto))
		ret = fail(ctx, errno, "NODELAY: %s", strerror(errno));
	else
		ret = rate_of(ctx, cfg, rr_step, &fd, rate, detail, dlen);
	if (!ret && rr_once(fd, RR_QUIT))
		ret = fail(ctx, errno, "last transaction: %s", strerror(errno));
	close_abort(fd);
	return ret;
}

/* ------------------------------------------------------------ crr */

static void *crr_server(void *arg)
{
	struct bench_ctx *ctx = arg;
	int fd;

	for (;;) {
		fd = bench_accept(ctx);
		if (fd < 0)
			return NULL;
		if (set_abort_on_close(fd)) {
			fail(ctx, errno, "SO_LINGER: %s", strerror(errno));
			close(fd);
			return NULL;
		}
		close(fd);
	}
}

/* crr's connection @nr to port *@arg: 0, or -1 after fail(). */
static int crr_step(struct bench_ctx *ctx, void *arg, unsigned long long nr)
{
	ssize_t n;
	char c;
	int fd;

	fd = bench_connect(ctx->proto, *(unsigned short *)arg);
	/*
	 * The server accepts and closes.  Its RST may come before
	 * connect() returns (this thread had not run since the SYN-ACK):
	 * connect() then fails with ECONNRESET, and that connection was
	 * made and closed like any other.
	 */
	if (fd < 0 && errno == ECONNRESET)
		return 0;
	if (fd < 0)
		return fail(ctx, errno, "connect %llu: %s", nr, strerror(errno));
	/* Wait for the RST. */
	n = recv(fd, &c, 1, 0);
	if (n != 0 && !(n < 0 && errno == ECONNRESET)) {
		if (n > 0)
			errno = EBADMSG;
		fail(ctx, errno, "connection %llu: %s instead of a reset",
		     nr, errno == EAGAIN ? "nothing" : strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int crr_client(struct bench_ctx *ctx, const struct bench_cfg *cfg,
		      unsigned short port, double *rate, char *detail, size_t dlen)
{
	return rate_of(ctx, cfg, crr_step, &port, rate, detail, dlen);
}

/* ------------------------------------------------------------ etcp_stat */

/*
 * /proc/net/etcp_stat of both namespaces, opened once from inside each
 * (a proc/net file stays bound to the netns it was opened in) and read
 * again around every etcp measurement.  What moved, other than the
 * counters every run moves, is printed as a comment: a measurement that
 * came out low says why (SynRetrans, RetransSegs, ...).
 */
#define STAT_MAX	64
#define STAT_NAME	24

struct etcp_stat {
	int n;
	char name[STAT_MAX][STAT_NAME];
	unsigned long long val[STAT_MAX];
};

static int stat_fd[2] = { -1, -1 };		/* netns a, netns b */

static const char *const stat_usual[] = {
	"InSegs", "OutSegs", "ActiveOpens", "PassiveOpens", "OutRsts",
	"EstabResets", "DelayedAcks",
};

/* Open /proc/net/etcp_stat in netns @nsfd from netns a; fd or -1. */
static int stat_open(const struct etcp_netns *ns, int nsfd)
{
	int fd;

	if (setns(nsfd, CLONE_NEWNET))
		return -1;
	fd = open("/proc/net/etcp_stat", O_RDONLY | O_CLOEXEC);
	if (setns(ns->a, CLONE_NEWNET)) {
		perror("etcp_bench: setns back to netns a");
		exit(1);
	}
	return fd;
}

static void stat_read(int fd, struct etcp_stat *st)
{
	char buf[4096], *line, *save = NULL;
	ssize_t len;

	st->n = 0;
	if (fd < 0 || lseek(fd, 0, SEEK_SET))
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	if (len <= 0)
		return;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && st->n < STAT_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%23s %llu", st->name[st->n], &st->val[st->n]) == 2)
			st->n++;
	}
}

static bool stat_is_usual(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stat_usual); i++)
		if (!strcmp(name, stat_usual[i]))
			return true;
	return false;
}

/* Print the unusual counters that moved from @old to @new. */
static void stat_print(const char *test, const char *side,
		       const struct etcp_stat *old, const struct etcp_stat *new)
{
	bool any = false;
	int i;

	for (i = 0; i < new->n && i < old->n; i++) {
		if (new->val[i] == old->val[i] || stat_is_usual(new->name[i]) ||
		    strcmp(new->name[i], old->name[i]))
			continue;
		if (!any)
			printf("# %s etcp, etcp_stat of netns %s:", test, side);
		printf(" %s +%llu", new->name[i], new->val[i] - old->val[i]);
		any = true;
	}
	if (any)
		printf("\n");
}

/* ------------------------------------------------------------ netem */

/* netem @args on ea's root qdisc (a -> b); 0 or -errno. */
static int netem_add(const struct etcp_netns *ns, const char *args)
{
	return etcp_run("tc -n %s qdisc add dev %s root netem %s", ns->name_a,
			ETCP_NS_IF_A, args);
}

static void netem_del(const struct etcp_netns *ns)
{
	etcp_run("tc -n %s qdisc del dev %s root", ns->name_a, ETCP_NS_IF_A);
}

/*
 * What netem on ea did: packets it passed on and skbs it dropped (a GSO
 * super-segment counts once), from "tc -s qdisc" ("Sent B bytes P pkt
 * (dropped D, ...").  0 or -1.
 */
static int netem_counts(const struct etcp_netns *ns, unsigned long long *pkts,
			unsigned long long *drops)
{
	char cmd[128], line[256];
	int ret = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tc -n %s -s qdisc show dev %s 2>/dev/null",
		 ns->name_a, ETCP_NS_IF_A);
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " Sent %*s bytes %llu pkt (dropped %llu",
			   pkts, drops) == 2)
			ret = 0;
	pclose(p);
	return ret;
}

/* ------------------------------------------------------------ driver */

/*
 * One measurement of @test over @proto: listener in netns b, server
 * thread, client in this thread (netns a).  Prints the result line, named
 * @label (NULL: the test's name); returns 0, or -1 when it could not be
 * taken.
 */
static int bench_one(const struct etcp_netns *ns, const struct bench_cfg *cfg,
		     enum bench_test test, int proto, const char *label)
{
	static void *(*const servers[NR_TESTS])(void *) = {
		[BULK] = bulk_server, [BULK_WIN64K] = bulk_server,
		[BULK_DELAY] = bulk_server, [BULK_LOSS] = bulk_server,
		[RR] = rr_server, [CRR] = crr_server,
	};
	unsigned short port = next_port++;
	struct etcp_stat before[2], after[2];
	struct bench_ctx ctx = {
		.proto = proto,
		.clamp = test == BULK_WIN64K && proto == IPPROTO_TCP,
		.lfd = -1,
		.cfd = -1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	unsigned long long pkts, drops;
	bool netem = false;
	char detail[256] = "";
	double value = 0;
	const char *unit = "";
	bool pinned = false;
	cpu_set_t saved, one;
	pthread_t thr;
	int ret, err;

	if (!label)
		label = test_names[test];
	/* The server thread inherits this thread's CPU. */
	if (!is_bulk(test) && !cfg->spread &&
	    !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved)) {
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		pinned = !pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	}
	stat_read(stat_fd[0], &before[0]);
	stat_read(stat_fd[1], &before[1]);
	atomic_init(&ctx.stop, false);
	atomic_init(&ctx.total, ~0ULL);
	ctx.deadline_ms = now_ms() + (cfg->seconds * 1000L) + 2 * STALL_MS;

	if (test_netem[test]) {
		err = netem_add(ns, test_netem[test]);
		if (err) {
			fail(&ctx, -err, "tc qdisc add ... netem %s failed",
			     test_netem[test]);
			goto print;
		}
		netem = true;
	}
	ctx.lfd = bench_listener(ns, proto, port, ctx.clamp);
	if (ctx.lfd < 0) {
		fail(&ctx, -ctx.lfd, "listener on port %u: %s", port,
		     strerror(-ctx.lfd));
		goto print;
	}
	err = pthread_create(&thr, NULL, servers[test], &ctx);
	if (err) {
		fail(&ctx, err, "pthread_create: %s", strerror(err));
		goto print;
	}

	switch (test) {
	case BULK:
	case BULK_WIN64K:
	case BULK_DELAY:
	case BULK_LOSS:
		unit = "Mbit/s";
		ret = bulk_client(&ctx, cfg, port);
		break;
	case RR:
		unit = "trans/s";
		ret = rr_client(&ctx, cfg, port, &value, detail, sizeof(detail));
		break;
	default:
		unit = "conn/s";
		ret = crr_client(&ctx, cfg, port, &value, detail, sizeof(detail));
		break;
	}
	atomic_store(&ctx.stop, true);
	if (ret)	/* wake a bulk reader that waits for more */
		atomic_store(&ctx.total, 0);
	pthread_join(thr, NULL);
	close_abort(ctx.cfd);

	if (!ctx.err && is_bulk(test)) {
		/* received and t_last are the joined server's. */
		unsigned long long total = atomic_load(&ctx.total);
		double secs = ctx.t_last - ctx.t0;

		if (ctx.received != total || secs <= 0) {
			fail(&ctx, EPROTO, "read %llu of %llu bytes",
			     ctx.received, total);
		} else {
			value = total * 8 / secs / 1e6;
			snprintf(detail, sizeof(detail), "%.1f MiB in %.2f s%s",
				 (double)total / MIB, secs, ctx.note);
		}
	}
	if (netem && !netem_counts(ns, &pkts, &drops)) {
		size_t len = strlen(detail);

		snprintf(detail + len, sizeof(detail) - len,
			 ", netem %s: %llu packets passed, %llu skbs dropped",
			 test_netem[test], pkts, drops);
	}
print:
	if (netem)
		netem_del(ns);
	if (ctx.lfd >= 0)
		close(ctx.lfd);
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (proto != IPPROTO_TCP) {
		stat_read(stat_fd[0], &after[0]);
		stat_read(stat_fd[1], &after[1]);
		stat_print(label, "a", &before[0], &after[0]);
		stat_print(label, "b", &before[1], &after[1]);
	}
	if (ctx.err) {
		printf("%s %s FAIL - # %s\n", label, proto_name(proto), ctx.why);
		fflush(stdout);
		return -1;
	}
	printf("%s %s %.1f %s # %s\n", label, proto_name(proto), value, unit,
	       detail);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------ scale */

/*
 * scale: crr and rr with empty tables, then again with cfg->scale_est
 * connections established and cfg->scale_tw TIME_WAIT entries present,
 * all in the namespaces' tables: the TIME_WAIT entries are the clients'
 * (netns a, where connect() searches its port), made by connections the
 * client closes first.  A child process runs each protocol in namespaces
 * of its own (named after its pid), so that the entries die with them
 * and the next protocol starts from empty tables.
 */
#define SCALE_TW	100000
#define SCALE_EST	10000
#define SCALE_PER_PORT	30000	/* TIME_WAIT entries per server port */
#define SCALE_MAX_PORTS	64
#define SCALE_AHEAD	64	/* connections ahead of the server, < backlog */

struct fill {
	int lfd[SCALE_MAX_PORTS];	/* listeners, in netns b */
	int nr_lfd;
	int want;
	bool keep;			/* keep the accepted fds in fds[] */
	int *fds;
	atomic_int done;		/* accepted (and, !keep, closed) */
	atomic_bool stop;
	struct bench_ctx *ctx;		/* for fail() */
};

/*
 * Accept f->want connections on any of f->lfd[]: keep them open, or wait
 * for the client's FIN and close, so that the client ends in TIME_WAIT.
 */
static void *fill_server(void *arg)
{
	struct pollfd pfd[SCALE_MAX_PORTS];
	struct fill *f = arg;
	long last = now_ms();
	int i, n, fd;
	char c;

	for (i = 0; i < f->nr_lfd; i++)
		pfd[i] = (struct pollfd){ .fd = f->lfd[i], .events = POLLIN };
	while (atomic_load(&f->done) < f->want && !atomic_load(&f->stop)) {
		n = poll(pfd, f->nr_lfd, TICK_MS);
		if (n < 0 && errno != EINTR) {
			fail(f->ctx, errno, "poll: %s", strerror(errno));
			return NULL;
		}
		if (n <= 0 && now_ms() - last > STALL_MS) {
			fail(f->ctx, ETIMEDOUT, "%d connections accepted, then none",
			     atomic_load(&f->done));
			return NULL;
		}
		for (i = 0; i < f->nr_lfd && n > 0; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			last = now_ms();
			if (f->keep) {
				set_abort_on_close(fd);
				f->fds[atomic_load(&f->done)] = fd;
			} else {
				/* The client's FIN, then ours. */
				set_timeo(fd, SO_RCVTIMEO, STALL_MS);
				if (recv(fd, &c, 1, 0) != 0) {
					fail(f->ctx, errno, "no FIN from the client");
					close_abort(fd);
					return NULL;
				}
				close(fd);
			}
			atomic_fetch_add(&f->done, 1);
		}
	}
	return NULL;
}

/*
 * Make f->want connections to ports @port0 .. @port0 + f->nr_lfd - 1,
 * the server (fill_server) at most SCALE_AHEAD behind.  f->keep: the
 * client's ends go to @fds; otherwise each is closed at once (a FIN), to
 * end in TIME_WAIT.  0, or -1 after fail().
 */
static int fill_client(struct fill *f, int proto, unsigned short port0,
		       int *fds)
{
	struct timespec pause = { .tv_nsec = 200 * 1000 };
	long last;
	int i, fd;

	for (i = 0; i < f->want; i++) {
		last = now_ms();
		while (i - atomic_load(&f->done) >= SCALE_AHEAD) {
			if (f->ctx->err)
				return -1;
			if (now_ms() - last > STALL_MS)
				return fail(f->ctx, ETIMEDOUT,
					    "server stuck at %d connections",
					    atomic_load(&f->done));
			nanosleep(&pause, NULL);
		}
		fd = bench_connect(proto, port0 + i % f->nr_lfd);
		if (fd < 0)
			return fail(f->ctx, errno, "connect %d: %s", i,
				    strerror(errno));
		if (f->keep) {
			fds[i] = fd;
		} else {
			/* An orderly close: no linger, a FIN. */
			struct linger lg = { .l_onoff = 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		}
	}
	last = now_ms();
	while (atomic_load(&f->done) < f->want && !f->ctx->err) {
		if (now_ms() - last > STALL_MS)
			return fail(f->ctx, ETIMEDOUT, "server stuck at %d connections",
				    atomic_load(&f->done));
		nanosleep(&pause, NULL);
	}
	return f->ctx->err ? -1 : 0;
}

/*
 * @want connections from netns a to new listeners in netns b: held open
 * (@fds: the clients' ends, then the servers' ends), or closed by the
 * client first.  0, or -1 with the reason printed.
 */
static int scale_fill(const struct etcp_netns *ns, int proto, int want,
		      bool keep, int *fds)
{
	struct bench_ctx ctx = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct fill f = { .want = want, .keep = keep, .ctx = &ctx };
	unsigned short port0 = next_port;
	pthread_t thr;
	int i, ret = -1, err;

	f.nr_lfd = keep ? 1 : want / SCALE_PER_PORT + 1;
	if (f.nr_lfd > SCALE_MAX_PORTS) {
		printf("# scale: %d TIME_WAIT entries are too many\n", want);
		return -1;
	}
	f.fds = keep ? fds + want : NULL;
	atomic_init(&f.done, 0);
	atomic_init(&f.stop, false);
	for (i = 0; i < f.nr_lfd; i++) {
		f.lfd[i] = bench_listener(ns, proto, next_port++, false);
		if (f.lfd[i] < 0) {
			printf("# scale: listener: %s\n", strerror(-f.lfd[i]));
			f.nr_lfd = i;
			goto out;
		}
	}
	err = pthread_create(&thr, NULL, fill_server, &f);
	if (err) {
		printf("# scale: pthread_create: %s\n", strerror(err));
		goto out;
	}
	ret = fill_client(&f, proto, port0, fds);
	atomic_store(&f.stop, true);
	pthread_join(thr, NULL);
	if (ret || ctx.err) {
		printf("# scale %s: %s\n", proto_name(proto), ctx.why);
		ret = -1;
	}
out:
	for (i = 0; i < f.nr_lfd; i++)
		close(f.lfd[i]);
	return ret;
}

/* The slab caches of @proto's TIME_WAIT entries. */
static const char *tw_cache(int proto)
{
	return proto == IPPROTO_TCP ? "tw_sock_TCP" : "etcp_tw";
}

/* The scale run of @proto, in a child's namespaces: its exit status. */
static int scale_child(const struct bench_cfg *cfg, int proto)
{
	int nfds = 2 * cfg->scale_est, *fds, i, failed = 0;
	struct etcp_netns ns;
	double t0, t1;
	long tw;
	int err;

	fds = malloc((nfds + 1) * sizeof(*fds));
	if (!fds)
		return 1;
	for (i = 0; i < nfds; i++)
		fds[i] = -1;
	/* The veth pair is made where we are: not in the parent's netns a. */
	err = ns_leave();
	if (!err)
		err = etcp_netns_setup(&ns);
	if (!err)
		err = etcp_netns_wait_carrier(&ns, STALL_MS);
	/* Room for the ports, and for TCP's TIME_WAIT entries. */
	if (!err)
		err = ns_sysctl_write(ns.a, "net/ipv4/ip_local_port_range",
				      "1024 65535");
	if (!err && proto == IPPROTO_TCP)
		err = ns_sysctl_write(ns.a, "net/ipv4/tcp_max_tw_buckets",
				      "1000000");
	/* etcp's TIME_WAIT can outlast the fill (TCP's is 60 s, fixed). */
	if (!err && proto != IPPROTO_TCP)
		err = ns_sysctl_write(ns.a, "net/ipv4/etcp_msl", "300000");
	if (!err)
		err = ns_enter(ns.a);
	if (err) {
		printf("# scale: cannot set up the namespaces: %s\n",
		       strerror(-err));
		etcp_netns_teardown(&ns);
		return 1;
	}
	stat_fd[0] = stat_open(&ns, ns.a);
	stat_fd[1] = stat_open(&ns, ns.b);

	failed |= bench_one(&ns, cfg, CRR, proto, "scale_crr_empty");
	failed |= bench_one(&ns, cfg, RR, proto, "scale_rr_empty");

	t0 = now_s();
	if (scale_fill(&ns, proto, cfg->scale_est, true, fds)) {
		failed = 1;
		goto out;
	}
	t1 = now_s();
	if (scale_fill(&ns, proto, cfg->scale_tw, false, NULL)) {
		failed = 1;
		goto out;
	}
	tw = slab_active(tw_cache(proto), NULL);
	printf("# scale %s: %d connections established in %.1f s, %d closed into TIME_WAIT",
	       proto_name(proto), cfg->scale_est, t1 - t0, cfg->scale_tw);
	printf(" in %.1f s; then %ld %s objects in use\n", now_s() - t1, tw,
	       tw_cache(proto));
	printf("scale_tw %s %ld entries # %s objects in use when full\n",
	       proto_name(proto), tw, tw_cache(proto));
	fflush(stdout);

	failed |= bench_one(&ns, cfg, CRR, proto, "scale_crr_full");
	failed |= bench_one(&ns, cfg, RR, proto, "scale_rr_full");
out:
	for (i = 0; i < nfds; i++)
		close_abort(fds[i]);
	free(fds);
	etcp_netns_teardown(&ns);
	return failed ? 1 : 0;
}

/*
 * Run scale_child() for @proto in a child process, then wait (at most
 * 60 s) until the dead namespaces' TIME_WAIT entries are freed (all but a
 * tenth: slabinfo's count is rough), so that the next measurement does not
 * pay for it.  0 or -1.
 */
static int scale_run(const struct bench_cfg *cfg, int proto)
{
	struct rlimit rl;
	long deadline;
	pid_t pid;
	int st;

	/* Both ends of scale_est connections, and some. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) &&
	    rl.rlim_cur < (rlim_t)(2 * cfg->scale_est + 1024)) {
		rl.rlim_cur = 2 * cfg->scale_est + 1024;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			printf("# scale: RLIMIT_NOFILE: %s\n", strerror(errno));
			return -1;
		}
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		st = scale_child(cfg, proto);
		fflush(NULL);
		_exit(st);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	deadline = now_ms() + 60000;
	while (slab_active(tw_cache(proto), NULL) > cfg->scale_tw / 10 + 1000 &&
	       now_ms() < deadline)
		pause_ms(200);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: etcp_bench [-p PROTO]... [-t SECONDS] [-m MIB] [-S] [-T TW] [-E EST]\n"
		"                  [TEST]...\n"
		"  TEST: bulk, bulk_win64k, bulk_delay, bulk_loss, rr, crr (default: these),\n"
		"        scale (only when named)\n"
		"  -p  IP protocol to measure, repeatable (default: -p 6 -p 253)\n"
		"  -t  seconds per measurement (default %d)\n"
		"  -m  at most this many MiB in each bulk test (default %d)\n"
		"  -S  run rr's and crr's two ends on any CPUs, not on one\n"
		"  -T  scale: TIME_WAIT entries to make (default %d)\n"
		"  -E  scale: connections to hold established (default %d)\n",
		BENCH_SECONDS, BENCH_MIB, SCALE_TW, SCALE_EST);
	exit(2);
}

static long parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

static void parse_args(int argc, char **argv, struct bench_cfg *cfg)
{
	int opt, t, i;

	cfg->seconds = BENCH_SECONDS;
	cfg->max_bytes = BENCH_MIB * MIB;
	cfg->scale_tw = SCALE_TW;
	cfg->scale_est = SCALE_EST;
	while ((opt = getopt(argc, argv, "p:t:m:ST:E:h")) != -1) {
		switch (opt) {
		case 'p':
			if (cfg->nr_protos == MAX_PROTOS)
				usage();
			cfg->protos[cfg->nr_protos++] = parse_num(optarg, 1, 255);
			break;
		case 't':
			cfg->seconds = parse_num(optarg, 1, 3600);
			break;
		case 'm':
			cfg->max_bytes = parse_num(optarg, 1, 1L << 20) * MIB;
			break;
		case 'S':
			cfg->spread = true;
			break;
		case 'T':
			cfg->scale_tw = parse_num(optarg, 0,
						  SCALE_MAX_PORTS * SCALE_PER_PORT - 1);
			break;
		case 'E':
			cfg->scale_est = parse_num(optarg, 0, 100000);
			break;
		default:
			usage();
		}
	}
	if (!cfg->nr_protos) {
		cfg->protos[cfg->nr_protos++] = IPPROTO_TCP;
		cfg->protos[cfg->nr_protos++] = IPPROTO_ETCP;
	}
	for (i = optind; i < argc; i++) {
		for (t = 0; t < NR_TESTS; t++)
			if (!strcmp(argv[i], test_names[t]))
				break;
		if (t == NR_TESTS)
			usage();
		cfg->run[t] = true;
	}
	if (optind == argc)
		for (t = 0; t < NR_TESTS; t++)
			cfg->run[t] = t != SCALE;
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg = {};
	struct etcp_netns ns;
	struct utsname uts;
	const char *why;
	int t, i, err, failed = 0;

	parse_args(argc, argv, &cfg);
	why = etcp_netns_unsupported();
	if (why) {
		printf("# etcp_bench: cannot run: %s\n", why);
		return 4;
	}
	uname(&uts);
	printf("# etcp_bench on %s: %d s per measurement, bulk at most %llu MiB\n",
	       uts.release, cfg.seconds, cfg.max_bytes / MIB);
	printf("# rr and crr: client and server %s\n",
	       cfg.spread ? "on any CPUs" : "on one CPU");
	fflush(stdout);

	err = etcp_netns_setup(&ns);
	if (!err)
		err = etcp_netns_wait_carrier(&ns, STALL_MS);
	/* The clients' sockets are made here, in netns a. */
	if (!err)
		err = ns_enter(ns.a);
	if (err) {
		printf("# etcp_bench: cannot set up the namespaces: %s\n",
		       strerror(-err));
		etcp_netns_teardown(&ns);
		return 1;
	}
	stat_fd[0] = stat_open(&ns, ns.a);
	stat_fd[1] = stat_open(&ns, ns.b);

	for (t = 0; t < NR_TESTS; t++) {
		if (!cfg.run[t])
			continue;
		for (i = 0; i < cfg.nr_protos; i++) {
			if (t == SCALE)
				failed += !!scale_run(&cfg, cfg.protos[i]);
			else if (bench_one(&ns, &cfg, t, cfg.protos[i], NULL))
				failed++;
		}
	}

	for (i = 0; i < 2; i++)
		if (stat_fd[i] >= 0)
			close(stat_fd[i]);
	etcp_netns_teardown(&ns);
	return failed ? 1 : 0;
}
