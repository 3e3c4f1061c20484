"""Argument checks for the helpers a learner calls: a wrong argument becomes a one-line
``CourseError`` that names the function, the parameter, what was expected and what was found —
never a traceback from deep inside NumPy, torch or TensorFlow.

Framework-free: objects are described by their type's module, nothing is imported.

Used in: compare, load_digits, setup, debugging, pt_utils, tf_utils.
"""
from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

import numpy as np

from .arrays import framework_of, to_numpy
from .errors import CourseError


def found(value: Any) -> str:
    """A short description of a value for an error message: "NoneType None", "a torch tensor", ..."""
    kind = framework_of(value)
    if kind in ("torch", "tensorflow"):
        return f"a {kind} {type(value).__name__}"
    text = repr(value)
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


def strings(value: Any, name: str, where: str) -> list[str]:
    """A list (or tuple) of strings, e.g. debugger commands."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise fail(where, name, "a list of strings", value, 'e.g. ["p x", "n", "c"]')
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
