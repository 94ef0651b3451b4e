// SPDX-License-Identifier: GPL-2.0
/*
 * etcp_diag: etcp's sockets through sock_diag (NETLINK_SOCK_DIAG,
 * SOCK_DIAG_BY_FAMILY with sdiag_protocol 253), as tcp_diag lists TCP's,
 * for ss(8) and etcp-ss.  A module of its own, as tcp_diag and dccp_diag
 * are, so that etcp.ko does not need inet_diag.ko; the core loads it by
 * its alias when a request for the protocol finds no handler.
 *
 * A request lists the full sockets, requests (SYN_RECV) and TIME_WAIT
 * entries of the requesting socket's namespace and family.  The walk is
 * etcp.ko's (etcp_walk_*()), the one /proc/net/etcp takes, under the
 * namespace's table lock; a record is filled there, without the socket
 * lock, from what /proc/net/etcp reads the same way.  A dump that fills
 * its buffer remembers the entry in netlink_callback.args and resumes
 * there in the next call.
 */
#include <linux/inet_diag.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/sock_diag.h>
#include <net/inet_timewait_sock.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"

/* netlink_callback.args[]: where a dump goes on, as struct etcp_walk. */
enum {
	ETCP_DIAG_ARG_LIST,
	ETCP_DIAG_ARG_BUCKET,
	ETCP_DIAG_ARG_OFFSET,
};

/* What every record of one request needs. */
struct etcp_diag_ctx {
	struct sk_buff *skb;			/* the records go here */
	struct netlink_callback *cb;
	const struct inet_diag_req_v2 *req;
	struct user_namespace *user_ns;		/* of the requesting socket */
	bool net_admin;				/* it may see marks */
	bool exact;				/* dump_one: one 4-tuple */
};

/*
 * Cookies of requests and TIME_WAIT entries, which have no socket cookie:
 * a keyed hash of the entry's address, stable while it lives and telling
 * nothing of the address.
 */
static siphash_key_t etcp_diag_cookie_key __read_mostly;

static u64 etcp_diag_cookie(const void *entry)
{
	return siphash_1u64((unsigned long)entry, &etcp_diag_cookie_key) ?: 1;
}

/*
 * The handler's idiag_get_info: queues, timer and (with @info) ETCP_INFO
 * of full socket @sk, whose state is in @r.  A listener's queues are its
 * accept queue and backlog, as TCP's.
 */
static void etcp_diag_get_info(struct sock *sk, struct inet_diag_msg *r,
			       void *info)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	unsigned long expires;
	u8 count;

	if (r->idiag_state == TCP_LISTEN) {
		r->idiag_rqueue = READ_ONCE(sk->sk_ack_backlog);
		r->idiag_wqueue = READ_ONCE(sk->sk_max_ack_backlog);
	} else {
		r->idiag_rqueue = etcp_inq(esk);
		r->idiag_wqueue = etcp_outq(esk);
	}
	r->idiag_timer = etcp_sock_timer(sk, &expires, &count);
	r->idiag_retrans = count;
	r->idiag_expires = r->idiag_timer ?
			   jiffies_delta_to_msecs(expires - jiffies) : 0;
	if (info)
		etcp_get_info(sk, info);
}

/* INET_DIAG_MEMINFO and INET_DIAG_SKMEMINFO, if asked for: 0 or -EMSGSIZE. */
static int etcp_diag_put_mem(struct sock *sk, struct sk_buff *skb, int ext)
{
	if (ext & (1 << (INET_DIAG_MEMINFO - 1))) {
		struct inet_diag_meminfo minfo = {
			.idiag_rmem = sk_rmem_alloc_get(sk),
			.idiag_wmem = READ_ONCE(sk->sk_wmem_queued),
			.idiag_fmem = READ_ONCE(sk->sk_forward_alloc),
			.idiag_tmem = sk_wmem_alloc_get(sk),
		};

		if (nla_put(skb, INET_DIAG_MEMINFO, sizeof(minfo), &minfo))
			return -EMSGSIZE;
	}
	if ((ext & (1 << (INET_DIAG_SKMEMINFO - 1))) &&
	    sock_diag_put_meminfo(sk, skb, INET_DIAG_SKMEMINFO))
		return -EMSGSIZE;
	return 0;
}

/* INET_DIAG_INFO (struct etcp_info) and INET_DIAG_CONG, if asked for. */
static int etcp_diag_put_info(struct sock *sk, struct sk_buff *skb, int ext,
			      struct inet_diag_msg *r)
{
	struct nlattr *attr;
	void *info = NULL;

	if (ext & (1 << (INET_DIAG_INFO - 1))) {
		attr = nla_reserve_64bit(skb, INET_DIAG_INFO,
					 sizeof(struct etcp_info),
					 INET_DIAG_PAD);
		if (!attr)
			return -EMSGSIZE;
		info = nla_data(attr);
	}
	/* cong.c is NewReno (RFC 5681, 6582): Linux calls its own "reno". */
	if ((ext & (1 << (INET_DIAG_CONG - 1))) &&
	    nla_put_string(skb, INET_DIAG_CONG, "reno"))
		return -EMSGSIZE;
	etcp_diag_get_info(sk, r, info);
	return 0;
}

/*
 * A new record in the context's skb, its header filled from @sk (a socket
 * or a mini's view) and @state: the message, *@nlh its netlink header; or
 * NULL if the skb is full.
 */
static struct inet_diag_msg *etcp_diag_put(const struct etcp_diag_ctx *ctx,
					   struct sock *sk, int state,
					   struct nlmsghdr **nlh)
{
	struct inet_diag_msg *r;

	*nlh = nlmsg_put(ctx->skb, NETLINK_CB(ctx->cb->skb).portid,
			 ctx->cb->nlh->nlmsg_seq, ctx->cb->nlh->nlmsg_type,
			 sizeof(*r), ctx->exact ? 0 : NLM_F_MULTI);
	if (!*nlh)
		return NULL;
	r = nlmsg_data(*nlh);
	memset(r, 0, sizeof(*r));
	inet_diag_msg_common_fill(r, sk);
	r->idiag_state = state;
	return r;
}

/* The record of full socket @sk: 0 or -EMSGSIZE. */
static int etcp_diag_fill_sock(const struct etcp_diag_ctx *ctx,
			       struct sock *sk)
{
	int ext = ctx->req->idiag_ext;
	struct inet_diag_msg *r;
	struct nlmsghdr *nlh;

	r = etcp_diag_put(ctx, sk, inet_sk_state_load(sk), &nlh);
	if (!r)
		return -EMSGSIZE;
	if (inet_diag_msg_attrs_fill(sk, ctx->skb, r, ext, ctx->user_ns,
				     ctx->net_admin))
		goto cancel;
	/* /proc/net/etcp's uid: the creator's, an orphan's as well. */
	r->idiag_uid = from_kuid_munged(ctx->user_ns, sk->sk_uid);
	if (etcp_diag_put_mem(sk, ctx->skb, ext) ||
	    etcp_diag_put_info(sk, ctx->skb, ext, r))
		goto cancel;
	nlmsg_end(ctx->skb, nlh);
	return 0;

cancel:
	nlmsg_cancel(ctx->skb, nlh);
	return -EMSGSIZE;
}

/*
 * A request or TIME_WAIT entry, which is no socket, as the part of one
 * inet_diag's helpers read (struct sock_common): so that its record, the
 * bytecode filter and the cookie check are those of a socket.  It is
 * dressed as a TIME_WAIT socket, which is no full socket: the filter reads
 * its mark from there (0) and nothing of a full socket's.
 */
struct etcp_diag_mini {
	struct inet_timewait_sock view;
	u8 state;			/* TCP_SYN_RECV or TCP_TIME_WAIT */
	u8 timer;			/* ETCP_TIMER_* */
	u8 retrans;
	unsigned long expires;		/* jiffies */
	kuid_t uid;
};

static void etcp_diag_mini_init(struct etcp_diag_mini *m, int family,
				const struct in6_addr *laddr, __be16 lport,
				const struct in6_addr *raddr, __be16 rport,
				int ifindex, const void *entry)
{
	struct inet_timewait_sock *v = &m->view;

	memset(m, 0, sizeof(*m));
	v->tw_family = family;
	v->tw_state = TCP_TIME_WAIT;
	v->tw_num = ntohs(lport);
	v->tw_dport = rport;
	v->tw_bound_dev_if = ifindex;
	if (family == AF_INET6) {
		v->tw_v6_rcv_saddr = *laddr;
		v->tw_v6_daddr = *raddr;
	} else {
		v->tw_rcv_saddr = laddr->s6_addr32[3];
		v->tw_daddr = raddr->s6_addr32[3];
	}
	atomic64_set(&v->tw_cookie, etcp_diag_cookie(entry));
}

/* A request as TCP's diag shows one: SYN_RECV, the SYN-ACK timer. */
static void etcp_diag_req_mini(struct etcp_diag_mini *m,
			       const struct etcp_request *req)
{
	etcp_diag_mini_init(m, req->listener->sk_family, &req->laddr,
			    req->lport, &req->raddr, req->rport, req->iif, req);
	m->state = TCP_SYN_RECV;
	m->timer = etcp_req_timer_info(req, &m->expires);
	m->retrans = req->retransmits;
	m->uid = req->uid;
}

static void etcp_diag_tw_mini(struct etcp_diag_mini *m,
			      const struct etcp_tw *tw)
{
	etcp_diag_mini_init(m, tw->family, &tw->laddr, tw->lport, &tw->raddr,
			    tw->rport, tw->bound_dev_if, tw);
	m->state = TCP_TIME_WAIT;
	m->timer = ETCP_TIMER_TIME_WAIT;
	m->expires = READ_ONCE(tw->timer.expires);
	m->uid = tw->uid;
}

/* The record of a request or TIME_WAIT entry: no inode, no queues. */
static int etcp_diag_fill_mini(const struct etcp_diag_ctx *ctx,
			       struct etcp_diag_mini *m)
{
	struct inet_diag_msg *r;
	struct nlmsghdr *nlh;

	r = etcp_diag_put(ctx, (struct sock *)&m->view, m->state, &nlh);
	if (!r)
		return -EMSGSIZE;
	r->idiag_timer = m->timer;
	r->idiag_retrans = m->retrans;
	if (m->timer)
		r->idiag_expires = jiffies_delta_to_msecs(m->expires - jiffies);
	r->idiag_uid = from_kuid_munged(ctx->user_ns, m->uid);
	nlmsg_end(ctx->skb, nlh);
	return 0;
}

/* Is @sk (in @state) what a dump asks for: state, ports and bytecode? */
static bool etcp_diag_wanted(const struct etcp_diag_ctx *ctx,
			     struct sock *sk, int state)
{
	const struct inet_diag_req_v2 *req = ctx->req;
	u32 states = req->idiag_states;

	/* ss asks for TCP's requests by either number. */
	if (states & (TCPF_SYN_RECV | TCPF_NEW_SYN_RECV))
		states |= TCPF_SYN_RECV;
	if (!(states & (1 << state)))
		return false;
	if (req->id.idiag_sport && req->id.idiag_sport != htons(sk->sk_num))
		return false;
	if (req->id.idiag_dport && req->id.idiag_dport != sk->sk_dport)
		return false;
	return etcp_compat_diag_bc_sk(ctx->cb->data, sk);
}

/* Is @sk the one a dump_one request names: 4-tuple and cookie? */
static bool etcp_diag_is_exact(const struct etcp_diag_ctx *ctx,
			       struct sock *sk)
{
	const struct inet_diag_sockid *id = &ctx->req->id;

	if (id->idiag_sport != htons(sk->sk_num) ||
	    id->idiag_dport != sk->sk_dport)
		return false;
	if (sk->sk_family == AF_INET6) {
		if (memcmp(id->idiag_src, &sk->sk_v6_rcv_saddr, 16) ||
		    memcmp(id->idiag_dst, &sk->sk_v6_daddr, 16))
			return false;
	} else if (id->idiag_src[0] != sk->sk_rcv_saddr ||
		   id->idiag_dst[0] != sk->sk_daddr) {
		return false;
	}
	return !sock_diag_check_cookie(sk, id->idiag_cookie);
}

/* Does the request want @sk (in @state)?  The filters, or the 4-tuple. */
static bool etcp_diag_match(const struct etcp_diag_ctx *ctx, struct sock *sk,
			    int state)
{
	if (sk->sk_family != ctx->req->sdiag_family)
		return false;
	if (ctx->exact)
		return etcp_diag_is_exact(ctx, sk);
	return etcp_diag_wanted(ctx, sk, state);
}

/*
 * The record of entry @node (@w naming it) if the request wants it: 1 if
 * put, 0 if not wanted, -EMSGSIZE if the skb is full.
 */
static int etcp_diag_entry(const struct etcp_diag_ctx *ctx,
			   const struct etcp_walk *w, struct hlist_node *node)
{
	struct etcp_diag_mini m;
	struct sock *sk;
	int err;

	if (w->list == ETCP_WALK_SOCKS) {
		sk = &hlist_entry(node, struct etcp_sock, all_node)->inet.sk;
		if (!etcp_diag_match(ctx, sk, inet_sk_state_load(sk)))
			return 0;
		err = etcp_diag_fill_sock(ctx, sk);
	} else {
		if (w->list == ETCP_WALK_REQS)
			etcp_diag_req_mini(&m, hlist_entry(node,
							   struct etcp_request,
							   all_node));
		else
			etcp_diag_tw_mini(&m, hlist_entry(node, struct etcp_tw,
							  all_node));
		if (!etcp_diag_match(ctx, (struct sock *)&m.view, m.state))
			return 0;
		err = etcp_diag_fill_mini(ctx, &m);
	}
	return err ?: 1;
}

/*
 * Records of what the request wants, from @w on, into the context's skb.
 * @w is left at the entry that did not fit, or past the end.  A dump_one
 * request stops at its entry.  Records put, or -EMSGSIZE when none fit.
 */
static int etcp_diag_walk(const struct etcp_diag_ctx *ctx, struct net *net,
			  struct etcp_walk *w)
{
	struct hlist_node *node;
	int put = 0, err = 0;

	etcp_walk_lock(net);
	for (node = etcp_walk_resume(net, w); node;
	     node = etcp_walk_next(net, w, node)) {
		err = etcp_diag_entry(ctx, w, node);
		if (err < 0)
			break;
		put += err;
		if (put && ctx->exact)
			break;
	}
	etcp_walk_unlock(net);
	return put ?: min(err, 0);
}

static void etcp_diag_ctx_init(struct etcp_diag_ctx *ctx, struct sk_buff *skb,
			       struct netlink_callback *cb,
			       const struct inet_diag_req_v2 *req, bool exact)
{
	ctx->skb = skb;
	ctx->cb = cb;
	ctx->req = req;
	ctx->user_ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	ctx->net_admin = netlink_net_capable(cb->skb, CAP_NET_ADMIN);
	ctx->exact = exact;
}

static void etcp_diag_dump(struct sk_buff *skb, struct netlink_callback *cb,
			   const struct inet_diag_req_v2 *req)
{
	struct etcp_walk w = {
		.list = cb->args[ETCP_DIAG_ARG_LIST],
		.bucket = cb->args[ETCP_DIAG_ARG_BUCKET],
		.offset = cb->args[ETCP_DIAG_ARG_OFFSET],
	};
	struct etcp_diag_ctx ctx;

	etcp_diag_ctx_init(&ctx, skb, cb, req, false);
	etcp_diag_walk(&ctx, sock_net(skb->sk), &w);
	cb->args[ETCP_DIAG_ARG_LIST] = w.list;
	cb->args[ETCP_DIAG_ARG_BUCKET] = w.bucket;
	cb->args[ETCP_DIAG_ARG_OFFSET] = w.offset;
}

/* Room for the largest record: a full socket's with every attribute. */
static size_t etcp_diag_msg_size(void)
{
	return NLMSG_ALIGN(sizeof(struct inet_diag_msg)) +
	       inet_diag_msg_attrs_size() +
	       nla_total_size(sizeof(struct inet_diag_meminfo)) +
	       nla_total_size(SK_MEMINFO_VARS * sizeof(u32)) +
	       nla_total_size_64bit(sizeof(struct etcp_info)) +
	       nla_total_size(sizeof("reno"));
}

/*
 * The entry with the request's 4-tuple (and cookie, unless it is
 * INET_DIAG_NOCOOKIE), in one reply: the tables are walked, no lookup
 * table holds every kind of entry.
 */
static int etcp_diag_dump_one(struct netlink_callback *cb,
			      const struct inet_diag_req_v2 *req)
{
	struct sk_buff *in_skb = cb->skb;
	struct net *net = sock_net(in_skb->sk);
	struct etcp_walk w = {};
	struct etcp_diag_ctx ctx;
	struct sk_buff *rep;
	int err;

	rep = nlmsg_new(etcp_diag_msg_size(), GFP_KERNEL);
	if (!rep)
		return -ENOMEM;
	etcp_diag_ctx_init(&ctx, rep, cb, req, true);
	err = etcp_diag_walk(&ctx, net, &w);
	if (err <= 0) {
		nlmsg_free(rep);
		return err ?: -ENOENT;
	}
	return nlmsg_unicast(net->diag_nlsk, rep, NETLINK_CB(in_skb).portid);
}

/* Filled in at init: the protocol is etcp.ko's parameter. */
static struct inet_diag_handler etcp_diag_handler = {
	.dump		 = etcp_diag_dump,
	.dump_one	 = etcp_diag_dump_one,
	.idiag_get_info	 = etcp_diag_get_info,
	.idiag_info_size = sizeof(struct etcp_info),
};

static int __init etcp_diag_init(void)
{
	get_random_bytes(&etcp_diag_cookie_key, sizeof(etcp_diag_cookie_key));
	etcp_diag_handler.idiag_type = etcp_proto_num;
	etcp_compat_diag_set_owner(&etcp_diag_handler, THIS_MODULE);
	return inet_diag_register(&etcp_diag_handler);
}

static void __exit etcp_diag_exit(void)
{
	inet_diag_unregister(&etcp_diag_handler);
}

module_init(etcp_diag_init);
module_exit(etcp_diag_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("etcp: socket listing through sock_diag (ss, etcp-ss)");
MODULE_AUTHOR("The etcp developers");
/*
 * inet_diag asks for "net-pf-16-proto-4-type-2-253" (PF_NETLINK,
 * NETLINK_SOCK_DIAG, AF_INET, IPPROTO_ETCP) when a request for protocol
 * 253 finds no handler; the AF_INET6 name is there for the kernels that
 * ask by the request's family.
 */
MODULE_ALIAS("net-pf-16-proto-4-type-2-253");
MODULE_ALIAS("net-pf-16-proto-4-type-10-253");
