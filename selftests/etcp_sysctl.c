// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: the per-netns sysctls under /proc/sys/net/ipv4/etcp_*.
 *
 * ETCP_SYSCTLS is the table of DESIGN.md: every row becomes a variant of
 * the "sysctl" fixture, and the "files" fixture checks that these twelve
 * are the only etcp_* files.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etcp_netns.h"
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
	X(keepalive_probes,	9,	1,	32767) \
	X(challenge_ack_limit,	1000,	0,	INT_MAX) \
	X(invalid_ratelimit,	500,	0,	60000)

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

FIXTURE(sysctl) {
	struct etcp_netns ns;
};

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

FIXTURE_SETUP(sysctl)
{
	const char *why = etcp_netns_unsupported();

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, etcp_netns_setup(&self->ns))
		TH_LOG("cannot create the two network namespaces");
}

FIXTURE_TEARDOWN(sysctl)
{
	etcp_netns_teardown(&self->ns);
}

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

	snprintf(name_c, sizeof(name_c), "etcp-c-%d", getpid());
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

FIXTURE(files) {
	struct etcp_netns ns;
};

FIXTURE_SETUP(files)
{
	const char *why = etcp_netns_unsupported();

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	ASSERT_EQ(0, etcp_netns_setup(&self->ns))
		TH_LOG("cannot create the two network namespaces");
}

FIXTURE_TEARDOWN(files)
{
	etcp_netns_teardown(&self->ns);
}

static int known_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ETCP_NR_SYSCTLS; i++)
		if (!strcmp(name, etcp_sysctl_names[i]))
			return i;
	return -1;
}

/* Exactly the twelve names of the design exist, in a new netns and in init_net. */
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

TEST_HARNESS_MAIN
