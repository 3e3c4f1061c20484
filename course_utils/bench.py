"""Fair benchmarking, framework-free: warm-up, a sync hook, interleaved rounds, medians with their
spread, ratios, the thread counts; and the CPU's theoretical float32 peak read from its flags.

The rules it follows (lesson 12 teaches them):

1. **Warm up** before timing: the first calls pay for tracing, compiling, allocating, caching.
2. **Synchronise** before reading the clock: a GPU returns before its work is done; the ``sync``
   hook (``pt_utils.synchronize`` / ``tf_utils.synchronize``) waits for it.
3. **Interleave** the candidates, round after round (A B C, B C A, C A B, ...), so that a burst of
   load from another process hits all of them, not the one that happened to run then.
4. **Report the median and the spread** (min-max over the rounds), never one run.
5. **Compare ratios** between candidates measured together, not absolute times across machines.
6. **Fix and print the thread counts**: they change both the speed and the last digits.

Nothing here imports torch or TensorFlow (it reads their thread counts only if they are imported).

Used in: 12_performance.
"""
from __future__ import annotations

import math
import numbers
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .base.errors import CourseError


def _fail(where: str, name: str, expected: str, value: Any) -> CourseError:
    text = (repr(value).splitlines() or [""])[0]
    text = text if len(text) <= 40 else text[:37] + "..."
    return CourseError(f"{where}({name}=...): expected {expected}, found {type(value).__name__} {text}.")


def _whole(value: Any, name: str, where: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)) \
            or int(value) < minimum or (maximum is not None and int(value) > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise _fail(where, name, f"a whole number {bounds}", value)
    return int(value)


def _positive(value: Any, name: str, where: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)) \
            or not math.isfinite(float(value)) or float(value) <= 0:
        raise _fail(where, name, "a finite number > 0", value)
    return float(value)


# --- timing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    """One candidate's seconds per call, one value per round."""

    name: str
    seconds: tuple[float, ...]
    number: int  # calls per round (each round's value is its total / number)

    @property
    def median(self) -> float:
        return float(np.median(self.seconds))

    @property
    def low(self) -> float:
        return float(min(self.seconds))

    @property
    def high(self) -> float:
        return float(max(self.seconds))

    @property
    def spread(self) -> float:
        """(max - min) / median over the rounds: 0.05 means the rounds lay within 5 % of the median."""
        return (self.high - self.low) / self.median if self.median > 0 else 0.0


@dataclass(frozen=True)
class Benchmark:
    """What ``interleaved`` measured: a ``Timing`` per candidate, and the settings it ran under."""

    timings: dict[str, Timing]
    rounds: int
    warmup: int
    synchronized: bool
    threads: str = ""
    order: tuple[tuple[str, ...], ...] = field(default=(), repr=False)

    def __getitem__(self, name: str) -> Timing:
        if name not in self.timings:
            raise CourseError(f"Benchmark[{name!r}]: no such candidate; measured: {', '.join(self.timings)}.")
        return self.timings[name]

    def ratio(self, a: str, b: str) -> float:
        """Median time of ``a`` / median time of ``b``: 2.0 means ``a`` takes twice as long as ``b``."""
        return self[a].median / self[b].median

    def lines(self, unit: str = "auto") -> list[str]:
        """A small table: median, min-max over the rounds, and each time relative to the fastest."""
        fastest = min(t.median for t in self.timings.values())
        scale, label = _unit(fastest if unit == "auto" else {"s": 1, "ms": 1e-3, "µs": 1e-6}[unit])
        width = max(len(n) for n in self.timings)
        out = []
        for t in self.timings.values():
            out.append(f"{t.name:<{width}}  median {t.median / scale:8.2f} {label}  "
                       f"(min {t.low / scale:.2f} – max {t.high / scale:.2f}, {len(t.seconds)} rounds × {t.number})"
                       f"  {t.median / fastest:5.2f}× the fastest")
        return out


def _unit(seconds: float) -> tuple[float, str]:
    if seconds >= 0.1:
        return 1.0, "s"
    if seconds >= 1e-4:
        return 1e-3, "ms"
    return 1e-6, "µs"


def thread_counts() -> dict[str, dict[str, int]]:
    """The intra-op / inter-op thread counts of each imported framework (TensorFlow: 0 = its default).

    >>> thread_counts()             # doctest: +SKIP
    {'torch': {'intra-op': 2, 'inter-op': 1}, 'tensorflow': {'intra-op': 2, 'inter-op': 0}}
    """
    counts: dict[str, dict[str, int]] = {}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        counts["torch"] = {"intra-op": torch.get_num_threads(), "inter-op": torch.get_num_interop_threads()}
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        counts["tensorflow"] = {"intra-op": threading.get_intra_op_parallelism_threads(),
                                "inter-op": threading.get_inter_op_parallelism_threads()}
    return counts


def thread_line() -> str:
    """``thread_counts()`` as one line, for the top of every benchmark's report.

    >>> thread_line()               # doctest: +SKIP
    'threads: torch intra-op 2, inter-op 1 | tensorflow intra-op 2, inter-op 0 (= its default)'
    """
    parts = []
    for fw, c in thread_counts().items():
        default = " (= its default)" if fw == "tensorflow" and 0 in c.values() else ""
        parts.append(f"{fw} intra-op {c['intra-op']}, inter-op {c['inter-op']}{default}")
    return "threads: " + (" | ".join(parts) if parts else "(no framework imported)")


def _calibrate(fn: Callable[[], Any], sync: Callable[[], Any], target: float) -> int:
    """How many calls make one round last about ``target`` seconds (at least 1)."""
    start = time.perf_counter()
    fn()
    sync()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(100_000, int(target / once)))


def interleaved(candidates: dict[str, Callable[[], Any]], rounds: int = 7, warmup: int = 2,
                sync: Callable[[], Any] | None = None, number: int | None = None,
                round_seconds: float = 0.02, show: bool = False) -> Benchmark:
    """Time each candidate fairly against the others; return a ``Benchmark`` (medians, spreads, ratios).

    Each candidate (a function of no arguments) is called ``warmup`` times untimed, then ``rounds``
    rounds are run; a round calls every candidate ``number`` times in a row (calibrated to about
    ``round_seconds`` per candidate when ``number`` is None), and the candidates take turns starting
    the rounds (A B C, B C A, ...). ``sync()`` is called before the clock starts and before it
    stops: pass ``pt_utils.synchronize`` / ``tf_utils.synchronize`` (a no-op on a CPU) so that
    queued GPU work is counted. ``show=True`` prints the thread counts and the table.

    >>> b = interleaved({"sum": lambda: sum(range(100)), "np": lambda: np.arange(100).sum()}, rounds=3)
    >>> b["sum"].low <= b["sum"].median <= b["sum"].high
    True

    Used in: 12_performance.
    """
    where = "bench.interleaved"
    if not isinstance(candidates, dict) or not candidates \
            or not all(isinstance(k, str) and callable(v) for k, v in candidates.items()):
        raise _fail(where, "candidates", "a non-empty dict {name: function of no arguments}", candidates)
    rounds = _whole(rounds, "rounds", where, 1, 1000)
    warmup = _whole(warmup, "warmup", where, 0, 1000)
    if number is not None:
        number = _whole(number, "number", where, 1, 10**7)
    round_seconds = _positive(round_seconds, "round_seconds", where)
    if sync is not None and not callable(sync):
        raise _fail(where, "sync", "a function of no arguments (e.g. pt_utils.synchronize) or None", sync)
    if not isinstance(show, (bool, np.bool_)):
        raise _fail(where, "show", "True or False", show)
    wait = sync if sync is not None else (lambda: None)
    names = list(candidates)
    try:
        for name in names:
            for _ in range(warmup):
                candidates[name]()
            wait()
        numbers_ = {name: number or _calibrate(candidates[name], wait, round_seconds) for name in names}
        samples: dict[str, list[float]] = {name: [] for name in names}
        orders = []
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            orders.append(tuple(order))
            for name in order:
                fn, n = candidates[name], numbers_[name]
                wait()
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                wait()
                samples[name].append((time.perf_counter() - start) / n)
    except CourseError:
        raise
    except Exception as exc:  # a candidate that fails: say which, in one line
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise CourseError(f"{where}: a candidate raised {type(exc).__name__}: {first}") from exc
    result = Benchmark({n: Timing(n, tuple(samples[n]), numbers_[n]) for n in names}, rounds, warmup,
                       sync is not None, thread_line(), tuple(orders))
    if show:
        print(result.threads)
        for line in result.lines():
            print(line)
    return result


def matmul_flops(n: int, m: int | None = None, k: int | None = None) -> int:
    """Floating-point operations of an (n×k) @ (k×m) product: 2·n·m·k (one multiply and one add each).

    >>> matmul_flops(1024)
    2147483648
    """
    n = _whole(n, "n", "bench.matmul_flops", 1)
    m = n if m is None else _whole(m, "m", "bench.matmul_flops", 1)
    k = n if k is None else _whole(k, "k", "bench.matmul_flops", 1)
    return 2 * n * m * k


def gflops(flops: float, seconds: float) -> float:
    """GFLOP/s: ``flops / seconds / 1e9``.

    >>> gflops(2e9, 0.5)
    4.0
    """
    return _positive(flops, "flops", "bench.gflops") / _positive(seconds, "seconds", "bench.gflops") / 1e9


# --- the machine's limit -----------------------------------------------------------------------

def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it, else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags, lower case: from ``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS.

    ``cpuinfo`` is the text of a ``/proc/cpuinfo`` to read instead (for tests). On Apple Silicon the
    flags are ``neon`` (always there) and ``bf16`` when ``hw.optional.arm.FEAT_BF16`` says so.

    >>> sorted(cpu_flags("flags : fpu sse avx2 fma"))
    ['avx2', 'fma', 'fpu', 'sse']
    """
    if cpuinfo is None and Path("/proc/cpuinfo").exists():
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    if cpuinfo is not None:
        m = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", cpuinfo, flags=re.M)
        return frozenset(m.group(1).lower().split()) if m else frozenset()
    if platform.system() == "Darwin":
        if platform.machine() == "arm64":
            return frozenset({"neon"} | ({"bf16"} if _sysctl("hw.optional.arm.FEAT_BF16") == "1" else set()))
        text = " ".join(_sysctl(k) for k in ("machdep.cpu.features", "machdep.cpu.leaf7_features"))
        return frozenset(text.lower().replace(".", "_").split())
    return frozenset()


def simd_lanes(flags: frozenset[str] | set[str], dtype: str = "float32") -> tuple[int, str]:
    """(values per vector register, which instruction set) for the widest SIMD the flags list.

    >>> simd_lanes({"avx2", "fma"})
    (8, 'AVX2 (256-bit)')
    """
    bits, name = 128, "SSE (128-bit)"
    if "avx512f" in flags:
        bits, name = 512, "AVX-512 (512-bit)"
    elif "avx2" in flags or "avx" in flags:
        bits, name = 256, ("AVX2" if "avx2" in flags else "AVX") + " (256-bit)"
    elif flags & {"neon", "asimd"}:
        name = "NEON (128-bit)"
    return bits // {"float32": 32, "float64": 64}[dtype], name


def clock_ghz(cpuinfo: str | None = None) -> tuple[float, str]:
    """(GHz, where it came from): the max frequency from cpufreq, else /proc/cpuinfo's 'cpu MHz',
    else macOS' sysctl; on Apple Silicon (which reports none) an assumed 3.2 GHz, said so."""
    max_freq = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    if cpuinfo is None and max_freq.exists():
        try:
            return int(max_freq.read_text()) / 1e6, "cpufreq's cpuinfo_max_freq (the highest boost may be above it)"
        except (OSError, ValueError):
            pass
    if cpuinfo is None and Path("/proc/cpuinfo").exists():
        cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    if cpuinfo is not None:
        m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, flags=re.M)
        if m:
            return float(m.group(1)) / 1000, ("/proc/cpuinfo's 'cpu MHz' (on a VM often the base/TSC rate; "
                                               "boost clocks may be higher)")
    hz = _sysctl("hw.cpufrequency_max") or _sysctl("hw.cpufrequency")
    if hz.isdigit():
        return int(hz) / 1e9, "sysctl hw.cpufrequency"
    return 3.2, "ASSUMED 3.2 GHz: this OS reports no clock (Apple Silicon P-cores run at about 3.2-4.4 GHz)"


@dataclass(frozen=True)
class Peak:
    """A theoretical peak: cores × FMA units × lanes × 2 × GHz, with every factor's source."""

    cores: int
    fma_units: int
    lanes: int
    ghz: float
    isa: str
    dtype: str
    assumptions: tuple[str, ...]

    FORMULA = "cores × FMA units per core × SIMD lanes × 2 (an FMA is a multiply and an add) × GHz"

    @property
    def gflops(self) -> float:
        return self.cores * self.fma_units * self.lanes * 2 * self.ghz

    def __float__(self) -> float:
        return self.gflops

    def lines(self) -> list[str]:
        return [f"{self.dtype} peak = {self.cores} cores × {self.fma_units} FMA units × {self.lanes} lanes "
                f"({self.isa}) × 2 × {self.ghz:.2f} GHz = {self.gflops:.0f} GFLOP/s"] + \
               [f"  assumption: {a}" for a in self.assumptions]


def cpu_peak_gflops(cores: int | None = None, fma_units: int | None = None, ghz: float | None = None,
                    dtype: str = "float32", cpuinfo: str | None = None) -> Peak:
    """The CPU's theoretical peak for ``dtype`` matrix arithmetic, from its flags and clock.

    Read from the machine: the SIMD width (AVX-512 → 16 float32 lanes, AVX/AVX2 → 8, SSE/NEON → 4)
    and the clock (``clock_ghz``). Not readable, so assumed and listed in ``Peak.assumptions``:
    2 FMA units per core (most x86 cores since Haswell / Zen; Apple's P-cores: 4), each as wide
    as the widest vector (false for Zen 4 and Zen 5 mobile, which split AVX-512 into 256-bit
    halves, for Zen 1 with AVX2, for Intel parts with one 512-bit FMA unit and for hybrid E-cores:
    the peak then is half), and on a CPU without the ``fma`` flag one multiply unit plus one add
    unit, counted as one FMA unit. Apple's AMX/SME matrix units are outside the formula. On a VM
    the clock read is often the nominal one, below the boost: lesson 12 also measures one core
    (``course_utils.lessons.perf``). ``cores`` defaults to ``usable_cores()``; pass the
    thread count you benchmark with.

    >>> cpu_peak_gflops(cores=2, fma_units=2, ghz=3.0, cpuinfo="flags : avx2 fma").gflops
    192.0

    Used in: 12_performance.
    """
    where = "bench.cpu_peak_gflops"
    if dtype not in ("float32", "float64"):
        raise _fail(where, "dtype", '"float32" or "float64"', dtype)
    if cpuinfo is not None and not isinstance(cpuinfo, str):
        raise _fail(where, "cpuinfo", "the text of a /proc/cpuinfo, or None", cpuinfo)
    assumptions = []
    flags = cpu_flags(cpuinfo)
    if not flags:
        assumptions.append("no CPU flags readable here: assumed 128-bit SIMD (SSE/NEON)")
    lanes, isa = simd_lanes(flags, dtype)
    if cores is None:
        cores = usable_cores() if cpuinfo is None else 1
        assumptions.append(f"{cores} cores: all this process may use")
    cores = _whole(cores, "cores", where, 1, 4096)
    apple = platform.system() == "Darwin" and platform.machine() == "arm64" and cpuinfo is None
    if fma_units is None:
        no_fma = bool(flags) and not flags & {"fma", "neon", "asimd"}
        fma_units = 4 if apple else 1 if no_fma else 2
        assumptions.append(f"FMA units per core: {fma_units}, each "
                           f"{isa.split()[-1].strip('()')} wide (not readable from the flags; the true peak is "
                           "half on Zen 4 and Zen 5 mobile (AVX-512 as 256-bit halves), Zen 1 (AVX2 as 128-bit "
                           "halves), Intel parts with one 512-bit FMA unit (Ice/Tiger/Rocket Lake, Xeon "
                           "Bronze/Silver), and on hybrid laptops' E-cores (128-bit units))")
        if no_fma:
            assumptions.append("no 'fma' flag: one multiply unit and one add unit, counted together as one FMA unit")
    if apple:
        assumptions.append("Apple M-series: Accelerate's sgemm runs on the AMX/SME matrix units, outside this "
                           "formula: measured speeds can exceed it")
    fma_units = _whole(fma_units, "fma_units", where, 1, 64)
    if ghz is None:
        ghz, source = clock_ghz(cpuinfo)
        assumptions.append(f"{ghz:.2f} GHz from {source}")
    ghz = _positive(ghz, "ghz", where)
    return Peak(cores, fma_units, lanes, ghz, isa, dtype, tuple(assumptions))


def native_bf16(flags: frozenset[str] | set[str] | None = None) -> tuple[bool, str]:
    """(does this CPU compute bfloat16 in hardware?, which flag says so) — avx512_bf16, amx_bf16 or ARM bf16.

    >>> native_bf16({"avx2", "fma"})
    (False, 'no avx512_bf16 / amx_bf16 / bf16 flag')
    """
    flags = cpu_flags() if flags is None else frozenset(flags)
    found = sorted(flags & {"avx512_bf16", "amx_bf16", "bf16"})
    return (True, ", ".join(found)) if found else (False, "no avx512_bf16 / amx_bf16 / bf16 flag")


def inductor_cache_dir() -> Path:
    """Where ``torch.compile`` should keep its kernels: ``build/cache/inductor/<cpu-settings>`` in the repo.

    A cache built under one CPU-dispatch setting (``ATEN_CPU_CAPABILITY``, ``ONEDNN_MAX_CPU_ISA``)
    can fail to load under another, so each combination gets its own folder. Set it as
    ``os.environ["TORCHINDUCTOR_CACHE_DIR"]`` before the first compile.

    Used in: 12_performance.
    """
    from .base.paths import learner_root

    keys = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR", "OPENBLAS_CORETYPE")
    tag = "-".join(os.environ.get(k, "") for k in keys).strip("-").replace("/", "_") or "native"
    path = learner_root() / "cache" / "inductor" / re.sub(r"[^\w.-]+", "_", tag)
    path.mkdir(parents=True, exist_ok=True)
    return path
