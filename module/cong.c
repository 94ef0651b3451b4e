// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: round-trip time, retransmission timeout and congestion window.
 *
 * RTT and RTO follow RFC 6298; the window follows RFC 5681 (slow start,
 * congestion avoidance, fast retransmit) with NewReno's fast recovery
 * (RFC 6582).  The window is counted in segments, as Linux counts it and
 * as ETCP_INFO reports it.  Callers hold the socket lock.
 */
#include <net/sock.h>

#include "etcp.h"

/*
 * RFC 6298 2.4: RTO = SRTT + max(G, K * RTTVAR) with K = 4, at least
 * ETCP_RTO_MIN (RFC 6298 asks for one second; Linux found 200 ms enough),
 * at most ETCP_RTO_MAX (2.5).
 */
static void etcp_set_rto(struct etcp_sock *esk)
{
	u32 g = jiffies_to_usecs(1);
	u64 rto_us = (u64)esk->srtt_us + max(g, 4 * esk->rttvar_us);
	unsigned long rto = usecs_to_jiffies(min_t(u64, rto_us, U32_MAX));

	esk->rto = clamp_t(unsigned long, rto, ETCP_RTO_MIN, ETCP_RTO_MAX);
}

/*
 * RFC 6298 2.2 and 2.3: the first measurement R sets SRTT = R and
 * RTTVAR = R / 2; later ones RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| and
 * SRTT = 7/8 SRTT + 1/8 R, RTTVAR first.  A sample also ends the backoff
 * (Karn's algorithm keeps it until one arrives).
 */
void etcp_rtt_sample(struct sock *sk, u32 rtt_us)
{
	struct etcp_sock *esk = etcp_sk(sk);

	rtt_us = max(rtt_us, 1U);
	if (!esk->srtt_us) {
		esk->srtt_us = rtt_us;
		esk->rttvar_us = rtt_us / 2;
	} else {
		u32 delta = esk->srtt_us > rtt_us ? esk->srtt_us - rtt_us :
						    rtt_us - esk->srtt_us;

		esk->rttvar_us = (3ULL * esk->rttvar_us + delta) / 4;
		esk->srtt_us = (7ULL * esk->srtt_us + rtt_us) / 8;
	}
	etcp_set_rto(esk);
	esk->backoff = 0;
}

/*
 * The handshake is over.  Unless our SYN (or SYN-ACK) was sent again, its
 * round trip, from @sent_us, is the first sample (RFC 6298 2.2; Karn: a
 * retransmitted one is ambiguous).  Without it the RTO starts at 3 s, not
 * at the 1 s that just proved too short or at the SYN's backed-off value
 * (RFC 6298 5.7, as Linux's TCP_TIMEOUT_FALLBACK).
 */
void etcp_rtt_handshake(struct sock *sk, bool sampled, u32 sent_us)
{
	if (sampled)
		etcp_rtt_sample(sk, etcp_clock_us() - sent_us);
	else
		etcp_sk(sk)->rto = ETCP_TIMEOUT_FALLBACK;
}

/* RFC 6928 initial window; ssthresh "arbitrarily high" (RFC 5681 3.1). */
void etcp_cong_init(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->snd_cwnd = ETCP_INIT_CWND;
	esk->snd_ssthresh = ETCP_INFINITE_SSTHRESH;
	esk->snd_cwnd_cnt = 0;
	esk->ca_state = ETCP_CA_OPEN;
	esk->dupacks = 0;
	esk->reordering = ETCP_DUPTHRESH;
	esk->sack_high_ok = 0;
	esk->undo_on = 0;
	esk->dsack_pending = 0;
	esk->tlp_on = 0;
	esk->rack_ok = 0;
}

/*
 * The slow start threshold after a loss: half the congestion window, at
 * least two segments, as Linux's Reno (tcp_reno_ssthresh()).  RFC 5681
 * 3.1 equation (4) halves the flight instead, which is smaller when the
 * application or the peer's window held the sender back.
 */
static u32 etcp_ssthresh(const struct etcp_sock *esk)
{
	return max(esk->snd_cwnd / 2, 2U);
}

/*
 * New data was acknowledged (@acked segments), outside fast recovery.
 * Slow start adds every segment acknowledged, up to ssthresh, as Linux's
 * tcp_slow_start() does (RFC 5681 3.1 and RFC 3465 would add at most one
 * or two per ACK; a receiver that acknowledges many segments at once sees
 * the difference); what is left over goes to congestion avoidance, which
 * adds one segment per window's worth of ACKed segments.  The window only
 * grows while it limited the sender: an application that sends little
 * must not earn a window it never used (RFC 7661 2).
 */
void etcp_cong_ack(struct sock *sk, u32 acked, u32 prior_packets)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 cwnd;

	if (esk->ca_state == ETCP_CA_LOSS &&
	    !etcp_before(esk->snd_una, esk->recover))
		esk->ca_state = ETCP_CA_OPEN;

	if (prior_packets * 2 < esk->snd_cwnd)
		return;

	if (esk->snd_cwnd < esk->snd_ssthresh) {
		cwnd = min(esk->snd_cwnd + acked, esk->snd_ssthresh);
		acked -= cwnd - esk->snd_cwnd;
		esk->snd_cwnd = cwnd;
		if (!acked)
			return;
	}
	/* Credit earned at a larger window counts as one segment now. */
	if (esk->snd_cwnd_cnt >= esk->snd_cwnd) {
		esk->snd_cwnd_cnt = 0;
		esk->snd_cwnd++;
	}
	esk->snd_cwnd_cnt += acked;
	if (esk->snd_cwnd_cnt >= esk->snd_cwnd) {
		cwnd = esk->snd_cwnd_cnt / esk->snd_cwnd;
		esk->snd_cwnd_cnt -= cwnd * esk->snd_cwnd;
		esk->snd_cwnd += cwnd;
	}
}

/*
 * RFC 6582 3.2 step 2, on the third duplicate ACK: ssthresh (halved as
 * Linux halves it), remember how far we sent, retransmit the first
 * unacknowledged segment and inflate the window by the three segments
 * that left.
 */
void etcp_cong_enter_recovery(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	/* What an undo would restore (etcp_cong_undo()). */
	esk->prior_cwnd = esk->snd_cwnd;
	esk->prior_ssthresh = esk->snd_ssthresh;
	esk->undo_marker = esk->snd_una;
	/* A loss probe's copy is one more a D-SACK may report (Linux). */
	esk->undo_retrans = esk->tlp_on && esk->tlp_retrans;
	esk->undo_on = esk->sack_ok;
	/* The probe's episode ends here: this recovery repairs the loss. */
	esk->tlp_on = 0;
	esk->snd_ssthresh = etcp_ssthresh(esk);
	esk->recover = esk->snd_max;
	esk->snd_cwnd_cnt = 0;
	esk->ca_state = ETCP_CA_RECOVERY;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_FASTRETRANS);
	if (esk->sack_ok) {
		/*
		 * RFC 6675 5 (4.2, 4.3): cwnd = ssthresh, no inflation (the
		 * pipe shrinks as segments are SACKed instead); the first
		 * segment goes again at once, the rest as the pipe allows.
		 */
		esk->snd_cwnd = esk->snd_ssthresh;
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_SACKRECOVERY);
		etcp_sack_new_recovery(sk);
		etcp_sack_lose_head(sk);
		etcp_xmit_lost(sk, true);
		return;
	}
	esk->snd_cwnd = esk->snd_ssthresh + 3;
	etcp_retransmit_head(sk);
}

/*
 * An ACK of new data during fast recovery (RFC 6582 3.2 step 3).  A full
 * ACK (covering recover) ends recovery with cwnd = min(ssthresh,
 * FlightSize + 1 segment); a partial ACK retransmits the next hole,
 * deflates the window by what it acknowledged and adds one segment back.
 */
void etcp_cong_partial_ack(struct sock *sk, u32 acked)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (!etcp_before(esk->snd_una, esk->recover)) {
		esk->snd_cwnd = min(esk->snd_ssthresh, esk->packets_out + 1);
		esk->ca_state = ETCP_CA_OPEN;
		esk->dupacks = 0;
		return;
	}
	/*
	 * With SACK the scoreboard says what to resend (etcp_xmit_lost());
	 * a partial ACK also says the new first segment is lost, as RFC 6582
	 * reads it, where fewer than DupThresh segments above it were SACKed
	 * (Linux, before RACK, marked it so too).
	 */
	if (esk->sack_ok) {
		etcp_sack_lose_head(sk);
		return;
	}
	etcp_retransmit_head(sk);
	esk->snd_cwnd = max(esk->snd_cwnd - min(acked, esk->snd_cwnd), 1U) + 1;
}

/*
 * The retransmission timer expired (RFC 5681 3.1: ssthresh lowered, here
 * as Linux lowers it, and "cwnd to no more than the loss window, 1
 * full-sized segment"): everything in flight is taken for lost and sent
 * again from SND.UNA in slow start.
 */
void etcp_cong_rto(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (esk->ca_state != ETCP_CA_LOSS)
		esk->snd_ssthresh = etcp_ssthresh(esk);
	esk->snd_cwnd = 1;
	esk->snd_cwnd_cnt = 0;
	esk->recover = esk->snd_max;
	esk->ca_state = ETCP_CA_LOSS;
	esk->dupacks = 0;
	/* Go-back-N resends everything: no D-SACK could tell it spurious. */
	esk->undo_on = 0;
	esk->tlp_on = 0;
}

/*
 * The peer reported every retransmission of the last fast recovery as a
 * duplicate (D-SACK, sack.c): nothing was lost, the segments were only
 * reordered, and the window goes back to what it was before (RFC 3708
 * 3.2; Linux's tcp_undo_cwnd_reduction()).  A recovery still under way
 * goes on to its end, resending what the scoreboard calls lost.
 */
void etcp_cong_undo(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);

	esk->snd_cwnd = max(esk->snd_cwnd, esk->prior_cwnd);
	esk->snd_ssthresh = max(esk->snd_ssthresh, esk->prior_ssthresh);
	esk->undo_on = 0;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DSACKUNDO);
}

/*
 * What the ACK of @ack says of the tail loss probe out (RFC 8985 7.4, as
 * Linux's tcp_process_tlp_ack()).  A probe of new data, acknowledged,
 * tells nothing.  A probe that sent old data again was not needed if the
 * peer reports that copy as a duplicate (D-SACK, sack.c) or answers with
 * a plain duplicate ACK (@progress false: nothing acknowledged or SACKed,
 * no data, the same window): the original arrived too.  An ACK beyond
 * the probe with neither says the probe alone repaired a loss: the window
 * is reduced as a fast recovery would have (to ssthresh, halved), without
 * one.  Losses before the probe start a fast recovery instead (sack.c),
 * which ends the episode.
 */
void etcp_cong_tlp_ack(struct sock *sk, u32 ack, bool progress)
{
	struct etcp_sock *esk = etcp_sk(sk);

	if (etcp_before(ack, esk->tlp_high_seq))
		return;
	if (!esk->tlp_retrans || esk->tlp_dsacked) {
		esk->tlp_on = 0;
	} else if (etcp_after(ack, esk->tlp_high_seq)) {
		esk->snd_ssthresh = etcp_ssthresh(esk);
		esk->snd_cwnd = esk->snd_ssthresh;
		esk->snd_cwnd_cnt = 0;
		esk->tlp_on = 0;
		ETCP_INC_STATS(sock_net(sk), ETCP_MIB_LOSSPROBERECOVERY);
	} else if (!progress) {
		esk->tlp_on = 0;
	}
}
