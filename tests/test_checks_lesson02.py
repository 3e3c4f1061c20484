"""The 02_autodiff exercise checks: right answers in both frameworks pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import first_try, one_line  # noqa: F401 (first_try: autouse)
from course_utils.check.lesson02 import MICRO_W, MICRO_X, MICRO_Y, ROUND_T, ROUND_X, TANH_X


def assert_wrong(check, answer, words):
    verdict = check(answer, quiet=True)
    assert not verdict, str(verdict)
    assert verdict.status == ("not attempted" if answer is ... else "wrong"), str(verdict)
    assert words in one_line(verdict), str(verdict)


# ---- 2.1 micro-batch accumulation -------------------------------------------------------------

def accumulate_pt(batches, w, share="rows", only=None, sign=1.0):
    """The right answer (share="rows") and the learners' usual mistakes, as functions."""
    n = sum(len(y) for _, y in batches)
    w = torch.tensor(w, requires_grad=True)
    for k, (X_b, y_b) in enumerate(batches):
        if only is not None and k != only:
            continue
        scale = {"rows": len(y_b) / n, "count": 1 / len(batches), "none": 1.0}[share]
        (sign * ((torch.tensor(X_b) @ w - torch.tensor(y_b)) ** 2).mean() * scale).backward()
    return w.grad


def accumulate_tf(batches, w):
    n = sum(len(y) for _, y in batches)
    w, total = tf.Variable(w), tf.zeros(3)
    for X_b, y_b in batches:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.linalg.matvec(X_b, w) - y_b) ** 2) * len(y_b) / n
        total += tape.gradient(loss, w)
    return total


def test_micro_batch_right_in_both():
    assert cu.check.micro_batch_gradient(accumulate_pt, quiet=True)
    assert cu.check.micro_batch_gradient(accumulate_tf, quiet=True)


def test_micro_batch_right_alternatives():
    def in_float64_by_index(batches, w):
        n = sum(len(batches[i][1]) for i in range(len(batches)))
        w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        for i in range(len(batches)):
            X_b, y_b = batches[i]
            X, y = torch.from_numpy(X_b).double(), torch.from_numpy(y_b).double()
            (((X @ w - y) ** 2).sum() / n).backward()
        return w.grad

    def tf_sum_over_n(batches, w):
        n = sum(len(y) for _, y in batches)
        w, grads = tf.Variable(tf.cast(w, tf.float64)), []
        for X_b, y_b in batches:
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum((tf.linalg.matvec(tf.cast(X_b, tf.float64), w) - y_b) ** 2) / n
            grads.append(tape.gradient(loss, w))
        return tf.add_n(grads)

    def torch_optimizer_style(batches, w):
        w = torch.nn.Parameter(torch.tensor(w))
        n = sum(len(y) for _, y in batches)
        opt = torch.optim.SGD([w], lr=0.1)
        opt.zero_grad()
        for X_b, y_b in batches:
            loss = torch.nn.functional.mse_loss(torch.tensor(X_b) @ w, torch.tensor(y_b))
            (loss * len(y_b) / n).backward()
        return w.grad

    for right in (in_float64_by_index, tf_sum_over_n, torch_optimizer_style):
        assert cu.check.micro_batch_gradient(right, quiet=True), right.__name__


def test_micro_batch_refuses_joining_the_batches_into_one_full_batch():
    """The exercise says one micro-batch at a time (review 02-2): one gradient of the joined batches is refused."""
    def joined_torch(batches, w):
        X = torch.tensor(np.concatenate([X_b for X_b, _ in batches]), dtype=torch.float64)
        y = torch.tensor(np.concatenate([y_b for _, y_b in batches]), dtype=torch.float64)
        w = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        ((X @ w - y) ** 2).mean().backward()
        return w.grad

    def joined_tf(batches, w):
        pairs = list(batches)
        X, y = tf.concat([p[0] for p in pairs], 0), tf.concat([p[1] for p in pairs], 0)
        w = tf.Variable(w)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.linalg.matvec(X, w) - y) ** 2)
        return tape.gradient(loss, w)

    for joined in (joined_torch, joined_tf):
        assert_wrong(cu.check.micro_batch_gradient, joined, "joined them into one full batch")


def test_micro_batch_refuses_a_full_batch_gradient_of_the_shown_data():
    def full_batch_of_micro_x(batches, w):
        X, y, w = torch.tensor(MICRO_X), torch.tensor(MICRO_Y), torch.tensor(w, requires_grad=True)
        ((X @ w - y) ** 2).mean().backward()
        return w.grad
    assert_wrong(cu.check.micro_batch_gradient, full_batch_of_micro_x, "whatever batches")
    assert_wrong(cu.check.micro_batch_gradient, full_batch_of_micro_x(None, MICRO_W), "your function itself")


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "your function itself"),
    (torch.zeros(3), "your function itself"),
    (lambda batches, w: None, "is None"),
    (lambda batches, w: [0.1, 0.2, 0.3], "a list"),
    (lambda batches, w: torch.zeros(3, 1), "shape (3, 1)"),
    (lambda batches, w: torch.tensor([1, 2, 3]), "dtype int64"),
    (lambda batches, w: accumulate_pt(batches, w).numpy(), "NumPy array, not a tensor"),
    (lambda batches, w: torch.full((3,), float("nan")), "NaN"),
    (lambda batches: None, "raised TypeError"),
    (lambda batches, w: 1 / 0, "raised ZeroDivisionError"),
])
def test_micro_batch_wrong(answer, words):
    assert_wrong(cu.check.micro_batch_gradient, answer, words)


def test_micro_batch_spots_the_typical_mistakes():
    assert_wrong(cu.check.micro_batch_gradient, lambda b, w: accumulate_pt(b, w, share="count"),
                 "divided by the number of micro-batches")
    assert_wrong(cu.check.micro_batch_gradient, lambda b, w: accumulate_pt(b, w, share="none"), "unweighted")
    assert_wrong(cu.check.micro_batch_gradient, lambda b, w: accumulate_pt(b, w, only=1), "one micro-batch only")
    assert_wrong(cu.check.micro_batch_gradient, lambda b, w: accumulate_pt(b, w, sign=-1.0), "wrong sign")


def test_micro_batch_hints_follow_the_framework():
    one_tf = lambda b, w: tf.constant(accumulate_pt(b, w, only=0).numpy())
    assert "tape gradient" in one_line(cu.check.micro_batch_gradient(one_tf, quiet=True))
    assert "backward()" in one_line(cu.check.micro_batch_gradient(lambda b, w: accumulate_pt(b, w, only=0), quiet=True))


# ---- 2.2 second derivative of tanh ------------------------------------------------------------

def tanh_second_pt():
    x = torch.tensor(TANH_X, requires_grad=True)
    (g,) = torch.autograd.grad(torch.tanh(x).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x)
    return g2


def tanh_second_tf():
    x = tf.Variable(TANH_X)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.tanh(x))
        g = inner.gradient(y, x)
    return outer.gradient(g, x)


def test_tanh_second_right_in_both():
    assert cu.check.tanh_second_derivative(tanh_second_pt(), quiet=True)
    assert cu.check.tanh_second_derivative(tanh_second_tf(), quiet=True)
    assert cu.check.tanh_second_derivative(tf.cast(tanh_second_tf(), tf.float64), quiet=True)
    assert_wrong(cu.check.tanh_second_derivative, tanh_second_tf().numpy(), "NumPy array, not a tensor")
    assert_wrong(cu.check.tanh_second_derivative, float(tanh_second_pt()[0]), "a float, not a tensor")


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([0.0] * 5, "a list"),
    (torch.zeros(4), "shape (4,)"),
    (np.zeros(5, np.float64), "NumPy array"),
    (-tanh_second_pt(), "wrong sign"),
    (torch.tanh(torch.tensor(TANH_X)), "values of tanh"),
    (torch.full((5,), float("nan")), "NaN"),
    (torch.zeros(5), "different values"),
])
def test_tanh_second_wrong(answer, words):
    assert_wrong(cu.check.tanh_second_derivative, answer, words)


def test_tanh_second_spots_first_derivative_and_hessian():
    first = 1 - torch.tanh(torch.tensor(TANH_X)) ** 2
    assert_wrong(cu.check.tanh_second_derivative, first, "first derivative")
    hessian = torch.autograd.functional.hessian(lambda t: torch.tanh(t).sum(), torch.tensor(TANH_X))
    assert_wrong(cu.check.tanh_second_derivative, hessian, "whole (5, 5) Hessian")
    assert "create_graph=True" in str(cu.check.tanh_second_derivative(first, quiet=True))
    tf_first = tf.constant(first.numpy())
    core.reset_tries()
    verdict = cu.check.tanh_second_derivative(tf_first, quiet=True)
    assert "GradientTape" in str(verdict) and "create_graph" not in str(verdict), "no torch advice for a TF answer"


# ---- 2.3 straight-through rounding ------------------------------------------------------------

def ste_pt():
    x = torch.tensor(ROUND_X, requires_grad=True)
    r = x + (torch.round(x) - x).detach()
    ((r - torch.tensor(ROUND_T)) ** 2).sum().backward()
    return x.grad


def ste_tf(rounding=True, stop_x=False):
    x = tf.Variable(ROUND_X)
    with tf.GradientTape() as tape:
        if stop_x:  # the mistake: stop x and keep the correction on the path
            r = tf.stop_gradient(x) + (tf.round(x) - x)
        elif rounding:
            r = x + tf.stop_gradient(tf.round(x) - x)
        else:
            r = x
        loss = tf.reduce_sum((r - ROUND_T) ** 2)
    return tape.gradient(loss, x)


def test_ste_right_in_both():
    assert cu.check.straight_through_gradient(ste_pt(), quiet=True)
    assert cu.check.straight_through_gradient(ste_tf(), quiet=True)
    assert cu.check.straight_through_gradient(ste_pt().double(), quiet=True)


def test_ste_first_try_points_and_does_not_hand_out_the_code():
    zeros = cu.check.straight_through_gradient(torch.zeros(5), quiet=True)
    assert "(...).detach()" in str(zeros) and "torch.round(x_ex)" not in str(zeros)
    assert "tf.stop_gradient(...)" in str(cu.check.straight_through_gradient(tf.zeros(5), quiet=True))


def test_ste_spots_plain_rounding_in_both():
    x = torch.tensor(ROUND_X, requires_grad=True)
    ((torch.round(x) - torch.tensor(ROUND_T)) ** 2).sum().backward()
    assert_wrong(cu.check.straight_through_gradient, x.grad, "all zeros")
    xt = tf.Variable(ROUND_X)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum((tf.round(xt) - ROUND_T) ** 2)
    none = tape.gradient(loss, xt)
    assert none is None
    assert_wrong(cu.check.straight_through_gradient, none, "round has no gradient")


def test_ste_spots_sign_and_missing_rounding():
    assert_wrong(cu.check.straight_through_gradient, ste_tf(stop_x=True), "wrong sign")
    assert_wrong(cu.check.straight_through_gradient, ste_tf(rounding=False), "did not round")


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    ([1.0] * 5, "a list"),
    (torch.ones(5, 1), "shape (5, 1)"),
    (torch.ones(5, dtype=torch.int32), "dtype int32"),
    (tf.constant([np.inf] * 5), "inf"),
    (tf.ones(5), "different values"),
    (ste_pt() / 2, "half the right gradient"),
    (ste_pt().numpy(), "NumPy array"),
])
def test_ste_wrong(answer, words):
    assert_wrong(cu.check.straight_through_gradient, answer, words)


def test_checks_print_one_line(capsys):
    cu.check.tanh_second_derivative(tanh_second_pt())
    out = capsys.readouterr().out
    assert out.startswith("Exercise 2.2 — correct.") and out.count("\n") <= core.MAX_LINES
    cu.check.straight_through_gradient(...)
    assert capsys.readouterr().out == ("Exercise 2.3 — not attempted yet: replace the `...` with your answer, "
                                       "then run this cell again.\n")
