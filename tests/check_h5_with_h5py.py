#!/usr/bin/python3
"""Checks with h5py (Debian's libhdf5 1.10) that files seqnn's HDF5 writer
produced read back exactly:

  1. tests/fixtures/h5/seqnn_written.h5, the file tests/test_h5_write.c
     compares the writer's bytes with: every group, dataset (values, shape,
     dtype float32) and attribute (variable-length UTF-8 strings);
  2. with a built CLI (build/seqnn, or $SEQNN_CLI): each .keras fixture in
     tests/fixtures/keras is imported and exported again, and the exported
     model.weights.h5 must hold the very arrays of the h5py-written original
     (same paths, shapes, float32 bits) and Keras 3's "name" attributes.

    /usr/bin/python3 tests/check_h5_with_h5py.py      # from the repository root

Prints what it checked; exits 1 on the first difference."""
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "h5", "seqnn_written.h5")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def pattern(n):
    i = np.arange(n, dtype=np.int64)
    return (((i * 37) % 101) * 0.25 - 12).astype(np.float32)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def attr_str(obj, name):
    v = obj.attrs[name]
    if isinstance(v, bytes):
        v = v.decode()
    return v


def check_fixture():
    """The contents tests/test_h5_write.c's build() writes."""
    big = pattern(50 * 64).reshape(50, 64)
    js = '{"config": [' + ", ".join(str(i) for i in range(15000)) + "]}"
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.40282347e38], dtype=np.float32)
    with h5py.File(FIXTURE, "r") as f:
        want_attrs = {"name": "root", "unicode": "größe ✓ 日本語", "empty": "", "json": js}
        for k, v in want_attrs.items():
            if attr_str(f, k) != v:
                fail("/ attribute %s" % k)
        if attr_str(f["layers/dense/vars"], "name") != "dense" or attr_str(f["layers/dense/vars/0"], "note") != "kernel":
            fail("layers/dense attributes")
        ds = {
            "layers/dense/vars/0": big.ravel()[:12].reshape(3, 4),
            "layers/dense/vars/1": big.ravel()[:4],
            "scalar": np.float32(3.25),
            "empty": np.zeros((0, 5), np.float32),
            "big": big,
            "special": special,
            "n" * 300: big.ravel()[:4],
        }
        for i in range(300):
            ds["many/m%03d" % i] = np.array([i * 0.5, -(i * 0.5)], np.float32)  # -0.0 for i = 0, as in C
        for p, want in ds.items():
            got = f[p][()]
            if not same(got, np.asarray(want, np.float32)):
                fail("%s: %r" % (p[:40], got))
        if not isinstance(f["deep/a/b/c/d/e/f/g"], h5py.Group) or len(f["many"]) != 300:
            fail("groups")
    print("ok  %s: %d datasets, 6 attributes, nested groups" % (os.path.relpath(FIXTURE, ROOT), len(ds)))


def weights(data):
    """{path: array} and {path: name attribute} of a model.weights.h5 image."""
    arrays, names = {}, {}
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(path, obj):
            if isinstance(obj, h5py.Dataset):
                arrays[path] = obj[()]
            elif "name" in obj.attrs:
                names[path] = attr_str(obj, "name")
        f.visititems(visit)
    return arrays, names


def check_exports():
    cli = os.environ.get("SEQNN_CLI", os.path.join(ROOT, "build", "seqnn"))
    if not os.access(cli, os.X_OK):
        print("skip: no CLI at %s (make first) for the export check" % cli)
        return
    kdir = os.path.join(ROOT, "tests", "fixtures", "keras")
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(kdir)):
            if not name.endswith(".keras") or name.startswith("bad_"):
                continue
            src = os.path.join(kdir, name)
            m, out = os.path.join(tmp, "m.seqnn"), os.path.join(tmp, "out.keras")
            subprocess.run([cli, "import", src, "-o", m], check=True, capture_output=True)
            subprocess.run([cli, "export", "--keras", m, "-o", out], check=True, capture_output=True)
            a0, _ = weights(zipfile.ZipFile(src).read("model.weights.h5"))
            a1, n1 = weights(zipfile.ZipFile(out).read("model.weights.h5"))
            if sorted(a0) != sorted(a1):
                fail("%s: exported paths %s, original %s" % (name, sorted(a1), sorted(a0)))
            for p in a0:
                if not same(np.asarray(a0[p], np.float32), a1[p]):
                    fail("%s: %s differs" % (name, p))
            if "vars" not in n1:
                fail("%s: no name attribute on /vars" % name)
            count += 1
    print("ok  %d .keras fixtures: exported model.weights.h5 holds the original arrays" % count)


if __name__ == "__main__":
    check_fixture()
    check_exports()
