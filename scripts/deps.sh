#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages etcp's build, test VM and selftests need.
# Idempotent: when everything is present it only checks and returns.
#
# The 6.12 kernel comes from bookworm-backports, which this script adds to
# apt's sources when it is missing.  The 7.2 kernel and the Debian 13
# toolchain that builds for it live in a debootstrap'd root of their own
# (scripts/trixie-root.sh).
set -euo pipefail

KERNELS=$(dirname "${BASH_SOURCE[0]}")/kernels.sh

# Packages with fixed names.
PKGS=(
	build-essential kmod bc cpio xz-utils zstd gzip
	sparse
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	qemu-system-x86 busybox-static
	iproute2 nftables tcpdump tshark
	procps python3
	# selftests/etcp_run.sh: real programs under tools/etcp-run
	curl socat iperf3
	# selftests/etcp_bpftrace.sh: the README's bpftrace one-liner
	bpftrace
	# make check builds etcp with DKMS (dkms.conf)
	dkms
	# scripts/trixie-root.sh (the 7.2 kernel's Debian 13 root)
	debootstrap
	# scripts/debug-kernel.sh (the KASAN/lockdep/kmemleak kernel)
	flex bison perl lz4 libelf-dev libssl-dev
)

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: must run as root to install packages" >&2
		exit 1
	fi
}

have_backports() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

add_backports() {
	cat >/etc/apt/sources.list.d/etcp-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

# Newest 6.12 image/headers pair in the apt lists (e.g. 6.12.57+deb12-amd64).
pick_612() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
		awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n 1
}

all_present() {
	local p
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || return 1
	done
	"$KERNELS" 6.12 >/dev/null 2>&1 && have_backports &&
		"$(dirname "$KERNELS")/trixie-root.sh" --check
}

main() {
	if all_present; then
		echo "deps: all packages present"
		return 0
	fi
	need_root
	export DEBIAN_FRONTEND=noninteractive
	have_backports || add_backports
	apt-get update -qq
	# tshark asks whether non-root users may capture; the answer does not matter here.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
		debconf-set-selections
	apt-get install -y -qq --no-install-recommends "${PKGS[@]}" >/dev/null
	local v
	v=$(pick_612)
	if [ -z "$v" ]; then
		echo "deps: no linux-headers-6.12.*-amd64 in bookworm-backports" >&2
		exit 1
	fi
	apt-get install -y -qq --no-install-recommends \
		"linux-image-$v" "linux-headers-$v" >/dev/null
	"$(dirname "$KERNELS")/trixie-root.sh"
	echo "deps: installed the kernels" $("$KERNELS")
}

main "$@"
