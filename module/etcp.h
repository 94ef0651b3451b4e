/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etcp internals shared by the files of the module.
 */
#ifndef _ETCP_H
#define _ETCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <net/inet_sock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/tcp_states.h>
#include <uapi/linux/etcp.h>

extern int etcp_proto_num;		/* IP protocol number in use: 253 or 254 */
extern unsigned int etcp_net_id;
extern struct proto etcp_prot;
extern const struct proto_ops etcp_stream_ops;

/*
 * Per network namespace tunables, one int each so that proc_dointvec_minmax
 * handles them.  Read them with READ_ONCE(): a sysctl write may race.
 */
struct etcp_sysctl {
	int syn_retries;
	int synack_retries;
	int msl;			/* ms */
	int fin_timeout;		/* s */
	int max_orphans;
	int max_tw_buckets;
	int rfc1337;
	int retries2;
	int keepalive_time;		/* s */
	int keepalive_intvl;		/* s */
	int keepalive_probes;
	int challenge_ack_limit;	/* per second */
};

/* Counters shown in /proc/net/etcp_stat; names in proc.c. */
enum etcp_mib_field {
	ETCP_MIB_INSEGS,		/* segments handed to etcp by IP */
	ETCP_MIB_INCSUMERRORS,		/* dropped: bad checksum */
	ETCP_MIB_INHDRERRORS,		/* dropped: malformed header */
	ETCP_MIB_NOSOCKET,		/* dropped: no socket for the 4-tuple */
	ETCP_MIB_MAX
};

struct etcp_mib {
	unsigned long mibs[ETCP_MIB_MAX];
};

/* Buckets of the bound-port table; a power of two. */
#define ETCP_BHASH_SIZE		256

struct etcp_net {
	struct etcp_sysctl sysctl;
	struct ctl_table_header *sysctl_hdr;
	struct etcp_mib __percpu *mib;

	/*
	 * Every etcp socket of the namespace (for /proc/net/etcp) and the
	 * bound-port table.  Both change only on socket create, bind and
	 * destroy, which are not hot paths, so one BH-safe lock covers them.
	 */
	spinlock_t lock;
	struct hlist_head all_socks;
	struct hlist_head bhash[ETCP_BHASH_SIZE];
};

/* A full etcp socket.  inet_sock comes first: the socket layer casts. */
struct etcp_sock {
	struct inet_sock inet;
	struct hlist_node all_node;	/* etcp_net.all_socks */
};

static inline struct etcp_sock *etcp_sk(const struct sock *sk)
{
	return (struct etcp_sock *)sk;
}

static inline struct etcp_net *etcp_pernet(const struct net *net)
{
	return net_generic(net, etcp_net_id);
}

#define ETCP_INC_STATS(net, field) \
	this_cpu_inc(etcp_pernet(net)->mib->mibs[field])

/* proto.c */
void etcp_set_state(struct sock *sk, int state);

/* hash.c */
void etcp_hash_net_init(struct etcp_net *en);
void etcp_hash_net_exit(struct etcp_net *en);
void etcp_sock_list_add(struct sock *sk);
void etcp_sock_list_del(struct sock *sk);
int etcp_get_port(struct sock *sk, unsigned short snum);
void etcp_put_port(struct sock *sk);

/* input.c */
int etcp_v4_rcv(struct sk_buff *skb);

/* sysctl.c */
int etcp_sysctl_net_init(struct net *net);
void etcp_sysctl_net_exit(struct net *net);

/* proc.c */
int etcp_proc_net_init(struct net *net);
void etcp_proc_net_exit(struct net *net);

#endif /* _ETCP_H */
