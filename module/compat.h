/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels etcp builds on, and nothing else.
 * Protocol files call the etcp_compat_*() names and never test versions.
 */
#ifndef _ETCP_COMPAT_H
#define _ETCP_COMPAT_H

#include <linux/version.h>
#include <net/net_namespace.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "etcp needs Linux 6.1 or newer"
#endif

/*
 * 6.6 made sysctl tables sized instead of sentinel-terminated.  Our tables
 * keep a zeroed sentinel for the older kernels; @n counts the entries
 * before it.
 */
static inline struct ctl_table_header *
etcp_compat_register_sysctl(struct net *net, struct ctl_table *table, size_t n)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
	return register_net_sysctl(net, "net/ipv4", table);
#else
	return register_net_sysctl_sz(net, "net/ipv4", table, n);
#endif
}

#endif /* _ETCP_COMPAT_H */
