"""ONNX graphs for v2, written with numpy + onnx.helper (no exporter).

Served graph (build_served):

  input_ids, attention_mask (int64 [batch, seq])
    -> word embeddings (int8 per-row table + fp32 row scales, or fp32/fp16)
       + position/type-0 table -> LayerNorm
    -> layers 0 .. 5-k          shared, ORIGINAL frozen all-MiniLM-L6-v2 weights
       |-> layers 6-k .. 5      frozen copy -> masked mean -> L2 norm -> `embedding`
       '-> layers 6-k .. 5      fine-tuned copy -> masked mean -> linear -> nn logit
    [+ optional in-graph TF-IDF over WordPiece ids (sublinear tf * idf, L2-normalised,
       linear) -> tfidf logit]
    -> `logit` = w_nn * nn_logit + w_tfidf * tfidf_logit + c   (uncalibrated)
    -> `score` = Sigmoid(a * logit + b)                          (calibration baked in)

Every op works row-wise (no statistic is shared across the batch), so outputs
do not depend on batch composition or padding (the attention mask adds
float32.min before the Softmax; pooling multiplies by the mask).
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from graph import HEAD_DIM, HEADS, HIDDEN, LAYERS, LN_EPS, OPSET, _G, _f32

IR_VERSION = 8
VOCAB = 30522
CLS_ID, SEP_ID, PAD_ID = 101, 102, 0


class Builder(_G):
    # Largest |int8 weight| of qlinear (per output channel); v3 uses 63 (graph_v3).
    WEIGHT_QMAX = 127

    def __init__(self, linear_mode: str = "fp32") -> None:
        super().__init__()
        self.linear_mode = linear_mode  # "fp32" or "rowint8" (see qlinear)
        self.c_one = self.init("const/one", _f32(1.0))
        self.c_neg = self.init("const/mask_min", _f32(np.finfo(np.float32).min))
        self.c_half = self.init("const/half", _f32(0.5))
        self.c_rsqrt2 = self.init("const/rsqrt2", _f32(1.0 / math.sqrt(2.0)))
        self.c_scale = self.init("const/attn_scale", _f32(1.0 / math.sqrt(HEAD_DIM)))
        self.c_eps_cnt = self.init("const/eps_count", _f32(1e-9))
        self.c_eps_norm = self.init("const/eps_norm", _f32(1e-12))
        self.c_ax0 = self.init("const/axes0", np.array([0], dtype=np.int64))
        self.c_ax1 = self.init("const/axes1", np.array([1], dtype=np.int64))
        self.c_ax12 = self.init("const/axes12", np.array([1, 2], dtype=np.int64))
        self.c_axm1 = self.init("const/axes_m1", np.array([-1], dtype=np.int64))
        self.c_start0 = self.init("const/start0", np.array([0], dtype=np.int64))
        self.c_split = self.init("const/shape_split_heads", np.array([0, 0, HEADS, HEAD_DIM], dtype=np.int64))
        self.c_merge = self.init("const/shape_merge_heads", np.array([0, 0, HIDDEN], dtype=np.int64))
        self.c_flat = self.init("const/shape_flat", np.array([-1], dtype=np.int64))

    # -- pieces ---------------------------------------------------------------
    def embeddings(self, W: dict, storage: str = "int8row") -> str:
        table = np.asarray(W["embeddings.word_embeddings.weight"], dtype=np.float32)
        if storage == "fp32":
            x_word = self.op("Gather", [self.init("emb/word", table), "input_ids"], "emb/word_gather", axis=0)
        elif storage == "fp16":
            t16 = self.init("emb/word_fp16", table.astype(np.float16))
            x_word = self.op("Cast", [self.op("Gather", [t16, "input_ids"], "emb/word_gather", axis=0)],
                             "emb/word_cast", to=TensorProto.FLOAT)
        elif storage == "int8row":
            q, scale = quantize_rows_int8(table)
            g8 = self.op("Gather", [self.init("emb/word_int8", q), "input_ids"], "emb/word_gather", axis=0)
            gs = self.op("Gather", [self.init("emb/word_row_scale", scale.reshape(-1, 1)), "input_ids"],
                         "emb/scale_gather", axis=0)
            x_word = self.op("Mul", [self.op("Cast", [g8], "emb/word_cast", to=TensorProto.FLOAT), gs],
                             "emb/word_dequant")
        else:
            raise ValueError(storage)
        pos_type = W["embeddings.position_embeddings.weight"] + W["embeddings.token_type_embeddings.weight"][0][None]
        pos_type = self.init("emb/position_plus_token_type0", _f32(pos_type))
        seq_len = self.op("Shape", ["input_ids"], "emb/seq_len", start=1, end=2)
        x_pos = self.op("Slice", [pos_type, self.c_start0, seq_len, self.c_ax0], "emb/pos_slice")
        x = self.op("Add", [x_word, x_pos], "emb/add")
        return self.op("LayerNormalization",
                       [x, self.init("emb/ln.weight", _f32(W["embeddings.LayerNorm.weight"])),
                        self.init("emb/ln.bias", _f32(W["embeddings.LayerNorm.bias"]))],
                       "emb/ln", axis=-1, epsilon=LN_EPS)

    def mask(self) -> tuple[str, str]:
        mask_f = self.op("Cast", ["attention_mask"], "mask/cast", to=TensorProto.FLOAT)
        inv = self.op("Sub", [self.c_one, mask_f], "mask/invert")
        add = self.op("Mul", [inv, self.c_neg], "mask/additive")
        return mask_f, self.op("Unsqueeze", [add, self.c_ax12], "mask/unsqueeze")

    def layer(self, W: dict, i: int, x: str, add_mask: str, tag: str) -> str:
        p, n = f"encoder.layer.{i}", f"{tag}/l{i}"

        def linear(inp, pre, name):
            if self.linear_mode == "rowint8":
                return self.qlinear(inp, np.asarray(W[f"{p}.{pre}.weight"]).T, W[f"{p}.{pre}.bias"], f"{n}/{pre}", f"{n}/{name}")
            wt = self.init(f"{n}/{pre}.weight_t", _f32(np.asarray(W[f"{p}.{pre}.weight"]).T))
            b = self.init(f"{n}/{pre}.bias", _f32(W[f"{p}.{pre}.bias"]))
            return self.op("Add", [self.op("MatMul", [inp, wt], f"{n}/{name}/matmul"), b], f"{n}/{name}/bias")

        def ln(inp, pre, name):
            return self.op("LayerNormalization",
                           [inp, self.init(f"{n}/{pre}.weight", _f32(W[f"{p}.{pre}.weight"])),
                            self.init(f"{n}/{pre}.bias", _f32(W[f"{p}.{pre}.bias"]))],
                           f"{n}/{name}", axis=-1, epsilon=LN_EPS)

        q = linear(x, "attention.self.query", "q")
        k = linear(x, "attention.self.key", "k")
        v = linear(x, "attention.self.value", "v")
        q = self.op("Transpose", [self.op("Reshape", [q, self.c_split], f"{n}/q_split")], f"{n}/q_t", perm=[0, 2, 1, 3])
        k = self.op("Transpose", [self.op("Reshape", [k, self.c_split], f"{n}/k_split")], f"{n}/k_t", perm=[0, 2, 3, 1])
        v = self.op("Transpose", [self.op("Reshape", [v, self.c_split], f"{n}/v_split")], f"{n}/v_t", perm=[0, 2, 1, 3])
        s = self.op("MatMul", [q, k], f"{n}/scores")
        s = self.op("Mul", [s, self.c_scale], f"{n}/scores_scale")
        s = self.op("Add", [s, add_mask], f"{n}/scores_mask")
        pr = self.op("Softmax", [s], f"{n}/softmax", axis=-1)
        ctx = self.op("MatMul", [pr, v], f"{n}/context")
        ctx = self.op("Transpose", [ctx], f"{n}/context_t", perm=[0, 2, 1, 3])
        ctx = self.op("Reshape", [ctx, self.c_merge], f"{n}/context_merge")
        a = linear(ctx, "attention.output.dense", "attn_out")
        x = ln(self.op("Add", [a, x], f"{n}/attn_residual"), "attention.output.LayerNorm", "attn_ln")
        h = linear(x, "intermediate.dense", "ffn_in")
        e = self.op("Erf", [self.op("Mul", [h, self.c_rsqrt2], f"{n}/gelu_scale")], f"{n}/gelu_erf")
        h = self.op("Mul", [self.op("Mul", [h, self.c_half], f"{n}/gelu_half"),
                            self.op("Add", [e, self.c_one], f"{n}/gelu_add1")], f"{n}/gelu")
        o = linear(h, "output.dense", "ffn_out")
        return ln(self.op("Add", [o, x], f"{n}/ffn_residual"), "output.LayerNorm", "ffn_ln")

    def qlinear(self, inp: str, w_t: np.ndarray, b: np.ndarray, wname: str, name: str) -> str:
        """int8 x int8 linear with a dynamic scale PER ROW (token) of the activations, so no statistic
        is shared across the batch (unlike DynamicQuantizeLinear's per-tensor scale):
            s_x = max(|x_row|) / 127 ; q_x = round(x / s_x) + 128 (uint8, zero point 128)
            y = (MatMulInteger(q_x, q_w, 128) as float) * s_x * s_w + b
        Weights: symmetric int8 per output channel, s_w = max|w_col| / 127."""
        if not hasattr(self, "_q_consts"):
            self._q_consts = (self.init("q/inv127", _f32(1.0 / 127.0)), self.init("q/eps", _f32(1e-12)),
                              self.init("q/zp_f", _f32(128.0)), self.init("q/zp_u8", np.array(128, np.uint8)))
        inv127, eps, zp_f, zp_u8 = self._q_consts
        w_t = np.asarray(w_t, np.float32)
        sw = np.abs(w_t).max(0) / float(self.WEIGHT_QMAX)
        sw = np.where(sw == 0, 1.0, sw).astype(np.float32)
        qw = np.clip(np.rint(w_t / sw[None, :]), -self.WEIGHT_QMAX, self.WEIGHT_QMAX).astype(np.int8)
        qw_n = self.init(f"{wname}.weight_q", qw)
        sw_n = self.init(f"{wname}.weight_scale", sw)
        b_n = self.init(f"{wname}.bias", _f32(b))
        amax = self.op("ReduceMax", [self.op("Abs", [inp], f"{name}/abs")], f"{name}/amax", axes=[-1], keepdims=1)
        sx = self.op("Mul", [self.op("Max", [amax, eps], f"{name}/amax_clamp"), inv127], f"{name}/sx")
        r = self.op("Round", [self.op("Div", [inp, sx], f"{name}/xdiv")], f"{name}/round")
        qx = self.op("Cast", [self.op("Add", [r, zp_f], f"{name}/shift")], f"{name}/qx", to=TensorProto.UINT8)
        acc = self.op("MatMulInteger", [qx, qw_n, zp_u8], f"{name}/matmul_int")
        y = self.op("Cast", [acc], f"{name}/acc_f", to=TensorProto.FLOAT)
        y = self.op("Mul", [self.op("Mul", [y, sx], f"{name}/scale_x"), sw_n], f"{name}/scale_w")
        return self.op("Add", [y, b_n], f"{name}/bias")

    def mean_pool(self, x: str, mask_f: str, tag: str) -> str:
        m3 = self.op("Unsqueeze", [mask_f, self.c_axm1], f"{tag}/mask_unsqueeze")
        summed = self.op("ReduceSum", [self.op("Mul", [x, m3], f"{tag}/mask_mul"), self.c_ax1], f"{tag}/sum", keepdims=0)
        count = self.op("ReduceSum", [mask_f, self.c_ax1], f"{tag}/count", keepdims=1)
        count = self.op("Max", [count, self.c_eps_cnt], f"{tag}/count_clamp")
        return self.op("Div", [summed, count], f"{tag}/mean")

    def l2norm(self, x: str, tag: str, out: str | None = None) -> str:
        sq = self.op("ReduceSum", [self.op("Mul", [x, x], f"{tag}/square"), self.c_ax1], f"{tag}/sumsq", keepdims=1)
        nrm = self.op("Max", [self.op("Sqrt", [sq], f"{tag}/sqrt"), self.c_eps_norm], f"{tag}/clamp")
        if out is None:
            return self.op("Div", [x, nrm], f"{tag}/div")
        self.nodes.append(helper.make_node("Div", [x, nrm], [out], name=f"{tag}/div"))
        return out

    def linear_head(self, x: str, w: np.ndarray, b: float, tag: str) -> str:
        """[B, D] -> [B, 1]"""
        wn = self.init(f"{tag}/weight", _f32(np.asarray(w).reshape(-1, 1)))
        bn = self.init(f"{tag}/bias", _f32([b]))
        return self.op("Add", [self.op("MatMul", [x, wn], f"{tag}/matmul"), bn], f"{tag}/bias_add")

    def tfidf(self, spec: dict, mask_f: str) -> str:
        """Sublinear-tf * idf over WordPiece ids (+ optional hashed bigrams), L2-normalised, linear -> [B, 1].

        spec: idf [D], weight [D], bias, n_hash (0 = unigrams only); D = VOCAB + n_hash; feature of a
        bigram (a, b) = VOCAB + (a * VOCAB + b) mod n_hash. Special tokens ([CLS], [SEP], [PAD]) have
        unigram idf 0. Computed without a dense [B, D] bag: for each position j, c_j = number of
        (unmasked) positions with the same feature; every occurrence contributes 1/c_j of its
        feature's value, so each distinct feature counts once:
            num   = sum_j mask_j / c_j * log(1 + c_j) * idf[f_j] * w[f_j]
            norm2 = sum_j mask_j / c_j * (log(1 + c_j) * idf[f_j])^2
            logit = num / max(sqrt(norm2), 1e-12) + bias
        """
        idf, w, n_hash = np.asarray(spec["idf"], np.float32), np.asarray(spec["weight"], np.float32), spec["n_hash"]
        dim = VOCAB + n_hash
        assert idf.shape == (dim,) and w.shape == (dim,)
        t = "tfidf"
        idf_n = self.init(f"{t}/idf", idf)
        iw_n = self.init(f"{t}/idf_x_weight", (idf.astype(np.float64) * w).astype(np.float32))
        c_ax2 = self.init(f"{t}/axes2", np.array([2], np.int64))
        c_ax_last = self.init(f"{t}/axes_last", np.array([-1], np.int64))

        def contrib(feat: str, m: str, tag: str) -> tuple[str, str]:
            eq = self.op("Equal", [self.op("Unsqueeze", [feat, c_ax2], f"{t}/{tag}/u2"),
                                   self.op("Unsqueeze", [feat, self.c_ax1], f"{t}/{tag}/u1")], f"{t}/{tag}/eq")
            eqf = self.op("Cast", [eq], f"{t}/{tag}/eq_f", to=TensorProto.FLOAT)  # [B,S,S]
            mk = self.op("Unsqueeze", [m, self.c_ax1], f"{t}/{tag}/mask_k")  # [B,1,S]
            cnt = self.op("ReduceSum", [self.op("Mul", [eqf, mk], f"{t}/{tag}/eq_m"), c_ax_last],
                          f"{t}/{tag}/count", keepdims=0)  # [B,S]
            cnt = self.op("Max", [cnt, self.c_one], f"{t}/{tag}/count_clamp")
            tf = self.op("Log", [self.op("Add", [cnt, self.c_one], f"{t}/{tag}/tf_add1")], f"{t}/{tag}/tf")
            share = self.op("Div", [m, cnt], f"{t}/{tag}/share")  # mask_j / c_j
            g_iw = self.op("Gather", [iw_n, feat], f"{t}/{tag}/g_iw", axis=0)
            g_idf = self.op("Gather", [idf_n, feat], f"{t}/{tag}/g_idf", axis=0)
            num = self.op("Mul", [self.op("Mul", [share, tf], f"{t}/{tag}/share_tf"), g_iw], f"{t}/{tag}/num_j")
            u = self.op("Mul", [tf, g_idf], f"{t}/{tag}/u")
            sq = self.op("Mul", [share, self.op("Mul", [u, u], f"{t}/{tag}/u2sq")], f"{t}/{tag}/sq_j")
            return (self.op("ReduceSum", [num, self.c_ax1], f"{t}/{tag}/num", keepdims=1),
                    self.op("ReduceSum", [sq, self.c_ax1], f"{t}/{tag}/sq", keepdims=1))

        num, sq = contrib("input_ids", mask_f, "uni")
        if n_hash:
            c_v = self.init(f"{t}/vocab", np.array(VOCAB, np.int64))
            c_h = self.init(f"{t}/n_hash", np.array(n_hash, np.int64))
            c_1 = self.init(f"{t}/one_i", np.array([1], np.int64))
            c_m1 = self.init(f"{t}/m1_i", np.array([-1], np.int64))
            c_big = self.init(f"{t}/big_i", np.array([1 << 30], np.int64))
            c_0 = self.init(f"{t}/zero_i", np.array([0], np.int64))
            left = self.op("Slice", ["input_ids", c_0, c_m1, c_1, c_1], f"{t}/left")
            right = self.op("Slice", ["input_ids", c_1, c_big, c_1, c_1], f"{t}/right")
            mleft = self.op("Slice", [mask_f, c_0, c_m1, c_1, c_1], f"{t}/mleft")
            mright = self.op("Slice", [mask_f, c_1, c_big, c_1, c_1], f"{t}/mright")
            code = self.op("Add", [self.op("Mul", [left, c_v], f"{t}/code_mul"), right], f"{t}/code")
            hidx = self.op("Add", [self.op("Mod", [code, c_h], f"{t}/mod"), c_v], f"{t}/hidx")
            nb, sb = contrib(hidx, self.op("Mul", [mleft, mright], f"{t}/mbi"), "bi")
            num = self.op("Add", [num, nb], f"{t}/num_sum")
            sq = self.op("Add", [sq, sb], f"{t}/sq_sum")
        den = self.op("Max", [self.op("Sqrt", [sq], f"{t}/sqrt"), self.c_eps_norm], f"{t}/den")
        return self.op("Add", [self.op("Div", [num, den], f"{t}/div"),
                               self.init(f"{t}/bias", _f32([spec["bias"]]))], f"{t}/logit")

    def finish(self, outputs: list, name: str, metadata: dict | None = None) -> onnx.ModelProto:
        inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                  helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])]
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="infodemic models/train", producer_version="2")
        model.ir_version = IR_VERSION
        for k, v in (metadata or {}).items():
            model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=str(v)))
        onnx.checker.check_model(model, full_check=True)
        return model


def quantize_rows_int8(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: q = round(x / s), s = max|x| / 127."""
    scale = np.abs(table).max(axis=1) / 127.0
    scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
    q = np.clip(np.rint(table / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def build_feature_extractor(W: dict) -> onnx.ModelProto:
    """fp32 encoder with every layer's hidden state as an output (`hidden_0` = after the
    embedding LayerNorm, `hidden_i` = after layer i-1) plus `embedding`."""
    g = Builder()
    x = g.embeddings(W, "fp32")
    mask_f, add_mask = g.mask()
    hs = [x]
    for i in range(LAYERS):
        x = g.layer(W, i, x, add_mask, "enc")
        hs.append(x)
    g.l2norm(g.mean_pool(x, mask_f, "pool"), "norm", out="embedding")
    outs = []
    for i, h in enumerate(hs):
        g.nodes.append(helper.make_node("Identity", [h], [f"hidden_{i}"], name=f"out/hidden_{i}"))
        outs.append(helper.make_tensor_value_info(f"hidden_{i}", TensorProto.FLOAT, ["batch", "seq", HIDDEN]))
    outs.append(helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN]))
    return g.finish(outs, "minilm_features")


def build_served(W: dict, *, k: int, ft: dict | None, nn_head: tuple[np.ndarray, float] | None,
                 tfidf: dict | None, mix: tuple[float, float, float], calib: tuple[float, float],
                 emb_storage: str = "int8row", metadata: dict | None = None,
                 linear_mode: str = "fp32") -> onnx.ModelProto:
    """k = number of top layers branched (fine-tuned copy in `ft`, same key names as W).
    k = 0 and ft None: the nn head reads the frozen `embedding` (v1 style).
    mix = (w_nn, w_tfidf, c): logit = w_nn * nn_logit + w_tfidf * tfidf_logit + c.
    calib = (a, b): score = sigmoid(a * logit + b).
    linear_mode "rowint8": every encoder Linear as int8 MatMulInteger with per-row activation scales."""
    g = Builder(linear_mode)
    x = g.embeddings(W, emb_storage)
    mask_f, add_mask = g.mask()
    for i in range(LAYERS - k):
        x = g.layer(W, i, x, add_mask, "enc")
    xf = x
    for i in range(LAYERS - k, LAYERS):
        xf = g.layer(W, i, xf, add_mask, "enc")
    emb = g.l2norm(g.mean_pool(xf, mask_f, "pool"), "norm", out="embedding")
    parts = []
    if nn_head is not None:
        if k > 0:
            xc = x
            for i in range(LAYERS - k, LAYERS):
                xc = g.layer(ft, i, xc, add_mask, "ft")
            feat = g.mean_pool(xc, mask_f, "ft_pool")
        else:
            feat = emb
        parts.append(g.op("Mul", [g.linear_head(feat, nn_head[0], nn_head[1], "head_nn"),
                                  g.init("mix/w_nn", _f32(mix[0]))], "mix/nn"))
    if tfidf is not None:
        parts.append(g.op("Mul", [g.tfidf(tfidf, mask_f), g.init("mix/w_tfidf", _f32(mix[1]))], "mix/tfidf"))
    z = parts[0] if len(parts) == 1 else g.op("Add", parts, "mix/sum")
    z = g.op("Add", [z, g.init("mix/c", _f32(mix[2]))], "mix/bias")
    g.nodes.append(helper.make_node("Reshape", [z, g.c_flat], ["logit"], name="out/logit"))
    zc = g.op("Add", [g.op("Mul", ["logit", g.init("calib/a", _f32(calib[0]))], "calib/mul"),
                      g.init("calib/b", _f32(calib[1]))], "calib/add")
    g.nodes.append(helper.make_node("Sigmoid", [zc], ["score"], name="out/score"))
    outs = [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HIDDEN])]
    return g.finish(outs, "infodemic_minilm_health_v2", metadata)


def weight_matmul_nodes(model: onnx.ModelProto, prefixes=("enc/", "ft/")) -> list[str]:
    """MatMul nodes with a constant 2-D weight inside the encoder branches (the only ones to quantise)."""
    inits = {t.name for t in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits
            and n.name.startswith(prefixes)]
