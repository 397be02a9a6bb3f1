"""alcm.torch.save / load: exact round trip, floating tensors stored as lossless blobs."""
import io
import unittest

import torch

import alcm
import alcm.torch as at


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.is_floating_point:
        iv = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
        return torch.equal(a.contiguous().view(iv), b.contiguous().view(iv))
    return torch.equal(a, b)


class Checkpoint(unittest.TestCase):
    def test_round_trip_is_bit_exact(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(300, 200), torch.nn.ReLU(),
                                    torch.nn.Linear(200, 10))
        special = torch.tensor([float("nan"), float("inf"), -0.0, 1e-45, -3.0])
        obj = {"model": model.state_dict(), "bf16": torch.randn(64, 33).bfloat16(),
               "f16": torch.randn(5, 7).half(), "f64": torch.randn(9).double(),
               "special": special, "ints": torch.arange(10), "mask": torch.rand(4) > 0.5,
               "strided": torch.randn(10, 10)[:, ::3], "param": torch.nn.Parameter(torch.randn(3)),
               "meta": {"epoch": 3, "name": "x"}, "list": [torch.randn(2), 1.5]}
        buf = io.BytesIO()
        at.save(obj, buf)
        buf.seek(0)
        back = at.load(buf, map_location="cpu")
        for k, v in obj["model"].items():
            self.assertTrue(same_bits(back["model"][k], v), k)
        for k in ("bf16", "f16", "f64", "special", "ints", "mask", "strided", "param"):
            self.assertTrue(same_bits(back[k], obj[k]), k)
        self.assertIsInstance(back["param"], torch.nn.Parameter)
        self.assertTrue(back["param"].requires_grad)
        self.assertEqual(back["meta"], obj["meta"])
        self.assertTrue(same_bits(back["list"][0], obj["list"][0]))

    def test_tensors_are_stored_as_alcm_blobs(self):
        t = torch.randn(256, 256).bfloat16()
        plain, packed = io.BytesIO(), io.BytesIO()
        torch.save({"w": t}, plain)
        at.save({"w": t}, packed)
        # the bf16 byte planes compress: smaller than torch's raw storage
        self.assertLess(len(packed.getvalue()), 0.85 * len(plain.getvalue()))
        # and a plain torch.save file still loads through alcm.torch.load
        plain.seek(0)
        self.assertTrue(same_bits(at.load(plain)["w"], t))

    def test_damaged_checkpoint_is_an_error(self):
        buf = io.BytesIO()
        at.save({"w": torch.randn(1000)}, buf)
        raw = bytearray(buf.getvalue())
        i = raw.find(b"ALCM")
        self.assertGreater(i, 0)
        raw[i + 60] ^= 0xFF
        with self.assertRaises((alcm.Error, RuntimeError)):
            at.load(io.BytesIO(bytes(raw)))


if __name__ == "__main__":
    unittest.main()
