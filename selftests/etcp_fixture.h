/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture pieces the etcp selftests share: the TCP/etcp variant pair, the
 * fixture that is only the two namespaces, and the "wire" environment
 * (namespaces, TCP made comparable, a capture on ea).
 *
 * The macros expand to kselftest_harness.h constructs, so a test includes
 * that header before using them; the functions, like etcp_netns.h's,
 * return 0 or -errno and know nothing of the harness.
 */
#ifndef _ETCP_FIXTURE_H
#define _ETCP_FIXTURE_H

#include <stdbool.h>

#include "etcp_netns.h"

struct etcp_cap;

/*
 * The fields of every differential fixture's variant: the protocol, the
 * address family, and a's and b's addresses on the veth in that family
 * (ETCP_NS_ADDR_A/B or ETCP_NS_ADDR6_A/B), which the tests use instead of
 * naming one family's.
 */
#define ETCP_VARIANT_FIELDS						\
	int proto;							\
	int family;							\
	const char *addr_a;						\
	const char *addr_b

#define ETCP_VARIANT_ADD(f, name, p, fam, a, b)				\
FIXTURE_VARIANT_ADD(f, name) {						\
	.proto = p, .family = fam, .addr_a = a, .addr_b = b,		\
}

#define ETCP_VARIANT_ADD_INET(f)					\
ETCP_VARIANT_ADD(f, tcp, IPPROTO_TCP, AF_INET,				\
		 ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);			\
ETCP_VARIANT_ADD(f, etcp, IPPROTO_ETCP, AF_INET,			\
		 ETCP_NS_ADDR_A, ETCP_NS_ADDR_B)

/*
 * FIXTURE_VARIANT(@f) and its two variants "tcp" and "etcp", over IPv4:
 * the TCP run proves that the test expects what Linux TCP does.  For the
 * fixtures whose every case is about one family (etcp_ipv6's), or that
 * exercise no path the family changes.
 */
#define ETCP_PROTO_VARIANTS(f)						\
FIXTURE_VARIANT(f) {							\
	ETCP_VARIANT_FIELDS;						\
};									\
ETCP_VARIANT_ADD_INET(f)

/*
 * ETCP_PROTO_VARIANTS(@f) with "tcp6" and "etcp6" besides: the same cases
 * over IPv6 between ETCP_NS_ADDR6_A and ETCP_NS_ADDR6_B, AF_INET6 sockets.
 */
#define ETCP_FAMILY_VARIANTS(f)						\
FIXTURE_VARIANT(f) {							\
	ETCP_VARIANT_FIELDS;						\
};									\
ETCP_VARIANT_ADD_INET(f);						\
ETCP_VARIANT_ADD(f, tcp6, IPPROTO_TCP, AF_INET6,			\
		 ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);			\
ETCP_VARIANT_ADD(f, etcp6, IPPROTO_ETCP, AF_INET6,			\
		 ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B)

/*
 * The MSS a connection between a and b announces and uses: the veth's
 * MTU (1500) less the IP and transport headers, 40 bytes for IPv4 and 60
 * for IPv6.
 */
#define ETCP_NS_MSS(family)	((family) == AF_INET6 ? 1440 : 1460)

/*
 * The retransmission timeout of a connection between a and b: the floor
 * (Linux's TCP_RTO_MIN), the veth's round trip being far below it.
 */
#define ETCP_NS_RTO_MS		200

/*
 * FIXTURE(@f) that is only the two namespaces (self->ns), made by @setup
 * (etcp_netns_setup, or two_ns_setup for TCP's MSS to be etcp's), with
 * its setup (skipped where they cannot be made) and teardown.
 */
#define ETCP_NETNS_FIXTURE(f, setup)					\
FIXTURE(f) {								\
	struct etcp_netns ns;						\
};									\
FIXTURE_SETUP(f)							\
{									\
	const char *why = etcp_netns_unsupported();			\
									\
	if (why)							\
		ETCP_SETUP_SKIP("%s", why);				\
	ASSERT_EQ(0, setup(&self->ns))					\
		TH_LOG("cannot set up the two network namespaces");	\
}									\
FIXTURE_TEARDOWN(f)							\
{									\
	etcp_netns_teardown(&self->ns);					\
}

/*
 * The wire environment: the namespaces with carrier, @proto's capture on
 * ea, and for TCP the SYN options etcp lacks turned off (timestamps, SACK,
 * window scaling, ECN) and Reno for congestion control, so that both send
 * the same segments.
 */
struct etcp_env {
	struct etcp_netns ns;
	struct etcp_cap *cap;
	int proto;
};

/*
 * ETCP_ENV_EXACT: every segment as sent, and every answer: TSO off on the
 * veth (the capture sees segments, not GSO super-packets), no TCP
 * autocorking, and no rate limit on the ACKs answering out-of-window
 * segments (tcp_invalid_ratelimit, etcp_invalid_ratelimit).
 */
#define ETCP_ENV_EXACT		0x1

/*
 * Set @e up (pinned to one CPU, see pin_cpu()): 0, or -errno with *@why
 * saying what failed and nothing left behind (the harness skips the
 * teardown when the setup fails).
 */
int etcp_env_setup(struct etcp_env *e, int proto, unsigned int flags,
		   const char **why);
/*
 * What etcp_env_setup() does to namespaces @ns already there for @proto
 * and @flags, the capture aside (TCP's sysctls for TCP, the window scale
 * off for etcp, so that the SYNs of both carry the MSS alone; TSO and the
 * rate limit for ETCP_ENV_EXACT): 0, or -errno with *@why saying what
 * failed.
 */
int etcp_env_tune(const struct etcp_netns *ns, int proto, unsigned int flags,
		  const char **why);
/* Undo etcp_env_setup(); the namespaces take nft tables and qdiscs along. */
void etcp_env_teardown(struct etcp_env *e);

static inline bool etcp_env_is_etcp(const struct etcp_env *e)
{
	return e->proto == IPPROTO_ETCP;
}

/*
 * The forging fixtures' setting, over namespaces @ns already set up: a
 * capture of @proto on ea (*@cap), a raw @proto socket of @family in a
 * (*@raw_a) and in b (*@raw_b), and a listener on b's address of @family,
 * port @port (*@lfd).  0, or
 * -errno with *@why saying what failed; what was made is in the fields,
 * for the teardown to close.
 */
int etcp_forge_setup(const struct etcp_netns *ns, int proto, int family,
		     unsigned short port, struct etcp_cap **cap, int *raw_a,
		     int *raw_b, int *lfd, const char **why);

#endif /* _ETCP_FIXTURE_H */
