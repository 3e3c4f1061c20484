"""Checks for the exercises of 12_performance: spot an unfair benchmark, a fraction of peak, a median speed-up.

The exercises' inputs are written out here too, so a check never trusts the learner's cell.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..base.arrays import is_tensor_like
from .core import Wrong, as_array, describe, exercise

# Exercise 12.1: the flaws of the colleague's benchmark, on a CPU (E, GPU sync, does not apply here).
UNFAIR_OPTIONS = {"A": "no warm-up", "B": "one call each", "C": "different thread counts",
                  "D": "a ratio instead of absolute times", "E": "no GPU synchronisation"}
UNFAIR_FLAWS = frozenset({"A", "B", "C"})

# Exercise 12.2: a 1024 matmul in 8.0 ms on 4 cores × 2 FMA units × 8 lanes × 3.0 GHz.
PEAK_N, PEAK_SECONDS, PEAK_FACTORS = 1024, 8.0e-3, (4, 2, 8, 3.0)

# Exercise 12.3: ms per call in 7 interleaved rounds; round 4 was disturbed.
EAGER_MS = (2.10, 2.00, 2.05, 9.80, 2.02, 1.98, 2.07)
GRAPH_MS = (0.52, 0.50, 0.51, 3.90, 0.49, 0.50, 0.53)


def _letters(answer: Any) -> set[str]:
    if isinstance(answer, str):
        items = [c for c in answer if not c.isspace() and c not in ",;"]
    elif isinstance(answer, (set, frozenset, list, tuple)):
        items = list(answer)
    else:
        raise Wrong(f"your answer is {describe(answer)}; expected a set of letters such as {{\"A\", \"B\"}}.")
    if not all(isinstance(i, str) for i in items):
        raise Wrong("every item should be a letter in quotes, e.g. {\"A\", \"B\"}.")
    letters = {i.strip().upper() for i in items}
    unknown = sorted(letters - set(UNFAIR_OPTIONS))
    if unknown:
        raise Wrong(f"{', '.join(repr(u) for u in unknown)} is not one of the options A-E.")
    return letters


@exercise("12.1", accepts=("any",), solution='answer = {"A", "B", "C"}')
def unfair_benchmark(answer: Any) -> str:
    """The set of letters naming the real flaws of the benchmark in exercise 12.1 (on a CPU)."""
    letters = _letters(answer)
    if not letters:
        raise Wrong("the set is empty, but the benchmark has flaws: read it line by line against the rules table.")
    if "D" in letters:
        raise Wrong("D is not a flaw: a ratio of two times measured together is what a fair comparison reports; "
                    "absolute times do not carry.")
    if "E" in letters:
        raise Wrong("E does not apply here: on a CPU an operation has finished when it returns (on a GPU it "
                    "would be a flaw).")
    missing = UNFAIR_FLAWS - letters
    if missing:
        raise Wrong(f"you found {len(letters)} of the {len(UNFAIR_FLAWS)} flaws. Hint: look at what runs first, "
                    "how often each is called, and the first line.")
    return "Warm up, repeat with a median, and give both the same threads; then the ratio means something."


def _number(answer: Any, what: str) -> float:
    if isinstance(answer, (str, bytes)) or isinstance(answer, (bool, np.bool_)):
        raise Wrong(f"your answer is {describe(answer)}; expected one number ({what}).")
    if not (is_tensor_like(answer) or isinstance(answer, (int, float, np.integer, np.floating))):
        raise Wrong(f"your answer is {describe(answer)}; expected one number ({what}).")
    arr = as_array(answer, tensor=False)
    if arr.dtype.kind not in "fiu":
        raise Wrong(f"your answer holds {arr.dtype.name} values; expected one number ({what}).")
    if arr.size != 1:
        raise Wrong(f"your answer has shape {arr.shape}; expected one number ({what}).")
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise Wrong("your answer is NaN or inf; look for a division by zero.")
    return value


def _close(value: float, target: float, rel: float = 5e-3) -> bool:
    return abs(value - target) <= rel * abs(target)


@exercise("12.2", accepts=("any",), solution="answer = (2 * 1024**3 / 8.0e-3 / 1e9) / (4 * 2 * 8 * 2 * 3.0)")
def fraction_of_peak(answer: Any) -> str:
    """Achieved GFLOP/s over peak GFLOP/s for exercise 12.2: a number in [0, 1]."""
    value = _number(answer, "a fraction between 0 and 1")
    cores, fma, lanes, ghz = PEAK_FACTORS
    flops = 2 * PEAK_N**3
    peak = cores * fma * lanes * 2 * ghz                     # GFLOP/s
    achieved = flops / PEAK_SECONDS / 1e9
    right = achieved / peak
    if _close(value, 100 * right):
        raise Wrong("that is a percentage; give the fraction (between 0 and 1).")
    if _close(value, right / 2):
        raise Wrong("half the right value: an n×n matmul does n³ multiplies AND n³ adds, 2·n³ operations.")
    if _close(value, 2 * right):
        raise Wrong("twice the right value: your peak is half too small. An FMA does a multiply and an add: "
                    "does your peak count that factor 2?")
    if _close(value, 1 / right):
        raise Wrong("upside down: the fraction is achieved / peak, and it is below 1.")
    if not 0 < value <= 1:
        raise Wrong(f"{value:.4g} is not a fraction between 0 and 1: the achieved rate over the peak rate, "
                    "in the same unit.")
    if not _close(value, right):
        raise Wrong(f"{value:.4f} is not it. Hint: count the operations of the matmul, and every factor of "
                    "the peak (cores, units, lanes, FMA, clock).")
    return f"{achieved:.0f} of {peak:.0f} GFLOP/s."


@exercise("12.3", accepts=("any",), solution="answer = float(np.median(eager_ms) / np.median(graph_ms))")
def median_speedup(answer: Any) -> str:
    """How many times faster graph is than eager in exercise 12.3, from the medians of the rounds."""
    value = _number(answer, "how many times faster")
    eager, graph = np.array(EAGER_MS), np.array(GRAPH_MS)
    right = float(np.median(eager) / np.median(graph))
    if _close(value, float(eager.mean() / graph.mean())):
        raise Wrong("that is the ratio of the means: round 4's disturbance drags both. Use the medians.")
    if _close(value, 1 / right) or _close(value, float(np.median(graph) / np.median(eager))):
        raise Wrong("upside down: that is how long graph takes relative to eager; 'how many times faster' is "
                    "eager's time / graph's time.")
    if _close(value, float(eager.min() / graph.min()), rel=2e-3):
        raise Wrong("that is the ratio of the fastest rounds; the exercise asks for the medians.")
    per_round = float(np.median(eager / graph))
    if _close(value, per_round, rel=2e-3):
        return (f"The ratio of the medians is {right:.2f}; {per_round:.2f} is the median of the per-round "
                "ratios, fair too. The disturbed round changed neither.")
    if not _close(value, right):
        raise Wrong(f"{value:.4g} is not it. Hint: take the statistic that one disturbed round cannot move.")
    return (f"The disturbed round 4 did not move the medians; the ratio of the means would have said "
            f"{float(eager.mean() / graph.mean()):.1f}× instead of {right:.1f}×.")
