"""``compare``: do two arrays (from any framework) hold the same numbers? One line says.

Used in: 01_tensors, 02_autodiff, 03_same_model and every lesson that builds a model twice.

How the line prints numbers (the course's rule, STYLE.md "Print what is true on every machine"):
a stored notebook output is a promise to every learner's CPU, so the line never shows the noise
digits of this machine. Two float32 computations that agree differ by rounding noise (1e-8..1e-6)
that moves with the CPU's vector width, the BLAS kernel and the thread count, and even flips
between 0 and 1e-7. So:

* when they agree, the line prints the tolerance they agree within — ``max|diff| <= 1e-05`` — a
  bound that holds on every machine (pick ``atol`` with a margin over the noise; ``atol=0`` claims
  bit-for-bit equality and prints ``max|diff| = 0 (exact)``);
* when they disagree, the difference is content, not noise: it prints 2 significant digits,
  ``max|diff| = 0.33``, far from any CPU's rounding noise.

The exact figure is always in ``Comparison.max_diff`` for code that needs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .base.arrays import framework_of, to_numpy
from .base import validate
from .base.errors import CourseError


@dataclass(frozen=True)
class Comparison:
    """The result of ``compare``; true when the two agree within tolerance."""

    name: str
    allclose: bool
    max_diff: float
    shape: tuple[int, ...]
    printed: bool = field(default=False, repr=False, compare=False)

    def _ipython_display_(self) -> None:
        # A notebook cell ending in compare(...) would show the line twice: printed, then as Out[].
        if not self.printed:
            print(self)

    def __bool__(self) -> bool:
        return self.allclose

    atol: float = 1e-5
    rtol: float = 0.0

    def __str__(self) -> str:
        return (f"{self.name:<12} allclose={self.allclose!s:<5}  "
                f"{self.diff_text():<20}  shape={self.shape}")

    def diff_text(self) -> str:
        """The printed difference: the bound when the two agree, 2 digits of the gap when not."""
        if self.allclose:
            if self.atol == 0.0 and self.rtol == 0.0:
                return "max|diff| = 0 (exact)"
            bound = f"max|diff| <= {short_number(self.atol)}"
            return bound + (f" + {short_number(self.rtol)}·|b|" if self.rtol else "")
        if np.isnan(self.max_diff):
            return "max|diff| = nan"
        return f"max|diff| = {self.max_diff:.2g}"


def short_number(value: float) -> str:
    """``1e-05`` → ``'1e-05'``, ``0.0005`` → ``'5e-04'``, ``0.25`` → ``'0.25'``: a tolerance, as written.

    >>> short_number(1e-5), short_number(5e-4), short_number(0.25)
    ('1e-05', '5e-04', '0.25')
    """
    return f"{value:.0e}" if f"{value:.0e}" == f"{value:.1e}".replace(".0e", "e") else f"{value:g}"


def compare(name: str, a: Any, b: Any, atol: float = 1e-5, rtol: float = 0.0,
            check_dtype: bool = True, quiet: bool = False) -> Comparison:
    """Compare ``a`` and ``b`` elementwise, print one line, return a ``Comparison``.

    ``a`` and ``b`` may each be a NumPy array, a torch tensor (any device, with or without grad) or
    a TF tensor/variable. They agree when ``|a - b| <= atol + rtol * |b|`` everywhere.

    >>> compare("logits", np.ones((8, 10), np.float32), np.ones((8, 10), np.float32))
    logits       allclose=True   max|diff| <= 1e-05 shape=(8, 10)
    Comparison(name='logits', allclose=True, max_diff=0.0, shape=(8, 10), atol=1e-05, rtol=0.0)
    >>> compare("off", np.zeros(3, np.float32), np.full(3, 0.33, np.float32), quiet=True).diff_text()
    'max|diff| = 0.33'

    The line states the tolerance the two agree within, not this CPU's noise digits (see the
    module docstring); ``.max_diff`` holds the exact figure. In a notebook the line is shown once:
    the returned value does not print it again.

    Raises ``CourseError`` with a one-line explanation when the shapes or dtypes differ.
    """
    validate.text(name, "name", "compare")
    atol = validate.number(atol, "atol", "compare", minimum=0.0)
    rtol = validate.number(rtol, "rtol", "compare", minimum=0.0)
    check_dtype = validate.flag(check_dtype, "check_dtype", "compare")
    quiet = validate.flag(quiet, "quiet", "compare")
    x = to_numpy(a, f"compare({name!r}) first argument")
    y = to_numpy(b, f"compare({name!r}) second argument")
    if x.shape != y.shape:
        raise CourseError(
            f"compare({name!r}): shapes differ — {framework_of(a)} {x.shape} vs {framework_of(b)} {y.shape}. "
            "Expected the same shape: check for a missing transpose, reshape or batch dimension."
        )
    if check_dtype and x.dtype != y.dtype:
        raise CourseError(
            f"compare({name!r}): dtypes differ — {framework_of(a)} {x.dtype} vs {framework_of(b)} {y.dtype}. "
            "Cast one side (NumPy defaults to float64, both frameworks to float32) or pass check_dtype=False."
        )
    if x.dtype.kind in "fc" or y.dtype.kind in "fc":
        wide = np.complex128 if "c" in (x.dtype.kind, y.dtype.kind) else np.float64
        x64, y64 = x.astype(wide), y.astype(wide)
    else:
        x64, y64 = x.astype(np.int64), y.astype(np.int64)
    diff = np.abs(x64 - y64)
    max_diff = float(diff.max()) if diff.size else 0.0
    ok = bool(np.allclose(x64, y64, atol=atol, rtol=rtol, equal_nan=False)) if diff.size else True
    if diff.size and np.isnan(diff).any():
        max_diff = float("nan")
    result = Comparison(name=name, allclose=ok, max_diff=max_diff, shape=tuple(x.shape),
                        printed=not quiet, atol=atol, rtol=rtol)
    if not quiet:
        print(result)
    return result
