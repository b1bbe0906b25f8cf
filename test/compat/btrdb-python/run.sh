#!/usr/bin/env bash
# Runs the unmodified btrdb-python integration tests, then seed_usage.py (the documented usage of
# the client, checked against independently computed answers), against an ArborDB server. Calls
# setup.sh first (idempotent). Usage:
#   test/compat/btrdb-python/run.sh [pytest args…]                       # starts its own arbor serve
#   ARBOR_ENDPOINT=127.0.0.1:4410 ARBOR_API_KEY=secret test/compat/btrdb-python/run.sh   # a running server
#
# Environment:
#   ARBOR_ENDPOINT      host:port of a running server (port 4411 means TLS). Unset: run.sh starts
#                       `arbor serve` itself on a free port (never 4411) with a temporary data
#                       directory and a random API key, and stops it (SIGTERM, expecting exit 0).
#   ARBOR_API_KEY       a key the server accepts (test_incorrect_connect also needs auth on)
#   ARBOR_COMPAT_TESTS  auto (default): all tests when setup.sh found a real pyarrow, else nonarrow
#                       nonarrow: the selection that needs no pyarrow, see README.md
#                       all: every test (needs a real pyarrow)
#   ARBOR_COMPAT_SKIP_SETUP=1  skip setup.sh (use what it prepared before)
#   ARBOR_COMPAT_SEED=0 skip seed_usage.py
#   BTRDB_CA_BUNDLE     PEM file trusted for TLS (passed through to the client)
# Exit status: pytest's (5 = no test ran), else 1 if seed_usage.py or the server failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
work="${ARBOR_COMPAT_DIR:-${TMPDIR:-/tmp}/arbordb-compat-btrdb-python}"
selection="${ARBOR_COMPAT_TESTS:-auto}"
nonarrow='not arrow and not timesnap and not template and not no_flush and not aggregates_filter'

if [[ "${ARBOR_COMPAT_SKIP_SETUP:-0}" != 1 ]]; then ARBOR_COMPAT_DIR="$work" bash "$here/setup.sh"; fi
# shellcheck source=/dev/null
source "$work/env.sh"
real_site="${REAL_PYARROW_SITE:-}"

if [[ "$selection" == auto ]]; then
  if [[ -n "$real_site" ]]; then selection=all; else selection=nonarrow; fi
fi
case "$selection" in
  nonarrow) select_args=(-k "$nonarrow") ;;
  all) select_args=() ;;
  *) echo "run.sh: ARBOR_COMPAT_TESTS must be auto, nonarrow or all, not $selection" >&2; exit 2 ;;
esac

# The real pyarrow (from setup.sh step 4) when there is one, else the stand-in.
if [[ -n "$real_site" ]]; then
  pythonpath="$real_site:$BTRDB_PYTHON_SRC"
else
  pythonpath="$PYARROW_STUB:$BTRDB_PYTHON_SRC"
  [[ "$selection" == all ]] && echo "run.sh: warning: no real pyarrow; the Arrow tests will fail against the stand-in" >&2
fi
echo "run.sh: selection=$selection pyarrow=${real_site:-stand-in}"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/arbordb-compat-run.XXXXXX")"
server_pid=''
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -z "${ARBOR_ENDPOINT:-}" ]]; then
  # A free port that is not 4411 (the client would use TLS there).
  port="$("$COMPAT_PYTHON" -c 'import socket
while True:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    if p != 4411: print(p); break')"
  endpoint="127.0.0.1:$port"
  api_key="compat-$("$COMPAT_PYTHON" -c 'import secrets; print(secrets.token_hex(12))')"
  mkdir -p "$tmp/data"
  (cd "$repo" && exec node --import tsx -e \
    "import('./src/cli/serve.ts').then((m) => m.serveCommand(process.argv.slice(1)))" -- \
    --data "$tmp/data" --grpc "$endpoint" --http 127.0.0.1:0 --api-key "$api_key" >"$tmp/serve.out" 2>"$tmp/serve.err") &
  server_pid=$!
  for _ in $(seq 1 1200); do
    grep -q 'arbor serve: ready' "$tmp/serve.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: arbor serve exited:" >&2; cat "$tmp/serve.err" >&2; exit 1; }
    sleep 0.25
  done
  grep -q 'arbor serve: ready' "$tmp/serve.out" || { echo "run.sh: arbor serve not ready after 300 s" >&2; cat "$tmp/serve.err" >&2; exit 1; }
  echo "run.sh: started arbor serve (pid $server_pid) on $endpoint"
else
  endpoint="$ARBOR_ENDPOINT"
  api_key="${ARBOR_API_KEY:-}"
fi

host="${endpoint%:*}"
port="${endpoint##*:}"
if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "run.sh: nothing listens on $endpoint (start the server first, e.g. arbor serve)" >&2
  exit 1
fi
[[ -n "$api_key" ]] || echo "run.sh: warning: ARBOR_API_KEY is empty; the client will send no key" >&2

# A private HOME holding only the credentials profile (format: docs/api/server.md / guide §7).
home="$tmp/home"
mkdir -p "$home/.predictivegrid"
ENDPOINT="$endpoint" API_KEY="$api_key" "$COMPAT_PYTHON" - "$home/.predictivegrid/credentials.yaml" <<'PY'
import os, sys, yaml
btrdb = {"endpoints": os.environ["ENDPOINT"]}
if os.environ["API_KEY"]:
    btrdb["api_key"] = os.environ["API_KEY"]
with open(sys.argv[1], "w") as f:
    yaml.safe_dump({"arbor": {"name": "arbor", "btrdb": btrdb}}, f, default_flow_style=False)
PY

cd "$BTRDB_PYTHON_SRC"
set +e
if [[ "${ARBOR_COMPAT_BENCH_ONLY:-0}" == 1 ]]; then
  # Benchmark mode (npm run bench): the Python client's ingest throughput, no tests.
  env -u BTRDB_PROFILE HOME="$home" BTRDB_ENDPOINTS="$endpoint" BTRDB_API_KEY="$api_key" PYTHONPATH="$pythonpath" \
    PYTHONDONTWRITEBYTECODE=1 "$COMPAT_PYTHON" -W ignore "$here/ingest_bench.py"
  status=$?
  kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid"
  server_pid=''
  exit "$status"
fi
env -u BTRDB_ENDPOINTS -u BTRDB_API_KEY -u BTRDB_PROFILE \
  HOME="$home" BTRDB_INTEGRATION_TEST_PROFILE=arbor PYTHONPATH="$pythonpath" PYTHONDONTWRITEBYTECODE=1 \
  "$COMPAT_PYTHON" -m pytest tests/btrdb_integration -p no:cacheprovider -rA "${select_args[@]}" "$@"
status=$?
seed=0
if [[ "${ARBOR_COMPAT_SEED:-1}" != 0 ]]; then
  echo "run.sh: seed_usage.py"
  env -u BTRDB_PROFILE HOME="$home" BTRDB_ENDPOINTS="$endpoint" BTRDB_API_KEY="$api_key" PYTHONPATH="$pythonpath" \
    PYTHONDONTWRITEBYTECODE=1 "$COMPAT_PYTHON" -W ignore "$here/seed_usage.py"
  seed=$?
fi
stopped=0
if [[ -n "$server_pid" ]]; then
  kill -TERM "$server_pid"
  wait "$server_pid"
  stopped=$?
  server_pid=''
  [[ $stopped == 0 ]] || { echo "run.sh: arbor serve exited with $stopped after SIGTERM" >&2; cat "$tmp/serve.err" >&2; }
fi
set -e
if [[ $status != 0 ]]; then exit "$status"; fi
if [[ $seed != 0 || $stopped != 0 ]]; then exit 1; fi
exit 0
