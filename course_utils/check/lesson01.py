"""Checks for the exercises of 01_tensors.

Every exercise asks for a tensor built by torch or TensorFlow: a NumPy array is refused (that is
the library the lesson compares them with). Hints point at what to look at; the code that solves an
exercise is shown by ``cu.check.hint("1.N")`` or after three wrong tries.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.arrays import framework_of
from .core import Wrong, as_array, expect_close, expect_dtype, expect_float, expect_shape, exercise

# The matrix that exercise 1.2 hands out, written out here so the check does not trust the cell.
STANDARDIZE_X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [7.0, 22.0]], dtype=np.float32)


def _same(arr: np.ndarray, other: np.ndarray) -> bool:
    return arr.shape == other.shape and bool(np.allclose(arr, other, atol=1e-5))


@exercise("1.1", solution={"torch": "answer = torch.arange(12, dtype=torch.float32).reshape(3, 4)",
                           "tensorflow": "answer = tf.reshape(tf.range(12, dtype=tf.float32), (3, 4))"})
def arange_matrix(answer: Any) -> None:
    """A 3×4 float32 tensor (torch or TF) holding 0, 1, ..., 11 row by row."""
    arr = as_array(answer, numpy=False)
    torch_answer = framework_of(answer) == "torch"
    if arr.shape == (4, 3):
        raise Wrong("your answer has shape (4, 3): 4 rows of 3. Expected 3 rows of 4, (3, 4).")
    expect_shape(arr, (3, 4), hint="build the 12 numbers first, then give them the shape (3, 4).")
    if arr.dtype.kind in "iu":
        default = "int64 (torch.arange's default for integers)" if torch_answer else "int32 (tf.range's default for integers)"
        raise Wrong(f"your answer has dtype {arr.dtype.name}: {default}. Hint: the range functions take a dtype= argument.")
    expect_dtype(arr, ["float32"], hint="the exercise asks for float32; the range functions take a dtype= argument.")
    if _same(arr, np.arange(12, dtype=np.float32).reshape(4, 3).T):
        raise Wrong("the numbers run down the columns (0, 1, 2 in the first column), not along the rows. "
                    "Hint: drop the transpose.")
    expect_close(arr, np.arange(12, dtype=np.float32).reshape(3, 4), hint="the values should run 0..11 along the rows.")


@exercise("1.2", solution={
    "torch": "X_pt = torch.tensor(X); answer = (X_pt - X_pt.mean(dim=0)) / X_pt.std(dim=0, correction=0)",
    "tensorflow": "X_tf = tf.constant(X); answer = (X_tf - tf.reduce_mean(X_tf, axis=0)) / tf.math.reduce_std(X_tf, axis=0)"})
def standardize_columns(answer: Any) -> str:
    """Each column of STANDARDIZE_X minus its mean, divided by its (population) standard deviation,
    computed in torch or TensorFlow (any float dtype)."""
    arr = as_array(answer, numpy=False)
    torch_answer = framework_of(answer) == "torch"
    axis = "dim=0" if torch_answer else "axis=0"
    X = STANDARDIZE_X.astype(np.float64)
    expect_shape(arr, X.shape, hint="broadcasting keeps X's shape: (4, 2) minus (2,) is (4, 2).")
    expect_float(arr, hint="a standardized value is a fraction; start from X as it is (float32).")
    unbiased = (X - X.mean(0)) / X.std(0, ddof=1)
    if np.allclose(arr, unbiased, atol=1e-5):
        if torch_answer:
            raise Wrong("you divided by the unbiased std (torch.std's default). Hint: the population std; "
                        "look at torch.std's correction argument.")
        raise Wrong("you divided by the unbiased std (n - 1). Hint: the population std divides by n.")
    rows = (X - X.mean(1, keepdims=True)) / X.std(1, keepdims=True)
    if np.allclose(arr, rows, atol=1e-5):
        raise Wrong(f"you standardized the rows. Hint: reduce over the first axis ({axis}).")
    if np.allclose(arr, X - X.mean(0), atol=1e-5):
        raise Wrong("you subtracted each column's mean but did not divide by its standard deviation.")
    if np.allclose(arr, (X - X.mean(0)) / X.var(0), atol=1e-5):
        raise Wrong("you divided by the variance; the standard deviation is its square root.")
    expect_close(arr, (X - X.mean(0)) / X.std(0), hint=f"mean and standard deviation per column ({axis}), then broadcast.")
    return "Note how torch says dim= and TensorFlow says axis=."


@exercise("1.3", solution={"torch": "answer = torch.from_numpy(digits.X_train[:5]).unsqueeze(1)",
                           "tensorflow": "answer = tf.expand_dims(tf.constant(digits.X_train[:5]), -1)"})
def channel_axis(answer: Any) -> str:
    """The first 5 training digits as float32 with a channel axis, in the framework's own layout."""
    from ..data import load_digits

    kind = framework_of(answer)
    if kind not in ("torch", "tensorflow"):
        as_array(answer, numpy=False)  # says what it is
        raise Wrong("this one needs a torch or a TensorFlow tensor — the layout depends on the framework.")
    arr = as_array(answer)
    images = load_digits().X_train[:5]
    if kind == "torch":
        expected, layout = images[:, None, :, :], "NCHW (5, 1, 8, 8): torch's Conv2d wants channels first"
        other, other_name = images[:, :, :, None], "channels last (NHWC), TensorFlow's layout; torch wants NCHW"
    else:
        expected, layout = images[:, :, :, None], "NHWC (5, 8, 8, 1): Keras' Conv2D wants channels last"
        other, other_name = images[:, None, :, :], "channels first (NCHW), torch's layout; TensorFlow wants NHWC"
    if arr.shape == other.shape:
        raise Wrong(f"your tensor is {other_name}. Hint: where does the new axis go?")
    if arr.shape == images.shape:
        raise Wrong("your tensor has no channel axis yet: (5, 8, 8). Hint: add an axis of size 1.")
    expect_shape(arr, expected.shape, hint=layout)
    expect_dtype(arr, ["float32"], hint="the exercise asks for float32, the dtype of digits.X_train.")
    expect_close(arr, expected, hint="the first 5 images as they are, plus the new axis.")
    return f"{layout}."
