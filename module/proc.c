// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: /proc/net/etcp and etcp6 (the sockets of each family, laid out as
 * /proc/net/tcp and tcp6: an AF_INET6 socket is in etcp6 whatever it talks,
 * IPv4 through v4-mapped addresses included) and /proc/net/etcp_stat (the
 * counters of both), one of each per network namespace.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/sock.h>

#include "etcp.h"

/* /proc/net/tcp pads every line to this width; so do we. */
#define ETCP_PROC_LINE	149

/*
 * Where the walk is (struct etcp_walk: the current entry's table, chain
 * and place in the chain), its row, and its position in the file.  A
 * read() that goes on where the last one stopped (as cat's do) resumes in
 * that chain, as /proc/net/tcp does in its hash bucket, so that reading
 * the file costs time linear in its length; any other position is walked
 * to from the start.
 */
struct etcp_seq_state {
	struct seq_net_private p;	/* first: seq_file_net() reads it */
	int family;			/* of the file: AF_INET or AF_INET6 */
	struct etcp_walk w;
	int num;			/* row number */
	loff_t last_pos;		/* *pos of the current entry */
};

/* From @node (st naming it) on, the first entry of the file's family. */
static struct hlist_node *etcp_seq_match(struct net *net,
					 struct etcp_seq_state *st,
					 struct hlist_node *node)
{
	while (node && etcp_walk_family(&st->w, node) != st->family)
		node = etcp_walk_next(net, &st->w, node);
	return node;
}

/* The row after @node, and st moved to it. */
static struct hlist_node *etcp_seq_step(struct net *net,
					struct etcp_seq_state *st,
					struct hlist_node *node)
{
	st->num++;
	return etcp_seq_match(net, st, etcp_walk_next(net, &st->w, node));
}

/* Entry @pos (0-based) of the tables in a row: walked from the start. */
static struct hlist_node *etcp_seq_idx(struct net *net,
				       struct etcp_seq_state *st, loff_t pos)
{
	struct hlist_node *node;

	memset(&st->w, 0, sizeof(st->w));
	st->num = 0;
	node = etcp_seq_match(net, st, etcp_walk_resume(net, &st->w));
	while (node && pos--)
		node = etcp_seq_step(net, st, node);
	return node;
}

static const struct seq_operations etcp6_seq_ops;

static void *etcp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(&etcp_pernet(seq_file_net(seq))->lock)
{
	struct net *net = seq_file_net(seq);
	struct etcp_seq_state *st = seq->private;
	void *v;

	/*
	 * Held until etcp_seq_stop(), which seq_file calls at the latest
	 * when a page of rows is full: the tables cannot change under us,
	 * and the time BHs stay off is bounded by a page's worth of rows.
	 */
	etcp_walk_lock(net);
	st->family = seq->op == &etcp6_seq_ops ? AF_INET6 : AF_INET;
	if (!*pos)
		v = SEQ_START_TOKEN;
	else if (*pos == st->last_pos)
		v = etcp_seq_match(net, st, etcp_walk_resume(net, &st->w));
	else
		v = etcp_seq_idx(net, st, *pos - 1);
	st->last_pos = *pos;
	return v;
}

static void *etcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct net *net = seq_file_net(seq);
	struct etcp_seq_state *st = seq->private;

	st->last_pos = ++*pos;
	if (v == SEQ_START_TOKEN)
		return etcp_seq_idx(net, st, 0);
	return etcp_seq_step(net, st, v);
}

static void etcp_seq_stop(struct seq_file *seq, void *v)
	__releases(&etcp_pernet(seq_file_net(seq))->lock)
{
	etcp_walk_unlock(seq_file_net(seq));
}

/* Time left to @expires (jiffies), in /proc/net/tcp's clock ticks. */
static long etcp_proc_when(unsigned long expires)
{
	return jiffies_delta_to_clock_t(expires - jiffies);
}

/*
 * The columns every row starts with: number, addresses, state.  An
 * address is its raw network-order words: one in etcp, four in etcp6.
 */
static void etcp_seq_show_addrs(struct seq_file *seq, int sl,
				const struct in6_addr *laddr, __be16 lport,
				const struct in6_addr *raddr, __be16 rport,
				int state)
{
	const u32 *l = (__force const u32 *)laddr->s6_addr32;
	const u32 *r = (__force const u32 *)raddr->s6_addr32;
	struct etcp_seq_state *st = seq->private;

	if (st->family == AF_INET)
		seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X", sl,
			   l[3], ntohs(lport), r[3], ntohs(rport), state);
	else
		seq_printf(seq, "%4d: %08X%08X%08X%08X:%04X %08X%08X%08X%08X:%04X %02X",
			   sl, l[0], l[1], l[2], l[3], ntohs(lport),
			   r[0], r[1], r[2], r[3], ntohs(rport), state);
}

/*
 * One socket, in /proc/net/tcp's columns: sl, local and remote address
 * (the address as the raw network-order word, the port in host order),
 * state, tx:rx queue, timer:expiry, retransmits, uid, the unanswered
 * probes of a probe or keepalive timer ("timeout"), inode,
 * refcount, address, rto, ato, quick/pingpong, cwnd, ssthresh.
 */
static void etcp_seq_show_sock(struct seq_file *seq, struct sock *sk, int sl)
{
	const struct inet_sock *inet = inet_sk(sk);
	const struct etcp_sock *esk = etcp_sk(sk);
	int state = inet_sk_state_load(sk);
	struct in6_addr laddr, raddr;
	unsigned long expires;
	u8 count;
	int tr;

	tr = etcp_sock_timer(sk, &expires, &count);
	etcp_sk_addrs(sk, &laddr, &raddr);
	etcp_seq_show_addrs(seq, sl, &laddr, inet->inet_sport, &raddr,
			    inet->inet_dport, state);
	seq_printf(seq, " %08X:%08X %02X:%08lX %08X %5u %8d %llu %d %pK %lu %lu %u %u %d",
		   state == TCP_LISTEN ? 0 : etcp_outq(esk),
		   state == TCP_LISTEN ? READ_ONCE(sk->sk_ack_backlog) :
			etcp_inq(esk),
		   tr, etcp_proc_when(expires),
		   esk->retransmits,
		   from_kuid_munged(seq_user_ns(seq), sk->sk_uid),
		   tr == ETCP_TIMER_RETRANS ? 0 : count,
		   (unsigned long long)sock_i_ino(sk),
		   refcount_read(&sk->sk_refcnt), sk,
		   jiffies_to_clock_t(etcp_rto_backoff(esk)),
		   esk->data_rcvd ? jiffies_to_clock_t(ETCP_DELACK) : 0UL,
		   (esk->quick << 1) | esk->pingpong,
		   esk->snd_cwnd,
		   esk->snd_ssthresh >= ETCP_INFINITE_SSTHRESH ? -1 :
			(int)esk->snd_ssthresh);
}

/* A request, in the columns /proc/net/tcp gives its own (get_openreq4). */
static void etcp_seq_show_req(struct seq_file *seq, struct etcp_request *req,
			      int sl)
{
	unsigned long expires;
	int tr;

	tr = etcp_req_timer_info(req, &expires);
	etcp_seq_show_addrs(seq, sl, &req->laddr, req->lport, &req->raddr,
			    req->rport, TCP_SYN_RECV);
	seq_printf(seq, " %08X:%08X %02X:%08lX %08X %5u %8d %u %d %pK",
		   0, 0,
		   tr, etcp_proc_when(expires),
		   req->retransmits,
		   from_kuid_munged(seq_user_ns(seq), req->uid),
		   0, 0, 0, req);
}

/*
 * A TIME_WAIT entry, as /proc/net/tcp shows one (get_timewait4_sock):
 * timer 3 with the time left, no queues, no inode.
 */
static void etcp_seq_show_tw(struct seq_file *seq, struct etcp_tw *tw, int sl)
{
	long when = etcp_proc_when(READ_ONCE(tw->timer.expires));

	etcp_seq_show_addrs(seq, sl, &tw->laddr, tw->lport, &tw->raddr,
			    tw->rport, TCP_TIME_WAIT);
	seq_printf(seq, " %08X:%08X %02X:%08lX %08X %5d %8d %d %d %pK",
		   0, 0, ETCP_TIMER_TIME_WAIT, when, 0, 0, 0, 0,
		   refcount_read(&tw->refcnt), tw);
}

/* The header line, as /proc/net/tcp's or tcp6's. */
static void etcp_seq_show_header(struct seq_file *seq, int family)
{
	if (family == AF_INET)
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
	else
		seq_puts(seq, "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode");
}

/* tcp pads its lines to a fixed width, tcp6 does not. */
static int etcp_seq_show(struct seq_file *seq, void *v)
{
	struct etcp_seq_state *st = seq->private;

	if (st->family == AF_INET)
		seq_setwidth(seq, ETCP_PROC_LINE);
	if (v == SEQ_START_TOKEN)
		etcp_seq_show_header(seq, st->family);
	else if (st->w.list == ETCP_WALK_REQS)
		etcp_seq_show_req(seq, hlist_entry(v, struct etcp_request,
						   all_node), st->num);
	else if (st->w.list == ETCP_WALK_TWS)
		etcp_seq_show_tw(seq, hlist_entry(v, struct etcp_tw, all_node),
				 st->num);
	else
		etcp_seq_show_sock(seq, &hlist_entry(v, struct etcp_sock,
						     all_node)->inet.sk, st->num);
	if (st->family == AF_INET)
		seq_pad(seq, '\n');
	else
		seq_putc(seq, '\n');
	return 0;
}

static const struct seq_operations etcp_seq_ops = {
	.start	= etcp_seq_start,
	.next	= etcp_seq_next,
	.stop	= etcp_seq_stop,
	.show	= etcp_seq_show,
};

/* The same walk; etcp_seq_start() tells the file by its operations. */
static const struct seq_operations etcp6_seq_ops = {
	.start	= etcp_seq_start,
	.next	= etcp_seq_next,
	.stop	= etcp_seq_stop,
	.show	= etcp_seq_show,
};

static const char * const etcp_mib_names[ETCP_MIB_MAX] = {
	[ETCP_MIB_INSEGS]		= "InSegs",
	[ETCP_MIB_OUTSEGS]		= "OutSegs",
	[ETCP_MIB_INCSUMERRORS]		= "InCsumErrors",
	[ETCP_MIB_INHDRERRORS]		= "InHdrErrors",
	[ETCP_MIB_INBADOPTS]		= "InBadOptions",
	[ETCP_MIB_INDISCARDS]		= "InDiscards",
	[ETCP_MIB_NOSOCKET]		= "NoSocket",
	[ETCP_MIB_OUTRSTS]		= "OutRsts",
	[ETCP_MIB_ACTIVEOPENS]		= "ActiveOpens",
	[ETCP_MIB_PASSIVEOPENS]		= "PassiveOpens",
	[ETCP_MIB_ATTEMPTFAILS]		= "AttemptFails",
	[ETCP_MIB_ESTABRESETS]		= "EstabResets",
	[ETCP_MIB_SYNRETRANS]		= "SynRetrans",
	[ETCP_MIB_REQTIMEOUTS]		= "ReqTimeouts",
	[ETCP_MIB_LISTENOVERFLOWS]	= "ListenOverflows",
	[ETCP_MIB_LISTENDROPS]		= "ListenDrops",
	[ETCP_MIB_OUTOFWINDOW]		= "OutOfWindow",
	[ETCP_MIB_BACKLOGDROPS]		= "BacklogDrops",
	[ETCP_MIB_CHALLENGEACKS]	= "ChallengeAcks",
	[ETCP_MIB_CHALLENGEACKSKIPPED]	= "ChallengeAckSkipped",
	[ETCP_MIB_INRSTS]		= "InRsts",
	[ETCP_MIB_ACKINVALID]		= "AckInvalid",
	[ETCP_MIB_RETRANSSEGS]		= "RetransSegs",
	[ETCP_MIB_FASTRETRANS]		= "FastRetrans",
	[ETCP_MIB_TIMEOUTS]		= "Timeouts",
	[ETCP_MIB_OFOQUEUE]		= "OfoQueue",
	[ETCP_MIB_DELAYEDACKS]		= "DelayedAcks",
	[ETCP_MIB_ZEROWINDOWPROBES]	= "ZeroWindowProbes",
	[ETCP_MIB_KEEPALIVEPROBES]	= "KeepAliveProbes",
	[ETCP_MIB_ABORTONTIMEOUT]	= "AbortOnTimeout",
	[ETCP_MIB_RCVPRUNED]		= "RcvPruned",
	[ETCP_MIB_DATADUPS]		= "DataDups",
	[ETCP_MIB_ABORTONCLOSE]		= "AbortOnClose",
	[ETCP_MIB_ABORTONDATA]		= "AbortOnData",
	[ETCP_MIB_ABORTONLINGER]	= "AbortOnLinger",
	[ETCP_MIB_ABORTONMEMORY]	= "AbortOnMemory",
	[ETCP_MIB_TIMEWAITED]		= "TimeWaited",
	[ETCP_MIB_TIMEWAITKILLED]	= "TimeWaitKilled",
	[ETCP_MIB_TIMEWAITRECYCLED]	= "TimeWaitRecycled",
	[ETCP_MIB_TIMEWAITOVERFLOW]	= "TimeWaitOverflow",
	[ETCP_MIB_ACKSKIPPEDSEQ]	= "AckSkippedSeq",
	[ETCP_MIB_ACKSKIPPEDTIMEWAIT]	= "AckSkippedTimeWait",
	[ETCP_MIB_INNONLINEAR]		= "InNonLinear",
	[ETCP_MIB_OFOPRUNED]		= "OfoPruned",
	[ETCP_MIB_RCVCOLLAPSED]		= "RcvCollapsed",
	[ETCP_MIB_OUTOFWINDOWICMPS]	= "OutOfWindowIcmps",
	[ETCP_MIB_ACKSKIPPEDCHALLENGE]	= "AckSkippedChallenge",
	[ETCP_MIB_SPURIOUSRTXHOSTQUEUES] = "SpuriousRtxHostQueues",
	[ETCP_MIB_SACKRECOVERY]		= "SackRecovery",
	[ETCP_MIB_DSACKSENT]		= "DsackSent",
	[ETCP_MIB_DSACKRECV]		= "DsackRecv",
	[ETCP_MIB_DSACKUNDO]		= "DsackUndo",
	[ETCP_MIB_REORDERSEEN]		= "ReorderSeen",
	[ETCP_MIB_LOSSPROBES]		= "LossProbes",
	[ETCP_MIB_LOSSPROBERECOVERY]	= "LossProbeRecovery",
	[ETCP_MIB_LOSTRETRANSMIT]	= "LostRetransmit",
};

static unsigned long etcp_mib_sum(struct etcp_mib __percpu *mib, int field)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(mib, cpu)->mibs[field];
	return sum;
}

/*
 * One "Name value" pair a line: easy to read, easy to grep.  The counters
 * come first, then the two gauges /proc/net/sockstat gives TCP ("orphan",
 * "tw").
 */
static int etcp_stat_show(struct seq_file *seq, void *v)
{
	struct etcp_net *en = etcp_pernet(seq_file_single_net(seq));
	int i;

	for (i = 0; i < ETCP_MIB_MAX; i++)
		seq_printf(seq, "%s %lu\n", etcp_mib_names[i],
			   etcp_mib_sum(en->mib, i));
	seq_printf(seq, "Orphans %d\n", atomic_read(&en->orphans));
	seq_printf(seq, "TimeWait %d\n", atomic_read(&en->tw_count));
	return 0;
}

int etcp_proc_net_init(struct net *net)
{
	if (!proc_create_net("etcp", 0444, net->proc_net, &etcp_seq_ops,
			     sizeof(struct etcp_seq_state)))
		return -ENOMEM;
	if (!proc_create_net("etcp6", 0444, net->proc_net, &etcp6_seq_ops,
			     sizeof(struct etcp_seq_state)))
		goto err_etcp;
	if (!proc_create_net_single("etcp_stat", 0444, net->proc_net,
				    etcp_stat_show, NULL))
		goto err_etcp6;
	return 0;

err_etcp6:
	remove_proc_entry("etcp6", net->proc_net);
err_etcp:
	remove_proc_entry("etcp", net->proc_net);
	return -ENOMEM;
}

void etcp_proc_net_exit(struct net *net)
{
	remove_proc_entry("etcp_stat", net->proc_net);
	remove_proc_entry("etcp6", net->proc_net);
	remove_proc_entry("etcp", net->proc_net);
}
