#!/usr/bin/env bash
# Builds tools that only the tests need (never `npm start`) from the Go module proxy and caches them
# outside the repo, keyed by version, next to scripts/build-binaries.sh's cache:
#   cyclonus  evaluates NetworkPolicies offline (which peer may reach which pod and port), so tests
#             can check rendered policies without a CNI.
# A second run with the same versions is a no-op.
#
# Prints the bin directory on its last line of stdout; progress goes to stderr.
set -euo pipefail

CYCLONUS_VERSION="${CYCLONUS_VERSION:-v0.5.6}"

CACHE_ROOT="${MSO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modelservice-operator}"
KEY="test-tools_cyclonus-${CYCLONUS_VERSION}"
BIN="$CACHE_ROOT/$KEY/bin"
export CGO_ENABLED=0
export GOFLAGS="-mod=mod"
# The machine's Go lives here when it is not on PATH (as for processes started by npm).
[ -x /usr/local/go/bin/go ] && ! command -v go >/dev/null && export PATH="/usr/local/go/bin:$PATH"

log() { printf '[build-test-binaries] %s\n' "$*" >&2; }

# shellcheck source=scripts/build-steps.sh
source "$(dirname "$0")/build-steps.sh"

mkdir -p "$BIN"

# Parallel test runs on a cold cache would race on the same outputs: take turns.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/$KEY.lock"
  if ! flock -n 9; then
    log "another build of $KEY is running; waiting for it"
    flock 9
  fi
fi

# cyclonus' go.mod has no replace lines, so a plain `go install` of a named version works.
build_cyclonus() {
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/mattfenwick/cyclonus/cmd/cyclonus@$CYCLONUS_VERSION"
}

export CYCLONUS_VERSION BIN
export -f log build_cyclonus

total=$SECONDS
step "cyclonus $CYCLONUS_VERSION" cyclonus -- build_cyclonus
log "all test binaries ready in $((SECONDS - total))s: $BIN"
echo "$BIN"
