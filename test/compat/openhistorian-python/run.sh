#!/usr/bin/env bash
# Runs seed_usage.py — the unmodified openhistorian Python client's documented operations, checked
# against independently computed answers — against `arbor serve --snapdb`. Calls setup.sh first.
# Usage:
#   test/compat/openhistorian-python/run.sh                           # starts its own arbor serve
#   ARBOR_SNAPDB_ENDPOINT=127.0.0.1:38402 test/compat/openhistorian-python/run.sh   # a running server (empty PPA)
#
# Environment:
#   ARBOR_SNAPDB_ENDPOINT  host:port of a running server's SNAPdb listener. Unset: run.sh starts
#                          `arbor serve --snapdb` on a free port with a temporary data directory
#                          and stops it with SIGTERM (expecting exit 0).
#   ARBOR_COMPAT_SKIP_SETUP=1   skip setup.sh (use what it prepared before)
#   ARBOR_COMPAT_BENCH_ONLY=1   run bench.py (write/read points/s) instead of the checks
#   ARBOR_BENCH_POINTS          points for bench.py (default 100000)
# Exit status: 0 when every check passed and the server stopped cleanly, else 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="${ARBOR_COMPAT_DIR:-${TMPDIR:-/tmp}/arbordb-compat-openhistorian-python}"

if [[ "${ARBOR_COMPAT_SKIP_SETUP:-0}" != 1 ]]; then ARBOR_COMPAT_DIR="$work" bash "$here/setup.sh"; fi
# shellcheck source=/dev/null
source "$work/env.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/arbordb-compat-oh.XXXXXX")"
server_pid=''
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -z "${ARBOR_SNAPDB_ENDPOINT:-}" ]]; then
  port="$("$COMPAT_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  endpoint="127.0.0.1:$port"
  mkdir -p "$tmp/data"
  (cd "$repo" && exec node --import tsx -e \
    "import('./src/cli/serve.ts').then((m) => m.serveCommand(process.argv.slice(1)))" -- \
    --data "$tmp/data" --grpc 127.0.0.1:0 --http 127.0.0.1:0 --snapdb "$endpoint" >"$tmp/serve.out" 2>"$tmp/serve.err") &
  server_pid=$!
  for _ in $(seq 1 1200); do
    grep -q 'arbor serve: ready' "$tmp/serve.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: arbor serve exited:" >&2; cat "$tmp/serve.err" >&2; exit 1; }
    sleep 0.25
  done
  grep -q 'arbor serve: ready' "$tmp/serve.out" || { echo "run.sh: arbor serve not ready after 300 s" >&2; cat "$tmp/serve.err" >&2; exit 1; }
  echo "run.sh: started arbor serve (pid $server_pid), SNAPdb on $endpoint"
else
  endpoint="$ARBOR_SNAPDB_ENDPOINT"
fi
host="${endpoint%:*}"
port="${endpoint##*:}"

set +e
if [[ "${ARBOR_COMPAT_BENCH_ONLY:-0}" == 1 ]]; then
  PYTHONPATH="$OPENHISTORIAN_PYTHON_SRC" PYTHONDONTWRITEBYTECODE=1 "$COMPAT_PYTHON" "$here/bench.py" "$host" "$port" "${ARBOR_BENCH_POINTS:-100000}"
else
  PYTHONPATH="$OPENHISTORIAN_PYTHON_SRC" PYTHONDONTWRITEBYTECODE=1 "$COMPAT_PYTHON" -W ignore "$here/seed_usage.py" "$host" "$port"
fi
status=$?
stopped=0
if [[ -n "$server_pid" ]]; then
  kill -TERM "$server_pid"
  wait "$server_pid"
  stopped=$?
  server_pid=''
  [[ $stopped == 0 ]] || { echo "run.sh: arbor serve exited with $stopped after SIGTERM" >&2; cat "$tmp/serve.err" >&2; }
fi
set -e
if [[ $status != 0 || $stopped != 0 ]]; then exit 1; fi
exit 0
