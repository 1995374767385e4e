#!/usr/bin/env bash
# Formatting and lints, warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --all --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --release --locked --workspace --all-targets -- -D warnings
