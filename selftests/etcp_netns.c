// SPDX-License-Identifier: GPL-2.0
/*
 * Network namespace fixture for etcp selftests: see etcp_netns.h.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "etcp_netns.h"

#define ETCP_NETNS_RUN_DIR	"/run/netns"
#define ETCP_POLL_NS		(5 * 1000 * 1000)	/* 5 ms between polls */

/* The namespace this thread started in, saved by the first ns_enter(). */
static int etcp_orig_netns = -1;

int etcp_run(const char *fmt, ...)
{
	char body[1024], cmd[1100], line[512];
	va_list ap;
	FILE *p;
	int n, st;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -ENAMETOOLONG;
	/* Every command's stderr, not just the last one's. */
	snprintf(cmd, sizeof(cmd), "{ %s\n} 2>&1", body);

	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p))
		fprintf(stderr, "# %s", line);
	st = pclose(p);
	if (st < 0)
		return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "# command failed (status 0x%x): %s\n", st, body);
		return -ECHILD;
	}
	return 0;
}

const char *etcp_netns_unsupported(void)
{
	if (geteuid() != 0)
		return "needs root to create network namespaces";
	if (etcp_run("command -v ip >/dev/null"))
		return "needs ip(8) from iproute2";
	return NULL;
}

static int etcp_ns_open(const char *name)
{
	char path[sizeof(ETCP_NETNS_RUN_DIR) + ETCP_NS_NAME_MAX + 1];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ETCP_NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Static keys the tests would otherwise switch on and off: a capture's
 * SO_TIMESTAMPNS (netstamp_needed_key, switched by a workqueue a moment
 * later, while the test already sends) and the first nftables base chain
 * of a hook (nf_hooks_needed).  Switching one rewrites kernel code with
 * int3 breakpoints; under TCG a vCPU running that code at the time was
 * seen to trap on a stale int3 (an Oops in netif_rx_internal() on 6.12).
 * So every program linking this file holds them on from start to exit: a
 * timestamping socket, and a namespace of its own with input and output
 * base chains.  Only the harness's main process runs the destructor (the
 * tests end with _exit()).
 */
static int keep_ts_fd = -1, keep_nsfd = -1;
static char keep_ns[ETCP_NS_NAME_MAX];

static void __attribute__((constructor)) etcp_keep_static_keys(void)
{
	int one = 1;

	if (etcp_netns_unsupported())
		return;
	keep_ts_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (keep_ts_fd >= 0)
		setsockopt(keep_ts_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
			   sizeof(one));
	snprintf(keep_ns, sizeof(keep_ns), "etcp-keep-%d", getpid());
	keep_nsfd = etcp_ns_create(keep_ns);
	if (keep_nsfd < 0) {
		keep_ns[0] = '\0';
		return;
	}
	etcp_run("ip netns exec %s nft 'add table inet keep; "
		 "add chain inet keep i { type filter hook input priority 0; }; "
		 "add chain inet keep o { type filter hook output priority 0; }'",
		 keep_ns);
}

static void __attribute__((destructor)) etcp_release_static_keys(void)
{
	if (keep_ns[0])
		etcp_ns_delete(keep_ns, keep_nsfd);
	if (keep_ts_fd >= 0)
		close(keep_ts_fd);
}

int etcp_ns_create(const char *name)
{
	int fd;

	if (etcp_run("ip netns add %s", name))
		return -ECHILD;
	fd = etcp_ns_open(name);
	if (fd < 0)
		etcp_run("ip netns del %s", name);
	return fd;
}

/*
 * Before a test's namespace goes: etcp connections the test left closing
 * (a FIN a raw peer never acknowledges, an orphan waiting for a FIN) end
 * within a second or two rather than after etcp_retries2's minutes.  An
 * orphan holds its namespace (and the module) as TCP's do, and the suite
 * unloads the module at its end.  Sockets still open are reset when the
 * test exits.  Errors are ignored: etcp may not be loaded.
 */
static void etcp_ns_reap(int nsfd)
{
	if (nsfd < 0)
		return;
	ns_sysctl_write(nsfd, "net/ipv4/etcp_max_orphans", "0");
	ns_sysctl_write(nsfd, "net/ipv4/etcp_fin_timeout", "1");
	ns_sysctl_write(nsfd, "net/ipv4/etcp_retries2", "1");
}

void etcp_ns_delete(const char *name, int fd)
{
	etcp_ns_reap(fd);
	if (fd >= 0)
		close(fd);
	if (name && name[0])
		etcp_run("ip netns del %s", name);
}

/*
 * One shell for the whole topology: under TCG every process start costs
 * tens of milliseconds.  The addresses and links go up in one ip(8) batch
 * per namespace.  The IPv6 address skips Duplicate Address Detection
 * (nodad): it only has to leave the tentative state once the link has
 * carrier, which takes a workqueue run, not DAD's second.
 */
#define ETCP_NS_CONFIG(name, ifname, addr, addr6) \
	"printf '%%s\\n' 'addr add " addr "/24 dev " ifname "' " \
	"'addr add " addr6 "/64 dev " ifname " nodad' " \
	"'link set lo up' 'link set " ifname " up' | ip -n " name " -b -"

int etcp_netns_setup(struct etcp_netns *ns)
{
	int pid = getpid(), ret;

	memset(ns, 0, sizeof(*ns));
	ns->a = -1;
	ns->b = -1;
	ns->c = -1;
	snprintf(ns->name_a, sizeof(ns->name_a), "etcp-a-%d", pid);
	snprintf(ns->name_b, sizeof(ns->name_b), "etcp-b-%d", pid);

	ret = etcp_run("set -e; ip netns add %1$s; ip netns add %2$s; "
		       "ip link add %3$s netns %1$s type veth peer name %4$s netns %2$s; "
		       ETCP_NS_CONFIG("%1$s", "%3$s", "%5$s", "%7$s") "; "
		       ETCP_NS_CONFIG("%2$s", "%4$s", "%6$s", "%8$s"),
		       ns->name_a, ns->name_b, ETCP_NS_IF_A, ETCP_NS_IF_B,
		       ETCP_NS_ADDR_A, ETCP_NS_ADDR_B,
		       ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);
	if (ret)
		goto err;
	ret = etcp_ns_open(ns->name_a);
	if (ret < 0)
		goto err;
	ns->a = ret;
	ret = etcp_ns_open(ns->name_b);
	if (ret < 0)
		goto err;
	ns->b = ret;
	return 0;

err:
	etcp_netns_teardown(ns);
	return ret;
}

/*
 * Shorten the lives of the orphans to come: a fixture calls this before
 * it closes its sockets, whose timers are armed from the sysctls of the
 * moment (a FIN_WAIT_2 orphan would otherwise wait the default 60 s).
 */
void etcp_netns_reap(const struct etcp_netns *ns)
{
	etcp_ns_reap(ns->a);
	etcp_ns_reap(ns->b);
	if (ns->name_c[0])
		etcp_ns_reap(ns->c);
}

void etcp_netns_teardown(struct etcp_netns *ns)
{
	ns_leave();
	etcp_netns_reap(ns);
	if (ns->a >= 0)
		close(ns->a);
	if (ns->b >= 0)
		close(ns->b);
	/* A fixture that never called etcp_netns_add_c() may leave c 0. */
	if (ns->name_c[0] && ns->c >= 0)
		close(ns->c);
	/* Deleting either namespace of a pair destroys the veth pair. */
	if (ns->name_a[0] && ns->name_b[0])
		etcp_run("for n in %s %s %s; do "
			 "if [ -e %s/$n ]; then ip netns del $n; fi; done",
			 ns->name_a, ns->name_b, ns->name_c, ETCP_NETNS_RUN_DIR);
	memset(ns, 0, sizeof(*ns));
	ns->a = -1;
	ns->b = -1;
	ns->c = -1;
}

static long etcp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 if ifname in nsfd is IFF_UP and IFF_RUNNING, 0 if not yet, or -errno. */
static int etcp_link_running(int nsfd, const char *ifname)
{
	struct ifreq ifr = {};
	int fd, ret;

	fd = ns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (ret < 0)
		ret = -errno;
	else
		ret = (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) ==
		      (IFF_UP | IFF_RUNNING);
	close(fd);
	return ret;
}

/*
 * 1 if IPv6 address @addr of nsfd can be bound (it is no longer
 * tentative: bind() fails EADDRNOTAVAIL until then), 0 if not yet, or
 * -errno.
 */
static int etcp_addr6_ready(int nsfd, const char *addr)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	int fd, ret;

	if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1)
		return -EINVAL;
	fd = ns_socket(nsfd, AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = 1;
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		ret = errno == EADDRNOTAVAIL ? 0 : -errno;
	close(fd);
	return ret;
}

/*
 * 1 if ifname in nsfd is IFF_UP and IFF_RUNNING, 0 if not yet, or -errno.
 * With @addr6 (not NULL), that address must be usable too.
 */
static int etcp_link_ready(int nsfd, const char *ifname, const char *addr6)
{
	int ret = etcp_link_running(nsfd, ifname);

	if (ret <= 0 || !addr6)
		return ret;
	return etcp_addr6_ready(nsfd, addr6);
}

int etcp_netns_wait_carrier(const struct etcp_netns *ns, int timeout_ms)
{
	struct timespec pause = { .tv_nsec = ETCP_POLL_NS };
	long deadline = etcp_now_ms() + timeout_ms;
	int a, b;

	for (;;) {
		a = etcp_link_ready(ns->a, ETCP_NS_IF_A, ETCP_NS_ADDR6_A);
		b = etcp_link_ready(ns->b, ETCP_NS_IF_B, ETCP_NS_ADDR6_B);
		if (a < 0)
			return a;
		if (b < 0)
			return b;
		if (a && b)
			return 0;
		if (etcp_now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
	}
}

int etcp_netns_add_c(struct etcp_netns *ns, int timeout_ms)
{
	struct timespec pause = { .tv_nsec = ETCP_POLL_NS };
	long deadline;
	int ret, b2, c;

	snprintf(ns->name_c, sizeof(ns->name_c), "etcp-c-%d", getpid());
	ret = etcp_run("set -e; ip netns add %1$s; "
		       "ip link add %2$s netns %3$s type veth peer name %4$s netns %1$s; "
		       ETCP_NS_CONFIG("%3$s", "%2$s", ETCP_NS_ADDR_B2, ETCP_NS_ADDR6_B2) "; "
		       ETCP_NS_CONFIG("%1$s", "%4$s", ETCP_NS_ADDR_C, ETCP_NS_ADDR6_C) "; "
		       "ip -n %1$s route add default via %5$s; "
		       "ip -n %6$s route add default via %7$s; "
		       /* dev: the gateway's prefix route may still be down. */
		       "ip -n %1$s -6 route add default via %8$s dev %4$s; "
		       "ip -n %6$s -6 route add default via %9$s dev %10$s",
		       ns->name_c, ETCP_NS_IF_B2, ns->name_b, ETCP_NS_IF_C,
		       ETCP_NS_ADDR_B2, ns->name_a, ETCP_NS_ADDR_B,
		       ETCP_NS_ADDR6_B2, ETCP_NS_ADDR6_B, ETCP_NS_IF_A);
	if (ret)
		goto err;
	ret = etcp_ns_open(ns->name_c);
	if (ret < 0)
		goto err;
	ns->c = ret;
	ret = ns_sysctl_write(ns->b, "net/ipv4/ip_forward", "1") ?:
	      ns_sysctl_write(ns->b, "net/ipv6/conf/all/forwarding", "1");
	if (ret)
		goto err;

	deadline = etcp_now_ms() + timeout_ms;
	for (;;) {
		b2 = etcp_link_ready(ns->b, ETCP_NS_IF_B2, ETCP_NS_ADDR6_B2);
		c = etcp_link_ready(ns->c, ETCP_NS_IF_C, ETCP_NS_ADDR6_C);
		ret = b2 < 0 ? b2 : c;
		if (ret < 0)
			goto err;
		if (b2 && c)
			return 0;
		if (etcp_now_ms() > deadline) {
			ret = -ETIMEDOUT;
			goto err;
		}
		nanosleep(&pause, NULL);
	}

err:
	/* Deleting c takes the pair, and with it a's route's next hop. */
	etcp_ns_delete(ns->name_c, ns->c);
	etcp_run("ip -n %1$s route del default 2>/dev/null; "
		 "ip -n %1$s -6 route del default 2>/dev/null; true", ns->name_a);
	ns->name_c[0] = '\0';
	ns->c = -1;
	return ret;
}

int ns_enter(int nsfd)
{
	if (etcp_orig_netns < 0) {
		etcp_orig_netns = open("/proc/thread-self/ns/net",
				       O_RDONLY | O_CLOEXEC);
		if (etcp_orig_netns < 0)
			return -errno;
	}
	if (setns(nsfd, CLONE_NEWNET))
		return -errno;
	return 0;
}

int ns_leave(void)
{
	if (etcp_orig_netns < 0)
		return 0;
	if (setns(etcp_orig_netns, CLONE_NEWNET))
		return -errno;
	return 0;
}

int ns_cmd(int nsfd, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int ret, n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -ENAMETOOLONG;
	ret = ns_enter(nsfd);
	if (ret)
		return ret;
	ret = etcp_run("%s", cmd);
	if (ns_leave())
		return -EBADFD;
	return ret;
}

int ns_socket(int nsfd, int domain, int type, int proto)
{
	int fd, err;

	err = ns_enter(nsfd);
	if (err) {
		errno = -err;
		return -1;
	}
	fd = socket(domain, type, proto);
	err = errno;
	if (ns_leave()) {
		/* Never hand out a socket while stuck in the wrong netns. */
		if (fd >= 0)
			close(fd);
		return -1;
	}
	errno = err;
	return fd;
}

static ssize_t etcp_read_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	if (!size)
		return -ENOBUFS;
	for (;;) {
		if (len + 1 >= size)
			return -ENOBUFS;
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

ssize_t fd_reread(int fd, char *buf, size_t size)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return etcp_read_fd(fd, buf, size);
}

int ns_open(int nsfd, const char *path)
{
	int fd, ret;

	ret = ns_enter(nsfd);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : fd;
	if (ns_leave()) {
		if (fd >= 0)
			close(fd);
		return -EBADFD;
	}
	return ret;
}

ssize_t ns_read_file(int nsfd, const char *path, char *buf, size_t size)
{
	ssize_t ret;
	int fd;

	fd = ns_open(nsfd, path);
	if (fd < 0)
		return fd;
	ret = etcp_read_fd(fd, buf, size);
	close(fd);
	return ret;
}

int ns_write_file(int nsfd, const char *path, const char *data, size_t len)
{
	ssize_t n;
	int fd, ret;

	ret = ns_enter(nsfd);
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		n = write(fd, data, len);
		if (n < 0)
			ret = -errno;
		else if ((size_t)n != len)
			ret = -EIO;
		close(fd);
	}
	if (ns_leave())
		return -EBADFD;
	return ret;
}

ssize_t ns_sysctl_read(int nsfd, const char *name, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	return ns_read_file(nsfd, path, buf, size);
}

int ns_sysctl_get(int nsfd, const char *name, long *val)
{
	char buf[64], *end;
	ssize_t n;

	n = ns_sysctl_read(nsfd, name, buf, sizeof(buf));
	if (n < 0)
		return n;
	errno = 0;
	*val = strtol(buf, &end, 10);
	if (errno || end == buf || strcmp(end, "\n"))
		return -EPROTO;
	return 0;
}

int ns_sysctl_write(int nsfd, const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	return ns_write_file(nsfd, path, val, strlen(val));
}

ssize_t ns_proc_net_read(int nsfd, const char *file, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), "/proc/net/%s", file);
	return ns_read_file(nsfd, path, buf, size);
}
