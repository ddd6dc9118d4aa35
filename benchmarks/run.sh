#!/usr/bin/env bash
# Executor benchmark: throughput of the naive and trie executors and of the PyTorch per-mask loop on
# the single-head sweep, gradient importance against one forward pass, and 10k random masks'
# throughput and peak RSS against one plain forward.
#   benchmarks/run.sh [LIMIT] [THREADS]
# LIMIT: STS-B dev pairs for the single-head rows (default 400); THREADS: 0 = every core (default).
# Environment: GLUE_DIR (the GLUE folder, required), MODEL (default models/all-MiniLM-L6-v2),
# BUILD (default build), SMALL_LIMIT (pairs for the random and forward rows, default 16),
# MASKS (random masks, default 10000).
# Prints each run's output, then a table of the ratios. Only ratios from one run of this script on
# one machine are meaningful; nothing here is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${1:-400}
THREADS=${2:-0}
GLUE=${GLUE_DIR:?set GLUE_DIR to the folder holding STS-B/ and the other GLUE tasks}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BUILD=${BUILD:-build}
SMALL_LIMIT=${SMALL_LIMIT:-16}
MASKS=${MASKS:-10000}
BENCH="$BUILD/bench_sweep"
PY=.venv-golden/bin/python

[[ -x $BENCH ]] || { echo "run.sh: $BENCH not found; build it: cmake --build $BUILD --target bench_sweep" >&2; exit 2; }

# result FILE KEY: the value of KEY on FILE's RESULT line.
result() { grep '^RESULT ' "$1" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--model "$MODEL" --glue "$GLUE" --task stsb --threads "$THREADS")

echo "== executors: single-head sweep, $LIMIT pairs"
"$BENCH" "${common[@]}" --limit "$LIMIT" --mode executors --batches-out "$tmp/batches.json" | tee "$tmp/executors"

# The PyTorch loop three ways, on the same batches: as usually run (intra-op threads = cores), with one
# intra-op thread (on this machine's libtorch/OpenBLAS pairing often the faster single process), and
# as one single-threaded process per core, each taking every n-th mask.
NPROC=$THREADS
[[ $NPROC -gt 0 ]] || NPROC=$(nproc)
torch_loop() { "$PY" benchmarks/torch_loop.py --model "$MODEL" --glue "$GLUE" --limit "$LIMIT" --batches "$tmp/batches.json" "$@"; }
if [[ -x $PY ]]; then
  spearman=$(result "$tmp/executors" baseline_spearman)
  echo "== torch loop: single-head sweep, $LIMIT pairs, $NPROC intra-op threads"
  torch_loop --threads "$NPROC" --expect-spearman "$spearman" | tee "$tmp/torch"
  echo "== torch loop: single-head sweep, $LIMIT pairs, 1 intra-op thread"
  torch_loop --threads 1 --expect-spearman "$spearman" | tee "$tmp/torch1"
  echo "== torch loop: single-head sweep, $LIMIT pairs, $NPROC processes x 1 thread"
  start=$(date +%s.%N)
  for ((i = 0; i < NPROC; i++)); do
    OPENBLAS_NUM_THREADS=1 torch_loop --threads 1 --shard "$i/$NPROC" > "$tmp/procs.$i" &
  done
  wait
  wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  cat "$tmp"/procs.*
  torch_procs=$(cat "$tmp"/procs.* | grep '^RESULT' | tr ' ' '\n' | sed -n 's/^masks=//p' |
    awk -v w="$wall" '{ m += $1 } END { printf "%.4f", m / w }')
  echo "RESULT mode=torch_procs processes=$NPROC wall_s=$wall masks_per_s=$torch_procs" | tee "$tmp/torchp"
else
  echo "skipped: $PY not found. Create it (tests/golden/README.md):"
  echo "  /usr/bin/python3 -m venv --system-site-packages .venv-golden"
  echo "  .venv-golden/bin/python -m pip install --no-deps -r tests/golden/requirements.txt"
  : > "$tmp/torch"
  : > "$tmp/torch1"
  : > "$tmp/torchp"
fi

echo "== importance: all heads' gradient importance against one forward pass, $LIMIT pairs"
"$BENCH" "${common[@]}" --limit "$LIMIT" --mode importance | tee "$tmp/importance"

echo "== random: $MASKS masks, $SMALL_LIMIT pairs"
"$BENCH" "${common[@]}" --limit "$SMALL_LIMIT" --mode random --masks "$MASKS" | tee "$tmp/random"

echo "== forward: one pass, $SMALL_LIMIT pairs"
"$BENCH" "${common[@]}" --limit "$SMALL_LIMIT" --mode forward | tee "$tmp/forward"

naive=$(result "$tmp/executors" naive_masks_per_s)
trie=$(result "$tmp/executors" trie_masks_per_s)
torch=$(result "$tmp/torch" masks_per_s)
torch1=$(result "$tmp/torch1" masks_per_s)
torchp=$(result "$tmp/torchp" masks_per_s)
# The single-process loop's better thread setting is the baseline the target is read against.
best=$(awk -v a="$torch" -v b="$torch1" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
rand=$(result "$tmp/random" masks_per_s)
rand_masks=$(result "$tmp/random" masks)
rss_rand=$(result "$tmp/random" peak_rss_mib)
rss_fwd=$(result "$tmp/forward" peak_rss_mib)
grow_rand=$(awk -v a="$rss_rand" -v b="$(result "$tmp/random" rss_before_mib)" 'BEGIN { printf "%.1f", a - b }')
grow_fwd=$(awk -v a="$rss_fwd" -v b="$(result "$tmp/forward" rss_before_mib)" 'BEGIN { printf "%.1f", a - b }')

echo
echo "| measure | value | target |"
echo "|---|---|---|"
echo "| masks/s naive ($LIMIT pairs, single-head) | $naive | |"
echo "| masks/s trie ($LIMIT pairs, single-head) | $trie | |"
echo "| masks/s torch loop, $NPROC intra-op threads | ${torch:-skipped} | |"
echo "| masks/s torch loop, 1 intra-op thread | ${torch1:-skipped} | |"
echo "| masks/s torch loop, $NPROC processes x 1 thread | ${torchp:-skipped} | |"
echo "| trie / naive | $(ratio "$trie" "$naive")x | >= 1.8 |"
echo "| trie / faster single-process torch loop | $(ratio "$trie" "$best")x | >= 3 |"
echo "| trie / torch loop, $NPROC intra-op threads | $(ratio "$trie" "$torch")x | |"
echo "| trie / torch loop, $NPROC processes | $(ratio "$trie" "$torchp")x | |"
echo "| gradient importance of all heads / one forward pass ($LIMIT pairs) | $(result "$tmp/importance" ratio)x | <= 3 |"
echo "| masks/s trie, $rand_masks random masks ($SMALL_LIMIT pairs) | $rand | |"
echo "| peak RSS random / one forward | $(ratio "$rss_rand" "$rss_fwd")x ($rss_rand / $rss_fwd MiB) | <= 2 |"
echo "| RSS growth over the loaded model, random / one forward | $(ratio "$grow_rand" "$grow_fwd")x ($grow_rand / $grow_fwd MiB) | |"
