#!/bin/sh
# tests: deploy-repo-example service "queue", the one with an `exec` probe.
# A TCP server (busybox nc) on $QUEUE_PORT that answers every connection with "queue $VERSION".
#   queue.sh          serve (what the unit runs)
#   queue.sh check    the exec probe: exit 0 when the server on the port answers "queue ...", else 1
#   queue.sh respond  one answer, run by nc for each connection
# An e2e test makes a new release by editing the VERSION line.
VERSION=1.0.0

set -eu
# The probe runs over SSH, outside the unit, without its env file: the default must match spec.yml.
port="${QUEUE_PORT:-9000}"

case "${1:-serve}" in
  serve)
    echo "queue $VERSION listening on port $port"
    # -ll keeps listening after each connection; -e runs this script again to answer it.
    exec busybox nc -ll -p "$port" -e "$0" respond
    ;;
  respond)
    printf 'queue %s\n' "$VERSION"
    ;;
  check)
    reply="$(busybox nc -w 2 127.0.0.1 "$port" </dev/null 2>/dev/null || true)"
    case "$reply" in
      "queue "*) echo "$reply" ;;
      *) echo "queue: no answer on port $port" >&2; exit 1 ;;
    esac
    ;;
  *)
    echo "usage: $0 [serve|check|respond]" >&2
    exit 2
    ;;
esac
