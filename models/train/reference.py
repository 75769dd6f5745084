"""The Python reference of a served model: onnxruntime + tokenizers on THIS machine.

    python3 models/train/reference.py MODEL_DIR < texts.jsonl > outputs.jsonl

Reads JSON lines with a "text" field; writes one JSON line per text, in order, with every
output the graph has (`score`, `embedding`, and `claim`, `refute`, `logit` where present) and
`n_tokens`. Each text runs alone (batch 1, no padding), with one intra-op thread and all graph
optimisations, prepared as the manifest says (`text_preparation`, see textprep.py) and
truncated to the manifest's `max_tokens` keeping the closing [SEP], as the Rust classifier does.

The Rust parity test (crates/infodemic-classifier/tests/parity.rs) runs this script at test
time with the same libonnxruntime release (PyPI onnxruntime==1.31.1) and compares: both sides
use this machine's kernels, so the comparison holds on any CPU. Needs only numpy, tokenizers
and onnxruntime (scripts/setup.sh --python-reference installs them into .pyref/).
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from textprep import prepare  # noqa: E402


def main() -> None:
    model_dir = Path(sys.argv[1])
    manifest = tomllib.loads((model_dir / "model.toml").read_text(encoding="utf-8"))
    info, io = manifest["model"], manifest["io"]
    tok = Tokenizer.from_file(str(model_dir / manifest["files"]["tokenizer"]["path"]))
    tok.no_truncation()
    tok.no_padding()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model_dir / manifest["files"]["graph"]["path"]), so,
                                   providers=["CPUExecutionProvider"])
    names = {"score": io["score"], "embedding": io["embedding"]}
    for key in ("claim", "refute", "logit"):
        if io.get(key):
            names[key] = io[key]
    max_tokens = int(info["max_tokens"])
    for line in sys.stdin:
        if not line.strip():
            continue
        text = json.loads(line)["text"]
        if info.get("text_preparation") == "strip-source-cues":
            text = prepare(text)
        ids = tok.encode(text).ids
        if len(ids) > max_tokens:
            ids = ids[:max_tokens - 1] + ids[-1:]
        a = np.array([ids], np.int64)
        out = session.run(list(names.values()), {io["input_ids"]: a, io["attention_mask"]: np.ones_like(a)})
        row = {"n_tokens": len(ids)}
        for key, value in zip(names, out):
            row[key] = value[0].tolist() if key == "embedding" else float(value[0])
        sys.stdout.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
