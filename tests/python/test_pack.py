"""`alcm pack` / `alcm unpack` on safetensors files: exact round trip, every malformed
header or offset rejected with nothing written (docs/PACK.md)."""
import json
import os
import struct
import subprocess
import tempfile
import unittest

import numpy as np

ALCM = os.environ.get("ALCM_CLI", os.path.join(os.path.dirname(__file__), "..", "..", "build",
                                               "bin", "alcm"))


def safetensors(tensors, metadata=None, pad=0, header_override=None, tail=b""):
    """Builds a safetensors file from {name: (dtype string, shape, raw bytes)}."""
    header, data, off = {}, b"", 0
    for name, (dt, shape, raw) in tensors.items():
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        data += raw
        off += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    if header_override:
        header_override(header)
    h = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(h)) + h + data + tail


def wr(path, data):
    with open(path, "wb") as f:
        f.write(data)


def rd(path):
    with open(path, "rb") as f:
        return f.read()


def bf16(x):
    return (x.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


class Pack(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.d = self.dir.name

    def tearDown(self):
        self.dir.cleanup()

    def run_cli(self, *args):
        return subprocess.run([ALCM] + list(args), capture_output=True, text=True)

    def roundtrip(self, raw):
        src, packed, back = (os.path.join(self.d, n) for n in ("m.safetensors", "m.alcm", "b"))
        wr(src, raw)
        r = self.run_cli("pack", src, "-o", packed, "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_cli("unpack", packed, "-o", back)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rd(back), raw)
        return os.path.getsize(packed), rd(packed)

    def test_exact_round_trip_every_dtype(self):
        rng = np.random.default_rng(0)
        w = rng.standard_normal((128, 96)).astype(np.float32) * 0.05
        t = {"a.weight": ("BF16", w.shape, bf16(w).tobytes()),
             "a.f32": ("F32", w.shape, w.tobytes()),
             "a.f16": ("F16", (96, 128), w.astype(np.float16).tobytes()),
             "a.f64": ("F64", (10,), rng.standard_normal(10).tobytes()),
             "ids": ("I64", (3, 2), np.arange(6, dtype=np.int64).tobytes()),
             "mask": ("BOOL", (5,), bytes([1, 0, 1, 1, 0])),
             "empty": ("F32", (0, 4), b""),
             "scalar": ("F32", (), struct.pack("<f", 2.5))}
        size, _ = self.roundtrip(safetensors(t, metadata={"format": "pt"}, pad=5))
        raw = safetensors(t, metadata={"format": "pt"}, pad=5)
        self.assertLess(size, len(raw))

    def test_bf16_weights_ratio(self):
        w = (np.random.default_rng(1).standard_normal(200000) * 0.02).astype(np.float32)
        raw = safetensors({"w": ("BF16", (200000,), bf16(w).tobytes())})
        size, _ = self.roundtrip(raw)
        self.assertGreater(len(raw) / size, 1.4)

    def test_malformed_inputs_are_rejected(self):
        ok = {"x": ("F32", (4,), np.ones(4, np.float32).tobytes()),
              "y": ("U8", (3,), b"abc")}
        good = safetensors(ok)

        def set_(name, key, value):
            return lambda h: h[name].__setitem__(key, value)
        bad = {
            "short": good[:5],
            "header length past the end": struct.pack("<Q", 10 ** 6) + good[8:],
            "header length huge": struct.pack("<Q", 2 ** 63) + good[8:],
            "not json": struct.pack("<Q", 5) + b"{abc}" ,
            "json array": struct.pack("<Q", 2) + b"[]",
            "unknown dtype": safetensors(ok, header_override=set_("x", "dtype", "F12")),
            "size mismatch": safetensors(ok, header_override=set_("x", "shape", [5])),
            "negative offset": safetensors(ok, header_override=set_("x", "data_offsets", [-1, 15])),
            "offset past end": safetensors(ok, header_override=set_("y", "data_offsets", [16, 100])),
            "overlap": safetensors(ok, header_override=set_("y", "data_offsets", [13, 16])),
            "hole": safetensors(ok, header_override=set_("y", "data_offsets", [17, 20])),
            "trailing bytes": safetensors(ok, tail=b"zz"),
            "extra field": safetensors(ok, header_override=set_("x", "extra", 1)),
            "rank 9": safetensors(ok, header_override=set_("x", "shape", [1] * 8 + [4])),
            "bad metadata": safetensors(ok, metadata={"a": 1}),
            "overflowing shape": safetensors(ok, header_override=set_("x", "shape", [2 ** 62, 8])),
            "duplicate key": struct.pack("<Q", 24) + b'{"a": {}, "a": {}}     ',
        }
        out = os.path.join(self.d, "out")
        for what, raw in bad.items():
            p = os.path.join(self.d, "bad.safetensors")
            wr(p, raw)
            r = self.run_cli("pack", p, "-o", out)
            self.assertEqual(r.returncode, 1, what)
            self.assertIn("alcm pack:", r.stderr, what)
            self.assertFalse(os.path.exists(out), what)

    def test_damaged_pack_is_rejected(self):
        w = np.random.default_rng(2).standard_normal(5000).astype(np.float32)
        _, packed = self.roundtrip(safetensors({"w": ("F32", (5000,), w.tobytes()),
                                                "b": ("F16", (7,), np.ones(7, np.float16).tobytes())}))
        p, out = os.path.join(self.d, "bad.alcm"), os.path.join(self.d, "out")
        step = max(1, len(packed) // 97)
        for i in list(range(0, 64)) + list(range(64, len(packed), step)):
            dam = bytearray(packed)
            dam[i] ^= 0x41
            wr(p, bytes(dam))
            r = self.run_cli("unpack", p, "-o", out)
            self.assertEqual(r.returncode, 1, "byte %d" % i)
            self.assertFalse(os.path.exists(out))
        for cut in (0, 10, 30, len(packed) // 2, len(packed) - 1):
            wr(p, packed[:cut])
            self.assertEqual(self.run_cli("unpack", p, "-o", out).returncode, 1, cut)
        wr(p, packed + b"x")
        self.assertEqual(self.run_cli("unpack", p, "-o", out).returncode, 1)
        self.assertEqual(self.run_cli("pack").returncode, 2)


if __name__ == "__main__":
    unittest.main()
