#!/bin/sh
# The deploy trigger's `deploy` command when Kubernetes runs the revisions.
# It applies a Deployment and a Service for this revision, beside the ones
# already there, then stays in the foreground forwarding PORT to the Service:
# the trigger probes the revision through it, and stopping this process only
# stops the forward (Kubernetes keeps running the revision until cutoff/stop).
#
# In the environment (from the trigger): REVISION, PORT, REPOSITORY, CHECKOUT, SIGNAL_URL.
# Settings: IMAGE_REPOSITORY (the image is IMAGE_REPOSITORY:REVISION), NAMESPACE, CONTAINER_PORT.
set -eu
case "${REVISION:?}" in
  *[!0-9a-f]*) echo "deploy.sh: REVISION is not a commit SHA" >&2; exit 2 ;;
esac
: "${PORT:?}" "${REPOSITORY:?}"
NAMESPACE="${NAMESPACE:-default}"
IMAGE_REPOSITORY="${IMAGE_REPOSITORY:-registry.example.com/${REPOSITORY}}"
CONTAINER_PORT="${CONTAINER_PORT:-8080}"
NAME="rev-$(printf '%.12s' "$REVISION")"
APP="$(printf '%s' "$REPOSITORY" | tr 'A-Z' 'a-z' | sed 's/[^a-z0-9-]/-/g')"

# The manifests carry the revision in labels, the image tag and the environment.
# (The values are a hex SHA and the operator's settings; the heredoc only substitutes them.)
kubectl apply --namespace "$NAMESPACE" -f - <<MANIFESTS
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $NAME
  labels:
    app.kubernetes.io/name: "$APP"
    merge-gate/revision: "$REVISION"
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: "$APP"
      merge-gate/revision: "$REVISION"
  template:
    metadata:
      labels:
        app.kubernetes.io/name: "$APP"
        merge-gate/revision: "$REVISION"
    spec:
      containers:
        - name: app
          image: "$IMAGE_REPOSITORY:$REVISION"
          ports:
            - containerPort: $CONTAINER_PORT
          env:
            - { name: REVISION, value: "$REVISION" }
            - { name: PORT, value: "$CONTAINER_PORT" }
            - { name: SIGNAL_URL, value: "$SIGNAL_URL" }
          readinessProbe:
            httpGet: { path: /healthz, port: $CONTAINER_PORT }
---
apiVersion: v1
kind: Service
metadata:
  name: $NAME
  labels:
    app.kubernetes.io/name: "$APP"
    merge-gate/revision: "$REVISION"
spec:
  selector:
    app.kubernetes.io/name: "$APP"
    merge-gate/revision: "$REVISION"
  ports:
    - port: 80
      targetPort: $CONTAINER_PORT
MANIFESTS

exec kubectl port-forward --namespace "$NAMESPACE" "service/$NAME" "$PORT:80"
