#!/bin/sh
# Supervisor of one test host for its whole life, started detached by hosts.ts.
# usage: run-host.sh NAME ROOT NETNS CGROUP_DIR...
#
# It first moves itself into the host's own cgroups, so nspawn --keep-unit (needed: this machine has no
# systemd to ask for a scope) puts the container's systemd in a tree no other host shares.
# `systemctl reboot` inside the host makes nspawn exit 133: boot again, like a real machine.
# SIGTERM is forwarded to nspawn, which powers the host off cleanly.
set -u
name=$1 root=$2 netns=$3
shift 3
for cg in "$@"; do
  mkdir -p "$cg"
  echo $$ > "$cg/cgroup.procs"
done

child=
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 0' TERM INT

while :; do
  echo "=== $(date -Is) booting $name"
  systemd-nspawn --quiet --boot --console=passive --keep-unit --register=no \
    --machine="$name" --directory="$root" --network-namespace-path="/run/netns/$netns" &
  child=$!
  wait "$child"
  rc=$?
  echo "=== $(date -Is) $name exited with $rc"
  [ "$rc" -eq 133 ] || exit "$rc"
done
