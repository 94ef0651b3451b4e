// SPDX-License-Identifier: GPL-2.0
/*
 * libetcp-run.so: run an unmodified, dynamically linked program with its
 * TCP sockets on etcp.  Loaded with LD_PRELOAD (the etcp-run wrapper does
 * that), it wraps three libc calls:
 *
 *   socket()      an AF_INET or AF_INET6 SOCK_STREAM socket asked for with
 *                 protocol 0 or IPPROTO_TCP gets protocol 253 (IPPROTO_ETCP)
 *                 instead; SOCK_NONBLOCK and SOCK_CLOEXEC are kept.  etcp
 *                 serves IPv6 as it serves IPv4, dual stack included, so
 *                 both families move (ETCP_RUN_IPV6=0 keeps AF_INET6 on TCP).
 *   setsockopt()  at level IPPROTO_TCP on an etcp socket: the options etcp
 *   getsockopt()  has (opt_map[]) go to SOL_ETCP; TCP_INFO is read from
 *                 ETCP_INFO into a struct tcp_info (tcp_info_from_etcp());
 *                 every other TCP option fails with ENOPROTOOPT, as on a
 *                 kernel without it, and nothing is sent to the kernel.
 *
 * Whether a descriptor is an etcp socket is asked of the kernel each time
 * (SO_PROTOCOL and SO_TYPE), so descriptors passed in, dup()ed or accepted
 * need no bookkeeping.  Everything else passes through untouched.  A
 * socket() etcp refuses (the module not loaded: EPROTONOSUPPORT) fails,
 * with one line on stderr; there is no silent fall back to TCP.
 *
 * Environment, read once at load:
 *   ETCP_RUN_DEBUG   set and not "0": one line on stderr per socket moved
 *                    and per TCP option mapped or refused
 *   ETCP_RUN_PROTO   the protocol number etcp was loaded with (253, or 254
 *                    for proto=254); default 253
 *   ETCP_RUN_IPV6    "0": leave AF_INET6 sockets on TCP
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <linux/etcp.h>

#define EXPORT __attribute__((visibility("default")))

typedef int (*socket_fn)(int, int, int);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);

static socket_fn real_socket;
static setsockopt_fn real_setsockopt;
static getsockopt_fn real_getsockopt;

static int cfg_debug;
static int cfg_proto = IPPROTO_ETCP;
static int cfg_ipv6 = 1;

/*
 * The TCP options etcp has, by TCP's name; the numbers are the same today,
 * but the table, not that coincidence, decides what is passed on.
 */
static const struct {
	int tcp;
	int etcp;
	const char *name;
} opt_map[] = {
	{ TCP_NODELAY,   ETCP_NODELAY,   "TCP_NODELAY" },
	{ TCP_MAXSEG,    ETCP_MAXSEG,    "TCP_MAXSEG" },
	{ TCP_CORK,      ETCP_CORK,      "TCP_CORK" },
	{ TCP_KEEPIDLE,  ETCP_KEEPIDLE,  "TCP_KEEPIDLE" },
	{ TCP_KEEPINTVL, ETCP_KEEPINTVL, "TCP_KEEPINTVL" },
	{ TCP_KEEPCNT,   ETCP_KEEPCNT,   "TCP_KEEPCNT" },
	{ TCP_SYNCNT,    ETCP_SYNCNT,    "TCP_SYNCNT" },
	{ TCP_LINGER2,   ETCP_LINGER2,   "TCP_LINGER2" },
	{ TCP_QUICKACK,  ETCP_QUICKACK,  "TCP_QUICKACK" },
};

/* Write @buf to stderr, as much as it takes: a failure here is ignored. */
static void say(const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w <= 0)
			return;
		buf += w;
		n -= w;
	}
}

static void debug(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* With ETCP_RUN_DEBUG, one line on stderr; errno is left as it was. */
static void debug(const char *fmt, ...)
{
	int saved = errno;
	char buf[256];
	size_t n, room;
	va_list ap;
	int m;

	if (!cfg_debug)
		return;
	n = snprintf(buf, sizeof(buf), "etcp-run[%d]: ", (int)getpid());
	room = sizeof(buf) - 1 - n;	/* one byte kept for the newline */
	va_start(ap, fmt);
	m = vsnprintf(buf + n, room, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m < room ? (size_t)m : room - 1;
	buf[n++] = '\n';
	say(buf, n);
	errno = saved;
}

static void resolve(void)
{
	if (!real_socket)
		real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	if (!real_setsockopt)
		real_setsockopt = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
	if (!real_getsockopt)
		real_getsockopt = (getsockopt_fn)dlsym(RTLD_NEXT, "getsockopt");
}

__attribute__((constructor))
static void etcp_run_init(void)
{
	const char *s;

	s = getenv("ETCP_RUN_DEBUG");
	cfg_debug = s && *s && strcmp(s, "0");
	s = getenv("ETCP_RUN_PROTO");
	if (s && *s) {
		char *end;
		long p = strtol(s, &end, 10);

		if (!*end && p > 0 && p < 256)
			cfg_proto = p;
		else
			debug("ETCP_RUN_PROTO=%s is not a protocol number; using %d",
			      s, cfg_proto);
	}
	s = getenv("ETCP_RUN_IPV6");
	cfg_ipv6 = !(s && !strcmp(s, "0"));
	resolve();
}

/*
 * socket() before our constructor ran (another library's constructor)
 * still finds libc's; a call that cannot be resolved fails as ENOSYS.
 */
#define REAL(fn, ...) \
	(resolve(), real_##fn ? real_##fn(__VA_ARGS__) : (errno = ENOSYS, -1))

EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	static int warned;
	int fd;

	if (base != SOCK_STREAM || (protocol && protocol != IPPROTO_TCP) ||
	    !(domain == AF_INET || (domain == AF_INET6 && cfg_ipv6)))
		return REAL(socket, domain, type, protocol);

	fd = REAL(socket, domain, type, cfg_proto);
	if (fd >= 0) {
		debug("socket(%s, SOCK_STREAM%s%s, %d): fd %d on protocol %d",
		      domain == AF_INET ? "AF_INET" : "AF_INET6",
		      type & SOCK_NONBLOCK ? "|SOCK_NONBLOCK" : "",
		      type & SOCK_CLOEXEC ? "|SOCK_CLOEXEC" : "",
		      protocol, fd, cfg_proto);
		return fd;
	}
	/* No silent fall back to TCP: the program sees the error. */
	if (!warned && (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT)) {
		int saved = errno;
		char msg[160];
		int n;

		warned = 1;
		n = snprintf(msg, sizeof(msg),
			     "etcp-run: socket() on protocol %d: %s; is etcp loaded (proto=%d)?\n",
			     cfg_proto, strerror(saved), cfg_proto);
		if (n > 0)
			say(msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		errno = saved;
	}
	debug("socket(%d, %#x, %d) on protocol %d failed: %s", domain, type,
	      protocol, cfg_proto, strerror(errno));
	return fd;
}

/* Is @fd an etcp socket?  Asked of the kernel, errno left as it was. */
static int is_etcp(int fd)
{
	int saved = errno;
	socklen_t len;
	int v, ret = 0;

	len = sizeof(v);
	if (REAL(getsockopt, fd, SOL_SOCKET, SO_PROTOCOL, &v, &len) ||
	    v != cfg_proto)
		goto out;
	len = sizeof(v);
	if (REAL(getsockopt, fd, SOL_SOCKET, SO_TYPE, &v, &len) ||
	    v != SOCK_STREAM)
		goto out;
	ret = 1;
out:
	errno = saved;
	return ret;
}

/* Index of TCP option @optname in opt_map[], or -1. */
static int map_opt(int optname)
{
	size_t i;

	for (i = 0; i < sizeof(opt_map) / sizeof(opt_map[0]); i++)
		if (opt_map[i].tcp == optname)
			return i;
	return -1;
}

static int refuse(int fd, const char *call, int optname)
{
	debug("fd %d: %s(IPPROTO_TCP, %d): no etcp equivalent, ENOPROTOOPT",
	      fd, call, optname);
	errno = ENOPROTOOPT;
	return -1;
}

EXPORT int setsockopt(int fd, int level, int optname, const void *optval,
		      socklen_t optlen)
{
	int i, ret;

	if (level != IPPROTO_TCP || !is_etcp(fd))
		return REAL(setsockopt, fd, level, optname, optval, optlen);
	i = map_opt(optname);
	if (i < 0)
		return refuse(fd, "setsockopt", optname);
	ret = REAL(setsockopt, fd, SOL_ETCP, opt_map[i].etcp, optval, optlen);
	if (cfg_debug && optval && optlen >= sizeof(int)) {
		int val;

		memcpy(&val, optval, sizeof(val));
		debug("fd %d: setsockopt %s = %d as SOL_ETCP %d: %s", fd,
		      opt_map[i].name, val, opt_map[i].etcp,
		      ret ? strerror(errno) : "ok");
	}
	return ret;
}

/*
 * TCP_INFO from ETCP_INFO.  The fields with an etcp equivalent are filled,
 * all others are 0: tcpi_state, _retransmits, _backoff, _rto, _snd_mss,
 * _advmss (the MSS we announced, etcpi_rcv_mss), _pmtu, _rtt (etcpi_srtt),
 * _rttvar, _snd_ssthresh, _snd_cwnd, _rcv_rtt, _rcv_space, _total_retrans,
 * _bytes_acked, _bytes_received, _segs_out, _segs_in, _snd_wnd, and the
 * window scale shifts, with TCPI_OPT_WSCALE when either is not 0 (etcp
 * reports 0 for "not negotiated").  tcpi_options has no other bit.
 */
static void tcp_info_from_etcp(struct tcp_info *ti, const struct etcp_info *ei)
{
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = ei->etcpi_state;
	ti->tcpi_retransmits = ei->etcpi_retransmits;
	ti->tcpi_backoff = ei->etcpi_backoff;
	if (ei->etcpi_snd_wscale || ei->etcpi_rcv_wscale) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = ei->etcpi_snd_wscale;
		ti->tcpi_rcv_wscale = ei->etcpi_rcv_wscale;
	}
	ti->tcpi_rto = ei->etcpi_rto;
	ti->tcpi_snd_mss = ei->etcpi_snd_mss;
	ti->tcpi_advmss = ei->etcpi_rcv_mss;
	ti->tcpi_pmtu = ei->etcpi_pmtu;
	ti->tcpi_rtt = ei->etcpi_srtt;
	ti->tcpi_rttvar = ei->etcpi_rttvar;
	ti->tcpi_snd_ssthresh = ei->etcpi_snd_ssthresh;
	ti->tcpi_snd_cwnd = ei->etcpi_snd_cwnd;
	ti->tcpi_rcv_rtt = ei->etcpi_rcv_rtt;
	ti->tcpi_rcv_space = ei->etcpi_rcv_space;
	ti->tcpi_total_retrans = ei->etcpi_total_retrans;
	ti->tcpi_bytes_acked = ei->etcpi_bytes_acked;
	ti->tcpi_bytes_received = ei->etcpi_bytes_received;
	ti->tcpi_segs_out = ei->etcpi_segs_out;
	ti->tcpi_segs_in = ei->etcpi_segs_in;
	ti->tcpi_snd_wnd = ei->etcpi_snd_wnd;
}

/*
 * As the kernel answers TCP_INFO: min(*optlen, sizeof) bytes, that length
 * stored back, so a program built for a longer tcp_info gets what a kernel
 * of these headers (6.1's) would give it.
 */
static int get_tcp_info(int fd, void *optval, socklen_t *optlen)
{
	struct etcp_info ei;
	struct tcp_info ti;
	socklen_t elen = sizeof(ei);
	size_t len;

	if (!optlen) {
		errno = EFAULT;
		return -1;
	}
	if ((int)*optlen < 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&ei, 0, sizeof(ei));
	if (REAL(getsockopt, fd, SOL_ETCP, ETCP_INFO, &ei, &elen))
		return -1;
	tcp_info_from_etcp(&ti, &ei);
	len = *optlen < sizeof(ti) ? *optlen : sizeof(ti);
	if (len && !optval) {
		errno = EFAULT;
		return -1;
	}
	memcpy(optval, &ti, len);
	*optlen = len;
	debug("fd %d: getsockopt TCP_INFO from ETCP_INFO: %zu bytes", fd, len);
	return 0;
}

EXPORT int getsockopt(int fd, int level, int optname, void *optval,
		      socklen_t *optlen)
{
	int i, ret;

	if (level != IPPROTO_TCP || !is_etcp(fd))
		return REAL(getsockopt, fd, level, optname, optval, optlen);
	if (optname == TCP_INFO)
		return get_tcp_info(fd, optval, optlen);
	i = map_opt(optname);
	if (i < 0)
		return refuse(fd, "getsockopt", optname);
	ret = REAL(getsockopt, fd, SOL_ETCP, opt_map[i].etcp, optval, optlen);
	debug("fd %d: getsockopt %s as SOL_ETCP %d: %s", fd, opt_map[i].name,
	      opt_map[i].etcp, ret ? strerror(errno) : "ok");
	return ret;
}
