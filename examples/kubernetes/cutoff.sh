#!/bin/sh
# The deploy trigger's `cutoff` command: the circuit breaker tripped. Take the
# revision out of service at once (no Service, no pods) but keep its
# Deployment, scaled to zero, for the post-mortem.
set -eu
case "${REVISION:?}" in
  *[!0-9a-f]*) echo "cutoff.sh: REVISION is not a commit SHA" >&2; exit 2 ;;
esac
NAMESPACE="${NAMESPACE:-default}"
NAME="rev-$(printf '%.12s' "$REVISION")"
kubectl delete --namespace "$NAMESPACE" "service/$NAME" --ignore-not-found
kubectl scale --namespace "$NAMESPACE" "deployment/$NAME" --replicas=0
