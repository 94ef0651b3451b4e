// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: per network namespace tunables under /proc/sys/net/ipv4/etcp_*.
 *
 * Every namespace gets its own copy of the table pointing at its own
 * struct etcp_sysctl, starting from the defaults below.  Bounds live in the
 * table, so proc_dointvec_minmax() refuses an out-of-range write with
 * EINVAL and leaves the old value in place.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <linux/limits.h>

#include "etcp.h"
#include "compat.h"

struct etcp_sysctl_def {
	const char *procname;
	size_t offset;			/* in struct etcp_sysctl */
	int def;
	int min;
	int max;
};

#define ETCP_SYSCTL(name, dflt, lo, hi) {				\
	.procname = "etcp_" #name,					\
	.offset = offsetof(struct etcp_sysctl, name),			\
	.def = dflt, .min = lo, .max = hi,				\
}

/*
 * The sysctls of the README's table; each TCP counterpart is in the
 * comment.  Each range fits where the value goes: the counts are compared
 * with u8 counters (a socket's retransmits, probes_out and
 * keepalive_probes, a request's retransmits), the keepalive times are
 * ETCP_KEEPIDLE's and ETCP_KEEPINTVL's ranges and times HZ stay ints, as
 * the ms and s of msl, fin_timeout and invalid_ratelimit do, and the
 * largest challenge ACK budget of a second, (limit + 1) / 2 + limit - 1,
 * fits its u32.  Where a TCP socket option has a range, the sysctl has
 * the same.
 */
static const struct etcp_sysctl_def etcp_sysctl_defs[] = {
	ETCP_SYSCTL(syn_retries, 6, 1, ETCP_MAX_SYNCNT),	/* tcp_syn_retries */
	ETCP_SYSCTL(synack_retries, 5, 1, ETCP_MAX_SYNCNT),	/* tcp_synack_retries */
	ETCP_SYSCTL(msl, 30000, 1, 600000),		/* TCP: fixed 60 s */
	ETCP_SYSCTL(fin_timeout, 60, 1, ETCP_MAX_FIN_TIMEOUT),		/* tcp_fin_timeout */
	ETCP_SYSCTL(max_orphans, 65536, 0, INT_MAX),	/* tcp_max_orphans */
	ETCP_SYSCTL(max_tw_buckets, 262144, 0, INT_MAX), /* tcp_max_tw_buckets */
	ETCP_SYSCTL(rfc1337, 0, 0, 1),			/* tcp_rfc1337 */
	ETCP_SYSCTL(retries2, 15, 1, 127),		/* tcp_retries2 */
	ETCP_SYSCTL(keepalive_time, 7200, 1, ETCP_MAX_KEEPIDLE), /* tcp_keepalive_time */
	ETCP_SYSCTL(keepalive_intvl, 75, 1, ETCP_MAX_KEEPINTVL), /* tcp_keepalive_intvl */
	/*
	 * esk->keepalive_probes counts up to this in a u8: 256 or more
	 * would never be reached and a dead peer never detected.  127 is
	 * TCP_KEEPCNT's bound (MAX_TCP_KEEPCNT), as ETCP_KEEPCNT's.
	 */
	ETCP_SYSCTL(keepalive_probes, 9, 1, ETCP_MAX_KEEPCNT), /* tcp_keepalive_probes */
	ETCP_SYSCTL(challenge_ack_limit, 1000, 0, INT_MAX), /* RFC 5961 */
	ETCP_SYSCTL(invalid_ratelimit, 500, 0, 60000),	/* tcp_invalid_ratelimit */
	ETCP_SYSCTL(window_scaling, 1, 0, 1),		/* tcp_window_scaling */
	ETCP_SYSCTL(sack, 1, 0, 1),			/* tcp_sack */
	ETCP_SYSCTL(dsack, 1, 0, 1),			/* tcp_dsack */
	/* 3 and 4 send tail loss probes; 1 and 2 are Linux's old modes. */
	ETCP_SYSCTL(early_retrans, 3, 0, 4),		/* tcp_early_retrans */
};

#define ETCP_NR_SYSCTL	ARRAY_SIZE(etcp_sysctl_defs)

static int *etcp_sysctl_field(struct etcp_sysctl *s, size_t offset)
{
	return (int *)((char *)s + offset);
}

static void etcp_sysctl_fill(struct ctl_table *t, struct etcp_sysctl *s)
{
	size_t i;

	for (i = 0; i < ETCP_NR_SYSCTL; i++) {
		const struct etcp_sysctl_def *d = &etcp_sysctl_defs[i];
		int *val = etcp_sysctl_field(s, d->offset);

		*val = d->def;
		t[i].procname = d->procname;
		t[i].data = val;
		t[i].maxlen = sizeof(int);
		t[i].mode = 0644;
		t[i].proc_handler = proc_dointvec_minmax;
		/* The handler only reads the bounds. */
		t[i].extra1 = (void *)&d->min;
		t[i].extra2 = (void *)&d->max;
	}
}

int etcp_sysctl_net_init(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	struct ctl_table *t;

	/* One more, zeroed: the sentinel kernels before 6.6 look for. */
	t = kcalloc(ETCP_NR_SYSCTL + 1, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;

	etcp_sysctl_fill(t, &en->sysctl);

	en->sysctl_hdr = etcp_compat_register_sysctl(net, t, ETCP_NR_SYSCTL);
	if (!en->sysctl_hdr) {
		kfree(t);
		return -ENOMEM;
	}
	return 0;
}

void etcp_sysctl_net_exit(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	const struct ctl_table *t = en->sysctl_hdr->ctl_table_arg;

	unregister_net_sysctl_table(en->sysctl_hdr);
	kfree(t);
}
