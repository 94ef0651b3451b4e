/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small sock_diag client for etcp (etcp-ss and the selftests): dumps
 * and exact requests of SOCK_DIAG_BY_FAMILY for IP protocol 253 (or
 * another), records handed to a callback, and the bytecode of port
 * filters.  Functions return a count or 0, or a negative errno.
 */
#ifndef _ETCP_SSDIAG_H
#define _ETCP_SSDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/inet_diag.h>
#include <linux/etcp.h>

/* One record of a reply, its attributes taken apart. */
struct ssdiag_rec {
	struct inet_diag_msg msg;
	bool has_info;			/* INET_DIAG_INFO was there */
	struct etcp_info info;		/* zero past what the kernel sent */
	char cong[16];			/* INET_DIAG_CONG, "" if none */
	bool has_skmem;
	uint32_t skmem[9];		/* INET_DIAG_SKMEMINFO: SK_MEMINFO_* */
};

/* What to ask for. */
struct ssdiag_query {
	int family;			/* AF_INET or AF_INET6 */
	int proto;			/* IPPROTO_ETCP, or another (6: TCP) */
	uint32_t states;		/* 1 << state bits; 0: all */
	uint8_t ext;			/* 1 << (INET_DIAG_* - 1) bits */
	const void *bc;			/* INET_DIAG_REQ_BYTECODE, or NULL */
	size_t bc_len;
	bool exact;			/* one socket: id below */
	struct inet_diag_sockid id;
};

/* Called for each record; non-zero stops the dump (and is returned). */
typedef int (*ssdiag_fn)(const struct ssdiag_rec *rec, void *arg);

/*
 * A NETLINK_SOCK_DIAG socket: the namespace it is made in is the one its
 * dumps list.  fd or -errno.
 */
int ssdiag_open(void);
/*
 * Run @q on @fd, @fn for every record: the number of records, what @fn
 * returned if not 0, or -errno (the kernel's error for the request).
 */
int ssdiag_query(int fd, const struct ssdiag_query *q, ssdiag_fn fn, void *arg);

/*
 * Bytecode that passes sockets whose local (@src) or remote port is
 * @port, ANDed with what is already in @buf (@len bytes): the new length,
 * or 0 if @size is too small.
 */
size_t ssdiag_bc_port(void *buf, size_t len, size_t size, bool src, uint16_t port);

/* ss's name of state @st ("ESTAB", "TIME-WAIT", ...), "UNKNOWN" past them. */
const char *ssdiag_state_name(int st);
/* The state of ss's name @name (also "established" ...), or -1. */
int ssdiag_state_parse(const char *name);

#endif /* _ETCP_SSDIAG_H */
