#!/usr/bin/env python3
"""The per-mask PyTorch loop that headsweep's executors are compared against (benchmarks/run.sh).

Hugging Face BertModel on the same checkpoint, the same examples and the very same batches as
`bench_sweep --mode executors --batches-out FILE` (the first N STS-B dev pairs, each sentence encoded
alone), mean pooling and cosine, and one forward pass per mask with `head_mask` over the single-head
set (baseline, then each head removed alone). Needs transformers with `head_mask` (4.41.2,
tests/golden/requirements.txt) and runs offline.

Prints the baseline Spearman (compared with --expect-spearman when given, for information) and a
final line "RESULT masks_per_s=...".
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402
import torch  # noqa: E402
from transformers import AutoTokenizer, BertModel  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "golden"))
from glue_reference import cosine_pairs, mean_pool, read_glue_rows  # noqa: E402


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
    ap.add_argument("--batches", required=True, help="bench_sweep --batches-out file: the batches to run")
    ap.add_argument("--threads", type=int, default=0,
                    help="libtorch intra-op threads (0: every core this process may use); OpenBLAS keeps its default")
    ap.add_argument("--max-seq-len", type=int, default=128)
    ap.add_argument("--shard", default="0/1", help="i/n: run masks i, i+n, i+2n, ... (a multi-process loop)")
    ap.add_argument("--expect-spearman", type=float, default=None, help="the C++ run's baseline Spearman")
    args = ap.parse_args()
    if not args.glue:
        sys.exit("torch_loop.py: --glue (or GLUE_DIR) is required")

    hf_logging.set_verbosity_error()  # the unused pooler weights are expected: the model is encoded without it
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    rows = read_glue_rows(Path(args.glue) / "STS-B" / "dev.tsv", True)
    if args.limit > 0:
        rows = rows[:args.limit]
    gold = np.array([float(r[9]) for r in rows])
    sentences = [s for r in rows for s in (r[7], r[8])]  # sequence 2i + slot = pair i's sentence `slot`
    tok = AutoTokenizer.from_pretrained(args.model)
    ids = [tok(s, truncation=True, max_length=args.max_seq_len)["input_ids"] for s in sentences]
    batches = []
    for batch in json.loads(Path(args.batches).read_text())["batches"]:
        seqs = [2 * example + slot for example, slot in batch]
        width = max(len(ids[i]) for i in seqs)
        input_ids = torch.full((len(seqs), width), tok.pad_token_id, dtype=torch.long)
        attention = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, i in enumerate(seqs):
            input_ids[r, :len(ids[i])] = torch.tensor(ids[i])
            attention[r, :len(ids[i])] = 1
        batches.append((seqs, input_ids, attention))
    if sorted(i for seqs, _, _ in batches for i in seqs) != list(range(len(sentences))):
        sys.exit(f"torch_loop.py: {args.batches} does not hold each of the {len(sentences)} sequences once")
    model = BertModel.from_pretrained(args.model, add_pooling_layer=False).eval()
    cfg = model.config
    shard, shards = (int(x) for x in args.shard.split("/"))
    masks = single_head_masks(cfg.num_hidden_layers, cfg.num_attention_heads)[shard::shards]
    print(f"{args.model} on stsb dev: {len(gold)} examples, {len(sentences)} sequences, {len(batches)} batches "
          f"(from {args.batches}), {threads} threads, {len(masks)} masks", flush=True)

    base_spearman = None
    t0 = time.perf_counter()
    with torch.inference_mode():
        for n, mask in enumerate(masks):
            pooled = torch.empty(len(sentences), cfg.hidden_size)
            for seqs, input_ids, attention in batches:
                hidden = model(input_ids=input_ids, attention_mask=attention,
                               token_type_ids=torch.zeros_like(input_ids), head_mask=mask).last_hidden_state
                pooled[seqs] = mean_pool(hidden, attention)
            if n == 0 and shard == 0:
                base_spearman = float(scipy.stats.spearmanr(cosine_pairs(pooled).numpy(), gold).correlation)
    seconds = time.perf_counter() - t0

    rate = len(masks) / seconds
    print(f"torch loop: {len(masks)} masks in {seconds:.2f} s, {rate:.3f} masks/s")
    if base_spearman is not None:
        line = f"baseline spearman {base_spearman:.6f}"
        if args.expect_spearman is not None:
            line += f" (C++ run: {args.expect_spearman:.6f}, difference {base_spearman - args.expect_spearman:+.2e})"
        print(line)
    print(f"RESULT mode=torch masks={len(masks)} examples={len(gold)} torch_s={seconds:.4f} masks_per_s={rate:.4f}")


if __name__ == "__main__":
    main()
