#!/usr/bin/env bash
# One run on a GPU machine: build with the CUDA kernels against PyTorch's libtorch, run the GPU
# tests (the kernel tests also under compute-sanitizer memcheck), run the GPU benchmarks, print a
# short table last and write JSON. For a machine with CUDA, PyTorch (python3), cmake and ninja but
# no network: the other C++ dependencies, the test checkpoint and STS-B dev come from .deps/device/,
# made beforehand by scripts/bundle-device-deps.sh on a machine with package access.
#   scripts/device-check.sh [OUT_DIR]     (default /tmp/headsweep-device-check)
# Meant to finish within 8 minutes on one H100 (not yet timed on one).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT_DIR=${1:-/tmp/headsweep-device-check}
mkdir -p "$OUT_DIR"
BUNDLE=$PWD/.deps/device
[[ -f $BUNDLE/root.tar.xz ]] || { echo "device-check: $BUNDLE missing; run scripts/bundle-device-deps.sh first" >&2; exit 2; }
t0=$(date +%s)
ROOT=/tmp/headsweep-deps/root
LIB=$ROOT/usr/lib/x86_64-linux-gnu
mkdir -p /tmp/headsweep-deps/model && tar -C /tmp/headsweep-deps -xJf "$BUNDLE/root.tar.xz"
cp "$BUNDLE"/model/*.json "$BUNDLE"/model/*.txt /tmp/headsweep-deps/model/
xz -dc "$BUNDLE/model/model.safetensors.xz" > /tmp/headsweep-deps/model/model.safetensors
step() { echo "== $1 ($(( $(date +%s) - t0 )) s)"; }
declare -A status

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT_DIR/gpu.txt"
TORCH_DIR=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH=$LIB:$LIB/hdf5/serial:$TORCH_DIR/lib:${LD_LIBRARY_PATH:-}
# Debian's multiarch headers (openssl/opensslconf.h) sit where only a Debian compiler looks by itself.
export CPATH=$ROOT/usr/include/x86_64-linux-gnu${CPATH:+:$CPATH}
export CI=true GLUE_DIR=$BUNDLE/glue HEADSWEEP_MODEL_DIR=/tmp/headsweep-deps/model
ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)

step "configure and build (sm_$ARCH, PyTorch $(python3 -c 'import torch; print(torch.__version__)'))"
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DHEADSWEEP_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$ARCH" -DCMAKE_PREFIX_PATH="$TORCH_DIR/share/cmake;$ROOT/usr" \
    -DHDF5_C_INCLUDE_DIR="$ROOT/usr/include/hdf5/serial" -DHDF5_C_LIBRARY_hdf5="$LIB/hdf5/serial/libhdf5.so" \
    -DHDF5_INCLUDE_DIR="$ROOT/usr/include/hdf5/serial" -DHDF5_hdf5_LIBRARY_RELEASE="$LIB/hdf5/serial/libhdf5.so" \
    -DOPENSSL_ROOT_DIR="$ROOT/usr" -DZLIB_ROOT="$ROOT/usr" -DCMAKE_CUDA_FLAGS="-lineinfo" > "$OUT_DIR/configure.log" 2>&1 \
  || { tail -30 "$OUT_DIR/configure.log"; exit 1; }
ninja -C build-device test_ops test_sweep headsweep bench_gpu > "$OUT_DIR/build.log" 2>&1 \
  || { grep -m20 -A5 -E "error|FAILED" "$OUT_DIR/build.log"; exit 1; }

step "kernel tests"
build-device/tests/ops/test_ops --reporter compact 2>&1 | tail -5 | tee "$OUT_DIR/test_ops.txt"
status[kernels]=${PIPESTATUS[0]}

step "kernel tests under compute-sanitizer memcheck (quick sizes)"
HEADSWEEP_QUICK_KERNEL_TESTS=1 compute-sanitizer --tool memcheck --error-exitcode 99 \
    build-device/tests/ops/test_ops "[cuda]" --reporter compact 2>&1 | tail -8 | tee "$OUT_DIR/memcheck.txt"
status[memcheck]=${PIPESTATUS[0]}

step "whole model on GPU vs CPU (real checkpoint, STS-B dev)"
build-device/tests/sweep/test_sweep "[cuda],[device]" --reporter compact -s 2>&1 | grep -E "max \||passed|failed|SKIP" \
  | tail -12 | tee "$OUT_DIR/test_sweep.txt"
status[model]=${PIPESTATUS[0]}

step "headsweep run on cuda"
build-device/headsweep run configs/quickstart.yaml --output "$OUT_DIR/quickstart-cuda.h5" \
    --set runtime.device=cuda --set model.path="$HEADSWEEP_MODEL_DIR" 2>&1 | tail -6 | tee "$OUT_DIR/run.txt"
status[run]=${PIPESTATUS[0]}

step "GPU benchmark: bench_gpu (ours) and the PyTorch per-mask loop"
build-device/bench_gpu --json "$OUT_DIR/bench_gpu.json" --lengths-out "$OUT_DIR/lengths.json" --naive-masks 12 \
    --tf32 2>&1 | tee "$OUT_DIR/bench_gpu.txt"
status[bench]=${PIPESTATUS[0]}
python3 benchmarks/gpu_torch_loop.py --lengths "$OUT_DIR/lengths.json" --masks 12 --dtype fp16 2>&1 \
  | tee "$OUT_DIR/torch_loop.txt"
status[torch_loop]=${PIPESTATUS[0]}

step "summary"
python3 - "$OUT_DIR" <<'PY'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
summary = {"gpu": (out / "gpu.txt").read_text().strip()}
try:
    b = json.loads((out / "bench_gpu.json").read_text())
    summary["bench_gpu"] = b
    loop = re.search(r"seconds_per_sweep=([\d.]+)", (out / "torch_loop.txt").read_text())
    loop_s = float(loop.group(1)) if loop else None
    summary["torch_loop_seconds_per_sweep"] = loop_s
    floor_s = b["flop_floor"] / (b["gemm_peak_tflops"]["bf16"] * 1e12)
    print(f"{'':24}{'s/sweep':>9}{'masks/s':>9}{'x floor':>9}{'vs loop':>9}")
    if loop_s:
        print(f"{'PyTorch loop fp16':24}{loop_s:9.2f}{145 / loop_s:9.2f}{loop_s / floor_s:9.2f}{1:9.2f}")
    for s in b["sweeps"]:
        t = s["seconds_per_sweep"]
        vs = f"{loop_s / t:9.2f}" if loop_s else f"{'-':>9}"
        print(f"{s['executor'] + ' ' + s['dtype']:24}{t:9.2f}{145 / t:9.2f}{t / floor_s:9.2f}{vs}")
    for a in b["attention"]:
        print(f"attention T={a['T']:<4} ours/SDPA {a['ours_tflops'] / a['sdpa_tflops']:.2f}")
except Exception as e:  # a failed step above already said why
    print("no benchmark summary:", e)
(out / "device-check.json").write_text(json.dumps(summary, indent=2))
PY
echo "card: $(cut -d, -f1 "$OUT_DIR/gpu.txt")  commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')  $(date -u +%F)"
fail=0
for k in kernels memcheck model run bench torch_loop; do
  printf '%-11s %s\n' "$k" "$([[ ${status[$k]} == 0 ]] && echo ok || echo "FAILED (${status[$k]})")"
  [[ ${status[$k]} == 0 ]] || fail=1
done
echo "total $(( $(date +%s) - t0 )) s; JSON in $OUT_DIR/device-check.json"
exit $fail
