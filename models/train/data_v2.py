"""v2 data: CONSTRAINT@AAAI-2021 train/val + Cheng et al. 2021 news.csv + twitter.csv.

Read in place from /work/shared/datasets (override with INFODEMIC_DATASETS);
nothing is copied into the repository. Label 1 = misinformation, 0 = reliable.

Deduplication is GLOBAL: every row of every set is keyed by `data.normalise`
(lowercase, URLs removed, whitespace collapsed). A key whose rows carry
conflicting labels (anywhere) is dropped everywhere; otherwise the key is kept
exactly once, in the first set of SET_ORDER that contains it. Hence no text
(after normalisation) occurs in two sets, so no evaluation split of any
protocol overlaps its training data.

Splits (stratified by source x label, seed 42):
  constraint_train -> ctrain_fit (85 %) / ctrain_dev (15 %)
  cheng (news + twitter) -> cheng_train (70 %) / cheng_dev (15 %) / cheng_test (15 %)
  constraint_val is never split (evaluation only).

Cheng twitter.csv columns: No., label, content, source, sentiment, reply numbers,
retweet numbers, likes numbers. Its text has the word "that" replaced by the
placeholder "qwertyu" (238 rows; "qwertyu's very dangerous" = "That's ...");
it is restored to "that" so the model cannot learn the placeholder as a
source marker. news.csv has no header (id, label, text, popularity).
F -> 1, T -> 0, U / U(Twitter) dropped (both files).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from data import CONSTRAINT_DIR, DATASETS, normalise

CHENG_DIR = DATASETS / "covid19-rumor-cheng2020"
SET_ORDER = ("constraint_train", "constraint_val", "cheng_news", "cheng_twitter", "extra")

# Labeled JSON lines of the project's own export format (one object per line with `text` and
# `label`: 1/true/"misinformation"/"fake" or 0/false/"reliable"/"real", the format that
# `infodemic eval --data` and `infodemic classify --eval` read), e.g. reviewers' verdicts.
# Colon-separated paths. They join the union model's fit split only (never dev or test), and,
# being last in SET_ORDER, any text already in a public set is dropped from them.
EXTRA_ENV = "INFODEMIC_EXTRA_TRAINING"
_LABELS = {"1": 1, "true": 1, "misinformation": 1, "fake": 1, "0": 0, "false": 0, "reliable": 0, "real": 0}
SEED = 42
_QWERTYU = re.compile(r"qwertyu", re.IGNORECASE)


@dataclass
class Part:
    name: str
    texts: list[str]
    labels: np.ndarray
    source: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def stats(self) -> dict:
        return {"n": len(self.texts), "misinformation": int(self.labels.sum()),
                "sources": {s: self.source.count(s) for s in sorted(set(self.source))}}


def _fix_placeholder(t: str) -> str:
    return _QWERTYU.sub(lambda m: "That" if m.group(0)[0].isupper() else "that", t)


def read_extra() -> list[tuple[str, int]]:
    rows: list[tuple[str, int]] = []
    for path in filter(None, os.environ.get(EXTRA_ENV, "").split(":")):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                label = _LABELS.get(str(obj.get("label")).strip().lower())
                text = obj.get("text")
                if label is None or not isinstance(text, str):
                    raise SystemExit(f"{path}:{number}: need `text` and a `label` of 1/misinformation/fake or 0/reliable/real")
                rows.append((text, label))
    return rows


def read_raw() -> dict[str, list[tuple[str, int]]]:
    raw: dict[str, list[tuple[str, int]]] = {}
    m_c = {"fake": 1, "real": 0}
    for name, fn in (("constraint_train", "Constraint_Train.csv"), ("constraint_val", "Constraint_Val.csv")):
        with open(CONSTRAINT_DIR / fn, encoding="utf-8", newline="") as f:
            raw[name] = [(r["tweet"], m_c[r["label"]]) for r in csv.DictReader(f)]
    m = {"F": 1, "T": 0}
    with open(CHENG_DIR / "news.csv", encoding="utf-8-sig", newline="") as f:
        raw["cheng_news"] = [(r[2], m[r[1].strip()]) for r in csv.reader(f)
                             if r[1].strip() in m and r[2].strip()]
    with open(CHENG_DIR / "twitter.csv", encoding="utf-8-sig", newline="") as f:
        raw["cheng_twitter"] = [(_fix_placeholder(r["content"]), m[r["label"].strip()]) for r in csv.DictReader(f)
                                if r["label"].strip() in m and r["content"].strip()]
    raw["extra"] = read_extra()
    return raw


def dedupe_global(raw: dict[str, list[tuple[str, int]]]) -> tuple[dict[str, Part], dict]:
    groups: "OrderedDict[str, list[tuple[str, str, int]]]" = OrderedDict()
    for name in SET_ORDER:
        for text, label in raw[name]:
            groups.setdefault(normalise(text), []).append((name, text, label))
    out = {n: ([], []) for n in SET_ORDER}
    stats = {n: {"raw_rows": len(raw[n]), "kept": 0, "dup_within_set": 0, "dup_of_earlier_set": 0,
                 "dropped_conflicting_label": 0, "dropped_empty": 0} for n in SET_ORDER}
    for key, items in groups.items():
        if not key:
            for n, _, _ in items:
                stats[n]["dropped_empty"] += 1
            continue
        if len({lab for _, _, lab in items}) > 1:
            for n, _, _ in items:
                stats[n]["dropped_conflicting_label"] += 1
            continue
        home, text, label = items[0]
        out[home][0].append(text)
        out[home][1].append(label)
        stats[home]["kept"] += 1
        for n, _, _ in items[1:]:
            stats[n]["dup_within_set" if n == home else "dup_of_earlier_set"] += 1
    parts = {n: Part(n, t, np.array(l, dtype=np.int64), [n] * len(t)) for n, (t, l) in out.items()}
    for n in SET_ORDER:
        stats[n]["misinformation"] = int(parts[n].labels.sum())
    return parts, stats


def _strat_split(strata: list[str], fracs: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Deterministic stratified split: within each stratum, shuffle (seeded), cut by fractions."""
    rng = np.random.default_rng(seed)
    strata_arr = np.array(strata)
    out: list[list[int]] = [[] for _ in fracs]
    for s in sorted(set(strata)):
        idx = np.flatnonzero(strata_arr == s)
        idx = idx[rng.permutation(len(idx))]
        cuts = np.round(np.cumsum(fracs)[:-1] * len(idx)).astype(int)
        for i, chunk in enumerate(np.split(idx, cuts)):
            out[i].extend(chunk.tolist())
    return [np.array(sorted(o), dtype=np.int64) for o in out]


def _take(name: str, p: Part, idx: np.ndarray) -> Part:
    return Part(name, [p.texts[i] for i in idx], p.labels[idx], [p.source[i] for i in idx])


def concat(name: str, *ps: Part) -> Part:
    return Part(name, [t for p in ps for t in p.texts], np.concatenate([p.labels for p in ps]),
                [s for p in ps for s in p.source])


def load_parts() -> tuple[dict[str, Part], dict]:
    parts, stats = dedupe_global(read_raw())
    ct = parts["constraint_train"]
    fit, dev = _strat_split([str(l) for l in ct.labels], (0.85, 0.15), SEED)
    cheng = concat("cheng_all", parts["cheng_news"], parts["cheng_twitter"])
    tr, dv, te = _strat_split([f"{s}/{l}" for s, l in zip(cheng.source, cheng.labels)], (0.70, 0.15, 0.15), SEED)
    out = {
        "ctrain_fit": _take("ctrain_fit", ct, fit),
        "ctrain_dev": _take("ctrain_dev", ct, dev),
        "constraint_val": parts["constraint_val"],
        "cheng_all": cheng,
        "cheng_train": _take("cheng_train", cheng, tr),
        "cheng_dev": _take("cheng_dev", cheng, dv),
        "cheng_test": _take("cheng_test", cheng, te),
        "extra_fit": parts["extra"],
    }
    return out, stats


# protocol -> (fit parts, dev parts, {eval name: role}).
# "cross-source dev" sets are the OTHER source's dev split: used (with P3 dev) for choosing the
# served variant, so that the choice can favour generalisation without looking at a test split.
PROTOCOLS = {
    "P1_constraint": (["ctrain_fit"], ["ctrain_dev"],
                      {"constraint_val": "in-domain", "cheng_all": "cross-source",
                       "cheng_dev": "cross-source dev"}),
    "P2_cheng": (["cheng_train"], ["cheng_dev"],
                 {"constraint_val": "cross-source", "cheng_test": "in-domain", "ctrain_dev": "cross-source dev"}),
    "P3_union": (["ctrain_fit", "cheng_train", "extra_fit"], ["ctrain_dev", "cheng_dev"],
                 {"constraint_val": "held-out", "cheng_test": "held-out"}),
}


if __name__ == "__main__":
    import json

    parts, stats = load_parts()
    print(json.dumps(stats, indent=1))
    for n, p in parts.items():
        print(n, json.dumps(p.stats()))
