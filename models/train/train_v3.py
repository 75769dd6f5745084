"""Build and evaluate models/minilm-health-v3 (run via models/train/build-v3.sh).

  python train_v3.py experiment [--k 2] [--epochs 3] [--tag NAME]   main run, printed report
  python train_v3.py loso [--sources a,b]                            leave-one-source-out runs
  python train_v3.py build                                           the served model + report

Every choice (epoch, calibration, thresholds, gate) is made on dev rows only: the dev splits of
the public sets and half of our hand-written hard cases (dev_a). The other half (dev_b) and every
test split are only reported. See data_v3.py for the data and results-v3.md for the figures.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data_v3  # noqa: E402
import exp_v2  # noqa: E402
import features_v2  # noqa: E402
import graph  # noqa: E402
import train as v1  # noqa: E402

REPO = HERE.parents[1]
OUT = REPO / "models" / "minilm-health-v3"
CACHE = HERE / "cache"
RESULTS = HERE / "results-v3.json"
log = logging.getLogger("train_v3")
SEED = 42

# Row weights per source in the fit and dev losses (times each row's own weight): what the model
# should learn from, not how many rows a set happens to have.
SOURCE_WEIGHT = {"constraint": 1.0, "cheng": 1.0, "checkcovid": 1.5, "truthfulqa": 2.0, "reddit": 1.0,
                 "medquad": 0.5, "clinc": 0.5, "hard": 2.0, "templated": 1.0, "fullfact": 1.0,
                 # Fact-checkers' verdicts (`infodemic export --format labeled`): hand-judged, like "hard".
                 "reviews": 2.0}


def set_weights(spec: str | None) -> None:
    """--weights hard=4,templated=2: override SOURCE_WEIGHT for an experiment."""
    for part in filter(None, (spec or "").split(",")):
        name, value = part.split("=")
        SOURCE_WEIGHT[name] = float(value)
DEV_SPLITS = ("dev", "dev_a")
# Cached per-token hidden states (input of layer i): fine-tuning the top k layers reads hidden_{6-k}.
BRANCH_LAYERS = (0, 2, 3)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


class Setup:
    def __init__(self, templated_share: float = 0.6, denial_share: float = 0.0):
        self.pkg = v1.package_model_dir()
        tok_path = REPO / "models" / "minilm-health-v2" / "tokenizer.json"
        self.tok_path = tok_path
        self.tok = Tokenizer.from_file(str(tok_path))
        self.W = graph.load_weights(self.pkg)
        self.rows, self.dedup = data_v3.load(templated_share, denial_share)
        self.texts = [r.text for r in self.rows]
        self.feat = features_v2.extract(self.W, self.tok, self.texts, v1.PKG_SHA256["model.safetensors"],
                                        BRANCH_LAYERS)
        self.feat_dir = Path(self.feat["offsets"].filename).parent

    def select(self, pred) -> np.ndarray:
        return np.array([i for i, r in enumerate(self.rows) if pred(r)], np.int64)

    def labels(self, idx) -> np.ndarray:
        return np.array([[self.rows[i].mis, self.rows[i].claim, self.rows[i].refute] for i in idx], np.int64)

    def weights(self, idx) -> np.ndarray:
        return np.array([self.rows[i].weight * SOURCE_WEIGHT[self.rows[i].source] for i in idx], np.float32)


def finetune(s: Setup, fit, dev, predict, *, k=2, epochs=3, lr=5e-5, tag="main", threads=2) -> dict:
    job = CACHE / f"ft3-job-{tag}.npz"
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(job, train_idx=fit, train_y=s.labels(fit), train_w=s.weights(fit), dev_idx=dev, dev_y=s.labels(dev),
             dev_w=s.weights(dev), predict_idx=predict)
    h = hashlib.sha256(job.read_bytes() + str(s.feat_dir).encode() + f"{k}/{epochs}/{lr}".encode()
                       + (HERE / "ft_v3.py").read_bytes()).hexdigest()[:16]
    out = CACHE / f"ft3-out-{tag}-{h}.npz"
    if not out.exists():
        t0 = time.time()
        subprocess.run([str(HERE / ".venv-torch" / "bin" / "python"), str(HERE / "ft_v3.py"), "--features",
                        str(s.feat_dir), "--weights", str(s.pkg / "model.safetensors"), "--job", str(job),
                        "--out", str(out), "--k", str(k), "--epochs", str(epochs), "--lr", str(lr), "--seed",
                        str(SEED), "--threads", str(threads)], check=True,
                       env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        log.info("ft %s k=%d e=%d: %.0fs", tag, k, epochs, time.time() - t0)
    z = np.load(out)
    logits = np.zeros((len(s.rows), 3), np.float32) + np.nan
    logits[predict] = z["predict_logits"]
    return {"logits": logits, "layers": {kk: z[kk] for kk in z.files if kk.startswith("encoder.")},
            "head_w": z["head.weight"], "head_b": z["head.bias"], "k": k,
            "history": json.loads(str(z["history"]))}


# --------------------------------------------------------------------------- decisions
def calibrate(s: Setup, logits, dev) -> dict:
    y = s.labels(dev)
    out = {}
    for col, name in enumerate(("score", "claim", "refute")):
        known = y[:, col] >= 0
        if name == "score":
            c = exp_v2.choose_calibration(logits[dev][known, col], y[known, col])
            out[name] = (c["a"], c["b"])
            out["score_info"] = c
        else:
            out[name] = exp_v2.fit_platt(logits[dev][known, col], y[known, col])
    return out


def scores(logits, cal) -> np.ndarray:
    return np.stack([sigmoid(cal[n][0] * logits[:, c] + cal[n][1]) for c, n in enumerate(("score", "claim", "refute"))], 1)


HARD_RECALL = 0.80  # the recall on false claims a fact-checker needs from the flag


def choose_thresholds(s: Setup, p, dev) -> dict:
    """review = highest threshold with source-balanced dev recall >= 0.95 (each dev source
    counts equally, so the large tweet sets do not decide alone); flag = the highest threshold
    that keeps recall on the hand-written false claims of dev_a at HARD_RECALL or more, i.e. as
    precise as the flag can be while still catching four in five (without hard dev rows: the
    best source-balanced dev F1); claim gate = 0.5 (a probability, not tuned)."""
    y = s.labels(dev)[:, 0]
    src = np.array([s.rows[i].source for i in dev])
    w = np.zeros(len(dev))
    for name in set(src):
        w[src == name] = 1.0 / (src == name).sum()
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    pm = p[dev, 0]
    rec = np.array([(w * (pm >= t) * y).sum() / (w * y).sum() for t in grid])
    prec = np.array([(w * (pm >= t) * y).sum() / max((w * (pm >= t)).sum(), 1e-12) for t in grid])
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0)
    flag = float(grid[np.flatnonzero(f1 >= f1.max() - 0.005).max()])
    hard = np.array([s.rows[i].source == "hard" for i in dev])
    if hard.any():
        yh, ph, ch = y[hard], pm[hard], p[dev, 1][hard]
        rec_h = np.array([((ph >= t) & (ch >= 0.5) & (yh == 1)).sum() / max((yh == 1).sum(), 1) for t in grid])
        flag = float(grid[np.flatnonzero(rec_h >= HARD_RECALL).max()])
    ok = np.flatnonzero(rec >= 0.95)
    review = float(grid[ok.max()]) if len(ok) else float(grid[0])
    return {"review": min(review, flag), "flag": flag, "claim_gate": 0.5, "rule": "hard dev_a recall >= 0.80",
            "dev_balanced": {"precision": round(float(prec[grid == flag][0]), 4),
                             "recall": round(float(rec[grid == flag][0]), 4),
                             "f1": round(float(f1[grid == flag][0]), 4)}}


def decide(p, thr) -> np.ndarray:
    return (p[:, 0] >= thr["flag"]) & (p[:, 1] >= thr["claim_gate"])


# --------------------------------------------------------------------------- reports
def _auc(y, p):
    y = np.asarray(y)
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def report_set(s: Setup, p, idx, thr) -> dict:
    y = s.labels(idx)[:, 0]
    flag = decide(p[idx], thr)
    tp = int((flag & (y == 1)).sum())
    out = {"n": int(len(idx)), "positives": int(y.sum()), "roc_auc": _auc(y, p[idx, 0]),
           "flag_rate": round(float(flag.mean()), 4),
           "precision": round(tp / max(int(flag.sum()), 1), 4) if flag.sum() else None,
           "recall": round(tp / max(int(y.sum()), 1), 4) if y.sum() else None}
    if 0 < y.sum() < len(y):
        from sklearn.metrics import f1_score
        out["macro_f1"] = round(float(f1_score(y, flag.astype(int), average="macro")), 4)
    return out


def report_kinds(s: Setup, p, idx, thr) -> dict:
    out = {}
    flag = decide(p[idx], thr)
    kinds = np.array([s.rows[i].kind for i in idx])
    for k in data_v3.KINDS:
        m = kinds == k
        if m.any():
            out[k] = {"n": int(m.sum()), "flag_rate": round(float(flag[m].mean()), 4),
                      "mean_score": round(float(p[idx][m, 0].mean()), 3)}
    # claims against their own debunks
    pairs = defaultdict(dict)
    for i in idx:
        r = s.rows[i]
        if r.group and r.kind in ("false_claim", "debunk"):
            pairs[r.group][r.kind] = p[i, 0]
    both = [v for v in pairs.values() if len(v) == 2]
    if both:
        y = [1] * len(both) + [0] * len(both)
        sc = [v["false_claim"] for v in both] + [v["debunk"] for v in both]
        out["pairs"] = {"n": len(both), "roc_auc": _auc(y, sc),
                        "claim_above_debunk": round(float(np.mean([v["false_claim"] > v["debunk"] for v in both])), 4)}
    out["all"] = report_set(s, p, idx, thr)
    return out


def full_report(s: Setup, p, thr, only_sources=None) -> dict:
    rep = {}
    for split in ("dev", "dev_a", "dev_b", "test"):
        for src in sorted({r.source for r in s.rows}):
            if only_sources and src not in only_sources:
                continue
            idx = s.select(lambda r: r.split == split and r.source == src)
            if len(idx) == 0:
                continue
            rep[f"{src}/{split}"] = report_kinds(s, p, idx, thr) if src == "hard" else report_set(s, p, idx, thr)
    return rep


def print_report(rep: dict) -> None:
    for name, r in rep.items():
        if "all" in r:
            a = r["all"]
            kinds = " ".join(f"{k}={v['flag_rate']:.2f}" for k, v in r.items() if k in data_v3.KINDS)
            pr = r.get("pairs", {})
            log.info("%-22s n=%4d P=%s R=%s AUC=%s pairAUC=%s | %s", name, a["n"], a["precision"], a["recall"],
                     a["roc_auc"], pr.get("roc_auc"), kinds)
        else:
            log.info("%-22s n=%4d flag=%.3f P=%s R=%s AUC=%s mF1=%s", name, r["n"], r["flag_rate"], r["precision"],
                     r["recall"], r["roc_auc"], r.get("macro_f1"))


# --------------------------------------------------------------------------- commands
def experiment(args) -> dict:
    s = Setup(args.templated_share, args.denial_share)
    fit = s.select(lambda r: r.split == "fit")
    dev = s.select(lambda r: r.split in DEV_SPLITS)
    res = finetune(s, fit, dev, np.arange(len(s.rows)), k=args.k, epochs=args.epochs, lr=args.lr, tag=args.tag)
    cal = calibrate(s, res["logits"], dev)
    p = scores(res["logits"], cal)
    thr = choose_thresholds(s, p, dev)
    log.info("history %s", res["history"])
    log.info("thresholds %s", thr)
    rep = full_report(s, p, thr)
    print_report(rep)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("experiments", {})[args.tag] = {
        "k": args.k, "epochs": args.epochs, "lr": args.lr, "templated_share": args.templated_share, "denial_share": args.denial_share,
        "weights": dict(SOURCE_WEIGHT),
        "history": res["history"], "thresholds": thr, "report": rep}
    RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n")
    return {"setup": s, "res": res, "cal": cal, "p": p, "thr": thr}


LOSO_SOURCES = ("constraint", "cheng", "checkcovid", "truthfulqa", "medquad", "clinc", "hard")


def loso(args) -> None:
    s = Setup(args.templated_share, args.denial_share)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for src in (args.sources.split(",") if args.sources else LOSO_SOURCES):
        # templated debunks made from the held-out source's claims go too
        out_of = lambda r: r.source == src or (r.source == "templated" and r.extra.get("from") == src)  # noqa: E731
        fit = s.select(lambda r: r.split == "fit" and not out_of(r))
        dev = s.select(lambda r: r.split in DEV_SPLITS and not out_of(r))
        held = s.select(lambda r: r.source == src and r.split in ("fit", "dev", "test", "dev_a", "dev_b"))
        res = finetune(s, fit, dev, np.concatenate([dev, held]), k=args.k, epochs=args.epochs, lr=args.lr,
                       tag=f"loso-{src}")
        cal = calibrate(s, res["logits"], dev)
        p = scores(np.nan_to_num(res["logits"]), cal)
        thr = choose_thresholds(s, p, dev)
        r = report_kinds(s, p, held, thr) if src == "hard" else report_set(s, p, held, thr)
        log.info("LOSO %s: %s", src, json.dumps(r if src != "hard" else {k: v for k, v in r.items()}))
        results.setdefault("loso", {})[src] = {"k": args.k, "epochs": args.epochs, "thresholds": thr, "report": r}
        RESULTS.write_text(json.dumps(results, indent=1, default=float) + "\n")


def main():
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(message)s")
    for n in ("train_v3", "features"):
        logging.getLogger(n).setLevel(logging.INFO)
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["experiment", "loso", "build"])
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--tag", default="main")
    ap.add_argument("--sources")
    ap.add_argument("--templated-share", type=float, default=0.6)
    ap.add_argument("--denial-share", type=float, default=0.0)
    ap.add_argument("--weights", help="source weight overrides, e.g. hard=4,templated=2")
    args = ap.parse_args()
    set_weights(args.weights)
    if args.cmd == "experiment":
        experiment(args)
    elif args.cmd == "loso":
        loso(args)
    else:
        import build_v3
        build_v3.build(args, experiment(args))


if __name__ == "__main__":
    main()
