"""Weight layouts between torch and Keras, in NumPy: the part of ``port_weights`` both directions share.

Framework-free: models are only read through the attributes they expose (``model.layers``,
``model.modules()``), so this module imports neither framework. ``pt_utils.port_weights`` (Keras →
torch) and ``tf_utils.port_weights`` (torch → Keras) do the copying.

Used in: 03_same_model (through port_weights).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import CourseError


def keras_weighted_layers(model: Any) -> list[tuple[Any, tuple[int, ...] | None]]:
    """[(Keras layer with weights, (H, W, C) of a Flatten right before it or None)], in order."""
    found, flattened = [], None
    for layer in model.layers:
        if type(layer).__name__ == "Flatten":
            try:
                shape = tuple(layer.input.shape)
            except (AttributeError, ValueError):
                raise CourseError("port_weights: cannot read the input shape of a Keras Flatten layer — "
                                  "build the Keras model with the functional API or Sequential(Input(...), ...).") from None
            flattened = tuple(int(d) for d in shape[1:]) if len(shape) == 4 else None
        elif layer.weights:
            found.append((layer, flattened))
            flattened = None
    return found


def torch_weighted_layers(model: Any) -> list[Any]:
    """The modules that hold parameters themselves (``Linear``, ``Conv2d``, ...), in definition order."""
    return [m for m in model.modules() if any(True for _ in m.parameters(recurse=False))]


def _unsupported(i: int, kind_pt: str, kind_tf: str) -> CourseError:
    return CourseError(f"port_weights: layer {i + 1} is {kind_pt} in torch but {kind_tf} in Keras — "
                       "only Linear↔Dense and Conv2d↔Conv2D are ported; list the layers in the same order.")


def to_keras_layout(weight: np.ndarray, kind_pt: str, kind_tf: str, hwc: tuple[int, ...] | None,
                    i: int) -> tuple[np.ndarray, str]:
    """A torch weight as the Keras kernel of layer ``i``, and how it was moved.

    >>> to_keras_layout(np.zeros((10, 4)), "Linear", "Dense", None, 0)[0].shape
    (4, 10)
    """
    if (kind_pt, kind_tf) == ("Linear", "Dense"):
        if hwc is None:
            return weight.T, "transposed"
        # torch flattened (C, H, W); Keras flattens (H, W, C): reorder the input columns too.
        H, W, C = hwc
        return (weight.reshape(-1, C, H, W).transpose(2, 3, 1, 0).reshape(H * W * C, -1),
                "columns reordered (C, H, W) → (H, W, C), transposed")
    if (kind_pt, kind_tf) == ("Conv2d", "Conv2D"):
        return weight.transpose(2, 3, 1, 0), "transpose(2, 3, 1, 0)"
    raise _unsupported(i, kind_pt, kind_tf)


def to_torch_layout(kernel: np.ndarray, kind_tf: str, kind_pt: str, hwc: tuple[int, ...] | None,
                    i: int) -> tuple[np.ndarray, str]:
    """A Keras kernel as the torch weight of layer ``i``, and how it was moved (inverse of ``to_keras_layout``).

    >>> to_torch_layout(np.zeros((4, 10)), "Dense", "Linear", None, 0)[0].shape
    (10, 4)
    """
    if (kind_tf, kind_pt) == ("Dense", "Linear"):
        if hwc is None:
            return kernel.T, "transposed"
        H, W, C = hwc
        return (kernel.reshape(H, W, C, -1).transpose(3, 2, 0, 1).reshape(kernel.shape[1], -1),
                "rows reordered (H, W, C) → (C, H, W), transposed")
    if (kind_tf, kind_pt) == ("Conv2D", "Conv2d"):
        return kernel.transpose(3, 2, 0, 1), "transpose(3, 2, 0, 1)"
    raise _unsupported(i, kind_pt, kind_tf)
