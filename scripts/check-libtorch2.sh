#!/usr/bin/env bash
# Checks that code written against Debian's libtorch 1.13 keeps building against PyTorch 2.x's
# libtorch, as GPU machines have it. Every mode but --seam fetches what it needs from PyPI into
# .deps/ once; --seam only uses headers fetched before.
#   scripts/check-libtorch2.sh [TORCH_VERSION]
#       every source that includes libtorch compiles (syntax only) against the wheel's headers
#   scripts/check-libtorch2.sh --fetch [TORCH_VERSION]
#       only fetches the wheel and unpacks its headers (scripts/setup.sh does this in CI)
#   scripts/check-libtorch2.sh --seam [TORCH_VERSION]
#       the op seam (src/ops/, where tensors become kernel params; its CUDA half where nvcc is found)
#       compiles (syntax only) against the fetched headers; exits 77 if they were not fetched.
#       The test suite runs this (test_ops).
#   scripts/check-libtorch2.sh --build [TORCH_VERSION]
#       the whole project, kernels included, configured, built and linked against the wheel's libtorch
#       (its CUDA build; needs the CUDA toolkit), then its test suite run; without a GPU those tests skip
# TORCH_VERSION defaults to 2.11.0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=syntax
case ${1:-} in
  --build | --fetch | --seam) MODE=${1#--}; shift ;;
esac
VERSION=${1:-2.11.0}
DEST=.deps/torch-$VERSION
INC=$DEST/torch/include
PY=python3; $PY -m pip --version >/dev/null 2>&1 || PY=/usr/bin/python3

if [[ $MODE == seam && ! -f $DEST/extracted-include && ! -f $DEST/extracted-all ]]; then
  echo "check-libtorch2.sh --seam: PyTorch $VERSION's headers are not in $DEST; fetch them with" \
       "scripts/check-libtorch2.sh --fetch $VERSION" >&2
  exit 77
fi
if [[ $MODE != seam ]]; then
  mkdir -p "$DEST"
  if ! ls "$DEST"/torch-"$VERSION"-*.whl >/dev/null 2>&1; then
    $PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
        --platform manylinux_2_28_x86_64 "torch==$VERSION" -d "$DEST"
  fi
  # Headers only for the syntax checks; the libraries and CMake package as well for a build.
  want=include
  [[ $MODE == build ]] && want=all
  if [[ ! -f $DEST/extracted-$want && ! -f $DEST/extracted-all ]]; then
    python3 - "$DEST" "$want" <<'PY'
import pathlib, sys, zipfile
dest, want = pathlib.Path(sys.argv[1]), sys.argv[2]
prefixes = ("torch/include/",) if want == "include" else ("torch/include/", "torch/lib/", "torch/share/")
with zipfile.ZipFile(next(dest.glob("torch-*.whl"))) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith(prefixes)])
PY
    touch "$DEST/extracted-$want"
  fi
  [[ $MODE == fetch ]] && { echo "PyTorch $VERSION's headers are in $INC"; exit 0; }
fi

if [[ $MODE == syntax || $MODE == seam ]]; then
  if [[ $MODE == seam ]]; then
    files=$(find src/ops -name '*.cpp' | sort)
  else
    # Every file that sees libtorch headers, directly or through model/bert.h.
    files=$( (grep -rlE '#include <(ATen|c10|torch)/' src tests benchmarks --include='*.cpp' --include='*.h';
              find src/sweep src/cli tests/model tests/sweep -name '*.cpp') | sort -u)
  fi
  # With the CUDA toolkit present, the CUDA half of the op seam (src/ops/cuda_ops.cpp) is checked too,
  # against PyTorch's CUDA headers, as a GPU build compiles it.
  cuda_flags=()
  if command -v nvcc >/dev/null; then
    cuda_inc=$(dirname "$(dirname "$(command -v nvcc)")")/include
    cuda_flags=(-Icuda -I"$cuda_inc" -DHEADSWEEP_HAS_CUDA -DHEADSWEEP_TORCH_CUDA)
  else
    echo "nvcc not found: src/ops/cuda_ops.cpp is not checked"
    files=$(echo "$files" | grep -v -e cuda_ops.cpp)
  fi
  status=0
  err=$(mktemp)
  for f in $files; do
    if ! g++ -std=c++17 -fsyntax-only -Isrc -Itests/support -I"$INC" -I"$INC/torch/csrc/api/include" \
        -I/usr/include/hdf5/serial -DHEADSWEEP_VERSION='"check"' -DHEADSWEEP_SOURCE_DIR='"."' \
        -DCATCH_CONFIG_PREFIX_ALL "${cuda_flags[@]}" -x c++ "$f" 2>"$err"; then
      echo "FAIL $f"; head -5 "$err"; status=1
    else
      echo "ok   $f"
    fi
  done
  rm -f "$err"
  exit $status
fi

# ---- --build
if ! command -v nvcc >/dev/null; then
  echo "check-libtorch2.sh --build: PyTorch's CUDA libtorch needs the CUDA toolkit (nvcc not on PATH)" >&2
  exit 2
fi
# libtorch_cuda needs, besides what a CUDA toolkit install provides (cudart, cuBLAS, cuFFT, cuDNN,
# NCCL, ...), three libraries that come only as Python packages; they are fetched at the versions
# the wheel pins and put on LD_LIBRARY_PATH for the test run.
NVLIB=$DEST/nvlib
if [[ ! -f $NVLIB/done ]]; then
  meta=$(python3 - "$DEST" <<'PY'
import pathlib, re, sys, zipfile
with zipfile.ZipFile(next(pathlib.Path(sys.argv[1]).glob("torch-*.whl"))) as z:
    text = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
reqs = re.findall(r"^Requires-Dist: ([^;\s]+)", text, re.M)
pins = {re.split(r"[=<>\[]", r)[0]: r for r in reqs}
for name in ("nvidia-cusparselt-cu13", "nvidia-nvshmem-cu13"):
    print(pins.get(name, name))
print("nvidia-cufile")
PY
)
  mkdir -p "$DEST/nvwheels" "$NVLIB"
  # shellcheck disable=SC2086
  $PY -m pip download -q --no-deps --only-binary=:all: -d "$DEST/nvwheels" $meta
  python3 - "$DEST/nvwheels" "$NVLIB" <<'PY'
import pathlib, re, sys, zipfile
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for wheel in src.glob("*.whl"):
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if re.search(r"/lib/[^/]+\.so(\.\d+)*$", n):
                (out / pathlib.Path(n).name).write_bytes(z.read(n))
PY
  touch "$NVLIB/done"
fi

B=build-torch$VERSION
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# PyTorch's CMake package compiles for TORCH_CUDA_ARCH_LIST and, without it, asks a GPU.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
# libtorch_cuda refers to the driver's libcuda, which a machine without a GPU lacks: the linker is
# told not to resolve the libraries' own references.
cmake -S . -B "$B" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PWD/$DEST/torch" \
    -DHEADSWEEP_CUDA=ON -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined"
# Test discovery runs the test programs, which load libtorch_cuda's libraries.
export LD_LIBRARY_PATH=$PWD/$NVLIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# PyTorch 2.11's libtorch exports std::filesystem functions built against GCC 13's libstdc++; with an
# older one (Debian 12's), the tests' temporary-folder cleanup needs the system's library first.
LD_PRELOAD=$(g++ -print-file-name=libstdc++.so.6)
export LD_PRELOAD
cmake --build "$B" --parallel "$(nproc)"
ctest --test-dir "$B" --output-on-failure -j"$(nproc)"
