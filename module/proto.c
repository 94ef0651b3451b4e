// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the socket calls.  struct proto holds what the socket layer calls
 * on a struct sock, struct proto_ops what it calls on a struct socket.
 *
 * connect() goes through inet_stream_connect(), which is generic over TCP's
 * state numbers (ours), and accept() through inet_accept(); listen() is our
 * own, as inet_listen() is bound to inet_connection_sock.
 */
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/transp_v6.h>
#include <net/route.h>
#include <net/sock.h>
#include <net/xfrm.h>

#include "etcp.h"
#include "compat.h"
#include "trace.h"

/*
 * Every state change goes through here, so that the sock:inet_sock_set_state
 * tracepoint sees etcp's transitions as it sees TCP's.  Entering CLOSE takes
 * the socket out of the lookup tables and gives back a port the user did
 * not bind explicitly.  Staying in a state is no change, and the tracepoint
 * must not say it is (an abort of a closed socket, disconnect() after a
 * failed connect(): TCP skips those too).
 */
void etcp_set_state(struct sock *sk, int state)
{
	int old = sk->sk_state;

	if (state == old)
		return;
	if (state == TCP_CLOSE && old != TCP_CLOSE) {
		if (old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT)
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ESTABRESETS);
		sk->sk_prot->unhash(sk);
		if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
			etcp_put_port(sk);
	}
	inet_sk_set_state(sk, state);
}

/*
 * Drop what can no longer be sent or put in order: the write queue and the
 * out-of-order queue.  What the reader has not read yet stays readable.
 */
static void etcp_purge_send(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		etcp_wmem_free_skb(sk, skb);
	esk->send_head = NULL;
	esk->packets_out = 0;
	esk->sacked_out = 0;
	esk->lost_out = 0;
	esk->retrans_out = 0;
	__skb_queue_purge(&esk->ooo_queue);
	esk->num_sacks = 0;
}

/* Every queue: the connection and its data are gone. */
void etcp_purge_queues(struct sock *sk)
{
	etcp_purge_send(sk);
	__skb_queue_purge(&sk->sk_receive_queue);
	sk_mem_reclaim(sk);
}

/*
 * What the reader has not read yet goes, on disconnect (connect() with
 * AF_UNSPEC).  RCV.NXT is left as it was for ETCP_INFO.
 */
void etcp_discard_unread(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	__skb_queue_purge(&sk->sk_receive_queue);
	/* copied_seq first: a lockless etcp_inq() reads 0 from here on. */
	WRITE_ONCE(esk->copied_seq, esk->rcv_nxt);
	WRITE_ONCE(esk->fin_rcvd, 0);
	sk_mem_reclaim(sk);
}

static void etcp_destroy_sock(struct sock *sk);

/*
 * The end of an orphan: the application closed it long ago, its close is
 * over now.  The reference the socket layer held passed to etcp in
 * etcp_close(); it goes here.  Called with the socket's spinlock held.
 */
static void etcp_destroy_orphan(struct sock *sk)
{
	WARN_ON_ONCE(!sock_flag(sk, SOCK_DEAD));
	WARN_ON_ONCE(sk->sk_state != TCP_CLOSE);
	etcp_destroy_sock(sk);
	xfrm_sk_free_policy(sk);
	atomic_dec(&etcp_pernet(sock_net(sk))->orphans);
	sock_put(sk);
}

/*
 * The connection is over: CLOSE, no timers, and wake whoever waits; an
 * orphan has nobody left to tell and goes.
 */
void etcp_done(struct sock *sk)
{
	/*
	 * An orphan leaves /proc/net/etcp before its state is CLOSE, as TCP's
	 * leaves its hash first: an ownerless row in CLOSE would be one that
	 * was never freed.  etcp_destroy_sock() finds it gone.
	 */
	if (sock_flag(sk, SOCK_DEAD))
		etcp_sock_list_del(sk);
	etcp_set_state(sk, TCP_CLOSE);
	etcp_clear_timers(sk);
	etcp_purge_send(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
	else
		etcp_destroy_orphan(sk);
}

/* The connection failed or was reset: report @err, then close. */
void etcp_reset(struct sock *sk, int err)
{
	WRITE_ONCE(sk->sk_err, err);
	/* Pairs with the barrier in etcp_poll(). */
	smp_wmb();
	etcp_done(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk_error_report(sk);
}

/*
 * The MSS we announce for a route MTU under an IP header of @nethdr bytes:
 * MTU - 40 over IPv4 (RFC 9293 3.7.1), MTU - 60 over IPv6, no more than
 * ETCP_MAXSEG asks.
 */
u16 etcp_mss_for_mtu(const struct sock *sk, unsigned int mtu,
		     unsigned int nethdr)
{
	unsigned int hdrs = nethdr + sizeof(struct tcphdr);
	unsigned int mss = mtu > hdrs ? mtu - hdrs : 0;
	u16 user = etcp_sk(sk)->user_mss;

	if (user && user < mss)
		mss = user;
	return clamp_t(unsigned int, mss, ETCP_MIN_MSS, ETCP_MAX_MSS);
}

/*
 * The connection is synchronized (either end): the send and receive
 * sides start from the numbers the handshake settled.
 */
void etcp_init_transfer(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->snd_max = esk->snd_nxt;
	esk->write_seq = esk->snd_nxt;	/* tx_queue 1 in SYN_SENT, as TCP */
	esk->snd_sml = esk->snd_una;
	esk->max_window = esk->snd_wnd;
	etcp_pmtu_init(sk);
	etcp_sync_mss(sk);
	esk->send_head = NULL;
	esk->packets_out = 0;
	esk->sacked_out = 0;
	esk->lost_out = 0;
	esk->retrans_out = 0;
	WRITE_ONCE(esk->copied_seq, esk->rcv_nxt);
	esk->rcv_wup = esk->rcv_nxt;
	esk->ack_sent = esk->rcv_nxt;
	esk->rcv_mss = min_t(u16, esk->advmss, ETCP_DEFAULT_MSS);
	etcp_rcv_space_init(sk);
	/* No data yet: the first that comes starts the quick ACKs. */
	esk->data_rcvd = 0;
	esk->quick = 0;
	esk->ack_sched = 0;
	esk->rcv_tstamp = jiffies;
	esk->probes_out = 0;
	esk->keepalive_probes = 0;
	esk->backoff = 0;
	WRITE_ONCE(esk->fin_rcvd, 0);
	etcp_cong_init(sk);
	etcp_sndbuf_expand(sk);
	if (sock_flag(sk, SOCK_KEEPOPEN))
		etcp_keepalive_restart(sk);
}

/* proto->keepalive: SO_KEEPALIVE, under the socket lock. */
static void etcp_set_keepalive(struct sock *sk, int on)
{
	if (!etcp_keepalive_state(sk))
		return;
	if (on && !sock_flag(sk, SOCK_KEEPOPEN))
		etcp_keepalive_restart(sk);
	else if (!on)
		sk_stop_timer(sk, &sk->sk_timer);
}

static int etcp_init_sock(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->af = etcp_sk_ipv6(sk) ? &etcp_ipv6_ops : &etcp_ipv4_ops;
	skb_queue_head_init(&esk->ooo_queue);
	sk->sk_write_space = etcp_write_space;
	esk->lq = NULL;
	INIT_LIST_HEAD(&esk->accept_node);
	etcp_init_timers(sk);
	/*
	 * Linux TCP's send buffer to start with (tcp_wmem[1]), which grows
	 * with the connection's window.  The receive buffer stays at
	 * net.core.rmem_default: etcp's receive queue holds segments less
	 * densely than TCP's coalesced buffers, and tcp_rmem[1] would not
	 * take a window's worth of unread data (README).
	 */
	WRITE_ONCE(sk->sk_sndbuf, ETCP_WMEM_DEFAULT);
	esk->snd_mss = ETCP_DEFAULT_MSS;
	esk->mss_clamp = ETCP_DEFAULT_MSS;
	esk->rto = ETCP_TIMEOUT_INIT;
	etcp_cong_init(sk);
	/* Lookups run under RCU only: free the memory after a grace period. */
	sock_set_flag(sk, SOCK_RCU_FREE);
	etcp_sock_list_add(sk);
	return 0;
}

/* proto->destroy: the last call before the socket's memory goes. */
static void etcp_destroy_sock(struct sock *sk)
{
	etcp_clear_timers(sk);
	etcp_purge_queues(sk);
	etcp_put_port(sk);
	etcp_sock_list_del(sk);
	etcp_listener_free(sk);
}

/*
 * proto->connect (through compat.h), under the socket lock
 * (inet_stream_connect()).
 */
int etcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	__be16 orig_sport, orig_dport;
	struct flowi4 *fl4;
	struct rtable *rt;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (usin->sin_family != AF_INET)
		return -EAFNOSUPPORT;

	orig_sport = inet->inet_sport;
	orig_dport = usin->sin_port;
	fl4 = &inet->cork.fl.u.ip4;
	rt = ip_route_connect(fl4, usin->sin_addr.s_addr, inet->inet_saddr,
			      sk->sk_bound_dev_if, etcp_proto_num, orig_sport,
			      orig_dport, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}

	if (!inet->inet_saddr)
		inet->inet_saddr = fl4->saddr;
	if (!inet->inet_rcv_saddr)
		inet->inet_rcv_saddr = inet->inet_saddr;
	inet->inet_dport = usin->sin_port;
	inet->inet_daddr = fl4->daddr;

	etcp_set_state(sk, TCP_SYN_SENT);
	err = etcp_connect_hash(sk);
	if (err)
		goto failure;

	rt = ip_route_newports(fl4, rt, orig_sport, orig_dport,
			       inet->inet_sport, inet->inet_dport, sk);
	if (IS_ERR(rt)) {
		err = PTR_ERR(rt);
		rt = NULL;
		goto failure;
	}
	etcp_setup_caps(sk, &rt->dst);
	etcp_connect_init(sk, dst_mtu(&rt->dst));
	return 0;

failure:
	etcp_set_state(sk, TCP_CLOSE);
	if (rt)
		ip_rt_put(rt);
	inet->inet_dport = 0;
	return err;
}

/*
 * A connect() of either family that has its route (MTU @mtu) and its
 * 4-tuple: the MSS, the ISS (RFC 6528) and the SYN.
 */
void etcp_connect_init(struct sock *sk, unsigned int mtu)
{
	struct inet_sock *inet = inet_sk(sk);
	struct etcp_sock *esk = etcp_sk(sk);
	struct in6_addr laddr, raddr;

	esk->pmtu = mtu;
	esk->advmss = etcp_mss_for_mtu(sk, mtu, esk->af->net_header_len);
	esk->wscale_ok =
		!!READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.window_scaling);
	esk->rcv_wscale = esk->wscale_ok ? etcp_rcv_wscale(sk) : 0;
	esk->snd_wscale = 0;
	esk->sack_ok = !!READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.sack);
	esk->mss_clamp = etcp_peer_mss(esk, 0);
	esk->snd_mss = esk->mss_clamp;
	etcp_sk_addrs(sk, &laddr, &raddr);
	esk->iss = etcp_isn(sock_net(sk), &laddr, &raddr, inet->inet_sport,
			    inet->inet_dport);
	esk->snd_una = esk->iss;
	esk->snd_nxt = esk->iss + 1;	/* the SYN takes one (RFC 9293 3.4) */
	esk->snd_max = esk->snd_nxt;
	esk->irs = 0;
	esk->rcv_nxt = 0;
	esk->retransmits = 0;
	esk->rto = ETCP_TIMEOUT_INIT;
	esk->active_open = 1;
	esk->syn_us = etcp_clock_us();
	atomic_set(&inet->inet_id, get_random_u16());
	/* An error of the previous connection (disconnect) is not this one's. */
	WRITE_ONCE(sk->sk_err, 0);

	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ACTIVEOPENS);
	etcp_send_syn(sk);
	etcp_arm_rtx(sk, esk->rto);
}

/*
 * Leave the current connection the way an ABORT call does (RFC 9293
 * 3.10.5): a synchronized connection is reset, a listener resets what it
 * holds, and a SYN_SENT attempt just stops.
 */
static void etcp_abort(struct sock *sk)
{
	int old = sk->sk_state;

	if (etcp_state_synchronized(old))
		etcp_send_active_reset(sk);
	etcp_set_state(sk, TCP_CLOSE);
	etcp_clear_timers(sk);
	etcp_purge_queues(sk);
	if (old == TCP_LISTEN)
		etcp_listen_purge(sk);
}

/*
 * proto->disconnect: connect(AF_UNSPEC), shutdown() of a listener or of a
 * connecting socket, and a connect() given up.  The socket can connect or
 * listen again afterwards.
 */
static int etcp_disconnect(struct sock *sk, int flags)
{
	struct inet_sock *inet = inet_sk(sk);
	int old = sk->sk_state;

	etcp_abort(sk);
	if (etcp_state_synchronized(old) || old == TCP_SYN_SENT)
		WRITE_ONCE(sk->sk_err, ECONNRESET);

	inet->inet_dport = 0;
	inet->inet_daddr = 0;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet->inet_saddr = 0;
		inet->inet_rcv_saddr = 0;
	}
	if (etcp_sk_ipv6(sk)) {
		sk->sk_v6_daddr = in6addr_any;
		if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
			sk->sk_v6_rcv_saddr = in6addr_any;
			inet6_sk(sk)->saddr = in6addr_any;
		}
		etcp_sk(sk)->af = &etcp_ipv6_ops;
	}
	WRITE_ONCE(sk->sk_shutdown, 0);
	sock_reset_flag(sk, SOCK_DONE);
	etcp_sk(sk)->write_seq = etcp_sk(sk)->snd_una;
	etcp_discard_unread(sk);
	sk_dst_reset(sk);
	sk_error_report(sk);
	return 0;
}

/*
 * The CLOSE call (RFC 9293 3.10.4) and shutdown(SHUT_WR): the state the
 * connection moves to, and whether that takes a FIN.
 */
static bool etcp_close_state(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
		etcp_set_state(sk, TCP_FIN_WAIT1);
		return true;
	case TCP_CLOSE_WAIT:
		etcp_set_state(sk, TCP_LAST_ACK);
		return true;
	default:
		/* A FIN is on its way already, or there is nothing to end. */
		return false;
	}
}

/* proto->shutdown, from inet_shutdown() with the socket locked. */
static void etcp_shutdown(struct sock *sk, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	/* In SYN_RECV the FIN waits for ESTABLISHED (etcp_established()). */
	if (etcp_close_state(sk))
		etcp_send_fin(sk, sk->sk_allocation);
}

/* What close() does to the connection before the socket is orphaned. */
static void etcp_close_connection(struct sock *sk)
{
	if (sk->sk_state == TCP_CLOSE) {
		/* Never connected, or reset already: nothing to tell. */
		etcp_purge_queues(sk);
	} else if (sk->sk_state == TCP_LISTEN || sk->sk_state == TCP_SYN_SENT) {
		etcp_abort(sk);
	} else if (sk->sk_state == TCP_SYN_RECV) {
		/*
		 * Only a simultaneous open leaves a full socket in SYN_RECV;
		 * its close resets rather than queueing a FIN for later.
		 */
		etcp_abort(sk);
	} else if (etcp_inq(etcp_sk(sk))) {
		/*
		 * RFC 1122 4.2.2.13, RFC 2525 2.17: data the application will
		 * never read is lost; say so with an RST rather than a FIN.
		 */
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONCLOSE);
		trace_etcp_orphan_reset(sk, ETCP_ORPHR_UNREAD);
		etcp_abort(sk);
	} else if (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime) {
		/* SO_LINGER {1, 0}: the abortive close (RFC 9293 3.10.5). */
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONDATA);
		trace_etcp_orphan_reset(sk, ETCP_ORPHR_LINGER_ZERO);
		etcp_abort(sk);
	} else if (etcp_close_state(sk)) {
		etcp_send_fin(sk, sk->sk_allocation);
	}
}

/*
 * SO_LINGER {1, n}: close() waits up to @timeout for the FIN to be
 * acknowledged, that is while the connection is in FIN_WAIT_1, CLOSING or
 * LAST_ACK, or until a signal.  A state change wakes the sleeper
 * (sk_state_change); sk_wait_event() drops the socket lock meanwhile, so
 * the backlog that brings the ACK is processed.
 */
static void etcp_linger_wait(struct sock *sk, long timeout)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	if (!timeout)
		return;
	add_wait_queue(sk_sleep(sk), &wait);
	while (timeout && !signal_pending(current)) {
		if (sk_wait_event(sk, &timeout,
				  !((1 << sk->sk_state) &
				    (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK)),
				  &wait))
			break;
	}
	remove_wait_queue(sk_sleep(sk), &wait);
}

/*
 * proto->close.  The connection ends as the application asked (FIN, or RST
 * for an abort), SO_LINGER {1, n} waits for the FIN to be acknowledged,
 * and the socket becomes an orphan that finishes its close on its own
 * (FIN_WAIT_1/2, CLOSING, LAST_ACK) and is destroyed when it reaches
 * CLOSE (etcp_done()).  As for TCP, the orphan is reset instead when
 * there are too many (etcp_max_orphans).
 */
static void etcp_close(struct sock *sk, long timeout)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	etcp_close_connection(sk);
	etcp_linger_wait(sk, timeout);

	/*
	 * Orphan it while still owning it, so that neither the backlog nor
	 * a timer sees an orphan before its FIN_WAIT_2 timer and the orphan
	 * limit are settled; release_sock() then runs both as an orphan's.
	 * The reference held here outlives a destruction in between.
	 */
	sock_hold(sk);
	sock_orphan(sk);
	atomic_inc(&en->orphans);

	local_bh_disable();
	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE) {
		etcp_destroy_orphan(sk);
	} else if (sk->sk_state != TCP_FIN_WAIT2 ||
		   etcp_orphan_fin_wait2(sk)) {
		etcp_orphan_out_of_resources(sk);
	}
	bh_unlock_sock(sk);
	local_bh_enable();
	release_sock(sk);
	sock_put(sk);
}

/* Sleep until the accept queue has a child, like inet_csk_accept(). */
static int etcp_wait_for_child(struct sock *sk, long timeo)
{
	struct etcp_listener *lq = etcp_sk(sk)->lq;
	DEFINE_WAIT(wait);
	int err;

	for (;;) {
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (list_empty_careful(&lq->accept_queue))
			timeo = schedule_timeout(timeo);
		sched_annotate_sleep();
		lock_sock(sk);
		err = 0;
		if (!list_empty(&lq->accept_queue))
			break;
		err = -EINVAL;
		if (sk->sk_state != TCP_LISTEN)
			break;
		err = sock_intr_errno(timeo);
		if (signal_pending(current))
			break;
		err = -EAGAIN;
		if (!timeo)
			break;
	}
	finish_wait(sk_sleep(sk), &wait);
	return err;
}

/* proto->accept (through compat.h): the oldest established child. */
struct sock *etcp_accept(struct sock *sk, int flags, int *err)
{
	struct etcp_sock *child = NULL;
	struct etcp_listener *lq;
	int error;

	lock_sock(sk);
	error = -EINVAL;
	if (sk->sk_state != TCP_LISTEN)
		goto out;
	lq = etcp_sk(sk)->lq;

	if (list_empty(&lq->accept_queue)) {
		long timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);

		error = -EAGAIN;
		if (!timeo)
			goto out;
		error = etcp_wait_for_child(sk, timeo);
		if (error)
			goto out;
	}
	child = list_first_entry(&lq->accept_queue, struct etcp_sock,
				 accept_node);
	list_del_init(&child->accept_node);
	sk_acceptq_removed(sk);
	error = 0;
out:
	release_sock(sk);
	*err = error;
	return child ? &child->inet.sk : NULL;
}

static int etcp_listen_start(struct sock *sk)
{
	struct inet_sock *inet = inet_sk(sk);
	int err;

	/* listen() without bind() takes an ephemeral port, as TCP's does. */
	if (!inet->inet_num) {
		err = etcp_get_port(sk, 0);
		if (err)
			return err;
		inet->inet_sport = htons(inet->inet_num);
	}
	sk_dst_reset(sk);
	etcp_set_state(sk, TCP_LISTEN);
	err = etcp_listen_hash(sk);
	if (err)
		etcp_set_state(sk, TCP_CLOSE);
	return err;
}

/* proto_ops->listen; a second call only changes the backlog. */
static int etcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err = -EINVAL;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED ||
	    !((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN)))
		goto out;

	/* The table first: a listening socket must be able to queue. */
	err = etcp_syn_table_fit(sk, backlog);
	if (err)
		goto out;
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (sk->sk_state != TCP_LISTEN) {
		err = etcp_listen_start(sk);
		if (err)
			etcp_syn_table_free(sk);
	}
out:
	release_sock(sk);
	return err;
}

/*
 * ETCP_INFO of @sk.  getsockopt() holds the socket lock; sock_diag
 * (etcp_diag.ko) reads without it, as /proc/net/etcp does, and may see
 * fields from either side of a segment.
 */
void etcp_get_info(const struct sock *sk, struct etcp_info *info)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	memset(info, 0, sizeof(*info));
	info->etcpi_state = sk->sk_state;
	info->etcpi_retransmits = esk->retransmits;
	info->etcpi_backoff = esk->backoff;
	info->etcpi_orphan = sock_flag(sk, SOCK_DEAD);
	info->etcpi_rto = jiffies_to_usecs(etcp_rto_backoff(esk));
	info->etcpi_srtt = esk->srtt_us;
	info->etcpi_rttvar = esk->rttvar_us;
	info->etcpi_snd_mss = esk->snd_mss;
	info->etcpi_rcv_mss = esk->advmss;
	info->etcpi_iss = esk->iss;
	info->etcpi_irs = esk->irs;
	info->etcpi_snd_una = esk->snd_una;
	info->etcpi_snd_nxt = esk->snd_nxt;
	info->etcpi_rcv_nxt = esk->rcv_nxt;
	info->etcpi_snd_wnd = esk->snd_wnd;
	/* As the peer read it: our edge may lie up to a scale unit on. */
	info->etcpi_rcv_wnd = esk->rcv_wnd >> esk->rcv_wscale << esk->rcv_wscale;
	info->etcpi_snd_cwnd = esk->snd_cwnd;
	info->etcpi_snd_ssthresh = esk->snd_ssthresh;
	info->etcpi_total_retrans = esk->total_retrans;
	info->etcpi_segs_out = esk->segs_out;
	info->etcpi_segs_in = esk->segs_in;
	info->etcpi_bytes_acked = esk->bytes_acked;
	info->etcpi_bytes_received = esk->bytes_received;
	info->etcpi_pmtu = esk->pmtu;
	if (esk->wscale_ok && sk->sk_state != TCP_SYN_SENT) {
		info->etcpi_snd_wscale = esk->snd_wscale;
		info->etcpi_rcv_wscale = esk->rcv_wscale;
	}
	info->etcpi_rcv_rtt = esk->rcv_rtt_us;
	info->etcpi_rcv_space = esk->rcvq_space;
}
EXPORT_SYMBOL_GPL(etcp_get_info);

static int etcp_getsockopt_info(struct sock *sk, char __user *optval,
				int __user *optlen)
{
	struct etcp_info info;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	lock_sock(sk);
	etcp_get_info(sk, &info);
	release_sock(sk);

	/* Copy what the caller has room for, so etcp_info may grow. */
	len = min_t(unsigned int, len, sizeof(info));
	if (copy_to_user(optval, &info, len))
		return -EFAULT;
	if (put_user(len, optlen))
		return -EFAULT;
	return 0;
}

static int etcp_getsockopt_int(int val, char __user *optval,
			       int __user *optlen)
{
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

static int etcp_getsockopt(struct sock *sk, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	if (level != SOL_ETCP)
		return etcp_sk_ipv6(sk) ?
			ipv6_getsockopt(sk, level, optname, optval, optlen) :
			ip_getsockopt(sk, level, optname, optval, optlen);

	switch (optname) {
	case ETCP_INFO:
		return etcp_getsockopt_info(sk, optval, optlen);
	case ETCP_SYNCNT:
		return etcp_getsockopt_int(esk->syn_retries ? esk->syn_retries :
			READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.syn_retries),
			optval, optlen);
	case ETCP_MAXSEG:
		/* As TCP_MAXSEG: the MSS in use once connected, else the clamp. */
		if ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN))
			return etcp_getsockopt_int(esk->user_mss ? esk->user_mss :
						   ETCP_DEFAULT_MSS,
						   optval, optlen);
		return etcp_getsockopt_int(esk->snd_mss, optval, optlen);
	case ETCP_NODELAY:
		return etcp_getsockopt_int(esk->nodelay, optval, optlen);
	case ETCP_QUICKACK:
		return etcp_getsockopt_int(!esk->pingpong, optval, optlen);
	case ETCP_CORK:
		return etcp_getsockopt_int(esk->corked, optval, optlen);
	case ETCP_KEEPIDLE:
		return etcp_getsockopt_int(etcp_keepalive_time(sk), optval,
					   optlen);
	case ETCP_KEEPINTVL:
		return etcp_getsockopt_int(etcp_keepalive_intvl(sk), optval,
					   optlen);
	case ETCP_KEEPCNT:
		return etcp_getsockopt_int(etcp_keepalive_probes(sk), optval,
					   optlen);
	case ETCP_LINGER2:
		return etcp_getsockopt_int(READ_ONCE(esk->linger2) < 0 ? -1 :
					   etcp_fin_timeout(sk), optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

/*
 * ETCP_QUICKACK, as TCP_QUICKACK: 0 delays ACKs (pingpong) until a delayed
 * ACK has to go alone; otherwise an ACK owed for data already read goes
 * now, and an even value delays the later ones again.
 */
static void etcp_set_quickack(struct sock *sk, int val)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->pingpong = !val;
	if (!val)
		return;
	/*
	 * An ACK owed goes now, if everything received was read; only then
	 * does an even value go back to the interactive mode, as Linux's
	 * __tcp_sock_set_quickack() does it.
	 */
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT)) ||
	    !esk->ack_pending)
		return;
	if (esk->copied_seq == esk->rcv_nxt)
		etcp_send_ack(sk);
	if (!(val & 1))
		esk->pingpong = 1;
}

/* Bounds are TCP's for the same options; out of range is EINVAL. */
static int etcp_setsockopt_int(struct sock *sk, int optname, int val)
{
	struct etcp_sock *esk = etcp_sk(sk);

	switch (optname) {
	case ETCP_SYNCNT:
		if (val < 1 || val > ETCP_MAX_SYNCNT)
			return -EINVAL;
		esk->syn_retries = val;
		return 0;
	case ETCP_MAXSEG:
		if (val && (val < ETCP_MIN_MSS || val > ETCP_MAX_MSS))
			return -EINVAL;
		esk->user_mss = val;
		return 0;
	case ETCP_NODELAY:
		esk->nodelay = !!val;
		/* What Nagle held back may go now, as TCP_NODELAY pushes. */
		if (val)
			etcp_write_xmit(sk, ETCP_XMIT_PUSH);
		return 0;
	case ETCP_QUICKACK:
		etcp_set_quickack(sk, val);
		return 0;
	case ETCP_CORK:
		esk->corked = !!val;
		/* Uncorked, what was held goes as Nagle and ETCP_NODELAY let it. */
		if (!val)
			etcp_write_xmit(sk, ETCP_XMIT_NAGLE);
		return 0;
	case ETCP_KEEPIDLE:
		if (val < 1 || val > ETCP_MAX_KEEPIDLE)
			return -EINVAL;
		esk->keepidle = val;
		if (sock_flag(sk, SOCK_KEEPOPEN) && etcp_keepalive_state(sk))
			etcp_keepalive_restart(sk);
		return 0;
	case ETCP_KEEPINTVL:
		if (val < 1 || val > ETCP_MAX_KEEPINTVL)
			return -EINVAL;
		esk->keepintvl = val;
		return 0;
	case ETCP_KEEPCNT:
		if (val < 1 || val > ETCP_MAX_KEEPCNT)
			return -EINVAL;
		esk->keepcnt = val;
		return 0;
	case ETCP_LINGER2:
		/* As TCP_LINGER2, but past etcp_fin_timeout's range: EINVAL. */
		if (val > ETCP_MAX_FIN_TIMEOUT)
			return -EINVAL;
		WRITE_ONCE(esk->linger2, val < 0 ? -1 : val);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int etcp_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	int val, err;

	if (level != SOL_ETCP)
		return etcp_sk_ipv6(sk) ?
			ipv6_setsockopt(sk, level, optname, optval, optlen) :
			ip_setsockopt(sk, level, optname, optval, optlen);

	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	err = etcp_setsockopt_int(sk, optname, val);
	release_sock(sk);
	return err;
}

struct proto etcp_prot = {
	.name		= "ETCP",
	.owner		= THIS_MODULE,
	.close		= etcp_close,
	.shutdown	= etcp_shutdown,
	.connect	= etcp_compat_connect,
	.disconnect	= etcp_disconnect,
	.accept		= etcp_compat_accept,
	.init		= etcp_init_sock,
	.destroy	= etcp_destroy_sock,
	.setsockopt	= etcp_setsockopt,
	.getsockopt	= etcp_getsockopt,
	.keepalive	= etcp_set_keepalive,
	.ioctl		= etcp_compat_ioctl,
	.sendmsg	= etcp_sendmsg,
	.recvmsg	= etcp_compat_recvmsg,
	.backlog_rcv	= etcp_backlog_rcv,
	.release_cb	= etcp_release_cb,
	.unhash		= etcp_unhash,
	.get_port	= etcp_get_port,
	.put_port	= etcp_put_port,
	.obj_size	= sizeof(struct etcp_sock),
	.slab_flags	= ETCP_PROTO_SLAB_FLAGS,
	/*
	 * A stream socket gets its port from bind() or connect(), never
	 * from a send() before either (which fails with EPIPE), as TCP's.
	 */
	.no_autobind	= true,
};

/*
 * AF_INET6 sockets make the same calls, on a larger object with the IPv6
 * part at its end, and their connect() knows IPv6 and v4-mapped
 * addresses.  Filled in from etcp_prot, so that the two never differ in
 * anything else, before either is registered.
 */
struct proto etcpv6_prot;

void etcp_proto_v6_fill(void)
{
	etcpv6_prot = etcp_prot;
	strscpy(etcpv6_prot.name, "ETCPv6", sizeof(etcpv6_prot.name));
	etcpv6_prot.connect = etcp_compat_connect6;
	etcpv6_prot.obj_size = sizeof(struct etcp6_sock);
	etcp_compat_set_ipv6_pinfo(&etcpv6_prot,
				   offsetof(struct etcp6_sock, inet6));
}

const struct proto_ops etcp6_stream_ops = {
	.family		= PF_INET6,
	.owner		= THIS_MODULE,
	.release	= inet6_release,
	.bind		= inet6_bind,
	.connect	= inet_stream_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= inet_accept,
	.getname	= inet6_getname,
	.poll		= etcp_poll,
	.ioctl		= inet6_ioctl,
	.listen		= etcp_listen,
	.shutdown	= inet_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= inet_sendmsg,
	.recvmsg	= inet_recvmsg,
	.mmap		= sock_no_mmap,
#ifdef CONFIG_COMPAT
	.compat_ioctl	= inet6_compat_ioctl,
#endif
};

const struct proto_ops etcp_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= inet_release,
	.bind		= inet_bind,
	.connect	= inet_stream_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= inet_accept,
	.getname	= inet_getname,
	.poll		= etcp_poll,
	.ioctl		= inet_ioctl,
	.listen		= etcp_listen,
	.shutdown	= inet_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= inet_sendmsg,
	.recvmsg	= inet_recvmsg,
	.mmap		= sock_no_mmap,
};
