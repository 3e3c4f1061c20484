"""The machinery behind ``cu.check.<exercise>(answer)``: framework-agnostic, one line of feedback.

A check is a small function decorated with ``@exercise("1.2")`` that looks at the answer with the
``expect_*`` helpers below and raises ``Wrong("what is wrong. Hint: ...")`` at the first problem.
The decorator turns that into a ``Verdict``, prints it as one line and never lets an exception
escape: a learner sees "correct", "not quite: <why>" or "not attempted yet", never a traceback.

The placeholder answer is ``...`` (Ellipsis): learner copies hold ``answer = ...``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from ..arrays import framework_of, is_tensor_like, to_numpy
from ..errors import CourseError

PLACEHOLDER = ...


class Wrong(Exception):
    """Raised inside a check: the answer is wrong, and the message says why (one sentence + hint)."""


@dataclass(frozen=True)
class Verdict:
    """What a check said. True only when the answer is correct."""

    exercise: str
    status: str  # "correct" | "wrong" | "not attempted"
    message: str
    printed: bool = field(default=False, repr=False, compare=False)

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return f"Exercise {self.exercise} — {self.message}"

    def _ipython_display_(self) -> None:
        # The check already printed its line; don't show it a second time as Out[].
        if not self.printed:
            print(self)


def exercise(exercise_id: str) -> Callable[[Callable[..., str | None]], Callable[..., Verdict]]:
    """Turn ``body(answer, ...)`` (raises ``Wrong`` or returns an optional note) into a check."""

    def decorate(body: Callable[..., str | None]) -> Callable[..., Verdict]:
        @functools.wraps(body)
        def check(answer: Any = PLACEHOLDER, *args: Any, quiet: bool = False, **kwargs: Any) -> Verdict:
            if answer is PLACEHOLDER:
                verdict = Verdict(exercise_id, "not attempted",
                                  "not attempted yet: replace the `...` with your answer, then run this cell again.")
            else:
                try:
                    note = body(answer, *args, **kwargs)
                    verdict = Verdict(exercise_id, "correct", "correct." + (f" {note}" if note else ""))
                except Wrong as wrong:
                    verdict = Verdict(exercise_id, "wrong", f"not quite: {wrong}")
                except (CourseError, Exception) as exc:  # a check must never show a traceback
                    verdict = Verdict(exercise_id, "wrong",
                                      f"not quite: your answer could not be checked ({type(exc).__name__}: {exc}).")
            verdict = Verdict(verdict.exercise, verdict.status, verdict.message, printed=not quiet)
            if not quiet:
                print(verdict)
            return verdict

        check.exercise_id = exercise_id  # type: ignore[attr-defined]
        return check

    return decorate


def describe(x: Any) -> str:
    """A short name for what the learner handed in: 'a torch tensor', 'a Python list', ..."""
    kind = framework_of(x)
    if kind == "torch" and is_tensor_like(x):
        return "a torch tensor"
    if kind == "tensorflow" and is_tensor_like(x):
        return "a TensorFlow tensor"
    if isinstance(x, np.ndarray):
        return "a NumPy array"
    if x is None:
        return "None"
    return f"a {type(x).__name__}"


def as_array(answer: Any, *, tensor: bool = True, what: str = "your answer") -> np.ndarray:
    """The answer as NumPy. With ``tensor=True`` only a torch or TF tensor (or NumPy array) is accepted."""
    if answer is None:
        raise Wrong(f"{what} is None — did the cell assign it, or does your function `return` it?")
    if tensor and not is_tensor_like(answer):
        raise Wrong(f"{what} is {describe(answer)}; expected a torch tensor or a TensorFlow tensor "
                    "(torch.tensor(...) / tf.constant(...)).")
    try:
        return to_numpy(answer, what)
    except CourseError as exc:
        raise Wrong(str(exc)) from None


def expect_shape(arr: np.ndarray, shape: tuple[int, ...], what: str = "your answer", hint: str = "") -> None:
    if tuple(arr.shape) != tuple(shape):
        raise Wrong(f"{what} has shape {tuple(arr.shape)}, expected {tuple(shape)}." + (f" Hint: {hint}" if hint else ""))


def expect_dtype(arr: np.ndarray, dtypes: Iterable[str], what: str = "your answer", hint: str = "") -> None:
    names = list(dtypes)
    if arr.dtype.name not in names:
        raise Wrong(f"{what} has dtype {arr.dtype.name}, expected {' or '.join(names)}."
                    + (f" Hint: {hint}" if hint else ""))


def expect_finite(arr: np.ndarray, what: str = "your answer") -> None:
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise Wrong(f"{what} contains {bad} values; look for a division by zero or a log of 0.")


def expect_close(arr: np.ndarray, expected: np.ndarray, what: str = "your answer", hint: str = "",
                 atol: float = 1e-5) -> None:
    expected = np.asarray(expected)
    expect_shape(arr, expected.shape, what)
    expect_finite(arr, what)
    diff = np.abs(arr.astype(np.float64) - expected.astype(np.float64))
    if diff.size and diff.max() > atol:
        raise Wrong(f"{what} has the right shape but different values (max |diff| {diff.max():.3g})."
                    + (f" Hint: {hint}" if hint else ""))


def expect_equal(value: Any, expected: Any, what: str = "your answer", hint: str = "") -> None:
    """For plain answers (a number, a string, a bool): equal, same type family."""
    if isinstance(expected, bool):
        ok = isinstance(value, (bool, np.bool_)) and bool(value) == expected
    elif isinstance(expected, (int, float)):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value == expected
    elif isinstance(expected, str):
        if not isinstance(value, str):
            raise Wrong(f"{what} is {describe(value)}; expected a string, in quotes.")
        ok = value.strip().lower() == expected.lower()
    else:
        ok = value == expected
    if not ok:
        raise Wrong(f"{what} is {value!r}, which is not it." + (f" Hint: {hint}" if hint else ""))
