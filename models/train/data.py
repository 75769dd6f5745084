"""Dataset loading, text normalisation and leakage-free deduplication.

Datasets are read in place from /work/shared/datasets (override with
INFODEMIC_DATASETS); nothing is copied into the repository.

Label convention everywhere: 1 = misinformation, 0 = reliable.
"""

from __future__ import annotations

import csv
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

DATASETS = Path(os.environ.get("INFODEMIC_DATASETS", "/work/shared/datasets"))
CONSTRAINT_DIR = DATASETS / "constraint2021"
CHENG_NEWS = DATASETS / "covid19-rumor-cheng2020" / "news.csv"

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Key used for deduplication: lowercase, strip URLs, collapse whitespace."""
    t = _URL.sub(" ", text.lower())
    return _WS.sub(" ", t).strip()


@dataclass
class Split:
    name: str
    texts: list[str]
    labels: list[int]
    stats: dict

    def __len__(self) -> int:
        return len(self.texts)


def _dedupe(name: str, rows: list[tuple[str, int]], exclude: set[str] | None = None) -> Split:
    """Keep the first occurrence of each normalised text.

    Groups whose duplicates carry conflicting labels are dropped entirely.
    Texts whose key is in `exclude` (the training keys) are dropped, as are
    texts that normalise to the empty string (e.g. URL-only posts).
    """
    groups: "OrderedDict[str, list[tuple[str, int]]]" = OrderedDict()
    for text, label in rows:
        groups.setdefault(normalise(text), []).append((text, label))
    texts, labels = [], []
    conflicting = in_train = empty = 0
    for key, items in groups.items():
        if not key:
            empty += 1
            continue
        if len({lab for _, lab in items}) > 1:
            conflicting += 1
            continue
        if exclude is not None and key in exclude:
            in_train += 1
            continue
        texts.append(items[0][0])
        labels.append(items[0][1])
    stats = {
        "raw_rows": len(rows),
        "unique_keys": len(groups),
        "dropped_conflicting_label_groups": conflicting,
        "dropped_empty_after_normalisation": empty,
        "dropped_overlap_with_train": in_train,
        "kept": len(texts),
        "positives_misinformation": int(sum(labels)),
    }
    return Split(name, texts, labels, stats)


def _read_constraint(file_name: str) -> list[tuple[str, int]]:
    mapping = {"fake": 1, "real": 0}
    with open(CONSTRAINT_DIR / file_name, encoding="utf-8", newline="") as f:
        return [(r["tweet"], mapping[r["label"]]) for r in csv.DictReader(f)]


def _read_cheng_news() -> list[tuple[str, int]]:
    """news.csv has no header: id, label (F/T/U), text, popularity.

    F (false rumour) -> 1, T (true) -> 0; U / U(Twitter) (unverified) dropped.
    The file is valid UTF-8 but already contains U+FFFD from an upstream
    encoding accident; the text is kept as-is (the BERT normaliser drops
    U+FFFD anyway).
    """
    mapping = {"F": 1, "T": 0}
    out = []
    with open(CHENG_NEWS, encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            label = row[1].strip()
            if label in mapping and row[2].strip():
                out.append((row[2], mapping[label]))
    return out


def load_all() -> tuple[Split, Split, Split]:
    train = _dedupe("constraint_train", _read_constraint("Constraint_Train.csv"))
    train_keys = {normalise(t) for t in train.texts}
    # Also exclude keys of train rows that were dropped for conflicting labels.
    train_keys |= {normalise(t) for t, _ in _read_constraint("Constraint_Train.csv")}
    val = _dedupe("constraint_val", _read_constraint("Constraint_Val.csv"), exclude=train_keys)
    cheng = _dedupe("cheng2020_news", _read_cheng_news(), exclude=train_keys)
    return train, val, cheng


if __name__ == "__main__":
    import json

    for s in load_all():
        print(s.name, json.dumps(s.stats))
