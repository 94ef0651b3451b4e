// SPDX-License-Identifier: GPL-2.0
/*
 * etcp_sock: create (and optionally bind) one socket for shell tests.
 *
 *   etcp_sock [-6] [-n NETNS] [-p PROTO] [-t TYPE] [-b ADDR:PORT] [--hold]
 *
 * -6 makes an AF_INET6 socket (ADDR an IPv6 address, e.g. ::1:5000);
 * -n enters the network namespace file NETNS (e.g. /run/netns/NAME) first;
 * -p is the IP protocol (default 253), -t the socket type (default 1,
 * SOCK_STREAM).  Prints "ok", or "errno NAME" (e.g. "errno EPROTONOSUPPORT")
 * for the first call that failed.  With --hold the socket stays open until
 * standard input reaches end of file.
 *
 * Exit status: 0 ok, 1 a call failed, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/etcp.h>

static int fail(void)
{
	const char *name = strerrorname_np(errno);

	if (name)
		printf("errno %s\n", name);
	else
		printf("errno %d\n", errno);
	return 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: etcp_sock [-6] [-n NETNS] [-p PROTO] [-t TYPE] [-b ADDR:PORT] [--hold]\n");
	exit(2);
}

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (setns(fd, CLONE_NEWNET)) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ADDR:PORT of @family into @ss; the port is after the last colon. */
static int parse_addr(char *arg, int family, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char *colon = strrchr(arg, ':');
	char *end;
	long port;

	if (!colon)
		return -1;
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return inet_pton(AF_INET6, arg, &sin6->sin6_addr) == 1 ? 0 : -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	*len = sizeof(*sin);
	return inet_pton(AF_INET, arg, &sin->sin_addr) == 1 ? 0 : -1;
}

/* Keep the socket until stdin is closed by whoever started us. */
static void hold(void)
{
	char buf[256];
	ssize_t n;

	do {
		n = read(STDIN_FILENO, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hold", no_argument, NULL, 'h' },
		{}
	};
	int proto = IPPROTO_ETCP, type = SOCK_STREAM, do_hold = 0, c, fd;
	int family = AF_INET;
	struct sockaddr_storage ss;
	const char *netns = NULL;
	char *bind_arg = NULL;
	socklen_t sslen = 0;

	while ((c = getopt_long(argc, argv, "6n:p:t:b:", opts, NULL)) != -1) {
		switch (c) {
		case '6':
			family = AF_INET6;
			break;
		case 'n':
			netns = optarg;
			break;
		case 'p':
			proto = atoi(optarg);
			break;
		case 't':
			type = atoi(optarg);
			break;
		case 'b':
			bind_arg = optarg;
			break;
		case 'h':
			do_hold = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (bind_arg && parse_addr(bind_arg, family, &ss, &sslen))
		usage();

	if (netns && enter_netns(netns))
		return fail();
	fd = socket(family, type, proto);
	if (fd < 0)
		return fail();
	if (bind_arg && bind(fd, (struct sockaddr *)&ss, sslen))
		return fail();

	printf("ok\n");
	fflush(stdout);
	if (do_hold)
		hold();
	close(fd);
	return 0;
}
