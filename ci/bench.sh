#!/usr/bin/env bash
# The benchmark: our job vs DuckDB and Polars on generated populations (see bench/bench.py).
# Needs ~6 GB of disk under target/bench-data and takes ~15-25 minutes on 2 cores.
#   ci/bench.sh                      # 1M accounts, scaling 0.5M/1M/2M, 3 runs each after 1 warm-up (--warmup N)
#   ci/bench.sh --accounts 200000 --no-scaling --runs 1   # a quick look
#   ci/bench.sh --baseline /tmp/reciprocity-before        # also a before/after table against another build
#   ci/bench.sh out-of-core                      # 3M accounts: in memory = spilled = re-read buckets
#   ci/bench.sh out-of-core --moonshot           # 41.7M accounts / 1.47B follows under 16 GiB (~26 GB disk)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RECIPROCITY_VENV:-$(pwd)/.venv}
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r ci/requirements-test.txt
cargo build --release --locked
if [[ "${1:-}" == out-of-core ]]; then
  shift
  exec "$venv/bin/python" bench/out_of_core.py "$@"
fi
exec "$venv/bin/python" bench/bench.py "$@"
