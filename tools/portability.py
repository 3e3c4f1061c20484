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

Two variants change the machine rather than a library's dispatch:

* ``other-python``: the command runs in a second venv (``build/venv-py3XY``, ``make venv-other``) built
  with another supported Python found here (3.12, else 3.10) and torch as a plain ``pip install`` gets
  it from PyPI's default index (on Linux the CUDA build, ``+cu130``, with ``triton``);
* ``busy``: one CPU-burning process per core runs, at the learner's priority, for the whole run (a
  laptop with a browser and a video call); it is stopped afterwards whatever happens, and its measured
  CPU time and the load average are printed.

``tests/test_portability.py`` runs inside each variant and proves, from a real course kernel, that
every switch reached the library (or reports why it cannot on this CPU).
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE_VENV = ROOT / ".venv"
SUPPORTED_MINORS = (10, 11, 12)  # the README promises Python 3.10-3.12

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
        "proof": "tests/test_portability.py: each library in a course kernel reports the kernels it chose",
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
        "proof": "tests/test_portability.py: each library in a course kernel reports the kernels it chose",
    },
    # In `make test-portable`: a machine with one core (the process sees one CPU).
    "one-core": {
        "about": "one visible CPU (taskset): every framework default drops to 1 thread",
        "env": {},
        "numpy_disable": (),
        "cpus": "0",
        "proof": "tests/test_portability.py: the kernel sees 1 CPU and torch defaults to 1 thread",
    },
    # In `make test-portable`: another supported Python, in its own venv, with PyPI's torch build.
    "other-python": {
        "about": "another Python 3.10-3.12 (3.12, else 3.10) in its own venv, torch from PyPI's default index "
                 "(on Linux the CUDA build)",
        "env": {},
        "numpy_disable": (),
        "cpus": None,
        "other_python": True,
        "proof": "tests/test_portability.py: the kernel reports its Python version, venv and torch build",
    },
    # In `make test-portable`: a busy laptop (every core taken by another program at the same priority).
    "busy": {
        "about": "every core kept busy by a background process (one CPU burner per core, normal priority)",
        "env": {},
        "numpy_disable": (),
        "cpus": None,
        "busy": True,
        "proof": "tests/test_portability.py: the kernel sees every burner running; at the end the burners' "
                 "CPU time and the load average are printed",
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


# --- other-python ---------------------------------------------------------------------------------

def python_version(python: str) -> tuple[int, int, int] | None:
    """(major, minor, micro) of the interpreter at ``python``, or None when it does not run
    (a pyenv shim for a version that is not selected answers with an error)."""
    try:
        out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = out.stdout.split()
    return tuple(int(p) for p in parts) if out.returncode == 0 and len(parts) == 3 else None


def course_python_minor() -> int:
    """The minor version of the course's own venv (.venv), the Python the stored outputs came from."""
    own = python_version(str(COURSE_VENV / "bin" / "python"))
    return own[1] if own else sys.version_info[1]


def candidates(minor: int) -> list[str]:
    """Where a Python 3.<minor> may be: on PATH, then in pyenv's versions (its shims on PATH work only
    for the selected version)."""
    found = [p for p in (shutil.which(f"python3.{minor}"),) if p]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"3.{minor}.*", "bin", f"python3.{minor}")), reverse=True)
    return found


def find_other_python() -> tuple[str | None, str]:
    """(path, description) of another supported Python than .venv's, 3.12 first, else 3.10;
    (None, the reason) when there is none. OTHER_PYTHON=/path chooses one."""
    own = course_python_minor()
    chosen = os.environ.get("OTHER_PYTHON")
    if chosen:
        version = python_version(chosen)
        if version is None or version[:2] not in {(3, m) for m in SUPPORTED_MINORS} or version[1] == own:
            return None, (f"OTHER_PYTHON={chosen} is not a working Python 3.10-3.12 other than .venv's 3.{own}")
        return chosen, f"Python {'.'.join(map(str, version))} ({chosen})"
    for minor in sorted((m for m in SUPPORTED_MINORS if m != own), reverse=True):
        for path in candidates(minor):
            version = python_version(path)
            if version and version[:2] == (3, minor):
                return path, f"Python {'.'.join(map(str, version))} ({path})"
    others = " or ".join(f"3.{m}" for m in sorted((m for m in SUPPORTED_MINORS if m != own), reverse=True))
    return None, (f"no Python {others} on PATH or in pyenv's versions (.venv has 3.{own}); install one, "
                  f"or name it: OTHER_PYTHON=/path/to/python3.12")


def other_venv(python: str) -> Path:
    major, minor, _ = python_version(python)
    return ROOT / "build" / f"venv-py{major}{minor}"


def ensure_other_venv(python: str) -> Path:
    """The second venv, built (or brought up to date) by `make venv-other`: the course's own install
    recipe with that Python and TORCH_INDEX=pypi (torch from PyPI's default index)."""
    venv = other_venv(python)
    started = time.monotonic()
    build = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "venv-other",
                            f"OTHER_PYTHON={python}"])
    if build.returncode != 0:
        raise SystemExit(f"error: `make venv-other OTHER_PYTHON={python}` failed (exit {build.returncode})")
    if time.monotonic() - started > 60:
        size = subprocess.run(["du", "-sh", str(venv)], capture_output=True, text=True).stdout.split("\t")[0]
        print(f"  built {venv.relative_to(ROOT)} in {time.monotonic() - started:.0f} s ({size})", flush=True)
    return venv


def in_other_venv(command: list[str], venv: Path) -> list[str]:
    """``command`` with every program named in .venv/bin/ taken from ``venv``/bin/ instead."""
    course_bin = os.path.abspath(COURSE_VENV / "bin")
    swapped = []
    for arg in command:
        path = os.path.abspath(arg)  # not resolve(): .venv/bin/python is a link to the system Python
        if os.path.dirname(path) == course_bin and (venv / "bin" / os.path.basename(path)).exists():
            arg = str(venv / "bin" / os.path.basename(path))
        swapped.append(arg)
    return swapped


def torch_build(venv: Path) -> str:
    code = "import torch; print(torch.__version__, 'CUDA', torch.version.cuda)"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or f"torch does not import: {out.stderr.strip()[-300:]}"


# --- busy ------------------------------------------------------------------------------------------

# One per core. It stops by itself when its parent (this script) is gone, even after a SIGKILL.
BURNER = """
import os, sys, time
parent = int(sys.argv[1])
while os.getppid() == parent:
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
"""


def visible_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_burners(count: int) -> list[subprocess.Popen]:
    """``count`` burners in a process group of their own (Ctrl-C in the terminal reaches the run,
    not them: stop_burners stops them, from a finally)."""
    first = subprocess.Popen([sys.executable, "-c", BURNER, str(os.getpid())], preexec_fn=lambda: os.setpgid(0, 0))
    rest = [subprocess.Popen([sys.executable, "-c", BURNER, str(os.getpid())],
                             preexec_fn=lambda: os.setpgid(0, first.pid)) for _ in range(count - 1)]
    return [first, *rest]


def stop_burners(burners: list[subprocess.Popen]) -> float:
    """Stop the burners' process group; their CPU seconds (from the kernel's accounting at reaping)."""
    try:
        os.killpg(burners[0].pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    cpu = 0.0
    for burner in burners:
        try:
            _, _, usage = os.wait4(burner.pid, 0)
            cpu += usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            pass
        burner.returncode = -signal.SIGKILL  # reaped here: Popen must not wait for it again
    return cpu


def run_busy(command: list[str], env: dict[str, str]) -> int:
    cores = visible_cpus()
    burners = start_burners(cores)
    env = {**env, "COURSE_BUSY_BURNER_PIDS": " ".join(str(b.pid) for b in burners)}
    print(f"  {cores} CPU burners running (pids {env['COURSE_BUSY_BURNER_PIDS']}), one per visible core", flush=True)
    started, load, child = time.monotonic(), [], None

    def forward(signum, frame):  # SIGTERM (a CI timeout, `kill`): to the run too, then unwind to finally
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, forward)
    try:
        child = subprocess.Popen(command, env=env)
        while True:
            try:
                return child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                load.append(os.getloadavg()[0])
    except KeyboardInterrupt:  # Ctrl-C reached the run as well (same terminal process group)
        if child is not None:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        print("busy variant: interrupted", flush=True)
        return 130
    finally:
        wall = time.monotonic() - started
        cpu = stop_burners(burners)
        load_text = (f"load average (1 min) sampled each minute: min {min(load):.1f}, mean "
                     f"{sum(load) / len(load):.1f}, max {max(load):.1f}" if load else "run under a minute: no load samples")
        print(f"busy variant: the {cores} burners used {cpu:.0f} CPU s in {wall:.0f} s of run, "
              f"{cpu / wall if wall else 0:.2f} of {cores} cores on average; {load_text}", flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--list"]:
        for name, spec in VARIANTS.items():
            cpus = f"; taskset -c {spec['cpus']}" if spec["cpus"] else ""
            print(f"{name:<12} {spec['about']}")
            print(f"             {' '.join(f'{k}={v}' for k, v in variant_env(name).items())}{cpus}")
            if spec.get("other_python"):
                python, said = find_other_python()
                print(f"             here: {said + ', venv ' + str(other_venv(python).relative_to(ROOT)) if python else 'skipped: ' + said}")
            if spec.get("busy"):
                print(f"             here: {visible_cpus()} burners")
            print(f"             proof: {spec['proof']}")
        return 0
    if argv[:1] == ["--other-python"]:  # for `make venv-other`: PYTHON VENV, or the reason on stderr
        python, said = find_other_python()
        if python is None:
            print(f"error: {said}", file=sys.stderr)
            return 1
        print(python, other_venv(python).relative_to(ROOT))
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
          + (f"\n  taskset -c {spec['cpus']}" if spec["cpus"] else "") + f"\n  proof: {spec['proof']}", flush=True)
    if spec.get("other_python"):
        python, said = find_other_python()
        if python is None:
            # Not a failure: this machine has no second Python to try (CI's image included).
            print(f"  SKIPPED: {said}", flush=True)
            return 0
        venv = ensure_other_venv(python)
        command = in_other_venv(command, venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
        env["COURSE_OTHER_PYTHON"] = ".".join(map(str, python_version(python)[:2]))
        print(f"  {said}, venv {venv.relative_to(ROOT)}, torch {torch_build(venv)}\n  runs: {' '.join(command)}", flush=True)
    if spec.get("busy"):
        return run_busy(command, env)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
