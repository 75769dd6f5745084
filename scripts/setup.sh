#!/usr/bin/env bash
# Installs what the infodemic binary needs at run time and nothing else: the ONNX Runtime
# shared library from the PyPI wheel onnxruntime==1.31.1, unpacked into .ort/ of this
# checkout (ignored by git). The binary finds it there without any environment variable.
# Idempotent: does nothing when the library is already in place.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib="$root/.ort/onnxruntime/capi/libonnxruntime.so.1.31.1"
if [[ -f "$lib" ]]; then
  echo "setup: ONNX Runtime already installed at ${lib#"$root"/}"
  exit 0
fi
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null; then
  echo "setup: python3 with pip is needed to fetch onnxruntime==1.31.1 from PyPI" >&2
  exit 1
fi
echo "setup: installing onnxruntime==1.31.1 (library only) into .ort/"
rm -rf "$root/.ort.tmp"
# --no-deps: only the shared library is used, not the Python package's dependencies.
"$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
  --target "$root/.ort.tmp" "onnxruntime==1.31.1"
rm -rf "$root/.ort"
mv "$root/.ort.tmp" "$root/.ort"
test -f "$lib" || { echo "setup: the wheel has no ${lib#"$root"/}" >&2; exit 1; }
echo "setup: done (${lib#"$root"/})"
