#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command chrooted into another Debian root, with the host's
# directories it needs at the same paths there:
#
#   scripts/in-root.sh ROOT [DIR...] -- CMD [ARGS...]
#
# The 7.2 kernel's kbuild tools and gcc 14 come from Debian 13 and do not
# run on bookworm (scripts/kernels.sh), so builds for it run inside the
# root scripts/deps.sh debootstraps.  Each DIR (the build directory, say)
# is bind-mounted at its own path, as are /proc and /dev, in a mount
# namespace of the command's own: nothing stays mounted after it.  With
# ROOT /, the command runs as it is.  Needs root for the chroot.
set -euo pipefail

[ $# -ge 3 ] || { sed -n 's/^#   //p' "$0" >&2; exit 2; }
ROOT=$1
shift
DIRS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	DIRS+=("$(realpath "$1")")
	shift
done
[ "${1:-}" = -- ] || { echo "in-root.sh: no -- before the command" >&2; exit 2; }
shift

if [ "$(realpath "$ROOT")" = / ]; then
	exec "$@"
fi
[ -x "$ROOT/bin/sh" ] || { echo "in-root.sh: $ROOT is not a root (run scripts/deps.sh)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "in-root.sh: chroot into $ROOT needs root" >&2; exit 2; }

# The mounts below, as one script for the new mount namespace's shell.
setup='set -e; r=$1; shift; mount --make-rprivate /
mount --bind /proc "$r/proc"; mount --bind /dev "$r/dev"
while [ "$1" != -- ]; do mkdir -p "$r$1"; mount --bind "$1" "$r$1"; shift; done
shift; exec chroot "$r" /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$PWD" "$@"'
exec unshare -m /bin/sh -c "$setup" in-root "$ROOT" "${DIRS[@]}" -- "$@"
