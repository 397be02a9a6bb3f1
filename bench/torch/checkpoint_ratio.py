#!/usr/bin/python3
"""Lossless checkpoint ratios of trained Fashion-MNIST models: `alcm pack` on safetensors
files (f32 and bf16) and alcm.torch.save, against `zstd -19` of the same files.

    PYTHONPATH=python /usr/bin/python3 bench/torch/checkpoint_ratio.py --alcm build/bin/alcm

Trains the MLP 784-256-128-10 and the small CNN of ddp_proof.py (Adam 1e-3, batch 64,
seed 1, one process), writes each model's weights as safetensors in f32 and cast to bf16,
checks every round trip is exact, and prints/writes the sizes (results.json in --out).
"""
import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddp_proof import CNN, MLP, load_data  # noqa: E402

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
    a = ap.parse_args()
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = load_data()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, cls in (("mlp", MLP), ("cnn", CNN)):
            torch.manual_seed(1)
            m = train(cls(), xtr, ytr, a.epochs)
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
                           zstd19_bytes=zstd19(raw), alcm_pack_seconds=t_pack,
                           torch_save_bytes=len(plain.getvalue()),
                           alcm_torch_save_bytes=len(ours.getvalue()),
                           zstd19_torch_save_bytes=zstd19(plain.getvalue()))
                row["alcm_pack_ratio"] = row["safetensors_bytes"] / row["alcm_pack_bytes"]
                row["zstd19_ratio"] = row["safetensors_bytes"] / row["zstd19_bytes"]
                row["alcm_torch_save_ratio"] = row["torch_save_bytes"] / row["alcm_torch_save_bytes"]
                row["zstd19_torch_save_ratio"] = row["torch_save_bytes"] / row["zstd19_torch_save_bytes"]
                rows.append(row)
                print("%s %-8s %9d B  alcm pack %.3f  zstd -19 %.3f | torch.save %9d B  "
                      "alcm.torch.save %.3f  zstd -19 %.3f" % (
                          name, row["dtype"], len(raw), row["alcm_pack_ratio"],
                          row["zstd19_ratio"], row["torch_save_bytes"],
                          row["alcm_torch_save_ratio"], row["zstd19_torch_save_ratio"]),
                      flush=True)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "checkpoints.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
