#!/usr/bin/python3
"""Lossless checkpoint ratios of trained Fashion-MNIST models: `alcm pack` on safetensors
files (f32 and bf16; pack version 2, the default, and version 1) and alcm.torch.save,
against `zstd -19` and `zstd -1` of the same files, and the lossless profile's speed
against zstd -1 on the same bytes.

    PYTHONPATH=python /usr/bin/python3 bench/torch/checkpoint_ratio.py --alcm build/bin/alcm

Trains the MLP 784-256-128-10 and the small CNN of ddp_proof.py (Adam 1e-3, batch 64,
seed 1, one process), writes each model's weights as safetensors in f32 and cast to bf16,
checks every round trip is exact, and prints/writes the sizes (checkpoints.json in --out).

Whole-file speed (`alcm pack --bench`, --bench-runs rounds): the CPU time of exactly what
`alcm pack` does to each safetensors file, in process (no start-up, no file I/O), beside
libzstd level 1 on the same file bytes (ZSTD_compress, and ZSTD_compressCCtx with a reused
context), alternated run by run, medians; recorded as pack_bench_* in checkpoints.json.

Tensor speed (one thread, CPU time of the calling thread, median of --runs): every tensor of the
model compressed with the lossless profile (alcm_compress, as `alcm pack` does tensor by
tensor) and decompressed, and the same tensor bytes compressed by libzstd at level 1
(ZSTD_compressCCtx, one reused context) in the same loop, so load on the machine hits both
alike; both timed at the C call. `--weights-dir D` saves the trained weights there (D/<model>.pt) and reuses them on
the next run instead of training.
"""
import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import statistics
import time
import ctypes
import ctypes.util

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddp_proof import CNN, MLP, load_data  # noqa: E402

import alcm  # noqa: E402
import alcm.torch as at  # noqa: E402

ST_DTYPES = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}


def safetensors_bytes(state):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in state.items():
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def zstd19(data):
    return len(subprocess.run(["zstd", "-19", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout)


def zstd_cli(data, level):
    return len(subprocess.run(["zstd", "-%d" % level, "-q", "-c"], input=data,
                              capture_output=True, check=True).stdout)


class Zstd1:
    """libzstd level 1 through ctypes: the library zstd -1 runs, without process start-up."""

    def __init__(self):
        lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
        lib.ZSTD_createCCtx.restype = ctypes.c_void_p
        lib.ZSTD_freeCCtx.argtypes = [ctypes.c_void_p]
        lib.ZSTD_compressBound.restype = ctypes.c_size_t
        lib.ZSTD_compressBound.argtypes = [ctypes.c_size_t]
        lib.ZSTD_compressCCtx.restype = ctypes.c_size_t
        lib.ZSTD_compressCCtx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                                          ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
        lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
        self.lib, self.cctx = lib, lib.ZSTD_createCCtx()

    def compress(self, data, out):
        n = self.lib.ZSTD_compressCCtx(self.cctx, out, len(out), data, len(data), 1)
        assert not self.lib.ZSTD_isError(n)
        return n


def speed(sd, dt, runs):
    """Lossless profile encode/decode vs zstd -1 encode, tensor by tensor, MB/s medians.
    Both sides are timed at their C call with buffers, parameters and contexts prepared
    outside the loop (alcm_compress / alcm_decompress through the package's ctypes
    declarations, ZSTD_compressCCtx through ours)."""
    if dt == torch.bfloat16:
        arrs = [v.detach().contiguous().reshape(-1).view(torch.int16).numpy().view(np.uint16)
                for v in sd.values()]
        name = "bf16"
    else:
        arrs = [v.detach().contiguous().reshape(-1).numpy() for v in sd.values()]
        name = None
    raws = [a.tobytes() for a in arrs]
    z = Zstd1()
    zouts = [ctypes.create_string_buffer(z.lib.ZSTD_compressBound(len(r))) for r in raws]
    lib, core = alcm._lib, alcm._core
    cctx, dctx = core._Ctx.cctx(), core._Ctx.dctx()
    jobs = []
    for a in arrs:
        params = core.make_params("lossless", core._dtype_code(a, name))
        shape = core.make_shape(a.shape)
        cap = lib.compress_bound(a.nbytes)
        jobs.append((a, params, shape, ctypes.create_string_buffer(cap), cap,
                     np.empty_like(a)))
    total = sum(len(r) for r in raws)
    enc, dec, zst = [], [], []
    n = ctypes.c_size_t(0)
    for _ in range(runs):
        sizes = []
        t0 = time.thread_time()
        for a, params, shape, buf, cap, back in jobs:
            core.check(lib.compress(cctx, ctypes.byref(params), ctypes.byref(shape),
                                    core._ptr(a), a.nbytes, None, ctypes.addressof(buf), cap,
                                    ctypes.byref(n), None))
            sizes.append(n.value)
        t1 = time.thread_time()
        for (a, params, shape, buf, cap, back), m in zip(jobs, sizes):
            core.check(lib.decompress(dctx, ctypes.addressof(buf), m, core._ptr(back),
                                      back.nbytes, ctypes.byref(n)))
        t2 = time.thread_time()
        zsizes = [z.compress(r, o) for r, o in zip(raws, zouts)]
        t3 = time.thread_time()
        enc.append(t1 - t0)
        dec.append(t2 - t1)
        zst.append(t3 - t2)
    for a, params, shape, buf, cap, back in jobs:
        assert back.tobytes() == a.tobytes()
    z.lib.ZSTD_freeCCtx(z.cctx)
    mbs = lambda t: total / statistics.median(t) / 1e6
    return dict(lossless_ratio=total / sum(sizes), lossless_encode_mbs=mbs(enc),
                lossless_decode_mbs=mbs(dec), zstd1_tensor_ratio=total / sum(zsizes),
                zstd1_encode_mbs=mbs(zst), speed_runs=runs)


def train(model, xtr, ytr, epochs):
    torch.manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(perm) - 63, 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--alcm", default="build/bin/alcm")
    ap.add_argument("--out", default="bench/torch/results")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--runs", type=int, default=15, help="timed runs of the speed loop")
    ap.add_argument("--bench-runs", type=int, default=301,
                    help="rounds of `alcm pack --bench` per file")
    ap.add_argument("--weights-dir", default=None)
    a = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = load_data()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, cls in (("mlp", MLP), ("cnn", CNN)):
            torch.manual_seed(1)
            saved = a.weights_dir and os.path.join(a.weights_dir, name + ".pt")
            if saved and os.path.exists(saved):
                m = cls()
                m.load_state_dict(torch.load(saved))
            else:
                m = train(cls(), xtr, ytr, a.epochs)
                if saved:
                    os.makedirs(a.weights_dir, exist_ok=True)
                    torch.save(m.state_dict(), saved)
            with torch.no_grad():
                acc = float((m(xte).argmax(1) == yte).float().mean())
            for dt in (torch.float32, torch.bfloat16):
                sd = {k: v.to(dt) for k, v in m.state_dict().items()}
                raw = safetensors_bytes(sd)
                src, packed, back = (os.path.join(d, x) for x in ("m.st", "m.alcm", "m.back"))
                with open(src, "wb") as f:
                    f.write(raw)
                t0 = time.perf_counter()
                subprocess.run([a.alcm, "pack", src, "-o", packed], check=True)
                t_pack = time.perf_counter() - t0
                subprocess.run([a.alcm, "unpack", packed, "-o", back], check=True)
                with open(back, "rb") as f:
                    assert f.read() == raw, "pack/unpack not exact"
                packed_v1 = os.path.join(d, "m.v1.alcm")
                subprocess.run([a.alcm, "pack", "--pack-version", "1", src, "-o", packed_v1],
                               check=True)
                subprocess.run([a.alcm, "unpack", packed_v1, "-o", back], check=True)
                with open(back, "rb") as f:
                    assert f.read() == raw, "pack/unpack (version 1) not exact"
                plain, ours = io.BytesIO(), io.BytesIO()
                torch.save(sd, plain)
                at.save(sd, ours)
                ours.seek(0)
                back_sd = at.load(ours)
                for k in sd:
                    iv = torch.int16 if dt == torch.bfloat16 else torch.int32
                    assert torch.equal(back_sd[k].view(iv), sd[k].view(iv)), k
                row = dict(model=name, dtype=str(dt).split(".")[1], test_accuracy=acc,
                           params=sum(v.numel() for v in sd.values()),
                           safetensors_bytes=len(raw), alcm_pack_bytes=os.path.getsize(packed),
                           alcm_pack_v1_bytes=os.path.getsize(packed_v1),
                           zstd19_bytes=zstd19(raw), zstd1_bytes=zstd_cli(raw, 1),
                           alcm_pack_seconds=t_pack,
                           torch_save_bytes=len(plain.getvalue()),
                           alcm_torch_save_bytes=len(ours.getvalue()),
                           zstd19_torch_save_bytes=zstd19(plain.getvalue()))
                row["alcm_pack_ratio"] = row["safetensors_bytes"] / row["alcm_pack_bytes"]
                row["alcm_pack_v1_ratio"] = row["safetensors_bytes"] / row["alcm_pack_v1_bytes"]
                row["zstd19_ratio"] = row["safetensors_bytes"] / row["zstd19_bytes"]
                row["zstd1_ratio"] = row["safetensors_bytes"] / row["zstd1_bytes"]
                row["alcm_torch_save_ratio"] = row["torch_save_bytes"] / row["alcm_torch_save_bytes"]
                row["zstd19_torch_save_ratio"] = row["torch_save_bytes"] / row["zstd19_torch_save_bytes"]
                bench_json = os.path.join(d, "bench.json")
                subprocess.run([a.alcm, "pack", "--bench", str(a.bench_runs), "--json", bench_json,
                                src], check=True, stdout=subprocess.DEVNULL)
                with open(bench_json) as f:
                    b = json.load(f)["files"][0]
                assert b["pack_bytes"] == row["alcm_pack_bytes"]
                for k in ("pack_encode_mbs", "unpack_mbs", "zstd1_ratio", "zstd1_encode_mbs",
                          "zstd1_cctx_encode_mbs", "encode_speed_vs_zstd1",
                          "encode_speed_vs_zstd1_cctx"):
                    row["pack_bench_" + k] = b[k]
                row["pack_bench_runs"] = a.bench_runs
                row.update(speed(sd, dt, a.runs))
                rows.append(row)
                print("%s %-8s %9d B  alcm pack %.4f (version 1: %.4f)  zstd -19 %.4f  zstd -1 %.4f | torch.save "
                      "%9d B  alcm.torch.save %.4f  zstd -19 %.4f | lossless encode %.0f decode "
                      "%.0f MB/s, zstd -1 encode %.0f MB/s | whole file: pack %.0f MB/s, zstd -1 %.0f "
                      "(reused context %.0f) MB/s, pack/zstd speed %.3f (%.3f)" % (
                          name, row["dtype"], len(raw), row["alcm_pack_ratio"],
                          row["alcm_pack_v1_ratio"],
                          row["zstd19_ratio"], row["zstd1_ratio"], row["torch_save_bytes"],
                          row["alcm_torch_save_ratio"], row["zstd19_torch_save_ratio"],
                          row["lossless_encode_mbs"], row["lossless_decode_mbs"],
                          row["zstd1_encode_mbs"], row["pack_bench_pack_encode_mbs"],
                          row["pack_bench_zstd1_encode_mbs"], row["pack_bench_zstd1_cctx_encode_mbs"],
                          row["pack_bench_encode_speed_vs_zstd1"],
                          row["pack_bench_encode_speed_vs_zstd1_cctx"]),
                      flush=True)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "checkpoints.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
