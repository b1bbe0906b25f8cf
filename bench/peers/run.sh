#!/usr/bin/env bash
# Put ArborDB in the peers harness's table, in the same run as the peers (ratios within one run are
# what count on this noisy machine):
#
#   bash bench/peers/run.sh                    # arbordb + duckdb (in-process peers, no installs)
#   bash bench/peers/run.sh arbordb clickhouse # any adapters of ../shared/peers
#   PEERS_POINTS=100000 PEERS_REPS=1 bash bench/peers/run.sh arbordb   # quick
#
# The harness (../shared/peers) is read-only to us: it is copied to a scratch directory, our adapter
# (bench/peers/arbordb.mjs) is added to the copy, and the report lands in .bench/peers/.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="${PEERS_SRC:-$ROOT/../shared/peers}"
[ -f "$SRC/run-all.sh" ] || { echo "peers harness not found at $SRC (set PEERS_SRC)" >&2; exit 1; }
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/arbor-peers-XXXXXX")"
trap 'rm -rf "$SCRATCH/harness"' EXIT
cp -r "$SRC" "$SCRATCH/harness"
rm -rf "$SCRATCH/harness/results"
cp "$ROOT/bench/peers/arbordb.mjs" "$SCRATCH/harness/adapters/arbordb.mjs"
( cd "$ROOT" && npm run --silent build )
export ARBOR_REPO="$ROOT" PEERS_NO_COPY=1 PEERS_BENCH_DIR="${PEERS_BENCH_DIR:-$SCRATCH/work}"
if [ $# -eq 0 ]; then set -- arbordb duckdb; fi
bash "$SCRATCH/harness/run-all.sh" "$@"
mkdir -p "$ROOT/.bench/peers"
cp "$PEERS_BENCH_DIR"/results/* "$ROOT/.bench/peers/" 2>/dev/null || true
echo "report: $ROOT/.bench/peers/report.md"
