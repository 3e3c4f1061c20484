"""Checks for the exercises of 01_tensors."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..arrays import framework_of
from .core import Wrong, as_array, expect_close, expect_dtype, expect_shape, exercise

# The matrix that exercise 1.2 hands out, written out here so the check does not trust the cell.
STANDARDIZE_X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0], [7.0, 22.0]], dtype=np.float32)


@exercise("1.1")
def arange_matrix(answer: Any) -> None:
    """A 3×4 float32 tensor holding 0, 1, ..., 11 row by row."""
    arr = as_array(answer)
    expect_shape(arr, (3, 4), hint="reshape(3, 4) after arange(12).")
    expect_dtype(arr, ["float32"], hint="an integer range is int64 in torch, int32 in TF; "
                 "pass dtype=torch.float32 / tf.float32.")
    expect_close(arr, np.arange(12, dtype=np.float32).reshape(3, 4), hint="values should run 0..11 along rows.")


@exercise("1.2")
def standardize_columns(answer: Any) -> str:
    """Each column of STANDARDIZE_X minus its mean, divided by its (population) standard deviation."""
    arr = as_array(answer)
    X = STANDARDIZE_X.astype(np.float64)
    expect_shape(arr, X.shape, hint="broadcasting keeps X's shape: (4, 2) minus (2,) is (4, 2).")
    unbiased = (X - X.mean(0)) / X.std(0, ddof=1)
    if np.allclose(arr, unbiased, atol=1e-5):
        raise Wrong("you divided by the unbiased std (torch.std's default, correction=1). "
                    "NumPy and tf.math.reduce_std use the population std: pass correction=0 in torch.")
    rows = (X - X.mean(1, keepdims=True)) / X.std(1, keepdims=True)
    if np.allclose(arr, rows, atol=1e-5):
        raise Wrong("you standardized the rows. Reduce over the first axis: dim=0 in torch, axis=0 in TF.")
    expect_close(arr, (X - X.mean(0)) / X.std(0), hint="mean and std over axis 0, then (X - mean) / std.")
    return "Note how torch says dim= and TensorFlow says axis=."


@exercise("1.3")
def channel_axis(answer: Any) -> str:
    """The first 5 training digits as float32 with a channel axis, in the framework's own layout."""
    from ..data import load_digits

    arr = as_array(answer)
    images = load_digits().X_train[:5]
    kind = framework_of(answer)
    if kind == "torch":
        expected, layout = images[:, None, :, :], "NCHW (5, 1, 8, 8): torch's Conv2d wants channels first"
    elif kind == "tensorflow":
        expected, layout = images[:, :, :, None], "NHWC (5, 8, 8, 1): Keras' Conv2D wants channels last"
    else:
        raise Wrong("this one needs a torch or a TensorFlow tensor — the layout depends on the framework.")
    expect_dtype(arr, ["float32"])
    expect_shape(arr, expected.shape, hint=layout)
    expect_close(arr, expected, hint="take X_train[:5] and add the new axis; don't transpose the pixels.")
    return f"{layout}."
