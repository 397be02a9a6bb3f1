"""The package installs as a user would: `pip install ./python` offline into a venv, and
`cmake --install`; either copy imports and round-trips a tensor."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
LIBDIR = os.environ.get("ALCM_LIBRARY_DIR", os.path.join(REPO, "build", "lib"))
PROBE = ("import alcm, numpy as n; a = n.random.rand(64, 64).astype('f4'); "
         "b = alcm.decompress(alcm.compress(a)); assert b.shape == (64, 64); print(alcm.__file__)")


def has_venv():
    try:
        import ensurepip  # noqa: F401  (Debian ships it in python3-venv)
        import venv  # noqa: F401
        return True
    except ImportError:
        return False


class Install(unittest.TestCase):
    @unittest.skipUnless(has_venv(), "python3-venv is not installed")
    def test_pip_install_offline(self):
        with tempfile.TemporaryDirectory() as d:
            v = os.path.join(d, "v")
            subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", v],
                           check=True)
            r = subprocess.run([os.path.join(v, "bin", "pip"), "install", "--no-index",
                                "--no-cache-dir", os.path.join(REPO, "python")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            env = dict(os.environ, ALCM_LIBRARY_DIR=LIBDIR)
            env.pop("PYTHONPATH", None)
            r = subprocess.run([os.path.join(v, "bin", "python"), "-c", PROBE], cwd=d, env=env,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(os.path.join(v, "lib"), r.stdout)

    @unittest.skipUnless(os.environ.get("ALCM_BUILD_DIR"), "ALCM_BUILD_DIR not set")
    def test_cmake_install(self):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(["cmake", "--install", os.environ["ALCM_BUILD_DIR"], "--prefix", d],
                           check=True, capture_output=True)
            site = os.path.join(d, "lib", "python3", "dist-packages")
            self.assertTrue(os.path.exists(os.path.join(site, "alcm", "torch.py")))
            libdir = [os.path.join(d, x) for x in ("lib", "lib/x86_64-linux-gnu")
                      if os.path.exists(os.path.join(d, x, "libalcm.so.1"))][0]
            env = dict(os.environ, PYTHONPATH=site, LD_LIBRARY_PATH=libdir)
            env.pop("ALCM_LIBRARY_DIR", None)
            r = subprocess.run([sys.executable, "-c", PROBE], cwd=d, env=env,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(site, r.stdout)


if __name__ == "__main__":
    unittest.main()
