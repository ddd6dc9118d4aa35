#!/usr/bin/python3
"""Checks the pruning curves of a headsweep results file with h5py: every step's mask removes
exactly heads_pruned heads, each step's mask contains the next one's (heads once removed stay
removed), the importance order removes the least important heads of a fixed ranking first, the
stored scores are the masks' scores, and the two summaries follow from them.

usage: check_pruning.py FILE ORDER... (e.g. importance random-0 random-1)
"""
import sys

import h5py
import numpy as np


def main() -> int:
    path, orders = sys.argv[1], sys.argv[2:]
    with h5py.File(path, "r") as f:
        L, H = int(f.attrs["n_layers"]), int(f.attrs["n_heads"])
        metric = f.attrs["metrics"][0]
        metric = metric.decode() if isinstance(metric, bytes) else metric
        masks, scores = f["masks"][()], f["scores"][metric][()]
        p_all = f["bootstrap"][f"{metric}_delta_p"][()] if "bootstrap" in f else None
        pr = f["pruning"]
        tol, alpha = float(pr.attrs["tolerance"]), float(pr.attrs["alpha"])
        assert sorted(pr.keys()) == sorted(orders), (list(pr.keys()), orders)
        for name in orders:
            g = pr[name]
            frac, hp, idx, sc = g["fraction"][()], g["heads_pruned"][()], g["mask"][()], g["score"][()]
            assert hp[0] == 0 and masks[idx[0]].all(), "step 0 is the full model"
            assert np.allclose(frac, hp / (L * H))
            for s in range(len(idx)):
                assert (masks[idx[s]] == 0).sum() == hp[s], (name, s)
                if s > 0:
                    assert (masks[idx[s]] <= masks[idx[s - 1]]).all(), f"{name}: a removed head came back"
            assert np.array_equal(sc, scores[idx]), name
            if name == "importance" and "importance/michel" in f:
                imp = f["importance/michel"][()].ravel()
                removed = np.flatnonzero(masks[idx[1]].ravel() == 0)
                kept = np.flatnonzero(masks[idx[1]].ravel() == 1)
                assert imp[removed].max() <= imp[kept].min(), "importance order: least important first"
            drop = sc[0] - sc
            ok = np.cumprod(drop <= tol).astype(bool)
            assert g["within_tolerance"][0] == frac[ok].max(), (g["within_tolerance"][0], frac[ok].max())
            if p_all is not None:
                quiet = np.cumprod((drop <= 0) | (p_all[idx] >= alpha)).astype(bool)
                assert g["not_significant"][0] == frac[quiet].max()
                assert np.array_equal(g["p_value"][()], p_all[idx])
    print(f"{path}: pruning ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
