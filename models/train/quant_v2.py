"""Quantisation of the v2 graph, calibration baked into it, and the served-graph report:
accuracy, batch invariance, latency (2 threads), embedding fidelity, file size.

Options compared (`--quant-study`):
  fp32            no quantisation (reference; too large to ship: ~95 MB)
  nbits8_acc4     MatMulNBits, 8-bit symmetric weights, block 32, accuracy_level 4
                  (activations quantised to int8 per block of 32 along K, per row -> rows independent)
  nbits8_acc0     MatMulNBits 8-bit, block 32, no accuracy_level (dequantised fp32 compute)
  nbits4_acc4     MatMulNBits 4-bit, block 32, accuracy_level 4
  fp16w           fp16 weight initializers + Cast (ORT folds them back to fp32 at load)
  rowint8         every encoder Linear written as uint8 x int8 MatMulInteger with a dynamic scale
                  PER ROW (token) of the activations and per-output-channel int8 weights
                  (graph_v2.Builder.qlinear): integer accumulation, rows independent
  dynamic_int8    quantize_dynamic per-channel QInt8 (v1's method; NOT batch-invariant)
The word-embedding table is int8 per row (+ fp32 row scale) in all options.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import exp_v2
import graph_v2

log = logging.getLogger("train_v2")
OPTIONS = ["rowint8", "nbits8_acc4", "nbits4_acc4", "fp16w", "dynamic_int8", "fp32"]
# Chosen from the study (see results-v2.md): the fastest batch-invariant option, < 40 MB, with
# a negligible dev-AUC cost vs fp32. MatMulNBits (any accuracy_level) ran no faster than fp32 here.
SERVED_OPTION = "rowint8"


def session(path, threads=2):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _restore_meta(props: list, dst: onnx.ModelProto) -> None:
    del dst.metadata_props[:]
    for k, v in props:
        dst.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))


def quantize(srcs: dict, out: Path, option: str) -> None:
    """srcs: "fp32" = the all-fp32 reference graph; "base" = same graph with the int8-per-row word
    table (input of the ORT quantisers); "rowint8" = the graph built with graph_v2 qlinear."""
    if option in ("fp32", "rowint8"):
        out.write_bytes(Path(srcs[option]).read_bytes())
        return
    fp32 = srcs["base"]
    model = onnx.load(str(fp32))
    props = [(p.key, p.value) for p in model.metadata_props]
    wnodes = set(graph_v2.weight_matmul_nodes(model))
    other_mm = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.name not in wnodes]
    if option.startswith("nbits"):
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
        bits = int(option[5])
        acc = int(option.split("_acc")[1]) or None
        q = MatMulNBitsQuantizer(model, bits=bits, block_size=32, is_symmetric=True, accuracy_level=acc,
                                 nodes_to_exclude=other_mm, op_types_to_quantize=("MatMul",))
        q.process()
        m = q.model.model
    elif option == "fp16w":
        m = onnx.load(str(fp32))
        inits = {t.name: t for t in m.graph.initializer}
        new_nodes = []
        for n in m.graph.node:
            if n.name in wnodes:
                t = inits[n.input[1]]
                arr = numpy_helper.to_array(t).astype(np.float16)
                m.graph.initializer.remove(t)
                m.graph.initializer.append(numpy_helper.from_array(arr, t.name + "_fp16"))
                new_nodes.append(helper.make_node("Cast", [t.name + "_fp16"], [t.name], name=n.name + "/w_cast",
                                                  to=TensorProto.FLOAT))
            new_nodes.append(n)
        m.graph.ClearField("node")
        m.graph.node.extend(new_nodes)
    elif option == "dynamic_int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic
        keep = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.name not in wnodes]
        quantize_dynamic(str(fp32), str(out), per_channel=True, weight_type=QuantType.QInt8,
                         nodes_to_exclude=keep, op_types_to_quantize=["MatMul"])
        m = onnx.load(str(out))
    else:
        raise ValueError(option)
    _restore_meta(props, m)
    onnx.save(m, str(out))


def set_calibration(path: Path, a: float, b: float) -> None:
    m = onnx.load(str(path))
    for t in m.graph.initializer:
        if t.name == "calib/a":
            t.CopyFrom(numpy_helper.from_array(np.array(a, np.float32), "calib/a"))
        elif t.name == "calib/b":
            t.CopyFrom(numpy_helper.from_array(np.array(b, np.float32), "calib/b"))
    onnx.save(m, str(path))


def _pad(ids_list):
    seq = max(len(x) for x in ids_list)
    a = np.zeros((len(ids_list), seq), np.int64)
    m = np.zeros((len(ids_list), seq), np.int64)
    for r, x in enumerate(ids_list):
        a[r, :len(x)] = x
        m[r, :len(x)] = 1
    return a, m


def run(sess, ids: list[list[int]], bs=32, order="sorted") -> dict:
    """order: 'sorted' (length-sorted chunks, the Rust way), 'input' (input order), 'single' (batch 1)."""
    n = len(ids)
    if order == "single":
        chunks = [[i] for i in range(n)]
    elif order == "sorted":
        o = np.argsort([len(x) for x in ids], kind="stable")
        chunks = [o[s:s + bs] for s in range(0, n, bs)]
    else:
        chunks = [np.arange(s, min(n, s + bs)) for s in range(0, n, bs)]
    res = {"score": np.zeros(n, np.float32), "logit": np.zeros(n, np.float32), "embedding": np.zeros((n, 384), np.float32)}
    for c in chunks:
        a, m = _pad([ids[i] for i in c])
        sc, lg, em = sess.run(["score", "logit", "embedding"], {"input_ids": a, "attention_mask": m})
        res["score"][c], res["logit"][c], res["embedding"][c] = sc, lg, em
    return res


def latency(path, ids, n1=256, n32=1024) -> dict:
    """Wall-clock ms/text with 2 threads, and CPU ms/text with 1 thread (process_time; robust to the
    other jobs sharing this 2-core machine). Batch 1 over the first n1 texts (input order); batch 32
    over the first n32 texts sorted by length. Best of 2 repetitions."""
    out = {"n_batch1": n1, "n_batch32": n32}
    for threads, clock, tag in ((2, time.perf_counter, "wall_2threads"), (1, time.process_time, "cpu_1thread")):
        s = session(path, threads)
        run(s, ids[:64], order="sorted")  # warm-up
        b1, b32 = [], []
        for _ in range(2):
            t0 = clock()
            run(s, ids[:n1], order="single")
            t1 = clock()
            run(s, ids[:n32], bs=32, order="sorted")
            t2 = clock()
            b1.append((t1 - t0) / n1 * 1000)
            b32.append((t2 - t1) / n32 * 1000)
        out[tag] = {"batch1_ms_per_text": round(min(b1), 3), "batch32_sorted_ms_per_text": round(min(b32), 3)}
    return out


def latency_v1(path, ids, n1=256, n32=1024) -> dict:
    out = {}
    for threads, clock, tag in ((2, time.perf_counter, "wall_2threads"), (1, time.process_time, "cpu_1thread")):
        s = session(path, threads)
        o = np.argsort([len(x) for x in ids[:n32]], kind="stable")
        b1, b32 = [], []
        for _ in range(2):
            t0 = clock()
            for x in ids[:n1]:
                a, m = _pad([x])
                s.run(["score"], {"input_ids": a, "attention_mask": m})
            t1 = clock()
            for st in range(0, n32, 32):
                a, m = _pad([ids[i] for i in o[st:st + 32]])
                s.run(["score"], {"input_ids": a, "attention_mask": m})
            t2 = clock()
            b1.append((t1 - t0) / n1 * 1000)
            b32.append((t2 - t1) / n32 * 1000)
        out[tag] = {"batch1_ms_per_text": round(min(b1), 3), "batch32_sorted_ms_per_text": round(min(b32), 3)}
    return out


def ids_of(d, names):
    idx = d.idx(names)
    return [d.ids[d.offsets[t]:d.offsets[t + 1]].tolist() for t in idx]


def evaluate_graph(path: Path, d, dev, evals, calib=None) -> tuple[dict, dict]:
    """Calibration (fitted on the dev logits of THIS graph unless given), thresholds, metrics."""
    s = session(path)
    names = list(dict.fromkeys([*dev, *evals]))
    outs = {n: run(s, ids_of(d, [n])) for n in names}
    outs["dev"] = {k: np.concatenate([outs[n][k] for n in dev]) for k in ("score", "logit", "embedding")}
    z = {k: v["logit"].astype(np.float64) for k, v in outs.items()}
    yd = d.y(dev)
    cal = calib or exp_v2.choose_calibration(z["dev"], yd)
    sig = lambda k: exp_v2.sigmoid(cal["a"] * z[k] + cal["b"])  # noqa: E731
    thr = exp_v2.choose_thresholds(sig("dev"), yd)
    rep = {"calibration": cal, "thresholds": {"review": thr["review"], "flag": thr["flag"],
                                              "review_rule": f"highest threshold with dev recall >= {exp_v2.REVIEW_RECALL}",
                                              "flag_rule": f"lowest threshold with dev precision >= {exp_v2.FLAG_PRECISION}"},
           "sets": {}}
    for k in ["dev", *names]:
        y = yd if k == "dev" else d.y([k])
        p = sig(k)
        rep["sets"][k] = {"at_0.5": exp_v2.metrics(y, p, 0.5), "review": exp_v2.metrics(y, p, thr["review"]),
                          "flag": exp_v2.metrics(y, p, thr["flag"])}
        if k == "cheng_test":  # per source
            src = np.array(d.parts["cheng_test"].source)
            for sname in ("cheng_news", "cheng_twitter"):
                m = src == sname
                rep["sets"][f"cheng_test/{sname}"] = {
                    "at_0.5": exp_v2.metrics(y[m], p[m], 0.5), "review": exp_v2.metrics(y[m], p[m], thr["review"]),
                    "flag": exp_v2.metrics(y[m], p[m], thr["flag"])}
    return rep, outs


def invariance(path, ids) -> dict:
    s = session(path)
    one = run(s, ids, order="single")
    out = {}
    for order in ("sorted", "input"):
        b = run(s, ids, bs=32, order=order)
        out[f"batch32_{order}"] = {k: float(np.abs(b[k] - one[k]).max()) for k in ("score", "logit", "embedding")}
    return out


def sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def finalize(srcs: dict, served: Path, tok, d, py_out, dev, evals, study=False) -> dict:
    fp32 = Path(srcs["fp32"])
    build = fp32.parent
    report = {}
    # 1. fp32 graph vs the Python-side model (torch / sklearn logits on the same dev texts)
    s32 = session(fp32)
    r32 = run(s32, ids_of(d, dev))
    report["fp32_graph_vs_python_dev_logit_max_abs"] = float(np.abs(r32["logit"] - py_out["dev"]).max())
    emb_ref = np.asarray(d.feat["embedding"])[d.idx(dev)]
    report["fp32_graph_embedding_vs_frozen_max_abs"] = float(np.abs(r32["embedding"] - emb_ref).max())
    log.info("fp32 graph vs python logits max |d| %.2e; embedding vs frozen %.2e",
             report["fp32_graph_vs_python_dev_logit_max_abs"], report["fp32_graph_embedding_vs_frozen_max_abs"])
    assert report["fp32_graph_embedding_vs_frozen_max_abs"] < 1e-4  # same fp32 weights as the feature graph
    assert report["fp32_graph_vs_python_dev_logit_max_abs"] < 0.05

    val_ids = ids_of(d, ["constraint_val"])
    emb_val_ref = np.asarray(d.feat["embedding"])[d.idx(["constraint_val"])]
    options = OPTIONS if study else [SERVED_OPTION, "fp32"]
    report["options"] = {}
    for opt in options:
        path = build / f"v2_{opt}.onnx"
        quantize(srcs, path, opt)
        rep, outs = evaluate_graph(path, d, dev, evals)
        set_calibration(path, rep["calibration"]["a"], rep["calibration"]["b"])
        cos = (outs["constraint_val"]["embedding"] * emb_val_ref).sum(1)
        o = {"size_bytes": path.stat().st_size, "metrics": rep,
             "embedding_cos_vs_fp32_frozen_val": {"mean": float(cos.mean()), "min": float(cos.min())}}
        o["batch_invariance_val"] = invariance(path, val_ids[:512])
        o["latency_val"] = latency(path, val_ids)
        report["options"][opt] = o
        m = rep["sets"]
        log.info("%s: %.1f MB | val mF1 %.4f AUC %.4f | cheng_test mF1 %.4f AUC %.4f | inv %s | lat %s | cos min %.4f",
                 opt, o["size_bytes"] / 1e6, m["constraint_val"]["at_0.5"]["macro_f1"], m["constraint_val"]["at_0.5"]["roc_auc"],
                 m["cheng_test"]["at_0.5"]["macro_f1"], m["cheng_test"]["at_0.5"]["roc_auc"],
                 json.dumps({k: v["score"] for k, v in o["batch_invariance_val"].items()}),
                 json.dumps(o["latency_val"]), cos.min())
    # served file
    src = build / f"v2_{SERVED_OPTION}.onnx"
    served.write_bytes(src.read_bytes())
    sv = session(served)
    meta = sv.get_modelmeta().custom_metadata_map
    assert meta["infodemic.vocab_size"] == "30522", meta
    ins = [(i.name, i.type, i.shape) for i in sv.get_inputs()]
    outs = [(o.name, o.type, o.shape) for o in sv.get_outputs()]
    assert ins == [("input_ids", "tensor(int64)", ["batch", "seq"]), ("attention_mask", "tensor(int64)", ["batch", "seq"])], ins
    assert outs == [("score", "tensor(float)", ["batch"]), ("logit", "tensor(float)", ["batch"]),
                    ("embedding", "tensor(float)", ["batch", 384])], outs
    report["served"] = {"option": SERVED_OPTION, "sha256": sha(served), "size_bytes": served.stat().st_size,
                        "metadata": dict(meta)}
    # v1 latency for reference (same texts and clocks; v1 has no `logit` output)
    v1p = Path(__file__).resolve().parents[1] / "minilm-constraint-v1" / "model.onnx"
    report["v1_latency_val"] = latency_v1(v1p, val_ids)
    return report
