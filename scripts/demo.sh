#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: install what is missing, build etcp.ko, boot each supported
# kernel in the test VM and walk through what etcp does (scripts/demo-guest.sh).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"

scripts/deps.sh
for kver in $(scripts/kernels.sh); do
	make --no-print-directory module KVER="$kver" >/dev/null
	printf '\n######## Linux %s ########\n' "$kver"
	scripts/vm.sh -k "$kver" -o "build/vm/$kver/demo" -- scripts/demo-guest.sh
done
