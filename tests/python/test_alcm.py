"""The alcm package over libalcm: one-shot calls, errors, Stream state, the daemon Client."""
import os
import subprocess
import tempfile
import time
import unittest

import numpy as np

import alcm


def bits(a):
    return np.ascontiguousarray(a).view(np.uint8).tobytes()


class OneShot(unittest.TestCase):
    def test_gradient_roundtrip_keeps_shape_dtype_and_budget(self):
        a = np.random.default_rng(1).standard_normal((64, 64)).astype("f4")
        info = {}
        b = alcm.compress(a, error_budget=0.01, info=info)
        self.assertIsInstance(b, bytes)
        self.assertEqual(len(b), info["blob_bytes"])
        self.assertGreater(info["ratio"], 2.0)
        d = alcm.decompress(b)
        self.assertEqual(d.shape, (64, 64))
        self.assertEqual(d.dtype, np.float32)
        err = np.linalg.norm(d - a) / np.linalg.norm(a)
        self.assertLessEqual(err, 0.01 + 1e-6)
        self.assertGreater(err, 0.0)

    def test_lossless_is_exact_for_every_float_dtype(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((3, 5, 7)).astype("f4")
        x.reshape(-1)[:4] = [np.nan, np.inf, -0.0, 1e-45]
        for arr in (x, x.astype("f2")):
            d = alcm.decompress(alcm.compress(arr, profile="lossless"))
            self.assertEqual((d.shape, d.dtype), (arr.shape, arr.dtype))
            self.assertEqual(bits(d), bits(arr))
        bf = (x.view(np.uint32) >> 16).astype(np.uint16)
        blob = alcm.compress(bf, profile="lossless", dtype="bf16")
        self.assertEqual(alcm.inspect(blob)["dtype"], "bf16")
        self.assertEqual(bits(alcm.decompress(blob)), bits(bf))
        wide = alcm.decompress(blob, bf16="float32")
        self.assertEqual(bits(wide), bits((bf.astype(np.uint32) << 16).view(np.float32)))
        raw = np.frombuffer(b"hello hello hello hello", dtype=np.uint8)
        for profile in ("lossless", "baseline"):
            self.assertEqual(alcm.decompress(alcm.compress(raw, profile=profile)).tobytes(),
                             raw.tobytes())

    def test_non_contiguous_scalar_and_out(self):
        a = np.arange(200, dtype="f4").reshape(10, 20)[:, ::2]
        d = alcm.decompress(alcm.compress(a, profile="lossless"))
        self.assertTrue(np.array_equal(d, a))
        s = np.array(3.5, dtype="f4")
        r = alcm.decompress(alcm.compress(s, profile="lossless"))
        self.assertEqual((r.size, float(r.reshape(-1)[0])), (1, 3.5))
        out = np.empty((10, 10), dtype="f4")
        r = alcm.decompress(alcm.compress(np.ascontiguousarray(a), profile="lossless"), out=out)
        self.assertIs(r, out)
        self.assertTrue(np.array_equal(out, a))

    def test_inspect(self):
        a = np.random.default_rng(3).standard_normal((8, 512)).astype("f4")
        i = alcm.inspect(alcm.compress(a, error_budget=0.05))
        self.assertEqual(i["profile"], "gradient")
        self.assertEqual(i["shape"], (8, 512))
        self.assertEqual(i["raw_bytes"], a.nbytes)
        self.assertAlmostEqual(i["error_budget"], 0.05)
        self.assertEqual(len(i["channel_bits"]), i["n_channels"])

    def test_errors_carry_status_names(self):
        a = np.ones(100, dtype="f4")
        b = alcm.compress(a)
        cases = [(b[:10], "ALCM_E_TRUNCATED"), (b"XXXX" + b[4:], "ALCM_E_MAGIC"),
                 (b[:-1] + bytes([b[-1] ^ 1]), "ALCM_E_CHECKSUM")]
        for blob, name in cases:
            with self.assertRaises(alcm.CorruptBlobError) as cm:
                alcm.decompress(blob)
            self.assertEqual(cm.exception.name, name)
            self.assertIsInstance(cm.exception, alcm.Error)
        nan = np.array([1.0, np.nan], dtype="f4")
        with self.assertRaises(alcm.NonFiniteError) as cm:
            alcm.compress(nan)
        self.assertEqual(cm.exception.name, "ALCM_E_NONFINITE")
        with self.assertRaises(alcm.ArgumentError):
            alcm.compress(a, error_budget=2.0)
        with self.assertRaises(alcm.DtypeError):
            alcm.compress(a.astype("f2"))           # the gradient profile is float32 only
        with self.assertRaises(TypeError):
            alcm.compress(np.ones(3, dtype=np.int64))
        with self.assertRaises(alcm.ShapeError):
            alcm.compress(np.ones((1,) * 9, dtype="f4"))

    def test_residual_is_updated_in_place(self):
        a = np.random.default_rng(4).standard_normal(5000).astype("f4")
        r = np.zeros_like(a)
        d = alcm.decompress(alcm.compress(a, error_budget=0.5, residual=r))
        self.assertTrue(np.allclose(r, a - d, atol=1e-6))


class StreamState(unittest.TestCase):
    def grads(self, n):
        rng = np.random.default_rng(5)
        return [rng.standard_normal((16, 256)).astype("f4") for _ in range(n)]

    def test_resumed_stream_equals_uninterrupted(self):
        g = self.grads(14)
        a = alcm.Stream(error_budget=0.3, deterministic=True, adaptive=True)
        blobs = [a.compress(x) for x in g]
        b = alcm.Stream(error_budget=0.3, deterministic=True, adaptive=True)
        for x in g[:6]:
            b.compress(x)
        saved = b.state_dict()
        c = alcm.Stream(error_budget=0.3, deterministic=True, adaptive=True)
        c.load_state_dict(saved)
        self.assertEqual(c.state, b.state)
        self.assertEqual([c.compress(x) for x in g[6:]], blobs[6:])
        self.assertEqual(c.state["steps"], 14)
        fresh = alcm.Stream(error_budget=0.3, deterministic=True, adaptive=True)
        self.assertNotEqual(fresh.compress(g[6]), blobs[6])

    def test_bad_state_is_rejected(self):
        s = alcm.Stream(error_budget=0.3, deterministic=True)
        s.compress(self.grads(1)[0])
        sd = s.state_dict()
        other = alcm.Stream(error_budget=0.2, deterministic=True)
        with self.assertRaises(alcm.ArgumentError):
            other.load_state_dict(sd)
        t = alcm.Stream(error_budget=0.3, deterministic=True)
        damaged = bytearray(sd["state"])
        damaged[50] ^= 4
        with self.assertRaises(alcm.CorruptBlobError) as cm:
            t.load_state_dict({"config": sd["config"], "state": bytes(damaged)})
        self.assertEqual(cm.exception.name, "ALCM_E_CHECKSUM")


@unittest.skipUnless(os.environ.get("ALCM_ALCMD"), "ALCM_ALCMD (path of alcmd) not set")
class DaemonClient(unittest.TestCase):
    def test_client_matches_in_process_stream(self):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "alcm.sock")
            p = subprocess.Popen([os.environ["ALCM_ALCMD"], "--socket", sock, "--threads", "1"],
                                 stderr=subprocess.DEVNULL)
            try:
                for _ in range(200):
                    if os.path.exists(sock):
                        break
                    time.sleep(0.05)
                g = [np.random.default_rng(i).standard_normal(4096).astype("f4") for i in range(4)]
                local = alcm.Stream(error_budget=0.2, deterministic=True, adaptive=True)
                with alcm.Client(sock) as c:
                    for x in g:
                        blob = c.compress(x, stream="py/test", error_budget=0.2, deterministic=True,
                                          adaptive=True)
                        self.assertEqual(blob, local.compress(x))
                    self.assertEqual(c.last_result["sched"]["steps"], 4)
                    self.assertTrue(np.array_equal(c.decompress(blob), alcm.decompress(blob)))
                    self.assertTrue(c.reset("py/test"))
                with self.assertRaises(alcm.ConnectionError) as cm:
                    alcm.Client(os.path.join(d, "nothing.sock"))
                self.assertEqual(cm.exception.name, "ALCMC_E_CONNECT")
            finally:
                p.terminate()
                p.wait(timeout=30)


if __name__ == "__main__":
    unittest.main()
