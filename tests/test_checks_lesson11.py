"""The 11_distributed exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DistributedSampler

import course_utils as cu
from course_utils.check.lesson11 import PER_EXAMPLE, RANK0_ORDERS, RANK1_ORDERS


def one_line(verdict):
    text = str(verdict)
    assert "\n" not in text and "Traceback" not in text
    return text


# --- 11.1 global batch and learning rate after a world-size change ---------------------------------

def test_scaled_batch_and_lr_right():
    assert cu.check.scaled_batch_and_lr((128, 0.2), quiet=True)
    assert cu.check.scaled_batch_and_lr([torch.tensor(128), tf.constant(0.2)], quiet=True)  # any container
    assert cu.check.scaled_batch_and_lr({"global_batch": 4 * 32, "lr": 0.05 * 4}, quiet=True)
    assert cu.check.scaled_batch_and_lr((np.int64(128), np.float32(0.2)), quiet=True)


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


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    (RANK0_ORDERS, "NumPy array"),
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


def test_the_right_answer_sums_to_the_global_mean():
    losses = torch.from_numpy(PER_EXAMPLE).sum(dim=1) / 64
    assert abs(float(losses.sum()) - float(PER_EXAMPLE.mean())) < 1e-6


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (PER_EXAMPLE.sum(axis=1) / 64, "NumPy array"),
    ([0.73, 0.65], "expected a torch tensor"),
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
    assert out.startswith("Exercise 11.3 — correct.") and out.count("\n") == 1


def test_hint_shows_code_for_every_exercise():
    for exercise in ("11.1", "11.2", "11.3"):
        assert "answer" in str(cu.check.hint(exercise))
