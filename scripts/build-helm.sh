#!/usr/bin/env bash
# Builds the Helm v3 client used by the chart tests (helm lint, template, install/upgrade/uninstall) from its published
# Go module (no binary downloads), stamped with its version, like a release build.
#
# Why `go install pkg@version` and no wrapper module (unlike build-control-plane.sh): helm.sh/helm/v3 has no replace
# directives, so its own go.mod is used as released: the same dependency versions as the official binaries.
# Why the ldflags: without them `helm version` says "v3.<minor>" and Helm assumes Kubernetes v1.20 for
# .Capabilities.KubeVersion and its lint rules; the release Makefile derives both from the k8s.io/client-go it requires.
#
# Output: $EXPOSEDAPI_APIM_CACHE/bin/helm-<version>/helm (the path is printed on stdout). The Go module and build
# caches are Go's own (shared with the control-plane build). Idempotent: an existing binary makes the script exit at once.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${EXPOSEDAPI_APIM_CACHE:-$HOME/.cache/exposedapi-apim}"
OUT="$CACHE/bin/helm-$HELM_VERSION"

log() { printf '[build-helm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -x "$OUT/helm" ]; then
  log "cached: $OUT/helm"
  echo "$OUT/helm"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed or not on PATH. Helm is built from its Go module;" >&2
  echo "       install Go >= 1.26 (https://go.dev/dl/) and run this script again." >&2
  exit 3
fi
command -v jq >/dev/null 2>&1 || { echo "error: jq is required (apt-get install jq)" >&2; exit 3; }

# Never let a dependency's go line trigger a toolchain download: fail fast instead.
export GOTOOLCHAIN=local CGO_ENABLED=0
START=$(date +%s)

log "helm $HELM_VERSION: resolving the module"
gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | jq -r .GoMod)"
# The Kubernetes version Helm reports by default is the client-go minor it is built with, plus one major (v0.37 -> 1.37).
client_go="$(go mod edit -json "$gomod" | jq -r '.Require[] | select(.Path=="k8s.io/client-go") | .Version')"
[[ "$client_go" =~ ^v0\.([0-9]+)\. ]] || { echo "error: cannot read k8s.io/client-go's version from $gomod (got '$client_go')" >&2; exit 1; }
kube_minor="${BASH_REMATCH[1]}"

ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldf="$ldf -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$kube_minor"
done

tmp="$OUT.tmp-$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
log "helm $HELM_VERSION: compiling (cold: a few minutes on 2 cores; Kubernetes $client_go client libraries)"
GOBIN="$tmp" go install -p 2 -trimpath -ldflags "$ldf" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
got="$("$tmp/helm" version --template '{{.Version}}')"
[ "$got" = "$HELM_VERSION" ] || { echo "error: the built helm reports version '$got', expected $HELM_VERSION" >&2; exit 1; }
mkdir -p "$OUT"
mv "$tmp/helm" "$OUT/helm"
log "helm $HELM_VERSION built in $(( $(date +%s) - START )) s ($(du -h "$OUT/helm" | cut -f1))"
echo "$OUT/helm"
