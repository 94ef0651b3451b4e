#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# etcp(7), man/etcp.7, against the loaded module:
#
#   renders           groff -man -ww reports nothing; man -l renders it
#   sysctls           every /proc/sys/net/ipv4/etcp_* has an entry
#                     ".BR name \" (UNIT; default N; ...)\"" whose N is the
#                     value in a new namespace, and every such entry names
#                     a sysctl that exists
#   counters          every counter of /proc/net/etcp_stat is named in bold
#   uapi              every name include/uapi/linux/etcp.h defines (socket
#                     options, states, levels) and every etcp_info field is
#                     named in bold
#   tracepoints       every etcp:* event in tracefs is named in bold, and
#                     every etcp_* event the page names exists (skipped
#                     without tracefs)
#
# Needs root, ip(8), groff, and etcp loaded (as run.sh's VM has it).
set -u

readonly NS=etcp-${ETCP_NS_TAG:+$ETCP_NS_TAG-}man-$$

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=selftests/etcp_lib.sh
. "$DIR/etcp_lib.sh"
PAGE=$DIR/../man/etcp.7
UAPI=$DIR/../include/uapi/linux/etcp.h



# Is $1 named in bold (.B or .BR, alone or in a list) somewhere in the page?
in_bold() {
	grep -E '^\.(B|BR|IB) ' "$PAGE" | grep -qw -- "$1"
}

# ------------------------------------------------------------- tests

test_renders() {
	local warn ok=0

	warn=$(groff -man -ww -z -t "$PAGE" 2>&1)
	if [ -n "$warn" ]; then
		log "groff warns: $warn"
		ok=1
	fi
	if command -v man >/dev/null; then
		if ! MANWIDTH=80 man -l "$PAGE" >/dev/null 2>&1; then
			log "man -l $PAGE failed"
			ok=1
		fi
	fi
	return $ok
}

test_sysctls() {
	local f name line want got n=0 ok=0

	for f in /proc/sys/net/ipv4/etcp_*; do
		name=${f##*/}
		n=$((n + 1))
		line=$(grep -E "^\.BR $name \" \(" "$PAGE")
		if [ -z "$line" ]; then
			log "sysctl $name: no \".BR $name \\\" (...)\\\"\" entry"
			ok=1
			continue
		fi
		want=$(sed -nE 's/.*; default ([0-9]+);.*/\1/p' <<<"$line")
		got=$(ip netns exec "$NS" cat "$f")
		if [ "$want" != "$got" ]; then
			log "sysctl $name: the page says default '$want', a new namespace has '$got'"
			ok=1
		fi
	done
	[ "$n" -gt 0 ] || { log "no etcp sysctl under /proc/sys/net/ipv4"; return 1; }
	# The other way: no entry for a sysctl the module does not have.
	for name in $(sed -nE 's/^\.BR (etcp_[a-z0-9_]+) " \(.*/\1/p' "$PAGE"); do
		if [ ! -e "/proc/sys/net/ipv4/$name" ]; then
			log "the page documents $name, which the module does not have"
			ok=1
		fi
	done
	log "$n sysctls checked"
	return $ok
}

test_counters() {
	local name stat n=0 ok=0

	stat=$(ip netns exec "$NS" cat /proc/net/etcp_stat)
	while read -r name _; do
		[ -n "$name" ] || continue
		n=$((n + 1))
		if ! in_bold "$name"; then
			log "counter $name is not in the page"
			ok=1
		fi
	done <<<"$stat"
	[ "$n" -gt 0 ] || { log "/proc/net/etcp_stat is empty"; return 1; }
	log "$n counters checked"
	return $ok
}

test_uapi() {
	local name n=0 ok=0

	for name in $(grep -oE '\b(IPPROTO_ETCP|SOL_ETCP|ETCP_[A-Z0-9_]+|etcpi_[a-z0-9_]+)\b' \
		      "$UAPI" | sort -u); do
		# The include guard is no name a program uses.
		[ "$name" = _UAPI_LINUX_ETCP_H ] && continue
		n=$((n + 1))
		if ! in_bold "$name"; then
			log "$name (include/uapi/linux/etcp.h) is not in the page"
			ok=1
		fi
	done
	log "$n names checked"
	return $ok
}

test_tracepoints() {
	local events=/sys/kernel/tracing/events/etcp d name n=0 ok=0

	if [ ! -d "$events" ] && ! mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
		skip "no tracefs at /sys/kernel/tracing"
		return
	fi
	if [ ! -d "$events" ]; then
		skip "no etcp events in tracefs (a kernel without tracing?)"
		return
	fi
	for d in "$events"/*/; do
		name=$(basename "$d")
		n=$((n + 1))
		if ! in_bold "$name"; then
			log "event etcp:$name is not in the page"
			ok=1
		fi
	done
	# The other way: the TRACEPOINTS section names no event that is gone.
	for name in $(sed -n '/^\.SH TRACEPOINTS/,/^\.SH /p' "$PAGE" |
		      grep -E '^\.(B|BR) ' | grep -oE '\betcp_[a-z0-9_]+\b' | sort -u); do
		if [ ! -d "$events/$name" ] && [ ! -e "/proc/sys/net/ipv4/$name" ]; then
			log "the page names event $name, which the module does not have"
			ok=1
		fi
	done
	log "$n events checked"
	return $ok
}

# ------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || skip_all "must run as root"
[ -r "$PAGE" ] || skip_all "$PAGE not found"
for cmd in ip groff; do
	command -v "$cmd" >/dev/null || skip_all "$cmd not found"
done
grep -q '^etcp ' /proc/modules || skip_all "etcp is not loaded"

ip netns add "$NS" || exit 1
trap 'ip netns del "$NS" 2>/dev/null' EXIT

run renders
run sysctls
run counters
run uapi
run tracepoints
echo "1..$nr"

[ "$nfail" = 0 ]
