"""Writer for seqnn test fixtures (read by tests/main.c sn_fixture_load).

Format: b"SNFX", uint32 count; per tensor: uint32 name_len, name bytes,
uint32 ndim, uint32 dims[ndim], float32 data, all little endian.
Generators (tests/gen_*.py) run with Debian's python3-torch:
    /usr/bin/python3 tests/gen_<module>.py
and write tests/fixtures/*.bin, which are committed so `make test` needs no Python.
"""
import struct

import numpy as np


def write(path, tensors):
    """tensors: dict name -> array-like (converted to float32, C order)."""
    with open(path, "wb") as f:
        f.write(b"SNFX")
        f.write(struct.pack("<I", len(tensors)))
        for name, arr in tensors.items():
            a = np.ascontiguousarray(np.asarray(arr, dtype=np.float32))
            nb = name.encode()
            assert len(nb) < 128, name
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%dI" % a.ndim, *a.shape))
            f.write(a.astype("<f4").tobytes())
