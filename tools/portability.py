"""Run a command as if on another CPU: the libraries' own run-time dispatch switches, one place.

    python tools/portability.py narrow -- pytest --nbval notebooks/...   # run under a variant
    python tools/portability.py --list                                   # what each variant switches

A stored notebook output must hold on every learner's machine. We cannot borrow an Apple M2 or
an older Intel laptop in CI, but each numeric library picks its kernels at run time and lets an
environment variable cap that choice, so one machine can run the kernels another CPU would:

* ``ATEN_CPU_CAPABILITY``   torch's own ATen kernels (elementwise ops, reductions, softmax);
* ``ONEDNN_MAX_CPU_ISA``    oneDNN, used by torch (convolutions, some matmuls) and by TensorFlow's
                            matmul/contraction kernels even with ``TF_ENABLE_ONEDNN_OPTS=0``;
* ``MKL_CBWR``              MKL's conditional numerical reproducibility: torch's BLAS (sgemm);
* ``OPENBLAS_CORETYPE``     NumPy's BLAS (OpenBLAS kernel family);
* ``NPY_DISABLE_CPU_FEATURES`` NumPy's own SIMD loops;
* thread counts: the frameworks' defaults (``OMP_NUM_THREADS``, ``TF_NUM_INTRAOP_THREADS``) or the
  CPUs visible to the process (``taskset``), which ``cu.setup`` must override.

``tests/test_portability.py`` runs inside each variant and proves, from a real course kernel, that
every switch reached the library (or reports why it cannot on this CPU).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# NumPy SIMD targets above x86-64-v3 (AVX2); disabled where the machine has them. Only features the
# CPU has may be named (NumPy refuses to "disable" one it does not have), see numpy_features_above().
NUMPY_WIDE = ("X86_V4", "AVX512_ICL", "AVX512_SPR", "AVX512F", "AVX512_SKX", "AVX512_CLX", "AVX512_CNL")
NUMPY_ALL_DISPATCH = NUMPY_WIDE + ("X86_V3", "AVX2", "FMA3", "AVX", "F16C", "AVX512CD")

VARIANTS: dict[str, dict] = {
    # In `make test`: the narrowest kernels every library offers (128-bit vectors, like SSE4 or
    # an Apple/ARM NEON unit) and framework thread defaults of 1 that cu.setup must override.
    "narrow": {
        "about": "128-bit kernels in every library, framework thread defaults of 1",
        "env": {
            "ATEN_CPU_CAPABILITY": "default",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "MKL_CBWR": "COMPATIBLE",
            "OPENBLAS_CORETYPE": "Prescott",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TF_NUM_INTRAOP_THREADS": "1",
        },
        "numpy_disable": NUMPY_ALL_DISPATCH,
        "cpus": None,
    },
    # In `make test-portable`: the commonest learner laptop (AVX2 + FMA, no AVX-512).
    "avx2": {
        "about": "AVX2 kernels (a typical Intel/AMD laptop without AVX-512), all cores",
        "env": {
            "ATEN_CPU_CAPABILITY": "avx2",
            "ONEDNN_MAX_CPU_ISA": "AVX2",
            "MKL_CBWR": "AVX2",
            "OPENBLAS_CORETYPE": "Haswell",
        },
        "numpy_disable": NUMPY_WIDE,
        "cpus": None,
    },
    # In `make test-portable`: a machine with one core (the process sees one CPU).
    "one-core": {
        "about": "one visible CPU (taskset): every framework default drops to 1 thread",
        "env": {},
        "numpy_disable": (),
        "cpus": "0",
    },
}


def numpy_features_present(names: tuple[str, ...]) -> list[str]:
    """The NumPy dispatch targets among ``names`` that this CPU has (only those can be disabled)."""
    code = ("import json, numpy._core._multiarray_umath as m; "
            "print(json.dumps([k for k, v in m.__cpu_features__.items() if v]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"})
    have = set(json.loads(out.stdout)) if out.returncode == 0 else set()
    dispatch = set()
    out2 = subprocess.run([sys.executable, "-c", "import json, numpy._core._multiarray_umath as m; "
                           "print(json.dumps(list(m.__cpu_dispatch__)))"], capture_output=True, text=True)
    if out2.returncode == 0:
        dispatch = set(json.loads(out2.stdout))
    return [n for n in names if n in have and n in dispatch]


def variant_env(name: str) -> dict[str, str]:
    """The environment variables variant ``name`` sets (NumPy's list fitted to this CPU)."""
    spec = VARIANTS[name]
    env = dict(spec["env"])
    disable = numpy_features_present(tuple(spec["numpy_disable"]))
    if disable:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disable)
    env["COURSE_PORTABILITY_VARIANT"] = name
    # A torch.compile cache built under other ISA settings can fail to load (CppCompileError):
    # each variant compiles into its own folder.
    env["TORCHINDUCTOR_CACHE_DIR"] = str(ROOT / "build" / "cache" / f"inductor-{name}")
    return env


def main(argv: list[str]) -> int:
    if argv[:1] == ["--list"]:
        for name, spec in VARIANTS.items():
            cpus = f"; taskset -c {spec['cpus']}" if spec["cpus"] else ""
            print(f"{name:<9} {spec['about']}")
            print(f"          {' '.join(f'{k}={v}' for k, v in variant_env(name).items())}{cpus}")
        return 0
    if len(argv) < 3 or argv[1] != "--" or argv[0] not in VARIANTS:
        print(f"usage: python tools/portability.py {{{'|'.join(VARIANTS)}}} -- COMMAND... | --list", file=sys.stderr)
        return 2
    name, command = argv[0], argv[2:]
    spec = VARIANTS[name]
    env = {**os.environ, **variant_env(name)}
    if spec["cpus"] is not None:
        if shutil.which("taskset") is None:
            print(f"error: variant {name!r} needs taskset (util-linux) to limit the visible CPUs", file=sys.stderr)
            return 2
        command = ["taskset", "-c", spec["cpus"], *command]
    shown = " ".join(f"{k}={v}" for k, v in variant_env(name).items() if k != "TORCHINDUCTOR_CACHE_DIR")
    print(f"portability variant {name!r}: {spec['about']}\n  {shown}"
          + (f"\n  taskset -c {spec['cpus']}" if spec["cpus"] else ""), flush=True)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
