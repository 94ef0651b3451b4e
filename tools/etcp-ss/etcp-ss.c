// SPDX-License-Identifier: GPL-2.0
/*
 * etcp-ss: etcp's sockets as "ss -tanoi" shows TCP's, from sock_diag
 * (etcp_diag.ko).  ss itself lists only the protocols it knows by name;
 * this asks for IP protocol 253 (ETCP_SS_PROTO in the environment: another
 * number, e.g. 254 for etcp loaded with proto=254) and prints the same
 * lines, with ETCP_INFO's fields for -i.
 *
 *   etcp-ss [-4] [-6] [-l | -a] [-n] [-e] [-o] [-i] [-H]
 *           [state NAME]... [sport = :PORT] [dport = :PORT]
 *
 * The port filters go to the kernel as sock_diag bytecode; states as the
 * request's state mask, as ss sends them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssdiag.h"

struct opts {
	bool v4, v6, ext, timers, info, header;
	uint32_t states;
	unsigned char bc[64];
	size_t bc_len;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: etcp-ss [-4] [-6] [-l | -a] [-n] [-e] [-o] [-i] [-H]\n"
		"               [state NAME]... [sport = :PORT] [dport = :PORT]\n");
	exit(2);
}

/* "1min20sec", "1.200sec", "200ms", as ss prints a timer. */
static const char *fmt_ms(unsigned int ms, char *buf, size_t size)
{
	unsigned int secs = ms / 1000, msecs = ms % 1000;
	size_t n = 0;

	buf[0] = '\0';
	if (secs >= 60) {
		n += snprintf(buf + n, size - n, "%umin", secs / 60);
		secs %= 60;
	}
	if (secs)
		n += snprintf(buf + n, size - n, msecs ? "%u.%03usec" : "%usec", secs, msecs);
	else if (msecs || !n)
		snprintf(buf + n, size - n, "%ums", msecs);
	return buf;
}

/* "addr:port" as ss -n prints it: "*" for port 0, [v6]. */
static void print_addr(int family, const uint32_t *a, uint16_t port, int width)
{
	char ip[INET6_ADDRSTRLEN], out[INET6_ADDRSTRLEN + 10], p[8] = "*";

	inet_ntop(family, a, ip, sizeof(ip));
	if (port)
		snprintf(p, sizeof(p), "%u", port);
	snprintf(out, sizeof(out), family == AF_INET6 ? "[%s]:%s" : "%s:%s", ip, p);
	printf(" %*s", width, out);
}

static const char * const timer_names[] = {
	"off", "on", "keepalive", "timewait", "persist",
};

static void print_info(const struct etcp_info *i)
{
	printf("\n\t rto:%g rtt:%g/%g mss:%u rcvmss:%u cwnd:%u",
	       i->etcpi_rto / 1000.0, i->etcpi_srtt / 1000.0,
	       i->etcpi_rttvar / 1000.0, i->etcpi_snd_mss, i->etcpi_rcv_mss,
	       i->etcpi_snd_cwnd);
	if (i->etcpi_snd_ssthresh < 0x7fffffff)
		printf(" ssthresh:%u", i->etcpi_snd_ssthresh);
	printf(" wscale:%u,%u bytes_acked:%" PRIu64 " bytes_received:%" PRIu64
	       " segs_out:%u segs_in:%u snd_wnd:%u rcv_wnd:%u",
	       i->etcpi_snd_wscale, i->etcpi_rcv_wscale,
	       (uint64_t)i->etcpi_bytes_acked, (uint64_t)i->etcpi_bytes_received,
	       i->etcpi_segs_out, i->etcpi_segs_in, i->etcpi_snd_wnd,
	       i->etcpi_rcv_wnd);
	if (i->etcpi_retransmits || i->etcpi_total_retrans)
		printf(" retrans:%u/%u", i->etcpi_retransmits, i->etcpi_total_retrans);
	if (i->etcpi_backoff)
		printf(" backoff:%u", i->etcpi_backoff);
	if (i->etcpi_rcv_rtt)
		printf(" rcv_rtt:%g", i->etcpi_rcv_rtt / 1000.0);
	printf(" rcv_space:%u pmtu:%u", i->etcpi_rcv_space, i->etcpi_pmtu);
}

static int print_rec(const struct ssdiag_rec *rec, void *arg)
{
	const struct inet_diag_msg *m = &rec->msg;
	const struct opts *o = arg;
	char t[32];

	printf("%-10s %-6u %-6u", ssdiag_state_name(m->idiag_state),
	       m->idiag_rqueue, m->idiag_wqueue);
	print_addr(m->idiag_family, m->id.idiag_src, ntohs(m->id.idiag_sport), 25);
	print_addr(m->idiag_family, m->id.idiag_dst, ntohs(m->id.idiag_dport), 25);
	if (o->timers && m->idiag_timer && m->idiag_timer < 5)
		printf(" timer:(%s,%s,%u)", timer_names[m->idiag_timer],
		       fmt_ms(m->idiag_expires, t, sizeof(t)), m->idiag_retrans);
	if (o->ext)
		printf(" uid:%u ino:%u sk:%08x%08x", m->idiag_uid, m->idiag_inode,
		       m->id.idiag_cookie[1], m->id.idiag_cookie[0]);
	if (o->info && rec->has_info) {
		if (rec->cong[0])
			printf("\n\t %s", rec->cong);
		print_info(&rec->info);
	}
	putchar('\n');
	return 0;
}

/* "sport = :N", "sport :N", "sport == N": the port, or exit. */
static uint16_t parse_port(char ***argv)
{
	char *s = *++*argv, *end;
	unsigned long port;

	if (s && (!strcmp(s, "=") || !strcmp(s, "==") || !strcmp(s, "eq")))
		s = *++*argv;
	if (!s)
		usage();
	if (*s == ':')
		s++;
	port = strtoul(s, &end, 10);
	if (*end || !*s || port > 65535)
		usage();
	return port;
}

/* The words after the options: state filters, port filters. */
static void parse_filter(char **argv, struct opts *o, bool *have_states)
{
	int st;

	for (; *argv; argv++) {
		if (!strcmp(*argv, "state") || !strcmp(*argv, "exclude")) {
			bool excl = **argv == 'e';

			if (!*++argv)
				usage();
			st = ssdiag_state_parse(*argv);
			if (!strcmp(*argv, "all"))
				o->states = excl ? 0 : ~0U;
			else if (st < 0)
				usage();
			else if (excl)
				o->states &= ~(1U << st);
			else
				o->states = (*have_states ? o->states : 0) | 1U << st;
			*have_states = true;
		} else if (!strcmp(*argv, "sport") || !strcmp(*argv, "dport")) {
			bool src = **argv == 's';

			o->bc_len = ssdiag_bc_port(o->bc, o->bc_len, sizeof(o->bc),
						   src, parse_port(&argv));
			if (!o->bc_len)
				usage();
		} else {
			usage();
		}
	}
}

/* ss's default: the connected ones, neither listening nor closed. */
#define STATES_CONN	(~((1U << ETCP_LISTEN) | (1U << ETCP_CLOSE) | \
			   (1U << ETCP_TIME_WAIT) | (1U << ETCP_SYN_RECV)))

int main(int argc, char **argv)
{
	struct opts o = { .header = true, .states = STATES_CONN };
	struct ssdiag_query q = { .proto = IPPROTO_ETCP };
	bool have_states = false;
	const char *env = getenv("ETCP_SS_PROTO");
	int fd, c, f, n;

	while ((c = getopt(argc, argv, "46laneoiHh")) != -1) {
		switch (c) {
		case '4': o.v4 = true; break;
		case '6': o.v6 = true; break;
		case 'l': o.states = 1U << ETCP_LISTEN; have_states = true; break;
		case 'a': o.states = ~0U; have_states = true; break;
		case 'n': break;		/* always numeric */
		case 'e': o.ext = true; break;
		case 'o': o.timers = true; break;
		case 'i': o.info = true; break;
		case 'H': o.header = false; break;
		default: usage();
		}
	}
	parse_filter(argv + optind, &o, &have_states);
	if (!o.v4 && !o.v6)
		o.v4 = o.v6 = true;
	if (env)
		q.proto = atoi(env);
	q.states = o.states;
	q.bc = o.bc_len ? o.bc : NULL;
	q.bc_len = o.bc_len;
	if (o.info)
		q.ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_CONG - 1);

	fd = ssdiag_open();
	if (fd < 0) {
		fprintf(stderr, "etcp-ss: sock_diag socket: %s\n", strerror(-fd));
		return 1;
	}
	if (o.header)
		printf("%-10s %-6s %-6s %25s %25s\n", "State", "Recv-Q", "Send-Q",
		       "Local Address:Port", "Peer Address:Port");
	for (f = 0; f < 2; f++) {
		if (!(f ? o.v6 : o.v4))
			continue;
		q.family = f ? AF_INET6 : AF_INET;
		n = ssdiag_query(fd, &q, print_rec, &o);
		if (n < 0) {
			fprintf(stderr, "etcp-ss: sock_diag dump of protocol %d: %s%s\n",
				q.proto, strerror(-n),
				n == -ENOENT ? " (is etcp_diag loaded?)" : "");
			return 1;
		}
	}
	close(fd);
	return 0;
}
