#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one of the host's Debian kernels, a supported kernel that lives in
# another Debian root (7.2: scripts/kernels.sh --root), or a kernel build
# tree (-K) in qemu (TCG), load etcp.ko and run a command as root inside,
# with the host's root file system as the guest's.  A kernel from another
# root brings its /lib/modules: the guest mounts it over the host's.
#
#   scripts/vm.sh [-k KVER | -K KTREE] [-t TIMEOUT_S] [-o OUTDIR] [-m MODULE_KO]
#                 [-a "MODPARAMS"] [--no-load] [--no-kmemleak] -- CMD [ARGS...]
#   scripts/vm.sh --check-log FILE
#
# -K boots the kernel of a build tree (scripts/debug-kernel.sh prints one):
# its vmlinux (PVH) or arch/x86/boot/bzImage, KVER being the tree's
# include/config/kernel.release.  Such a kernel has no /lib/modules, so
# virtio PCI and 9p must be built in; so must whatever the command needs.
#
# The guest sees the host's / read-only over virtio-9p, plus two read-write 9p
# shares mounted at the same absolute paths as on the host: the repository
# top directory and OUTDIR.  tmpfs covers /tmp and /run, so the guest can
# write there without touching the host.  The command runs as root with
# cwd = repository top, ETCP_KO and ETCP_KVER exported, stdin /dev/null.
# etcp_diag.ko (sock_diag), when it is next to the module, is loaded after
# it, inet_diag first (modprobe: the kernel's own module), and goes along
# into OUTDIR when the module is copied there.
#
# OUTDIR (default build/vm/KVER/run) receives console.log (whole serial
# console), output.log (the command's stdout+stderr), dmesg.txt (the guest's
# kernel log after the command) and rc (the command's exit status).
#
# On a kernel with kmemleak (/sys/kernel/debug/kmemleak), unless
# --no-kmemleak: after the command two scans run (the second at least 5 s
# after the command ended: kmemleak reports only objects that old, and only
# when two scans found them unreferenced and unchanged) and the report goes
# to OUTDIR/kmemleak.txt.  A suspected leak fails the run like a splat.  The
# scans take a while under TCG (~30 s on the debug kernel).  A clean boot of
# scripts/debug-kernel.sh's kernel reports nothing, so there is no scan
# before the command.  With -K, --no-kmemleak also boots with kmemleak=off,
# which makes that kernel about twice as fast.
#
# Exit status: the command's, when it finished and the kernel log is clean;
# 1 when the command succeeded but the kernel log has a splat or kmemleak
# reported a leak; 124 when the guest did not finish in time; 125 when the
# guest never ran the command to completion (panic, boot failure); 2 for
# usage or host-side setup errors.
# --check-log returns 0 for a clean log, 1 for a dirty one (and prints the
# offending lines), 2 when FILE is missing.
#
# Env: VM_APPEND adds to the kernel command line; VM_QEMU_ARGS adds qemu
# arguments (word-split).
set -euo pipefail

# Kernel command line.  loglevel=5 keeps info chatter off the console but
# shows warnings and errors.  panic=-1 reboots at once on panic, which
# -no-reboot turns into qemu exiting.  No panic_on_warn: a warning must not
# stop the remaining tests; the log scan attributes it instead.
KERNEL_ARGS=(
	console=ttyS0 loglevel=5 log_buf_len=4M
	panic=-1 oops=panic softlockup_panic=1 hung_task_panic=1
)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SELF="$REPO/scripts/$(basename "${BASH_SOURCE[0]}")"
# Kernel log lines that fail a run: one list for this script and
# selftests/run.sh.
SPLAT_PATTERNS_FILE="$REPO/selftests/splat-patterns"

KVER=
KROOT=
KTREE=
TIMEOUT=600
OUTDIR=
MODULE_KO=
MODPARAMS=
LOAD=1
KMEMLEAK=1
CMD=()

say() { echo "vm.sh: $*" >&2; }
die() { say "$*"; exit 2; }

usage() {
	sed -n '/^#   scripts/,/^#   scripts\/vm.sh --check/p' "$SELF" | sed 's/^#   //' >&2
	exit "${1:-2}"
}

# ---------------------------------------------------------------- log check

# Print the splat lines of FILE (at most 50); return 1 if there are any.
check_log() {
	local file=$1 hits
	[ -f "$file" ] || { say "no such log: $file"; return 2; }
	hits=$(tr -d '\r' <"$file" |
		grep -E -f <(grep -v -e '^#' -e '^$' "$SPLAT_PATTERNS_FILE" | cut -f1) || true)
	[ -z "$hits" ] && return 0
	say "kernel log $file has $(wc -l <<<"$hits") bad line(s):"
	head -n 50 <<<"$hits" >&2
	return 1
}

# ---------------------------------------------------------------- arguments

# -k takes a release as uname -r prints it (any kernel in /boot), or a
# supported kernel's release or series (6.1, 6.12, 7.2: scripts/kernels.sh).
resolve_kver() {
	local k=$1
	if [ -e "/boot/vmlinuz-$k" ]; then
		echo "$k"
		return
	fi
	"$REPO/scripts/kernels.sh" "$k" || die "no kernel /boot/vmlinuz-$1"
}

# The root a -k kernel's image and modules live under (scripts/kernels.sh
# --root): empty for the host's own, else a Debian root of its series
# (7.2's), whose /lib/modules the guest then sees as its own.
resolve_kroot() {
	local r
	[ ! -e "/boot/vmlinuz-$KVER" ] || return 0
	r=$("$REPO/scripts/kernels.sh" --root "$KVER") || die "no root for kernel $KVER"
	[ "$r" = / ] || echo "${r%/}"
}

# The kernel's file $1 (vmlinuz, config) under its root: bookworm keeps it
# in /boot, Debian 13's 7.x packages in the release's module directory.
kfile() {
	local f
	for f in "$KROOT/boot/$1-$KVER" "$KROOT/lib/modules/$KVER/$1"; do
		[ -e "$f" ] && { echo "$f"; return; }
	done
	echo "$KROOT/boot/$1-$KVER"
}

# A kernel build tree (-K): absolute, configured, built, 9p built in.
# Print its release.
tree_kver() {
	local cfg=$KTREE/.config sym
	{ [ -s "$KTREE/include/config/kernel.release" ] && [ -f "$cfg" ]; } ||
		die "-K $KTREE: not a configured kernel tree (no include/config/kernel.release)"
	[ -f "$KTREE/vmlinux" ] || [ -f "$KTREE/arch/x86/boot/bzImage" ] ||
		die "-K $KTREE: no vmlinux or arch/x86/boot/bzImage (build the kernel first)"
	for sym in VIRTIO_PCI NET_9P NET_9P_VIRTIO 9P_FS DEVTMPFS TMPFS; do
		grep -qx "CONFIG_$sym=y" "$cfg" ||
			die "-K $KTREE: CONFIG_$sym must be built in (=y): the guest loads no modules but etcp"
	done
	cat "$KTREE/include/config/kernel.release"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		-k) KVER=${2:?-k needs a kernel version}; shift 2 ;;
		-K) KTREE=${2:?-K needs a kernel build tree}; shift 2 ;;
		-t) TIMEOUT=${2:?-t needs seconds}; shift 2 ;;
		-o) OUTDIR=${2:?-o needs a directory}; shift 2 ;;
		-m) MODULE_KO=${2:?-m needs a module file}; shift 2 ;;
		-a) MODPARAMS=${2?-a needs parameters}; shift 2 ;;
		--no-load) LOAD=0; shift ;;
		--no-kmemleak) KMEMLEAK=0; shift ;;
		--check-log) [ $# -eq 2 ] || usage; check_log "$2"; exit ;;
		-h|--help) usage 0 ;;
		--) shift; break ;;
		-*) say "unknown option $1"; usage ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || { say "no command given"; usage; }
	CMD=("$@")
	[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "-t wants whole seconds, got '$TIMEOUT'"
	if [ -n "$KTREE" ]; then
		[ -z "$KVER" ] || die "-k and -K exclude each other"
		[ -d "$KTREE" ] || die "-K $KTREE: no such directory"
		KTREE=$(cd "$KTREE" && pwd -P)
		KVER=$(tree_kver)
	else
		# The default: the first supported kernel (6.1).
		[ -n "$KVER" ] || KVER=$("$REPO/scripts/kernels.sh" | head -n 1)
		KVER=$(resolve_kver "$KVER")
		KROOT=$(resolve_kroot)
	fi
	OUTDIR=${OUTDIR:-$REPO/build/vm/$KVER/run}
	mkdir -p "$OUTDIR"
	OUTDIR=$(cd "$OUTDIR" && pwd -P)
}

# ---------------------------------------------------------------- initramfs

# Paths of the modules 9p over virtio needs, dependencies first, once each.
# "builtin" lines (virtio_pci on 6.12) need nothing; a -K kernel has all of
# them built in (tree_kver checked) and no /lib/modules to ask.
ninep_modules() {
	[ -z "$KTREE" ] || return 0
	modprobe -a -d "${KROOT:-/}" -S "$KVER" --show-depends 9p 9pnet_virtio virtio_pci |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Copy module $1 into directory $2 decompressed (busybox insmod wants plain
# ELF); print its new name.
copy_module() {
	local src=$1 dir=$2 name
	name=$(basename "$src")
	case $name in
	*.ko.xz) name=${name%.xz}; xz -dc "$src" >"$dir/$name" ;;
	*.ko.zst) name=${name%.zst}; zstd -qdc "$src" >"$dir/$name" ;;
	*.ko.gz) name=${name%.gz}; gzip -dc "$src" >"$dir/$name" ;;
	*) cp "$src" "$dir/$name" ;;
	esac
	echo "$name"
}

# The initramfs /init: load 9p, assemble the guest root, chroot into it.
# PID 1 itself must chroot (exec chroot): it shares its fs_struct with
# kthreadd, so module autoloading (request_module -> /sbin/modprobe) then
# runs the host's modprobe instead of searching the initramfs.
write_init() {
	cat >"$1" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys

fail() {
	echo "etcp-vm: init: $*"
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 1000000
}

for m in $(cat /modules); do
	insmod "/lib/modules/$m" || fail "insmod $m failed"
done

opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /out /newroot
mount -t 9p -o "$opts" etcpout /out || fail "cannot mount the OUTDIR share"
. /out/vm.conf || fail "cannot read vm.conf"
# cache=loose on the read-only root: programs and libraries load from the
# page cache (tshark -v: 6 s instead of 18 s).  The shares stay uncached so
# both sides see each other's writes at once.
mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot || fail "cannot mount the host root"

r=/newroot
# A kernel from another Debian root (7.2's): its modules are the guest's.
if [ -n "$VM_KROOT" ]; then
	mount -o bind "$r$VM_KROOT/lib/modules" $r/lib/modules ||
		fail "cannot mount $VM_KROOT/lib/modules"
fi
mount --move /dev $r/dev
mount --move /proc $r/proc
mount --move /sys $r/sys
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 shm $r/dev/shm
mount -t tmpfs -o mode=1777 tmp $r/tmp
mount -t tmpfs -o mode=755 run $r/run
mount -t debugfs debugfs $r/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs $r/sys/kernel/tracing 2>/dev/null
# The shares go last: either may live under /tmp or /run on the host.
mkdir -p "$r$VM_REPO" "$r$VM_OUT"
mount -t 9p -o "$opts" etcprepo "$r$VM_REPO" || fail "cannot mount the repository share"
mount --move /out "$r$VM_OUT" || fail "cannot move the OUTDIR share"

hostname etcp-vm
ip link set lo up
mkdir -p $r/run/etcp-vm
cp /stage2.sh $r/run/etcp-vm/stage2.sh
exec chroot $r /bin/bash /run/etcp-vm/stage2.sh "$VM_OUT/vm.conf"
fail "cannot chroot into the host root"
INIT
}

# Runs as PID 1 inside the chroot (host's bash) with vm.conf's path as $1:
# load the module, run the command, save its output, status and the kernel
# log, power off.
write_stage2() {
	cat >"$1" <<'STAGE2'
# SPDX-License-Identifier: GPL-2.0
# etcp test VM, second stage: PID 1 in the chroot.  See scripts/vm.sh.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

power_off() {
	sync
	if [ -x /bin/busybox ]; then
		/bin/busybox poweroff -f
	fi
	echo o >/proc/sysrq-trigger
	sleep 1000000
}

# Tell the host why the command did not run; it prints $VM_OUT/error.
setup_failed() {
	echo "etcp-vm: $1" | tee "$VM_OUT/error"
	dmesg >"$VM_OUT/dmesg.txt"
	echo "$2" >"$VM_OUT/rc"
}

KMEMLEAK=/sys/kernel/debug/kmemleak

have_kmemleak() {
	[ "$VM_KMEMLEAK" = 1 ] && [ -e "$KMEMLEAK" ]
}

# Two scans, the second at least 5 s after the command ended ($1, bash
# SECONDS): kmemleak reports an object only when it is older than 5 s and
# two scans in a row found it unreferenced with unchanged contents.
kmemleak_report() {
	local end=$1 out=$VM_OUT/kmemleak.txt start=$SECONDS left
	have_kmemleak || return 0
	if ! echo scan >"$KMEMLEAK"; then
		echo "etcp-vm: kmemleak scan failed (kmemleak disabled? see dmesg.txt)" >"$out"
		return
	fi
	left=$((end + 6 - SECONDS))
	[ "$left" -le 0 ] || sleep "$left"
	if ! echo scan >"$KMEMLEAK"; then
		echo "etcp-vm: kmemleak scan failed (kmemleak disabled? see dmesg.txt)" >"$out"
		return
	fi
	cat "$KMEMLEAK" >"$out"
	echo "etcp-vm: kmemleak: scanned in $((SECONDS - start)) s"
}

load_module() {
	local rc=0 diag=${VM_KO%/*}/etcp_diag.ko
	# shellcheck disable=SC2086 # parameters are separate words
	insmod "$VM_KO" $VM_MODPARAMS || rc=$?
	if [ "$rc" -ne 0 ]; then
		setup_failed "insmod $VM_KO $VM_MODPARAMS failed (exit $rc); see dmesg.txt" "$rc"
		return 1
	fi
	[ -f "$diag" ] || return 0
	# A module of Debian's kernels, built into the debug kernel, which
	# has no /lib/modules: insmod says whether it is there.
	modprobe -q inet_diag 2>/dev/null || true
	insmod "$diag" || rc=$?
	[ "$rc" -eq 0 ] && return 0
	setup_failed "insmod $diag failed (exit $rc; inet_diag missing?); see dmesg.txt" "$rc"
	return 1
}

# Output goes to a file, shown live by tail: a pipe to tee would wait for
# every background process that inherited the command's stdout.  The file
# is the guest's own (tmpfs): on 7.2, 9p answers a read at the end of a
# file that grows with ENODATA, which stops tail.  tee copies what tail
# reads to the share as it comes, so a guest that dies leaves it there.
run_command() {
	local log=$VM_OUT/output.log live=/tmp/etcp-vm-output.log pid rc=0
	: >"$log"
	: >"$live"
	env -i PATH="$PATH" HOME=/root LANG=C \
		ETCP_KO="$VM_KO" ETCP_KVER="$VM_KVER" \
		"$@" </dev/null >"$live" 2>&1 &
	pid=$!
	# --pid: tail reads the file one last time after the command ends.
	tail -n +1 -s 0.2 --pid="$pid" -f "$live" | tee -a "$log" &
	local tailpid=$!
	wait "$pid" || rc=$?
	local end=$SECONDS
	wait "$tailpid"
	kmemleak_report "$end"
	dmesg >"$VM_OUT/dmesg.txt"
	echo "$rc" >"$VM_OUT/rc"
}

main() {
	. "$1" || return
	cd "$VM_REPO" || return
	if [ "$VM_LOAD" = 1 ]; then
		load_module || return 0
	fi
	run_command "$@"
}

( main "$1" )
power_off
STAGE2
}

# ---------------------------------------------------------------- kernel

# Print the uncompressed ELF vmlinux inside bzImage $1 (xz on 6.1, zstd on
# 6.12): find the payload by its magic, decompress, ignore trailing bytes.
extract_vmlinux() {
	local bz=$1 magic tool off
	for magic in $'\xfd7zXZ:xz -dcq --single-stream' $'\x28\xb5\x2f\xfd:zstd -dcq' \
		$'\x1f\x8b\x08:gzip -dcq'; do
		tool=${magic#*:}
		off=$(LC_ALL=C grep -abo -m1 "${magic%%:*}" "$bz" | head -n 1 | cut -d: -f1) || true
		[ -n "$off" ] || continue
		# zstd and gzip complain about the bytes after the payload.
		tail -c +$((off + 1)) "$bz" | $tool 2>/dev/null || true
		return
	done
}

# qemu boots an ELF vmlinux through its PVH entry point, which skips the
# bzImage's self-decompression: about 2.5 s under TCG.  Fall back to the
# bzImage when the kernel has no PVH entry or extraction fails.
ensure_kernel() {
	local cache=$REPO/build/vm/$KVER tmp
	if [ -n "$KTREE" ]; then
		BOOT_KERNEL=$KTREE/arch/x86/boot/bzImage
		if [ -f "$KTREE/vmlinux" ] && grep -qx 'CONFIG_PVH=y' "$KTREE/.config"; then
			BOOT_KERNEL=$KTREE/vmlinux
		fi
		return
	fi
	BOOT_KERNEL=$(kfile vmlinuz)
	grep -qx 'CONFIG_PVH=y' "$(kfile config)" 2>/dev/null || return 0
	if [ -f "$cache/vmlinux" ] && [ "$(cat "$cache/vmlinux.key" 2>/dev/null)" = "$CACHE_KEY" ]; then
		BOOT_KERNEL=$cache/vmlinux
		return
	fi
	mkdir -p "$cache"
	tmp=$(mktemp "$cache/.vmlinux.XXXXXX")
	extract_vmlinux "$BOOT_KERNEL" >"$tmp"
	if [ "$(head -c 4 "$tmp")" != $'\x7fELF' ]; then
		say "cannot extract vmlinux from $BOOT_KERNEL; booting the bzImage"
		rm -f "$tmp"
		return
	fi
	chmod 644 "$tmp"
	mv "$tmp" "$cache/vmlinux"
	echo "$CACHE_KEY" >"$cache/vmlinux.key"
	BOOT_KERNEL=$cache/vmlinux
}

# Key of the cached initramfs and vmlinux: this script and the kernel.
cache_key() {
	{
		sha256sum "$SELF"
		if [ -n "$KTREE" ]; then
			stat -L -c '%n %s %Y' "$KTREE/.config" "$KTREE/include/config/kernel.release"
		else
			stat -L -c '%n %s %Y' "$(kfile vmlinuz)" "$KROOT/lib/modules/$KVER/modules.dep"
		fi
	} | sha256sum | cut -d' ' -f1
}

# Build the initramfs into $1 (a fresh directory), as an uncompressed cpio
# (the kernel unpacks that fastest).
build_initramfs() {
	local dir=$1/root m mods
	# Not in the for list: there a failing modprobe would go unnoticed.
	mods=$(ninep_modules) || die "cannot list the 9p modules of $KVER (modprobe -S $KVER)"
	mkdir -p "$dir"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$dir/bin/busybox"
	# The kernel opens /dev/console before /init runs; without the node it
	# warns, and /init reopens it from devtmpfs anyway.
	mknod "$dir/dev/console" c 5 1 2>/dev/null || true
	: >"$dir/modules"
	for m in $mods; do
		copy_module "$m" "$dir/lib/modules" >>"$dir/modules"
	done
	write_init "$dir/init"
	write_stage2 "$dir/stage2.sh"
	chmod +x "$dir/init"
	(cd "$dir" && find . | cpio -o -H newc -R 0:0 --quiet) >"$1/initramfs.cpio"
}

# Cached per kernel; rebuilt when this script or the kernel changes.
# Concurrent runs build privately and rename, so none sees half a file.
ensure_initramfs() {
	local cache=$REPO/build/vm/$KVER tmp
	INITRAMFS=$cache/initramfs.cpio
	if [ -f "$INITRAMFS" ] && [ "$(cat "$cache/initramfs.key" 2>/dev/null)" = "$CACHE_KEY" ]; then
		return
	fi
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.initramfs.XXXXXX")
	build_initramfs "$tmp"
	mv "$tmp/initramfs.cpio" "$INITRAMFS"
	echo "$CACHE_KEY" >"$cache/initramfs.key"
	rm -rf "$tmp"
}

# ---------------------------------------------------------------- module

# Is host path $1 visible at the same path in the guest?  tmpfs and the
# guest's own proc/sys/dev hide those host directories.
guest_visible() {
	case $1 in
	"$REPO"/* | "$OUTDIR"/*) return 0 ;;
	/tmp/* | /run/* | /proc/* | /sys/* | /dev/*) return 1 ;;
	*) return 0 ;;
	esac
}

# Absolute path of the module, copied into OUTDIR if the guest cannot see it.
# With --no-load it need not exist: the command may load it itself.
resolve_module() {
	local ko=${MODULE_KO:-$REPO/build/$KVER/etcp.ko}
	if [ ! -f "$ko" ]; then
		[ "$LOAD" = 1 ] && die "no module $ko (build it, or pass -m FILE or --no-load)"
		MODULE_KO=$(realpath -m "$ko")
		return
	fi
	ko=$(realpath "$ko")
	if ! guest_visible "$ko"; then
		mkdir -p "$OUTDIR/modules"
		cp "$ko" "$OUTDIR/modules/"
		[ ! -f "${ko%/*}/etcp_diag.ko" ] || cp "${ko%/*}/etcp_diag.ko" "$OUTDIR/modules/"
		ko=$OUTDIR/modules/$(basename "$ko")
		say "the guest cannot see the module's directory; using a copy: $ko"
	fi
	MODULE_KO=$ko
}

# ---------------------------------------------------------------- run

# POSIX single-quoting, readable by busybox sh and bash alike.
shquote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

write_conf() {
	local a
	{
		echo "# written by scripts/vm.sh; read by the guest's /init and stage 2"
		echo "VM_REPO=$(shquote "$REPO")"
		echo "VM_OUT=$(shquote "$OUTDIR")"
		echo "VM_KVER=$(shquote "$KVER")"
		echo "VM_KROOT=$(shquote "$KROOT")"
		echo "VM_LOAD=$LOAD"
		echo "VM_KMEMLEAK=$KMEMLEAK"
		echo "VM_KO=$(shquote "$MODULE_KO")"
		echo "VM_MODPARAMS=$(shquote "$MODPARAMS")"
		printf 'set --'
		for a in "${CMD[@]}"; do
			printf ' %s' "$(shquote "$a")"
		done
		echo
	} >"$OUTDIR/vm.conf"
}

# One run per OUTDIR at a time: the files in it belong to the run.
lock_outdir() {
	exec 9>"$OUTDIR/.lock"
	flock -n 9 || die "$OUTDIR is in use by another vm.sh (pass -o)"
}

# Kernel arguments for a -K kernel.  pci=noacpi: a debug kernel's ACPI
# interpreter is so slow under TCG (every allocation saves stack traces for
# KASAN and kmemleak) that each virtio device's _PRT evaluation runs into
# ACPICA's 30 s loop timeout; virtio uses MSI-X and needs no INTx routing.
# kasan_multi_shot: every KASAN report, not just the first, so that each
# test's own is in the log.  kmemleak=off with --no-kmemleak: tracking every
# allocation's stack halves the debug kernel's speed under TCG.
tree_args() {
	[ -n "$KTREE" ] || return 0
	printf ' pci=noacpi'
	grep -qx 'CONFIG_KASAN=y' "$KTREE/.config" && printf ' kasan_multi_shot'
	if [ "$KMEMLEAK" = 0 ] && grep -qx 'CONFIG_DEBUG_KMEMLEAK=y' "$KTREE/.config"; then
		printf ' kmemleak=off'
	fi
	return 0
}

run_qemu() {
	local append rc=0
	append="${KERNEL_ARGS[*]}$(tree_args) ${VM_APPEND:-}"
	local fs=security_model=none,multidevs=remap
	# shellcheck disable=SC2086 # VM_QEMU_ARGS is a list of words
	timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg -smp 2 -m 2G -display none -serial stdio -monitor none -no-reboot -nic none \
		-kernel "$BOOT_KERNEL" -initrd "$INITRAMFS" -append "$append" \
		-virtfs "local,path=/,mount_tag=hostroot,readonly=on,$fs" \
		-virtfs "local,path=$REPO,mount_tag=etcprepo,$fs" \
		-virtfs "local,path=$OUTDIR,mount_tag=etcpout,$fs" \
		${VM_QEMU_ARGS:-} </dev/null 2>&1 |
		tee "$OUTDIR/console.log" || rc=${PIPESTATUS[0]}
	return "$rc"
}

print_paths() {
	local f
	say "logs:"
	for f in console.log output.log dmesg.txt kmemleak.txt rc; do
		[ -e "$OUTDIR/$f" ] && echo "  $OUTDIR/$f" >&2
	done
	return 0
}

# The signal that made qemu quit ("terminating on signal 2 from pid ..."), if any.
qemu_signal() {
	sed -n 's/^qemu-system-x86_64: terminating on signal \([0-9]*\).*/\1/p' \
		"$OUTDIR/console.log" | grep -m1 .
}

# Turn what the guest left in OUTDIR into vm.sh's exit status.
verdict() {
	local qrc=$1 secs=$2 rc log sig
	if [ -s "$OUTDIR/error" ]; then
		say "$(cat "$OUTDIR/error")"
	fi
	if [ ! -f "$OUTDIR/rc" ]; then
		if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
			say "guest did not finish within $TIMEOUT s ($KVER)"
			rc=124
		elif sig=$(qemu_signal); then
			# Ctrl-C or kill: qemu exits 0 then, so say who stopped it.
			say "qemu was stopped by signal $sig before the guest finished ($KVER)"
			rc=$((128 + sig))
		elif grep -q 'Kernel panic' "$OUTDIR/console.log"; then
			say "guest kernel panicked before the command finished ($KVER)"
			rc=125
		else
			say "guest stopped without finishing the command (qemu exit $qrc, $KVER)"
			[ -s "$OUTDIR/console.log" ] ||
				say "the console is empty: the kernel never started ($BOOT_KERNEL)"
			rc=125
		fi
		check_log "$OUTDIR/console.log" || true
		print_paths
		return "$rc"
	fi
	[ "$qrc" -eq 0 ] || say "guest finished the command but did not power off cleanly (qemu exit $qrc)"
	rc=$(cat "$OUTDIR/rc")
	if ! [[ $rc =~ ^[0-9]+$ ]]; then
		say "guest wrote a bad exit status '$rc' ($KVER)"
		print_paths
		return 125
	fi
	log=$OUTDIR/dmesg.txt
	[ -f "$log" ] || log=$OUTDIR/console.log
	if ! check_log "$log"; then
		if [ "$rc" -eq 0 ]; then
			say "command succeeded but the guest kernel log is not clean: failing ($KVER)"
			rc=1
		fi
	fi
	if [ -s "$OUTDIR/kmemleak.txt" ]; then
		say "kmemleak suspects $(grep -c '^unreferenced object' "$OUTDIR/kmemleak.txt" || true)" \
			"leak(s); the start of $OUTDIR/kmemleak.txt:"
		head -n 40 "$OUTDIR/kmemleak.txt" >&2
		if [ "$rc" -eq 0 ]; then
			say "command succeeded but kmemleak reported leaks: failing ($KVER)"
			rc=1
		fi
	fi
	if [ "$rc" -ne 0 ]; then
		say "failed with exit status $rc ($KVER, ${secs} s)"
		print_paths
	else
		say "ok ($KVER, ${secs} s)"
	fi
	return "$rc"
}

main() {
	local start qrc=0
	parse_args "$@"
	lock_outdir
	rm -f "$OUTDIR"/{console.log,output.log,dmesg.txt,kmemleak.txt,rc,error,vm.conf}
	rm -rf "$OUTDIR/modules"
	resolve_module
	CACHE_KEY=$(cache_key)
	ensure_kernel
	ensure_initramfs
	write_conf
	start=$SECONDS
	run_qemu || qrc=$?
	verdict "$qrc" $((SECONDS - start))
}

# On one line: bash reads a script as it runs it, and this script may be
# replaced while an instance runs.
main "$@"; exit
