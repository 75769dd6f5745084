"""Python baseline for the speed comparison with the Rust classifier.

What it does (the straightforward way a Python user would run the served model):
  * reads texts from a JSONL file (one object per line; field --field, default "text") or a
    plain-text file (one text per line; used when a line is not a JSON object);
  * loads the model with onnxruntime (CPUExecutionProvider, intra_op_num_threads = --threads,
    inter_op_num_threads = 1, ORT_ENABLE_ALL) and the model's tokenizer.json with `tokenizers`
    (truncation 128 and BatchLongest padding come from the file);
  * processes the texts in INPUT ORDER in batches of --batch (default 32): encode_batch ->
    int64 arrays -> session.run for all outputs (score, logit, embedding);
  * times tokenisation + inference of all batches (model loading and --warmup batches, default
    1, excluded) and prints one JSON object with texts/s.
No length sorting, no threading tricks, no output post-processing.

  models/train/.venv/bin/python models/train/bench_python.py texts.jsonl --threads 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MODEL_DIR = Path(__file__).resolve().parents[1] / "minilm-health-v2"


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
    ap.add_argument("--model", type=Path, default=MODEL_DIR / "model.onnx")
    ap.add_argument("--tokenizer", type=Path, default=MODEL_DIR / "tokenizer.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=1, help="batches run once before timing")
    ap.add_argument("--field", default="text")
    a = ap.parse_args()

    texts = read_texts(a.input, a.field)
    t_load = time.perf_counter()
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(a.model), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(a.tokenizer))
    load_s = time.perf_counter() - t_load

    def run_batch(batch: list[str]):
        encs = tok.encode_batch(batch)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
        return sess.run(None, {"input_ids": ids, "attention_mask": mask})

    batches = [texts[i:i + a.batch] for i in range(0, len(texts), a.batch)]
    for b in batches[:a.warmup]:
        run_batch(b)
    t0 = time.perf_counter()
    n_flag = 0
    for b in batches:
        n_flag += int((run_batch(b)[0] >= 0.5).sum())
    dt = time.perf_counter() - t0
    print(json.dumps({"texts": len(texts), "batch": a.batch, "threads": a.threads, "seconds": round(dt, 3),
                      "texts_per_s": round(len(texts) / dt, 1), "load_s": round(load_s, 3),
                      "model": str(a.model), "onnxruntime": ort.__version__,
                      "scored_ge_0.5": n_flag}))


if __name__ == "__main__":
    main()
