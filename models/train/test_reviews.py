"""Verdicts are training data: the labeled export -> data_v3 loader -> retrain_head.py loop.

    PYTHONPATH=.ort:.pyref python3 models/train/test_reviews.py        # from the repo root
    (or: models/train/.venv/bin/python models/train/test_reviews.py)

Loader tests need numpy only; the end-to-end tests run retrain_head.py (numpy, tokenizers,
onnxruntime: `bash scripts/setup.sh --python-reference`) on tests/fixtures/reviews/
labeled-export.jsonl -- 64 reviewed items made from the hand-written hard cases
(models/train/hardcases/dev.jsonl) by tests/fixtures/reviews/make_labeled_export.py -- and score
the retrained head against the hard cases' OWN labels, read here, not through the loader: a
loader that flipped or scrambled labels, lost the title or the body, or a head that ignored its
labels, fails. Whole file: ~15-30 s on 2 cores.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import data_v3  # noqa: E402
from data import DATASETS, normalise  # noqa: E402
from textprep import prepare  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "reviews" / "labeled-export.jsonl"
DEV = HERE / "hardcases" / "dev.jsonl"
MODEL = REPO / "models" / "minilm-health-v3"
SCRATCH = Path(tempfile.mkdtemp(prefix="test_reviews-"))
atexit.register(shutil.rmtree, SCRATCH, True)


def export_row(**kw) -> dict:
    row = {"id": "0123456789abcdef", "title": "Garlic cures COVID", "text": "Eat three cloves a day.",
           "url": "https://e.org/a", "source": "who-news", "language": "en", "published": None,
           "verdict": "false", "mis": 1, "claim": 1, "agreement": "single", "reviewers": 1,
           "model": {"id": "infodemic-minilm-health", "version": "3.0.0"}, "score": 0.93}
    row.update(kw)
    return row


def write(lines: list) -> Path:
    f = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8", dir=SCRATCH)
    for x in lines:
        f.write((x if isinstance(x, str) else json.dumps(x)) + "\n")
    f.close()
    return Path(f.name)


def read(paths, **kw):
    err = io.StringIO()
    rows, stats = data_v3.read_reviews(paths, report=err, **kw)
    return rows, stats, err.getvalue()


def fixture_json() -> list[dict]:
    return [json.loads(x) for x in FIXTURE.read_text(encoding="utf-8").splitlines() if x.strip()]


def dev_rows() -> list[dict]:
    return [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]


def origin(o: dict, dev: list[dict]) -> dict:
    """The hard case a fixture row was made from (its text is the title, the body or both)."""
    cands = {o["title"], o["text"], f"{o['title']} {o['text']}"} - {"", " "}
    found = [d for d in dev if d["text"] in cands]
    assert len(found) == 1, (o["id"], len(found))
    return found[0]


def auc(y, s) -> float:
    pos = [v for v, t in zip(s, y) if t == 1]
    neg = [v for v, t in zip(s, y) if t == 0]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


class Loader(unittest.TestCase):
    def test_fixture_rows_are_the_export_labels_and_texts(self):
        raw = fixture_json()
        rows, stats, err = read(FIXTURE)
        self.assertEqual(err, "")
        self.assertEqual((stats["lines"], stats["disagreed"], stats["usable"]), (64, 2, 62))
        self.assertEqual((stats["mis"], stats["not_mis"], stats["mis_unknown"]), (24, 36, 2))
        by_id = {o["id"]: o for o in raw}
        for r in rows:
            o = by_id[r.extra["id"]]
            self.assertNotEqual(o["agreement"], "disagreed")
            self.assertEqual((r.mis, r.claim), (o["mis"], o["claim"]))
            self.assertEqual(r.refute, 0 if o["claim"] == 0 else -1)
            self.assertEqual((r.source, r.split), ("reviews", "fit"))
            self.assertEqual(r.text, prepare(data_v3.review_text(o["title"], o["text"])))
            self.assertEqual(r.extra["verdict"], o["verdict"])

    def test_labels_agree_with_the_hand_written_hard_cases(self):
        dev = dev_rows()
        rows, _, _ = read(FIXTURE)
        raw = {o["id"]: o for o in fixture_json()}
        checked = 0
        for r in rows:
            d = origin(raw[r.extra["id"]], dev)
            if r.mis >= 0:
                self.assertEqual(r.mis, d["label"], d["text"])
                checked += 1
            self.assertEqual(r.claim, 0 if d["kind"] in ("question", "chatter") else 1)
        self.assertEqual(checked, 60)

    def test_text_is_composed_like_the_rust_classifier_input(self):
        # Item::classifier_input: title without trailing dots + ". " + body; either alone.
        self.assertEqual(data_v3.review_text("Garlic cures COVID...", "Eat it."), "Garlic cures COVID. Eat it.")
        self.assertEqual(data_v3.review_text("Is it true?", "No."), "Is it true?. No.")
        self.assertEqual(data_v3.review_text("Title only", ""), "Title only")
        self.assertEqual(data_v3.review_text("", "Body only"), "Body only")
        rows, _, _ = read(write([export_row(title="See https://x.co/a @who #Garlic cures", text="")]))
        self.assertEqual(rows[0].text, "See Garlic cures")
        self.assertEqual(rows[0].extra["raw_text"], "See https://x.co/a @who #Garlic cures")

    def test_bad_lines_are_reported_by_line_number_and_skipped(self):
        lines = [
            export_row(id="good1"),                                  # 1
            "{not json",                                             # 2
            "[1, 2]",                                                # 3
            export_row(id=""),                                       # 4
            export_row(id="b5", mis="1"),                            # 5
            export_row(id="b6", mis=True),                           # 6
            export_row(id="b7", mis=2),                              # 7
            export_row(id="b8", claim=-1),                           # 8
            export_row(id="b9", agreement="maybe"),                  # 9
            export_row(id="b10", title="", text=""),                 # 10
            export_row(id="b11", title="https://only.a/link", text="@handle"),  # 11
            export_row(id="b12", title=7),                           # 12
            "",                                                      # 13 (blank: ignored)
            export_row(id="good2", mis=0, verdict="true", title=None, text="Garlic is a food."),  # 14
            export_row(id="b15", verdict=None),                      # 15
        ]
        path = write(lines)
        rows, stats, err = read(path)
        self.assertEqual([r.extra["id"] for r in rows], ["good1", "good2"])
        self.assertEqual(stats["bad"], 12)
        for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15):
            self.assertIn(f"{path}:{n}: skipped: ", err)
        self.assertNotIn(f"{path}:1:", err)
        self.assertNotIn(f"{path}:14:", err)
        self.assertIn("`mis` must be 1, 0 or -1", err)

    def test_nothing_usable_fails(self):
        with self.assertRaises(data_v3.ReviewsError):
            read(write(["{broken", export_row(mis=5)]))
        with self.assertRaises(data_v3.ReviewsError):
            read(write([]))
        with self.assertRaises(data_v3.ReviewsError):
            read(Path("/nonexistent/labeled.jsonl"))
        with self.assertRaises(data_v3.ReviewsError):  # only disagreed rows
            read(write([export_row(agreement="disagreed", reviewers=2)]))
        rows, _, _ = read(write([export_row(agreement="disagreed", reviewers=2)]), keep_disagreed=True)
        self.assertEqual(len(rows), 1)

    def test_later_export_replaces_and_texts_are_deduplicated(self):
        first = write([export_row(id="a", mis=1), export_row(id="b", title="Same text", text="", mis=0,
                                                             verdict="true")])
        second = write([export_row(id="a", mis=0, verdict="true"),
                        export_row(id="c", title="same   TEXT", text="", mis=0, verdict="true"),
                        export_row(id="d", title="Clash", text="", mis=1),
                        export_row(id="e", title="clash", text="", mis=0, verdict="true"),
                        export_row(id="f", title="Unknown first", text="", mis=-1, verdict="unproven"),
                        export_row(id="g", title="unknown first", text="", mis=1)])
        rows, stats, _ = read([first, second])
        self.assertEqual(stats["superseded"], 1)
        self.assertEqual(next(r for r in rows if r.extra["id"] == "a").mis, 0)
        kept, merged = data_v3.merge_reviews({}, rows)
        self.assertEqual(sorted(r.extra["id"] for r in kept), ["a", "b", "g"])
        self.assertEqual((merged["duplicate"], merged["conflicting"]), (2, 2))
        # against other sources: dropped, never replacing them; label clashes counted apart
        taken = {normalise("same text"): {0}, normalise("garlic cures covid. eat three cloves a day."): {0}}
        kept, merged = data_v3.merge_reviews(taken, [r for r in rows if r.extra["id"] in ("b",)] +
                                             read(write([export_row(id="z")]))[0])
        self.assertEqual(kept, [])
        self.assertEqual((merged["duplicate_of_data"], merged["conflicting_with_data"]), (1, 1))

    def test_env_var_names_the_files(self):
        old = os.environ.get(data_v3.REVIEWS_ENV)
        try:
            os.environ[data_v3.REVIEWS_ENV] = f"a.jsonl{os.pathsep}{os.pathsep}b.jsonl"
            self.assertEqual(data_v3.review_paths(), [Path("a.jsonl"), Path("b.jsonl")])
            os.environ[data_v3.REVIEWS_ENV] = ""
            self.assertEqual(data_v3.review_paths(), [])
        finally:
            if old is None:
                os.environ.pop(data_v3.REVIEWS_ENV, None)
            else:
                os.environ[data_v3.REVIEWS_ENV] = old

    def test_reviews_never_touch_the_hard_case_rows(self):
        hard = data_v3.hard()
        for r in hard:
            r.text = prepare(r.text)
        taken = {}
        for r in hard:
            taken.setdefault(normalise(r.text), set()).add(r.mis)
        rows, _, _ = read(FIXTURE)
        kept, merged = data_v3.merge_reviews(taken, rows)
        # headlines and dotted feed entries read exactly like their hard case: dropped as duplicates
        self.assertEqual(merged["duplicate_of_data"], 22)
        self.assertEqual(merged.get("conflicting_with_data", 0), 0)
        self.assertEqual(len(kept), 40)
        self.assertTrue(all(r.split == "fit" and r.source == "reviews" for r in kept))

    @unittest.skipUnless((DATASETS / "constraint2021").is_dir(), "public datasets not here (INFODEMIC_DATASETS)")
    def test_full_load_adds_reviews_to_fit_only(self):
        base, _ = data_v3.load(reviews=[])
        more, stats = data_v3.load(reviews=[FIXTURE])
        self.assertEqual(more[:len(base)], base)
        added = more[len(base):]
        self.assertEqual(len(added), stats["reviews"]["kept"])
        self.assertTrue(added and all(r.source == "reviews" and r.split == "fit" for r in added))


def retrain(*extra: str) -> tuple[dict, float]:
    """Runs retrain_head.py as the Rust test will; (full result, wall seconds)."""
    out = Path(tempfile.mkdtemp(dir=SCRATCH)) / "result.json"
    cmd = [sys.executable, str(HERE / "retrain_head.py"), "--model", str(MODEL), "--reviews", str(FIXTURE),
           "--eval", str(DEV), "--out", str(out), *extra]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - t0
    if "No module named" in p.stderr:
        raise AssertionError("retrain_head.py needs numpy, tokenizers and onnxruntime: run "
                             "`bash scripts/setup.sh --python-reference` and PYTHONPATH=.ort:.pyref\n" + p.stderr)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stderr}"
    summary = json.loads(p.stdout)
    full = json.loads(out.read_text(encoding="utf-8"))
    assert summary == {k: v for k, v in full.items() if k != "predictions"}
    return full, wall


class EndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        dev = dev_rows()
        rows, _, _ = read(FIXTURE)  # the usable reviewed rows: their hard cases are not held out
        raw = {o["id"]: o for o in fixture_json()}
        reviewed = {id(origin(raw[r.extra["id"]], dev)) for r in rows}
        cls.held_out = [d["label"] for d in dev if id(d) not in reviewed]  # truth, not via the loader
        cls.result, cls.wall = retrain("--min-cv-auc", "0.65", "--min-eval-auc", "0.6")
        cls.flipped, cls.wall_flipped = retrain("--flip-labels")
        print(f"\nretrain_head.py: {cls.wall:.1f} s, --flip-labels: {cls.wall_flipped:.1f} s; "
              f"cv AUC {cls.result['cv']['roc_auc']}, eval AUC {cls.result['eval']['roc_auc']} "
              f"(flipped {cls.flipped['eval']['roc_auc']})", file=sys.stderr)

    def test_the_reviews_are_read_as_exported(self):
        r = self.result["reviews"]
        self.assertEqual((r["lines"], r["usable"], r["disagreed"], r["trained_on"]), (64, 62, 2, 60))
        self.assertEqual(self.result["cv"]["n"], 60)
        self.assertEqual(self.result["cv"]["mis"], 24)

    def test_head_separates_held_out_reviews_better_than_chance(self):
        cv = self.result["cv"]
        self.assertGreaterEqual(cv["roc_auc"], 0.65)
        self.assertGreater(cv["balanced_accuracy"], 0.6)
        ids = {o["id"]: o for o in fixture_json()}
        preds = self.result["predictions"]["cv"]
        self.assertAlmostEqual(auc([ids[p["id"]]["mis"] for p in preds], [p["logit"] for p in preds]),
                               cv["roc_auc"], places=3)

    def test_head_ranks_the_unreviewed_hard_cases_by_their_own_labels(self):
        ev = self.result["eval"]
        self.assertEqual((ev["rows"], ev["dropped_overlap"], ev["n"]), (670, 62, len(self.held_out)))
        mine = auc(self.held_out, self.result["predictions"]["eval"])
        self.assertAlmostEqual(mine, ev["roc_auc"], places=3)
        self.assertGreaterEqual(mine, 0.6)

    def test_flipped_labels_rank_worse_than_chance(self):
        mine = auc(self.held_out, self.flipped["predictions"]["eval"])
        self.assertLess(mine, 0.45)
        self.assertGreater(self.result["eval"]["roc_auc"] - mine, 0.2)

    def test_runs_in_well_under_a_minute(self):
        self.assertLess(self.wall, 60)
        self.assertLess(self.result["seconds"]["total"], 60)

    def test_unusable_reviews_exit_2_with_line_numbers(self):
        bad = write(["{broken", json.dumps(export_row(mis="yes"))])
        p = subprocess.run([sys.executable, str(HERE / "retrain_head.py"), "--reviews", str(bad)],
                           capture_output=True, text=True, cwd=REPO)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"{bad}:1: skipped: not JSON", p.stderr)
        self.assertIn(f"{bad}:2: skipped: `mis`", p.stderr)
        self.assertIn("no usable reviewed row", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
