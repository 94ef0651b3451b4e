// SPDX-License-Identifier: GPL-2.0
/*
 * etcp selftests: socket listing through sock_diag (etcp_diag.ko) and
 * etcp-ss.  Sockets in every state etcp reaches, between two namespaces,
 * over IPv4 and over IPv6:
 *
 *   netns a (10.0.1.1, fd00:1::1)            netns b (10.0.1.2, fd00:1::2)
 *   ESTABLISHED      port 41001 ----------> LISTEN 6100, ESTABLISHED
 *   FIN_WAIT2        41002      ----------> CLOSE_WAIT
 *   TIME_WAIT, CLOSE 41003      ----------> (closed)
 *   FIN_WAIT1        41004   all it sends dropped in b
 *   CLOSING          41005   the same; both ends shut down
 *   TIME_WAIT        41006   its pure ACKs dropped in b: LAST_ACK
 *   ESTABLISHED      41007   its handshake ACK dropped: a SYN_RECV request
 *   SYN_SENT         -> 6199 SYNs dropped in b
 *   CLOSE            a socket never bound
 *
 *   every_state       each namespace's dump has one record per row of
 *                     /proc/net/etcp (etcp6), with the row's state,
 *                     addresses, queues (a listener's: accept queue and
 *                     backlog), timer, uid and inode; every state above
 *                     is there
 *   info              INET_DIAG_INFO of an idle connection is its
 *                     ETCP_INFO, field for field that cannot move
 *   exact             a request for one 4-tuple and cookie answers with
 *                     that socket (and TIME_WAIT entry); a wrong cookie
 *                     with ENOENT
 *   filters           bytecode by local and remote port, the state mask
 *   netns_isolation   a namespace's dump holds only its own sockets
 *   etcp_ss           etcp-ss prints them as ss does, and filters
 *   unload_reload     etcp_diag leaves and comes back under live sockets
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <linux/etcp.h>

#include "etcp_fixture.h"
#include "etcp_netns.h"
#include "etcp_util.h"
#include "../tools/etcp-ss/ssdiag.h"
#include "kselftest_harness.h"

#define PORT		6100
#define PORT_DROP	6199
#define BACKLOG		16
#define WAIT_MS		10000
#define MAX_RECS	64
#define PROC_SIZE	(64 * 1024)

ETCP_ENV_CHECK()

enum { C_EST, C_FW2, C_TW, C_FW1, C_CLOSING, C_LA, C_REQ, C_NR };

static const unsigned short cport[C_NR] = {
	41001, 41002, 41003, 41004, 41005, 41006, 41007,
};

struct recs {
	struct ssdiag_rec r[MAX_RECS];
	int n;
};

FIXTURE(diag) {
	struct etcp_netns ns;
	int l, c[C_NR], s[C_NR], syn_sent, unbound;
	struct recs *recs;
	char *text;
};

FIXTURE_VARIANT(diag) {
	ETCP_VARIANT_FIELDS;
};

ETCP_VARIANT_ADD(diag, ipv4, IPPROTO_ETCP, AF_INET, ETCP_NS_ADDR_A, ETCP_NS_ADDR_B);
ETCP_VARIANT_ADD(diag, ipv6, IPPROTO_ETCP, AF_INET6, ETCP_NS_ADDR6_A, ETCP_NS_ADDR6_B);

FIXTURE_SETUP(diag)
{
	int i;

	if (env_unsupported)
		ETCP_SETUP_SKIP("%s", env_unsupported);
	if (access("/sys/module/etcp_diag", F_OK))
		ETCP_SETUP_SKIP("etcp_diag is not loaded");
	self->l = self->syn_sent = self->unbound = -1;
	for (i = 0; i < C_NR; i++)
		self->c[i] = self->s[i] = -1;
	self->recs = calloc(1, sizeof(*self->recs));
	self->text = calloc(1, PROC_SIZE);
	ASSERT_NE(NULL, self->recs);
	ASSERT_NE(NULL, self->text);
	ASSERT_EQ(0, two_ns_setup(&self->ns));
}

FIXTURE_TEARDOWN(diag)
{
	int i;

	for (i = 0; i < C_NR; i++)
		close_fds(&self->c[i], &self->s[i], NULL);
	close_fds(&self->l, &self->syn_sent, &self->unbound, NULL);
	etcp_netns_teardown(&self->ns);
	free(self->recs);
	free(self->text);
}

/* A client in a from port cport[@i], connected to b's listener: fd or -errno. */
static int client(FIXTURE_DATA(diag) *self, const FIXTURE_VARIANT(diag) *v, int i)
{
	int fd, err;

	fd = ns_socket(self->ns.a, v->family, SOCK_STREAM, IPPROTO_ETCP);
	if (fd < 0)
		return -errno;
	err = bind_to(fd, v->addr_a, cport[i]);
	if (!err)
		err = connect_to(fd, v->addr_b, PORT);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* The listener and one connection to it, from port cport[C_EST]. */
static void connect_pair(struct __test_metadata *_metadata,
			 FIXTURE_DATA(diag) *self, const FIXTURE_VARIANT(diag) *v)
{
	self->l = listen_on(self->ns.b, IPPROTO_ETCP, v->addr_b, PORT, BACKLOG);
	ASSERT_LE(0, self->l) TH_LOG("listen: %s", strerror(errno));
	self->c[C_EST] = client(self, v, C_EST);
	ASSERT_LE(0, self->c[C_EST]) TH_LOG("connect: %s", strerror(-self->c[C_EST]));
	self->s[C_EST] = accept_wait(self->l, WAIT_MS);
	ASSERT_LE(0, self->s[C_EST]) TH_LOG("accept: %s", strerror(errno));
}

/* Drop what netns b receives from client @i that matches @what. */
static int drop_from(FIXTURE_DATA(diag) *self, int i, const char *what)
{
	char match[128];

	snprintf(match, sizeof(match), "@th,0,16 == %u %s", cport[i], what);
	return ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", match);
}

/* Poll until @fd has read the peer's FIN. */
static bool saw_eof(int fd)
{
	char c;

	return poll_fd(fd, POLLIN, WAIT_MS) > 0 && read(fd, &c, 1) == 0;
}

/* Every state of the drawing above. */
static void build_states(struct __test_metadata *_metadata,
			 FIXTURE_DATA(diag) *self, const FIXTURE_VARIANT(diag) *v)
{
	int i;

	if (!have_prog("nft"))
		SKIP(return, "needs nft(8)");
	self->l = listen_on(self->ns.b, IPPROTO_ETCP, v->addr_b, PORT, BACKLOG);
	ASSERT_LE(0, self->l) TH_LOG("listen: %s", strerror(errno));
	ASSERT_EQ(0, drop_from(self, C_REQ, "@th,104,8 == 0x10"));
	ASSERT_EQ(0, ns_nft_drop(self->ns.b, IPPROTO_ETCP, "input", "@th,16,16 == 6199"));
	for (i = 0; i < C_NR; i++) {
		self->c[i] = client(self, v, i);
		ASSERT_LE(0, self->c[i]) TH_LOG("client %u: %s", cport[i], strerror(-self->c[i]));
		if (i == C_REQ)
			continue;
		self->s[i] = accept_wait(self->l, WAIT_MS);
		ASSERT_LE(0, self->s[i]) TH_LOG("accept %u: %s", cport[i], strerror(errno));
	}
	ASSERT_EQ(0, drop_from(self, C_FW1, ""));
	ASSERT_EQ(0, drop_from(self, C_CLOSING, ""));
	ASSERT_EQ(0, drop_from(self, C_LA, "@th,104,8 == 0x10"));

	for (i = C_FW2; i <= C_LA; i++)
		ASSERT_EQ(0, shutdown(self->c[i], SHUT_WR));
	ASSERT_TRUE(saw_eof(self->s[C_TW]));
	close_fds(&self->s[C_TW], NULL);
	ASSERT_TRUE(saw_eof(self->s[C_LA]));
	ASSERT_EQ(0, shutdown(self->s[C_LA], SHUT_WR));
	ASSERT_EQ(0, shutdown(self->s[C_CLOSING], SHUT_WR));

	self->syn_sent = ns_socket(self->ns.a, v->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, self->syn_sent);
	ASSERT_EQ(0, set_nonblock(self->syn_sent, true));
	ASSERT_EQ(-EINPROGRESS, connect_to(self->syn_sent, v->addr_b, PORT_DROP));
	self->unbound = ns_socket(self->ns.a, v->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, self->unbound);

	ASSERT_EQ(ETCP_FIN_WAIT2, wait_sock_state(self->c[C_FW2], IPPROTO_ETCP, ETCP_FIN_WAIT2, WAIT_MS));
	ASSERT_EQ(ETCP_CLOSING, wait_sock_state(self->c[C_CLOSING], IPPROTO_ETCP, ETCP_CLOSING, WAIT_MS));
	ASSERT_EQ(ETCP_LAST_ACK, wait_sock_state(self->s[C_LA], IPPROTO_ETCP, ETCP_LAST_ACK, WAIT_MS));
	ASSERT_EQ(0, wait_row_state(self->ns.a, IPPROTO_ETCP, cport[C_TW], PORT, ETCP_TIME_WAIT, WAIT_MS));
	ASSERT_EQ(0, wait_row_state(self->ns.a, IPPROTO_ETCP, cport[C_LA], PORT, ETCP_TIME_WAIT, WAIT_MS));
	ASSERT_EQ(0, wait_row_state(self->ns.b, IPPROTO_ETCP, PORT, cport[C_REQ], ETCP_SYN_RECV, WAIT_MS));
}

static int keep_rec(const struct ssdiag_rec *rec, void *arg)
{
	struct recs *recs = arg;

	if (recs->n < MAX_RECS)
		recs->r[recs->n++] = *rec;
	return 0;
}

/* Run @q in netns @nsfd into self->recs: the records or -errno. */
static int query(FIXTURE_DATA(diag) *self, int nsfd, struct ssdiag_query *q)
{
	int fd, n;

	fd = ns_socket(nsfd, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	self->recs->n = 0;
	n = ssdiag_query(fd, q, keep_rec, self->recs);
	close(fd);
	return n;
}

/* A dump of everything of the variant's family in @nsfd, with @ext. */
static int dump_all(FIXTURE_DATA(diag) *self, const FIXTURE_VARIANT(diag) *v,
		    int nsfd, int ext)
{
	struct ssdiag_query q = { .family = v->family, .proto = IPPROTO_ETCP, .ext = ext };

	return query(self, nsfd, &q);
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* The record with inode @ino (0: none), or NULL. */
static const struct ssdiag_rec *rec_by_inode(const struct recs *recs, unsigned long ino)
{
	int i;

	for (i = 0; i < recs->n; i++)
		if (recs->r[i].msg.idiag_inode == ino)
			return &recs->r[i];
	return NULL;
}

/* Does record @m show row @r's state, addresses and ports? */
static bool rec_is_row(const struct inet_diag_msg *m, const struct proc_row *r, int family)
{
	if (m->idiag_state != r->st || ntohs(m->id.idiag_sport) != r->lport ||
	    ntohs(m->id.idiag_dport) != r->rport)
		return false;
	if (family == AF_INET)
		return m->id.idiag_src[0] == r->laddr && m->id.idiag_dst[0] == r->raddr;
	return !memcmp(m->id.idiag_src, r->laddr6, 16) && !memcmp(m->id.idiag_dst, r->raddr6, 16);
}

/*
 * Every row of @nsfd's /proc/net/etcp (etcp6) against self->recs: the
 * same number, each row's record alike.  The states seen, as a mask.
 */
static unsigned int expect_rows_match(struct __test_metadata *_metadata,
				      FIXTURE_DATA(diag) *self,
				      const FIXTURE_VARIANT(diag) *v, int nsfd)
{
	const char *file = proc_table_af(IPPROTO_ETCP, v->family);
	unsigned int seen = 0;
	char *line, *save = NULL;
	struct proc_row r;
	int rows = 0, i;

	if (ns_proc_net_read(nsfd, file, self->text, PROC_SIZE) < 0)
		return 0;
	strtok_r(self->text, "\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		const struct inet_diag_msg *m = NULL;

		if (proc_row_scan(line, &r))
			continue;
		rows++;
		seen |= 1U << r.st;
		for (i = 0; i < self->recs->n && !m; i++)
			if (rec_is_row(&self->recs->r[i].msg, &r, v->family) &&
			    self->recs->r[i].msg.idiag_inode == r.inode)
				m = &self->recs->r[i].msg;
		EXPECT_NE(NULL, m) TH_LOG("no record for /proc/net/%s row \"%s\"", file, line);
		if (!m)
			continue;
		EXPECT_EQ(r.uid, m->idiag_uid) TH_LOG("\"%s\"", line);
		EXPECT_EQ(r.tr, m->idiag_timer) TH_LOG("\"%s\"", line);
		EXPECT_EQ(r.rxq, m->idiag_rqueue) TH_LOG("\"%s\"", line);
		/* A listener's Send-Q is its backlog, as TCP's. */
		EXPECT_EQ(r.st == ETCP_LISTEN ? BACKLOG : r.txq, m->idiag_wqueue)
			TH_LOG("\"%s\"", line);
	}
	EXPECT_EQ(rows, self->recs->n) TH_LOG("%d rows in /proc/net/%s, %d records",
					      rows, file, self->recs->n);
	return seen;
}

#define ST(x)	(1U << ETCP_##x)

TEST_F_TIMEOUT(diag, every_state, 120)
{
	unsigned int want_a = ST(ESTABLISHED) | ST(SYN_SENT) | ST(FIN_WAIT1) |
			      ST(FIN_WAIT2) | ST(TIME_WAIT) | ST(CLOSE) | ST(CLOSING);
	unsigned int want_b = ST(LISTEN) | ST(ESTABLISHED) | ST(SYN_RECV) |
			      ST(CLOSE_WAIT) | ST(LAST_ACK);
	unsigned int seen;

	build_states(_metadata, self, variant);
	ASSERT_LT(0, dump_all(self, variant, self->ns.a, 0));
	seen = expect_rows_match(_metadata, self, variant, self->ns.a);
	EXPECT_EQ(want_a, seen & want_a) TH_LOG("netns a: states %#x of %#x", seen, want_a);
	ASSERT_LT(0, dump_all(self, variant, self->ns.b, 0));
	seen = expect_rows_match(_metadata, self, variant, self->ns.b);
	EXPECT_EQ(want_b, seen & want_b) TH_LOG("netns b: states %#x of %#x", seen, want_b);
}

TEST_F(diag, info)
{
	const struct ssdiag_rec *rec;
	struct etcp_info ei;
	const struct etcp_info *di;

	connect_pair(_metadata, self, variant);
	ASSERT_EQ(0, wait_acked(self->c[C_EST], WAIT_MS));

	ASSERT_LT(0, dump_all(self, variant, self->ns.a, 1 << (INET_DIAG_INFO - 1) |
			      1 << (INET_DIAG_CONG - 1) | 1 << (INET_DIAG_SKMEMINFO - 1)));
	rec = rec_by_inode(self->recs, inode_of(self->c[C_EST]));
	ASSERT_NE(NULL, rec);
	ASSERT_TRUE(rec->has_info) TH_LOG("no INET_DIAG_INFO");
	EXPECT_TRUE(rec->has_skmem) TH_LOG("no INET_DIAG_SKMEMINFO");
	EXPECT_STREQ("reno", rec->cong);
	ASSERT_EQ(0, etcp_info_of(self->c[C_EST], &ei));
	di = &rec->info;
	EXPECT_EQ(ei.etcpi_state, di->etcpi_state);
	EXPECT_EQ(ei.etcpi_snd_mss, di->etcpi_snd_mss);
	EXPECT_EQ(ei.etcpi_rcv_mss, di->etcpi_rcv_mss);
	EXPECT_EQ(ei.etcpi_iss, di->etcpi_iss);
	EXPECT_EQ(ei.etcpi_irs, di->etcpi_irs);
	EXPECT_EQ(ei.etcpi_snd_una, di->etcpi_snd_una);
	EXPECT_EQ(ei.etcpi_snd_nxt, di->etcpi_snd_nxt);
	EXPECT_EQ(ei.etcpi_rcv_nxt, di->etcpi_rcv_nxt);
	EXPECT_EQ(ei.etcpi_snd_cwnd, di->etcpi_snd_cwnd);
	EXPECT_EQ(ei.etcpi_snd_ssthresh, di->etcpi_snd_ssthresh);
	EXPECT_EQ(ei.etcpi_snd_wscale, di->etcpi_snd_wscale);
	EXPECT_EQ(ei.etcpi_rcv_wscale, di->etcpi_rcv_wscale);
	EXPECT_EQ(ei.etcpi_bytes_acked, di->etcpi_bytes_acked);
	EXPECT_EQ(ei.etcpi_bytes_received, di->etcpi_bytes_received);
	EXPECT_EQ(ei.etcpi_pmtu, di->etcpi_pmtu);
	EXPECT_EQ(ei.etcpi_total_retrans, di->etcpi_total_retrans);
}

/* The record of @want, asked for by its 4-tuple and cookie: 0 or -errno. */
static int exact(FIXTURE_DATA(diag) *self, const FIXTURE_VARIANT(diag) *v,
		 int nsfd, const struct inet_diag_msg *want, bool bad_cookie)
{
	struct ssdiag_query q = {
		.family = v->family, .proto = IPPROTO_ETCP, .exact = true, .id = want->id,
	};
	int n;

	if (bad_cookie)
		q.id.idiag_cookie[0] ^= 1;
	n = query(self, nsfd, &q);
	if (n < 0)
		return n;
	if (n != 1 || self->recs->r[0].msg.idiag_state != want->idiag_state ||
	    self->recs->r[0].msg.idiag_inode != want->idiag_inode ||
	    memcmp(self->recs->r[0].msg.id.idiag_cookie, want->id.idiag_cookie, 8))
		return -EBADMSG;
	return 0;
}

TEST_F_TIMEOUT(diag, exact, 120)
{
	struct inet_diag_msg est = {}, tw = {};
	int i;

	build_states(_metadata, self, variant);
	ASSERT_LT(0, dump_all(self, variant, self->ns.a, 0));
	for (i = 0; i < self->recs->n; i++) {
		const struct inet_diag_msg *m = &self->recs->r[i].msg;

		if (m->idiag_inode == inode_of(self->c[C_EST]))
			est = *m;
		if (m->idiag_state == ETCP_TIME_WAIT && ntohs(m->id.idiag_sport) == cport[C_TW])
			tw = *m;
	}
	ASSERT_NE(0, est.idiag_inode) TH_LOG("no record of the connection");
	ASSERT_EQ(ETCP_TIME_WAIT, tw.idiag_state) TH_LOG("no TIME_WAIT record");
	EXPECT_EQ(0, exact(self, variant, self->ns.a, &est, false));
	EXPECT_EQ(0, exact(self, variant, self->ns.a, &tw, false));
	EXPECT_EQ(-ENOENT, exact(self, variant, self->ns.a, &est, true));
	EXPECT_EQ(-ENOENT, exact(self, variant, self->ns.a, &tw, true));
	EXPECT_EQ(-ENOENT, exact(self, variant, self->ns.b, &est, false))
		TH_LOG("netns b answers for netns a's socket");
}

TEST_F_TIMEOUT(diag, filters, 120)
{
	struct ssdiag_query q = { .family = variant->family, .proto = IPPROTO_ETCP };
	unsigned char bc[64];
	int i, n;

	build_states(_metadata, self, variant);
	/* b: local port 6100: the listener, its connections, the request. */
	q.bc = bc;
	q.bc_len = ssdiag_bc_port(bc, 0, sizeof(bc), true, PORT);
	n = query(self, self->ns.b, &q);
	EXPECT_EQ(count_rows(self->ns.b, IPPROTO_ETCP, variant->family, 0, PORT), n);
	for (i = 0; i < self->recs->n; i++)
		EXPECT_EQ(PORT, ntohs(self->recs->r[i].msg.id.idiag_sport));
	/* a: remote port 6100 and local 41002: the FIN_WAIT2 socket alone. */
	q.bc_len = ssdiag_bc_port(bc, 0, sizeof(bc), false, PORT);
	q.bc_len = ssdiag_bc_port(bc, q.bc_len, sizeof(bc), true, cport[C_FW2]);
	ASSERT_EQ(1, query(self, self->ns.a, &q));
	EXPECT_EQ(ETCP_FIN_WAIT2, self->recs->r[0].msg.idiag_state);
	/* The state mask: TIME_WAIT entries only, two of them. */
	q.bc_len = 0;
	q.states = 1U << ETCP_TIME_WAIT;
	ASSERT_EQ(2, query(self, self->ns.a, &q));
	for (i = 0; i < self->recs->n; i++)
		EXPECT_EQ(ETCP_TIME_WAIT, self->recs->r[i].msg.idiag_state);
	q.states = 1U << ETCP_SYN_RECV;
	ASSERT_EQ(1, query(self, self->ns.b, &q));
	EXPECT_EQ(cport[C_REQ], ntohs(self->recs->r[0].msg.id.idiag_dport));
}

TEST_F(diag, netns_isolation)
{
	self->l = listen_on(self->ns.b, IPPROTO_ETCP, variant->addr_b, PORT, BACKLOG);
	ASSERT_LE(0, self->l);
	self->unbound = ns_socket(self->ns.a, variant->family, SOCK_STREAM, IPPROTO_ETCP);
	ASSERT_LE(0, self->unbound);
	ASSERT_EQ(1, dump_all(self, variant, self->ns.a, 0));
	EXPECT_EQ(inode_of(self->unbound), self->recs->r[0].msg.idiag_inode);
	ASSERT_EQ(1, dump_all(self, variant, self->ns.b, 0));
	EXPECT_EQ(inode_of(self->l), self->recs->r[0].msg.idiag_inode);
	EXPECT_EQ(ETCP_LISTEN, self->recs->r[0].msg.idiag_state);
}

/* Run etcp-ss @args in netns @nsfd: its lines in self->text, their number. */
static int etcp_ss(FIXTURE_DATA(diag) *self, int nsfd, const char *args)
{
	const char *bin = getenv("ETCP_SELFTEST_BIN");
	char cmd[512];
	size_t n = 0;
	int lines = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s/../tools/etcp-ss %s", bin ? bin : "../build/selftests", args);
	if (ns_enter(nsfd))
		return -1;
	f = popen(cmd, "r");
	ns_leave();
	if (!f)
		return -1;
	n = fread(self->text, 1, PROC_SIZE - 1, f);
	self->text[n] = '\0';
	if (pclose(f))
		return -1;
	for (; n; n--)
		lines += self->text[n - 1] == '\n';
	return lines;
}

TEST_F_TIMEOUT(diag, etcp_ss, 120)
{
	struct ssdiag_query q = { .family = variant->family, .proto = IPPROTO_ETCP };
	const char *fam = variant->family == AF_INET6 ? "-6" : "-4";
	char args[128], port[16];
	unsigned char bc[16];
	int n;

	build_states(_metadata, self, variant);
	ASSERT_LT(0, dump_all(self, variant, self->ns.a, 0));
	snprintf(args, sizeof(args), "%s -H -a -e -o", fam);
	EXPECT_EQ(self->recs->n, etcp_ss(self, self->ns.a, args)) TH_LOG("%s", self->text);
	EXPECT_NE(NULL, strstr(self->text, "timer:(timewait,")) TH_LOG("%s", self->text);
	EXPECT_NE(NULL, strstr(self->text, "timer:(on,")) TH_LOG("%s", self->text);
	EXPECT_NE(NULL, strstr(self->text, "CLOSING ")) TH_LOG("%s", self->text);

	snprintf(args, sizeof(args), "%s -H state time-wait", fam);
	EXPECT_EQ(2, etcp_ss(self, self->ns.a, args)) TH_LOG("%s", self->text);
	EXPECT_EQ(0, strncmp(self->text, "TIME-WAIT ", 10)) TH_LOG("%s", self->text);

	snprintf(args, sizeof(args), "%s -H -l", fam);
	EXPECT_EQ(1, etcp_ss(self, self->ns.b, args)) TH_LOG("%s", self->text);
	EXPECT_EQ(0, strncmp(self->text, "LISTEN     0      16 ", 21)) TH_LOG("%s", self->text);

	/* The port filter, as the kernel's bytecode answers it. */
	q.bc = bc;
	q.bc_len = ssdiag_bc_port(bc, 0, sizeof(bc), false, PORT);
	n = query(self, self->ns.a, &q);
	ASSERT_LT(0, n);
	snprintf(args, sizeof(args), "%s -H -a dport = :%u", fam, PORT);
	EXPECT_EQ(n, etcp_ss(self, self->ns.a, args)) TH_LOG("%s", self->text);
	snprintf(port, sizeof(port), ":%u\n", PORT);
	EXPECT_NE(NULL, strstr(self->text, port));

	snprintf(args, sizeof(args), "%s -H -i state established sport = :%u", fam, cport[C_EST]);
	EXPECT_EQ(3, etcp_ss(self, self->ns.a, args)) TH_LOG("%s", self->text);
	EXPECT_NE(NULL, strstr(self->text, " cwnd:10 ")) TH_LOG("%s", self->text);
}

TEST_F(diag, unload_reload)
{
	const char *ko = getenv("ETCP_KO");
	char diag[512];

	if (!ko)
		SKIP(return, "ETCP_KO is not set: cannot load etcp_diag.ko again");
	snprintf(diag, sizeof(diag), "%.*s/etcp_diag.ko", (int)(strrchr(ko, '/') - ko), ko);
	connect_pair(_metadata, self, variant);
	ASSERT_EQ(2, dump_all(self, variant, self->ns.b, 0));

	ASSERT_EQ(0, etcp_run("rmmod etcp_diag"));
	EXPECT_GT(0, dump_all(self, variant, self->ns.b, 0))
		TH_LOG("a dump without etcp_diag succeeded");
	ASSERT_EQ(0, etcp_run("insmod %s", diag));
	EXPECT_EQ(2, dump_all(self, variant, self->ns.b, 0));
	EXPECT_EQ(1, dump_all(self, variant, self->ns.a, 0));
}

TEST_HARNESS_MAIN
