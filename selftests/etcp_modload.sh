#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# etcp.ko loading and unloading:
#
#   rmmod_idle        rmmod succeeds with no etcp socket open
#   cycles            10 x (insmod; netns; sysctl write; socket+bind, IPv4
#                     and IPv6; close; netns del; rmmod), module absent at
#                     the end
#   busy              rmmod fails while a socket is open (EBUSY), succeeds
#                     once it is closed
#   proto_254         insmod proto=254: socket(254) works, socket(253) fails
#                     EPROTONOSUPPORT, for AF_INET and AF_INET6
#   proto_invalid     insmod proto=200 (and 255) fails
#   fixed_isn_at_load insmod fixed_isn=5 fails with ENODEV: the parameter
#                     is per network namespace, and none of etcp's exists
#                     before the module's init
#   aliases           the module declares net-pf-2-proto-253 and
#                     net-pf-2-proto-253-type-1, and net-pf-10-* the same
#   install           make install's script (scripts/install.sh) into a
#                     staging root puts etcp.ko (and etcp_diag.ko, when
#                     built) in extra/ with depmod's index, the uapi
#                     header, etcp(7) and etcp-ss there, and
#                     modprobe -d ROOT etcp loads it
#   autoload          socket(AF_INET, SOCK_STREAM, 253) loads the installed
#                     module through /proc/sys/kernel/modprobe, and so does
#                     socket(AF_INET6, SOCK_STREAM, 253)
#   dkms              the module DKMS built from dkms.conf and make
#                     dkms-src's tree (ETCP_DKMS_KO, made by scripts/check.sh
#                     on the host) is for this kernel, loads and takes a
#                     socket (skipped without one: 7.2, the debug kernel)
#
# Leaves etcp loaded with default parameters.  Needs ETCP_KO (absolute path
# of the etcp.ko under test), root, kmod, ip(8) and the etcp_sock helper
# (from ETCP_SELFTEST_BIN, else ../build/selftests).
set -u

readonly CYCLES=10
readonly NS=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}m-$$
KVER=$(uname -r)
readonly KVER

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=selftests/etcp_lib.sh
. "$DIR/etcp_lib.sh"
BIN=${ETCP_SELFTEST_BIN:-$DIR/../build/selftests}
SOCK=$BIN/etcp_sock
KO=${ETCP_KO:-}
# make tools' output (etcp-run), which make install installs.
TOOLS=${ETCP_TOOLS:-$BIN/../tools}

TMPD=
HOLD_PID=
HOLD_OPEN=0
SAVED_MODPROBE=
NONDEFAULT=0		# etcp is loaded with parameters other than the defaults


# ------------------------------------------------------------- helpers

loaded() { grep -q '^etcp ' /proc/modules; }

refcnt() { cat /sys/module/etcp/refcnt 2>/dev/null || echo "?"; }

idle() { [ "$(refcnt)" = 0 ]; }

# rmmod once nothing holds the module any more: socket frees may be
# deferred by RCU, so its count can drop a moment after close(), and the
# orphans earlier tests left closing (their teardown shortens
# etcp_retries2 and etcp_fin_timeout) hold it until they end.
unload() {
	loaded || return 0
	# etcp_diag (sock_diag) holds etcp while it is loaded.
	if grep -q '^etcp_diag ' /proc/modules && ! rmmod etcp_diag; then
		log "rmmod etcp_diag failed"
		return 1
	fi
	if ! wait_until 30000 idle; then
		log "etcp still in use (refcnt $(refcnt)) with no socket open"
		return 1
	fi
	rmmod etcp 2>&1 | sed 's/^/# /'
	if loaded; then
		log "rmmod etcp failed"
		return 1
	fi
	NONDEFAULT=0
	return 0
}

load() {
	local out
	if ! out=$(insmod "$KO" "$@" 2>&1); then
		log "insmod $KO $* failed: $out"
		return 1
	fi
	[ $# -gt 0 ] && NONDEFAULT=1
	return 0
}

# sock EXPECTED ARGS...: run etcp_sock, compare its output with EXPECTED.
sock() {
	local want=$1 out
	shift
	out=$("$SOCK" "$@" 2>&1)
	[ "$out" = "$want" ] && return 0
	log "etcp_sock $*: got '$out', expected '$want'"
	return 1
}

stop_holder() {
	if [ "$HOLD_OPEN" = 1 ]; then
		exec 8>&-
		HOLD_OPEN=0
	fi
	if [ -n "$HOLD_PID" ]; then
		wait "$HOLD_PID"
		HOLD_PID=
	fi
}

restore_modprobe() {
	[ -n "$SAVED_MODPROBE" ] || return 0
	echo "$SAVED_MODPROBE" >/proc/sys/kernel/modprobe
	SAVED_MODPROBE=
}

cleanup() {
	stop_holder
	restore_modprobe
	ip netns del "$NS" 2>/dev/null
	# Leave etcp loaded with its default parameters.
	if [ "$NONDEFAULT" = 1 ]; then
		unload || log "cannot unload etcp to reload it with defaults"
	fi
	loaded || load || log "cannot reload etcp"
	[ -n "$TMPD" ] && rm -rf "$TMPD"
}


# ------------------------------------------------------------- tests

test_rmmod_idle() {
	loaded || load || return 1
	unload
}

one_cycle() {
	local i=$1 msl
	load || return 1
	ip netns add "$NS" || return 1
	ip -n "$NS" link set lo up || return 1
	if ! ip netns exec "$NS" sh -c 'echo 1234 >/proc/sys/net/ipv4/etcp_msl'; then
		log "cycle $i: cannot write etcp_msl in a new netns"
		return 1
	fi
	msl=$(ip netns exec "$NS" cat /proc/sys/net/ipv4/etcp_msl)
	if [ "$msl" != 1234 ]; then
		log "cycle $i: etcp_msl reads '$msl' after writing 1234"
		return 1
	fi
	sock ok -n "/run/netns/$NS" -b 127.0.0.1:5000 || return 1
	sock ok -6 -n "/run/netns/$NS" -b ::1:5000 || return 1
	ip netns del "$NS" || return 1
	unload || return 1
}

test_cycles() {
	local i
	unload || return 1
	for i in $(seq 1 $CYCLES); do
		if ! one_cycle "$i"; then
			log "insmod/rmmod cycle $i of $CYCLES failed"
			ip netns del "$NS" 2>/dev/null
			return 1
		fi
	done
	if loaded; then
		log "etcp still in /proc/modules after $CYCLES cycles"
		return 1
	fi
}

test_busy() {
	local rc=0
	loaded || load || return 1
	mkfifo "$TMPD/hold" || return 1
	"$SOCK" --hold <"$TMPD/hold" >"$TMPD/hold.out" 2>&1 &
	HOLD_PID=$!
	exec 8>"$TMPD/hold"
	HOLD_OPEN=1
	if ! wait_until 5000 grep -qx ok "$TMPD/hold.out"; then
		log "socket holder did not start: $(cat "$TMPD/hold.out")"
		stop_holder
		return 1
	fi

	log "refcnt with one socket open: $(refcnt)"
	if rmmod etcp 2>"$TMPD/rmmod.err"; then
		log "rmmod etcp succeeded while a socket was open"
		rc=1
	else
		log "rmmod while busy: $(cat "$TMPD/rmmod.err")"
		if ! grep -q "in use" "$TMPD/rmmod.err"; then
			log "rmmod failed, but not because etcp is in use (EBUSY)"
			rc=1
		fi
	fi
	if ! loaded; then
		log "etcp gone from /proc/modules while a socket was open"
		stop_holder
		return 1
	fi

	stop_holder
	unload || return 1
	return $rc
}

test_proto_254() {
	local rc=0
	unload || return 1
	load proto=254 || return 1
	sock ok -p 254 || rc=1
	sock "errno EPROTONOSUPPORT" -p 253 || rc=1
	sock ok -6 -p 254 || rc=1
	sock "errno EPROTONOSUPPORT" -6 -p 253 || rc=1
	unload || rc=1
	return $rc
}

test_proto_invalid() {
	local p rc=0
	unload || return 1
	for p in 200 255; do
		if insmod "$KO" proto=$p 2>/dev/null; then
			log "insmod proto=$p succeeded; only 253 and 254 are valid"
			NONDEFAULT=1
			rc=1
			unload
		fi
		if loaded; then
			log "etcp in /proc/modules after insmod proto=$p"
			rc=1
		fi
	done
	return $rc
}

test_fixed_isn_at_load() {
	local out rc=0
	unload || return 1
	if out=$(insmod "$KO" fixed_isn=5 2>&1); then
		log "insmod fixed_isn=5 succeeded"
		NONDEFAULT=1
		unload
		return 1
	fi
	if [[ $out != *"No such device"* ]]; then
		log "insmod fixed_isn=5 failed, but not with ENODEV: $out"
		rc=1
	fi
	if loaded; then
		log "etcp in /proc/modules after insmod fixed_isn=5"
		rc=1
	fi
	return $rc
}

test_aliases() {
	local a aliases rc=0
	aliases=$(modinfo -F alias "$KO") || return 1
	for a in net-pf-2-proto-253 net-pf-2-proto-253-type-1 \
		 net-pf-10-proto-253 net-pf-10-proto-253-type-1; do
		if ! grep -qx -- "$a" <<<"$aliases"; then
			log "module alias $a missing; the module declares: $(tr '\n' ' ' <<<"$aliases")"
			rc=1
		fi
	done
	return $rc
}

# make install's script into a staging root: the module in extra/ with
# depmod's index, the uapi header, the manual page.
install_root() {
	local root=$TMPD/modroot
	[ -e "$root/lib/modules/$KVER/extra/etcp.ko" ] && return 0
	"$DIR/../scripts/install.sh" -d "$root" -k "$KVER" -m "$KO" -t "$TOOLS" |
		sed 's/^/# /'
	[ "${PIPESTATUS[0]}" = 0 ]
}

test_install() {
	local root=$TMPD/modroot f out rc=0
	install_root || return 1
	for f in lib/modules/$KVER/extra/etcp.ko usr/include/linux/etcp.h \
		 usr/share/man/man7/etcp.7 usr/lib/etcp/libetcp-run.so \
		 usr/bin/etcp-ss; do
		if [ ! -f "$root/$f" ]; then
			log "make install left no $f"
			rc=1
		fi
	done
	if ! grep -q '^extra/etcp.ko:' "$root/lib/modules/$KVER/modules.dep"; then
		log "depmod's modules.dep does not list extra/etcp.ko"
		rc=1
	fi
	# etcp_diag.ko, when built, needs etcp and inet_diag (modprobe order).
	if [ -f "${KO%/*}/etcp_diag.ko" ] &&
	   ! grep -q '^extra/etcp_diag.ko:.*extra/etcp.ko' "$root/lib/modules/$KVER/modules.dep"; then
		log "modules.dep lacks extra/etcp_diag.ko depending on extra/etcp.ko"
		rc=1
	fi
	# The wrapper through its link in bin/ finds the library it came with.
	if ! out=$(ETCP_RUN_DEBUG=1 "$root/usr/bin/etcp-run" true 2>&1); then
		log "the installed etcp-run failed: $out"
		rc=1
	fi
	if ! cmp -s "$KO" "$root/lib/modules/$KVER/extra/etcp.ko"; then
		log "the installed etcp.ko differs from $KO"
		rc=1
	fi
	# modprobe by name, from the installed tree.
	unload || return 1
	if ! modprobe -d "$root" etcp; then
		log "modprobe -d $root etcp failed"
		return 1
	fi
	if ! loaded; then
		log "modprobe -d $root etcp left etcp unloaded"
		rc=1
	fi
	sock ok -b 127.0.0.1:5000 || rc=1
	return $rc
}

# The module the autoload tests find: make install's.
test_autoload() {
	local root=$TMPD/modroot wrapper=$TMPD/modprobe modprobe rc=0
	modprobe=$(command -v modprobe)
	install_root || return 1
	cat >"$wrapper" <<EOF
#!/bin/sh
$modprobe -d $root "\$@"
rc=\$?
echo "rc=\$rc \$*" >>$TMPD/modprobe.log
exit \$rc
EOF
	chmod +x "$wrapper"

	autoload_family "" 2 || rc=1
	autoload_family -6 10 || rc=1
	return $rc
}

# DKMS's build of dkms.conf and make dkms-src's tree for this kernel
# (scripts/check.sh makes it on the host and names it in ETCP_DKMS_KO: a
# build here, under TCG, takes 9 minutes a kernel) loads and takes a
# socket.
test_dkms() {
	local ko=${ETCP_DKMS_KO:-} vermagic out rc=0
	if [ -z "$ko" ]; then
		skip "no DKMS build of etcp for $KVER (ETCP_DKMS_KO)"
		return
	fi
	vermagic=$(modinfo -F vermagic "$ko") || return 1
	if [ "${vermagic%% *}" != "$KVER" ]; then
		log "DKMS built $ko for '${vermagic%% *}', not $KVER"
		return 1
	fi
	unload || return 1
	if ! out=$(insmod "$ko" 2>&1); then
		log "insmod $ko failed: $out"
		return 1
	fi
	NONDEFAULT=1	# not the module under test: cleanup reloads that one
	sock ok -b 127.0.0.1:5000 || rc=1
	unload || rc=1
	return $rc
}

# socket($1 ? AF_INET6 : AF_INET, SOCK_STREAM, 253) loads etcp through
# modprobe's most specific alias, net-pf-$2-proto-253-type-1.
autoload_family() {
	local flag=$1 pf=$2 rc=0 wrapper=$TMPD/modprobe

	unload || return 1
	: >"$TMPD/modprobe.log"
	SAVED_MODPROBE=$(cat /proc/sys/kernel/modprobe)
	echo "$wrapper" >/proc/sys/kernel/modprobe || return 1
	# shellcheck disable=SC2086 # $flag is one word or none
	sock ok $flag || rc=1
	restore_modprobe
	log "modprobe calls: $(tr '\n' ';' <"$TMPD/modprobe.log")"
	if ! loaded; then
		log "socket(PF $pf, SOCK_STREAM, 253) did not load etcp"
		rc=1
	elif ! grep -qx "rc=0 -q -- net-pf-$pf-proto-253-type-1" "$TMPD/modprobe.log"; then
		log "etcp loaded only through the generic alias, not net-pf-$pf-proto-253-type-1"
		rc=1
	fi
	return $rc
}

# ------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -n "$KO" ] || skip_all "ETCP_KO (path of etcp.ko) is not set"
[ -r "$KO" ] || skip_all "ETCP_KO=$KO is not readable"
[ -x "$SOCK" ] || skip_all "helper $SOCK not built (make -C selftests)"
for cmd in insmod rmmod modprobe depmod modinfo ip mkfifo; do
	command -v "$cmd" >/dev/null || skip_all "$cmd not found"
done

TMPD=$(mktemp -d /tmp/etcp-modload.XXXXXX) || exit 1
trap cleanup EXIT

run rmmod_idle
run cycles
run busy
run proto_254
run proto_invalid
run fixed_isn_at_load
run aliases
run install
run autoload
run dkms
echo "1..$nr"

[ "$nfail" = 0 ]
