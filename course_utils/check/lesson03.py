"""Checks for the exercises of 03_same_model: port a conv kernel, undo the flatten order, match a loss.

The exercises' inputs are written out here too, so a check never trusts the learner's cell.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.arrays import framework_of, is_tensor_like
from .core import Wrong, as_array, describe, expect_close, expect_finite, expect_shape, exercise, is_loss_object

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


AXES_HINT = "where does each axis of (out, in, kh, kw) go in (kh, kw, in, out)?"


@exercise("3.1", solution={"any": "answer = W.transpose(2, 3, 1, 0)  # NumPy",
                           "torch": "answer = torch.from_numpy(W).permute(2, 3, 1, 0)",
                           "tensorflow": "answer = tf.transpose(W, (2, 3, 1, 0))"})
def conv_kernel(answer: Any) -> str:
    """CONV_WEIGHT (torch layout (out, in, kh, kw)) as a Keras Conv2D kernel (kh, kw, in, out); NumPy, torch or TF."""
    arr = as_array(answer)
    W = CONV_WEIGHT
    if _same(arr, W):
        raise Wrong("that is still torch's layout (out, in, kh, kw) = (4, 2, 3, 3); Keras wants (kh, kw, in, out).")
    expect_shape(arr, (3, 3, 2, 4), hint=f"{AXES_HINT}")
    expect_finite(arr)
    if _same(arr, W.reshape(3, 3, 2, 4)):
        raise Wrong("you reshaped: the shape is right but the numbers did not move. "
                    "Hint: transpose the axes, (out, in, kh, kw) → (kh, kw, in, out).")
    if _same(arr, W.transpose(3, 2, 1, 0)):
        raise Wrong("kh and kw are swapped (all axes reversed): a mirrored kernel. "
                    "Hint: in and out swap places, kh and kw keep their order.")
    expect_close(arr, W.transpose(2, 3, 1, 0), hint=AXES_HINT)
    return "Conv2d (out, in, kh, kw) → Conv2D (kh, kw, in, out)."


@exercise("3.2", solution={"any": "answer = K.reshape(2, 2, 3, 4).transpose(3, 2, 0, 1).reshape(4, 12)  # NumPy",
                           "torch": "answer = torch.from_numpy(K).reshape(2, 2, 3, 4).permute(3, 2, 0, 1).reshape(4, 12)",
                           "tensorflow": "answer = tf.reshape(tf.transpose(tf.reshape(K, (2, 2, 3, 4)), (3, 2, 0, 1)), (4, 12))"})
def flatten_reorder(answer: Any) -> str:
    """DENSE_KERNEL (Keras, after Flatten of (H, W, C) = (2, 2, 3)) as the torch Linear weight (4, 12)
    for a model that flattens (C, H, W)."""
    arr = as_array(answer)
    H, W, C = FLATTEN_HWC
    K = DENSE_KERNEL
    if arr.shape == K.shape:
        raise Wrong("that has Keras' kernel shape (in, out) = (12, 4); nn.Linear stores its weight as (out, in) = (4, 12).")
    expect_shape(arr, (4, 12), hint="a torch Linear weight is (out, in) = (4, 12).")
    expect_finite(arr)
    if _same(arr, K.T):
        raise Wrong("you only transposed: torch flattens (C, H, W), Keras (H, W, C). "
                    "Hint: unflatten K's rows, reorder, flatten again.")
    if _same(arr, K.reshape(4, 12)):
        raise Wrong("a reshape does not transpose: (in, out) → (out, in) needs the axes swapped.")
    if _same(arr, K.reshape(H, W, C, -1).transpose(3, 2, 1, 0).reshape(4, 12)):
        raise Wrong("close: the channel axis comes first, but h and w are swapped; torch flattens (C, H, W).")
    expected = K.reshape(H, W, C, -1).transpose(3, 2, 0, 1).reshape(4, 12)
    expect_close(arr, expected, hint="K's rows come in (h, w, c) order; torch's columns in (c, h, w).")
    return "Each input column moved from position (h, w, c) to (c, h, w)."


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    log_probs = z - z.max(axis=1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


@exercise("3.3", solution={"tensorflow": "answer = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)"})
def matching_loss(answer: Any) -> str:
    """The Keras loss on LOGITS, LABELS, fixed so that it equals torch's nn.CrossEntropyLoss (the mean):
    the TensorFlow tensor the fixed Keras call returns (any float dtype)."""
    if is_loss_object(answer):
        raise Wrong(f"your answer is {describe(answer)}")
    if isinstance(answer, (str, bytes)):
        raise Wrong(f"your answer is {describe(answer)}; expected the loss the fixed Keras call returns.")
    if framework_of(answer) == "torch":
        raise Wrong("that is torch's loss, right all along: fix the Keras call and hand in its result.")
    if framework_of(answer) != "tensorflow" or not is_tensor_like(answer):
        raise Wrong(f"your answer is {describe(answer)}, not the tensor the Keras loss returns: hand it in unconverted.")
    arr = as_array(answer, tensor=False)
    if arr.dtype.kind not in "fiu":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected one number, the loss.")
    if arr.size != 1:
        raise Wrong(f"your answer has shape {arr.shape}: one loss per sample. "
                    "Hint: the loss object averages; the plain function does not.")
    expect_finite(arr)
    value = float(arr.reshape(()))
    per_sample = _cross_entropy(LOGITS, LABELS)
    expected = float(per_sample.mean())
    if np.isclose(value, per_sample.sum(), atol=1e-4):
        raise Wrong("that is the sum over the batch; both frameworks average by default (reduction='mean' / "
                    "'sum_over_batch_size').")
    if not np.isclose(value, expected, atol=1e-4):
        raise Wrong(f"{value:.4f} still differs from torch's {expected:.4f}. "
                    "Hint: what does a Keras loss expect by default? Read its constructor's arguments.")
    # The fixed Keras call is float32-exact (within 1e-6); a number typed in from a printout, e.g.
    # tf.constant(0.4617), is off by up to 5e-5.
    if not np.isclose(value, expected, atol=1e-6, rtol=0):
        raise Wrong(f"{value:.4f} is the right number rounded: typed in, not computed. "
                    "Hand in what the fixed Keras loss call returns.")
    return "Keras losses assume probabilities unless from_logits=True; torch's CrossEntropyLoss always takes logits."
