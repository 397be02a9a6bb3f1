#!/usr/bin/python3
"""DDP on Fashion-MNIST with gloo: no hook, fp16_compress_hook, powerSGD_hook (rank 1, 4),
ALCM safe and ALCM training, side by side, same seeds and epochs.

    PYTHONPATH=python /usr/bin/python3 bench/torch/ddp_proof.py --out bench/torch/results

Per run: final test accuracy (all 10 000 test images), wall time per epoch, bytes per rank:
  wire    what this rank puts on the wire under gloo's ring algorithms: 2 (p-1)/p x bytes
          per all_reduce, (p-1) x bytes per all_gather (counted on every collective the hook
          issues; DDP's own allreduce without a hook is counted the same way, analytically)
  payload what this rank contributes per step (raw gradient, fp16 copy, P/Q factors, blob)
Writes results.json, accuracy_vs_wire.svg and time_per_epoch.svg.
"""
import argparse
import gzip
import json
import os
import socket
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic == 0x803:
        n, r, c = struct.unpack(">III", raw[4:16])
        if len(raw) != 16 + n * r * c:
            raise ValueError("bad IDX image file %s" % path)
        return np.frombuffer(raw, np.uint8, offset=16).reshape(n, 1, r, c)
    if magic == 0x801:
        n = struct.unpack(">I", raw[4:8])[0]
        if len(raw) != 8 + n:
            raise ValueError("bad IDX label file %s" % path)
        return np.frombuffer(raw, np.uint8, offset=8)
    raise ValueError("not an IDX file: %s" % path)


def load_data():
    def imgs(p):
        return torch.from_numpy(read_idx(p).astype(np.float32) / 255.0)
    return (imgs(DATA + "/train-images-idx3-ubyte.gz"),
            torch.from_numpy(read_idx(DATA + "/train-labels-idx1-ubyte.gz").astype(np.int64)),
            imgs(DATA + "/t10k-images-idx3-ubyte.gz"),
            torch.from_numpy(read_idx(DATA + "/t10k-labels-idx1-ubyte.gz").astype(np.int64)))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(784, 256), nn.Linear(256, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


METHODS = ["plain", "fp16", "powersgd1", "powersgd4", "alcm_safe", "alcm_training"]


class WireCounter:
    """Counts ring-algorithm wire bytes of every all_reduce / all_gather the hooks issue."""

    def __init__(self, world):
        self.world, self.bytes = world, 0
        self._ar, self._ag = dist.all_reduce, dist.all_gather

        def all_reduce(t, *a, **k):
            self.bytes += 2 * (self.world - 1) * t.numel() * t.element_size() // self.world
            return self._ar(t, *a, **k)

        def all_gather(lst, t, *a, **k):
            self.bytes += (self.world - 1) * t.numel() * t.element_size()
            return self._ag(lst, t, *a, **k)
        dist.all_reduce, dist.all_gather = all_reduce, all_gather


def worker(rank, world, port, model_name, method, epochs, seed, train_limit, q):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    import alcm.torch as at
    from torch.distributed.algorithms.ddp_comm_hooks import default_hooks, powerSGD_hook
    xtr, ytr, xte, yte = load_data()
    if train_limit:
        xtr, ytr = xtr[:train_limit], ytr[:train_limit]
    torch.manual_seed(seed)
    model = CNN() if model_name == "cnn" else MLP()
    ddp = nn.parallel.DistributedDataParallel(model)
    counter = WireCounter(world)
    state = None
    if method == "fp16":
        ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
    elif method.startswith("powersgd"):
        state = powerSGD_hook.PowerSGDState(process_group=None,
                                            matrix_approximation_rank=int(method[-1]),
                                            start_powerSGD_iter=2, random_seed=seed)
        ddp.register_comm_hook(state, powerSGD_hook.powerSGD_hook)
    elif method.startswith("alcm"):
        # "alcm_training" or "alcm_training:0.7" (the preset with another error budget);
        # the compressed path always (on one machine's loopback the planner would rightly
        # choose the plain allreduce: the comparison here is of bytes and accuracy)
        # "alcm_training:0.7@rsag": that budget over the compressed reduce-scatter path
        spec, _, path = method[5:].partition("@")
        preset, _, budget = spec.partition(":")
        state = at.AlcmHookState(profile=preset, error_budget=float(budget) if budget else None,
                                 path=path or "allgather")
        ddp.register_comm_hook(state, at.alcm_hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    nparam = sum(p.numel() for p in model.parameters())
    batch = 64
    g = torch.Generator().manual_seed(seed)
    steps = 0
    epoch_times = []
    for ep in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        per_rank = len(perm) // world
        mine = perm[rank * per_rank:(rank + 1) * per_rank]
        dist.barrier()
        t0 = time.perf_counter()
        for i in range(0, per_rank - batch + 1, batch):
            idx = mine[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(ddp(xtr[idx]), ytr[idx]).backward()
            opt.step()
            steps += 1
        dist.barrier()
        epoch_times.append(time.perf_counter() - t0)
    if method == "plain":
        counter.bytes += steps * 2 * (world - 1) * nparam * 4 // world
    with torch.no_grad():
        acc = float((model(xte).argmax(1) == yte).float().mean())
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.empty_like(flat) for _ in range(world)]
    counter._ag(gathered, flat)
    identical = all(torch.equal(gathered[0], t) for t in gathered)
    res = dict(model=model_name, method=method, world=world, epochs=epochs, seed=seed,
               steps=steps, params=nparam, accuracy=acc, epoch_seconds=epoch_times,
               wall_seconds=sum(epoch_times), wire_bytes=counter.bytes,
               raw_bytes=steps * nparam * 4, ranks_identical=identical)
    if method.startswith("alcm"):
        res["alcm_stats"] = state.stats()
        res["error_budget"], res["path"] = state.error_budget, state.path
        res["payload_bytes"] = state.stats()["blob_bytes"]
    allw = torch.tensor([float(counter.bytes)], dtype=torch.float64)
    counter._ar(allw, op=dist.ReduceOp.MAX)
    res["wire_bytes_max_rank"] = int(allw[0])
    if rank == 0:
        q.put(res)
    dist.destroy_process_group()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(model, method, world, epochs, seed, train_limit):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    mp.start_processes(worker, args=(world, free_port(), model, method, epochs, seed,
                                     train_limit, q), nprocs=world, start_method="spawn")
    return q.get(timeout=5)


def svg_scatter(results, path):
    W, H, L, B = 720, 440, 70, 50
    pts = [r for r in results if r["wire_bytes_max_rank"] > 0]
    xs = [np.log10(r["wire_bytes_max_rank"]) for r in pts]
    ys = [r["accuracy"] for r in pts]
    x0, x1 = min(xs) - 0.2, max(xs) + 0.2
    y0, y1 = min(ys) - 0.01, max(ys) + 0.01
    colors = {"plain": "#000", "fp16": "#888", "powersgd1": "#c60", "powersgd4": "#e90",
              "alcm_safe": "#06c", "alcm_training": "#0a4"}
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="18" font-size="13">Final test accuracy vs wire bytes per rank (log), Fashion-MNIST, gloo</text>' % L]
    def X(v): return L + (v - x0) / (x1 - x0) * (W - L - 160)
    def Y(v): return H - B - (v - y0) / (y1 - y0) * (H - B - 40)
    out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#000"/>' % (L, H - B, W - 160, H - B))
    out.append('<line x1="%d" y1="40" x2="%d" y2="%d" stroke="#000"/>' % (L, L, H - B))
    for e in range(int(np.floor(x0)), int(np.ceil(x1)) + 1):
        if x0 <= e <= x1:
            out.append('<text x="%.0f" y="%d" text-anchor="middle">1e%d</text>' % (X(e), H - B + 15, e))
    for k in range(5):
        v = y0 + (y1 - y0) * k / 4
        out.append('<text x="%d" y="%.0f" text-anchor="end">%.3f</text>' % (L - 4, Y(v) + 4, v))
    for r, x, y in zip(pts, xs, ys):
        c = colors.get(r["method"].split(":")[0].split("@")[0], "#f0f")
        label = "%s %s p=%d" % (r["model"], r["method"], r["world"])
        if r["model"] == "cnn":
            out.append('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>' % (X(x), Y(y), c, label))
        else:
            out.append('<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s"><title>%s</title></rect>' % (X(x) - 4, Y(y) - 4, c, label))
        if r["world"] == 4:
            out.append('<text x="%.1f" y="%.1f" font-size="9">%s</text>' % (X(x) + 6, Y(y) - 4, label))
    for k, (m, c) in enumerate(colors.items()):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' % (W - 150, 50 + 16 * k, c, W - 135, 59 + 16 * k, m))
    out.append('<text x="%d" y="%d">circles: CNN, squares: MLP</text>' % (W - 150, 160))
    out.append('</svg>')
    open(path, "w").write("\n".join(out))


def svg_bars(results, path):
    W, rowh = 720, 16
    H = 60 + rowh * len(results)
    tmax = max(r["wall_seconds"] / r["epochs"] for r in results)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="18" font-size="13">Seconds per epoch (2 shared cores, unshaped loopback)</text>']
    for k, r in enumerate(results):
        t = r["wall_seconds"] / r["epochs"]
        y = 35 + rowh * k
        out.append('<text x="10" y="%d">%s %s p=%d</text>' % (y + 11, r["model"], r["method"], r["world"]))
        out.append('<rect x="220" y="%d" width="%.1f" height="12" fill="#06c"/>' % (y, t / tmax * (W - 300)))
        out.append('<text x="%.1f" y="%d">%.1f s</text>' % (225 + t / tmax * (W - 300), y + 11, t))
    out.append('</svg>')
    open(path, "w").write("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/torch/results")
    ap.add_argument("--models", default="cnn,mlp")
    ap.add_argument("--worlds", default="4,2")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=0, help="use the first N training images")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="no training: merge these results.json files into --out and plot")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if a.merge:
        runs = []
        for path in a.merge:
            with open(path) as f:
                runs += json.load(f)["runs"]
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump({"config": {"merged": a.merge}, "runs": runs}, f, indent=1)
        svg_scatter(runs, os.path.join(a.out, "accuracy_vs_wire.svg"))
        svg_bars(runs, os.path.join(a.out, "time_per_epoch.svg"))
        return 0
    results = []
    path = os.path.join(a.out, "results.json")
    for model in a.models.split(","):
        for world in [int(w) for w in a.worlds.split(",")]:
            for method in a.methods.split(","):
                r = run(model, method, world, a.epochs, a.seed, a.train_limit)
                results.append(r)
                print("%-4s p=%d %-14s acc %.4f  wire/rank %12d  %6.1f s  identical %s" % (
                    model, world, method, r["accuracy"], r["wire_bytes_max_rank"],
                    r["wall_seconds"], r["ranks_identical"]), flush=True)
                with open(path, "w") as f:
                    json.dump({"config": vars(a), "runs": results}, f, indent=1)
    svg_scatter(results, os.path.join(a.out, "accuracy_vs_wire.svg"))
    svg_bars(results, os.path.join(a.out, "time_per_epoch.svg"))


if __name__ == "__main__":
    sys.exit(main())
