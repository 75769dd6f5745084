"""Parity fixtures for models/minilm-health-v2 (Rust integration test).

tests/fixtures/parity/v2/reference.jsonl: the 16 texts of parity.TEXTS, each run ALONE through
the served graph (batch 1, no padding, 1 thread, ORT_ENABLE_ALL); same line format as v1's
reference.jsonl plus "logit".
tests/fixtures/parity/v2/batched.json: how far one padded batch of all texts (and other
thread counts / optimisation levels) moves from the batch-1 results. v2 is built to be
batch-invariant, so this is expected to be ~0 (float summation-order noise only).

Run standalone:  models/train/.venv/bin/python models/train/parity_v2.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from parity import TEXTS  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "minilm-health-v2"
FIXTURE_DIR = REPO / "tests" / "fixtures" / "parity" / "v2"
OUTPUTS = ["score", "logit", "embedding"]


def _session(model_path, threads=1, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = level
    return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])


def _single(sess, tok):
    res = []
    for text in TEXTS:
        enc = tok.encode(text)
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        assert mask.all()
        res.append([o[0] for o in sess.run(OUTPUTS, {"input_ids": ids, "attention_mask": mask})] + [ids.shape[1]])
    return res


def write_fixtures(model_path=MODEL_DIR / "model.onnx", tokenizer_path=MODEL_DIR / "tokenizer.json",
                   out_dir=FIXTURE_DIR) -> dict:
    tok = Tokenizer.from_file(str(tokenizer_path))
    sess = _session(model_path)
    single = _single(sess, tok)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "reference.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for text, (sc, lg, em, n) in zip(TEXTS, single):
            f.write(json.dumps({
                "text": text,
                "score": float(sc),
                "embedding_head": [float(v) for v in em[:8]],
                "embedding_norm": float(np.linalg.norm(em.astype(np.float64))),
                "input_ids_len": int(n),
                "logit": float(lg),
            }, ensure_ascii=False) + "\n")
    s_score = np.array([r[0] for r in single])
    s_logit = np.array([r[1] for r in single])
    s_emb = np.array([r[2] for r in single])

    def diffs(sc, lg, em):
        return {"max_abs_diff_score": float(np.abs(sc - s_score).max()),
                "max_abs_diff_logit": float(np.abs(lg - s_logit).max()),
                "max_abs_diff_embedding": float(np.abs(em - s_emb).max())}

    encs = tok.encode_batch(TEXTS)
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    b_score, b_logit, b_emb = sess.run(OUTPUTS, {"input_ids": ids, "attention_mask": mask})
    batched = {
        "description": "max |batched - batch1| over the texts of reference.jsonl; the batch is all texts padded to "
                       "the longest (BatchLongest, pad id 0, attention_mask 0 on padding). v2 quantises "
                       "activations with one scale PER ROW (token) and accumulates in int32 (no statistic is shared "
                       "across the batch), so results do not depend on batch-mates or padding beyond float "
                       "summation-order noise.",
        "batch_size": len(TEXTS),
        "padded_seq_len": int(ids.shape[1]),
        **diffs(b_score, b_logit, b_emb),
        "max_abs_diff_embedding_head8": float(np.abs(b_emb[:, :8] - s_emb[:, :8]).max()),
        "min_cosine_batched_vs_single": float((b_emb * s_emb).sum(1).min()),
    }
    other = {}
    for name in ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED"):
        r = _single(_session(model_path, 1, getattr(ort.GraphOptimizationLevel, name)), tok)
        other[name] = diffs(np.array([x[0] for x in r]), np.array([x[1] for x in r]), np.array([x[2] for x in r]))
    batched["batch1_vs_other_optimization_levels"] = other
    r = _single(_session(model_path, 2), tok)
    batched["batch1_2threads_vs_1thread"] = diffs(np.array([x[0] for x in r]), np.array([x[1] for x in r]),
                                                  np.array([x[2] for x in r]))
    batched.update({"onnxruntime": ort.__version__, "intra_op_num_threads": 1,
                    "graph_optimization_level": "ORT_ENABLE_ALL", "execution_provider": "CPUExecutionProvider",
                    "model_sha256": hashlib.sha256(Path(model_path).read_bytes()).hexdigest()})
    with open(out_dir / "batched.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(batched, f, indent=2)
        f.write("\n")
    return batched


if __name__ == "__main__":
    print(json.dumps(write_fixtures(), indent=2))
