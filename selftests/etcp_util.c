// SPDX-License-Identifier: GPL-2.0
/*
 * Small helpers shared by the etcp selftests: see etcp_util.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/etcp.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "etcp_capture.h"
#include "etcp_netns.h"
#include "etcp_util.h"

#define ETCP_UTIL_STEP_MS	5	/* pause_step() */
#define ETCP_UTIL_PROC_SIZE	(256 * 1024)	/* read_counter()'s buffer */
#define ETCP_UTIL_NR_NAMES	4	/* proto_name()'s buffers */

/* ------------------------------------------------------------ time */

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define STALL_TICK_NS	(2 * 1000000LL)
#define STALL_MIN_NS	(20 * 1000000LL)
#define STALL_MAX	256

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	bool running, stop;
	unsigned int n;			/* gaps noted, the last STALL_MAX kept */
	int64_t from[STALL_MAX], to[STALL_MAX];
} stalls = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *stall_watch(void *arg)
{
	const struct timespec tick = { .tv_nsec = STALL_TICK_NS };
	int64_t prev = realtime_ns(), now;
	bool stop = false;

	(void)arg;
	while (!stop) {
		nanosleep(&tick, NULL);
		now = realtime_ns();
		pthread_mutex_lock(&stalls.lock);
		if (now - prev > STALL_TICK_NS + STALL_MIN_NS) {
			stalls.from[stalls.n % STALL_MAX] = prev + STALL_TICK_NS;
			stalls.to[stalls.n % STALL_MAX] = now;
			stalls.n++;
		}
		stop = stalls.stop;
		pthread_mutex_unlock(&stalls.lock);
		prev = now;
	}
	return NULL;
}

int stall_watch_start(void)
{
	int ret;

	if (stalls.running)
		return 0;
	stalls.n = 0;
	stalls.stop = false;
	ret = pthread_create(&stalls.thread, NULL, stall_watch, NULL);
	if (ret)
		return -ret;
	stalls.running = true;
	return 0;
}

void stall_watch_stop(void)
{
	if (!stalls.running)
		return;
	pthread_mutex_lock(&stalls.lock);
	stalls.stop = true;
	pthread_mutex_unlock(&stalls.lock);
	pthread_join(stalls.thread, NULL);
	stalls.running = false;
}

int64_t stall_ns(int64_t from, int64_t to)
{
	unsigned int i, n;
	int64_t sum = 0;

	pthread_mutex_lock(&stalls.lock);
	n = stalls.n < STALL_MAX ? stalls.n : STALL_MAX;
	for (i = 0; i < n; i++) {
		int64_t lo = stalls.from[i] > from ? stalls.from[i] : from;
		int64_t hi = stalls.to[i] < to ? stalls.to[i] : to;

		if (hi > lo)
			sum += hi - lo;
	}
	pthread_mutex_unlock(&stalls.lock);
	return sum;
}

void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void pause_step(void)
{
	pause_ms(ETCP_UTIL_STEP_MS);
}

/* ------------------------------------------------------------ addresses */

const char *proto_name(int proto)
{
	static char buf[ETCP_UTIL_NR_NAMES][16];

	if (proto == IPPROTO_TCP)
		return "tcp";
	if (proto == IPPROTO_ETCP)
		return "etcp";
	snprintf(buf[proto % ETCP_UTIL_NR_NAMES], sizeof(buf[0]), "proto%d", proto);
	return buf[proto % ETCP_UTIL_NR_NAMES];
}

struct sockaddr_in sin_of(const char *addr, unsigned short port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};

	inet_pton(AF_INET, addr, &sin.sin_addr);
	return sin;
}

socklen_t sockaddr_of(const char *addr, unsigned short port,
		      struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':')) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			return 0;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return 0;
	return sizeof(*sin);
}

int bind_to(int fd, const char *addr, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);

	if (!len)
		return -EINVAL;
	if (bind(fd, (struct sockaddr *)&ss, len))
		return -errno;
	return 0;
}

int connect_to(int fd, const char *addr, unsigned short port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(addr, port, &ss);

	if (!len)
		return -EINVAL;
	if (connect(fd, (struct sockaddr *)&ss, len))
		return -errno;
	return 0;
}

unsigned short local_port(int fd)
{
	struct sockaddr_storage ss;

	return sock_addr(fd, false, &ss) < 0 ? 0 : sockaddr_port(&ss);
}

unsigned short peer_port(int fd)
{
	struct sockaddr_storage ss;

	return sock_addr(fd, true, &ss) < 0 ? 0 : sockaddr_port(&ss);
}

const char *any_addr(int family)
{
	return family == AF_INET6 ? "::" : "0.0.0.0";
}

int sock_addr(int fd, bool peer, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);
	int ret;

	memset(ss, 0, sizeof(*ss));
	ret = peer ? getpeername(fd, (struct sockaddr *)ss, &len) :
		     getsockname(fd, (struct sockaddr *)ss, &len);
	return ret ? -errno : (int)len;
}

bool sockaddr_eq(const struct sockaddr_storage *x, const struct sockaddr_storage *y)
{
	const struct sockaddr_in6 *x6 = (const void *)x, *y6 = (const void *)y;
	const struct sockaddr_in *x4 = (const void *)x, *y4 = (const void *)y;

	if (x->ss_family != y->ss_family)
		return false;
	if (x->ss_family == AF_INET)
		return x4->sin_port == y4->sin_port &&
		       x4->sin_addr.s_addr == y4->sin_addr.s_addr;
	if (x->ss_family == AF_INET6)
		return x6->sin6_port == y6->sin6_port &&
		       !memcmp(&x6->sin6_addr, &y6->sin6_addr, sizeof(x6->sin6_addr));
	return false;
}

bool sockaddr_is(const struct sockaddr_storage *ss, const char *addr,
		 unsigned short port)
{
	struct sockaddr_storage want;

	return sockaddr_of(addr, port, &want) && sockaddr_eq(ss, &want);
}

unsigned short sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

const char *sockaddr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	const void *a = ss->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)ss)->sin_addr;
	char s[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		inet_ntop(ss->ss_family, a, s, sizeof(s));
	snprintf(buf, size, ss->ss_family == AF_INET6 ? "[%s]:%u (family %u)" :
		 "%s:%u (family %u)", s, sockaddr_port(ss), ss->ss_family);
	return buf;
}

int listen_on(int nsfd, int proto, const char *addr, unsigned short port,
	      int backlog)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int fd = ns_socket(nsfd, family, SOCK_STREAM | SOCK_CLOEXEC, proto);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind_to(fd, addr, port) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	return fd;
}

int accept_wait(int lfd, int ms)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* ------------------------------------------------------------ poll */

int poll_one(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	return pfd.revents;
}

int poll_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	return n ? pfd.revents : 0;
}

int wait_event(int fd, short events, int ms)
{
	int64_t deadline = now_ms() + ms;
	int ev;

	for (;;) {
		ev = poll_fd(fd, events, ms);
		if (ev < 0 || (ev & events) || now_ms() > deadline)
			return ev;
		pause_step();
	}
}

int wait_ioctl(int fd, unsigned long req, int want, int ms)
{
	int64_t deadline = now_ms() + ms;
	int val;

	for (;;) {
		val = ioctl_int(fd, req);
		if (val < 0 || val == want || now_ms() > deadline)
			return val;
		pause_step();
	}
}

/* ------------------------------------------------------------ options */

int sockopt_get(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, level, opt, &val, &len))
		return -errno;
	return len == sizeof(int) ? val : -EPROTO;
}

int sockopt_set(int fd, int level, int opt, int val)
{
	if (setsockopt(fd, level, opt, &val, sizeof(val)))
		return -errno;
	return 0;
}

int so_error(int fd)
{
	return sockopt_get(fd, SOL_SOCKET, SO_ERROR);
}

int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

int set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

int ioctl_int(int fd, unsigned long req)
{
	int val = -1;

	if (ioctl(fd, req, &val))
		return -errno;
	return val;
}

/* ------------------------------------------------------------ state */

/* The fields ETCP_INFO has under TCP_INFO's names, with prefix @p. */
#define SINFO_COMMON(si, info, p) do {					\
	(si)->state = (info).p##state;					\
	(si)->retransmits = (info).p##retransmits;			\
	(si)->backoff = (info).p##backoff;				\
	(si)->rto = (info).p##rto;					\
	(si)->snd_mss = (info).p##snd_mss;				\
	(si)->snd_cwnd = (info).p##snd_cwnd;				\
	(si)->snd_ssthresh = (info).p##snd_ssthresh;			\
	(si)->total_retrans = (info).p##total_retrans;			\
} while (0)

int sinfo_get(int fd, int proto, struct sinfo *si)
{
	socklen_t len;

	memset(si, 0, sizeof(*si));
	si->state = -1;
	if (proto == IPPROTO_ETCP) {
		struct etcp_info ei = {};

		len = sizeof(ei);
		if (getsockopt(fd, SOL_ETCP, ETCP_INFO, &ei, &len))
			return -errno;
		SINFO_COMMON(si, ei, etcpi_);
		si->iss = ei.etcpi_iss;
		si->irs = ei.etcpi_irs;
		si->snd_una = ei.etcpi_snd_una;
		si->snd_nxt = ei.etcpi_snd_nxt;
		si->rcv_nxt = ei.etcpi_rcv_nxt;
		si->snd_wnd = ei.etcpi_snd_wnd;
		si->rcv_wnd = ei.etcpi_rcv_wnd;
		si->bytes_acked = ei.etcpi_bytes_acked;
		si->bytes_received = ei.etcpi_bytes_received;
		si->seqs = true;
		si->snd_wscale = ei.etcpi_snd_wscale;
		si->rcv_wscale = ei.etcpi_rcv_wscale;
	} else {
		struct tcp_info ti = {};

		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
			return -errno;
		SINFO_COMMON(si, ti, tcpi_);
		if (ti.tcpi_options & TCPI_OPT_WSCALE) {
			si->snd_wscale = ti.tcpi_snd_wscale;
			si->rcv_wscale = ti.tcpi_rcv_wscale;
		}
	}
	return 0;
}

int sock_state(int fd, int proto)
{
	struct sinfo si;

	return sinfo_get(fd, proto, &si) ? -1 : si.state;
}

int wait_sock_state(int fd, int proto, int st, int ms)
{
	int64_t deadline = now_ms() + ms;
	int cur;

	for (;;) {
		cur = sock_state(fd, proto);
		if (cur == st || now_ms() > deadline)
			return cur;
		pause_step();
	}
}

const char *state_name(int st)
{
	static const char * const names[] = {
		[0] = "gone", [ETCP_ESTABLISHED] = "ESTABLISHED",
		[ETCP_SYN_SENT] = "SYN_SENT", [ETCP_SYN_RECV] = "SYN_RECV",
		[ETCP_FIN_WAIT1] = "FIN_WAIT1", [ETCP_FIN_WAIT2] = "FIN_WAIT2",
		[ETCP_TIME_WAIT] = "TIME_WAIT", [ETCP_CLOSE] = "CLOSE",
		[ETCP_CLOSE_WAIT] = "CLOSE_WAIT", [ETCP_LAST_ACK] = "LAST_ACK",
		[ETCP_LISTEN] = "LISTEN", [ETCP_CLOSING] = "CLOSING",
	};

	if (st < 0)
		return "error";
	if (st > ETCP_CLOSING)
		return "?";
	return names[st];
}

int etcp_info_of(int fd, struct etcp_info *ei)
{
	socklen_t len = sizeof(*ei);

	memset(ei, 0, sizeof(*ei));
	if (getsockopt(fd, SOL_ETCP, ETCP_INFO, ei, &len))
		return -errno;
	return len == sizeof(*ei) ? 0 : -EPROTO;
}

/* ------------------------------------------------------------ counters */

long read_counter(int nsfd, int proto, const char *name)
{
	char *text, *names, *vals, *ns = NULL, *vs = NULL, *n, *v, *p;
	size_t len = strlen(name);
	long val = -1;

	text = malloc(ETCP_UTIL_PROC_SIZE);
	if (!text)
		return -1;
	if (ns_proc_net_read(nsfd, proto == IPPROTO_ETCP ? "etcp_stat" : "netstat",
			     text, ETCP_UTIL_PROC_SIZE) < 0)
		goto out;

	if (proto == IPPROTO_ETCP) {
		for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
			if (!strncmp(p, name, len) && p[len] == ' ') {
				val = strtol(p + len + 1, NULL, 10);
				break;
			}
		}
		goto out;
	}

	names = strstr(text, "TcpExt:");
	if (!names)
		goto out;
	vals = strchr(names, '\n');
	if (!vals)
		goto out;
	*vals++ = '\0';
	p = strchr(vals, '\n');
	if (p)
		*p = '\0';
	n = strtok_r(names, " ", &ns);
	v = strtok_r(vals, " ", &vs);
	while (n && v) {
		if (!strcmp(n, name)) {
			val = strtol(v, NULL, 10);
			break;
		}
		n = strtok_r(NULL, " ", &ns);
		v = strtok_r(NULL, " ", &vs);
	}
out:
	free(text);
	return val;
}

long wait_counter(int nsfd, int proto, const char *name, long min, int ms)
{
	int64_t deadline = now_ms() + ms;
	long val;

	for (;;) {
		val = read_counter(nsfd, proto, name);
		if (val >= min || now_ms() > deadline)
			return val;
		pause_step();
	}
}

long stat_now(int nsfd, const char *name)
{
	return read_counter(nsfd, IPPROTO_ETCP, name);
}

int stats_read(int nsfd, struct stats *s)
{
	ssize_t n = ns_proc_net_read(nsfd, "etcp_stat", s->text, sizeof(s->text));

	return n < 0 ? (int)n : 0;
}

long stat_of(const struct stats *s, const char *name)
{
	size_t len = strlen(name);
	const char *p = s->text;

	while (p && *p) {
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtol(p + len + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

long stat_delta(const struct stats *a, const struct stats *b, const char *name)
{
	return stat_of(b, name) - stat_of(a, name);
}

int wait_stat(int nsfd, const char *name, long value, int ms)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		if (stat_now(nsfd, name) >= value)
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_ms(5);
	}
}

/* ------------------------------------------------- /proc/net/{tcp,etcp} */

/*
 * An address column: 8 hex digits into *@v4 (IPv4), or 32 into @v6[4]
 * (IPv6, word by word); the other zeroed.  0, or -1.
 */
static int proc_addr_scan(const char *hex, unsigned int *v4, unsigned int v6[4])
{
	size_t len = strlen(hex);
	int i;

	*v4 = 0;
	memset(v6, 0, 4 * sizeof(*v6));
	if (len == 8)
		return sscanf(hex, "%8X", v4) == 1 ? 0 : -1;
	if (len != 32)
		return -1;
	for (i = 0; i < 4; i++)
		if (sscanf(hex + 8 * i, "%8X", &v6[i]) != 1)
			return -1;
	return 0;
}

int proc_row_scan(const char *line, struct proc_row *r)
{
	char la[33], ra[33];
	int n;

	n = sscanf(line, "%d: %32[0-9A-F]:%X %32[0-9A-F]:%X %X %X:%X %X:%lX %X %u %d %lu",
		   &r->sl, la, &r->lport, ra, &r->rport, &r->st,
		   &r->txq, &r->rxq, &r->tr, &r->when, &r->retr, &r->uid,
		   &r->timeout, &r->inode);
	if (n != 14)
		return -1;
	return proc_addr_scan(la, &r->laddr, r->laddr6) ?:
	       proc_addr_scan(ra, &r->raddr, r->raddr6);
}

const char *proc_table(int proto)
{
	return proto == IPPROTO_ETCP ? "etcp" : "tcp";
}

const char *proc_table_af(int proto, int family)
{
	if (family == AF_INET6)
		return proto == IPPROTO_ETCP ? "etcp6" : "tcp6";
	return proc_table(proto);
}

void row_addr_words(const char *addr, unsigned int w[4])
{
	struct sockaddr_storage ss;

	if (sockaddr_of(addr, 0, &ss))
		row_addr_words_sa(&ss, w);
	else
		memset(w, 0, 4 * sizeof(*w));
}

void row_addr_words_sa(const struct sockaddr_storage *ss, unsigned int w[4])
{
	memset(w, 0, 4 * sizeof(*w));
	if (ss->ss_family == AF_INET6)
		memcpy(w, &((const struct sockaddr_in6 *)ss)->sin6_addr, 4 * sizeof(*w));
	else if (ss->ss_family == AF_INET)
		w[0] = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
}

int row_key_of(int fd, struct row_key *k)
{
	struct sockaddr_storage l, r;
	int ret;

	memset(k, 0, sizeof(*k));
	ret = sock_addr(fd, false, &l);
	if (ret >= 0)
		ret = sock_addr(fd, true, &r);
	if (ret < 0)
		return ret;
	row_addr_words_sa(&l, k->laddr);
	row_addr_words_sa(&r, k->raddr);
	k->lport = sockaddr_port(&l);
	k->rport = sockaddr_port(&r);
	return 0;
}

/* The words of a row's address: @v6 in a 6-table's row, else @v4 and 0s. */
static bool row_addr_eq(const unsigned int w[4], unsigned int v4,
			const unsigned int v6[4])
{
	if (v6[0] | v6[1] | v6[2] | v6[3])
		return !memcmp(w, v6, 4 * sizeof(*w));
	return w[0] == v4 && !(w[1] | w[2] | w[3]);
}

static bool row_addr_any(const unsigned int w[4])
{
	return !(w[0] | w[1] | w[2] | w[3]);
}

bool proc_row_addr_is(const struct proc_row *r, bool local, const char *addr)
{
	unsigned int w[4];

	row_addr_words(addr, w);
	return local ? row_addr_eq(w, r->laddr, r->laddr6) :
		       row_addr_eq(w, r->raddr, r->raddr6);
}

bool row_key_match(const struct proc_row *r, const void *key)
{
	const struct row_key *k = key;

	return (row_addr_any(k->laddr) || row_addr_eq(k->laddr, r->laddr, r->laddr6)) &&
	       (!k->lport || r->lport == k->lport) &&
	       (row_addr_any(k->raddr) || row_addr_eq(k->raddr, r->raddr, r->raddr6)) &&
	       (!k->rport || r->rport == k->rport) &&
	       (!k->st || r->st == k->st);
}

int proc_text_rows(char *text, row_filter fn, const void *arg, struct proc_row *out)
{
	char *line, *save = NULL;
	struct proc_row r;
	int found = 0;

	line = strtok_r(text, "\n", &save);	/* the header */
	while (line && (line = strtok_r(NULL, "\n", &save))) {
		if (proc_row_scan(line, &r) || (fn && !fn(&r, arg)))
			continue;
		found++;
		if (out)
			*out = r;
	}
	return found;
}

/* Large enough for a few thousand rows. */
#define PROC_TABLE_SIZE		(256 * 1024)

int proc_rows(int nsfd, const char *file, row_filter fn, const void *arg,
	      struct proc_row *out)
{
	ssize_t n;
	char *text;

	text = malloc(PROC_TABLE_SIZE);
	if (!text)
		return -ENOMEM;
	n = ns_proc_net_read(nsfd, file, text, PROC_TABLE_SIZE);
	if (n >= 0)
		n = proc_text_rows(text, fn, arg, out);
	free(text);
	return n;
}

int count_rows(int nsfd, int proto, int family, int st, unsigned int lport)
{
	struct row_key k = { .lport = lport, .st = st };

	return proc_rows(nsfd, proc_table_af(proto, family), row_key_match, &k, NULL);
}

int proc_row_state(int nsfd, int proto, unsigned int lport, unsigned int rport)
{
	struct row_key k = { .lport = lport, .rport = rport };
	char table6[16];
	struct proc_row r;
	int n;

	snprintf(table6, sizeof(table6), "%s6", proc_table(proto));
	n = proc_rows(nsfd, table6, row_key_match, &k, &r);
	if (!n)
		n = proc_rows(nsfd, proc_table(proto), row_key_match, &k, &r);
	return n > 0 ? (int)r.st : n;
}

int wait_row_state(int nsfd, int proto, unsigned int lport, unsigned int rport,
		   int st, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (proc_row_state(nsfd, proto, lport, rport) != st) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_step();
	}
	return 0;
}

/* ------------------------------------------------------------ data */

/* All n bytes, blocking: 0 or -errno (-EIO if send() returned 0). */
int send_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -EIO;
		done += r;
	}
	return 0;
}

/* Read exactly n bytes within ms: 0, -ETIMEDOUT, -EPIPE on EOF, -errno. */
int recv_exact(int fd, void *buf, size_t n, int ms)
{
	int64_t deadline = now_ms() + ms, left;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
		if (r > 0) {
			got += r;
			continue;
		}
		if (!r)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		poll_one(fd, POLLIN, left);
	}
	return 0;
}

unsigned char bulk_byte(size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return (x >> 24) ^ (uint8_t)(i >> 13);
}

#define BULK_CHUNK	65536

int bulk_xfer(int sfd, int rfd, size_t len, int ms, size_t *done,
	      size_t *bad)
{
	static unsigned char sbuf[BULK_CHUNK], rbuf[BULK_CHUNK];
	int64_t deadline = now_ms() + ms;
	size_t sent = 0, got = 0, i, n;
	ssize_t r;

	*done = 0;
	while (got < len) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = sent < len ? POLLOUT : 0 },
			{ .fd = rfd, .events = POLLIN },
		};

		if (now_ms() > deadline)
			return -ETIMEDOUT;
		poll(pfd, 2, 100);
		if (sent < len) {
			n = len - sent < BULK_CHUNK ? len - sent : BULK_CHUNK;
			for (i = 0; i < n; i++)
				sbuf[i] = bulk_byte(sent + i);
			r = send(sfd, sbuf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0)
				sent += r;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		r = recv(rfd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (!r)
			return -EPIPE;
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
			continue;
		}
		for (i = 0; i < (size_t)r; i++) {
			if (rbuf[i] != bulk_byte(got + i)) {
				*bad = got + i;
				return -EBADMSG;
			}
		}
		got += r;
		*done = got;
	}
	return 0;
}

/* SO_LINGER {1, 0} and close(): an RST, no TIME_WAIT.  fd < 0: nothing. */
void close_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

void close_fds(int *fd, ...)
{
	va_list ap;

	va_start(ap, fd);
	for (; fd; fd = va_arg(ap, int *)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	va_end(ap);
}

int wait_acked(int fd, int ms)
{
	int64_t deadline = now_ms() + ms;

	while (ioctl_int(fd, SIOCOUTQ) != 0) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		pause_ms(2);
	}
	return 0;
}

void no_quickack(int fd, int proto)
{
	/* SOL_ETCP is IPPROTO_ETCP, ETCP_QUICKACK is TCP_QUICKACK. */
	sockopt_set(fd, proto, TCP_QUICKACK, 0);
}

volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

int catch_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };

	sigpipes = 0;
	return sigaction(SIGPIPE, &sa, NULL) ? -errno : 0;
}

/* ------------------------------------------------------------ slabs */

/*
 * Objects in use in slab cache @cache, or -1 when /proc/slabinfo has no
 * line for it (SLUB merged it into another; etcp's own are never merged).
 * SLUB counts a slab a CPU holds as full: shrinking the cache first puts
 * those back on the lists, so that at rest the count is exact; while
 * others allocate it may be up to a slab (*per_slab objects) too high.
 */
long slab_active(const char *cache, long *per_slab)
{
	char line[512];
	size_t len = strlen(cache);
	long n = -1, objs, per = 0;
	FILE *f;

	snprintf(line, sizeof(line), "/sys/kernel/slab/%s/shrink", cache);
	f = fopen(line, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, cache, len) && line[len] == ' ') {
			if (sscanf(line + len, "%ld %ld %*d %ld", &n, &objs, &per) != 3)
				n = -1;
			break;
		}
	}
	fclose(f);
	if (per_slab)
		*per_slab = per;
	return n;
}

long slab_objsize(const char *cache)
{
	size_t len = strlen(cache);
	char line[512];
	long size = -1;
	FILE *f;

	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, cache, len) && line[len] == ' ') {
			if (sscanf(line + len, "%*d %*d %ld", &size) != 1)
				size = -1;
			break;
		}
	}
	fclose(f);
	return size;
}

#define FIXED_ISN_PARAM	"/sys/module/etcp/parameters/fixed_isn"

int fixed_isn_write(int nsfd, const char *val)
{
	return ns_write_file(nsfd, FIXED_ISN_PARAM, val, strlen(val));
}

long fixed_isn_read(int nsfd)
{
	long val;
	int ret;

	ret = ns_read_long_inside(nsfd, FIXED_ISN_PARAM, &val);
	return ret ? ret : val;
}

/* ------------------------------------------------------------ sysctls */

int proto_sysctl_set(int nsfd, int proto, const char *knob, long val)
{
	char path[96], buf[32];

	snprintf(path, sizeof(path), "net/ipv4/%s_%s",
		 proto == IPPROTO_ETCP ? "etcp" : "tcp", knob);
	snprintf(buf, sizeof(buf), "%ld", val);
	return ns_sysctl_write(nsfd, path, buf);
}

int tcp_classic_syn_backoff(int nsfd)
{
	int ret = ns_sysctl_write(nsfd, "net/ipv4/tcp_syn_linear_timeouts", "0");

	return ret == -ENOENT ? 0 : ret;
}

/* ------------------------------------------------------------ nftables */

int ns_nft(int nsfd, const char *script)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		if (setns(nsfd, CLONE_NEWNET))
			_exit(126);
		execlp("nft", "nft", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "# nft '%s' failed (status 0x%x)\n", script, st);
		return -ECHILD;
	}
	return 0;
}

int ns_nft_drop(int nsfd, int proto, const char *hook, const char *match)
{
	char script[512];

	snprintf(script, sizeof(script),
		 "add table inet " ETCP_NFT_TABLE "; "
		 "add chain inet " ETCP_NFT_TABLE " %1$s { type filter hook %1$s priority 0; }; "
		 "add rule inet " ETCP_NFT_TABLE " %1$s meta l4proto %2$d %3$s drop",
		 hook, proto, match);
	return ns_nft(nsfd, script);
}

int ns_nft_flush(int nsfd)
{
	/* Adding it first makes this a no-op when there is no table. */
	return ns_nft(nsfd, "add table inet " ETCP_NFT_TABLE "; delete table inet " ETCP_NFT_TABLE);
}

/* ------------------------------------------------------------ misc */

bool have_prog(const char *prog)
{
	const char *env = getenv("PATH");
	char path[4096], file[4200], *dir, *save = NULL;

	snprintf(path, sizeof(path), "%s", env ? env : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", dir, prog);
		if (!access(file, X_OK))
			return true;
	}
	return false;
}

bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

int two_ns_setup(struct etcp_netns *ns)
{
	int err;

	err = etcp_netns_setup(ns);
	if (err)
		return err;
	err = ns_sysctl_write(ns->a, "net/ipv4/tcp_timestamps", "0");
	if (!err)
		err = ns_sysctl_write(ns->b, "net/ipv4/tcp_timestamps", "0");
	if (!err)
		err = etcp_netns_wait_carrier(ns, 10000);
	if (err)
		etcp_netns_teardown(ns);
	return err;
}

void pin_cpu(void)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
			return;
		}
	}
}

size_t quiet(struct etcp_cap *cap, int ms)
{
	etcp_cap_wait(cap, (size_t)-1, ms);
	return cap->n;
}

/* The ethtool feature set by @cmd (ETHTOOL_S*) off on @ifname of nsfd. */
static int ns_ethtool_off(int nsfd, const char *ifname, __u32 cmd)
{
	struct ethtool_value ev = { .cmd = cmd, .data = 0 };
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = ns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

int ns_tso_off(int nsfd, const char *ifname)
{
	return ns_ethtool_off(nsfd, ifname, ETHTOOL_STSO);
}

int ns_txcsum_off(int nsfd, const char *ifname)
{
	return ns_ethtool_off(nsfd, ifname, ETHTOOL_STXCSUM);
}

int ns_neigh_pin(int nsfd, const char *ifname, const char *addr4, const char *addr6,
		 const char *peer_ns, const char *peer_if)
{
	return ns_cmd(nsfd, "mac=$(ip -n %s -br link show %s | awk '{ print $3 }') && "
		      "ip neigh replace %s dev %s nud permanent lladdr $mac && "
		      "ip neigh replace %s dev %s nud permanent lladdr $mac",
		      peer_ns, peer_if, addr4, ifname, addr6, ifname);
}

int router_ns_setup(struct etcp_netns *ns, const char **why)
{
	int ret;

	*why = "cannot create the namespaces";
	ret = etcp_netns_setup(ns);
	if (ret)
		return ret;
	*why = "the veth pair a-b has no carrier";
	ret = etcp_netns_wait_carrier(ns, 5000);
	if (ret)
		goto err;
	*why = "cannot add netns c behind b";
	ret = etcp_netns_add_c(ns, 5000);
	if (ret)
		goto err;
	*why = "cannot pin the neighbours";
	ret = ns_neigh_pin(ns->a, ETCP_NS_IF_A, ETCP_NS_ADDR_B, ETCP_NS_ADDR6_B,
			   ns->name_b, ETCP_NS_IF_B) ?:
	      ns_neigh_pin(ns->b, ETCP_NS_IF_B, ETCP_NS_ADDR_A, ETCP_NS_ADDR6_A,
			   ns->name_a, ETCP_NS_IF_A) ?:
	      ns_neigh_pin(ns->b, ETCP_NS_IF_B2, ETCP_NS_ADDR_C, ETCP_NS_ADDR6_C,
			   ns->name_c, ETCP_NS_IF_C) ?:
	      ns_neigh_pin(ns->c, ETCP_NS_IF_C, ETCP_NS_ADDR_B2, ETCP_NS_ADDR6_B2,
			   ns->name_b, ETCP_NS_IF_B2);
	if (ret)
		goto err;
	*why = "cannot set the sysctls";
	ret = ns_sysctl_write(ns->a, "net/ipv4/tcp_timestamps", "0");
	if (!ret)
		ret = ns_sysctl_write(ns->c, "net/ipv4/tcp_timestamps", "0");
	if (!ret)
		ret = ns_sysctl_write(ns->b, "net/ipv4/icmp_ratemask", "0");
	if (!ret)
		ret = ns_sysctl_write(ns->b, "net/ipv6/icmp/ratelimit", "0");
	if (ret)
		goto err;
	return 0;

err:
	etcp_netns_teardown(ns);
	return ret;
}
