"""Does the served model lean on cues that mark a source rather than a claim?

    models/train/.venv/bin/python models/train/cue_check.py [MODEL_DIR]

On CONSTRAINT validation (the set whose reliable class is official handles' tweets full of case
counts, links and hashtags) it scores each text as is and with one cue changed:

  - links, @handles, hash marks added or removed: the model reads the text without them
    (textprep.py), so the score must not move at all;
  - every number replaced by another of the same length (1524 -> 7391): a model that learned
    "case counts = reliable" moves;
  - every number removed.

Prints, per variant, the mean and largest |score change|, flag decisions that changed, and the
ROC AUC of the variant against the labels. Writes models/train/cue-check.json.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from sklearn.metrics import roc_auc_score
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import DATASETS  # noqa: E402
from features_v2 import batches_by_length  # noqa: E402
from textprep import prepare  # noqa: E402

_NUM = re.compile(r"\d+")
_FIRST_WORD = re.compile(r" ([A-Za-z])")  # a hash mark goes before a word, as in a real hashtag


def scores(model: Path, texts: list[str]) -> np.ndarray:
    manifest = tomllib.loads((model / "model.toml").read_text())
    tok = Tokenizer.from_file(str(model / "tokenizer.json"))
    tok.no_padding()  # padded per batch below; the file pads to the longest text of the call
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(str(model / "model.onnx"), so, providers=["CPUExecutionProvider"])
    strip = manifest["model"].get("text_preparation") == "strip-source-cues"
    ids = [e.ids for e in tok.encode_batch([prepare(t) if strip else t for t in texts])]
    out = np.zeros(len(texts), np.float32)
    for chunk, a, m in batches_by_length(ids):
        out[chunk] = s.run(["score"], {"input_ids": a, "attention_mask": m})[0]
    return out


def main() -> None:
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "models" / "minilm-health-v3"
    flag = tomllib.loads((model / "model.toml").read_text())["thresholds"]["flag"]["value"]
    with open(DATASETS / "constraint2021" / "Constraint_Val.csv", encoding="utf-8", newline="") as f:
        rows = [(r["tweet"], 1 if r["label"] == "fake" else 0) for r in csv.DictReader(f)]
    texts, y = [t for t, _ in rows], np.array([l for _, l in rows])
    rng = np.random.default_rng(42)
    swap = lambda m: "".join(str(int(d)) for d in rng.integers(1, 10, len(m.group(0))))  # noqa: E731
    variants = {
        "as is": texts,
        "links, handles and hash marks added": ["@newsdesk " + _FIRST_WORD.sub(r" #\1", t, count=1)
                                                + " https://t.co/AbC123" for t in texts],
        "numbers replaced": [_NUM.sub(swap, t) for t in texts],
        "numbers removed": [_NUM.sub("", t) for t in texts],
    }
    base = scores(model, texts)
    report = {"model": str(model), "n": len(texts), "flag_threshold": flag}
    for name, vt in variants.items():
        sc = base if name == "as is" else scores(model, vt)
        d = np.abs(sc - base)
        with_digits = np.array([bool(_NUM.search(t)) for t in texts])
        report[name] = {"mean_abs_change": round(float(d.mean()), 4), "max_abs_change": round(float(d.max()), 4),
                        "mean_abs_change_on_texts_with_numbers": round(float(d[with_digits].mean()), 4),
                        "decisions_changed": int(((sc >= flag) != (base >= flag)).sum()),
                        "roc_auc": round(float(roc_auc_score(y, sc)), 4)}
        print(name, json.dumps(report[name]), flush=True)
    (HERE / "cue-check.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
