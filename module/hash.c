// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: per network namespace socket tables and local port allocation.
 *
 * etcp keeps its own tables instead of inet_hashinfo (which upstream made
 * TCP-only), so its ports never collide with TCP's: a TCP and an etcp socket
 * may both bind 10.0.0.1:80 in the same namespace, as TCP and UDP may.
 *
 *   bhash  every socket holding a local port, by port (sk_bind_node)
 *   lhash  listeners, by port (sk_node, RCU)
 *   ehash  everything else with a peer, by 4-tuple (sk_nulls_node, RCU)
 *   twhash TIME_WAIT entries, by 4-tuple (RCU); tw_bhash the same by
 *          local port, so that they hold their port as a socket would
 *
 * A socket is in lhash or ehash, never both: they share sk_node's storage.
 * Both are nulls lists, each chain ending in a value of its own, because
 * a socket may move from one table to the other without a grace period
 * (a listener shut down and connected; a connection disconnected and
 * listening): a reader that followed it into a chain of the other table
 * sees the wrong end value and starts over.
 * Writers hold etcp_net.lock; the receive path only reads, under RCU, and
 * takes a reference on what it finds.
 */
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/rculist_nulls.h>
#include <net/ip.h>
#include <net/sock.h>

#include "etcp.h"

/* lhash's chains end in nulls values after ehash's. */
#define ETCP_LHASH_NULLS	ETCP_EHASH_SIZE

static u32 etcp_ehash_secret __read_mostly;

void etcp_hash_init(void)
{
	etcp_ehash_secret = get_random_u32();
}

void etcp_hash_net_init(struct etcp_net *en)
{
	int i;

	spin_lock_init(&en->lock);
	for (i = 0; i < ETCP_ALL_SIZE; i++) {
		INIT_HLIST_HEAD(&en->all_socks[i]);
		INIT_HLIST_HEAD(&en->all_reqs[i]);
		INIT_HLIST_HEAD(&en->all_tws[i]);
	}
	for (i = 0; i < ETCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&en->bhash[i]);
	/* The nulls value names the chain, so a reader can tell it strayed. */
	for (i = 0; i < ETCP_EHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&en->ehash[i], i);
	for (i = 0; i < ETCP_LHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&en->lhash[i], ETCP_LHASH_NULLS + i);
	for (i = 0; i < ETCP_EHASH_SIZE; i++)
		INIT_HLIST_HEAD(&en->twhash[i]);
	for (i = 0; i < ETCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&en->tw_bhash[i]);
	atomic_set(&en->tw_count, 0);
	atomic_set(&en->orphans, 0);
	spin_lock_init(&en->challenge_lock);
	en->challenge_stamp = jiffies / HZ - 1;
}

void etcp_hash_net_exit(struct etcp_net *en)
{
	int i;

	for (i = 0; i < ETCP_ALL_SIZE; i++) {
		/*
		 * A user socket, and every request and child of one, holds
		 * a reference on its namespace, so none can be left now.
		 */
		WARN_ON_ONCE(!hlist_empty(&en->all_socks[i]));
		WARN_ON_ONCE(!hlist_empty(&en->all_reqs[i]));
		/* etcp_tw_purge() ran before. */
		WARN_ON_ONCE(!hlist_empty(&en->all_tws[i]));
	}
}

/* @entry's chain in one of etcp_net's all_* tables. */
static struct hlist_head *etcp_all_bucket(struct hlist_head *all,
					  const void *entry)
{
	return &all[hash_ptr(entry, ETCP_ALL_BITS)];
}

void etcp_sock_list_add(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	hlist_add_head(&etcp_sk(sk)->all_node,
		       etcp_all_bucket(en->all_socks, sk));
	spin_unlock_bh(&en->lock);
}

void etcp_sock_list_del(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	hlist_del_init(&etcp_sk(sk)->all_node);
	spin_unlock_bh(&en->lock);
}

void etcp_req_list_add(struct net *net, struct etcp_request *req)
{
	struct etcp_net *en = etcp_pernet(net);

	spin_lock_bh(&en->lock);
	hlist_add_head(&req->all_node, etcp_all_bucket(en->all_reqs, req));
	spin_unlock_bh(&en->lock);
}

void etcp_req_list_del(struct net *net, struct etcp_request *req)
{
	struct etcp_net *en = etcp_pernet(net);

	spin_lock_bh(&en->lock);
	hlist_del_init(&req->all_node);
	spin_unlock_bh(&en->lock);
}

/* ---- bound ports ---- */

static struct hlist_head *etcp_bhash_bucket(struct etcp_net *en, u16 port)
{
	return &en->bhash[port & (ETCP_BHASH_SIZE - 1)];
}

/*
 * Would @sk bound to @port clash with @other, which already holds it?
 * The rules are TCP's for bind(): the addresses and devices must overlap,
 * and neither SO_REUSEADDR (both set, @other not listening) nor
 * SO_REUSEPORT (both set, same owner) lets them share.
 */
static bool etcp_bind_conflict(const struct sock *sk, const struct sock *other)
{
	__be32 a = inet_sk(sk)->inet_rcv_saddr;
	__be32 b = inet_sk(other)->inet_rcv_saddr;

	if (a && b && a != b)
		return false;
	if (sk->sk_bound_dev_if && other->sk_bound_dev_if &&
	    sk->sk_bound_dev_if != other->sk_bound_dev_if)
		return false;
	if (sk->sk_reuse && other->sk_reuse && other->sk_state != TCP_LISTEN)
		return false;
	if (sk->sk_reuseport && other->sk_reuseport &&
	    uid_eq(sk->sk_uid, other->sk_uid))
		return false;
	return true;
}

/*
 * The same for a TIME_WAIT entry on the port: SO_REUSEADDR on both the new
 * socket and the one that left the entry lets them share it, as TCP's
 * rule has it; SO_REUSEPORT on both always does.
 */
static bool etcp_tw_bind_conflict(const struct sock *sk,
				  const struct etcp_tw *tw)
{
	__be32 a = inet_sk(sk)->inet_rcv_saddr;

	if (a && a != tw->laddr)
		return false;
	if (sk->sk_bound_dev_if && tw->bound_dev_if &&
	    sk->sk_bound_dev_if != tw->bound_dev_if)
		return false;
	if (sk->sk_reuse && tw->reuse)
		return false;
	if (sk->sk_reuseport && tw->reuseport)
		return false;
	return true;
}

static struct hlist_head *etcp_tw_bhash_bucket(struct etcp_net *en, u16 port)
{
	return &en->tw_bhash[port & (ETCP_BHASH_SIZE - 1)];
}

static bool etcp_port_in_use(struct etcp_net *en, const struct sock *sk,
			     u16 port)
{
	struct etcp_tw *tw;
	struct sock *other;

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		if (other != sk && inet_sk(other)->inet_num == port &&
		    etcp_bind_conflict(sk, other))
			return true;
	}
	hlist_for_each_entry(tw, etcp_tw_bhash_bucket(en, port), bind_node) {
		if (ntohs(tw->lport) == port && etcp_tw_bind_conflict(sk, tw))
			return true;
	}
	return false;
}

static void etcp_bind_port(struct etcp_net *en, struct sock *sk, u16 port)
{
	inet_sk(sk)->inet_num = port;
	hlist_add_head(&sk->sk_bind_node, etcp_bhash_bucket(en, port));
}

/*
 * Walk ip_local_port_range from a random point and return the first port
 * @usable() accepts, or 0.
 */
static int etcp_scan_ports(struct etcp_net *en, struct net *net,
			   const struct sock *sk,
			   bool (*usable)(struct etcp_net *en,
					  const struct sock *sk, u16 port))
{
	int low, high, range, offset, i;

	inet_get_local_port_range(net, &low, &high);
	range = high - low + 1;
	offset = get_random_u32_below(range);

	for (i = 0; i < range; i++) {
		int port = low + (offset + i) % range;

		if (inet_is_local_reserved_port(net, port))
			continue;
		if (usable(en, sk, port))
			return port;
	}
	return 0;
}

static bool etcp_port_free_for_bind(struct etcp_net *en, const struct sock *sk,
				    u16 port)
{
	return !etcp_port_in_use(en, sk, port);
}

/*
 * proto->get_port: called by inet_bind() with the socket locked and
 * inet_rcv_saddr already set, and by listen() to autobind.  @snum 0 asks
 * for an ephemeral port.
 */
int etcp_get_port(struct sock *sk, unsigned short snum)
{
	struct net *net = sock_net(sk);
	struct etcp_net *en = etcp_pernet(net);
	int port = snum;

	spin_lock_bh(&en->lock);
	if (!port)
		port = etcp_scan_ports(en, net, sk, etcp_port_free_for_bind);
	else if (etcp_port_in_use(en, sk, port))
		port = 0;
	if (port) {
		etcp_sk(sk)->bound_by_connect = 0;
		etcp_bind_port(en, sk, port);
	}
	spin_unlock_bh(&en->lock);

	return port ? 0 : -EADDRINUSE;
}

/* Release the local port; the inverse of etcp_get_port(). */
void etcp_put_port(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	if (!hlist_unhashed(&sk->sk_bind_node)) {
		__sk_del_bind_node(sk);
		sk_node_init(&sk->sk_bind_node);
		inet_sk(sk)->inet_num = 0;
	}
	spin_unlock_bh(&en->lock);
}

/*
 * A child of a listener holds the listener's port for as long as it lives,
 * even after the listener closes, as TCP's children do.
 */
void etcp_inherit_port(struct sock *child, struct sock *listener)
{
	struct etcp_net *en = etcp_pernet(sock_net(child));
	u16 port = inet_sk(listener)->inet_num;

	spin_lock_bh(&en->lock);
	etcp_sk(child)->bound_by_connect = 0;
	etcp_bind_port(en, child, port);
	spin_unlock_bh(&en->lock);
}

/* ---- listeners ---- */

static u32 etcp_lhash_slot(u16 port)
{
	return port & (ETCP_LHASH_SIZE - 1);
}

/*
 * listen(): sockets bound with SO_REUSEADDR may share a port, but only one
 * of them may listen on it, unless SO_REUSEPORT lets them all.
 */
static bool etcp_listen_conflict(struct etcp_net *en, const struct sock *sk)
{
	u16 port = inet_sk(sk)->inet_num;
	struct sock *other;

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		if (other == sk || inet_sk(other)->inet_num != port ||
		    other->sk_state != TCP_LISTEN)
			continue;
		if (etcp_bind_conflict(sk, other))
			return true;
	}
	return false;
}

int etcp_listen_hash(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));
	u32 slot = etcp_lhash_slot(inet_sk(sk)->inet_num);
	int err = 0;

	spin_lock_bh(&en->lock);
	if (etcp_listen_conflict(en, sk))
		err = -EADDRINUSE;
	else
		hlist_nulls_add_head_rcu(&sk->sk_nulls_node, &en->lhash[slot]);
	spin_unlock_bh(&en->lock);
	return err;
}

/* ---- connections ---- */

static u32 etcp_ehashfn(__be32 laddr, u16 lport, __be32 raddr, __be16 rport)
{
	return jhash_3words((__force u32)laddr, (__force u32)raddr,
			    ((u32)lport << 16) | (__force u16)rport,
			    etcp_ehash_secret) & (ETCP_EHASH_SIZE - 1);
}

static void __etcp_ehash_add(struct etcp_net *en, struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	u32 slot = etcp_ehashfn(inet->inet_rcv_saddr, inet->inet_num,
				inet->inet_daddr, inet->inet_dport);

	/* The table holds a reference; etcp_unhash() drops it. */
	sock_hold(sk);
	hlist_nulls_add_head_rcu(&sk->sk_nulls_node, &en->ehash[slot]);
}

void etcp_ehash_add(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	__etcp_ehash_add(en, sk);
	spin_unlock_bh(&en->lock);
}

/*
 * Is @sk's 4-tuple, with local port @port, already someone's, a
 * connection's or a TIME_WAIT entry's?
 */
static bool etcp_tuple_taken(struct etcp_net *en, const struct sock *sk,
			     u16 port)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct etcp_tw *tw;
	struct sock *other;

	hlist_for_each_entry(tw, etcp_tw_bhash_bucket(en, port), bind_node) {
		if (ntohs(tw->lport) == port &&
		    tw->rport == inet->inet_dport &&
		    tw->raddr == inet->inet_daddr &&
		    (!inet->inet_rcv_saddr ||
		     tw->laddr == inet->inet_rcv_saddr))
			return true;
	}

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		const struct inet_sock *o = inet_sk(other);

		if (other != sk && o->inet_num == port &&
		    o->inet_dport == inet->inet_dport &&
		    o->inet_daddr == inet->inet_daddr &&
		    (!o->inet_rcv_saddr ||
		     o->inet_rcv_saddr == inet->inet_rcv_saddr))
			return true;
	}
	return false;
}

/*
 * An ephemeral port for connect() may be shared with other connections
 * that got theirs the same way, as long as the 4-tuples differ (TCP's
 * __inet_hash_connect()); ports somebody bound or listens on are left alone.
 */
static bool etcp_port_free_for_connect(struct etcp_net *en,
				       const struct sock *sk, u16 port)
{
	struct etcp_tw *tw;
	struct sock *other;

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		if (inet_sk(other)->inet_num == port &&
		    !etcp_sk(other)->bound_by_connect)
			return false;
	}
	hlist_for_each_entry(tw, etcp_tw_bhash_bucket(en, port), bind_node) {
		if (ntohs(tw->lport) == port && !tw->bound_by_connect)
			return false;
	}
	return !etcp_tuple_taken(en, sk, port);
}

/*
 * connect(): give @sk a local port if it has none and enter it in ehash,
 * atomically, so that two connects cannot take the same 4-tuple.
 */
int etcp_connect_hash(struct sock *sk)
{
	struct net *net = sock_net(sk);
	struct etcp_net *en = etcp_pernet(net);
	struct inet_sock *inet = inet_sk(sk);
	int err = 0;
	int port;

	spin_lock_bh(&en->lock);
	if (inet->inet_num) {
		if (etcp_tuple_taken(en, sk, inet->inet_num))
			err = -EADDRNOTAVAIL;
	} else {
		port = etcp_scan_ports(en, net, sk, etcp_port_free_for_connect);
		if (port) {
			etcp_bind_port(en, sk, port);
			etcp_sk(sk)->bound_by_connect = 1;
			inet->inet_sport = htons(port);
		} else {
			err = -EADDRNOTAVAIL;
		}
	}
	if (!err)
		__etcp_ehash_add(en, sk);
	spin_unlock_bh(&en->lock);
	return err;
}

/* proto->unhash: leave lhash or ehash; the port stays (etcp_put_port). */
void etcp_unhash(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));
	bool was_hashed = false;

	spin_lock_bh(&en->lock);
	if (!sk_unhashed(sk)) {
		hlist_nulls_del_init_rcu(&sk->sk_nulls_node);
		was_hashed = sk->sk_state != TCP_LISTEN;
	}
	spin_unlock_bh(&en->lock);

	/* ehash's reference; never the last, the caller holds one. */
	if (was_hashed)
		__sock_put(sk);
}

/* ---- TIME_WAIT entries ---- */

static struct hlist_head *etcp_twhash_bucket(struct etcp_net *en,
					     __be32 laddr, __be16 lport,
					     __be32 raddr, __be16 rport)
{
	return &en->twhash[etcp_ehashfn(laddr, ntohs(lport), raddr, rport)];
}

/* Enter @tw in the tables, under etcp_net.lock; the caller's reference. */
void etcp_tw_hash(struct etcp_net *en, struct etcp_tw *tw)
{
	struct hlist_head *head = etcp_twhash_bucket(en, tw->laddr, tw->lport,
						     tw->raddr, tw->rport);

	lockdep_assert_held(&en->lock);
	hlist_add_head_rcu(&tw->node, head);
	hlist_add_head(&tw->bind_node,
		       etcp_tw_bhash_bucket(en, ntohs(tw->lport)));
	hlist_add_head(&tw->all_node, etcp_all_bucket(en->all_tws, tw));
	atomic_inc(&en->tw_count);
}

/* Take @tw out of the tables; false if somebody else already did. */
bool etcp_tw_unhash(struct etcp_net *en, struct etcp_tw *tw)
{
	bool was_hashed;

	spin_lock_bh(&en->lock);
	was_hashed = !hlist_unhashed(&tw->node);
	if (was_hashed) {
		hlist_del_init_rcu(&tw->node);
		hlist_del_init(&tw->bind_node);
		hlist_del_init(&tw->all_node);
		atomic_dec(&en->tw_count);
	}
	spin_unlock_bh(&en->lock);
	return was_hashed;
}

/* ---- lookup, in softirq under RCU ---- */

static bool etcp_ehash_match(const struct sock *sk, __be32 saddr, __be16 sport,
			     __be32 daddr, u16 dport, int dif)
{
	const struct inet_sock *inet = inet_sk(sk);

	return inet->inet_daddr == saddr && inet->inet_dport == sport &&
	       inet->inet_rcv_saddr == daddr && inet->inet_num == dport &&
	       (!sk->sk_bound_dev_if || sk->sk_bound_dev_if == dif);
}

static struct sock *etcp_ehash_lookup(struct etcp_net *en, __be32 saddr,
				      __be16 sport, __be32 daddr, u16 dport,
				      int dif)
{
	u32 slot = etcp_ehashfn(daddr, dport, saddr, sport);
	struct hlist_nulls_node *node;
	struct sock *sk;

begin:
	sk_nulls_for_each_rcu(sk, node, &en->ehash[slot]) {
		if (!etcp_ehash_match(sk, saddr, sport, daddr, dport, dif))
			continue;
		if (unlikely(!refcount_inc_not_zero(&sk->sk_refcnt)))
			return NULL;	/* being destroyed */
		/* It may have been rehashed between the match and the ref. */
		if (unlikely(!etcp_ehash_match(sk, saddr, sport, daddr, dport,
					       dif))) {
			sock_put(sk);
			goto begin;
		}
		return sk;
	}
	/* A socket moved to another chain under us: we missed the rest. */
	if (get_nulls_value(node) != slot)
		goto begin;
	return NULL;
}

/* An exact local address beats the wildcard; a bound device must match. */
static int etcp_listen_score(const struct sock *sk, __be32 daddr, u16 dport,
			     int dif)
{
	const struct inet_sock *inet = inet_sk(sk);
	int score = 1;

	if (inet->inet_num != dport)
		return -1;
	if (inet->inet_rcv_saddr) {
		if (inet->inet_rcv_saddr != daddr)
			return -1;
		score += 2;
	}
	if (sk->sk_bound_dev_if) {
		if (sk->sk_bound_dev_if != dif)
			return -1;
		score++;
	}
	return score;
}

/*
 * The best listener for daddr:dport.  Listeners sharing the best score
 * through SO_REUSEPORT split the connections by a hash of the peer, as
 * TCP's do, so one peer always reaches the same one.  A walk that strayed
 * into another chain (see the top of this file) starts over; what it saw
 * of another chain is no listener of ours unless it is in LISTEN.
 */
static struct sock *etcp_lhash_lookup(struct etcp_net *en, __be32 saddr,
				      __be16 sport, __be32 daddr, u16 dport,
				      int dif)
{
	u32 slot = etcp_lhash_slot(dport);
	struct hlist_nulls_head *head = &en->lhash[slot];
	struct hlist_nulls_node *node;
	struct sock *sk, *best;
	int score, best_score;
	unsigned int n, pick;

begin:
	best = NULL;
	best_score = 0;
	n = 0;
	sk_nulls_for_each_rcu(sk, node, head) {
		if (READ_ONCE(sk->sk_state) != TCP_LISTEN)
			continue;
		score = etcp_listen_score(sk, daddr, dport, dif);
		if (score > best_score) {
			best = sk;
			best_score = score;
			n = 1;
		} else if (score == best_score && sk->sk_reuseport) {
			n++;
		}
	}
	if (get_nulls_value(node) != ETCP_LHASH_NULLS + slot)
		goto begin;
	if (best && best->sk_reuseport && n > 1) {
		pick = reciprocal_scale(jhash_2words((__force u32)saddr,
						     (__force u32)sport,
						     etcp_ehash_secret), n);
		sk_nulls_for_each_rcu(sk, node, head) {
			if (READ_ONCE(sk->sk_state) == TCP_LISTEN &&
			    etcp_listen_score(sk, daddr, dport, dif) ==
			    best_score && sk->sk_reuseport && !pick--) {
				best = sk;
				break;
			}
		}
	}
	if (best && !refcount_inc_not_zero(&best->sk_refcnt))
		best = NULL;
	return best;
}

/* The connection with this 4-tuple, with a reference held, or NULL. */
struct sock *etcp_lookup_established(struct net *net, __be32 saddr,
				     __be16 sport, __be32 daddr, __be16 dport,
				     int dif)
{
	struct sock *sk;

	rcu_read_lock();
	sk = etcp_ehash_lookup(etcp_pernet(net), saddr, sport, daddr,
			       ntohs(dport), dif);
	rcu_read_unlock();
	return sk;
}

/* The TIME_WAIT entry of this 4-tuple, with a reference held, or NULL. */
struct etcp_tw *etcp_tw_lookup(struct net *net, __be32 saddr, __be16 sport,
			       __be32 daddr, __be16 dport, int dif)
{
	struct etcp_net *en = etcp_pernet(net);
	struct hlist_head *head = etcp_twhash_bucket(en, daddr, dport, saddr,
						     sport);
	struct etcp_tw *tw, *found = NULL;

	rcu_read_lock();
	hlist_for_each_entry_rcu(tw, head, node) {
		if (tw->raddr == saddr && tw->rport == sport &&
		    tw->laddr == daddr && tw->lport == dport &&
		    (!tw->bound_dev_if || tw->bound_dev_if == dif) &&
		    refcount_inc_not_zero(&tw->refcnt)) {
			found = tw;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* The listener for daddr:dport, with a reference held, or NULL. */
struct sock *etcp_lookup_listener(struct net *net, __be32 saddr, __be16 sport,
				  __be32 daddr, __be16 dport, int dif)
{
	struct sock *sk;

	rcu_read_lock();
	sk = etcp_lhash_lookup(etcp_pernet(net), saddr, sport, daddr,
			       ntohs(dport), dif);
	rcu_read_unlock();
	return sk;
}
