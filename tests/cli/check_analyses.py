#!/usr/bin/python3
"""Checks the analyses in a headsweep results file with h5py, re-deriving what can be re-derived:
the ablation importance from the stored scores, each gradient method's agreement with it, and the
ranges of the attention statistics.

usage: check_analyses.py FILE METHOD
"""
import sys

import h5py
import numpy as np


def average_ranks(x):
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for v in np.unique(x):
        r[x == v] = r[x == v].mean()
    return r


def main() -> int:
    path, method = sys.argv[1], sys.argv[2]
    with h5py.File(path, "r") as f:
        L, H = int(f.attrs["n_layers"]), int(f.attrs["n_heads"])
        metric = f.attrs["metrics"][0]
        metric = metric.decode() if isinstance(metric, bytes) else metric
        masks, scores = f["masks"][()], f["scores"][metric][()]
        # Ablation: baseline minus the score of the mask removing exactly that head.
        expected = np.full((L, H), np.nan)
        base = scores[np.flatnonzero(masks.reshape(len(masks), -1).all(1))[0]]
        for n, m in enumerate(masks):
            off = np.argwhere(m == 0)
            if len(off) == 1:
                expected[off[0][0], off[0][1]] = base - scores[n]
        ablation = f["importance/ablation"][()]
        assert ablation.shape == (L, H)
        assert np.allclose(ablation, expected, atol=1e-12, equal_nan=True), (ablation, expected)
        imp = f[f"importance/{method}"][()]
        raw = f[f"importance/{method}_raw"][()]
        assert imp.shape == (L, H) and raw.shape == (L, H) and np.isfinite(imp).all() and (raw >= 0).all()
        d = f[f"importance/{method}"]
        assert int(d.attrs["examples"]) > 0 and int(d.attrs["tokens"]) > 0 and np.isfinite(d.attrs["mean_loss"])
        if int(d.attrs["normalized"]):
            if method == "michel":
                assert np.allclose(np.linalg.norm(imp, axis=1), 1.0), np.linalg.norm(imp, axis=1)
            else:
                assert imp.min() == 0.0 and imp.max() == 1.0
        ok = np.isfinite(ablation.ravel())
        rho = np.corrcoef(average_ranks(imp.ravel()[ok]), average_ranks(ablation.ravel()[ok]))[0, 1]
        stored = f[f"importance/{method}_vs_ablation"][0]
        assert abs(rho - stored) < 1e-9, (rho, stored)
        att = f["attention"]
        assert int(att.attrs["tokens"]) > 0
        names = sorted(att.keys())
        assert names == sorted(["cls", "sep", "punct", "self", "prev", "next", "entropy", "confidence"]), names
        for k in names:
            v = att[k][()]
            assert v.shape == (L, H) and np.isfinite(v).all(), k
            assert len(att[k].attrs["description"]) > 0
            if k != "entropy":
                assert (v >= 0).all() and (v <= 1 + 1e-9).all(), k
        assert (att["entropy"][()] >= 0).all()
        assert (att["cls"][()] + att["sep"][()] <= 1 + 1e-9).all()
        # Confidence is the largest weight on a token other than [CLS] and [SEP], so per query it is
        # at most the mass left after those two, and so is its mean.
        assert (att["confidence"][()] <= 1 - att["cls"][()] - att["sep"][()] + 1e-9).all()
        assert (att["confidence"][()] > 0).all()
    print(f"{path}: analyses ok (agreement {rho:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
