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

from . import data
from .paths import course_root

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


def check_packages() -> list[Check]:
    from packaging.version import Version

    checks = []
    for name, wanted in pinned_requirements().items():
        try:
            found = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed", "run `make lab` (or `pip install -r requirements.txt`)."))
            continue
        # '2.13.0+cpu' is 2.13.0: the local part only names the build (CPU or CUDA).
        ok = Version(found).public == Version(wanted).public
        checks.append(Check(name, ok, found if ok else f"{found}, course pins {wanted}",
                            f"run `pip install {name}=={wanted}` in the course environment."))
    return checks


def check_import(module: str) -> Check:
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # an import can fail in many ways (missing DLL, wrong CPU, ...)
        return Check(f"import {module}", False, f"{type(exc).__name__}: {exc}".splitlines()[0],
                     f"reinstall it: `pip install --force-reinstall {module}` in the course environment.")
    return Check(f"import {module}", True, getattr(imported, "__version__", "ok"))


def check_torch_devices() -> Check:
    import torch

    found = ["cpu"]
    if torch.cuda.is_available():
        found += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
    if torch.backends.mps.is_available():
        found.append("mps (Apple GPU)")
    note = "" if len(found) > 1 else " — no GPU: fine, every lesson runs on the CPU"
    return Check("torch devices", True, ", ".join(found) + note)


def check_tf_devices() -> Check:
    import tensorflow as tf

    found = [f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in tf.config.list_physical_devices()]
    note = "" if any(d.startswith("GPU") for d in found) else " — no GPU: fine, every lesson runs on the CPU"
    return Check("tensorflow devices", True, ", ".join(found) + note)


def check_data() -> list[Check]:
    try:
        results = data.verify_all()
    except Exception as exc:
        return [Check("data/MANIFEST", False, str(exc), data.RESTORE_HINT + ".")]
    return [Check(f"data/{name}", problem is None, "present, checksum matches" if problem is None else problem,
                  data.RESTORE_HINT + ".") for name, problem in results]


def _compile_problem(compiler: str) -> str | None:
    """None when ``compiler`` really compiles and links a one-line C++ program, else what went wrong."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # a throw-away test build, removed at once
        try:
            done = subprocess.run([compiler, "-x", "c++", "-", "-o", os.path.join(folder, "a.out")],
                                  input="int main() { return 0; }\n", capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return type(exc).__name__
        lines = done.stderr.strip().splitlines()
        return None if done.returncode == 0 else (lines[0] if lines else f"exit status {done.returncode}")


def check_compiler() -> Check:
    for compiler in ("g++", "c++", "clang++"):
        path = shutil.which(compiler)
        if path:
            problem = _compile_problem(compiler)
            if problem:
                return Check("C++ compiler", False, f"{compiler} is on the PATH but cannot compile a one-line "
                             f"program: {problem[:120]}", "reinstall it: Linux `sudo apt-get install --reinstall "
                             "g++`; macOS: `xcode-select --install`.")
            return Check("C++ compiler", True, f"{compiler} (needed by torch.compile and C++ extensions)")
    return Check("C++ compiler", False, "none found (torch.compile and lesson 10 need one)",
                 "Linux: `sudo apt-get install g++`; macOS: `xcode-select --install`; "
                 "Windows: install the MSVC Build Tools.")


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
        check_torch_devices, check_tf_devices,
        check_data, check_compiler, check_memory, check_disk,
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
