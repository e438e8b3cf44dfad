#!/usr/bin/env bash
# container_run.sh BUILD_DIR [CTEST_ARGS...] — the kit's suite as a container runs it.
#
# Without Docker: new user, IPC, mount, network and PID namespaces (unshare),
# a fresh /dev with a 64 MiB tmpfs on /dev/shm (Docker's default size), a fresh
# mqueue file system on /dev/mqueue and a private pseudo-terminal instance,
# the loopback interface up (as in a container's own network namespace), and
# the tests run as an ordinary uid (1000) without capabilities. Prints what the
# doctor sees there, then runs ctest in BUILD_DIR.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  # Stage 2, as root of the new user namespace: build the container's /dev.
  shift
  build=$1
  shift
  dev=$(mktemp -d /tmp/ipckit-container-dev.XXXXXX)
  trap 'rmdir "$dev" 2>/dev/null || true' EXIT  # also when a step below fails
  mount -t tmpfs -o mode=0755,size=1m tmpfs "$dev"
  for node in null zero full random urandom tty; do
    touch "$dev/$node"
    mount --bind "/dev/$node" "$dev/$node"
  done
  mkdir "$dev/pts" "$dev/shm" "$dev/mqueue"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$dev/pts"
  ln -s pts/ptmx "$dev/ptmx"
  ln -s /proc/self/fd "$dev/fd"
  ln -s /proc/self/fd/0 "$dev/stdin"
  ln -s /proc/self/fd/1 "$dev/stdout"
  ln -s /proc/self/fd/2 "$dev/stderr"
  mount -t tmpfs -o mode=1777,size=64m tmpfs "$dev/shm"
  mount -t mqueue mqueue "$dev/mqueue"
  chmod 1777 "$dev/mqueue"
  mount --move "$dev" /dev
  rmdir "$dev"
  ip link set lo up
  # Stage 3: an ordinary uid with no capabilities (a nested user namespace
  # whose only uid, 1000, is this namespace's root).
  exec unshare --map-user=1000 --map-group=1000 -- bash -c '
    cd "$0"
    echo "== inside: uid $(id -u), /dev/shm $(df -h --output=size /dev/shm | tail -n 1 | tr -d " "), $(grep -c . /proc/self/uid_map) uid map line(s)"
    ./tools/doctor || true
    exec ctest --output-on-failure "$@"' "$build" "$@"
fi

build=$(cd "${1:?usage: container_run.sh BUILD_DIR [CTEST_ARGS...]}" && pwd)
shift
if ! unshare --user --map-root-user --mount --ipc --net --pid --fork true 2>/dev/null; then
  echo "container_run: cannot show it here: this machine refuses new user namespaces (kernel.unprivileged_userns_clone, user.max_user_namespaces, or a seccomp profile)"
  exit 0
fi
if ! command -v ip >/dev/null; then
  echo "container_run: the 'ip' command (iproute2) is needed to bring up loopback in the new network namespace" >&2
  exit 1
fi
# The tests write into the build tree (logs, the leak guard's snapshot) as uid
# 1000 of the nested namespace, which owns nothing outside: open it up.
chmod -R a+rwX "$build"
exec unshare --user --map-root-user --mount --ipc --net --pid --fork --mount-proc \
  bash "$0" --inside "$build" "$@"
