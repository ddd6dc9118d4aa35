#!/usr/bin/env python3
"""The per-mask PyTorch loop that headsweep's executors are compared against (benchmarks/run.sh).

Hugging Face BertModel on the same checkpoint and the same examples as `bench_sweep --mode executors`:
the first N STS-B dev pairs, each sentence encoded alone, length-sorted batches (longest first) cut
under the same token budget (padded tokens per batch), mean pooling and cosine, and one forward
pass per mask with `head_mask` over the single-head set (baseline, then each head removed alone).
Needs transformers with `head_mask` (4.41.2, tests/golden/requirements.txt) and runs offline.

Prints the baseline Spearman (compared with --expect-spearman when given, for information) and a
final line "RESULT masks_per_s=...".
"""
import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoTokenizer, BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402


def read_stsb_dev(glue_dir, limit):
    """First `limit` rows of STS-B/dev.tsv (split on tab only, as headsweep reads it): s1, s2, gold."""
    lines = (Path(glue_dir) / "STS-B" / "dev.tsv").read_text(encoding="utf-8").split("\n")[1:]
    rows = [line.split("\t") for line in lines if line]
    if limit > 0:
        rows = rows[:limit]
    return [r[7] for r in rows], [r[8] for r in rows], np.array([float(r[9]) for r in rows])


def make_batches(lengths, token_budget):
    """Sequence indices sorted longest first, cut greedily so that rows * longest <= token_budget."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches, cur = [], []
    for i in order:
        longest = lengths[cur[0]] if cur else lengths[i]
        if cur and (len(cur) + 1) * longest > token_budget:
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches


def avg_rank(x):
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(a, b):
    return float(np.corrcoef(avg_rank(a), avg_rank(b))[0, 1])


def single_head_masks(n_layers, n_heads):
    masks = [torch.ones(n_layers, n_heads)]
    for layer in range(n_layers):
        for head in range(n_heads):
            m = torch.ones(n_layers, n_heads)
            m[layer, head] = 0
            masks.append(m)
    return masks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models/all-MiniLM-L6-v2")
    ap.add_argument("--glue", default=os.environ.get("GLUE_DIR", ""))
    ap.add_argument("--limit", type=int, default=400)
    ap.add_argument("--threads", type=int, default=0, help="0: every core this process may use")
    ap.add_argument("--token-budget", type=int, default=8192)
    ap.add_argument("--max-seq-len", type=int, default=128)
    ap.add_argument("--expect-spearman", type=float, default=None, help="the C++ run's baseline Spearman")
    args = ap.parse_args()
    if not args.glue:
        sys.exit("torch_loop.py: --glue (or GLUE_DIR) is required")

    hf_logging.set_verbosity_error()  # the unused pooler weights are expected: the model is encoded without it
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    s1, s2, gold = read_stsb_dev(args.glue, args.limit)
    sentences = [s for pair in zip(s1, s2) for s in pair]  # sequence 2i, 2i+1 = pair i
    tok = AutoTokenizer.from_pretrained(args.model)
    ids = [tok(s, truncation=True, max_length=args.max_seq_len)["input_ids"] for s in sentences]
    batches = []
    for rows in make_batches([len(x) for x in ids], args.token_budget):
        width = max(len(ids[i]) for i in rows)
        input_ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(rows), width), dtype=torch.long)
        for r, i in enumerate(rows):
            input_ids[r, :len(ids[i])] = torch.tensor(ids[i])
            attention[r, :len(ids[i])] = 1
        batches.append((rows, input_ids, attention))
    model = BertModel.from_pretrained(args.model, add_pooling_layer=False).eval()
    cfg = model.config
    masks = single_head_masks(cfg.num_hidden_layers, cfg.num_attention_heads)
    print(f"{args.model} on stsb dev: {len(gold)} examples, {len(sentences)} sequences, {len(batches)} batches "
          f"(token budget {args.token_budget}), {threads} threads, {len(masks)} masks", flush=True)

    base_spearman = None
    t0 = time.perf_counter()
    with torch.inference_mode():
        for n, mask in enumerate(masks):
            pooled = torch.empty(len(sentences), cfg.hidden_size)
            for rows, input_ids, attention in batches:
                hidden = model(input_ids=input_ids, attention_mask=attention,
                               token_type_ids=torch.zeros_like(input_ids), head_mask=mask).last_hidden_state
                m = attention.unsqueeze(-1).to(hidden.dtype)
                pooled[rows] = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            if n == 0:
                a, b = pooled[0::2].double(), pooled[1::2].double()
                cos = ((a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))).numpy()
                base_spearman = spearman(cos, gold)
    seconds = time.perf_counter() - t0

    rate = len(masks) / seconds
    print(f"torch loop: {len(masks)} masks in {seconds:.2f} s, {rate:.3f} masks/s")
    line = f"baseline spearman {base_spearman:.6f}"
    if args.expect_spearman is not None:
        line += f" (C++ run: {args.expect_spearman:.6f}, difference {base_spearman - args.expect_spearman:+.2e})"
    print(line)
    print(f"RESULT mode=torch masks={len(masks)} examples={len(gold)} torch_s={seconds:.4f} masks_per_s={rate:.4f} "
          f"baseline_spearman={base_spearman:.6f}")


if __name__ == "__main__":
    main()
