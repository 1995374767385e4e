#!/usr/bin/env bash
# The whole test suite, as CI and the README run it: installs what the tests need (a Python
# venv with a local S3 server, independent Parquet readers and PySpark), starts the S3 and
# Azure servers on 127.0.0.1, then runs the Rust tests, builds the Spark extension, and runs
# the Python tests (interop, faults, Azure, the report in a browser, the Spark job).
#
#   ci/test.sh            # everything
#   ci/test.sh --no-lint  # skip fmt/clippy
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

lint=1
[[ "${1:-}" == "--no-lint" ]] && lint=0

venv=${RECIPROCITY_VENV:-$root/.venv}
if [[ ! -x "$venv/bin/python" ]]; then
  echo "== creating $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements.sha"
want=$(sha256sum ci/requirements-test.txt | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "== installing test tools (ci/requirements-test.txt)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r ci/requirements-test.txt
  echo "$want" > "$stamp"
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (Debian's package) for the report's browser test"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null; }; then
    echo "warning: could not install chromium; the browser test will be skipped outside CI"
  fi
fi

echo "== starting a local S3 server (moto)"
mkdir -p target
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
export RECIPROCITY_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
export RECIPROCITY_TEST_S3_BUCKET=reciprocity-test
"$venv/bin/python" - <<PY
import time, urllib.request
url = "$RECIPROCITY_TEST_S3_ENDPOINT"
for _ in range(100):
    try:
        urllib.request.urlopen(url, timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    raise SystemExit("the S3 server did not start; see target/moto.log")
req = urllib.request.Request(url + "/$RECIPROCITY_TEST_S3_BUCKET", method="PUT")
urllib.request.urlopen(req, timeout=5)
PY

echo "== starting a local Azure Blob server (Azurite)"
azurite_dir="$root/target/azurite"
if [[ ! -x "$azurite_dir/node_modules/.bin/azurite-blob" ]] && command -v npm >/dev/null 2>&1; then
  mkdir -p "$azurite_dir"
  (cd "$azurite_dir" && npm install --silent --no-audit --no-fund azurite@3.37.0 >/dev/null 2>&1) \
    || echo "warning: could not install azurite; the az:// test will be skipped outside CI"
fi
if [[ -x "$azurite_dir/node_modules/.bin/azurite-blob" ]]; then
  az_port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  az_data=$(mktemp -d)
  "$azurite_dir/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$az_port" --location "$az_data" \
    --silent --skipApiVersionCheck > target/azurite.log 2>&1 &
  azurite_pid=$!
  trap 'kill $moto_pid $azurite_pid 2>/dev/null || true' EXIT
  export RECIPROCITY_TEST_AZURITE_URL="http://127.0.0.1:$az_port"
fi

# Tests that need the S3 server or Python fail here rather than skip.
export RECIPROCITY_REQUIRE_SERVICES=1
export RECIPROCITY_TEST_PYTHON="$venv/bin/python"

if [[ $lint == 1 ]]; then
  ci/lint.sh
fi

echo "== cargo test"
cargo test --release --locked

echo "== building the Spark extension (python/) into $venv"
VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --release --locked -m python/Cargo.toml -q
export PYSPARK_PYTHON="$venv/bin/python"

echo "== python interop tests"
export RECIPROCITY_BIN="$root/target/release/reciprocity"
"$venv/bin/python" -m pytest -q tests/python
