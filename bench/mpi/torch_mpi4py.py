#!/usr/bin/python3
"""torch_mpi4py.py - data-parallel Fashion-MNIST training with torch and mpi4py: a second
model and trainer for choosing the MPI hook's training preset (docs/MPI.md).

Every rank builds the same model from the same seed, takes its share of each global batch,
flattens its gradients into one float32 buffer and sums them with one
comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM) per step - an unmodified MPI_Allreduce, which
libalcm_mpi.so compresses when preloaded - then averages and steps SGD with momentum.
Rank 0 prints one JSON line: per-epoch test accuracy, wall time, and whether every rank
ended with the same parameters.

usage: mpirun -np 4 [-x LD_PRELOAD=.../libalcm_mpi.so -x ALCM_MPI_PROFILE=training]
           /usr/bin/python3 bench/mpi/torch_mpi4py.py [--model cnn|mlp] [--epochs N]
           [--batch 64] [--lr 0.05] [--seed 1] [--train-limit N] [--label TEXT]
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
from mpi4py import MPI

# The gzipped IDX reader of the DDP proof (one reader for both benchmarks).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "torch"))
from ddp_proof import DATA, read_idx as idx  # noqa: E402


def model_of(kind):
    if kind == "cnn":
        return torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(512, 10))
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cnn", choices=["cnn", "mlp"])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    xtr = torch.from_numpy(idx(DATA + "/train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    ytr = torch.from_numpy(idx(DATA + "/train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(idx(DATA + "/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    yte = torch.from_numpy(idx(DATA + "/t10k-labels-idx1-ubyte.gz").astype(np.int64))
    if a.train_limit:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    net = model_of(a.model)
    params = [p for p in net.parameters()]
    n = sum(p.numel() for p in params)
    buf = np.zeros(n, np.float32)
    vel = [torch.zeros_like(p) for p in params]
    if a.batch % size:
        raise SystemExit("--batch must be a multiple of the rank count")
    local = a.batch // size
    gen = torch.Generator().manual_seed(a.seed)
    accs, secs = [], []
    steps_total = (len(xtr) // a.batch) * a.epochs
    step = 0
    t_start = time.time()
    for epoch in range(a.epochs):
        t0 = time.time()
        order = torch.randperm(len(xtr), generator=gen)
        net.train()
        for b in range(len(xtr) // a.batch):
            idxs = order[b * a.batch + rank * local: b * a.batch + (rank + 1) * local]
            net.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xtr[idxs]), ytr[idxs])
            loss.backward()
            off = 0
            for p in params:
                k = p.numel()
                buf[off:off + k] = p.grad.reshape(-1).numpy()
                off += k
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            lr = a.lr * (1.0 - 0.95 * step / max(steps_total - 1, 1))
            off = 0
            with torch.no_grad():
                for p, v in zip(params, vel):
                    k = p.numel()
                    g = torch.from_numpy(buf[off:off + k]).reshape(p.shape) / size
                    v.mul_(a.momentum).add_(g)
                    p.add_(v, alpha=-lr)
                    off += k
            step += 1
        secs.append(time.time() - t0)
        net.eval()
        with torch.no_grad():
            lo, hi = rank * len(xte) // size, (rank + 1) * len(xte) // size
            right = int((net(xte[lo:hi]).argmax(1) == yte[lo:hi]).sum())
        right = comm.allreduce(right, op=MPI.SUM)  # a pickled int: not intercepted
        accs.append(right / len(xte))
        if rank == 0:
            print("epoch %d: test_accuracy %.4f (%.1f s)" % (epoch + 1, accs[-1], secs[-1]),
                  flush=True)
    h = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in params)).hexdigest()
    hashes = comm.allgather(h)
    if rank == 0:
        print(json.dumps({"label": a.label, "model": a.model, "ranks": size, "epochs": a.epochs,
                          "params": n, "steps": step, "test_accuracy": accs,
                          "final_accuracy": accs[-1], "epoch_seconds": secs,
                          "train_seconds": time.time() - t_start,
                          "identical": len(set(hashes)) == 1}))


if __name__ == "__main__":
    main()
