#!/usr/bin/env bash
# The main job on a fresh machine: install the runtime, build, crawl the offline sample
# feeds (no internet needed), then list what the model flagged. Extra arguments go to
# `infodemic query` (e.g. `--json`, `--sort score`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --locked --release -p infodemic-cli
./target/release/infodemic crawl --feeds feeds/samples.toml
./target/release/infodemic query --flagged "$@"
