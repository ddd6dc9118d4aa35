#!/usr/bin/env python3
"""The PyTorch per-mask loop bench_gpu is compared with: a BERT-base-shaped encoder with random
weights, one full forward pass per mask, heads masked the way Hugging Face's head_mask did (the gate
scales head h's attention output; transformers v5 removed head_mask, so this is the equivalent hook
written out), fp16, batches padded to their own longest sequence (dynamic padding).

    python3 benchmarks/gpu_torch_loop.py --lengths lengths.json [--masks 145] [--token-budget 32768]

lengths.json is bench_gpu's --lengths-out: the same synthetic dev set. Prints RESULT lines.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

L, H, C, FF, V = 12, 12, 768, 3072, 30522
D = C // H


def make_weights(device, dtype):
    g = torch.Generator(device="cpu").manual_seed(0)

    def w(*shape):
        return (torch.randn(*shape, generator=g) * 0.02).to(device, dtype)

    layers = []
    for _ in range(L):
        layers.append(dict(qkv_w=w(3 * C, C), qkv_b=torch.zeros(3 * C, device=device, dtype=dtype),
                           out_w=w(C, C), out_b=torch.zeros(C, device=device, dtype=dtype),
                           ff1_w=w(FF, C), ff1_b=torch.zeros(FF, device=device, dtype=dtype),
                           ff2_w=w(C, FF), ff2_b=torch.zeros(C, device=device, dtype=dtype)))
    return dict(word=w(V, C), pos=w(512, C), layers=layers, cls_w=w(3, C), pool_w=w(C, C))


def forward(W, ids, mask, gates):
    B, T = ids.shape
    x = F.layer_norm(W["word"][ids] + W["pos"][:T], (C,))
    bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    for l, lw in enumerate(W["layers"]):
        qkv = F.linear(x, lw["qkv_w"], lw["qkv_b"]).view(B, T, 3, H, D).permute(2, 0, 3, 1, 4)
        ctx = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias)
        ctx = ctx * gates[l].view(1, H, 1, 1)  # head_mask: 0 removes head h of layer l
        ctx = ctx.transpose(1, 2).reshape(B, T, C)
        x = F.layer_norm(F.linear(ctx, lw["out_w"], lw["out_b"]) + x, (C,))
        x = F.layer_norm(F.linear(F.gelu(F.linear(x, lw["ff1_w"], lw["ff1_b"])), lw["ff2_w"], lw["ff2_b"]) + x, (C,))
    return F.linear(torch.tanh(F.linear(x[:, 0], W["pool_w"])), W["cls_w"])


def batches(lengths, budget, device):
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    out, cur = [], []
    for i in order:
        if cur and (len(cur) + 1) * lengths[cur[0]] > budget:
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    g = torch.Generator(device="cpu").manual_seed(1)
    result = []
    for b in out:
        T = lengths[b[0]]
        ids = torch.randint(1000, 30000, (len(b), T), generator=g)
        mask = torch.zeros(len(b), T, dtype=torch.long)
        for r, i in enumerate(b):
            mask[r, :lengths[i]] = 1
        result.append((ids.to(device), mask.to(device)))
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", required=True)
    ap.add_argument("--masks", type=int, default=145, help="masks to time (scaled to 145)")
    ap.add_argument("--token-budget", type=int, default=32768)
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    args = ap.parse_args()
    device = torch.device("cuda")
    dtype = dict(fp16=torch.float16, bf16=torch.bfloat16, fp32=torch.float32)[args.dtype]
    lengths = json.load(open(args.lengths))
    W = make_weights(device, dtype)
    data = batches(lengths, args.token_budget, device)
    masks = [torch.ones(L, H, device=device, dtype=dtype)]
    for l in range(L):
        for h in range(H):
            m = torch.ones(L, H, device=device, dtype=dtype)
            m[l, h] = 0
            masks.append(m)
    with torch.inference_mode():
        for ids, mask in data[:4]:
            forward(W, ids, mask, masks[0])  # warm-up
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        n = min(args.masks, len(masks))
        for m in masks[:n]:
            preds = [forward(W, ids, mask, m).argmax(-1) for ids, mask in data]
            torch.cat(preds).cpu()
        torch.cuda.synchronize()
        secs = time.perf_counter() - t0
    full = secs * len(masks) / n
    print(f"torch loop ({args.dtype}, {torch.cuda.get_device_name()}): {n} masks in {secs:.2f} s; "
          f"{full:.2f} s per {len(masks)}-mask sweep, {len(masks) / full:.2f} masks/s")
    print(f"RESULT torch_loop dtype={args.dtype} masks_timed={n} seconds={secs:.4f} seconds_per_sweep={full:.4f}")


if __name__ == "__main__":
    main()
