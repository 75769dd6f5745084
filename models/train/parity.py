"""Parity fixtures for the Rust integration test.

Writes tests/fixtures/parity/reference.jsonl (one text per line, each run
ALONE through the served int8 graph: batch size 1, no padding) and
tests/fixtures/parity/batched.json (how far one padded batch of all texts
moves from the batch-1 results, to size the Rust tolerances).

Run standalone:  models/train/.venv/bin/python models/train/parity.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "models" / "minilm-constraint-v1"
FIXTURE_DIR = REPO / "tests" / "fixtures" / "parity"

LONG_PARAGRAPH = (
    "Public health officials on Tuesday released an updated assessment of the respiratory virus season, "
    "noting that hospital admissions for COVID-19 rose for the third consecutive week in several northern "
    "regions while influenza activity remained below the five-year average. The report, compiled from "
    "laboratory surveillance, wastewater monitoring and sentinel clinics, found that most severe cases "
    "occurred among adults over 65 and people with chronic conditions such as diabetes, heart disease or "
    "weakened immune systems. Officials stressed that the updated vaccines continue to provide strong "
    "protection against hospitalisation and death, although protection against mild infection wanes after "
    "several months. They urged eligible residents to get vaccinated before the winter holidays, to stay "
    "home when sick, to improve indoor ventilation where possible, and to consider wearing a well-fitting "
    "mask in crowded indoor settings. The assessment also addressed several claims circulating on social "
    "media, including assertions that vaccines alter human DNA or contain tracking devices, and stated that "
    "there is no scientific evidence supporting any of them. Antiviral treatments remain available for "
    "people at high risk and work best when started within five days of the first symptoms."
)

TEXTS = [
    "5G towers spread the coronavirus.",
    "BREAKING: Garlic water cures COVID-19 in 24 hours!!! Share before they delete it "
    "https://t.co/AbC123xyz #COVID19 #cure #health",
    LONG_PARAGRAPH,
    "Naïve résumé: the café owner in São Paulo tested positive — the coöperative in Zürich closed for a week.",
    "Stay safe everyone 😷🙏 wash your hands 🧼 and keep your distance ❤️",
    "Las vacunas contra la COVID-19 no contienen microchips, según los expertos de la OMS.",
    "新冠病毒疫苗是安全有效的，请按时接种。",
    "Doctors are hiding the truth: drinking hot water with lemon every 15 minutes kills the virus in your "
    "throat before it reaches the lungs.",
    "The CDC recommends that everyone aged 6 months and older receive an updated COVID-19 vaccine. Vaccines "
    "are safe and effective at preventing severe illness, hospitalization and death.",
    "#IndiaFightsCorona: We have 1524 #COVID testing laboratories in India and as on 25th August 2020 "
    "36827520 samples have been tested. https://t.co/Wn4JmT1Xq2",
    "Hello",
    "THE VACCINE CHANGES YOUR DNA!!! WAKE UP PEOPLE",
    "Line one\n\nLine two\twith a tab   and   extra   spaces",
    "“Masks don’t work,” says a post shared 12k times — fact-checkers rated it false.",
    "Is it safe to take ibuprofen if I have COVID-19?",
    "Bill Gates admitted the vaccine was designed to depopulate the planet, leaked video shows "
    "https://bit.ly/3xYz #plandemic #NoToVaccines",
]


def _session(model_path: Path, level=ort.GraphOptimizationLevel.ORT_ENABLE_ALL) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = level
    return ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])


def write_fixtures(model_path: Path = MODEL_DIR / "model.onnx",
                   tokenizer_path: Path = MODEL_DIR / "tokenizer.json",
                   out_dir: Path = FIXTURE_DIR) -> dict:
    import hashlib

    sess = _session(model_path)
    tok = Tokenizer.from_file(str(tokenizer_path))
    out_dir.mkdir(parents=True, exist_ok=True)

    single_scores, single_embs, lines = [], [], []
    for text in TEXTS:
        enc = tok.encode(text)  # truncates to 128; BatchLongest padding is a no-op for one text
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.array([enc.attention_mask], dtype=np.int64)
        assert mask.all(), "single-text encoding must not be padded"
        score, emb = sess.run(["score", "embedding"], {"input_ids": ids, "attention_mask": mask})
        single_scores.append(score[0])
        single_embs.append(emb[0])
        lines.append({
            "text": text,
            "score": float(score[0]),
            "embedding_head": [float(v) for v in emb[0][:8]],
            "embedding_norm": float(np.linalg.norm(emb[0].astype(np.float64))),
            "input_ids_len": int(ids.shape[1]),
        })
    with open(out_dir / "reference.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")

    # One padded batch of all texts (tokenizer's BatchLongest padding).
    encs = tok.encode_batch(TEXTS)
    ids = np.array([e.ids for e in encs], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
    b_score, b_emb = sess.run(["score", "embedding"], {"input_ids": ids, "attention_mask": mask})
    # Batch-1 results under lower graph-optimisation levels (fusions change int8 rounding).
    levels = {}
    for name in ("ORT_DISABLE_ALL", "ORT_ENABLE_BASIC", "ORT_ENABLE_EXTENDED"):
        s2 = _session(model_path, getattr(ort.GraphOptimizationLevel, name))
        ds = de = 0.0
        for text, sc0, em0 in zip(TEXTS, single_scores, single_embs):
            enc = tok.encode(text)
            sc, em = s2.run(["score", "embedding"], {"input_ids": np.array([enc.ids], dtype=np.int64),
                                                      "attention_mask": np.array([enc.attention_mask], dtype=np.int64)})
            ds = max(ds, float(abs(sc[0] - sc0)))
            de = max(de, float(np.abs(em[0] - em0).max()))
        levels[name] = {"max_abs_diff_score": ds, "max_abs_diff_embedding": de}

    d_score = np.abs(b_score - np.array(single_scores))
    d_emb = np.abs(b_emb - np.array(single_embs))
    batched = {
        "description": "max |batched - batch1| over the texts of reference.jsonl; the batch is all texts "
                       "padded to the longest (BatchLongest, pad id 0, attention_mask 0 on padding). "
                       "Dynamic int8 quantisation computes one activation scale per tensor over the whole batch, "
                       "so a text's result depends on its batch-mates (not just on padding); batch-1 results "
                       "are the reference. Duplicating one text in a batch gives bit-identical results.",
        "batch_size": len(TEXTS),
        "padded_seq_len": int(ids.shape[1]),
        "max_abs_diff_score": float(d_score.max()),
        "max_abs_diff_embedding": float(d_emb.max()),
        "max_abs_diff_embedding_head8": float(d_emb[:, :8].max()),
        "min_cosine_batched_vs_single": float(
            (b_emb * np.array(single_embs)).sum(1).min()),
        "batch1_vs_other_optimization_levels": levels,
        "onnxruntime": ort.__version__,
        "intra_op_num_threads": 1,
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "execution_provider": "CPUExecutionProvider",
        "model_sha256": hashlib.sha256(Path(model_path).read_bytes()).hexdigest(),
    }
    with open(out_dir / "batched.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(batched, f, indent=2)
        f.write("\n")
    return batched


if __name__ == "__main__":
    print(json.dumps(write_fixtures(), indent=2))
