// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: hostile input never hurts the host.  Tens of thousands
 * of malformed and random protocol-253 segments go to a live connection
 * and to a listener while they carry real data; afterwards every byte of
 * the data is compared, the counters say each segment was dropped for the
 * reason it had to be, nothing is left in /proc/net/etcp or the slab
 * caches, and the kernel log is clean.
 *
 *   netns a (client)                          netns b (server)
 *   10.0.1.1 ea ------- veth, MTU 9000 -------- eb 10.0.1.2
 *   fd00:1::1                                    fd00:1::2
 *   raw sockets (forged to b)                listeners :5000, :5999 closed
 *   packet sockets on ea (frames to eb)      raw sockets (forged to a)
 *                                            packet sockets on eb (frames to ea)
 *
 * Every case has IPv4 and IPv6 targets side by side, and each segment goes
 * to one drawn among them all: the families share the budget of
 * ETCP_FUZZ_N segments (and the counters, which etcp keeps per namespace,
 * not per family), so the run takes as long as an IPv4-only one did.
 *
 *   fuzz_established  a transfer both ways on an IPv4 connection and on an
 *                     IPv6 one (fd00:1::1 <-> fd00:1::2) while the fuzzer
 *                     hits each connection's exact 4-tuple in both
 *                     directions; the bytes arrive intact, no end leaves
 *                     ESTABLISHED or sees an error, all close with FINs,
 *                     no RST
 *   fuzz_listener     the listener's port (from forged source ports of
 *                     10.0.1.1 and fd00:1::1) and a closed port, over both
 *                     families, while 20 real clients (every other one over
 *                     IPv6) connect, exchange 100 bytes and close
 *
 * Two ways in.  Most segments leave a raw IP socket (AF_INET or AF_INET6,
 * by the target's family) in the sending namespace (etcp_raw.h), which
 * only ever builds linear skbs; a raw IPv6 socket leaves the checksum as
 * the fuzzer wrote it (no IPV6_CHECKSUM), good or bad.  About one
 * in three (LINK_SHARE, the generator decides) goes instead as a whole
 * Ethernet frame from a packet socket on the sending end of the veth pair
 * (etcp_pkt.h), with the same addresses: the kernel builds a frame of a
 * page or more paged and veth hands it up as it is, so etcp sees what a
 * NIC or virtio gives it, headers pulled into the linear part and the
 * payload in page fragments.  The link's MTU of 9000 lets those segments
 * be drawn from lengths up to 8980 bytes (8960 over IPv6; payloads up to
 * 8920, more than two pages) where raw ones stop at 1480; the real connections, opened
 * after the MTU was raised, send segments of up to 8960 bytes.  Neither
 * forging socket reads anything: a filter drops every copy it would get.
 *
 * The generator (seeded; ETCP_FUZZ_SEED=<n> replays a run, ETCP_FUZZ_N=<n>
 * sets the number of segments per case) makes: random bytes of 0..60 and
 * 0..1480 (0..8980 from the link); headers truncated to 0..19 bytes; data
 * offsets 0..15 whatever the length; every flag byte 0..255 with random
 * reserved bits; options of kind 0, 1, 2 and random kinds with lengths 0,
 * 1, 2 and overlong, MSS of length != 4 and of value 0, 1, 65535, options
 * cut by the data offset; windows 0 and 65535; SEQ and ACK at the wrap
 * edges (0, 1, 2^31 - 1, 2^31, 2^32 - 1) and, for the live connection,
 * relative to the target's RCV.NXT, SND.UNA and SND.NXT (ETCP_INFO, read
 * every few dozen segments) at -2^31, -RCV.WND-1, -1, 0, +1, +RCV.WND,
 * +2^31; good and bad checksums; payloads of 0..64 bytes or, for one raw
 * segment in four and one link segment in two, of any length that fits.
 *
 * Every segment, whichever way it went, is classified here the way
 * etcp_v4_rcv() and etcp_v6_rcv() do (the checksum over their own
 * pseudo-header, the rest in etcp_rcv_segment(), shared), in their order: header (shorter than 20 bytes, data
 * offset under 5 or past the end: InHdrErrors), then checksum
 * (InCsumErrors), then options (InBadOptions), else well-formed.  The
 * counters must grow by exactly the numbers sent of each kind (less what
 * /proc/net/softnet_stat says the network itself dropped; a packet socket
 * reports such a drop as ENOBUFS, where a raw socket says nothing, so that
 * segment counts as sent).  InNonLinear, counted between the checksum and
 * the options, must grow by at least the number of link frames of a page
 * or more with a good header and checksum: the witness that paged
 * segments were fed.  Real data, which etcp sends from page fragments,
 * adds to it: in fuzz_established the transfer's segments outnumber the
 * fuzzer's, in fuzz_listener the 20 clients' hardly count.
 *
 * No transport can protect a connection from a forged segment that is in
 * the window with an acceptable ACK and a good checksum: it would inject
 * data, and an RST at exactly RCV.NXT would reset it - that is RFC 9293,
 * not a bug.  So toward a live 4-tuple, of either family, the generator never sends a
 * well-formed segment with a good checksum whose SEQ lies within 2^25 of
 * the target's RCV.NXT as last read (the transfer moves RCV.NXT by far
 * less between two reads): such a segment gets a bad checksum instead.
 * Segments far from the window may carry any flags, RST and SYN included
 * (dropped, or answered with an ACK or a challenge ACK), and any ACK.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_netns.h"
#include "etcp_pkt.h"
#include "etcp_raw.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PORT		5000	/* the listener, in netns b */
#define CLOSED_PORT	5999	/* nothing listens there */
/* Forged source ports: below the ephemeral range, so no real client's. */
#define FORGED_SPORT	1024
#define FORGED_SPORTS	512
#define BACKLOG		1024	/* above FORGED_SPORTS: real SYNs always fit */

#define DEFAULT_N	20000	/* segments per case */
#define SYNC_EVERY	64	/* segments between two looks at the counters */
#define FAR		(1U << 25)	/* live tuple: SEQ at least this far from RCV.NXT */
#define RAW_SEG_MAX	1480	/* raw socket: what a 1500-byte MTU would carry */
/* Packet socket: what the link's MTU carries after the IP header. */
#define LINK_SEG_MAX	(ETCP_PKT_MTU - ETCP_PKT_IP_HLEN)
#define LINK_SEG_MAX6	(ETCP_PKT_MTU - ETCP_PKT_IP6_HLEN)
#define SEG_MAX		LINK_SEG_MAX	/* the longest segment either way */
#define LINK_SHARE	3	/* one segment in this many goes by the link */
/* From this many link segments to a namespace on, paged ones are certain. */
#define WITNESS_MIN	200

#define WAIT_MS		3000
#define XFER_MIN	(2U << 20)	/* bytes each way at least */
#define XFER_MAX	(96U << 20)	/* and at most */
#define XFER_MS		60000	/* for the transfers to end after fuzzing */
#define CLIENTS		20
#define CLIENT_BYTES	100

/* ~15 s each under TCG with the default count; room for a larger one. */
#define TEST_TIMEOUT	180

static const char *const splat[] = {
	"WARNING", "BUG", "Oops", "refcount", "KASAN", "general protection",
	"Call Trace",
};

/* ------------------------------------------------------------ PRNG */

/* splitmix64: small, fast, and the same sequence for the same seed. */
static uint64_t rnd64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0..n-1 */
static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd64(s) % n) : 0;
}

static uint64_t fuzz_seed(void)
{
	const char *env = getenv("ETCP_FUZZ_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003ULL ^ (uint64_t)ts.tv_nsec ^
	       (uint64_t)getpid() << 32;
}

static long fuzz_count(void)
{
	const char *env = getenv("ETCP_FUZZ_N");
	long n = env && *env ? strtol(env, NULL, 0) : DEFAULT_N;

	return n > 0 ? n : DEFAULT_N;
}

/* ------------------------------------------------------------ classes */

/* What etcp_v4_rcv() and etcp_v6_rcv() make of a segment, in their order. */
enum verdict { V_HDR, V_CSUM, V_OPTS, V_OK, V_NR };

static const char *const verdict_stat[V_NR] = {
	"InHdrErrors", "InCsumErrors", "InBadOptions", NULL,
};

/*
 * RFC 9293 3.2 as etcp_parse_options() applies it.  Written again here on
 * purpose, from the RFC rather than from module/input.c: the test is an
 * oracle, and sharing the module's parser would make it agree with any
 * bug in it.
 */
static bool options_ok(const uint8_t *p, int left)
{
	while (left > 0) {
		uint8_t kind = p[0], len;

		if (kind == ETCP_OPT_EOL)
			break;
		if (kind == ETCP_OPT_NOP) {
			p++;
			left--;
			continue;
		}
		if (left < 2)
			return false;
		len = p[1];
		if (len < 2 || len > left)
			return false;
		if (kind == ETCP_OPT_MSS && len != 4)
			return false;
		if (kind == ETCP_OPT_WSCALE && len != 3)
			return false;
		if (kind == ETCP_OPT_SACK_PERM && len != 2)
			return false;
		p += len;
		left -= len;
	}
	return true;
}

/* ------------------------------------------------------------ fuzzer */

enum { NS_A, NS_B, NS_NR };

struct target {
	const char *name;
	int raw;		/* the forging raw socket, of the target's family */
	struct etcp_pkt *link;	/* the packet socket toward ns, or NULL */
	int ns;			/* NS_*: where the segment arrives */
	const char *saddr, *daddr;
	int family;		/* AF_INET or AF_INET6 */
	struct in6_addr s, d;	/* IPv4 v4-mapped (etcp_raw_addr()) */
	uint16_t sport, dport;
	bool forged_sport;	/* sport from FORGED_SPORT + 0..FORGED_SPORTS-1 */
	bool closed;		/* nothing listens at dport */
	int live_fd;		/* the socket attacked (ETCP_INFO), or -1 */
	struct etcp_info snap;	/* its numbers, as last read */
};

static enum verdict classify(const struct target *t, const uint8_t *p, size_t len)
{
	size_t hdrlen;

	if (len < 20)
		return V_HDR;
	hdrlen = (p[12] >> 4) * 4;
	if (hdrlen < 20 || hdrlen > len)
		return V_HDR;
	/* Summed with its checksum field, a right segment sums to zero. */
	if (etcp_raw_csum_af(t->family, &t->s, &t->d, IPPROTO_ETCP, p, len))
		return V_CSUM;
	if (!options_ok(p + 20, hdrlen - 20))
		return V_OPTS;
	return V_OK;
}

/* What each namespace must have counted. */
struct expect {
	long v[V_NR];		/* by verdict */
	long ok_rst;		/* well-formed with RST: InRsts */
	long ok_live;		/* well-formed to a live tuple: OutOfWindow */
	long ok_live_syn;	/* ... with SYN: a challenge ACK each */
	long ok_closed;		/* well-formed to the closed port: NoSocket */
	long link;		/* of all these, sent by the link */
	long link_paged;	/* ... in frames of a page or more */
	long nonlinear;		/* ... of them past header and checksum: InNonLinear */
};

struct fuzz {
	uint64_t rng;
	long n;
	struct target t[4];	/* IPv4's and IPv6's */
	int nt;
	int nsfd[NS_NR];
	struct stats base[NS_NR];
	struct expect exp[NS_NR];
	long guarded;		/* near the live window: made bad-checksum */
	long send_err, last_errno;
	long link_nobufs;	/* link frames the veth dropped (ENOBUFS) */
	long lagged;		/* syncs that gave up waiting */
	long flags_next;	/* the next flag byte of the "flags" class */
	long done;		/* segments sent, for other threads */
	int64_t t0, ms;		/* when fuzz_run() began, how long it took */
};

static void target_init(struct target *t, const char *name, int raw,
			struct etcp_pkt *link, int ns, const char *saddr,
			const char *daddr, uint16_t sport, uint16_t dport,
			int live_fd)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->raw = raw;
	t->link = link;
	t->ns = ns;
	t->saddr = saddr;
	t->daddr = daddr;
	t->family = etcp_raw_addr(saddr, &t->s);
	etcp_raw_addr(daddr, &t->d);
	t->sport = sport;
	t->dport = dport;
	t->live_fd = live_fd;
}

static void refresh_snaps(struct fuzz *f)
{
	int i;

	for (i = 0; i < f->nt; i++)
		if (f->t[i].live_fd >= 0)
			etcp_info_of(f->t[i].live_fd, &f->t[i].snap);
}

static const uint32_t edges[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };

/* A SEQ or ACK: a wrap edge, random, or relative to @base (live only). */
static uint32_t pick_num(struct fuzz *f, const struct target *t, uint32_t base)
{
	int64_t wnd = t->snap.etcpi_rcv_wnd;
	const int64_t rel[] = {
		-(1LL << 31), -wnd - 1, -1, 0, 1, wnd, 1LL << 31,
	};

	switch (rnd(&f->rng, t->live_fd >= 0 ? 4 : 2)) {
	case 0:
		return edges[rnd(&f->rng, ARRAY_SIZE(edges))];
	case 2:
		return base + (uint32_t)rel[rnd(&f->rng, ARRAY_SIZE(rel))];
	case 3:
		/* Far from the window: well-formed ones reach the socket. */
		return base + FAR + rnd(&f->rng, 0U - 2 * FAR - 2 * SEG_MAX);
	default:
		return (uint32_t)rnd64(&f->rng);
	}
}

static void fill_random(struct fuzz *f, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd64(&f->rng);
}

/*
 * Option bytes, at most 40: EOL, NOP, MSS, window scale and
 * SACK-permitted right and wrong, unknown kinds right and wrong, lengths
 * 0, 1, 2 and past the end, a kind without its length byte at the very
 * end.  Returns their number.
 */
static size_t gen_opts(struct fuzz *f, uint8_t *o)
{
	static const uint16_t mss[] = { 0, 1, 536, 1460, 65535 };
	static const uint8_t badlen[] = { 0, 1, 2, 3, 5, 6, 8, 40, 255 };
	size_t n = 0, max = 4 * (1 + rnd(&f->rng, 10)), k;

	while (n < max) {
		switch (rnd(&f->rng, 9)) {
		case 0:
			o[n++] = ETCP_OPT_EOL;
			break;
		case 1:
			o[n++] = ETCP_OPT_NOP;
			break;
		case 2:
			n += etcp_raw_opt_mss(o + n, mss[rnd(&f->rng, ARRAY_SIZE(mss))]);
			break;
		case 3:
			/* Shifts above 14 too, which count as 14. */
			o[n++] = ETCP_OPT_WSCALE;
			o[n++] = 3;
			o[n++] = rnd(&f->rng, 20);
			break;
		case 4:
			/* A known kind, its length right or (mostly) wrong. */
			o[n++] = ETCP_OPT_MSS + rnd(&f->rng, 3);
			o[n++] = badlen[rnd(&f->rng, ARRAY_SIZE(badlen))];
			break;
		case 5:
			/* An unknown kind of any length, overlong ones too. */
			o[n] = 5 + rnd(&f->rng, 251);
			o[n + 1] = rnd(&f->rng, 4) ? badlen[rnd(&f->rng, ARRAY_SIZE(badlen))] :
						     (uint8_t)(max - n + 1 + rnd(&f->rng, 3));
			n += 2;
			break;
		case 6:
			/* A good unknown option. */
			k = 2 + rnd(&f->rng, 9);
			o[n] = 5 + rnd(&f->rng, 251);
			o[n + 1] = k;
			fill_random(f, o + n + 2, k - 2);
			n += k;
			break;
		case 7:
			/* Unterminated: a kind in the last byte, no length. */
			while (n + 1 < max)
				o[n++] = ETCP_OPT_NOP;
			o[n++] = 2 + rnd(&f->rng, 254);
			break;
		default:
			o[n++] = (uint8_t)rnd64(&f->rng);
			break;
		}
	}
	return max;	/* bytes past max (up to 11) are cut off */
}

static void set_csum(struct fuzz *f, const struct target *t, uint8_t *p,
		     size_t len, bool good)
{
	uint16_t c;

	if (len < 18)
		return;
	p[16] = p[17] = 0;
	c = etcp_raw_csum_af(t->family, &t->s, &t->d, IPPROTO_ETCP, p, len);
	if (!good)
		c ^= 1 + rnd(&f->rng, 0xfffe);
	p[16] = c >> 8;
	p[17] = c;
}

enum { C_RAND_SMALL, C_RAND_BIG, C_TRUNC, C_DOFF, C_FLAGS, C_OPTS, C_SEQ,
       C_BADSUM, C_NR };

/*
 * One segment for target t into p: its length.  @link: it goes by the
 * link, which carries up to LINK_SEG_MAX bytes, and more often long data.
 */
static size_t gen(struct fuzz *f, struct target *t, bool link, uint8_t *p)
{
	static const uint16_t windows[] = { 0, 65535 };
	uint8_t opts[64], data[SEG_MAX];
	struct etcp_raw_seg seg = {
		.saddr = t->saddr, .daddr = t->daddr,
		.sport = t->sport, .dport = t->dport,
	};
	size_t max = !link ? RAW_SEG_MAX :
		     t->family == AF_INET6 ? LINK_SEG_MAX6 : LINK_SEG_MAX;
	int cls = rnd(&f->rng, C_NR);
	bool good = rnd(&f->rng, 8) != 0;
	ssize_t len;

	if (t->forged_sport)
		seg.sport = FORGED_SPORT + rnd(&f->rng, FORGED_SPORTS);
	if (cls == C_RAND_SMALL || cls == C_RAND_BIG) {
		len = rnd(&f->rng, (cls == C_RAND_SMALL ? 60 : max) + 1);
		fill_random(f, p, len);
		if (len >= 4) {
			/* Aimed at the target, otherwise random. */
			p[0] = seg.sport >> 8;
			p[1] = seg.sport;
			p[2] = seg.dport >> 8;
			p[3] = seg.dport;
		}
		if (!rnd(&f->rng, 4))
			set_csum(f, t, p, len, true);
		return len;
	}

	seg.seq = pick_num(f, t, t->snap.etcpi_rcv_nxt);
	seg.ack = pick_num(f, t, rnd(&f->rng, 2) ? t->snap.etcpi_snd_una :
						   t->snap.etcpi_snd_nxt);
	seg.flags = cls == C_FLAGS ? (uint8_t)f->flags_next++ : (uint8_t)rnd64(&f->rng);
	seg.window = rnd(&f->rng, 3) ? windows[rnd(&f->rng, 2)] : (uint16_t)rnd64(&f->rng);
	if (!rnd(&f->rng, 4))
		seg.urg = (uint16_t)rnd64(&f->rng);
	if (cls == C_OPTS || !rnd(&f->rng, 4)) {
		seg.optlen = gen_opts(f, opts);
		seg.opts = opts;
	}
	if (rnd(&f->rng, 2)) {
		/* Long: one in four raw, one in two by the link. */
		seg.datalen = rnd(&f->rng, rnd(&f->rng, link ? 2 : 4) ? 65 : max - 60 + 1);
		fill_random(f, data, seg.datalen);
		seg.data = data;
	}
	if (cls == C_DOFF)
		seg.doff = rnd(&f->rng, 16);
	if (cls == C_TRUNC)
		seg.trunc = rnd(&f->rng, 20);
	len = etcp_raw_build(&seg, IPPROTO_ETCP, p, max);
	if (len < 0)
		return 0;
	if (cls == C_TRUNC && !seg.trunc)
		len = 0;		/* trunc 0 means "all": send nothing */
	if (cls == C_FLAGS)
		p[12] |= rnd(&f->rng, 16);	/* the reserved bits */
	if (cls != C_TRUNC)
		set_csum(f, t, p, len, cls != C_BADSUM && (good || cls == C_DOFF));
	return len;
}

/* Well-formed, good checksum, SEQ near the live target's window? */
static bool dangerous(const struct target *t, const uint8_t *p)
{
	uint32_t seq = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
	uint32_t d = seq - t->snap.etcpi_rcv_nxt;

	return t->live_fd >= 0 && (d < FAR || d > 0U - FAR - 2 * SEG_MAX);
}

/* @link: sent by the link, @paged: in a frame of a page or more. */
static void account(struct fuzz *f, const struct target *t, const uint8_t *p,
		    enum verdict v, bool link, bool paged)
{
	struct expect *e = &f->exp[t->ns];

	e->v[v]++;
	e->link += link;
	e->link_paged += paged;
	/* etcp_v4_rcv() and etcp_v6_rcv() count InNonLinear after the checksum. */
	if (paged && (v == V_OPTS || v == V_OK))
		e->nonlinear++;
	if (v != V_OK)
		return;
	if (p[13] & ETCP_TH_RST)
		e->ok_rst++;
	if (t->live_fd >= 0) {
		e->ok_live++;
		if (p[13] & ETCP_TH_SYN)
			e->ok_live_syn++;
	}
	if (t->closed)
		e->ok_closed++;
}

static long malformed(const struct stats *s)
{
	return stat_of(s, "InHdrErrors") + stat_of(s, "InCsumErrors") +
	       stat_of(s, "InBadOptions");
}

/*
 * Let the receiver catch up (the per-CPU backlog takes 1000 packets, a
 * raw socket sends faster than TCG processes them): wait until each
 * namespace counted every malformed segment sent so far.
 */
static void sync_counts(struct fuzz *f, int ms)
{
	int64_t deadline = now_ms() + ms;
	struct stats s;
	int i;

	for (i = 0; i < NS_NR; i++) {
		long want = f->exp[i].v[V_HDR] + f->exp[i].v[V_CSUM] + f->exp[i].v[V_OPTS];

		for (;;) {
			if (stats_read(f->nsfd[i], &s))
				break;
			if (malformed(&s) - malformed(&f->base[i]) >= want)
				break;
			if (now_ms() > deadline) {
				f->lagged++;
				break;
			}
			pause_ms(1);
		}
	}
	refresh_snaps(f);
}

static void fuzz_init(struct fuzz *f, const struct etcp_netns *ns)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->rng = fuzz_seed();
	f->n = fuzz_count();
	f->nsfd[NS_A] = ns->a;
	f->nsfd[NS_B] = ns->b;
	for (i = 0; i < NS_NR; i++)
		stats_read(f->nsfd[i], &f->base[i]);
}

/*
 * Send @len bytes by the link: 0 or -errno, *@paged set if the frame went
 * out paged (etcp_pkt counts those).  The veth drops a frame the receiving
 * backlog has no room for, counts it in softnet_stat and says ENOBUFS,
 * which a raw socket keeps to itself: so such a frame counts as sent, as
 * a raw one would, and lost (but not as paged: it never arrived).
 */
static int link_send(struct fuzz *f, struct target *t, const uint8_t *p,
		     size_t len, bool *paged)
{
	size_t before = t->link->paged;
	int ret = etcp_pkt_send_ip(t->link, t->saddr, t->daddr, p, len);

	*paged = t->link->paged != before;
	if (ret == -ENOBUFS) {
		f->link_nobufs++;
		return 0;
	}
	return ret;
}

/* Send f->n segments, each to a random target, by the link or raw. */
static void fuzz_run(struct fuzz *f)
{
	uint8_t p[SEG_MAX + 64];
	long i;

	f->t0 = now_ms();

	refresh_snaps(f);
	for (i = 0; i < f->n; i++) {
		struct target *t = &f->t[rnd(&f->rng, f->nt)];
		bool link = t->link && !rnd(&f->rng, LINK_SHARE), paged = false;
		size_t len = gen(f, t, link, p);
		enum verdict v = classify(t, p, len);
		int ret;

		if (v == V_OK && dangerous(t, p)) {
			set_csum(f, t, p, len, false);
			v = classify(t, p, len);
			f->guarded++;
		}
		if (link)
			ret = link_send(f, t, p, len, &paged);
		else
			ret = etcp_raw_send_bytes(t->raw, t->saddr, t->daddr, p, len);
		if (ret) {
			f->send_err++;
			f->last_errno = -ret;
		} else {
			account(f, t, p, v, link, paged);
		}
		__atomic_store_n(&f->done, i + 1, __ATOMIC_RELEASE);
		if (i % SYNC_EVERY == SYNC_EVERY - 1)
			sync_counts(f, 1000);
	}
	sync_counts(f, WAIT_MS);
	f->ms = now_ms() - f->t0;
}

/* Packets the network stack dropped (per-CPU backlog full), all CPUs. */
static long softnet_drops(void)
{
	unsigned int processed, dropped;
	char line[512];
	long sum = 0;
	FILE *fp = fopen("/proc/net/softnet_stat", "r");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%x %x", &processed, &dropped) == 2)
			sum += dropped;
	fclose(fp);
	return sum;
}

/*
 * The drop counters of every namespace grew by exactly what was sent of
 * each kind; @lost packets may have been dropped before etcp saw them.
 */
static void check_counts(struct __test_metadata *_metadata, struct fuzz *f,
			 long lost)
{
	int i, v;

	for (i = 0; i < NS_NR; i++) {
		const struct expect *e = &f->exp[i];
		const char *nsn = i == NS_A ? "netns a" : "netns b";
		struct stats s;
		long got;

		/* The last ones may still be on their way. */
		for (v = 0; v < V_OPTS + 1; v++)
			wait_stat(f->nsfd[i], verdict_stat[v],
				  stat_of(&f->base[i], verdict_stat[v]) + e->v[v] - lost, 2000);
		ASSERT_EQ(0, stats_read(f->nsfd[i], &s));
		TH_LOG("%s: sent %ld bad header, %ld bad checksum, %ld bad options, "
		       "%ld well-formed (%ld RST, %ld to a live tuple, %ld SYN, %ld to a closed port)",
		       nsn, e->v[V_HDR], e->v[V_CSUM], e->v[V_OPTS], e->v[V_OK],
		       e->ok_rst, e->ok_live, e->ok_live_syn, e->ok_closed);
		for (v = 0; v < V_OPTS + 1; v++) {
			got = stat_delta(&f->base[i], &s, verdict_stat[v]);
			EXPECT_LE(e->v[v] - lost, got)
				TH_LOG("%s: %s +%ld, sent %ld (network drops %ld)",
				       nsn, verdict_stat[v], got, e->v[v], lost);
			EXPECT_GE(e->v[v], got)
				TH_LOG("%s: %s +%ld, sent %ld: a segment counted for the wrong reason",
				       nsn, verdict_stat[v], got, e->v[v]);
		}
		EXPECT_LE(e->ok_rst - lost, stat_delta(&f->base[i], &s, "InRsts"))
			TH_LOG("%s: InRsts", nsn);
		EXPECT_LE(e->ok_live - lost - stat_delta(&f->base[i], &s, "BacklogDrops"),
			  stat_delta(&f->base[i], &s, "OutOfWindow"))
			TH_LOG("%s: well-formed segments far from the window not counted OutOfWindow",
			       nsn);
		/* Sent, or held back by the namespace's or the connection's limit. */
		EXPECT_LE(e->ok_live_syn - lost - stat_delta(&f->base[i], &s, "BacklogDrops"),
			  stat_delta(&f->base[i], &s, "ChallengeAcks") +
			  stat_delta(&f->base[i], &s, "ChallengeAckSkipped") +
			  stat_delta(&f->base[i], &s, "AckSkippedChallenge"))
			TH_LOG("%s: SYNs on a live connection not challenged", nsn);
		EXPECT_LE(e->ok_closed - lost, stat_delta(&f->base[i], &s, "NoSocket"))
			TH_LOG("%s: NoSocket", nsn);

		/*
		 * The witness: what went paged arrived paged.  "Paged" is a
		 * frame of a page or more, "checked" one of them that passed
		 * header and checksum, which InNonLinear must count.
		 */
		got = stat_delta(&f->base[i], &s, "InNonLinear");
		TH_LOG("%s: %ld by the link, %ld paged, %ld paged and checked; InNonLinear +%ld",
		       nsn, e->link, e->link_paged, e->nonlinear, got);
		if (!e->link)
			continue;
		ASSERT_LE(0, stat_of(&s, "InNonLinear"))
			TH_LOG("no InNonLinear in /proc/net/etcp_stat");
		if (e->link >= WITNESS_MIN)
			EXPECT_LT(0, e->nonlinear)
				TH_LOG("%s: %ld by the link, none paged and checked", nsn, e->link);
		EXPECT_LE(e->nonlinear - lost, got)
			TH_LOG("%s: %ld paged and checked, InNonLinear +%ld (network drops %ld): the payload did not arrive in page fragments",
			       nsn, e->nonlinear, got, lost);
	}
}

/* ------------------------------------------------------------ host */

/* A socket filter that drops everything: 0 or -errno. */
static int drop_all(int fd)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ? -errno : 0;
}

/* A raw socket that forges and never reads: a filter drops its copies. */
static int raw_forger(int nsfd, int family)
{
	int fd = family == AF_INET6 ? etcp_raw_open6(nsfd, IPPROTO_ETCP) :
				      etcp_raw_open(nsfd, IPPROTO_ETCP);

	if (fd >= 0 && drop_all(fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A packet socket on @ifname of nsfd that sends frames to the other end's
 * MAC (that of @peer_if in peer_ns) and never reads: every frame on the
 * link would otherwise be copied to it.  0, or -errno with @pk closed.
 */
static int link_forger(struct etcp_pkt *pk, int nsfd, const char *ifname,
		       int peer_ns, const char *peer_if, const char *saddr,
		       const char *daddr)
{
	uint8_t mac[6];
	int ret;

	ret = etcp_pkt_if_mac(peer_ns, peer_if, mac);
	if (!ret)
		ret = etcp_pkt_open(pk, nsfd, ifname, IPPROTO_ETCP, saddr, daddr, mac);
	if (!ret)
		ret = drop_all(pk->fd);
	if (ret)
		etcp_pkt_close(pk);
	return ret;
}

/* The kernel's log since @fd was opened: the first line of a splat, or NULL. */
static const char *kmsg_splat(int fd, char *buf, size_t size)
{
	size_t i;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, size - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (n <= 0)
			return NULL;
		buf[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(splat); i++)
			if (strstr(buf, splat[i]))
				return buf;
	}
}

/* ------------------------------------------------------------ transfer */

static uint8_t pat(uint64_t off, int dir)
{
	return (uint8_t)(off * 31 + (off >> 9) * 7 + (off >> 17) + dir * 101);
}

/*
 * Both directions of a connection at once: fd[0] sends direction 0 to
 * fd[1], fd[1] sends direction 1 to fd[0].  Data flows until stop is set
 * (and XFER_MIN went each way), then each end shuts down its sending side
 * and reads to end of file, checking every byte.  The state and SO_ERROR
 * of both ends are taken when stop is first seen.  One thread pumps every
 * connection of a case (struct pumps): the fuzzer gets the same share of
 * the CPU whether one connection is live or two.
 */
struct pump {
	int fd[2];
	uint64_t sent[2], rcvd[2];	/* by direction */
	int64_t bad_at[2];		/* first byte received wrong, or -1 */
	int state_at_stop[2], error_at_stop[2];
	int err;			/* errno of the first failure */
	const char *where;
	bool shut[2], eof[2], seen_stop;
};

#define PUMPS_MAX	2

struct pumps {
	struct pump p[PUMPS_MAX];
	int n;
	int stop;
};

static void pump_fail(struct pump *pp, int err, const char *where)
{
	if (!pp->err) {
		pp->err = err;
		pp->where = where;
	}
}

/* What to poll for on the connection's two ends. */
static void pump_events(struct pump *pp, bool stop, struct pollfd *pfd)
{
	int i;

	/* Before either end shuts down: a FIN makes CLOSE_WAIT. */
	if (stop && !pp->seen_stop) {
		for (i = 0; i < 2; i++) {
			pp->state_at_stop[i] = sock_state(pp->fd[i], IPPROTO_ETCP);
			pp->error_at_stop[i] = so_error(pp->fd[i]);
		}
		pp->seen_stop = true;
	}
	for (i = 0; i < 2; i++) {
		pfd[i].fd = pp->fd[i];
		pfd[i].events = pp->eof[i] ? 0 : POLLIN;
		pfd[i].revents = 0;
		if (!pp->shut[i] && (pp->sent[i] < XFER_MAX || stop))
			pfd[i].events |= POLLOUT;
	}
}

/* Send, shut down and read as poll() said. */
static void pump_io(struct pump *pp, bool stop, const struct pollfd *pfd)
{
	static uint8_t out[65536], in[65536];
	int i;

	for (i = 0; i < 2; i++) {
		ssize_t n;
		size_t k;

		if (!pp->shut[i] && stop && pp->sent[i] >= XFER_MIN) {
			if (shutdown(pp->fd[i], SHUT_WR))
				pump_fail(pp, errno, "shutdown");
			pp->shut[i] = true;
		} else if (!pp->shut[i] && (pfd[i].revents & POLLOUT) &&
			   pp->sent[i] < XFER_MAX) {
			for (k = 0; k < sizeof(out); k++)
				out[k] = pat(pp->sent[i] + k, i);
			n = send(pp->fd[i], out, sizeof(out), MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0)
				pp->sent[i] += n;
			else if (n < 0 && errno != EAGAIN)
				pump_fail(pp, errno, "send");
		}
		if (pp->eof[i] || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/* fd[i] reads the other direction. */
		n = recv(pp->fd[i], in, sizeof(in), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN) {
			pump_fail(pp, errno, "recv");
			pp->eof[i] = true;
		} else if (!n) {
			pp->eof[i] = true;
		}
		for (k = 0; n > 0 && k < (size_t)n; k++) {
			if (pp->bad_at[!i] < 0 && in[k] != pat(pp->rcvd[!i] + k, !i))
				pp->bad_at[!i] = pp->rcvd[!i] + k;
		}
		if (n > 0)
			pp->rcvd[!i] += n;
	}
}

static void *pump_run(void *arg)
{
	struct pumps *ps = arg;
	struct pollfd pfd[2 * PUMPS_MAX];
	int64_t deadline = 0;
	int k;

	for (k = 0; k < ps->n; k++)
		ps->p[k].bad_at[0] = ps->p[k].bad_at[1] = -1;
	for (;;) {
		bool stop = __atomic_load_n(&ps->stop, __ATOMIC_ACQUIRE), done = true;

		/*
		 * The transfers have XFER_MS to end once the fuzzer stopped:
		 * however long fuzzing takes on a slow kernel or a busy host
		 * (the harness's timeout bounds that), it is not theirs.
		 */
		if (stop && !deadline)
			deadline = now_ms() + XFER_MS;
		for (k = 0; k < ps->n; k++) {
			struct pump *pp = &ps->p[k];

			if (deadline && now_ms() > deadline)
				pump_fail(pp, ETIMEDOUT, "transfer");
			pump_events(pp, stop, pfd + 2 * k);
			done &= (pp->eof[0] && pp->eof[1]) || pp->err == ETIMEDOUT;
		}
		if (done)
			break;
		if (poll(pfd, 2 * ps->n, 100) < 0 && errno != EINTR) {
			pump_fail(&ps->p[0], errno, "poll");
			break;
		}
		for (k = 0; k < ps->n; k++)
			pump_io(&ps->p[k], stop, pfd + 2 * k);
	}
	return NULL;
}

/* ------------------------------------------------------------ fixture */

FIXTURE(fuzz) {
	struct etcp_netns ns;
	int raw_a, raw_b, raw6_a, raw6_b;
	struct etcp_pkt link_ab;	/* on ea, frames to eb */
	struct etcp_pkt link_ba;	/* on eb, frames to ea */
	struct etcp_pkt link6_ab;	/* the same over IPv6 */
	struct etcp_pkt link6_ba;
	int lfd, cfd, afd;
	int lfd6, cfd6, afd6;
	int kmsg;
	long slab[3];
	struct fuzz f;
};

static const char *const caches[] = { "ETCP", "etcp_request", "etcp_tw" };

FIXTURE_SETUP(fuzz)
{
	const char *why = etcp_netns_unsupported();
	size_t i;
	int ret;

	self->raw_a = self->raw_b = self->lfd = self->cfd = self->afd = -1;
	self->raw6_a = self->raw6_b = self->lfd6 = self->cfd6 = self->afd6 = -1;
	self->kmsg = -1;
	memset(&self->link_ab, 0, sizeof(self->link_ab));
	memset(&self->link_ba, 0, sizeof(self->link_ba));
	memset(&self->link6_ab, 0, sizeof(self->link6_ab));
	memset(&self->link6_ba, 0, sizeof(self->link6_ba));
	self->link_ab.fd = self->link_ba.fd = -1;
	self->link6_ab.fd = self->link6_ba.fd = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	/* From now on, whatever the kernel logs is this test's. */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
	for (i = 0; i < ARRAY_SIZE(caches); i++)
		self->slab[i] = slab_active(caches[i], NULL);

	ASSERT_EQ(0, two_ns_setup(&self->ns)) TH_LOG("cannot set up the namespaces");
	ASSERT_EQ(0, ns_sysctl_write(self->ns.a, "net/ipv4/etcp_msl", "100"));
	ASSERT_EQ(0, ns_sysctl_write(self->ns.b, "net/ipv4/etcp_msl", "100"));
	/* Forged requests are gone within 1 + 2 s. */
	ASSERT_EQ(0, ns_sysctl_write(self->ns.b, "net/ipv4/etcp_synack_retries", "1"));
	self->raw_a = raw_forger(self->ns.a, AF_INET);
	ASSERT_LE(0, self->raw_a) TH_LOG("raw socket in a: %s", strerror(errno));
	self->raw_b = raw_forger(self->ns.b, AF_INET);
	ASSERT_LE(0, self->raw_b) TH_LOG("raw socket in b: %s", strerror(errno));
	self->raw6_a = raw_forger(self->ns.a, AF_INET6);
	ASSERT_LE(0, self->raw6_a) TH_LOG("raw IPv6 socket in a: %s", strerror(errno));
	self->raw6_b = raw_forger(self->ns.b, AF_INET6);
	ASSERT_LE(0, self->raw6_b) TH_LOG("raw IPv6 socket in b: %s", strerror(errno));
	/* MTU 9000 on both ends, before any connection takes its MSS. */
	ret = etcp_pkt_link(&self->ns, ETCP_PKT_ADDR, ETCP_PKT_MTU);
	ASSERT_EQ(0, ret) TH_LOG("link setup: %s", strerror(-ret));
	ret = link_forger(&self->link_ab, self->ns.a, ETCP_NS_IF_A, self->ns.b,
			  ETCP_NS_IF_B, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
	ASSERT_EQ(0, ret) TH_LOG("packet socket on ea: %s", strerror(-ret));
	ret = link_forger(&self->link_ba, self->ns.b, ETCP_NS_IF_B, self->ns.a,
			  ETCP_NS_IF_A, ETCP_NS_ADDR_B, ETCP_NS_ADDR_A);
	ASSERT_EQ(0, ret) TH_LOG("packet socket on eb: %s", strerror(-ret));
	/* Both namespaces' own addresses: no neighbour entry to add. */
	ret = link_forger(&self->link6_ab, self->ns.a, ETCP_NS_IF_A, self->ns.b,
			  ETCP_NS_IF_B, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);
	ASSERT_EQ(0, ret) TH_LOG("IPv6 packet socket on ea: %s", strerror(-ret));
	ret = link_forger(&self->link6_ba, self->ns.b, ETCP_NS_IF_B, self->ns.a,
			  ETCP_NS_IF_A, ETCP_NS_ADDR6_B, ETCP_NS_ADDR6_A);
	ASSERT_EQ(0, ret) TH_LOG("IPv6 packet socket on eb: %s", strerror(-ret));
	self->lfd = listen_on(self->ns.b, IPPROTO_ETCP, ETCP_NS_ADDR_B, PORT, BACKLOG);
	ASSERT_LE(0, self->lfd) TH_LOG("listen: %s", strerror(errno));
	self->lfd6 = listen_on(self->ns.b, IPPROTO_ETCP, ETCP_NS_ADDR6_B, PORT, BACKLOG);
	ASSERT_LE(0, self->lfd6) TH_LOG("listen on IPv6: %s", strerror(errno));
}

FIXTURE_TEARDOWN(fuzz)
{
	close_fds(&self->afd, &self->cfd, &self->lfd, &self->raw_a,
		  &self->raw_b, &self->afd6, &self->cfd6, &self->lfd6,
		  &self->raw6_a, &self->raw6_b, NULL);
	etcp_pkt_close(&self->link_ab);
	etcp_pkt_close(&self->link_ba);
	etcp_pkt_close(&self->link6_ab);
	etcp_pkt_close(&self->link6_ba);
	if (self->kmsg >= 0)
		close(self->kmsg);
	etcp_netns_teardown(&self->ns);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * After a case: every socket closed, then no request, connection or
 * TIME_WAIT entry of either family left in either namespace, no orphan,
 * the slab caches back where they were, and nothing in the kernel log.
 */
static void check_host(struct __test_metadata *_metadata, FIXTURE_DATA(fuzz) *self)
{
	int64_t deadline;
	char buf[8192];
	const char *line;
	size_t i;
	int ra, rb;

	close_fd(&self->afd);
	close_fd(&self->cfd);
	close_fd(&self->lfd);
	close_fd(&self->afd6);
	close_fd(&self->cfd6);
	close_fd(&self->lfd6);
	/* Requests: 1 + 2 s of SYN-ACKs; TIME_WAIT: 2 * 100 ms. */
	deadline = now_ms() + 3 * WAIT_MS;
	do {
		/* IPv6 sockets are listed in etcp6 alone, as TCP's in tcp6. */
		ra = proc_rows(self->ns.a, "etcp", NULL, NULL, NULL) +
		     proc_rows(self->ns.a, "etcp6", NULL, NULL, NULL);
		rb = proc_rows(self->ns.b, "etcp", NULL, NULL, NULL) +
		     proc_rows(self->ns.b, "etcp6", NULL, NULL, NULL);
		if (!ra && !rb)
			break;
		pause_ms(20);
	} while (now_ms() < deadline);
	EXPECT_EQ(0, ra) TH_LOG("netns a: %d rows left in /proc/net/etcp and etcp6", ra);
	EXPECT_EQ(0, rb) TH_LOG("netns b: %d rows left in /proc/net/etcp and etcp6", rb);
	EXPECT_EQ(0, stat_now(self->ns.a, "Orphans"));
	EXPECT_EQ(0, stat_now(self->ns.b, "Orphans"));
	EXPECT_EQ(0, stat_now(self->ns.a, "TimeWait"));
	EXPECT_EQ(0, stat_now(self->ns.b, "TimeWait"));

	for (i = 0; i < ARRAY_SIZE(caches); i++) {
		long now;

		/* etcp keeps its caches unmerged: each has its line. */
		EXPECT_LE(0, self->slab[i]) TH_LOG("no slab cache %s in /proc/slabinfo", caches[i]);
		if (self->slab[i] < 0)
			continue;
		/* Freed after an RCU grace period: give it a few seconds. */
		deadline = now_ms() + WAIT_MS;
		while ((now = slab_active(caches[i], NULL)) > self->slab[i] && now_ms() < deadline)
			pause_ms(50);
		EXPECT_GE(self->slab[i], now)
			TH_LOG("slab cache %s: %ld active objects, %ld before the test",
			       caches[i], now, self->slab[i]);
	}

	line = kmsg_splat(self->kmsg, buf, sizeof(buf));
	EXPECT_EQ(NULL, line) TH_LOG("kernel log: %s", line);
}

/* ------------------------------------------------------------ cases */

/* A connection from a to b's listener @lfd over @family: 0, or -errno. */
static int open_live(const FIXTURE_DATA(fuzz) *self, int family, int lfd,
		     const char *daddr, int *cfd, int *afd)
{
	int ret;

	*cfd = ns_socket(self->ns.a, family, SOCK_STREAM, IPPROTO_ETCP);
	if (*cfd < 0)
		return -errno;
	ret = connect_to(*cfd, daddr, PORT);
	if (ret)
		return ret;
	*afd = accept_wait(lfd, WAIT_MS);
	return *afd < 0 ? -errno : 0;
}

TEST_F_TIMEOUT(fuzz, fuzz_established, TEST_TIMEOUT)
{
	static const char *const fam[2] = { "IPv4", "IPv6" };
	struct pumps ps = { .n = 2 };
	struct pump *pp = ps.p;
	struct fuzz *f = &self->f;
	struct stats s0[NS_NR], s1[NS_NR];
	unsigned short cport, cport6;
	pthread_t th;
	long lost;
	int i, k, ret;

	ret = open_live(self, AF_INET, self->lfd, ETCP_NS_ADDR_B, &self->cfd, &self->afd);
	ASSERT_EQ(0, ret) TH_LOG("IPv4 connection: %s", strerror(-ret));
	ret = open_live(self, AF_INET6, self->lfd6, ETCP_NS_ADDR6_B, &self->cfd6, &self->afd6);
	ASSERT_EQ(0, ret) TH_LOG("IPv6 connection: %s", strerror(-ret));
	cport = local_port(self->cfd);
	cport6 = local_port(self->cfd6);

	fuzz_init(f, &self->ns);
	TH_LOG("seed %llu (ETCP_FUZZ_SEED replays it), %ld segments",
	       (unsigned long long)f->rng, f->n);
	target_init(&f->t[0], "a>b live", self->raw_a, &self->link_ab, NS_B,
		    ETCP_NS_ADDR_A, ETCP_NS_ADDR_B, cport, PORT, self->afd);
	target_init(&f->t[1], "b>a live", self->raw_b, &self->link_ba, NS_A,
		    ETCP_NS_ADDR_B, ETCP_NS_ADDR_A, PORT, cport, self->cfd);
	target_init(&f->t[2], "a>b live IPv6", self->raw6_a, &self->link6_ab, NS_B,
		    ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B, cport6, PORT, self->afd6);
	target_init(&f->t[3], "b>a live IPv6", self->raw6_b, &self->link6_ba, NS_A,
		    ETCP_NS_ADDR6_B, ETCP_NS_ADDR6_A, PORT, cport6, self->cfd6);
	f->nt = 4;
	for (i = 0; i < NS_NR; i++)
		ASSERT_EQ(0, stats_read(f->nsfd[i], &s0[i]));
	lost = softnet_drops();

	pp[0].fd[0] = self->cfd;
	pp[0].fd[1] = self->afd;
	pp[1].fd[0] = self->cfd6;
	pp[1].fd[1] = self->afd6;
	ASSERT_EQ(0, pthread_create(&th, NULL, pump_run, &ps));
	/* Both transfers are under way before the first forged segment. */
	for (k = 0; k < 2; k++)
		while (!__atomic_load_n(&pp[k].rcvd[0], __ATOMIC_RELAXED) && !pp[k].err)
			pause_ms(1);
	fuzz_run(f);
	__atomic_store_n(&ps.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	lost = softnet_drops() - lost;

	TH_LOG("%ld sent in %lld ms (%ld near the window made bad-checksum), %ld send errors, %ld slow syncs; "
	       "IPv4 %llu and %llu, IPv6 %llu and %llu bytes moved, network drops %ld (%ld seen by the link)",
	       f->n, (long long)f->ms, f->guarded, f->send_err, f->lagged,
	       (unsigned long long)pp[0].sent[0], (unsigned long long)pp[0].sent[1],
	       (unsigned long long)pp[1].sent[0], (unsigned long long)pp[1].sent[1], lost,
	       f->link_nobufs);
	EXPECT_EQ(0, f->send_err) TH_LOG("send: %s", strerror(f->last_errno));
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, pp[k].err) TH_LOG("%s transfer: %s: %s", fam[k],
					       pp[k].where, strerror(pp[k].err));
		for (i = 0; i < 2; i++) {
			EXPECT_EQ(pp[k].sent[i], pp[k].rcvd[i])
				TH_LOG("%s direction %s", fam[k], i ? "b>a" : "a>b");
			EXPECT_EQ(-1, pp[k].bad_at[i])
				TH_LOG("%s direction %s: byte %lld is wrong", fam[k],
				       i ? "b>a" : "a>b", (long long)pp[k].bad_at[i]);
			EXPECT_EQ(ETCP_ESTABLISHED, pp[k].state_at_stop[i])
				TH_LOG("%s %s left ESTABLISHED during the fuzz", fam[k],
				       i ? "server" : "client");
			EXPECT_EQ(0, pp[k].error_at_stop[i])
				TH_LOG("%s %s: SO_ERROR %s", fam[k], i ? "server" : "client",
				       strerror(pp[k].error_at_stop[i]));
		}
	}
	check_counts(_metadata, f, lost);

	/* All ends read the other's FIN: closing now sends no RST. */
	close_fd(&self->afd);
	close_fd(&self->cfd);
	close_fd(&self->afd6);
	close_fd(&self->cfd6);
	for (i = 0; i < NS_NR; i++) {
		ASSERT_EQ(0, stats_read(f->nsfd[i], &s1[i]));
		EXPECT_EQ(0, stat_delta(&s0[i], &s1[i], "EstabResets"));
		EXPECT_EQ(0, stat_delta(&s0[i], &s1[i], "OutRsts"))
			TH_LOG("netns %c sent an RST", "ab"[i]);
		EXPECT_EQ(0, stat_delta(&s0[i], &s1[i], "AbortOnClose"));
	}
	check_host(_metadata, self);
}

/* Real clients, spread over the fuzz: connect, 100 bytes there and back. */
struct clients {
	struct fuzz *f;
	int nsfd, lfd, lfd6;
	int ok, err;
	const char *what;
};

static void *client_run(void *arg)
{
	struct clients *c = arg;
	char out[CLIENT_BYTES], in[CLIENT_BYTES];
	int i, k;

	for (i = 0; i < CLIENTS; i++) {
		int64_t deadline = now_ms() + 20000;
		size_t got = 0;
		int fd;

		/* Client i starts when i/CLIENTS of the fuzz is sent. */
		while (__atomic_load_n(&c->f->done, __ATOMIC_ACQUIRE) < c->f->n * i / CLIENTS)
			pause_ms(2);
		for (k = 0; k < CLIENT_BYTES; k++)
			out[k] = (char)(i * 7 + k);
		/* Every other client over IPv6: server_run() knows which. */
		fd = ns_socket(c->nsfd, i % 2 ? AF_INET6 : AF_INET, SOCK_STREAM,
			       IPPROTO_ETCP);
		if (fd < 0) {
			c->err = errno;
			c->what = "socket";
			break;
		}
		set_timeo(fd, SO_RCVTIMEO, 10000);
		if (connect_to(fd, i % 2 ? ETCP_NS_ADDR6_B : ETCP_NS_ADDR_B, PORT) ||
		    send(fd, out, sizeof(out), MSG_NOSIGNAL) != sizeof(out)) {
			c->err = errno;
			c->what = "connect/send";
			close(fd);
			break;
		}
		while (got < sizeof(in) && now_ms() < deadline) {
			ssize_t n = recv(fd, in + got, sizeof(in) - got, 0);

			if (n <= 0)
				break;
			got += n;
		}
		close(fd);
		if (got != sizeof(in) || memcmp(in, out, sizeof(in))) {
			c->err = got != sizeof(in) ? (errno ? errno : EPIPE) : EBADMSG;
			c->what = "echo";
			break;
		}
		c->ok++;
	}
	return NULL;
}

/* The server side: accept, echo, wait for the client's FIN, close. */
static void *server_run(void *arg)
{
	struct clients *c = arg;
	char buf[CLIENT_BYTES];
	int i;

	for (i = 0; i < CLIENTS; i++) {
		size_t got = 0;
		ssize_t n;
		int fd = accept_wait(i % 2 ? c->lfd6 : c->lfd, 30000);

		if (fd < 0)
			break;
		set_timeo(fd, SO_RCVTIMEO, 10000);
		while (got < sizeof(buf)) {
			n = recv(fd, buf + got, sizeof(buf) - got, 0);
			if (n <= 0)
				break;
			got += n;
		}
		if (got == sizeof(buf) &&
		    send(fd, buf, sizeof(buf), MSG_NOSIGNAL) == sizeof(buf))
			n = recv(fd, buf, sizeof(buf), 0);	/* the FIN */
		close(fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(fuzz, fuzz_listener, TEST_TIMEOUT)
{
	struct fuzz *f = &self->f;
	struct clients c = {};
	pthread_t cth, sth;
	long lost;

	fuzz_init(f, &self->ns);
	TH_LOG("seed %llu (ETCP_FUZZ_SEED replays it), %ld segments",
	       (unsigned long long)f->rng, f->n);
	target_init(&f->t[0], "listener", self->raw_a, &self->link_ab, NS_B,
		    ETCP_NS_ADDR_A, ETCP_NS_ADDR_B, 0, PORT, -1);
	f->t[0].forged_sport = true;
	target_init(&f->t[1], "closed port", self->raw_a, &self->link_ab, NS_B,
		    ETCP_NS_ADDR_A, ETCP_NS_ADDR_B, 0, CLOSED_PORT, -1);
	f->t[1].forged_sport = true;
	f->t[1].closed = true;
	target_init(&f->t[2], "listener IPv6", self->raw6_a, &self->link6_ab, NS_B,
		    ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B, 0, PORT, -1);
	f->t[2].forged_sport = true;
	target_init(&f->t[3], "closed port IPv6", self->raw6_a, &self->link6_ab, NS_B,
		    ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B, 0, CLOSED_PORT, -1);
	f->t[3].forged_sport = true;
	f->t[3].closed = true;
	f->nt = 4;
	lost = softnet_drops();

	c.f = f;
	c.nsfd = self->ns.a;
	c.lfd = self->lfd;
	c.lfd6 = self->lfd6;
	ASSERT_EQ(0, pthread_create(&sth, NULL, server_run, &c));
	ASSERT_EQ(0, pthread_create(&cth, NULL, client_run, &c));
	fuzz_run(f);
	pthread_join(cth, NULL);
	pthread_join(sth, NULL);
	lost = softnet_drops() - lost;

	TH_LOG("%ld sent in %lld ms, %ld send errors, %ld slow syncs, network drops %ld (%ld seen by the link); %d clients served",
	       f->n, (long long)f->ms, f->send_err, f->lagged, lost, f->link_nobufs, c.ok);
	EXPECT_EQ(0, f->send_err) TH_LOG("send: %s", strerror(f->last_errno));
	EXPECT_EQ(CLIENTS, c.ok) TH_LOG("client %d: %s: %s", c.ok, c.what, strerror(c.err));
	EXPECT_EQ(ETCP_LISTEN, sock_state(self->lfd, IPPROTO_ETCP));
	EXPECT_EQ(ETCP_LISTEN, sock_state(self->lfd6, IPPROTO_ETCP));
	check_counts(_metadata, f, lost);
	check_host(_metadata, self);
}

TEST_HARNESS_MAIN
