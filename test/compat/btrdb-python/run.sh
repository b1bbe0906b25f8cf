#!/usr/bin/env bash
# Runs the unmodified btrdb-python integration tests against a running ArborDB (or any BTrDB v5)
# server. Calls setup.sh first (idempotent). Usage:
#   ARBOR_ENDPOINT=127.0.0.1:4410 ARBOR_API_KEY=secret test/compat/btrdb-python/run.sh [pytest args…]
#
# Environment:
#   ARBOR_ENDPOINT      host:port of the server (default 127.0.0.1:4410; port 4411 means TLS)
#   ARBOR_API_KEY       a key the server accepts (test_incorrect_connect also needs auth on)
#   ARBOR_COMPAT_TESTS  nonarrow (default): the selection that needs no pyarrow, see README.md
#                       all: every test (needs a real pyarrow, and Info reporting minor >= 30)
#   ARBOR_COMPAT_SKIP_SETUP=1  skip setup.sh (use what it prepared before)
#   BTRDB_CA_BUNDLE     PEM file trusted for TLS (passed through to the client)
# Exit status: pytest's (5 = no test ran).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${ARBOR_COMPAT_DIR:-${TMPDIR:-/tmp}/arbordb-compat-btrdb-python}"
endpoint="${ARBOR_ENDPOINT:-127.0.0.1:4410}"
api_key="${ARBOR_API_KEY:-}"
selection="${ARBOR_COMPAT_TESTS:-nonarrow}"
nonarrow='not arrow and not timesnap and not template and not no_flush and not aggregates_filter'

if [[ "${ARBOR_COMPAT_SKIP_SETUP:-0}" != 1 ]]; then ARBOR_COMPAT_DIR="$work" bash "$here/setup.sh"; fi
# shellcheck source=/dev/null
source "$work/env.sh"

case "$selection" in
  nonarrow) select_args=(-k "$nonarrow") ;;
  all) select_args=() ;;
  *) echo "run.sh: ARBOR_COMPAT_TESTS must be nonarrow or all, not $selection" >&2; exit 2 ;;
esac

# The stand-in goes on the path unless "all" was asked for and a real pyarrow is importable.
pythonpath="$PYARROW_STUB:$BTRDB_PYTHON_SRC"
if [[ "$selection" == all ]]; then
  if "$COMPAT_PYTHON" -c 'import pyarrow' 2>/dev/null; then
    pythonpath="$BTRDB_PYTHON_SRC"
  else
    echo "run.sh: warning: no real pyarrow; the Arrow tests will fail against the stand-in" >&2
  fi
fi

host="${endpoint%:*}"
port="${endpoint##*:}"
if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "run.sh: nothing listens on $endpoint (start the server first, e.g. arbor serve)" >&2
  exit 1
fi
[[ -n "$api_key" ]] || echo "run.sh: warning: ARBOR_API_KEY is empty; the client will send no key" >&2

# A private HOME holding only the credentials profile (format: docs/api/wire.md / guide §7).
home="$(mktemp -d "${TMPDIR:-/tmp}/arbordb-compat-home.XXXXXX")"
trap 'rm -rf "$home"' EXIT
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
env -u BTRDB_ENDPOINTS -u BTRDB_API_KEY -u BTRDB_PROFILE \
  HOME="$home" BTRDB_INTEGRATION_TEST_PROFILE=arbor PYTHONPATH="$pythonpath" PYTHONDONTWRITEBYTECODE=1 \
  "$COMPAT_PYTHON" -m pytest tests/btrdb_integration -p no:cacheprovider -rA "${select_args[@]}" "$@"
status=$?
set -e
exit "$status"
