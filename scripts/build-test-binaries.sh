#!/usr/bin/env bash
# Builds tools that only the tests need (never `npm start`) from the Go module proxy and caches them
# outside the repo, each keyed by its own version (so adding a tool or bumping one rebuilds only
# that tool), next to scripts/build-binaries.sh's cache:
#   cyclonus  evaluates NetworkPolicies offline (which peer may reach which pod and port), so tests
#             can check rendered policies without a CNI.
#   lws-manager  the LeaderWorkerSet controller (sigs.k8s.io/lws), so multi-node ModelServices are
#             tested against the real controller that turns a LeaderWorkerSet into StatefulSets and pods.
#   keda      KEDA's operator (ScaledObject -> HPA, and the 0<->1 activation that scale to zero needs).
#   keda-http the HTTP add-on's interceptor (holds requests while a model wakes) and its scaler.
# Every tool's binaries are linked into one directory, printed on the last line of stdout; progress
# goes to stderr. A second run with the same versions is a no-op.
set -euo pipefail

CYCLONUS_VERSION="${CYCLONUS_VERSION:-v0.5.6}"
LWS_VERSION="${LWS_VERSION:-v0.8.0}"
KEDA_VERSION="${KEDA_VERSION:-v2.21.0}"
KEDA_HTTP_VERSION="${KEDA_HTTP_VERSION:-v0.15.0}"

CACHE_ROOT="${MSO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelservice-operator}"
TOOLS="$CACHE_ROOT/test-tools"
LINKS="$TOOLS/bin"
export CGO_ENABLED=0
export GOFLAGS="-mod=mod"
# The machine's Go lives here when it is not on PATH (as for processes started by npm).
[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null && export PATH="/usr/local/go/bin:$PATH"

log() { printf '[build-test-binaries] %s\n' "$*" >&2; }

# shellcheck source=scripts/build-steps.sh
source "$(dirname "$0")/build-steps.sh"

mkdir -p "$LINKS"

# cyclonus' go.mod has no replace lines, so a plain `go install` of a named version works.
build_cyclonus() {
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/mattfenwick/cyclonus/cmd/cyclonus@$CYCLONUS_VERSION"
}

# lws' go.mod has no replace lines either, but `go install ...@version` asks the proxy for the
# module's version list (to check deprecation), which the proxy refuses for lws; so it is built from
# a throwaway module that requires exactly that version. Its main package is sigs.k8s.io/lws/cmd.
build_lws() {
  local mod
  mod="$(mktemp -d)"
  printf 'module lwsbuild\n\ngo 1.25.0\n\nrequire sigs.k8s.io/lws %s\n' "$LWS_VERSION" >"$mod/go.mod"
  (cd "$mod" && go build -trimpath -ldflags "-s -w" -o "$BIN/lws-manager" sigs.k8s.io/lws/cmd)
  rm -rf "$mod"
}

# KEDA's go.mod has a replace and an exclude line, which `go install pkg@version` refuses: build
# from a throwaway wrapper module that requires KEDA and repeats them (read from KEDA's own go.mod,
# so a version bump needs no edit here).
build_keda() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  local dir
  dir="$(go mod download -json "github.com/kedacore/keda/v2@$KEDA_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  {
    echo "module keda-build"
    sed -n 's/^go .*/&/p' "$dir/go.mod"
    echo "require github.com/kedacore/keda/v2 $KEDA_VERSION"
    grep -E '^(replace|exclude) ' "$dir/go.mod"
  } >"$work/go.mod"
  (cd "$work" && go get "github.com/kedacore/keda/v2/cmd/operator@$KEDA_VERSION" >&2 &&
    go build -trimpath -ldflags "-s -w" -o "$BIN/keda-operator" github.com/kedacore/keda/v2/cmd/operator)
}

# Built inside the add-on's own module (its go.mod and go.sum as released): `go install pkg@version`
# first asks the proxy for the module's version list (deprecation check), which a proxy that
# serves only named versions refuses.
build_keda_http() {
  local dir
  dir="$(go mod download -json "github.com/kedacore/http-add-on@$KEDA_HTTP_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  (cd "$dir" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$BIN/interceptor" ./interceptor &&
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$BIN/scaler" ./scaler)
}

# tool NAME VERSION OUTPUT... -- BUILD_FUNCTION: builds into $TOOLS/NAME-VERSION/bin unless cached,
# then links its outputs into $LINKS.
tool() {
  local name="$1" version="$2"; shift 2
  local outputs=()
  while [ "$1" != "--" ]; do outputs+=("$1"); shift; done
  shift
  BIN="$TOOLS/$name-$version/bin"
  mkdir -p "$BIN"
  export BIN
  # Parallel test runs on a cold cache would race on the same outputs: they take turns per tool,
  # so a long build of one tool never holds up the others.
  (
    if command -v flock >/dev/null; then
      exec 9>"$TOOLS/$name-$version.lock"
      if ! flock -n 9; then
        log "another build of $name $version is running; waiting for it"
        flock 9
      fi
    fi
    step "$name $version" "${outputs[@]}" -- "$@"
  )
  for o in "${outputs[@]}"; do ln -sfn "$BIN/$o" "$LINKS/$o"; done
}

export CYCLONUS_VERSION LWS_VERSION KEDA_VERSION KEDA_HTTP_VERSION
export -f log build_cyclonus build_lws build_keda build_keda_http

total=$SECONDS
tool cyclonus "$CYCLONUS_VERSION" cyclonus -- build_cyclonus
tool lws "$LWS_VERSION" lws-manager -- build_lws
tool keda "$KEDA_VERSION" keda-operator -- build_keda
tool keda-http "$KEDA_HTTP_VERSION" interceptor scaler -- build_keda_http
log "all test binaries ready in $((SECONDS - total))s: $LINKS"
echo "$LINKS"
