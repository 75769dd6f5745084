"""How much a model's outputs move between CPU families, measured by emulation.

    python3 models/train/cross_cpu.py [--models DIR ...] [--cpus Haswell EPYC] [--n 40]

ONNX Runtime picks its int8 kernels from the CPU's flags (cpuid): AVX-512 VNNI and AVX-VNNI add
u8 x s8 products in 32 bits; AVX2 and AVX-512BW without VNNI use VPMADDUBSW, which adds pairs of
products in a saturating 16-bit integer. QEMU's user-mode emulator (Debian package qemu-user)
presents another CPU model to the same binaries, so the same reference.py runs here with the
kernels an AVX2 laptop (Haswell) or an AMD server without VNNI (EPYC, Zen 1) would use. It is
slow (about 5 s a text), hence a sample.

Texts: tests/fixtures/parity/texts.jsonl and every 20th hand-written hard dev case (--n caps
the total). Writes models/train/cross-cpu.json: per model and CPU model, the largest |delta| of
score / claim / refute, the smallest embedding cosine, and flag decisions that changed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def run(model: Path, texts: list[str], cpu: str | None) -> list[dict]:
    cmd = [sys.executable, str(HERE / "reference.py"), str(model)]
    if cpu:
        cmd = ["qemu-x86_64", "-cpu", cpu] + cmd
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, input="".join(json.dumps({"text": t}) + "\n" for t in texts), capture_output=True,
                         text=True, check=True, env=env)
    return [json.loads(x) for x in out.stdout.splitlines()]


def compare(native: list[dict], other: list[dict], flag: float) -> dict:
    dev = {}
    for key in ("score", "claim", "refute"):
        if native[0].get(key) is not None:
            dev[f"max_abs_{key}"] = max(abs(a[key] - b[key]) for a, b in zip(native, other))
    cos = [float(np.dot(a["embedding"], b["embedding"]) / (np.linalg.norm(a["embedding"]) * np.linalg.norm(b["embedding"])))
           for a, b in zip(native, other)]
    dev["min_embedding_cosine"] = min(cos)
    dev["decisions_changed"] = sum((a["score"] >= flag) != (b["score"] >= flag) for a, b in zip(native, other))
    dev["texts_identical"] = sum(a == b for a, b in zip(native, other))
    return dev


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["models/minilm-health-v2", "models/minilm-health-v3"])
    ap.add_argument("--cpus", nargs="+", default=["Haswell", "EPYC"])
    ap.add_argument("--n", type=int, default=40)
    a = ap.parse_args()
    texts = [json.loads(x)["text"] for x in (REPO / "tests/fixtures/parity/texts.jsonl").read_text().splitlines()]
    dev = [json.loads(x)["text"] for x in (HERE / "hardcases/dev.jsonl").read_text().splitlines()]
    texts = (texts + dev[::20])[:a.n]
    out_path = HERE / "cross-cpu.json"
    report = json.loads(out_path.read_text()) if out_path.exists() else {}
    flags = open("/proc/cpuinfo").read().split("flags")[1].split("\n")[0].split()
    report["native_cpu_flags"] = [f for f in flags if "avx" in f or "vnni" in f or "amx" in f]
    report["n_texts"] = len(texts)
    for model in a.models:
        m = REPO / model
        flag = tomllib.loads((m / "model.toml").read_text())["thresholds"]["flag"]["value"]
        native = run(m, texts, None)
        for cpu in a.cpus:
            other = run(m, texts, cpu)
            report.setdefault(model, {})[cpu] = compare(native, other, flag)
            print(model, cpu, json.dumps(report[model][cpu]), flush=True)
            out_path.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
