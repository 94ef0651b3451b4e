#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# etcp-run PROGRAM [ARGS...]: run PROGRAM with its TCP sockets on etcp.
#
# Preloads libetcp-run.so (found next to this script, through symbolic
# links; ETCP_RUN_LIB names another) in front of any LD_PRELOAD already
# set, and execs PROGRAM; the programs it starts inherit it.  Knobs, in
# the environment: ETCP_RUN_DEBUG=1 (say on stderr what is moved and
# mapped), ETCP_RUN_PROTO=254 (etcp loaded with proto=254),
# ETCP_RUN_IPV6=0 (leave IPv6 sockets on TCP).  See the README.

usage() {
	echo "usage: etcp-run [--] PROGRAM [ARGS...]" >&2
	exit 2
}

case ${1-} in
-h | --help) usage ;;
--) shift ;;
-*) usage ;;
esac
[ $# -ge 1 ] || usage

if [ -n "${ETCP_RUN_LIB-}" ]; then
	lib=$ETCP_RUN_LIB
else
	self=$(readlink -f -- "$0") || exit 1
	lib=${self%/*}/libetcp-run.so
fi
case $lib in
/*) ;;
*) lib=$(pwd)/$lib ;;
esac
if [ ! -r "$lib" ]; then
	echo "etcp-run: $lib not found (make tools)" >&2
	exit 127
fi
# ld.so splits LD_PRELOAD at blanks and colons.
case $lib in
*[\ \	:]*)
	echo "etcp-run: the library's path '$lib' has a blank or a colon, which LD_PRELOAD cannot hold" >&2
	exit 127
	;;
esac

LD_PRELOAD=$lib${LD_PRELOAD:+ $LD_PRELOAD}
export LD_PRELOAD
exec "$@"
