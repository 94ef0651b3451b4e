/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels etcp builds on, and nothing else.
 * Protocol files call the etcp_compat_*() names and never test versions.
 */
#ifndef _ETCP_COMPAT_H
#define _ETCP_COMPAT_H

#include <linux/slab.h>
#include <linux/version.h>

#include <linux/timer.h>
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#include <asm/unaligned.h>	/* became <linux/unaligned.h> in 6.12 */
#else
#include <linux/unaligned.h>
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#include <net/gso.h>		/* GSO's helpers left skbuff.h in 6.5 */
#endif
#include <linux/inet_diag.h>
#include <net/inet_common.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/route.h>
#include <net/sock.h>

#include "etcp.h"		/* what the adapters below call */

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

/* 6.16 renamed from_timer(). */
#ifdef timer_container_of
#define etcp_timer_container_of(var, t, field) timer_container_of(var, t, field)
#else
#define etcp_timer_container_of(var, t, field) from_timer(var, t, field)
#endif

/* 6.10 passes accept()'s arguments in a struct. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
static inline struct sock *etcp_compat_accept(struct sock *sk, int flags,
					      int *err, bool kern)
{
	return etcp_accept(sk, flags, err);
}
#else
static inline struct sock *etcp_compat_accept(struct sock *sk,
					      struct proto_accept_arg *arg)
{
	return etcp_accept(sk, arg->flags, &arg->err);
}
#endif

/*
 * 6.19 gives proto->connect a struct sockaddr_unsized: the length comes
 * separately, as it always did.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 19, 0)
static inline int etcp_compat_connect(struct sock *sk, struct sockaddr *uaddr,
				      int addr_len)
{
	return etcp_v4_connect(sk, uaddr, addr_len);
}

static inline int etcp_compat_connect6(struct sock *sk, struct sockaddr *uaddr,
				       int addr_len)
{
	return etcp_v6_connect(sk, uaddr, addr_len);
}
#else
static inline int etcp_compat_connect(struct sock *sk,
				      struct sockaddr_unsized *uaddr,
				      int addr_len)
{
	return etcp_v4_connect(sk, (struct sockaddr *)uaddr, addr_len);
}

static inline int etcp_compat_connect6(struct sock *sk,
				       struct sockaddr_unsized *uaddr,
				       int addr_len)
{
	return etcp_v6_connect(sk, (struct sockaddr *)uaddr, addr_len);
}
#endif

/*
 * Where inet6_create() finds an AF_INET6 socket's struct ipv6_pinfo: 6.1
 * at the end of the object (struct etcp6_sock has it there), later kernels
 * at proto->ipv6_pinfo_offset, which 6.12 has (6.5 brought it; only 6.1
 * and 6.12 are built on either side of that).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static inline void etcp_compat_set_ipv6_pinfo(struct proto *prot,
					      unsigned int offset)
{
}
#else
static inline void etcp_compat_set_ipv6_pinfo(struct proto *prot,
					      unsigned int offset)
{
	prot->ipv6_pinfo_offset = offset;
}
#endif

/*
 * A child's flow label list, copied from its listener, is not its own.
 * It moved from struct ipv6_pinfo to struct inet_sock, and pmtudisc from a
 * bit-field to a byte, between 6.1 and 6.12 (6.6 is a guess: only those
 * two are built).
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
static inline void etcp_compat_clear_fl_list(struct sock *sk)
{
	RCU_INIT_POINTER(inet6_sk(sk)->ipv6_fl_list, NULL);
}

static inline u8 etcp_compat_v6_pmtudisc(const struct sock *sk)
{
	return inet6_sk(sk)->pmtudisc;
}
#else
static inline void etcp_compat_clear_fl_list(struct sock *sk)
{
	RCU_INIT_POINTER(inet_sk(sk)->ipv6_fl_list, NULL);
}

static inline u8 etcp_compat_v6_pmtudisc(const struct sock *sk)
{
	return READ_ONCE(inet6_sk(sk)->pmtudisc);
}
#endif

/*
 * 7.0 took the addr_len argument from proto->recvmsg and from
 * inet_recv_error(): the error queue's reader sets msg_namelen itself.
 * A stream socket returns no address otherwise, on any kernel.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 0, 0)
static inline int etcp_compat_recvmsg(struct sock *sk, struct msghdr *msg,
				      size_t len, int flags, int *addr_len)
{
	if (flags & MSG_ERRQUEUE)
		return inet_recv_error(sk, msg, len, addr_len);
	return etcp_recvmsg(sk, msg, len, flags);
}
#else
static inline int etcp_compat_recvmsg(struct sock *sk, struct msghdr *msg,
				      size_t len, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return inet_recv_error(sk, msg, len);
	return etcp_recvmsg(sk, msg, len, flags);
}
#endif

/* 6.5 hands proto->ioctl a kernel int instead of the user's pointer. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
static inline int etcp_compat_ioctl(struct sock *sk, int cmd,
				    unsigned long arg)
{
	int karg, err;

	err = etcp_ioctl(sk, cmd, &karg);
	if (err)
		return err;
	return put_user(karg, (int __user *)arg);
}
#else
static inline int etcp_compat_ioctl(struct sock *sk, int cmd, int *karg)
{
	return etcp_ioctl(sk, cmd, karg);
}
#endif

/*
 * etcp's caches keep their names in /proc/slabinfo (the tests watch them
 * for leaks): SLAB_NO_MERGE since 6.5; before, a cache with a constructor
 * is never merged with another, so it gets one that does nothing.  A cache
 * with a constructor must not be asked for zeroed objects (SLUB warns):
 * etcp_cache_zalloc() zeroes them itself there.  The socket cache that
 * proto_register() makes gets ETCP_PROTO_SLAB_FLAGS: 7.2 merged it with
 * another cache of its size; 6.1, which cannot say "never", did not.
 */
#ifdef SLAB_NO_MERGE
#define ETCP_SLAB_FLAGS		(SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE)
#define ETCP_PROTO_SLAB_FLAGS	SLAB_NO_MERGE
#define etcp_slab_ctor		NULL

static inline void *etcp_cache_zalloc(struct kmem_cache *cache, gfp_t gfp)
{
	return kmem_cache_zalloc(cache, gfp);
}
#else
#define ETCP_SLAB_FLAGS		SLAB_HWCACHE_ALIGN
#define ETCP_PROTO_SLAB_FLAGS	0

static inline void etcp_slab_ctor(void *obj)
{
}

static inline void *etcp_cache_zalloc(struct kmem_cache *cache, gfp_t gfp)
{
	void *obj = kmem_cache_alloc(cache, gfp);

	if (obj)
		memset(obj, 0, kmem_cache_size(cache));
	return obj;
}
#endif

/*
 * The TOS a connected socket's route is looked up with, as ip_queue_xmit()
 * does it: 6.1 carries SO_DONTROUTE in it (RT_CONN_FLAGS), kernels without
 * that macro take it from the socket itself (ip_sock_rt_scope()).
 */
static inline u8 etcp_compat_rt_conn_tos(const struct sock *sk)
{
#ifdef RT_CONN_FLAGS
	return RT_CONN_FLAGS(sk);
#else
	return ip_sock_rt_tos(sk);
#endif
}

/*
 * IP_RECVERR, or for an ICMPv6 error (@v6) IPV6_RECVERR: 6.6 moved both
 * from bit fields of inet_sock and ipv6_pinfo to inet_sock's inet_flags.
 */
static inline bool etcp_compat_recverr(const struct sock *sk, bool v6)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
	return v6 ? inet6_sk(sk)->recverr : inet_sk(sk)->recverr;
#else
	return v6 ? inet6_test_bit(RECVERR6, sk) : inet_test_bit(RECVERR, sk);
#endif
}

/*
 * sock_diag (diag.c).  6.9 gave struct inet_diag_handler an owner, whose
 * module the core pins around a call; before, a mutex held over every
 * call kept the handler from going away.
 */
static inline void etcp_compat_diag_set_owner(struct inet_diag_handler *h,
					      struct module *owner)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
	h->owner = owner;
#endif
}

/*
 * 6.18 passes inet_diag_bc_sk() the dump's data instead of its bytecode,
 * so that the filter reads only what the bytecode asks for (a guess
 * between 6.12 and 7.2, the kernels built on either side).
 */
static inline int
etcp_compat_diag_bc_sk(const struct inet_diag_dump_data *cb_data,
		       struct sock *sk)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 18, 0)
	return inet_diag_bc_sk(cb_data->inet_diag_nla_bc, sk);
#else
	return inet_diag_bc_sk(cb_data, sk);
#endif
}

#endif /* _ETCP_COMPAT_H */
