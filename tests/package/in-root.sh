#!/bin/sh
# purple-otr - GPL-2.0-or-later (see COPYING)
# in-root.sh ROOT COMMAND [ARG...]: run COMMAND with ROOT/usr (packages
# unpacked with dpkg -x) laid over the system's /usr, in a private mount
# namespace: the programs see the packages' files at their real system
# locations, and nothing outside this one process tree does (the rest of
# the test suite, running at the same time, must not find them).
# As root a mount namespace is enough; otherwise a user namespace maps us
# to root inside it (overlayfs in user namespaces: Linux 5.11 or later).
set -eu
root=$1
shift
case $root in *:*|*,*) echo "in-root.sh: unusable path $root" >&2; exit 2;; esac
if [ "$(id -u)" = 0 ]; then ns="--mount"; else ns="--user --map-root-user --mount"; fi
# shellcheck disable=SC2086
exec unshare $ns --propagation private -- sh -c '
  mount -t overlay purple-otr-packages -o "ro,lowerdir=$0/usr:/usr" /usr || exit 125
  exec "$@"' "$root" "$@"
