"""v3 data: every labeled set in ../shared/datasets plus the project's own hard cases, with three
labels per text and a source name per row (for leave-one-source-out runs).

Read in place (INFODEMIC_DATASETS, default /work/shared/datasets); nothing is copied into the
repository except the hard cases we wrote ourselves (models/train/hardcases/).

Labels (1 / 0 / -1 = unknown, not trained on):
  mis     the text ASSERTS a false or misleading health claim (the served `score`)
  claim   the text states a checkable claim (true or false); 0 = questions, chatter, greetings
  refute  the text refutes a claim (fact-check, myth-buster, "no evidence that ...")

Sources and their splits (seed 42; deduplication is global on data.normalise of the prepared
text, the first source in SOURCE_ORDER keeps a text, texts with conflicting `mis` labels are
dropped everywhere):
  constraint   CONSTRAINT train -> fit 85 / dev 15 (stratified); val -> test
  cheng        Cheng news + twitter (F/T) -> fit 70 / dev 15 / test 15 (stratified by file x label)
  checkcovid   Check-COVID official train / dev / test, SUPPORT = 0, REFUTE = 1, NEI dropped
  truthfulqa   TruthfulQA Health + Nutrition answers (incorrect = 1, correct = 0), split by question
  medquad      NIH questions (claim 0) and the first sentences of answers (claim 1), split by focus
  clinc        CLINC150 utterances (all domains, small talk included), official train/val/test
  reddit       Reddit health misinformation (all 1, noisy: weight 0.3), fit 70 / dev 15 / test 15
  fullfact     Full Fact health claims: uncontroversial = 0, disputed / widely discredited = 1: test
  hard         hardcases/train.jsonl and train_true_statements.jsonl -> fit; hardcases/dev.jsonl ->
               dev_a / dev_b (split by pair)
  templated    debunks made from the false claims of FIT rows with hardcases/train templates, and
               false denials of FIT true statements with the same templates -> fit
  reviews      (only when asked: load(reviews=...) or INFODEMIC_REVIEWS) fact-checkers' verdicts from
               `infodemic export --format labeled` -> fit only; see read_reviews / merge_reviews
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data import DATASETS, normalise
from textprep import prepare

HERE = Path(__file__).resolve().parent
HARD = HERE / "hardcases"
SEED = 42
SOURCE_ORDER = ("hard", "constraint", "cheng", "checkcovid", "truthfulqa", "fullfact", "reddit", "medquad",
                "clinc", "templated", "reviews")  # reviews: always last, merged after the rest (merge_reviews)
SPLITS = ("fit", "dev", "test")
KINDS = ("false_claim", "debunk", "guidance", "news", "question", "chatter", "true_claim")
# kind -> (mis, claim, refute)
KIND_LABELS = {"false_claim": (1, 1, 0), "debunk": (0, 1, 1), "guidance": (0, -1, 0), "news": (0, 1, 0),
               "question": (0, 0, 0), "chatter": (0, 0, 0), "true_claim": (0, 1, 0)}


@dataclass
class Row:
    text: str           # prepared (textprep.prepare)
    mis: int
    claim: int
    refute: int
    source: str
    split: str          # fit / dev / test (hard dev rows: dev_a / dev_b)
    kind: str = ""
    group: str = ""     # rows that must stay in one split (pairs, questions, foci)
    weight: float = 1.0
    extra: dict = field(default_factory=dict)


def _strat(keys: list[str], fracs: tuple[float, ...], seed: int = SEED) -> list[int]:
    """Split index per element: stratified by key, shuffled with the seed, cut by fractions."""
    rng = np.random.default_rng(seed)
    out = [0] * len(keys)
    by: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        by[k].append(i)
    for k in sorted(by):
        idx = np.array(by[k])[rng.permutation(len(by[k]))]
        cuts = np.round(np.cumsum(fracs)[:-1] * len(idx)).astype(int)
        for s, chunk in enumerate(np.split(idx, cuts)):
            for i in chunk:
                out[int(i)] = s
    return out


def _group_split(groups: list[str], fracs: tuple[float, ...], seed: int = SEED) -> list[int]:
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = [uniq[i] for i in rng.permutation(len(uniq))]
    cuts = np.round(np.cumsum(fracs)[:-1] * len(order)).astype(int)
    where = {}
    for s, chunk in enumerate(np.split(np.arange(len(order)), cuts)):
        for i in chunk:
            where[order[int(i)]] = s
    return [where[g] for g in groups]


# --------------------------------------------------------------------------- sources
def constraint() -> list[Row]:
    d = DATASETS / "constraint2021"
    rows = []
    with open(d / "Constraint_Train.csv", encoding="utf-8", newline="") as f:
        tr = [(r["tweet"], 1 if r["label"] == "fake" else 0) for r in csv.DictReader(f)]
    sp = _strat([str(y) for _, y in tr], (0.85, 0.15))
    for (t, y), s in zip(tr, sp):
        rows.append(Row(t, y, 1, 0 if y else -1, "constraint", SPLITS[s]))
    with open(d / "Constraint_Val.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            y = 1 if r["label"] == "fake" else 0
            rows.append(Row(r["tweet"], y, 1, 0 if y else -1, "constraint", "test"))
    return rows


_QWERTYU = re.compile(r"qwertyu", re.IGNORECASE)


def cheng() -> list[Row]:
    d = DATASETS / "covid19-rumor-cheng2020"
    m = {"F": 1, "T": 0}
    raw = []
    with open(d / "news.csv", encoding="utf-8-sig", newline="") as f:
        raw += [(r[2], m[r[1].strip()], "news") for r in csv.reader(f) if r[1].strip() in m and r[2].strip()]
    with open(d / "twitter.csv", encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            if r["label"].strip() in m and r["content"].strip():
                t = _QWERTYU.sub(lambda x: "That" if x.group(0)[0].isupper() else "that", r["content"])
                raw.append((t, m[r["label"].strip()], "twitter"))
    sp = _strat([f"{s}/{y}" for _, y, s in raw], (0.70, 0.15, 0.15))
    return [Row(t, y, 1, 0 if y else -1, "cheng", SPLITS[s], extra={"file": f}) for (t, y, f), s in zip(raw, sp)]


def checkcovid() -> list[Row]:
    d = DATASETS / "check-covid"
    files = {"fit": d / "train" / "covidCheck_train_composed+extracted.json",
             "dev": d / "dev" / "covidCheck_dev_composed+extracted.json",
             "test": [d / "test" / "covidCheck_test_composed.json", d / "test" / "covidCheck_test_extracted.json"]}
    rows = []
    for split, paths in files.items():
        for p in paths if isinstance(paths, list) else [paths]:
            for line in p.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                o = json.loads(line)
                if o["label"] not in ("SUPPORT", "REFUTE"):
                    continue
                y = 1 if o["label"] == "REFUTE" else 0
                rows.append(Row(o["claim"], y, 1, 0, "checkcovid", split, group=o["id"].split("_")[0],
                                extra={"is_auth": o.get("is_auth")}))
    return rows


_NO_COMMENT = re.compile(r"^(i have no comment|no comment)", re.IGNORECASE)


def truthfulqa() -> list[Row]:
    rows = []
    with open(DATASETS / "truthfulqa" / "TruthfulQA.csv", encoding="utf-8", newline="") as f:
        qs = [r for r in csv.DictReader(f) if r["Category"] in ("Health", "Nutrition")]
    sp = _group_split([r["Question"] for r in qs], (0.6, 0.2, 0.2))
    for r, s in zip(qs, sp):
        for col, y in (("Incorrect Answers", 1), ("Correct Answers", 0)):
            for a in r[col].split(";"):
                a = a.strip()
                if len(a.split()) < 3 or _NO_COMMENT.match(a):
                    continue
                a = a if a.endswith((".", "!", "?")) else a + "."
                rows.append(Row(a, y, 1, 0 if y else -1, "truthfulqa", SPLITS[s], group=r["Question"]))
    return rows


def fullfact() -> list[Row]:
    rows = []
    with open(DATASETS / "fullfact-health" / "full_in_context_labelled_data.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            y = {"uncontroversial statement": 0, "disputed claim": 1, "widely discredited": 1}.get(r["support"])
            if y is None or r["type_of_medical_claim"] == "not medical":
                continue
            rows.append(Row(r["output_text"], y, 1, 0, "fullfact", "test"))
    return rows


def reddit() -> list[Row]:
    with open(DATASETS / "reddit-health-misinfo" / "Health_Misinformation_reddit_Dataset.csv",
              encoding="utf-8", newline="") as f:
        texts = [r["text"] for r in csv.DictReader(f) if r["text"].strip()]
    sp = _strat(["1"] * len(texts), (0.70, 0.15, 0.15))
    return [Row(t, 1, 1, 0, "reddit", SPLITS[s], weight=0.3) for t, s in zip(texts, sp)]


_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
MEDQUAD_PER_SPLIT = {"fit": 2500, "dev": 300, "test": 400}  # per kind (questions, answers)


def medquad() -> list[Row]:
    qs, ans = [], []
    for line in (DATASETS / "medquad" / "medquad.jsonl").read_text(encoding="utf-8").splitlines():
        o = json.loads(line)
        focus = (o.get("focus") or "").lower()
        qs.append((o["question"].strip(), focus))
        a = (o.get("answer") or "").strip()
        if a:
            a = re.sub(r"^(Key Points|Summary|What are the signs and symptoms[^\n]*)\s*", "", a)
            a = a.replace("\n", " ").replace(" - ", " ")
            sents = [s for s in _SENT.split(a) if 4 <= len(s.split()) <= 60]
            if sents:
                ans.append((" ".join(sents[:2]), focus))
    rows = []
    rng = np.random.default_rng(SEED)
    for items, kind, claim in ((qs, "question", 0), (ans, "true_claim", 1)):
        sp = _group_split([f for _, f in items], (0.8, 0.1, 0.1))
        for s, name in enumerate(SPLITS):
            idx = [i for i, x in enumerate(sp) if x == s]
            idx = [idx[i] for i in rng.permutation(len(idx))[:MEDQUAD_PER_SPLIT[name]]]
            rows += [Row(items[i][0], 0, claim, 0, "medquad", name, kind=kind, group=items[i][1]) for i in sorted(idx)]
    return rows


CLINC_PER_SPLIT = {"fit": 3000, "dev": 300, "test": 600}


def clinc() -> list[Row]:
    d = json.loads((DATASETS / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    domains = json.loads((DATASETS / "clinc150" / "domains.json").read_text(encoding="utf-8"))
    small = set(domains.get("small_talk", []))
    rng = np.random.default_rng(SEED)
    rows = []
    for split, keys in (("fit", ("train", "oos_train")), ("dev", ("val", "oos_val")), ("test", ("test", "oos_test"))):
        items = [(t, intent) for k in keys for t, intent in d[k]]
        # every small-talk utterance, then a random sample of the rest
        st = [x for x in items if x[1] in small]
        other = [x for x in items if x[1] not in small]
        n_other = max(0, CLINC_PER_SPLIT[split] - len(st))
        other = [other[i] for i in sorted(rng.permutation(len(other))[:n_other])]
        for t, intent in st + other:
            rows.append(Row(t, 0, 0, 0, "clinc", split, kind="chatter" if intent in small else "question",
                            extra={"intent": intent}))
    return rows


def hard() -> list[Row]:
    rows = []
    tr = HARD / "train.jsonl"
    if tr.exists():
        for line in tr.read_text(encoding="utf-8").splitlines():
            if line.strip():
                o = json.loads(line)
                m, c, r = KIND_LABELS[o["kind"]]
                rows.append(Row(o["text"], m, c, r, "hard", "fit", kind=o["kind"], group=o.get("pair") or "",
                                extra={"topic": o.get("topic")}))
    ts = HARD / "train_true_statements.jsonl"
    if ts.exists():
        for line in ts.read_text(encoding="utf-8").splitlines():
            if line.strip():
                o = json.loads(line)
                rows.append(Row(o["text"], 0, 1, 0, "hard", "fit", kind="true_claim", extra={"topic": o.get("topic")}))
    dv = HARD / "dev.jsonl"
    if dv.exists():
        objs = [json.loads(x) for x in dv.read_text(encoding="utf-8").splitlines() if x.strip()]
        # split by pair (a claim and its debunk stay together), unpaired rows by their own text
        sp = _group_split([o.get("pair") or o["text"] for o in objs], (0.5, 0.5))
        for o, s in zip(objs, sp):
            m, c, r = KIND_LABELS[o["kind"]]
            rows.append(Row(o["text"], m, c, r, "hard", ("dev_a", "dev_b")[s], kind=o["kind"],
                            group=o.get("pair") or "", extra={"topic": o.get("topic"), "style": o.get("style")}))
    return rows


# --------------------------------------------------------------------------- templated debunks
_LEAD = re.compile(r"^(breaking|just in|fact|claim|rumou?r|viral|news|update|wow|omg)\s*[:!-]+\s*", re.IGNORECASE)


def as_clause(text: str) -> str | None:
    """A false claim as a clause to put into a template ("the MMR vaccine causes autism")."""
    t = _LEAD.sub("", text.strip()).strip().strip('"“”').strip()
    t = re.sub(r"[.!?…]+$", "", t).strip()
    if not (3 <= len(t.split()) <= 30) or "?" in t:
        return None
    if len(t) > 1 and t[0].isupper() and t[1].islower() and t.split()[0] not in _PROPER_STARTS:
        t = t[0].lower() + t[1:]
    return t


# Capitalised first words that stay capitalised inside a sentence.
_PROPER_STARTS = {"COVID-19", "COVID", "Covid", "Coronavirus", "WHO", "CDC", "FDA", "NHS", "Bill", "Vitamin", "India",
                  "China", "Chinese", "American", "Americans", "US", "UK", "Ivermectin", "Hydroxychloroquine", "Pfizer",
                  "Moderna", "AstraZeneca", "5G", "HIV", "MMR", "HPV", "Africa", "African", "Italy", "Italian"}


def templated(rows: list[Row], seed: int = SEED, share: float = 0.6, denial_share: float = 0.0) -> list[Row]:
    """Debunks of FIT false claims (never of dev/test ones), one template each, for `share` of
    them; and, for `denial_share` of the FIT true statements, the same templates around a TRUE
    claim: a false denial ("There is no evidence that vaccines prevent measles"), which is
    misinformation. Without the denials a model learns "negation = reliable" and passes
    "HIV does not cause AIDS"; with them, only the claim's content can tell the two apart."""
    path = HARD / "train_refutation_templates.json"
    if not path.exists():
        path = HARD / "refutation_templates.json"
    if not path.exists():
        return []
    templates = json.loads(path.read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    out = []
    for r in rows:
        if r.split != "fit" or r.mis != 1 or r.source in ("reddit",) or rng.random() > share:
            continue
        c = as_clause(r.text)
        if c is None:
            continue
        tpl = templates[int(rng.integers(len(templates)))]
        text = tpl.replace("{claim}", c).replace("{Claim}", c[0].upper() + c[1:])
        out.append(Row(text, 0, 1, 1, "templated", "fit", kind="debunk", group=r.source,
                       extra={"from": r.source}))
    for r in rows:
        if r.split != "fit" or r.mis != 0 or r.claim != 1 or r.kind not in ("true_claim", "") \
                or r.source not in DENIAL_SOURCES or rng.random() > denial_share * DENIAL_SOURCES[r.source]:
            continue
        c = as_clause(r.text.split(". ")[0])
        if c is None:
            continue
        tpl = templates[int(rng.integers(len(templates)))]
        text = tpl.replace("{claim}", c).replace("{Claim}", c[0].upper() + c[1:])
        out.append(Row(text, 1, 1, 1, "templated", "fit", kind="false_claim", group=r.source,
                       extra={"from": r.source, "denial": True}))
    return out


# Cue decorrelation: "studies show" opens false claims in the public sets far more often than
# true ones; the same openings on true statements teach that the opening proves nothing.
EVIDENCE_OPENINGS = ["Studies show that", "Research confirms that", "Evidence shows that", "Doctors agree that",
                     "Scientists have found that", "New research shows that", "According to a large study,",
                     "Experts say", "It is well established that", "Data from millions of people show that"]
# Reporting on a false claim at a distance (warnings, research on rumours, enforcement) is news,
# not an assertion: the claim's words are there, the text does not assert them.
REPORT_TEMPLATES = [
    "Health officials have received reports of products sold online with claims that {claim}.",
    "A post circulating on social media claims that {claim}; health authorities have issued a warning.",
    "Regulators are warning consumers about websites that say {claim}.",
    "The agency is investigating sellers who advertise that {claim}.",
    "Researchers tracked how the rumour that {claim} spread across messaging apps.",
    "Teachers report that students are sharing videos saying {claim}.",
    "The study looked at why people come to believe that {claim}.",
    "Survey: one in five adults has heard that {claim}.",
    "Pharmacists say customers keep asking whether {claim}.",
    "Misinformation researchers catalogued thousands of posts claiming {claim}.",
    "The consumer watchdog fined a company for advertising that {claim}.",
    "Officials urged people not to buy products promoted with claims that {claim}.",
    "Platforms removed videos that claimed {claim}, the company said in its quarterly report.",
    "Doctors at the county hospital say they have treated patients who believed {claim}.",
]


def decorrelated(rows: list[Row], seed: int = SEED, evidence_share: float = 0.5, report_share: float = 0.25) -> list[Row]:
    """True statements behind an evidence opening (0), and false claims reported at a distance (0)."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for r in rows:
        if r.split != "fit" or r.source not in ("hard", "truthfulqa"):
            continue
        if r.mis == 0 and r.kind in ("true_claim", "") and r.claim == 1 and rng.random() < evidence_share:
            c = as_clause(r.text.split(". ")[0])
            if c:
                opening = EVIDENCE_OPENINGS[int(rng.integers(len(EVIDENCE_OPENINGS)))]
                out.append(Row(f"{opening} {c}.", 0, 1, 0, "templated", "fit", kind="true_claim", group=r.source,
                               extra={"from": r.source, "evidence_opening": True}))
        elif r.mis == 1 and rng.random() < report_share:
            c = as_clause(re.split(r"(?<=[.!?])\s+", r.text)[0])
            if c:
                tpl = REPORT_TEMPLATES[int(rng.integers(len(REPORT_TEMPLATES)))]
                out.append(Row(tpl.replace("{claim}", c), 0, 1, 0, "templated", "fit", kind="news", group=r.source,
                               extra={"from": r.source, "report": True}))
    return out


# Where true statements for false denials come from, and how often (times denial_share): the
# well-known truths of our hard cases and TruthfulQA always, MedQuAD's encyclopedic leads rarely.
DENIAL_SOURCES = {"hard": 1.0, "truthfulqa": 1.0, "medquad": 0.02}


# --------------------------------------------------------------------------- reviewed items
# Fact-checkers' verdicts, as `infodemic export --format labeled` writes them: one JSON object a
# line per reviewed item,
#   {"id", "title", "text", "url", "source", "language", "published", "verdict", "mis", "claim",
#    "agreement", "reviewers", "model": {"id", "version"}, "score"}
# mis: 1 (false / misleading / missing-context), 0 (true / not-health / not-a-claim), -1 (unproven:
# unknown, not trained on); claim: 1, or 0 for not-a-claim. The labels come from the export's
# mis/claim fields, never from verdict names (a data directory's verdicts.toml may rename them).
#
# Rows become source "reviews", split "fit" -- never dev or test: reviewed items are the ones the
# model (or a person) picked out for review, so they are not a sample of anything, and dev/test
# are fixed yardsticks that must not move with the review queue. Held-out figures on reviews come
# from cross-validation within them (retrain_head.py). refute is -1 (unknown: an export does not
# say whether a text refutes something) except for not-a-claim rows (0: no claim, no refutation).
REVIEWS_ENV = "INFODEMIC_REVIEWS"   # files, separated by os.pathsep (":")
REVIEW_AGREEMENTS = ("single", "agreed", "disagreed")
MAX_REPORTED_PROBLEMS = 50          # bad lines printed (all are counted)


class ReviewsError(ValueError):
    """No usable reviewed row (or an unreadable file): nothing to train on."""


def review_paths() -> list[Path]:
    """The files named by INFODEMIC_REVIEWS (none when unset or empty)."""
    return [Path(p) for p in os.environ.get(REVIEWS_ENV, "").split(os.pathsep) if p.strip()]


def review_text(title: str, text: str) -> str:
    """The text the classifier reads for an item: the title, then the body -- exactly the Rust
    `Item::classifier_input` (title without its trailing dots + ". " + body; either alone when the
    other is empty). textprep.prepare is applied after, as for every other row."""
    if not text:
        return title
    if not title:
        return text
    return f"{title.rstrip('.')}. {text}"


def _review_row(o, path: Path, line: int) -> tuple[Row | None, str]:
    """(row, "") or (None, why the line is not usable)."""
    if not isinstance(o, dict):
        return None, "not a JSON object"
    item_id = o.get("id")
    if not isinstance(item_id, str) or not item_id.strip():
        return None, "no item id"
    parts = {}
    for name in ("title", "text"):
        v = o.get(name)
        if v is None:
            v = ""
        if not isinstance(v, str):
            return None, f"`{name}` is not a string"
        parts[name] = v
    mis, claim = o.get("mis"), o.get("claim")
    if isinstance(mis, bool) or mis not in (1, 0, -1):
        return None, f"`mis` must be 1, 0 or -1, not {json.dumps(mis)}"
    if isinstance(claim, bool) or claim not in (1, 0):
        return None, f"`claim` must be 1 or 0, not {json.dumps(claim)}"
    agreement = o.get("agreement")
    if agreement not in REVIEW_AGREEMENTS:
        return None, f"`agreement` must be one of {', '.join(REVIEW_AGREEMENTS)}, not {json.dumps(agreement)}"
    verdict = o.get("verdict")
    if not isinstance(verdict, str) or not verdict:
        return None, "no verdict"
    raw = review_text(parts["title"], parts["text"])
    text = prepare(raw)
    if not normalise(text):
        return None, "no text (title and text empty once links and handles are removed)"
    mis, claim = int(mis), int(claim)
    kind = "unproven" if mis < 0 else "false_claim" if mis == 1 else "true_claim" if claim == 1 else "chatter"
    model = o.get("model") if isinstance(o.get("model"), dict) else {}
    return Row(text, mis, claim, 0 if claim == 0 else -1, "reviews", "fit", kind=kind, group=item_id,
               extra={"id": item_id, "verdict": verdict, "agreement": agreement, "reviewers": o.get("reviewers"),
                      "url": o.get("url"), "feed": o.get("source"), "language": o.get("language"),
                      "model": model, "score": o.get("score"), "title": parts["title"], "body": parts["text"],
                      "raw_text": raw, "file": str(path),
                      "line": line}), ""


def read_reviews(paths, *, keep_disagreed: bool = False, report=sys.stderr) -> tuple[list[Row], dict]:
    """The usable rows of labeled exports, in file order, one per item id (a later row for the same
    id -- a later export -- replaces an earlier one). A line that is not a usable row is reported
    as FILE:LINE: why, and skipped; rows whose reviewers disagree are skipped unless
    keep_disagreed (the export gives one verdict, not each reviewer's). Raises ReviewsError when a
    file cannot be read or no usable row is left."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    by_id: "OrderedDict[str, Row]" = OrderedDict()
    stats: dict = defaultdict(int)
    problems: list[str] = []
    for path in map(Path, paths):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise ReviewsError(f"{path}: cannot read the labeled export: {e}") from e
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            stats["lines"] += 1
            try:
                o = json.loads(line)
            except json.JSONDecodeError as e:
                row, why = None, f"not JSON ({e.msg} at column {e.colno})"
            else:
                row, why = _review_row(o, path, n)
            if row is None:
                stats["bad"] += 1
                problems.append(f"{path}:{n}: skipped: {why}")
                continue
            if row.extra["agreement"] == "disagreed" and not keep_disagreed:
                stats["disagreed"] += 1
                continue
            if row.group in by_id:
                stats["superseded"] += 1
                del by_id[row.group]
            by_id[row.group] = row
    for p in problems[:MAX_REPORTED_PROBLEMS]:
        print(p, file=report)
    if len(problems) > MAX_REPORTED_PROBLEMS:
        print(f"... and {len(problems) - MAX_REPORTED_PROBLEMS} more bad lines", file=report)
    rows = list(by_id.values())
    stats["usable"] = len(rows)
    for r in rows:
        stats[{1: "mis", 0: "not_mis", -1: "mis_unknown"}[r.mis]] += 1
    if not rows:
        names = ", ".join(map(str, paths)) or "(no file)"
        raise ReviewsError(f"{names}: no usable reviewed row ({dict(stats)}); see the lines reported above")
    return rows, dict(stats)


def merge_reviews(taken: "dict[str, set[int]]", rows: list[Row]) -> tuple[list[Row], dict]:
    """Reviewed rows deduplicated like the rest (data.normalise of the prepared text), after it:
    a reviewed text that any other source already has is dropped (the other row, perhaps a dev
    or test row, stays untouched: reviews never change the evaluation sets), counted as
    `duplicate_of_data`, or `conflicting_with_data` when the known labels differ (worth a look:
    one of the two labels is wrong). `taken`: normalised text -> the `mis` labels other sources
    gave it. Among reviews, the first row of a text with a known `mis` stays (`duplicate` counts
    the others); texts whose reviews disagree on a known `mis` are dropped (`conflicting`)."""
    stats: dict = defaultdict(int)
    groups: "OrderedDict[str, list[Row]]" = OrderedDict()
    for r in rows:
        groups.setdefault(normalise(r.text), []).append(r)
    kept = []
    for key, items in groups.items():
        if key in taken:
            known = {r.mis for r in items if r.mis >= 0}
            clash = bool(known - {m for m in taken[key] if m >= 0})
            stats["conflicting_with_data" if clash else "duplicate_of_data"] += len(items)
            continue
        if len({r.mis for r in items if r.mis >= 0}) > 1:
            stats["conflicting"] += len(items)
            continue
        keep = next((r for r in items if r.mis >= 0), items[0])
        kept.append(keep)
        stats["duplicate"] += len(items) - 1
    stats["kept"] = len(kept)
    return kept, dict(stats)


# --------------------------------------------------------------------------- assembly
def load(templated_share: float = 0.6, denial_share: float = 0.0,
         reviews: "list[str | Path] | None" = None) -> tuple[list[Row], dict]:
    """Every set, deduplicated. `reviews`: labeled exports to add (None: INFODEMIC_REVIEWS, see
    review_paths; [] : none); they are merged after the rest (merge_reviews), so without them
    the rows are exactly what they were before reviews existed."""
    raw = hard() + constraint() + cheng() + checkcovid() + truthfulqa() + fullfact() + reddit() + medquad() + clinc()
    for r in raw:
        r.text = prepare(r.text)
    raw += [Row(prepare(x.text), x.mis, x.claim, x.refute, x.source, x.split, x.kind, x.group, x.weight, x.extra)
            for x in templated(raw, share=templated_share, denial_share=denial_share) + decorrelated(raw)]
    order = {s: i for i, s in enumerate(SOURCE_ORDER)}
    raw.sort(key=lambda r: order[r.source])  # stable: the first source keeps a duplicated text
    groups: "OrderedDict[str, list[Row]]" = OrderedDict()
    for r in raw:
        groups.setdefault(normalise(r.text), []).append(r)
    kept, stats = [], defaultdict(lambda: defaultdict(int))
    for key, items in groups.items():
        if not key:
            stats[items[0].source]["empty"] += len(items)
            continue
        if len({r.mis for r in items}) > 1:
            for r in items:
                stats[r.source]["conflicting"] += 1
            continue
        kept.append(items[0])
        stats[items[0].source]["kept"] += 1
        for r in items[1:]:
            stats[r.source]["duplicate"] += 1
    for r in kept:
        if not r.kind:
            r.kind = ("false_claim" if r.mis else "true_claim") if r.claim == 1 else "chatter"
    out = {k: dict(v) for k, v in stats.items()}
    paths = review_paths() if reviews is None else list(reviews)
    if paths:
        reviewed, read_stats = read_reviews(paths)
        added, merge_stats = merge_reviews({k: {r.mis for r in v} for k, v in groups.items()}, reviewed)
        kept += added
        out["reviews"] = {**read_stats, **merge_stats}
    return kept, out


def summary(rows: list[Row]) -> dict:
    out: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for r in rows:
        out[r.source][r.split][r.mis] += 1  # index -1: mis unknown (reviews: unproven)
    return {s: {sp: {"n": a + b + u, "mis": b, **({"mis_unknown": u} if u else {})} for sp, (a, b, u) in v.items()}
            for s, v in out.items()}


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="v3 data: counts per source and split")
    ap.add_argument("--reviews", action="append", metavar="FILE",
                    help=f"a labeled export to add (repeatable; default: ${REVIEWS_ENV})")
    ap.add_argument("--reviews-only", action="store_true",
                    help="only read and check the reviewed rows (no datasets needed)")
    args = ap.parse_args()
    try:
        if args.reviews_only:
            rows, read_stats = read_reviews(args.reviews or review_paths())
            rows, merge_stats = merge_reviews({}, rows)
            stats = {"reviews": {**read_stats, **merge_stats}}
        else:
            rows, stats = load(reviews=args.reviews)
    except ReviewsError as e:
        sys.exit(f"data_v3: {e}")
    print(json.dumps(stats, indent=1))
    print(json.dumps(summary(rows), indent=1))
    print(len(rows))
