#!/usr/bin/python3
"""Checks a results file with h5py, as a user without headsweep would read it.

usage: check_results.py RESULTS.h5 EXPECTED.json HDF5_SCHEMA.md

EXPECTED.json (written by test_results.cpp) holds what the C++ test wrote. Checks shapes, dtypes,
values, NaN for unwritten rows, a description on every dataset and group, that docs/hdf5-schema.md
names every attribute and dataset, and runs the docs' Python example on the file.
Exit status 77 when h5py is missing (the test then skips).
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(77)

STRING_ATTRS = ["tool", "tool_version", "config", "config_sha256", "model_path", "model_id",
                "model_sha256", "inputs_sha256", "task", "split", "strategy", "device_name", "created"]
# Options left out of config_sha256 (docs/hdf5-schema.md).
IGNORED_KEYS = {"output.path", "output.overwrite", "runtime.threads", "runtime.streams", "runtime.progress"}


def config_sha256(config):
    """config_sha256 as docs/hdf5-schema.md defines it, from the config attribute."""
    import hashlib
    entries, section = {}, ""
    for line in config.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            section = line.split(":", 1)[0]
            continue
        key, _, value = line.strip().partition(":")
        entries[f"{section}.{key}"] = value.strip()
    text = "".join(f"{k}: {v}\n" for k, v in sorted(entries.items()) if k not in IGNORED_KEYS)
    return hashlib.sha256(text.encode()).hexdigest()
INT_ATTRS = ["schema_version", "n_examples", "n_layers", "n_heads", "complete"]


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def check_file(path, exp):
    N, L, H, B = exp["n_masks"], exp["n_layers"], exp["n_heads"], exp["n_examples"]
    metrics = exp["metrics"]
    with h5py.File(path, "r") as f:
        a = f.attrs
        check(set(a.keys()) == set(STRING_ATTRS + INT_ATTRS + ["metrics"]),
              f"root attributes: {sorted(a.keys())}")
        for k in STRING_ATTRS:
            check(isinstance(a[k], str), f"attribute {k} is {type(a[k])}, not str")
        for k in INT_ATTRS:
            check(isinstance(a[k], np.integer), f"attribute {k} is {type(a[k])}, not an integer")
        check(a["schema_version"] == 1, "schema_version")
        check(a["tool"] == "headsweep", "tool")
        check(a["config_sha256"] == config_sha256(a["config"]), "config_sha256 is not the documented hash")
        for k in ("model_sha256", "inputs_sha256"):
            check(re.fullmatch(r"[0-9a-f]{64}", a[k]), f"{k} {a[k]!r} is not a lowercase hex SHA-256")
        check(a["complete"] == exp["complete"], f"complete = {a['complete']}")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["created"]), f"created {a['created']}")
        check((a["n_examples"], a["n_layers"], a["n_heads"]) == (B, L, H), "sizes")
        check(list(a["metrics"]) == metrics, f"metrics {list(a['metrics'])}")
        for k, v in exp["attrs"].items():
            check(a[k] == v, f"attribute {k}: {a[k]!r} != {v!r}")

        def described(name, obj):
            d = obj.attrs.get("description")
            check(isinstance(d, str) and d.strip(), f"/{name} has no description")
        f.visititems(described)

        def dataset(name, dtype, shape):
            d = f[name]
            check(isinstance(d, h5py.Dataset), f"/{name} is not a dataset")
            check(d.dtype == np.dtype(dtype), f"/{name} dtype {d.dtype} != {dtype}")
            check(d.shape == shape, f"/{name} shape {d.shape} != {shape}")
            return d

        masks = dataset("masks", "uint8", (N, L, H))
        check(np.array_equal(masks[:].reshape(-1), np.array(exp["masks"], dtype=np.uint8)), "masks")
        names = f["mask_names"]
        check(names.shape == (N,) and h5py.check_string_dtype(names.dtype) is not None, "mask_names type")
        check(list(names.asstr()[:]) == exp["mask_names"], "mask_names")
        done = dataset("masks_done", "uint8", (N,))[:]
        written = {int(n): w for n, w in exp["written"].items()}
        check(list(done) == [1 if n in written else 0 for n in range(N)], f"masks_done {list(done)}")
        check(sorted(f["scores"].keys()) == sorted(metrics), f"scores: {list(f['scores'].keys())}")
        for m in metrics:
            s = dataset(f"scores/{m}", "float64", (N,))[:]
            for n in range(N):
                if n in written:
                    check(s[n] == written[n]["scores"][m], f"scores/{m}[{n}] = {s[n]}")
                else:
                    check(math.isnan(s[n]), f"scores/{m}[{n}] = {s[n]}, expected NaN")
        pred = dataset("predictions", "float32", (N, B))
        check(pred.chunks == (1, B), f"predictions chunks {pred.chunks}")
        p = pred[:]
        for n in range(N):
            if n in written:
                check(np.array_equal(p[n], np.array(written[n]["predictions"], dtype=np.float32)),
                      f"predictions[{n}] = {p[n]}")
            else:
                check(np.isnan(p[n]).all(), f"predictions[{n}] = {p[n]}, expected NaN")
        check(np.array_equal(dataset("examples/label", "float64", (B,))[:], exp["labels"]), "labels")
        check(np.array_equal(dataset("examples/row", "int64", (B,))[:], exp["rows"]), "rows")
        objects = []
        f.visit(objects.append)
        return list(a.keys()), objects


def check_docs(docs_path, attrs, objects):
    with open(docs_path, encoding="utf-8") as fh:
        doc = fh.read()
    names = {"/scores/<metric>" if o.startswith("scores/") else "/" + o for o in objects}
    for name in attrs + sorted(names) + ["description"]:
        check(f"`{name}`" in doc, f"{docs_path} does not describe `{name}`")
    return doc


# Stands in for pandas where it is not installed, so the docs example still runs against the file;
# it checks what the example relies on (equal-length 1-D columns).
PANDAS_STUB = '''
class DataFrame:
    def __init__(self, data):
        lengths = {k: len(v) for k, v in data.items()}
        assert len(set(lengths.values())) == 1, lengths
        for v in data.values():
            assert getattr(v, "ndim", 1) == 1
        self.data = data
    def sort_values(self, by, ascending=True):
        assert by in self.data, by
        return self
    def head(self, n=5):
        return self
    def __repr__(self):
        return repr(self.data)
'''


def run_docs_example(doc, results_path):
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    check(blocks, "docs/hdf5-schema.md has no ```python example")
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.abspath(results_path), os.path.join(tmp, "results.h5"))
        env = dict(os.environ)
        try:
            import pandas  # noqa: F401
        except ImportError:
            with open(os.path.join(tmp, "pandas.py"), "w") as fh:
                fh.write(PANDAS_STUB)
            env["PYTHONPATH"] = tmp + os.pathsep + env.get("PYTHONPATH", "")
        r = subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp, env=env,
                           capture_output=True, text=True)
        check(r.returncode == 0, f"the docs example failed:\n{r.stderr}")


def main():
    results, expected, docs = sys.argv[1:4]
    with open(expected) as fh:
        exp = json.load(fh)
    attrs, objects = check_file(results, exp)
    doc = check_docs(docs, attrs, objects)
    run_docs_example(doc, results)
    print(f"check_results.py: {results} OK")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"check_results.py: {sys.argv[1]}: {e}", file=sys.stderr)
        sys.exit(1)
