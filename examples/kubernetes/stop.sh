#!/bin/sh
# The deploy trigger's `stop` command: the reaper retires an old revision.
set -eu
case "${REVISION:?}" in
  *[!0-9a-f]*) echo "stop.sh: REVISION is not a commit SHA" >&2; exit 2 ;;
esac
NAMESPACE="${NAMESPACE:-default}"
NAME="rev-$(printf '%.12s' "$REVISION")"
kubectl delete --namespace "$NAMESPACE" "deployment/$NAME" "service/$NAME" --ignore-not-found
