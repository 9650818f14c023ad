#!/usr/bin/env bash
# Baseline benchmark: atlassian-connect-express serving one JWT-authenticated
# page (GET /admin, addon.authenticate() with qsh), driven by
#   wrk -t2 -c32 -d10s --latency <url>
# Last line of output: "ace requests_per_sec=<N>".
#
# Env: PORT (default: a free loopback port), DURATION (default 10s),
#      QUERY (page query without jwt; default: token.js's default).
set -euo pipefail

cd "$(dirname "$0")"

die() { echo "run.sh: $*" >&2; exit 1; }

command -v node >/dev/null || die "node not found (Node 20+ needed)"
command -v npm >/dev/null || die "npm not found"
command -v curl >/dev/null || die "curl not found"

# 1. Dependencies, exactly as pinned in package-lock.json. Optional deps are
#    omitted (ACE's only optional dep is @ngrok/ngrok, a native prebuilt used
#    for local tunnelling in development) and no install scripts run.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "run.sh: npm ci" >&2
  npm ci --omit=optional --ignore-scripts --no-audit --no-fund >&2
fi

# 2. wrk from Debian.
if ! command -v wrk >/dev/null; then
  echo "run.sh: installing wrk" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y wrk >&2 || { $SUDO apt-get update >&2 && $SUDO apt-get install -y wrk >&2; }
fi

# 3. Start the app (production mode, its output to /dev/null: the Go server
#    is benchmarked with its per-request JSON log lines sent to /dev/null too).
PORT="${PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
DURATION="${DURATION:-10s}"
BASE="http://127.0.0.1:${PORT}"

NODE_ENV=production PORT="$PORT" node app.js >/dev/null 2>&1 &
APP_PID=$!
stop_app() {
  if kill -0 "$APP_PID" 2>/dev/null; then
    kill "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
  fi
}
trap stop_app EXIT

for _ in $(seq 1 100); do
  if curl -fs -o /dev/null "${BASE}/atlassian-connect.json"; then break; fi
  kill -0 "$APP_PID" 2>/dev/null || die "app exited during startup (run: NODE_ENV=production PORT=$PORT node app.js)"
  sleep 0.1
done
curl -fs -o /dev/null "${BASE}/atlassian-connect.json" || die "app did not come up on ${BASE}"

# 4. A signed page URL, and proof that it is really authenticated.
if [ -n "${QUERY:-}" ]; then
  PAGE="$(node token.js "$QUERY")"
else
  PAGE="$(node token.js)"
fi
URL="${BASE}${PAGE}"
TAMPERED="${BASE}${PAGE/&jwt=/&x=1&jwt=}"   # extra query param not covered by qsh
NOJWT="${BASE}${PAGE%%&jwt=*}"

status() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
s=$(status "$URL");      [ "$s" = 200 ] || die "signed URL answered $s, want 200"
s=$(status "$TAMPERED"); [ "$s" = 401 ] || die "tampered URL answered $s, want 401"
s=$(status "$NOJWT");    [ "$s" = 401 ] || die "URL without jwt answered $s, want 401"
echo "run.sh: ACE $(node -p 'require("atlassian-connect-express/package.json").version'), node $(node --version);" \
     "signed URL 200, tampered query 401, no jwt 401" >&2

# 5. Load. Also record the app's own CPU time (utime+stime from /proc) over
#    the run: CPU per request is far less sensitive than requests/sec to
#    other work on this 2-core machine. loadavg is printed for the same reason.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$APP_PID/stat"; }
CLK_TCK="$(getconf CLK_TCK)"
echo "run.sh: loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
T0="$(cpu_ticks)"
OUT="$(wrk -t2 -c32 -d"$DURATION" --latency "$URL")"
T1="$(cpu_ticks)"
echo "$OUT"
echo "run.sh: loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
kill -0 "$APP_PID" 2>/dev/null || die "app died during the run"
if grep -q 'Non-2xx or 3xx responses' <<<"$OUT"; then
  die "wrk saw non-2xx responses: the numbers do not measure authenticated pages"
fi
RPS="$(awk '/^Requests\/sec:/ {print $2}' <<<"$OUT")"
[ -n "$RPS" ] || die "could not read Requests/sec from wrk output"

REQS="$(awk '/requests in/ {print $1}' <<<"$OUT")"
awk -v t="$((T1 - T0))" -v hz="$CLK_TCK" -v n="$REQS" 'BEGIN {
  printf "app CPU: %.2f s for %d requests = %.0f us/request (one Node process = at most one core of JS)\n", t / hz, n, (n > 0 ? 1e6 * t / hz / n : 0) }'

stop_app
trap - EXIT
echo "ace requests_per_sec=${RPS}"
