#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them outside the
# repo, keyed by version: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd,
# kwok, helm. A second run with the same versions is a no-op.
#
# Prints the bin directory on its last line of stdout; progress goes to stderr.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"

CACHE_ROOT="${MSO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelservice-operator}"
KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
BIN="$CACHE_ROOT/$KEY/bin"
WORK="$CACHE_ROOT/$KEY/work"
export CGO_ENABLED=0
export GOFLAGS="-mod=mod"

log() { printf '[build-binaries] %s\n' "$*" >&2; }

# shellcheck source=scripts/build-steps.sh
source "$(dirname "$0")/build-steps.sh"

mkdir -p "$BIN" "$WORK"

# Two runs at once (parallel test runs on a cold cache) would race on the same outputs: take turns.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/$KEY.lock"
  if ! flock -n 9; then
    log "another build of $KEY is running; waiting for it"
    flock 9
  fi
fi

build_kubernetes() {
  local dir="$WORK/kubernetes" minor
  minor="$(echo "$K8S_VERSION" | cut -d. -f2)"
  local staging="v0.${K8S_VERSION#v1.}"
  mkdir -p "$dir"
  (
    cd "$dir"
    local modinfo gomod
    modinfo="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")"
    gomod="$(printf '%s' "$modinfo" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
    # The release's go.mod replaces each staging module with ./staging/...; point each at its
    # published version instead, and carry over the release's go and godebug lines.
    {
      echo "module modelservice-operator/k8s-binaries"
      grep -E '^go [0-9]' "$gomod"
      grep -E '^godebug ' "$gomod" || true
      echo "require k8s.io/kubernetes $K8S_VERSION"
      grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$gomod" |
        awk -v v="$staging" '{ print "replace " $1 " => " $1 " " v }'
    } > go.mod
    local date ldflags
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
    done
    go build -trimpath -ldflags "$ldflags" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl
  )
}

build_etcd() {
  local dir="$WORK/etcd"
  mkdir -p "$dir"
  (
    cd "$dir"
    local modinfo gomod
    modinfo="$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION")"
    gomod="$(printf '%s' "$modinfo" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
    {
      echo "module modelservice-operator/etcd-binary"
      grep -E '^go [0-9]' "$gomod"
      echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
      grep -E '^\s*go.etcd.io/etcd/[a-z0-9/]+ => \.\./' "$gomod" |
        awk -v v="$ETCD_VERSION" '{ print "replace " $1 " => " $1 " " v }'
    } > go.mod
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  )
}

build_kwok() { GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"; }
build_helm() {
  GOBIN="$BIN" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
}

# The steps run in a child bash when measured: it needs the functions and settings.
export K8S_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION BIN WORK
export -f log build_kubernetes build_etcd build_kwok build_helm

total=$SECONDS
step "etcd $ETCD_VERSION" etcd -- build_etcd
step "kwok $KWOK_VERSION" kwok -- build_kwok
step "kubernetes $K8S_VERSION" kube-apiserver kube-controller-manager kube-scheduler kubectl -- build_kubernetes
step "helm $HELM_VERSION" helm -- build_helm
log "all binaries ready in $((SECONDS - total))s: $BIN"
echo "$BIN"
