"""course_utils.bench: the framework-free benchmarking core and the CPU peak reader (lesson 12)."""
from __future__ import annotations

import math
import time

import pytest

from course_utils import bench
from course_utils.base.errors import CourseError

ZEN5 = "processor : 0\ncpu MHz : 2596.120\nflags : fpu sse sse2 avx fma avx2 avx512f avx512_bf16\n"
SKYLAKE_CLIENT = "cpu MHz : 3600.000\nflags : fpu sse sse2 avx fma avx2\n"
OLD = "cpu MHz : 2000.000\nflags : fpu sse sse2 sse4_2\n"


# --- interleaved -------------------------------------------------------------------------------

def test_interleaved_reports_medians_within_their_rounds_and_ratios():
    result = bench.interleaved({"fast": lambda: None, "slow": lambda: time.sleep(0.002)}, rounds=5, number=2)
    for t in result.timings.values():
        assert len(t.seconds) == 5 and t.number == 2
        assert t.low <= t.median <= t.high and t.spread >= 0
    assert result.ratio("slow", "fast") > 10
    assert result["slow"].median >= 0.002


def test_interleaved_rotates_the_order_and_warms_up():
    calls = []
    result = bench.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"),
                                "c": lambda: calls.append("c")}, rounds=3, warmup=2, number=1)
    assert result.order == (("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b"))
    assert calls[:6] == ["a", "a", "b", "b", "c", "c"]          # warm-up first, untimed
    assert len(calls) == 6 + 3 * 3


def test_interleaved_calls_sync_before_and_after_each_timed_block():
    events = []
    bench.interleaved({"x": lambda: events.append("call")}, rounds=2, warmup=0, number=3,
                      sync=lambda: events.append("sync"))
    timed = events[events.index("call") - 1:] if events[0] == "sync" else events
    assert timed[-5:] == ["sync", "call", "call", "call", "sync"]
    assert bench.interleaved({"x": lambda: None}, rounds=1, sync=lambda: None).synchronized


def test_interleaved_calibrates_number_to_the_round_length():
    result = bench.interleaved({"sleep": lambda: time.sleep(0.001)}, rounds=1, round_seconds=0.01)
    assert 1 <= result["sleep"].number <= 10


def test_lines_and_threads_are_printable(capsys):
    result = bench.interleaved({"a": lambda: None, "b": lambda: None}, rounds=2, show=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("threads:") and len(out) == 3
    assert all("median" in line and "× the fastest" in line for line in result.lines())


@pytest.mark.parametrize("kwargs, words", [
    ({"candidates": {}}, "non-empty dict"),
    ({"candidates": [lambda: None]}, "non-empty dict"),
    ({"candidates": {"a": 3}}, "non-empty dict"),
    ({"rounds": 0}, "rounds=..."),
    ({"rounds": 2.5}, "rounds=..."),
    ({"warmup": -1}, "warmup=..."),
    ({"number": True}, "number=..."),
    ({"round_seconds": float("nan")}, "round_seconds=..."),
    ({"sync": "yes"}, "sync=..."),
    ({"show": None}, "show=..."),
])
def test_interleaved_bad_arguments_are_one_line_course_errors(kwargs, words):
    args = {"candidates": {"a": lambda: None}, **kwargs}
    with pytest.raises(CourseError) as info:
        bench.interleaved(**args)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_failing_candidate_is_named_in_one_line():
    with pytest.raises(CourseError, match="ZeroDivisionError"):
        bench.interleaved({"bad": lambda: 1 / 0})


def test_unknown_candidate_name():
    result = bench.interleaved({"a": lambda: None}, rounds=1)
    with pytest.raises(CourseError, match="no such candidate"):
        result["b"]


# --- flops -------------------------------------------------------------------------------------

def test_matmul_flops_and_gflops():
    assert bench.matmul_flops(1024) == 2 * 1024**3
    assert bench.matmul_flops(2, 3, 4) == 48
    assert bench.gflops(2e9, 0.5) == 4.0
    with pytest.raises(CourseError):
        bench.gflops(1e9, 0)
    with pytest.raises(CourseError):
        bench.matmul_flops(0)


# --- the CPU peak ------------------------------------------------------------------------------

def test_flags_and_lanes_from_a_cpuinfo_text():
    flags = bench.cpu_flags(ZEN5)
    assert {"avx512f", "avx512_bf16", "fma"} <= flags
    assert bench.simd_lanes(flags) == (16, "AVX-512 (512-bit)")
    assert bench.simd_lanes(flags, "float64")[0] == 8
    assert bench.simd_lanes(bench.cpu_flags(SKYLAKE_CLIENT))[0] == 8
    assert bench.simd_lanes(bench.cpu_flags(OLD))[0] == 4
    assert bench.simd_lanes({"asimd"}) == (4, "NEON (128-bit)")


@pytest.mark.parametrize("cpuinfo, cores, expected", [
    (ZEN5, 2, 2 * 2 * 16 * 2 * 2.59612),
    (SKYLAKE_CLIENT, 4, 4 * 2 * 8 * 2 * 3.6),
    (OLD, 1, 1 * 1 * 4 * 2 * 2.0),    # no FMA: one multiply unit + one add unit = one FMA's worth
])
def test_peak_is_the_product_of_its_factors(cpuinfo, cores, expected):
    peak = bench.cpu_peak_gflops(cores=cores, cpuinfo=cpuinfo)
    assert math.isclose(peak.gflops, expected, rel_tol=1e-9)
    assert math.isclose(float(peak), expected, rel_tol=1e-9)
    assert any("FMA units" in a for a in peak.assumptions)      # the unreadable factor is stated
    assert any("GHz" in a for a in peak.assumptions)
    assert peak.lines()[0].startswith("float32 peak = ")


def test_peak_without_fma_flag_says_so():
    peak = bench.cpu_peak_gflops(cores=1, cpuinfo=OLD)
    assert any("no 'fma' flag" in a for a in peak.assumptions)


def test_peak_with_everything_given_states_no_assumption_about_it():
    peak = bench.cpu_peak_gflops(cores=2, fma_units=2, ghz=3.0, cpuinfo="flags : avx2 fma")
    assert peak.gflops == 192.0
    assert not any("FMA units" in a or "GHz" in a for a in peak.assumptions)


def test_peak_of_this_machine_is_positive():
    peak = bench.cpu_peak_gflops()
    assert peak.gflops > 0 and peak.cores == bench.usable_cores() and peak.lanes in (4, 8, 16)


def test_unreadable_flags_fall_back_clearly():
    peak = bench.cpu_peak_gflops(cores=1, cpuinfo="processor : 0\n")
    assert peak.lanes == 4 and any("no CPU flags" in a for a in peak.assumptions)


def test_clock_fallback_from_cpuinfo_text():
    ghz, source = bench.clock_ghz(SKYLAKE_CLIENT)
    assert ghz == 3.6 and "cpu MHz" in source
    ghz, source = bench.clock_ghz("flags : avx\n")          # no clock in the text: the OS or an assumption
    assert ghz > 0 and source


@pytest.mark.parametrize("kwargs", [{"cores": 0}, {"cores": "2"}, {"fma_units": 0}, {"ghz": -1.0},
                                    {"ghz": float("inf")}, {"dtype": "float16"}, {"cpuinfo": 3}])
def test_peak_bad_arguments(kwargs):
    with pytest.raises(CourseError):
        bench.cpu_peak_gflops(**kwargs)


def test_native_bf16():
    assert bench.native_bf16(bench.cpu_flags(ZEN5)) == (True, "avx512_bf16")
    assert bench.native_bf16({"amx_bf16", "avx2"})[0]
    assert not bench.native_bf16(bench.cpu_flags(SKYLAKE_CLIENT))[0]
    assert isinstance(bench.native_bf16()[0], bool)


def test_inductor_cache_dir_is_under_build_and_depends_on_the_cpu_settings(monkeypatch):
    monkeypatch.delenv("ATEN_CPU_CAPABILITY", raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.delenv("MKL_CBWR", raising=False)
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    native = bench.inductor_cache_dir()
    assert native.parts[-4:] == ("build", "cache", "inductor", "native") and native.is_dir()
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    other = bench.inductor_cache_dir()
    assert other != native and other.parent == native.parent


def test_thread_line_names_the_imported_frameworks():
    import torch

    line = bench.thread_line()
    assert line.startswith("threads: ") and f"torch intra-op {torch.get_num_threads()}" in line
    assert "torch" in bench.thread_counts()


def test_bench_imports_no_framework():
    import subprocess
    import sys

    code = "import sys, course_utils.bench; print('torch' in sys.modules or 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_synchronize_hooks_return_at_once_on_a_cpu():
    from course_utils import pt_utils, tf_utils

    assert pt_utils.synchronize() is None and tf_utils.synchronize() is None
    result = bench.interleaved({"x": lambda: None}, rounds=1, sync=tf_utils.synchronize)
    assert result.synchronized


# --- lesson 12's measured bound (course_utils.lessons.perf) --------------------------------------

def test_measured_fma_rate_bounds_a_one_thread_matmul():
    import numpy as np

    from course_utils.lessons import perf

    rate, how = perf.fma_gflops_per_core(repeats=3)
    if rate is None:
        pytest.skip(f"no FMA measurement here: {how}")
    assert "FMA" in how and rate > 0
    threads, _ = perf.pin_numpy_threads(1)
    try:
        a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
        best = min(_timed(lambda: a @ a) for _ in range(5))
        assert bench.gflops(bench.matmul_flops(512), best) <= rate or perf.matrix_engine()
    finally:
        if threads is not None:
            perf.pin_numpy_threads(bench.usable_cores())


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_pin_numpy_threads_sets_and_reports_the_count():
    from course_utils.lessons import perf

    threads, how = perf.pin_numpy_threads(1)
    if threads is None:
        assert "not a bundled OpenBLAS" in how
        return
    assert threads == 1
    assert perf.pin_numpy_threads(2)[0] == 2
    perf.pin_numpy_threads(bench.usable_cores())


def test_no_stored_fraction_of_peak_in_lesson_12_is_above_one():
    """Issue 28 / 12-1: the stored table of fractions of the bound never exceeds 1."""
    import json
    import re

    from course_utils.base.paths import course_root

    nb = json.loads((course_root() / "notebooks" / "12_performance.ipynb").read_text())
    texts = ["".join(out.get("text", "")) for cell in nb["cells"] if cell["cell_type"] == "code"
             for out in cell.get("outputs", []) if out.get("output_type") == "stream"]
    tables = [t for t in texts if t.startswith("fraction of the bound")]
    assert len(tables) == 1, "the fraction-of-peak table is printed once, after its header line"
    rows = [line.split() for line in tables[0].splitlines()[1:] if re.match(r"^\d+\s", line)]
    fractions = [float(x) for row in rows for x in row[1:4]]
    assert len(rows) == 7 and len(fractions) == 21
    assert max(fractions) <= 1.0, f"a stored fraction of peak above 1: {max(fractions)}"
    assert min(fractions) >= 0
