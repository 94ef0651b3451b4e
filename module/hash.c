// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: per network namespace socket tables and local port allocation.
 *
 * etcp keeps its own tables instead of inet_hashinfo (which upstream made
 * TCP-only), so its ports never collide with TCP's: a TCP and an etcp socket
 * may both bind 10.0.0.1:80 in the same namespace, as TCP and UDP may.
 */
#include <linux/random.h>
#include <net/ip.h>
#include <net/sock.h>

#include "etcp.h"

void etcp_hash_net_init(struct etcp_net *en)
{
	int i;

	spin_lock_init(&en->lock);
	INIT_HLIST_HEAD(&en->all_socks);
	for (i = 0; i < ETCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&en->bhash[i]);
}

void etcp_hash_net_exit(struct etcp_net *en)
{
	/*
	 * A user socket holds a reference on its namespace, so none can be
	 * left when the namespace is dismantled.
	 */
	WARN_ON_ONCE(!hlist_empty(&en->all_socks));
}

void etcp_sock_list_add(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	hlist_add_head(&etcp_sk(sk)->all_node, &en->all_socks);
	spin_unlock_bh(&en->lock);
}

void etcp_sock_list_del(struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	spin_lock_bh(&en->lock);
	hlist_del_init(&etcp_sk(sk)->all_node);
	spin_unlock_bh(&en->lock);
}

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

static bool etcp_port_in_use(struct etcp_net *en, const struct sock *sk,
			     u16 port)
{
	struct sock *other;

	hlist_for_each_entry(other, etcp_bhash_bucket(en, port), sk_bind_node) {
		if (inet_sk(other)->inet_num == port &&
		    etcp_bind_conflict(sk, other))
			return true;
	}
	return false;
}

/* Pick a free port from ip_local_port_range, starting at a random one. */
static int etcp_pick_ephemeral(struct etcp_net *en, struct net *net,
			       const struct sock *sk)
{
	int low, high, range, offset, i;

	inet_get_local_port_range(net, &low, &high);
	range = high - low + 1;
	offset = get_random_u32_below(range);

	for (i = 0; i < range; i++) {
		int port = low + (offset + i) % range;

		if (inet_is_local_reserved_port(net, port))
			continue;
		if (!etcp_port_in_use(en, sk, port))
			return port;
	}
	return 0;
}

/*
 * proto->get_port: called by inet_bind() with the socket locked and
 * inet_rcv_saddr already set.  @snum 0 asks for an ephemeral port.
 */
int etcp_get_port(struct sock *sk, unsigned short snum)
{
	struct net *net = sock_net(sk);
	struct etcp_net *en = etcp_pernet(net);
	int port = snum;

	spin_lock_bh(&en->lock);
	if (!port)
		port = etcp_pick_ephemeral(en, net, sk);
	else if (etcp_port_in_use(en, sk, port))
		port = 0;
	if (port) {
		inet_sk(sk)->inet_num = port;
		hlist_add_head(&sk->sk_bind_node, etcp_bhash_bucket(en, port));
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
