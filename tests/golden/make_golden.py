#!/usr/bin/env python3
"""Write the Hugging Face reference outputs that the C++ tests compare against.

Groups of fixtures, all deterministic (eval mode, float32, one CPU thread,
gzip mtime 0), written under --out (default: this folder):

  forward    minilm_forward.safetensors + minilm_forward.json
             BertModel hidden states / pooled embeddings / pooler output for 8
             STS-B dev pairs under four head masks (HF `head_mask` semantics).
  tokenizer  tokenizer/<TASK>.dev.tsv.gz, tokenizer/CoLA.dev.cased.tsv.gz,
             tokenizer/pairs.jsonl.gz, tokenizer/tricky.jsonl
             token ids from the slow Python BertTokenizer (the reference).
  stsb       stsb_dev_reference.json
             sentence-transformers cosines for all of STS-B dev, Spearman, Pearson.
  importance importance.json
             gradient head importance (Michel et al.'s per-token variant and
             run_bertology.py's) of the similarity loss on 24 STS-B dev pairs,
             under the full mask and a pruned one.
  attention  attention.json
             per-head attention statistics (mass on [CLS], [SEP], punctuation, self,
             previous, next; entropy; confidence) from output_attentions.
  heads      heads.safetensors + heads.json
             BertForSequenceClassification logits built from the MiniLM weights with
             seeded classifiers: a 2-class head for RTE whose id2label is the reverse
             of the task's label order, and a 1-output regression head for STS-B.

See README.md in this folder for the environment and the file formats.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import sys
import unicodedata
from pathlib import Path

# Fix the thread count before torch is imported so that every matmul reduces in
# the same order on every run.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

import safetensors  # noqa: E402
import scipy  # noqa: E402
import scipy.stats  # noqa: E402
import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
from glue_reference import cosine_pairs, mean_pool, read_glue_rows  # noqa: E402
from transformers import (BertForSequenceClassification, BertModel, BertTokenizer,  # noqa: E402
                          BertTokenizerFast)

transformers.logging.set_verbosity_error()

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

N_LAYERS = 6
N_HEADS = 12
HIDDEN = 384
SLICE = 32  # hidden dims kept per position in *.hidden_slice
MAX_LENGTH = 256

# STS-B dev data rows (0-based, header excluded) used by the forward fixture.
# Chosen for: the shortest sentence in the set (10), plain captions (0), digits
# and an apostrophe (1266), quotes inside a headline (1332), a decimal number
# (1308), "you've" / "5-6" / "!" (962), "$47.98" and a 44-token pair (1092),
# curly quotes / a curly apostrophe / "60's" and the longest pair, 47 tokens (924).
FORWARD_ROWS = [10, 0, 1266, 1332, 1308, 962, 1092, 924]

# (task, has header, text columns, expected number of data rows)
TASKS = [
    ("CoLA", False, [3], 1043),
    ("SST-2", True, [0], 872),
    ("MRPC", True, [3, 4], 408),
    ("STS-B", True, [7, 8], 1500),
    ("RTE", True, [1, 2], 277),
    ("QNLI", True, [1, 2], 5463),
    ("WNLI", True, [1, 2], 71),
]
PAIR_TASKS = ["MRPC", "STS-B", "RTE", "QNLI"]
PAIR_ROWS = 100
PAIR_MAX_LENGTHS = [16, 48]

TRICKY = [
    "café résumé naïve",
    "cafe\u0301 re\u0301sume\u0301 (combining acute accents)",
    "\u0301leading combining mark",
    "Ångström ÅSA Ålesund",
    "El niño comió piñata mañana. ÑANDÚ",
    "Tiếng Việt có dấu",
    "ÉCOLE Française",
    "Straße STRASSE ẞ",
    "日本語のテキストとEnglish mixed",
    "中文Chinese字符test，你好。",
    "カタカナ ひらがな",
    "한국어 텍스트",
    "𠀀𠀁 supplementary ideographs",
    "ΟΔΥΣΣΕΥΣ Οδυσσεύς ΣΑΣ Σ σοφός",
    "İstanbul IŞIK ılık İ",
    "I love 🍕 and 🎉! love🍕pizza",
    "family 👨\u200d👩\u200d👧 emoji",
    "zero\u200bwidth\u200cnon\u200djoiner",
    "\ufeffbyte order mark at start",
    "soft\u00adhyphen in\u00adside",
    "control\x01\x07chars\x1bhere\x7f",
    "nul\x00byte",
    "replacement \ufffd char\ufffdinside",
    "tabs\tand\nnewlines\r\nhere",
    "non\u00a0breaking\u00a0space and\u2003em space",
    ("supercalifragilistic" * 6)[:101],
    ("supercalifragilistic" * 6)[:100],
    "ü" * 60,
    "don't I'd've rock'n'roll",
    "U.S.A. e.g., i.e., etc.",
    "$3.50 1,000,000 -42 +7 3.14159 1e-5 12345678901234567890",
    "#hashtag @mention C++ C# F#",
    "email@example.com http://example.com/path?x=1&y=2",
    "a^b`c~d$e|f<g>h=i",
    "© ® ™ € £ ¥ 5°C ±3 2×3 6÷2 €5",
    "MiXeD CaSe WoRdS iPhone McDonald",
    "ＡＢＣ１２３！ ｆｕｌｌｗｉｄｔｈ",
    "ﬁnance ﬂow",
    "Kelvin K and Ⅻ",
    "مرحبا بالعالم",
    "नमस्ते दुनिया हिन्दी",
    "literal [SEP] and [MASK] tokens, [cls] lowercase",
    "...!!!???---",
    "  leading and trailing spaces  ",
    "   \t\n ",
    "",
]


# ---------------------------------------------------------------- helpers


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_gz(path, data):
    """gzip with mtime 0 and no file name in the header, so reruns are byte-identical."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(data)
    path.write_bytes(buf.getvalue())


def versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "unicodedata": unicodedata.unidata_version,
    }


def g7(x):
    return float("%.7g" % x)


def load_slow_tokenizer(model_dir):
    tok = BertTokenizer.from_pretrained(str(model_dir))
    cfg = json.loads((model_dir / "tokenizer_config.json").read_text())
    assert tok.do_lower_case == cfg.get("do_lower_case", True)
    return tok


# ---------------------------------------------------------------- masks


def make_masks():
    full = np.ones((N_LAYERS, N_HEADS), dtype=np.float32)

    partial_a = full.copy()
    partial_a[0, [0, 3, 7]] = 0
    partial_a[2, :] = 0
    partial_a[2, 5] = 1
    partial_a[5, 11] = 0

    rng = np.random.default_rng(20190510)
    while True:
        partial_b = (rng.random((N_LAYERS, N_HEADS)) >= 0.5).astype(np.float32)
        off = (partial_b == 0).sum(axis=1)
        if (off >= 1).all() and (off < N_HEADS).all() and abs(int(off.sum()) - 36) <= 2:
            break

    layer3_off = full.copy()
    layer3_off[3, :] = 0

    return [
        ("full", full, "all heads kept (equal to running without head_mask)"),
        ("partial_a", partial_a,
         "hand-picked: layer 0 heads 0,3,7 off; layer 2 all heads off except head 5; layer 5 head 11 off"),
        ("partial_b", partial_b,
         "random: numpy default_rng(20190510), each head off with p=0.5, redrawn until every layer has "
         "at least one head off and one kept and 34..38 of the 72 heads are off"),
        ("layer3_off", layer3_off, "layer 3 (0-based) all 12 heads off; every other head kept"),
    ]


# ---------------------------------------------------------------- forward fixture


def run_model(model, enc, head_mask):
    with torch.no_grad():
        out = model(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            token_type_ids=enc["token_type_ids"],
            head_mask=None if head_mask is None else torch.from_numpy(head_mask).to(model.dtype),
            output_hidden_states=True,
            return_dict=True,
        )
    hs = torch.stack(out.hidden_states)  # (L+1, B, T, C)
    return hs, out.pooler_output


def make_forward(model_dir, glue_dir, out_dir):
    tok = load_slow_tokenizer(model_dir)
    fast = BertTokenizerFast.from_pretrained(str(model_dir))
    model, info = BertModel.from_pretrained(
        str(model_dir), attn_implementation="eager", torch_dtype=torch.float32, output_loading_info=True
    )
    assert not info["missing_keys"], info["missing_keys"]  # e.g. a random pooler would not be reproducible
    model.eval()
    assert model.config.num_hidden_layers == N_LAYERS and model.config.num_attention_heads == N_HEADS
    model64 = BertModel.from_pretrained(str(model_dir), attn_implementation="eager").double().eval()

    stsb_path = glue_dir / "STS-B" / "dev.tsv"
    rows = read_glue_rows(stsb_path, True, 1500)
    pairs = [(r, rows[r][7], rows[r][8], float(rows[r][9]), rows[r][1]) for r in FORWARD_ROWS]
    singles = [s for _, a, b, _, _ in pairs for s in (a, b)]
    s1 = [a for _, a, _, _, _ in pairs]
    s2 = [b for _, _, b, _, _ in pairs]

    single = tok(singles, padding="longest", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    pair = tok(s1, s2, padding="longest", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    for name, enc, fenc in (
        ("single", single, fast(singles, padding="longest", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")),
        ("pair", pair, fast(s1, s2, padding="longest", truncation=True, max_length=MAX_LENGTH, return_tensors="pt")),
    ):
        for k in ("input_ids", "attention_mask", "token_type_ids"):
            assert torch.equal(enc[k], fenc[k]), f"slow and fast tokenizers differ on {name}.{k}"

    tensors = {}
    for name, enc in (("single", single), ("pair", pair)):
        for k in ("input_ids", "attention_mask", "token_type_ids"):
            tensors[f"{name}.{k}"] = enc[k].numpy().astype(np.int64)

    hs_nomask, _ = run_model(model, single, None)
    masks = make_masks()
    mask_meta = {}
    fp32_err = {}
    full_hidden = None
    for mname, hmask, desc in masks:
        tensors[f"{mname}.head_mask"] = hmask
        off = [[int(l), int(h)] for l, h in zip(*np.nonzero(hmask == 0))]
        mask_meta[mname] = {
            "description": desc,
            "heads_off": off,
            "n_heads_off": len(off),
            "head_mask": hmask.astype(int).tolist(),
        }

        hs, _ = run_model(model, single, hmask)
        hs64, _ = run_model(model64, single, hmask)
        if mname == "full":
            assert torch.equal(hs, hs_nomask), "all-ones head_mask must equal no head_mask"
            full_hidden = hs
        if mname == "layer3_off":
            assert torch.equal(hs[:4], full_hidden[:4]), "layers before 3 must be unaffected"
            assert not torch.equal(hs[4], full_hidden[4])
        hsd = hs.double()
        tensors[f"{mname}.single.hidden_slice"] = hs[..., :SLICE].contiguous().numpy()
        tensors[f"{mname}.single.hidden_sum"] = hsd.sum(-1).numpy()
        tensors[f"{mname}.single.hidden_sumsq"] = (hsd * hsd).sum(-1).numpy()
        pooled = mean_pool(hs[-1], single["attention_mask"])
        pooled64 = mean_pool(hs64[-1], single["attention_mask"])
        tensors[f"{mname}.single.mean_pooled"] = pooled.numpy()
        cos = cosine_pairs(pooled)
        tensors[f"{mname}.cosine"] = cos.float().numpy()

        phs, pooler = run_model(model, pair, hmask)
        phs64, pooler64 = run_model(model64, pair, hmask)
        phsd = phs.double()
        tensors[f"{mname}.pair.hidden_slice"] = phs[..., :SLICE].contiguous().numpy()
        tensors[f"{mname}.pair.hidden_sum"] = phsd.sum(-1).numpy()
        tensors[f"{mname}.pair.hidden_sumsq"] = (phsd * phsd).sum(-1).numpy()
        tensors[f"{mname}.pair.pooler_output"] = pooler.numpy()

        def maxabs(a, b):
            return float("%.3g" % (a.double() - b).abs().max().item())

        fp32_err[mname] = {
            "single_hidden": [maxabs(hs[l], hs64[l]) for l in range(N_LAYERS + 1)],
            "pair_hidden": [maxabs(phs[l], phs64[l]) for l in range(N_LAYERS + 1)],
            "mean_pooled": maxabs(pooled, pooled64),
            "cosine": maxabs(cos, cosine_pairs(pooled64)),
            "pooler_output": maxabs(pooler, pooler64),
        }

    # The full-mask embeddings must be what sentence-transformers itself produces.
    st = SentenceTransformer(str(model_dir), device="cpu")
    st_emb = st.encode(singles, batch_size=len(singles), convert_to_numpy=True, show_progress_bar=False)
    ours = torch.nn.functional.normalize(torch.from_numpy(tensors["full.single.mean_pooled"]), dim=-1).numpy()
    st_diff = float(np.abs(st_emb - ours).max())
    print(f"forward: max |ours - SentenceTransformer.encode| = {st_diff:.3g}")
    assert st_diff < 1e-5, st_diff

    for k, v in tensors.items():
        assert v.dtype in (np.float32, np.float64, np.int64), (k, v.dtype)
    st_path = out_dir / "minilm_forward.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())}, str(st_path),
              metadata={"format": "np", "description": "headsweep golden forward outputs; see minilm_forward.json"})
    os.chmod(st_path, 0o644)

    T = int(single["input_ids"].shape[1])
    T2 = int(pair["input_ids"].shape[1])
    layout = {}
    for k in sorted(tensors):
        layout[k] = {"dtype": str(tensors[k].dtype), "shape": list(tensors[k].shape)}
    single_len = single["attention_mask"].sum(1).tolist()
    pair_len = pair["attention_mask"].sum(1).tolist()
    meta = {
        "description": "Hugging Face BertModel outputs for all-MiniLM-L6-v2 under head masks; "
                       "tensors in minilm_forward.safetensors",
        "model": {
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "model.safetensors sha256": sha256_file(model_dir / "model.safetensors"),
            "vocab.txt sha256": sha256_file(model_dir / "vocab.txt"),
            "n_layers": N_LAYERS, "n_heads": N_HEADS, "hidden": HIDDEN, "head_dim": HIDDEN // N_HEADS,
        },
        "source": {"file": "STS-B/dev.tsv", "sha256": sha256_file(stsb_path),
                   "columns": {"sentence1": 7, "sentence2": 8, "score": 9}},
        "pairs": [
            {"pair": i, "stsb_dev_row": r, "genre": g, "score": sc, "sentence1": a, "sentence2": b,
             "single_rows": [2 * i, 2 * i + 1], "single_lengths": single_len[2 * i: 2 * i + 2],
             "pair_length": pair_len[i]}
            for i, (r, a, b, sc, g) in enumerate(pairs)
        ],
        "T": T,
        "T2": T2,
        "masks": mask_meta,
        "mask_order": [m for m, _, _ in masks],
        "settings": {
            "tokenizer": "slow BertTokenizer from the model folder (do_lower_case from tokenizer_config.json); "
                         "padding='longest', truncation=True, max_length=256; BertTokenizerFast gives the same ids here",
            "model": "BertModel.from_pretrained(model_dir, attn_implementation='eager'), eval(), float32, "
                     "torch.no_grad(), 1 CPU thread",
            "head_mask": "passed as head_mask=(6, 12) float32; HF multiplies it into the attention "
                         "probabilities after softmax (1 = keep, 0 = head output is zero)",
            "attention_mask": "HF adds (1 - attention_mask) * torch.finfo(float32).min "
                              f"(= {float(torch.finfo(torch.float32).min):.9g}) to the scores of padded keys; "
                              "padded query positions are still computed and are stored too",
            "pooling": "mean_pooled = sum_t(h[t] * mask[t]) / max(sum_t mask[t], 1e-9) over the last hidden state, "
                       "as sentence-transformers Pooling(mean); not normalised",
            "cosine": "cosine(mean_pooled[2i], mean_pooled[2i+1]) computed in float64, stored float32",
        },
        "layout_notes": {
            "lengths": "pairs[].single_lengths and pairs[].pair_length count non-padding tokens including "
                       "[CLS]/[SEP] (the attention_mask sums)",
            "single.*": "the 16 sentences in order s1[0], s2[0], s1[1], s2[1], ...: [CLS] s [SEP] [PAD]...",
            "pair.*": "the 8 pairs as [CLS] s1 [SEP] s2 [SEP] [PAD]...; token_type_ids 0 up to and including the "
                      "first [SEP], 1 after it, 0 on padding",
            "<m>.head_mask": "(L=6, H=12), 1 = head kept",
            "<m>.*.hidden_slice": "(7, B, T, 32) float32: hidden_states[l][:, :, :32]; l = 0 is the embedding "
                                  "output (after its LayerNorm), l = i + 1 the output of encoder layer i",
            "<m>.*.hidden_sum": "(7, B, T) float64: sum over all 384 hidden dims, accumulated in float64",
            "<m>.*.hidden_sumsq": "(7, B, T) float64: sum of squares over all 384 hidden dims, in float64",
            "<m>.single.mean_pooled": "(16, 384) float32",
            "<m>.cosine": "(8,) float32",
            "<m>.pair.pooler_output": "(8, 384) float32: tanh(W h[CLS] + b) from BertModel's pooler",
        },
        "fp32_vs_fp64_max_abs": {
            "description": "max |float32 output - same model in float64| per mask: the float32 rounding error of the "
                           "reference itself, a scale for test tolerances (lists are per hidden_states index 0..6)",
            **fp32_err,
        },
        "sentence_transformers_check_max_abs": float("%.3g" % st_diff),
        "tensors": layout,
        "versions": versions(),
    }
    (out_dir / "minilm_forward.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"forward: T={T} T2={T2}, {len(tensors)} tensors, "
          f"{st_path.stat().st_size} bytes in {st_path.name}")
    for mname, m in mask_meta.items():
        print(f"  mask {mname}: {m['n_heads_off']} heads off: {m['heads_off']}")


# ---------------------------------------------------------------- tokenizer fixtures


def make_tokenizer(model_dir, glue_dir, out_dir):
    tdir = out_dir / "tokenizer"
    tdir.mkdir(parents=True, exist_ok=True)
    slow = load_slow_tokenizer(model_dir)
    fast = BertTokenizerFast.from_pretrained(str(model_dir))
    vocab = str(model_dir / "vocab.txt")
    slow_cased = BertTokenizer(vocab, do_lower_case=False)
    fast_cased = BertTokenizerFast(vocab, do_lower_case=False)
    assert slow.do_lower_case and not slow_cased.do_lower_case

    disagree = {}
    examples = []
    total = 0
    present = {}
    for task, has_header, cols, n in TASKS:
        path = glue_dir / task / "dev.tsv"
        if not path.exists():
            print(f"tokenizer: {task}: {path} not found, skipped")
            continue
        rows = read_glue_rows(path, has_header, n)
        present[task] = rows
        variants = [("", slow, fast)]
        if task == "CoLA":
            variants.append(("cased", slow_cased, fast_cased))
        for suffix, stok, ftok in variants:
            lines = []
            key = task + ("." + suffix if suffix else "")
            disagree[key] = 0
            for i, r in enumerate(rows):
                for c in cols:
                    ids = stok.encode(r[c], add_special_tokens=False)
                    lines.append(f"{i}\t{c}\t{' '.join(map(str, ids))}\n")
                    total += 1
                    if ftok.encode(r[c], add_special_tokens=False) != ids:
                        disagree[key] += 1
                        if len(examples) < 10:
                            examples.append((key, i, c, r[c]))
            name = f"{task}.dev.{suffix + '.' if suffix else ''}tsv.gz"
            write_gz(tdir / name, "".join(lines).encode("utf-8"))
            print(f"tokenizer: {name}: {len(lines)} lines, fast != slow on {disagree[key]}")

    pair_lines = []
    pair_disagree = 0
    for task in PAIR_TASKS:
        if task not in present:
            continue
        cols = dict((t, c) for t, _, c, _ in TASKS)[task]
        for i, r in enumerate(present[task][:PAIR_ROWS]):
            a, b = r[cols[0]], r[cols[1]]
            for m in PAIR_MAX_LENGTHS:
                enc = slow(a, b, truncation="longest_first", max_length=m)
                fenc = fast(a, b, truncation="longest_first", max_length=m)
                rec = {"task": task, "row": i, "max_length": m,
                       "input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"]}
                if fenc["input_ids"] != enc["input_ids"] or fenc["token_type_ids"] != enc["token_type_ids"]:
                    # Informational only: BertTokenizerFast splits an odd truncation budget the other way.
                    pair_disagree += 1
                    rec["fast_input_ids"] = fenc["input_ids"]
                    rec["fast_token_type_ids"] = fenc["token_type_ids"]
                pair_lines.append(json.dumps(rec, separators=(",", ":")) + "\n")
    write_gz(tdir / "pairs.jsonl.gz", "".join(pair_lines).encode("utf-8"))
    print(f"tokenizer: pairs.jsonl.gz: {len(pair_lines)} lines, fast != slow on {pair_disagree}")

    tricky_lines = []
    tricky_disagree = []
    for text in TRICKY:
        lower = slow.encode(text, add_special_tokens=False)
        cased = slow_cased.encode(text, add_special_tokens=False)
        if fast.encode(text, add_special_tokens=False) != lower:
            tricky_disagree.append(("lower", text))
        if fast_cased.encode(text, add_special_tokens=False) != cased:
            tricky_disagree.append(("cased", text))
        rec = {"text": text, "utf8_hex": text.encode("utf-8").hex(), "lower": lower, "cased": cased}
        tricky_lines.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    (tdir / "tricky.jsonl").write_text("".join(tricky_lines), encoding="utf-8")
    print(f"tokenizer: tricky.jsonl: {len(TRICKY)} strings, fast != slow on {len(tricky_disagree)}")
    for kind, text in tricky_disagree:
        ids_s = (slow if kind == "lower" else slow_cased).tokenize(text)
        ids_f = (fast if kind == "lower" else fast_cased).tokenize(text)
        print(f"  {kind} {text!r}\n    slow {ids_s}\n    fast {ids_f}")

    n_dis = sum(disagree.values())
    print(f"tokenizer: fast != slow on {n_dis} of {total} dev texts: {disagree}")
    for key, i, c, text in examples:
        stok, ftok = (slow_cased, fast_cased) if key.endswith("cased") else (slow, fast)
        s, f = stok.tokenize(text), ftok.tokenize(text)
        j = next((k for k in range(min(len(s), len(f))) if s[k] != f[k]), min(len(s), len(f)))
        print(f"  {key} row {i} col {c}: slow {s[max(0, j - 3): j + 4]} fast {f[max(0, j - 3): j + 4]}")


# ---------------------------------------------------------------- STS-B reference


def make_stsb(model_dir, glue_dir, out_dir):
    path = glue_dir / "STS-B" / "dev.tsv"
    rows = read_glue_rows(path, True, 1500)
    s1 = [r[7] for r in rows]
    s2 = [r[8] for r in rows]
    gold = np.array([float(r[9]) for r in rows], dtype=np.float64)

    st = SentenceTransformer(str(model_dir), device="cpu")
    e1 = st.encode(s1, batch_size=64, convert_to_numpy=True, show_progress_bar=False).astype(np.float64)
    e2 = st.encode(s2, batch_size=64, convert_to_numpy=True, show_progress_bar=False).astype(np.float64)
    cos = (e1 * e2).sum(1) / (np.linalg.norm(e1, axis=1) * np.linalg.norm(e2, axis=1))

    spearman = float(scipy.stats.spearmanr(cos, gold).correlation)
    pearson = float(scipy.stats.pearsonr(cos, gold)[0])

    # Cross-check with plain numpy (average ranks for ties).
    def avg_rank(x):
        order = np.argsort(x, kind="mergesort")
        ranks = np.empty(len(x))
        xs = x[order]
        i = 0
        while i < len(x):
            j = i
            while j + 1 < len(x) and xs[j + 1] == xs[i]:
                j += 1
            ranks[order[i: j + 1]] = (i + j) / 2.0 + 1.0
            i = j + 1
        return ranks

    sp_np = float(np.corrcoef(avg_rank(cos), avg_rank(gold))[0, 1])
    assert abs(sp_np - spearman) < 1e-12, (sp_np, spearman)

    out = {
        "description": "sentence-transformers all-MiniLM-L6-v2 on GLUE STS-B dev: cosine of the two sentence "
                       "embeddings per row, and its correlation with the gold score (column 9)",
        "n": len(rows),
        "spearman": spearman,
        "pearson": pearson,
        "settings": {
            "encode": "SentenceTransformer(model_dir, device='cpu').encode(sentences, batch_size=64); "
                      f"max_seq_length={st.max_seq_length}; modules Transformer -> Pooling(mean) -> Normalize",
            "cosine": "computed in float64 from the float32 embeddings; written rounded to 7 significant digits; "
                      "spearman/pearson use the unrounded values",
            "spearman": "scipy.stats.spearmanr (average ranks for ties)",
            "tokenizer": "sentence-transformers uses the fast tokenizer (tokenizer.json)",
        },
        "source": {"file": "STS-B/dev.tsv", "sha256": sha256_file(path),
                   "columns": {"sentence1": 7, "sentence2": 8, "score": 9}},
        "versions": versions(),
        "cosines": [g7(c) for c in cos],
    }
    (out_dir / "stsb_dev_reference.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"stsb: n={len(rows)} spearman={spearman:.6f} pearson={pearson:.6f}")


# ---------------------------------------------------------------- task heads

HEADS_ROWS = 16  # first data rows of each dev file
HEADS_MAX_LENGTH = 128  # headsweep's default task.max_seq_len
HEADS_MASKS = ["full", "partial_a"]
HEADS_STD = 0.5  # classifier init: normal(0, 0.5) weights and bias
# One task per head kind. id2label of the RTE head is the reverse of the task's label order
# (entailment = 0, not_entailment = 1, as in Hugging Face's GLUE processors), so that a reader which
# ignores id2label gets every prediction wrong. Seeds are fixed; seed 13 gives RTE both classes
# (at least 4 of 16 each) under both masks, with every logit margin above 0.01.
HEADS_TASKS = [
    # (key, folder, rows in dev, text columns, label column, task labels, id2label, seed)
    ("rte", "RTE", 277, (1, 2), 3, ["entailment", "not_entailment"], {0: "not_entailment", 1: "entailment"}, 13),
    ("stsb", "STS-B", 1500, (7, 8), 9, None, None, 14),
]


def make_heads(model_dir, glue_dir, out_dir):
    tok = load_slow_tokenizer(model_dir)
    masks = {m: h for m, h, _ in make_masks() if m in HEADS_MASKS}
    tensors = {f"{m}.head_mask": masks[m] for m in HEADS_MASKS}
    meta_tasks = {}
    fp32_err = {}
    for key, folder, n_rows, cols, label_col, task_labels, id2label, seed in HEADS_TASKS:
        path = glue_dir / folder / "dev.tsv"
        rows = read_glue_rows(path, True, n_rows)[:HEADS_ROWS]
        a = [r[cols[0]] for r in rows]
        b = [r[cols[1]] for r in rows]
        enc = tok(a, b, truncation="longest_first", max_length=HEADS_MAX_LENGTH, padding="longest",
                  return_tensors="pt")

        regression = task_labels is None
        kwargs = {"num_labels": 1} if regression else {
            "num_labels": len(id2label), "id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}
        model, info = BertForSequenceClassification.from_pretrained(
            str(model_dir), attn_implementation="eager", torch_dtype=torch.float32, output_loading_info=True, **kwargs)
        # Everything but the new classifier comes from the checkpoint (the pooler included).
        assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"], info["missing_keys"]
        assert not info["unexpected_keys"], info["unexpected_keys"]
        K = model.config.num_labels
        rng = np.random.default_rng(seed)
        w = rng.normal(0.0, HEADS_STD, (K, HIDDEN)).astype(np.float32)
        bias = rng.normal(0.0, HEADS_STD, (K,)).astype(np.float32)
        with torch.no_grad():
            model.classifier.weight.copy_(torch.from_numpy(w))
            model.classifier.bias.copy_(torch.from_numpy(bias))
        model.eval()
        model64 = BertForSequenceClassification.from_pretrained(
            str(model_dir), attn_implementation="eager", **kwargs)
        model64.load_state_dict(model.state_dict())
        model64 = model64.double().eval()

        tensors[f"{key}.classifier.weight"] = w
        tensors[f"{key}.classifier.bias"] = bias
        for k in ("input_ids", "token_type_ids", "attention_mask"):
            tensors[f"{key}.{k}"] = enc[k].numpy().astype(np.int64)

        def logits_of(m, hmask):
            with torch.no_grad():
                return m(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                         token_type_ids=enc["token_type_ids"],
                         head_mask=None if hmask is None else torch.from_numpy(hmask).to(m.dtype)).logits

        assert torch.equal(logits_of(model, None), logits_of(model, masks["full"])), \
            "all-ones head_mask must equal no head_mask"
        if regression:
            gold = np.array([float(r[label_col]) for r in rows], dtype=np.float64)
            tensors[f"{key}.label"] = gold
        else:
            gold = np.array([task_labels.index(r[label_col]) for r in rows], dtype=np.int64)
            tensors[f"{key}.label"] = gold
            class_map = [task_labels.index(id2label[k]) for k in range(K)]

        per_mask = {}
        fp32_err[key] = {}
        for mname in HEADS_MASKS:
            logits = logits_of(model, masks[mname])
            logits64 = logits_of(model64, masks[mname])
            tensors[f"{key}.{mname}.logits"] = logits.numpy()
            fp32_err[key][mname] = float("%.3g" % (logits.double() - logits64).abs().max().item())
            if regression:
                pred = logits[:, 0].double().numpy()
                gaps = np.diff(np.sort(pred))
                per_mask[mname] = {
                    "predictions": [float(x) for x in logits[:, 0].numpy()],
                    "pearson": float(scipy.stats.pearsonr(pred, gold)[0]),
                    "spearman": float(scipy.stats.spearmanr(pred, gold).correlation),
                    "min_prediction_gap": float("%.3g" % gaps.min()),
                }
            else:
                cls = logits.argmax(-1).numpy()
                labels = [class_map[c] for c in cls]
                counts = [labels.count(i) for i in range(K)]
                srt = logits.sort(-1, descending=True).values
                margin = float((srt[:, 0] - srt[:, 1]).min())
                assert min(counts) >= 4, f"{key} {mname}: predicted class counts {counts}; pick another seed"
                assert margin > 0.01, f"{key} {mname}: smallest logit margin {margin}; pick another seed"
                per_mask[mname] = {
                    "predicted_class_ids": [int(c) for c in cls],
                    "predicted_labels": labels,
                    "predicted_label_names": [task_labels[i] for i in labels],
                    "predicted_label_counts": counts,
                    "accuracy": float(np.mean(np.array(labels) == gold)),
                    "min_logit_margin": float("%.3g" % margin),
                }
        if not regression:
            assert per_mask["full"]["predicted_labels"] != per_mask["partial_a"]["predicted_labels"], \
                "the mask should change at least one prediction"

        cfg = model.config
        config = {"architectures": ["BertForSequenceClassification"], "num_labels": K,
                  "id2label": {str(k): v for k, v in cfg.id2label.items()},
                  "label2id": {k: int(v) for k, v in cfg.label2id.items()}}
        entry = {
            "task": key,
            "source": {"file": f"{folder}/dev.tsv", "sha256": sha256_file(path), "rows": list(range(HEADS_ROWS)),
                       "text_columns": list(cols), "label_column": label_col},
            "head": "regression" if regression else "classification",
            "config": config,
            "classifier_init": {"rng": f"numpy.random.default_rng({seed})", "weight": f"normal(0, {HEADS_STD}) ({K}, {HIDDEN})",
                                "bias": f"normal(0, {HEADS_STD}) ({K},), drawn after the weight"},
            "sequence_lengths": enc["attention_mask"].sum(1).tolist(),
            "T": int(enc["input_ids"].shape[1]),
            "gold": gold.tolist(),
            "masks": per_mask,
        }
        if not regression:
            entry["task_labels"] = task_labels
            entry["class_map"] = class_map
        meta_tasks[key] = entry
        print(f"heads: {key}: K={K} T={entry['T']} " + "; ".join(
            f"{m}: " + (f"accuracy {v['accuracy']:.4f} counts {v['predicted_label_counts']}" if not regression
                        else f"pearson {v['pearson']:.6f} spearman {v['spearman']:.6f}")
            for m, v in per_mask.items()))

    for k, v in tensors.items():
        assert v.dtype in (np.float32, np.float64, np.int64), (k, v.dtype)
    st_path = out_dir / "heads.safetensors"
    save_file({k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())}, str(st_path),
              metadata={"format": "np", "description": "headsweep golden task-head outputs; see heads.json"})
    os.chmod(st_path, 0o644)
    meta = {
        "description": "Hugging Face BertForSequenceClassification logits for the first 16 rows of RTE and STS-B dev, "
                       "built from all-MiniLM-L6-v2 (encoder and pooler) plus a seeded classifier; "
                       "tensors in heads.safetensors",
        "model": {
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "model.safetensors sha256": sha256_file(model_dir / "model.safetensors"),
            "vocab.txt sha256": sha256_file(model_dir / "vocab.txt"),
            "checkpoint": "the MiniLM config.json plus each task's \"config\" below; every MiniLM tensor under the "
                          "\"bert.\" prefix, and classifier.weight / classifier.bias = <task>.classifier.*",
        },
        "settings": {
            "tokenizer": "slow BertTokenizer from the model folder; tok(sentence1, sentence2, "
                         f"truncation='longest_first', max_length={HEADS_MAX_LENGTH}, padding='longest')",
            "model": "BertForSequenceClassification.from_pretrained(model_dir, num_labels=..., id2label=..., "
                     "attn_implementation='eager'), classifier overwritten, eval(), float32, torch.no_grad(), "
                     "1 CPU thread; logits = classifier(tanh(pooler(h[CLS])))",
            "head_mask": "the full and partial_a masks of minilm_forward.json, passed as head_mask=(6, 12)",
            "predicted_labels": "task label indices (the task's label order, entailment = 0 for RTE): "
                                "class_map[argmax logits], class_map[k] = task_labels.index(id2label[k])",
            "accuracy": "mean(predicted_labels == gold) over the 16 rows",
            "pearson/spearman": "scipy.stats.pearsonr / spearmanr of the float32 logits (as float64) against the gold "
                                "scores",
        },
        "layout_notes": {
            "<m>.head_mask": "(6, 12) float32, 1 = head kept",
            "<task>.classifier.weight": "(K, 384) float32; K = 2 (rte), 1 (stsb)",
            "<task>.classifier.bias": "(K,) float32",
            "<task>.input_ids / token_type_ids / attention_mask": "(16, T) int64, [CLS] a [SEP] b [SEP], padded",
            "<task>.<m>.logits": "(16, K) float32",
            "rte.label": "(16,) int64 gold label in task order",
            "stsb.label": "(16,) float64 gold score",
        },
        "tasks": meta_tasks,
        "fp32_vs_fp64_max_abs": {
            "description": "max |float32 logits - same model in float64| per task and mask",
            **fp32_err,
        },
        "tensors": {k: {"dtype": str(tensors[k].dtype), "shape": list(tensors[k].shape)} for k in sorted(tensors)},
        "versions": versions(),
    }
    (out_dir / "heads.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(f"heads: {len(tensors)} tensors, {st_path.stat().st_size} bytes in {st_path.name}")


# ---------------------------------------------------------------- importance

IMPORTANCE_PAIRS = 24       # first STS-B dev pairs
IMPORTANCE_BATCH = 8        # examples per backward pass, in file order


def michel_importance(batches, losses, m, last_layer_by_examples):
    """Michel et al.'s variant: a 5-D head mask (L, rows, H, T, 1), one gate per query token, whose
    gradient times the gate is the per-token dot of a head's context with its gradient (their code
    takes the context after the mask, so a pruned head scores 0); loss summed per batch; every layer
    divided by the real tokens, the last by the examples where only [CLS] reaches the loss."""
    acc = torch.zeros(N_LAYERS, N_HEADS, dtype=torch.float64)
    tokens, examples, loss_sum = 0, 0, 0.0
    for enc, gold in batches:
        R, T = enc["input_ids"].shape
        g = m.view(N_LAYERS, 1, N_HEADS, 1, 1).expand(N_LAYERS, R, N_HEADS, T, 1).clone().requires_grad_(True)
        ls = losses(enc, gold, g)
        loss_sum += float(ls.sum())
        ls.sum().backward()
        acc += (g.grad.double() * g.detach().double()).abs().sum(dim=(1, 3, 4))
        tokens += int(enc["attention_mask"].sum())
        examples += len(gold)
    raw = acc / tokens
    if last_layer_by_examples:
        raw[-1] = acc[-1] / examples
    norm = raw / (raw.pow(2).sum(-1).pow(0.5).unsqueeze(-1) + 1e-20)
    return {"raw": raw.tolist(), "normalized": norm.tolist(),
            "tokens": tokens, "examples": examples, "mean_loss": loss_sum / examples}


def bertology_importance(batches, losses, m):
    """run_bertology.compute_heads_importance without the entropy part: one (L, H) head mask whose
    .grad is never zeroed, head_importance += grad.abs() after every batch; loss averaged."""
    head_mask = m.clone().requires_grad_(True)
    head_importance = torch.zeros(N_LAYERS, N_HEADS, dtype=torch.float64)
    tot_tokens = 0.0
    for enc, gold in batches:
        loss = losses(enc, gold, head_mask).mean()
        loss.backward()
        head_importance += head_mask.grad.double().abs().detach()
        tot_tokens += float(enc["attention_mask"].float().sum())
    raw = head_importance / tot_tokens
    norm = raw / (raw.pow(2).sum(-1).pow(0.5).unsqueeze(-1) + 1e-20)
    norm = (norm - norm.min()) / (norm.max() - norm.min())
    return {"raw": raw.tolist(), "normalized": norm.tolist(), "tokens": int(tot_tokens)}


def make_importance(model_dir, glue_dir, out_dir):
    """Gradient head importance of the MiniLM similarity head on STS-B, both published variants.

    The loss is the squared error between the cosine of the two mean-pooled sentence embeddings and
    gold / 5; batches are IMPORTANCE_BATCH consecutive pairs, each sentence its own row (a0, b0, a1,
    b1, ...), padded to the batch's longest. michel: a 5-D head mask (L, rows, H, T, 1), one gate
    per query token, whose gradient is Michel et al.'s per-token dot of context and its gradient,
    times the head's gate (their code saves the context after the mask: a pruned head scores 0);
    loss summed; every layer divided by the real tokens, since with mean pooling every token's
    last-layer output reaches the loss (their division of the last layer by the examples is for
    [CLS]-pooled models, which michel_cls.* checks: the same similarity head pooled from [CLS]). bertology: run_bertology.py's loop verbatim: one (L, H) head mask whose .grad is
    never zeroed, head_importance += head_mask.grad.abs() after every batch; loss averaged.
    """
    tok = load_slow_tokenizer(model_dir)
    model = BertModel.from_pretrained(str(model_dir), attn_implementation="eager", torch_dtype=torch.float32).eval()
    model.requires_grad_(False)  # only the head masks' gradients are wanted
    path = glue_dir / "STS-B" / "dev.tsv"
    rows = read_glue_rows(path, True, 1500)[:IMPORTANCE_PAIRS]
    pruned = np.ones((N_LAYERS, N_HEADS), dtype=np.float32)
    pruned[0, 3] = 0
    pruned[2, [1, 7]] = 0
    pruned[5, :6] = 0
    batches = []
    for first in range(0, len(rows), IMPORTANCE_BATCH):
        chunk = rows[first:first + IMPORTANCE_BATCH]
        enc = tok([s for r in chunk for s in (r[7], r[8])], padding="longest", truncation=True,
                  max_length=MAX_LENGTH, return_tensors="pt")
        gold = torch.tensor([float(r[9]) / 5.0 for r in chunk])
        batches.append((enc, gold))

    def losses(enc, gold, head_mask, cls_pooling=False):
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                    token_type_ids=enc["token_type_ids"], head_mask=head_mask).last_hidden_state
        pooled = out[:, 0] if cls_pooling else mean_pool(out, enc["attention_mask"])
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1, eps=1e-12)
        cos = (pooled[0::2] * pooled[1::2]).sum(-1)
        return (cos - gold) ** 2

    result = {}
    for mname, mask in (("full", np.ones((N_LAYERS, N_HEADS), dtype=np.float32)), ("pruned", pruned)):
        m = torch.from_numpy(mask)
        result[f"michel.{mname}"] = michel_importance(batches, losses, m, last_layer_by_examples=False)
        result[f"michel_cls.{mname}"] = michel_importance(
            batches, lambda enc, gold, g: losses(enc, gold, g, cls_pooling=True), m, last_layer_by_examples=True)
        result[f"bertology.{mname}"] = bertology_importance(batches, losses, m)
    rte_path = classifier_importance(model_dir, glue_dir, out_dir, tok, pruned, result)
    doc = {
        "description": "Gradient head importance of all-MiniLM-L6-v2 on the first STS-B dev pairs "
                       "(make_golden.py make_importance), and of the RTE classifier of heads.json "
                       "(*_classifier.*) on the first RTE dev pairs; (L, H) lists, layer-major.",
        "pairs": IMPORTANCE_PAIRS, "batch_size": IMPORTANCE_BATCH, "pruned_mask": pruned.astype(int).tolist(),
        "source": {"file": "STS-B/dev.tsv", "sha256": sha256_file(path)},
        "classifier_source": {"file": "RTE/dev.tsv", "sha256": sha256_file(rte_path),
                              "classifier": "rte in heads.safetensors (BertForSequenceClassification on the "
                                            "checkpoint's pooler)"},
        "versions": versions(),
        "results": result,
    }
    (out_dir / "importance.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"importance: michel full L0 {[round(x, 5) for x in result['michel.full']['raw'][0][:4]]} ...")


def classifier_importance(model_dir, glue_dir, out_dir, tok, pruned, result):
    """Both variants for a classifier on BERT's pooler: the RTE head of heads.safetensors on the first
    IMPORTANCE_PAIRS RTE dev pairs (one row each), cross-entropy on the gold class. Only [CLS]'s
    last-layer output reaches the pooler, so michel divides the last layer by the examples, as the
    authors' code does for BERT on MNLI; the other layers by the real tokens. Adds
    michel_classifier.* and bertology_classifier.* to result; returns the data file's path."""
    key, folder, n_rows, cols, label_col, task_labels, id2label, _ = HEADS_TASKS[0]
    assert key == "rte"
    heads = load_file(str(out_dir / "heads.safetensors"))
    model = BertForSequenceClassification.from_pretrained(
        str(model_dir), attn_implementation="eager", torch_dtype=torch.float32, num_labels=len(id2label),
        id2label=id2label, label2id={v: k for k, v in id2label.items()})
    with torch.no_grad():
        model.classifier.weight.copy_(torch.from_numpy(heads["rte.classifier.weight"]))
        model.classifier.bias.copy_(torch.from_numpy(heads["rte.classifier.bias"]))
    model.eval()
    model.requires_grad_(False)
    path = glue_dir / folder / "dev.tsv"
    rows = read_glue_rows(path, True, n_rows)[:IMPORTANCE_PAIRS]
    batches = []
    for first in range(0, len(rows), IMPORTANCE_BATCH):
        chunk = rows[first:first + IMPORTANCE_BATCH]
        enc = tok([r[cols[0]] for r in chunk], [r[cols[1]] for r in chunk], truncation="longest_first",
                  max_length=HEADS_MAX_LENGTH, padding="longest", return_tensors="pt")
        gold = torch.tensor([model.config.label2id[r[label_col]] for r in chunk])
        batches.append((enc, gold))

    def losses(enc, gold, head_mask):
        logits = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                       token_type_ids=enc["token_type_ids"], head_mask=head_mask).logits
        return torch.nn.functional.cross_entropy(logits, gold, reduction="none")

    for mname, mask in (("full", np.ones((N_LAYERS, N_HEADS), dtype=np.float32)), ("pruned", pruned)):
        m = torch.from_numpy(mask)
        result[f"michel_classifier.{mname}"] = michel_importance(batches, losses, m, last_layer_by_examples=True)
        result[f"bertology_classifier.{mname}"] = bertology_importance(batches, losses, m)
    return path


# ---------------------------------------------------------------- attention statistics

ATTENTION_PAIRS = 16  # first STS-B dev pairs, each sentence encoded alone


def make_attention(model_dir, glue_dir, out_dir):
    """Per-head attention statistics (Clark et al. 2019, Voita et al. 2019) from transformers'
    output_attentions: for each real query token, the mass on [CLS], on [SEP], on "." and ","
    (Clark et al.'s punctuation), the weight on itself, on the previous and next token, the entropy
    (nats) and the largest weight on a token other than [CLS] and [SEP] (Voita et al.'s confidence
    leaves out the end-of-sentence token); averaged over each sentence's real query tokens, then over
    the 32 sentences, as Clark et al. average. float64 arithmetic on the float32 probabilities."""
    tok = load_slow_tokenizer(model_dir)
    model = BertModel.from_pretrained(str(model_dir), attn_implementation="eager", torch_dtype=torch.float32).eval()
    path = glue_dir / "STS-B" / "dev.tsv"
    rows = read_glue_rows(path, True, 1500)[:ATTENTION_PAIRS]
    enc = tok([s for r in rows for s in (r[7], r[8])], padding="longest", truncation=True, max_length=MAX_LENGTH,
              return_tensors="pt")
    vocab = tok.convert_ids_to_tokens(list(range(tok.vocab_size)))
    punct_ids = torch.tensor([t in (".", ",") for t in vocab], dtype=torch.float64)
    with torch.no_grad():
        att = model(**enc, output_attentions=True).attentions
    ids, real = enc["input_ids"], enc["attention_mask"].double()
    B, T = ids.shape
    keys = {"cls": (ids == tok.cls_token_id).double() * real, "sep": (ids == tok.sep_token_id).double() * real,
            "punct": punct_ids[ids] * real}
    q = (real / real.sum(1, keepdim=True)).view(B, 1, T)  # each sentence's mean over its tokens
    not_special = (real - keys["cls"] - keys["sep"]).view(B, 1, 1, T)
    tokens = float(real.sum())
    out = {k: [] for k in ("cls", "sep", "punct", "self", "prev", "next", "entropy", "confidence")}
    for p in att:
        p = p.double()
        zero = torch.zeros(B, p.shape[1], 1, dtype=torch.float64)
        per_query = {
            "cls": (p * keys["cls"].view(B, 1, 1, T)).sum(-1),
            "sep": (p * keys["sep"].view(B, 1, 1, T)).sum(-1),
            "punct": (p * keys["punct"].view(B, 1, 1, T)).sum(-1),
            "self": torch.diagonal(p, 0, -2, -1),
            "prev": torch.cat([zero, torch.diagonal(p, -1, -2, -1)], -1),
            "next": torch.cat([torch.diagonal(p, 1, -2, -1), zero], -1),
            "entropy": -torch.special.xlogy(p, p).sum(-1),
            "confidence": (p * not_special).max(-1).values,
        }
        for k, v in per_query.items():
            out[k].append(((v * q).sum((0, 2)) / B).tolist())
    doc = {
        "description": "Attention statistics per head of all-MiniLM-L6-v2 over the sentences of the first STS-B dev "
                       "pairs (make_golden.py make_attention); (L, H) lists.",
        "pairs": ATTENTION_PAIRS, "tokens": int(tokens), "sequences": B,
        "punctuation_tokens": int(punct_ids.sum()),
        "source": {"file": "STS-B/dev.tsv", "sha256": sha256_file(path)},
        "versions": versions(),
        "statistics": out,
    }
    (out_dir / "attention.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"attention: {int(tokens)} tokens, {int(punct_ids.sum())} punctuation tokens in the vocabulary")


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "all-MiniLM-L6-v2",
                    help="Hugging Face model folder (default: models/all-MiniLM-L6-v2)")
    ap.add_argument("--glue", type=Path,
                    default=Path(os.environ["GLUE_DIR"]) if os.environ.get("GLUE_DIR") else None,
                    required=not os.environ.get("GLUE_DIR"),
                    help="GLUE data folder with <TASK>/dev.tsv (default: $GLUE_DIR)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: tests/golden)")
    ap.add_argument("--only", choices=["forward", "tokenizer", "stsb", "heads", "importance", "attention"], action="append",
                    help="write only these fixture groups (repeatable; default: all)")
    args = ap.parse_args()

    torch.manual_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    parts = args.only or ["forward", "tokenizer", "stsb", "heads", "importance", "attention"]
    if "forward" in parts:
        make_forward(args.model, args.glue, args.out)
    if "tokenizer" in parts:
        make_tokenizer(args.model, args.glue, args.out)
    if "stsb" in parts:
        make_stsb(args.model, args.glue, args.out)
    if "heads" in parts:
        make_heads(args.model, args.glue, args.out)
    if "importance" in parts:
        make_importance(args.model, args.glue, args.out)
    if "attention" in parts:
        make_attention(args.model, args.glue, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
