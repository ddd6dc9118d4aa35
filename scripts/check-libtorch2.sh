#!/usr/bin/env bash
# Compiles (syntax only) every source that includes libtorch against PyTorch 2.x's headers, so code
# written against Debian's libtorch 1.13 keeps building on GPU machines with a current PyTorch.
# Downloads the torch wheel once (no dependencies) into .deps/; needs network access to PyPI.
#   scripts/check-libtorch2.sh [TORCH_VERSION]   (default 2.11.0)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VERSION=${1:-2.11.0}
DEST=.deps/torch-$VERSION
if [[ ! -d $DEST/torch/include ]]; then
  mkdir -p "$DEST"
  if ! ls "$DEST"/torch-"$VERSION"-*.whl >/dev/null 2>&1; then
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
        --platform manylinux_2_28_x86_64 "torch==$VERSION" -d "$DEST"
  fi
  # Only the headers are needed.
  python3 - "$DEST" <<'PY'
import pathlib, sys, zipfile
dest = pathlib.Path(sys.argv[1])
wheel = next(dest.glob("torch-*.whl"))
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith("torch/include/")])
PY
fi
INC=$DEST/torch/include
status=0
# Every file that sees libtorch headers, directly or through model/bert.h.
files=$( (grep -rlE '#include <(ATen|c10|torch)/' src tests benchmarks --include='*.cpp' --include='*.h';
          find src/sweep src/cli tests/model tests/sweep -name '*.cpp') | sort -u)
# With the CUDA toolkit present, the CUDA half of the op seam (src/ops/cuda_ops.cpp) is checked too,
# against PyTorch's CUDA headers, as a GPU build compiles it.
cuda_flags=()
if command -v nvcc >/dev/null; then
  cuda_inc=$(dirname "$(dirname "$(command -v nvcc)")")/include
  cuda_flags=(-Icuda -I"$cuda_inc" -DHEADSWEEP_HAS_CUDA -DHEADSWEEP_TORCH_CUDA)
else
  files=$(echo "$files" | grep -v -e cuda_ops.cpp)
fi
for f in $files; do
  if ! g++ -std=c++17 -fsyntax-only -Isrc -Itests/support -I"$INC" -I"$INC/torch/csrc/api/include" \
      -I/usr/include/hdf5/serial -DHEADSWEEP_VERSION='"check"' -DHEADSWEEP_SOURCE_DIR='"."' \
      -DCATCH_CONFIG_PREFIX_ALL "${cuda_flags[@]}" -x c++ "$f" 2>"$DEST/err.txt"; then
    echo "FAIL $f"; head -5 "$DEST/err.txt"; status=1
  else
    echo "ok   $f"
  fi
done
exit $status
