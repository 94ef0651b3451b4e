#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install: put a built etcp where a system finds it.
#
#   scripts/install.sh -k KVER -m MODULE_KO [-t TOOLS_DIR] [-d DESTDIR]
#   scripts/install.sh --dkms-src VERSION [-d DESTDIR]
#
# The first form installs, under DESTDIR (default /):
#   lib/modules/KVER/extra/etcp.ko   then depmod -b DESTDIR KVER, so that
#                                    modprobe etcp, and the first
#                                    socket(AF_INET, SOCK_STREAM, 253), load it
#   lib/modules/KVER/extra/etcp_diag.ko  when it was built next to
#                                    MODULE_KO: sock_diag's handler, which
#                                    inet_diag loads by its alias (ss, etcp-ss)
#   usr/include/linux/etcp.h         the uapi header (SOL_ETCP, etcp_info)
#   usr/share/man/man7/etcp.7        the manual page
#   usr/lib/etcp/etcp-run, libetcp-run.so, and usr/bin/etcp-run linked to
#                                    the first (it finds the library next
#                                    to itself): with -t, make tools' output
#   usr/bin/etcp-ss                  with -t as well
# A DESTDIR that is not a whole system (a staging root) gets the empty
# modules.order and modules.builtin files depmod and modprobe want there.
#
# --dkms-src copies the module's sources and dkms.conf (its version set to
# VERSION) to DESTDIR/usr/src/etcp-VERSION, where `dkms add etcp/VERSION`
# (then `dkms install etcp/VERSION`) takes them.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
DESTDIR=/
KVER=
KO=
TOOLS=
DKMS_VERSION=

die() {
	echo "install.sh: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	-d) DESTDIR=${2:?-d needs a directory}; shift 2 ;;
	-k) KVER=${2:?-k needs a kernel release}; shift 2 ;;
	-m) KO=${2:?-m needs a module file}; shift 2 ;;
	-t) TOOLS=${2:?-t needs a directory}; shift 2 ;;
	--dkms-src) DKMS_VERSION=${2:?--dkms-src needs a version}; shift 2 ;;
	*) die "unknown argument $1" ;;
	esac
done

# The sources kbuild needs (the Makefile's SRCS), and dkms.conf.
dkms_src() {
	local dst=$DESTDIR/usr/src/etcp-$DKMS_VERSION

	rm -rf "$dst"
	mkdir -p "$dst"
	(cd "$REPO" && cp -p --parents Kbuild module/*.c module/*.h \
		include/uapi/linux/etcp.h "$dst/")
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$DKMS_VERSION\"/" \
		"$REPO/dkms.conf" >"$dst/dkms.conf"
	echo "$dst"
}

# What depmod -b and modprobe -d read besides the modules themselves.
staging_files() {
	local dir=$DESTDIR/lib/modules/$KVER f

	[ "$(cd "$DESTDIR" && pwd -P)" = / ] && return
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -e "$dir/$f" ] || : >"$dir/$f"
	done
}

if [ -n "$DKMS_VERSION" ]; then
	dkms_src
	exit 0
fi

[ -n "$KVER" ] || die "-k KVER is required"
[ -n "$KO" ] || die "-m MODULE_KO is required"
[ -r "$KO" ] || die "$KO: no such module (make module KVER=$KVER first)"

install -D -m 0644 "$KO" "$DESTDIR/lib/modules/$KVER/extra/etcp.ko"
if [ -f "${KO%/*}/etcp_diag.ko" ]; then
	install -D -m 0644 "${KO%/*}/etcp_diag.ko" "$DESTDIR/lib/modules/$KVER/extra/etcp_diag.ko"
fi
install -D -m 0644 "$REPO/include/uapi/linux/etcp.h" "$DESTDIR/usr/include/linux/etcp.h"
install -D -m 0644 "$REPO/man/etcp.7" "$DESTDIR/usr/share/man/man7/etcp.7"
if [ -n "$TOOLS" ]; then
	install -D -m 0755 "$TOOLS/etcp-run" "$DESTDIR/usr/lib/etcp/etcp-run"
	install -D -m 0644 "$TOOLS/libetcp-run.so" "$DESTDIR/usr/lib/etcp/libetcp-run.so"
	mkdir -p "$DESTDIR/usr/bin"
	ln -sf ../lib/etcp/etcp-run "$DESTDIR/usr/bin/etcp-run"
	install -D -m 0755 "$TOOLS/etcp-ss" "$DESTDIR/usr/bin/etcp-ss"
fi
staging_files
depmod -b "$DESTDIR" "$KVER"
echo "installed etcp for $KVER under $DESTDIR"
