"""Turn NumPy arrays, torch tensors and TensorFlow tensors into NumPy, without importing either framework.

The framework is recognised from the object's type, the way einops does it: a torch tensor's type
lives in a module whose name starts with ``torch``, a TF tensor's in ``tensorflow`` (or ``keras``).
Nothing is imported, so a learner who only uses PyTorch never pays for TensorFlow.

Used in: every lesson (through ``compare`` and the exercise checks).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .errors import CourseError


def framework_of(x: Any) -> str:
    """Name the library an object comes from: ``"torch"``, ``"tensorflow"``, ``"numpy"`` or ``"python"``.

    >>> framework_of(np.zeros(3))
    'numpy'
    """
    module = type(x).__module__ or ""
    root = module.split(".")[0]
    if root == "torch":
        return "torch"
    if root in ("tensorflow", "keras", "tf_keras"):
        return "tensorflow"
    if root == "numpy":
        return "numpy"
    return "python"


def is_tensor_like(x: Any) -> bool:
    """True for NumPy arrays and scalars, torch tensors and TF tensors/variables."""
    kind = framework_of(x)
    if kind == "torch":
        return hasattr(x, "detach")
    if kind == "tensorflow":
        return hasattr(x, "numpy") and hasattr(x, "dtype")
    return isinstance(x, (np.ndarray, np.generic))


def to_numpy(x: Any, name: str = "value") -> np.ndarray:
    """Copy a NumPy array, torch tensor or TF tensor (any device) into a NumPy array.

    Python numbers and (nested) lists are accepted too. Anything else raises ``CourseError``.

    >>> to_numpy([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    kind = framework_of(x)
    if kind == "torch" and hasattr(x, "detach"):
        # detach: drop autograd history; cpu: a CUDA/MPS tensor cannot become NumPy in place.
        return x.detach().cpu().resolve_conj().numpy()
    if kind == "tensorflow" and hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    if isinstance(x, (numbers.Number, list, tuple)):
        try:
            return np.asarray(x)
        except ValueError as exc:  # ragged lists
            raise CourseError(f"{name}: cannot turn this {type(x).__name__} into an array ({exc}).") from None
    raise CourseError(
        f"{name}: expected a NumPy array, a torch tensor or a TensorFlow tensor, "
        f"found {type(x).__module__}.{type(x).__qualname__}."
    )
