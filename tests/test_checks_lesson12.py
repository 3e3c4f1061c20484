"""The 12_performance exercise checks: right answers pass in any reasonable form; typical mistakes say why."""
import numpy as np
import pytest
import tensorflow as tf
import torch

import course_utils as cu
from check_support import assert_right, assert_wrong, first_try, one_line  # noqa: F401 - first_try is autouse
from course_utils.check import core
from course_utils.check.lesson12 import EAGER_MS, GRAPH_MS, PEAK_FACTORS, PEAK_N, PEAK_SECONDS


def test_the_solution_comes_after_three_wrong_tries():
    for wrong in ({"A"}, {"A", "B"}, {"A", "D"}):
        verdict = cu.check.unfair_benchmark(wrong, quiet=True)
    assert not verdict and 'answer = {"A", "B", "C"}' in str(verdict)


# --- 12.1 unfair benchmark ----------------------------------------------------------------------

@pytest.mark.parametrize("answer", [{"A", "B", "C"}, ["c", "b", "a"], ("A", "B", "C"), "ABC", "A, B, C",
                                    frozenset("ABC")])
def test_unfair_benchmark_right(answer):
    assert cu.check.unfair_benchmark(answer, quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (None, "expected a set of letters"),
    (set(), "empty"),
    ({"A", "B"}, "2 of the 3"),                     # missed the thread counts
    ({"A", "B", "C", "D"}, "D is not a flaw"),     # thinks a ratio is unfair
    ({"A", "B", "C", "E"}, "E does not apply"),    # GPU sync on a CPU
    ({"A", "F"}, "'F' is not one of"),
    ([1, 2], "a letter in quotes"),
])
def test_unfair_benchmark_wrong(answer, words):
    verdict = cu.check.unfair_benchmark(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_unfair_benchmark_does_not_hand_out_the_answer():
    verdict = cu.check.unfair_benchmark({"A"}, quiet=True)
    assert "{'A', 'B', 'C'}" not in str(verdict) and '"C"' not in str(verdict)


# --- 12.2 fraction of peak ----------------------------------------------------------------------

def right_fraction():
    cores, fma, lanes, ghz = PEAK_FACTORS
    return (2 * PEAK_N**3 / PEAK_SECONDS / 1e9) / (cores * fma * lanes * 2 * ghz)


@pytest.mark.parametrize("make", [float, np.float32, torch.tensor, tf.constant, lambda v: round(v, 2)])
def test_fraction_of_peak_right_in_any_form(make):
    assert cu.check.fraction_of_peak(make(right_fraction()), quiet=True)


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    ("0.7", "a str"),
    (100 * right_fraction(), "percentage"),
    (right_fraction() / 2, "2·n³"),                      # counted n³ operations
    (right_fraction() * 2, "factor 2"),                  # peak without the FMA's 2
    (1 / right_fraction(), "upside down"),
    (PEAK_N**2 * 2 / PEAK_SECONDS / 1e9 / 384, "not it"),  # n² instead of n³
    (float("nan"), "NaN"),
    (torch.ones(2), "shape (2,)"),
    (True, "a bool"),
])
def test_fraction_of_peak_wrong(answer, words):
    verdict = cu.check.fraction_of_peak(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)
    assert f"{right_fraction():.3f}" not in str(verdict)


# --- 12.3 median speed-up -----------------------------------------------------------------------

def test_median_speedup_right():
    right = np.median(EAGER_MS) / np.median(GRAPH_MS)
    assert cu.check.median_speedup(float(right), quiet=True)
    assert cu.check.median_speedup(torch.tensor(right), quiet=True)
    assert cu.check.median_speedup(tf.constant(right, tf.float32), quiet=True)
    # the median of the per-round ratios is a fair answer too
    verdict = cu.check.median_speedup(float(np.median(np.array(EAGER_MS) / np.array(GRAPH_MS))), quiet=True)
    assert verdict and "median of the per-round" in " ".join(str(verdict).split())


@pytest.mark.parametrize("answer, words", [
    (..., "not attempted yet"),
    (float(np.mean(EAGER_MS) / np.mean(GRAPH_MS)), "means"),
    (float(np.median(GRAPH_MS) / np.median(EAGER_MS)), "upside down"),
    (float(min(EAGER_MS) / min(GRAPH_MS)), "fastest rounds"),
    (3.0, "not it"),
    ([4.0], "a list"),
    (float(np.mean(np.array(EAGER_MS) / np.array(GRAPH_MS))), "not it"),   # mean of per-round ratios
    (9.80 / 3.90, "not it"),                                                # the disturbed round alone
    ("4.1", "a str"),
])
def test_median_speedup_wrong(answer, words):
    verdict = cu.check.median_speedup(answer, quiet=True)
    assert not verdict
    assert words in one_line(verdict)


def test_check_prints_one_line(capsys):
    cu.check.fraction_of_peak(right_fraction())
    out = capsys.readouterr().out
    assert out.startswith("Exercise 12.2 — correct.") and out.count("\n") <= 2


def test_no_formula_before_the_third_try():
    for answer in (0.5, PEAK_N**2 * 2 / PEAK_SECONDS / 1e9 / 384):             # tries 1 and 2
        text = str(cu.check.fraction_of_peak(answer, quiet=True)) + str(cu.check.median_speedup(answer, quiet=True))
        assert "2·n³ / seconds" not in text and "np.median" not in text and "the code:" not in text, text


# --- every solution runs in a namespace holding what the lesson defines before it, and passes ------

@pytest.mark.parametrize("exercise", ["12.1", "12.2", "12.3"])
def test_each_solution_runs_after_the_lessons_setup_and_passes(exercise):
    namespace = {"np": np, "eager_ms": list(EAGER_MS), "graph_ms": list(GRAPH_MS)}
    exec(core.SOLUTIONS[exercise]["any"], namespace)
    check = {"12.1": cu.check.unfair_benchmark, "12.2": cu.check.fraction_of_peak,
             "12.3": cu.check.median_speedup}[exercise]
    assert_right(check, namespace["answer"])
