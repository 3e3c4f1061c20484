"""Checks for the exercises of 03_same_model: port a conv kernel, undo the flatten order, match a loss.

The exercises' inputs are written out here too, so a check never trusts the learner's cell.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..arrays import framework_of
from .core import Wrong, as_array, describe, expect_close, expect_finite, expect_shape, exercise

# Exercise 3.1: a torch Conv2d(in_channels=2, out_channels=4, kernel_size=3) weight, (out, in, kh, kw).
CONV_WEIGHT = np.arange(72, dtype=np.float32).reshape(4, 2, 3, 3)

# Exercise 3.2: a Keras Dense(4) kernel after Flatten of an (H, W, C) = (2, 2, 3) map: (H*W*C, out).
FLATTEN_HWC = (2, 2, 3)
DENSE_KERNEL = np.arange(48, dtype=np.float32).reshape(12, 4)

# Exercise 3.3: logits of 3 samples over 3 classes, and their labels.
LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [1.5, 1.0, -2.0]], dtype=np.float32)
LABELS = np.array([0, 2, 1], dtype=np.int64)


def _same(arr: np.ndarray, other: np.ndarray) -> bool:
    return arr.shape == other.shape and bool(np.allclose(arr, other, atol=1e-5))


@exercise("3.1")
def conv_kernel(answer: Any) -> str:
    """CONV_WEIGHT (torch layout (out, in, kh, kw)) as a Keras Conv2D kernel (kh, kw, in, out)."""
    arr = as_array(answer)
    W = CONV_WEIGHT
    if _same(arr, W):
        raise Wrong("that is still torch's layout (out, in, kh, kw) = (4, 2, 3, 3); Keras wants (kh, kw, in, out).")
    expect_shape(arr, (3, 3, 2, 4), hint="Keras' Conv2D kernel is (kh, kw, in, out): transpose(2, 3, 1, 0).")
    expect_finite(arr)
    if _same(arr, W.reshape(3, 3, 2, 4)):
        raise Wrong("you reshaped: the shape is right but the numbers did not move. "
                    "Hint: transpose the axes, (out, in, kh, kw) → (kh, kw, in, out).")
    if _same(arr, W.transpose(3, 2, 1, 0)):
        raise Wrong("kh and kw are swapped (that is W.T, all axes reversed): the kernel would be mirrored "
                    "along its diagonal. Hint: transpose(2, 3, 1, 0).")
    expect_close(arr, W.transpose(2, 3, 1, 0), hint="(out, in, kh, kw) → (kh, kw, in, out) is transpose(2, 3, 1, 0).")
    return "Conv2d (out, in, kh, kw) → Conv2D (kh, kw, in, out)."


@exercise("3.2")
def flatten_reorder(answer: Any) -> str:
    """DENSE_KERNEL (Keras, after Flatten of (H, W, C) = (2, 2, 3)) as the torch Linear weight (4, 12)
    for a model that flattens (C, H, W)."""
    arr = as_array(answer)
    H, W, C = FLATTEN_HWC
    K = DENSE_KERNEL
    if arr.shape == K.shape:
        raise Wrong("that has Keras' kernel shape (in, out) = (12, 4); nn.Linear stores its weight as (out, in) = (4, 12).")
    expect_shape(arr, (4, 12), hint="nn.Linear(12, 4).weight has shape (out, in) = (4, 12).")
    expect_finite(arr)
    if _same(arr, K.T):
        raise Wrong("you only transposed — the naive port. torch flattens (C, H, W), Keras (H, W, C): "
                    "reshape K to (H, W, C, 4), move the axes to (4, C, H, W), then reshape to (4, 12).")
    if _same(arr, K.reshape(4, 12)):
        raise Wrong("a reshape does not transpose: (in, out) → (out, in) needs the axes swapped.")
    expected = K.reshape(H, W, C, -1).transpose(3, 2, 0, 1).reshape(4, 12)
    expect_close(arr, expected, hint="K.reshape(2, 2, 3, 4).transpose(3, 2, 0, 1).reshape(4, 12).")
    return "Each input column moved from position (h, w, c) to (c, h, w)."


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    log_probs = z - z.max(axis=1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


@exercise("3.3")
def matching_loss(answer: Any) -> str:
    """The Keras loss on LOGITS, LABELS, fixed so that it equals torch's nn.CrossEntropyLoss (the mean)."""
    if isinstance(answer, (str, bytes)):
        raise Wrong(f"your answer is {describe(answer)}; expected one number, the loss (a scalar tensor or a float).")
    arr = as_array(answer, tensor=False)
    if arr.dtype.kind not in "fiu":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected one number, the loss.")
    if arr.size != 1:
        raise Wrong(f"your answer has shape {arr.shape}; expected one number, the mean loss over the batch. "
                    "Hint: call the loss object, loss_fn(y, logits), not keras.losses.sparse_categorical_crossentropy.")
    expect_finite(arr)
    value = float(arr.reshape(()))
    per_sample = _cross_entropy(LOGITS, LABELS)
    expected = float(per_sample.mean())
    if np.isclose(value, per_sample.sum(), atol=1e-4):
        raise Wrong("that is the sum over the batch; both frameworks average by default (reduction='mean' / "
                    "'sum_over_batch_size').")
    if not np.isclose(value, expected, atol=1e-4):
        raise Wrong(f"{value:.4f} still differs from torch's {expected:.4f}. Hint: torch's CrossEntropyLoss takes "
                    "logits; a Keras loss takes probabilities unless you pass from_logits=True.")
    if framework_of(answer) == "torch":
        raise Wrong("that is torch's number, which was right all along; fix the Keras call and hand in its loss.")
    return "Keras losses assume probabilities unless from_logits=True; torch's CrossEntropyLoss always takes logits."
