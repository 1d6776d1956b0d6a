#!/usr/bin/python3
"""Reads a safetensors file written by xgrad with plain Python and numpy (no `safetensors`
package), to prove the layout: 8-byte little-endian header length, a JSON header padded with
spaces, then raw little-endian row-major data at the header's data_offsets.

The file is the one the C++ test "reference file for the Python reader" writes:

    # let the script run the test binary and check the file it writes:
    /usr/bin/python3 tests/reference/read_safetensors.py --run build/tests/xgrad_tests

    # or write the file yourself and check it:
    XGRAD_SAFETENSORS_REFERENCE=/tmp/ref.safetensors \
        build/tests/xgrad_tests "reference file for the Python reader"
    /usr/bin/python3 tests/reference/read_safetensors.py /tmp/ref.safetensors

Exits 0 and prints "OK" when every check passes.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "BOOL": "|b1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    assert len(raw) >= 8, "file too short"
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw), "header runs past the end"
    header_bytes = raw[8 : 8 + n]
    header = json.loads(header_bytes.decode("utf-8"))
    data = raw[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors, spans = {}, []
    for name, info in header.items():
        assert set(info) == {"dtype", "shape", "data_offsets"}, info
        begin, end = info["data_offsets"]
        dtype = np.dtype(DTYPES[info["dtype"]])
        count = int(np.prod(info["shape"], dtype=np.int64)) if info["shape"] else 1
        assert end - begin == count * dtype.itemsize, (name, begin, end)
        assert end <= len(data), (name, end, len(data))
        spans.append((begin, end))
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(info["shape"])
    # The tensors tile the data buffer exactly.
    pos = 0
    for begin, end in sorted(spans):
        assert begin == pos, ("gap or overlap at", begin, pos)
        pos = end
    assert pos == len(data), "trailing bytes"
    return n, header_bytes, tensors, metadata


def check(path):
    n, header_bytes, t, metadata = read_safetensors(path)
    # xgrad pads the header with spaces to a multiple of 8 bytes, so the data is aligned.
    assert n % 8 == 0, n
    assert header_bytes.startswith(b"{") and header_bytes.rstrip(b" ").endswith(b"}")
    assert metadata == {"producer": "xgrad", "note": "reference"}, metadata
    assert sorted(t) == ["bool", "empty", "f32", "f64", "i64", "scalar"], sorted(t)

    assert t["f32"].dtype == np.float32 and t["f32"].shape == (3, 4)
    assert np.array_equal(t["f32"], (np.arange(12, dtype=np.float32) * 0.5).reshape(3, 4))
    assert t["f64"].dtype == np.float64
    assert t["f64"].tolist() == [1.0 / 3.0, -2.5, 1e300]
    assert t["i64"].dtype == np.int64
    assert t["i64"].tolist() == [-(2**63), 0, 42, 2**63 - 1]
    assert t["bool"].dtype == np.bool_ and t["bool"].tolist() == [True, False, True]
    assert t["scalar"].shape == () and float(t["scalar"]) == 3.25
    assert t["empty"].shape == (0, 2) and t["empty"].dtype == np.float32
    print("OK: %s (%d tensors, header %d bytes)" % (path, len(t), n))


def main(argv):
    if len(argv) == 3 and argv[1] == "--run":
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "reference.safetensors")
            env = dict(os.environ, XGRAD_SAFETENSORS_REFERENCE=path)
            subprocess.run([argv[2], "reference file for the Python reader"], env=env,
                           check=True, stdout=subprocess.DEVNULL)
            check(path)
        return 0
    if len(argv) == 2:
        check(argv[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
