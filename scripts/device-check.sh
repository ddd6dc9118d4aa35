#!/usr/bin/env bash
# One run on a GPU machine: build with the CUDA kernels against PyTorch's libtorch, run the GPU
# tests, the end-to-end CLI on CUDA against the CPU, the GPU benchmarks, and the kernel tests under
# compute-sanitizer (memcheck; racecheck and synccheck last, as time allows); print a short table
# last and write JSON. For a machine with CUDA,
# PyTorch (python3), cmake and ninja but no network: the other C++ dependencies, the test checkpoint
# and STS-B come from .deps/device/, made beforehand by scripts/bundle-device-deps.sh on a machine
# with package access.
#   scripts/device-check.sh [OUT_DIR]     (default /tmp/headsweep-device-check)
# DEVICE_CHECK_SECONDS (default 480) bounds the whole run: each step is cut off so that the summary
# is still written in time, and steps that no longer fit are reported as not run. The most telling
# steps come first. OUT_DIR receives summary.txt, device-check.json, bench_gpu.json and logs.tgz
# (every step's full output). TORCH_DIR names PyTorch's package folder (default: python3's torch);
# HEADSWEEP_COMMIT names the commit in the table where the checkout has no .git.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
OUT_DIR=${1:-/tmp/headsweep-device-check}
BUDGET=${DEVICE_CHECK_SECONDS:-480}
mkdir -p "$OUT_DIR"
exec > >(tee "$OUT_DIR/summary.txt") 2>&1
BUNDLE=$PWD/.deps/device
[[ -f $BUNDLE/root.tar.xz ]] || { echo "device-check: $BUNDLE missing; run scripts/bundle-device-deps.sh first"; exit 2; }
t0=$(date +%s)
elapsed() { echo $(( $(date +%s) - t0 )); }
WORK=/tmp/headsweep-device-work
LOGS=$WORK/logs
rm -rf "$LOGS" && mkdir -p "$LOGS" "$WORK/model"
ROOT=$WORK/root
LIB=$ROOT/usr/lib/x86_64-linux-gnu
# Python unpacks the bundle: a node image need not have xz.
python3 - "$BUNDLE" "$WORK" <<'PY'
import lzma, pathlib, shutil, sys, tarfile
bundle, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with tarfile.open(bundle / "root.tar.xz", "r:xz") as t:
    t.extractall(work)
for f in (bundle / "model").iterdir():
    if f.suffix == ".xz":
        with lzma.open(f) as src, open(work / "model" / f.stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        shutil.copy(f, work / "model" / f.name)
PY

declare -A status
steps=()
# run_step NAME MAX_SECONDS COMMAND...: COMMAND's output goes to logs/NAME.log; it is cut off after
# MAX_SECONDS, or sooner where the budget would not leave 20 s for the summary.
run_step() {
  local name=$1 max=$2
  shift 2
  local left=$(( BUDGET - $(elapsed) - 20 ))
  (( left < max )) && max=$left
  steps+=("$name")
  if (( max < 10 )); then
    status[$name]="not run (out of time)"
    echo "== $name: not run, out of time"
    return 1
  fi
  echo "== $name (at $(elapsed) s, at most $max s)"
  timeout -k 5 "$max" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  case $rc in
    0) status[$name]=ok ;;
    124 | 137) status[$name]="TIMED OUT after $max s" ;;
    *) status[$name]="FAILED ($rc)" ;;
  esac
  return $rc
}
finish() {
  echo "== summary (at $(elapsed) s)"
  python3 - "$WORK" "$OUT_DIR" <<'PY'
import json, pathlib, re, sys
work, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
summary = {"gpu": (work / "gpu.txt").read_text().strip() if (work / "gpu.txt").exists() else None}
try:
    b = json.loads((out / "bench_gpu.json").read_text())
    summary["bench_gpu"] = b
    loop_log = work / "logs" / "torch_loop.log"
    loop = re.search(r"seconds_per_sweep=([\d.]+)", loop_log.read_text()) if loop_log.exists() else None
    loop_s = float(loop.group(1)) if loop else None
    summary["torch_loop_seconds_per_sweep"] = loop_s
    floor_s = b["flop_floor"] / (b["gemm_peak_tflops"]["bf16"] * 1e12)
    masks = b["masks"]
    print(f"FLOP floor {b['flop_floor'] / 1e15:.2f} PFLOP = {floor_s:.2f} s at the measured bf16 GEMM peak "
          f"({b['gemm_peak_tflops']['bf16']:.0f} TFLOP/s)")
    print(f"{'':28}{'streams':>8}{'tokens':>8}{'s/sweep':>9}{'masks/s':>9}{'x floor':>9}{'vs loop':>9}")
    if loop_s:
        print(f"{'PyTorch loop fp16':28}{'-':>8}{'-':>8}{loop_s:9.2f}{masks / loop_s:9.2f}{loop_s / floor_s:9.2f}"
              f"{1:9.2f}")
    for s in b.get("sweeps", []):
        t = s["seconds_per_sweep"]
        vs = f"{loop_s / t:9.2f}" if loop_s else f"{'-':>9}"
        name = f"{s['executor']} {s['dtype']} {s.get('attention', '')} attn"
        print(f"{name:28}{s.get('streams', 1):>8}{s.get('token_budget', '-'):>8}{t:9.2f}{masks / t:9.2f}"
              f"{t / floor_s:9.2f}{vs}")
    for a in b.get("attention", []):
        half = a.get("ours_half_gated_tflops")
        print(f"attention T={a['T']:<4} ours/SDPA {a['ours_tflops'] / a['sdpa_tflops']:.2f}"
              + (f"  half the heads gated off: {half / a['sdpa_tflops']:.2f}" if half else ""))
    ew = b.get("elementwise")
    if ew:
        for k in ew["kernels"]:
            print(f"{k['kernel'][:52]:52} {k['gbs']:6.0f} GB/s = {k['gbs'] / ew['copy_gbs']:.2f} x a device copy")
except Exception as e:  # a failed step above already said why
    print("no benchmark summary:", e)
(out / "device-check.json").write_text(json.dumps(summary, indent=2))
PY
  echo "card: $(cut -d, -f1 "$WORK/gpu.txt" 2>/dev/null)  commit: ${HEADSWEEP_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}  $(date -u +%F)"
  local fail=0
  for k in "${steps[@]}"; do
    printf '%-11s %s\n' "$k" "${status[$k]}"
    [[ ${status[$k]} == ok ]] || fail=1
  done
  echo "total $(elapsed) s; every step's output in $OUT_DIR/logs.tgz"
  tar -C "$WORK" -czf "$OUT_DIR/logs.tgz" logs
  exit $fail
}

nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader | tee "$WORK/gpu.txt"
TORCH_DIR=${TORCH_DIR:-$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')}
# The bundle's Debian libraries are put in front of the system's only for headsweep's own programs:
# cmake, python3 and the CUDA tools keep the node's own.
HS_ENV=(env LD_LIBRARY_PATH="$LIB:$LIB/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
# Debian's multiarch headers (openssl/opensslconf.h) sit where only a Debian compiler looks by itself.
export CPATH=$ROOT/usr/include/x86_64-linux-gnu${CPATH:+:$CPATH}
# HEADSWEEP_REQUIRE_CUDA: a GPU test that finds no device fails here instead of skipping.
export CI=true GLUE_DIR=$BUNDLE/glue HEADSWEEP_MODEL_DIR=$WORK/model HEADSWEEP_REQUIRE_CUDA=1
CAP=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)
# PyTorch's CMake package compiles for TORCH_CUDA_ARCH_LIST, not CMAKE_CUDA_ARCHITECTURES.
export TORCH_CUDA_ARCH_LIST=$CAP
echo "PyTorch $(python3 -c 'import torch; print(torch.__version__)' 2>&1 | tail -1), sm_${CAP/./}, $(nproc) cores"

# The libraries PyTorch's CUDA build needs at run time (cuDNN, NCCL, ...) sit in its Python
# packages and are found through libtorch's own run path; the linker need not see them.
run_step configure 120 cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DHEADSWEEP_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="${CAP/./}" -DCMAKE_PREFIX_PATH="$TORCH_DIR;$ROOT/usr" \
    -DHDF5_C_INCLUDE_DIR="$ROOT/usr/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$LIB/hdf5/serial/libhdf5.so" \
    -DHDF5_INCLUDE_DIR="$ROOT/usr/include/hdf5/serial" -DHDF5_hdf5_LIBRARY_RELEASE="$LIB/hdf5/serial/libhdf5.so" \
    -DOPENSSL_ROOT_DIR="$ROOT/usr" -DZLIB_ROOT="$ROOT/usr" -DCMAKE_CUDA_FLAGS="-lineinfo" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  || { tail -30 "$LOGS/configure.log"; finish; }
run_step build 300 ninja -C build-device test_ops test_sweep headsweep bench_gpu \
  || { grep -m20 -A8 -E "error|FAILED" "$LOGS/build.log"; finish; }

run_step env 60 "${HS_ENV[@]}" build-device/headsweep env
cat "$LOGS/env.log"

# Catch's compact reporter prints every failed check with its values and captured variables.
run_step kernels 150 "${HS_ENV[@]}" build-device/tests/ops/test_ops --reporter compact
tail -4 "$LOGS/kernels.log"; grep -m12 -E "failed|FAILED" "$LOGS/kernels.log"

run_step model 150 "${HS_ENV[@]}" build-device/tests/sweep/test_sweep "[cuda],[device]" --reporter compact -s
grep -E "max \||RTE labels|passed|failed|FAILED|SKIP" "$LOGS/model.log" | tail -30

run_step memcheck 150 "${HS_ENV[@]}" HEADSWEEP_QUICK_KERNEL_TESTS=1 compute-sanitizer --tool memcheck --error-exitcode 99 \
    build-device/tests/ops/test_ops "[cuda]" --reporter compact
tail -6 "$LOGS/memcheck.log"

# fp32 with headsweep's kernel is left out: that is the SIMT kernel, slower than the fused attention
# at every shape measured (docs/performance.md#gpu), and the time goes to the one-stream comparison.
run_step bench 300 "${HS_ENV[@]}" build-device/bench_gpu --json "$OUT_DIR/bench_gpu.json" --lengths-out "$WORK/lengths.json" \
    --naive-masks 6 --tf32 --profile --runs bf16/fused bf16/kernel fp32/fused --also-budget 16384
cat "$LOGS/bench.log"

run_step torch_loop 90 env PYTHONUNBUFFERED=1 python3 benchmarks/gpu_torch_loop.py --lengths "$WORK/lengths.json" \
    --masks 12 --dtype fp16
tail -3 "$LOGS/torch_loop.log"

# The CLI end to end: the quickstart on CUDA and on the CPU, then their HDF5 files side by side.
run_step run_cuda 90 "${HS_ENV[@]}" build-device/headsweep run configs/quickstart.yaml --output "$WORK/quickstart-cuda.h5" \
    --set runtime.device=cuda --set model.path="$HEADSWEEP_MODEL_DIR"
tail -4 "$LOGS/run_cuda.log"
run_step run_cpu 120 "${HS_ENV[@]}" build-device/headsweep run configs/quickstart.yaml --output "$WORK/quickstart-cpu.h5" \
    --set runtime.device=cpu --set model.path="$HEADSWEEP_MODEL_DIR"
run_step run_compare 30 python3 - "$WORK/quickstart-cuda.h5" "$WORK/quickstart-cpu.h5" <<'PY'
import sys
import h5py
import numpy as np
gpu, cpu = (h5py.File(p, "r") for p in sys.argv[1:3])
assert gpu.attrs["complete"] == 1 and cpu.attrs["complete"] == 1, "a run did not complete"
# Where each ran, as the files record it (docs/hdf5-schema.md).
assert "\n  device: cuda\n" in gpu.attrs["config"] and "\n  device: cpu\n" in cpu.attrs["config"], "runtime.device"
print(f"device_name: {gpu.attrs['device_name']} | {cpu.attrs['device_name']}")
for name in cpu["scores"]:
    d = np.abs(gpu["scores"][name][:] - cpu["scores"][name][:])
    print(f"scores/{name}: max |cuda - cpu| {d.max():.2e} over {d.size} masks")
    assert d.max() < 1e-4, name
d = np.abs(gpu["predictions"][:] - cpu["predictions"][:])
print(f"predictions: max |cuda - cpu| {d.max():.2e} over {d.size} values")
assert d.max() < 1e-4
# Gradient importance and attention statistics ran on the GPU too, in float32.
# (/importance/ablation and *_vs_ablation come from the sweep's scores, compared above.)
for group in ("importance", "attention"):
    for name in cpu[group]:
        if "ablation" in name:
            continue
        a, b = gpu[group][name][:], cpu[group][name][:]
        excess = np.abs(a - b) - (1e-6 + 1e-3 * np.abs(b))
        print(f"{group}/{name}: max |cuda - cpu| {np.max(np.abs(a - b)):.2e}")
        assert excess.max() <= 0, f"{group}/{name}"
PY
cat "$LOGS/run_compare.log"

# Shared-memory hazards and barrier misuse in the kernels that stage tiles through shared memory
# (the attention's cp.async pipeline, the mixing's block sums), at the quick sizes. Last, so that
# they take only time the steps above left.
run_step racecheck 60 "${HS_ENV[@]}" HEADSWEEP_QUICK_KERNEL_TESTS=1 compute-sanitizer --tool racecheck --error-exitcode 99 \
    build-device/tests/ops/test_ops "gated attention kernel matches the fp64 composite,head mixing kernel matches the fp64 composite" \
    --reporter compact
tail -4 "$LOGS/racecheck.log"
run_step synccheck 40 "${HS_ENV[@]}" HEADSWEEP_QUICK_KERNEL_TESTS=1 compute-sanitizer --tool synccheck --error-exitcode 99 \
    build-device/tests/ops/test_ops "gated attention kernel matches the fp64 composite,head mixing kernel matches the fp64 composite" \
    --reporter compact
tail -4 "$LOGS/synccheck.log"

finish
