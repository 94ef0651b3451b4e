#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian 13 root the 7.2 kernel lives in (scripts/kernels.sh
# --trixie-root, default /var/cache/etcp/trixie): made once with
# debootstrap, about two minutes, then kept.
#
#   scripts/trixie-root.sh           make it, or add what it lacks
#   scripts/trixie-root.sh --check   exit 0 when it is complete
#
# trixie-backports carries Linux 7.2, built with Debian 13's gcc 14; its
# kbuild tools (fixdep, modpost) are Debian 13 binaries, and bookworm's
# gcc 12 is not expected to build for 7.x.  So the root holds:
#   - gcc, make and kmod from trixie, and the newest 7.2.*+deb13-amd64
#     headers from trixie-backports (etcp.ko is built chrooted here:
#     scripts/in-root.sh);
#   - that kernel's image and modules, unpacked from linux-binary-* and
#     linux-modules-* and depmod'ed, for the test VM to boot (it mounts
#     this /lib/modules as the guest's own);
#   - sparse from unstable in /usr/local/bin: trixie's 0.6.4 cannot parse
#     7.x headers (__typeof_unqual__), 0.6.5~rc1 can;
#   - scripts/checker-valid.sh in the headers, which Debian's package
#     lacks and kbuild runs before it uses C=1/C=2.
# A later 7.2 upload is picked up by deleting the root (or its headers);
# nothing here names an upload.  Needs root and Debian's mirror.
set -euo pipefail

KERNELS=$(dirname "${BASH_SOURCE[0]}")/kernels.sh
ROOT=$("$KERNELS" --trixie-root)
MIRROR=${ETCP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SERIES_PKG='^linux-headers-7\.2\.[0-9]+\+deb13-amd64$'

say() { echo "trixie-root: $*" >&2; }

in_root() {
	chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive LANG=C "$@"
}

# apt-get in the root, quiet unless it fails.  No /dev/pts there (dpkg
# complains it cannot log) and no _apt user for downloads to /var/cache.
apt_root() {
	local log=$ROOT.apt.log
	if ! in_root apt-get -qq -o APT::Sandbox::User=root "$@" >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		say "apt-get $* failed (log: $log)"
		exit 1
	fi
}

# The headers' release (7.2.12+deb13-amd64), when they are installed.
headers_release() {
	ls -d "$ROOT"/usr/src/linux-headers-7.2.*+deb13-amd64 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1
}

complete() {
	local v
	v=$(headers_release)
	[ -n "$v" ] && "$KERNELS" "$v" >/dev/null 2>&1 &&
		[ -x "$ROOT/usr/local/bin/sparse" ] &&
		[ -x "$ROOT/usr/src/linux-headers-$v/scripts/checker-valid.sh" ]
}

bootstrap() {
	local tmp=$ROOT.new
	[ -x "$ROOT/bin/sh" ] && return
	say "debootstrap of Debian 13 into $ROOT (once, about two minutes)"
	rm -rf "$tmp"
	debootstrap --variant=minbase --include=make,gcc,libc6-dev,kmod,ca-certificates \
		trixie "$tmp" "$MIRROR" >"$tmp.log" 2>&1 ||
		{ tail -n 20 "$tmp.log" >&2; say "debootstrap failed (log: $tmp.log)"; exit 1; }
	mv "$tmp" "$ROOT"
	rm -f "$tmp.log"
}

# trixie-backports for the kernel; unstable only on request (pin 1), for
# sparse.
sources() {
	# Mirrors that lag (a snapshot) serve an unstable Release past its
	# Valid-Until; sparse from it is still the one wanted.
	cat >"$ROOT/etc/apt/sources.list.d/etcp.sources" <<SRC
Types: deb
URIs: $MIRROR
Suites: trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $MIRROR
Suites: unstable
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no
SRC
	cat >"$ROOT/etc/apt/preferences.d/etcp-unstable" <<'PIN'
Package: *
Pin: release a=unstable
Pin-Priority: 1
PIN
	apt_root update
}

# download DIR PKG...: the packages' .debs into DIR of the root.
download() {
	local dir=$1
	shift
	mkdir -p "$ROOT$dir"
	in_root sh -c 'cd "$0" && exec apt-get download -qq -o APT::Sandbox::User=root "$@"' \
		"$dir" "$@" || { say "cannot download $*"; exit 1; }
}

# The newest 7.2 upload: headers installed, image and modules unpacked.
kernel() {
	local v dir=/var/cache/etcp-debs
	v=$(in_root apt-cache search --names-only "$SERIES_PKG" | awk '{print $1}' |
		sed 's/^linux-headers-//' | sort -V | tail -n 1)
	[ -n "$v" ] || { say "no linux-headers-7.2.*+deb13-amd64 in trixie-backports"; exit 1; }
	say "Linux $v: headers, image and modules"
	apt_root install -y --no-install-recommends "linux-headers-$v"
	download "$dir" "linux-binary-$v" "linux-modules-$v"
	for deb in "$ROOT$dir"/linux-{binary,modules}-"$v"_*.deb; do
		dpkg-deb -x "$deb" "$ROOT"
	done
	rm -rf "${ROOT:?}$dir"
	in_root depmod "$v"
}

# kbuild asks scripts/checker-valid.sh whether the checker works; Debian's
# headers package does not ship it (7.2.12).  Ours: does it run?
checker_valid() {
	local f=$1/scripts/checker-valid.sh
	[ -e "$f" ] && return
	cat >"$f" <<'SH'
#!/bin/sh
# Written by etcp's scripts/trixie-root.sh: Debian's headers package lacks
# it.  Prints 1 when the checker runs with the given flags.
"$@" -E /dev/null >/dev/null 2>&1 && echo 1
SH
	chmod +x "$f"
}

install_sparse() {
	local dir=/var/cache/etcp-debs
	[ -x "$ROOT/usr/local/bin/sparse" ] && return
	download "$dir" sparse/unstable
	dpkg-deb -x "$ROOT$dir"/sparse_*.deb "$ROOT$dir/x"
	install -m 755 "$ROOT$dir/x/usr/bin/sparse" "$ROOT/usr/local/bin/sparse"
	rm -rf "${ROOT:?}$dir"
	in_root sparse --version >/dev/null
}

main() {
	if [ "${1:-}" = --check ]; then
		complete
		return
	fi
	complete && return
	[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 1; }
	mkdir -p "$(dirname "$ROOT")"
	exec 9>"$ROOT.lock"
	flock 9
	complete && return
	bootstrap
	sources
	[ -n "$(headers_release)" ] && "$KERNELS" 7.2 >/dev/null 2>&1 || kernel
	install_sparse
	checker_valid "$ROOT/usr/src/linux-headers-$(headers_release)"
	complete || { say "the root is still incomplete"; exit 1; }
	say "ready: $("$KERNELS" 7.2)"
}

main "$@"
