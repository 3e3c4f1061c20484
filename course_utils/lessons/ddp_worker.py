"""Lesson 11's PyTorch worker: the lesson-03 MLP trained with ``DistributedDataParallel`` over gloo.

One process per rank. It reads its rank, the world size and the rendezvous address from the
environment that ``torchrun`` sets (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), so
the same file runs under ``course_utils.lessons.distributed.start_workers`` on one machine and under
``torchrun --nnodes 2 ... -m course_utils.lessons.ddp_worker`` on a cluster (docs/cluster/).

    python -m course_utils.lessons.ddp_worker --job build/lesson11/ddp/job.npz --out build/lesson11/ddp

The job (``job.npz``, written by the launcher): ``X``, ``y``, the initial weights in torch layout
(``init/fc1.weight``, ...), ``lr``, ``epochs``, ``global_batch``, ``seed``, ``timing_reps``. Each rank
writes ``rank<R>.npz``: the final weights, the mean loss of every step over all ranks, the all-reduce
demo's result and the per-step timings (``course_utils.bench.interleaved``, the course's one timing
function). With ``fsdp=1`` in the job it also trains the same model sharded with FSDP2 (``fully_shard``)
in the same process group and saves its weights (``fsdp/<name>``, gathered whole) and rank 0's shard of
``fc1.weight``. It prints one line per step to its log (stdout), never to the notebook.

A module, not a notebook cell: ``mp.spawn`` and ``torchrun`` start fresh interpreters, which must
import the worker function by name (a cell's function lives in ``__main__`` and cannot be found).

Used in: 11_distributed (and tests/test_distributed.py).
"""
from __future__ import annotations

import argparse
import copy
import datetime
import gc
import os
import socket
import statistics
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from course_utils import bench, pt_utils


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", required=True, help="job.npz written by the launcher")
    parser.add_argument("--out", required=True, help="folder for rank<R>.npz")
    parser.add_argument("--only-allreduce", action="store_true", help="the all_reduce demo alone, then exit")
    return parser.parse_args(argv)


def rendezvous_store(rank: int, world_size: int) -> "dist.TCPStore":
    """The rendezvous store, listening on ``MASTER_ADDR`` only.

    ``init_process_group("gloo")`` with env:// would make rank 0 host a ``TCPStore`` that listens on
    every interface (``*:MASTER_PORT``), whatever ``MASTER_ADDR`` says. Here rank 0 binds the socket
    itself, on ``MASTER_ADDR`` (127.0.0.1 in the lesson), and hands it to the store (``master_listen_fd``).
    """
    host, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
    timeout = datetime.timedelta(seconds=60)
    if rank != 0:
        return dist.TCPStore(host, port, world_size, is_master=False, timeout=timeout)
    listener = socket.create_server((host, port))  # bound to host only; the store owns the socket from here
    return dist.TCPStore(host, port, world_size, is_master=True, timeout=timeout,
                         master_listen_fd=listener.detach())


def init_gloo() -> None:
    """Join the process group: torchrun's own store when torchrun started us, else our loopback store."""
    if os.environ.get("TORCHELASTIC_RUN_ID"):  # torchrun: its agent already hosts the rendezvous store
        dist.init_process_group("gloo")
        return
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    dist.init_process_group("gloo", store=rendezvous_store(rank, world_size), rank=rank, world_size=world_size)


def train_fsdp(job: dict, loader: DataLoader, sampler: DistributedSampler, rank: int) -> dict[str, np.ndarray]:
    """The same training, the parameters sharded: FSDP2 (``fully_shard``) in the process group DDP used."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    # --- sharding: FSDP2 keeps 1/world_size of every parameter on each rank (a DTensor, Shard(0))
    model = pt_utils.build_mlp()
    model.load_state_dict({name: torch.from_numpy(job[f"init/{name}"]) for name, _ in model.named_parameters()})
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))  # the ranks of the default process group (gloo)
    for layer in (model.fc1, model.fc2):
        fully_shard(layer, mesh=mesh)   # each layer: gathered for its forward/backward, then freed
    fully_shard(model, mesh=mesh)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(job["lr"]))  # updates this rank's shards only
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(int(job["epochs"])):
        sampler.set_epoch(epoch)
        for X_b, y_b in loader:         # the same local batches as DDP's
            optimizer.zero_grad()
            loss_fn(model(X_b), y_b).backward()  # gradients reduce-scattered (averaged) onto the shards
            optimizer.step()

    weight = model.fc1.weight
    out = {f"fsdp/{name}": p.full_tensor().detach().numpy() for name, p in model.named_parameters()}  # all-gather
    out.update({"fsdp_type": np.array(type(weight).__name__), "fsdp_shard": np.array(tuple(weight.to_local().shape)),
                "fsdp_placements": np.array(str(tuple(weight.placements)))})
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)  # 2 workers share 2 cores: one intra-op thread each
    with np.load(args.job, allow_pickle=False) as archive:
        job = {k: archive[k] for k in archive.files}

    # --- rank, world size, rendezvous: from the environment torchrun (or our launcher) set
    init_gloo()  # MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE; the store listens on MASTER_ADDR only
    rank, world_size = dist.get_rank(), dist.get_world_size()
    print(f"rank {rank} of {world_size}: gloo ready", flush=True)

    # --- all_reduce on its own: every rank sends its tensor, every rank receives the reduction of all of them
    mine = torch.tensor([rank + 1.0, 10.0 * (rank + 1)])
    total = mine.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)   # in place, on every rank
    largest = mine.clone()
    dist.all_reduce(largest, op=dist.ReduceOp.MAX)
    if args.only_allreduce:
        np.savez(Path(args.out) / f"rank{rank}.npz", rank=np.array(rank), world_size=np.array(world_size),
                 mine=mine.numpy(), total=total.numpy(), largest=largest.numpy())
        dist.destroy_process_group()
        return

    # --- the model: the same initial weights everywhere (DDP also broadcasts rank 0's at construction)
    model = pt_utils.build_mlp()
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(job[f"init/{name}"]))
    ddp_model = DDP(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=float(job["lr"]))

    # --- the data: each rank reads its own 1/world_size of every global batch
    dataset = TensorDataset(torch.from_numpy(job["X"]), torch.from_numpy(job["y"]))
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=int(job["seed"]), drop_last=True)
    local_batch = int(job["global_batch"]) // world_size
    loader = DataLoader(dataset, batch_size=local_batch, sampler=sampler, drop_last=True)

    # --- train: the ordinary loop; DDP hides the communication inside backward()
    losses, step_times = [], []
    for epoch in range(int(job["epochs"])):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for X_b, y_b in loader:
            start = time.perf_counter()
            optimizer.zero_grad()
            loss = loss_fn(ddp_model(X_b), y_b)
            loss.backward()          # DDP all-reduces (averages) the gradients in buckets during backward
            optimizer.step()
            step_times.append(time.perf_counter() - start)
            mean_loss = loss.detach().clone()
            dist.all_reduce(mean_loss)  # for the log only: the mean of the ranks' losses = the global batch's
            losses.append(float(mean_loss) / world_size)
            print(f"rank {rank}: step {len(losses)} loss {losses[-1]:.4f}", flush=True)

    # --- timing: compute (forward + backward, no communication) vs communication (all-reduce of the gradients)
    reps = int(job["timing_reps"])
    X_b, y_b = next(iter(loader))

    def compute():  # the plain module (not the DDP wrapper): no all-reduce hooks
        loss_fn(model(X_b), y_b).backward()

    X_all, y_all = torch.from_numpy(job["X"][:int(job["global_batch"])]), torch.from_numpy(job["y"][:int(job["global_batch"])])

    def compute_alone():  # what ONE process does per step: the whole global batch, nothing to communicate
        loss_fn(model(X_all), y_all).backward()

    alone_model = copy.deepcopy(model)  # a whole step of ONE process (no DDP): the 1-worker baseline
    alone_optimizer = torch.optim.SGD(alone_model.parameters(), lr=float(job["lr"]))

    def alone_step():
        alone_optimizer.zero_grad()
        loss_fn(alone_model(X_all), y_all).backward()
        alone_optimizer.step()

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def communicate():
        dist.all_reduce(flat)

    # number=1: every rank makes the same calls (an all-reduce must be called by all), median of `reps` rounds
    local = bench.interleaved({"compute": compute, "compute_alone": compute_alone, "alone_step": alone_step},
                              rounds=reps, warmup=1, number=1)
    dist.barrier()
    comm = bench.interleaved({"all-reduce": communicate}, rounds=reps, warmup=1, number=1)

    out = {f"final/{name}": p.detach().numpy() for name, p in model.named_parameters()}
    out.update(losses=np.array(losses), world_size=np.array(world_size), step_s=np.array(statistics.median(step_times)),
               compute_s=np.array(local["compute"].median), compute_alone_s=np.array(local["compute_alone"].median),
               alone_step_s=np.array(local["alone_step"].median), comm_s=np.array(comm["all-reduce"].median),
               pid=np.array(os.getpid()))
    if int(job.get("fsdp", 0)):
        out.update(train_fsdp(job, loader, sampler, rank))
    np.savez(Path(args.out) / f"rank{rank}.npz", **out)
    dist.barrier()  # rank 0 hosts the rendezvous store: nobody leaves before everyone is done
    del ddp_model, optimizer, compute, local  # DDP's reducer holds gloo work: free it while the process group exists
    gc.collect()
    dist.destroy_process_group()
    print(f"rank {rank}: done", flush=True)


if __name__ == "__main__":
    main()
