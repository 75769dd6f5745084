"""Markdown variant table from results-v2.json (protocol runs) and the selection score.

Selection score (fixed before the runs; uses dev splits only):
  S = ( AUC on P3 union dev  +  mean(AUC of the P1 model on Cheng dev, AUC of the P2 model on CONSTRAINT-train dev) ) / 2
i.e. half in-domain dev, half cross-source dev. Highest S among servable variants wins;
the test splits (CONSTRAINT val, Cheng test / all) are reported, never used to choose.

  models/train/.venv/bin/python models/train/report_v2.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVABLE = {"tfidf_wp", "frozen_lr", "ft1", "ft2", "ft3", "ft2+tfidf_wp", "ft3+tfidf_wp", "frozen_lr+tfidf_wp"}


def selection_score(v: dict) -> float | None:
    try:
        p3 = v["P3_union"]["dev"]["at_0.5"]["roc_auc"]
        x1 = v["P1_constraint"]["cheng_dev"]["at_0.5"]["roc_auc"]
        x2 = v["P2_cheng"]["ctrain_dev"]["at_0.5"]["roc_auc"]
    except KeyError:
        return None
    return (p3 + (x1 + x2) / 2) / 2


def fmt(r: dict | None) -> str:
    if r is None:
        return "–"
    m = r["at_0.5"]
    return f"{m['macro_f1']:.3f} / {m['roc_auc']:.3f} / {m['ece']:.3f}"


def table(results: dict) -> str:
    cols = [("P1 dev", "P1_constraint", "dev"), ("P1 CONSTRAINT val (in)", "P1_constraint", "constraint_val"),
            ("P1 → Cheng all (cross)", "P1_constraint", "cheng_all"),
            ("P2 → CONSTRAINT val (cross)", "P2_cheng", "constraint_val"),
            ("P2 Cheng test (in)", "P2_cheng", "cheng_test"),
            ("P3 dev", "P3_union", "dev"), ("P3 CONSTRAINT val", "P3_union", "constraint_val"),
            ("P3 Cheng test", "P3_union", "cheng_test"),
            ("x-dev P1→Cheng dev", "P1_constraint", "cheng_dev"), ("x-dev P2→CT dev", "P2_cheng", "ctrain_dev")]
    lines = ["| variant | " + " | ".join(c[0] for c in cols) + " | S |",
             "|---" * (len(cols) + 2) + "|"]
    for name, v in results.get("variants", {}).items():
        cells = [fmt(v.get(p, {}).get(s)) for _, p, s in cols]
        sc = selection_score(v)
        lines.append(f"| {name}{'' if name in SERVABLE else ' (ref.)'} | " + " | ".join(cells)
                     + f" | {'–' if sc is None else f'{sc:.4f}'} |")
    return "\n".join(lines)


def choose(results: dict) -> str | None:
    scored = [(selection_score(v), n) for n, v in results.get("variants", {}).items() if n in SERVABLE]
    scored = [x for x in scored if x[0] is not None]
    return max(scored)[1] if scored else None


if __name__ == "__main__":
    res = json.loads((HERE / "results-v2.json").read_text())
    print("cells: macro-F1 (calibrated score >= 0.5) / ROC AUC / ECE (15 bins)\n")
    print(table(res))
    print("\nchosen by S:", choose(res))


def thresholds_table(res: dict, variant: str = "ft2") -> str:
    """Protocol runs of `variant`: the dev-chosen review/flag thresholds applied to each test split."""
    lines = ["| protocol | set (role) | review thr | review P / R | flag thr | flag P / R |", "|---|---|---|---|---|---|"]
    for proto, r in res.get("variants", {}).get(variant, {}).items():
        for s, v in r.items():
            if s in ("calibration", "thresholds", "info"):
                continue
            role = "dev" if s == "dev" else v.get("role", "")
            rv, fl = v["review"], v["flag"]
            lines.append(f"| {proto} | {s} ({role}) | {rv['threshold']:.2f} | {rv['precision']:.3f} / {rv['recall']:.3f} | "
                         f"{fl['threshold']:.2f} | {fl['precision']:.3f} / {fl['recall']:.3f} |")
    return "\n".join(lines)


def quant_table(m: dict) -> str:
    lines = ["| option | size MB | dev AUC | val mF1 / AUC / ECE | Cheng test mF1 / AUC / ECE | max Δscore b1 vs b32 (sorted / input order) | emb cos vs fp32 (min) | CPU ms/text 1 thr b1 / b32 | wall ms/text 2 thr b1 / b32 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for opt, o in m["options"].items():
        s = o["metrics"]["sets"]
        inv = o["batch_invariance_val"]
        lat = o["latency_val"]
        f = lambda x: f"{x['at_0.5']['macro_f1']:.4f} / {x['at_0.5']['roc_auc']:.4f} / {x['at_0.5']['ece']:.4f}"  # noqa: E731
        lines.append(f"| {opt} | {o['size_bytes'] / 1e6:.1f} | {s['dev']['at_0.5']['roc_auc']:.4f} | {f(s['constraint_val'])} | "
                     f"{f(s['cheng_test'])} | {inv['batch32_sorted']['score']:.1e} / {inv['batch32_input']['score']:.1e} | "
                     f"{o['embedding_cos_vs_fp32_frozen_val']['min']:.4f} | "
                     f"{lat['cpu_1thread']['batch1_ms_per_text']:.1f} / {lat['cpu_1thread']['batch32_sorted_ms_per_text']:.1f} | "
                     f"{lat['wall_2threads']['batch1_ms_per_text']:.1f} / {lat['wall_2threads']['batch32_sorted_ms_per_text']:.1f} |")
    v1 = m.get("v1_latency_val")
    if v1:
        lines.append(f"| v1 (reference, dynamic int8, 6 layers) | 23.4 | – | – | – | 0.28 (see v1 notes) | 0.9836 | "
                     f"{v1['cpu_1thread']['batch1_ms_per_text']:.1f} / {v1['cpu_1thread']['batch32_sorted_ms_per_text']:.1f} | "
                     f"{v1['wall_2threads']['batch1_ms_per_text']:.1f} / {v1['wall_2threads']['batch32_sorted_ms_per_text']:.1f} |")
    return "\n".join(lines)


def served_table(m: dict) -> str:
    o = m["options"][m["served"]["option"]]["metrics"]
    t = o["thresholds"]
    lines = [f"review = {t['review']:.2f} ({t['review_rule']}), flag = {t['flag']:.2f} ({t['flag_rule']}); "
             f"calibration {o['calibration']['method']} a = {o['calibration']['a']:.4f}, b = {o['calibration']['b']:.4f} "
             f"(dev ECE {o['calibration']['dev_ece_before']:.4f} -> {o['calibration']['dev_ece_after']:.4f})", "",
             "| set | n (misinfo) | macro-F1 @0.5 | AUC | ECE | review P / R | flag P / R / F1 / macro-F1 |", "|---|---|---|---|---|---|---|"]
    for s, v in o["sets"].items():
        a, r, f = v["at_0.5"], v["review"], v["flag"]
        lines.append(f"| {s} | {a['n']} ({a['positives']}) | {a['macro_f1']:.4f} | {a['roc_auc']:.4f} | {a['ece']:.4f} | "
                     f"{r['precision']:.4f} / {r['recall']:.4f} | {f['precision']:.4f} / {f['recall']:.4f} / {f['f1']:.4f} / {f['macro_f1']:.4f} |")
    return "\n".join(lines)
