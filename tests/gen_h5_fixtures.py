#!/usr/bin/python3
"""Writes the HDF5 fixtures of tests/test_h5_read.c with h5py (Debian's
libhdf5 1.10), one file per family of on-disk structures seqnn's reader
must handle, and tests/fixtures/h5/manifest.json saying what each holds.

    /usr/bin/python3 tests/gen_h5_fixtures.py     # from the repository root

Files (tests/fixtures/h5/):
  earliest.h5   libver "earliest" (h5py's default, what Keras writes):
                superblock 0, version 1 object headers, symbol-table groups
                (one with 600 links: a B-tree of two levels), contiguous
                / compact / chunked (v1 B-tree, deflate + shuffle +
                fletcher32, partial edge chunks) datasets, fill values,
                fixed (null-terminated / null-padded / space-padded, ASCII /
                UTF-8) and variable-length string attributes, Keras's
                "name0, name1, ..." attribute chunks, big-endian and integer
                and float16 / float64 datasets
  latest.h5     libver "latest": superblock 3, version 2 object headers,
                compact and dense link storage (fractal heap + v2 B-tree, a
                creation-order index, a 5000-byte link name stored as a huge
                heap object), dense attribute storage (30 attributes, and a
                100 KB fixed-length string as a huge object), layout
                version 4 with every chunk index: single chunk (plain and
                filtered), implicit, fixed array (plain, filtered, paged),
                extensible array (secondary blocks; unlimited dimension not
                first), version 2 B-tree (plain and filtered, several levels)
  userblock.h5  a 1024-byte user block: the superblock is found at 1024 and
                every address is relative to it
  sizes_o4_l8.h5, sizes_o8_l4.h5
                4-byte offsets with 8-byte lengths (libver earliest) and the
                reverse (latest): every address / length field changes width
  sweep.h5      a small libver-"latest" file whose metadata is checksummed and
                whose chunks carry fletcher32: the C test flips each byte and
                wants an error or the original data
A manifest string "@digits:N" stands for "00000,00001,...," (N numbers).
Every value follows a formula the C test recomputes (manifest "pattern"):
  "f": ((i*37) % 101) * 0.25 - 12   (float types: exact in float16 too)
  "i": ((i*37) % 101) - 50          "u": (i*37) % 101
No object carries times, so running this again gives the same bytes."""
import json
import os

import h5py
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "h5")
MAN = {}


def pattern(kind, shape, dtype):
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    v = (i * 37) % 101
    if kind == "f":
        v = v * 0.25 - 12
    elif kind == "i":
        v = v - 50
    return v.astype(dtype).reshape(shape)


def lookup3(data, init=0):
    """Bob Jenkins' hashlittle (HDF5's metadata checksum)."""
    M = 0xFFFFFFFF

    def rot(x, k):
        return ((x << k) | (x >> (32 - k))) & M

    n = len(data)
    a = b = c = (0xDEADBEEF + n + init) & M
    i = 0
    while n > 12:
        a = (a + int.from_bytes(data[i:i + 4], "little")) & M
        b = (b + int.from_bytes(data[i + 4:i + 8], "little")) & M
        c = (c + int.from_bytes(data[i + 8:i + 12], "little")) & M
        a = (a - c) & M; a ^= rot(c, 4); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 6); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 8); b = (b + a) & M
        a = (a - c) & M; a ^= rot(c, 16); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 19); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 4); b = (b + a) & M
        n -= 12
        i += 12
    if n == 0:
        return c
    tail = data[i:i + n] + bytes(12 - n)
    a = (a + int.from_bytes(tail[0:4], "little")) & M
    b = (b + int.from_bytes(tail[4:8], "little")) & M
    c = (c + int.from_bytes(tail[8:12], "little")) & M
    c ^= b; c = (c - rot(b, 14)) & M
    a ^= c; a = (a - rot(c, 11)) & M
    b ^= a; b = (b - rot(a, 25)) & M
    c ^= b; c = (c - rot(b, 16)) & M
    a ^= c; a = (a - rot(c, 4)) & M
    b ^= a; b = (b - rot(a, 14)) & M
    c ^= b; c = (c - rot(b, 24)) & M
    return c


def zero_root_times(name):
    """libhdf5 1.10 records times on a version 2 root group even when the
    file creation property list says not to: zero them (and fix the
    header's checksum) so the files do not change from run to run."""
    path = os.path.join(OUT, name)
    b = bytearray(open(path, "rb").read())
    if b[8] < 2:
        return
    root = int.from_bytes(b[36:44], "little")
    assert b[root:root + 4] == b"OHDR"
    flags = b[root + 5]
    if not flags & 0x20:
        return
    b[root + 6:root + 22] = bytes(16)
    pre = 6 + 16 + (4 if flags & 0x10 else 0)
    szb = 1 << (flags & 3)
    end = root + pre + szb + int.from_bytes(b[root + pre:root + pre + szb], "little")
    b[end:end + 4] = lookup3(bytes(b[root:end])).to_bytes(4, "little")
    open(path, "wb").write(bytes(b))


def new_file(name, libver, userblock=0, sizes=None):
    """A file with no object times (low-level creation property lists)."""
    fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
    fcpl.set_obj_track_times(False)
    if sizes:
        fcpl.set_sizes(*sizes)
    if userblock:
        fcpl.set_userblock(userblock)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    low = h5py.h5f.LIBVER_LATEST if libver == "latest" else h5py.h5f.LIBVER_EARLIEST
    fapl.set_libver_bounds(low, h5py.h5f.LIBVER_LATEST)
    path = os.path.join(OUT, name)
    fid = h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl, fapl=fapl)
    MAN[name] = {"datasets": [], "attrs": [], "groups": []}
    return h5py.File(fid)


def group(parent, name, track_order=False):
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    gcpl.set_obj_track_times(False)
    if track_order:
        gcpl.set_link_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
        gcpl.set_attr_creation_order(h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED)
    h5py.h5g.create(parent.id, name.encode(), gcpl=gcpl)
    return parent[name]


def dataset(f, fname, path, shape, dtype, kind="f", values=None, **kw):
    """A dataset of the formula (or of explicit values) recorded in the manifest."""
    data = pattern(kind, shape, dtype) if values is None else np.asarray(values, dtype=dtype).reshape(shape)
    f.create_dataset(path, data=data, track_times=False, **kw)
    entry = {"path": "/" + path.lstrip("/"), "shape": list(shape)}
    if values is None:
        entry["pattern"] = kind
    else:
        entry["values"] = [float(x) for x in data.astype(np.float32).ravel()]
    MAN[fname]["datasets"].append(entry)


def lowlevel(f, fname, path, shape, dtype, chunks, kind="f", write=None, alloc_early=False, fill=None, compact=False):
    """A dataset through the low-level API (compact layout, early allocation
    for the implicit index, fill values with chunks left unwritten)."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    if compact:
        dcpl.set_layout(h5py.h5d.COMPACT)
    if chunks:
        dcpl.set_chunk(chunks)
    if alloc_early:
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    if fill is not None:
        dcpl.set_fill_value(np.array(fill, dtype=dtype))
    space = h5py.h5s.create_simple(shape)
    tid = h5py.h5t.py_create(np.dtype(dtype))
    h5py.h5d.create(f.id, path.encode(), tid, space, dcpl=dcpl)
    d = f[path]
    full = pattern(kind, shape, dtype)
    out = np.full(shape, fill if fill is not None else 0, dtype=dtype)
    if write is None:
        d[...] = full
        out = full
    else:
        for sl in write:
            d[sl] = full[sl]
            out[sl] = full[sl]
    entry = {"path": "/" + path, "shape": list(shape)}
    if write is None:
        entry["pattern"] = kind
    else:
        entry["values"] = [float(x) for x in out.astype(np.float32).ravel()]
    MAN[fname]["datasets"].append(entry)


def attr(obj, fname, name, value, strings):
    obj.attrs[name] = value
    MAN[fname]["attrs"].append({"path": obj.name, "name": name, "strings": strings})


def fixed_attr(obj, fname, name, strings, size, pad, cset):
    """A fixed-length string attribute with the given padding and charset."""
    t = h5py.h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad({"nullterm": h5py.h5t.STR_NULLTERM, "nullpad": h5py.h5t.STR_NULLPAD, "spacepad": h5py.h5t.STR_SPACEPAD}[pad])
    t.set_cset(h5py.h5t.CSET_UTF8 if cset == "utf8" else h5py.h5t.CSET_ASCII)
    raw = [s.encode() for s in strings]
    if pad == "spacepad":
        raw = [r.ljust(size, b" ") for r in raw]
    arr = np.array(raw, dtype="S%d" % size)
    space = h5py.h5s.create_simple((len(strings),)) if len(strings) != 1 or name.endswith("_list") else h5py.h5s.create(h5py.h5s.SCALAR)
    a = h5py.h5a.create(obj.id, name.encode(), t, space)
    a.write(arr if space.get_simple_extent_type() != h5py.h5s.SCALAR else arr.reshape(()), mtype=t)
    MAN[fname]["attrs"].append({"path": obj.name, "name": name, "strings": strings})


def members(g, fname, names):
    MAN[fname]["groups"].append({"path": g.name, "members": sorted(names)})


def common(f, fname):
    """Datasets of every numeric type both formats share."""
    group(f, "types")  # (an intermediate group made by create_dataset would carry times)
    dataset(f, fname, "types/f32le", (3, 4), "<f4")
    dataset(f, fname, "types/f32be", (3, 4), ">f4")
    dataset(f, fname, "types/f64le", (5,), "<f8")
    dataset(f, fname, "types/f64be", (2, 3), ">f8")
    dataset(f, fname, "types/f16", (7,), "<f2")
    for t in ["i1", "i2", "i4", "i8"]:
        dataset(f, fname, "types/%sle" % t, (6,), "<" + t, kind="i")
        dataset(f, fname, "types/%sbe" % t, (6,), ">" + t, kind="i")
    for t in ["u1", "u2", "u4", "u8"]:
        dataset(f, fname, "types/%s" % t, (6,), "<" + t, kind="u")
    dataset(f, fname, "types/scalar", (), "<f4", values=[2.5])
    dataset(f, fname, "types/empty", (0, 3), "<f4", values=[])
    dataset(f, fname, "types/rank4", (2, 3, 2, 2), "<f4")
    attr(f, fname, "vlen_str", "a variable-length string ✓", ["a variable-length string ✓"])
    attr(f, fname, "vlen_list", np.array(["alpha", "beta", "", "δέλτα"], dtype=h5py.string_dtype()), ["alpha", "beta", "", "δέλτα"])
    attr(f, fname, "empty_f64", np.array([], dtype=np.float64), [])
    fixed_attr(f, fname, "fixed_nullterm", ["lstm_1", "dense_2"], 8, "nullterm", "ascii")
    fixed_attr(f, fname, "fixed_nullpad", ["kernel:0", "bias:0", "recurrent_kernel:0"], 18, "nullpad", "ascii")
    fixed_attr(f, fname, "fixed_spacepad", ["ab", "c"], 5, "spacepad", "ascii")
    fixed_attr(f, fname, "fixed_utf8", ["größe"], 16, "nullpad", "utf8")
    # Keras's split form: layer_names0, layer_names1 (read back as one list)
    f.attrs["layer_names0"] = np.array([b"l%d" % i for i in range(3)])
    f.attrs["layer_names1"] = np.array([b"l%d" % i for i in range(3, 5)])
    MAN[fname]["attrs"].append({"path": "/", "name": "layer_names", "strings": ["l%d" % i for i in range(5)]})


def earliest():
    fn = "earliest.h5"
    f = new_file(fn, "earliest")
    common(f, fn)
    lowlevel(f, fn, "compact", (4, 3), "<f4", None, compact=True)
    dataset(f, fn, "chunked/deflate", (20, 30), "<f4", chunks=(2, 3), compression="gzip", shuffle=True, fletcher32=True)
    dataset(f, fn, "chunked/edges", (7, 5), "<f8", chunks=(3, 2))
    lowlevel(f, fn, "chunked/fill", (6, 4), "<f4", (2, 2), write=[np.s_[0:2, 0:2], np.s_[4:6, 2:4]], fill=7.5)
    lowlevel(f, fn, "unwritten", (3, 2), "<f4", None, write=[], fill=-1.25)
    g = f.create_group("many")
    target = f.create_dataset("many_target", data=pattern("f", (2,), "<f4"), track_times=False)
    MAN[fn]["datasets"].append({"path": "/many_target", "shape": [2], "pattern": "f"})
    names = ["l%04d" % i for i in range(600)]
    for n in names:
        g[n] = target
    MAN[fn]["datasets"].append({"path": "/many/l0456", "shape": [2], "pattern": "f"})
    members(g, fn, names)
    members(f["types"], fn, list(f["types"].keys()))
    # a Keras-sized model_config: a 100 KB variable-length string (global heap)
    f.attrs["model_config"] = "".join("%05d," % i for i in range(100000 // 6))
    MAN[fn]["attrs"].append({"path": "/", "name": "model_config", "strings": ["@digits:%d" % (100000 // 6)]})
    f.close()


def latest():
    fn = "latest.h5"
    f = new_file(fn, "latest")
    common(f, fn)
    lowlevel(f, fn, "compact", (4, 3), "<f4", None, compact=True)
    idx = group(f, "index")
    dataset(f, fn, "index/single", (6, 5), "<f4", chunks=(6, 5))
    dataset(f, fn, "index/single_filtered", (6, 5), "<f4", chunks=(6, 5), compression="gzip", shuffle=True)
    lowlevel(f, fn, "index/implicit", (9, 4), "<f4", (4, 3), alloc_early=True)
    dataset(f, fn, "index/fixed", (7, 5), "<f4", chunks=(3, 2))
    dataset(f, fn, "index/fixed_filtered", (7, 5), "<f8", chunks=(3, 2), compression="gzip", shuffle=True, fletcher32=True)
    dataset(f, fn, "index/fixed_paged", (1100,), "<f4", chunks=(1,))
    lowlevel(f, fn, "index/fixed_fill", (6, 4), "<f4", (2, 2), write=[np.s_[2:4, 0:2]], fill=3.5)
    dataset(f, fn, "index/earray", (300, 2), "<f4", chunks=(1, 2), maxshape=(None, 2))
    dataset(f, fn, "index/earray_filtered", (50, 3), "<f4", chunks=(2, 3), maxshape=(None, 3), compression="gzip")
    dataset(f, fn, "index/earray_dim1", (3, 40), "<f4", chunks=(3, 1), maxshape=(3, None))
    dataset(f, fn, "index/btree2", (40, 60), "<f4", chunks=(2, 2), maxshape=(None, None))
    dataset(f, fn, "index/btree2_filtered", (20, 30), "<f4", chunks=(4, 7), maxshape=(None, None), compression="gzip",
            shuffle=True, fletcher32=True)
    members(idx, fn, list(idx.keys()))
    # dense links: 300 members, a creation-order index, one huge (5000-byte) name
    g = group(f, "dense", track_order=True)
    target = f.create_dataset("dense_target", data=pattern("f", (2,), "<f4"), track_times=False)
    MAN[fn]["datasets"].append({"path": "/dense_target", "shape": [2], "pattern": "f"})
    names = ["member_%03d" % i for i in range(300)] + ["x" * 5000]
    for n in names:
        g[n] = target
    MAN[fn]["datasets"].append({"path": "/dense/member_123", "shape": [2], "pattern": "f"})
    MAN[fn]["datasets"].append({"path": "/dense/" + "x" * 5000, "shape": [2], "pattern": "f"})
    members(g, fn, names)
    # a group just over the compact limit, without creation order
    g2 = group(f, "dense_plain")
    for i in range(12):
        group(g2, "g%02d" % i)
    members(g2, fn, ["g%02d" % i for i in range(12)])
    # dense attributes: 30 of them, vlen and fixed, and a 100 KB fixed string (a huge heap object)
    a = group(f, "attrs")
    for i in range(30):
        attr(a, fn, "attr_%02d" % i, "value %d" % i, ["value %d" % i])
    big = "".join("%05d," % i for i in range(100000 // 6))
    a.attrs["model_config"] = np.bytes_(big.encode())
    MAN[fn]["attrs"].append({"path": a.name, "name": "model_config", "strings": ["@digits:%d" % (100000 // 6)]})
    fixed_attr(a, fn, "fixed_list", ["x", "yy", "zzz"], 4, "nullterm", "ascii")
    f.close()
    zero_root_times(fn)


def userblock():
    fn = "userblock.h5"
    f = new_file(fn, "earliest", userblock=1024)
    dataset(f, fn, "w/kernel", (4, 3), "<f4")
    attr(f["w"], fn, "name", "kernel holder", ["kernel holder"])
    f.close()
    with open(os.path.join(OUT, fn), "r+b") as fp:
        fp.write(b"user block: not HDF5\n")


def sizes(fn, libver, so, sl):
    """Sizes of offsets and lengths other than 8: every address and length
    field changes width (symbol table entries hold offsets, heaps lengths)."""
    f = new_file(fn, libver, sizes=(so, sl))
    g = group(f, "model_weights")
    for i in range(12):
        group(g, "layer_%02d" % i).attrs["weight_names"] = np.array([b"k%d" % i, b"b%d" % i])
    dataset(f, fn, "model_weights/layer_03/k3", (5, 4), "<f4")
    dataset(f, fn, "model_weights/layer_03/b3", (9, 4), "<f4", chunks=(2, 3), compression="gzip", shuffle=True)
    dataset(f, fn, "model_weights/layer_04/k4", (40, 3), "<f4", chunks=(2, 3), maxshape=(None, 3))
    attr(f, fn, "model_config", "{}" * 300, ["{}" * 300])
    MAN[fn]["attrs"].append({"path": "/model_weights/layer_07", "name": "weight_names", "strings": ["k7", "b7"]})
    members(g, fn, ["layer_%02d" % i for i in range(12)])
    f.close()
    zero_root_times(fn)


def sweep():
    fn = "sweep.h5"
    f = new_file(fn, "latest")
    g = group(f, "model_weights")
    dataset(f, fn, "model_weights/kernel", (4, 6), "<f4", chunks=(2, 3), fletcher32=True)
    dataset(f, fn, "model_weights/bias", (6,), "<f4", chunks=(6,), compression="gzip", fletcher32=True)
    fixed_attr(g, fn, "weight_names", ["kernel", "bias"], 8, "nullpad", "ascii")
    fixed_attr(f, fn, "keras_version", ["2.15.0"], 8, "nullterm", "ascii")
    members(g, fn, ["bias", "kernel"])
    f.close()
    zero_root_times(fn)


def fuzz_seeds():
    """Small libver-latest seeds for fuzz/corpus/keras_h5 (the fixtures
    above are too big for the fuzzer's 64 KiB inputs): a legacy Keras
    layout with dense links and attributes and every v4 chunk index."""
    global OUT
    keep, OUT = OUT, os.path.join(os.path.dirname(OUT), "..", "..", "fuzz", "corpus", "keras_h5")
    fn = "latest_small.h5"
    f = new_file(fn, "latest")
    f.attrs["keras_version"] = "2.15.0"
    f.attrs["backend"] = "tensorflow"
    f.attrs["model_config"] = '{"class_name": "Sequential", "config": {"name": "s", "layers": []}}'
    g = group(f, "model_weights")
    g.attrs["layer_names"] = np.array([b"l%d" % i for i in range(10)])
    for i in range(10):
        lg = group(g, "l%d" % i)
        lg.attrs["weight_names"] = np.array([b"l%d/kernel:0" % i])
    for i in range(10):
        g.attrs["extra%d" % i] = "x" * i
    kw = [dict(chunks=(2, 2)), dict(chunks=(4, 3)), dict(chunks=(1, 3), maxshape=(None, 3)),
          dict(chunks=(2, 2), maxshape=(None, None), compression="gzip", shuffle=True, fletcher32=True)]
    for i, k in enumerate(kw):
        g["l%d" % i].create_dataset("kernel:0", data=pattern("f", (4, 3), "<f4"), track_times=False, **k)
    f.close()
    zero_root_times(fn)
    del MAN[fn]
    OUT = keep


def main():
    os.makedirs(OUT, exist_ok=True)
    fuzz_seeds()
    earliest()
    latest()
    userblock()
    sizes("sizes_o4_l8.h5", "earliest", 4, 8)
    sizes("sizes_o8_l4.h5", "latest", 8, 4)
    sweep()
    with open(os.path.join(OUT, "manifest.json"), "w") as fp:
        json.dump(MAN, fp, indent=0, ensure_ascii=False)
        fp.write("\n")
    for n in sorted(os.listdir(OUT)):
        print("%-16s %8d bytes" % (n, os.path.getsize(os.path.join(OUT, n))))


if __name__ == "__main__":
    main()
