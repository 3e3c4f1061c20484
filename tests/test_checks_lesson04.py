"""The 04_graphs exercise checks: right answers pass; wrong ones say why in one line."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from course_utils.check import core
from check_support import add_giveaways, first_try, one_line  # noqa: F401 (first_try: autouse)


add_giveaways("4.3", ["torch.where("])
add_giveaways("4.2", ["TensorSpec("])
# 4.1: how many traces
def test_tracing_count_right():
    assert cu.check.tracing_count(4, quiet=True)
    assert cu.check.tracing_count(4.0, quiet=True)
    assert cu.check.tracing_count(np.int64(4), quiet=True)      # a NumPy integer
    assert cu.check.tracing_count(tf.constant(4), quiet=True)   # a 0-d tensor holding the number


def test_tracing_count_matches_tensorflow():
    """The expected answer is what TensorFlow really does for the calls in the exercise."""
    f = tf.function(lambda x: x * 2)
    f(tf.constant(1.0)); f(tf.constant(2.0)); f(1.0); f(2.0); f(tf.constant([1.0, 2.0])); f(tf.constant(3.0))
    assert f.experimental_get_tracing_count() == cu.check.lesson04.TRACE_COUNT


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "is None"),
    ([4], "a list"),
    ("4", "a str"),
    (float("nan"), "a float"),
    (True, "a bool"),
    (6, "same shape and dtype reuses"),
    (2, "Python numbers"),
    (5, "tf.constant(3.0)"),
    (9, "input signature"),
])
def test_tracing_count_wrong(answer, words):
    verdict = cu.check.tracing_count(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


# 4.2: one trace for any batch and scale
def make_row_sums(**options):
    @tf.function(**options)
    def row_sums(x, scale):
        return tf.reduce_sum(x, axis=1) * scale
    return row_sums


def test_one_trace_right():
    fixed = make_row_sums(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.float32)])
    assert cu.check.one_trace_row_sums(fixed, quiet=True)


def test_one_trace_retracing_bug():
    verdict = cu.check.one_trace_row_sums(make_row_sums(), quiet=True)
    assert not verdict and "traced 4 times" in one_line(verdict) and "input_signature" in str(verdict)


def test_one_trace_other_signatures_are_right_too():
    wide = make_row_sums(input_signature=[tf.TensorSpec([None, None], tf.float32), tf.TensorSpec(None, tf.float32)])
    assert cu.check.one_trace_row_sums(wide, quiet=True)


def test_one_trace_result_instead_of_function():
    fixed = make_row_sums(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.float32)])
    verdict = cu.check.one_trace_row_sums(fixed(tf.ones((2, 4)), 2.0), quiet=True)
    assert not verdict and "not the function" in one_line(verdict)


def test_one_trace_plain_function():
    verdict = cu.check.one_trace_row_sums(lambda x, scale: tf.reduce_sum(x, axis=1) * scale, quiet=True)
    assert "plain Python function" in one_line(verdict)


@pytest.mark.parametrize("body, words", [
    (lambda x, scale: tf.reduce_sum(x, axis=0) * scale, "shape"),
    (lambda x, scale: tf.reduce_sum(x, axis=1) + scale, "different numbers"),
    (lambda x, scale: tf.reduce_sum(x, axis=1) * np.nan, "NaN"),
])
def test_one_trace_wrong_values(body, words):
    sig = [tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.float32)]
    verdict = cu.check.one_trace_row_sums(tf.function(body, input_signature=sig), quiet=True)
    assert not verdict and words in one_line(verdict)


@pytest.mark.parametrize("answer, words", [(None, "is None"), ([1], "a list"), (..., "not attempted yet")])
def test_one_trace_not_a_function(answer, words):
    assert words in one_line(cu.check.one_trace_row_sums(answer, quiet=True))


# 4.3: no graph break
def test_no_graph_break_right():
    assert cu.check.no_graph_break(lambda x: torch.where(x.sum() > 0, torch.relu(x), -x), quiet=True)


def test_no_graph_break_still_breaks():
    def relu_or_negate(x):
        if x.sum() > 0:
            return torch.relu(x)
        return -x
    verdict = cu.check.no_graph_break(relu_or_negate, quiet=True)
    assert not verdict and "graph" in one_line(verdict) and "tensor op" in str(verdict)


def test_no_graph_break_result_instead_of_function():
    verdict = cu.check.no_graph_break(torch.ones(3), quiet=True)
    assert not verdict and "not the function" in one_line(verdict)


def test_no_graph_break_clamp_is_right_too():
    assert cu.check.no_graph_break(lambda x: torch.where(x.sum() > 0, x.clamp(min=0), x.neg()), quiet=True)


def test_no_graph_break_flipped_condition_is_right_too():
    """`sum <= 0` picks -x, else relu: the same function written the other way round."""
    assert cu.check.no_graph_break(lambda x: torch.where(x.sum() <= 0, -x, torch.relu(x)), quiet=True)



def test_no_graph_break_item_breaks():
    verdict = cu.check.no_graph_break(lambda x: torch.relu(x) if x.sum().item() > 0 else -x, quiet=True)
    assert not verdict and "break" in one_line(verdict)


@pytest.mark.parametrize("answer, words", [
    (lambda x: torch.relu(x), "results differ"),
    (lambda x: torch.where(x.sum() > 0, torch.relu(x), x), "results differ"),
    (lambda x: torch.where(x.sum() >= 0, torch.relu(x), -x), "results differ"),   # >= for >: a zero sum
    (lambda x: torch.where(x.sum() < 0, -x, torch.relu(x)), "results differ"),     # the same slip, flipped
    (lambda x: torch.where(x.sum() >= 0, x.clamp(min=0), x.neg()), "results differ"),
    (lambda x: torch.full_like(x, float("nan")), "NaN"),
    (lambda x: x.sum(), "results differ"),
    (None, "is None"),
    ([1], "a list"),
    (..., "not attempted yet"),
])
def test_no_graph_break_wrong(answer, words):
    verdict = cu.check.no_graph_break(answer, quiet=True)
    assert not verdict and words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.tracing_count(4)
    assert capsys.readouterr().out.count("\n") <= core.MAX_LINES


def test_one_trace_reduce_shape_is_right_too():
    """4.2 with reduce_sum over the last axis and a scalar spec built from a shape tuple."""
    @tf.function(input_signature=[tf.TensorSpec(shape=(None, 4), dtype=tf.float32),
                                  tf.TensorSpec(shape=(), dtype=tf.float32)])
    def row_sums(x, scale):
        return tf.reduce_sum(x, axis=-1) * scale
    assert cu.check.one_trace_row_sums(row_sums, quiet=True)


def test_no_graph_break_refuses_item_and_a_branch_on_any_input():
    """Compiled with fullgraph=True and run on every input: .item() and a branch taken only on some inputs fail."""
    with_item = lambda x: torch.relu(x) if x.sum().item() > 0 else -x
    assert_graph_break = lambda f: "breaks the graph" in one_line(cu.check.no_graph_break(f, quiet=True))
    assert assert_graph_break(with_item)

    def branch_on_2d_only(x):
        if x.dim() == 2 and bool(x.sum() > 0):  # a data-dependent branch hidden behind a shape test
            return torch.relu(x)
        return torch.where(x.sum() > 0, torch.relu(x), -x)
    assert assert_graph_break(branch_on_2d_only)
