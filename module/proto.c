// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: the socket calls.  struct proto holds what the socket layer calls
 * on a struct sock, struct proto_ops what it calls on a struct socket.
 *
 * Connection establishment, data transfer and termination arrive in later
 * steps; until then the calls that need them are the sock_no_*() stubs the
 * socket layer provides, which fail with EOPNOTSUPP.
 */
#include <linux/poll.h>
#include <linux/uaccess.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/sock.h>

#include "etcp.h"

/*
 * Every state change goes through here, so that the sock:inet_sock_set_state
 * tracepoint sees etcp's transitions as it sees TCP's.
 */
void etcp_set_state(struct sock *sk, int state)
{
	inet_sk_set_state(sk, state);
}

static int etcp_init_sock(struct sock *sk)
{
	etcp_sock_list_add(sk);
	return 0;
}

/* proto->destroy: the last call before the socket's memory goes. */
static void etcp_destroy_sock(struct sock *sk)
{
	etcp_sock_list_del(sk);
}

static void etcp_unhash(struct sock *sk)
{
	etcp_put_port(sk);
}

static void etcp_close(struct sock *sk, long timeout)
{
	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	etcp_set_state(sk, TCP_CLOSE);
	release_sock(sk);

	/* destroy, unhash, orphan and drop the socket layer's reference */
	sk_common_release(sk);
}

static void etcp_get_info(const struct sock *sk, struct etcp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->etcpi_state = inet_sk_state_load(sk);
	info->etcpi_orphan = sock_flag(sk, SOCK_DEAD);
}

static int etcp_getsockopt_info(struct sock *sk, char __user *optval,
				int __user *optlen)
{
	struct etcp_info info;
	int len;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	lock_sock(sk);
	etcp_get_info(sk, &info);
	release_sock(sk);

	/* Copy what the caller has room for, so etcp_info may grow. */
	len = min_t(unsigned int, len, sizeof(info));
	if (copy_to_user(optval, &info, len))
		return -EFAULT;
	if (put_user(len, optlen))
		return -EFAULT;
	return 0;
}

static int etcp_getsockopt(struct sock *sk, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	if (level != SOL_ETCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);

	switch (optname) {
	case ETCP_INFO:
		return etcp_getsockopt_info(sk, optval, optlen);
	default:
		return -ENOPROTOOPT;
	}
}

static int etcp_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	if (level != SOL_ETCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);

	/* No writable etcp options yet: the connection steps add them. */
	return -ENOPROTOOPT;
}

/*
 * An unconnected stream socket polls writable and hung up, as TCP's does:
 * a poller must not wait forever on a socket nothing will ever wake.
 */
static __poll_t etcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);

	if (inet_sk_state_load(sk) == TCP_CLOSE)
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	return mask;
}

struct proto etcp_prot = {
	.name		= "ETCP",
	.owner		= THIS_MODULE,
	.close		= etcp_close,
	.init		= etcp_init_sock,
	.destroy	= etcp_destroy_sock,
	.setsockopt	= etcp_setsockopt,
	.getsockopt	= etcp_getsockopt,
	.unhash		= etcp_unhash,
	.get_port	= etcp_get_port,
	.put_port	= etcp_put_port,
	.obj_size	= sizeof(struct etcp_sock),
};

const struct proto_ops etcp_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= inet_release,
	.bind		= inet_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= inet_getname,
	.poll		= etcp_poll,
	.ioctl		= inet_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= inet_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
};
