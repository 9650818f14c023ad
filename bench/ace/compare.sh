#!/usr/bin/env bash
# Runs the Seatlens Go server's wrk benchmark (app/bench_test.go,
# TestWrkAuthenticatedPage: real store on disk, per-request JSON log lines to
# /dev/null) and this ACE baseline (run.sh) alternately, ROUNDS times each,
# with the same wrk command (wrk -t2 -c32 -d10s --latency), so both see the
# same machine conditions. Prints one summary line per run:
#   round=<i> go requests_per_sec=<N>
#   round=<i> ace requests_per_sec=<N>
# Env: ROUNDS (default 3).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
ROUNDS="${ROUNDS:-3}"

command -v go >/dev/null || { echo "compare.sh: go not found" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# Build the Go test binary once, outside the measured window.
(cd "$ROOT" && go test -c -o "$TMP/app.test" ./app)

summary=()
for i in $(seq 1 "$ROUNDS"); do
  echo "== round $i: go (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  go_out="$(cd "$ROOT/app" && SEATLENS_WRK=1 "$TMP/app.test" -test.run '^TestWrkAuthenticatedPage$' -test.count=1 -test.v 2>&1)" ||
    { echo "$go_out" >&2; echo "compare.sh: Go benchmark failed" >&2; exit 1; }
  echo "$go_out" >&2
  go_rps="$(grep -o 'seatlens requests_per_sec=[0-9.]*' <<<"$go_out" | tail -1 | cut -d= -f2)"

  echo "== round $i: ace (loadavg $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  ace_out="$("$HERE/run.sh")"
  echo "$ace_out" >&2
  ace_rps="$(tail -1 <<<"$ace_out" | cut -d= -f2)"

  summary+=("round=$i go requests_per_sec=$go_rps" "round=$i ace requests_per_sec=$ace_rps")
done
printf '%s\n' "${summary[@]}"
