"""Python peer for the speed comparison with the Rust classifier (benches/src/bin/classify_vs_python.rs).

It does the same job the way a careful Python user would, with the same tricks as the Rust side:
  * reads texts from a JSONL file (one object per line; field --field, default "text") or a
    plain-text file (one text per line; used when a line is not a JSON object);
  * loads the model directory's graph with onnxruntime (CPUExecutionProvider,
    intra_op_num_threads = --threads, inter_op_num_threads = 1, ORT_ENABLE_ALL) and its
    tokenizer.json with `tokenizers` (truncation at the file's 128 tokens);
  * prepares each text as the manifest says (`text_preparation`, textprep.py), as Rust does;
  * tokenises every text (encode_batch: the Rust tokenizers library, parallel), sorts them by
    token count and runs batches of --batch with padding to the batch's longest text (the Rust
    classifier's length bucketing); --input-order runs them unsorted instead;
  * times preparation + tokenisation + inference (model loading and --warmup batches, default
    1, excluded) and prints one JSON object with texts/s.

  models/train/.venv/bin/python models/train/bench_python.py texts.jsonl --model-dir models/minilm-health-v3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import sys
import tomllib

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from textprep import prepare  # noqa: E402

MODEL_DIR = Path(__file__).resolve().parents[1] / "minilm-health-v3"


def read_texts(path: Path, field: str) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            obj = None
        texts.append(obj[field] if isinstance(obj, dict) else line)
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", type=Path)
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=1, help="batches run once before timing")
    ap.add_argument("--field", default="text")
    ap.add_argument("--input-order", action="store_true", help="no length sorting")
    a = ap.parse_args()
    manifest = tomllib.loads((a.model_dir / "model.toml").read_text(encoding="utf-8"))
    strip = manifest["model"].get("text_preparation") == "strip-source-cues"
    a.model = a.model_dir / manifest["files"]["graph"]["path"]
    a.tokenizer = a.model_dir / manifest["files"]["tokenizer"]["path"]

    texts = read_texts(a.input, a.field)
    t_load = time.perf_counter()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(a.model), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(a.tokenizer))
    load_s = time.perf_counter() - t_load

    tok.no_padding()

    def run_all(texts: list[str]) -> int:
        encs = tok.encode_batch([prepare(t) for t in texts] if strip else texts)
        ids = [e.ids for e in encs]
        order = np.arange(len(ids)) if a.input_order else np.argsort([len(x) for x in ids], kind="stable")
        flagged = 0
        for start in range(0, len(order), a.batch):
            chunk = order[start:start + a.batch]
            seq = max(len(ids[i]) for i in chunk)
            x = np.zeros((len(chunk), seq), np.int64)
            m = np.zeros((len(chunk), seq), np.int64)
            for r, i in enumerate(chunk):
                x[r, :len(ids[i])] = ids[i]
                m[r, :len(ids[i])] = 1
            flagged += int((sess.run(None, {"input_ids": x, "attention_mask": m})[0] >= 0.5).sum())
        return flagged

    run_all(texts[:a.batch * a.warmup])
    t0 = time.perf_counter()
    n_flag = run_all(texts)
    dt = time.perf_counter() - t0
    print(json.dumps({"texts": len(texts), "batch": a.batch, "sorted": not a.input_order, "threads": a.threads, "seconds": round(dt, 3),
                      "texts_per_s": round(len(texts) / dt, 1), "load_s": round(load_s, 3),
                      "model": str(a.model), "onnxruntime": ort.__version__,
                      "scored_ge_0.5": n_flag}))


if __name__ == "__main__":
    main()
