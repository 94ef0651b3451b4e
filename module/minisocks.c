// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the passive open.  A SYN on a listener makes a request, a small
 * entry in SYN_RECV on the listener's SYN queue (RFC 9293 figure 6, line 3);
 * the ACK that completes the handshake turns it into a full socket on the
 * accept queue (line 5), where accept() finds it.
 *
 * Requests live under the listener's socket lock, on two structures: the
 * SYN queue, oldest first (the one to evict, the order to reset in), and
 * a hash table by 4-tuple, which finds the request of a segment in O(1)
 * however many a flood has queued.  A request holds a reference on its
 * listener; the request's own references are the SYN queue's and, while
 * armed, its timer's.
 *
 * The end of a connection has its mini-socket too: the TIME_WAIT entry
 * (struct etcp_tw) that replaces the socket for 2 * MSL once both FINs
 * are acknowledged.
 */
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/nsproxy.h>
#include <linux/siphash.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"
#include "trace.h"

/*
 * Buckets of a listener's request table: as many as its backlog (the SYN
 * queue's limit), so that a full queue averages a request a bucket, within
 * bounds; 2^16 buckets take 512 KiB.
 */
#define ETCP_SYN_TABLE_MIN	8
#define ETCP_SYN_TABLE_MAX	65536

static struct kmem_cache *etcp_request_cache __read_mostly;
static struct kmem_cache *etcp_tw_cache __read_mostly;
static siphash_key_t etcp_isn_key __read_mostly;

/*
 * For tests only: with a value in 0..2^32-1 every new connection of the
 * writer's network namespace gets that number as its ISS, so that a test
 * can make the sequence space wrap or know a SYN-ACK's sequence number in
 * advance; -1 gives RFC 6528 ISNs again.  Per namespace, though a module
 * parameter: tests in other namespaces run meanwhile and rely on ISNs
 * that differ (a reconnecting client's SYN must not be taken for the old
 * connection's).  The namespace is the writer's (and the reader's), so
 * the value exists only once the pernet state does: etcp_isn_param_ready,
 * set and cleared under the parameter lock the sysfs store takes.
 */
static bool etcp_isn_param_ready;

static int etcp_fixed_isn_set(const char *val, const struct kernel_param *kp)
{
	long isn;
	int err;

	err = kstrtol(val, 0, &isn);
	if (err)
		return err;
	if (isn < -1 || isn > U32_MAX)
		return -EINVAL;
	if (!etcp_isn_param_ready)
		return -ENODEV;
	WRITE_ONCE(etcp_pernet(current->nsproxy->net_ns)->fixed_isn, isn);
	return 0;
}

static int etcp_fixed_isn_get(char *buf, const struct kernel_param *kp)
{
	long isn = -1;

	if (etcp_isn_param_ready)
		isn = READ_ONCE(etcp_pernet(current->nsproxy->net_ns)->fixed_isn);
	return sysfs_emit(buf, "%ld\n", isn);
}

static const struct kernel_param_ops etcp_fixed_isn_ops = {
	.set = etcp_fixed_isn_set,
	.get = etcp_fixed_isn_get,
};
module_param_cb(fixed_isn, &etcp_fixed_isn_ops, NULL, 0644);
MODULE_PARM_DESC(fixed_isn, "test only: ISS of every new connection in the writer's netns (-1: RFC 6528)");

/* The pernet state exists (@ready) or is about to go: fixed_isn follows. */
void etcp_isn_param_enable(bool ready)
{
	kernel_param_lock(THIS_MODULE);
	etcp_isn_param_ready = ready;
	kernel_param_unlock(THIS_MODULE);
}

/*
 * RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key),
 * M a clock ticking every 4 microseconds (here 4.096), F a keyed hash, so
 * that ISNs differ for every connection and cannot be predicted off-path.
 */
u32 etcp_isn(const struct net *net, const struct in6_addr *saddr,
	     const struct in6_addr *daddr, __be16 sport, __be16 dport)
{
	long fixed = READ_ONCE(etcp_pernet(net)->fixed_isn);
	const struct {
		struct in6_addr saddr, daddr;
		__be16 sport, dport;
	} __aligned(SIPHASH_ALIGNMENT) tuple = {
		.saddr = *saddr,
		.daddr = *daddr,
		.sport = sport,
		.dport = dport,
	};
	u32 hash;

	/* etcp_fixed_isn_set() let only -1 and 0..2^32-1 in. */
	if (fixed >= 0)
		return fixed;
	hash = siphash(&tuple, offsetofend(typeof(tuple), dport),
		       &etcp_isn_key);

	return hash + (u32)(ktime_get_real_ns() >> 12);
}

static void etcp_req_put(struct etcp_request *req)
{
	if (refcount_dec_and_test(&req->refcnt)) {
		sock_put(req->listener);
		kmem_cache_free(etcp_request_cache, req);
	}
}

/* (Re)arm the SYN-ACK timer; a pending timer owns a reference. */
static void etcp_req_arm(struct etcp_request *req, unsigned long timeout)
{
	if (!mod_timer(&req->timer, jiffies + timeout))
		refcount_inc(&req->refcnt);
}

static struct hlist_head *etcp_syn_bucket(const struct etcp_sock *lesk,
					  const struct in6_addr *laddr,
					  const struct in6_addr *raddr,
					  __be16 rport)
{
	const struct etcp_listener *lq = lesk->lq;
	u32 hash = jhash_3words((__force u32)ipv6_addr_hash(laddr),
				(__force u32)ipv6_addr_hash(raddr),
				(__force u32)rport, lq->syn_table_seed);

	return &lq->syn_table[hash & lq->syn_table_mask];
}

static struct hlist_head *etcp_req_bucket(const struct sock *listener,
					  const struct etcp_request *req)
{
	return etcp_syn_bucket(etcp_sk(listener), &req->laddr, &req->raddr,
			       req->rport);
}

/* The listener's queues, made at its first listen(). */
static struct etcp_listener *etcp_listener_get(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct etcp_listener *lq = esk->lq;

	if (lq)
		return lq;
	lq = kzalloc(sizeof(*lq), GFP_KERNEL_ACCOUNT);
	if (!lq)
		return NULL;
	INIT_LIST_HEAD(&lq->syn_queue);
	INIT_LIST_HEAD(&lq->accept_queue);
	/* poll() reads it without the lock, once it sees TCP_LISTEN. */
	WRITE_ONCE(esk->lq, lq);
	return lq;
}

/*
 * listen(): a table with room for @backlog requests.  A larger backlog
 * than before (listen() again) rehashes what is queued into a larger
 * table; if that cannot be had, the old one serves, with longer chains.
 * Process context, the listener owned by the caller: neither the
 * receive path nor a request's timer touches the queue meanwhile.
 */
int etcp_syn_table_fit(struct sock *listener, int backlog)
{
	struct etcp_listener *lq = etcp_listener_get(listener);
	struct etcp_request *req;
	struct hlist_head *table, *old;
	unsigned int size, i;

	if (!lq)
		return -ENOMEM;
	old = lq->syn_table;
	size = roundup_pow_of_two(clamp(backlog, ETCP_SYN_TABLE_MIN,
					ETCP_SYN_TABLE_MAX));
	if (old && size <= lq->syn_table_mask + 1)
		return 0;
	table = kvmalloc_array(size, sizeof(*table), GFP_KERNEL_ACCOUNT);
	if (!table)
		return old ? 0 : -ENOMEM;
	for (i = 0; i < size; i++)
		INIT_HLIST_HEAD(&table[i]);

	lq->syn_table = table;
	lq->syn_table_mask = size - 1;
	lq->syn_table_seed = get_random_u32();
	list_for_each_entry(req, &lq->syn_queue, node)
		hlist_add_head(&req->hash_node,
			       etcp_req_bucket(listener, req));
	kvfree(old);
	return 0;
}

/* The listener stopped listening and its SYN queue is empty. */
void etcp_syn_table_free(struct sock *listener)
{
	struct etcp_listener *lq = etcp_sk(listener)->lq;

	WARN_ON_ONCE(lq->syn_qlen);
	kvfree(lq->syn_table);
	lq->syn_table = NULL;
	lq->syn_table_mask = 0;
}

/* The socket is destroyed: its queues, empty since it stopped listening. */
void etcp_listener_free(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct etcp_listener *lq = esk->lq;

	if (!lq)
		return;
	WARN_ON_ONCE(!list_empty(&lq->syn_queue) ||
		     !list_empty(&lq->accept_queue) || lq->syn_table);
	esk->lq = NULL;
	kfree(lq);
}

/* Take @req off the SYN queue and the table; the listener is locked. */
static void etcp_req_dequeue(struct sock *listener, struct etcp_request *req)
{
	list_del_init(&req->node);
	hlist_del_init(&req->hash_node);
	etcp_sk(listener)->lq->syn_qlen--;
	etcp_req_list_del(sock_net(listener), req);
}

/* Dequeue @req and drop the queue's and an armed timer's references. */
static void etcp_req_unlink(struct sock *listener, struct etcp_request *req)
{
	etcp_req_dequeue(listener, req);
	if (timer_delete(&req->timer))
		etcp_req_put(req);
	etcp_req_put(req);
}

static bool etcp_req_unlinked(const struct etcp_request *req)
{
	return list_empty(&req->node);
}

/*
 * SYN-ACK unanswered: retransmit with doubling backoff from one second,
 * etcp_synack_retries times; then the request is dropped silently, as
 * TCP does (the peer's own SYN timer will tell it).
 */
static void etcp_req_expired(struct sock *listener, struct etcp_request *req)
{
	struct net *net = sock_net(listener);
	int max = READ_ONCE(etcp_pernet(net)->sysctl.synack_retries);

	if (req->retransmits >= max) {
		ETCP_INC_STATS(net, ETCP_MIB_REQTIMEOUTS);
		trace_etcp_request_drop(listener, req, ETCP_REQR_TIMEOUT);
		etcp_req_unlink(listener, req);
		return;
	}
	req->retransmits++;
	ETCP_INC_STATS(net, ETCP_MIB_SYNRETRANS);
	trace_etcp_retransmit_synack(listener, req);
	etcp_send_req_segment(listener, req, ETCP_FLAG_SYN | ETCP_FLAG_ACK);
	etcp_req_arm(req, etcp_backoff(ETCP_TIMEOUT_INIT, req->retransmits));
}

static void etcp_req_timer(struct timer_list *t)
{
	struct etcp_request *req = etcp_timer_container_of(req, t, timer);
	struct sock *listener = req->listener;

	bh_lock_sock(listener);
	if (sock_owned_by_user(listener))
		etcp_req_arm(req, ETCP_TIMER_DEFER);
	else if (!etcp_req_unlinked(req))
		etcp_req_expired(listener, req);
	bh_unlock_sock(listener);
	etcp_req_put(req);		/* the reference of the timer that fired */
}

static struct etcp_request *etcp_req_alloc(struct sock *listener,
					   const struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct etcp_request *req;

	req = etcp_cache_zalloc(etcp_request_cache, GFP_ATOMIC);
	if (!req)
		return NULL;

	INIT_LIST_HEAD(&req->node);
	INIT_HLIST_NODE(&req->hash_node);
	refcount_set(&req->refcnt, 1);		/* the SYN queue's */
	sock_hold(listener);
	req->listener = listener;
	timer_setup(&req->timer, etcp_req_timer, 0);

	etcp_skb_addrs(skb, &req->raddr, &req->laddr);
	req->lport = th->dest;
	req->rport = th->source;
	req->iif = etcp_skb_iif(skb);
	req->irs = cb->seq;
	/* After a TIME_WAIT this SYN ended, above its last SND.NXT. */
	if (cb->tw_recycle)
		req->iss = cb->tw_isn;
	else
		req->iss = etcp_isn(sock_net(listener), &req->laddr,
				    &req->raddr, req->lport, req->rport);
	req->snd_wnd = cb->wnd;
	req->mss = cb->mss;
	/* RFC 7323 1.3: our SYN-ACK offers scaling only if the SYN did. */
	if (cb->wscale_ok &&
	    READ_ONCE(etcp_pernet(sock_net(listener))->sysctl.window_scaling)) {
		req->wscale_ok = 1;
		req->snd_wscale = cb->wscale;
		req->rcv_wscale = etcp_rcv_wscale(listener);
	}
	/* RFC 2018 2: SACK-permitted in the SYN-ACK only if the SYN had it. */
	req->sack_ok = cb->sack_ok &&
		READ_ONCE(etcp_pernet(sock_net(listener))->sysctl.sack);
	/* Until the SYN-ACK's route tells our MSS. */
	req->rcv_wnd = etcp_initial_window(listener, 0);
	req->uid = listener->sk_uid;
	return req;
}

/*
 * The SYN queue is full: the oldest request goes to make room.  In a flood
 * of SYNs from forged addresses the oldest entries are the flood's, which
 * nobody will ever answer, while a real client's request completes within
 * a round trip: it is always let in and lives as long as backlog newer
 * SYNs take to arrive.  The evicted peer, if real, is told nothing; its
 * SYN timer tries again, as after any lost SYN-ACK.
 */
static void etcp_req_evict_oldest(struct sock *listener)
{
	struct etcp_request *oldest;

	oldest = list_first_entry(&etcp_sk(listener)->lq->syn_queue,
				  struct etcp_request, node);
	ETCP_INC_STATS(sock_net(listener), ETCP_MIB_LISTENDROPS);
	trace_etcp_request_drop(listener, oldest, ETCP_REQR_QUEUE_FULL);
	etcp_req_unlink(listener, oldest);
}

/*
 * RFC 9293 3.10.7.2, LISTEN, "third, check for a SYN": "Set RCV.NXT to
 * SEG.SEQ+1, IRS is set to SEG.SEQ ... ISS should be selected and a SYN
 * segment sent of the form <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>".
 * A full accept queue drops the SYN, as TCP does: the client's
 * retransmission tries again.  A full SYN queue (as many requests as the
 * backlog) makes room instead.
 */
int etcp_conn_request(struct sock *listener, struct sk_buff *skb)
{
	struct etcp_listener *lq = etcp_sk(listener)->lq;
	struct net *net = sock_net(listener);
	struct etcp_request *req;

	if (sk_acceptq_is_full(listener)) {
		ETCP_INC_STATS(net, ETCP_MIB_LISTENOVERFLOWS);
		return -ENOBUFS;
	}
	if (lq->syn_qlen >= max(READ_ONCE(listener->sk_max_ack_backlog), 1U))
		etcp_req_evict_oldest(listener);

	req = etcp_req_alloc(listener, skb);
	if (!req)
		return -ENOMEM;

	list_add_tail(&req->node, &lq->syn_queue);
	hlist_add_head(&req->hash_node, etcp_req_bucket(listener, req));
	lq->syn_qlen++;
	etcp_req_list_add(net, req);
	ETCP_INC_STATS(net, ETCP_MIB_PASSIVEOPENS);
	trace_etcp_request_create(listener, req);

	req->synack_us = etcp_clock_us();
	etcp_send_req_segment(listener, req, ETCP_FLAG_SYN | ETCP_FLAG_ACK);
	etcp_req_arm(req, ETCP_TIMEOUT_INIT);
	return 0;
}

/* @listener's request for this 4-tuple, or NULL; the listener is locked. */
struct etcp_request *etcp_req_lookup(struct sock *listener,
				     const struct in6_addr *laddr, __be16 lport,
				     const struct in6_addr *raddr, __be16 rport)
{
	const struct etcp_sock *lesk = etcp_sk(listener);
	struct etcp_request *req;

	hlist_for_each_entry(req, etcp_syn_bucket(lesk, laddr, raddr, rport),
			     hash_node) {
		if (req->rport == rport && req->lport == lport &&
		    ipv6_addr_equal(&req->raddr, raddr) &&
		    ipv6_addr_equal(&req->laddr, laddr))
			return req;
	}
	return NULL;
}

/* The request a segment arriving at @listener belongs to, or NULL. */
struct etcp_request *etcp_req_find(struct sock *listener,
				   const struct sk_buff *skb)
{
	const struct tcphdr *th = tcp_hdr(skb);
	struct in6_addr saddr, daddr;

	etcp_skb_addrs(skb, &saddr, &daddr);
	return etcp_req_lookup(listener, &daddr, th->dest, &saddr, th->source);
}

/*
 * An ICMP error says the peer of @req cannot be reached (icmp.c): the
 * request goes, silently, as Linux's tcp_req_err() drops it; the peer's
 * own SYN timer tries again.  The listener is locked.
 */
void etcp_req_drop(struct sock *listener, struct etcp_request *req)
{
	trace_etcp_request_drop(listener, req, ETCP_REQR_ICMP);
	etcp_req_unlink(listener, req);
}

/* Set up a clone of the listener as the connection @req describes. */
static void etcp_child_init(struct sock *child, const struct sock *listener,
			    const struct etcp_request *req,
			    const struct etcp_skb_cb *cb)
{
	struct etcp_sock *esk = etcp_sk(child);
	struct inet_sock *inet = inet_sk(child);

	/* What the listener had that a connection must not share. */
	inet->mc_list = NULL;
	RCU_INIT_POINTER(inet->inet_opt, NULL);
	WRITE_ONCE(child->sk_ack_backlog, 0);
	esk->lq = NULL;
	INIT_LIST_HEAD(&esk->accept_node);
	skb_queue_head_init(&esk->ooo_queue);
	esk->num_sacks = 0;
	etcp_init_timers(child);

	if (etcp_sk_ipv6(child)) {
		etcp_v6_child_init(child, listener, req);
	} else {
		inet->inet_daddr = req->raddr.s6_addr32[3];
		inet->inet_rcv_saddr = req->laddr.s6_addr32[3];
		inet->inet_saddr = req->laddr.s6_addr32[3];
	}
	inet->inet_dport = req->rport;
	inet->inet_sport = req->lport;
	inet->mc_index = req->iif;
	atomic_set(&inet->inet_id, get_random_u16());

	esk->iss = req->iss;
	esk->snd_una = req->iss + 1;
	esk->snd_nxt = req->iss + 1;
	esk->irs = req->irs;
	esk->rcv_nxt = req->irs + 1;
	esk->wscale_ok = req->wscale_ok;
	esk->sack_ok = req->sack_ok;
	esk->snd_wscale = req->snd_wscale;
	esk->rcv_wscale = req->rcv_wscale;
	esk->snd_wnd = etcp_seg_wnd(esk, cb);
	esk->snd_wl1 = cb->seq;
	esk->snd_wl2 = cb->ack_seq;
	esk->retransmits = 0;
	esk->rto = ETCP_TIMEOUT_INIT;
	esk->active_open = 0;

	/*
	 * ETCP_INFO's counters are the connection's, not the listener's: as
	 * Linux's child, the SYN counts in, the SYN-ACK's retransmissions
	 * count as retransmissions.
	 */
	esk->segs_in = 1;
	esk->segs_out = 0;
	esk->total_retrans = req->retransmits;
	esk->bytes_acked = 0;
	esk->bytes_received = 0;
}

/*
 * The child's route, the MSS and window that follow from it, and the
 * transfer state that starts from them.
 */
static void etcp_child_route(struct sock *child, const struct etcp_request *req)
{
	struct etcp_sock *esk = etcp_sk(child);
	/* ip_queue_xmit() takes the IP addresses from the cached flow. */
	struct flowi4 *fl4 = &inet_sk(child)->cork.fl.u.ip4;
	unsigned int mtu = IP_MAX_MTU;
	struct dst_entry *dst;
	struct flowi6 fl6;
	struct rtable *rt;

	if (esk->af == &etcp_ipv6_ops) {
		dst = etcp_v6_route_req(child, req, &fl6);
		if (!IS_ERR(dst)) {
			mtu = dst_mtu(dst);
			etcp_v6_dst_store(child, dst);
		}
	} else {
		rt = ip_route_output_ports(sock_net(child), fl4, child,
					   req->raddr.s6_addr32[3],
					   req->laddr.s6_addr32[3],
					   req->rport, req->lport,
					   etcp_proto_num,
					   ip_sock_rt_tos(child),
					   child->sk_bound_dev_if);
		if (!IS_ERR(rt)) {
			mtu = dst_mtu(&rt->dst);
			etcp_setup_caps(child, &rt->dst);
		}
	}
	esk->advmss = etcp_mss_for_mtu(child, mtu, esk->af->net_header_len);
	esk->mss_clamp = etcp_peer_mss(esk, req->mss);
	esk->rcv_wnd = req->rcv_wnd;
	etcp_init_transfer(child);
	/* synack_us 0: the SYN came twice, so did the SYN-ACK. */
	etcp_rtt_handshake(child, !req->retransmits && req->synack_us,
			   req->synack_us);
}

/*
 * A full socket for @req: a clone of the listener, in ESTABLISHED and in
 * the tables.  It goes through SYN_RECV so that the state tracepoint shows
 * the whole path.  Returned with the caller's reference; the other one of
 * sk_clone_lock()'s two is the table's.
 */
static struct sock *etcp_child_create(struct sock *listener,
				      const struct etcp_request *req,
				      const struct etcp_skb_cb *cb)
{
	struct sock *child;

	child = sk_clone_lock(listener, GFP_ATOMIC);
	if (!child)
		return NULL;
	__acquire(&child->sk_lock.slock);	/* sk_clone_lock() locked it */

	etcp_child_init(child, listener, req, cb);
	etcp_child_route(child, req);
	etcp_sock_list_add(child);
	etcp_inherit_port(child, listener);
	inet_sk_set_state(child, TCP_SYN_RECV);
	etcp_set_state(child, TCP_ESTABLISHED);
	etcp_ehash_add(child);
	/* etcp_ehash_add() took its own reference: give back the clone's. */
	__sock_put(child);

	bh_unlock_sock(child);
	return child;
}

/*
 * RFC 9293 3.10.7.4, SYN-RECEIVED, "fifth, check the ACK field": "If
 * SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state".
 * Holds the listener's lock.
 */
static void etcp_req_complete(struct sock *listener, struct etcp_request *req,
			      struct sk_buff *skb)
{
	struct sock *child;

	/* TCP's answer to a full accept queue: ignore the ACK, retry later. */
	if (sk_acceptq_is_full(listener)) {
		ETCP_INC_STATS(sock_net(listener), ETCP_MIB_LISTENOVERFLOWS);
		return;
	}

	child = etcp_child_create(listener, req, ETCP_SKB_CB(skb));
	if (!child)
		return;
	etcp_req_unlink(listener, req);

	/* The reference the caller got is now the accept queue's. */
	list_add_tail(&etcp_sk(child)->accept_node,
		      &etcp_sk(listener)->lq->accept_queue);
	sk_acceptq_added(listener);
	/*
	 * The handshake's last ACK is the child's: with data it goes through
	 * the child's receive path (which counts it), bare it only counts.
	 */
	if (ETCP_SKB_CB(skb)->end_seq != ETCP_SKB_CB(skb)->seq)
		etcp_child_rcv(child, skb);
	else
		etcp_sk(child)->segs_in++;
	listener->sk_data_ready(listener);
}

/*
 * RFC 9293 3.10.7.4 for a request (SYN-RECEIVED after a passive open), in
 * the order Linux's tcp_check_req() takes the steps: an unacceptable ACK
 * is reset before the sequence number is checked, and a SYN in the window
 * ends the request (RFC 5961 4.2 would challenge it).  Holds the
 * listener's lock.
 */
int etcp_req_rcv(struct sock *listener, struct etcp_request *req,
		 struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct net *net = sock_net(listener);
	u32 rcv_nxt = req->irs + 1;

	/* The SYN again: our SYN-ACK was lost.  Resend it, as TCP does. */
	if ((cb->flags & (ETCP_FLAG_SYN | ETCP_FLAG_ACK | ETCP_FLAG_RST)) ==
	    ETCP_FLAG_SYN && cb->seq == req->irs) {
		req->synack_us = 0;	/* two SYN-ACKs: no RTT sample */
		etcp_send_req_segment(listener, req,
				      ETCP_FLAG_SYN | ETCP_FLAG_ACK);
		return 0;
	}

	/*
	 * "If the segment acknowledgment is not acceptable, form a reset
	 * segment <SEQ=SEG.ACK><CTL=RST> and send it".  An RST is never
	 * answered: like Linux's tcp_check_req(), it goes on to the sequence
	 * check, whatever it acknowledges.
	 */
	if ((cb->flags & (ETCP_FLAG_ACK | ETCP_FLAG_RST)) == ETCP_FLAG_ACK &&
	    cb->ack_seq != req->iss + 1) {
		etcp_send_reset_reply(net, listener, skb);
		return 0;
	}

	/* "first, check sequence number": if not acceptable, ACK and drop. */
	if (!etcp_seq_acceptable(rcv_nxt, req->rcv_wnd, skb)) {
		ETCP_INC_STATS(net, ETCP_MIB_OUTOFWINDOW);
		if (etcp_oow_answer(net, skb, &req->oow_ack_stamp,
				    ETCP_MIB_ACKSKIPPEDSEQ))
			etcp_send_req_segment(listener, req, ETCP_FLAG_ACK);
		return 0;
	}

	/*
	 * RFC 5961 3.2, as RFC 9293 3.10.7.4 clarifies it: an RST elsewhere
	 * in the window is challenged, within this request's and the
	 * namespace's limits (as Linux's tcp_reqsk_send_challenge_ack()).
	 */
	if ((cb->flags & ETCP_FLAG_RST) &&
	    !etcp_rst_acceptable(TCP_SYN_RECV, cb->seq, rcv_nxt)) {
		if (!etcp_oow_rate_limited(net, &req->oow_ack_stamp,
					   ETCP_MIB_ACKSKIPPEDCHALLENGE) &&
		    etcp_challenge_allowed(net))
			etcp_send_req_segment(listener, req, ETCP_FLAG_ACK);
		return 0;
	}

	/*
	 * "second, check the RST bit", "fourth, check the SYN bit": a
	 * passively opened connection returns to LISTEN, i.e. the request
	 * goes.  A SYN is answered with an RST, as Linux answers it.
	 */
	if (cb->flags & (ETCP_FLAG_RST | ETCP_FLAG_SYN)) {
		ETCP_INC_STATS(net, ETCP_MIB_ATTEMPTFAILS);
		if (trace_etcp_request_drop_enabled())
			trace_etcp_request_drop(listener, req,
						cb->flags & ETCP_FLAG_RST ?
						ETCP_REQR_RST : ETCP_REQR_SYN);
		if (!(cb->flags & ETCP_FLAG_RST))
			etcp_send_reset_reply(net, listener, skb);
		etcp_req_unlink(listener, req);
		return 0;
	}

	/* "fifth, check the ACK field": "if the ACK bit is off drop". */
	if (!(cb->flags & ETCP_FLAG_ACK)) {
		ETCP_INC_STATS(net, ETCP_MIB_INDISCARDS);
		return 0;
	}
	etcp_req_complete(listener, req, skb);
	return 0;
}

/* Abort a child nobody accepted: RST to the peer, then free it. */
static void etcp_child_abort(struct sock *child)
{
	local_bh_disable();
	bh_lock_sock(child);
	if (etcp_state_synchronized(child->sk_state))
		etcp_send_active_reset(child);
	etcp_done(child);
	bh_unlock_sock(child);
	local_bh_enable();
	/* The accept queue's reference: destroy, orphan, free. */
	sk_common_release(child);
}

/*
 * The listener stopped listening (close() or shutdown()): every pending
 * request and every child not yet accepted is reset.  Process context, the
 * listener owned by the caller and already out of the listening hash.
 */
void etcp_listen_purge(struct sock *listener)
{
	struct etcp_listener *lq = etcp_sk(listener)->lq;
	struct etcp_request *req, *rtmp;
	struct etcp_sock *child, *ctmp;

	list_for_each_entry_safe(req, rtmp, &lq->syn_queue, node) {
		trace_etcp_request_drop(listener, req, ETCP_REQR_LISTENER);
		etcp_send_req_segment(listener, req,
				      ETCP_FLAG_RST | ETCP_FLAG_ACK);
		etcp_req_dequeue(listener, req);
		/* The timer may be waiting for us to release the listener. */
		if (timer_delete_sync(&req->timer))
			etcp_req_put(req);
		etcp_req_put(req);
	}

	list_for_each_entry_safe(child, ctmp, &lq->accept_queue, accept_node) {
		list_del_init(&child->accept_node);
		sk_acceptq_removed(listener);
		etcp_child_abort(&child->inet.sk);
	}
	etcp_syn_table_free(listener);
}

/* ---- TIME_WAIT ---- */

static void etcp_tw_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(etcp_tw_cache, container_of(head, struct etcp_tw, rcu));
}

void etcp_tw_put(struct etcp_tw *tw)
{
	/* Lookups run under RCU only: free after a grace period. */
	if (refcount_dec_and_test(&tw->refcnt))
		call_rcu(&tw->rcu, etcp_tw_free_rcu);
}

/*
 * Out of the tables for good, for @why: the tables' and timer's reference
 * goes.
 */
static void etcp_tw_kill(struct etcp_tw *tw, enum etcp_tw_reason why)
{
	if (etcp_tw_unhash(etcp_pernet(tw->net), tw)) {
		trace_etcp_time_wait_end(tw, why);
		etcp_tw_put(tw);
	}
}

/* Stop the timer and kill, unless the timer got there first. */
static bool etcp_tw_deschedule(struct etcp_tw *tw, enum etcp_tw_reason why)
{
	if (!timer_delete(&tw->timer))
		return false;
	etcp_tw_kill(tw, why);
	return true;
}

/* 2 * MSL passed without a reason to stay (RFC 9293 3.10.8). */
static void etcp_tw_timer(struct timer_list *t)
{
	struct etcp_tw *tw = etcp_timer_container_of(tw, t, timer);

	ETCP_INC_STATS(tw->net, ETCP_MIB_TIMEWAITED);
	etcp_tw_kill(tw, ETCP_TWR_TIMER);
}

/*
 * Start 2 * MSL again for a segment with @flags, unless the timer fired
 * meanwhile: a dying entry is not brought back.
 */
static void etcp_tw_restart(struct etcp_tw *tw, u8 flags)
{
	if (mod_timer_pending(&tw->timer, jiffies + tw->timeout))
		trace_etcp_time_wait_restart(tw, flags);
}

/*
 * How long TIME_WAIT lasts: 2 * MSL (RFC 9293 3.6), the MSL being
 * etcp_msl when the entry is made; a later write is for later entries.
 * Every restart waits as long again (etcp_tw_restart()).
 */
static unsigned long etcp_tw_len(struct etcp_net *en)
{
	return msecs_to_jiffies(2 * READ_ONCE(en->sysctl.msl));
}

static struct etcp_tw *etcp_tw_alloc(const struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	const struct inet_sock *inet = inet_sk(sk);
	struct etcp_net *en = etcp_pernet(sock_net(sk));
	struct etcp_tw *tw;

	tw = etcp_cache_zalloc(etcp_tw_cache, GFP_ATOMIC);
	if (!tw)
		return NULL;
	refcount_set(&tw->refcnt, 1);	/* the tables' and the timer's */
	timer_setup(&tw->timer, etcp_tw_timer, 0);
	tw->net = sock_net(sk);
	etcp_sk_addrs(sk, &tw->laddr, &tw->raddr);
	tw->family = sk->sk_family;
	tw->lport = inet->inet_sport;
	tw->rport = inet->inet_dport;
	tw->bound_dev_if = sk->sk_bound_dev_if;
	tw->snd_nxt = esk->snd_nxt;
	tw->rcv_nxt = esk->rcv_nxt;
	tw->rcv_wnd = esk->rcv_wnd >> esk->rcv_wscale;
	tw->reuse = !!sk->sk_reuse;
	tw->reuseport = !!sk->sk_reuseport;
	tw->bound_by_connect = esk->bound_by_connect;
	tw->tos = etcp_sk_v6_wire(sk) ? READ_ONCE(inet6_sk(sk)->tclass) :
					READ_ONCE(inet->tos);
	tw->uid = sk->sk_uid;
	tw->timeout = etcp_tw_len(en);
	return tw;
}

/*
 * Both FINs are acknowledged (RFC 9293 3.10.7.4, FIN-WAIT-2 and CLOSING):
 * the socket gives way to a TIME_WAIT entry for 2 * MSL.  The entry is in
 * the tables before the socket leaves them, so that no segment finds
 * neither.  Past etcp_max_tw_buckets the connection just closes, as TCP's
 * does.  Called with the socket's spinlock held; the socket is done after.
 */
void etcp_time_wait(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));
	struct etcp_tw *tw = NULL;

	if (atomic_read(&en->tw_count) >=
	    READ_ONCE(en->sysctl.max_tw_buckets))
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_TIMEWAITOVERFLOW);
	else
		tw = etcp_tw_alloc(sk);

	if (tw) {
		/* Before anything else can see, and end, the entry. */
		trace_etcp_time_wait_create(tw, sk);
		/* Armed before a lookup can find it to restart or kill it. */
		spin_lock_bh(&en->lock);
		mod_timer(&tw->timer, jiffies + tw->timeout);
		etcp_tw_hash(en, tw);
		spin_unlock_bh(&en->lock);
	}
	etcp_done(sk);
}

/*
 * RFC 9293 3.10.7.4 for TIME-WAIT, with what Linux adds:
 *  - an RST at RCV.NXT ends the entry, unless etcp_rfc1337 asks to keep
 *    it (RFC 1337, "TIME-WAIT assassination"); any other RST is ignored;
 *  - a SYN above RCV.NXT may open a new connection (RFC 1122 4.2.2.13):
 *    ETCP_TW_SYN, the caller looks for the listener;
 *  - a bare ACK at RCV.NXT restarts 2 * MSL;
 *  - anything else (the peer's FIN again, old data, a SYN below) is
 *    answered with an ACK, and with an ACK of its own it restarts 2 * MSL.
 * Takes no reference; the caller holds one.
 */
enum etcp_tw_verdict etcp_tw_rcv(struct etcp_tw *tw, struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_net *en = etcp_pernet(tw->net);

	if (cb->flags & ETCP_FLAG_RST) {
		if (etcp_rst_acceptable(TCP_TIME_WAIT, cb->seq, tw->rcv_nxt) &&
		    !READ_ONCE(en->sysctl.rfc1337)) {
			if (etcp_tw_deschedule(tw, ETCP_TWR_RST))
				ETCP_INC_STATS(tw->net, ETCP_MIB_TIMEWAITKILLED);
		} else {
			ETCP_INC_STATS(tw->net, ETCP_MIB_INDISCARDS);
		}
		return ETCP_TW_DONE;
	}
	if ((cb->flags & (ETCP_FLAG_SYN | ETCP_FLAG_ACK)) == ETCP_FLAG_SYN &&
	    etcp_after(cb->seq, tw->rcv_nxt))
		return ETCP_TW_SYN;

	if (cb->flags & ETCP_FLAG_ACK)
		etcp_tw_restart(tw, cb->flags);
	if (cb->seq != tw->rcv_nxt || cb->end_seq != cb->seq)
		etcp_tw_answer(tw, skb);
	return ETCP_TW_DONE;
}

/* TIME_WAIT's ACK to a segment it cannot accept, within the limit. */
void etcp_tw_answer(struct etcp_tw *tw, struct sk_buff *skb)
{
	if (etcp_oow_answer(tw->net, skb, &tw->oow_ack_stamp,
			    ETCP_MIB_ACKSKIPPEDTIMEWAIT))
		etcp_send_tw_ack(tw, skb);
}

/*
 * A SYN ended the entry and a listener takes it: the new connection's ISS
 * lies above anything the old one sent, as RFC 1122 4.2.2.13 asks
 * (Linux: SND.NXT + 65535 + 2).
 */
void etcp_tw_recycle(struct etcp_tw *tw, struct sk_buff *skb)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

	cb->tw_isn = tw->snd_nxt + 65535 + 2;
	cb->tw_recycle = 1;
	if (etcp_tw_deschedule(tw, ETCP_TWR_SYN))
		ETCP_INC_STATS(tw->net, ETCP_MIB_TIMEWAITRECYCLED);
}

/* Kill the entries on one chain of etcp_net.all_tws, timers waited for. */
static void etcp_tw_purge_chain(struct etcp_net *en, struct hlist_head *chain)
{
	struct etcp_tw *tw;

	for (;;) {
		spin_lock_bh(&en->lock);
		tw = hlist_entry_safe(chain->first, struct etcp_tw, all_node);
		if (tw)
			refcount_inc(&tw->refcnt);
		spin_unlock_bh(&en->lock);
		if (!tw)
			return;
		/* Killed by us or by the timer, it is off the chain after. */
		if (timer_delete_sync(&tw->timer))
			etcp_tw_kill(tw, ETCP_TWR_NETNS);
		etcp_tw_put(tw);
	}
}

/*
 * The namespace is going: its TIME_WAIT entries go with it.  Nothing can
 * reach them any more but their timers, which are waited for.
 */
void etcp_tw_purge(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	int i;

	for (i = 0; i < ETCP_ALL_SIZE; i++)
		etcp_tw_purge_chain(en, &en->all_tws[i]);
}

int etcp_minisocks_init(void)
{
	get_random_bytes(&etcp_isn_key, sizeof(etcp_isn_key));
	etcp_request_cache = kmem_cache_create("etcp_request",
					       sizeof(struct etcp_request), 0,
					       ETCP_SLAB_FLAGS, etcp_slab_ctor);
	if (!etcp_request_cache)
		return -ENOMEM;
	etcp_tw_cache = kmem_cache_create("etcp_tw", sizeof(struct etcp_tw),
					  0, ETCP_SLAB_FLAGS, etcp_slab_ctor);
	if (!etcp_tw_cache) {
		kmem_cache_destroy(etcp_request_cache);
		return -ENOMEM;
	}
	return 0;
}

void etcp_minisocks_exit(void)
{
	/* TIME_WAIT entries freed after a grace period are freed now. */
	rcu_barrier();
	kmem_cache_destroy(etcp_tw_cache);
	kmem_cache_destroy(etcp_request_cache);
}
