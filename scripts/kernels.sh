#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernels etcp supports, and the one place that says which they are:
#
#   scripts/kernels.sh          every supported kernel, one release a line,
#                               oldest series first (the default one)
#   scripts/kernels.sh NAME     the supported kernel NAME names: a release as
#                               uname -r prints it, or a series (6.1, 6.12)
#
# A supported kernel is the newest installed Debian kernel of a supported
# series that has both an image and headers; scripts/deps.sh installs
# them.  Exit 1 when there is none (or NAME names none).
set -euo pipefail

# The supported series, and the release names Debian gives them.
SERIES=(
	'6.1.*-amd64'
	'6.12.*+deb12-amd64'
)

# The newest release matching $1 with headers and an image.
newest() {
	local v best=
	for v in $(ls -d /usr/src/linux-headers-$1 2>/dev/null | sed 's|.*/linux-headers-||' | sort -V); do
		[ -e "/boot/vmlinuz-$v" ] && best=$v
	done
	[ -n "$best" ] && echo "$best"
}

supported() {
	local pat
	for pat in "${SERIES[@]}"; do
		newest "$pat" || true
	done
}

main() {
	local all k
	all=$(supported)
	if [ -z "$all" ]; then
		echo "kernels.sh: no supported kernel installed; run scripts/deps.sh" >&2
		exit 1
	fi
	if [ $# -eq 0 ]; then
		echo "$all"
		return
	fi
	for k in $all; do
		if [ "$k" = "$1" ] || [[ $k == "$1".* ]]; then
			echo "$k"
			return
		fi
	done
	echo "kernels.sh: '$1' names none of the supported kernels:" $all >&2
	exit 1
}

main "$@"
