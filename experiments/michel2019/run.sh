#!/usr/bin/env bash
# Runs what this repository can run of Michel et al. 2019 and writes results/michel2019/:
# stsb-heads.h5, stsb-pruning.h5, stsb-pruning-recompute.h5, table.md (the numbers in README.md) and
# the figures README.md shows.
#   GLUE_DIR=/path/to/glue experiments/michel2019/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${GLUE_DIR:?set GLUE_DIR to the GLUE data folder}"
BIN=${BIN:-build/headsweep}
mkdir -p results/michel2019
"$BIN" run experiments/michel2019/stsb-heads.yaml --set runtime.progress=lines | tee results/michel2019/stsb-heads.txt
"$BIN" run experiments/michel2019/stsb-pruning.yaml --set runtime.progress=lines | tee results/michel2019/stsb-pruning.txt
"$BIN" run experiments/michel2019/stsb-pruning-recompute.yaml --set runtime.progress=lines \
  | tee results/michel2019/stsb-pruning-recompute.txt
/usr/bin/python3 experiments/michel2019/make_table.py results/michel2019/stsb-heads.h5 results/michel2019/stsb-pruning.h5 \
  results/michel2019/stsb-pruning-recompute.h5 > results/michel2019/table.md
cat results/michel2019/table.md
PLOT=(/usr/bin/python3 scripts/plot_results.py --out results/michel2019)
"${PLOT[@]}" results/michel2019/stsb-heads.h5 --only heads,leave-one-in,importance,attention
"${PLOT[@]}" results/michel2019/stsb-pruning.h5 --only pruning
"${PLOT[@]}" results/michel2019/stsb-pruning-recompute.h5 --only pruning
