"""Tables of results-v3.md from metrics-v3.json (the served model), results-v3.json (every
experiment and the leave-one-source-out runs) and cross-cpu.json (emulated CPU families).

    models/train/.venv/bin/python models/train/report_v3.py > models/train/results-v3-tables.md
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
KINDS = ("false_claim", "debunk", "guidance", "news", "question", "chatter", "true_claim")


def fmt(x, digits=3):
    return "–" if x is None else f"{x:.{digits}f}"


def hard_table(report: dict) -> str:
    lines = ["| set | n | precision | recall | ROC AUC | claim vs own debunk AUC | " + " | ".join(KINDS) + " |",
             "|---|---|---|---|---|---|" + "---|" * len(KINDS)]
    for name in ("hard/dev_a", "hard/dev_b"):
        r = report.get(name)
        if not r:
            continue
        a = r["all"]
        lines.append(f"| {name} | {a['n']} | {fmt(a['precision'])} | {fmt(a['recall'])} | {fmt(a['roc_auc'])} | "
                     f"{fmt(r.get('pairs', {}).get('roc_auc'))} | "
                     + " | ".join(fmt(r.get(k, {}).get("flag_rate"), 2) for k in KINDS) + " |")
    return "\n".join(lines)


def sets_table(report: dict) -> str:
    lines = ["| set | n | misinformation | flag rate | precision | recall | macro-F1 | ROC AUC |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in report.items():
        if name.startswith("hard/") or not name.endswith(("/test", "/dev")):
            continue
        lines.append(f"| {name} | {r['n']} | {r['positives']} | {fmt(r['flag_rate'])} | {fmt(r['precision'])} | "
                     f"{fmt(r['recall'])} | {fmt(r.get('macro_f1'))} | {fmt(r['roc_auc'])} |")
    return "\n".join(lines)


def experiments_table(results: dict) -> str:
    lines = ["| run | k | epochs | denials | weights | dev_a P / R | dev_b P / R | dev_b debunks flagged | "
             "CONSTRAINT test AUC | Cheng test AUC | TruthfulQA test AUC |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for tag, e in results.get("experiments", {}).items():
        rep = e["report"]
        a, b = rep.get("hard/dev_a", {}).get("all", {}), rep.get("hard/dev_b", {})
        w = e.get("weights", {})
        lines.append(f"| {tag} | {e['k']} | {e['epochs']} | {e.get('denial_share', 0)} | hard {w.get('hard', 2)}, "
                     f"templated {w.get('templated', 1)} | {fmt(a.get('precision'))} / {fmt(a.get('recall'))} | "
                     f"{fmt(b.get('all', {}).get('precision'))} / {fmt(b.get('all', {}).get('recall'))} | "
                     f"{fmt(b.get('debunk', {}).get('flag_rate'), 2)} | {fmt(rep.get('constraint/test', {}).get('roc_auc'))} | "
                     f"{fmt(rep.get('cheng/test', {}).get('roc_auc'))} | {fmt(rep.get('truthfulqa/test', {}).get('roc_auc'))} |")
    return "\n".join(lines)


def loso_table(results: dict) -> str:
    lines = ["| held-out source | k | n | ROC AUC | flag rate | precision | recall | per kind (hard) |",
             "|---|---|---|---|---|---|---|---|"]
    for src, e in results.get("loso", {}).items():
        r = e["report"]
        a = r.get("all", r)
        kinds = ", ".join(f"{k} {r[k]['flag_rate']:.2f}" for k in KINDS if k in r)
        lines.append(f"| {src} | {e['k']} | {a['n']} | {fmt(a['roc_auc'])} | {fmt(a['flag_rate'])} | "
                     f"{fmt(a['precision'])} | {fmt(a['recall'])} | {kinds} |")
    return "\n".join(lines)


def cross_cpu_table(x: dict) -> str:
    lines = ["| model | emulated CPU | max Δ score | max Δ claim | max Δ refute | min embedding cosine | "
             "decisions changed | texts bit-identical |", "|---|---|---|---|---|---|---|---|"]
    for model, cpus in x.items():
        if not isinstance(cpus, dict) or model in ("native_cpu_flags",):
            continue
        for cpu, d in cpus.items():
            lines.append(f"| {model} | {cpu} | {d['max_abs_score']:.2e} | "
                         f"{d.get('max_abs_claim', float('nan')):.2e} | {d.get('max_abs_refute', float('nan')):.2e} | "
                         f"{d['min_embedding_cosine']:.6f} | {d['decisions_changed']} | {d['texts_identical']} / {x['n_texts']} |")
    return "\n".join(lines)


def main() -> None:
    m = json.loads((HERE / "metrics-v3.json").read_text())
    results = json.loads((HERE / "results-v3.json").read_text())
    print("## Served model (int8, 7-bit weights)\n")
    print(f"Thresholds: {json.dumps(m['thresholds'])}\n")
    print(hard_table(m["report"]) + "\n")
    print(sets_table(m["report"]) + "\n")
    print("### The same graph in fp32 (accuracy reference)\n")
    print(hard_table(m["report_fp32"]) + "\n")
    print(sets_table(m["report_fp32"]) + "\n")
    print(f"Embedding cosine, int8 against fp32, over dev and test rows: "
          f"{json.dumps(m['embedding_cosine_int8_vs_fp32'])}\n")
    print("## Every experiment (torch fp32 outputs, thresholds by each run's own rule)\n")
    print(experiments_table(results) + "\n")
    print("## Leave one source out\n")
    print(loso_table(results) + "\n")
    xp = HERE / "cross-cpu.json"
    if xp.exists():
        x = json.loads(xp.read_text())
        print("## Across CPU families (QEMU user-mode emulation against this machine)\n")
        print(f"Native CPU flags: {' '.join(x.get('native_cpu_flags', []))}\n")
        print(cross_cpu_table(x) + "\n")


if __name__ == "__main__":
    main()
