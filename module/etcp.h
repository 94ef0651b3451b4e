/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etcp internals shared by the files of the module.
 */
#ifndef _ETCP_H
#define _ETCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/list_nulls.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <linux/timer.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <uapi/linux/etcp.h>

extern int etcp_proto_num;		/* IP protocol number in use: 253 or 254 */
extern unsigned int etcp_net_id;
extern struct proto etcp_prot;
extern const struct proto_ops etcp_stream_ops;

/* RFC 9293 section 3.7.1: the MSS assumed when a SYN carries none. */
#define ETCP_DEFAULT_MSS	536
/* Bounds of ETCP_MAXSEG, as TCP_MAXSEG's (TCP_MIN_MSS, MAX_TCP_WINDOW). */
#define ETCP_MIN_MSS		88
#define ETCP_MAX_MSS		32767
/*
 * The smallest segment a peer's MSS option can make us send: Linux's
 * tcp_min_snd_mss default since CVE-2019-11479 (an MSS of 1 would turn
 * one write into a segment per byte).
 */
#define ETCP_MIN_SND_MSS	48
/* Room for the link, IP and the longest etcp header in front of a segment. */
#define ETCP_MAX_HEADER		(MAX_HEADER + sizeof(struct ipv6hdr) + 60)
/* RFC 6298 2.1: initial RTO of one second; Linux caps backoff at 120 s. */
#define ETCP_TIMEOUT_INIT	HZ
#define ETCP_RTO_MAX		(120 * HZ)
/* RFC 6298 5.7: the RTO after a handshake that gave no RTT sample. */
#define ETCP_TIMEOUT_FALLBACK	(3 * HZ)
/* RFC 6298 2.4 asks for at least one second; Linux, and etcp, use 200 ms. */
#define ETCP_RTO_MIN		(HZ / 5)
/* The soonest a timer may fire: Linux's TCP_TIMEOUT_MIN, two jiffies. */
#define ETCP_TIMEOUT_MIN	2U
/* What a tail loss probe waits beyond 2 * SRTT (Linux: TCP_TIMEOUT_MIN_US). */
#define ETCP_PTO_MIN_US		2000U
/* A request's timer that finds the listener owned retries this soon. */
#define ETCP_TIMER_DEFER	(HZ / 20)
/* Linux's delayed-ACK timeout (RFC 1122 4.2.3.2 allows up to 500 ms). */
#define ETCP_DELACK		(HZ / 25)
/* Quick ACKs at most, at the start or after idle or loss (Linux's 16). */
#define ETCP_MAX_QUICKACKS	16
#define ETCP_MAX_SYNCNT		127
/* Bounds of the keepalive options, as TCP's (MAX_TCP_KEEP*). */
#define ETCP_MAX_KEEPIDLE	32767
#define ETCP_MAX_KEEPINTVL	32767
#define ETCP_MAX_KEEPCNT	127
/* The largest etcp_fin_timeout and ETCP_LINGER2, seconds. */
#define ETCP_MAX_FIN_TIMEOUT	600
/* RFC 6928: the initial congestion window, in segments, as Linux. */
#define ETCP_INIT_CWND		10
#define ETCP_INFINITE_SSTHRESH	0x7fffffff
/* The largest window field (RFC 9293 3.1), before any scaling. */
#define ETCP_MAX_WINDOW		65535U
/* RFC 7323 2.3: the largest shift; a larger one received counts as 14. */
#define ETCP_MAX_WSCALE		14

/*
 * SACK blocks an ACK carries (RFC 2018 3): four fit in the 40 bytes of
 * options without timestamps, as Linux's TCP_NUM_SACKS.
 */
#define ETCP_NUM_SACKS		4
/*
 * RFC 6675 2's DupThresh, which a connection raises when it sees
 * reordering (sack.c), up to Linux's tcp_max_reordering.
 */
#define ETCP_DUPTHRESH		3
#define ETCP_MAX_REORDERING	300

/* One block of received data beyond a hole: [start, end). */
struct etcp_sack_block {
	u32 start;
	u32 end;
};

/*
 * The largest receive buffer autotuning grows to (stream.c): 6 MiB, TCP's
 * default tcp_rmem[2] up to 6.12 (7.2's is 32 MiB).  The window scale is
 * chosen for it when no larger buffer is allowed (net.core.rmem_max), so
 * that etcp announces the shift 6.1's and 6.12's TCP do (7).
 */
#define ETCP_RMEM_MAX		(6 * 1024 * 1024)
/* A new socket's SO_SNDBUF and what it may grow to: tcp_wmem[1], [2]. */
#define ETCP_WMEM_DEFAULT	(16 * 1024)
#define ETCP_WMEM_MAX		(4 * 1024 * 1024)

/*
 * Per network namespace tunables, one int each so that proc_dointvec_minmax
 * handles them.  Read them with READ_ONCE(): a sysctl write may race.
 */
struct etcp_sysctl {
	int syn_retries;
	int synack_retries;
	int msl;			/* ms */
	int fin_timeout;		/* s */
	int max_orphans;
	int max_tw_buckets;
	int rfc1337;
	int retries2;
	int keepalive_time;		/* s */
	int keepalive_intvl;		/* s */
	int keepalive_probes;
	int challenge_ack_limit;	/* per second */
	int invalid_ratelimit;		/* ms */
	int window_scaling;		/* RFC 7323 window scale option: 0, 1 */
	int sack;			/* RFC 2018 SACK-permitted option: 0, 1 */
	int dsack;			/* RFC 2883 D-SACK blocks sent: 0, 1 */
	int early_retrans;		/* tail loss probes: 3 or 4, else none */
};

/* Counters shown in /proc/net/etcp_stat; names in proc.c. */
enum etcp_mib_field {
	ETCP_MIB_INSEGS,		/* segments handed to etcp by IP */
	ETCP_MIB_OUTSEGS,		/* segments sent */
	ETCP_MIB_INCSUMERRORS,		/* dropped: bad checksum */
	ETCP_MIB_INHDRERRORS,		/* dropped: malformed header */
	ETCP_MIB_INBADOPTS,		/* dropped: malformed options */
	ETCP_MIB_INDISCARDS,		/* dropped unanswered by an RFC 9293 rule */
	ETCP_MIB_NOSOCKET,		/* no socket for the segment: RST */
	ETCP_MIB_OUTRSTS,		/* RSTs sent */
	ETCP_MIB_ACTIVEOPENS,		/* CLOSE -> SYN_SENT */
	ETCP_MIB_PASSIVEOPENS,		/* LISTEN -> SYN_RECV (requests) */
	ETCP_MIB_ATTEMPTFAILS,		/* SYN_SENT/SYN_RECV -> CLOSE */
	ETCP_MIB_ESTABRESETS,		/* ESTABLISHED -> CLOSE by RST */
	ETCP_MIB_SYNRETRANS,		/* SYN and SYN-ACK retransmissions */
	ETCP_MIB_REQTIMEOUTS,		/* requests dropped after synack_retries */
	ETCP_MIB_LISTENOVERFLOWS,	/* SYN or ACK dropped: accept queue full */
	ETCP_MIB_LISTENDROPS,		/* oldest request dropped: SYN queue full */
	ETCP_MIB_OUTOFWINDOW,		/* segment outside the receive window */
	ETCP_MIB_BACKLOGDROPS,		/* dropped: socket backlog full */
	ETCP_MIB_CHALLENGEACKS,		/* RFC 5961 challenge ACKs sent */
	ETCP_MIB_CHALLENGEACKSKIPPED,	/* ... not sent: over the limit */
	ETCP_MIB_INRSTS,		/* segments with RST received */
	ETCP_MIB_ACKINVALID,		/* ACK of unsent or too old data */
	ETCP_MIB_RETRANSSEGS,		/* data segments sent again */
	ETCP_MIB_FASTRETRANS,		/* ... of them after three duplicate ACKs */
	ETCP_MIB_TIMEOUTS,		/* retransmission timer expiries */
	ETCP_MIB_OFOQUEUE,		/* segments queued out of order */
	ETCP_MIB_DELAYEDACKS,		/* ACKs sent by the delayed-ACK timer */
	ETCP_MIB_ZEROWINDOWPROBES,	/* probes of a closed peer window */
	ETCP_MIB_KEEPALIVEPROBES,	/* keepalive probes sent */
	ETCP_MIB_ABORTONTIMEOUT,	/* aborted: retries2 or keepalive */
	ETCP_MIB_RCVPRUNED,		/* in-window data dropped: no memory */
	ETCP_MIB_DATADUPS,		/* segments with only old data */
	ETCP_MIB_ABORTONCLOSE,		/* close() with unread data: RST */
	ETCP_MIB_ABORTONDATA,		/* SO_LINGER {1,0}, data after close */
	ETCP_MIB_ABORTONLINGER,		/* orphaned FIN_WAIT_2 timed out */
	ETCP_MIB_ABORTONMEMORY,		/* reset: too many orphans */
	ETCP_MIB_TIMEWAITED,		/* TIME_WAIT entries that ran out */
	ETCP_MIB_TIMEWAITKILLED,	/* ... ended by an RST */
	ETCP_MIB_TIMEWAITRECYCLED,	/* ... ended by a new SYN */
	ETCP_MIB_TIMEWAITOVERFLOW,	/* TIME_WAIT skipped: max_tw_buckets */
	ETCP_MIB_ACKSKIPPEDSEQ,		/* out-of-window ACK not sent: limit */
	ETCP_MIB_ACKSKIPPEDTIMEWAIT,	/* ... by a TIME_WAIT entry */
	ETCP_MIB_INNONLINEAR,		/* segments with data in page fragments */
	ETCP_MIB_OFOPRUNED,		/* out-of-order data given back: memory */
	ETCP_MIB_RCVCOLLAPSED,		/* small segments copied into a buffer */
	ETCP_MIB_OUTOFWINDOWICMPS,	/* ICMP error quoting a seq not in flight */
	ETCP_MIB_ACKSKIPPEDCHALLENGE,	/* request's challenge ACK not sent: limit */
	ETCP_MIB_SPURIOUSRTXHOSTQUEUES,	/* SYN not sent again: still in the host */
	ETCP_MIB_SACKRECOVERY,		/* fast recoveries led by SACK (RFC 6675) */
	ETCP_MIB_DSACKSENT,		/* D-SACK blocks sent (RFC 2883) */
	ETCP_MIB_DSACKRECV,		/* D-SACK blocks received */
	ETCP_MIB_DSACKUNDO,		/* recoveries undone: all spurious */
	ETCP_MIB_REORDERSEEN,		/* DupThresh raised: reordering seen */
	ETCP_MIB_LOSSPROBES,		/* tail loss probes sent (RFC 8985 7) */
	ETCP_MIB_LOSSPROBERECOVERY,	/* ... that repaired a loss alone */
	ETCP_MIB_LOSTRETRANSMIT,	/* retransmissions found lost, sent again */
	ETCP_MIB_MAX
};

struct etcp_mib {
	unsigned long mibs[ETCP_MIB_MAX];
};

/*
 * Listeners, by port; a power of two.  The connection and port tables are
 * sized from memory when the module loads (etcp_hash_init()).
 */
#define ETCP_LHASH_SIZE		32
/*
 * Every socket, request and TIME_WAIT entry, in chains by address, for
 * /proc/net/etcp: a reader resumes in the chain it stopped in, not from
 * the start of one long list.
 */
#define ETCP_ALL_BITS		8
#define ETCP_ALL_SIZE		BIT(ETCP_ALL_BITS)

/* The tables of every entry, in the order a walk of them takes. */
enum {
	ETCP_WALK_SOCKS,		/* etcp_net.all_socks: full sockets */
	ETCP_WALK_REQS,			/* etcp_net.all_reqs: requests */
	ETCP_WALK_TWS,			/* etcp_net.all_tws: TIME_WAIT entries */
	ETCP_WALK_LISTS
};

/*
 * A place in a walk of those tables (hash.c): an entry's table, chain and
 * the number of entries before it in the chain.  All zero: the start.
 */
struct etcp_walk {
	int list;			/* ETCP_WALK_* */
	int bucket;			/* 0..ETCP_ALL_SIZE - 1 */
	int offset;
};

struct etcp_net {
	struct etcp_sysctl sysctl;
	struct ctl_table_header *sysctl_hdr;
	struct etcp_mib __percpu *mib;
	struct sock *ctl_sk;		/* sends RSTs that have no socket */
	struct sock *ctl_sk6;		/* the same for IPv6 */

	/*
	 * Writers of every table below take this lock.  The receive path
	 * reads lhash and ehash under RCU only; sockets are freed after a
	 * grace period (SOCK_RCU_FREE).  Connection setup is not a hot path,
	 * so one BH-safe lock per namespace is enough.
	 */
	spinlock_t lock;
	struct hlist_head all_socks[ETCP_ALL_SIZE];	/* every etcp socket */
	struct hlist_head all_reqs[ETCP_ALL_SIZE];	/* every request */
	struct hlist_head *bhash;		/* by port */
	struct hlist_nulls_head lhash[ETCP_LHASH_SIZE];
	struct hlist_nulls_head *ehash;		/* by 4-tuple */

	/* TIME_WAIT entries: by 4-tuple (RCU), by local port, all of them. */
	struct hlist_head *twhash;
	struct hlist_head *tw_bhash;
	struct hlist_head all_tws[ETCP_ALL_SIZE];
	atomic_t tw_count;
	/* Sockets the application closed whose close is not over. */
	atomic_t orphans;
	/* Tests only: every new connection's ISS, or -1 (fixed_isn). */
	long fixed_isn;

	/* RFC 5961 10: challenge ACKs left in the current second. */
	spinlock_t challenge_lock;
	unsigned long challenge_stamp;	/* jiffies / HZ of that second */
	u32 challenge_count;
};

/*
 * A full etcp socket.  inet_sock comes first: the socket layer casts.
 * Sequence variables are named as in RFC 9293 section 3.3.1.
 */
struct etcp_sock {
	struct inet_sock inet;
	struct hlist_node all_node;	/* etcp_net.all_socks */
	/* How segments leave: over IPv4 (also v4-mapped) or IPv6. */
	const struct etcp_af_ops *af;

	u32 iss;			/* initial send sequence number */
	u32 snd_una;			/* oldest unacknowledged */
	u32 snd_nxt;			/* next to send */
	u32 snd_wnd;			/* peer's window */
	u32 snd_wl1;			/* SEG.SEQ of the last window update */
	u32 snd_wl2;			/* SEG.ACK of the last window update */
	u32 irs;			/* initial receive sequence number */
	u32 rcv_nxt;			/* next expected */
	u32 rcv_wnd;			/* window we announced */

	/* The send side beyond RFC 9293's names, as BSD and Linux keep it. */
	u32 write_seq;			/* after the last byte queued by the user */
	u32 snd_max;			/* highest SND.NXT (go-back-N) */
	u32 snd_sml;			/* end of the last short segment (Nagle) */
	u32 max_window;			/* largest window the peer offered */
	/* The end of the highest block ever SACKed (sack.c), if sack_high_ok. */
	u32 sack_high;
	struct sk_buff *send_head;	/* first unsent skb on sk_write_queue */
	u32 packets_out;		/* segments sent, not acknowledged */
	/* Of them, by the SACK scoreboard's marks (sack.c). */
	u32 sacked_out;
	u32 lost_out;
	u32 retrans_out;
	/* SND.NXT after the tail loss probe out (tlp_on), output.c. */
	u32 tlp_high_seq;

	/* The receive side. */
	u32 copied_seq;			/* next byte the user reads */
	u32 rcv_wup;			/* RCV.NXT when the window was announced */
	u32 ack_sent;			/* RCV.NXT we last acknowledged */
	u16 rcv_mss;			/* largest segment seen, for delayed ACKs */
	/* DupThresh as this path has shown reordering (sack.c). */
	u16 reordering;
	u32 undo_retrans;		/* see undo_marker */
	struct sk_buff_head ooo_queue;	/* out of order, by sequence */
	/* RFC 2018: what ooo_queue holds, most recently grown first. */
	struct etcp_sack_block sacks[ETCP_NUM_SACKS];
	/*
	 * Receive-buffer autotuning (stream.c): how much the reader took in
	 * one round trip, which the receive buffer must hold to keep up; and
	 * that round trip as the receiver can see it, without timestamps.
	 */
	u32 rcvq_space;			/* most bytes read in one RTT so far */
	u32 rcvq_seq;			/* copied_seq when this RTT began */
	u32 rcvq_us;			/* etcp_clock_us() when it began */
	u32 rcv_rtt_us;			/* the receiver's RTT, 0: none yet */
	u32 rcv_rtt_seq;		/* RCV.NXT that ends the sample */
	u32 rcv_rtt_start;		/* etcp_clock_us() it began, 0: none */

	/* RFC 6298 state, microseconds; the timeouts in jiffies. */
	u32 srtt_us;			/* 0: no sample yet */
	u32 rttvar_us;
	u32 rto;			/* before backoff */
	/*
	 * RFC 8985 6.2's RACK.xmit_ts, all of RACK etcp keeps: when the
	 * latest-sent segment the peer is known to hold went (rack_ok),
	 * among segments sent once (sack.c).
	 */
	u32 rack_xmit_us;
	u8 backoff;			/* the timer waits rto << backoff */
	u8 undo_on:1;			/* see undo_marker */
	u8 sack_high_ok:1;
	u8 dsack_pending:1;		/* dsack goes in the next pure ACK */
	u8 tlp_on:1;			/* a loss probe is out: tlp_high_seq */
	u8 tlp_retrans:1;		/* ... and it sent old data again */
	u8 tlp_sacked:1;		/* ... and the peer SACKed it */
	u8 tlp_dsacked:1;		/* ... or D-SACKed its copy */
	u8 rack_ok:1;			/* rack_xmit_us is set */

	/* RFC 5681 / 6582, in segments. */
	u32 snd_cwnd;
	u32 snd_ssthresh;
	u32 snd_cwnd_cnt;		/* ACKed segments towards cwnd + 1 */
	u32 recover;			/* snd_max when recovery began */
	u8 ca_state;			/* ETCP_CA_* */
	u8 dupacks;
	/*
	 * Undoing a fast recovery that D-SACKs show was spurious (RFC 3708,
	 * Linux's undo_marker): SND.UNA when it began (undo_on), its
	 * retransmissions not yet reported twice (undo_retrans, above), and
	 * the window before.
	 */
	u32 undo_marker;
	u32 prior_cwnd;
	u32 prior_ssthresh;
	/* RFC 2883: data that arrived twice, for the peer to hear of. */
	struct etcp_sack_block dsack;

	u16 snd_mss;			/* largest segment we send: etcp_sync_mss() */
	u16 mss_clamp;			/* the peer's MSS, bounded: etcp_peer_mss() */
	u16 advmss;			/* MSS we announce */
	u16 user_mss;			/* ETCP_MAXSEG, 0 if unset */
	u8 syn_retries;			/* ETCP_SYNCNT, 0: the sysctl */
	u8 retransmits;			/* of the current segment */
	u8 probes_out;			/* zero-window probes unanswered */
	u8 keepalive_probes;		/* keepalive probes unanswered */
	u8 bound_by_connect:1;		/* port picked by connect(), shareable */
	u8 active_open:1;		/* left CLOSE by connect() */
	u8 nodelay:1;			/* ETCP_NODELAY */
	u8 corked:1;			/* ETCP_CORK */
	u8 ack_pending:1;		/* the delayed-ACK timer owes an ACK */
	u8 ack_sched:1;			/* what arrived since our last ACK wants one */
	u8 data_rcvd:1;			/* some data arrived: lrcvtime is set */
	u8 pingpong:1;			/* interactive: ACKs ride on answers */
	u8 quick;			/* ACKs still to send at once (timer.c) */
	u8 timer_mode;			/* what rtx_timer waits for: ETCP_TMR_* */
	u8 fin_rcvd;			/* 1: RCV.NXT counts the peer's FIN */
	int linger2;			/* ETCP_LINGER2 in s; 0: sysctl, <0: none */

	/* Keepalive options, 0: the sysctl; seconds. */
	u16 keepidle;
	u16 keepintvl;
	u8 keepcnt;
	/*
	 * RFC 7323 window scaling: offered in our SYN (SYN_SENT), then
	 * agreed by both SYNs; the shifts are 0 when it is not.
	 */
	u8 wscale_ok:1;
	u8 snd_wscale:4;		/* the peer's: SEG.WND << snd_wscale */
	/* RFC 2018: offered in our SYN, then agreed by both SYNs. */
	u8 sack_ok:1;
	u8 rcv_wscale:4;		/* ours: our window >> rcv_wscale */
	u8 num_sacks;			/* blocks in sacks[] */
	unsigned long rcv_tstamp;	/* jiffies of the last segment received */
	unsigned long lrcvtime;		/* jiffies of the last data received */
	unsigned long oow_ack_stamp;	/* jiffies of the last out-of-window ACK */

	/* Timer work that found the user holding the socket: ETCP_*_DEFERRED. */
	unsigned long deferred;

	/* Path MTU discovery (RFC 1191), icmp.c. */
	u32 pmtu;			/* the path MTU mss_clamp was bounded to */
	u32 mtu_info;			/* MTU of the last "fragmentation needed" */

	struct timer_list rtx_timer;	/* (SYN) retransmission, window probe */
	struct timer_list delack_timer;
	/* keepalive: sk->sk_timer */

	/* ETCP_INFO's counters. */
	u32 total_retrans;
	u32 segs_in;
	u32 segs_out;
	u32 syn_us;			/* when the SYN first left (RTT) */
	u64 bytes_acked;
	u64 bytes_received;

	struct etcp_listener *lq;	/* from the first listen(), else NULL */
	struct list_head accept_node;	/* a child's place in accept_queue */
};

/*
 * A listener's queues, all under its socket lock.  Only listeners have
 * them, so they live apart from the socket: made by the first listen(),
 * kept until the socket is destroyed, so that poll() and accept() may
 * look at a socket that stops listening under them (shutdown()).
 */
struct etcp_listener {
	struct list_head syn_queue;	/* struct etcp_request, oldest first */
	struct list_head accept_queue;	/* established children */
	struct hlist_head *syn_table;	/* the SYN queue by 4-tuple, or NULL */
	unsigned int syn_qlen;
	u32 syn_table_mask;		/* buckets - 1, a power of two - 1 */
	u32 syn_table_seed;
};

/*
 * An AF_INET6 etcp socket: the IPv6 part at the end, where the socket
 * layer finds it (inet6_create(): pinet6, ETCP_IPV6_PINFO in compat.h).
 */
struct etcp6_sock {
	struct etcp_sock esk;
	struct ipv6_pinfo inet6;
};

/*
 * What differs between the two network layers under a connection: an
 * AF_INET6 socket talking to a v4-mapped address uses IPv4's (RFC 4291
 * 2.5.5.2, as TCP's "mapped" operations do).
 */
struct etcp_af_ops {
	/* Send a segment of the connection: ip_queue_xmit() and kin. */
	int (*queue_xmit)(struct sock *sk, struct sk_buff *skb,
			  struct flowi *fl);
	/* Fill in the checksum of segment @skb, whose bytes sum to @csum. */
	void (*set_check)(const struct sock *sk, struct sk_buff *skb,
			  __wsum csum);
	/* The connection's route, made again if stale; NULL if none. */
	struct dst_entry *(*route)(struct sock *sk);
	/* Does IP_MTU_DISCOVER / IPV6_MTU_DISCOVER take the path's MTU? */
	bool (*accept_pmtu)(const struct sock *sk);
	u16 net_header_len;		/* IP header without options */
	/* The peer's MSS when its SYN has none (RFC 9293 3.7.1, MUST-15). */
	u16 default_mss;
	/* What our super-segments are to the core (offload.c). */
	u16 gso_type;
};

extern const struct etcp_af_ops etcp_ipv4_ops;
extern const struct etcp_af_ops etcp_ipv6_ops;

/*
 * The timers /proc/net/etcp ("tr") and sock_diag (idiag_timer) show, by
 * /proc/net/tcp's numbers: etcp_sock_timer().
 */
enum {
	ETCP_TIMER_RETRANS = 1,
	ETCP_TIMER_KEEPALIVE = 2,
	ETCP_TIMER_TIME_WAIT = 3,
	ETCP_TIMER_PROBE = 4,
};

/* What rtx_timer is armed for in a synchronized state. */
enum {
	ETCP_TMR_NONE,
	ETCP_TMR_RETRANS,		/* data unacknowledged: RTO */
	ETCP_TMR_PROBE,			/* peer's window closed: persist */
	ETCP_TMR_LOSS_PROBE,		/* a tail loss probe, then the RTO */
};

/*
 * How etcp_write_xmit() treats a short last segment: as Nagle (and the
 * cork) decide, sent at once, or held for more as if corked (MSG_MORE).
 */
enum etcp_xmit {
	ETCP_XMIT_NAGLE,
	ETCP_XMIT_PUSH,
	ETCP_XMIT_MORE,
};

/* Congestion control states (RFC 5681 / 6582). */
enum {
	ETCP_CA_OPEN,
	ETCP_CA_RECOVERY,		/* fast recovery until recover is ACKed */
	ETCP_CA_LOSS,			/* after an RTO: slow start, go-back-N */
};

/* Bits of etcp_sock.deferred: release_sock() runs the timer's work. */
enum {
	ETCP_RTX_DEFERRED,
	ETCP_DELACK_DEFERRED,
	ETCP_KEEPALIVE_DEFERRED,
	ETCP_MTU_REDUCED_DEFERRED,	/* an ICMP lowered the path MTU */
};

/*
 * A connection in SYN_RECV on a listener: the lightweight entry TCP keeps
 * (RFC 9293 figure 6, lines 3-4) before a full socket exists.  It lives on
 * the listener's SYN queue, under the listener's socket lock.
 */
struct etcp_request {
	struct list_head node;		/* listener's syn_queue */
	struct hlist_node hash_node;	/* listener's syn_table */
	struct hlist_node all_node;	/* etcp_net.all_reqs */
	refcount_t refcnt;		/* the queue's, the timer's */
	struct sock *listener;		/* holds a reference */
	struct timer_list timer;	/* SYN-ACK retransmission */

	/* IPv4 addresses v4-mapped, as everywhere in the tables. */
	struct in6_addr laddr, raddr;
	__be16 lport, rport;
	int iif;			/* where the SYN arrived */
	u32 iss, irs;
	u32 snd_wnd;			/* the SYN's window */
	u16 mss;			/* the peer's MSS option, 0: none */
	u8 retransmits;
	u16 rcv_wnd;			/* the window our SYN-ACK announces */
	u8 wscale_ok:1;			/* RFC 7323: both SYNs carry the option */
	u8 sack_ok:1;			/* RFC 2018: both SYNs carry SACK-permitted */
	u8 snd_wscale:4;		/* the peer's shift */
	u8 rcv_wscale:4;		/* ours */
	u32 synack_us;			/* when the SYN-ACK first left */
	unsigned long oow_ack_stamp;	/* as etcp_sock's */
	kuid_t uid;			/* the listener's, for /proc */
};

/*
 * A connection in TIME_WAIT (RFC 9293 3.6): what is left of a socket once
 * both FINs are acknowledged, just enough to answer the peer for 2 * MSL
 * and to keep the 4-tuple and the port from being reused meanwhile.  It
 * does not hold a reference on its namespace: the namespace's exit
 * purges it.  The hash and the timer share one reference, dropped by
 * whoever unhashes the entry; lookups take their own.
 */
struct etcp_tw {
	struct hlist_node node;		/* etcp_net.twhash, RCU */
	/*
	 * tw_bhash is walked under etcp_net.lock only, and an entry leaves
	 * it before its last reference goes (etcp_tw_unhash()): the grace
	 * period that frees the entry can use the room.
	 */
	union {
		struct hlist_node bind_node;	/* etcp_net.tw_bhash */
		struct rcu_head rcu;
	};
	struct hlist_node all_node;	/* etcp_net.all_tws */
	refcount_t refcnt;
	/*
	 * Small fields fill the hole before the timer: 176 bytes in all, a
	 * 192-byte slab object even where SLUB adds its free pointer (6.1,
	 * whose caches get a constructor: compat.h).
	 */
	u16 rcv_wnd;			/* the window field last sent (scaled) */
	u8 reuse:1;			/* the socket's SO_REUSEADDR */
	u8 reuseport:1;
	u8 bound_by_connect:1;		/* its port is shareable by connect() */
	u8 family;			/* the socket's: /proc/net/etcp or etcp6 */
	struct timer_list timer;	/* 2 * MSL */
	struct net *net;

	struct in6_addr laddr, raddr;	/* IPv4 ones v4-mapped */
	__be16 lport, rport;
	int bound_dev_if;
	u32 snd_nxt;			/* after our FIN */
	u32 rcv_nxt;			/* after the peer's FIN */
	kuid_t uid;
	u8 tos;				/* or traffic class */
	unsigned long timeout;		/* 2 * MSL when it began, jiffies */
	unsigned long oow_ack_stamp;	/* as etcp_sock's */
};

/*
 * What the receive path parses once per segment; lives in skb->cb after
 * IP's own control block, which replies may still need.
 */
struct etcp_skb_cb {
	union {
		struct inet_skb_parm h4;
		struct inet6_skb_parm h6;
	} header;
	u32 seq;			/* SEG.SEQ */
	u32 end_seq;			/* SEG.SEQ + SEG.LEN (SYN, FIN count) */
	union {
		struct {		/* a received segment */
			u32 ack_seq;	/* SEG.ACK */
			u16 wnd;	/* SEG.WND */
			u16 mss;	/* MSS option, 0 if absent */
			u32 tw_isn;	/* ISS for a SYN that ended TIME_WAIT */
		};
		struct {		/* an skb of the write queue */
			u32 sent_us;	/* when last sent, etcp_clock_us() */
			u8 retransmitted:1;	/* no RTT sample (Karn) */
			/* The SACK scoreboard's marks (sack.c). */
			u8 sacked:1;	/* the peer holds it */
			u8 lost:1;	/* RFC 6675 IsLost() */
			u8 rtx:1;	/* resent since marked lost */
			u16 segs;	/* segments it made when last sent */
			u16 seg_size;	/* their size (the MSS then) */
		};
	};
	u8 flags;			/* ETCP_FLAG_* */
	u8 owned:1;			/* received: a copy of ours, may grow */
	u8 tw_recycle:1;		/* received: tw_isn is set */
	u8 wscale_ok:1;			/* received SYN: window scale option */
	u8 wscale:4;			/* its shift, at most ETCP_MAX_WSCALE */
	u8 sack_ok:1;			/* received SYN: SACK-permitted option */
	u8 sack_off;			/* received: its SACK option's offset, 0: none */
};

/*
 * A request's timer as /proc/net/etcp and sock_diag show it: the SYN-ACK
 * retransmission (ETCP_TIMER_RETRANS) or none, firing at *@expires.
 */
static inline int etcp_req_timer_info(const struct etcp_request *req,
				      unsigned long *expires)
{
	*expires = READ_ONCE(req->timer.expires);
	return timer_pending(&req->timer) ? ETCP_TIMER_RETRANS : 0;
}

#define ETCP_SKB_CB(skb)	((struct etcp_skb_cb *)&((skb)->cb[0]))

/* Options (RFC 9293 3.2). */
#define ETCP_OPT_EOL		0
#define ETCP_OPT_NOP		1
#define ETCP_OPT_MSS		2
#define ETCP_OPTLEN_MSS		4
#define ETCP_OPT_WSCALE		3		/* RFC 7323 2.2 */
#define ETCP_OPTLEN_WSCALE	3
#define ETCP_OPT_SACK_PERM	4		/* RFC 2018 2 */
#define ETCP_OPTLEN_SACK_PERM	2
#define ETCP_OPT_SACK		5		/* RFC 2018 3: the blocks */
#define ETCP_OPTLEN_SACK_BASE	2		/* kind, length; 8 bytes a block */
#define ETCP_OPTLEN_SACK_BLOCK	8

/* The flag bits of header byte 13 (RFC 9293 3.1). */
#define ETCP_FLAG_FIN		0x01
#define ETCP_FLAG_SYN		0x02
#define ETCP_FLAG_RST		0x04
#define ETCP_FLAG_PSH		0x08
#define ETCP_FLAG_ACK		0x10
#define ETCP_FLAG_URG		0x20

static inline struct etcp_sock *etcp_sk(const struct sock *sk)
{
	return (struct etcp_sock *)sk;
}

static inline struct etcp_net *etcp_pernet(const struct net *net)
{
	return net_generic(net, etcp_net_id);
}

/*
 * The tables key every address as IPv6, an IPv4 one v4-mapped (RFC 4291
 * 2.5.5.2): one lookup serves both families, and a dual-stack socket's
 * IPv4 connections are found as an AF_INET socket's are.
 */
static inline bool etcp_sk_ipv6(const struct sock *sk)
{
	return IS_ENABLED(CONFIG_IPV6) && sk->sk_family == AF_INET6;
}

/* @sk's local and remote address, as the tables key them. */
/*
 * Does @sk's connection run over IPv6?  Not if it is an AF_INET socket,
 * nor an AF_INET6 one connected to a v4-mapped address: that one's IPv4
 * addresses are set as an AF_INET socket's (etcp_v6_connect()).
 */
static inline bool etcp_sk_v6_wire(const struct sock *sk)
{
	return etcp_sk_ipv6(sk) && !ipv6_addr_v4mapped(&sk->sk_v6_daddr);
}

/* @sk's local and remote address, as the tables key them. */
static inline void etcp_sk_addrs(const struct sock *sk, struct in6_addr *laddr,
				 struct in6_addr *raddr)
{
	if (etcp_sk_v6_wire(sk)) {
		*laddr = sk->sk_v6_rcv_saddr;
		*raddr = sk->sk_v6_daddr;
	} else {
		ipv6_addr_set_v4mapped(sk->sk_rcv_saddr, laddr);
		ipv6_addr_set_v4mapped(sk->sk_daddr, raddr);
	}
}

static inline bool etcp_skb_v6(const struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_IPV6);
}

/* A received segment's source and destination, as the tables key them. */
static inline void etcp_skb_addrs(const struct sk_buff *skb,
				  struct in6_addr *saddr, struct in6_addr *daddr)
{
	if (etcp_skb_v6(skb)) {
		*saddr = ipv6_hdr(skb)->saddr;
		*daddr = ipv6_hdr(skb)->daddr;
	} else {
		ipv6_addr_set_v4mapped(ip_hdr(skb)->saddr, saddr);
		ipv6_addr_set_v4mapped(ip_hdr(skb)->daddr, daddr);
	}
}

/* The interface a segment arrived on, for sockets bound to one. */
static inline int etcp_skb_iif(const struct sk_buff *skb)
{
	return etcp_skb_v6(skb) ? inet6_iif(skb) : inet_iif(skb);
}

/* The wildcard of either family: :: or ::ffff:0.0.0.0. */
static inline bool etcp_addr_any(const struct in6_addr *a)
{
	return ipv6_addr_any(a) ||
	       (ipv6_addr_v4mapped(a) && !a->s6_addr32[3]);
}

#define ETCP_INC_STATS(net, field) \
	this_cpu_inc(etcp_pernet(net)->mib->mibs[field])
#define ETCP_ADD_STATS(net, field, n) \
	this_cpu_add(etcp_pernet(net)->mib->mibs[field], n)

/*
 * SEG.WND in bytes: a SYN's is never scaled (RFC 7323 2.2), any other
 * segment's by the peer's shift.
 */
static inline u32 etcp_seg_wnd(const struct etcp_sock *esk,
			       const struct etcp_skb_cb *cb)
{
	if (cb->flags & ETCP_FLAG_SYN)
		return cb->wnd;
	return (u32)cb->wnd << esk->snd_wscale;
}

static inline u8 etcp_tcp_flags(const struct tcphdr *th)
{
	return ((const u8 *)th)[13];
}

/* Sequence number comparison modulo 2^32 (RFC 9293 3.4). */
static inline bool etcp_before(u32 seq1, u32 seq2)
{
	return (s32)(seq1 - seq2) < 0;
}

static inline bool etcp_after(u32 seq1, u32 seq2)
{
	return etcp_before(seq2, seq1);
}

/* The earlier of two sequence numbers (RFC 9293 3.4: modulo 2^32). */
static inline u32 etcp_seq_min(u32 seq1, u32 seq2)
{
	return etcp_before(seq1, seq2) ? seq1 : seq2;
}

/* The skb after @skb on the write queue, or NULL. */
static inline struct sk_buff *etcp_write_next(struct sock *sk,
					      struct sk_buff *skb)
{
	if (skb_queue_is_last(&sk->sk_write_queue, skb))
		return NULL;
	return skb->next;
}

/* The skb before @skb on the write queue, or NULL. */
static inline struct sk_buff *etcp_write_prev(struct sock *sk,
					      struct sk_buff *skb)
{
	if (skb_queue_is_first(&sk->sk_write_queue, skb))
		return NULL;
	return skb->prev;
}

/* The last skb of the write queue in flight (before the send head), or NULL. */
static inline struct sk_buff *etcp_last_in_flight(struct sock *sk)
{
	struct sk_buff *skb = etcp_sk(sk)->send_head;

	return skb ? etcp_write_prev(sk, skb) : skb_peek_tail(&sk->sk_write_queue);
}

/*
 * Segments @skb of the write queue makes at @mss each: a write-queue skb
 * holds up to a super-segment's worth (etcp_xmit_size_goal()); a FIN alone
 * is one.
 */
static inline u32 etcp_skb_segs(const struct sk_buff *skb, u32 mss)
{
	return max_t(u32, DIV_ROUND_UP(skb->len, mss), 1);
}

/* Does @skb end in a segment shorter than @mss (Nagle's small segment)? */
static inline bool etcp_skb_short(const struct sk_buff *skb, u32 mss)
{
	return skb->len % mss;
}

/* Free a write-queue skb and give its memory back to the socket. */
static inline void etcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb)
{
	sk_wmem_queued_add(sk, -skb->truesize);
	sk_mem_uncharge(sk, skb->truesize);
	__kfree_skb(skb);
}

/* Synchronized states (RFC 9293 3.5.2): an abort sends RST there. */
static inline bool etcp_state_synchronized(int state)
{
	return (1 << state) & (TCPF_ESTABLISHED | TCPF_SYN_RECV |
			       TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 |
			       TCPF_CLOSE_WAIT);
}

/* Backed-off timeout number @n from @base, capped at ETCP_RTO_MAX. */
static inline unsigned long etcp_backoff(unsigned long base, unsigned int n)
{
	if (n >= 31 || base > (ETCP_RTO_MAX >> n))
		return ETCP_RTO_MAX;
	return base << n;
}

/* Timestamps of segments for RTT samples. */
static inline u32 etcp_clock_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

/* The right edge of the peer's window: SND.UNA + SND.WND. */
static inline u32 etcp_wnd_end(const struct etcp_sock *esk)
{
	return esk->snd_una + esk->snd_wnd;
}

/*
 * Does the first segment of @skb, the send head, fit the peer's window?
 * The FIN counts where it rides on that segment.
 */
static inline bool etcp_head_fits_wnd(const struct etcp_sock *esk,
				      const struct sk_buff *skb)
{
	const struct etcp_skb_cb *cb = ETCP_SKB_CB(skb);
	u32 end = cb->end_seq;

	if (skb->len > esk->snd_mss)
		end = cb->seq + esk->snd_mss;
	return !etcp_after(end, etcp_wnd_end(esk));
}

/* Bytes the user can read now (the peer's FIN takes a number, no byte). */
static inline u32 etcp_inq(const struct etcp_sock *esk)
{
	u32 n = READ_ONCE(esk->rcv_nxt) - READ_ONCE(esk->copied_seq);

	/* A lockless reader may see fin_rcvd before the RCV.NXT it counts. */
	if (n && READ_ONCE(esk->fin_rcvd))
		n--;
	return n;
}

/* Bytes queued by the user and not acknowledged by the peer. */
static inline u32 etcp_outq(const struct etcp_sock *esk)
{
	return READ_ONCE(esk->write_seq) - READ_ONCE(esk->snd_una);
}

/* The retransmission timeout with the current backoff. */
static inline unsigned long etcp_rto_backoff(const struct etcp_sock *esk)
{
	return etcp_backoff(esk->rto, esk->backoff);
}

/* proto.c */
void etcp_set_state(struct sock *sk, int state);
void etcp_done(struct sock *sk);
void etcp_reset(struct sock *sk, int err);
int etcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len);
void etcp_connect_init(struct sock *sk, unsigned int mtu);
struct sock *etcp_accept(struct sock *sk, int flags, int *err);
extern struct proto etcpv6_prot;
extern const struct proto_ops etcp6_stream_ops;
void etcp_proto_v6_fill(void);
u16 etcp_mss_for_mtu(const struct sock *sk, unsigned int mtu,
		     unsigned int net_header_len);
void etcp_init_transfer(struct sock *sk);
void etcp_purge_queues(struct sock *sk);
void etcp_discard_unread(struct sock *sk);

void etcp_get_info(const struct sock *sk, struct etcp_info *info);

/* stream.c */
struct sk_buff *etcp_write_new(struct sock *sk, gfp_t gfp);
int etcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size);
int etcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len, int flags);
int etcp_ioctl(struct sock *sk, int cmd, int *karg);
__poll_t etcp_poll(struct file *file, struct socket *sock, poll_table *wait);
void etcp_write_space(struct sock *sk);
void etcp_sndbuf_expand(struct sock *sk);
void etcp_cleanup_rbuf(struct sock *sk);
void etcp_rcv_space_init(struct sock *sk);
void etcp_rcv_rtt_measure(struct etcp_sock *esk);

/* cong.c */
void etcp_rtt_sample(struct sock *sk, u32 rtt_us);
void etcp_rtt_handshake(struct sock *sk, bool sampled, u32 sent_us);
void etcp_cong_init(struct sock *sk);
void etcp_cong_ack(struct sock *sk, u32 acked, u32 prior_packets);
void etcp_cong_enter_recovery(struct sock *sk);
void etcp_cong_partial_ack(struct sock *sk, u32 acked);
void etcp_cong_rto(struct sock *sk);

/* hash.c */
int etcp_hash_net_init(struct etcp_net *en);
void etcp_hash_net_exit(struct etcp_net *en);
void etcp_sock_list_add(struct sock *sk);
void etcp_sock_list_del(struct sock *sk);
void etcp_req_list_add(struct net *net, struct etcp_request *req);
void etcp_req_list_del(struct net *net, struct etcp_request *req);
int etcp_get_port(struct sock *sk, unsigned short snum);
void etcp_put_port(struct sock *sk);
void etcp_inherit_port(struct sock *child, struct sock *listener);
int etcp_listen_hash(struct sock *sk);
int etcp_connect_hash(struct sock *sk);
void etcp_ehash_add(struct sock *sk);
void etcp_unhash(struct sock *sk);
struct sock *etcp_lookup_established(struct net *net,
				     const struct in6_addr *saddr, __be16 sport,
				     const struct in6_addr *daddr, __be16 dport,
				     int dif);
struct sock *etcp_lookup_listener(struct net *net, const struct in6_addr *saddr,
				  __be16 sport, const struct in6_addr *daddr,
				  __be16 dport, int dif);
struct etcp_tw *etcp_tw_lookup(struct net *net, const struct in6_addr *saddr,
			       __be16 sport, const struct in6_addr *daddr,
			       __be16 dport, int dif);
void etcp_walk_lock(struct net *net) __acquires(&etcp_pernet(net)->lock);
void etcp_walk_unlock(struct net *net) __releases(&etcp_pernet(net)->lock);
struct hlist_node *etcp_walk_resume(struct net *net, struct etcp_walk *w);
struct hlist_node *etcp_walk_next(struct net *net, struct etcp_walk *w,
				  struct hlist_node *node);
int etcp_walk_family(const struct etcp_walk *w, const struct hlist_node *node);
void etcp_tw_hash(struct etcp_net *en, struct etcp_tw *tw);
bool etcp_tw_unhash(struct etcp_net *en, struct etcp_tw *tw);
void etcp_hash_init(void);

/* input.c */
int etcp_v4_rcv(struct sk_buff *skb);
int etcp_rcv_segment(struct sk_buff *skb);
int etcp_backlog_rcv(struct sock *sk, struct sk_buff *skb);
void etcp_child_rcv(struct sock *child, struct sk_buff *skb);
bool etcp_seq_acceptable(u32 rcv_nxt, u32 rcv_wnd, const struct sk_buff *skb);
bool etcp_rst_acceptable(int state, u32 seq, u32 rcv_nxt);
bool etcp_challenge_allowed(struct net *net);
bool etcp_oow_answer(struct net *net, const struct sk_buff *skb,
		     unsigned long *stamp, int mib);
bool etcp_oow_rate_limited(struct net *net, unsigned long *stamp, int mib);

/* output.c */
void etcp_send_syn(struct sock *sk);
void etcp_send_ack(struct sock *sk);
void etcp_send_probe(struct sock *sk);
void etcp_write_xmit(struct sock *sk, enum etcp_xmit how);
bool etcp_retransmit_head(struct sock *sk);
void etcp_probe_window(struct sock *sk);
int etcp_trim_head(struct sock *sk, struct sk_buff *skb, u32 len);
int etcp_fragment(struct sock *sk, struct sk_buff *skb, u32 len);
int etcp_fragment_in_flight(struct sock *sk, struct sk_buff *skb, u32 len);
void etcp_set_segs(struct sock *sk, struct sk_buff *skb, u32 size);
u32 etcp_rcv_wnd_now(const struct etcp_sock *esk);
u32 etcp_window_candidate(const struct sock *sk);
void etcp_send_active_reset(struct sock *sk);
bool etcp_send_fin(struct sock *sk, gfp_t gfp);
void etcp_send_tw_ack(const struct etcp_tw *tw, struct sk_buff *in);
void etcp_send_reset_reply(struct net *net, const struct sock *sk,
			   struct sk_buff *skb);
int etcp_send_req_segment(const struct sock *listener,
			  struct etcp_request *req, u8 flags);
u32 etcp_select_window(const struct sock *sk);
u16 etcp_initial_window(const struct sock *sk, u32 mss);
u8 etcp_rcv_wscale(const struct sock *sk);
u32 etcp_in_flight(const struct etcp_sock *esk);
void etcp_xmit_lost(struct sock *sk, bool force);
void etcp_send_loss_probe(struct sock *sk);

/* sack.c */
void etcp_sack_tag(struct sock *sk, const struct sk_buff *ack);
void etcp_sack_mark_lost(struct sock *sk);
bool etcp_sack_head_lost(struct sock *sk);
void etcp_sack_lose_head(struct sock *sk);
void etcp_sack_new_recovery(struct sock *sk);
void etcp_sack_forget(struct etcp_sock *esk, const struct etcp_skb_cb *cb);
void etcp_rack_advance(struct etcp_sock *esk, const struct etcp_skb_cb *cb);
void etcp_sack_clear(struct sock *sk);
void etcp_cong_undo(struct sock *sk);
void etcp_cong_tlp_ack(struct sock *sk, u32 ack, bool progress);
void etcp_dsack_set(struct sock *sk, u32 seq, u32 end);
u16 etcp_peer_mss(const struct etcp_sock *esk, u16 opt);
void etcp_sync_mss(struct sock *sk);
void etcp_simple_retransmit(struct sock *sk);
int etcp_ctl_sock_init(struct net *net);
void etcp_ctl_sock_exit(struct net *net);
void etcp_setup_caps(struct sock *sk, struct dst_entry *dst);
u32 etcp_xmit_size_goal(const struct sock *sk);

/* ipv6.c */
int etcp_v6_init(void);
void etcp_v6_exit(void);
int etcp_v6_net_init(struct net *net);
void etcp_v6_net_exit(struct net *net);
int etcp_v6_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len);
void etcp_v6_child_init(struct sock *child, const struct sock *listener,
			const struct etcp_request *req);
struct dst_entry *etcp_v6_route_req(const struct sock *sk,
				    const struct etcp_request *req,
				    struct flowi6 *fl6);
void etcp_v6_dst_store(struct sock *sk, struct dst_entry *dst);

/* offload.c */
int etcp_offload_init(void);
void etcp_offload_exit(void);

/* timer.c */
int etcp_keepalive_time(const struct sock *sk);
int etcp_keepalive_intvl(const struct sock *sk);
int etcp_keepalive_probes(const struct sock *sk);
bool etcp_keepalive_state(const struct sock *sk);
void etcp_keepalive_restart(struct sock *sk);
int etcp_fin_timeout(const struct sock *sk);
bool etcp_too_many_orphans(const struct sock *sk);
void etcp_abort_linger(struct sock *sk);
bool etcp_orphan_out_of_resources(struct sock *sk);
bool etcp_orphan_fin_wait2(struct sock *sk);
void etcp_check_timer(struct sock *sk);
void etcp_rearm_rtx(struct sock *sk);
bool etcp_schedule_loss_probe(struct sock *sk, bool advancing_rto);
void etcp_arm_rto_left(struct sock *sk);
void etcp_init_timers(struct sock *sk);
void etcp_clear_timers(struct sock *sk);
void etcp_arm_rtx(struct sock *sk, unsigned long timeout);
void etcp_stop_rtx(struct sock *sk);
void etcp_schedule_delack(struct sock *sk);
void etcp_data_rcvd_event(struct sock *sk);
void etcp_data_sent_event(struct sock *sk);
void etcp_enter_quickack(struct etcp_sock *esk);
bool etcp_in_quickack(const struct etcp_sock *esk);
void etcp_reset_keepalive(struct sock *sk, unsigned long when);
void etcp_release_cb(struct sock *sk);
int etcp_sock_timer(const struct sock *sk, unsigned long *expires, u8 *count);

/* minisocks.c */
int etcp_conn_request(struct sock *listener, struct sk_buff *skb);
struct etcp_request *etcp_req_lookup(struct sock *listener,
				     const struct in6_addr *laddr, __be16 lport,
				     const struct in6_addr *raddr, __be16 rport);
void etcp_req_drop(struct sock *listener, struct etcp_request *req);
struct etcp_request *etcp_req_find(struct sock *listener,
				   const struct sk_buff *skb);
int etcp_req_rcv(struct sock *listener, struct etcp_request *req,
		 struct sk_buff *skb);
void etcp_listen_purge(struct sock *listener);
int etcp_syn_table_fit(struct sock *listener, int backlog);
void etcp_syn_table_free(struct sock *listener);
void etcp_listener_free(struct sock *sk);
void etcp_time_wait(struct sock *sk);

/* What etcp_tw_rcv() leaves to the caller. */
enum etcp_tw_verdict {
	ETCP_TW_DONE,			/* handled (or dropped) */
	ETCP_TW_SYN,			/* a new SYN ended it: to the listener */
};

enum etcp_tw_verdict etcp_tw_rcv(struct etcp_tw *tw, struct sk_buff *skb);
void etcp_tw_answer(struct etcp_tw *tw, struct sk_buff *skb);
void etcp_tw_recycle(struct etcp_tw *tw, struct sk_buff *skb);
void etcp_tw_put(struct etcp_tw *tw);
void etcp_tw_purge(struct net *net);
u32 etcp_isn(const struct net *net, const struct in6_addr *saddr,
	     const struct in6_addr *daddr, __be16 sport, __be16 dport);
void etcp_isn_param_enable(bool ready);
int etcp_minisocks_init(void);
void etcp_minisocks_exit(void);

/* sysctl.c */
int etcp_sysctl_net_init(struct net *net);
void etcp_sysctl_net_exit(struct net *net);

/* proc.c */
int etcp_proc_net_init(struct net *net);
void etcp_proc_net_exit(struct net *net);

/* icmp.c */
int etcp_v4_err(struct sk_buff *skb, u32 info);
int etcp_v6_err(struct sk_buff *skb, struct inet6_skb_parm *opt, u8 type,
		u8 code, int offset, __be32 info);
struct dst_entry *etcp_v4_route(struct sock *sk);
void etcp_mtu_reduced(struct sock *sk);
void etcp_pmtu_init(struct sock *sk);

#endif /* _ETCP_H */
