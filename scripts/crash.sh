#!/usr/bin/env bash
# Crash safety at length: the e2e test that SIGKILLs `watch` at varied points, with many more
# kills than CI's 24.
#   bash scripts/crash.sh [KILLS]     (default 100)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
cargo build --locked -p infodemic-cli
INFODEMIC_CRASH_KILLS="${1:-100}" cargo test --locked -p infodemic-e2e --test e2e crash -- --nocapture
