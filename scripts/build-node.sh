#!/usr/bin/env bash
# Builds what a real dev-cluster node needs beside the control plane: kubelet, kube-proxy and kube-scheduler (the dev
# control plane has none: its node agent binds pods itself, a kubelet only runs pods already bound) of the same
# Kubernetes version, from the same published Go modules as scripts/build-control-plane.sh (same wrapper module, same version
# stamping), into the same cache directory. With the control plane's Go build cache warm this takes minutes, not the
# control plane's half hour, because most packages are shared.
#
# The container runtime and the CNI plugins are not built: they come from Debian (run as root, once per machine):
#   apt-get install -y --no-install-recommends containerd runc containernetworking-plugins iptables
# `--install-runtime` runs that line when one of them is missing (CI on a fresh Debian machine).
#
# Output: $EXPOSEDAPI_APIM_CACHE/bin/<k8s version>/{kubelet,kube-proxy,kube-scheduler}; the last stdout line is that directory.
# Idempotent: present binaries make the script exit at once.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.36.3}"
CACHE="${EXPOSEDAPI_APIM_CACHE:-$HOME/.cache/exposedapi-apim}"
OUT="$CACHE/bin/$KUBE_VERSION"
COMMANDS=(kubelet kube-proxy kube-scheduler)
APT_PACKAGES=(containerd runc containernetworking-plugins iptables)

log() { printf '[build-node %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

runtime_missing() {
  command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 &&
    [ -x /usr/lib/cni/bridge ] && command -v iptables >/dev/null 2>&1 && return 1
  return 0
}

if [ "${1:-}" = "--install-runtime" ] && runtime_missing; then
  log "installing the container runtime and CNI plugins from Debian: ${APT_PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: containerd's recommends would pull in more than a node needs.
  apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >&2
  # The package enables a system containerd on /run/containerd; the dev cluster runs its own, so stop that one if an
  # init system started it (nothing runs it in a container without systemd).
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
    systemctl disable --now containerd >&2 || true
  fi
fi

complete() { for c in "${COMMANDS[@]}"; do [ -x "$OUT/$c" ] || return 1; done; }
if complete; then
  log "cached: $OUT/{kubelet,kube-proxy,kube-scheduler} (kube $KUBE_VERSION)"
  echo "$OUT"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is not installed or not on PATH. The node binaries are built from the Kubernetes Go modules;" >&2
  echo "       install Go >= 1.26 (https://go.dev/dl/) and run this script again." >&2
  exit 3
fi
command -v jq >/dev/null 2>&1 || { echo "error: jq is required (apt-get install jq)" >&2; exit 3; }

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$OUT"
START=$(date +%s)
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
cd "$W"

# The same wrapper module as the control plane's (see that script for why): every staging module k8s.io/kubernetes
# requires at the fake v0.0.0 is replaced by its published v0.<minor>.<patch>, generated from the tag's go.mod.
SV="v0.${KUBE_VERSION#v1.}"
MINOR="$(echo "$KUBE_VERSION" | cut -d. -f2)"
log "kube $KUBE_VERSION: resolving modules in $W (staging modules at $SV)"
go mod init local.invalid/exposedapi-apim-node-bins >/dev/null 2>&1
go mod edit -go=1.26.0
printf '\ngodebug default=go1.26\n' >> go.mod
KMOD="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | jq -r .GoMod)"
n=0
while read -r m; do go mod edit -replace="$m=$m@$SV"; n=$((n + 1)); done < <(
  go mod edit -json "$KMOD" | jq -r '.Require[] | select(.Version=="v0.0.0") | .Path')
log "kube: $n staging replace directives generated from k8s.io/kubernetes@$KUBE_VERSION's go.mod"
go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
for c in "${COMMANDS[@]}"; do go mod edit -tool="k8s.io/kubernetes/cmd/$c"; done
go mod tidy
LDF="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR -X $p.gitTreeState=clean"
done

# go build prints nothing until it fails or finishes; on a cold cache that is many minutes of silence, so report the
# number of packages compiled so far (go's -x trace names each compile) every 30 s.
progress() {
  local trace=$1 c=$2 t0
  t0=$(date +%s)
  while sleep 30; do
    log "kube: $c still compiling after $(( $(date +%s) - t0 )) s ($(grep -c '/compile ' "$trace" 2>/dev/null || echo 0) packages compiled, cache hits not counted)"
  done
}

for c in "${COMMANDS[@]}"; do
  [ -x "$OUT/$c" ] && { log "kube: $c already built"; continue; }
  log "kube: compiling $c (cold cache: 10+ minutes on 2 cores; warm from the control plane build: a few minutes)"
  trace="$W/$c.trace"
  progress "$trace" "$c" &
  ticker=$!
  if ! go build -x -p 2 -trimpath -ldflags "$LDF" -o "$OUT/$c.tmp" "k8s.io/kubernetes/cmd/$c" 2>"$trace"; then
    kill "$ticker" 2>/dev/null || true
    grep -v '^\(mkdir\|cat\|cd\|EOF\|#\|packagefile\|WORK=\|echo\|mv\|rm\|cp\)' "$trace" | tail -40 >&2
    log "kube: building $c failed (trace above)"
    exit 1
  fi
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  mv "$OUT/$c.tmp" "$OUT/$c"
  log "kube: $c done ($(du -h "$OUT/$c" | cut -f1))"
done

cd /
"$OUT/kubelet" --version >&2
log "node binaries built in $(( $(date +%s) - START )) s"
echo "$OUT"
