"""Tunes infodemic_claims::MATCH_THRESHOLD on hand-written (text, claim) pairs.

Reads tests/fixtures/claims/pairs-v3.jsonl (written for the v3 model), embeds every text and
claim with the served model (models/minilm-health-v3, one text per session.run, prepared as the
Rust classifier prepares it), and scores each pair by the cosine similarity of the two
embeddings. The older pairs.jsonl (written for v1) is evaluated at the chosen threshold, and
the model's stance (repeats / refutes / mentions) is checked against the hand-written one.

The pairs are split 50/50 into a tune half and a test half, deterministically and stratified
by label: within each label, pairs are ordered by sha256(text + NUL + claim) and alternate
tune, test, tune, ... The threshold is the one on the grid 0.00, 0.01, ..., 1.00 with the best
F1 on the tune half (a pair matches when similarity >= threshold); when several grid points
tie, the median of them. Precision, recall and F1 are then reported on the test half, which
played no part in the choice.

Writes:
  crates/infodemic-claims/tune/RESULTS.md              the threshold and the metrics
  tests/fixtures/claims/pairs-v3.similarity.jsonl      split and similarity per pair, read by
                                                       the Rust test that checks the constant
  tests/fixtures/claims/embeddings.sample.json         a few real embeddings for index tests

Run from the repository root:
  models/train/.venv/bin/python crates/infodemic-claims/tune/tune_threshold.py
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import tomllib  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
MODEL_DIR = REPO / "models" / "minilm-health-v3"
FIXTURES = REPO / "tests" / "fixtures" / "claims"
PAIRS = FIXTURES / "pairs-v3.jsonl"          # written for v3: tuned on half, tested on the other
EXTRA_PAIRS = FIXTURES / "pairs.jsonl"       # written for v1: another held-out set, never tuned on
sys.path.insert(0, str(REPO / "models" / "train"))
from textprep import prepare  # noqa: E402
TUNE_DIR = Path(__file__).resolve().parent

GRID = [round(0.01 * i, 2) for i in range(101)]

# Claims and texts whose real embeddings go into embeddings.sample.json: claims that are
# hard negatives of each other, and one asserting text for each.
SAMPLE_CLAIMS = [
    "5G mobile networks spread the coronavirus",
    "5G radiation causes cancer",
    "COVID-19 mRNA vaccines alter your DNA",
    "COVID-19 vaccines contain microchips to track people",
    "COVID-19 vaccines cause infertility in women",
    "The HPV vaccine causes premature ovarian failure",
    "Hydroxychloroquine is a proven cure for COVID-19",
    "Ivermectin cures COVID-19",
]
SAMPLE_QUERIES = [
    ("5G masts are transmitting COVID-19, that is why the cities with 5G got hit first #5Gkills", 0),
    ("The radiation from 5G antennas is carcinogenic and they are hiding the tumour numbers", 1),
    ("These vaccines are gene therapy, they modify your DNA!!! Do not take it", 2),
    ("The vaccine has a tracking chip inside, that's why your arm becomes magnetic", 3),
    ("The covid vaccine will make women sterile, the placenta protein is attacked", 4),
    ("The Gardasil shot destroyed my daughter's ovaries, she is in menopause at 16", 5),
    ("Hydroxychloroquine plus zinc is the cure they don't want you to have", 6),
    ("Ivermectin wipes out covid in 48 hours, that's why it's being suppressed", 7),
]


def session() -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(MODEL_DIR / "model.onnx"), options, providers=["CPUExecutionProvider"])


HEADS: dict[str, tuple[float, float, float]] = {}  # text -> (score, claim, refute), for the stance check


def embed_all(texts: list[str]) -> dict[str, np.ndarray]:
    sess = session()
    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    out: dict[str, np.ndarray] = {}
    for text in texts:
        if text in out:
            continue
        # as the Rust classifier reads it: prepared, truncated to 128 tokens, never padded
        encoding = tokenizer.encode(prepare(text))
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        embedding, score, claim, refute = sess.run(["embedding", "score", "claim", "refute"],
                                                   {"input_ids": ids, "attention_mask": mask})
        vector = embedding[0].astype(np.float64)
        out[text] = vector / np.linalg.norm(vector)
        HEADS[text] = (float(score[0]), float(claim[0]), float(refute[0]))
    return out


def stance(text: str, flag: float, gate: float) -> str:
    """infodemic_core::Stance::of: refutes when the refute head says so, repeats when the text is
    itself flagged (score and claim gate, no source prior), else mentions."""
    score, claim, refute = HEADS[text]
    return "refutes" if refute >= 0.5 else "repeats" if score >= flag and claim >= gate else "mentions"


def split(pairs: list[dict]) -> list[str]:
    """'tune' or 'test' for each pair: stratified by label, alternating in sha256 order."""
    sides = [""] * len(pairs)
    for label in (True, False):
        members = [i for i, p in enumerate(pairs) if p["match"] is label]
        members.sort(key=lambda i: hashlib.sha256((pairs[i]["text"] + "\0" + pairs[i]["claim"]).encode()).hexdigest())
        for rank, i in enumerate(members):
            sides[i] = "tune" if rank % 2 == 0 else "test"
    return sides


def metrics(sims: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    predicted = sims >= threshold
    tp = int(np.sum(predicted & labels))
    fp = int(np.sum(predicted & ~labels))
    fn = int(np.sum(~predicted & labels))
    tn = int(np.sum(~predicted & ~labels))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1}


def roc_auc(sims: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = sims[labels], sims[~labels]
    wins = sum(float(np.sum(p > neg)) + 0.5 * float(np.sum(p == neg)) for p in pos)
    return wins / (len(pos) * len(neg))


def main() -> int:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    extra = [json.loads(line) for line in EXTRA_PAIRS.read_text(encoding="utf-8").splitlines() if line.strip()]
    sides = split(pairs)
    vectors = embed_all([p["text"] for p in pairs + extra] + [p["claim"] for p in pairs + extra] + SAMPLE_CLAIMS
                        + [q for q, _ in SAMPLE_QUERIES])
    sims = np.array([float(vectors[p["text"]] @ vectors[p["claim"]]) for p in pairs])
    labels = np.array([bool(p["match"]) for p in pairs])
    tune = np.array([s == "tune" for s in sides])
    test = ~tune

    scores = [(t, metrics(sims[tune], labels[tune], t)["f1"]) for t in GRID]
    best_f1 = max(f1 for _, f1 in scores)
    tied = [t for t, f1 in scores if abs(f1 - best_f1) < 1e-12]
    threshold = tied[len(tied) // 2]
    tune_m = metrics(sims[tune], labels[tune], threshold)
    test_m = metrics(sims[test], labels[test], threshold)

    extra_sims = np.array([float(vectors[p["text"]] @ vectors[p["claim"]]) for p in extra])
    extra_labels = np.array([bool(p["match"]) for p in extra])
    extra_m = metrics(extra_sims, extra_labels, threshold)
    manifest = tomllib.loads((MODEL_DIR / "model.toml").read_text(encoding="utf-8"))
    flag = manifest["thresholds"]["flag"]["value"]
    gate = manifest["thresholds"]["claim_gate"]["value"]
    labelled = [p for p in pairs if p["match"] and p.get("stance")]
    confusion: dict[str, dict[str, int]] = {}
    for p in labelled:
        got = stance(p["text"], flag, gate)
        confusion.setdefault(p["stance"], {}).setdefault(got, 0)
        confusion[p["stance"]][got] += 1
    stance_acc = sum(confusion[k].get(k, 0) for k in confusion) / max(len(labelled), 1)
    stance_rows = "\n".join(
        f"| {k} | {sum(v.values())} | " + " | ".join(str(v.get(g, 0)) for g in ("repeats", "refutes", "mentions")) + " |"
        for k, v in sorted(confusion.items()))

    with open(FIXTURES / "pairs-v3.similarity.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for i, (p, side, sim) in enumerate(zip(pairs, sides, sims)):
            f.write(json.dumps({"line": i + 1, "split": side, "match": p["match"], "similarity": round(float(sim), 6)})
                    + "\n")

    sample = {
        "description": "Embeddings (minilm-health-v3, one text per run, L2-normalised, rounded to 6 decimals) "
                       "of claims that are hard negatives of each other, and of one text asserting each; "
                       "query i asserts claims[expected]. Written by crates/infodemic-claims/tune/tune_threshold.py.",
        "claims": [{"text": c, "embedding": [round(float(v), 6) for v in vectors[c]]} for c in SAMPLE_CLAIMS],
        "queries": [{"text": q, "expected": e, "embedding": [round(float(v), 6) for v in vectors[q]]}
                    for q, e in SAMPLE_QUERIES],
    }
    with open(FIXTURES / "embeddings.sample.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(sample, f, ensure_ascii=False)
        f.write("\n")

    errors = []
    for i in np.argsort(-sims):
        if test[i] and (sims[i] >= threshold) != labels[i]:
            kind = "false positive" if sims[i] >= threshold else "false negative"
            errors.append(f"| {sims[i]:.3f} | {kind} | {pairs[i]['text']} | {pairs[i]['claim']} |")

    def row(name: str, m: dict, n: int) -> str:
        return (f"| {name} | {n} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                f"{m['tp']} / {m['fp']} / {m['fn']} / {m['tn']} |")

    curve = "\n".join(
        f"| {t:.2f} | {metrics(sims[tune], labels[tune], t)['f1']:.3f} | {metrics(sims[test], labels[test], t)['f1']:.3f} |"
        for t in GRID if abs(t - threshold) <= 0.10 + 1e-9 and round(t * 100) % 2 == round(threshold * 100) % 2)
    model_sha = hashlib.sha256((MODEL_DIR / "model.onnx").read_bytes()).hexdigest()
    results = f"""# Claim-match threshold

`MATCH_THRESHOLD = {threshold:.2f}` (cosine similarity of the two sentence embeddings; a text
matches a claim when the similarity is at least this).

| half | pairs | precision | recall | F1 | TP / FP / FN / TN |
|---|---|---|---|---|---|
{row("tune", tune_m, int(tune.sum()))}
{row("test (held out)", test_m, int(test.sum()))}

Test-half ROC AUC of the raw similarity: {roc_auc(sims[test], labels[test]):.3f}. Tune-half
F1 is at its maximum ({best_f1:.3f}) for thresholds {tied[0]:.2f}..{tied[-1]:.2f}; the
median of them was taken.

The {len(extra)} older pairs written for v1 (`pairs.jsonl`, 30 other claims, never tuned on),
at the same threshold: precision {extra_m['precision']:.3f}, recall {extra_m['recall']:.3f},
F1 {extra_m['f1']:.3f}, ROC AUC {roc_auc(extra_sims, extra_labels):.3f}.

## Stance: does the item repeat or refute the claim it matched?

`infodemic_core::Stance::of` on the model's own heads (refute >= 0.5: refutes; flagged, i.e.
score >= {flag:.2f} and claim >= {gate:.2f}: repeats; else mentions), over the {len(labelled)} matching pairs of
`pairs-v3.jsonl` that carry a hand-written stance: accuracy {stance_acc:.3f}.

| labelled | pairs | said repeats | said refutes | said mentions |
|---|---|---|---|---|
{stance_rows}

## How

- Pairs: `tests/fixtures/claims/pairs-v3.jsonl`, {len(pairs)} hand-written pairs
  ({int(labels.sum())} matches, {int((~labels).sum())} non-matches) over {len(set(p["claim"] for p in pairs))}
  debunked health claims; the labelling rule is in `tests/fixtures/claims/README.md`.
- Embeddings: `models/minilm-health-v3/model.onnx` (sha256 `{model_sha[:16]}…`),
  onnxruntime {ort.__version__}, CPU, one thread, one text per `session.run` (no padding, no
  batch-mates), texts prepared as the model reads them (URLs, handles and hash marks removed),
  the `embedding` output renormalised in float64.
- Split: 50/50, stratified by label; within a label, pairs ordered by
  sha256(text NUL claim) alternate tune/test.
- Choice: grid 0.00..1.00 step 0.01, best F1 on the tune half, median of ties. The test
  half is only evaluated.
- Command, from the repository root:

```sh
models/train/.venv/bin/python crates/infodemic-claims/tune/tune_threshold.py
```

The Rust test `tests/threshold.rs` recomputes both halves' metrics at `MATCH_THRESHOLD` from
`tests/fixtures/claims/pairs-v3.similarity.jsonl` (written by the same command), so the
constant, the data and this file cannot drift apart silently.

## F1 near the threshold

| threshold | tune F1 | test F1 |
|---|---|---|
{curve}

## Errors on the test half

| similarity | error | text | claim |
|---|---|---|---|
{chr(10).join(errors) if errors else "| | none | | |"}

## Caveats

- {len(pairs)} pairs written by one person are a small, friendly sample: real posts are
  longer, noisier and multilingual (this encoder is English-only; Spanish or French posts
  will mostly fall below the threshold). Treat the test-half numbers as a sanity check with
  wide error bars (with {int(test.sum())} pairs, one pair moves F1 by about 0.01–0.02), not as
  production precision.
- The threshold belongs to this model: a new `models/` bundle needs this script re-run.
- False positives are same-topic sentences
  that assert something else (a true fact about the same drug or vaccine, a neighbouring
  false claim); false negatives are paraphrases in slang or another framing ("horse paste",
  "nanochips", "rewrites your genetic code"). A match is a lead for a fact-checker, not a
  verdict.
"""
    (TUNE_DIR / "RESULTS.md").write_text(results, encoding="utf-8")
    print(json.dumps({"threshold": threshold, "tune": tune_m, "test": test_m, "tied": [tied[0], tied[-1]]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
