"""Checks for the exercises of 05_debugging.

5.1 and 5.2 ask for a loss computed in torch or TensorFlow: a NumPy value or a number typed in is
refused, any float dtype is accepted (the exercise's data are float64 in NumPy).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.arrays import framework_of
from .core import Wrong, as_array, describe, expect_close, expect_equal, expect_finite, exercise, one_line

# The data the exercises hand out, written out here so the checks do not trust the notebook's cells.
BCE_P = np.array([[0.9], [0.2], [0.7], [0.4]], dtype=np.float64)        # exercise 5.1, shape (4, 1)
BCE_Y = np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float64)                # shape (4,)
LOGITS_Z = np.array([-120.0, -3.0, 0.0, 4.0, 120.0], dtype=np.float64)  # exercise 5.2
LOGITS_Y = np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float64)
SUSPECT_LAYERS = ("block1", "block2", "block3", "block4")               # exercise 5.3
FIRST_BAD_LAYER = "block3"


def _bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _scalar(answer: Any, what: str = "your answer") -> np.ndarray:
    arr = as_array(answer, numpy=False, what=what)
    if arr.dtype.kind not in "fc":
        raise Wrong(f"{what} has dtype {arr.dtype.name}; a loss is a float. Hint: start from the float inputs.")
    return arr


@exercise("5.1", solution={
    "torch": "p, y = torch.from_numpy(p_ex), torch.from_numpy(y_ex); p = p.squeeze(-1); "
             "answer = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()",
    "tensorflow": "p = tf.squeeze(tf.constant(p_ex), -1); y = tf.constant(y_ex); "
                  "answer = -tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))"})
def correct_bce(answer: Any) -> str:
    """The mean binary cross-entropy of BCE_P (squeezed to (4,)) against BCE_Y: a scalar."""
    arr = _scalar(answer)
    mean = ".mean()" if framework_of(answer) == "torch" else "tf.reduce_mean"
    if arr.shape == (4, 4):
        raise Wrong("your answer has shape (4, 4): (4, 1) against (4,) broadcast to a table. "
                    "Hint: make p's shape match y's first.")
    if arr.shape == (4,) or arr.shape == (4, 1):
        raise Wrong(f"your answer has shape {arr.shape}: those are the per-example losses. Hint: take the mean ({mean}).")
    if arr.shape not in ((), (1,)):
        raise Wrong(f"your answer has shape {arr.shape}; expected a scalar (shape ()). Hint: {mean}.")
    expect_finite(arr)
    value = float(arr.reshape(()))
    broadcast = float(_bce(BCE_P, BCE_Y).mean())  # (4, 1) against (4,) is (4, 4)
    if abs(value - broadcast) < 1e-5:
        raise Wrong("that is the broadcast (4, 4) mean — the planted bug. Hint: print the shapes of p and y "
                    "and of the product before the mean.")
    if abs(value + float(_bce(BCE_P[:, 0], BCE_Y).mean())) < 1e-5:
        raise Wrong("the sign is flipped: cross-entropy is minus the mean log-likelihood.")
    if abs(value - float(_bce(BCE_P[:, 0], BCE_Y).sum())) < 1e-5:
        raise Wrong("that is the sum over the 4 examples; the exercise asks for the mean.")
    expect_close(arr.reshape(()), np.array(_bce(BCE_P[:, 0], BCE_Y).mean()),
                 hint="the binary cross-entropy, averaged over the 4 examples.")
    squeeze = "p.squeeze(-1)" if framework_of(answer) == "torch" else "tf.squeeze(p, -1)"
    return f"{squeeze} makes the shapes agree."


@exercise("5.2", solution={
    "tensorflow": "answer = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=z))",
    "torch": "answer = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(labels))"})
def stable_bce(answer: Any) -> str:
    """The mean binary cross-entropy of sigmoid(LOGITS_Z) against LOGITS_Y, computed stably."""
    arr = _scalar(answer)
    if arr.size != 1:
        mean = ".mean()" if framework_of(answer) == "torch" else "tf.reduce_mean"
        raise Wrong(f"your answer has shape {arr.shape}; expected one number, the mean over the 5 logits. Hint: {mean}.")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise Wrong("your loss is not finite: sigmoid(±120) is exactly 0 or 1 in float32, and log(0) = -inf. "
                    "Hint: a loss that takes the logits.")
    exact = float(np.mean(np.logaddexp(0, LOGITS_Z) - LOGITS_Y * LOGITS_Z))
    for eps in (1e-7, 1e-8, 1e-6, 1e-12, 1e-10, 1e-15):
        for dtype in (np.float64, np.float32):  # in float32, 1 - 1e-7 rounds: the clamped loss shifts a little
            # exp(120) overflows and a tiny eps rounds to 1.0 in float32, as in the learner's code: stay quiet.
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                p = np.clip(1 / (1 + np.exp(-LOGITS_Z.astype(dtype))), dtype(eps), dtype(1 - eps)).astype(dtype)
                clamped = float(_bce(p, LOGITS_Y.astype(dtype)).mean())
            if abs(value - clamped) < 0.05:
                raise Wrong(f"finite, but that is the clamped loss ({value:.4f}; the exact one is larger). "
                            "Hint: use the loss that takes logits.")
    expect_close(arr.reshape(()), np.array(exact), atol=1e-3,
                 hint="one op that takes the logits.")
    return "log σ(z) = -softplus(-z) never takes the log of 0."


@exercise("5.3", solution={  # the answer is a name: the learner may have searched either twin
    "torch": "x = torch.from_numpy(X_suspect)\nfor name, layer in suspect_pt.named_children():\n"
             "    x = layer(x)\n    if not torch.isfinite(x).all():\n        answer = name\n        break",
    "tensorflow": "x = tf.constant(X_suspect)\nfor layer in suspect_tf.layers:\n    x = layer(x)\n"
                  "    if not tf.reduce_all(tf.math.is_finite(x)):\n        answer = layer.name\n        break"})
def first_bad_layer(answer: Any) -> str:
    """The name of the first layer of the suspect model whose output holds a NaN or inf."""
    if answer is None:
        raise Wrong("your answer is None — did the loop find a bad layer and assign its name?")
    name_attr = getattr(answer, "name", None)
    if framework_of(answer) in ("torch", "tensorflow") and not isinstance(answer, str):
        raise Wrong(f"your answer is {describe(answer)}; expected the layer's name as a string"
                    + (f" (its .name is {name_attr!r})." if isinstance(name_attr, str) else ", e.g. \"block1\"."))
    if not isinstance(answer, str):
        raise Wrong(f"your answer is {describe(answer)}; expected the layer's name as a string, e.g. \"block1\".")
    name = answer.strip().lower()
    if name not in SUSPECT_LAYERS:
        raise Wrong(f"{one_line(repr(answer), 40)} is not one of the model's layers {', '.join(SUSPECT_LAYERS)}. "
                    "Hint: the layer's own name.")
    if name == "block4":
        raise Wrong("block4's output is NaN, but it only passes on a NaN it received. Hint: find the first layer "
                    "whose output is not finite.")
    if name in ("block1", "block2"):
        raise Wrong(f"{name}'s output is finite for every input. Hint: check each layer's output in turn.")
    expect_equal(name, FIRST_BAD_LAYER)
    return "It divides by the sum of a row that ReLU made all zeros: 0 / 0 for the blank image."
