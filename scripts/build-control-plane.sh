#!/usr/bin/env bash
# Builds the real control plane used by the tests and the sandbox: kube-apiserver, kube-controller-manager and
# kubectl of one Kubernetes version, plus etcd v3.6, from the published Go modules (no Docker, no binary downloads).
#
# Why a wrapper module: k8s.io/kubernetes requires its staging modules at the fake version v0.0.0 and maps them with
# replace directives that only apply in its own repository, so a consumer must replace each one with its published
# v0.<minor>.<patch> release. The list is generated from the chosen tag's own go.mod, never hand-copied.
#
# Output: $EXPOSEDAPI_APIM_CACHE/bin/<k8s version>/{kube-apiserver,kube-controller-manager,kubectl,etcd}.
# Idempotent: a complete output directory makes the script exit at once.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE="${EXPOSEDAPI_APIM_CACHE:-$HOME/.cache/exposedapi-apim}"
OUT="$CACHE/bin/$KUBE_VERSION"
BINARIES=(kube-apiserver kube-controller-manager kubectl etcd)

log() { printf '[build-control-plane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# go build prints nothing for the many minutes of a cold build: say every 30 s that it is still going.
ticker() { local what=$1 t0; t0=$(date +%s); while sleep 30; do log "$what: still compiling after $(( $(date +%s) - t0 )) s"; done; }
with_ticker() {
  local what=$1 pid rc=0
  shift
  ticker "$what" &
  pid=$!
  "$@" || rc=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return "$rc"
}

complete() { for b in "${BINARIES[@]}"; do [ -x "$OUT/$b" ] || return 1; done; }
if complete; then
  log "cached: $OUT (kube $KUBE_VERSION, etcd $ETCD_VERSION)"
  echo "$OUT"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed or not on PATH. The control plane is built from the Kubernetes Go modules;" >&2
  echo "       install Go >= 1.26 (https://go.dev/dl/) and run this script again." >&2
  exit 3
fi
command -v jq >/dev/null 2>&1 || { echo "error: jq is required (apt-get install jq)" >&2; exit 3; }

# Never let a dependency's go line trigger a toolchain download: fail fast instead.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$OUT"
START=$(date +%s)

build_kube() {
  local sv="v0.${KUBE_VERSION#v1.}" minor w kmod ldf
  minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  w="$(mktemp -d)"
  trap 'rm -rf "$w"' RETURN
  cd "$w"
  log "kube $KUBE_VERSION: resolving modules in $w (staging modules at $sv)"
  go mod init local.invalid/exposedapi-apim-kube-bins >/dev/null 2>&1
  go mod edit -go=1.26.0
  printf '\ngodebug default=go1.26\n' >> go.mod
  kmod="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | jq -r .GoMod)"
  local n=0
  while read -r m; do go mod edit -replace="$m=$m@$sv"; n=$((n + 1)); done < <(
    go mod edit -json "$kmod" | jq -r '.Require[] | select(.Version=="v0.0.0") | .Path')
  log "kube: $n staging replace directives generated from k8s.io/kubernetes@$KUBE_VERSION's go.mod"
  go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
  for c in kube-apiserver kube-controller-manager kubectl; do go mod edit -tool="k8s.io/kubernetes/cmd/$c"; done
  go mod tidy
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  for c in kube-apiserver kube-controller-manager kubectl; do
    [ -x "$OUT/$c" ] && { log "kube: $c already built"; continue; }
    log "kube: compiling $c (cold: many minutes on 2 cores; progress below is go's package list)"
    with_ticker "kube: $c" go build -p 2 -trimpath -ldflags "$ldf" -o "$OUT/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$OUT/$c.tmp" "$OUT/$c"
    log "kube: $c done ($(du -h "$OUT/$c" | cut -f1))"
  done
}

build_etcd() {
  [ -x "$OUT/etcd" ] && { log "etcd already built"; return; }
  local w
  w="$(mktemp -d)"
  trap 'rm -rf "$w"' RETURN
  cd "$w"
  # A separate wrapper so that minimal version selection cannot move kube's dependencies.
  log "etcd $ETCD_VERSION: resolving and compiling"
  go mod init local.invalid/exposedapi-apim-etcd-bin >/dev/null 2>&1
  go mod edit -go=1.26.0 -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION" -tool=go.etcd.io/etcd/server/v3
  go mod tidy
  with_ticker etcd go build -p 2 -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
  log "etcd done ($(du -h "$OUT/etcd" | cut -f1))"
}

build_etcd
build_kube
cd /
printf '%s\n' "$KUBE_VERSION" > "$OUT/VERSION"
log "all built in $(( $(date +%s) - START )) s; cache size $(du -sh "$OUT" | cut -f1) (binaries), Go caches: $(du -sh "$(go env GOMODCACHE)" 2>/dev/null | cut -f1) modules, $(du -sh "$(go env GOCACHE)" 2>/dev/null | cut -f1) build"
echo "$OUT"
