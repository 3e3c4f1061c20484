"""The 10_custom_extensions exercise checks: right answers in both frameworks pass; plausible mistakes
get a one-line reason."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse


# --- helpers: an op from a forward and a backward rule, in each framework ------------------------

def torch_op(forward, backward):
    class Op(torch.autograd.Function):
        @staticmethod
        def forward(x):
            return forward(x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return backward(grad, x)

    return Op.apply


def tf_op(forward, backward):
    @tf.custom_gradient
    def op(x):
        def grad(upstream):
            return backward(upstream, x)
        return forward(x), grad

    return op


def sp_pt(x):
    return (x + torch.sqrt(x * x + 4)) / 2


def sp_tf(x):
    return (x + tf.sqrt(x * x + 4)) / 2


# --- 10.1 squareplus backward --------------------------------------------------------------------

def test_squareplus_right_in_both():
    assert cu.check.squareplus_backward(torch_op(sp_pt, lambda g, x: g * (1 + x / torch.sqrt(x * x + 4)) / 2), quiet=True)
    assert cu.check.squareplus_backward(tf_op(sp_tf, lambda g, x: g * (1 + x / tf.sqrt(x * x + 4)) / 2), quiet=True)
    # a correct alternative: the derivative written through the output, f'(x) = f / sqrt(x² + 4)
    assert cu.check.squareplus_backward(torch_op(sp_pt, lambda g, x: g * sp_pt(x) / torch.sqrt(x * x + 4)), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    (np.zeros(7), "expected the op"),
    (torch_op(sp_pt, lambda g, x: (1 + x / torch.sqrt(x * x + 4)) / 2), "upstream gradient"),
    (tf_op(sp_tf, lambda g, x: g * (1 + x / tf.sqrt(x * x + 4))), "twice too large"),
    (torch_op(sp_pt, lambda g, x: g * (1 - x / torch.sqrt(x * x + 4)) / 2), "sign"),
    (tf_op(sp_tf, lambda g, x: g * (1 + 1 / (2 * tf.sqrt(x * x + 4))) / 2), "inner derivative"),
    (torch_op(sp_pt, lambda g, x: None), "returned None"),
    (torch_op(lambda x: torch.relu(x), lambda g, x: g), "forward changed"),
    (sp_pt, "framework derived it"),
    (sp_tf, "framework derived it"),          # a plain TF composite: no hand-written gradient
    (tf_op(sp_tf, lambda g, x: g * (1 + x / tf.sqrt(x * x + 4)) / 2 + 0.01), "differs from upstream"),
    (torch_op(sp_pt, lambda g, x: g * x / torch.sqrt(x * x + 4) / 2), "differs from grad"),
])
def test_squareplus_wrong(answer, words):
    verdict = cu.check.squareplus_backward(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_squareplus_right_when_wrapped():
    # a right answer handed in through a lambda or a Keras layer still counts as hand-written
    op = tf_op(sp_tf, lambda g, x: g * (1 + x / tf.sqrt(x * x + 4)) / 2)
    assert cu.check.squareplus_backward(lambda x: op(x), quiet=True)


def test_hint_shows_code_for_every_exercise():
    for exercise in ("10.1", "10.2", "10.3"):
        assert "answer" in str(cu.check.hint(exercise))


def test_squareplus_function_class_is_refused_with_hint():
    class Squareplus(torch.autograd.Function):
        pass
    verdict = cu.check.squareplus_backward(Squareplus, quiet=True)
    assert not verdict and "Squareplus.apply" in one_line(verdict)


# --- 10.2 SiLU backward --------------------------------------------------------------------------

def silu_pt(x):
    return x * torch.sigmoid(x)


def silu_tf(x):
    return x * tf.sigmoid(x)


def test_silu_right_in_both():
    s_pt, s_tf = torch.sigmoid, tf.sigmoid
    assert cu.check.silu_backward(torch_op(silu_pt, lambda g, x: g * s_pt(x) * (1 + x * (1 - s_pt(x)))), quiet=True)
    assert cu.check.silu_backward(tf_op(silu_tf, lambda g, x: g * s_tf(x) * (1 + x * (1 - s_tf(x)))), quiet=True)
    # a correct alternative: the product rule written out
    assert cu.check.silu_backward(tf_op(silu_tf, lambda g, x: g * (s_tf(x) + x * s_tf(x) * (1 - s_tf(x)))), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    ("SiLU.apply", "expected the op"),
    (torch_op(silu_pt, lambda g, x: g * torch.sigmoid(x) * (1 + x * torch.sigmoid(x))), "still the colleague's"),
    (tf_op(silu_tf, lambda g, x: tf.sigmoid(x) * (1 + x * (1 - tf.sigmoid(x)))), "upstream"),
    (torch_op(silu_pt, lambda g, x: g * torch.sigmoid(x) * (1 - torch.sigmoid(x))), "product rule"),
    (tf_op(silu_tf, lambda g, x: g * tf.sigmoid(x)), "x·σ'(x) term"),
    (torch_op(torch.sigmoid, lambda g, x: g), "forward changed"),
    (silu_pt, "framework derived it"),
    (silu_tf, "framework derived it"),
    (tf.nn.silu, "TensorFlow's own"),          # built with a custom gradient (over x and beta), not the learner's
    (tf.keras.activations.silu, "TensorFlow's own"),
    (lambda x: tf.nn.silu(x), "TensorFlow's own"),          # wrapping it hides its name, not its graph
    (lambda x: tf.keras.activations.silu(x), "TensorFlow's own"),
    (torch.nn.functional.silu, "framework derived it"),
    (lambda x: torch.nn.functional.silu(x), "framework derived it"),
    (tf_op(silu_tf, lambda g, x: g * tf.sigmoid(x) * (1 + x * tf.sigmoid(x))), "compute_gradient rejects"),
])
def test_silu_wrong(answer, words):
    verdict = cu.check.silu_backward(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_silu_advice_speaks_the_answers_framework():
    tf_bug = tf_op(silu_tf, lambda g, x: g * tf.sigmoid(x) * (1 + x * tf.sigmoid(x)))
    text = str(assert_wrong(cu.check.silu_backward, tf_bug, "still the colleague's"))
    assert "gradcheck" not in text and "tf.test.compute_gradient" in text
    torch_bug = torch_op(silu_pt, lambda g, x: g * torch.sigmoid(x) * (1 + x * torch.sigmoid(x)))
    text = str(assert_wrong(cu.check.silu_backward, torch_bug, "still the colleague's"))
    assert "gradcheck" in text and "tf." not in text


def test_no_solution_formula_on_a_first_wrong_try():
    for check, answer in ((cu.check.squareplus_backward, tf_op(sp_tf, lambda g, x: g * (1 + x / tf.sqrt(x * x + 4)))),
                          (cu.check.squareplus_backward, torch_op(sp_pt, lambda g, x: g * x)),
                          (cu.check.silu_backward, torch_op(silu_pt, lambda g, x: g * x))):
        text = str(check(answer, quiet=True))
        assert "1 + x / sqrt" not in text and "(1 + x(1 - σ(x)))" not in text and "the code:" not in text, text


def test_op_that_fails_in_both_frameworks_is_one_line():
    def broken(x):
        raise ValueError("boom\nsecond line")
    verdict = cu.check.silu_backward(broken, quiet=True)
    assert not verdict and "failed" in one_line(verdict)


# --- 10.3 a NumPy-backed custom op made to compile -----------------------------------------------

_ops = iter(range(10_000))


def softsign_op(fake=None, forward=None):
    """A fresh copy of the exercise's op (a new name each time: torch registers an op once per process),
    with ``fake`` registered as its fake implementation when given."""
    @torch.library.custom_op(f"course_test10::softsign_{next(_ops)}", mutates_args=())
    def op(x: torch.Tensor) -> torch.Tensor:
        x_np = x.numpy()
        return torch.from_numpy(forward(x_np) if forward else x_np / (1 + np.abs(x_np)))

    if fake is not None:
        op.register_fake(fake)
    return op


def test_softsign_right():
    assert_right(cu.check.softsign_compiles, softsign_op(lambda x: torch.empty_like(x)))
    assert_right(cu.check.softsign_compiles, softsign_op(lambda x: x.new_empty(x.shape)))
    op = softsign_op(lambda x: torch.empty_like(x))
    assert_right(cu.check.softsign_compiles, lambda x: op(x))    # a wrapper around the op is traced through to it


@pytest.mark.parametrize("make, words", [
    (lambda: softsign_op(), "no fake implementation"),                                    # the template as given
    (lambda: softsign_op(lambda x: torch.from_numpy(x.numpy())), "no data for NumPy"),          # a fake that computes
    (lambda: softsign_op(lambda x: x.new_empty(1)), "the fake says (1,)"),                  # wrong shape
    (lambda: softsign_op(lambda x: torch.empty_like(x, dtype=torch.float32)), "float32"),   # wrong dtype
    (lambda: softsign_op(lambda x: torch.empty_like(x), forward=lambda v: v / (1 + v * v)), "result changed"),
    (lambda: (lambda x: x / (1 + x.abs())), "torch's own operations"),                       # no custom op at all
    (lambda: torch.ones(7), "not its output"),
    (lambda: None, "is None"),
])
def test_softsign_wrong(make, words):
    assert_wrong(cu.check.softsign_compiles, make(), words)


# --- every solution runs in a namespace holding what the lesson defines before it, and passes ------

@pytest.mark.parametrize("exercise, framework", [("10.1", "torch"), ("10.1", "tensorflow"), ("10.2", "torch"),
                                                 ("10.2", "tensorflow"), ("10.3", "torch")])
def test_each_solution_runs_after_the_lessons_setup_and_passes(exercise, framework):
    namespace = {"torch": torch, "tf": tf, "np": np, "softsign_op": softsign_op()}   # 10.3 starts from the op
    exec(cu.check.core.SOLUTIONS[exercise][framework], namespace)
    check = {"10.1": cu.check.squareplus_backward, "10.2": cu.check.silu_backward,
             "10.3": cu.check.softsign_compiles}[exercise]
    assert_right(check, namespace["answer"])
