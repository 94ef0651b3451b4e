// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: the byte stream through the socket API.
 *
 *   netns a (10.0.1.1, fd00:1::1)          netns b (10.0.1.2, fd00:1::2)
 *   clients                                listeners
 *   ea ---------------------- veth ---------------------- eb
 *   (netem on both ends for the lossy tests)
 *
 * send/recv and their relatives (write/read, sendmsg/recvmsg, writev/readv,
 * MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, O_NONBLOCK), the errors of sockets
 * that never connected or whose peer reset them (and SIGPIPE), send()s
 * that fail (EFAULT, EAGAIN, EINTR) and must leave nothing behind,
 * SO_RCVTIMEO/SO_SNDTIMEO, SO_RCVLOWAT, SIOCINQ/SIOCOUTQ, poll and epoll
 * readiness, a closed receive window, and the integrity of every byte of
 * transfers up to 100 MiB, in both directions at once, over a clean link
 * and over netem's loss, reordering, duplication and delay.
 *
 * Every test runs over TCP as well as etcp, over IPv4 and over IPv6
 * (ETCP_FAMILY_VARIANTS: tcp, etcp, tcp6, etcp6): the TCP runs prove that
 * the test expects what Linux TCP does, the etcp runs that etcp does the
 * same, the IPv6 ones that its IPv6 data path (MSS 1440) does too.  What
 * depends on the family is the variant's: the addresses, the MSS of the
 * sizes around it (ETCP_NS_MSS()).  TCP's timestamps are off in both namespaces, as in the
 * other tests; what only etcp promises (ETCP_INFO's sequence numbers and
 * windows, MSG_OOB sends failing, SIOCOUTQ within SO_SNDBUF) is checked
 * for the etcp variant only.
 *
 * The data tests know their lengths in advance and a sender waits for
 * SIOCOUTQ to reach 0 before anything is closed, so that no test depends
 * on how the connection ends (etcp_close's business).  The peer aborts
 * with SO_LINGER {1, 0} and close(), which sends an RST over TCP and etcp
 * alike.
 *
 * The bytes are a pattern (splitmix64: a 64-bit Weyl sequence through a
 * mixer, one seed per direction), so every received byte is checked and
 * the first wrong one is reported by its offset in the stream.
 *
 * Nothing sleeps and hopes: every wait polls a condition up to a deadline.
 * The exceptions are the stimuli themselves (a peer that sends 100 ms
 * later, to show that a call waited) and the few tests that show that
 * something does not happen (a blocked send() stays blocked).  A transfer
 * fails when no byte moved for STALL_MS.  The data tests print how long
 * they took: the sizes are tuned for the test VM under TCG, where the
 * whole program takes about 140 s with its four variants (1 to 2 s a test
 * for the namespaces).
 * ETCP_STREAM_SEED=N in the environment fixes the random write and read
 * sizes of the random tests (they print the seed they use).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the first listener; each pair takes the next */
/* Generous for TCG: what should take microseconds may take a second. */
#define WAIT_MS		5000
/* SO_RCVTIMEO/SO_SNDTIMEO: the timeout, and how late TCG may return. */
#define TIMEO_MS	300
#define TIMEO_SLACK_MS	300
/* A jiffy (HZ=250) and timer rounding may end a timeout this early. */
#define TIMEO_EARLY_MS	10
/* A send buffer is full when POLLOUT stays away this long after EAGAIN. */
#define FULL_MS		300
/* Give up filling a send buffer after this much: the window never closed. */
#define FILL_LIMIT	(64 * MIB)
/* Small buffers (doubled by the kernel) to close a window quickly. */
#define SMALL_BUF	16384
/*
 * TCP checks SO_SNDBUF before it starts a new skb, then fills it up to its
 * size goal (at most 64 KiB, half the peer's largest window): its SIOCOUTQ
 * may pass SO_SNDBUF by that much (6.12: 40880 bytes of 32768).  etcp's
 * may not pass it at all.
 */
#define TCP_SKB_SLACK	65536
/*
 * A transfer that moved no byte for this long is stuck.  10% loss of data
 * and ACKs each way needs about six losses in a row of one segment's
 * retransmissions (RTO 0.2 .. 6.4 s) to stall this long.
 */
#define STALL_MS	20000
/* Largest write and read of the transfer loops. */
#define CHUNK		(256 * 1024)
#define KIB		1024ULL
#define MIB		(1024 * KIB)

/* Seeds of the byte patterns of the two directions. */
#define SEED_AB		0x6574637061326231ULL	/* a -> b */
#define SEED_BA		0x6574637062326131ULL	/* b -> a */

/* Every event poll() knows for a socket; errors are reported anyway. */
#define POLL_ALL	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | \
			 POLLWRNORM | POLLWRBAND | POLLRDHUP)
/* What TCP reports for a connection reset by its peer. */
#define POLL_RESET	(POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | \
			 POLLHUP | POLLERR)

/* ------------------------------------------------------------ helpers */

/* RFC 4898's byte counters, which TCP_INFO and ETCP_INFO both have. */
static int conn_bytes(int fd, int proto, uint64_t *acked, uint64_t *received)
{
	if (proto == IPPROTO_ETCP) {
		struct etcp_info ei;
		int err = etcp_info_of(fd, &ei);

		if (err)
			return err;
		*acked = ei.etcpi_bytes_acked;
		*received = ei.etcpi_bytes_received;
	} else {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -errno;
		*acked = ti.tcpi_bytes_acked;
		*received = ti.tcpi_bytes_received;
	}
	return 0;
}

/* The peer aborts: SO_LINGER {1, 0} and close() send an RST. */
static void abort_conn(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ------------------------------------------------------------ pattern */

/* Word @i of pattern @seed: splitmix64, a Weyl sequence through a mixer. */
static uint64_t pat_word(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Byte @pos of the stream @seed. */
static unsigned char pat_byte(uint64_t seed, uint64_t pos)
{
	return pat_word(seed, pos >> 3) >> (8 * (pos & 7));
}

/* Bytes @pos .. @pos + @len - 1 of the stream @seed. */
static void pat_fill(uint64_t seed, uint64_t pos, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t w;

	for (; len && (pos & 7); len--)
		*p++ = pat_byte(seed, pos++);
	for (; len >= 8; len -= 8, p += 8, pos += 8) {
		w = htole64(pat_word(seed, pos >> 3));
		memcpy(p, &w, 8);
	}
	for (; len; len--)
		*p++ = pat_byte(seed, pos++);
}

/* Index in @buf of the first byte that is not the stream's, or -1. */
static long pat_check(uint64_t seed, uint64_t pos, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i = 0;
	uint64_t w;

	for (; i < len && ((pos + i) & 7); i++)
		if (p[i] != pat_byte(seed, pos + i))
			return i;
	for (; len - i >= 8; i += 8) {
		w = htole64(pat_word(seed, (pos + i) >> 3));
		if (memcmp(p + i, &w, 8))
			break;
	}
	for (; i < len; i++)
		if (p[i] != pat_byte(seed, pos + i))
			return i;
	return -1;
}

/* send() all @len bytes of stream @seed from @pos: 0 or -errno. */
static int send_pat(int fd, uint64_t seed, uint64_t pos, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	size_t off = 0;
	ssize_t n;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	pat_fill(seed, pos, buf, len);
	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		off += n;
	}
	free(buf);
	return ret;
}

/* What recv_pat() found. */
struct rx_result {
	size_t got;		/* bytes received */
	long long bad;		/* stream offset of the first wrong byte, or -1 */
	int bad_val, want_val;	/* that byte and the expected one */
	int err;		/* errno of a failed recv(), ENODATA for an end of stream */
};

/*
 * Receive exactly @len bytes of stream @seed from @pos (non-blocking calls
 * and poll, up to @timeout_ms) and check them.  True when all arrived and
 * were right.
 */
static bool recv_pat(int fd, uint64_t seed, uint64_t pos, size_t len,
		     int timeout_ms, struct rx_result *r)
{
	long deadline = now_ms() + timeout_ms;
	unsigned char *buf = malloc(CHUNK);
	ssize_t n;
	long bad;

	memset(r, 0, sizeof(*r));
	r->bad = -1;
	if (!buf) {
		r->err = ENOMEM;
		return false;
	}
	while (r->got < len && now_ms() <= deadline) {
		n = recv(fd, buf, len - r->got < CHUNK ? len - r->got : CHUNK, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			poll_fd(fd, POLLIN, 50);
			continue;
		}
		if (n <= 0) {
			r->err = n < 0 ? errno : ENODATA;
			break;
		}
		bad = pat_check(seed, pos + r->got, buf, n);
		if (bad >= 0) {
			r->bad = pos + r->got + bad;
			r->bad_val = buf[bad];
			r->want_val = pat_byte(seed, r->bad);
			break;
		}
		r->got += n;
	}
	free(buf);
	return r->got == len && r->bad < 0 && !r->err;
}

/* For TH_LOG: what went wrong in recv_pat(). */
static const char *rx_str(const struct rx_result *r, size_t len, char *buf, size_t size)
{
	if (r->bad >= 0)
		snprintf(buf, size, "byte %lld of the stream is 0x%02x, expected 0x%02x",
			 r->bad, r->bad_val, r->want_val);
	else if (r->err == ENODATA)
		snprintf(buf, size, "end of stream after %zu of %zu bytes", r->got, len);
	else if (r->err)
		snprintf(buf, size, "recv failed (%s) after %zu of %zu bytes",
			 strerror(r->err), r->got, len);
	else
		snprintf(buf, size, "%zu of %zu bytes arrived", r->got, len);
	return buf;
}

/*
 * Write stream @seed from @pos with non-blocking send()s until the send
 * buffer is full: EAGAIN, and no POLLOUT for FULL_MS (ACKs of data in
 * flight may make room; a closed window makes none).  The bytes written,
 * or -errno (-ENOSPC: FILL_LIMIT written and still no end).
 */
static long long fill_sndbuf(int fd, uint64_t seed, uint64_t pos)
{
	unsigned char *buf = malloc(CHUNK);
	long long written = 0;
	ssize_t n;
	int ev;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		pat_fill(seed, pos + written, buf, CHUNK);
		n = send(fd, buf, CHUNK, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			written += n;
			if (written > (long long)FILL_LIMIT) {
				written = -ENOSPC;
				break;
			}
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			written = -errno;
			break;
		}
		ev = poll_fd(fd, POLLOUT, FULL_MS);
		if (ev < 0) {
			written = -errno;
			break;
		}
		if (!(ev & POLLOUT))
			break;
	}
	free(buf);
	return written;
}

/* ------------------------------------------------------ background send */

/* send()s from a thread: @count calls of @len bytes, @delay_ms before each. */
struct bg_send {
	pthread_t th;
	int fd;
	uint64_t seed, pos;	/* the bytes: stream @seed from @pos */
	size_t len;
	int count;
	int delay_ms;
	long long ret;		/* bytes sent, or -errno of the call that failed */
	int done;		/* set when the thread ends (atomic) */
};

static void *bg_send_fn(void *arg)
{
	struct bg_send *b = arg;
	unsigned char *buf = malloc(b->len);
	long long total = 0;
	ssize_t n;
	int i;

	if (!buf) {
		total = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->count; i++) {
		if (b->delay_ms)
			pause_ms(b->delay_ms);
		pat_fill(b->seed, b->pos + total, buf, b->len);
		/* Blocking: all of it, or what fit before SO_SNDTIMEO. */
		n = send(b->fd, buf, b->len, MSG_NOSIGNAL);
		if (n < 0) {
			total = -errno;
			break;
		}
		total += n;
		if ((size_t)n < b->len)
			break;
	}
	free(buf);
out:
	b->ret = total;
	__atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int bg_send_start(struct bg_send *b)
{
	b->done = 0;
	b->ret = 0;
	return -pthread_create(&b->th, NULL, bg_send_fn, b);
}

static bool bg_send_done(struct bg_send *b)
{
	return __atomic_load_n(&b->done, __ATOMIC_ACQUIRE);
}

/* Wait up to @timeout_ms for the thread: true if it ended (and was joined). */
static bool bg_send_join(struct bg_send *b, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (!bg_send_done(b)) {
		if (now_ms() > deadline)
			return false;
		pause_step();
	}
	pthread_join(b->th, NULL);
	return true;
}

/* ------------------------------------------------------- transfers */

/* One direction of a transfer: stream @seed, offsets from 0. */
struct flow {
	const char *name;
	int tx, rx;			/* sending and receiving socket */
	uint64_t seed;
	uint64_t total;			/* bytes to have sent and received */
	uint64_t sent, rcvd;		/* so far (rcvd: checked) */
	unsigned char *txbuf, *rxbuf;
	size_t txlen, txoff;		/* the chunk being sent, and its part sent */
	long long bad;			/* stream offset of the first wrong byte, -1 */
	int bad_val;
	const char *op;			/* the call that failed, or NULL */
	int err;			/* its errno (0: an end of stream) */
};

struct xfer_opt {
	size_t wmax, rmax;		/* largest write and read, <= CHUNK */
	bool random;			/* sizes drawn log-uniformly from 1..max */
	unsigned int seed;		/* of the sizes */
	int timeout_ms;
};

static void flow_init(struct flow *f, const char *name, int tx, int rx, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->tx = tx;
	f->rx = rx;
	f->seed = seed;
	f->bad = -1;
	f->txbuf = malloc(CHUNK);
	f->rxbuf = malloc(CHUNK);
}

static void flow_free(struct flow *f)
{
	free(f->txbuf);
	free(f->rxbuf);
	f->txbuf = NULL;
	f->rxbuf = NULL;
}

static uint32_t rnd(uint32_t *s)
{
	/* xorshift32 */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* A write or read size up to @max: @max, or log-uniform in 1..max. */
static size_t pick_size(uint32_t *s, size_t max, bool random)
{
	unsigned int bits = 0;
	size_t v;

	if (!random)
		return max;
	while (bits < 31 && (2UL << bits) <= max)
		bits++;
	v = 1 + rnd(s) % (1UL << (rnd(s) % (bits + 1)));
	return v < max ? v : max;
}

/*
 * Non-blocking send()s while there is room, at most 4 * CHUNK (the other
 * direction's turn).  False on an error (recorded in the flow).
 */
static bool flow_send(struct flow *f, const struct xfer_opt *o, uint32_t *rs)
{
	size_t budget = 4 * CHUNK;
	ssize_t n;

	while (f->sent < f->total && budget) {
		if (f->txoff == f->txlen) {
			f->txlen = pick_size(rs, o->wmax, o->random);
			if (f->txlen > f->total - f->sent)
				f->txlen = f->total - f->sent;
			pat_fill(f->seed, f->sent, f->txbuf, f->txlen);
			f->txoff = 0;
		}
		n = send(f->tx, f->txbuf + f->txoff, f->txlen - f->txoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			f->op = "send";
			f->err = n < 0 ? errno : EIO;
			return false;
		}
		f->txoff += n;
		f->sent += n;
		budget = (size_t)n < budget ? budget - n : 0;
	}
	return true;
}

/* Non-blocking recv()s of what is there, checked.  False on an error. */
static bool flow_recv(struct flow *f, const struct xfer_opt *o, uint32_t *rs)
{
	size_t budget = 4 * CHUNK, want;
	ssize_t n;
	long bad;

	while (f->rcvd < f->total && budget) {
		want = pick_size(rs, o->rmax, o->random);
		if (want > f->total - f->rcvd)
			want = f->total - f->rcvd;
		n = recv(f->rx, f->rxbuf, want, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			f->op = "recv";
			f->err = n < 0 ? errno : 0;
			return false;
		}
		bad = pat_check(f->seed, f->rcvd, f->rxbuf, n);
		if (bad >= 0) {
			f->bad = f->rcvd + bad;
			f->bad_val = f->rxbuf[bad];
			return false;
		}
		f->rcvd += n;
		budget = (size_t)n < budget ? budget - n : 0;
	}
	return true;
}

/*
 * Move the flows forward until each has sent and received its total, in
 * one poll() loop: each side sends and receives at once.  0, -ETIMEDOUT
 * (the whole transfer took too long), -ETIME (nothing moved for
 * STALL_MS), or -EIO when a flow failed (it says how).
 */
static int xfer(struct flow *f, int nf, const struct xfer_opt *o)
{
	long deadline = now_ms() + o->timeout_ms, moved = now_ms();
	uint32_t rs = o->seed ? o->seed : 1;
	uint64_t progress = 0, p;
	struct pollfd pfd[4];
	bool busy;
	int i;

	if (nf > 2)
		return -EINVAL;
	for (i = 0; i < nf; i++)
		if (!f[i].txbuf || !f[i].rxbuf)
			return -ENOMEM;
	for (;;) {
		busy = false;
		for (i = 0; i < nf; i++) {
			pfd[2 * i] = (struct pollfd){ .fd = -1 };
			pfd[2 * i + 1] = (struct pollfd){ .fd = -1 };
			if (f[i].sent < f[i].total) {
				pfd[2 * i] = (struct pollfd){ .fd = f[i].tx, .events = POLLOUT };
				busy = true;
			}
			if (f[i].rcvd < f[i].total) {
				pfd[2 * i + 1] = (struct pollfd){ .fd = f[i].rx, .events = POLLIN };
				busy = true;
			}
		}
		if (!busy)
			return 0;
		for (i = 0, p = 0; i < nf; i++)
			p += f[i].sent + f[i].rcvd;
		if (p != progress) {
			progress = p;
			moved = now_ms();
		}
		if (now_ms() > moved + STALL_MS)
			return -ETIME;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		if (poll(pfd, 2 * nf, 100) < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < nf; i++) {
			if (pfd[2 * i].revents && !flow_send(&f[i], o, &rs))
				return -EIO;
			if (pfd[2 * i + 1].revents && !flow_recv(&f[i], o, &rs))
				return -EIO;
		}
	}
}

/* Seed of the random sizes: ETCP_STREAM_SEED, or a new one each run. */
static unsigned int size_seed(void)
{
	const char *env = getenv("ETCP_STREAM_SEED");

	if (env && *env)
		return strtoul(env, NULL, 0);
	return (unsigned int)(time(NULL) ^ (getpid() << 16)) | 1;
}

/*
 * Run the flows (see xfer()), then check what a reader needs to trust
 * them: no error, no wrong byte, every byte acknowledged (SIOCOUTQ 0, the
 * sender may close now), nothing more to read (SIOCINQ 0), the byte
 * counters of TCP_INFO/ETCP_INFO and etcp's sequence numbers.  Prints how
 * long it took.  The elapsed milliseconds.
 */
static long run_xfer(struct __test_metadata *_metadata, int proto,
		     struct flow *f, int nf, const struct xfer_opt *o, const char *what)
{
	uint64_t acked0[2] = {}, rcvd0[2] = {}, acked, rcvd, unused;
	uint64_t sent0[2], got0[2], bytes = 0;
	struct etcp_info ti, ri;
	struct sinfo ts, rs;
	long t0, ms;
	int i, ret, q;

	for (i = 0; i < nf; i++) {
		sent0[i] = f[i].sent;
		got0[i] = f[i].rcvd;
		ASSERT_EQ(0, conn_bytes(f[i].tx, proto, &acked0[i], &unused));
		ASSERT_EQ(0, conn_bytes(f[i].rx, proto, &unused, &rcvd0[i]));
	}
	t0 = now_ms();
	ret = xfer(f, nf, o);
	ms = now_ms() - t0;
	for (i = 0; i < nf; i++) {
		bytes += f[i].rcvd - got0[i];
		if (f[i].bad >= 0)
			TH_LOG("%s: %s %s: byte %lld of the stream is 0x%02x, expected 0x%02x",
			       what, f[i].name, proto_name(proto), f[i].bad, f[i].bad_val,
			       pat_byte(f[i].seed, f[i].bad));
		if (f[i].op && f[i].err)
			TH_LOG("%s: %s: %s failed: %s", what, f[i].name, f[i].op,
			       strerror(f[i].err));
		else if (f[i].op)
			TH_LOG("%s: %s: end of stream (recv returned 0)", what, f[i].name);
		if (ret)
			TH_LOG("%s: %s: sent %llu, received %llu of %llu; SIOCOUTQ %d SIOCINQ %d",
			       what, f[i].name, (unsigned long long)f[i].sent,
			       (unsigned long long)f[i].rcvd, (unsigned long long)f[i].total,
			       ioctl_int(f[i].tx, SIOCOUTQ), ioctl_int(f[i].rx, SIOCINQ));
		/* Where it stopped (the sequence numbers are etcp's; TCP's 0). */
		if (ret && !sinfo_get(f[i].tx, proto, &ts))
			TH_LOG("%s: %s: sender %s cwnd %u ssthresh %u rto %u us retransmits %d backoff %d total_retrans %u; snd_una %u snd_nxt %u snd_wnd %u",
			       what, f[i].name, state_name(ts.state), ts.snd_cwnd,
			       ts.snd_ssthresh, ts.rto, ts.retransmits, ts.backoff,
			       ts.total_retrans, ts.snd_una, ts.snd_nxt, ts.snd_wnd);
		if (ret && !sinfo_get(f[i].rx, proto, &rs))
			TH_LOG("%s: %s: receiver %s; rcv_nxt %u rcv_wnd %u", what, f[i].name,
			       state_name(rs.state), rs.rcv_nxt, rs.rcv_wnd);
	}
	TH_LOG("%s: %s: %llu bytes in %ld ms (%.1f MB/s)%s", what, proto_name(proto),
	       (unsigned long long)bytes, ms, ms ? bytes / 1000.0 / ms : 0.0,
	       ret == -ETIMEDOUT ? ", TIMED OUT" : ret == -ETIME ? ", STALLED" :
	       ret ? ", FAILED" : "");
	if (ret == -ETIME)
		TH_LOG("%s: no byte moved for %d ms", what, STALL_MS);
	ASSERT_EQ(0, ret) TH_LOG("%s over %s did not complete: %s", what,
				 proto_name(proto), strerror(-ret));

	for (i = 0; i < nf; i++) {
		/* No FIN yet: close() only after everything was acknowledged. */
		q = wait_ioctl(f[i].tx, SIOCOUTQ, 0, WAIT_MS);
		EXPECT_EQ(0, q) TH_LOG("%s: %s: %d bytes never acknowledged (SIOCOUTQ)",
				       what, f[i].name, q);
		q = ioctl_int(f[i].rx, SIOCINQ);
		EXPECT_EQ(0, q) TH_LOG("%s: %s: %d bytes more than were sent (SIOCINQ)",
				       what, f[i].name, q);
		ASSERT_EQ(0, conn_bytes(f[i].tx, proto, &acked, &unused));
		EXPECT_EQ(f[i].sent - sent0[i], acked - acked0[i])
			TH_LOG("%s: %s: bytes_acked grew by %llu for %llu bytes sent",
			       what, f[i].name, (unsigned long long)(acked - acked0[i]),
			       (unsigned long long)(f[i].sent - sent0[i]));
		ASSERT_EQ(0, conn_bytes(f[i].rx, proto, &unused, &rcvd));
		EXPECT_EQ(f[i].rcvd - got0[i], rcvd - rcvd0[i])
			TH_LOG("%s: %s: bytes_received grew by %llu for %llu bytes received",
			       what, f[i].name, (unsigned long long)(rcvd - rcvd0[i]),
			       (unsigned long long)(f[i].rcvd - got0[i]));
		if (proto != IPPROTO_ETCP)
			continue;
		/* The stream started at ISN + 1 and nothing else took a number. */
		ASSERT_EQ(0, etcp_info_of(f[i].tx, &ti));
		ASSERT_EQ(0, etcp_info_of(f[i].rx, &ri));
		EXPECT_EQ(ti.etcpi_snd_una, ti.etcpi_snd_nxt);
		EXPECT_EQ((uint32_t)f[i].sent, ti.etcpi_snd_nxt - ti.etcpi_iss - 1)
			TH_LOG("%s: %s: snd_nxt %u is ISS %u + 1 + %u, sent %llu",
			       what, f[i].name, ti.etcpi_snd_nxt, ti.etcpi_iss,
			       ti.etcpi_snd_nxt - ti.etcpi_iss - 1,
			       (unsigned long long)f[i].sent);
		EXPECT_EQ((uint32_t)f[i].rcvd, ri.etcpi_rcv_nxt - ri.etcpi_irs - 1)
			TH_LOG("%s: %s: rcv_nxt %u is IRS %u + 1 + %u, received %llu",
			       what, f[i].name, ri.etcpi_rcv_nxt, ri.etcpi_irs,
			       ri.etcpi_rcv_nxt - ri.etcpi_irs - 1,
			       (unsigned long long)f[i].rcvd);
	}
	return ms;
}

/* ------------------------------------------------------------- fixture */

ETCP_ENV_CHECK()

FIXTURE(stream) {
	struct etcp_netns ns;
	unsigned short port;	/* of the next listener */
	struct etcp_cap *cap;	/* segments on ea, for the tests that look */
	int family;		/* the variant's, for open_pair() */
	const char *addr_b;	/* the listeners' address, of that family */
};

ETCP_FAMILY_VARIANTS(stream);

FIXTURE_SETUP(stream)
{
	const char *why = env_unsupported;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, two_ns_setup(&self->ns))
		TH_LOG("cannot set up the two network namespaces");
	self->port = PORT;
	self->cap = NULL;
	self->family = variant->family;
	self->addr_b = variant->addr_b;
}

FIXTURE_TEARDOWN(stream)
{
	etcp_cap_stop(self->cap);
	etcp_netns_teardown(&self->ns);
}

#define PROTO		proto_name(variant->proto)
#define IS_ETCP		(variant->proto == IPPROTO_ETCP)

/* Buffer sizes (SO_SNDBUF, SO_RCVBUF) for open_pair(); 0 keeps the default. */
struct bufs {
	int c_snd, c_rcv;	/* the client, in netns a, before connect() */
	int s_snd, s_rcv;	/* the listener in netns b, and the accepted socket */
};

static int set_bufs(int fd, int snd, int rcv)
{
	int err = 0;

	if (snd)
		err = sockopt_set(fd, SOL_SOCKET, SO_SNDBUF, snd);
	if (!err && rcv)
		err = sockopt_set(fd, SOL_SOCKET, SO_RCVBUF, rcv);
	return err;
}

/*
 * A connection of the variant's protocol: *c in netns a connected to a
 * listener in netns b, *s the socket accepted there; the listener is
 * closed again.  The accepted socket gets the buffer sizes again: only
 * buffer_sizes depends on it inheriting the listener's.
 */
static void open_pair(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
		      int proto, const struct bufs *b, int *c, int *s)
{
	unsigned short port = self->port++;
	int l, err;

	l = ns_socket(self->ns.b, self->family, SOCK_STREAM, proto);
	ASSERT_LE(0, l) TH_LOG("%s socket in netns b: %s", proto_name(proto), strerror(errno));
	if (b)
		ASSERT_EQ(0, set_bufs(l, b->s_snd, b->s_rcv));
	ASSERT_EQ(0, bind_to(l, self->addr_b, port));
	ASSERT_EQ(0, listen(l, 8));
	*c = ns_socket(self->ns.a, self->family, SOCK_STREAM, proto);
	ASSERT_LE(0, *c) TH_LOG("%s socket in netns a: %s", proto_name(proto), strerror(errno));
	if (b)
		ASSERT_EQ(0, set_bufs(*c, b->c_snd, b->c_rcv));
	err = connect_to(*c, self->addr_b, port);
	ASSERT_EQ(0, err) TH_LOG("%s connect to %s port %d: %s", proto_name(proto),
				 self->addr_b, port, strerror(-err));
	*s = accept(l, NULL, NULL);
	ASSERT_LE(0, *s) TH_LOG("accept: %s", strerror(errno));
	if (b)
		ASSERT_EQ(0, set_bufs(*s, b->s_snd, b->s_rcv));
	close(l);
}

/* Assert that @fd receives @len bytes of stream @seed from @pos. */
#define EXPECT_RECV(fd, seed, pos, len, what) do { \
	struct rx_result __r; \
	char __b[160]; \
	EXPECT_TRUE(recv_pat(fd, seed, pos, len, WAIT_MS, &__r)) \
		TH_LOG("%s: %s", what, rx_str(&__r, len, __b, sizeof(__b))); \
} while (0)

/* ------------------------------------------------ send/recv variants */

/*
 * write()/read() and send()/recv() in each direction: 5000 bytes (more
 * than the MSS) in one call, read back in pieces of at most 700 bytes.
 */
TEST_F(stream, read_write)
{
	static const char * const how[] = { "write/read", "send/recv" };
	unsigned char out[5000], in[5000];
	int c, s, k, tx, rx;
	uint64_t seed, pos;
	size_t got;
	ssize_t n;
	long bad;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	for (k = 0; k < 4; k++) {
		tx = k & 1 ? s : c;
		rx = k & 1 ? c : s;
		seed = k & 1 ? SEED_BA : SEED_AB;
		pos = k / 2 * sizeof(out);
		pat_fill(seed, pos, out, sizeof(out));
		if (k < 2)
			n = write(tx, out, sizeof(out));
		else
			n = send(tx, out, sizeof(out), 0);
		ASSERT_EQ((ssize_t)sizeof(out), n) TH_LOG("%s %s %s: %s", PROTO, how[k / 2],
							   k & 1 ? "b->a" : "a->b",
							   strerror(errno));
		for (got = 0; got < sizeof(out); got += n) {
			if (k < 2)
				n = read(rx, in + got, sizeof(in) - got < 700 ?
					 sizeof(in) - got : 700);
			else
				n = recv(rx, in + got, sizeof(in) - got < 700 ?
					 sizeof(in) - got : 700, 0);
			ASSERT_LT(0, n) TH_LOG("%s: %zu bytes in: %s", how[k / 2], got,
					       n ? strerror(errno) : "end of stream");
		}
		bad = pat_check(seed, pos, in, sizeof(in));
		EXPECT_EQ(-1, bad) TH_LOG("%s %s: byte %ld is wrong", how[k / 2],
					  k & 1 ? "b->a" : "a->b", bad);
	}
	close(c);
	close(s);
}

/* Scatter and gather: iovecs of other sizes on each side. */
static const size_t tx_iov[] = { 1, 100, 1459, 3000, 7 };		/* 4567 */
static const size_t rx_iov[] = { 10, 2000, 0, 4000 };			/* 6010 */
#define IOV_TOTAL	4567

static void fill_iov(struct iovec *iov, const size_t *len, int n, unsigned char *buf)
{
	int i;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = buf;
		iov[i].iov_len = len[i];
		buf += len[i];
	}
}

/*
 * sendmsg()/recvmsg() a -> b and writev()/readv() b -> a: five iovecs
 * written, four (one empty) read, of other sizes, the data waiting
 * complete (SIOCINQ) so that one call reads it all.
 */
TEST_F(stream, scatter_gather)
{
	unsigned char out[IOV_TOTAL], in[6010];
	struct iovec tiov[5], riov[4];
	struct sockaddr_storage name;
	struct msghdr m;
	ssize_t n;
	int c, s, q;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	pat_fill(SEED_AB, 0, out, sizeof(out));
	fill_iov(tiov, tx_iov, 5, out);
	memset(&m, 0, sizeof(m));
	m.msg_iov = tiov;
	m.msg_iovlen = 5;
	n = sendmsg(c, &m, 0);
	ASSERT_EQ(IOV_TOTAL, n) TH_LOG("%s sendmsg of 5 iovecs: %s", PROTO, strerror(errno));
	q = wait_ioctl(s, SIOCINQ, IOV_TOTAL, WAIT_MS);
	ASSERT_EQ(IOV_TOTAL, q) TH_LOG("SIOCINQ %d, waiting for %d bytes", q, IOV_TOTAL);
	memset(in, 0, sizeof(in));
	fill_iov(riov, rx_iov, 4, in);
	memset(&m, 0, sizeof(m));
	m.msg_iov = riov;
	m.msg_iovlen = 4;
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	n = recvmsg(s, &m, 0);
	ASSERT_EQ(IOV_TOTAL, n) TH_LOG("recvmsg into 4 iovecs: %zd (%s)", n, strerror(errno));
	EXPECT_EQ(0, m.msg_flags) TH_LOG("recvmsg msg_flags 0x%x", m.msg_flags);
	/* A connected stream socket does not name the sender (as TCP). */
	EXPECT_EQ(0U, m.msg_namelen);
	EXPECT_EQ(-1, pat_check(SEED_AB, 0, in, IOV_TOTAL))
		TH_LOG("recvmsg: byte %ld is wrong", pat_check(SEED_AB, 0, in, IOV_TOTAL));

	pat_fill(SEED_BA, 0, out, sizeof(out));
	n = writev(s, tiov, 5);
	ASSERT_EQ(IOV_TOTAL, n) TH_LOG("%s writev of 5 iovecs: %s", PROTO, strerror(errno));
	q = wait_ioctl(c, SIOCINQ, IOV_TOTAL, WAIT_MS);
	ASSERT_EQ(IOV_TOTAL, q) TH_LOG("SIOCINQ %d, waiting for %d bytes", q, IOV_TOTAL);
	memset(in, 0, sizeof(in));
	n = readv(c, riov, 4);
	ASSERT_EQ(IOV_TOTAL, n) TH_LOG("readv into 4 iovecs: %zd (%s)", n, strerror(errno));
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, in, IOV_TOTAL))
		TH_LOG("readv: byte %ld is wrong", pat_check(SEED_BA, 0, in, IOV_TOTAL));
	close(c);
	close(s);
}

/* MSG_PEEK shows the bytes and leaves them; the next read gets the same. */
TEST_F(stream, msg_peek)
{
	unsigned char a[300], b[300];
	ssize_t n;
	int c, s, q;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	n = recv(c, a, sizeof(a), MSG_PEEK | MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("MSG_PEEK|MSG_DONTWAIT on nothing: %s", strerror(errno));

	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 200));
	q = wait_ioctl(c, SIOCINQ, 200, WAIT_MS);
	ASSERT_EQ(200, q);
	n = recv(c, a, 50, MSG_PEEK);
	ASSERT_EQ(50, n) TH_LOG("MSG_PEEK of 50: %zd (%s)", n, strerror(errno));
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, a, 50));
	n = recv(c, a, sizeof(a), MSG_PEEK);
	ASSERT_EQ(200, n) TH_LOG("MSG_PEEK of all: %zd", n);
	EXPECT_EQ(200, ioctl_int(c, SIOCINQ)) TH_LOG("MSG_PEEK consumed bytes");
	n = recv(c, b, sizeof(b), 0);
	ASSERT_EQ(200, n);
	EXPECT_EQ(0, memcmp(a, b, 200)) TH_LOG("read gave other bytes than the peek");
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, b, 200));
	EXPECT_EQ(0, ioctl_int(c, SIOCINQ));
	close(c);
	close(s);
}

/*
 * MSG_DONTWAIT on a blocking socket: EAGAIN at once when there is nothing,
 * the data when there is, and the socket stays blocking.  O_NONBLOCK: read
 * and recv fail EAGAIN until data is there, send works while there is
 * room; accept4(SOCK_NONBLOCK) makes a non-blocking socket.
 */
TEST_F(stream, nonblocking)
{
	unsigned char buf[100];
	int c, s, l, a;
	ssize_t n;
	long t0;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	t0 = now_ms();
	n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("%s MSG_DONTWAIT with nothing to read: %s", PROTO,
					n < 0 ? strerror(errno) : "data");
	EXPECT_GT(WAIT_MS / 5, now_ms() - t0) TH_LOG("MSG_DONTWAIT recv waited");
	EXPECT_EQ(0, fcntl(c, F_GETFL) & O_NONBLOCK);
	pat_fill(SEED_BA, 0, buf, 8);
	n = send(s, buf, 8, MSG_DONTWAIT);
	EXPECT_EQ(8, n) TH_LOG("MSG_DONTWAIT send with room: %s", strerror(errno));
	ASSERT_EQ(8, wait_ioctl(c, SIOCINQ, 8, WAIT_MS));
	n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(8, n);
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, buf, 8));

	ASSERT_EQ(0, set_nonblock(c, true));
	n = read(c, buf, sizeof(buf));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("O_NONBLOCK read of nothing: %s",
					n < 0 ? strerror(errno) : "data");
	n = recv(c, buf, sizeof(buf), 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, send_pat(s, SEED_BA, 8, 77));
	ASSERT_EQ(POLLIN, wait_event(c, POLLIN, WAIT_MS) & POLLIN);
	n = read(c, buf, sizeof(buf));
	EXPECT_EQ(77, n);
	EXPECT_EQ(-1, pat_check(SEED_BA, 8, buf, 77));
	n = read(c, buf, sizeof(buf));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno);
	pat_fill(SEED_AB, 0, buf, 5);
	EXPECT_EQ(5, write(c, buf, 5)) TH_LOG("O_NONBLOCK write with room: %s", strerror(errno));
	EXPECT_RECV(s, SEED_AB, 0, 5, "sent by a non-blocking socket");

	l = ns_socket(self->ns.b, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind_to(l, variant->addr_b, self->port));
	ASSERT_EQ(0, listen(l, 8));
	close(c);
	c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect_to(c, variant->addr_b, self->port++));
	a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	ASSERT_LE(0, a);
	n = recv(a, buf, sizeof(buf), 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("accept4(SOCK_NONBLOCK) socket: %s",
					n < 0 ? strerror(errno) : "data");
	close(a);
	close(l);
	close(c);
	close(s);
}

/*
 * MSG_WAITALL: the peer sends 1000 bytes now and 1000 twice more 100 ms
 * apart; recv(3000, MSG_WAITALL) returns all 3000, having waited.
 */
TEST_F(stream, msg_waitall)
{
	static struct bg_send bg = { .seed = SEED_BA, .pos = 1000, .len = 1000,
			      .count = 2, .delay_ms = 100 };
	unsigned char buf[4000];
	ssize_t n;
	long t0, ms;
	int c, s;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, WAIT_MS));
	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 1000));
	ASSERT_EQ(1000, wait_ioctl(c, SIOCINQ, 1000, WAIT_MS));
	bg.fd = s;
	ASSERT_EQ(0, bg_send_start(&bg));
	t0 = now_ms();
	n = recv(c, buf, 3000, MSG_WAITALL);
	ms = now_ms() - t0;
	ASSERT_TRUE(bg_send_join(&bg, WAIT_MS));
	EXPECT_EQ(2000, bg.ret);
	ASSERT_EQ(3000, n) TH_LOG("recv(3000, MSG_WAITALL) returned %zd after %ld ms (%s)",
				  n, ms, n < 0 ? strerror(errno) : "short");
	EXPECT_LE(150, ms)
		TH_LOG("MSG_WAITALL returned after %ld ms, the last bytes left at 200 ms", ms);
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, buf, 3000));
	close(c);
	close(s);
}

/* ------------------------------------------------------------ errors */

/*
 * recv() on @fd, of protocol @proto, which has no connection (@what): it
 * fails ENOTCONN, blocking or not.
 */
static void expect_recv_notconn(struct __test_metadata *_metadata, int fd, const char *proto,
				const char *what)
{
	char buf[10];
	ssize_t n;

	n = recv(fd, buf, sizeof(buf), 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENOTCONN, errno) TH_LOG("%s recv on %s: %s", proto, what,
					  n < 0 ? strerror(errno) : "data");
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENOTCONN, errno);
}

/*
 * send() on a socket that never connected: EPIPE and SIGPIPE, without the
 * signal under MSG_NOSIGNAL.  recv() there or on a listener: ENOTCONN.
 * SIOCINQ, SIOCOUTQ, SIOCOUTQNSD on a listener: EINVAL.
 */
TEST_F(stream, not_connected)
{
	char buf[10];
	int fd, l;
	ssize_t n;

	ASSERT_EQ(0, catch_sigpipe());
	fd = ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	n = send(fd, "x", 1, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno) TH_LOG("%s send on a new socket: %s", PROTO,
				       n < 0 ? strerror(errno) : "sent");
	EXPECT_EQ(1, sigpipes) TH_LOG("%d SIGPIPEs for a send on a new socket", sigpipes);
	n = send(fd, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes) TH_LOG("SIGPIPE despite MSG_NOSIGNAL");
	n = write(fd, "x", 1);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(2, sigpipes) TH_LOG("%d SIGPIPEs after write()", sigpipes);

	expect_recv_notconn(_metadata, fd, PROTO, "a new socket");
	n = read(fd, buf, sizeof(buf));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(0, so_error(fd));
	close(fd);

	l = ns_socket(self->ns.b, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind_to(l, variant->addr_b, PORT));
	ASSERT_EQ(0, listen(l, 8));
	expect_recv_notconn(_metadata, l, PROTO, "a listener");
	EXPECT_EQ(-EINVAL, ioctl_int(l, SIOCINQ)) TH_LOG("SIOCINQ on a listener");
	EXPECT_EQ(-EINVAL, ioctl_int(l, FIONREAD));
	EXPECT_EQ(-EINVAL, ioctl_int(l, SIOCOUTQ)) TH_LOG("SIOCOUTQ on a listener (EINVAL as TCP)");
	EXPECT_EQ(-EINVAL, ioctl_int(l, SIOCOUTQNSD))
		TH_LOG("SIOCOUTQNSD on a listener (EINVAL as TCP)");
	close(l);
}

/*
 * While SYN_SENT (the peer's netns drops the SYN), a non-blocking send()
 * fails EAGAIN; a blocking one waits and completes once the SYN is
 * retransmitted (1 s) and answered.
 */
TEST_F(stream, send_while_connecting)
{
	static struct bg_send bg = { .seed = SEED_AB, .len = 1000, .count = 1 };
	struct rx_result r;
	char why[160];
	int l, c, s, err, st;
	ssize_t n;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	l = ns_socket(self->ns.b, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, bind_to(l, variant->addr_b, PORT));
	ASSERT_EQ(0, listen(l, 8));
	ASSERT_EQ(0, ns_cmd(self->ns.b,
			    "nft 'add table inet etcp_stream; "
			    "add chain inet etcp_stream in { type filter hook input priority 0; }; "
			    "add rule inet etcp_stream in meta l4proto %d @th,104,8 == 0x02 drop'",
			    variant->proto));
	c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, set_nonblock(c, true));
	err = connect_to(c, variant->addr_b, PORT);
	ASSERT_EQ(-EINPROGRESS, err);
	st = sock_state(c, variant->proto);
	ASSERT_EQ(ETCP_SYN_SENT, st);
	n = send(c, "x", 1, MSG_NOSIGNAL);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("non-blocking %s send in SYN_SENT: %s", PROTO,
				       strerror(errno));

	ASSERT_EQ(0, set_nonblock(c, false));
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, 3 * WAIT_MS));
	bg.fd = c;
	ASSERT_EQ(0, bg_send_start(&bg));
	pause_ms(200);
	EXPECT_FALSE(bg_send_done(&bg))
		TH_LOG("a blocking send in SYN_SENT returned %lld at once", bg.ret);
	EXPECT_EQ(ETCP_SYN_SENT, sock_state(c, variant->proto));
	ASSERT_EQ(0, ns_cmd(self->ns.b, "nft delete table inet etcp_stream"));
	ASSERT_TRUE(bg_send_join(&bg, 2 * WAIT_MS))
		TH_LOG("the blocking send did not return after the SYN got through");
	EXPECT_EQ(1000, bg.ret) TH_LOG("blocking send in SYN_SENT: %lld (%s)", bg.ret,
				       bg.ret < 0 ? strerror(-bg.ret) : "bytes");
	EXPECT_EQ(ETCP_ESTABLISHED, sock_state(c, variant->proto));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_TRUE(recv_pat(s, SEED_AB, 0, 1000, WAIT_MS, &r))
		TH_LOG("%s", rx_str(&r, 1000, why, sizeof(why)));
	close(s);
	close(c);
	close(l);
}

/*
 * After the peer reset the connection, the first of SO_ERROR, recv() or
 * send() reports ECONNRESET, once; then send() fails EPIPE (with SIGPIPE
 * unless MSG_NOSIGNAL) and recv() returns 0.  poll() says
 * POLLIN|POLLRDHUP|POLLHUP|POLLERR (and POLLOUT, as TCP) until the error
 * was reported, then the same without POLLERR; epoll sees the reset.
 */
TEST_F(stream, peer_reset)
{
	static const char * const first[] = { "SO_ERROR", "recv", "send" };
	struct epoll_event ee = { .events = EPOLLIN | EPOLLRDHUP };
	int c, s, k, ev, st, ep, n;
	char buf[10];
	ssize_t r;

	ASSERT_EQ(0, catch_sigpipe());
	for (k = 0; k < 3; k++) {
		open_pair(_metadata, self, variant->proto, NULL, &c, &s);
		ep = epoll_create1(0);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, c, &ee));
		EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
		abort_conn(s);
		n = epoll_wait(ep, &ee, 1, WAIT_MS);
		ASSERT_EQ(1, n) TH_LOG("%s: epoll saw no reset", PROTO);
		EXPECT_EQ(EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR, ee.events)
			TH_LOG("epoll events 0x%x after a reset", ee.events);
		close(ep);
		ev = poll_fd(c, POLL_ALL, 0);
		EXPECT_EQ(POLL_RESET, ev) TH_LOG("%s revents 0x%x after a reset, TCP's 0x%x",
						 PROTO, ev, POLL_RESET);
		st = sock_state(c, variant->proto);
		EXPECT_EQ(ETCP_CLOSE, st) TH_LOG("state %d after a reset", st);

		sigpipes = 0;
		switch (k) {
		case 0:
			EXPECT_EQ(ECONNRESET, so_error(c));
			break;
		case 1:
			r = recv(c, buf, sizeof(buf), 0);
			EXPECT_EQ(-1, r);
			EXPECT_EQ(ECONNRESET, errno) TH_LOG("first recv after a reset: %s",
							    r < 0 ? strerror(errno) : "no error");
			break;
		case 2:
			r = send(c, "x", 1, 0);
			EXPECT_EQ(-1, r);
			EXPECT_EQ(ECONNRESET, errno) TH_LOG("first send after a reset: %s",
							    r < 0 ? strerror(errno) : "no error");
			/* As TCP: ECONNRESET is no broken pipe. */
			EXPECT_EQ(0, sigpipes) TH_LOG("SIGPIPE with ECONNRESET");
			break;
		}
		/* Reported once. */
		ev = poll_fd(c, POLL_ALL, 0);
		EXPECT_EQ(POLL_RESET & ~POLLERR, ev)
			TH_LOG("revents 0x%x after %s reported the reset", ev, first[k]);
		EXPECT_EQ(0, so_error(c)) TH_LOG("after %s: SO_ERROR still set", first[k]);
		r = recv(c, buf, sizeof(buf), 0);
		EXPECT_EQ(0, r) TH_LOG("after %s: recv %zd (%s), not end of stream", first[k],
				       r, r < 0 ? strerror(errno) : "bytes");
		r = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
		EXPECT_EQ(0, r);
		sigpipes = 0;
		r = send(c, "x", 1, MSG_NOSIGNAL);
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EPIPE, errno) TH_LOG("after %s: send %s", first[k],
					       r < 0 ? strerror(errno) : "succeeded");
		EXPECT_EQ(0, sigpipes);
		r = send(c, "x", 1, 0);
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EPIPE, errno);
		EXPECT_EQ(1, sigpipes) TH_LOG("after %s: %d SIGPIPEs for one send", first[k],
					      sigpipes);
		r = write(c, "x", 1);
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EPIPE, errno);
		EXPECT_EQ(2, sigpipes);
		close(c);
	}
}

/*
 * MSG_OOB: recv fails EINVAL (no urgent data), with or without normal data
 * queued; etcp has no urgent data to send either (EOPNOTSUPP).
 */
TEST_F(stream, msg_oob)
{
	char buf[10];
	ssize_t n;
	int c, s;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	n = recv(c, buf, sizeof(buf), MSG_OOB);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINVAL, errno) TH_LOG("%s recv(MSG_OOB): %s", PROTO,
					n < 0 ? strerror(errno) : "succeeded");
	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 10));
	ASSERT_EQ(10, wait_ioctl(c, SIOCINQ, 10, WAIT_MS));
	n = recv(c, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(10, ioctl_int(c, SIOCINQ)) TH_LOG("MSG_OOB consumed normal data");
	EXPECT_RECV(c, SEED_BA, 0, 10, "normal data after MSG_OOB");
	if (IS_ETCP) {
		n = send(c, "x", 1, MSG_OOB | MSG_NOSIGNAL);
		EXPECT_EQ(-1, n);
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("etcp send(MSG_OOB): %s",
						    n < 0 ? strerror(errno) : "succeeded");
	}
	close(c);
	close(s);
}

/* --------------------------------------------------- failed sends */

/* The retries2 sysctl of the variant's protocol. */
#define RETRIES2	(IS_ETCP ? "net/ipv4/etcp_retries2" : "net/ipv4/tcp_retries2")
/*
 * How long a connection is watched for what a segment without data left
 * on the write queue would bring: no ACK can acknowledge it (it takes no
 * sequence number), so the retransmission timer (200 ms at least) backs
 * off 0.2, 0.4, 0.8 s and, with retries2 at 3, aborts after 3 s.
 */
#define QUIET_MS	3000

/*
 * Watch @fd for @ms (0: look once): true when it stayed ESTABLISHED with
 * @retrans retransmissions (TCP_INFO/ETCP_INFO) all along and no
 * retransmission timeout pending on a segment (retransmits 0; etcp's
 * resends of a segment without data would count there only).  *si holds
 * what was seen last.
 */
static bool stays_quiet(int fd, int proto, uint32_t retrans, int ms, struct sinfo *si)
{
	long deadline = now_ms() + ms;

	for (;;) {
		if (sinfo_get(fd, proto, si) || si->state != ETCP_ESTABLISHED ||
		    si->total_retrans != retrans || si->retransmits)
			return false;
		if (now_ms() >= deadline)
			return true;
		pause_ms(20);
	}
}

/*
 * The client @fd in netns a stays established for @ms without a
 * retransmission beyond @retrans; for etcp the namespace's counters
 * since @st0 agree (no RetransSegs, Timeouts or AbortOnTimeout).
 */
static void expect_quiet(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
			 int proto, int fd, uint32_t retrans, const struct stats *st0,
			 int ms, const char *what)
{
	static const char * const mibs[] = { "RetransSegs", "Timeouts", "AbortOnTimeout" };
	struct stats st1;
	struct sinfo si;
	unsigned int i;

	EXPECT_TRUE(stays_quiet(fd, proto, retrans, ms, &si))
		TH_LOG("%s: %s state %d, retransmitted %u (%u before), now %d, SIOCOUTQ %d",
		       what, proto_name(proto), si.state, si.total_retrans, retrans,
		       si.retransmits, ioctl_int(fd, SIOCOUTQ));
	if (proto != IPPROTO_ETCP)
		return;
	ASSERT_EQ(0, stats_read(self->ns.a, &st1));
	for (i = 0; i < ARRAY_SIZE(mibs); i++) {
		EXPECT_EQ(0, stat_delta(st0, &st1, mibs[i]))
			TH_LOG("%s: %s grew by %ld", what, mibs[i],
			       stat_delta(st0, &st1, mibs[i]));
	}
}

/*
 * send() of an unmapped buffer fails EFAULT and queues nothing (SIOCOUTQ
 * 0).  Nothing of it may leave later either: an empty skb left on the
 * write queue would go out with the next ACK (here, of the peer's data)
 * as a segment no ACK acknowledges, retransmitted until retries2 (3 here)
 * aborted the connection with its peer alive.  So: the peer's data comes
 * in, QUIET_MS pass without a retransmission, and data still flows the
 * other way afterwards, everything acknowledged.
 */
TEST_F(stream, send_efault)
{
	struct stats st0;
	int c, s, err;
	ssize_t n;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, RETRIES2, "3"));
	ASSERT_EQ(0, stats_read(self->ns.a, &st0));
	n = send(c, (void *)1, 100, MSG_NOSIGNAL);
	err = errno;
	EXPECT_EQ(-1, n) TH_LOG("%s send() from address 1 returned %zd", PROTO, n);
	EXPECT_EQ(EFAULT, err) TH_LOG("%s send() from address 1: %s", PROTO, strerror(err));
	EXPECT_EQ(0, ioctl_int(c, SIOCOUTQ));
	EXPECT_EQ(0, ioctl_int(c, SIOCOUTQNSD));

	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 100));
	EXPECT_RECV(c, SEED_BA, 0, 100, "the peer's data after a send() that faulted");
	expect_quiet(_metadata, self, variant->proto, c, 0, &st0, QUIET_MS,
		     "after EFAULT and the peer's data");

	ASSERT_EQ(0, send_pat(c, SEED_AB, 0, 100));
	EXPECT_RECV(s, SEED_AB, 0, 100, "data sent after a send() that faulted");
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));
	expect_quiet(_metadata, self, variant->proto, c, 0, &st0, 0, "after more data");
	close(c);
	close(s);
}

/*
 * send() of two pages of which the second is unmapped: the call takes
 * some of the first page (etcp: the segments it filled before the fault;
 * TCP copies larger pieces and usually takes nothing) and returns their
 * count, or fails EFAULT having taken nothing.  Exactly those bytes
 * arrive, then the next send()'s; only segments with data leave the
 * client (captured on ea: it has nothing to acknowledge), nothing is
 * retransmitted, and the connection stays established.
 */
TEST_F(stream, send_efault_partial)
{
	long page = sysconf(_SC_PAGESIZE);
	const struct etcp_cap_seg *seg;
	unsigned short cport;
	size_t from, i, empty = 0;
	unsigned char *buf;
	struct stats st0;
	long long wire = 0;
	int c, s, err;
	ssize_t n;

	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	pat_fill(SEED_AB, 0, buf, page);
	ASSERT_EQ(0, mprotect(buf + page, page, PROT_NONE));

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, RETRIES2, "3"));
	cport = local_port(c);
	self->cap = etcp_cap_start(self->ns.a, ETCP_NS_IF_A, variant->proto);
	ASSERT_NE(NULL, self->cap) TH_LOG("capture on %s: %s", ETCP_NS_IF_A, strerror(errno));
	ASSERT_EQ(0, stats_read(self->ns.a, &st0));
	from = etcp_cap_poll(self->cap);

	n = send(c, buf, 2 * page, MSG_NOSIGNAL);
	err = errno;
	TH_LOG("%s: send() of a readable and an unmapped page: %zd (%s)", PROTO, n,
	       n < 0 ? strerror(err) : "bytes");
	if (n < 0) {
		EXPECT_EQ(EFAULT, err);
		n = 0;
	}
	EXPECT_GE(page, n) TH_LOG("send() took %zd bytes, %ld were readable", n, page);
	EXPECT_RECV(s, SEED_AB, 0, n, "what the faulting send() took");
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));

	etcp_cap_poll(self->cap);
	for (i = from; i < self->cap->n; i++) {
		seg = &self->cap->seg[i];
		if (!seg->out || seg->sport != cport)
			continue;
		if (seg->len)
			wire += seg->len;
		else
			empty++;
	}
	EXPECT_EQ(0U, empty) TH_LOG("%zu segments without data left the client: %s",
				    empty, etcp_cap_str(self->cap));
	EXPECT_EQ(n, wire) TH_LOG("%lld bytes on the wire for %zd taken: %s", wire, n,
				  etcp_cap_str(self->cap));

	ASSERT_EQ(0, send_pat(c, SEED_AB, n, 1000));
	EXPECT_RECV(s, SEED_AB, n, 1000, "the next send()'s bytes");
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));
	EXPECT_EQ(0, ioctl_int(s, SIOCINQ)) TH_LOG("more bytes arrived than were taken");
	expect_quiet(_metadata, self, variant->proto, c, 0, &st0, 0, "after a partial send()");
	munmap(buf, 2 * page);
	close(c);
	close(s);
}

/* SIGALRMs this process received since send_full_buffer set the timer. */
static int alarms;

static void on_alarm(int sig)
{
	(void)sig;
	/* Lock-free, so safe in a signal handler. */
	__atomic_add_fetch(&alarms, 1, __ATOMIC_RELAXED);
}

/*
 * Top the send buffer of @fd up with stream SEED_AB from @pos until
 * send(MSG_DONTWAIT) fails EAGAIN once nothing is in flight any more
 * (SIOCOUTQ == SIOCOUTQNSD) and data waits (the peer's window is shut):
 * then no ACK can make room.  The bytes written, or -errno (-ETIMEDOUT:
 * it never settled).
 */
static long long fill_shut(int fd, uint64_t pos, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	unsigned char buf[1000];
	long long written = 0;
	int outq, nsd;
	ssize_t n;

	for (;;) {
		pat_fill(SEED_AB, pos + written, buf, sizeof(buf));
		n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			written += n;
			continue;
		}
		if (n == 0 || errno != EAGAIN)
			return n ? -errno : -EIO;
		outq = ioctl_int(fd, SIOCOUTQ);
		nsd = ioctl_int(fd, SIOCOUTQNSD);
		if (outq < 0 || nsd < 0)
			return outq < 0 ? outq : nsd;
		if (outq == nsd && nsd > 0)
			return written;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_step();
	}
}

/*
 * Against a peer that does not read, with the send buffer full and the
 * window shut: send() with MSG_DONTWAIT fails EAGAIN at once, and a
 * blocking send() that a signal interrupts (its handler installed without
 * SA_RESTART, the timer repeating every 100 ms in case one comes before
 * the call sleeps) fails EINTR.  Neither takes a byte: once the peer
 * reads, exactly the bytes written before arrive, then the next send()'s,
 * all are acknowledged, and for QUIET_MS (retries2 3) nothing is
 * retransmitted and the connection stays established.
 */
TEST_F(stream, send_full_buffer)
{
	struct itimerval every = { .it_interval = { 0, 100000 }, .it_value = { 0, 100000 } };
	struct bufs b = { .c_snd = SMALL_BUF, .s_rcv = SMALL_BUF };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval stop = {};
	unsigned char buf[1000];
	long long filled, more;
	struct rx_result r;
	struct stats st0;
	struct sinfo si;
	int c, s, outq, err;
	char why[160];
	long t0, ms;
	ssize_t n;

	open_pair(_metadata, self, variant->proto, &b, &c, &s);
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, RETRIES2, "3"));
	filled = fill_sndbuf(c, SEED_AB, 0);
	ASSERT_LT(0, filled) TH_LOG("%s: filling against a receiver that does not read: %s",
				    PROTO, filled ? strerror(-filled) : "nothing fit");
	more = fill_shut(c, filled, WAIT_MS);
	ASSERT_LE(0, more) TH_LOG("%s: waiting for the window to shut: %s", PROTO,
				  strerror(-more));
	filled += more;
	ASSERT_EQ(0, sinfo_get(c, variant->proto, &si));
	ASSERT_EQ(0, stats_read(self->ns.a, &st0));
	outq = ioctl_int(c, SIOCOUTQ);
	pat_fill(SEED_AB, filled, buf, sizeof(buf));

	n = send(c, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
	err = errno;
	EXPECT_EQ(-1, n) TH_LOG("%s MSG_DONTWAIT send() into a full buffer took %zd", PROTO, n);
	EXPECT_EQ(EAGAIN, err) TH_LOG("%s MSG_DONTWAIT send() into a full buffer: %s", PROTO,
				      strerror(err));
	EXPECT_GE(outq, ioctl_int(c, SIOCOUTQ));

	/* SO_SNDTIMEO bounds the call should every signal miss it. */
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, WAIT_MS));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	__atomic_store_n(&alarms, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &every, NULL));
	t0 = now_ms();
	n = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
	err = errno;
	ms = now_ms() - t0;
	setitimer(ITIMER_REAL, &stop, NULL);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-1, n) TH_LOG("%s blocking send() into a full buffer took %zd", PROTO, n);
	EXPECT_EQ(EINTR, err) TH_LOG("%s blocking send(), full buffer, %ld ms, %d signals: %s",
				     PROTO, ms, __atomic_load_n(&alarms, __ATOMIC_RELAXED),
				     strerror(err));
	EXPECT_GE(outq, ioctl_int(c, SIOCOUTQ));

	EXPECT_TRUE(recv_pat(s, SEED_AB, 0, filled, 4 * WAIT_MS, &r))
		TH_LOG("draining %lld bytes: %s", filled, rx_str(&r, filled, why, sizeof(why)));
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));
	EXPECT_EQ(0, ioctl_int(s, SIOCINQ)) TH_LOG("more bytes arrived than were written");
	ASSERT_EQ(0, send_pat(c, SEED_AB, filled, sizeof(buf)));
	EXPECT_RECV(s, SEED_AB, filled, sizeof(buf), "the next send()'s bytes");
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));
	expect_quiet(_metadata, self, variant->proto, c, si.total_retrans, &st0, QUIET_MS,
		     "after EAGAIN and EINTR");
	close(c);
	close(s);
}

/* ----------------------------------------------------------- timeouts */

/* SO_RCVTIMEO: recv fails EAGAIN after the timeout; the socket still works. */
TEST_F(stream, rcvtimeo)
{
	char buf[10];
	ssize_t n;
	long t0, ms;
	int c, s;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, TIMEO_MS));
	t0 = now_ms();
	n = recv(c, buf, sizeof(buf), 0);
	ms = now_ms() - t0;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("%s recv with SO_RCVTIMEO: %s", PROTO,
				       n < 0 ? strerror(errno) : "data");
	EXPECT_LE(TIMEO_MS - TIMEO_EARLY_MS, ms) TH_LOG("recv gave up after %ld ms of %d",
							ms, TIMEO_MS);
	EXPECT_GE(TIMEO_MS + TIMEO_SLACK_MS, ms) TH_LOG("recv gave up after %ld ms of %d",
							ms, TIMEO_MS);
	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 10));
	EXPECT_RECV(c, SEED_BA, 0, 10, "after a timeout");
	close(c);
	close(s);
}

/*
 * SO_SNDTIMEO against a peer that does not read, with small buffers: a
 * large send() returns what fit after the timeout; once the buffer is full
 * a send() fails EAGAIN after the timeout.
 */
TEST_F(stream, sndtimeo)
{
	struct bufs b = { .c_snd = 4096, .s_rcv = 4096 };
	size_t len = 1 * MIB;
	unsigned char *buf;
	long long filled;
	ssize_t n;
	long t0, ms;
	int c, s;

	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	open_pair(_metadata, self, variant->proto, &b, &c, &s);
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, TIMEO_MS));
	pat_fill(SEED_AB, 0, buf, len);
	t0 = now_ms();
	n = send(c, buf, len, MSG_NOSIGNAL);
	ms = now_ms() - t0;
	ASSERT_LT(0, n) TH_LOG("%s send of 1 MiB with SO_SNDTIMEO: %s", PROTO,
			       n < 0 ? strerror(errno) : "0");
	EXPECT_GT((ssize_t)len, n) TH_LOG("1 MiB fit into a %d-byte send buffer",
					  sockopt_get(c, SOL_SOCKET, SO_SNDBUF));
	EXPECT_LE(TIMEO_MS - TIMEO_EARLY_MS, ms) TH_LOG("send returned %zd after %ld ms of %d",
							n, ms, TIMEO_MS);
	EXPECT_GE(TIMEO_MS + TIMEO_SLACK_MS, ms) TH_LOG("send returned %zd after %ld ms of %d",
							n, ms, TIMEO_MS);

	filled = fill_sndbuf(c, SEED_AB, n);
	ASSERT_LE(0, filled) TH_LOG("filling the send buffer: %s", strerror(-filled));
	t0 = now_ms();
	n = send(c, buf, len, MSG_NOSIGNAL);
	ms = now_ms() - t0;
	EXPECT_EQ(-1, n) TH_LOG("send into a full buffer returned %zd", n);
	EXPECT_EQ(EAGAIN, errno) TH_LOG("send into a full buffer: %s", strerror(errno));
	EXPECT_LE(TIMEO_MS - TIMEO_EARLY_MS, ms) TH_LOG("send gave up after %ld ms of %d",
							ms, TIMEO_MS);
	EXPECT_GE(TIMEO_MS + TIMEO_SLACK_MS, ms) TH_LOG("send gave up after %ld ms of %d",
							ms, TIMEO_MS);
	free(buf);
	close(c);
	close(s);
}

/* --------------------------------------------------------- SO_RCVLOWAT */

/*
 * SO_RCVLOWAT 1000: a recv() started on an empty queue waits while the
 * peer sends 550 bytes (at 100 ms), returns once it sent 550 more (at
 * 200 ms), with all 1100.  Then 999 bytes queued: no POLLIN; one more:
 * POLLIN.  (A recv() that already copied some bytes waits for the rest
 * until SO_RCVTIMEO in Linux TCP: its wakeup compares SO_RCVLOWAT with the
 * bytes still queued.  Not tested.)
 */
TEST_F(stream, rcvlowat)
{
	static struct bg_send bg = { .seed = SEED_BA, .len = 550, .count = 2,
				     .delay_ms = 100 };
	unsigned char buf[4096];
	ssize_t n;
	long t0, ms;
	int c, s, ev;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ASSERT_EQ(0, sockopt_set(c, SOL_SOCKET, SO_RCVLOWAT, 1000));
	EXPECT_EQ(1000, sockopt_get(c, SOL_SOCKET, SO_RCVLOWAT));
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, WAIT_MS));
	bg.fd = s;
	ASSERT_EQ(0, bg_send_start(&bg));
	t0 = now_ms();
	n = recv(c, buf, sizeof(buf), 0);
	ms = now_ms() - t0;
	ASSERT_TRUE(bg_send_join(&bg, WAIT_MS));
	ASSERT_EQ(1100, bg.ret);
	ASSERT_LE(1000, n) TH_LOG("%s recv with SO_RCVLOWAT 1000 returned %zd after %ld ms (%s)",
				  PROTO, n, ms, n < 0 ? strerror(errno) : "bytes");
	ASSERT_GE(1100, n);
	EXPECT_LE(150, ms) TH_LOG("recv returned after %ld ms, the mark was reached at 200 ms", ms);
	EXPECT_GT(WAIT_MS / 2, ms) TH_LOG("recv returned after %ld ms: woken by SO_RCVTIMEO?", ms);
	if (n < 1100) {
		ASSERT_EQ(1100 - n, recv(c, buf + n, 1100 - n, MSG_WAITALL));
	}
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, buf, 1100));

	ASSERT_EQ(0, send_pat(s, SEED_BA, 1100, 999));
	ASSERT_EQ(999, wait_ioctl(c, SIOCINQ, 999, WAIT_MS));
	ev = poll_fd(c, POLLIN | POLLOUT, 0);
	EXPECT_EQ(POLLOUT, ev) TH_LOG("999 bytes queued, SO_RCVLOWAT 1000: revents 0x%x", ev);
	ASSERT_EQ(0, send_pat(s, SEED_BA, 2099, 1));
	ev = wait_event(c, POLLIN, WAIT_MS);
	EXPECT_EQ(POLLIN, ev & POLLIN)
		TH_LOG("1000 bytes queued, SO_RCVLOWAT 1000: revents 0x%x", ev);
	EXPECT_RECV(c, SEED_BA, 1100, 1000, "after reaching the low-water mark");
	close(c);
	close(s);
}

/* --------------------------------------------------------------- ioctl */

/*
 * SIOCINQ (FIONREAD) counts what the peer sent and we did not read yet;
 * SIOCOUTQ and SIOCOUTQNSD reach 0 once the peer acknowledged, reading or
 * not.
 */
TEST_F(stream, inq_outq)
{
	int c, s, q;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	EXPECT_EQ(0, ioctl_int(c, SIOCINQ));
	EXPECT_EQ(0, ioctl_int(c, SIOCOUTQ));
	EXPECT_EQ(0, ioctl_int(c, SIOCOUTQNSD));
	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 1000));
	ASSERT_EQ(0, send_pat(s, SEED_BA, 1000, 1));
	ASSERT_EQ(0, send_pat(s, SEED_BA, 1001, 1999));
	q = wait_ioctl(c, SIOCINQ, 3000, WAIT_MS);
	EXPECT_EQ(3000, q) TH_LOG("%s SIOCINQ %d after the peer sent 3000", PROTO, q);
	EXPECT_EQ(3000, ioctl_int(c, FIONREAD));
	q = wait_ioctl(s, SIOCOUTQ, 0, WAIT_MS);
	EXPECT_EQ(0, q) TH_LOG("SIOCOUTQ %d: the peer received all but did not acknowledge",
			       q);
	EXPECT_EQ(0, ioctl_int(s, SIOCOUTQNSD));
	EXPECT_RECV(c, SEED_BA, 0, 1000, "first 1000");
	EXPECT_EQ(2000, ioctl_int(c, SIOCINQ));
	EXPECT_RECV(c, SEED_BA, 1000, 2000, "last 2000");
	EXPECT_EQ(0, ioctl_int(c, SIOCINQ));

	ASSERT_EQ(0, send_pat(c, SEED_AB, 0, 100 * 1000));
	q = wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS);
	EXPECT_EQ(0, q) TH_LOG("SIOCOUTQ %d after 100000 bytes sent", q);
	q = wait_ioctl(s, SIOCINQ, 100 * 1000, WAIT_MS);
	EXPECT_EQ(100 * 1000, q);
	EXPECT_RECV(s, SEED_AB, 0, 100 * 1000, "100000 bytes");
	close(c);
	close(s);
}

/* SO_SNDBUF/SO_RCVBUF: doubled (as TCP), inherited by an accepted socket. */
TEST_F(stream, buffer_sizes)
{
	int l, c, s;

	l = ns_socket(self->ns.b, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, l);
	ASSERT_EQ(0, set_bufs(l, 30000, 20000));
	EXPECT_EQ(60000, sockopt_get(l, SOL_SOCKET, SO_SNDBUF));
	EXPECT_EQ(40000, sockopt_get(l, SOL_SOCKET, SO_RCVBUF));
	ASSERT_EQ(0, bind_to(l, variant->addr_b, PORT));
	ASSERT_EQ(0, listen(l, 8));
	c = ns_socket(self->ns.a, variant->family, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, connect_to(c, variant->addr_b, PORT));
	s = accept(l, NULL, NULL);
	ASSERT_LE(0, s);
	EXPECT_EQ(60000, sockopt_get(s, SOL_SOCKET, SO_SNDBUF))
		TH_LOG("%s accepted socket did not inherit the listener's SO_SNDBUF", PROTO);
	EXPECT_EQ(40000, sockopt_get(s, SOL_SOCKET, SO_RCVBUF))
		TH_LOG("%s accepted socket did not inherit the listener's SO_RCVBUF", PROTO);
	close(s);
	close(c);
	close(l);
}

/* ---------------------------------------------------------- poll/epoll */

/*
 * An idle connection is exactly POLLOUT|POLLWRNORM; data makes it
 * POLLIN|POLLRDNORM too, reading it all takes that away again.
 */
TEST_F(stream, poll_data)
{
	unsigned char buf[100];
	int c, s, ev;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM, ev) TH_LOG("%s idle client: revents 0x%x", PROTO, ev);
	ev = poll_fd(s, POLL_ALL, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM, ev) TH_LOG("%s idle accepted socket: revents 0x%x",
						   PROTO, ev);
	ASSERT_EQ(0, send_pat(s, SEED_BA, 0, 100));
	ev = wait_event(c, POLLIN, WAIT_MS);
	EXPECT_EQ(POLLIN, ev) TH_LOG("no POLLIN when data arrived: 0x%x", ev);
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, ev)
		TH_LOG("with 100 bytes to read: revents 0x%x", ev);
	ASSERT_EQ(60, recv(c, buf, 60, 0));
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, ev)
		TH_LOG("with 40 bytes left: revents 0x%x", ev);
	ASSERT_EQ(40, recv(c, buf + 60, 40, 0));
	EXPECT_EQ(-1, pat_check(SEED_BA, 0, buf, 100));
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM, ev) TH_LOG("all read: revents 0x%x", ev);
	close(c);
	close(s);
}

/*
 * Against a peer that does not read, POLLOUT goes once the send buffer
 * and the window are full; when the peer reads, the window opens, ACKs
 * free the buffer and POLLOUT comes back, an EPOLLOUT edge for epoll.
 */
TEST_F(stream, poll_sndbuf)
{
	struct bufs b = { .c_snd = SMALL_BUF, .s_rcv = SMALL_BUF };
	struct epoll_event ee = { .events = EPOLLOUT | EPOLLET };
	unsigned char *buf = malloc(CHUNK);
	long long filled;
	uint64_t rcvd = 0;
	long deadline, bad;
	int c, s, ep, n, ev;
	ssize_t r;

	ASSERT_NE(NULL, buf);
	open_pair(_metadata, self, variant->proto, &b, &c, &s);
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, c, &ee));
	/* Writable when added: one edge, then none. */
	n = epoll_wait(ep, &ee, 1, 0);
	EXPECT_EQ(1, n);
	EXPECT_EQ(EPOLLOUT, ee.events);
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0)) TH_LOG("EPOLLET reported EPOLLOUT twice");

	filled = fill_sndbuf(c, SEED_AB, 0);
	ASSERT_LT(0, filled) TH_LOG("filling the send buffer: %s",
				    filled ? strerror(-filled) : "nothing fit");
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(0, ev) TH_LOG("%s: full send buffer, peer not reading: revents 0x%x",
				PROTO, ev);
	/* Consume the edges of the filling; none may come while full. */
	while (epoll_wait(ep, &ee, 1, 0) > 0)
		;
	EXPECT_EQ(0, poll_fd(c, POLLOUT, 0));

	/* The peer reads (and checks) until POLLOUT is back. */
	deadline = now_ms() + WAIT_MS;
	n = 0;
	while (!n && now_ms() < deadline) {
		r = recv(s, buf, CHUNK, MSG_DONTWAIT);
		if (r > 0) {
			bad = pat_check(SEED_AB, rcvd, buf, r);
			ASSERT_EQ(-1, bad) TH_LOG("byte %llu of the stream is wrong",
						  (unsigned long long)(rcvd + bad));
			rcvd += r;
		}
		n = epoll_wait(ep, &ee, 1, 10);
	}
	EXPECT_EQ(1, n) TH_LOG("no EPOLLOUT edge after the peer read %llu of %lld bytes",
			       (unsigned long long)rcvd, filled);
	EXPECT_EQ(EPOLLOUT, ee.events & EPOLLOUT);
	ev = poll_fd(c, POLL_ALL, 0);
	EXPECT_EQ(POLLOUT | POLLWRNORM, ev) TH_LOG("after the peer read: revents 0x%x", ev);
	EXPECT_TRUE(rcvd > 0 && rcvd <= (uint64_t)filled);
	EXPECT_RECV(s, SEED_AB, rcvd, filled - rcvd, "the rest of the filling");
	close(ep);
	free(buf);
	close(c);
	close(s);
}

/* -------------------------------------------------------- zero window */

/*
 * The receiver does not read.  The sender writes (non-blocking) until
 * EAGAIN: what the receiver holds stays within its SO_RCVBUF, what the
 * sender holds within its SO_SNDBUF, every byte written is in one of the
 * two, and nothing moves while the window stays shut (zero-window probes
 * carry no data).  A blocking send() then waits; the receiver reads
 * everything, every byte is right and the blocked send() completes.
 */
TEST_F(stream, zero_window)
{
	const char *probes = IS_ETCP ? "ZeroWindowProbes" : "TCPWinProbe";
	struct bufs b = { .c_snd = SMALL_BUF, .s_rcv = SMALL_BUF };
	static struct bg_send bg = { .seed = SEED_AB, .len = 200 * 1000, .count = 1 };
	int c, s, rcvbuf, sndbuf, inq, outq, nsd, inq2, outq2;
	long long written;
	long deadline, p0, p1;
	struct etcp_info ei;
	struct rx_result r;
	char why[160];

	open_pair(_metadata, self, variant->proto, &b, &c, &s);
	rcvbuf = sockopt_get(s, SOL_SOCKET, SO_RCVBUF);
	sndbuf = sockopt_get(c, SOL_SOCKET, SO_SNDBUF);
	p0 = read_counter(self->ns.a, variant->proto, probes);

	written = fill_sndbuf(c, SEED_AB, 0);
	ASSERT_LT(0, written) TH_LOG("%s: filling against a receiver that does not read: %s",
				     PROTO, written ? strerror(-written) : "nothing fit");
	/* Every byte is acknowledged (in the receiver) or still queued here. */
	deadline = now_ms() + WAIT_MS;
	do {
		inq = ioctl_int(s, SIOCINQ);
		outq = ioctl_int(c, SIOCOUTQ);
		if (inq + outq == written)
			break;
		pause_step();
	} while (now_ms() < deadline);
	TH_LOG("%s: wrote %lld: receiver holds %d (SO_RCVBUF %d), sender %d (SO_SNDBUF %d)",
	       PROTO, written, inq, rcvbuf, outq, sndbuf);
	EXPECT_EQ(written, inq + outq)
		TH_LOG("%lld written, SIOCINQ %d + SIOCOUTQ %d", written, inq, outq);
	EXPECT_LT(0, inq);
	EXPECT_GE(rcvbuf, inq) TH_LOG("the receiver holds %d bytes, SO_RCVBUF is %d",
				      inq, rcvbuf);
	EXPECT_LT(0, outq) TH_LOG("nothing queued at the sender with the window shut");
	EXPECT_GE(sndbuf + (IS_ETCP ? 0 : TCP_SKB_SLACK), outq)
		TH_LOG("the sender holds %d bytes, SO_SNDBUF is %d", outq, sndbuf);
	nsd = ioctl_int(c, SIOCOUTQNSD);
	EXPECT_LT(0, nsd) TH_LOG("SIOCOUTQNSD %d with the window shut", nsd);
	EXPECT_GE(outq, nsd);
	if (IS_ETCP) {
		ASSERT_EQ(0, etcp_info_of(s, &ei));
		EXPECT_EQ(0U, ei.etcpi_rcv_wnd) TH_LOG("receiver announces %u", ei.etcpi_rcv_wnd);
		ASSERT_EQ(0, etcp_info_of(c, &ei));
		EXPECT_EQ(0U, ei.etcpi_snd_wnd) TH_LOG("sender sees a window of %u",
						       ei.etcpi_snd_wnd);
	}

	/* Window probes keep coming (the first after an RTO); no data moves. */
	deadline = now_ms() + WAIT_MS;
	do {
		p1 = read_counter(self->ns.a, variant->proto, probes);
		if (p1 > p0)
			break;
		pause_step();
	} while (now_ms() < deadline);
	EXPECT_LT(p0, p1) TH_LOG("%s counter %s stayed at %ld with the window shut",
				 PROTO, probes, p1);
	inq2 = ioctl_int(s, SIOCINQ);
	outq2 = ioctl_int(c, SIOCOUTQ);
	EXPECT_EQ(inq, inq2) TH_LOG("the receiver went from %d to %d bytes while shut",
				    inq, inq2);
	EXPECT_EQ(outq, outq2);

	/* A blocking send waits for room. */
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, 4 * WAIT_MS));
	bg.fd = c;
	bg.pos = written;
	ASSERT_EQ(0, bg_send_start(&bg));
	pause_ms(300);
	EXPECT_FALSE(bg_send_done(&bg))
		TH_LOG("a blocking send returned %lld with the window shut", bg.ret);

	EXPECT_TRUE(recv_pat(s, SEED_AB, 0, written + bg.len, 4 * WAIT_MS, &r))
		TH_LOG("draining %lld + %zu bytes: %s", written, bg.len,
		       rx_str(&r, written + bg.len, why, sizeof(why)));
	ASSERT_TRUE(bg_send_join(&bg, WAIT_MS));
	EXPECT_EQ((long long)bg.len, bg.ret) TH_LOG("the blocked send returned %lld (%s)",
						    bg.ret, bg.ret < 0 ?
						    strerror(-bg.ret) : "bytes");
	EXPECT_EQ(0, wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS));
	EXPECT_EQ(0, ioctl_int(s, SIOCINQ));
	close(c);
	close(s);
}

/* ---------------------------------------------------------- integrity */

/*
 * Transfers of 1, MSS - 1, MSS, MSS + 1 (1460 over IPv4, 1440 over
 * IPv6), 65535, 1 MiB and 16 MiB in both directions at once, each size
 * one after the other on one connection (each write as large as the size,
 * up to 256 KiB).
 */
TEST_F_TIMEOUT(stream, integrity_sizes, 180)
{
	const uint64_t mss = ETCP_NS_MSS(variant->family);
	const uint64_t sizes[] = { 1, mss - 1, mss, mss + 1, 65535, MIB, 16 * MIB };
	struct xfer_opt o = { .wmax = CHUNK, .rmax = CHUNK, .timeout_ms = 60000 };
	struct flow f[2];
	char what[64];
	unsigned int i;
	int c, s;

	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	flow_init(&f[0], "a->b", c, s, SEED_AB);
	flow_init(&f[1], "b->a", s, c, SEED_BA);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		f[0].total += sizes[i];
		f[1].total += sizes[i];
		snprintf(what, sizeof(what), "%llu bytes each way",
			 (unsigned long long)sizes[i]);
		run_xfer(_metadata, variant->proto, f, 2, &o, what);
	}
	flow_free(&f[0]);
	flow_free(&f[1]);
	close(c);
	close(s);
}

/* @bytes each way at once over a new pair, as @o says; @what names it in failures. */
static void xfer_each_way(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
			  int proto, uint64_t bytes, const struct xfer_opt *o,
			  const char *what)
{
	struct flow f[2];
	int c, s;

	open_pair(_metadata, self, proto, NULL, &c, &s);
	flow_init(&f[0], "a->b", c, s, SEED_AB);
	flow_init(&f[1], "b->a", s, c, SEED_BA);
	f[0].total = bytes;
	f[1].total = bytes;
	run_xfer(_metadata, proto, f, 2, o, what);
	flow_free(&f[0]);
	flow_free(&f[1]);
	close(c);
	close(s);
}

/* 4 MiB each way at once, writes and reads of random sizes (1 to 64 KiB). */
TEST_F_TIMEOUT(stream, integrity_random, 120)
{
	struct xfer_opt o = { .wmax = 65536, .rmax = 65536, .random = true,
			      .seed = size_seed(), .timeout_ms = 90000 };

	TH_LOG("random sizes: ETCP_STREAM_SEED=%u", o.seed);
	xfer_each_way(_metadata, self, variant->proto, 4 * MIB, &o,
		      "4 MiB each way, random sizes");
}

/* A blocking sender or receiver thread for integrity_threads. */
struct worker {
	pthread_t th;
	int fd;
	bool tx;
	uint64_t seed, total, done;
	uint32_t rs;			/* random sizes */
	long deadline;
	int err;			/* errno of the failing call, ENODATA: end */
	long long bad;			/* stream offset of a wrong byte, -1 */
	int *stop;			/* shared: set on the first failure */
};

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned char *buf = malloc(65536);
	size_t len;
	ssize_t n;
	long bad;

	if (!buf) {
		w->err = ENOMEM;
		goto out;
	}
	while (w->done < w->total && !__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		if (now_ms() > w->deadline) {
			w->err = ETIMEDOUT;
			break;
		}
		len = pick_size(&w->rs, 65536, true);
		if (len > w->total - w->done)
			len = w->total - w->done;
		if (w->tx) {
			pat_fill(w->seed, w->done, buf, len);
			n = send(w->fd, buf, len, MSG_NOSIGNAL);
		} else {
			n = recv(w->fd, buf, len, 0);
		}
		/* SO_SNDTIMEO/SO_RCVTIMEO: look at the deadline and the others. */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			w->err = n < 0 ? errno : ENODATA;
			break;
		}
		/* A send cut short by SO_SNDTIMEO resends the rest next round. */
		if (!w->tx) {
			bad = pat_check(w->seed, w->done, buf, n);
			if (bad >= 0) {
				w->bad = w->done + bad;
				break;
			}
		}
		w->done += n;
	}
	free(buf);
out:
	if (w->err || w->bad >= 0)
		__atomic_store_n(w->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * 4 MiB each way at once with four blocking threads (each socket sending
 * in one thread and receiving in another), random sizes.
 */
TEST_F_TIMEOUT(stream, integrity_threads, 120)
{
	static const char * const names[] = { "a sends", "b receives", "b sends", "a receives" };
	unsigned int seed = size_seed();
	static struct worker w[4];
	static int stop;
	long t0, ms;
	int c, s, i, q;

	TH_LOG("random sizes: ETCP_STREAM_SEED=%u", seed);
	open_pair(_metadata, self, variant->proto, NULL, &c, &s);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){
			.fd = (i == 0 || i == 3) ? c : s,
			.tx = !(i & 1),
			.seed = i < 2 ? SEED_AB : SEED_BA,
			.total = 4 * MIB,
			.rs = (seed + i * 0x9e3779b9U) | 1,
			.deadline = now_ms() + 90000,
			.bad = -1,
			.stop = &stop,
		};
	}
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, 500));
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, 500));
	ASSERT_EQ(0, set_timeo(s, SO_SNDTIMEO, 500));
	ASSERT_EQ(0, set_timeo(s, SO_RCVTIMEO, 500));
	t0 = now_ms();
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, worker_fn, &w[i]));
	for (i = 0; i < 4; i++)
		pthread_join(w[i].th, NULL);
	ms = now_ms() - t0;
	TH_LOG("threads: %s: 2 x 4 MiB in %ld ms", PROTO, ms);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, w[i].err) TH_LOG("%s: %s after %llu of %llu bytes", names[i],
					      w[i].err == ENODATA ? "end of stream" :
					      strerror(w[i].err),
					      (unsigned long long)w[i].done,
					      (unsigned long long)w[i].total);
		EXPECT_EQ(-1, w[i].bad) TH_LOG("%s: byte %lld of the stream is wrong",
					       names[i], w[i].bad);
		EXPECT_EQ(w[i].total, w[i].done);
	}
	q = wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS);
	EXPECT_EQ(0, q);
	q = wait_ioctl(s, SIOCOUTQ, 0, WAIT_MS);
	EXPECT_EQ(0, q);
	close(c);
	close(s);
}

/* 100 MiB each way at once, writes and reads of 256 KiB. */
TEST_F_TIMEOUT(stream, integrity_100mib, 300)
{
	struct xfer_opt o = { .wmax = CHUNK, .rmax = CHUNK, .timeout_ms = 240000 };

	xfer_each_way(_metadata, self, variant->proto, 100 * MIB, &o, "100 MiB each way");
}

/* -------------------------------------------------------------- netem */

/*
 * @bytes each way at once, random sizes, with "netem @args" on both ea
 * and eb (so data and ACKs of both directions suffer); with @sack, SACK
 * on in both namespaces (tcp_sack, etcp_sack), else as they are.
 */
static void netem_xfer(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
		       int proto, const char *args, uint64_t bytes, bool sack)
{
	struct xfer_opt o = { .wmax = 65536, .rmax = 65536, .random = true,
			      .seed = size_seed(), .timeout_ms = 90000 };
	char what[128];

	if (!have_prog("tc"))
		SKIP(return, "needs tc(8)");
	/*
	 * Each end knows the other's link address for good: with 10% loss,
	 * ARP or neighbour discovery could fail three times over, and
	 * connect() see EHOSTUNREACH, which is not what these tests are about.
	 */
	ASSERT_EQ(0, ns_neigh_pin(self->ns.a, ETCP_NS_IF_A, ETCP_NS_ADDR_B, ETCP_NS_ADDR6_B,
				  self->ns.name_b, ETCP_NS_IF_B));
	ASSERT_EQ(0, ns_neigh_pin(self->ns.b, ETCP_NS_IF_B, ETCP_NS_ADDR_A, ETCP_NS_ADDR6_A,
				  self->ns.name_a, ETCP_NS_IF_A));
	ASSERT_EQ(0, ns_cmd(self->ns.a, "tc qdisc add dev %s root netem %s",
			    ETCP_NS_IF_A, args));
	ASSERT_EQ(0, ns_cmd(self->ns.b, "tc qdisc add dev %s root netem %s",
			    ETCP_NS_IF_B, args));
	if (sack) {
		ASSERT_EQ(0, proto_sysctl_set(self->ns.a, proto, "sack", 1));
		ASSERT_EQ(0, proto_sysctl_set(self->ns.b, proto, "sack", 1));
	}
	snprintf(what, sizeof(what), "netem %s%s, %llu KiB each way (ETCP_STREAM_SEED=%u)",
		 args, sack ? ", SACK" : "", (unsigned long long)(bytes / KIB), o.seed);
	xfer_each_way(_metadata, self, proto, bytes, &o, what);
}

/*
 * netem_xfer() with SACK on both ends (tcp_sack, etcp_sack): the data
 * comes through whole, and for etcp, where @recoveries, the losses were
 * recovered by RFC 6675's SACK recovery (etcp_stat SackRecovery) in
 * either namespace, not by NewReno alone.
 */
static void netem_sack_xfer(struct __test_metadata *_metadata,
			    FIXTURE_DATA(stream) *self, int proto, const char *args,
			    uint64_t bytes, bool recoveries)
{
	long before = 0, after;

	if (proto != IPPROTO_TCP)
		before = stat_now(self->ns.a, "SackRecovery") +
			 stat_now(self->ns.b, "SackRecovery");
	netem_xfer(_metadata, self, proto, args, bytes, true);
	if (proto == IPPROTO_TCP || !recoveries)
		return;
	after = stat_now(self->ns.a, "SackRecovery") +
		stat_now(self->ns.b, "SackRecovery");
	EXPECT_LT(before, after) TH_LOG("no SACK recovery under netem %s", args);
}

TEST_F_TIMEOUT(stream, netem_loss_1, 120)
{
	netem_xfer(_metadata, self, variant->proto, "loss 1%", 2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_loss_10, 120)
{
	netem_xfer(_metadata, self, variant->proto, "loss 10%", 512 * KIB, false);
}

TEST_F_TIMEOUT(stream, netem_reorder, 120)
{
	netem_xfer(_metadata, self, variant->proto, "delay 10ms reorder 25% 50%", 2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_duplicate, 120)
{
	netem_xfer(_metadata, self, variant->proto, "duplicate 5%", 2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_sack_loss_1, 120)
{
	netem_sack_xfer(_metadata, self, variant->proto, "loss 1%", 2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_sack_loss_10, 120)
{
	netem_sack_xfer(_metadata, self, variant->proto, "loss 10%", 512 * KIB, true);
}

TEST_F_TIMEOUT(stream, netem_sack_reorder, 120)
{
	netem_sack_xfer(_metadata, self, variant->proto, "delay 10ms reorder 25% 50%",
			2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_sack_duplicate, 120)
{
	netem_sack_xfer(_metadata, self, variant->proto, "duplicate 5%", 2 * MIB, false);
}

TEST_F_TIMEOUT(stream, netem_delay, 120)
{
	netem_xfer(_metadata, self, variant->proto, "delay 20ms", 2 * MIB, false);
}

/* ------------------------------------------- receive-buffer autotuning */

/* One way: netem on ea delays the data, so the round trip is at least this. */
#define TUNE_DELAY_MS	10
/* etcp's ETCP_RMEM_MAX: as far as its buffer grows (TCP's: tcp_rmem[2]). */
#define TUNE_RMEM_MAX	(6 * MIB)

/*
 * As far as the variant's receive buffer grows in netns nsfd: for TCP
 * tcp_rmem[2] there (6 MiB by default up to 6.12, 32 MiB in 7.2).
 */
static long rmem_max_of(struct __test_metadata *_metadata, int nsfd, int proto)
{
	long min, def, max;
	char buf[64];

	if (proto == IPPROTO_ETCP)
		return TUNE_RMEM_MAX;
	ASSERT_LT(0, ns_sysctl_read(nsfd, "net/ipv4/tcp_rmem", buf, sizeof(buf)));
	ASSERT_EQ(3, sscanf(buf, "%ld %ld %ld", &min, &def, &max));
	return max;
}

/* The receiver's view of its round trip and reads: tcpi_ or etcpi_rcv_rtt, _space. */
static void rcv_tuning(struct __test_metadata *_metadata, int fd, int proto,
		       uint32_t *rtt, uint32_t *space)
{
	if (proto == IPPROTO_ETCP) {
		struct etcp_info ei;

		ASSERT_EQ(0, etcp_info_of(fd, &ei));
		*rtt = ei.etcpi_rcv_rtt;
		*space = ei.etcpi_rcv_space;
	} else {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		ASSERT_EQ(0, getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len));
		*rtt = ti.tcpi_rcv_rtt;
		*space = ti.tcpi_rcv_space;
	}
}

/*
 * @bytes from a to b over a path of TUNE_DELAY_MS, on a connection whose
 * accepted end gets @bufs; *@rcvbuf0 and *@rcvbuf1 are b's SO_RCVBUF
 * before and after, *@s b's end (still open).
 */
static void tuned_xfer(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
		       int proto, const struct bufs *bufs, size_t bytes,
		       int *rcvbuf0, int *rcvbuf1, int *s)
{
	size_t done = 0, bad = 0;
	int c, ret;

	if (!have_prog("tc"))
		SKIP(return, "needs tc(8)");
	ASSERT_EQ(0, ns_cmd(self->ns.a, "tc qdisc add dev %s root netem delay %dms limit 10000",
			    ETCP_NS_IF_A, TUNE_DELAY_MS));
	open_pair(_metadata, self, proto, bufs, &c, s);
	*rcvbuf0 = sockopt_get(*s, SOL_SOCKET, SO_RCVBUF);
	ret = bulk_xfer(c, *s, bytes, 60000, &done, &bad);
	ASSERT_EQ(0, ret) TH_LOG("%s: %zu of %zu bytes arrived (%s), first bad at %zu",
				 proto_name(proto), done, bytes, strerror(-ret), bad);
	*rcvbuf1 = sockopt_get(*s, SOL_SOCKET, SO_RCVBUF);
	close(c);
}

/*
 * A reader that keeps up, over a path whose round trip (10 ms) is long
 * for a window the default buffer allows: the receive buffer grows
 * (Linux's dynamic right-sizing), no further than 6 MiB (TCP: tcp_rmem[2]),
 * and with it the
 * window, past what the default buffer could offer (half of it).  The
 * receiver's round trip is at least the path's delay.
 */
TEST_F_TIMEOUT(stream, rcvbuf_autotuning, 120)
{
	int rcvbuf0 = 0, rcvbuf1 = 0, s = -1;
	uint32_t rtt = 0, space = 0;

	tuned_xfer(_metadata, self, variant->proto, NULL, 16 * MIB, &rcvbuf0, &rcvbuf1, &s);
	EXPECT_LT(rcvbuf0, rcvbuf1)
		TH_LOG("%s: SO_RCVBUF %d did not grow in a 16 MiB transfer", PROTO, rcvbuf0);
	EXPECT_LE(rcvbuf1, rmem_max_of(_metadata, self->ns.b, variant->proto));
	rcv_tuning(_metadata, s, variant->proto, &rtt, &space);
	EXPECT_LE(TUNE_DELAY_MS * 1000, rtt)
		TH_LOG("%s: receiver's RTT %u us, the path delays by %d ms", PROTO, rtt,
		       TUNE_DELAY_MS);
	EXPECT_LT(10 * ETCP_NS_MSS(variant->family), space)
		TH_LOG("%s: rcv_space %u: the reader's pace was never measured", PROTO, space);
	if (IS_ETCP) {
		struct etcp_info ei;

		ASSERT_EQ(0, etcp_info_of(s, &ei));
		EXPECT_LT((uint32_t)rcvbuf0 / 2, ei.etcpi_rcv_wnd)
			TH_LOG("window %u: no more than the first buffer (%d) allows",
			       ei.etcpi_rcv_wnd, rcvbuf0);
	}
	TH_LOG("%s: SO_RCVBUF %d -> %d, rcv_rtt %u us, rcv_space %u", PROTO,
	       rcvbuf0, rcvbuf1, rtt, space);
	close(s);
}

/* An application's SO_RCVBUF is what the buffer stays, as in TCP. */
TEST_F_TIMEOUT(stream, rcvbuf_set_stays, 120)
{
	struct bufs b = { .s_rcv = 64 * KIB };
	int rcvbuf0 = 0, rcvbuf1 = 0, s = -1;

	tuned_xfer(_metadata, self, variant->proto, &b, 4 * MIB, &rcvbuf0, &rcvbuf1, &s);
	EXPECT_EQ(2 * 64 * KIB, rcvbuf0);
	EXPECT_EQ(rcvbuf0, rcvbuf1) TH_LOG("%s: SO_RCVBUF set, and it changed", PROTO);
	if (IS_ETCP) {
		struct etcp_info ei;

		ASSERT_EQ(0, etcp_info_of(s, &ei));
		EXPECT_GE(64 * KIB, ei.etcpi_rcv_wnd);
	}
	close(s);
}

TEST_HARNESS_MAIN
