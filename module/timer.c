// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: a full socket's timers.
 *
 * A pending timer holds a reference on its socket (sk_reset_timer() takes
 * it, the handler or sk_stop_timer() drops it), so the socket cannot go
 * while the timer can still fire.  The handler runs in softirq: when the
 * user owns the socket it cannot touch its state and tries again shortly.
 */
#include <net/sock.h>

#include "etcp.h"
#include "compat.h"

static int etcp_syn_retries(const struct sock *sk)
{
	int n = etcp_sk(sk)->syn_retries;

	return n ? n : READ_ONCE(etcp_pernet(sock_net(sk))->sysctl.syn_retries);
}

/*
 * SYN (or SYN-ACK after a simultaneous open) unanswered.  RFC 6298 5.5:
 * back off by doubling from one second; after syn_retries retransmissions
 * and one more backed-off wait, give up: connect() fails with ETIMEDOUT and
 * no RST is sent, as nothing was ever synchronized.  With 6 retries the
 * SYNs leave at 0, 1, 3, 7, 15, 31 and 63 s and the error comes at 127 s.
 */
static void etcp_syn_timeout(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->retransmits >= etcp_syn_retries(sk)) {
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_ATTEMPTFAILS);
		etcp_reset(sk, ETIMEDOUT);
		return;
	}
	esk->retransmits++;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_SYNRETRANS);
	etcp_send_syn(sk);
	esk->rto = etcp_backoff(ETCP_TIMEOUT_INIT, esk->retransmits);
	etcp_arm_rtx(sk, esk->rto);
}

static void etcp_rtx_expired(struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		etcp_syn_timeout(sk);
		break;
	default:
		/* Nothing is outstanding in the other states yet. */
		break;
	}
}

static void etcp_rtx_timer(struct timer_list *t)
{
	struct etcp_sock *esk = etcp_timer_container_of(esk, t, rtx_timer);
	struct sock *sk = &esk->inet.sk;

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk))
		sk_reset_timer(sk, &esk->rtx_timer, jiffies + ETCP_TIMER_DEFER);
	else
		etcp_rtx_expired(sk);
	bh_unlock_sock(sk);
	sock_put(sk);
}

void etcp_arm_rtx(struct sock *sk, unsigned long timeout)
{
	sk_reset_timer(sk, &etcp_sk(sk)->rtx_timer, jiffies + timeout);
}

void etcp_init_timers(struct sock *sk)
{
	timer_setup(&etcp_sk(sk)->rtx_timer, etcp_rtx_timer, 0);
}

void etcp_clear_timers(struct sock *sk)
{
	sk_stop_timer(sk, &etcp_sk(sk)->rtx_timer);
}
