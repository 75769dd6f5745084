#!/usr/bin/env bash
# Longer fuzzing than CI runs: every property-based harness over input from outside (feeds,
# loose XML and JSON repair, charsets, HTML text, OPML, post sources, ClaimReview, URLs, text)
# with many more cases. CI runs the same harnesses with proptest's default 256 cases.
#   bash scripts/fuzz.sh [CASES]     (default 20000)
# A failure prints the smallest input proptest found: add it as a regression test next to
# the code it broke.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PROPTEST_CASES="${1:-20000}"
cargo test --release --locked -p infodemic-crawler --test fuzz
cargo test --release --locked -p infodemic-claims -p infodemic-core -p infodemic-store --lib
