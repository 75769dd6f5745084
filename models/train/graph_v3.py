"""ONNX graph of v3: v2's structure (graph_v2) with three heads and 7-bit weights.

  input_ids, attention_mask (int64 [batch, seq])
    -> embeddings (int8 per-row word table) -> layers 0 .. 5-k (original weights)
       |-> layers 6-k .. 5 original   -> masked mean -> L2 -> `embedding`   (claim matching)
       '-> layers 6-k .. 5 fine-tuned -> masked mean -> Linear(384, 3)
             -> `logit`  (misinformation, uncalibrated) -> `score` = sigmoid(a * logit + b)
             -> `claim`  = sigmoid(a_c * z_claim + b_c)    the text states a checkable claim
             -> `refute` = sigmoid(a_r * z_refute + b_r)   the text refutes a claim

Quantisation ("rowint8_7bit"): every encoder Linear is uint8 x int8 MatMulInteger with a dynamic
per-row (per-token) activation scale, as in v2, but the weights use 7 bits (|q| <= 63). On CPUs
without VNNI (AVX2, AVX-512 without VNNI), ONNX Runtime multiplies uint8 by int8 with VPMADDUBSW,
which adds two products in a saturating int16: 255 * 127 * 2 = 64770 overflows it, 255 * 63 * 2 =
32130 cannot. So the integer part of every Linear is exact on every x86-64 kernel, and a text
scores the same on an AVX2 laptop as on the VNNI machine that built the model (measured under
QEMU's Haswell and EPYC models: see results-v3.md).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

import graph_v2
from graph import LAYERS, _f32



class Builder(graph_v2.Builder):
    """graph_v2's builder with 7-bit weights in every qlinear (see the module docstring)."""

    WEIGHT_QMAX = 63


def build_served(W: dict, *, k: int, ft: dict, head_w: np.ndarray, head_b: np.ndarray,
                 calib: dict, metadata: dict | None = None, linear_mode: str = "rowint8",
                 emb_storage: str = "int8row") -> onnx.ModelProto:
    """head_w [3, 384], head_b [3]; calib = {"score": (a, b), "claim": (a, b), "refute": (a, b)}."""
    g = Builder(linear_mode)
    x = g.embeddings(W, emb_storage)
    mask_f, add_mask = g.mask()
    for i in range(LAYERS - k):
        x = g.layer(W, i, x, add_mask, "enc")
    xf = x
    for i in range(LAYERS - k, LAYERS):
        xf = g.layer(W, i, xf, add_mask, "enc")
    g.l2norm(g.mean_pool(xf, mask_f, "pool"), "norm", out="embedding")
    xc = x
    for i in range(LAYERS - k, LAYERS):
        xc = g.layer(ft, i, xc, add_mask, "ft")
    feat = g.mean_pool(xc, mask_f, "ft_pool")
    z = g.op("Add", [g.op("MatMul", [feat, g.init("head/weight", _f32(np.asarray(head_w).T))], "head/matmul"),
                     g.init("head/bias", _f32(head_b))], "head/bias_add")  # [B, 3]
    outs = []
    for col, name in enumerate(("logit", "claim_logit", "refute_logit")):
        sl = g.op("Slice", [z, g.init(f"head/start{col}", np.array([col], np.int64)),
                            g.init(f"head/end{col}", np.array([col + 1], np.int64)), g.c_ax1], f"head/slice{col}")
        if name == "logit":
            g.nodes.append(helper.make_node("Reshape", [sl, g.c_flat], ["logit"], name="out/logit"))
            src, out, (a, b) = "logit", "score", calib["score"]
        else:
            src = g.op("Reshape", [sl, g.c_flat], f"head/{name}")
            out, (a, b) = name.split("_")[0], calib[name.split("_")[0]]
        zc = g.op("Add", [g.op("Mul", [src, g.init(f"calib/{out}_a", _f32(a))], f"calib/{out}_mul"),
                          g.init(f"calib/{out}_b", _f32(b))], f"calib/{out}_add")
        g.nodes.append(helper.make_node("Sigmoid", [zc], [out], name=f"out/{out}"))
    for name in ("score", "logit", "claim", "refute"):
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch"]))
    outs.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 384]))
    return g.finish(outs, "infodemic_minilm_health_v3", metadata)
