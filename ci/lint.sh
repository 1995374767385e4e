#!/usr/bin/env bash
# Formatting and lints, warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy"
cargo clippy --release --locked --all-targets -- -D warnings
