// SPDX-License-Identifier: GPL-2.0
/* Fixture pieces shared by the etcp selftests: see etcp_fixture.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <linux/etcp.h>

#include "etcp_capture.h"
#include "etcp_fixture.h"
#include "etcp_raw.h"
#include "etcp_util.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* A sysctl of both namespaces: 0 or -errno. */
static int both_sysctl(const struct etcp_netns *ns, const char *name,
		       const char *val)
{
	return ns_sysctl_write(ns->a, name, val) ?:
	       ns_sysctl_write(ns->b, name, val);
}

void etcp_env_teardown(struct etcp_env *e)
{
	etcp_cap_stop(e->cap);
	e->cap = NULL;
	etcp_netns_teardown(&e->ns);
}

int etcp_env_tune(const struct etcp_netns *ns, int proto, unsigned int flags,
		  const char **why)
{
	/* The SYN options first; the rest only for ETCP_ENV_EXACT. */
	static const char * const tcp_off[] = {
		"net/ipv4/tcp_timestamps", "net/ipv4/tcp_sack",
		"net/ipv4/tcp_window_scaling", "net/ipv4/tcp_ecn",
		"net/ipv4/tcp_autocorking", "net/ipv4/tcp_invalid_ratelimit",
	};
	unsigned int n_off = flags & ETCP_ENV_EXACT ? ARRAY_LEN(tcp_off) : 4;
	unsigned int i;
	int ret = 0;

	if (flags & ETCP_ENV_EXACT) {
		*why = "cannot turn TSO off on the veth";
		ret = ns_tso_off(ns->a, ETCP_NS_IF_A) ?:
		      ns_tso_off(ns->b, ETCP_NS_IF_B);
		if (ret)
			return ret;
	}
	if (proto == IPPROTO_TCP) {
		*why = "cannot make TCP comparable (sysctls)";
		for (i = 0; i < n_off && !ret; i++)
			ret = both_sysctl(ns, tcp_off[i], "0");
		/* etcp's congestion control is Reno's (NewReno): CUBIC's is not. */
		if (!ret)
			ret = both_sysctl(ns, "net/ipv4/tcp_congestion_control", "reno");
	} else {
		/* The SYN options TCP's list leaves etcp: window scale, SACK. */
		*why = "cannot turn etcp_window_scaling and etcp_sack off";
		ret = both_sysctl(ns, "net/ipv4/etcp_window_scaling", "0") ?:
		      both_sysctl(ns, "net/ipv4/etcp_sack", "0");
		if (!ret && (flags & ETCP_ENV_EXACT)) {
			*why = "cannot turn etcp_invalid_ratelimit off";
			ret = both_sysctl(ns, "net/ipv4/etcp_invalid_ratelimit",
					  "0");
		}
	}
	return ret;
}

int etcp_env_setup(struct etcp_env *e, int proto, unsigned int flags,
		   const char **why)
{
	int ret;

	memset(e, 0, sizeof(*e));
	e->proto = proto;
	pin_cpu();
	*why = "cannot create the two network namespaces";
	ret = etcp_netns_setup(&e->ns);
	if (ret)
		return ret;
	*why = "the veth pair has no carrier";
	ret = etcp_netns_wait_carrier(&e->ns, 5000) ?:
	      etcp_env_tune(&e->ns, proto, flags, why);
	if (ret)
		goto err;
	*why = "cannot start the capture on " ETCP_NS_IF_A;
	e->cap = etcp_cap_start(e->ns.a, ETCP_NS_IF_A, proto);
	if (!e->cap) {
		ret = -errno;
		goto err;
	}
	return 0;

err:
	etcp_env_teardown(e);
	return ret;
}

int etcp_forge_setup(const struct etcp_netns *ns, int proto, int family,
		     unsigned short port, struct etcp_cap **cap, int *raw_a,
		     int *raw_b, int *lfd, const char **why)
{
	*why = "capture";
	*cap = etcp_cap_start(ns->a, ETCP_NS_IF_A, proto);
	if (!*cap)
		return -errno;
	*why = "raw socket in a";
	*raw_a = etcp_raw_open_af(ns->a, proto, family);
	if (*raw_a < 0)
		return -errno;
	*why = "raw socket in b";
	*raw_b = etcp_raw_open_af(ns->b, proto, family);
	if (*raw_b < 0)
		return -errno;
	*why = "listen";
	*lfd = listen_on(ns->b, proto,
			 family == AF_INET6 ? ETCP_NS_ADDR6_B : ETCP_NS_ADDR_B, port, 8);
	if (*lfd < 0)
		return -errno;
	return 0;
}
