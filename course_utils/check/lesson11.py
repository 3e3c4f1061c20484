"""Checks for the exercises of 11_distributed.

The inputs the exercises hand out are written out here, so the checks do not trust the notebook's cells.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..base.arrays import framework_of
from .core import Wrong, as_array, describe, expect_close, expect_finite, expect_shape, exercise

# 11.3: one process trained with this batch size and learning rate; then WORKERS workers, each
# with the same DataLoader(batch_size=SINGLE_BATCH).
SINGLE_BATCH, SINGLE_LR, WORKERS = 32, 0.05, 4

# 11.1: DistributedSampler(range(16), num_replicas=2, rank=0, shuffle=True, seed=0), epochs 0 and 1,
# with set_epoch: torch.randperm(16, generator=manual_seed(epoch))[0::2] (tests check it against torch).
SAMPLER_N, SAMPLER_REPLICAS = 16, 2
RANK0_ORDERS = np.array([[12, 9, 11, 13, 2, 15, 4, 7], [5, 6, 11, 7, 1, 9, 10, 13]], dtype=np.int64)
RANK1_ORDERS = np.array([[10, 6, 8, 5, 14, 0, 3, 1], [15, 4, 2, 12, 0, 8, 3, 14]], dtype=np.int64)

# 11.2: per-example losses of one global batch of 64, split over 2 replicas of 32.
PER_EXAMPLE = np.random.default_rng(11).uniform(0.5, 2.5, size=(2, 32)).astype(np.float32)
GLOBAL_BATCH = PER_EXAMPLE.size


def _number(value: Any, what: str) -> float:
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, bool):
        raise Wrong(f"{what} is {describe(value)}; expected a number.")
    arr = as_array(value, tensor=False, what=what)
    if arr.size != 1 or arr.dtype.kind not in "fiu":
        raise Wrong(f"{what} should be one number, found {describe(value)} of shape {arr.shape}.")
    expect_finite(arr, what)
    return float(arr.reshape(()))


@exercise("11.3", accepts=("any",),
          solution="answer = (4 * 32, 0.05 * 4)  # every worker loads its own 32; lr grows with the batch")
def scaled_batch_and_lr(answer: Any) -> str:
    """(global batch, learning rate) after moving from 1 process to WORKERS DDP workers (linear scaling rule)."""
    if isinstance(answer, Mapping):
        keys = {str(k).lower(): v for k, v in answer.items()}
        batch_key = next((k for k in keys if "batch" in k), None)
        lr_key = next((k for k in keys if "lr" in k or "learning" in k), None)
        if batch_key is None or lr_key is None:
            raise Wrong("your dict needs a batch entry and a learning-rate entry, e.g. {'global_batch': ..., 'lr': ...}.")
        answer = (keys[batch_key], keys[lr_key])
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"your answer is {describe(answer)}; expected two numbers: (global batch size, learning rate).")
    batch, lr = _number(answer[0], "the global batch"), _number(answer[1], "the learning rate")
    want_batch, want_lr = SINGLE_BATCH * WORKERS, SINGLE_LR * WORKERS
    if np.isclose(batch, want_lr) and np.isclose(lr, want_batch):
        raise Wrong("the two numbers are swapped: the batch size first, then the learning rate.")
    if batch == SINGLE_BATCH:
        raise Wrong(f"{batch:g} is one worker's batch. In DDP batch_size is per process, and every step "
                    "averages all the workers' gradients.")
    if batch == SINGLE_BATCH / WORKERS:
        raise Wrong(f"{batch:g} would be right if the batch were split over the workers; in DDP each "
                    "process loads its own batch.")
    if batch != want_batch:
        raise Wrong(f"a global batch of {batch:g} is not what {WORKERS} workers × batch_size={SINGLE_BATCH} give.")
    if np.isclose(lr, SINGLE_LR):
        raise Wrong(f"the global batch is right; the learning rate is unchanged, though each step now averages "
                    f"{WORKERS}× more samples. Scale it with the batch.")
    if np.isclose(lr, SINGLE_LR / WORKERS):
        raise Wrong("the global batch is right; the learning rate goes the other way: it grows with the batch.")
    if np.isclose(lr, SINGLE_LR * np.sqrt(WORKERS)):
        raise Wrong(f"the global batch is right; lr={lr:g} follows the square-root rule. Use the linear one: "
                    "lr grows as the batch.")
    if not np.isclose(lr, want_lr, rtol=1e-6, atol=1e-9):
        raise Wrong(f"the global batch is right; lr={lr:g} is not what the linear scaling rule gives.")
    return (f"{WORKERS} × {SINGLE_BATCH} = {want_batch} samples per step, lr {SINGLE_LR:g} × {WORKERS} = "
            f"{want_lr:g} (with a warm-up, in practice).")


NO_SHUFFLE_RANK0 = np.arange(0, SAMPLER_N, SAMPLER_REPLICAS)   # DistributedSampler(shuffle=False) on rank 0


@exercise("11.1", accepts=("torch",), solution=(
    "sampler = DistributedSampler(range(16), num_replicas=2, rank=0, shuffle=True, seed=0)\n"
    "orders = []\n"
    "for epoch in range(2):\n"
    "    sampler.set_epoch(epoch)\n"
    "    orders.append(list(sampler))\n"
    "answer = torch.tensor(orders)"))
def set_epoch_orders(answer: Any) -> str:
    """Rank 0's sample order in epochs 0 and 1 from a DistributedSampler with set_epoch, shape (2, 8)."""
    if isinstance(answer, (np.ndarray, list, tuple)):
        try:
            right = np.array_equal(np.asarray(answer), RANK0_ORDERS)
        except Exception:  # noqa: BLE001 - ragged
            right = False
        raise Wrong(f"your answer is {describe(answer)}" + ("; the numbers are right: wrap them in torch.tensor(...)"
                                                            if right else ": hand in a tensor of the orders, shape (2, 8)") + ".")
    arr = as_array(answer)
    if arr.dtype.kind not in "iu":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected sample indices (integers).")
    half = SAMPLER_N // SAMPLER_REPLICAS
    if arr.shape == (2, SAMPLER_N):
        raise Wrong(f"each row holds all {SAMPLER_N} samples: with num_replicas={SAMPLER_REPLICAS} rank 0 "
                    f"sees only {half} per epoch. Keep the sampler's num_replicas and rank.")
    expect_shape(arr, (2, half), hint="one row per epoch, the indices rank 0 sees: list(sampler).")
    if np.array_equal(arr[0], arr[1]) and np.array_equal(arr[0], NO_SHUFFLE_RANK0):
        raise Wrong("both epochs are 0, 2, 4, ...: the sampler does not shuffle at all. Keep the cell's "
                    "sampler, shuffle=True.")
    if np.array_equal(arr[0], arr[1]):
        raise Wrong("both epochs have the same order: the sampler shuffles with seed + epoch, and its epoch "
                    "changes only when you set it.")
    if np.array_equal(arr, RANK1_ORDERS):
        raise Wrong("those are rank 1's samples; the exercise asks for rank 0's.")
    if np.array_equal(arr[:, ::-1], RANK0_ORDERS) or np.array_equal(arr[::-1], RANK0_ORDERS):
        raise Wrong("the right samples in the wrong order: one row per epoch, epoch 0 first, in the sampler's order.")
    if np.array_equal(arr[0], RANK0_ORDERS[1]):
        raise Wrong("epoch 0 holds epoch 1's order: the epoch is set one too high (count from 0).")
    if not np.array_equal(arr, RANK0_ORDERS):
        raise Wrong("these are not the orders the sampler gives with seed=0 on rank 0. "
                    "Hint: the same sampler as in the cell, iterated once per epoch.")
    return "a new shuffle every epoch, the same on every rank (seed + epoch)."


@exercise("11.2", solution={
    "tensorflow": "answer = tf.stack([tf.nn.compute_average_loss(row, global_batch_size=64) for row in per_example])",
    "torch": "answer = torch.from_numpy(per_example).sum(dim=1) / 64"})
def replica_losses(answer: Any) -> str:
    """Each replica's loss, scaled so that summing the replicas' gradients gives the global batch's mean."""
    if isinstance(answer, (np.ndarray, list, tuple)):
        try:
            values = np.asarray(answer, dtype=np.float64)
            right = values.shape == (2,) and np.allclose(values, PER_EXAMPLE.sum(axis=1) / GLOBAL_BATCH, rtol=1e-4)
        except (TypeError, ValueError):  # ragged, or tensors of another kind inside
            right = False
        raise Wrong(f"your answer is {describe(answer)}" + ("; the numbers are right: wrap them in torch.tensor(...) "
                                                            "or tf.constant(...)" if right else
                                                            ": hand in the framework's tensor, as a training step computes it") + ".")
    kind = framework_of(answer)
    arr = as_array(answer)
    if arr.dtype.kind not in "fiu":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected two losses.")
    expect_finite(arr)
    global_mean = float(PER_EXAMPLE.astype(np.float64).mean())
    if arr.size == 1 and np.isclose(float(arr.reshape(())), global_mean, rtol=1e-4):
        raise Wrong("that is the global mean, what the SUM over the replicas must give; hand in each "
                    "replica's own loss, shape (2,).")
    expect_shape(arr.reshape(-1) if arr.ndim > 1 and arr.size == 2 else arr, (2,),
                 hint="one loss per replica: per_example has one row per replica.")
    arr = arr.reshape(2).astype(np.float64)
    sums, means = PER_EXAMPLE.sum(axis=1), PER_EXAMPLE.mean(axis=1)
    if np.allclose(arr, means, rtol=1e-4):
        raise Wrong("each replica took its own mean: summed over the replicas, that is twice the global mean. "
                    "Divide by the GLOBAL batch size.")
    if np.allclose(arr, sums, rtol=1e-4):
        raise Wrong("these are plain sums: the gradients would be 64 times too large. Divide by the global batch size.")
    if np.allclose(arr, sums / (GLOBAL_BATCH * 2), rtol=1e-4):
        raise Wrong("divided twice: the global batch size already counts both replicas.")
    expect_close(arr, sums / GLOBAL_BATCH, hint="sum of the replica's per-example losses / the global batch size.")
    if kind == "tensorflow":
        return "summed over the replicas, they give the global mean, as compute_average_loss does."
    return "summed over the replicas, they give the global mean (DDP averages the gradients itself)."
