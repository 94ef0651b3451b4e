// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the byte stream as the application sees it.  sendmsg() copies
 * into the write queue and hands it to output.c; recvmsg() copies out of
 * the receive queue that input.c fills; poll() and the queue ioctls report
 * on both.  All of it under the socket lock, with softirq input going to
 * the backlog meanwhile.
 *
 * The write queue holds skbs of up to a super-segment's worth each (as
 * TCP's does: etcp_xmit_size_goal()), data in page fragments (the linear
 * part is left for the headers); output.c cuts one where less of it may
 * leave, and counts what is in flight in segments.  No checksum is
 * summed here: most data leaves in super-segments whose checksums the
 * device completes (output.c), and a segment sent alone is summed when it
 * goes.  Each skb's truesize is charged to sk_wmem_queued, bounded by
 * sk_sndbuf.
 */
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <asm/ioctls.h>
#include <linux/sockios.h>
#include <linux/uio.h>
#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "etcp.h"
#include "compat.h"

/* sk_stream_memory_free() without TCP's hook: the send buffer's bound. */
static bool etcp_wmem_free(const struct sock *sk)
{
	return READ_ONCE(sk->sk_wmem_queued) < READ_ONCE(sk->sk_sndbuf);
}

/* Writable as sk_stream counts it: a third of the buffer free. */
static bool etcp_stream_writeable(const struct sock *sk)
{
	return etcp_wmem_free(sk) &&
	       sk_stream_wspace(sk) >= sk_stream_min_wspace(sk);
}

/*
 * Room in the send buffer for twice the congestion window, and at least
 * twice the initial window, each segment counted as Linux counts one sent
 * without GSO: a power-of-two head for the MSS, the headers and the
 * shared info, plus the sk_buff (tcp_sndbuf_expand(); RFC 5681 3.2's fast
 * recovery may need the factor 2).  So SO_SNDBUF starts at tcp_wmem[1]
 * and reads as TCP's once connected, 87040 for an MSS of 1460 on x86-64.
 * Not when the application set SO_SNDBUF itself; never past tcp_wmem[2].
 */
void etcp_sndbuf_expand(struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	u32 per_mss, nr_segs;

	if (sk->sk_userlocks & SOCK_SNDBUF_LOCK)
		return;
	per_mss = max_t(u32, esk->mss_clamp, esk->snd_mss) + MAX_TCP_HEADER +
		  SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
	per_mss = roundup_pow_of_two(per_mss) +
		  SKB_DATA_ALIGN(sizeof(struct sk_buff));
	nr_segs = max_t(u32, ETCP_INIT_CWND, esk->snd_cwnd);
	if (READ_ONCE(sk->sk_sndbuf) < 2 * nr_segs * per_mss)
		WRITE_ONCE(sk->sk_sndbuf, min_t(u32, 2 * nr_segs * per_mss,
						ETCP_WMEM_MAX));
}

/*
 * sk->sk_write_space: ACKs freed write-queue memory.  Writers sleeping in
 * sk_stream_wait_memory() or poll() wake once a third of the buffer is
 * free again, not for every freed segment.
 */
void etcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !test_bit(SOCK_NOSPACE, &sock->flags) ||
	    !etcp_stream_writeable(sk))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/*
 * The write queue's last skb, if it never left and has room for more of
 * its @size_goal.
 */
static struct sk_buff *etcp_write_tail(struct sock *sk, u32 size_goal)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (!skb || skb->len >= size_goal)
		return NULL;
	/* Below SND.MAX it was sent: a clone may share its fragments. */
	if (etcp_before(ETCP_SKB_CB(skb)->seq, esk->snd_max))
		return NULL;
	return skb;
}

/*
 * A new, empty skb at the end of the write queue, charged to the socket;
 * also the FIN's (etcp_send_fin()).
 */
struct sk_buff *etcp_write_new(struct sock *sk, gfp_t gfp)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct etcp_skb_cb *cb;
	struct sk_buff *skb;

	skb = __alloc_skb(ETCP_MAX_HEADER, gfp, SKB_ALLOC_FCLONE, NUMA_NO_NODE);
	if (!skb)
		return NULL;
	skb_reserve(skb, ETCP_MAX_HEADER);
	skb->ip_summed = CHECKSUM_NONE;

	cb = ETCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = esk->write_seq;
	cb->end_seq = esk->write_seq;

	sk_wmem_queued_add(sk, skb->truesize);
	sk_mem_charge(sk, skb->truesize);
	__skb_queue_tail(&sk->sk_write_queue, skb);
	if (!esk->send_head)
		esk->send_head = skb;
	return skb;
}

/*
 * Copy up to @copy bytes from the user into @skb's page fragments, the
 * socket's page_frag as the allocator.  Returns the bytes copied, 0 when
 * @skb has no fragment slot left, or -errno.
 */
static int etcp_copy_to_skb(struct sock *sk, struct sk_buff *skb,
			    struct msghdr *msg, int copy)
{
	struct page_frag *pfrag = sk_page_frag(sk);
	int i = skb_shinfo(skb)->nr_frags;
	struct etcp_sock *esk = etcp_sk(sk);
	void *vaddr;
	bool merge;

	if (!sk_page_frag_refill(sk, pfrag))
		return -ENOMEM;
	merge = skb_can_coalesce(skb, i, pfrag->page, pfrag->offset);
	if (!merge && i >= MAX_SKB_FRAGS)
		return 0;
	copy = min_t(int, copy, pfrag->size - pfrag->offset);

	vaddr = page_address(pfrag->page) + pfrag->offset;
	if (!copy_from_iter_full(vaddr, copy, &msg->msg_iter))
		return -EFAULT;

	if (merge) {
		skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
	} else {
		skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset, copy);
		get_page(pfrag->page);
	}
	pfrag->offset += copy;
	skb->len += copy;
	skb->data_len += copy;
	skb->truesize += copy;
	sk_wmem_queued_add(sk, copy);
	sk_mem_charge(sk, copy);

	ETCP_SKB_CB(skb)->end_seq += copy;
	WRITE_ONCE(esk->write_seq, esk->write_seq + copy);
	return copy;
}

/*
 * Drop the write queue's tail if it is an skb this write queued (by
 * etcp_write_new()) and put no byte in: the copy into it faulted, or the
 * write waits or ends first.  Sent, it would be a segment without data,
 * which takes no sequence number and so is never acknowledged: the
 * retransmission timer would resend it until etcp_retries2 aborted a
 * connection whose peer is alive.  So it goes before anything is pushed
 * or the socket lock is let go (as Linux's tcp_remove_empty_skb()).  Only
 * an skb that never left qualifies: not one the send head has passed,
 * nor a FIN's (it takes a number).
 */
static void etcp_remove_empty_skb(struct sock *sk)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct etcp_sock *esk = etcp_sk(sk);

	if (!skb || skb->len || !esk->send_head ||
	    ETCP_SKB_CB(skb)->end_seq != ETCP_SKB_CB(skb)->seq ||
	    etcp_before(ETCP_SKB_CB(skb)->seq, esk->snd_max))
		return;
	/* The tail, unsent: the send head is this skb or one before it. */
	if (esk->send_head == skb)
		esk->send_head = NULL;
	__skb_unlink(skb, &sk->sk_write_queue);
	etcp_wmem_free_skb(sk, skb);
}

/*
 * The end of a write: its last segment carries PSH (RFC 9293 3.9.1.2, as
 * Linux marks it) and whatever may leave, leaves.  With MSG_MORE (@flags)
 * more is coming: no PSH, and a short last segment waits as if corked.
 */
static void etcp_push(struct sock *sk, int flags)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);

	if (flags & MSG_MORE) {
		etcp_write_xmit(sk, ETCP_XMIT_MORE);
		return;
	}
	if (skb && skb->len &&
	    !etcp_before(ETCP_SKB_CB(skb)->seq, etcp_sk(sk)->snd_max))
		ETCP_SKB_CB(skb)->flags |= ETCP_FLAG_PSH;
	etcp_write_xmit(sk, ETCP_XMIT_NAGLE);
}

static int etcp_sendmsg_locked(struct sock *sk, struct msghdr *msg)
{
	int flags = msg->msg_flags;
	long timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	u32 size_goal;
	int copied = 0;
	int err;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;

	/* Wait for the handshake, as TCP's send does. */
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	sk_clear_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	size_goal = etcp_xmit_size_goal(sk);

	while (msg_data_left(msg)) {
		struct sk_buff *skb;
		int copy;

		err = -EPIPE;
		if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
			goto do_error;

		skb = etcp_write_tail(sk, size_goal);
		if (!skb) {
			if (!etcp_wmem_free(sk))
				goto wait_for_space;
			skb = etcp_write_new(sk, sk->sk_allocation);
			if (!skb)
				goto wait_for_space;
		}
		copy = min_t(size_t, msg_data_left(msg),
			     size_goal - skb->len);
		copy = etcp_copy_to_skb(sk, skb, msg, copy);
		if (copy == -ENOMEM)
			goto wait_for_space;
		err = copy;
		if (copy < 0)
			goto do_error;
		if (!copy) {
			/* No fragment slot left: close this skb off. */
			if (!etcp_write_new(sk, sk->sk_allocation))
				goto wait_for_space;
			continue;
		}
		copied += copy;
		/*
		 * A full skb need not wait for the end of the write; the
		 * write's last one waits for etcp_push() and its PSH.
		 */
		if (skb->len >= size_goal && msg_data_left(msg))
			etcp_write_xmit(sk, ETCP_XMIT_NAGLE);
		continue;

wait_for_space:
		set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		/* Neither the push nor an ACK while we sleep may send it. */
		etcp_remove_empty_skb(sk);
		if (copied)
			etcp_push(sk, 0);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto do_error;
		/* The window or the route may have changed meanwhile. */
		size_goal = etcp_xmit_size_goal(sk);
	}
	etcp_push(sk, flags);
	return copied;

do_error:
	etcp_remove_empty_skb(sk);
	if (copied) {
		etcp_push(sk, flags);
		return copied;
	}
out_err:
	/* EPIPE becomes the pending error if any, and SIGPIPE. */
	return sk_stream_error(sk, flags, err);
}

/* proto->sendmsg */
int etcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	int ret;

	lock_sock(sk);
	ret = etcp_sendmsg_locked(sk, msg);
	release_sock(sk);
	return ret;
}

/*
 * Receive-buffer autotuning, as Linux's "dynamic right-sizing"
 * (tcp_rcv_space_adjust()): once per round trip, see how much the reader
 * took in it.  A sender that is not held back by our window sends more
 * each round trip than the last, and the reader takes it; then the buffer
 * grows, so that the window it offers never becomes what paces the
 * connection.  A buffer the application sized (SO_RCVBUF) stays as it is.
 */

/* Measuring starts at the handshake, from an initial window's worth. */
void etcp_rcv_space_init(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 init = ETCP_INIT_CWND * esk->advmss;

	esk->rcvq_space = esk->rcv_wnd ? min(esk->rcv_wnd, init) : init;
	esk->rcvq_seq = esk->copied_seq;
	esk->rcvq_us = etcp_clock_us();
	esk->rcv_rtt_us = 0;
	esk->rcv_rtt_start = 0;
}

/*
 * The receiver's round trip without timestamps (Linux's
 * tcp_rcv_rtt_measure()): data beyond RCV.NXT + RCV.WND as they are now
 * can be sent only after a window announced from now on reached the
 * sender, so RCV.NXT gets there a round trip later at the soonest; later
 * when the sender has less to send.  The smallest such time is the RTT.
 * Not across a window below one segment: a window probe's byte may go
 * past it at once.  Called when in-order data moved RCV.NXT.
 */
void etcp_rcv_rtt_measure(struct etcp_sock *esk)
{
	u32 now;

	/* Most segments land inside the sample: no clock read for them. */
	if (esk->rcv_rtt_start && etcp_before(esk->rcv_nxt, esk->rcv_rtt_seq))
		return;
	now = etcp_clock_us();
	if (esk->rcv_rtt_start) {
		u32 sample = max(now - esk->rcv_rtt_start, 1U);

		if (!esk->rcv_rtt_us || sample < esk->rcv_rtt_us)
			esk->rcv_rtt_us = sample;
	}
	esk->rcv_rtt_start = 0;
	if (esk->rcv_wnd < esk->advmss)
		return;
	esk->rcv_rtt_seq = esk->rcv_nxt + esk->rcv_wnd;
	esk->rcv_rtt_start = now ?: 1;
}

/*
 * The reader took @copied bytes in the last round trip, more than in any
 * before it.  A window must let the sender have that much in flight, plus
 * 16 segments of slack, twice over (a sender in slow start doubles every
 * round trip), plus twice the growth over the best before; the buffer is
 * twice the window, which offers half of what is free
 * (etcp_select_window()).  At most ETCP_RMEM_MAX.
 */
static void etcp_rcvbuf_grow(struct sock *sk, u32 copied)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	u32 prev = max(esk->rcvq_space, 1U);
	u64 win = 2ULL * copied + 16 * esk->advmss;
	u64 rcvbuf;

	win += 2 * div_u64(win * (copied - prev), prev);
	rcvbuf = min_t(u64, 2 * win, ETCP_RMEM_MAX);
	if (rcvbuf > READ_ONCE(sk->sk_rcvbuf))
		WRITE_ONCE(sk->sk_rcvbuf, rcvbuf);
}

/* After a read: a round trip since the last look ends the measurement. */
static void etcp_rcv_space_adjust(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 now = etcp_clock_us(), copied;

	if (!esk->rcv_rtt_us || now - esk->rcvq_us < esk->rcv_rtt_us)
		return;
	copied = esk->copied_seq - esk->rcvq_seq;
	if (copied > esk->rcvq_space) {
		if (!(sk->sk_userlocks & SOCK_RCVBUF_LOCK))
			etcp_rcvbuf_grow(sk, copied);
		esk->rcvq_space = copied;
	}
	esk->rcvq_seq = esk->copied_seq;
	esk->rcvq_us = now;
}

/*
 * The reader freed receive memory.  An ACK of more than one full segment
 * that waited for this read goes now (input.c, etcp_data_acked_or_delayed());
 * else the peer hears of it when that opens the window by something worth
 * a segment (RFC 9293 3.8.6.2.2), as Linux (tcp_cleanup_rbuf()): at least
 * doubling what is left of the window.
 */
void etcp_cleanup_rbuf(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 cur, new;

	if (!((1 << sk->sk_state) &
	      (TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)))
		return;
	if (esk->ack_pending && esk->rcv_nxt - esk->ack_sent > esk->rcv_mss) {
		etcp_send_ack(sk);
		return;
	}
	cur = etcp_rcv_wnd_now(esk);
	new = etcp_window_candidate(sk);
	if (new >= cur + esk->advmss && new >= 2 * cur)
		etcp_send_ack(sk);
}

/* Sleep until RCV.NXT moves past @seq, an error, or the peer's end. */
static int etcp_wait_data(struct sock *sk, long *timeo, u32 seq)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct etcp_sock *esk = etcp_sk(sk);
	int rc;

	add_wait_queue(sk_sleep(sk), &wait);
	sk_set_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	rc = sk_wait_event(sk, timeo,
			   READ_ONCE(esk->rcv_nxt) != seq ||
			   READ_ONCE(sk->sk_err) ||
			   (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
			   signal_pending(current), &wait);
	sk_clear_bit(SOCKWQ_ASYNC_WAITDATA, sk);
	remove_wait_queue(sk_sleep(sk), &wait);
	return rc;
}

/* The receive-queue skb holding byte @seq and the offset of it there. */
static struct sk_buff *etcp_rcv_find(struct sock *sk, u32 seq, u32 *offset)
{
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_receive_queue, skb) {
		u32 off = seq - ETCP_SKB_CB(skb)->seq;

		if (off < skb->len) {
			*offset = off;
			return skb;
		}
	}
	return NULL;
}

/*
 * Nothing (more) to read: whether to stop, and with what.  Returns 1 to
 * wait, 0 to return @copied, or -errno for a call that copied nothing.
 */
static int etcp_recv_stop(struct sock *sk, int copied, long timeo)
{
	if (copied) {
		if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
		    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
		    signal_pending(current))
			return 0;
		return 1;
	}
	if (sock_flag(sk, SOCK_DONE))
		return 0;
	if (sk->sk_err)
		return sock_error(sk);
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		return 0;
	if (sk->sk_state == TCP_CLOSE)
		return -ENOTCONN;	/* never connected */
	if (!timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(timeo);
	return 1;
}

static int etcp_recvmsg_locked(struct sock *sk, struct msghdr *msg,
			       size_t len, int flags)
{
	struct etcp_sock *esk = etcp_sk(sk);
	bool peek = flags & MSG_PEEK;
	u32 peek_seq = esk->copied_seq;
	u32 *seq = peek ? &peek_seq : &esk->copied_seq;
	int copied = 0, target, rc;
	long timeo;

	if (sk->sk_state == TCP_LISTEN)
		return -ENOTCONN;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);

	while (len > 0) {
		struct sk_buff *skb;
		u32 offset, used;

		skb = etcp_rcv_find(sk, *seq, &offset);
		if (!skb) {
			if (copied >= target)
				break;
			rc = etcp_recv_stop(sk, copied, timeo);
			if (rc <= 0) {
				if (!copied)
					copied = rc;
				break;
			}
			/* Tell the peer about the room reading made first. */
			etcp_rcv_space_adjust(sk);
			etcp_cleanup_rbuf(sk);
			etcp_wait_data(sk, &timeo, esk->rcv_nxt);
			continue;
		}

		used = min_t(size_t, skb->len - offset, len);
		if (skb_copy_datagram_msg(skb, offset, msg, used)) {
			if (!copied)
				copied = -EFAULT;
			break;
		}
		WRITE_ONCE(*seq, *seq + used);
		copied += used;
		len -= used;
		if (!peek && offset + used == skb->len) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			consume_skb(skb);
		}
	}
	if (!peek) {
		etcp_rcv_space_adjust(sk);
		etcp_cleanup_rbuf(sk);
	}
	return copied;
}

/*
 * proto->recvmsg (through compat.h, which answers MSG_ERRQUEUE: how the
 * error queue is read differs between kernels).
 */
int etcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags)
{
	int ret;

	/* No urgent data ever (etcp ignores URG): as TCP without it. */
	if (flags & MSG_OOB)
		return -EINVAL;

	lock_sock(sk);
	ret = etcp_recvmsg_locked(sk, msg, len, flags);
	release_sock(sk);
	return ret;
}

/* SIOCINQ, SIOCOUTQ and SIOCOUTQNSD, as TCP answers them. */
int etcp_ioctl(struct sock *sk, int cmd, int *karg)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	bool unsynced;

	if (sk->sk_state == TCP_LISTEN &&
	    (cmd == SIOCINQ || cmd == SIOCOUTQ || cmd == SIOCOUTQNSD))
		return -EINVAL;
	unsynced = (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV);

	switch (cmd) {
	case SIOCINQ:
		lock_sock(sk);
		*karg = unsynced ? 0 : etcp_inq(esk);
		release_sock(sk);
		return 0;
	case SIOCOUTQ:
		*karg = unsynced ? 0 :
			READ_ONCE(esk->write_seq) - READ_ONCE(esk->snd_una);
		return 0;
	case SIOCOUTQNSD:
		*karg = unsynced ? 0 :
			READ_ONCE(esk->write_seq) - READ_ONCE(esk->snd_nxt);
		return 0;
	default:
		return -ENOIOCTLCMD;
	}
}

/*
 * Readiness as tcp_poll() reports it: a listener is readable with a child
 * to accept; a connecting socket is nothing until it is established or
 * has failed; a connection is readable with SO_RCVLOWAT bytes (or at its
 * end) and writable with a third of its send buffer free.
 */
__poll_t etcp_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);

	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN) {
		/* Made before the state was set, kept until destroy. */
		const struct etcp_listener *lq = READ_ONCE(etcp_sk(sk)->lq);

		return lq && !list_empty_careful(&lq->accept_queue) ?
			EPOLLIN | EPOLLRDNORM : 0;
	}

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;

	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		int target = sock_rcvlowat(sk, 0, INT_MAX);

		if (etcp_inq(etcp_sk(sk)) >= target)
			mask |= EPOLLIN | EPOLLRDNORM;
		if (shutdown & SEND_SHUTDOWN) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else if (etcp_stream_writeable(sk)) {
			mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			/* Pairs with etcp_write_space() after ACKs freed room. */
			smp_mb__after_atomic();
			if (etcp_stream_writeable(sk))
				mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}

	/* Pairs with the barrier in etcp_reset(). */
	smp_rmb();
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}
