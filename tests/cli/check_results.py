"""Reads a headsweep results file with h5py and checks its structure and values.

Usage: check_results.py FILE --masks N --examples B --layers L --heads H
"""
import argparse
import math
import sys

import h5py
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--masks", type=int, required=True)
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    a = ap.parse_args()
    N, B, L, H = a.masks, a.examples, a.layers, a.heads
    with h5py.File(a.path, "r") as f:
        assert f.attrs["schema_version"] == 1, f.attrs["schema_version"]
        assert int(f.attrs["complete"]) == 1
        assert f.attrs["n_layers"] == L and f.attrs["n_heads"] == H
        assert int(f.attrs["n_examples"]) == B
        assert len(f.attrs["model_sha256"]) == 64
        assert "task:" in f.attrs["config"]
        masks = f["masks"][()]
        assert masks.shape == (N, L, H) and masks.dtype == np.uint8, (masks.shape, masks.dtype)
        assert masks[0].all(), "mask 0 must be the baseline"
        if N == 1 + L * H:  # single-head: each later mask removes exactly one head, each head once
            removed = (masks[1:] == 0).reshape(N - 1, L * H)
            assert (removed.sum(1) == 1).all() and (removed.sum(0) == 1).all()
        assert f["masks_done"][()].all()
        metrics = [m.decode() if isinstance(m, bytes) else m for m in f.attrs["metrics"]]
        for m in metrics:
            s = f["scores"][m][()]
            assert s.shape == (N,) and s.dtype == np.float64
            assert np.isfinite(s).all(), m
            assert -1.0 <= s.min() and s.max() <= 1.0
        preds = f["predictions"][()]
        assert preds.shape == (N, B), preds.shape
        assert np.isfinite(preds).all()
        labels = f["examples/label"][()]
        assert labels.shape == (B,)
        # The stored baseline score must follow from the stored predictions and labels.
        if "spearman" in metrics:
            def ranks(x):
                order = np.argsort(x, kind="mergesort")
                r = np.empty(len(x))
                r[order] = np.arange(len(x))
                # average ranks for ties
                for v in np.unique(x):
                    idx = x == v
                    r[idx] = r[idx].mean()
                return r
            rho = np.corrcoef(ranks(preds[0].astype(np.float64)), ranks(labels))[0, 1]
            assert math.isclose(rho, f["scores/spearman"][0], abs_tol=1e-6), (rho, f["scores/spearman"][0])
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                assert "description" in obj.attrs and len(obj.attrs["description"]) > 0, name
        f.visititems(visit)
    print(f"{a.path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
