"""GLUE reading and sentence-embedding helpers shared by make_golden.py and benchmarks/torch_loop.py,
so the goldens and the benchmark's comparison loop read and pool exactly alike."""
import torch


def read_glue_rows(path, has_header, n_expected=None):
    """Split on '\\n' and '\\t' only (no quote handling), as headsweep reads GLUE; returns data rows.
    n_expected: the row count the file must have (None: any)."""
    text = path.read_bytes().decode("utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # trailing newline (CoLA dev has none)
    if has_header:
        lines = lines[1:]
    rows = [line.split("\t") for line in lines]
    assert n_expected is None or len(rows) == n_expected, f"{path}: {len(rows)} rows, expected {n_expected}"
    ncol = len(rows[0])
    assert all(len(r) == ncol for r in rows), f"{path}: ragged rows"
    assert not any("\r" in line for line in lines), f"{path}: CR found"
    return rows


def mean_pool(last_hidden, attention_mask):
    """sentence-transformers Pooling(mean): masked mean of the last hidden state."""
    m = attention_mask.unsqueeze(-1).expand(last_hidden.size()).to(last_hidden.dtype)
    return (last_hidden * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)


def cosine_pairs(pooled):
    a = pooled[0::2].double()
    b = pooled[1::2].double()
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
