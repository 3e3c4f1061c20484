"""Argument checks for the helpers a learner calls: a wrong argument becomes a one-line
``CourseError`` that names the function, the parameter, what was expected and what was found —
never a traceback from deep inside NumPy, torch or TensorFlow.

Framework-free: objects are described by their type's module, nothing is imported.

Used in: compare, load_digits, setup, debugging, pt_utils, tf_utils.
"""
from __future__ import annotations

import numbers
import re
from pathlib import Path
from typing import Any

import numpy as np

from .arrays import framework_of, to_numpy
from .errors import CourseError


def kind_of(value: Any) -> str:
    """``framework_of``, also for a class defined outside the framework (a learner's ``nn.Module``)."""
    for cls in type(value).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        if root == "torch":
            return "torch"
        if root in ("tensorflow", "keras", "tf_keras"):
            return "tensorflow"
    return framework_of(value)


def found(value: Any) -> str:
    """A short description of a value for an error message: "NoneType None", "a torch tensor", ..."""
    kind = kind_of(value)
    if kind in ("torch", "tensorflow"):
        return f"a {kind} {type(value).__name__}"
    text = (repr(value).splitlines() or [""])[0]
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def fail(where: str, name: str, expected: str, value: Any, fix: str = "") -> CourseError:
    return CourseError(f"{where}({name}=...): expected {expected}, found {found(value)}." + (f" {fix}" if fix else ""))


def flag(value: Any, name: str, where: str) -> bool:
    """A True/False switch."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(where, name, "True or False", value)
    return bool(value)


def text(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str):
        raise fail(where, name, "a string", value)
    return value


def integer(value: Any, name: str, where: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number (not a bool), optionally within [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise fail(where, name, "a whole number", value)
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise fail(where, name, f"a whole number {bounds}", value)
    return value


def number(value: Any, name: str, where: str, minimum: float | None = None) -> float:
    """A finite real number (not a bool), optionally >= minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)) \
            or not np.isfinite(float(value)):
        raise fail(where, name, "a finite number", value)
    if minimum is not None and float(value) < minimum:
        raise fail(where, name, f"a number >= {minimum}", value)
    return float(value)


def sizes(value: Any, name: str, where: str) -> tuple[int, ...]:
    """A positive whole number or a non-empty sequence of them (layer widths)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise fail(where, name, "one or more positive whole numbers", value)
    return tuple(integer(v, name, where, minimum=1) for v in items)


def path(value: Any, name: str, where: str) -> Path:
    if not isinstance(value, (str, Path)):
        raise fail(where, name, "a folder path (str or pathlib.Path)", value)
    return Path(value)


def function(value: Any, name: str, where: str) -> Any:
    if not callable(value):
        raise fail(where, name, "a function (something you can call)", value)
    return value


def strings(value: Any, name: str, where: str, expected: str = "a list of strings") -> list[str]:
    """A list (or tuple) of strings, e.g. debugger commands."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise fail(where, name, expected, value, 'e.g. ["p x", "n", "c"]')
    return list(value)


def numeric_array(value: Any, name: str, where: str, ndim: int | tuple[int, ...] | None = None,
                  dtype: str | None = None) -> np.ndarray:
    """Any array-like (NumPy, torch, TF, nested lists) as a numeric NumPy array of the given rank.

    ``dtype`` is ``"float32"`` (cast, must be finite) or ``"int64"`` (class labels: whole numbers).
    """
    if value is None or isinstance(value, (str, bytes, dict)):
        raise fail(where, name, "an array or tensor", value)
    try:
        arr = to_numpy(value, f"{where}({name}=...)")
    except CourseError:
        raise fail(where, name, "an array or tensor", value) from None
    if arr.dtype.kind not in "biuf":
        raise fail(where, name, "numbers (int or float)", value)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise CourseError(f"{where}({name}=...): expected {' or '.join(f'{d}-D' for d in allowed)} data, "
                              f"found shape {arr.shape}.")
    if dtype == "float32":
        with np.errstate(over="ignore"):  # too-large values become inf, reported just below
            arr = arr.astype(np.float32)
        if not np.isfinite(arr).all():
            raise CourseError(f"{where}({name}=...): contains NaN or inf (or values too large for float32).")
    elif dtype == "int64":
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            raise CourseError(f"{where}({name}=...): expected whole-number class labels, found {arr.dtype} values.")
        arr = arr.astype(np.int64)
    return arr


def same_length(X: np.ndarray, y: np.ndarray, where: str) -> None:
    if len(X) != len(y):
        raise CourseError(f"{where}: X has {len(X)} examples but y has {len(y)} labels; they must match.")


# --- for the mirrored framework helpers (pt_utils, tf_utils) -------------------------------------

class CourseTypeError(CourseError, TypeError):
    """A ``CourseError`` that is also a ``TypeError``, for a helper that raised ``TypeError`` before."""


def wrong_kind(where: str, name: str, expected: str, value: Any, other: str, twin: str,
               error: type[CourseError] = CourseError) -> CourseError:
    """``value`` is not the model/tensor ``where`` needs; if it is from the ``other`` framework, point to ``twin``.

    >>> str(wrong_kind("pt_utils.device_of", "obj", "a torch tensor", tf.ones(2), "tensorflow", "tf_utils.device_of"))
    'pt_utils.device_of: expected obj to be a torch tensor, found a tensorflow EagerTensor — use tf_utils.device_of.'
    """
    hint = f" — use {twin}" if kind_of(value) == other else ""
    return error(f"{where}: expected {name} to be {expected}, found {found(value)}{hint}.")


def methods(value: Any, name: str, where: str, expected: str, *names: str) -> Any:
    """An object with the given callable methods, e.g. an optimizer with ``zero_grad`` and ``step``."""
    if not all(callable(getattr(value, m, None)) for m in names):
        raise fail(where, name, f"{expected} (with {', '.join(f'.{m}()' for m in names)})", value)
    return value


def batch(value: Any, name: str, where: str) -> np.ndarray:
    """Model inputs as a finite float32 array with the examples along the first axis (at least 2-D)."""
    arr = numeric_array(value, name, where, dtype="float32")
    if arr.ndim < 2:
        raise CourseError(f"{where}({name}=...): expected a batch of examples, shape (N, ...) with N first, "
                          f"found shape {arr.shape}.")
    return arr


def labels(value: Any, name: str, where: str) -> np.ndarray:
    """Class labels: a 1-D int64 array of whole numbers >= 0."""
    arr = numeric_array(value, name, where, ndim=1, dtype="int64")
    if arr.size and arr.min() < 0:
        raise CourseError(f"{where}({name}=...): expected class labels 0, 1, 2, ..., found {arr.min()}.")
    return arr


def call_failed(where: str, call: str, exc: BaseException, fix: str) -> CourseError:
    """A model or loss raised inside a helper: one line with the first line of the framework's message."""
    text = re.sub(r"\{\{[^}]*\}\}", "", str(exc))  # TensorFlow's "{{function_node ...}}" prefix
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first if len(first) <= 200 else first[:197] + "..."
    return CourseError(f"{where}: {call} raised {type(exc).__name__}: {first} — {fix}")
