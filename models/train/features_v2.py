"""Frozen all-MiniLM-L6-v2 features for every v2 text, computed once (fp32 ONNX graph,
onnxruntime, 2 threads, length-sorted padded batches of 32) and cached under cache/.

Per text: `embedding` (the frozen sentence embedding), `layer_means` (masked mean of
hidden_0..hidden_6), and for the branch points used by fine-tuning the per-token hidden
states hidden_{6-k} (fp16, concatenated, with offsets) — the input of the top k layers.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from tokenizers import Tokenizer

import graph_v2

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
BUILD = HERE / "build"
log = logging.getLogger("features")
BRANCH_LAYERS = (3, 4, 5)  # hidden_3/4/5 = input of the top 3/2/1 layers


def session(path: Path, threads: int = 2) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def encode(tok: Tokenizer, texts: list[str]) -> list[list[int]]:
    """One text at a time: truncated to 128, unpadded."""
    return [tok.encode(t).ids for t in texts]


def batches_by_length(ids: list[list[int]], bs: int = 32):
    order = np.argsort([len(x) for x in ids], kind="stable")
    for s in range(0, len(order), bs):
        chunk = order[s:s + bs]
        seq = max(len(ids[i]) for i in chunk)
        a = np.zeros((len(chunk), seq), np.int64)
        m = np.zeros((len(chunk), seq), np.int64)
        for r, i in enumerate(chunk):
            a[r, :len(ids[i])] = ids[i]
            m[r, :len(ids[i])] = 1
        yield chunk, a, m


def extract(W: dict, tok: Tokenizer, texts: list[str], weights_sha: str,
            branch_layers: tuple[int, ...] = BRANCH_LAYERS) -> dict:
    """branch_layers: the hidden states to cache per token (hidden_i = input of layer i); the
    default keeps v2's cache key."""
    h = hashlib.sha256()
    if branch_layers != BRANCH_LAYERS:
        h.update(repr(branch_layers).encode())
    h.update(weights_sha.encode())
    h.update(tok.to_str().encode())
    h.update("\x00".join(texts).encode())
    key = CACHE / f"features-v2-{h.hexdigest()[:20]}"
    if (key / "done").exists():
        return {f.stem: np.load(f, mmap_mode="r") for f in key.glob("*.npy")}
    BUILD.mkdir(parents=True, exist_ok=True)
    fx = BUILD / "features_fp32.onnx"
    onnx.save(graph_v2.build_feature_extractor(W), str(fx))
    s = session(fx)
    ids = encode(tok, texts)
    lens = np.array([len(x) for x in ids], np.int64)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    emb = np.zeros((len(texts), 384), np.float32)
    means = np.zeros((len(texts), 7, 384), np.float32)
    hid = {L: np.zeros((offsets[-1], 384), np.float16) for L in branch_layers}
    names = ["embedding"] + [f"hidden_{i}" for i in range(7)]
    t0 = time.time()
    for chunk, a, m in batches_by_length(ids):
        out = s.run(names, {"input_ids": a, "attention_mask": m})
        emb[chunk] = out[0]
        mf = m[:, :, None].astype(np.float32)
        for i in range(7):
            means[chunk, i] = (out[1 + i] * mf).sum(1) / mf.sum(1)
        for r, t in enumerate(chunk):
            n = lens[t]
            for L in branch_layers:
                hid[L][offsets[t]:offsets[t] + n] = out[1 + L][r, :n]
    log.info("features: %d texts, %d tokens in %.0fs", len(texts), offsets[-1], time.time() - t0)
    key.mkdir(parents=True, exist_ok=True)
    arrays = {"embedding": emb, "layer_means": means, "offsets": offsets,
              "ids": np.concatenate([np.array(x, np.int64) for x in ids])}
    arrays.update({f"hidden_{L}": v for L, v in hid.items()})
    for k, v in arrays.items():
        np.save(key / f"{k}.npy", v)
    (key / "done").write_text("ok\n")
    return {f.stem: np.load(f, mmap_mode="r") for f in key.glob("*.npy")}
