// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the sender's SACK scoreboard (RFC 2018, RFC 6675).
 *
 * Where both SYNs carried SACK-permitted, the peer's ACKs report the data
 * it holds beyond a hole.  Each skb of the write queue in flight (before
 * the send head) carries three marks, and the socket counts the segments
 * of each kind:
 *
 *   sacked  the peer holds it                       sacked_out
 *   lost    RFC 6675's IsLost(): at least DupThresh  lost_out
 *           segments above it were SACKed
 *   rtx     resent since it was marked lost          retrans_out
 *
 * What is in flight is then RFC 6675's pipe, packets_out - sacked_out -
 * lost_out + retrans_out, as Linux counts it (tcp_packets_in_flight()).
 * Fast recovery starts when the first unacknowledged segment is lost or
 * at the third duplicate ACK (RFC 6675 5), and resends what is lost
 * before any new data (NextSeg()'s rules 1 and 2; output.c).  A block
 * that begins or ends inside an skb cuts it there, where its segments
 * meet.  A retransmission timeout forgets the scoreboard: everything from
 * SND.UNA goes again.
 *
 * DupThresh starts at 3 and grows when the path shows reordering, as
 * Linux's tp->reordering does: a segment SACKed after data above it was,
 * without having been resent, came late rather than got lost; so did one
 * whose retransmission the peer reports as a duplicate (a D-SACK, RFC
 * 2883).  When every retransmission of a fast recovery is reported so,
 * nothing was lost and the window it halved comes back (RFC 3708's
 * undo, cong.c).
 */
#include <linux/skbuff.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "etcp.h"

/* @cb's skb leaves the flight, acknowledged: its marks stop counting. */
void etcp_sack_forget(struct etcp_sock *esk, const struct etcp_skb_cb *cb)
{
	if (cb->sacked)
		esk->sacked_out -= cb->segs;
	if (cb->lost)
		esk->lost_out -= cb->segs;
	if (cb->rtx)
		esk->retrans_out -= cb->segs;
}

/*
 * Data from @seq on arrived after data up to sack_high had: it was not
 * lost but reordered, by as many segments as lie between.  DupThresh
 * grows to that (Linux's tcp_check_sack_reordering()), so that the same
 * reordering is not taken for a loss again.
 */
static void etcp_sack_reordered(struct sock *sk, u32 seq)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 degree;

	if (!esk->sack_high_ok || !etcp_after(esk->sack_high, seq))
		return;
	degree = min_t(u32, DIV_ROUND_UP(esk->sack_high - seq, esk->snd_mss),
		       ETCP_MAX_REORDERING);
	if (degree <= esk->reordering)
		return;
	esk->reordering = degree;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_REORDERSEEN);
}

/*
 * The peer holds @cb's segments (SACKed or acknowledged): if they went
 * once only and later than any it was known to hold, they are the new
 * RACK.xmit_ts (RFC 8985 6.2 step 2).  A retransmission is passed over,
 * more strictly than RFC 8985 does: its ACK may be the original's.
 */
void etcp_rack_advance(struct etcp_sock *esk, const struct etcp_skb_cb *cb)
{
	if (cb->retransmitted)
		return;
	if (!esk->rack_ok || (s32)(cb->sent_us - esk->rack_xmit_us) > 0)
		esk->rack_xmit_us = cb->sent_us;
	esk->rack_ok = 1;
}

/* @skb in flight is held by the peer. */
static void etcp_sack_mark(struct sock *sk, struct sk_buff *skb)
{
	struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	struct etcp_sock *esk = etcp_sk(sk);

	etcp_rack_advance(esk, cb);
	/* Sent once, held only now, below data held before: it came late. */
	if (!cb->retransmitted)
		etcp_sack_reordered(sk, cb->seq);
	/* The tail loss probe (or what went after it) arrived. */
	if (esk->tlp_on && !etcp_before(cb->end_seq, esk->tlp_high_seq))
		esk->tlp_sacked = 1;
	etcp_sack_forget(esk, cb);
	cb->lost = 0;
	cb->rtx = 0;
	cb->sacked = 1;
	esk->sacked_out += cb->segs;
}

/*
 * Cut @skb in flight after @len bytes, where two of its segments meet; a
 * FIN stays with the last byte.  Returns 0, or nonzero when it cannot be
 * cut there (the skb is then left unmarked: a later block may cover it).
 * A peer whose blocks cut every segment apart would make an skb of each:
 * etcp_fragment_in_flight() stops the cuts at twice the send buffer.
 */
static int etcp_sack_cut(struct sock *sk, struct sk_buff *skb, u32 len)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

	if (!len || len >= skb->len || !cb->seg_size || len % cb->seg_size)
		return -EINVAL;
	return etcp_fragment_in_flight(sk, skb, len);
}

/* Mark what [@start, @end) covers of what is in flight. */
static void etcp_sack_tag_block(struct sock *sk, u32 start, u32 end)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		if (skb == esk->send_head || !etcp_before(cb->seq, end))
			break;
		if (cb->sacked || !etcp_after(cb->end_seq, start))
			continue;
		/* Only its tail is held: the next pass sees the cut-off part. */
		if (etcp_before(cb->seq, start)) {
			etcp_sack_cut(sk, skb, start - cb->seq);
			continue;
		}
		if (etcp_after(cb->end_seq, end) &&
		    etcp_sack_cut(sk, skb, end - cb->seq))
			break;
		etcp_sack_mark(sk, skb);
	}
}

/*
 * RFC 2883 4: the first block reports data that arrived twice (a D-SACK)
 * when it begins below the ACK, or lies inside the second block.
 */
static bool etcp_sack_is_dsack(u32 ack, const u8 *blocks, int n)
{
	u32 start = get_unaligned_be32(blocks);
	u32 end = get_unaligned_be32(blocks + 4);

	if (etcp_before(start, ack))
		return true;
	return n > 1 &&
	       !etcp_before(start, get_unaligned_be32(blocks + 8)) &&
	       !etcp_after(end, get_unaligned_be32(blocks + 12));
}

/*
 * A D-SACK of [@start, @end): sent twice, it arrived twice.  If it is a
 * retransmission of the current or last fast recovery, that one was not
 * needed: the original came late (reordering), and when none of the
 * recovery's retransmissions was needed, the recovery is undone.  A
 * block reaching beyond what was sent is a lie and tells nothing.
 */
static void etcp_sack_dsack(struct sock *sk, u32 start, u32 end)
{
	struct etcp_sock *esk = etcp_sk(sk);
	u32 segs;

	if (!etcp_before(start, end) || etcp_after(end, esk->snd_max))
		return;
	ETCP_INC_STATS(sock_net(sk), ETCP_MIB_DSACKRECV);
	/* The loss probe's copy: the original arrived (etcp_cong_tlp_ack()). */
	if (esk->tlp_on && end == esk->tlp_high_seq)
		esk->tlp_dsacked = 1;
	if (!esk->undo_on || !esk->undo_retrans ||
	    etcp_before(start, esk->undo_marker))
		return;
	etcp_sack_reordered(sk, start);
	segs = DIV_ROUND_UP(end - start, esk->snd_mss);
	esk->undo_retrans -= min(segs, esk->undo_retrans);
	if (!esk->undo_retrans)
		etcp_cong_undo(sk);
}

/* The highest block SACKed so far ends at @end, or higher. */
static void etcp_sack_high(struct etcp_sock *esk, u32 end)
{
	if (!esk->sack_high_ok || etcp_after(end, esk->sack_high))
		esk->sack_high = end;
	esk->sack_high_ok = 1;
}

/*
 * The SACK option of @ack, if any: mark what its blocks cover.  A block
 * below SND.UNA (a D-SACK, RFC 2883) or beyond SND.MAX tells nothing
 * about what is in flight and is passed over, as are malformed ones.
 */
void etcp_sack_tag(struct sock *sk, const struct sk_buff *ack)
{
	const struct etcp_skb_cb *acb = ETCP_SKB_CB(ack);
	struct etcp_sock *esk = etcp_sk(sk);
	bool any = false;
	u32 high = 0;
	const u8 *opt;
	int i, n;

	if (!esk->sack_ok || !acb->sack_off)
		return;
	opt = (const u8 *)tcp_hdr(ack) + acb->sack_off;
	n = (opt[1] - ETCP_OPTLEN_SACK_BASE) / ETCP_OPTLEN_SACK_BLOCK;
	opt += ETCP_OPTLEN_SACK_BASE;
	for (i = 0; i < n; i++) {
		const u8 *b = opt + i * ETCP_OPTLEN_SACK_BLOCK;
		u32 start = get_unaligned_be32(b);
		u32 end = get_unaligned_be32(b + 4);

		if (!i && etcp_sack_is_dsack(acb->ack_seq, opt, n)) {
			etcp_sack_dsack(sk, start, end);
			continue;
		}
		if (!etcp_before(start, end) ||
		    !etcp_after(start, esk->snd_una) ||
		    etcp_after(end, esk->snd_max))
			continue;
		etcp_sack_tag_block(sk, start, end);
		if (!any || etcp_after(end, high))
			high = end;
		any = true;
	}
	/* Only now: each block's reordering is measured against before. */
	if (any)
		etcp_sack_high(esk, high);
}

/*
 * Is the segment of @cb, not SACKed, lost because the tail loss probe
 * arrived?  Everything sent before the probe went at least a probe timeout
 * (two round trips) earlier: RACK (RFC 8985 6.2, 7.4) takes each such
 * segment for lost once the probe is delivered, as Linux does.  etcp's
 * RACK.xmit_ts passes over the probe when it is a copy (a retransmission),
 * so the probe's arrival is drawn on here itself.
 */
static bool etcp_sack_lost_before_probe(const struct etcp_sock *esk,
					const struct etcp_skb_cb *cb)
{
	return esk->tlp_on && esk->tlp_sacked &&
	       etcp_before(cb->end_seq, esk->tlp_high_seq);
}

/*
 * Was the retransmission of @cb, in this recovery, lost as well?  A
 * segment sent once, a reordering window after the copy went, has
 * reached the peer; the copy has not (RFC 8985 6.2, as Linux's RACK
 * finds a lost retransmission).  The window is SRTT / 4, where RACK's is
 * a quarter of the least RTT seen: etcp keeps no least RTT.  Left to the
 * scoreboard, the copy would be resent by the retransmission timer only.
 */
static bool etcp_sack_rtx_lost(const struct etcp_sock *esk,
			       const struct etcp_skb_cb *cb)
{
	return cb->rtx && esk->rack_ok &&
	       (s32)(esk->rack_xmit_us - cb->sent_us) > (s32)(esk->srtt_us >> 2);
}

/*
 * RFC 6675 4, IsLost(): a segment not SACKed with at least DupThresh
 * (esk->reordering) SACKed segments above it is taken for lost; so is all
 * of its skb, and so is what went before a loss probe that arrived.  A
 * retransmission found lost is to go again (etcp_xmit_lost()).
 * Walks the flight from its end down, counting what is SACKed above.
 */
void etcp_sack_mark_lost(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;
	u32 above = 0;

	if (!esk->sacked_out)
		return;
	for (skb = etcp_last_in_flight(sk); skb; skb = etcp_write_prev(sk, skb)) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		if (cb->sacked) {
			above += cb->segs;
		} else if (etcp_sack_rtx_lost(esk, cb)) {
			cb->rtx = 0;
			esk->retrans_out -= cb->segs;
			ETCP_INC_STATS(sock_net(sk), ETCP_MIB_LOSTRETRANSMIT);
		} else if ((above >= esk->reordering ||
			    etcp_sack_lost_before_probe(esk, cb)) && !cb->lost) {
			cb->lost = 1;
			esk->lost_out += cb->segs;
		}
	}
}

/* Is the first unacknowledged segment lost?  (RFC 6675 5 (b)) */
bool etcp_sack_head_lost(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (!skb || skb == etcp_sk(sk)->send_head)
		return false;
	return ETCP_SKB_CB(skb)->lost;
}

/*
 * Fast recovery starts (RFC 6675 5 (4.3)): the first unacknowledged
 * segment counts as lost whatever the scoreboard says; cut off from the
 * rest of its skb, it alone.
 */
void etcp_sack_lose_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);
	struct etcp_sock *esk = etcp_sk(sk);
	struct etcp_skb_cb *cb;

	if (!skb || skb == esk->send_head)
		return;
	cb = ETCP_SKB_CB(skb);
	if (cb->sacked || cb->lost)
		return;
	etcp_sack_cut(sk, skb, cb->seg_size);
	cb->lost = 1;
	esk->lost_out += cb->segs;
}

/*
 * A new fast recovery: what an earlier one resent may be resent again
 * (RFC 6675's HighRxt starts over at each recovery), so that a lost
 * retransmission is not left to the retransmission timer.
 */
void etcp_sack_new_recovery(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (skb == esk->send_head)
			break;
		ETCP_SKB_CB(skb)->rtx = 0;
	}
	esk->retrans_out = 0;
}

/* A retransmission timeout, or a path MTU that fell: start afresh. */
void etcp_sack_clear(struct sock *sk)
{
	struct etcp_sock *esk = etcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);

		cb->sacked = 0;
		cb->lost = 0;
		cb->rtx = 0;
	}
	esk->sacked_out = 0;
	esk->lost_out = 0;
	esk->retrans_out = 0;
}
