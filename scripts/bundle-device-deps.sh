#!/usr/bin/env bash
# Prepares .deps/device/ (git-ignored) for scripts/device-check.sh on a GPU machine that has CUDA,
# PyTorch (python3), cmake and ninja but no network. Run it on a machine with Debian 12 package
# access, after scripts/setup.sh; then copy the checkout, .deps/device/ included, to the GPU node.
#   root.tar.xz  the build's C++ dependencies from Debian's packages, unpacked (headers and shared
#           libraries only) and compressed, so the bundle stays small enough to copy to a node
#           along with the checkout
#   model/  the test checkpoint with float16 weights, xz-compressed (model.safetensors.xz; the GPU
#           tests compare GPU with CPU on the same weights, so the stored precision does not matter)
#   glue/   STS-B dev, the first 1,000 STS-B train pairs (what the quickstart's importance reads),
#           and RTE dev (the GPU tests' classification sweep)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
: "${GLUE_DIR:?set GLUE_DIR to the GLUE folder}"
DEST=.deps/device
PKGS=(catch2 libcli11-dev nlohmann-json3-dev libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7
      libhdf5-dev libhdf5-103-1 libsz2 libaec0 libssl-dev zlib1g-dev zlib1g libicu-dev libicu72
      # libhdf5's libcurl and what that needs, in case the GPU machine's image lacks them
      libcurl4 libnghttp2-14 librtmp1 libssh2-1 libpsl5 libldap-2.5-0 libsasl2-2 libbrotli1 libidn2-0
      libunistring2 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libcom-err2
      libzstd1 libgnutls30 libhogweed6 libnettle8 libgmp10 libp11-kit0 libtasn1-6 libffi8 libssl3)
rm -rf "$DEST" && mkdir -p "$DEST/debs" "$DEST/root" "$DEST/model" "$DEST/glue/STS-B" "$DEST/glue/RTE"
(cd "$DEST/debs" && apt-get download "${PKGS[@]}" 2>/dev/null)
for f in "$DEST"/debs/*.deb; do dpkg -x "$f" "$DEST/root"; done
rm -rf "$DEST/debs" "$DEST/root/usr/share/doc" "$DEST/root/usr/share/man" "$DEST/root/usr/share/locale" \
       "$DEST/root/usr/share/lintian"
# Catch2's CMake package checks that its static main library exists; every other archive goes.
find "$DEST/root" -name '*.a' ! -name 'libCatch2*' -delete
# Debian's absolute symlinks would point into the GPU machine's own /usr; make them relative.
find "$DEST/root" -type l | while read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* ]]; then ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$DEST/root$target")" "$link"; fi
done

tar -C "$DEST" -cJf "$DEST/root.tar.xz" root && rm -rf "$DEST/root"

/usr/bin/python3 - models/all-MiniLM-L6-v2 "$DEST/model" <<'PY'
import json, pathlib, shutil, struct, sys
import numpy as np
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in src.iterdir():
    if f.is_file() and f.name not in ("model.safetensors", "tokenizer.json", "README.md", ".gitattributes",
                                      "data_config.json"):
        shutil.copy(f, dst / f.name)
raw = (src / "model.safetensors").read_bytes()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
out_header, chunks, offset = {}, [], 0
for name, info in header.items():
    if name == "__metadata__":
        out_header[name] = info
        continue
    a, b = info["data_offsets"]
    t = np.frombuffer(body[a:b], dtype={"F32": np.float32, "F16": np.float16, "I64": np.int64}[info["dtype"]])
    if info["dtype"] == "F32":
        t, dtype = t.astype(np.float16), "F16"
    else:
        dtype = info["dtype"]
    data = t.tobytes()
    out_header[name] = {"dtype": dtype, "shape": info["shape"], "data_offsets": [offset, offset + len(data)]}
    chunks.append(data)
    offset += len(data)
h = json.dumps(out_header).encode()
h += b" " * (-len(h) % 8)
(dst / "model.safetensors").write_bytes(struct.pack("<Q", len(h)) + h + b"".join(chunks))
PY
xz -T0 -6 "$DEST/model/model.safetensors"
cp "$GLUE_DIR/STS-B/dev.tsv" "$DEST/glue/STS-B/"
head -n 1001 "$GLUE_DIR/STS-B/train.tsv" > "$DEST/glue/STS-B/train.tsv"
cp "$GLUE_DIR/RTE/dev.tsv" "$DEST/glue/RTE/"
du -sh "$DEST"/* "$DEST"
