"""Lesson 07's DataLoader workers: they work with spawn as with fork, and none outlives its loader.

The notebook's last code cell asserts that no worker process is left (checked by nbval on every run);
these tests build the notebook's loaders the same way (persistent workers, partly consumed
iterators, an IterableDataset split across workers, spawn) and check with psutil that no child
process of this one remains after they are deleted. Set COURSE_SLOW=1 to also run the whole notebook
in a kernel and check the kernel's children from outside.
"""
import os
from pathlib import Path

import numpy as np
import psutil
import pytest
import torch
from torch.utils.data import DataLoader

from course_utils.lessons import pipelines_pt

ROOT = Path(__file__).resolve().parents[1]
X, Y = pipelines_pt.synthetic_images(128, size=16, seed=0)


def workers_left():
    """Children still running, less multiprocessing's resource tracker (spawn starts one per session)."""
    return [p for p in pipelines_pt.wait_for_children(timeout=0.0 if not pipelines_pt.child_processes() else 10.0)
            if "resource_tracker" not in " ".join(p.cmdline())] if _settle() else []


def _settle():
    import time
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not [p for p in pipelines_pt.child_processes() if "resource_tracker" not in " ".join(p.cmdline())]:
            return False
        pipelines_pt.wait_for_children(timeout=0.2)
    return True


def loader(num_workers, context=None, persistent=False):
    return DataLoader(pipelines_pt.AugmentedImages(X, Y, seed=0), batch_size=32,
                      sampler=pipelines_pt.EpochSampler(len(X), seed=0), num_workers=num_workers,
                      worker_init_fn=pipelines_pt.seed_worker, persistent_workers=persistent,
                      multiprocessing_context=context)


def epoch(dl):
    return torch.cat([X_b for X_b, _ in dl])


SPAWN_EPOCH = """
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[2])
from test_lesson07_workers import epoch, loader
np.save(sys.argv[1], epoch(loader(1, "spawn")).numpy())
"""


def test_fork_and_spawn_give_the_same_batches_as_no_workers(tmp_path):
    import subprocess
    import sys

    reference = epoch(loader(0))
    assert torch.equal(epoch(loader(2, "fork")), reference)
    # spawn in its own process with a timeout: if a spawned worker dies before it reads its start-up
    # data, CPython's parent blocks writing it forever (popen_spawn_posix); a test must fail, not hang.
    out = tmp_path / "spawn.npy"
    run = subprocess.run([sys.executable, "-c", SPAWN_EPOCH, str(out), str(Path(__file__).parent)],
                         capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-1500:]
    assert torch.equal(torch.from_numpy(np.load(out)), reference)
    assert workers_left() == []


def test_the_epoch_reaches_persistent_workers():
    """EpochSampler sends (epoch, index) to the workers: persistent workers augment epoch 1 anew, exactly as
    the main process does for epoch 1, and a rebuilt loader repeats epoch 0."""
    persistent = loader(2, "fork", persistent=True)
    first, second = epoch(persistent), epoch(persistent)
    sampler = pipelines_pt.EpochSampler(len(X), seed=0)
    dataset = pipelines_pt.AugmentedImages(X, Y, seed=0)
    expected = torch.stack([dataset[(1, i)][0] for i in sampler.order(1)])
    assert torch.equal(second, expected)
    assert not any(torch.equal(a, b) for a in first for b in second[:8])
    assert torch.equal(epoch(loader(0)), first)
    del persistent
    assert workers_left() == []


def test_persistent_and_half_consumed_loaders_leave_no_worker(tmp_path):
    persistent = loader(2, "fork", persistent=True)
    epoch(persistent)
    half = iter(loader(2, "fork"))
    next(half)
    stream = DataLoader(pipelines_pt.ShardStream(pipelines_pt.write_npy_shards(tmp_path, X, Y, 4)), batch_size=32,
                        num_workers=2)
    assert len(torch.cat([y_b for _, y_b in stream])) == len(Y)
    assert len(pipelines_pt.child_processes()) >= 2            # the workers are there while the loaders live
    del persistent, half, stream
    assert workers_left() == []


def test_shared_generator_bug_and_per_sample_fix():
    shared = pipelines_pt.SharedRngNoise(np.zeros((8, 4), np.float32), seed=0)
    batches = list(DataLoader(shared, batch_size=2, num_workers=2, multiprocessing_context="fork"))
    assert torch.equal(batches[0], batches[1])              # both workers drew the same noise
    dataset = pipelines_pt.AugmentedImages(X, Y, seed=0)
    assert torch.equal(dataset[5][0], pipelines_pt.AugmentedImages(X, Y, seed=0)[5][0])


@pytest.mark.skipif(os.environ.get("COURSE_SLOW") != "1", reason="runs the whole notebook (~60 s): COURSE_SLOW=1")
def test_notebook_leaves_no_worker_process():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "07_data_pipelines.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        kernel = psutil.Process(client.km.provisioner.process.pid)
        assert [p for p in kernel.children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE] == []


def test_exercise_7_2_check_runs_real_workers_and_leaves_none(tmp_path):
    """The 7.2 check forks 2 DataLoader workers (Linux) to grade a Dataset: they ran, and they stop."""
    import course_utils as cu

    pids = tmp_path / "pids"

    class PerIndex(torch.utils.data.Dataset):
        def __init__(self, X, seed=0):
            self.X, self.seed = torch.from_numpy(X), seed

        def __len__(self):
            return len(self.X)

        def __getitem__(self, i):
            with open(pids, "a") as out:                # which process served this sample
                out.write(f"{os.getpid()}\n")
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + i)
            return self.X[i] + 0.1 * torch.randn(self.X[i].shape, generator=g)

    verdict = cu.check.reproducible_noise(PerIndex(cu.load_digits().X_train[:32]), quiet=True)
    assert verdict, str(verdict)
    served = set(pids.read_text().split())
    if os.sys.platform.startswith("linux"):
        assert len(served - {str(os.getpid())}) == 2, served     # two worker processes served samples
    assert workers_left() == []
