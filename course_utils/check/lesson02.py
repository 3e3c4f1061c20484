"""Checks for the exercises of 02_autodiff.

Each check recomputes the right gradient here, in NumPy, from the exercise's own inputs (kept below,
so a check never trusts a notebook cell), and recognises the typical mistakes by their numbers.
The exercises ask for a gradient computed by torch or TensorFlow: a NumPy array or a number typed
in is refused; any float dtype is accepted (float32 was never asked for).

Used in: 02_autodiff.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, one_line, describe, expect_close, expect_finite, expect_shape, exercise

# Exercise 2.1: a linear model, mean squared error, 8 samples split into two micro-batches of 4.
MICRO_X = (((np.arange(24) % 7) - 3) / 2).reshape(8, 3).astype(np.float32)
MICRO_Y = (np.arange(8) / 4 - 1).astype(np.float32)
MICRO_W = np.array([0.5, -1.0, 2.0], dtype=np.float32)

# Exercise 2.2: the points where the second derivative of tanh is asked for.
TANH_X = np.array([-1.5, -0.5, 0.0, 0.5, 1.5], dtype=np.float32)

# Exercise 2.3: rounding with a straight-through gradient; no value sits on a .5 tie.
ROUND_X = np.array([0.2, 1.7, -0.6, 2.4, -1.3], dtype=np.float32)
ROUND_T = np.array([0.0, 1.0, 1.0, 2.0, -2.0], dtype=np.float32)

FLOAT_HINT = "integer inputs are never differentiable: start from the float inputs."


def _as_gradient(answer: Any, shape: tuple[int, ...], hint: str) -> np.ndarray:
    arr = as_array(answer, numpy=False, what="your gradient")
    expect_shape(arr, shape, what="your gradient", hint=hint)
    if arr.dtype.kind != "f":
        raise Wrong(f"your gradient has dtype {arr.dtype.name}. Hint: {FLOAT_HINT}")
    expect_finite(arr, what="your gradient")
    return arr.astype(np.float64)


def _near(arr: np.ndarray, other: np.ndarray) -> bool:
    return bool(np.allclose(arr, other, atol=1e-5, rtol=1e-5))


def _mse_grad(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """d/dw mean((X @ w - y)**2), in float64."""
    X, y, w = (a.astype(np.float64) for a in (X, y, w))
    return 2.0 * X.T @ (X @ w - y) / len(y)


# Exercise 2.1 is graded on data the notebook never shows, split unequally, so that neither a full-batch
# gradient of MICRO_X nor "divide by the number of micro-batches" can pass by accident.
HIDDEN_X = (MICRO_X[::-1] * 0.5 + 0.25).astype(np.float32)
HIDDEN_Y = (MICRO_Y[::-1] * 2.0 - 0.5).astype(np.float32)
HIDDEN_SPLITS = ((5, 3), (2, 6), (1, 3, 4))


class _MicroBatches:
    """The (X, y) micro-batches, handed out one at a time like a loader that reuses its buffers: fetching
    a batch overwrites the one fetched before with NaN. Right accumulation (each batch's gradient taken
    before the next is fetched) never sees it; joining the batches into one full batch does."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        edges = np.cumsum((0,) + sizes)
        self._slices = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
        self._out: list[np.ndarray] = []
        self.overwritten = False

    def __len__(self) -> int:
        return len(self._slices)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        for stale in self._out:
            stale[...] = np.nan
            self.overwritten = True
        part = self._slices[i]  # an IndexError ends a for loop over indices, as for a list
        self._out = [HIDDEN_X[part].copy(), HIDDEN_Y[part].copy()]
        return self._out[0], self._out[1]

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _split(sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    edges = np.cumsum((0,) + sizes)
    return [(HIDDEN_X[a:b].copy(), HIDDEN_Y[a:b].copy()) for a, b in zip(edges[:-1], edges[1:])]


@exercise("2.1", solution={
    "torch": ("def accumulate(batches, w):\n"
              "    n = sum(len(y_b) for _, y_b in batches)\n"
              "    w = torch.tensor(w, requires_grad=True)\n"
              "    for X_b, y_b in batches:\n"
              "        loss = ((torch.tensor(X_b) @ w - torch.tensor(y_b)) ** 2).mean() * len(y_b) / n\n"
              "        loss.backward()  # adds into w.grad\n"
              "    return w.grad\n\n\n"
              "answer = accumulate"),
    "tensorflow": ("def accumulate(batches, w):\n"
                   "    n = sum(len(y_b) for _, y_b in batches)\n"
                   "    w = tf.Variable(w)\n"
                   "    total = tf.zeros_like(w)\n"
                   "    for X_b, y_b in batches:\n"
                   "        with tf.GradientTape() as tape:\n"
                   "            loss = tf.reduce_mean((tf.linalg.matvec(X_b, w) - y_b) ** 2) * len(y_b) / n\n"
                   "        total += tape.gradient(loss, w)  # tapes do not accumulate: add them yourself\n"
                   "    return total\n\n\n"
                   "answer = accumulate")})
def micro_batch_gradient(answer: Any) -> str:
    """A function accumulate(batches, w) -> the full-batch MSE gradient at w, accumulated over the (X, y)
    micro-batches of any sizes; graded on hidden data split three ways."""
    if not callable(answer) or is_tensor_like(answer) or isinstance(answer, type):
        raise Wrong(f"your answer is {describe(answer)}; this exercise asks for your function itself "
                    "(its name, no parentheses).")
    for sizes in HIDDEN_SPLITS:
        loader = _MicroBatches(sizes)
        batches = _split(sizes)
        try:
            out = answer(loader, MICRO_W.copy())
        except Exception as exc:  # the learner's own code failed: say where, in one line
            first = str(exc).splitlines()[0] if str(exc).strip() else ""
            raise Wrong(f"your function raised {type(exc).__name__}: {one_line(first, 60)} "
                        f"(batches of sizes {sizes}).") from None
        if loader.overwritten and is_tensor_like(out) and not np.isfinite(as_array(out, numpy=False)).all():
            raise Wrong("your function kept a micro-batch after taking the next (joined them into one full batch?). "
                        "Hint: one at a time.")
        arr = _as_gradient(out, MICRO_W.shape, hint="one number per weight: return a gradient of w's shape (3,).")
        torch_answer = framework_of(out) == "torch"
        full = _mse_grad(HIDDEN_X, HIDDEN_Y, MICRO_W)
        parts = [_mse_grad(X_b, y_b, MICRO_W) for X_b, y_b in batches]
        if _near(arr, _mse_grad(MICRO_X, MICRO_Y, MICRO_W)):
            raise Wrong("your function returns the gradient on MICRO_X, whatever batches it is given. Hint: compute "
                        "only from the batches argument.")
        if _near(arr, sum(parts) / len(parts)):
            raise Wrong(f"you divided by the number of micro-batches; these had {' and '.join(map(str, sizes))} rows. "
                        "Hint: weight each mean by its share of all rows.")
        if _near(arr, sum(parts)):
            raise Wrong(f"you added the micro-batches' mean gradients unweighted ({len(parts)} means, not one). "
                        "Hint: weight each by its share of the rows.")
        n = sum(len(y_b) for _, y_b in batches)
        if any(_near(arr, part) or _near(arr, part * len(y_b) / n) for part, (_, y_b) in zip(parts, batches)):
            how = ("call backward() on every batch without zeroing .grad in between" if torch_answer
                   else "take one tape gradient per batch and add them")
            raise Wrong(f"your gradient comes from one micro-batch only. Hint: {how}.")
        if _near(arr, -full):
            raise Wrong("your gradient has the wrong sign: it is d loss / d w, not the update step -lr * grad.")
        expect_close(arr, full, what=f"your gradient (batches of sizes {sizes})",
                     hint="the full-batch loss is the mean over all rows of all batches.")
    return "Right for any split. Accumulating is PyTorch's default; in TensorFlow you add the gradients yourself."


@exercise("2.2", solution={
    "torch": ("x_ex = torch.tensor(TANH_X, requires_grad=True)\n"
              "(dy_ex,) = torch.autograd.grad(torch.tanh(x_ex).sum(), x_ex, create_graph=True)\n"
              "answer = torch.autograd.grad(dy_ex.sum(), x_ex)[0]"),
    "tensorflow": ("x_ex = tf.Variable(TANH_X)\n"
                   "with tf.GradientTape() as outer:\n"
                   "    with tf.GradientTape() as inner:\n"
                   "        out_ex = tf.reduce_sum(tf.tanh(x_ex))\n"
                   "    dy_ex = inner.gradient(out_ex, x_ex)\n"
                   "answer = outer.gradient(dy_ex, x_ex)")})
def tanh_second_derivative(answer: Any) -> str:
    """d²/dx² tanh(x) at TANH_X, elementwise: -2 tanh(x) (1 - tanh(x)²)."""
    arr = as_array(answer, numpy=False, what="your second derivative")
    torch_answer = framework_of(answer) == "torch"
    t = np.tanh(TANH_X.astype(np.float64))
    if arr.shape == (len(TANH_X), len(TANH_X)):
        raise Wrong("that is the whole (5, 5) Hessian; tanh acts elementwise. "
                    "Hint: differentiate the sum of the first derivative.")
    arr = _as_gradient(answer, TANH_X.shape, hint="one second derivative per point: shape (5,).")
    if _near(arr, 1 - t**2):
        how = "create_graph=True on the first torch.autograd.grad" if torch_answer else "a second, outer GradientTape"
        raise Wrong(f"that is the first derivative, 1 - tanh(x)². Differentiate it once more. Hint: {how}.")
    if _near(arr, 2 * t * (1 - t**2)):
        raise Wrong("right size, wrong sign: the second derivative of tanh is negative for x > 0.")
    if _near(arr, np.tanh(t)) or _near(arr, t):
        raise Wrong("those are values of tanh, not of a derivative. Hint: differentiate twice.")
    expect_close(arr, -2 * t * (1 - t**2), what="your result",
                 hint="the gradient of the sum of the first derivative.")
    return "Both frameworks differentiate their own gradient code: that is all higher order takes."


@exercise("2.3", solution={
    "torch": ("x_ex = torch.tensor(ROUND_X, requires_grad=True)\n"
              "rounded = x_ex + (torch.round(x_ex) - x_ex).detach()\n"
              "loss = ((rounded - torch.tensor(ROUND_T)) ** 2).sum()\n"
              "loss.backward()\n"
              "answer = x_ex.grad"),
    "tensorflow": ("x_ex = tf.Variable(ROUND_X)\n"
                   "with tf.GradientTape() as tape:\n"
                   "    rounded = x_ex + tf.stop_gradient(tf.round(x_ex) - x_ex)\n"
                   "    loss = tf.reduce_sum((rounded - ROUND_T) ** 2)\n"
                   "answer = tape.gradient(loss, x_ex)")})
def straight_through_gradient(answer: Any) -> str:
    """d/dx sum((round_ste(x) - t)**2) at ROUND_X, where round_ste rounds forward and passes the gradient through."""
    if answer is None:
        raise Wrong("your gradient is None: no differentiable path leads to x (round has no gradient). "
                    "Hint: the straight-through form in the exercise.")
    arr = _as_gradient(answer, ROUND_X.shape, hint="one number per element of x: shape (5,).")
    stop = "(...).detach()" if framework_of(answer) == "torch" else "tf.stop_gradient(...)"
    rounded = np.round(ROUND_X.astype(np.float64))
    expected = 2 * (rounded - ROUND_T)
    if not arr.any():
        raise Wrong(f"your gradient is all zeros, as round()'s is. Hint: x + stop(round(x) - x), stop being {stop}.")
    if _near(arr, -expected):
        raise Wrong("your gradient has the wrong sign: you stopped x itself. Keep +x on the gradient path "
                    "and stop only the correction (round(x) - x).")
    if _near(arr, 2 * (ROUND_X - ROUND_T)):
        raise Wrong("the forward pass did not round: that is the gradient of sum((x - t)**2). "
                    "Hint: round forward, identity backward.")
    if _near(arr, expected / 2):
        raise Wrong("half the right gradient: d/dx of (r - t)**2 is 2·(r - t)·dr/dx.")
    expect_close(arr, expected, what="your gradient",
                 hint="differentiate as if rounding were the identity.")
    return "The forward pass rounds, the backward pass pretends it did not."
