"""Lesson 12's plumbing: pin NumPy's BLAS threads, and measure one core's float32 FMA throughput.

The peak formula (``bench.cpu_peak_gflops``) multiplies factors read from the flags and the clock
the OS reports. On a VM that clock is the nominal (TSC) rate, and one core boosts above it; the
number of FMA units is assumed. A **measured** bound has neither problem: a tiny C loop of
independent vector FMAs (the widest this compiler and CPU offer: AVX-512, AVX2+FMA or NEON) keeps
every FMA unit busy, and its rate per second of the thread's own CPU time (which a busy machine
does not inflate) is what one core can do. No matmul on that core can beat it, unless a library
uses a unit outside the vector FMA units (Apple's AMX/SME matrix engines: there the bound does not
hold, and ``fma_gflops_per_core`` says so).

Used in: 12_performance.
"""
from __future__ import annotations

import ctypes
import glob
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_FMA_C = r"""
#include <time.h>
#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 vec;
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SET1 _mm512_set1_ps
#define LANES 16
#define ACC 16
#define ISA "AVX-512 (512-bit)"
#elif defined(__FMA__) && defined(__AVX2__)
#include <immintrin.h>
typedef __m256 vec;
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SET1 _mm256_set1_ps
#define LANES 8
#define ACC 12
#define ISA "AVX2 + FMA (256-bit)"
#elif defined(__ARM_NEON) || defined(__aarch64__)
#include <arm_neon.h>
typedef float32x4_t vec;
#define FMA(a, b, c) vfmaq_f32(a, b, c)
#define SET1 vdupq_n_f32
#define LANES 4
#define ACC 16
#define ISA "NEON (128-bit)"
#endif

const char *fma_isa(void) {
#ifdef LANES
    return ISA;
#else
    return "";
#endif
}

/* FLOP per second of this thread's CPU time for `iters` rounds of ACC independent FMAs. */
double fma_rate(long iters, float *sink) {
#ifdef LANES
    vec acc[ACC];
    vec b = SET1(0.999999f), c = SET1(1e-7f);
    struct timespec t0, t1;
    for (int k = 0; k < ACC; k++) acc[k] = SET1((float)k);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 16
        for (int k = 0; k < ACC; k++) acc[k] = FMA(acc[k], b, c);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    float s = 0.f;
    for (int k = 0; k < ACC; k++) { float tmp[LANES]; __builtin_memcpy(tmp, &acc[k], sizeof tmp); s += tmp[0]; }
    *sink = s;
    double dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    return dt > 0 ? 2.0 * LANES * ACC * (double)iters / dt : -1.0;
#else
    (void)iters; (void)sink;
    return -1.0;
#endif
}
"""

_LIB: ctypes.CDLL | None = None
_HOW = ""


def _compiler() -> str | None:
    return next((c for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c and shutil.which(c)), None)


def _build() -> tuple[ctypes.CDLL | None, str]:
    """Compile the FMA loop once per source and flags (cached under the learner root: build/cache/fma), load it."""
    global _LIB, _HOW
    if _LIB is not None:
        return _LIB, _HOW
    cc = _compiler()
    if cc is None:
        return None, "no C compiler found (cc, gcc, clang)"
    arm = platform.machine().lower() in ("arm64", "aarch64")
    flag_sets = [["-O2"]] if arm else [["-O2", "-march=native"], ["-O2", "-mavx2", "-mfma"]]
    try:
        from ..base.paths import learner_root
        folder = learner_root() / "cache" / "fma"
        folder.mkdir(parents=True, exist_ok=True)
    except Exception:  # a read-only checkout: a temp folder
        folder = Path(tempfile.gettempdir()) / "course_fma"
        folder.mkdir(parents=True, exist_ok=True)
    errors = []
    for flags in flag_sets:
        tag = hashlib.sha256((_FMA_C + " ".join(flags) + cc + platform.node()).encode()).hexdigest()[:12]
        lib = folder / f"fma_{tag}{'.dylib' if sys.platform == 'darwin' else '.so'}"
        if not lib.exists():
            src = folder / f"fma_{tag}.c"
            src.write_text(_FMA_C)
            tmp = lib.with_suffix(f".{os.getpid()}.tmp")
            out = subprocess.run([cc, *flags, "-shared", "-fPIC", "-o", str(tmp), str(src)],
                                 capture_output=True, text=True, timeout=120)
            if out.returncode != 0:
                errors.append((out.stderr.strip().splitlines() or ["?"])[-1][:100])
                continue
            os.replace(tmp, lib)
        handle = ctypes.CDLL(str(lib))
        handle.fma_rate.restype, handle.fma_rate.argtypes = ctypes.c_double, [ctypes.c_long,
                                                                              ctypes.POINTER(ctypes.c_float)]
        handle.fma_isa.restype = ctypes.c_char_p
        if not handle.fma_isa():
            errors.append("this compiler offers no vector FMA for this CPU")
            continue
        _LIB, _HOW = handle, f"{cc} {' '.join(flags)}"
        return _LIB, _HOW
    return None, "could not build the FMA loop: " + "; ".join(errors)


def fma_gflops_per_core(repeats: int = 7, seconds: float = 0.02) -> tuple[float | None, str]:
    """(the best measured float32 GFLOP/s of one core's vector FMA units, how it was measured).

    The best of ``repeats`` runs of about ``seconds`` each, per second of the calling thread's CPU
    time. ``None`` (with the reason) where no C compiler or no vector FMA is available.
    """
    lib, how = _build()
    if lib is None:
        return None, how
    sink = ctypes.c_float()
    iters = 10_000
    rate = lib.fma_rate(iters, ctypes.byref(sink))
    while rate > 0 and iters * 2 * 16 * 16 / rate < seconds and iters < 10**9:  # calibrate to ~seconds
        iters *= 4
        rate = lib.fma_rate(iters, ctypes.byref(sink))
    best = max([rate] + [lib.fma_rate(iters, ctypes.byref(sink)) for _ in range(repeats)])
    if best <= 0:
        return None, "the FMA loop could not be timed here"
    isa = lib.fma_isa().decode()
    return best / 1e9, (f"a loop of independent {isa} FMAs in C ({how}), the best of {repeats + 1} runs, "
                        "per second of the thread's own CPU time")


def matrix_engine() -> str:
    """A note where this CPU may run float32 matmuls outside its vector FMA units ('' elsewhere)."""
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return ("Apple M-series: Accelerate's sgemm (pip's NumPy and torch) runs on the AMX/SME matrix units, "
                "outside the vector-FMA bound: fractions above 1 are expected there")
    return ""


def _openblas():
    """NumPy's bundled OpenBLAS (its numpy.libs copy), loaded, or None."""
    import numpy as np
    libs = glob.glob(str(Path(np.__file__).parent.parent / "numpy.libs" / "*openblas*"))
    libs += glob.glob(str(Path(np.__file__).parent / ".dylibs" / "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                setter, getter = f"{prefix}set_num_threads{suffix}", f"{prefix}get_num_threads{suffix}"
                if hasattr(lib, setter) and hasattr(lib, getter):
                    return getattr(lib, setter), getattr(lib, getter)
    return None


def pin_numpy_threads(threads: int) -> tuple[int | None, str]:
    """Set NumPy's BLAS (its bundled OpenBLAS) to ``threads`` threads; return (threads now, how).

    ``None`` where NumPy's BLAS is not a bundled OpenBLAS (macOS' Accelerate, a conda MKL): then its
    thread count is the library's own, set only by environment variables before NumPy is imported.
    """
    found = _openblas()
    if found is None:
        return None, "NumPy's BLAS is not a bundled OpenBLAS: its threads are its own (all cores)"
    setter, getter = found
    setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
    setter(int(threads))
    return int(getter()), "OpenBLAS' set_num_threads (what threadpoolctl calls)"
