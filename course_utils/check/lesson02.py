"""Checks for the exercises of 02_autodiff.

Each check recomputes the right gradient here, in NumPy, from the exercise's own inputs (kept below,
so a check never trusts a notebook cell), and recognises the typical mistakes by their numbers.

Used in: 02_autodiff.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .core import Wrong, as_array, expect_close, expect_dtype, expect_finite, expect_shape, exercise

# Exercise 2.1: a linear model, mean squared error, 8 samples split into two micro-batches of 4.
MICRO_X = (((np.arange(24) % 7) - 3) / 2).reshape(8, 3).astype(np.float32)
MICRO_Y = (np.arange(8) / 4 - 1).astype(np.float32)
MICRO_W = np.array([0.5, -1.0, 2.0], dtype=np.float32)

# Exercise 2.2: the points where the second derivative of tanh is asked for.
TANH_X = np.array([-1.5, -0.5, 0.0, 0.5, 1.5], dtype=np.float32)

# Exercise 2.3: rounding with a straight-through gradient; no value sits on a .5 tie.
ROUND_X = np.array([0.2, 1.7, -0.6, 2.4, -1.3], dtype=np.float32)
ROUND_T = np.array([0.0, 1.0, 1.0, 2.0, -2.0], dtype=np.float32)

FLOAT32_HINT = ("the inputs are float32 and so is their gradient; a float64 result means a "
                "float64 input, an integer one means the input was never differentiable.")


def _mse_grad(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """d/dw mean((X @ w - y)**2), in float64."""
    X, y, w = (a.astype(np.float64) for a in (X, y, w))
    return 2.0 * X.T @ (X @ w - y) / len(y)


def _as_gradient(answer: Any, shape: tuple[int, ...], hint: str) -> np.ndarray:
    arr = as_array(answer, what="your gradient")
    expect_shape(arr, shape, what="your gradient", hint=hint)
    expect_dtype(arr, ["float32"], what="your gradient", hint=FLOAT32_HINT)
    expect_finite(arr, what="your gradient")
    return arr.astype(np.float64)


def _near(arr: np.ndarray, other: np.ndarray) -> bool:
    return bool(np.allclose(arr, other, atol=1e-5, rtol=1e-5))


@exercise("2.1")
def micro_batch_gradient(answer: Any) -> str:
    """The full-batch gradient of the MSE loss at MICRO_W, accumulated over two micro-batches of 4."""
    arr = _as_gradient(answer, MICRO_W.shape, hint="one number per weight: the gradient has w's shape (3,).")
    full = _mse_grad(MICRO_X, MICRO_Y, MICRO_W)
    first = _mse_grad(MICRO_X[:4], MICRO_Y[:4], MICRO_W)
    second = _mse_grad(MICRO_X[4:], MICRO_Y[4:], MICRO_W)
    if _near(arr, 2 * full):
        raise Wrong("your gradient is twice the full-batch one: each micro-batch's loss is a mean over 4 "
                    "samples, so divide each by 2 (the number of micro-batches) before backward / tape.gradient.")
    if _near(arr, first) or _near(arr, second) or _near(arr, first / 2) or _near(arr, second / 2):
        raise Wrong("your gradient comes from one micro-batch only. Hint: in PyTorch call backward() on "
                    "both halves without zeroing in between; in TensorFlow add the two tape gradients.")
    if _near(arr, -full):
        raise Wrong("your gradient has the wrong sign: it is d loss / d w, not the update step -lr * grad.")
    expect_close(arr, full, what="your gradient",
                 hint="loss = mean((X @ w - y)**2) on rows 0-3 and rows 4-7, each divided by 2, gradients summed.")
    return "Accumulating is PyTorch's default; in TensorFlow you add the gradients yourself."


@exercise("2.2")
def tanh_second_derivative(answer: Any) -> str:
    """d²/dx² tanh(x) at TANH_X, elementwise: -2 tanh(x) (1 - tanh(x)²)."""
    arr = as_array(answer, what="your second derivative")
    t = np.tanh(TANH_X.astype(np.float64))
    if arr.shape == (len(TANH_X), len(TANH_X)):
        raise Wrong("that is the whole (5, 5) Hessian. tanh acts elementwise, so the answer is its diagonal: "
                    "differentiate the sum of the first derivative instead (or take the diagonal).")
    arr = _as_gradient(answer, TANH_X.shape, hint="one second derivative per point: shape (5,).")
    if _near(arr, 1 - t**2):
        raise Wrong("that is the first derivative, 1 - tanh(x)². Differentiate it once more: "
                    "create_graph=True in torch, a second (outer) GradientTape in TensorFlow.")
    expect_close(arr, -2 * t * (1 - t**2), what="your second derivative",
                 hint="grad of sum(d tanh/dx) with respect to x; it is -2·tanh(x)·(1 - tanh(x)²).")
    return "Both frameworks differentiate their own gradient code: that is all higher order takes."


@exercise("2.3")
def straight_through_gradient(answer: Any) -> str:
    """d/dx sum((round_ste(x) - t)**2) at ROUND_X, where round_ste rounds forward and passes the gradient through."""
    if answer is None:
        raise Wrong("your gradient is None: TensorFlow returns None when no differentiable path leads to x — "
                    "tf.round has no gradient. Write x + tf.stop_gradient(tf.round(x) - x).")
    arr = _as_gradient(answer, ROUND_X.shape, hint="one number per element of x: shape (5,).")
    rounded = np.round(ROUND_X.astype(np.float64))
    expected = 2 * (rounded - ROUND_T)
    if not arr.any():
        raise Wrong("your gradient is all zeros: round() has a zero gradient everywhere. Pass it straight "
                    "through with x + (round(x) - x).detach() in torch, x + tf.stop_gradient(tf.round(x) - x) in TF.")
    if _near(arr, -expected):
        raise Wrong("your gradient has the wrong sign: you stopped x itself. Keep +x on the gradient path "
                    "and stop only the correction (round(x) - x).")
    if _near(arr, 2 * (ROUND_X - ROUND_T)):
        raise Wrong("the forward pass did not round: your gradient is that of sum((x - t)**2). "
                    "The value must be round(x), only the gradient is the identity's.")
    expect_close(arr, expected, what="your gradient", hint="the answer is 2·(round(x) - t), times 1 from the straight-through path.")
    return "The forward pass rounds, the backward pass pretends it did not."
