"""Verdicts as training data, the cheap way: a logistic-regression head on reviewed items.

    PYTHONPATH=.ort:.pyref python3 models/train/retrain_head.py \\
        --reviews labeled-export.jsonl [--reviews another.jsonl] [--model models/minilm-health-v3] \\
        [--eval models/train/hardcases/dev.jsonl] [--out result.json] [--save-head head.json]

Reads `infodemic export --format labeled` files with the v3 loader (data_v3.read_reviews and
merge_reviews: the same validation, text composition and deduplication as a full rebuild with
INFODEMIC_REVIEWS), embeds each reviewed text with the served graph's `embedding` output (one
text at a time, prepared and truncated as models/train/reference.py and the Rust classifier do),
and fits an L2-regularised, class-balanced logistic regression (numpy, Newton steps) on the
reviewers' `mis` labels (unproven rows, mis -1, are not trained on). Reports:

  cv      stratified k-fold (seed 42) out-of-fold ROC AUC / accuracy / balanced accuracy of the
          head on the reviewed rows, next to the served model's own score on the same rows
  eval    (with --eval) the head fitted on every reviewed row, on labeled texts outside the
          reviews: JSON lines with "text" and "label" (0/1) or "mis", or another labeled export.
          Eval texts that are a reviewed item's text, title, body or title + body are dropped
          (`dropped_overlap`), so nothing reviewed is scored as held out.

Prints the summary as one JSON line; --out writes it with the per-row predictions. Exit status:
0, 1 when a --min-cv-auc / --min-eval-auc check fails, 2 when the reviews are unusable (every
bad line is reported as FILE:LINE first). --flip-labels trains on 1 - mis: a negative control
whose head must rank the eval set worse than chance (the labels, not the texts, drive the head).

Needs only numpy, tokenizers and onnxruntime: what `bash scripts/setup.sh --python-reference`
puts in .ort/ and .pyref/ (or models/train/.venv). No torch. ~60 reviews + 670 eval texts:
seconds on 2 cores. This is a check of the loop and a quick read of what reviews teach; the
served model is rebuilt from reviews with build-v3.sh (README: "Verdicts as training data").
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data_v3  # noqa: E402
from data import normalise  # noqa: E402
from textprep import prepare  # noqa: E402

REPO = HERE.parents[1]
SEED = 42


# --------------------------------------------------------------------------- the served graph
class Embedder:
    """The served model's outputs for texts, as models/train/reference.py computes them."""

    def __init__(self, model_dir: Path, threads: int = 2):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        manifest = tomllib.loads((model_dir / "model.toml").read_text(encoding="utf-8"))
        self.info, self.io = manifest["model"], manifest["io"]
        self.prepared = self.info.get("text_preparation") == "strip-source-cues"
        self.tok = Tokenizer.from_file(str(model_dir / manifest["files"]["tokenizer"]["path"]))
        self.tok.no_truncation()
        self.tok.no_padding()
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(model_dir / manifest["files"]["graph"]["path"]), so,
                                            providers=["CPUExecutionProvider"])
        self.max_tokens = int(self.info["max_tokens"])

    def __call__(self, texts: list[str], batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings [n, dim] float64, served scores [n]). batch > 1: length-sorted padded
        batches (faster; same outputs for a batch-invariant model such as v3, within float
        rounding for the others)."""
        names = [self.io["embedding"], self.io["score"]]
        ids = []
        for text in texts:
            t = self.tok.encode(prepare(text) if self.prepared else text).ids
            ids.append(t if len(t) <= self.max_tokens else t[:self.max_tokens - 1] + t[-1:])
        order = sorted(range(len(ids)), key=lambda i: len(ids[i])) if batch > 1 else list(range(len(ids)))
        dim = int(self.info.get("embedding_dim", 384))
        emb, score = np.zeros((len(ids), dim)), np.zeros(len(ids))
        for start in range(0, len(order), max(batch, 1)):
            chunk = order[start:start + max(batch, 1)]
            width = max(len(ids[i]) for i in chunk)
            a = np.zeros((len(chunk), width), np.int64)
            m = np.zeros_like(a)
            for row, i in enumerate(chunk):
                a[row, :len(ids[i])] = ids[i]
                m[row, :len(ids[i])] = 1
            e, s = self.session.run(names, {self.io["input_ids"]: a, self.io["attention_mask"]: m})
            emb[chunk], score[chunk] = e, s
        return emb, score


# --------------------------------------------------------------------------- the head
def roc_auc(y, s) -> float | None:
    """Mann-Whitney AUC with average ranks for ties; None without both classes."""
    y, s = np.asarray(y), np.asarray(s, np.float64)
    n1, n0 = int((y == 1).sum()), int((y == 0).sum())
    if not n1 or not n0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


class Head:
    """Standardised features -> logistic regression, L2 on the weights (not the bias), each class
    weighted to half the total (balanced), fitted by Newton steps."""

    def __init__(self, l2: float):
        self.l2 = l2

    def fit(self, x: np.ndarray, y: np.ndarray) -> "Head":
        self.mean = x.mean(0)
        self.std = x.std(0) + 1e-6
        z = np.hstack([(x - self.mean) / self.std, np.ones((len(x), 1))])
        w = np.where(y == 1, 0.5 / max(y.mean(), 1e-12), 0.5 / max(1 - y.mean(), 1e-12))
        reg = self.l2 * np.eye(z.shape[1])
        reg[-1, -1] = 0.0
        beta = np.zeros(z.shape[1])
        for _ in range(100):
            p = 1 / (1 + np.exp(-(z @ beta)))
            grad = z.T @ (w * (p - y)) + reg @ beta
            hess = (z * (w * p * (1 - p))[:, None]).T @ z + reg
            step = np.linalg.solve(hess, grad)
            beta -= step
            if np.abs(step).max() < 1e-9:
                break
        self.coef, self.bias = beta[:-1], float(beta[-1])
        return self

    def logit(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std) @ self.coef + self.bias

    def to_json(self) -> dict:
        return {"kind": "standardised logistic regression on the served `embedding`", "l2": self.l2,
                "mean": self.mean.tolist(), "std": self.std.tolist(), "coef": self.coef.tolist(), "bias": self.bias}


def folds_for(y: np.ndarray, k: int, seed: int = SEED) -> np.ndarray:
    """Stratified fold per row: each class shuffled with the seed and dealt round-robin."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(y), np.int64)
    for c in (0, 1):
        idx = np.flatnonzero(y == c)
        out[idx[rng.permutation(len(idx))]] = np.arange(len(idx)) % k
    return out


def metrics(y: np.ndarray, logit: np.ndarray, served: np.ndarray) -> dict:
    pred = logit >= 0
    rec1 = float(pred[y == 1].mean()) if (y == 1).any() else float("nan")
    rec0 = float((~pred[y == 0]).mean()) if (y == 0).any() else float("nan")
    p = np.clip(1 / (1 + np.exp(-logit)), 1e-7, 1 - 1e-7)
    r = lambda v: None if v is None or v != v else round(float(v), 4)  # noqa: E731
    return {"n": int(len(y)), "mis": int(y.sum()), "roc_auc": r(roc_auc(y, logit)),
            "accuracy": r((pred == (y == 1)).mean()), "balanced_accuracy": r((rec1 + rec0) / 2),
            "log_loss": r(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))),
            "served_score_roc_auc": r(roc_auc(y, served))}


# --------------------------------------------------------------------------- eval texts
def read_eval(path: Path) -> list[tuple[str, int]]:
    """(text, mis) of labeled JSON lines: "text" + "label"/"mis", or labeled-export rows."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except json.JSONDecodeError:
            print(f"{path}:{n}: skipped: not JSON", file=sys.stderr)
            continue
        if not isinstance(o, dict):
            continue
        if "verdict" in o and "mis" in o:  # a labeled export: compose as the loader does
            text = data_v3.review_text(o.get("title") or "", o.get("text") or "")
        else:
            text = o.get("text")
        y = o.get("mis", o.get("label"))
        if isinstance(text, str) and text.strip() and not isinstance(y, bool) and y in (0, 1):
            out.append((text, int(y)))
    return out


def review_keys(rows: list[data_v3.Row]) -> set[str]:
    """Keys of everything a reviewed item says: its classifier text, title, body, title + body."""
    keys = set()
    for r in rows:
        title, body = r.extra.get("title", ""), r.extra.get("body", "")
        for part in (r.extra.get("raw_text", r.text), title, body, f"{title} {body}"):
            keys.add(normalise(prepare(part)))
    keys.discard("")
    return keys


# --------------------------------------------------------------------------- main
def run(args) -> tuple[dict, int]:
    t0 = time.perf_counter()
    paths = args.reviews or data_v3.review_paths()
    if not paths:
        raise data_v3.ReviewsError(f"no labeled export: pass --reviews FILE (or set {data_v3.REVIEWS_ENV})")
    rows, read_stats = data_v3.read_reviews(paths, keep_disagreed=args.keep_disagreed)
    rows, merge_stats = data_v3.merge_reviews({}, rows)
    train = [r for r in rows if r.mis >= 0]
    y = np.array([r.mis for r in train], np.int64)
    if args.flip_labels:
        y = 1 - y
    smallest = int(min((y == 1).sum(), (y == 0).sum()))
    if smallest < 2:
        raise data_v3.ReviewsError(f"need at least 2 reviewed rows of each class (mis 1 and 0): "
                                   f"{int((y == 1).sum())} and {int((y == 0).sum())}")
    k = max(2, min(args.folds, smallest))
    t_load = time.perf_counter()

    embed = Embedder(args.model, args.threads)
    texts = [r.text if embed.prepared else r.extra["raw_text"] for r in train]
    x, served = embed(texts, batch=args.batch)
    t_embed = time.perf_counter()

    folds = folds_for(y, k, args.seed)
    oof = np.zeros(len(y))
    for f in range(k):
        fit = folds != f
        oof[~fit] = Head(args.l2).fit(x[fit], y[fit]).logit(x[~fit])
    head = Head(args.l2).fit(x, y)
    cv = {"folds": k, **metrics(y, oof, served)}
    recorded = [r.extra.get("score") for r in train]
    if all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in recorded):
        got = roc_auc(y, recorded)  # the export's `score`: the model of the day, when reviewed
        cv["recorded_score_roc_auc"] = None if got is None else round(got, 4)
    result = {
        "model": {"dir": str(args.model), "id": embed.info.get("id"), "version": embed.info.get("version")},
        "reviews": {"files": [str(p) for p in paths], **read_stats, **merge_stats, "trained_on": int(len(y)),
                    "flipped": bool(args.flip_labels)},
        "head": {"l2": args.l2, "features": int(x.shape[1]),
                 "train_balanced_accuracy": metrics(y, head.logit(x), served)["balanced_accuracy"]},
        "cv": cv,
    }
    predictions = {"cv": [{"id": r.extra["id"], "mis": int(t), "logit": round(float(z), 5)}
                          for r, t, z in zip(train, y, oof)]}
    if args.eval:
        items = read_eval(args.eval)
        taken = review_keys(rows)
        kept = [(t, m) for t, m in items if normalise(prepare(t)) not in taken]
        ev = {"file": str(args.eval), "rows": len(items), "dropped_overlap": len(items) - len(kept)}
        if kept:
            xe, se = embed([t for t, _ in kept], batch=args.batch)
            ye = np.array([m for _, m in kept], np.int64)
            ze = head.logit(xe)
            ev.update(metrics(ye, ze, se))
            predictions["eval"] = [round(float(z), 5) for z in ze]
        result["eval"] = ev
    t_end = time.perf_counter()
    result["seconds"] = {"load": round(t_load - t0, 2), "embed_reviews": round(t_embed - t_load, 2),
                         "total": round(t_end - t0, 2)}
    failed = []
    if args.min_cv_auc is not None and not (cv["roc_auc"] or 0) >= args.min_cv_auc:
        failed.append(f"cv roc_auc {cv['roc_auc']} < {args.min_cv_auc}")
    if args.min_eval_auc is not None:
        got = result.get("eval", {}).get("roc_auc")
        if got is None or got < args.min_eval_auc:
            failed.append(f"eval roc_auc {got} < {args.min_eval_auc}")
    result["checks"] = {"failed": failed}
    if args.save_head:
        args.save_head.write_text(json.dumps({"model": result["model"], **head.to_json()}) + "\n", encoding="utf-8")
    if args.out:
        args.out.write_text(json.dumps({**result, "predictions": predictions}, indent=1) + "\n", encoding="utf-8")
    return result, 1 if failed else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews", action="append", type=Path, metavar="FILE",
                    help=f"a labeled export (repeatable; default: ${data_v3.REVIEWS_ENV})")
    ap.add_argument("--model", type=Path, default=REPO / "models" / "minilm-health-v3")
    ap.add_argument("--eval", type=Path, help="labeled texts outside the reviews to score the head on")
    ap.add_argument("--out", type=Path, help="write the full result (with per-row predictions) here")
    ap.add_argument("--save-head", type=Path, help="write the fitted head (JSON) here")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=10.0, help="L2 penalty on the standardised weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32, help="texts per graph run (1: exactly as served)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--keep-disagreed", action="store_true", help="train on rows whose reviewers disagree too")
    ap.add_argument("--flip-labels", action="store_true", help="negative control: train on 1 - mis")
    ap.add_argument("--min-cv-auc", type=float, help="exit 1 when the out-of-fold ROC AUC is lower")
    ap.add_argument("--min-eval-auc", type=float, help="exit 1 when the eval ROC AUC is lower")
    args = ap.parse_args()
    try:
        result, status = run(args)
    except (data_v3.ReviewsError, OSError) as e:
        print(f"retrain_head: {e}", file=sys.stderr)
        sys.exit(2)
    print(json.dumps(result, separators=(",", ":")))
    for f in result["checks"]["failed"]:
        print(f"retrain_head: check failed: {f}", file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
