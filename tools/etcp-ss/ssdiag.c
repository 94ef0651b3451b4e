// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag requests for etcp's sockets: see ssdiag.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "ssdiag.h"

#define SSDIAG_BUF	(32 * 1024)

int ssdiag_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? -errno : fd;
}

/* Send @q as one SOCK_DIAG_BY_FAMILY request: 0 or -errno. */
static int ssdiag_send(int fd, const struct ssdiag_query *q)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
		struct nlattr bc;
		unsigned char ops[512];
	} m;
	size_t len = NLMSG_LENGTH(sizeof(m.req));

	if (q->bc_len > sizeof(m.ops))
		return -E2BIG;
	memset(&m, 0, sizeof(m));
	m.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m.nlh.nlmsg_flags = NLM_F_REQUEST | (q->exact ? 0 : NLM_F_DUMP);
	m.nlh.nlmsg_seq = 1;
	m.req.sdiag_family = q->family;
	m.req.sdiag_protocol = q->proto;
	m.req.idiag_states = q->states ? q->states : ~0U;
	m.req.idiag_ext = q->ext;
	if (q->exact)
		m.req.id = q->id;
	else
		m.req.id.idiag_cookie[0] = m.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (q->bc_len) {
		m.bc.nla_type = INET_DIAG_REQ_BYTECODE;
		m.bc.nla_len = NLA_HDRLEN + q->bc_len;
		memcpy(m.ops, q->bc, q->bc_len);
		len = NLMSG_ALIGN(len) + NLA_ALIGN(m.bc.nla_len);
	}
	m.nlh.nlmsg_len = len;
	if (send(fd, &m, len, 0) != (ssize_t)len)
		return -errno;
	return 0;
}

/* Take the record of @nlh apart into @rec. */
static void ssdiag_parse(const struct nlmsghdr *nlh, struct ssdiag_rec *rec)
{
	const struct inet_diag_msg *msg = NLMSG_DATA(nlh);
	int rem = nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*msg));
	const struct nlattr *a = (const void *)((const char *)msg +
						NLMSG_ALIGN(sizeof(*msg)));
	size_t n;

	memset(rec, 0, sizeof(*rec));
	rec->msg = *msg;
	for (; rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem;
	     rem -= NLA_ALIGN(a->nla_len),
	     a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
		const void *data = (const char *)a + NLA_HDRLEN;

		n = a->nla_len - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case INET_DIAG_INFO:
			rec->has_info = true;
			memcpy(&rec->info, data, n < sizeof(rec->info) ? n : sizeof(rec->info));
			break;
		case INET_DIAG_CONG:
			memcpy(rec->cong, data, n < sizeof(rec->cong) ? n : sizeof(rec->cong) - 1);
			rec->cong[sizeof(rec->cong) - 1] = '\0';
			break;
		case INET_DIAG_SKMEMINFO:
			rec->has_skmem = true;
			memcpy(rec->skmem, data, n < sizeof(rec->skmem) ? n : sizeof(rec->skmem));
			break;
		}
	}
}

/*
 * The records of one datagram to @fn (until it returns non-zero, kept in
 * *@stop), counted in *@count: 1 when the reply is complete (done, or the
 * one answer to an exact request), 0 when more is to come, or the
 * kernel's -errno.
 */
static int ssdiag_read_msgs(char *buf, ssize_t n, const struct ssdiag_query *q,
			    ssdiag_fn fn, void *arg, int *count, int *stop)
{
	struct nlmsghdr *nlh;
	struct ssdiag_rec rec;

	for (nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		/* A dump's error (no handler for the protocol) rides in DONE. */
		if (nlh->nlmsg_type == NLMSG_DONE) {
			const int *err = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*err)) && *err < 0)
				return *err;
			return 1;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			return e->error ? e->error : 1;
		}
		if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
			continue;
		ssdiag_parse(nlh, &rec);
		(*count)++;
		if (!*stop && fn)
			*stop = fn(&rec, arg);
		if (q->exact)
			return 1;
	}
	return 0;
}

int ssdiag_query(int fd, const struct ssdiag_query *q, ssdiag_fn fn, void *arg)
{
	static char buf[SSDIAG_BUF];
	int count = 0, stop = 0, err;
	ssize_t n;

	err = ssdiag_send(fd, q);
	if (err)
		return err;
	do {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		err = ssdiag_read_msgs(buf, n, q, fn, arg, &count, &stop);
	} while (!err);
	if (err < 0)
		return err;
	return stop ? stop : count;
}

size_t ssdiag_bc_port(void *buf, size_t len, size_t size, bool src, uint16_t port)
{
	struct inet_diag_bc_op *op = buf;
	size_t i, add = 2 * sizeof(*op);

	if (len + add > size)
		return 0;
	/* Each earlier test's "no" jumps past the end, which moves on. */
	for (i = 0; i < len / sizeof(*op); i += 2)
		op[i].no += add;
	op = (struct inet_diag_bc_op *)((char *)buf + len);
	op[0].code = src ? INET_DIAG_BC_S_EQ : INET_DIAG_BC_D_EQ;
	op[0].yes = add;
	op[0].no = add + 4;		/* past the end: reject */
	op[1].code = INET_DIAG_BC_NOP;
	op[1].yes = 0;
	op[1].no = port;
	return len + add;
}

static const char * const ssdiag_states[] = {
	[0] = "UNKNOWN",
	[ETCP_ESTABLISHED] = "ESTAB",
	[ETCP_SYN_SENT] = "SYN-SENT",
	[ETCP_SYN_RECV] = "SYN-RECV",
	[ETCP_FIN_WAIT1] = "FIN-WAIT-1",
	[ETCP_FIN_WAIT2] = "FIN-WAIT-2",
	[ETCP_TIME_WAIT] = "TIME-WAIT",
	[ETCP_CLOSE] = "UNCONN",
	[ETCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[ETCP_LAST_ACK] = "LAST-ACK",
	[ETCP_LISTEN] = "LISTEN",
	[ETCP_CLOSING] = "CLOSING",
};

/* The names ss's "state" filter takes, by state. */
static const char * const ssdiag_filter_names[] = {
	[ETCP_ESTABLISHED] = "established",
	[ETCP_SYN_SENT] = "syn-sent",
	[ETCP_SYN_RECV] = "syn-recv",
	[ETCP_FIN_WAIT1] = "fin-wait-1",
	[ETCP_FIN_WAIT2] = "fin-wait-2",
	[ETCP_TIME_WAIT] = "time-wait",
	[ETCP_CLOSE] = "closed",
	[ETCP_CLOSE_WAIT] = "close-wait",
	[ETCP_LAST_ACK] = "last-ack",
	[ETCP_LISTEN] = "listening",
	[ETCP_CLOSING] = "closing",
};

const char *ssdiag_state_name(int st)
{
	if (st < 0 || st > ETCP_CLOSING)
		return "UNKNOWN";
	return ssdiag_states[st];
}

int ssdiag_state_parse(const char *name)
{
	int st;

	for (st = ETCP_ESTABLISHED; st <= ETCP_CLOSING; st++) {
		if (!strcasecmp(name, ssdiag_filter_names[st]) ||
		    !strcasecmp(name, ssdiag_states[st]))
			return st;
	}
	return -1;
}
