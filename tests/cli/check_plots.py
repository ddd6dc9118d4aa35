#!/usr/bin/python3
"""Checks scripts/plot_results.py against the files it plots: every heat map's cells, bar, curve and
point are read back from the matplotlib figures and compared with values worked out here from the
mask names and datasets with h5py (not through the script's own mask classification), and the
command's files, warnings and errors are checked.

usage: check_plots.py PLOT_RESULTS.py HEADS.h5 PRUNING.h5 LAYERS.h5 WORK_DIR
  HEADS.h5    single-head + leave-one-in masks, gradient importance, attention statistics, bootstrap
  PRUNING.h5  pruning curves (importance, ablation and random orders), bootstrap
  LAYERS.h5   layer + random masks, bootstrap
"""
import contextlib
import importlib.util
import io
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np

spec = importlib.util.spec_from_file_location("plot_results", sys.argv[1])
pr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pr)
heads_path, pruning_path, layers_path, work = sys.argv[2:6]


def read(path):
    with h5py.File(path, "r") as f:
        metric = f.attrs["metrics"][0]
        d = {"L": int(f.attrs["n_layers"]), "H": int(f.attrs["n_heads"]), "metric": metric,
             "names": list(f["mask_names"].asstr()[()]), "score": f["scores"][metric][()],
             "masks": f["masks"][()]}
        if "bootstrap" in f:
            d["ci"] = f["bootstrap"][f"{metric}_ci"][()]
            d["dci"] = f["bootstrap"][f"{metric}_delta_ci"][()]
        for group in ("importance", "attention"):
            if group in f:
                d[group] = {k: v[()] for k, v in f[group].items()}
        if "pruning" in f:
            d["pruning"] = {o: {k: v[()] for k, v in g.items()} for o, g in f["pruning"].items()}
            d["tolerance"] = float(f["pruning"].attrs["tolerance"])
    d["base"] = d["names"].index("baseline")
    return d


def image(ax):
    assert len(ax.images) == 1, ax.get_title()
    return np.ma.filled(ax.images[0].get_array().astype(float), np.nan)


def boxes(ax):
    return {(int(round(p.get_y() + 0.5)), int(round(p.get_x() + 0.5))) for p in ax.patches}


def expected_grid(d, pattern):
    """(L, H) change from the baseline of the masks whose names match pattern (groups: layer, head),
    and the cells whose bootstrap interval of the change excludes 0."""
    grid = np.full((d["L"], d["H"]), np.nan)
    sig = set()
    for n, name in enumerate(d["names"]):
        m = re.fullmatch(pattern, name)
        if m:
            l, h = int(m.group(1)), int(m.group(2))
            grid[l, h] = d["score"][n] - d["score"][d["base"]]
            if d["dci"][n, 0] > 0 or d["dci"][n, 1] < 0:
                sig.add((l, h))
    return grid, sig


def run_main(args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = pr.main(args)
        except SystemExit as e:  # argparse's own errors
            status = e.code
    return status, out.getvalue(), err.getvalue()


# ---- single-head, leave-one-in, importance, attention
d = read(heads_path)
figs = pr.figures(pr.Results(heads_path))
assert list(figs) == ["heads", "leave-one-in", "importance", "attention"], list(figs)
for fig_name, pattern in (("heads", r"-L(\d+)\.H(\d+)"), ("leave-one-in", r"L(\d+)\.H(\d+)-only")):
    want, sig = expected_grid(d, pattern)
    assert not np.isnan(want).any(), fig_name
    ax = figs[fig_name].axes[0]
    np.testing.assert_allclose(image(ax), want, rtol=0, atol=1e-12, err_msg=fig_name)
    assert boxes(ax) == sig, (fig_name, sorted(boxes(ax)), sorted(sig))
    assert 0 < len(sig) < d["L"] * d["H"], fig_name  # the boxes tell heads apart in this file
    # each cell's printed value is its change
    texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    l, h = np.unravel_index(np.nanargmin(want), want.shape)
    assert float(texts[(l, h)]) == round(want[l, h], 3), (texts[(l, h)], want[l, h])
    print(f"{fig_name}: {d['L']}x{d['H']} cells equal the named masks' changes; {len(sig)} boxed as significant")
axes = figs["importance"].axes
imp = d["importance"]
titles = {ax.get_title(): ax for ax in axes}
np.testing.assert_array_equal(image(titles["michel gradient importance"]), imp["michel"])
np.testing.assert_array_equal(image(titles["ablation: baseline − score without the head"]), imp["ablation"])
# /importance/ablation is the drop of the single-head masks: the heads figure's cells, negated
np.testing.assert_allclose(imp["ablation"], -expected_grid(d, r"-L(\d+)\.H(\d+)")[0], atol=1e-12)
points = titles["agreement over heads"].collections[0].get_offsets()
np.testing.assert_array_equal(points[:, 0], imp["michel"].ravel())
np.testing.assert_array_equal(points[:, 1], imp["ablation"].ravel())
assert f"{imp['michel_vs_ablation'][0]:+.2f}" in titles["agreement over heads"].get_legend().texts[0].get_text()
print("importance: both maps and the scatter equal /importance")
att = {ax.get_title(): ax for ax in figs["attention"].axes if ax.images}
assert len(att) == len(d["attention"]) == 8, list(att)
for k, v in d["attention"].items():
    np.testing.assert_array_equal(image(att[pr.ATTENTION_LABELS[k]]), v, err_msg=k)
print("attention: 8 maps equal /attention")

# ---- pruning curves
d = read(pruning_path)
figs = pr.figures(pr.Results(pruning_path))
assert "pruning" in figs and "masks" not in figs, list(figs)  # pruning masks are not drawn twice
ax = figs["pruning"].axes[0]
lines = {ln.get_label(): ln for ln in ax.lines}
for order, g in d["pruning"].items():
    if order.startswith("random"):
        continue
    label = next(k for k in lines if k.startswith(order + " "))
    assert f"up to {100 * g['within_tolerance'][0]:.0f}%" in label, label
    np.testing.assert_allclose(lines[label].get_xdata(), 100 * g["fraction"])
    np.testing.assert_array_equal(lines[label].get_ydata(), g["score"])
    np.testing.assert_array_equal(lines[label].get_ydata(), d["score"][g["mask"]])
randoms = sorted(o for o in d["pruning"] if o.startswith("random"))
grey = [ln for ln in ax.lines if ln.get_color() == "0.6"]
assert len(grey) == len(randoms) >= 2
for ln, order in zip(grey, randoms):
    np.testing.assert_array_equal(ln.get_ydata(), d["pruning"][order]["score"])
# one band per non-random order, spanning the bootstrap interval of each step's score
bands = ax.collections
assert len(bands) == len(d["pruning"]) - len(randoms), len(bands)
g = d["pruning"]["importance"]
lo, hi = d["ci"][g["mask"]].T
verts = bands[0].get_paths()[0].vertices
assert np.isclose(verts[:, 1].min(), lo.min()) and np.isclose(verts[:, 1].max(), hi.max())
base = d["score"][d["base"]]
hlines = sorted(ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() in (":", "--"))
np.testing.assert_allclose(hlines, [base - d["tolerance"], base])
assert "recomputed" not in ax.get_title(), ax.get_title()
# The title says whether the ranking was recomputed, as the stored config does.
redone = f"{work}/recompute.h5"
shutil.copy(pruning_path, redone)
with h5py.File(redone, "r+") as f:
    config = f.attrs["config"]
    assert "\n  recompute: false\n" in config
    f.attrs["config"] = config.replace("\n  recompute: false\n", "\n  recompute: true\n")
title = pr.figures(pr.Results(redone), only=["pruning"])["pruning"].axes[0].get_title()
assert "importance recomputed at each step" in title, title
print(f"pruning: {len(d['pruning'])} curves equal /pruning and /scores, bands the bootstrap intervals")

# ---- layers and other masks, from a run of [layer, random]
d = read(layers_path)
figs = pr.figures(pr.Results(layers_path))
assert list(figs) == ["layers", "masks"], list(figs)
ax = figs["layers"].axes[0]
heights = [b.get_height() for b in ax.patches]
want = [d["score"][d["names"].index(f"-L{l}")] - d["score"][d["base"]] for l in range(d["L"])]
np.testing.assert_allclose(heights, want, atol=1e-12)
whiskers = next(c for c in ax.containers if c.has_yerr)  # the bars' ErrorbarContainer
caps = whiskers.lines[2][0].get_segments()  # one vertical segment per bar
for l, seg in enumerate(caps):
    n = d["names"].index(f"-L{l}")
    np.testing.assert_allclose(sorted(seg[:, 1]), d["dci"][n], atol=1e-12)
print(f"layers: {d['L']} bars equal the -L<l> masks' changes, whiskers their bootstrap intervals")
pts = figs["masks"].axes[0].collections[0].get_offsets()
rows = [n for n, name in enumerate(d["names"]) if name != "baseline" and not re.fullmatch(r"-L\d+", name)]
assert len(rows) >= 4
np.testing.assert_array_equal(pts[:, 0], (d["masks"][rows] == 0).sum(axis=(1, 2)))
np.testing.assert_array_equal(pts[:, 1], d["score"][rows])
print(f"masks: {len(rows)} random masks at their heads removed and scores")

# ---- the command: files, an unfinished run, bad input
status, out, err = run_main([heads_path, "--out", f"{work}/figs"])
assert status == 0, err
paths = out.split()
assert paths == [f"{work}/figs/stsb-heads-{k}.png" for k in ("heads", "leave-one-in", "importance", "attention")], paths
for p in paths:
    with open(p, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n", p
status, out, err = run_main([pruning_path, "--out", f"{work}/figs", "--format", "svg", "--only", "pruning"])
assert status == 0 and out.strip().endswith("stsb-pruning-pruning.svg"), (out, err)
assert "<svg" in open(out.strip()).read()
# An unfinished run: one mask not scored is a blank cell, and the titles and a warning say so.
part = f"{work}/partial.h5"
shutil.copy(heads_path, part)
with h5py.File(part, "r+") as f:
    row = list(f["mask_names"].asstr()[()]).index("-L5.H8")
    f["masks_done"][row] = 0
    f.attrs["complete"] = 0
figs = pr.figures(pr.Results(part))
assert np.isnan(image(figs["heads"].axes[0])[5, 8]) and np.isfinite(image(figs["heads"].axes[0])[5, 7])
assert "(incomplete: 144 of 145 masks scored)" in figs["heads"].axes[0].get_title()
status, out, err = run_main([part, "--out", f"{work}/figs", "--only", "heads"])
assert status == 0 and "warning" in err and part in err and "144 of 145" in err, err
# A file that a run has open for writing is locked by HDF5: it is read without the lock, with a warning.
busy = f"{work}/busy.h5"
shutil.copy(part, busy)
holder = subprocess.Popen([sys.executable, "-c", "import h5py, sys; f = h5py.File(sys.argv[1], 'r+'); "
                           "print('open', flush=True); sys.stdin.read()", busy],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
try:
    assert holder.stdout.readline().strip() == "open"
    try:
        h5py.File(busy, "r").close()
        print("the file-lock case is not checked: HDF5 file locking is off here (HDF5_USE_FILE_LOCKING)")
    except OSError:
        status, out, err = run_main([busy, "--out", f"{work}/figs", "--only", "heads"])
        assert status == 0 and "is open for writing (a run in progress?)" in err, err
        assert "(incomplete: 144 of 145 masks scored)" in err
finally:
    holder.stdin.close()
    holder.wait()
print("command: PNG and SVG files written; an unfinished run is drawn from its scored masks and says so, "
      "also while a writer holds the file")


def refused(args, *needles):
    status, out, err = run_main(args)
    assert status == 2 and not out, (args, status, out, err)
    for n in needles:
        assert n in err, (n, err)
    print("refused:", err.strip().splitlines()[-1])


not_h5 = f"{work}/not.h5"
open(not_h5, "w").write("model:\n  path: x\n")
refused([not_h5], not_h5, "cannot be opened as an HDF5 file")
other = f"{work}/other.h5"
with h5py.File(other, "w") as f:
    f["x"] = [1]
refused([other], other, "not a headsweep results file")
newer = f"{work}/newer.h5"
shutil.copy(heads_path, newer)
with h5py.File(newer, "r+") as f:
    f.attrs["schema_version"] = 2
refused([newer], newer, "schema_version 2")
refused([heads_path, "--metric", "accuracy"], "no metric 'accuracy'", "spearman, pearson")
refused([heads_path, "--only", "pruning"], "nothing to plot among pruning")
refused([heads_path, "--only", "curves"], "unknown figure 'curves'")
print("check_plots: ok")
