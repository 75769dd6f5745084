"""Interleaved latency comparison of the served v2 graph, the other quantisation options and v1
(2 threads wall-clock and 1 thread CPU time; batch 1 in input order and batch 32 length-sorted;
CONSTRAINT val texts; best of 3 interleaved rounds to damp noise from other jobs on the machine).

  models/train/.venv/bin/python models/train/latency_v2.py   -> prints JSON, writes latency-v2.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data_v2  # noqa: E402
import quant_v2  # noqa: E402

PATHS = {"v2 served (rowint8)": HERE.parent / "minilm-health-v2" / "model.onnx",
         "v2 nbits8_acc4": HERE / "build" / "v2_nbits8_acc4.onnx",
         "v2 dynamic_int8 (not batch-invariant)": HERE / "build" / "v2_dynamic_int8.onnx",
         "v2 fp32": HERE / "build" / "v2_fp32.onnx",
         "v1 (dynamic int8)": HERE.parent / "minilm-constraint-v1" / "model.onnx"}


def main(n1=200, n32=1024, rounds=3):
    tok = Tokenizer.from_file(str(HERE.parent / "minilm-health-v2" / "tokenizer.json"))
    parts, _ = data_v2.load_parts()
    ids = [tok.encode(t).ids for t in parts["constraint_val"].texts]
    o = np.argsort([len(x) for x in ids[:n32]], kind="stable")
    res = {}
    for threads, clock, tag in ((2, time.perf_counter, "wall_2threads"), (1, time.process_time, "cpu_1thread")):
        sess = {k: quant_v2.session(p, threads) for k, p in PATHS.items() if p.exists()}
        best = {k: [1e9, 1e9] for k in sess}
        for _ in range(rounds):
            for k, s in sess.items():
                t0 = clock()
                for x in ids[:n1]:
                    a, m = quant_v2._pad([x])
                    s.run(["score"], {"input_ids": a, "attention_mask": m})
                t1 = clock()
                for st in range(0, n32, 32):
                    a, m = quant_v2._pad([ids[i] for i in o[st:st + 32]])
                    s.run(["score"], {"input_ids": a, "attention_mask": m})
                t2 = clock()
                best[k][0] = min(best[k][0], (t1 - t0) / n1 * 1000)
                best[k][1] = min(best[k][1], (t2 - t1) / n32 * 1000)
        for k, (b1, b32) in best.items():
            res.setdefault(k, {})[tag] = {"batch1_ms_per_text": round(b1, 2), "batch32_sorted_ms_per_text": round(b32, 2)}
    res["_setup"] = {"texts": "CONSTRAINT val", "n_batch1": n1, "n_batch32": n32, "rounds": rounds,
                     "mean_tokens": float(np.mean([len(x) for x in ids[:n32]]))}
    (HERE / "latency-v2.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
