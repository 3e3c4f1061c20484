"""The machinery behind ``cu.check.<exercise>(answer)``: framework-agnostic, one line of feedback.

A check is a small function decorated with ``@exercise("1.2")`` that looks at the answer with the
``expect_*`` helpers below and raises ``Wrong("what is wrong. Hint: ...")`` at the first problem.
The decorator turns that into a ``Verdict``, prints it as one line and never lets an exception
escape: a learner sees "correct", "not quite: <why>" or "not attempted yet", never a traceback.

The placeholder answer is ``...`` (Ellipsis): learner copies hold ``answer = ...``.
"""
from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from ..arrays import framework_of, is_tensor_like, to_numpy
from ..errors import CourseError
PLACEHOLDER = ...

# One line, and short: a verdict must never turn into a wall of text (TF's errors run to kilobytes).
MAX_MESSAGE = 240


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """Collapse whitespace and newlines and cut to ``limit`` characters.

    >>> one_line("a\n  b")
    'a b'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
            # Any placeholder among the answers (learner copies hold `name = ...`) means "not yet".
            if any(a is PLACEHOLDER for a in (answer, *args, *kwargs.values())):
                status, message = "not attempted", \
                    "not attempted yet: replace the `...` with your answer, then run this cell again."
            else:
                try:
                    note = body(answer, *args, **kwargs)
                    status, message = "correct", "correct." + (f" {note}" if note else "")
                except Wrong as wrong:
                    status, message = "wrong", f"not quite: {wrong}"
                except Exception as exc:  # a check must never show a traceback
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    status, message = "wrong", (f"not quite: your answer could not be checked "
                                                f"({type(exc).__name__}: {one_line(first, 120)}).")
            verdict = Verdict(exercise_id, status, one_line(message), printed=not quiet)
            if not quiet:
                print(verdict)
            return verdict

        check.exercise_id = exercise_id  # type: ignore[attr-defined]
        return check

    return decorate


def describe(x: Any) -> str:
    """A short name for what the learner handed in: 'a torch tensor', 'a Python list', ...

    >>> describe([1, 2])
    'a list'
    """
    kind = framework_of(x)
    if kind == "torch" and is_tensor_like(x):
        return "a torch tensor"
    if kind == "tensorflow" and is_tensor_like(x):
        return "a TensorFlow tensor"
    if isinstance(x, np.ndarray):
        return "a NumPy array"
    if x is None:
        return "None"
    if x is PLACEHOLDER:
        return "the placeholder `...`"
    if kind in ("torch", "tensorflow"):  # a model, a layer, a device, a dtype ...: not a tensor
        name = {"torch": "torch", "tensorflow": "TensorFlow"}[kind]
        return f"a {name} {type(x).__name__} object, not a tensor"
    if isinstance(x, (list, tuple, dict, set, str, int, float, bool)):
        name = type(x).__name__
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
    if inspect.isgenerator(x):
        return "a generator — wrap it in list(...) or build a tensor"
    if callable(x):
        return f"a {'function' if inspect.isroutine(x) else type(x).__name__} — did you forget to call it?"
    return f"a {type(x).__name__}"


def device_of(x: Any) -> str:
    """Where a tensor lives, as ``"cpu"``, ``"cuda:0"``, ``"mps:0"``, ``"GPU:0"``; ``"cpu"`` for NumPy.

    >>> device_of(np.zeros(2))
    'cpu'
    """
    kind = framework_of(x)
    if kind == "torch" and hasattr(x, "device"):
        return str(x.device)
    if kind == "tensorflow":
        name = str(getattr(x, "device", "") or "")
        m = re.search(r"device:([A-Z]+:\d+)", name)
        return "cpu" if not m or m.group(1).startswith("CPU") else m.group(1)
    return "cpu"


def expect_device(answer: Any, device: str = "cpu", what: str = "your answer", hint: str = "") -> None:
    """The answer lives on ``device`` (``"cpu"``, or a prefix such as ``"cuda"``/``"GPU"``)."""
    found = device_of(answer)
    if not found.lower().startswith(device.lower()):
        raise Wrong(f"{what} is on {found}, expected {device}."
                    + (f" Hint: {hint}" if hint else " Hint: .to(device) / .cpu() in torch; tf.device(...) in TF."))


def as_array(answer: Any, *, tensor: bool = True, what: str = "your answer") -> np.ndarray:
    """The answer as NumPy. With ``tensor=True`` only a torch or TF tensor (or NumPy array) is accepted."""
    if answer is None:
        raise Wrong(f"{what} is None — did the cell assign it, or does your function `return` it?")
    if tensor and not is_tensor_like(answer):
        raise Wrong(f"{what} is {describe(answer)}; expected a torch tensor or a TensorFlow tensor "
                    "(torch.tensor(...) / tf.constant(...)).")
    if framework_of(answer) == "torch" and str(getattr(answer, "dtype", "")) == "torch.bfloat16":
        raise Wrong(f"{what} has dtype bfloat16, which NumPy cannot hold; use float32 (.float()).")
    try:
        arr = to_numpy(answer, what)
    except CourseError as exc:
        raise Wrong(str(exc)) from None
    except Exception as exc:  # a symbolic tensor (inside tf.function / a Keras graph), a meta tensor ...
        raise Wrong(f"{what} ({describe(answer)}) has no concrete values to check "
                    f"({type(exc).__name__}); hand in an eager tensor computed outside tf.function.") from None
    if arr.dtype == object:
        raise Wrong(f"{what} is ragged or mixed: it does not form one rectangular array of numbers.")
    return arr


def expect_shape(arr: np.ndarray, shape: tuple[int, ...], what: str = "your answer", hint: str = "") -> None:
    """``arr.shape == shape``, else ``Wrong`` naming both shapes."""
    if tuple(arr.shape) != tuple(shape):
        raise Wrong(f"{what} has shape {tuple(arr.shape)}, expected {tuple(shape)}." + (f" Hint: {hint}" if hint else ""))


def expect_dtype(arr: np.ndarray, dtypes: Iterable[str], what: str = "your answer", hint: str = "") -> None:
    """``arr``'s dtype is one of ``dtypes`` (NumPy names: "float32", "int64", ...)."""
    names = list(dtypes)
    if arr.dtype.name not in names:
        raise Wrong(f"{what} has dtype {arr.dtype.name}, expected {' or '.join(names)}."
                    + (f" Hint: {hint}" if hint else ""))


def expect_finite(arr: np.ndarray, what: str = "your answer") -> None:
    """No NaN or inf in a float or complex array."""
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise Wrong(f"{what} contains {bad} values; look for a division by zero or a log of 0.")


def expect_close(arr: np.ndarray, expected: np.ndarray, what: str = "your answer", hint: str = "",
                 atol: float = 1e-5) -> None:
    """Same shape, finite, and values within ``atol`` of ``expected``."""
    expected = np.asarray(expected)
    expect_shape(arr, expected.shape, what)
    if arr.dtype.kind not in "biufc":
        raise Wrong(f"{what} holds {arr.dtype.name} values, expected numbers.")
    expect_finite(arr, what)
    diff = np.abs(arr.astype(np.float64) - expected.astype(np.float64))
    if diff.size and diff.max() > atol:
        raise Wrong(f"{what} has the right shape but different values (max |diff| {diff.max():.3g})."
                    + (f" Hint: {hint}" if hint else ""))


def expect_equal(value: Any, expected: Any, what: str = "your answer", hint: str = "") -> None:
    """For plain answers (a number, a string, a bool): equal, same type family.

    A 0-d tensor or array counts as its number; floats compare with a relative tolerance of 1e-6.
    """
    if is_tensor_like(value) and not isinstance(expected, str):
        arr = as_array(value, what=what)
        if arr.size != 1:
            raise Wrong(f"{what} is {describe(value)} of shape {arr.shape}; expected one value "
                        "(.item() in torch, .numpy() or int(...) in TF).")
        value = arr.reshape(()).item()
    if isinstance(expected, bool):
        ok = isinstance(value, (bool, np.bool_)) and bool(value) == expected
    elif isinstance(expected, (int, float)):
        ok = (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
              and bool(np.isclose(float(value), float(expected), rtol=1e-6, atol=0.0)))
    elif isinstance(expected, str):
        if not isinstance(value, str):
            raise Wrong(f"{what} is {describe(value)}; expected a string, in quotes.")
        ok = value.strip().lower() == expected.lower()
    else:
        try:
            ok = bool(value == expected)
        except Exception:  # e.g. an array compared with a tuple: ambiguous truth value
            ok = False
    if not ok:
        raise Wrong(f"{what} is {one_line(repr(value), 60)}, which is not it." + (f" Hint: {hint}" if hint else ""))
