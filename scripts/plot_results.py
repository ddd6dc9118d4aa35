#!/usr/bin/python3
"""Draws the standard figures of a headsweep results file (docs/hdf5-schema.md), each only where the
file holds its data:

  heads         change of the metric when each head alone is removed, (L, H)   single-head masks
  layers        change when each layer's heads are all removed, with CIs       layer masks
  leave-one-in  change when one head alone is left in its layer, (L, H)        leave-one-in masks
  importance    gradient and ablation importance per head, and how they agree  /importance
  pruning       metric against the fraction of heads pruned, per order         /pruning
  attention     what each head attends to, one (L, H) map per statistic        /attention
  masks         metric against the heads removed, for every other mask         random, file, ...

Changes are mask − baseline (negative: the model got worse). With a bootstrap in the file, a box
marks the heads whose change is significant (the interval of the change excludes 0) and the bars
and bands are the file's percentile intervals. Reads the file with h5py only; every plotted number
comes from it. A file whose run has not finished is drawn from the masks it has scored, and its
titles say so.

usage: plot_results.py RESULTS.h5 [--out DIR] [--format png|pdf|svg] [--metric NAME] [--only FIG,...]
Writes DIR/<file stem>-<figure>.<format> (DIR: the results file's folder) and prints each path.
"""
import argparse
import pathlib
import re
import sys

import h5py
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

matplotlib.use("Agg")

SCHEMA_VERSION = 1
FIGURES = ("heads", "layers", "leave-one-in", "importance", "pruning", "attention", "masks")


class ResultsError(Exception):
    """A file that cannot be plotted; the message names it."""


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


class Results:
    """Everything the figures read from one results file, loaded at once (the files are small beside
    the figures: (N, L, H) masks and a few (L, H) maps)."""

    def __init__(self, path):
        self.path = str(path)
        self.read_unlocked = False
        try:
            f = h5py.File(self.path, "r")
        except OSError as e:
            if "unable to lock file" not in str(e):
                raise ResultsError(f"{self.path}: cannot be opened as an HDF5 file ({e})") from None
            # A run is writing it. Its metadata no longer changes and rows become final one by one
            # (docs/hdf5-schema.md), so it can be read without HDF5's lock.
            self.read_unlocked = True
            try:
                f = h5py.File(self.path, "r", locking=False)
            except (TypeError, ValueError):  # h5py before 3.5, or an HDF5 without H5Pset_file_locking
                raise ResultsError(f"{self.path}: locked by a writer (a run in progress?); set "
                                   f"HDF5_USE_FILE_LOCKING=FALSE to read it anyway") from None
        with f:
            a = f.attrs
            if _text(a.get("tool", "")) != "headsweep":
                raise ResultsError(f"{self.path}: not a headsweep results file (no root attribute tool = headsweep)")
            version = int(a.get("schema_version", 0))
            if version > SCHEMA_VERSION:
                raise ResultsError(f"{self.path}: schema_version {version}, newer than this script reads "
                                   f"({SCHEMA_VERSION})")
            try:
                self._load(f)
            except KeyError as e:
                raise ResultsError(f"{self.path}: {e.args[0]} is missing; is the file truncated?") from None

    def _load(self, f):
        a = f.attrs
        self.L, self.H = int(a["n_layers"]), int(a["n_heads"])
        self.metrics = [_text(m) for m in a["metrics"]]
        self.title = f"{_text(a['model_id'])} on {_text(a['task'])} {_text(a['split'])} ({int(a['n_examples'])} examples)"
        self.kept = f["masks"][()].astype(bool)                     # (N, L, H), True = head kept
        self.names = f["mask_names"].asstr()[()]                    # (N)
        self.done = f["masks_done"][()] == 1                        # (N)
        self.complete = int(a["complete"]) == 1 and bool(self.done.all())
        self.scores = {}                                            # metric -> (N), NaN where not scored
        for m in self.metrics:
            s = f["scores"][m][()].astype(float)
            s[~self.done] = np.nan
            self.scores[m] = s
        self.bootstrap = None
        if "bootstrap" in f:
            b = f["bootstrap"]
            self.confidence = float(b.attrs["confidence"])
            self.bootstrap = {m: {k: b[f"{m}_{k}"][()] for k in ("ci", "delta_ci", "delta_p")} for m in self.metrics}
        self.importance, self.agreement = {}, {}                    # name -> (L, H); method -> rho
        if "importance" in f:
            for k, d in f["importance"].items():
                if k.endswith("_vs_ablation"):
                    self.agreement[k[: -len("_vs_ablation")]] = float(d[0])
                elif not k.endswith("_raw"):
                    self.importance[k] = d[()]
        self.attention, self.attention_tokens = {}, None            # statistic -> (L, H)
        if "attention" in f:
            self.attention = {k: d[()] for k, d in f["attention"].items()}
            self.attention_tokens = int(f["attention"].attrs["tokens"])
        self.pruning = {}                                           # order -> {field: (S)}
        if "pruning" in f:
            p = f["pruning"]
            self.pruning_attrs = {k: (_text(v) if isinstance(v, (str, bytes)) else float(v)) for k, v in p.attrs.items()}
            # Whether the ranking was recomputed at each step is an option of the run, kept in its
            # stored config (the YAML of --dump-config, one option per line).
            section = re.search(r"^pruning:\n((?:[ #].*\n)*)", _text(a.get("config", "")), re.M)
            self.pruning_recompute = bool(section and re.search(r"^  recompute: true$", section.group(1), re.M))
            for order, g in p.items():
                self.pruning[order] = {k: d[()] for k, d in g.items()}

    @property
    def baseline_row(self):
        full = np.flatnonzero(self.kept.all(axis=(1, 2)))
        return int(full[0]) if len(full) else None

    def status(self):
        """Title suffix of a file whose run has not finished."""
        if self.complete:
            return ""
        return f" (incomplete: {int(self.done.sum())} of {len(self.done)} masks scored)"

    def change(self, metric):
        """(N) metric − baseline's metric; NaN where either is not scored."""
        base = self.baseline_row
        if base is None:
            raise ResultsError(f"{self.path}: no mask keeps every head, so there is no baseline to compare with")
        return self.scores[metric] - self.scores[metric][base]

    def significant(self, metric):
        """(N) True where the bootstrap interval of the change excludes 0; None without a bootstrap."""
        if self.bootstrap is None:
            return None
        lo, hi = self.bootstrap[metric]["delta_ci"].T
        return (lo > 0) | (hi < 0)


def classify(kept):
    """Sorts masks (N, L, H) into the kinds the figures draw. Decided from the gates alone, not the
    mask names, so that masks read from a file or made by another strategy count where they fit.
    Returns {kind: [(row, layer, head)]}; layer masks have head -1; a mask fits at most one kind
    except where H ≤ 2 makes single-head and leave-one-in masks the same."""
    N, L, H = kept.shape
    off = ~kept
    per_layer = off.sum(axis=2)                                       # (N, L)
    out = {"heads": [], "layers": [], "leave-one-in": [], "other": []}
    for n in range(N):
        touched = np.flatnonzero(per_layer[n])
        if len(touched) == 0:
            continue
        fits = False
        if len(touched) == 1:
            l = int(touched[0])
            k = int(per_layer[n, l])
            if k == 1:
                out["heads"].append((n, l, int(np.flatnonzero(off[n, l])[0])))
                fits = True
            if k == H and H > 1:
                out["layers"].append((n, l, -1))
                fits = True
            if k == H - 1 and H > 1:
                out["leave-one-in"].append((n, l, int(np.flatnonzero(kept[n, l])[0])))
                fits = True
        if not fits:
            out["other"].append((n, -1, -1))
    return out


def head_grid(res, rows, metric):
    """(L, H) change per head for [(row, layer, head)], NaN where no mask; and where significant."""
    change, sig = res.change(metric), res.significant(metric)
    grid = np.full((res.L, res.H), np.nan)
    marks = np.zeros((res.L, res.H), dtype=bool)
    for n, l, h in rows:
        grid[l, h] = change[n]
        if sig is not None and res.done[n]:
            marks[l, h] = sig[n]
    return grid, marks


def _heatmap(fig, ax, grid, L, H, cmap, label, center=False, marks=None, annotate=None):
    finite = grid[np.isfinite(grid)]
    kw = {}
    if center and finite.size:
        lim = float(np.abs(finite).max()) or 1.0
        kw = {"vmin": -lim, "vmax": lim}
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto", interpolation="nearest", **kw)
    ax.set_xticks(range(H), [f"H{h}" for h in range(H)], fontsize=7, rotation=90 if H > 16 else 0)
    ax.set_yticks(range(L), [f"L{l}" for l in range(L)], fontsize=7)
    fig.colorbar(im, ax=ax, label=label, shrink=0.9)
    if annotate and L * H <= 144:
        for l in range(L):
            for h in range(H):
                if np.isfinite(grid[l, h]):
                    r, g, b, _ = im.cmap(im.norm(grid[l, h]))
                    ink = "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"
                    ax.text(h, l, annotate(grid[l, h]), ha="center", va="center", fontsize=5.5, color=ink)
    if marks is not None:
        for l, h in zip(*np.nonzero(marks)):
            ax.add_patch(Rectangle((h - 0.5, l - 0.5), 1, 1, fill=False, edgecolor="black", lw=1.3))
    return im


def fig_head_changes(res, rows, metric, what):
    grid, marks = head_grid(res, rows, metric)
    fig = Figure(figsize=(1.2 + 0.5 * res.H, 1.0 + 0.4 * res.L), layout="constrained")
    ax = fig.add_subplot()
    _heatmap(fig, ax, grid, res.L, res.H, "RdBu", f"change in {metric} (mask − baseline)", center=True,
             marks=marks if res.bootstrap else None, annotate=lambda v: f"{v:+.3f}".replace("0.", "."))
    note = (f"; boxed: the {res.confidence:.0%} CI of the change excludes 0" if res.bootstrap else "")
    ax.set_title(f"{res.title}{res.status()}\n{what}{note}", fontsize=8)
    return fig


def fig_layers(res, rows, metric):
    change = res.change(metric)
    layers = [l for _, l, _ in rows]
    values = np.array([change[n] for n, _, _ in rows])
    fig = Figure(figsize=(1.5 + 0.45 * res.L, 3.2), layout="constrained")
    ax = fig.add_subplot()
    err = None
    if res.bootstrap:
        dci = res.bootstrap[metric]["delta_ci"]
        lo = np.array([dci[n, 0] for n, _, _ in rows])
        hi = np.array([dci[n, 1] for n, _, _ in rows])
        err = np.vstack([values - lo, hi - values])
    ax.bar(layers, values, yerr=err, color="tab:red", capsize=3)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(layers, [f"L{l}" for l in layers])
    ax.set_ylabel(f"change in {metric}")
    ci = f", {res.confidence:.0%} bootstrap CI" if res.bootstrap else ""
    ax.set_title(f"{res.title}{res.status()}\nevery head of one layer removed{ci}", fontsize=8)
    return fig


def fig_importance(res, metric):
    maps = dict(res.importance)
    panels = list(maps)
    grads = [k for k in panels if k != "ablation"]
    scatter = "ablation" in maps and grads
    fig = Figure(figsize=(4.6 * (len(panels) + bool(scatter)), 1.3 + 0.4 * res.L), layout="constrained")
    axes = fig.subplots(1, len(panels) + bool(scatter), squeeze=False)[0]
    for ax, k in zip(axes, panels):
        if k == "ablation":
            _heatmap(fig, ax, maps[k], res.L, res.H, "RdBu_r", f"drop in {res.metrics[0]}", center=True)
            ax.set_title(f"ablation: baseline − score without the head", fontsize=8)
        else:
            _heatmap(fig, ax, maps[k], res.L, res.H, "viridis", "importance")
            ax.set_title(f"{k} gradient importance", fontsize=8)
    if scatter:
        ax = axes[-1]
        a = maps["ablation"].ravel()
        for k in grads:
            ax.scatter(maps[k].ravel(), a, s=9, label=k + (f", Spearman {res.agreement[k]:+.2f}"
                                                          if k in res.agreement else ""))
        ax.set_xlabel("gradient importance")
        ax.set_ylabel(f"ablation drop in {res.metrics[0]}")
        ax.legend(fontsize=7)
        ax.set_title("agreement over heads", fontsize=8)
    fig.suptitle(f"{res.title}{res.status()}", fontsize=9)
    return fig


def pruning_curve(res, order, metric):
    """(fraction (S), score (S), ci (S, 2) or None) of one order, scores taken from /scores at the
    steps' mask rows (for the primary metric they equal /pruning/<order>/score)."""
    g = res.pruning[order]
    rows = g["mask"].astype(int)
    ci = res.bootstrap[metric]["ci"][rows] if res.bootstrap else None
    return g["fraction"], res.scores[metric][rows], ci


def fig_pruning(res, metric):
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    randoms = sorted(o for o in res.pruning if o.startswith("random"))
    # importance first, so that it keeps the first colour whatever else the file holds
    others = sorted((o for o in res.pruning if o not in randoms), key=lambda o: (o != "importance", o))
    for i, order in enumerate(randoms):
        x, y, _ = pruning_curve(res, order, metric)
        ax.plot(100 * x, y, color="0.6", lw=0.9, label=f"random order ({len(randoms)} seeds)" if i == 0 else None)
    tol = res.pruning_attrs.get("tolerance")
    for i, order in enumerate(others):
        x, y, ci = pruning_curve(res, order, metric)
        within = float(res.pruning[order]["within_tolerance"][0])
        label = order
        if metric == res.metrics[0] and np.isfinite(within):
            label += f" (within {tol:g} up to {100 * within:.0f}%)"
        (line,) = ax.plot(100 * x, y, "o-", ms=3, lw=1.5, color=f"C{i}", label=label)
        if ci is not None:
            ax.fill_between(100 * x, ci[:, 0], ci[:, 1], color=line.get_color(), alpha=0.15, lw=0)
    base = res.baseline_row
    if base is not None and np.isfinite(res.scores[metric][base]):
        b = res.scores[metric][base]
        ax.axhline(b, color="black", lw=0.7, ls=":", label="full model")
        if tol is not None and metric == res.metrics[0]:
            ax.axhline(b - tol, color="black", lw=0.7, ls="--", label=f"full model − {tol:g}")
    ax.set_xlabel("heads pruned (% of all heads)")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    band = f"; bands: {res.confidence:.0%} bootstrap CI" if res.bootstrap and others else ""
    how = ", importance recomputed at each step" if res.pruning_recompute else ""
    ax.set_title(f"{res.title}{res.status()}\npruning ({res.pruning_attrs.get('schedule', '')} schedule{how}){band}",
                 fontsize=8)
    return fig


ATTENTION_LABELS = {"cls": "mass on [CLS]", "sep": "mass on [SEP]", "punct": 'mass on "." and ","',
                    "self": "weight on itself", "prev": "weight on previous token", "next": "weight on next token",
                    "entropy": "entropy (nats)", "confidence": "largest weight, [CLS]/[SEP] aside"}


def fig_attention(res):
    names = [k for k in ATTENTION_LABELS if k in res.attention] + \
            [k for k in res.attention if k not in ATTENTION_LABELS]
    cols = min(4, len(names))
    rows = (len(names) + cols - 1) // cols
    fig = Figure(figsize=(0.9 + 0.33 * res.H * cols, 0.6 + (0.8 + 0.28 * res.L) * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, k in zip(axes, names):
        _heatmap(fig, ax, res.attention[k], res.L, res.H, "magma" if k == "entropy" else "viridis", "")
        ax.set_title(ATTENTION_LABELS.get(k, k), fontsize=8)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"{res.title}: what each head attends to, "
                 f"mean over each sequence's query tokens ({res.attention_tokens} in all), then over sequences", fontsize=9)
    return fig


def fig_masks(res, rows, metric):
    fig = Figure(figsize=(5.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    idx = np.array([n for n, _, _ in rows])
    removed = (~res.kept[idx]).sum(axis=(1, 2))
    ax.scatter(removed, res.scores[metric][idx], s=10, alpha=0.6, color="tab:purple", label="mask")
    base = res.baseline_row
    if base is not None and np.isfinite(res.scores[metric][base]):
        ax.axhline(res.scores[metric][base], color="black", lw=0.7, ls=":", label="full model")
    ax.set_xlabel(f"heads removed (of {res.L * res.H})")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    ax.set_title(f"{res.title}{res.status()}\n{len(idx)} masks", fontsize=8)
    return fig


def figures(res, metric=None, only=None):
    """{figure name: matplotlib Figure} for what the file holds (in FIGURES order)."""
    metric = metric or res.metrics[0]
    if metric not in res.metrics:
        raise ResultsError(f"{res.path}: no metric {metric!r}; the file has {', '.join(res.metrics)}")
    kinds = classify(res.kept)
    pruned = {int(r) for g in res.pruning.values() for r in g["mask"]}
    kinds["other"] = [r for r in kinds["other"] if r[0] not in pruned]
    makers = {
        "heads": (kinds["heads"], lambda: fig_head_changes(res, kinds["heads"], metric, "one head removed")),
        "layers": (kinds["layers"], lambda: fig_layers(res, kinds["layers"], metric)),
        "leave-one-in": (kinds["leave-one-in"], lambda: fig_head_changes(
            res, kinds["leave-one-in"], metric, "only this head left in its layer")),
        "importance": (res.importance, lambda: fig_importance(res, metric)),
        "pruning": (res.pruning, lambda: fig_pruning(res, metric)),
        "attention": (res.attention, lambda: fig_attention(res)),
        "masks": (kinds["other"], lambda: fig_masks(res, kinds["other"], metric)),
    }
    return {name: make() for name, (data, make) in makers.items() if len(data) and (not only or name in only)}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="plot_results.py", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="a headsweep results file (.h5)")
    ap.add_argument("--out", help="folder for the figures (default: the results file's folder)")
    ap.add_argument("--format", default="png", choices=("png", "pdf", "svg"))
    ap.add_argument("--metric", help="metric to plot (default: the file's primary metric)")
    ap.add_argument("--only", help=f"comma-separated figures among {', '.join(FIGURES)}")
    ap.add_argument("--dpi", type=int, default=150)
    args = ap.parse_args(argv)
    only = None
    if args.only:
        only = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in only if s not in FIGURES]
        if unknown:
            ap.error(f"--only: unknown figure {unknown[0]!r}; choose among {', '.join(FIGURES)}")
    try:
        res = Results(args.results)
        figs = figures(res, args.metric, only)
        if not figs:
            raise ResultsError(f"{res.path}: nothing to plot" + (f" among {', '.join(only)}" if only else
                               ": the file holds only the baseline"))
    except ResultsError as e:
        print(f"plot_results.py: error: {e}", file=sys.stderr)
        return 2
    if res.read_unlocked:
        print(f"plot_results.py: warning: {res.path} is open for writing (a run in progress?); read without "
              f"HDF5's file lock", file=sys.stderr)
    if not res.complete:
        print(f"plot_results.py: warning: {res.path}: the run has not finished{res.status()}", file=sys.stderr)
    src = pathlib.Path(args.results)
    out = pathlib.Path(args.out) if args.out else src.parent
    out.mkdir(parents=True, exist_ok=True)
    for name, fig in figs.items():
        path = out / f"{src.stem}-{name}.{args.format}"
        # The date matplotlib writes into a PDF or SVG would make every redraw a different file.
        fig.savefig(path, dpi=args.dpi, metadata={"Date": None} if args.format != "png" else None)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
