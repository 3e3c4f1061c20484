"""Checks for the exercises of 04_graphs.

The frameworks are never imported here: a check that must run the learner's function takes the
framework from ``sys.modules`` (the learner's notebook has imported it already).
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..base.arrays import is_tensor_like
from .core import Wrong, as_array, describe, expect_equal, expect_finite, exercise, one_line

# Exercise 4.1: the calls in the notebook, and how many traces they cost.
TRACE_CALLS = ("f(tf.constant(1.0))", "f(tf.constant(2.0))", "f(1.0)", "f(2.0)",
               "f(tf.constant([1.0, 2.0]))", "f(tf.constant(3.0))")
TRACE_COUNT = 4

# Exercise 4.2: the batches the check feeds to the learner's function (rows of 4 features).
ROW_SUMS_BATCHES = [(np.arange(n * 4, dtype=np.float32).reshape(n, 4) / 10, scale)
                    for n, scale in [(3, 0.5), (5, 2.0), (7, 1.5), (2, 3.0)]]


@exercise("4.1", solution="answer = 4  # the scalar tensor, 1.0, 2.0 and the length-2 vector each trace",
          accepts=("any",))
def tracing_count(answer: Any) -> str:
    """How many times does ``f`` trace for the six calls in TRACE_CALLS? (a whole number)"""
    if answer is None:
        raise Wrong("your answer is None — assign a whole number, e.g. answer = 3.")
    if is_tensor_like(answer) and np.ndim(as_array(answer)) == 0:  # a 0-d tensor or NumPy number: its value
        answer = as_array(answer).reshape(()).item()
    if isinstance(answer, float) and float(answer).is_integer():
        answer = int(answer)
    if not isinstance(answer, (int, np.integer)) or isinstance(answer, bool):
        raise Wrong(f"your answer is {describe(answer)}; expected a whole number of traces, e.g. answer = 3.")
    hints = {
        6: "not every call traces: a second tensor with the same shape and dtype reuses the graph.",
        2: "Python numbers are not converted to tensors: each new Python value is a new signature.",
        3: "tf.constant(3.0) reuses the scalar graph, but f(1.0) and f(2.0) each trace.",
        5: "tf.constant(3.0) has the same shape and dtype as tf.constant(1.0): no new trace.",
    }
    if answer != TRACE_COUNT:
        shown = int(answer) if abs(int(answer)) < 10**9 else f"{float(answer):.3g}"  # a huge one would fill lines
        raise Wrong(f"{shown} is not it. Hint: " + hints.get(int(answer),
                    "a trace happens for each new input signature: tensor shape+dtype, or Python value."))
    expect_equal(int(answer), TRACE_COUNT)
    return ("Scalar tensor, 1.0, 2.0 and the length-2 vector each trace; "
            "tf.constant(2.0) and tf.constant(3.0) reuse the scalar graph.")


def _require_function(answer: Any, framework: str, expected: str) -> Any:
    """The framework module (already imported by the lesson) once ``answer`` is a function; else ``Wrong``."""
    if answer is None:
        raise Wrong("your answer is None — assign the function itself (its name, no parentheses).")
    module = sys.modules.get(framework)
    if module is None or not callable(answer):
        raise Wrong(f"your answer is {describe(answer)}; expected {expected}.")
    return module


@exercise("4.2", accepts=("tensorflow",), solution={"tensorflow": (
    "@tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([], tf.float32)])\n"
    "def row_sums(x, scale):\n"
    "    return tf.reduce_sum(x, axis=1) * scale\n\n\n"
    "answer = row_sums")})
def one_trace_row_sums(answer: Any) -> str:
    """A tf.function ``(x, scale) -> row sums of x times scale`` that traces once for any batch size and scale."""
    if is_tensor_like(answer):
        raise Wrong(f"your answer is {describe(answer)}: a result, not the function. Hand in the function (no parentheses).")
    tf = _require_function(answer, "tensorflow", "a function decorated with @tf.function")
    if not hasattr(answer, "experimental_get_tracing_count"):
        raise Wrong("that is a plain Python function; decorate it with @tf.function(input_signature=[...]).")
    before = answer.experimental_get_tracing_count()
    for x, scale in ROW_SUMS_BATCHES:
        result = as_array(answer(tf.constant(x), scale), what="the function's result")
        expected = x.sum(axis=1) * scale
        if result.shape != expected.shape:
            raise Wrong(f"for a batch of {len(x)} rows it returned shape {result.shape}, expected {expected.shape}. "
                        "Hint: sum over axis=1 (the features), one number per row.")
        expect_finite(result, "the function's result")
        if not np.allclose(result, expected, atol=1e-5):
            raise Wrong("it returns different numbers from reduce_sum(x, axis=1) * scale.")
    traces = answer.experimental_get_tracing_count() - before
    if traces > 1:
        raise Wrong(f"it traced {traces} times for {len(ROW_SUMS_BATCHES)} calls. Hint: each new batch size and "
                    "Python float is a new signature; an input_signature covers them all.")
    traced = "no new trace" if traces == 0 else "a single trace"
    return f"{len(ROW_SUMS_BATCHES)} calls with different batch sizes and scales, {traced}: the signature covers them all."


@exercise("4.3", accepts=("torch",), solution={"torch": (
    "def relu_or_negate_fixed(x):\n"
    "    return torch.where(x.sum() > 0, torch.relu(x), -x)\n\n\n"
    "answer = relu_or_negate_fixed")})
def no_graph_break(answer: Any) -> str:
    """A function with the same results as ``relu_or_negate`` that torch.compile captures as one graph
    (graded by compiling it with ``fullgraph=True`` and calling it on four inputs)."""
    if is_tensor_like(answer):
        raise Wrong(f"your answer is {describe(answer)}: a result, not the function. Hand in the function (no parentheses).")
    torch = _require_function(answer, "torch", "a Python function that takes a torch tensor")
    # [2, -2] sums to exactly 0: relu_or_negate negates it, so `x.sum() >= 0` for `> 0` is caught.
    inputs = [torch.tensor([1.0, -2.0, 3.0]), torch.tensor([-1.0, 2.0, -3.0]),
              torch.tensor([[0.5, -4.0], [1.0, 1.0]]), torch.tensor([2.0, -2.0])]
    for x in inputs:
        expected = x.relu() if float(x.sum()) > 0 else -x
        got = as_array(answer(x.clone()), what="its result")
        expect_finite(got, "its result")
        if got.shape != tuple(expected.shape) or not np.allclose(got, expected.numpy(), atol=1e-6):
            raise Wrong("its results differ from relu_or_negate (relu if the sum is positive, else -x). "
                        "Hint: compute both branches, pick with a tensor op.")
    # Run what the exercise asks for: torch.compile with fullgraph=True raises at the first graph break,
    # on any of the inputs (the eager backend: no code generation, only the capture).
    compiled = torch.compile(answer, fullgraph=True, backend="eager")
    for x in inputs:
        try:
            compiled(x.clone())
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise Wrong(f"it breaks the graph ({one_line(first, 30)}). "
                        "Hint: no `if` on a tensor's value, no .item(): use a tensor op.") from None
    return "one graph, no break: both branches are computed and torch.where picks per call."
