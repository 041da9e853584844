#!/usr/bin/python3
"""Writes the .npy fixtures of tests/test_npy.c with NumPy (Debian's
python3-numpy 1.24), and checks the files seqnn wrote.

    /usr/bin/python3 tests/gen_npy_fixtures.py          # (re)write numpy files, verify seqnn ones
    SEQNN_NPY_REGEN=1 build/test_all npy_writer          # seqnn writes tests/fixtures/npy/seqnn_*.npy

Every array here has its values spelled out again in tests/test_npy.c, which
reads these files and compares element by element (bit for bit for float32).
The np_*.npy files are what np.save writes for the arrays that the C test
writes with sn_npy_write_*: the C test compares the bytes, and this script
checks that numpy loads the committed seqnn_*.npy files to the same arrays
with the same bytes as np.save. Run from the repository root."""
import io
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "npy")

# Six values per dtype, shape (2, 3); mirrored in test_npy.c (VALS_*).
FLOATS = (np.arange(6, dtype=np.float64) - 2.5) * 0.1
INTS = {
    "i1": [-128, -1, 0, 1, 2, 127],
    "i2": [-32768, -1, 0, 1, 300, 32767],
    "i4": [-16777216, -1, 0, 1, 65536, 16777216],
    "i8": [-(1 << 40), -1, 0, 1, 1 << 24, 1 << 53],
    "u1": [0, 1, 2, 127, 128, 255],
    "u2": [0, 1, 300, 32768, 65280, 65535],
    "u4": [0, 1, 65536, 16777216, 4294967040, 2147483648],
    "u8": [0, 1, 1 << 24, 1 << 40, 1 << 62, 1 << 63],
    "b1": [True, False, True, True, False, False],
}

# What sn_npy_write_* writes in test_npy.c (npy_writer_* tests).
WRITTEN = {
    "f32_2x3": np.array([[0.5, -1.25, 0.0009765625], [1048576.0, -0.0, 3.140625]], dtype="<f4"),
    "f32_scalar": np.array(-2.75, dtype="<f4"),
    "f32_rank5": (np.arange(12, dtype="<f4") * 0.25).reshape(2, 1, 3, 1, 2),
    "f32_bigdim_empty": np.zeros((123456789, 0), dtype="<f4"),
    # header text + NumPy's growth spaces ends exactly at a 64-byte boundary:
    # one space more or less changes the header size by 64
    "f32_pad_edge": np.zeros((0, 1, 1, 1) + (10,) * 8, dtype="<f4"),
    "i64_ids": np.array([0, 7, -1, (1 << 62) + 1], dtype="<i8"),
}


def save(name, arr, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def generate():
    os.makedirs(OUT, exist_ok=True)
    for order in "<>":
        for kind in ("f4", "f8"):
            save("%s_%s.npy" % (kind, "le" if order == "<" else "be"), FLOATS.astype(order + kind).reshape(2, 3))
        for kind, vals in INTS.items():
            if kind[1] == "1" and order == ">":
                continue
            dt = ("|" if kind[1] == "1" else order) + kind
            save("%s_%s.npy" % (kind, "le" if order == "<" else "be"), np.array(vals, dtype=dt).reshape(2, 3))
    f4 = FLOATS.astype("<f4").reshape(2, 3)
    save("f4_v2.npy", f4, (2, 0))
    save("f4_v3.npy", f4, (3, 0))
    save("f4_fortran.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
    save("i8_fortran_be.npy", np.asfortranarray((np.arange(6).reshape(3, 2) - 2).astype(">i8")))
    save("f4_scalar.npy", np.array(3.5, dtype="<f4"))
    save("f4_empty.npy", np.zeros((0, 3), dtype="<f4"))
    save("f4_empty3.npy", np.zeros((2, 0, 5), dtype="<f4"))
    save("f4_rank4.npy", np.arange(12, dtype="<f4").reshape(1, 2, 3, 2) + 0.5)
    save("i8_ids.npy", np.array([0, 1, (1 << 40) + 1, -5, 1 << 62], dtype="<i8"))
    save("f8_ints.npy", np.array([1.0, -3.0, 2.0 ** 53], dtype="<f8"))
    save("f8_halfint.npy", np.array([1.0, 2.5], dtype="<f8"))
    save("f8_big.npy", np.array([0.0, 1e300], dtype="<f8"))
    save("i4_inexact.npy", np.array([16777216, 16777217], dtype="<i4"))
    save("c8_unsupported.npy", np.array([1 + 2j], dtype="<c8"))
    save("u8_huge.npy", np.array([1 << 63], dtype="<u8"))
    for name, arr in WRITTEN.items():
        save("np_%s.npy" % name, arr)


def verify_seqnn():
    missing = 0
    for name, arr in WRITTEN.items():
        path = os.path.join(OUT, "seqnn_%s.npy" % name)
        if not os.path.exists(path):
            print("missing", path, "(run SEQNN_NPY_REGEN=1 build/test_all npy_writer)")
            missing += 1
            continue
        got = np.load(path)
        assert got.dtype == arr.dtype and got.shape == arr.shape, (path, got.dtype, got.shape)
        assert got.tobytes() == arr.tobytes(), path
        with open(path, "rb") as f, open(os.path.join(OUT, "np_%s.npy" % name), "rb") as g:
            assert f.read() == g.read(), path + ": bytes differ from np.save"
        print("ok", path)
    return missing


if __name__ == "__main__":
    generate()
    sys.exit(1 if verify_seqnn() else 0)
