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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/if.h>	/* after net/if.h: IF_OPER_UP, IFF_LOWER_UP */
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "etcp_netns.h"
#include "etcp_nl.h"
#include "etcp_util.h"

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

/*
 * Every fixture setup asks: no shell here (under TCG each costs a tenth
 * of a second).  The tests themselves still run ip(8) ("ip netns exec").
 */
const char *etcp_netns_unsupported(void)
{
	if (geteuid() != 0)
		return "needs root to create network namespaces";
	if (!have_prog("ip"))
		return "needs ip(8) from iproute2";
	return NULL;
}

#define ETCP_NS_PATH_MAX	(sizeof(ETCP_NETNS_RUN_DIR) + ETCP_NS_NAME_MAX + 1)

static int etcp_ns_path(char *path, const char *name)
{
	int n = snprintf(path, ETCP_NS_PATH_MAX, "%s/%s", ETCP_NETNS_RUN_DIR,
			 name);

	return n < 0 || (size_t)n >= ETCP_NS_PATH_MAX ? -ENAMETOOLONG : 0;
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
	etcp_ns_name(keep_ns, sizeof(keep_ns), "keep");
	keep_nsfd = etcp_ns_create(keep_ns);
	if (keep_nsfd < 0) {
		keep_ns[0] = '\0';
		return;
	}
	/* nft alone: "ip netns exec" would remount /sys, a second under TCG. */
	ns_nft(keep_nsfd, "add table inet keep; "
	       "add chain inet keep i { type filter hook input priority 0; }; "
	       "add chain inet keep o { type filter hook output priority 0; }");
}

static void __attribute__((destructor)) etcp_release_static_keys(void)
{
	if (keep_ns[0])
		etcp_ns_delete(keep_ns, keep_nsfd);
	if (keep_ts_fd >= 0)
		close(keep_ts_fd);
}

/*
 * What "ip netns add" does first, once per process (the harness's test
 * children inherit it): /run/netns a mount point with shared propagation,
 * so that a namespace mounted or unmounted there later shows up in every
 * mount namespace made meanwhile ("ip netns exec" makes one per call) and
 * an unmount frees the namespace at once rather than when the last copy
 * of the mount goes.  Only a mount point can be made shared: when the
 * directory is not one yet (EINVAL), it is bind-mounted onto itself
 * first.  0 or -errno.
 */
static int etcp_netns_run_dir(void)
{
	static bool done;

	if (done)
		return 0;
	if (mkdir(ETCP_NETNS_RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (mount("", ETCP_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL)) {
		if (errno != EINVAL)
			return -errno;
		if (mount(ETCP_NETNS_RUN_DIR, ETCP_NETNS_RUN_DIR, "none",
			  MS_BIND | MS_REC, NULL) ||
		    mount("", ETCP_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC,
			  NULL))
			return -errno;
	}
	done = true;
	return 0;
}

/*
 * A new network namespace bind-mounted on @path, as "ip netns add" makes
 * it: 0 or -errno, with this thread back in the namespace it was in.
 * unshare() moves only the calling thread, so the new namespace is
 * /proc/thread-self's: /proc/self names the main thread's, which in a
 * test with threads may be another.
 */
static int etcp_ns_mount_new(const char *path)
{
	int orig, ret = 0;

	orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return -errno;
	if (unshare(CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL))
		ret = -errno;
	if (setns(orig, CLONE_NEWNET))
		ret = -EBADFD;	/* as ns_leave()'s callers say it */
out:
	close(orig);
	return ret;
}

/* The namespace mounted on @path unmounted and the file gone. */
static void etcp_ns_unmount(const char *path)
{
	umount2(path, MNT_DETACH);
	unlink(path);
}

void etcp_ns_name(char *buf, size_t size, const char *role)
{
	const char *tag = getenv("ETCP_NS_TAG");

	if (tag && *tag)
		snprintf(buf, size, "etcp-%s-%s-%d", tag, role, getpid());
	else
		snprintf(buf, size, "etcp-%s-%d", role, getpid());
}

int etcp_ns_create(const char *name)
{
	char path[ETCP_NS_PATH_MAX];
	int fd, ret;

	ret = etcp_ns_path(path, name) ?: etcp_netns_run_dir();
	if (ret)
		return ret;
	/* Mode 0 and O_EXCL, as ip(8): never take over another's name. */
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	ret = etcp_ns_mount_new(path);
	if (ret) {
		etcp_ns_unmount(path);
		return ret;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		etcp_ns_unmount(path);
		return ret;
	}
	return fd;
}

/* "ip netns del @name", without complaint when it is not there. */
static void etcp_ns_remove(const char *name)
{
	char path[ETCP_NS_PATH_MAX];

	if (name && name[0] && !etcp_ns_path(path, name))
		etcp_ns_unmount(path);
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
	etcp_ns_remove(name);
}

/* etcp_ns_create(@name) into *@fd; on failure @name is cleared (not ours). */
static int etcp_ns_add(char *name, int *fd)
{
	int ret = etcp_ns_create(name);

	if (ret < 0) {
		fprintf(stderr, "# cannot create netns %s: %s\n", name,
			strerror(-ret));
		name[0] = '\0';
		return ret;
	}
	*fd = ret;
	return 0;
}

/* ioctl @req on @ifr named @ifname, from a socket in nsfd: 0 or -errno. */
static int ns_ifreq(int nsfd, const char *ifname, unsigned long req,
		    struct ifreq *ifr)
{
	int fd, ret = 0;

	fd = ns_socket(nsfd, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

/* The ifindex of @ifname in nsfd, or -errno. */
static int ns_ifindex(int nsfd, const char *ifname)
{
	struct ifreq ifr = {};
	int ret = ns_ifreq(nsfd, ifname, SIOCGIFINDEX, &ifr);

	return ret ?: ifr.ifr_ifindex;
}

/* "ip link set @ifname up" in nsfd: 0 or -errno. */
static int ns_link_up(int nsfd, const char *ifname)
{
	struct ifreq ifr = {};
	int ret = ns_ifreq(nsfd, ifname, SIOCGIFFLAGS, &ifr);

	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP;
	return ns_ifreq(nsfd, ifname, SIOCSIFFLAGS, &ifr);
}

/* One end of a veth pair of the topology (etcp_netns.h's drawings). */
struct etcp_ns_end {
	int nsfd;
	const char *ifname;
	int ifindex;		/* asked for: see ETCP_NS_IFINDEX_A */
	const char *addr, *addr6;
};

/*
 * One end configured as ip(8) did it: its addresses /24 and /64, then lo
 * and the end up.  The IPv6 address skips Duplicate Address Detection
 * (IFA_F_NODAD, ip's "nodad"): it only has to leave the tentative state
 * once the link has carrier, which takes a workqueue run, not DAD's
 * second.  0 or -errno.
 */
static int etcp_ns_config(const struct etcp_ns_end *e)
{
	int ifindex = ns_ifindex(e->nsfd, e->ifname), ret;

	ret = ifindex < 0 ? ifindex : 0;
	ret = ret ?: nl_addr_add(e->nsfd, ifindex, e->addr, 24, 0);
	ret = ret ?: nl_addr_add(e->nsfd, ifindex, e->addr6, 64, IFA_F_NODAD);
	ret = ret ?: ns_link_up(e->nsfd, "lo");
	ret = ret ?: ns_link_up(e->nsfd, e->ifname);
	if (ret)
		fprintf(stderr, "# cannot configure %s: %s\n", e->ifname,
			strerror(-ret));
	return ret;
}

/*
 * The ends of each pair get ifindexes of their own.  Left to the kernel,
 * both would be 2, the first after lo in a new namespace; a veth whose
 * peer (its iflink) has the same ifindex then looks to linkwatch like a
 * device with no lower one, whose carrier changes are not urgent: they
 * are applied (operstate, and the qdisc that lets packets out) up to a
 * second later, linkwatch's rate limit.  ip(8)'s pairs have that delay
 * too, hidden in its process starts; without them the tests' first
 * packets were dropped.  With distinct ifindexes the changes are applied
 * at once, and etcp_netns_wait_carrier() waits for them to be.  They are
 * far above what a namespace's own devices take: a kernel with tunnel
 * drivers built in (the debug kernel has CONFIG_IPV6_SIT=y) gives every
 * new namespace fallback devices (sit0, ...) from 2 on.
 */
#define ETCP_NS_IFINDEX_A	1001
#define ETCP_NS_IFINDEX_B	1002
#define ETCP_NS_IFINDEX_B2	1003
#define ETCP_NS_IFINDEX_C	1004

/*
 * The veth pair @x - @y, each end created in its namespace and
 * configured: 0 or -errno (the namespaces' deletion removes what is made).
 */
static int etcp_ns_link(const struct etcp_ns_end *x, const struct etcp_ns_end *y)
{
	struct nl_veth_end vx = { x->ifname, x->nsfd, x->ifindex };
	struct nl_veth_end vy = { y->ifname, y->nsfd, y->ifindex };
	int ret = nl_veth_add(&vx, &vy);

	if (ret) {
		fprintf(stderr, "# cannot add veth pair %s-%s: %s\n",
			x->ifname, y->ifname, strerror(-ret));
		return ret;
	}
	return etcp_ns_config(x) ?: etcp_ns_config(y);
}

/*
 * No process started: under TCG each costs a tenth of a second, and the
 * ip(8) commands this replaces took 0.7 to 1.3 s a fixture (and another
 * 0.5 to 0.7 s to delete it).
 */
int etcp_netns_setup(struct etcp_netns *ns)
{
	int ret;

	memset(ns, 0, sizeof(*ns));
	ns->a = -1;
	ns->b = -1;
	ns->c = -1;
	etcp_ns_name(ns->name_a, sizeof(ns->name_a), "a");
	etcp_ns_name(ns->name_b, sizeof(ns->name_b), "b");

	ret = etcp_ns_add(ns->name_a, &ns->a) ?: etcp_ns_add(ns->name_b, &ns->b);
	if (!ret) {
		struct etcp_ns_end a = { ns->a, ETCP_NS_IF_A, ETCP_NS_IFINDEX_A,
					 ETCP_NS_ADDR_A, ETCP_NS_ADDR6_A };
		struct etcp_ns_end b = { ns->b, ETCP_NS_IF_B, ETCP_NS_IFINDEX_B,
					 ETCP_NS_ADDR_B, ETCP_NS_ADDR6_B };

		ret = etcp_ns_link(&a, &b);
	}
	if (ret)
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
	/* Deleting a namespace destroys its end of a pair, and so the pair. */
	etcp_ns_remove(ns->name_a);
	etcp_ns_remove(ns->name_b);
	etcp_ns_remove(ns->name_c);
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

/*
 * 1 if ifname in nsfd is up with carrier and its operational state is
 * "up", 0 if not yet, or -errno.  IFF_RUNNING alone is not enough: a new
 * device's operstate is "unknown", which counts as running before
 * linkwatch has even looked at its carrier; linkwatch sets "up" and lets
 * packets out (gives the device its qdisc) in one go.
 */
static int etcp_link_running(int nsfd, const char *ifname)
{
	unsigned int flags = 0;
	int oper = nl_link_operstate(nsfd, ifname, &flags);

	if (oper < 0)
		return oper;
	return oper == IF_OPER_UP &&
	       (flags & (IFF_UP | IFF_LOWER_UP)) == (IFF_UP | IFF_LOWER_UP);
}

/*
 * 1 if @ifname of nsfd has joined the solicited-node multicast group of
 * @addr (RFC 4291 2.7.1), 0 if not yet, or -errno.  A "nodad" address is
 * never tentative, so it can be bound at once, but the join happens
 * later, in the address's DAD work; until then neighbour solicitations
 * for it are dropped, and the first packet to it waits out a second for
 * the next one.  /proc/net/igmp6 lists a device's groups as "ifindex
 * name group ..." with the group in 32 hex digits.
 */
static int etcp_addr6_joined(int nsfd, const char *ifname,
			     const struct in6_addr *addr)
{
	char buf[8192], want[33], dev[IFNAMSIZ], group[33], *line, *save;
	ssize_t n;

	n = ns_proc_net_read(nsfd, "igmp6", buf, sizeof(buf));
	if (n < 0)
		return n;
	snprintf(want, sizeof(want), "ff0200000000000000000001ff%02x%02x%02x",
		 addr->s6_addr[13], addr->s6_addr[14], addr->s6_addr[15]);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%*d %15s %32s", dev, group) == 2 &&
		    !strcmp(dev, ifname) && !strcmp(group, want))
			return 1;
	}
	return 0;
}

/*
 * 1 if IPv6 address @addr of @ifname in nsfd is usable: it can be bound
 * (it is no longer tentative: bind() fails EADDRNOTAVAIL until then) and
 * neighbour solicitations for it are answered; 0 if not yet, or -errno.
 */
static int etcp_addr6_ready(int nsfd, const char *ifname, const char *addr)
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
	if (ret <= 0)
		return ret;
	return etcp_addr6_joined(nsfd, ifname, &sin6.sin6_addr);
}

/*
 * 1 if ifname in nsfd is up and running (etcp_link_running()), 0 if not
 * yet, or -errno.  With @addr6 (not NULL), that address must be usable too.
 */
static int etcp_link_ready(int nsfd, const char *ifname, const char *addr6)
{
	int ret = etcp_link_running(nsfd, ifname);

	if (ret <= 0 || !addr6)
		return ret;
	return etcp_addr6_ready(nsfd, ifname, addr6);
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

/*
 * Default routes of a and c through b: IPv4 via the gateway alone, IPv6
 * via the gateway on a device (the gateway's prefix route may still be
 * down).  0 or -errno.
 */
static int etcp_netns_routes_c(const struct etcp_netns *ns)
{
	int ifa = ns_ifindex(ns->a, ETCP_NS_IF_A);
	int ifc = ns_ifindex(ns->c, ETCP_NS_IF_C);
	int ret = ifa < 0 ? ifa : ifc < 0 ? ifc : 0;

	ret = ret ?: nl_route_default(ns->c, RTM_NEWROUTE, ETCP_NS_ADDR_B2, 0);
	ret = ret ?: nl_route_default(ns->a, RTM_NEWROUTE, ETCP_NS_ADDR_B, 0);
	ret = ret ?: nl_route_default(ns->c, RTM_NEWROUTE, ETCP_NS_ADDR6_B2, ifc);
	ret = ret ?: nl_route_default(ns->a, RTM_NEWROUTE, ETCP_NS_ADDR6_B, ifa);
	if (ret)
		fprintf(stderr, "# cannot add the default routes: %s\n",
			strerror(-ret));
	return ret;
}

/*
 * a's default routes gone again (c's go with c), those that were added:
 * errors are ignored.
 */
static void etcp_netns_unroute_c(const struct etcp_netns *ns)
{
	nl_route_default(ns->a, RTM_DELROUTE, ETCP_NS_ADDR_B, 0);
	nl_route_default(ns->a, RTM_DELROUTE, ETCP_NS_ADDR6_B, 0);
}

int etcp_netns_add_c(struct etcp_netns *ns, int timeout_ms)
{
	struct etcp_ns_end b2_end = { -1, ETCP_NS_IF_B2, ETCP_NS_IFINDEX_B2,
				      ETCP_NS_ADDR_B2, ETCP_NS_ADDR6_B2 };
	struct etcp_ns_end c_end = { -1, ETCP_NS_IF_C, ETCP_NS_IFINDEX_C,
				     ETCP_NS_ADDR_C, ETCP_NS_ADDR6_C };
	struct timespec pause = { .tv_nsec = ETCP_POLL_NS };
	long deadline;
	int ret, b2, c;

	ns->c = -1;
	etcp_ns_name(ns->name_c, sizeof(ns->name_c), "c");
	ret = etcp_ns_add(ns->name_c, &ns->c);
	if (ret)
		goto err;
	b2_end.nsfd = ns->b;
	c_end.nsfd = ns->c;
	ret = etcp_ns_link(&b2_end, &c_end);
	if (ret)
		goto err;
	ret = etcp_netns_routes_c(ns);
	if (ret)
		goto err;
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
	/* Deleting c takes the pair; a's routes through b stay. */
	etcp_ns_delete(ns->name_c, ns->c);
	etcp_netns_unroute_c(ns);
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

/* @buf, one decimal number and a newline, into *@val: 0 or -EPROTO. */
static int parse_long_line(const char *buf, long *val)
{
	char *end;

	errno = 0;
	*val = strtol(buf, &end, 10);
	if (errno || end == buf || strcmp(end, "\n"))
		return -EPROTO;
	return 0;
}

int ns_sysctl_get(int nsfd, const char *name, long *val)
{
	char buf[64];
	ssize_t n;

	n = ns_sysctl_read(nsfd, name, buf, sizeof(buf));
	if (n < 0)
		return n;
	return parse_long_line(buf, val);
}

int ns_read_long_inside(int nsfd, const char *path, long *val)
{
	char buf[64];
	ssize_t n;
	int fd;

	n = ns_enter(nsfd);
	if (n)
		return n;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -errno : etcp_read_fd(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (ns_leave())
		return -EBADFD;
	return n < 0 ? n : parse_long_line(buf, val);
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
