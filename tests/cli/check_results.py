"""Reads a headsweep results file with h5py and checks its structure and values.

Usage: check_results.py FILE --masks N --examples B --layers L --heads H [--bootstrap]
"""
import argparse
import math
import sys

import h5py
import numpy as np


MASK64 = (1 << 64) - 1


class MT19937_64:
    """std::mt19937_64 (C++ [rand.predef]), written out to check headsweep's resamples independently."""

    def __init__(self, seed):
        self.mt = [seed & MASK64]
        for i in range(1, 312):
            prev = self.mt[-1]
            self.mt.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & MASK64)
        self.i = 312

    def __call__(self):
        if self.i >= 312:
            upper, lower = MASK64 & ~((1 << 31) - 1), (1 << 31) - 1
            for k in range(312):
                x = (self.mt[k] & upper) | (self.mt[(k + 1) % 312] & lower)
                xa = x >> 1
                if x & 1:
                    xa ^= 0xB5026F5AA96619E9
                self.mt[k] = self.mt[(k + 156) % 312] ^ xa
            self.i = 0
        y = self.mt[self.i]
        self.i += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK64


def uniform_below(n, rng):
    """Lemire's multiply-and-reject, as metrics/bootstrap.h does it."""
    threshold = ((1 << 64) - n) % n
    while True:
        m = rng() * n
        if (m & MASK64) >= threshold:
            return m >> 64


def average_ranks(x):
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for v in np.unique(x):
        idx = x == v
        r[idx] = r[idx].mean()
    return r


def metric_value(name, pred, gold):
    if name == "pearson":
        return np.corrcoef(pred, gold)[0, 1] if pred.std() > 0 and gold.std() > 0 else np.nan
    if name == "spearman":
        return np.corrcoef(average_ranks(pred), average_ranks(gold))[0, 1] if pred.std() > 0 and gold.std() > 0 else np.nan
    if name == "accuracy":
        return float((pred == gold).mean())
    return None  # not re-derived here


def check_bootstrap(f, metrics, rows_to_check):
    """Recomputes the paired bootstrap of a few masks from the stored predictions and labels."""
    check = MT19937_64(5489)
    for _ in range(9999):
        check()
    assert check() == 9981545732273789042, "the MT19937_64 here is not the standard's"
    g = f["bootstrap"]
    R, conf, seed = int(g.attrs["resamples"]), float(g.attrs["confidence"]), int(g.attrs["seed"])
    labels = f["examples/label"][()]
    B = len(labels)
    rng = MT19937_64(seed)
    idx = np.array([uniform_below(B, rng) for _ in range(R * B)]).reshape(R, B)
    preds = f["predictions"][()].astype(np.float64)
    tail = (1 - conf) / 2 * 100
    for m in metrics:
        base = np.array([metric_value(m, preds[0][i], labels[i]) for i in idx])
        if base[0] is None:
            continue
        for n in rows_to_check:
            vals = np.array([metric_value(m, preds[n][i], labels[i]) for i in idx])
            delta = vals - base
            ok, okd = ~np.isnan(vals), ~np.isnan(delta)
            ci = np.percentile(vals[ok], [tail, 100 - tail])
            dci = np.percentile(delta[okd], [tail, 100 - tail])
            d = delta[okd]
            p = min(1.0, 2 * (min((d <= 0).sum(), (d >= 0).sum()) + 1) / (len(d) + 1))
            assert np.allclose(g[f"{m}_ci"][n], ci, atol=1e-9), (m, n, g[f"{m}_ci"][n], ci)
            assert np.allclose(g[f"{m}_delta_ci"][n], dci, atol=1e-9), (m, n, g[f"{m}_delta_ci"][n], dci)
            assert math.isclose(g[f"{m}_delta_p"][n], p, abs_tol=1e-12), (m, n, g[f"{m}_delta_p"][n], p)
        assert (g[f"{m}_delta_ci"][0] == 0).all() and g[f"{m}_delta_p"][0] == 1.0, "the baseline against itself"
        assert np.isfinite(g[f"{m}_ci"][()]).all(), m


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--masks", type=int, required=True)
    ap.add_argument("--examples", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--bootstrap", action="store_true", help="recompute a few masks' bootstrap intervals")
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
            rho = np.corrcoef(average_ranks(preds[0].astype(np.float64)), average_ranks(labels))[0, 1]
            assert math.isclose(rho, f["scores/spearman"][0], abs_tol=1e-6), (rho, f["scores/spearman"][0])
        if a.bootstrap:
            assert "bootstrap" in f, "no /bootstrap group"
            check_bootstrap(f, metrics, [0, 1, N - 1])
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                assert "description" in obj.attrs and len(obj.attrs["description"]) > 0, name
        f.visititems(visit)
    print(f"{a.path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
