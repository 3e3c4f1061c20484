"""The doctor: is this machine ready for the course? One ``[OK]``/``[FAIL]`` line per check, with the fix.

    python -m course_utils doctor        # exits 1 when any check fails

Used in: 00_setup_check (the same checks, one section at a time) and the workshop's first ten minutes.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .. import data
from ..base.paths import course_root

MIN_PYTHON, MAX_PYTHON = (3, 10), (3, 12)
MIN_FREE_MEMORY_GIB = 3.0   # a kernel peaks under 2.5 GB in any lesson
MIN_FREE_DISK_GIB = 2.0     # checkpoints, TensorBoard logs, compile caches


@dataclass(frozen=True)
class Check:
    """One line of the report; ``fix`` says what to do when ``ok`` is False."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        line = f"[{'OK' if self.ok else 'FAIL'}] {self.name}: {self.detail}"
        return line if self.ok else f"{line}\n       fix: {self.fix}"


def pinned_requirements(path: Path | None = None) -> dict[str, str]:
    """``{package: version}`` from requirements.txt's ``name==version`` lines."""
    pins = {}
    for line in (path or course_root() / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip()] = version.strip()
    return pins


def check_python() -> Check:
    found = sys.version_info[:2]
    ok = MIN_PYTHON <= found <= MAX_PYTHON
    return Check("python", ok, f"{sys.version.split()[0]} (course supports 3.10-3.12)",
                 "install Python 3.11 and run `make lab` again (it rebuilds .venv).")


# Pinned for the course's own tests (make test), not for the lessons: a learner's setup check never fails on them.
TEST_ONLY = frozenset({"pytest", "nbval", "hypothesis", "playwright"})
# Pinned for the workshop hub (make hub): an instructor installs them; no lesson imports them.
INSTRUCTOR_ONLY = frozenset({"jupyterhub", "jupyterhub-nativeauthenticator", "jupyterhub-idle-culler"})


def check_packages() -> list[Check]:
    from packaging.version import Version

    checks = []
    for name, wanted in pinned_requirements().items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found = None
        # '2.13.0+cpu' is 2.13.0: the local part only names the build (CPU or CUDA).
        ok = found is not None and Version(found).public == Version(wanted).public
        if name in TEST_ONLY and not ok:
            checks.append(Check(name, True, f"{found or 'not installed'} — only the course's tests use it "
                                f"(pinned {wanted}); the lessons do not"))
        elif name in INSTRUCTOR_ONLY and not ok:
            checks.append(Check(name, True, f"{found or 'not installed'} — only the workshop hub uses it "
                                f"(pinned {wanted}); the lessons do not"))
        elif found is None:
            checks.append(Check(name, False, "not installed", "run `make lab` (or `pip install -r requirements.txt`)."))
        else:
            # Shown without the build tag when it matches: the lesson-00 cell is compared on every machine;
            # the build is named by the "torch devices" line.
            checks.append(Check(name, ok, Version(found).public if ok else f"{found}, course pins {wanted}",
                                f"run `pip install {name}=={wanted}` in the course environment."))
    return checks


def check_import(module: str) -> Check:
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # an import can fail in many ways (missing DLL, wrong CPU, ...)
        return Check(f"import {module}", False, f"{type(exc).__name__}: {exc}".splitlines()[0],
                     f"reinstall it: `pip install --force-reinstall {module}` in the course environment.")
    version = getattr(imported, "__version__", "ok")
    return Check(f"import {module}", True, version.split("+", 1)[0])  # the build: the "devices" lines


def _torch_op_problem(device: str) -> str | None:
    """None when one small op really runs on ``device`` and gives the right number, else what went wrong."""
    import torch

    try:
        total = float(torch.ones(4, device=device).sum())
    except Exception as exc:  # a listed device can still fail to run (driver, out of memory, ...)
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    return None if total == 4.0 else f"ones(4).sum() gave {total}, not 4"


def torch_build() -> str:
    """Which build of torch is installed: 'CPU build', 'CUDA 12.8 build' or 'ROCm ... build'."""
    import torch

    if torch.version.cuda:
        return f"CUDA {torch.version.cuda} build"
    if getattr(torch.version, "hip", None):
        return f"ROCm {torch.version.hip} build"
    return "CPU build"


def check_torch_devices() -> Check:
    """Every device torch lists must run one small op (ones(4).sum() == 4), not only be listed."""
    import torch

    found = ["cpu"]
    names = {"cpu": "cpu"}
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            found.append(f"cuda:{i}")
            names[f"cuda:{i}"] = f"cuda:{i} ({torch.cuda.get_device_name(i)})"
    if torch.backends.mps.is_available():
        found.append("mps")
        names["mps"] = "mps (Apple GPU)"
    broken = {d: problem for d in found if (problem := _torch_op_problem(d))}
    if broken:
        device, problem = next(iter(broken.items()))
        return Check("torch devices", False, f"{names[device]} is listed but cannot run an op: {problem}",
                     "the lessons run on the CPU: set CUDA_VISIBLE_DEVICES= (empty) to hide the GPU, or reinstall "
                     "its driver (README, Using a GPU).")
    note = "" if len(found) > 1 else " — no GPU: fine, every lesson runs on the CPU"
    return Check("torch devices", True, f"{', '.join(names[d] for d in found)}: an op ran on each; "
                 f"torch is the {torch_build()}{note}")


def kernel_start_lines(spec: Path | None = None) -> list[str]:
    """What the kernel the lessons run in executes before the first cell (its ``exec_lines``).

    ``spec``: a kernel.json; by default this environment's ``python3`` kernel, which ``make install``
    and postBuild copy from tools/kernel.json. None installed (a plain ipykernel): nothing.
    """
    import json

    spec = spec or Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    if not spec.is_file():
        return []
    flag = "--IPKernelApp.exec_lines="
    return [arg[len(flag):] for arg in json.loads(spec.read_text()).get("argv", []) if arg.startswith(flag)]


# A lesson's first cell, then what makes torch load triton (the first optimizer step imports
# torch._dynamo): with torch's CUDA build, triton loaded after TensorFlow is a segmentation fault.
LESSON_IMPORTS = ("import torch\nimport tensorflow as tf\nimport course_utils as cu\n"
                  "w = torch.nn.Parameter(torch.ones(2))\nopt = torch.optim.SGD([w], lr=0.1)\n"
                  "w.sum().backward()\nopt.step()\nprint('step ran', round(w.detach()[0].item(), 3))")


def check_torch_with_tensorflow(timeout: float = 300) -> Check:
    """Both frameworks in one process, imported as a lesson does in the course kernel, then one
    optimizer step: in a subprocess, so that a crash is reported instead of killing the caller."""
    import subprocess

    code = "\n".join(kernel_start_lines() + [LESSON_IMPORTS])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL, cwd=course_root())
    except subprocess.TimeoutExpired:
        done = None
    if done is not None and done.returncode == 0 and "step ran 0.9" in done.stdout:
        return Check("torch with tensorflow", True, "imported as the lessons do; an optimizer step ran")
    if done is None:
        problem = f"no answer within {timeout:.0f} s"
    elif done.returncode < 0:
        problem = f"the process was killed by signal {-done.returncode}"
    else:
        tail = [t for t in (done.stderr or done.stdout).splitlines() if t.strip()][-1:] or ["no output"]
        problem = f"exit {done.returncode}: {tail[0][:120]}"
    return Check("torch with tensorflow", False, f"imported as the lessons do, one optimizer step failed ({problem})",
                 "start the kernel with `make lab` (its kernel imports course_utils first, which loads triton before "
                 "TensorFlow), or install torch's CPU build: pip install torch==2.13.0 --index-url "
                 "https://download.pytorch.org/whl/cpu")


def check_tf_devices() -> Check:
    """Every device TensorFlow lists must run one small op, not only be listed."""
    import tensorflow as tf

    found = [f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()]
    for device in found:
        try:
            with tf.device(device):
                total = float(tf.reduce_sum(tf.ones(4)))
            problem = None if total == 4.0 else f"reduce_sum(ones(4)) gave {total}, not 4"
        except Exception as exc:  # a listed GPU can still fail to run (driver, out of memory, ...)
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
        if problem:
            return Check("tensorflow devices", False, f"{device} is listed but cannot run an op: {problem}",
                         "the lessons run on the CPU: set CUDA_VISIBLE_DEVICES= (empty) to hide the GPU, or "
                         "reinstall its driver (README, Using a GPU).")
    note = "" if any(d.startswith("GPU") for d in found) else " — no GPU: fine, every lesson runs on the CPU"
    return Check("tensorflow devices", True, ", ".join(found) + ": an op ran on each" + note)


def check_data() -> list[Check]:
    try:
        results = data.verify_all()
    except Exception as exc:
        return [Check("data/MANIFEST", False, str(exc), data.RESTORE_HINT + ".")]
    return [Check(f"data/{name}", problem is None, "present, checksum matches" if problem is None else problem,
                  data.RESTORE_HINT + ".") for name, problem in results]


# What torch.compile and lesson 10 need: a compiler that finds the C++ standard library and links a program.
TEST_PROGRAM = "#include <vector>\nint main() { std::vector<int> v(3, 1); return v[0] - 1; }\n"


def _compile_problem(compiler: str) -> str | None:
    """None when ``compiler`` really compiles and links a small C++ program, else what went wrong."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # a throw-away test build, removed at once
        try:
            done = subprocess.run([compiler, "-x", "c++", "-", "-o", os.path.join(folder, "a.out")],
                                  input=TEST_PROGRAM, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return type(exc).__name__
        lines = done.stderr.strip().splitlines()
        return None if done.returncode == 0 else (lines[0] if lines else f"exit status {done.returncode}")


def torch_compiler() -> str:
    """The compiler torch.compile calls: $CXX, else g++ (clang++ on macOS) — torch/_inductor/config.py, cpp.cxx."""
    return os.environ.get("CXX") or ("clang++" if sys.platform == "darwin" else "g++")


def check_compiler() -> Check:
    """Compile and link a small C++ program with the compiler torch.compile will call. Being on the PATH
    proves nothing: a fresh Mac has placeholder shims for g++/c++/clang++ that only offer to install the tools."""
    wanted = torch_compiler()
    tried = []
    for compiler in dict.fromkeys([wanted, "c++", "g++", "clang++"]):
        if shutil.which(compiler):
            problem = _compile_problem(compiler)
            if problem is None and compiler == wanted:
                return Check("C++ compiler", True, f"{compiler} compiled and linked a test program "
                             "(torch.compile and lesson 10 use it)")
            if problem is None:
                return Check("C++ compiler", False, f"{wanted} cannot compile ({'; '.join(tried) or 'not found'}), "
                             f"but {compiler} can", f"`export CXX={compiler}` before starting JupyterLab "
                             "(torch.compile calls $CXX, else g++; clang++ on macOS).")
            tried.append(f"{compiler}: {problem[:100]}")
    if tried:
        return Check("C++ compiler", False, "on the PATH but cannot compile a one-line program: " + "; ".join(tried),
                     "Linux: `sudo apt-get install --reinstall g++`; macOS (the placeholder that asks to install "
                     "the tools): `xcode-select --install`.")
    return Check("C++ compiler", False, "none found (torch.compile and lesson 10 need one)",
                 "Linux: `sudo apt-get install g++`; macOS: `xcode-select --install`; "
                 "Windows: the course runs in WSL2 (Ubuntu), then `sudo apt-get install g++` there.")


# One real torch.compile, from scratch: a program that links proves the compiler works, not that Inductor's
# kernels build (they also need OpenMP's omp.h and torch's headers; on macOS OpenMP is the classic failure).
TORCH_COMPILE_SMOKE = ("import torch\nf = torch.compile(lambda x: x.sin() + 1)\n"
                       "print(round(f(torch.ones(3))[0].item(), 4))")
_torch_compile_built: list[Check] = []   # a success, kept for this process: lesson 00 asks twice, 10-20 s each


def check_torch_compile(timeout: float = 300) -> Check:
    """torch.compile of one small function, built in a fresh process with an empty kernel cache of its own."""
    import subprocess
    import time

    if _torch_compile_built:
        return _torch_compile_built[0]
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", TORCH_COMPILE_SMOKE], capture_output=True, text=True,
                                  timeout=timeout, env={**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache},
                                  stdin=subprocess.DEVNULL)
            ok = done.returncode == 0 and done.stdout.split()[-1:] == ["1.8415"]
            problem = None if ok else ([line for line in done.stderr.splitlines() if line.strip()]
                                       or [f"exit {done.returncode}"])[-1][:160]
        except subprocess.TimeoutExpired:
            problem = f"no answer within {timeout:.0f} s"
    if problem is None:
        _torch_compile_built.append(Check("torch.compile", True, f"built and ran a kernel for x.sin() + 1 in "
                                          f"{time.perf_counter() - start:.0f} s"))
        return _torch_compile_built[0]
    return Check("torch.compile", False, problem,
                 "Linux: `sudo apt-get install g++`; macOS: `xcode-select --install`, and for an `omp.h` "
                 "error `brew install libomp`. Until then the torch.compile cells of lessons 04 and 12 fail.")


def check_memory() -> Check:
    import psutil

    free = psutil.virtual_memory().available / 2**30
    return Check("memory", free >= MIN_FREE_MEMORY_GIB, f"{free:.1f} GiB free (need {MIN_FREE_MEMORY_GIB:.0f} GiB)",
                 "close other programs (browsers with many tabs) and restart JupyterLab.")


def check_disk() -> Check:
    free = shutil.disk_usage(course_root()).free / 2**30
    return Check("disk", free >= MIN_FREE_DISK_GIB, f"{free:.1f} GiB free (need {MIN_FREE_DISK_GIB:.0f} GiB)",
                 "free some disk space, e.g. `pip cache purge`.")


def all_checks() -> list[Callable[[], Check | list[Check]]]:
    """The checks in report order; each returns a ``Check`` or a list of them."""
    return [
        check_python, check_packages,
        lambda: check_import("torch"), lambda: check_import("tensorflow"),
        lambda: check_import("tensorboard"),
        check_torch_devices, check_tf_devices, check_torch_with_tensorflow,
        check_data, check_compiler, check_torch_compile, check_memory, check_disk,
    ]


def run(checks: list[Callable[[], Check | list[Check]]] | None = None) -> list[Check]:
    """Run the checks; a check that crashes becomes a FAIL line instead of a traceback."""
    results: list[Check] = []
    for check in checks or all_checks():
        try:
            outcome = check()
        except Exception as exc:
            name = getattr(check, "__name__", "check").removeprefix("check_")
            outcome = Check(name, False, f"{type(exc).__name__}: {exc}".splitlines()[0],
                            "run `make lab` to reinstall the environment, then run the doctor again.")
        results.extend(outcome if isinstance(outcome, list) else [outcome])
    return results


def show(checks: list[Callable[[], Check | list[Check]]] | None = None) -> None:
    """Run checks and print one line each (and the fix on a FAIL).

    >>> show([check_python])          # doctest: +SKIP
    [OK] python: 3.11.7 (course supports 3.10-3.12)
    """
    for result in run(checks):
        print(result)


# What TensorFlow's C++ runtime writes to fd 2 at import and at its first device query on a machine
# without CUDA, whatever TF_CPP_MIN_LOG_LEVEL says (FIELD_NOTES: "TensorFlow import noise, complete").
TF_NOISE = re.compile(r"absl::InitializeLog|cudart_stub|cuInit|cuda_platform|cuda_(dnn|fft|blas)\.cc|"
                      r"Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|TF-TRT Warning|"
                      r"oneDNN custom operations")


@contextlib.contextmanager
def tf_noise_filtered():
    """Send fd 2 to a temporary file while the block runs, then pass on every line but TF_NOISE.

    os.dup/os.dup2 catch what C++ code writes, which ``sys.stderr`` never sees; anything else written
    meanwhile (a real error, a warning) still reaches the terminal, after the block.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not TF_NOISE.search(line):
                    print(line, file=sys.stderr)


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    with tf_noise_filtered():  # the report is for pasting: no "Could not find cuda drivers" lines in it
        results = run()
    for result in results:
        print(result)
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} OK, {len(failed)} FAIL"
          + ("" if not failed else " — fix the FAIL lines above, then run the doctor again."))
    return 1 if failed else 0
