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
#include <linux/export.h>
#include <linux/hash.h>
#include <linux/jhash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/rculist_nulls.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/sock.h>

#include "etcp.h"

/*
 * The connection tables (ehash, twhash) and the port tables (bhash,
 * tw_bhash) of every namespace have this many buckets less one, a power
 * of two fixed when the module loads.
 */
static u32 etcp_hash_mask __read_mostly;

/* lhash's chains end in nulls values after ehash's. */
#define ETCP_LHASH_NULLS	(etcp_hash_mask + 1)

static u32 etcp_ehash_secret __read_mostly;

/*
 * One connection bucket per 128 KiB of memory, the ratio TCP sizes its
 * established table with at boot, so that chains stay short up to as
 * many connections and TIME_WAIT entries as the machine can hold.  TCP's
 * one table serves every namespace; etcp's are per namespace, so the size
 * is capped where 100 000 TIME_WAIT entries still make chains of a few
 * (four tables of 128 KiB each at the cap).  The port tables get as many
 * buckets: connect()'s search for a free port walks a port's chains once
 * per candidate, so they must stay as short.
 */
#define ETCP_HASH_MIN		1024UL
#define ETCP_HASH_MAX		16384UL

void etcp_hash_init(void)
{
	unsigned long n = totalram_pages() >> (17 - PAGE_SHIFT);

	n = roundup_pow_of_two(clamp(n, ETCP_HASH_MIN, ETCP_HASH_MAX));
	etcp_hash_mask = n - 1;
	etcp_ehash_secret = get_random_u32();
	pr_info("tables per namespace: %lu connection buckets, %lu port buckets\n",
		n, n);
}

static void etcp_hash_free(struct etcp_net *en)
{
	kvfree(en->bhash);
	kvfree(en->ehash);
	kvfree(en->twhash);
	kvfree(en->tw_bhash);
}

static void *etcp_hash_alloc(size_t size)
{
	/* Charged to the namespace's creator, as TCP's per-namespace ehash. */
	return kvmalloc_array(etcp_hash_mask + 1, size, GFP_KERNEL_ACCOUNT);
}

int etcp_hash_net_init(struct etcp_net *en)
{
	u32 i;

	en->bhash = etcp_hash_alloc(sizeof(*en->bhash));
	en->tw_bhash = etcp_hash_alloc(sizeof(*en->tw_bhash));
	en->ehash = etcp_hash_alloc(sizeof(*en->ehash));
	en->twhash = etcp_hash_alloc(sizeof(*en->twhash));
	if (!en->bhash || !en->tw_bhash || !en->ehash || !en->twhash) {
		etcp_hash_free(en);
		return -ENOMEM;
	}

	spin_lock_init(&en->lock);
	for (i = 0; i < ETCP_ALL_SIZE; i++) {
		INIT_HLIST_HEAD(&en->all_socks[i]);
		INIT_HLIST_HEAD(&en->all_reqs[i]);
		INIT_HLIST_HEAD(&en->all_tws[i]);
	}
	for (i = 0; i <= etcp_hash_mask; i++) {
		INIT_HLIST_HEAD(&en->bhash[i]);
		INIT_HLIST_HEAD(&en->tw_bhash[i]);
		/* The nulls value names the chain: a reader can tell it strayed. */
		INIT_HLIST_NULLS_HEAD(&en->ehash[i], i);
		INIT_HLIST_HEAD(&en->twhash[i]);
	}
	for (i = 0; i < ETCP_LHASH_SIZE; i++)
		INIT_HLIST_NULLS_HEAD(&en->lhash[i], ETCP_LHASH_NULLS + i);
	atomic_set(&en->tw_count, 0);
	atomic_set(&en->orphans, 0);
	spin_lock_init(&en->challenge_lock);
	en->challenge_stamp = jiffies / HZ - 1;
	return 0;
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
	etcp_hash_free(en);
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

/*
 * ---- walking every entry: /proc/net/etcp and sock_diag (etcp_diag.ko) ----
 *
 * The caller holds etcp_net.lock (etcp_walk_lock()) from one entry to the
 * next.  A walk that lets the lock go names its place by chain and offset
 * in the chain, and etcp_walk_resume() finds it again by walking that one
 * chain: resuming costs a chain, not the tables.  Entries that come and
 * go meanwhile may be missed or met twice, as with /proc/net/tcp.
 */

static struct hlist_head *etcp_walk_chain(struct etcp_net *en,
					  const struct etcp_walk *w)
{
	switch (w->list) {
	case ETCP_WALK_SOCKS:
		return &en->all_socks[w->bucket];
	case ETCP_WALK_REQS:
		return &en->all_reqs[w->bucket];
	default:
		return &en->all_tws[w->bucket];
	}
}

/* The first entry of the chains from @w's on, @w moved to it; or NULL. */
static struct hlist_node *etcp_walk_chain_first(struct etcp_net *en,
						struct etcp_walk *w)
{
	for (; w->list < ETCP_WALK_LISTS; w->list++, w->bucket = 0) {
		for (; w->bucket < ETCP_ALL_SIZE; w->bucket++) {
			struct hlist_node *node = etcp_walk_chain(en, w)->first;

			if (node) {
				w->offset = 0;
				return node;
			}
		}
	}
	return NULL;
}

void etcp_walk_lock(struct net *net)
	__acquires(&etcp_pernet(net)->lock)
{
	spin_lock_bh(&etcp_pernet(net)->lock);
}
EXPORT_SYMBOL_GPL(etcp_walk_lock);

void etcp_walk_unlock(struct net *net)
	__releases(&etcp_pernet(net)->lock)
{
	spin_unlock_bh(&etcp_pernet(net)->lock);
}
EXPORT_SYMBOL_GPL(etcp_walk_unlock);

/*
 * The entry @w names, found again after the lock was let go, or the first
 * one after it (a chain that got shorter goes on with the next); NULL at
 * the end.  A zeroed @w starts at the first entry.
 */
struct hlist_node *etcp_walk_resume(struct net *net, struct etcp_walk *w)
{
	struct etcp_net *en = etcp_pernet(net);
	struct hlist_node *node;
	int skip = w->offset;

	lockdep_assert_held(&en->lock);
	if (w->list < 0 || w->list >= ETCP_WALK_LISTS ||
	    w->bucket < 0 || w->bucket >= ETCP_ALL_SIZE)
		return NULL;
	node = etcp_walk_chain(en, w)->first;
	while (node && skip--)
		node = node->next;
	if (!node) {
		w->bucket++;
		return etcp_walk_chain_first(en, w);
	}
	return node;
}
EXPORT_SYMBOL_GPL(etcp_walk_resume);

/* The entry after @node (@w naming it), @w moved to it; NULL at the end. */
struct hlist_node *etcp_walk_next(struct net *net, struct etcp_walk *w,
				  struct hlist_node *node)
{
	lockdep_assert_held(&etcp_pernet(net)->lock);
	if (node->next) {
		w->offset++;
		return node->next;
	}
	w->bucket++;
	return etcp_walk_chain_first(etcp_pernet(net), w);
}
EXPORT_SYMBOL_GPL(etcp_walk_next);

/*
 * The address family of the socket @node (@w naming it) belongs to: a
 * request's is its listener's, a TIME_WAIT entry's its socket's.
 */
int etcp_walk_family(const struct etcp_walk *w, const struct hlist_node *node)
{
	switch (w->list) {
	case ETCP_WALK_SOCKS:
		return hlist_entry(node, struct etcp_sock,
				   all_node)->inet.sk.sk_family;
	case ETCP_WALK_REQS:
		return hlist_entry(node, struct etcp_request,
				   all_node)->listener->sk_family;
	default:
		return hlist_entry(node, struct etcp_tw, all_node)->family;
	}
}
EXPORT_SYMBOL_GPL(etcp_walk_family);

/* ---- bound ports ---- */

static struct hlist_head *etcp_bhash_bucket(struct etcp_net *en, u16 port)
{
	return &en->bhash[port & etcp_hash_mask];
}

/*
 * The local addresses a socket or TIME_WAIT entry holds its port on: some
 * of IPv4's (v4: one, or all when 0), some of IPv6's (v6: one, or all
 * when ::), or both.  An AF_INET6 socket bound to :: holds IPv4's too
 * unless IPV6_V6ONLY; one bound to a v4-mapped address only that one of
 * IPv4's; one bound to another address only that one (inet6_bind() makes
 * it IPV6_V6ONLY).
 */
struct etcp_local {
	bool has_v4, has_v6;
	__be32 v4;
	struct in6_addr v6;
};

static void etcp_local_of_addr(struct etcp_local *l, const struct in6_addr *a,
			       bool v6only)
{
	l->has_v4 = ipv6_addr_v4mapped(a) || (ipv6_addr_any(a) && !v6only);
	l->v4 = ipv6_addr_v4mapped(a) ? a->s6_addr32[3] : 0;
	l->has_v6 = !ipv6_addr_v4mapped(a);
	l->v6 = *a;
}

static void etcp_local_of_sk(struct etcp_local *l, const struct sock *sk)
{
	struct in6_addr a;

	if (etcp_sk_ipv6(sk)) {
		etcp_local_of_addr(l, &sk->sk_v6_rcv_saddr, sk->sk_ipv6only);
		return;
	}
	ipv6_addr_set_v4mapped(sk->sk_rcv_saddr, &a);
	etcp_local_of_addr(l, &a, false);
}

/* Do @a and @b share an address, counting the wildcards? */
static bool etcp_local_overlap(const struct etcp_local *a,
			       const struct etcp_local *b)
{
	if (a->has_v4 && b->has_v4 && (!a->v4 || !b->v4 || a->v4 == b->v4))
		return true;
	return a->has_v6 && b->has_v6 &&
	       (ipv6_addr_any(&a->v6) || ipv6_addr_any(&b->v6) ||
		ipv6_addr_equal(&a->v6, &b->v6));
}

/*
 * Would @sk bound to @port clash with @other, which already holds it?
 * The rules are TCP's for bind(): the addresses (of either family, see
 * etcp_local) and devices must overlap, and neither SO_REUSEADDR (both
 * set, @other not listening) nor SO_REUSEPORT (both set, same owner) lets
 * them share.
 */
static bool etcp_bind_conflict(const struct sock *sk, const struct sock *other)
{
	struct etcp_local a, b;

	etcp_local_of_sk(&a, sk);
	etcp_local_of_sk(&b, other);
	if (!etcp_local_overlap(&a, &b))
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
 * The same for a TIME_WAIT entry on the port, which holds its
 * connection's one local address: SO_REUSEADDR on both the new socket
 * and the one that left the entry lets them share it, as TCP's rule has
 * it; SO_REUSEPORT on both always does.
 */
static bool etcp_tw_bind_conflict(const struct sock *sk,
				  const struct etcp_tw *tw)
{
	struct etcp_local a, b;

	etcp_local_of_sk(&a, sk);
	etcp_local_of_addr(&b, &tw->laddr, true);
	if (!etcp_local_overlap(&a, &b))
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
	return &en->tw_bhash[port & etcp_hash_mask];
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

/* An IPv4 address, v4-mapped, hashes as itself. */
static u32 etcp_ehashfn(const struct in6_addr *laddr, u16 lport,
			const struct in6_addr *raddr, __be16 rport)
{
	return jhash_3words((__force u32)ipv6_addr_hash(laddr),
			    (__force u32)ipv6_addr_hash(raddr),
			    ((u32)lport << 16) | (__force u16)rport,
			    etcp_ehash_secret) & etcp_hash_mask;
}

static void __etcp_ehash_add(struct etcp_net *en, struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct in6_addr laddr, raddr;
	u32 slot;

	etcp_sk_addrs(sk, &laddr, &raddr);
	slot = etcp_ehashfn(&laddr, inet->inet_num, &raddr, inet->inet_dport);

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
	__be16 dport = inet_sk(sk)->inet_dport;
	struct in6_addr laddr, raddr, ol, or;
	struct etcp_tw *tw;
	struct sock *other;

	etcp_sk_addrs(sk, &laddr, &raddr);
	hlist_for_each_entry(tw, etcp_tw_bhash_bucket(en, port), bind_node) {
		if (ntohs(tw->lport) == port && tw->rport == dport &&
		    ipv6_addr_equal(&tw->raddr, &raddr) &&
		    (etcp_addr_any(&laddr) ||
		     ipv6_addr_equal(&tw->laddr, &laddr)))
			return true;
	}

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		if (other == sk || inet_sk(other)->inet_num != port ||
		    inet_sk(other)->inet_dport != dport)
			continue;
		etcp_sk_addrs(other, &ol, &or);
		if (ipv6_addr_equal(&or, &raddr) &&
		    (etcp_addr_any(&ol) || ipv6_addr_equal(&ol, &laddr)))
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
					     const struct in6_addr *laddr,
					     __be16 lport,
					     const struct in6_addr *raddr,
					     __be16 rport)
{
	return &en->twhash[etcp_ehashfn(laddr, ntohs(lport), raddr, rport)];
}

/* Enter @tw in the tables, under etcp_net.lock; the caller's reference. */
void etcp_tw_hash(struct etcp_net *en, struct etcp_tw *tw)
{
	struct hlist_head *head = etcp_twhash_bucket(en, &tw->laddr, tw->lport,
						     &tw->raddr, tw->rport);

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

/*
 * Is @sk the connection of a segment from @saddr to @daddr?  An IPv4
 * segment (v4-mapped addresses) belongs to an AF_INET socket or to an
 * AF_INET6 one connected to a v4-mapped address, whose IPv4 addresses
 * are set too; an IPv6 one only to an AF_INET6 socket.
 */
static bool etcp_ehash_match(const struct sock *sk,
			     const struct in6_addr *saddr, __be16 sport,
			     const struct in6_addr *daddr, u16 dport, int dif)
{
	const struct inet_sock *inet = inet_sk(sk);

	if (inet->inet_dport != sport || inet->inet_num != dport ||
	    (sk->sk_bound_dev_if && sk->sk_bound_dev_if != dif))
		return false;
	if (ipv6_addr_v4mapped(saddr))
		return (!etcp_sk_ipv6(sk) ||
			ipv6_addr_v4mapped(&sk->sk_v6_daddr)) &&
		       inet->inet_daddr == saddr->s6_addr32[3] &&
		       inet->inet_rcv_saddr == daddr->s6_addr32[3];
	return etcp_sk_ipv6(sk) && ipv6_addr_equal(&sk->sk_v6_daddr, saddr) &&
	       ipv6_addr_equal(&sk->sk_v6_rcv_saddr, daddr);
}

static struct sock *etcp_ehash_lookup(struct etcp_net *en,
				      const struct in6_addr *saddr,
				      __be16 sport,
				      const struct in6_addr *daddr, u16 dport,
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

/*
 * How well listener @sk fits a segment to @daddr: -1 not at all.  An
 * exact local address beats the wildcard, a bound device (which must
 * match) an unbound one, and for an IPv4 segment an AF_INET listener a
 * dual-stack AF_INET6 one, as TCP chooses.
 */
static int etcp_listen_score(const struct sock *sk,
			     const struct in6_addr *daddr, u16 dport, int dif)
{
	bool v4 = ipv6_addr_v4mapped(daddr);
	struct etcp_local l;
	int score = 1;

	if (inet_sk(sk)->inet_num != dport)
		return -1;
	etcp_local_of_sk(&l, sk);
	if (v4) {
		if (!l.has_v4 || (l.v4 && l.v4 != daddr->s6_addr32[3]))
			return -1;
		if (l.v4)
			score += 4;
		if (!etcp_sk_ipv6(sk))
			score++;
	} else {
		if (!l.has_v6 ||
		    (!ipv6_addr_any(&l.v6) && !ipv6_addr_equal(&l.v6, daddr)))
			return -1;
		if (!ipv6_addr_any(&l.v6))
			score += 4;
	}
	if (sk->sk_bound_dev_if) {
		if (sk->sk_bound_dev_if != dif)
			return -1;
		score += 2;
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
static struct sock *etcp_lhash_lookup(struct etcp_net *en,
				      const struct in6_addr *saddr,
				      __be16 sport,
				      const struct in6_addr *daddr, u16 dport,
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
		pick = reciprocal_scale(jhash_2words((__force u32)ipv6_addr_hash(saddr),
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
struct sock *etcp_lookup_established(struct net *net,
				     const struct in6_addr *saddr, __be16 sport,
				     const struct in6_addr *daddr, __be16 dport,
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
struct etcp_tw *etcp_tw_lookup(struct net *net, const struct in6_addr *saddr,
			       __be16 sport, const struct in6_addr *daddr,
			       __be16 dport, int dif)
{
	struct etcp_net *en = etcp_pernet(net);
	struct hlist_head *head = etcp_twhash_bucket(en, daddr, dport, saddr,
						     sport);
	struct etcp_tw *tw, *found = NULL;

	rcu_read_lock();
	hlist_for_each_entry_rcu(tw, head, node) {
		if (tw->rport == sport && tw->lport == dport &&
		    ipv6_addr_equal(&tw->raddr, saddr) &&
		    ipv6_addr_equal(&tw->laddr, daddr) &&
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
struct sock *etcp_lookup_listener(struct net *net, const struct in6_addr *saddr,
				  __be16 sport, const struct in6_addr *daddr,
				  __be16 dport, int dif)
{
	struct sock *sk;

	rcu_read_lock();
	sk = etcp_lhash_lookup(etcp_pernet(net), saddr, sport, daddr,
			       ntohs(dport), dif);
	rcu_read_unlock();
	return sk;
}
