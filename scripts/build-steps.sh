# Sourced by the build scripts. step NAME OUTPUT... -- COMMAND: runs COMMAND unless every OUTPUT
# exists and is executable in $BIN, and reports how long it took and its peak memory.
# Needs $BIN and a log() function.
step() {
  local name="$1"; shift
  local outputs=()
  while [ "$1" != "--" ]; do outputs+=("$1"); shift; done
  shift
  local missing=0
  for o in "${outputs[@]}"; do [ -x "$BIN/$o" ] || missing=1; done
  if [ "$missing" = 0 ]; then log "$name: cached"; return 0; fi
  log "$name: building (first run only; this can take several minutes on 2 cores)"
  local start=$SECONDS
  if [ -x /usr/bin/time ]; then
    # GNU time reports the peak resident memory of the step's largest process (compiler or linker).
    local rss
    rss="$(mktemp)"
    /usr/bin/time -f '%M' -o "$rss" bash -c 'set -euo pipefail; "$@"' step "$@"
    log "$name: done in $((SECONDS - start))s, peak memory $(( $(tail -n 1 "$rss") / 1024 )) MiB"
    rm -f "$rss"
  else
    "$@"
    log "$name: done in $((SECONDS - start))s"
  fi
}
