"""The 11_distributed exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DistributedSampler

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils.check.lesson11 import PER_EXAMPLE, RANK0_ORDERS, RANK1_ORDERS


# --- 11.1 global batch and learning rate after a world-size change ---------------------------------

def test_scaled_batch_and_lr_right():
    assert cu.check.scaled_batch_and_lr((128, 0.2), quiet=True)
    assert cu.check.scaled_batch_and_lr([torch.tensor(128), tf.constant(0.2)], quiet=True)  # any container
    assert cu.check.scaled_batch_and_lr({"global_batch": 4 * 32, "lr": 0.05 * 4}, quiet=True)
    assert cu.check.scaled_batch_and_lr((np.int64(128), np.float32(0.2)), quiet=True)
    assert_right(cu.check.scaled_batch_and_lr, {"batch_size": 128, "learning_rate": 0.2})


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (128, "two numbers"),
    ((32, 0.05), "one worker's batch"),
    ((8, 0.0125), "split over the workers"),
    ((128, 0.05), "learning rate is unchanged"),
    ((128, 0.0125), "other way"),
    ((0.2, 128), "swapped"),
    ((128, "0.2"), "expected a number"),
    ((128, float("nan")), "NaN"),
    ({"batch": 128}, "learning-rate entry"),
    ((128, 0.21), "not what the linear scaling rule gives"),
    ((128, 0.1), "square-root rule"),
    ((512, 0.8), "not what 4 workers"),
])
def test_scaled_batch_and_lr_wrong(answer, words):
    verdict = cu.check.scaled_batch_and_lr(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


# --- 11.2 the missing set_epoch ----------------------------------------------------------------------

def sampler_orders(rank, set_epoch=True):
    sampler = DistributedSampler(range(16), num_replicas=2, rank=rank, shuffle=True, seed=0)
    orders = []
    for epoch in range(2):
        if set_epoch:
            sampler.set_epoch(epoch)
        orders.append(list(sampler))
    return orders


def test_the_written_out_orders_are_torchs():
    assert np.array_equal(sampler_orders(0), RANK0_ORDERS) and np.array_equal(sampler_orders(1), RANK1_ORDERS)


def test_set_epoch_orders_right_in_both():
    assert cu.check.set_epoch_orders(torch.tensor(sampler_orders(0)), quiet=True)
    assert cu.check.set_epoch_orders(tf.constant(sampler_orders(0)), quiet=True)
    assert cu.check.set_epoch_orders(torch.tensor(sampler_orders(0), dtype=torch.int32), quiet=True)
    assert_right(cu.check.set_epoch_orders, torch.stack([torch.tensor(o) for o in sampler_orders(0)]))


def no_shuffle_orders():
    sampler = DistributedSampler(range(16), num_replicas=2, rank=0, shuffle=False)
    orders = []
    for epoch in range(2):
        sampler.set_epoch(epoch)
        orders.append(list(sampler))
    return orders


def test_set_epoch_orders_shuffle_false_is_named_not_set_epoch():
    verdict = assert_wrong(cu.check.set_epoch_orders, torch.tensor(no_shuffle_orders()), "does not shuffle")
    assert "set_epoch" not in str(verdict)


def shifted_orders():
    sampler = DistributedSampler(range(16), num_replicas=2, rank=0, shuffle=True, seed=0)
    orders = []
    for epoch in range(2):
        sampler.set_epoch(epoch + 1)
        orders.append(list(sampler))
    return orders


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    (RANK0_ORDERS, "the numbers are right: wrap them in torch.tensor"),
    (RANK0_ORDERS.tolist(), "the numbers are right"),
    (torch.tensor(shifted_orders()), "one too high"),
    ([[1, 2]], "a list"),
    (torch.tensor(sampler_orders(0, set_epoch=False)), "same order"),
    (torch.tensor(sampler_orders(1)), "rank 1's"),
    (torch.tensor(RANK0_ORDERS[::-1].copy()), "wrong order"),
    (torch.stack([torch.randperm(16), torch.randperm(16)]), "all 16 samples"),
    (torch.tensor(sampler_orders(0), dtype=torch.float32), "integers"),
    (torch.arange(16).reshape(2, 8), "not the orders"),
])
def test_set_epoch_orders_wrong(answer, words):
    verdict = cu.check.set_epoch_orders(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


# --- 11.3 per-replica loss scaling -------------------------------------------------------------------

def test_replica_losses_right_in_both():
    tf_answer = tf.stack([tf.nn.compute_average_loss(row, global_batch_size=64) for row in PER_EXAMPLE])
    assert cu.check.replica_losses(tf_answer, quiet=True)
    assert cu.check.replica_losses(torch.from_numpy(PER_EXAMPLE).sum(dim=1) / 64, quiet=True)
    assert cu.check.replica_losses(torch.from_numpy(PER_EXAMPLE).sum(dim=1, keepdim=True) / 64, quiet=True)  # (2, 1)
    assert_right(cu.check.replica_losses, tf.reduce_sum(PER_EXAMPLE, axis=1) / 64)
    assert_right(cu.check.replica_losses, torch.from_numpy(PER_EXAMPLE).double().mean(dim=1) / 2)


def test_the_right_answer_sums_to_the_global_mean():
    losses = torch.from_numpy(PER_EXAMPLE).sum(dim=1) / 64
    assert abs(float(losses.sum()) - float(PER_EXAMPLE.mean())) < 1e-6


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (PER_EXAMPLE.sum(axis=1) / 64, "the numbers are right: wrap them in torch.tensor"),
    ((PER_EXAMPLE.sum(axis=1) / 64).tolist(), "the numbers are right"),
    ([0.73, 0.65], "hand in the framework's tensor"),
    (tf.reduce_mean(PER_EXAMPLE, axis=1), "own mean"),
    (torch.from_numpy(PER_EXAMPLE).mean(dim=1), "own mean"),
    (torch.from_numpy(PER_EXAMPLE).sum(dim=1), "plain sums"),
    (torch.from_numpy(PER_EXAMPLE).sum(dim=1) / 128, "divided twice"),
    (tf.reduce_mean(PER_EXAMPLE), "global mean"),
    (tf.ones(3), "shape (3,)"),
    (torch.tensor([float("nan"), 1.0]), "NaN"),
    (torch.from_numpy(PER_EXAMPLE).sum(dim=1) / 32 * 0.7, "different values"),
])
def test_replica_losses_wrong(answer, words):
    verdict = cu.check.replica_losses(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.scaled_batch_and_lr((128, 0.2))
    out = capsys.readouterr().out
    assert out.startswith("Exercise 11.3 — correct.") and out.count("\n") <= 2


def test_hint_shows_code_for_every_exercise():
    for exercise in ("11.1", "11.2", "11.3"):
        assert "answer" in str(cu.check.hint(exercise))


# --- every solution runs in a namespace holding what the lesson defines before it, and passes ------

@pytest.mark.parametrize("exercise, framework", [("11.1", "torch"), ("11.2", "torch"), ("11.2", "tensorflow"),
                                                 ("11.3", "any")])
def test_each_solution_runs_after_the_lessons_setup_and_passes(exercise, framework):
    namespace = {"torch": torch, "tf": tf, "np": np, "DistributedSampler": DistributedSampler,
                 "per_example": PER_EXAMPLE.copy()}
    exec(cu.check.core.SOLUTIONS[exercise][framework], namespace)
    check = {"11.1": cu.check.set_epoch_orders, "11.2": cu.check.replica_losses,
             "11.3": cu.check.scaled_batch_and_lr}[exercise]
    assert_right(check, namespace["answer"])
