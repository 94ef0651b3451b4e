// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: the per-netns sysctls under /proc/sys/net/ipv4/etcp_*.
 *
 * ETCP_SYSCTLS is the README's table of sysctls: every row becomes a
 * variant of the "sysctl" fixture, and the "files" fixture checks that
 * these thirteen are the only etcp_* files.  The "keepalive" fixture runs over
 * TCP and etcp: the keepalive sysctls' probe count is honoured, and its
 * range fits the counter it is compared with.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

/*	   name			default	min	max */
#define ETCP_SYSCTLS(X) \
	X(syn_retries,		6,	1,	127) \
	X(synack_retries,	5,	1,	127) \
	X(msl,			30000,	1,	600000) \
	X(fin_timeout,		60,	1,	600) \
	X(max_orphans,		65536,	0,	INT_MAX) \
	X(max_tw_buckets,	262144,	0,	INT_MAX) \
	X(rfc1337,		0,	0,	1) \
	X(retries2,		15,	1,	127) \
	X(keepalive_time,	7200,	1,	32767) \
	X(keepalive_intvl,	75,	1,	32767) \
	X(keepalive_probes,	9,	1,	127) \
	X(challenge_ack_limit,	1000,	0,	INT_MAX) \
	X(invalid_ratelimit,	500,	0,	60000) \
	X(window_scaling,	1,	0,	1) \
	X(sack,			1,	0,	1) \
	X(dsack,		1,	0,	1) \
	X(early_retrans,	3,	0,	4)

#define SYSCTL_DIR	"net/ipv4"
#define VALUE_MAX	32

/* ----------------------------------------------------------- helpers */

static void sysctl_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, SYSCTL_DIR "/%s", name);
}

/* Value of etcp sysctl NAME in nsfd, or LONG_MIN if it cannot be read. */
static long sysctl_get(int nsfd, const char *name)
{
	char path[128];
	long val;

	sysctl_name(path, sizeof(path), name);
	if (ns_sysctl_get(nsfd, path, &val))
		return LONG_MIN;
	return val;
}

/* Write VAL (a string, written as is) to NAME in nsfd: 0 or -errno. */
static int sysctl_put(int nsfd, const char *name, const char *val)
{
	char path[128];

	sysctl_name(path, sizeof(path), name);
	return ns_sysctl_write(nsfd, path, val);
}

static int sysctl_put_long(int nsfd, const char *name, long val)
{
	char buf[VALUE_MAX];

	snprintf(buf, sizeof(buf), "%ld", val);
	return sysctl_put(nsfd, name, buf);
}

/* ------------------------------------------------- one fixture per row */

ETCP_NETNS_FIXTURE(sysctl, etcp_netns_setup);

FIXTURE_VARIANT(sysctl) {
	const char *name;
	long def;
	long min;
	long max;
};

#define ETCP_SYSCTL_VARIANT(n, d, lo, hi) \
	FIXTURE_VARIANT_ADD(sysctl, n) { \
		.name = "etcp_" #n, .def = (d), .min = (lo), .max = (hi), \
	};
ETCP_SYSCTLS(ETCP_SYSCTL_VARIANT)

/* A value in range that is not the default. */
static long other_value(const FIXTURE_VARIANT(sysctl) *variant)
{
	return variant->def != variant->max ? variant->max : variant->min;
}

TEST_F(sysctl, mode_and_default)
{
	char path[128];
	struct stat st;
	int ret;

	snprintf(path, sizeof(path), "/proc/sys/" SYSCTL_DIR "/%s", variant->name);
	ASSERT_EQ(0, ns_enter(self->ns.a));
	ret = stat(path, &st);
	ASSERT_EQ(0, ns_leave());
	ASSERT_EQ(0, ret) TH_LOG("%s does not exist in a new netns", path);
	EXPECT_TRUE(S_ISREG(st.st_mode)) TH_LOG("%s is not a file", path);
	EXPECT_EQ(0644U, st.st_mode & 07777)
		TH_LOG("%s has mode %04o, not 0644", path, st.st_mode & 07777);

	EXPECT_EQ(variant->def, sysctl_get(self->ns.a, variant->name))
		TH_LOG("%s in a new netns is not the default %ld",
		       variant->name, variant->def);
	EXPECT_EQ(variant->def, sysctl_get(self->ns.b, variant->name))
		TH_LOG("%s in a second new netns is not the default %ld",
		       variant->name, variant->def);
}

TEST_F(sysctl, write_min_and_max)
{
	int nsfd = self->ns.a;
	int ret;

	ret = sysctl_put_long(nsfd, variant->name, variant->min);
	EXPECT_EQ(0, ret) TH_LOG("writing the minimum %ld to %s: %s",
				 variant->min, variant->name, strerror(-ret));
	EXPECT_EQ(variant->min, sysctl_get(nsfd, variant->name));

	ret = sysctl_put_long(nsfd, variant->name, variant->max);
	EXPECT_EQ(0, ret) TH_LOG("writing the maximum %ld to %s: %s",
				 variant->max, variant->name, strerror(-ret));
	EXPECT_EQ(variant->max, sysctl_get(nsfd, variant->name));

	/* As echo(1) writes it, with a newline; 1 is in every range. */
	ret = sysctl_put(nsfd, variant->name, "1\n");
	EXPECT_EQ(0, ret) TH_LOG("writing \"1\\n\" to %s: %s",
				 variant->name, strerror(-ret));
	EXPECT_EQ(1, sysctl_get(nsfd, variant->name));
}

/* Write BAD; it must fail with EINVAL and leave OLD in place. */
static void expect_rejected(struct __test_metadata *_metadata, int nsfd,
			    const char *name, const char *bad, long old)
{
	int ret = sysctl_put(nsfd, name, bad);

	EXPECT_EQ(-EINVAL, ret)
		TH_LOG("write of \"%s\" to %s gave %s, not EINVAL", bad, name,
		       ret ? strerror(-ret) : "success");
	EXPECT_EQ(old, sysctl_get(nsfd, name))
		TH_LOG("failed write of \"%s\" to %s changed its value", bad, name);
}

TEST_F(sysctl, reject_out_of_range)
{
	long old = other_value(variant);
	char bad[VALUE_MAX];
	int nsfd = self->ns.a;
	int ret;

	/* Start from a non-default value, so "still the old value" means it. */
	ASSERT_EQ(0, sysctl_put_long(nsfd, variant->name, old));

	snprintf(bad, sizeof(bad), "%ld", variant->min - 1);
	expect_rejected(_metadata, nsfd, variant->name, bad, old);
	snprintf(bad, sizeof(bad), "%ld", variant->max + 1);
	expect_rejected(_metadata, nsfd, variant->name, bad, old);
	expect_rejected(_metadata, nsfd, variant->name, "abc", old);
	expect_rejected(_metadata, nsfd, variant->name, "1x", old);

	/* An empty write changes nothing (the kernel accepts it as a no-op). */
	ret = sysctl_put(nsfd, variant->name, "");
	EXPECT_TRUE(ret == 0 || ret == -EINVAL)
		TH_LOG("empty write to %s: %s", variant->name, strerror(-ret));
	EXPECT_EQ(old, sysctl_get(nsfd, variant->name))
		TH_LOG("empty write to %s changed its value", variant->name);
}

TEST_F(sysctl, per_netns)
{
	long val = other_value(variant);
	char name_c[ETCP_NS_NAME_MAX];
	int c;

	ASSERT_EQ(0, sysctl_put_long(self->ns.a, variant->name, val));
	ASSERT_EQ(val, sysctl_get(self->ns.a, variant->name));

	EXPECT_EQ(variant->def, sysctl_get(self->ns.b, variant->name))
		TH_LOG("%s written in netns a is seen in netns b", variant->name);

	etcp_ns_name(name_c, sizeof(name_c), "c");
	c = etcp_ns_create(name_c);
	ASSERT_LE(0, c) TH_LOG("cannot create a third netns");
	EXPECT_EQ(variant->def, sysctl_get(c, variant->name))
		TH_LOG("%s in a netns created after a write elsewhere is not the default %ld",
		       variant->name, variant->def);
	etcp_ns_delete(name_c, c);

	EXPECT_EQ(val, sysctl_get(self->ns.a, variant->name))
		TH_LOG("%s in netns a lost its value", variant->name);
}

/* ------------------------------------------------------ the file list */

#define ETCP_SYSCTL_NAME(n, d, lo, hi) "etcp_" #n,
static const char *const etcp_sysctl_names[] = {
	ETCP_SYSCTLS(ETCP_SYSCTL_NAME)
};

#define ETCP_NR_SYSCTLS ARRAY_SIZE(etcp_sysctl_names)

ETCP_NETNS_FIXTURE(files, etcp_netns_setup);

static int known_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ETCP_NR_SYSCTLS; i++)
		if (!strcmp(name, etcp_sysctl_names[i]))
			return i;
	return -1;
}

/* Exactly the thirteen names of the design exist, in a new netns and in init_net. */
static void check_names(struct __test_metadata *_metadata, int nsfd,
			const char *where)
{
	int seen[ETCP_NR_SYSCTLS] = {};
	struct dirent *de;
	unsigned int i;
	DIR *dir;
	int k;

	/* Braces: ASSERT_* and EXPECT_* are more than one statement. */
	if (nsfd >= 0) {
		ASSERT_EQ(0, ns_enter(nsfd));
	}
	dir = opendir("/proc/sys/" SYSCTL_DIR);
	ASSERT_NE(NULL, dir) TH_LOG("cannot list /proc/sys/" SYSCTL_DIR);
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "etcp", 4))
			continue;
		k = known_index(de->d_name);
		EXPECT_LE(0, k)
			TH_LOG("unexpected sysctl %s in %s", de->d_name, where);
		if (k >= 0)
			seen[k]++;
	}
	closedir(dir);
	if (nsfd >= 0) {
		ASSERT_EQ(0, ns_leave());
	}
	for (i = 0; i < ETCP_NR_SYSCTLS; i++) {
		EXPECT_EQ(1, seen[i])
			TH_LOG("sysctl %s listed %d times in %s",
			       etcp_sysctl_names[i], seen[i], where);
	}
}

TEST_F(files, only_known_names)
{
	check_names(_metadata, self->ns.a, "a new netns");
	check_names(_metadata, -1, "the initial netns");
}

/* --------------------------------------- keepalive, over TCP and etcp */

#define KA_PORT		5000
#define KA_WAIT_MS	5000
/* Probes before the abort: small, so that the test takes seconds. */
#define KA_PROBES	2

FIXTURE(keepalive) {
	struct etcp_netns ns;
	int l, c, s;
};

FIXTURE_VARIANT(keepalive) {
	int proto;
	const char *probes;	/* counter of keepalive probes sent */
	const char *aborts;	/* counter of connections aborted by a timer */
	long probes_max;	/* of <proto>_keepalive_probes */
};

/*
 * TCP's tcp_keepalive_probes is a u8 (0..255) compared with a u8 counter;
 * etcp's takes TCP_KEEPCNT's range, 1..127, below its u8 counter's wrap.
 */
FIXTURE_VARIANT_ADD(keepalive, tcp) {
	.proto = IPPROTO_TCP,
	.probes = "TCPKeepAlive",
	.aborts = "TCPAbortOnTimeout",
	.probes_max = 255,
};

FIXTURE_VARIANT_ADD(keepalive, etcp) {
	.proto = IPPROTO_ETCP,
	.probes = "KeepAliveProbes",
	.aborts = "AbortOnTimeout",
	.probes_max = 127,
};

FIXTURE_SETUP(keepalive)
{
	const char *why = etcp_netns_unsupported();

	self->l = -1;
	self->c = -1;
	self->s = -1;
	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, two_ns_setup(&self->ns))
		TH_LOG("cannot set up the two network namespaces");
}

FIXTURE_TEARDOWN(keepalive)
{
	close_fds(&self->s, &self->c, &self->l, NULL);
	etcp_netns_teardown(&self->ns);
}

/* Write or read the variant's keepalive sysctl @name ("time", ...) in @nsfd. */
static int ka_put(const FIXTURE_VARIANT(keepalive) *variant, int nsfd,
		  const char *name, long val)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s_keepalive_%s", proto_name(variant->proto), name);
	return sysctl_put_long(nsfd, buf, val);
}

static long ka_get(const FIXTURE_VARIANT(keepalive) *variant, int nsfd,
		   const char *name)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s_keepalive_%s", proto_name(variant->proto), name);
	return sysctl_get(nsfd, buf);
}

/*
 * The probe count at its maximum is accepted and read back; one more, and
 * for etcp 256 and up, which its u8 counter could never reach (a dead
 * peer was never detected), fail with EINVAL and keep the maximum.  That
 * such a count is not honoured is thus no longer testable;
 * probes_honoured shows that a small one is.
 */
TEST_F(keepalive, probes_max)
{
	const long bad[] = { variant->probes_max + 1, 256, 257, 32767, INT_MAX };
	unsigned int i;
	int ret;

	ret = ka_put(variant, self->ns.a, "probes", variant->probes_max);
	ASSERT_EQ(0, ret) TH_LOG("%s_keepalive_probes = %ld: %s", proto_name(variant->proto),
				 variant->probes_max, strerror(-ret));
	EXPECT_EQ(variant->probes_max, ka_get(variant, self->ns.a, "probes"));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (bad[i] <= variant->probes_max)
			continue;
		ret = ka_put(variant, self->ns.a, "probes", bad[i]);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("%s_keepalive_probes = %ld: %s, not EINVAL",
					       proto_name(variant->proto), bad[i],
					       ret ? strerror(-ret) : "accepted");
		EXPECT_EQ(variant->probes_max, ka_get(variant, self->ns.a, "probes"))
			TH_LOG("%s_keepalive_probes changed by a refused %ld",
			       proto_name(variant->proto), bad[i]);
	}
}

/*
 * keepalive_time = keepalive_intvl = 1 s and keepalive_probes = 2, from
 * the sysctls (the socket sets no option; getsockopt reads them back):
 * with SO_KEEPALIVE on and the peer gone (its namespace drops every
 * segment of the protocol), exactly two probes leave, one a second, and
 * the next expiry aborts the connection: ETIMEDOUT, counted once.
 */
TEST_F_TIMEOUT(keepalive, probes_honoured, 60)
{
	long p0, a0, p1, a1, t0, ms;
	int lvl = variant->proto, ev, err;
	ssize_t n;
	char ch;

	ASSERT_EQ(0, ka_put(variant, self->ns.a, "time", 1));
	ASSERT_EQ(0, ka_put(variant, self->ns.a, "intvl", 1));
	ASSERT_EQ(0, ka_put(variant, self->ns.a, "probes", KA_PROBES));
	self->l = listen_on(self->ns.b, variant->proto, ETCP_NS_ADDR_B, KA_PORT, 8);
	ASSERT_LE(0, self->l) TH_LOG("listener: %s", strerror(errno));
	self->c = ns_socket(self->ns.a, AF_INET, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, connect_to(self->c, ETCP_NS_ADDR_B, KA_PORT));
	self->s = accept_wait(self->l, KA_WAIT_MS);
	ASSERT_LE(0, self->s) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(1, sockopt_get(self->c, lvl, ETCP_KEEPIDLE));
	EXPECT_EQ(1, sockopt_get(self->c, lvl, ETCP_KEEPINTVL));
	EXPECT_EQ(KA_PROBES, sockopt_get(self->c, lvl, ETCP_KEEPCNT));

	p0 = read_counter(self->ns.a, variant->proto, variant->probes);
	a0 = read_counter(self->ns.a, variant->proto, variant->aborts);
	ASSERT_LE(0, p0) TH_LOG("no counter %s", variant->probes);
	ASSERT_LE(0, a0) TH_LOG("no counter %s", variant->aborts);
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, variant->proto, "input", ""));
	t0 = now_ms();
	ASSERT_EQ(0, sockopt_set(self->c, SOL_SOCKET, SO_KEEPALIVE, 1));

	/* Probes at (at most) 1 and 2 s, the abort at 3 s. */
	ev = poll_fd(self->c, POLLIN, 10000);
	ms = now_ms() - t0;
	p1 = read_counter(self->ns.a, variant->proto, variant->probes);
	a1 = read_counter(self->ns.a, variant->proto, variant->aborts);
	ASSERT_TRUE(ev > 0 && (ev & POLLERR))
		TH_LOG("%s: no error %ld ms after SO_KEEPALIVE (revents 0x%x), %ld probes sent",
		       proto_name(variant->proto), ms, ev, p1 - p0);
	n = recv(self->c, &ch, 1, MSG_DONTWAIT);
	err = errno;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ETIMEDOUT, err) TH_LOG("recv after the keepalive abort: %s", strerror(err));
	EXPECT_EQ(KA_PROBES, p1 - p0) TH_LOG("%s: %ld probes before the abort, not %d",
					     proto_name(variant->proto), p1 - p0, KA_PROBES);
	EXPECT_EQ(1, a1 - a0) TH_LOG("%s grew by %ld", variant->aborts, a1 - a0);
	/* Two intervals at least, less a jiffy of timer rounding each. */
	EXPECT_LE(2 * 1000 - 100, ms) TH_LOG("%s: aborted %ld ms after SO_KEEPALIVE",
					     proto_name(variant->proto), ms);
}

TEST_HARNESS_MAIN
