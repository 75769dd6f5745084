"""v3: fine-tune the top k layers of all-MiniLM-L6-v2 + a linear head with THREE outputs
(misinformation, claim, refute) on cached frozen lower-layer activations (CPU, torch), with
per-row weights and per-head label masks (-1 = unknown, not trained on). Run with
models/train/.venv-torch; called by train_v3.py. Derived from ft_v2.py (one head).

Input: the features cache (hidden_{6-k} per token, offsets), a job .npz (train/dev index +
labels, indices to predict) and the base model.safetensors. The top-k layers start from the
pretrained weights; the head (masked mean pooling -> dropout -> Linear(384, 3)) from zeros.
Loss: sum over heads of head_weight * row weight * BCE, over the rows whose label is known.
Selection: the epoch with the lowest weighted dev log-loss of the misinformation head (dev =
dev splits, never test). Output .npz: the fine-tuned layer weights (same key names as the
safetensors file), head [3, 384] + [3], per-epoch history, and logits [n, 3] for `predict_idx`
from the selected epoch.

torch CPU training is seeded but not guaranteed bit-exact across machines/thread counts.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

from ft_v2 import HIDDEN, Layer, length_batches, make_batch  # the same layers and batching as v2

N_HEADS = 3  # misinformation, claim, refute
HEAD_LOSS_WEIGHTS = (1.0, 0.5, 0.5)


class Top(torch.nn.Module):
    def __init__(self, W, k, p_drop):
        super().__init__()
        self.layers = torch.nn.ModuleList([Layer(W, i, p_drop) for i in range(6 - k, 6)])
        self.drop = torch.nn.Dropout(p_drop)
        self.head = torch.nn.Linear(HIDDEN, N_HEADS)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.zeros_(self.head.bias)

    def forward(self, x, mask):
        add = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, add)
        m = mask[:, :, None]
        pooled = (x * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return self.head(self.drop(pooled))


@torch.no_grad()
def predict(model, hid, offsets, idx, bs=64):
    model.eval()
    out = np.zeros((len(idx), N_HEADS), np.float32)
    pos = {int(t): i for i, t in enumerate(idx)}
    for b in length_batches(offsets, idx, bs):
        x, m = make_batch(hid, offsets, b)
        z = model(x, m).numpy()
        for t, v in zip(b, z):
            out[pos[int(t)]] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--features", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--k", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    feat = Path(a.features)
    hid = np.load(feat / f"hidden_{6 - a.k}.npy", mmap_mode="r")
    hid = np.asarray(hid, dtype=np.float32)  # fp16 on disk -> fp32 in RAM
    offsets = np.load(feat / "offsets.npy")
    job = np.load(a.job)
    tr, ytr, dv, ydv, pr = job["train_idx"], job["train_y"], job["dev_idx"], job["dev_y"], job["predict_idx"]
    wtr, wdv = job["train_w"], job["dev_w"]  # ytr/ydv: [n, 3] in {1, 0, -1}
    W = load_file(a.weights)
    W = {k[5:] if k.startswith("bert.") else k: v for k, v in W.items()}
    model = Top(W, a.k, a.dropout)
    head_params = list(model.head.parameters())
    body = [p for n, p in model.named_parameters() if not n.startswith("head.")]
    no_decay = [p for n, p in model.named_parameters() if not n.startswith("head.") and (n.endswith(".bias") or ".ln" in n)]
    decay = [p for p in body if all(p is not q for q in no_decay)]
    opt = torch.optim.AdamW([{"params": decay, "lr": a.lr, "weight_decay": a.wd},
                             {"params": no_decay, "lr": a.lr, "weight_decay": 0.0},
                             {"params": head_params, "lr": a.head_lr, "weight_decay": 0.0}])
    steps = a.epochs * math.ceil(len(tr) / a.bs)
    warm = max(1, int(0.06 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    y_of = {int(t): (v.astype(np.float32), float(w)) for t, v, w in zip(tr, ytr, wtr)}
    hw = torch.tensor(HEAD_LOSS_WEIGHTS)

    def loss_fn(z, y, w):
        known = (y >= 0).float()
        per = F.binary_cross_entropy_with_logits(z, y.clamp_min(0), reduction="none") * known * hw * w[:, None]
        return per.sum() / w.sum()
    hist, best, best_state = [], math.inf, None
    t0 = time.time()
    for ep in range(a.epochs):
        model.train()
        tot = 0.0
        for b in length_batches(offsets, tr, a.bs, rng):
            x, m = make_batch(hid, offsets, b)
            y = torch.from_numpy(np.stack([y_of[int(t)][0] for t in b]))
            w = torch.tensor([y_of[int(t)][1] for t in b])
            loss = loss_fn(model(x, m), y, w)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(b)
        zd = predict(model, hid, offsets, dv)
        known = ydv[:, 0] >= 0
        dev_ll = float((F.binary_cross_entropy_with_logits(
            torch.from_numpy(zd[known, 0]), torch.from_numpy(ydv[known, 0].astype(np.float32)), reduction="none")
            * torch.from_numpy(wdv[known].astype(np.float32))).sum() / float(wdv[known].sum()))
        hist.append({"epoch": ep + 1, "train_loss": tot / len(tr), "dev_log_loss": dev_ll, "s": round(time.time() - t0)})
        print(json.dumps(hist[-1]), flush=True)
        if dev_ll < best:
            best = dev_ll
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    out = {}
    for layer in model.layers:
        out.update(layer.export())
    out["head.weight"] = model.head.weight.detach().numpy().copy()
    out["head.bias"] = model.head.bias.detach().numpy().copy()
    out["predict_logits"] = predict(model, hid, offsets, pr)
    out["history"] = np.array(json.dumps(hist))
    np.savez(a.out, **out)


if __name__ == "__main__":
    main()
