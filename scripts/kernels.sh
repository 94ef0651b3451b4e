#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel releases etcp supports and the test VM boots, one a line:
# the newest installed Debian 6.1 and 6.12 kernels that have both an image
# and headers.  scripts/deps.sh installs them.
set -euo pipefail

newest() {
	local v best=
	for v in $(ls -d /usr/src/linux-headers-$1 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V); do
		[ -e "/boot/vmlinuz-$v" ] && best=$v
	done
	[ -n "$best" ] && echo "$best"
}

found=0
for pat in '6.1.*-amd64' '6.12.*+deb12-amd64'; do
	if newest "$pat"; then
		found=$((found + 1))
	fi
done
[ "$found" -gt 0 ] || { echo "kernels.sh: no supported kernel installed; run scripts/deps.sh" >&2; exit 1; }
