// SPDX-License-Identifier: GPL-2.0
/*
 * etcp: module init and exit, registration with the socket layer and IP.
 *
 * Order matters.  Per-netns state must exist before IP can deliver a
 * segment or socket() can create a socket, so the pernet subsystem comes
 * first and goes last; the receive handler and the socket switch entry are
 * the visible edges, registered last and removed first.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <net/protocol.h>
#include <net/inet_common.h>
#include <net/ipv6.h>

#include "etcp.h"
#include "compat.h"

int etcp_proto_num = IPPROTO_ETCP;
module_param_named(proto, etcp_proto_num, int, 0444);
/* etcp_diag.ko registers its sock_diag handler for it. */
EXPORT_SYMBOL_GPL(etcp_proto_num);
MODULE_PARM_DESC(proto, "IP protocol number: 253 (default) or 254 (RFC 3692)");

unsigned int etcp_net_id __read_mostly;

static int __net_init etcp_net_init(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);
	int err;

	en->fixed_isn = -1;
	err = etcp_hash_net_init(en);
	if (err)
		return err;

	en->mib = alloc_percpu(struct etcp_mib);
	if (!en->mib) {
		err = -ENOMEM;
		goto err_hash;
	}

	err = etcp_ctl_sock_init(net);
	if (err)
		goto err_mib;

	err = etcp_sysctl_net_init(net);
	if (err)
		goto err_ctl;

	err = etcp_proc_net_init(net);
	if (err)
		goto err_sysctl;

	return 0;

err_sysctl:
	etcp_sysctl_net_exit(net);
err_ctl:
	etcp_ctl_sock_exit(net);
err_mib:
	free_percpu(en->mib);
err_hash:
	etcp_hash_net_exit(en);
	return err;
}

static void __net_exit etcp_net_exit(struct net *net)
{
	struct etcp_net *en = etcp_pernet(net);

	etcp_tw_purge(net);
	etcp_proc_net_exit(net);
	etcp_sysctl_net_exit(net);
	etcp_ctl_sock_exit(net);
	etcp_hash_net_exit(en);
	free_percpu(en->mib);
}

static struct pernet_operations etcp_net_ops = {
	.init = etcp_net_init,
	.exit = etcp_net_exit,
	.id   = &etcp_net_id,
	.size = sizeof(struct etcp_net),
};

static struct net_protocol etcp_protocol = {
	.handler	= etcp_v4_rcv,
	/* etcp_v4_rcv() checks IPsec policy itself, the socket's included. */
	.no_policy	= 1,
	.err_handler	= etcp_v4_err,
	/* The quoted sequence number is checked (RFC 5927 4.1), as TCP's. */
	.icmp_strict_tag_validation = 1,
};

static struct inet_protosw etcp_protosw = {
	.type		= SOCK_STREAM,
	/* .protocol is set from the module parameter at init */
	.prot		= &etcp_prot,
	.ops		= &etcp_stream_ops,
};

static void etcp_check_layout(void)
{
	/* The state numbers are TCP's: tools decode /proc/net/etcp as tcp. */
	BUILD_BUG_ON((int)ETCP_ESTABLISHED != (int)TCP_ESTABLISHED);
	BUILD_BUG_ON((int)ETCP_CLOSE != (int)TCP_CLOSE);
	BUILD_BUG_ON((int)ETCP_LISTEN != (int)TCP_LISTEN);
	BUILD_BUG_ON((int)ETCP_CLOSING != (int)TCP_CLOSING);
	/* uapi structure: it only grows, at its end (etcp_getsockopt_info()). */
	BUILD_BUG_ON(sizeof(struct etcp_info) != 104);
	BUILD_BUG_ON(SOL_ETCP != IPPROTO_ETCP);
	/* The module alias spells SOCK_STREAM as 1. */
	BUILD_BUG_ON(SOCK_STREAM != 1);
	/* The parsed header rides in skb->cb behind IP's control block. */
	BUILD_BUG_ON(sizeof(struct etcp_skb_cb) >
		     sizeof_field(struct sk_buff, cb));
	/* 6.1's inet6_create() finds the IPv6 part at the object's end. */
	BUILD_BUG_ON(offsetof(struct etcp6_sock, inet6) !=
		     sizeof(struct etcp6_sock) - sizeof(struct ipv6_pinfo));
}

static int __init etcp_init(void)
{
	int err;

	etcp_check_layout();

	if (etcp_proto_num != 253 && etcp_proto_num != 254) {
		pr_err("proto=%d: only 253 and 254 (RFC 3692) may be used\n",
		       etcp_proto_num);
		return -EINVAL;
	}

	etcp_hash_init();
	err = etcp_minisocks_init();
	if (err)
		return err;

	etcp_proto_v6_fill();
	err = proto_register(&etcp_prot, 1);
	if (err)
		goto err_minisocks;
	err = proto_register(&etcpv6_prot, 1);
	if (err)
		goto err_proto;

	err = register_pernet_subsys(&etcp_net_ops);
	if (err)
		goto err_proto6;
	etcp_isn_param_enable(true);

	err = etcp_offload_init();
	if (err) {
		pr_err("IP protocol %d has an offload already\n",
		       etcp_proto_num);
		goto err_pernet;
	}
	if (inet_add_protocol(&etcp_protocol, etcp_proto_num)) {
		pr_err("IP protocol %d is already taken\n", etcp_proto_num);
		err = -EBUSY;
		goto err_offload;
	}

	etcp_protosw.protocol = etcp_proto_num;
	inet_register_protosw(&etcp_protosw);

	err = etcp_v6_init();
	if (err)
		goto err_v4;

	pr_info("registered on IP protocol %d\n", etcp_proto_num);
	return 0;

err_v4:
	inet_unregister_protosw(&etcp_protosw);
	inet_del_protocol(&etcp_protocol, etcp_proto_num);
	synchronize_net();
err_offload:
	etcp_offload_exit();
err_pernet:
	etcp_isn_param_enable(false);
	unregister_pernet_subsys(&etcp_net_ops);
err_proto6:
	proto_unregister(&etcpv6_prot);
err_proto:
	proto_unregister(&etcp_prot);
err_minisocks:
	etcp_minisocks_exit();
	return err;
}

static void __exit etcp_exit(void)
{
	/* No new sockets; waits for RCU readers of the switch table. */
	etcp_v6_exit();
	inet_unregister_protosw(&etcp_protosw);
	inet_del_protocol(&etcp_protocol, etcp_proto_num);
	/* Segments already inside etcp_v4_rcv() finish before tables go. */
	synchronize_net();
	etcp_offload_exit();
	etcp_isn_param_enable(false);
	unregister_pernet_subsys(&etcp_net_ops);
	proto_unregister(&etcpv6_prot);
	proto_unregister(&etcp_prot);
	etcp_minisocks_exit();
}

module_init(etcp_init);
module_exit(etcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("etcp: experimental transport mirroring TCP's state machine");
MODULE_AUTHOR("The etcp developers");
/*
 * socket(AF_INET or AF_INET6, SOCK_STREAM, 253) loads the module;
 * inet_create() and inet6_create() ask for both names.  The type is
 * spelled as a number because the alias is built by stringification and
 * SOCK_STREAM is an enumerator, not a macro.
 */
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET, IPPROTO_ETCP, 1);
MODULE_ALIAS_NET_PF_PROTO(PF_INET, IPPROTO_ETCP);
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET6, IPPROTO_ETCP, 1);
MODULE_ALIAS_NET_PF_PROTO(PF_INET6, IPPROTO_ETCP);
