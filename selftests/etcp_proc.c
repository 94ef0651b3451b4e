// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: /proc/net/etcp, which has the layout of /proc/net/tcp so
 * that tools decoding one decode the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/etcp.h>

#include "etcp_netns.h"
#include "etcp_util.h"
#include "kselftest_harness.h"

#define PROC_SIZE	(256 * 1024)
#define PROC_LINES	1024
#define NOBODY		65534U
#define NR_SOCKS	5

struct proc_table {
	char text[PROC_SIZE];
	char *line[PROC_LINES];	/* line[0] is the header */
	int nr;			/* lines, header included */
};

/* Read /proc/net/FILE of nsfd and split it into lines; 0 or -errno. */
static int read_table(int nsfd, const char *file, struct proc_table *t)
{
	char *p, *nl;
	ssize_t n;

	t->nr = 0;
	n = ns_proc_net_read(nsfd, file, t->text, sizeof(t->text));
	if (n < 0)
		return n;
	for (p = t->text; *p && t->nr < PROC_LINES; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			return -EPROTO;	/* every line ends with a newline */
		*nl = '\0';
		t->line[t->nr++] = p;
	}
	return *p ? -E2BIG : 0;
}

/*
 * Parse LINE into R and check that it is printed exactly as /proc/net/tcp
 * prints its rows: 0, or a negative number saying what is wrong.
 */
static int parse_row(const char *line, struct proc_row *r)
{
	char again[256];
	int n;

	if (proc_row_scan(line, r))
		return -1;
	n = snprintf(again, sizeof(again),
		     "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu",
		     r->sl, r->laddr, r->lport, r->raddr, r->rport, r->st,
		     r->txq, r->rxq, r->tr, r->when, r->retr, r->uid,
		     r->timeout, r->inode);
	if (strncmp(line, again, n))
		return -2;
	if (line[n] != ' ' && line[n] != '\0')
		return -3;
	return 0;
}

/* Rows of T whose inode is INO; the last one found goes to R. */
static int rows_with_inode(const struct proc_table *t, unsigned long ino,
			   struct proc_row *r)
{
	struct proc_row tmp;
	int i, found = 0;

	for (i = 1; i < t->nr; i++) {
		if (parse_row(t->line[i], &tmp))
			continue;
		if (tmp.inode == ino) {
			*r = tmp;
			found++;
		}
	}
	return found;
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return 0;
	return st.st_ino;
}

/* Check every row of T has the layout of /proc/net/tcp. */
static void expect_rows_parse(struct __test_metadata *_metadata,
			      const struct proc_table *t)
{
	struct proc_row r;
	int i;

	for (i = 1; i < t->nr; i++) {
		EXPECT_EQ(0, parse_row(t->line[i], &r))
			TH_LOG("row not in /proc/net/tcp's layout: \"%s\"", t->line[i]);
	}
}

/* ---------------------------------------------------------- fixture */

FIXTURE(proc) {
	struct etcp_netns ns;
	struct proc_table *t;
	struct proc_table *tcp;
};

FIXTURE_SETUP(proc)
{
	const char *why = etcp_netns_unsupported();

	if (why)
		ETCP_SETUP_SKIP("%s", why);
	self->t = calloc(1, sizeof(*self->t));
	self->tcp = calloc(1, sizeof(*self->tcp));
	ASSERT_NE(NULL, self->t);
	ASSERT_NE(NULL, self->tcp);
	ASSERT_EQ(0, etcp_netns_setup(&self->ns))
		TH_LOG("cannot create the two network namespaces");
}

FIXTURE_TEARDOWN(proc)
{
	etcp_netns_teardown(&self->ns);
	free(self->t);
	free(self->tcp);
}

static int etcp_socket_in(int nsfd)
{
	return ns_socket(nsfd, AF_INET, SOCK_STREAM, IPPROTO_ETCP);
}

/*
 * A new etcp socket in netns a (its inode in *@ino), then /proc/net/etcp
 * of netns a read into self->t: the fd.
 */
static int socket_then_table(struct __test_metadata *_metadata, FIXTURE_DATA(proc) *self,
			     unsigned long *ino)
{
	int fd;

	fd = etcp_socket_in(self->ns.a);
	ASSERT_LE(0, fd) TH_LOG("etcp socket: %s", strerror(errno));
	*ino = inode_of(fd);
	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	return fd;
}

/* The fixture's own assumptions: /proc/net follows setns(), links work. */
TEST_F(proc, fixture_self_check)
{
	char *dev = self->t->text, *thr = self->tcp->text;
	int fd;

	ASSERT_LE(0, ns_proc_net_read(self->ns.a, "dev", dev, PROC_SIZE));
	EXPECT_NE(NULL, strstr(dev, ETCP_NS_IF_A ":"))
		TH_LOG("/proc/net/dev after setns into netns a lacks %s", ETCP_NS_IF_A);
	EXPECT_EQ(NULL, strstr(dev, ETCP_NS_IF_B ":"))
		TH_LOG("/proc/net/dev after setns into netns a shows %s", ETCP_NS_IF_B);

	fd = etcp_socket_in(self->ns.a);
	ASSERT_LE(0, fd) TH_LOG("etcp socket: %s", strerror(errno));
	ASSERT_LE(0, ns_proc_net_read(self->ns.a, "etcp", dev, PROC_SIZE));
	ASSERT_LE(0, ns_read_file(self->ns.a, "/proc/thread-self/net/etcp",
				  thr, PROC_SIZE));
	EXPECT_STREQ(thr, dev)
		TH_LOG("/proc/net/etcp and /proc/thread-self/net/etcp differ");
	close(fd);

	EXPECT_EQ(0, etcp_netns_wait_carrier(&self->ns, 10000))
		TH_LOG("veth %s/%s never got carrier", ETCP_NS_IF_A, ETCP_NS_IF_B);
}

TEST_F(proc, exists_in_every_netns)
{
	int fds[3] = { -1, self->ns.a, self->ns.b }, i;
	const char *where[3] = { "the initial netns", "netns a", "netns b" };

	fds[0] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fds[0]);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, read_table(fds[i], "etcp", self->t))
			TH_LOG("cannot read /proc/net/etcp in %s", where[i]);
		EXPECT_LE(1, self->t->nr)
			TH_LOG("/proc/net/etcp in %s has no header line", where[i]);
		if (self->t->nr)
			expect_rows_parse(_metadata, self->t);
	}
	close(fds[0]);
}

/* The header is byte for byte /proc/net/tcp's, padding included. */
TEST_F(proc, header_is_tcp_header)
{
	ASSERT_EQ(0, read_table(self->ns.a, "tcp", self->tcp));
	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	ASSERT_LE(1, self->tcp->nr);
	ASSERT_LE(1, self->t->nr);
	EXPECT_EQ(149UL, strlen(self->tcp->line[0]))
		TH_LOG("this kernel's /proc/net/tcp header is not 149 characters");
	EXPECT_STREQ(self->tcp->line[0], self->t->line[0])
		TH_LOG("/proc/net/etcp header \"%s\" differs from /proc/net/tcp's",
		       self->t->line[0]);
	/* Nothing but the header in a netns without sockets. */
	EXPECT_EQ(1, self->t->nr);
}

TEST_F(proc, new_socket_row)
{
	struct proc_row r;
	unsigned long ino;
	int fd;

	fd = socket_then_table(_metadata, self, &ino);
	ASSERT_EQ(2, self->t->nr)
		TH_LOG("one socket in the netns gives %d rows, not 1", self->t->nr - 1);
	ASSERT_EQ(0, parse_row(self->t->line[1], &r))
		TH_LOG("row not in /proc/net/tcp's layout: \"%s\"", self->t->line[1]);
	EXPECT_EQ(0, r.sl);
	EXPECT_EQ(ino, r.inode)
		TH_LOG("row inode %lu is not the socket's inode %lu", r.inode, ino);
	EXPECT_EQ((unsigned int)ETCP_CLOSE, r.st)
		TH_LOG("a new socket is in state %02X, not 07 (CLOSE)", r.st);
	EXPECT_EQ(0U, r.laddr);
	EXPECT_EQ(0U, r.lport);
	EXPECT_EQ(0U, r.raddr);
	EXPECT_EQ(0U, r.rport);
	EXPECT_EQ(0U, r.txq);
	EXPECT_EQ(0U, r.rxq);
	EXPECT_EQ(getuid(), r.uid);
	EXPECT_EQ(0, strncmp(self->t->line[1] + 4,
			     ": 00000000:0000 00000000:0000 07 ", 33))
		TH_LOG("row does not start like a CLOSE socket's: \"%s\"",
		       self->t->line[1]);
	close(fd);
}

/* The uid column is the creator's, here nobody's. */
TEST_F(proc, row_uid)
{
	struct proc_row r;
	int fd, err;

	ASSERT_EQ(0, ns_enter(self->ns.a));
	ASSERT_EQ(0, seteuid(NOBODY));
	fd = socket(AF_INET, SOCK_STREAM, IPPROTO_ETCP);
	err = errno;
	ASSERT_EQ(0, seteuid(0));
	ASSERT_EQ(0, ns_leave());
	ASSERT_LE(0, fd) TH_LOG("etcp socket as uid %u: %s", NOBODY, strerror(err));

	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	ASSERT_EQ(1, rows_with_inode(self->t, inode_of(fd), &r));
	EXPECT_EQ(NOBODY, r.uid)
		TH_LOG("socket created by uid %u listed with uid %u", NOBODY, r.uid);
	close(fd);
}

TEST_F(proc, bound_socket_row)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(5000),
		.sin_addr.s_addr = htonl(0x0a000101),	/* 10.0.1.1 */
	};
	struct proc_row r;
	int fd;

	fd = etcp_socket_in(self->ns.a);
	ASSERT_LE(0, fd) TH_LOG("etcp socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		TH_LOG("bind to 10.0.1.1:5000: %s", strerror(errno));

	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	ASSERT_EQ(1, rows_with_inode(self->t, inode_of(fd), &r))
		TH_LOG("bound socket not listed exactly once");
	EXPECT_EQ(0x0101000AU, r.laddr)
		TH_LOG("10.0.1.1 shown as %08X, not as /proc/net/tcp shows it (0101000A)",
		       r.laddr);
	EXPECT_EQ(0x1388U, r.lport) TH_LOG("port 5000 shown as %04X, not 1388", r.lport);
	EXPECT_EQ((unsigned int)ETCP_CLOSE, r.st)
		TH_LOG("a bound socket is in state %02X, not 07 (CLOSE)", r.st);
	EXPECT_EQ(0U, r.raddr);
	EXPECT_EQ(0U, r.rport);
	EXPECT_NE(NULL, strstr(self->t->line[1], " 0101000A:1388 00000000:0000 07 "))
		TH_LOG("row \"%s\" lacks 0101000A:1388", self->t->line[1]);
	close(fd);
}

TEST_F(proc, close_removes_row)
{
	struct proc_row r;
	unsigned long ino;
	int fd;

	fd = socket_then_table(_metadata, self, &ino);
	ASSERT_EQ(1, rows_with_inode(self->t, ino, &r));

	close(fd);
	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	EXPECT_EQ(0, rows_with_inode(self->t, ino, &r))
		TH_LOG("closed socket (inode %lu) still listed", ino);
	EXPECT_EQ(1, self->t->nr)
		TH_LOG("%d rows left after closing the only socket", self->t->nr - 1);
}

TEST_F(proc, netns_isolation)
{
	struct proc_row r;
	unsigned long ino;
	int fd;

	fd = socket_then_table(_metadata, self, &ino);
	EXPECT_EQ(1, rows_with_inode(self->t, ino, &r))
		TH_LOG("socket not listed in its own netns");
	ASSERT_EQ(0, read_table(self->ns.b, "etcp", self->t));
	EXPECT_EQ(0, rows_with_inode(self->t, ino, &r))
		TH_LOG("socket of netns a listed in netns b");
	EXPECT_EQ(1, self->t->nr)
		TH_LOG("netns b without sockets lists %d rows", self->t->nr - 1);
	close(fd);
}

TEST_F(proc, n_sockets_n_rows)
{
	unsigned long ino[NR_SOCKS];
	int fds[NR_SOCKS], sl_seen[NR_SOCKS] = {}, i, k;
	struct proc_row r;

	for (i = 0; i < NR_SOCKS; i++) {
		fds[i] = etcp_socket_in(self->ns.a);
		ASSERT_LE(0, fds[i]) TH_LOG("etcp socket #%d: %s", i, strerror(errno));
		ino[i] = inode_of(fds[i]);
	}

	ASSERT_EQ(0, read_table(self->ns.a, "etcp", self->t));
	ASSERT_EQ(NR_SOCKS + 1, self->t->nr)
		TH_LOG("%d sockets give %d rows", NR_SOCKS, self->t->nr - 1);
	for (i = 1; i < self->t->nr; i++) {
		ASSERT_EQ(0, parse_row(self->t->line[i], &r))
			TH_LOG("row not in /proc/net/tcp's layout: \"%s\"",
			       self->t->line[i]);
		ASSERT_TRUE(r.sl >= 0 && r.sl < NR_SOCKS)
			TH_LOG("sl %d out of 0..%d", r.sl, NR_SOCKS - 1);
		EXPECT_EQ(0, sl_seen[r.sl]++) TH_LOG("sl %d used twice", r.sl);
	}
	for (i = 0; i < NR_SOCKS; i++) {
		k = rows_with_inode(self->t, ino[i], &r);
		EXPECT_EQ(1, k) TH_LOG("socket #%d listed %d times", i, k);
		close(fds[i]);
	}
}

TEST_HARNESS_MAIN
