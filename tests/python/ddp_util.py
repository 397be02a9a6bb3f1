"""Shared pieces of the torch tests: spawning gloo ranks on 127.0.0.1 with a deadline."""
import os
import socket
import time

import torch.multiprocessing as mp


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_ranks(fn, world, args=(), timeout=300):
    """Runs fn(rank, world, *args) in `world` processes joined in one gloo group; fails
    (instead of hanging) when they take longer than timeout seconds."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(free_port())
    ctx = mp.start_processes(_entry, args=(fn, world) + tuple(args), nprocs=world, join=False,
                             start_method="spawn")
    deadline = time.time() + timeout
    while not ctx.join(timeout=1):
        if time.time() > deadline:
            for p in ctx.processes:
                if p.is_alive():
                    p.terminate()
            raise AssertionError("ranks did not finish within %d s (a hang)" % timeout)


def _entry(rank, fn, world, *args):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        fn(rank, world, *args)
    finally:
        dist.destroy_process_group()
