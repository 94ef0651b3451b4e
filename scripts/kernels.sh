#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernels etcp supports, and the one place that says which they are:
#
#   scripts/kernels.sh               every supported kernel, one release a
#                                    line, oldest series first (the default)
#   scripts/kernels.sh NAME          the supported kernel NAME names: a
#                                    release as uname -r prints it, or a
#                                    series (6.1, 6.12, 7.2)
#   scripts/kernels.sh --root NAME   the root its headers, image and modules
#                                    live under: / for the host's own
#   scripts/kernels.sh --image NAME  its kernel image (vmlinuz)
#   scripts/kernels.sh --trixie-root the Debian 13 root scripts/deps.sh keeps
#
# A supported kernel is the newest Debian kernel of a supported series
# that has both an image and headers under its root.  6.1 and 6.12 are
# the host's (bookworm, bookworm-backports).  7.2 comes from
# trixie-backports and needs Debian 13's gcc 14 and kbuild tools, so it
# lives in a debootstrap'd Debian 13 root (ETCP_TRIXIE_ROOT, default
# /var/cache/etcp/trixie) with its image and modules unpacked there;
# builds for it run chrooted into that root (scripts/in-root.sh).
# scripts/deps.sh installs them all.  Exit 1 when there is none (or NAME
# names none).
set -euo pipefail

TRIXIE_ROOT=${ETCP_TRIXIE_ROOT:-/var/cache/etcp/trixie}

# The supported series: the root each lives under, and the release names
# Debian gives it.
SERIES=(
	"/ 6.1.*-amd64"
	"/ 6.12.*+deb12-amd64"
	"$TRIXIE_ROOT 7.2.*+deb13-amd64"
)

# image ROOT RELEASE: the kernel image; bookworm keeps it in /boot, Debian
# 13's 7.x packages in the release's module directory.
image() {
	local r=${1%/} f
	for f in "$r/boot/vmlinuz-$2" "$r/lib/modules/$2/vmlinuz"; do
		if [ -e "$f" ]; then
			echo "$f"
			return
		fi
	done
	return 1
}

# newest ROOT PATTERN: the newest release matching PATTERN with headers
# and an image under ROOT.
newest() {
	local r=${1%/} v best=
	for v in $(ls -d "$r"/usr/src/linux-headers-$2 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V); do
		image "$1" "$v" >/dev/null && best=$v
	done
	[ -n "$best" ] && echo "$best"
}

# Every supported kernel, "ROOT RELEASE" a line.
supported() {
	local s
	for s in "${SERIES[@]}"; do
		newest $s | sed "s|^|${s%% *} |" || true
	done
}

# find NAME: the "ROOT RELEASE" line NAME names.
find_kernel() {
	local all r k
	all=$(supported)
	if [ -z "$all" ]; then
		echo "kernels.sh: no supported kernel installed; run scripts/deps.sh" >&2
		exit 1
	fi
	while read -r r k; do
		if [ "$k" = "$1" ] || [[ $k == "$1".* ]]; then
			echo "$r $k"
			return
		fi
	done <<<"$all"
	echo "kernels.sh: '$1' names none of the supported kernels:" $(cut -d' ' -f2 <<<"$all") >&2
	exit 1
}

main() {
	local r k line
	case ${1:-} in
	"")
		r=$(supported)
		if [ -z "$r" ]; then
			echo "kernels.sh: no supported kernel installed; run scripts/deps.sh" >&2
			exit 1
		fi
		cut -d' ' -f2 <<<"$r"
		;;
	--trixie-root) echo "$TRIXIE_ROOT" ;;
	--root)
		line=$(find_kernel "${2:?--root needs a kernel}")
		echo "${line%% *}"
		;;
	--image)
		line=$(find_kernel "${2:?--image needs a kernel}")
		image $line
		;;
	-*) echo "kernels.sh: unknown option $1" >&2; exit 2 ;;
	*)
		line=$(find_kernel "$1")
		echo "${line#* }"
		;;
	esac
}

main "$@"
