#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: install what is missing, build etcp.ko, boot each supported
# kernel in the test VM and walk through the textbook's scenarios there
# (scripts/demo-guest.sh, scripts/demo-scenes.sh).
#
#   scripts/demo.sh [-k KERNEL] [list | SCENE...]
#
# SCENEs run only those (make demo SCENE="handshake close"), "list" lists
# them without booting anything; -k (make demo KVER=...) boots only that
# kernel (a release or a series: 6.1, 6.12, 7.2).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

kernels=
if [ "${1:-}" = -k ]; then
	kernels=$(scripts/kernels.sh "$2")
	shift 2
fi
if [ "${1:-}" = list ]; then
	# shellcheck source=scripts/demo-scenes.sh
	. scripts/demo-scenes.sh
	echo "make demo SCENE=NAME runs one (or several: SCENE=\"A B\"):"
	scene_list
	exit 0
fi

scripts/deps.sh
for kver in ${kernels:-$(scripts/kernels.sh)}; do
	make --no-print-directory module KVER="$kver" >/dev/null
	printf '\n######## Linux %s ########\n' "$kver"
	scripts/vm.sh -k "$kver" -o "build/vm/$kver/demo" -- scripts/demo-guest.sh "$@"
done
