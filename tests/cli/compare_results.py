#!/usr/bin/python3
"""Compares two headsweep results files with h5py, as a user would check that a merged or resumed
file equals an uninterrupted run's.

usage: compare_results.py A.h5 B.h5 [--ignore-attrs created,merged_from] [--score-tol 1e-12]

Both files must be complete with every mask done; they must have the same root attributes (except
the ignored ones), the same datasets with the same shapes and dtypes, equal masks, mask names,
examples and predictions, and scores within --score-tol. Prints what differs and exits 1 otherwise.
"""
import argparse
import sys

import h5py
import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--ignore-attrs", default="created")
    ap.add_argument("--score-tol", type=float, default=1e-12)
    args = ap.parse_args()
    ignored = set(filter(None, args.ignore_attrs.split(",")))
    problems = []
    with h5py.File(args.a, "r") as a, h5py.File(args.b, "r") as b:
        keys_a = set(a.attrs.keys()) - ignored
        keys_b = set(b.attrs.keys()) - ignored
        if keys_a != keys_b:
            problems.append(f"root attributes differ: {sorted(keys_a ^ keys_b)}")
        for k in sorted(keys_a & keys_b):
            if not np.array_equal(np.asarray(a.attrs[k]), np.asarray(b.attrs[k])):
                problems.append(f"attribute {k}: {a.attrs[k]!r} vs {b.attrs[k]!r}")
        for f, name in ((a, args.a), (b, args.b)):
            if int(f.attrs["complete"]) != 1:
                problems.append(f"{name} is not complete")
            if not f["masks_done"][()].all():
                problems.append(f"{name}: masks not done: {np.flatnonzero(f['masks_done'][()] == 0).tolist()}")

        objects_a, objects_b = [], []
        a.visit(objects_a.append)
        b.visit(objects_b.append)
        if objects_a != objects_b:
            problems.append(f"objects differ: {objects_a} vs {objects_b}")
        for name in objects_a:
            if name not in b or not isinstance(a[name], h5py.Dataset):
                continue
            da, db = a[name], b[name]
            if da.shape != db.shape or da.dtype != db.dtype:
                problems.append(f"/{name}: {da.shape} {da.dtype} vs {db.shape} {db.dtype}")
                continue
            x, y = da[()], db[()]
            if name.startswith("scores/"):
                if not np.array_equal(np.isnan(x), np.isnan(y)):
                    problems.append(f"/{name}: NaN in different rows")
                diff = np.nanmax(np.abs(x - y)) if x.size else 0.0
                if diff > args.score_tol:
                    problems.append(f"/{name}: largest difference {diff!r} > {args.score_tol}")
            elif not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                rows = np.flatnonzero((x != y).reshape(len(x), -1).any(axis=1)) if x.ndim else []
                problems.append(f"/{name} differs (rows {list(rows)[:10]})")
    for p in problems:
        print(f"compare_results.py: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
