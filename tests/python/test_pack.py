"""`alcm pack` / `alcm unpack` on safetensors files: exact round trip in both pack versions,
version 1 files written by earlier releases still unpacked, every malformed header, offset or
packed field rejected with a specific error and nothing written (docs/PACK.md)."""
import json
import os
import re
import struct
import subprocess
import tempfile
import unittest
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
ALCM = os.environ.get("ALCM_CLI", os.path.join(ROOT, "build", "bin", "alcm"))
FIXTURE = os.path.join(ROOT, "tests", "data", "pack", "mixed.safetensors")
FIXTURE_V1 = os.path.join(ROOT, "tests", "data", "pack", "mixed.v1.alcm")


def doc_dictionary():
    """The header dictionary as docs/PACK.md prints it (the one code block of version 2)."""
    with open(os.path.join(ROOT, "docs", "PACK.md")) as f:
        doc = f.read()
    part = doc[doc.index("**Header dictionary**"):]
    return re.search(r"```\n(.*?)\n```", part, re.S).group(1).encode("ascii")


def put_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def get_varint(b, pos):
    v, shift = 0, 0
    while True:
        c = b[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, pos


def parse_v2(b):
    """A version 2 file as a dict of its fields, read as docs/PACK.md specifies."""
    assert b[:4] == b"ALPK" and struct.unpack("<I", b[4:8])[0] == 2
    d = {"crc": struct.unpack("<I", b[8:12])[0]}
    pos = 12
    d["size"], pos = get_varint(b, pos)
    d["count"], pos = get_varint(b, pos)
    d["n"], pos = get_varint(b, pos)
    d["method"] = b[pos]
    hlen, pos = get_varint(b, pos + 1)
    d["hdata"] = b[pos:pos + hlen]
    pos += hlen
    ng, pos = get_varint(b, pos)
    d["groups"] = []
    for _ in range(ng):
        k, pos = get_varint(b, pos)
        ln, pos = get_varint(b, pos)
        d["groups"].append([k, b[pos:pos + ln]])
        pos += ln
    assert pos == len(b)
    return d


def build_v2(d):
    out = b"ALPK" + struct.pack("<II", 2, d["crc"]) + put_varint(d["size"]) + \
        put_varint(d["count"]) + put_varint(d["n"]) + bytes([d["method"]]) + \
        put_varint(len(d["hdata"])) + d["hdata"] + put_varint(len(d["groups"]))
    for k, rec in d["groups"]:
        out += put_varint(k) + put_varint(len(rec)) + rec
    return out


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

    def roundtrip(self, raw, *opts):
        src, packed, back = (os.path.join(self.d, n) for n in ("m.safetensors", "m.alcm", "b"))
        wr(src, raw)
        r = self.run_cli("pack", src, "-o", packed, "-v", *opts)
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

    def test_both_versions_exact_and_v1_fixture_unpacks(self):
        raw = rd(FIXTURE)
        size1, p1 = self.roundtrip(raw, "--pack-version", "1")
        size2, p2 = self.roundtrip(raw)
        self.assertEqual(p1[:8], b"ALPK" + struct.pack("<I", 1))
        self.assertEqual(p2[:8], b"ALPK" + struct.pack("<I", 2))
        self.assertLess(size2, size1)
        # A version 1 file written before version 2 existed still unpacks exactly.
        back = os.path.join(self.d, "fixture.back")
        r = self.run_cli("unpack", FIXTURE_V1, "-o", back)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(rd(back), raw)
        self.assertEqual(self.run_cli("pack", FIXTURE, "-o", back, "--pack-version", "3").returncode, 2)
        self.assertEqual(self.run_cli("unpack", FIXTURE_V1, "-o", back, "--pack-version", "1").returncode, 2)

    def test_v2_fields_follow_the_spec(self):
        """Reads a version 2 file with this test's own reader: the header inflates with the
        dictionary printed in docs/PACK.md, and every rebuilt blob decodes to its group."""
        import alcm
        raw = rd(FIXTURE)
        _, packed = self.roundtrip(raw)
        d = parse_v2(packed)
        n = struct.unpack("<Q", raw[:8])[0]
        self.assertEqual((d["size"], d["n"], d["method"]), (len(raw), n, 1))
        self.assertEqual(d["crc"], zlib.crc32(raw))
        dictionary = doc_dictionary()
        self.assertEqual(len(dictionary), 496)
        z = zlib.decompressobj(-15, zdict=dictionary)
        self.assertEqual(z.decompress(d["hdata"]) + z.flush(), raw[8:8 + n])
        header = json.loads(raw[8:8 + n])
        tensors = sorted((v["data_offsets"][0], v["data_offsets"][1], v["dtype"]) for k, v in
                         header.items() if k != "__metadata__" and v["data_offsets"][1] > v["data_offsets"][0])
        self.assertEqual(d["count"], len(header) - 1)
        cls = {"F32": (1, 4), "F16": (2, 2), "BF16": (3, 2)}
        data, at = raw[8 + n:], 0
        for k, rec in d["groups"]:
            group, at = tensors[at:at + k], at + k
            dt, es = cls.get(group[0][2], (4, 1))
            self.assertTrue(all(cls.get(t[2], (4, 1))[0] == dt for t in group))
            r0, r1 = group[0][0], group[-1][1]
            head = b"ALCM" + bytes([2, 3 if dt == 4 else 2, dt, rec[0], 1, 0, 0, 0]) + \
                struct.pack("<QQQ", len(rec) + 39, r1 - r0, (r1 - r0) // es) + rec[1:9]
            blob = head + struct.pack("<I", zlib.crc32(head)) + rec[9:]
            out = alcm.decompress(blob)
            self.assertEqual(out.tobytes(), data[r0:r1])
        self.assertEqual(at, len(tensors))

    def test_damaged_v2_fields_give_specific_errors(self):
        raw = rd(FIXTURE)
        _, packed = self.roundtrip(raw)
        d = parse_v2(packed)
        self.assertGreaterEqual(len(d["groups"]), 3)

        def edit(**kw):
            e = {k: (list(map(list, v)) if k == "groups" else v) for k, v in d.items()}
            for k, v in kw.items():
                e[k] = v(e) if callable(v) else v
            return build_v2(e)

        def recflip(i, at):
            def f(e):
                rec = bytearray(e["groups"][i][1])
                rec[at] ^= 0x10
                e["groups"][i][1] = bytes(rec)
                return e["groups"]
            return f

        def setk(i, k):
            def f(e):
                e["groups"][i][0] = k
                return e["groups"]
            return f
        g0 = d["groups"]
        bad = {
            "pack version 3 not supported": packed[:4] + struct.pack("<I", 3) + packed[8:],
            "truncated in the original size": packed[:12],
            "malformed varint in the original size": packed[:12] + b"\x80\x00" + packed[13:],
            "malformed varint in the tensor count": packed[:12] + put_varint(d["size"]) +
                b"\xff" * 11,
            "header length 1 out of range": edit(n=1),
            "header method 2 unknown": edit(method=2),
            "header data of": edit(method=0),
            "do not inflate to exactly": edit(hdata=d["hdata"][:-3]),
            "tensors stored, header lists": edit(count=d["count"] + 1),
            "groups for": edit(groups=lambda e: e["groups"] + [[1, b"x" * 20]] * 9),
            "holds 0 tensors": edit(groups=setk(0, 0)),
            "mixes classes": edit(groups=lambda e: [[g0[0][0] + g0[1][0], g0[0][1]]] + e["groups"][2:]),
            "non-empty tensors": edit(groups=lambda e: e["groups"][:-1]),
            "record length 5": edit(groups=lambda e: [[g0[0][0], b"12345"]] + e["groups"][1:]),
            "ALCM_E_CHECKSUM": edit(groups=recflip(0, 20)),
            "ALCM_E_CODEC": edit(groups=recflip(0, 0)),
            "ALCM_E_CORRUPT": edit(groups=recflip(0, 5)),
            "does not match the stored CRC32": edit(crc=d["crc"] ^ 1),
            "bytes after the last group": packed + b"\x00",
        }
        p, out = os.path.join(self.d, "bad.alcm"), os.path.join(self.d, "out")
        for what, blob in bad.items():
            wr(p, blob)
            r = self.run_cli("unpack", p, "-o", out)
            self.assertEqual(r.returncode, 1, what)
            self.assertIn(what, r.stderr, (what, r.stderr))
            self.assertFalse(os.path.exists(out), what)

    def test_bf16_weights_ratio(self):
        w = (np.random.default_rng(1).standard_normal(200000) * 0.02).astype(np.float32)
        raw = safetensors({"w": ("BF16", (200000,), bf16(w).tobytes())})
        size, _ = self.roundtrip(raw)
        self.assertGreater(len(raw) / size, 1.4)

    def test_bench_times_pack_beside_zstd_on_the_same_bytes(self):
        """--bench writes nothing, packs each file exactly as `alcm pack` does (the same
        bytes), and reports both codecs' ratios and medians on the whole file."""
        w = (np.random.default_rng(2).standard_normal(30000) * 0.02).astype(np.float32)
        other = os.path.join(self.d, "w.safetensors")
        wr(other, safetensors({"w": ("BF16", (30000,), bf16(w).tobytes()),
                               "b": ("F32", (100,), w[:100].tobytes())}))
        js = os.path.join(self.d, "bench.json")
        r = self.run_cli("pack", "--bench", "3", "--json", js, FIXTURE, other)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("zstd -1", r.stdout)
        rep = json.loads(rd(js))
        self.assertEqual((rep["runs"], rep["pack_version"]), (3, 2))
        self.assertEqual([f["file"] for f in rep["files"]], [FIXTURE, other])
        for f in rep["files"]:
            packed = os.path.join(self.d, "p.alcm")
            self.assertEqual(self.run_cli("pack", f["file"], "-o", packed).returncode, 0)
            self.assertEqual(f["pack_bytes"], os.path.getsize(packed))
            self.assertEqual(f["bytes"], os.path.getsize(f["file"]))
            self.assertAlmostEqual(f["pack_ratio"], f["bytes"] / f["pack_bytes"], places=6)
            self.assertAlmostEqual(f["zstd1_ratio"], f["bytes"] / f["zstd1_bytes"], places=6)
            self.assertGreater(f["zstd1_bytes"], 0)
            for k in ("pack_encode_seconds", "zstd1_encode_seconds", "zstd1_cctx_encode_seconds",
                      "unpack_seconds"):
                self.assertGreater(f[k], 0, k)
            self.assertAlmostEqual(f["encode_speed_vs_zstd1"],
                                   f["zstd1_encode_seconds"] / f["pack_encode_seconds"], places=5)
        self.assertEqual(sorted(os.listdir(self.d)), ["bench.json", "p.alcm", "w.safetensors"])
        self.assertEqual(self.run_cli("pack", "--json", js, FIXTURE, "-o", js).returncode, 2)
        self.assertEqual(self.run_cli("pack", "--bench", "0", FIXTURE).returncode, 2)
        self.assertEqual(self.run_cli("pack", "--bench", "2").returncode, 2)
        self.assertEqual(self.run_cli("unpack", "--bench", "2", FIXTURE, "-o", js).returncode, 2)
        bad = os.path.join(self.d, "bad.safetensors")
        wr(bad, b"\x00" * 4)
        r = self.run_cli("pack", "--bench", "2", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.safetensors", r.stderr)

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
        for version in ("1", "2"):
            with self.subTest(version=version):
                self.check_damaged(version)

    def check_damaged(self, version):
        w = np.random.default_rng(2).standard_normal(5000).astype(np.float32)
        _, packed = self.roundtrip(safetensors({"w": ("F32", (5000,), w.tobytes()),
                                                "b": ("F16", (7,), np.ones(7, np.float16).tobytes())}),
                                   "--pack-version", version)
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
