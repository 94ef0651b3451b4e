#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build, once, the etcp debug kernel: Debian's 6.1 source (linux-source-6.1)
# with KASAN, kmemleak, lockdep, debug objects and the networking reference
# trackers, and everything the test VM needs built in.
#
#   scripts/debug-kernel.sh [-v] [--prune]
#   scripts/debug-kernel.sh --path
#
# Prints the kernel tree's path as the last line of stdout.  The tree is a
# complete in-tree build (vmlinux, arch/x86/boot/bzImage, Module.symvers,
# include/config/kernel.release) and serves as KDIR for external modules
# (make module KDIR=TREE puts etcp.ko in build/<release>/) and as the
# kernel of the test VM (scripts/vm.sh -K TREE).
#
# The tree is cached as ${ETCP_CACHE:-/var/cache/etcp}/debug-kernel-HASH, HASH
# covering this script, scripts/debug-kernel.config, the source tarball
# (package version, size, mtime) and the compiler and linker versions: an
# unchanged setup reuses it (in well under a second, from any clone of the
# repository), a changed one builds anew.  The build (~20 min, 2 jobs)
# happens in a temporary directory next to it that is renamed on success;
# concurrent runs for the same HASH wait for each other.  The log is
# CACHE/debug-kernel-HASH.log; its tail is printed when the build fails.
#
#   -v       also stream the build log to stderr
#   --prune  afterwards delete the cache's other debug-kernel-* trees and
#            logs (each several GB) that no running build holds
#   --path   print the tree's path without building; exit 1 if not built
#
# Exit status: 0 with the path printed; 1 when the build failed; 2 for usage
# errors and missing prerequisites.
#
# Env: ETCP_CACHE (cache directory), ETCP_JOBS (make -j, default 2),
# ETCP_LINUX_TARBALL (default /usr/src/linux-source-6.1.tar.xz).
set -euo pipefail

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")
FRAGMENT=$(dirname "$SELF")/debug-kernel.config
CACHE=${ETCP_CACHE:-/var/cache/etcp}
JOBS=${ETCP_JOBS:-2}
TARBALL=${ETCP_LINUX_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
SRC_PKG=linux-source-6.1
LOCALVERSION_WANTED=-etcp-debug

VERBOSE=0
PRUNE=0
PATH_ONLY=0
TMP=
LOG=

# Whatever the caller's make or environment carries must not reach the
# kernel build (make check C=2 would run sparse over the whole kernel).
unset MAKEFLAGS MFLAGS MAKEOVERRIDES MAKELEVEL GNUMAKEFLAGS \
	ARCH CROSS_COMPILE LLVM CC LD HOSTCC KBUILD_OUTPUT KBUILD_EXTMOD \
	KCONFIG_CONFIG LOCALVERSION INSTALL_MOD_PATH O C W V M KDIR KVER

say() { echo "debug-kernel.sh: $*" >&2; }
die() { say "$*"; exit 2; }

usage() {
	sed -n '/^#   scripts/,/^#   scripts\/debug-kernel.sh --path/p' "$SELF" | sed 's/^#   //' >&2
	exit "${1:-2}"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		-v) VERBOSE=1 ;;
		--prune) PRUNE=1 ;;
		--path) PATH_ONLY=1 ;;
		-h|--help) usage 0 ;;
		*) say "unknown argument $1"; usage ;;
		esac
		shift
	done
	[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "ETCP_JOBS wants a number, got '$JOBS'"
}

# ---------------------------------------------------------------- cache key

key_inputs() {
	[ -f "$TARBALL" ] || die "no kernel source $TARBALL (apt-get install $SRC_PKG, or scripts/deps.sh)"
	[ -f "$FRAGMENT" ] || die "no config fragment $FRAGMENT"
	echo "script $(sha256sum <"$SELF" | cut -d' ' -f1)"
	echo "fragment $(sha256sum <"$FRAGMENT" | cut -d' ' -f1)"
	echo "source $TARBALL $(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null || true)" \
		"$(stat -L -c '%s %Y' "$TARBALL")"
	echo "cc $(gcc --version | head -n 1)"
	echo "ld $(ld --version | head -n 1)"
}

# ---------------------------------------------------------------- build

check_prerequisites() {
	local missing=() t
	for t in gcc make flex bison bc perl tar xz lz4 openssl; do
		command -v "$t" >/dev/null || missing+=("$t")
	done
	# objtool (ORC unwinder) needs libelf; extract-cert needs OpenSSL.
	[ -f /usr/include/gelf.h ] || missing+=(libelf-dev)
	[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
	[ ${#missing[@]} -eq 0 ] ||
		die "missing build prerequisites: ${missing[*]} (Debian: apt-get install flex bison bc lz4 libelf-dev libssl-dev)"
}

# Run a command with its output in the log (and on stderr with -v).
run() {
	echo "+ $*" >>"$LOG"
	if [ "$VERBOSE" = 1 ]; then
		"$@" 2>&1 | tee -a "$LOG" >&2
		return "${PIPESTATUS[0]}"
	fi
	"$@" >>"$LOG" 2>&1
}

# Every line of the fragment must be in the final .config as written:
# olddefconfig silently drops what a dependency rules out.
check_config() {
	local tree=$1 line sym got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*} ;;
		'# CONFIG_'*' is not set') sym=${line#\# }; sym=${sym%% *} ;;
		*) continue ;;
		esac
		grep -qxF -- "$line" "$tree/.config" && continue
		got=$(grep -E "^(# )?${sym}[= ]" "$tree/.config" | head -n 1 || true)
		echo "config: wanted '$line', got '${got:-nothing}'" | tee -a "$LOG" >&2
		bad=1
	done <"$FRAGMENT"
	return "$bad"
}

# An external module must build against the tree: the same path etcp.ko
# takes (make -C TREE M=DIR modules).
check_external_module() {
	local tree=$1 dir=$1/.etcp-smoke
	mkdir -p "$dir"
	cat >"$dir/smoke.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>
static int __init smoke_init(void) { return 0; }
static void __exit smoke_exit(void) { }
module_init(smoke_init);
module_exit(smoke_exit);
MODULE_LICENSE("GPL");
EOF
	echo 'obj-m := smoke.o' >"$dir/Kbuild"
	run make -C "$tree" M="$dir" modules || return 1
	[ -f "$dir/smoke.ko" ] || return 1
	rm -rf "$dir"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	if [ -n "$TMP" ]; then
		rm -rf "$TMP"
	fi
}

build() {
	local final=$1 start=$SECONDS release
	check_prerequisites
	LOG=$final.log
	TMP=$(mktemp -d "$CACHE/.$(basename "$final").XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: >"$LOG"
	say "building $(basename "$final") from $TARBALL with $JOBS jobs; about 20 min on 2 idle cores (log: $LOG)"
	{
		run tar -xJf "$TARBALL" -C "$TMP" --strip-components=1 &&
		key_inputs >"$TMP/etcp-debug-kernel.key" &&
		run make -C "$TMP" defconfig &&
		run make -C "$TMP" kvm_guest.config &&
		run env -C "$TMP" scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" &&
		run make -C "$TMP" olddefconfig &&
		check_config "$TMP" &&
		run make -C "$TMP" -j "$JOBS" &&
		check_external_module "$TMP"
	} || {
		say "build failed after $(((SECONDS - start) / 60)) min; the end of $LOG:"
		tail -n 40 "$LOG" >&2
		exit 1
	}
	release=$(cat "$TMP/include/config/kernel.release")
	case $release in
	*"$LOCALVERSION_WANTED") ;;
	*) say "unexpected kernel release '$release'"; exit 1 ;;
	esac
	local f
	for f in vmlinux arch/x86/boot/bzImage Module.symvers; do
		[ -s "$TMP/$f" ] || { say "build left no $f"; exit 1; }
	done
	chmod 755 "$TMP"
	mv -T "$TMP" "$final"
	TMP=
	say "built $release in $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s: $final"
}

# ---------------------------------------------------------------- prune

# Delete the other trees, logs and leftovers of the cache whose build lock
# nobody holds.
prune() {
	local keep=$1 lock h
	for lock in "$CACHE"/debug-kernel-*.lock; do
		[ -e "$lock" ] || continue
		h=$(basename "$lock" .lock)
		[ "$h" = "$keep" ] && continue
		(
			exec 7>>"$lock"
			flock -n 7 || { say "prune: $h is in use, kept"; exit 0; }
			rm -rf "${CACHE:?}/$h" "$CACHE/.$h".* "$CACHE/$h.log"
			rm -f "$lock"
			say "pruned $CACHE/$h"
		)
	done
}

main() {
	local name final
	parse_args "$@"
	name=debug-kernel-$(key_inputs | sha256sum | cut -c 1-16)
	final=$CACHE/$name
	if [ "$PATH_ONLY" = 1 ]; then
		echo "$final"
		[ -f "$final/include/config/kernel.release" ]
		return
	fi
	if [ ! -d "$final" ]; then
		mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
		exec 9>>"$final.lock" || die "cannot write to $CACHE"
		if ! flock -n 9; then
			say "waiting for another build of $name"
			flock 9
		fi
		[ -d "$final" ] || build "$final"
		flock -u 9
	fi
	[ "$PRUNE" = 1 ] && prune "$name"
	echo "$final"
}

# On one line: bash reads a script as it runs it, and this script may be
# replaced while an instance runs.
main "$@"; exit
