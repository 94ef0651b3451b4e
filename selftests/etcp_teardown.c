// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: a network namespace, and then the module, going away
 * under etcp sockets.
 *
 *   netns a (10.0.1.1, fd00:1::1):      netns b (10.0.1.2, fd00:1::2):
 *   clients                              listeners
 *   ea ---------------------- veth ---------------------- eb
 *
 *   netns_delete_unload   namespaces with etcp sockets of both families in
 *                         every state deleted, their process killed; the
 *                         module's references all go, it is unloaded and
 *                         loaded again ($ETCP_KO)
 *
 * A program of its own, which run.sh runs with nothing beside it: it
 * unloads the module under everything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define NFT_TABLE	ETCP_NFT_TABLE
/* Generous for TCG: what should take microseconds may take a second. */
#define WAIT_MS		5000
/* nft match: segments whose flags are exactly ACK (no data flag check). */
#define PURE_ACK	"@th,104,8 == 0x10"

ETCP_ENV_CHECK()

/*
 * Deleting namespaces that hold etcp sockets in every state, their
 * process killed, then unloading etcp.ko and loading $ETCP_KO again.
 */
FIXTURE(teardown) {
	struct etcp_netns ns;
	bool loaded;		/* etcp.ko was loaded before */
};

FIXTURE_SETUP(teardown)
{
	const char *why = env_unsupported;

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	if (!getenv("ETCP_KO"))
		ETCP_SETUP_SKIP("ETCP_KO is not set: cannot load etcp.ko again");
	if (access("/sys/module/etcp/refcnt", R_OK))
		ETCP_SETUP_SKIP("etcp is not a loaded module");
	self->loaded = true;
	ASSERT_EQ(0, two_ns_setup(&self->ns));
}

FIXTURE_TEARDOWN(teardown)
{
	etcp_netns_teardown(&self->ns);
	if (self->loaded && access("/sys/module/etcp", F_OK))
		etcp_run("insmod %s", getenv("ETCP_KO"));
}

/* /sys/module/etcp/refcnt, or -1 when etcp is not loaded. */
static long module_refcnt(void)
{
	char buf[32] = "";
	ssize_t n;
	int fd;

	fd = open("/sys/module/etcp/refcnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* Client ports the nftables rules pick out. */
#define TD_PORT		6000		/* the listener */
#define TD_PORT_DROP	6001		/* SYNs to it are dropped: SYN_SENT */
#define TD_LAST_ACK	40004		/* its pure ACKs are dropped: LAST_ACK at b */
#define TD_FIN_WAIT1	40005		/* all dropped once connected: FIN_WAIT1 */
#define TD_SYN_RECV	40007		/* its handshake ACK dropped: SYN_RECV at b */

/* The families the child's sockets are of: a's and b's addresses in each. */
static const struct { int family; const char *a, *b; } td_af[] = {
	{ AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B },
	{ AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B },
};

/*
 * A client of td_af[@f] in netns a (bound to @lport if not 0) connecting
 * to @port: fd or -errno.
 */
static int td_connect(const struct etcp_netns *ns, int f, unsigned short lport,
		      unsigned short port, bool nonblock)
{
	int fd, one = 1, err;

	fd = ns_socket(ns->a, td_af[f].family, SOCK_STREAM, IPPROTO_ETCP);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lport) {
		err = bind_to(fd, td_af[f].a, lport);
		if (err)
			return err;
	}
	if (nonblock)
		set_nonblock(fd, true);
	err = connect_to(fd, td_af[f].b, port);
	if (err && err != -EINPROGRESS)
		return err;
	return fd;
}

/*
 * In a child process: sockets of both families in (nearly) every state,
 * then "ready" on @out, then wait to be killed.  Exits 1 with a message
 * on failure.  In each family (the nftables rules match ports only):
 *   netns b: LISTEN, ESTABLISHED, CLOSE_WAIT, LAST_ACK (orphan), a
 *            SYN_RECV request;
 *   netns a: ESTABLISHED (twice), FIN_WAIT2 (orphan), TIME_WAIT,
 *            FIN_WAIT1 (orphan), SYN_SENT.
 */
static void child_states(const struct etcp_netns *ns, int out)
{
	int l, c[2][8], s[2][8], i, f;
	char buf[16], script[1024];

#define CHILD_FAIL(...) do {					\
	fprintf(stderr, "# child: " __VA_ARGS__);			\
	fprintf(stderr, "\n");						\
	_exit(1);							\
} while (0)

	for (f = 0; f < (int)ARRAY_SIZE(td_af); f++) {
		l = listen_on(ns->b, IPPROTO_ETCP, td_af[f].b, TD_PORT, 16);
		if (l < 0)
			CHILD_FAIL("listen %s: %s", td_af[f].b, strerror(errno));
		/* 1 ESTABLISHED, 2 FIN_WAIT2/CLOSE_WAIT, 3 TIME_WAIT, 4 LAST_ACK, 5 FIN_WAIT1 */
		for (i = 1; i <= 5; i++) {
			c[f][i] = td_connect(ns, f, i == 4 ? TD_LAST_ACK :
					     i == 5 ? TD_FIN_WAIT1 : 0, TD_PORT, false);
			if (c[f][i] < 0)
				CHILD_FAIL("connect %d to %s: %s", i, td_af[f].b,
					   strerror(-c[f][i]));
			s[f][i] = accept_wait(l, WAIT_MS);
			if (s[f][i] < 0)
				CHILD_FAIL("accept %d on %s: %s", i, td_af[f].b, strerror(errno));
		}
	}
	snprintf(script, sizeof(script),
		 "add table inet " NFT_TABLE "; "
		 "add chain inet " NFT_TABLE " in { type filter hook input priority 0; }; "
		 "add rule inet " NFT_TABLE " in meta l4proto %1$d @th,0,16 == %2$d "
		 PURE_ACK " drop; "
		 "add rule inet " NFT_TABLE " in meta l4proto %1$d @th,0,16 == %3$d drop; "
		 "add rule inet " NFT_TABLE " in meta l4proto %1$d @th,16,16 == %4$d drop; "
		 "add rule inet " NFT_TABLE " in meta l4proto %1$d @th,0,16 == %5$d "
		 PURE_ACK " drop",
		 IPPROTO_ETCP, TD_LAST_ACK, TD_FIN_WAIT1, TD_PORT_DROP, TD_SYN_RECV);
	if (ns_nft(ns->b, script))
		CHILD_FAIL("nft");
	for (f = 0; f < (int)ARRAY_SIZE(td_af); f++) {
		for (i = 2; i <= 5; i++)
			close(c[f][i]);
		for (i = 3; i <= 4; i++) {
			if (poll_fd(s[f][i], POLLIN, WAIT_MS) <= 0 ||
			    read(s[f][i], buf, sizeof(buf)))
				CHILD_FAIL("server %d on %s saw no EOF", i, td_af[f].b);
			close(s[f][i]);
		}
		c[f][6] = td_connect(ns, f, 0, TD_PORT_DROP, true);
		if (c[f][6] < 0)
			CHILD_FAIL("connect 6 to %s: %s", td_af[f].b, strerror(-c[f][6]));
		c[f][7] = td_connect(ns, f, TD_SYN_RECV, TD_PORT, false);
		if (c[f][7] < 0)
			CHILD_FAIL("connect 7 to %s: %s", td_af[f].b, strerror(-c[f][7]));
	}
	if (write(out, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
#undef CHILD_FAIL
}

TEST_F_TIMEOUT(teardown, netns_delete_unload, 90)
{
	static const struct { int ns_b; int st; const char *what; } want[] = {
		{ 1, ETCP_LISTEN, "LISTEN" },
		{ 1, ETCP_ESTABLISHED, "ESTABLISHED (server)" },
		{ 1, ETCP_CLOSE_WAIT, "CLOSE_WAIT" },
		{ 1, ETCP_LAST_ACK, "LAST_ACK" },
		{ 1, ETCP_SYN_RECV, "SYN_RECV" },
		{ 0, ETCP_FIN_WAIT2, "FIN_WAIT2" },
		{ 0, ETCP_TIME_WAIT, "TIME_WAIT" },
		{ 0, ETCP_FIN_WAIT1, "FIN_WAIT1" },
		{ 0, ETCP_SYN_SENT, "SYN_SENT" },
	};
	static const char * const names[] = {
		"net/ipv4/etcp_retries2", "net/ipv4/etcp_syn_retries",
		"net/ipv4/etcp_synack_retries", "net/ipv4/etcp_fin_timeout",
	};
	int pipefd[2], i, k, n, nsfd, status;
	int64_t t0, deadline;
	long refcnt;
	char c;
	pid_t pid;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	for (k = 0; k < 2; k++) {
		nsfd = k ? self->ns.b : self->ns.a;
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, ns_sysctl_write(nsfd, names[i], i < 3 ? "2" : "1"));
		/* TIME_WAIT would last 20 min: it must go with the namespace. */
		ASSERT_EQ(0, ns_sysctl_write(nsfd, "net/ipv4/etcp_msl", "600000"));
	}
	ASSERT_EQ(0, pipe(pipefd));
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		child_states(&self->ns, pipefd[1]);
		_exit(1);
	}
	close(pipefd[1]);
	n = read(pipefd[0], &c, 1);
	close(pipefd[0]);
	if (n != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ASSERT_EQ(1, n) TH_LOG("the child did not build its sockets");
	}
	for (k = 0; k < (int)ARRAY_SIZE(td_af); k++) {
		for (i = 0; i < (int)ARRAY_SIZE(want); i++) {
			int64_t until = now_ms() + WAIT_MS;

			while ((n = count_rows(want[i].ns_b ? self->ns.b : self->ns.a,
					       IPPROTO_ETCP, td_af[k].family, want[i].st,
					       0)) == 0 && now_ms() < until)
				pause_step();
			EXPECT_LT(0, n) TH_LOG("no %s row in netns %c's %s", want[i].what,
					       want[i].ns_b ? 'b' : 'a',
					       proc_table_af(IPPROTO_ETCP, td_af[k].family));
		}
	}
	fprintf(stderr, "# etcp refcnt with the sockets open: %ld\n", module_refcnt());

	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	etcp_netns_teardown(&self->ns);

	/* etcp_diag (sock_diag) holds a reference of its own: run.sh reloads it. */
	ASSERT_EQ(0, etcp_run("! grep -q '^etcp_diag ' /proc/modules || rmmod etcp_diag"));
	/* Orphans die by retries2 (2) and fin_timeout (1 s), TIME_WAIT with the netns. */
	t0 = now_ms();
	deadline = t0 + 30000;
	while ((refcnt = module_refcnt()) != 0 && now_ms() < deadline)
		pause_ms(20);
	ASSERT_EQ(0, refcnt) TH_LOG("etcp refcnt still %ld 30 s after the namespaces went",
				    refcnt);
	fprintf(stderr, "# etcp refcnt 0 %lld ms after the namespaces went\n",
		(long long)(now_ms() - t0));
	ASSERT_EQ(0, etcp_run("rmmod etcp"));
	EXPECT_NE(0, access("/sys/module/etcp", F_OK));
	ASSERT_EQ(0, etcp_run("insmod %s", getenv("ETCP_KO")));
	EXPECT_EQ(0, module_refcnt());
	for (k = 0; k < (int)ARRAY_SIZE(td_af); k++) {
		i = socket(td_af[k].family, SOCK_STREAM, IPPROTO_ETCP);
		EXPECT_LE(0, i) TH_LOG("etcp socket of family %d after insmod: %s",
				       td_af[k].family, strerror(errno));
		if (i >= 0)
			close(i);
	}
}

TEST_HARNESS_MAIN
