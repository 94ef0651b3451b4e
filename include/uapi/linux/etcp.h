/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * etcp: an experimental transport on IP protocol 253 that mirrors TCP's
 * connection state machine.  This header is everything a program needs to
 * use it; the module and the selftests include it as well.
 */
#ifndef _UAPI_LINUX_ETCP_H
#define _UAPI_LINUX_ETCP_H

#include <linux/types.h>

/* RFC 3692 experimentation number; the module parameter proto=254 picks the other. */
#define IPPROTO_ETCP		253
#define SOL_ETCP		IPPROTO_ETCP

/*
 * Socket options at level SOL_ETCP.  The numbers are TCP's so that code
 * written for TCP only needs its level and protocol changed.
 */
#define ETCP_NODELAY		1	/* disable Nagle */
#define ETCP_MAXSEG		2	/* limit the MSS */
#define ETCP_CORK		3	/* hold short segments (TCP_CORK) */
#define ETCP_KEEPIDLE		4	/* s before the first keepalive probe */
#define ETCP_KEEPINTVL		5	/* s between keepalive probes */
#define ETCP_KEEPCNT		6	/* probes before the connection is dropped */
#define ETCP_SYNCNT		7	/* SYN retransmissions before ETIMEDOUT */
#define ETCP_LINGER2		8	/* lifetime of an orphaned FIN_WAIT_2, s */
#define ETCP_INFO		11	/* struct etcp_info, read only */
#define ETCP_QUICKACK		12	/* 0: delay ACKs; 1: ACK what came now */

/*
 * Connection states.  The numbers are TCP's (include/net/tcp_states.h), so
 * tools that decode the "st" column of /proc/net/tcp decode /proc/net/etcp.
 */
enum {
	ETCP_ESTABLISHED = 1,
	ETCP_SYN_SENT,
	ETCP_SYN_RECV,
	ETCP_FIN_WAIT1,
	ETCP_FIN_WAIT2,
	ETCP_TIME_WAIT,
	ETCP_CLOSE,
	ETCP_CLOSE_WAIT,
	ETCP_LAST_ACK,
	ETCP_LISTEN,
	ETCP_CLOSING,
};

/*
 * getsockopt(fd, SOL_ETCP, ETCP_INFO, &info, &len).  The kernel copies
 * min(len, sizeof(struct etcp_info)) bytes and stores that length, so the
 * structure may grow at its end without breaking older programs.
 * Times are in microseconds, sequence numbers are absolute.
 */
struct etcp_info {
	__u8	etcpi_state;		/* ETCP_* state */
	__u8	etcpi_retransmits;	/* retransmissions of the current segment */
	__u8	etcpi_backoff;		/* exponential backoff shift of the RTO */
	__u8	etcpi_orphan;		/* 1 when the application closed it */

	__u32	etcpi_rto;		/* retransmission timeout, us */
	__u32	etcpi_srtt;		/* smoothed RTT, us */
	__u32	etcpi_rttvar;		/* RTT variation, us */

	__u32	etcpi_snd_mss;		/* MSS we send with (peer's, bounded) */
	__u32	etcpi_rcv_mss;		/* MSS we announced */

	__u32	etcpi_iss;		/* initial send sequence number */
	__u32	etcpi_irs;		/* initial receive sequence number */
	__u32	etcpi_snd_una;
	__u32	etcpi_snd_nxt;
	__u32	etcpi_rcv_nxt;
	__u32	etcpi_snd_wnd;		/* peer's advertised window, bytes */
	__u32	etcpi_rcv_wnd;		/* window we advertise, bytes */

	__u32	etcpi_snd_cwnd;		/* congestion window, segments */
	__u32	etcpi_snd_ssthresh;	/* slow start threshold, segments */

	__u32	etcpi_total_retrans;	/* retransmitted segments, lifetime */
	__u32	etcpi_segs_out;
	__u32	etcpi_segs_in;

	__u64	etcpi_bytes_acked;	/* bytes of ours the peer acknowledged */
	__u64	etcpi_bytes_received;	/* bytes of the peer's we received */

	__u32	etcpi_pmtu;		/* path MTU the send MSS is bounded by */

	/* RFC 7323 window scale shifts; 0 when the SYNs did not agree on it */
	__u8	etcpi_snd_wscale;	/* the peer's: its windows << this */
	__u8	etcpi_rcv_wscale;	/* ours */
	__u16	etcpi_pad;

	/* Receive-buffer autotuning (as tcpi_rcv_rtt, tcpi_rcv_space) */
	__u32	etcpi_rcv_rtt;		/* the receiver's RTT, us; 0: none yet */
	__u32	etcpi_rcv_space;	/* most bytes read in one such RTT */
};

#endif /* _UAPI_LINUX_ETCP_H */
