/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etcp's tracepoints, the etcp:* events of perf, trace-cmd, bpftrace and
 * tracefs: the moments /proc/net/etcp_stat only counts (retransmissions,
 * RSTs, TIME_WAIT entries, requests, orphans), each with the connection
 * it happened to.  State changes are sock:inet_sock_set_state's, which
 * fires for etcp as for TCP (etcp_set_state()).
 *
 * The fields are laid out as TCP's events lay out theirs, so that a
 * script written for tcp:* reads these: the ports in host order, the
 * addresses both as IPv4 (saddr, daddr; zero for an IPv6 connection)
 * and as IPv6 (saddr_v6, daddr_v6; v4-mapped for an IPv4 one), family
 * the family on the wire.  Besides, netns is the inode number of the
 * network namespace (stat -L -c %i /proc/PID/ns/net), which tells apart
 * connections of the same addresses in different namespaces.  Every
 * field is a plain integer or byte array, the same on every kernel etcp
 * builds on.
 *
 * A disabled event costs its static branch and nothing else: arguments
 * are pointers and constants, and whatever must be computed for an event
 * is computed in TP_fast_assign() or behind trace_*_enabled().
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM etcp

#if !defined(_ETCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ETCP_TRACE_H

#include <linux/tracepoint.h>

#include "etcp.h"

#ifndef _ETCP_TRACE_ONCE
#define _ETCP_TRACE_ONCE

/* Why a segment of a full socket went again: etcp_retransmit_skb. */
enum etcp_rtx_reason {
	ETCP_RTX_RTO,		/* retransmission timeout: go-back-N */
	ETCP_RTX_FAST,		/* fast retransmit, NewReno partial ACK */
	ETCP_RTX_SACK,		/* the SACK scoreboard marked it lost */
	ETCP_RTX_MTU,		/* sent again cut to a smaller path MTU */
	ETCP_RTX_SYN,		/* SYN (or simultaneous open's SYN-ACK) timeout */
};

/* How a TIME_WAIT entry was restarted or ended. */
enum etcp_tw_reason {
	ETCP_TWR_TIMER,		/* 2 * MSL passed */
	ETCP_TWR_SYN,		/* a new SYN took over its 4-tuple */
	ETCP_TWR_RST,		/* an RST ended it (etcp_rfc1337 0) */
	ETCP_TWR_NETNS,		/* its namespace went away */
};

/* Why a request (SYN_RECV) went without becoming a connection. */
enum etcp_req_reason {
	ETCP_REQR_TIMEOUT,	/* etcp_synack_retries SYN-ACKs unanswered */
	ETCP_REQR_QUEUE_FULL,	/* evicted, the oldest of a full SYN queue */
	ETCP_REQR_RST,		/* the peer reset it */
	ETCP_REQR_SYN,		/* a SYN in its window: reset */
	ETCP_REQR_ICMP,		/* an ICMP error: the peer is unreachable */
	ETCP_REQR_LISTENER,	/* the listener closed: reset */
};

/* Why a closed socket was reset instead of finishing its close. */
enum etcp_orphan_reason {
	ETCP_ORPHR_FIN_TIMEOUT,	/* FIN_WAIT_2 outlived etcp_fin_timeout */
	ETCP_ORPHR_LINGER2,	/* ETCP_LINGER2 negative: reset in FIN_WAIT_2 */
	ETCP_ORPHR_MAX_ORPHANS,	/* over etcp_max_orphans */
	ETCP_ORPHR_UNREAD,	/* close() with data unread */
	ETCP_ORPHR_LINGER_ZERO,	/* close() with SO_LINGER {1, 0} */
	ETCP_ORPHR_DATA,	/* data after close() or shutdown(SHUT_RD) */
	ETCP_ORPHR_SYN,		/* a new SYN reached the orphaned FIN_WAIT_2 */
};

/*
 * The address fields of an event from the addresses as etcp's tables key
 * them (IPv6, IPv4 v4-mapped), ours first.
 */
static inline void etcp_trace_addrs(u8 *saddr, u8 *daddr, u8 *saddr_v6,
				    u8 *daddr_v6, u16 *family,
				    const struct in6_addr *laddr,
				    const struct in6_addr *raddr)
{
	memcpy(saddr_v6, laddr, sizeof(*laddr));
	memcpy(daddr_v6, raddr, sizeof(*raddr));
	if (ipv6_addr_v4mapped(raddr)) {
		*family = AF_INET;
		memcpy(saddr, &laddr->s6_addr32[3], 4);
		memcpy(daddr, &raddr->s6_addr32[3], 4);
	} else {
		*family = AF_INET6;
		memset(saddr, 0, 4);
		memset(daddr, 0, 4);
	}
}

/* The same for a segment @skb received: we are its destination. */
static inline void etcp_trace_skb_addrs(u8 *saddr, u8 *daddr, u8 *saddr_v6,
					u8 *daddr_v6, u16 *family,
					const struct sk_buff *skb)
{
	struct in6_addr src, dst;

	etcp_skb_addrs(skb, &src, &dst);
	etcp_trace_addrs(saddr, daddr, saddr_v6, daddr_v6, family, &dst, &src);
}

/* Why a segment went again, from where it is and what it is marked. */
static inline enum etcp_rtx_reason etcp_trace_rtx_reason(const struct sock *sk,
							 const struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	const struct etcp_sock *esk = etcp_sk(sk);

	if (cb->lost)
		return ETCP_RTX_SACK;
	if (esk->ca_state == ETCP_CA_RECOVERY)
		return ETCP_RTX_FAST;
	/* Sent before at a larger size: etcp_simple_retransmit(). */
	if (cb->seg_size > esk->snd_mss)
		return ETCP_RTX_MTU;
	return ETCP_RTX_RTO;
}

#endif /* _ETCP_TRACE_ONCE */

/* Symbolic values, resolved for user space by TRACE_DEFINE_ENUM. */
#define etcp_trace_states				\
	etcp_em(TCP_ESTABLISHED)			\
	etcp_em(TCP_SYN_SENT)				\
	etcp_em(TCP_SYN_RECV)				\
	etcp_em(TCP_FIN_WAIT1)				\
	etcp_em(TCP_FIN_WAIT2)				\
	etcp_em(TCP_TIME_WAIT)				\
	etcp_em(TCP_CLOSE)				\
	etcp_em(TCP_CLOSE_WAIT)				\
	etcp_em(TCP_LAST_ACK)				\
	etcp_em(TCP_LISTEN)				\
	etcp_eme(TCP_CLOSING)

#define etcp_trace_rtx_reasons				\
	etcp_emr(ETCP_RTX_RTO, rto)			\
	etcp_emr(ETCP_RTX_FAST, fast)			\
	etcp_emr(ETCP_RTX_SACK, sack)			\
	etcp_emr(ETCP_RTX_MTU, mtu)			\
	etcp_emre(ETCP_RTX_SYN, syn)

#define etcp_trace_tw_reasons				\
	etcp_emr(ETCP_TWR_TIMER, timer)			\
	etcp_emr(ETCP_TWR_SYN, syn)			\
	etcp_emr(ETCP_TWR_RST, rst)			\
	etcp_emre(ETCP_TWR_NETNS, netns)

#define etcp_trace_req_reasons				\
	etcp_emr(ETCP_REQR_TIMEOUT, timeout)		\
	etcp_emr(ETCP_REQR_QUEUE_FULL, queue_full)	\
	etcp_emr(ETCP_REQR_RST, rst)			\
	etcp_emr(ETCP_REQR_SYN, syn)			\
	etcp_emr(ETCP_REQR_ICMP, icmp)			\
	etcp_emre(ETCP_REQR_LISTENER, listener_closed)

#define etcp_trace_orphan_reasons			\
	etcp_emr(ETCP_ORPHR_FIN_TIMEOUT, fin_timeout)	\
	etcp_emr(ETCP_ORPHR_LINGER2, linger2)		\
	etcp_emr(ETCP_ORPHR_MAX_ORPHANS, max_orphans)	\
	etcp_emr(ETCP_ORPHR_UNREAD, unread_data)	\
	etcp_emr(ETCP_ORPHR_LINGER_ZERO, linger_zero)	\
	etcp_emr(ETCP_ORPHR_DATA, data_after_close)	\
	etcp_emre(ETCP_ORPHR_SYN, syn)

/* First pass: tell user space the enums' values. */
#undef etcp_em
#undef etcp_eme
#undef etcp_emr
#undef etcp_emre
#define etcp_em(a)		TRACE_DEFINE_ENUM(a);
#define etcp_eme(a)		TRACE_DEFINE_ENUM(a);
#define etcp_emr(a, b)	TRACE_DEFINE_ENUM(a);
#define etcp_emre(a, b)	TRACE_DEFINE_ENUM(a);

etcp_trace_states
etcp_trace_rtx_reasons
etcp_trace_tw_reasons
etcp_trace_req_reasons
etcp_trace_orphan_reasons

/* Second pass: the tables of __print_symbolic(). */
#undef etcp_em
#undef etcp_eme
#undef etcp_emr
#undef etcp_emre
#define etcp_em(a)		{ a, #a },
#define etcp_eme(a)		{ a, #a }
#define etcp_emr(a, b)	{ a, #b },
#define etcp_emre(a, b)	{ a, #b }

#define etcp_show_state(s)	__print_symbolic(s, etcp_trace_states)
#define etcp_show_family(f)	__print_symbolic(f, { AF_INET, "AF_INET" }, \
						 { AF_INET6, "AF_INET6" })
#define etcp_show_flags(f)	__print_flags(f, "|",			\
					      { ETCP_FLAG_FIN, "FIN" },	\
					      { ETCP_FLAG_SYN, "SYN" },	\
					      { ETCP_FLAG_RST, "RST" },	\
					      { ETCP_FLAG_PSH, "PSH" },	\
					      { ETCP_FLAG_ACK, "ACK" },	\
					      { ETCP_FLAG_URG, "URG" })

/* The connection's fields, shared by every event. */
#define ETCP_TP_CONN_FIELDS				\
	__field(unsigned int, netns)			\
	__field(__u16, family)				\
	__field(__u16, sport)				\
	__field(__u16, dport)				\
	__array(__u8, saddr, 4)				\
	__array(__u8, daddr, 4)				\
	__array(__u8, saddr_v6, 16)			\
	__array(__u8, daddr_v6, 16)

#define ETCP_TP_STORE_CONN(net, laddr, raddr, lport, rport)		\
	do {								\
		__entry->netns = (net)->ns.inum;			\
		__entry->sport = ntohs(lport);				\
		__entry->dport = ntohs(rport);				\
		etcp_trace_addrs(__entry->saddr, __entry->daddr,	\
				 __entry->saddr_v6, __entry->daddr_v6,	\
				 &__entry->family, laddr, raddr);	\
	} while (0)

#define ETCP_TP_STORE_SK(sk)						\
	do {								\
		const struct sock *s_ = (sk);				\
		struct in6_addr l_, r_;					\
									\
		etcp_sk_addrs(s_, &l_, &r_);				\
		ETCP_TP_STORE_CONN(sock_net(s_), &l_, &r_,		\
				   inet_sk(s_)->inet_sport,		\
				   inet_sk(s_)->inet_dport);		\
	} while (0)

#define ETCP_TP_CONN_FMT						\
	"netns=%u family=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 "	\
	"saddrv6=%pI6c daddrv6=%pI6c"

#define ETCP_TP_CONN_ARGS						\
	__entry->netns, etcp_show_family(__entry->family),		\
	__entry->sport, __entry->dport, __entry->saddr, __entry->daddr,	\
	__entry->saddr_v6, __entry->daddr_v6

/*
 * A segment of a full socket sent again (@skb, of the write queue), or
 * its SYN (@skb NULL; seq the ISS).  retransmits counts the timeouts of
 * the current segment (the SYN's), as ETCP_INFO's etcpi_retransmits.
 */
TRACE_EVENT(etcp_retransmit_skb,

	TP_PROTO(const struct sock *sk, const struct sk_buff *skb,
		 enum etcp_rtx_reason reason),

	TP_ARGS(sk, skb, reason),

	TP_STRUCT__entry(
		__field(const void *, skbaddr)
		__field(const void *, skaddr)
		ETCP_TP_CONN_FIELDS
		__field(int, state)
		__field(__u32, seq)
		__field(__u32, len)
		__field(__u8, retransmits)
		__field(int, reason)
	),

	TP_fast_assign(
		const struct etcp_sock *esk = etcp_sk(sk);

		__entry->skbaddr = skb;
		__entry->skaddr = sk;
		ETCP_TP_STORE_SK(sk);
		__entry->state = sk->sk_state;
		__entry->seq = skb ? ETCP_SKB_CB(skb)->seq : esk->iss;
		__entry->len = skb ? skb->len : 0;
		__entry->retransmits = esk->retransmits;
		__entry->reason = reason;
	),

	TP_printk(ETCP_TP_CONN_FMT " state=%s seq=%u len=%u retransmits=%u reason=%s",
		  ETCP_TP_CONN_ARGS, etcp_show_state(__entry->state),
		  __entry->seq, __entry->len, __entry->retransmits,
		  __print_symbolic(__entry->reason, etcp_trace_rtx_reasons))
);

/*
 * An RST sent.  @skb is the segment it answers, if any (the addresses
 * are then that segment's, reversed); else it comes from @req, a request
 * of listener @sk, or from connection @sk.  @sk is NULL when no socket
 * had the segment (state NONE, 0).
 */
TRACE_EVENT(etcp_send_reset,

	TP_PROTO(const struct sock *sk, const struct etcp_request *req,
		 const struct sk_buff *skb),

	TP_ARGS(sk, req, skb),

	TP_STRUCT__entry(
		__field(const void *, skbaddr)
		__field(const void *, skaddr)
		ETCP_TP_CONN_FIELDS
		__field(int, state)
	),

	TP_fast_assign(
		__entry->skbaddr = skb;
		__entry->skaddr = sk;
		if (skb) {
			/*
			 * The socket's namespace if there is one: a segment
			 * out of a backlog may outlive its device.
			 */
			__entry->netns = (sk ? sock_net(sk) :
					  dev_net(skb->dev))->ns.inum;
			__entry->sport = ntohs(tcp_hdr(skb)->dest);
			__entry->dport = ntohs(tcp_hdr(skb)->source);
			etcp_trace_skb_addrs(__entry->saddr, __entry->daddr,
					     __entry->saddr_v6,
					     __entry->daddr_v6,
					     &__entry->family, skb);
		} else if (req) {
			ETCP_TP_STORE_CONN(sock_net(sk), &req->laddr,
					   &req->raddr, req->lport,
					   req->rport);
		} else {
			ETCP_TP_STORE_SK(sk);
		}
		if (req)
			__entry->state = TCP_SYN_RECV;
		else
			__entry->state = sk ? sk->sk_state : 0;
	),

	TP_printk(ETCP_TP_CONN_FMT " state=%s", ETCP_TP_CONN_ARGS,
		  __print_symbolic(__entry->state, { 0, "NONE" },
				   etcp_trace_states))
);

/* An RST accepted by connection @sk, which it resets (or ends). */
TRACE_EVENT(etcp_receive_reset,

	TP_PROTO(const struct sock *sk),

	TP_ARGS(sk),

	TP_STRUCT__entry(
		__field(const void *, skaddr)
		ETCP_TP_CONN_FIELDS
		__field(int, state)
	),

	TP_fast_assign(
		__entry->skaddr = sk;
		ETCP_TP_STORE_SK(sk);
		__entry->state = sk->sk_state;
	),

	TP_printk(ETCP_TP_CONN_FMT " state=%s", ETCP_TP_CONN_ARGS,
		  etcp_show_state(__entry->state))
);

/*
 * A TIME_WAIT entry, its sequence numbers and its length (2 * MSL, ms).
 * The events of one entry share twaddr.
 */
#define ETCP_TP_TW_FIELDS				\
	__field(const void *, twaddr)			\
	ETCP_TP_CONN_FIELDS				\
	__field(__u32, snd_nxt)				\
	__field(__u32, rcv_nxt)				\
	__field(__u32, timeout_ms)

#define ETCP_TP_STORE_TW(tw)						\
	do {								\
		const struct etcp_tw *t_ = (tw);			\
									\
		__entry->twaddr = t_;					\
		ETCP_TP_STORE_CONN(t_->net, &t_->laddr, &t_->raddr,	\
				   t_->lport, t_->rport);		\
		__entry->snd_nxt = t_->snd_nxt;				\
		__entry->rcv_nxt = t_->rcv_nxt;				\
		__entry->timeout_ms = jiffies_to_msecs(t_->timeout);	\
	} while (0)

#define ETCP_TP_TW_FMT		ETCP_TP_CONN_FMT " snd_nxt=%u rcv_nxt=%u timeout_ms=%u"
#define ETCP_TP_TW_ARGS							\
	ETCP_TP_CONN_ARGS, __entry->snd_nxt, __entry->rcv_nxt,		\
	__entry->timeout_ms

/* Connection @sk, in state oldstate, became TIME_WAIT entry @tw. */
TRACE_EVENT(etcp_time_wait_create,

	TP_PROTO(const struct etcp_tw *tw, const struct sock *sk),

	TP_ARGS(tw, sk),

	TP_STRUCT__entry(
		ETCP_TP_TW_FIELDS
		__field(const void *, skaddr)
		__field(int, oldstate)
	),

	TP_fast_assign(
		ETCP_TP_STORE_TW(tw);
		__entry->skaddr = sk;
		__entry->oldstate = sk->sk_state;
	),

	TP_printk(ETCP_TP_TW_FMT " oldstate=%s", ETCP_TP_TW_ARGS,
		  etcp_show_state(__entry->oldstate))
);

/*
 * A segment with these flags restarted 2 * MSL: the peer's FIN again
 * (our last ACK was lost), or an ACK.
 */
TRACE_EVENT(etcp_time_wait_restart,

	TP_PROTO(const struct etcp_tw *tw, u8 flags),

	TP_ARGS(tw, flags),

	TP_STRUCT__entry(
		ETCP_TP_TW_FIELDS
		__field(__u8, flags)
	),

	TP_fast_assign(
		ETCP_TP_STORE_TW(tw);
		__entry->flags = flags;
	),

	TP_printk(ETCP_TP_TW_FMT " flags=%s", ETCP_TP_TW_ARGS,
		  etcp_show_flags(__entry->flags))
);

/* The entry is gone from the tables, for @reason. */
TRACE_EVENT(etcp_time_wait_end,

	TP_PROTO(const struct etcp_tw *tw, enum etcp_tw_reason reason),

	TP_ARGS(tw, reason),

	TP_STRUCT__entry(
		ETCP_TP_TW_FIELDS
		__field(int, reason)
	),

	TP_fast_assign(
		ETCP_TP_STORE_TW(tw);
		__entry->reason = reason;
	),

	TP_printk(ETCP_TP_TW_FMT " reason=%s", ETCP_TP_TW_ARGS,
		  __print_symbolic(__entry->reason, etcp_trace_tw_reasons))
);

/* A request (SYN_RECV) @req of @listener; its events share reqaddr. */
#define ETCP_TP_REQ_FIELDS				\
	__field(const void *, skaddr)			\
	__field(const void *, reqaddr)			\
	ETCP_TP_CONN_FIELDS

#define ETCP_TP_STORE_REQ(listener, req)				\
	do {								\
		const struct sock *l_ = (listener);			\
		const struct etcp_request *r_ = (req);			\
									\
		__entry->skaddr = l_;					\
		__entry->reqaddr = r_;					\
		ETCP_TP_STORE_CONN(sock_net(l_), &r_->laddr,		\
				   &r_->raddr, r_->lport, r_->rport);	\
	} while (0)

DECLARE_EVENT_CLASS(etcp_event_request,

	TP_PROTO(const struct sock *listener, const struct etcp_request *req),

	TP_ARGS(listener, req),

	TP_STRUCT__entry(
		ETCP_TP_REQ_FIELDS
		__field(__u32, iss)
		__field(__u32, irs)
		__field(__u8, retransmits)
	),

	TP_fast_assign(
		ETCP_TP_STORE_REQ(listener, req);
		__entry->iss = req->iss;
		__entry->irs = req->irs;
		__entry->retransmits = req->retransmits;
	),

	TP_printk(ETCP_TP_CONN_FMT " iss=%u irs=%u retransmits=%u",
		  ETCP_TP_CONN_ARGS, __entry->iss, __entry->irs,
		  __entry->retransmits)
);

/* A SYN made a request, which answers with a SYN-ACK. */
DEFINE_EVENT(etcp_event_request, etcp_request_create,
	TP_PROTO(const struct sock *listener, const struct etcp_request *req),
	TP_ARGS(listener, req)
);

/* The request's SYN-ACK went again (its timer; retransmits counts it). */
DEFINE_EVENT(etcp_event_request, etcp_retransmit_synack,
	TP_PROTO(const struct sock *listener, const struct etcp_request *req),
	TP_ARGS(listener, req)
);

/* The request went, for @reason, without becoming a connection. */
TRACE_EVENT(etcp_request_drop,

	TP_PROTO(const struct sock *listener, const struct etcp_request *req,
		 enum etcp_req_reason reason),

	TP_ARGS(listener, req, reason),

	TP_STRUCT__entry(
		ETCP_TP_REQ_FIELDS
		__field(__u8, retransmits)
		__field(int, reason)
	),

	TP_fast_assign(
		ETCP_TP_STORE_REQ(listener, req);
		__entry->retransmits = req->retransmits;
		__entry->reason = reason;
	),

	TP_printk(ETCP_TP_CONN_FMT " retransmits=%u reason=%s",
		  ETCP_TP_CONN_ARGS, __entry->retransmits,
		  __print_symbolic(__entry->reason, etcp_trace_req_reasons))
);

/*
 * A socket the application closed (an orphan, or one being closed; for
 * data_after_close, one shut down for reading too) is reset instead of
 * finishing its close in order, for @reason; state is where it was.
 */
TRACE_EVENT(etcp_orphan_reset,

	TP_PROTO(const struct sock *sk, enum etcp_orphan_reason reason),

	TP_ARGS(sk, reason),

	TP_STRUCT__entry(
		__field(const void *, skaddr)
		ETCP_TP_CONN_FIELDS
		__field(int, state)
		__field(int, reason)
	),

	TP_fast_assign(
		__entry->skaddr = sk;
		ETCP_TP_STORE_SK(sk);
		__entry->state = sk->sk_state;
		__entry->reason = reason;
	),

	TP_printk(ETCP_TP_CONN_FMT " state=%s reason=%s", ETCP_TP_CONN_ARGS,
		  etcp_show_state(__entry->state),
		  __print_symbolic(__entry->reason, etcp_trace_orphan_reasons))
);

#endif /* _ETCP_TRACE_H */

/*
 * Out of the kernel tree the header is found by the compiler's search
 * path, not include/trace/events/: Kbuild adds module/ for trace.o.
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
