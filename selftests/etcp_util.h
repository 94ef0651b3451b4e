/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the etcp selftests: time, addresses, socket
 * options, ETCP_INFO/TCP_INFO, counters.  Like etcp_netns.h they know
 * nothing of kselftest_harness.h: they return a value, a negative errno
 * or -1 as each comment says, and the tests say in words what went wrong.
 */
#ifndef _ETCP_UTIL_H
#define _ETCP_UTIL_H

#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct etcp_cap;
struct etcp_netns;
struct etcp_info;

/* ------------------------------------------------------------ time */

/* CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms(void);
/* CLOCK_REALTIME in nanoseconds (the clock of packet timestamps). */
int64_t realtime_ns(void);
/* Sleep for @ms milliseconds (a signal handler does not cut it short). */
void pause_ms(int ms);
/* Sleep one polling step (5 ms), between tries of a wait_*() loop. */
void pause_step(void);

/*
 * Guest stalls.  Under TCG the host now and then stops the whole VM for
 * 100 ms and more; a protocol timer due inside such a stall fires after
 * it, late by the stall through no fault of the protocol.  While the
 * watch runs, a thread that ticks every 2 ms notes each gap of more than
 * 20 ms between its ticks; a timing check adds the stalls inside the
 * interval it measures to its upper bound (never to its lower one: a
 * timer that fires early is wrong whatever the host did).
 */
/* Start the watch: 0, or -errno. */
int stall_watch_start(void);
void stall_watch_stop(void);
/* The ns of [@from, @to] (CLOCK_REALTIME ns) the guest spent stalled. */
int64_t stall_ns(int64_t from, int64_t to);

/* ------------------------------------------------------------ addresses */

/* "tcp", "etcp", or "proto<N>" for any other protocol number. */
const char *proto_name(int proto);
/* AF_INET address @addr (dotted quad), @port in host order. */
struct sockaddr_in sin_of(const char *addr, unsigned short port);
/*
 * @addr:@port (host order) in *@ss: AF_INET6 when @addr has a ':'
 * ("fd00:1::2", "::", "::ffff:10.0.1.2"), else AF_INET (dotted quad).
 * Its length, or 0 when @addr is no address of that family.
 */
socklen_t sockaddr_of(const char *addr, unsigned short port,
		      struct sockaddr_storage *ss);
/*
 * bind() to @addr:@port (either family, as sockaddr_of() reads @addr);
 * 0 or -errno.
 */
int bind_to(int fd, const char *addr, unsigned short port);
/* connect(), as bind_to(); 0 or -errno (-EINPROGRESS when non-blocking). */
int connect_to(int fd, const char *addr, unsigned short port);
/* The local port of @fd (host order), or 0 if getsockname() fails. */
unsigned short local_port(int fd);
/* The peer's port of @fd (host order), or 0 if getpeername() fails. */
unsigned short peer_port(int fd);

/* The wildcard address of @family: "::" for AF_INET6, else "0.0.0.0". */
const char *any_addr(int family);
/* getsockname() (@peer false) or getpeername() of @fd into @ss: its length, or -errno. */
int sock_addr(int fd, bool peer, struct sockaddr_storage *ss);
/* @x and @y are of one family (AF_INET or AF_INET6) with one address and port. */
bool sockaddr_eq(const struct sockaddr_storage *x, const struct sockaddr_storage *y);
/* Does @ss hold @addr (as sockaddr_of() reads it) and @port? */
bool sockaddr_is(const struct sockaddr_storage *ss, const char *addr,
		 unsigned short port);
/* The port of @ss (AF_INET or AF_INET6) in host order, or 0. */
unsigned short sockaddr_port(const struct sockaddr_storage *ss);
/* "addr:port (family N)" of @ss in @buf, "[addr]:port" for AF_INET6: @buf. */
const char *sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t size);
/*
 * A SOCK_STREAM socket of @proto in nsfd (AF_INET6 for an IPv6 @addr),
 * SO_REUSEADDR, bound to @addr:@port and listening with @backlog: the fd,
 * or -1 with errno.
 */
int listen_on(int nsfd, int proto, const char *addr, unsigned short port,
	      int backlog);
/* accept() once a child is there, within @ms: the fd, or -1 with errno. */
int accept_wait(int lfd, int ms);

/* ------------------------------------------------------------ poll */

/* poll() one fd for @events within @ms: its revents, 0 on timeout or error. */
int poll_one(int fd, short events, int ms);
/*
 * poll() one fd for @events within @timeout_ms, restarted on EINTR: its
 * revents, 0 on timeout, -1 on error.
 */
int poll_fd(int fd, short events, int timeout_ms);
/*
 * Poll until @fd reports one of @events (add POLLERR to stop on an error
 * too): its revents, 0 on timeout, -1 on error.
 */
int wait_event(int fd, short events, int ms);
/* Poll until ioctl(@req) gives @want: the last value, or -errno. */
int wait_ioctl(int fd, unsigned long req, int want, int ms);

/* ------------------------------------------------------------ options */

/* getsockopt() of an int: the value, or -errno. */
int sockopt_get(int fd, int level, int opt);
/* setsockopt() of an int: 0 or -errno. */
int sockopt_set(int fd, int level, int opt, int val);
/* SO_ERROR (reading it clears it): the error number, or -errno. */
int so_error(int fd);
/* Set or clear O_NONBLOCK: 0 or -errno. */
int set_nonblock(int fd, bool on);
/* SO_RCVTIMEO or SO_SNDTIMEO (@opt) of @ms milliseconds: 0 or -errno. */
int set_timeo(int fd, int opt, int ms);
/* An ioctl returning an int (SIOCINQ, SIOCOUTQ, ...): the value, or -errno. */
int ioctl_int(int fd, unsigned long req);

/* ------------------------------------------------------------ state */

/*
 * What ETCP_INFO (or TCP_INFO) says.  TCP_INFO (as glibc has it) has no
 * sequence numbers or byte counts: seqs is false for TCP.
 */
struct sinfo {
	int state, retransmits, backoff;
	uint32_t rto, snd_mss, snd_cwnd, snd_ssthresh, total_retrans;
	uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt, snd_wnd, rcv_wnd;
	uint64_t bytes_acked, bytes_received;
	bool seqs;
	/* RFC 7323 window scale shifts; 0 when the SYNs did not agree */
	int snd_wscale, rcv_wscale;
};

/*
 * Fill @si from ETCP_INFO (@proto IPPROTO_ETCP) or TCP_INFO: 0, or -errno
 * with @si zeroed but for state -1.
 */
int sinfo_get(int fd, int proto, struct sinfo *si);
/* The state of @fd (TCP's numbers, etcp's too), or -1. */
int sock_state(int fd, int proto);
/* Poll until the state of @fd is @st: the last state seen (@st, or not). */
int wait_sock_state(int fd, int proto, int st, int ms);
/* The name of state @st: "gone" for 0 (no socket or row), "error" below. */
const char *state_name(int st);
/* ETCP_INFO of @fd into @ei (zeroed first): 0, -errno, or -EPROTO if short. */
int etcp_info_of(int fd, struct etcp_info *ei);

/* ------------------------------------------------------------ counters */

/*
 * Counter @name of @proto in nsfd: etcp's from /proc/net/etcp_stat ("Name
 * value" lines), TCP's from the TcpExt lines of /proc/net/netstat (a line
 * of names followed by a line of values).  -1 if absent.
 */
long read_counter(int nsfd, int proto, const char *name);
/* Poll until read_counter() is at least @min: its last value. */
long wait_counter(int nsfd, int proto, const char *name, long min, int ms);
/* etcp's counter @name in nsfd (/proc/net/etcp_stat), or -1. */
long stat_now(int nsfd, const char *name);

/* A snapshot of /proc/net/etcp_stat, to compare counters before and after. */
struct stats {
	char text[4096];
};

/* Read the snapshot of nsfd: 0 or -errno. */
int stats_read(int nsfd, struct stats *s);
/* Counter @name in the snapshot, or -1. */
long stat_of(const struct stats *s, const char *name);
/* Counter @name in @b minus the one in @a. */
long stat_delta(const struct stats *a, const struct stats *b, const char *name);
/* Poll until counter @name of nsfd reaches @value: 0 or -ETIMEDOUT. */
int wait_stat(int nsfd, const char *name, long value, int ms);

/* ------------------------------------------------- /proc/net/{tcp,etcp} */

/*
 * One row, in /proc/net/tcp's columns up to the inode; a row of
 * /proc/net/tcp6 (or etcp6) has its addresses in laddr6 and raddr6 (the
 * four words as printed) and 0 in laddr and raddr, a row of
 * /proc/net/tcp zeroes in laddr6 and raddr6.
 */
struct proc_row {
	int sl;
	unsigned int laddr, lport, raddr, rport, st;
	unsigned int laddr6[4], raddr6[4];
	unsigned int txq, rxq, tr, retr, uid;
	unsigned long when, inode;
	int timeout;
};

/* Scan one row of /proc/net/{tcp,etcp,tcp6,etcp6} into @r: 0, or -1. */
int proc_row_scan(const char *line, struct proc_row *r);
/*
 * Does row @r's local (@local) or remote address show @addr (either
 * family, as sockaddr_of() reads it)?  An IPv4 address in the 4-word
 * column of /proc/net/{tcp,etcp}, an IPv6 one in the 4 words of
 * /proc/net/{tcp6,etcp6}.
 */
bool proc_row_addr_is(const struct proc_row *r, bool local, const char *addr);
/* "etcp" or "tcp" by @proto: the file under /proc/net listing its sockets. */
const char *proc_table(int proto);
/* The same for sockets of @family: "etcp6" or "tcp6" for AF_INET6. */
const char *proc_table_af(int proto, int family);

/* Which rows proc_rows() counts: those for which it returns true. */
typedef bool (*row_filter)(const struct proc_row *r, const void *arg);
/*
 * A row_filter whose @arg is a struct row_key: the fields of the key that
 * are not 0 must match: addresses as the row shows them (row_addr_words():
 * an IPv4 one in the first word, the rest 0; all 0: any), ports in host
 * order, st (0: any state).
 */
struct row_key {
	unsigned int laddr[4], lport, raddr[4], rport, st;
};
bool row_key_match(const struct proc_row *r, const void *key);
/*
 * @addr (either family, as sockaddr_of() reads it) as a row_key holds it,
 * into @w: an IPv6 address's four words as /proc/net/{tcp6,etcp6} prints
 * them, an IPv4 one's u32 (network order) as /proc/net/{tcp,etcp} prints
 * it and three 0s; all 0 if @addr is no address.
 */
void row_addr_words(const char *addr, unsigned int w[4]);
/* The same for the address of @ss (AF_INET or AF_INET6). */
void row_addr_words_sa(const struct sockaddr_storage *ss, unsigned int w[4]);
/* The key of @fd's connection: both addresses and ports, st 0.  0 or -errno. */
int row_key_of(int fd, struct row_key *k);
/*
 * The rows of the table @text (as read from /proc/net/{tcp,etcp}, header
 * first; cut into lines in place) that @fn with @arg accepts (all if @fn
 * is NULL): their number, the last of them in *@out (if @out).
 */
int proc_text_rows(char *text, row_filter fn, const void *arg, struct proc_row *out);
/* proc_text_rows() over /proc/net/@file of nsfd read now, or -errno. */
int proc_rows(int nsfd, const char *file, row_filter fn, const void *arg,
	      struct proc_row *out);
/*
 * Rows of /proc/net/{tcp,etcp} (tcp6, etcp6 for @family AF_INET6) of
 * netns nsfd in state @st with local port @lport (0: any), or -errno.
 */
int count_rows(int nsfd, int proto, int family, int st, unsigned int lport);
/*
 * The state of the last row lport<->rport of /proc/net/{etcp6,tcp6} (by
 * @proto) in nsfd, or if it has none of /proc/net/{etcp,tcp}, requests and
 * TIME_WAIT entries included: the state, 0 if there is no such row, or
 * -errno.  An AF_INET6 socket's rows are in the first (its IPv4
 * connections v4-mapped), an AF_INET socket's in the second.
 */
int proc_row_state(int nsfd, int proto, unsigned int lport, unsigned int rport);
/* Poll until proc_row_state() is @st (0: gone): 0 or -ETIMEDOUT. */
int wait_row_state(int nsfd, int proto, unsigned int lport, unsigned int rport,
		   int st, int ms);

/* ------------------------------------------------------------ sysctls */

/*
 * net/ipv4/<etcp|tcp>_@knob (by @proto) of nsfd = @val: 0 or -errno.  The
 * knobs etcp shares with TCP have TCP's names after the prefix.
 */
int proto_sysctl_set(int nsfd, int proto, const char *knob, long val);
/*
 * TCP's SYN retransmissions in nsfd back off as etcp's do (1, 2, 4 ...
 * s): since 6.7 the first tcp_syn_linear_timeouts (default 4) come 1 s
 * apart.  0 (also on older kernels, which have no such knob) or -errno.
 */
int tcp_classic_syn_backoff(int nsfd);

/* ------------------------------------------------------------ nftables */

/* The one table the ns_nft*() helpers (and tests' own scripts) use. */
#define ETCP_NFT_TABLE	"etcp_t"

/* Run "nft @script" inside nsfd (no shell): 0, or -ECHILD if it failed. */
int ns_nft(int nsfd, const char *script);
/*
 * Drop the segments of @proto matching @match (nft syntax, "" for all) on
 * @hook ("input" or "output") of nsfd.  The rules go into ETCP_NFT_TABLE;
 * ns_nft_flush() removes them all (and does nothing when there are none).
 * 0 or -errno.
 */
int ns_nft_drop(int nsfd, int proto, const char *hook, const char *match);
int ns_nft_flush(int nsfd);

/* ------------------------------------------------------------ misc */

/*
 * Close every fd the NULL-terminated list of int pointers names, where it
 * is >= 0, and set it to -1: a fixture's teardown in one call.
 */
void close_fds(int *fd, ...);
/* Poll until everything @fd sent is acknowledged: 0 or -ETIMEDOUT. */
int wait_acked(int fd, int ms);
/*
 * Linux TCP and etcp ACK at once in "quickack" mode (the first segments
 * of a connection, after idle or loss); TCP_QUICKACK / ETCP_QUICKACK 0
 * delays ACKs until a delayed ACK has gone alone (etcp_ack.c).
 */
void no_quickack(int fd, int proto);
/*
 * catch_sigpipe() counts SIGPIPEs in sigpipes, from 0, instead of dying of
 * them: 0 or -errno.
 */
extern volatile sig_atomic_t sigpipes;
int catch_sigpipe(void);

int send_all(int fd, const void *buf, size_t n);
int recv_exact(int fd, void *buf, size_t n, int ms);
void close_abort(int fd);
/* Byte @i of the bulk stream: no period a segment size could hide in. */
unsigned char bulk_byte(size_t i);
/*
 * Send @len bytes of the bulk stream on @sfd and read and check them on
 * @rfd (both connected, of one connection), one thread, non-blocking, 64
 * KiB writes, within @ms: 0, -ETIMEDOUT, -EBADMSG (with the offset in
 * *@bad), -EPIPE on an early end, or -errno.  *@done is what arrived.
 */
int bulk_xfer(int sfd, int rfd, size_t len, int ms, size_t *done, size_t *bad);
long slab_active(const char *cache, long *per_slab);
/* The object size of slab cache @cache (/proc/slabinfo), or -1. */
long slab_objsize(const char *cache);
/*
 * etcp's fixed_isn module parameter, written from network namespace @nsfd:
 * every new connection of that namespace gets @val as its ISS; "-1"
 * brings back RFC 6528 ISNs.  0 or -errno.  The namespace's end ends it.
 */
int fixed_isn_write(int nsfd, const char *val);
/* fixed_isn as namespace @nsfd reads it (-1: none), or -errno. */
long fixed_isn_read(int nsfd);
/* Is @prog an executable in $PATH?  (No shell: under TCG every exec counts.) */
bool have_prog(const char *prog);
/*
 * The running kernel is @major.@minor or newer: for TCP's behaviour where
 * Linux changed it between the kernels the suite runs on.
 */
bool kernel_at_least(int major, int minor);
/*
 * Pin to the first CPU allowed: segments sent one after the other from
 * here then go through the same per-CPU backlog and are processed in order.
 */
void pin_cpu(void);
/* Wait @ms for segments that must not come: the number recorded then. */
size_t quiet(struct etcp_cap *cap, int ms);

/*
 * etcp_netns_setup(), TCP's timestamps off in both namespaces (so that its
 * MSS is etcp's), then wait for carrier: 0, or -errno with nothing left.
 */
int two_ns_setup(struct etcp_netns *ns);
/*
 * Pin, in netns nsfd, the neighbour entries of @addr4 and @addr6 on
 * @ifname to the link address of @peer_if in the namespace named
 * @peer_ns: ARP and neighbour discovery cannot fail then, however slow
 * a loaded VM answers them.  0 or the shell's failure.
 */
int ns_neigh_pin(int nsfd, const char *ifname, const char *addr4, const char *addr6,
		 const char *peer_ns, const char *peer_if);
/*
 * a, b and c (etcp_netns_add_c()): b forwarding, its ICMP errors not
 * rate-limited (tests wait for none), every neighbour of both families
 * pinned (ns_neigh_pin()), TCP's timestamps off at the ends
 * (so that its MSS is etcp's).  0, or -errno with *@why saying what
 * failed and nothing left behind.
 */
int router_ns_setup(struct etcp_netns *ns, const char **why);

/*
 * TSO off on @ifname of nsfd, so that a capture there sees TCP's
 * segments rather than GSO super-packets: 0 or -errno.
 */
int ns_tso_off(int nsfd, const char *ifname);
/*
 * Transmit checksum offload off on @ifname of nsfd: every segment leaves
 * with its checksum computed, so that a capture can verify TCP's too
 * (with offload it sees partial sums, csum -1): 0 or -errno.
 */
int ns_txcsum_off(int nsfd, const char *ifname);

/*
 * Define env_unsupported: why the namespaces cannot be made here, or
 * NULL.  Asked once by a constructor, before the harness forks a child
 * per test (it runs a shell, which costs under TCG).  Needs etcp_netns.h.
 */
#define ETCP_ENV_CHECK()						\
static const char *env_unsupported;					\
static void __attribute__((constructor)) check_env(void)		\
{									\
	env_unsupported = etcp_netns_unsupported();			\
}

#endif /* _ETCP_UTIL_H */
