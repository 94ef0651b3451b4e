/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two network namespaces joined by a veth pair, for etcp selftests.
 *
 *   netns etcp-a-<pid>                       netns etcp-b-<pid>
 *   +--------------------+                   +--------------------+
 *   | lo                 |                   | lo                 |
 *   | ea  10.0.1.1/24    |-------- veth -----|    10.0.1.2/24  eb |
 *   |     fd00:1::1/64   |                   |   fd00:1::2/64     |
 *   +--------------------+                   +--------------------+
 *
 * The IPv6 addresses are added with "nodad": they are usable as soon as
 * the link has carrier, and etcp_netns_wait_carrier() waits for that too,
 * so no test waits out Duplicate Address Detection.
 *
 * The helpers know nothing of kselftest_harness.h: they return a negative
 * errno (or -1 with errno set, where they mirror a system call) and the
 * tests say in words what went wrong, with a "# " line on stderr where
 * the cause would otherwise be lost.  The namespaces are made without
 * starting a process (each costs a tenth of a second under TCG), as ip(8)
 * makes them: named, under /run/netns, so that "ip netns exec NAME" and
 * "ip -n NAME" work on them.
 */
#ifndef _ETCP_NETNS_H
#define _ETCP_NETNS_H

#include <stddef.h>
#include <sys/types.h>

#define ETCP_NS_ADDR_A		"10.0.1.1"
#define ETCP_NS_ADDR_B		"10.0.1.2"
#define ETCP_NS_ADDR6_A		"fd00:1::1"
#define ETCP_NS_ADDR6_B		"fd00:1::2"
#define ETCP_NS_IF_A		"ea"
#define ETCP_NS_IF_B		"eb"
#define ETCP_NS_NAME_MAX	32

/*
 * etcp_netns_add_c() puts a third namespace behind b, which becomes a
 * router between a and c:
 *
 *   netns a             netns b (forwarding)              netns c
 *   ea 10.0.1.1 ---- eb 10.0.1.2   eb2 10.0.2.1 ---- ec 10.0.2.2
 *      fd00:1::1        fd00:1::2      fd00:2::1        fd00:2::2
 *
 * a and c send everything outside their own subnet to b (default routes,
 * IPv4 and IPv6), so an address that is neither reaches b, which answers
 * as its routes and filters say.  b has no default route.
 */
#define ETCP_NS_ADDR_B2		"10.0.2.1"
#define ETCP_NS_ADDR_C		"10.0.2.2"
#define ETCP_NS_ADDR6_B2	"fd00:2::1"
#define ETCP_NS_ADDR6_C		"fd00:2::2"
#define ETCP_NS_IF_B2		"eb2"
#define ETCP_NS_IF_C		"ec"

struct etcp_netns {
	char name_a[ETCP_NS_NAME_MAX];
	char name_b[ETCP_NS_NAME_MAX];
	char name_c[ETCP_NS_NAME_MAX];	/* "" without etcp_netns_add_c() */
	int a;			/* fd of netns a, -1 when absent */
	int b;			/* fd of netns b, -1 when absent */
	int c;			/* fd of netns c, -1 when absent */
};

/* Run a shell command; its output goes to stderr prefixed "# ". */
int etcp_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Why the fixture cannot run here at all (not root, no ip(8)), or NULL. */
const char *etcp_netns_unsupported(void);

/*
 * A namespace's name: "etcp-ROLE-PID", or "etcp-TAG-ROLE-PID" when
 * ETCP_NS_TAG is set (run.sh sets it to tell whose namespaces are left
 * behind when programs run side by side).
 */
void etcp_ns_name(char *buf, size_t size, const char *role);

/*
 * What "ip netns add NAME" does: returns an fd of the namespace or -errno
 * (-EEXIST when NAME is taken), leaving nothing behind on error.
 */
int etcp_ns_create(const char *name);
/* Close fd (if >= 0) and what "ip netns del NAME" does (if NAME is set). */
void etcp_ns_delete(const char *name, int fd);

/*
 * Create both namespaces, the veth pair, the addresses, and set lo, ea and
 * eb up.  On failure everything already created is removed again and
 * -errno returned, so FIXTURE_SETUP may simply ASSERT on the result.
 */
int etcp_netns_setup(struct etcp_netns *ns);
/*
 * After etcp_netns_setup(): create netns c, the veth pair eb2-ec, the
 * addresses and default routes, turn forwarding (IPv4 and IPv6) on in b
 * and wait up to timeout_ms for the new pair's carrier and addresses.  On failure c is removed again
 * (a and b stay) and -errno returned.
 */
int etcp_netns_add_c(struct etcp_netns *ns, int timeout_ms);
/* Leave any namespace entered and delete all; safe on a partial setup. */
void etcp_netns_reap(const struct etcp_netns *ns);
void etcp_netns_teardown(struct etcp_netns *ns);
/*
 * Poll until ea and eb are up with carrier, their operational state is
 * "up" (linkwatch has given them their qdisc: packets get out) and their
 * IPv6 addresses are usable: they can be bound (no longer tentative) and
 * are answered for (the solicited-node group joined), up to timeout_ms.
 */
int etcp_netns_wait_carrier(const struct etcp_netns *ns, int timeout_ms);

/*
 * Move this thread into nsfd; ns_leave() returns to the namespace the
 * thread was in before its first ns_enter().  Both return 0 or -errno.
 */
int ns_enter(int nsfd);
int ns_leave(void);

/*
 * Run a shell command inside nsfd: the child inherits this thread's
 * namespace ("ip netns exec" would remount /sys, a second of TCG time a
 * call).  Output as etcp_run(); 0 or -errno.
 */
int ns_cmd(int nsfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* socket(2) inside nsfd; the socket stays there.  -1 with errno on error. */
int ns_socket(int nsfd, int domain, int type, int proto);

/*
 * Whole-file read and single write(2) of a path opened inside nsfd
 * (/proc/sys/net and /proc/net resolve against the opener's netns).
 * ns_read_file() NUL-terminates and returns the length or -errno;
 * ns_write_file() returns 0 or the -errno of open(2) or write(2).
 */
ssize_t ns_read_file(int nsfd, const char *path, char *buf, size_t size);
int ns_write_file(int nsfd, const char *path, const char *data, size_t len);

/* @path opened read-only inside nsfd, to be read again and again: an fd or -errno. */
int ns_open(int nsfd, const char *path);
/*
 * The whole of @fd again from its start (a /proc file shows it as it is
 * now), NUL-terminated: the length, -ENOBUFS if @size is too small, or
 * -errno.
 */
ssize_t fd_reread(int fd, char *buf, size_t size);

/* NAME is relative to /proc/sys, e.g. "net/ipv4/etcp_msl". */
ssize_t ns_sysctl_read(int nsfd, const char *name, char *buf, size_t size);
int ns_sysctl_get(int nsfd, const char *name, long *val);
/*
 * The number in file @path, opened and read inside namespace @nsfd: for a
 * file that shows the reader's namespace when it is read (a module
 * parameter), where ns_read_file()'s namespace counts only at open.
 */
int ns_read_long_inside(int nsfd, const char *path, long *val);
int ns_sysctl_write(int nsfd, const char *name, const char *val);

/* Read /proc/net/FILE as seen from inside nsfd. */
ssize_t ns_proc_net_read(int nsfd, const char *file, char *buf, size_t size);

/*
 * For FIXTURE_SETUP: the 6.1 harness runs the test body after a SKIP() in
 * the setup, so end the test child as a skip (exit 255) right away.
 */
#define ETCP_SETUP_SKIP(fmt, ...) \
	SKIP(do { fflush(NULL); _exit(255); } while (0), fmt, ##__VA_ARGS__)

#endif /* _ETCP_NETNS_H */
