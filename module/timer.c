// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: a full socket's timers, and the policy that sets them: how long
 * each waits (sysctl or socket option), when the retransmission timer
 * runs, and when an orphan is given up.
 *
 *   rtx_timer     SYN / SYN-ACK retransmission; once synchronized the
 *                 retransmission timeout (RFC 6298), the tail loss probe
 *                 that comes before it (RFC 8985 7), or the persist timer
 *                 that probes a closed window (RFC 9293 3.8.6.1)
 *   delack_timer  the delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2)
 *   sk->sk_timer  keepalive (RFC 1122 4.2.3.6)
 *
 * A pending timer holds a reference on its socket (sk_reset_timer() takes
 * it, the handler or sk_stop_timer() drops it), so the socket cannot go
 * while the timer can still fire.  The handler runs in softirq: when the
 * user owns the socket it cannot touch its state, so it sets a bit in
 * etcp_sock.deferred, keeps its reference, and release_sock() runs the
 * work through etcp_release_cb().
 */
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"
#include "trace.h"

static int etcp_syn_retries(const struct sock *sk)
{
	int n = etcp_sk(sk)->syn_retries;

	return n ? n : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.syn_retries);
}

static int etcp_retries2(const struct sock *sk)
{
	return READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.retries2);
}

/* ---- policy: how long each timer waits, and when an orphan goes ---- */

int etcp_keepalive_time(const struct sock *sk)
{
	int v = etcp_sk(sk)->keepidle;

	return v ? v : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.keepalive_time);
}

int etcp_keepalive_intvl(const struct sock *sk)
{
	int v = etcp_sk(sk)->keepintvl;

	return v ? v : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.keepalive_intvl);
}

int etcp_keepalive_probes(const struct sock *sk)
{
	int v = etcp_sk(sk)->keepcnt;

	return v ? v : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.keepalive_probes);
}

/* How long an orphaned FIN_WAIT_2 lives: ETCP_LINGER2, else the sysctl. */
int etcp_fin_timeout(const struct sock *sk)
{
	int v = etcp_sk(sk)->linger2;

	return v > 0 ? v : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.fin_timeout);
}

/*
 * More orphans in the namespace than etcp_max_orphans allows (the
 * caller's among them): it must be reset rather than kept.
 */
bool etcp_too_many_orphans(const struct sock *sk)
{
	struct etcp_net *en = etcp_pernet(sock_net(sk));

	if (atomic_read(&en->orphans) <= READ_ONCE(en->sysctl.max_orphans))
		return false;
	net_info_ratelimited("too many orphaned sockets\n");
	return true;
}

/* Keepalive runs in the states where a peer can silently vanish. */
bool etcp_keepalive_state(const struct sock *sk)
{
	return (1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				      TCPF_FIN_WAIT2);
}

/* (Re)start the keepalive wait, counting the idle time already spent. */
void etcp_keepalive_restart(struct sock *sk)
{
	unsigned long idle = jiffies - etcp_sk(sk)->rcv_tstamp;
	unsigned long limit = etcp_keepalive_time(sk) * HZ;

	etcp_reset_keepalive(sk, idle < limit ? limit - idle : 0);
}

/* An orphaned FIN_WAIT_2 gives up on the peer's FIN: RST, and it goes. */
void etcp_abort_linger(struct sock *sk)
{
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONLINGER);
	etcp_send_active_reset(sk);
	etcp_done(sk);
}

/*
 * An orphan (just closed, or with something to send again) while the
 * namespace holds more orphans than etcp_max_orphans is reset instead,
 * as TCP's are.  Returns true when it was.
 */
bool etcp_orphan_out_of_resources(struct sock *sk)
{
	if (!sock_flag(sk, SOCK_DEAD) || !etcp_too_many_orphans(sk))
		return false;
	trace_etcp_orphan_reset(sk, ETCP_ORPHR_MAX_ORPHANS);
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONMEMORY);
	etcp_send_active_reset(sk);
	etcp_done(sk);
	return true;
}

/*
 * An orphan just reached FIN_WAIT_2: it waits etcp_fin_timeout (or
 * ETCP_LINGER2) for the peer's FIN, or, with ETCP_LINGER2 negative, is
 * reset at once.  Returns false when it was reset (and is gone).
 */
bool etcp_orphan_fin_wait2(struct sock *sk)
{
	if (etcp_sk(sk)->linger2 < 0) {
		trace_etcp_orphan_reset(sk, ETCP_ORPHR_LINGER2);
		etcp_abort_linger(sk);
		return false;
	}
	etcp_reset_keepalive(sk, etcp_fin_timeout(sk) * HZ);
	return true;
}

/*
 * Keep the retransmission timer in step with what is outstanding (RFC 6298
 * 5.1, 5.2): running while data is in flight (or the loss probe that
 * comes first), otherwise the persist timer while data waits for the
 * peer's window, otherwise nothing.
 */
void etcp_check_timer(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->packets_out) {
		if ((esk->timer_mode != ETCP_TMR_RETRANS &&
		     esk->timer_mode != ETCP_TMR_LOSS_PROBE) ||
		    !timer_pending(&esk->rtx_timer)) {
			esk->timer_mode = ETCP_TMR_RETRANS;
			etcp_arm_rtx(sk, etcp_rto_backoff(esk));
		}
	} else if (esk->send_head) {
		if (esk->timer_mode != ETCP_TMR_PROBE ||
		    !timer_pending(&esk->rtx_timer)) {
			esk->timer_mode = ETCP_TMR_PROBE;
			etcp_arm_rtx(sk, etcp_rto_backoff(esk));
		}
	} else if (esk->timer_mode != ETCP_TMR_NONE) {
		etcp_stop_rtx(sk);
	}
}

/* Restart the retransmission timer after new data was acknowledged. */
void etcp_rearm_rtx(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->packets_out) {
		esk->timer_mode = ETCP_TMR_RETRANS;
		etcp_arm_rtx(sk, etcp_rto_backoff(esk));
	} else {
		etcp_check_timer(sk);
	}
}

/*
 * How long until the retransmission timeout of the first segment in
 * flight, timed from when it last went (0: due already).  While a loss
 * probe holds the timer, this is the RTO it stands in for.
 */
static unsigned long etcp_rto_left(const struct sock *sk)
{
	const struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *head = skb_peek(&sk->sk_write_queue);
	u32 rto_us = jiffies_to_usecs(etcp_rto_backoff(esk));
	u32 since;

	if (!head)
		return 0;
	since = etcp_clock_us() - ETCP_SKB_CB(head)->sent_us;
	return since < rto_us ? usecs_to_jiffies(rto_us - since) : 0;
}

/* The RTO again after a loss probe that sent nothing, or none at all. */
void etcp_arm_rto_left(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!esk->packets_out) {
		etcp_check_timer(sk);
		return;
	}
	esk->timer_mode = ETCP_TMR_RETRANS;
	etcp_arm_rtx(sk, max(etcp_rto_left(sk), 1UL));
}

/*
 * RFC 8985 7.2, as Linux (tcp_schedule_loss_probe()): with SACK and
 * outside any recovery, the timer waits two smoothed RTTs for an ACK
 * before it sends a tail loss probe (etcp_send_loss_probe()), so that a
 * loss at the end of a flight is found by the SACK the probe draws rather
 * than by the RTO.  With one segment out the peer may be delaying its
 * ACK: the probe waits a minimum RTO longer, and never past the RTO.
 * @advancing_rto: an ACK just restarted the RTO, which would wait a full
 * RTO from now.  Returns false when no probe is due: the RTO runs.
 */
bool etcp_schedule_loss_probe(struct sock *sk, bool advancing_rto)
{
	struct etcp_sock *esk = etcp_sk(sk);
	int early = READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.early_retrans);
	unsigned long timeout, rto;
	u32 pto_us;

	if ((early != 3 && early != 4) || !esk->packets_out ||
	    !esk->sack_ok || esk->ca_state != ETCP_CA_OPEN)
		return false;
	if (esk->srtt_us) {
		pto_us = 2 * esk->srtt_us;
		pto_us += esk->packets_out == 1 ?
			  jiffies_to_usecs(ETCP_RTO_MIN) : ETCP_PTO_MIN_US;
		timeout = usecs_to_jiffies(pto_us);
	} else {
		timeout = ETCP_TIMEOUT_INIT;
	}
	rto = advancing_rto ? etcp_rto_backoff(esk) : etcp_rto_left(sk);
	if (rto)
		timeout = min(timeout, rto);
	esk->timer_mode = ETCP_TMR_LOSS_PROBE;
	etcp_arm_rtx(sk, timeout);
	return true;
}

/* ---- the timers ---- */

/*
 * The error a connection that timed out reports: ETIMEDOUT, unless an ICMP
 * error arrived meanwhile (icmp.c keeps it in sk_err_soft): RFC 1122
 * 4.2.3.9 and RFC 9293 3.9.2.2 want a soft error passed on to the
 * application, and the unreachable host is the likelier reason for the
 * silence (Linux: tcp_write_err()).
 */
static int etcp_timeout_error(const struct sock *sk)
{
	int err = READ_ONCE(sk->sk_err_soft);

	return err ? err : ETIMEDOUT;
}

/*
 * Give up on the peer (RFC 9293 3.8.3, R2; RFC 1122 4.2.3.5): it is told
 * with an RST, and the user gets ETIMEDOUT (or the soft error).
 */
static void etcp_abort_timeout(struct sock *sk)
{
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ABORTONTIMEOUT);
	etcp_send_active_reset(sk);
	etcp_reset(sk, etcp_timeout_error(sk));
}

/*
 * The SYN sent before has not left the host yet: it is still charged to
 * the socket, held in a qdisc or in the queue of a neighbour being
 * resolved (until the peer's stack, or the device, orphans it).  Nothing
 * else is in flight before the connection is synchronized.  Another copy
 * would only queue behind it and leave with it, a duplicate, once the
 * neighbour answers: Linux TCP does not send it (skb_still_in_host_queue())
 * and backs off as if it had.
 */
static bool etcp_syn_in_host(const struct sock *sk)
{
	return sk_wmem_alloc_get(sk) > 0;
}

/*
 * SYN (or SYN-ACK after a simultaneous open) unanswered.  RFC 6298 5.5:
 * back off by doubling from one second; after syn_retries retransmissions
 * and one more backed-off wait, give up: connect() fails with ETIMEDOUT and
 * no RST is sent, as nothing was ever synchronized.  With 6 retries the
 * SYNs leave at 0, 1, 3, 7, 15, 31 and 63 s and the error comes at 127 s.
 * A retransmission skipped because the last copy is still in the host
 * counts as one all the same.
 */
static void etcp_syn_timeout(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->retransmits >= etcp_syn_retries(sk)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
		etcp_reset(sk, etcp_timeout_error(sk));
		return;
	}
	esk->retransmits++;
	if (etcp_syn_in_host(sk)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_SPURIOUSRTXHOSTQUEUES);
	} else {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_SYNRETRANS);
		trace_etcp_retransmit_skb(sk, NULL, ETCP_RTX_SYN);
		etcp_send_syn(sk);
	}
	esk->rto = etcp_backoff(ETCP_TIMEOUT_INIT, esk->retransmits);
	etcp_arm_rtx(sk, esk->rto);
}

/*
 * One more doubling of the timeout.  The count stops at etcp_retries2, as
 * Linux's does for window probes: an orphan's persist timer compares it
 * with that limit, and it cannot wrap.  The timeout itself stops growing
 * at ETCP_RTO_MAX long before.
 */
static void etcp_backoff_inc(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->backoff < etcp_retries2(sk))
		esk->backoff++;
}

/*
 * RFC 6298 5.4-5.6: retransmit the earliest unacknowledged segment, double
 * the timeout, restart the timer.  RFC 5681 3.1: everything in flight is
 * taken for lost, so sending starts again from SND.UNA (go-back-N, as BSD
 * does it) in slow start; the peer may acknowledge up to SND.MAX at once
 * if it kept what arrived out of order.  After etcp_retries2
 * retransmissions of the same data the connection is aborted.
 */
static void etcp_retransmit_timeout(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!esk->packets_out)
		return;
	if (esk->retransmits >= etcp_retries2(sk)) {
		etcp_abort_timeout(sk);
		return;
	}
	if (etcp_orphan_out_of_resources(sk))
		return;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_TIMEOUTS);
	etcp_cong_rto(sk);
	etcp_sack_clear(sk);
	esk->packets_out = 0;
	esk->send_head = skb_peek(&sk->sk_write_queue);
	esk->snd_nxt = esk->snd_una;
	esk->retransmits++;
	etcp_backoff_inc(sk);
	esk->timer_mode = ETCP_TMR_NONE;
	etcp_write_xmit(sk, ETCP_XMIT_PUSH);
}

/*
 * The peer's window stayed closed for the backed-off timeout.  Probes the
 * peer answers keep the connection alive however long the window stays
 * closed (the ACK resets probes_out); etcp_retries2 unanswered ones
 * abort it, as Linux does.
 */
static void etcp_persist_timeout(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->packets_out || !esk->send_head)
		return;
	if (etcp_orphan_out_of_resources(sk))
		return;
	/*
	 * Nobody will ever read what an orphan still has to send: a peer
	 * that keeps its window closed must not keep it forever (Linux
	 * gives up after tcp_orphan_retries probes).
	 */
	if (sock_flag(sk, SOCK_DEAD) && esk->backoff >= etcp_retries2(sk)) {
		etcp_abort_timeout(sk);
		return;
	}
	if (esk->probes_out >= etcp_retries2(sk)) {
		etcp_abort_timeout(sk);
		return;
	}
	esk->probes_out++;
	etcp_backoff_inc(sk);
	etcp_probe_window(sk);
	/*
	 * The window was open and data went (a corked segment, or the peer's
	 * window reopened): no longer probing, so no backoff on its RTO, as
	 * Linux's tcp_send_probe0().
	 */
	if (esk->packets_out) {
		esk->probes_out = 0;
		esk->backoff = 0;
	}
	/* RTO for what the probe sent, else the next, backed-off probe. */
	etcp_rearm_rtx(sk);
}

static void etcp_rtx_expired(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u8 mode = esk->timer_mode;

	/*
	 * Deferred to release_cb() while the user, meanwhile, armed the timer
	 * afresh: this expiry is stale, the new one will come.
	 */
	if (timer_pending(&esk->rtx_timer))
		return;

	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		etcp_syn_timeout(sk);
		return;
	case TCP_CLOSE:
	case TCP_LISTEN:
		return;
	}
	esk->timer_mode = ETCP_TMR_NONE;
	if (mode == ETCP_TMR_RETRANS)
		etcp_retransmit_timeout(sk);
	else if (mode == ETCP_TMR_LOSS_PROBE)
		etcp_send_loss_probe(sk);
	else if (mode == ETCP_TMR_PROBE)
		etcp_persist_timeout(sk);
}

/* The ACK owed since the delayed-ACK timer was armed. */
static void etcp_delack_expired(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (timer_pending(&esk->delack_timer) || !esk->ack_pending ||
	    ((1 << sk->sk_state) & (TCPF_CLOSE | TCPF_LISTEN | TCPF_SYN_SENT)))
		return;
	/* The answer did not come in time: not so interactive after all. */
	esk->pingpong = 0;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DELAYEDACKS);
	etcp_send_ack(sk);
}

/*
 * The timer /proc/net/etcp's "tr" column and sock_diag's idiag_timer show
 * for @sk, numbered as TCP's: ETCP_TIMER_RETRANS (data, SYN or FIN),
 * ETCP_TIMER_PROBE (zero window), ETCP_TIMER_KEEPALIVE (also the orphaned
 * FIN_WAIT_2 timeout, which shares its timer as TCP's does), or 0 for
 * none.  *@expires is when it fires (jiffies), *@count the
 * retransmissions or unanswered probes it has counted.  Without the
 * socket lock: a reader may see a timer that is just firing.
 */
int etcp_sock_timer(const struct sock *sk, unsigned long *expires, u8 *count)
{
	const struct etcp_sock *esk = etcp_sk(sk);

	if (timer_pending(&esk->rtx_timer)) {
		*expires = READ_ONCE(esk->rtx_timer.expires);
		if (READ_ONCE(esk->timer_mode) == ETCP_TMR_PROBE) {
			*count = READ_ONCE(esk->probes_out);
			return ETCP_TIMER_PROBE;
		}
		*count = READ_ONCE(esk->retransmits);
		return ETCP_TIMER_RETRANS;
	}
	if (timer_pending(&sk->sk_timer)) {
		*expires = READ_ONCE(sk->sk_timer.expires);
		*count = READ_ONCE(esk->keepalive_probes);
		return ETCP_TIMER_KEEPALIVE;
	}
	*expires = jiffies;
	*count = 0;
	return 0;
}
EXPORT_SYMBOL_GPL(etcp_sock_timer);

/*
 * RFC 1122 4.2.3.6: after keepidle seconds without a segment from the
 * peer, and with nothing of ours outstanding (the retransmission timer
 * watches the peer then), probe every keepintvl seconds; keepcnt
 * unanswered probes abort the connection.  Every segment received
 * resets the count (input.c).
 */
static void etcp_keepalive_expired(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	unsigned long idle, idle_max, intvl;

	if (timer_pending(&sk->sk_timer))
		return;
	/*
	 * An orphan in FIN_WAIT_2 uses this timer for etcp_fin_timeout: the
	 * peer never sent its FIN, so it is reset and freed, as TCP's is.
	 */
	if (sk->sk_state == TCP_FIN_WAIT2 && sock_flag(sk, SOCK_DEAD)) {
		trace_etcp_orphan_reset(sk, ETCP_ORPHR_FIN_TIMEOUT);
		etcp_abort_linger(sk);
		return;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN) ||
	    !((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT |
				     TCPF_FIN_WAIT2)))
		return;

	idle_max = etcp_keepalive_time(sk) * HZ;
	intvl = etcp_keepalive_intvl(sk) * HZ;
	if (esk->packets_out || esk->send_head) {
		etcp_reset_keepalive(sk, idle_max);
		return;
	}
	idle = jiffies - esk->rcv_tstamp;
	if (idle < idle_max && !esk->keepalive_probes) {
		etcp_reset_keepalive(sk, idle_max - idle);
		return;
	}
	if (esk->keepalive_probes >= etcp_keepalive_probes(sk)) {
		etcp_abort_timeout(sk);
		return;
	}
	esk->keepalive_probes++;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_KEEPALIVEPROBES);
	etcp_send_probe(sk);
	etcp_reset_keepalive(sk, intvl);
}

/*
 * Run @work now, or leave it to etcp_release_cb() if the user holds the
 * socket; the timer's reference goes with the work.
 */
static void etcp_timer_run(struct sock *sk, int bit, void (*work)(struct sock *))
{
	bh_lock_sock(sk);
	if (!sock_owned_by_user(sk)) {
		work(sk);
	} else if (!test_and_set_bit(bit, &etcp_sk(sk)->deferred)) {
		/* etcp_release_cb() drops this reference. */
		bh_unlock_sock(sk);
		return;
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void etcp_rtx_timer(struct timer_list *t)
{
	struct etcp_sock *esk = etcp_timer_container_of(esk, t, rtx_timer);

	etcp_timer_run(&esk->inet.sk, ETCP_RTX_DEFERRED, etcp_rtx_expired);
}

static void etcp_delack_timer(struct timer_list *t)
{
	struct etcp_sock *esk = etcp_timer_container_of(esk, t, delack_timer);

	etcp_timer_run(&esk->inet.sk, ETCP_DELACK_DEFERRED,
		       etcp_delack_expired);
}

static void etcp_keepalive_timer(struct timer_list *t)
{
	struct sock *sk = etcp_timer_container_of(sk, t, sk_timer);

	etcp_timer_run(sk, ETCP_KEEPALIVE_DEFERRED, etcp_keepalive_expired);
}

/*
 * proto->release_cb: release_sock() calls it with the socket's spinlock
 * held, after the backlog ran.  Each deferred bit carries the reference
 * its timer (or, for the MTU, the ICMP handler) held; the user's own
 * reference keeps the socket meanwhile.
 */
void etcp_release_cb(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!READ_ONCE(esk->deferred))
		return;
	/* First, so that a retransmission due now uses the new MSS. */
	if (test_and_clear_bit(ETCP_MTU_REDUCED_DEFERRED, &esk->deferred)) {
		etcp_mtu_reduced(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(ETCP_RTX_DEFERRED, &esk->deferred)) {
		etcp_rtx_expired(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(ETCP_DELACK_DEFERRED, &esk->deferred)) {
		etcp_delack_expired(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(ETCP_KEEPALIVE_DEFERRED, &esk->deferred)) {
		etcp_keepalive_expired(sk);
		__sock_put(sk);
	}
}

void etcp_arm_rtx(struct sock *sk, unsigned long timeout)
{
	sk_reset_timer(sk, &etcp_sk(sk)->rtx_timer, jiffies + timeout);
}

void etcp_stop_rtx(struct sock *sk)
{
	etcp_sk(sk)->timer_mode = ETCP_TMR_NONE;
	sk_stop_timer(sk, &etcp_sk(sk)->rtx_timer);
}

/*
 * ---- policy: which ACKs go at once (Linux's quickack and pingpong) ----
 *
 * RFC 1122 4.2.3.2 lets a receiver delay its ACK; Linux does not while a
 * sender may be in slow start: at the start of a connection, after an idle
 * gap longer than the RTO and after the peer resent data we had, it sends
 * up to 16 ACKs at once, one for each segment of new data, as many as half
 * the window holds in receive-MSS segments (tcp_incr_quickack).
 * Interactive traffic, where we answer within the delayed-ACK time of what
 * we received, is "pingpong": its ACKs wait to ride on the answer, until
 * a delayed ACK has to go alone.  etcp does the same, with one difference:
 * its delayed-ACK time is always ETCP_DELACK, where Linux adapts it
 * (between 40 and 200 ms) to how data arrives.
 */
static void etcp_incr_quickack(struct etcp_sock *esk)
{
	u32 quick = esk->rcv_wnd / (2 * max_t(u32, esk->rcv_mss, 1));

	if (!quick)
		quick = 2;
	quick = min_t(u32, quick, ETCP_MAX_QUICKACKS);
	if (quick > esk->quick)
		esk->quick = quick;
}

/* The peer resent what we had: our ACKs were lost or late (tcp_send_dupack). */
void etcp_enter_quickack(struct etcp_sock *esk)
{
	etcp_incr_quickack(esk);
	esk->pingpong = 0;
}

bool etcp_in_quickack(const struct etcp_sock *esk)
{
	return esk->quick && !esk->pingpong;
}

/* New data arrived in order (Linux's tcp_event_data_recv). */
void etcp_data_rcvd_event(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	unsigned long now = jiffies;

	esk->ack_sched = 1;
	if (!esk->data_rcvd || time_after(now, esk->lrcvtime + esk->rto))
		etcp_incr_quickack(esk);
	esk->data_rcvd = 1;
	esk->lrcvtime = now;
}

/* We sent data: an answer to what just arrived is pingpong. */
void etcp_data_sent_event(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->data_rcvd && time_before(jiffies, esk->lrcvtime + ETCP_DELACK))
		esk->pingpong = 1;
}

/* Owe the peer an ACK; it goes with the next segment or in ETCP_DELACK. */
void etcp_schedule_delack(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->ack_pending)
		return;
	esk->ack_pending = 1;
	sk_reset_timer(sk, &esk->delack_timer, jiffies + ETCP_DELACK);
}

void etcp_reset_keepalive(struct sock *sk, unsigned long when)
{
	sk_reset_timer(sk, &sk->sk_timer, jiffies + when);
}

void etcp_init_timers(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	timer_setup(&esk->rtx_timer, etcp_rtx_timer, 0);
	timer_setup(&esk->delack_timer, etcp_delack_timer, 0);
	timer_setup(&sk->sk_timer, etcp_keepalive_timer, 0);
	esk->timer_mode = ETCP_TMR_NONE;
	esk->deferred = 0;
}

/*
 * Stop every timer.  Work already deferred to release_cb() is dropped
 * with its reference: the socket is closing.
 */
void etcp_clear_timers(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	etcp_stop_rtx(sk);
	esk->ack_pending = 0;
	sk_stop_timer(sk, &esk->delack_timer);
	sk_stop_timer(sk, &sk->sk_timer);
	if (test_and_clear_bit(ETCP_RTX_DEFERRED, &esk->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(ETCP_DELACK_DEFERRED, &esk->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(ETCP_KEEPALIVE_DEFERRED, &esk->deferred))
		__sock_put(sk);
	if (test_and_clear_bit(ETCP_MTU_REDUCED_DEFERRED, &esk->deferred))
		__sock_put(sk);
}
