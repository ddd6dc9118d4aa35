#!/usr/bin/python3
"""Turns the two results files of run.sh into the markdown table of README.md (reads them with h5py
only; every number comes from the files).

usage: make_table.py HEADS.h5 PRUNING.h5 [PRUNING-RECOMPUTED.h5]
"""
import sys

import h5py
import numpy as np

TASK_NAMES = {"stsb": "STS-B", "mnli": "MNLI-matched", "mnli-mm": "MNLI-mismatched", "sst2": "SST-2", "cola": "CoLA",
              "mrpc": "MRPC", "rte": "RTE", "qnli": "QNLI", "qqp": "QQP", "wnli": "WNLI"}

# The paper's Table 3: per layer (1 to 12) of BERT-base fine-tuned on MNLI, the change in
# MNLI-matched accuracy, in percentage points, when only the best head of that layer is kept;
# none is significant at p < 0.01. Shown beside a 12-layer MNLI run's leave-one-in rows.
MICHEL_TABLE3 = [-0.01, 0.10, -0.14, -0.53, -0.29, -0.52, 0.05, -0.72, -0.96, 0.07, -0.19, -0.12]


def main() -> int:
    heads_path, pruning_path = sys.argv[1], sys.argv[2]
    recomputed = None
    if len(sys.argv) > 3:
        with h5py.File(sys.argv[3], "r") as r:
            recomputed = {"score": r["pruning/importance/score"][()], "fraction": r["pruning/importance/fraction"][()],
                          "within": r["pruning/importance/within_tolerance"][0],
                          "quiet": r["pruning/importance/not_significant"][0]}
    out = []
    with h5py.File(heads_path, "r") as f:
        L, H = int(f.attrs["n_layers"]), int(f.attrs["n_heads"])
        metric = f.attrs["metrics"][0]
        names = f["mask_names"].asstr()[:]
        masks, scores = f["masks"][()], f["scores"][metric][()]
        bs = f["bootstrap"]
        ci, dci, p = bs[f"{metric}_ci"][()], bs[f"{metric}_delta_ci"][()], bs[f"{metric}_delta_p"][()]
        conf = float(bs.attrs["confidence"])
        base = int(np.flatnonzero(names == "baseline")[0])
        B = int(f.attrs["n_examples"])
        task = str(f.attrs["task"])
        out.append(f"## {f.attrs['model_id']} on {TASK_NAMES.get(task, task)} {f.attrs['split']} ({B} examples), "
                   f"{metric}\n")
        out.append(f"Baseline {scores[base]:.4f} ({conf:.0%} bootstrap CI {ci[base, 0]:.4f} to {ci[base, 1]:.4f}, "
                   f"{int(bs.attrs['resamples'])} paired resamples).\n")
        # Single-head ablation (the paper's Table 1 setting).
        single = [n for n in range(len(names)) if (masks[n] == 0).sum() == 1]
        drops = scores[base] - scores[single]
        sig = [n for n in single if p[n] < 0.05]
        worse = [n for n in sig if scores[n] < scores[base]]
        better = [n for n in sig if scores[n] > scores[base]]
        worst = single[int(np.argmax(drops))]
        out.append("### Removing one head at a time\n")
        out.append(f"- {len(single)} heads; the change is significant (paired bootstrap, p < 0.05) for {len(sig)}: "
                   f"{len(worse)} lower, {len(better)} higher; the other {len(single) - len(sig)} are within noise.")
        # The paper's tables use p < 0.01; with L·H tests at once, some small p-values are chance, so the
        # heads that survive a Benjamini-Hochberg false-discovery-rate control at 0.05 are counted too.
        ps = np.sort(p[single])
        passed = np.flatnonzero(ps <= 0.05 * np.arange(1, len(ps) + 1) / len(ps))
        n_bh = int(passed[-1]) + 1 if len(passed) else 0
        out.append(f"- At the paper's level, p < 0.01: {sum(p[n] < 0.01 for n in single)} heads. Controlling the false "
                   f"discovery rate over the {len(single)} tests (Benjamini-Hochberg, 0.05): {n_bh}.")
        out.append(f"- Largest drop: {names[worst][1:]} ({scores[worst]:.4f}, {scores[base] - scores[worst]:+.4f} "
                   f"below the baseline; {conf:.0%} CI of the change {dci[worst, 0]:+.4f} to {dci[worst, 1]:+.4f}).")
        out.append(f"- Mean |change| over the {len(single)} heads: {np.abs(drops).mean():.4f}.\n")
        # Leave-one-in (Table 3's setting): per layer, the best single head kept.
        out.append("### One head left in a layer (leave-one-in), best head per layer\n")
        paper = task in ("mnli", "mnli-mm") and metric == "accuracy" and L == len(MICHEL_TABLE3)
        out.append(f"| layer | best head kept | {metric} | change | p |" + (" paper's Table 3 (points) |" if paper else ""))
        out.append("|---|---|---|---|---|" + ("---|" if paper else ""))
        for l in range(L):
            rows = [n for n in range(len(names)) if names[n].endswith("-only") and names[n].startswith(f"L{l}.")]
            best = max(rows, key=lambda n: scores[n])
            change = scores[best] - scores[base]
            out.append(f"| {l} | {names[best][:-5]} | {scores[best]:.4f} | "
                       + (f"{100 * change:+.2f} points" if paper else f"{change:+.4f}") + f" | {p[best]:.3g} |"
                       + (f" {MICHEL_TABLE3[l]:+.2f} |" if paper else ""))
        out.append("")
        if "importance/michel_vs_ablation" in f:
            rho = float(f["importance/michel_vs_ablation"][0])
            raw = f["importance/michel_raw"][()].ravel()
            abl = f["importance/ablation"][()].ravel()
            ok = np.isfinite(abl)
            # Ranks by double argsort: the raw importances and drops here have no ties.
            rho_raw = np.corrcoef(np.argsort(np.argsort(raw[ok])), np.argsort(np.argsort(abl[ok])))[0, 1]
            out.append(f"Gradient importance (Michel, {int(f['importance/michel'].attrs['examples'])} training pairs) "
                       f"against the single-head drops: Spearman {rho:.3f} (layer-normalised scores), "
                       f"{rho_raw:.3f} (raw).\n")
    with h5py.File(pruning_path, "r") as f:
        pr = f["pruning"]
        tol, alpha = float(pr.attrs["tolerance"]), float(pr.attrs["alpha"])
        curves = {k: pr[k] for k in pr.keys()}
        frac = curves["importance"]["fraction"][()]
        rand = np.array([curves[k]["score"][()] for k in curves if k.startswith("random-")])
        out.append("### Pruning curves (heads removed in 10% steps)\n")
        has_abl = "ablation" in curves
        has_rec = recomputed is not None and np.array_equal(recomputed["fraction"], frac)
        out.append("| heads removed | importance |" + (" importance, recomputed each step |" if has_rec else "")
                   + (" ablation |" if has_abl else "") + " random (mean, min to max of %d) |" % len(rand))
        out.append("|---|---|" + ("---|" if has_rec else "") + ("---|" if has_abl else "") + "---|")
        imp = curves["importance"]["score"][()]
        abl = curves["ablation"]["score"][()] if has_abl else None
        for s in range(len(frac)):
            out.append(f"| {frac[s]:.0%} | {imp[s]:.4f} |" + (f" {recomputed['score'][s]:.4f} |" if has_rec else "")
                       + (f" {abl[s]:.4f} |" if has_abl else "")
                       + f" {rand[:, s].mean():.4f} ({rand[:, s].min():.4f} to {rand[:, s].max():.4f}) |")
        out.append("")
        above = int((imp[1:] > rand[:, 1:].mean(0)).sum())
        out.append(f"The importance curve lies above the mean random curve at {above} of {len(frac) - 1} steps "
                   f"(mean gap {np.mean(imp[1:] - rand[:, 1:].mean(0)):+.4f}); above every random order at "
                   f"{int((imp[1:] > rand[:, 1:].max(0)).sum())}.")
        if has_rec:
            rec = recomputed["score"]
            out.append(f"Recomputed each step, it lies above the mean random curve at "
                       f"{int((rec[1:] > rand[:, 1:].mean(0)).sum())} of {len(frac) - 1} steps (mean gap "
                       f"{np.mean(rec[1:] - rand[:, 1:].mean(0)):+.4f}); above every random order at "
                       f"{int((rec[1:] > rand[:, 1:].max(0)).sum())}.")
        out.append("")
        out.append(f"| order | largest fraction with every drop <= {tol:g} | with no significant drop (alpha {alpha:g}) |")
        out.append("|---|---|---|")
        for k in sorted(curves):
            g = curves[k]
            out.append(f"| {k} | {g['within_tolerance'][0]:.0%} | {g['not_significant'][0]:.0%} |")
        if has_rec:
            out.append(f"| importance, recomputed each step | {recomputed['within']:.0%} | {recomputed['quiet']:.0%} |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
