"""Minimal PEP 517 backend: builds a pure-Python wheel of alcm/ with the standard library.

The package has no compiled part (it loads libalcm with ctypes), so a wheel is a zip of
alcm/*.py plus the dist-info files (PEP 427). No third-party build tool is needed, which
keeps `pip install ./python` working on a machine without network access.
"""
import base64
import hashlib
import os
import zipfile

NAME, VERSION = "alcm", "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TAG = "py3-none-any"
METADATA = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: Adaptive learned "
            "compression for gradients and checkpoints (libalcm over ctypes)\n"
            "Requires-Python: >=3.9\nRequires-Dist: numpy\n" % (NAME, VERSION))
WHEEL = "Wheel-Version: 1.0\nGenerator: alcm-wheel-backend\nRoot-Is-Purelib: true\nTag: %s\n" % TAG


def _files():
    pkg = os.path.join(ROOT, NAME)
    for dirpath, dirnames, filenames in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for f in sorted(filenames):
            if f.endswith(".py"):
                full = os.path.join(dirpath, f)
                yield full, os.path.relpath(full, ROOT).replace(os.sep, "/")


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (arcname, digest, len(data))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def _write_wheel(wheel_directory, entries):
    dist = "%s-%s.dist-info" % (NAME, VERSION)
    name = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    record = ""
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in entries + [(dist + "/METADATA", METADATA.encode()),
                                        (dist + "/WHEEL", WHEEL.encode())]:
            z.writestr(arcname, data)
            record += _record_line(arcname, data)
        record += dist + "/RECORD,,\n"
        z.writestr(dist + "/RECORD", record)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for full, arc in _files():
        with open(full, "rb") as f:
            entries.append((arc, f.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    """An editable install: a .pth file pointing at this source tree."""
    return _write_wheel(wheel_directory, [("alcm_editable.pth", (ROOT + "\n").encode())])
