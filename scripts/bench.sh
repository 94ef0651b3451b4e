#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: etcp's speed next to kernel TCP's, measured in the same VM run.
#
#   scripts/bench.sh [-k KVER]... [-t SECONDS] [-o OUTDIR]
#
# Builds etcp.ko and selftests/etcp_bench, then for each kernel the test VM
# boots (scripts/kernels.sh; -k picks one, by release or series such as
# 6.12) runs etcp_bench there: bulk throughput, 1-byte
# request/response and connection setup, each for SECONDS (default 3) over
# TCP and etcp in turn, between two network namespaces it creates.  Prints
# one table per kernel: metric, tcp, etcp, etcp/tcp.  Under TCG the
# absolute numbers mean little; the ratios are the measure.
#
# OUTDIR (default build/vm) gets one directory per kernel, KVER/bench, with
# vm.sh's logs; output.log there has etcp_bench's raw lines.
#
# Exit status: 0 when every number was measured, 1 otherwise, 2 for usage.
#
# Inside the VM this script runs itself as "scripts/bench.sh --guest
# SECONDS" (vm.sh's command).
set -euo pipefail

CALLER_PWD=$PWD
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

BENCH=build/selftests/etcp_bench

usage() {
	echo "usage: scripts/bench.sh [-k KVER]... [-t SECONDS] [-o OUTDIR]" >&2
	exit 2
}

# ------------------------------------------------------------ guest side

guest() {
	local secs=$1
	# vm.sh loaded etcp.ko; without it every etcp number would fail.
	grep -q '^etcp ' /proc/modules || { echo "# etcp is not loaded"; exit 1; }
	exec "$BENCH" -t "$secs" -p 6 -p 253
}

# ------------------------------------------------------------ host side


# The table of one kernel from etcp_bench's lines ("TEST PROTO VALUE UNIT
# # detail", VALUE "FAIL" when it could not be measured).
table() {
	awk '
	$1 ~ /^(bulk|rr|crr)$/ && ($2 == "tcp" || $2 == "etcp") {
		v[$1, $2] = $3; u[$1] = ($4 != "-" ? $4 : u[$1])
	}
	END {
		split("bulk rr crr", order, " ")
		name["bulk"] = "bulk throughput"
		name["rr"] = "1-byte request/response"
		name["crr"] = "connect+accept+close"
		printf "%-26s %-10s %12s %12s %10s\n", "metric", "unit", "tcp", "etcp", "etcp/tcp"
		for (i = 1; i <= 3; i++) {
			m = order[i]
			t = ((m, "tcp") in v) ? v[m, "tcp"] : "-"
			e = ((m, "etcp") in v) ? v[m, "etcp"] : "-"
			r = (t + 0 > 0 && e ~ /^[0-9.]+$/) ? sprintf("%.2f", e / t) : "-"
			printf "%-26s %-10s %12s %12s %10s\n", name[m], u[m], t, e, r
		}
	}'
}

main() {
	local kvers=() secs=3 outroot=build/vm kver out rc failed=0

	while getopts "k:t:o:h" opt; do
		case $opt in
		k) kvers+=("$(scripts/kernels.sh "$OPTARG")") || exit 2 ;;
		t) secs=$OPTARG ;;
		o) outroot=$OPTARG; [[ $outroot == /* ]] || outroot=$CALLER_PWD/$outroot ;;
		*) usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 0 ] || usage
	[[ $secs =~ ^[1-9][0-9]*$ ]] || usage
	if [ ${#kvers[@]} -eq 0 ]; then
		mapfile -t kvers < <(scripts/kernels.sh)
		[ ${#kvers[@]} -gt 0 ] || exit 1
	fi

	mkdir -p build
	if ! make --no-print-directory -C selftests OUT="$TOP/build/selftests" \
		"$TOP/$BENCH" >build/bench-build.log 2>&1; then
		tail -n 20 build/bench-build.log
		echo "bench.sh: building etcp_bench failed" >&2
		exit 1
	fi

	for kver in "${kvers[@]}"; do
		out=$outroot/$kver/bench
		mkdir -p "$out"
		if ! make --no-print-directory module KVER="$kver" >"$out/build.log" 2>&1; then
			tail -n 20 "$out/build.log"
			echo "bench.sh: building etcp.ko for $kver failed" >&2
			failed=1
			continue
		fi
		printf '\n######## Linux %s: etcp and TCP, %s s per measurement ########\n' \
			"$kver" "$secs"
		# Bulk, rr and crr over two protocols, plus boot and namespaces.
		rc=0
		scripts/vm.sh -k "$kver" -o "$out" -t $((12 * secs + 120)) -- \
			scripts/bench.sh --guest "$secs" >"$out/vm.log" 2>&1 || rc=$?
		if [ -f "$out/output.log" ]; then
			# Failures, and etcp counters that say why a number is low.
			grep -E '^(bulk|rr|crr) [^ ]+ FAIL |^# .*etcp_stat' "$out/output.log" || true
			table <"$out/output.log"
		fi
		if [ "$rc" -ne 0 ]; then
			echo "bench.sh: the VM run failed (exit $rc); logs in $out" >&2
			tail -n 15 "$out/vm.log" >&2
			failed=1
		fi
	done
	return "$failed"
}

if [ "${1:-}" = --guest ]; then
	guest "${2:?--guest needs SECONDS}"
fi
main "$@"
