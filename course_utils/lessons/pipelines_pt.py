"""Lesson 07's importable pieces: the torch ``Dataset`` classes, the augmentation and the worker seeding
that a ``DataLoader``'s worker processes must be able to import by name, plus framework-free helpers
(synthetic images, ``.npy`` shards, throughput timing, the worker census).

Why a module and not a notebook cell: a DataLoader with ``num_workers > 0`` sends the Dataset to each
worker. On Linux the workers are forked (they inherit the kernel's memory, cell-defined classes too);
on macOS and Windows they are *spawned*: a fresh Python that unpickles the Dataset, which works only
when its class can be imported from a module. A class defined in a cell lives in ``__main__`` and a
spawned worker fails with ``Can't get attribute ... on <module '__main__'>``. Classes from this module
work with fork, spawn and forkserver.

``_pt`` in the name: importing this module imports PyTorch (``torch.utils.data`` at module level, because
``Dataset`` and ``IterableDataset`` are the base classes of the classes below), as ``course_utils.lessons``
promises for a module named so. It never imports TensorFlow (the lesson's TF code stays in the notebook;
the TF pipeline reads through ``slow_read`` via ``tf.py_function``). ``import course_utils`` does not import
this module (tests/test_imports.py checks that ``import course_utils`` imports no framework).

Used in: 07_data_pipelines (and tests/test_lesson07_workers.py).
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from torch.utils.data import Dataset, IterableDataset, Sampler, get_worker_info

from ..base import validate
from ..base.errors import CourseError

# The simulated slow disk of the prefetch demo: each sample waits this long before it is "read".
READ_SECONDS = 0.0003

# The augmentation: pad by PAD pixels, crop back to the original size at a random offset, flip
# left-right with probability 1/2, add Gaussian noise of standard deviation NOISE.
PAD, NOISE = 2, 0.05


def code_without_docstring(function: Callable[..., Any]) -> str:
    """The source of ``function`` (or method) without its docstring and blank lines, dedented: what a
    reader has to write. ``len(code_without_docstring(f).splitlines())`` is its line count.

    >>> print(code_without_docstring(band).splitlines()[0])
    def band(ratio: float) -> str:
    """
    import ast
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    skip: set[int] = set()
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        skip = set(range(body[0].lineno, body[0].end_lineno + 1))
    return "\n".join(line for number, line in enumerate(source.splitlines(), 1)
                     if number not in skip and line.strip())


def synthetic_images(n: int, size: int = 32, channels: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seeded images ``(n, channels, size, size)`` uint8 and labels ``(n,)`` int64 in 0..9.

    Each image is a blurred blob whose position depends on its label, plus noise: cheap to make,
    large enough that augmenting it costs real CPU time.

    >>> X, y = synthetic_images(4, size=8)
    >>> X.shape, X.dtype.name, y.tolist()
    ((4, 3, 8, 8), 'uint8', [8, 6, 5, 2])
    """
    where = "pipelines_pt.synthetic_images"
    n = validate.integer(n, "n", where, minimum=1)
    size = validate.integer(size, "size", where, minimum=4)
    channels = validate.integer(channels, "channels", where, minimum=1)
    seed = validate.integer(seed, "seed", where, minimum=0)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    grid = np.linspace(-1.0, 1.0, size, dtype=np.float32)
    cx = np.cos(y * (2 * np.pi / 10)).astype(np.float32)[:, None, None] * 0.5
    cy = np.sin(y * (2 * np.pi / 10)).astype(np.float32)[:, None, None] * 0.5
    blob = np.exp(-((grid[None, None, :] - cx) ** 2 + (grid[None, :, None] - cy) ** 2) * 8.0)
    images = blob[:, None] * rng.uniform(0.5, 1.0, size=(n, channels, 1, 1)).astype(np.float32)
    images = images + rng.normal(0.0, 0.1, size=images.shape).astype(np.float32)
    return (np.clip(images, 0.0, 1.0) * 255).astype(np.uint8), y


def write_npy_shards(folder: str | Path, X: np.ndarray, y: np.ndarray, num_shards: int) -> list[Path]:
    """Split ``X, y`` into ``num_shards`` pairs of files ``images-K.npy`` / ``labels-K.npy``; return the image paths.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_npy_shards(d, np.zeros((4, 1), np.uint8), np.arange(4), 2)]
    ['images-0.npy', 'images-1.npy']
    """
    where = "pipelines_pt.write_npy_shards"
    folder = validate.path(folder, "folder", where)
    if not folder.is_dir():
        raise CourseError(f"{where}: folder {folder} does not exist — create it first (tempfile.TemporaryDirectory()).")
    X = validate.numeric_array(X, "X", where)
    y = validate.numeric_array(y, "y", where, ndim=1)
    validate.same_length(X, y, where)
    num_shards = validate.integer(num_shards, "num_shards", where, minimum=1, maximum=max(1, len(X)))
    paths = []
    for k, (X_k, y_k) in enumerate(zip(np.array_split(X, num_shards), np.array_split(y, num_shards))):
        np.save(folder / f"images-{k}.npy", X_k, allow_pickle=False)
        np.save(folder / f"labels-{k}.npy", y_k, allow_pickle=False)
        paths.append(folder / f"images-{k}.npy")
    return paths


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The seed of sample ``index``'s augmentation in ``epoch``: depends only on (seed, epoch, index), never on
    the worker. A new epoch gives every sample a new augmentation; the same (seed, epoch) gives the same one.

    >>> sample_seed(0, 0, 5) != sample_seed(0, 1, 5) != sample_seed(1, 0, 5)
    True
    """
    return (seed * 10_007 + epoch) * 1_000_003 + index


def transform(image: Any, top: int, left: int, flip: bool, noise: Any) -> Any:
    """The augmentation with its random draws given: one ``(C, H, W)`` uint8 torch image → float32 in [0, 1],
    reflect-padded by ``PAD``, cropped back at (``top``, ``left``), flipped left-right if ``flip``, plus
    ``NOISE * noise`` (a ``(C, H, W)`` tensor), clipped."""
    import torch

    x = image.float().div_(255.0)
    C, H, W = x.shape
    x = torch.nn.functional.pad(x, (PAD, PAD, PAD, PAD), mode="reflect")
    x = x[:, top:top + H, left:left + W]
    if flip:
        x = x.flip(-1)
    return (x + NOISE * noise).clamp_(0.0, 1.0)


def augment(image: Any, seed: int) -> Any:
    """Random crop (pad 2, crop back), flip and noise of one ``(C, H, W)`` uint8 torch image → float32 in [0, 1].

    Every random number comes from a ``torch.Generator`` seeded with ``seed``: the same seed gives the
    same augmented image in any process, any worker, any order.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    top, left = torch.randint(0, 2 * PAD + 1, (2,), generator=g).tolist()
    flip = bool(torch.rand((), generator=g) < 0.5)
    return transform(image, top, left, flip, torch.randn(image.shape, generator=g))


class EpochSampler(Sampler):
    """A seeded shuffle that counts its epochs and yields ``(epoch, index)`` pairs.

    The sampler runs in the main process; the ``DataLoader`` sends each index it yields to a worker. So the
    epoch travels with the index and reaches every worker, persistent ones too, where an attribute set on
    the Dataset (``dataset.epoch = 1``) would stay in the main process's copy. Each ``iter()`` is one epoch
    (the loader calls it once per epoch); a sampler rebuilt with the same seed repeats the same epochs.
    """

    def __init__(self, n: int, seed: int = 0):
        self.n = validate.integer(n, "n", "pipelines_pt.EpochSampler", minimum=1)
        self.seed = validate.integer(seed, "seed", "pipelines_pt.EpochSampler", minimum=0)
        self.epoch = 0

    def order(self, epoch: int) -> list[int]:
        """The indices of ``epoch``, in the order this sampler yields them."""
        import torch

        g = torch.Generator().manual_seed(sample_seed(self.seed, epoch, 0))
        return torch.randperm(self.n, generator=g).tolist()

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[tuple[int, int]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        return iter([(epoch, i) for i in self.order(epoch)])


class AugmentedImages(Dataset):
    """Map-style: ``dataset[(epoch, i)]`` (or ``dataset[i]``, epoch 0) → ``(augmented image (C, H, W) float32,
    label int64)``.

    The augmentation of sample ``i`` in ``epoch`` is seeded with ``sample_seed(seed, epoch, i)``: it does
    not depend on which worker computes it or in which order, and it changes from one epoch to the next
    when the loader's sampler is an ``EpochSampler``.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, seed: int = 0):
        where = "pipelines_pt.AugmentedImages"
        self.X = validate.numeric_array(X, "X", where, ndim=4)
        self.y = validate.numeric_array(y, "y", where, ndim=1)
        validate.same_length(self.X, self.y, where)
        self.seed = validate.integer(seed, "seed", where, minimum=0)

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, key: int | tuple[int, int]):
        import torch

        epoch, index = key if isinstance(key, tuple) else (0, key)
        image = torch.from_numpy(self.X[index])
        return augment(image, sample_seed(self.seed, int(epoch), int(index))), int(self.y[index])


class SharedRngNoise(Dataset):
    """The classic bug: noise drawn from ONE NumPy generator made in ``__init__``.

    Every worker gets a copy of that generator in the same state, so worker 0 and worker 1 add the
    same noise sequence, and the result depends on how many workers there are.
    """

    def __init__(self, X: np.ndarray, seed: int = 0):
        self.X = validate.numeric_array(X, "X", "pipelines_pt.SharedRngNoise")
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: int):
        import torch

        noise = self.rng.normal(0.0, 1.0, size=self.X[index].shape).astype(np.float32)
        return torch.from_numpy(noise)


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: seed NumPy and ``random`` in a worker from torch's per-worker seed.

    The recipe of PyTorch's reproducibility notes, redundant since torch 1.9: torch itself seeds ``random``,
    torch and NumPy's global generator in every worker (``base_seed + worker_id``, ``base_seed`` drawn from
    the DataLoader's ``generator``). What nothing reseeds is a ``np.random.Generator`` stored on the Dataset:
    each worker gets a copy in the same state (``SharedRngNoise``, Exercise 7.2).
    """
    import random

    import torch

    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


class ShardStream(IterableDataset):
    """Iterable-style: streams ``(image uint8 (C, H, W), label)`` from ``.npy`` shards, one file at a time.

    With workers, each worker reads every ``num_workers``-th shard (``get_worker_info()``), so no
    sample is read twice; without that split every worker would stream every shard.
    """

    def __init__(self, paths: list[str | Path], split_by_worker: bool = True):
        where = "pipelines_pt.ShardStream"
        self.split_by_worker = validate.flag(split_by_worker, "split_by_worker", where)
        if isinstance(paths, (str, Path)) or not hasattr(paths, "__iter__"):
            raise CourseError(f"{where}: paths must be a list of .npy shard paths, got {validate.found(paths)}.")
        self.paths = [validate.path(p, "paths[i]", where) for p in paths]
        if not self.paths:
            raise CourseError(f"{where}: paths is empty — pass the list that write_npy_shards returned.")

    def shards_for_this_worker(self) -> list[Path]:
        info = get_worker_info()          # None in the main process
        if info is None or not self.split_by_worker:
            return self.paths
        return self.paths[info.id::info.num_workers]

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        import torch

        for path in self.shards_for_this_worker():
            images = np.load(path, allow_pickle=False)
            labels = np.load(path.with_name(path.name.replace("images-", "labels-")), allow_pickle=False)
            for image, label in zip(images, labels):
                yield torch.from_numpy(image), int(label)


# -- measuring --------------------------------------------------------------------------------------

def samples_per_second(make_batches: Callable[[], Any], expected: int, repeat: int = 3, warmup: int = 1) -> list[float]:
    """Run ``make_batches()`` (an iterable of batches whose first element is the batch of samples) to the
    end ``warmup + repeat`` times; return the ``repeat`` throughputs in samples per second. Every run must
    deliver ``expected`` samples (a pipeline that drops or repeats samples is not faster, it is wrong).

    >>> rates = samples_per_second(lambda: [np.zeros((8, 2))] * 4, expected=32, repeat=2)
    >>> len(rates), all(r > 0 for r in rates)
    (2, True)
    """
    where = "pipelines_pt.samples_per_second"
    make_batches = validate.function(make_batches, "make_batches", where)
    repeat = validate.integer(repeat, "repeat", where, minimum=1)
    warmup = validate.integer(warmup, "warmup", where, minimum=0)
    expected = validate.integer(expected, "expected", where, minimum=0)
    rates = []
    for run in range(warmup + repeat):
        start, count = time.perf_counter(), 0
        for batch in make_batches():
            first = batch[0] if isinstance(batch, (tuple, list)) else batch
            count += len(first)
        elapsed = time.perf_counter() - start
        if count != expected:
            raise CourseError(f"{where}: a run delivered {count} samples, expected {expected} — the pipeline "
                              "drops or repeats samples (drop_last? repeat()? an unsplit IterableDataset?).")
        if run >= warmup:
            rates.append(count / max(elapsed, 1e-9))
    return rates


def spread(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max) of repeated measurements."""
    values = [float(v) for v in values]
    if not values:
        raise CourseError("pipelines_pt.spread: no values — measure at least once.")
    return statistics.median(values), min(values), max(values)


def band(ratio: float) -> str:
    """A speed ratio in a coarse band that survives machine noise: '< 0.8×', '0.8-1.25×', '> 1.25×'.

    >>> band(1.9), band(1.0), band(0.5)
    ('> 1.25×', '0.8-1.25×', '< 0.8×')
    """
    ratio = validate.number(ratio, "ratio", "pipelines_pt.band", minimum=0.0)
    if ratio < 0.8:
        return "< 0.8×"
    return "0.8-1.25×" if ratio <= 1.25 else "> 1.25×"


def child_processes() -> list[Any]:
    """The processes this one started that are still running (DataLoader workers, servers, ...)."""
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if p.is_running()
            and p.status() != psutil.STATUS_ZOMBIE]


def wait_for_children(timeout: float = 10.0) -> list[Any]:
    """Collect garbage, then wait up to ``timeout`` s for this process's children to exit; return those left.

    A ``DataLoader``'s workers stop when its iterator is garbage-collected (``persistent_workers``: when
    the loader itself is); this gives them the moment they need to shut down.
    """
    import gc

    timeout = validate.number(timeout, "timeout", "pipelines_pt.wait_for_children", minimum=0.0)
    gc.collect()
    deadline = time.monotonic() + timeout
    left = child_processes()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        gc.collect()
        left = child_processes()
    return left


def python_work(index: int, steps: int = 20_000) -> int:
    """Pure-Python busy work (holds the GIL throughout): a stand-in for a parser or a PIL-free transform."""
    total = int(index)
    for k in range(steps):
        total = (total * 31 + k) % 1_000_003
    return total


def python_work_pid(index: int, steps: int = 20_000) -> int:
    """``python_work(index)``, then the id of the process that ran it: which process a pipeline runs Python in.

    >>> import os; python_work_pid(3, steps=10) == os.getpid()
    True
    """
    python_work(index, steps)
    return os.getpid()


class PythonWork(Dataset):
    """Map-style: ``dataset[i]`` = ``python_work(i)`` (or, with ``pid=True``, ``python_work_pid(i)``): how a
    pipeline runs plain Python in parallel, and in which processes."""

    def __init__(self, n: int, steps: int = 20_000, pid: bool = False):
        self.n = validate.integer(n, "n", "pipelines_pt.PythonWork", minimum=1)
        self.steps = validate.integer(steps, "steps", "pipelines_pt.PythonWork", minimum=0)
        self.pid = validate.flag(pid, "pid", "pipelines_pt.PythonWork")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        return (python_work_pid if self.pid else python_work)(index, self.steps)


class SlowFirst(Dataset):
    """Map-style: ``dataset[i]`` = ``i``, where sample 0 first sleeps ``seconds``: shows out-of-order loading."""

    def __init__(self, n: int, seconds: float = 0.5):
        self.n = validate.integer(n, "n", "pipelines_pt.SlowFirst", minimum=1)
        self.seconds = validate.number(seconds, "seconds", "pipelines_pt.SlowFirst", minimum=0.0)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> int:
        if index == 0:
            time.sleep(self.seconds)
        return int(index)


def slow_read(index: int) -> float:
    """Read sample ``index`` from a slow disk, simulated: wait ``READ_SECONDS``, return the time it was read
    (``time.perf_counter()``, one clock for every process on the machine).

    The wait needs no CPU and releases the GIL, like real I/O, so the overlap that prefetching buys shows
    the same on a busy machine. Both frameworks read through it: ``SlowReads`` (torch) and
    ``tf.py_function(slow_read, [i], tf.float64)`` (tf.data).

    >>> slow_read(0) <= time.perf_counter()
    True
    """
    time.sleep(READ_SECONDS)
    return time.perf_counter()


class SlowReads(Dataset):
    """Map-style: ``dataset[i]`` = ``slow_read(i)``, the time sample ``i`` was read from the simulated slow disk."""

    def __init__(self, n: int):
        self.n = validate.integer(n, "n", "pipelines_pt.SlowReads", minimum=1)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> float:
        return slow_read(index)


def epoch_with_step(batches: Any, step_seconds: float, expected: int) -> tuple[float, int, int]:
    """Consume one epoch of ``batches`` of read times (from ``slow_read``), waiting ``step_seconds`` after each
    batch, the training step simulated. Return ``(seconds, ready, asked)``: the epoch's wall time, and how many
    of the batches after the first were already read when the loop asked for them (``ready``) out of ``asked``.

    A pipeline that loads only when asked has ``ready == 0``; one that loads the next batch while the step
    runs (prefetch, workers) has ``ready == asked`` whenever loading a batch takes less than the step.
    ``time.sleep`` stands for the step because a real step runs in C++ with the GIL released: a busy Python
    loop would hold the GIL and stall a producer that needs it (``tf.py_function``).

    >>> seconds, ready, asked = epoch_with_step([[slow_read(0)]] * 3, 0.0, expected=3)
    >>> ready, asked
    (2, 2)
    """
    where = "pipelines_pt.epoch_with_step"
    step_seconds = validate.number(step_seconds, "step_seconds", where, minimum=0.0)
    expected = validate.integer(expected, "expected", where, minimum=1)
    start = asked_at = time.perf_counter()
    count, ready, asked = 0, 0, 0
    for batch in batches:
        read_times = np.asarray(batch, dtype=np.float64).reshape(-1)
        if count:
            asked += 1
            ready += int(read_times.max() < asked_at)
        count += len(read_times)
        time.sleep(step_seconds)
        asked_at = time.perf_counter()
    if count != expected:
        raise CourseError(f"{where}: an epoch delivered {count} samples, expected {expected} — the pipeline "
                          "drops or repeats samples.")
    return time.perf_counter() - start, ready, asked
