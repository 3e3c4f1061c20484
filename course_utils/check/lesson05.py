"""Checks for the exercises of 05_debugging."""
from __future__ import annotations

from typing import Any

import numpy as np

from .core import Wrong, as_array, describe, expect_close, expect_equal, expect_finite, exercise

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
    arr = as_array(answer)
    if arr.dtype.kind not in "fc":
        raise Wrong(f"{what} has dtype {arr.dtype.name}; a loss is a float. Hint: use float32 inputs.")
    return arr


@exercise("5.1")
def correct_bce(answer: Any) -> str:
    """The mean binary cross-entropy of BCE_P (squeezed to (4,)) against BCE_Y: a scalar."""
    arr = _scalar(answer)
    if arr.shape == (4, 4):
        raise Wrong("your answer has shape (4, 4): (4, 1) times (4,) broadcast — squeeze p to (4,) first, "
                    "then take the mean.")
    if arr.shape == (4,) or arr.shape == (4, 1):
        raise Wrong(f"your answer has shape {arr.shape}: those are the per-example losses. Hint: take the mean.")
    if arr.shape not in ((), (1,)):
        raise Wrong(f"your answer has shape {arr.shape}; expected a scalar (shape ()). Hint: .mean() / tf.reduce_mean.")
    expect_finite(arr)
    value = float(arr.reshape(()))
    broadcast = float(_bce(BCE_P, BCE_Y).mean())  # (4, 1) against (4,) is (4, 4)
    if abs(value - broadcast) < 1e-5:
        raise Wrong("that is the broadcast (4, 4) mean — the planted bug. Squeeze p to shape (4,) before "
                    "combining it with y.")
    if abs(value + float(_bce(BCE_P[:, 0], BCE_Y).mean())) < 1e-5:
        raise Wrong("the sign is flipped: cross-entropy is minus the mean log-likelihood.")
    expect_close(arr.reshape(()), np.array(_bce(BCE_P[:, 0], BCE_Y).mean()),
                 hint="-(y·log p + (1-y)·log(1-p)), averaged over the 4 examples.")
    return "p.squeeze(-1) (torch) or tf.squeeze(p, -1) makes the shapes agree."


@exercise("5.2")
def stable_bce(answer: Any) -> str:
    """The mean binary cross-entropy of sigmoid(LOGITS_Z) against LOGITS_Y, computed stably."""
    arr = _scalar(answer)
    if arr.size != 1:
        raise Wrong(f"your answer has shape {arr.shape}; expected one number, the mean over the 5 logits. "
                    "Hint: wrap it in .mean() / tf.reduce_mean.")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise Wrong("your loss is not finite: sigmoid(±120) is exactly 0 or 1 in float32, and log(0) = -inf. "
                    "Hint: compute it from the logits (binary_cross_entropy_with_logits / sigmoid_cross_entropy_with_logits).")
    exact = float(np.mean(np.logaddexp(0, LOGITS_Z) - LOGITS_Y * LOGITS_Z))
    for eps in (1e-7, 1e-8, 1e-6, 1e-12, 1e-10, 1e-15):
        for dtype in (np.float64, np.float32):  # in float32, 1 - 1e-7 rounds: the clamped loss shifts a little
            # exp(120) overflows and a tiny eps rounds to 1.0 in float32, as in the learner's code: stay quiet.
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                p = np.clip(1 / (1 + np.exp(-LOGITS_Z.astype(dtype))), dtype(eps), dtype(1 - eps)).astype(dtype)
                clamped = float(_bce(p, LOGITS_Y.astype(dtype)).mean())
            if abs(value - clamped) < 0.05:
                raise Wrong(f"finite, but that is the clamped loss ({value:.4f}, the exact one is larger): clamping hides "
                            "the inf and changes the value. Hint: use the loss that takes logits.")
    expect_close(arr.reshape(()), np.array(exact), atol=1e-3,
                 hint="mean of softplus(z) - y·z; both frameworks have it as one op taking logits.")
    return "log σ(z) = -softplus(-z) never takes the log of 0."


@exercise("5.3")
def first_bad_layer(answer: Any) -> str:
    """The name of the first layer of the suspect model whose output holds a NaN or inf."""
    if answer is None:
        raise Wrong("your answer is None — did the loop find a bad layer and assign its name?")
    if not isinstance(answer, str):
        raise Wrong(f"your answer is {describe(answer)}; expected the layer's name as a string, e.g. \"block1\".")
    name = answer.strip().lower()
    if name not in SUSPECT_LAYERS:
        raise Wrong(f"{answer!r} is not one of the model's layers {', '.join(SUSPECT_LAYERS)}. "
                    "Hint: named_children() (torch) or model.layers[i].name (Keras).")
    if name == "block4":
        raise Wrong("block4's output is NaN, but it only passes on a NaN it received. Hint: find the first layer "
                    "whose output is not finite.")
    if name in ("block1", "block2"):
        raise Wrong(f"{name}'s output is finite for every input. Hint: check each layer's output in turn.")
    expect_equal(name, FIRST_BAD_LAYER)
    return "It divides by the sum of a row that ReLU made all zeros: 0 / 0 for the blank image."
